# Issue 33: the module's paths that differ on Windows, run there by CI (.github/workflows/ci.yml,
# job test on windows-latest). A test that can run anywhere does (CRLF files and UTF-8 pipes
# matter most on Windows, but a break shows on every platform); one that means something only
# on Windows is skipped elsewhere, its reason in the comment above it. The Rust side (journal,
# key files, Credential Manager) is tests/windows_paths.rs.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest -Token 'windows-test-token-5e1a'
    $script:Exe = if ($IsWindows) { 'oathbulk.exe' } else { 'oathbulk' }
}

Describe 'Windows paths' {
    # Skipped off Windows: the win-x64 folder and the .exe name are Windows's (the lookup on
    # other platforms is Habits.Tests.ps1's 'the module prefers bin/<rid> beside it').
    It 'finds the package''s bin/win-x64/oathbulk.exe before OATHBULK_PATH and PATH' -Skip:(-not $IsWindows) {
        $arch = [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString().ToLowerInvariant()
        $mod = Join-Path $TestDrive 'pkg/OathBulk'
        $null = New-Item -ItemType Directory -Path (Split-Path $mod)
        Copy-Item -Recurse -LiteralPath (Split-Path $ModuleManifest) -Destination $mod
        $bin = Join-Path $mod "bin/win-$arch"
        $null = New-Item -ItemType Directory -Path $bin
        Copy-Item -LiteralPath $ReleaseBinary -Destination (Join-Path $bin 'oathbulk.exe')
        $csv = Join-Path $TestDrive 'one.csv'
        @('upn,serial number,secret key,time interval,manufacturer,model', 'a@contoso.com,1,JBSWY3DPEHPK3PXP,30,Token2,C202') |
            Set-Content -LiteralPath $csv -Encoding utf8NoBOM
        $pwsh = Join-Path $PSHOME 'pwsh.exe'
        # OATHBULK_PATH names the repository's build: the package's own binary must win.
        $out = @(& $pwsh -NoProfile -NonInteractive -Command "`$env:OATHBULK_PATH = '$ReleaseBinary'; Import-Module '$mod/OathBulk.psd1'; & (Get-Module OathBulk) { Get-OathBulkRid; (Find-OathBulkBinary).Path }; (Get-OathBulkCode -LiteralPath '$csv' -At ([DateTimeOffset]::FromUnixTimeSeconds(0))).Code")
        $out.Count | Should -Be 3 -Because ($out -join "`n")
        $out[0] | Should -Be "win-$arch"
        [System.IO.Path]::GetFullPath($out[1]) | Should -Be ([System.IO.Path]::GetFullPath((Join-Path $bin 'oathbulk.exe')))
        # The 80-bit vector of TestHelpers.ps1 at t=0, computed by that binary.
        $out[2] | Should -Be '282760'
    }

    # Skipped off Windows: there the binary gets SIGINT and settles (Habits.Tests.ps1, 'An
    # interrupted binary'); Windows has no SIGINT for a child without a console, so a stopped
    # pipeline kills oathbulk.exe at once, and -Resume must still finish every row exactly once.
    It 'a stopped pipeline leaves no oathbulk.exe running, and -Resume finishes every row' -Skip:(-not $IsWindows) {
        $seed = New-AssignedCsv (Join-Path $TestDrive 'stop.csv') 60 8000000
        $sim = Start-OathBulkSimulator $seed -AccessToken $Token -LatencyMs 50
        try {
            $journal = Join-Path $TestDrive 'stop.jsonl'
            $first = @(Enable-OathBulkToken $seed -GraphUrl $sim.GraphUrl -AccessToken $Token -Parallel 1 -Journal $journal -Force -ErrorAction SilentlyContinue |
                    Select-Object -First 3)
            $first.Count | Should -Be 3
            # The finally block of the cmdlet ran: its activate child is gone (the simulator,
            # another child, stays).
            @(Get-ChildOathBulkProcess | Where-Object { $_.CommandLine -match ' activate ' }) | Should -BeNullOrEmpty
            @(Get-SimState $sim $Token | Where-Object { $_ -like '*=activated' }).Count | Should -BeLessThan 60 -Because 'the run was cut short'

            $null = Enable-OathBulkToken $seed -GraphUrl $sim.GraphUrl -AccessToken $Token -Journal $journal -Resume -Force -ErrorAction Stop
            $state = @(Get-SimState $sim $Token)
            $state.Count | Should -Be 60
            $state | Where-Object { $_ -notlike '*=activated' } | Should -BeNullOrEmpty
        } finally { $sim | Stop-OathBulkSimulator }
    }

    # Runs everywhere: a file saved by Windows tools (Excel, Notepad, Export-Csv in Windows
    # PowerShell) ends its lines with CRLF and may start with a BOM; no cell keeps a stray `r,
    # and row numbers stay the file's.
    It 'reads a CSV saved with CRLF line ends and a BOM as Windows tools save it' {
        $path = Join-Path $TestDrive 'crlf.csv'
        $text = @(
            'upn,serial number,secret key,time interval,manufacturer,model,Dept'
            'alice@contoso.com,1000001,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,30,Token2,C202,IT'
            'bob@contoso.com,1000002,notbase32!!,30,Token2,C202,HR'
            'carol@contoso.com,1000003,JBSWY3DPEHPK3PXP,60,Token2,C202,Sales'
        ) -join "`r`n"
        [System.IO.File]::WriteAllText($path, $text + "`r`n", [System.Text.UTF8Encoding]::new($true))
        $errors = $null
        $tokens = @(Import-OathBulkToken -LiteralPath $path -ErrorVariable errors -ErrorAction SilentlyContinue)
        $tokens.Upn | Should -Be @('alice@contoso.com', 'carol@contoso.com')
        $tokens.Extra.Dept | Should -Be @('IT', 'Sales')
        $tokens[1].TimeInterval | Should -Be 60
        $errors.Count | Should -Be 1
        $errors[0].TargetObject.Line | Should -Be 3
        # Round trip through Export-Csv (CRLF on Windows, quoted cells) and back in as rows.
        $again = Join-Path $TestDrive 'again.csv'
        Import-Csv -LiteralPath $path | Export-Csv -LiteralPath $again -NoTypeInformation
        @(Import-OathBulkToken -LiteralPath $again -ErrorAction SilentlyContinue).Upn | Should -Be @('alice@contoso.com', 'carol@contoso.com')
    }

    # Runs everywhere: the module talks to the binary in UTF-8 whatever the host's encodings
    # (a Windows console is on an OEM code page, $OutputEncoding may be anything), both ways:
    # a file it reads, and rows piped without a file, which go to the binary's stdin.
    It 'passes non-ASCII text through the pipes in UTF-8 both ways' {
        $path = Join-Path $TestDrive 'utf8.csv'
        $upn = "zo$([char]0xEB).m$([char]0xFC)ller@contoso.com"
        $dept = "J$([char]0xFC)rgen $([char]0x03A9) $([char]0x65E5)$([char]0x672C) $([char]::ConvertFromUtf32(0x1F511))"
        @(
            'upn,serial number,secret key,time interval,manufacturer,model,Dept'
            "$upn,1000001,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,30,Token2,C202,$dept"
        ) | Set-Content -LiteralPath $path -Encoding utf8NoBOM
        $saved = $global:OutputEncoding
        try {
            $global:OutputEncoding = [System.Text.Encoding]::ASCII
            $fromFile = Import-OathBulkToken -LiteralPath $path
            $fromPipe = Import-Csv -LiteralPath $path | Import-OathBulkToken
        } finally { $global:OutputEncoding = $saved }
        foreach ($t in $fromFile, $fromPipe) {
            $t.Upn | Should -BeExactly $upn
            $t.Extra.Dept | Should -BeExactly $dept
        }
    }
}
