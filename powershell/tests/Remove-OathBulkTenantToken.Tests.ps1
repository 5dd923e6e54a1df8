BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest
    $script:Token = ConvertTo-SecureString 'remove-test-token-a9c4' -AsPlainText -Force
}

Describe 'Remove-OathBulkTenantToken' {
    BeforeEach {
        $script:Seed = New-LifecycleCsv $TestDrive
        $script:Sim = Start-OathBulkSimulator $Seed -AccessToken $Token
    }
    AfterEach {
        if ($script:Sim) { $script:Sim | Stop-OathBulkSimulator; $script:Sim = $null }
    }

    It 'declares ShouldProcess with ConfirmImpact High' {
        $meta = [System.Management.Automation.CommandMetadata]::new((Get-Command Remove-OathBulkTenantToken))
        $meta.SupportsShouldProcess | Should -BeTrue
        $meta.ConfirmImpact | Should -Be 'High'
    }

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

    It 'removes an assigned token (unassigning it first)' {
        $r = Remove-OathBulkTenantToken -Serial 4000001 -GraphUrl $Sim.GraphUrl -AccessToken $Token -Confirm:$false
        $r.Status | Should -Be 'done'
        (Get-SimState $Sim $Token) -like '4000001=*' | Should -BeNullOrEmpty
    }
}
