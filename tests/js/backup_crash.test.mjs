// backup_crash.test.mjs: kill -9 during ts_backup (file:// and s3rver), with
// writes and tiering between rounds (tests/js/crash.mjs): two rounds in three
// at a named point (backup-uploaded, backup-copied, backup-committed: the
// kill happens whatever the load), one at a random instant.
// After every round, from a fresh process: the location holds one manifest
// more than before when the backup ran to its end (and at most one more when
// it was killed), and every manifest names only files that exist with the
// size it records (file://: and the SHA-256).  A half-written backup is
// never visible.  At the end a backup that is not killed completes, sweeps
// the files the killed rounds left (orphan_grace 0s), and restores to exactly
// the table's content; so does one backup taken (not killed) mid-way
// between killed rounds.
// Also S3 faults: 503s during a backup are retried; a backup whose uploads
// keep failing reports the error and leaves no restorable backup behind.
import path from 'node:path';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { startS3 } from './s3fixture.mjs';
import { crashRounds } from './crash.mjs';
import { check, eq, done, sqlite, tmpDir } from './lib.mjs';

const ROUNDS = Number(process.env.TS_CRASH_ROUNDS || 21);
const BK_POINTS = ['backup-uploaded', 'backup-copied', 'backup-committed'];
const T0 = 1714611600000000000n;       // 2024-05-02T01:00:00Z
const MIN = 60000000000n, H = 60n * MIN;
const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;
const setNow = (t) => `.output /dev/null\nSELECT ts_debug_set_now(${t});\n.output stdout\n`;
function q(db, sql, env) {
  const r = sqlite(db, sql, { env });
  if (r.status !== 0 || r.stderr) throw new Error(`sqlite3: ${r.stderr || r.status}`);
  return r.stdout;
}
const ROWTEXT = (t) => `SELECT quote(time)||'|'||quote(host)||'|'||CASE WHEN v IS NULL THEN 'NULL' ELSE printf('%!.17g', v) END||'|'||quote(n)||'|'||quote(version) FROM "${t}" ORDER BY 1;`;
const OBJTEXT = (t, uri) => `SELECT nrow||'|'||tmin||'|'||tmax||'|'||hex(sha3(ts_object_get(${lit(uri)}||'/'||key))) FROM "${t}_objects" ORDER BY 1;`;

function manifests(db, loc, env) {
  const keys = q(db, `SELECT key FROM ts_object_list(${lit(loc)}, 'backups/');`, env).trim().split('\n').filter(Boolean);
  const sizes = new Map(q(db, `SELECT key||'|'||size FROM ts_object_list(${lit(loc)}, 'data/');`, env).trim().split('\n')
    .filter(Boolean).map((l) => { const i = l.lastIndexOf('|'); return [l.slice(0, i), Number(l.slice(i + 1))]; }));
  const out = [];
  for (const k of keys) {
    const m = JSON.parse(q(db, `SELECT CAST(ts_object_get(${lit(loc + '/' + k)}) AS TEXT);`, env));
    const bad = m.files.filter((f) => sizes.get(f.path) !== f.bytes).map((f) => f.path);
    out.push({ key: k, m, bad });
  }
  return out;
}

