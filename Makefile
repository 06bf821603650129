# tslite build.  `make` builds build/tslite.so, build/libtslite.a and
# build/bin/tslite (the library and the CLI only, in parallel with -jN);
# `make test` installs test dependencies, builds the test programs, runs every
# test, then again under ASan+UBSan (build/asan/), then the C and SQL suites
# against a current SQLite amalgamation (build/sqlite-current/, compiled from
# the sqlite3.c that the npm devDependency better-sqlite3 ships), ending with
# "N passed, N failed".  `make install PREFIX=/usr/local DESTDIR=` installs
# lib/tslite.so, lib/libtslite.a, include/tslite.h, lib/pkgconfig/tslite.pc
# and bin/tslite; `make uninstall` removes exactly those.
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
LIBS     = -lcurl -lssl -lcrypto -lz -lzstd -llz4 -lexpat -lm -lpthread

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

.PHONY: all tests test check deps deps-build asan sqlite-current fuzz bench demo clean format lint \
        install uninstall
all: $(B)/tslite.so $(B)/libtslite.a $(if $(CLI_SRC),$(B)/bin/tslite)
# The test programs (C unit tests, the SQL golden runner, test helpers, the
# fuzz-corpus replayers).
tests: all $(UNIT_BIN) $(TOOL_BIN) $(FUZZ_REPLAY_BIN)

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

# The current-SQLite build: SQLite's amalgamation as better-sqlite3 12.x ships
# it (pinned in package-lock.json; `make deps` runs npm ci), compiled with
# default options into $(AM)/sqlite3.o; the unit tests and the SQL golden
# runner are linked against it instead of the system libsqlite3.
# tests/run.sh runs only those binaries for a build directory holding sqlite3.o.
SQLITE_AMALG ?= node_modules/better-sqlite3/deps/sqlite3
AM        = $(B)/sqlite-current
AM_UNIT   = $(patsubst tests/unit/%.c,$(AM)/tests/%,$(UNIT_SRC))
sqlite-current: $(AM)/tests/sqltest $(AM_UNIT)

$(AM)/sqlite3.o: $(SQLITE_AMALG)/sqlite3.c
	@test -f $< || { echo "missing $<: run 'make deps' (npm ci installs better-sqlite3)"; exit 1; }
	@mkdir -p $(dir $@)
	$(CC) -O1 -g0 -fPIC $(SAN) -I$(SQLITE_AMALG) -c $< -o $@

$(AM)/tests/sqltest: tests/sqltest.c $(B)/libtslite.a $(AM)/sqlite3.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(SQLITE_AMALG) $< -o $@ $(B)/libtslite.a $(AM)/sqlite3.o $(LIBS)

$(AM)/tests/%: tests/unit/%.c $(B)/libtslite.a $(AM)/sqlite3.o $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(SQLITE_AMALG) -Itests/unit $< -o $@ $(B)/libtslite.a $(AM)/sqlite3.o $(LIBS)

ASAN_VARS = B=build/asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
asan:
	$(MAKE) $(ASAN_VARS) tests

test: deps
	$(MAKE) tests
	$(MAKE) sqlite-current
	$(MAKE) asan
	tests/run.sh build build/asan build/sqlite-current

# Quick loop for development: normal build only (system SQLite).
check: tests
	tests/run.sh build

FUZZ_SRC = $(sort $(wildcard tests/fuzz/*.c))
fuzz:
	@FUZZ_LIBS="$(LIBS)" tests/fuzz.sh $(FUZZ_SRC)

# Installs what the systems need (npm ci for DuckDB, as make test does);
# fails when a system it was asked to run (BENCH_SYSTEMS) is skipped.
bench: deps all
	@bench/run.sh

demo: all
	@sh docs/demo.sh

format:
	clang-format -i $(wildcard ext/*.[ch] ext/codec/*.[ch] s3/*.[ch] scheduler/*.[ch] common/*.[ch] cli/*.[ch]) tests/unit/*.c tests/*.c

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability -Icommon -Iext/codec -Iext -Is3 -Ischeduler ext s3 $(wildcard common scheduler cli)

# make install PREFIX=/usr/local DESTDIR=: the loadable module lib/tslite.so
# (no libtslite.so, so -ltslite is the static library), lib/libtslite.a,
# include/tslite.h, lib/pkgconfig/tslite.pc and bin/tslite.
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION  = $(shell sed -n 's/^\#define TSLITE_VERSION  *"\(.*\)"/\1/p' include/tslite.h)
INSTALLED = lib/tslite.so lib/libtslite.a include/tslite.h lib/pkgconfig/tslite.pc bin/tslite
install: all
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(B)/tslite.so $(DESTDIR)$(PREFIX)/lib/tslite.so
	install -m 644 $(B)/libtslite.a $(DESTDIR)$(PREFIX)/lib/libtslite.a
	install -m 644 include/tslite.h $(DESTDIR)$(PREFIX)/include/tslite.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS@|$(LIBS)|' \
	  include/tslite.pc.in >$(DESTDIR)$(PREFIX)/lib/pkgconfig/tslite.pc
	chmod 644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/tslite.pc
	install -m 755 $(B)/bin/tslite $(DESTDIR)$(PREFIX)/bin/tslite

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(INSTALLED))

clean:
	rm -rf build
