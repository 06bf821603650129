#!/usr/bin/env bash
# bench/batch_load.py runs end to end on a small CSV: every system loads every
# row (the script checks the counts) and the result JSON is written.
set -u
B=${TS_BUILD:-build}
if [ -n "${TS_PRELOAD:-}" ]; then echo "SKIP batch bench smoke: not under the sanitizer pass"; exit 0; fi
if [ ! -x "$B/bin/tslite" ]; then echo "SKIP batch bench smoke: $B/bin/tslite not built"; exit 0; fi
dir=$(mktemp -d /tmp/tslite-blbench-XXXXXX)
trap 'rm -rf "$dir"' EXIT
systems="tslite sqlite"
[ -d node_modules/@duckdb/node-api ] && systems="$systems duckdb-1"
out=$(BL_ROWS=5000 BL_WORK="$dir" BL_BUILD="$B" BL_OUT="$dir/r.json" BL_SYSTEMS="$systems" \
      /usr/bin/python3 bench/batch_load.py 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q '^tslite ' <<<"$out" && [ -s "$dir/r.json" ]
then echo "PASS batch bench smoke: $systems load 5000 rows, result JSON written"
else echo "FAIL batch bench smoke: rc=$rc $out"; fi
n=$(/usr/bin/python3 -c "import json,sys; print(sum(r['ok'] for r in json.load(open(sys.argv[1]))['results']))" "$dir/r.json" 2>&1)
w=$(wc -w <<<"$systems")
if [ "$n" = "$w" ]; then echo "PASS batch bench smoke: every system ok in the JSON"
else echo "FAIL batch bench smoke: every system ok in the JSON: $n of $w"; fi
