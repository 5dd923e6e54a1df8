# Issue 11: PowerShell habits that must never hurt (empty pipelines, Import-Csv rows,
# -ErrorAction Stop, short tokens, -LiteralPath, ...). Every test drives the release binary and
# the bundled simulator on 127.0.0.1.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest -Token 'habits-test-token-71c2'
    # Seeds of New-SmallCsv / New-LifecycleCsv / New-SimCsv: none may ever be printed.
    $script:Seeds = @('JBSWY3DPEHPK3PXP', 'notbase32', 'GEZDGNBVGY3TQOJQ', 'MFRGGZDFMZTWQ2LK', 'KRUGKIDROVUWG2ZA', 'ONSWG4TFOQQGC3TE')
}

Describe 'An empty, filtered-to-nothing or unbindable pipeline never widens' {
    BeforeAll {
        $script:Seed = New-LifecycleCsv $TestDrive
        $script:Sim = Start-OathBulkSimulator $Seed -AccessToken $Token
        $script:Before = Get-SimState $Sim $Token
        $script:Tenant = @{ GraphUrl = $Sim.GraphUrl; AccessToken = $Token }
    }
    AfterAll { $Sim | Stop-OathBulkSimulator }

    It '<Name> does nothing for @(), $null, a Where-Object matching nothing and objects that cannot bind' -ForEach @(
        @{ Name = 'Get-OathBulkTenantToken'; Tenant = $true; Extra = @{} }
        @{ Name = 'Disable-OathBulkToken'; Tenant = $true; Extra = @{ Force = $true } }
        @{ Name = 'Remove-OathBulkTokenAssignment'; Tenant = $true; Extra = @{ Force = $true } }
        @{ Name = 'Remove-OathBulkTenantToken'; Tenant = $true; Extra = @{ Force = $true } }
        @{ Name = 'Enable-OathBulkToken'; Tenant = $true; Extra = @{ Force = $true } }
        @{ Name = 'New-OathBulkTenantToken'; Tenant = $true; Extra = @{ Force = $true; Assign = $true } }
        @{ Name = 'Undo-OathBulkRun'; Tenant = $true; Extra = @{ Force = $true } }
        @{ Name = 'Get-OathBulkUser'; Tenant = $true; Extra = @{ WithTenant = $true } }
        @{ Name = 'Import-OathBulkToken'; Tenant = $false; Extra = @{} }
        @{ Name = 'Get-OathBulkCode'; Tenant = $false; Extra = @{} }
        @{ Name = 'Test-OathBulkCsv'; Tenant = $false; Extra = @{} }
    ) {
        $p = @{} + $Extra
        if ($Tenant) { $p += $script:Tenant }
        $feeds = @(
            @{ What = 'empty'; Feed = { @() } }
            @{ What = 'null'; Feed = { $null } }
            @{ What = 'filtered'; Feed = { Import-OathBulkToken $Seed | Where-Object Upn -eq 'nobody@contoso.com' } }
            @{ What = 'unbindable'; Feed = { Get-Date } }
        )
        foreach ($f in $feeds) {
            $out = & $f.Feed | & $Name @p -WarningVariable w -WarningAction SilentlyContinue -ErrorVariable e -ErrorAction SilentlyContinue
            @($out).Count | Should -Be 0 -Because "$($f.What) input into $Name"
            ($w -join "`n") | Should -Match 'nothing' -Because "$($f.What) input into $Name says why nothing ran"
            if ($f.What -eq 'unbindable') {
                $e[0].FullyQualifiedErrorId | Should -Be "OathBulk.UnsupportedInput,$Name"
                $e[0].Exception.Message | Should -Match 'System\.DateTime'
                $e[0].CategoryInfo.Category | Should -Be 'InvalidType'
            }
        }
        Get-SimState $Sim $Token | Should -Be $Before
    }

    It 'Import | Where-Object (nothing) | Get-OathBulkTenantToken | Remove-OathBulkTenantToken -Force deletes nothing' {
        $r = Import-OathBulkToken $Seed | Where-Object Upn -eq 'nobody@contoso.com' |
            Get-OathBulkTenantToken @Tenant -WarningAction SilentlyContinue |
            Remove-OathBulkTenantToken @Tenant -Force -WarningAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        Get-SimState $Sim $Token | Should -Be $Before
        # The inventory is still all there: the listing above was not "everything".
        @(Get-OathBulkTenantToken @Tenant).Count | Should -Be 4
    }
}

