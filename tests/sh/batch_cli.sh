#!/usr/bin/env bash
# `tslite load DBFILE CONFIG.json` (cli/cmd_load.c): plain progress lines when
# stderr is not a terminal, the result JSON on stdout, a summary, exit status
# 0 for SUCCEEDED and 1 for FAILED, a bar on a terminal (script(1)), usage
# errors, and --resume of a finished task.
set -u
B=${TS_BUILD:-build}
BIN=$B/bin/tslite
pre=()
[ -n "${TS_PRELOAD:-}" ] && pre=(env LD_PRELOAD="$TS_PRELOAD" ASAN_OPTIONS=detect_leaks=0)
if [ ! -x "$BIN" ]; then echo "SKIP batch cli: $BIN not built"; exit 0; fi
dir=$(mktemp -d /tmp/tslite-blcli-XXXXXX)
trap 'rm -rf "$dir"' EXIT
# 200000 rows in the last hour (the CLI runs on the real clock)
python3 - "$dir" <<'PY'
import sys, time, json
d = sys.argv[1]
now = int(time.time() * 1000) - 3600 * 1000
with open(f"{d}/in.csv", "w") as f:
    f.write("host,time,a,b\n")
    for i in range(200000):
        f.write(f"h{i % 10},{now + i * 10},{i},{i * 0.5}\n")
with open(f"{d}/bad.csv", "w") as f:
    f.write("host,time,a,b\nx,notatime,1,2\n")
m = {"TimeColumn": "time", "DimensionMappings": [{"SourceColumn": "host"}],
     "MultiMeasureMappings": {"TargetMultiMeasureName": "m", "MultiMeasureAttributeMappings": [
         {"SourceColumn": "a", "MeasureValueType": "BIGINT"}, {"SourceColumn": "b", "MeasureValueType": "DOUBLE"}]}}
# Small batches (1,000 commits), so the load outlasts the watcher's 200 ms
# poll however fast the loader is: a load shorter than one poll prints no
# progress line and draws no bar.
json.dump({"TargetTableName": "t", "DataSource": f"file://{d}/in.csv", "DataModel": m, "BatchRows": 200},
          open(f"{d}/ok.json", "w"))
json.dump({"TargetTableName": "t2", "DataSource": f"file://{d}/bad.csv", "DataModel": m,
           "ReportLocation": f"file://{d}/rep"}, open(f"{d}/bad.json", "w"))
PY
out=$("${pre[@]}" "$BIN" load "$dir/d.db" "$dir/ok.json" 2>"$dir/err"); rc=$?
err=$(cat "$dir/err")
if [ $rc -eq 0 ] && grep -q '"TaskStatus":"SUCCEEDED"' <<<"$out" && grep -q '"RecordsIngested":200000' <<<"$out"
then echo "PASS batch cli: load prints the result JSON and exits 0"
else echo "FAIL batch cli: load prints the result JSON and exits 0: rc=$rc out=$out err=$err"; fi
if grep -Eq '^task [A-Z0-9]{32} SUCCEEDED: 200000 records processed, 200000 ingested' <<<"$err"
then echo "PASS batch cli: summary line"; else echo "FAIL batch cli: summary line: $err"; fi
if grep -Eq '^progress: [0-9]+/[0-9]+ bytes, [0-9]+ records, 0 failed, file 1/1$' <<<"$err" && ! grep -q $'\r' <<<"$err"
then echo "PASS batch cli: plain progress lines off a terminal"
else echo "FAIL batch cli: plain progress lines off a terminal: $err"; fi
n=$(sqlite3 "$dir/d.db" "SELECT count(*) FROM t_series" 2>&1)
if [ "$n" = "10" ]; then echo "PASS batch cli: rows are in the table"; else echo "FAIL batch cli: rows are in the table: $n"; fi
out=$("${pre[@]}" "$BIN" load "$dir/d.db" "$dir/bad.json" 2>"$dir/err"); rc=$?
if [ $rc -eq 1 ] && grep -q '"TaskStatus":"FAILED"' <<<"$out" && grep -q '"ParseFailures":1' <<<"$out" \
   && grep -q "error report file://$dir/rep/" "$dir/err"
then echo "PASS batch cli: a FAILED task exits 1 and names its report"
else echo "FAIL batch cli: a FAILED task exits 1 and names its report: rc=$rc $out $(cat "$dir/err")"; fi
if command -v script >/dev/null; then
  rm -f "$dir/d2.db"
  tty=$(script -qc "${pre[*]} $BIN load $dir/d2.db $dir/ok.json" /dev/null 2>&1 | tr '\r' '\n')
  if grep -Eq '^\[[# ]{20}\] +[0-9]+%  [0-9.]+/[0-9.]+ MB  .* records  .* rec/s' <<<"$tty"
  then echo "PASS batch cli: progress bar on a terminal"
  else echo "FAIL batch cli: progress bar on a terminal: $(head -c 600 <<<"$tty")"; fi
else
  echo "SKIP batch cli: progress bar: script(1) is not installed"
fi
"${pre[@]}" "$BIN" load "$dir/d.db" >/dev/null 2>&1; rc=$?
if [ $rc -eq 2 ]; then echo "PASS batch cli: usage error exits 2"; else echo "FAIL batch cli: usage error exits 2: $rc"; fi
tid=$(sqlite3 "$dir/d.db" "SELECT TaskId FROM ts_batch_load_tasks WHERE TargetTableName='t'")
err=$("${pre[@]}" "$BIN" load --resume "$dir/d.db" "$tid" 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q "tslite: ts_batch_load_resume: task $tid is SUCCEEDED" <<<"$err"
then echo "PASS batch cli: --resume of a finished task is an error"
else echo "FAIL batch cli: --resume of a finished task is an error: rc=$rc $err"; fi
# Peak RSS does not grow with the file: 50,000 rows vs 400,000 rows (8x the bytes)
if [ -z "${TS_PRELOAD:-}" ]; then
  rss=$(python3 - "$dir" "$BIN" <<'PY'
import json, os, subprocess, sys, time
d, binp = sys.argv[1], sys.argv[2]
now = int(time.time() * 1000) - 3600 * 1000
out = []
for n in (50000, 400000):
    with open(f"{d}/r{n}.csv", "w") as f:
        f.write("host,time,a,b\n")
        for i in range(n):
            f.write(f"h{i % 10},{now + i},{i},{i * 0.5}\n")
    cfg = json.load(open(f"{d}/ok.json"))
    cfg.update(DataSource=f"file://{d}/r{n}.csv", TargetTableName=f"r{n}", BatchRows=10000)
    json.dump(cfg, open(f"{d}/r{n}.json", "w"))
    p = subprocess.Popen([binp, "load", f"{d}/rss{n}.db", f"{d}/r{n}.json"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, st, ru = os.wait4(p.pid, 0)
    out.append(f"{st}:{ru.ru_maxrss}")
print(" ".join(out))
PY
)
  read -r a b <<<"$rss"
  ka=${a#*:}; kb=${b#*:}
  if [ "${a%%:*}" = 0 ] && [ "${b%%:*}" = 0 ] && [ "$kb" -le $((ka + 4096)) ]
  then echo "PASS batch cli: peak RSS independent of file size (${ka} KB for 50k rows, ${kb} KB for 400k)"
  else echo "FAIL batch cli: peak RSS independent of file size: $rss"; fi
fi
