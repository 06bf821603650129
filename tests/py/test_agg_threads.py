#!/usr/bin/python3
"""timeseries_agg under PRAGMA threads (ext/agg_par.c): worker threads
aggregate whole series from chunk bytes the connection's thread reads.

- Differential: on random data (12 series, gaps, NULLs, a column with NULLs
  in some chunks only, chunks of several sizes, full-precision doubles whose sums differ in the last bits if added
  in any other order), every query gives exactly the same rows, in the same
  order, with PRAGMA threads = 0, 1, 2 and 8; the exact columns (multiples
  of 1/4) also equal the plain query's.
- The parallel path is taken when it should be: a damaged chunk in the
  middle of the range is reported before the first row when the workers
  read every chunk ahead (threads > 0, many series), and after some rows in
  the serial walk (threads = 0, or a one-series query, which stays serial).
- sqlite3_interrupt from another thread and a progress handler that stops
  the query: the statement fails with "interrupted" or returns the full,
  correct rows, never a crash, a hang or a partial result; the connection
  works afterwards.
- A tiered table (the cold tier stays serial) gives the same rows at any
  threads setting.
"""
import os, random, sqlite3, sys, tempfile, shutil, threading, time

import tshelp  # tests/py/tshelp.py
tshelp.asan_reexec(only_if_unset=True)

EXT = os.environ.get("TS_EXT")
NAME = "agg_threads"
T = tshelp.Checks(NAME + ": ")
check = T.check

if not EXT:
    print("SKIP %s: TS_EXT not set (run through tests/run.sh)" % NAME)
    sys.exit(0)

NOW = 1714564800 * 10**9          # 2024-05-01T12:00:00Z
S = 10**9
H = 3600 * S
rng = random.Random(1819)
MEAS = ["q0", "q1", "f0", "f1", "f2"]   # q*: multiples of 1/4; f*: full precision


def connect(path):
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.enable_load_extension(True)
    db.load_extension(EXT)
    db.execute("SELECT ts_debug_set_now(?)", (NOW,))
    return db


