// ts_unload of a timeseries table: the measure types declared by the table
// (DOUBLE, BIGINT, VARCHAR, BOOLEAN, TIMESTAMP) become the metadata and
// Parquet types; CSV and Parquet contents equal the query (the Parquet file
// read back through the parquet table and compared inside SQLite).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { check, eq, tmpDir, done, sqlite } from './lib.mjs';
import { parseCsv } from './unload_lib.mjs';

const dir = tmpDir('tslite-unload-ts-');
const db = path.join(dir, 't.db');
const SETUP = `SELECT ts_debug_set_now('2024-05-01T12:00:00Z');
CREATE VIRTUAL TABLE IF NOT EXISTS cpu USING timeseries(host DIMENSION, dc DIMENSION,
  d DOUBLE, b BIGINT, s VARCHAR, f BOOLEAN, ts TIMESTAMP);`;
let r = sqlite(db, `${SETUP}
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i<299)
INSERT INTO cpu(time, host, dc, d, b, s, f, ts)
  SELECT 1714561200000000000 + i*1000000000, 'h' || (i%3), CASE WHEN i%5=0 THEN NULL ELSE 'dc' || (i%2) END,
    i*0.5, i*10, CASE i%4 WHEN 0 THEN 'a,"b"' WHEN 1 THEN NULL ELSE 'ok' END, i%2,
    CASE WHEN i%7=0 THEN NULL ELSE 1714560000000000000 + i END FROM c;\n`);
check('setup', r.status === 0, r.stderr);

const unload = (opts) => {
  const x = sqlite(db, `${SETUP}\nSELECT ts_unload('SELECT * FROM cpu', 'file://${dir}/out', '${JSON.stringify(opts)}');\n`);
  if (x.status !== 0) return { error: x.stderr };
  return { result: JSON.parse(x.stdout.trim().split('\n').pop()) };
};
const fromUrl = (u) => u.slice('file://'.length);

// CSV
{
  const u = unload({ compression: 'gzip', include_header: true });
  check('csv: succeeds', u.result && u.result.rows === 300, u.error);
  if (u.result) {
    const meta = JSON.parse(fs.readFileSync(fromUrl(u.result.metadataFile), 'utf8'));
    eq('metadata types from the table declaration', meta.ColumnInfo.map((c) => `${c.Name}:${c.Type.ScalarType}`),
      ['time:BIGINT', 'host:VARCHAR', 'dc:VARCHAR', 'measure_name:VARCHAR', 'd:DOUBLE', 'b:BIGINT', 's:VARCHAR', 'f:BOOLEAN', 'ts:TIMESTAMP']);
    const man = JSON.parse(fs.readFileSync(fromUrl(u.result.manifestFile), 'utf8'));
    const rows = parseCsv(zlib.gunzipSync(fs.readFileSync(fromUrl(man.result_files[0].url))).toString('utf8'));
    const exp = sqlite(db, `${SETUP}\n.mode json\nSELECT CAST(time AS TEXT) AS time, host, dc, measure_name, d, CAST(b AS TEXT) AS b, s,
      CASE f WHEN 1 THEN 'true' WHEN 0 THEN 'false' END AS f,
      strftime('%Y-%m-%d %H:%M:%S', ts/1000000000, 'unixepoch') || '.' || printf('%09d', ts%1000000000) AS ts FROM cpu;\n`);
    const e = JSON.parse(exp.stdout.slice(exp.stdout.indexOf('[')));
    const cols = ['time', 'host', 'dc', 'measure_name', 'd', 'b', 's', 'f', 'ts'];
    eq('csv: header', rows[0], cols);
    let bad = '';
    rows.slice(1).forEach((row, i) => cols.forEach((c, k) => {
      const want = e[i][c];
      const ok = c === 'd' ? (want === null ? row[k] === null : parseFloat(row[k]) === want) : row[k] === want;
      if (!ok && !bad) bad = `row ${i} ${c}: ${JSON.stringify(row[k])} vs ${JSON.stringify(want)}`;
    }));
    eq('csv: values equal the query', [rows.length - 1, bad], [300, '']);
  }
}

// Parquet, read back through the parquet table.
{
  const u = unload({ format: 'parquet', partitioned_by: [] });
  check('parquet: succeeds', u.result && u.result.rows === 300, u.error);
  if (u.result) {
    const man = JSON.parse(fs.readFileSync(fromUrl(u.result.manifestFile), 'utf8'));
    r = sqlite(db, `${SETUP}
CREATE VIRTUAL TABLE temp.p USING parquet('${man.result_files[0].url}');
SELECT group_concat(name || ':' || type, ',') FROM pragma_table_info('p', 'temp');
SELECT (SELECT count(*) FROM (SELECT * FROM cpu EXCEPT SELECT * FROM temp.p)),
       (SELECT count(*) FROM (SELECT * FROM temp.p EXCEPT SELECT * FROM cpu)), (SELECT count(*) FROM temp.p);\n`);
    eq('parquet: schema and rows equal the timeseries table', r.stdout.trim().split('\n').slice(-2),
      ['time:INTEGER,host:TEXT,dc:TEXT,measure_name:TEXT,d:REAL,b:INTEGER,s:TEXT,f:BOOLEAN,ts:TIMESTAMP', '0|0|300']);
  }
}

fs.rmSync(dir, { recursive: true, force: true });
done();
