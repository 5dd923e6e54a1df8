#!/usr/bin/env bash
# The packaging step: from a clone to dist/OathBulk/<version>/, the PowerShell module with its
# binaries, man pages and completions, in the layout the PowerShell Gallery and
# Install-PSResource accept; plus dist/OathBulk-<version>.zip and dist/SHA256SUMS.
#
#   packaging/dist.sh build [TARGET]   cargo build --release [--target TARGET], then stage the
#                                      binary as dist/bin/<rid>/oathbulk[.exe]
#   packaging/dist.sh assemble         module + OathBulk.dll + every staged dist/bin/<rid>/ ->
#                                      dist/OathBulk/<version>/, then seal
#   packaging/dist.sh seal             dist/OathBulk/ -> the zip and SHA256SUMS (again, after signing)
#   packaging/dist.sh                  both, for this machine's platform (what CI here runs)
#
# The release workflow (.github/workflows/release.yml) runs `build TARGET` on one runner per
# platform and `assemble` once with all of them, so CI here runs the same code for the one
# platform it has.
#
# Environment: DIST_DIR (default: dist); OATHBULK_BIN: stage this binary for the host instead
# of building (the packaged-module Pester test uses the release build it already has); PWSH:
# the pwsh that compiles OathBulk.dll when there is no dotnet SDK (default: pwsh on PATH, else
# ../shared/tools/pwsh).
set -euo pipefail
cd "$(dirname "$0")/.."
DIST_DIR=${DIST_DIR:-dist}
mkdir -p "$DIST_DIR"
DIST_DIR=$(cd "$DIST_DIR" && pwd)

die() { echo "dist.sh: $*" >&2; exit 1; }

# Rust target triple -> the .NET runtime id the module looks under (bin/<rid>/).
rid_of() {
    case "$1" in
        x86_64-unknown-linux-*) echo linux-x64 ;;
        aarch64-unknown-linux-*) echo linux-arm64 ;;
        aarch64-apple-darwin) echo osx-arm64 ;;
        x86_64-apple-darwin) echo osx-x64 ;;
        x86_64-pc-windows-*) echo win-x64 ;;
        *) die "no package platform for target $1" ;;
    esac
}

exe_of() { [[ $1 == win-* ]] && echo oathbulk.exe || echo oathbulk; }

host_target() { rustc -vV | sed -n 's/^host: //p'; }

# One source of truth for the version and the project's home: the crate's.
crate_version() { sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1; }
crate_repository() { sed -n 's/^repository = "\(.*\)"$/\1/p' Cargo.toml | head -1; }

build() {
    local target=${1:-} rid bin
    if [[ -z $target ]]; then
        rid=$(rid_of "$(host_target)")
        if [[ -n ${OATHBULK_BIN:-} ]]; then
            bin=$OATHBULK_BIN
        else
            cargo build --release --locked
            bin=target/release/$(exe_of "$rid")
        fi
    else
        rid=$(rid_of "$target")
        cargo build --release --locked --target "$target"
        bin=target/$target/release/$(exe_of "$rid")
    fi
    [[ -f $bin ]] || die "no binary at $bin"
    mkdir -p "$DIST_DIR/bin/$rid"
    cp "$bin" "$DIST_DIR/bin/$rid/$(exe_of "$rid")"
    chmod +x "$DIST_DIR/bin/$rid/$(exe_of "$rid")"
    echo "staged $DIST_DIR/bin/$rid/$(exe_of "$rid")"
}

