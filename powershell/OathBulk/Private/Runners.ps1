# The end block of the cmdlets made from CommandTable.psd1 (Private/Cmdlets.ps1): ONE runner
# for the cmdlets that read a seed file and those that write to the tenant. What differs
# between the cmdlets is data in their entry's Runner.

function Invoke-OathBulkRunner {
    <#
    .SYNOPSIS
    The end block of every cmdlet made from CommandTable.psd1 (Import-OathBulkToken,
    Get-OathBulkCode, Test-OathBulkCsv, Get-OathBulkUser; Enable-OathBulkToken,
    New-OathBulkTenantToken, Disable-OathBulkToken, Remove-OathBulkTokenAssignment,
    Remove-OathBulkTenantToken): the runs (one per CSV, piped rows selecting their lines;
    rows or tokens piped without a file in one run on stdin; -Serial alone, one token), the
    sign-in, then each run: a read, or a write behind ShouldProcess (Invoke-OathBulkWriteRun).
    What differs between the cmdlets is their entry: Writes (the runs write to the tenant,
    always signed in) and its Runner:
      SignIn        the switch that makes a read sign in (Get-OathBulkUser -WithTenant);
                    without it a read is offline
      PathlessMode  what piped objects without a file are: Rows (seed rows, the default) or
                    Tokens (serials of tenant tokens)
      SerialAlone   -Serial without a file is one tenant token (as -Serial -Code always is)
      SerialFlag, Action, Effect: see Invoke-OathBulkWriteRun
      Journals      its runs are run journals (Undo-OathBulkRun): Get-OathBulkJournalPlan,
                    Invoke-OathBulkJournalRun
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory)] [System.Collections.IDictionary]$BoundParameters,
        [Parameter(Mandatory)] [OathBulk.Native.InputBinder]$Binder,
        [switch]$ExpectingInput
    )
    $b = $BoundParameters
    $entry = $script:CommandTable[$Cmdlet.MyInvocation.MyCommand.Name]
    $how = $entry.Runner
    $writes = $entry.ContainsKey('Writes')
    if ($b['Resume'] -and -not $b['Journal']) {
        $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.ArgumentException]::new('-Resume needs -Journal.'), 'OathBulk.ResumeWithoutJournal', 'InvalidArgument', $null))
    }
    $runs = if ($how['Journals']) {
        Get-OathBulkJournalPlan -Cmdlet $Cmdlet -Journal $b['Journal'] -Binder $Binder -ExpectingInput:$ExpectingInput
    } else {
        Get-OathBulkRunPlan -Cmdlet $Cmdlet -BoundParameters $b -Binder $Binder -ExpectingInput:$ExpectingInput -How $how
    }
    if (-not $runs.Count) { return }
    $auth = @{ Environment = @{}; Arguments = @(); Redact = @() }
    $extra = [System.Collections.Generic.List[string]]::new()
    if ($writes -or ($how['SignIn'] -and $b[$how.SignIn])) {
        $null = Get-OathBulkBinary -Cmdlet $Cmdlet
        # First: it adds the session's endpoint to the bound parameters copied for each run.
        $auth = Resolve-OathBulkCmdletAuth -Cmdlet $Cmdlet -BoundParameters $b
        foreach ($a in $auth.Arguments) { $extra.Add($a) }
        $extra.Add('--progress'); $extra.Add('json')
    } else {
        # Offline: no tenant or credential flag reaches the binary, and no token is looked up.
        $b = @{} + $b
        foreach ($name in 'Backend', 'GraphUrl', 'PortalUrl', 'PortalCloud', 'AuthorityUrl', 'Simulate', 'TenantId', 'TokenFile', 'UseDeviceCode', 'ClientId') {
            $null = $b.Remove($name)
        }
    }
    foreach ($run in $runs) {
        if ($how['Journals']) {
            Invoke-OathBulkJournalRun -Cmdlet $Cmdlet -BoundParameters $b -Journal $run -Auth $auth -Extra $extra
            continue
        }
        if ($writes) {
            Invoke-OathBulkWriteRun -Cmdlet $Cmdlet -BoundParameters $b -Run $run -Auth $auth -Extra $extra -How $how -ExpectingInput:$ExpectingInput
            continue
        }
        $read = @{ Cmdlet = $Cmdlet; Run = $run; BoundParameters = $b; Extra = $extra; Environment = $auth.Environment; Redact = $auth.Redact }
        if ($b['Quiet']) {
            # Records are swallowed; the binary's exit code is the answer.
            $null = Invoke-OathBulkReadRun @read -Quiet
            $script:NativeExitCode -eq 0
        } else {
            Invoke-OathBulkReadRun @read
        }
    }
}

