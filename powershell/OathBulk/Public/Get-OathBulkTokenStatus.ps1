function Get-OathBulkTokenStatus {
    # Help: powershell/docs/cmdlets/Get-OathBulkTokenStatus.md (rendered to en-US/OathBulk-help.xml).
    [CmdletBinding(HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#get-oathbulktokenstatus')]
    [OutputType('OathBulk.TokenStatus')]
    param(
        [Parameter(ValueFromPipelineByPropertyName)] [string[]]$Serial,
        [Parameter(ValueFromPipelineByPropertyName)] [string[]]$Upn,
        [string]$CsvPath
        # + the shared parameters of its CommandTable.psd1 entry (Declare)
    )
    begin {
        $serials = [System.Collections.Generic.List[string]]::new()
        $upns = [System.Collections.Generic.List[string]]::new()
    }
    process {
        foreach ($s in $Serial) { if ($s -and -not $serials.Contains($s)) { $serials.Add($s) } }
        foreach ($u in $Upn) { if ($u -and -not $upns.Contains($u)) { $upns.Add($u) } }
    }
    end {
        $binary = Get-OathBulkBinary -Cmdlet $PSCmdlet
        # First: it fills $PSBoundParameters from the session's context (Connect-OathBulk,
        # Start-OathBulkSimulator), which the argument vector below is built from.
        $auth = Resolve-OathBulkCmdletAuth -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters
        $bound = @{} + $PSBoundParameters
        $null = $bound.Remove('Serial'); $null = $bound.Remove('Upn')
        if ($serials.Count) { $bound['Serial'] = $serials.ToArray() }
        if ($upns.Count) { $bound['Upn'] = $upns.ToArray() }
        $extra = [System.Collections.Generic.List[string]]::new()
        foreach ($a in $auth.Arguments) { $extra.Add($a) }
        $extra.Add('--progress'); $extra.Add('json')
        $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $bound -Extra $extra -SessionState $PSCmdlet.SessionState
        Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command $MyInvocation.MyCommand.Name -ArgumentList $argv `
            -Environment $auth.Environment -Redact $auth.Redact -PassThruSummary:$PassThruSummary
    }
}
