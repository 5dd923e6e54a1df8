BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest -Token 'connect-test-token-92c4'
    $script:Seed = New-SimCsv $TestDrive
    # TEST ONLY: the binary's plaintext stand-in for the OS credential store, so that what
    # Connect-OathBulk keeps is seen by the next process (and never touches a real keychain).
    # Only a debug build honours it (a release binary ignores it: docs/security.md), so these
    # tests drive target/debug/oathbulk, which the Rust tests build (`cargo build` makes it).
    $script:DebugBinary = Join-Path $RepoRoot ("target/debug/oathbulk" + $(if ($IsWindows) { '.exe' } else { '' }))
    if (-not (Test-Path -LiteralPath $DebugBinary)) { throw "Build the debug binary first: cargo build ($DebugBinary missing)" }
    $env:OATHBULK_PATH = $DebugBinary
    $script:Store = Join-Path $TestDrive 'test-store.json'
    $env:OATHBULK_TEST_ONLY_PLAINTEXT_STORE = $Store
    function Get-StoreEntry { if (Test-Path $Store) { (Get-Content $Store -Raw | ConvertFrom-Json -AsHashtable).Keys } }
}

AfterAll {
    Remove-Item Env:OATHBULK_TEST_ONLY_PLAINTEXT_STORE -ErrorAction Ignore
    $env:OATHBULK_PATH = $ReleaseBinary
}

