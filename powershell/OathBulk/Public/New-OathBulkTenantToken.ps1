function New-OathBulkTenantToken {
    # Help: powershell/docs/cmdlets/New-OathBulkTenantToken.md (rendered to en-US/OathBulk-help.xml).
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium', HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#new-oathbulktenanttoken')]
    [OutputType('OathBulk.Import', 'OathBulk.Activation')]
    param(
        [Parameter(Position = 0)]
        [SupportsWildcards()]
        [ValidateNotNullOrEmpty()]
        [string[]]$Path,

        [Alias('LP')]
        [ValidateNotNullOrEmpty()]
        [string[]]$LiteralPath,

        [Parameter(ValueFromPipeline)]
        [psobject]$InputObject,

        [Alias('SerialNumber')]
        [string]$Serial,

        [switch]$Assign,
        [switch]$Activate,

        [ValidateNotNullOrEmpty()] [string]$Where,
        [ValidateNotNullOrEmpty()] [string]$OrderBy,
        [ValidateNotNullOrEmpty()] [string]$Script,
        [ValidateSet('base32', 'hex')] [string]$SecretFormat,
        [ValidateSet('sha1', 'sha256', 'hmacsha1', 'hmacsha256')] [string]$Hash,
        [securestring]$Password,
        [ValidateNotNullOrEmpty()] [string]$PskcKeyFile,
        [ValidateNotNullOrEmpty()] [string]$AssignCsv,

        [ValidateSet('graph', 'portal')] [string]$Backend,
        [uri]$GraphUrl,
        [uri]$PortalUrl,
        [ValidateSet('public', 'usgov')] [string]$PortalCloud,
        [uri]$AuthorityUrl,
        [switch]$Simulate,

        [ValidateRange(1, 64)] [int]$Parallel,
        [ValidateRange(0.001, 100000)] [double]$MaxRate,
        [ValidateRange(1, 25)] [int]$MinValidity,
        [string]$Journal,
        [switch]$Resume,
        [string]$ErrorLog,

        [securestring]$AccessToken,
        [pscredential]$Credential,
        [string]$TenantId,
        [string]$TokenFile,
        [switch]$UseDeviceCode,
        [ValidateNotNullOrEmpty()] [string]$ClientId,

        [switch]$Force,
        [switch]$FailAtEnd,
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
        if ($Resume -and -not $Journal) {
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                    [System.ArgumentException]::new('-Resume needs -Journal.'), 'OathBulk.ResumeWithoutJournal', 'InvalidArgument', $null))
        }
        $runs = Resolve-OathBulkRun -Cmdlet $PSCmdlet -Binder $binder -Path $Path -LiteralPath $LiteralPath -ExpectingInput:$expecting -Serial $Serial -PathlessMode Rows
        if (-not $runs.Count) { return }
        $binary = Get-OathBulkBinary -Cmdlet $PSCmdlet
        $auth = Resolve-OathBulkCmdletAuth -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters
        $what = if ($Activate) { 'Importing, assigning and activating' } elseif ($Assign) { 'Importing and assigning' } else { 'Importing' }

        foreach ($run in $runs) {
            $extra = [System.Collections.Generic.List[string]]::new()
            foreach ($a in $auth.Arguments) { $extra.Add($a) }
            $extra.Add('--progress'); $extra.Add('json')
            $bound = @{} + $PSBoundParameters
            $selection = $null
            try {
                $selection = Resolve-OathBulkRowSelection -Run $run -Where $Where
                foreach ($e in $selection.Extra) { $extra.Add($e) }
                if ($selection.Where) { $bound['Where'] = $selection.Where }
                $target = $selection.Target
                $decision = Test-OathBulkShouldProcess -Cmdlet $PSCmdlet -Force:$Force `
                    -Description "$what $target in the tenant." -Question "$what ${target}?"
                if ($decision -eq 'Skip') { continue }
                # -WhatIf: a dry run (reads the tenant, writes nothing) that shows the plan.
                if ($decision -eq 'DryRun') { $extra.Add('--dry-run') }
                $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $bound -Positional @($run.Csv) -Extra $extra -SessionState $PSCmdlet.SessionState
                Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command $MyInvocation.MyCommand.Name -ArgumentList $argv -SourcePath $(if ($run.Csv -ne '-') { $run.Csv }) `
                    -Environment $auth.Environment -Redact $auth.Redact -PassThruSummary:$PassThruSummary -ExpectSerial $selection.Expect `
                    -StdinText $run.Stdin -RowFailure:$FailAtEnd -SeedPassword $(if ($run.Csv -ne '-') { $Password })
            } finally {
                if ($selection) { foreach ($f in $selection.TempFiles) { [System.IO.File]::Delete($f) } }
            }
        }
    }
}
