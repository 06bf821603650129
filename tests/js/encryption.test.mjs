// encryption.test.mjs: encryption at rest of a table's cold objects and its
// backups (table options encryption / kms_key: ext/schema.c, ext/tablestore.c,
// s3/objcrypt.c; docs/object-storage.md "Encryption", docs/backup.md).
//
// 1. SSE on s3rver, through the fixture's recording proxy: every request that
//    creates an object of an sse_s3 / sse_kms table (tiering, compaction,
//    backup CopyObject, UNLOAD with the option) carries exactly the SSE
//    headers, signed; a table with encryption 'none' sends none.  The objects
//    stay plain Parquet in s3rver's directory (DuckDB reads them).
// 2. Client-side AES-256-GCM on file://: objects are sealed (TSLCSE02 +
//    key id), DuckDB cannot read them, the table reads them with the key and
//    fails naming the key id without it, with another key id, or with other
//    key material; two objects swapped in the store are refused by name.
// 3. Backups: a client-encrypted backup (the table's default, or the
//    options' encryption) restores with the key and fails clearly without it;
//    option errors are exact.
import path from 'node:path';
import fs from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { startS3 } from './s3fixture.mjs';
import { check, eq, done, sqlite, tmpDir } from './lib.mjs';

const duck = await (await DuckDBInstance.create(':memory:')).connect();
const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;
const NOW = ".output /dev/null\nSELECT ts_debug_set_now('2024-05-03T12:00:00Z');\n.output stdout\n";
const T0 = 1714608000000000000n;        // 2024-05-02T00:00:00Z
const N = 2000, STEP = 40000000000n;     // 40 s apart: rows up to 2024-05-02T22:13Z, all cold
const KEY = '6b'.repeat(32), KEY2 = '7c'.repeat(32);
const CSE = { TSLITE_CSE_KEY: KEY, TSLITE_CSE_KEY_ID: 'cold-k1' };
const NOKEY = { TSLITE_CSE_KEY: '', TSLITE_CSE_KEY_FILE: '', TSLITE_CSE_KEY_ID: '' };

// Sum of n over the generator's rows, for exact comparisons.
let SUMN = 0n;
for (let i = 0; i < N; i++) SUMN += BigInt(i);
const WANT = `${N}|${SUMN}\n`;
// Three fresh rows (n = 0, one per host) stay in the memory tier of the
// backed-up tables, so the restored tables have their series (a restore of
// a table whose rows are all cold restores no series: reported).
const FRESH = (t) => `INSERT INTO ${t}(time, host, v, n) VALUES (1714737000000000000, 'h0', 0, 0),
  (1714737000000000000, 'h1', 0, 0), (1714737000000000000, 'h2', 0, 0);\n`;
const WANT2 = `${N + 3}|${SUMN}\n`;

function run(db, sql, env) {
  return sqlite(db, NOW + sql, { env: { ...NOKEY, ...env } });
}
function errOf(r) {
  return r.status === 0 ? '(no error)' : r.stderr.replace(/^(Runtime error|Parse error|Error)[^:]*: /, '').replace(/\s+$/, '').replace(/ \(\d+\)$/, '');
}
const create = (t, opts, lo = 0, n = N) => `CREATE VIRTUAL TABLE ${t} USING timeseries(host DIMENSION, v DOUBLE, n BIGINT,
  magnetic_writes = true, magnetic_retention = '2d', partition_key = 'host'${opts ? `, ${opts}` : ''});
${insert(t, lo, n)}`;
const insert = (t, lo, n) => `WITH RECURSIVE r(i) AS (SELECT ${lo} UNION ALL SELECT i+1 FROM r WHERE i<${lo + n - 1})
INSERT INTO ${t}(time, host, v, n) SELECT ${T0} + i*${STEP}, 'h'||(i%3), i*0.5, i FROM r;\n`;
function maintain(db, t, env) {
  const r = run(db, `SELECT ts_maintain('${t}');`, env);
  try { return JSON.parse(r.stdout.split('\n')[0]).tables[0]; } catch (e) { return { error: errOf(r) }; }
}

