"""parquet(...) table whose file is replaced on the same connection (issue 11):
same columns -> the new rows; different columns -> a plain error naming the
file and saying to re-create the table, on this and every later scan (no
silent re-prepare, no stale counts from the old footer against the new file);
the cached size/ETag move only with the reader."""
import glob
import os
import shutil
import sqlite3
import sys
import tempfile

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


ext = os.environ.get("TS_EXT") or os.path.join(os.path.dirname(__file__), "..", "..", "build", "tslite")
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    print("SKIP pq_replace: this python's sqlite3 cannot load extensions")
    sys.exit(0)

with tempfile.TemporaryDirectory() as d:
    con = sqlite3.connect(":memory:", isolation_level=None)
    con.enable_load_extension(True)
    con.load_extension(ext)

    def make(sql, name):
        out = os.path.join(d, "gen_" + name)
        con.execute("SELECT ts_unload(?, ?, '{\"format\":\"parquet\"}')", (sql, "file://" + out))
        (f,) = glob.glob(os.path.join(out, "results", "*.parquet"))
        return f

    one = make("SELECT 1 AS a, 'x' AS b", "one")
    three = make("SELECT 10 AS a, 'y' AS b UNION ALL SELECT 20, 'z' UNION ALL SELECT 30, 'w'", "three")
    other = make("SELECT 'q' AS c, 1.5 AS d, 7 AS e UNION ALL SELECT 'r', 2.5, 8", "other")
    target = os.path.join(d, "t.parquet")
    shutil.copy(one, target)
    con.execute(f"CREATE VIRTUAL TABLE p USING parquet('file://{target}')")
    eq("pq_replace: first scan", con.execute("SELECT count(*), sum(a) FROM p").fetchone(), (1, 1))

    shutil.copy(three, target + ".new")
    os.replace(target + ".new", target)
    eq("pq_replace: same columns, new rows", con.execute("SELECT count(*), sum(a) FROM p").fetchone(), (3, 60))

    shutil.copy(other, target + ".new")
    os.replace(target + ".new", target)
    msg = (f"parquet: file://{target} was replaced by a file with different columns; "
           "drop and re-create the table")
    for k in range(3):
        try:
            got = con.execute("SELECT count(*), sum(a) FROM p").fetchone()
            check(f"pq_replace: different columns is an error (scan {k + 1})", False, f"returned {got!r}")
        except sqlite3.Error as e:
            eq(f"pq_replace: different columns is an error (scan {k + 1})", str(e), msg)
            eq(f"pq_replace: error code is SQLITE_ERROR, not SQLITE_SCHEMA (scan {k + 1})",
               getattr(e, "sqlite_errorcode", 1), 1)

    # the original columns come back: the table works again with the new file's rows
    shutil.copy(three, target + ".new")
    os.replace(target + ".new", target)
    eq("pq_replace: original columns back", con.execute("SELECT count(*), sum(a), max(b) FROM p").fetchone(),
       (3, 60, "z"))
    con.execute("DROP TABLE p")
    shutil.copy(other, target)
    con.execute(f"CREATE VIRTUAL TABLE p USING parquet('file://{target}')")
    eq("pq_replace: re-created table reads the new columns",
       con.execute("SELECT count(*), sum(e), max(c) FROM p").fetchone(), (2, 15, "r"))
    con.close()

sys.exit(1 if n_fail else 0)
