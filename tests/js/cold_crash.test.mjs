// cold_crash.test.mjs: kill -9 inside ts_maintain (file:// and s3rver, the two
// stores run at the same time).  Every round has a small table of its own
// (600 rows over two days), so a round costs the same at round 1 and round
// 200 and no round inherits a backlog:
//  - tiering rounds: the child runs ts_maintain on a fresh table (two
//    objects to write, a chunk to split) and dies at a named crash point
//    (ts_debug_kill_at; docs/internals/cold-format.md section 5: object
//    written but upload not finished, uploaded, inside the commit
//    transaction, just after COMMIT) or at a seeded random instant (1 round
//    in 3: mid-request, mid-fsync, the places no named point marks);
//  - compaction rounds: a fresh table with two small objects of one day;
//    the child's pass only compacts (compact_min_objects 2) and dies at a
//    named point (upload-finishing, compact-uploaded, rewrite-in-commit,
//    rewrite-committed) or at random.
// Named rounds die at their point whatever the machine's load; random rounds
// are never required to land anywhere (tests/js/crash.mjs pointOf).  After
// every round a fresh process checks the cheap invariant: rows(memory) +
// sum(manifest nrow) = rows written, every manifest object in the store with
// its nbyte; every 4th round and every named round also the full oracle
// (the scan over both tiers returns every row once: count, distinct record
// keys, sum of n).  Then it runs the next pass (orphan_grace 0s) to its end
// and checks: no row lost, no orphan and no retired object left in the
// store, ts_check ok, and for compaction the day is one object.  At the end
// DuckDB reads every object of every table: sum(nrow) rows, no record key
// twice; the orphan pass is killed between its store deletes and forgetting
// the retired entries; retention is killed after its COMMIT.
// Default: 120 tiering + 60 compaction rounds on file://, 80 + 40 on
// s3rver (200 maintain rounds and 100 compaction rounds in all); TS_LONG=1
// five times that; TS_CRASH_ROUNDS / TS_CRASH_COMPACT_ROUNDS set the
// per-store counts of either; TS_SANITIZE=1 a quarter.
import path from 'node:path';
import fs from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { startS3 } from './s3fixture.mjs';
import { crashRounds, killAfter } from './crash.mjs';
import { check, eq, done, tmpDir } from './lib.mjs';

const duck = await (await DuckDBInstance.create(':memory:')).connect();
const LONG = process.env.TS_LONG === '1';
const SCALE = LONG ? 5 : process.env.TS_SANITIZE === '1' ? 0.25 : 1;
// [file://, s3rver]
const TIER_ROUNDS = process.env.TS_CRASH_ROUNDS ? [1, 1].map(() => Number(process.env.TS_CRASH_ROUNDS))
  : [120, 80].map((n) => Math.ceil(n * SCALE));
const COMPACT_ROUNDS = process.env.TS_CRASH_COMPACT_ROUNDS ? [1, 1].map(() => Number(process.env.TS_CRASH_COMPACT_ROUNDS))
  : [60, 40].map((n) => Math.ceil(n * SCALE));
const T0 = 1714608000000000000n;       // 2024-05-02T00:00:00Z
const MIN = 60000000000n, H = 60n * MIN;
const lit = (s) => `'${s.replace(/'/g, "''")}'`;
const setNow = (t) => `.output /dev/null\nSELECT ts_debug_set_now(${t});\n.output stdout\n`;
const TIER_POINTS = ['upload-finishing', 'uploaded', 'round-in-commit', 'round-committed'];
const COMPACT_POINTS = ['upload-finishing', 'compact-uploaded', 'rewrite-in-commit', 'rewrite-committed'];
const TABLES_PER_DB = 25;              // a new database file every 25 tables (schema parse per process)
const ROWS = 600, SUMN = (ROWS * (ROWS - 1)) / 2;
// Two of every three rounds die at a named point (each point in turn), one at random.
const pointOf = (points) => (k) => (k % 3 === 0 ? null : points[(k - 1 - Math.floor(k / 3)) % points.length]);

// Run sql in a sqlite3 child (extension loaded, not killed): {code, out, err}.
const sq = (db, sql, env) => killAfter(db, sql, { env, ms: 600000 });