Describe 'Import-Csv rows piped in' {
    It 'bind by the vendor headers; no seed in any stream, in $Error or in a transcript' {
        $csv = New-SmallCsv $TestDrive
        $transcript = Join-Path $TestDrive 'transcript.txt'
        $Error.Clear()
        $null = Start-Transcript -LiteralPath $transcript
        try {
            $all = Import-Csv $csv | Enable-OathBulkToken -Simulate -WhatIf -Verbose *>&1
            # An object with a seed but nothing to bind by: refused by its type, not its text.
            $all += [pscustomobject]@{ 'secret key' = 'JBSWY3DPEHPK3PXP'; Dept = 'IT' } | Enable-OathBulkToken -Simulate -WhatIf *>&1
            # Rows into a file that does not exist: the error names the file, not a row.
            $all += Import-Csv $csv | Enable-OathBulkToken -LiteralPath (Join-Path $TestDrive 'missing.csv') -WhatIf *>&1
            $all | Out-Host
        } finally { $null = Stop-Transcript }

        $activations = $all | Where-Object { $_ -is [psobject] -and $_.PSObject.TypeNames[0] -eq 'OathBulk.Activation' }
        ($activations.Serial | Sort-Object -Unique) | Should -Be @('1000001', '1000002')
        ($activations | Where-Object Line -in 2, 3).Status | Should -Be @('would_activate', 'would_activate')
        $errors = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $errors.FullyQualifiedErrorId | Should -Contain 'OathBulk.UnsupportedInput,Enable-OathBulkToken'
        $errors.FullyQualifiedErrorId | Should -Contain 'OathBulk.PathNotFound,Enable-OathBulkToken'

        $text = ($all | Out-String -Width 1000) +
            ($Error | ForEach-Object { ($_ | Out-String -Width 1000) + $_.Exception.Message + ($_.TargetObject | Out-String -Width 1000) } | Out-String) +
            (Get-Content -LiteralPath $transcript -Raw)
        foreach ($s in $Seeds) { $text | Should -Not -Match ([regex]::Escape($s)) }
    }

    It 'rows without a file select rows of -Path by serial' {
        $csv = New-SmallCsv $TestDrive
        $r = Import-Csv $csv | Where-Object Dept -eq 'HR' | Get-OathBulkCode -Path $csv -ErrorAction SilentlyContinue
        $r.Serial | Should -Be @('1000002')
    }
}

Describe 'Rows piped from one file cmdlet into another' {
    It 'give one object per piped row (20, not 400)' {
        $csv = New-BigCsv (Join-Path $TestDrive 'twenty.csv') 20
        @(Import-OathBulkToken $csv | Get-OathBulkCode).Count | Should -Be 20
        @(Import-OathBulkToken $csv | Import-OathBulkToken).Count | Should -Be 20
        @(Import-OathBulkToken $csv | Select-Object -First 3 | Get-OathBulkCode).Line | Should -Be @(2, 3, 4)
    }
}

