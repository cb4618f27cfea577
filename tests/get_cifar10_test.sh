#!/bin/sh
# get_cifar10_test.sh - scripts/get-cifar10.sh against local file:// tarballs:
# one made from a real CIFAR-10 folder must install and verify, a copy with
# one flipped byte must be refused and leave nothing behind, a URL that is
# not there must fail. The real folder is $CIFAR10_SOURCE (default:
# $RELUNET_DATA/cifar-10-batches-bin, else ../shared/data/cifar-10-batches-bin).
set -u
source=${CIFAR10_SOURCE:-${RELUNET_DATA:-../shared/data}/cifar-10-batches-bin}
if [ ! -f "$source/data_batch_1.bin" ]; then
    echo "get-cifar10: skipped, no CIFAR-10 folder at $source to build a tarball from"
    exit 0
fi
script="$(cd "$(dirname "$0")/.." && pwd)/scripts/get-cifar10.sh"
work=$(mktemp -d /tmp/relunet_get_cifar10.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() { # what, then a command that must succeed
    what=$1; shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what"; fi
}

mkdir "$work/good" "$work/bad"
# -L: the folder may be a link (CI links both data sets into one folder)
cp -RL "$source" "$work/good/cifar-10-batches-bin"
(cd "$work/good" && tar -cf - cifar-10-batches-bin | gzip -1 > ../good.tar.gz)
cp -RL "$source" "$work/bad/cifar-10-batches-bin"
printf 'X' | dd of="$work/bad/cifar-10-batches-bin/data_batch_3.bin" bs=1 seek=123456 conv=notrunc 2>/dev/null
(cd "$work/bad" && tar -cf ../bad.tar cifar-10-batches-bin)

CIFAR10_URL="file://$work/good.tar.gz" sh "$script" "$work/out" > "$work/log" 2>&1
check "a good tarball installs" test $? -eq 0
check "it says the MD5s match" grep -q "all six MD5s match" "$work/log"
check "the files are in place" cmp -s "$source/test_batch.bin" "$work/out/cifar-10-batches-bin/test_batch.bin"
check "no temporary folder is left" test -z "$(ls -A "$work/out" | grep -v '^cifar-10-batches-bin$')"
CIFAR10_URL="file://$work/missing.tar.gz" sh "$script" "$work/out" > "$work/log" 2>&1
check "a second run finds the verified copy" grep -q "already" "$work/log"

CIFAR10_URL="file://$work/bad.tar" sh "$script" "$work/out2" > "$work/log" 2>&1
check "a corrupted tarball is refused" test $? -ne 0
check "the refusal names the MD5s" grep -q "MD5" "$work/log"
check "nothing is installed from it" test ! -e "$work/out2/cifar-10-batches-bin"
check "no temporary folder is left" test -z "$(ls -A "$work/out2")"

CIFAR10_URL="file://$work/missing.tar.gz" sh "$script" "$work/out3" > "$work/log" 2>&1
check "a missing tarball fails" test $? -ne 0
check "and leaves nothing" test -z "$(ls -A "$work/out3")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
