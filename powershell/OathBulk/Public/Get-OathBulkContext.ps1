function Get-OathBulkContext {
    # Help: powershell/docs/cmdlets/Get-OathBulkContext.md (rendered to en-US/OathBulk-help.xml).
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
