"""Scheduled hourly rollup over random data equals the same GROUP BY computed
directly (a plain SQLite mirror table is the oracle) after a month of
scheduled instances, a manual re-run, a restart, and a backfill of one series
across the month in many small batches (late-data refresh, "Window": "1h").
Each pass's re-run work is bounded (max_refresh, max_check), and the re-runs
are precise: only windows that received rows are re-run, not the month.
A second rollup filters host = 'h1': the h3 backfill re-runs nothing of it
(late data is tracked per series through the table's write log, and the
query's scans say which series it reads); an h1 backfill re-runs it."""
import json
import os
import random
import sqlite3
import sys
import tempfile

_pre = os.environ.get("TS_PRELOAD")
if _pre and "libasan" not in os.environ.get("LD_PRELOAD", ""):
    env = dict(os.environ, LD_PRELOAD=_pre, ASAN_OPTIONS="detect_leaks=0:abort_on_error=1")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

n_fail = 0


def check(name, cond, why="condition false"):
    global n_fail
    if cond:
        print(f"PASS {name}")
    else:
        n_fail += 1
        print(f"FAIL {name}: {why}")


def eq(name, got, exp):
    if isinstance(got, list) and isinstance(exp, list) and got != exp and max(len(got), len(exp)) > 5:
        i = next((i for i, (a, b) in enumerate(zip(got, exp)) if a != b), min(len(got), len(exp)))
        check(name, False, f"{len(got)} rows, expected {len(exp)}; first difference at {i}: "
                           f"{got[i] if i < len(got) else None!r} vs {exp[i] if i < len(exp) else None!r}")
        return
    check(name, got == exp, f"got {got!r}, expected {exp!r}")


ext = os.environ.get("TS_EXT") or os.path.join(os.path.dirname(__file__), "..", "..", "build", "tslite")
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    print("SKIP sched_rollup: this python's sqlite3 cannot load extensions")
    sys.exit(0)

SAN = os.environ.get("TS_SANITIZE") == "1"
H = 3600 * 10**9
T0 = 1711929600 * 10**9            # 2024-04-01T00:00:00Z
DAYS = 10 if SAN else 30
END = T0 + DAYS * 24 * H
rnd = random.Random(16)

QUERY = ("SELECT host, bin(time, '1h') AS hour, count(*) AS n, sum(v) AS total, min(v) AS lo, max(v) AS hi "
         "FROM m WHERE time >= @scheduled_runtime - parse_duration('1h') AND time < @scheduled_runtime "
         "GROUP BY host, bin(time, '1h')")
TARGET = {
    "DatabaseName": "demo", "TableName": "m_1h", "TimeColumn": "hour",
    "DimensionMappings": [{"Name": "host", "DimensionValueType": "VARCHAR"}],
    "MultiMeasureMappings": {"TargetMultiMeasureName": "rollup", "MultiMeasureAttributeMappings": [
        {"SourceColumn": "n", "MeasureValueType": "BIGINT"},
        {"SourceColumn": "total", "MeasureValueType": "DOUBLE"},
        {"SourceColumn": "lo", "MeasureValueType": "DOUBLE"},
        {"SourceColumn": "hi", "MeasureValueType": "DOUBLE"}]},
    "Window": "1h"}
QUERY_H1 = QUERY.replace("WHERE time", "WHERE host = 'h1' AND time")
TARGET_H1 = dict(TARGET, TableName="m_h1")


def connect(path):
    con = sqlite3.connect(path, isolation_level=None)
    con.enable_load_extension(True)
    con.load_extension(ext)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")   # many small transactions; durability is not under test
    return con


def insert(con, rows):
    con.execute("BEGIN")
    con.executemany("INSERT INTO m(time, host, v) VALUES(?, ?, ?)", rows)
    con.executemany("INSERT OR REPLACE INTO mirror(time, host, v) VALUES(?, ?, ?)", rows)
    con.execute("COMMIT")


