#!/bin/sh
# run.sh PROGRAM... - run test programs and add up their results.
# TEST_RUNNER, when set, prefixes every program (valgrind, qemu, wine, node);
# the programs then see RELUNET_SLOW_RUNNER=1, and the few long trainings in
# them run smaller or say they are skipped (the plain runs do them whole).
# RUN_JOBS programs run at once (default: one per CPU), since most of CI's
# time is spent in these runs under valgrind and emulators, one core each.
#
# A harness program ends with "N passed, N failed"; any other program counts
# as one test, passed when it exits 0. A crash or a non-zero exit without a
# harness line counts as a failure, so nothing can fail silently.

# run.sh --one RESULTS INDEX PROGRAM: run one program, print its ok/FAILED
# line as soon as it ends, and leave its counts in RESULTS/INDEX.counts and,
# when it failed, the end of its output in RESULTS/INDEX.failure.
if [ "${1:-}" = "--one" ]; then
    results=$2 index=$3 program=$4
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
    if [ "$f" -ne 0 ]; then
        { printf '%s\n' "$output" | tail -n 40
          echo "FAILED: $program (exit $status)"; } > "$results/$index.failure"
        echo "FAILED: $program (exit $status)"
    else
        echo "ok: $program ($p passed)"
    fi
    echo "$p $f" > "$results/$index.counts"
    exit 0
fi

if [ -n "${TEST_RUNNER:-}" ]; then
    RELUNET_SLOW_RUNNER=1
    export RELUNET_SLOW_RUNNER
fi
jobs=${RUN_JOBS:-$(nproc 2>/dev/null || echo 1)}
results=$(mktemp -d "${TMPDIR:-/tmp}/relunet_run_XXXXXX") || exit 1
trap 'rm -rf "$results"' EXIT

index=0
for program in "$@"; do
    index=$((index + 1))
    printf '%s %s\n' "$index" "$program"
done | xargs -n 2 -P "$jobs" sh "$0" --one "$results"

# The failures' output is printed at the end, in the order the programs
# were given, so that parallel runs never interleave it.
passed=0
failed=0
index=0
for program in "$@"; do
    index=$((index + 1))
    if [ -f "$results/$index.counts" ]; then
        read -r p f < "$results/$index.counts"
    else
        echo "FAILED: $program (the runner did not report it)"
        p=0 f=1
    fi
    if [ -f "$results/$index.failure" ]; then cat "$results/$index.failure"; fi
    passed=$((passed + p))
    failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
