// ts_unload to Parquet on file://: read back by DuckDB and hyparquet (the
// oracles) and by tslite's own parquet table; each compression, partitions
// (DuckDB hive_partitioning rebuilds the partition column), mixed-type
// columns, 0 rows, file rollover, manifest consistency.
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetReadObjects, asyncBufferFromFile } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { check, eq, tmpDir, done, SANITIZE, skip } from './lib.mjs';
import { run, queryJson, unload, readManifest, readMetadata, checkManifest, urlToPath } from './unload_lib.mjs';

const dir = tmpDir('tslite-unload-pq-');
const db = path.join(dir, 't.db');
const NOTES = ['plain', 'a,b', 'Time"stream', 'Time\\stream', 'line1\nline2', 'zürich €', '😀', '', null];
const sqlStr = (s) => (s === null ? 'NULL' : `'${s.replace(/'/g, "''")}'`);
const N = SANITIZE ? 3000 : 30000;
run(db, `
CREATE TABLE notes(k INTEGER PRIMARY KEY, note TEXT);
INSERT INTO notes VALUES ${NOTES.map((n, i) => `(${i}, ${sqlStr(n)})`).join(',')};
CREATE TABLE m(id INTEGER, host TEXT, v REAL, ok BOOLEAN, ts TIMESTAMP, day DATE, note TEXT, region TEXT);
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i<${N - 1})
INSERT INTO m SELECT i, 'host-' || (i%7), CASE WHEN i%11=0 THEN NULL ELSE (i-100)*0.25 END,
  CASE WHEN i%13=0 THEN NULL ELSE i%2 END, 1714564800000000000 + i*1000000007,
  date('2024-01-01', '+' || (i%40) || ' days'),
  (SELECT note FROM notes WHERE k = i % ${NOTES.length}),
  CASE i%3 WHEN 0 THEN 'us-east-1' WHEN 1 THEN 'eu-west-1' ELSE 'ap' END FROM c;
`);
// Oracle rows from SQLite: ints as text (no precision loss in JSON), times in us.
const expected = queryJson(db, `SELECT CAST(id AS TEXT) AS id, host, v, ok, CAST(ts/1000 AS TEXT) AS ts_us,
  day, note, region FROM m ORDER BY m.id`);

const duck = await (await DuckDBInstance.create(':memory:')).connect();
async function duckRows(sql) { return (await duck.runAndReadAll(sql)).getRowObjectsJson(); }
const DUCK_COLS = `CAST(id AS VARCHAR) AS id, host, v, CASE WHEN ok IS NULL THEN NULL WHEN ok THEN 1 ELSE 0 END AS ok,
  CAST(epoch_us(ts) AS VARCHAR) AS ts_us, CAST(day AS VARCHAR) AS day, note`;

function sameRows(name, got, exp, cols) {
  if (got.length !== exp.length) { check(name, false, `row count ${got.length} != ${exp.length}`); return; }
  for (let r = 0; r < exp.length; r++) {
    for (const c of cols) {
      if (got[r][c] !== exp[r][c]) {
        check(name, false, `row ${r} col ${c}: got ${JSON.stringify(got[r][c])} expected ${JSON.stringify(exp[r][c])}`);
        return;
      }
    }
  }
  check(name, true);
}
const COLS = ['id', 'host', 'v', 'ok', 'ts_us', 'day', 'note'];
const SELECT = 'SELECT id, host, v, ok, ts, day, note, region FROM m ORDER BY id';

