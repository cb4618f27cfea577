#!/bin/sh
# isa_compile.sh BUILD_DIR - the x86 kernels of every instruction set are
# compiled and present on every machine, including those whose CPU cannot
# run them (make test-isa runs only what the CPU has). For gcc and clang,
# tests/implementation.c is compiled as a plain build (kernels chosen by
# function-level target attributes) and with -mavx512f for the whole file;
# in each object every AVX-512 kernel must exist and use zmm registers, and
# every AVX2 kernel ymm registers. Ends with "N passed, N failed".
build=${1:-build/plain}/isa
mkdir -p "$build"
passed=0
failed=0
kernels="micro relu_forward relu_backward prelu_forward prelu_backward"

# uses REGISTER FUNCTION OBJECT: FUNCTION's disassembly names REGISTER.
uses() {
    objdump -d --no-show-raw-insn "$3" |
        awk -v f="<$2>:" '$2 == f {inside = 1; next} /^$/ {inside = 0} inside' | grep -q "%$1"
}

for compiler in gcc clang; do
    for mode in plain avx512f; do
        flags=""
        [ "$mode" = avx512f ] && flags="-mavx512f"
        object="$build/relunet-$compiler-$mode.o"
        name="$compiler $mode"
        if ! command -v "$compiler" > /dev/null 2>&1; then
            echo "$name: skipped, no $compiler"
            continue
        fi
        if ! $compiler -std=c99 -Wall -Wextra -pedantic -Werror -O2 $flags -I. -I/usr/include/stb \
                -c tests/implementation.c -o "$object"; then
            failed=$((failed + 1)); echo "FAILED: $name: does not compile"; continue
        fi
        missing=""
        for kernel in $kernels; do
            uses zmm "rn__${kernel}_avx512" "$object" || missing="$missing rn__${kernel}_avx512"
            uses ymm "rn__${kernel}_avx2" "$object" || missing="$missing rn__${kernel}_avx2"
        done
        if [ -z "$missing" ]; then
            passed=$((passed + 1)); echo "ok: $name: every AVX2 and AVX-512 kernel compiled"
        else
            failed=$((failed + 1)); echo "FAILED: $name: missing or without wide registers:$missing"
        fi
    done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