Describe 'Connect-OathBulk / Disconnect-OathBulk' {
    BeforeAll {
        # The simulator accepts the tokens its own token endpoint issues, and $Token, nothing else.
        $script:Sim = Start-OathBulkSimulator $Seed -AccessToken $Token
    }
    AfterAll { Stop-TestSimulator }
    BeforeEach {
    }

    It 'signs in once with a device code; later cmdlets need no credentials and no prompt; Disconnect forgets it' {
        Connect-OathBulk -TenantId contoso.example -UseDeviceCode -AuthorityUrl $Sim.AuthorityUrl -WarningVariable w -WarningAction SilentlyContinue
        ($w -join "`n") | Should -Match 'To sign in'
        Get-StoreEntry | Should -Contain 'last-login'

        # No -AccessToken, no environment token: only the kept sign-in can make this work.
        $t = Get-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -WarningVariable w2 -WarningAction SilentlyContinue
        $t.Count | Should -Be 5
        ($w2 -join "`n") | Should -Not -Match 'To sign in'

        Disconnect-OathBulk
        @(Get-StoreEntry).Count | Should -Be 0
        { Get-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -WarningAction SilentlyContinue -ErrorAction Stop } |
            Should -Throw -ErrorId 'OathBulk.UsageError,Get-OathBulkTenantToken'
    }

    It 'where no credential store exists: one device code for the session, later cmdlets renew it, nothing readable on disk; Disconnect removes it' -Skip:(-not $IsLinux) {
        $cache = Join-Path $TestDrive 'nostore-cache'
        $sessions = Join-Path $cache 'oathbulk/sessions'
        $child = @(
            "`$env:OATHBULK_PATH = '$DebugBinary'"
            "Import-Module '$ModuleManifest' -ErrorAction Stop"
            Get-NoStoreLine $cache
            "`$v = Connect-OathBulk -TenantId contoso.example -UseDeviceCode -AuthorityUrl '$($Sim.AuthorityUrl)' -Verbose -WarningVariable w -WarningAction SilentlyContinue 4>&1 | Out-String"
            "'PROMPTED=' + ((`$w -join ' ') -match 'To sign in')"
            '$key = & (Get-Module OathBulk) { $script:SessionKey }'
            "'KEY_IN_ENV=' + (`$v -match 'OATHBULK_SESSION_KEY=\*\*\*'); 'KEY_SHOWN=' + `$v.Contains(`$key)"
            "'TOKENS=' + @(Get-OathBulkTenantToken -GraphUrl '$($Sim.GraphUrl)' -WarningAction SilentlyContinue).Count"
            "'TOKENS=' + @(Get-OathBulkTenantToken -GraphUrl '$($Sim.GraphUrl)' -WarningAction SilentlyContinue).Count"
            "`$files = @(Get-ChildItem '$sessions' -File); 'FILES=' + `$files.Count"
            "'PLAIN=' + ((Get-Content -LiteralPath `$files[0].FullName -Raw) -match 'sim-refresh-|eyJ')"
            'Disconnect-OathBulk'
            "'AFTER=' + @(Get-ChildItem '$sessions' -File).Count"
        ) -join '; '
        $prompts = { [int](Invoke-RestMethod "http://$($Sim.Listen)/_sim/state").counters.requests_by_route.'login.devicecode' }
        $before = & $prompts
        $out = & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -Command $child 2>&1 | Out-String
        (& $prompts) - $before | Should -Be 1 -Because "one device code for Connect and two later cmdlets: $out"
        $out | Should -Match 'PROMPTED=True'
        $out | Should -Match 'KEY_IN_ENV=True' -Because 'the key goes to the binary in its environment'
        $out | Should -Match 'KEY_SHOWN=False' -Because 'never in argv or any output'
        ([regex]::Matches($out, 'TOKENS=5')).Count | Should -Be 2
        $out | Should -Match 'FILES=1'
        $out | Should -Match 'PLAIN=False' -Because 'the refresh token is sealed, and no access token is kept'
        $out | Should -Match 'AFTER=0' -Because 'Disconnect-OathBulk removes the sealed file'
        $out | Should -Not -Match 'sim-refresh-'
    }

    It 'keeps an app-only sign-in; the secret never reaches the command line' {
        $cred = [pscredential]::new('test-app', (ConvertTo-SecureString 'app-secret-7731-xyz' -AsPlainText -Force))
        $verbose = Connect-OathBulk -TenantId contoso.example -ClientSecretCredential $cred -AuthorityUrl $Sim.AuthorityUrl -Verbose -WarningAction SilentlyContinue 4>&1
        $text = $verbose | Out-String
        $text | Should -Match '--client-id test-app'
        $text | Should -Not -Match 'app-secret-7731-xyz'
        Get-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -WarningAction SilentlyContinue | Should -HaveCount 5
        Disconnect-OathBulk -TenantId contoso.example -ClientId test-app -AuthorityUrl $Sim.AuthorityUrl
        @(Get-StoreEntry).Count | Should -Be 0
    }

    It 'refuses -ClientSecretCredential without -TenantId' {
        $cred = [pscredential]::new('test-app', (ConvertTo-SecureString 'x' -AsPlainText -Force))
        { Connect-OathBulk -ClientSecretCredential $cred -AuthorityUrl $Sim.AuthorityUrl } | Should -Throw -ErrorId 'OathBulk.InvalidCredential,Connect-OathBulk'
    }
}

