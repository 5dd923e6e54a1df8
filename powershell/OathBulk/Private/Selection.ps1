function New-OathBulkInputBinder {
    <#
    .SYNOPSIS
    The begin block of a cmdlet whose scope can come from the pipeline: an
    OathBulk.Native.InputBinder (see OathBulk.Native.cs) that the process block feeds with
    `$binder.Add($InputObject)` (one call per object: no per-row path resolution).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet,
        # Piped strings are serial numbers (tenant cmdlets), not paths.
        [switch]$SerialStrings
    )
    [OathBulk.Native.InputBinder]::new($Cmdlet, [bool]$SerialStrings)
}

function Resolve-OathBulkRun {
    <#
    .SYNOPSIS
    The end block's plan: explicit -Path/-LiteralPath and what the pipeline bound, turned into
    runs of the binary. Returns a list of @{ Csv; Selection; Stdin; Serials }:
      Csv        a full CSV path, or '-' (Stdin holds CSV text built from piped rows)
      Selection  an OathBulk.Native.FileSelection (lines/serials/all) for Csv
      Serials    (PathlessMode Serials) the piped serial numbers, for a run without a CSV

    .DESCRIPTION
    The rule that protects tenants: when the cmdlet is fed by a pipeline, only what came down
    the pipeline is in scope. An empty or filtered-to-nothing pipeline, or one whose objects
    could not bind, gives NO run (a warning says so), never "the whole file" or "every token".
    Without pipeline input, explicit files are taken whole (or narrowed by -Serial).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory)] [OathBulk.Native.InputBinder]$Binder,
        [string[]]$Path,
        [string[]]$LiteralPath,
        # The cmdlet was fed by a pipeline ($MyInvocation.ExpectingInput of the cmdlet).
        [switch]$ExpectingInput,
        # -Serial given on the command line: narrows explicit files to that token.
        [string]$Serial,
        # What piped objects without a CSV (Import-Csv rows, tenant tokens) become when no
        # -Path is given: Rows (their rows as CSV on stdin: cmdlets reading seeds), Tokens
        # (`upn,serial number` on stdin: lifecycle cmdlets), Serials (tenant listing).
        [Parameter(Mandatory)] [ValidateSet('Rows', 'Tokens', 'Serials')] [string]$PathlessMode,
        [string]$Kind = 'CSV file'
    )
    $runs = [System.Collections.Generic.List[hashtable]]::new()
    $explicit = [System.Collections.Generic.List[string]]::new()
    if ($Path -and $LiteralPath) {
        $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.ArgumentException]::new('Give -Path or -LiteralPath, not both.'), 'OathBulk.PathAndLiteralPath', 'InvalidArgument', $null))
    }
    if (-not $ExpectingInput -and -not $Path -and -not $LiteralPath) {
        $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.ArgumentException]::new("Give -Path or -LiteralPath (the $Kind), or pipe rows or files in."), 'OathBulk.NoPath', 'InvalidArgument', $null))
    }
    foreach ($f in (Resolve-OathBulkCsvPath -Path $Path -Cmdlet $Cmdlet -Kind $Kind)) { $explicit.Add($f) }
    foreach ($f in (Resolve-OathBulkCsvPath -Path $LiteralPath -Cmdlet $Cmdlet -Literal -Kind $Kind)) { $explicit.Add($f) }
    foreach ($f in (Resolve-OathBulkCsvPath -Path $Binder.Patterns -Cmdlet $Cmdlet -Kind $Kind)) { $Binder.File($f).All = $true }

    if ($Binder.Received) {
        Write-Verbose ("OathBulk: bound {0} piped object(s) in {1:N0} ms" -f $Binder.Received, $Binder.BindMilliseconds)
    }
    if (($Path -or $LiteralPath) -and -not $explicit.Count) {
        # The files named were not found (errors written): piped rows must not run elsewhere.
        return , $runs
    }
    if ($ExpectingInput) {
        if ($Binder.Bound -eq 0) {
            $why = if ($Binder.Received -eq 0) { 'nothing came down the pipeline' }
            else { "none of the $($Binder.Received) piped object(s) could be used" }
            Write-Warning "$($Cmdlet.MyInvocation.MyCommand.Name): $why, so nothing was done (piped input is the whole scope: it never widens to every row or token)."
            return , $runs
        }
        if ($Binder.Pathless.Count -and $explicit.Count) {
            # Rows without a file of their own select their serials in the file(s) named.
            foreach ($f in $explicit) { foreach ($p in $Binder.Pathless) { $Binder.File($f).AddSerial($p.Serial) } }
            $Binder.Pathless.Clear()
        }
    } else {
        foreach ($f in $explicit) {
            $sel = $Binder.File($f)
            if ($Serial) { $sel.AddSerial($Serial) } else { $sel.All = $true }
        }
    }

    foreach ($f in $Binder.FileOrder) {
        $sel = $Binder[$f]
        if (-not $sel.IsEmpty) { $runs.Add(@{ Csv = $f; Selection = $sel; Stdin = $null; Serials = $null }) }
    }
    if ($Binder.Pathless.Count) {
        switch ($PathlessMode) {
            'Serials' {
                $serials = [System.Collections.Generic.List[string]]::new()
                foreach ($p in $Binder.Pathless) { if (-not $serials.Contains($p.Serial)) { $serials.Add($p.Serial) } }
                $runs.Add(@{ Csv = $null; Selection = $null; Stdin = $null; Serials = $serials.ToArray() })
            }
            'Tokens' {
                # Tokens that name their user (it must hold them: `upn,serial number`) and
                # tokens that do not (tenant tokens: `serial number` alone, whoever holds
                # them): one run each at most, one inventory read each, never one per serial.
                $withUpn = [System.Collections.Generic.List[OathBulk.Native.PathlessItem]]::new()
                $without = [System.Collections.Generic.List[OathBulk.Native.PathlessItem]]::new()
                $seen = [System.Collections.Generic.HashSet[string]]::new()
                foreach ($p in $Binder.Pathless) {
                    if ($p.Upn) { $withUpn.Add($p) }
                    # The same tenant token piped twice is one token, not a duplicate row.
                    elseif ($seen.Add($p.Serial)) { $without.Add($p) }
                }
                if ($withUpn.Count) { $runs.Add(@{ Csv = '-'; Selection = $null; Stdin = $Binder.RowsAsCsv($withUpn, $true); Serials = $null }) }
                if ($without.Count) { $runs.Add(@{ Csv = '-'; Selection = $null; Stdin = $Binder.RowsAsCsv($without, $true); Serials = $null }) }
            }
            'Rows' {
                $rows = [System.Collections.Generic.List[OathBulk.Native.PathlessItem]]::new()
                foreach ($p in $Binder.Pathless) {
                    if ($Binder.HasSeed($p)) { $rows.Add($p); continue }
                    $Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new(
                            [System.ArgumentException]::new("Serial $($p.Serial) came without its CSV row (no seed): give -Path or -LiteralPath with the vendor CSV to read it from."),
                            'OathBulk.NoCsvRow', 'InvalidArgument', $p.Serial))
                }
                if ($rows.Count) { $runs.Add(@{ Csv = '-'; Selection = $null; Stdin = $Binder.RowsAsCsv($rows, $false); Serials = $null }) }
            }
        }
    }
    , $runs
}