# The module's C# (Private/OathBulk.Native.cs) compiled here, once, into $1 (OathBulk.dll), so
# the package never compiles at import: a locked-down machine (WDAC/AppLocker, Constrained
# Language Mode) refuses Add-Type, and an assembly signed with the package loads where a DLL
# compiled into a user folder is blocked. The dotnet SDK, where present, builds it against
# PowerShell 7.4's reference assemblies (net8.0: it loads on 7.4 and later); else pwsh's own
# compiler (Add-Type -OutputAssembly) builds it against the running pwsh's .NET, and the packaged
# manifest then requires that PowerShell version (an older one would fail to load the DLL).
# Prints the PowerShell version the assembly needs.
compile_assembly() {
    local dll=$1 src=powershell/OathBulk/Private/OathBulk.Native.cs pwsh tmp
    # An SDK, not just a runtime (`dotnet --list-sdks` is empty without one).
    if command -v dotnet >/dev/null 2>&1 && [[ -n $(dotnet --list-sdks 2>/dev/null) ]]; then
        # Built in a temporary folder: obj/ and bin/ stay out of the source tree.
        tmp=$(mktemp -d)
        cp packaging/OathBulk.Native.csproj "$tmp/"
        dotnet build "$tmp/OathBulk.Native.csproj" -c Release --nologo -v quiet \
            -p:OathBulkSource="$PWD/$src" -o "$tmp/out" >&2 || die "dotnet build of OathBulk.dll failed"
        cp "$tmp/out/OathBulk.dll" "$dll"
        rm -rf "$tmp"
        echo 7.4
        return
    fi
    pwsh=${PWSH:-$(command -v pwsh || echo ../shared/tools/pwsh)}
    [[ -x $pwsh ]] || die "neither dotnet nor pwsh found: OathBulk.dll needs one of them (set PWSH)"
    OATHBULK_CS=$src OATHBULK_DLL=$dll "$pwsh" -NoLogo -NoProfile -NonInteractive -Command '
        $ErrorActionPreference = "Stop"
        Add-Type -Path $env:OATHBULK_CS -OutputAssembly $env:OATHBULK_DLL -OutputType Library
        "{0}.{1}" -f $PSVersionTable.PSVersion.Major, $PSVersionTable.PSVersion.Minor' </dev/null ||
        die "$pwsh could not compile $src"
    [[ -f $dll ]] || die "no $dll after compiling $src"
}

# The packaged manifest loads OathBulk.dll before the .psm1 runs (RequiredAssemblies), lists it
# instead of the C# source, and requires the PowerShell the assembly was built for.
package_manifest() {
    local manifest=$1 needs=$2
    sed -i.bak -e "s|^\(\s*\)RootModule\(\s*\)= \(.*\)$|&\n\1RequiredAssemblies = @('OathBulk.dll')|" \
        -e "s|'Private/OathBulk.Native.cs'|'OathBulk.dll'|" \
        -e "s|^\(\s*PowerShellVersion\s*=\s*\)'[^']*'|\1'$needs'|" "$manifest" && rm -f "$manifest.bak"
    grep -q "RequiredAssemblies *= *@('OathBulk.dll')" "$manifest" || die "could not add RequiredAssemblies to $manifest"
    grep -q "PowerShellVersion *= *'$needs'" "$manifest" || die "could not set PowerShellVersion to $needs"
    ! grep -q 'OathBulk.Native.cs' "$manifest" || die "$manifest still lists the C# source"
}

