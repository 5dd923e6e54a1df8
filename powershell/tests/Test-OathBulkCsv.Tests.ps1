BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest
    $script:Small = New-SmallCsv $TestDrive
    $script:Clean = Join-Path $TestDrive 'clean.csv'
    @(
        'upn,serial number,secret key,time interval,manufacturer,model'
        'alice@contoso.com,1000001,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,30,Token2,C202'
    ) | Set-Content $Clean -Encoding utf8NoBOM
}

Describe 'Test-OathBulkCsv' {
    It 'returns OathBulk.Finding objects' {
        $f = Test-OathBulkCsv $Small -ErrorAction SilentlyContinue
        $f[0].PSObject.TypeNames[0] | Should -Be 'OathBulk.Finding'
        $dup = $f | Where-Object Code -eq 'duplicate_serial'
        $dup.Severity | Should -Be 'error'
        $dup.Lines | Should -Be @(2, 6)
        $dup.Lines | Should -BeOfType [long]
        ($f | Where-Object Code -eq 'weak_secret').Serial | Should -Be '1000002'
    }

    It 'has a default table view' {
        Test-OathBulkCsv $Small -ErrorAction SilentlyContinue | Out-String -Width 200 | Should -Match 'Severity\s+Code\s+Lines'
    }

    It 'writes unreadable rows as errors' {
        $null = Test-OathBulkCsv $Small -ErrorVariable e -ErrorAction SilentlyContinue
        $e.Count | Should -Be 2
        $e[0].TargetObject.Code | Should -Be 'invalid_secret'
    }

    It '-Quiet returns $false for a bad file and $true for a clean one, without errors' {
        Test-OathBulkCsv $Small -Quiet -ErrorVariable e | Should -BeFalse
        $e | Should -BeNullOrEmpty
        Test-OathBulkCsv $Clean -Quiet | Should -BeTrue
    }

    It 'returns nothing for a clean file' {
        Test-OathBulkCsv $Clean | Should -BeNullOrEmpty
    }
}