function Resolve-OathBulkRowSelection {
    <#
    .SYNOPSIS
    Turns one run's selection into arguments for the binary. Returns @{ Extra (flags to add);
    Where (the --where to use, $null to keep the caller's); Expect (line -> serial, for
    OathBulk.CsvChanged); Target (for ShouldProcess); TempFiles (to delete); Serial (the one
    serial passed as --serial, with -SerialFlag) }.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [hashtable]$Run,
        [string]$Where,
        # The subcommand takes --serial together with a CSV (activate): use it for one serial.
        [switch]$SerialFlag
    )
    $Csv = $Run.Csv
    $Selection = $Run.Selection
    $shown = if ($Csv -eq '-') { 'the piped rows' } else { $Csv }
    $r = @{
        Extra     = [System.Collections.Generic.List[string]]::new()
        Where     = $null
        Expect    = $null
        Target    = "all tokens in $shown"
        TempFiles = [System.Collections.Generic.List[string]]::new()
        Serial    = $null
    }
    if ($Csv -eq '-') { $r.Target = 'the piped rows'; return $r }
    if (-not $Selection -or $Selection.All) { return $r }

    if ($SerialFlag -and $Selection.Lines.Count -eq 0 -and $Selection.Serials.Count -eq 1) {
        # The binary selects the serial itself.
        $r.Serial = $Selection.Serials[0]
        $r.Extra.Add('--serial'); $r.Extra.Add($r.Serial)
        $r.Target = "token $($r.Serial) from $Csv"
        return $r
    }
    $filters = [System.Collections.Generic.List[string]]::new()
    if ($Selection.Lines.Count) {
        $lines = [long[]]@($Selection.Lines.Keys)
        $r.Expect = @{}
        foreach ($kv in $Selection.Lines.GetEnumerator()) { if ($kv.Value) { $r.Expect[$kv.Key] = $kv.Value } }
        if (-not $Selection.Serials.Count) {
            # The binary selects the lines itself (--lines, applied before any script).
            $listFile = New-OathBulkPrivateFile
            $r.TempFiles.Add($listFile)
            [System.IO.File]::WriteAllText($listFile, ($lines -join "`n"))
            $r.Extra.Add('--lines'); $r.Extra.Add($listFile)
        } else {
            # Lines OR serials: a rhai --where on the line numbers (runs folded into ranges).
            $filters.Add((ConvertTo-OathBulkLineFilter -Line $lines))
        }
    }
    if ($Selection.Serials.Count) {
        $quoted = $Selection.Serials | ForEach-Object { '"' + ($_ -replace '\\', '\\' -replace '"', '\"') + '"' }
        $filters.Add("[$($quoted -join ', ')].contains(row.serial)")
    }
    if ($filters.Count) {
        $sel = ($filters | ForEach-Object { "($_)" }) -join ' || '
        $r.Where = if ($Where) { "($Where) && ($sel)" } else { $sel }
    }
    $r.Target = "$($Selection.Lines.Count + $Selection.Serials.Count) token(s) from $Csv"
    $r
}

