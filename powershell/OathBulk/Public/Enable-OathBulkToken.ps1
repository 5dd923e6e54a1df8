function Enable-OathBulkToken {
    <#
    .SYNOPSIS
    Activates hardware OATH tokens in Microsoft Entra ID from a vendor CSV (oathbulk activate).

    .DESCRIPTION
    Runs `oathbulk activate` once per CSV and streams one OathBulk.Activation object per row as
    results arrive: Line, Upn, Serial, Status (activated, already_active, would_activate,
    conflict, not_found, failed, skipped, not_attempted), Action, Attempts, DeviceId, Step,
    AssignedTo, HttpStatus, ErrorCode, ErrorMessage, Time.

    Rows can be given three ways:
      * -Path alone activates every row of the file (narrowed by -Where / -Script, or by
        -Serial to one token);
      * -Serial with -Code (and -Upn), no CSV: one token whose code the user reads off the
        device (a replacement token, a token without its seed file). The code is sent once;
        a rejected or stale code is reported, never guessed;
      * rows piped from Import-OathBulkToken (or Get-OathBulkCode) bind Path, Line and Serial
        by property name; the piped rows are collected and activated in ONE run per file. The
        secret never travels on the objects: the binary reads it from the CSV again, selecting
        the piped lines. If a line now holds a different serial (the file changed), an
        OathBulk.CsvChanged error is written.

    -WhatIf runs `--dry-run`: nothing is written to the tenant and the would_activate objects
    are returned. ConfirmImpact is Medium (as Microsoft's Enable- cmdlets): no prompt unless
    $ConfirmPreference is Medium or lower, or -Confirm; -Force or -Confirm:$false skips it.
    -Force never overrides -WhatIf.

    Rows that end as conflict, not_found, failed or not_attempted are written to the pipeline
    AND as non-terminating errors (ErrorId the error code or status, TargetObject the
    activation). Rejected credentials (exit 3), an unreachable service (exit 4) and usage
    errors (exit 2) are terminating errors; the journal keeps what was settled.

    Credentials, most explicit first: -UseDeviceCode (interactive device-code sign-in; the
    sign-in message is a warning); -AccessToken (a bearer token as SecureString);
    -Credential with -TenantId (app-only: user name = client id, password = client secret);
    -TokenFile; $env:OATHBULK_TOKEN / $env:OATHBULK_CLIENT_SECRET; otherwise a token from a
    signed-in Microsoft.Graph (Connect-MgGraph) or Az (Connect-AzAccount) session, but only
    when talking to the real Microsoft Graph (no -GraphUrl/-PortalUrl/-Simulate). Secrets go
    to the binary through its environment only: never on the command line, never in -Verbose
    output, never on the objects.

    .PARAMETER Path
    The vendor CSV. Bound by property name from Import-OathBulkToken objects (hidden Path)
    and from Get-ChildItem (FullName).

    .PARAMETER Serial
    With -Path alone: activate only the token with this serial. With -Line (piped rows): the
    serial expected on that line, checked against the file. Without -Path (with -Code): the
    tenant's token to activate.

    .PARAMETER Code
    The six digits the token shows now (a string: quote it to keep leading zeros). With
    -Serial and without -Path: no CSV (and no seed) is needed. Sent once, never retried.

    .PARAMETER Upn
    With -Serial: the user to assign the token to (else the user it is assigned to, or the
    CSV row's user).

    .PARAMETER Where
    A rhai expression selecting rows, for example 'row.upn.ends_with("@contoso.com")'.

    .PARAMETER OrderBy
    A rhai expression; rows are activated in its order.

    .PARAMETER Script
    A rhai file defining any of fn filter(row), fn key(row), fn map(row).

    .PARAMETER SecretFormat
    How the secret key column is encoded: base32 (default) or hex.

    .PARAMETER Hash
    Hash for rows without a hash column value: sha1 (default) or sha256.

    .PARAMETER Backend
    graph (Microsoft Graph, default) or portal (the legacy Azure portal API, user tokens only).

    .PARAMETER GraphUrl
    Microsoft Graph base URL (a simulator's GraphUrl).

    .PARAMETER PortalUrl
    Portal API base URL (a simulator's PortalUrl).

    .PARAMETER PortalCloud
    public or usgov (portal backend).

    .PARAMETER AuthorityUrl
    Sign-in authority for -Credential (a simulator's AuthorityUrl).

    .PARAMETER Simulate
    Run against an in-process simulated tenant seeded from the CSV (a rehearsal).

    .PARAMETER Parallel
    Rows in flight at once (1-64, default 4).

    .PARAMETER MaxRate
    At most this many write requests per second.

    .PARAMETER MinValidity
    Seconds a code must stay valid when sent (1-25; default automatic); otherwise wait for the next.

    .PARAMETER Journal
    Append every row's final result to this JSON-lines file.

    .PARAMETER Resume
    Skip rows the journal already settled (status skipped). Needs -Journal.

    .PARAMETER ErrorLog
    Write the rows that failed to this file.

    .PARAMETER AccessToken
    A bearer token for Microsoft Graph or the portal API (SecureString): the sign-in credential,
    not a hardware token.

    .PARAMETER Credential
    App-only sign-in: user name = application (client) id, password = client secret.

    .PARAMETER TenantId
    Tenant id or domain for -Credential.

    .PARAMETER TokenFile
    A file holding the bearer token (the sign-in credential, not a hardware token).

    .PARAMETER UseDeviceCode
    Sign in interactively with a device code: the binary shows "To sign in, open … and enter
    the code …" as a warning (seen even when the output is piped), then waits for the sign-in.
    The token stays in the binary's memory. Use -TenantId for a specific tenant.

    .PARAMETER ClientId
    With -UseDeviceCode: the public client (app registration) to sign in with (default:
    Microsoft Graph Command Line Tools). Without it, with -TenantId: app-only sign-in with
    the client secret in $env:OATHBULK_CLIENT_SECRET.

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
    Enable-OathBulkToken tokens.csv -WhatIf

    A dry run: reads the tenant, returns would_activate objects, writes nothing.

    .EXAMPLE
    Import-OathBulkToken tokens.csv | Where-Object Upn -like '*@contoso.com' | Enable-OathBulkToken -Force

    Activates exactly the piped rows, in one run of the binary, without a prompt.

    .EXAMPLE
    $token = Read-Host -AsSecureString 'Graph token'
    Enable-OathBulkToken tokens.csv -AccessToken $token -Journal run.jsonl -Resume -Force -ErrorVariable failed
    $failed.TargetObject | Export-Csv failed.csv

    Re-runnable activation: rows settled by an earlier run are skipped; failures are kept.

    .EXAMPLE
    $app = Get-Credential  # user = client id, password = client secret
    Enable-OathBulkToken tokens.csv -Credential $app -TenantId contoso.onmicrosoft.com -Parallel 8 -MaxRate 20 -Force

    App-only activation.

    .EXAMPLE
    $sim = Start-OathBulkSimulator tokens.csv
    Enable-OathBulkToken tokens.csv -GraphUrl $sim.GraphUrl -AccessToken (ConvertTo-SecureString x -AsPlainText) -Force
    $sim | Stop-OathBulkSimulator

    A rehearsal against the local simulator.

    .EXAMPLE
    Enable-OathBulkToken -Serial 2200145001 -Code '081804' -Upn adele.vance@contoso.com -UseDeviceCode -WhatIf

    One token without a CSV: the code read off the device, assigned to Adele. -WhatIf shows
    the plan (would_activate, assign_and_activate) without writing.

    .EXAMPLE
    Enable-OathBulkToken tokens.csv -Serial 2200145001 -UseDeviceCode -Force

    Only that token from the CSV, after a device-code sign-in.

    .INPUTS
    OathBulk.Token (Path, Line, Serial by property name), System.String (Path).

    .OUTPUTS
    OathBulk.Activation; OathBulk.Summary with -PassThruSummary.

    .LINK
    Import-OathBulkToken

    .LINK
    Test-OathBulkPrerequisite

    .LINK
    Start-OathBulkSimulator
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium', DefaultParameterSetName = 'Path', HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#enable-oathbulktoken')]
    [OutputType('OathBulk.Activation')]
    param(
        [Parameter(Position = 0, ParameterSetName = 'Path')]
        [SupportsWildcards()]
        [ValidateNotNullOrEmpty()]
        [string[]]$Path,

        [Parameter(ParameterSetName = 'Path')]
        [Alias('LP')]
        [ValidateNotNullOrEmpty()]
        [string[]]$LiteralPath,

        [Parameter(ValueFromPipeline, ParameterSetName = 'Path')]
        [psobject]$InputObject,

        [Parameter(ParameterSetName = 'Path')]
        [Parameter(Mandatory, ParameterSetName = 'Token')]
        [Alias('SerialNumber')]
        [string]$Serial,

        [Parameter(Mandatory, ParameterSetName = 'Token')]
        [ValidatePattern('^\d{6}$', ErrorMessage = 'A verification code is exactly six digits, as a string (quote it to keep leading zeros).')]
        [string]$Code,

        [Alias('UserPrincipalName')] [ValidateNotNullOrEmpty()] [string]$Upn,

        [Parameter(ParameterSetName = 'Path')] [ValidateNotNullOrEmpty()] [string]$Where,
        [Parameter(ParameterSetName = 'Path')] [ValidateNotNullOrEmpty()] [string]$OrderBy,
        [Parameter(ParameterSetName = 'Path')] [ValidateNotNullOrEmpty()] [string]$Script,
        [Parameter(ParameterSetName = 'Path')] [ValidateSet('base32', 'hex')] [string]$SecretFormat,
        [Parameter(ParameterSetName = 'Path')] [ValidateSet('sha1', 'sha256', 'hmacsha1', 'hmacsha256')] [string]$Hash,

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
        $expecting = $MyInvocation.ExpectingInput -and $PSCmdlet.ParameterSetName -ne 'Token'
        $binder = New-OathBulkInputBinder -Cmdlet $PSCmdlet
    }
    process {
        # One compiled call per piped object: this is the hot path (see module-bench.ps1).
        $binder.Add($InputObject)
    }
    end {
        if ($Resume -and -not $Journal) {
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                    [System.ArgumentException]::new('-Resume needs -Journal.'), 'OathBulk.ResumeWithoutJournal', 'InvalidArgument', $null))
        }
        # One run per CSV (and one for rows piped without a file); with -Serial -Code, one run.
        if ($PSCmdlet.ParameterSetName -eq 'Token') {
            $runs = @(@{ Csv = $null; Selection = $null; Stdin = $null; Serials = $null })
        } else {
            $runs = Resolve-OathBulkRun -Cmdlet $PSCmdlet -Binder $binder -Path $Path -LiteralPath $LiteralPath -ExpectingInput:$expecting -Serial $Serial -PathlessMode Rows
            if (-not $runs.Count) { return }
        }
        $binary = Get-OathBulkBinary -Cmdlet $PSCmdlet
        $auth = Resolve-OathBulkCmdletAuth -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters

        foreach ($run in $runs) {
            $extra = [System.Collections.Generic.List[string]]::new()
            foreach ($a in $auth.Arguments) { $extra.Add($a) }
            $extra.Add('--progress'); $extra.Add('json')
            $bound = @{} + $PSBoundParameters
            foreach ($name in 'Serial', 'Path', 'LiteralPath') { $null = $bound.Remove($name) }
            $selection = $null
            $csv = $run.Csv
            try {
                if ($csv) {
                    $selection = Resolve-OathBulkRowSelection -Run $run -Where $Where -SerialFlag
                    if ($Upn -and -not $selection.Serial) {
                        $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new(
                                [System.ArgumentException]::new("-Upn applies to one token: give one -Serial (not piped rows) for $csv."), 'OathBulk.OneTokenOnly', 'InvalidArgument', $csv))
                        continue
                    }
                    foreach ($e in $selection.Extra) { $extra.Add($e) }
                    if ($selection.Where) { $bound['Where'] = $selection.Where }
                    $target = $selection.Target
                } else {
                    $extra.Add('--serial'); $extra.Add($Serial)
                    $target = "token $Serial$(if ($Upn) { " for $Upn" }) (typed code)"
                }

                $decision = Test-OathBulkShouldProcess -Cmdlet $PSCmdlet -Force:$Force -Serial $(if ($selection -and $selection.Expect) { @($selection.Expect.Values) } elseif ($selection -and $selection.Serial) { $selection.Serial }) `
                    -Description "Activating $target in the tenant." -Question "Activate $target in the tenant?"
                if ($decision -eq 'Skip') { continue }
                # -WhatIf: a dry run (reads the tenant, writes nothing) that shows the plan.
                if ($decision -eq 'DryRun') { $extra.Add('--dry-run') }

                $positional = if ($csv) { @($csv) } else { @() }
                $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $bound -Positional $positional -Extra $extra -SessionState $PSCmdlet.SessionState
                Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command $MyInvocation.MyCommand.Name -ArgumentList $argv -SourcePath $(if ($csv -and $csv -ne '-') { $csv }) `
                    -Environment $auth.Environment -Redact $auth.Redact -PassThruSummary:$PassThruSummary -ExpectSerial $(if ($selection) { $selection.Expect }) `
                    -StdinText $run.Stdin -RowFailure:$FailAtEnd
            } finally {
                if ($selection) { foreach ($f in $selection.TempFiles) { [System.IO.File]::Delete($f) } }
            }
        }
    }
}
