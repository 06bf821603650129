#!/usr/bin/python3
"""cold_latency.py: a writer's worst INSERT latency while ts_maintain tiers a
large table on another connection (issue 13: "a concurrent writer is blocked
at most for one manifest commit").

  /usr/bin/python3 bench/cold_latency.py [build/tslite] [rows] [wal|delete]

Loads `rows` rows (16 series, one per 10 s, all older than memory_retention
except the last hour), then runs ts_maintain('cpu') in a sqlite3 process
while this process inserts one row per ~2 ms into the same table in autocommit
(busy_timeout 60 s) and records each INSERT's latency.  Prints the
maintenance JSON summary, the maintaining process's peak RSS and the
writer's max / p99 / median latency.
"""
import json, os, resource, sqlite3, subprocess, sys, tempfile, time

ext = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else 'build/tslite')
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
mode = sys.argv[3] if len(sys.argv) > 3 else 'wal'
d = tempfile.mkdtemp(prefix='tslite-coldlat-')
db = os.path.join(d, 'x.db')
NOW = 1714737600000000000            # 2024-05-03T12:00:00Z
STEP = 10_000_000_000
nper = rows // 16
t0 = NOW - nper * STEP

con = sqlite3.connect(db, isolation_level=None, timeout=60)
con.enable_load_extension(True)
con.load_extension(ext)
con.execute(f"PRAGMA journal_mode={mode}")
con.execute("SELECT ts_debug_set_now(?)", (NOW,))
con.execute("""CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE, n BIGINT,
  memory_retention = '1h', magnetic_writes = true, partition_key = 'host')""")
con.execute("BEGIN")
con.execute(f"""WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < {nper*16 - 1})
  INSERT INTO cpu(time, host, v, n) SELECT {t0} + (x / 16) * {STEP}, 'h' || (x % 16), x * 0.25, x FROM i""")
con.execute("COMMIT")

script = f".load {ext}\n.timeout 60000\nSELECT ts_debug_set_now({NOW});\nSELECT ts_maintain('cpu');\n"
start = time.monotonic()
p = subprocess.Popen(['sqlite3', db], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
p.stdin.write(script); p.stdin.close()
lat = []
k = 0
while p.poll() is None:
    k += 1
    t = time.monotonic()
    con.execute("INSERT INTO cpu(time, host, v, n) VALUES(?, 'w', 1, ?)", (NOW - 1_000_000_000 * k, k))
    lat.append(time.monotonic() - t)
    time.sleep(0.002)
out, err = p.stdout.read(), p.stderr.read()
p.wait()
rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
wall = time.monotonic() - start
res = json.loads(out.strip().split('\n')[-1])['tables'][0] if out.strip() else {'error': err}
lat.sort()
print(json.dumps({k2: res.get(k2) for k2 in ('rows_moved', 'objects_written', 'bytes_written', 'rounds_aborted', 'ms', 'error')}))
print(f"journal_mode={mode} rows={nper*16} maintain_wall_s={wall:.2f} inserts={len(lat)} "
      f"maintain_peak_rss_mb={rss_mb:.0f} max_ms={lat[-1]*1000:.1f} p99_ms={lat[int(len(lat)*0.99)]*1000:.1f} median_ms={lat[len(lat)//2]*1000:.2f}"
      if lat else "no inserts")
