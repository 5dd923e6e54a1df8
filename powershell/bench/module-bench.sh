#!/usr/bin/env bash
# Runs the PowerShell module benchmark (objects/s, peak working set) with pwsh from PATH or
# the bundled one. Builds the release binary first if it is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
PWSH=$(command -v pwsh || echo "$repo/../shared/tools/pwsh")
[ -x "$repo/target/release/oathbulk" ] || (cd "$repo" && cargo build --release)
exec "$PWSH" -NoLogo -NoProfile -File "$here/module-bench.ps1" "$@"
