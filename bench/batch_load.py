#!/usr/bin/python3
"""bench/batch_load.py: batch-load throughput of one TSBS cpu-like CSV
(hostname, region + 10 BIGINT measures, tsbs-int style values; times in the
last few hours so they sit in the default write window) loaded by

  tslite       `tslite load` (ts_batch_load from file://) into a timeseries table
  sqlite       the sqlite3 shell's `.import --csv` into a plain table with an
               index on (hostname, time), in one transaction
  duckdb-1/2   DuckDB `CREATE TABLE AS SELECT * FROM read_csv(...)` with
               threads=1 and threads=2 (@duckdb/node-api)

Prints rows/s (wall) and rows per CPU second (user+sys of the loading
process) per system and writes the figures to bench/results/batch_load-<UTC>.json.
Knobs: BL_ROWS (default 1000000), BL_WORK (default bench/data), BL_BUILD
(default build), BL_SYSTEMS (default "tslite sqlite duckdb-1 duckdb-2").
"""
import json
import os
import random
import resource
import subprocess
import sys
import time

root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
os.chdir(root)
rows = int(os.environ.get("BL_ROWS", "1000000"))
work = os.path.abspath(os.environ.get("BL_WORK", "bench/data"))
build = os.path.abspath(os.environ.get("BL_BUILD", "build"))
systems = os.environ.get("BL_SYSTEMS", "tslite sqlite duckdb-1 duckdb-2").split()
os.makedirs(work, exist_ok=True)
os.makedirs("bench/results", exist_ok=True)
csv_path = os.path.join(work, f"bl-{rows}.csv")
HOSTS = 100

# ---- data ------------------------------------------------------------------
t_start = int(time.time() * 1000) - 4 * 3600 * 1000
step = max(1, (3 * 3600 * 1000 * HOSTS) // rows)
rnd = random.Random(123)
with open(csv_path, "w") as f:
    f.write("hostname,region,time," + ",".join(f"usage_{i}" for i in range(10)) + "\n")
    vals = [[rnd.randrange(100) for _ in range(10)] for _ in range(HOSTS)]
    for i in range(rows):
        h = i % HOSTS
        v = vals[h]
        for j in range(10):   # a random walk like tsbs-int
            v[j] = min(100, max(0, v[j] + rnd.randrange(-2, 3)))
        f.write(f"host_{h},r{h % 7},{t_start + (i // HOSTS) * step},{','.join(map(str, v))}\n")
size = os.path.getsize(csv_path)


def timed(argv, **kw):
    """Run argv; (wall seconds, child CPU seconds, CompletedProcess)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return wall, cpu, p


results = []


def record(system, wall, cpu, ok, detail=""):
    results.append({"system": system, "rows": rows, "bytes": size, "seconds": round(wall, 3),
                    "cpu_seconds": round(cpu, 3), "rows_per_s": round(rows / wall) if ok else None,
                    "rows_per_cpu_s": round(rows / cpu) if ok and cpu > 0 else None, "ok": ok, "detail": detail})


for s in systems:
    db = os.path.join(work, f"bl-{s}.db")
    for suffix in ("", "-wal", "-journal"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    if s == "tslite":
        cfg = {"TargetTableName": "cpu", "DataSource": "file://" + csv_path, "BatchRows": 50000,
               "DataModel": {"TimeColumn": "time", "DimensionMappings": [{"SourceColumn": "hostname"},
                                                                         {"SourceColumn": "region"}],
                             "MultiMeasureMappings": {"TargetMultiMeasureName": "cpu",
                                                      "MultiMeasureAttributeMappings": [
                                                          {"SourceColumn": f"usage_{i}", "MeasureValueType": "BIGINT"}
                                                          for i in range(10)]}}}
        cfg_path = os.path.join(work, "bl-cfg.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        wall, cpu, p = timed([os.path.join(build, "bin", "tslite"), "load", db, cfg_path])
        ok = p.returncode == 0 and f'"RecordsIngested":{rows}' in p.stdout
        record(s, wall, cpu, ok, "" if ok else (p.stdout + p.stderr)[-300:])
    elif s == "sqlite":
        sql = ("CREATE TABLE cpu(hostname TEXT, region TEXT, time INTEGER, "
               + ", ".join(f"usage_{i} INTEGER" for i in range(10)) + ");\n"
               "CREATE INDEX cpu_ht ON cpu(hostname, time);\nBEGIN;\n"
               f".import --csv --skip 1 {csv_path} cpu\nCOMMIT;\nSELECT count(*) FROM cpu;\n")
        wall, cpu, p = timed(["sqlite3", db], input=sql)
        ok = p.returncode == 0 and p.stdout.strip().endswith(str(rows))
        record(s, wall, cpu, ok, "" if ok else (p.stdout + p.stderr)[-300:])
    elif s.startswith("duckdb-"):
        threads = s.split("-")[1]
        js = f"""
const duck = await import('@duckdb/node-api');
const inst = await duck.DuckDBInstance.create({json.dumps(db)}, {{ threads: '{threads}' }});
const con = await inst.connect();
const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
await con.run("CREATE TABLE cpu AS SELECT * FROM read_csv({json.dumps(csv_path).replace('"', "'")}, header=true)");
const n = (await con.runAndReadAll('SELECT count(*) FROM cpu')).getRows()[0][0];
const c = process.cpuUsage(c0);
console.log(JSON.stringify({{ n: String(n), wall: Number(process.hrtime.bigint() - t0) / 1e9,
  cpu: (c.user + c.system) / 1e6 }}));
"""
        _, _, p = timed(["node", "--input-type=module", "-e", js], cwd=root)
        try:
            o = json.loads(p.stdout.strip().splitlines()[-1])
            ok = o["n"] == str(rows)
            record(s, o["wall"], o["cpu"], ok, "" if ok else p.stdout[-300:])
        except (ValueError, IndexError, KeyError):
            record(s, 0, 0, False, (p.stdout + p.stderr)[-300:])
    else:
        record(s, 0, 0, False, "unknown system")

print(f"batch load: {rows} rows, 13 columns (10 BIGINT measures), {size / 1e6:.1f} MB CSV")
print(f"{'system':<10} {'seconds':>8} {'rows/s':>12} {'rows/CPU s':>12}")
for r in results:
    if r["ok"]:
        print(f"{r['system']:<10} {r['seconds']:>8.2f} {r['rows_per_s']:>12,} {r['rows_per_cpu_s'] or 0:>12,}")
    else:
        print(f"{r['system']:<10} FAILED {r['detail']}")
out = os.environ.get("BL_OUT") or time.strftime("bench/results/batch_load-%Y%m%dT%H%M%SZ.json", time.gmtime())
with open(out, "w") as f:
    json.dump({"rows": rows, "bytes": size, "results": results}, f, indent=1)
print(f"written: {out}")
os.remove(csv_path)
sys.exit(0 if all(r["ok"] for r in results) else 1)
