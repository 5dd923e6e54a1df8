function Export-OathBulkReport {
    # Help: powershell/docs/cmdlets/Export-OathBulkReport.md (rendered to en-US/OathBulk-help.xml).
    [CmdletBinding(HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#export-oathbulkreport')]
    [OutputType([System.IO.FileInfo])]
    param(
        [Parameter(Mandatory, Position = 0)] [Alias('Path')] [string]$Journal,
        [Parameter(Mandatory, Position = 1)] [string]$OutFile,
        [switch]$PassThruSummary
    )
    $journalPath = $PSCmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Journal)
    $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $PSBoundParameters `
        -Positional @($journalPath) -SessionState $PSCmdlet.SessionState
    Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command $MyInvocation.MyCommand.Name -ArgumentList $argv -PassThruSummary:$PassThruSummary
    $html = $PSCmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutFile)
    if (Test-Path -LiteralPath $html) { Get-Item -LiteralPath $html }
}
