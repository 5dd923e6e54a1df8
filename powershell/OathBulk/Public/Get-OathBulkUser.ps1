function Get-OathBulkUser {
    # Help: powershell/docs/cmdlets/Get-OathBulkUser.md (rendered to en-US/OathBulk-help.xml).
    [CmdletBinding(HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#get-oathbulkuser')]
    [OutputType('OathBulk.User')]
    param(
        [Parameter(Position = 0)]
        [SupportsWildcards()]
        [ValidateNotNullOrEmpty()]
        [string[]]$Path,

        [Alias('LP')]
        [ValidateNotNullOrEmpty()]
        [string[]]$LiteralPath,

        [Parameter(ValueFromPipeline)]
        [psobject]$InputObject,

        [switch]$WithTenant,

        [ValidateNotNullOrEmpty()] [string]$Where,
        [ValidateNotNullOrEmpty()] [string]$OrderBy,
        [ValidateNotNullOrEmpty()] [string]$Script,
        [ValidateSet('base32', 'hex')] [string]$SecretFormat,
        [ValidateSet('sha1', 'sha256', 'hmacsha1', 'hmacsha256')] [string]$Hash,
        [securestring]$Password,
        [ValidateNotNullOrEmpty()] [string]$PskcKeyFile,
        [ValidateNotNullOrEmpty()] [string]$AssignCsv,

        [ValidateSet('graph', 'portal')] [string]$Backend,
        [uri]$GraphUrl,
        [uri]$PortalUrl,
        [ValidateSet('public', 'usgov')] [string]$PortalCloud,
        [uri]$AuthorityUrl,
        [switch]$Simulate,

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
        $binder = New-OathBulkInputBinder -Cmdlet $PSCmdlet
    }
    process {
        # One compiled call per piped object (rows, files, paths): no per-row path resolution.
        $binder.Add($InputObject)
    }
    end {
        $runs = Resolve-OathBulkRun -Cmdlet $PSCmdlet -Binder $binder -Path $Path -LiteralPath $LiteralPath -ExpectingInput:$expecting -PathlessMode Rows
        if (-not $runs.Count) { return }
        $extra = [System.Collections.Generic.List[string]]::new()
        $envTable = @{}
        $redact = @()
        if ($WithTenant) {
            # First: it adds the session's endpoint to the bound parameters copied below.
            $auth = Resolve-OathBulkCmdletAuth -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters
        }
        $bound = @{} + $PSBoundParameters
        if ($WithTenant) {
            foreach ($a in $auth.Arguments) { $extra.Add($a) }
            $extra.Add('--progress'); $extra.Add('json')
            $envTable = $auth.Environment
            $redact = $auth.Redact
        } else {
            # Offline: no tenant or credential flag reaches the binary, and no token is looked up.
            foreach ($name in 'Backend', 'GraphUrl', 'PortalUrl', 'PortalCloud', 'AuthorityUrl', 'Simulate', 'TenantId', 'TokenFile', 'UseDeviceCode', 'ClientId') {
                $null = $bound.Remove($name)
            }
        }
        foreach ($run in $runs) {
            Invoke-OathBulkReadRun -Cmdlet $PSCmdlet -Run $run -BoundParameters $bound -Extra $extra -Environment $envTable -Redact $redact
        }
    }
}
