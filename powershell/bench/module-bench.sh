#!/usr/bin/env bash
# Runs the PowerShell module benchmarks with pwsh from PATH or the bundled one: objects/s and
# peak working set of Import-OathBulkToken (module-bench.ps1), then Import-Csv rows bound into
# Enable-OathBulkToken -Simulate -WhatIf per second (binding-bench.ps1). Builds the release
# binary first if it is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
PWSH=$(command -v pwsh || echo "$repo/../shared/tools/pwsh")
[ -x "$repo/target/release/oathbulk" ] || (cd "$repo" && cargo build --release)
"$PWSH" -NoLogo -NoProfile -File "$here/module-bench.ps1" "$@"
exec "$PWSH" -NoLogo -NoProfile -File "$here/binding-bench.ps1"
