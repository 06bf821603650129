"""Hostile input (issue 11): a corpus of hostile identifiers goes through CREATE,
INSERT, SELECT, ts_check, ts_stats, ts_unload, ALTER TABLE RENAME and DROP; no
other table may change, ts_check must pass and every JSON result must parse.
Then integer text at the edges of int64, and every byte 0-255 in table, column
and dimension names and values through the JSON-returning functions.

Expectations that depend on the ts_stats/ts_check rewrite (engineer "rooms")
are marked KNOWN below: they print "SKIP ... known until the table-handle
rewrite" instead of FAIL while the old ext/vtab.c is in place, and turn into
PASS by themselves once the output is right."""
import json
import os
import sqlite3
import sys
import tempfile

import tshelp  # tests/py/tshelp.py
tshelp.asan_reexec()

n_fail = 0


def check(name, cond, why="condition false", known=False):
    global n_fail
    if cond:
        print(f"PASS {name}")
    elif known:
        print(f"SKIP {name}: known until the table-handle rewrite ({why})")
    else:
        n_fail += 1
        print(f"FAIL {name}: {why}")


def eq(name, got, exp, known=False):
    check(name, got == exp, f"got {got!r}, expected {exp!r}", known)


def parses(s):
    try:
        json.loads(s)
        return True
    except Exception:
        return False


ext = os.environ.get("TS_EXT") or os.path.join(os.path.dirname(__file__), "..", "..", "build", "tslite")
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    print("SKIP hostile: this python's sqlite3 cannot load extensions")
    sys.exit(0)


def q(name):
    """SQL identifier quoting: "..." with " doubled."""
    return '"' + name.replace('"', '""') + '"'


