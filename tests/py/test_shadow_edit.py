"""Direct edits of a timeseries table's shadow tables (table.c, "The edit
generation"), from Python: the report's sequence on one connection (DELETE
FROM t_series; DELETE FROM t_chunks; INSERT: the row survives a reopen), and
a plain sqlite3 connection without the extension, which can still read the
shadow tables and whose edits the extension's connection then notices
(PRAGMA data_version).  The full
set of cases is in tests/sql/table_shadow_edit.test."""
import os
import sqlite3
import sys
import tempfile

import tshelp  # tests/py/tshelp.py
tshelp.asan_reexec()

_c = tshelp.Checks("shadow_edit: ")
check, eq = _c.check, _c.eq


ROOT = os.environ.get("TS_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXT = os.environ.get("TS_EXT") or os.path.join(ROOT, "build", "tslite")
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    print("SKIP shadow_edit: this python's sqlite3 cannot load extensions")
    sys.exit(0)

T0 = 1714561200000000000  # 2024-05-01T11:00:00Z


def connect(path):
    con = sqlite3.connect(path, isolation_level=None)
    con.enable_load_extension(True)
    con.load_extension(EXT)
    con.execute("SELECT ts_debug_set_now('2024-05-01T12:00:00Z')")
    return con


with tempfile.TemporaryDirectory(prefix="tslite-shadow-") as d:
    path = os.path.join(d, "s.db")
    con = connect(path)
    con.execute("CREATE VIRTUAL TABLE t USING timeseries(h DIMENSION, v DOUBLE)")
    con.execute("INSERT INTO t(time, h, v) VALUES(?, 'a', 1)", (T0,))
    con.execute("DELETE FROM t_series")
    con.execute("DELETE FROM t_chunks")
    con.execute("INSERT INTO t(time, h, v) VALUES(?, 'a', 2)", (T0 + 1,))
    eq("same connection: the new row", con.execute("SELECT time, h, v FROM t").fetchall(),
       [(T0 + 1, "a", 2.0)])
    con.close()
    con = connect(path)
    eq("after reopen: the same row", con.execute("SELECT time, h, v FROM t").fetchall(),
       [(T0 + 1, "a", 2.0)])
    eq("ts_check after reopen", con.execute("SELECT ts_check('t')").fetchone()[0], "ok")
    con.execute("INSERT INTO t(time, h, v) VALUES(?, 'b', 3)", (T0,))

    # A connection without the extension: the shadow tables read as plain
    # tables (nothing in the schema needs the extension but the table).
    plain = sqlite3.connect(path, isolation_level=None)
    eq("plain sqlite3 reads t_series", plain.execute(
        "SELECT measure_name, d0 FROM t_series ORDER BY d0").fetchall(), [("metrics", "a"), ("metrics", "b")])
    eq("plain sqlite3 reads t_chunks", plain.execute("SELECT sum(nrow) FROM t_chunks").fetchone()[0], 2)
    eq("no triggers in the schema", plain.execute(
        "SELECT count(*) FROM sqlite_schema WHERE type='trigger'").fetchone()[0], 0)
    plain.execute("DELETE FROM t_chunks WHERE sid = (SELECT id FROM t_series WHERE d0='b')")
    plain.execute("DELETE FROM t_series WHERE d0='b'")
    plain.close()
    con.execute("INSERT INTO t(time, h, v) VALUES(?, 'b', 4)", (T0 + 2,))
    eq("extension connection after the other's edit", con.execute(
        "SELECT h, v FROM t ORDER BY h").fetchall(), [("a", 2.0), ("b", 4.0)])
    con.close()
    con = connect(path)
    eq("after reopen", con.execute("SELECT h, v FROM t ORDER BY h").fetchall(), [("a", 2.0), ("b", 4.0)])
    eq("ts_check", con.execute("SELECT ts_check('t')").fetchone()[0], "ok")
    con.close()

_c.exit()
