// cold_crash.test.mjs: kill -9 inside ts_maintain (file:// and s3rver).
// Two kinds of rounds, per store and phase (tiering, then compaction):
//  - named crash points: the child kills itself (ts_debug_kill_at) at each
//    point of the commit protocol (docs/internals/cold-format.md section 5:
//    object written but upload not finished, uploaded, inside the commit
//    transaction, just after COMMIT; for compaction the same for a rewrite;
//    retention after its COMMIT; the orphan pass between the store deletes
//    and forgetting the retired entries), so every crash point class is hit
//    in every run, whatever the machine's load;
//  - kills at seeded random instants (mid-request, mid-fsync: the places no
//    named point marks).
// Between kills a writer adds rows; after every kill a fresh process checks
// that no committed row is lost or duplicated across the two tiers:
// rows(memory) + sum(manifest nrow) = rows written, every manifest object
// exists in the store with its nbyte, and (every few rounds) the scan returns
// every row; at the end DuckDB counts exactly sum(nrow) rows with no record
// key twice, and a pass with orphan_grace 0s leaves the store holding exactly
// the manifest's objects.
// Default: 10 random tiering rounds and 8 random compaction rounds on
// file://, 6 and 5 on s3rver (plus the named points); TS_LONG=1 runs 100 and
// 50 on each (the issue's 300 rounds); TS_CRASH_ROUNDS /
// TS_CRASH_COMPACT_ROUNDS override either.
import path from 'node:path';
import fs from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { startS3 } from './s3fixture.mjs';
import { crashRounds, killAfter } from './crash.mjs';
import { EXT, check, eq, done, sqlite, tmpDir, childEnv } from './lib.mjs';

const duck = await (await DuckDBInstance.create(':memory:')).connect();
const LONG = process.env.TS_LONG === '1';
// [file://, s3rver]: s3rver rounds cost several times more (every request a
// round trip), and the named points already cover every class there.
const TIER_ROUNDS = process.env.TS_CRASH_ROUNDS ? [Number(process.env.TS_CRASH_ROUNDS), Number(process.env.TS_CRASH_ROUNDS)]
  : LONG ? [100, 100] : [10, 6];
const COMPACT_ROUNDS = process.env.TS_CRASH_COMPACT_ROUNDS
  ? [Number(process.env.TS_CRASH_COMPACT_ROUNDS), Number(process.env.TS_CRASH_COMPACT_ROUNDS)]
  : LONG ? [50, 50] : [8, 5];
const T0 = 1714608000000000000n;       // 2024-05-02T00:00:00Z
const H = 3600000000000n;
const lit = (s) => `'${s.replace(/'/g, "''")}'`;
const setNow = (t) => `.output /dev/null\nSELECT ts_debug_set_now(${t});\n.output stdout\n`;
const TIER_POINTS = ['upload-finishing', 'uploaded', 'round-in-commit', 'round-committed'];
const COMPACT_POINTS = ['upload-finishing', 'compact-uploaded', 'rewrite-in-commit', 'rewrite-committed'];

// Rounds that die at named points: prepare(i), then the action with
// ts_debug_kill_at(point) first; the child must die by SIGKILL (the point
// was reached), then verify.
async function pointRounds(label, db, env, points, prepare, sqlOf, verify) {
  let bad = null;
  for (let i = 0; i < points.length && !bad; i++) {
    const why = prepare(i);
    if (why) { bad = `${points[i]}: prepare: ${why}`; break; }
    const res = await killAfter(db, `.output /dev/null\nSELECT ts_debug_kill_at(${lit(points[i])});\n.output stdout\n${sqlOf(i)}`,
      { env, ms: 600000 });
    if (res.code !== null) bad = `${points[i]}: the child was not killed at the point (exit ${res.code}: ${res.out} ${res.err})`;
    else bad = verify(i, res) && `${points[i]}: ${verify(i, res)}`;
  }
  check(`${label}: killed at each crash point (${points.join(', ')}), every round verified`, !bad, bad);
}

