function Get-OathBulkUser {
    <#
    .SYNOPSIS
    Lists the users of a vendor CSV with their tokens (oathbulk users).

    .DESCRIPTION
    Runs `oathbulk users` and writes one OathBulk.User object per user principal name of the
    CSV (grouped case-insensitively, as Entra does, in order of first appearance): Upn, Count
    (tokens in the CSV), Tokens (OathBulk.UserToken objects: Serial, Line, and with
    -WithTenant Status and AssignedTo) and Warning (set when the user would hold more than
    Entra's five OATH methods).

    Without -WithTenant nothing leaves the machine and no credentials are used. With
    -WithTenant each token also gets its status in the tenant (available, assigned,
    activated, failedActivation, not_found) and, when another user holds it, who. Credentials
    are resolved as for Enable-OathBulkToken (-UseDeviceCode, -AccessToken, -Credential with
    -TenantId, -TokenFile, environment, then a Microsoft.Graph or Az session when talking to
    the real Graph).

    Rows that cannot be read are non-terminating errors (InvalidData, ErrorId the binary's
    code), as with the other cmdlets. User objects carry no Path: piping them into
    Enable-OathBulkToken does not select a file.

    .PARAMETER Path
    The vendor CSV. Wildcards are expanded; accepts FullName from Get-ChildItem.

    .PARAMETER WithTenant
    Add each token's tenant status and holder (reads the tenant; needs credentials).

    .PARAMETER Where
    A rhai expression; only rows for which it is true are used.

    .PARAMETER OrderBy
    A rhai expression computed once per row; rows are read in its order.

    .PARAMETER Script
    A rhai file defining any of fn filter(row), fn key(row), fn map(row).

    .PARAMETER SecretFormat
    How the secret key column is encoded: base32 (default) or hex.

    .PARAMETER Hash
    Hash for rows without a hash column value: sha1 (default) or sha256.

    .PARAMETER Backend
    graph (default) or portal.

    .PARAMETER GraphUrl
    Microsoft Graph base URL (a simulator's GraphUrl).

    .PARAMETER PortalUrl
    Portal API base URL.

    .PARAMETER PortalCloud
    public or usgov (portal backend).

    .PARAMETER AuthorityUrl
    Sign-in authority for -Credential or -UseDeviceCode (a simulator's AuthorityUrl).

    .PARAMETER Simulate
    With -WithTenant: read an in-process simulated tenant seeded from the CSV.

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
    Get-OathBulkUser tokens.csv | Where-Object Count -gt 1

    Users with more than one token in the file (no network).

    .EXAMPLE
    Get-OathBulkUser tokens.csv | Where-Object Warning

    Users the tenant would refuse a token for (more than five OATH methods).

    .EXAMPLE
    Get-OathBulkUser tokens.csv -WithTenant -UseDeviceCode |
        Select-Object Upn -ExpandProperty Tokens |
        Where-Object Status -ne 'activated'

    Every token of the file that is not active yet, with its user and tenant status.

    .EXAMPLE
    $sim = Start-OathBulkSimulator tokens.csv
    Get-OathBulkUser tokens.csv -WithTenant | ForEach-Object Tokens | Where-Object AssignedTo
    $sim | Stop-OathBulkSimulator

    Tokens another user holds (conflicts activation would leave untouched), in a rehearsal:
    the simulator is the session's tenant until it stops.

    .INPUTS
    System.String (Path), or objects with a FullName property.

    .OUTPUTS
    OathBulk.User; OathBulk.Summary with -PassThruSummary.

    .LINK
    Import-OathBulkToken

    .LINK
    Test-OathBulkPrerequisite
    #>
    [CmdletBinding(HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#get-oathbulkuser')]
    [OutputType('OathBulk.User')]
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

        [switch]$WithTenant,

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

        [securestring]$AccessToken,
        [pscredential]$Credential,
        [string]$TenantId,
        [string]$TokenFile,
        [switch]$UseDeviceCode,
        [ValidateNotNullOrEmpty()] [string]$ClientId,

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
        $runs = Resolve-OathBulkRun -Cmdlet $PSCmdlet -Binder $binder -Path $Path -LiteralPath $LiteralPath -ExpectingInput:$expecting -PathlessMode Rows
        if (-not $runs.Count) { return }
        $extra = [System.Collections.Generic.List[string]]::new()
        $envTable = @{}
        $redact = @()
        if ($WithTenant) {
            # First: it adds the session's endpoint to the bound parameters copied below.
            $auth = Resolve-OathBulkCmdletAuth -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters
        }
        $bound = @{} + $PSBoundParameters
        if ($WithTenant) {
            foreach ($a in $auth.Arguments) { $extra.Add($a) }
            $extra.Add('--progress'); $extra.Add('json')
            $envTable = $auth.Environment
            $redact = $auth.Redact
        } else {
            # Offline: no tenant or credential flag reaches the binary, and no token is looked up.
            foreach ($name in 'Backend', 'GraphUrl', 'PortalUrl', 'PortalCloud', 'AuthorityUrl', 'Simulate', 'TenantId', 'TokenFile', 'UseDeviceCode', 'ClientId') {
                $null = $bound.Remove($name)
            }
        }
        foreach ($run in $runs) {
            Invoke-OathBulkReadRun -Cmdlet $PSCmdlet -Run $run -BoundParameters $bound -Extra $extra -Environment $envTable -Redact $redact
        }
    }
}
