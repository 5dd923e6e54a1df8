<#
.SYNOPSIS
Moves a cmdlet's comment-based help out of Public/<Name>.ps1 into powershell/docs/cmdlets/<Name>.md,
the help's one source, then renders it (Update-OathBulkDocs.ps1).

.DESCRIPTION
For a new cmdlet written with comment help, or a help block a merge brought back: the block
after `function <Name> {` becomes the page (SYNOPSIS, DESCRIPTION, PARAMETERS, EXAMPLES, INPUTS,
OUTPUTS, NOTES, LINKS); a .PARAMETER whose text is exactly the shared one in parameters.md is
left out (the shared text applies). An existing page is replaced. The block is replaced by the
one-line pointer the other cmdlets carry. Help.Tests.ps1 fails while any Public/*.ps1 still
holds comment help.

    ../shared/tools/pwsh -NoProfile -File powershell/tools/Move-OathBulkCommentHelp.ps1 powershell/OathBulk/Public/Get-OathBulkContext.ps1
#>
[CmdletBinding()]
param([Parameter(Mandatory)] [string[]]$Path, [switch]$NoRender)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'Update-OathBulkDocs.ps1') -Library
$docs = Join-Path $PSScriptRoot '../docs'
$shared = (Read-OathBulkHelpSource $docs).Shared

# Comment-help text: the block's lines without its common indentation, trimmed of blank ends.
function Get-Dedented([string[]]$Lines) {
    $indent = ($Lines | Where-Object { $_.Trim() } | ForEach-Object { $_.Length - $_.TrimStart().Length } | Measure-Object -Minimum).Minimum
    (($Lines | ForEach-Object { if ($_.Length -ge $indent) { $_.Substring($indent) } else { $_.Trim() } }) -join "`n").Trim("`n").TrimEnd()
}

foreach ($file in $Path) {
    $name = [System.IO.Path]::GetFileNameWithoutExtension($file)
    $text = [System.IO.File]::ReadAllText($file) -replace "`r`n", "`n"
    $m = [regex]::Match($text, "(?s)(function $([regex]::Escape($name)) \{\n)(\s*<#(.*?)#>\n)")
    if (-not $m.Success) { Write-Warning "$file has no comment help after 'function $name {'"; continue }

    $sections = [System.Collections.Generic.List[object]]::new()
    foreach ($line in $m.Groups[3].Value -split '\n') {
        if ($line -match '^\s*\.(SYNOPSIS|DESCRIPTION|PARAMETER|EXAMPLE|INPUTS|OUTPUTS|LINK|NOTES)\s*(.*)$') {
            $sections.Add(@{ Key = $Matches[1]; Arg = $Matches[2].Trim(); Lines = [System.Collections.Generic.List[string]]::new() })
        } elseif ($sections.Count) { $sections[-1].Lines.Add($line) }
    }
    foreach ($s in $sections) { $s.Text = Get-Dedented $s.Lines }
    $of = { param($key) @($sections | Where-Object Key -eq $key) }

    $md = [System.Text.StringBuilder]::new("# $name`n")
    foreach ($key in 'SYNOPSIS', 'DESCRIPTION') { foreach ($s in & $of $key) { [void]$md.Append("`n## $key`n`n$($s.Text)`n") } }
    [void]$md.Append("`n## PARAMETERS`n")
    foreach ($s in & $of 'PARAMETER') {
        if ($shared[$s.Arg] -ne $s.Text) { [void]$md.Append("`n### -$($s.Arg)`n`n$($s.Text)`n") }
    }
    [void]$md.Append("`n## EXAMPLES`n")
    $i = 0
    foreach ($s in & $of 'EXAMPLE') {
        $i++
        # Comment help: the code runs to the first blank line, the remarks follow.
        $code, $remarks = $s.Text -split '\n\s*\n', 2
        [void]$md.Append("`n### Example $i`n`n``````powershell`n$code`n```````n`n$("$remarks".Trim())`n")
    }
    foreach ($key in 'INPUTS', 'OUTPUTS', 'NOTES') { foreach ($s in & $of $key) { [void]$md.Append("`n## $key`n`n$($s.Text)`n") } }
    $links = & $of 'LINK'
    if ($links) { [void]$md.Append("`n## LINKS`n`n" + (($links | ForEach-Object { "- $(if ($_.Arg) { $_.Arg } else { $_.Text })" }) -join "`n") + "`n") }

    [System.IO.File]::WriteAllText((Join-Path $docs "cmdlets/$name.md"), $md.ToString(), [System.Text.UTF8Encoding]::new($false))
    $pointer = "    # Help: powershell/docs/cmdlets/$name.md (rendered to en-US/OathBulk-help.xml).`n"
    $text = $text.Substring(0, $m.Groups[2].Index) + $pointer + $text.Substring($m.Groups[2].Index + $m.Groups[2].Length)
    [System.IO.File]::WriteAllText($file, $text, [System.Text.UTF8Encoding]::new($false))
    Write-Verbose "moved the help of $name to powershell/docs/cmdlets/$name.md"
}
if (-not $NoRender) { & (Join-Path $PSScriptRoot 'Update-OathBulkDocs.ps1') }
