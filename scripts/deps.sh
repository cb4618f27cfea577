#!/bin/sh
# deps.sh GROUP...          install the Debian packages these groups need
# deps.sh --check GROUP...  list each group's proof files and what is missing;
#                           install nothing, exit 1 when anything is missing
# GROUP "all" names every group.
#
# Each group lists "package:file" pairs. The file is one the build really
# uses - a header, a C library, a specs file, a program - not merely the
# package's name: a cross compiler without its target's C library, or
# arm-none-eabi-gcc without newlib, is as good as missing. So a package is
# needed exactly when one of its files is missing, and a machine that already
# has everything (or has it from elsewhere) installs nothing.
#
# On Debian/Ubuntu the missing packages are installed with apt-get (through
# sudo when not root) without their recommends, which is why recommends that a
# build needs (libc6-dev-*-cross, libnewlib-arm-none-eabi) are named here
# themselves. After the install every proof file is checked again, so a
# package that does not bring what the build uses stops here, by name, rather
# than in the middle of a test run. Elsewhere the script says what is missing
# and fails.
set -eu

GROUPS_ALL="build data fetch check fuzz cross windows wasm install firmware reference torch fresh-root slurm"

# The cross targets of make test-cross: their compiler, their C library (for
# static linking) and their user-mode emulator.
cross_target() { # debian-arch triplet qemu
    echo "gcc-$2:/usr/bin/$2-gcc" \
         "libc6-dev-$1-cross:/usr/$2/include/stdio.h" \
         "libc6-dev-$1-cross:/usr/$2/lib/libc.a" \
         "qemu-user:/usr/bin/qemu-$3"
}

group_packages() {
    case "$1" in
    build) echo "libstb-dev:/usr/include/stb/stb_image.h" \
                "libstb-dev:/usr/include/stb/stb_image_write.h" ;;
    data) echo "dataset-fashion-mnist:/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz" \
               "dataset-fashion-mnist:/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz" ;;
    fetch) echo "curl:/usr/bin/curl coreutils:/usr/bin/md5sum tar:/bin/tar" ;;
    check) echo "clang:/usr/bin/clang g++:/usr/bin/g++ tcc:/usr/bin/tcc valgrind:/usr/bin/valgrind" \
                "libclang-rt-14-dev:/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.asan-x86_64.a" \
                "libasan8:/usr/lib/x86_64-linux-gnu/libasan.so.8" \
                "libubsan1:/usr/lib/x86_64-linux-gnu/libubsan.so.1" \
                "libgcc-12-dev:/usr/lib/gcc/x86_64-linux-gnu/12/libgomp.so" ;;
    fuzz) echo "clang:/usr/bin/clang" \
               "libclang-rt-14-dev:/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a" \
               "libfuzzer-14-dev:/usr/lib/llvm-14/lib/libFuzzer.a" ;;
    cross) cross_target arm64 aarch64-linux-gnu aarch64
           cross_target armhf arm-linux-gnueabihf arm
           cross_target s390x s390x-linux-gnu s390x
           cross_target riscv64 riscv64-linux-gnu riscv64 ;;
    windows) echo "gcc-mingw-w64-x86-64:/usr/bin/x86_64-w64-mingw32-gcc" \
                  "g++-mingw-w64-x86-64:/usr/bin/x86_64-w64-mingw32-g++" \
                  "mingw-w64-x86-64-dev:/usr/x86_64-w64-mingw32/include/stdio.h" \
                  "wine64:/usr/lib/wine/wine64" "wine:/usr/bin/wine-stable" ;;
    wasm) echo "emscripten:/usr/bin/emcc" "emscripten:/usr/share/emscripten/system/include/emscripten.h" \
               "node-acorn:/usr/share/nodejs/acorn/package.json" "nodejs:/usr/bin/node" ;;
    install) echo "cmake:/usr/bin/cmake pkgconf:/usr/bin/pkg-config" ;;
    firmware) echo "gcc-arm-none-eabi:/usr/bin/arm-none-eabi-gcc" \
                   "libnewlib-arm-none-eabi:/usr/lib/arm-none-eabi/newlib/nano.specs" \
                   "libnewlib-arm-none-eabi:/usr/lib/arm-none-eabi/newlib/rdimon.specs" \
                   "libnewlib-arm-none-eabi:/usr/lib/arm-none-eabi/newlib/thumb/v7e-m+fp/hard/libc_nano.a" \
                   "qemu-system-arm:/usr/bin/qemu-system-arm" ;;
    reference) echo "python3-sklearn:/usr/lib/python3/dist-packages/sklearn/__init__.py" ;;
    torch) echo "python3-torch:/usr/lib/python3/dist-packages/torch/__init__.py" ;;
    fresh-root) echo "debootstrap:/usr/sbin/debootstrap" ;;
    slurm) echo "slurm-wlm:/usr/sbin/slurmctld slurm-wlm:/usr/sbin/slurmd slurm-wlm:/usr/bin/sbatch" \
                "munge:/usr/sbin/munged parallel:/usr/bin/parallel" ;;
    esac
}

# missing_packages GROUP...: the packages whose proof files are missing, once each.
missing_packages() {
    for group in "$@"; do
        for pair in $(group_packages "$group"); do
            [ -e "${pair#*:}" ] || echo "${pair%%:*}"
        done
    done | awk '!seen[$0]++' | tr '\n' ' '
}

# check_groups GROUP...: one line per proof file; fails when any is missing.
check_groups() {
    status=0
    for group in "$@"; do
        for pair in $(group_packages "$group"); do
            if [ -e "${pair#*:}" ]; then state="ok     "; else state="MISSING"; status=1; fi
            printf '%-10s %s %-26s %s\n' "$group" "$state" "${pair%%:*}" "${pair#*:}"
        done
    done
    return $status
}

only_check=0
if [ "${1:-}" = "--check" ]; then only_check=1; shift; fi
groups=""
for group in "$@"; do
    case " $GROUPS_ALL all " in
    *" $group "*) ;;
    *) echo "deps.sh: unknown group '$group' (groups: $GROUPS_ALL, all)" >&2; exit 2 ;;
    esac
    if [ "$group" = all ]; then groups="$groups $GROUPS_ALL"; else groups="$groups $group"; fi
done
# shellcheck disable=SC2086 # the group list is meant to split
set -- $groups

if [ $only_check -eq 1 ]; then
    check_groups "$@"
    exit
fi

missing=$(missing_packages "$@")
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps.sh: missing: $missing" >&2
    echo "deps.sh: this is not a Debian/Ubuntu system; install the equivalents by hand" >&2
    check_groups "$@" | grep MISSING >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
echo "deps.sh: installing $missing" >&2
$sudo apt-get update -qq >&2
# shellcheck disable=SC2086 # the package list is meant to split
if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >&2; then
    echo "deps.sh: apt-get could not install: $missing" >&2
    exit 1
fi
still_missing=$(missing_packages "$@")
if [ -n "$still_missing" ]; then
    echo "deps.sh: installed, yet their files are still missing: $still_missing" >&2
    check_groups "$@" | grep MISSING >&2
    exit 1
fi
