# The session's context (as Microsoft.Graph's Get-MgContext): the endpoint and credential that
# Connect-OathBulk or Start-OathBulkSimulator set, used by every later tenant cmdlet that is
# given none of its own. One hashtable in module scope ($script:Context); $null when nothing
# was set. It never holds a token in plain text (a SecureString only).

function Set-OathBulkContext {
    <# .SYNOPSIS Replaces the session's context ($null forgets it). #>
    [CmdletBinding(SupportsShouldProcess = $false)]
    param([hashtable]$Context)
    $script:Context = $Context
}

function Add-OathBulkContextDefault {
    <#
    .SYNOPSIS
    Fills a tenant cmdlet's bound parameters from the session's context: the endpoint when the
    call names none (-GraphUrl, -PortalUrl, -AuthorityUrl, -Simulate), and the access token when
    it also names no credential. The dictionary is the cmdlet's own $PSBoundParameters, so the
    argument vector built from it later carries them. Explicit parameters always win.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory)] [System.Collections.IDictionary]$BoundParameters
    )
    $ctx = $script:Context
    if (-not $ctx) { return }
    $b = $BoundParameters
    $known = $Cmdlet.MyInvocation.MyCommand.Parameters
    $endpointNamed = $b['Simulate'] -or $b['GraphUrl'] -or $b['PortalUrl'] -or $b['AuthorityUrl']
    if (-not $endpointNamed) {
        foreach ($name in 'GraphUrl', 'PortalUrl') {
            if ($ctx[$name] -and $known.ContainsKey($name)) { $b[$name] = [uri]$ctx[$name] }
        }
    }
    $credentialNamed = foreach ($name in 'AccessToken', 'Credential', 'TokenFile', 'UseDeviceCode', 'ClientId', 'TenantId') { if ($b.ContainsKey($name)) { $name } }
    # The context's token goes only to the context's endpoint: never to one named on the call.
    if ($ctx['AccessToken'] -and -not $credentialNamed -and -not $endpointNamed -and $known.ContainsKey('AccessToken')) {
        $b['AccessToken'] = $ctx['AccessToken']
    }
    # A session-only Connect-OathBulk (no credential store to keep it): the same sign-in again,
    # at the authority it was made with.
    if ($ctx['SessionOnly'] -and -not $credentialNamed) {
        $signIn = if ($ctx['Credential']) { @{ Credential = $ctx['Credential'] } } else { @{ UseDeviceCode = $true; ClientId = $ctx['ClientId'] } }
        $signIn.TenantId = $ctx['TenantId']
        if (-not $b['AuthorityUrl']) { $signIn.AuthorityUrl = $ctx['AuthorityUrl'] }
        foreach ($name in $signIn.Keys) {
            if ($signIn[$name] -and $known.ContainsKey($name)) { $b[$name] = $(if ($name -eq 'AuthorityUrl') { [uri]$signIn[$name] } else { $signIn[$name] }) }
        }
    }
}

function Get-OathBulkTenantLabel {
    <#
    .SYNOPSIS
    The tenant a call acts on, in words for prompts and What if: messages: a simulated one
    (-Simulate, or a simulator of this session), an endpoint, a tenant id, or the signed-in one.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [System.Collections.IDictionary]$BoundParameters)
    $b = $BoundParameters
    if ($b['Simulate']) { return 'a simulated tenant (-Simulate: in-process, seeded from the CSV)' }
    $url = if ($b['GraphUrl']) { ([uri]$b['GraphUrl']).AbsoluteUri.TrimEnd('/') } elseif ($b['PortalUrl']) { ([uri]$b['PortalUrl']).AbsoluteUri.TrimEnd('/') }
    if ($url) {
        foreach ($sim in @($script:Simulators)) {
            if ($url -in ([string]$sim.GraphUrl).TrimEnd('/'), ([string]$sim.PortalUrl).TrimEnd('/')) { return "the simulated tenant at $($sim.Listen) (Start-OathBulkSimulator)" }
        }
        return "the tenant at $url"
    }
    $tenant = if ($b['TenantId']) { $b['TenantId'] } elseif ($script:Context -and $script:Context['TenantId']) { $script:Context['TenantId'] }
    if ($tenant) { return "tenant $tenant" }
    'the signed-in tenant'
}

# Connect-OathBulk's session key (Initialize-OathBulkSessionKey); $null until then.
$script:SessionKey = $null

function Initialize-OathBulkSessionKey {
    <#
    .SYNOPSIS
    This session's key (32 random bytes, Base64), made once: where no credential store exists,
    `oathbulk login` seals the sign-in under it in a file only this session can open
    (docs/security.md), so later cmdlets renew it without a new device code. It lives in this
    module's memory only and reaches the binary through Invoke-OathBulkNative's environment.
    #>
    [CmdletBinding()]
    param()
    if (-not $script:SessionKey) {
        $script:SessionKey = [Convert]::ToBase64String([System.Security.Cryptography.RandomNumberGenerator]::GetBytes(32))
    }
}
