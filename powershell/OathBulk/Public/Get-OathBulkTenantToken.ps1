function Get-OathBulkTenantToken {
    <#
    .SYNOPSIS
    Lists the hardware OATH tokens in the tenant (oathbulk tenant).

    .DESCRIPTION
    Runs `oathbulk tenant` and streams one OathBulk.TenantToken object per token in the
    tenant's inventory: Id, Serial, Status (available, assigned, activated, failedActivation),
    Manufacturer, Model, TimeInterval, Hash, DisplayName, AssignedToId, AssignedTo, LastUsed.
    Objects bind Serial by property name, so they can be compared with, or piped next to, CSV
    rows.

    Credentials are resolved as for Enable-OathBulkToken (-AccessToken, -Credential with
    -TenantId, -TokenFile, environment, then a Microsoft.Graph or Az session when talking to
    the real Graph). Rejected credentials (exit 3) and an unreachable service (exit 4) are
    terminating errors.

    .PARAMETER Serial
    Only these serials (bound by property name from piped rows; collected into one run).

    .PARAMETER Status
    Only tokens with this status (available, assigned, activated, failedActivation).

    .PARAMETER Backend
    graph (default) or portal.

    .PARAMETER GraphUrl
    Microsoft Graph base URL (a simulator's GraphUrl).

    .PARAMETER PortalUrl
    Portal API base URL.

    .PARAMETER PortalCloud
    public or usgov (portal backend).

    .PARAMETER AuthorityUrl
    Sign-in authority for -Credential.

    .PARAMETER Simulate
    Read an in-process simulated tenant seeded from -SeedPath.

    .PARAMETER SeedPath
    The CSV that seeds -Simulate.

    .PARAMETER AccessToken
    A bearer token for Microsoft Graph or the portal API (SecureString): the sign-in credential,
    not a hardware token.

    .PARAMETER Credential
    App-only sign-in: user name = client id, password = client secret.

    .PARAMETER TenantId
    Tenant id or domain for -Credential.

    .PARAMETER TokenFile
    A file holding the bearer token (the sign-in credential, not a hardware token).

    .PARAMETER UseDeviceCode
    Sign in interactively with a device code (the sign-in message is a warning).

    .PARAMETER ClientId
    With -UseDeviceCode: the public client to sign in with. Otherwise, with -TenantId:
    app-only sign-in with the secret in $env:OATHBULK_CLIENT_SECRET.

    .PARAMETER PassThruSummary
    Also write the run's OathBulk.Summary object (last).

    .PARAMETER InputObject
    Piped input: serial numbers (strings), OathBulk.Token or Import-Csv rows, tenant tokens or
    Microsoft Graph SDK objects (Serial/SerialNumber). An empty or filtered-to-nothing pipeline
    lists nothing (never the whole tenant).

    .EXAMPLE
    Get-OathBulkTenantToken | Group-Object Status

    The tenant's inventory by status (token from a Connect-MgGraph session).

    .EXAMPLE
    Import-OathBulkToken tokens.csv | Get-OathBulkTenantToken | Where-Object Status -ne 'activated'

    The CSV's tokens that are not active yet (serials bound from the piped rows).

    .EXAMPLE
    Get-OathBulkTenantToken -UseDeviceCode -TenantId contoso.onmicrosoft.com -Status available

    The tokens nobody holds yet, after a device-code sign-in.

    .EXAMPLE
    $sim = Start-OathBulkSimulator tokens.csv
    Get-OathBulkTenantToken -GraphUrl $sim.GraphUrl -AccessToken (ConvertTo-SecureString t -AsPlainText)

    The simulator's inventory.

    .INPUTS
    Objects with a Serial property.

    .OUTPUTS
    OathBulk.TenantToken; OathBulk.Summary with -PassThruSummary.

    .LINK
    Enable-OathBulkToken
    #>
    [CmdletBinding(PositionalBinding = $false, HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#get-oathbulktenanttoken')]
    [OutputType('OathBulk.TenantToken')]
    param(
        [Alias('SerialNumber')]
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
