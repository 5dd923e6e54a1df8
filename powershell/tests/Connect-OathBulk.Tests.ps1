BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest
    $script:Seed = New-SimCsv $TestDrive
    # TEST ONLY: the binary's plaintext stand-in for the OS credential store, so that what
    # Connect-OathBulk keeps is seen by the next process (and never touches a real keychain).
    $script:Store = Join-Path $TestDrive 'test-store.json'
    $env:OATHBULK_TEST_ONLY_PLAINTEXT_STORE = $Store
    $script:Token = ConvertTo-SecureString 'connect-test-token-92c4' -AsPlainText -Force
    function Get-StoreEntry { if (Test-Path $Store) { (Get-Content $Store -Raw | ConvertFrom-Json -AsHashtable).Keys } }
}

AfterAll {
    Remove-Item Env:OATHBULK_TEST_ONLY_PLAINTEXT_STORE -ErrorAction Ignore
}

Describe 'Connect-OathBulk / Disconnect-OathBulk' {
    BeforeAll {
        # The simulator accepts the tokens its own token endpoint issues, and $Token, nothing else.
        $script:Sim = Start-OathBulkSimulator $Seed -AccessToken $Token
    }
    AfterAll {
        if ($script:Sim) { $script:Sim | Stop-OathBulkSimulator }
    }
    BeforeEach {
    }

    It 'signs in once with a device code; later cmdlets need no credentials and no prompt; Disconnect forgets it' {
        Connect-OathBulk -TenantId contoso.example -UseDeviceCode -AuthorityUrl $Sim.AuthorityUrl -WarningVariable w -WarningAction SilentlyContinue
        ($w -join "`n") | Should -Match 'To sign in'
        Get-StoreEntry | Should -Contain 'last-login'

        # No -AccessToken, no environment token: only the kept sign-in can make this work.
        $t = Get-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -WarningVariable w2 -WarningAction SilentlyContinue
        $t.Count | Should -Be 5
        ($w2 -join "`n") | Should -Not -Match 'To sign in'

        Disconnect-OathBulk
        @(Get-StoreEntry).Count | Should -Be 0
        { Get-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -WarningAction SilentlyContinue -ErrorAction Stop } |
            Should -Throw -ErrorId 'OathBulk.UsageError,Get-OathBulkTenantToken'
    }

    It 'keeps an app-only sign-in; the secret never reaches the command line' {
        $cred = [pscredential]::new('test-app', (ConvertTo-SecureString 'app-secret-7731-xyz' -AsPlainText -Force))
        $verbose = Connect-OathBulk -TenantId contoso.example -ClientSecretCredential $cred -AuthorityUrl $Sim.AuthorityUrl -Verbose -WarningAction SilentlyContinue 4>&1
        $text = $verbose | Out-String
        $text | Should -Match '--client-id test-app'
        $text | Should -Not -Match 'app-secret-7731-xyz'
        Get-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -WarningAction SilentlyContinue | Should -HaveCount 5
        Disconnect-OathBulk -TenantId contoso.example -ClientId test-app -AuthorityUrl $Sim.AuthorityUrl
        @(Get-StoreEntry).Count | Should -Be 0
    }

    It 'refuses -ClientSecretCredential without -TenantId' {
        $cred = [pscredential]::new('test-app', (ConvertTo-SecureString 'x' -AsPlainText -Force))
        { Connect-OathBulk -ClientSecretCredential $cred -AuthorityUrl $Sim.AuthorityUrl } | Should -Throw -ErrorId 'OathBulk.InvalidCredential,Connect-OathBulk'
    }
}