Describe 'Paths: -LiteralPath, wildcards, several files, Get-ChildItem' {
    BeforeAll {
        $script:Dir = Join-Path $TestDrive 'paths'
        $null = New-Item -ItemType Directory -Path $Dir
        $src = New-SmallCsv $TestDrive
        Copy-Item -LiteralPath $src -Destination (Join-Path $Dir 'tokens[1].csv')
        Copy-Item -LiteralPath $src -Destination (Join-Path $Dir 'a.csv')
        Copy-Item -LiteralPath $src -Destination (Join-Path $Dir 'b.csv')
    }

    It '-LiteralPath reads a name with brackets' {
        $r = Import-OathBulkToken -LiteralPath (Join-Path $Dir 'tokens[1].csv') -ErrorAction SilentlyContinue
        $r.Serial | Should -Be @('1000001', '1000002', '1000001')
        { Import-OathBulkToken -Path (Join-Path $Dir 'tokens[1].csv') -ErrorAction Stop } | Should -Throw -ErrorId 'OathBulk.PathNotFound,Import-OathBulkToken'
    }

    It '-Path takes several files and wildcards' {
        @(Import-OathBulkToken -Path (Join-Path $Dir 'a.csv'), (Join-Path $Dir 'b.csv') -ErrorAction SilentlyContinue).Count | Should -Be 6
        @(Import-OathBulkToken -Path (Join-Path $Dir '?.csv') -ErrorAction SilentlyContinue).Count | Should -Be 6
    }

    It 'Get-ChildItem output binds (FullName), brackets included' {
        @(Get-ChildItem -LiteralPath $Dir | Import-OathBulkToken -ErrorAction SilentlyContinue).Count | Should -Be 9
        @(Get-Item -LiteralPath (Join-Path $Dir 'tokens[1].csv') | Get-OathBulkCode -ErrorAction SilentlyContinue).Count | Should -Be 3
    }
}

Describe 'A one-character -AccessToken' {
    BeforeAll {
        $script:T = ConvertTo-SecureString 't' -AsPlainText -Force
        $script:Seed = New-SimCsv $TestDrive 'short.csv'
        $script:Sim = Start-OathBulkSimulator $Seed -AccessToken $T
    }
    AfterAll { $Sim | Stop-OathBulkSimulator }

    It 'does not break the progress JSON, and is still redacted as a word' {
        $r = Enable-OathBulkToken $Seed -GraphUrl $Sim.GraphUrl -AccessToken $T -Force -Verbose -ErrorVariable e -ErrorAction SilentlyContinue 4>&1
        $act = $r | Where-Object { $_.PSObject.TypeNames[0] -eq 'OathBulk.Activation' }
        ($act | Where-Object Serial -eq '2000001').Status | Should -Be 'activated'
        # Only row outcomes are errors; nothing about unparseable or mangled records.
        $e.FullyQualifiedErrorId | ForEach-Object { $_ | Should -Not -Match 'PropertyNotFound|OutputUnreadable|Diagnostic' }
        $verbose = ($r | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) -join "`n"
        $verbose | Should -Match 'OATHBULK_TOKEN=\*\*\*'
        # Words that contain the letter t are left alone ("oathbulk", "activate").
        $verbose | Should -Match 'oathbulk'
        @(Get-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -AccessToken $T).Count | Should -Be 5
    }

    It 'redacts the token where it stands as a word, and only there' {
        InModuleScope OathBulk {
            $s = [OathBulk.Native.NativeSession]::new('/bin/true', [string[]]@(), @{}, [string[]]@('t'), [string[]]@(), $null, $null, $false, 4, 4)
            try {
                $s.Redact('token t rejected: "t"; type=t') | Should -Be 'token *** rejected: "***"; type=***'
                # A longer run of token characters is another word: left alone.
                $s.Redact('tt at t, ok') | Should -Be 'tt at ***, ok'
            } finally { $s.Dispose() }
        }
    }
}

