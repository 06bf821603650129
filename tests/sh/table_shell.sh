#!/usr/bin/env bash
# The timeseries table from the sqlite3 shell: shadow tables are read-only
# under SQLITE_DBCONFIG_DEFENSIVE (xShadowName), and `make demo` runs and ends
# with an intact table.
set -u
EXT=${TS_EXT:-build/tslite}
pre=()
[ -n "${TS_PRELOAD:-}" ] && pre=(env LD_PRELOAD="$TS_PRELOAD" ASAN_OPTIONS=detect_leaks=0)
dir=$(mktemp -d /tmp/tslite-shell-XXXXXX)
trap 'rm -rf "$dir"' EXIT
out=$("${pre[@]}" sqlite3 "$dir/d.db" 2>&1 <<SQL
.load $EXT
.dbconfig defensive on
CREATE VIRTUAL TABLE t USING timeseries(v DOUBLE);
INSERT INTO t_config VALUES('x', 1);
DELETE FROM t_chunks;
UPDATE t_series SET tmin = 0;
SELECT 'config rows', count(*) = 2 + (SELECT count(*) FROM json_each(ts_options())
                                    WHERE json_extract(value, '\$.default') IS NOT NULL) FROM t_config;
SQL
)
for s in t_config t_chunks t_series; do
  if grep -q "table $s may not be modified" <<<"$out"; then echo "PASS shell: $s is read-only in defensive mode"
  else echo "FAIL shell: $s is read-only in defensive mode: $out"; fi
done
# "format", the column, and one row per option with a default
if grep -q "config rows|1" <<<"$out"; then echo "PASS shell: config untouched"; else echo "FAIL shell: config untouched: $out"; fi
demo=$(sh docs/demo.sh 2>&1)
if grep -q '"rows":3240' <<<"$demo" && grep -q '│ ok ' <<<"$demo"; then echo "PASS shell: make demo"
else echo "FAIL shell: make demo: $(tail -5 <<<"$demo")"; fi
