# The declarative map (Crescendo-style): cmdlet -> subcommand -> parameter -> flag, and the
# parameters themselves. Read once at import by Import-OathBulkCommandTable (Private/Cmdlets.ps1).
#
# Shared       the parameters several cmdlets have, each declared ONCE:
#   Parameters   id -> @{ Declare (attributes and type, as in a param block, without
#                [Parameter()]); Parameter (the [Parameter()] attributes' arguments, one string
#                each; none: a plain parameter); Name (when not the id); Flag and Kind (how the
#                binary takes it; none: the module handles it) }
#   Groups       name -> ids, in declaration order
#   HelpUri      the online help; '#<cmdlet name, lower case>' is appended
#
# A cmdlet's entry:
#   Subcommand  the oathbulk subcommand the cmdlet runs.
#   Output      record types written to the pipeline as they arrive (everything else —
#               row_error, warning, summary, error statuses — is handled by the runner).
#   Fixed       flags always passed (the module always reads JSON).
#   Writes      the subcommand writes to the tenant: stopped early, it gets SIGINT and time to
#               settle and journal (like Ctrl+C) instead of being killed.
#   Declare     its parameters, in order: a group or shared parameter id, `id@Set` to place it
#               in that parameter set (a group: each of its parameters), or a declaration of
#               its own ('[string]$Name'). A cmdlet with a file in Public/ declares its own
#               parameters there; these are appended to its param block at import.
#   Parameters  PowerShell parameter name -> @{ Flag; Kind } for the cmdlet's own parameters
#               (the shared ones bring theirs). Kinds:
#                 Value    --flag <value as string>
#                 Lower    --flag <value lower-cased> (enums)
#                 Hash     --flag sha1|sha256 (hmacsha1/hmacsha256 as the vendor file writes)
#                 Switch   --flag when the switch is present
#                 Path     --flag <full file-system path> (resolved against $PWD)
#                 Uri      --flag <absolute URI>
#                 UnixTime --flag <Unix seconds> from a [DateTimeOffset]
#                 Array    --flag <item> once per item
#               Parameters with no flag (-Path for the CSV, credentials, -PassThruSummary,
#               -Force, …) are handled by the runner or the cmdlet itself.
#   Binding, OutputType, Runner
#               a cmdlet with no file in Public/ is made at import from these: its
#               [CmdletBinding()] arguments, its [OutputType()] arguments, and what its end
#               block, Invoke-OathBulkRunner (Private/Runners.ps1), reads: PathlessMode,
#               SerialAlone, SignIn, SerialFlag, Action, Effect; Journals (its input is run
#               journals, not rows: Undo-OathBulkRun). Its begin/process blocks bind
#               the pipeline (OathBulk.Native.InputBinder).
@{
    Shared                           = @{
        HelpUri    = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md'
        Parameters = @{
            Path          = @{ Parameter = @('Position = 0'); Declare = '[SupportsWildcards()] [ValidateNotNullOrEmpty()] [string[]]' }
            LiteralPath   = @{ Declare = '[Alias(''LP'')] [ValidateNotNullOrEmpty()] [string[]]' }
            InputObject   = @{ Parameter = @('ValueFromPipeline'); Declare = '[psobject]' }
            # A token by serial: narrows -Path to it, or (the Serial set) one tenant token alone.
            TokenSerial   = @{ Name = 'Serial'; Parameter = @('ParameterSetName = ''Path''', 'Mandatory, ParameterSetName = ''Serial'''); Declare = '[Alias(''SerialNumber'')] [string]' }
            TokenUpn      = @{ Name = 'Upn'; Parameter = @('ParameterSetName = ''Serial'''); Declare = '[ValidateNotNullOrEmpty()] [Alias(''UserPrincipalName'')] [string]'; Flag = '--upn'; Kind = 'Value' }
            Where         = @{ Declare = '[ValidateNotNullOrEmpty()] [string]'; Flag = '--where'; Kind = 'Value' }
            OrderBy       = @{ Declare = '[ValidateNotNullOrEmpty()] [string]'; Flag = '--order-by'; Kind = 'Value' }
            Script        = @{ Declare = '[ValidateNotNullOrEmpty()] [string]'; Flag = '--script'; Kind = 'Path' }
            SecretFormat  = @{ Declare = '[ValidateSet(''base32'', ''hex'')] [string]'; Flag = '--secret-format'; Kind = 'Lower' }
            Hash          = @{ Declare = '[ValidateSet(''sha1'', ''sha256'', ''hmacsha1'', ''hmacsha256'')] [string]'; Flag = '--hash'; Kind = 'Hash' }
            # Sent on the binary's stdin by Invoke-OathBulkNative -SeedPassword, never as a flag.
            Password      = @{ Declare = '[securestring]' }
            PskcKeyFile   = @{ Declare = '[ValidateNotNullOrEmpty()] [string]'; Flag = '--pskc-key-file'; Kind = 'Path' }
            AssignCsv     = @{ Declare = '[ValidateNotNullOrEmpty()] [string]'; Flag = '--assign-csv'; Kind = 'Path' }
            Backend       = @{ Declare = '[ValidateSet(''graph'', ''portal'')] [string]'; Flag = '--backend'; Kind = 'Lower' }
            GraphUrl      = @{ Declare = '[uri]'; Flag = '--graph-url'; Kind = 'Uri' }
            PortalUrl     = @{ Declare = '[uri]'; Flag = '--portal-url'; Kind = 'Uri' }
            PortalCloud   = @{ Declare = '[ValidateSet(''public'', ''usgov'')] [string]'; Flag = '--portal-cloud'; Kind = 'Lower' }
            AuthorityUrl  = @{ Declare = '[uri]'; Flag = '--authority-url'; Kind = 'Uri' }
            Simulate      = @{ Declare = '[switch]'; Flag = '--simulate'; Kind = 'Switch' }
            SeedPath      = @{ Declare = '[string]'; Flag = '--seed'; Kind = 'Path' }
            Parallel      = @{ Declare = '[ValidateRange(1, 64)] [int]'; Flag = '--parallel'; Kind = 'Value' }
            MaxRate       = @{ Declare = '[ValidateRange(0.001, 100000)] [double]'; Flag = '--max-rate'; Kind = 'Value' }
            MinValidity   = @{ Declare = '[ValidateRange(1, 25)] [int]'; Flag = '--min-validity'; Kind = 'Value' }
            Journal       = @{ Declare = '[string]'; Flag = '--journal'; Kind = 'Path' }
            Resume        = @{ Declare = '[switch]'; Flag = '--resume'; Kind = 'Switch' }
            ErrorLog      = @{ Declare = '[string]'; Flag = '--error-log'; Kind = 'Path' }
            AnyHolder     = @{ Declare = '[switch]'; Flag = '--any-holder'; Kind = 'Switch' }
            # Credentials go in the child's environment or stdin (Get-OathBulkAuthEnvironment).
            AccessToken   = @{ Declare = '[securestring]' }
            Credential    = @{ Declare = '[pscredential]' }
            TenantId      = @{ Declare = '[string]'; Flag = '--tenant'; Kind = 'Value' }
            TokenFile     = @{ Declare = '[string]'; Flag = '--token-file'; Kind = 'Path' }
            UseDeviceCode = @{ Declare = '[switch]'; Flag = '--device-code'; Kind = 'Switch' }
            ClientId      = @{ Declare = '[ValidateNotNullOrEmpty()] [string]'; Flag = '--client-id'; Kind = 'Value' }
            RevealSecrets = @{ Declare = '[switch]'; Flag = '--reveal-secrets'; Kind = 'Switch' }
            Quiet         = @{ Declare = '[switch]' }
            Force         = @{ Declare = '[switch]' }
            FailAtEnd     = @{ Declare = '[switch]' }
            PassThruSummary = @{ Declare = '[switch]' }
        }
        Groups     = @{
            # The seed file: given, or piped (rows, files, paths).
            Input    = @('Path', 'LiteralPath', 'InputObject')
            Rows     = @('Where', 'OrderBy', 'Script')
            Seeds    = @('SecretFormat', 'Hash', 'Password', 'PskcKeyFile', 'AssignCsv')
            Tenant   = @('Backend', 'GraphUrl', 'PortalUrl', 'PortalCloud', 'AuthorityUrl', 'Simulate')
            Pace     = @('Parallel', 'MaxRate', 'Journal', 'Resume')
            SignIn   = @('AccessToken', 'Credential', 'TenantId', 'TokenFile', 'UseDeviceCode', 'ClientId')
            Outcome  = @('Force', 'FailAtEnd', 'PassThruSummary')
            # Disable-, Remove-OathBulkTokenAssignment, Remove-OathBulkTenantToken: a CSV, piped
            # tokens, or one token by serial.
            Lifecycle = @('Path@Path', 'LiteralPath@Path', 'InputObject', 'TokenSerial', 'TokenUpn', 'Rows@Path', 'Tenant', 'Pace', 'AnyHolder@Path', 'SignIn', 'Outcome')
        }
    }
    'Import-OathBulkToken'           = @{
        Subcommand = 'list'
        Output     = @('token')
        Fixed      = @('--format', 'json')
        Binding    = ''
        OutputType = '''OathBulk.Token'''
        Runner     = @{}
        Declare    = @('Input', 'Rows', 'Seeds', 'RevealSecrets', 'PassThruSummary')
        Parameters = @{}
    }
    'Get-OathBulkCode'               = @{
        Subcommand = 'otp'
        Output     = @('otp')
        Fixed      = @('--format', 'json')
        Binding    = ''
        OutputType = '''OathBulk.Otp'''
        Runner     = @{}
        Declare    = @('Input', 'Rows', 'Seeds', '[DateTimeOffset]$At', '[int]$ClockOffset', 'RevealSecrets', 'PassThruSummary')
        Parameters = @{
            At          = @{ Flag = '--at'; Kind = 'UnixTime' }
            ClockOffset = @{ Flag = '--clock-offset'; Kind = 'Value' }
        }
    }
    'Test-OathBulkCsv'               = @{
        Subcommand = 'check'
        Output     = @('finding')
        Fixed      = @('--format', 'json')
        Binding    = ''
        OutputType = '''OathBulk.Finding'', [bool]'
        Runner     = @{}
        Declare    = @('Input', 'Rows', 'Seeds', 'Quiet', 'PassThruSummary')
        Parameters = @{}
    }
    'Get-OathBulkUser'               = @{
        Subcommand = 'users'
        Output     = @('user')
        Fixed      = @('--format', 'json')
        Binding    = ''
        OutputType = '''OathBulk.User'''
        # Offline unless -WithTenant: then it signs in like the tenant cmdlets.
        Runner     = @{ SignIn = 'WithTenant' }
        Declare    = @('Input', '[switch]$WithTenant', 'Rows', 'Seeds', 'Tenant', 'SignIn', 'PassThruSummary')
        Parameters = @{
            WithTenant = @{ Flag = '--with-tenant'; Kind = 'Switch' }
        }
    }
    'Enable-OathBulkToken'           = @{
        Subcommand = 'activate'
        Writes     = $true
        Output     = @('activation')
        Fixed      = @('--format', 'json')
        Binding    = 'SupportsShouldProcess, ConfirmImpact = ''Medium'', DefaultParameterSetName = ''Path'''
        OutputType = '''OathBulk.Activation'''
        # SerialFlag: activate takes --serial with a CSV (one piped serial goes as --serial).
        Runner     = @{ PathlessMode = 'Rows'; Action = 'Activate'; SerialFlag = $true }
        Declare    = @(
            'Input@Path'
            '[Parameter(ParameterSetName = ''Path'')] [Parameter(Mandatory, ParameterSetName = ''Token'')] [Alias(''SerialNumber'')] [string]$Serial'
            '[Parameter(Mandatory, ParameterSetName = ''Token'')] [ValidatePattern(''^\d{6}$'', ErrorMessage = ''A verification code is exactly six digits, as a string (quote it to keep leading zeros).'')] [string]$Code'
            '[Alias(''UserPrincipalName'')] [ValidateNotNullOrEmpty()] [string]$Upn'
            'Rows@Path', 'Seeds@Path', 'Tenant', 'Pace', 'MinValidity', 'ErrorLog', 'SignIn', 'Outcome'
        )
        Parameters = @{
            Code = @{ Flag = '--code'; Kind = 'Value' }
            Upn  = @{ Flag = '--upn'; Kind = 'Value' }
        }
    }
    'New-OathBulkTenantToken'        = @{
        Subcommand = 'import'
        Writes     = $true
        Output     = @('import', 'activation')
        Fixed      = @('--format', 'json')
        Binding    = 'SupportsShouldProcess, ConfirmImpact = ''Medium'''
        OutputType = '''OathBulk.Import'', ''OathBulk.Activation'''
        # What ShouldProcess asks: the first switch given that names one, else Default.
        Runner     = @{ PathlessMode = 'Rows'; Action = @{ Activate = 'Import, assign and activate'; Assign = 'Import and assign'; Default = 'Import' } }
        Declare    = @('Input', '[Alias(''SerialNumber'')] [string]$Serial', '[switch]$Assign', '[switch]$Activate', 'Rows', 'Seeds', 'Tenant', 'Pace', 'MinValidity', 'ErrorLog', 'SignIn', 'Outcome')
        Parameters = @{
            Assign   = @{ Flag = '--assign'; Kind = 'Switch' }
            Activate = @{ Flag = '--activate'; Kind = 'Switch' }
        }
    }
    'Disable-OathBulkToken'          = @{
        Subcommand = 'deactivate'
        Writes     = $true
        Output     = @('change')
        Fixed      = @('--format', 'json')
        Binding    = 'SupportsShouldProcess, ConfirmImpact = ''Medium'', DefaultParameterSetName = ''Path'''
        OutputType = '''OathBulk.Change'''
        Runner     = @{ PathlessMode = 'Tokens'; SerialAlone = $true; Action = 'Deactivate'; Effect = 'the tokens stay assigned but no longer sign in' }
        Declare    = @('Lifecycle')
        Parameters = @{}
    }
    'Remove-OathBulkTokenAssignment' = @{
        Subcommand = 'unassign'
        Writes     = $true
        Output     = @('change')
        Fixed      = @('--format', 'json')
        Binding    = 'SupportsShouldProcess, ConfirmImpact = ''High'', DefaultParameterSetName = ''Path'''
        OutputType = '''OathBulk.Change'''
        Runner     = @{ PathlessMode = 'Tokens'; SerialAlone = $true; Action = 'Unassign'; Effect = 'the tokens go back to available and their users lose them' }
        Declare    = @('Lifecycle')
        Parameters = @{}
    }
    'Remove-OathBulkTenantToken'     = @{
        Subcommand = 'remove'
        Writes     = $true
        Output     = @('change')
        Fixed      = @('--format', 'json')
        Binding    = 'SupportsShouldProcess, ConfirmImpact = ''High'', DefaultParameterSetName = ''Path'''
        OutputType = '''OathBulk.Change'''
        Runner     = @{ PathlessMode = 'Tokens'; SerialAlone = $true; Action = 'Remove'; Effect = 'the tokens are deleted from the tenant inventory' }
        Declare    = @('Lifecycle')
        Parameters = @{}
    }
    'Get-OathBulkTenantToken'        = @{
        Subcommand = 'tenant'
        Output     = @('tenant_token')
        Fixed      = @('--format', 'json')
        Declare    = @('Tenant', 'SeedPath', 'SignIn', 'PassThruSummary')
        Parameters = @{
            Serial = @{ Flag = '--serial'; Kind = 'Array' }
            Status = @{ Flag = '--status'; Kind = 'Value' }
        }
    }
    'Test-OathBulkPrerequisite'      = @{
        Subcommand = 'doctor'
        Output     = @('check')
        Fixed      = @('--format', 'json')
        Declare    = @('SecretFormat', 'Hash', 'MaxRate', 'Tenant', 'SignIn', 'Quiet', 'PassThruSummary')
        Parameters = @{}
    }
    'Undo-OathBulkRun'               = @{
        Subcommand = 'undo'
        Writes     = $true
        Output     = @('change')
        Fixed      = @('--format', 'json')
        Binding    = 'SupportsShouldProcess, ConfirmImpact = ''High'''
        OutputType = '''OathBulk.Change'''
        # Its input is journals, not rows: one run per journal (Invoke-OathBulkJournalRun).
        Runner     = @{ Journals = $true }
        Declare    = @(
            '[Parameter(Position = 0)] [Alias(''LiteralPath'')] [ValidateNotNullOrEmpty()] [string]$Journal'
            # The seed CSV (--csv): what re-activating a deactivated token needs.
            '[ValidateNotNullOrEmpty()] [string]$Path'
            'InputObject', '[string]$UndoJournal', 'MaxRate', 'Tenant', 'SignIn', 'Force', 'PassThruSummary'
        )
        Parameters = @{
            Journal     = @{ Flag = '--journal'; Kind = 'Path' }
            Path        = @{ Flag = '--csv'; Kind = 'Path' }
            UndoJournal = @{ Flag = '--undo-journal'; Kind = 'Path' }
        }
    }
    'Connect-OathBulk'               = @{
        Subcommand = 'login'
        Output     = @()
        Fixed      = @('--progress', 'json')
        Parameters = @{
            TenantId     = @{ Flag = '--tenant'; Kind = 'Value' }
            ClientId     = @{ Flag = '--client-id'; Kind = 'Value' }
            AuthorityUrl = @{ Flag = '--authority-url'; Kind = 'Uri' }
            Backend      = @{ Flag = '--backend'; Kind = 'Lower' }
        }
    }
    'Disconnect-OathBulk'            = @{
        Subcommand = 'logout'
        Output     = @()
        Fixed      = @('--progress', 'json')
        Parameters = @{
            TenantId     = @{ Flag = '--tenant'; Kind = 'Value' }
            ClientId     = @{ Flag = '--client-id'; Kind = 'Value' }
            AuthorityUrl = @{ Flag = '--authority-url'; Kind = 'Uri' }
        }
    }
    'Start-OathBulkSimulator'        = @{
        Subcommand = 'simulate'
        Output     = @()
        Fixed      = @()
        Parameters = @{
            Path              = @{ Flag = '--csv'; Kind = 'Path' }
            Listen            = @{ Flag = '--listen'; Kind = 'Value' }
            TokenFile         = @{ Flag = '--token-file'; Kind = 'Path' }
            LatencyMs         = @{ Flag = '--latency-ms'; Kind = 'Value' }
            RateLimit         = @{ Flag = '--rate-limit'; Kind = 'Value' }
            FailRate          = @{ Flag = '--fail-rate'; Kind = 'Value' }
            ClockOffset       = @{ Flag = '--clock-offset'; Kind = 'Value' }
            ExpireTokenAfter  = @{ Flag = '--expire-token-after'; Kind = 'Value' }
            Forbidden         = @{ Flag = '--forbidden'; Kind = 'Switch' }
            StateOut          = @{ Flag = '--state-out'; Kind = 'Path' }
            SecretFormat      = @{ Flag = '--secret-format'; Kind = 'Lower' }
            Hash              = @{ Flag = '--hash'; Kind = 'Hash' }
            AssignedFraction  = @{ Flag = '--assigned-fraction'; Kind = 'Value' }
            ActivatedFraction = @{ Flag = '--activated-fraction'; Kind = 'Value' }
            RandomSeed        = @{ Flag = '--seed'; Kind = 'Value' }
            DropRate          = @{ Flag = '--drop-rate'; Kind = 'Value' }
            ClientId          = @{ Flag = '--client-id'; Kind = 'Value' }
            ClientSecretFile  = @{ Flag = '--client-secret-file'; Kind = 'Path' }
            ClientCertificate = @{ Flag = '--client-certificate'; Kind = 'Path' }
        }
    }
    # Issue 30: the helpdesk view and the run report.
    'Get-OathBulkTokenStatus'        = @{
        Subcommand = 'status'
        Output     = @('token_status')
        Fixed      = @('--format', 'json')
        Declare    = @('Tenant', 'SeedPath', 'SignIn', 'PassThruSummary')
        Parameters = @{
            Serial  = @{ Flag = '--serial'; Kind = 'Array' }
            Upn     = @{ Flag = '--upn'; Kind = 'Array' }
            CsvPath = @{ Flag = '--csv'; Kind = 'Path' }
        }
    }
    'Export-OathBulkReport'          = @{
        Subcommand = 'report'
        Output     = @()
        Fixed      = @('--format', 'json')
        Parameters = @{
            OutFile = @{ Flag = '--html'; Kind = 'Path' }
        }
    }
}
