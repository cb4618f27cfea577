#!/bin/sh
# run.sh PROGRAM... - run test programs and add up their results.
# TEST_RUNNER, when set, prefixes every program (valgrind, qemu, wine, node);
# the programs then see RELUNET_SLOW_RUNNER=1, and the few long trainings in
# them run smaller or say they are skipped (the plain runs do them whole).
#
# A harness program ends with "N passed, N failed"; any other program counts
# as one test, passed when it exits 0. A crash or a non-zero exit without a
# harness line counts as a failure, so nothing can fail silently.
passed=0
failed=0
if [ -n "${TEST_RUNNER:-}" ]; then
    RELUNET_SLOW_RUNNER=1
    export RELUNET_SLOW_RUNNER
fi
for program in "$@"; do
    output=$(${TEST_RUNNER:-} "$program" 2>&1)
    status=$?
    # Windows programs (under wine) end their lines with \r\n.
    output=$(printf '%s\n' "$output" | tr -d '\r')
    summary=$(printf '%s\n' "$output" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    if [ -n "$summary" ]; then
        p=${summary%% passed*}
        f=${summary#*, }
        f=${f%% failed*}
        if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    elif [ "$status" -eq 0 ]; then
        p=1 f=0
    else
        p=0 f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
        printf '%s\n' "$output" | tail -n 40
        echo "FAILED: $program (exit $status)"
    else
        echo "ok: $program ($p passed)"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
