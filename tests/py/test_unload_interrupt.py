"""ts_unload and SQLite's progress handler / sqlite3_interrupt(): the
progress handler runs during the unload's query (so it can show progress);
returning non-zero from it, or interrupting the connection from another
thread, stops the unload, and then no output is left at the destination (the
file in progress discarded, completed files deleted, no manifest), with an
error that says so; CSV with rolled-over files and Parquet."""
import json
import os
import re
import sqlite3
import sys
import tempfile
import threading

import tshelp  # tests/py/tshelp.py
tshelp.asan_reexec()

n_fail = 0


def check(name, ok, detail=""):
    global n_fail
    if ok:
        print(f"PASS unload_interrupt: {name}")
    else:
        n_fail += 1
        print(f"FAIL unload_interrupt: {name}: {detail}")


root = os.environ.get("TS_ROOT") or os.path.join(os.path.dirname(__file__), "..", "..")
ext = os.environ.get("TS_EXT") or os.path.join(root, "build", "tslite")
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    print("SKIP unload_interrupt: this python's sqlite3 cannot load extensions")
    sys.exit(0)

tmp = os.path.realpath(tempfile.mkdtemp(prefix="ts_unload_int_"))
db = sqlite3.connect(os.path.join(tmp, "x.db"), check_same_thread=False)
db.enable_load_extension(True)
db.load_extension(ext)
# 600k rows of about 50 bytes: 30 MB of CSV, so with max_file_size 16MB
# one file completes before the last one.
QUERY = ("WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i<ROWS-1) "
         "SELECT 1714564800000000000+i AS time, ''host_''||(i%100) AS host, i*0.5 AS v, i AS n FROM c")


def files(d):
    out = []
    for dp, _, fs in os.walk(d):
        out += [os.path.join(dp, f) for f in fs]
    return out


def unload(dest, opts, rows=600000):
    q = QUERY.replace("ROWS", str(rows))
    return db.execute(f"SELECT ts_unload('{q}', '{dest}', '{opts}')").fetchone()[0]


# 1. The progress handler runs during the unload; returning 0 lets it finish.
calls = [0]


def count():
    calls[0] += 1
    return 0


db.set_progress_handler(count, 10000)
r = json.loads(unload(f"{tmp}/full", '{"compression":"none","max_file_size":"16MB"}'))
db.set_progress_handler(None, 0)
check("progress handler called during ts_unload", calls[0] > 100, str(calls[0]))
check("unload completes when the handler returns 0", r["rows"] == 600000, str(r))
check("two files (rolled over at 16MB)", len([f for f in files(f"{tmp}/full") if f.endswith(".csv")]) == 2,
      str(files(f"{tmp}/full")))

# 2. Progress handler returns 1 once a file has completed: nothing is left.
dest = f"{tmp}/csv"


def stop_after_first_file():
    return 1 if any(f.endswith(".csv") for f in files(dest)) else 0


db.set_progress_handler(stop_after_first_file, 10000)
try:
    unload(dest, '{"compression":"none","max_file_size":"16MB"}')
    err = None
except sqlite3.Error as e:
    err = str(e)
db.set_progress_handler(None, 0)
m = re.fullmatch(r"ts_unload: interrupted after (\d+) rows \(sqlite3_interrupt\(\) or a progress handler\): "
                 r"no output was left at file://" + re.escape(dest) + r"/ \(the file in progress was "
                 r"discarded, (\d+) completed files deleted, no manifest written\)", err or "")
check("progress handler stop: error says interrupted and nothing left", m is not None, err)
check("progress handler stop: a completed file was deleted", m is not None and int(m.group(2)) >= 1, err)
check("progress handler stop: no file at the destination", files(dest) == [], str(files(dest)))

# 3. sqlite3_interrupt() from another thread, gzip CSV (20M rows: seconds
# of work, so the interrupt after 0.3 s always lands during the unload).
dest = f"{tmp}/gz"
t = threading.Timer(0.3, db.interrupt)
t.start()
try:
    unload(dest, '{"max_file_size":"16MB"}', rows=20000000)
    err = None
except sqlite3.Error as e:
    err = str(e)
t.join()
check("sqlite3_interrupt: error says so", (err or "").startswith("ts_unload: interrupted after ")
      and "no output was left at" in err, err)
check("sqlite3_interrupt: no file at the destination", files(dest) == [], str(files(dest)))

# 4. Parquet: stopped in its first pass (the spool), nothing written.
dest = f"{tmp}/pq"
n = [0]


def stop_later():
    n[0] += 1
    return 1 if n[0] > 50 else 0


db.set_progress_handler(stop_later, 10000)
try:
    unload(dest, '{"format":"parquet"}')
    err = None
except sqlite3.Error as e:
    err = str(e)
db.set_progress_handler(None, 0)
check("parquet: interrupted, nothing left", (err or "").startswith("ts_unload: interrupted after ")
      and "0 completed files deleted" in err and files(dest) == [], f"{err} {files(dest)}")

# 5. The connection works normally afterwards.
r = json.loads(db.execute(f"SELECT ts_unload('SELECT 1 AS a', '{tmp}/after', '{{\"compression\":\"none\"}}')").fetchone()[0])
check("connection usable after an interrupted unload", r["rows"] == 1, str(r))
db.close()
sys.exit(1 if n_fail else 0)
