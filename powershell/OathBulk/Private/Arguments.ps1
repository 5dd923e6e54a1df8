function ConvertTo-OathBulkArgument {
    <#
    .SYNOPSIS
    Turns a cmdlet's bound parameters into the binary's argument list, using CommandTable.psd1.
    Returns the argument vector (never a joined string: it goes to ProcessStartInfo.ArgumentList).
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param(
        [Parameter(Mandatory)] [string]$Command,
        [Parameter(Mandatory)] [System.Collections.IDictionary]$BoundParameters,
        # Positional arguments appended last (the CSV).
        [string[]]$Positional = @(),
        [string[]]$Extra = @(),
        # Parameter names to skip (handled by the caller).
        [string[]]$Exclude = @(),
        [Parameter(Mandatory)] [System.Management.Automation.SessionState]$SessionState
    )
    $entry = $script:CommandTable[$Command]
    if (-not $entry) { throw "OathBulk: no command table entry for $Command" }
    $inv = [System.Globalization.CultureInfo]::InvariantCulture
    $argv = [System.Collections.Generic.List[string]]::new()
    $argv.Add($entry.Subcommand)
    foreach ($f in $entry.Fixed) { $argv.Add($f) }
    # Sorted so the same call always gives the same argument vector.
    foreach ($name in ($entry.Parameters.Keys | Sort-Object)) {
        if ($Exclude -contains $name -or -not $BoundParameters.ContainsKey($name)) { continue }
        $spec = $entry.Parameters[$name]
        $value = $BoundParameters[$name]
        switch ($spec.Kind) {
            'Switch' {
                if ($value) { $argv.Add($spec.Flag) }
            }
            'Array' {
                foreach ($item in $value) { $argv.Add($spec.Flag); $argv.Add([string]::Format($inv, '{0}', $item)) }
            }
            'Path' {
                $argv.Add($spec.Flag)
                $argv.Add($SessionState.Path.GetUnresolvedProviderPathFromPSPath([string]$value))
            }
            'Lower' {
                $argv.Add($spec.Flag)
                $argv.Add(([string]$value).ToLowerInvariant())
            }
            'Hash' {
                # The vendor file and Graph write hmacsha1/hmacsha256; the binary takes sha1/sha256.
                $argv.Add($spec.Flag)
                $argv.Add((([string]$value).ToLowerInvariant() -replace '^hmac', ''))
            }
            'Uri' {
                $argv.Add($spec.Flag)
                $argv.Add(([uri]$value).AbsoluteUri.TrimEnd('/'))
            }
            'UnixTime' {
                $argv.Add($spec.Flag)
                $argv.Add(([DateTimeOffset]$value).ToUnixTimeSeconds().ToString($inv))
            }
            default {
                $argv.Add($spec.Flag)
                $argv.Add([string]::Format($inv, '{0}', $value))
            }
        }
    }
    foreach ($e in $Extra) { $argv.Add($e) }
    foreach ($p in $Positional) { $argv.Add($p) }
    , $argv.ToArray()
}

function Resolve-OathBulkCsvPath {
    <#
    .SYNOPSIS
    Resolves -Path (wildcards allowed) to full file-system paths.
    Writes a non-terminating error for paths that match nothing.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [AllowEmptyCollection()] [AllowEmptyString()] [string[]]$Path = @(),
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet,
        [switch]$Literal,
        # What the file is, for the not-found message.
        [string]$Kind = 'CSV file'
    )
    foreach ($p in $Path) {
        if (-not $p) { continue }
        # No throw/catch here: a caught exception would still land in the caller's -ErrorVariable.
        $notFound = $null
        if ($Literal) {
            $full = $Cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath($p)
            if (Test-Path -LiteralPath $full -PathType Leaf) { $full } else { $notFound = $p }
        } elseif (-not (Test-Path -Path $p -PathType Leaf)) {
            $notFound = $p
        } else {
            $provider = $null
            $resolved = $Cmdlet.SessionState.Path.GetResolvedProviderPathFromPSPath($p, [ref]$provider)
            if ($provider.Name -ne 'FileSystem') {
                $Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new(
                        [System.ArgumentException]::new("'$p' is not a file-system path."), 'OathBulk.NotFileSystem', 'InvalidArgument', $p))
                continue
            }
            $resolved
        }
        if ($notFound) {
            $Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new(
                    [System.Management.Automation.ItemNotFoundException]::new("Cannot find the $Kind '$notFound'."), 'OathBulk.PathNotFound', 'ObjectNotFound', $notFound))
        }
    }
}

