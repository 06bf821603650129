"""Backups keep the rows' write marks and the cold objects' series_runs
(ext/backup.c, ext/restore.c; docs/backup.md "The format").

A table has cold rows; late writes of the same keys stay in the memory tier
(magnetic_writes): INSERT OR REPLACE with an equal version and other values
(beats the cold row), INSERT OR IGNORE (keeps the cold row), a plain INSERT
with an equal version and other values (the cold row stays).  ts_backup, then
ts_restore into a new table: the restored table shows exactly the source's
rows, also after ts_maintain on it (tiering then compaction apply the marks).
The restored objects carry series_runs (the fast cold path).  A backup
written before marks and series_runs (manifest without "series_runs", memory
files without ts_write_mode) still restores, as plain rows."""
import json
import os
import sqlite3
import sys
import tempfile

import tshelp  # tests/py/tshelp.py

tshelp.asan_reexec()

_c = tshelp.Checks("")
check, eq = _c.check, _c.eq

root = os.environ.get("TS_ROOT") or os.path.join(os.path.dirname(__file__), "..", "..")
build = os.environ.get("TS_BUILD") or os.path.join(root, "build")
ext = os.environ.get("TS_EXT") or os.path.join(build, "tslite")
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    print("SKIP backup_marks: this python's sqlite3 cannot load extensions")
    sys.exit(0)

NOW = "2024-05-01T12:00:00Z"


def connect(path):
    con = sqlite3.connect(path, isolation_level=None, timeout=30)
    con.enable_load_extension(True)
    con.load_extension(ext)
    con.execute("SELECT ts_debug_set_now(?)", (NOW,)).fetchall()
    return con


def rows(con, t):
    return con.execute(f"SELECT host, hour(time), v, version FROM {t} ORDER BY host, time").fetchall()


def runs(con, t):
    return con.execute(f"SELECT count(*), count(series_runs) FROM {t}_objects").fetchone()


# The source's rows after the late writes: host a 04 is the REPLACE row,
# a 05 the cold row (IGNORE), a 02 the cold row (plain, equal version).
EXPECT = [("a", 1, 1.0, 1), ("a", 2, 1.0, 1), ("a", 3, 2.0, 2), ("a", 4, 3.0, 1), ("a", 5, 1.0, 1),
          ("b", 1, 10.0, 1), ("b", 2, 10.0, 1), ("b", 3, 10.0, 1), ("b", 4, 10.0, 1), ("b", 5, 14.0, 1)]

