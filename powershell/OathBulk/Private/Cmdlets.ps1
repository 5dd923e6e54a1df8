# The cmdlets' parameters are declared once, in CommandTable.psd1, and the cmdlets that only
# bind the pipeline and hand over to a runner are made from it: no param block or begin/process/
# end skeleton is written twice (docs/powershell.md, "How the module is built").

function Import-OathBulkCommandTable {
    <#
    .SYNOPSIS
    CommandTable.psd1 as the module uses it: cmdlet name -> entry, where each entry's Declare
    is expanded into Declarations (param-block text, in order) and the flags of the shared
    parameters it declares are merged into its Parameters (its own win).
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param([Parameter(Mandatory)] [string]$Path)
    $table = Import-PowerShellDataFile -LiteralPath $Path
    $shared = $table['Shared']
    $table.Remove('Shared')
    foreach ($name in @($table.Keys)) {
        $entry = $table[$name]
        if (-not $entry.ContainsKey('Parameters')) { $entry.Parameters = @{} }
        $entry.Declarations = [System.Collections.Generic.List[string]]::new()
        $entry.HelpUri = "$($shared.HelpUri)#$($name.ToLowerInvariant())"
        foreach ($item in @($entry['Declare'] | Where-Object { $_ })) { Add-OathBulkDeclaration -Entry $entry -Item $item -Shared $shared -Cmdlet $name }
    }
    $table
}

function Add-OathBulkDeclaration {
    <#
    .SYNOPSIS
    Adds one Declare item to an entry: a declaration of its own ('[string]$Name'), or a shared
    parameter or group, `@Set` placing it (each parameter of a group without a set of its own)
    in that parameter set.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [hashtable]$Entry,
        [Parameter(Mandatory)] [string]$Item,
        [Parameter(Mandatory)] [hashtable]$Shared,
        [Parameter(Mandatory)] [string]$Cmdlet
    )
    if ($Item.StartsWith('[')) { $Entry.Declarations.Add($Item); return }
    $id, $set = $Item -split '@', 2
    if ($Shared.Groups.ContainsKey($id)) {
        foreach ($member in $Shared.Groups[$id]) {
            $placed = if ($set -and -not $member.Contains('@')) { "$member@$set" } else { $member }
            Add-OathBulkDeclaration -Entry $Entry -Item $placed -Shared $Shared -Cmdlet $Cmdlet
        }
        return
    }
    $spec = $Shared.Parameters[$id]
    if (-not $spec) { throw "CommandTable.psd1: $Cmdlet declares '$id', which is neither a shared parameter nor a group." }
    $name = if ($spec.ContainsKey('Name')) { $spec.Name } else { $id }
    $arguments = @($spec['Parameter'] | Where-Object { $_ })
    if ($set) {
        if ($arguments -match 'ParameterSetName') { throw "CommandTable.psd1: $Cmdlet places '$id' in set $set, but it names its own sets." }
        $arguments = if ($arguments.Count) { @($arguments | ForEach-Object { "$_, ParameterSetName = '$set'" }) } else { @("ParameterSetName = '$set'") }
    }
    $attributes = ($arguments | ForEach-Object { "[Parameter($_)] " }) -join ''
    $Entry.Declarations.Add("$attributes$($spec.Declare)`$$name")
    if ($spec['Flag'] -and -not $Entry.Parameters.ContainsKey($name)) { $Entry.Parameters[$name] = @{ Flag = $spec.Flag; Kind = $spec.Kind } }
}

# Where a file of Public/ wants the shared parameters its entry declares: the last line of its
# param block.
$script:SharedParameterMarker = '# + the shared parameters of its CommandTable.psd1 entry (Declare)'

# A cmdlet made from its entry alone: it binds the pipeline (one compiled call per object, the
# hot path: powershell/bench/module-bench.ps1); its end block is the one runner (Runners.ps1).
$script:CmdletTemplate = @'
function {Name} {
    # Made at import from Private/CommandTable.psd1 (Private/Cmdlets.ps1); help: powershell/docs/cmdlets/{Name}.md.
    [CmdletBinding({Binding}HelpUri = '{HelpUri}')]
    [OutputType({OutputType})]
    param(
{Parameters}
    )
    begin {
        $expecting = $MyInvocation.ExpectingInput
        $binder = New-OathBulkInputBinder -Cmdlet $PSCmdlet
    }
    process {
        $binder.Add($InputObject)
    }
    end {
        Invoke-OathBulkRunner -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters -Binder $binder -ExpectingInput:$expecting
    }
}
'@

function Get-OathBulkCmdletScript {
    <#
    .SYNOPSIS
    What defines the exported cmdlets, for the .psm1 to dot-source: each file of Public/ (its
    path, or a script block of its text with its shared parameters appended where it has the
    marker) and a script block per table entry with a Runner and no file.
    #>
    [CmdletBinding()]
    [OutputType([scriptblock], [string])]
    param([Parameter(Mandatory)] [string]$Folder, [Parameter(Mandatory)] [hashtable]$Table)
    $files = @{}
    foreach ($file in Get-ChildItem -LiteralPath $Folder -Filter '*.ps1' | Sort-Object Name) {
        $files[$file.BaseName] = $true
        $text = [System.IO.File]::ReadAllText($file.FullName)
        # A file with nothing to add runs as itself (its path: errors name its file and line).
        if (-not $text.Contains($script:SharedParameterMarker)) { $file.FullName; continue }
        [scriptblock]::Create((Add-OathBulkSharedParameter -Text $text -Entry $Table[$file.BaseName] -Name $file.BaseName))
    }
    foreach ($name in $Table.Keys | Sort-Object) {
        $entry = $Table[$name]
        if ($files.ContainsKey($name) -or -not $entry.ContainsKey('Runner')) { continue }
        [scriptblock]::Create((New-OathBulkCmdletText -Name $name -Entry $entry))
    }
}

function Add-OathBulkSharedParameter {
    <# .SYNOPSIS A Public/ file's text with its entry's declarations in place of the marker. #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [string]$Text, [hashtable]$Entry, [Parameter(Mandatory)] [string]$Name)
    if (-not $Entry -or -not $Entry['Declarations']) { throw "CommandTable.psd1 declares no shared parameters for $Name, whose file asks for them." }
    $at = $Text.IndexOf($script:SharedParameterMarker)
    # The parameters before the marker need a comma after the last of them.
    $before = $Text.Substring(0, $at).TrimEnd()
    $comma = if ($before.EndsWith('(') -or $before.EndsWith(',')) { '' } else { ',' }
    $before + $comma + "`n" + (Get-OathBulkParameterText -Entry $Entry) + "`n" + $Text.Substring($at + $script:SharedParameterMarker.Length)
}

function New-OathBulkCmdletText {
    <# .SYNOPSIS The text of a cmdlet made from its table entry ($script:CmdletTemplate). #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [string]$Name, [Parameter(Mandatory)] [hashtable]$Entry)
    $binding = if ($Entry['Binding']) { "$($Entry.Binding), " } else { '' }
    $script:CmdletTemplate.Replace('{Name}', $Name).Replace('{Binding}', $binding).Replace('{HelpUri}', $Entry.HelpUri).
    Replace('{OutputType}', $Entry.OutputType).
    Replace('{Parameters}', (Get-OathBulkParameterText -Entry $Entry))
}

function Get-OathBulkParameterText {
    <# .SYNOPSIS An entry's declarations as the lines of a param block. #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [hashtable]$Entry)
    ($Entry.Declarations | ForEach-Object { "        $_" }) -join ",`n"
}