def rollup(con):
    return [(h, t, n, round(s, 6), lo, hi) for (h, t, n, s, lo, hi) in con.execute(
        "SELECT host, time, n, total, lo, hi FROM m_1h ORDER BY host, time")]


def rollup_h1(con):
    return [(h, t, n, round(s, 6), lo, hi) for (h, t, n, s, lo, hi) in con.execute(
        "SELECT host, time, n, total, lo, hi FROM m_h1 ORDER BY host, time")]


def oracle(con, host=None):
    where = f" AND host = '{host}'" if host else ""
    return [(h, t, n, round(s, 6), lo, hi) for (h, t, n, s, lo, hi) in con.execute(
        f"SELECT host, (time / {H}) * {H} AS hour, count(*), sum(v), min(v), max(v) FROM mirror "
        f"WHERE time >= {T0} AND time < {END}{where} GROUP BY host, hour ORDER BY host, hour")]


def refreshes(r, name):
    return [x for x in r["runs"] if x.get("Refresh") and x["Name"] == name]


def run_due(con, opts):
    return json.loads(con.execute("SELECT ts_scheduler_run_due(?)", (json.dumps(opts),)).fetchone()[0])


with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "rollup.db")
    con = connect(path)
    con.execute("SELECT ts_debug_set_now(?)", (T0,))
    con.execute("CREATE VIRTUAL TABLE m USING timeseries(host DIMENSION, v DOUBLE, magnetic_writes = true)")
    con.execute("CREATE TABLE mirror(time INTEGER, host TEXT, v REAL, PRIMARY KEY(host, time))")
    arn = json.loads(con.execute("SELECT ts_scheduled_query_create('m-hourly', 'cron(0 * * * ? *)', ?, ?)",
                                 (QUERY, json.dumps(TARGET))).fetchone()[0])["Arn"]
    eq("create returns the Arn", arn, "arn:tslite:timestream:local:000000000000:scheduled-query/m-hourly")
    con.execute("SELECT ts_scheduled_query_create('h1-hourly', 'cron(0 * * * ? *)', ?, ?)",
                (QUERY_H1, json.dumps(TARGET_H1)))
    eq("a Window query gives its source a write log",
       con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'm_wlog'").fetchone()[0], 1)

    # A month of data for two hosts, written "now" at the end of the month.
    con.execute("SELECT ts_debug_set_now(?)", (END + 10 * 60 * 10**9,))
    rows = []
    for host in ("h1", "h2"):
        t = T0 + rnd.randrange(0, 20 * 60) * 10**9
        while t < END:
            rows.append((t, host, round(rnd.uniform(0, 100), 3)))
            t += rnd.randrange(5 * 60, 40 * 60) * 10**9
    for i in range(0, len(rows), 500):
        insert(con, rows[i:i + 500])

    # The month's instances, in order, at most 200 per pass (catch-up window
    # widened: the default would skip instances older than a day).
    n_runs, n_pass, inv = 0, 0, []
    while n_pass < 50:
        r = run_due(con, {"catchup_window": "31d", "max_runs": 200})
        n_pass += 1
        check(f"pass {n_pass} runs at most max_runs", len(r["runs"]) <= 200, f"{len(r['runs'])} runs")
        inv += [x["InvocationTime"] for x in r["runs"] if x["Name"] == "m-hourly"]
        n_runs += len([x for x in r["runs"] if x["Name"] == "m-hourly"])
        if not r["runs"]:
            break
    eq("every hourly instance ran once", n_runs, DAYS * 24)
    eq("instances ran in order", inv, [T0 + (i + 1) * H for i in range(DAYS * 24)])
    eq("statuses", con.execute("SELECT RunStatus, count(*) FROM ts_scheduled_query_runs GROUP BY 1").fetchall(),
       [("AUTO_TRIGGER_SUCCESS", 2 * DAYS * 24)])
    eq("the write's scans say which series each query reads",
       con.execute("SELECT Name, Filter FROM ts_scheduled_query_sources ORDER BY Name").fetchall(),
       [("h1-hourly", '[[["host",["h1"]]]]'), ("m-hourly", "*")])
    eq("filtered rollup = GROUP BY over the mirror", rollup_h1(con), oracle(con, "h1"))
    exp = oracle(con)
    check("the month has rollup rows", len(exp) > DAYS * 24, f"{len(exp)} rows")
    eq("scheduled rollup = GROUP BY over the mirror", rollup(con), exp)

    # A manual re-run of one instance changes nothing but the version.
    r = json.loads(con.execute("SELECT ts_scheduled_query_execute('m-hourly', ?)", (T0 + 5 * H,)).fetchone()[0])
    eq("manual re-run status", r["RunStatus"], "MANUAL_TRIGGER_SUCCESS")
    eq("rollup unchanged by a re-run", rollup(con), exp)
    v = con.execute("SELECT max(version) FROM m_1h WHERE time = ?", (T0 + 4 * H,)).fetchone()[0]
    eq("re-run wrote a higher version", v, DAYS * 24 + 1)

    # Backfill host h3 across the month in small batches.  After each batch
    # one bounded pass: at most max_refresh re-runs, at most max_check checks.
    n_batch = 20 if SAN else 60
    touched_pairs = 0
    total_refresh = 0
    h1_refresh = 0
    worst = 0
    for b in range(n_batch):
        batch = sorted({T0 + rnd.randrange(0, DAYS * 24 * 3600) * 10**9 for _ in range(8)})
        insert(con, [(t, "h3", round(rnd.uniform(0, 100), 3)) for t in batch])
        touched_pairs += len({t // H for t in batch})
        r = run_due(con, {"max_refresh": 5, "max_check": 200})
        refresh = refreshes(r, "m-hourly")
        h1_refresh += len(refreshes(r, "h1-hourly"))
        worst = max(worst, len(refresh))
        total_refresh += len(refresh)
        check(f"batch {b}: re-runs bounded by max_refresh", len(refresh) <= 5, f"{len(refresh)}")
        check(f"batch {b}: checks bounded by max_check", len(refresh) + r["checkedUnchanged"] <= 200,
              f"{len(refresh)} + {r['checkedUnchanged']}")
        if b == n_batch // 2:
            # restart: a new connection (the pending invalidations are in the file)
            pend = con.execute("SELECT PendingInvalidations FROM ts_scheduled_queries").fetchone()[0]
            con.close()
            con = connect(path)
            con.execute("SELECT ts_debug_set_now(?)", (END + 10 * 60 * 10**9,))
            eq("pending invalidations survive a restart",
               con.execute("SELECT PendingInvalidations FROM ts_scheduled_queries").fetchone()[0], pend)
    # Drain: passes until nothing is pending.
    n_drain = 0
    while n_drain < 500:
        r = run_due(con, {"max_refresh": 5, "max_check": 200})
        n_drain += 1
        refresh = refreshes(r, "m-hourly")
        h1_refresh += len(refreshes(r, "h1-hourly"))
        total_refresh += len(refresh)
        check(f"drain pass {n_drain}: re-runs bounded", len(refresh) <= 5, f"{len(refresh)}")
        if r["pendingInvalidations"] == 0 and not r["runs"]:
            break
    eq("no pending invalidations at the end",
       con.execute("SELECT PendingInvalidations FROM ts_scheduled_queries WHERE Name='m-hourly'").fetchone()[0],
       "[]")
    eq("the h3 backfill re-ran nothing of the h1 rollup", h1_refresh, 0)
    eq("and left nothing pending for it",
       con.execute("SELECT PendingInvalidations FROM ts_scheduled_queries WHERE Name='h1-hourly'").fetchone()[0],
       "[]")
    check("the write log is pruned once both queries have read it",
          con.execute("SELECT count(*) FROM m_wlog").fetchone()[0] == 0,
          f"{con.execute('SELECT count(*) FROM m_wlog').fetchone()[0]} rows left")
    exp = oracle(con)
    eq("converged rollup = GROUP BY over the mirror after the backfill", rollup(con), exp)
    check("re-runs are per changed window, not per month",
          0 < total_refresh <= touched_pairs, f"{total_refresh} re-runs for {touched_pairs} (batch, hour) pairs")
    eq("refresh runs are recorded", con.execute(
        "SELECT count(*) FROM ts_scheduled_query_runs WHERE IsRefresh=1").fetchone()[0], total_refresh)
    eq("ts_check on the target", con.execute("SELECT ts_check('m_1h')").fetchone()[0], "ok")

    # An h1 backfill (odd nanoseconds: new records) re-runs the h1 rollup's
    # windows that received rows, and it converges too.
    batch = sorted({T0 + rnd.randrange(0, DAYS * 24 * 3600) * 10**9 + 7 for _ in range(6)})
    insert(con, [(t, "h1", round(rnd.uniform(0, 100), 3)) for t in batch])
    h1_refresh = 0
    for _ in range(20):
        r = run_due(con, {"max_refresh": 5, "max_check": 200})
        h1_refresh += len(refreshes(r, "h1-hourly"))
        if r["pendingInvalidations"] == 0 and not r["runs"]:
            break
    hours = len({t // H for t in batch})
    check("the h1 backfill re-ran the h1 rollup's touched windows", 0 < h1_refresh <= hours,
          f"{h1_refresh} re-runs for {hours} hours")
    eq("converged filtered rollup = GROUP BY over the mirror", rollup_h1(con), oracle(con, "h1"))
    eq("converged full rollup after the h1 backfill", rollup(con), oracle(con))

    # The log's granularity: rows in order log one range per series, rows
    # days apart one range each (cut at gaps of a minute or more).
    seq0 = con.execute("SELECT coalesce(max(seq), 0) FROM m_wlog").fetchone()[0]
    insert(con, [(T0 + 5 * H + i * 10**9 + 3, "h2", 1.0) for i in range(10)])
    insert(con, [(T0 + k * 24 * H + 11, "h2", 2.0) for k in (1, 4, 9)])
    eq("write log: one range for in-order rows, one per far-apart row", con.execute(
        "SELECT tmin, tmax FROM m_wlog WHERE seq > ? ORDER BY seq", (seq0,)).fetchall(),
       [(T0 + 5 * H + 3, T0 + 5 * H + 9 * 10**9 + 3)] + [(T0 + k * 24 * H + 11,) * 2 for k in (1, 4, 9)])
    h1_refresh = 0
    for _ in range(20):
        r = run_due(con, {"max_refresh": 5, "max_check": 200})
        h1_refresh += len(refreshes(r, "h1-hourly"))
        if r["pendingInvalidations"] == 0 and not r["runs"]:
            break
    eq("h2 late rows: the full rollup converges", rollup(con), oracle(con))
    eq("h2 late rows: the h1 rollup was not re-run", h1_refresh, 0)

    # Deleting the last query that watches m drops its write log.
    con.execute("SELECT ts_scheduled_query_delete('h1-hourly')")
    eq("the log stays while another query watches m",
       con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'm_wlog'").fetchone()[0], 1)
    con.execute("SELECT ts_scheduled_query_delete('m-hourly')")
    eq("the log goes with the last watcher",
       con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'm_wlog'").fetchone()[0], 0)
    insert(con, [(END - 5, "h1", 1.0)])
    eq("writes go on without a log", con.execute("SELECT ts_check('m')").fetchone()[0], "ok")
    print(f"# {n_batch} batches, {touched_pairs} (batch, hour) pairs touched, {total_refresh} re-runs, "
          f"{n_drain} drain passes, worst batch pass {worst} re-runs")
    con.close()

sys.exit(1 if n_fail else 0)
