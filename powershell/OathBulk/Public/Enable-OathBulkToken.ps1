function Enable-OathBulkToken {
    # Help: powershell/docs/cmdlets/Enable-OathBulkToken.md (rendered to en-US/OathBulk-help.xml).
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium', DefaultParameterSetName = 'Path', HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#enable-oathbulktoken')]
    [OutputType('OathBulk.Activation')]
    param(
        [Parameter(Position = 0, ParameterSetName = 'Path')]
        [SupportsWildcards()]
        [ValidateNotNullOrEmpty()]
        [string[]]$Path,

        [Parameter(ParameterSetName = 'Path')]
        [Alias('LP')]
        [ValidateNotNullOrEmpty()]
        [string[]]$LiteralPath,

        [Parameter(ValueFromPipeline, ParameterSetName = 'Path')]
        [psobject]$InputObject,

        [Parameter(ParameterSetName = 'Path')]
        [Parameter(Mandatory, ParameterSetName = 'Token')]
        [Alias('SerialNumber')]
        [string]$Serial,

        [Parameter(Mandatory, ParameterSetName = 'Token')]
        [ValidatePattern('^\d{6}$', ErrorMessage = 'A verification code is exactly six digits, as a string (quote it to keep leading zeros).')]
        [string]$Code,

        [Alias('UserPrincipalName')] [ValidateNotNullOrEmpty()] [string]$Upn,

        [Parameter(ParameterSetName = 'Path')] [ValidateNotNullOrEmpty()] [string]$Where,
        [Parameter(ParameterSetName = 'Path')] [ValidateNotNullOrEmpty()] [string]$OrderBy,
        [Parameter(ParameterSetName = 'Path')] [ValidateNotNullOrEmpty()] [string]$Script,
        [Parameter(ParameterSetName = 'Path')] [ValidateSet('base32', 'hex')] [string]$SecretFormat,
        [Parameter(ParameterSetName = 'Path')] [ValidateSet('sha1', 'sha256', 'hmacsha1', 'hmacsha256')] [string]$Hash,
        [Parameter(ParameterSetName = 'Path')] [securestring]$Password,
        [Parameter(ParameterSetName = 'Path')] [ValidateNotNullOrEmpty()] [string]$PskcKeyFile,
        [Parameter(ParameterSetName = 'Path')] [ValidateNotNullOrEmpty()] [string]$AssignCsv,

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
        $expecting = $MyInvocation.ExpectingInput -and $PSCmdlet.ParameterSetName -ne 'Token'
        $binder = New-OathBulkInputBinder -Cmdlet $PSCmdlet
    }
    process {
        # One compiled call per piped object: this is the hot path (see module-bench.ps1).
        $binder.Add($InputObject)
    }
    end {
        if ($Resume -and -not $Journal) {
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                    [System.ArgumentException]::new('-Resume needs -Journal.'), 'OathBulk.ResumeWithoutJournal', 'InvalidArgument', $null))
        }
        # One run per CSV (and one for rows piped without a file); with -Serial -Code, one run.
        if ($PSCmdlet.ParameterSetName -eq 'Token') {
            $runs = @(@{ Csv = $null; Selection = $null; Stdin = $null; Serials = $null })
        } else {
            $runs = Resolve-OathBulkRun -Cmdlet $PSCmdlet -Binder $binder -Path $Path -LiteralPath $LiteralPath -ExpectingInput:$expecting -Serial $Serial -PathlessMode Rows
            if (-not $runs.Count) { return }
        }
        $binary = Get-OathBulkBinary -Cmdlet $PSCmdlet
        $auth = Resolve-OathBulkCmdletAuth -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters
        # -Code goes to the binary's stdin (--code-stdin): argv is visible to every user while
        # the code is valid. A certificate sign-in's assertion needs stdin: then argv, as before.
        $codeOnStdin = $Code -and $auth.Arguments -notcontains '--client-assertion-stdin'

        foreach ($run in $runs) {
            $extra = [System.Collections.Generic.List[string]]::new()
            foreach ($a in $auth.Arguments) { $extra.Add($a) }
            $extra.Add('--progress'); $extra.Add('json')
            $bound = @{} + $PSBoundParameters
            foreach ($name in 'Serial', 'Path', 'LiteralPath') { $null = $bound.Remove($name) }
            if ($codeOnStdin) { $null = $bound.Remove('Code'); $extra.Add('--code-stdin'); $run.Stdin = "$Code`n" }
            $selection = $null
            $csv = $run.Csv
            try {
                if ($csv) {
                    $selection = Resolve-OathBulkRowSelection -Run $run -Where $Where -SerialFlag
                    if ($Upn -and -not $selection.Serial) {
                        $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new(
                                [System.ArgumentException]::new("-Upn applies to one token: give one -Serial (not piped rows) for $csv."), 'OathBulk.OneTokenOnly', 'InvalidArgument', $csv))
                        continue
                    }
                    foreach ($e in $selection.Extra) { $extra.Add($e) }
                    if ($selection.Where) { $bound['Where'] = $selection.Where }
                    $target = $selection.Target
                } else {
                    $extra.Add('--serial'); $extra.Add($Serial)
                    $target = "token $Serial$(if ($Upn) { " for $Upn" }) (typed code)"
                }

                $decision = Test-OathBulkShouldProcess -Cmdlet $PSCmdlet -Force:$Force -Serial $(if ($selection -and $selection.Expect) { @($selection.Expect.Values) } elseif ($selection -and $selection.Serial) { $selection.Serial }) `
                    -Description "Activating $target in the tenant." -Question "Activate $target in the tenant?"
                if ($decision -eq 'Skip') { continue }
                # -WhatIf: a dry run (reads the tenant, writes nothing) that shows the plan.
                if ($decision -eq 'DryRun') { $extra.Add('--dry-run') }

                $positional = if ($csv) { @($csv) } else { @() }
                $argv = ConvertTo-OathBulkArgument -Command $MyInvocation.MyCommand.Name -BoundParameters $bound -Positional $positional -Extra $extra -SessionState $PSCmdlet.SessionState
                Invoke-OathBulkNative -Cmdlet $PSCmdlet -Command $MyInvocation.MyCommand.Name -ArgumentList $argv -SourcePath $(if ($csv -and $csv -ne '-') { $csv }) `
                    -Environment $auth.Environment -Redact $auth.Redact -PassThruSummary:$PassThruSummary -ExpectSerial $(if ($selection) { $selection.Expect }) `
                    -StdinText $run.Stdin -RowFailure:$FailAtEnd -SeedPassword $(if ($csv -and $csv -ne '-') { $Password })
            } finally {
                if ($selection) { foreach ($f in $selection.TempFiles) { [System.IO.File]::Delete($f) } }
            }
        }
    }
}
