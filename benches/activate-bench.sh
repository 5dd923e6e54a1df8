#!/usr/bin/env bash
# Activation benchmark against the simulator (loopback only): does the engine find a tenant's
# pace it is not told, with one request per token, whatever shape the tenant's limit takes?
#
#   [CASES="seed mixed told"] [READING=default] benches/activate-bench.sh [TOKENS=600] [CAPS="5 25 100"] [LATENCY_MS=50] [BURST=5]
#   SHAPES=all [CASES="seed mixed"] benches/activate-bench.sh     # issue 24's table: every limit shape
#   SHAPES="fixed-250 sliding-250" benches/activate-bench.sh       # some of its rows
#   WITHOUT=next-step-codes SHAPES=all benches/activate-bench.sh    # a mechanism switched off
#   PHASE=26 SHAPES=bucket-100 benches/activate-bench.sh             # each run 26 s into a TOTP step
#
# WITHOUT: mechanisms to switch off (`activate --without`, hidden, for measuring only):
# closures, forecast, open-rate, replay, catch-up, ramp-waits, hints, inflight, next-step-codes —
# comma-separated. Each must earn its place in the measured table (docs/pacing.md).
#
# READING: the simulator's reading of the docs (`oathbulk simulate --reading`), e.g.
# window-strict (codes of the current step only) or expand-refused.
# Buckets (the default): for each cap, the seed's own case (every token imported and assigned
# to its user, none active) and a mixed case (available, assigned, already active, held by
# others, absent, a wrong seed), with the tool NOT told the cap; then the seed's case again with
# `--max-rate CAP`. The tenant throttles writes with 429 and whole-second `Retry-After` (token
# bucket of BURST). SHAPES runs the rows of the shape table instead (windows, layered limits, a
# shared tenant, a concurrency limit; see SHAPE_ROWS below), untold. Every request the simulator
# saw is counted (reads, 429s, retries).
#
# Floors: bucket (writes − burst) / cap; windows (⌈writes / N⌉ − 1) × W; layered the larger of
# its parts; concurrency writes × latency / K; a shared period integrated. Writes are those the
# tenant took (answered other than with a 429).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-600}
CAPS=${2:-"5 25 100"}
LATENCY=${3:-50}
BURST=${4:-5}
BIN=${BIN:-target/release/oathbulk}
[[ -x $BIN ]] || cargo build --release --quiet
work=$(mktemp -d)
# KEEP=1 leaves the runs' files (outputs, simulator state) for a closer look.
if [[ -n ${KEEP:-} ]]; then echo "runs kept in $work" >&2; else trap 'rm -rf "$work"' EXIT; fi

# The shape table (issue 24): name|tokens|wall target|requests-per-token target|simulator args.
SHAPE_ROWS=(
    "bucket-5|600|1.10|1.01|--limit bucket:5:5"
    "bucket-25|600|1.10|1.01|--limit bucket:25:5"
    "bucket-100|600|1.10|1.01|--limit bucket:100:5"
    "fixed-50|600|1.15|1.05|--limit fixed-window:50:10"
    "fixed-100|600|1.15|1.05|--limit fixed-window:100:10"
    "fixed-250|600|1.15|1.05|--limit fixed-window:250:10"
    "sliding-250|600|1.15|1.05|--limit sliding-window:250:10"
    "fixed-5|60|1.15|1.10|--limit fixed-window:5:10"
    "layered|1200|1.15|1.05|--limit bucket:50:20 --limit fixed-window:1000:60"
    "shared|600|1.20|1.03|--limit bucket:25:5 --limit-shared 8:20:0.52"
    "concurrency-4|600|1.20|1.03|--limit concurrency:4"
)

make_csvs() {
    python3 - "$1" "$work" <<'PY'
import base64, random, sys
n, work = int(sys.argv[1]), sys.argv[2]
r = random.Random(42)
def rows(states):
    out = ["upn,serial number,secret key,time interval,manufacturer,model,sim_state"]
    for i in range(n):
        secret = base64.b32encode(bytes(r.getrandbits(8) for _ in range(20))).decode()
        out.append(f"user{i}@contoso.com,BENCH{i:06d},{secret},{60 if i % 5 == 0 else 30},Acme,C200,{states(i)}")
    return "\n".join(out) + "\n"
open(f"{work}/seed-{n}.csv", "w").write(rows(lambda i: "assigned"))
# 1 in 50 each of the odd states, a quarter available, the rest assigned.
odd = ["activated", "conflict", "missing", "wrong_secret"]
def mixed(i):
    if i % 50 < len(odd):
        return odd[i % 50]
    return "available" if i % 4 == 1 else "assigned"
open(f"{work}/mixed-{n}.csv", "w").write(rows(mixed))
PY
}
head -c 32 /dev/urandom | base64 | tr -d '\n/+=' > "$work/token"
chmod 600 "$work/token"

