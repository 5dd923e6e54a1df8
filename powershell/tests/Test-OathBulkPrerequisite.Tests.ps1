BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest -Token 'doctor-test-token-7e20'
    $script:Seed = New-SimCsv $TestDrive
    # The seed without its conflict row (line 6: a token another user holds).
    $script:Clean = Join-Path $TestDrive 'clean.csv'
    Get-Content $Seed | Select-Object -First 5 | Set-Content $Clean -Encoding utf8NoBOM
}

Describe 'Test-OathBulkPrerequisite' {
    BeforeAll { Start-TestSimulator $Seed }
    AfterAll { Stop-TestSimulator }

    It 'writes OathBulk.Check objects; a failed check is an object, not an error' {
        $c = Test-OathBulkPrerequisite $Seed -GraphUrl $Sim.GraphUrl -AccessToken $Token -ErrorVariable e
        $e | Should -BeNullOrEmpty
        $c[0].PSObject.TypeNames[0] | Should -Be 'OathBulk.Check'
        $c.Check | Should -Contain 'csv'
        $c.Check | Should -Contain 'api_reachable'
        ($c | Where-Object Check -eq 'csv').Status | Should -Be 'pass'
        $holders = $c | Where-Object Status -eq 'fail'
        $holders.Check | Should -Be 'tenant_holders'
        $holders.Fix | Should -Not -BeNullOrEmpty
        # Fixes name cmdlets, not the binary's commands and flags.
        $holders.Fix | Should -Match 'Get-OathBulkUser CSV -WithTenant'
        foreach ($f in $c.Fix | Where-Object { $_ }) { $f | Should -Not -Match 'oathbulk [a-z]|(^|\s)--[a-z]' }
        ($c | Out-String -Width 250) | Should -Match 'Check\s+Status\s+Message\s+Fix'
    }

    It '-Quiet returns $false when a check fails and $true when none does' {
        Test-OathBulkPrerequisite $Seed -GraphUrl $Sim.GraphUrl -AccessToken $Token -Quiet | Should -BeFalse
        Test-OathBulkPrerequisite $Clean -GraphUrl $Sim.GraphUrl -AccessToken $Token -Quiet | Should -BeTrue
        Test-OathBulkPrerequisite -GraphUrl $Sim.GraphUrl -AccessToken $Token -Quiet | Should -BeTrue
    }

    It 'reports rejected credentials as a failed check, not a terminating error' {
        $wrong = ConvertTo-SecureString 'not-the-token' -AsPlainText -Force
        $c = Test-OathBulkPrerequisite -GraphUrl $Sim.GraphUrl -AccessToken $wrong
        ($c | Where-Object Check -eq 'api_reachable').Status | Should -Be 'fail'
        Test-OathBulkPrerequisite -GraphUrl $Sim.GraphUrl -AccessToken $wrong -Quiet | Should -BeFalse
    }

    It 'a missing CSV is an error, and -Quiet says $false' {
        $null = Test-OathBulkPrerequisite (Join-Path $TestDrive 'nope.csv') -GraphUrl $Sim.GraphUrl -AccessToken $Token -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'OathBulk.PathNotFound,*'
        Test-OathBulkPrerequisite (Join-Path $TestDrive 'nope.csv') -GraphUrl $Sim.GraphUrl -AccessToken $Token -Quiet -ErrorAction SilentlyContinue | Should -BeFalse
    }

    It '-UseDeviceCode signs in: the sign-in message is a warning, and the token''s checks run' {
        $c = Test-OathBulkPrerequisite -GraphUrl $Sim.GraphUrl -AuthorityUrl $Sim.AuthorityUrl -UseDeviceCode -WarningVariable w -WarningAction SilentlyContinue
        ($w -join "`n") | Should -Match 'To sign in, use a web browser'
        ($c | Where-Object Check -eq 'permissions').Status | Should -Be 'pass'
        $c.Status | Should -Not -Contain 'fail'
    }
}
