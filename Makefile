# symlua — build, test and install. `make help` lists the targets.
#
# Sources are found by wildcard: every .c under core/ (in its layer folders,
# core/base, core/tensor, ... core/backend/c) goes into libsymlua, every
# bin/*.c into the interpreter, every tests/c/*.c is a C test program.

# -- settings ------------------------------------------------------------------
CC      ?= cc
OPT     ?= -O2 -g
WARN     = -Wall -Wextra
# LuaRocks passes LUA_INCDIR; otherwise ask pkg-config for LuaJIT's headers.
LUAJIT_INCDIR := $(or $(patsubst -I%,%,$(filter -I%,$(shell pkg-config --cflags luajit 2>/dev/null))),/usr/include/luajit-2.1)
LUA_INCDIR    ?= $(LUAJIT_INCDIR)
LUAJIT_A      := $(firstword $(wildcard /usr/lib/*/libluajit-5.1.a /usr/lib/libluajit-5.1.a /usr/local/lib/libluajit-5.1.a))
# OpenBLAS (matrix products) and FFTW3 (FFTs), located by pkg-config.
# OpenBLAS built on OpenMP where it is installed (Debian's openblas-openmp):
# generated kernels run on OpenMP threads, and the pthread build's own pool
# would spin for the same cores after every kernel (a 2-thread MLP step ran
# 2.5-5x slower than with one pool). The rpath makes that build the one loaded.
BLAS_PC     := $(firstword $(wildcard /usr/lib/*/openblas-openmp/pkgconfig))
BLAS_CONFIG := $(if $(BLAS_PC),PKG_CONFIG_PATH=$(BLAS_PC) )pkg-config
BLAS_CFLAGS := $(shell $(BLAS_CONFIG) --cflags openblas 2>/dev/null)
BLAS_LIBDIR := $(if $(BLAS_PC),$(shell $(BLAS_CONFIG) --variable=libdir openblas))
BLAS_LIBS   := $(or $(shell $(BLAS_CONFIG) --libs openblas 2>/dev/null),-lopenblas) $(BLAS_LIBDIR:%=-Wl,-rpath,%)
FFTW_LIBS   := $(or $(shell pkg-config --libs fftw3 fftw3f 2>/dev/null),-lfftw3 -lfftw3f)
# The convolution ops (core/ops/conv.c) split their batch between OpenMP
# threads, the runtime OpenBLAS already runs on; a gemm called inside such a
# region runs on its calling thread.
OMP_FLAGS ?= -fopenmp
# Every folder of core/ is on the include path: a header is named by its file.
CORE_DIRS := $(patsubst %/,%,$(sort $(dir $(wildcard core/*/ core/*/*/))))
CFLAGS_ALL = -std=gnu11 $(OPT) $(WARN) -fPIC -Icore/include -Icore $(CORE_DIRS:%=-I%) -I$(LUA_INCDIR) $(BLAS_CFLAGS) \
             $(OMP_FLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
# The core may refer to them through weak symbols (op_blas.c does, so that a
# build without them still runs); a linker in --as-needed mode would drop a
# library that only satisfies weak references, hence --no-as-needed.
LIBS       = -Wl,--push-state,--no-as-needed $(BLAS_LIBS) $(FFTW_LIBS) -Wl,--pop-state \
             $(OMP_FLAGS) -lz -lm -ldl -lpthread
# libtcc (in-memory compiles of generated code) is a static library built
# without -fPIC: only executables can take it. The core refers to it through
# weak symbols, which do not pull archive members, hence the -u; text
# relocations in a PIE are what that costs (-z notext: allowed, no warning).
TCC_A    := $(firstword $(wildcard /usr/lib/*/libtcc.a /usr/lib/libtcc.a /usr/local/lib/libtcc.a))
TCC_LINK  = -Wl,-u,tcc_new,-u,tcc_relocate,-u,tcc_get_symbol,-z,notext $(TCC_A)
TCC_LIBS := $(if $(TCC_A),$(TCC_LINK))

# Lua C modules (lfs, term, ...) resolve the Lua API from the executable: export it.
EXE_LDFLAGS = -Wl,-E

# `make check DEPS=` skips scripts/deps.sh (for machines without apt).
# The settings above are read when make starts, possibly before deps.sh has
# installed pkg-config and LuaJIT: so check and demo build in a sub-make,
# which reads them again afterwards.
DEPS ?= deps

# Install locations. LUADIR and LIBDIR are where Lua and Lua C modules go
# (LuaRocks passes its own); SOLIBDIR takes libsymlua.a and libsymlua.so.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LUADIR     ?= $(PREFIX)/share/lua/5.1
LIBDIR     ?= $(PREFIX)/lib/lua/5.1
SOLIBDIR   ?= $(PREFIX)/lib
INCDIR     ?= $(PREFIX)/include
DESTDIR    ?=

# The C tests run under valgrind where it is installed: any error or definite
# leak fails the test.
VALGRIND_CMD = valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
  --error-exitcode=1 -q
VALGRIND ?= $(if $(shell command -v valgrind 2>/dev/null),$(VALGRIND_CMD))

# The sanitizer build: its own objects in build-san/, its own bin/symlua-san
# (kept in bin/ so that it finds lua/ next to it, like bin/symlua).
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
#
# LuaJIT: Debian's is a GC64 build, free to put its heap anywhere. A non-GC64
# x86-64 build needs its heap below 2 GB; ASan's shadow memory begins above
# 0x7fff8000, so that range stays usable and no ASAN_OPTIONS are needed.
#
# Leaks: LeakSanitizer does not scan LuaJIT's heap (mmap'd, not malloc'd), so
# C memory referenced only from live Lua objects at exit would read as leaked.
# bin/symlua closes its Lua state before returning, which runs every __gc, so
# at exit nothing is referenced from Lua and whatever LSan reports is a real
# leak: leak checking stays on for the specs. (A script that leaves through
# os.exit(code) without `true` skips lua_close and shows such false leaks; a
# spec runner doing that would need detect_leaks=0 here.)
SAN_SPEC_ENV = ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
SAN_TEST_ENV = ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1

BUILD   ?= build
SYMLUA  ?= bin/symlua

CORE_SRC := $(wildcard core/*.c core/*/*.c core/*/*/*.c)
CORE_OBJ := $(CORE_SRC:core/%.c=$(BUILD)/core/%.o)
# The kernel headers, pasted at the top of every generated C file
# (sl_cc_prelude in core/cc.c), become one string constant in the library.
# philox.h calls vmath.h and is pasted after it.
KERNEL_H := $(filter-out kernels/philox.h,$(sort $(wildcard kernels/*.h))) kernels/philox.h
CORE_OBJ += $(BUILD)/gen/prelude.o
# The CUDA heads (kernels/cuda/): device.h for NVRTC, host.h for host emulation,
# cmath.h after either; random.h, the kernel of random draws.
CUDA_H   := kernels/cuda/device.h kernels/cuda/host.h kernels/cuda/cmath.h kernels/cuda/random.h
CORE_OBJ += $(BUILD)/gen/cuda_heads.o
BIN_OBJ  := $(patsubst bin/%.c,$(BUILD)/bin/%.o,$(wildcard bin/*.c))
TEST_BIN := $(patsubst tests/c/%.c,$(BUILD)/tests/%,$(wildcard tests/c/*.c))

.PHONY: all build module tests deps demo check check-c check-embed tsan spec sanitize install \
        install-module uninstall installcheck rockcheck bench fuzz clean help

# -- build -----------------------------------------------------------------------
all: $(SYMLUA) $(BUILD)/libsymlua.a $(BUILD)/libsymlua.so $(BUILD)/symlua/core.so

help:
	@echo "symlua make targets:"
	@echo "  make               build bin/symlua, build/libsymlua.{a,so} and build/symlua/core.so"
	@echo "  make demo          install missing packages, build, run examples/random_walk.lua"
	@echo "  make check         install missing packages, build, run the C tests (under"
	@echo "                     valgrind when installed) and the Busted specs"
	@echo "  make check DEPS=   the same without scripts/deps.sh"
	@echo "  make deps          install the missing Debian packages (scripts/deps.sh)"
	@echo "  make check-embed   install into a temporary PREFIX, build examples/embed/host.c"
	@echo "                     with pkg-config alone and run it (under valgrind when installed)"
	@echo "  make tsan          ThreadSanitizer build in build-tsan/; runs the two-thread host programs"
	@echo "  make sanitize      ASan+UBSan build in build-san/ and bin/symlua-san; runs the"
	@echo "                     C tests and the specs with it"
	@echo "  make fuzz          libFuzzer (clang, ASan+UBSan) on the .npy, IDX and cache-entry"
	@echo "                     readers, FUZZ_TIME seconds each (default 60); fails on a finding"
	@echo "  make install       install under PREFIX (default /usr/local); also DESTDIR,"
	@echo "                     BINDIR, LUADIR, LIBDIR, SOLIBDIR, INCDIR"
	@echo "  make uninstall     remove what make install put under PREFIX"
	@echo "  make installcheck  install into a temporary PREFIX and run the installed symlua"
	@echo "  make rockcheck     build the rock into a temporary tree; require it from luajit"
	@echo "  make module        build only the Lua module build/symlua/core.so"
	@echo "  make bench         run the benchmarks in bench/ (tables of ratios to NumPy)"
	@echo "  make clean         remove build/, build-san/ and the binaries"

# The files of typed loops over whole tensors (copies and casts, random
# draws, the elementwise reference kernel) build at -O3: at -O2 GCC
# vectorizes only loops whose count it knows to be a multiple of the vector width.
# No contraction: their FMA clone (SL_LOOP_CLONES) must round as the other does.
LOOP_SRC = core/tensor/copy.c core/tensor/philox.c core/ops/elemwise.c
$(LOOP_SRC:core/%.c=$(BUILD)/core/%.o): CFLAGS_ALL += -O3 -ffp-contract=off
# The normal draws' loop takes a sqrt, which vectorizes only when it need
# not set errno (its argument is never negative).
$(BUILD)/core/tensor/philox.o: CFLAGS_ALL += -fno-math-errno

# kernels/vmath.h compiled into symlua for libtcc's code: contracted like
# generated code (not at all), so that both tiers give the same bits.
$(BUILD)/core/backend/c/vmath_symbols.o: CFLAGS_ALL += -ffp-contract=off

# Everything is rebuilt when this Makefile (its flags) changes.
$(BUILD)/core/%.o: core/%.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

# The convolution's packing and Winograd transforms are loops along rows
# that -O3 vectorizes (-O2 leaves their stride-2 loads scalar).
$(BUILD)/core/ops/conv.o: OPT += -O3

$(BUILD)/libsymlua.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libsymlua.so: $(CORE_OBJ) Makefile
	$(CC) -shared $(LDFLAGS) -o $@ $(CORE_OBJ) $(LIBS)

# The module for a stock LuaJIT (`require 'symlua.core'`); Lua itself comes from the host.
module: $(BUILD)/symlua/core.so
$(BUILD)/symlua/core.so: $(CORE_OBJ) Makefile
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $(CORE_OBJ) $(LIBS)

$(BUILD)/bin/%.o: bin/%.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

# The host API's objects are linked whole, so that scripts reach it through
# LuaJIT's FFI (DLPack exchange, the specs of the host API).
EMBED_OBJ := $(filter $(BUILD)/core/embed/%,$(CORE_OBJ))
$(SYMLUA): $(BIN_OBJ) $(BUILD)/libsymlua.a Makefile
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $(BIN_OBJ) $(EMBED_OBJ) $(BUILD)/libsymlua.a $(LUAJIT_A) -ledit $(TCC_LIBS) $(LIBS)

# A C test is one file, linked with the static library (and LuaJIT, for
# tests that open a Lua state).
tests: $(TEST_BIN)
$(BUILD)/tests/%: tests/c/%.c $(BUILD)/libsymlua.a Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -MF $@.d $(LDFLAGS) -o $@ $< $(BUILD)/libsymlua.a $(LUAJIT_A) $(TCC_LIBS) $(LIBS)

# Local #include lines are dropped: every kernel header is pasted anyway, and
# generated code must not depend on include paths.
$(BUILD)/gen/prelude.c: $(KERNEL_H) Makefile
	@mkdir -p $(dir $@)
	@{ echo '/* Generated by the Makefile from kernels/: the text of sl_cc_prelude(). */'; \
	  echo 'const char sl_prelude_text[] ='; \
	  for h in $(KERNEL_H); do \
	    printf '"/* %s */\\n"\n' "$$h"; \
	    sed -e '/^[[:space:]]*#[[:space:]]*include[[:space:]]*"/d' -e 's/\\/\\\\/g' \
	        -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' "$$h"; \
	  done; echo '"";'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/prelude.o: $(BUILD)/gen/prelude.c
	$(CC) $(CFLAGS_ALL) -c $< -o $@

# Each CUDA head as a string constant: sl_cuda_device_head, sl_cuda_host_head, ...
$(BUILD)/gen/cuda_heads.c: $(CUDA_H) Makefile
	@mkdir -p $(dir $@)
	@{ echo '/* Generated by the Makefile from kernels/cuda/: the heads of CUDA sources. */'; \
	  for h in $(CUDA_H); do \
	    echo "const char sl_cuda_$$(basename $$h .h)_head[] ="; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' "$$h"; \
	    echo '"";'; \
	  done; } > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/cuda_heads.o: $(BUILD)/gen/cuda_heads.c
	$(CC) $(CFLAGS_ALL) -c $< -o $@

-include $(CORE_OBJ:.o=.d) $(BIN_OBJ:.o=.d) $(TEST_BIN:=.d)

# Everything that make check needs (silent when all is up to date).
build: all tests
	@:

# -- tests -----------------------------------------------------------------------
deps:
	@scripts/deps.sh

# Build, then the C tests, then the specs, in that order even under -j, so
# that the last line of the output is the specs' "N passed, N failed, N skipped".
check: $(DEPS)
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory check-c
	@$(MAKE) --no-print-directory check-embed
	@$(MAKE) --no-print-directory tsan
	@$(MAKE) --no-print-directory spec

# Every test runs even when one fails; any failure fails the target. Each
# runs under $(TEST_RUN): valgrind by default, the sanitizer's options in
# `make sanitize`.
TEST_RUN ?= $(VALGRIND)
TEST_LABEL ?= $(if $(VALGRIND),under valgrind)
check-c: $(TEST_BIN)
	@failed=""; \
	for t in $(TEST_BIN); do \
	  echo "# $$t$(if $(TEST_LABEL), ($(TEST_LABEL)))"; \
	  $(TEST_RUN) $$t || failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "C tests FAILED:$$failed"; exit 1; fi; \
	echo "# C tests passed: $(words $(TEST_BIN)) programs"

spec: $(SYMLUA)
	$(SPEC_ENV) $(SYMLUA) spec/run.lua

# The main job in small: build a network's graph, take its gradient, compile
# it and train it for 2 epochs on Fashion-MNIST (about half a minute).
demo: $(DEPS)
	@$(MAKE) --no-print-directory build
	$(SYMLUA) examples/mlp.lua 2

# The C side of bench/embed.lua: the host API's call path.
$(BUILD)/bench/embed_call: bench/c/embed_call.c $(BUILD)/libsymlua.a Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libsymlua.a $(LUAJIT_A) $(TCC_LIBS) $(LIBS)

bench: build
	@for b in bench/*.lua; do echo "== $$b"; $(SYMLUA) $$b || exit 1; done

SAN_MAKE = $(MAKE) --no-print-directory BUILD=build-san SYMLUA=bin/symlua-san \
  OPT="-O1 -g" EXTRA_CFLAGS="$(SAN_FLAGS)"
sanitize:
	+@$(SAN_MAKE) bin/symlua-san tests
	+@$(SAN_MAKE) TEST_RUN="env $(SAN_TEST_ENV)" TEST_LABEL="ASan+UBSan" check-c
	+@$(SAN_MAKE) SPEC_ENV="$(SAN_SPEC_ENV)" spec

# -- fuzzing -----------------------------------------------------------------------
# Each tests/fuzz/fuzz_NAME.c drives one reader with libFuzzer, against a core
# built by clang with coverage, ASan and UBSan in build-fuzz/. Runs start from
# the seeds in tests/fuzz/NAME/corpus (read only) and keep what they find in
# build-fuzz/corpus/NAME; a crash, leak, UBSan report or timeout is saved as
# build-fuzz/NAME-crash-* and fails the target.
FUZZ_TIME ?= 60
FUZZ_CC   ?= clang
FUZZERS   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SAN   = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_MAKE  = $(MAKE) --no-print-directory BUILD=build-fuzz CC=$(FUZZ_CC) OPT="-O1 -g" \
  EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)"

build-fuzz/fuzz/%: tests/fuzz/fuzz_%.c tests/fuzz/stream.h build-fuzz/libsymlua.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS_ALL) -O1 -g -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< build-fuzz/libsymlua.a \
	  $(LUAJIT_A) $(LIBS)

fuzz:
	+@$(FUZZ_MAKE) build-fuzz/libsymlua.a
	+@$(FUZZ_MAKE) $(FUZZERS:%=build-fuzz/fuzz/%)
	@failed=""; for n in $(FUZZERS); do \
	  mkdir -p build-fuzz/corpus/$$n; \
	  echo "# fuzz $$n for $(FUZZ_TIME) s"; \
	  build-fuzz/fuzz/$$n -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build-fuzz/$$n- \
	    build-fuzz/corpus/$$n tests/fuzz/$$n/corpus > build-fuzz/$$n.log 2>&1 \
	    || failed="$$failed $$n"; \
	  grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec)' build-fuzz/$$n.log; \
	done; \
	if [ -n "$$failed" ]; then \
	  for n in $$failed; do echo "== $$n: build-fuzz/$$n.log"; tail -40 build-fuzz/$$n.log; done; \
	  echo "fuzz FAILED:$$failed"; exit 1; fi; \
	echo "# fuzz: no findings in $(words $(FUZZERS)) harnesses"

# -- embedding -------------------------------------------------------------------------
# examples/embed/host.c built as a newcomer builds it: against an installed
# tree, with nothing but `pkg-config --cflags --libs symlua`, and run (under
# valgrind where installed) from its own folder.
check-embed: all
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(MAKE) --no-print-directory install PREFIX="$$tmp/prefix" >/dev/null && \
	export PKG_CONFIG_PATH="$$tmp/prefix/lib/pkgconfig" && \
	echo "# cc examples/embed/host.c $$(pkg-config --cflags --libs symlua)" && \
	$(CC) -std=gnu11 -O2 $(WARN) -Werror examples/embed/host.c $$(pkg-config --cflags --libs symlua) -o "$$tmp/host" && \
	cd examples/embed && echo "# examples/embed/host$(if $(VALGRIND), (under valgrind))" && \
	$(VALGRIND) "$$tmp/host" "$$(pkg-config --variable=luadir symlua)" controller.lua

# ThreadSanitizer: the core built with -fsanitize=thread in build-tsan/, and
# the two-thread programs (the C test and the example) run with it; any
# report fails the target.
TSAN_MAKE = $(MAKE) --no-print-directory BUILD=build-tsan OPT="-O1 -g" EXTRA_CFLAGS="-fsanitize=thread"
TSAN_RUN  = TSAN_OPTIONS="halt_on_error=1 exitcode=66" SYMLUA_CACHE_DIR=build-tsan/cache
tsan:
	+@$(TSAN_MAKE) build-tsan/libsymlua.a build-tsan/tests/test_embed_threads
	$(CC) $(CFLAGS_ALL) -O1 -g -fsanitize=thread examples/embed/host.c -o build-tsan/embed_host \
	  build-tsan/libsymlua.a $(LUAJIT_A) $(LIBS)
	@echo "# build-tsan/tests/test_embed_threads (ThreadSanitizer)"
	@$(TSAN_RUN) build-tsan/tests/test_embed_threads
	@echo "# examples/embed/host (ThreadSanitizer)"
	@cd examples/embed && TSAN_OPTIONS="halt_on_error=1 exitcode=66" ../../build-tsan/embed_host ../../lua controller.lua

# -- install -----------------------------------------------------------------------
# The Lua files keep their layout under lua/: lua/symlua/x.lua -> LUADIR/symlua/x.lua.
LUA_INSTALL = cd lua && find symlua -name '*.lua'

install-module: module
	install -d $(DESTDIR)$(LIBDIR)/symlua
	install -m 755 $(BUILD)/symlua/core.so $(DESTDIR)$(LIBDIR)/symlua/core.so
	@$(LUA_INSTALL) | while read -r f; do \
	  echo "install -m 644 lua/$$f $(DESTDIR)$(LUADIR)/$$f"; \
	  install -D -m 644 "$$f" "$(DESTDIR)$(LUADIR)/$$f" || exit 1; \
	done

# The public headers: tensors, the host API (states, functions), DLPack.
PUBLIC_H := core/include/symlua.h core/embed/symlua_host.h core/embed/symlua_dlpack.h
VERSION  := $(shell sed -n 's/^\#define SYMLUA_VERSION "\(.*\)"/\1/p' core/include/symlua.h)
PC_DIR    = $(SOLIBDIR)/pkgconfig

# symlua.pc: a host links the static library (no run-time path to set up),
# LuaJIT and every library the core calls.
install: all install-module
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SOLIBDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(PC_DIR)
	install -m 755 $(SYMLUA) $(DESTDIR)$(BINDIR)/symlua
	install -m 644 $(BUILD)/libsymlua.a $(DESTDIR)$(SOLIBDIR)/libsymlua.a
	install -m 755 $(BUILD)/libsymlua.so $(DESTDIR)$(SOLIBDIR)/libsymlua.so
	install -m 644 $(PUBLIC_H) $(DESTDIR)$(INCDIR)/
	@printf '%s\n' 'prefix=$(PREFIX)' 'includedir=$(INCDIR)' 'libdir=$(SOLIBDIR)' 'luadir=$(LUADIR)' '' \
	  'Name: symlua' 'Description: Lua-scripted array computation with a C core: tensors, host API, DLPack' \
	  'Version: $(VERSION)' 'Cflags: -I$${includedir} $(shell pkg-config --cflags luajit 2>/dev/null)' \
	  'Libs: $${libdir}/libsymlua.a $(or $(shell pkg-config --libs luajit 2>/dev/null),-lluajit-5.1) $(LIBS)' \
	  > $(DESTDIR)$(PC_DIR)/symlua.pc
	@echo "wrote $(DESTDIR)$(PC_DIR)/symlua.pc"

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/symlua $(DESTDIR)$(LIBDIR)/symlua/core.so \
	  $(DESTDIR)$(SOLIBDIR)/libsymlua.a $(DESTDIR)$(SOLIBDIR)/libsymlua.so \
	  $(addprefix $(DESTDIR)$(INCDIR)/,$(notdir $(PUBLIC_H))) $(DESTDIR)$(PC_DIR)/symlua.pc
	@$(LUA_INSTALL) | while read -r f; do rm -f "$(DESTDIR)$(LUADIR)/$$f"; done
	@for d in $(DESTDIR)$(LUADIR)/symlua $(DESTDIR)$(LIBDIR)/symlua $(DESTDIR)$(PC_DIR); do \
	  [ ! -d "$$d" ] || find "$$d" -depth -type d -empty -delete; \
	done

# Install into a scratch PREFIX, run the installed interpreter from elsewhere
# (so it can only find the installed Lua files), uninstall, and check that
# nothing is left behind.
installcheck: all
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(MAKE) --no-print-directory install PREFIX="$$tmp/prefix" >/dev/null && \
	v=$$(cd "$$tmp" && "$$tmp/prefix/bin/symlua" -e "print(require('symlua').version)") && \
	where=$$(cd "$$tmp" && "$$tmp/prefix/bin/symlua" -e "print(package.searchpath('symlua', package.path))") && \
	case "$$where" in "$$tmp/prefix/"*) ;; *) echo "symlua loaded from $$where"; exit 1;; esac && \
	echo "installcheck: $$tmp/prefix/bin/symlua runs symlua $$v from $$where" && \
	$(MAKE) --no-print-directory uninstall PREFIX="$$tmp/prefix" >/dev/null && \
	left=$$(find "$$tmp/prefix" -type f) && \
	if [ -n "$$left" ]; then echo "uninstall left: $$left"; exit 1; fi && \
	echo "installcheck: uninstall removed every file"

# Build and install the rock into a scratch tree with LuaRocks (no network:
# `make` builds from this checkout), then require it from a stock luajit.
LUAROCKS ?= luarocks --lua-version=5.1
rockcheck:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(LUAROCKS) make --tree "$$tmp/tree" symlua-scm-1.rockspec LUA_INCDIR=$(LUAJIT_INCDIR) && \
	eval "$$($(LUAROCKS) --tree "$$tmp/tree" path)" && \
	cd "$$tmp" && luajit -e " \
	  local sl = require 'symlua'; \
	  local where = package.searchpath('symlua.core', package.cpath); \
	  assert(where:find('$$tmp/tree/', 1, true) == 1, 'symlua.core loaded from ' .. where); \
	  local t = sl.arange(6):view(2, 3); \
	  assert(t[{2, 3}] == 5, 'wrong element'); \
	  print('rockcheck: luajit loads symlua ' .. sl.version .. ' from ' .. where)"

clean:
	rm -rf build build-san build-fuzz build-tsan bin/symlua bin/symlua-san
