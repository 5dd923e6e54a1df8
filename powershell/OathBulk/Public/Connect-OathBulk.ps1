function Connect-OathBulk {
    # Help: powershell/docs/cmdlets/Connect-OathBulk.md (rendered to en-US/OathBulk-help.xml).
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
    Initialize-OathBulkSessionKey
    $extra = [System.Collections.Generic.List[string]]::new()
    foreach ($a in $auth.Arguments) { $extra.Add($a) }
    if (-not $ClientSecretCredential) { $extra.Add('--device-code') }
    $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $PSBoundParameters -Extra $extra -SessionState $PSCmdlet.SessionState
    Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command $MyInvocation.MyCommand.Name -ArgumentList $argv -Environment $auth.Environment -Redact $auth.Redact `
        -Tolerate 'could not keep the sign-in|no credential store is available'
    # The sign-in just kept is the one later cmdlets should use, not an earlier certificate's.
    $script:CertificateSession = $null
    if ($script:NativeExitCode -ne 0) {
        # Nothing could keep the sign-in: no credential store here (headless Linux), and the
        # session file sealed under this session's key could not be written either (no cache
        # folder). The sign-in is this session's only. Later
        # cmdlets given no credentials sign in the same way themselves (the client secret stays
        # in this session's memory, a SecureString; a device code is asked again per run).
        $context.SessionOnly = $true
        if ($ClientSecretCredential) { $context.Credential = $ClientSecretCredential } else { $context.UseDeviceCode = $true }
        Write-Warning "No credential store on this machine, so the sign-in is not kept: for this session, cmdlets given no credentials sign in $(if ($ClientSecretCredential) { 'with this client secret' } else { 'with a device code each' }) (Get-OathBulkContext). Connect-OathBulk -AccessToken keeps a token for the session instead."
    }
    Set-OathBulkContext -Context $context
}
