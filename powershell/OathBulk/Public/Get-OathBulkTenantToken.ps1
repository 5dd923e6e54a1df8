function Get-OathBulkTenantToken {
    # Help: powershell/docs/cmdlets/Get-OathBulkTenantToken.md (rendered to en-US/OathBulk-help.xml).
    [CmdletBinding(HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#get-oathbulktenanttoken')]
    [OutputType('OathBulk.TenantToken')]
    param(
        [string[]]$Serial,

        [Parameter(ValueFromPipeline)]
        [psobject]$InputObject,
        [ValidateSet('available', 'assigned', 'activated', 'failedActivation')]
        [string]$Status,
        [ValidateSet('graph', 'portal')] [string]$Backend,
        [uri]$GraphUrl,
        [uri]$PortalUrl,
        [ValidateSet('public', 'usgov')] [string]$PortalCloud,
        [uri]$AuthorityUrl,
        [switch]$Simulate,
        [string]$SeedPath,
        [securestring]$AccessToken,
        [pscredential]$Credential,
        [string]$TenantId,
        [string]$TokenFile,
        [switch]$UseDeviceCode,
        [ValidateNotNullOrEmpty()] [string]$ClientId,
        [switch]$PassThruSummary
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
        Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command $MyInvocation.MyCommand.Name -ArgumentList $argv `
            -Environment $auth.Environment -Redact $auth.Redact -PassThruSummary:$PassThruSummary
    }
}
