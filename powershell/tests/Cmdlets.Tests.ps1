# The cmdlets' parameters are declared once, in Private/CommandTable.psd1 (Shared: each shared
# parameter's declaration and flag; each entry's Declare), and ten cmdlets are made from their
# entry at import (Private/Cmdlets.ps1) over one runner (Private/Runners.ps1).
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest
    $script:Table = & (Get-Module OathBulk) { $script:CommandTable }
    $script:Raw = Import-PowerShellDataFile (Join-Path $RepoRoot 'powershell/OathBulk/Private/CommandTable.psd1')
    $script:Common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
    # The parameter names a list of declarations ends in ($Name).
    function Get-DeclaredName([string[]]$Declarations) { $Declarations | ForEach-Object { [regex]::Match($_, '\$(\w+)$').Groups[1].Value } }
}

Describe 'the cmdlets made from CommandTable.psd1' {
    It '<Cmdlet> declares ShouldProcess with ConfirmImpact <Impact> (<Why>)' -TestCases @(
        @{ Cmdlet = 'Enable-OathBulkToken'; Impact = 'Medium'; Why = 'as Microsoft''s Enable- cmdlets' }
        @{ Cmdlet = 'New-OathBulkTenantToken'; Impact = 'Medium'; Why = 'as Microsoft''s New- cmdlets' }
        @{ Cmdlet = 'Disable-OathBulkToken'; Impact = 'Medium'; Why = 'reversible' }
        @{ Cmdlet = 'Remove-OathBulkTokenAssignment'; Impact = 'High'; Why = 'the user loses the token' }
        @{ Cmdlet = 'Remove-OathBulkTenantToken'; Impact = 'High'; Why = 'the token is deleted' }
        @{ Cmdlet = 'Undo-OathBulkRun'; Impact = 'High'; Why = 'it writes to the tenant what a run undid' }
    ) {
        param($Cmdlet, $Impact)
        $meta = [System.Management.Automation.CommandMetadata]::new((Get-Command $Cmdlet))
        $meta.SupportsShouldProcess | Should -BeTrue
        $meta.ConfirmImpact | Should -Be $Impact
    }

    It 'every cmdlet with a Declare has those parameters, in that order, last in its param block' {
        $checked = 0
        foreach ($name in $Table.Keys) {
            $entry = $Table[$name]
            if (-not $entry.Declarations.Count) { continue }
            $declared = @(Get-DeclaredName $entry.Declarations)
            $actual = @((Get-Command $name).Parameters.Keys | Where-Object { $_ -notin $Common })
            # Made from the table: all of them; a Public/ file: its own first.
            $actual | Select-Object -Last $declared.Count | Should -Be $declared -Because $name
            if (-not (Test-Path (Join-Path $RepoRoot "powershell/OathBulk/Public/$name.ps1"))) { $actual.Count | Should -Be $declared.Count -Because $name }
            $checked++
        }
        $checked | Should -BeGreaterThan 12
    }

    It 'a shared parameter has one flag, the same in every cmdlet that declares it, and reaches the binary as it' {
        foreach ($id in $Raw.Shared.Parameters.Keys) {
            $spec = $Raw.Shared.Parameters[$id]
            if (-not $spec['Flag']) { continue }
            $name = if ($spec['Name']) { $spec.Name } else { $id }
            $users = @($Table.Keys | Where-Object { $Table[$_].Declarations -match "\`$$name$" -and -not $Raw[$_].Parameters.ContainsKey($name) })
            foreach ($cmdlet in $users) { $Table[$cmdlet].Parameters[$name].Flag | Should -Be $spec.Flag -Because "$cmdlet -$name" }
        }
        $argv = & (Get-Module OathBulk) {
            ConvertTo-OathBulkArgument -Command 'Disable-OathBulkToken' -BoundParameters @{ Parallel = 3; AnyHolder = [switch]$true; Backend = 'Portal' } -SessionState $ExecutionContext.SessionState
        }
        ($argv -join ' ') | Should -Be 'deactivate --format json --any-holder --backend portal --parallel 3'
    }

    It 'a Declare naming no shared parameter or group is refused at import, naming it' {
        $copy = Join-Path $TestDrive 'table.psd1'
        (Get-Content (Join-Path $RepoRoot 'powershell/OathBulk/Private/CommandTable.psd1') -Raw).Replace("Declare    = @('Lifecycle')", "Declare    = @('Lifecycle', 'NoSuchGroup')") |
            Set-Content -LiteralPath $copy
        { & (Get-Module OathBulk) { param($p) Import-OathBulkCommandTable -Path $p } $copy } | Should -Throw -ExpectedMessage "*declares 'NoSuchGroup'*"
    }

    It 'a parameter a Public/ file declares and its entry shares too fails to load (no silent second declaration)' {
        $text = "function Get-Thing {`n    [CmdletBinding()]`n    param(`n        [string]`$Hash`n        # + the shared parameters of its CommandTable.psd1 entry (Declare)`n    )`n}"
        $spliced = & (Get-Module OathBulk) { param($t, $e) Add-OathBulkSharedParameter -Text $t -Entry $e -Name 'Get-Thing' } $text $Table['Test-OathBulkPrerequisite']
        $spliced | Should -Match '\[string\]\$Hash,\n'
        { [scriptblock]::Create($spliced) } | Should -Throw -ExpectedMessage '*Duplicate parameter*Hash*'
    }

    It 'the cmdlets made from it take their help link from the table and have no file of their own' {
        foreach ($name in $Table.Keys | Where-Object { $Table[$_].ContainsKey('Runner') }) {
            Test-Path (Join-Path $RepoRoot "powershell/OathBulk/Public/$name.ps1") | Should -BeFalse -Because $name
            (Get-Command $name).HelpUri | Should -Be $Table[$name].HelpUri
        }
    }
}
