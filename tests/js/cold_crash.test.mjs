// cold_crash.test.mjs: kill -9 at random instants of ts_maintain (file://
// and s3rver).  Between kills a writer adds rows; after every kill a fresh
// process checks that no committed row is lost or duplicated across the two
// tiers: rows(memory) + sum(manifest nrow) = rows written, every manifest
// object exists in the store with its nbyte, and DuckDB counts exactly
// sum(nrow) rows with no record key twice.  A final pass with
// orphan_grace 0s leaves the store holding exactly the manifest's objects.
// (Until the cold read side exists the check is this invariant, not a
// SELECT over both tiers.)
import path from 'node:path';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { DuckDBInstance } from '@duckdb/node-api';
import { startS3 } from './s3fixture.mjs';
import { EXT, check, eq, done, sqlite, tmpDir, childEnv } from './lib.mjs';

const duck = await (await DuckDBInstance.create(':memory:')).connect();
const ROUNDS = Number(process.env.TS_CRASH_ROUNDS || 100);
const CROUNDS = Number(process.env.TS_CRASH_COMPACT_ROUNDS || 50);
const T0 = 1714608000000000000n;       // 2024-05-02T00:00:00Z
const H = 3600000000000n;
const lit = (s) => `'${s.replace(/'/g, "''")}'`;
const setNow = (t) => `.output /dev/null\nSELECT ts_debug_set_now(${t});\n.output stdout\n`;

function killAfter(db, sql, env, ms) {
  return new Promise((resolve) => {
    const p = spawn('sqlite3', [db], { env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '', killed = false;
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => { killed = p.exitCode === null; p.kill('SIGKILL'); }, ms);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err, killed }); });
    p.stdin.end(`.load ${EXT}\n${sql}\n`);
  });
}

