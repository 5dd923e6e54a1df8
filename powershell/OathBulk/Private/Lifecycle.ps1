function Invoke-OathBulkChangeCommand {
    <#
    .SYNOPSIS
    The end block of Disable-OathBulkToken, Remove-OathBulkTokenAssignment and
    Remove-OathBulkTenantToken (oathbulk deactivate | unassign | remove): one run per CSV
    (piped rows select their lines), and ONE run for the piped tokens given by serial: their
    serials go to the binary as a CSV on stdin (`upn,serial number` for tokens that name their
    user, `serial number` alone for tenant tokens, whoever holds them), so the tenant's
    inventory is read once, not once per serial. -Serial alone is a --serial run.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory)] [System.Collections.IDictionary]$BoundParameters,
        [Parameter(Mandatory)] [OathBulk.Native.InputBinder]$Binder,
        # The cmdlet was fed by a pipeline ($MyInvocation.ExpectingInput).
        [switch]$ExpectingInput,
        # For ShouldProcess: 'Deactivate', 'Unassign', 'Remove'.
        [Parameter(Mandatory)] [string]$Verb,
        [Parameter(Mandatory)] [string]$Effect
    )
    $command = $Cmdlet.MyInvocation.MyCommand.Name
    if ($BoundParameters['Resume'] -and -not $BoundParameters['Journal']) {
        $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.ArgumentException]::new('-Resume needs -Journal.'), 'OathBulk.ResumeWithoutJournal', 'InvalidArgument', $null))
    }
    $path = $BoundParameters['Path']
    $literal = $BoundParameters['LiteralPath']
    $serial = $BoundParameters['Serial']
    if (-not $ExpectingInput -and -not $path -and -not $literal) {
        if (-not $serial) {
            $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                    [System.ArgumentException]::new('Give -Path (a CSV), -Serial (one token) or pipe tokens in.'), 'OathBulk.NoTarget', 'InvalidArgument', $null))
        }
        # -Serial alone: one tenant token (with -Upn, the user it must belong to).
        $runs = [System.Collections.Generic.List[hashtable]]::new()
        $runs.Add(@{ Csv = $null; Selection = $null; Stdin = $null; Serials = @($serial) })
    } else {
        $runs = Resolve-OathBulkRun -Cmdlet $Cmdlet -Binder $Binder -Path $path -LiteralPath $literal -ExpectingInput:$ExpectingInput -Serial $serial -PathlessMode Tokens
    }
    if (-not $runs.Count) { return }
    $binary = Get-OathBulkBinary -Cmdlet $Cmdlet
    $auth = Resolve-OathBulkCmdletAuth -Cmdlet $Cmdlet -BoundParameters $BoundParameters

    foreach ($run in $runs) {
        $extra = [System.Collections.Generic.List[string]]::new()
        foreach ($a in $auth.Arguments) { $extra.Add($a) }
        $extra.Add('--progress'); $extra.Add('json')
        $bound = @{} + $BoundParameters
        foreach ($name in 'Upn', 'Serial', 'Path', 'LiteralPath') { $null = $bound.Remove($name) }
        $selection = $null
        try {
            $positional = @()
            if ($run.Serials) {
                $upn = if (-not $ExpectingInput) { $BoundParameters['Upn'] }
                $extra.Add('--serial'); $extra.Add($run.Serials[0])
                if ($upn) { $extra.Add('--upn'); $extra.Add($upn) }
                # --serial alone already acts on whoever holds the token: -AnyHolder is for a CSV.
                foreach ($name in 'Where', 'OrderBy', 'Script', 'AnyHolder') { $null = $bound.Remove($name) }
                $target = "token $($run.Serials[0])$(if ($upn) { " of $upn" })"
            } else {
                $selection = Resolve-OathBulkRowSelection -Run $run -Where $BoundParameters['Where']
                foreach ($e in $selection.Extra) { $extra.Add($e) }
                if ($selection.Where) { $bound['Where'] = $selection.Where }
                $target = if ($run.Csv -eq '-') { "$(($run.Stdin -split "`n").Count - 2) token(s) given by serial" } else { $selection.Target }
                $positional = @($run.Csv)
            }

            $force = [bool]$BoundParameters['Force']
            $decision = Test-OathBulkShouldProcess -Cmdlet $Cmdlet -Force:$force -Serial $(if ($run.Serials) { $run.Serials } elseif ($selection -and $selection.Expect) { @($selection.Expect.Values) }) `
                -Description "$Verb $target in the tenant ($Effect)." -Question "$Verb ${target}? $Effect."
            if ($decision -eq 'Skip') { continue }
            # -WhatIf: a dry run (reads the tenant, writes nothing): would_do objects show the plan.
            if ($decision -eq 'DryRun') { $extra.Add('--dry-run') }

            $argv = ConvertTo-OathBulkArgument -Command $command -BoundParameters $bound -Positional $positional -Extra $extra -SessionState $Cmdlet.SessionState
            Invoke-OathBulkNative -Cmdlet $Cmdlet -Command $command -ArgumentList $argv -SourcePath $(if ($run.Csv -and $run.Csv -ne '-') { $run.Csv }) `
                -Environment $auth.Environment -Redact $auth.Redact -PassThruSummary:([bool]$BoundParameters['PassThruSummary']) `
                -ExpectSerial $(if ($selection) { $selection.Expect }) -StdinText $run.Stdin -RowFailure:([bool]$BoundParameters['FailAtEnd'])
        } finally {
            if ($selection) { foreach ($f in $selection.TempFiles) { [System.IO.File]::Delete($f) } }
        }
    }
}
