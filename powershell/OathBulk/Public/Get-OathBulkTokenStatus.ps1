function Get-OathBulkTokenStatus {
    <#
    .SYNOPSIS
    A helpdesk's view of tokens or users: state, last use, methods against Entra's five, next step (oathbulk status).

    .DESCRIPTION
    Runs `oathbulk status` and streams one OathBulk.TokenStatus object per serial asked, per
    token a user asked about holds (or one saying they hold none): Query, Line, Status
    (not_found, available, assigned, failedActivation, activated; no_tokens, user_not_found),
    Serial, Upn (the holder), DeviceId, LastUsed (absent when the tenant does not say: Graph does
    not update it reliably), Methods and MethodsLimit (Entra's five), and NextStep, the command
    to run next.

    Credentials are resolved as for Get-OathBulkTenantToken. Rejected credentials (exit 3) and
    an unreachable service (exit 4) are terminating errors.

    .PARAMETER Serial
    Serial numbers to look up (also bound by property name from piped objects).

    .PARAMETER Upn
    Users to look up (also bound by property name from piped objects).

    .PARAMETER CsvPath
    A CSV with a serial or a UPN column (the vendor file will do; its seeds are not read).

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
    With -UseDeviceCode: the public client to sign in with.

    .PARAMETER PassThruSummary
    Also write the run's OathBulk.Summary object (last).

    .EXAMPLE
    Get-OathBulkTokenStatus -Upn adele.vance@contoso.com

    Why can't Adele sign in: her tokens, their state and what to do next.

    .EXAMPLE
    Get-OathBulkTokenStatus -CsvPath tokens.csv | Where-Object Status -ne 'activated' | Select-Object Serial, Status, NextStep

    The vendor file's tokens that are not active yet, with the next step for each.

    .OUTPUTS
    OathBulk.TokenStatus; OathBulk.Summary with -PassThruSummary.

    .LINK
    Get-OathBulkTenantToken
    #>
    [CmdletBinding(HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#get-oathbulktokenstatus')]
    [OutputType('OathBulk.TokenStatus')]
    param(
        [Parameter(ValueFromPipelineByPropertyName)] [string[]]$Serial,
        [Parameter(ValueFromPipelineByPropertyName)] [string[]]$Upn,
        [string]$CsvPath,
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
        $upns = [System.Collections.Generic.List[string]]::new()
    }
    process {
        foreach ($s in $Serial) { if ($s -and -not $serials.Contains($s)) { $serials.Add($s) } }
        foreach ($u in $Upn) { if ($u -and -not $upns.Contains($u)) { $upns.Add($u) } }
    }
    end {
        $bound = @{} + $PSBoundParameters
        $null = $bound.Remove('Serial'); $null = $bound.Remove('Upn')
        if ($serials.Count) { $bound['Serial'] = $serials.ToArray() }
        if ($upns.Count) { $bound['Upn'] = $upns.ToArray() }
        $binary = Get-OathBulkBinary -Cmdlet $PSCmdlet
        $auth = Resolve-OathBulkCmdletAuth -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters
        $extra = [System.Collections.Generic.List[string]]::new()
        foreach ($a in $auth.Arguments) { $extra.Add($a) }
        $extra.Add('--progress'); $extra.Add('json')
        $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $bound -Extra $extra -SessionState $PSCmdlet.SessionState
        Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command $MyInvocation.MyCommand.Name -ArgumentList $argv `
            -Environment $auth.Environment -Redact $auth.Redact -PassThruSummary:$PassThruSummary
    }
}
