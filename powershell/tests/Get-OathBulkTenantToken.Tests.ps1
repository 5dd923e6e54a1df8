BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest -Token 'tenant-test-token-5fd1'
    $script:Seed = New-SimCsv $TestDrive
}

Describe 'Get-OathBulkTenantToken' {
    BeforeAll { Start-TestSimulator $Seed }
    AfterAll { Stop-TestSimulator }

    It 'lists the inventory as OathBulk.TenantToken objects' {
        $t = Get-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -AccessToken $Token
        $t.Count | Should -Be 5
        $t[0].PSObject.TypeNames[0] | Should -Be 'OathBulk.TenantToken'
        ($t | Where-Object Serial -eq '2000005').Status | Should -Be 'assigned'
        ($t | Out-String -Width 200) | Should -Match 'Serial\s+Status\s+AssignedTo'
    }

    It 'binds Serial from piped rows into one run' {
        $t = Import-OathBulkToken $Seed | Where-Object Upn -like '*@fabrikam.com' | Get-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -AccessToken $Token
        ($t.Serial | Sort-Object) | Should -Be @('2000004', '2000005')
    }

    It 'throws a terminating AuthRejected error for a wrong token' {
        $wrong = ConvertTo-SecureString 'not-the-token' -AsPlainText -Force
        { Get-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -AccessToken $wrong } | Should -Throw -ErrorId 'OathBulk.AuthRejected,Get-OathBulkTenantToken'
    }

    It '-UseDeviceCode -ClientId: device-code sign-in, the message as a warning' {
        $all = Get-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -AuthorityUrl $Sim.AuthorityUrl -UseDeviceCode -ClientId '11111111-2222-3333-4444-555555555555' -Verbose -WarningVariable w -WarningAction SilentlyContinue 4>&1
        $tokens = $all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        $tokens.Count | Should -Be 5
        ($w -join "`n") | Should -Match 'To sign in, use a web browser to open the page .* and enter the code'
        $verbose = $all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | Out-String
        $verbose | Should -Match '--client-id 11111111-2222-3333-4444-555555555555'
        $verbose | Should -Match '--device-code'
        $verbose | Should -Match 'OATHBULK_TOKEN=\(unset\)'
    }

    It '-UseDeviceCode does not combine with another credential' {
        { Get-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -UseDeviceCode -AccessToken $Token } | Should -Throw -ErrorId 'OathBulk.InvalidCredential,Get-OathBulkTenantToken'
        $cred = [pscredential]::new('app', (ConvertTo-SecureString 's' -AsPlainText -Force))
        { Get-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -Credential $cred -TenantId t -ClientId x } | Should -Throw -ErrorId 'OathBulk.InvalidCredential,Get-OathBulkTenantToken'
    }
}
