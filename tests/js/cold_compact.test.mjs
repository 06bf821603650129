// cold_compact.test.mjs: the cold tier's object rewrites in ts_maintain
// (ext/maintain.c, docs/internals/cold-format.md section 5):
//  - retention of partly expired objects: an object with tmin < expiry <= tmax
//    is rewritten without the expired rows (new manifest row and old one
//    removed in one transaction, the old object deleted from the store);
//  - compaction: a simulated week of hourly maintenance (ts_debug_set_now)
//    leaves at most a handful of objects per day and bucket, with exactly the
//    rows written (DuckDB over the manifest's objects), no record key twice;
//  - late data merged by compaction: the higher version wins, an equal version
//    with other values is rejected (the older object's row stays);
//  - bounded work per pass (compact_max_bytes) and resumption;
//  - option errors.
import path from 'node:path';
import fs from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { check, eq, done, sqlite, tmpDir } from './lib.mjs';

const duck = await (await DuckDBInstance.create(':memory:')).connect();
const duckRows = async (sql) => (await duck.runAndReadAll(sql)).getRowObjectsJson();
const T0 = 1714608000000000000n;       // 2024-05-02T00:00:00Z
const H = 3600000000000n, D = 24n * H, MIN = 60000000000n;
const setNow = (t) => `.output /dev/null\nSELECT ts_debug_set_now(${t});\n.output stdout\n`;
const lit = (s) => `'${s.replace(/'/g, "''")}'`;
const j0 = (out) => JSON.parse(out.trim().split('\n').pop()).tables[0];

function lake(db) {
  const r = sqlite(db, 'SELECT key FROM cpu_objects ORDER BY key;');
  const keys = r.stdout.trim().split('\n').filter(Boolean);
  return '[' + keys.map((k) => lit(path.join(`${db}.tslite`, k))).join(',') + ']';
}

// 1. Retention of partly expired objects.
{
  const dir = tmpDir('tslite-trim-');
  const db = path.join(dir, 'x.db');
  // 2 hosts, one row a minute over 2024-05-02, memory 1h, magnetic 1d.
  let r = sqlite(db, `${setNow(T0 + D + H)}CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE,
    memory_retention = '1h', magnetic_retention = '1d', magnetic_writes = true, partition_key = 'host');
    WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < 2879)
    INSERT INTO cpu(time, host, v) SELECT ${T0} + (x / 2) * ${MIN}, 'h' || (x % 2), x FROM i;
    SELECT ts_maintain('cpu');`);
  let j = j0(r.stdout);
  check('trim: setup tiers the day', r.status === 0 && j.rows_moved === 2880 && j.objects_trimmed === 0, r.stderr + r.stdout);
  r = sqlite(db, 'SELECT group_concat(key) FROM cpu_objects;');
  const oldKeys = r.stdout.trim().split(',');
  // Expiry E = now - 1h - 1d = 2024-05-02T10:00: rows before 10:00 expire.
  const now = T0 + D + 11n * H;
  const E = now - H - D;
  r = sqlite(db, `${setNow(now)}SELECT ts_maintain('cpu');`);
  j = j0(r.stdout);
  const keep = 2 * Number((T0 + D - E) / MIN);
  eq('trim: partly expired objects are rewritten, their expired rows counted',
    [j.objects_expired, j.objects_trimmed, j.rows_expired, j.rows_moved], [0, oldKeys.length, 2880 - keep, 0]);
  r = sqlite(db, `SELECT count(*), sum(nrow), min(tmin), max(tmax) FROM cpu_objects;
    SELECT count(*) FROM cpu_objects WHERE key IN (${oldKeys.map(lit).join(',')});
    SELECT count(*) FROM ts_object_list('file://${db}.tslite', 'cpu/');
    SELECT count(*) FROM cpu_config WHERE k GLOB 'cold.retired:*';
    SELECT ts_check('cpu');`);
  // The rewritten objects are retired, not deleted: a reader of the old
  // manifest may still be reading them (deleted after orphan_grace).
  eq('trim: manifest holds only rows >= expiry; old objects retired', r.stdout,
    `${oldKeys.length}|${keep}|${E}|${T0 + D - MIN}\n0\n${2 * oldKeys.length}\n${oldKeys.length}\nok\n`);
  r = sqlite(db, `${setNow(now)}SELECT json_extract(ts_maintain('cpu', '{"orphan_grace":"0s"}'), '$.tables[0].retired_deleted');
    SELECT count(*) FROM ts_object_list('file://${db}.tslite', 'cpu/');
    SELECT count(*) FROM cpu_config WHERE k GLOB 'cold.retired:*';`);
  eq('trim: a pass past the grace deletes the retired objects', r.stdout, `${oldKeys.length}\n${oldKeys.length}\n0\n`);
  const d = await duckRows(`SELECT count(*)::VARCHAR AS c, min(epoch_ns("time"))::VARCHAR AS t, sum(v)::BIGINT::VARCHAR AS s,
    count(DISTINCT (host, "time"))::VARCHAR AS u FROM read_parquet(${lake(db)})`);
  let sum = 0;
  for (let x = 0; x < 2880; x++) if (T0 + BigInt(x >> 1) * MIN >= E) sum += x;
  eq('trim: DuckDB reads exactly the kept rows', d[0], { c: String(keep), t: String(E), s: String(sum), u: String(keep) });
}

