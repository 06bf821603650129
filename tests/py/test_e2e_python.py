#!/usr/bin/python3
"""End-to-end: a Python application using tslite through Debian's sqlite3
module (enable_load_extension + load_extension), as an app would.

Every step is mirrored on a plain SQLite table `oracle` in the same database
(CHECK constraints stand in for the write window), and the results are also
compared with values computed in Python (times parsed with datetime, sums of
exactly representable values), never just "no error":
- executemany with ISO-8601 text times (several offset forms) and INTEGER ns;
- a rolled back transaction leaves nothing; a committed one is seen by a
  second connection with exactly the committed rows; uncommitted rows are
  visible to their own connection only;
- a failing row inside executemany aborts only its statement (the earlier
  rows of the transaction commit), and a failing multi-row INSERT leaves none
  of its rows (statement rollback, as in a plain table);
- reopen; parameterised queries (time range, IN on a dimension, bin());
- errors surface as sqlite3.Error with the documented messages.
"""
import calendar, datetime, os, shutil, sqlite3, sys, tempfile

import tshelp  # tests/py/tshelp.py
tshelp.asan_reexec(only_if_unset=True)

EXT = os.environ.get("TS_EXT")
fails = 0


def check(name, ok, why=""):
    global fails
    if ok:
        print("PASS e2e_python: " + name)
    else:
        fails += 1
        print("FAIL e2e_python: %s: %s" % (name, why))


def eq(name, got, exp):
    check(name, got == exp, "got %r, expected %r" % (got, exp) if got != exp else "")


if not EXT:
    print("SKIP e2e_python: TS_EXT not set (run through tests/run.sh)")
    sys.exit(0)

NOW = "2024-05-01T12:00:00Z"
NOW_NS = 1714564800 * 10**9


def iso_ns(s):
    """Independent ISO-8601 -> ns (datetime: microseconds; extra digits by hand)."""
    frac = 0
    base = s
    if "." in s:
        head, rest = s.split(".", 1)
        digits = ""
        while rest and rest[0].isdigit():
            digits += rest[0]
            rest = rest[1:]
        frac = int((digits + "000000000")[:9])
        base = head + rest
    base = base.replace("Z", "+00:00").replace(" ", "T")
    d = datetime.datetime.fromisoformat(base)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return calendar.timegm(d.utctimetuple()) * 10**9 + frac


def connect(path):
    c = sqlite3.connect(path)
    c.enable_load_extension(True)
    c.load_extension(EXT)
    c.enable_load_extension(False)
    c.execute("SELECT ts_debug_set_now(?)", (NOW,))
    return c