NOW = 1714564800000000000
HOSTILE = [
    "o'clock",
    'a"b',
    "h'); INSERT INTO victim VALUES(666); --",
    'h"); INSERT INTO victim VALUES(667); --',
    "back\\slash\\",
    "dash -- comment",
    "semi;colon;",
    "tab\there",
    "nl\nline",
    "cr\rret",
    "ctl\x01\x07\x1b\x1f",
    "del\x7f",
    "x" * 1000,
    "h\u00e9llo w\u00f6rld",
    "\u65e5\u672c\u8a9e",
    "emoji\U0001F600",
    "[brackets]",
    "`backtick`",
    "%s%n%w%Q",
    "' OR 1=1 --",
    "\"; DROP TABLE victim; --",
    "*/ /*",
]

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "hostile.db")
    con = sqlite3.connect(path, isolation_level=None)
    con.enable_load_extension(True)
    con.load_extension(ext)
    con.execute("SELECT ts_debug_set_now(?)", (NOW,))
    con.execute("CREATE TABLE victim(x)")
    con.execute("INSERT INTO victim VALUES(1)")

    def victim_ok():
        return con.execute("SELECT group_concat(x) FROM victim").fetchone()[0] == "1"

    def schema_names():
        return sorted(r[0] for r in con.execute("SELECT name FROM sqlite_schema"))

    base_schema = schema_names()
    for k, name in enumerate(HOSTILE):
        tag = f"hostile[{k}]"
        # the name as table name, dimension name and measure name at once
        tab = name
        dim = name + "_d"
        mea = name + "_m"
        try:
            con.execute(f"CREATE VIRTUAL TABLE {q(tab)} USING timeseries({q(dim)} DIMENSION,"
                        f" {q(mea)} DOUBLE, n BIGINT)")
            check(f"{tag}: create", True)
        except sqlite3.Error as e:
            check(f"{tag}: create", False, str(e))
            continue
        check(f"{tag}: victim unchanged after create", victim_ok())
        try:
            con.execute("BEGIN")
            for i in range(5):
                con.execute(f"INSERT INTO {q(tab)}(time, {q(dim)}, {q(mea)}, n) VALUES(?,?,?,?)",
                            (NOW - 1000 + i, name if i % 2 else "v" + name, i * 1.5, i))
            con.execute("COMMIT")
            check(f"{tag}: insert", True)
        except sqlite3.Error as e:
            con.execute("ROLLBACK")
            check(f"{tag}: insert", False, str(e))
        got = con.execute(f"SELECT count(*), sum(n), sum({q(mea)}) FROM {q(tab)} WHERE {q(dim)} = ?",
                          (name,)).fetchone()
        eq(f"{tag}: select by dimension", got, (2, 4, 6.0))
        got = con.execute(f"SELECT {q(dim)} FROM {q(tab)} ORDER BY time LIMIT 1").fetchone()
        eq(f"{tag}: dimension value round trip", got, ("v" + name,))
        eq(f"{tag}: ts_check", con.execute("SELECT ts_check(?)", (tab,)).fetchone()[0], "ok")
        st = con.execute("SELECT ts_stats(?)", (tab,)).fetchone()[0]
        ok = parses(st)
        check(f"{tag}: ts_stats parses as JSON", ok, repr(st)[:120], known=True)
        if ok:
            eq(f"{tag}: ts_stats table name", json.loads(st).get("table"), tab)
        # ts_unload: the names become CSV header / ColumnInfo names and JSON strings
        dest = "file://" + os.path.join(d, f"unload{k}")
        try:
            r = con.execute("SELECT ts_unload(?, ?, ?)",
                            (f"SELECT {q(dim)}, {q(mea)} FROM {q(tab)}", dest,
                             '{"format":"csv","include_header":true}')).fetchone()[0]
            check(f"{tag}: ts_unload result parses", parses(r), repr(r)[:120])
            if parses(r):
                meta = json.load(open(json.loads(r)["metadataFile"][len("file://"):], encoding="utf-8"))
                eq(f"{tag}: unload metadata column names",
                   [c["Name"] for c in meta["ColumnInfo"]], [dim, mea])
                man = json.load(open(json.loads(r)["manifestFile"][len("file://"):], encoding="utf-8"))
                eq(f"{tag}: unload manifest rows", man["query_metadata"]["total_row_count"], 5)
        except sqlite3.Error as e:
            check(f"{tag}: ts_unload", False, str(e))
        # rename, then the old name is gone and the new one works
        new = name + "_renamed"
        try:
            con.execute(f"ALTER TABLE {q(tab)} RENAME TO {q(new)}")
            eq(f"{tag}: count after rename",
               con.execute(f"SELECT count(*) FROM {q(new)}").fetchone()[0], 5)
            eq(f"{tag}: ts_check after rename",
               con.execute("SELECT ts_check(?)", (new,)).fetchone()[0], "ok")
            con.execute("BEGIN")
            con.execute(f"INSERT INTO {q(new)}(time, {q(dim)}, n) VALUES(?,?,?)", (NOW, name, 9))
            con.execute("COMMIT")
            eq(f"{tag}: insert after rename",
               con.execute(f"SELECT count(*) FROM {q(new)}").fetchone()[0], 6)
            tab = new
        except sqlite3.Error as e:
            if con.in_transaction:
                con.execute("ROLLBACK")
            check(f"{tag}: rename", False, str(e))
        check(f"{tag}: victim unchanged", victim_ok())
        try:
            con.execute(f"DROP TABLE {q(tab)}")
            eq(f"{tag}: drop leaves only the original tables", schema_names(), base_schema)
        except sqlite3.Error as e:
            check(f"{tag}: drop", False, str(e))
    eq("hostile: integrity_check", con.execute("PRAGMA integrity_check").fetchone()[0], "ok")

    # ---------------------------------------------------------- integer text
    con.execute("CREATE VIRTUAL TABLE it USING timeseries(h DIMENSION, big BIGINT, r DOUBLE)")
    for text in ("-9223372036854775809", "9223372036854775808"):
        try:
            con.execute("INSERT INTO it(time, h, big) VALUES(?, 'a', ?)", (NOW, text))
            check(f"inttext: {text} rejected", False, "accepted")
        except sqlite3.Error as e:
            msg = str(e)
            check(f"inttext: {text} rejected naming column and value",
                  "big" in msg and text in msg, msg)
    for text, exp in (("-9223372036854775808", -9223372036854775808),
                      ("9223372036854775807", 9223372036854775807),
                      ("12345678901234567.0", 12345678901234567)):
        con.execute("DELETE FROM it WHERE 0")  # no-op, keeps the statement shape simple
        con.execute("INSERT INTO it(time, h, big) VALUES(?, ?, ?)", (NOW, text, text))
        got = con.execute("SELECT big, typeof(big) FROM it WHERE h = ?", (text,)).fetchone()
        eq(f"inttext: {text} stored exactly", got, (exp, "integer"))
    eq("inttext: ts_check", con.execute("SELECT ts_check('it')").fetchone()[0], "ok")
    con.execute("DROP TABLE it")

    # ---------------------------------------------------------- every byte
    # ts_stats/ts_check take 'schema.table' and split at the first dot, so the
    # names are given as main.<name> (byte 46 is '.').
    # Bytes 1-255 in names (the SQL text is UTF-8, so bytes >= 0x80 are given
    # as the one-byte code points U+0080..U+00FF and as raw bytes in values
    # via BLOB-cast-to-text).  NUL cannot be part of an SQL identifier.
    bad_stats = []
    bad_unload = []
    bad_other = []
    for b in range(1, 256):
        ch = chr(b)
        tab = f"t{ch}x"
        try:
            con.execute(f"CREATE VIRTUAL TABLE {q(tab)} USING timeseries({q('d' + ch)} DIMENSION, {q('m' + ch)} DOUBLE)")
            con.execute(f"INSERT INTO {q(tab)}(time, {q('d' + ch)}, {q('m' + ch)}) VALUES(?, CAST(? AS TEXT), 1.0)",
                        (NOW, bytes([b, 0x41])))
            st = con.execute("SELECT ts_stats(?)", ("main." + tab,)).fetchone()[0]
            if not parses(st) or json.loads(st).get("table") != tab:
                bad_stats.append(b)
            r = con.execute("SELECT ts_unload(?, ?)",
                            (f"SELECT * FROM {q(tab)}", "file://" + os.path.join(d, f"b{b}"))).fetchone()[0]
            if not parses(r):
                bad_unload.append(b)
            else:
                meta = json.load(open(json.loads(r)["metadataFile"][len("file://"):], encoding="utf-8"))
                if [c["Name"] for c in meta["ColumnInfo"]] != ["time", "d" + ch, "measure_name", "m" + ch]:
                    bad_unload.append(b)
            # the dimension value (byte b, then 'A') becomes a partition folder in the
            # manifest's urls; partition values must be ASCII (refused otherwise, see the
            # unload tests), so bytes 1-127 here
            if b < 0x80:
                con.text_factory = bytes
                try:
                    r = con.execute("SELECT ts_unload(?, ?, ?)",
                                    (f"SELECT time, {q('m' + ch)}, {q('d' + ch)} FROM {q(tab)}",
                                     "file://" + os.path.join(d, f"p{b}"),
                                     json.dumps({"format": "csv", "partitioned_by": ["d" + ch]}))).fetchone()[0]
                finally:
                    con.text_factory = str
                try:
                    url = json.loads(r.decode("utf-8"))["manifestFile"][len("file://"):]
                    man = json.loads(open(url, "rb").read().decode("utf-8"))
                    if len(man["result_files"]) != 1 or man["query_metadata"]["total_row_count"] != 1:
                        bad_unload.append(b)
                except (ValueError, KeyError):
                    bad_unload.append(b)
            if con.execute("SELECT ts_check(?)", ("main." + tab,)).fetchone()[0] != "ok":
                bad_other.append(b)
        except sqlite3.Error as e:
            bad_other.append((b, str(e)))
        con.execute(f"DROP TABLE IF EXISTS {q(tab)}")
    check("bytes: ts_stats valid JSON with the exact table name for bytes 1-255", not bad_stats,
          f"bytes {bad_stats}", known=True)
    check("bytes: ts_unload result, manifest and metadata valid JSON for bytes 1-255", not bad_unload,
          f"bytes {bad_unload}")
    check("bytes: create/insert/ts_check/drop for bytes 1-255", not bad_other, f"{bad_other[:5]}")
    # create_time_series writes text values as JSON strings: every byte 1-255
    bad_series = []
    con.text_factory = bytes
    for b in range(1, 256):
        r = con.execute("SELECT create_time_series(?, CAST(? AS TEXT))", (NOW, bytes([0x61, b, 0x7a]))).fetchone()[0]
        try:
            v = json.loads(r.decode("utf-8"))[0]["value"]
            if b < 0x80 and v != "a" + chr(b) + "z":
                bad_series.append(b)
        except ValueError:
            bad_series.append(b)
    con.text_factory = str
    check("bytes: create_time_series text values valid JSON for bytes 1-255", not bad_series,
          f"bytes {bad_series}")
    eq("bytes: victim unchanged", victim_ok(), True)
    eq("bytes: schema back to the original", schema_names(), base_schema)
    con.close()

sys.exit(1 if n_fail else 0)