# One run: NAME CASE TOKENS WALL_TARGET REQ_TARGET "SIM_ARGS" [CLIENT_ARGS…] → one line of
# figures appended to $work/results.
run() {
    local name=$1 case=$2 n=$3 wall_target=$4 req_target=$5 sim_args=$6; shift 6
    local dir="$work/$name-$case-$#"
    mkdir -p "$dir"
    [[ -f $work/seed-$n.csv ]] || make_csvs "$n"
    mkfifo "$dir/sim-in"
    # shellcheck disable=SC2086 # the simulator's arguments are words
    "$BIN" simulate --csv "$work/$case-$n.csv" --listen 127.0.0.1:0 --token-file "$work/token" \
        --latency-ms "$LATENCY" $sim_args --state-out "$dir/state.json" --quiet \
        --reading "${READING:-default}" \
        < "$dir/sim-in" > "$dir/ready.jsonl" &
    local sim=$!
    exec 3> "$dir/sim-in"
    for _ in $(seq 100); do [[ -s $dir/ready.jsonl ]] && break; sleep 0.05; done
    local graph_url
    graph_url=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["graph_url"])' "$dir/ready.jsonl")
    # PHASE=S starts the run S seconds into a 30-second TOTP step, so runs are comparable:
    # a run that crosses a step's end meets the code window there, one that does not never
    # does (a 6-second run crosses one in a fifth of random starts).
    if [[ -n ${PHASE:-} ]]; then
        python3 -c 'import time,sys; p=float(sys.argv[1]); time.sleep((p - time.time()) % 30)' "$PHASE"
    fi
    local start end
    start=$(date +%s.%N)
    local without=()
    [[ -n ${WITHOUT:-} ]] && without=(--without "$WITHOUT")
    "$BIN" activate "$work/$case-$n.csv" --graph-url "$graph_url" --token-file "$work/token" \
        --progress none "${without[@]}" "$@" > "$dir/out.jsonl" || true
    end=$(date +%s.%N)
    exec 3>&-
    wait "$sim"
    python3 - "$dir" "$start" "$end" "$name" "$case" "$wall_target" "$req_target" "$LATENCY" "$sim_args" "${*:-untold}" >> "$work/results" <<'PY'
import json, math, sys
d, start, end, name, case = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
wall_target, req_target, latency, sim_args, told = float(sys.argv[6]), float(sys.argv[7]), float(sys.argv[8]) / 1000, sys.argv[9].split(), sys.argv[10]
state = json.load(open(f"{d}/state.json"))
out = [json.loads(l) for l in open(f"{d}/out.jsonl")]
c = state["counters"]; summary = out[-1]
activated = sum(1 for r in out if r.get("type") == "activation" and r["status"] == "activated")
once = all(dev["activations"] <= 1 for dev in state["devices"])
# Writes the tenant had to take: every write it answered other than with a 429 — the
# activations, and the writes it refused (a wrong code, someone else's token), which spend
# its budget like any other. In the seed's case these are the activations.
writes = c["writes"] - c["throttled"]
requests = c["requests"] - c["requests_by_route"].get("login.token", 0)
wall = end - start

