#!/usr/bin/python3
"""Differential test of timeseries_agg on a tiered table (ext/agg_source.c:
the native path takes the cold tier's blocks and merges overlapping
stretches through the table's scan) against the plain query of the SQL
reference, on random data mostly tiered by ts_maintain: gaps, NULLs,
several measure names, a NULL dimension, series only in the cold tier,
late writes over cold rows (higher version, INSERT OR REPLACE at an equal
version, plain INSERT and INSERT OR IGNORE at an equal version), late rows
tiered by a second pass into objects that overlap the first ones, a
series across a row-group boundary, bucket widths aligned (1h, 1d) and not
aligned (7m, 7h, 1 ns) with the day objects and row groups, ASC/DESC, LIMIT, top-k and lastpoint.  ts_stats cold_reads shows
that a query of memory-tier time decodes no row group and that the native
path decodes no more row groups than the plain query (one scan for every
series, not one per series).  Values are multiples of 1/4: sums are exact.
"""
import json, os, random, shutil, sqlite3, sys, tempfile

import tshelp  # tests/py/tshelp.py
tshelp.asan_reexec(only_if_unset=True)

EXT = os.environ.get("TS_EXT")
NAME = "agg_cold"
c = tshelp.Checks(NAME + ": ")
if not EXT:
    print("SKIP %s: TS_EXT not set (run through tests/run.sh)" % NAME)
    sys.exit(0)

S = 10**9
NOW = 1714564800 * S            # 2024-05-01T12:00:00Z: the data spans two days
rng = random.Random(1819)
MEAS = [("v", "DOUBLE"), ("n", "BIGINT"), ("b", "BOOLEAN")]
DIMS = ["host", "dc"]


def nat_cols(bStats):
    return tshelp.agg_native_cols(MEAS, bStats)


def plain_cols(bStats):
    return tshelp.agg_plain_cols(MEAS, bStats)


def cold_reads(db):
    return json.loads(db.execute("SELECT ts_stats('t')").fetchone()[0])["cold_reads"]


def run_pair(db, label, width, where, params, order, bStats, limit=None):
    """The native query against the plain one; order: [(column, desc)].
    With a limit the ORDER BY must name every key column (a total order)."""
    wsql = [] if width is None else ["bucket_width = ?"]
    wpar = [] if width is None else [width]
    nwhere = " AND ".join(wsql + ([where] if where else []))
    osql = ", ".join("%s%s" % (col, " DESC" if d else "") for col, d in order)
    lsql = "" if limit is None else " LIMIT %d" % limit
    nat = "SELECT bucket, host, dc, measure_name, %s FROM t_agg%s%s%s" % (
        ", ".join(nat_cols(bStats)), " WHERE " + nwhere if nwhere else "",
        " ORDER BY " + osql if order else "", lsql)
    pl = "SELECT %s AS bucket, host, dc, measure_name, %s FROM t%s GROUP BY %shost, dc, measure_name%s%s" % (
        "NULL" if width is None else "bin(time, ?)", ", ".join(plain_cols(bStats)),
        " WHERE " + where if where else "", "" if width is None else "bucket, ",
        " ORDER BY " + osql if (order and limit is not None) else "", lsql)
    try:
        got = db.execute(nat, wpar + list(params)).fetchall()
    except sqlite3.Error as e:
        c.check(label, False, "native query failed: %s\n  %s" % (e, nat))
        return
    exp = db.execute(pl, wpar + list(params)).fetchall()
    if limit is not None:
        c.check(label, got == exp and len(exp) > 0, "%r\n  vs %r\n  %s" % (got[:3], exp[:3], nat))
        return
    idx = {"bucket": 0, "host": 1, "dc": 2, "measure_name": 3}
    ok, why = tshelp.agg_rows_check(got, exp, nat, idx, order or [])
    if ok and not exp:
        ok, why = False, "no rows: the case tests nothing\n  %s" % nat
    c.check(label, ok, why)


