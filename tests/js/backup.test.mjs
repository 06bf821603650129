// backup.test.mjs: ts_backup / ts_restore (ext/backup.c, ext/restore.c,
// docs/backup.md) on file:// and s3rver.
//
// Per store: a full backup, then incremental ones with writes (1% new rows,
// late rows) and ts_maintain tiering in between; every backup restored by id
// and compared with the oracle of the table at that instant, captured when
// the backup was taken: the memory rows as exact text (SQL on the source),
// the cold tier as the manifest rows plus a hash of every object, and DuckDB
// reading the restored objects and agreeing with DuckDB on the source's.
// SELECT reads both tiers, so the text rows cover the cold tier too; the
// object hashes and DuckDB check the restored objects themselves.
// Also: the backup's memory files are plain Parquet (DuckDB reads them),
// restore with a shorter retention keeps exactly the rows inside it, a
// damaged and a missing file are refused by name, pruning (keep), errors,
// server-side copies on S3, a backup on s3rver restored to file:// and a
// file:// backup restored to s3rver.  kill -9 during backups lives in
// backup_crash.test.mjs.
import path from 'node:path';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { startS3 } from './s3fixture.mjs';
import { check, eq, done, sqlite, tmpDir } from './lib.mjs';

const duck = await (await DuckDBInstance.create(':memory:')).connect();
const duckRows = async (sql) => (await duck.runAndReadAll(sql)).getRowObjectsJson();
const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;
const T0 = 1714611600000000000n;        // 2024-05-02T01:00:00Z
const MIN = 60000000000n, H = 60n * MIN;
const setNow = (t) => `.output /dev/null\nSELECT ts_debug_set_now(${t});\n.output stdout\n`;

function q(db, sql, env = {}) {
  const r = sqlite(db, sql, { env });
  if (r.status !== 0 || r.stderr) throw new Error(`sqlite3: ${r.stderr || r.status} in ${sql.slice(0, 200)}`);
  return r.stdout;
}
function qerr(db, sql, env = {}) {
  const r = sqlite(db, sql, { env });
  return r.status === 0 ? '(no error)' : r.stderr.replace(/^(Runtime error|Error)[^:]*: /, '').replace(/\s+$/, '').replace(/ \(\d+\)$/, '');
}

// Rows of [lo, hi) every 10 s for 8 hosts in 2 regions, NULLs sprinkled.
function insertSql(lo, n, seed) {
  return `WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < ${n - 1})
  INSERT INTO cpu(time, host, region, v, n, s, b, ts) SELECT ${lo} + (x / 8) * 10000000000 + ${seed},
    'h' || (x % 8), CASE WHEN x % 8 = 7 THEN NULL ELSE 'r' || (x % 2) END,
    CASE WHEN x % 11 = 0 THEN NULL ELSE x * 0.37 + ${seed} END, x * 3 - ${seed},
    CASE WHEN x % 5 = 0 THEN NULL ELSE 's' || (x % 13) END, x % 2, ${T0} + x FROM i;\n`;
}

const ROWTEXT = (t) => `SELECT quote(time)||'|'||quote(host)||'|'||quote(region)||'|'||quote(measure_name)||'|'||
  CASE WHEN v IS NULL THEN 'NULL' ELSE printf('%!.17g', v) END||'|'||quote(n)||'|'||quote(s)||'|'||quote(b)||'|'||
  quote(ts)||'|'||quote(version) FROM "${t}" ORDER BY 1;`;