function Get-OathBulkAuthEnvironment {
    <#
    .SYNOPSIS
    Works out how the binary authenticates. Returns @{ Environment; Arguments; Redact; Source }.
    Secrets only ever go into the child's environment (never argv), and are listed in Redact so
    that nothing the module prints can contain them.
    #>
    [CmdletBinding()]
    param(
        [securestring]$AccessToken,
        [pscredential]$Credential,
        [string]$TenantId,
        [string]$TokenFile,
        # Device-code sign-in (--device-code, passed by the command table): no token goes in.
        [switch]$UseDeviceCode,
        # The app registration (--client-id, passed by the command table).
        [string]$ClientId,
        # The cmdlet's -AuthorityUrl (--authority-url, passed by the command table).
        [uri]$AuthorityUrl,
        # A -Simulate run: the binary signs in to nothing.
        [switch]$Simulate,
        # No ambient session lookup (simulator runs, custom URLs, dry runs of the simulator).
        [switch]$NoAmbient
    )
    $envTable = @{}
    $argsOut = [System.Collections.Generic.List[string]]::new()
    $redact = [System.Collections.Generic.List[string]]::new()
    $source = 'none'

    if ($UseDeviceCode -and ($AccessToken -or $Credential -or $TokenFile)) {
        throw [System.ArgumentException]::new('-UseDeviceCode signs in interactively: do not combine it with -AccessToken, -Credential or -TokenFile.')
    }
    if ($ClientId -and $Credential) {
        throw [System.ArgumentException]::new('-Credential already names the client id (its user name): do not add -ClientId.')
    }

    if ($UseDeviceCode) {
        # The binary signs in itself (the message comes back as a warning); an inherited token
        # or client secret must not be mistaken for the sign-in asked for.
        $envTable['OATHBULK_TOKEN'] = $null
        $envTable['OATHBULK_CLIENT_SECRET'] = $null
        $source = 'DeviceCode'
    } elseif ($AccessToken) {
        $plain = [System.Net.NetworkCredential]::new('', $AccessToken).Password
        $envTable['OATHBULK_TOKEN'] = $plain
        $envTable['OATHBULK_CLIENT_SECRET'] = $null
        $redact.Add($plain)
        $source = 'AccessToken'
    } elseif ($Credential) {
        if (-not $TenantId) { throw [System.ArgumentException]::new('-Credential (client id and secret) needs -TenantId.') }
        $secret = $Credential.GetNetworkCredential().Password
        $envTable['OATHBULK_CLIENT_SECRET'] = $secret
        # An inherited bearer token must not win over the app-only credentials asked for.
        $envTable['OATHBULK_TOKEN'] = $null
        $redact.Add($secret)
        $argsOut.Add('--client-id'); $argsOut.Add($Credential.UserName)
        $source = 'Credential'
    } elseif ($TokenFile) {
        $source = 'TokenFile'
    } elseif (-not $ClientId -and -not $Simulate -and (Test-OathBulkCertificateSessionFits -TenantId $TenantId -AuthorityUrl $AuthorityUrl)) {
        # Connect-OathBulk -CertificateThumbprint: Invoke-OathBulkNative signs the assertion
        # when it starts the binary (--client-assertion-stdin). The cmdlet's own -TenantId and
        # -AuthorityUrl, when given, are the session's and already on the command line.
        $cs = $script:CertificateSession
        if (-not $TenantId) { $argsOut.Add('--tenant'); $argsOut.Add($cs.TenantId) }
        if (-not $AuthorityUrl -and $cs.AuthorityUrl) { $argsOut.Add('--authority-url'); $argsOut.Add($cs.AuthorityUrl) }
        $argsOut.Add('--client-id'); $argsOut.Add($cs.ClientId)
        $argsOut.Add('--client-assertion-stdin')
        # An inherited token or secret must not be mistaken for the sign-in Connect-OathBulk made.
        $envTable['OATHBULK_TOKEN'] = $null
        $envTable['OATHBULK_CLIENT_SECRET'] = $null
        $source = "Certificate $($cs.Certificate.Thumbprint)"
    } elseif ($env:OATHBULK_TOKEN) {
        $redact.Add($env:OATHBULK_TOKEN)
        $source = 'Environment'
    } elseif ($env:OATHBULK_CLIENT_SECRET) {
        $redact.Add($env:OATHBULK_CLIENT_SECRET)
        $source = 'Environment'
    } elseif (-not $NoAmbient) {
        $token = Get-OathBulkAmbientToken
        if ($token) {
            $envTable['OATHBULK_TOKEN'] = $token.Token
            $redact.Add($token.Token)
            $source = $token.Source
        }
    }
    @{ Environment = $envTable; Arguments = $argsOut.ToArray(); Redact = $redact.ToArray(); Source = $source }
}