tmp = tempfile.mkdtemp(prefix="tslite-aggcold-")
try:
    cold = os.path.join(tmp, "cold")
    os.mkdir(cold)
    db = sqlite3.connect(os.path.join(tmp, "aggcold.db"), isolation_level=None)
    db.enable_load_extension(True)
    db.load_extension(EXT)
    db.execute("SELECT ts_debug_set_now(?)", (NOW,))
    db.execute("CREATE VIRTUAL TABLE t USING timeseries(host DIMENSION, dc DIMENSION, v DOUBLE, n BIGINT, "
               "b BOOLEAN, memory_retention = '1h', magnetic_writes = true, storage = 'file://%s')" % cold)
    db.execute("CREATE VIRTUAL TABLE t_agg USING timeseries_agg(t)")

    # Random series over 30 h (two days): gaps, NULLs; series "old" ends
    # 5 h ago (only in the cold tier after tiering).
    series = [(h, dc, mn) for h in ("a", "b", "c", "d") for dc in ("x", None) for mn in ("cpu", "mem", "io")
              if rng.random() < 0.7] + [("old", "x", "cpu")]
    keys = {}
    rows = []
    for (h, dc, mn) in series:
        t = NOW - 30 * 3600 * S + rng.randrange(0, 3600) * S
        end = NOW - 5 * 3600 * S if h == "old" else NOW - S
        while True:
            t += rng.choice([10, 10, 30, 60, 120]) * S + rng.choice([0, 0, 0, 1, 999])
            if rng.random() < 0.002:
                t += rng.randrange(1, 4 * 3600) * S      # a gap
            if t > end:
                break
            v = None if rng.random() < 0.1 else rng.randrange(-4000, 4000) / 4
            n = None if rng.random() < 0.1 else rng.randrange(-10**6, 10**6)
            b = None if rng.random() < 0.3 else rng.randrange(0, 2)
            if v is None and n is None and b is None:
                v = 0.25
            rows.append((t, h, dc, mn, v, n, b))
            keys[(t, h, dc, mn)] = 1
    db.execute("BEGIN")
    db.executemany("INSERT INTO t(time, host, dc, measure_name, v, n, b) VALUES(?,?,?,?,?,?,?)", rows)
    db.execute("COMMIT")
    db.execute("SELECT ts_maintain('t')")
    nmem = db.execute("SELECT coalesce(sum(nrow), 0) FROM t_chunks").fetchone()[0]
    ncold, nobj = db.execute("SELECT coalesce(sum(nrow), 0), count(*) FROM t_objects").fetchone()
    c.check("ts_maintain tiered most rows (%d cold in %d objects, %d memory)" % (ncold, nobj, nmem),
            ncold > 10 * nmem > 0 and nobj >= 4)

    # Reads: memory-tier time decodes nothing cold; the whole range decodes
    # no more row groups natively than the plain query does.
    r0 = cold_reads(db)
    got = db.execute("SELECT count(*), sum(row_count) FROM t_agg WHERE bucket_width = '5m' AND time > ?",
                     (NOW - 1800 * S,)).fetchone()
    exp = db.execute("SELECT count(*) FROM t WHERE time > ?", (NOW - 1800 * S,)).fetchone()[0]
    r1 = cold_reads(db)
    c.check("a query of memory-tier time reads no cold object and decodes no row group (%r)" % (r1,),
            got[1] == exp and r1["row_groups"] == r0["row_groups"] and r1["objects"] == r0["objects"],
            "%r -> %r, %r vs %r" % (r0, r1, got, exp))
    got = db.execute("SELECT sum(row_count) FROM t_agg('1h')").fetchone()[0]
    r2 = cold_reads(db)
    exp = db.execute("SELECT count(*) FROM (SELECT bin(time, '1h'), host, dc, measure_name, count(*) FROM t "
                     "GROUP BY 1, 2, 3, 4)").fetchone()[0]
    r3 = cold_reads(db)
    nNat, nPlain = r2["row_groups"] - r1["row_groups"], r3["row_groups"] - r2["row_groups"]
    c.check("the native path decodes no more row groups than the plain query (%d vs %d, %d series)"
            % (nNat, nPlain, len(series)), got == len(rows) and 0 < nNat <= nPlain, "%r rows" % got)

    widths = [None, 1, "1s", "7m", "1h", "7h", "1d", 10**9 * 3600 * 24 * 400]
    ranges = [("", []), ("time >= ? AND time < ?", [NOW - 20 * 3600 * S + 12345, NOW - 1800 * S]),
              ("time > ?", [NOW - 12 * 3600 * S - 7]), ("time <= ?", [NOW - 26 * 3600 * S]),
              ("time BETWEEN ? AND ?", [NOW - 2 * 3600 * S, NOW - 30 * 60 * S])]
    filters = [("", []), ("host = ?", ["b"]), ("host IN (?, ?)", ["a", "old"]), ("measure_name = ?", ["mem"]),
               ("dc = ?", ["x"])]
    orders = [[], [("bucket", 0)], [("bucket", 1)], [("bucket", 0), ("host", 0), ("dc", 0), ("measure_name", 0)],
              [("bucket", 1), ("host", 1)], [("host", 0), ("bucket", 0)], [("measure_name", 1), ("dc", 0)]]

    def sweep(label, p):
        for w in widths:
            for (rw, rp) in ranges:
                for (fw, fp) in filters:
                    if rng.random() > p and not (rw == "" and fw == ""):
                        continue
                    where = " AND ".join(x for x in (rw, fw) if x)
                    order = rng.choice(orders)
                    for bStats in (0, 1):
                        run_pair(db, "%s: w=%s %s %s order=%s%s" % (label, w, rw or "all", fw or "-", order,
                                                                    " (no first/last)" if bStats else ""),
                                 w, where, rp + fp, order, bStats)
        for w in ("1h", "7m"):
            full = [("bucket", 1), ("host", 0), ("dc", 0), ("measure_name", 0)]
            run_pair(db, "%s: LIMIT 7 w=%s ORDER BY bucket DESC, ..." % (label, w), w, "", [], full, 0, 7)
            full = [("bucket", 0), ("host", 1), ("dc", 1), ("measure_name", 1)]
            run_pair(db, "%s: LIMIT 9 w=%s ORDER BY bucket, ... DESC" % (label, w), w, "host = ?", ["c"], full, 1, 9)
        got = db.execute("SELECT bucket, max(v_max) FROM t_agg WHERE bucket_width = '17m' AND time < ? "
                         "GROUP BY bucket ORDER BY bucket DESC LIMIT 5", (NOW - 7 * 3600 * S,)).fetchall()
        exp = db.execute("SELECT bin(time, '17m') AS m, max(v) FROM t WHERE time < ? "
                         "GROUP BY m ORDER BY m DESC LIMIT 5", (NOW - 7 * 3600 * S,)).fetchall()
        c.check("%s: top-k GROUP BY bucket ORDER BY bucket DESC LIMIT 5" % label, got == exp and len(exp) == 5,
                "%r vs %r" % (got, exp))
        for where, par in [("", []), (" WHERE time < ?", [NOW - 6 * 3600 * S]), (" WHERE host = ?", ["old"])]:
            got = db.execute("SELECT host, dc, measure_name, last_time, v_last, n_last FROM t_agg%s "
                             "ORDER BY host, dc, measure_name" % where, par).fetchall()
            exp = db.execute("SELECT host, dc, measure_name, max(time), max_by(v, time) FILTER (WHERE v IS NOT NULL), "
                             "max_by(n, time) FILTER (WHERE n IS NOT NULL) FROM t%s GROUP BY host, dc, measure_name "
                             "ORDER BY host, dc, measure_name" % where, par).fetchall()
            c.check("%s: lastpoint%s (%d series)" % (label, where, len(exp)), got == exp and len(exp) > 0,
                    "%r vs %r" % (got[:2], exp[:2]))

    sweep("tiered", 0.12)

    # Late writes over cold rows, each resolved by the record rule: a higher
    # version wins, INSERT OR REPLACE wins at an equal version, a plain
    # INSERT or INSERT OR IGNORE at an equal version loses to the cold row.
    cold_keys = [k for k in keys if k[0] < NOW - 2 * 3600 * S]
    picks = rng.sample(cold_keys, 400)
    db.execute("BEGIN")
    for i, (t, h, dc, mn) in enumerate(picks):
        v, n = rng.randrange(-400, 400) / 4, rng.randrange(-100, 100)
        kind = i % 4
        if kind == 0:
            db.execute("INSERT INTO t(time, host, dc, measure_name, v, n, version) VALUES(?,?,?,?,?,?,2)",
                       (t, h, dc, mn, v, n))
        elif kind == 1:
            db.execute("INSERT OR REPLACE INTO t(time, host, dc, measure_name, v, n) VALUES(?,?,?,?,?,?)",
                       (t, h, dc, mn, v, n))
        elif kind == 2:
            db.execute("INSERT INTO t(time, host, dc, measure_name, v, n) VALUES(?,?,?,?,?,?)", (t, h, dc, mn, v, n))
        else:
            db.execute("INSERT OR IGNORE INTO t(time, host, dc, measure_name, v, n) VALUES(?,?,?,?,?,?)",
                       (t, h, dc, mn, v, n))
    # new late rows between cold rows (no key collision)
    for (t, h, dc, mn) in rng.sample(cold_keys, 300):
        if (t + 1, h, dc, mn) not in keys:
            db.execute("INSERT INTO t(time, host, dc, measure_name, v, b) VALUES(?,?,?,?,?,1)",
                       (t + 1, h, dc, mn, rng.randrange(-40, 40) / 4))
    db.execute("COMMIT")

    # The rule on four chosen keys, with exact values.
    t0 = NOW - 20 * 3600 * S + 3
    db.execute("BEGIN")
    for k, h in enumerate(("r1", "r2", "r3", "r4")):
        db.execute("INSERT INTO t(time, host, measure_name, v) VALUES(?, ?, 'cpu', 1.0)", (t0, h))
        db.execute("INSERT INTO t(time, host, measure_name, v) VALUES(?, ?, 'cpu', 5.0)", (t0 + 60 * S, h))
    db.execute("COMMIT")
    db.execute("SELECT ts_maintain('t')")
    db.execute("INSERT INTO t(time, host, measure_name, v, version) VALUES(?, 'r1', 'cpu', 2.0, 2)", (t0,))
    db.execute("INSERT OR REPLACE INTO t(time, host, measure_name, v) VALUES(?, 'r2', 'cpu', 2.0)", (t0,))
    db.execute("INSERT INTO t(time, host, measure_name, v) VALUES(?, 'r3', 'cpu', 2.0)", (t0,))
    db.execute("INSERT OR IGNORE INTO t(time, host, measure_name, v) VALUES(?, 'r4', 'cpu', 2.0)", (t0,))
    got = db.execute("SELECT host, row_count, v_sum, v_first, v_last FROM t_agg WHERE host IN ('r1', 'r2', 'r3', 'r4') "
                     "ORDER BY host").fetchall()
    c.eq("late writes over cold rows follow the record rule (version, REPLACE, equal version)", got,
         [("r1", 2, 7.0, 2.0, 5.0), ("r2", 2, 7.0, 2.0, 5.0), ("r3", 2, 6.0, 1.0, 5.0), ("r4", 2, 6.0, 1.0, 5.0)])
    sweep("late writes in memory over cold rows", 0.08)

    # A second tiering pass moves the late rows into objects of the same
    # days and buckets as the first ones: cold blocks overlap cold blocks.
    nobj0 = db.execute("SELECT count(*) FROM t_objects").fetchone()[0]
    db.execute("SELECT ts_debug_set_now(?)", (NOW + 60 * S,))
    db.execute("SELECT ts_maintain('t')")
    db.execute("SELECT ts_debug_set_now(?)", (NOW,))
    nobj1 = db.execute("SELECT count(*) FROM t_objects").fetchone()[0]
    nlate = db.execute("SELECT coalesce(sum(nrow), 0) FROM t_chunks WHERE tmax < ?", (NOW - 2 * 3600 * S,)).fetchone()[0]
    c.check("the second pass tiered the late rows (%d -> %d objects, %d late rows left in memory)"
            % (nobj0, nobj1, nlate), nlate == 0 and nobj1 >= nobj0)
    got = db.execute("SELECT host, row_count, v_sum, v_first, v_last FROM t_agg WHERE host IN ('r1', 'r2', 'r3', 'r4') "
                     "ORDER BY host").fetchall()
    c.eq("after the second pass the record rule holds across objects", got,
         [("r1", 2, 7.0, 2.0, 5.0), ("r2", 2, 7.0, 2.0, 5.0), ("r3", 2, 6.0, 1.0, 5.0), ("r4", 2, 6.0, 1.0, 5.0)])
    sweep("late rows tiered into overlapping objects", 0.08)

    # A series across a row-group boundary: 80,000 rows of one day in one
    # object make two row groups (65,536 rows at most, cold-format.md), the
    # boundary inside series b's run; buckets straddle it.
    db.execute("CREATE VIRTUAL TABLE g USING timeseries(host DIMENSION, v DOUBLE, k BIGINT, memory_retention = '1h', "
               "magnetic_writes = true, storage = 'file://%s')" % cold)
    db.execute("CREATE VIRTUAL TABLE g_agg USING timeseries_agg(g)")
    g0 = NOW - 12 * 3600 * S
    grows = [(g0 + i * S // 2, h, None if i % 97 == 0 else (i % 400) / 4, i) for h in ("a", "b") for i in range(40000)]
    db.execute("BEGIN")
    db.executemany("INSERT INTO g(time, host, v, k) VALUES(?,?,?,?)", grows)
    db.execute("COMMIT")
    db.execute("SELECT ts_maintain('g')")
    gst = lambda: json.loads(db.execute("SELECT ts_stats('g')").fetchone()[0])["cold_reads"]["row_groups"]
    n0 = gst()
    db.execute("SELECT count(*) FROM g WHERE host = 'b'").fetchone()
    c.check("series b spans two row groups of one object (%d decoded)" % (gst() - n0), gst() - n0 >= 2)
    for w, where, par, desc in [(None, "", [], 0), ("1s", "", [], 0), ("7s", "host = ?", ["b"], 1),
                                ("17m", "", [], 1), ("1h", "time > ?", [g0 + 15000 * S], 0),
                                ("3m", "time BETWEEN ? AND ?", [g0 + 16000 * S + 3, g0 + 16500 * S], 1)]:
        nw = " AND ".join((["bucket_width = ?"] if w else []) + ([where] if where else []))
        got = db.execute("SELECT bucket, host, row_count, v_count, v_sum, v_min, v_max, v_first, v_last FROM g_agg%s "
                         "ORDER BY bucket%s, host" % (" WHERE " + nw if nw else "", " DESC" if desc else ""),
                         ([w] if w else []) + par).fetchall()
        exp = db.execute("SELECT %s AS bucket, host, count(*), count(v), sum(v), min(v), max(v), "
                         "min_by(v, time) FILTER (WHERE v IS NOT NULL), max_by(v, time) FILTER (WHERE v IS NOT NULL) "
                         "FROM g%s GROUP BY bucket, host ORDER BY bucket%s, host"
                         % ("bin(time, ?)" if w else "NULL", " WHERE " + where if where else "", " DESC" if desc else ""),
                         ([w] if w else []) + par).fetchall()
        c.check("across a row-group boundary: w=%s %s%s (%d rows)" % (w, where or "all", " DESC" if desc else "", len(exp)),
                got == exp and len(exp) > 0, next(("%r vs %r" % (x, y) for x, y in zip(got, exp) if x != y),
                                                  "%d vs %d rows" % (len(got), len(exp))))
    # Newest first, answered by the memory tier: series b's newest row is
    # in memory, its cold run crosses the row-group boundary (listing its
    # blocks would decode both row groups): nothing cold is decoded.
    db.execute("INSERT INTO g(time, host, v, k) VALUES(?, 'b', 1.5, 1)", (NOW - 600 * S,))
    n0 = gst()
    got = db.execute("SELECT host, last_time, v_last, k_last FROM g_agg WHERE host = 'b'").fetchall()
    got2 = db.execute("SELECT bucket, row_count, v_sum FROM g_agg WHERE bucket_width = '1m' AND host = 'b' "
                      "ORDER BY bucket DESC LIMIT 1").fetchall()
    n1 = gst()
    c.check("lastpoint and newest-first LIMIT answered by the memory tier decode no cold row group (%d)" % (n1 - n0),
            got == [("b", NOW - 600 * S, 1.5, 1)] and got2 == [((NOW - 600 * S) // (60 * S) * 60 * S, 1, 1.5)]
            and n1 == n0, "%r %r" % (got, got2))
    got = db.execute("SELECT bucket, host, row_count, v_sum FROM g_agg WHERE bucket_width = '1h' "
                     "ORDER BY bucket DESC, host LIMIT 3").fetchall()
    exp = db.execute("SELECT bin(time, '1h') AS bucket, host, count(*), sum(v) FROM g GROUP BY bucket, host "
                     "ORDER BY bucket DESC, host LIMIT 3").fetchall()
    c.check("newest-first LIMIT reaching into the cold tier", got == exp and len(exp) == 3, "%r vs %r" % (got, exp))

    # A cold object that cannot be read fails the query with its key.
    gkeys = [r[0] for r in db.execute("SELECT key FROM g_objects")]
    for k in gkeys:
        os.rename(os.path.join(cold, k), os.path.join(cold, k) + ".gone")
    try:
        db.execute("SELECT sum(row_count) FROM g_agg('1h')").fetchall()
        c.check("an unreadable cold object fails the native query", False, "no error")
    except sqlite3.Error as e:
        c.check("an unreadable cold object fails the native query naming it (%s)" % str(e)[:120],
                str(e).startswith("g_agg: timeseries g: reading cold object g/date=") and
                any(k in str(e) for k in gkeys), str(e))
    for k in gkeys:
        os.rename(os.path.join(cold, k) + ".gone", os.path.join(cold, k))
    db.close()
finally:
    shutil.rmtree(tmp, ignore_errors=True)
c.exit()
