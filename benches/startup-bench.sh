#!/usr/bin/env bash
# Start-up time of the release binary: `oathbulk --version`. Target: < 5 ms mean.
#
#   bash benches/startup-bench.sh
#
# Uses hyperfine (apt-get install hyperfine) when present, else a plain 200-run loop.
set -euo pipefail

cd "$(dirname "$0")/.."
TARGET_MS=5
BIN=target/release/oathbulk
echo "building the release binary…" >&2
cargo build --release --quiet --bin oathbulk

if command -v hyperfine >/dev/null; then
    json=$(mktemp)
    trap 'rm -f "$json"' EXIT
    hyperfine -N --warmup 20 --runs 300 --export-json "$json" "$BIN --version"
    mean_ms=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"] * 1000)' "$json")
else
    echo "hyperfine not found: timing 200 runs in a loop" >&2
    start=$(date +%s%N)
    for _ in $(seq 200); do "$BIN" --version >/dev/null; done
    end=$(date +%s%N)
    mean_ms=$(awk "BEGIN { print ($end - $start) / 200 / 1000000 }")
fi
printf 'oathbulk --version: %.2f ms mean\n' "$mean_ms"
if awk "BEGIN { exit !($mean_ms < $TARGET_MS) }"; then
    echo "PASS: under $TARGET_MS ms"
else
    echo "FAIL: not under $TARGET_MS ms"
    exit 1
fi
