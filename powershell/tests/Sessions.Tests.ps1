# The module in the sessions admins really run (issue 32): scheduled (pwsh -NonInteractive),
# interrupted (Ctrl+C), rehearsed (a simulator kept across calls), signed in once. Each test
# runs the way the problem was found: a child pwsh where the session matters.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest -Token 'sessions-test-token-5b1e'
    $script:Pwsh = Join-Path $PSHOME 'pwsh'

    # Runs $Script in a child `pwsh -NonInteractive -Command` with the module imported; returns
    # @{ Exit; Output } (stdout and stderr together).
    function Invoke-ChildPwsh([string]$Script) {
        $prefix = "`$env:OATHBULK_PATH = '$ReleaseBinary'; Import-Module '$ModuleManifest' -ErrorAction Stop; "
        $out = & $Pwsh -NoProfile -NonInteractive -Command ($prefix + $Script) 2>&1 | Out-String
        @{ Exit = $LASTEXITCODE; Output = $out }
    }

    # A simulator seeded with New-LifecycleCsv: $Seed, $Sim and $At (its -GraphUrl/-AccessToken).
    function Start-LifecycleTenant([string]$Name) {
        $script:Seed = New-LifecycleCsv $TestDrive $Name
        $script:Sim = Start-OathBulkSimulator $Seed -AccessToken $Token
        $script:At = @{ GraphUrl = $Sim.GraphUrl; AccessToken = $Token }
    }
}

Describe 'A non-interactive run without -Force (a scheduled task)' {
    BeforeAll {
        $script:Seed = New-LifecycleCsv $TestDrive 'scheduled.csv'
        $script:UndoJournal = Join-Path $TestDrive 'to-undo.jsonl'
        # A journal for Undo-OathBulkRun to be asked about (made with -Force, in this session).
        $null = Enable-OathBulkToken $Seed -Serial 4000003 -Simulate -Journal $UndoJournal -Force -ErrorAction SilentlyContinue
    }

    # Enable-/New- are ConfirmImpact Medium (as Microsoft's): they ask only where
    # $ConfirmPreference is Medium, as an admin's profile may set it.
    It '<Call> fails with exit 1, as the public cmdlet, naming -Force and -Confirm:$false' -ForEach @(
        @{ Call = 'Enable-OathBulkToken'; Params = "'{seed}' -Simulate -Journal '{journal}'"; Pref = '$ConfirmPreference = ''Medium''; ' }
        @{ Call = 'New-OathBulkTenantToken'; Params = "'{seed}' -Simulate -Journal '{journal}'"; Pref = '$ConfirmPreference = ''Medium''; ' }
        @{ Call = 'Remove-OathBulkTenantToken'; Params = "-Serial 4000003 -Simulate -Journal '{journal}'"; Pref = '' }
        @{ Call = 'Remove-OathBulkTokenAssignment'; Params = "-Serial 4000003 -Simulate -Journal '{journal}'"; Pref = '' }
        @{ Call = 'Undo-OathBulkRun'; Params = "'{undo}' -Simulate"; Pref = '' }
    ) {
        $journal = Join-Path $TestDrive "$Call.jsonl"
        $a = $Params.Replace('{seed}', $Seed).Replace('{journal}', $journal).Replace('{undo}', $UndoJournal)
        # The cmdlet as a scheduled script runs it; pwsh's exit code is then its $?. The record
        # is the public cmdlet's, with a stable id and a recommended action.
        $r = Invoke-ChildPwsh "$Pref$Call $a; `$ok = `$?; 'FQID=' + `$Error[0].FullyQualifiedErrorId; 'ACTION=' + `$Error[0].ErrorDetails.RecommendedAction; if (-not `$ok) { exit 1 }"
        $r.Exit | Should -Be 1 -Because $r.Output
        $r.Output | Should -Match ([regex]::Escape('-Force'))
        $r.Output | Should -Match ([regex]::Escape('-Confirm:$false'))
        $r.Output | Should -Not -Match 'Test-OathBulkShouldProcess'
        $r.Output | Should -Match ([regex]::Escape("FQID=OathBulk.ConfirmationRequired,$Call"))
        $r.Output | Should -Match "ACTION=Run $Call again with -Force"
        Test-Path -LiteralPath $journal | Should -BeFalse -Because 'nothing ran'
    }

    It 'exactly as found: `pwsh -NonInteractive -Command <cmdlet>` exits 1, the error the public cmdlet''s' {
        $journal = Join-Path $TestDrive 'bare.jsonl'
        $r = Invoke-ChildPwsh "`$ErrorView = 'DetailedView'; Remove-OathBulkTenantToken -Serial 4000003 -Simulate -Journal '$journal'"
        $r.Exit | Should -Be 1 -Because $r.Output
        $r.Output | Should -Match ([regex]::Escape('FullyQualifiedErrorId : OathBulk.ConfirmationRequired,Remove-OathBulkTenantToken'))
        Test-Path -LiteralPath $journal | Should -BeFalse
    }

    It 'with -Force it runs (exit 0); -WhatIf needs no prompt; a Medium cmdlet runs at the default preference' {
        $journal = Join-Path $TestDrive 'forced.jsonl'
        $r = Invoke-ChildPwsh "`$ConfirmPreference = 'Medium'; Enable-OathBulkToken '$Seed' -Serial 4000003 -Simulate -Journal '$journal' -Force | Out-Null; Enable-OathBulkToken '$Seed' -Serial 4000003 -Simulate -WhatIf | Out-Null"
        $r.Exit | Should -Be 0 -Because $r.Output
        Test-Path -LiteralPath $journal | Should -BeTrue
        $journal = Join-Path $TestDrive 'medium.jsonl'
        $r = Invoke-ChildPwsh "Enable-OathBulkToken '$Seed' -Serial 4000003 -Simulate -Journal '$journal' | Out-Null"
        $r.Exit | Should -Be 0 -Because $r.Output
        Test-Path -LiteralPath $journal | Should -BeTrue
    }
}