// The table's content as the oracle sees it: memory rows as text, cold
// objects as (nrow, tmin, tmax, sha3 of the bytes), DuckDB aggregates over
// the cold objects.  storageUri: the table's storage root.
async function snapshot(db, t, storageUri, env, dir) {
  const [cnt, memRows, objRows] = q(db, `SELECT count(*) FROM "${t}"; SELECT coalesce(sum(nrow), 0) FROM "${t}_chunks";
    SELECT coalesce(sum(nrow), 0) FROM "${t}_objects";`, env).trim().split('\n').map(Number);
  const bothTiers = objRows > 0 && cnt === memRows + objRows;
  const rows = q(db, ROWTEXT(t), env).trim().split('\n').filter(Boolean);
  const objs = q(db, `SELECT nrow||'|'||tmin||'|'||tmax||'|'||nbyte||'|'||hex(sha3(ts_object_get(${lit(storageUri)}||'/'||key)))
    FROM "${t}_objects" ORDER BY 1;`, env).trim().split('\n').filter(Boolean);
  let duckAgg = null;
  const keys = q(db, `SELECT key FROM "${t}_objects" ORDER BY key;`, env).trim().split('\n').filter(Boolean);
  if (keys.length) {
    const fetched = fs.mkdtempSync(path.join(dir, 'fetch-'));
    const files = keys.map((k, i) => path.join(fetched, `${i}.parquet`));
    q(db, keys.map((k, i) => `SELECT writefile(${lit(files[i])}, ts_object_get(${lit(storageUri + '/' + k)})) > 0;`).join('\n'), env);
    const list = '[' + files.map(lit).join(',') + ']';
    duckAgg = (await duckRows(`SELECT count(*)::VARCHAR AS c, count(DISTINCT (host, "time"))::VARCHAR AS u,
      round(sum(v), 6)::VARCHAR AS sv, sum(n)::VARCHAR AS sn, count(s)::VARCHAR AS cs, min("time")::VARCHAR AS tmin
      FROM read_parquet(${list})`))[0];
  }
  return { rows, objs, duckAgg, bothTiers, memRows, objRows };
}

function sameContent(name, got, exp) {
  // With the cold read side landed, SELECT shows both tiers in both tables.
  eq(`${name}: rows through SELECT (exact text; both tiers since the scan reads the cold tier)`, got.rows, exp.rows);
  eq(`${name}: cold objects (rows, time range, bytes, hash)`, got.objs, exp.objs);
  eq(`${name}: DuckDB over the restored cold objects agrees with the source's`, got.duckAgg, exp.duckAgg);
}

