"""The memory tier's chunk-size rule for appends (write.c tailAppend,
docs/internals/transactions.md "Flushing one series"): rows after a series' last
chunk become new chunks and take along only the newest small chunks (fewer
than 512 rows) that are no larger than the rows taken so far; at most 8
small chunks trail a series.

Deterministic part: per series a different pattern of commits (1-row
commits, 1000-row commits, mixed sizes with upserts into the last chunk,
out-of-order rows into gaps); after each pattern the rows equal an oracle
exactly, small chunks are only the trailing ones and at most 8 per series,
chunks of 1000-row commits are never rewritten (their ids survive), and
ts_check says ok.

Crash part: a child process commits transactions of varying sizes and is
killed with SIGKILL at a random instant, again and again on one database
(20 kills; 8 under ASan).  After each kill the table holds exactly the
transactions reported committed (plus at most the next one, whole), every
row equal to the oracle, the small-chunk bound holds and ts_check says ok.
"""
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

import tshelp  # tests/py/tshelp.py
tshelp.asan_reexec()

c = tshelp.Checks("chunk_tail: ")
ext = os.environ.get("TS_EXT") or os.path.join(os.path.dirname(__file__), "..", "..", "build", "tslite")
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    print("SKIP chunk_tail: this python's sqlite3 cannot load extensions")
    sys.exit(0)

NOW = 1714564800000000000   # 2024-05-01T12:00:00Z
MS = 1000000
T0 = NOW - 5 * 3600 * 1000 * MS
SMALL, TAIL_MAX = 512, 8
SIZES = [1, 3, 17, 200, 1, 1, 600, 5, 40, 999, 2, 130]   # rows per series per commit


def connect(path):
    con = sqlite3.connect(path, isolation_level=None, timeout=10)
    con.enable_load_extension(True)
    con.load_extension(ext)
    con.execute("SELECT ts_debug_set_now(?)", (NOW,))
    return con


def sid_of(con, h):
    return con.execute("SELECT id FROM t_series WHERE d0=?", (h,)).fetchone()[0]


