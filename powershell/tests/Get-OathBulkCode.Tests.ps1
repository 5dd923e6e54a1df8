BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest
    $script:Small = New-SmallCsv $TestDrive
}

Describe 'Get-OathBulkCode' {
    It 'computes codes at a fixed instant as OathBulk.Otp objects' {
        $codes = Get-OathBulkCode $Small -At ([DateTimeOffset]::FromUnixTimeSeconds(0)) -ErrorAction SilentlyContinue
        $codes.Count | Should -Be 3
        $codes[0].PSObject.TypeNames[0] | Should -Be 'OathBulk.Otp'
        $codes[0].Code | Should -Be '702218'
        $codes[0].Code | Should -BeOfType [string]
        $codes[1].Code | Should -Be '282760'
        $codes[0].At | Should -Be ([DateTimeOffset]::FromUnixTimeSeconds(0))
        $codes[0].ValidFor | Should -Be 30
        $codes[2].TimeInterval | Should -Be 60
    }

    It 'accepts -At as a string and applies -ClockOffset' {
        $c = Get-OathBulkCode $Small -At '1970-01-01T00:00:00Z' -ClockOffset 30 -Where 'row.line == 2' -ErrorAction SilentlyContinue
        $c.At | Should -Be ([DateTimeOffset]::FromUnixTimeSeconds(30))
        $c.Step | Should -Be 1
    }

    It 'has a default table view with the code' {
        $text = Get-OathBulkCode $Small -ErrorAction SilentlyContinue | Out-String -Width 200
        $text | Should -Match 'Line\s+Upn\s+Serial\s+Code\s+ValidFor'
    }

    It 'writes row errors as non-terminating errors' {
        $null = Get-OathBulkCode $Small -ErrorVariable e -ErrorAction SilentlyContinue
        $e.FullyQualifiedErrorId | Should -Contain 'OathBulk.InvalidSecret,Get-OathBulkCode'
    }

    It 'turns a rhai compile error (exit 2) into a terminating error' {
        { Get-OathBulkCode $Small -Where 'row.line ==' -ErrorAction SilentlyContinue } | Should -Throw -ErrorId 'OathBulk.UsageError,Get-OathBulkCode'
    }

    It 'keeps secrets out of the objects unless -RevealSecrets' {
        (Get-OathBulkCode $Small -ErrorAction SilentlyContinue)[0].Secret | Should -BeNullOrEmpty
        (Get-OathBulkCode $Small -RevealSecrets -ErrorAction SilentlyContinue)[0].Secret | Should -Not -BeNullOrEmpty
    }
}
