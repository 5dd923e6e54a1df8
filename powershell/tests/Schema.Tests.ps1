# The C# record classes (OathBulk.Native.cs) are a hand-kept copy of the wire format: checked
# here against docs/schema/records.json, the JSON Schema generated from src/record.rs. A field
# the binary gained, lost or made optional without the class following fails this test (at run
# time an unknown field would only become a note property, and a missing optional integer 0).
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Initialize-OathBulkTest
    $script:Schema = Get-Content -Raw (Join-Path $RepoRoot 'docs/schema/records.json') | ConvertFrom-Json -AsHashtable

    # record type -> .NET class (RecordConverter.BuildShapes): OathBulk.<PascalCase type>, but
    # `check` is PreflightCheck (C# forbids a property named like its class).
    function Get-RecordClass([string]$Type) {
        $name = if ($Type -eq 'check') { 'PreflightCheck' } else { (($Type -split '_') | ForEach-Object { $_.Substring(0, 1).ToUpperInvariant() + $_.Substring(1) }) -join '' }
        "OathBulk.$name" -as [type]
    }

    function ConvertTo-SnakeCase([string]$Name) { ($Name -creplace '(?<=[a-z0-9])([A-Z])', '_$1').ToLowerInvariant() }

    # A property's JSON types: its `type`, or those of its `anyOf` branches; a `$ref` is an
    # object when the definition has properties, else an enum (a string).
    function Get-JsonKind([hashtable]$Property) {
        if ($Property.ContainsKey('type')) { return @($Property.type) }
        if ($Property.ContainsKey('$ref')) {
            $def = $Schema.'$defs'[$Property.'$ref' -replace '^#/\$defs/', '']
            return $(if ($def.ContainsKey('properties')) { 'object' } else { 'string' })
        }
        foreach ($branch in @($Property.anyOf) + @($Property.oneOf) | Where-Object { $_ }) { Get-JsonKind $branch }
    }

    # Where a JSON Schema property and a .NET property disagree: one line each.
    function Compare-RecordClass([hashtable]$Definition, [type]$Class) {
        $props = @{}
        foreach ($p in $Class.GetProperties()) {
            # Type (the record's `type`) and Path (the CSV, added by the module) are not fields.
            if ($p.Name -in 'Type', 'Path') { continue }
            $props[(ConvertTo-SnakeCase $p.Name)] = $p.PropertyType
        }
        $fields = $Definition.properties
        $required = @($Definition.required)
        foreach ($f in $fields.Keys | Where-Object { $_ -ne 'type' }) {
            if (-not $props.ContainsKey($f)) { "$($Class.Name): no property for field '$f'"; continue }
            $t = $props[$f]
            $kinds = Get-JsonKind $fields[$f]
            $json = @($kinds | Where-Object { $_ -ne 'null' })[0]
            # Absent means its default (`"default": false`), or null: only then may it be missing.
            $optional = ($f -notin $required -and -not $fields[$f].ContainsKey('default')) -or $kinds -contains 'null'
            $inner = [System.Nullable]::GetUnderlyingType($t)
            $base = if ($inner) { $inner } else { $t }
            $ok = switch ($json) {
                # An Otp's `at` (Unix seconds) is a [DateTimeOffset] (the converter's one exception).
                'integer' { $base -eq [long] -or ($f -eq 'at' -and $base -eq [datetimeoffset]) }
                'number' { $base -eq [double] }
                'boolean' { $base -eq [bool] }
                'string' { $base -in [string], [datetime], [datetimeoffset] }
                # A user's `tokens` is a list that prints its serials (OathBulk.UserTokenList).
                'array' { $t.IsArray -or [System.Collections.IList].IsAssignableFrom($t) }
                'object' { $t -eq [psobject] }
                default { $false }
            }
            if (-not $ok) { "$($Class.Name).$($t.Name) '$f': the schema says $($kinds -join '|')" }
            # A value type for an optional field would turn "absent" into 0/false.
            if ($optional -and $t.IsValueType -and -not $inner) { "$($Class.Name) '$f' is optional in the schema: its $($t.Name) must be nullable" }
        }
        foreach ($f in $props.Keys) {
            if (-not $fields.ContainsKey($f)) { "$($Class.Name): property for '$f', which the schema does not have" }
        }
    }

    $script:Variants = foreach ($v in $Schema.oneOf) {
        @{ Type = $v.properties.type.const; Def = $v.'$ref' -replace '^#/\$defs/', '' }
    }
}

Describe 'the C# record classes against docs/schema/records.json' {
    It 'has a class for every record type the module reads (journal_header only lives in journal files)' {
        $Variants.Count | Should -BeGreaterThan 10
        foreach ($v in $Variants | Where-Object Type -ne 'journal_header') {
            Get-RecordClass $v.Type | Should -Not -BeNullOrEmpty -Because "record type '$($v.Type)' needs a class"
        }
    }

    It 'has, in each class, exactly the schema''s fields with matching types' {
        $problems = foreach ($v in $Variants | Where-Object Type -ne 'journal_header') {
            Compare-RecordClass $Schema.'$defs'[$v.Def] (Get-RecordClass $v.Type)
        }
        $problems += Compare-RecordClass $Schema.'$defs'['UserToken'] ([OathBulk.UserToken])
        @($problems) | Should -BeNullOrEmpty -Because ($problems -join "`n")
    }

    It 'catches a class out of step: a field the schema gained, a property it never had, an optional integer not nullable' {
        $def = $Schema.'$defs'['Warning'].Clone()
        $def.properties = $def.properties.Clone()
        $def.properties['hint'] = @{ type = 'string' }
        Compare-RecordClass $def ([OathBulk.Warning]) | Should -Be @("Warning: no property for field 'hint'")

        $def = $Schema.'$defs'['Warning'].Clone()
        $def.properties = @{ type = @{ type = 'string' }; code = @{ type = 'string' } }
        Compare-RecordClass $def ([OathBulk.Warning]) | Should -Be @("Warning: property for 'message', which the schema does not have")

        $def = $Schema.'$defs'['Activation'].Clone()
        $def.required = @($def.required | Where-Object { $_ -ne 'attempts' })
        Compare-RecordClass $def ([OathBulk.Activation]) | Should -Be @("Activation 'attempts' is optional in the schema: its Int64 must be nullable")
    }
}
