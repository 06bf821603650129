"""Plain and relative paths wherever a file:// URI works, resolved against
the working directory like SQLite resolves database names: ts_unload to
'out/' (files land there; the manifest lists their file:// URIs), the
parquet table on 'out/results/<file>.parquet' and on a '../' path, the
ts_object_* functions on relative and absolute plain paths, and other URI
schemes still refused."""
import json
import os
import sqlite3
import sys
import tempfile

import tshelp  # tests/py/tshelp.py
tshelp.asan_reexec()

n_fail = 0


def eq(name, got, exp):
    global n_fail
    if got == exp:
        print(f"PASS paths: {name}")
    else:
        n_fail += 1
        print(f"FAIL paths: {name}: got {got!r}, expected {exp!r}")


root = os.environ.get("TS_ROOT") or os.path.join(os.path.dirname(__file__), "..", "..")
ext = os.path.abspath(os.environ.get("TS_EXT") or os.path.join(root, "build", "tslite"))
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    print("SKIP paths: this python's sqlite3 cannot load extensions")
    sys.exit(0)

tmp = os.path.realpath(tempfile.mkdtemp(prefix="ts_paths_"))
os.makedirs(os.path.join(tmp, "work"))
os.chdir(os.path.join(tmp, "work"))
db = sqlite3.connect("paths.db")
db.enable_load_extension(True)
db.load_extension(ext)


def err(sql):
    try:
        db.execute(sql).fetchall()
        return None
    except sqlite3.Error as e:
        return str(e)


# ts_unload to a relative directory, CSV and Parquet.
r = json.loads(db.execute("""SELECT ts_unload('SELECT 1 AS a, ''x'' AS b UNION ALL SELECT 2, ''y''',
                             'out/', '{"compression":"none","include_header":true}')""").fetchone()[0])
eq("unload csv: rows", r["rows"], 2)
eq("unload csv: manifest URI is absolute file://", r["manifestFile"].startswith(f"file://{tmp}/work/out/"), True)
man = json.load(open(r["manifestFile"][len("file://"):]))
url = man["result_files"][0]["url"]
eq("unload csv: result file under ./out/results/", url.startswith(f"file://{tmp}/work/out/results/"), True)
eq("unload csv: content", open(url[len("file://"):]).read(), "a,b\n1,x\n2,y\n")

r = json.loads(db.execute("""SELECT ts_unload('SELECT 10 AS n, ''p'' AS s', './pq/../pq2',
                             '{"format":"parquet"}')""").fetchone()[0])
man = json.load(open(r["manifestFile"][len("file://"):]))
url = man["result_files"][0]["url"]
eq("unload parquet: '..' folded", url.startswith(f"file://{tmp}/work/pq2/results/"), True)
rel = os.path.relpath(url[len("file://"):])
eq("relative name of the parquet file", rel.startswith("pq2/results/") and rel.endswith(".parquet"), True)

# The parquet table on relative paths, and on one that goes up a level.
db.execute(f"CREATE VIRTUAL TABLE temp.p1 USING parquet('{rel}')")
eq("parquet('pq2/results/...')", db.execute("SELECT n, s FROM temp.p1").fetchall(), [(10, "p")])
os.makedirs(os.path.join(tmp, "work", "sub"))
os.chdir(os.path.join(tmp, "work", "sub"))
db.execute(f"CREATE VIRTUAL TABLE temp.p2 USING parquet('../{rel}')")
eq("parquet('../pq2/...') from another working directory", db.execute("SELECT n FROM temp.p2").fetchall(), [(10,)])
os.chdir(os.path.join(tmp, "work"))

# Object functions.
eq("ts_object_put relative", db.execute("SELECT ts_object_put('data/hello.txt', 'hi')").fetchone()[0], 2)
eq("file written in ./data", open(os.path.join(tmp, "work", "data", "hello.txt")).read(), "hi")
eq("ts_object_get absolute plain path",
   db.execute(f"SELECT CAST(ts_object_get('{tmp}/work/data/hello.txt') AS TEXT)").fetchone()[0], "hi")
eq("ts_object_list on a relative directory",
   db.execute("SELECT key, size FROM ts_object_list('data')").fetchall(), [("hello.txt", 2)])
eq("ts_object_delete relative", db.execute("SELECT ts_object_delete('./data/hello.txt')").fetchone()[0] is not None, True)
eq("deleted", os.path.exists(os.path.join(tmp, "work", "data", "hello.txt")), False)

# Other schemes stay errors; an empty destination too.
eq("gs:// refused", err("SELECT ts_object_get('gs://b/k')"),
   "ts_object_get: object store: unsupported URI 'gs://b/k' (expected s3://bucket/..., file:///dir/... or a file path)")
eq("unload to http: refused", err("SELECT ts_unload('SELECT 1', 'http://host/x')"),
   "ts_unload: destination 'http://host/x': object store: unsupported URI 'http://host/x' "
   "(expected s3://bucket/..., file:///dir/... or a file path)")
db.close()
sys.exit(1 if n_fail else 0)
