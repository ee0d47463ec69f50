# functiontrace — plain GNU make.
#
#   make deps        install missing Debian packages (as root), else print the command
#   make             build ft-convert and the extension for $(PYTHON)
#   make demo        deps + build + record samples/demo.py + convert → demo/profile.json
#   make test        build and run every test (C unit tests, pytest end-to-end)
#   make test-matrix the same, named for what it is: end-to-end tests on every interpreter
#   make list-pythons  the interpreters the end-to-end tests use, one per version
#   make test-san    the C unit tests and ft-convert under ASan+UBSan, ft-convert under Valgrind
#   make fuzz        libFuzzer campaigns on the decoder and the converter (needs clang)
#   make fuzz-coverage  how much of format/ and convert/ the fuzz inputs reach
#   make test-suites CPython's own test suites under the recorder (slow: minutes)
#   make install     PREFIX=/usr/local DESTDIR= : ft-convert and the Python package
#   make clean
#
# PYTHON=/path/to/python3.X builds the extension for that interpreter (each interpreter gets
# its own file: python/functiontrace/_functiontrace.cpython-3XX-….so). TEST_PYTHONS lists the
# interpreters the end-to-end tests record with. SAN=address,undefined builds the C code with
# sanitizers.

PYTHON ?= python3
# The Python versions the end-to-end tests cover by default (one interpreter each, found by
# tests/find-pythons); override with TEST_PYTHONS="/path/python3.X …".
TEST_VERSIONS ?= 3.8 3.9 3.10 3.11 3.12 3.13
TEST_PYTHONS ?= $(shell tests/find-pythons $(TEST_VERSIONS))
PYTEST ?= /usr/bin/python3 -m pytest
# The end-to-end tests are processes waiting on processes: spread over the machine's cores
# when pytest-xdist is there (Debian's python3-pytest-xdist, in DEB_PACKAGES), which halves
# `make test` on 2 cores. PYTEST_JOBS=1 runs them one at a time.
PYTEST_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
HAVE_XDIST = $(shell /usr/bin/python3 -c 'import xdist' 2>/dev/null && echo yes)
PYTEST_PAR = $(if $(filter-out 1,$(PYTEST_JOBS)),$(if $(HAVE_XDIST),-n $(PYTEST_JOBS)))
CC ?= cc
PKG_CONFIG ?= pkg-config
BUILD ?= build
PREFIX ?= /usr/local

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wno-unused-parameter -Wno-missing-field-initializers
# Warnings are errors in CI (CI=true) or with WERROR=1.
ifneq ($(WERROR)$(filter true,$(CI)),)
WARN += -Werror
endif
ifneq ($(SAN),)
SANFLAGS := -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

MSGPACK_PC := $(shell $(PKG_CONFIG) --exists msgpack-c 2>/dev/null && echo msgpack-c || echo msgpack)
ZSTD_CFLAGS := $(shell $(PKG_CONFIG) --cflags libzstd 2>/dev/null)
ZSTD_LIBS := $(shell $(PKG_CONFIG) --libs libzstd 2>/dev/null || echo -lzstd)
CJSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcjson 2>/dev/null)
CJSON_LIBS := $(shell $(PKG_CONFIG) --libs libcjson 2>/dev/null || echo -lcjson)
MSGPACK_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(MSGPACK_PC) 2>/dev/null)
MSGPACK_LIBS := $(shell $(PKG_CONFIG) --libs $(MSGPACK_PC) 2>/dev/null || echo -lmsgpackc)

ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) $(SANFLAGS) -Iformat $(ZSTD_CFLAGS)
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS)

