function Test-OathBulkCsv {
    <#
    .SYNOPSIS
    Checks a vendor CSV before a run (oathbulk check).

    .DESCRIPTION
    Runs `oathbulk check` and writes one OathBulk.Finding object per problem that only the
    whole file shows: duplicate_serial and too_many_tokens (severity error), weak_secret
    (warn), … Rows that cannot be read at all are non-terminating errors (InvalidData, ErrorId
    the binary's code, TargetObject an OathBulk.RowError), as with the other cmdlets.

    With -Quiet, writes only $true (no row errors and no error findings) or $false, like
    Test-Connection -Quiet.

    .PARAMETER Path
    The vendor CSV. Wildcards are expanded; accepts FullName from Get-ChildItem.

    .PARAMETER Where
    A rhai expression; only rows for which it is true are used, for example
    'row.upn.ends_with("@contoso.com")'.

    .PARAMETER OrderBy
    A rhai expression computed once per row; rows are processed in its order.

    .PARAMETER Script
    A rhai file defining any of fn filter(row), fn key(row), fn map(row).

    .PARAMETER SecretFormat
    How the secret key column is encoded: base32 (default) or hex. Never guessed.

    .PARAMETER Hash
    Hash for rows without a hash column value: sha1 (default) or sha256.

    .PARAMETER Quiet
    Return $true or $false instead of findings and errors.

    .PARAMETER PassThruSummary
    Also write the run's OathBulk.Summary object (last). Otherwise it goes to -Verbose.

    .PARAMETER LiteralPath
    The vendor CSV, taken exactly as written (no wildcards: `tokens[1].csv` works).

    .PARAMETER InputObject
    Piped input, bound by property name in one compiled step: OathBulk.Token rows (Path,
    Line, Serial: those lines of that file, never the whole file again), Import-Csv rows
    (`serial number`/Serial, `upn`/Upn: with -Path they select rows of that file, without it
    they are the rows, sent to the binary on stdin), Get-ChildItem files (FullName) and path
    strings. Any other object is refused with an OathBulk.UnsupportedInput error naming its
    type (never its text). Piped input is the whole scope: an empty or filtered-to-nothing
    pipeline does nothing.

    .EXAMPLE
    Test-OathBulkCsv tokens.csv

    Lists duplicate serials, users with more than five tokens, weak seeds; row errors appear
    on the error stream.

    .EXAMPLE
    if (-not (Test-OathBulkCsv tokens.csv -Quiet)) { throw 'fix tokens.csv first' }

    A gate for scripts.

    .EXAMPLE
    Test-OathBulkCsv tokens.csv -ErrorVariable rowErrors | Where-Object Severity -eq 'error'
    $rowErrors.TargetObject | Export-Csv row-errors.csv

    Blocking findings on the pipeline, unreadable rows saved for the vendor.

    .INPUTS
    System.String (Path), or objects with a FullName property.

    .OUTPUTS
    OathBulk.Finding; System.Boolean with -Quiet; OathBulk.Summary with -PassThruSummary.

    .LINK
    Import-OathBulkToken
    #>
    [CmdletBinding(HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#test-oathbulkcsv')]
    [OutputType('OathBulk.Finding', [bool])]
    param(
        [Parameter(Position = 0)]
        [SupportsWildcards()]
        [ValidateNotNullOrEmpty()]
        [string[]]$Path,

        [Alias('LP')]
        [ValidateNotNullOrEmpty()]
        [string[]]$LiteralPath,

        [Parameter(ValueFromPipeline)]
        [psobject]$InputObject,

        [ValidateNotNullOrEmpty()] [string]$Where,
        [ValidateNotNullOrEmpty()] [string]$OrderBy,
        [ValidateNotNullOrEmpty()] [string]$Script,
        [ValidateSet('base32', 'hex')] [string]$SecretFormat,
        [ValidateSet('sha1', 'sha256', 'hmacsha1', 'hmacsha256')] [string]$Hash,
        [switch]$Quiet,
        [switch]$PassThruSummary
    )
    begin {
        $expecting = $MyInvocation.ExpectingInput
        $binder = New-OathBulkInputBinder -Cmdlet $PSCmdlet
    }
    process {
        # One compiled call per piped object (rows, files, paths): no per-row path resolution.
        $binder.Add($InputObject)
    }
    end {
        foreach ($run in (Resolve-OathBulkRun -Cmdlet $PSCmdlet -Binder $binder -Path $Path -LiteralPath $LiteralPath -ExpectingInput:$expecting -PathlessMode Rows)) {
            if ($Quiet) {
                # Findings are swallowed; the binary's exit code is the answer.
                $null = Invoke-OathBulkReadRun -Cmdlet $PSCmdlet -Run $run -BoundParameters $PSBoundParameters -Quiet
                $script:NativeExitCode -eq 0
            } else {
                Invoke-OathBulkReadRun -Cmdlet $PSCmdlet -Run $run -BoundParameters $PSBoundParameters
            }
        }
    }
}
