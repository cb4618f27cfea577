#!/bin/sh
# run.sh [SECONDS] - build the libFuzzer targets and run each for SECONDS
# (default 60), starting from a small generated seed corpus. Needs clang and
# libfuzzer-14-dev. Findings are written to build/fuzz/<target>-crash-*.
set -eu
seconds=${1:-60}
out=build/fuzz
flags="-std=c99 -g -O1 -I. -I${STB_INCLUDE:-/usr/include/stb}"
mkdir -p "$out/seeds/idx" "$out/seeds/cifar" "$out/seeds/image"
${CC:-cc} $flags tests/fuzz/make_seeds.c -o "$out/make_seeds" -lm
"$out/make_seeds" "$out/seeds"
for target in idx cifar image; do
    clang $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -fsanitize-ignorelist=tests/fuzz/ignorelist.txt \
        "tests/fuzz/fuzz_$target.c" -o "$out/fuzz_$target" -lm
    mkdir -p "$out/corpus/$target"
    echo "fuzz_$target: ${seconds} s"
    "$out/fuzz_$target" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
        -artifact_prefix="$out/$target-" -print_final_stats=1 \
        "$out/corpus/$target" "$out/seeds/$target" 2>&1 | tail -n 12
done
