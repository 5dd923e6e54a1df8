BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest -Token 'undo-test-token-6d02'
}

Describe 'Undo-OathBulkRun' {
    BeforeEach {
        Start-TestSimulator (New-LifecycleCsv $TestDrive)
        # A run to revert: import, assign and activate the missing and available tokens.
        $script:Journal = Join-Path $TestDrive "run-$([guid]::NewGuid().ToString('n')).jsonl"
        $null = New-OathBulkTenantToken $Seed -Where 'row.line >= 4 && row.line <= 5' -Activate -Journal $Journal -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force
        $script:After = Get-SimState $Sim $Token
    }
    AfterEach { Stop-TestSimulator }

    It '-WhatIf -Force is still a dry run: would_do steps, tenant unchanged' {
        $After | Should -Contain '4000003=activated'
        $After | Should -Contain '4000004=activated'
        $r = Undo-OathBulkRun -Journal $Journal -GraphUrl $Sim.GraphUrl -AccessToken $Token -WhatIf -Force
        $r[0].PSObject.TypeNames[0] | Should -Be 'OathBulk.Change'
        $r.Status | Sort-Object -Unique | Should -Be 'would_do'
        Get-SimState $Sim $Token | Should -Be $After
    }

    It 'reverts the run: activations deactivated, created tokens removed' {
        $r = Undo-OathBulkRun $Journal -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force
        $r.Status | Sort-Object -Unique | Should -Be 'done'
        $r.Operation | Should -Contain 'deactivate'
        $r.Operation | Should -Contain 'remove'
        $state = Get-SimState $Sim $Token
        $state | Should -Not -Contain '4000003=activated'
        $state -like '4000004=*' | Should -BeNullOrEmpty
        $state | Should -Contain '4000001=activated'
    }

    It 'refuses tokens changed since the run: objects and non-terminating errors' {
        $null = Disable-OathBulkToken -Serial 4000003 -GraphUrl $Sim.GraphUrl -AccessToken $Token
        $r = Get-Item $Journal | Undo-OathBulkRun -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force -ErrorVariable e -ErrorAction SilentlyContinue
        ($r | Where-Object Status -eq 'refused').Serial | Should -Contain '4000003'
        $e.Count | Should -BeGreaterThan 0
        $e[0].TargetObject.Status | Should -Be 'refused'
        $e[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
    }
}
