function Stop-OathBulkSimulator {
    # Help: powershell/docs/cmdlets/Stop-OathBulkSimulator.md (rendered to en-US/OathBulk-help.xml).
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Low', HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#stop-oathbulksimulator')]
    [OutputType('OathBulk.SimulatorInstance')]
    param(
        [Parameter(ValueFromPipeline, Position = 0)]
        [PSTypeName('OathBulk.SimulatorInstance')]
        [psobject[]]$InputObject,
        [ValidateRange(0, 600)] [int]$TimeoutSeconds = 10,
        [switch]$PassThru
    )
    begin { $any = $false }
    process {
        foreach ($sim in $InputObject) {
            $any = $true
            if ($PSCmdlet.ShouldProcess($sim.Listen, 'Stop the simulated tenant')) {
                Stop-OathBulkSimulatorCore -Simulator $sim -TimeoutSeconds $TimeoutSeconds
                if ($PassThru) { $sim }
            }
        }
    }
    end {
        if (-not $any -and -not $PSBoundParameters.ContainsKey('InputObject')) {
            foreach ($sim in @($script:Simulators)) {
                if ($PSCmdlet.ShouldProcess($sim.Listen, 'Stop the simulated tenant')) {
                    Stop-OathBulkSimulatorCore -Simulator $sim -TimeoutSeconds $TimeoutSeconds
                    if ($PassThru) { $sim }
                }
            }
        }
    }
}

function Stop-OathBulkSimulatorCore {
    <# .SYNOPSIS Stops one simulator: stdin EOF, wait, kill; deletes its temporary token file. #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [psobject]$Simulator, [int]$TimeoutSeconds = 10)
    $session = $Simulator.PSObject.Properties['_Session']
    if ($session -and $session.Value) {
        $s = $session.Value
        $s.CloseStdin()
        if ($null -eq $s.WaitForExit($TimeoutSeconds * 1000)) {
            Write-Verbose "OathBulk: simulator $($Simulator.Listen) did not exit within $TimeoutSeconds s; killing it"
        }
        while ($null -ne ($line = $s.NextStderr())) { Write-Verbose "oathbulk simulate: $line" }
        $s.Dispose()
    }
    $tokenFile = $Simulator.PSObject.Properties['_TokenFile']
    if ($tokenFile -and $tokenFile.Value) { [OathBulk.Native.TempFileRegistry]::Delete($tokenFile.Value) }
    $null = $script:Simulators.Remove($Simulator)
    # A stopped simulator is no one's endpoint any more.
    if ($script:Context -and [object]::ReferenceEquals($script:Context['Simulator'], $Simulator)) { Set-OathBulkContext -Context $null }
}
