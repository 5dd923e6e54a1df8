# Seed files as vendors ship them (issue 29): PSKC (RFC 6030) and password ZIPs through the
# cmdlets. The password (-Password, a SecureString) must reach the binary on its standard input
# only: never its argument list, its environment, a file, or any stream of the cmdlet.
BeforeDiscovery {
    # `zip -P` (ZipCrypto, as old vendor tools write): .ci/run installs zip; locally its absence skips.
    $HasZip = [bool](Get-Command zip -CommandType Application -ErrorAction Ignore)
    if (-not $HasZip -and $env:CI) { throw 'zip not found (.ci/run installs it)' }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest -Token 'vendor-files-test-token-51d0'
    $script:Fixtures = Join-Path $RepoRoot 'tests/fixtures/pskc'
    # Unusual enough that finding it anywhere can only mean it leaked.
    $script:PlainPassword = 'zip-Pa55-7f3e91c4'
    $script:Password = ConvertTo-SecureString $PlainPassword -AsPlainText -Force
    # RFC 6238's seed "12345678901234567890" (SHA-1) and its 32-byte SHA-256 one, in base32.
    $script:Sha1Seed = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'
    $script:Sha256Seed = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA'
    # The tenant holds the fixture's two Feitian tokens (totp-plain.pskcxml) and one CSV token.
    $script:TenantCsv = Join-Path $TestDrive 'tenant.csv'
    @(
        'upn,serial number,secret key,time interval,hash,manufacturer,model,sim_state'
        "a@contoso.com,FT0001,$Sha1Seed,30,sha1,Feitian,c200,assigned"
        "b@contoso.com,FT0002,$Sha256Seed,60,sha256,Feitian,c200,assigned"
        "c@contoso.com,3000001,$Sha1Seed,30,sha1,Token2,C202,assigned"
    ) | Set-Content -LiteralPath $TenantCsv -Encoding utf8NoBOM
    $script:Users = Join-Path $TestDrive 'users.csv'
    'serial,upn', 'FT0001,a@contoso.com', 'FT0002,b@contoso.com' | Set-Content -LiteralPath $Users -Encoding utf8NoBOM

    # A password ZIP holding $Name (a CSV or PSKC text), made in a folder of its own; the
    # plaintext is deleted at once, so only the archive is on disk when the cmdlet runs.
    function New-PasswordZip([string]$Name, [string[]]$Lines, [string]$ZipName = 'seeds.zip') {
        $dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $null = New-Item -ItemType Directory $dir
        $Lines | Set-Content -LiteralPath (Join-Path $dir $Name) -Encoding utf8NoBOM
        Push-Location $dir
        try { & zip -q -P $PlainPassword $ZipName $Name; if ($LASTEXITCODE) { throw "zip failed ($LASTEXITCODE)" } }
        finally { Pop-Location }
        Remove-Item -LiteralPath (Join-Path $dir $Name)
        Join-Path $dir $ZipName
    }
    # Every file below $Dir, as path -> length (to see that nothing new appeared).
    function Get-FileList([string]$Dir) {
        @(Get-ChildItem -LiteralPath $Dir -Recurse -File -Force -ErrorAction Ignore | ForEach-Object { "$($_.FullName)=$($_.Length)" }) | Sort-Object
    }
}

