// cold_maintain.test.mjs: ts_maintain, the cold tier's write side
// (ext/maintain.c, docs/internals/cold-format.md), on the default file://
// directory beside the database and on s3rver: exact rows moved and left in
// the memory tier, keys and manifest rows, DuckDB reading the objects with
// hive_partitioning and agreeing on counts and sums, the Parquet encodings,
// a second pass moving nothing, the lease, orphans (ours deleted, another
// writer's kept), retention, and the error messages.
import path from 'node:path';
import fs from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { startS3 } from './s3fixture.mjs';
import { check, eq, done, sqlite, tmpDir } from './lib.mjs';

const duck = await (await DuckDBInstance.create(':memory:')).connect();
const duckRows = async (sql) => (await duck.runAndReadAll(sql)).getRowObjectsJson();
const s3 = await startS3({ bucket: 'cold' });
const NOW = ".output /dev/null\nSELECT ts_debug_set_now('2024-05-03T12:00:00Z');\n.output stdout";
const T0 = 1714608000000000000n;        // 2024-05-02T00:00:00Z
const BOUND = 1714716000000000000n;     // 2024-05-03T06:00:00Z = now - 6h
const N = 3000, STEP = 40000000000n;     // one row per 40 s per host pattern
const lit = (s) => `'${s.replace(/'/g, "''")}'`;

// Expected figures, computed here from the generator below.
const rows = [];
for (let i = 0; i < N; i++) {
  rows.push({ t: T0 + BigInt(i) * STEP, host: `h${i % 4}`, v: i * 0.5, n: i });
}
const old = rows.filter((r) => r.t < BOUND);
const fresh = rows.filter((r) => r.t >= BOUND);

const CREATE = (storage) => `CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, dc DIMENSION,
  v DOUBLE, n BIGINT, s VARCHAR, b BOOLEAN, magnetic_writes = true, magnetic_retention = '2d',
  partition_key = 'host'${storage ? `, storage = ${lit(storage)}` : ''});
WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM r WHERE i<${N - 1})
INSERT INTO cpu(time, host, dc, v, n, s, b) SELECT ${T0} + i*${STEP}, 'h'||(i%4),
  CASE WHEN i%5=0 THEN NULL ELSE 'x' END, i*0.5, i, 's'||(i%7), i%2 FROM r;`;