Describe '-ErrorAction Stop, -FailAtEnd and -Resume' {
    BeforeAll {
        $script:Seed = Join-Path $TestDrive 'stop.csv'
        # Enough rows after the conflict (row 4) that the stop always lands before the end: at
        # -Parallel 1 and 50 ms a request the rows left take ~10 s, far more than pwsh needs to
        # react on a loaded machine (40 rows, ~1.8 s of slack, was not always enough in CI).
        $script:Rows = 200
        $lines = @('upn,serial number,secret key,time interval,manufacturer,model,sim_state')
        for ($i = 1; $i -le $Rows; $i++) {
            $state = if ($i -eq 4) { 'conflict' } else { 'assigned' }
            # 60-second tokens: a run that starts in the last moments of a step waits for the
            # next one, and rows that waited together start in no fixed order; with 60 s that
            # happens half as often as with 30 s.
            $lines += "user$i@contoso.com,$(5000000 + $i),JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,60,Token2,C202,$state"
        }
        $lines | Set-Content -LiteralPath $Seed -Encoding utf8NoBOM
    }

    It 'stops at the first conflict; -Resume then finishes every row right' {
        $sim = Start-OathBulkSimulator $Seed -AccessToken $Token -LatencyMs 50
        try {
            $journal = Join-Path $TestDrive "stop-$([guid]::NewGuid().ToString('n')).jsonl"
            { Enable-OathBulkToken $Seed -GraphUrl $sim.GraphUrl -AccessToken $Token -Parallel 1 -Journal $journal -Force -ErrorAction Stop } |
                Should -Throw -ErrorId 'OathBulk.AssignedToOtherUser,Enable-OathBulkToken'
            $state = Get-SimState $sim $Token
            $firstJournal = Get-Content -LiteralPath $journal
            # Stopped at the conflict: the tenant holds no more activations than the journal
            # settled before the conflict's record, plus what went out while pwsh turned the
            # record into a terminating error and stopped the binary (at most ~2 s of rows at
            # 50 ms each on a loaded machine). Rows usually start in file order; after a shared
            # wait for a TOTP step they start in any order, so this counts from the conflict's
            # place in the journal, not from row 4.
            $results = @($firstJournal | ForEach-Object { $_ | ConvertFrom-Json } |
                Where-Object { $_.PSObject.Properties['serial'] -and $_.error_code -ne 'in_flight' })
            $conflictAt = [array]::FindIndex($results, [Predicate[object]] { param($r) $r.serial -eq '5000004' })
            $conflictAt | Should -BeGreaterOrEqual 0 -Because 'the conflict was journaled'
            $before = @($results[0..$conflictAt] | Where-Object status -eq 'activated').Count
            $activated = @($state | Where-Object { $_ -like '*=activated' }).Count
            $activated | Should -BeLessOrEqual ($before + 40)
            $second = Enable-OathBulkToken $Seed -GraphUrl $sim.GraphUrl -AccessToken $Token -Journal $journal -Resume -Force -ErrorAction SilentlyContinue -ErrorVariable e
            $final = Get-SimState $sim $Token
            foreach ($i in 1..$Rows) {
                $want = if ($i -eq 4) { 'assigned' } else { 'activated' }
                $final | Should -Contain "$(5000000 + $i)=$want"
            }
            @($second | Where-Object Status -eq 'conflict').Serial | Should -Be @('5000004')
            # The first run's journal never ends a row as not_attempted when its write reached
            # the tenant (an in_flight intent line is followed by the row's result).
            $last = @{}
            foreach ($r in $firstJournal | ForEach-Object { $_ | ConvertFrom-Json }) { if ($r.PSObject.Properties['serial']) { $last[$r.serial] = $r.status } }
            foreach ($line in $state | Where-Object { $_ -like '*=activated' }) {
                $serial = ($line -split '=')[0]
                $last[$serial] | Should -Be 'activated' -Because "$serial reached the tenant in the stopped run"
            }
        } finally { $sim | Stop-OathBulkSimulator }
    }

    It '-FailAtEnd: every row is tried, then one terminating error counts the failures' {
        $sim = Start-OathBulkSimulator $Seed -AccessToken $Token
        try {
            $out = [System.Collections.Generic.List[object]]::new()
            { Enable-OathBulkToken $Seed -GraphUrl $sim.GraphUrl -AccessToken $Token -Force -FailAtEnd -ErrorAction Stop | ForEach-Object { $out.Add($_) } } |
                Should -Throw -ErrorId 'OathBulk.RowsFailed,Enable-OathBulkToken' -ExpectedMessage '*1 row(s) did not succeed (conflict=1)*'
            $out.Count | Should -Be $Rows
            @(Get-SimState $sim $Token | Where-Object { $_ -like '*=activated' }).Count | Should -Be ($Rows - 1)
        } finally { $sim | Stop-OathBulkSimulator }
    }
}

