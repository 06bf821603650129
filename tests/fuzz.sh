#!/usr/bin/env bash
# Builds and runs each libFuzzer target in tests/fuzz/*.c for FUZZ_SECONDS
# (default 30) with clang -fsanitize=fuzzer,address,undefined.  A target is a
# file defining LLVMFuzzerTestOneInput; it is linked with every ext/, ext/codec/, s3/, scheduler/ and common/
# source.  Corpora live in tests/fuzz/corpus/<target>/ when present.
# FUZZ_LIBS: the libraries to link (`make fuzz` passes the Makefile's LIBS, so
# the two lists cannot drift apart).
set -eo pipefail
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-30}
LIBS=${FUZZ_LIBS:--lcurl -lssl -lcrypto -lz -lzstd -llz4 -lexpat -lm -lpthread}
mkdir -p build/fuzz
srcs=$(ls ext/*.c ext/codec/*.c s3/*.c scheduler/*.c common/*.c 2>/dev/null || true)
status=0
for t in "$@"; do
  name=$(basename "$t" .c)
  echo "== fuzz $name (${SECS}s)"
  clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Icommon -Iext/codec -Iext -Is3 -Ischeduler \
    "$t" $srcs -o "build/fuzz/$name" -lsqlite3 $LIBS
  corpus="tests/fuzz/corpus/$name"; mkdir -p "build/fuzz/corpus-$name"
  dirs="build/fuzz/corpus-$name"; [ -d "$corpus" ] && dirs="$dirs $corpus"
  "build/fuzz/$name" -max_total_time="$SECS" -print_final_stats=0 $dirs 2>&1 | tail -3 || status=1
done
exit $status