// 2. A week of hourly maintenance, partitioned by host (4 hosts: up to 4
// buckets) and by the default measure_name (one bucket).
async function week(label, pk, HOSTS) {
  const dir = tmpDir('tslite-compact-');
  const db = path.join(dir, 'x.db');
  const PER_HOUR = 60;    // one row a minute per host
  let sql = `${setNow(T0)}CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE, n BIGINT,
    memory_retention = '1h'${pk ? `, partition_key = '${pk}'` : ''});\n`;
  let total = 0, sumN = 0;
  for (let h = 1; h <= 7 * 24; h++) {
    const now = T0 + BigInt(h) * H;
    sql += `${setNow(now)}WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < ${HOSTS * PER_HOUR - 1})
      INSERT INTO cpu(time, host, v, n) SELECT ${now - H} + (x / ${HOSTS}) * ${MIN}, 'h' || (x % ${HOSTS}), x * 0.5, ${total} + x FROM i;
      SELECT ts_maintain('cpu');\n`;
    for (let x = 0; x < HOSTS * PER_HOUR; x++) sumN += total + x;
    total += HOSTS * PER_HOUR;
  }
  const t0 = Date.now();
  let r = sqlite(db, sql);
  const ms = Date.now() - t0;
  const passes = r.stdout.trim().split('\n').map((l) => JSON.parse(l).tables[0]);
  check(`${label}: 168 hourly passes ran`, r.status === 0 && passes.length === 168 && !r.stderr, r.stderr.slice(0, 500));
  const compacted = passes.reduce((a, p) => a + p.objects_compacted, 0);
  const written = passes.reduce((a, p) => a + p.objects_written, 0);
  const into = passes.reduce((a, p) => a + p.compacted_into, 0);
  r = sqlite(db, `SELECT count(*), count(DISTINCT substr(key, 10, 10)) FROM cpu_objects;
    SELECT max(c) FROM (SELECT count(*) AS c FROM cpu_objects GROUP BY substr(key, 1, instr(substr(key, 5), '/bucket=') + 4 + 9));
    SELECT max(c) FROM (SELECT count(*) AS c FROM cpu_objects GROUP BY substr(key, 10, 10));
    SELECT ((SELECT coalesce(sum(nrow), 0) FROM cpu_chunks) + (SELECT sum(nrow) FROM cpu_objects)) || '|' || (SELECT count(*) FROM cpu);
    SELECT count(DISTINCT substr(key, instr(key, '/bucket=') + 8, 1)) FROM cpu_objects;
    SELECT ts_check('cpu');`);
  const [objs, perBucket, perDay, rows, buckets, chk] = r.stdout.trim().split('\n');
  const [nObj, nDay] = objs.split('|').map(Number);
  console.log(`# ${label}: week of hourly maintenance: ${written} objects tiered, ${compacted} merged into ${into}; now ${nObj} objects over ${nDay} days and ${buckets} buckets, max ${perBucket} per day and bucket, max ${perDay} per day; ${ms} ms for 168 passes`);
  check(`${label}: compaction ran`, compacted > 0 && into > 0, JSON.stringify({ compacted, into }));
  check(`${label}: at most 4 objects per day and bucket (${perBucket})`, Number(perBucket) <= 4, perBucket);
  check(`${label}: at most 4 objects per day per bucket in use (${perDay} per day, ${buckets} buckets)`, Number(perDay) <= 4 * Number(buckets), perDay);
  eq(`${label}: memory + manifest rows = rows the scan returns = rows written; ts_check ok`, [rows, chk], [`${total}|${total}`, 'ok']);
  const d = await duckRows(`SELECT count(*)::VARCHAR AS c, count(DISTINCT (host, "time"))::VARCHAR AS u, sum(n)::VARCHAR AS s
    FROM read_parquet(${lake(db)})`);
  r = sqlite(db, `SELECT sum(nrow) FROM cpu_objects; SELECT coalesce(sum(n), 0) FROM cpu WHERE time >= (SELECT min(tmin) FROM cpu_chunks);`);
  const [coldRows, memSum] = r.stdout.trim().split('\n');
  eq(`${label}: DuckDB reads the manifest rows once each, sums agree with rows written`, d[0],
    { c: coldRows, u: coldRows, s: String(BigInt(sumN) - BigInt(memSum)) });
  const sorted = await duckRows(`SELECT count(*)::VARCHAR AS bad FROM (SELECT host, "time", lag("time") OVER w AS pt, lag(host) OVER w AS ph
    FROM read_parquet(${lake(db)}, filename=true, file_row_number=true) WINDOW w AS (PARTITION BY filename ORDER BY file_row_number))
    WHERE ph IS NOT NULL AND (ph > host OR (ph = host AND pt >= "time"))`);
  eq(`${label}: merged objects stay sorted by (partition key, series, time)`, sorted, [{ bad: '0' }]);
  r = sqlite(db, `SELECT count(*) = (SELECT count(*) FROM cpu_config WHERE k GLOB 'cold.retired:*')
    FROM ts_object_list('file://${db}.tslite', 'cpu/') WHERE key NOT IN (SELECT key FROM cpu_objects);
${setNow(T0 + BigInt(7 * 24) * H)}SELECT json_extract(ts_maintain('cpu', '{"orphan_grace":"0s"}'), '$.tables[0].retired_deleted') = ${compacted};
    SELECT count(*) FROM ts_object_list('file://${db}.tslite', 'cpu/') WHERE key NOT IN (SELECT key FROM cpu_objects);`);
  eq(`${label}: merged-away objects are retired, then deleted after the grace`, r.stdout, '1\n1\n0\n');
}
await week('week by host', 'host', 4);
await week('week by measure_name', null, 8);