Describe 'Error records, exit codes and the binary' {
    It 'a missing binary is an error record naming every place looked' {
        $mod = Join-Path $TestDrive 'copy/OathBulk'
        $null = New-Item -ItemType Directory -Path (Split-Path $mod)
        Copy-Item -Recurse -LiteralPath (Split-Path $ModuleManifest) -Destination $mod
        $pwsh = Join-Path $PSHOME 'pwsh'
        $script = "`$env:PATH = '/nonexistent'; Remove-Item Env:OATHBULK_PATH -ErrorAction Ignore; Import-Module '$mod/OathBulk.psd1'; " +
            "try { Import-OathBulkToken '$ModuleManifest' -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId; `$_.CategoryInfo.Category; `$_.TargetObject; `$_.Exception.Message }"
        $out = & $pwsh -NoProfile -NonInteractive -Command $script
        $out[0] | Should -Be 'OathBulk.BinaryNotFound,Import-OathBulkToken'
        $out[1] | Should -Be 'ObjectNotFound'
        $out[2] | Should -Be 'oathbulk'
        # Either separator: Windows's full paths use backslashes.
        $out[3] | Should -Match ("bin[/\\]$(if ($IsMacOS) { 'osx' } elseif ($IsWindows) { 'win' } else { 'linux' })-")
        $out[3] | Should -Match 'target[/\\]release[/\\]oathbulk'
        $out[3] | Should -Match 'PATH'
    }

    It 'the module prefers bin/<rid> beside it' {
        $mod = Join-Path $TestDrive 'rid/OathBulk'
        $null = New-Item -ItemType Directory -Path (Split-Path $mod)
        Copy-Item -Recurse -LiteralPath (Split-Path $ModuleManifest) -Destination $mod
        $rid = InModuleScope OathBulk { Get-OathBulkRid }
        $bin = Join-Path $mod "bin/$rid"
        $null = New-Item -ItemType Directory -Path $bin
        Copy-Item -LiteralPath $ReleaseBinary -Destination $bin
        $pwsh = Join-Path $PSHOME 'pwsh'
        $out = & $pwsh -NoProfile -NonInteractive -Command "`$env:OATHBULK_PATH = '$ReleaseBinary'; Import-Module '$mod/OathBulk.psd1'; & (Get-Module OathBulk) { (Find-OathBulkBinary).Path }"
        $exe = if ($IsWindows) { 'oathbulk.exe' } else { 'oathbulk' }
        [System.IO.Path]::GetFullPath($out) | Should -Be ([System.IO.Path]::GetFullPath((Join-Path $bin $exe)))
    }

    It 'a binary of another version is a clear error at import' {
        # A script that answers --version: a .cmd on Windows (no #! there), sh elsewhere.
        if ($IsWindows) {
            $fake = Join-Path $TestDrive 'fake-oathbulk.cmd'
            '@echo oathbulk 9.9.9' | Set-Content -LiteralPath $fake
        } else {
            $fake = Join-Path $TestDrive 'fake-oathbulk'
            "#!/bin/sh`necho 'oathbulk 9.9.9'" | Set-Content -LiteralPath $fake
            chmod +x $fake
        }
        $pwsh = Join-Path $PSHOME 'pwsh'
        $out = & $pwsh -NoProfile -NonInteractive -Command "`$env:OATHBULK_PATH = '$fake'; try { Import-Module '$ModuleManifest' -ErrorAction Stop; 'imported' } catch { `$_.Exception.Message }"
        ($out -join ' ') | Should -Match 'version 9\.9\.9, but the OathBulk module is \d+\.\d+\.\d+'
    }

    It 'the module has no --help probes or capability checks left' {
        $hits = Get-ChildItem (Split-Path $ModuleManifest) -Recurse -Include *.ps1, *.psm1 | Select-String -Pattern "'--help'|Get-OathBulkCapability|Test-OathBulkSubcommand"
        $hits | Should -BeNullOrEmpty
    }

    It '$LASTEXITCODE is the binary''s exit code of the last run' {
        $csv = New-SmallCsv $TestDrive
        $global:LASTEXITCODE = 42
        $null = Import-OathBulkToken $csv -ErrorAction SilentlyContinue
        $LASTEXITCODE | Should -Be 1
        $good = New-BigCsv (Join-Path $TestDrive 'good.csv') 3
        $null = Import-OathBulkToken $good
        $LASTEXITCODE | Should -Be 0
    }

    It 'never names a private helper or the binary path in an error' {
        $csv = New-SmallCsv $TestDrive
        $e = $null
        try { Import-OathBulkToken $csv -Where 'this is not rhai (' -ErrorAction Stop } catch { $e = $_ }
        $e.FullyQualifiedErrorId | Should -Be 'OathBulk.UsageError,Import-OathBulkToken'
        $e.TargetObject | Should -Be $csv
        ($e | Out-String) | Should -Not -Match ([regex]::Escape($ReleaseBinary))
    }
}

