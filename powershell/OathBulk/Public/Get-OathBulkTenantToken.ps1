function Get-OathBulkTenantToken {
    # Help: powershell/docs/cmdlets/Get-OathBulkTenantToken.md (rendered to en-US/OathBulk-help.xml).
    [CmdletBinding(PositionalBinding = $false, HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#get-oathbulktenanttoken')]
    [OutputType('OathBulk.TenantToken')]
    param(
        [Alias('SerialNumber')]
        [string[]]$Serial,

        [Parameter(ValueFromPipeline)]
        [psobject]$InputObject,
        [ValidateSet('available', 'assigned', 'activated', 'failedActivation')]
        [string]$Status
        # + the shared parameters of its CommandTable.psd1 entry (Declare)
    )
    begin {
        $expecting = $MyInvocation.ExpectingInput
        # Piped strings are serial numbers here; rows and tenant tokens give their serial.
        $binder = New-OathBulkInputBinder -Cmdlet $PSCmdlet -SerialStrings
    }
    process {
        $binder.Add($InputObject)
    }
    end {
        $serials = [System.Collections.Generic.List[string]]::new()
        $add = { param($s) if ($s -and -not $serials.Contains($s)) { $serials.Add($s) } }
        foreach ($p in $binder.Pathless) { & $add $p.Serial }
        foreach ($f in $binder.FileOrder) {
            $sel = $binder[$f]
            foreach ($v in $sel.Lines.Values) { & $add $v }
            foreach ($v in $sel.Serials) { & $add $v }
            if ($sel.All) {
                $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new(
                        [System.ArgumentException]::new('A file names no tenant token: pipe its rows (Import-OathBulkToken) instead.'), 'OathBulk.UnsupportedInput', 'InvalidType', [System.IO.Path]::GetFileName($f)))
            }
        }
        if ($expecting -and -not $serials.Count) {
            # Piped input is the whole scope: nothing usable never means "every token".
            Write-Warning "$($MyInvocation.MyCommand.Name): no serial number came down the pipeline, so nothing was listed (piped input never widens to the whole tenant)."
            return
        }
        foreach ($s in $Serial) { & $add $s }
        $binary = Get-OathBulkBinary -Cmdlet $PSCmdlet
        $auth = Resolve-OathBulkCmdletAuth -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters
        $bound = @{} + $PSBoundParameters
        if ($serials.Count) { $bound['Serial'] = $serials.ToArray() } else { $null = $bound.Remove('Serial') }
        $extra = [System.Collections.Generic.List[string]]::new()
        foreach ($a in $auth.Arguments) { $extra.Add($a) }
        $extra.Add('--progress'); $extra.Add('json')
        $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $bound -Extra $extra -SessionState $PSCmdlet.SessionState
        $native = @{
            Cmdlet = $PSCmdlet; Command = $MyInvocation.MyCommand.Name; ArgumentList = $argv
            Environment = $auth.Environment; Redact = $auth.Redact; PassThruSummary = $PassThruSummary
        }
        if (-not $serials.Count) { Invoke-OathBulkNative @native; return }
        # As Get-MgUser -UserId: a serial asked for that the tenant does not have is an
        # ObjectNotFound error of its own (non-terminating), not silence.
        # The binary may answer several serials with the whole inventory (its cheapest read):
        # only the tokens asked for go on.
        $asked = [System.Collections.Generic.HashSet[string]]::new([string[]]$serials, [System.StringComparer]::OrdinalIgnoreCase)
        $found = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
        Invoke-OathBulkNative @native | ForEach-Object {
            if (-not ($_.PSObject.TypeNames[0] -eq 'OathBulk.TenantToken')) { return $_ }
            if ($asked.Contains([string]$_.Serial)) { $null = $found.Add([string]$_.Serial); $_ }
        }
        foreach ($s in $serials) {
            if ($found.Contains($s)) { continue }
            $PSCmdlet.WriteError((New-OathBulkErrorRecord -Exception ([System.Management.Automation.ItemNotFoundException]::new("No token with serial $s in the tenant$(if ($Status) { " with status $Status" }).")) `
                        -Id 'OathBulk.TokenNotFound' -Category ObjectNotFound -Target $s -RecommendedAction 'Check the serial (Get-OathBulkTenantToken lists them all); import a missing token with New-OathBulkTenantToken.'))
        }
    }
}
