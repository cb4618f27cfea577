#!/bin/sh
# deps.sh GROUP... - install the Debian packages a make target needs.
#
# Each group lists "package:file" pairs: the package is needed only when the
# file that proves it is installed is missing, so a machine that already has
# everything (or has it from elsewhere) installs nothing. On Debian/Ubuntu the
# missing packages are installed with apt-get (through sudo when not root);
# anywhere else the script says what is missing and fails.
set -eu

group_packages() {
    case "$1" in
    build) echo "libstb-dev:/usr/include/stb/stb_image.h" ;;
    data) echo "dataset-fashion-mnist:/usr/share/datasets/fashion-mnist" ;;
    check) echo "clang:/usr/bin/clang tcc:/usr/bin/tcc valgrind:/usr/bin/valgrind" \
                "libclang-rt-14-dev:/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.asan-x86_64.a" ;;
    fuzz) echo "clang:/usr/bin/clang libfuzzer-14-dev:/usr/lib/llvm-14/lib/libFuzzer.a" ;;
    cross) echo "gcc-aarch64-linux-gnu:/usr/bin/aarch64-linux-gnu-gcc" \
                "gcc-arm-linux-gnueabihf:/usr/bin/arm-linux-gnueabihf-gcc" \
                "gcc-s390x-linux-gnu:/usr/bin/s390x-linux-gnu-gcc" \
                "qemu-user:/usr/bin/qemu-aarch64" ;;
    firmware) echo "gcc-arm-none-eabi:/usr/bin/arm-none-eabi-gcc" ;;
    reference) echo "python3-sklearn:/usr/lib/python3/dist-packages/sklearn/__init__.py" ;;
    torch) echo "python3-torch:/usr/lib/python3/dist-packages/torch/__init__.py" ;;
    slurm) echo "slurm-wlm:/usr/sbin/slurmctld slurm-wlm:/usr/sbin/slurmd slurm-wlm:/usr/bin/sbatch" \
                "munge:/usr/sbin/munged parallel:/usr/bin/parallel" ;;
    *) echo "deps.sh: unknown group '$1'" >&2; exit 2 ;;
    esac
}

missing=""
for group in "$@"; do
    for pair in $(group_packages "$group"); do
        package=${pair%%:*}
        file=${pair#*:}
        [ -e "$file" ] || missing="$missing $package"
    done
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps.sh: missing:$missing" >&2
    echo "deps.sh: this is not a Debian/Ubuntu system; install the equivalents by hand" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
echo "deps.sh: installing$missing" >&2
$sudo apt-get update -qq >&2
# shellcheck disable=SC2086 # the package list is meant to split
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >&2