// ---------------------------------------------------------------- 1. SSE
const s3 = await startS3({ bucket: 'enc', proxy: true });
try {
  const dir = tmpDir('tslite-enc-sse-');
  const db = path.join(dir, 'x.db');
  const env = s3.proxyEnv;
  let r = run(db, create('cs3', "storage = 's3://enc/sse3', encryption = 'sse_s3'", 0, N / 2)
    + create('ckms', "storage = 's3://enc/kms', encryption = 'sse_kms', kms_key = 'alias/tslite-cold'", 0, N / 2)
    + create('cnone', "storage = 's3://enc/none'", 0, N / 2), env);
  check('sse: setup', r.status === 0 && !r.stderr, r.stderr);
  await s3.log();
  // Two tiering passes (the second with late rows of the same days and
  // buckets), then passes until compaction merges the small objects.
  const passes = {};
  for (const t of ['cs3', 'ckms', 'cnone']) {
    const j1 = maintain(db, t, env);
    r = run(db, insert(t, N / 2, N / 2), env);
    const j2 = maintain(db, t, env);
    let compacted = (j1.objects_compacted || 0) + (j2.objects_compacted || 0);
    for (let k = 0; k < 4 && compacted === 0 && !j2.error; k++) compacted += maintain(db, t, env).objects_compacted || 0;
    passes[t] = { written: (j1.objects_written || 0) + (j2.objects_written || 0), compacted, err: j1.error || j2.error };
  }
  check('sse: tiering wrote objects in two passes and compaction merged some',
    Object.values(passes).every((p) => !p.err && p.written >= 6 && p.compacted >= 2), JSON.stringify(passes));
  r = run(db, 'SELECT count(*)||\'|\'||sum(n) FROM cs3; SELECT count(*)||\'|\'||sum(n) FROM ckms;', env);
  eq('sse: both tables read back every row', r.stdout, WANT + WANT);
  // Backups of the sse tables to the same endpoint: CopyObject server-side.
  r = run(db, `${FRESH('cs3')}SELECT ts_backup('cs3', 's3://enc/bk3'); SELECT ts_backup('ckms', 's3://enc/bkkms');`, env);
  check('sse: backups succeed', r.status === 0 && !r.stderr, r.stderr);
  const bk = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  check('sse: backups copied the cold objects server-side', bk.every((b) => b.server_copies > 0 || b.files > 0), r.stdout);
  // Restored into a new table on S3: its objects get the table's SSE (from the backup).
  r = run(db, `SELECT ts_restore('s3://enc/bk3', 'rs3', '{"storage":"s3://enc/rs3"}') IS NOT NULL;
    SELECT count(*)||'|'||sum(n) FROM rs3; SELECT v FROM rs3_config WHERE k='encryption';`, env);
  eq('sse: the restored table reads every row and keeps sse_s3', r.stdout, `1\n${WANT2}sse_s3\n`);
  r = run(db, "SELECT ts_unload('SELECT host, n FROM cnone', 's3://enc/unl', '{\"format\":\"csv\",\"encryption\":\"sse_kms\",\"kms_key\":\"alias/unl\"}');", env);
  const log = await s3.log();
  // Requests that create an object: PutObject and CopyObject (PUT without
  // partNumber), CreateMultipartUpload (POST ?uploads).
  const creates = log.filter((q) => (q.method === 'PUT' && !/[?&]partNumber=/.test(q.url))
    || (q.method === 'POST' && /[?&]uploads(=|&|$)/.test(q.url)));
  const under = (pre) => creates.filter((q) => q.url.startsWith(`/enc/${pre}/`));
  eq('sse_s3: every object of the restored table (CopyObject from the backup) has AES256', [under('rs3').length > 0, ...new Set(under('rs3').map((q) => `${q.sse}|${q.signed.includes('x-amz-server-side-encryption')}`))], [true, 'AES256|true']);
  const summary = (qs) => [...new Set(qs.map((q) => `${q.sse}|${q.kms}|${q.signed && q.sse ? q.signed.includes('x-amz-server-side-encryption') : false}`))];
  const copies = creates.filter((q) => q.method === 'PUT' && log.length && q.url.startsWith('/enc/bk'));
  check('sse: object-creating requests were recorded', under('sse3').length >= 8 && under('kms').length >= 8
    && under('bk3').length > 0 && under('bkkms').length > 0 && under('none').length >= 8 && under('unl').length > 0,
  JSON.stringify(Object.fromEntries(['sse3', 'kms', 'bk3', 'bkkms', 'none', 'unl'].map((p) => [p, under(p).length]))));
  eq('sse_s3: every object written for the table (tiering, compaction) has AES256, signed', summary(under('sse3')), ['AES256|null|true']);
  eq('sse_kms: every object has aws:kms + the key id, signed', summary(under('kms')), ['aws:kms|alias/tslite-cold|true']);
  eq('sse_s3: every object of its backup (CopyObject, manifest) has AES256', summary(under('bk3')), ['AES256|null|true']);
  eq('sse_kms: every object of its backup has aws:kms + the key id', summary(under('bkkms')), ['aws:kms|alias/tslite-cold|true']);
  eq('none: no SSE header on any object', summary(under('none')), ['null|null|false']);
  eq('unload with encryption: every object has aws:kms + its key', summary(under('unl')), ['aws:kms|alias/unl|true']);
  check('sse: the backups used CopyObject for cold objects', copies.length > 0, JSON.stringify(copies.slice(0, 3)));
  // Exactly once per manifest object: each live object key was created by a request with the header.
  r = run(db, 'SELECT key FROM cs3_objects ORDER BY key;', env);
  const keys = r.stdout.trim().split('\n').filter(Boolean);
  const created = new Set(under('sse3').map((q) => decodeURIComponent(q.url.split('?')[0].slice('/enc/sse3/'.length))));
  check('sse_s3: every manifest object was created with the header', keys.length > 0 && keys.every((k) => created.has(k)),
    `${keys.length} keys, e.g. ${keys[0]} not in ${[...created].slice(0, 3)}`);
  // The objects stay plain Parquet at rest in s3rver's directory.
  const files = [];
  const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else if (p.endsWith('._S3rver_object') && p.includes('.parquet')) files.push(p); } };
  walk(path.join(s3.dir, 'enc', 'sse3'));
  // Only the manifest's objects: objects replaced by compaction stay in the
  // store until orphan_grace has passed (ts_maintain retires them).
  const live = new Set(keys.map((k) => path.join(s3.dir, 'enc', 'sse3', `${k}._S3rver_object`)));
  files.splice(0, files.length, ...files.filter((f) => live.has(f)));
  if (files.length === 0) {
    check('sse: s3rver keeps objects on disk', false, fs.readdirSync(s3.dir).join(','));
  } else {
    const rows = (await duck.runAndReadAll(`SELECT count(*)::BIGINT AS c FROM read_parquet([${files.map(lit).join(',')}])`)).getRowObjectsJson();
    eq('sse: DuckDB reads the sse_s3 objects as plain Parquet', String(rows[0].c), String(N));
  }
  fs.rmSync(dir, { recursive: true, force: true });
} finally {
  await s3.stop();
}

