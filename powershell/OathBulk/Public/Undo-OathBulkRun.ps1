function Undo-OathBulkRun {
    <#
    .SYNOPSIS
    Reverts what an earlier run did, from its journal (oathbulk undo).

    .DESCRIPTION
    Runs `oathbulk undo --journal <file>` on the journal of an Enable-OathBulkToken,
    New-OathBulkTenantToken or lifecycle run (-Journal): newest step first, each activation
    is deactivated, each assignment unassigned, each created token removed. A token that is
    no longer in the state the run left it in is refused and left untouched (someone changed
    it since), and so are the later steps of that token.

    The journal of a Disable-OathBulkToken, Remove-OathBulkTokenAssignment or
    Remove-OathBulkTenantToken run is reverted as far as it can be: an unassigned token is
    assigned back (assign), a deactivated one activated again with a code from its seed when
    -Path names the vendor CSV (activate; refused, needs_seed, without it), and a removed one is
    refused (import, not_reversible: import it again from its seed file). A refusal ends the
    undo with $LASTEXITCODE 1. An undo's own journal (*.undo.jsonl) is refused.

    One OathBulk.Change object per step: Operation (deactivate, unassign, remove, assign,
    activate, import), Status
    (done, would_do, refused, not_found, failed, not_attempted), Serial, Upn, DeviceId, Line
    (the journal line), Reason, … refused, not_found, failed and not_attempted are written to
    the pipeline AND as non-terminating errors (ErrorId the error code or status).

    -WhatIf runs `--dry-run`: the tenant is read and would_do objects show what would be
    reverted; nothing is written. ConfirmImpact is High: asks for confirmation unless -Force
    or -Confirm:$false. -Force never overrides -WhatIf. The undo keeps its own journal
    (-UndoJournal, default <journal>.undo.jsonl), so an interrupted undo resumes.

    Credentials are resolved as for Enable-OathBulkToken (-UseDeviceCode, -AccessToken,
    -Credential with -TenantId, -TokenFile, environment, then a Microsoft.Graph or Az
    session when talking to the real Graph).

    .PARAMETER Journal
    The journal of the run to revert (-Journal of Enable-OathBulkToken,
    New-OathBulkTenantToken, Disable-OathBulkToken, …). Accepts FullName from Get-ChildItem.

    .PARAMETER Path
    The vendor CSV with the seeds of the tokens a Disable-OathBulkToken run deactivated: they
    are activated again with a code from the seed. Without it those steps are refused
    (needs_seed). An unassignment is reverted by assigning the token back; a removal cannot be
    reverted (refused, not_reversible: import the token again from its seed file).

    .PARAMETER UndoJournal
    The undo's own journal, so an interrupted undo resumes (default: <journal>.undo.jsonl).

    .PARAMETER MaxRate
    At most this many write requests per second.

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
    Run against an in-process simulated tenant (a rehearsal).

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

    .PARAMETER InputObject
    Piped journal files (Get-ChildItem) or paths. An empty pipeline undoes nothing.

    .EXAMPLE
    Undo-OathBulkRun -Journal run.jsonl -WhatIf

    What reverting the run would do (would_do and refused objects); nothing is written.

    .EXAMPLE
    Enable-OathBulkToken tokens.csv -Journal run.jsonl -Force
    Undo-OathBulkRun -Journal run.jsonl -Force -ErrorVariable refused
    $refused.TargetObject | Format-Table Serial, Reason

    Reverts a rollout; tokens changed since are left alone and listed.

    .EXAMPLE
    Get-ChildItem .\journals\*.jsonl -Exclude *.undo.jsonl | Undo-OathBulkRun -UseDeviceCode -Confirm

    Reverts several runs, asking for each journal.

    .INPUTS
    System.String (Journal), or objects with a FullName property.

    .OUTPUTS
    OathBulk.Change; OathBulk.Summary with -PassThruSummary.

    .LINK
    Enable-OathBulkToken

    .LINK
    New-OathBulkTenantToken
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High', HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#undo-oathbulkrun')]
    [OutputType('OathBulk.Change')]
    param(
        [Parameter(Position = 0)]
        [Alias('LiteralPath')]
        [ValidateNotNullOrEmpty()]
        [string]$Journal,

        # The seed CSV (--csv): what re-activating a deactivated token needs.
        [ValidateNotNullOrEmpty()]
        [string]$Path,

        [Parameter(ValueFromPipeline)]
        [psobject]$InputObject,

        [string]$UndoJournal,
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

        [switch]$Force,
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
        # Journals named literally (they are files the binary wrote), piped or given.
        $journals = [System.Collections.Generic.List[string]]::new()
        if ($Journal) { $journals.Add($Journal) }
        foreach ($f in $binder.FileOrder) { $journals.Add($f) }
        foreach ($f in $binder.Patterns) { $journals.Add($f) }
        foreach ($p in $binder.Pathless) {
            $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new(
                    [System.ArgumentException]::new('Undo-OathBulkRun takes journal files, not tokens.'), 'OathBulk.UnsupportedInput', 'InvalidType', $p.Serial))
        }
        if (-not $journals.Count) {
            if ($expecting) {
                Write-Warning "$($MyInvocation.MyCommand.Name): no journal came down the pipeline, so nothing was undone."
                return
            }
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                    [System.ArgumentException]::new('Give -Journal (the journal of the run to revert) or pipe journal files in.'), 'OathBulk.NoPath', 'InvalidArgument', $null))
        }
        $binary = Get-OathBulkBinary -Cmdlet $PSCmdlet
        $auth = Resolve-OathBulkCmdletAuth -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters
        foreach ($file in (Resolve-OathBulkCsvPath -Path $journals -Cmdlet $PSCmdlet -Literal -Kind 'journal')) {
            $extra = [System.Collections.Generic.List[string]]::new()
            foreach ($a in $auth.Arguments) { $extra.Add($a) }
            $extra.Add('--progress'); $extra.Add('json')
            $decision = Test-OathBulkShouldProcess -Cmdlet $PSCmdlet -Force:$Force `
                -Description "Reverting in the tenant what the run journaled in $file did." -Question "Revert the run journaled in ${file}?"
            if ($decision -eq 'Skip') { continue }
            if ($decision -eq 'DryRun') { $extra.Add('--dry-run') }
            $bound = @{} + $PSBoundParameters
            $bound['Journal'] = $file
            $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $bound -Extra $extra -SessionState $PSCmdlet.SessionState
            Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command $MyInvocation.MyCommand.Name -ArgumentList $argv `
                -Environment $auth.Environment -Redact $auth.Redact -PassThruSummary:$PassThruSummary
        }
    }
}
