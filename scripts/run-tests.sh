#!/usr/bin/env bash
# Runs every test once, one at a time, and keeps the whole output in .build/test-output.log.
# When something fails, the failures are repeated at the very end, so whoever reads only the
# tail of the output (a CI log, a terminal) sees which test failed and why.
set -uo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
log=.build/test-output.log
mkdir -p .build

"$SWIFT" test --skip-build --no-parallel "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

if [ "$status" -ne 0 ]; then
    echo
    echo "==== failures (whole output in $log) ===="
    # Swift Testing marks failed tests and recorded issues with ✘; XCTest says "error:".
    grep -E '✘|error: |Fatal error|signal code' "$log" | grep -v '^✘ Test run with' | head -60
    grep -E '^✘ Test run with' "$log" | tail -1
fi
exit "$status"
