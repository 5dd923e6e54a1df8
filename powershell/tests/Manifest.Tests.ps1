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

    It 'exports exactly the listed functions and alias' {
        $data = Import-PowerShellDataFile $ModuleManifest
        $exported = (Get-Command -Module OathBulk -CommandType Function).Name | Sort-Object
        $exported | Should -Be ($data.FunctionsToExport | Sort-Object)
        (Get-Command -Module OathBulk -CommandType Alias).Name | Should -Be @('Get-OathBulkToken')
        (Get-Alias Get-OathBulkToken).ResolvedCommandName | Should -Be 'Import-OathBulkToken'
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

    It 'never uses Write-Host' {
        $hits = Get-ChildItem (Join-Path $RepoRoot 'powershell/OathBulk') -Recurse -Include *.ps1, *.psm1 |
            Select-String -Pattern 'Write-Host' -SimpleMatch
        $hits | Should -BeNullOrEmpty
    }
}
