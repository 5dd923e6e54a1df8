# Every example of the cmdlets' help (powershell/docs/cmdlets/*.md, rendered to the MAML help
# Get-Help reads and to docs/powershell.md) runs as written against a simulated tenant: in a
# child `pwsh -NonInteractive` (a prompt fails instead of
# hanging), strict mode 1.0 on (an undefined variable such as an example's `$t` is an error), in a
# folder holding the files the examples name. Examples that sign in to the real Microsoft
# Entra ID (a device code, a client secret, a certificate) or ask (Read-Host, Get-Credential,
# -Confirm) cannot run here: they are listed as skipped, each with its reason.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest
    $script:Results = Join-Path $TestDrive 'examples.json'
    $runner = Join-Path $TestDrive 'run-examples.ps1'
    @'
param([string]$Manifest, [string]$Results, [string]$Work)
$ErrorActionPreference = 'Continue'
Import-Module $Manifest -ErrorAction Stop
$interactive = '-UseDeviceCode|Read-Host|Get-Credential|\$app\b|-CertificateThumbprint|-ClientSecretCredential|-Confirm\b(?!:)|Connect-OathBulk -TenantId'
$out = foreach ($name in (Get-Module OathBulk).ExportedFunctions.Keys | Sort-Object) {
    $i = 0
    foreach ($ex in @((Get-Help $name).Examples.Example)) {
        $i++
        $code = ([string]$ex.Code).Trim()
        $row = [ordered]@{ Name = "$name example $i"; Skipped = $null; Errors = @() }
        if ($code -match $interactive) { $row.Skipped = "signs in to Entra ID or asks ($($Matches[0]))"; [pscustomobject]$row; continue }
        # A fresh folder and tenant per example: the files it names, a simulator as the
        # session's tenant (Start-OathBulkSimulator sets it, as an admin's rehearsal does).
        $dir = Join-Path $Work ([guid]::NewGuid().ToString('n'))
        $null = New-Item -ItemType Directory (Join-Path $dir 'journals')
        foreach ($f in 'tokens.csv', 'lost.csv', 'leavers.csv', 'retired.csv') { Copy-Item (Join-Path $Work 'seed.csv') (Join-Path $dir $f) }
        Push-Location $dir
        [Environment]::CurrentDirectory = $dir
        $sim = Start-OathBulkSimulator tokens.csv
        $null = Enable-OathBulkToken tokens.csv -Journal run.jsonl -Force -ErrorAction SilentlyContinue
        $null = Enable-OathBulkToken tokens.csv -Journal (Join-Path $dir 'journals/a.jsonl') -Force -ErrorAction SilentlyContinue
        $Error.Clear()
        $own = @()
        try {
            $sb = [scriptblock]::Create("Set-StrictMode -Version 1.0; $code")
            $null = & $sb *>&1
        } catch {
            # An example's own `throw 'why'` (a guard on bad data) is its result, not a failure.
            $own = [regex]::Matches($code, "throw '([^']+)'") | ForEach-Object { $_.Groups[1].Value }
            if ($_.Exception.Message -notin $own) { $row.Errors += "terminating: $($_.FullyQualifiedErrorId): $($_.Exception.Message)" }
        }
        # Row outcomes (a conflict, a bad row) are the examples' data; what must not happen is
        # PowerShell refusing the example itself.
        foreach ($e in $Error) {
            $id = [string]$e.FullyQualifiedErrorId
            if ($e.Exception.Message -in $own) { continue }
            if ($id -notmatch '^OathBulk\.' -or $id -match '^OathBulk\.(UsageError|ConfirmationRequired|BinaryNotFound|StartFailed|UnsupportedInput|PathNotFound|NoTarget|InvalidCredential|ServiceUnavailable|AuthRejected)') {
                $row.Errors += "${id}: $($e.Exception.Message)"
            }
        }
        Pop-Location
        Stop-OathBulkSimulator -ErrorAction SilentlyContinue
        [pscustomobject]$row
    }
}
$out | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $Results
'@ | Set-Content -LiteralPath $runner
    # The seed: the serials and users the examples name, in the states they act on.
    $work = Join-Path $TestDrive 'work'
    $null = New-Item -ItemType Directory $work
    @(
        'upn,serial number,secret key,time interval,manufacturer,model,sim_state'
        'adele.vance@contoso.com,2200145001,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,30,Token2,C202,assigned'
        'alice@contoso.com,1000001,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,Token2,C100,available'
        'bob@fabrikam.com,1000002,KRUGKIDROVUWG2ZAMJZG653OEBTG66BA,30,Token2,C100,missing'
        # A row with a broken seed: the examples that collect row errors have one.
        'carol@contoso.com,1000003,notbase32!!,30,Token2,C100,available'
    ) | Set-Content -LiteralPath (Join-Path $work 'seed.csv') -Encoding utf8NoBOM
    $out = & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -File $runner -Manifest $ModuleManifest -Results $Results -Work $work 2>&1 | Out-String
    if (-not (Test-Path -LiteralPath $Results)) { throw "the example runner wrote no results: $out" }
    $script:Examples = @(Get-Content -Raw $Results | ConvertFrom-Json)
}

Describe 'Every help example, as written, against the simulator' {
    It 'found the examples of every cmdlet' {
        $Examples.Count | Should -BeGreaterThan 40
        @($Examples | Where-Object { -not $_.Skipped }).Count | Should -BeGreaterThan 25
    }

    It 'runs every example that needs no real sign-in without PowerShell refusing it' {
        $failed = @($Examples | Where-Object { -not $_.Skipped -and @($_.Errors).Count } | ForEach-Object { "$($_.Name): $(@($_.Errors) -join ' | ')" })
        $failed | Should -BeNullOrEmpty -Because ($failed -join "`n")
    }

    It 'skips only examples that sign in to Entra ID or ask, saying which' {
        foreach ($e in $Examples | Where-Object Skipped) { $e.Skipped | Should -Match 'signs in to Entra ID or asks \(' }
    }
}
