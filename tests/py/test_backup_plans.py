"""Backup plans (ts_backup_schedule, ext/sched_backup.c) and the restore of
cold-only series (ext/restore.c, the manifest's "cold_series").

1. ts_backup_schedule: the plan row, the next instance, every error case with
   its exact message, replacing and removing a plan.
2. ts_scheduler_run_due runs due plans (missed instances collapse into one
   backup of now), records them in ts_backup_runs, and `keep` prunes the
   location; a failing backup is recorded and retried at the next instance.
3. `tslite scheduler` with a pinned clock (TSLITE_TEST_NOW_FILE): one JSON
   "backup" line per backup; two daemons never run one instance twice.
4. A series whose rows are all in the cold tier is restored: its rows come
   back, a query by its dimension finds them, ts_series lists it."""
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

_c = tshelp.Checks("")
check, eq = _c.check, _c.eq


def err(con, sql, args=()):
    try:
        con.execute(sql, args).fetchall()
    except sqlite3.Error as e:
        return str(e)
    return None


root = os.environ.get("TS_ROOT") or os.path.join(os.path.dirname(__file__), "..", "..")
build = os.environ.get("TS_BUILD") or os.path.join(root, "build")
ext = os.environ.get("TS_EXT") or os.path.join(build, "tslite")
tslite = os.path.join(build, "bin", "tslite")
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    print("SKIP backup_plans: this python's sqlite3 cannot load extensions")
    sys.exit(0)

M = 60 * 10**9
H = 60 * M
T0 = 1714521600 * 10**9          # 2024-05-01T00:00:00Z


def connect(path):
    con = sqlite3.connect(path, isolation_level=None, timeout=30)
    con.enable_load_extension(True)
    con.load_extension(ext)
    return con


def manifests(loc):
    d = os.path.join(loc, "backups")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def run_due(con):
    return json.loads(con.execute("SELECT ts_scheduler_run_due()").fetchone()[0])


