"""ts_batch_load through Python's sqlite3: the AWS sample CSVs and data models
(../shared/testdata/timestream-samples, skipped when absent), the project's
samples in tests/data/batch/ (every DataModel variant, every TimeUnit,
quoting/escaping/NULL rules), the malformed corpus (every bad row in the
error report with its line, every good row loaded, counts add up), gzip,
configuration errors with their exact messages, schema checks against an
existing table, and resume after sqlite3_interrupt."""
import csv
import gzip
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time

_pre = os.environ.get("TS_PRELOAD")
if _pre and "libasan" not in os.environ.get("LD_PRELOAD", ""):
    env = dict(os.environ, LD_PRELOAD=_pre, ASAN_OPTIONS="detect_leaks=0:abort_on_error=1")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

n_fail = 0


def check(name, cond, why="condition false"):
    global n_fail
    if cond:
        print(f"PASS batch_load: {name}")
    else:
        n_fail += 1
        print(f"FAIL batch_load: {name}: {why}")


def eq(name, got, exp):
    check(name, got == exp, f"got {got!r}, expected {exp!r}")


ROOT = os.environ.get("TS_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXT = os.environ.get("TS_EXT") or os.path.join(ROOT, "build", "tslite")
DATA = os.path.join(ROOT, "tests", "data", "batch")
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    print("SKIP batch_load: this python's sqlite3 cannot load extensions")
    sys.exit(0)


def shared_dir():
    for d in (os.path.join(ROOT, "..", "shared"), "/work/shared"):
        if os.path.exists(os.path.join(d, "DESIGN.md")):
            return os.path.abspath(d)
    return None


def connect(path, now="2024-05-01T12:00:00Z"):
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    con.enable_load_extension(True)
    con.load_extension(EXT)
    con.execute("SELECT ts_debug_set_now(?)", (now,))
    return con


def load(con, cfg):
    return json.loads(con.execute("SELECT ts_batch_load(?)", (json.dumps(cfg),)).fetchone()[0])


def error_of(con, sql, args=()):
    try:
        con.execute(sql, args).fetchall()
    except sqlite3.Error as e:
        return str(e)
    return None


def report(res):
    uri = res.get("ErrorReport")
    if not uri:
        return None
    with open(uri[len("file://"):]) as f:
        return json.load(f)


def model(dims, attrs, name="m", unit=None, mname=None):
    m = {"TimeColumn": "time", "DimensionMappings": [{"SourceColumn": d} for d in dims],
         "MultiMeasureMappings": {"MultiMeasureAttributeMappings": [
             {"SourceColumn": a, "MeasureValueType": t} for a, t in attrs]}}
    if name:
        m["MultiMeasureMappings"]["TargetMultiMeasureName"] = name
    if unit:
        m["TimeUnit"] = unit
    if mname:
        m["MeasureNameColumn"] = mname
    return m


def counts_add_up(name, pr):
    check(name + ": RecordsProcessed = Ingested + ParseFailures + RecordIngestionFailures",
          pr["RecordsProcessed"] == pr["RecordsIngested"] + pr["ParseFailures"] + pr["RecordIngestionFailures"],
          json.dumps(pr))


tmp = tempfile.mkdtemp(prefix="tslite-bl-")
try:
    dbpath = os.path.join(tmp, "bl.db")
    rep = "file://" + os.path.join(tmp, "reports")
    os.makedirs(os.path.join(tmp, "reports"))
    con = connect(dbpath)

    # ---- AWS samples -------------------------------------------------------
    sh = shared_dir()
    if sh is None:
        print("SKIP batch_load: aws samples: ../shared is absent")
    else:
        ts = os.path.join(sh, "testdata", "timestream-samples")
        c2 = connect(os.path.join(tmp, "aws.db"), now="2023-10-12T00:00:00Z")
        c2.execute("CREATE VIRTUAL TABLE sensor USING timeseries(gpio DIMENSION, temperature DOUBLE,"
                   " humidity DOUBLE, memory_retention='8766h')")
        with open(os.path.join(ts, "fill_forward", "datamodel.json")) as f:
            dm = json.load(f)
        src = os.path.join(ts, "fill_forward", "sensor_with_gaps.csv")
        res = load(c2, {"TargetTableName": "sensor", "DataSource": "file://" + src, "DataModel": dm,
                        "ReportLocation": rep})
        with open(src, newline="") as f:
            rows = list(csv.DictReader(f))
        exp = sorted((r["gpio"], int(r["time"]) * 1000000, float(r["temperature"]), float(r["humidity"]),
                      r["measure_name"]) for r in rows)
        got = sorted(c2.execute("SELECT gpio, time, temperature, humidity, measure_name FROM sensor").fetchall())
        eq("aws fill_forward: SUCCEEDED", res["TaskStatus"], "SUCCEEDED")
        eq("aws fill_forward: RecordsIngested", res["ProgressReport"]["RecordsIngested"], len(rows))
        eq("aws fill_forward: 30587 rows", len(got), 30587)
        check("aws fill_forward: every value equals the CSV (Python csv oracle)", got == exp,
              f"first difference {next((g, e) for g, e in zip(got, exp) if g != e) if got != exp and len(got) == len(exp) else len(got)}")
        eq("aws fill_forward: BytesMetered is the file size", res["ProgressReport"]["BytesMetered"],
           os.path.getsize(src))
        rp = report(res)
        eq("aws fill_forward: report has no errors", (rp["taskErrors"], rp["fileErrors"]), ([], []))
        # join_tables: the details data model (VARCHAR attributes), table created from the model
        with open(os.path.join(ts, "join_tables", "datamodel_details.json")) as f:
            dm = json.load(f)
        src = os.path.join(ts, "join_tables", "sensor_details.csv")
        c2.execute("SELECT ts_debug_set_now('2023-09-22T00:00:00Z')")  # default 6h window
        res = load(c2, {"TargetTableName": "details", "DataSource": "file://" + src, "DataModel": dm})
        eq("aws join_tables details: SUCCEEDED, 3 records", (res["TaskStatus"], res["ProgressReport"]["RecordsIngested"]),
           ("SUCCEEDED", 3))
        eq("aws join_tables details: rows", c2.execute(
            "SELECT gpio, time, measure_name, name, status FROM details ORDER BY gpio").fetchall(),
           [("17", 1695335950657000000, "initial_event", "office", "active"),
            ("22", 1695335950657000000, "change_event", "outside", "active"),
            ("27", 1695335950657000000, "change_event", "window", "stopped")])
        eq("aws join_tables details: table created from the model", c2.execute(
            "SELECT v FROM details_config WHERE k LIKE 'column.%' ORDER BY k").fetchall(),
           [('"gpio" DIMENSION',), ('"name" VARCHAR',), ('"status" VARCHAR',)])
        # the events model names columns the CSV lacks: a file failure
        with open(os.path.join(ts, "join_tables", "datamodel_events.json")) as f:
            dm = json.load(f)
        res = load(c2, {"TargetTableName": "events", "DataSource": "file://" + src, "DataModel": dm,
                        "ReportLocation": rep})
        eq("aws join_tables events: FAILED with one FileFailure", (res["TaskStatus"], res["ProgressReport"]["FileFailures"]),
           ("FAILED", 1))
        eq("aws join_tables events: report names the missing column", report(res)["fileErrors"],
           [{"fileName": "file://" + src, "errors": [
               {"reason": "header has no column 'temperature' (measure 'temperature')", "lineRanges": [[1, 1]]}]}])
        c2.close()

    # ---- every type, table created from the model --------------------------
    res = load(con, {"TargetTableName": "types", "DataSource": "file://" + os.path.join(DATA, "multi_types.csv"),
                     "DataModel": model(["host", "region"], [("cpu", "DOUBLE"), ("count", "BIGINT"), ("ok", "BOOLEAN"),
                                                             ("label", "VARCHAR"), ("seen", "TIMESTAMP")], name="stats"),
                     "RecordVersion": 3})
    eq("types: result", res, {"TaskId": res["TaskId"], "TaskStatus": "SUCCEEDED", "ProgressReport": {
        "RecordsProcessed": 4, "RecordsIngested": 4, "ParseFailures": 0, "RecordIngestionFailures": 0,
        "FileFailures": 0, "BytesMetered": os.path.getsize(os.path.join(DATA, "multi_types.csv"))}})
    check("types: TaskId is 32 of [A-Z0-9]", len(res["TaskId"]) == 32 and res["TaskId"].isalnum()
          and res["TaskId"] == res["TaskId"].upper(), res["TaskId"])
    eq("types: declared columns", con.execute(
        "SELECT v FROM types_config WHERE k LIKE 'column.%' ORDER BY CAST(substr(k,8) AS INT)").fetchall(),
       [('"host" DIMENSION',), ('"region" DIMENSION',), ('"cpu" DOUBLE',), ('"count" BIGINT',), ('"ok" BOOLEAN',),
        ('"label" VARCHAR',), ('"seen" TIMESTAMP',)])
    eq("types: rows (NULL for empty cells, RecordVersion stamped)", con.execute(
        "SELECT host, region, time, measure_name, cpu, count, ok, label, seen, version FROM types ORDER BY host, time").fetchall(),
       [("a", "eu", 1714557600000000000, "stats", 1.5, 10, 1, "first", 1714557000000000000, 3),
        ("a", "eu", 1714557601000000000, "stats", 2.25, -3, 0, "sec,ond", 1714554000000000000, 3),
        ("b", "us", 1714557600000000000, "stats", -0.5, 9223372036854775807, 1, None, None, 3),
        ("b", None, 1714557602000000000, "stats", None, None, 0, "third", None, 3)])
    t = con.execute("SELECT * FROM ts_batch_load_tasks WHERE TaskId=?", (res["TaskId"],))
    row = dict(zip([d[0] for d in t.description], t.fetchone()))
    eq("types: task row", (row["TaskStatus"], row["TargetTableName"], row["RecordsIngested"], row["FileCount"],
                           row["FileIndex"], row["CreationTime"], row["ResumableUntil"] - row["LastUpdatedTime"]),
       ("SUCCEEDED", "types", 4, 1, 1, 1714564800000000000, 15 * 86400 * 10**9))

    # ---- every TimeUnit ----------------------------------------------------
    for unit, suffix in (("SECONDS", "s"), ("MILLISECONDS", "ms"), ("MICROSECONDS", "us"), ("NANOSECONDS", "ns")):
        m = model(["host"], [("v", "BIGINT")], unit=unit if unit != "MILLISECONDS" else None)
        res = load(con, {"TargetTableName": "u_" + suffix, "DataSource": "file://" + os.path.join(DATA, f"units_{suffix}.csv"),
                         "DataModel": m})
        eq(f"TimeUnit {unit}: times", con.execute(f"SELECT time, v FROM u_{suffix} ORDER BY time").fetchall(),
           [(1714557600000000000, 1), (1714557601000000000, 2)])
    res = load(con, {"TargetTableName": "u_bad", "DataSource": "file://" + os.path.join(DATA, "units_s.csv"),
                     "DataModel": model(["host"], [("v", "BIGINT")], unit="SECONDS")})
    eq("TimeUnit SECONDS into a new table", res["TaskStatus"], "SUCCEEDED")
    res = load(con, {"TargetTableName": "u_ms_as_s", "DataSource": "file://" + os.path.join(DATA, "units_ms.csv"),
                     "DataModel": model(["host"], [("v", "BIGINT")], unit="SECONDS"), "ReportLocation": rep})
    eq("milliseconds read as SECONDS overflow past 2262: parse failures", report(res)["fileErrors"][0]["errors"],
       [{"reason": "time column 'time': '1714557600000' SECONDS is past the largest time"
                   " (2262-04-11T23:47:16.854775807Z)", "lineRanges": [[2, 2]]},
        {"reason": "time column 'time': '1714557601000' SECONDS is past the largest time"
                   " (2262-04-11T23:47:16.854775807Z)", "lineRanges": [[3, 3]]}])

    # ---- MixedMeasureMappings ---------------------------------------------
    mixed = {"TimeColumn": "time", "DimensionMappings": [{"SourceColumn": "host"}], "MeasureNameColumn": "measure_name",
             "MixedMeasureMappings": [
                 {"MeasureName": "cpu", "SourceColumn": "cpu", "MeasureValueType": "DOUBLE"},
                 {"MeasureName": "state", "MeasureValueType": "MULTI", "MultiMeasureAttributeMappings": [
                     {"SourceColumn": "mem", "MeasureValueType": "BIGINT"},
                     {"SourceColumn": "status", "TargetMultiMeasureAttributeName": "state", "MeasureValueType": "VARCHAR"}]}]}
    res = load(con, {"TargetTableName": "mixed", "DataSource": "file://" + os.path.join(DATA, "mixed.csv"),
                     "DataModel": mixed, "ReportLocation": rep})
    eq("mixed + MeasureNameColumn: rows", con.execute(
        "SELECT host, time, measure_name, cpu, mem, state FROM mixed ORDER BY time, measure_name").fetchall(),
       [("a", 1714557600000000000, "cpu", 12.5, None, None), ("a", 1714557600000000000, "state", None, 2048, "up"),
        ("a", 1714557601000000000, "cpu", 13.5, None, None), ("a", 1714557601000000000, "state", None, 4096, "down")])
    eq("mixed + MeasureNameColumn: a name no mapping takes is a parse failure", report(res)["fileErrors"][0]["errors"],
       [{"reason": "no measure values for measure name 'disk' (no mapping applies or every mapped measure is empty)",
         "lineRanges": [[6, 6]]}])
    counts_add_up("mixed", res["ProgressReport"])
    single = {"TimeColumn": "time", "DimensionMappings": [{"SourceColumn": "host"}], "MixedMeasureMappings": [
        {"SourceColumn": "cpu", "TargetMeasureName": "cpu_util", "MeasureValueType": "DOUBLE"},
        {"MeasureName": "memory", "SourceColumn": "mem", "MeasureValueType": "BIGINT"}]}
    res = load(con, {"TargetTableName": "single", "DataSource": "file://" + os.path.join(DATA, "mixed_single.csv"),
                     "DataModel": single})
    eq("mixed single-measure records: one record per non-empty measure", con.execute(
        "SELECT time, measure_name, cpu_util, mem FROM single ORDER BY time, measure_name").fetchall(),
       [(1714557600000000000, "cpu_util", 1.5, None), (1714557600000000000, "memory", None, 100),
        (1714557601000000000, "memory", None, 200), (1714557602000000000, "cpu_util", 2.5, None)])
    eq("mixed single-measure: 3 CSV records ingested", res["ProgressReport"]["RecordsIngested"], 3)

    # ---- quoting, escaping, NULL ------------------------------------------
    res = load(con, {"TargetTableName": "q", "DataSource": "file://" + os.path.join(DATA, "quoting.csv"),
                     "DataModel": model(["host"], [("note", "VARCHAR"), ("v", "BIGINT")]),
                     "CsvConfiguration": {"NullValue": "NA"}, "ReportLocation": rep})
    eq("quoting: BOM, CRLF, doubled quotes, newline in quotes, NullValue, blank line", con.execute(
        "SELECT host, note, v FROM q ORDER BY v").fetchall(),
       [("a,1", 'say "hi"', 1), ("b", "line1\r\nline2", 2), ("c", None, 3), (None, "NA", 4), ("d", None, 5)])
    eq("quoting: no errors", (res["TaskStatus"], report(res)["fileErrors"]), ("SUCCEEDED", []))
    res = load(con, {"TargetTableName": "pe", "DataSource": "file://" + os.path.join(DATA, "pipe_escape.csv"),
                     "DataModel": model(["host"], [("note", "VARCHAR"), ("v", "BIGINT")]),
                     "CsvConfiguration": {"ColumnSeparator": "|", "QuoteChar": "'", "EscapeChar": "\\",
                                          "TrimWhiteSpace": True}})
    eq("separator |, QuoteChar ', EscapeChar \\, TrimWhiteSpace", con.execute(
        "SELECT host, note, v FROM pe ORDER BY v").fetchall(),
       [("a|1", "it's | piped", 1), ("b", "quoted ' inside", 2)])

    # ---- malformed corpus --------------------------------------------------
    corpus = os.path.join(tmp, "corpus")
    shutil.copytree(os.path.join(DATA, "malformed"), corpus)
    with open(os.path.join(corpus, "long_line.csv"), "w") as f:
        f.write("host,time,v\na,1714557600000,1\nb,1714557601000," + "9" * (10 << 20) + "\nc,1714557602000,3\n")
    res = load(con, {"TargetTableName": "bad", "DataSource": "file://" + corpus + "/",
                     "DataModel": model(["host"], [("v", "DOUBLE")]), "ReportLocation": rep, "BatchRows": 2})
    pr = res["ProgressReport"]
    rp = report(res)
    errs = {os.path.basename(fe["fileName"]): fe["errors"] for fe in rp["fileErrors"]}

    def e(reason, *ranges):
        return {"reason": reason, "lineRanges": [list(r) for r in ranges]}

    eq("malformed: bad quotes", errs.get("bad_quotes.csv"), [
        e("quote character inside an unquoted field (field 3)", (3, 3)),
        e("unexpected character after a closing quote (field 1)", (5, 5))])
    eq("malformed: quote left open (lines 3..5 in one record)", errs.get("bad_quotes_open.csv"), [
        e("quoted field not closed at end of input (field 3, opened on line 3)", (3, 5))])
    eq("malformed: bad times", errs.get("bad_times.csv"), [
        e("time column 'time' is empty", (3, 3)),
        e("time column 'time': '17145576.5' is not an integer count of MILLISECONDS", (4, 4)),
        e("time column 'time': '-5' is negative (times start at 1970-01-01)", (5, 5)),
        e("time column 'time': '2024-05-01T10:00:00Z' is not an integer count of MILLISECONDS", (6, 6)),
        e("time column 'time': '99999999999999999999' MILLISECONDS is past the largest time"
          " (2262-04-11T23:47:16.854775807Z)", (7, 7))])
    eq("malformed: empty file", errs.get("empty.csv"), [e("file is empty (a header row is required)", (1, 1))])
    eq("malformed: binary garbage", errs.get("garbage.csv"),
       [e("header row: quote character inside an unquoted field (field 2)", (1, 1))])
    eq("malformed: header only is no error", errs.get("header_only.csv"), None)
    eq("malformed: 10 MB line", errs.get("long_line.csv"), [e("record longer than 4194304 bytes", (3, 3))])
    eq("malformed: missing column", errs.get("missing_col.csv"),
       [e("header has no column 'time' (TimeColumn)", (1, 1))])
    eq("malformed: non-numeric measures", errs.get("non_numeric.csv"), [
        e("column 'v' (DOUBLE): 'abc' is not a number", (3, 3)),
        e("column 'v' (DOUBLE): '1e999' is out of the DOUBLE range", (4, 4)),
        e("column 'v' (DOUBLE): '0x10' is not a number", (5, 5)),
        e("column 'v' (DOUBLE): 'nan' is not a number", (6, 6))])
    eq("malformed: time outside the write window is a RecordIngestionFailure", errs.get("old_time.csv"), [
        e("timeseries bad: record timestamp is outside the write window [2024-05-01T06:00:00.000000000Z,"
          " 2024-05-01T12:15:00.000000000Z] (now - memory_retention .. now + 15 minutes)", (3, 3))])
    eq("malformed: wrong column count", errs.get("wrong_cols.csv"), [
        e("record has 2 fields, the header has 3", (3, 3)), e("record has 4 fields, the header has 3", (4, 4))])
    eq("malformed: counts", (res["TaskStatus"], pr["RecordsProcessed"], pr["ParseFailures"],
                             pr["RecordIngestionFailures"], pr["FileFailures"]), ("FAILED", 28, 15, 1, 3))
    counts_add_up("malformed", pr)
    good = con.execute("SELECT host, time, v FROM bad ORDER BY host, time").fetchall()
    eq("malformed: every good row loaded", good, [
        ("a", 1714557600000000000, 1.0), ("c", 1714557602000000000, 3.0), ("d", 1714557603000000000, 4.0),
        ("f", 1714557605000000000, 6.5), ("g", 1714557606000000000, 7.0)])
    n_err_lines = sum(r[1] - r[0] + 1 for fe in rp["fileErrors"] for x in fe["errors"] for r in x["lineRanges"]
                      if x["reason"].startswith(("record", "quote", "unexpected", "time", "column", "timeseries")))
    check("malformed: report lines cover the failures", n_err_lines >= pr["ParseFailures"] + pr["RecordIngestionFailures"],
          f"{n_err_lines}")
    eq("malformed: BytesMetered is every byte read", pr["BytesMetered"],
       sum(os.path.getsize(os.path.join(corpus, n)) for n in os.listdir(corpus)
           if n not in ("empty.csv", "garbage.csv", "missing_col.csv")) + 0)

    # ---- gzip --------------------------------------------------------------
    gzdir = os.path.join(tmp, "gz")
    os.makedirs(gzdir)
    body = "host,time,v\n" + "".join(f"h{i % 7},{1714557600000 + i},{i}\n" for i in range(20000))
    with gzip.open(os.path.join(gzdir, "a.csv.gz"), "wt") as f:
        f.write(body)
    # two gzip members concatenated read as one stream
    with open(os.path.join(gzdir, "b.csv.gz"), "wb") as f:
        f.write(gzip.compress(b"host,time,v\nz,1714557600000,1\n") + gzip.compress(b"z,1714557600001,2\n"))
    with open(os.path.join(gzdir, "c.txt"), "w") as f:
        f.write("not,a,csv\n")
    res = load(con, {"TargetTableName": "gz", "DataSource": "file://" + gzdir + "/",
                     "DataModel": model(["host"], [("v", "BIGINT")]), "BatchRows": 3000})
    eq("gzip: .csv.gz files, .txt ignored", (res["TaskStatus"], res["ProgressReport"]["RecordsIngested"],
                                             con.execute("SELECT count(*), sum(v) FROM gz").fetchone()),
       ("SUCCEEDED", 20002, (20002, sum(range(20000)) + 3)))
    with open(os.path.join(gzdir, "d.csv.gz"), "wb") as f:
        f.write(gzip.compress(body.encode())[:3000])
    res = load(con, {"TargetTableName": "gz2", "DataSource": "file://" + os.path.join(gzdir, "d.csv.gz"),
                     "DataModel": model(["host"], [("v", "BIGINT")]), "ReportLocation": rep})
    eq("gzip: a truncated stream is a FileFailure", (res["TaskStatus"], res["ProgressReport"]["FileFailures"],
                                                     report(res)["fileErrors"][0]["errors"][0]["reason"]),
       ("FAILED", 1, "gzip stream is truncated"))

    # ---- configuration errors ---------------------------------------------
    base = {"TargetTableName": "cfg", "DataSource": "file://" + os.path.join(DATA, "units_ms.csv"),
            "DataModel": model(["host"], [("v", "BIGINT")])}

    def cfg_err(name, change, exp):
        c = json.loads(json.dumps(base))
        change(c)
        eq("config: " + name, error_of(con, "SELECT ts_batch_load(?)", (json.dumps(c),)), exp)

    cfg_err("unknown top-level key", lambda c: c.update(Bogus=1), "ts_batch_load: unknown key 'Bogus'")
    cfg_err("unknown DataModel key", lambda c: c["DataModel"].update(Timecolumn="x"),
            "ts_batch_load: DataModel: unknown key 'Timecolumn'")
    cfg_err("unknown mapping key", lambda c: c["DataModel"]["DimensionMappings"][0].update(Source="x"),
            "ts_batch_load: DataModel.DimensionMappings[0]: unknown key 'Source'")
    cfg_err("unknown CsvConfiguration key", lambda c: c.update(CsvConfiguration={"Delimiter": ","}),
            "ts_batch_load: CsvConfiguration: unknown key 'Delimiter'")
    cfg_err("missing TargetTableName", lambda c: c.pop("TargetTableName"), "ts_batch_load: 'TargetTableName' is required")
    cfg_err("bad TimeUnit", lambda c: c["DataModel"].update(TimeUnit="HOURS"),
            "ts_batch_load: DataModel: TimeUnit 'HOURS' is not one of MILLISECONDS, SECONDS, MICROSECONDS, NANOSECONDS")
    cfg_err("no dimension", lambda c: c["DataModel"].update(DimensionMappings=[]),
            "ts_batch_load: DataModel.DimensionMappings: needs at least one dimension")
    cfg_err("both measure mappings", lambda c: c["DataModel"].update(MixedMeasureMappings=[]),
            "ts_batch_load: DataModel: exactly one of MultiMeasureMappings and MixedMeasureMappings is required")
    cfg_err("TargetMultiMeasureName needed without MeasureNameColumn",
            lambda c: c["DataModel"]["MultiMeasureMappings"].pop("TargetMultiMeasureName"),
            "ts_batch_load: DataModel.MultiMeasureMappings: 'TargetMultiMeasureName' is required when"
            " MeasureNameColumn is absent")
    cfg_err("bad MeasureValueType", lambda c: c["DataModel"]["MultiMeasureMappings"]["MultiMeasureAttributeMappings"][0]
            .update(MeasureValueType="FLOAT"),
            "ts_batch_load: DataModel.MultiMeasureMappings.MultiMeasureAttributeMappings[0]: MeasureValueType 'FLOAT'"
            " is not one of DOUBLE, BIGINT, BOOLEAN, VARCHAR, TIMESTAMP")
    cfg_err("reserved name", lambda c: c["DataModel"]["DimensionMappings"][0].update(DestinationColumn="measure_name"),
            "ts_batch_load: DataModel.DimensionMappings[0]: dimension 'measure_name' is a reserved name (time,"
            " measure_name, version, measure_value*, ts_*)")
    cfg_err("dimension and measure share a name",
            lambda c: c["DataModel"]["DimensionMappings"][0].update(DestinationColumn="v"),
            "ts_batch_load: DataModel: 'v' is mapped both as a dimension and as a measure")
    cfg_err("MULTI without attributes", lambda c: c["DataModel"].pop("MultiMeasureMappings") and c["DataModel"].update(
        MixedMeasureMappings=[{"MeasureName": "x", "MeasureValueType": "MULTI"}]),
            "ts_batch_load: DataModel.MixedMeasureMappings[0]: 'MultiMeasureAttributeMappings' is required")
    cfg_err("separator", lambda c: c.update(CsvConfiguration={"ColumnSeparator": "x"}),
            "ts_batch_load: CsvConfiguration: ColumnSeparator must be one of ',', '|', ';', tab or space")
    cfg_err("two-character QuoteChar", lambda c: c.update(CsvConfiguration={"QuoteChar": "''"}),
            "ts_batch_load: CsvConfiguration: 'QuoteChar' must be one character, got ''''")
    cfg_err("RecordVersion 0", lambda c: c.update(RecordVersion=0),
            "ts_batch_load: 'RecordVersion' must be between 1 and 9223372036854775807, got 0")
    cfg_err("DataSource scheme", lambda c: c.update(DataSource="/tmp/x.csv"),
            "ts_batch_load: DataSource '/tmp/x.csv' must be an s3:// or file:// URI")
    cfg_err("the base configuration loads", lambda c: None, None)
    eq("config: duplicate key", error_of(con, "SELECT ts_batch_load(?)",
                                         ('{"TargetTableName":"a","TargetTableName":"b"}',)),
       "ts_batch_load: duplicate key 'TargetTableName'")
    eq("config: not JSON", error_of(con, "SELECT ts_batch_load('{x')"),
       "ts_batch_load: not valid JSON (malformed JSON)")
    eq("config: not an object", error_of(con, "SELECT ts_batch_load('[1]')"),
       "ts_batch_load: must be an object, got an array")
    aws = {"TargetDatabaseName": "db", "TargetTableName": "t", "DataModelConfiguration": {"DataModel": base["DataModel"]},
           "DataSourceConfiguration": {"DataSourceS3Configuration": {"BucketName": "b"}, "DataFormat": "CSV",
                                       "Extra": 1},
           "ReportConfiguration": {"ReportS3Configuration": {"BucketName": "b"}}}
    eq("config: unknown key in the CreateBatchLoadTask form", error_of(con, "SELECT ts_batch_load(?)", (json.dumps(aws),)),
       "ts_batch_load: DataSourceConfiguration: unknown key 'Extra'")
    con.execute("BEGIN")
    eq("inside a transaction", error_of(con, "SELECT ts_batch_load(?)", (json.dumps(base),)),
       "ts_batch_load: cannot run inside a transaction (it commits its own batches)")
    con.execute("ROLLBACK")

    eq("config: a long unknown key is cut in the message", error_of(con, "SELECT ts_batch_load(?)",
                                                                    (json.dumps(dict(base, **{"k" * 5000: 1})),)),
       "ts_batch_load: unknown key '" + "k" * 200 + "'")
    con.execute("ATTACH ? AS aux1", (os.path.join(tmp, "aux.db"),))
    res = load(con, dict(base, TargetTableName="att", TargetDatabaseName="aux1"))
    eq("TargetDatabaseName names an attached schema", (res["TaskStatus"], con.execute(
        "SELECT count(*) FROM aux1.att").fetchone()[0], con.execute(
        "SELECT TargetDatabaseName FROM main.ts_batch_load_tasks WHERE TaskId=?", (res["TaskId"],)).fetchone()[0]),
       ("SUCCEEDED", 2, "aux1"))

    # ---- existing table: the mapping is checked before any row -----------
    con.execute("CREATE VIRTUAL TABLE ex USING timeseries(host DIMENSION, v DOUBLE, w BIGINT,"
                " partition_key='host', partition_enforcement='required')")
    ex = dict(base, TargetTableName="ex")
    eq("existing: type mismatch", error_of(con, "SELECT ts_batch_load(?)", (json.dumps(ex),)),
       "ts_batch_load: measure 'v' is mapped as BIGINT but main.ex declares it DOUBLE")
    ex["DataModel"] = model(["host"], [("x", "DOUBLE")])
    eq("existing: unknown measure", error_of(con, "SELECT ts_batch_load(?)", (json.dumps(ex),)),
       "ts_batch_load: table main.ex has no measure column 'x' (DOUBLE)")
    ex["DataModel"] = model(["hst"], [("v", "DOUBLE")])
    eq("existing: unknown dimension", error_of(con, "SELECT ts_batch_load(?)", (json.dumps(ex),)),
       "ts_batch_load: DimensionMappings[0]: table main.ex has no dimension 'hst'")
    ex["DataModel"] = model(["v"], [("w", "BIGINT")])
    eq("existing: a measure mapped as dimension", error_of(con, "SELECT ts_batch_load(?)", (json.dumps(ex),)),
       "ts_batch_load: DimensionMappings[0]: 'v' is a measure of main.ex, not a dimension")
    con.execute("CREATE VIRTUAL TABLE ex2 USING timeseries(host DIMENSION, dc DIMENSION, v BIGINT,"
                " partition_key='dc', partition_enforcement='required')")
    ex = dict(base, TargetTableName="ex2")
    eq("existing: required partition key not mapped", error_of(con, "SELECT ts_batch_load(?)", (json.dumps(ex),)),
       "ts_batch_load: table main.ex2 requires the partition key dimension 'dc' (partition_enforcement 'required')"
       " and the data model does not map it")
    eq("existing: no rows and no task row were written", (con.execute("SELECT count(*) FROM ex").fetchone()[0],
       con.execute("SELECT count(*) FROM ts_batch_load_tasks WHERE TargetTableName LIKE 'ex%'").fetchone()[0]), (0, 0))
    con.execute("CREATE TABLE plain(x)")
    eq("existing: a plain table", error_of(con, "SELECT ts_batch_load(?)", (json.dumps(dict(base, TargetTableName="plain")),)),
       "ts_batch_load: main.plain exists and is not a timeseries table")

    # ---- no files, resume rules -------------------------------------------
    res = load(con, dict(base, TargetTableName="nofiles", DataSource="file://" + tmp + "/nothing/",
                         ReportLocation=rep))
    eq("no files: FAILED with a task error", (res["TaskStatus"], report(res)["taskErrors"]),
       ("FAILED", [{"reason": "no .csv or .csv.gz objects at file://" + tmp + "/nothing/"}]))
    tid = con.execute("SELECT TaskId FROM ts_batch_load_tasks WHERE TargetTableName='types'").fetchone()[0]
    eq("resume: a SUCCEEDED task", error_of(con, "SELECT ts_batch_load_resume(?)", (tid,)),
       f"ts_batch_load_resume: task {tid} is SUCCEEDED; only a stopped task (PROGRESS_STOPPED or an interrupted"
       " IN_PROGRESS) can be resumed")
    eq("resume: unknown task", error_of(con, "SELECT ts_batch_load_resume('NOPE')"),
       "ts_batch_load_resume: no task 'NOPE'")

    # ---- sqlite3_interrupt, then resume -----------------------------------
    big = os.path.join(tmp, "big")
    os.makedirs(big)
    for k in range(3):
        with open(os.path.join(big, f"part{k}.csv"), "w", newline="") as f:
            f.write("host,time,v\r\n")
            for i in range(40000):
                f.write(f"h{i % 13},{1714557600000 + k * 100000 + i},{k * 100000 + i}\r\n")
    cfg = {"TargetTableName": "intr", "DataSource": "file://" + big + "/",
           "DataModel": model(["host"], [("v", "BIGINT")]), "BatchRows": 500}
    stopped = None
    for delay in (0.05, 0.15, 0.3, 0.6):
        c3 = connect(dbpath)
        timer = threading.Timer(delay, c3.interrupt)
        timer.start()
        err = error_of(c3, "SELECT ts_batch_load(?)", (json.dumps(cfg),))
        timer.cancel()
        row = con.execute("SELECT TaskId, TaskStatus, RecordsProcessed FROM ts_batch_load_tasks"
                          " WHERE TargetTableName='intr' ORDER BY CreationTime DESC, rowid DESC LIMIT 1").fetchone()
        c3.close()
        if err and row and row[1] == "IN_PROGRESS" and row[2] > 0:
            stopped = row
            break
    if stopped is None:
        print("SKIP batch_load: interrupt: the load always finished before sqlite3_interrupt landed")
    else:
        n_before = con.execute("SELECT count(*) FROM intr").fetchone()[0]
        eq("interrupt: committed rows equal RecordsProcessed", n_before, stopped[2])
        res = json.loads(con.execute("SELECT ts_batch_load_resume(?)", (stopped[0],)).fetchone()[0])
        eq("interrupt: resume SUCCEEDED with every record", (res["TaskStatus"], res["ProgressReport"]["RecordsProcessed"],
                                                            res["ProgressReport"]["RecordsIngested"]),
           ("SUCCEEDED", 120000, 120000))
        eq("interrupt: table equals a clean load (count, sum, distinct times)", con.execute(
            "SELECT count(*), sum(v), count(DISTINCT time) FROM intr").fetchone(),
           (120000, sum(k * 100000 + i for k in range(3) for i in range(40000)), 120000))
        eq("interrupt: BytesMetered equals the bytes of the files", res["ProgressReport"]["BytesMetered"],
           sum(os.path.getsize(os.path.join(big, n)) for n in os.listdir(big)))
        # ResumableUntil: 15 days after the last update
        con.execute("UPDATE ts_batch_load_tasks SET TaskStatus='PROGRESS_STOPPED' WHERE TaskId=?", (stopped[0],))
        con.execute("SELECT ts_debug_set_now('2024-05-17T12:00:00Z')")
        eq("resume: after ResumableUntil", error_of(con, "SELECT ts_batch_load_resume(?)", (stopped[0],)),
           f"ts_batch_load_resume: task {stopped[0]} could be resumed until 2024-05-16T12:00:00.000000000Z")
        con.execute("SELECT ts_debug_set_now('2024-05-01T12:00:00Z')")

    # ---- two runs of one task: a batch commits once ----------------------
    cfg2 = dict(cfg, TargetTableName="twice")
    c3, c4 = connect(dbpath), connect(dbpath)
    errs = [None, None]

    def run_load():
        errs[0] = error_of(c3, "SELECT ts_batch_load(?)", (json.dumps(cfg2),))

    th = threading.Thread(target=run_load)
    th.start()
    tid2 = None
    for _ in range(500):
        r = con.execute("SELECT TaskId, RecordsProcessed FROM ts_batch_load_tasks WHERE TargetTableName='twice'").fetchone()
        if r and r[1] > 0:
            tid2 = r[0]
            break
        time.sleep(0.01)
    if tid2:
        errs[1] = error_of(c4, "SELECT ts_batch_load_resume(?)", (tid2,))
    th.join()
    c3.close()
    c4.close()
    row = con.execute("SELECT TaskStatus, RecordsProcessed, RecordsIngested, BytesMetered FROM ts_batch_load_tasks"
                      " WHERE TargetTableName='twice'").fetchone()
    if row and row[0] != "SUCCEEDED":
        res = json.loads(con.execute("SELECT ts_batch_load_resume(?)", (tid2,)).fetchone()[0])
        row = (res["TaskStatus"], res["ProgressReport"]["RecordsProcessed"], res["ProgressReport"]["RecordsIngested"],
               res["ProgressReport"]["BytesMetered"])
    loser = [e for e in errs if e]
    check("two runs of one task: the loser stops with its reason (or the task was already done)",
          tid2 is None or all("was advanced by another connection; this run stops" in e or "is SUCCEEDED" in e
                              # or it never got the write lock within its busy timeout (a loaded machine)
                              or e == "database is locked"
                              for e in loser), repr(errs))
    eq("two runs of one task: counters equal one clean run", row[1:] if row else None,
       (120000, 120000, sum(os.path.getsize(os.path.join(big, n)) for n in os.listdir(big))))
    eq("two runs of one task: table equals a clean load", con.execute(
        "SELECT count(*), sum(v) FROM twice").fetchone(),
       (120000, sum(k * 100000 + i for k in range(3) for i in range(40000))))
    con.close()
finally:
    shutil.rmtree(tmp, ignore_errors=True)

sys.exit(1 if n_fail else 0)