assemble() {
    local version repository out rids=() host_rid host_bin needs
    version=$(crate_version)
    [[ -n $version ]] || die "cannot read the version from Cargo.toml"
    for d in "$DIST_DIR"/bin/*/; do
        [[ -d $d ]] && rids+=("$(basename "$d")")
    done
    ((${#rids[@]})) || die "no staged binaries under $DIST_DIR/bin (run: packaging/dist.sh build [TARGET])"

    out=$DIST_DIR/OathBulk/$version
    rm -rf "$DIST_DIR/OathBulk" "$DIST_DIR/OathBulk-$version.zip" "$DIST_DIR/SHA256SUMS"
    mkdir -p "$out"

    # The module, its format file and its manifest, with ModuleVersion = the crate version.
    cp -R powershell/OathBulk/. "$out/"
    sed -i.bak "s/^\(\s*ModuleVersion\s*=\s*\)'[^']*'/\1'$version'/" "$out/OathBulk.psd1" && rm -f "$out/OathBulk.psd1.bak"
    grep -q "ModuleVersion *= *'$version'" "$out/OathBulk.psd1" || die "could not set ModuleVersion to $version"
    # ProjectUri and LicenseUri: the crate's repository (the cmdlets' HelpUri point into it too).
    repository=$(crate_repository)
    [[ $repository == https://* ]] || die "cannot read an https repository URL from Cargo.toml"
    sed -i.bak -e "s|^\(\s*ProjectUri\s*=\s*\)'[^']*'|\1'$repository'|" \
        -e "s|^\(\s*LicenseUri\s*=\s*\)'[^']*'|\1'$repository/blob/main/LICENSE'|" "$out/OathBulk.psd1" && rm -f "$out/OathBulk.psd1.bak"
    grep -q "ProjectUri *= *'$repository'" "$out/OathBulk.psd1" || die "could not set ProjectUri to $repository"
    grep -q "LicenseUri *= *'$repository/blob/main/LICENSE'" "$out/OathBulk.psd1" || die "could not set LicenseUri"
    cp LICENSE "$out/LICENSE"
    # The compiled reader replaces its source: nothing in the package can compile at import.
    needs=$(compile_assembly "$out/OathBulk.dll" | tail -n 1)
    [[ $needs =~ ^7\.[0-9]+$ ]] || die "cannot tell which PowerShell OathBulk.dll needs (got '$needs')"
    package_manifest "$out/OathBulk.psd1" "$needs"
    rm -f "$out/Private/OathBulk.Native.cs"

    # Binaries: bin/<rid>/oathbulk[.exe], the module picks the running platform's.
    for rid in "${rids[@]}"; do
        mkdir -p "$out/bin/$rid"
        cp "$DIST_DIR/bin/$rid/$(exe_of "$rid")" "$out/bin/$rid/"
        chmod +x "$out/bin/$rid/$(exe_of "$rid")"
    done
    # Transitional: a module whose binary lookup predates bin/<rid>/ (issue 11) looks at
    # bin/oathbulk[.exe]; give it this platform's binary there until that change is merged.
    host_rid=$(rid_of "$(host_target)")
    if ! grep -q 'linux-x64' powershell/OathBulk/Private/Binary.ps1 && [[ -d $out/bin/$host_rid ]]; then
        echo "dist.sh: note: Binary.ps1 does not know bin/<rid>/ yet; also copying $host_rid to bin/" >&2
        cp "$out/bin/$host_rid/$(exe_of "$host_rid")" "$out/bin/"
    fi

    # Man pages and completions, generated by a binary that runs here.
    host_bin=$out/bin/$host_rid/$(exe_of "$host_rid")
    [[ -x $host_bin ]] || die "no $host_rid binary staged: man pages and completions need one that runs here"
    "$host_bin" manpages --dir "$out/man/man1"
    mkdir -p "$out/completions"
    "$host_bin" completions bash >"$out/completions/oathbulk.bash"
    "$host_bin" completions zsh >"$out/completions/_oathbulk"
    "$host_bin" completions fish >"$out/completions/oathbulk.fish"
    "$host_bin" completions powershell >"$out/completions/oathbulk.ps1"
    "$host_bin" completions elvish >"$out/completions/oathbulk.elv"

    echo "assembled $out (${rids[*]})"
}

# The release zip of dist/OathBulk/ (OathBulk/<version>/…: unzip into a PSModulePath folder) and
# SHA256SUMS of it and of every staged binary. Its own step too: the release workflow signs the
# folder's files on Windows, then seals the signed folder again.
seal() {
    local version
    version=$(crate_version)
    [[ -d $DIST_DIR/OathBulk/$version ]] || die "no $DIST_DIR/OathBulk/$version (run: packaging/dist.sh assemble)"
    rm -f "$DIST_DIR/OathBulk-$version.zip" "$DIST_DIR/SHA256SUMS"
    (cd "$DIST_DIR" && zip -qr -X "OathBulk-$version.zip" OathBulk)
    (
        cd "$DIST_DIR"
        {
            sha256sum "OathBulk-$version.zip"
            for d in bin/*/; do sha256sum "$d"oathbulk*; done
        } >SHA256SUMS
    )
    echo "sealed $DIST_DIR/OathBulk-$version.zip, $DIST_DIR/SHA256SUMS"
}

case "${1:-all}" in
    build) build "${2:-}" ;;
    assemble) assemble; seal ;;
    seal) seal ;;
    all) build; assemble; seal ;;
    *) die "usage: packaging/dist.sh [build [TARGET] | assemble | seal]" ;;
esac