def floor(writes, args):
    shapes, shared, i = [], None, 0
    while i < len(args):
        flag, value = args[i], args[i + 1] if i + 1 < len(args) else ""
        if flag == "--limit":
            kind, *nums = value.split(":")
            shapes.append((kind, [float(x) for x in nums]))
        elif flag == "--rate-limit":
            shapes.append(("bucket", [float(value)]))
        elif flag == "--rate-burst":
            shapes[-1] = ("bucket", [shapes[-1][1][0], float(value)])
        elif flag == "--limit-shared":
            shared = [float(x) for x in value.split(":")]
        i += 2
    def bucket(rate, burst=None):
        burst = max(burst if burst is not None else rate, 1.0)
        if not shared:
            return max(writes - burst, 1) / rate
        t, taken, dt = 0.0, burst, 0.001
        while taken < writes:
            ours = 1 - shared[2] if shared[0] <= t < shared[1] else 1
            taken += rate * ours * dt; t += dt
        return t
    parts = []
    for kind, nums in shapes:
        if kind == "bucket":
            parts.append(bucket(*nums))
        elif kind in ("fixed-window", "sliding-window"):
            parts.append(max(math.ceil(writes / nums[0]) - 1, 0) * nums[1])
        elif kind == "concurrency":
            parts.append(writes * latency / nums[0])
    return max(parts)

fl = floor(writes, sim_args)
print(json.dumps({"name": name, "case": case, "told": told, "wall": wall, "floor": fl, "ratio": wall / fl,
                  "activated": activated, "requests": requests, "per_token": requests / max(activated, 1),
                  "throttled": c["throttled"], "pace": summary.get("pace"), "once": once,
                  "wall_target": wall_target, "req_target": req_target, "exit": summary.get("exit_code")}))
PY
}

CASES=${CASES:-"seed mixed told"}
if [[ -n ${SHAPES:-} ]]; then
    for row in "${SHAPE_ROWS[@]}"; do
        IFS='|' read -r name n wall req sim_args <<< "$row"
        [[ $SHAPES == all || " $SHAPES " == *" $name "* ]] || continue
        for c in $CASES; do
            case $c in
            seed) run "$name" seed "$n" "$wall" "$req" "$sim_args" ;;
            # The mixed case keeps its own targets: ≤ 1.10 on buckets, ≤ 1.20 on the other
            # shapes, ≤ 1.05 requests per token.
            mixed)
                # The mixed file's own costs (its wrong seeds' writes, the inventory read, a
                # re-read) are fixed: 7.7% of 52 tokens before any 429. Its 1.05 target is
                # for 600 tokens; at 60 the row is measured and not judged (target 9.99).
                if [[ $name == bucket-* ]]; then mw=1.10; else mw=1.20; fi
                if ((n < 600)); then mr=9.99; else mr=1.05; fi
                run "$name" mixed "$n" "$mw" "$mr" "$sim_args"
                ;;
            told) ;;
            *) echo "unknown case $c (seed, mixed)" >&2; exit 2 ;;
            esac
        done
    done
else
    for cap in $CAPS; do
        for c in $CASES; do
            args="--rate-limit $cap --rate-burst $BURST"
            case $c in
            seed) run "bucket-$cap" seed "$N" 1.10 1.01 "$args" ;;
            mixed) run "bucket-$cap" mixed "$N" 1.10 1.05 "$args" ;;
            told) run "bucket-$cap" seed "$N" 1.03 1.01 "$args" --max-rate "$cap" ;;
            *) echo "unknown case $c (seed, mixed, told)" >&2; exit 2 ;;
            esac
        done
    done
fi

python3 - "$work/results" "$LATENCY" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"activation benchmark: latency {sys.argv[2]} ms, whole-second Retry-After")
print(f"{'tenant':14} {'case':6} {'told':>5} {'tokens':>6} {'wall s':>8} {'floor s':>8} {'ratio':>6} {'req/token':>9} {'429s':>5} {'pace':>7} {'once':>5}")
ok = True
for r in rows:
    hit = r["ratio"] <= r["wall_target"] and r["per_token"] <= r["req_target"] and r["once"]
    ok &= hit
    pace = f"{r['pace']:.1f}" if r["pace"] else "-"
    told = "no" if r["told"] == "untold" else "yes"
    print(f"{r['name']:14} {r['case']:6} {told:>5} {r['activated']:>6} {r['wall']:>8.2f} {r['floor']:>8.2f} {r['ratio']:>6.3f} "
          f"{r['per_token']:>9.4f} {r['throttled']:>5} {pace:>7} {str(r['once']):>5}  "
          f"{'ok' if hit else 'MISS'} (≤ {r['wall_target']}, ≤ {r['req_target']})")
print("RESULT " + ("PASS" if ok else "MISS (see rows marked MISS)"))
PY
