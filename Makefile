# relunet - build, test and run the examples.
#
#   make test          build and run every test (installs missing Debian packages first)
#   make test SAN=1    the same under AddressSanitizer and UndefinedBehaviorSanitizer
#   make test-valgrind the same under valgrind's memcheck
#   make examples      build the example programs
#   make demo          a short ReLU_alpha study on Fashion-MNIST, written to demo/
#   make user-program  build and run tests/user_program.c (the training helpers end to end)
#   make data-cifar10  fetch CIFAR-10 into data/ and check its MD5s (DATA_DIR=...)
#   make test-get-cifar10  that script against good and corrupted local tarballs
#   make check-headers compile the headers with gcc, clang (-Werror) and tcc, and as
#                      C++11 and C++17 with g++ and clang++
#   make test-isa      the whole suite under every instruction set this CPU has
#   make test-torch    a differential test against PyTorch in float64 (python3-torch)
#   make test-cross    test-arm, test-s390x and test-riscv64: every other architecture CI covers
#   make test-arm      the suite cross-compiled for AArch64 and 32-bit ARM (NEON
#                      with and without FMA) and run under qemu
#   make bench         kernel, curve (exp/tanh/sigmoid) and training benchmarks (OpenMP),
#                      and training on 1 and 2 threads while another process spins on a core
#   make bench-compare every speed goal beside its figure and PyTorch's (python3-torch)
#   make fuzz          run every libFuzzer target for FUZZ_SECONDS (default 60)
#   make test-s390x    the tests built for big-endian s390x, run under qemu-s390x
#   make firmware-size the ReLU_alpha network for a Cortex-M4: flash, RAM, arena
#   make test-firmware the same network run on emulated Cortex-M3/M4F/M7 boards
#   make deps-check    every dependency group's proof files and what is missing
#   make test-deps     the deps step on a fresh Debian root (debootstrap, root only)
#   make test-slurm    every example's --quick as an sbatch --array on a one-node
#                      Slurm cluster started on localhost (root), and GNU parallel
#
# CC, CFLAGS and LDLIBS pass through: make test CC=clang CFLAGS=-O1

# Builds use every core, their output kept whole line by line; tests/run.sh
# runs the test programs one per core too (RUN_JOBS=1: one at a time).
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 1) --output-sync=line

