function Get-OathBulkCode {
    <#
    .SYNOPSIS
    Computes each CSV row's current TOTP code (oathbulk otp).

    .DESCRIPTION
    Runs `oathbulk otp` and streams one OathBulk.Otp object per usable row: Line, Upn, Serial,
    Code (always six digits, a string), Step, TimeInterval, Hash, ValidFor (seconds the code
    stays valid from At), At (Unix seconds) and, with -RevealSecrets, Secret. Without -At the
    clock is read per row, so a long stream never shows stale codes.

    Rows that cannot be used are non-terminating errors (InvalidData, ErrorId the binary's
    code); usage and input errors are terminating (OathBulk.UsageError).

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

    .PARAMETER At
    The instant to compute codes for (a [DateTimeOffset]; [datetime] and strings such as
    '2026-01-01T00:00:00Z' convert).

    .PARAMETER ClockOffset
    Seconds to add to the clock (when the system clock is known to be off).

    .PARAMETER RevealSecrets
    Put each token's Base32 secret in the Secret property.

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
    Get-OathBulkCode tokens.csv | Format-Table Serial, Upn, Code, ValidFor

    The current code of every token.

    .EXAMPLE
    Get-OathBulkCode tokens.csv -At '2026-01-01T00:00:00Z' -Where 'row.serial == "1000001"'

    One token's code at a fixed instant (to compare with the token's display).

    .EXAMPLE
    Get-OathBulkCode tokens.csv -ClockOffset 30 | Where-Object ValidFor -lt 5

    Codes computed 30 seconds ahead; shows the ones about to roll over.

    .INPUTS
    System.String (Path), or objects with a FullName property.

    .OUTPUTS
    OathBulk.Otp; OathBulk.Summary with -PassThruSummary.

    .LINK
    Import-OathBulkToken
    #>
    [CmdletBinding(HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#get-oathbulkcode')]
    [OutputType('OathBulk.Otp')]
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
        [DateTimeOffset]$At,
        [int]$ClockOffset,
        [switch]$RevealSecrets,
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
            Invoke-OathBulkReadRun -Cmdlet $PSCmdlet -Run $run -BoundParameters $PSBoundParameters
        }
    }
}
