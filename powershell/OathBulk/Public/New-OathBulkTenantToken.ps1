function New-OathBulkTenantToken {
    <#
    .SYNOPSIS
    Imports hardware OATH tokens from a vendor seed file into the tenant's inventory (oathbulk
    import); optionally assigns and activates them in the same run.

    .DESCRIPTION
    Runs `oathbulk import` once per CSV and streams one OathBulk.Import object per row: Line,
    Upn, Serial, Status (created, exists, would_create, failed, not_attempted), DeviceId,
    Assigned, HttpStatus, ErrorCode, ErrorMessage, Time. A serial already in the tenant is
    not duplicated (exists). With -Assign each token is assigned to its row's user; with
    -Activate the rows' tokens are then activated too, and OathBulk.Activation objects follow
    (as Enable-OathBulkToken writes them).

    Rows can be given as -Path (every row of the file, narrowed by -Where / -Script, or by
    -Serial to one token) or piped from Import-OathBulkToken: the piped rows are collected
    and imported in ONE run per file; the binary reads the seeds from the file again, they
    never travel on the objects.

    -WhatIf runs `--dry-run`: the tenant is read and would_create objects show the plan;
    nothing is written. ConfirmImpact is Medium (as Microsoft's New- cmdlets): asks only when $ConfirmPreference is Medium or -Confirm is given, unless -Force or
    -Confirm:$false. -Force never overrides -WhatIf. With -Journal, Undo-OathBulkRun can
    revert the import later.

    Rows that end failed or not_attempted (and activations that do not succeed) are written
    to the pipeline AND as non-terminating errors; unreadable rows are InvalidData errors.
    Rejected credentials (exit 3), an unreachable service (exit 4) and usage errors (exit 2)
    are terminating errors.

    Credentials are resolved as for Enable-OathBulkToken (-UseDeviceCode, -AccessToken,
    -Credential with -TenantId, -TokenFile, environment, then a Microsoft.Graph or Az
    session when talking to the real Graph).

    .PARAMETER Path
    The vendor CSV (with the seeds). Bound by property name from Import-OathBulkToken rows
    (hidden Path) and from Get-ChildItem (FullName).

    .PARAMETER Serial
    With -Path alone: import only the token with this serial. With -Line (piped rows): the
    serial expected on that line, checked against the file.

    .PARAMETER Assign
    Assign each token to its row's user (the portal backend always does).

    .PARAMETER Activate
    After the import, activate the rows' tokens in the same run (assigning them where needed).

    .PARAMETER Where
    A rhai expression selecting rows, for example 'row.upn.ends_with("@contoso.com")'.

    .PARAMETER OrderBy
    A rhai expression; rows are imported in its order.

    .PARAMETER Script
    A rhai file defining any of fn filter(row), fn key(row), fn map(row).

    .PARAMETER SecretFormat
    How the secret key column is encoded: base32 (default) or hex.

    .PARAMETER Hash
    Hash for rows without a hash column value: sha1 (default) or sha256.

    .PARAMETER Backend
    graph (Microsoft Graph, default) or portal.

    .PARAMETER GraphUrl
    Microsoft Graph base URL (a simulator's GraphUrl).

    .PARAMETER PortalUrl
    Portal API base URL.

    .PARAMETER PortalCloud
    public or usgov (portal backend).

    .PARAMETER AuthorityUrl
    Sign-in authority for -Credential or -UseDeviceCode (a simulator's AuthorityUrl).

    .PARAMETER Simulate
    Run against an in-process simulated tenant (a rehearsal).

    .PARAMETER Parallel
    Requests in flight at once (1-64, default 4).

    .PARAMETER MaxRate
    At most this many write requests per second.

    .PARAMETER MinValidity
    With -Activate: seconds a code must stay valid when sent (1-25; default automatic).

    .PARAMETER Journal
    Append every row's final result to this JSON-lines file (Undo-OathBulkRun reads it).

    .PARAMETER Resume
    Skip rows the journal already settled. Needs -Journal.

    .PARAMETER ErrorLog
    Append per-failure details to this file, for support cases.

    .PARAMETER AccessToken
    A bearer token for Microsoft Graph or the portal API (SecureString): the sign-in credential,
    not a hardware token.

    .PARAMETER Credential
    App-only sign-in: user name = client id, password = client secret.

    .PARAMETER TenantId
    Tenant id or domain for -Credential or -UseDeviceCode.

    .PARAMETER TokenFile
    A file holding the bearer token (the sign-in credential, not a hardware token).

    .PARAMETER UseDeviceCode
    Sign in interactively with a device code (the sign-in message is a warning).

    .PARAMETER ClientId
    With -UseDeviceCode: the public client to sign in with. Otherwise, with -TenantId:
    app-only sign-in with the secret in $env:OATHBULK_CLIENT_SECRET.

    .PARAMETER Force
    Do not ask for confirmation. Does not override -WhatIf.

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

    .PARAMETER FailAtEnd
    Rows that do not succeed are written to the pipeline only (no error record per row), and
    the cmdlet ends with ONE error (OathBulk.RowsFailed, non-terminating: $r = … keeps the objects) counting them, after
    every row was tried. Without it each such row is a non-terminating error; note that
    -ErrorAction Stop then stops the whole run at the first one (the binary is interrupted
    like Ctrl+C: requests in flight settle and are journaled; finish with -Journal -Resume).

    .EXAMPLE
    New-OathBulkTenantToken tokens.csv -WhatIf

    Which tokens would be created (would_create) and which are already there (exists).

    .EXAMPLE
    New-OathBulkTenantToken tokens.csv -Assign -Activate -Journal rollout.jsonl -UseDeviceCode -Force

    The whole lifecycle in one run: import, assign, activate. Undo-OathBulkRun -Journal
    rollout.jsonl reverts it.

    .EXAMPLE
    Import-OathBulkToken tokens.csv | Where-Object Upn -like '*@fabrikam.com' | New-OathBulkTenantToken -Assign -Force

    Imports and assigns only the piped rows, in one run.

    .INPUTS
    OathBulk.Token (Path, Line, Serial by property name), System.String (Path).

    .OUTPUTS
    OathBulk.Import; OathBulk.Activation with -Activate; OathBulk.Summary with -PassThruSummary.

    .LINK
    Enable-OathBulkToken

    .LINK
    Undo-OathBulkRun
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium', HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#new-oathbulktenanttoken')]
    [OutputType('OathBulk.Import', 'OathBulk.Activation')]
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

        [Alias('SerialNumber')]
        [string]$Serial,

        [switch]$Assign,
        [switch]$Activate,

        [ValidateNotNullOrEmpty()] [string]$Where,
        [ValidateNotNullOrEmpty()] [string]$OrderBy,
        [ValidateNotNullOrEmpty()] [string]$Script,
        [ValidateSet('base32', 'hex')] [string]$SecretFormat,
        [ValidateSet('sha1', 'sha256', 'hmacsha1', 'hmacsha256')] [string]$Hash,

        [ValidateSet('graph', 'portal')] [string]$Backend,
        [uri]$GraphUrl,
        [uri]$PortalUrl,
        [ValidateSet('public', 'usgov')] [string]$PortalCloud,
        [uri]$AuthorityUrl,
        [switch]$Simulate,

        [ValidateRange(1, 64)] [int]$Parallel,
        [ValidateRange(0.001, 100000)] [double]$MaxRate,
        [ValidateRange(1, 25)] [int]$MinValidity,
        [string]$Journal,
        [switch]$Resume,
        [string]$ErrorLog,

        [securestring]$AccessToken,
        [pscredential]$Credential,
        [string]$TenantId,
        [string]$TokenFile,
        [switch]$UseDeviceCode,
        [ValidateNotNullOrEmpty()] [string]$ClientId,

        [switch]$Force,
        [switch]$FailAtEnd,
        [switch]$PassThruSummary
    )
    begin {
        $expecting = $MyInvocation.ExpectingInput
        $binder = New-OathBulkInputBinder -Cmdlet $PSCmdlet
    }
    process {
        $binder.Add($InputObject)
    }
    end {
        if ($Resume -and -not $Journal) {
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                    [System.ArgumentException]::new('-Resume needs -Journal.'), 'OathBulk.ResumeWithoutJournal', 'InvalidArgument', $null))
        }
        $runs = Resolve-OathBulkRun -Cmdlet $PSCmdlet -Binder $binder -Path $Path -LiteralPath $LiteralPath -ExpectingInput:$expecting -Serial $Serial -PathlessMode Rows
        if (-not $runs.Count) { return }
        $binary = Get-OathBulkBinary -Cmdlet $PSCmdlet
        $auth = Resolve-OathBulkCmdletAuth -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters
        $what = if ($Activate) { 'Importing, assigning and activating' } elseif ($Assign) { 'Importing and assigning' } else { 'Importing' }

        foreach ($run in $runs) {
            $extra = [System.Collections.Generic.List[string]]::new()
            foreach ($a in $auth.Arguments) { $extra.Add($a) }
            $extra.Add('--progress'); $extra.Add('json')
            $bound = @{} + $PSBoundParameters
            $selection = $null
            try {
                $selection = Resolve-OathBulkRowSelection -Run $run -Where $Where
                foreach ($e in $selection.Extra) { $extra.Add($e) }
                if ($selection.Where) { $bound['Where'] = $selection.Where }
                $target = $selection.Target
                $decision = Test-OathBulkShouldProcess -Cmdlet $PSCmdlet -Force:$Force `
                    -Description "$what $target in the tenant." -Question "$what ${target}?"
                if ($decision -eq 'Skip') { continue }
                # -WhatIf: a dry run (reads the tenant, writes nothing) that shows the plan.
                if ($decision -eq 'DryRun') { $extra.Add('--dry-run') }
                $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $bound -Positional @($run.Csv) -Extra $extra -SessionState $PSCmdlet.SessionState
                Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command $MyInvocation.MyCommand.Name -ArgumentList $argv -SourcePath $(if ($run.Csv -ne '-') { $run.Csv }) `
                    -Environment $auth.Environment -Redact $auth.Redact -PassThruSummary:$PassThruSummary -ExpectSerial $selection.Expect `
                    -StdinText $run.Stdin -RowFailure:$FailAtEnd
            } finally {
                if ($selection) { foreach ($f in $selection.TempFiles) { [System.IO.File]::Delete($f) } }
            }
        }
    }
}
