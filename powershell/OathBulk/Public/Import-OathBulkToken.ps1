function Import-OathBulkToken {
    # Help: powershell/docs/cmdlets/Import-OathBulkToken.md (rendered to en-US/OathBulk-help.xml).
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
        [securestring]$Password,
        [ValidateNotNullOrEmpty()] [string]$PskcKeyFile,
        [ValidateNotNullOrEmpty()] [string]$AssignCsv,
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
