<#
.SYNOPSIS
Renders the cmdlets' help from its one source, powershell/docs/, into the module's MAML help
(powershell/OathBulk/en-US/OathBulk-help.xml, what Get-Help shows) and docs/powershell.md.

.DESCRIPTION
The source: powershell/docs/cmdlets/<Name>.md (synopsis, description, the cmdlet's own
parameters, examples, inputs, outputs, links) and powershell/docs/parameters.md (the parameters
several cmdlets share, written once; a cmdlet's own page overrides one where it means something
else there); powershell/docs/intro.md opens docs/powershell.md. Syntax, parameter types,
positions and pipeline input come from the commands themselves (Get-Command), so the help
cannot drift from the param blocks. Run it after editing the help:

    ../shared/tools/pwsh -NoProfile -File powershell/tools/Update-OathBulkDocs.ps1

-Check writes nothing and fails when either output is not what the source gives (Manifest.Tests.ps1
runs it); a parameter with no help, or help for a parameter the cmdlet does not have, is an
error either way. Imports the repository's module (-Force: the commands as they are now).

Dot-sourced with -Library, it only defines Read-OathBulkHelpSource (the parsed source, which
Help.Tests.ps1 checks against the binary's defaults) and renders nothing.
#>
[CmdletBinding()]
param([switch]$Check, [switch]$Library)
$ErrorActionPreference = 'Stop'

# powershell/docs/ -> @{ Shared = @{ Name = text }; Cmdlets = @{ Name = @{ Synopsis; Description;
# Parameters = @{ Name = text }; Examples = @(@{ Code; Remarks }); Inputs; Outputs; Notes; Links } } }.
function Read-OathBulkHelpSource([string]$Folder) {
    $shared = @{}
    foreach ($s in (Read-HelpMarkdown (Join-Path $Folder 'parameters.md')).Sections) {
        if ($s.Heading -match '^-(\w+)$') { $shared[$Matches[1]] = $s.Text }
    }
    $cmdlets = @{}
    foreach ($file in Get-ChildItem -LiteralPath (Join-Path $Folder 'cmdlets') -Filter '*.md') {
        $doc = Read-HelpMarkdown $file.FullName
        $c = @{ Parameters = [ordered]@{}; Examples = [System.Collections.Generic.List[object]]::new(); Links = @() }
        foreach ($s in $doc.Sections) {
            switch -Regex ($s.Parent + '/' + $s.Heading) {
                '^/SYNOPSIS$' { $c.Synopsis = $s.Text }
                '^/DESCRIPTION$' { $c.Description = $s.Text }
                '^/(INPUTS|OUTPUTS|NOTES)$' { $c[$s.Heading.Substring(0, 1) + $s.Heading.Substring(1).ToLowerInvariant()] = $s.Text }
                '^/LINKS$' { $c.Links = @($s.Text -split '\n' | Where-Object { $_ -match '^- ' } | ForEach-Object { $_.Substring(2).Trim() }) }
                '^PARAMETERS/-(\w+)$' { $c.Parameters[$Matches[1]] = $s.Text }
                '^EXAMPLES/' {
                    if ($s.Text -notmatch '(?s)^```powershell\n(.*?)\n```\s*(.*)$') { throw "$($file.Name): $($s.Heading) needs a powershell code block first" }
                    $c.Examples.Add(@{ Code = $Matches[1]; Remarks = $Matches[2].Trim() })
                }
            }
        }
        if (-not $c.Synopsis) { throw "$($file.Name): no SYNOPSIS" }
        $cmdlets[$doc.Title] = $c
    }
    @{ Shared = $shared; Cmdlets = $cmdlets }
}

# A page: '# Title', '## Section', '### Subsection' (not inside ``` fences), each with its text.
function Read-HelpMarkdown([string]$Path) {
    $title = $null; $sections = [System.Collections.Generic.List[object]]::new(); $current = $null
    $parent = ''; $fenced = $false
    foreach ($line in [System.IO.File]::ReadAllLines($Path)) {
        if ($line.StartsWith('```')) { $fenced = -not $fenced }
        if (-not $fenced -and $line -match '^(#{1,3}) (.+)$') {
            $level, $heading = $Matches[1].Length, $Matches[2].Trim()
            if ($level -eq 1) { $title = $heading; $current = $null; continue }
            if ($level -eq 2) { $parent = '' }
            $current = @{ Heading = $heading; Parent = $parent; Lines = [System.Collections.Generic.List[string]]::new() }
            if ($level -eq 2) { $parent = $heading }
            $sections.Add($current)
            continue
        }
        if ($current) { $current.Lines.Add($line) }
    }
    foreach ($s in $sections) { $s.Text = ($s.Lines -join "`n").Trim() }
    @{ Title = $title; Sections = $sections }
}

if ($Library) { return }

$root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
$manifest = Join-Path $root 'powershell/OathBulk/OathBulk.psd1'
$source = Join-Path $root 'powershell/docs'
$maml = Join-Path $root 'powershell/OathBulk/en-US/OathBulk-help.xml'
$page = Join-Path $root 'docs/powershell.md'
Import-Module $manifest -Force
$names = (Import-PowerShellDataFile $manifest).FunctionsToExport
$help = Read-OathBulkHelpSource $source
foreach ($documented in $help.Cmdlets.Keys) { if ($documented -notin $names) { throw "powershell/docs/cmdlets/$documented.md documents $documented, which the module does not export" } }
$common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters

# Each cmdlet's parameters, in declaration order, with their help: its own, else the shared one.
function Get-ParameterHelp([string]$Name) {
    $own = $help.Cmdlets[$Name].Parameters
    $declared = @((Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $common })
    foreach ($p in $own.Keys) { if ($p -notin $declared) { throw "powershell/docs/cmdlets/$Name.md documents -$p, which $Name does not have" } }
    foreach ($p in $declared) {
        $text = if ($own.Contains($p)) { $own[$p] } else { $help.Shared[$p] }
        if (-not $text) { throw "-$p of $Name has no help: add it to powershell/docs/cmdlets/$Name.md (or parameters.md when shared)" }
        [pscustomobject]@{ Name = $p; Text = $text }
    }
}

function ConvertTo-Xml([string]$Text) { [System.Security.SecurityElement]::Escape($Text) }
# Paragraphs (blank-line separated) as maml:para; line breaks inside one are kept.
function ConvertTo-Para([string]$Text) {
    (@($Text -split '\n\s*\n' | Where-Object { $_.Trim() }) | ForEach-Object { "<maml:para>$(ConvertTo-Xml $_)</maml:para>" }) -join ''
}

# One parameter: $Infos are its CommandParameterInfo in the parameter sets shown together (one
# set in a syntax item, every set in the parameter list): required only where every one is.
function Get-ParameterXml($Metadata, $Infos, [string]$Text) {
    $required = -not ($Infos | Where-Object { -not $_.IsMandatory })
    $position = ($Infos | Where-Object { $_.Position -ge 0 } | Select-Object -First 1).Position
    $byValue = [bool]($Infos | Where-Object ValueFromPipeline)
    $byName = [bool]($Infos | Where-Object ValueFromPipelineByPropertyName)
    $pipeline = if ($byValue -and $byName) { 'True (ByPropertyName, ByValue)' } elseif ($byValue) { 'True (ByValue)' } elseif ($byName) { 'True (ByPropertyName)' } else { 'False' }
    $globbing = [bool]($Metadata.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
    $type = $Metadata.ParameterType.Name
    $value = if ($Metadata.SwitchParameter) { '' } else { "<command:parameterValue required=`"true`">$type</command:parameterValue>" }
    $aliases = if ($Metadata.Aliases.Count) { $Metadata.Aliases -join ', ' } else { 'None' }
    "<command:parameter required=`"$("$required".ToLowerInvariant())`" globbing=`"$("$globbing".ToLowerInvariant())`" pipelineInput=`"$pipeline`" position=`"$(if ($null -ne $position) { $position } else { 'named' })`" aliases=`"$aliases`">" +
    "<maml:name>$($Metadata.Name)</maml:name><maml:description>$(ConvertTo-Para $Text)</maml:description>$value" +
    "<dev:type><maml:name>$type</maml:name></dev:type></command:parameter>"
}

function Get-CommandXml([string]$Name) {
    $c = $help.Cmdlets[$Name]
    if (-not $c) { throw "no powershell/docs/cmdlets/$Name.md" }
    $command = Get-Command $Name
    $params = @(Get-ParameterHelp $Name)
    $text = @{}; foreach ($p in $params) { $text[$p.Name] = $p.Text }
    $verb, $noun = $Name -split '-', 2
    $x = [System.Text.StringBuilder]::new()
    [void]$x.Append("<command:command xmlns:maml=`"http://schemas.microsoft.com/maml/2004/10`" xmlns:command=`"http://schemas.microsoft.com/maml/dev/command/2004/10`" xmlns:dev=`"http://schemas.microsoft.com/maml/dev/2004/10`">`n")
    [void]$x.Append("<command:details><command:name>$Name</command:name><maml:description>$(ConvertTo-Para $c.Synopsis)</maml:description><command:verb>$verb</command:verb><command:noun>$noun</command:noun></command:details>`n")
    [void]$x.Append("<maml:description>$(ConvertTo-Para $c.Description)</maml:description>`n<command:syntax>`n")
    foreach ($set in $command.ParameterSets) {
        [void]$x.Append("<command:syntaxItem><maml:name>$Name</maml:name>")
        foreach ($m in $set.Parameters | Where-Object { $_.Name -notin $common }) {
            [void]$x.Append((Get-ParameterXml $command.Parameters[$m.Name] @($m) $text[$m.Name]))
        }
        [void]$x.Append("</command:syntaxItem>`n")
    }
    [void]$x.Append("</command:syntax>`n<command:parameters>`n")
    foreach ($p in $params) {
        $infos = @($command.ParameterSets.Parameters | Where-Object Name -eq $p.Name)
        [void]$x.Append((Get-ParameterXml $command.Parameters[$p.Name] $infos $p.Text) + "`n")
    }
    [void]$x.Append("</command:parameters>`n")
    if ($c.Inputs) { [void]$x.Append("<command:inputTypes><command:inputType><dev:type><maml:name>$(ConvertTo-Xml $c.Inputs)</maml:name></dev:type></command:inputType></command:inputTypes>`n") }
    if ($c.Outputs) { [void]$x.Append("<command:returnValues><command:returnValue><dev:type><maml:name>$(ConvertTo-Xml $c.Outputs)</maml:name></dev:type></command:returnValue></command:returnValues>`n") }
    if ($c.Notes) { [void]$x.Append("<maml:alertSet><maml:alert>$(ConvertTo-Para $c.Notes)</maml:alert></maml:alertSet>`n") }
    [void]$x.Append("<command:examples>`n")
    $i = 0
    foreach ($e in $c.Examples) {
        $i++
        [void]$x.Append("<command:example><maml:title>-------------------------- EXAMPLE $i --------------------------</maml:title><dev:code>$(ConvertTo-Xml $e.Code)</dev:code><dev:remarks>$(ConvertTo-Para $e.Remarks)</dev:remarks></command:example>`n")
    }
    [void]$x.Append("</command:examples>`n<command:relatedLinks>")
    # The online page first: Get-Help -Online opens the first link with a URI.
    [void]$x.Append("<maml:navigationLink><maml:linkText>Online Version:</maml:linkText><maml:uri>$(ConvertTo-Xml $command.HelpUri)</maml:uri></maml:navigationLink>")
    foreach ($l in $c.Links) { [void]$x.Append("<maml:navigationLink><maml:linkText>$(ConvertTo-Xml $l)</maml:linkText><maml:uri /></maml:navigationLink>") }
    [void]$x.Append("</command:relatedLinks>`n</command:command>`n")
    $x.ToString()
}

# GitHub's anchor for a heading: lower case, punctuation other than '-' dropped, spaces to '-'.
function Get-Anchor([string]$Heading) { ($Heading.ToLowerInvariant() -replace '[^a-z0-9 -]', '') -replace ' ', '-' }

function Get-PageText {
    $nl = "`n"
    $out = [System.Text.StringBuilder]::new()
    [void]$out.Append("# OathBulk cmdlets$nl$nl")
    [void]$out.Append("<!-- Generated by powershell/tools/Update-OathBulkDocs.ps1 from powershell/docs/ (the help's one$nl")
    [void]$out.Append("     source): edit it there, then run the tool. Manifest.Tests.ps1 fails when this page is stale. -->$nl$nl")
    [void]$out.Append(([System.IO.File]::ReadAllText((Join-Path $source 'intro.md')) -replace "`r`n", $nl).Trim() + $nl + $nl)
    [void]$out.Append((($names | ForEach-Object { "[$_](#$(Get-Anchor $_))" }) -join ' · ') + $nl)
    foreach ($name in $names) {
        $c = $help.Cmdlets[$name]
        [void]$out.Append("$nl## $name$nl$nl$($c.Synopsis -replace '\s*\n\s*', ' ')$nl$nl")
        $syntax = (Get-Command $name -Syntax).Trim() -split '\r?\n' | Where-Object { $_.Trim() } | ForEach-Object { $_.TrimEnd() }
        [void]$out.Append('```powershell' + $nl + ($syntax -join "$nl$nl") + $nl + '```' + $nl)
        $i = 0
        foreach ($e in $c.Examples) {
            $i++
            [void]$out.Append("$nl**Example $i.** $($e.Remarks -replace '\s*\n\s*', ' ')$nl$nl")
            [void]$out.Append('```powershell' + $nl + $e.Code.Trim() + $nl + '```' + $nl)
        }
    }
    $out.ToString()
}

$xml = "<?xml version=`"1.0`" encoding=`"utf-8`"?>`n<!-- Generated by powershell/tools/Update-OathBulkDocs.ps1 from powershell/docs/: do not edit. -->`n<helpItems schema=`"maml`" xmlns=`"http://msh`">`n" +
    (($names | ForEach-Object { Get-CommandXml $_ }) -join '') + "</helpItems>`n"
$text = Get-PageText
foreach ($out in @(@{ Path = $maml; Text = $xml }, @{ Path = $page; Text = $text })) {
    if ($Check) {
        $current = if (Test-Path -LiteralPath $out.Path) { [System.IO.File]::ReadAllText($out.Path) -replace "`r`n", "`n" } else { '' }
        if ($current -ne $out.Text) { throw "$($out.Path) is not what powershell/docs/ gives: run powershell/tools/Update-OathBulkDocs.ps1" }
        continue
    }
    [System.IO.File]::WriteAllText($out.Path, $out.Text, [System.Text.UTF8Encoding]::new($false))
    Write-Verbose "wrote $($out.Path)"
}
