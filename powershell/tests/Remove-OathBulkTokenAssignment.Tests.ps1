BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest -Token 'unassign-test-token-51f7'
}

Describe 'Remove-OathBulkTokenAssignment' {
    BeforeEach { Start-TestSimulator (New-LifecycleCsv $TestDrive) }
    AfterEach { Stop-TestSimulator }

    It '-WhatIf -Force is still a dry run: would_do, tenant unchanged' {
        $before = Get-SimState $Sim $Token
        $r = Remove-OathBulkTokenAssignment $Seed -Where 'row.line <= 3' -GraphUrl $Sim.GraphUrl -AccessToken $Token -WhatIf -Force
        $r.Status | Sort-Object -Unique | Should -Be 'would_do'
        $r.Count | Should -Be 2
        Get-SimState $Sim $Token | Should -Be $before
    }

    It 'unassigns the tokens of a CSV: back to available' {
        $r = Remove-OathBulkTokenAssignment $Seed -Where 'row.line <= 3' -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force
        ($r | Where-Object Status -eq 'done').Serial | Sort-Object | Should -Be @('4000001', '4000002')
        $state = Get-SimState $Sim $Token
        $state | Should -Contain '4000001=available'
        $state | Should -Contain '4000002=available'
    }

    It 'piped tenant tokens go to ONE run with ONE inventory read; each is unassigned from whoever holds it' {
        $sim = Start-OathBulkSimulator (New-ManyTokensCsv $TestDrive 12) -AccessToken $Token
        try {
            $r = Invoke-PipedTenantTokens $sim $Token 'Remove-OathBulkTokenAssignment' @{ Force = $true }
            $r.Piped | Should -Be 12
            $r.Summaries.Count | Should -Be 1 -Because 'one binary run, not one per serial'
            $r.InventoryReads | Should -Be 1
            @($r.Changes | Where-Object Status -eq 'done').Count | Should -Be 12
            Get-SimState $sim $Token | ForEach-Object { ($_ -split '=')[1] } | Sort-Object -Unique | Should -Be 'available'
        } finally { $sim | Stop-OathBulkSimulator }
    }

    It 'refuses a token held by another user than -Upn: an object and an InvalidOperation error' {
        $r = Remove-OathBulkTokenAssignment -Serial 4000002 -Upn 'mallory@contoso.com' -GraphUrl $Sim.GraphUrl -AccessToken $Token -Confirm:$false -ErrorVariable e -ErrorAction SilentlyContinue
        $r.Status | Should -Be 'refused'
        $e.Count | Should -Be 1
        $e[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
        $e[0].Exception.Message | Should -Match '4000002'
        Get-SimState $Sim $Token | Should -Contain '4000002=assigned'
    }
}