def value(t):
    return (t // MS) * 7 % 100003


def chunk_shape(con, table):
    """{series key: [nrow, ...] in time order}, and the chunk ids per series."""
    shape, ids = {}, {}
    for sid, cid, n in con.execute(f"SELECT sid, id, nrow FROM {table}_chunks ORDER BY sid, tmin"):
        shape.setdefault(sid, []).append(n)
        ids.setdefault(sid, []).append(cid)
    return shape, ids


def small_ok(shape):
    """'' when every series' small chunks are trailing and at most TAIL_MAX."""
    for sid, ns in shape.items():
        k = len(ns)
        while k > 0 and ns[k - 1] < SMALL:
            k -= 1
        if any(n < SMALL for n in ns[:k]):
            return f"series {sid}: a small chunk before a full one: {ns}"
        if len(ns) - k > TAIL_MAX:
            return f"series {sid}: {len(ns) - k} trailing small chunks: {ns[k:]}"
    return ""


def deterministic(d):
    con = connect(os.path.join(d, "det.db"))
    con.execute("PRAGMA synchronous=OFF")
    con.execute("CREATE VIRTUAL TABLE t USING timeseries(h DIMENSION, v BIGINT, w DOUBLE, s VARCHAR,"
                " measure_name = 'm')")
    oracle = {}   # (h, t) -> (v, w, s)

    def put(rows, conflict=""):
        con.execute("BEGIN")
        con.executemany(f"INSERT {conflict} INTO t(h, measure_name, time, v, w, s) VALUES(?, 'm', ?, ?, ?, ?)",
                        rows)
        con.execute("COMMIT")
        for h, t, v, w, s in rows:
            oracle[(h, t)] = (v, w, s)

    def row(h, t, tag=""):
        return (h, t, value(t), value(t) / 4.0, f"{h}{value(t) % 97}{tag}")

    # 'one': 1500 one-row commits
    for i in range(1500):
        put([row("one", T0 + i * MS)])
    # 'big': 6 commits of 1000 rows; the first five chunks keep their ids
    for i in range(6):
        put([row("big", T0 + (i * 1000 + j) * MS) for j in range(1000)])
        if i == 4:
            sid = sid_of(con, "big")
            before = [r[0] for r in con.execute("SELECT id FROM t_chunks WHERE sid=? ORDER BY tmin", (sid,))]
    after = [r[0] for r in con.execute("SELECT id FROM t_chunks WHERE sid=? ORDER BY tmin", (sid,))]
    c.eq("1000-row commits: one chunk each", len(after), 6)
    c.eq("1000-row commits: earlier chunks not rewritten", after[:5], before)
    # 'mix': varying sizes; each commit also replaces a row of the previous
    # commit (the last chunk, then the tail rule in one flush)
    t = T0
    for i in range(120):
        rows = [row("mix", t + j * MS) for j in range(SIZES[i % len(SIZES)])]
        if i > 0:
            rows.append(row("mix", t - MS, "-r"))
        put(rows, "OR REPLACE")
        t += SIZES[i % len(SIZES)] * MS
    # 'dec': ever smaller commits leave 8 small chunks; the 9th takes them all
    t = T0
    for n in [300, 200, 100, 50, 25, 12, 6, 3]:
        put([row("dec", t + j * MS) for j in range(n)])
        t += n * MS
    dec8 = chunk_shape(con, "t")[0][sid_of(con, "dec")]
    put([row("dec", t)])
    c.eq("8 trailing small chunks kept", dec8, [300, 200, 100, 50, 25, 12, 6, 3])
    c.eq("a 9th small chunk merges all of them", chunk_shape(con, "t")[0][sid_of(con, "dec")], [697])
    # 'gap': appends, then rows into the gaps (every second time first)
    put([row("gap", T0 + 2 * j * MS) for j in range(3000)])
    for i in range(30):
        put([row("gap", T0 + (2 * (i * 100 + j) + 1) * MS) for j in range(100)])

    got = {}
    for h, tt, v, w, s in con.execute("SELECT h, time, v, w, s FROM t"):
        got[(h, tt)] = (v, w, s)
    c.eq("rows equal the oracle", len(got), len(oracle))
    bad = [k for k in oracle if got.get(k) != oracle[k]]
    c.check("values equal the oracle", not bad, f"{len(bad)} differ, e.g. {bad[:3]}")
    shape, _ = chunk_shape(con, "t")
    c.eq("small chunks only trailing, at most 8 per series (append-only series)",
         small_ok({k: v for k, v in shape.items() if k != sid_of(con, "gap")}), "")
    one = shape[sid_of(con, "one")]
    c.check("1-row commits: chunk count bounded", len(one) <= 1500 // SMALL + TAIL_MAX + 1,
            f"{len(one)} chunks: {one}")
    c.check("1-row commits: chunks within 2*1024 rows", max(one) <= 2048, f"{one}")
    gap = shape[sid_of(con, "gap")]
    c.check("rows into gaps: chunk count bounded", len(gap) <= 6000 // SMALL + TAIL_MAX + 1, f"{gap}")
    c.eq("ts_check", con.execute("SELECT ts_check('t')").fetchone()[0], "ok")
    con.close()


WRITER = r"""
import os, sqlite3, sys
ext, path, NOW, T0, MS = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
SIZES = %r
con = sqlite3.connect(path, isolation_level=None, timeout=10)
con.enable_load_extension(True)
con.load_extension(ext)
con.execute("SELECT ts_debug_set_now(?)", (NOW,))
con.execute("CREATE VIRTUAL TABLE IF NOT EXISTS c USING timeseries(h DIMENSION, v BIGINT, txn BIGINT)")
i = con.execute("SELECT coalesce(max(txn), -1) + 1 FROM c").fetchone()[0]
while True:
    n = SIZES[i %% len(SIZES)]
    con.execute("BEGIN")
    con.executemany("INSERT INTO c(h, time, v, txn) VALUES(?, ?, ?, ?)",
                    [(f"h{k}", T0 + (i * 1000 + j) * MS, (i * 1000 + j) * 7 %% 100003, i)
                     for k in range(3) for j in range(n)])
    con.execute("COMMIT")
    print("commit", i, flush=True)
    i += 1
""" % (SIZES,)


def crash(d):
    path = os.path.join(d, "crash.db")
    wpath = os.path.join(d, "writer.py")
    with open(wpath, "w") as f:
        f.write(WRITER)
    asan = os.environ.get("TS_SANITIZE", "0") == "1"
    rounds = 8 if asan else 20
    rng = random.Random(int(os.environ.get("TS_SEED", "22")))
    last = -1
    for k in range(rounds):
        out = open(os.path.join(d, "out"), "w+")
        p = subprocess.Popen([sys.executable, wpath, ext, path, str(NOW), str(T0), str(MS)],
                             stdout=out, stderr=subprocess.STDOUT)
        time.sleep(rng.uniform(0.05, 0.3) * (3 if asan else 1))
        p.send_signal(signal.SIGKILL)
        p.wait()
        out.seek(0)
        text = out.read()
        out.close()
        if "Traceback" in text:
            c.check(f"round {k}: writer ran", False, text[-400:])
            return
        done = [int(line.split()[1]) for line in text.splitlines() if line.startswith("commit ")]
        if done:
            last = done[-1]
        con = connect(path)
        try:
            mx = con.execute("SELECT coalesce(max(txn), -1) FROM c").fetchone()[0]
            if mx < last or mx > last + 1:
                c.check(f"round {k}: committed transactions", False, f"reported {last}, table has up to {mx}")
                return
            # every row as the oracle has it, each key once, nothing missing
            # (in SQL: the table grows to ~10^5 rows over the rounds)
            sizes = ", ".join(f"({i}, {n})" for i, n in enumerate(SIZES))
            n_exp = 3 * sum(SIZES[i % len(SIZES)] for i in range(mx + 1))
            n, n_key, n_bad = con.execute(
                f"WITH z(k, n) AS (VALUES {sizes}),"
                f" r AS (SELECT h, time, v, txn, (time - {T0}) / {MS} AS o FROM c)"
                " SELECT count(*), count(DISTINCT h || ',' || time),"
                " count(*) FILTER (WHERE h NOT IN ('h0', 'h1', 'h2') OR (time - ?1) % ?2 != 0"
                "  OR v != o * 7 % 100003 OR txn != o / 1000"
                "  OR o % 1000 >= (SELECT n FROM z WHERE k = txn % ?3)) FROM r",
                (T0, MS, len(SIZES))).fetchone()
            if (n, n_key, n_bad) != (n_exp, n_exp, 0):
                c.check(f"round {k}: rows equal the oracle", False,
                        f"{n} rows ({n_key} keys, {n_bad} wrong), expected {n_exp}")
                return
            why = small_ok(chunk_shape(con, "c")[0])
            if why:
                c.check(f"round {k}: small-chunk bound", False, why)
                return
            chk = con.execute("SELECT ts_check('c')").fetchone()[0]
            if chk != "ok":
                c.check(f"round {k}: ts_check", False, chk)
                return
        finally:
            con.close()
        last = mx
    nrow = n
    c.check(f"kill -9 x{rounds}: rows equal the oracle, small chunks bounded, ts_check ok"
            f" ({last + 1} transactions, {nrow} rows)", True)


with tempfile.TemporaryDirectory() as d:
    deterministic(d)
    crash(d)
c.exit()
