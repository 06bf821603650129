// backup_bench.mjs: figures for ts_backup / ts_restore (docs/backup.md):
// full backup and restore throughput on file:// and s3rver, and the bytes an
// incremental backup copies after 1% new rows.
//
//   node bench/backup_bench.mjs [rows]      (default 1,000,000 rows; 100 hosts,
//                                            10 s apart, memory_retention 24h,
//                                            about a third of the rows tiered)
// Prints one line per figure.  Run by `make bench` (bench/run.sh; BENCH_BACKUP=0
// skips it); the smoke test tests/sh/backup_bench_smoke.sh runs it small.
// Environment: BACKUP_SYSTEMS (default "file s3rver") the stores to measure;
// a requested store that cannot run (s3rver not installed or not starting)
// or an unknown name makes the script exit non-zero after the others ran.
// TS_EXT / BENCH_BUILD: the extension (default build/tslite).
import path from 'node:path';
import { startS3 } from '../tests/js/s3fixture.mjs';
import { spawnSync } from 'node:child_process';
if (!process.env.TS_EXT && process.env.BENCH_BUILD) process.env.TS_EXT = path.resolve(process.env.BENCH_BUILD, 'tslite');
const { EXT, childEnv, sqlite, tmpDir } = await import('../tests/js/lib.mjs');

const N = Number(process.argv[2] || 1000000);
const HOSTS = 100, STEP = 10000000000n;
const span = BigInt(Math.ceil(N / HOSTS)) * STEP;
const T0 = 1714608000000000000n + span;
const setNow = (t) => `.output /dev/null\nSELECT ts_debug_set_now(${t});\n.output stdout\n`;
const lit = (s) => `'${s.replace(/'/g, "''")}'`;
function q(db, sql, env) {
  const r = sqlite(db, sql, { env, timeout: 1800000 });
  if (r.status !== 0 || r.stderr) throw new Error(r.stderr);
  return r.stdout;
}
// Wall time and CPU time (user + sys of the sqlite3 process, from
// /usr/bin/time): on a shared machine the wall time includes waiting for a core.
function timed(db, sql, env) {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'CPU %U %S', 'sqlite3', '-bail', '-cmd', `.load ${EXT}`, db], {
    input: sql, env: childEnv(env), encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const m = /CPU ([0-9.]+) ([0-9.]+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(r.stderr);
  return { out: JSON.parse(r.stdout.trim().split('\n').pop()), ms, cpu: 1000 * (Number(m[1]) + Number(m[2])) };
}
const fmt = (x, rows, bytes) => `${x.ms.toFixed(0)} ms wall, ${x.cpu.toFixed(0)} ms CPU: ${(rows / x.ms / 1e3).toFixed(2)} M rows/s wall, ${(rows / x.cpu / 1e3).toFixed(2)} M rows/s CPU, ${(bytes / 1e3 / x.cpu).toFixed(1)} MB/s CPU`;

async function run(label, storage, loc, env) {
  const dir = tmpDir('tslite-bkbench-');
  const db = path.join(dir, 'x.db');
  // memory_retention: the newest two thirds of the span stay in memory.
  const memH = Math.max(1, Math.ceil(Number(span * 2n / 3n) / 3.6e12));
  q(db, `${setNow(T0)}CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, region DIMENSION, usage_user DOUBLE,
    usage_system DOUBLE, n BIGINT, memory_retention = '${memH}h', magnetic_writes = true${storage ? `, storage = ${lit(storage)}` : ''});
    WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < ${N - 1})
    INSERT INTO cpu SELECT ${T0 - span} + (x / ${HOSTS}) * ${STEP}, 'host_' || (x % ${HOSTS}), 'r' || (x % 7), 'metrics',
      50 + 30 * sin(x / 1000.0), abs(random() % 1000) / 10.0, x FROM i;
    SELECT ts_maintain('cpu') IS NOT NULL;`, env);
  const b = timed(db, `${setNow(T0)}SELECT ts_backup('cpu', ${lit(loc)});`, env);
  console.log(`${label}: full backup of ${b.out.rows} rows (${b.out.memory_rows} memory, ${b.out.cold_rows} cold in ${b.out.cold_objects} objects, ${b.out.server_side_copies} server-side copies; ${(b.out.bytes / 1e6).toFixed(1)} MB in ${b.out.files} files): ${fmt(b, b.out.rows, b.out.bytes)}`);
  // 1% new rows at the newest times.
  const n1 = Math.floor(N / 100);
  const t1 = T0 + BigInt(Math.ceil(n1 / HOSTS)) * STEP;
  q(db, `${setNow(t1)}WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < ${n1 - 1})
    INSERT INTO cpu SELECT ${T0} + (x / ${HOSTS}) * ${STEP}, 'host_' || (x % ${HOSTS}), 'r' || (x % 7), 'metrics', 1.5, 2.5, x FROM i;`, env);
  const i = timed(db, `${setNow(t1)}SELECT ts_backup('cpu', ${lit(loc)});`, env);
  console.log(`${label}: incremental backup after 1% new rows (${n1}): ${i.out.new_files} of ${i.out.files} files, ${i.out.new_bytes} of ${i.out.bytes} bytes (${(100 * i.out.new_bytes / i.out.bytes).toFixed(2)}%), ${i.ms.toFixed(0)} ms wall, ${i.cpu.toFixed(0)} ms CPU`);
  const r = timed(db, `${setNow(t1)}SELECT ts_restore(${lit(loc)}, 'cpu_r');`, env);
  console.log(`${label}: restore of ${r.out.rows} rows (${r.out.memory_rows} memory, ${r.out.cold_objects} objects verified and copied): ${fmt(r, r.out.rows, r.out.bytes_verified)}`);
}

const SYSTEMS = (process.env.BACKUP_SYSTEMS || 'file s3rver').split(/\s+/).filter(Boolean);
const unknown = SYSTEMS.filter((x) => x !== 'file' && x !== 's3rver');
if (unknown.length) {
  console.error(`backup bench: unknown system '${unknown[0]}' in BACKUP_SYSTEMS (known: file s3rver)`);
  process.exit(2);
}
let failed = [];
if (SYSTEMS.includes('file')) {
  try { await run('file', null, `file://${tmpDir('tslite-bkbench-loc-')}/loc`, {}); } catch (e) {
    console.error(`backup bench: FAILED file: ${e.message}`); failed.push('file');
  }
}
if (SYSTEMS.includes('s3rver')) {
  let s3 = null;
  try { s3 = await startS3({ bucket: 'bench' }); } catch (e) {
    console.error(`backup bench: SKIP s3rver: ${e.message}`); failed.push('s3rver');
  }
  if (s3) {
    try { await run('s3rver', 's3://bench/lake', 's3://bench/vault', s3.env); } catch (e) {
      console.error(`backup bench: FAILED s3rver: ${e.message}`); failed.push('s3rver');
    } finally { await s3.stop(); }
  }
}
if (failed.length) {
  console.error(`backup bench: FAILED: requested system(s) skipped or failed: ${failed.join(' ')}`);
  process.exit(1);
}
