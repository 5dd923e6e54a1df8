@{
    RootModule           = 'OathBulk.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '8cb4dbac-fe65-4150-86c5-eb8d02bc93f8'
    Author               = 'oathbulk contributors'
    CompanyName          = 'oathbulk'
    Copyright            = '(c) oathbulk contributors. MIT License.'
    Description          = 'Activate hardware OATH TOTP tokens in Microsoft Entra ID in bulk: PowerShell cmdlets over the oathbulk binary (typed objects, streaming, -WhatIf, error records).'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('OathBulk.Format.ps1xml')
    FunctionsToExport    = @(
        'Import-OathBulkToken'
        'Get-OathBulkCode'
        'Test-OathBulkCsv'
        'Enable-OathBulkToken'
        'Get-OathBulkTenantToken'
        'Get-OathBulkUser'
        'Test-OathBulkPrerequisite'
        'New-OathBulkTenantToken'
        'Disable-OathBulkToken'
        'Remove-OathBulkTokenAssignment'
        'Remove-OathBulkTenantToken'
        'Undo-OathBulkRun'
        'Start-OathBulkSimulator'
        'Stop-OathBulkSimulator'
        'Connect-OathBulk'
        'Disconnect-OathBulk'
        'Get-OathBulkTokenStatus'
        'Export-OathBulkReport'
        'Get-OathBulkContext'
    )
    CmdletsToExport      = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    FileList             = @(
        'OathBulk.psd1'
        'OathBulk.psm1'
        'OathBulk.Format.ps1xml'
        'Private/CommandTable.psd1'
        'Private/OathBulk.Native.cs'
        'en-US/about_OathBulk.help.txt'
        'en-US/OathBulk-help.xml'
    )
    PrivateData          = @{
        PSData = @{
            Tags         = @('Entra', 'AzureAD', 'MFA', 'OATH', 'TOTP', 'HardwareToken', 'MicrosoftGraph', 'PSEdition_Core', 'Linux', 'Windows', 'MacOS')
            # Cargo.toml's repository (packaging/dist.sh writes them from it; Manifest.Tests.ps1
            # keeps these equal to it).
            ProjectUri   = 'https://github.com/oathbulk/oathbulk'
            LicenseUri   = 'https://github.com/oathbulk/oathbulk/blob/main/LICENSE'
            ReleaseNotes = 'Get-OathBulkUser (users), Test-OathBulkPrerequisite (doctor); New-OathBulkTenantToken (import), Disable-OathBulkToken (deactivate), Remove-OathBulkTokenAssignment (unassign), Remove-OathBulkTenantToken (remove), Undo-OathBulkRun (undo); Enable-OathBulkToken -Serial/-Code/-Upn for one token without a CSV; -UseDeviceCode and -ClientId on every cmdlet that signs in. First release: Import-OathBulkToken, Get-OathBulkCode, Test-OathBulkCsv, Enable-OathBulkToken, Get-OathBulkTenantToken, Start/Stop-OathBulkSimulator.'
        }
    }
}
