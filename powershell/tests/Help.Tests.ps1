# The help has one source (powershell/docs/, rendered by powershell/tools/Update-OathBulkDocs.ps1):
# a default it states must be the binary's (`oathbulk <subcommand> --help` prints `[default: …]`).
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest
    . (Join-Path $RepoRoot 'powershell/tools/Update-OathBulkDocs.ps1') -Library
    $script:Source = Join-Path $RepoRoot 'powershell/docs'
    # The table as the module reads it: each cmdlet's parameters with their flags, shared ones included.
    $script:Table = & (Get-Module OathBulk) { $script:CommandTable }

    # The default a help text states: "X (default)", "(…, default)", "default N", "default: V",
    # "default for this: V" (then V). A phrase in words ("the last Connect-OathBulk's") describes
    # behaviour of the module, not a value of the binary: $null.
    function Get-DocumentedDefault([string]$Text) {
        $Text = $Text -replace '\s+', ' '
        if ($Text -match '(\S+) \((?:[^)]*?, )?default\)') { return $Matches[1] }
        if ($Text -notmatch '\bdefault:? ([^;)]+?)(?:[;)]| \(|, |\.(?: |$)|$)') { return }
        $value = ($Matches[1] -split ': ')[-1].Trim()
        if ($value -cmatch '^[a-z]\S* ') { return }
        $value
    }

    # The value of the `[default: …]` under --flag in the binary's help (up to a ", " or ": "
    # that explains it), or $null.
    $script:BinaryHelp = @{}
    function Get-BinaryDefault([string]$Subcommand, [string]$Flag) {
        if (-not $BinaryHelp.ContainsKey($Subcommand)) { $BinaryHelp[$Subcommand] = @(& $ReleaseBinary $Subcommand --help) }
        $lines = $BinaryHelp[$Subcommand]
        $start = [array]::FindIndex([string[]]$lines, [Predicate[string]] { param($l) $l -match "^\s+(-\w, )?$([regex]::Escape($Flag))(\s|$)" })
        if ($start -lt 0) { throw "$Flag is not in oathbulk $Subcommand --help" }
        $block = for ($i = $start + 1; $i -lt $lines.Count -and $lines[$i] -notmatch '^(\S|\s+(-\w, )?--[\w-]+|\s{2}\[)'; $i++) { $lines[$i] }
        if ((($block -join ' ') -replace '\s+', ' ') -match '\[default: ([^\]]+)\]') { ($Matches[1] -split ', |: ')[0].Trim() }
    }

    # Every stated default of a parameter that maps to a flag, against the binary's: the mismatches.
    function Compare-HelpDefault($Help) {
        foreach ($cmdlet in $Table.Keys) {
            $entry = $Table[$cmdlet]
            foreach ($p in $entry.Parameters.Keys) {
                $own = $Help.Cmdlets[$cmdlet].Parameters
                $text = if ($own.Contains($p)) { $own[$p] } else { $Help.Shared[$p] }
                $documented = Get-DocumentedDefault $text
                if (-not $documented) { continue }
                $binary = Get-BinaryDefault $entry.Subcommand $entry.Parameters[$p].Flag
                # A word with no binary default describes the behaviour ("automatic"): only a
                # stated number can be wrong there.
                if ($null -eq $binary -and $documented -notmatch '^\d') { continue }
                if ($documented -ne $binary) {
                    [pscustomobject]@{ Cmdlet = $cmdlet; Parameter = $p; Documented = $documented; Binary = $binary }
                }
            }
        }
    }
}

