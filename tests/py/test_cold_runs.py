"""The cold scan with series_runs (docs/internals/cold-format.md section 3):
objects written by ts_maintain carry each series run's rows and first/last
time, and the scan finds a series' rows from them without decoding any
dimension column.  Differential: the same queries against a plain SQLite
table, (1) with series_runs, (2) with series_runs set to NULL (the scan then
splits row groups on the dimension columns, as for objects of older
versions), (3) with series_runs corrupt (ignored, same fallback), (4) on
one connection while the manifest's series_runs change under it (the parsed
footers and series_runs a connection keeps between scans follow the
manifest bytes), and (5) after late writes into the tiered day and a second
ts_maintain (overlapping or compacted objects, upserts by version).  The data puts series boundaries inside data
pages (20000 rows) and row groups (65536 rows): 45 series of 1500..2400
rows in one UTC day, so one object of about 88,000 rows and two row
groups."""
import os
import random
import sqlite3
import sys
import tempfile

import tshelp  # tests/py/tshelp.py
tshelp.asan_reexec()

c = tshelp.Checks("cold_runs: ")
ext = os.environ.get("TS_EXT") or os.path.join(os.path.dirname(__file__), "..", "..", "build", "tslite")
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    print("SKIP cold_runs: this python's sqlite3 cannot load extensions")
    sys.exit(0)

NS = 1000000000
DAY0 = 1714694400 * NS            # 2024-05-03T00:00:00Z
NOW = "2024-05-05T12:00:00Z"      # memory_retention 12h: 2024-05-03 is tiered
R = random.Random(20240503)

HOSTS = [f"h{i:02d}" for i in range(45)]
region = {h: (None if i % 11 == 3 else f"r{i % 4}") for i, h in enumerate(HOSTS)}


def make_rows():
    rows = []
    for i, h in enumerate(HOSTS):
        n = 1500 + (i * 37) % 900
        step = (86400 * NS - 1) // n
        t = DAY0 + R.randrange(0, 1000) * NS
        for _ in range(n):
            rows.append((t, h, region[h], "cpu" if i % 5 else "mem",
                         None if R.random() < 0.05 else R.randrange(0, 40000) / 4,
                         R.randrange(-500000, 500000), 1))
            t += step - R.randrange(0, 1000)
    return rows


def connect(path):
    con = sqlite3.connect(path, isolation_level=None)
    con.enable_load_extension(True)
    con.load_extension(ext)
    con.execute("SELECT ts_debug_set_now(?)", (NOW,)).fetchall()
    return con


def queries():
    qs = [
        "SELECT count(*), sum(n), total(v), min(time), max(time) FROM {t}",
        "SELECT host, measure_name, count(*), sum(n), min(time), max(time) FROM {t}"
        " GROUP BY host, measure_name ORDER BY host, measure_name",
        "SELECT host, max(time) FROM {t} GROUP BY host ORDER BY host",
    ]
    for _ in range(25):
        h = R.choice(HOSTS)
        a = DAY0 + R.randrange(0, 86400) * NS
        b = a + R.choice([60, 3600, 6 * 3600, 86400]) * NS
        qs.append(f"SELECT time, host, region, measure_name, v, n FROM {{t}} WHERE host = '{h}'"
                  f" AND time >= {a} AND time < {b} ORDER BY time")
        qs.append(f"SELECT max(time) FROM {{t}} WHERE host = '{h}'")
        qs.append(f"SELECT time, v FROM {{t}} WHERE host = '{h}' ORDER BY time DESC LIMIT 3")
        hs = ", ".join(f"'{x}'" for x in R.sample(HOSTS, 4))
        qs.append(f"SELECT host, count(*), sum(n) FROM {{t}} WHERE host IN ({hs})"
                  f" AND time >= {a} GROUP BY host ORDER BY host")
        r = R.choice(["r0", "r1", "r2", "r3"])
        qs.append(f"SELECT count(*), sum(n) FROM {{t}} WHERE region = '{r}' AND time < {b}")
    return qs


QS = queries()


def compare(label, path, con=None):
    own = con is None
    if own:
        con = connect(path)
    bad = []
    for q in QS:
        got = con.execute(q.format(t="t")).fetchall()
        exp = con.execute(q.format(t="ref")).fetchall()
        if got != exp:
            bad.append((q, got[:3], exp[:3]))
    if own:
        con.close()
    c.check(f"{label}: {len(QS)} queries equal the plain table", not bad,
            f"{len(bad)} differ, first: {bad[0] if bad else ''}")


