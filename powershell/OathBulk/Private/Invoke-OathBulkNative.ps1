function Invoke-OathBulkNative {
    <#
    .SYNOPSIS
    Runs the oathbulk binary once and streams its records into the calling cmdlet's pipeline.

    .DESCRIPTION
    The only place the binary is started (System.Diagnostics.Process, ArgumentList, UTF-8
    pipes, see OathBulk.Native.cs). Records of the command's output types are written as they
    arrive; the rest is turned into PowerShell's own streams:

      row_error                      non-terminating ErrorRecord (InvalidData, ErrorId = code,
                                     TargetObject = the OathBulk.RowError object)
      activation with error status   written to the pipeline AND as a non-terminating
                                     ErrorRecord (ErrorId = error_code or status)
      warning                        Write-Warning
      summary                        Write-Verbose; also to the pipeline with -PassThruSummary
      stderr progress JSON           Write-Progress
      stderr diagnostic              warn -> Write-Warning, info -> Write-Verbose,
                                     error -> error record (terminating when the run failed)
      stderr plain text              Write-Verbose; `error:` lines as for diagnostic errors

    Then the exit code is always checked: 2 (usage/input), 3 (auth), 4 (service), 130
    (interrupted) and anything unexpected become a terminating error carrying the binary's
    message. If the pipeline stops early (Select-Object -First, Ctrl+C) the finally block kills
    the binary.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory)] [string]$Command,
        [Parameter(Mandatory)] [string[]]$ArgumentList,
        # The CSV the records come from (hidden Path property); $null for none.
        [string]$SourcePath,
        [hashtable]$Environment = @{},
        [string[]]$Redact = @(),
        [switch]$PassThruSummary,
        # Write no records and no row errors (Test-OathBulkCsv -Quiet); see $script:NativeExitCode.
        [switch]$Quiet,
        # line -> serial: activation records whose serial differs are reported (CSV changed).
        [hashtable]$ExpectSerial,
        [string]$StdinText,
        # For --client-assertion-stdin: the certificate to sign with (default: the session's,
        # from Connect-OathBulk -CertificateThumbprint/-Certificate).
        [hashtable]$CertificateSession,
        # -FailAtEnd: rows that did not succeed are objects only, and one terminating error
        # (OathBulk.RowsFailed) at the end counts them.
        [switch]$RowFailure,
        # A failure whose message matches this is no error for the caller (-Verbose only):
        # Disconnect-OathBulk where no credential store exists has nothing to forget.
        [string]$Tolerate,
        # -Password of a seed file (password ZIP, PBKDF2 PSKC): sent on the binary's stdin
        # (--zip-password-stdin, --pskc-password-stdin), never argv, environment or disk.
        [securestring]$SeedPassword
    )

    $entry = $script:CommandTable[$Command]
    $binary = Get-OathBulkBinary -Cmdlet $Cmdlet
    $redactAll = @($Redact | Where-Object { $_ })
    # The session key (Connect-OathBulk makes it; see Context.ps1) goes to every child in its
    # environment, never argv: where no credential store exists, the binary seals this
    # session's sign-in under it and opens it again for each later cmdlet.
    if ($script:SessionKey -and -not $Environment.ContainsKey('OATHBULK_SESSION_KEY')) {
        $Environment = $Environment.Clone()
        $Environment['OATHBULK_SESSION_KEY'] = $script:SessionKey
        $redactAll += $script:SessionKey
    }
    if ($SeedPassword) {
        # Stdin has one reader: see the certificate case below.
        if ($StdinText -or $ArgumentList -contains '--client-assertion-stdin') {
            $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                    [System.InvalidOperationException]::new('-Password is sent on the binary''s standard input, which this run already uses (for the certificate sign-in of Connect-OathBulk -CertificateThumbprint, or a typed -Code): give other credentials for this cmdlet (-AccessToken, -Credential), or run it without -Password.'),
                    'OathBulk.StdinInUse', 'InvalidOperation', $null))
        }
        $plain = [System.Net.NetworkCredential]::new('', $SeedPassword).Password
        $redactAll += $plain
        # One line for the ZIP and one for a PSKC file (in it or alone): the binary reads only
        # the lines the file turns out to need, the ZIP's first, so one password serves both.
        $ArgumentList = @($ArgumentList) + @('--zip-password-stdin', '--pskc-password-stdin')
        $StdinText = "$plain`n$plain`n"
    }
    if ($ArgumentList -contains '--client-assertion-stdin') {
        # Certificate sign-in: a new assertion, signed now, on the binary's stdin (never argv,
        # environment or disk). Stdin has one reader: rows piped without a file cannot share it.
        if ($StdinText) {
            $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                    [System.InvalidOperationException]::new('Rows piped without a file are sent on the binary''s standard input, which the certificate sign-in (Connect-OathBulk -CertificateThumbprint) uses for its assertion: give the CSV with -Path, or other credentials for this cmdlet.'),
                    'OathBulk.StdinInUse', 'InvalidOperation', $null))
        }
        if (-not $CertificateSession) { $CertificateSession = $script:CertificateSession }
        try {
            $assertion = New-OathBulkClientAssertion -Session $CertificateSession
        } catch {
            $thumbprint = $CertificateSession.Certificate.Thumbprint
            $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                    [System.InvalidOperationException]::new("Cannot sign a client assertion with certificate $thumbprint ($script:CertificateStoreName): $($_.Exception.Message)"),
                    'OathBulk.CertificateSigningFailed', 'SecurityError', $thumbprint))
        }
        $StdinText = $assertion + "`n"
        $redactAll += $assertion
    }
    # Rows that did not succeed, by status (for -FailAtEnd and the not_attempted summary).
    $failed = [ordered]@{}
    $notAttempted = 0

    # -Verbose shows what runs, never the secrets: argv carries none, the environment is named only.
    $display = ($ArgumentList | ForEach-Object { if ($_ -match '[\s"'']') { "'" + ($_ -replace "'", "''") + "'" } else { $_ } }) -join ' '
    Write-Verbose "OathBulk: $binary $display"
    if ($Environment.Count) {
        $envNames = ($Environment.Keys | Sort-Object | ForEach-Object { if ($null -eq $Environment[$_]) { "$_=(unset)" } else { "$_=***" } }) -join ' '
        Write-Verbose "OathBulk: environment $envNames"
    }

    $session = $null
    $summary = $null
    $errorLines = [System.Collections.Generic.List[string]]::new()
    $tail = [System.Collections.Generic.Queue[string]]::new()
    $progressId = 1 + [System.Threading.Interlocked]::Increment([ref]$script:ProgressCounter) % 1000
    $progressShown = $false
    $lastProgress = [datetime]::MinValue
    $completed = $false
    # Results already written (not counting rows never attempted): after some, a failing
    # run's error is non-terminating, so `$r = …` and `| Group-Object` keep them
    # (-ErrorAction Stop still stops). A credential refused at the start stays terminating.
    $written = 0

    # stderr -> PowerShell streams. A nested scriptblock (not a function) to stay in this scope.
    $drainStderr = {
        while ($null -ne ($line = $session.NextStderr())) {
            # Parse first, then redact only the human-readable text: redacting the raw line
            # would break the JSON when a secret is short (a token `t` inside "type").
            $parsed = if ($line.StartsWith('{')) { [OathBulk.Native.RecordConverter]::ParseText($line) }
            if ($parsed -and $parsed.PSObject.Properties['Message'] -and $parsed.Message) { $parsed.Message = $session.Redact([string]$parsed.Message) }
            if (-not $parsed -or -not $parsed.PSObject.Properties['Type']) { $line = $session.Redact($line) }
            if ($parsed -and $parsed.Type -eq 'progress' -and $parsed.Phase -eq 'sign_in') {
                # Device-code sign-in: the user must act on it, so it goes where it is seen even
                # when the output is piped or captured (a warning: not host-only text, not progress).
                Write-Warning ([string]$parsed.Message)
                continue
            }
            if ($parsed -and $parsed.Type -eq 'progress') {
                $now = [datetime]::UtcNow
                $final = $parsed.Total -and $parsed.Done -ge $parsed.Total
                if ($final -or ($now - $lastProgress).TotalMilliseconds -ge 100) {
                    $lastProgress = $now
                    $progress = @{ Id = $progressId; Activity = "oathbulk $($entry.Subcommand): $($parsed.Phase)" }
                    if ($parsed.Total) {
                        $progress.Status = "$($parsed.Done) of $($parsed.Total)"
                        $progress.PercentComplete = [Math]::Min(100, [int](100 * $parsed.Done / [Math]::Max(1, $parsed.Total)))
                    } else {
                        $progress.Status = "$($parsed.Done)"
                    }
                    if ($parsed.Message) { $progress.CurrentOperation = [string]$parsed.Message }
                    Write-Progress @progress
                    $progressShown = $true
                }
                continue
            }
            if ($parsed -and $parsed.Type -eq 'diagnostic') {
                $text = if ($parsed.Code) { "$($parsed.Message) [$($parsed.Code)]" } else { [string]$parsed.Message }
                switch ($parsed.Level) {
                    'error' { $errorLines.Add([string]$parsed.Message) }
                    'warn' { Write-Warning $text }
                    default { Write-Verbose "oathbulk: $text" }
                }
                continue
            }
            if ($parsed -and $parsed.PSObject.Properties['Type']) {
                Write-Verbose "oathbulk: $($session.Redact($line))"
                continue
            }
            $tail.Enqueue($line)
            if ($tail.Count -gt 20) { $null = $tail.Dequeue() }
            if ($line -match '^To sign in, ') {
                # Device-code message of a binary run without --progress json.
                Write-Warning $line
            } elseif ($line -match '^(oathbulk: )?error: ?(.*)$') {
                $errorLines.Add($Matches[2])
            } elseif ($line -match '^(oathbulk: )?warn(ing)?: ?(.*)$') {
                Write-Warning $Matches[3]
            } else {
                Write-Verbose "oathbulk: $line"
            }
        }
    }

    try {
        try {
            $session = [OathBulk.Native.NativeSession]::new(
                $binary, [string[]]$ArgumentList, $Environment, [string[]]$redactAll, [string[]]$entry.Output,
                $(if ($SourcePath) { $SourcePath } else { [NullString]::Value }),
                $(if ($StdinText) { $StdinText } else { [NullString]::Value }), $false, 2048, 512)
        } catch {
            $er = [System.Management.Automation.ErrorRecord]::new(
                [System.InvalidOperationException]::new("Cannot start '$binary': $($_.Exception.Message)", $_.Exception),
                'OathBulk.StartFailed', 'ResourceUnavailable', $SourcePath)
            $Cmdlet.ThrowTerminatingError($er)
        }

        while ($true) {
            $batch = $session.Read(200)
            if ($session.HasStderr) { . $drainStderr }
            if ($null -eq $batch) {
                if ($session.IsCompleted) { break }
                continue
            }
            if ($batch.Records.Count -and -not $Quiet) {
                if ($ExpectSerial) { Test-OathBulkExpectedSerial -Cmdlet $Cmdlet -Records $batch.Records -ExpectSerial $ExpectSerial }
                if ($entry.Subcommand -eq 'doctor') {
                    # The binary's fixes name its own commands; an admin here runs cmdlets.
                    foreach ($r in $batch.Records) { if ($r.Fix) { $r.Fix = ConvertTo-OathBulkCmdletFix $r.Fix } }
                }
                # Statement output (not $Cmdlet.WriteObject): the pipeline enumerates the batch, and
                # a downstream error surfaces as itself, not wrapped in a method-call exception.
                $batch.Records
                $written += $batch.Records.Count
            }
            $record = $batch.Special
            if ($null -eq $record) { continue }
            switch ($batch.SpecialType) {
                'row_error' {
                    if (-not $Quiet) { $Cmdlet.WriteError((New-OathBulkRowErrorRecord -Record $record)) }
                }
                { $_ -in 'activation', 'import', 'change' } {
                    if ($_ -eq 'activation' -and $ExpectSerial) { Test-OathBulkExpectedSerial -Cmdlet $Cmdlet -Records @($record) -ExpectSerial $ExpectSerial }
                    if ($entry.Output -notcontains $_) {
                        if (-not $Quiet) { $record }
                        continue
                    }
                    $record
                    $status = [string]$record.Status
                    # Rows the run never reached are no results to keep.
                    if ($status -ne 'not_attempted') { $written++ }
                    $failed[$status] = 1 + [int]$failed[$status]
                    if ($status -eq 'not_attempted') {
                        # After an interrupt every remaining row is not_attempted: one summary
                        # error at the end, not one each (a flood on a non-interactive console).
                        $notAttempted++
                    } elseif (-not $RowFailure) {
                        $Cmdlet.WriteError($(if ($_ -eq 'activation') { New-OathBulkActivationErrorRecord -Record $record } else { New-OathBulkResultErrorRecord -Record $record }))
                    }
                }
                'warning' {
                    Write-Warning "$($record.Message) [$($record.Code)]"
                }
                'summary' {
                    $summary = $record
                    $counts = if ($record.Counts) { ' (' + (($record.Counts.PSObject.Properties | ForEach-Object { "$($_.Name)=$($_.Value)" }) -join ', ') + ')' } else { '' }
                    Write-Verbose ("OathBulk: {0}: {1} rows, {2} ok, {3} errors{4} in {5} ms; exit code {6}" -f
                        $record.Command, $record.Rows, $record.Ok, $record.Errors, $counts, $record.ElapsedMs, $record.ExitCode)
                    if ($PassThruSummary) { $record }
                }
                default {
                    # A record type this module does not know yet: pass it on.
                    if (-not $Quiet) { $record }
                }
            }
        }

        if ($session.ReaderError) {
            $er = [System.Management.Automation.ErrorRecord]::new($session.ReaderError, 'OathBulk.OutputUnreadable', 'ReadError', $SourcePath)
            $Cmdlet.ThrowTerminatingError($er)
        }
        $exit = $session.WaitForExit(60000)
        . $drainStderr
        if ($null -eq $exit) {
            $session.Stop()
            $er = [System.Management.Automation.ErrorRecord]::new(
                [System.TimeoutException]::new('oathbulk closed its output but did not exit within 60 s; it was stopped.'),
                'OathBulk.NoExit', 'OperationTimeout', $SourcePath)
            $Cmdlet.ThrowTerminatingError($er)
        }
        $completed = $true
        $script:NativeExitCode = $exit
        # $LASTEXITCODE: the binary's exit code of the cmdlet's last run, as for any native command.
        $global:LASTEXITCODE = $exit
        $resume = Get-OathBulkResumeHint -Cmdlet $Cmdlet -Entry $entry
        # Rows left after an interrupt or at the end: one error, with the -Resume hint where
        # it helps. After a refused credential or an unreachable tenant the count goes into
        # that error instead (its fix comes first).
        if ($notAttempted -and $exit -in 0, 1, 130) {
            $Cmdlet.WriteError((New-OathBulkErrorRecord -Exception ([System.OperationCanceledException]::new("$notAttempted row(s) were not attempted: the run stopped first.$(if ($resume) { " $resume to finish them." })")) `
                    -Id 'OathBulk.NotAttempted' -Category OperationStopped -Target $SourcePath -RecommendedAction $(if ($resume) { "$resume." } else { 'Run the same command again.' })))
        }
        if ($exit -in 0, 1) {
            foreach ($m in $errorLines) {
                $Cmdlet.WriteError((New-OathBulkErrorRecord -Exception ([System.InvalidOperationException]::new("oathbulk: $(ConvertTo-OathBulkCmdletText -Text $m -Command $Command)")) `
                            -Id 'OathBulk.Diagnostic' -Category NotSpecified -Target $SourcePath))
            }
            $bad = @($failed.Keys | Where-Object { $_ -notin 'not_attempted' })
            if ($RowFailure -and $bad) {
                $counts = ($bad | ForEach-Object { "$_=$($failed[$_])" }) -join ', '
                $total = 0; foreach ($k in $bad) { $total += $failed[$k] }
                $ex = [System.InvalidOperationException]::new("$total row(s) did not succeed ($counts); the objects with those statuses were written to the pipeline.")
                $ex.Data['ExitCode'] = $exit
                # Non-terminating, after every object: `$r = … -FailAtEnd` keeps them, and the
                # script still fails ($? is false; -ErrorAction Stop makes it terminating).
                $Cmdlet.WriteError((New-OathBulkErrorRecord -Exception $ex -Id 'OathBulk.RowsFailed' -Category InvalidResult -Target $SourcePath `
                            -RecommendedAction 'The objects whose Status is not a success say why (ErrorCode, ErrorMessage); fix those rows and run the same command again.'))
            }
            return
        }
        $message = if ($errorLines.Count) { $errorLines -join [Environment]::NewLine }
        elseif ($summary -and $summary.Fatal) { [string]$summary.Fatal.Message }
        elseif ($tail.Count) { @($tail) -join [Environment]::NewLine }
        else { "oathbulk exited with code $exit" }
        if ($summary -and $summary.Fatal -and $errorLines.Count -eq 0) { $message = "$($summary.Fatal.Message) [$($summary.Fatal.Code)]" }
        if ($Tolerate -and $message -match $Tolerate) {
            Write-Verbose "OathBulk: $Command`: $message (nothing to do)"
            return
        }
        $message = ConvertTo-OathBulkCmdletText -Text $message -Command $Command
        if ($notAttempted -and $exit -ne 130) { $message += " $notAttempted row(s) were not attempted." }
        $spec = Get-OathBulkExitSpec -Exit $exit -Message $message -Resume $resume
        $ex = $spec.Exception::new("$Command failed (oathbulk $($entry.Subcommand), exit code $exit): $message")
        $ex.Data['ExitCode'] = $exit
        $er = New-OathBulkErrorRecord -Exception $ex -Id $spec.Id -Category $spec.Category -Target $SourcePath -RecommendedAction $spec.Action
        # After objects were written, a non-terminating error keeps them with the caller
        # (`$r = …`, `| Group-Object`); a usage error, or nothing written, ends the command.
        if ($written -gt 0 -and $exit -ne 2) { $Cmdlet.WriteError($er) } else { $Cmdlet.ThrowTerminatingError($er) }
    } finally {
        # Runs on normal completion, on errors, and when the pipeline is stopped
        # (Select-Object -First, Ctrl+C): the binary must not outlive the cmdlet.
        if ($progressShown) {
            Write-Progress -Id $progressId -Activity "oathbulk $($entry.Subcommand)" -Completed
        }
        if ($session) {
            # Stopped early (Ctrl+C, -ErrorAction Stop, Select-Object -First): a command that
            # writes to the tenant takes the same path as Ctrl+C on the binary (SIGINT, so
            # requests in flight settle and are journaled; killed only after 30 s). A read-only
            # one is simply killed: nothing of it needs to settle.
            if (-not $completed) {
                if ($entry.ContainsKey('Writes')) {
                    $null = $session.Interrupt(30000)
                    # The pipeline is stopping (Ctrl+C, -ErrorAction Stop, Select-Object
                    # -First): no error can be written now, but the host still shows text,
                    # and $LASTEXITCODE says how the binary ended (130: interrupted).
                    if ($session.HasExited) {
                        $script:NativeExitCode = $session.Process.ExitCode
                        $global:LASTEXITCODE = $session.Process.ExitCode
                    }
                    $hint = Get-OathBulkResumeHint -Cmdlet $Cmdlet -Entry $entry
                    try { $Host.UI.WriteWarningLine("$Command was stopped before every row was tried; the requests in flight settled. $hint to finish the rest.") } catch { }
                } else { $session.Stop() }
            }
            $session.Dispose()
        }
    }
}

function New-OathBulkRowErrorRecord {
    <# .SYNOPSIS ErrorRecord for a row_error record: InvalidData, ErrorId = its code. #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param([Parameter(Mandatory)] [psobject]$Record)
    $place = Get-OathBulkRowPlace -Record $Record
    $where = $place
    $who = @($Record.Serial, $Record.Upn) | Where-Object { $_ }
    if ($who) { $where += " (" + ($who -join ', ') + ")" }
    $ex = [System.IO.InvalidDataException]::new("${where}: $($Record.Message)")
    $er = [System.Management.Automation.ErrorRecord]::new($ex, (ConvertTo-OathBulkErrorId ([string]$Record.Code)), 'InvalidData', $Record)
    $er.CategoryInfo.TargetName = $place
    $er
}

function Get-OathBulkRowPlace {
    <#
    .SYNOPSIS
    Where a row is, in the admin's terms: `tokens.csv line 10` for a file; for rows piped
    without one (Import-Csv objects sent on the binary's stdin) `piped row 3`: the binary
    numbers the CSV it was sent, which the admin never sees.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [psobject]$Record)
    $line = $Record.Line
    $path = $Record.PSObject.Properties['Path']
    if ($path -and $path.Value) { return "$([System.IO.Path]::GetFileName($path.Value)) line $line" }
    if ($path -and $line -gt 1) { return "piped row $($line - 1)" }
    "line $line"
}

function New-OathBulkActivationErrorRecord {
    <# .SYNOPSIS ErrorRecord for an activation that did not succeed (conflict, not_found, failed, not_attempted). #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param([Parameter(Mandatory)] [psobject]$Record)
    $status = [string]$Record.Status
    $category = switch ($status) {
        'conflict' { 'ResourceExists' }
        'not_found' { 'ObjectNotFound' }
        'not_attempted' { 'OperationStopped' }
        default {
            if ($Record.HttpStatus -in 401, 403) { 'PermissionDenied' } else { 'InvalidResult' }
        }
    }
    $detail = switch ($status) {
        'conflict' { "assigned to $(if ($Record.AssignedTo) { $Record.AssignedTo } else { 'another user' })" }
        'not_found' { 'no token with this serial in the tenant' }
        'not_attempted' { 'not attempted: the run stopped first' }
        default { 'activation failed' }
    }
    if ($Record.ErrorMessage) { $detail += ": $($Record.ErrorMessage)" }
    if ($Record.HttpStatus) { $detail += " (HTTP $($Record.HttpStatus))" }
    $id = ConvertTo-OathBulkErrorId $(if ($Record.ErrorCode) { [string]$Record.ErrorCode } else { $status })
    $ex = New-OathBulkRowException -Category $category -Message "Serial $($Record.Serial) for $($Record.Upn) ($(Get-OathBulkRowPlace -Record $Record)): $status - $detail"
    $er = [System.Management.Automation.ErrorRecord]::new($ex, $id, $category, $Record)
    $er.CategoryInfo.TargetName = [string]$Record.Serial
    $er
}

function New-OathBulkResultErrorRecord {
    <#
    .SYNOPSIS
    ErrorRecord for an import (failed, not_attempted) or change (refused, not_found, failed,
    not_attempted) that did not succeed. ErrorId = error_code, else the status.
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param([Parameter(Mandatory)] [psobject]$Record)
    $status = [string]$Record.Status
    $category = switch ($status) {
        'refused' { 'InvalidOperation' }
        'not_found' { 'ObjectNotFound' }
        'not_attempted' { 'OperationStopped' }
        default {
            if ($Record.HttpStatus -in 401, 403) { 'PermissionDenied' } else { 'InvalidResult' }
        }
    }
    $what = if ($Record.Type -eq 'change') { "$($Record.Operation) of serial $($Record.Serial)" } else { "import of serial $($Record.Serial)" }
    if ($Record.Upn) { $what += " for $($Record.Upn)" }
    if ($null -ne $Record.Line -and $Record.Line -gt 0) { $what += " (line $($Record.Line))" }
    $detail = switch ($status) {
        'refused' { 'refused, token untouched' }
        'not_found' { 'no token with this serial in the tenant' }
        'not_attempted' { 'not attempted: the run stopped first' }
        default { 'failed' }
    }
    if ($Record.PSObject.Properties['Reason'] -and $Record.Reason) { $detail += ": $($Record.Reason)" }
    if ($Record.ErrorMessage) { $detail += ": $($Record.ErrorMessage)" }
    if ($Record.HttpStatus) { $detail += " (HTTP $($Record.HttpStatus))" }
    $id = ConvertTo-OathBulkErrorId $(if ($Record.ErrorCode) { [string]$Record.ErrorCode } else { $status })
    $er = [System.Management.Automation.ErrorRecord]::new((New-OathBulkRowException -Category $category -Message "${what}: $detail"), $id, $category, $Record)
    $er.CategoryInfo.TargetName = [string]$Record.Serial
    $er
}

function Test-OathBulkExpectedSerial {
    <# .SYNOPSIS Reports piped rows whose line now holds another serial (the CSV changed since it was read). #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory)] [AllowEmptyCollection()] [object[]]$Records,
        [Parameter(Mandatory)] [hashtable]$ExpectSerial
    )
    foreach ($r in $Records) {
        $want = $ExpectSerial[[long]$r.Line]
        if ($want -and $r.Serial -ne $want) {
            $Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new(
                    [System.InvalidOperationException]::new("Line $($r.Line) now holds serial $($r.Serial), not the piped ${want}: the CSV changed since it was read."),
                    'OathBulk.CsvChanged', 'InvalidData', $r))
        }
    }
}

