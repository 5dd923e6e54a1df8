#!/usr/bin/env bash
# The packaging step: from a clone to dist/OathBulk/<version>/, the PowerShell module with its
# binaries, man pages and completions, in the layout the PowerShell Gallery and
# Install-PSResource accept; plus dist/OathBulk-<version>.zip and dist/SHA256SUMS.
#
#   packaging/dist.sh build [TARGET]   cargo build --release [--target TARGET], then stage the
#                                      binary as dist/bin/<rid>/oathbulk[.exe]
#   packaging/dist.sh assemble         module + every staged dist/bin/<rid>/ -> dist/OathBulk/<version>/
#   packaging/dist.sh                  both, for this machine's platform (what CI here runs)
#
# The release workflow (.github/workflows/release.yml) runs `build TARGET` on one runner per
# platform and `assemble` once with all of them, so CI here runs the same code for the one
# platform it has.
#
# Environment: DIST_DIR (default: dist); OATHBULK_BIN: stage this binary for the host instead
# of building (the packaged-module Pester test uses the release build it already has).
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

assemble() {
    local version repository out rids=() host_rid host_bin
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
    mkdir -p "$out/en-US"
    cp packaging/about_OathBulk.help.txt "$out/en-US/about_OathBulk.help.txt"

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

    # The release zip (OathBulk/<version>/…: unzip into a PSModulePath folder) and checksums.
    (cd "$DIST_DIR" && zip -qr -X "OathBulk-$version.zip" OathBulk)
    (
        cd "$DIST_DIR"
        {
            sha256sum "OathBulk-$version.zip"
            for rid in "${rids[@]}"; do sha256sum "bin/$rid/$(exe_of "$rid")"; done
        } >SHA256SUMS
    )
    echo "assembled $out (${rids[*]}), $DIST_DIR/OathBulk-$version.zip, $DIST_DIR/SHA256SUMS"
}

case "${1:-all}" in
    build) build "${2:-}" ;;
    assemble) assemble ;;
    all) build && assemble ;;
    *) die "usage: packaging/dist.sh [build [TARGET] | assemble]" ;;
esac