with tempfile.TemporaryDirectory() as d:
    db = os.path.join(d, "plans.db")
    loc = os.path.join(d, "loc")
    uri = "file://" + loc
    con = connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("SELECT ts_debug_set_now(?)", (T0,))
    con.execute("CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE)")
    con.executemany("INSERT INTO cpu(time, host, v) VALUES(?, ?, ?)",
                    [(T0 - i * M, "h%d" % (i % 3), float(i)) for i in range(30)])

    # 1. The plan and its errors.
    r = json.loads(con.execute("SELECT ts_backup_schedule('cpu', ?, 'rate(1 hour)', '{\"keep\":2}')",
                               (uri,)).fetchone()[0])
    eq("schedule returns the plan", r, {"table": "cpu", "uri": uri, "schedule": "rate(1 hour)", "next": T0 + H})
    eq("the plan row", con.execute("SELECT TableName, Uri, ScheduleExpression, Options, NextInvocationTime, "
                                   "LastStatus FROM ts_backup_plans").fetchall(),
       [("cpu", uri, "rate(1 hour)", '{"keep":2}', T0 + H, None)])
    E = [
        ("a bad schedule names the field", "SELECT ts_backup_schedule('cpu', ?, 'cron(0 25 * * ? *)')",
         "ts_backup_schedule: schedule_expression: Hours field '25': value 25 out of range 0-23"),
        ("an unknown table", "SELECT ts_backup_schedule('nope', ?, 'rate(1 hour)')",
         "ts_backup_schedule: no timeseries table named 'nope' in schema main"),
        ("an unknown option", "SELECT ts_backup_schedule('cpu', ?, 'rate(1 hour)', '{\"kep\":2}')",
         "ts_backup_schedule: options_json: ts_backup: unknown option 'kep' (expected keep, keep_days, "
         "orphan_grace, encryption, kms_key)"),
        ("a bad keep", "SELECT ts_backup_schedule('cpu', ?, 'rate(1 hour)', '{\"keep\":0}')",
         "ts_backup_schedule: options_json: ts_backup: option keep must be an integer from 1 to 1000000, not 0"),
        ("options must be an object", "SELECT ts_backup_schedule('cpu', ?, 'rate(1 hour)', '[1]')",
         "ts_backup_schedule: options_json: ts_backup: options must be a JSON object"),
        ("NULL table", "SELECT ts_backup_schedule(NULL, ?, 'rate(1 hour)')",
         "ts_backup_schedule: table and uri must not be NULL"),
        ("removing a plan that does not exist", "SELECT ts_backup_schedule('cpu', ? || '/other', NULL)",
         f"ts_backup_schedule: no backup plan for table 'cpu' to '{uri}/other'"),
    ]
    for name, sql, msg in E:
        eq(f"error: {name}", err(con, sql, (uri,)), msg)
    eq("error: a bad location", err(con, "SELECT ts_backup_schedule('cpu', 'ftp://x/y', 'rate(1 hour)')"),
       "ts_backup_schedule: bad backup location 'ftp://x/y' (expected 's3://bucket/prefix' or "
       "'file:///absolute/dir')")
    eq("errors leave the plan alone", con.execute("SELECT count(*), max(Options) FROM ts_backup_plans").fetchone(),
       (1, '{"keep":2}'))

    # 2. Runs through ts_scheduler_run_due.
    eq("nothing due before the first instance", run_due(con)["backups"], [])
    eq("the pass reports the plan's next time", run_due(con)["nextInvocationTime"], T0 + H)
    con.execute("SELECT ts_debug_set_now(?)", (T0 + H,))
    r = run_due(con)
    eq("the due plan runs", [(b["Table"], b["InvocationTime"], b["Status"]) for b in r["backups"]],
       [("cpu", T0 + H, "SUCCESS")])
    eq("its result is ts_backup's summary", r["backups"][0]["Result"]["rows"], 30)
    eq("one manifest", len(manifests(loc)), 1)
    con.execute("INSERT INTO cpu(time, host, v) VALUES(?, 'h9', 1)", (T0 + H,))
    con.execute("SELECT ts_debug_set_now(?)", (T0 + 4 * H + 30 * M,))
    r = run_due(con)
    eq("missed instances collapse into one backup of now",
       [(b["InvocationTime"], b["TriggerTime"]) for b in r["backups"]], [(T0 + 2 * H, T0 + 4 * H + 30 * M)])
    eq("the next instance is the first after now", con.execute(
        "SELECT NextInvocationTime, PreviousInvocationTime FROM ts_backup_plans").fetchone(), (T0 + 5 * H, T0 + 2 * H))
    eq("incremental: the second backup has the new row", r["backups"][0]["Result"]["rows"], 31)
    for k in (5, 6):
        con.execute("SELECT ts_debug_set_now(?)", (T0 + k * H,))
        eq(f"instance {k} runs", [b["Status"] for b in run_due(con)["backups"]], ["SUCCESS"])
    eq("keep 2 prunes the location", len(manifests(loc)), 2)
    runs = con.execute("SELECT InvocationTime, Status, BackupId FROM ts_backup_runs ORDER BY RunId").fetchall()
    eq("ts_backup_runs: one row per backup", [(x[0], x[1]) for x in runs],
       [(T0 + H, "SUCCESS"), (T0 + 2 * H, "SUCCESS"), (T0 + 5 * H, "SUCCESS"), (T0 + 6 * H, "SUCCESS")])
    eq("the kept manifests are the last two runs' backups", [m[:-5] for m in manifests(loc)],
       [runs[2][2], runs[3][2]])
    eq("LastBackup", con.execute("SELECT LastStatus, LastBackup FROM ts_backup_plans").fetchone(),
       ("SUCCESS", runs[3][2]))
    rr = json.loads(con.execute("SELECT ts_restore(?, 'cpu_r')", (uri,)).fetchone()[0])
    eq("the latest scheduled backup restores", (rr["backup"], con.execute("SELECT count(*) FROM cpu_r").fetchone()[0]),
       (runs[3][2], 31))

    # A failing backup: recorded, the plan stays, the next instance retries.
    con.execute("SELECT ts_backup_schedule('cpu', 'file:///proc/tslite-no-such-dir', 'rate(1 hour)')")
    con.execute("SELECT ts_debug_set_now(?)", (T0 + 8 * H,))
    r = run_due(con)
    bad = [b for b in r["backups"] if b["Uri"].startswith("file:///proc")]
    eq("both due plans run, by next instance, then table and uri", [b["Uri"] for b in r["backups"]],
       ["file:///proc/tslite-no-such-dir", uri])
    eq("a failed backup is reported", [b["Status"] for b in bad], ["FAILURE"])
    check("with ts_backup's error", bad and bad[0]["Error"].startswith("ts_backup"), repr(bad))
    eq("and recorded", con.execute("SELECT Status, Error IS NOT NULL FROM ts_backup_runs WHERE Uri LIKE "
                                   "'file:///proc%'").fetchall(), [("FAILURE", 1)])
    eq("the failing plan waits for its next instance", con.execute(
        "SELECT NextInvocationTime, LastStatus FROM ts_backup_plans WHERE Uri LIKE 'file:///proc%'").fetchone(),
       (T0 + 9 * H, "FAILURE"))
    eq("removing a plan", json.loads(con.execute("SELECT ts_backup_schedule('cpu', 'file:///proc/tslite-no-such-dir',"
                                                 " NULL)").fetchone()[0])["removed"], True)
    eq("its runs stay", con.execute("SELECT count(*) FROM ts_backup_runs").fetchone()[0], 6)
    con.execute("SELECT ts_backup_schedule('cpu', ?, NULL)", (uri,))

    # keep_days on a plan: backups older than now - keep_days are pruned.
    loc3 = os.path.join(d, "loc3")
    t3 = T0 + 20 * H
    con.execute("SELECT ts_debug_set_now(?)", (t3,))
    con.execute("SELECT ts_backup_schedule('cpu', ?, 'rate(12 hours)', '{\"keep_days\":1}')", ("file://" + loc3,))
    for k in range(1, 5):
        con.execute("SELECT ts_debug_set_now(?)", (t3 + k * 12 * H,))
        eq(f"keep_days plan: run {k}", [b["Status"] for b in run_due(con)["backups"]], ["SUCCESS"])
    eq("keep_days 1 keeps the backups of the last day (a day old included)", [m[:-5] for m in manifests(loc3)], [r[0] for r in con.execute(
        "SELECT BackupId FROM ts_backup_runs WHERE Uri=? AND InvocationTime>=? ORDER BY RunId",
        ("file://" + loc3, t3 + 24 * H))])
    con.execute("SELECT ts_backup_schedule('cpu', ?, NULL)", ("file://" + loc3,))

    # 3. The daemon with a pinned clock.
    if not os.path.exists(tslite):
        print(f"SKIP backup_plans daemon: {tslite} not built")
    else:
        clock = os.path.join(d, "now")
        loc2 = os.path.join(d, "loc2")
        con.execute("SELECT ts_debug_set_now(?)", (T0 + 10 * H,))
        con.execute("SELECT ts_backup_schedule('cpu', ?, 'rate(1 minute)', '{\"keep\":3}')", ("file://" + loc2,))

        def set_clock(t):
            with open(clock + ".tmp", "w") as f:
                f.write(str(t))
            os.replace(clock + ".tmp", clock)

        def start(owner):
            env = dict(os.environ, TSLITE_TEST_NOW_FILE=clock)
            return subprocess.Popen([tslite, "scheduler", "--interval", "0.05", "--maintain-interval", "0",
                                     "--owner", owner, db], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=env, text=True)

        def nruns():
            return con.execute("SELECT count(*) FROM ts_backup_runs WHERE Uri=?", ("file://" + loc2,)).fetchone()[0]

        def stop(p):
            p.send_signal(signal.SIGTERM)
            out, e = p.communicate(timeout=60)
            return p.returncode, [json.loads(x) for x in out.splitlines() if x.strip()], e

        set_clock(T0 + 10 * H)
        a, b = start("A"), start("B")
        for k in range(1, 7):
            set_clock(T0 + 10 * H + k * M + 10**9)
            t = time.time()
            while nruns() < k and time.time() - t < 60:
                time.sleep(0.05)
            eq(f"daemons: minute {k} backed up", nruns(), k)
        time.sleep(0.3)
        ra, la, ea = stop(a)
        rb, lb, eb = stop(b)
        eq("daemons exit 0 without stderr", (ra, rb, ea, eb), (0, 0, "", ""))
        lines = [x for x in la + lb if x["action"] == "backup"]
        eq("one JSON line per backup, each instance by one daemon",
           sorted(x["backup"]["InvocationTime"] for x in lines), [T0 + 10 * H + k * M for k in range(1, 7)])
        check("backup lines carry the summary", all(x["backup"]["Status"] == "SUCCESS" and x["db"] == db
                                                    and x["backup"]["Result"]["rows"] == 31 for x in lines))
        eq("keep 3 on the daemon's plan", len(manifests(loc2)), 3)
        print(f"# daemon A ran {len([x for x in la if x['action'] == 'backup'])} backups, "
              f"B ran {len([x for x in lb if x['action'] == 'backup'])}")
    con.close()

