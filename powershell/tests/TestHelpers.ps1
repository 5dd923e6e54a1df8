# Shared by every *.Tests.ps1: dot-source in BeforeAll.
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
$script:ModuleManifest = Join-Path $RepoRoot 'powershell/OathBulk/OathBulk.psd1'
$script:ReleaseBinary = Join-Path $RepoRoot ("target/release/oathbulk" + $(if ($IsWindows) { '.exe' } else { '' }))

# The project's home: Cargo.toml's repository, the one source of the URLs the module names.
function Get-CargoRepository {
    $cargo = Get-Content (Join-Path $script:RepoRoot 'Cargo.toml') -Raw
    [regex]::Match($cargo, '(?m)^repository\s*=\s*"([^"]+)"').Groups[1].Value
}

# Every test file's BeforeAll: dot-source this file, then Initialize-OathBulkTest. With -Token,
# $Token (a SecureString) and $PlainToken: the bearer token the file's simulators accept.
function Initialize-OathBulkTest([string]$Token) {
    if ($Token) {
        $script:PlainToken = $Token
        $script:Token = ConvertTo-SecureString $Token -AsPlainText -Force
    }
    # The tests drive the real release binary (cargo build --release).
    if (-not (Test-Path -LiteralPath $script:ReleaseBinary)) { throw "Build the release binary first: cargo build --release ($script:ReleaseBinary missing)" }
    $env:OATHBULK_PATH = $script:ReleaseBinary
    # A token inherited from the shell would change which credentials the cmdlets use.
    Remove-Item Env:OATHBULK_TOKEN, Env:OATHBULK_CLIENT_SECRET -ErrorAction Ignore
    Import-Module $script:ModuleManifest -Force -ErrorAction Stop
}

# A simulator seeded from $Seed that accepts $Token, as $Sim (and $Seed): in BeforeEach (a
# tenant per test) or BeforeAll (one per Describe block), with Stop-TestSimulator after.
function Start-TestSimulator([Parameter(Mandatory)] [string]$Seed) {
    $script:Seed = $Seed
    $script:Sim = Start-OathBulkSimulator $Seed -AccessToken $script:Token
}

function Stop-TestSimulator {
    if ($script:Sim) { $script:Sim | Stop-OathBulkSimulator; $script:Sim = $null }
}

# Known vectors: JBSWY3DPEHPK3PXP... at t=0 gives 702218 (160-bit) and 282760 (80-bit).
function New-SmallCsv([string]$Directory) {
    $path = Join-Path $Directory 'small.csv'
    @(
        'upn,serial number,secret key,time interval,manufacturer,model,Dept'
        'alice@contoso.com,1000001,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,30,Token2,C202,IT'
        'bob@contoso.com,1000002,JBSWY3DPEHPK3PXP,30,Token2,C202,HR'
        'carol@fabrikam.com,1000003,notbase32!!,30,Token2,C202,HR'
        ',1000004,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,60,Token2,C202,IT'
        'dave@contoso.com,1000001,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,60,Token2,C202,IT'
    ) | Set-Content -LiteralPath $path -Encoding utf8NoBOM
    $path
}

# A simulator seed: one token per sim_state that matters.
function New-SimCsv([string]$Directory, [string]$Name = 'sim.csv') {
    $path = Join-Path $Directory $Name
    @(
        'upn,serial number,secret key,time interval,manufacturer,model,sim_state'
        'alice@contoso.com,2000001,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,30,Token2,C202,available'
        'bob@contoso.com,2000002,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,Token2,C202,assigned'
        'carol@contoso.com,2000003,MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK,30,Token2,C202,wrong_secret'
        'dave@fabrikam.com,2000004,KRUGKIDROVUWG2ZAMJZG653OEBTG66BA,30,Token2,C202,available'
        'erin@fabrikam.com,2000005,ONSWG4TFOQQGC3TEEBZWK3LJNZQWY3DF,30,Token2,C202,conflict'
    ) | Set-Content -LiteralPath $path -Encoding utf8NoBOM
    $path
}

# Large files for streaming and benchmarks: written with a StreamWriter (fast, flat memory).
# -ExtraColumn adds one more column (value IT), as a vendor's own columns would.
function New-BigCsv([string]$Path, [int]$Rows, [string]$ExtraColumn) {
    $w = [System.IO.StreamWriter]::new($Path, $false, [System.Text.UTF8Encoding]::new($false), 1MB)
    $head, $tail = if ($ExtraColumn) { ",$ExtraColumn", ',IT' } else { '', '' }
    try {
        $w.Write("upn,serial number,secret key,time interval,manufacturer,model$head`n")
        for ($i = 0; $i -lt $Rows; $i++) {
            $w.Write("user$($i % 50000)@contoso.com,$(10000000 + $i),JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,30,Token2,C202$tail`n")
        }
    } finally { $w.Dispose() }
    $Path
}

