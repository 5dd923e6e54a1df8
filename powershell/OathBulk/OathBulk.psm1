#Requires -Version 7.2
# OathBulk: PowerShell front end for the oathbulk binary.
Set-StrictMode -Version 3.0

$script:CommandTable = Import-PowerShellDataFile -LiteralPath (Join-Path $PSScriptRoot 'Private/CommandTable.psd1')
$script:CapabilityCache = @{}
$script:Simulators = [System.Collections.Generic.List[object]]::new()
$script:ProgressCounter = 0
$script:NativeExitCode = $null

foreach ($folder in 'Private', 'Public') {
    foreach ($file in Get-ChildItem -LiteralPath (Join-Path $PSScriptRoot $folder) -Filter '*.ps1' | Sort-Object Name) {
        . $file.FullName
    }
}

Initialize-OathBulkNative

# Simulators started in this session stop with the module.
$MyInvocation.MyCommand.ScriptBlock.Module.OnRemove = {
    foreach ($sim in @($script:Simulators)) {
        try { Stop-OathBulkSimulatorCore -Simulator $sim } catch { }
    }
}

# Explicit list, mirrored in OathBulk.psd1.
Export-ModuleMember -Function @(
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
) -Alias @('Get-OathBulkToken')
