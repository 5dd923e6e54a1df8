BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest -Token 'status-test-token-81c3'
    $script:Seed = New-SimCsv $TestDrive 'status.csv'
}

Describe 'Get-OathBulkTokenStatus' {
    BeforeAll { Start-TestSimulator $Seed }
    AfterAll { Stop-TestSimulator }

    It 'answers per serial with the state and the next step, as OathBulk.TokenStatus objects' {
        $s = Get-OathBulkTokenStatus -Serial 2000001, 2000002, 9999999 -GraphUrl $Sim.GraphUrl -AccessToken $Token
        $s.Count | Should -Be 3
        $s[0].PSObject.TypeNames[0] | Should -Be 'OathBulk.TokenStatus'
        $by = @{}; foreach ($r in $s) { $by[$r.Query] = $r }
        $by['2000001'].Status | Should -Be 'available'
        $by['2000002'].Status | Should -Be 'assigned'
        $by['2000002'].Upn | Should -Be 'bob@contoso.com'
        $by['2000002'].Methods | Should -Be 1
        $by['2000002'].MethodsLimit | Should -Be 5
        $by['2000002'].NextStep | Should -Match 'oathbulk activate --serial 2000002 --upn bob@contoso\.com --code CODE'
        $by['9999999'].Status | Should -Be 'not_found'
    }

    It 'binds Upn from piped objects and says when a user holds nothing' {
        $s = [pscustomobject]@{ Upn = 'alice@contoso.com' }, [pscustomobject]@{ Upn = 'nobody@contoso.com' } |
            Get-OathBulkTokenStatus -GraphUrl $Sim.GraphUrl -AccessToken $Token
        ($s | Where-Object Query -eq 'alice@contoso.com').Status | Should -Be 'no_tokens'
        ($s | Where-Object Query -eq 'nobody@contoso.com').Status | Should -Be 'user_not_found'
    }

    It 'shows LastUsed once a code was accepted, and never the bearer token' {
        $null = Enable-OathBulkToken $Seed -GraphUrl $Sim.GraphUrl -AccessToken $Token -Force -ErrorAction SilentlyContinue
        $out = Get-OathBulkTokenStatus -CsvPath $Seed -GraphUrl $Sim.GraphUrl -AccessToken $Token -Verbose 4>&1 | Out-String -Width 300
        $s = Get-OathBulkTokenStatus -Serial 2000002 -GraphUrl $Sim.GraphUrl -AccessToken $Token
        $s.Status | Should -Be 'activated'
        $s.LastUsed | Should -Not -BeNullOrEmpty
        $out | Should -Not -Match 'status-test-token-81c3'
        $out | Should -Not -Match 'GEZDGNBVGY3TQOJQ'
    }
}