async function scenario(label, storage, loc, env, otherStorage) {
  const dir = tmpDir(`tslite-backup-${label}-`);
  const db = path.join(dir, 'x.db');
  const storageUri = storage || `file://${db}.tslite`;
  const locDir = loc.startsWith('file://') ? loc.slice(7) : null;
  let now = T0;
  q(db, `${setNow(now)}CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, region DIMENSION,
    v DOUBLE, n BIGINT, s VARCHAR, b BOOLEAN, ts TIMESTAMP, memory_retention = '1h',
    magnetic_writes = true, partition_key = 'host'${storage ? `, storage = ${lit(storage)}` : ''});
    ${insertSql(now - 3n * H, 8640, 0)}`, env);   // 3 h x 8 hosts
  q(db, `${setNow(now)}SELECT ts_maintain('cpu');`, env);
  const points = [];
  const backup = (opts) => JSON.parse(q(db, `${setNow(now)}SELECT ts_backup('cpu', ${lit(loc)}${opts ? `, ${lit(opts)}` : ''});`, env));

  // 1. Full backup.
  let o = await snapshot(db, 'cpu', storageUri, env, dir);
  let b = backup();
  check(`${label}: the first backup is full (every file new)`, b.new_files === b.files && b.new_bytes === b.bytes && b.files > 1, JSON.stringify(b));
  eq(`${label}: full backup counts the rows of both tiers`, [b.rows, b.memory_rows, b.cold_rows], [8640, o.memRows, o.objRows]);
  check(`${label}: something was tiered before the full backup`, o.objRows > 0, JSON.stringify(b));
  check(`${label}: SELECT reads both tiers (the oracle's rows cover the cold tier)`, o.bothTiers, JSON.stringify([o.memRows, o.objRows, o.rows.length]));
  if (label === 's3') check(`${label}: cold objects copied server-side (CopyObject)`, b.server_side_copies === b.cold_objects && b.cold_objects > 0, JSON.stringify(b));
  points.push({ id: b.backup, o, b });

  // 2. Incremental after 1% new rows (86 rows in the newest minutes).
  now += 2n * MIN;
  q(db, `${setNow(now)}${insertSql(now - 2n * MIN + 3n, 86, 1)}`, env);
  o = await snapshot(db, 'cpu', storageUri, env, dir);
  b = backup();
  const frac = b.new_bytes / b.bytes;
  console.log(`# ${label}: incremental backup after 1% new rows: ${b.new_files} of ${b.files} files, ${b.new_bytes} of ${b.bytes} bytes (${(100 * frac).toFixed(1)}%)`);
  check(`${label}: incremental backup after 1% new rows copies under 10% of the bytes`, b.new_files >= 1 && frac < 0.10, JSON.stringify(b));
  eq(`${label}: incremental backup copied no cold object`, b.cold_objects, points[0].b.cold_objects);
  points.push({ id: b.backup, o, b });

  // 3. Tiering, late rows and a version upsert, then another incremental backup.
  now += 30n * MIN;
  // Upserts of rows already in the cold tier (version 2, late data): the next
  // pass writes objects that overlap the old ones; readers take the higher
  // version, and must still after a restore (it keeps the manifest id order).
  q(db, `${setNow(now)}INSERT INTO cpu(time, host, region, v, n, s, b, ts, version)
    SELECT time, host, region, -7.25, n, s, b, ts, 2 FROM cpu WHERE host = 'h3' AND time < ${T0 - 2n * H - 50n * MIN};`, env);
  q(db, `${setNow(now)}SELECT ts_maintain('cpu');
    INSERT INTO cpu(time, host, v, version) VALUES(${now - 10n * MIN}, 'h1', -1.5, 1), (${now - 50n * MIN + 7n}, 'late', 2.5, 1);
    INSERT INTO cpu(time, host, region, v, n, s, b, ts, version) SELECT time, host, region, 99.5, n, s, b, ts, 2 FROM cpu
      WHERE host = 'h2' AND time >= ${now - 20n * MIN} AND time < ${now - 19n * MIN};`, env);
  o = await snapshot(db, 'cpu', storageUri, env, dir);
  const up = o.rows.filter((l) => l.includes("|'h3'|") && BigInt(l.split('|')[0]) < T0 - 2n * H - 50n * MIN);
  check(`${label}: the cold upserts are what SELECT shows (version 2 wins)`, up.length === 60 && up.every((l) => l.includes('|-7.25|') && l.endsWith('|2')), up.slice(0, 2).join(' ; '));
  b = backup();
  check(`${label}: after tiering the incremental backup copies only the new cold objects`,
    b.new_files < b.files && b.cold_objects > points[1].b.cold_objects, JSON.stringify(b));
  points.push({ id: b.backup, o, b });

  // 4. Nothing changed: a backup uploads nothing but its manifest.
  b = backup();
  eq(`${label}: a backup of an unchanged table copies nothing`, [b.new_files, b.new_bytes], [0, 0]);
  points.push({ id: b.backup, o, b });

  // Restore every point and compare with its oracle.
  const restStorage = (i) => otherStorage ? `${otherStorage}/p${i}` : null;
  for (let i = 0; i < points.length; i++) {
    const t = `r${i}`;
    const opt = { backup: points[i].id };
    if (otherStorage) opt.storage = restStorage(i);
    const r = JSON.parse(q(db, `${setNow(now)}SELECT ts_restore(${lit(loc)}, '${t}', ${lit(JSON.stringify(opt))});`, env));
    eq(`${label}: restore of backup ${i + 1} restores its rows`, [r.rows, r.backup, r.expired_rows], [points[i].b.rows, points[i].id, 0]);
    const rs = restStorage(i) || storage || `file://${db}.tslite`;
    sameContent(`${label}: restore of backup ${i + 1} (${points[i].id})`, await snapshot(db, t, rs, env, dir), points[i].o);
    eq(`${label}: ts_check of restored table ${t}`, q(db, `SELECT ts_check('${t}');`, env).trim(), 'ok');
  }
  // The newest backup by default.
  const rl = JSON.parse(q(db, `${setNow(now)}SELECT ts_restore(${lit(loc)}, 'rlatest'${otherStorage ? `, ${lit(JSON.stringify({ storage: otherStorage + '/latest' }))}` : ''});`, env));
  eq(`${label}: ts_restore without a backup id takes the newest`, rl.backup, points[3].id);
  // Restored cold objects live under the new table's name and writer id.
  const keys = q(db, `SELECT key, writer FROM r2_objects ORDER BY key;`, env).trim().split('\n');
  const wid = q(db, `SELECT v FROM r2_config WHERE k = 'cold.writer_id';`, env).trim();
  check(`${label}: restored objects are keyed r2/date=.../bucket=.../<new writer id>-...`,
    keys.length > 0 && keys.every((l) => l.startsWith('r2/date=') && l.includes(`/${wid}-`) && l.endsWith(`|${wid}`)), keys.slice(0, 3).join(' ; '));
  // The restored table takes writes and tiers like any table.
  q(db, `${setNow(now)}INSERT INTO r2(time, host, v) VALUES(${now - 1000n}, 'new', 1.0);`, env);
  const m = JSON.parse(q(db, `${setNow(now + 2n * H)}SELECT ts_maintain('r2');`, env)).tables[0];
  check(`${label}: ts_maintain tiers a restored table`, m.rows_moved > 0 && m.rounds_aborted === 0, JSON.stringify(m));

  // Retention at restore: keep only rows with time >= now' - 1h - 1d.
  const later = T0 + 24n * H + 10n * MIN;          // E = T0 - 50 min
  const E = later - H - 24n * H;
  const r1 = JSON.parse(q(db, `${setNow(later)}SELECT ts_restore(${lit(loc)}, 'rshort', ${lit(JSON.stringify({ backup: points[0].id, magnetic_retention: '1d', ...(otherStorage ? { storage: otherStorage + '/short' } : {}) }))});`, env));
  const keptExp = points[0].o.rows.filter((l) => BigInt(l.split('|')[0]) >= E);
  eq(`${label}: restore with a shorter retention keeps exactly the memory rows inside it`,
    q(db, setNow(later) + ROWTEXT('rshort'), env).trim().split('\n').filter(Boolean), keptExp);
  eq(`${label}: ... and no cold object (all older than the new retention)`,
    [r1.cold_objects, r1.expired_objects, r1.memory_rows, r1.expired_rows],
    [0, points[0].b.cold_objects, keptExp.length, points[0].b.rows - keptExp.length]);
  eq(`${label}: restored options: source's, overridden by options_json`,
    q(db, `SELECT group_concat(k||'='||v, ',') FROM (SELECT k, v FROM rshort_config WHERE k IN
      ('memory_retention','magnetic_retention','magnetic_writes','partition_key') ORDER BY k);`, env).trim(),
    'magnetic_retention=1d,magnetic_writes=true,memory_retention=1h,partition_key=host');

  // The backup is readable without tslite: DuckDB reads the memory files.
  if (locDir) {
    const man = JSON.parse(fs.readFileSync(path.join(locDir, 'backups', `${points[2].id}.json`), 'utf8'));
    const mem = man.files.filter((f) => f.kind === 'memory').map((f) => path.join(locDir, f.path));
    const d = (await duckRows(`SELECT count(*)::VARCHAR AS c FROM read_parquet([${mem.map(lit).join(',')}])`))[0];
    eq(`${label}: DuckDB reads the backup's memory files (rows = summary memory_rows)`, Number(d.c), man.summary.memory_rows);
    const bad = man.files.filter((f) => crypto.createHash('sha256').update(fs.readFileSync(path.join(locDir, f.path))).digest('hex') !== f.sha256);
    eq(`${label}: every file's sha256 in the manifest is the sha256 of its bytes`, bad.map((f) => f.path), []);
  }

  // Pruning: keep 2 -> two manifests left, both restorable, files of pruned
  // backups swept.
  b = backup('{"keep":2,"orphan_grace":"0s"}');
  const nMan = q(db, `SELECT count(*) FROM ts_object_list(${lit(loc)}, 'backups/');`, env).trim();
  eq(`${label}: keep 2 leaves two backups`, [nMan, b.pruned], ['2', 3]);
  const refd = new Set();
  for (const k of q(db, `SELECT key FROM ts_object_list(${lit(loc)}, 'backups/');`, env).trim().split('\n')) {
    const man = JSON.parse(q(db, `SELECT CAST(ts_object_get(${lit(loc + '/' + k)}) AS TEXT);`, env));
    man.files.forEach((f) => refd.add(f.path));
  }
  const data = q(db, `SELECT key FROM ts_object_list(${lit(loc)}, 'data/');`, env).trim().split('\n').filter(Boolean);
  eq(`${label}: after pruning the location holds exactly the files the kept backups name`, data.filter((k) => !refd.has(k)), []);
  const rk = JSON.parse(q(db, `${setNow(now)}SELECT ts_restore(${lit(loc)}, 'rkept', ${lit(JSON.stringify({ backup: points[3].id, ...(otherStorage ? { storage: otherStorage + '/kept' } : {}) }))});`, env));
  eq(`${label}: a kept backup still restores after pruning`, rk.rows, points[3].b.rows);
  eq(`${label}: a pruned backup is gone`, qerr(db, `SELECT ts_restore(${lit(loc)}, 'rgone', ${lit(JSON.stringify({ backup: points[0].id }))});`, env),
    `ts_restore: no backup manifest 'backups/${points[0].id}.json' in '${loc}'`);
  return { db, dir, points, storageUri };
}