async function run(label, storage, env) {
  const dir = tmpDir(`tslite-coldcrash-${label}-`);
  const db = path.join(dir, 'x.db');
  const uri = storage || `file://${db}.tslite`;
  let r = sqlite(db, `${setNow(T0)}CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE, n BIGINT,
    memory_retention = '1h', magnetic_writes = true, partition_key = 'host'${storage ? `, storage = ${lit(storage)}` : ''});`, { env });
  check(`${label}: setup`, r.status === 0 && !r.stderr, r.stderr);
  let total = 0, nKilled = 0, bad = null, seed = 12345;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  for (let k = 1; k <= ROUNDS && !bad; k++) {
    const now = T0 + BigInt(k) * 2n * H;
    // 16 hosts x 720 rows in [now - 2h, now).
    r = sqlite(db, `${setNow(now)}WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < 11519)
      INSERT INTO cpu(time, host, v, n) SELECT ${now - 2n * H} + (x / 16) * 10000000000, 'h' || (x % 16), x * 0.25, x FROM i;`, { env });
    if (r.status !== 0 || r.stderr) { bad = `insert ${k}: ${r.stderr}`; break; }
    total += 11520;
    const res = await killAfter(db, `${setNow(now)}SELECT ts_maintain('cpu');`, env, Math.floor(rnd() * 120));
    if (res.killed) nKilled++;
    else if (res.err) { bad = `maintain ${k}: ${res.err}`; break; }
    // The invariant, from a fresh process.
    r = sqlite(db, `SELECT (SELECT count(*) FROM cpu) + (SELECT coalesce(sum(nrow), 0) FROM cpu_objects);
      SELECT count(*) FROM cpu_objects WHERE key NOT IN (SELECT key FROM ts_object_list(${lit(uri)}, 'cpu/'));
      SELECT count(*) FROM cpu_objects o JOIN ts_object_list(${lit(uri)}, 'cpu/') l USING (key) WHERE l.size != o.nbyte;`, { env });
    if (r.stdout !== `${total}\n0\n0\n`) { bad = `round ${k} (killed=${res.killed}): got ${JSON.stringify(r.stdout)} ${r.stderr}, expected ${total}|0|0`; break; }
  }
  check(`${label}: ${ROUNDS} rounds, rows(memory) + rows(manifest) = rows written after every kill, manifest objects present`, !bad, bad);
  check(`${label}: some rounds were killed mid-way (${nKilled})`, nKilled >= Math.min(5, ROUNDS / 4), `${nKilled}`);
  // Compaction: each round tiers an hour into new small objects without
  // compacting (compact_target 1 byte: nothing is small), then kills a pass
  // that only compacts (compact_min_objects 2) at a random instant.
  let nKilledC = 0, nMerged = 0, passMs = 0;
  for (let k = 1; k <= CROUNDS && !bad; k++) {
    const now = T0 + BigInt(ROUNDS) * 2n * H + BigInt(k) * H;
    r = sqlite(db, `${setNow(now)}WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < 5759)
      INSERT INTO cpu(time, host, v, n) SELECT ${now - H} + (x / 16) * 10000000000, 'h' || (x % 16), x * 0.25, x FROM i;
      SELECT json_extract(ts_maintain('cpu', '{"compact_target":1}'), '$.tables[0].objects_compacted');`, { env });
    if (r.status !== 0 || r.stderr || r.stdout !== '0\n') { bad = `compaction round ${k} setup: ${r.stdout} ${r.stderr}`; break; }
    total += 5760;
    // The first two rounds run to the end (the first merges what the tiering
    // rounds left); the second times a steady pass (process start included)
    // and later ones are killed at random within 1.5 times that.
    const t0 = Date.now();
    const res = await killAfter(db, `${setNow(now)}SELECT json_extract(ts_maintain('cpu', '{"compact_min_objects":2}'), '$.tables[0].objects_compacted');`, env,
      k <= 2 ? 600000 : Math.floor(rnd() * passMs * 1.5));
    if (k === 2) passMs = Date.now() - t0;
    if (res.killed) nKilledC++;
    else if (res.err) { bad = `compaction ${k}: ${res.err}`; break; }
    else nMerged += Number(res.out.trim() || 0);
    r = sqlite(db, `SELECT (SELECT count(*) FROM cpu) + (SELECT coalesce(sum(nrow), 0) FROM cpu_objects);
      SELECT count(*) FROM cpu_objects WHERE key NOT IN (SELECT key FROM ts_object_list(${lit(uri)}, 'cpu/'));
      SELECT count(*) FROM cpu_objects o JOIN ts_object_list(${lit(uri)}, 'cpu/') l USING (key) WHERE l.size != o.nbyte;`, { env });
    if (r.stdout !== `${total}\n0\n0\n`) { bad = `compaction round ${k} (killed=${res.killed}): got ${JSON.stringify(r.stdout)} ${r.stderr}, expected ${total}|0|0`; break; }
  }
  console.log(`# ${label}: compaction rounds ${CROUNDS} (a whole pass: ${passMs} ms): killed ${nKilledC}, objects merged by the others ${nMerged}`);
  check(`${label}: ${CROUNDS} compaction rounds killed at random: rows(memory) + rows(manifest) = rows written, manifest objects present`, !bad, bad);
  check(`${label}: some compaction rounds were killed (${nKilledC}) and some merged (${nMerged})`, nKilledC >= Math.min(5, CROUNDS / 4) && nMerged > 0, `${nKilledC} ${nMerged}`);
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
  // Final pass: orphans of the killed rounds are gone.
  r = sqlite(db, `${setNow(T0 + BigInt(ROUNDS) * 2n * H + BigInt(CROUNDS) * H)}SELECT json_extract(ts_maintain('cpu', '{"orphan_grace":"0s"}'), '$.tables[0].rounds_aborted', '$.tables[0].orphans_deleted');
    SELECT count(*) FROM ts_object_list(${lit(uri)}, 'cpu/') WHERE key NOT IN (SELECT key FROM cpu_objects);
    SELECT (SELECT count(*) FROM cpu) + (SELECT sum(nrow) FROM cpu_objects);`, { env });
  const fin = r.stdout.split('\n');
  console.log(`# ${label}: final pass [rounds_aborted, orphans_deleted] = ${fin[0]}`);
  eq(`${label}: after a final pass no orphan is left and no row lost`, fin.slice(1).join('\n'), `0\n${total}\n`);
}

await run('file', null, {}).catch((e) => check('file', false, e.stack));
const s3 = await startS3({ bucket: 'crash' });
await run('s3', 's3://crash/lake', s3.env).catch((e) => check('s3', false, e.stack));
await s3.stop();
done();
