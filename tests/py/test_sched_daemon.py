"""`tslite scheduler` as a real process with a pinned clock
(TSLITE_TEST_NOW_FILE): a rate(1 minute) rollup runs its instances, stops
cleanly on SIGTERM, resumes after a restart, two daemons at once never run
one instance twice, SQLITE_BUSY from another writer is logged and retried,
and the catch-up window skips instances missed long ago (logged)."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

import tshelp  # tests/py/tshelp.py
tshelp.asan_reexec()

n_fail = 0


def check(name, cond, why="condition false"):
    global n_fail
    if cond:
        print(f"PASS {name}")
    else:
        n_fail += 1
        print(f"FAIL {name}: {why}")


def eq(name, got, exp):
    check(name, got == exp, f"got {got!r}, expected {exp!r}")


root = os.environ.get("TS_ROOT") or os.path.join(os.path.dirname(__file__), "..", "..")
build = os.environ.get("TS_BUILD") or os.path.join(root, "build")
ext = os.environ.get("TS_EXT") or os.path.join(build, "tslite")
tslite = os.path.join(build, "bin", "tslite")
if not os.path.exists(tslite):
    print(f"SKIP sched_daemon: {tslite} not built")
    sys.exit(0)
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    print("SKIP sched_daemon: this python's sqlite3 cannot load extensions")
    sys.exit(0)

M = 60 * 10**9
T0 = 1714521600 * 10**9          # 2024-05-01T00:00:00Z
QUERY = ("SELECT bin(time, '1m') AS minute, host, count(*) AS n, sum(v) AS total FROM m "
         "WHERE time >= @scheduled_runtime - parse_duration('1m') AND time < @scheduled_runtime "
         "GROUP BY bin(time, '1m'), host")
TARGET = {"TableName": "m_1m", "TimeColumn": "minute",
          "DimensionMappings": [{"Name": "host", "DimensionValueType": "VARCHAR"}],
          "MultiMeasureMappings": {"TargetMultiMeasureName": "m1", "MultiMeasureAttributeMappings": [
              {"SourceColumn": "n", "MeasureValueType": "BIGINT"},
              {"SourceColumn": "total", "MeasureValueType": "DOUBLE"}]}}


def connect(path):
    con = sqlite3.connect(path, isolation_level=None, timeout=30)
    con.enable_load_extension(True)
    con.load_extension(ext)
    return con


with tempfile.TemporaryDirectory() as d:
    db = os.path.join(d, "sched.db")
    clock = os.path.join(d, "now")
    con = connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("SELECT ts_debug_set_now(?)", (T0,))
    con.execute("CREATE VIRTUAL TABLE m USING timeseries(host DIMENSION, v DOUBLE, magnetic_writes = true)")
    con.execute("SELECT ts_scheduled_query_create('per-minute', 'rate(1 minute)', ?, ?)",
                (QUERY, json.dumps(TARGET)))
    con.execute("SELECT ts_debug_set_now(?)", (T0 + 40 * M,))
    rows = [(T0 + i * 10 * 10**9, "h%d" % (i % 3), float(i)) for i in range(6 * 40)]
    con.execute("BEGIN")
    con.executemany("INSERT INTO m(time, host, v) VALUES(?,?,?)", rows)
    con.execute("COMMIT")

    def set_clock(t):
        with open(clock + ".tmp", "w") as f:
            f.write(str(t))
        os.replace(clock + ".tmp", clock)

    def start(*extra):
        env = dict(os.environ, TSLITE_TEST_NOW_FILE=clock)
        return subprocess.Popen([tslite, "scheduler", "--interval", "0.05", "--maintain-interval", "0",
                                 "--busy-timeout", "200", *extra, db],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)

    def runs():
        return con.execute("SELECT count(*) FROM ts_scheduled_query_runs").fetchone()[0]

    def wait_runs(n, secs=60):
        t = time.time()
        while time.time() - t < secs:
            if runs() >= n:
                return True
            time.sleep(0.05)
        return False

    def stop(p):
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
        lines = [json.loads(x) for x in out.splitlines() if x.strip()]
        return p.returncode, lines, err

    # 1. One daemon, five instances, SIGTERM.
    set_clock(T0 + 5 * M + 30 * 10**9)
    a = start("--owner", "A")
    check("five instances run", wait_runs(5), f"{runs()} runs")
    time.sleep(0.3)
    rc, la, err = stop(a)
    eq("SIGTERM: exit status 0", rc, 0)
    eq("SIGTERM: no stderr", err, "")
    eq("log starts and stops", (la[0]["action"], la[-1]["action"]), ("start", "stop"))
    eq("one run line per instance", [x["run"]["InvocationTime"] for x in la if x["action"] == "run"],
       [T0 + i * M for i in range(1, 6)])
    check("run lines carry the run summary",
          all(x["run"]["RunStatus"] == "AUTO_TRIGGER_SUCCESS" and x["db"] == db for x in la if x["action"] == "run"))
    eq("no more than the due instances", runs(), 5)

    # 2. Restart: two daemons at once; the clock moves on in steps.
    b1 = start("--owner", "B1")
    b2 = start("--owner", "B2")
    for k in range(6, 21):
        set_clock(T0 + k * M + 30 * 10**9)
        check(f"instance {k} ran", wait_runs(k), f"{runs()} runs")
    time.sleep(0.3)
    r1, l1, e1 = stop(b1)
    r2, l2, e2 = stop(b2)
    eq("two daemons: exit statuses", (r1, r2), (0, 0))
    inv1 = [x["run"]["InvocationTime"] for x in l1 if x["action"] == "run"]
    inv2 = [x["run"]["InvocationTime"] for x in l2 if x["action"] == "run"]
    eq("two daemons: each instance run by exactly one", sorted(inv1 + inv2), [T0 + i * M for i in range(6, 21)])
    print(f"# daemon B1 ran {len(inv1)} instances, B2 ran {len(inv2)}")
    eq("runs table: each invocation once, in order",
       [r[0] for r in con.execute("SELECT InvocationTime FROM ts_scheduled_query_runs ORDER BY RunId")],
       [T0 + i * M for i in range(1, 21)])
    eq("no run failed", con.execute("SELECT count(*) FROM ts_scheduled_query_runs"
                                    " WHERE RunStatus <> 'AUTO_TRIGGER_SUCCESS'").fetchone()[0], 0)
    got = con.execute("SELECT time, host, n, total FROM m_1m ORDER BY time, host").fetchall()
    exp = con.execute(f"SELECT bin(time, '1m'), host, count(*), sum(v) FROM m WHERE time < {T0 + 20 * M}"
                      " GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
    eq("target rows = GROUP BY over the source", got, exp)
    eq("lease released", con.execute("SELECT LeaseOwner FROM ts_scheduled_query_defs").fetchone()[0], None)

    # 3. SQLITE_BUSY: another writer holds the lock; the daemon logs "busy"
    #    and runs the instance once the lock is gone.
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    set_clock(T0 + 21 * M + 30 * 10**9)
    c = start("--owner", "C")
    time.sleep(1.5)
    eq("busy: nothing ran while locked", runs(), 20)
    holder.execute("ROLLBACK")
    holder.close()
    check("busy: the instance runs after the lock is released", wait_runs(21), f"{runs()} runs")
    time.sleep(0.2)
    rc, lc, err = stop(c)
    eq("busy: exit status", rc, 0)
    check("busy: logged", any(x["action"] == "busy" for x in lc), json.dumps(lc)[:300])
    eq("busy: instance ran once", [x["run"]["InvocationTime"] for x in lc if x["action"] == "run"], [T0 + 21 * M])

    # 4. Catch-up after downtime: only the last 10 minutes run, the rest is
    #    skipped and logged.
    set_clock(T0 + 120 * M + 30 * 10**9)
    e = start("--owner", "E", "--catchup-window", "10m")
    check("catch-up: instances of the last 10 minutes run", wait_runs(31), f"{runs()} runs")
    time.sleep(0.3)
    rc, le, err = stop(e)
    skips = [x["skipped"] for x in le if x["action"] == "skip"]
    eq("catch-up: one skip logged", [(s["From"], s["To"]) for s in skips], [(T0 + 22 * M, T0 + 111 * M)])
    eq("catch-up: the runs", [x["run"]["InvocationTime"] for x in le if x["action"] == "run"],
       [T0 + i * M for i in range(111, 121)])

    # 5. --once and usage errors.
    set_clock(T0 + 121 * M + 30 * 10**9)
    p = subprocess.run([tslite, "scheduler", "--once", "--maintain-interval", "0", db],
                       env=dict(os.environ, TSLITE_TEST_NOW_FILE=clock), capture_output=True, text=True, timeout=60)
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    eq("--once: exit 0 and one run", (p.returncode, [x["action"] for x in lines]), (0, ["start", "run", "stop"]))
    p = subprocess.run([tslite, "scheduler", "--interval", "soon", db], capture_output=True, text=True)
    eq("bad option value", (p.returncode, p.stderr.strip()), (2, "tslite scheduler: bad value for --interval: 'soon'"))
    p = subprocess.run([tslite, "scheduler"], capture_output=True, text=True)
    eq("no database: usage, exit 2", (p.returncode, p.stderr.startswith("usage: tslite scheduler")), (2, True))
    p = subprocess.run([tslite, "scheduler", "--help"], capture_output=True, text=True)
    check("--help", p.returncode == 0 and "--catchup-window" in p.stdout)

    # 6. An error report written to a file:// location (ErrorReportConfiguration).
    con.execute("CREATE TABLE bad(t, host, v)")
    con.execute("INSERT INTO bad VALUES (?, 'h1', 1.0), (?, 'h2', 'x'), (NULL, 'h3', 2.0)", (T0, T0))
    req = {"Name": "bad-rows", "QueryString": "SELECT t, host, v FROM bad WHERE @scheduled_runtime > 0",
           "ScheduleConfiguration": {"ScheduleExpression": "rate(1 day)"},
           "TargetConfiguration": {"TimestreamConfiguration": {
               "TableName": "bad_t", "TimeColumn": "t",
               "DimensionMappings": [{"Name": "host", "DimensionValueType": "VARCHAR"}],
               "MixedMeasureMappings": [{"SourceColumn": "v", "MeasureValueType": "DOUBLE"}]}},
           "ErrorReportConfiguration": {"Uri": "file://" + d + "/reports/"}}
    con.execute("SELECT ts_scheduled_query_create(?)", (json.dumps(req),))
    con.execute("SELECT ts_debug_set_now(?)", (T0 + 3 * M + 123 * 10**6,))
    r = json.loads(con.execute("SELECT ts_scheduled_query_execute('bad-rows', ?)", (T0 + 2 * M,)).fetchone()[0])
    eq("report: run status", r["RunStatus"], "MANUAL_TRIGGER_FAILURE")
    loc = "file://" + d + "/reports/bad-rows/%d/Manual/%d" % ((T0 + 2 * M) // 10**9, (T0 + 3 * M) // 10**6 + 123)
    eq("report: location <prefix>/<name>/<InvocationTime>/Manual/<TriggerTime>", r.get("ErrorReportLocation"), loc)
    path = loc[len("file://"):]
    check("report: object written", os.path.exists(path), path)
    if os.path.exists(path):
        with open(path) as f:
            rep = json.load(f)
        stored = json.loads(con.execute("SELECT ErrorReport FROM ts_scheduled_query_runs WHERE Name='bad-rows'").fetchone()[0])
        eq("report: object = runs table copy", rep, stored)
        eq("report: reasons", [e["reason"] for e in rep["errors"]],
           ["timeseries bad_t: column v (DOUBLE): expected a number, got TEXT 'x'",
            "result row 3: TimeColumn 't' is NULL, not a timestamp"])
        eq("report: rejected record", rep["errors"][0]["records"][0]["measureValues"],
           [{"name": "v", "value": "x", "type": "DOUBLE"}])
    eq("report: query stays enabled",
       con.execute("SELECT State FROM ts_scheduled_queries WHERE Name='bad-rows'").fetchone()[0], "ENABLED")
    con.close()

sys.exit(1 if n_fail else 0)
