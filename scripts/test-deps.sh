#!/bin/sh
# test-deps.sh [TARGET...] - the deps step, proved on a machine that has
# nothing: a Debian root made by debootstrap with only gcc, make and the C
# library's headers, in a temporary folder. This tree is copied in (without
# its build folders), and there, in a chroot, `make TARGET` runs for each
# TARGET, or the whole of .ci/run when none is named. Each one has to
# install what it needs through scripts/deps.sh, as on a fresh CI machine.
#
# The packages come from the archive this machine's apt uses. Needs root.
# Logs go to build/test-deps/; KEEP_ROOT=1 keeps the root for a look inside.
set -eu

if [ "$(id -u)" -ne 0 ]; then
    echo "test-deps.sh: needs root (debootstrap and chroot)" >&2
    exit 1
fi
logs="$(pwd)/build/test-deps"
mkdir -p "$logs"

# The archive: the first Debian URI in this machine's apt sources, in either
# format (deb822 .sources files or one-line sources.list).
archive_uri() {
    for file in /etc/apt/sources.list.d/*.sources; do
        [ -f "$file" ] && sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$file"
    done | grep -v security | head -n 1 | grep . && return
    sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\).*/\2/p' \
        /etc/apt/sources.list 2>/dev/null | grep -v security | head -n 1
}
archive=$(archive_uri || true)
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ -z "$archive" ] || [ -z "$suite" ]; then
    echo "test-deps.sh: cannot tell which Debian archive and release this machine uses" >&2
    exit 1
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/relunet-fresh.XXXXXX")
# mktemp's folder is private (0700); as the root's / it would keep every
# user but root out, and packages whose scripts run as their own user
# (munge) would fail there as they never do on a real machine.
chmod 755 "$root"
cleanup() {
    for mount_point in src/shared sys dev proc; do
        umount -R -l "$root/$mount_point" 2>/dev/null || true
    done
    if [ "${KEEP_ROOT:-0}" = 1 ]; then echo "test-deps.sh: root kept in $root"; else rm -rf "$root"; fi
}
trap cleanup EXIT INT TERM

echo "=== a fresh $suite root in $root (gcc, make, libc6-dev and nothing else)"
debootstrap --variant=minbase --include=gcc,make,libc6-dev "$suite" "$root" "$archive" \
    > "$logs/debootstrap.log" 2>&1 || { tail -n 20 "$logs/debootstrap.log"; exit 1; }

# This tree as git has it (tracked and new files, nothing ignored), and the
# shared folder beside it, read-only, as CI lays it.
mkdir -p "$root/src/relunet"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - | tar -C "$root/src/relunet" -xf -
else
    tar --exclude=./build -cf - . | tar -C "$root/src/relunet" -xf -
fi
if [ -d ../shared ]; then
    mkdir -p "$root/src/shared"
    mount --bind ../shared "$root/src/shared"
    mount -o remount,bind,ro "$root/src/shared"
fi

cp /etc/resolv.conf "$root/etc/resolv.conf"
# Packages install without starting their services, as in a container.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
# /sys with what is mounted below it (cgroups, which slurmd needs).
mount --rbind /sys "$root/sys"

# in_root COMMAND: run it in the root's copy of the tree, with CI's environment.
in_root() {
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=true \
        LANG=C.UTF-8 sh -c "cd /src/relunet && $1"
}

passed=0 failed=0
run_in_root() { # name command
    start=$(date +%s)
    if in_root "$2" > "$logs/$1.log" 2>&1; then
        passed=$((passed + 1))
        echo "ok: $1 ($(( $(date +%s) - start )) s)"
    else
        failed=$((failed + 1))
        tail -n 30 "$logs/$1.log"
        echo "FAILED: $1 ($(( $(date +%s) - start )) s, log in $logs/$1.log)"
    fi
}

if [ $# -eq 0 ]; then
    run_in_root ci-run "bash .ci/run"
else
    for target in "$@"; do run_in_root "$target" "make $target"; done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