tmp = tempfile.mkdtemp(prefix="tslite-aggthr-")
try:
    path = os.path.join(tmp, "thr.db")
    db = connect(path)
    got_threads = db.execute("PRAGMA threads=8").fetchone()[0]
    if got_threads < 2:
        print("SKIP %s: this SQLite grants no worker threads (PRAGMA threads=8 gives %d)" % (NAME, got_threads))
        sys.exit(0)
    db.execute("CREATE VIRTUAL TABLE t USING timeseries(host DIMENSION, dc DIMENSION, "
               "q0 DOUBLE, q1 DOUBLE, f0 DOUBLE, f1 DOUBLE, f2 DOUBLE, n BIGINT, b BOOLEAN, "
               "memory_retention = '48h')")
    db.execute("CREATE VIRTUAL TABLE t_agg USING timeseries_agg(t)")
    start = NOW - 40 * H
    series = [("h%02d" % i, rng.choice(["x", "y", None])) for i in range(12)]
    for (h, dc) in series:
        t = start + rng.randrange(0, H)
        rows = []
        walk = [rng.uniform(0, 100) for _ in range(3)]
        for i in range(rng.choice([6000, 10000, 14000])):
            t += rng.choice([10, 10, 10, 7, 60]) * S
            if rng.random() < 0.002:
                t += rng.randrange(1, 3 * 3600) * S      # a gap
            if t > NOW - S:
                break
            walk = [w + rng.gauss(0, 1) for w in walk]
            rows.append((t, h, dc,
                         None if rng.random() < 0.05 else rng.randrange(-4000, 4000) / 4,
                         rng.randrange(0, 400) / 4,
                         walk[0], None if rng.random() < 0.1 else walk[1],
                         # NULLs in some chunks only (a reused reader must not
                         # see another chunk's NULL flags)
                         None if (t // (12 * H)) % 2 == 0 and rng.random() < 0.3 else walk[2] * 1e-3,
                         None if rng.random() < 0.1 else rng.randrange(-10**6, 10**6),
                         None if rng.random() < 0.3 else rng.randrange(0, 2)))
        k = 0
        while k < len(rows):
            step = rng.choice([100, 1500, 4000])
            db.execute("BEGIN")
            db.executemany("INSERT INTO t(time, host, dc, q0, q1, f0, f1, f2, n, b) "
                           "VALUES(?,?,?,?,?,?,?,?,?,?)", rows[k:k + step])
            db.execute("COMMIT")
            k += step
    nrows = db.execute("SELECT count(*) FROM t").fetchone()[0]
    nchunks = db.execute("SELECT count(*) FROM t_chunks").fetchone()[0]
    check("random table: %d rows in %d chunks" % (nrows, nchunks), nrows > 50000 and nchunks > 40)
    tmin, tmax = db.execute("SELECT min(time), max(time) FROM t").fetchone()

    def nat_sql(width, where, order, cols):
        ws = ["bucket_width = ?"] if width is not None else []
        w = " AND ".join(ws + ([where] if where else []))
        return "SELECT bucket, host, dc, measure_name, %s FROM t_agg%s%s" % (
            ", ".join(cols), " WHERE " + w if w else "",
            " ORDER BY " + ", ".join(order) if order else "")

    def run_at(threads, sql, par):
        db.execute("PRAGMA threads=%d" % threads)
        return db.execute(sql, par).fetchall()

    full_cols = ["row_count", "first_time", "last_time"]
    for m in MEAS + ["n", "b"]:
        full_cols += ["%s_%s" % (m, k) for k in ("count", "sum", "min", "max", "avg", "first", "last")]
    widths = [None, "1s", "7m", "1h", "5h", "1d", 3600 * S + 1]
    lo = tmin + (tmax - tmin) // 5 + 12345
    hi = tmax - (tmax - tmin) // 7
    ranges = [("time >= ? AND time < ?", [lo, hi]), ("time BETWEEN ? AND ?", [tmin, tmax]),
              ("time > ? AND time <= ?", [tmin - 1, lo + 6 * H]),
              ("time >= ? AND time < ? AND dc = ?", [lo, hi, "x"]),
              ("time >= ? AND time < ? AND host IN (?, ?, ?)", [lo, hi, "h01", "h05", "h07"])]
    orders = [["bucket", "host", "dc"], [], ["host", "dc", "bucket"], ["bucket DESC"], ["dc DESC", "host"]]
    ncase = 0
    for w in widths:
        for (where, par) in ranges:
            order = rng.choice(orders)
            sql = nat_sql(w, where, order, full_cols)
            p = ([w] if w is not None else []) + par
            ref = run_at(0, sql, p)
            same = True
            why = ""
            for th in (1, 2, 8):
                got = run_at(th, sql, p)
                if got != ref:
                    same = False
                    why = "threads=%d: %d vs %d rows; first difference %r" % (
                        th, len(got), len(ref), next(((a, b) for a, b in zip(got, ref) if a != b), None))
                    break
            check("threads 0/1/2/8 give identical rows: w=%s %s order=%s (%d rows)" % (w, where, order, len(ref)),
                  same and len(ref) > 0, why)
            ncase += 1
    # The exact columns against the plain query (q* are multiples of 1/4).
    for w in ("1h", "17m"):
        where, par = ranges[0]
        nat = ("SELECT bucket, host, dc, row_count, q0_count, q0_sum, q0_min, q1_max, q1_avg, n_sum, n_last "
               "FROM t_agg WHERE bucket_width = ? AND %s ORDER BY bucket, host, dc" % where)
        pl = ("SELECT bin(time, ?) AS bucket, host, dc, count(*), count(q0), sum(q0), min(q0), max(q1), avg(q1), "
              "sum(n), max_by(n, time) FILTER (WHERE n IS NOT NULL) FROM t WHERE %s "
              "GROUP BY bucket, host, dc ORDER BY bucket, host, dc" % where)
        exp = db.execute(pl, [w] + par).fetchall()
        got = run_at(2, nat, [w] + par)
        check("threads=2 equals the plain query: w=%s (%d rows)" % (w, len(exp)), got == exp and len(exp) > 100,
              "%r vs %r" % (got[:2], exp[:2]))

    # A damaged chunk in the middle of the range: read ahead (threads > 0,
    # every series) it fails before the first row; the serial walk (threads
    # = 0, or one series) returns rows first.
    sid, vhost = db.execute("SELECT c.sid, s.d0 FROM t_chunks c JOIN t_series s ON s.id = c.sid "
                            "WHERE c.tmin >= ? AND c.tmax < ? GROUP BY c.sid ORDER BY count(*) DESC, c.sid LIMIT 1",
                            (lo, hi)).fetchone()
    chunks = db.execute("SELECT id, tmin, tmax FROM t_chunks WHERE sid = ? ORDER BY tmin", (sid,)).fetchall()
    inside = [c for c in chunks if c[1] >= lo and c[2] < hi]
    check("series %s has chunks inside the range (%d)" % (vhost, len(inside)), len(inside) >= 3)
    victim = inside[len(inside) // 2]
    blob = db.execute("SELECT data FROM t_chunks WHERE id = ?", (victim[0],)).fetchone()[0]
    bad = bytearray(blob)
    bad[len(bad) - 3] ^= 0x5a
    db.execute("UPDATE t_chunks SET data = ? WHERE id = ?", (bytes(bad), victim[0]))
    msg = "t_agg: damaged chunk %d in t_chunks: bad header or checksum" % victim[0]

    def first_then_error(threads, extra="", extra_par=()):
        db.execute("PRAGMA threads=%d" % threads)
        sql = ("SELECT bucket, host, %s FROM t_agg WHERE bucket_width = '1h' AND time >= ? "
               "AND time < ?%s ORDER BY bucket, host" % (", ".join(full_cols), extra))
        nfirst = 0
        try:
            cur = db.execute(sql, [lo, hi] + list(extra_par))
            while cur.fetchone() is not None:
                nfirst += 1
            return nfirst, None
        except sqlite3.Error as e:
            return nfirst, str(e)

    n0, e0 = first_then_error(0)
    check("serial walk: rows come before the damaged chunk's error", n0 > 0 and e0 == msg, "%d rows, %r" % (n0, e0))
    for th in (1, 2, 8):
        n2, e2 = first_then_error(th)
        check("threads=%d: the damaged chunk is reported by a worker before any row" % th,
              n2 == 0 and e2 == msg, "%d rows, %r" % (n2, e2))
    n1, e1 = first_then_error(2, " AND host = ?", [vhost])
    check("threads=2, one series: serial (rows before the error)", n1 > 0 and e1 == msg, "%d rows, %r" % (n1, e1))
    db.execute("UPDATE t_chunks SET data = ? WHERE id = ?", (blob, victim[0]))
    n3, e3 = first_then_error(2)
    check("threads=2 after the chunk is restored: no error", e3 is None and n3 > 0, repr(e3))

    # sqlite3_interrupt from another thread, at random moments.
    big = nat_sql("1h", ranges[1][0], ["bucket", "host", "dc"], full_cols)
    bpar = ["1h"] + ranges[1][1]
    ref = run_at(0, big, bpar)
    db.execute("PRAGMA threads=2")
    t0 = time.time()
    db.execute(big, bpar).fetchall()
    dur = time.time() - t0
    nint = nok = nbad = 0
    for i in range(40):
        delay = rng.uniform(0, dur * 1.2)
        timer = threading.Timer(delay, db.interrupt)
        timer.start()
        try:
            got = db.execute(big, bpar).fetchall()
            if got == ref:
                nok += 1
            else:
                nbad += 1
        except sqlite3.OperationalError as e:
            if "interrupted" in str(e):
                nint += 1
            else:
                nbad += 1
                print("  unexpected error: %s" % e)
        timer.join()
    check("sqlite3_interrupt during threads=2 queries: each run interrupted or complete and correct "
          "(%d interrupted, %d complete, %d wrong)" % (nint, nok, nbad), nbad == 0 and nint > 0 and nok > 0)
    got = run_at(2, big, bpar)
    check("the connection works after the interrupts", got == ref)

    # A progress handler stopping the query after k steps of SQLite's VM
    # (the connection's thread's statements: chunk references, blob reads).
    nint = nok = nbad = 0
    for k in [1, 2, 5, 20, 50, 100, 200, 400, 800, 1600, 3200, 6400, 12800]:
        calls = [0]

        def handler(calls=calls, k=k):
            calls[0] += 1
            return 1 if calls[0] >= k else 0
        db.set_progress_handler(handler, 10)
        try:
            got = db.execute(big, bpar).fetchall()
            nok += got == ref
            nbad += got != ref
        except sqlite3.OperationalError as e:
            nint += "interrupted" in str(e)
            nbad += "interrupted" not in str(e)
        db.set_progress_handler(None, 0)
    check("a progress handler stops threads=2 queries cleanly (%d stopped, %d complete, %d wrong)"
          % (nint, nok, nbad), nbad == 0 and nint > 0)
    check("the connection works after the progress handler", run_at(2, big, bpar) == ref)

    # A tiered table: the cold tier is read serially at any threads setting.
    cold = os.path.join(tmp, "cold")
    os.mkdir(cold)
    db.execute("CREATE VIRTUAL TABLE tc USING timeseries(host DIMENSION, v DOUBLE, n BIGINT, "
               "memory_retention = '2h', magnetic_writes = true, storage = 'file://%s')" % cold)
    db.execute("CREATE VIRTUAL TABLE tc_agg USING timeseries_agg(tc)")
    crow = []
    for h in ["c%d" % i for i in range(6)]:
        t = NOW - 12 * H
        while t < NOW - S:
            crow.append((t, h, rng.uniform(-100, 100), rng.randrange(-1000, 1000)))
            t += 10 * S
    db.execute("BEGIN")
    db.executemany("INSERT INTO tc(time, host, v, n) VALUES(?,?,?,?)", crow)
    db.execute("COMMIT")
    db.execute("SELECT ts_maintain('tc')")
    ncold = db.execute("SELECT coalesce(sum(nrow), 0) FROM tc_objects").fetchone()[0]
    q = ("SELECT bucket, host, row_count, v_sum, v_max, n_sum FROM tc_agg WHERE bucket_width = '1h' "
         "AND time >= ? AND time < ? ORDER BY bucket, host")
    cp = [NOW - 11 * H + 7, NOW - 60 * S]
    ref = run_at(0, q, cp)
    check("both tiers: threads=2 equals threads=0 (%d rows, %d cold)" % (len(ref), ncold),
          run_at(2, q, cp) == ref and len(ref) > 50 and ncold > 0)
    db.close()
finally:
    shutil.rmtree(tmp, ignore_errors=True)
T.exit()
