# Line 4 of the seed is a wrong_secret token: the binary retries it on the next TOTP step
# (~30 s), so tests that do not need it leave it out with -Where 'row.line != 4'.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest -Token 'enable-test-token-9c2e41'
}

Describe 'Enable-OathBulkToken' {
    BeforeEach { Start-TestSimulator (New-SimCsv $TestDrive ("sim-$([guid]::NewGuid().ToString('n')).csv")) }
    AfterEach { Stop-TestSimulator }

    It '-WhatIf runs a dry run: would_activate objects, tenant unchanged' {
        $before = Get-SimState $Sim $Token
        $r = Enable-OathBulkToken $Seed -GraphUrl $Sim.GraphUrl -AccessToken $Token -WhatIf -ErrorAction SilentlyContinue
        ($r | Where-Object Status -eq 'would_activate').Count | Should -Be 4
        $r[0].PSObject.TypeNames[0] | Should -Be 'OathBulk.Activation'
        Get-SimState $Sim $Token | Should -Be $before
    }

    It '-Force does not override -WhatIf' {
        $before = Get-SimState $Sim $Token
        $r = Enable-OathBulkToken $Seed -GraphUrl $Sim.GraphUrl -AccessToken $Token -WhatIf -Force -ErrorAction SilentlyContinue
        $r.Status | Should -Not -Contain 'activated'
        Get-SimState $Sim $Token | Should -Be $before
    }

    It 'activates against the simulator; failing rows become error records' {
        $r = Enable-OathBulkToken $Seed -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force -ErrorVariable failed -ErrorAction SilentlyContinue
        $r.Count | Should -Be 5
        ($r | Where-Object Status -eq 'activated').Serial | Sort-Object | Should -Be @('2000001', '2000002', '2000004')
        $r[0].Time | Should -BeOfType [datetime]
        $failed.Count | Should -Be 2
        $wrong = $failed | Where-Object { $_.TargetObject.Serial -eq '2000003' }
        $wrong.TargetObject.Status | Should -Be 'failed'
        $wrong.CategoryInfo.Category | Should -BeIn 'InvalidResult', 'PermissionDenied'
        $wrong.FullyQualifiedErrorId | Should -BeLike "OathBulk.$([OathBulk.Native.RecordConverter]::ToPascalCase($wrong.TargetObject.ErrorCode)),Enable-OathBulkToken"
        $conflict = $failed | Where-Object { $_.TargetObject.Serial -eq '2000005' }
        $conflict.CategoryInfo.Category | Should -Be 'ResourceExists'
        (Get-SimState $Sim $Token) | Should -Contain '2000001=activated'
        ($r | Out-String -Width 200) | Should -Match 'Line\s+Upn\s+Serial\s+Status'
    }

    It 'activates exactly the piped rows, in one run' {
        $r = Import-OathBulkToken $Seed | Where-Object Upn -like '*@fabrikam.com' |
            Enable-OathBulkToken -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force -PassThruSummary -ErrorAction SilentlyContinue
        $summary = @($r | Where-Object { $_.PSObject.TypeNames[0] -eq 'OathBulk.Summary' })
        $summary.Count | Should -Be 1
        $summary[0].Rows | Should -Be 2
        ($r | Where-Object { $_.PSObject.TypeNames[0] -eq 'OathBulk.Activation' }).Line | Sort-Object | Should -Be @(5, 6)
        Get-SimState $Sim $Token | Should -Contain '2000001=available'
        Get-SimState $Sim $Token | Should -Contain '2000004=activated'
    }

    It 'resumes from a journal' {
        $journal = Join-Path $TestDrive "journal-$([guid]::NewGuid().ToString('n')).jsonl"
        $null = Enable-OathBulkToken $Seed -Where 'row.line <= 3' -GraphUrl $Sim.GraphUrl -AccessToken $Token -Journal $journal -Force -ErrorAction SilentlyContinue
        Test-Path $journal | Should -BeTrue
        $r = Enable-OathBulkToken $Seed -Where 'row.line != 4' -GraphUrl $Sim.GraphUrl -AccessToken $Token -Journal $journal -Resume -Force -ErrorAction SilentlyContinue
        ($r | Where-Object Status -eq 'skipped').Serial | Sort-Object | Should -Be @('2000001', '2000002')
        ($r | Where-Object Serial -eq '2000004').Status | Should -Be 'activated'
    }

    It 'throws a terminating AuthRejected error (exit 3) for a wrong token' {
        $wrong = ConvertTo-SecureString 'wrong-token' -AsPlainText -Force
        $err = $null
        try { Enable-OathBulkToken $Seed -GraphUrl $Sim.GraphUrl -AccessToken $wrong -Force -ErrorAction SilentlyContinue } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'OathBulk.AuthRejected,Enable-OathBulkToken'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.Exception.Data['ExitCode'] | Should -Be 3
        $err.Exception.Message | Should -Match '401'
    }

    It 'reports progress through Write-Progress' {
        Mock Write-Progress -ModuleName OathBulk
        $null = Enable-OathBulkToken $Seed -Where 'row.line != 4' -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force -ErrorAction SilentlyContinue
        Should -Invoke Write-Progress -ModuleName OathBulk -ParameterFilter { $Activity -like 'oathbulk activate*' -and -not $Completed }
        Should -Invoke Write-Progress -ModuleName OathBulk -ParameterFilter { $Completed }
    }

    It 'never shows the token: not in argv, any stream, or a transcript' {
        $transcript = Join-Path $TestDrive "transcript-$([guid]::NewGuid().ToString('n')).txt"
        Start-Transcript -Path $transcript -Force | Out-Null
        try {
            $all = Enable-OathBulkToken $Seed -Where 'row.line != 4' -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force -Verbose -PassThruSummary *>&1 | Out-String -Width 400
            $wrong = ConvertTo-SecureString 'wrong-token-abcdef' -AsPlainText -Force
            try { Enable-OathBulkToken $Seed -GraphUrl $Sim.GraphUrl -AccessToken $wrong -Force -Verbose *>&1 | Out-String } catch { $all += $_ | Out-String }
        } finally {
            Stop-Transcript | Out-Null
        }
        $all | Should -Match 'OATHBULK_TOKEN=\*\*\*'
        $all | Should -Not -Match $PlainToken
        $all | Should -Not -Match 'wrong-token-abcdef'
        Get-Content $transcript -Raw | Should -Not -Match $PlainToken
        Get-Content $transcript -Raw | Should -Not -Match 'wrong-token-abcdef'
        $r = Enable-OathBulkToken $Seed -Where 'row.line != 4' -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force -ErrorAction SilentlyContinue
        ($r | ConvertTo-Json -Depth 5) | Should -Not -Match $PlainToken
    }

    It 'uses an explicit -Credential for app-only sign-in (client secret via the environment)' {
        $cred = [pscredential]::new('00000000-0000-0000-0000-000000000001', (ConvertTo-SecureString 'app-secret-77' -AsPlainText -Force))
        $verbose = Enable-OathBulkToken $Seed -GraphUrl $Sim.GraphUrl -AuthorityUrl $Sim.AuthorityUrl -Credential $cred -TenantId 'contoso.onmicrosoft.com' -WhatIf -Verbose -ErrorAction SilentlyContinue 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | Out-String
        $verbose | Should -Match '--client-id 00000000-0000-0000-0000-000000000001'
        $verbose | Should -Match 'OATHBULK_CLIENT_SECRET=\*\*\*'
        $verbose | Should -Not -Match 'app-secret-77'
    }
}

