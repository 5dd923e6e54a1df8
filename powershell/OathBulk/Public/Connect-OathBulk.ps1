function Connect-OathBulk {
    <#
    .SYNOPSIS
    Signs in once and keeps the sign-in, so later OathBulk cmdlets run without a prompt
    (oathbulk login).

    .DESCRIPTION
    Runs `oathbulk login`: a device-code sign-in (the default; the message to act on is a
    warning), or app-only sign-in with -ClientSecretCredential. What renews the sign-in (the
    refresh token, or the client secret) is kept in the operating system's credential store:
    Windows Credential Manager, the macOS Keychain, or Secret Service on Linux, filed under the
    authority, tenant and client id. Later cmdlets given no other credentials use it and
    renew it silently; they prompt again only when it is refused (revoked, or unused for 90
    days).

    Where no credential store is available (a headless Linux box without Secret Service) the
    cmdlet fails and says so: each cmdlet then signs in on its own (-UseDeviceCode, -Credential).

    Disconnect-OathBulk forgets the kept sign-in.

    .PARAMETER TenantId
    Tenant id or domain (default: organizations, any work account).

    .PARAMETER ClientId
    The app registration to sign in with (default for device code: Microsoft Graph Command
    Line Tools). With -ClientSecretCredential, its user name is the client id instead.

    .PARAMETER UseDeviceCode
    Sign in with a device code (the default unless -ClientSecretCredential is given).

    .PARAMETER ClientSecretCredential
    App-only sign-in: user name = client id, password = client secret. Needs -TenantId. The
    secret goes to the binary through its environment, never its command line.

    .PARAMETER AuthorityUrl
    The identity platform's authority (a simulator's AuthorityUrl in tests).

    .PARAMETER Backend
    The API to ask consent for: graph (default) or portal.

    .EXAMPLE
    Connect-OathBulk -TenantId contoso.onmicrosoft.com -UseDeviceCode
    Enable-OathBulkToken .\tokens.csv

    Sign in once with a device code; the activation (and every later cmdlet) needs no prompt.

    .EXAMPLE
    Connect-OathBulk -TenantId contoso.onmicrosoft.com -ClientSecretCredential (Get-Credential)

    App-only sign-in for a scheduled job; the secret is kept in the credential store.

    .INPUTS
    None.

    .OUTPUTS
    None.

    .LINK
    Disconnect-OathBulk
    #>
    [CmdletBinding(DefaultParameterSetName = 'DeviceCode', HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#connect-oathbulk')]
    [OutputType([void])]
    param(
        [ValidateNotNullOrEmpty()] [string]$TenantId,
        [Parameter(ParameterSetName = 'DeviceCode')] [ValidateNotNullOrEmpty()] [string]$ClientId,
        [Parameter(ParameterSetName = 'DeviceCode')] [switch]$UseDeviceCode,
        [Parameter(Mandatory, ParameterSetName = 'AppOnly')] [pscredential]$ClientSecretCredential,
        [uri]$AuthorityUrl,
        [ValidateSet('graph', 'portal')] [string]$Backend
    )
    try {
        $auth = if ($ClientSecretCredential) {
            Get-OathBulkAuthEnvironment -Credential $ClientSecretCredential -TenantId $TenantId -NoAmbient
        } else {
            Get-OathBulkAuthEnvironment -UseDeviceCode -NoAmbient
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($_.Exception, 'OathBulk.InvalidCredential', 'InvalidArgument', $null))
    }
    $extra = [System.Collections.Generic.List[string]]::new()
    foreach ($a in $auth.Arguments) { $extra.Add($a) }
    if (-not $ClientSecretCredential) { $extra.Add('--device-code') }
    $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $PSBoundParameters -Extra $extra -SessionState $PSCmdlet.SessionState
    Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command $MyInvocation.MyCommand.Name -ArgumentList $argv -Environment $auth.Environment -Redact $auth.Redact
}
