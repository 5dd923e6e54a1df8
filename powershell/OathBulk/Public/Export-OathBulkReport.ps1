function Export-OathBulkReport {
    <#
    .SYNOPSIS
    Writes a run's story from its journal as one self-contained HTML page (oathbulk report).

    .DESCRIPTION
    Runs `oathbulk report JOURNAL --html FILE`: rows per outcome, the pace over time with each
    429 and its Retry-After marked, write requests per minute, each run's summary (clock offset
    included) and every failed row with its reason. One file, no script, nothing fetched. A
    journal still being written is read as far as it goes; a resumed run is one story. Returns
    the report file (System.IO.FileInfo).

    .PARAMETER Journal
    The run's journal (Enable-OathBulkToken -JournalPath, …).

    .PARAMETER OutFile
    Where to write the HTML report.

    .PARAMETER PassThruSummary
    Also write the OathBulk.Summary object of the journal (rows by last status).

    .EXAMPLE
    Export-OathBulkReport run.jsonl -OutFile report.html; Invoke-Item report.html

    The report of a run, opened in the default browser.

    .OUTPUTS
    System.IO.FileInfo; OathBulk.Summary with -PassThruSummary.

    .LINK
    Enable-OathBulkToken
    #>
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