function Test-OathBulkCertificateSessionFits {
    <#
    .SYNOPSIS
    Whether this session's certificate sign-in serves a cmdlet run with this -TenantId and
    -AuthorityUrl (none given, or the session's own: an assertion is for one token endpoint).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([string]$TenantId, [uri]$AuthorityUrl)
    $cs = $script:CertificateSession
    if (-not $cs) { return $false }
    if ($TenantId -and $TenantId -cne $cs.TenantId) { return $false }
    $authority = if ($AuthorityUrl) { $AuthorityUrl.AbsoluteUri.TrimEnd('/') }
    $authority -eq $cs.AuthorityUrl -or (-not $AuthorityUrl)
}

function Resolve-OathBulkCmdletAuth {
    <#
    .SYNOPSIS
    Credentials for a tenant cmdlet, from its bound parameters (-AccessToken, -Credential,
    -TenantId, -TokenFile, -UseDeviceCode, -ClientId). A bad combination is a terminating
    error of the calling cmdlet. An ambient Microsoft.Graph/Az token is only looked up when
    talking to the real Microsoft Graph (no -GraphUrl, -PortalUrl, -AuthorityUrl, -Simulate).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory)] [System.Collections.IDictionary]$BoundParameters
    )
    $b = $BoundParameters
    # Connect-OathBulk / Start-OathBulkSimulator: the session's endpoint and token, where the
    # call names none (the caller's own $PSBoundParameters: its argument vector gets them).
    Add-OathBulkContextDefault -Cmdlet $Cmdlet -BoundParameters $b
    $noAmbient = [bool]($b['Simulate'] -or $b['GraphUrl'] -or $b['PortalUrl'] -or $b['AuthorityUrl'])
    try {
        $auth = Get-OathBulkAuthEnvironment -AccessToken $b['AccessToken'] -Credential $b['Credential'] -TenantId $b['TenantId'] `
            -TokenFile $b['TokenFile'] -UseDeviceCode:([bool]$b['UseDeviceCode']) -ClientId $b['ClientId'] -AuthorityUrl $b['AuthorityUrl'] `
            -Simulate:([bool]$b['Simulate']) -NoAmbient:$noAmbient
    } catch {
        $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($_.Exception, 'OathBulk.InvalidCredential', 'InvalidArgument', $null))
    }
    Write-Verbose "OathBulk: credentials from $(Get-OathBulkCredentialSourceText -Source $auth.Source -BoundParameters $b)"
    $auth
}

function Test-OathBulkShouldProcess {
    <#
    .SYNOPSIS
    ShouldProcess for the tenant-writing cmdlets. Returns 'Run', 'DryRun' (-WhatIf: the caller
    passes --dry-run and shows the plan) or 'Skip' (declined). -Force skips the confirmation
    prompt but never overrides -WhatIf.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory)] [string]$Description,
        [Parameter(Mandatory)] [string]$Question,
        [switch]$Force,
        # The serials at stake, when known: the prompt names a few (briefly).
        [AllowEmptyCollection()] [string[]]$Serial = @()
    )
    # Say which tenant (a simulated one says so, in the prompt and the What if: line) and,
    # briefly, which tokens.
    $label = Get-OathBulkTenantLabel -BoundParameters $Cmdlet.MyInvocation.BoundParameters
    $Description, $Question = foreach ($text in $Description, $Question) {
        if ($text.Contains('in the tenant')) { $text.Replace('in the tenant', "in $label") } else { "$($text.TrimEnd('.', '?')) ($label)$(if ($text.EndsWith('?')) { '?' } else { '.' })" }
    }
    $Serial = @($Serial | Where-Object { $_ } | Select-Object -Unique)
    if ($Serial.Count) {
        $shown = ($Serial | Select-Object -First 5) -join ', '
        if ($Serial.Count -gt 5) { $shown += ", … ($($Serial.Count - 5) more)" }
        $Description += " Serials: $shown."
        $Question += " Serials: $shown."
    }
    $reason = [System.Management.Automation.ShouldProcessReason]::None
    # ShouldProcess reads $ConfirmPreference from the current scope chain (this function's,
    # then the cmdlet's): a local None skips the prompt, and leaves the caller's untouched.
    if ($Force -and -not $Cmdlet.MyInvocation.BoundParameters.ContainsKey('Confirm')) { $ConfirmPreference = 'None' }
    try {
        $approved = $Cmdlet.ShouldProcess($Description, $Question, $Cmdlet.MyInvocation.MyCommand.Name, [ref]$reason)
    } catch {
        # No one to ask (pwsh -NonInteractive, a scheduled task): the prompt throws. As
        # Microsoft's cmdlets do, that is the public cmdlet's terminating error (exit 1 for
        # `pwsh -Command`), never a private line's error followed by nothing done and exit 0.
        $name = $Cmdlet.MyInvocation.MyCommand.Name
        $ex = [System.InvalidOperationException]::new(
            "$name needs confirmation to change the tenant, and this session cannot prompt (PowerShell is in NonInteractive mode). Add -Force (or -Confirm:`$false) to run without a prompt, or -WhatIf to see the plan.", $_.Exception)
        $er = [System.Management.Automation.ErrorRecord]::new($ex, 'OathBulk.ConfirmationRequired', 'InvalidOperation', $null)
        $er.ErrorDetails = [System.Management.Automation.ErrorDetails]::new($ex.Message)
        $er.ErrorDetails.RecommendedAction = "Run $name again with -Force (or -Confirm:`$false), or with -WhatIf for a dry run."
        $Cmdlet.ThrowTerminatingError($er)
    }
    if ($approved) { return 'Run' }
    if ($reason -eq [System.Management.Automation.ShouldProcessReason]::WhatIf) { return 'DryRun' }
    'Skip'
}

