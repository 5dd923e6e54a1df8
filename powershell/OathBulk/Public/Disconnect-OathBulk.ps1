function Disconnect-OathBulk {
    # Help: powershell/docs/cmdlets/Disconnect-OathBulk.md (rendered to en-US/OathBulk-help.xml).
    [CmdletBinding(HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#disconnect-oathbulk')]
    [OutputType([void])]
    param(
        [ValidateNotNullOrEmpty()] [string]$TenantId,
        [ValidateNotNullOrEmpty()] [string]$ClientId,
        [uri]$AuthorityUrl
    )
    # The session's context (Connect-OathBulk -AccessToken/-GraphUrl, a simulator's endpoint).
    $had = $script:Context
    Set-OathBulkContext -Context $null
    # A session-only context (Connect-OathBulk -AccessToken, a simulator) kept nothing on disk
    # or in a credential store: forgetting it is all there is to do.
    if ($had -and $had['AuthType'] -in 'AccessToken', 'Simulator' -and -not ($TenantId -or $ClientId)) {
        Write-Verbose "OathBulk: forgot the session's $($had['AuthType']) context"
        return
    }
    if ($script:CertificateSession) {
        $forgotten = $script:CertificateSession
        $script:CertificateSession = $null
        Write-Verbose "OathBulk: forgot the certificate sign-in ($($forgotten.Certificate.Thumbprint), app $($forgotten.ClientId))"
        if (-not ($TenantId -or $ClientId)) { return }
    }
    $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $PSBoundParameters -SessionState $PSCmdlet.SessionState
    # No credential store on this machine (headless Linux): nothing was ever kept there, so
    # there is nothing to forget; signing out of this session is done (as Disconnect-MgGraph).
    Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command $MyInvocation.MyCommand.Name -ArgumentList $argv -Tolerate 'no credential store is available'
    # The sealed session file (no credential store here) went with the logout; its key goes now.
    $script:SessionKey = $null
}