function ConvertTo-OathBulkErrorId {
    <#
    .SYNOPSIS
    The ErrorId of a row outcome: OathBulk.<Reason> from the binary's snake_case code
    (invalid_secret -> OathBulk.InvalidSecret), so FullyQualifiedErrorId reads
    OathBulk.<Reason>,<PublicCmdlet> like every other error of the module.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [AllowEmptyString()] [string]$Code)
    if (-not $Code) { $Code = 'row_failed' }
    'OathBulk.' + [OathBulk.Native.RecordConverter]::ToPascalCase($Code)
}

function ConvertTo-OathBulkCmdletFix {
    <#
    .SYNOPSIS
    A doctor fix in cmdlet terms: `oathbulk import CSV` -> New-OathBulkTenantToken CSV, and so on.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [string]$Fix)
    $map = [ordered]@{
        '`oathbulk check CSV`'               = '`Test-OathBulkCsv CSV`'
        '`oathbulk import CSV`'              = '`New-OathBulkTenantToken CSV`'
        '`oathbulk users CSV --with-tenant`' = '`Get-OathBulkUser CSV -WithTenant`'
        '`oathbulk activate'                 = '`Enable-OathBulkToken'
        '--device-code / --client-id'        = '-UseDeviceCode / -ClientId'
        '--graph-url/--portal-url'           = '-GraphUrl/-PortalUrl'
        'unassign them'                      = 'unassign them (Remove-OathBulkTokenAssignment)'
    }
    foreach ($k in $map.Keys) { $Fix = $Fix.Replace($k, $map[$k]) }
    $Fix
}

