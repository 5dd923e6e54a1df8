# Dot-sourced by the benchmarks after their param block: $repo, $Binary (default: the release
# build), $manifest, $pwsh (the running pwsh's apphost), $WorkDir created, and New-BigCsv from
# the test helpers (one generator for tests and benchmarks).
$repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
if (-not $Binary) { $Binary = Join-Path $repo 'target/release/oathbulk' }
$manifest = Join-Path $repo 'powershell/OathBulk/OathBulk.psd1'
$pwsh = Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' })
$null = New-Item -ItemType Directory -Force -Path $WorkDir
. (Join-Path $repo 'powershell/tests/TestHelpers.ps1')
