function Get-OathBulkContext {
    <#
    .SYNOPSIS
    Shows how this session's cmdlets reach the tenant (as Get-MgContext).

    .DESCRIPTION
    Returns an OathBulk.Context object: AuthType (DeviceCode, ClientSecret, Certificate,
    AccessToken or Simulator), TenantId, ClientId, CertificateThumbprint, GraphUrl, PortalUrl,
    AuthorityUrl, Simulated, SessionOnly (nothing kept beyond this session: a token given to
    Connect-OathBulk -AccessToken, a simulator, or a sign-in on a machine without a credential
    store) and Simulator (the simulator's listen address). Nothing when no
    Connect-OathBulk or Start-OathBulkSimulator set a context. Never holds the token itself.

    .EXAMPLE
    Start-OathBulkSimulator tokens.csv | Out-Null
    Get-OathBulkContext

    Shows the simulated tenant the next cmdlets act on.

    .INPUTS
    None.

    .OUTPUTS
    OathBulk.Context
    #>
    [CmdletBinding(HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#get-oathbulkcontext')]
    [OutputType('OathBulk.Context')]
    param()
    $ctx = $script:Context
    $cert = $script:CertificateSession
    if (-not $ctx -and -not $cert) { return }
    if (-not $ctx) { $ctx = @{ AuthType = 'Certificate' } }
    [pscustomobject]@{
        PSTypeName            = 'OathBulk.Context'
        AuthType              = $ctx['AuthType']
        TenantId              = if ($cert) { $cert.TenantId } else { $ctx['TenantId'] }
        ClientId              = if ($cert) { $cert.ClientId } else { $ctx['ClientId'] }
        CertificateThumbprint = if ($cert) { $cert.Certificate.Thumbprint }
        GraphUrl              = $ctx['GraphUrl']
        PortalUrl             = $ctx['PortalUrl']
        AuthorityUrl          = if ($cert -and $cert.AuthorityUrl) { $cert.AuthorityUrl } else { $ctx['AuthorityUrl'] }
        Simulated             = [bool]$ctx['Simulator']
        SessionOnly           = [bool]($ctx['SessionOnly'] -or $ctx['AuthType'] -in 'AccessToken', 'Simulator')
        Simulator             = if ($ctx['Simulator']) { $ctx['Simulator'].Listen }
    }
}