function New-OathBulkErrorRecord {
    <#
    .SYNOPSIS
    An ErrorRecord by the book: a stable ErrorId (FullyQualifiedErrorId reads
    OathBulk.<Reason>,<PublicCmdlet>), a category, the target, and what to do next
    (ErrorDetails.RecommendedAction).
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param(
        [Parameter(Mandatory)] [System.Exception]$Exception,
        [Parameter(Mandatory)] [string]$Id,
        [Parameter(Mandatory)] [System.Management.Automation.ErrorCategory]$Category,
        [object]$Target,
        [string]$RecommendedAction
    )
    $er = [System.Management.Automation.ErrorRecord]::new($Exception, $Id, $Category, $Target)
    if ($RecommendedAction) {
        $er.ErrorDetails = [System.Management.Automation.ErrorDetails]::new($Exception.Message)
        $er.ErrorDetails.RecommendedAction = $RecommendedAction
    }
    $er
}

function Get-OathBulkResumeHint {
    <#
    .SYNOPSIS
    How to finish an interrupted run, in the cmdlet's terms: writing cmdlets resume from their
    journal (-Journal … -Resume; Undo-OathBulkRun from its own journal); a read is re-run.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet, [Parameter(Mandatory)] [hashtable]$Entry)
    $name = $Cmdlet.MyInvocation.MyCommand.Name
    if (-not $Entry.ContainsKey('Writes')) { return '' }
    if ($name -eq 'Undo-OathBulkRun') { return "Run the same Undo-OathBulkRun again (it resumes from its own journal)" }
    $journal = $Cmdlet.MyInvocation.BoundParameters['Journal']
    if ($journal) { return "Run the same $name again with -Journal $journal -Resume" }
    "Run the same $name again with -Journal <file> -Resume (this run kept no journal: rows it settled are read back from the tenant)"
}

