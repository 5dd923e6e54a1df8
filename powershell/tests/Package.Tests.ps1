# The installed user's view: the package packaging/dist.sh builds, copied to an empty folder,
# imported by a pwsh with no repository around (no OATHBULK_PATH, no oathbulk on PATH, a
# PSModulePath of that folder and pwsh's own modules), running the main job with -Simulate.
# $env:OATHBULK_TEST_PACKAGE names a dist folder already assembled (CI, the release
# workflow); without it the test assembles one from the release build.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $cargo = Get-Content (Join-Path $RepoRoot 'Cargo.toml') -Raw
    $script:Version = [regex]::Match($cargo, '(?m)^version\s*=\s*"([^"]+)"').Groups[1].Value
    $arch = [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString().ToLowerInvariant()
    $os = if ($IsWindows) { 'win' } elseif ($IsMacOS) { 'osx' } else { 'linux' }
    $script:Rid = "$os-$arch"
    $script:Exe = if ($IsWindows) { 'oathbulk.exe' } else { 'oathbulk' }

    if ($env:OATHBULK_TEST_PACKAGE) {
        $script:Dist = $env:OATHBULK_TEST_PACKAGE
    } else {
        if (-not (Test-Path -LiteralPath $ReleaseBinary)) { throw "Build the release binary first: cargo build --release ($ReleaseBinary missing)" }
        $script:Dist = Join-Path $TestDrive 'dist'
        $env:DIST_DIR = $Dist
        $env:OATHBULK_BIN = $ReleaseBinary
        # This pwsh compiles OathBulk.dll when there is no dotnet SDK.
        $env:PWSH = Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' })
        try {
            $log = & bash (Join-Path $RepoRoot 'packaging/dist.sh') 2>&1
            if ($LASTEXITCODE -ne 0) { throw "packaging/dist.sh failed: $($log -join "`n")" }
        } finally {
            Remove-Item Env:DIST_DIR, Env:OATHBULK_BIN, Env:PWSH -ErrorAction Ignore
        }
    }

    # An empty temporary folder, outside the repository: nothing there but the package.
    $script:Home2 = Join-Path ([System.IO.Path]::GetTempPath()) ("oathbulk-installed-" + [guid]::NewGuid().ToString('n'))
    $script:Modules = Join-Path $Home2 'Modules'
    New-Item -ItemType Directory -Path $Modules | Out-Null
    Copy-Item -Recurse -LiteralPath (Join-Path $Dist 'OathBulk') -Destination (Join-Path $Modules 'OathBulk')
    $script:Root = Join-Path $Modules "OathBulk/$Version"
    $script:Work = Join-Path $Home2 'work'
    New-Item -ItemType Directory -Path $Work | Out-Null

    # Runs $Script with pwsh itself in the installed user's setting: a PSModulePath of the
    # package's folder and pwsh's own modules, no OATHBULK_* variable, a PATH without any
    # oathbulk executable (cargo's bin, the repository's target). Returns ExitCode, Out, Err.
    function script:Invoke-InstalledPwsh([string]$Script, [string[]]$Arguments = @()) {
        $file = Join-Path $Work "run-$([guid]::NewGuid().ToString('n')).ps1"
        $Script | Set-Content -LiteralPath $file -Encoding utf8NoBOM
        # The apphost in $PSHOME: this process may be `dotnet pwsh.dll`.
        $psi = [System.Diagnostics.ProcessStartInfo]::new((Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' })))
        foreach ($a in @('-NoLogo', '-NoProfile', '-NonInteractive', '-File', $file) + $Arguments) { $psi.ArgumentList.Add($a) }
        $psi.WorkingDirectory = $Work
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        foreach ($name in 'OATHBULK_PATH', 'OATHBULK_TOKEN', 'OATHBULK_CLIENT_SECRET', 'OATHBULK_TEST_ONLY_PLAINTEXT_STORE') {
            $null = $psi.Environment.Remove($name)
        }
        $psi.Environment['PSModulePath'] = @($Modules, (Join-Path $PSHOME 'Modules')) -join [System.IO.Path]::PathSeparator
        $psi.Environment['PATH'] = ($env:PATH -split [System.IO.Path]::PathSeparator |
                Where-Object { $_ -and -not (Test-Path -LiteralPath (Join-Path $_ $Exe)) }) -join [System.IO.Path]::PathSeparator
        $p = [System.Diagnostics.Process]::Start($psi)
        $errTask = $p.StandardError.ReadToEndAsync()
        $out = $p.StandardOutput.ReadToEnd()
        $p.WaitForExit(120000) | Should -BeTrue
        [pscustomobject]@{ ExitCode = $p.ExitCode; Out = $out; Err = $errTask.Result }
    }
}

AfterAll {
    if ($script:Home2) { Remove-Item -Recurse -Force -LiteralPath $Home2 -ErrorAction Ignore }
}

Describe 'the packaged module' {
    It 'is OathBulk/(crate version)/ with manifest, licence, help, man pages, completions and this platform''s binary' {
        $manifest = Test-ModuleManifest -Path (Join-Path $Root 'OathBulk.psd1') -ErrorAction Stop
        $manifest.Version.ToString() | Should -Be $Version
        # Written by dist.sh from Cargo.toml's repository.
        $manifest.ProjectUri.AbsoluteUri.TrimEnd('/') | Should -Be (Get-CargoRepository)
        $manifest.LicenseUri.AbsoluteUri | Should -Be "$(Get-CargoRepository)/blob/main/LICENSE"
        foreach ($f in 'LICENSE', 'OathBulk.psm1', 'OathBulk.Format.ps1xml', 'en-US/about_OathBulk.help.txt',
            'man/man1/oathbulk.1', 'man/man1/oathbulk-activate.1', 'man/man1/oathbulk-login.1',
            'completions/oathbulk.bash', 'completions/_oathbulk', 'completions/oathbulk.fish',
            'completions/oathbulk.ps1', 'completions/oathbulk.elv', "bin/$Rid/$Exe") {
            Join-Path $Root $f | Should -Exist
        }
        Get-Content (Join-Path $Root 'man/man1/oathbulk.1') -Raw | Should -Match '\.TH oathbulk'
        Get-Content (Join-Path $Root 'completions/oathbulk.bash') -Raw | Should -Match 'login'
        Get-Content (Join-Path $Root 'completions/oathbulk.ps1') -Raw | Should -Match 'Register-ArgumentCompleter'
    }

    It 'ships the about topic of the source tree, as it is there (one about topic)' {
        $tree = Join-Path $RepoRoot 'powershell/OathBulk/en-US/about_OathBulk.help.txt'
        (Get-FileHash -LiteralPath (Join-Path $Root 'en-US/about_OathBulk.help.txt')).Hash | Should -Be (Get-FileHash -LiteralPath $tree).Hash
        # No second copy for packaging to ship instead.
        @(git -C $RepoRoot ls-files '*about_OathBulk*') | Should -Be @('powershell/OathBulk/en-US/about_OathBulk.help.txt')
    }

    It 'ships a zip of the same folder and SHA256SUMS that match' {
        $zip = Join-Path $Dist "OathBulk-$Version.zip"
        $zip | Should -Exist
        $lines = Get-Content (Join-Path $Dist 'SHA256SUMS')
        $lines.Count | Should -BeGreaterOrEqual 2
        foreach ($line in $lines) {
            $hash, $name = $line -split '\s+\*?', 2
            (Get-FileHash -Algorithm SHA256 -LiteralPath (Join-Path $Dist $name)).Hash.ToLowerInvariant() | Should -Be $hash
        }
        $names = $lines | ForEach-Object { ($_ -split '\s+\*?', 2)[1] }
        $names | Should -Contain "OathBulk-$Version.zip"
        $names | Should -Contain "bin/$Rid/$Exe"
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $archive = [System.IO.Compression.ZipFile]::OpenRead($zip)
        try {
            $entries = $archive.Entries.FullName
            $entries | Should -Contain "OathBulk/$Version/OathBulk.psd1"
            $entries | Should -Contain "OathBulk/$Version/bin/$Rid/$Exe"
        } finally { $archive.Dispose() }
    }

    It 'is left as it is, with a warning that says so, by packaging/sign.ps1 without a certificate' {
        $before = Get-ChildItem -LiteralPath $Root -Recurse -File | Get-FileHash | ForEach-Object Hash
        $saved = $env:OATHBULK_SIGNING_CERT
        $env:OATHBULK_SIGNING_CERT = ''
        try { $out = & (Join-Path $RepoRoot 'packaging/sign.ps1') -Path $Dist } finally { $env:OATHBULK_SIGNING_CERT = $saved }
        $out | Should -Match '^::warning title=Package not signed::NOT SIGNED: no OATHBULK_SIGNING_CERT secret'
        $out | Should -Match 'the \d+ signable files'
        Get-ChildItem -LiteralPath $Root -Recurse -File | Get-FileHash | ForEach-Object Hash | Should -Be $before
    }

    It 'carries OathBulk.dll, loaded by its manifest, and no C# source to compile' {
        Join-Path $Root 'OathBulk.dll' | Should -Exist
        @(Get-ChildItem -LiteralPath $Root -Recurse -Filter '*.cs') | Should -BeNullOrEmpty
        $data = Import-PowerShellDataFile (Join-Path $Root 'OathBulk.psd1')
        $data.RequiredAssemblies | Should -Be @('OathBulk.dll')
        $data.FileList | Should -Contain 'OathBulk.dll'
    }

    It 'imports in a clean pwsh with no compiler (Add-Type refuses) and runs the main job against -Simulate with its own binary' {
        $csv = New-SimCsv $Work
        $r = Invoke-InstalledPwsh -Arguments $csv -Script @'
$ErrorActionPreference = 'Stop'
# No compiler, as on a locked-down machine: any Add-Type the module ran would throw.
function global:Add-Type { throw 'Add-Type is unavailable on this machine' }
Import-Module OathBulk
$m = Get-Module OathBulk
$r = Enable-OathBulkToken -Path $args[0] -Simulate -Force -ErrorAction SilentlyContinue
[pscustomobject]@{
    ModuleBase = $m.ModuleBase
    Version    = $m.Version.ToString()
    Assembly   = [OathBulk.Native.NativeSession].Assembly.Location
    Binary     = (& $m { Find-OathBulkBinary }).Path
    Activated  = @($r | Where-Object Status -eq 'activated' | ForEach-Object Serial | Sort-Object)
    Rows       = @($r).Count
} | ConvertTo-Json -Compress
'@
        $r.ExitCode | Should -Be 0 -Because $r.Err
        $o = $r.Out | ConvertFrom-Json

        $o.ModuleBase | Should -Be $Root
        $o.Version | Should -Be $Version
        $o.Assembly | Should -Be (Join-Path $Root 'OathBulk.dll') -Because 'the reader must be the packaged assembly, not one compiled at import'
        $o.Binary | Should -BeLike "$Root*" -Because 'the module must run the binary it carries'
        $o.Rows | Should -Be 5
        $o.Activated | Should -Be @('2000001', '2000002', '2000004')
    }

    It 'in Constrained Language Mode fails at import with one error that names the fix, and loads nothing' {
        $r = Invoke-InstalledPwsh -Script @'
$ExecutionContext.SessionState.LanguageMode = 'ConstrainedLanguage'
$imported = $false
try { Import-Module OathBulk -ErrorAction Stop -ErrorVariable failed; $imported = $true } catch { }
@{
    Mode     = "$($ExecutionContext.SessionState.LanguageMode)"
    Imported = $imported
    Loaded   = [bool](Get-Module OathBulk)
    Errors   = @($failed | ForEach-Object { "$_" })
} | ConvertTo-Json -Compress
'@
        $r.ExitCode | Should -Be 0 -Because $r.Err
        $o = $r.Out | ConvertFrom-Json
        $o.Mode | Should -Be 'ConstrainedLanguage'
        $o.Imported | Should -BeFalse
        $o.Loaded | Should -BeFalse
        @($o.Errors).Count | Should -Be 1 -Because ($o.Errors -join "`n")
        $o.Errors[0] | Should -Match 'ConstrainedLanguage'
        $o.Errors[0] | Should -Match 'sign'
        $o.Errors[0] | Should -Match 'allow its publisher'
    }
}
