function Add-OathBulkRowSelection {
    <#
    .SYNOPSIS
    Collects what a row cmdlet's process block received into $Files (CSV path -> selection):
    a whole file (-Path alone), piped rows (Path + Line, with the Serial expected there), or
    serials of a file (-Path with -Serial, no line).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Collections.Specialized.OrderedDictionary]$Files,
        [Parameter(Mandatory)] [string]$Csv,
        [long]$Line,
        [string]$Serial
    )
    if (-not $Files.Contains($Csv)) {
        $Files[$Csv] = @{ All = $false; Lines = [ordered]@{}; Serials = [System.Collections.Generic.List[string]]::new() }
    }
    $sel = $Files[$Csv]
    if ($Line -gt 0) {
        $sel.Lines[$Line] = $Serial
    } elseif ($Serial) {
        if (-not $sel.Serials.Contains($Serial)) { $sel.Serials.Add($Serial) }
    } else {
        $sel.All = $true
    }
}

function Resolve-OathBulkRowSelection {
    <#
    .SYNOPSIS
    Turns one file's selection into arguments for the binary. Returns @{ Extra (flags to add);
    Where (the --where to use, $null to keep the caller's); Expect (line -> serial, for
    OathBulk.CsvChanged); Target (for ShouldProcess); TempFiles (to delete); Serial (the one
    serial passed as --serial, with -SerialFlag) }.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string]$Csv,
        [Parameter(Mandatory)] [hashtable]$Selection,
        [string]$Where,
        [Parameter(Mandatory)] [psobject]$Capability,
        # The subcommand takes --serial together with a CSV (activate): use it for one serial.
        [switch]$SerialFlag
    )
    $r = @{
        Extra     = [System.Collections.Generic.List[string]]::new()
        Where     = $null
        Expect    = $null
        Target    = "all tokens in $Csv"
        TempFiles = [System.Collections.Generic.List[string]]::new()
        Serial    = $null
    }
    if ($Selection.All -or -not ($Selection.Lines.Count -or $Selection.Serials.Count)) { return $r }

    if ($SerialFlag -and $Selection.Lines.Count -eq 0 -and $Selection.Serials.Count -eq 1) {
        # The binary selects the serial itself.
        $r.Serial = $Selection.Serials[0]
        $r.Extra.Add('--serial'); $r.Extra.Add($r.Serial)
        $r.Target = "token $($r.Serial) from $Csv"
        return $r
    }
    $filters = [System.Collections.Generic.List[string]]::new()
    if ($Selection.Lines.Count) {
        $lines = [long[]]@($Selection.Lines.Keys | Sort-Object)
        $r.Expect = @{}
        foreach ($l in $lines) { if ($Selection.Lines[$l]) { $r.Expect[$l] = $Selection.Lines[$l] } }
        if ($Capability.Flags -contains '--lines' -and -not $Selection.Serials.Count) {
            # Preferred: the binary selects the lines itself.
            $listFile = [System.IO.Path]::GetTempFileName()
            $r.TempFiles.Add($listFile)
            [System.IO.File]::WriteAllLines($listFile, [string[]]($lines | ForEach-Object { $_.ToString([cultureinfo]::InvariantCulture) }))
            $r.Extra.Add('--lines'); $r.Extra.Add($listFile)
        } else {
            # Fallback: a rhai --where on the line numbers (runs folded into ranges).
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
