#!/usr/bin/python3
"""Differential tests of the time-series and approximate functions against
independent Python implementations (fixed seeds): interpolation (linear,
natural cubic spline solved by dense Gaussian elimination, locf, fill),
derivative_linear, integral_trapezoidal, correlate_pearson/spearman,
create_time_series round trips, and the stated error of approx_percentile
(rank error <= 1% on 1M values) and approx_distinct (2.3% standard error)."""
import bisect, json, math, os, random, sqlite3, sys

import tshelp  # tests/py/tshelp.py
tshelp.asan_reexec(only_if_unset=True)

EXT = os.environ.get("TS_EXT")
SAN = os.environ.get("TS_SANITIZE") == "1"
fails = 0

def check(name, ok, why=""):
    global fails
    if ok:
        print("PASS " + name)
    else:
        fails += 1
        print("FAIL %s: %s" % (name, why))

if not EXT:
    print("SKIP func_oracle: TS_EXT not set (run through tests/run.sh)")
    sys.exit(0)
db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
db.load_extension(EXT)

def q1(sql, *args):
    return db.execute(sql, args).fetchone()[0]

def close(a, b, tol=1e-9):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))

def series_json(ts, vs):
    return json.dumps([{"time": t, "value": v} for t, v in zip(ts, vs)])

rng = random.Random(20240501)

# ---- oracles -------------------------------------------------------------
def o_linear(ts, vs, t):
    j = bisect.bisect_right(ts, t) - 1
    if j < 0: return None
    if ts[j] == t: return float(vs[j])
    if j >= len(ts) - 1: return None
    return vs[j] + (vs[j+1] - vs[j]) * ((t - ts[j]) / (ts[j+1] - ts[j]))

def o_locf(ts, vs, t):
    j = bisect.bisect_right(ts, t) - 1
    return None if j < 0 else vs[j]

def o_fill(ts, vs, t, c):
    j = bisect.bisect_right(ts, t) - 1
    return vs[j] if j >= 0 and ts[j] == t else c

_spline_cache = {}
def o_spline(ts, vs, t):
    n = len(ts)
    j = bisect.bisect_right(ts, t) - 1
    if j < 0: return None
    if ts[j] == t: return float(vs[j])
    if j >= n - 1: return None
    if n < 3: return o_linear(ts, vs, t)
    key = (tuple(ts), tuple(vs))
    if key not in _spline_cache:
        _spline_cache.clear()
        _spline_cache[key] = spline_moments(ts, vs)
    x, h, M = _spline_cache[key]
    xx = (t - ts[0]) / 1e9
    a = x[j+1] - xx; b = xx - x[j]; hh = h[j]
    return (M[j] * a**3 + M[j+1] * b**3) / (6 * hh) + (vs[j] / hh - M[j] * hh / 6) * a \
        + (vs[j+1] / hh - M[j+1] * hh / 6) * b

def spline_moments(ts, vs):
    n = len(ts)
    x = [(ti - ts[0]) / 1e9 for ti in ts]
    h = [x[i+1] - x[i] for i in range(n - 1)]
    # Dense system for M[1..n-2], solved by Gaussian elimination with
    # partial pivoting (a different method from the C Thomas algorithm).
    m = n - 2
    A = [[0.0] * (m + 1) for _ in range(m)]
    for r in range(m):
        i = r + 1
        if r > 0: A[r][r-1] = h[i-1]
        A[r][r] = 2 * (h[i-1] + h[i])
        if r < m - 1: A[r][r+1] = h[i]
        A[r][m] = 6 * ((vs[i+1] - vs[i]) / h[i] - (vs[i] - vs[i-1]) / h[i-1])
    for c in range(m):
        p = max(range(c, m), key=lambda r: abs(A[r][c]))
        A[c], A[p] = A[p], A[c]
        for r in range(c + 1, m):
            f = A[r][c] / A[c][c]
            for k in range(c, m + 1):
                A[r][k] -= f * A[c][k]
    M = [0.0] * n
    for c in range(m - 1, -1, -1):
        s = A[c][m] - sum(A[c][k] * M[k+1] for k in range(c + 1, m))
        M[c+1] = s / A[c][c]
    return x, h, M

def ranks(a):
    idx = sorted(range(len(a)), key=lambda i: a[i])
    r = [0.0] * len(a)
    i = 0
    while i < len(a):
        j = i
        while j + 1 < len(a) and a[idx[j+1]] == a[idx[i]]: j += 1
        for k in range(i, j + 1): r[idx[k]] = (i + j) / 2 + 1
        i = j + 1
    return r

def o_pearson(x, y):
    n = len(x); mx = sum(x) / n; my = sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x); syy = sum((b - my) ** 2 for b in y)
    return None if sxx == 0 or syy == 0 else sxy / math.sqrt(sxx * syy)

