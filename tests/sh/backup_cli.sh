#!/usr/bin/env bash
# `tslite backup` / `tslite restore` (cli/backup.c): a backup and a restore
# from the command line print the JSON summaries, the restored table has the
# rows, errors go to stderr with exit 1, usage errors exit 2, --help exits 0.
set -u
B=${TS_BUILD:-build}
T="$B/bin/tslite"
pre=()
[ -n "${TS_PRELOAD:-}" ] && pre=(env LD_PRELOAD="$TS_PRELOAD" ASAN_OPTIONS=detect_leaks=0)
if [ ! -x "$T" ]; then echo "SKIP backup_cli: $T not built"; exit 0; fi
dir=$(mktemp -d /tmp/tslite-bkcli-XXXXXX)
trap 'rm -rf "$dir"' EXIT
ok(){ if [ "$2" = "$3" ]; then echo "PASS backup_cli: $1"; else echo "FAIL backup_cli: $1: got '$2', expected '$3'"; fi; }
"${pre[@]}" sqlite3 "$dir/d.db" >/dev/null <<SQL
.load ${TS_EXT:-build/tslite}
CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE, memory_retention = '8766h');
WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < 999)
INSERT INTO cpu(time, host, v) SELECT (strftime('%s','now') - 3600 + x) * 1000000000, 'h' || (x % 4), x FROM i;
SQL
out=$("${pre[@]}" "$T" backup "$dir/d.db" cpu "file://$dir/loc" 2>&1); rc=$?
ok "backup exit status" "$rc" 0
ok "backup prints the summary" "$(sed -n 's/.*"rows":\([0-9]*\),"memory_rows".*"new_files":\([0-9]*\).*/\1 new=\2/p' <<<"$out" | sed 's/new=[1-9][0-9]*/new=N/')" "1000 new=N"
out=$("${pre[@]}" "$T" restore "file://$dir/loc" "$dir/d.db" cpu2 '{"memory_retention":"7d"}' 2>&1); rc=$?
ok "restore exit status" "$rc" 0
ok "restore prints the summary" "$(grep -o '"table":"cpu2","backup":"[0-9a-f-]*","source_table":"cpu","rows":1000' <<<"$out" | sed 's/"backup":"[^"]*"/"backup":ID/')" '"table":"cpu2","backup":ID,"source_table":"cpu","rows":1000'
ok "restored rows" "$("${pre[@]}" sqlite3 -cmd ".load ${TS_EXT:-build/tslite}" "$dir/d.db" "SELECT count(*), sum(v) FROM cpu2; SELECT v FROM cpu2_config WHERE k='memory_retention';" | tr '\n' ' ')" "1000|499500.0 7d "
out=$("${pre[@]}" "$T" restore "file://$dir/loc" "$dir/d.db" cpu2 2>&1); rc=$?
ok "restore into an existing table fails with exit 1" "$rc $out" "1 tslite restore: ts_restore: a table named 'cpu2' already exists in schema main (restore always creates a new table)"
"${pre[@]}" "$T" backup "$dir/d.db" >/dev/null 2>&1; ok "usage error exits 2" "$?" 2
"${pre[@]}" "$T" restore --help >/dev/null 2>&1; ok "restore --help exits 0" "$?" 0
