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
    A bearer token (SecureString).

    .PARAMETER Credential
    App-only sign-in: user name = client id, password = client secret.

    .PARAMETER TenantId
    Tenant id or domain for -Credential.

    .PARAMETER TokenFile
    A file holding the bearer token.

    .PARAMETER UseDeviceCode
    Sign in interactively with a device code (the sign-in message is a warning).

    .PARAMETER ClientId
    With -UseDeviceCode: the public client to sign in with. Otherwise, with -TenantId:
    app-only sign-in with the secret in $env:OATHBULK_CLIENT_SECRET.

    .PARAMETER PassThruSummary
    Also write the run's OathBulk.Summary object (last).

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
    [CmdletBinding()]
    [OutputType('OathBulk.TenantToken')]
    param(
        [Parameter(ValueFromPipelineByPropertyName)]
        [string[]]$Serial,
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
        $serials = [System.Collections.Generic.List[string]]::new()
    }
    process {
        foreach ($s in $Serial) { if ($s -and -not $serials.Contains($s)) { $serials.Add($s) } }
    }
    end {
        $binary = Find-OathBulkBinary
        Assert-OathBulkSubcommand -Cmdlet $PSCmdlet -Binary $binary -Subcommand 'tenant'
        $caps = Get-OathBulkCapability -Binary $binary -Subcommand 'tenant'
        $auth = Resolve-OathBulkCmdletAuth -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters
        $bound = @{} + $PSBoundParameters
        if ($serials.Count) { $bound['Serial'] = $serials.ToArray() } else { $null = $bound.Remove('Serial') }
        $extra = [System.Collections.Generic.List[string]]::new()
        foreach ($a in $auth.Arguments) { $extra.Add($a) }
        if ($caps.Flags -contains '--progress') { $extra.Add('--progress'); $extra.Add('json') }
        $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $bound -Extra $extra -SessionState $PSCmdlet.SessionState
        Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command $MyInvocation.MyCommand.Name -ArgumentList $argv `
            -Environment $auth.Environment -Redact $auth.Redact -PassThruSummary:$PassThruSummary
    }
}
