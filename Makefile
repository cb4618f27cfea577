# relunet - build, test and run the examples.
#
#   make test          build and run every test (installs missing Debian packages first)
#   make test SAN=1    the same under AddressSanitizer and UndefinedBehaviorSanitizer
#   make test-valgrind the same under valgrind's memcheck
#   make examples      build the example programs
#   make demo          a short ReLU_alpha study on Fashion-MNIST, written to demo/
#   make check-headers compile the headers with gcc, clang (-Werror) and tcc
#   make fuzz          run every libFuzzer target for FUZZ_SECONDS (default 60)
#
# CC, CFLAGS and LDLIBS pass through: make test CC=clang CFLAGS=-O1

CFLAGS ?= -O2 -g
LDLIBS ?= -lm
STB_INCLUDE ?= /usr/include/stb
WARNINGS = -std=c99 -Wall -Wextra -pedantic
ifeq ($(SAN),1)
SANITIZE = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
BUILD = build/san
else
BUILD = build/plain
endif
ALL_CFLAGS = $(WARNINGS) $(CFLAGS) $(SANITIZE) -I. -Itests -Iexamples -I$(STB_INCLUDE)
HEADERS = $(wildcard relunet*.h) tests/harness.h $(wildcard tests/*.h) $(wildcard examples/*.h)

TESTS = $(patsubst tests/%.c,$(BUILD)/%,$(wildcard tests/test_*.c))
EXAMPLES = $(patsubst examples/%.c,$(BUILD)/%,$(wildcard examples/*.c))

.PHONY: all test test-valgrind fuzz examples demo deps deps-check check-headers clean

all: $(TESTS) $(EXAMPLES)

deps:
	@sh scripts/deps.sh build data

deps-check:
	@sh scripts/deps.sh build check

# The two-moons generator is compared point by point with scikit-learn's
# make_moons when Debian's python3-sklearn is there (sh scripts/deps.sh reference).
SKLEARN_PYTHON = $(firstword $(wildcard /usr/bin/python3) python3)

test: deps $(TESTS) $(BUILD)/readme_quickstart
	@$(SKLEARN_PYTHON) tests/moons_reference.py > $(BUILD)/moons_reference.txt 2>/dev/null \
	    || rm -f $(BUILD)/moons_reference.txt
	@RELUNET_MOONS_REFERENCE=$$(test -s $(BUILD)/moons_reference.txt && echo $(BUILD)/moons_reference.txt) \
	    sh tests/run.sh $(TESTS) $(BUILD)/readme_quickstart

# Each libFuzzer target runs FUZZ_SECONDS; a finding fails the run.
FUZZ_SECONDS ?= 60
fuzz:
	@sh scripts/deps.sh fuzz
	sh tests/fuzz/run.sh $(FUZZ_SECONDS)

test-valgrind: deps deps-check $(TESTS) $(BUILD)/readme_quickstart
	@TEST_RUNNER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
	    sh tests/run.sh $(TESTS) $(BUILD)/readme_quickstart

examples: deps $(EXAMPLES)

$(BUILD)/test_%: tests/test_%.c $(HEADERS) | $(BUILD)
	$(CC) $(ALL_CFLAGS) $< -o $@ $(LDLIBS)

$(BUILD)/%: examples/%.c $(HEADERS) | $(BUILD)
	$(CC) $(ALL_CFLAGS) $< -o $@ $(LDLIBS)

# test_examples runs these with --quick.
$(BUILD)/test_examples: $(BUILD)/relu_alpha_sweep $(BUILD)/conv_linearization

# A short ReLU_alpha sweep: 6 lambdas, 2 runs each, 2 epochs (a minute or two on 2 cores).
demo: deps $(BUILD)/relu_alpha_sweep
	$(BUILD)/relu_alpha_sweep --lambdas 0,0.01,0.02,0.03,0.04,0.05 --runs 2 --epochs 2 --out demo

# The README's quick start is compiled and run, so it cannot rot: the first
# ```c block of README.md is extracted as a program.
$(BUILD)/readme_quickstart.c: README.md | $(BUILD)
	awk '/^```c$$/ {inside = 1; next} /^```$$/ && inside {exit} inside' README.md > $@

$(BUILD)/readme_quickstart: $(BUILD)/readme_quickstart.c relunet.h
	$(CC) $(ALL_CFLAGS) $< -o $@ $(LDLIBS)

$(BUILD):
	mkdir -p $@

# Every header, alone and together, as C99 with warnings as errors, and with
# tcc (which only gets the scalar kernels).
check-headers: deps-check | $(BUILD)
	printf '#define RELUNET_IMPLEMENTATION\n#include "relunet.h"\n%s\nint main(void) { return 0; }\n' \
	    "$$(test -f relunet_data.h && echo '#include "relunet_data.h"')" > $(BUILD)/headers.c
	for compiler in gcc clang; do \
	    $$compiler $(WARNINGS) -Werror -I. -I$(STB_INCLUDE) -c $(BUILD)/headers.c -o $(BUILD)/headers.o || exit 1; \
	    echo "$$compiler: clean"; \
	done
	tcc -I. -I$(STB_INCLUDE) -c $(BUILD)/headers.c -o $(BUILD)/headers.o && echo "tcc: clean"

clean:
	rm -rf build