// ---------------------------------------------------------------- 2. client
{
  const dir = tmpDir('tslite-enc-cse-');
  const db = path.join(dir, 'x.db');
  const store = path.join(dir, 'cold');
  let r = run(db, create('cc', `storage = 'file://${store}', encryption = 'client', kms_key = 'cold-k1'`), CSE);
  check('client: setup', r.status === 0 && !r.stderr, r.stderr);
  const j = maintain(db, 'cc', CSE);
  check('client: tiering wrote objects', j.objects_written >= 3 && !j.error, JSON.stringify(j));
  r = run(db, 'SELECT count(*)||\'|\'||sum(n) FROM cc; SELECT sum(nrow) FROM cc_chunks;', CSE);
  eq('client: every row reads back from sealed objects (memory tier empty)', r.stdout, WANT + '\n');
  const keys = run(db, 'SELECT key FROM cc_objects ORDER BY key;', CSE).stdout.trim().split('\n').filter(Boolean);
  const raw = fs.readFileSync(path.join(store, keys[0]));
  eq('client: stored object starts with TSLCSE02 and the key id', raw.subarray(0, 15).toString('latin1'), 'TSLCSE02cold-k1');
  check('client: no Parquet magic in the stored bytes', raw.indexOf('PAR1') < 0 || raw.indexOf('PAR1') > 8, String(raw.indexOf('PAR1')));
  let duckErr = '';
  try { await duck.runAndReadAll(`SELECT count(*) FROM read_parquet(${lit(path.join(store, keys[0]))})`); } catch (e) { duckErr = String(e.message); }
  check('client: DuckDB cannot read a sealed object (expected)', duckErr !== '', 'DuckDB read it');
  // Without the key, with another key id, with other material.
  r = run(db, 'SELECT count(*) FROM cc;', {});
  eq('client: no key in the environment names the key id', errOf(r),
    `timeseries cc: cannot open storage 'file://${store}': client-side encryption key 'cold-k1' is not configured: `
    + "set TSLITE_CSE_KEY_FILE (or TSLITE_CSE_KEY) to its material and TSLITE_CSE_KEY_ID='cold-k1'");
  check('client: the message holds no key material', !r.stderr.includes(KEY.slice(0, 16)), r.stderr);
  r = run(db, 'SELECT count(*) FROM cc;', { TSLITE_CSE_KEY: KEY2, TSLITE_CSE_KEY_ID: 'other' });
  eq('client: another key id in the environment names both', errOf(r),
    `timeseries cc: cannot open storage 'file://${store}': client-side encryption key 'cold-k1' is not configured: `
    + "the environment holds key 'other' (TSLITE_CSE_KEY_ID)");
  r = run(db, 'SELECT count(*) FROM cc;', { TSLITE_CSE_KEY: KEY2, TSLITE_CSE_KEY_ID: 'cold-k1' });
  check('client: other material under the same id fails to unwrap, naming the key id',
    /^timeseries cc: .*object file:\/\/.*\.parquet: cannot unwrap its data key with key 'cold-k1' \(wrong master key, or the header was tampered with\)/.test(errOf(r))
    && !r.stderr.includes(KEY2.slice(0, 16)), errOf(r));
  // A sealed object read outside the table, with no key: the key id is named.
  r = run(db, `SELECT length(ts_object_get(${lit(`file://${store}/${keys[0]}`)}));`, {});
  check('client: ts_object_get without a key names the key id', errOf(r).includes(`is client-side encrypted with key id 'cold-k1', and no client-side key is configured: set TSLITE_CSE_KEY_FILE (or TSLITE_CSE_KEY) to key 'cold-k1' and TSLITE_CSE_KEY_ID='cold-k1'`), errOf(r));
  r = run(db, `SELECT length(ts_object_get(${lit(`file://${store}/${keys[0]}`)})) > 0;`, CSE);
  eq('client: ts_object_get with the key opens it through its directory', r.stdout, '1\n');
  // Swap two objects in the store: refused, naming the object.
  const a = path.join(store, keys[0]), b = path.join(store, keys[1]);
  const ba = fs.readFileSync(a), bb = fs.readFileSync(b);
  fs.writeFileSync(a, bb); fs.writeFileSync(b, ba);
  r = run(db, 'SELECT count(*) FROM cc;', CSE);
  check('client: swapped objects are refused, naming one of them',
    new RegExp(`object file://${store}/(${keys[0]}|${keys[1]}) was sealed for another object key \\(moved, swapped or replayed from another name\\): refused`.replace(/\./g, '\\.')).test(errOf(r)), errOf(r));
  // Replay: an object copied over another name.
  fs.writeFileSync(a, ba); fs.writeFileSync(b, ba);
  r = run(db, 'SELECT count(*) FROM cc;', CSE);
  check('client: an object replayed under another name is refused, naming it',
    errOf(r).includes(`object file://${store}/${keys[1]} was sealed for another object key`), errOf(r));
  fs.writeFileSync(b, bb);
  r = run(db, 'SELECT count(*)||\'|\'||sum(n) FROM cc;', CSE);
  eq('client: back in place, the table reads again', r.stdout, WANT);

  // ------------------------------------------------------------ 3. backups
  const loc = `file://${path.join(dir, 'bk')}`;
  r = run(db, `${FRESH('cc')}SELECT ts_backup('cc', ${lit(loc)});`, CSE);
  check('backup: a client table backs up with its key', r.status === 0 && !r.stderr, r.stderr);
  const bkFiles = [];
  const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else bkFiles.push(p); } };
  walk(path.join(dir, 'bk'));
  const sealed = bkFiles.filter((f) => fs.readFileSync(f).subarray(0, 15).toString('latin1') === 'TSLCSE02cold-k1');
  eq('backup: every backup file (manifest, memory and cold files) is sealed with the table\'s key', [bkFiles.length > 1, sealed.length], [true, bkFiles.length]);
  r = run(db, `SELECT ts_restore(${lit(loc)}, 'rc', ${lit(JSON.stringify({ storage: `file://${path.join(dir, 'rcold')}` }))});`, {});
  eq('restore: without the key fails naming the key id', errOf(r),
    `ts_restore: cannot open backup location '${loc}': client-side encryption key 'cold-k1' is not configured: `
    + "set TSLITE_CSE_KEY_FILE (or TSLITE_CSE_KEY) to its material and TSLITE_CSE_KEY_ID='cold-k1'");
  r = run(db, `SELECT ts_restore(${lit(loc)}, 'rc', ${lit(JSON.stringify({ storage: `file://${path.join(dir, 'rcold')}` }))});`, { TSLITE_CSE_KEY: KEY2, TSLITE_CSE_KEY_ID: 'cold-k1' });
  check('restore: with other key material fails to unwrap', /cannot unwrap its data key with key 'cold-k1'/.test(errOf(r)), errOf(r));
  r = run(db, `SELECT ts_restore(${lit(loc)}, 'rc', ${lit(JSON.stringify({ storage: `file://${path.join(dir, 'rcold')}` }))});
    SELECT count(*)||'|'||sum(n) FROM rc; SELECT v FROM rc_config WHERE k IN ('encryption', 'kms_key') ORDER BY k;`, CSE);
  check('restore: with the key restores every row into a client table', r.status === 0 && r.stdout.endsWith(`${WANT2}client\ncold-k1\n`), r.stdout + r.stderr);
  const rkeys = run(db, 'SELECT key FROM rc_objects ORDER BY key;', CSE).stdout.trim().split('\n').filter(Boolean);
  check('restore: the restored objects are sealed (re-bound to their new keys)', rkeys.length > 0
    && rkeys.every((k) => fs.readFileSync(path.join(dir, 'rcold', k)).subarray(0, 8).toString('latin1') === 'TSLCSE02'), rkeys.join(','));
  // A plain table backed up with client encryption by option.
  r = run(db, `${create('pl', `storage = 'file://${path.join(dir, 'plcold')}'`)}SELECT ts_maintain('pl') IS NOT NULL;
    ${FRESH('pl')}SELECT ts_backup('pl', ${lit(`file://${path.join(dir, 'bkpl')}`)}, '{"encryption":"client","kms_key":"cold-k1"}');`, CSE);
  check('backup: options encryption client on a plain table', r.status === 0 && !r.stderr, r.stderr);
  const plObj = run(db, 'SELECT key FROM pl_objects LIMIT 1;', CSE).stdout.trim();
  eq('backup: the plain table\'s own objects stay plain Parquet', fs.readFileSync(path.join(dir, 'plcold', plObj)).subarray(0, 4).toString('latin1'), 'PAR1');
  const man = fs.readdirSync(path.join(dir, 'bkpl', 'backups'));
  eq('backup: its manifest is sealed', fs.readFileSync(path.join(dir, 'bkpl', 'backups', man[0])).subarray(0, 15).toString('latin1'), 'TSLCSE02cold-k1');
  r = run(db, `SELECT ts_restore(${lit(`file://${path.join(dir, 'bkpl')}`)}, 'rpl', ${lit(JSON.stringify({ storage: `file://${path.join(dir, 'rplcold')}` }))});
    SELECT count(*)||'|'||sum(n) FROM rpl;`, CSE);
  check('restore: the client-encrypted backup of the plain table restores with the key', r.status === 0 && r.stdout.endsWith(WANT2), r.stdout + r.stderr);
  // Option errors.
  const bkErr = (t, opt) => errOf(run(db, `SELECT ts_backup('${t}', ${lit(`file://${path.join(dir, 'bkerr')}`)}, ${lit(opt)});`, CSE));
  eq('backup: bad encryption value', bkErr('pl', '{"encryption":"aes"}'),
    "ts_backup: bad value for encryption: 'aes' (expected 'none', 'sse_s3', 'sse_kms' or 'client')");
  eq('backup: kms_key without encryption', bkErr('pl', '{"kms_key":"k"}'), 'ts_backup pl: option kms_key needs the option encryption');
  eq('backup: sse on a directory', bkErr('pl', '{"encryption":"sse_s3"}'),
    "ts_backup pl: encryption 'sse_s3' is server-side encryption and needs s3:// storage (use 'client' to encrypt objects in a directory)");
  eq('backup: sse_kms without kms_key', bkErr('pl', '{"encryption":"sse_kms"}'),
    "ts_backup pl: encryption 'sse_kms' needs the option kms_key (a KMS key id, ARN or alias)");
  eq('backup: client with a key id not in the environment', bkErr('pl', '{"encryption":"client","kms_key":"k9"}'),
    `ts_backup: cannot open backup location 'file://${path.join(dir, 'bkerr')}': client-side encryption key 'k9' is not configured: the environment holds key 'cold-k1' (TSLITE_CSE_KEY_ID)`);
  fs.rmSync(dir, { recursive: true, force: true });
}
done();
