function Get-OathBulkRid {
    <#
    .SYNOPSIS
    The runtime id of this platform, as the release package names its bin folders
    (linux-x64, linux-arm64, osx-arm64, osx-x64, win-x64).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()
    $os = if ($IsWindows) { 'win' } elseif ($IsMacOS) { 'osx' } else { 'linux' }
    $arch = switch ([System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture) {
        'Arm64' { 'arm64' }
        'X64' { 'x64' }
        default { ([string]$_).ToLowerInvariant() }
    }
    "$os-$arch"
}

function Find-OathBulkBinary {
    <#
    .SYNOPSIS
    Locates the oathbulk executable. Returns @{ Path; Looked } (Path $null when none).

    .DESCRIPTION
    In order: the release package's `bin/<rid>/oathbulk[.exe]` beside the module,
    $env:OATHBULK_PATH (a file or a folder), the repository's target/release (a dev checkout:
    powershell/OathBulk -> ../../target/release), then PATH. Looked lists every place tried,
    for the not-found error.
    #>
    [CmdletBinding()]
    param()
    $exe = if ($IsWindows) { 'oathbulk.exe' } else { 'oathbulk' }
    $moduleRoot = Split-Path -Parent $PSScriptRoot
    $looked = [System.Collections.Generic.List[string]]::new()
    $candidates = [System.Collections.Generic.List[string]]::new()
    $candidates.Add((Join-Path $moduleRoot "bin/$(Get-OathBulkRid)/$exe"))
    if ($env:OATHBULK_PATH) {
        $candidates.Add($(if ([System.IO.Directory]::Exists($env:OATHBULK_PATH)) { Join-Path $env:OATHBULK_PATH $exe } else { $env:OATHBULK_PATH }))
    }
    $candidates.Add([System.IO.Path]::GetFullPath((Join-Path $moduleRoot "../../target/release/$exe")))
    foreach ($c in $candidates) {
        $looked.Add($c)
        if ([System.IO.File]::Exists($c)) { return @{ Path = $c; Looked = $looked } }
    }
    $looked.Add("PATH ($exe)")
    $onPath = Get-Command -Name $exe -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    @{ Path = $(if ($onPath) { $onPath.Source }); Looked = $looked }
}

function Get-OathBulkBinaryVersion {
    <# .SYNOPSIS The version `oathbulk --version` prints (for example 0.1.0), or $null. #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [string]$Binary)
    $text = (& $Binary --version 2>$null | Out-String)
    $m = [regex]::Match($text, '(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)')
    if ($m.Success) { $m.Groups[1].Value }
}

function Assert-OathBulkBinaryVersion {
    <#
    .SYNOPSIS
    The binary must carry the module's version (both come from Cargo.toml): the module knows
    what the binary can do from that alone. Returns an error message on a mismatch, else $null.
    Checked once per binary path and modification time.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [string]$Binary)
    $stamp = [System.IO.File]::GetLastWriteTimeUtc($Binary).Ticks
    $key = "$Binary|$stamp"
    if ($script:CheckedBinary -eq $key) { return $null }
    $want = $script:ModuleVersion
    $have = Get-OathBulkBinaryVersion -Binary $Binary
    if ($have -ne $want) {
        return "The oathbulk binary '$Binary' is version $(if ($have) { $have } else { '(unknown)' }), but the OathBulk module is ${want}: install the binary of the same release (or point `$env:OATHBULK_PATH at it)."
    }
    $script:CheckedBinary = $key
    $null
}

function Get-OathBulkBinary {
    <#
    .SYNOPSIS
    The oathbulk executable for a public cmdlet, or a terminating error of that cmdlet:
    OathBulk.BinaryNotFound (naming every place looked) or OathBulk.VersionMismatch.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet)
    $found = Find-OathBulkBinary
    if (-not $found.Path) {
        $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.IO.FileNotFoundException]::new("Cannot find the oathbulk executable. Looked in: $($found.Looked -join '; '). Install the OathBulk release package, or set `$env:OATHBULK_PATH."),
                'OathBulk.BinaryNotFound', 'ObjectNotFound', 'oathbulk'))
    }
    $mismatch = Assert-OathBulkBinaryVersion -Binary $found.Path
    if ($mismatch) {
        $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.InvalidOperationException]::new($mismatch), 'OathBulk.VersionMismatch', 'InvalidOperation', 'oathbulk'))
    }
    $found.Path
}