Describe 'Enable-OathBulkToken for one token (-Serial, -Code, -Upn)' {
    BeforeAll {
        $script:OneSeed = New-SimCsv $TestDrive 'one.csv'
        $script:OneSim = Start-OathBulkSimulator $OneSeed -AccessToken $Token
    }
    AfterAll {
        if ($script:OneSim) { $script:OneSim | Stop-OathBulkSimulator; $script:OneSim = $null }
    }

    It 'has a Token parameter set: -Serial and -Code mandatory, no -Path' {
        $set = (Get-Command Enable-OathBulkToken).ParameterSets | Where-Object Name -eq 'Token'
        ($set.Parameters | Where-Object IsMandatory).Name | Sort-Object | Should -Be @('Code', 'Serial')
        $set.Parameters.Name | Should -Not -Contain 'Path'
        { Enable-OathBulkToken -Serial 1 -Code '12345' -WhatIf } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Enable-OathBulkToken'
        { Enable-OathBulkToken -Path $OneSeed -Serial 1 -Code '123456' -WhatIf } | Should -Throw -ErrorId 'AmbiguousParameterSet,Enable-OathBulkToken'
    }

    It '-Serial -Code -Upn -WhatIf: a dry run of one token without a CSV, tenant unchanged' {
        $before = Get-SimState $OneSim $Token
        $r = Enable-OathBulkToken -Serial 2000004 -Code '123456' -Upn 'dave@fabrikam.com' -GraphUrl $OneSim.GraphUrl -AccessToken $Token -WhatIf -Force
        $r.PSObject.TypeNames[0] | Should -Be 'OathBulk.Activation'
        $r.Status | Should -Be 'would_activate'
        $r.Action | Should -Be 'assign_and_activate'
        $r.Upn | Should -Be 'dave@fabrikam.com'
        Get-SimState $OneSim $Token | Should -Be $before
    }

    It 'an unknown serial is an object and a non-terminating not_found error' {
        $r = Enable-OathBulkToken -Serial 9999999 -Code '123456' -Upn 'zed@contoso.com' -GraphUrl $OneSim.GraphUrl -AccessToken $Token -WhatIf -ErrorVariable e -ErrorAction SilentlyContinue
        $r.Status | Should -Be 'not_found'
        $e.Count | Should -Be 1
        $e[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It '-Path with -Serial activates only that row of the CSV' {
        $r = Enable-OathBulkToken $OneSeed -Serial 2000001 -GraphUrl $OneSim.GraphUrl -AccessToken $Token -WhatIf
        @($r).Count | Should -Be 1
        $r.Line | Should -Be 2
        $r.Status | Should -Be 'would_activate'
    }

    It 'activates one token with the code read off it' {
        # The code the token shows now, with enough of its step left to arrive in time.
        $otp = Get-OathBulkCode $OneSeed -Where 'row.line == 5'
        if ($otp.ValidFor -lt 5) { Start-Sleep -Seconds ($otp.ValidFor + 1); $otp = Get-OathBulkCode $OneSeed -Where 'row.line == 5' }
        $r = Enable-OathBulkToken -Serial 2000004 -Code $otp.Code -Upn 'dave@fabrikam.com' -GraphUrl $OneSim.GraphUrl -AccessToken $Token -Force -Verbose 4>&1
        # The code goes on the binary's stdin, never its argv (visible to every user).
        $shown = ($r | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | Out-String)
        $shown | Should -Match '--code-stdin'
        $shown | Should -Not -Match "--code '?$($otp.Code)"
        $r = $r | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        $r.Status | Should -Be 'activated'
        Get-SimState $OneSim $Token | Should -Contain '2000004=activated'
    }
}
