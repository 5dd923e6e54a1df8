function Undo-OathBulkRun {
    # Help: powershell/docs/cmdlets/Undo-OathBulkRun.md (rendered to en-US/OathBulk-help.xml).
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

        [string]$UndoJournal
        # + the shared parameters of its CommandTable.psd1 entry (Declare)
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
