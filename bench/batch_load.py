#!/usr/bin/python3
"""bench/batch_load.py: the batch-load line of `make bench` (bench/run.sh runs it).

Data: the bench's own TSBS cpu-only data, variant tsbs-int (bench/tsbs_gen.c,
seed 123, the same file bench/run.sh loads), written as one CSV: the 10 tags,
time (ns) and the 10 integer fields, 22 columns.  Two sizes (BL_DAYS, default
"1 3" days of BL_HOSTS=100 hosts: 864,000 and 2,592,000 rows), so peak RSS can
be compared across file sizes.  Systems (BL_SYSTEMS, default all):

  tslite       ts_batch_load from file:// (sqlite3 shell + .load), into a
               timeseries table with the tags as dimensions and the fields as
               BIGINT measures, default BatchRows
  tslite-s3    the same from s3rver (tests/js/s3fixture.mjs, loopback; the
               object is uploaded first, untimed): ranged GETs of 1 MiB
  sqlite       the sqlite3 shell's `.import --csv` into a plain table with an
               index on (hostname, time), in one transaction
  duckdb-1/2   DuckDB `CREATE TABLE AS SELECT * FROM read_csv(...)` with
               threads=1 and threads=2 (@duckdb/node-api)

Per system and size: wall seconds, rows/s, CPU seconds (user+sys of the
loading process from wait4; DuckDB: the node process's cpuUsage around the
load), rows per CPU second and peak RSS (ru_maxrss of the loading process,
node's own included for DuckDB).  The machine is shared, so rows per CPU
second is the figure to compare.  Results: bench/results/batch_load-<UTC>.json
(BL_OUT overrides).  Exit status 1 if a requested system failed or could not
run (s3rver, DuckDB missing): name fewer systems in BL_SYSTEMS on purpose.

Knobs: BL_HOSTS, BL_DAYS (space-separated), BL_ROWS (one small size instead:
about that many rows, for tests), BL_WORK (default bench/data; the CSVs are
kept there between runs), BL_BUILD (default build), BL_SYSTEMS, BL_OUT,
BL_PRELOAD (LD_PRELOAD for the processes that load the extension).
"""
import json
import os
import selectors
import shutil
import struct
import subprocess
import sys
import time

