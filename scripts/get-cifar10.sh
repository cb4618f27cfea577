#!/bin/sh
# get-cifar10.sh [DIR] - fetch the binary version of CIFAR-10 into
# DIR/cifar-10-batches-bin (DIR defaults to "data"), then pass --data DIR to
# the CIFAR-10 examples or set RELUNET_DATA=DIR.
#
# The tarball is downloaded with curl (or wget) into a temporary folder
# inside DIR, unpacked there, and each of the six batch files is checked
# against its published MD5; only then is the folder moved into place. A
# failed download or a wrong checksum leaves DIR as it was and exits 1.
# CIFAR10_URL overrides the URL (tests use a file:// tarball, which needs curl).
set -eu

dir=${1:-data}
url=${CIFAR10_URL:-https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz}
target="$dir/cifar-10-batches-bin"

checksums() {
    cat <<'SUMS'
5dd7e06a14cb22eb9f671a540d1b7c25  data_batch_1.bin
5ea93a67294ea407fff1d09f752e9692  data_batch_2.bin
942cd6a4bcdd0dd3c604fbe906cb4421  data_batch_3.bin
ae636b3ba5c66a11e91e8cb52e771fcb  data_batch_4.bin
53f37980c15c3d472c316c40844f3f0d  data_batch_5.bin
803d5f7f4d78ea53de84dbe85f74fb6d  test_batch.bin
SUMS
}

# verify FOLDER: every batch file there has its published MD5.
verify() {
    (cd "$1" && checksums | md5sum --check --quiet --strict -) || return 1
    test -s "$1/batches.meta.txt" || { echo "$1/batches.meta.txt is missing" >&2; return 1; }
}

if [ -d "$target" ] && verify "$target" 2>/dev/null; then
    echo "CIFAR-10 is already in $target (all six MD5s match)"
    exit 0
fi

mkdir -p "$dir"
work=$(mktemp -d "$dir/.get-cifar10.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

echo "fetching $url"
if command -v curl >/dev/null 2>&1; then
    curl --fail --location --retry 3 --silent --show-error --output "$work/cifar.tar.gz" "$url"
elif command -v wget >/dev/null 2>&1; then
    wget --quiet --tries=3 --output-document="$work/cifar.tar.gz" "$url"
else
    echo "get-cifar10.sh: needs curl or wget (apt-get install curl)" >&2
    exit 1
fi

# GNU tar finds the compression itself.
if ! tar -xf "$work/cifar.tar.gz" -C "$work"; then
    echo "get-cifar10.sh: $url is not a readable tarball" >&2
    exit 1
fi
if [ ! -d "$work/cifar-10-batches-bin" ] || ! verify "$work/cifar-10-batches-bin"; then
    echo "get-cifar10.sh: the files from $url do not match CIFAR-10's published MD5s;" \
         "nothing was installed" >&2
    exit 1
fi

rm -rf "$target"
mv "$work/cifar-10-batches-bin" "$target"
echo "CIFAR-10 is in $target (all six MD5s match); use --data $dir or RELUNET_DATA=$dir"