async function scenario(label, storage, env, localDir) {
  const dir = tmpDir(`tslite-cold-${label}-`);
  const db = path.join(dir, 'x.db');
  const q = (sql) => sqlite(db, NOW + '\n' + sql, { env });
  const uri = storage || `file://${db}.tslite`;   // the default: '<dbfile>.tslite/'
  if (!storage) localDir = `${db}.tslite`;
  let r = q(CREATE(storage));
  check(`${label}: setup`, r.status === 0 && !r.stderr, r.stderr);
  r = q(`SELECT ts_maintain('cpu');`);
  let j;
  try { j = JSON.parse(r.stdout.split('\n')[0]).tables[0]; } catch (e) { check(`${label}: ts_maintain JSON`, false, r.stdout + r.stderr); return; }
  eq(`${label}: rows moved, expired, aborted`, [j.table, j.rows_moved, j.rows_expired, j.rounds_aborted, j.boundary],
    ['cpu', old.length, 0, 0, Number(BOUND)]);
  check(`${label}: chunks moved and split`, j.chunks_moved >= 8 && j.chunks_split === 8, JSON.stringify(j));
  check(`${label}: writer id is 16 hex digits`, /^[0-9a-f]{16}$/.test(j.writer), j.writer);
  const keyRe = new RegExp(`^cpu/date=2024-05-0[23]/bucket=[0-7]/${j.writer}-[0-9a-f]{16}\\.parquet$`);
  check(`${label}: keys follow the layout`, j.keys.length === j.objects_written && j.keys.every((k) => keyRe.test(k)), JSON.stringify(j.keys));
  // Memory tier: exactly the rows at or after the boundary remain.
  r = q(`SELECT sum(nrow), min(tmin) FROM cpu_chunks;`);
  eq(`${label}: memory tier keeps the rows >= boundary`, r.stdout, `${fresh.length}|${BOUND}\n`);
  // The scan reads both tiers: every row, and the fresh ones alone by time.
  r = q(`SELECT count(*), min(time), sum(n) FROM cpu;
    SELECT count(*), min(time), sum(n) FROM cpu WHERE time >= ${BOUND};`);
  eq(`${label}: the scan returns both tiers`, r.stdout,
    `${rows.length}|${T0}|${rows.reduce((a, x) => a + x.n, 0)}\n` +
    `${fresh.length}|${BOUND}|${fresh.reduce((a, x) => a + x.n, 0)}\n`);
  r = q(`SELECT count(*) FROM cpu_chunks WHERE tmin < ${BOUND};
    SELECT count(*) FROM cpu_series WHERE tmin < ${BOUND};`);
  eq(`${label}: no chunk or series range older than the boundary`, r.stdout, '0\n0\n');
  // Manifest rows.
  r = q(`SELECT count(*), sum(nrow), min(tmin), max(tmax), sum(nseries), count(DISTINCT writer),
    sum(length(series_filter) >= 16), sum(substr(footer, -4) = CAST('PAR1' AS BLOB)) FROM cpu_objects;`);
  eq(`${label}: manifest totals`, r.stdout,
    `${j.objects_written}|${old.length}|${T0}|${old[old.length - 1].t}|16|1|${j.objects_written}|${j.objects_written}\n`);
  r = q(`SELECT substr(key, 10, 10), pk_min, pk_max, nrow FROM cpu_objects ORDER BY 1, 2;`);
  const exp = {};
  for (const x of old) {
    const d = new Date(Number(x.t / 1000000n)).toISOString().slice(0, 10);
    const k = `${d}|${x.host}`;
    exp[k] = (exp[k] || 0) + 1;
  }
  eq(`${label}: one object per day and host bucket, pk range = the host`, r.stdout,
    Object.keys(exp).sort().map((k) => `${k}|${k.split('|')[1]}|${exp[k]}`).join('\n') + '\n');
  r = q(`SELECT key, nbyte FROM cpu_objects ORDER BY key;`);
  const man = r.stdout.trim().split('\n').map((l) => l.split('|'));
  // Fetch the objects to a local tree (s3) or use the directory (file).
  let root = localDir;
  if (!root) {
    root = path.join(dir, 'fetched');
    for (const [k] of man) {
      fs.mkdirSync(path.dirname(path.join(root, k)), { recursive: true });
      const rr = sqlite(db, `SELECT writefile(${lit(path.join(root, k))}, ts_object_get(${lit(uri + '/' + k)}));`, { env });
      if (rr.stderr) console.log(`# ${rr.stderr}`);
    }
  }
  check(`${label}: object sizes equal nbyte`, man.every(([k, n]) => fs.existsSync(path.join(root, k)) && fs.statSync(path.join(root, k)).size === Number(n)),
    JSON.stringify(man));
  // DuckDB reads the lake.
  const glob = `${root}/cpu/**/*.parquet`;
  const d = await duckRows(`SELECT count(*)::VARCHAR AS c, sum(v)::BIGINT::VARCHAR AS sv, sum(n)::VARCHAR AS sn,
    count(DISTINCT host)::VARCHAR AS h, count(dc)::VARCHAR AS ndc, sum(b::INT)::VARCHAR AS sb,
    min(epoch_ns("time"))::VARCHAR AS tmin, count(DISTINCT "date")::VARCHAR AS days, count(DISTINCT bucket)::VARCHAR AS nb,
    sum(version)::VARCHAR AS ver FROM read_parquet('${glob}', hive_partitioning=true)`);
  const nb = new Set(old.map((x) => x.host)).size;
  eq(`${label}: DuckDB agrees on counts and sums`, d[0], {
    c: String(old.length), sv: String(old.reduce((a, x) => a + x.v, 0)), sn: String(old.reduce((a, x) => a + x.n, 0)),
    h: '4', ndc: String(old.filter((x) => x.n % 5 !== 0).length), sb: String(old.filter((x) => x.n % 2).length),
    tmin: String(T0), days: '2', nb: d[0].nb === String(nb) || Number(d[0].nb) <= nb ? d[0].nb : 'bad', ver: String(old.length),
  });
  const dd = await duckRows(`SELECT "date"::VARCHAR AS day, count(*)::VARCHAR AS c FROM read_parquet('${glob}', hive_partitioning=true) GROUP BY 1 ORDER BY 1`);
  eq(`${label}: DuckDB rows per date= partition`, dd, [
    { day: '2024-05-02', c: String(old.filter((x) => x.t < T0 + 86400000000000n).length) },
    { day: '2024-05-03', c: String(old.filter((x) => x.t >= T0 + 86400000000000n).length) }]);
  const sorted = await duckRows(`SELECT count(*)::VARCHAR AS bad FROM (SELECT k, "time", lag("time") OVER w AS pt, lag(k) OVER w AS pk
    FROM (SELECT *, host || '|' || CASE WHEN dc IS NULL THEN '0' ELSE '1' || dc END AS k FROM read_parquet('${glob}', filename=true, file_row_number=true))
    WINDOW w AS (PARTITION BY filename ORDER BY file_row_number))
    WHERE pk IS NOT NULL AND (pk > k OR (pk = k AND pt >= "time"))`);
  eq(`${label}: rows sorted by (partition key, series, time) in every object`, sorted, [{ bad: '0' }]);
  const meta = await duckRows(`SELECT DISTINCT path_in_schema AS col, compression, encodings FROM parquet_metadata('${glob}') WHERE path_in_schema IN ('time','host','measure_name') ORDER BY 1`);
  eq(`${label}: encodings and zstd`, meta.map((m) => [m.col, m.compression, m.encodings.includes(m.col === 'time' ? 'DELTA_BINARY_PACKED' : 'RLE_DICTIONARY')]),
    [['host', 'ZSTD', true], ['measure_name', 'ZSTD', true], ['time', 'ZSTD', true]]);
  const sch = await duckRows(`SELECT DISTINCT name, logical_type::VARCHAR AS lt FROM parquet_schema('${glob}') WHERE name = 'time'`);
  check(`${label}: time is TIMESTAMP(NANOS, UTC)`, sch.length === 1 && /isAdjustedToUTC=1|isAdjustedToUTC=true/.test(sch[0].lt) && /NANOS/.test(sch[0].lt), JSON.stringify(sch));
  // A second pass moves nothing.
  r = q(`SELECT json_extract(ts_maintain('cpu'), '$.tables[0].rows_moved', '$.tables[0].objects_written');`);
  eq(`${label}: second pass moves nothing`, r.stdout, '[0,0]\n');
  // The lease: another live holder makes ts_maintain return at once.
  r = q(`INSERT OR REPLACE INTO cpu_config(k, v) VALUES('cold.lease', '{"holder":"otherhost:42:ab","expires":' || (CAST(strftime('%s','now') AS INTEGER)*1000 + 600000) || '}');
    SELECT json_extract(ts_maintain('cpu'), '$.tables[0].busy');
    SELECT v->>'holder' FROM cpu_config WHERE k='cold.lease';`);
  eq(`${label}: lease held by another maintainer`, r.stdout, 'otherhost:42:ab\notherhost:42:ab\n');
  r = q(`UPDATE cpu_config SET v = json_set(v, '$.expires', 1) WHERE k='cold.lease';
    SELECT json_extract(ts_maintain('cpu'), '$.tables[0].busy') IS NULL; SELECT count(*) FROM cpu_config WHERE k='cold.lease';`);
  eq(`${label}: an expired lease is taken over and released`, r.stdout, '1\n0\n');
  // Orphans: ours (not in the manifest) deleted past the grace period; another writer's kept.
  const ours = `cpu/date=2024-05-02/bucket=0/${j.writer}-00000000000000aa.parquet`;
  const theirs = 'cpu/date=2024-05-02/bucket=0/0123456789abcdef-00000000000000bb.parquet';
  r = q(`SELECT ts_object_put(${lit(uri + '/' + ours)}, 'x'), ts_object_put(${lit(uri + '/' + theirs)}, 'y');
    SELECT json_extract(ts_maintain('cpu'), '$.tables[0].orphans_deleted');
    SELECT json_extract(ts_maintain('cpu', '{"orphan_grace":"0s"}'), '$.tables[0].orphans_deleted');
    SELECT key FROM ts_object_list(${lit(uri)}, 'cpu/') WHERE key NOT IN (SELECT key FROM cpu_objects);`);
  eq(`${label}: orphans: kept within grace, then ours deleted, theirs kept`, r.stdout, `1|1\n0\n1\n${theirs}\n`);
  r = q(`SELECT ts_maintain('cpu', '[1');`);
  check(`${label}: bad options JSON`, r.stderr.includes('ts_maintain: options must be a JSON object'), r.stderr);
  // Retention: a week later every object and the memory rows are past memory + magnetic retention.
  r = sqlite(db, `.output /dev/null
SELECT ts_debug_set_now('2024-05-10T12:00:00Z');
.output stdout

    SELECT json_extract(ts_maintain('cpu'), '$.tables[0].objects_expired', '$.tables[0].rows_expired', '$.tables[0].rows_moved');
    SELECT count(*) FROM cpu_objects; SELECT count(*) FROM cpu;
    SELECT count(*) FROM ts_object_list(${lit(uri)}, 'cpu/');
    SELECT json_extract(ts_maintain('cpu', '{"orphan_grace":"0s"}'), '$.tables[0].retired_deleted');
    SELECT count(*) FROM ts_object_list(${lit(uri)}, 'cpu/');`, { env });
  // Expired objects are retired (kept for readers of the old manifest until
  // orphan_grace has passed), then deleted; another writer's object stays.
  eq(`${label}: retention removes expired objects from the manifest, then the store`, r.stdout,
    `[${j.objects_written},${fresh.length},0]\n0\n0\n${j.objects_written + 1}\n${j.objects_written}\n1\n`);
}