Describe 'Undo-OathBulkRun on a lifecycle journal (deactivate, unassign, remove)' {
    BeforeAll { Start-LifecycleTenant 'undo-life.csv' }
    AfterAll { $Sim | Stop-OathBulkSimulator }

    It 'assigns an unassigned token back' {
        $journal = Join-Path $TestDrive 'unassign.jsonl'
        $null = Remove-OathBulkTokenAssignment -Serial 4000002 -Journal $journal -Force @At
        Get-SimState $Sim $Token | Should -Contain '4000002=available'
        $r = Undo-OathBulkRun $journal -Force @At
        ($r.Operation, $r.Status) | Should -Be @('assign', 'done')
        $LASTEXITCODE | Should -Be 0
        Get-SimState $Sim $Token | Should -Contain '4000002=assigned'
    }

    It 'refuses to reactivate without the seed (exit 1, an error naming -Path), then reactivates with -Path' {
        $journal = Join-Path $TestDrive 'deactivate.jsonl'
        $null = Disable-OathBulkToken -Serial 4000001 -Journal $journal -Force @At
        Get-SimState $Sim $Token | Should -Contain '4000001=assigned'
        $r = Undo-OathBulkRun $journal -Force @At -ErrorVariable e -ErrorAction SilentlyContinue
        $LASTEXITCODE | Should -Be 1
        $r.Status | Should -Be 'refused'
        $e[0].FullyQualifiedErrorId | Should -Be 'OathBulk.NeedsSeed,Undo-OathBulkRun'
        $e[0].Exception.Message | Should -Match -- '--csv|-Path'
        Get-SimState $Sim $Token | Should -Contain '4000001=assigned'

        $r = Undo-OathBulkRun $journal -Path $Seed -Force @At
        ($r.Operation, $r.Status) | Should -Be @('activate', 'done')
        Get-SimState $Sim $Token | Should -Contain '4000001=activated'
    }

    It 'refuses a removal loudly: not_reversible, exit 1' {
        $journal = Join-Path $TestDrive 'remove.jsonl'
        $null = Remove-OathBulkTenantToken -Serial 4000003 -Journal $journal -Force @At
        $r = Undo-OathBulkRun $journal -Force @At -ErrorVariable e -ErrorAction SilentlyContinue
        $LASTEXITCODE | Should -Be 1
        ($r.Operation, $r.Status) | Should -Be @('import', 'refused')
        $e[0].FullyQualifiedErrorId | Should -Be 'OathBulk.NotReversible,Undo-OathBulkRun'
        $e[0].Exception.Message | Should -Match 'New-OathBulkTenantToken'
    }

    It 'the help''s pipeline example leaves out the undo''s own journals' {
        $dir = Join-Path $TestDrive 'journals'
        $null = New-Item -ItemType Directory $dir
        $journal = Join-Path $dir 'run.jsonl'
        $null = Remove-OathBulkTokenAssignment -Serial 4000002 -Journal $journal -Force @At
        $null = Undo-OathBulkRun $journal -Force @At
        Test-Path "$journal.undo.jsonl" | Should -BeTrue
        $example = (Get-Help Undo-OathBulkRun).Examples.Example | Where-Object { $_.Code -match 'Get-ChildItem' }
        $example.Code | Should -Match ([regex]::Escape('-Exclude *.undo.jsonl'))
        $r = Get-ChildItem (Join-Path $dir '*.jsonl') -Exclude *.undo.jsonl | Undo-OathBulkRun -WhatIf -PassThruSummary @At -ErrorVariable e
        $e.Count | Should -Be 0
        @($r | Where-Object { $_.PSObject.TypeNames[0] -eq 'OathBulk.Summary' }).Count | Should -Be 1 -Because 'one journal, the run''s'
        # Given the undo's own journal, the binary refuses it, saying why.
        { Undo-OathBulkRun "$journal.undo.jsonl" -WhatIf @At -ErrorAction Stop } | Should -Throw -ExpectedMessage "*undo's own journal*"
    }
}

