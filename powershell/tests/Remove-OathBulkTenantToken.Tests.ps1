BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest -Token 'remove-test-token-a9c4'
}

Describe 'Remove-OathBulkTenantToken' {
    BeforeEach { Start-TestSimulator (New-LifecycleCsv $TestDrive) }
    AfterEach { Stop-TestSimulator }

    It '-WhatIf -Force is still a dry run: nothing deleted' {
        $before = Get-SimState $Sim $Token
        $r = Remove-OathBulkTenantToken -Serial 4000003 -GraphUrl $Sim.GraphUrl -AccessToken $Token -WhatIf -Force
        $r.Operation | Should -Be 'remove'
        $r.Status | Should -Be 'would_do'
        Get-SimState $Sim $Token | Should -Be $before
    }

    It 'deletes piped tenant tokens from the inventory' {
        $r = Get-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -AccessToken $Token -Status available |
            Remove-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force
        $r.Serial | Should -Be '4000003'
        $r.Status | Should -Be 'done'
        (Get-SimState $Sim $Token) -like '4000003=*' | Should -BeNullOrEmpty
    }

    It 'piped tenant tokens go to ONE run with ONE inventory read, -WhatIf included; then all are deleted' {
        $sim = Start-OathBulkSimulator (New-ManyTokensCsv $TestDrive 12 'assigned') -AccessToken $Token
        try {
            $before = Get-SimState $sim $Token
            $r = Invoke-PipedTenantTokens $sim $Token 'Remove-OathBulkTenantToken' @{ WhatIf = $true }
            $r.Summaries.Count | Should -Be 1
            $r.InventoryReads | Should -Be 1
            @($r.Changes | Where-Object Status -eq 'would_do').Count | Should -Be 12
            Get-SimState $sim $Token | Should -Be $before

            $r = Invoke-PipedTenantTokens $sim $Token 'Remove-OathBulkTenantToken' @{ Force = $true }
            $r.Piped | Should -Be 12
            $r.Summaries.Count | Should -Be 1 -Because 'one binary run, not one per serial'
            $r.InventoryReads | Should -Be 1
            @($r.Changes | Where-Object Status -eq 'done').Count | Should -Be 12
            Get-SimState $sim $Token | Should -BeNullOrEmpty
        } finally { $sim | Stop-OathBulkSimulator }
    }

    It 'removes an assigned token (unassigning it first)' {
        $r = Remove-OathBulkTenantToken -Serial 4000001 -GraphUrl $Sim.GraphUrl -AccessToken $Token -Confirm:$false
        $r.Status | Should -Be 'done'
        (Get-SimState $Sim $Token) -like '4000001=*' | Should -BeNullOrEmpty
    }
}