# 4. Cold-only series survive a backup and restore.
with tempfile.TemporaryDirectory() as d:
    db = os.path.join(d, "cold.db")
    con = connect(db)
    con.execute("SELECT ts_debug_set_now(?)", (T0,))
    con.execute("CREATE VIRTUAL TABLE m USING timeseries(host DIMENSION, region DIMENSION, v DOUBLE, "
                "memory_retention = '1h')")
    # 'old' only has rows that will be tiered; 'new' keeps rows in memory.
    con.executemany("INSERT INTO m(time, host, region, v) VALUES(?, ?, ?, ?)",
                    [(T0 - 50 * M + i * M, "old", "eu", float(i)) for i in range(40)]
                    + [(T0 - 50 * M + i * M, "new", "us", float(i)) for i in range(40)])
    con.execute("SELECT ts_debug_set_now(?)", (T0 + 3 * H,))
    con.executemany("INSERT INTO m(time, host, region, v) VALUES(?, 'new', 'us', ?)",
                    [(T0 + 3 * H - i * M, float(i)) for i in range(10)])
    mt = json.loads(con.execute("SELECT ts_maintain('m')").fetchone()[0])
    check("ts_maintain tiers the old rows", mt["tables"][0]["rows_moved"] == 80, json.dumps(mt))
    eq("the 'old' series is cold only", con.execute(
        "SELECT row_count, first_time FROM ts_series('m') WHERE json_extract(dimensions, '$.host')='old'").fetchall(),
       [(0, None)])
    src = con.execute("SELECT count(*), sum(v) FROM m WHERE host='old'").fetchone()
    eq("the source answers by the cold series' dimension", src, (40, float(sum(range(40)))))
    uri = "file://" + os.path.join(d, "bk")
    b = json.loads(con.execute("SELECT ts_backup('m', ?)", (uri,)).fetchone()[0])
    eq("backup: rows of both tiers", (b["memory_rows"], b["cold_rows"]), (10, 80))
    man = json.load(open(os.path.join(d, "bk", "backups", b["backup"] + ".json")))
    eq("the manifest lists the cold-only series", len(man["cold_series"]), 1)
    r = json.loads(con.execute("SELECT ts_restore(?, 'm2', ?)",
                               (uri, json.dumps({"storage": "file://" + os.path.join(d, "m2")}))).fetchone()[0])
    eq("restore: every row", r["rows"], 90)
    eq("restored: a query by the cold series' dimension", con.execute(
        "SELECT count(*), sum(v) FROM m2 WHERE host='old'").fetchone(), src)
    eq("restored: by its other dimension", con.execute("SELECT count(*) FROM m2 WHERE region='eu'").fetchone()[0], 40)
    eq("restored: ts_series lists it", con.execute(
        "SELECT dimensions, row_count FROM ts_series('m2') ORDER BY series_id").fetchall(),
       [('{"host":"new","region":"us"}', 10), ('{"host":"old","region":"eu"}', 0)])
    eq("restored: whole table", con.execute("SELECT count(*), sum(v) FROM m2").fetchone(),
       con.execute("SELECT count(*), sum(v) FROM m").fetchone())
    eq("ts_check on the restored table", con.execute("SELECT ts_check('m2')").fetchone()[0], "ok")
    # A restore whose retention drops the cold objects creates no empty series.
    con.execute("SELECT ts_debug_set_now(?)", (T0 + 48 * H,))
    r = json.loads(con.execute("SELECT ts_restore(?, 'm3', ?)", (uri, json.dumps(
        {"magnetic_retention": "1d", "storage": "file://" + os.path.join(d, "m3")}))).fetchone()[0])
    eq("expired restore: nothing kept", (r["rows"], r["expired_objects"]), (0, 1))
    eq("expired restore: no series", con.execute("SELECT count(*) FROM ts_series('m3')").fetchone()[0], 0)
    con.close()

_c.exit()