# Linux: setsid (util-linux) starts the console session here and the module's simulators.
Describe 'Ctrl+C during a cmdlet' -Skip:(-not $IsLinux) {
    It 'leaves the session''s simulator running, ends with the -Resume hint and $LASTEXITCODE 130' {
        $seed = New-ManyTokensCsv $TestDrive 300 'assigned'
        $journal = Join-Path $TestDrive 'ctrlc.jsonl'
        $pidFile = Join-Path $TestDrive 'sim.pid'
        $setsid = (Get-Command setsid -CommandType Application -ErrorAction Stop | Select-Object -First 1).Source
        # A console session: commands read one at a time from stdin (pwsh -Command -), the
        # child in a process group of its own, so the interrupt goes to its whole foreground
        # group, as a terminal's Ctrl+C does (pwsh, the running binary, and anything else that
        # did not leave the group).
        $psi = [System.Diagnostics.ProcessStartInfo]::new($setsid)
        foreach ($a in @($Pwsh, '-NoProfile', '-NoLogo', '-Command', '-')) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardInput = $true
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.Environment['OATHBULK_PATH'] = $ReleaseBinary
        $child = [System.Diagnostics.Process]::Start($psi)
        $outTask = $child.StandardOutput.ReadToEndAsync()
        $errTask = $child.StandardError.ReadToEndAsync()
        try {
            $child.StandardInput.WriteLine("Import-Module '$ModuleManifest'; `$sim = Start-OathBulkSimulator '$seed' -LatencyMs 40; `$sim.ProcessId | Set-Content '$pidFile'")
            $child.StandardInput.WriteLine("Enable-OathBulkToken '$seed' -Parallel 1 -Journal '$journal' -Force | Out-Null")
            $child.StandardInput.Flush()
            # The binary holds the journal's lock while it runs: count its lines with wc.
            $lines = { if (Test-Path $journal) { [int]((& wc -l $journal) -split ' ')[0] } else { 0 } }
            $deadline = [datetime]::UtcNow.AddSeconds(90)
            while ([datetime]::UtcNow -lt $deadline -and (& $lines) -lt 10) { Start-Sleep -Milliseconds 100 }
            (& $lines) | Should -BeGreaterOrEqual 10 -Because 'the run got going'
            & kill -s INT -- "-$($child.Id)"
            Start-Sleep -Seconds 2
            $simPid = [int](Get-Content $pidFile)
            Get-Process -Id $simPid -ErrorAction Ignore | Should -Not -BeNullOrEmpty -Because 'the simulator is the session''s, not the interrupted cmdlet''s'
            $child.StandardInput.WriteLine("'EXIT=' + `$LASTEXITCODE; 'SIM=' + `$sim.HasExited; 'TOKENS=' + @(Get-OathBulkTenantToken -Status activated).Count")
            $child.StandardInput.Close()
            $child.WaitForExit(60000) | Should -BeTrue
            $out = $outTask.Result + $errTask.Result
            $out | Should -Match 'EXIT=130'
            $out | Should -Match 'SIM=False'
            $out | Should -Match 'TOKENS=[1-9]' -Because 'the rehearsal''s state is still there for the next call'
            $out | Should -Not -Match 'TOKENS=300' -Because 'the interrupt stopped the run part way'
            $out | Should -Match ([regex]::Escape("-Journal $journal -Resume"))
            $out | Should -Not -Match 'Connection refused'
        } finally {
            if (-not $child.HasExited) { $child.Kill($true) }
        }
    }
}