FORMAT_SRC := $(wildcard format/*.c)
CONVERT_SRC := $(filter-out convert/main.c,$(wildcard convert/*.c))
RECORD_SRC := $(wildcard record/*.c)
FORMAT_HDR := $(wildcard format/*.h)
CONVERT_HDR := $(wildcard convert/*.h)
RECORD_HDR := $(wildcard record/*.h)

FORMAT_OBJ := $(FORMAT_SRC:%.c=$(BUILD)/obj/%.o)
CONVERT_OBJ := $(CONVERT_SRC:%.c=$(BUILD)/obj/%.o)

# The extension, per interpreter.
PY_INCLUDE = $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
PY_EXT_SUFFIX = $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
# EXT=/path/name.so builds it there instead (setup.py does).
EXT = python/functiontrace/_functiontrace$(PY_EXT_SUFFIX)

.PHONY: all ext convert deps demo test test-c test-e2e test-matrix list-pythons test-san test-suites clean check-deps install
all: convert ext

convert: $(BUILD)/ft-convert

$(BUILD)/obj/%.o: %.c $(FORMAT_HDR) $(CONVERT_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CJSON_CFLAGS) -Iconvert -c $< -o $@

$(BUILD)/libftformat.a: $(FORMAT_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/ft-convert: convert/main.c $(CONVERT_OBJ) $(BUILD)/libftformat.a
	$(CC) $(ALL_CFLAGS) $(CJSON_CFLAGS) -Iconvert $^ -o $@ $(ALL_LDFLAGS) $(CJSON_LIBS) $(ZSTD_LIBS) -lz -lpthread -lm

# The extension compiles format/ in itself (position-independent, no static library).
ext:
	@$(PYTHON) -c 'import sys; sys.exit(0)' || { echo "make: PYTHON=$(PYTHON) does not run" >&2; exit 1; }
	@$(MAKE) --no-print-directory "$(EXT)" PYTHON="$(PYTHON)"

$(EXT): $(RECORD_SRC) $(RECORD_HDR) $(FORMAT_SRC) $(FORMAT_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -shared -I$(PY_INCLUDE) -Irecord \
	    $(RECORD_SRC) $(FORMAT_SRC) -o $@ $(ALL_LDFLAGS) $(ZSTD_LIBS) -lpthread

# make install PREFIX=/usr DESTDIR=/tmp/stage: ft-convert in $(PREFIX)/bin, the functiontrace
# package (with the extension for $(PYTHON)) in $(PYTHON)'s site-packages for $(PREFIX), or
# in PYTHON_SITELIB=... (Debian packages: /usr/lib/python3/dist-packages).
PYTHON_SITELIB ?= $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("platlib", vars={"base": "$(PREFIX)", "platbase": "$(PREFIX)"}))')
PKG_DEST = $(DESTDIR)$(PYTHON_SITELIB)/functiontrace
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(PKG_DEST)/_bootstrap
	install -m 755 $(BUILD)/ft-convert $(DESTDIR)$(PREFIX)/bin/ft-convert
	install -m 644 python/functiontrace/*.py $(PKG_DEST)/
	install -m 644 python/functiontrace/_bootstrap/sitecustomize.py $(PKG_DEST)/_bootstrap/
	install -m 755 $(EXT) $(PKG_DEST)/

# C unit tests of format/ (and convert/ internals).
TEST_C_SRC := $(wildcard tests/c/test_*.c)
TEST_C_BIN := $(TEST_C_SRC:tests/c/%.c=$(BUILD)/tests/%)
$(BUILD)/tests/%: tests/c/%.c $(CONVERT_OBJ) $(BUILD)/libftformat.a $(wildcard tests/c/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CJSON_CFLAGS) $(MSGPACK_CFLAGS) -Iconvert -Itests/c $< $(CONVERT_OBJ) \
	    $(BUILD)/libftformat.a -o $@ $(ALL_LDFLAGS) $(MSGPACK_LIBS) $(CJSON_LIBS) $(ZSTD_LIBS) -lz -lpthread -lm

# build/ftdump: the canonical dump of trace files by the C reader, diffed against
# tests/refdecode.py (by test_format and the end-to-end tests).
$(BUILD)/ftdump: tests/c/ftdump_main.c $(BUILD)/libftformat.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(ALL_LDFLAGS) $(ZSTD_LIBS)

# The fuzz targets' inputs replayed by a plain build (tests/fuzz/replay.c): the seed corpus
# and every crasher found so far, so that a fixed crash stays fixed without clang.
FUZZ_TARGETS := decode convert
FUZZ_REPLAY := $(FUZZ_TARGETS:%=$(BUILD)/tests/replay_%)
$(BUILD)/tests/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(CONVERT_OBJ) $(BUILD)/libftformat.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CJSON_CFLAGS) -Iconvert tests/fuzz/fuzz_$*.c tests/fuzz/replay.c \
	    $(CONVERT_OBJ) $(BUILD)/libftformat.a -o $@ $(ALL_LDFLAGS) $(CJSON_LIBS) $(ZSTD_LIBS) -lz -lpthread -lm

test-c: $(TEST_C_BIN) $(BUILD)/ftdump $(FUZZ_REPLAY)
	@set -e; for t in $(TEST_C_BIN); do echo "== $$t"; $$t; done
	@set -e; for t in $(FUZZ_TARGETS); do echo "== replay $$t"; \
	    $(BUILD)/tests/replay_$$t tests/fuzz/corpus/$$t tests/fuzz/crashers/$$t; done

test-e2e: convert $(BUILD)/ftdump
	@$(MAKE) --no-print-directory list-pythons
	@for py in $(TEST_PYTHONS); do $(MAKE) --no-print-directory ext PYTHON=$$py || exit 1; done
	FT_TEST_PYTHONS="$(TEST_PYTHONS)" FT_CONVERT="$(abspath $(BUILD)/ft-convert)" $(PYTEST) $(PYTEST_PAR) -q tests

# Subsets of CPython's own test suites (json, generators, threading, subprocess,
# multiprocessing with spawn, asyncio), each run plain and traced with every interpreter of
# TEST_PYTHONS: same results, and traces that convert and load (tests/suites/).
test-suites: convert
	@for py in $(TEST_PYTHONS); do $(MAKE) --no-print-directory ext PYTHON=$$py || exit 1; done
	FT_TEST_SUITES=1 FT_TEST_PYTHONS="$(TEST_PYTHONS)" FT_CONVERT="$(abspath $(BUILD)/ft-convert)" \
	    $(PYTEST) -q tests/suites

test: check-deps
	@$(MAKE) --no-print-directory test-c
	@$(MAKE) --no-print-directory test-e2e

# The version matrix: every interpreter of TEST_VERSIONS found on this machine (the list is
# printed first), the extension built for each, every end-to-end test run with each. That
# is what `make test` does; this name says so.
test-matrix: test

# Which interpreter tests each version, and which versions have none here.
list-pythons:
	@echo "Python interpreters under test (TEST_VERSIONS=$(TEST_VERSIONS)):"
	@for py in $(TEST_PYTHONS); do \
	    printf '  %s  %s\n' "$$($$py -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')" "$$py"; \
	done
	@found=$$(for py in $(TEST_PYTHONS); do $$py -c 'import sys; print("%d.%d" % sys.version_info[:2])'; done); \
	for v in $(TEST_VERSIONS); do \
	    echo "$$found" | grep -qx "$$v" || echo "  $$v  NOT FOUND: not tested (no interpreter with headers)"; \
	done
# make test-san: the C unit tests and the fuzz corpus replays built with ASan+UBSan (in
# build/san/, apart from the plain build), the bad-input and command-line tests run against
# an ASan+UBSan ft-convert (any report, a leak included, fails them), and the plain
# ft-convert under Valgrind on a real run, a damaged one and a multi-process one
# (tests/check-valgrind). The tests record with one interpreter, SAN_PYTHON (3.12 when
# there is one). CI runs this after `make test`.
SAN_BUILD := $(BUILD)/san
SAN_PYTHON ?= $(firstword $(shell tests/find-pythons 3.12) $(TEST_PYTHONS))
test-san: check-deps convert $(BUILD)/tests/test_convert
	@$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) SAN=address,undefined test-c $(SAN_BUILD)/ft-convert
	@$(MAKE) --no-print-directory ext PYTHON=$(SAN_PYTHON)
	FT_TEST_PYTHONS="$(SAN_PYTHON)" FT_CONVERT="$(abspath $(SAN_BUILD)/ft-convert)" \
	    $(PYTEST) -q tests/test_bad_input.py tests/test_convert_cli.py
	tests/check-valgrind $(BUILD)/ft-convert $(SAN_PYTHON) $(BUILD)/tests/test_convert

# Debian packages the build and the tests need.
DEB_PACKAGES := gcc make pkg-config python3-dev libmsgpack-dev libzstd-dev libcjson-dev \
                zlib1g-dev python3-pytest python3-pytest-xdist python3-zstandard valgrind \
                python3-pip python3-venv python3-setuptools python3-wheel
# npm may come with a nodejs package of another origin; only its command matters.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done; \
	    command -v npm >/dev/null || echo npm); \
	if [ -z "$$missing" ]; then echo "deps: all present"; \
	elif [ "$$(id -u)" = 0 ]; then echo "deps: installing $$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) || exit 1; \
	else echo "deps: missing packages; run:"; echo "  sudo apt-get update && sudo apt-get install -y $$missing"; exit 1; fi

check-deps:
	@$(MAKE) --no-print-directory deps

DEMO_DIR ?= demo
demo: deps all
	rm -rf $(DEMO_DIR)
	PYTHONPATH=$(CURDIR)/python $(PYTHON) -m functiontrace.record -o $(DEMO_DIR)/traces samples/demo.py
	$(BUILD)/ft-convert $(DEMO_DIR)/traces -o $(DEMO_DIR)/profile.json
	@echo
	@echo "Profile written to $(CURDIR)/$(DEMO_DIR)/profile.json"
	@echo "Open https://profiler.firefox.com/ and choose 'Load a profile from file'."

clean:
	rm -rf $(BUILD) $(DEMO_DIR) python/functiontrace/_functiontrace*.so
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# make bench: the benchmark suite, tests/bench/run.py (see its docstring). It builds
# ft-convert, ftdump and, for each interpreter of BENCH_PYTHONS, the extension and the
# suite's empty-hook floors (build/bench/floor/, never python/functiontrace/), then measures
# them all in one run. BENCH_ARGS goes to run.py, e.g. BENCH_ARGS=--quick or
# BENCH_ARGS="--reps 9 --workload recursion"; BENCH_VERSIONS or BENCH_PYTHONS choose the
# interpreters. A benchmark, not a test: it fails only if something crashed, never on speed.
# Its own interpreter list (not TEST_PYTHONS): each one adds minutes to a run.
BENCH_VERSIONS ?= 3.11 3.12
BENCH_PYTHONS ?= $(shell tests/find-pythons $(BENCH_VERSIONS))
BENCH_ARGS ?=
BENCH_FLOOR = $(BUILD)/bench/floor/_ftbench_floor$(PY_EXT_SUFFIX)

.PHONY: bench bench-floor
bench: convert $(BUILD)/ftdump
	@for py in $(BENCH_PYTHONS); do \
	    $(MAKE) --no-print-directory ext PYTHON=$$py || exit 1; \
	    $(MAKE) --no-print-directory bench-floor PYTHON=$$py || exit 1; \
	done
	/usr/bin/python3 tests/bench/run.py --build $(BUILD) $(BENCH_PYTHONS:%=--python %) $(BENCH_ARGS)

bench-floor:
	@$(MAKE) --no-print-directory "$(BENCH_FLOOR)" PYTHON="$(PYTHON)"

$(BUILD)/bench/floor/_ftbench_floor%: tests/bench/floor/ftbench_floor.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -I$(PY_INCLUDE) $< -o $@ $(ALL_LDFLAGS)

# make fuzz: libFuzzer on tests/fuzz/fuzz_decode.c and fuzz_convert.c, FUZZ_SECONDS each, one
# after the other on one core. Needs clang with libFuzzer (Debian: clang, libclang-rt-dev;
# `make fuzz-deps`); nothing else in this Makefile does. Each campaign starts from the seed
# corpus (tests/fuzz/corpus/<target>, read only) and keeps what it finds in
# build/fuzz/corpus/<target>; crashing inputs land in build/fuzz/crashes/. A crash that is
# fixed gets its input copied to tests/fuzz/crashers/<target>/, which `make test` replays.
# FUZZ_ARGS goes to every libFuzzer run, e.g. FUZZ_ARGS=-max_len=65536.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_ARGS ?=
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -g -O1 $(FUZZ_SAN) -Iformat -Iconvert $(ZSTD_CFLAGS) $(CJSON_CFLAGS)
FUZZ_LIB_SRC := $(FORMAT_SRC) $(CONVERT_SRC)
FUZZ_DEB_PACKAGES := clang libclang-rt-dev

.PHONY: fuzz fuzz-build fuzz-deps
fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

# The library is compiled in with the target, instrumented alike, so that the fuzzer sees
# every branch of format/ and convert/, not only the target's. One process, one core.
$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_SRC) $(FORMAT_HDR) $(CONVERT_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB_SRC) -o $@ \
	    $(CJSON_LIBS) $(ZSTD_LIBS) -lz -lpthread -lm

fuzz: fuzz-build
	@set -e; mkdir -p $(FUZZ_DIR)/crashes; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t; \
	    echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	    $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_DIR)/crashes/$$t- $(FUZZ_ARGS) \
	        $(FUZZ_DIR)/corpus/$$t tests/fuzz/corpus/$$t; \
	done

fuzz-deps:
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(FUZZ_DEB_PACKAGES)"

# make fuzz-coverage: the line and branch coverage of format/ and convert/ that a target's
# inputs reach (seed corpus + what campaigns kept in build/fuzz/corpus/), measured by a
# plain replay build with clang's source-based coverage (llvm-profdata, llvm-cov).
.PHONY: fuzz-coverage
fuzz-coverage:
	@set -e; mkdir -p $(FUZZ_DIR)/corpus; for t in $(FUZZ_TARGETS); do \
	    $(FUZZ_CC) -std=gnu11 -O0 -g -fprofile-instr-generate -fcoverage-mapping -Iformat -Iconvert \
	        $(ZSTD_CFLAGS) $(CJSON_CFLAGS) tests/fuzz/fuzz_$$t.c tests/fuzz/replay.c $(FUZZ_LIB_SRC) \
	        -o $(FUZZ_DIR)/cov_$$t $(CJSON_LIBS) $(ZSTD_LIBS) -lz -lpthread -lm; \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t; \
	    LLVM_PROFILE_FILE=$(FUZZ_DIR)/cov_$$t.profraw $(FUZZ_DIR)/cov_$$t tests/fuzz/corpus/$$t \
	        $(FUZZ_DIR)/corpus/$$t >/dev/null; \
	    llvm-profdata merge -sparse $(FUZZ_DIR)/cov_$$t.profraw -o $(FUZZ_DIR)/cov_$$t.profdata; \
	    echo "== fuzz_$$t: coverage of format/ and convert/ by its inputs"; \
	    llvm-cov report $(FUZZ_DIR)/cov_$$t -instr-profile=$(FUZZ_DIR)/cov_$$t.profdata \
	        $(FUZZ_LIB_SRC); \
	done
