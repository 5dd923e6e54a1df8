function Disconnect-OathBulk {
    <#
    .SYNOPSIS
    Forgets the sign-in Connect-OathBulk kept (oathbulk logout).

    .DESCRIPTION
    Removes the kept refresh token or client secret from the operating system's credential
    store: the one for -TenantId/-ClientId when given, else the last Connect-OathBulk. Later
    cmdlets need credentials again. This forgets the sign-in on this machine only; to end
    every session of the account, revoke them in Entra ID (revokeSignInSessions).

    After Connect-OathBulk -CertificateThumbprint/-Certificate it forgets that certificate (the
    certificate itself stays in its store), and nothing else unless -TenantId/-ClientId name a
    kept sign-in.

    .PARAMETER TenantId
    The tenant of the sign-in to forget (default: the last Connect-OathBulk's).

    .PARAMETER ClientId
    The app registration of the sign-in to forget.

    .PARAMETER AuthorityUrl
    The identity platform's authority of the sign-in to forget.

    .EXAMPLE
    Disconnect-OathBulk

    Forget the last sign-in.

    .INPUTS
    None.

    .OUTPUTS
    None.

    .LINK
    Connect-OathBulk
    #>
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
}