function Get-OathBulkExitSpec {
    <#
    .SYNOPSIS
    The error a failing run of the binary becomes: ErrorId, category, exception type and the
    recommended action, from its exit code (and for exit 3, whether the tenant said 403).
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param([Parameter(Mandatory)] [int]$Exit, [string]$Message, [string]$Resume)
    $then = if ($Resume) { ", then: $Resume." } else { ', then run the same command again.' }
    switch ($Exit) {
        2 { return @{ Id = 'OathBulk.UsageError'; Category = 'InvalidArgument'; Exception = [System.ArgumentException]; Action = 'Correct what the message names and run the command again.' } }
        3 {
            if ($Message -match '\b403\b|lacks a permission') {
                return @{ Id = 'OathBulk.PermissionDenied'; Category = 'PermissionDenied'; Exception = [System.UnauthorizedAccessException]
                    Action = "Grant the permission the message names (UserAuthenticationMethod.ReadWrite.All, Policy.ReadWrite.AuthenticationMethod, or the Authentication Administrator role)$then" }
            }
            return @{ Id = 'OathBulk.AuthRejected'; Category = 'AuthenticationError'; Exception = [System.Security.Authentication.AuthenticationException]
                Action = "Sign in again (Connect-OathBulk) or give a fresh -AccessToken$then" }
        }
        4 { return @{ Id = 'OathBulk.ServiceUnavailable'; Category = 'ConnectionError'; Exception = [System.Net.Http.HttpRequestException]
                Action = "Check that the tenant can be reached (-GraphUrl, the proxy, the network; a simulator must still be running: Get-OathBulkContext)$then" } }
        130 { return @{ Id = 'OathBulk.Interrupted'; Category = 'OperationStopped'; Exception = [System.OperationCanceledException]
                Action = $(if ($Resume) { "$Resume." } else { 'Run the same command again.' }) } }
    }
    @{ Id = "OathBulk.ExitCode$Exit"; Category = 'NotSpecified'; Exception = [System.InvalidOperationException]; Action = $null }
}

