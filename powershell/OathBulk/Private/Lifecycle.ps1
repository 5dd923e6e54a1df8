function Invoke-OathBulkChangeCommand {
    <#
    .SYNOPSIS
    The end block of Disable-OathBulkToken, Remove-OathBulkTokenAssignment and
    Remove-OathBulkTenantToken (oathbulk deactivate | unassign | remove): one run per CSV
    (piped rows become a --where on their lines), one run per -Serial.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory)] [System.Collections.IDictionary]$BoundParameters,
        # CSV -> selection (Add-OathBulkRowSelection).
        [Parameter(Mandatory)] [System.Collections.Specialized.OrderedDictionary]$Files,
        # @{ Serial; Upn } per token given by serial.
        [Parameter(Mandatory)] [AllowEmptyCollection()] [System.Collections.Generic.List[object]]$Tokens,
        # For ShouldProcess: 'Deactivate', 'Unassign', 'Remove'.
        [Parameter(Mandatory)] [string]$Verb,
        [Parameter(Mandatory)] [string]$Effect
    )
    $command = $Cmdlet.MyInvocation.MyCommand.Name
    $subcommand = $script:CommandTable[$command].Subcommand
    if ($BoundParameters['Resume'] -and -not $BoundParameters['Journal']) {
        $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.ArgumentException]::new('-Resume needs -Journal.'), 'OathBulk.ResumeWithoutJournal', 'InvalidArgument', $null))
    }
    $binary = Find-OathBulkBinary
    Assert-OathBulkSubcommand -Cmdlet $Cmdlet -Binary $binary -Subcommand $subcommand
    $caps = Get-OathBulkCapability -Binary $binary -Subcommand $subcommand
    $auth = Resolve-OathBulkCmdletAuth -Cmdlet $Cmdlet -BoundParameters $BoundParameters

    $runs = [System.Collections.Generic.List[hashtable]]::new()
    foreach ($csv in $Files.Keys) { $runs.Add(@{ Csv = $csv; Token = $null }) }
    foreach ($t in $Tokens) { $runs.Add(@{ Csv = $null; Token = $t }) }

    foreach ($run in $runs) {
        $extra = [System.Collections.Generic.List[string]]::new()
        foreach ($a in $auth.Arguments) { $extra.Add($a) }
        if ($caps.Flags -contains '--progress') { $extra.Add('--progress'); $extra.Add('json') }
        $bound = @{} + $BoundParameters
        $null = $bound.Remove('Upn')
        $positional = @()
        $selection = $null
        try {
            if ($run.Csv) {
                $csv = $run.Csv
                # The lifecycle commands take a CSV or --serial, not both: rows are selected by --where.
                $selection = Resolve-OathBulkRowSelection -Csv $csv -Selection $Files[$csv] -Where $BoundParameters['Where'] -Capability $caps
                foreach ($e in $selection.Extra) { $extra.Add($e) }
                if ($selection.Where) { $bound['Where'] = $selection.Where }
                $target = $selection.Target
                $positional = @($csv)
            } else {
                $t = $run.Token
                $extra.Add('--serial'); $extra.Add($t.Serial)
                if ($t.Upn) { $extra.Add('--upn'); $extra.Add($t.Upn) }
                foreach ($name in 'Where', 'OrderBy', 'Script') { $null = $bound.Remove($name) }
                $target = "token $($t.Serial)$(if ($t.Upn) { " of $($t.Upn)" })"
                $csv = $null
            }

            $force = [bool]$BoundParameters['Force']
            $decision = Test-OathBulkShouldProcess -Cmdlet $Cmdlet -Force:$force `
                -Description "$Verb $target in the tenant ($Effect)." -Question "$Verb ${target}? $Effect."
            if ($decision -eq 'Skip') { continue }
            # -WhatIf: a dry run (reads the tenant, writes nothing): would_do objects show the plan.
            if ($decision -eq 'DryRun') { $extra.Add('--dry-run') }

            $argv = ConvertTo-OathBulkArgument -Command $command -BoundParameters $bound -Positional $positional -Extra $extra -SessionState $Cmdlet.SessionState
            Invoke-OathBulkNative -Cmdlet $Cmdlet -Command $command -ArgumentList $argv -SourcePath $csv `
                -Environment $auth.Environment -Redact $auth.Redact -PassThruSummary:([bool]$BoundParameters['PassThruSummary']) `
                -ExpectSerial $(if ($selection) { $selection.Expect })
        } finally {
            if ($selection) { foreach ($f in $selection.TempFiles) { [System.IO.File]::Delete($f) } }
        }
    }
}