Describe 'Connect-OathBulk -CertificateThumbprint / -Certificate' {
    # The certificate goes into the CurrentUser\My store of a child pwsh whose HOME is a
    # temporary folder (.NET keeps that store under ~/.dotnet/corefx/cryptography/x509stores/my),
    # so the real HOME and its store are never touched. (On Windows HOME does not move the
    # store: the child removes its certificate from the real CurrentUser\My when it is done.)
    BeforeAll {
        $script:ChildHome = Join-Path $TestDrive 'home'
        $null = New-Item -ItemType Directory -Path $ChildHome
        $script:Results = Join-Path $TestDrive 'cert-results.json'
        $child = Join-Path $TestDrive 'cert-child.ps1'
        Set-Content -LiteralPath $child -Encoding utf8NoBOM -Value @'
param([string]$Manifest, [string]$Results)
$ErrorActionPreference = 'Stop'
Set-Location $HOME
$env:OATHBULK_TEST_ONLY_PLAINTEXT_STORE = Join-Path $HOME 'test-store.json'
Import-Module $Manifest -Force
$r = [ordered]@{}
$X509 = 'System.Security.Cryptography.X509Certificates'
$rsa = [System.Security.Cryptography.RSA]::Create(2048)
$request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=oathbulk-pester', $rsa,
    [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
$request.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new($false, $false, 0, $false))
$made = $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddMinutes(-5), [DateTimeOffset]::UtcNow.AddDays(1))
# Through a PFX, so that the store keeps the key with the certificate.
$cert = New-Object "$X509.X509Certificate2" -ArgumentList $made.Export('Pfx'), ([string]$null), ([System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]'Exportable, PersistKeySet')
$store = New-Object "$X509.X509Store" -ArgumentList 'My', 'CurrentUser'
$store.Open('ReadWrite'); $store.Add($cert); $store.Dispose()
$r.Thumbprint = $cert.Thumbprint
$r.StoreFile = @(Get-ChildItem -Recurse -File (Join-Path $HOME '.dotnet') -ErrorAction Ignore).Name
$key = [Convert]::ToBase64String($rsa.ExportPkcs8PrivateKey())
$r.KeyChunks = @(for ($i = 0; $i + 40 -le $key.Length; $i += 40) { $key.Substring($i, 40) })
$crt = Join-Path $HOME 'app.crt'
Set-Content -LiteralPath $crt -Value $made.ExportCertificatePem()
$csv = Join-Path $HOME 'tokens.csv'
@('upn,serial number,secret key,time interval,manufacturer,model'
  'alice@contoso.com,3000001,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,30,Token2,C202'
  'bob@contoso.com,3000002,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,Token2,C202'
  'dave@fabrikam.com,3000003,KRUGKIDROVUWG2ZAMJZG653OEBTG66BA,30,Token2,C202') | Set-Content -LiteralPath $csv
$sim = Start-OathBulkSimulator $csv -ClientId cert-app -ClientCertificate $crt
try {
    $r.Streams = & {
        Connect-OathBulk -TenantId contoso.example -ClientId cert-app -CertificateThumbprint $cert.Thumbprint -AuthorityUrl $sim.AuthorityUrl -Verbose
        $r.Tokens = @(Get-OathBulkTenantToken -GraphUrl $sim.GraphUrl -Verbose).Count
        $r.Activated = @(Enable-OathBulkToken $csv -GraphUrl $sim.GraphUrl -Force -Verbose | Where-Object Status -EQ 'activated').Count
        # Piped rows without a file would share the binary's stdin with the assertion.
        try { Import-Csv $csv | Enable-OathBulkToken -GraphUrl $sim.GraphUrl -Force } catch { $r.PipedId = $_.FullyQualifiedErrorId }
        # -Certificate: the same sign-in from an X509Certificate2 the caller holds.
        Connect-OathBulk -TenantId contoso.example -ClientId cert-app -Certificate $cert -AuthorityUrl $sim.AuthorityUrl -Verbose
        $r.TokensAgain = @(Get-OathBulkTenantToken -GraphUrl $sim.GraphUrl -Status activated -Verbose).Count
        try { Connect-OathBulk -TenantId contoso.example -ClientId cert-app -CertificateThumbprint ('AB' * 20) -AuthorityUrl $sim.AuthorityUrl } catch { $r.Unknown = @{ Id = $_.FullyQualifiedErrorId; Message = $_.Exception.Message } }
        $public = New-Object "$X509.X509Certificate2" -ArgumentList (, $made.RawData)
        try { Connect-OathBulk -TenantId contoso.example -ClientId cert-app -Certificate $public -AuthorityUrl $sim.AuthorityUrl } catch { $r.NoKey = @{ Id = $_.FullyQualifiedErrorId; Message = $_.Exception.Message } }
        $r.State = (Invoke-RestMethod "http://$($sim.Listen)/_sim/state").counters
        Disconnect-OathBulk -Verbose
        try { Get-OathBulkTenantToken -GraphUrl $sim.GraphUrl -ErrorAction Stop } catch { $r.AfterDisconnectId = $_.FullyQualifiedErrorId }
    } *>&1 | Out-String
} finally {
    $sim | Stop-OathBulkSimulator
    $store = New-Object "$X509.X509Store" -ArgumentList 'My', 'CurrentUser'
    $store.Open('ReadWrite'); $store.Remove($cert); $store.Dispose()
}
$r.Errors = ($Error | ForEach-Object { $_ | Out-String; $_.Exception.ToString(); [string]$_.TargetObject }) -join "`n"
$r | ConvertTo-Json -Depth 6 | Set-Content -LiteralPath $Results
'@
        $pwsh = Join-Path $PSHOME 'pwsh'
        $savedHome = $env:HOME
        try {
            $env:HOME = $ChildHome
            $script:ChildOutput = & $pwsh -NoProfile -NonInteractive -File $child -Manifest $ModuleManifest -Results $Results 2>&1 | Out-String
        } finally {
            $env:HOME = $savedHome
        }
        if (-not (Test-Path -LiteralPath $Results)) { throw "the child pwsh wrote no results: $ChildOutput" }
        $script:R = Get-Content -LiteralPath $Results -Raw | ConvertFrom-Json
        # The head of any RS256 client assertion: base64url of {"alg":"RS256",
        $script:AssertionHead = 'eyJhbGciOiJSUzI1NiIs'
    }

    It 'finds the certificate in the CurrentUser\My store of the temporary HOME' {
        if (-not $IsWindows) { $R.StoreFile | Should -Contain "$($R.Thumbprint).pfx" }
    }

    It 'signs in, and two later cmdlets run on fresh assertions with no other credentials' {
        $R.Tokens | Should -Be 3
        $R.Activated | Should -Be 3
        $R.TokensAgain | Should -Be 3
        # Connect (twice) and the three cmdlet runs: one new assertion each, none refused, none reused.
        $R.State.client_assertions_accepted | Should -Be 5
        $R.State.client_assertions_refused | Should -Be 0
        $R.State.client_assertion_jti_reused | Should -Be 0
        $R.Streams | Should -Match ([regex]::Escape("credentials from Connect-OathBulk (Certificate $($R.Thumbprint))"))
        $R.Streams | Should -Match '--client-assertion-stdin'
    }

    It 'refuses rows piped without a file: the binary''s stdin carries the assertion' {
        $R.PipedId | Should -Be 'OathBulk.StdinInUse,Enable-OathBulkToken'
    }

    It 'names an unknown thumbprint and the store in an error record' {
        $R.Unknown.Id | Should -Be 'OathBulk.CertificateNotFound,Connect-OathBulk'
        $R.Unknown.Message | Should -Match ('AB' * 20)
        $R.Unknown.Message | Should -Match ([regex]::Escape('CurrentUser\My'))
    }

    It 'refuses a certificate without its private key, naming it' {
        $R.NoKey.Id | Should -Be 'OathBulk.InvalidCredential,Connect-OathBulk'
        $R.NoKey.Message | Should -Match 'no private key'
        $R.NoKey.Message | Should -Match $R.Thumbprint
    }

    It 'Disconnect-OathBulk forgets the certificate: the next cmdlet has no credentials' {
        $R.AfterDisconnectId | Should -Be 'OathBulk.UsageError,Get-OathBulkTenantToken'
    }

    It 'never shows the private key or an assertion in any stream or in $Error' {
        $R.KeyChunks.Count | Should -BeGreaterThan 20
        # Both hold what was said: the verbose command lines, the expected error records.
        $R.Streams | Should -Match 'OathBulk: .*oathbulk tenant'
        $R.Errors | Should -Match 'No certificate with thumbprint'
        foreach ($text in $R.Streams, $R.Errors, [string]$ChildOutput) {
            $text | Should -Not -Match $AssertionHead
            foreach ($chunk in $R.KeyChunks) { $text.Contains($chunk) | Should -BeFalse }
        }
    }
}