# ---- random series -------------------------------------------------------
for trial in range(20):
    n = rng.choice([1, 2, 3, 5, 40, 120])
    base = 1700000000000000000
    ts = sorted(rng.sample(range(base, base + 10**12), n))
    vs = [rng.uniform(-100, 100) if rng.random() < 0.8 else rng.randint(-50, 50) for _ in range(n)]
    sj = series_json(ts, vs)
    req = sorted(set([rng.randint(base - 10**10, base + 10**12 + 10**10) for _ in range(60)] + rng.sample(ts, min(5, n))))
    reqj = json.dumps(req)
    for fn, oracle in (("interpolate_linear", o_linear), ("interpolate_spline_cubic", o_spline),
                       ("interpolate_locf", o_locf)):
        got = json.loads(q1("SELECT %s(?, ?)" % fn, sj, reqj))
        exp = [(t, oracle(ts, vs, t)) for t in req]
        exp = [(t, v) for t, v in exp if v is not None]
        ok = len(got) == len(exp) and all(g["time"] == t and close(g["value"], v, 1e-7) for g, (t, v) in zip(got, exp))
        check("%s random series %d (n=%d)" % (fn, trial, n), ok, "got %s... expected %s..." % (got[:3], exp[:3]))
        t1 = req[len(req) // 2]
        check("%s scalar %d" % (fn, trial), close(q1("SELECT %s(?, ?)" % fn, sj, t1), oracle(ts, vs, t1), 1e-7))
    got = json.loads(q1("SELECT interpolate_fill(?, ?, -999.5)", sj, reqj))
    check("interpolate_fill random series %d" % trial,
          [(g["time"], g["value"]) for g in got] == [(t, o_fill(ts, vs, t, -999.5)) for t in req])
    for iv, ivns in (("1s", 10**9), ("5m", 300 * 10**9), (12345, 12345)):
        got = json.loads(q1("SELECT derivative_linear(?, ?)", sj, iv))
        exp = [(ts[i], (vs[i] - vs[i-1]) * (ivns / (ts[i] - ts[i-1]))) for i in range(1, n)]
        ok = len(got) == len(exp) and all(g["time"] == t and close(g["value"], v) for g, (t, v) in zip(got, exp))
        check("derivative_linear %d %s" % (trial, iv), ok)
        got = json.loads(q1("SELECT non_negative_derivative_linear(?, ?)", sj, iv))
        check("non_negative_derivative_linear %d %s" % (trial, iv),
              [g["time"] for g in got] == [t for t, v in exp if v >= 0])
        exp = sum((vs[i-1] + vs[i]) / 2 * ((ts[i] - ts[i-1]) / ivns) for i in range(1, n))
        check("integral_trapezoidal %d %s" % (trial, iv), close(q1("SELECT integral_trapezoidal(?, ?)", sj, iv), exp, 1e-9))
    if n >= 2:
        ws = [round(v / 10) if trial % 2 else v * 0.5 + rng.gauss(0, 20) for v in vs]   # ties when rounded
        wj = series_json(ts, ws)
        check("correlate_pearson %d" % trial, close(q1("SELECT correlate_pearson(?, ?)", sj, wj), o_pearson(vs, ws), 1e-9))
        check("correlate_spearman %d" % trial, close(q1("SELECT correlate_spearman(?, ?)", sj, wj), o_pearson(ranks(vs), ranks(ws)), 1e-9))

# ---- create_time_series round trip (stable sort, types kept) ------------
db.execute("CREATE TABLE p(t INTEGER, v)")
rows = [(rng.randint(0, 50), rng.choice([rng.randint(-10**15, 10**15), rng.uniform(-1e6, 1e6), "s%d\"\\\n" % rng.randint(0, 9)])) for _ in range(3000)]
db.executemany("INSERT INTO p VALUES (?, ?)", rows)
got = json.loads(q1("SELECT create_time_series(t, v) FROM (SELECT * FROM p ORDER BY rowid)"))
exp = sorted(rows, key=lambda r: r[0])
check("create_time_series round trip of 3000 mixed rows",
      [(g["time"], g["value"]) for g in got] == exp)
back = db.execute("SELECT time, value FROM unnest((SELECT create_time_series(t, v) FROM (SELECT * FROM p ORDER BY rowid)))").fetchall()
check("unnest(create_time_series) gives the rows back with their types", back == exp)

# ---- approx_percentile: rank error <= 1% --------------------------------
N = 200000 if SAN else 1000000
db.execute("CREATE TABLE big(u REAL, k INTEGER)")
vals = [rng.random() * 1000 for _ in range(N)]
db.executemany("INSERT INTO big VALUES (?, ?)", ((v, i) for i, v in enumerate(vals)))
sv = sorted(vals)
worst = 0.0
ps = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999)
gots = db.execute("SELECT " + ", ".join("approx_percentile(u, %r)" % p for p in ps) + " FROM big").fetchone()
for p, got in zip(ps, gots):
    lo = bisect.bisect_left(sv, got); hi = bisect.bisect_right(sv, got)
    target = p * N
    err = 0.0 if lo <= target <= hi else min(abs(lo - target), abs(hi - target)) / N
    worst = max(worst, err)
    check("approx_percentile(%g) rank error %.4f%% <= 1%% on %d values" % (p, err * 100, N), err <= 0.01)
print("# approx_percentile worst rank error on %d values: %.4f%%" % (N, worst * 100))
got = db.execute("SELECT approx_percentile(k, 0.5), approx_percentile(k, 0), approx_percentile(k, 1) FROM big").fetchone()
check("approx_percentile on sorted integers: exact ends, median within 1%",
      got[1] == 0 and got[2] == N - 1 and abs(got[0] - N / 2) <= 0.01 * N, str(got))

# ---- approx_distinct: 2.3% standard error --------------------------------
cards = [5000, 100000] if SAN else [5000, 50000, 300000, 1000000]
gots = db.execute("SELECT " + ", ".join("approx_distinct(k %% %d)" % c for c in cards) + " FROM big").fetchone()
for card, got in zip(cards, gots):
    rel = abs(got - card) / card
    check("approx_distinct of %d distinct values: error %.2f%% < 3 x 2.3%%" % (card, rel * 100), rel < 0.069)
texts = q1("SELECT approx_distinct('host-' || (k % 20000)) FROM big")
check("approx_distinct of 20000 distinct TEXT values within 6.9%%", abs(texts - 20000) / 20000 < 0.069, str(texts))

sys.exit(1 if fails else 0)