Describe 'Seed files as vendors ship them' {
    BeforeEach { Start-TestSimulator $TenantCsv }
    AfterEach { Stop-TestSimulator }

    It '-Path seeds.pskc (plain values) activates against the simulator, users from -AssignCsv' {
        $pskc = Join-Path $TestDrive 'seeds.pskc'
        Copy-Item (Join-Path $Fixtures 'totp-plain.pskcxml') $pskc
        $all = Enable-OathBulkToken -Path $pskc -AssignCsv $Users -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force -Verbose 4>&1 3>&1 2>&1
        $r = @($all | Where-Object { $_.PSObject.TypeNames[0] -eq 'OathBulk.Activation' })
        ($r | Sort-Object Serial | ForEach-Object { "$($_.Serial)=$($_.Status)" }) | Should -Be @('FT0001=activated', 'FT0002=activated')
        $text = ($all | Out-String -Width 400)
        $text | Should -Not -Match $Sha1Seed.Substring(0, 16)
        Get-SimState $Sim $Token | Should -Contain 'FT0002=activated'
    }

    It 'a PSKC file without -AssignCsv is refused with the parameter to add, in the cmdlet''s terms' {
        $err = $null
        try { Enable-OathBulkToken -Path (Join-Path $Fixtures 'totp-plain.pskcxml') -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force -ErrorAction Stop }
        catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'OathBulk.UsageError*'
        $err.Exception.Message | Should -Match '-AssignCsv'
        Get-SimState $Sim $Token | Should -Contain 'FT0001=assigned'
    }

    It 'a password ZIP holding a CSV activates with -Password; no unpacked file appears' -Skip:(-not $HasZip) {
        $zip = New-PasswordZip 'seeds.csv' @('upn,serial number,secret key,time interval,manufacturer,model', "c@contoso.com,3000001,$Sha1Seed,30,Token2,C202") 'seeds.pdf'
        $cache = & (Get-Module OathBulk) { Get-OathBulkUserDirectory }
        $before = @(Get-FileList $TestDrive) + @(Get-FileList $cache)
        $r = Enable-OathBulkToken -Path $zip -Password $Password -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force
        $r.Serial | Should -Be '3000001'
        $r.Status | Should -Be 'activated'
        @(@(Get-FileList $TestDrive) + @(Get-FileList $cache)) | Should -Be $before
    }

    It 'a password ZIP holding a PSKC file is read with -Password (Test-OathBulkCsv, Import-OathBulkToken)' -Skip:(-not $HasZip) {
        $zip = New-PasswordZip 'seeds.pskc' (Get-Content -LiteralPath (Join-Path $Fixtures 'totp-plain.pskcxml'))
        $r = @(Test-OathBulkCsv -Path $zip -Password $Password)
        @($r | Where-Object Level -eq 'error') | Should -BeNullOrEmpty
        $tokens = @(Import-OathBulkToken -Path $zip -Password $Password -RevealSecrets)
        ($tokens | Sort-Object Serial).Secret | Should -Be @($Sha1Seed, $Sha256Seed)
    }

    It 'a wrong password is one clear terminating error that does not echo it' -Skip:(-not $HasZip) {
        $zip = New-PasswordZip 'seeds.csv' @('upn,serial number,secret key,time interval,manufacturer,model', "c@contoso.com,3000001,$Sha1Seed,30,Token2,C202")
        $wrong = 'not-the-Pa55-0b6d'
        $err = $null
        try { Enable-OathBulkToken -Path $zip -Password (ConvertTo-SecureString $wrong -AsPlainText -Force) -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force -ErrorAction Stop }
        catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike 'OathBulk.UsageError,Enable-OathBulkToken'
        $err.Exception.Message | Should -Match 'password'
        $err.Exception.Message | Should -Not -Match $wrong
        Get-SimState $Sim $Token | Should -Contain '3000001=assigned'
    }

    # RFC 6030's own examples hold an HOTP key (which Entra refuses, as a row error): reaching
    # that row at all means the file opened, its MAC checked; a wrong key or password is one
    # terminating error before any secret is read.
    It 'a PBKDF2-protected PSKC file (RFC 6030 figure 7) opens with -Password, a wrong one is refused' {
        $pskc = Join-Path $Fixtures 'rfc6030-figure7-pbkdf2.pskcxml'
        $null = Import-OathBulkToken -Path $pskc -Password (ConvertTo-SecureString 'qwerty' -AsPlainText -Force) -ErrorVariable rows -ErrorAction SilentlyContinue
        @($rows).FullyQualifiedErrorId | Should -Be 'OathBulk.HotpNotSupported,Import-OathBulkToken'
        @($rows)[0].TargetObject.Serial | Should -Be '987654321'
        $err = $null
        try { Import-OathBulkToken -Path $pskc -Password (ConvertTo-SecureString 'QWERTY-wrong' -AsPlainText -Force) -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'OathBulk.UsageError,Import-OathBulkToken'
        $err.Exception.Message | Should -Match 'does not open this PSKC file'
        $err.Exception.Message | Should -Match 'no secret was read'
    }

    It 'a pre-shared-key PSKC file (RFC 6030 figure 6) opens with -PskcKeyFile, a wrong key is refused' {
        $pskc = Join-Path $Fixtures 'rfc6030-figure6-preshared.pskcxml'
        # RFC 6030 figure 6's pre-shared key, in hex.
        $key = Join-Path $TestDrive 'psk.hex'
        '12345678901234567890123456789012' | Set-Content -LiteralPath $key -NoNewline
        $null = Import-OathBulkToken -Path $pskc -PskcKeyFile $key -ErrorVariable rows -ErrorAction SilentlyContinue
        @($rows).FullyQualifiedErrorId | Should -Be 'OathBulk.HotpNotSupported,Import-OathBulkToken'
        $bad = Join-Path $TestDrive 'bad.hex'
        '0' * 32 | Set-Content -LiteralPath $bad -NoNewline
        { Import-OathBulkToken -Path $pskc -PskcKeyFile $bad -ErrorAction Stop } | Should -Throw -ExpectedMessage '*does not open this PSKC file*'
    }
}

Describe 'The seed file password never leaves standard input' {
    It 'is in no stream of the cmdlet, even with -Verbose' -Skip:(-not $HasZip) {
        $sim = Start-OathBulkSimulator $TenantCsv -AccessToken $Token
        try {
            $zip = New-PasswordZip 'seeds.csv' @('upn,serial number,secret key,time interval,manufacturer,model', "c@contoso.com,3000001,$Sha1Seed,30,Token2,C202")
            $all = Enable-OathBulkToken -Path $zip -Password $Password -GraphUrl $sim.GraphUrl -AccessToken $Token -Force -Verbose -PassThruSummary *>&1
            @($all | Where-Object { $_.PSObject.TypeNames[0] -eq 'OathBulk.Activation' }).Status | Should -Be 'activated'
            # The verbose line shows the argument vector: the flags, not the password.
            ($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match '--zip-password-stdin' }) | Should -Not -BeNullOrEmpty
            ($all | ForEach-Object { if ($_ -is [System.Management.Automation.InformationalRecord]) { $_.Message } else { $_ | Out-String -Width 400 } }) -join "`n" |
                Should -Not -Match $PlainPassword
        } finally { $sim | Stop-OathBulkSimulator }
    }

    It 'is refused, before anything starts, where a certificate sign-in needs the same stdin' {
        InModuleScope OathBulk -Parameters @{ Pw = $Password } {
            function Test-Run { [CmdletBinding()] param($Pw) Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command 'Import-OathBulkToken' -ArgumentList @('list', '--client-assertion-stdin', 'x.csv') -SeedPassword $Pw }
            $err = $null
            try { Test-Run -Pw $Pw -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -BeLike 'OathBulk.StdinInUse*'
            $err.Exception.Message | Should -Match '-Password'
        }
    }

    It 'is sent on stdin and in neither the argument list nor the environment of the process' -Skip:($IsWindows) {
        # A stand-in binary (same version, so the module accepts it) that records what it was given.
        $dir = Join-Path $TestDrive 'fake'
        $null = New-Item -ItemType Directory $dir -Force
        $fake = Join-Path $dir 'oathbulk'
        $version = (Get-Module OathBulk).Version.ToString()
        @(
            '#!/bin/sh'
            "if [ `"`$1`" = --version ]; then echo 'oathbulk $version'; exit 0; fi"
            "printf '%s\n' `"`$@`" > '$dir/argv'"
            "env > '$dir/env'"
            "cat > '$dir/stdin'"
        ) | Set-Content -LiteralPath $fake -Encoding utf8NoBOM
        chmod +x $fake
        $csv = Join-Path $TestDrive 'fake.csv'
        'upn,serial number,secret key,time interval,manufacturer,model', "c@contoso.com,3000001,$Sha1Seed,30,Token2,C202" | Set-Content -LiteralPath $csv
        $saved = $env:OATHBULK_PATH
        $env:OATHBULK_PATH = $fake
        try {
            $cases = @(
                { Enable-OathBulkToken -Path $csv -Password $Password -Simulate -Force }
                { New-OathBulkTenantToken -Path $csv -Password $Password -Simulate -Force }
                { Test-OathBulkCsv -Path $csv -Password $Password }
                { Import-OathBulkToken -Path $csv -Password $Password }
                { Get-OathBulkCode -Path $csv -Password $Password }
                { Get-OathBulkUser -Path $csv -Password $Password }
            )
            foreach ($case in $cases) {
                Remove-Item "$dir/argv", "$dir/env", "$dir/stdin" -ErrorAction Ignore
                $null = & $case *>&1
                $argv = Get-Content -LiteralPath "$dir/argv"
                $argv | Should -Contain '--zip-password-stdin' -Because "$case"
                $argv | Should -Contain '--pskc-password-stdin' -Because "$case"
                $argv | Should -Contain $csv -Because "$case"
                ($argv -join "`n") | Should -Not -Match $PlainPassword -Because "$case"
                (Get-Content -LiteralPath "$dir/env" -Raw) | Should -Not -Match $PlainPassword -Because "$case"
                # One line for a ZIP, one for a PSKC file: the binary reads the ones it needs.
                Get-Content -LiteralPath "$dir/stdin" | Should -Be @($PlainPassword, $PlainPassword) -Because "$case"
            }
            # Without -Password: no flag, nothing on stdin.
            Remove-Item "$dir/argv", "$dir/stdin" -ErrorAction Ignore
            $null = Test-OathBulkCsv -Path $csv *>&1
            Get-Content -LiteralPath "$dir/argv" | Should -Not -Contain '--zip-password-stdin'
        } finally {
            $env:OATHBULK_PATH = $saved
        }
    }
}
