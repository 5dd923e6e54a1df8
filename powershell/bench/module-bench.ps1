<#
.SYNOPSIS
Benchmarks Import-OathBulkToken: objects/s and peak working set over generated CSVs.

.DESCRIPTION
For each size, generates a CSV (cached under -WorkDir), runs one warm-up pass, then times
`Import-OathBulkToken <csv> | Measure-Object` in a fresh pwsh process (so the peak working
set belongs to that run alone; pwsh start-up and module import are excluded from the timing).

.EXAMPLE
pwsh -NoProfile -File powershell/bench/module-bench.ps1 -Rows 100000, 400000
#>
[CmdletBinding()]
param(
    [int[]]$Rows = @(100000, 400000),
    [string]$WorkDir = (Join-Path ([System.IO.Path]::GetTempPath()) 'oathbulk-bench'),
    [string]$Binary,
    [int]$Repeat = 3
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'BenchSetup.ps1')

foreach ($n in $Rows) {
    $csv = Join-Path $WorkDir "bench-$n.csv"
    if (-not (Test-Path $csv)) { $null = New-BigCsv $csv $n -ExtraColumn Dept }
    $script = @"
`$env:OATHBULK_PATH = '$Binary'
Import-Module '$manifest'
`$null = Import-OathBulkToken '$csv' | Select-Object -First 1000 | Measure-Object   # warm-up (JIT)
`$best = [double]::MaxValue
for (`$r = 0; `$r -lt $Repeat; `$r++) {
    `$sw = [System.Diagnostics.Stopwatch]::StartNew()
    `$count = (Import-OathBulkToken '$csv' | Measure-Object).Count
    `$sw.Stop()
    if (`$count -ne $n) { throw "expected $n objects, got `$count" }
    `$best = [Math]::Min(`$best, `$sw.Elapsed.TotalSeconds)
}
`$peak = [System.Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64
'{0}|{1}|{2}' -f `$count, `$best, `$peak
"@
    $out = & $pwsh -NoLogo -NoProfile -Command $script
    $count, $seconds, $peak = ($out | Select-Object -Last 1) -split '\|'
    [pscustomobject]@{
        Rows            = [int]$count
        Seconds         = [math]::Round([double]$seconds, 2)
        ObjectsPerSec   = [int]([double]$count / [double]$seconds)
        PeakWorkingSetMB = [int]([double]$peak / 1MB)
    }
}
