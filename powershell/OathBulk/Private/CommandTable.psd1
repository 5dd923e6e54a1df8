# The declarative map (Crescendo-style): cmdlet -> subcommand -> parameter -> flag.
#
#   Subcommand  the oathbulk subcommand the cmdlet runs.
#   Output      record types written to the pipeline as they arrive (everything else —
#               row_error, warning, summary, error statuses — is handled by the runner).
#   Fixed       flags always passed (the module always reads JSON).
#   Writes      the subcommand writes to the tenant: stopped early, it gets SIGINT and time to
#               settle and journal (like Ctrl+C) instead of being killed.
#   Parameters  PowerShell parameter name -> @{ Flag; Kind }. Kinds:
#                 Value    --flag <value as string>
#                 Lower    --flag <value lower-cased> (enums)
#                 Switch   --flag when the switch is present
#                 Path     --flag <full file-system path> (resolved against $PWD)
#                 Uri      --flag <absolute URI>
#                 UnixTime --flag <Unix seconds> from a [DateTimeOffset]
#                 Array    --flag <item> once per item
#               Parameters not listed here (-Path for the CSV, credentials, -PassThruSummary,
#               -Force, …) are handled by the cmdlet itself.
@{
    'Import-OathBulkToken'    = @{
        Subcommand = 'list'
        Output     = @('token')
        Fixed      = @('--format', 'json')
        Parameters = @{
            Where         = @{ Flag = '--where'; Kind = 'Value' }
            OrderBy       = @{ Flag = '--order-by'; Kind = 'Value' }
            Script        = @{ Flag = '--script'; Kind = 'Path' }
            SecretFormat  = @{ Flag = '--secret-format'; Kind = 'Lower' }
            Hash          = @{ Flag = '--hash'; Kind = 'Hash' }
            PskcKeyFile  = @{ Flag = '--pskc-key-file'; Kind = 'Path' }
            AssignCsv    = @{ Flag = '--assign-csv'; Kind = 'Path' }
            RevealSecrets = @{ Flag = '--reveal-secrets'; Kind = 'Switch' }
        }
    }
    'Get-OathBulkCode'        = @{
        Subcommand = 'otp'
        Output     = @('otp')
        Fixed      = @('--format', 'json')
        Parameters = @{
            Where         = @{ Flag = '--where'; Kind = 'Value' }
            OrderBy       = @{ Flag = '--order-by'; Kind = 'Value' }
            Script        = @{ Flag = '--script'; Kind = 'Path' }
            SecretFormat  = @{ Flag = '--secret-format'; Kind = 'Lower' }
            Hash          = @{ Flag = '--hash'; Kind = 'Hash' }
            PskcKeyFile  = @{ Flag = '--pskc-key-file'; Kind = 'Path' }
            AssignCsv    = @{ Flag = '--assign-csv'; Kind = 'Path' }
            RevealSecrets = @{ Flag = '--reveal-secrets'; Kind = 'Switch' }
            At            = @{ Flag = '--at'; Kind = 'UnixTime' }
            ClockOffset   = @{ Flag = '--clock-offset'; Kind = 'Value' }
        }
    }
    'Test-OathBulkCsv'        = @{
        Subcommand = 'check'
        Output     = @('finding')
        Fixed      = @('--format', 'json')
        Parameters = @{
            Where        = @{ Flag = '--where'; Kind = 'Value' }
            OrderBy      = @{ Flag = '--order-by'; Kind = 'Value' }
            Script       = @{ Flag = '--script'; Kind = 'Path' }
            SecretFormat = @{ Flag = '--secret-format'; Kind = 'Lower' }
            Hash         = @{ Flag = '--hash'; Kind = 'Hash' }
            PskcKeyFile  = @{ Flag = '--pskc-key-file'; Kind = 'Path' }
            AssignCsv    = @{ Flag = '--assign-csv'; Kind = 'Path' }
        }
    }
    'Enable-OathBulkToken'    = @{
        Subcommand = 'activate'
        Writes     = $true
        Output     = @('activation')
        Fixed      = @('--format', 'json')
        Parameters = @{
            Where        = @{ Flag = '--where'; Kind = 'Value' }
            OrderBy      = @{ Flag = '--order-by'; Kind = 'Value' }
            Script       = @{ Flag = '--script'; Kind = 'Path' }
            SecretFormat = @{ Flag = '--secret-format'; Kind = 'Lower' }
            Hash         = @{ Flag = '--hash'; Kind = 'Hash' }
            PskcKeyFile  = @{ Flag = '--pskc-key-file'; Kind = 'Path' }
            AssignCsv    = @{ Flag = '--assign-csv'; Kind = 'Path' }
            Backend      = @{ Flag = '--backend'; Kind = 'Lower' }
            GraphUrl     = @{ Flag = '--graph-url'; Kind = 'Uri' }
            PortalUrl    = @{ Flag = '--portal-url'; Kind = 'Uri' }
            AuthorityUrl = @{ Flag = '--authority-url'; Kind = 'Uri' }
            TenantId     = @{ Flag = '--tenant'; Kind = 'Value' }
            TokenFile    = @{ Flag = '--token-file'; Kind = 'Path' }
            Simulate     = @{ Flag = '--simulate'; Kind = 'Switch' }
            Parallel     = @{ Flag = '--parallel'; Kind = 'Value' }
            MaxRate      = @{ Flag = '--max-rate'; Kind = 'Value' }
            Journal      = @{ Flag = '--journal'; Kind = 'Path' }
            Resume       = @{ Flag = '--resume'; Kind = 'Switch' }
            ErrorLog     = @{ Flag = '--error-log'; Kind = 'Path' }
            MinValidity  = @{ Flag = '--min-validity'; Kind = 'Value' }
            PortalCloud  = @{ Flag = '--portal-cloud'; Kind = 'Lower' }
            Code          = @{ Flag = '--code'; Kind = 'Value' }
            Upn           = @{ Flag = '--upn'; Kind = 'Value' }
            UseDeviceCode = @{ Flag = '--device-code'; Kind = 'Switch' }
            ClientId      = @{ Flag = '--client-id'; Kind = 'Value' }
        }
    }
    'Get-OathBulkTenantToken' = @{
        Subcommand = 'tenant'
        Output     = @('tenant_token')
        Fixed      = @('--format', 'json')
        Parameters = @{
            Backend      = @{ Flag = '--backend'; Kind = 'Lower' }
            GraphUrl     = @{ Flag = '--graph-url'; Kind = 'Uri' }
            PortalUrl    = @{ Flag = '--portal-url'; Kind = 'Uri' }
            AuthorityUrl = @{ Flag = '--authority-url'; Kind = 'Uri' }
            TenantId     = @{ Flag = '--tenant'; Kind = 'Value' }
            TokenFile    = @{ Flag = '--token-file'; Kind = 'Path' }
            Simulate     = @{ Flag = '--simulate'; Kind = 'Switch' }
            PortalCloud  = @{ Flag = '--portal-cloud'; Kind = 'Lower' }
            Serial       = @{ Flag = '--serial'; Kind = 'Array' }
            Status       = @{ Flag = '--status'; Kind = 'Value' }
            SeedPath     = @{ Flag = '--seed'; Kind = 'Path' }
            UseDeviceCode = @{ Flag = '--device-code'; Kind = 'Switch' }
            ClientId      = @{ Flag = '--client-id'; Kind = 'Value' }
        }
    }
    'Get-OathBulkUser'        = @{
        Subcommand = 'users'
        Output     = @('user')
        Fixed      = @('--format', 'json')
        Parameters = @{
            Where         = @{ Flag = '--where'; Kind = 'Value' }
            OrderBy       = @{ Flag = '--order-by'; Kind = 'Value' }
            Script        = @{ Flag = '--script'; Kind = 'Path' }
            SecretFormat  = @{ Flag = '--secret-format'; Kind = 'Lower' }
            Hash          = @{ Flag = '--hash'; Kind = 'Hash' }
            PskcKeyFile  = @{ Flag = '--pskc-key-file'; Kind = 'Path' }
            AssignCsv    = @{ Flag = '--assign-csv'; Kind = 'Path' }
            WithTenant    = @{ Flag = '--with-tenant'; Kind = 'Switch' }
            Backend       = @{ Flag = '--backend'; Kind = 'Lower' }
            GraphUrl      = @{ Flag = '--graph-url'; Kind = 'Uri' }
            PortalUrl     = @{ Flag = '--portal-url'; Kind = 'Uri' }
            PortalCloud   = @{ Flag = '--portal-cloud'; Kind = 'Lower' }
            AuthorityUrl  = @{ Flag = '--authority-url'; Kind = 'Uri' }
            Simulate      = @{ Flag = '--simulate'; Kind = 'Switch' }
            TenantId      = @{ Flag = '--tenant'; Kind = 'Value' }
            TokenFile     = @{ Flag = '--token-file'; Kind = 'Path' }
            UseDeviceCode = @{ Flag = '--device-code'; Kind = 'Switch' }
            ClientId      = @{ Flag = '--client-id'; Kind = 'Value' }
        }
    }
    'Test-OathBulkPrerequisite' = @{
        Subcommand = 'doctor'
        Output     = @('check')
        Fixed      = @('--format', 'json')
        Parameters = @{
            SecretFormat  = @{ Flag = '--secret-format'; Kind = 'Lower' }
            Hash          = @{ Flag = '--hash'; Kind = 'Hash' }
            MaxRate       = @{ Flag = '--max-rate'; Kind = 'Value' }
            Backend       = @{ Flag = '--backend'; Kind = 'Lower' }
            GraphUrl      = @{ Flag = '--graph-url'; Kind = 'Uri' }
            PortalUrl     = @{ Flag = '--portal-url'; Kind = 'Uri' }
            PortalCloud   = @{ Flag = '--portal-cloud'; Kind = 'Lower' }
            AuthorityUrl  = @{ Flag = '--authority-url'; Kind = 'Uri' }
            Simulate      = @{ Flag = '--simulate'; Kind = 'Switch' }
            TenantId      = @{ Flag = '--tenant'; Kind = 'Value' }
            TokenFile     = @{ Flag = '--token-file'; Kind = 'Path' }
            UseDeviceCode = @{ Flag = '--device-code'; Kind = 'Switch' }
            ClientId      = @{ Flag = '--client-id'; Kind = 'Value' }
        }
    }
    'New-OathBulkTenantToken' = @{
        Subcommand = 'import'
        Writes     = $true
        Output     = @('import', 'activation')
        Fixed      = @('--format', 'json')
        Parameters = @{
            Where         = @{ Flag = '--where'; Kind = 'Value' }
            OrderBy       = @{ Flag = '--order-by'; Kind = 'Value' }
            Script        = @{ Flag = '--script'; Kind = 'Path' }
            SecretFormat  = @{ Flag = '--secret-format'; Kind = 'Lower' }
            Hash          = @{ Flag = '--hash'; Kind = 'Hash' }
            PskcKeyFile  = @{ Flag = '--pskc-key-file'; Kind = 'Path' }
            AssignCsv    = @{ Flag = '--assign-csv'; Kind = 'Path' }
            Assign        = @{ Flag = '--assign'; Kind = 'Switch' }
            Activate      = @{ Flag = '--activate'; Kind = 'Switch' }
            Backend       = @{ Flag = '--backend'; Kind = 'Lower' }
            GraphUrl      = @{ Flag = '--graph-url'; Kind = 'Uri' }
            PortalUrl     = @{ Flag = '--portal-url'; Kind = 'Uri' }
            PortalCloud   = @{ Flag = '--portal-cloud'; Kind = 'Lower' }
            AuthorityUrl  = @{ Flag = '--authority-url'; Kind = 'Uri' }
            Simulate      = @{ Flag = '--simulate'; Kind = 'Switch' }
            TenantId      = @{ Flag = '--tenant'; Kind = 'Value' }
            TokenFile     = @{ Flag = '--token-file'; Kind = 'Path' }
            UseDeviceCode = @{ Flag = '--device-code'; Kind = 'Switch' }
            ClientId      = @{ Flag = '--client-id'; Kind = 'Value' }
            Parallel      = @{ Flag = '--parallel'; Kind = 'Value' }
            MaxRate       = @{ Flag = '--max-rate'; Kind = 'Value' }
            Journal       = @{ Flag = '--journal'; Kind = 'Path' }
            Resume        = @{ Flag = '--resume'; Kind = 'Switch' }
            MinValidity   = @{ Flag = '--min-validity'; Kind = 'Value' }
            ErrorLog      = @{ Flag = '--error-log'; Kind = 'Path' }
        }
    }
    'Disable-OathBulkToken' = @{
        Subcommand = 'deactivate'
        Writes     = $true
        Output     = @('change')
        Fixed      = @('--format', 'json')
        Parameters = @{
            Where         = @{ Flag = '--where'; Kind = 'Value' }
            OrderBy       = @{ Flag = '--order-by'; Kind = 'Value' }
            Script        = @{ Flag = '--script'; Kind = 'Path' }
            Backend       = @{ Flag = '--backend'; Kind = 'Lower' }
            GraphUrl      = @{ Flag = '--graph-url'; Kind = 'Uri' }
            PortalUrl     = @{ Flag = '--portal-url'; Kind = 'Uri' }
            PortalCloud   = @{ Flag = '--portal-cloud'; Kind = 'Lower' }
            AuthorityUrl  = @{ Flag = '--authority-url'; Kind = 'Uri' }
            Simulate      = @{ Flag = '--simulate'; Kind = 'Switch' }
            TenantId      = @{ Flag = '--tenant'; Kind = 'Value' }
            TokenFile     = @{ Flag = '--token-file'; Kind = 'Path' }
            UseDeviceCode = @{ Flag = '--device-code'; Kind = 'Switch' }
            ClientId      = @{ Flag = '--client-id'; Kind = 'Value' }
            Parallel      = @{ Flag = '--parallel'; Kind = 'Value' }
            MaxRate       = @{ Flag = '--max-rate'; Kind = 'Value' }
            Journal       = @{ Flag = '--journal'; Kind = 'Path' }
            Resume        = @{ Flag = '--resume'; Kind = 'Switch' }
            AnyHolder     = @{ Flag = '--any-holder'; Kind = 'Switch' }
        }
    }
    'Remove-OathBulkTokenAssignment' = @{
        Subcommand = 'unassign'
        Writes     = $true
        Output     = @('change')
        Fixed      = @('--format', 'json')
        Parameters = @{
            Where         = @{ Flag = '--where'; Kind = 'Value' }
            OrderBy       = @{ Flag = '--order-by'; Kind = 'Value' }
            Script        = @{ Flag = '--script'; Kind = 'Path' }
            Backend       = @{ Flag = '--backend'; Kind = 'Lower' }
            GraphUrl      = @{ Flag = '--graph-url'; Kind = 'Uri' }
            PortalUrl     = @{ Flag = '--portal-url'; Kind = 'Uri' }
            PortalCloud   = @{ Flag = '--portal-cloud'; Kind = 'Lower' }
            AuthorityUrl  = @{ Flag = '--authority-url'; Kind = 'Uri' }
            Simulate      = @{ Flag = '--simulate'; Kind = 'Switch' }
            TenantId      = @{ Flag = '--tenant'; Kind = 'Value' }
            TokenFile     = @{ Flag = '--token-file'; Kind = 'Path' }
            UseDeviceCode = @{ Flag = '--device-code'; Kind = 'Switch' }
            ClientId      = @{ Flag = '--client-id'; Kind = 'Value' }
            Parallel      = @{ Flag = '--parallel'; Kind = 'Value' }
            MaxRate       = @{ Flag = '--max-rate'; Kind = 'Value' }
            Journal       = @{ Flag = '--journal'; Kind = 'Path' }
            Resume        = @{ Flag = '--resume'; Kind = 'Switch' }
            AnyHolder     = @{ Flag = '--any-holder'; Kind = 'Switch' }
        }
    }
    'Remove-OathBulkTenantToken' = @{
        Subcommand = 'remove'
        Writes     = $true
        Output     = @('change')
        Fixed      = @('--format', 'json')
        Parameters = @{
            Where         = @{ Flag = '--where'; Kind = 'Value' }
            OrderBy       = @{ Flag = '--order-by'; Kind = 'Value' }
            Script        = @{ Flag = '--script'; Kind = 'Path' }
            Backend       = @{ Flag = '--backend'; Kind = 'Lower' }
            GraphUrl      = @{ Flag = '--graph-url'; Kind = 'Uri' }
            PortalUrl     = @{ Flag = '--portal-url'; Kind = 'Uri' }
            PortalCloud   = @{ Flag = '--portal-cloud'; Kind = 'Lower' }
            AuthorityUrl  = @{ Flag = '--authority-url'; Kind = 'Uri' }
            Simulate      = @{ Flag = '--simulate'; Kind = 'Switch' }
            TenantId      = @{ Flag = '--tenant'; Kind = 'Value' }
            TokenFile     = @{ Flag = '--token-file'; Kind = 'Path' }
            UseDeviceCode = @{ Flag = '--device-code'; Kind = 'Switch' }
            ClientId      = @{ Flag = '--client-id'; Kind = 'Value' }
            Parallel      = @{ Flag = '--parallel'; Kind = 'Value' }
            MaxRate       = @{ Flag = '--max-rate'; Kind = 'Value' }
            Journal       = @{ Flag = '--journal'; Kind = 'Path' }
            Resume        = @{ Flag = '--resume'; Kind = 'Switch' }
            AnyHolder     = @{ Flag = '--any-holder'; Kind = 'Switch' }
        }
    }
    'Undo-OathBulkRun' = @{
        Subcommand = 'undo'
        Writes     = $true
        Output     = @('change')
        Fixed      = @('--format', 'json')
        Parameters = @{
            Journal       = @{ Flag = '--journal'; Kind = 'Path' }
            Path          = @{ Flag = '--csv'; Kind = 'Path' }
            UndoJournal   = @{ Flag = '--undo-journal'; Kind = 'Path' }
            MaxRate       = @{ Flag = '--max-rate'; Kind = 'Value' }
            Backend       = @{ Flag = '--backend'; Kind = 'Lower' }
            GraphUrl      = @{ Flag = '--graph-url'; Kind = 'Uri' }
            PortalUrl     = @{ Flag = '--portal-url'; Kind = 'Uri' }
            PortalCloud   = @{ Flag = '--portal-cloud'; Kind = 'Lower' }
            AuthorityUrl  = @{ Flag = '--authority-url'; Kind = 'Uri' }
            Simulate      = @{ Flag = '--simulate'; Kind = 'Switch' }
            TenantId      = @{ Flag = '--tenant'; Kind = 'Value' }
            TokenFile     = @{ Flag = '--token-file'; Kind = 'Path' }
            UseDeviceCode = @{ Flag = '--device-code'; Kind = 'Switch' }
            ClientId      = @{ Flag = '--client-id'; Kind = 'Value' }
        }
    }
    'Connect-OathBulk'        = @{
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
    'Disconnect-OathBulk'     = @{
        Subcommand = 'logout'
        Output     = @()
        Fixed      = @('--progress', 'json')
        Parameters = @{
            TenantId     = @{ Flag = '--tenant'; Kind = 'Value' }
            ClientId     = @{ Flag = '--client-id'; Kind = 'Value' }
            AuthorityUrl = @{ Flag = '--authority-url'; Kind = 'Uri' }
        }
    }
    'Start-OathBulkSimulator' = @{
        Subcommand = 'simulate'
        Output     = @()
        Fixed      = @()
        Parameters = @{
            Path             = @{ Flag = '--csv'; Kind = 'Path' }
            Listen           = @{ Flag = '--listen'; Kind = 'Value' }
            TokenFile        = @{ Flag = '--token-file'; Kind = 'Path' }
            LatencyMs        = @{ Flag = '--latency-ms'; Kind = 'Value' }
            RateLimit        = @{ Flag = '--rate-limit'; Kind = 'Value' }
            FailRate         = @{ Flag = '--fail-rate'; Kind = 'Value' }
            ClockOffset      = @{ Flag = '--clock-offset'; Kind = 'Value' }
            ExpireTokenAfter = @{ Flag = '--expire-token-after'; Kind = 'Value' }
            Forbidden        = @{ Flag = '--forbidden'; Kind = 'Switch' }
            StateOut         = @{ Flag = '--state-out'; Kind = 'Path' }
            SecretFormat     = @{ Flag = '--secret-format'; Kind = 'Lower' }
            Hash             = @{ Flag = '--hash'; Kind = 'Hash' }
            AssignedFraction = @{ Flag = '--assigned-fraction'; Kind = 'Value' }
            ActivatedFraction = @{ Flag = '--activated-fraction'; Kind = 'Value' }
            RandomSeed       = @{ Flag = '--seed'; Kind = 'Value' }
            DropRate         = @{ Flag = '--drop-rate'; Kind = 'Value' }
            ClientId         = @{ Flag = '--client-id'; Kind = 'Value' }
            ClientSecretFile = @{ Flag = '--client-secret-file'; Kind = 'Path' }
            ClientCertificate = @{ Flag = '--client-certificate'; Kind = 'Path' }
        }
    }
    # Issue 30: the helpdesk view and the run report.
    'Get-OathBulkTokenStatus' = @{
        Subcommand = 'status'
        Output     = @('token_status')
        Fixed      = @('--format', 'json')
        Parameters = @{
            Serial        = @{ Flag = '--serial'; Kind = 'Array' }
            Upn           = @{ Flag = '--upn'; Kind = 'Array' }
            CsvPath       = @{ Flag = '--csv'; Kind = 'Path' }
            Backend       = @{ Flag = '--backend'; Kind = 'Lower' }
            GraphUrl      = @{ Flag = '--graph-url'; Kind = 'Uri' }
            PortalUrl     = @{ Flag = '--portal-url'; Kind = 'Uri' }
            PortalCloud   = @{ Flag = '--portal-cloud'; Kind = 'Lower' }
            AuthorityUrl  = @{ Flag = '--authority-url'; Kind = 'Uri' }
            Simulate      = @{ Flag = '--simulate'; Kind = 'Switch' }
            SeedPath      = @{ Flag = '--seed'; Kind = 'Path' }
            TenantId      = @{ Flag = '--tenant'; Kind = 'Value' }
            TokenFile     = @{ Flag = '--token-file'; Kind = 'Path' }
            UseDeviceCode = @{ Flag = '--device-code'; Kind = 'Switch' }
            ClientId      = @{ Flag = '--client-id'; Kind = 'Value' }
        }
    }
    'Export-OathBulkReport'   = @{
        Subcommand = 'report'
        Output     = @()
        Fixed      = @('--format', 'json')
        Parameters = @{
            OutFile = @{ Flag = '--html'; Kind = 'Path' }
        }
    }
}
