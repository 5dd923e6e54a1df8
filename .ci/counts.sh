# Sourced by .ci/test: the test counts of a run, read from what the runners print, for the
# command's last line (`373 passed, 0 failed, 175 skipped`). tests/ci_counts.rs feeds these
# functions the runners' own output shapes.

# `cargo nextest run` output on stdin → "passed failed skipped". Its summary line:
#   Summary [  45.1s] 373 tests run: 370 passed, 2 failed, 1 timed out, 12 skipped
# (a timed-out test is a failed one). No summary line: "0 0 0".
nextest_counts() {
    local line passed=0 failed=0 timedout=0 skipped=0
    line=$(grep -E '^[[:space:]]*Summary \[.*tests? run:' | tail -n 1 || true)
    [[ $line =~ ([0-9]+)\ passed ]] && passed=${BASH_REMATCH[1]}
    [[ $line =~ ([0-9]+)\ failed ]] && failed=${BASH_REMATCH[1]}
    [[ $line =~ ([0-9]+)\ timed\ out ]] && timedout=${BASH_REMATCH[1]}
    [[ $line =~ ([0-9]+)\ skipped ]] && skipped=${BASH_REMATCH[1]}
    echo "$passed $((failed + timedout)) $skipped"
}

# `cargo test` output on stdin → "passed failed ignored", summed over every test binary's
#   test result: ok. 12 passed; 0 failed; 3 ignored; 0 measured; 0 filtered out; finished in 0.01s
cargo_test_counts() {
    local passed=0 failed=0 ignored=0 line
    while IFS= read -r line; do
        [[ $line =~ ^test\ result:.*\ ([0-9]+)\ passed\;\ ([0-9]+)\ failed\;\ ([0-9]+)\ ignored ]] || continue
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
        ignored=$((ignored + BASH_REMATCH[3]))
    done
    echo "$passed $failed $ignored"
}

# The Pester tests of powershell/tests, counted without PowerShell (to say how many did not
# run): its `It` blocks (an `It … -ForEach` counts once, though Pester runs it per case).
pester_static_count() {
    cat "$1"/*.Tests.ps1 | grep -cE '^[[:space:]]*It[[:space:]]' || true
}