async function run(label, storage, env) {
  const ROUNDS = TIER_ROUNDS[storage ? 1 : 0], CROUNDS = COMPACT_ROUNDS[storage ? 1 : 0];
  const dir = tmpDir(`tslite-coldcrash-${label}-`);
  const db = path.join(dir, 'x.db');
  const uri = storage || `file://${db}.tslite`;
  let r = sqlite(db, `${setNow(T0)}CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE, n BIGINT,
    memory_retention = '1h', magnetic_writes = true, partition_key = 'host'${storage ? `, storage = ${lit(storage)}` : ''});`, { env });
  check(`${label}: setup`, r.status === 0 && !r.stderr, r.stderr);
  let total = 0;
  // The tiering phase ends at 08:00 of a day whatever ROUNDS is, so the
  // compaction phase starts inside a day that already has objects.
  const OFF = BigInt((8 - ((ROUNDS * 2) % 24) + 24) % 24);
  const nowOf = (k) => T0 + (BigInt(k) * 2n + OFF) * H;
  const insert = (now) => {
    // 16 hosts x 720 rows in [now - 2h, now).
    const w = sqlite(db, `${setNow(now)}WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < 11519)
      INSERT INTO cpu(time, host, v, n) SELECT ${now - 2n * H} + (x / 16) * 10000000000, 'h' || (x % 16), x * 0.25, x FROM i;`, { env });
    if (w.status !== 0 || w.stderr) return `insert: ${w.stderr}`;
    total += 11520;
    return null;
  };
  const invariant = (scan) => {
    const v = sqlite(db, `SELECT (SELECT coalesce(sum(nrow), 0) FROM cpu_chunks) + (SELECT coalesce(sum(nrow), 0) FROM cpu_objects);
      ${scan ? 'SELECT count(*) FROM cpu;' : `SELECT ${total};`}
      SELECT count(*) FROM cpu_objects WHERE key NOT IN (SELECT key FROM ts_object_list(${lit(uri)}, 'cpu/'));
      SELECT count(*) FROM cpu_objects o JOIN ts_object_list(${lit(uri)}, 'cpu/') l USING (key) WHERE l.size != o.nbyte;`, { env });
    return v.stdout === `${total}\n${total}\n0\n0\n` ? null : `got ${JSON.stringify(v.stdout)} ${v.stderr}, expected ${total}|${total}|0|0 (rows in chunks + objects, rows the scan returns, missing objects, size mismatches)`;
  };
  // Named points first (rounds -3..0 of the clock), scanning after each.
  const P = TIER_POINTS.length;
  await pointRounds(`${label} tiering`, db, env, TIER_POINTS, (i) => insert(nowOf(i - P + 1)),
    (i) => `${setNow(nowOf(i - P + 1))}SELECT ts_maintain('cpu');`, () => invariant(true));
  await crashRounds({
    // Every 4th round runs to its end (a slow store would otherwise be killed
    // every time and each round re-read a growing memory tier).
    // The named kill points above hit every crash point for sure; how many
    // random delays land mid-way depends on the machine's speed (a quiet
    // machine finishes a pass in tens of ms), so by default one is enough.
    label, db, rounds: ROUNDS, maxMs: (k) => (k % 4 === 0 ? 600000 : 120), env,
    minKilled: LONG ? undefined : 1,
    prepare: (k) => insert(nowOf(k)),
    action: (k) => `${setNow(nowOf(k))}SELECT ts_maintain('cpu');`,
    verify: (k, res) => {
      if (!res.killed && res.err) return `maintain: ${res.err}`;
      // The invariant, from a fresh process.  The scan over both tiers (its
      // cost grows with the table) is counted every 5th round and the last;
      // the manifest sums every round (a merge that kept an input or doubled
      // a row changes them).
      return invariant(k % 5 === 0 || k === ROUNDS);
    },
  });
  // Compaction: each round first tiers an hour into new small objects
  // without compacting (compact_target 1 byte: nothing is small), then a pass
  // that only compacts (compact_min_objects 2) is killed at random.  Two
  // passes run to the end first: the second times a steady pass (process
  // start included), and kills land within 1.5 times that.
  const cNow = (k) => nowOf(ROUNDS) + BigInt(k + 2) * H;   // k = -1, 0 are the timed passes
  const tierHour = (k) => {
    const now = cNow(k);
    const w = sqlite(db, `${setNow(now)}WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < 5759)
      INSERT INTO cpu(time, host, v, n) SELECT ${now - H} + (x / 16) * 10000000000, 'h' || (x % 16), x * 0.25, x FROM i;
      SELECT json_extract(ts_maintain('cpu', '{"compact_target":1}'), '$.tables[0].objects_compacted');`, { env });
    if (w.status !== 0 || w.stderr || w.stdout !== '0\n') return `tiering without compaction: ${w.stdout} ${w.stderr}`;
    total += 5760;
    return null;
  };
  const compactSql = (k) => `${setNow(cNow(k))}SELECT json_extract(ts_maintain('cpu', '{"compact_min_objects":2}'), '$.tables[0].objects_compacted');`;
  const compactVerify = (k, res) => {
    if (!res.killed && res.err && res.code !== null) return `compaction: ${res.err}`;
    return invariant(k % 4 === 0 || k === CROUNDS);
  };
  let passMs = 1e9, nMerged = 0;
  for (let k = -1; k <= 0; k++) {
    const why = tierHour(k);
    const t0 = Date.now();
    const res = await killAfter(db, compactSql(k), { env, ms: 600000 });
    passMs = Math.min(passMs, Date.now() - t0);
    check(`${label}: compaction pass ${k + 2} runs to the end`, !why && !res.err && Number(res.out) > 0, why || res.err || res.out);
  }
  // Named compaction points (clock hours 1..4 after the timed passes).
  const CP = COMPACT_POINTS.length;
  await pointRounds(`${label} compaction`, db, env, COMPACT_POINTS, (i) => tierHour(i + 1), (i) => compactSql(i + 1),
    (i, res) => compactVerify(0, res));
  // Random kills; every 4th round runs to its end (on a loaded machine a
  // pass can take longer than every kill delay), so merges are seen.
  await crashRounds({
    // The named points above hit every class for sure; on a loaded machine a
    // pass's duration varies, so by default one kill mid-way is enough here.
    label: `${label} compaction`, db, rounds: CROUNDS, env, minKilled: LONG ? undefined : 1,
    maxMs: (k) => (k % 4 === 0 ? 600000 : Math.ceil(passMs * 1.5)),
    prepare: (k) => tierHour(k + CP),
    action: (k) => compactSql(k + CP),
    verify: (k, res) => {
      if (!res.killed && !res.err) nMerged += Number(res.out.trim() || 0);
      return compactVerify(k, res);
    },
  });
  console.log(`# ${label}: compaction: a whole pass ${passMs} ms (the faster of two); objects merged by the passes not killed: ${nMerged}`);
  check(`${label}: compaction passes that were not killed merged objects`, nMerged > 0, `${nMerged}`);
  // The orphan pass killed between its store deletes and forgetting the
  // retired entries; then the final pass: orphans of the killed rounds and
  // the retired objects are gone.
  const last = cNow(CROUNDS + CP);
  const ko = await killAfter(db, `.output /dev/null\nSELECT ts_debug_kill_at('orphans-deleted');\n${setNow(last)}SELECT ts_maintain('cpu', '{"orphan_grace":"0s"}');`, { env, ms: 600000 });
  check(`${label}: killed after the orphan pass's deletes`, ko.code === null && !invariant(true), `${ko.code} ${ko.err} ${invariant(true)}`);
  r = sqlite(db, `${setNow(last)}SELECT json_extract(ts_maintain('cpu', '{"orphan_grace":"0s"}'), '$.tables[0].rounds_aborted', '$.tables[0].orphans_deleted');
    SELECT count(*) FROM ts_object_list(${lit(uri)}, 'cpu/') WHERE key NOT IN (SELECT key FROM cpu_objects);
    SELECT count(*) FROM cpu_config WHERE k GLOB 'cold.retired:*';
    SELECT (SELECT coalesce(sum(nrow), 0) FROM cpu_chunks) + (SELECT sum(nrow) FROM cpu_objects);
    SELECT count(*) FROM (SELECT DISTINCT host, time FROM cpu);
    SELECT ts_check('cpu');`, { env });
  const fin = r.stdout.split('\n');
  console.log(`# ${label}: final pass [rounds_aborted, orphans_deleted] = ${fin[0]}`);
  eq(`${label}: after a final pass no orphan or retired object is left, no row lost, the scan returns every record key once, ts_check ok`,
    fin.slice(1).join('\n'), `0\n0\n${total}\n${total}\nok\n`);
  // Cold rows: DuckDB over exactly the manifest's objects.
  r = sqlite(db, `SELECT key FROM cpu_objects ORDER BY key;`, { env });
  const keys = r.stdout.trim().split('\n').filter(Boolean);
  let files = keys.map((k) => path.join(`${db}.tslite`, k));
  if (storage) {
    const fetched = path.join(dir, 'fetched');
    files = keys.map((k) => path.join(fetched, k));
    keys.forEach((k, i) => fs.mkdirSync(path.dirname(files[i]), { recursive: true }));
    sqlite(db, keys.map((k, i) => `SELECT writefile(${lit(files[i])}, ts_object_get(${lit(uri + '/' + k)}));`).join('\n'), { env });
  }
  r = sqlite(db, `SELECT coalesce(sum(nrow), 0) FROM cpu_objects;`, { env });
  if (files.length) {
    const list = '[' + files.map((f) => lit(f)).join(',') + ']';
    const d = (await (await duck.runAndReadAll(`SELECT count(*)::VARCHAR AS c, count(DISTINCT (host, "time"))::VARCHAR AS u FROM read_parquet(${list})`)).getRowObjectsJson())[0];
    eq(`${label}: DuckDB counts the manifest's rows, no record key twice`, [d.c, d.u], [r.stdout.trim(), r.stdout.trim()]);
  } else {
    check(`${label}: something was tiered`, false, 'no objects');
  }
  // Retention killed after its COMMIT: a clock past every row's retention
  // expires the whole table; the objects are out of the manifest (retired),
  // still in the store, and the next pass past the grace deletes them.
  const far = last + 80000n * 24n * H;
  const kr = await killAfter(db, `.output /dev/null\nSELECT ts_debug_kill_at('retention-committed');\n${setNow(far)}SELECT ts_maintain('cpu');`, { env, ms: 600000 });
  r = sqlite(db, `${setNow(far)}SELECT count(*) FROM cpu_objects; SELECT count(*) FROM cpu;
    SELECT count(*) = (SELECT count(*) FROM cpu_config WHERE k GLOB 'cold.retired:*') FROM ts_object_list(${lit(uri)}, 'cpu/');
    SELECT json_extract(ts_maintain('cpu', '{"orphan_grace":"0s"}'), '$.tables[0].retired_deleted') > 0;
    SELECT count(*) FROM ts_object_list(${lit(uri)}, 'cpu/'); SELECT ts_check('cpu');`, { env });
  eq(`${label}: killed after retention's COMMIT: nothing visible, objects retired, then deleted`,
    [kr.code, r.stdout, r.stderr], [null, '0\n0\n1\n1\n0\nok\n', '']);
}

await run('file', null, {}).catch((e) => check('file', false, e.stack));
const s3 = await startS3({ bucket: 'crash' });
await run('s3', 's3://crash/lake', s3.env).catch((e) => check('s3', false, e.stack));
await s3.stop();
done();
