// cold_crash.test.mjs: kill -9 at random instants of ts_maintain (file://
// and s3rver): 100 tiering rounds, then 50 compaction rounds, per store.  Between kills a writer adds rows; after every kill a fresh
// process checks that no committed row is lost or duplicated across the two
// tiers: rows(memory) + sum(manifest nrow) = rows written, every manifest
// object exists in the store with its nbyte, and DuckDB counts exactly
// sum(nrow) rows with no record key twice.  A final pass with
// orphan_grace 0s leaves the store holding exactly the manifest's objects.
// The scan over both tiers must return exactly the rows written, too.
import path from 'node:path';
import fs from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { startS3 } from './s3fixture.mjs';
import { crashRounds, killAfter } from './crash.mjs';
import { EXT, check, eq, done, sqlite, tmpDir, childEnv } from './lib.mjs';

const duck = await (await DuckDBInstance.create(':memory:')).connect();
const ROUNDS = Number(process.env.TS_CRASH_ROUNDS || 100);
const CROUNDS = Number(process.env.TS_CRASH_COMPACT_ROUNDS || 50);
const T0 = 1714608000000000000n;       // 2024-05-02T00:00:00Z
const H = 3600000000000n;
const lit = (s) => `'${s.replace(/'/g, "''")}'`;
const setNow = (t) => `.output /dev/null\nSELECT ts_debug_set_now(${t});\n.output stdout\n`;