with tempfile.TemporaryDirectory() as tmp:
    db = os.path.join(tmp, "m.db")
    loc = os.path.join(tmp, "bk")
    uri = "file://" + loc
    con = connect(db)
    con.execute("CREATE VIRTUAL TABLE t USING timeseries(host DIMENSION, v DOUBLE, "
                "memory_retention = '1h', magnetic_writes = true)")
    for h in ("a", "b"):
        base = 1.0 if h == "a" else 10.0
        con.execute("INSERT INTO t(time, host, v) VALUES " + ", ".join(
            f"('2024-05-01T0{i}:00:00Z', '{h}', {base})" for i in range(1, 6)))
    j = json.loads(con.execute("SELECT ts_maintain('t')").fetchone()[0])
    eq("backup_marks tiered", (j["tables"][0]["rows_moved"],
                               con.execute("SELECT count(*) FROM t_chunks").fetchone()[0]), (10, 0))
    con.execute("INSERT INTO t(time, host, v, version) VALUES ('2024-05-01T02:00:00Z', 'a', 2, 1)")
    con.execute("INSERT INTO t(time, host, v, version) VALUES ('2024-05-01T03:00:00Z', 'a', 2, 2)")
    con.execute("INSERT OR REPLACE INTO t(time, host, v, version) VALUES ('2024-05-01T04:00:00Z', 'a', 3, 1)")
    con.execute("INSERT OR IGNORE INTO t(time, host, v, version) VALUES ('2024-05-01T05:00:00Z', 'a', 4, 1)")
    con.execute("INSERT OR IGNORE INTO t(time, host, v, version) VALUES ('2024-05-01T04:00:00Z', 'b', 13, 1)")
    con.execute("INSERT OR REPLACE INTO t(time, host, v, version) VALUES ('2024-05-01T05:00:00Z', 'b', 14, 1)")
    eq("backup_marks source rows", rows(con, "t"), EXPECT)
    eq("backup_marks source late rows in memory",
       con.execute("SELECT total(nrow) FROM t_chunks").fetchone()[0], 6.0)
    eq("backup_marks source series_runs", runs(con, "t"), (1, 1))

    b = json.loads(con.execute("SELECT ts_backup('t', ?)", (uri,)).fetchone()[0])
    eq("backup_marks backup rows", (b["rows"], b["memory_rows"], b["cold_rows"]), (16, 6, 10))
    man = json.load(open(os.path.join(loc, "backups", b["backup"] + ".json")))
    cold = [f for f in man["files"] if f["kind"] == "cold"]
    check("backup_marks manifest series_runs",
          len(cold) == 1 and isinstance(cold[0]["object"].get("series_runs"), str)
          and len(cold[0]["object"]["series_runs"]) > 2, repr(cold))

    r = json.loads(con.execute("SELECT ts_restore(?, 'r')", (uri,)).fetchone()[0])
    eq("backup_marks restore rows", r["rows"], 16)
    eq("backup_marks restored rows", rows(con, "r"), EXPECT)
    eq("backup_marks restored series_runs", runs(con, "r"), (1, 1))
    eq("backup_marks restored series_runs bytes",
       con.execute("SELECT (SELECT series_runs FROM r_objects) = (SELECT series_runs FROM t_objects)").fetchone()[0], 1)
    eq("backup_marks restored query by value",
       con.execute("SELECT host, hour(time), v FROM r WHERE v > 2.5 AND v < 20 ORDER BY host, time").fetchall(),
       [("a", 4, 3.0), ("b", 1, 10.0), ("b", 2, 10.0), ("b", 3, 10.0), ("b", 4, 10.0), ("b", 5, 14.0)])

    # A second process sees the same; ts_maintain on the restored table
    # (tiering, then compaction with the marks) keeps the rows.
    con.close()
    con = connect(db)
    eq("backup_marks restored rows reopened", rows(con, "r"), EXPECT)
    con.execute("SELECT ts_maintain('r', '{\"compact_max_bytes\":0}')").fetchall()
    eq("backup_marks restored tiered chunks", con.execute("SELECT count(*) FROM r_chunks").fetchone()[0], 0)
    eq("backup_marks restored rows after tiering", rows(con, "r"), EXPECT)
    con.execute("SELECT ts_maintain('r')").fetchall()
    eq("backup_marks restored rows after compaction", rows(con, "r"), EXPECT)
    n = runs(con, "r")
    check("backup_marks restored objects after compaction have series_runs", n[0] >= 1 and n[0] == n[1], repr(n))
    con.execute("SELECT ts_maintain('t')").fetchall()
    eq("backup_marks source rows after maintain", rows(con, "t"), EXPECT)

    # An older backup: no "series_runs" in the manifest and memory files
    # without ts_write_mode (a plain backup of the same rows).  It restores:
    # objects without series_runs (slow path, same rows).
    con.execute("CREATE VIRTUAL TABLE p USING timeseries(host DIMENSION, v DOUBLE, "
                "memory_retention = '1h', magnetic_writes = true)")
    con.execute("INSERT INTO p(time, host, v) VALUES ('2024-05-01T01:00:00Z', 'a', 1), "
                "('2024-05-01T02:00:00Z', 'a', 2)")
    con.execute("SELECT ts_maintain('p')").fetchall()
    con.execute("INSERT INTO p(time, host, v) VALUES ('2024-05-01T11:30:00Z', 'a', 3)")
    loc2 = os.path.join(tmp, "bk2")
    b2 = json.loads(con.execute("SELECT ts_backup('p', ?)", ("file://" + loc2,)).fetchone()[0])
    mpath = os.path.join(loc2, "backups", b2["backup"] + ".json")
    man = json.load(open(mpath))
    for f in man["files"]:
        if f["kind"] == "cold":
            f["object"].pop("series_runs", None)
    json.dump(man, open(mpath, "w"))
    con.execute("SELECT ts_restore(?, 'p2')", ("file://" + loc2,)).fetchall()
    eq("backup_marks old manifest rows",
       con.execute("SELECT hour(time), minute(time), v FROM p2 ORDER BY time").fetchall(),
       [(1, 0, 1.0), (2, 0, 2.0), (11, 30, 3.0)])
    eq("backup_marks old manifest series_runs", runs(con, "p2"), (1, 0))
    mem = [f["path"] for f in man["files"] if f["kind"] == "memory"]
    eq("backup_marks plain memory file count", len(mem), 1)
    con.close()

_c.exit()