function ConvertTo-OathBulkCmdletText {
    <#
    .SYNOPSIS
    The binary's message in the cmdlet's terms: its flags become the cmdlet's parameters
    (--token-file -> -TokenFile, --resume -> -Resume; from CommandTable.psd1), and advice that
    names a command line names the cmdlets (Connect-OathBulk).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [AllowEmptyString()] [string]$Text, [Parameter(Mandatory)] [string]$Command)
    if ($Text -match '^no credentials') {
        return "No credentials: run Connect-OathBulk first (a sign-in kept for later cmdlets), or give $Command -AccessToken, -TokenFile, -Credential with -TenantId, or -UseDeviceCode (or set `$env:OATHBULK_TOKEN, or put the token in ./AuthKey.txt)."
    }
    $Text = $Text.Replace('or use --tenant/--client-id, which refreshes itself', 'or sign in with Connect-OathBulk, which renews itself')
    $Text = $Text -replace '\bre-run with\b', 'run the same command again with'
    $flags = @{ '--token-stdin' = '-AccessToken'; '--dry-run' = '-WhatIf'; '--tenant' = '-TenantId'; '--client-id' = '-ClientId' }
    foreach ($entry in @($script:CommandTable[$Command]) + @($script:CommandTable.Values)) {
        if (-not $entry) { continue }
        foreach ($name in $entry.Parameters.Keys) {
            $flag = $entry.Parameters[$name].Flag
            if (-not $flags.ContainsKey($flag)) { $flags[$flag] = "-$name" }
        }
    }
    [regex]::Replace($Text, '(?<![\w-])--[a-z][a-z0-9-]*', { param($m) if ($flags.ContainsKey($m.Value)) { $flags[$m.Value] } else { $m.Value } })
}

function New-OathBulkRowException {
    <#
    .SYNOPSIS
    A row outcome's exception, typed by its category (a catch block or $_.Exception -is can
    tell a conflict from a permission problem), never a bare System.Exception.
    #>
    [CmdletBinding()]
    [OutputType([System.Exception])]
    param([Parameter(Mandatory)] [string]$Category, [Parameter(Mandatory)] [string]$Message)
    switch ($Category) {
        'ObjectNotFound' { return [System.Management.Automation.ItemNotFoundException]::new($Message) }
        'OperationStopped' { return [System.OperationCanceledException]::new($Message) }
        'PermissionDenied' { return [System.UnauthorizedAccessException]::new($Message) }
        'InvalidResult' { return [System.Net.Http.HttpRequestException]::new($Message) }
    }
    [System.InvalidOperationException]::new($Message)
}
