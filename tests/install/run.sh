#!/bin/sh
# run.sh - build tests/install/consumer.c each way a project takes relunet
# and run it; ends with "N passed, N failed" like every test.
#   pkg-config         after make install into a temporary prefix
#   subdirectory       CMake add_subdirectory of this checkout
#   fetchcontent       CMake FetchContent from a tarball of this checkout
#   find_package/make  CMake find_package after make install
#   find_package/cmake CMake find_package after cmake --install
#   uninstall          make uninstall leaves the prefix without a file
cd "$(dirname "$0")/../.."
root=$(pwd)
work=$root/build/install
rm -rf "$work"
mkdir -p "$work"
passed=0
failed=0

result() { # result NAME STATUS
    if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "ok: $1"
    else failed=$((failed + 1)); echo "FAILED: $1 (see $work/$1.log)"; fi
}

# cmake_consumer NAME VIA [-D...]: configure, build and run the consumer.
cmake_consumer() {
    name=$1 via=$2
    shift 2
    { cmake -S tests/install -B "$work/$name" -DRELUNET_VIA="$via" "$@" &&
      cmake --build "$work/$name" && "$work/$name/consumer"; } > "$work/$name.log" 2>&1
    result "$name" $?
}

make -s install PREFIX="$work/make-prefix" > "$work/install.log" 2>&1
result make-install $?

{ flags=$(PKG_CONFIG_PATH="$work/make-prefix/share/pkgconfig" pkg-config --cflags --libs relunet stb) &&
  echo "pkg-config: $flags" &&
  ${CC:-cc} -std=c99 -Wall -Wextra -pedantic -Werror tests/install/consumer.c $flags -o "$work/pkg-config-consumer" &&
  "$work/pkg-config-consumer"; } > "$work/pkg-config.log" 2>&1
result pkg-config $?

cmake_consumer subdirectory subdirectory -DRELUNET_SOURCE_DIR="$root"

tar -czf "$work/relunet.tar.gz" --transform 's|^|relunet/|' CMakeLists.txt cmake relunet.h relunet_data.h
cmake_consumer fetchcontent fetchcontent -DRELUNET_TARBALL="$work/relunet.tar.gz"

cmake_consumer find_package-make find_package -DCMAKE_PREFIX_PATH="$work/make-prefix"

{ cmake -S . -B "$work/relunet-cmake" -DCMAKE_INSTALL_PREFIX="$work/cmake-prefix" &&
  cmake --install "$work/relunet-cmake"; } > "$work/cmake-install.log" 2>&1
result cmake-install $?
cmake_consumer find_package-cmake find_package -DCMAKE_PREFIX_PATH="$work/cmake-prefix"

# Both installers write the same files with the same contents (but for
# relunet.pc's prefix line).
diff -r -I '^prefix=' "$work/make-prefix" "$work/cmake-prefix" > "$work/same-files.log" 2>&1
result same-files $?

{ make -s uninstall PREFIX="$work/make-prefix" && find "$work/make-prefix" -type f &&
  test -z "$(find "$work/make-prefix" -type f)"; } > "$work/uninstall.log" 2>&1
result uninstall $?

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
