function Test-OathBulkPrerequisite {
    # Help: powershell/docs/cmdlets/Test-OathBulkPrerequisite.md (rendered to en-US/OathBulk-help.xml).
    [CmdletBinding(HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#test-oathbulkprerequisite')]
    [OutputType('OathBulk.Check', [bool])]
    param(
        # By property name only: a row piped by value would become text (its seed included).
        [Parameter(Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('FullName', 'PSPath', 'Csv')]
        [ValidateNotNullOrEmpty()]
        [string]$Path
        # + the shared parameters of its CommandTable.psd1 entry (Declare)
    )
    begin {
        $binary = Get-OathBulkBinary -Cmdlet $PSCmdlet
        $auth = Resolve-OathBulkCmdletAuth -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters
    }
    process {
        # Without a CSV the process block still runs once (no pipeline input).
        $targets = [System.Collections.Generic.List[string]]::new()
        if ($Path) {
            foreach ($p in (Resolve-OathBulkCsvPath -Path $Path -Cmdlet $PSCmdlet -Literal)) { $targets.Add($p) }
            if (-not $targets.Count) {
                if ($Quiet) { $false }
                return
            }
        } else {
            $targets.Add($null)
        }
        foreach ($csv in $targets) {
            $extra = [System.Collections.Generic.List[string]]::new()
            foreach ($a in $auth.Arguments) { $extra.Add($a) }
            $extra.Add('--progress'); $extra.Add('json')
            $positional = if ($csv) { @($csv) } else { @() }
            $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $PSBoundParameters -Positional $positional -Extra $extra -SessionState $PSCmdlet.SessionState
            $common = @{
                Cmdlet = $PSCmdlet; Command = $MyInvocation.MyCommand.Name; ArgumentList = $argv; SourcePath = $csv
                Environment = $auth.Environment; Redact = $auth.Redact
            }
            if ($Quiet) {
                # Checks are swallowed; the binary's exit code is the answer (0: nothing failed).
                $null = Invoke-OathBulkNative @common -Quiet
                $script:NativeExitCode -eq 0
            } else {
                Invoke-OathBulkNative @common -PassThruSummary:$PassThruSummary
            }
        }
    }
}

