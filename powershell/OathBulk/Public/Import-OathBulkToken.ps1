function Import-OathBulkToken {
    <#
    .SYNOPSIS
    Reads the rows of a vendor OATH token CSV into OathBulk.Token objects: CSV rows, not tenant tokens (oathbulk list).

    .DESCRIPTION
    Runs `oathbulk list` and streams one OathBulk.Token object per usable row, as the binary
    reads them: `Select-Object -First 5` returns at once and stops the binary. Each object
    carries the JSON fields in PascalCase (Line, Upn, Serial, Manufacturer, Model,
    TimeInterval, Hash, DisplayName, SecretBits, Secret, Extra) and a hidden Path property (the
    CSV's full path), so the rows can be piped to Enable-OathBulkToken.

    Secrets are not read into the objects unless -RevealSecrets is given.

    Rows that cannot be used are non-terminating errors (category InvalidData, ErrorId the
    binary's code such as invalid_secret or missing_upn, TargetObject an OathBulk.RowError);
    the other rows go on. A missing or unreadable file, a bad -Where expression and other usage
    errors are terminating errors (OathBulk.UsageError).

    .PARAMETER Path
    The vendor CSV. Wildcards are expanded. Accepts
    file objects from Get-ChildItem by property name (FullName).

    .PARAMETER Where
    A rhai expression; only rows for which it is true are returned, for example
    'row.upn.ends_with("@contoso.com")'.

    .PARAMETER OrderBy
    A rhai expression computed once per row; rows are sorted by it (reads the whole file first).

    .PARAMETER Script
    A rhai file defining any of fn filter(row), fn key(row), fn map(row).

    .PARAMETER SecretFormat
    How the secret key column is encoded: base32 (default) or hex. Never guessed.

    .PARAMETER Hash
    Hash for rows without a hash column value: sha1 (default) or sha256.

    .PARAMETER RevealSecrets
    Put each token's Base32 secret in the Secret property. Off by default.

    .PARAMETER PassThruSummary
    Also write the run's OathBulk.Summary object (always last). Without it the summary is
    written to the verbose stream.

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
    Import-OathBulkToken -Path .\tokens.csv | Format-Table

    Lists every usable row; row errors are reported on the error stream.

    .EXAMPLE
    Import-OathBulkToken tokens.csv -Where 'row.upn.ends_with("@contoso.com")' -ErrorVariable bad
    $bad.TargetObject | Format-Table Line, Code, Message

    Keeps the contoso rows and collects the rows that could not be read.

    .EXAMPLE
    Import-OathBulkToken tokens.csv | Where-Object SecretBits -lt 128 | Select-Object Serial, Upn

    Finds tokens with short seeds.

    .EXAMPLE
    Import-OathBulkToken tokens.csv | Where-Object Upn -like '*@contoso.com' | Enable-OathBulkToken -WhatIf

    Shows what activating the selected rows would do, in one run of the binary.

    .INPUTS
    System.String (Path), or objects with a FullName/Path property.

    .OUTPUTS
    OathBulk.Token; OathBulk.Summary with -PassThruSummary.

    .LINK
    Get-OathBulkCode

    .LINK
    Enable-OathBulkToken
    #>
    [CmdletBinding(HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#import-oathbulktoken')]
    [OutputType('OathBulk.Token')]
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
