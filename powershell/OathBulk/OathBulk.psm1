#Requires -Version 7.4
# OathBulk: PowerShell front end for the oathbulk binary.

# Under WDAC/AppLocker an untrusted module runs in Constrained Language Mode, where the compiled
# reader's methods cannot be called: one clear error now, with the fix, instead of a cascade of
# "method invocation is supported only on core types" from the first cmdlet (docs/powershell.md,
# "Locked-down machines"). A plain string: CLM refuses [Exception]::new here too.
if ($ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage') {
    throw ("OathBulk cannot run in $($ExecutionContext.SessionState.LanguageMode) mode: its cmdlets call the compiled OathBulk.dll. " +
        'Fix: use the Authenticode-signed release package (or sign every file of the module) and allow its publisher ' +
        'in the WDAC/AppLocker policy, so the module runs in FullLanguage mode.')
}
Set-StrictMode -Version 3.0

$script:Simulators = [System.Collections.Generic.List[object]]::new()
$script:ProgressCounter = 0
$script:NativeExitCode = $null
$script:CheckedBinary = $null
# Connect-OathBulk -CertificateThumbprint/-Certificate: the certificate later cmdlets sign with.
$script:CertificateSession = $null
# Connect-OathBulk / Start-OathBulkSimulator: the endpoint and token later cmdlets default to
# (Private/Context.ps1, Get-OathBulkContext).
$script:Context = $null
# One source of truth: OathBulk.psd1's ModuleVersion is Cargo.toml's version (a Pester test
# keeps them equal), and the binary must report the same one.
$script:ModuleVersion = (Import-PowerShellDataFile -LiteralPath (Join-Path $PSScriptRoot 'OathBulk.psd1')).ModuleVersion

foreach ($file in Get-ChildItem -LiteralPath (Join-Path $PSScriptRoot 'Private') -Filter '*.ps1' | Sort-Object Name) {
    . $file.FullName
}
# The parameters, declared once (Private/CommandTable.psd1), and the cmdlets: each file of Public/
# with the shared parameters its entry declares, and those made from their entry alone
# (Private/Cmdlets.ps1).
$script:CommandTable = Import-OathBulkCommandTable -Path (Join-Path $PSScriptRoot 'Private/CommandTable.psd1')
foreach ($definition in Get-OathBulkCmdletScript -Folder (Join-Path $PSScriptRoot 'Public') -Table $script:CommandTable) {
    . $definition
}
Remove-Variable file, definition

Initialize-OathBulkNative

# The binary must be of this module's release: a clear error now, not odd failures later.
# A binary not installed yet is reported by the first cmdlet that needs it.
$found = Find-OathBulkBinary
if ($found.Path) {
    $mismatch = Assert-OathBulkBinaryVersion -Binary $found.Path
    if ($mismatch) { throw [System.InvalidOperationException]::new($mismatch) }
}
Remove-Variable found

# Tab completion of -Serial and -Upn from the CSV already given (-Path or -LiteralPath).
$completeFromCsv = {
    param($commandName, $parameterName, $wordToComplete, $commandAst, $fakeBoundParameters)
    $csv = @{}
    if ($fakeBoundParameters['LiteralPath']) { $csv.LiteralPath = $fakeBoundParameters['LiteralPath'] }
    elseif ($fakeBoundParameters['Path']) { $csv.Path = $fakeBoundParameters['Path'] }
    else { return }
    Import-OathBulkToken @csv -ErrorAction Ignore -WarningAction Ignore |
        ForEach-Object { $_.$parameterName } | Where-Object { $_ -like "$wordToComplete*" } | Sort-Object -Unique |
        ForEach-Object { [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_) }
}
$csvCommands = 'Enable-OathBulkToken', 'New-OathBulkTenantToken', 'Disable-OathBulkToken', 'Remove-OathBulkTokenAssignment', 'Remove-OathBulkTenantToken'
Register-ArgumentCompleter -CommandName $csvCommands -ParameterName Serial -ScriptBlock $completeFromCsv
Register-ArgumentCompleter -CommandName 'Enable-OathBulkToken' -ParameterName Upn -ScriptBlock $completeFromCsv
Remove-Variable completeFromCsv, csvCommands

# Simulators started in this session stop with the module.
$MyInvocation.MyCommand.ScriptBlock.Module.OnRemove = {
    foreach ($sim in @($script:Simulators)) {
        try { Stop-OathBulkSimulatorCore -Simulator $sim } catch { }
    }
}

# What is exported is the manifest's FunctionsToExport and AliasesToExport, the one list (no
# Export-ModuleMember here: a second list, computed from file names, could disagree with it).