// Damaged and missing files (file:// location: copies of it are tampered).
function damage(db, loc, id) {
  const src = loc.slice(7);
  const man = JSON.parse(fs.readFileSync(path.join(src, 'backups', `${id}.json`), 'utf8'));
  for (const kind of ['memory', 'cold']) {
    const f = man.files.find((x) => x.kind === kind);
    const bad = `${src}-bad-${kind}`;
    fs.cpSync(src, bad, { recursive: true });
    const p = path.join(bad, f.path);
    const buf = fs.readFileSync(p);
    buf[Math.floor(buf.length / 2)] ^= 0x40;
    fs.writeFileSync(p, buf);
    const sha = crypto.createHash('sha256').update(buf).digest('hex');
    eq(`damaged ${kind} file is refused, naming it`, qerr(db, `SELECT ts_restore('file://${bad}', 'x_${kind}', '{"backup":"${id}"}');`),
      `ts_restore: backup ${id} is damaged: file '${f.path}' in 'file://${bad}' has ${buf.length} bytes with sha256 ${sha}, its manifest says ${f.bytes} bytes with sha256 ${f.sha256}`);
    fs.rmSync(p);
    eq(`missing ${kind} file is refused, naming it`, qerr(db, `SELECT ts_restore('file://${bad}', 'x_${kind}', '{"backup":"${id}"}');`),
      `ts_restore: backup ${id} is incomplete: file '${f.path}' is missing from 'file://${bad}'`);
    eq(`a refused restore leaves no table behind (${kind})`, q(db, `SELECT count(*) FROM sqlite_schema WHERE name LIKE 'x_${kind}%';`).trim(), '0');
    fs.rmSync(bad, { recursive: true, force: true });
  }
  const t = `${src}-bad-manifest`;
  fs.cpSync(src, t, { recursive: true });
  fs.writeFileSync(path.join(t, 'backups', `${id}.json`), '{"format":"tslite-backup","version":1,"files":[');
  eq('a damaged manifest is refused, naming it', qerr(db, `SELECT ts_restore('file://${t}', 'xm', '{"backup":"${id}"}');`),
    `ts_restore: backup manifest 'backups/${id}.json' in 'file://${t}' is damaged (not a tslite-backup version 1 JSON object)`);
  fs.rmSync(t, { recursive: true, force: true });
}