async function run(label, storage, env) {
  const si = storage.startsWith('s3:') ? 1 : 0;
  const NT = TIER_ROUNDS[si], NC = COMPACT_ROUNDS[si];
  const dir = tmpDir(`tslite-coldcrash-${label}-`);
  const dbOf = (name) => path.join(dir, `g${Math.floor(Number(name.slice(1)) / TABLES_PER_DB)}${name[0]}.db`);
  const made = [];                       // every table, for the final DuckDB check
  const create = (t) => `CREATE VIRTUAL TABLE ${t} USING timeseries(host DIMENSION, v DOUBLE, n BIGINT,
      memory_retention = '1h', magnetic_writes = true, storage = ${lit(storage)});`;
  // A tiering table: 4 hosts x 150 minutes in [T0 - 90 min, T0 + 60 min),
  // at now = T0 + 90 min: 480 rows over two days go cold, 120 stay.
  const tierNow = T0 + 90n * MIN;
  const tierPrep = (t) => `${setNow(tierNow)}${create(t)}
    WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < ${ROWS - 1})
    INSERT INTO ${t}(time, host, v, n) SELECT ${T0 - 90n * MIN} + (x / 4) * ${MIN}, 'h' || (x % 4), x * 0.25, x FROM i;`;
  // A compaction table: two hours of 300 rows each, tiered one at a time
  // without compaction (compact_target 1 byte: nothing is small) into two
  // objects of 2024-05-02; its rounds run at compNow.
  const compNow = T0 + 3n * H;
  const compPrep = (t) => `${setNow(T0 + 2n * H)}${create(t)}
    WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < ${ROWS / 2 - 1})
    INSERT INTO ${t}(time, host, v, n) SELECT ${T0} + (x / 4) * 48000000000, 'h' || (x % 4), x * 0.25, x FROM i;
.output /dev/null
    SELECT ts_maintain('${t}', '{"compact_target":1}');
${setNow(compNow)}WITH RECURSIVE i(x) AS (SELECT ${ROWS / 2} UNION ALL SELECT x+1 FROM i WHERE x < ${ROWS - 1})
    INSERT INTO ${t}(time, host, v, n) SELECT ${T0 + H} + ((x - ${ROWS / 2}) / 4) * 48000000000, 'h' || (x % 4), x * 0.25, x FROM i;
.output /dev/null
    SELECT ts_maintain('${t}', '{"compact_target":1}');
.output stdout
    SELECT 'objects ' || count(*) FROM ${t}_objects;`;
  // A table is prepared by the verify process of the round before when both
  // live in one database (one process less per round), else on its own.
  const prepared = new Set();
  const prepOut = (t) => (t[0] === 'c' ? 'objects 2\n' : '');
  const prepare = async (t, prep) => {
    if (prepared.has(t)) return null;
    const r = await sq(dbOf(t), prep(t), env);
    made.push(t);
    if (r.code !== 0 || r.err) return `prepare ${t}: ${r.out} ${r.err}`;
    if (r.out !== prepOut(t)) return `prepare ${t}: ${r.out.trim()}, expected 2 objects`;
    return null;
  };
  // The checks after a kill and after the next pass (one process).
  const verify = async (t, now, full, passOpts, res, next, prep) => {
    if (!res.killed && res.err) return `ts_maintain: ${res.err}`;
    const bNext = next && dbOf(next) === dbOf(t);
    const r = await sq(dbOf(t), `${setNow(now)}SELECT (SELECT coalesce(sum(nrow), 0) FROM ${t}_chunks) + (SELECT coalesce(sum(nrow), 0) FROM ${t}_objects);
      SELECT count(*) FROM ${t}_objects WHERE key NOT IN (SELECT key FROM ts_object_list(${lit(storage)}, '${t}/'));
      SELECT count(*) FROM ${t}_objects o JOIN ts_object_list(${lit(storage)}, '${t}/') l USING (key) WHERE l.size != o.nbyte;
      ${full ? `SELECT count(*) || '|' || count(DISTINCT host || '|' || time) || '|' || sum(n) FROM ${t};` : `SELECT '${ROWS}|${ROWS}|${SUMN}';`}
.output /dev/null
      SELECT ts_maintain('${t}', '${JSON.stringify({ orphan_grace: '0s', ...passOpts })}');
.output stdout
      SELECT count(*) FROM ts_object_list(${lit(storage)}, '${t}/') WHERE key NOT IN (SELECT key FROM ${t}_objects);
      SELECT count(*) FROM ${t}_config WHERE k GLOB 'cold.retired:*';
      SELECT (SELECT coalesce(sum(nrow), 0) FROM ${t}_chunks) + (SELECT coalesce(sum(nrow), 0) FROM ${t}_objects);
      SELECT ${t[0] === 'c' ? `count(*) FROM ${t}_objects` : '1'};
      SELECT ts_check('${t}');
${bNext ? prep(next) : ''}`, env);
    if (bNext) { prepared.add(next); made.push(next); }
    const want = `${ROWS}\n0\n0\n${ROWS}|${ROWS}|${SUMN}\n0\n0\n${ROWS}\n1\nok\n${bNext ? prepOut(next) : ''}`;
    return r.out === want && !r.err ? null
      : `${t}: got ${JSON.stringify(r.out)} ${r.err}, expected ${JSON.stringify(want)} (after the kill: rows in chunks + objects, missing objects, size mismatches, scan count|distinct keys|sum(n); after the next pass: orphans, retired objects left, rows, ${t[0] === 'c' ? 'objects of the day' : '1'}, ts_check)`;
  };

  const tName = (k) => `t${k}`, cName = (k) => `c${k}`;
  await crashRounds({
    label: `${label} tiering`, db: (k) => dbOf(tName(k)), rounds: NT, env, maxMs: 'auto',
    pointOf: pointOf(TIER_POINTS),
    prepare: (k) => prepare(tName(k), tierPrep),
    action: (k) => `${setNow(tierNow)}SELECT ts_maintain('${tName(k)}');`,
    verify: (k, res) => verify(tName(k), tierNow, k % 4 === 0 || !!res.point, {}, res, k < NT && tName(k + 1), tierPrep),
  });
  await crashRounds({
    label: `${label} compaction`, db: (k) => dbOf(cName(k)), rounds: NC, env, maxMs: 'auto',
    pointOf: pointOf(COMPACT_POINTS),
    prepare: (k) => prepare(cName(k), compPrep),
    action: (k) => `${setNow(compNow)}SELECT json_extract(ts_maintain('${cName(k)}', '{"compact_min_objects":2}'), '$.tables[0].objects_compacted');`,
    verify: (k, res) => verify(cName(k), compNow, k % 4 === 0 || !!res.point, { compact_min_objects: 2 }, res, k < NC && cName(k + 1), compPrep),
  });

  // The orphan pass killed between its store deletes and forgetting the
  // retired entries: a compaction that ran to its end leaves the two merged
  // objects retired (within the default grace); the pass with grace 0s
  // deletes them and is killed; the next pass forgets them.
  const co = cName(NC + 1);
  let why = await prepare(co, compPrep);
  let r = why ? null : await sq(dbOf(co), `${setNow(compNow)}SELECT json_extract(ts_maintain('${co}', '{"compact_min_objects":2}'), '$.tables[0].objects_compacted');
    SELECT count(*) FROM ${co}_config WHERE k GLOB 'cold.retired:*';`, env);
  check(`${label}: a compaction to its end retires the merged objects`, !why && r.out === '2\n2\n' && !r.err, why || `${r.out} ${r.err}`);
  const ko = await sq(dbOf(co), `.output /dev/null\nSELECT ts_debug_kill_at('orphans-deleted');\n${setNow(compNow)}SELECT ts_maintain('${co}', '{"orphan_grace":"0s"}');`, env);
  why = ko.code === null ? await verify(co, compNow, true, { compact_min_objects: 2 }, { killed: true }) : `not killed: ${ko.code} ${ko.err}`;
  check(`${label}: killed after the orphan pass's deletes; the next pass leaves no orphan or retired object, no row lost, ts_check ok`, !why, why);

  // Retention killed after its COMMIT: a clock past every row's retention
  // expires the whole table; the objects are out of the manifest (retired),
  // still in the store, and the next pass past the grace deletes them.
  const tr = tName(NT + 1);
  why = await prepare(tr, tierPrep);
  r = why ? null : await sq(dbOf(tr), `${setNow(tierNow)}SELECT json_extract(ts_maintain('${tr}'), '$.tables[0].objects_written');`, env);
  check(`${label}: retention table tiered`, !why && r.out === '2\n' && !r.err, why || `${r.out} ${r.err}`);
  const far = tierNow + 80000n * 24n * H;
  const kr = await sq(dbOf(tr), `.output /dev/null\nSELECT ts_debug_kill_at('retention-committed');\n${setNow(far)}SELECT ts_maintain('${tr}');`, env);
  r = await sq(dbOf(tr), `${setNow(far)}SELECT count(*) FROM ${tr}_objects; SELECT count(*) FROM ${tr};
    SELECT count(*) = (SELECT count(*) FROM ${tr}_config WHERE k GLOB 'cold.retired:*') FROM ts_object_list(${lit(storage)}, '${tr}/');
    SELECT json_extract(ts_maintain('${tr}', '{"orphan_grace":"0s"}'), '$.tables[0].retired_deleted') > 0;
    SELECT count(*) FROM ts_object_list(${lit(storage)}, '${tr}/'); SELECT ts_check('${tr}');`, env);
  eq(`${label}: killed after retention's COMMIT: nothing visible, objects retired, then deleted`,
    [kr.code, r.out, r.err], [null, '0\n0\n1\n1\n0\nok\n', '']);
  made.pop();                            // its rows are gone

  // Cold rows: DuckDB over exactly the manifests' objects of every table.
  const byDb = new Map();
  for (const t of made) { if (!byDb.has(dbOf(t))) byDb.set(dbOf(t), []); byDb.get(dbOf(t)).push(t); }
  const files = [];
  let nrow = 0;
  for (const [db, ts] of byDb) {
    r = await sq(db, ts.map((t) => `SELECT key || '|' || nrow FROM ${t}_objects;`).join('\n'), env);
    for (const line of r.out.trim().split('\n').filter(Boolean)) {
      const i = line.lastIndexOf('|');
      files.push({ key: line.slice(0, i) });
      nrow += Number(line.slice(i + 1));
    }
  }
  let paths;
  if (storage.startsWith('file://')) {
    paths = files.map((f) => path.join(storage.slice(7), f.key));
  } else {
    const fetched = path.join(dir, 'fetched');
    paths = files.map((f) => path.join(fetched, f.key));
    paths.forEach((p) => fs.mkdirSync(path.dirname(p), { recursive: true }));
    r = await sq(path.join(dir, 'fetch.db'), files.map((f, i) => `SELECT length(writefile(${lit(paths[i])}, ts_object_get(${lit(`${storage}/${f.key}`)}))) > 0;`).join('\n'), env);
    if (r.err) check(`${label}: fetch the objects`, false, r.err);
  }
  if (paths.length) {
    const list = '[' + paths.map((f) => lit(f)).join(',') + ']';
    // The table is the path part before date=...: string_split(filename, '/')[-4].
    const d = (await (await duck.runAndReadAll(`SELECT count(*)::VARCHAR AS c,
      count(DISTINCT (string_split(filename, '/')[-4], host, "time"))::VARCHAR AS u FROM read_parquet(${list}, filename = true)`)).getRowObjectsJson())[0];
    eq(`${label}: DuckDB counts every table's manifest rows (${files.length} objects), no record key twice`, [d.c, d.u], [String(nrow), String(nrow)]);
  } else {
    check(`${label}: something was tiered`, false, 'no objects');
  }
}

const s3 = await startS3({ bucket: 'crash' });
const lake = tmpDir('tslite-coldcrash-lake-');
await Promise.all([
  run('file', `file://${lake}`, {}).catch((e) => check('file', false, e.stack)),
  run('s3', 's3://crash/lake', s3.env).catch((e) => check('s3', false, e.stack)),
]);
await s3.stop();
done();