function Get-OathBulkRunPlan {
    <# .SYNOPSIS The runs of a cmdlet: Resolve-OathBulkRun's, or one token by -Serial alone. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory)] [System.Collections.IDictionary]$BoundParameters,
        [Parameter(Mandatory)] [OathBulk.Native.InputBinder]$Binder,
        [switch]$ExpectingInput,
        [Parameter(Mandatory)] [hashtable]$How
    )
    $b = $BoundParameters
    $serial = $b['Serial']
    $fileless = -not $ExpectingInput -and -not $b['Path'] -and -not $b['LiteralPath']
    if ($fileless -and ($How['SerialAlone'] -or $b.ContainsKey('Code'))) {
        if (-not $serial) {
            $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                    [System.ArgumentException]::new('Give -Path (a CSV), -Serial (one token) or pipe tokens in.'), 'OathBulk.NoTarget', 'InvalidArgument', $null))
        }
        # One tenant token (with -Upn, the user it must belong to; with -Code, a typed code).
        $runs = [System.Collections.Generic.List[hashtable]]::new()
        $runs.Add(@{ Csv = $null; Selection = $null; Stdin = $null; Serials = @($serial) })
        return , $runs
    }
    Resolve-OathBulkRun -Cmdlet $Cmdlet -Binder $Binder -Path $b['Path'] -LiteralPath $b['LiteralPath'] -ExpectingInput:$ExpectingInput -Serial $serial -PathlessMode $(if ($How['PathlessMode']) { $How.PathlessMode } else { 'Rows' })
}

function Invoke-OathBulkWriteRun {
    <#
    .SYNOPSIS
    One run of a writing cmdlet: its selection, ShouldProcess (-WhatIf: a dry run that shows
    the plan), then the binary.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory)] [System.Collections.IDictionary]$BoundParameters,
        [Parameter(Mandatory)] [hashtable]$Run,
        [Parameter(Mandatory)] [hashtable]$Auth,
        # The sign-in's flags and --progress json, for every run.
        [Parameter(Mandatory)] [AllowEmptyCollection()] [string[]]$Extra,
        [Parameter(Mandatory)] [hashtable]$How,
        [switch]$ExpectingInput
    )
    $b = $BoundParameters
    $command = $Cmdlet.MyInvocation.MyCommand.Name
    $flags = [System.Collections.Generic.List[string]]::new($Extra)
    $bound = @{} + $b
    foreach ($name in 'Serial', 'Path', 'LiteralPath') { $null = $bound.Remove($name) }
    # -Upn names the user of one token; piped tokens name their own.
    if ($ExpectingInput -and -not $How['SerialFlag']) { $null = $bound.Remove('Upn') }
    $selection = $null
    try {
        if ($Run.Csv) {
            $selection = Resolve-OathBulkRowSelection -Run $Run -Where $b['Where'] -SerialFlag:([bool]$How['SerialFlag'])
            if ($How['SerialFlag'] -and $b['Upn'] -and -not $selection.Serial) {
                $Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new(
                        [System.ArgumentException]::new("-Upn applies to one token: give one -Serial (not piped rows) for $($Run.Csv)."), 'OathBulk.OneTokenOnly', 'InvalidArgument', $Run.Csv))
                return
            }
            $plan = Get-OathBulkCsvPlan -Run $Run -Selection $selection -Bound $bound -Flags $flags -How $How
        } else {
            $plan = Get-OathBulkTokenPlan -Run $Run -Bound $bound -Flags $flags -Auth $Auth
        }
        $target = $plan.Target
        $action = Get-OathBulkRunAction -How $How -BoundParameters $b
        $effect = if ($How['Effect']) { " ($($How.Effect))" }
        $decision = Test-OathBulkShouldProcess -Cmdlet $Cmdlet -Force:([bool]$b['Force']) -Serial $plan.Serials `
            -Description "$action $target in the tenant$effect." -Question "$action ${target}?$(if ($How['Effect']) { " $($How.Effect)." })"
        if ($decision -eq 'Skip') { return }
        # -WhatIf: a dry run (reads the tenant, writes nothing) that shows the plan.
        if ($decision -eq 'DryRun') { $flags.Add('--dry-run') }

        $positional = if ($Run.Csv) { @($Run.Csv) } else { @() }
        $file = if ($Run.Csv -and $Run.Csv -ne '-') { $Run.Csv }
        $argv = ConvertTo-OathBulkArgument -Command $command -BoundParameters $bound -Positional $positional -Extra $flags -SessionState $Cmdlet.SessionState
        Invoke-OathBulkNative -Cmdlet $Cmdlet -Command $command -ArgumentList $argv -SourcePath $file `
            -Environment $Auth.Environment -Redact $Auth.Redact -PassThruSummary:([bool]$b['PassThruSummary']) `
            -ExpectSerial $(if ($selection) { $selection.Expect }) -StdinText $plan.Stdin -RowFailure:([bool]$b['FailAtEnd']) `
            -SeedPassword $(if ($file) { $b['Password'] })
    } finally {
        if ($selection) { foreach ($f in $selection.TempFiles) { [System.IO.File]::Delete($f) } }
    }
}