function Get-OathBulkAmbientToken {
    <#
    .SYNOPSIS
    A Microsoft Graph bearer token from an existing Microsoft.Graph (Connect-MgGraph) or Az
    (Connect-AzAccount) session, when one of those modules is loaded and signed in.
    #>
    [CmdletBinding()]
    param()
    if ((Get-Command -Name Get-MgContext -ErrorAction Ignore) -and (Get-Command -Name Invoke-MgGraphRequest -ErrorAction Ignore)) {
        try {
            if (Get-MgContext) {
                $response = Invoke-MgGraphRequest -Method GET -Uri 'https://graph.microsoft.com/v1.0/organization?$select=id' -OutputType HttpResponseMessage -ErrorAction Stop
                $auth = $response.RequestMessage.Headers.Authorization
                if ($auth -and $auth.Parameter) { return @{ Token = $auth.Parameter; Source = 'Microsoft.Graph' } }
            }
        } catch {
            Write-Verbose "OathBulk: no token from the Microsoft.Graph session ($($_.Exception.Message))"
        }
    }
    if (Get-Command -Name Get-AzAccessToken -ErrorAction Ignore) {
        try {
            $az = Get-AzAccessToken -ResourceUrl 'https://graph.microsoft.com' -ErrorAction Stop
            $t = $az.Token
            if ($t -is [securestring]) { $t = [System.Net.NetworkCredential]::new('', $t).Password }
            if ($t) { return @{ Token = [string]$t; Source = 'Az.Accounts' } }
        } catch {
            Write-Verbose "OathBulk: no token from the Az session ($($_.Exception.Message))"
        }
    }
    $null
}

function Get-OathBulkCredentialSourceText {
    <#
    .SYNOPSIS
    Where the binary's credentials really come from, for -Verbose: the module's own source, or
    (none given to it) what the binary falls back to: a kept Connect-OathBulk sign-in, or
    ./AuthKey.txt in its working directory.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [string]$Source, [System.Collections.IDictionary]$BoundParameters = @{})
    if ($Source -ne 'none') {
        if ($Source -eq 'AccessToken' -and $script:Context -and $script:Context['AccessToken'] -and
            [object]::ReferenceEquals($BoundParameters['AccessToken'], $script:Context['AccessToken'])) {
            return "the session ($($script:Context['AuthType']); Get-OathBulkContext)"
        }
        switch -Regex ($Source) {
            '^DeviceCode$' { return '-UseDeviceCode' }
            '^(AccessToken|Credential|TokenFile)$' { return "-$Source" }
            '^Environment$' { return '$env:OATHBULK_TOKEN / $env:OATHBULK_CLIENT_SECRET' }
            '^Certificate ' { return "Connect-OathBulk ($Source)" }
            default { return "the $Source session" }
        }
    }
    if ($BoundParameters['Simulate']) { return 'none needed (-Simulate)' }
    # The binary's own fallbacks, in its order: ./AuthKey.txt in its working directory (this
    # process's, which is not always PowerShell's current location), then a kept sign-in.
    $keyFile = Join-Path ([Environment]::CurrentDirectory) 'AuthKey.txt'
    if (Test-Path -LiteralPath $keyFile -PathType Leaf) { return "$keyFile (read by the binary: no credential given to the cmdlet)" }
    'the sign-in kept by Connect-OathBulk, if any (no credential given to the cmdlet)'
}