async function run(label, storage, loc, env) {
  const dir = tmpDir(`tslite-bkcrash-${label}-`);
  const db = path.join(dir, 'x.db');
  const sUri = storage || `file://${db}.tslite`;
  const locDir = loc.startsWith('file://') ? loc.slice(7) : null;
  const nowOf = (k) => T0 + BigInt(k) * 5n * MIN;
  q(db, `${setNow(T0)}CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE, n BIGINT,
    memory_retention = '1h', magnetic_writes = true, partition_key = 'host'${storage ? `, storage = ${lit(storage)}` : ''});
    WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < 17279)
    INSERT INTO cpu(time, host, v, n) SELECT ${T0 - 3n * H} + (x / 16) * 10000000000, 'h' || (x % 16), x * 0.25, x FROM i;
    SELECT ts_maintain('cpu') IS NOT NULL;`, env);
  let nDone = 0, mid = null;
  // Two of every three rounds die at a named point of ts_backup
  // (ts_debug_kill_at: a memory-tier file uploaded, a cold object copied,
  // the manifest written), whatever the machine's load; the third at a
  // random instant (delays up to 1.5 times the latest backup that ran to
  // its end: crash.mjs maxMs 'auto'), which need not land anywhere.
  const MID = 3 * Math.max(1, Math.floor(ROUNDS / 6));
  const pointOf = (k) => (k % 3 === 0 ? null : BK_POINTS[(k - 1 - Math.floor(k / 3)) % BK_POINTS.length]);
  await crashRounds({
    label: `${label}: kill -9 during ts_backup`, db, rounds: ROUNDS, maxMs: 'auto', env, pointOf,
    prepare: (k) => {
      const now = nowOf(k);
      // 16 hosts x 30 new rows in the last 5 minutes; every 4th round tiers,
      // and every round that dies after copying a cold object (so there is
      // a new one to copy).
      q(db, `${setNow(now)}WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < 479)
        INSERT INTO cpu(time, host, v, n) SELECT ${now - 5n * MIN} + (x / 16) * 10000000000 + 1, 'h' || (x % 16), -x * 0.5, ${k} FROM i;
        ${k % 4 === 0 || pointOf(k) === 'backup-copied' ? "SELECT ts_maintain('cpu') IS NOT NULL;" : ''}`, env);
      if (k === MID) {
        // One backup mid-way that is not killed, among the killed ones
        // (before a random round: a named one needs new files to back up).
        const b = JSON.parse(q(db, `${setNow(now)}SELECT ts_backup('cpu', ${lit(loc)});`, env));
        mid = { id: b.backup, rows: q(db, ROWTEXT('cpu'), env), objs: q(db, OBJTEXT('cpu', sUri), env) };
        nDone++;
      }
      return null;
    },
    action: (k) => `${setNow(nowOf(k))}SELECT ts_backup('cpu', ${lit(loc)});`,
    verify: (k, res) => {
      if (!res.killed && (res.code !== 0 || res.err)) return `backup failed: ${res.err}`;
      const ms = manifests(db, loc, env);
      const grew = ms.length - nDone;
      // Killed before the manifest: no new backup; after it (or not
      // killed): exactly one; at a random instant: at most one.
      const want = res.point ? (res.point === 'backup-committed' ? 1 : 0) : res.killed ? null : 1;
      if (grew < 0 || grew > 1 || (want !== null && grew !== want)) return `${ms.length} manifests after ${nDone} (killed=${res.killed}${res.point ? ` at ${res.point}` : ''})`;
      for (const x of ms) if (x.bad.length) return `manifest ${x.key} names missing or short files: ${x.bad.slice(0, 3)}`;
      if (locDir) {
        for (const x of ms) {
          for (const f of x.m.files) {
            const h = crypto.createHash('sha256').update(fs.readFileSync(path.join(locDir, f.path))).digest('hex');
            if (h !== f.sha256) return `${f.path}: sha256 ${h}, manifest ${f.sha256}`;
          }
        }
      }
      if (grew === 1) {
        const last = ms[ms.length - 1].m;
        const rows = Number(q(db, `SELECT (SELECT count(*) FROM cpu_chunks) * 0 + (SELECT coalesce(sum(nrow),0) FROM cpu_chunks) + (SELECT coalesce(sum(nrow),0) FROM cpu_objects);`, env));
        if (last.summary.rows !== rows) return `newest backup has ${last.summary.rows} rows, the table ${rows}`;
      }
      nDone = ms.length;
      return null;
    },
  });
  // A backup that is not killed completes and sweeps what killed rounds left.
  const now = nowOf(ROUNDS + 1);
  const b = JSON.parse(q(db, `${setNow(now)}SELECT ts_backup('cpu', ${lit(loc)}, '{"orphan_grace":"0s"}');`, env));
  const ms = manifests(db, loc, env);
  const refd = new Set(ms.flatMap((x) => x.m.files.map((f) => f.path)));
  const data = q(db, `SELECT key FROM ts_object_list(${lit(loc)}, 'data/');`, env).trim().split('\n').filter(Boolean);
  eq(`${label}: the next backup completes and leaves only referenced files (swept ${b.swept})`, data.filter((k) => !refd.has(k)), []);
  const r = JSON.parse(q(db, `${setNow(now)}SELECT ts_restore(${lit(loc)}, 'back');`, env));
  eq(`${label}: its restore has the table's rows`, r.rows, b.rows);
  eq(`${label}: restored memory rows = the table's`, q(db, ROWTEXT('back'), env), q(db, ROWTEXT('cpu'), env));
  eq(`${label}: restored cold objects = the table's (by hash)`, q(db, OBJTEXT('back', sUri), env), q(db, OBJTEXT('cpu', sUri), env));
  if (mid) {
    q(db, `${setNow(now)}SELECT ts_restore(${lit(loc)}, 'mid', ${lit(JSON.stringify({ backup: mid.id }))}) IS NOT NULL;`, env);
    eq(`${label}: a mid-way round's backup restores its instant (memory rows)`, q(db, ROWTEXT('mid'), env), mid.rows);
    eq(`${label}: ... and its cold objects`, q(db, OBJTEXT('mid', sUri), env), mid.objs);
  } else {
    check(`${label}: the mid-way backup ran`, false, 'no mid-way backup');
  }
  return db;
}