// 1. Each compression: DuckDB and hyparquet read the rows back exactly.
for (const comp of ['gzip', 'none', 'zstd', undefined]) {
  const label = comp || 'default';
  const dest = path.join(dir, `c-${label}`);
  const r = unload(db, SELECT, `file://${dest}`, comp ? { format: 'PARQUET', compression: comp } : { format: 'parquet' });
  check(`${label}: succeeds`, r.result && r.result.rows === N, r.error);
  if (!r.result) continue;
  const man = readManifest(r.result);
  eq(`${label}: manifest consistent`, checkManifest(r.result, dest), '');
  eq(`${label}: result_format`, man.query_metadata.result_format, 'PARQUET');
  check(`${label}: .parquet file`, man.result_files.length === 1 && man.result_files[0].url.endsWith('.parquet'), JSON.stringify(man.result_files));
  const file = urlToPath(man.result_files[0].url);
  const got = await duckRows(`SELECT ${DUCK_COLS}, region FROM read_parquet('${file}') ORDER BY id::BIGINT`);
  sameRows(`${label}: DuckDB reads the query's rows`, got, expected, [...COLS, 'region']);
  if (label === 'default' || label === 'zstd') {
    const meta = await duckRows(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`);
    eq(`${label}: column codec`, meta.map((x) => x.compression), [label === 'zstd' ? 'ZSTD' : 'GZIP']);
  }
  if (label === 'gzip') {
    const types = await duckRows(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file}'))`);
    eq('parquet schema (DuckDB DESCRIBE)', types.map((t) => `${t.column_name}:${t.column_type}`),
      ['id:BIGINT', 'host:VARCHAR', 'v:DOUBLE', 'ok:BOOLEAN', 'ts:TIMESTAMP WITH TIME ZONE', 'day:DATE', 'note:VARCHAR', 'region:VARCHAR']);
    eq('metadata types', readMetadata(r.result).ColumnInfo.map((c) => c.Type.ScalarType),
      ['BIGINT', 'VARCHAR', 'DOUBLE', 'BOOLEAN', 'TIMESTAMP', 'DATE', 'VARCHAR', 'VARCHAR']);
    // hyparquet: an independent reader.
    const rows = await parquetReadObjects({ file: await asyncBufferFromFile(file), compressors });
    const hy = rows.map((x) => ({
      id: String(x.id), host: x.host, v: x.v, ok: x.ok === null ? null : (x.ok ? 1 : 0),
      ts_us: x.ts === null ? null : String(Math.floor(x.ts.getTime() * 1000)),
      day: x.day === null ? null : x.day.toISOString().slice(0, 10), note: x.note, region: x.region,
    }));
    // hyparquet turns TIMESTAMP(NANOS) into a Date (ms): compare at ms precision.
    const expMs = expected.map((e) => ({ ...e, ts_us: e.ts_us === null ? null : String(Math.floor(Number(e.ts_us) / 1000) * 1000) }));
    sameRows('hyparquet reads the query\'s rows', hy, expMs, [...COLS, 'region']);
  }
}

// 2. Partitioned Parquet: DuckDB's hive_partitioning rebuilds region.
{
  const dest = path.join(dir, 'part');
  const r = unload(db, SELECT, `file://${dest}`, { format: 'parquet', compression: 'zstd', partitioned_by: ['region'] });
  check('partitioned: succeeds', r.result && r.result.rows === N, r.error);
  if (r.result) {
    eq('partitioned: manifest consistent', checkManifest(r.result, dest), '');
    const man = readManifest(r.result);
    eq('partitioned: one file per region', man.result_files.map((f) => f.url.split('/').slice(-2)[0]).sort(),
      ['region=ap', 'region=eu-west-1', 'region=us-east-1']);
    const got = await duckRows(`SELECT ${DUCK_COLS}, region FROM read_parquet('${dest}/results/*/*.parquet', hive_partitioning=true) ORDER BY id::BIGINT`);
    sameRows('partitioned: DuckDB (hive) reads the query\'s rows', got, expected, [...COLS, 'region']);
    const cols = await duckRows(`SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet('${urlToPath(man.result_files[0].url)}', hive_partitioning=false))`);
    eq('partitioned: region left out of the files', cols.map((c) => c.column_name), ['id', 'host', 'v', 'ok', 'ts', 'day', 'note']);
  }
}

// 3. Mixed-type columns and all-NULL columns.
{
  const dest = path.join(dir, 'mixed');
  const r = unload(db, `SELECT column1 AS i_r, column2 AS i_t, column3 AS nul FROM (VALUES (1, 1, NULL), (2.5, 'two', NULL), (NULL, 3.5, NULL))`,
    `file://${dest}`, { format: 'parquet' });
  check('mixed: succeeds', r.result, r.error);
  if (r.result) {
    const file = urlToPath(readManifest(r.result).result_files[0].url);
    const types = await duckRows(`SELECT column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file}'))`);
    eq('mixed: DOUBLE, VARCHAR, VARCHAR', types.map((t) => t.column_type), ['DOUBLE', 'VARCHAR', 'VARCHAR']);
    eq('mixed: values', await duckRows(`SELECT * FROM read_parquet('${file}')`),
      [{ i_r: 1, i_t: '1', nul: null }, { i_r: 2.5, i_t: 'two', nul: null }, { i_r: null, i_t: '3.5', nul: null }]);
  }
}

