#!/usr/bin/env bash
# The SDK conformance suite (README: "SDK conformance"): Microsoft's Graph beta Python SDK
# drives `oathbulk simulate`, and oathbulk's recorded request bodies are checked against the
# CSDL's schemas. Makes its own virtual environment under target/sdk-venv from
# tests/sdk/requirements.txt (every package pinned), remade when that file changes.
#
#   bash tests/sdk/run.sh [pytest args…]
#
# OATHBULK_BIN: the binary to test (default target/debug/oathbulk, built when missing).
# Fails loudly when python3, its venv module or a package cannot be had.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/sdk-venv
req=tests/sdk/requirements.txt

command -v python3 >/dev/null || { echo "FATAL: python3 not found (apt-get install python3)" >&2; exit 1; }
stamp=$(sha256sum "$req" | cut -d' ' -f1)
if [[ ! -x $venv/bin/python || $(cat "$venv/.requirements" 2>/dev/null) != "$stamp" ]]; then
    echo "==> python3 -m venv $venv; pip install -r $req"
    rm -rf "$venv"
    python3 -m venv "$venv" || { echo "FATAL: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" </dev/null \
        || { echo "FATAL: pip could not install $req" >&2; exit 1; }
    echo "$stamp" >"$venv/.requirements"
fi

# The committed extract must be what the extractor makes of the committed CSDL excerpt.
"$venv/bin/python" tests/sdk/extract_schemas.py tests/sdk/csdl/beta-Prod.excerpt.xml "$venv/csdl-schemas.json"
if ! cmp -s "$venv/csdl-schemas.json" tests/sdk/csdl-schemas.json; then
    echo "FAIL: tests/sdk/csdl-schemas.json is not what extract_schemas.py makes of the excerpt" >&2
    diff -u tests/sdk/csdl-schemas.json "$venv/csdl-schemas.json" | head -40 >&2 || true
    exit 1
fi

export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ beside the committed files
export OATHBULK_BIN=${OATHBULK_BIN:-$PWD/target/debug/oathbulk}
if [[ ! -x $OATHBULK_BIN ]]; then
    echo "==> cargo build (the suite runs $OATHBULK_BIN)"
    cargo build --quiet
fi
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q tests/sdk "$@"
