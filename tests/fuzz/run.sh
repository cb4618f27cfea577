#!/bin/sh
# run.sh [SECONDS] - build the libFuzzer targets and run each for SECONDS
# (default 60), starting from a small generated seed corpus. Needs clang and
# libfuzzer-14-dev. Logs go to build/fuzz/<target>.log, findings to
# build/fuzz/<target>-crash-* (and the script fails). A fixed -seed makes a
# run repeatable on the same machine. SECONDS = 0 only replays the seed
# corpus once through every target: the deterministic check CI runs.
set -eu
seconds=${1:-60}
out=build/fuzz
flags="-std=c99 -g -O1 -I. -Itests -I${STB_INCLUDE:-/usr/include/stb}"
mkdir -p "$out/seeds/idx" "$out/seeds/cifar" "$out/seeds/image" "$out/seeds/model"
${CC:-cc} $flags tests/fuzz/make_seeds.c -o "$out/make_seeds" -lm
"$out/make_seeds" "$out/seeds"
${CC:-cc} $flags tests/fuzz/make_model_seeds.c -o "$out/make_model_seeds" -lm
"$out/make_model_seeds" "$out/seeds/model"
failed=0
for target in idx cifar image model; do
    clang $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -fsanitize-ignorelist=tests/fuzz/ignorelist.txt \
        "tests/fuzz/fuzz_$target.c" -o "$out/fuzz_$target" -lm
    mkdir -p "$out/corpus/$target"
    if [ "$seconds" -eq 0 ]; then
        inputs="-runs=0 $out/seeds/$target"
    else
        inputs="-max_total_time=$seconds -seed=1 $out/corpus/$target $out/seeds/$target"
    fi
    # shellcheck disable=SC2086 # $inputs is a list of arguments
    if "$out/fuzz_$target" $inputs -max_len=65536 -rss_limit_mb=2048 \
        -artifact_prefix="$out/$target-" -print_final_stats=1 > "$out/$target.log" 2>&1; then
        echo "fuzz_$target: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)\|Executed .* inputs' "$out/$target.log" | tail -n 1)"
    else
        tail -n 30 "$out/$target.log"
        echo "fuzz_$target: FAILED (see $out/$target.log)"
        failed=1
    fi
done
exit $failed