// 3. Late data, versions and conflicts merged by compaction.
{
  const dir = tmpDir('tslite-late-');
  const db = path.join(dir, 'x.db');
  const now = T0 + D + 12n * H;
  let r = sqlite(db, `${setNow(now)}CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE,
      memory_retention = '1h', magnetic_writes = true);
    INSERT INTO cpu(time, host, v) VALUES (${T0 + H}, 'a', 1), (${T0 + 2n * H}, 'a', 3), (${T0 + 3n * H}, 'a', 4);
    SELECT ts_maintain('cpu');
    INSERT INTO cpu(time, host, v, version) VALUES (${T0 + H}, 'a', 2, 2), (${T0 + 2n * H}, 'a', 5, 1), (${T0 + 3n * H}, 'a', 4, 1), (${T0 + 4n * H}, 'a', 6, 1);
    SELECT ts_maintain('cpu', '{"compact_max_bytes":0}');
    SELECT count(*) FROM cpu_objects;
    SELECT ts_maintain('cpu');
    SELECT count(*), sum(nrow) FROM cpu_objects;
    SELECT group_concat(v, ',') FROM (SELECT v FROM cpu ORDER BY time);`);
  const lines = r.stdout.trim().split('\n');
  check('late: setup', r.status === 0 && lines.length === 6, r.stderr + r.stdout);
  eq('late: the scan over the compacted object returns the winners', lines[5], '2.0,3.0,4.0,6.0');
  eq('late: two objects of one day before compaction', lines[2], '2');
  const j = JSON.parse(lines[3]).tables[0];
  eq('late: compaction merged 2 into 1, 3 keys twice, 1 conflicting value rejected',
    [j.objects_compacted, j.compacted_into, j.duplicates_dropped, j.rows_rejected], [2, 1, 3, 1]);
  eq('late: one object with one row per record key', lines[4], '1|4');
  const d = await duckRows(`SELECT epoch_ns("time")::VARCHAR AS t, v, version::VARCHAR AS ver FROM read_parquet(${lake(db)}) ORDER BY 1`);
  eq('late: the higher version wins, an equal version keeps the first value', d.map((x) => [x.t, x.v, x.ver]), [
    [String(T0 + H), 2, '2'], [String(T0 + 2n * H), 3, '1'], [String(T0 + 3n * H), 4, '1'], [String(T0 + 4n * H), 6, '1']]);
}