root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
os.chdir(root)
work = os.path.abspath(os.environ.get("BL_WORK", "bench/data"))
build = os.path.abspath(os.environ.get("BL_BUILD", "build"))
ALL = ["tslite", "tslite-s3", "sqlite", "duckdb-1", "duckdb-2"]
systems = os.environ.get("BL_SYSTEMS", " ".join(ALL)).split()
hosts = int(os.environ.get("BL_HOSTS", "100"))
if os.environ.get("BL_ROWS"):
    hosts = min(hosts, 10)
    days_list = [max(1, int(os.environ["BL_ROWS"]) // hosts) / 8640.0]
else:
    days_list = [float(d) for d in os.environ.get("BL_DAYS", "1 3").split()]
SEED = 123
os.makedirs(work, exist_ok=True)
os.makedirs("bench/results", exist_ok=True)
for s in systems:
    if s not in ALL:
        print(f"batch load: unknown system '{s}' in BL_SYSTEMS (known: {' '.join(ALL)})", file=sys.stderr)
        sys.exit(2)

TAGS = ["hostname", "region", "datacenter", "rack", "os", "arch", "team", "service",
        "service_version", "service_environment"]
FIELDS = ["usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq",
          "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"]


def fmt_days(d):
    return f"{d:g}"


# ---- data: tsbs_gen's tsbs-int file as CSV (generated once, not timed) ------
def make_csv(days):
    gen = os.path.join(build, "bench", "tsbs_gen")
    if not os.access(gen, os.X_OK):
        subprocess.run(["make", "-s", "-f", "bench/Makefile", f"B={build}"], check=True)
    tag = f"tsbs-int-h{hosts}-d{fmt_days(days)}-s{SEED}"
    binf = os.path.join(work, f"cpu-{tag}.bin")
    csvf = os.path.join(work, f"cpu-{tag}.csv")
    if not os.path.exists(binf) or os.path.getmtime(gen) > os.path.getmtime(binf):
        subprocess.run([gen, "data", "-o", binf + ".tmp", "-v", "tsbs-int", "-H", str(hosts),
                        "-D", fmt_days(days), "-s", str(SEED)], check=True)
        os.replace(binf + ".tmp", binf)
    with open(binf, "rb") as f:
        hdr = f.read(64)
        magic, _ver, _var, nh, nf, start, interval, epochs, _seed, ntag, _r = struct.unpack("<8sIIIIqqqQII", hdr)
        if magic != b"TSBSCPU1" or nf != 10:
            raise SystemExit(f"batch load: {binf} is not a tsbs_gen data file")
        taglines = f.read(ntag).decode().split("\n")[:nh]
        rows = nh * epochs
        if not os.path.exists(csvf) or os.path.getmtime(binf) > os.path.getmtime(csvf):
            with open(csvf + ".tmp", "w") as out:
                out.write(",".join(TAGS + ["time"] + FIELDS) + "\n")
                rec = struct.Struct("<qII10d")
                while True:
                    buf = f.read(rec.size * 65536)
                    if not buf:
                        break
                    lines = []
                    for t, h, _z, *v in rec.iter_unpack(buf):
                        lines.append(f"{taglines[h]},{t},{','.join(str(int(x)) for x in v)}\n")
                    out.write("".join(lines))
            os.replace(csvf + ".tmp", csvf)
    return csvf, rows, start + epochs * interval


# ---- measuring one process -----------------------------------------------------
class Runner:
    """Popen + wait4, so each loading process reports its own rusage."""

    def __init__(self, argv, stdin_text=None, env=None):
        self.argv, self.stdin_text, self.env = argv, stdin_text, env

    def run(self):
        r_in = None
        if self.stdin_text is not None:
            r_in, w_in = os.pipe()
        r_out, w_out = os.pipe()
        r_err, w_err = os.pipe()
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:
            try:
                if r_in is not None:
                    os.dup2(r_in, 0)
                os.dup2(w_out, 1)
                os.dup2(w_err, 2)
                os.execvpe(self.argv[0], self.argv, self.env or os.environ)
            finally:
                os._exit(127)
        if r_in is not None:
            os.close(r_in)
            os.write(w_in, self.stdin_text.encode())
            os.close(w_in)
        os.close(w_out)
        os.close(w_err)
        outs = {r_out: [], r_err: []}
        sel = selectors.DefaultSelector()
        for fd in outs:
            sel.register(fd, selectors.EVENT_READ)
        while outs and sel.get_map():
            for key, _ in sel.select():
                b = os.read(key.fd, 65536)
                if b:
                    outs[key.fd].append(b)
                else:
                    sel.unregister(key.fd)
                    os.close(key.fd)
        _pid, status, ru = os.wait4(pid, 0)
        self.wall = time.monotonic() - t0
        self.cpu = ru.ru_utime + ru.ru_stime
        self.rss_kb = ru.ru_maxrss
        self.rc = os.waitstatus_to_exitcode(status)
        self.out = b"".join(outs[r_out]).decode(errors="replace")
        self.err = b"".join(outs[r_err]).decode(errors="replace")
        return self


results = []


def record(system, size, ok, wall=0.0, cpu=0.0, rss_kb=0, detail=""):
    rows = size["rows"]
    results.append({"system": system, "rows": rows, "bytes": size["bytes"], "days": size["days"],
                    "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
                    "rows_per_s": round(rows / wall) if ok and wall > 0 else None,
                    "rows_per_cpu_s": round(rows / cpu) if ok and cpu > 0 else None,
                    "peak_rss_mb": round(rss_kb / 1024, 1) if ok else None, "ok": ok, "detail": detail})


def rm_db(db):
    for suffix in ("", "-wal", "-journal", "-shm", ".wal"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    if os.path.isdir(db + ".tslite"):
        shutil.rmtree(db + ".tslite")


def tslite_sql(uri, now_ns):
    dims = ", ".join(f"{t} DIMENSION" for t in TAGS)
    meas = ", ".join(f"{f} BIGINT" for f in FIELDS)
    cfg = {"TargetTableName": "cpu", "DataSource": uri,
           "DataModel": {"TimeColumn": "time", "TimeUnit": "NANOSECONDS",
                         "DimensionMappings": [{"SourceColumn": t} for t in TAGS],
                         "MultiMeasureMappings": {"TargetMultiMeasureName": "cpu",
                                                  "MultiMeasureAttributeMappings": [
                                                      {"SourceColumn": f, "MeasureValueType": "BIGINT"}
                                                      for f in FIELDS]}}}
    q = json.dumps(cfg).replace("'", "''")
    # the data is from 2016: tslite's clock is moved to just after its end (as
    # bench/sqlbench.c does), memory_retention covers all of it
    return (f".bail on\n.load {os.path.join(build, 'tslite')}\n"
            f"SELECT ts_debug_set_now({now_ns + 60 * 10**9}) IS NULL;\n"
            f"CREATE VIRTUAL TABLE cpu USING timeseries({dims}, {meas}, memory_retention = '8766h',"
            f" measure_name = 'cpu');\n"
            f"SELECT ts_batch_load('{q}');\n")


def preload(env):
    """BL_PRELOAD (bench/run.sh's BENCH_PRELOAD: libasan for build/asan) for
    the processes that load the extension."""
    if not os.environ.get("BL_PRELOAD"):
        return env
    return dict(env or os.environ, LD_PRELOAD=os.environ["BL_PRELOAD"])


def run_tslite(system, size, uri, env=None):
    db = os.path.join(work, f"bl-{system}.db")
    rm_db(db)
    r = Runner(["sqlite3", db], tslite_sql(uri, size["end"]), preload(env)).run()
    ok = r.rc == 0 and f'"RecordsIngested":{size["rows"]}' in r.out and '"SUCCEEDED"' in r.out
    record(system, size, ok, r.wall, r.cpu, r.rss_kb, "" if ok else (r.out + r.err)[-400:])
    rm_db(db)


def start_s3(dirname):
    """s3rver through tests/js/s3fixture.mjs --serve; (process, endpoint) or raises."""
    node = shutil.which("node")
    if not node:
        raise RuntimeError("node is not installed")
    env = dict(os.environ, NODE_OPTIONS="--openssl-legacy-provider", LD_PRELOAD="")
    p = subprocess.Popen([node, "tests/js/s3fixture.mjs", "--serve", dirname, "bench", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = p.stdout.readline()
    if not line:
        p.kill()
        raise RuntimeError("s3rver did not start: " + p.stderr.read()[-300:])
    return p, f"http://127.0.0.1:{json.loads(line)['port']}"


def s3_env(endpoint):
    return dict(os.environ, AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER", AWS_SESSION_TOKEN="",
                AWS_REGION="us-east-1", AWS_PROFILE="", AWS_ENDPOINT_URL_S3=endpoint,
                TSLITE_S3_RETRY_BASE_MS="20")


def run_sqlite(size):
    db = os.path.join(work, "bl-sqlite.db")
    rm_db(db)
    sql = ("CREATE TABLE cpu(" + ", ".join(f"{t} TEXT" for t in TAGS) + ", time INTEGER, "
           + ", ".join(f"{f} INTEGER" for f in FIELDS) + ");\n"
           "CREATE INDEX cpu_ht ON cpu(hostname, time);\nBEGIN;\n"
           f".import --csv --skip 1 {size['csv']} cpu\nCOMMIT;\nSELECT count(*) FROM cpu;\n")
    r = Runner(["sqlite3", db], sql).run()
    ok = r.rc == 0 and r.out.strip().endswith(str(size["rows"]))
    record("sqlite", size, ok, r.wall, r.cpu, r.rss_kb, "" if ok else (r.out + r.err)[-400:])
    rm_db(db)


def run_duckdb(system, size):
    threads = system.split("-")[1]
    db = os.path.join(work, f"bl-{system}.duckdb")
    rm_db(db)
    if not shutil.which("node") or not os.path.isdir("node_modules/@duckdb/node-api"):
        record(system, size, False, detail="node or node_modules/@duckdb/node-api is missing (npm ci)")
        return
    js = f"""
const duck = await import('@duckdb/node-api');
const inst = await duck.DuckDBInstance.create({json.dumps(db)}, {{ threads: '{threads}' }});
const con = await inst.connect();
const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
await con.run("CREATE TABLE cpu AS SELECT * FROM read_csv({json.dumps(size['csv']).replace('"', "'")}, header=true)");
const n = (await con.runAndReadAll('SELECT count(*) FROM cpu')).getRows()[0][0];
const c = process.cpuUsage(c0);
console.log(JSON.stringify({{ n: String(n), wall: Number(process.hrtime.bigint() - t0) / 1e9,
  cpu: (c.user + c.system) / 1e6 }}));
"""
    r = Runner(["node", "--input-type=module", "-e", js]).run()
    try:
        o = json.loads(r.out.strip().splitlines()[-1])
        ok = r.rc == 0 and o["n"] == str(size["rows"])
        record(system, size, ok, o["wall"], o["cpu"], r.rss_kb, "" if ok else r.out[-400:])
    except (ValueError, IndexError, KeyError):
        record(system, size, False, detail=(r.out + r.err)[-400:])
    rm_db(db)


# ---- the runs ------------------------------------------------------------------
sizes = []
for d in days_list:
    csvf, rows, end = make_csv(d)
    sizes.append({"days": d, "csv": csvf, "rows": rows, "bytes": os.path.getsize(csvf), "end": end})

s3p = None
s3dir = os.path.join(work, "bl-s3rver")
if "tslite-s3" in systems:
    shutil.rmtree(s3dir, ignore_errors=True)
    os.makedirs(s3dir)
    try:
        s3p, endpoint = start_s3(s3dir)
    except (RuntimeError, OSError, ValueError) as e:
        for size in sizes:
            record("tslite-s3", size, False, detail=f"SKIP: {e}")
try:
    for size in sizes:
        print(f"batch load: {size['rows']:,} rows ({fmt_days(size['days'])} days x {hosts} hosts),"
              f" {size['bytes'] / 1e6:.0f} MB CSV", file=sys.stderr)
        for s in systems:
            print(f"batch load: {s}", file=sys.stderr)
            if s == "tslite":
                run_tslite(s, size, "file://" + size["csv"])
            elif s == "tslite-s3" and s3p:
                env = s3_env(endpoint)
                key = f"s3://bench/{os.path.basename(size['csv'])}"
                up = Runner(["sqlite3", ":memory:"],
                            f".load {os.path.join(build, 'tslite')}\n"
                            f"SELECT ts_object_put('{key}', readfile('{size['csv']}')) IS NOT NULL;\n",
                            preload(env)).run()
                if up.rc != 0:
                    record(s, size, False, detail="upload to s3rver failed: " + (up.out + up.err)[-300:])
                else:
                    run_tslite(s, size, key, env)
            elif s == "sqlite":
                run_sqlite(size)
            elif s.startswith("duckdb-"):
                run_duckdb(s, size)
finally:
    if s3p:
        s3p.terminate()
        s3p.wait()
        shutil.rmtree(s3dir, ignore_errors=True)

# ---- the table -----------------------------------------------------------------
lines = ["| system | rows | CSV MB | seconds | rows/s | CPU s | rows/CPU s | peak RSS MB |",
         "|---|---:|---:|---:|---:|---:|---:|---:|"]
for r in results:
    if r["ok"]:
        lines.append(f"| {r['system']} | {r['rows']:,} | {r['bytes'] / 1e6:.0f} | {r['seconds']:.2f} |"
                     f" {r['rows_per_s']:,} | {r['cpu_seconds']:.2f} | {r['rows_per_cpu_s']:,} |"
                     f" {r['peak_rss_mb']:.0f} |")
    else:
        lines.append(f"| {r['system']} | {r['rows']:,} | {r['bytes'] / 1e6:.0f} | FAILED | {r['detail'][:120]} | | | |")
print(f"\n### Batch load: TSBS tsbs-int CSV (22 columns: 10 tags, time, 10 BIGINT fields), {hosts} hosts\n")
print("\n".join(lines))
failed = [r for r in results if not r["ok"]]
for r in failed:
    print(f"batch load: FAILED {r['system']} ({r['rows']} rows): {r['detail']}", file=sys.stderr)
out = os.environ.get("BL_OUT") or time.strftime("bench/results/batch_load-%Y%m%dT%H%M%SZ.json", time.gmtime())
with open(out, "w") as f:
    json.dump({"hosts": hosts, "seed": SEED, "variant": "tsbs-int", "sizes": [
        {k: s[k] for k in ("days", "rows", "bytes")} for s in sizes], "results": results,
        "markdown": "\n".join(lines)}, f, indent=1)
print(f"\nwritten: {out}")
sys.exit(1 if failed else 0)
