# -AnyHolder on the lifecycle cmdlets: a CSV without a upn column but with a user-like column
# (`Assigned To`, here holding "(spare)") is refused unless -AnyHolder passes --any-holder.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest -Token 'any-holder-test-token-5c1e'
}

Describe '-AnyHolder' {
    BeforeEach {
        Start-TestSimulator (New-LifecycleCsv $TestDrive)
        $script:Csv = Join-Path $TestDrive "spare-$([guid]::NewGuid().ToString('n')).csv"
        @('serial number,Assigned To', '4000001,(spare)') | Set-Content -LiteralPath $Csv -Encoding utf8NoBOM
    }
    AfterEach { Stop-TestSimulator }

    It 'is declared by <Cmdlet> for -Path only, and maps to --any-holder' -TestCases @(
        @{ Cmdlet = 'Disable-OathBulkToken' }
        @{ Cmdlet = 'Remove-OathBulkTokenAssignment' }
        @{ Cmdlet = 'Remove-OathBulkTenantToken' }
    ) {
        param($Cmdlet)
        $p = (Get-Command $Cmdlet).Parameters['AnyHolder']
        $p | Should -Not -BeNullOrEmpty
        $p.ParameterType | Should -Be ([switch])
        $p.ParameterSets.Keys | Should -Be @('Path')
        # The table as the module reads it (shared parameters' flags merged in).
        $table = & (Get-Module OathBulk) { $script:CommandTable }
        $table[$Cmdlet].Parameters['AnyHolder'].Flag | Should -Be '--any-holder'
        $table[$Cmdlet].Parameters['AnyHolder'].Kind | Should -Be 'Switch'
        (Get-Help $Cmdlet -Parameter AnyHolder).Description.Text | Should -Match 'whoever holds it'
    }

    It 'without it, a user-like column is refused and nothing is touched' {
        { Disable-OathBulkToken -Path $Csv -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force -ErrorAction Stop } |
            Should -Throw -ExpectedMessage '*-AnyHolder*'
        Get-SimState $Sim $Token | Should -Contain '4000001=activated'
    }

    It 'with it, each serial is changed whoever holds it' {
        $r = Disable-OathBulkToken -Path $Csv -GraphUrl $Sim.GraphUrl -AccessToken $Token -AnyHolder -Force
        $r.Serial | Should -Be '4000001'
        $r.Status | Should -Be 'done'
        Get-SimState $Sim $Token | Should -Contain '4000001=assigned'
    }

    It 'with -Serial and no -Path it is dropped (--serial alone is already whoever holds it; the binary refuses --any-holder without a CSV)' {
        $r = Disable-OathBulkToken -Serial 4000001 -AnyHolder -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force
        $r.Status | Should -Be 'done'
        Get-SimState $Sim $Token | Should -Contain '4000001=assigned'
    }
}
