function Initialize-OathBulkNative {
    <#
    .SYNOPSIS
    Loads OathBulk.Native (the JSON-lines reader); from a source tree, compiles it first.

    .DESCRIPTION
    The release package carries OathBulk.dll, compiled by packaging/dist.sh and loaded by the
    manifest (RequiredAssemblies) before this runs: then there is nothing to do, and the package
    never compiles (a locked-down machine refuses Add-Type). Only a source tree (a developer's
    clone) compiles: the assembly is cached under the user's cache folder, keyed by the SHA-256
    of the C# source and the PowerShell version, so a later import costs an assembly load, not
    a compilation (about 2 s). When the cache cannot be written the type is compiled in memory.
    #>
    [CmdletBinding()]
    param()

    if ('OathBulk.Native.NativeSession' -as [type]) { return }

    $sourceFile = Join-Path $PSScriptRoot 'OathBulk.Native.cs'
    if (-not (Test-Path -LiteralPath $sourceFile)) {
        # A package whose OathBulk.dll did not load (the manifest would have failed first).
        throw "OathBulk: the compiled reader OathBulk.dll is not loaded and there is no source to build it from: reinstall the module package."
    }
    $source = [System.IO.File]::ReadAllText($sourceFile)
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try {
        $bytes = [System.Text.Encoding]::UTF8.GetBytes($source + '|' + $PSVersionTable.PSVersion.ToString())
        $hash = ([System.BitConverter]::ToString($sha.ComputeHash($bytes)) -replace '-', '').Substring(0, 16).ToLowerInvariant()
    } finally { $sha.Dispose() }

    # Per-user, created 0700 (Get-OathBulkUserDirectory): a shared /tmp path would let another
    # user plant the assembly this session loads.
    $cacheRoot = Get-OathBulkUserDirectory
    $dll = Join-Path $cacheRoot "OathBulk.Native-$hash.dll"

    if (Test-Path -LiteralPath $dll) {
        try {
            Add-Type -Path $dll -ErrorAction Stop
            return
        } catch {
            Write-Verbose "OathBulk: cached reader $dll did not load ($($_.Exception.Message)); recompiling"
        }
    }

    try {
        # Compile to a unique name, then move into place: two sessions importing at once
        # must not see a half-written file.
        $tmp = Join-Path $cacheRoot ("OathBulk.Native-$hash.$([System.Guid]::NewGuid().ToString('n')).tmp.dll")
        Add-Type -TypeDefinition $source -Language CSharp -OutputAssembly $tmp -OutputType Library -ErrorAction Stop
        try {
            [System.IO.File]::Move($tmp, $dll)
        } catch {
            Remove-Item -LiteralPath $tmp -Force -ErrorAction SilentlyContinue
        }
        if (-not (Test-Path -LiteralPath $dll)) { throw "cache file $dll missing after compilation" }
        Add-Type -Path $dll -ErrorAction Stop
    } catch {
        Write-Verbose "OathBulk: cannot cache the compiled reader ($($_.Exception.Message)); compiling in memory"
        if (-not ('OathBulk.Native.NativeSession' -as [type])) {
            Add-Type -TypeDefinition $source -Language CSharp -ErrorAction Stop
        }
    }
}
