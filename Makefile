# tslite build.  `make` builds build/tslite.so and build/libtslite.a;
# `make test` installs test dependencies, builds, runs every test, then runs
# them all again under ASan+UBSan (build/asan/), ending with "N passed, N failed".
#
# Sources are picked up by wildcard so modules can be added without editing
# this file: ext/*.c, ext/codec/*.c, s3/*.c, scheduler/*.c and common/*.c form
# the extension (layout and include direction: ../shared/DESIGN.md section 1,
# docs/internals/architecture.md); cli/*.c is the `tslite` program
# (build/bin/tslite); tests/unit/*.c are C unit tests (one binary each);
# tests/fuzz/*.c are libFuzzer targets.

CC       ?= cc
B        ?= build
OPT      ?= -O2
SAN      ?=
CFLAGS_BASE = -std=gnu11 -g $(OPT) -fPIC -fvisibility=hidden -Wall -Wextra -Werror \
              -Wno-unused-parameter -D_GNU_SOURCE -Icommon -Iext/codec -Iext -Is3 -Ischeduler $(SAN)
CFLAGS  ?=
ALL_CFLAGS = $(CFLAGS_BASE) $(CFLAGS)
LIBS     = -lcurl -lssl -lcrypto -lz -lzstd -lexpat -lm -lpthread

EXT_SRC  = $(sort $(wildcard ext/*.c ext/codec/*.c s3/*.c scheduler/*.c common/*.c))
EXT_OBJ  = $(patsubst %.c,$(B)/obj/%.o,$(EXT_SRC))
HDRS     = $(wildcard ext/*.h ext/codec/*.h s3/*.h scheduler/*.h common/*.h cli/*.h tests/unit/*.h)
CLI_SRC  = $(sort $(wildcard cli/*.c))
UNIT_SRC = $(sort $(wildcard tests/unit/*.c))
UNIT_BIN = $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
TOOL_BIN = $(B)/tests/sqltest $(patsubst tests/tools/%.c,$(B)/tools/%,$(sort $(wildcard tests/tools/*.c)))
# Every libFuzzer target also builds with the ordinary compiler against a
# replay main (tests/fuzz/replay/replay.c): tests/sh/fuzz_replay.sh replays
# each corpus in `make test` (normal and ASan builds).
FUZZ_REPLAY_BIN = $(patsubst tests/fuzz/%.c,$(B)/fuzzreplay/%,$(sort $(wildcard tests/fuzz/*.c)))

.PHONY: all test check deps deps-build asan fuzz bench demo clean format lint
all: $(B)/tslite.so $(B)/libtslite.a $(if $(CLI_SRC),$(B)/bin/tslite) $(UNIT_BIN) $(TOOL_BIN) $(FUZZ_REPLAY_BIN)

$(B)/obj/%.o: %.c $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# Only sqlite3_tslite_init is exported (visibility=hidden + version script).
$(B)/tslite.so: $(EXT_OBJ) ext/tslite.map
	$(CC) $(SAN) -shared -o $@ $(EXT_OBJ) -Wl,--version-script=ext/tslite.map $(LIBS)

$(B)/libtslite.a: $(EXT_OBJ)
	@rm -f $@
	ar rcs $@ $(EXT_OBJ)

# The command-line program links the static library and the system libsqlite3.
$(B)/bin/tslite: $(CLI_SRC) $(B)/libtslite.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Icli $(CLI_SRC) -o $@ $(B)/libtslite.a -lsqlite3 $(LIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libtslite.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $< -o $@ $(B)/libtslite.a -lsqlite3 $(LIBS)

$(B)/tests/sqltest: tests/sqltest.c $(B)/libtslite.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@ $(B)/libtslite.a -lsqlite3 $(LIBS)

# Helper programs used by tests (not tests themselves): tests/tools/NAME.c -> $(B)/tools/NAME
$(B)/tools/%: tests/tools/%.c $(B)/libtslite.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@ $(B)/libtslite.a -lsqlite3 $(LIBS)

$(B)/fuzzreplay/%: tests/fuzz/%.c tests/fuzz/replay/replay.c $(B)/libtslite.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< tests/fuzz/replay/replay.c -o $@ $(B)/libtslite.a -lsqlite3 $(LIBS)

# Installs Debian packages and npm test tools when missing (see tests/deps.sh).
deps:
	@tests/deps.sh

# Only what building needs (the README's first set-up command).
deps-build:
	@tests/deps.sh --build-only

asan:
	$(MAKE) B=build/asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" all

test: deps
	$(MAKE) all
	$(MAKE) asan
	tests/run.sh build build/asan

# Quick loop for development: normal build only.
check: all
	tests/run.sh build

FUZZ_SRC = $(sort $(wildcard tests/fuzz/*.c))
fuzz:
	@tests/fuzz.sh $(FUZZ_SRC)

bench: all
	@bench/run.sh

demo: all
	@sh docs/demo.sh

format:
	clang-format -i $(wildcard ext/*.[ch] ext/codec/*.[ch] s3/*.[ch] scheduler/*.[ch] common/*.[ch] cli/*.[ch]) tests/unit/*.c tests/*.c

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability -Icommon -Iext/codec -Iext -Is3 -Ischeduler ext s3 $(wildcard common scheduler cli)

clean:
	rm -rf build
