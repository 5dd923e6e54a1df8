function Enable-OathBulkToken {
    <#
    .SYNOPSIS
    Activates hardware OATH tokens in Microsoft Entra ID from a vendor CSV (oathbulk activate).

    .DESCRIPTION
    Runs `oathbulk activate` once per CSV and streams one OathBulk.Activation object per row as
    results arrive: Line, Upn, Serial, Status (activated, already_active, would_activate,
    conflict, not_found, failed, skipped, not_attempted), Action, Attempts, DeviceId, Step,
    AssignedTo, HttpStatus, ErrorCode, ErrorMessage, Time.

    Rows can be given two ways:
      * -Path alone activates every row of the file (narrowed by -Where / -Script);
      * rows piped from Import-OathBulkToken (or Get-OathBulkCode) bind Path, Line and Serial
        by property name; the piped rows are collected and activated in ONE run per file. The
        secret never travels on the objects: the binary reads it from the CSV again, selecting
        the piped lines. If a line now holds a different serial (the file changed), an
        OathBulk.CsvChanged error is written.

    -WhatIf runs `--dry-run`: nothing is written to the tenant and the would_activate objects
    are returned. Otherwise the cmdlet asks for confirmation (ConfirmImpact High); -Force or
    -Confirm:$false skips the prompt. -Force never overrides -WhatIf.

    Rows that end as conflict, not_found, failed or not_attempted are written to the pipeline
    AND as non-terminating errors (ErrorId the error code or status, TargetObject the
    activation). Rejected credentials (exit 3), an unreachable service (exit 4) and usage
    errors (exit 2) are terminating errors; the journal keeps what was settled.

    Credentials, most explicit first: -AccessToken (a bearer token as SecureString);
    -Credential with -TenantId (app-only: user name = client id, password = client secret);
    -TokenFile; $env:OATHBULK_TOKEN / $env:OATHBULK_CLIENT_SECRET; otherwise a token from a
    signed-in Microsoft.Graph (Connect-MgGraph) or Az (Connect-AzAccount) session, but only
    when talking to the real Microsoft Graph (no -GraphUrl/-PortalUrl/-Simulate). Secrets go
    to the binary through its environment only: never on the command line, never in -Verbose
    output, never on the objects.

    .PARAMETER Path
    The vendor CSV. Bound by property name from Import-OathBulkToken objects (hidden Path)
    and from Get-ChildItem (FullName).

    .PARAMETER Line
    A CSV line to activate (bound from piped rows). Without it, the whole file is used.

    .PARAMETER Serial
    The serial expected on -Line (bound from piped rows); checked against the file.

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
    Seconds a code must stay valid when sent (0-25, default 5); otherwise wait for the next.

    .PARAMETER Journal
    Append every row's final result to this JSON-lines file.

    .PARAMETER Resume
    Skip rows the journal already settled (status skipped). Needs -Journal.

    .PARAMETER ErrorLog
    Write the rows that failed to this file.

    .PARAMETER AccessToken
    A Microsoft Graph (or portal) bearer token.

    .PARAMETER Credential
    App-only sign-in: user name = application (client) id, password = client secret.

    .PARAMETER TenantId
    Tenant id or domain for -Credential.

    .PARAMETER TokenFile
    A file holding the bearer token.

    .PARAMETER Force
    Do not ask for confirmation. Does not override -WhatIf.

    .PARAMETER PassThruSummary
    Also write the run's OathBulk.Summary object (last). Otherwise it goes to -Verbose.

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

    .INPUTS
    OathBulk.Token (Path, Line, Serial by property name), System.String (Path).

    .OUTPUTS
    OathBulk.Activation; OathBulk.Summary with -PassThruSummary.

    .LINK
    Import-OathBulkToken

    .LINK
    Start-OathBulkSimulator
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('OathBulk.Activation')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('FullName', 'PSPath', 'Csv')]
        [ValidateNotNullOrEmpty()]
        [string]$Path,

        [Parameter(ValueFromPipelineByPropertyName)]
        [ValidateRange(0, [long]::MaxValue)]
        [long]$Line,

        [Parameter(ValueFromPipelineByPropertyName)]
        [string]$Serial,

        [ValidateNotNullOrEmpty()] [string]$Where,
        [ValidateNotNullOrEmpty()] [string]$OrderBy,
        [ValidateNotNullOrEmpty()] [string]$Script,
        [ValidateSet('base32', 'hex')] [string]$SecretFormat,
        [ValidateSet('sha1', 'sha256')] [string]$Hash,

        [ValidateSet('graph', 'portal')] [string]$Backend,
        [uri]$GraphUrl,
        [uri]$PortalUrl,
        [ValidateSet('public', 'usgov')] [string]$PortalCloud,
        [uri]$AuthorityUrl,
        [switch]$Simulate,

        [ValidateRange(1, 64)] [int]$Parallel,
        [ValidateRange(0.001, 100000)] [double]$MaxRate,
        [ValidateRange(0, 25)] [int]$MinValidity,
        [string]$Journal,
        [switch]$Resume,
        [string]$ErrorLog,

        [securestring]$AccessToken,
        [pscredential]$Credential,
        [string]$TenantId,
        [string]$TokenFile,

        [switch]$Force,
        [switch]$PassThruSummary
    )
    begin {
        # Path -> @{ All = whole file; Lines = line -> serial }
        $files = [ordered]@{}
    }
    process {
        foreach ($csv in (Resolve-OathBulkCsvPath -Path $Path -Cmdlet $PSCmdlet)) {
            if (-not $files.Contains($csv)) { $files[$csv] = @{ All = $false; Lines = [ordered]@{} } }
            if ($Line -gt 0) {
                $files[$csv].Lines[$Line] = $Serial
            } else {
                $files[$csv].All = $true
            }
        }
    }
    end {
        if ($Resume -and -not $Journal) {
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                    [System.ArgumentException]::new('-Resume needs -Journal.'), 'OathBulk.ResumeWithoutJournal', 'InvalidArgument', $null))
        }
        $binary = Find-OathBulkBinary
        $caps = Get-OathBulkCapability -Binary $binary -Subcommand 'activate'
        if (-not (Test-OathBulkSubcommand -Binary $binary -Subcommand 'activate')) {
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                    [System.NotSupportedException]::new("This oathbulk binary ($binary) has no 'activate' subcommand."), 'OathBulk.NotSupported', 'NotImplemented', $binary))
        }
        $noAmbient = $Simulate -or $GraphUrl -or $PortalUrl -or $AuthorityUrl
        try {
            $auth = Get-OathBulkAuthEnvironment -AccessToken $AccessToken -Credential $Credential -TenantId $TenantId -TokenFile $TokenFile -NoAmbient:$noAmbient
        } catch {
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($_.Exception, 'OathBulk.InvalidCredential', 'InvalidArgument', $null))
        }
        Write-Verbose "OathBulk: credentials from $($auth.Source)"

        foreach ($csv in $files.Keys) {
            $selection = $files[$csv]
            $extra = [System.Collections.Generic.List[string]]::new()
            foreach ($a in $auth.Arguments) { $extra.Add($a) }
            if ($caps.Flags -contains '--progress') { $extra.Add('--progress'); $extra.Add('json') }
            $bound = @{} + $PSBoundParameters
            $tempFiles = [System.Collections.Generic.List[string]]::new()
            $expect = $null
            $target = "all tokens in $csv"
            try {
                if (-not $selection.All -and $selection.Lines.Count) {
                    $lines = [long[]]@($selection.Lines.Keys | Sort-Object)
                    $expect = @{}
                    foreach ($l in $lines) { if ($selection.Lines[$l]) { $expect[$l] = $selection.Lines[$l] } }
                    $target = "$($lines.Count) token(s) from $csv"
                    if ($caps.Flags -contains '--lines') {
                        # Preferred: the binary selects the lines itself.
                        $listFile = [System.IO.Path]::GetTempFileName()
                        $tempFiles.Add($listFile)
                        [System.IO.File]::WriteAllLines($listFile, [string[]]($lines | ForEach-Object { $_.ToString([cultureinfo]::InvariantCulture) }))
                        $extra.Add('--lines'); $extra.Add($listFile)
                    } else {
                        # Fallback: a rhai --where on the line numbers (runs folded into ranges).
                        $sel = ConvertTo-OathBulkLineFilter -Line $lines
                        $bound['Where'] = if ($Where) { "($Where) && ($sel)" } else { $sel }
                    }
                }

                $reason = [System.Management.Automation.ShouldProcessReason]::None
                $savedConfirm = $ConfirmPreference
                if ($Force -and -not $PSBoundParameters.ContainsKey('Confirm')) { $ConfirmPreference = 'None' }
                $approved = $PSCmdlet.ShouldProcess(
                    "Activating $target in the tenant.",
                    "Activate ${target}?",
                    'Enable-OathBulkToken', [ref]$reason)
                $ConfirmPreference = $savedConfirm
                if (-not $approved) {
                    if ($reason -ne [System.Management.Automation.ShouldProcessReason]::WhatIf) { continue }
                    # -WhatIf: a dry run (reads the tenant, writes nothing) that shows the plan.
                    $extra.Add('--dry-run')
                }

                $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $bound -Positional $csv -Extra $extra -SessionState $PSCmdlet.SessionState
                Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command $MyInvocation.MyCommand.Name -ArgumentList $argv -SourcePath $csv `
                    -Environment $auth.Environment -Redact $auth.Redact -PassThruSummary:$PassThruSummary -ExpectSerial $expect
            } finally {
                foreach ($f in $tempFiles) { [System.IO.File]::Delete($f) }
            }
        }
    }
}

function ConvertTo-OathBulkLineFilter {
    <#
    .SYNOPSIS
    A rhai expression true for the given CSV lines: runs of consecutive lines become ranges.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [long[]]$Line)
    $inv = [cultureinfo]::InvariantCulture
    $sorted = [long[]]($Line | Sort-Object -Unique)
    $ranges = [System.Collections.Generic.List[string]]::new()
    $singles = [System.Collections.Generic.List[string]]::new()
    $i = 0
    while ($i -lt $sorted.Length) {
        $j = $i
        while ($j + 1 -lt $sorted.Length -and $sorted[$j + 1] -eq $sorted[$j] + 1) { $j++ }
        if ($j - $i -ge 2) {
            $ranges.Add("(row.line >= $($sorted[$i].ToString($inv)) && row.line <= $($sorted[$j].ToString($inv)))")
        } else {
            for ($k = $i; $k -le $j; $k++) { $singles.Add($sorted[$k].ToString($inv)) }
        }
        $i = $j + 1
    }
    $parts = @($ranges)
    if ($singles.Count) { $parts += "[$($singles -join ', ')].contains(row.line)" }
    $parts -join ' || '
}
