BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest -Token 'report-test-token-47aa'
    $script:Seed = New-SimCsv $TestDrive 'report.csv'
}

Describe 'Export-OathBulkReport' {
    BeforeAll {
        Start-TestSimulator $Seed
        $script:Journal = Join-Path $TestDrive 'run.jsonl'
        $null = Enable-OathBulkToken $Seed -GraphUrl $Sim.GraphUrl -AccessToken $Token -Journal $Journal -Force -ErrorAction SilentlyContinue
    }
    AfterAll { Stop-TestSimulator }

    It 'writes one self-contained page with the pace chart and every failed row, and returns the file' {
        $out = Join-Path $TestDrive 'report.html'
        $f = Export-OathBulkReport $Journal -OutFile $out
        $f | Should -BeOfType System.IO.FileInfo
        $f.FullName | Should -Be $out
        $html = Get-Content -LiteralPath $out -Raw
        $html | Should -Match 'id="pace-chart"'
        # The wrong seed's code is refused; the conflict's token is someone else's.
        ([regex]::Matches($html, 'class="failed-row"')).Count | Should -Be 2
        $html | Should -Match '<td>2000003</td>'
        $html | Should -Match '<td>2000005</td>'
        $html | Should -Not -Match '<script'
        $html | Should -Not -Match '(src|href)='
        $html | Should -Not -Match 'report-test-token-47aa'
        $html | Should -Not -Match 'JBSWY3DPEHPK3PXP'
    }

    It '-PassThruSummary also writes the summary of the journal' {
        $r = Export-OathBulkReport -Journal $Journal -OutFile (Join-Path $TestDrive 'r2.html') -PassThruSummary
        $summary = $r | Where-Object { $_.PSObject.TypeNames[0] -eq 'OathBulk.Summary' }
        $summary.Command | Should -Be 'report'
        $summary.Errors | Should -Be 2
    }

    It 'a missing journal is an error, no page is written' {
        $out = Join-Path $TestDrive 'none.html'
        { Export-OathBulkReport (Join-Path $TestDrive 'absent.jsonl') -OutFile $out -ErrorAction Stop } | Should -Throw
        Test-Path -LiteralPath $out | Should -BeFalse
    }
}
