# Certificate sign-in (Connect-OathBulk -CertificateThumbprint / -Certificate): the key stays in
# the certificate store; for every run of the binary the module signs a new short-lived client
# assertion with it and hands it over on the binary's standard input (--client-assertion-stdin),
# never its command line, environment or a file. $script:CertificateSession holds the
# certificate object and what the assertion is for; Disconnect-OathBulk forgets it.

# The store Connect-MgGraph -CertificateThumbprint looks in: Cert:\CurrentUser\My on Windows; the
# same X509Store elsewhere (.NET keeps it under ~/.dotnet/corefx/cryptography/x509stores/my).
$script:CertificateStoreName = 'CurrentUser\My'
# An assertion is signed just before the binary starts, which spends it at once.
$script:AssertionLifetimeSeconds = 300

function Find-OathBulkCertificate {
    <#
    .SYNOPSIS
    The certificate with this thumbprint in CurrentUser\My, with its RSA private key. Throws an
    exception naming the thumbprint and the store (never key material) when it is not there or
    cannot sign.
    #>
    [CmdletBinding()]
    [OutputType([System.Security.Cryptography.X509Certificates.X509Certificate2])]
    param([Parameter(Mandatory)] [string]$Thumbprint)
    $wanted = ($Thumbprint -replace '[\s:-]', '').ToUpperInvariant()
    if ($wanted -notmatch '^[0-9A-F]{40}$') {
        throw [System.ArgumentException]::new("'$Thumbprint' is not a certificate thumbprint (40 hexadecimal digits, the SHA-1 of the certificate).")
    }
    $store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'CurrentUser')
    try {
        $store.Open([System.Security.Cryptography.X509Certificates.OpenFlags]::ReadOnly)
        $found = @($store.Certificates.Find([System.Security.Cryptography.X509Certificates.X509FindType]::FindByThumbprint, $wanted, $false))
    } finally {
        $store.Dispose()
    }
    if (-not $found) {
        throw [System.Management.Automation.ItemNotFoundException]::new("No certificate with thumbprint $wanted in the $script:CertificateStoreName certificate store.")
    }
    $found[0]
}

function Assert-OathBulkSigningCertificate {
    <#
    .SYNOPSIS
    Throws unless the certificate has an RSA private key this process can use.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [System.Security.Cryptography.X509Certificates.X509Certificate2]$Certificate)
    $where = "Certificate $($Certificate.Thumbprint) ($($Certificate.Subject))"
    if (-not $Certificate.HasPrivateKey) {
        throw [System.InvalidOperationException]::new("$where has no private key: import it with its key (a .pfx) into the $script:CertificateStoreName store.")
    }
    $rsa = $null
    try {
        $rsa = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($Certificate)
    } catch {
        throw [System.InvalidOperationException]::new("$where has a private key this process cannot use ($($_.Exception.GetType().Name)).")
    }
    if (-not $rsa) {
        throw [System.InvalidOperationException]::new("$where does not have an RSA key: Entra certificate credentials are signed with RSA.")
    }
    $rsa.Dispose()
}

function New-OathBulkCertificateSession {
    <# .SYNOPSIS What every later run needs to sign its assertion. #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory)] [System.Security.Cryptography.X509Certificates.X509Certificate2]$Certificate,
        [Parameter(Mandatory)] [string]$TenantId,
        [Parameter(Mandatory)] [string]$ClientId,
        [uri]$AuthorityUrl
    )
    # Spelled as the binary spells its token endpoint (--authority-url is passed the same way).
    $authority = if ($AuthorityUrl) { $AuthorityUrl.AbsoluteUri.TrimEnd('/') } else { 'https://login.microsoftonline.com' }
    @{
        Certificate  = $Certificate
        TenantId     = $TenantId
        ClientId     = $ClientId
        AuthorityUrl = $(if ($AuthorityUrl) { $authority })
        TokenUrl     = "$authority/$TenantId/oauth2/v2.0/token"
    }
}

function ConvertTo-OathBulkBase64Url {
    <# .SYNOPSIS Base64url without padding (RFC 7515 §2), as JWTs spell their parts. #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [byte[]]$Bytes)
    [Convert]::ToBase64String($Bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_')
}

function New-OathBulkClientAssertion {
    <#
    .SYNOPSIS
    A client assertion for the session's app and token endpoint, signed now with the
    certificate's private key: RS256 (RSA PKCS#1 v1.5, SHA-256), x5t = the SHA-1 thumbprint,
    x5t#S256, aud = the token endpoint, iss = sub = the client id, a new jti, valid 5 minutes.
    See https://learn.microsoft.com/entra/identity-platform/certificate-credentials
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [hashtable]$Session)
    $cert = $Session.Certificate
    $now = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
    $header = [ordered]@{
        alg        = 'RS256'
        typ        = 'JWT'
        x5t        = ConvertTo-OathBulkBase64Url $cert.GetCertHash()
        'x5t#S256' = ConvertTo-OathBulkBase64Url $cert.GetCertHash([System.Security.Cryptography.HashAlgorithmName]::SHA256)
    }
    $claims = [ordered]@{
        aud = $Session.TokenUrl
        iss = $Session.ClientId
        sub = $Session.ClientId
        jti = [guid]::NewGuid().ToString()
        nbf = $now
        iat = $now
        exp = $now + $script:AssertionLifetimeSeconds
    }
    $utf8 = [System.Text.UTF8Encoding]::new($false)
    $signingInput = (ConvertTo-OathBulkBase64Url $utf8.GetBytes(($header | ConvertTo-Json -Compress))) + '.' +
        (ConvertTo-OathBulkBase64Url $utf8.GetBytes(($claims | ConvertTo-Json -Compress)))
    $rsa = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($cert)
    try {
        $signature = $rsa.SignData($utf8.GetBytes($signingInput), [System.Security.Cryptography.HashAlgorithmName]::SHA256,
            [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
    } finally {
        $rsa.Dispose()
    }
    "$signingInput.$(ConvertTo-OathBulkBase64Url $signature)"
}