// 4. 0 rows: no files, a manifest and metadata.
{
  const dest = path.join(dir, 'zero');
  const r = unload(db, 'SELECT id, v FROM m WHERE 0', `file://${dest}`, { format: 'parquet' });
  check('0 rows: succeeds', r.result && r.result.rows === 0, r.error);
  if (r.result) {
    eq('0 rows: manifest has no files', readManifest(r.result).result_files, []);
    eq('0 rows: metadata', readMetadata(r.result).ColumnInfo.map((c) => c.Type.ScalarType), ['BIGINT', 'DOUBLE']);
  }
}

// 5. tslite's parquet table reads UNLOAD's output back to the same rows.
{
  const dest = path.join(dir, 'c-zstd');
  const man = fs.readdirSync(dest).find((f) => f.endsWith('_manifest.json'));
  const file = urlToPath(JSON.parse(fs.readFileSync(path.join(dest, man))).result_files[0].url);
  const out = run(db, `CREATE VIRTUAL TABLE temp.p USING parquet('file://${file}');
SELECT (SELECT count(*) FROM (SELECT id, host, v, ok, ts, day, note, region FROM m EXCEPT SELECT * FROM temp.p)),
       (SELECT count(*) FROM (SELECT * FROM temp.p EXCEPT SELECT id, host, v, ok, ts, day, note, region FROM m)),
       (SELECT count(*) FROM temp.p);
SELECT group_concat(name || ':' || type, ',') FROM pragma_table_info('p', 'temp');
`);
  eq('parquet table: same rows as the source table', out.trim().split('\n'), [`0|0|${N}`,
    'id:INTEGER,host:TEXT,v:REAL,ok:BOOLEAN,ts:TIMESTAMP,day:DATE,note:TEXT,region:TEXT']);
  // Filters (pruned with tslite's own statistics and page index) give the
  // same rows as on the source table.
  const WHERES = ['id BETWEEN 1234 AND 5678', 'id = 777', 'id > ' + (N - 10), `ts >= 1714564800000000000 + ${Math.floor((N * 2) / 3)}*1000000007`,
    "host = 'host-3'", "note = 'a,b'", 'v < -10', 'ok = 1 AND id < 500', "day = '2024-01-05'", 'note IS NULL'];
  const cmp = run(db, `CREATE VIRTUAL TABLE temp.p USING parquet('file://${file}');\n`
    + WHERES.map((w) => `SELECT (SELECT count(*) FROM (SELECT * FROM temp.p WHERE ${w} EXCEPT SELECT id, host, v, ok, ts, day, note, region FROM m WHERE ${w}))
      + (SELECT count(*) FROM (SELECT id, host, v, ok, ts, day, note, region FROM m WHERE ${w} EXCEPT SELECT * FROM temp.p WHERE ${w})),
      (SELECT count(*) FROM temp.p WHERE ${w}) = (SELECT count(*) FROM m WHERE ${w}), (SELECT count(*) FROM m WHERE ${w}) > 0;`).join('\n') + '\n');
  eq('parquet table: filtered scans equal the source table', cmp.trim().split('\n'), WHERES.map(() => '0|1|1'));
}

// 6. Rollover at max_file_size.
if (SANITIZE) {
  skip('parquet rollover', 'skipped under ASan (writes ~40 MB)');
} else {
  const dest = path.join(dir, 'roll');
  const r = unload(db, `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<250000)
    SELECT i, hex(randomblob(64)) AS h FROM c`, `file://${dest}`, { format: 'parquet', compression: 'none', max_file_size: '16MB' });
  check('parquet rollover: succeeds', r.result && r.result.rows === 250000, r.error);
  if (r.result) {
    const man = readManifest(r.result);
    check('parquet rollover: several files each <= 16MB', man.result_files.length >= 2
      && man.result_files.every((f) => f.file_metadata.content_length_in_bytes <= 16 * 1024 * 1024), JSON.stringify(man.result_files));
    eq('parquet rollover: manifest consistent', checkManifest(r.result, dest), '');
    const got = await duckRows(`SELECT count(*)::INT AS n, count(DISTINCT i)::INT AS d, min(i)::INT AS lo, max(i)::INT AS hi FROM read_parquet('${dest}/results/*.parquet')`);
    eq('parquet rollover: DuckDB reads every row once', got, [{ n: 250000, d: 250000, lo: 1, hi: 250000 }]);
    const counts = await Promise.all(man.result_files.map(async (f) =>
      (await duckRows(`SELECT count(*)::INT AS n FROM read_parquet('${urlToPath(f.url)}')`))[0].n));
    eq('parquet rollover: row_count per file', counts, man.result_files.map((f) => f.file_metadata.row_count));
  }
}

fs.rmSync(dir, { recursive: true, force: true });
done();