CFLAGS ?= -O2 -g
LDLIBS ?= -lm
STB_INCLUDE ?= /usr/include/stb
WARNINGS = -std=c99 -Wall -Wextra -pedantic
# A test that forgets an include is an error, whichever way it is built.
TEST_WARNINGS = -Werror=implicit-function-declaration
ifeq ($(SAN),1)
SANITIZE = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
BUILD = build/san
else
BUILD = build/plain
endif
INCLUDES = -I. -Itests -Iexamples -I$(STB_INCLUDE)
ALL_CFLAGS = $(WARNINGS) $(TEST_WARNINGS) $(CFLAGS) $(SANITIZE) $(INCLUDES)
HEADERS = $(wildcard relunet*.h) tests/harness.h $(wildcard tests/*.h) $(wildcard examples/*.h)

TESTS = $(patsubst tests/%.c,$(BUILD)/%,$(wildcard tests/test_*.c))
BENCHES = $(patsubst bench/%.c,$(BUILD)/%,$(wildcard bench/bench_*.c))
PYTHON ?= /usr/bin/python3
EXAMPLES = $(patsubst examples/%.c,$(BUILD)/%,$(wildcard examples/*.c))

# C++: test_cxx links against the implementation compiled as C (C++11) and
# as C++ (C++17), and the README's C++ example is compiled and run. The C++
# compiler is the one beside CC (gcc -> g++, clang -> clang++, cc -> c++,
# aarch64-linux-gnu-gcc -> aarch64-linux-gnu-g++); without it these are
# skipped by name.
CXX_FOR_CC = $(patsubst %gcc,%g++,$(patsubst %clang,%clang++,$(patsubst cc,c++,$(patsubst emcc,em++,$(CC)))))
CXX_TESTS = $(if $(shell command -v $(CXX_FOR_CC)),$(BUILD)/test_cxx_c $(BUILD)/test_cxx_cxx \
              $(BUILD)/readme_cxx)
CXX_FLAGS = -Wall -Wextra -pedantic -Werror $(CFLAGS) $(SANITIZE) $(INCLUDES)

.PHONY: all test test-torch test-valgrind test-isa test-cross test-arm bench bench-compare fuzz \
        examples demo deps deps-check test-deps check-headers clean test-s390x firmware-size \
        install uninstall test-install test-riscv64 test-slurm test-firmware user-program \
        data-cifar10 test-get-cifar10 test-windows test-wasm

all: $(TESTS) $(EXAMPLES)

deps:
	@sh scripts/deps.sh build data

# Every group's proof files, with what is missing; installs nothing.
deps-check:
	@sh scripts/deps.sh --check all

# The deps step itself, tested: a Debian root with only gcc and make
# (debootstrap), in which each named make target must install what it needs
# and pass (default: the whole of .ci/run). Needs root and the package archive.
FRESH_TARGETS ?=
test-deps:
	@sh scripts/deps.sh fresh-root
	sh scripts/test-deps.sh $(FRESH_TARGETS)

# The two-moons generator is compared point by point with scikit-learn's
# make_moons when Debian's python3-sklearn is there (sh scripts/deps.sh reference).
SKLEARN_PYTHON = $(firstword $(wildcard /usr/bin/python3) python3)

test: deps $(TESTS) $(BUILD)/readme_quickstart $(BUILD)/user_program $(CXX_TESTS)
	@$(SKLEARN_PYTHON) tests/moons_reference.py > $(BUILD)/moons_reference.txt 2>/dev/null \
	    || rm -f $(BUILD)/moons_reference.txt
	@$(if $(CXX_TESTS),,echo "test_cxx: skipped, no C++ compiler $(CXX_FOR_CC)")
	@RELUNET_MOONS_REFERENCE=$$(test -s $(BUILD)/moons_reference.txt && echo $(BUILD)/moons_reference.txt) \
	    sh tests/run.sh $(TESTS) $(BUILD)/readme_quickstart $(CXX_TESTS)

# Each libFuzzer target runs FUZZ_SECONDS (0: the seed corpus replayed once);
# a finding fails the run.
FUZZ_SECONDS ?= 60
fuzz:
	@sh scripts/deps.sh build fuzz
	sh tests/fuzz/run.sh $(FUZZ_SECONDS)

test-valgrind: deps $(TESTS) $(BUILD)/readme_quickstart $(CXX_TESTS)
	@sh scripts/deps.sh check
	@TEST_RUNNER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
	    sh tests/run.sh $(TESTS) $(BUILD)/readme_quickstart $(CXX_TESTS)

examples: deps $(EXAMPLES)

# test_simd --isa-list names the instruction sets this CPU runs, and
# --isa-skipped those this build has but the CPU lacks: they are named as
# skipped, and on x86 tests/isa_compile.sh still proves their kernels compile
# (gcc and clang, with and without -mavx512f).
test-isa: deps $(TESTS)
	@for isa in $$($(BUILD)/test_simd --isa-list); do \
	    echo "=== RELUNET_ISA=$$isa"; \
	    RELUNET_ISA=$$isa sh tests/run.sh $(TESTS) || exit 1; \
	done
	@echo "=== kernels compiled for every instruction set"
	@case "$$(uname -m)" in x86_64|i?86) sh tests/isa_compile.sh $(BUILD) ;; \
	    *) echo "isa_compile: skipped, not an x86 machine" ;; esac
	@echo "=== test-isa: ran $$($(BUILD)/test_simd --isa-list | tr '\n' ' ')"
	@$(BUILD)/test_simd --isa-skipped | sed 's/$$/: skipped, CPU lacks it/'

# NEON on every CI run: the suite for AArch64 and for 32-bit ARM with
# (vfpv4) and without (Cortex-A8/A9) fused multiply-add, under qemu. 32-bit
# readdir and stat need large-file support for the host's inode numbers.
# test_examples starts the example programs, which only the host can run.
cross_tests = $(patsubst tests/%.c,$(1)/%,$(filter-out tests/test_examples.c,$(wildcard tests/test_*.c)))
test-cross: test-arm test-s390x test-riscv64

test-arm:
	@sh scripts/deps.sh build cross
	$(MAKE) test CC=aarch64-linux-gnu-gcc CFLAGS="-O2 -static" BUILD=build/arm/aarch64 \
	    TEST_RUNNER=qemu-aarch64 SAN= TESTS="$(call cross_tests,build/arm/aarch64)"
	$(MAKE) test CC=arm-linux-gnueabihf-gcc BUILD=build/arm/armhf-vfpv4 \
	    CFLAGS="-O2 -static -mfpu=neon-vfpv4 -D_FILE_OFFSET_BITS=64" TEST_RUNNER=qemu-arm SAN= \
	    TESTS="$(call cross_tests,build/arm/armhf-vfpv4)"
	$(MAKE) test CC=arm-linux-gnueabihf-gcc BUILD=build/arm/armhf-neon \
	    CFLAGS="-O2 -static -mfpu=neon -D_FILE_OFFSET_BITS=64" TEST_RUNNER=qemu-arm SAN= \
	    TESTS="$(call cross_tests,build/arm/armhf-neon)"

# Every bench prints its tables and writes its figures as rows to
# build/bench/NAME.tsv; bench/compare.py puts them beside PyTorch's (when
# python3-torch is installed) and beside the speed goals, and writes that
# table to build/bench/goals.tsv. bench-compare installs PyTorch first and
# keeps the benches' tables in build/bench/NAME.txt, printing only the goals.
BENCH_DIR = build/bench
bench_output =
bench-compare: bench_output = > $(BENCH_DIR)/$(1).txt

define run_benches
	@mkdir -p $(BENCH_DIR)
	$(BUILD)/bench_gemm --tsv $(BENCH_DIR)/gemm.tsv $(call bench_output,gemm)
	$(BUILD)/bench_conv --tsv $(BENCH_DIR)/conv.tsv $(call bench_output,conv)
	$(BUILD)/bench_train --tsv $(BENCH_DIR)/train.tsv $(call bench_output,train)
	$(BUILD)/bench_train --busy --tsv $(BENCH_DIR)/busy.tsv $(call bench_output,busy)
	$(BUILD)/bench_curves --tsv $(BENCH_DIR)/curves.tsv $(call bench_output,curves)
	$(PYTHON) bench/compare.py $(BENCH_DIR)
endef

bench: $(BENCHES)
	$(run_benches)

# A live differential test against PyTorch (float64, python3-torch): every
# layer, activation kind and loss, optimizer trajectories, 50 steps of the
# ReLU_alpha study network and int8 quantisation's scales, zero points and
# values (exactly), under every instruction set this CPU has.
# tests/torch_driver.c writes the cases and relunet's numbers,
# tests/torch_reference.py recomputes them with torch and compares.
test-torch: deps $(BUILD)/torch_driver $(BUILD)/test_simd
	@sh scripts/deps.sh torch
	@for isa in $$($(BUILD)/test_simd --isa-list); do \
	    echo "=== RELUNET_ISA=$$isa"; \
	    RELUNET_ISA=$$isa $(BUILD)/torch_driver > $(BUILD)/torch_cases_$$isa.jsonl || exit 1; \
	    $(PYTHON) tests/torch_reference.py $(BUILD)/torch_cases_$$isa.jsonl || exit 1; \
	done

$(BUILD)/torch_driver: tests/torch_driver.c tests/study_net.h relunet.h | $(BUILD)
	$(CC) $(ALL_CFLAGS) $< -o $@ $(LDLIBS)

bench-compare: deps $(BENCHES)
	@sh scripts/deps.sh torch
	$(run_benches)

$(BUILD)/bench_%: bench/bench_%.c bench/bench.h relunet.h | $(BUILD)
	$(CC) $(ALL_CFLAGS) -fopenmp $< -o $@ $(LDLIBS)

# The implementation is compiled once per configuration (build folder), and
# every test links it, except the tests that define RELUNET_IMPLEMENTATION
# themselves: they reach the library's internals or set configuration macros
# of their own (a failing allocator, RELUNET_NO_SIMD).
SELF_CONTAINED_TESTS = $(patsubst tests/%.c,$(BUILD)/%,\
    $(shell grep -l '^.define RELUNET_IMPLEMENTATION' tests/test_*.c))
LINKED_TESTS = $(filter-out $(SELF_CONTAINED_TESTS),$(TESTS))

$(BUILD)/relunet.o: tests/implementation.c relunet.h relunet_data.h | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LINKED_TESTS): $(BUILD)/%: tests/%.c $(BUILD)/relunet.o $(HEADERS) | $(BUILD)
	$(CC) $(ALL_CFLAGS) $< $(BUILD)/relunet.o -o $@ $(LDLIBS)

$(BUILD)/test_%: tests/test_%.c $(HEADERS) | $(BUILD)
	$(CC) $(ALL_CFLAGS) $< -o $@ $(LDLIBS)

# test_threads trains two networks in two POSIX threads.
$(BUILD)/test_threads: LDLIBS += -pthread

# test_export includes the ReLU_alpha network's exported header, written by
# firmware/export_relu_alpha.c (run through TEST_RUNNER when cross-testing)
# with the reference outputs it computed on this platform.
$(BUILD)/export/relu_alpha_model.h: firmware/export_relu_alpha.c tests/study_net.h relunet.h | $(BUILD)
	mkdir -p $(BUILD)/export
	$(CC) $(ALL_CFLAGS) $< -o $(BUILD)/export_relu_alpha $(LDLIBS)
	$(TEST_RUNNER) $(BUILD)/export_relu_alpha $(BUILD)/export

$(BUILD)/test_export: tests/test_export.c $(BUILD)/export/relu_alpha_model.h $(HEADERS)
	$(CC) $(ALL_CFLAGS) -I$(BUILD)/export $< -o $@ $(LDLIBS)

$(BUILD)/%: examples/%.c $(HEADERS) | $(BUILD)
	$(CC) $(ALL_CFLAGS) $< -o $@ $(LDLIBS)

# test_examples runs these with --quick.
$(BUILD)/test_examples: $(BUILD)/relu_alpha_sweep $(BUILD)/conv_linearization \
    $(BUILD)/adaptive_mixtures $(BUILD)/prelu_study $(BUILD)/rai_moons

test-slurm: deps $(BUILD)/test_examples
	@sh scripts/deps.sh slurm
	sh tests/slurm.sh $(BUILD)

# A short ReLU_alpha sweep: 6 lambdas, 2 runs each, 2 epochs (a minute or two on 2 cores).
demo: deps $(BUILD)/relu_alpha_sweep
	$(BUILD)/relu_alpha_sweep --lambdas 0,0.01,0.02,0.03,0.04,0.05 --runs 2 --epochs 2 --out demo

# C++: test_cxx against the implementation compiled as C and as C++, and
# the README's C++ example (CXX_TESTS above).

$(BUILD)/relunet_cxx.o: tests/implementation.c relunet.h relunet_data.h | $(BUILD)
	$(CXX_FOR_CC) -std=c++17 -x c++ $(CXX_FLAGS) -c $< -o $@

$(BUILD)/test_cxx_c: tests/test_cxx.cpp $(BUILD)/relunet.o tests/harness.h
	$(CXX_FOR_CC) -std=c++11 $(CXX_FLAGS) $< $(BUILD)/relunet.o -o $@ $(LDLIBS)

$(BUILD)/test_cxx_cxx: tests/test_cxx.cpp $(BUILD)/relunet_cxx.o tests/harness.h
	$(CXX_FOR_CC) -std=c++17 $(CXX_FLAGS) $< $(BUILD)/relunet_cxx.o -o $@ $(LDLIBS)

$(BUILD)/readme_cxx.cpp: README.md | $(BUILD)
	awk '/^```cpp$$/ {inside = 1; next} /^```$$/ && inside {exit} inside' README.md > $@

$(BUILD)/readme_cxx: $(BUILD)/readme_cxx.cpp relunet.h
	$(CXX_FOR_CC) -std=c++11 $(CXX_FLAGS) $< -o $@ $(LDLIBS)

# The README's quick start is compiled and run, so it cannot rot: the first
# ```c block of README.md is extracted as a program.
$(BUILD)/readme_quickstart.c: README.md | $(BUILD)
	awk '/^```c$$/ {inside = 1; next} /^```$$/ && inside {exit} inside' README.md > $@

$(BUILD)/readme_quickstart: $(BUILD)/readme_quickstart.c relunet.h
	$(CC) $(ALL_CFLAGS) $< -o $@ $(LDLIBS)

# CIFAR-10's binary version, fetched and checked against its published MD5s,
# into DATA_DIR (default data/; pass --data data or RELUNET_DATA=data).
DATA_DIR ?= data
data-cifar10:
	@sh scripts/deps.sh fetch
	sh scripts/get-cifar10.sh $(DATA_DIR)

# get-cifar10.sh against a good and a corrupted local file:// tarball made
# from an existing CIFAR-10 folder (about 30 s).
test-get-cifar10:
	@sh scripts/deps.sh fetch
	sh tests/get_cifar10_test.sh

# tests/user_program.c, the README's Fashion-MNIST program with the training
# helpers: make test compiles it, make user-program runs it (about 10 s).
$(BUILD)/user_program: tests/user_program.c relunet.h relunet_data.h | $(BUILD)
	$(CC) $(ALL_CFLAGS) $< -o $@ $(LDLIBS)

user-program: deps $(BUILD)/user_program
	mkdir -p $(BUILD)/user_program.out
	cd $(BUILD)/user_program.out && ../user_program

# Every build starts with the deps step, also under make -j.
$(BUILD): | deps
	mkdir -p $@

# Every header, alone and together, as C99 with warnings as errors, and with
# tcc (which only gets the scalar kernels).
check-headers: | $(BUILD)
	@sh scripts/deps.sh build check
	printf '#define RELUNET_IMPLEMENTATION\n#include "relunet.h"\n%s\nint main(void) { return 0; }\n' \
	    "$$(test -f relunet_data.h && echo '#include "relunet_data.h"')" > $(BUILD)/headers.c
	for compiler in gcc clang; do \
	    $$compiler $(WARNINGS) -Werror -I. -I$(STB_INCLUDE) -c $(BUILD)/headers.c -o $(BUILD)/headers.o || exit 1; \
	    echo "$$compiler: clean"; \
	done
	tcc -I. -I$(STB_INCLUDE) -c $(BUILD)/headers.c -o $(BUILD)/headers.o && echo "tcc: clean"
	for compiler in g++ clang++; do for standard in c++11 c++17; do \
	    $$compiler -std=$$standard -Wall -Wextra -pedantic -Werror -x c++ -I. -I$(STB_INCLUDE) \
	        -c $(BUILD)/headers.c -o $(BUILD)/headers.o || exit 1; \
	    echo "$$compiler -std=$$standard: clean"; \
	done; done

# Big-endian: the whole suite cross-compiled for s390x (static, so qemu needs
# no sysroot) and run under qemu-s390x. GCC evaluates float expressions in
# double precision there under ISO C (FLT_EVAL_METHOD 1); -fexcess-precision=fast
# gives the float arithmetic of every other target, which the tests' exact
# comparisons (x == pixel / 255.0f) assume.
test-s390x:
	@sh scripts/deps.sh build cross
	$(MAKE) test CC=s390x-linux-gnu-gcc CFLAGS="-O2 -static -fexcess-precision=fast" BUILD=build/s390x \
	    TEST_RUNNER=qemu-s390x SAN= TESTS="$(call cross_tests,build/s390x)"

# RISC-V: the suite for riscv64 (RV64GC, scalar kernels), static, under
# qemu-riscv64.
test-riscv64:
	@sh scripts/deps.sh build cross
	$(MAKE) test CC=riscv64-linux-gnu-gcc CFLAGS="-O2 -static" BUILD=build/riscv64 \
	    TEST_RUNNER=qemu-riscv64 SAN= TESTS="$(call cross_tests,build/riscv64)"

# Windows: the suite cross-compiled with MinGW-w64 (static, so no DLLs to
# find) and run under wine, in a wine prefix of its own. scripts/mingw/gcc
# keeps the output names make expects (no .exe). The x86 kernels are
# dispatched by cpuid/xgetbv there as on Linux, so test_simd checks every
# instruction set the CPU has. test_examples, which forks, stays on the host;
# instead two examples run --quick under wine, the sweep with --jobs 2 (one
# training at a time there: study.h has no fork on Windows) and must write
# their reports.
WINE ?= $(firstword $(wildcard /usr/bin/wine-stable) wine)
WINDOWS_ENV = WINEDEBUG=-all WINEPREFIX=$(CURDIR)/build/wine
test-windows:
	@sh scripts/deps.sh build data windows
	$(WINDOWS_ENV) $(MAKE) test CC=scripts/mingw/gcc \
	    CFLAGS="-O2 -static" BUILD=build/windows TEST_RUNNER=$(WINE) SAN= \
	    TESTS="$(call cross_tests,build/windows)"
	$(MAKE) CC=scripts/mingw/gcc CFLAGS="-O2 -static" BUILD=build/windows \
	    build/windows/rai_moons build/windows/relu_alpha_sweep
	rm -rf build/windows/examples
	$(WINDOWS_ENV) $(WINE) build/windows/rai_moons --quick --out build/windows/examples/rai > /dev/null
	$(WINDOWS_ENV) $(WINE) build/windows/relu_alpha_sweep --quick --jobs 2 \
	    --out build/windows/examples/sweep > /dev/null
	test -s build/windows/examples/rai/REPORT.md && test -s build/windows/examples/sweep/REPORT.md
	@echo "windows examples: rai_moons and relu_alpha_sweep --quick wrote their reports"

# WebAssembly: the suite built with Emscripten (scalar kernels: dispatch is
# at compile time there and no SIMD128 set exists yet) and run under node,
# with the host's files (NODERAWFS) and one self-contained .js per program,
# named as make expects. Debian's emscripten finds its node modules (acorn)
# in /usr/share/nodejs.
WASM_LDLIBS = -lm -sNODERAWFS=1 -sEXIT_RUNTIME=1 -sENVIRONMENT=node -sSINGLE_FILE=1 \
              -sALLOW_MEMORY_GROWTH=1
test-wasm:
	@sh scripts/deps.sh build wasm
	NODE_PATH=/usr/share/nodejs $(MAKE) test CC=emcc CFLAGS="-O2" LDLIBS="$(WASM_LDLIBS)" \
	    BUILD=build/wasm TEST_RUNNER=node SAN= TESTS="$(call cross_tests,build/wasm)"

# The ReLU_alpha study's network, exported with rn_net_export_c, in an
# inference-only program for a Cortex-M4F with no heap, built twice: as it
# comes, and with RELUNET_NO_ERROR_STRINGS and NDEBUG (no printf or assert
# messages linked); and its int8 export (rn_qnet_export_c) in the same
# program, without error strings. Each is linked as a firmware image for
# the MPS2 AN386 board's memory map (firmware/mps2.ld) with the board
# programs' vector table and reset handler (firmware/mps2_board.c) and no
# semihosting. Prints the table README.md shows.
FIRMWARE = build/firmware
FIRMWARE_CFLAGS = -std=c99 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os \
                  -ffunction-sections -fdata-sections -Wl,--gc-sections \
                  --specs=nano.specs --specs=nosys.specs -Wall -Wextra -I. -I$(FIRMWARE)
FIRMWARE_IMAGE = -nostartfiles -T firmware/mps2.ld -DMPS2_NO_SEMIHOSTING firmware/mps2_board.c
firmware-size:
	@sh scripts/deps.sh firmware
	mkdir -p $(FIRMWARE)
	cc $(WARNINGS) -O2 -I. firmware/export_relu_alpha.c -o $(FIRMWARE)/export_relu_alpha $(LDLIBS)
	$(FIRMWARE)/export_relu_alpha $(FIRMWARE) $(MODEL)
	arm-none-eabi-gcc $(FIRMWARE_CFLAGS) firmware/main.c $(FIRMWARE_IMAGE) -o $(FIRMWARE)/float.elf -lm
	arm-none-eabi-gcc $(FIRMWARE_CFLAGS) -DRELUNET_NO_ERROR_STRINGS -DNDEBUG firmware/main.c \
	    $(FIRMWARE_IMAGE) -o $(FIRMWARE)/float-no-error-strings.elf -lm
	arm-none-eabi-gcc $(FIRMWARE_CFLAGS) -DRELUNET_NO_ERROR_STRINGS -DNDEBUG firmware/main_int8.c \
	    $(FIRMWARE_IMAGE) -o $(FIRMWARE)/int8-no-error-strings.elf -lm
	@sh firmware/size_table.sh $(FIRMWARE)/float.elf $(FIRMWARE)/float-no-error-strings.elf \
	    $(FIRMWARE)/int8-no-error-strings.elf
	@sh firmware/check_images.sh $(FIRMWARE)/float.elf $(FIRMWARE)/float-no-error-strings.elf \
	    $(FIRMWARE)/int8-no-error-strings.elf

# The exported ReLU_alpha and conv + batch norm + PReLU networks run on
# QEMU's Cortex-M3 (MPS2 AN385), Cortex-M4F (AN386) and Cortex-M7 (AN500)
# boards: bit-exact logits against the desktop, instructions per inference,
# damaged models refused (firmware/test_boards.sh).
test-firmware:
	@sh scripts/deps.sh firmware
	mkdir -p $(FIRMWARE)/boards
	cc $(WARNINGS) -O2 -I. firmware/export_relu_alpha.c -o $(FIRMWARE)/export_relu_alpha $(LDLIBS)
	$(FIRMWARE)/export_relu_alpha $(FIRMWARE)/boards $(MODEL)
	sh firmware/test_boards.sh $(FIRMWARE)/boards

# make install PREFIX=... DESTDIR=...: both headers, a pkg-config file
# (relunet.pc) and a CMake package (find_package(relunet), target
# relunet::relunet), the same files `cmake --install` writes. The version
# comes from relunet.h.
PREFIX ?= /usr/local
VERSION = $(shell sed -n 's/^\#define RELUNET_VERSION_STRING "\(.*\)"$$/\1/p' relunet.h)
INSTALLED_PKGCONFIG = $(DESTDIR)$(PREFIX)/share/pkgconfig
INSTALLED_CMAKE = $(DESTDIR)$(PREFIX)/share/cmake/relunet
install:
	mkdir -p $(DESTDIR)$(PREFIX)/include $(INSTALLED_PKGCONFIG) $(INSTALLED_CMAKE)
	cp relunet.h relunet_data.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' cmake/relunet.pc.in \
	    > $(INSTALLED_PKGCONFIG)/relunet.pc
	cp cmake/relunet-config.cmake cmake/relunet-deps.cmake $(INSTALLED_CMAKE)/
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@VERSION_MAJOR@|$(firstword $(subst ., ,$(VERSION)))|' \
	    cmake/relunet-config-version.cmake.in > $(INSTALLED_CMAKE)/relunet-config-version.cmake

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/relunet.h $(DESTDIR)$(PREFIX)/include/relunet_data.h \
	    $(INSTALLED_PKGCONFIG)/relunet.pc $(INSTALLED_CMAKE)/relunet-config.cmake \
	    $(INSTALLED_CMAKE)/relunet-deps.cmake $(INSTALLED_CMAKE)/relunet-config-version.cmake
	-rmdir $(INSTALLED_CMAKE)

# A tiny consumer built every way a project takes relunet: pkg-config after
# make install, CMake add_subdirectory, FetchContent (from a local tarball),
# find_package after make install and after cmake --install; then make
# uninstall must leave the prefix empty.
test-install:
	@sh scripts/deps.sh build install
	sh tests/install/run.sh

clean:
	rm -rf build
