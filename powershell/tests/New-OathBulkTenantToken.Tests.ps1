BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest -Token 'import-test-token-c3d9'
}

Describe 'New-OathBulkTenantToken' {
    BeforeEach { Start-TestSimulator (New-LifecycleCsv $TestDrive) }
    AfterEach { Stop-TestSimulator }

    It '-WhatIf (even with -Force) runs a dry run: would_create objects, tenant unchanged' {
        $before = Get-SimState $Sim $Token
        $r = New-OathBulkTenantToken $Seed -Assign -GraphUrl $Sim.GraphUrl -AccessToken $Token -WhatIf -Force
        $r.Count | Should -Be 5
        $r[0].PSObject.TypeNames[0] | Should -Be 'OathBulk.Import'
        ($r | Where-Object Status -eq 'would_create').Serial | Should -Be '4000004'
        ($r | Where-Object Status -eq 'exists').Count | Should -Be 4
        Get-SimState $Sim $Token | Should -Be $before
    }

    It 'imports and assigns; typed objects with a table view' {
        $r = New-OathBulkTenantToken $Seed -Assign -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force
        $dave = $r | Where-Object Serial -eq '4000004'
        $dave.Status | Should -Be 'created'
        $dave.Assigned | Should -BeTrue
        $dave.Assigned | Should -BeOfType [bool]
        $dave.DeviceId | Should -Not -BeNullOrEmpty
        $dave.Time | Should -BeOfType [datetime]
        $dave.Line | Should -Be 5
        Get-SimState $Sim $Token | Should -Contain '4000004=assigned'
        ($r | Out-String -Width 200) | Should -Match 'Line\s+Upn\s+Serial\s+Status\s+Assigned'
    }

    It 'imports exactly the piped rows, in one run' {
        $r = Import-OathBulkToken $Seed | Where-Object Upn -like 'dave@*' |
            New-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force -PassThruSummary
        $summary = @($r | Where-Object { $_.PSObject.TypeNames[0] -eq 'OathBulk.Summary' })
        $summary.Count | Should -Be 1
        $summary[0].Rows | Should -Be 1
        ($r | Where-Object { $_.PSObject.TypeNames[0] -eq 'OathBulk.Import' }).Status | Should -Be 'created'
        Get-SimState $Sim $Token | Should -Contain '4000004=available'
    }

    It '-Activate imports, then activates: Import and Activation objects' {
        $r = New-OathBulkTenantToken $Seed -Where 'row.line != 6' -Activate -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force
        @($r | Where-Object { $_.PSObject.TypeNames[0] -eq 'OathBulk.Import' }).Count | Should -Be 4
        $act = @($r | Where-Object { $_.PSObject.TypeNames[0] -eq 'OathBulk.Activation' })
        $act.Count | Should -Be 4
        ($act | Where-Object Serial -eq '4000004').Status | Should -Be 'activated'
        Get-SimState $Sim $Token | Should -Contain '4000004=activated'
    }
}
