<#
.SYNOPSIS
Benchmarks pipeline binding: Import-Csv rows piped into Enable-OathBulkToken -Simulate -WhatIf.

.DESCRIPTION
Generates a vendor CSV of -Rows rows (cached under -WorkDir), reads it with Import-Csv (not
timed), then pipes the rows into `Enable-OathBulkToken -Simulate -WhatIf` in a fresh pwsh
process after one warm-up pass, -Repeat times. Prints, for the best pass:

  BindRowsPerSec  rows / (first piped row .. last row bound), as the module reports it
                  (-Verbose "bound N piped object(s) in X ms"): the cost of binding alone;
  TotalSeconds    the whole command, including the binary's simulated dry run of every row.

Target (issue 11): at least 50,000 rows/s bound on the 2-core reference machine.

.EXAMPLE
pwsh -NoProfile -File powershell/bench/binding-bench.ps1 -Rows 100000
#>
[CmdletBinding()]
param(
    [int]$Rows = 100000,
    [string]$WorkDir = (Join-Path ([System.IO.Path]::GetTempPath()) 'oathbulk-bench'),
    [string]$Binary,
    [int]$Repeat = 3
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'BenchSetup.ps1')
$csv = Join-Path $WorkDir "bind-$Rows.csv"
if (-not (Test-Path -LiteralPath $csv)) { $null = New-BigCsv $csv $Rows }
$script = @"
`$env:OATHBULK_PATH = '$Binary'
Import-Module '$manifest'
`$rows = Import-Csv -LiteralPath '$csv'
`$null = `$rows | Select-Object -First 2000 | Enable-OathBulkToken -Simulate -WhatIf   # warm-up (JIT)
for (`$r = 0; `$r -lt $Repeat; `$r++) {
    `$sw = [System.Diagnostics.Stopwatch]::StartNew()
    `$out = `$rows | Enable-OathBulkToken -Simulate -WhatIf -Verbose 4>&1
    `$sw.Stop()
    `$bound = (`$out | Where-Object { `$_ -is [System.Management.Automation.VerboseRecord] -and `$_.Message -match 'bound (\d+) piped object\(s\) in ([\d,.]+) ms' } | Select-Object -First 1)
    `$null = `$bound.Message -match 'bound (\d+) piped object\(s\) in ([\d,.]+) ms'
    `$n = @(`$out | Where-Object { `$_ -isnot [System.Management.Automation.VerboseRecord] }).Count
    '{0}|{1}|{2}|{3}' -f `$Matches[1], (`$Matches[2] -replace ',', ''), `$sw.Elapsed.TotalSeconds, `$n
}
"@
$runs = & $pwsh -NoLogo -NoProfile -Command $script | Where-Object { $_ -match '^\d+\|' } | ForEach-Object {
    $bound, $ms, $total, $objects = $_ -split '\|'
    [pscustomobject]@{ Bound = [int]$bound; BindMs = [double]$ms; TotalSeconds = [double]$total; Objects = [int]$objects }
}
$best = $runs | Sort-Object BindMs | Select-Object -First 1
if ($best.Bound -ne $Rows -or $best.Objects -ne $Rows) { throw "expected $Rows rows bound and $Rows activations, got $($best.Bound) and $($best.Objects)" }
[pscustomobject]@{
    Rows           = $Rows
    BindSeconds    = [math]::Round($best.BindMs / 1000, 3)
    BindRowsPerSec = [int]($Rows / ($best.BindMs / 1000))
    TotalSeconds   = [math]::Round($best.TotalSeconds, 2)
    TotalRowsPerSec = [int]($Rows / $best.TotalSeconds)
}
