function Remove-OathBulkTokenAssignment {
    # Help: powershell/docs/cmdlets/Remove-OathBulkTokenAssignment.md (rendered to en-US/OathBulk-help.xml).
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High', DefaultParameterSetName = 'Path', HelpUri = 'https://github.com/oathbulk/oathbulk/blob/main/docs/powershell.md#remove-oathbulktokenassignment')]
    [OutputType('OathBulk.Change')]
    param(
        [Parameter(Position = 0, ParameterSetName = 'Path')]
        [SupportsWildcards()]
        [ValidateNotNullOrEmpty()]
        [string[]]$Path,

        [Parameter(ParameterSetName = 'Path')]
        [Alias('LP')]
        [ValidateNotNullOrEmpty()]
        [string[]]$LiteralPath,

        [Parameter(ValueFromPipeline)]
        [psobject]$InputObject,

        [Parameter(ParameterSetName = 'Path')]
        [Parameter(Mandatory, ParameterSetName = 'Serial')]
        [Alias('SerialNumber')]
        [string]$Serial,

        [Parameter(ParameterSetName = 'Serial')]
        [ValidateNotNullOrEmpty()]
        [Alias('UserPrincipalName')]
        [string]$Upn,

        [Parameter(ParameterSetName = 'Path')] [ValidateNotNullOrEmpty()] [string]$Where,
        [Parameter(ParameterSetName = 'Path')] [ValidateNotNullOrEmpty()] [string]$OrderBy,
        [Parameter(ParameterSetName = 'Path')] [ValidateNotNullOrEmpty()] [string]$Script,

        [ValidateSet('graph', 'portal')] [string]$Backend,
        [uri]$GraphUrl,
        [uri]$PortalUrl,
        [ValidateSet('public', 'usgov')] [string]$PortalCloud,
        [uri]$AuthorityUrl,
        [switch]$Simulate,

        [ValidateRange(1, 64)] [int]$Parallel,
        [ValidateRange(0.001, 100000)] [double]$MaxRate,
        [string]$Journal,
        [switch]$Resume,
        [Parameter(ParameterSetName = 'Path')] [switch]$AnyHolder,

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
        Invoke-OathBulkChangeCommand -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters -Binder $binder -ExpectingInput:$expecting -Verb 'Unassign' -Effect 'the tokens go back to available and their users lose them'
    }
}
