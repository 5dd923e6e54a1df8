function Disable-OathBulkToken {
    <#
    .SYNOPSIS
    Deactivates hardware OATH tokens in Microsoft Entra ID; they stay assigned (oathbulk deactivate).

    .DESCRIPTION
    Runs `oathbulk deactivate`: each activated token goes back to assigned (its user keeps it,
    but it no longer signs them in until it is activated again with Enable-OathBulkToken).
    ConfirmImpact is Medium: reversible, so no prompt unless $ConfirmPreference is Medium or
    lower, or -Confirm is given.

    Tokens can be named three ways: -Path (every row of a CSV, narrowed by -Where/-Script,
    or by -Serial to one); rows piped from Import-OathBulkToken (one run per file, the piped
    lines only); or -Serial (and -Upn) without a CSV, also bound from piped objects with a
    Serial property such as Get-OathBulkTenantToken's (all of them in ONE run: one
    inventory read, whoever holds each token).

    -WhatIf runs a dry run (`--dry-run`): the tenant is read and would_do objects show the
    plan; nothing is written. -Force skips the confirmation prompt but never overrides
    -WhatIf.

    One OathBulk.Change object per token: Operation, Status (done, would_do, refused,
    not_found, failed, not_attempted), Serial, Upn, DeviceId, Line, Reason, HttpStatus,
    ErrorCode, ErrorMessage, Time. A token that is not in the state the change expects is
    refused and left untouched. refused, not_found, failed and not_attempted are written to
    the pipeline AND as non-terminating errors (ErrorId the error code or status,
    TargetObject the change). Rejected credentials (exit 3), an unreachable service (exit 4)
    and usage errors (exit 2) are terminating errors.

    Credentials are resolved as for Enable-OathBulkToken (-UseDeviceCode, -AccessToken,
    -Credential with -TenantId, -TokenFile, environment, then a Microsoft.Graph or Az
    session when talking to the real Graph).

    .PARAMETER Path
    A CSV naming the tokens (`serial number`; `upn`, when present: the user each must belong
    to; a vendor CSV works). Bound by property name from Import-OathBulkToken rows (hidden
    Path), which are collected and changed in ONE run per file (their lines selected).

    .PARAMETER Serial
    With -Path: only this token of the file (or, with -Line, the serial expected there).
    Without -Path: the tenant's token, by serial; bound by property name, so
    Get-OathBulkTenantToken objects can be piped in (all piped tokens go to ONE run).

    .PARAMETER Upn
    Without -Path: the user the token must belong to; a token someone else holds is refused
    (default: whoever holds it).

    .PARAMETER Where
    A rhai expression selecting CSV rows, for example 'row.upn.ends_with("@contoso.com")'.

    .PARAMETER OrderBy
    A rhai expression; rows are changed in its order.

    .PARAMETER Script
    A rhai file defining any of fn filter(row), fn key(row), fn map(row).

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

    .PARAMETER Journal
    Append every final change record to this JSON-lines file (Undo-OathBulkRun reads it).

    .PARAMETER Resume
    Skip tokens the journal already records as done. Needs -Journal.

    .PARAMETER AnyHolder
    With -Path, a CSV without a `upn` column: act on each serial whoever holds it even though
    a column looks like it names users (`Assigned To`, `Email`, `Owner`, or a cell holding a
    user name). Without it such a file is refused (a terminating usage error) before any
    token is touched, so that a column the tool does not read cannot silently turn "the
    token of this user" into "whoever holds it" (--any-holder).

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
    The CSV naming the tokens, taken exactly as written (no wildcards).

    .PARAMETER InputObject
    Piped input, bound by property name: OathBulk.Token rows (their lines of their file),
    tenant tokens (Get-OathBulkTenantToken, Microsoft Graph SDK objects: Serial/SerialNumber)
    and Import-Csv rows (`serial number`, `upn`). Every piped serial goes to ONE run of the
    binary (one inventory read). Any other object is refused by its type name. Piped input is
    the whole scope: an empty or filtered-to-nothing pipeline changes nothing.

    .PARAMETER FailAtEnd
    Rows that do not succeed are written to the pipeline only (no error record per row), and
    the cmdlet ends with ONE error (OathBulk.RowsFailed, non-terminating: $r = … keeps the objects) counting them, after
    every row was tried. Without it each such row is a non-terminating error; note that
    -ErrorAction Stop then stops the whole run at the first one (the binary is interrupted
    like Ctrl+C: requests in flight settle and are journaled; finish with -Journal -Resume).

    .EXAMPLE
    Disable-OathBulkToken -Serial 2200145001 -UseDeviceCode -WhatIf

    What deactivating one token would do (would_do), nothing written.

    .EXAMPLE
    Get-OathBulkTenantToken -Status activated | Where-Object AssignedTo -eq 'Adele Vance' | Disable-OathBulkToken -Confirm

    Deactivates Adele's tokens, asking for each.

    .EXAMPLE
    Disable-OathBulkToken lost.csv -Journal deactivate.jsonl -ErrorVariable failed

    Deactivates every token of lost.csv; Undo-OathBulkRun -Journal deactivate.jsonl reverts it.

    .INPUTS
    OathBulk.Token (Path, Line, Serial by property name); objects with a Serial property
    (Get-OathBulkTenantToken); objects with a FullName (Get-ChildItem).

    .OUTPUTS
    OathBulk.Change; OathBulk.Summary with -PassThruSummary.

    .LINK
    Undo-OathBulkRun

    .LINK
    Get-OathBulkTenantToken
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium', DefaultParameterSetName = 'Path', HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#disable-oathbulktoken')]
    [OutputType('OathBulk.Change')]
    param(
        [Parameter(Position = 0, ParameterSetName = 'Path')]
        [SupportsWildcards()]
        [ValidateNotNullOrEmpty()]
        [string[]]$Path,

        [Parameter(ParameterSetName = 'Path')]
        [Alias('LP')]
        [ValidateNotNullOrEmpty()]
        [string[]]$LiteralPath,

        [Parameter(ValueFromPipeline)]
        [psobject]$InputObject,

        [Parameter(ParameterSetName = 'Path')]
        [Parameter(Mandatory, ParameterSetName = 'Serial')]
        [Alias('SerialNumber')]
        [string]$Serial,

        [Parameter(ParameterSetName = 'Serial')]
        [ValidateNotNullOrEmpty()]
        [Alias('UserPrincipalName')]
        [string]$Upn,

        [Parameter(ParameterSetName = 'Path')] [ValidateNotNullOrEmpty()] [string]$Where,
        [Parameter(ParameterSetName = 'Path')] [ValidateNotNullOrEmpty()] [string]$OrderBy,
        [Parameter(ParameterSetName = 'Path')] [ValidateNotNullOrEmpty()] [string]$Script,

        [ValidateSet('graph', 'portal')] [string]$Backend,
        [uri]$GraphUrl,
        [uri]$PortalUrl,
        [ValidateSet('public', 'usgov')] [string]$PortalCloud,
        [uri]$AuthorityUrl,
        [switch]$Simulate,

        [ValidateRange(1, 64)] [int]$Parallel,
        [ValidateRange(0.001, 100000)] [double]$MaxRate,
        [string]$Journal,
        [switch]$Resume,
        [Parameter(ParameterSetName = 'Path')] [switch]$AnyHolder,

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
        Invoke-OathBulkChangeCommand -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters -Binder $binder -ExpectingInput:$expecting -Verb 'Deactivate' -Effect 'the tokens stay assigned but no longer sign in'
    }
}
