BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest -Token 'users-test-token-41ab'
    $script:Seed = New-SimCsv $TestDrive
    # Six tokens for one user (spelled two ways: Entra compares UPNs case-insensitively).
    $script:Many = Join-Path $TestDrive 'many.csv'
    $rows = @('upn,serial number,secret key,time interval,manufacturer,model')
    for ($i = 1; $i -le 6; $i++) {
        $upn = if ($i % 2) { 'frank@contoso.com' } else { 'Frank@Contoso.com' }
        $rows += "$upn,300000$i,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,30,Token2,C202"
    }
    $rows += 'gina@contoso.com,3000007,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,30,Token2,C202'
    $rows += 'gina@contoso.com,3000008,notbase32!!,30,Token2,C202'
    $rows | Set-Content -LiteralPath $Many -Encoding utf8NoBOM
}

Describe 'Get-OathBulkUser' {

    It 'writes one OathBulk.User per user, tokens typed, case-insensitive grouping' {
        $u = Get-OathBulkUser $Many -ErrorAction SilentlyContinue
        $u.Count | Should -Be 2
        $u[0].PSObject.TypeNames[0] | Should -Be 'OathBulk.User'
        $u[0].Upn | Should -Be 'frank@contoso.com'
        $u[0].Count | Should -Be 6
        $u[0].Count | Should -BeOfType [long]
        $u[0].Tokens.Count | Should -Be 6
        $u[0].Tokens[0] | Should -BeOfType ([OathBulk.UserToken])
        $u[0].Tokens.Serial | Should -Be @('3000001', '3000002', '3000003', '3000004', '3000005', '3000006')
        $u[0].Tokens[1].Line | Should -Be 3
        $u[0].Tokens[0].Status | Should -BeNullOrEmpty
        $u[0].Warning | Should -Not -BeNullOrEmpty
        $u[1].Warning | Should -BeNullOrEmpty
    }

    It 'has a default table view, and objects carry no Path' {
        $u = Get-OathBulkUser $Many -ErrorAction SilentlyContinue
        ($u | Out-String -Width 200) | Should -Match 'Upn\s+Count\s+Tokens\s+Warning'
        ($u | Out-String -Width 200) | Should -Match '3000001, 3000002'
        $u[0].PSObject.Properties['Path'] | Should -BeNullOrEmpty
    }

    It 'writes unreadable rows as non-terminating errors' {
        $u = Get-OathBulkUser $Many -ErrorVariable e -ErrorAction SilentlyContinue
        $u.Count | Should -Be 2
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -BeLike 'OathBulk.InvalidSecret,*'
        $e[0].TargetObject.Line | Should -Be 9
    }

    It 'stays offline without -WithTenant: no tenant flags and no credentials reach the binary' {
        $verbose = Get-OathBulkUser $Seed -GraphUrl 'http://127.0.0.1:9' -AccessToken $Token -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | Out-String
        $verbose | Should -Not -Match '--graph-url'
        $verbose | Should -Not -Match 'OATHBULK_TOKEN'
    }

    It '-WithTenant adds each token''s tenant status and holder' {
        $sim = Start-OathBulkSimulator $Seed -AccessToken $Token
        try {
            $u = Get-OathBulkUser $Seed -WithTenant -GraphUrl $sim.GraphUrl -AccessToken $Token
            $u.Count | Should -Be 5
            ($u | Where-Object Upn -eq 'bob@contoso.com').Tokens[0].Status | Should -Be 'assigned'
            $erin = ($u | Where-Object Upn -eq 'erin@fabrikam.com').Tokens[0]
            $erin.Status | Should -Be 'assigned'
            $erin.AssignedTo | Should -Not -BeNullOrEmpty
            ($u | Select-Object -ExpandProperty Tokens | Where-Object Status -eq 'available').Serial | Sort-Object |
                Should -Be @('2000001', '2000003', '2000004')
            $wrong = ConvertTo-SecureString 'not-the-token' -AsPlainText -Force
            { Get-OathBulkUser $Seed -WithTenant -GraphUrl $sim.GraphUrl -AccessToken $wrong } | Should -Throw -ErrorId 'OathBulk.AuthRejected,Get-OathBulkUser'
        } finally {
            $sim | Stop-OathBulkSimulator
        }
    }
}