function Get-OathBulkCsvPlan {
    <#
    .SYNOPSIS
    A run over a CSV (or rows or tokens piped on stdin): its selection's flags into -Flags and
    -Where into -Bound. Returns @{ Target (for ShouldProcess); Serials (at stake, when known);
    Stdin }.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [hashtable]$Run,
        [Parameter(Mandatory)] [hashtable]$Selection,
        [Parameter(Mandatory)] [hashtable]$Bound,
        [Parameter(Mandatory)] [System.Collections.Generic.List[string]]$Flags,
        [Parameter(Mandatory)] [hashtable]$How
    )
    foreach ($e in $Selection.Extra) { $Flags.Add($e) }
    if ($Selection.Where) { $Bound['Where'] = $Selection.Where }
    $target = if ($Run.Csv -eq '-' -and $How.PathlessMode -eq 'Tokens') { "$(($Run.Stdin -split "`n").Count - 2) token(s) given by serial" } else { $Selection.Target }
    $serials = if ($Selection.Expect) { @($Selection.Expect.Values) } elseif ($Selection.Serial) { @($Selection.Serial) } else { @() }
    @{ Target = $target; Serials = $serials; Stdin = $Run.Stdin }
}

function Get-OathBulkTokenPlan {
    <#
    .SYNOPSIS
    A run of one token by -Serial, without a CSV (with -Upn, the user it must belong to; with
    -Code, a typed code, sent on stdin). Returns what Get-OathBulkCsvPlan does.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [hashtable]$Run,
        [Parameter(Mandatory)] [hashtable]$Bound,
        [Parameter(Mandatory)] [System.Collections.Generic.List[string]]$Flags,
        [Parameter(Mandatory)] [hashtable]$Auth
    )
    $serial = $Run.Serials[0]
    $Flags.Add('--serial'); $Flags.Add($serial)
    # --serial alone already acts on whoever holds the token: -AnyHolder is for a CSV.
    foreach ($name in 'Where', 'OrderBy', 'Script', 'AnyHolder') { $null = $Bound.Remove($name) }
    $plan = @{ Target = "token $serial$(if ($Bound['Upn']) { " of $($Bound['Upn'])" })"; Serials = @($serial); Stdin = $null }
    $code = $Bound['Code']
    if ($code) {
        $plan.Target += ' (typed code)'
        # -Code goes to the binary's stdin (--code-stdin): argv is visible to every user while
        # the code is valid. A certificate sign-in's assertion needs stdin: then argv.
        if ($Auth.Arguments -notcontains '--client-assertion-stdin') {
            $null = $Bound.Remove('Code'); $Flags.Add('--code-stdin'); $plan.Stdin = "$code`n"
        }
    }
    $plan
}

