BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest
}

Describe 'OathBulk module manifest' {
    It 'passes Test-ModuleManifest' {
        $m = Test-ModuleManifest -Path $ModuleManifest -ErrorAction Stop
        $m.Name | Should -Be 'OathBulk'
    }

    It 'has the version of Cargo.toml' {
        $cargo = Get-Content (Join-Path $RepoRoot 'Cargo.toml') -Raw
        $version = [regex]::Match($cargo, '(?m)^version\s*=\s*"([^"]+)"').Groups[1].Value
        (Test-ModuleManifest -Path $ModuleManifest).Version.ToString() | Should -Be $version
    }

    It 'declares PowerShell 7.4+ Core only (FileStreamOptions.UnixCreateMode is .NET 7+), and formats' {
        $data = Import-PowerShellDataFile $ModuleManifest
        $data.PowerShellVersion | Should -Be '7.4'
        $data.CompatiblePSEditions | Should -Be @('Core')
        $data.FormatsToProcess | Should -Contain 'OathBulk.Format.ps1xml'
        $data.CmdletsToExport.Count | Should -Be 0
    }

    It 'exports exactly the listed functions and no alias' {
        $data = Import-PowerShellDataFile $ModuleManifest
        $exported = (Get-Command -Module OathBulk -CommandType Function).Name | Sort-Object
        $exported | Should -Be ($data.FunctionsToExport | Sort-Object)
        @(Get-Command -Module OathBulk -CommandType Alias).Count | Should -Be 0
    }

    It 'has one export list: the manifest''s (the .psm1 calls no Export-ModuleMember)' {
        $psm1 = Join-Path (Split-Path $ModuleManifest) 'OathBulk.psm1'
        $ast = [System.Management.Automation.Language.Parser]::ParseFile($psm1, [ref]$null, [ref]$null)
        $calls = $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.CommandAst] -and $n.GetCommandName() -eq 'Export-ModuleMember' }, $true)
        @($calls) | Should -BeNullOrEmpty
        # Private helpers stay private though the .psm1 exports nothing itself.
        Get-Command -Module OathBulk -Name Invoke-OathBulkNative -ErrorAction Ignore | Should -BeNullOrEmpty
    }

    It 'has help with examples for every exported command' -ForEach @(
        (Import-PowerShellDataFile (Join-Path $PSScriptRoot '../OathBulk/OathBulk.psd1')).FunctionsToExport | ForEach-Object { @{ Name = $_ } }
    ) {
        $help = Get-Help $Name -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match "^\s*$Name\s"
        @($help.Examples.Example).Count | Should -BeGreaterThan 0
        foreach ($p in (Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin [System.Management.Automation.PSCmdlet]::CommonParameters -and $_ -notin [System.Management.Automation.PSCmdlet]::OptionalCommonParameters }) {
            $desc = ($help.parameters.parameter | Where-Object Name -eq $p).description
            $desc | Should -Not -BeNullOrEmpty -Because "-$p of $Name needs a description"
        }
    }

    It 'points ProjectUri and LicenseUri at Cargo.toml''s repository' {
        $repository = Get-CargoRepository
        $repository | Should -Match '^https://'
        $psData = (Import-PowerShellDataFile $ModuleManifest).PrivateData.PSData
        $psData.ProjectUri | Should -Be $repository
        $psData.LicenseUri | Should -Be "$repository/blob/main/LICENSE"
        (Test-ModuleManifest -Path $ModuleManifest).ProjectUri.AbsoluteUri.TrimEnd('/') | Should -Be $repository
    }

    It '<Name> has a HelpUri at its own section of docs/powershell.md, under the project URL' -ForEach @(
        (Import-PowerShellDataFile (Join-Path $PSScriptRoot '../OathBulk/OathBulk.psd1')).FunctionsToExport | ForEach-Object { @{ Name = $_ } }
    ) {
        $uri = (Get-Command $Name).HelpUri
        $uri | Should -Be "$(Get-CargoRepository)/blob/main/docs/powershell.md#$($Name.ToLowerInvariant())"
        # GitHub's anchor for '## Name' is the name in lower case: the heading must be there.
        $headings = Get-Content (Join-Path $RepoRoot 'docs/powershell.md') | Where-Object { $_ -match '^## ' }
        $headings | Should -Contain "## $Name"
    }

    It 'has docs/powershell.md generated from the cmdlets'' current help' {
        { & (Join-Path $RepoRoot 'powershell/tools/Update-OathBulkDocs.ps1') -Check } | Should -Not -Throw
    }

    It 'never uses Write-Host' {
        $hits = Get-ChildItem (Join-Path $RepoRoot 'powershell/OathBulk') -Recurse -Include *.ps1, *.psm1 |
            Select-String -Pattern 'Write-Host' -SimpleMatch
        $hits | Should -BeNullOrEmpty
    }
}