function errors(db, loc) {
  const E = (sql) => qerr(db, sql);
  eq('error: restore into an existing table', E(`SELECT ts_restore('${loc}', 'cpu');`),
    "ts_restore: a table named 'cpu' already exists in schema main (restore always creates a new table)");
  eq('error: partition_key cannot change', E(`SELECT ts_restore('${loc}', 'z', '{"partition_key":"region"}');`),
    "ts_restore: option partition_key cannot change at restore (the backup's cold objects are partitioned and sorted by the source's)");
  eq('error: unknown restore option', E(`SELECT ts_restore('${loc}', 'z', '{"retention":"1h"}');`),
    "ts_restore: unknown option 'retention' (expected backup, memory_retention, magnetic_retention, magnetic_writes, partition_enforcement, storage, s3_endpoint, s3_region, s3_url_style)");
  eq('error: a bad option value fails as CREATE would, before any copy', E(`SELECT ts_restore('${loc}', 'z', '{"memory_retention":"2m"}');`),
    "ts_restore z: timeseries z: bad value for memory_retention: '2m' (expected an interval from 1h to 8766h, e.g. '6h' or '7d')");
  eq('error: no backup in an empty location', E(`SELECT ts_restore('file:///nonexistent/empty', 'z');`),
    "ts_restore: no backup in 'file:///nonexistent/empty' (no backups/*.json manifest)");
  eq('error: bad location', E(`SELECT ts_backup('cpu', '/tmp/x');`),
    "ts_backup: bad backup location '/tmp/x' (expected 's3://bucket/prefix' or 'file:///absolute/dir')");
  eq('error: not a timeseries table', E(`SELECT ts_backup('nope', '${loc}');`),
    "ts_backup: no timeseries table named 'nope' in schema main");
  eq('error: inside a transaction', E(`BEGIN; SELECT ts_backup('cpu', '${loc}');`),
    'ts_backup cpu: must be called outside a transaction (the snapshot is its own read transaction)');
  eq('error: unknown backup option', E(`SELECT ts_backup('cpu', '${loc}', '{"full":true}');`),
    "ts_backup: unknown option 'full' (expected keep, keep_days, orphan_grace, encryption, kms_key)");
  eq('error: keep must be a positive integer', E(`SELECT ts_backup('cpu', '${loc}', '{"keep":0}');`),
    'ts_backup: option keep must be an integer from 1 to 1000000, not 0');
  eq('error: options must be an object', E(`SELECT ts_backup('cpu', '${loc}', '[1]');`),
    'ts_backup: options must be a JSON object');
  q(db, `CREATE VIRTUAL TABLE other USING timeseries(v DOUBLE, storage = 'file:///tmp/unused');`);
  eq('error: a location holds one table', E(`SELECT ts_backup('other', '${loc}');`),
    `ts_backup other: '${loc}' holds backups of table 'cpu'; a location holds the backups of one table: use another location`);
}

const s3 = await startS3({ bucket: 'bkt' });
try {
  const fLoc = `file://${tmpDir('tslite-bkloc-')}/loc`;
  const f = await scenario('file', null, fLoc, {}, null);
  damage(f.db, fLoc, f.points[3].id);
  errors(f.db, fLoc);
  await scenario('s3', 's3://bkt/lake', 's3://bkt/vault', s3.env, null);
  // Across stores: a backup on s3rver restored to file:// storage, and a
  // file:// backup restored to s3rver storage.
  await scenario('s3-to-file', 's3://bkt/lake2', 's3://bkt/vault2', s3.env, `file://${tmpDir('tslite-bkx-')}`);
  await scenario('file-to-s3', null, `file://${tmpDir('tslite-bky-')}/loc`, s3.env, 's3://bkt/restored');
} catch (e) {
  check('backup scenarios', false, e.stack);
}
await s3.stop();
done();