# A simulator seed of $Rows tokens assigned to their users (serials from $FirstSerial + 1):
# enough rows for a run to be stopped part way.
function New-AssignedCsv([string]$Path, [int]$Rows, [int]$FirstSerial) {
    $lines = @('upn,serial number,secret key,time interval,manufacturer,model,sim_state')
    for ($i = 1; $i -le $Rows; $i++) { $lines += "user$i@contoso.com,$($FirstSerial + $i),JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,30,Token2,C202,assigned" }
    $lines | Set-Content -LiteralPath $Path -Encoding utf8NoBOM
    $Path
}

function Get-ChildOathBulkProcess {
    Get-Process -Name oathbulk -ErrorAction Ignore | Where-Object { $_.Parent -and $_.Parent.Id -eq $PID }
}

# A seed for the lifecycle cmdlets: one token per state they act on.
function New-LifecycleCsv([string]$Directory, [string]$Name = "life-$([guid]::NewGuid().ToString('n')).csv") {
    $path = Join-Path $Directory $Name
    @(
        'upn,serial number,secret key,time interval,manufacturer,model,sim_state'
        'alice@contoso.com,4000001,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,30,Token2,C202,activated'
        'bob@contoso.com,4000002,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,Token2,C202,assigned'
        'carol@contoso.com,4000003,MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK,30,Token2,C202,available'
        'dave@fabrikam.com,4000004,KRUGKIDROVUWG2ZAMJZG653OEBTG66BA,30,Token2,C202,missing'
        'erin@fabrikam.com,4000005,ONSWG4TFOQQGC3TEEBZWK3LJNZQWY3DF,30,Token2,C202,conflict'
    ) | Set-Content -LiteralPath $path -Encoding utf8NoBOM
    $path
}

# The simulator's inventory as sorted "serial=status" strings.
function Get-SimState($Sim, [securestring]$Token) {
    Get-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -AccessToken $Token | Sort-Object Serial | ForEach-Object { "$($_.Serial)=$($_.Status)" }
}

# A seed of $Count tokens (serials 5000001…), one user each, all in $State.
function New-ManyTokensCsv([string]$Directory, [int]$Count, [string]$State = 'activated') {
    $path = Join-Path $Directory "many-$([guid]::NewGuid().ToString('n')).csv"
    @('upn,serial number,secret key,time interval,manufacturer,model,sim_state') +
    (1..$Count | ForEach-Object { "user$_@contoso.com,$(5000000 + $_),JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,30,Token2,C202,$State" }) |
        Set-Content -LiteralPath $path -Encoding utf8NoBOM
    $path
}

# Requests the simulator has answered on one route (graph.list_devices: inventory reads), from
# its /_sim/state snapshot (not counted itself).
function Get-SimRequests($Sim, [string]$Route) {
    $state = Invoke-RestMethod -Uri "http://$($Sim.Listen)/_sim/state"
    [int]$state.counters.requests_by_route.$Route
}

# Pipe every tenant token of $Sim into $Cmdlet (with $Extra parameters); returns
# @{ Changes; Summaries; InventoryReads } (reads counted from the cmdlet's run alone).
function Invoke-PipedTenantTokens($Sim, [securestring]$Token, [string]$Cmdlet, [hashtable]$Extra = @{}) {
    $tokens = @(Get-OathBulkTenantToken -GraphUrl $Sim.GraphUrl -AccessToken $Token)
    $before = Get-SimRequests $Sim 'graph.list_devices'
    $out = @($tokens | & $Cmdlet -GraphUrl $Sim.GraphUrl -AccessToken $Token -PassThruSummary @Extra)
    @{
        Piped          = $tokens.Count
        Changes        = @($out | Where-Object { $_.PSObject.TypeNames[0] -eq 'OathBulk.Change' })
        Summaries      = @($out | Where-Object { $_.PSObject.TypeNames[0] -eq 'OathBulk.Summary' })
        InventoryReads = (Get-SimRequests $Sim 'graph.list_devices') - $before
    }
}

# The first lines of a child session on a machine with no credential store (headless Linux):
# no test store, no D-Bus session bus, and its cache folder (where a session's sealed sign-in
# goes) under the test's own folder.
function Get-NoStoreLine([string]$Cache) {
    'Remove-Item Env:OATHBULK_TEST_ONLY_PLAINTEXT_STORE -ErrorAction Ignore'
    "`$env:DBUS_SESSION_BUS_ADDRESS = 'unix:path=/nonexistent/bus'"
    "`$env:XDG_CACHE_HOME = '$Cache'"
}