def stats(path):
    con = connect(path)
    r = con.execute("SELECT count(*), max(nrow), sum(series_runs IS NOT NULL) FROM t_objects").fetchone()
    con.close()
    return r


with tempfile.TemporaryDirectory() as d:
    db = os.path.join(d, "x.db")
    con = connect(db)
    con.execute(f"CREATE VIRTUAL TABLE t USING timeseries(host DIMENSION, region DIMENSION, v DOUBLE,"
                f" n BIGINT, memory_retention = '12h', magnetic_writes = true,"
                f" storage = 'file://{d}/cold')")
    con.execute("CREATE TABLE ref(time INTEGER, host TEXT, region TEXT, measure_name TEXT, v REAL,"
                " n INTEGER, version INTEGER, PRIMARY KEY(host, measure_name, time))")
    rows = make_rows()
    con.execute("BEGIN")
    con.executemany("INSERT INTO t(time, host, region, measure_name, v, n, version) VALUES(?,?,?,?,?,?,?)", rows)
    con.executemany("INSERT INTO ref VALUES(?,?,?,?,?,?,?)", rows)
    con.execute("COMMIT")
    con.execute("SELECT ts_maintain('t')").fetchall()
    left = con.execute("SELECT count(*) FROM t_chunks").fetchone()[0]
    con.close()
    c.eq("every row tiered", left, 0)
    nobj, maxrow, nruns = stats(db)
    c.check("one object of more than one row group, every object with series_runs",
            nobj >= 1 and maxrow > 65536 and nruns == nobj, f"objects {nobj}, max rows {maxrow}, with runs {nruns}")
    compare("with series_runs", db)

    con = connect(db)
    keep = con.execute("SELECT id, series_runs FROM t_objects").fetchall()
    con.execute("UPDATE t_objects SET series_runs = NULL")
    con.close()
    compare("series_runs NULL (dimension columns split the runs)", db)

    con = connect(db)
    con.execute("UPDATE t_objects SET series_runs = x'01ff05'")
    con.close()
    compare("series_runs corrupt (ignored)", db)

    # One connection across manifest changes: its kept footers and
    # series_runs (cold_read.c ColdMeta) must follow the manifest bytes.
    con = connect(db)
    compare("one connection: corrupt series_runs", db, con)
    for i, blob in keep:
        con.execute("UPDATE t_objects SET series_runs = ? WHERE id = ?", (blob, i))
    compare("one connection: series_runs back", db, con)
    con.execute("UPDATE t_objects SET series_runs = NULL")
    compare("one connection: series_runs NULL", db, con)
    con.close()

    con = connect(db)
    for i, blob in keep:
        con.execute("UPDATE t_objects SET series_runs = ? WHERE id = ?", (blob, i))
    # Late writes into the tiered day: new times and upserts of tiered keys.
    late = []
    for h in R.sample(HOSTS, 12):
        old = [r for r in rows if r[1] == h]
        for r in R.sample(old, 5):
            late.append((r[0], h, r[2], r[3], 1.25, 7, 2))
        for _ in range(5):
            late.append((DAY0 + R.randrange(0, 86400 * NS), h, region[h], old[0][3], 2.5, 9, 1))
    con.execute("BEGIN")
    for r in late:
        con.execute("INSERT INTO t(time, host, region, measure_name, v, n, version) VALUES(?,?,?,?,?,?,?)", r)
        con.execute("INSERT INTO ref VALUES(?,?,?,?,?,?,?) ON CONFLICT(host, measure_name, time) DO UPDATE"
                    " SET v = excluded.v, n = excluded.n, version = excluded.version"
                    " WHERE excluded.version > ref.version", r)
    con.execute("COMMIT")
    compare("late writes in the memory tier over a tiered day", db)
    compare("late writes, same connection", db, con)
    con.execute("SELECT ts_maintain('t')").fetchall()
    compare("after the second ts_maintain, same connection", db, con)
    left = con.execute("SELECT count(*) FROM t_chunks").fetchone()[0]
    con.close()
    nobj2, _, nruns2 = stats(db)
    c.check("late rows tiered (new objects, or compacted with the first ones), every object with series_runs",
            left == 0 and nruns2 == nobj2, f"chunks left {left}, objects {nobj2}, with runs {nruns2}")
    compare("two overlapping objects", db)

c.exit()
