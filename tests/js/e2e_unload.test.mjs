// End-to-end: a timeseries table exported with ts_unload to file:// and to
// s3:// (s3rver) as CSV and Parquet, partitioned by a dimension, then read
// back by independent readers: DuckDB (hive partitioning), hyparquet, a JS
// CSV parser, and tslite's own parquet virtual table (on the file and over
// S3 range reads).  Every read-back must equal the query run directly, and
// the direct query over the timeseries table must equal the same query over
// a plain SQLite table holding the same rows (the oracle).  S3 objects are
// read from s3rver's storage directory, not through tslite.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetReadObjects, asyncBufferFromFile } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { check, eq, tmpDir, done, SANITIZE, EXT, sqlite } from './lib.mjs';
import { parseCsv, checkManifest, readManifest } from './unload_lib.mjs';
import { startS3 } from './s3fixture.mjs';

const require = createRequire(import.meta.url);
const FsStore = require('@20minutes/s3rver/lib/stores/filesystem.js');

const dir = tmpDir('tslite-e2e-unload-');
const db = path.join(dir, 'app.db');
const NOW = '2024-05-01T12:00:00Z';
const PER_HOST = SANITIZE ? 120 : 700;
const STATUS = ['ok', 'a,b', 'say "hi"', 'back\\slash', 'line1\nline2', 'zürich €', '', null, 'warn|x'];
const sqlStr = (s) => (s === null ? 'NULL' : `'${s.replace(/'/g, "''")}'`);

let s3 = null;
const cleanup = async () => { if (s3) await s3.stop(); fs.rmSync(dir, { recursive: true, force: true }); };

// Rows of a query as objects (sqlite3 .mode json); env for S3 settings.
function queryJson(dbPath, sql, env = {}) {
  const r = sqlite(dbPath, `.mode json\n${sql};\n`, { env });
  if (r.status !== 0) throw new Error(`sqlite3 failed (${r.status}): ${r.stderr}`);
  const out = r.stdout.trim();
  return out ? JSON.parse(out) : [];
}

