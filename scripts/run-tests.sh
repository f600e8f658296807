#!/usr/bin/env bash
# Runs every test once, one at a time, and keeps the whole output in .build/test-output.log.
# When something fails, the failures are repeated at the very end, so whoever reads only the
# tail of the output (a CI log, a terminal) sees which test failed and why.
set -uo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
log=.build/test-output.log
mkdir -p .build

# Hermeticity guard: something listens on every default port the platform uses (8080, 8081, 8090, 6379, 5432) while the
# suite runs, and any connection to it fails the run. A test that relied on a default port, or on a process it did not
# start (say a `make run` stack), is caught here even on a machine where nothing else listens there.
guard_log=.build/port-guard.log
: > "$guard_log"
python3 scripts/test/port-guard.py "$guard_log" &
guard_pid=$!
trap 'kill "$guard_pid" 2>/dev/null' EXIT

"$SWIFT" test --skip-build --no-parallel "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

if ! kill -0 "$guard_pid" 2>/dev/null; then
    echo "==== port guard: it stopped during the run, so the suite was not watched ===="
    status=1
fi
kill "$guard_pid" 2>/dev/null
wait "$guard_pid" 2>/dev/null
if [ -s "$guard_log" ]; then
    echo
    echo "==== port guard: the suite connected to a default port it did not start anything on ===="
    cat "$guard_log"
    status=1
fi

if [ "$status" -ne 0 ]; then
    echo
    echo "==== failures (whole output in $log) ===="
    # Swift Testing marks failed tests and recorded issues with ✘; XCTest says "error:".
    grep -E '✘|error: |Fatal error|signal code' "$log" | grep -v '^✘ Test run with' | head -60
    grep -E '^✘ Test run with' "$log" | tail -1
fi
exit "$status"