tmp = tempfile.mkdtemp(prefix="tslite-e2e-py-")
try:
    path = os.path.join(tmp, "app.db")
    db = connect(path)
    eq("clock pinned", db.execute("SELECT now()").fetchone()[0], NOW_NS)
    db.execute("""CREATE VIRTUAL TABLE cpu USING timeseries(
        hostname DIMENSION, region DIMENSION, usage DOUBLE, cnt BIGINT, status VARCHAR,
        memory_retention = '24h')""")
    lo = NOW_NS - 24 * 3600 * 10**9
    hi = NOW_NS + 15 * 60 * 10**9
    db.execute("""CREATE TABLE oracle(time INTEGER NOT NULL CHECK(time BETWEEN %d AND %d),
        hostname TEXT, region TEXT, usage REAL, cnt INTEGER, status TEXT,
        UNIQUE(hostname, region, time))""" % (lo, hi))
    db.commit()

    committed = []  # (time_ns, hostname, region, usage, cnt, status)

    # 1. executemany with ISO text (several spellings) and integer times.
    batch1 = []
    for i in range(120):
        h = "web-%d" % (i % 4)
        r = "eu-west-1" if i % 4 < 2 else "us-east-1"
        sec = 3600 + i * 257  # 01:00 .. 10:30, irregular
        t_ns = NOW_NS - 12 * 3600 * 10**9 + sec * 10**9 + (i * 1234567 if i % 3 else 0)
        d = datetime.datetime.fromtimestamp(t_ns // 10**9, datetime.timezone.utc)
        frac = t_ns % 10**9
        if i % 5 == 0:
            t = t_ns                                            # INTEGER ns
        elif i % 5 == 1:
            t = d.strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % frac   # 9 digits, Z
        elif i % 5 == 2:
            t = d.strftime("%Y-%m-%d %H:%M:%S") + ".%09d" % frac    # space, no zone
        elif i % 5 == 3:                                          # +02:00 offset
            d2 = d + datetime.timedelta(hours=2)
            t = d2.strftime("%Y-%m-%dT%H:%M:%S") + ".%09d+02:00" % frac
        else:
            t = str(t_ns)                                       # decimal text
        usage = (i * 37 % 400) * 0.25
        cnt = None if i % 7 == 3 else i * i % 101
        status = ["ok", "warn", "crit"][i % 3] if i % 11 else None
        batch1.append((t, h, r, usage, cnt, status))
        committed.append((t_ns, h, r, usage, cnt, status))
    # The oracle needs integer times: convert with Python, not tslite.
    db.executemany("INSERT INTO cpu(time, hostname, region, usage, cnt, status) VALUES (?, ?, ?, ?, ?, ?)", batch1)
    db.executemany("INSERT INTO oracle VALUES (?, ?, ?, ?, ?, ?)", committed)
    db.commit()
    check("independent ISO parser agrees on the spellings",
          all(iso_ns(t) == c[0] for (t, *_), c in zip(batch1, committed) if isinstance(t, str) and not t.isdigit()))

    def rows(c, tbl="cpu", where="", args=()):
        return c.execute("SELECT time, hostname, region, usage, cnt, status FROM %s %s "
                         "ORDER BY time, hostname" % (tbl, where), args).fetchall()

    exp = sorted(committed, key=lambda r: (r[0], r[1]))
    eq("committed batch: every row, every value", rows(db), exp)
    eq("oracle table holds the same rows", rows(db, "oracle"), exp)
    eq("types: time INTEGER, usage REAL, cnt INTEGER",
       db.execute("SELECT DISTINCT typeof(time), typeof(usage), typeof(cnt) FROM cpu WHERE cnt IS NOT NULL").fetchall(),
       [("integer", "real", "integer")])

    # 2. A transaction rolled back leaves nothing, in this connection or another.
    other = connect(path)
    extra = [(NOW_NS - 3600 * 10**9 + k * 10**9, "web-9", "ap-south-1", 1.5 * k, k, "ok") for k in range(50)]
    db.executemany("INSERT INTO cpu(time, hostname, region, usage, cnt, status) VALUES (?, ?, ?, ?, ?, ?)", extra)
    eq("uncommitted rows visible to their own connection",
       db.execute("SELECT count(*) FROM cpu WHERE hostname = 'web-9'").fetchone()[0], 50)
    eq("uncommitted rows invisible to another connection",
       other.execute("SELECT count(*) FROM cpu WHERE hostname = 'web-9'").fetchone()[0], 0)
    db.rollback()
    eq("rolled back: gone from its own connection", rows(db), exp)
    eq("rolled back: another connection sees exactly the committed rows", rows(other), exp)

    # 3. Another transaction, committed; the second connection sees it.
    batch2 = [(NOW_NS - 1800 * 10**9 + k * 250 * 10**6, "web-%d" % (k % 2), "eu-west-1", 0.5 * k, None, "ok")
              for k in range(40)]
    db.executemany("INSERT INTO cpu(time, hostname, region, usage, cnt, status) VALUES (?, ?, ?, ?, ?, ?)", batch2)
    db.executemany("INSERT INTO oracle VALUES (?, ?, ?, ?, ?, ?)", batch2)
    db.commit()
    committed += batch2
    exp = sorted(committed, key=lambda r: (r[0], r[1]))
    eq("second commit: other connection sees exactly the committed rows", rows(other), exp)
    other.close()

    # 4. A failing row inside executemany: the statement fails, the earlier
    # rows of the same transaction stay (statement-level abort), as in the
    # plain table whose CHECK stands for the write window.
    batch3 = [(NOW_NS - 600 * 10**9 + k * 10**9, "web-7", "eu-west-1", 2.0 + k, k, "ok") for k in range(3)]
    batch3.append((NOW_NS - 25 * 3600 * 10**9, "web-7", "eu-west-1", 9.0, 9, "ok"))  # outside the window
    errs = []
    for tbl in ("cpu", "oracle"):
        try:
            db.executemany("INSERT INTO %s(time, hostname, region, usage, cnt, status) VALUES (?, ?, ?, ?, ?, ?)" % tbl, batch3)
            errs.append(None)
        except sqlite3.Error as e:
            errs.append(e)
    check("executemany stops at the row outside the window (tslite)", isinstance(errs[0], sqlite3.Error), repr(errs[0]))
    check("executemany stops at the row outside the window (oracle)", isinstance(errs[1], sqlite3.IntegrityError), repr(errs[1]))
    check("window error message", errs[0] is not None and
          "timeseries cpu: time 2024-04-30T11:00:00.000000000Z is outside the write window "
          "[2024-04-30T12:00:00.000000000Z, 2024-05-01T12:15:00.000000000Z] "
          "(now - memory_retention .. now + 15 minutes)" in str(errs[0]), str(errs[0]))
    # A multi-row INSERT whose last row is bad: none of its rows stay.
    for tbl, ts in (("cpu", "'2024-04-30T11:59:59Z'"), ("oracle", str(NOW_NS - 24 * 3600 * 10**9 - 10**9))):
        try:
            db.execute("INSERT INTO %s(time, hostname, region, usage) VALUES (%d, 'web-8', 'x', 1.0), "
                       "(%d, 'web-8', 'x', 2.0), (%s, 'web-8', 'x', 3.0)" % (tbl, NOW_NS - 10**9, NOW_NS - 2 * 10**9, ts))
            check("multi-row insert with a bad row fails (%s)" % tbl, False, "succeeded")
        except sqlite3.Error:
            check("multi-row insert with a bad row fails (%s)" % tbl, True)
    db.commit()
    committed += batch3[:3]
    exp = sorted(committed, key=lambda r: (r[0], r[1]))
    eq("after the failed statements: exactly the good rows committed", rows(db), exp)
    eq("oracle agrees", rows(db, "oracle"), exp)

    # 5. Reopen: a new connection on the file, nothing lost or duplicated.
    db.close()
    db = connect(path)
    eq("after reopen: every committed row once", rows(db), exp)
    eq("after reopen: ts_check", db.execute("SELECT ts_check('cpu')").fetchone()[0], "ok")

    # 6. Parameterised queries, compared with Python over the committed rows
    # (values are multiples of 0.25: sums are exact in any order).
    t0, t1 = NOW_NS - 9 * 3600 * 10**9, NOW_NS - 2 * 3600 * 10**9
    hosts = ("web-1", "web-2")
    got = db.execute("SELECT hostname, count(*), sum(usage), max(cnt), count(status) FROM cpu "
                     "WHERE time >= ? AND time < ? AND hostname IN (?, ?) GROUP BY hostname ORDER BY hostname",
                     (t0, t1) + hosts).fetchall()
    want = []
    for h in hosts:
        sel = [r for r in committed if r[1] == h and t0 <= r[0] < t1]
        want.append((h, len(sel), sum(r[3] for r in sel),
                     max((r[4] for r in sel if r[4] is not None), default=None),
                     sum(1 for r in sel if r[5] is not None)))
    eq("time range + IN parameters: per-host aggregates", got, want)
    got = db.execute("SELECT bin(time, ?) AS b, count(*), sum(usage) FROM cpu WHERE region = ? "
                     "GROUP BY b ORDER BY b", ("1h", "us-east-1")).fetchall()
    hour = 3600 * 10**9
    agg = {}
    for r in committed:
        if r[2] == "us-east-1":
            b = r[0] // hour * hour
            n, s = agg.get(b, (0, 0.0))
            agg[b] = (n + 1, s + r[3])
    eq("bin(time, ?) GROUP BY with a parameter", got, [(b, n, s) for b, (n, s) in sorted(agg.items())])
    got = db.execute("SELECT to_iso8601(time), usage FROM cpu WHERE hostname = ? AND time = ?",
                     ("web-7", NOW_NS - 599 * 10**9)).fetchall()
    eq("point lookup by parameters", got, [("2024-05-01T11:50:01.000000000Z", 3.0)])
    got = db.execute("SELECT hostname, max_by(usage, time), approx_percentile(usage, 0.5) FROM cpu "
                     "WHERE time >= ago(?) GROUP BY hostname ORDER BY hostname", ("45m",)).fetchall()
    want = []
    for h in sorted({r[1] for r in committed if r[0] >= NOW_NS - 45 * 60 * 10**9}):
        sel = sorted((r for r in committed if r[1] == h and r[0] >= NOW_NS - 45 * 60 * 10**9), key=lambda r: r[0])
        vs = sorted(r[3] for r in sel)
        want.append((h, sel[-1][3], vs[(len(vs) + 1) // 2 - 1]))
    eq("ago(?) + max_by/approx_percentile", got, want)

    # 7. Errors: sqlite3.Error subclasses carrying the documented messages.
    def err(sql, args=()):
        try:
            db.execute(sql, args)
        except sqlite3.Error as e:
            return e
        return None
    cases = [
        ("INSERT INTO cpu(time, hostname, usage) VALUES (?, 'e', ?)", ("2024-05-01T11:00:00Z", "abc"),
         "timeseries cpu: column usage (DOUBLE): expected a number, got TEXT 'abc'"),
        ("INSERT INTO cpu(time, hostname, usage) VALUES (?, 'e', 1)", ("yesterday",),
         "timeseries cpu: column time: TEXT 'yesterday' is not an ISO-8601 time (e.g. '2024-05-01T12:00:00.123456789Z')"),
        ("INSERT INTO cpu(time, hostname, usage) VALUES (?, 'e', 1)", (1.5,),
         "timeseries cpu: column time: expected INTEGER nanoseconds since 1970-01-01 or ISO-8601 TEXT, got REAL 1.5"),
        ("INSERT INTO cpu(time, hostname, cnt) VALUES (?, 'e', ?)", ("2024-05-01T11:00:00Z", 2.5),
         "timeseries cpu: column cnt (BIGINT): expected an integer, got REAL 2.5"),
        ("INSERT INTO cpu(time, hostname, usage) VALUES (?, 'e', ?)", ("2024-05-01T11:00:00Z", float("inf")),
         "timeseries cpu: column usage (DOUBLE): NaN and Infinity cannot be stored"),
        ("INSERT INTO cpu(time, hostname) VALUES (?, 'e')", ("2024-05-01T11:00:00Z",),
         "timeseries cpu: a record needs at least one non-NULL measure"),
        ("INSERT INTO cpu(time, hostname, region, usage, cnt, status) VALUES (?, 'web-7', 'eu-west-1', 99.0, 0, 'ok')",
         (NOW_NS - 600 * 10**9,),
         "timeseries cpu: record (hostname='web-7', region='eu-west-1', measure_name='metrics', "
         "time=2024-05-01T11:50:00.000000000Z) already exists with different measure values and version 1; "
         "the new record's version 1 must be higher to update it (or use INSERT OR REPLACE / INSERT OR IGNORE)"),
        ("UPDATE cpu SET usage = 1 WHERE hostname = ?", ("web-1",),
         "timeseries cpu: UPDATE is not supported: records are immutable; to change a record, INSERT it again "
         "with the same dimensions, measure_name and time and a higher version (upsert)"),
        ("DELETE FROM cpu WHERE hostname = ?", ("web-1",),
         "timeseries cpu: DELETE is not supported: records leave the table only through retention "
         "(memory_retention + magnetic_retention) or DROP TABLE"),
        ("CREATE VIRTUAL TABLE bad USING timeseries(v DOUBLE, memory_retension = '6h')", (),
         "timeseries bad: unknown option 'memory_retension'"),
        ("SELECT bin(time, ?) FROM cpu", ("1 day",),
         "bin: invalid interval '1 day'"),
    ]
    for sql, args, msg in cases:
        e = err(sql, args)
        check("error %r" % msg[:60], isinstance(e, sqlite3.Error) and msg in str(e), repr(e))
    db.rollback()
    # Identical duplicate is a no-op; a higher version upserts.
    db.execute("INSERT INTO cpu(time, hostname, region, usage, cnt, status) VALUES (?, 'web-7', 'eu-west-1', 2.0, 0, 'ok')",
               (NOW_NS - 600 * 10**9,))
    db.execute("INSERT INTO cpu(time, hostname, region, usage, cnt, status, version) "
               "VALUES (?, 'web-7', 'eu-west-1', 42.25, 0, 'ok', 2)", (NOW_NS - 599 * 10**9,))
    db.commit()
    eq("duplicate no-op and versioned upsert",
       db.execute("SELECT usage, cnt, version FROM cpu WHERE hostname = 'web-7' ORDER BY time").fetchall(),
       [(2.0, 0, 1), (42.25, 0, 2), (4.0, 2, 1)])
    eq("row count after errors: unchanged", db.execute("SELECT count(*) FROM cpu").fetchone()[0], len(committed))
    db.close()

    # 8. WAL mode, as a gateway app would run it: a reader's snapshot does not
    # move while a writer commits; savepoints undo exactly their rows; both
    # mirrored on a plain table.
    wal = os.path.join(tmp, "wal.db")
    w = connect(wal)
    w.isolation_level = None  # explicit BEGIN/SAVEPOINT, as the app manages them
    eq("journal_mode=wal", w.execute("PRAGMA journal_mode=wal").fetchone()[0], "wal")
    w.execute("CREATE VIRTUAL TABLE m USING timeseries(dev DIMENSION, temp DOUBLE)")
    w.execute("CREATE TABLE mp(time INTEGER, dev TEXT, temp REAL)")

    def put(t, dev, v):
        w.execute("INSERT INTO m(time, dev, temp) VALUES (?, ?, ?)", (t, dev, v))
        w.execute("INSERT INTO mp VALUES (?, ?, ?)", (iso_ns(t), dev, v))
    put("2024-05-01T10:00:00Z", "d1", 20.5)
    r = connect(wal)
    r.isolation_level = None
    r.execute("BEGIN")
    snap = r.execute("SELECT count(*), sum(temp) FROM m").fetchone()
    put("2024-05-01T10:01:00Z", "d1", 21.0)
    eq("WAL reader snapshot unchanged by a later commit", r.execute("SELECT count(*), sum(temp) FROM m").fetchone(), snap)
    r.execute("COMMIT")
    eq("WAL reader sees the commit after its snapshot", r.execute("SELECT count(*), sum(temp) FROM m").fetchone(), (2, 41.5))
    w.execute("BEGIN")
    w.execute("SAVEPOINT a")
    put("2024-05-01T10:02:00Z", "d2", 1.25)
    w.execute("SAVEPOINT b")
    put("2024-05-01T10:03:00Z", "d2", 2.5)
    put("2024-05-01T10:04:00Z", "d3", 5.0)
    w.execute("ROLLBACK TO b")
    put("2024-05-01T10:05:00Z", "d2", 3.75)
    w.execute("RELEASE a")
    w.execute("COMMIT")
    q = "SELECT time, dev, temp FROM %s ORDER BY time"
    eq("savepoints: timeseries table equals the plain table", w.execute(q % "m").fetchall(), w.execute(q % "mp").fetchall())
    eq("savepoints: exactly the rows outside the rolled back savepoint",
       [(d, v) for _, d, v in r.execute(q % "m").fetchall()], [("d1", 20.5), ("d1", 21.0), ("d2", 1.25), ("d2", 3.75)])
    w.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    r.close()
    w.close()
    w = connect(wal)
    eq("WAL database reopened after a checkpoint", w.execute("SELECT count(*), sum(temp), ts_check('m') FROM m").fetchone(),
       (4, 46.5, "ok"))
    w.close()

    # 9. detect_types=PARSE_DECLTYPES: Python picks converters by the declared
    # column types (time INTEGER, measures DOUBLE/BIGINT/VARCHAR/BOOLEAN/
    # TIMESTAMP).  Python's built-in "timestamp" converter expects
    # 'YYYY-MM-DD hh:mm:ss' text and fails on INTEGER ns, so an app that
    # uses PARSE_DECLTYPES registers its own TIMESTAMP (and BOOLEAN) converters.
    typed_path = os.path.join(tmp, "typed.db")
    sqlite3.register_converter("TIMESTAMP", lambda b: ("ns", int(b)))
    sqlite3.register_converter("BOOLEAN", lambda b: bool(int(b)))
    c = sqlite3.connect(typed_path, detect_types=sqlite3.PARSE_DECLTYPES)
    c.enable_load_extension(True)
    c.load_extension(EXT)
    c.execute("SELECT ts_debug_set_now(?)", (NOW,))
    c.execute("CREATE VIRTUAL TABLE ev USING timeseries(dev DIMENSION, seen TIMESTAMP, on_ BOOLEAN, n BIGINT)")
    c.execute("INSERT INTO ev(time, dev, seen, on_, n) VALUES ('2024-05-01T11:00:00Z', 'd', '2024-01-02T03:04:05.000000006Z', 1, 7)")
    c.commit()
    eq("PARSE_DECLTYPES: converters chosen by the declared types",
       c.execute("SELECT time, dev, measure_name, seen, on_, n FROM ev").fetchone(),
       (1714561200000000000, "d", "metrics", ("ns", 1704164645000000006), True, 7))
    c.close()
finally:
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(1 if fails else 0)