await scenario('file-default', null, {}, null).catch((e) => check('file-default', false, e.stack));

await scenario('s3', 's3://cold/lake', s3.env, null).catch((e) => check('s3', false, e.stack));

// Errors.
{
  let r = sqlite(':memory:', `CREATE VIRTUAL TABLE m USING timeseries(h DIMENSION, v DOUBLE); SELECT ts_maintain('m');`);
  check('in-memory database without storage: error names the option', r.stderr.includes(
    "ts_maintain m: the database is in memory or temporary, so it has no default storage directory: create the table with the option storage = 's3://bucket/prefix' or 'file:///abs/dir'"), r.stderr);
  r = sqlite(':memory:', `SELECT ts_maintain('nope');`);
  check('unknown table', r.stderr.includes("ts_maintain: no timeseries table named 'nope' in schema main"), r.stderr);
  r = sqlite(':memory:', `CREATE VIRTUAL TABLE m USING timeseries(h DIMENSION, v DOUBLE, storage='file:///tmp/x'); BEGIN; SELECT ts_maintain('m');`);
  check('inside a transaction', r.stderr.includes('ts_maintain: cannot run inside a transaction'), r.stderr);
  const dir = tmpDir('tslite-cold-all-');
  r = sqlite(path.join(dir, 'a.db'), `CREATE VIRTUAL TABLE a USING timeseries(h DIMENSION, v DOUBLE); CREATE VIRTUAL TABLE b USING timeseries(h DIMENSION, v DOUBLE);
    CREATE TABLE plain(x); SELECT json_extract(ts_maintain(), '$.tables[0].table', '$.tables[1].table', '$.tables[2]');`);
  eq('ts_maintain() covers every timeseries table', r.stdout, '["a","b",null]\n');
}
await s3.stop();
done();
