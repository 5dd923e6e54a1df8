BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:HasTenant = (Test-BinarySubcommand 'tenant') -and (Test-BinarySubcommand 'simulate')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest
    $script:Seed = New-SimCsv $TestDrive
    $script:Token = ConvertTo-SecureString 'tenant-test-token-5fd1' -AsPlainText -Force
}

Describe 'Get-OathBulkTenantToken' {
    BeforeAll {
        if ($HasTenant) { $script:Sim = Start-OathBulkSimulator $Seed -AccessToken $Token }
    }
    AfterAll {
        if ($script:Sim) { $script:Sim | Stop-OathBulkSimulator }
    }
    BeforeEach {
        if (-not $HasTenant) { Set-ItResult -Skipped -Because "the oathbulk binary has no 'tenant' or 'simulate' subcommand yet" }
    }

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
}
