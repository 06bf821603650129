"""A NUL byte inside a dimension value or measure_name, bound from Python:
refused by INSERT (text parameters, executemany, the column's own error
message with the offset), by ts_batch_load (the row goes to the error
report, the other rows load), while bytes (a BLOB) are refused as not TEXT
and VARCHAR measures keep their NULs.  The SQL forms are in
tests/sql/table_key_nul.test."""
import json
import os
import sqlite3
import sys
import tempfile

import tshelp  # tests/py/tshelp.py
tshelp.asan_reexec()

_c = tshelp.Checks("key_nul: ")
check, eq = _c.check, _c.eq


ROOT = os.environ.get("TS_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXT = os.environ.get("TS_EXT") or os.path.join(ROOT, "build", "tslite")
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    print("SKIP key_nul: this python's sqlite3 cannot load extensions")
    sys.exit(0)


def error_of(con, sql, args=()):
    try:
        con.execute(sql, args).fetchall()
    except sqlite3.Error as e:
        return str(e)
    return None


T0 = 1714561200000000000  # 2024-05-01T11:00:00Z, inside the write window

with tempfile.TemporaryDirectory(prefix="tslite-nul-") as d:
    con = sqlite3.connect(os.path.join(d, "nul.db"), isolation_level=None)
    con.enable_load_extension(True)
    con.load_extension(EXT)
    con.execute("SELECT ts_debug_set_now('2024-05-01T12:00:00Z')")
    con.execute("CREATE VIRTUAL TABLE t USING timeseries(host DIMENSION, v DOUBLE, s VARCHAR)")
    ins = "INSERT INTO t(time, host, measure_name, v, s) VALUES(?, ?, ?, ?, ?)"

    eq("dimension 'a\\x00b' bound as TEXT: refused with the offset",
       error_of(con, ins, (T0, "a\x00b", None, 1.0, None)),
       "timeseries t: dimension host: value contains a NUL byte at offset 1 (not supported)")
    eq("dimension of one NUL: offset 0",
       error_of(con, ins, (T0, "\x00", None, 1.0, None)),
       "timeseries t: dimension host: value contains a NUL byte at offset 0 (not supported)")
    eq("offset counts bytes of UTF-8 ('é' is 2)",
       error_of(con, ins, (T0, "é\x00", None, 1.0, None)),
       "timeseries t: dimension host: value contains a NUL byte at offset 2 (not supported)")
    eq("measure_name 'cpu\\x00' refused",
       error_of(con, ins, (T0, "a", "cpu\x00", 1.0, None)),
       "timeseries t: measure_name: value contains a NUL byte at offset 3 (not supported)")
    eq("bytes for a dimension: a BLOB, refused as not TEXT",
       error_of(con, ins, (T0, b"a\x00b", None, 1.0, None)),
       "timeseries t: column host (DIMENSION): expected TEXT, got BLOB of 3 bytes")
    eq("bytes for measure_name: refused as not TEXT",
       error_of(con, ins, (T0, "a", b"m\x00", 1.0, None)),
       "timeseries t: column measure_name (TEXT): expected TEXT, got BLOB of 2 bytes")
    try:
        con.executemany(ins, [(T0, "x", None, 1.0, None), (T0 + 1, "y\x00z", None, 2.0, None)])
        got = None
    except sqlite3.Error as e:
        got = str(e)
    eq("executemany: the row with a NUL fails", got,
       "timeseries t: dimension host: value contains a NUL byte at offset 1 (not supported)")
    # Two values that differ only after the NUL must never become one series.
    eq("no series was created by the refused rows",
       con.execute("SELECT count(*) FROM t_series").fetchone()[0], 1)  # 'x' of executemany's first row
    eq("only executemany's first row is stored (autocommit per row)",
       con.execute("SELECT host, v FROM t").fetchall(), [("x", 1.0)])

    con.execute(ins, (T0 + 2, "a", None, None, "p\x00q"))
    eq("VARCHAR measure keeps its NUL (byte-exact)",
       con.execute("SELECT s FROM t WHERE host='a'").fetchone()[0], "p\x00q")
    eq("ts_check", con.execute("SELECT ts_check('t')").fetchone()[0], "ok")

    # ts_batch_load: the row with a NUL in a dimension is a record ingestion
    # failure in the report; the other rows load.
    csvp = os.path.join(d, "nul.csv")
    with open(csvp, "wb") as f:
        f.write(b"time,host,v\n"
                b"1714561200000,h1,1.5\n"
                b"1714561201000,h\x002,2.5\n"
                b"1714561202000,h3,3.5\n")
    cfg = {"TargetTableName": "bl", "DataSource": "file://" + csvp,
           "DataModel": {"TimeColumn": "time", "TimeUnit": "MILLISECONDS",
                         "DimensionMappings": [{"SourceColumn": "host"}],
                         "MultiMeasureMappings": {"TargetMultiMeasureName": "m",
                                                  "MultiMeasureAttributeMappings": [
                                                      {"SourceColumn": "v", "MeasureValueType": "DOUBLE"}]}}}
    res = json.loads(con.execute("SELECT ts_batch_load(?)", (json.dumps(cfg),)).fetchone()[0])
    pr = res["ProgressReport"]
    eq("batch load: 3 processed, 2 ingested, 1 ingestion failure",
       (pr["RecordsProcessed"], pr["RecordsIngested"], pr["RecordIngestionFailures"]), (3, 2, 1))
    eq("batch load: the good rows", con.execute("SELECT host, v FROM bl ORDER BY time").fetchall(),
       [("h1", 1.5), ("h3", 3.5)])
    errs = con.execute("SELECT FirstLine, LastLine, Kind, Reason FROM ts_batch_load_errors WHERE TaskId=?",
                       (res["TaskId"],)).fetchall()
    eq("batch load: the error names line 3 and the NUL",
       errs, [(3, 3, "ingest", "timeseries bl: dimension host: value contains a NUL byte at offset 1 (not supported)")])
    con.close()

_c.exit()
