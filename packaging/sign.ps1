<#
.SYNOPSIS
Authenticode-signs every file of the module package that can carry a signature, when a
code-signing certificate is configured; says plainly that it did not sign when none is.

.DESCRIPTION
Run by the release workflow's `sign` job (Windows: Set-AuthenticodeSignature exists only there)
on dist/ after `packaging/dist.sh assemble`; `packaging/dist.sh seal` then zips the signed folder.
Signed: the scripts and data files PowerShell checks (.ps1 .psm1 .psd1 .ps1xml), OathBulk.dll and
the Windows binaries (.exe), in dist/OathBulk/ and the staged dist/bin/. A WDAC/AppLocker policy
that allows the publisher then runs the module in FullLanguage mode (docs/powershell.md,
"Locked-down machines"). Man pages, completions for other shells and the Linux/macOS binaries
have no Authenticode form.

The certificate: $env:OATHBULK_SIGNING_CERT, a base64 PFX (the repository secret of the same
name), with its password in $env:OATHBULK_SIGNING_CERT_PASSWORD. Empty: nothing is signed, a
workflow warning says so, and the exit code is 0 (a release without a certificate is allowed,
and visibly unsigned). Any file whose signature is not Valid afterwards fails the run.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string]$Path,
    [string]$TimestampServer = 'http://timestamp.digicert.com'
)
$ErrorActionPreference = 'Stop'

$signable = '.ps1', '.psm1', '.psd1', '.ps1xml', '.dll', '.exe'
$files = @(Get-ChildItem -LiteralPath $Path -Recurse -File | Where-Object { $signable -contains $_.Extension.ToLowerInvariant() })

if (-not $env:OATHBULK_SIGNING_CERT) {
    $message = "NOT SIGNED: no OATHBULK_SIGNING_CERT secret is configured; the $($files.Count) signable files of the package ship unsigned."
    "::warning title=Package not signed::$message"
    return
}

$pfx = Join-Path ([System.IO.Path]::GetTempPath()) "oathbulk-signing-$([guid]::NewGuid().ToString('n')).pfx"
try {
    [System.IO.File]::WriteAllBytes($pfx, [System.Convert]::FromBase64String($env:OATHBULK_SIGNING_CERT))
    $cert = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pfx, $env:OATHBULK_SIGNING_CERT_PASSWORD)
} finally {
    Remove-Item -LiteralPath $pfx -Force -ErrorAction Ignore
}
if (-not $cert.HasPrivateKey) { throw 'OATHBULK_SIGNING_CERT holds no private key: export the code-signing certificate with its key (PFX).' }

$bad = foreach ($file in $files) {
    $sig = Set-AuthenticodeSignature -LiteralPath $file.FullName -Certificate $cert -HashAlgorithm SHA256 -TimestampServer $TimestampServer
    if ($sig.Status -ne 'Valid') { "$($file.FullName): $($sig.Status) $($sig.StatusMessage)" }
}
if ($bad) { throw "Signing failed:`n$($bad -join "`n")" }
"signed $($files.Count) files with $($cert.Subject) (thumbprint $($cert.Thumbprint))"
