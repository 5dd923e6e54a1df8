BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest
    $script:Seed = New-SimCsv $TestDrive
}

Describe 'Start-OathBulkSimulator / Stop-OathBulkSimulator' {

    It 'starts a simulator and returns its URLs and process' {
        $sim = Start-OathBulkSimulator $Seed
        try {
            $sim.PSObject.TypeNames[0] | Should -Be 'OathBulk.SimulatorInstance'
            $sim.GraphUrl | Should -Match '^http://127\.0\.0\.1:\d+/'
            $sim.PortalUrl | Should -Not -BeNullOrEmpty
            $sim.AuthorityUrl | Should -Not -BeNullOrEmpty
            $sim.Devices | Should -Be 5
            $sim.HasExited | Should -BeFalse
            $sim.Process.Id | Should -Be $sim.ProcessId
            ($sim | Out-String) | Should -Match 'GraphUrl'
        } finally {
            $sim | Stop-OathBulkSimulator
        }
        $sim.Process.HasExited | Should -BeTrue
    }

    It 'Stop-OathBulkSimulator without arguments stops every simulator of the session' {
        $a = Start-OathBulkSimulator $Seed
        $b = Start-OathBulkSimulator $Seed
        Stop-OathBulkSimulator
        $a.Process.HasExited | Should -BeTrue
        $b.Process.HasExited | Should -BeTrue
    }

    It 'fails with a terminating error when the seed cannot be read' {
        $bad = Join-Path $TestDrive 'bad.csv'
        Set-Content $bad 'foo' -Encoding utf8NoBOM
        { Start-OathBulkSimulator $bad -TimeoutSeconds 10 } | Should -Throw -ErrorId 'OathBulk.SimulatorFailed,Start-OathBulkSimulator'
    }
}