async function run(label, storage, env) {
  const dir = tmpDir(`tslite-coldcrash-${label}-`);
  const db = path.join(dir, 'x.db');
  const uri = storage || `file://${db}.tslite`;
  let r = sqlite(db, `${setNow(T0)}CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE, n BIGINT,
    memory_retention = '1h', magnetic_writes = true, partition_key = 'host'${storage ? `, storage = ${lit(storage)}` : ''});`, { env });
  check(`${label}: setup`, r.status === 0 && !r.stderr, r.stderr);
  let total = 0;
  const nowOf = (k) => T0 + BigInt(k) * 2n * H;
  await crashRounds({
    // Every 4th round runs to its end (a slow store would otherwise be killed
    // every time and each round re-read a growing memory tier).
    label, db, rounds: ROUNDS, maxMs: (k) => (k % 4 === 0 ? 600000 : 120), env,
    prepare: (k) => {
      // 16 hosts x 720 rows in [now - 2h, now).
      const now = nowOf(k);
      const w = sqlite(db, `${setNow(now)}WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < 11519)
        INSERT INTO cpu(time, host, v, n) SELECT ${now - 2n * H} + (x / 16) * 10000000000, 'h' || (x % 16), x * 0.25, x FROM i;`, { env });
      if (w.status !== 0 || w.stderr) return `insert: ${w.stderr}`;
      total += 11520;
      return null;
    },
    action: (k) => `${setNow(nowOf(k))}SELECT ts_maintain('cpu');`,
    verify: (k, res) => {
      if (!res.killed && res.err) return `maintain: ${res.err}`;
      // The invariant, from a fresh process.  The scan over both tiers (its
      // cost grows with the table) is counted every 10th round here and every
      // 5th compaction round below; the manifest sums every round (a merge
      // that kept an input or doubled a row changes them).
      const scan = k % 10 === 0 ? 'SELECT count(*) FROM cpu;' : `SELECT ${total};`;
      const v = sqlite(db, `SELECT (SELECT coalesce(sum(nrow), 0) FROM cpu_chunks) + (SELECT coalesce(sum(nrow), 0) FROM cpu_objects);
        ${scan}
        SELECT count(*) FROM cpu_objects WHERE key NOT IN (SELECT key FROM ts_object_list(${lit(uri)}, 'cpu/'));
        SELECT count(*) FROM cpu_objects o JOIN ts_object_list(${lit(uri)}, 'cpu/') l USING (key) WHERE l.size != o.nbyte;`, { env });
      return v.stdout === `${total}\n${total}\n0\n0\n` ? null : `got ${JSON.stringify(v.stdout)} ${v.stderr}, expected ${total}|${total}|0|0 (rows in chunks + objects, rows the scan returns, missing objects, size mismatches)`;
    },
  });
  // Compaction: each round first tiers an hour into new small objects
  // without compacting (compact_target 1 byte: nothing is small), then a pass
  // that only compacts (compact_min_objects 2) is killed at random.  Two
  // passes run to the end first: the second times a steady pass (process
  // start included), and kills land within 1.5 times that.
  const cNow = (k) => T0 + BigInt(ROUNDS) * 2n * H + BigInt(k + 2) * H;   // k = -1, 0 are the timed passes
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
  let passMs = 0, nMerged = 0;
  for (let k = -1; k <= 0; k++) {
    const why = tierHour(k);
    const t0 = Date.now();
    const res = await killAfter(db, compactSql(k), { env, ms: 600000 });
    passMs = Date.now() - t0;
    check(`${label}: compaction pass ${k + 2} runs to the end`, !why && !res.err && Number(res.out) > 0, why || res.err || res.out);
  }
  await crashRounds({
    label: `${label} compaction`, db, rounds: CROUNDS, maxMs: Math.ceil(passMs * 1.5), env,
    prepare: (k) => tierHour(k),
    action: (k) => compactSql(k),
    verify: (k, res) => {
      if (!res.killed && res.err) return `compaction: ${res.err}`;
      if (!res.killed) nMerged += Number(res.out.trim() || 0);
      const scan = k % 5 === 0 ? 'SELECT count(*) FROM cpu;' : `SELECT ${total};`;
      const v = sqlite(db, `SELECT (SELECT coalesce(sum(nrow), 0) FROM cpu_chunks) + (SELECT coalesce(sum(nrow), 0) FROM cpu_objects);
        ${scan}
        SELECT count(*) FROM cpu_objects WHERE key NOT IN (SELECT key FROM ts_object_list(${lit(uri)}, 'cpu/'));
        SELECT count(*) FROM cpu_objects o JOIN ts_object_list(${lit(uri)}, 'cpu/') l USING (key) WHERE l.size != o.nbyte;`, { env });
      return v.stdout === `${total}\n${total}\n0\n0\n` ? null : `got ${JSON.stringify(v.stdout)} ${v.stderr}, expected ${total}|${total}|0|0 (rows in chunks + objects, rows the scan returns, missing objects, size mismatches)`;
    },
  });
  console.log(`# ${label}: compaction: a whole pass ${passMs} ms; objects merged by the passes not killed: ${nMerged}`);
  check(`${label}: compaction passes that were not killed merged objects`, nMerged > 0, `${nMerged}`);
  // Final pass: orphans of the killed rounds are gone.
  r = sqlite(db, `${setNow(cNow(CROUNDS))}SELECT json_extract(ts_maintain('cpu', '{"orphan_grace":"0s"}'), '$.tables[0].rounds_aborted', '$.tables[0].orphans_deleted');
    SELECT count(*) FROM ts_object_list(${lit(uri)}, 'cpu/') WHERE key NOT IN (SELECT key FROM cpu_objects);
    SELECT (SELECT coalesce(sum(nrow), 0) FROM cpu_chunks) + (SELECT sum(nrow) FROM cpu_objects);
    SELECT count(*) FROM (SELECT DISTINCT host, time FROM cpu);`, { env });
  const fin = r.stdout.split('\n');
  console.log(`# ${label}: final pass [rounds_aborted, orphans_deleted] = ${fin[0]}`);
  eq(`${label}: after a final pass no orphan is left, no row lost, the scan returns every record key once`, fin.slice(1).join('\n'), `0\n${total}\n${total}\n`);
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
}

await run('file', null, {}).catch((e) => check('file', false, e.stack));
const s3 = await startS3({ bucket: 'crash' });
await run('s3', 's3://crash/lake', s3.env).catch((e) => check('s3', false, e.stack));
await s3.stop();
done();