// 4. Bounded work per pass, resumed by the next pass; option errors.
{
  const dir = tmpDir('tslite-budget-');
  const db = path.join(dir, 'x.db');
  let sql = `${setNow(T0)}CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE, memory_retention = '1h');\n`;
  for (let h = 1; h <= 12; h++) {
    const now = T0 + BigInt(h) * H;
    sql += `${setNow(now)}WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < 59)
      INSERT INTO cpu(time, host, v) SELECT ${now - H} + x * ${MIN}, 'h', x FROM i;
      SELECT ts_maintain('cpu', '{"compact_target":1}');\n`;
  }
  let r = sqlite(db, `${sql}.output /dev/null\n.output stdout\nSELECT count(*), max(nbyte) FROM cpu_objects;`);
  const [n12, maxB] = r.stdout.trim().split('\n').pop().split('|').map(Number);
  eq('budget: 11 hourly objects without compaction (the 12th hour is in memory)', n12, 11);
  const now = T0 + 2n * D;   // the day is closed: merged as soon as two are small
  r = sqlite(db, `${setNow(now)}SELECT ts_maintain('cpu', '{"compact_max_bytes":${maxB * 3},"compact_target":"1MB"}');
    SELECT count(*) FROM cpu_objects;
    SELECT ts_maintain('cpu', '{"compact_target":"1MB"}');
    SELECT count(*), sum(nrow) FROM cpu_objects;`);
  const [a, na, b, nb] = r.stdout.trim().split('\n');
  const ja = JSON.parse(a).tables[0], jb = JSON.parse(b).tables[0];
  check('budget: the first pass stops after its byte budget', ja.objects_compacted >= 2 && ja.objects_compacted <= 4 && Number(na) === 12 - ja.objects_compacted + 1 && ja.objects_written === 1,
    JSON.stringify([ja.objects_compacted, na]));
  eq('budget: the next pass finishes the day in one object', [nb, jb.compacted_into], ['1|720', 1]);
  for (const [opt, msg] of [
    ['{"compact_target":"big"}', "ts_maintain: bad value for compact_target: 'big' (expected a size in bytes such as 67108864 or '64MB')"],
    ['{"compact_min_objects":1}', "ts_maintain: bad value for compact_min_objects: '1' (expected an integer from 2 to 64)"],
    ['{"compaction":true}', "ts_maintain: unknown option 'compaction' (options: orphan_grace, compact_target, compact_max_bytes, compact_min_objects)"]]) {
    r = sqlite(db, `SELECT ts_maintain('cpu', ${lit(opt)});`);
    check(`options: ${opt} is refused with its name`, r.stderr.includes(msg), r.stderr);
  }
}
done();
