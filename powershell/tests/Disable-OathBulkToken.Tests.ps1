BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest -Token 'deactivate-test-token-08be'
}

Describe 'Disable-OathBulkToken' {
    BeforeEach { Start-TestSimulator (New-LifecycleCsv $TestDrive) }
    AfterEach { Stop-TestSimulator }

    It '-WhatIf (even with -Force) is a dry run: would_do, tenant unchanged' {
        $before = Get-SimState $Sim $Token
        $r = Disable-OathBulkToken -Serial 4000001 -GraphUrl $Sim.GraphUrl -AccessToken $Token -WhatIf -Force
        $r.PSObject.TypeNames[0] | Should -Be 'OathBulk.Change'
        $r.Operation | Should -Be 'deactivate'
        $r.Status | Should -Be 'would_do'
        $r.PSObject.Properties['Path'] | Should -BeNullOrEmpty
        Get-SimState $Sim $Token | Should -Be $before
    }

    It 'deactivates one token by serial; it stays assigned' {
        $r = Disable-OathBulkToken -Serial 4000001 -GraphUrl $Sim.GraphUrl -AccessToken $Token
        $r.Status | Should -Be 'done'
        $r.Upn | Should -Be 'alice@contoso.com'
        $r.Time | Should -BeOfType [datetime]
        Get-SimState $Sim $Token | Should -Contain '4000001=assigned'
        ($r | Out-String -Width 200) | Should -Match 'Operation\s+Status\s+Serial\s+Upn'
    }

    It 'takes Get-OathBulkTenantToken objects from the pipeline (by Serial)' {
        $r = Get-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -AccessToken $Token -Status activated |
            Disable-OathBulkToken -GraphUrl $Sim.GraphUrl -AccessToken $Token
        $r.Serial | Should -Be '4000001'
        Get-SimState $Sim $Token | Should -Not -Contain '4000001=activated'
    }

    It 'changes exactly the piped CSV rows, in one run' {
        $r = Import-OathBulkToken $Seed | Where-Object Upn -like 'alice@*' |
            Disable-OathBulkToken -GraphUrl $Sim.GraphUrl -AccessToken $Token -PassThruSummary
        $summary = @($r | Where-Object { $_.PSObject.TypeNames[0] -eq 'OathBulk.Summary' })
        $summary.Count | Should -Be 1
        $summary[0].Rows | Should -Be 1
        ($r | Where-Object { $_.PSObject.TypeNames[0] -eq 'OathBulk.Change' }).Line | Should -Be 2
    }

    It 'piped tenant tokens go to ONE run with ONE inventory read; each is deactivated whoever holds it' {
        $sim = Start-OathBulkSimulator (New-ManyTokensCsv $TestDrive 12) -AccessToken $Token
        try {
            $r = Invoke-PipedTenantTokens $sim $Token 'Disable-OathBulkToken'
            $r.Piped | Should -Be 12
            $r.Summaries.Count | Should -Be 1 -Because 'one binary run, not one per serial'
            $r.Summaries[0].Rows | Should -Be 12
            $r.InventoryReads | Should -Be 1
            $r.Changes.Status | Sort-Object -Unique | Should -Be 'done'
            ($r.Changes | Where-Object Serial -eq '5000007').Upn | Should -Be 'user7@contoso.com'
            Get-SimState $sim $Token | ForEach-Object { ($_ -split '=')[1] } | Sort-Object -Unique | Should -Be 'assigned'
        } finally { $sim | Stop-OathBulkSimulator }
    }

    It 'an unknown serial is an object and a non-terminating ObjectNotFound error' {
        $r = Disable-OathBulkToken -Serial 9999999 -GraphUrl $Sim.GraphUrl -AccessToken $Token -ErrorVariable e -ErrorAction SilentlyContinue
        $r.Status | Should -Be 'not_found'
        $e.Count | Should -Be 1
        $e[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $e[0].TargetObject.Serial | Should -Be '9999999'
    }
}
