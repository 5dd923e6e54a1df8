function Test-OathBulkPrerequisite {
    <#
    .SYNOPSIS
    Checks everything a run needs before it starts: credentials, permissions, policy, clock, CSV
    and tenant (oathbulk doctor).

    .DESCRIPTION
    Runs `oathbulk doctor` and writes one OathBulk.Check object per preflight check: Check (a
    stable name: csv, token_expiry, token_audience, permissions, api_reachable,
    policy_enabled, tenant_tokens, tenant_holders, clock_offset, …), Status (pass, warn,
    fail), Message, and Fix (what to do, for warn and fail).

    A failed check is a finding, not a failure of the cmdlet: it is written to the pipeline
    only (like Test-OathBulkCsv's findings), so the whole report can be read, filtered and
    exported. Rejected credentials and an unreachable tenant are reported as failed checks
    too. Use -Quiet for a gate: it writes only $true (nothing failed; warnings allowed) or
    $false. Bad arguments and an unreadable CSV are terminating errors, with or without
    -Quiet.

    Credentials are resolved as for Enable-OathBulkToken (-UseDeviceCode, -AccessToken,
    -Credential with -TenantId, -TokenFile, environment, then a Microsoft.Graph or Az
    session when talking to the real Graph).

    .PARAMETER Path
    The vendor CSV to check as well (optional): readable rows, and their tokens and holders
    in the tenant.

    .PARAMETER SecretFormat
    How the CSV's secret key column is encoded: base32 (default) or hex.

    .PARAMETER Hash
    Hash for rows without a hash column value: sha1 (default) or sha256.

    .PARAMETER MaxRate
    The write rate the run will use, to estimate its length against the token's lifetime.

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
    Check against an in-process simulated tenant seeded from the CSV.

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

    .PARAMETER Quiet
    Return $true (no check failed) or $false instead of the checks.

    .PARAMETER PassThruSummary
    Also write the run's OathBulk.Summary object (last). Otherwise it goes to -Verbose.

    .EXAMPLE
    Test-OathBulkPrerequisite tokens.csv -UseDeviceCode

    The full preflight report for tokens.csv, after a device-code sign-in.

    .EXAMPLE
    Test-OathBulkPrerequisite tokens.csv | Where-Object Status -ne 'pass' | Format-List Check, Status, Message, Fix

    What to fix before the run.

    .EXAMPLE
    if (-not (Test-OathBulkPrerequisite tokens.csv -Credential $app -TenantId contoso.onmicrosoft.com -Quiet)) {
        throw 'preflight failed: run Test-OathBulkPrerequisite for details'
    }
    Enable-OathBulkToken tokens.csv -Credential $app -TenantId contoso.onmicrosoft.com -Force

    A gate in a scheduled script.

    .INPUTS
    System.String (Path), or objects with a FullName property.

    .OUTPUTS
    OathBulk.Check; System.Boolean with -Quiet; OathBulk.Summary with -PassThruSummary.

    .LINK
    Test-OathBulkCsv

    .LINK
    Enable-OathBulkToken
    #>
    [CmdletBinding(HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#test-oathbulkprerequisite')]
    [OutputType('OathBulk.Check', [bool])]
    param(
        # By property name only: a row piped by value would become text (its seed included).
        [Parameter(Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('FullName', 'PSPath', 'Csv')]
        [ValidateNotNullOrEmpty()]
        [string]$Path,

        [ValidateSet('base32', 'hex')] [string]$SecretFormat,
        [ValidateSet('sha1', 'sha256', 'hmacsha1', 'hmacsha256')] [string]$Hash,
        [ValidateRange(0.001, 100000)] [double]$MaxRate,

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

        [switch]$Quiet,
        [switch]$PassThruSummary
    )
    begin {
        $binary = Get-OathBulkBinary -Cmdlet $PSCmdlet
        $auth = Resolve-OathBulkCmdletAuth -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters
    }
    process {
        # Without a CSV the process block still runs once (no pipeline input).
        $targets = [System.Collections.Generic.List[string]]::new()
        if ($Path) {
            foreach ($p in (Resolve-OathBulkCsvPath -Path $Path -Cmdlet $PSCmdlet -Literal)) { $targets.Add($p) }
            if (-not $targets.Count) {
                if ($Quiet) { $false }
                return
            }
        } else {
            $targets.Add($null)
        }
        foreach ($csv in $targets) {
            $extra = [System.Collections.Generic.List[string]]::new()
            foreach ($a in $auth.Arguments) { $extra.Add($a) }
            $extra.Add('--progress'); $extra.Add('json')
            $positional = if ($csv) { @($csv) } else { @() }
            $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $PSBoundParameters -Positional $positional -Extra $extra -SessionState $PSCmdlet.SessionState
            $common = @{
                Cmdlet = $PSCmdlet; Command = $MyInvocation.MyCommand.Name; ArgumentList = $argv; SourcePath = $csv
                Environment = $auth.Environment; Redact = $auth.Redact
            }
            if ($Quiet) {
                # Checks are swallowed; the binary's exit code is the answer (0: nothing failed).
                $null = Invoke-OathBulkNative @common -Quiet
                $script:NativeExitCode -eq 0
            } else {
                Invoke-OathBulkNative @common -PassThruSummary:$PassThruSummary
            }
        }
    }
}

