"""docs/using.md's Python snippet on Debian's /usr/bin/python3: run as shown
(with /usr/local/lib/tslite replaced by this build's extension) and its output
compared with the doc's block; then the README tour's flow from Python with
text times and integer times, a read back by ISO-8601 bound, and ts_unload to
a local directory (CSV, rows counted back)."""
import contextlib
import io
import json
import os
import re
import sqlite3
import sys
import tempfile

import tshelp  # tests/py/tshelp.py
tshelp.asan_reexec()

n_fail = 0


def eq(name, got, exp):
    global n_fail
    if got == exp:
        print(f"PASS using_py: {name}")
    else:
        n_fail += 1
        print(f"FAIL using_py: {name}: got {got!r}, expected {exp!r}")


root = os.environ.get("TS_ROOT") or os.path.join(os.path.dirname(__file__), "..", "..")
ext = os.environ.get("TS_EXT") or os.path.join(root, "build", "tslite")
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    print("SKIP using_py: this python's sqlite3 cannot load extensions")
    sys.exit(0)
print(f"# python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")

doc = open(os.path.join(root, "docs", "using.md"), encoding="utf-8").read()
m = re.search(r"<!-- snippet: using\.py -->\n```python\n(.*?)```.*?```text\n(.*?)```", doc, re.S)
if not m:
    eq("docs/using.md has a using.py snippet and output block", False, True)
    sys.exit(1)
code, expected = m.group(1), m.group(2)
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    exec(compile(code.replace("/usr/local/lib/tslite", ext), "using.py", "exec"), {})
eq("snippet prints what docs/using.md shows", buf.getvalue(), expected)

CSV = ["1714564800000000000,host_0,58.1", "1714564860000000000,host_1,12.0",
       "1714564980000000000,host_0,61.9", "1714565250000000000,host_0,40.0"]
with tempfile.TemporaryDirectory() as d:
    db = sqlite3.connect(os.path.join(d, "t.db"))
    db.enable_load_extension(True)
    db.load_extension(ext)
    db.execute("SELECT ts_debug_set_now('2024-05-01T12:30:00Z')")
    db.execute("CREATE VIRTUAL TABLE cpu USING timeseries(hostname DIMENSION, region DIMENSION,"
               " usage_user DOUBLE, usage_system DOUBLE, memory_retention = '6h')")
    with db:
        db.executemany("INSERT INTO cpu(time, hostname, region, usage_user, usage_system)"
                       " VALUES (?, ?, ?, ?, ?)", [
                           ("2024-05-01T12:00:00Z", "host_0", "eu-west-1", 58.1, 2.0),
                           (1714564980000000000, "host_0", "eu-west-1", 61.9, 2.5),
                           ("2024-05-01T12:07:30Z", "host_0", "eu-west-1", 40.0, 1.0),
                           (1714564860000000000, "host_1", "us-east-1", 12.0, 0.5),
                       ])
    eq("five-minute averages", db.execute(
        "SELECT to_iso8601(bin(time, '5m')), hostname, avg(usage_user) FROM cpu"
        " WHERE time >= ago('1h') GROUP BY 1, 2 ORDER BY 1, 2").fetchall(),
        [("2024-05-01T12:00:00.000000000Z", "host_0", 60.0),
         ("2024-05-01T12:00:00.000000000Z", "host_1", 12.0),
         ("2024-05-01T12:05:00.000000000Z", "host_0", 40.0)])
    eq("ISO-8601 bound (time > from_iso8601_timestamp(text))", db.execute(
        "SELECT time, hostname FROM cpu WHERE time > from_iso8601_timestamp('2024-05-01T12:02:00Z')"
        " ORDER BY time").fetchall(),
        [(1714564980000000000, "host_0"), (1714565250000000000, "host_0")])
    eq("integer time bound, exact 61-bit ints", db.execute(
        "SELECT time FROM cpu WHERE time BETWEEN ? AND ? ORDER BY time",
        (1714564800000000000, 1714564860000000000)).fetchall(),
        [(1714564800000000000,), (1714564860000000000,)])
    out = os.path.join(d, "export")
    r = json.loads(db.execute("SELECT ts_unload('SELECT time, hostname, usage_user FROM cpu ORDER BY time',"
                              " ?, '{\"format\":\"csv\",\"compression\":\"none\"}')",
                              ("file://" + out,)).fetchone()[0])
    eq("ts_unload rows", r.get("rows"), 4)
    lines = []
    for dp, _, fs in os.walk(out):
        for f in fs:
            if f.endswith(".csv"):
                lines += open(os.path.join(dp, f), encoding="utf-8").read().splitlines()
    eq("ts_unload CSV lines", sorted(lines), CSV)
    db.close()
sys.exit(1 if n_fail else 0)
