function Disconnect-OathBulk {
    # Help: powershell/docs/cmdlets/Disconnect-OathBulk.md (rendered to en-US/OathBulk-help.xml).
    [CmdletBinding(HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#disconnect-oathbulk')]
    [OutputType([void])]
    param(
        [ValidateNotNullOrEmpty()] [string]$TenantId,
        [ValidateNotNullOrEmpty()] [string]$ClientId,
        [uri]$AuthorityUrl
    )
    if ($script:CertificateSession) {
        $forgotten = $script:CertificateSession
        $script:CertificateSession = $null
        Write-Verbose "OathBulk: forgot the certificate sign-in ($($forgotten.Certificate.Thumbprint), app $($forgotten.ClientId))"
        if (-not ($TenantId -or $ClientId)) { return }
    }
    $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $PSBoundParameters -SessionState $PSCmdlet.SessionState
    Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command $MyInvocation.MyCommand.Name -ArgumentList $argv
}
