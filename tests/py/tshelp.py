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
