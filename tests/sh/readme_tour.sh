#!/usr/bin/env bash
# The README's "A 5-minute tour" must be true: extract its ```sql block, run
# it in the sqlite3 shell as a user would (fresh database file), and compare
# the printed rows with the README's output comments (comment lines that
# hold a single word, e.g. "-- host_0|40.0|58.1").  The values are also
# checked against numbers computed by hand here, the README's promise that
# the table survives a reopen is checked, and the Parquet export is read
# back through the parquet virtual table.
set -u
ROOT=${TS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
EXT=${TS_EXT:-$ROOT/build/tslite}
nfail=0
pass() { echo "PASS readme_tour: $1"; }
fail() { echo "FAIL readme_tour: $1"; nfail=$((nfail+1)); }
if [ ! -f "$EXT.so" ]; then echo "SKIP readme_tour: $EXT.so not built"; exit 0; fi
tmp=$(mktemp -d /tmp/tslite-tour-test-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# sqlite3 with the sanitizer runtime preloaded under the ASan pass.
sq() {
  if [ -n "${TS_PRELOAD:-}" ]; then
    LD_PRELOAD="$TS_PRELOAD" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 sqlite3 "$@"
  else
    sqlite3 "$@"
  fi
}

awk '/^## A 5-minute tour/{t=1; next} /^## /{t=0}
     t && /^```sql/{b=1; next} t && b && /^```/{exit} b{print}' "$ROOT/README.md" >"$tmp/tour.sql"
if ! grep -q 'CREATE VIRTUAL TABLE' "$tmp/tour.sql"; then
  fail "no sql block with CREATE VIRTUAL TABLE under '## A 5-minute tour' in README.md"; exit 1
fi
grep -q '^\.load \./build/tslite$' "$tmp/tour.sql" && pass "tour loads ./build/tslite" \
  || fail "tour does not start with .load ./build/tslite"
grep -q "file:///tmp/tslite-tour'" "$tmp/tour.sql" && pass "tour exports to file:///tmp/tslite-tour" \
  || fail "tour export destination changed (update this test)"

# Run it: the extension from this build, the export into our temp dir.
sed -e "s|^\.load \./build/tslite\$|.load $EXT|" -e "s|file:///tmp/tslite-tour'|file://$tmp/export'|" \
  "$tmp/tour.sql" >"$tmp/run.sql"
grep -E '^-- [^ ]+$' "$tmp/tour.sql" | sed 's/^-- //' >"$tmp/expected"
(cd "$tmp" && sq -bail tour.db <"$tmp/run.sql" >"$tmp/out" 2>"$tmp/err"); rc=$?
if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ]; then pass "tour runs without error"
else fail "tour failed (status $rc): $(tr '\n' ' ' <"$tmp/err")"; fi
if cmp -s "$tmp/out" "$tmp/expected"; then pass "output equals the README's output comments"
else fail "output differs from README: got [$(tr '\n' ';' <"$tmp/out")] README says [$(tr '\n' ';' <"$tmp/expected")]"; fi

# Independent numbers: avg(58.1, 61.9) = 60.0; host_0's last value 40.0,
# median of {40.0, 58.1, 61.9} = 58.1; linear at 12:05 between (12:03, 61.9)
# and (12:07:30, 40.0): 61.9 - 21.9 * 120/270 = 52.1666...; 4 rows exported.
hand='1714566600000000000
2024-05-01T12:00:00.000000000Z|host_0|60.0
2024-05-01T12:00:00.000000000Z|host_1|12.0
2024-05-01T12:05:00.000000000Z|host_0|40.0
host_0|40.0|58.1
host_1|12.0|12.0
52.166667
4'
if [ "$(cat "$tmp/out")" = "$hand" ]; then pass "output equals the hand-computed rows"
else fail "output [$(tr '\n' ';' <"$tmp/out")] != hand-computed [$(tr '\n' ';' <<<"$hand")]"; fi

# "The table survives a restart": a new process, the same file.
got=$(cd "$tmp" && sq -bail -cmd ".load $EXT" tour.db \
  "SELECT count(*), sum(usage_user), group_concat(hostname || '@' || time, ',') FROM (SELECT * FROM cpu ORDER BY time)" 2>&1)
exp='4|172.0|host_0@1714564800000000000,host_1@1714564860000000000,host_0@1714564980000000000,host_0@1714565250000000000'
[ "$got" = "$exp" ] && pass "rows survive a reopen" || fail "after reopen: got [$got], expected [$exp]"

# The export: one Parquet file + manifest + metadata; read it back.
n=$(find "$tmp/export/results" -name '*.parquet' | wc -l)
m=$(find "$tmp/export" -maxdepth 1 -name '*_manifest.json' | wc -l)
[ "$n" = 1 ] && [ "$m" = 1 ] && pass "export wrote one parquet file and a manifest" \
  || fail "export: $n parquet files, $m manifests"
f=$(find "$tmp/export/results" -name '*.parquet' | head -n 1)
got=$(sq -bail -cmd ".load $EXT" :memory: \
  "CREATE VIRTUAL TABLE x USING parquet('file://$f'); SELECT time, hostname, usage_user FROM x ORDER BY time" 2>&1)
exp='1714564800000000000|host_0|58.1
1714564860000000000|host_1|12.0
1714564980000000000|host_0|61.9
1714565250000000000|host_0|40.0'
[ "$got" = "$exp" ] && pass "exported parquet reads back the table's rows" \
  || fail "parquet read back: got [$(tr '\n' ';' <<<"$got")], expected [$(tr '\n' ';' <<<"$exp")]"

# The README's Python and Node snippets, on the tour's database (./build/tslite
# replaced by this build's extension; the Node file sits under the build dir
# so that node_modules resolves; cwd is the tour's directory).
pre=(); [ -n "${TS_PRELOAD:-}" ] && pre=(env LD_PRELOAD="$TS_PRELOAD" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1)
awk '/^```python$/{b=1; next} b&&/^```/{exit} b{print}' "$ROOT/README.md" | sed "s|\./build/tslite|$EXT|" >"$tmp/readme.py"
got=$(cd "$tmp" && "${pre[@]}" /usr/bin/python3 readme.py 2>&1)
exp="[('2024-05-01T12:00:00.000000000Z', 44.0), ('2024-05-01T12:05:00.000000000Z', 40.0)]"
[ "$got" = "$exp" ] && pass "README's Python snippet: $got" || fail "README's Python snippet: got [$got], expected [$exp]"
if [ -d "$ROOT/node_modules/better-sqlite3" ]; then
  mkdir -p "${TS_BUILD:-$ROOT/build}/snippets"
  js="${TS_BUILD:-$ROOT/build}/snippets/readme-$$.mjs"
  awk '/^```js$/{b=1; next} b&&/^```/{exit} b{print}' "$ROOT/README.md" | sed "s|\./build/tslite|$EXT|" >"$js"
  got=$(cd "$tmp" && "${pre[@]}" node "$js" 2>&1 | tr -d ' \n'); rm -f "$js"
  exp="[{time:1714564800000000000n,usage_user:58.1},{time:1714564860000000000n,usage_user:12},{time:1714564980000000000n,usage_user:61.9},{time:1714565250000000000n,usage_user:40}]"
  [ "$got" = "$exp" ] && pass "README's Node snippet (BigInt times)" || fail "README's Node snippet: got [$got], expected [$exp]"
else
  echo "SKIP readme_tour: Node snippet: node_modules/better-sqlite3 missing (npm ci)"
fi
[ $nfail -eq 0 ]
