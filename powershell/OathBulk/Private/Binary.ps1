function Find-OathBulkBinary {
    <#
    .SYNOPSIS
    Locates the oathbulk executable: $env:OATHBULK_PATH, the module's bin folder, PATH, then
    the repository's target/release build when the module runs from the source tree.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()

    $exe = if ($IsWindows) { 'oathbulk.exe' } else { 'oathbulk' }
    if ($env:OATHBULK_PATH) {
        $candidate = $env:OATHBULK_PATH
        if (Test-Path -LiteralPath $candidate -PathType Container) { $candidate = Join-Path $candidate $exe }
        if (Test-Path -LiteralPath $candidate -PathType Leaf) { return (Resolve-Path -LiteralPath $candidate).ProviderPath }
        throw [System.IO.FileNotFoundException]::new("OATHBULK_PATH is set to '$env:OATHBULK_PATH' but no oathbulk executable is there.", $candidate)
    }
    $moduleRoot = Split-Path -Parent $PSScriptRoot
    $bundled = Join-Path $moduleRoot "bin/$exe"
    if (Test-Path -LiteralPath $bundled -PathType Leaf) { return $bundled }
    $onPath = Get-Command -Name $exe -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if ($onPath) { return $onPath.Source }
    # Source tree: powershell/OathBulk -> ../../target/release
    $repoBuild = Join-Path $moduleRoot "../../target/release/$exe"
    if (Test-Path -LiteralPath $repoBuild -PathType Leaf) { return (Resolve-Path -LiteralPath $repoBuild).ProviderPath }
    throw [System.IO.FileNotFoundException]::new(
        "Cannot find the oathbulk executable. Set `$env:OATHBULK_PATH, copy it to '$(Join-Path $moduleRoot 'bin')', or put it on PATH.", $exe)
}

function Get-OathBulkCapability {
    <#
    .SYNOPSIS
    What this binary supports: its subcommands, and the long flags of one subcommand, parsed
    from --help and cached per binary path and modification time.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string]$Binary,
        [string]$Subcommand
    )
    $stamp = (Get-Item -LiteralPath $Binary).LastWriteTimeUtc.Ticks
    $key = "$Binary|$stamp|$Subcommand"
    if (-not $script:CapabilityCache.ContainsKey($key)) {
        [string[]]$helpArgs = if ($Subcommand) { $Subcommand, '--help' } else { '--help' }
        $text = (& $Binary @helpArgs 2>&1 | Out-String)
        $ok = $LASTEXITCODE -eq 0
        $commands = @()
        if (-not $Subcommand) {
            $inCommands = $false
            foreach ($line in $text -split "`r?`n") {
                if ($line -match '^Commands:') { $inCommands = $true; continue }
                if ($inCommands -and $line -match '^\S') { $inCommands = $false }
                if ($inCommands -and $line -match '^\s{2}([a-z][a-z0-9-]*)\s') { $commands += $Matches[1] }
            }
        }
        # .Value, not ForEach-Object Value: that one honours -WhatIf and would return nothing.
        $flags = @([regex]::Matches($text, '(?<![\w-])--[a-z][a-z0-9-]*').Value) | Sort-Object -Unique
        $script:CapabilityCache[$key] = [pscustomobject]@{
            Available   = $ok
            Subcommands = $commands
            Flags       = @($flags)
        }
    }
    $script:CapabilityCache[$key]
}

function Test-OathBulkSubcommand {
    <# .SYNOPSIS True when the binary has this subcommand (and it is not a stub). #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory)] [string]$Binary, [Parameter(Mandatory)] [string]$Subcommand)
    $top = Get-OathBulkCapability -Binary $Binary
    return ($top.Subcommands -contains $Subcommand)
}