Describe 'Messages in cmdlet terms' {
    It 'no credentials: names Connect-OathBulk and -AccessToken, not the binary''s flags' {
        $err = $null
        try { Get-OathBulkTenantToken -GraphUrl 'http://127.0.0.1:9' -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'OathBulk.UsageError,Get-OathBulkTenantToken'
        $err.Exception.Message | Should -Match 'Connect-OathBulk'
        $err.Exception.Message | Should -Match -- '-AccessToken'
        $err.Exception.Message | Should -Not -Match -- '--token-file|--tenant|--client-id|--token-stdin'
        $err.ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
    }

    It 'an expired token mid-run: -Resume and Connect-OathBulk, and the objects written stay' {
        $seed = New-ManyTokensCsv $TestDrive 40 'assigned'
        $sim = Start-OathBulkSimulator $seed -AccessToken $Token -ExpireTokenAfter 30
        try {
            $journal = Join-Path $TestDrive 'expired.jsonl'
            $r = Enable-OathBulkToken $seed -GraphUrl $sim.GraphUrl -AccessToken $Token -Parallel 1 -Journal $journal -Force -ErrorVariable e -ErrorAction SilentlyContinue
            @($r).Count | Should -BeGreaterThan 0 -Because 'a 401 after output is non-terminating: $r keeps what was written'
            $auth = @($e | Where-Object { $_.FullyQualifiedErrorId -eq 'OathBulk.AuthRejected,Enable-OathBulkToken' })
            $auth.Count | Should -Be 1
            $auth[0].Exception.Message | Should -Match -- '-Resume'
            $auth[0].Exception.Message | Should -Not -Match -- '--resume|--tenant'
            $auth[0].ErrorDetails.RecommendedAction | Should -Match 'Connect-OathBulk'
            $auth[0].ErrorDetails.RecommendedAction | Should -Match ([regex]::Escape("-Journal $journal -Resume"))
            # The count of rows left goes into that error, not a separate -Resume hint first.
            @($e | Where-Object { $_.FullyQualifiedErrorId -like 'OathBulk.NotAttempted*' }).Count | Should -Be 0
            $LASTEXITCODE | Should -Be 3
        } finally { $sim | Stop-OathBulkSimulator }
    }

    It '-Verbose names the real credential source: ./AuthKey.txt read by the binary' {
        $seed = New-SimCsv $TestDrive 'authkey.csv'
        $sim = Start-OathBulkSimulator $seed -AccessToken $Token
        $dir = Join-Path $TestDrive 'authkey'
        $null = New-Item -ItemType Directory $dir
        [System.IO.File]::WriteAllText((Join-Path $dir 'AuthKey.txt'), [System.Net.NetworkCredential]::new('', $Token).Password)
        $before = [Environment]::CurrentDirectory
        try {
            [Environment]::CurrentDirectory = $dir
            $out = Get-OathBulkTenantToken -GraphUrl $sim.GraphUrl -Verbose 4>&1
            @($out | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).Count | Should -Be 5
            $verbose = ($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) -join "`n"
            $verbose | Should -Match 'credentials from .*AuthKey\.txt'
            $verbose | Should -Not -Match 'credentials from none'
        } finally {
            [Environment]::CurrentDirectory = $before
            $sim | Stop-OathBulkSimulator
        }
    }
}

Describe 'A rehearsal that keeps its tenant, and the session context' {
    It 'Start-OathBulkSimulator sets the session''s endpoint: no repeated -GraphUrl/-AccessToken, state kept across calls' {
        $seed = New-LifecycleCsv $TestDrive 'rehearsal.csv'
        $sim = Start-OathBulkSimulator $seed
        try {
            $ctx = Get-OathBulkContext
            $ctx.PSObject.TypeNames[0] | Should -Be 'OathBulk.Context'
            $ctx.Simulated | Should -BeTrue
            $ctx.GraphUrl | Should -Be $sim.GraphUrl
            $r = Enable-OathBulkToken $seed -Serial 4000003 -Force
            $r.Status | Should -Be 'activated'
            (Get-OathBulkTenantToken -Serial 4000003).Status | Should -Be 'activated'
            (Disable-OathBulkToken -Serial 4000003).Status | Should -Be 'done'
            (Get-OathBulkTenantToken -Serial 4000003).Status | Should -Be 'assigned'
        } finally { $sim | Stop-OathBulkSimulator }
        Get-OathBulkContext | Should -BeNullOrEmpty -Because 'a stopped simulator is no one''s endpoint'
    }

    It '"What if:" says the tenant is simulated, and lists the serials' {
        $seed = New-LifecycleCsv $TestDrive 'whatif.csv'
        $r = Invoke-ChildPwsh "`$null = Start-OathBulkSimulator '$seed'; Import-OathBulkToken '$seed' | Select-Object -First 2 | Enable-OathBulkToken -WhatIf | Out-Null; Enable-OathBulkToken '$seed' -Serial 4000003 -Simulate -WhatIf | Out-Null"
        $r.Exit | Should -Be 0 -Because $r.Output
        $r.Output | Should -Match 'What if: .*simulated tenant at 127\.0\.0\.1:\d+'
        $r.Output | Should -Match 'Serials: 4000001, 4000002'
        $r.Output | Should -Match 'What if: .*in a simulated tenant \(-Simulate'
    }

    It 'Disconnect-OathBulk succeeds where no credential store exists (nothing kept to forget)' -Skip:(-not $IsLinux) {
        $r = Invoke-ChildPwsh "Remove-Item Env:OATHBULK_TEST_ONLY_PLAINTEXT_STORE -ErrorAction Ignore; `$env:DBUS_SESSION_BUS_ADDRESS = 'unix:path=/nonexistent/bus'; Disconnect-OathBulk; 'OK=' + `$?"
        $r.Exit | Should -Be 0 -Because $r.Output
        $r.Output | Should -Match 'OK=True'
    }

    It 'Connect-OathBulk where no credential store exists: the sign-in sealed for the session, and the endpoint remembered' -Skip:(-not $IsLinux) {
        $seed = New-SimCsv $TestDrive 'nostore.csv'
        $cache = Join-Path $TestDrive 'nostore-cache'
        $script = @(
            Get-NoStoreLine $cache
            "`$sim = Start-OathBulkSimulator '$seed'"
            "`$cred = [pscredential]::new('test-app', (ConvertTo-SecureString 'nostore-secret-5521' -AsPlainText -Force))"
            'Connect-OathBulk -TenantId contoso.example -ClientSecretCredential $cred -AuthorityUrl $sim.AuthorityUrl -GraphUrl $sim.GraphUrl -WarningVariable w -WarningAction SilentlyContinue'
            "'CONNECTED=' + `$?; 'WARNED=' + ((`$w -join ' ') -match 'not kept')"
            '$c = Get-OathBulkContext; ''CONTEXT='' + $c.AuthType + ''/'' + [bool]$c.SessionOnly'
            "'TOKENS=' + @(Get-OathBulkTenantToken -WarningAction SilentlyContinue).Count"
            "'SEALED=' + @(Get-ChildItem '$cache/oathbulk/sessions' -File | Where-Object { -not (Select-String -LiteralPath `$_.FullName -SimpleMatch 'nostore-secret-5521' -Quiet) }).Count"
        ) -join '; '
        $r = Invoke-ChildPwsh $script
        $r.Output | Should -Match 'CONNECTED=True' -Because $r.Output
        $r.Output | Should -Match 'WARNED=False' -Because 'the session key keeps the sign-in sealed for this session'
        $r.Output | Should -Match 'CONTEXT=ClientSecret/False'
        $r.Output | Should -Match 'TOKENS=5' -Because 'a later cmdlet signs in with the sealed sign-in, at the remembered endpoint'
        $r.Output | Should -Match 'SEALED=1' -Because 'one session file, the secret not in it in plain text'
        $r.Output | Should -Not -Match 'nostore-secret-5521'
    }

    It 'Connect-OathBulk -AccessToken -GraphUrl: session-only, remembered by later cmdlets; Disconnect forgets it' {
        $seed = New-SimCsv $TestDrive 'connect.csv'
        $sim = Start-OathBulkSimulator $seed -AccessToken $Token
        try {
            Disconnect-OathBulk
            Get-OathBulkContext | Should -BeNullOrEmpty
            Connect-OathBulk -AccessToken $Token -GraphUrl $sim.GraphUrl
            $ctx = Get-OathBulkContext
            ($ctx.AuthType, $ctx.GraphUrl, $ctx.Simulated) | Should -Be @('AccessToken', $sim.GraphUrl, $false)
            ($ctx | Out-String) | Should -Not -Match 'sessions-test-token'
            @(Get-OathBulkTenantToken).Count | Should -Be 5
            Disconnect-OathBulk
            Get-OathBulkContext | Should -BeNullOrEmpty
        } finally { $sim | Stop-OathBulkSimulator }
    }
}

Describe 'Results survive -FailAtEnd' {
    It '$r = Enable-OathBulkToken … -FailAtEnd keeps every object; one RowsFailed error, non-terminating' {
        $seed = New-SimCsv $TestDrive 'failatend.csv'
        $sim = Start-OathBulkSimulator $seed -AccessToken $Token
        try {
            $r = Enable-OathBulkToken $seed -GraphUrl $sim.GraphUrl -AccessToken $Token -Force -FailAtEnd -ErrorVariable e -ErrorAction SilentlyContinue
            @($r).Count | Should -Be 5
            $e.Count | Should -Be 1
            $e[0].FullyQualifiedErrorId | Should -Be 'OathBulk.RowsFailed,Enable-OathBulkToken'
            $e[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        } finally { $sim | Stop-OathBulkSimulator }
    }
}

Describe 'Error records by the book' {
    It 'a 403 is PermissionDenied with a recommended action and no -Resume hint on a read' {
        $seed = New-SimCsv $TestDrive 'forbidden.csv'
        $sim = Start-OathBulkSimulator $seed -AccessToken $Token -Forbidden
        try {
            $err = $null
            try { Get-OathBulkTenantToken -GraphUrl $sim.GraphUrl -AccessToken $Token -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'OathBulk.PermissionDenied,Get-OathBulkTenantToken'
            $err.CategoryInfo.Category | Should -Be 'PermissionDenied'
            $err.ErrorDetails.RecommendedAction | Should -Match 'UserAuthenticationMethod\.ReadWrite\.All'
            "$($err.Exception.Message) $($err.ErrorDetails.RecommendedAction)" | Should -Not -Match 'Resume'
        } finally { $sim | Stop-OathBulkSimulator }
    }

    It 'a refused connection: ServiceUnavailable with its fix first, no separate -Resume error' {
        $seed = New-SimCsv $TestDrive 'refused.csv'
        # Nothing was done: a terminating error, whose fix comes first.
        $thrown = $null
        try { $null = Enable-OathBulkToken $seed -GraphUrl 'http://127.0.0.1:9' -AccessToken $Token -Force -ErrorVariable e -ErrorAction SilentlyContinue } catch { $thrown = $_ }
        $thrown.FullyQualifiedErrorId | Should -Be 'OathBulk.ServiceUnavailable,Enable-OathBulkToken'
        $thrown.ErrorDetails.RecommendedAction | Should -Match 'reached'
        @($e | Where-Object { $_.FullyQualifiedErrorId -like 'OathBulk.NotAttempted*' }).Count | Should -Be 0
    }

    It 'row failures are typed exceptions, not System.Exception' {
        $seed = New-SimCsv $TestDrive 'typed.csv'
        $sim = Start-OathBulkSimulator $seed -AccessToken $Token
        try {
            $null = Enable-OathBulkToken $seed -GraphUrl $sim.GraphUrl -AccessToken $Token -Force -ErrorVariable e -ErrorAction SilentlyContinue
            $e.Count | Should -BeGreaterThan 0
            foreach ($x in $e) { $x.Exception.GetType() | Should -Not -Be ([System.Exception]) }
        } finally { $sim | Stop-OathBulkSimulator }
    }
}

Describe 'Binding as Microsoft''s modules do' {
    BeforeAll { Start-LifecycleTenant 'binding.csv' }
    AfterAll { $Sim | Stop-OathBulkSimulator }

    It 'Get-OathBulkTenantToken takes no positional argument' {
        { Get-OathBulkTenantToken activated @At } | Should -Throw -ErrorId 'PositionalParameterNotFound,Get-OathBulkTenantToken'
    }

    It '-SerialNumber and -UserPrincipalName are aliases' {
        (Get-OathBulkTenantToken -SerialNumber 4000001 @At).Serial | Should -Be '4000001'
        $r = Disable-OathBulkToken -SerialNumber 4000001 -UserPrincipalName alice@contoso.com -WhatIf @At
        ($r.Serial, $r.Upn, $r.Status) | Should -Be @('4000001', 'alice@contoso.com', 'would_do')
    }

    It 'a serial that matches nothing is a non-terminating ObjectNotFound error' {
        $r = Get-OathBulkTenantToken -Serial 4000001, 9999999 @At -ErrorVariable e -ErrorAction SilentlyContinue
        @($r).Serial | Should -Be @('4000001')
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be 'OathBulk.TokenNotFound,Get-OathBulkTenantToken'
        $e[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $e[0].TargetObject | Should -Be '9999999'
    }
}

Describe 'Views and values' {
    It 'Change reasons are wrapped, never cut at 120 columns' {
        $seed = New-LifecycleCsv $TestDrive 'view.csv'
        $c = Disable-OathBulkToken -Serial 4000001 -Upn nobody@contoso.com -Simulate -ErrorAction SilentlyContinue
        $c.Reason.Length | Should -BeGreaterThan 40
        $text = $c | Format-Table | Out-String -Width 120
        ($text -replace '\s', '') | Should -Match ([regex]::Escape(($c.Reason -replace '\s', '')))
        $check = Test-OathBulkPrerequisite -Simulate | Where-Object { $_.Message.Length -gt 60 } | Select-Object -First 1
        if ($check) { ($check | Format-Table | Out-String -Width 120) -replace '\s', '' | Should -Match ([regex]::Escape(($check.Message -replace '\s', ''))) }
    }

    It 'Get-OathBulkCode''s At is a DateTimeOffset, as -At takes' {
        $seed = New-SimCsv $TestDrive 'at.csv'
        $at = [DateTimeOffset]::new(2026, 1, 1, 9, 0, 0, [TimeSpan]::Zero)
        $c = Get-OathBulkCode $seed -At $at | Select-Object -First 1
        $c.At | Should -BeOfType ([DateTimeOffset])
        $c.At | Should -Be $at
    }

    It 'Get-OathBulkUser | Export-Csv writes the tokens, not a type name' {
        $seed = New-SimCsv $TestDrive 'users.csv'
        $file = Join-Path $TestDrive 'users-out.csv'
        Get-OathBulkUser $seed | Export-Csv -LiteralPath $file
        $text = Get-Content -Raw $file
        $text | Should -Not -Match 'PSObject'
        (Import-Csv $file | Where-Object Upn -eq 'alice@contoso.com').Tokens | Should -Be '2000001'
    }
}

Describe 'Rows piped without their file' {
    It 'are named by their place in the pipeline, not by lines of a CSV the admin never sees' {
        $small = New-SmallCsv $TestDrive
        # carol's row (a broken seed) is line 4 of the file, and the 2nd row piped here.
        $null = Import-Csv $small | Select-Object -Skip 1 | Enable-OathBulkToken -Simulate -WhatIf -ErrorVariable e -ErrorAction SilentlyContinue
        $bad = @($e | Where-Object { $_.FullyQualifiedErrorId -like 'OathBulk.InvalidSecret*' })
        $bad.Count | Should -Be 1
        $bad[0].Exception.Message | Should -Match '^piped row 2 '
        $bad[0].CategoryInfo.TargetName | Should -Be 'piped row 2'
    }
}