async function faults(s3) {
  const dir = tmpDir('tslite-bkfault-');
  const db = path.join(dir, 'x.db');
  const env = s3.proxyEnv;
  q(db, `${setNow(T0)}CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE, memory_retention = '1h');
    WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < 999)
    INSERT INTO cpu(time, host, v) SELECT ${T0 - 50n * MIN} + x * 1000000000, 'h' || (x % 3), x FROM i;`, env);
  await s3.fault({ mode: '503', count: 3, method: 'PUT' });
  let r = sqlite(db, `${setNow(T0)}SELECT json_extract(ts_backup('cpu', 's3://fault/v1'), '$.rows');`, { env });
  eq('S3 faults: three 503s during a backup are retried, the backup completes', [r.stdout.trim(), r.stderr], ['1000', '']);
  await s3.fault({ mode: '500', count: -1, method: 'PUT' });
  r = sqlite(db, `${setNow(T0)}SELECT ts_backup('cpu', 's3://fault/v2');`, { env });
  await s3.fault({ mode: 'pass' });
  check('S3 faults: a backup whose uploads keep failing reports the operation and key',
    r.status !== 0 && /ts_backup cpu: upload of data\/mem\/[0-9a-f]{64}\.parquet to 's3:\/\/fault\/v2': .*HTTP 500/.test(r.stderr), r.stderr);
  r = sqlite(db, `${setNow(T0)}SELECT ts_restore('s3://fault/v2', 'nothing');`, { env });
  eq('S3 faults: ... and leaves no restorable backup', r.stderr.trim(),
    "Runtime error near line 4: ts_restore: no backup in 's3://fault/v2' (no backups/*.json manifest)");
  r = sqlite(db, `${setNow(T0)}SELECT json_extract(ts_restore('s3://fault/v1', 'again'), '$.rows');`, { env });
  eq('S3 faults: the completed backup restores', r.stdout.trim(), '1000');
}

try {
  await run('file', null, `file://${tmpDir('tslite-bkcl-')}/loc`, {});
} catch (e) { check('file crash run', false, e.stack); }
const s3 = await startS3({ bucket: 'fault', proxy: true });
try {
  await run('s3', 's3://fault/lake', 's3://fault/vault', s3.env);
  await faults(s3);
} catch (e) { check('s3 crash run', false, e.stack); }
await s3.stop();
done();