function runSql(sql, env = {}) {
  const r = sqlite(db, sql, { env });
  if (r.status !== 0) throw new Error(`sqlite3 failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

try {
  // ---- the data: a timeseries table and the plain oracle table ----
  runSql(`
SELECT ts_debug_set_now('${NOW}');
CREATE TABLE status_text(k INTEGER PRIMARY KEY, s TEXT);
INSERT INTO status_text VALUES ${STATUS.map((s, i) => `(${i}, ${sqlStr(s)})`).join(',')};
CREATE VIRTUAL TABLE cpu USING timeseries(hostname DIMENSION, region DIMENSION,
  usage DOUBLE, cnt BIGINT, status VARCHAR, ok BOOLEAN, seen TIMESTAMP, memory_retention = '48h');
CREATE TABLE p(time INTEGER, hostname TEXT, region TEXT, measure_name TEXT, usage REAL, cnt INTEGER,
  status TEXT, ok INTEGER, seen INTEGER);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i < ${PER_HOST - 1}),
h(j) AS (VALUES (0),(1),(2),(3),(4))
INSERT INTO p SELECT
  to_nanoseconds('2024-04-30T00:00:00Z') + i * 97000000011 + j * 1000003,
  'host_' || j,
  CASE j WHEN 0 THEN 'eu-west-1' WHEN 1 THEN 'eu-west-1' WHEN 2 THEN 'us-east-1' WHEN 3 THEN 'ap-south-1' ELSE NULL END,
  CASE WHEN i % 17 = 4 THEN 'disk' ELSE 'metrics' END,
  CASE WHEN i % 13 = 5 THEN NULL ELSE ((i * 37 + j * 11) % 400) * 0.25 - 20 END,
  CASE WHEN i % 11 = 3 THEN NULL ELSE (i * i + j) * 1000000007 % 9007199254740993 - 4503599627370496 END,
  (SELECT s FROM status_text WHERE k = (i + j) % ${STATUS.length}),
  CASE WHEN i % 7 = 6 THEN NULL ELSE (i + j) % 2 END,
  CASE WHEN i % 9 = 0 THEN NULL ELSE 1700000000000000000 + i * 3600000000123 + j END
FROM n, h;
INSERT INTO cpu(time, hostname, region, measure_name, usage, cnt, status, ok, seen)
  SELECT time, hostname, region, measure_name, usage, cnt, status, ok, seen FROM p;
`);
  const N = PER_HOST * 5;
  const COLS = 'time, hostname, measure_name, usage, cnt, status, ok, seen, region';
  // Leave out the first quarter of each series (a pushed-down time range).
  const WHERE = `WHERE time >= to_nanoseconds('2024-04-30T00:00:00Z') + ${Math.floor(PER_HOST / 4) * 97}000000000`;
  const SELECT = `SELECT ${COLS} FROM cpu ${WHERE}`;
  const canonSql = (tbl) => `SELECT CAST(time AS TEXT) AS time, hostname, measure_name, usage, CAST(cnt AS TEXT) AS cnt,
    status, ok, CAST(seen AS TEXT) AS seen, region FROM ${tbl} ${WHERE} ORDER BY time, hostname, measure_name`;
  const KEYS = ['time', 'hostname', 'measure_name', 'usage', 'cnt', 'status', 'ok', 'seen', 'region'];
  const canon = (r) => KEYS.map((k) => (r[k] === undefined ? null : r[k]));
  const sortRows = (rows) => rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0));
  const expected = queryJson(db, canonSql('cpu')).map(canon);
  const oracle = queryJson(db, canonSql('p')).map(canon);
  eq('timeseries table holds the oracle\'s rows', expected, oracle);
  check('the export has rows in every partition, incl. NULL region',
    expected.length > N / 2 && new Set(expected.map((r) => r[8])).size === 4, `${expected.length} rows`);

  // Compare row sets; the first difference is reported.
  function sameRows(name, got, exp) {
    got = sortRows(got.slice());
    if (got.length !== exp.length) { check(name, false, `${got.length} rows, expected ${exp.length}`); return; }
    for (let i = 0; i < exp.length; i++) {
      const g = JSON.stringify(got[i]), e = JSON.stringify(exp[i]);
      if (g !== e) { check(name, false, `row ${i}: got ${g}, expected ${e}`); return; }
    }
    check(name, true);
  }
  // Expected rows with `seen` at DuckDB's microsecond precision.
  const expUs = expected.map((r) => { const c = r.slice(); c[7] = c[7] === null ? null : (BigInt(c[7]) / 1000n).toString(); return c; });
  const regionOf = (url) => {
    const m = /\/results\/region=([^/]+)\//.exec(url);
    if (!m) return undefined;
    return m[1] === '__HIVE_DEFAULT_PARTITION__' ? null : decodeURIComponent(m[1]);
  };

  const duck = await (await DuckDBInstance.create(':memory:')).connect();
  const duckRows = async (sql) => (await duck.runAndReadAll(sql)).getRowObjectsJson();
  const DUCK_SELECT = `CAST(time AS VARCHAR) AS time, hostname, measure_name, usage, CAST(cnt AS VARCHAR) AS cnt, status,
    CASE WHEN ok IS NULL THEN NULL WHEN ok THEN 1 ELSE 0 END AS ok, CAST(epoch_us(seen) AS VARCHAR) AS seen`;

  // Read files back with hyparquet (exact ns), region from the folder.
  async function hyRows(files) {
    const out = [];
    for (const { file, url } of files) {
      const rows = await parquetReadObjects({
        file: await asyncBufferFromFile(file), compressors, parsers: { timestampFromNanoseconds: (n) => n },
      });
      for (const x of rows) {
        out.push([String(x.time), x.hostname, x.measure_name, x.usage, x.cnt === null ? null : String(x.cnt), x.status,
          x.ok === null ? null : (x.ok ? 1 : 0), x.seen === null ? null : String(x.seen), regionOf(url)]);
      }
    }
    return out;
  }
  // Read files back through tslite's parquet virtual table (uri: file:// or s3://).
  function vtabRows(uris, env = {}) {
    const out = [];
    uris.forEach((uri, k) => {
      const rows = queryJson(db, `CREATE VIRTUAL TABLE temp.pq${k} USING parquet(${sqlStr(uri)});
SELECT CAST(time AS TEXT) AS time, hostname, measure_name, usage, CAST(cnt AS TEXT) AS cnt, status, ok,
  CAST(seen AS TEXT) AS seen FROM temp.pq${k}`, env);
      for (const r of rows) out.push([...canon(r).slice(0, 8), regionOf(uri)]);
    });
    return out;
  }
  // The same for CSV text: Timestream's CSV dialect, values as text.
  const tsText = (s) => { // 'YYYY-MM-DD hh:mm:ss.nnnnnnnnn' -> ns string
    const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{9})$/.exec(s);
    if (!m) return `bad timestamp ${s}`;
    const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    return (BigInt(ms) * 1000000n + BigInt(m[7])).toString();
  };
  function csvRows(texts, header) {
    const out = [];
    for (const { text, url } of texts) {
      const rows = parseCsv(text);
      if (header) {
        const h = rows.shift();
        if (JSON.stringify(h) !== JSON.stringify(KEYS.slice(0, 8))) out.push(['bad header', JSON.stringify(h)]);
      }
      for (const f of rows) {
        out.push([f[0], f[1], f[2], f[3] === null ? null : Number(f[3]), f[4], f[5],
          f[6] === null ? null : (f[6] === 'true' ? 1 : f[6] === 'false' ? 0 : `bad bool ${f[6]}`),
          f[7] === null ? null : tsText(f[7]), regionOf(url)]);
      }
    }
    return out;
  }
  const unloadSql = (sel, dest, opts) =>
    `SELECT ts_unload(${sqlStr(sel)}, ${sqlStr(dest)}, ${sqlStr(JSON.stringify(opts))});\n`;
  function doUnload(name, sel, dest, opts, env = {}) {
    const r = sqlite(db, unloadSql(sel, dest, opts), { env });
    if (r.status !== 0) { check(`${name}: ts_unload succeeds`, false, r.stderr.trim()); return null; }
    const res = JSON.parse(r.stdout.trim());
    return res;
  }
  const PARTS = ['region=__HIVE_DEFAULT_PARTITION__', 'region=ap-south-1', 'region=eu-west-1', 'region=us-east-1'];

  // ---- 1. file:// Parquet, partitioned ----
  {
    const dest = path.join(dir, 'pq');
    const res = doUnload('file parquet', SELECT, `file://${dest}`, { format: 'parquet', partitioned_by: ['region'] });
    if (res) {
      eq('file parquet: rows', res.rows, expected.length);
      eq('file parquet: manifest matches the files', checkManifest(res, dest), '');
      const man = readManifest(res);
      eq('file parquet: one folder per region (NULL -> default partition)',
        [...new Set(man.result_files.map((f) => f.url.split('/').slice(-2)[0]))].sort(), PARTS);
      const got = await duckRows(`SELECT ${DUCK_SELECT}, region FROM read_parquet('${dest}/results/*/*.parquet',
        hive_partitioning = true)`);
      sameRows('file parquet: DuckDB (hive partitioning) reads the query\'s rows',
        got.map((r) => canon({ ...r, region: r.region === '__HIVE_DEFAULT_PARTITION__' ? null : r.region })), expUs);
      const files = man.result_files.map((f) => ({ url: f.url, file: f.url.slice('file://'.length) }));
      sameRows('file parquet: hyparquet reads the query\'s rows (exact ns)', await hyRows(files), expected);
      sameRows('file parquet: tslite parquet table reads the query\'s rows', vtabRows(man.result_files.map((f) => f.url)), expected);
      const types = await duckRows(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${files[0].file}'))`);
      eq('file parquet: measure types survive (DuckDB DESCRIBE)',
        types.filter((t) => t.column_name !== 'time' && t.column_name !== 'region').map((t) => `${t.column_name}:${t.column_type}`),
        ['hostname:VARCHAR', 'measure_name:VARCHAR', 'usage:DOUBLE', 'cnt:BIGINT', 'status:VARCHAR', 'ok:BOOLEAN',
          'seen:TIMESTAMP WITH TIME ZONE']);
    }
  }

  // ---- 2. file:// CSV (gzip, header), partitioned ----
  {
    const dest = path.join(dir, 'csv');
    const res = doUnload('file csv', SELECT, `file://${dest}`, { format: 'csv', include_header: true, partitioned_by: ['region'] });
    if (res) {
      eq('file csv: rows', res.rows, expected.length);
      eq('file csv: manifest matches the files', checkManifest(res, dest), '');
      const man = readManifest(res);
      check('file csv: gzip files (.gz)', man.result_files.every((f) => f.url.endsWith('.gz')), JSON.stringify(man.result_files.map((f) => f.url)));
      const texts = man.result_files.map((f) => ({ url: f.url, text: zlib.gunzipSync(fs.readFileSync(f.url.slice(7))).toString('utf8') }));
      sameRows('file csv: parsed CSV equals the query\'s rows', csvRows(texts, true), expected);
      // DuckDB's CSV reader over the .gz files: per-region counts and sums.
      const got = await duckRows(`SELECT region, count(*) AS n, sum(usage) AS s, CAST(sum(cnt::HUGEINT) AS VARCHAR) AS c
        FROM read_csv('${dest}/results/*/*.gz', hive_partitioning = true, header = true, escape = '\\', quote = '"',
          columns = {'time': 'BIGINT', 'hostname': 'VARCHAR', 'measure_name': 'VARCHAR', 'usage': 'DOUBLE', 'cnt': 'BIGINT',
                     'status': 'VARCHAR', 'ok': 'BOOLEAN', 'seen': 'VARCHAR'})
        GROUP BY region ORDER BY region`);
      const agg = new Map();
      for (const r of expected) {
        const k = r[8] === null ? '~null' : r[8];  // DuckDB: the default partition is NULL, sorted last
        const a = agg.get(k) || { n: 0, s: 0, c: 0n };
        a.n++; if (r[3] !== null) a.s += r[3]; if (r[4] !== null) a.c += BigInt(r[4]);
        agg.set(k, a);
      }
      eq('file csv: DuckDB read_csv per-region count/sum', got.map((r) => [r.region, Number(r.n), r.s, r.c]),
        [...agg.keys()].sort().map((k) => [k === '~null' ? null : k, agg.get(k).n, agg.get(k).s, agg.get(k).c.toString()]));
    }
  }

  // ---- 3. s3:// (s3rver): Parquet and CSV, partitioned ----
  s3 = await startS3({ bucket: 'lake' });
  const objPath = (url) => { // s3://lake/key -> s3rver's file for it
    const key = url.slice('s3://lake/'.length);
    const parts = FsStore.encodeKeyPath(key).split('/');
    const base = parts.pop();
    return path.join(s3.dir, 'lake', ...parts, `${base}._S3rver_object`);
  };
  const s3Json = (url) => JSON.parse(fs.readFileSync(objPath(url), 'utf8'));
  function s3Manifest(name, res, prefix) {
    const man = s3Json(res.manifestFile);
    let rows = 0, bytes = 0, ok = true;
    for (const f of man.result_files) {
      const st = fs.statSync(objPath(f.url));
      if (st.size !== f.file_metadata.content_length_in_bytes) ok = false;
      rows += f.file_metadata.row_count; bytes += st.size;
    }
    check(`${name}: manifest sizes and row counts match the objects`,
      ok && rows === res.rows && rows === man.query_metadata.total_row_count && bytes === man.query_metadata.content_length_in_bytes,
      JSON.stringify(man.query_metadata));
    // ts_object_list sees exactly the manifest's files under results/.
    const listed = queryJson(db, `SELECT key FROM ts_object_list('s3://lake/${prefix}', 'results/')`, s3.env).map((r) => `s3://lake/${prefix}/${r.key}`);
    eq(`${name}: listing of results/ equals the manifest`, listed.sort(), man.result_files.map((f) => f.url).sort());
    return man;
  }
  {
    const res = doUnload('s3 parquet', SELECT, 's3://lake/exports/pq', { format: 'parquet', compression: 'gzip', partitioned_by: ['region'] }, s3.env);
    if (res) {
      eq('s3 parquet: rows', res.rows, expected.length);
      check('s3 parquet: manifest url', res.manifestFile.startsWith('s3://lake/exports/pq/') && res.manifestFile.endsWith('_manifest.json'), res.manifestFile);
      const man = s3Manifest('s3 parquet', res, 'exports/pq');
      const files = man.result_files.map((f) => ({ url: f.url, file: objPath(f.url) }));
      const got = [];
      for (const { url, file } of files) {
        for (const r of await duckRows(`SELECT ${DUCK_SELECT} FROM read_parquet('${file}')`)) got.push(canon({ ...r, region: regionOf(url) }));
      }
      sameRows('s3 parquet: DuckDB reads the objects as the query\'s rows', got, expUs);
      sameRows('s3 parquet: hyparquet reads the objects (exact ns)', await hyRows(files), expected);
      sameRows('s3 parquet: tslite parquet table over s3:// reads the query\'s rows',
        vtabRows(man.result_files.map((f) => f.url), s3.env), expected);
    }
  }
  {
    const res = doUnload('s3 csv', SELECT, 's3://lake/exports/csv', {
      format: 'csv', compression: 'none', field_delimiter: '|', partitioned_by: ['region'],
    }, s3.env);
    if (res) {
      eq('s3 csv: rows', res.rows, expected.length);
      const man = s3Manifest('s3 csv', res, 'exports/csv');
      check('s3 csv: uncompressed files (.csv)', man.result_files.every((f) => f.url.endsWith('.csv')), JSON.stringify(man.result_files.map((f) => f.url)));
      const texts = man.result_files.map((f) => ({ url: f.url, text: fs.readFileSync(objPath(f.url), 'utf8') }));
      const parsed = [];
      for (const { text, url } of texts) {
        for (const f of parseCsv(text, '|')) {
          parsed.push([f[0], f[1], f[2], f[3] === null ? null : Number(f[3]), f[4], f[5],
            f[6] === null ? null : (f[6] === 'true' ? 1 : 0), f[7] === null ? null : tsText(f[7]), regionOf(url)]);
        }
      }
      sameRows('s3 csv: parsed CSV (delimiter |) equals the query\'s rows', parsed, expected);
    }
  }

  // ---- 3b. All in SQL, as a shell user would: unload, read the manifest
  // with ts_object_get + json_extract, count the listed objects, delete them.
  {
    const out = runSql(`
CREATE TEMP TABLE u AS SELECT ts_unload('SELECT time, hostname, usage, region FROM cpu WHERE hostname <> ''host_4''',
  's3://lake/sqlonly', '{"format":"csv","compression":"none","partitioned_by":["region"]}') AS r;
CREATE TEMP TABLE m AS SELECT CAST(ts_object_get(json_extract(r, '$.manifestFile')) AS TEXT) AS j FROM u;
SELECT json_extract(r, '$.rows'), json_extract(j, '$.query_metadata.total_row_count'),
       json_array_length(j, '$.result_files'),
       (SELECT count(*) FROM ts_object_list('s3://lake/sqlonly', 'results/region='))
FROM u, m;
SELECT sum(json_extract(f.value, '$.file_metadata.row_count')),
       sum(length(ts_object_get(json_extract(f.value, '$.url'))) = json_extract(f.value, '$.file_metadata.content_length_in_bytes'))
FROM m, json_each(m.j, '$.result_files') AS f;
SELECT sum(ts_object_delete('s3://lake/sqlonly/' || key)) FROM ts_object_list('s3://lake/sqlonly');
SELECT count(*) FROM ts_object_list('s3://lake/sqlonly');
`, s3.env).trim().split('\n');
    const nRows = expected.filter((r) => r[1] !== 'host_4').length + queryJson(db,
      `SELECT count(*) AS n FROM cpu WHERE NOT (${WHERE.slice(6)}) AND hostname <> 'host_4'`)[0].n;
    eq('sql only: rows, manifest row count, files, listing', out[0], `${nRows}|${nRows}|3|3`);
    eq('sql only: per-file row counts add up, sizes match ts_object_get', out[1], `${nRows}|3`);
    eq('sql only: ts_object_delete of every listed object (3 files + manifest + metadata)', out.slice(2), ['5', '0']);
  }

  // ---- 4. A rollup with time-series functions, exported and compared ----
  {
    const ROLLUP = (tbl) => `SELECT bin(time, '1h') AS hour, hostname, count(*) AS n, avg(usage) AS avg_usage,
      approx_percentile(cnt, 0.5) AS p50, max_by(status, time) AS last_status, region FROM ${tbl}
      WHERE measure_name = 'metrics' GROUP BY 1, 2, region`;
    const canonR = (tbl) => `SELECT CAST(hour AS TEXT) AS hour, hostname, n, avg_usage, CAST(p50 AS TEXT) AS p50, last_status, region
      FROM (${ROLLUP(tbl)}) ORDER BY hour, hostname`;
    const exp = queryJson(db, canonR('cpu')).map((r) => [r.hour, r.hostname, r.n, r.avg_usage, r.p50, r.last_status, r.region]);
    eq('rollup: timeseries table equals the oracle',
      exp, queryJson(db, canonR('p')).map((r) => [r.hour, r.hostname, r.n, r.avg_usage, r.p50, r.last_status, r.region]));
    const res = doUnload('rollup s3 parquet', ROLLUP('cpu'), 's3://lake/exports/rollup', { format: 'parquet', partitioned_by: ['region'] }, s3.env);
    if (res) {
      const man = s3Manifest('rollup s3 parquet', res, 'exports/rollup');
      const got = [];
      for (const f of man.result_files) {
        const rows = await parquetReadObjects({ file: await asyncBufferFromFile(objPath(f.url)), compressors });
        for (const x of rows) {
          got.push([String(x.hour), x.hostname, Number(x.n), x.avg_usage, x.p50 === null ? null : String(x.p50), x.last_status, regionOf(f.url)]);
        }
      }
      got.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
      eq('rollup: hyparquet reads the rollup exported to S3', got, exp);
    }
  }

  // ---- 5. The export as a table: the parquet table joined back to the
  // timeseries table, and the same time-series queries over both ----
  {
    const dest = path.join(dir, 'whole');
    const res = doUnload('whole table', `SELECT ${COLS} FROM cpu`, `file://${dest}`, { format: 'parquet', compression: 'none' });
    if (res) {
      const url = readManifest(res).result_files[0].url;
      const same = (q) => `(SELECT count(*) FROM (${q.replace(/@T/g, 'x')} EXCEPT ${q.replace(/@T/g, 'cpu')})) || ',' ||
        (SELECT count(*) FROM (${q.replace(/@T/g, 'cpu')} EXCEPT ${q.replace(/@T/g, 'x')})) || ',' ||
        (SELECT count(*) FROM (${q.replace(/@T/g, 'x')}))`;
      const queries = {
        'every row': `SELECT ${COLS} FROM @T`,
        'time range + IN pushdown': `SELECT time, hostname, usage FROM @T WHERE time BETWEEN 1714446000000000000 AND 1714460000000000000
          AND hostname IN ('host_1', 'host_4')`,
        'bin + aggregates': `SELECT bin(time, '30m') AS b, hostname, count(*), sum(cnt), min(usage), max(status) FROM @T GROUP BY 1, 2`,
        'approx_percentile / max_by': `SELECT hostname, measure_name, approx_percentile(usage, 0.9), max_by(seen, time),
          min_by(status, time) FROM @T GROUP BY 1, 2`,
        'create_time_series + integral': `SELECT hostname, integral_trapezoidal(create_time_series(time, usage), '1m'),
          derivative_linear(create_time_series(time, usage), '1s') FROM @T WHERE usage IS NOT NULL AND measure_name = 'metrics'
          GROUP BY hostname`,
        'date_trunc + extraction': `SELECT date_trunc('hour', time), hour(time), minute(time), count(*) FROM @T GROUP BY 1, 2, 3`,
        'join on the record key': `SELECT c.time, c.hostname, c.usage FROM @T AS c JOIN cpu AS d
          ON d.time = c.time AND d.hostname = c.hostname AND d.measure_name = c.measure_name AND d.usage = c.usage`,
      };
      const sql = `CREATE VIRTUAL TABLE temp.x USING parquet(${sqlStr(url)});\n`
        + Object.values(queries).map((q) => `SELECT ${same(q)};`).join('\n');
      const out = runSql(sql).trim().split('\n');
      Object.keys(queries).forEach((name, i) => {
        const [a, b, n] = (out[i] || '?,?,?').split(',');
        check(`parquet table = timeseries table: ${name}`, a === '0' && b === '0' && Number(n) > 0,
          `x EXCEPT cpu: ${a} rows, cpu EXCEPT x: ${b} rows, ${n} rows in all`);
      });
    }
  }
} catch (e) {
  check('e2e_unload', false, e.stack || String(e));
} finally {
  await cleanup();
}
done();