Describe 'Completion, validation and housekeeping' {
    It '-Status takes only the real statuses' {
        { Get-OathBulkTenantToken -Status bogus -Simulate } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Get-OathBulkTenantToken'
        (Get-Command Get-OathBulkTenantToken).Parameters['Status'].Attributes.ValidValues | Should -Be @('available', 'assigned', 'activated', 'failedActivation')
    }

    It 'completes -Serial and -Upn from the CSV given with -Path or -LiteralPath' {
        $csv = New-SmallCsv $TestDrive
        $r = TabExpansion2 -inputScript "Enable-OathBulkToken -LiteralPath '$csv' -Serial 100000" -cursorColumn ("Enable-OathBulkToken -LiteralPath '$csv' -Serial 100000").Length
        $r.CompletionMatches.CompletionText | Should -Be @('1000001', '1000002')
        $r = TabExpansion2 -inputScript "Enable-OathBulkToken -Path '$csv' -Upn b" -cursorColumn ("Enable-OathBulkToken -Path '$csv' -Upn b").Length
        $r.CompletionMatches.CompletionText | Should -Be @('bob@contoso.com')
    }

    It '-Hash takes hmacsha256 as the vendor file and Graph write it' {
        $csv = New-SmallCsv $TestDrive
        $t = Import-OathBulkToken $csv -Hash hmacsha256 -ErrorAction SilentlyContinue | Select-Object -First 1
        $t.Hash | Should -Be 'sha256'
    }

    It 'the compiled-reader cache is a per-user folder created 0700' -Skip:$IsWindows {
        $dir = InModuleScope OathBulk { Get-OathBulkUserDirectory }
        # A folder left 0755 by an older module is tightened.
        [System.IO.File]::SetUnixFileMode($dir, [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute, GroupRead, GroupExecute, OtherRead, OtherExecute')
        $dir = InModuleScope OathBulk { Get-OathBulkUserDirectory }
        $dir | Should -Not -Match '^/tmp'
        ((Get-Item -LiteralPath $dir).UnixFileMode.value__ -band 0x3F) | Should -Be 0
    }

    It 'the simulator''s token file is removed when the engine exits, without Stop-OathBulkSimulator' {
        $seed = New-SimCsv $TestDrive 'exit.csv'
        $pwsh = Join-Path $PSHOME 'pwsh'
        $out = & $pwsh -NoProfile -NonInteractive -Command "`$env:OATHBULK_PATH = '$ReleaseBinary'; Import-Module '$ModuleManifest'; `$s = Start-OathBulkSimulator '$seed' -AccessToken (ConvertTo-SecureString x -AsPlainText -Force); `$s._TokenFile; [System.IO.File]::Exists(`$s._TokenFile)"
        $out[1] | Should -Be 'True'
        Test-Path -LiteralPath $out[0] | Should -BeFalse
    }
}

Describe 'Ctrl+C in a non-interactive host' {
    It 'gives at most one error for the rows an interrupt left, not one each' -Skip:($IsWindows -or -not (Get-Command setsid -ErrorAction Ignore)) {
        $seed = New-AssignedCsv (Join-Path $TestDrive 'ctrlc.csv') 300 6000000
        # The simulator runs here, outside the interrupted process group.
        $sim = Start-OathBulkSimulator $seed -AccessToken $Token -LatencyMs 50
        try {
            $journal = Join-Path $TestDrive 'ctrlc.jsonl'
            $child = Join-Path $TestDrive 'ctrlc.ps1'
            @"
`$env:OATHBULK_PATH = '$ReleaseBinary'
Import-Module '$ModuleManifest'
Enable-OathBulkToken '$seed' -GraphUrl '$($sim.GraphUrl)' -AccessToken (ConvertTo-SecureString 'habits-test-token-71c2' -AsPlainText -Force) -Parallel 1 -Journal '$journal' -Force | Out-Null
"@ | Set-Content -LiteralPath $child
            $psi = [System.Diagnostics.ProcessStartInfo]::new('setsid')
            foreach ($a in '-w', (Join-Path $PSHOME 'pwsh'), '-NonInteractive', '-NoProfile', '-File', $child) { $psi.ArgumentList.Add($a) }
            $psi.RedirectStandardOutput = $true
            $psi.RedirectStandardError = $true
            $psi.UseShellExecute = $false
            $p = [System.Diagnostics.Process]::Start($psi)
            $stdout = $p.StandardOutput.ReadToEndAsync()
            $stderr = $p.StandardError.ReadToEndAsync()
            $deadline = [datetime]::UtcNow.AddSeconds(120)
            # The binary locks its journal (flock): count its lines with wc, not .NET.
            $journaled = { if (Test-Path -LiteralPath $journal) { [int]((& wc -l $journal) -split ' ')[0] } else { 0 } }
            while ([datetime]::UtcNow -lt $deadline -and (& $journaled) -lt 10) { Start-Sleep -Milliseconds 100 }
            # Ctrl+C on a terminal: SIGINT to the whole foreground process group (pwsh and the binary).
            & kill -INT -- "-$($p.Id)"
            $p.WaitForExit(60000) | Should -BeTrue
            $text = $stdout.Result + $stderr.Result
            $records = @([regex]::Matches($text, 'Enable-OathBulkToken:')).Count
            $records | Should -BeLessOrEqual 2 -Because "one interrupt is not one error per row:`n$text"
            @([regex]::Matches($text, 'not attempted')).Count | Should -BeLessOrEqual 1
            # The run really was cut short.
            @(Get-SimState $sim $Token | Where-Object { $_ -like '*=activated' }).Count | Should -BeLessThan 300
        } finally { $sim | Stop-OathBulkSimulator }
    }
}

Describe 'Help' {
    It 'has an about_OathBulk topic that tells the three kinds of token apart' {
        $topic = Join-Path (Split-Path $ModuleManifest) 'en-US/about_OathBulk.help.txt'
        $text = Get-Content -LiteralPath $topic -Raw
        $text | Should -Match 'TOPIC\s+about_OathBulk'
        $text | Should -Match 'CSV rows'
        $text | Should -Match 'Tenant tokens'
        $text | Should -Match 'Bearer tokens'
        (Test-ModuleManifest $ModuleManifest).FileList | Should -Contain $topic
    }
}

Describe 'Objects that export cleanly' {
    It 'Export-Csv gives flat columns: no Type, no @{...}, times as [datetime]' {
        $csv = New-SmallCsv $TestDrive
        $tokens = Import-OathBulkToken $csv -ErrorAction SilentlyContinue | ConvertTo-Csv
        $tokens[0] | Should -Not -Match '"Type"|"Extra"|"Path"'
        ($tokens -join "`n") | Should -Not -Match '@\{'
        $act = Enable-OathBulkToken $csv -Simulate -WhatIf -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $act[0].Time | Should -BeOfType [datetime]
        $act[0].Time.Kind | Should -Be 'Utc'
        $rows = $act | ConvertTo-Csv | ConvertFrom-Csv
        $rows[0].PSObject.Properties.Name | Should -Not -Contain 'Type'
        [datetime]::Parse($rows[0].Time) | Should -BeOfType [datetime]
        # The other columns stay reachable.
        (Import-OathBulkToken $csv -ErrorAction SilentlyContinue | Select-Object -First 1).Extra.Dept | Should -Be 'IT'
    }
}

Describe 'An interrupted binary' {
    It 'reports the rows it did not attempt as one error with the count and the -Resume hint' -Skip:$IsWindows {
        $seed = New-AssignedCsv (Join-Path $TestDrive 'interrupt.csv') 200 7000000
        $sim = Start-OathBulkSimulator $seed -AccessToken $Token -LatencyMs 50
        $journal = Join-Path $TestDrive 'interrupt.jsonl'
        # Ctrl+C reaching the binary alone: SIGINT once it has journaled a few rows.
        $job = Start-ThreadJob -ArgumentList $PID, $journal -ScriptBlock {
            param($parent, $journal)
            $deadline = [datetime]::UtcNow.AddSeconds(120)
            while ([datetime]::UtcNow -lt $deadline) {
                $n = if (Test-Path -LiteralPath $journal) { [int]((& wc -l $journal) -split ' ')[0] } else { 0 }
                $child = Get-Process -Name oathbulk -ErrorAction Ignore | Where-Object { $_.Parent -and $_.Parent.Id -eq $parent -and $_.CommandLine -match ' activate ' }
                if ($child -and $n -ge 10) { & kill -INT $child.Id; return 'sent' }
                Start-Sleep -Milliseconds 100
            }
            'timeout'
        }
        try {
            $errors = $null
            $thrown = $null
            $out = [System.Collections.Generic.List[object]]::new()
            try {
                Enable-OathBulkToken $seed -GraphUrl $sim.GraphUrl -AccessToken $Token -Parallel 1 -Journal $journal -Force -ErrorVariable errors -ErrorAction SilentlyContinue |
                    ForEach-Object { $out.Add($_) }
            } catch { $thrown = $_ }
            $job | Wait-Job | Receive-Job | Should -Be 'sent'
            # Objects were written first: the interrupt is a non-terminating error, so they stay
            # with the caller; $LASTEXITCODE is the binary's 130.
            $thrown | Should -BeNullOrEmpty
            @($errors | Where-Object { $_.FullyQualifiedErrorId -eq 'OathBulk.Interrupted,Enable-OathBulkToken' }).Count | Should -Be 1
            $LASTEXITCODE | Should -Be 130
            $notAttempted = @($out | Where-Object Status -eq 'not_attempted')
            $notAttempted.Count | Should -BeGreaterThan 0
            $summary = @($errors | Where-Object { $_.FullyQualifiedErrorId -eq 'OathBulk.NotAttempted,Enable-OathBulkToken' })
            $summary.Count | Should -Be 1
            $summary[0].Exception.Message | Should -Match "^$($notAttempted.Count) row\(s\) were not attempted.*-Resume"
            @($errors | Where-Object { $_.FullyQualifiedErrorId -notlike 'OathBulk.Interrupted*' -and ($_.FullyQualifiedErrorId -like 'OathBulk.NotAttempted*' -or $_.CategoryInfo.Category -eq 'OperationStopped') }).Count | Should -Be 1
        } finally {
            $job | Remove-Job -Force
            $sim | Stop-OathBulkSimulator
        }
    }
}