function New-OathBulkPrivateFile {
    <#
    .SYNOPSIS
    A new empty file only this user can read (0600 on Unix), in the per-user cache folder.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([string]$Extension = '.tmp')
    $dir = Get-OathBulkUserDirectory
    $file = Join-Path $dir ("oathbulk-$([guid]::NewGuid().ToString('n'))$Extension")
    $stream = if ($IsWindows) { [System.IO.File]::Open($file, 'CreateNew', 'Write') }
    else { [System.IO.File]::Open($file, [System.IO.FileStreamOptions]@{ Mode = 'CreateNew'; Access = 'Write'; UnixCreateMode = [System.IO.UnixFileMode]'UserRead, UserWrite' }) }
    $stream.Dispose()
    $file
}

function Get-OathBulkUserDirectory {
    <#
    .SYNOPSIS
    The module's per-user folder (compiled-reader cache, private temporary files), created
    0700 on Unix: never a shared /tmp path another user could pre-create or read.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()
    $dir = if ($env:OATHBULK_MODULE_CACHE) { $env:OATHBULK_MODULE_CACHE }
    elseif ($IsWindows -and $env:LOCALAPPDATA) { Join-Path $env:LOCALAPPDATA 'OathBulk' }
    elseif ($env:XDG_CACHE_HOME) { Join-Path $env:XDG_CACHE_HOME 'oathbulk-pwsh' }
    else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.cache/oathbulk-pwsh' }
    $private = [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute'
    if (-not [System.IO.Directory]::Exists($dir)) {
        if ($IsWindows) { $null = [System.IO.Directory]::CreateDirectory($dir) }
        else { $null = [System.IO.Directory]::CreateDirectory($dir, $private) }
    } elseif (-not $IsWindows -and [System.IO.File]::GetUnixFileMode($dir) -ne $private) {
        # Made by an older module with the default mode: tighten it.
        [System.IO.File]::SetUnixFileMode($dir, $private)
    }
    $dir
}

function ConvertTo-OathBulkLineFilter {
    <#
    .SYNOPSIS
    A rhai expression true for the given CSV lines: runs of consecutive lines become ranges.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [long[]]$Line)
    $inv = [cultureinfo]::InvariantCulture
    $sorted = [long[]]($Line | Sort-Object -Unique)
    $ranges = [System.Collections.Generic.List[string]]::new()
    $singles = [System.Collections.Generic.List[string]]::new()
    $i = 0
    while ($i -lt $sorted.Length) {
        $j = $i
        while ($j + 1 -lt $sorted.Length -and $sorted[$j + 1] -eq $sorted[$j] + 1) { $j++ }
        if ($j - $i -ge 2) {
            $ranges.Add("(row.line >= $($sorted[$i].ToString($inv)) && row.line <= $($sorted[$j].ToString($inv)))")
        } else {
            for ($k = $i; $k -le $j; $k++) { $singles.Add($sorted[$k].ToString($inv)) }
        }
        $i = $j + 1
    }
    $parts = @($ranges)
    if ($singles.Count) { $parts += "[$($singles -join ', ')].contains(row.line)" }
    $parts -join ' || '
}

function Invoke-OathBulkReadRun {
    <#
    .SYNOPSIS
    One run of a CSV-reading cmdlet (Import-OathBulkToken, Get-OathBulkCode, Test-OathBulkCsv,
    Get-OathBulkUser) over one Resolve-OathBulkRun plan entry: piped rows select their lines
    (--lines), rows without a file go in on stdin, an explicit file is read whole.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory)] [hashtable]$Run,
        [Parameter(Mandatory)] [System.Collections.IDictionary]$BoundParameters,
        [string[]]$Extra = @(),
        [hashtable]$Environment = @{},
        [string[]]$Redact = @(),
        [switch]$Quiet
    )
    $command = $Cmdlet.MyInvocation.MyCommand.Name
    $bound = @{} + $BoundParameters
    $selection = Resolve-OathBulkRowSelection -Run $Run -Where $BoundParameters['Where']
    try {
        $allExtra = @($Extra) + @($selection.Extra)
        if ($selection.Where) { $bound['Where'] = $selection.Where }
        $argv = ConvertTo-OathBulkArgument -Command $command -BoundParameters $bound -Positional @($Run.Csv) -Extra $allExtra -SessionState $Cmdlet.SessionState
        Invoke-OathBulkNative -Cmdlet $Cmdlet -Command $command -ArgumentList $argv -SourcePath $(if ($Run.Csv -ne '-') { $Run.Csv }) `
            -Environment $Environment -Redact $Redact -PassThruSummary:([bool]$BoundParameters['PassThruSummary']) -Quiet:$Quiet `
            -ExpectSerial $selection.Expect -StdinText $Run.Stdin -SeedPassword $(if ($Run.Csv -ne '-') { $BoundParameters['Password'] })
    } finally {
        foreach ($f in $selection.TempFiles) { [System.IO.File]::Delete($f) }
    }
}
