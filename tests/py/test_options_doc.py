"""The table options have one definition (ext/schema.c, aOpt[]): ts_options()
returns it, and this test checks that docs/sql-reference.md's option table is
exactly that list (same options, order, values and defaults), that a table
created without options stores every documented default in <t>_config, and
that the unknown-option error lists every option."""
import json
import os
import sqlite3
import sys

import tshelp  # tests/py/tshelp.py
tshelp.asan_reexec()

n_fail = 0


def check(name, cond, why="condition false"):
    global n_fail
    if cond:
        print(f"PASS options_doc: {name}")
    else:
        n_fail += 1
        print(f"FAIL options_doc: {name}: {why}")


def eq(name, got, exp):
    check(name, got == exp, f"got {got!r}, expected {exp!r}")


root = os.environ.get("TS_ROOT") or os.path.join(os.path.dirname(__file__), "..", "..")
ext = os.environ.get("TS_EXT") or os.path.join(root, "build", "tslite")
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    print("SKIP options_doc: this python's sqlite3 cannot load extensions")
    sys.exit(0)

# The documented table: the rows after "| option | values | default |".
doc = open(os.path.join(root, "docs", "sql-reference.md"), encoding="utf-8").read().split("\n")
start = doc.index("| option | values | default |")
documented = []
for line in doc[start + 2:]:
    if not line.startswith("|"):
        break
    cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
    documented.append(tuple(cells))

con = sqlite3.connect(":memory:")
con.enable_load_extension(True)
con.load_extension(ext)
opts = json.loads(con.execute("SELECT ts_options()").fetchone()[0])
table = [("`%s`" % o["name"], o["values"], o["default_doc"]) for o in opts]
check("at least the Timestream options", len(table) >= 6, f"{len(table)} options")
eq("docs/sql-reference.md option table == ts_options()", documented, table)

con.execute("SELECT ts_debug_set_now('2024-05-01T12:00:00Z')")
con.execute("CREATE VIRTUAL TABLE t USING timeseries(h DIMENSION, v DOUBLE)")
stored = dict(con.execute("SELECT k, v FROM t_config WHERE k NOT GLOB 'column.*' AND k != 'format'"))
expect = {o["name"]: o["default"] for o in opts if o["default"] is not None}
eq("defaults stored in t_config", {k: v for k, v in stored.items() if k in [o["name"] for o in opts]},
   expect)
try:
    con.execute("CREATE VIRTUAL TABLE u USING timeseries(h DIMENSION, v DOUBLE, colour = 'red')")
    check("unknown option fails", False, "CREATE succeeded")
except sqlite3.Error as e:
    eq("unknown option message lists the table's options", str(e),
       "timeseries u: unknown option 'colour' (options: %s)" % ", ".join(o["name"] for o in opts))
sys.exit(1 if n_fail else 0)
