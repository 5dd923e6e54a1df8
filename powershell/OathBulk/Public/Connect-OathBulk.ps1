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
    sign-in is this session's only, with a warning: later cmdlets given no credentials sign in
    the same way themselves (the client secret kept in this session's memory; a device code
    asked again per run). Get-OathBulkContext shows SessionOnly. -AccessToken is a session-only
    sign-in anywhere; -GraphUrl/-PortalUrl are remembered for the session.

    With -CertificateThumbprint or -Certificate (app-only, as Connect-MgGraph), the certificate
    and its private key stay in the certificate store: Cert:\CurrentUser\My on Windows, the
    same store of .NET (CurrentUser\My) on Linux and macOS. Connect-OathBulk checks the
    sign-in once; for the rest of this PowerShell session every cmdlet given no other
    credentials signs a new client assertion (valid 5 minutes) with the key and hands it to the
    binary on its standard input, never its command line, environment or a file. Nothing is
    kept on disk. The token a cmdlet gets this way lasts about an hour and is not renewed
    within one run: a longer run stops with an AuthRejected error and resumes with -Journal and
    -Resume. Rows piped without a file (Import-Csv) travel on the same standard input: give
    those cmdlets -Path instead.

    Disconnect-OathBulk forgets the kept sign-in (and the certificate sign-in of this session).

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

    .PARAMETER CertificateThumbprint
    App-only sign-in with the certificate of this thumbprint in the CurrentUser\My store (it must
    have its private key there). Needs -TenantId and -ClientId.

    .PARAMETER Certificate
    App-only sign-in with this certificate (an X509Certificate2 with its private key, e.g. from
    Get-PfxCertificate or Get-Item Cert:\CurrentUser\My\<thumbprint>). Needs -TenantId and
    -ClientId.

    .PARAMETER AuthorityUrl
    The identity platform's authority (a simulator's AuthorityUrl in tests).

    .PARAMETER AccessToken
    A bearer token for this session only (as Connect-MgGraph -AccessToken): nothing is kept on
    disk or in a credential store, nothing is signed in; later cmdlets given no credentials of
    their own send it (to -GraphUrl when given). Get-OathBulkContext shows it was set.

    .PARAMETER GraphUrl
    The Microsoft Graph base URL later cmdlets use when they name none (a simulator's GraphUrl,
    a national cloud). Remembered for the session; Get-OathBulkContext shows it.

    .PARAMETER PortalUrl
    The portal API base URL later cmdlets use when they name none. Remembered for the session.

    .PARAMETER Backend
    The API to ask consent for: graph (default) or portal.

    .EXAMPLE
    Connect-OathBulk -TenantId contoso.onmicrosoft.com -UseDeviceCode
    Enable-OathBulkToken .\tokens.csv

    Sign in once with a device code; the activation (and every later cmdlet) needs no prompt.

    .EXAMPLE
    Connect-OathBulk -TenantId contoso.onmicrosoft.com -ClientSecretCredential (Get-Credential)

    App-only sign-in for a scheduled job; the secret is kept in the credential store.

    .EXAMPLE
    Connect-OathBulk -TenantId contoso.onmicrosoft.com -ClientId 00000000-1111-2222-3333-444444444444 -CertificateThumbprint 3F04D20B922719495BFE654F225C62288CB74338
    Enable-OathBulkToken .\tokens.csv -Force

    App-only sign-in with a certificate from the CurrentUser\My store, for this session.

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
        [Parameter(ParameterSetName = 'DeviceCode')]
        [Parameter(Mandatory, ParameterSetName = 'CertificateThumbprint')]
        [Parameter(Mandatory, ParameterSetName = 'Certificate')]
        [ValidateNotNullOrEmpty()] [string]$ClientId,
        [Parameter(ParameterSetName = 'DeviceCode')] [switch]$UseDeviceCode,
        [Parameter(Mandatory, ParameterSetName = 'AppOnly')] [pscredential]$ClientSecretCredential,
        [Parameter(Mandatory, ParameterSetName = 'CertificateThumbprint')] [ValidateNotNullOrEmpty()] [string]$CertificateThumbprint,
        [Parameter(Mandatory, ParameterSetName = 'Certificate')] [System.Security.Cryptography.X509Certificates.X509Certificate2]$Certificate,
        [uri]$AuthorityUrl,
        [ValidateSet('graph', 'portal')] [string]$Backend,
        [Parameter(Mandatory, ParameterSetName = 'AccessToken')] [securestring]$AccessToken,
        [uri]$GraphUrl,
        [uri]$PortalUrl
    )
    # What later cmdlets default to (Get-OathBulkContext): the endpoint named here, and how
    # this sign-in was made. Set only once the sign-in worked.
    $context = @{ AuthType = $PSCmdlet.ParameterSetName; TenantId = $TenantId; ClientId = $ClientId }
    if ($GraphUrl) { $context.GraphUrl = $GraphUrl.AbsoluteUri.TrimEnd('/') }
    if ($PortalUrl) { $context.PortalUrl = $PortalUrl.AbsoluteUri.TrimEnd('/') }
    if ($AuthorityUrl) { $context.AuthorityUrl = $AuthorityUrl.AbsoluteUri.TrimEnd('/') }
    if ($PSCmdlet.ParameterSetName -eq 'AccessToken') {
        # Session-only: nothing to sign in, nothing kept anywhere but this session's memory.
        $context.AccessToken = $AccessToken
        $script:CertificateSession = $null
        Set-OathBulkContext -Context $context
        Write-Verbose "OathBulk: this session's cmdlets send the given access token$(if ($GraphUrl) { " to $($context.GraphUrl)" }) until Disconnect-OathBulk"
        return
    }
    if ($PSCmdlet.ParameterSetName -eq 'AppOnly') { $context.AuthType = 'ClientSecret'; $context.ClientId = $ClientSecretCredential.UserName }
    if ($PSCmdlet.ParameterSetName -eq 'CertificateThumbprint') { $context.AuthType = 'Certificate' }
    if ($PSCmdlet.ParameterSetName -in 'CertificateThumbprint', 'Certificate') {
        # The key stays in the store: check the sign-in once (oathbulk login with an assertion on
        # stdin keeps nothing), then remember the certificate for this session's cmdlets.
        try {
            if (-not $TenantId) { throw [System.ArgumentException]::new('-CertificateThumbprint and -Certificate (app-only) need -TenantId.') }
            if ($CertificateThumbprint) { $Certificate = Find-OathBulkCertificate -Thumbprint $CertificateThumbprint }
            Assert-OathBulkSigningCertificate -Certificate $Certificate
        } catch {
            $id = if ($_.Exception -is [System.Management.Automation.ItemNotFoundException]) { 'OathBulk.CertificateNotFound' } else { 'OathBulk.InvalidCredential' }
            $category = if ($id -eq 'OathBulk.CertificateNotFound') { 'ObjectNotFound' } else { 'InvalidArgument' }
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($_.Exception, $id, $category, $CertificateThumbprint))
        }
        $pending = New-OathBulkCertificateSession -Certificate $Certificate -TenantId $TenantId -ClientId $ClientId -AuthorityUrl $AuthorityUrl
        $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $PSBoundParameters -Extra @('--client-assertion-stdin') -SessionState $PSCmdlet.SessionState
        Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command $MyInvocation.MyCommand.Name -ArgumentList $argv -CertificateSession $pending `
            -Environment @{ OATHBULK_TOKEN = $null; OATHBULK_CLIENT_SECRET = $null }
        $script:CertificateSession = $pending
        Set-OathBulkContext -Context $context
        Write-Verbose "OathBulk: signed in to $TenantId as app $ClientId with certificate $($Certificate.Thumbprint) ($script:CertificateStoreName); later cmdlets sign with it until Disconnect-OathBulk"
        return
    }
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
    Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command $MyInvocation.MyCommand.Name -ArgumentList $argv -Environment $auth.Environment -Redact $auth.Redact `
        -Tolerate 'could not keep the sign-in|no credential store is available'
    # The sign-in just kept is the one later cmdlets should use, not an earlier certificate's.
    $script:CertificateSession = $null
    if ($script:NativeExitCode -ne 0) {
        # No credential store here (headless Linux): the sign-in is this session's only. Later
        # cmdlets given no credentials sign in the same way themselves (the client secret stays
        # in this session's memory, a SecureString; a device code is asked again per run).
        $context.SessionOnly = $true
        if ($ClientSecretCredential) { $context.Credential = $ClientSecretCredential } else { $context.UseDeviceCode = $true }
        Write-Warning "No credential store on this machine, so the sign-in is not kept: for this session, cmdlets given no credentials sign in $(if ($ClientSecretCredential) { 'with this client secret' } else { 'with a device code each' }) (Get-OathBulkContext). Connect-OathBulk -AccessToken keeps a token for the session instead."
    }
    Set-OathBulkContext -Context $context
}