Describe 'the help''s stated defaults' {
    It 'are the binary''s defaults, for every cmdlet and parameter that maps to a flag' {
        $help = Read-OathBulkHelpSource $Source
        $mismatches = @(Compare-HelpDefault $help)
        $mismatches | Should -BeNullOrEmpty -Because ($mismatches | Format-Table | Out-String)
        # The check read what it must: -Parallel is documented with its default.
        Get-DocumentedDefault $help.Shared['Parallel'] | Should -Be (Get-BinaryDefault 'activate' '--parallel')
    }

    It 'catches a planted wrong default (-Parallel "default 4", the binary says 16)' {
        $help = Read-OathBulkHelpSource $Source
        $help.Shared['Parallel'] = 'Requests in flight at once (1-64, default 4).'
        $mismatches = @(Compare-HelpDefault $help)
        $enable = $mismatches | Where-Object { $_.Cmdlet -eq 'Enable-OathBulkToken' -and $_.Parameter -eq 'Parallel' }
        $enable.Documented | Should -Be '4'
        $enable.Binary | Should -Be '16'
        # And one cmdlet's own page wrong while the shared text is right.
        $help = Read-OathBulkHelpSource $Source
        $help.Cmdlets['Import-OathBulkToken'].Parameters['SecretFormat'] = 'How the secret key column is encoded: hex (default) or base32.'
        $m = @(Compare-HelpDefault $help)
        $m.Count | Should -Be 1
        "$($m[0].Cmdlet) $($m[0].Parameter) $($m[0].Documented) $($m[0].Binary)" | Should -Be 'Import-OathBulkToken SecretFormat hex base32'
    }

    It 'is what Get-Help shows: the MAML help is rendered from the source' {
        (Get-Help Enable-OathBulkToken -Parameter Parallel).description.Text | Should -Match 'default 16'
        # No comment-based help left in Public/ to shadow it.
        $blocks = Get-ChildItem (Join-Path $RepoRoot 'powershell/OathBulk/Public') -Filter *.ps1 | Select-String -Pattern '^\s*\.SYNOPSIS' -List
        $blocks | Should -BeNullOrEmpty
    }

    It 'is where Move-OathBulkCommentHelp.ps1 moves a new cmdlet''s comment help (shared texts left out)' {
        $root = Join-Path $TestDrive 'repo'
        foreach ($d in 'powershell/tools', 'powershell/docs', 'powershell/OathBulk/Public') { New-Item -ItemType Directory -Force (Join-Path $root $d) | Out-Null }
        Copy-Item (Join-Path $RepoRoot 'powershell/tools/*.ps1') (Join-Path $root 'powershell/tools')
        Copy-Item -Recurse (Join-Path $RepoRoot 'powershell/docs/*') (Join-Path $root 'powershell/docs')
        $file = Join-Path $root 'powershell/OathBulk/Public/Get-OathBulkThing.ps1'
        $shared = (Read-OathBulkHelpSource $Source).Shared['GraphUrl']
        @"
function Get-OathBulkThing {
    <#
    .SYNOPSIS
    Gets a thing (oathbulk thing).

    .PARAMETER Name
    The thing's name.

    .PARAMETER GraphUrl
    $shared

    .EXAMPLE
    Get-OathBulkThing -Name x
    Get-OathBulkThing -Name y

    Gets two things.

    .LINK
    Get-OathBulkUser
    #>
    [CmdletBinding()]
    param([string]`$Name, [uri]`$GraphUrl)
    `$Name
}
"@ | Set-Content -LiteralPath $file -Encoding utf8NoBOM
        & (Join-Path $root 'powershell/tools/Move-OathBulkCommentHelp.ps1') -Path $file -NoRender
        $page = Read-OathBulkHelpSource (Join-Path $root 'powershell/docs')
        $thing = $page.Cmdlets['Get-OathBulkThing']
        $thing.Synopsis | Should -Be 'Gets a thing (oathbulk thing).'
        @($thing.Parameters.Keys) | Should -Be @('Name') -Because 'the -GraphUrl text is the shared one'
        $thing.Examples[0].Code | Should -Be "Get-OathBulkThing -Name x`nGet-OathBulkThing -Name y"
        $thing.Examples[0].Remarks | Should -Be 'Gets two things.'
        $thing.Links | Should -Be @('Get-OathBulkUser')
        $code = Get-Content -Raw -LiteralPath $file
        $code | Should -Not -Match '\.SYNOPSIS'
        $code | Should -Match '# Help: powershell/docs/cmdlets/Get-OathBulkThing.md'
        $code | Should -Match 'param\(\[string\]\$Name'
    }
}