function Get-OathBulkRunAction {
    <# .SYNOPSIS What ShouldProcess names: the entry's Action, or the first of its switches given. #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [hashtable]$How, [Parameter(Mandatory)] [System.Collections.IDictionary]$BoundParameters)
    if ($How.Action -is [string]) { return $How.Action }
    foreach ($switch in $How.Action.Keys | Where-Object { $_ -ne 'Default' } | Sort-Object) {
        if ($BoundParameters[$switch]) { return $How.Action[$switch] }
    }
    $How.Action.Default
}

function Get-OathBulkJournalPlan {
    <#
    .SYNOPSIS
    The runs of Undo-OathBulkRun: its journals (-Journal, then piped journal files in order,
    named literally: they are files the binary wrote). Piped tokens are refused one by one;
    nothing given is an error, an empty pipeline a warning — never every journal.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet,
        [string]$Journal,
        [Parameter(Mandatory)] [OathBulk.Native.InputBinder]$Binder,
        [switch]$ExpectingInput
    )
    $name = $Cmdlet.MyInvocation.MyCommand.Name
    $journals = [System.Collections.Generic.List[string]]::new()
    if ($Journal) { $journals.Add($Journal) }
    foreach ($f in $Binder.FileOrder) { $journals.Add($f) }
    foreach ($f in $Binder.Patterns) { $journals.Add($f) }
    foreach ($p in $Binder.Pathless) {
        $Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new(
                [System.ArgumentException]::new("$name takes journal files, not tokens."), 'OathBulk.UnsupportedInput', 'InvalidType', $p.Serial))
    }
    if (-not $journals.Count) {
        if ($ExpectingInput) {
            Write-Warning "${name}: no journal came down the pipeline, so nothing was undone."
            return , $journals
        }
        $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.ArgumentException]::new('Give -Journal (the journal of the run to revert) or pipe journal files in.'), 'OathBulk.NoPath', 'InvalidArgument', $null))
    }
    $runs = [System.Collections.Generic.List[string]]::new()
    foreach ($file in (Resolve-OathBulkCsvPath -Path $journals -Cmdlet $Cmdlet -Literal -Kind 'journal')) { $runs.Add($file) }
    return , $runs
}

function Invoke-OathBulkJournalRun {
    <#
    .SYNOPSIS
    One run of Undo-OathBulkRun: ShouldProcess for its journal (-WhatIf: a dry run), then the
    binary.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory)] [System.Collections.IDictionary]$BoundParameters,
        [Parameter(Mandatory)] [string]$Journal,
        [Parameter(Mandatory)] [hashtable]$Auth,
        # The sign-in's flags and --progress json, for every run.
        [Parameter(Mandatory)] [AllowEmptyCollection()] [string[]]$Extra
    )
    $name = $Cmdlet.MyInvocation.MyCommand.Name
    $flags = [System.Collections.Generic.List[string]]::new($Extra)
    $decision = Test-OathBulkShouldProcess -Cmdlet $Cmdlet -Force:([bool]$BoundParameters['Force']) `
        -Description "Reverting in the tenant what the run journaled in $Journal did." -Question "Revert the run journaled in ${Journal}?"
    if ($decision -eq 'Skip') { return }
    if ($decision -eq 'DryRun') { $flags.Add('--dry-run') }
    $bound = @{} + $BoundParameters
    $bound['Journal'] = $Journal
    $argv = ConvertTo-OathBulkArgument -Command $name -BoundParameters $bound -Extra $flags -SessionState $Cmdlet.SessionState
    Invoke-OathBulkNative -Cmdlet $Cmdlet -Command $name -ArgumentList $argv `
        -Environment $Auth.Environment -Redact $Auth.Redact -PassThruSummary:([bool]$BoundParameters['PassThruSummary'])
}
