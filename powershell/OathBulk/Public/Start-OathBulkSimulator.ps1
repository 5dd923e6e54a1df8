function Start-OathBulkSimulator {
    # Help: powershell/docs/cmdlets/Start-OathBulkSimulator.md (rendered to en-US/OathBulk-help.xml).
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Low', HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#start-oathbulksimulator')]
    [OutputType('OathBulk.SimulatorInstance')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('FullName', 'PSPath', 'Csv')]
        [ValidateNotNullOrEmpty()]
        [string]$Path,
        [string]$Listen = '127.0.0.1:0',
        [securestring]$AccessToken,
        [string]$TokenFile,
        [ValidateRange(0, [int]::MaxValue)] [int]$LatencyMs,
        [double]$RateLimit,
        [ValidateRange(0.0, 1.0)] [double]$FailRate,
        [ValidateRange(0.0, 1.0)] [double]$DropRate,
        [int]$ClockOffset,
        [ValidateRange(1, [long]::MaxValue)] [long]$ExpireTokenAfter,
        [switch]$Forbidden,
        [string]$StateOut,
        [ValidateSet('base32', 'hex')] [string]$SecretFormat,
        [ValidateSet('sha1', 'sha256', 'hmacsha1', 'hmacsha256')] [string]$Hash,
        [ValidateRange(0.0, 1.0)] [double]$AssignedFraction,
        [ValidateRange(0.0, 1.0)] [double]$ActivatedFraction,
        [long]$RandomSeed,
        [string]$ClientId,
        [string]$ClientSecretFile,
        [string]$ClientCertificate,
        [ValidateRange(1, 600)] [int]$TimeoutSeconds = 30
    )
    process {
        $csv = @(Resolve-OathBulkCsvPath -Path $Path -Cmdlet $PSCmdlet -Literal)
        if (-not $csv) { return }
        $binary = Get-OathBulkBinary -Cmdlet $PSCmdlet
        if (-not $PSCmdlet.ShouldProcess($Listen, "Start a simulated tenant seeded from $($csv[0])")) { return }

        $bound = @{} + $PSBoundParameters
        $bound['Path'] = $csv[0]
        $bound['Listen'] = $Listen
        $tokenTemp = $null
        if ($AccessToken) {
            # The simulator reads the accepted token from a file: a private one, deleted on stop.
            # Per-user folder, 0600, and deleted when the process exits if nobody stops it.
            $tokenTemp = New-OathBulkPrivateFile -Extension '.token'
            [OathBulk.Native.TempFileRegistry]::Add($tokenTemp)
            $stream = [System.IO.File]::Open($tokenTemp, 'Truncate', 'Write')
            try {
                $bytes = [System.Text.Encoding]::UTF8.GetBytes([System.Net.NetworkCredential]::new('', $AccessToken).Password)
                $stream.Write($bytes, 0, $bytes.Length)
            } finally { $stream.Dispose() }
            $bound['TokenFile'] = $tokenTemp
        }
        $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $bound -SessionState $PSCmdlet.SessionState
        $display = $argv -join ' '
        Write-Verbose "OathBulk: $binary $display"

        $session = $null
        try {
            # In a session of its own (setsid execs the binary: same process id): Ctrl+C at the
            # console interrupts the foreground process group, and a rehearsal's tenant must
            # outlive an interrupted cmdlet (its state is what the next call works on). It
            # still ends with this PowerShell: its standard input closes then.
            $file, $startArgs = $binary, [string[]]$argv
            $setsid = if (-not $IsWindows) { Get-Command -Name setsid -CommandType Application -ErrorAction Ignore | Select-Object -First 1 }
            if ($setsid) { $file, $startArgs = $setsid.Source, [string[]](@($binary) + $argv) }
            $session = [OathBulk.Native.NativeSession]::new($file, $startArgs, @{}, [string[]]@(), [string[]]@(), [NullString]::Value, [NullString]::Value, $true, 64, 16)
            $ready = $null
            $deadline = [datetime]::UtcNow.AddSeconds($TimeoutSeconds)
            $stderrTail = [System.Collections.Generic.List[string]]::new()
            while (-not $ready -and [datetime]::UtcNow -lt $deadline) {
                $batch = $session.Read(200)
                while ($null -ne ($line = $session.NextStderr())) { $stderrTail.Add($line); Write-Verbose "oathbulk simulate: $line" }
                if ($batch) {
                    foreach ($r in @($batch.Records) + @($batch.Special)) {
                        if ($r -and $r.PSObject.TypeNames[0] -eq 'OathBulk.Simulator') { $ready = $r }
                    }
                } elseif ($session.IsCompleted) { break }
            }
            if (-not $ready) {
                $exit = $session.WaitForExit(2000)
                while ($null -ne ($line = $session.NextStderr())) { $stderrTail.Add($line) }
                $why = if ($stderrTail.Count) { $stderrTail -join [Environment]::NewLine } else { "no ready line within $TimeoutSeconds s" }
                throw [System.InvalidOperationException]::new("oathbulk simulate did not start (exit code $exit): $why")
            }
        } catch {
            if ($session) { $session.Dispose() }
            if ($tokenTemp) { [OathBulk.Native.TempFileRegistry]::Delete($tokenTemp) }
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($_.Exception, 'OathBulk.SimulatorFailed', 'ResourceUnavailable', $csv[0]))
        }

        $instance = [pscustomobject]@{
            PSTypeName   = 'OathBulk.SimulatorInstance'
            Listen       = $ready.Listen
            GraphUrl     = $ready.GraphUrl
            PortalUrl    = $ready.PortalUrl
            AuthorityUrl = $ready.AuthorityUrl
            Devices      = $ready.Devices
            Users        = $ready.Users
            Path         = $csv[0]
            StateOut     = if ($StateOut) { $PSCmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath($StateOut) } else { $null }
            Process      = $session.Process
        }
        $instance | Add-Member -MemberType ScriptProperty -Name ProcessId -Value { $this.Process.Id }
        $instance | Add-Member -MemberType ScriptProperty -Name HasExited -Value { $this.Process.HasExited }
        # Internals for Stop-OathBulkSimulator (not part of the public shape).
        $instance.PSObject.Properties.Add([psnoteproperty]::new('_Session', $session))
        $instance.PSObject.Properties.Add([psnoteproperty]::new('_TokenFile', $tokenTemp))
        $script:Simulators.Add($instance)
        # The session's tenant from now on (as Connect-OathBulk): later cmdlets given no
        # endpoint of their own rehearse here, with the accepted token (any, without one),
        # until Stop-OathBulkSimulator or Disconnect-OathBulk.
        $simToken = if ($AccessToken) { $AccessToken } else { ConvertTo-SecureString 'oathbulk-simulator' -AsPlainText -Force }
        if (-not $TokenFile) {
            Set-OathBulkContext -Context @{
                AuthType = 'Simulator'; GraphUrl = $instance.GraphUrl; PortalUrl = $instance.PortalUrl
                AuthorityUrl = $instance.AuthorityUrl; AccessToken = $simToken; Simulator = $instance
            }
            Write-Verbose "OathBulk: later cmdlets without -GraphUrl act on this simulated tenant ($($instance.Listen)); Get-OathBulkContext shows it"
        }
        $instance
    }
}
