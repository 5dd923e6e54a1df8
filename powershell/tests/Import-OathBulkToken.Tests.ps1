BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest
    $script:Small = New-SmallCsv $TestDrive
}

Describe 'Import-OathBulkToken' {
    It 'returns typed OathBulk.Token objects with PascalCase properties' {
        $tokens = Import-OathBulkToken $Small -ErrorAction SilentlyContinue
        $tokens.Count | Should -Be 3
        $tokens[0].PSObject.TypeNames[0] | Should -Be 'OathBulk.Token'
        $tokens[0].Line | Should -Be 2
        $tokens[0].Line | Should -BeOfType [long]
        $tokens[0].Upn | Should -Be 'alice@contoso.com'
        $tokens[0].Serial | Should -Be '1000001'
        $tokens[0].TimeInterval | Should -Be 30
        $tokens[0].SecretBits | Should -Be 160
        $tokens[0].Hash | Should -Be 'sha1'
        $tokens[0].Extra.Dept | Should -Be 'IT'
        $tokens[0].Type | Should -Be 'token'
    }

    It 'keeps every JSON field, absent optional ones as $null' {
        $t = Import-OathBulkToken $Small -ErrorAction SilentlyContinue | Select-Object -First 1
        $names = $t.PSObject.Properties.Name
        foreach ($n in 'Line', 'Upn', 'Serial', 'Manufacturer', 'Model', 'TimeInterval', 'Hash', 'DisplayName', 'SecretBits', 'Secret') {
            $names | Should -Contain $n
        }
        # Hidden (kept out of Export-Csv) but there.
        foreach ($n in 'Type', 'Extra', 'Path') {
            $names | Should -Not -Contain $n
            $t.PSObject.Properties[$n] | Should -Not -BeNullOrEmpty
        }
        $t.Secret | Should -BeNullOrEmpty
        $t.DisplayName | Should -BeNullOrEmpty
    }

    It 'carries the source CSV as a hidden Path property' {
        $t = Import-OathBulkToken $Small -ErrorAction SilentlyContinue | Select-Object -First 1
        $t.Path | Should -Be (Resolve-Path $Small).ProviderPath
        ($t | Get-Member -MemberType Property).Name | Should -Not -Contain 'Path'
        ($t | Select-Object * | ConvertTo-Json) | Should -Not -Match '"Path"'
    }

    It 'shows secrets only with -RevealSecrets' {
        $t = Import-OathBulkToken $Small -RevealSecrets -ErrorAction SilentlyContinue | Select-Object -First 1
        $t.Secret | Should -Be 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'
    }

    It 'has a default table view' {
        $text = Import-OathBulkToken $Small -ErrorAction SilentlyContinue | Out-String -Width 200
        $text | Should -Match 'Line\s+Upn\s+Serial\s+Manufacturer\s+Model\s+TimeInterval\s+Hash\s+SecretBits'
        $text | Should -Not -Match 'Extra'
    }

    It 'writes unusable rows as non-terminating errors with OathBulk.<Code> as ErrorId' {
        $tokens = Import-OathBulkToken $Small -ErrorVariable rowErrors -ErrorAction SilentlyContinue
        $tokens.Count | Should -Be 3
        $rowErrors.Count | Should -Be 2
        $rowErrors[0].FullyQualifiedErrorId | Should -BeLike 'OathBulk.InvalidSecret,*'
        $rowErrors[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $rowErrors[0].TargetObject.PSObject.TypeNames[0] | Should -Be 'OathBulk.RowError'
        $rowErrors[0].TargetObject.Line | Should -Be 4
        $rowErrors[0].TargetObject.Field | Should -Be 'secret'
        $rowErrors[0].Exception.Message | Should -Match 'line 4'
        $rowErrors[1].FullyQualifiedErrorId | Should -BeLike 'OathBulk.MissingUpn,*'
    }

    It 'stops on row errors with -ErrorAction Stop' {
        { Import-OathBulkToken $Small -ErrorAction Stop } | Should -Throw -ErrorId 'OathBulk.InvalidSecret,Import-OathBulkToken'
    }

    It 'turns exit code 2 into a terminating error with the binary message' {
        $bad = Join-Path $TestDrive 'bad.csv'
        Set-Content $bad 'foo,bar' -Encoding utf8NoBOM
        $err = $null
        try { Import-OathBulkToken $bad -ErrorAction SilentlyContinue } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -Be 'OathBulk.UsageError,Import-OathBulkToken'
        $err.Exception.Message | Should -Match 'exit code 2'
        $err.Exception.Message | Should -Match 'serial number column'
        $err.Exception.Data['ExitCode'] | Should -Be 2
    }

    It 'reports a missing file as a non-terminating ObjectNotFound error' {
        Import-OathBulkToken (Join-Path $TestDrive 'nope.csv') -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Be 'OathBulk.PathNotFound,Import-OathBulkToken'
        $e[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'passes -Where to the binary (rhai)' {
        $t = Import-OathBulkToken $Small -Where 'row.upn.ends_with("@contoso.com") && row.time_interval == 60' -ErrorAction SilentlyContinue
        @($t).Count | Should -Be 1
        $t.Upn | Should -Be 'dave@contoso.com'
    }

    It 'writes the summary to the pipeline only with -PassThruSummary' {
        $all = Import-OathBulkToken $Small -PassThruSummary -ErrorAction SilentlyContinue
        $all[-1].PSObject.TypeNames[0] | Should -Be 'OathBulk.Summary'
        $all[-1].Rows | Should -Be 5
        $all[-1].Errors | Should -Be 2
        $all[-1].Counts.invalid_secret | Should -Be 1
        (Import-OathBulkToken $Small -ErrorAction SilentlyContinue | Where-Object { $_.PSObject.TypeNames[0] -eq 'OathBulk.Summary' }) | Should -BeNullOrEmpty
    }

    It 'accepts files from Get-ChildItem and wildcards' {
        Copy-Item $Small (Join-Path $TestDrive 'copy.csv')
        @(Get-ChildItem $TestDrive -Filter '*.csv' | Where-Object Name -in 'small.csv', 'copy.csv' | Import-OathBulkToken -ErrorAction SilentlyContinue).Count | Should -Be 6
    }

    It 'has no Get-OathBulkToken alias (the name reads as the tenant''s tokens: Get-OathBulkTenantToken)' {
        Get-Command Get-OathBulkToken -ErrorAction Ignore | Should -BeNullOrEmpty
    }

    It 'does not echo secrets in -Verbose output' {
        $verbose = Import-OathBulkToken $Small -Verbose -ErrorAction SilentlyContinue 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | Out-String
        $verbose | Should -Match 'oathbulk'
        $verbose | Should -Not -Match 'JBSWY3DPEHPK3PXP'
    }
}

Describe 'Import-OathBulkToken streaming' {
    BeforeAll {
        $script:Big = New-BigCsv (Join-Path $TestDrive 'big200k.csv') 200000
        $script:Full = Measure-Command { Import-OathBulkToken $Big | Out-Null }
    }

    It 'returns the first row long before the full run and stops the binary' {
        $first = Measure-Command { $script:One = Import-OathBulkToken $Big | Select-Object -First 1 }
        $One.Line | Should -Be 2
        $first.TotalMilliseconds | Should -BeLessThan ($Full.TotalMilliseconds / 3)
        Start-Sleep -Milliseconds 200
        Get-ChildOathBulkProcess | Should -BeNullOrEmpty
    }

    It 'stops the binary when a downstream command fails' {
        { Import-OathBulkToken $Big | ForEach-Object { if ($_.Line -gt 10) { throw 'enough' } } } | Should -Throw 'enough'
        Start-Sleep -Milliseconds 200
        Get-ChildOathBulkProcess | Should -BeNullOrEmpty
    }
}
