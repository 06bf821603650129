"""Python's sqlite3 module (Debian's /usr/bin/python3) loads tslite and uses a
timeseries table: parameters, executemany in one transaction, rollback,
ISO-8601 times, pushdown queries, a second connection, ts_check/ts_stats."""
import json
import os
import sqlite3
import sys
import tempfile

# Under the ASan pass the extension needs libasan preloaded into python.
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
    print("SKIP python: this python's sqlite3 cannot load extensions")
    sys.exit(0)

NOW = 1714564800000000000  # 2024-05-01T12:00:00Z
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "py.db")
    con = sqlite3.connect(path)
    con.enable_load_extension(True)
    con.load_extension(ext)
    eq("python: tslite_version", con.execute("SELECT tslite_version()").fetchone()[0], "0.1.0")
    con.execute("SELECT ts_debug_set_now(?)", (NOW,))
    con.execute("CREATE VIRTUAL TABLE cpu USING timeseries(hostname DIMENSION, region DIMENSION,"
                " usage_user DOUBLE, usage_system BIGINT)")
    rows = [(NOW - 3600 * 10**9 + i * 10 * 10**9, f"h{i % 3}", "eu", i * 0.5, i) for i in range(300)]
    with con:  # one transaction
        con.executemany("INSERT INTO cpu(time, hostname, region, usage_user, usage_system)"
                        " VALUES(?, ?, ?, ?, ?)", rows)
    eq("python: count after executemany", con.execute("SELECT count(*) FROM cpu").fetchone()[0], 300)
    eq("python: sum", con.execute("SELECT sum(usage_system), sum(usage_user) FROM cpu").fetchone(),
       (sum(range(300)), sum(i * 0.5 for i in range(300))))
    got = con.execute("SELECT time, usage_system FROM cpu WHERE hostname = ? AND time >= ?"
                      " ORDER BY time DESC LIMIT 2", ("h1", NOW - 3600 * 10**9)).fetchall()
    eq("python: pushdown query", got, [(rows[298][0], 298), (rows[295][0], 295)])

    # a rolled back transaction leaves nothing behind
    try:
        with con:
            con.execute("INSERT INTO cpu(time, hostname, usage_user) VALUES('2024-05-01T11:59:00Z', 'hx', 1)")
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    eq("python: rollback", con.execute("SELECT count(*) FROM cpu WHERE hostname='hx'").fetchone()[0], 0)

    # errors surface as sqlite3 exceptions with the message
    try:
        con.execute("INSERT INTO cpu(time, hostname, region, usage_user) VALUES(?, 'h0', 'eu', 99)", (rows[0][0],))
        check("python: duplicate rejected", False, "no error")
    except sqlite3.Error as e:
        check("python: duplicate rejected", "already exists with different measure values" in str(e), str(e))
    con.commit()

    # a second connection sees committed rows
    con2 = sqlite3.connect(path)
    con2.enable_load_extension(True)
    con2.load_extension(ext)
    eq("python: second connection", con2.execute("SELECT count(*) FROM cpu").fetchone()[0], 300)
    con2.close()

    eq("python: ts_check", con.execute("SELECT ts_check('cpu')").fetchone()[0], "ok")
    st = json.loads(con.execute("SELECT ts_stats('cpu')").fetchone()[0])
    eq("python: ts_stats rows", (st["series"], st["memory"]["rows"], st["memory"]["values"]), (3, 300, 600))
    con.close()

sys.exit(1 if n_fail else 0)
