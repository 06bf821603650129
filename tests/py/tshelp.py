"""Shared start of the Python tests (tests/py/test_*.py import it first).

asan_reexec(): under the runner's ASan pass (tests/run.sh sets TS_PRELOAD to
libasan's path) the extension is built with ASan, so python must have
libasan preloaded before it loads the extension: re-exec the running test
once with LD_PRELOAD set (leak checks off: python's own allocations are not
ours).  Outside the ASan pass TS_PRELOAD is empty and nothing happens.

Checks(prefix): the PASS/FAIL protocol of tests/run.sh.  c.check(name, cond,
why) and c.eq(name, got, exp) print one line each ("PASS <prefix>name");
c.exit() ends the test with status 1 if any check failed.

The tests used two forms of the check; both are kept exactly:
  asan_reexec()                    re-exec unless LD_PRELOAD already holds
                                   libasan
  asan_reexec(only_if_unset=True)  re-exec only when LD_PRELOAD is unset
"""
import os
import sys


def asan_reexec(only_if_unset=False):
    pre = os.environ.get("TS_PRELOAD")
    if not pre:
        return
    cur = os.environ.get("LD_PRELOAD")
    if (cur if only_if_unset else "libasan" in (cur or "")):
        return
    env = dict(os.environ, LD_PRELOAD=pre, ASAN_OPTIONS="detect_leaks=0:abort_on_error=1")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


class Checks:
    def __init__(self, prefix=""):
        self.prefix = prefix
        self.n_fail = 0

    def check(self, name, cond, why="condition false"):
        if cond:
            print(f"PASS {self.prefix}{name}")
        else:
            self.n_fail += 1
            print(f"FAIL {self.prefix}{name}: {why}")

    def eq(self, name, got, exp):
        self.check(name, got == exp, f"got {got!r}, expected {exp!r}")

    def exit(self):
        sys.exit(1 if self.n_fail else 0)


# The native timeseries_agg columns and the plain query's equivalents, in the
# same order (docs/sql-reference.md prints the pair), for measures MEAS
# [(name, type), ...].  bStats: without first/last, so whole chunks or blocks
# can be answered from statistics.
AGG_KINDS = ["count", "sum", "min", "max", "avg", "first", "last"]


def agg_native_cols(meas, bStats):
    cols = ["row_count", "first_time", "last_time"]
    for m, _ in meas:
        cols += ["%s_%s" % (m, a) for a in AGG_KINDS if not (bStats and a in ("first", "last"))]
    return cols


def agg_plain_cols(meas, bStats):
    cols = ["count(*)", "min(time)", "max(time)"]
    for m, _ in meas:
        cols += ["count(%s)" % m, "sum(%s)" % m, "min(%s)" % m, "max(%s)" % m, "avg(%s)" % m]
        if not bStats:
            cols += ["min_by(%s, time) FILTER (WHERE %s IS NOT NULL)" % (m, m),
                     "max_by(%s, time) FILTER (WHERE %s IS NOT NULL)" % (m, m)]
    return cols


def agg_rows_check(got, exp, nat, idx, order):
    """(ok, why): the native rows got and the plain rows exp are the same
    multiset, and got is in the ORDER BY order: order is [(column, desc)],
    idx maps a column name to its index, NULLs sort first.  nat (the native
    SQL) ends every message."""
    if sorted(got, key=repr) != sorted(exp, key=repr):
        sg, se = set(map(repr, got)), set(map(repr, exp))
        return False, "%d vs %d rows; only native: %s; only plain: %s\n  %s" % (
            len(got), len(exp), list(sg - se)[:2], list(se - sg)[:2], nat)
    for i in range(1, len(got)):
        a, b = got[i - 1], got[i]
        ka, kb = [], []
        for col, desc in order:
            x, y = a[idx[col]], b[idx[col]]
            x = (0, 0) if x is None else (1, x)
            y = (0, 0) if y is None else (1, y)
            if desc:
                x, y = y, x
            ka.append(x); kb.append(y)
        if ka > kb:
            return False, "row %d out of ORDER BY order: %r then %r\n  %s" % (i, a[:4], b[:4], nat)
    return True, ""
