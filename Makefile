# symlua — build, test and install. `make help` lists the targets.

CC      ?= cc
PREFIX  ?= /usr/local
OPT     ?= -O2 -g
WARN     = -Wall -Wextra
LUAJIT_CFLAGS := $(shell pkg-config --cflags luajit 2>/dev/null || echo -I/usr/include/luajit-2.1)
LUAJIT_A      := $(firstword $(wildcard /usr/lib/*/libluajit-5.1.a /usr/lib/libluajit-5.1.a /usr/local/lib/libluajit-5.1.a))
CFLAGS_ALL = -std=gnu11 $(OPT) $(WARN) -fPIC -Icore/include -Icore $(LUAJIT_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
LIBS       = -lm -ldl -lpthread
BUSTED     = $(firstword $(wildcard /usr/bin/busted /usr/local/bin/busted))

# Lua C modules (lfs, term, ...) resolve the Lua API from the executable: export it.
EXE_LDFLAGS = -Wl,-E

BUILD   ?= build
CORE_SRC := $(wildcard core/*.c)
CORE_OBJ := $(CORE_SRC:core/%.c=$(BUILD)/core/%.o)
CORE_DEP := $(CORE_OBJ:.o=.d)

SYMLUA   ?= bin/symlua
LUA_FILES := $(wildcard lua/symlua/*.lua)

.PHONY: all demo check check-c sanitize install uninstall clean help

all: $(SYMLUA) $(BUILD)/libsymlua.a $(BUILD)/libsymlua.so $(BUILD)/symlua/core.so

help:
	@echo "make            build bin/symlua, libsymlua (.a and .so) and the Lua module"
	@echo "make demo       build and run an example end to end"
	@echo "make check      build and run every test"
	@echo "make sanitize   build with ASan+UBSan and run the specs"
	@echo "make install    install under PREFIX (default /usr/local)"

$(BUILD)/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

-include $(CORE_DEP)

$(BUILD)/libsymlua.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libsymlua.so: $(CORE_OBJ)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(LIBS)

# The module for a stock LuaJIT (`require 'symlua.core'`); Lua itself comes from the host.
$(BUILD)/symlua/core.so: $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(LIBS)

BIN_OBJ := $(patsubst bin/%.c,$(BUILD)/bin/%.o,$(wildcard bin/*.c))

$(BUILD)/bin/%.o: bin/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

-include $(BIN_OBJ:.o=.d)

$(SYMLUA): $(BIN_OBJ) $(BUILD)/libsymlua.a
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $(BIN_OBJ) $(BUILD)/libsymlua.a $(LUAJIT_A) -ledit $(LIBS)

check: all
	$(SYMLUA) spec/run.lua

clean:
	rm -rf build build-san bin/symlua bin/symlua-san
