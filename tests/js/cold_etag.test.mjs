// cold_etag.test.mjs: the manifest's etag column (docs/internals/cold-format.md
// section 3) on s3rver behind the request-counting proxy
// (cold_cache_proxy.mjs) and on file://:
//   - a database made before the column (the column dropped, as an older
//     version created it) opens: queries, ts_check and the cold cache work,
//     validating by one LIST; the next ts_maintain adds the column, old rows
//     keep NULL, new objects get the ETag the store lists;
//   - ts_restore records the ETag of each copy in the new storage (file://
//     and s3rver), ts_check is ok on the restored table, and a warm query on
//     it sends no request;
//   - the file:// ETag is what the store reports (mtime and size), so it
//     follows a rewritten file.
import path from 'node:path';
import { check, done, eq, sqliteAsync, tmpDir } from './lib.mjs';
import { startS3 } from './s3fixture.mjs';
import { startCountingProxy } from './cold_cache_proxy.mjs';

const NOW = ".output /dev/null\nSELECT ts_debug_set_now('2024-05-04T00:30:00Z');\n.output stdout\n";
const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;
const s3 = await startS3({ bucket: 'etag' });
const px = await startCountingProxy(s3.endpoint);
const env = { ...s3.env, AWS_ENDPOINT_URL_S3: px.endpoint };
const dir = tmpDir('tslite-coldetag-');

// sqlite3 in a child (not blocking: the proxy answers from this process),
// with the requests the proxy saw meanwhile.
const run = (db, sql) => px.counted(() => sqliteAsync(db, NOW + sql, { env }));
// Rows "key|etag" of table t's manifest and of the store's listing under root.
const manifest = async (db, t) => (await run(db, `SELECT key, coalesce(etag, 'NULL') FROM ${t}_objects ORDER BY key;`)).stdout;
const listing = async (db, root, keys) => {
  const r = await run(db, `SELECT key, etag FROM ts_object_list(${lit(root)}) ORDER BY key;`);
  return r.stdout.split('\n').filter((l) => keys.includes(l.split('|')[0])).map((l) => `${l}\n`).join('');
};
const keysOf = (m) => m.trim().split('\n').map((l) => l.split('|')[0]);
const INSERT = (t, day) => `WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM r WHERE i<287),
    h(k) AS (SELECT 0 UNION ALL SELECT k+1 FROM h WHERE k<3)
  INSERT INTO ${t}(time, host, v) SELECT ${1714521600000000000n + BigInt(day) * 86400000000000n} + i*300000000000, 'h'||k, i FROM r, h;`;
const Q = 'SELECT count(*), sum(v) FROM cpu;\n';

// ---- A database made before the etag column ----
const db = path.join(dir, 'old.db');
let r = await run(db, `CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE,
    memory_retention = '1h', magnetic_writes = true, partition_key = 'host', storage = 's3://etag/old');
  ${INSERT('cpu', 0)}
  SELECT json_extract(ts_maintain('cpu'), '$.tables[0].objects_written') > 1;
  ALTER TABLE cpu_objects DROP COLUMN etag;
  SELECT count(*) FROM pragma_table_info('cpu_objects') WHERE name = 'etag';`);
eq('old db: setup (objects tiered, then the column dropped)', [r.stdout, r.stderr], ['1\n0\n', '']);
const nObjOld = Number((await run(db, 'SELECT count(*) FROM cpu_objects;')).stdout);
const EXPECT1 = `1152|${4 * (287 * 288) / 2}.0\n`;
r = await run(db, Q);
eq('old db: a query without the column returns every row', [r.stdout, r.stderr], [EXPECT1, '']);
r = await run(db, Q);
eq('old db: a warm query is validated by one LIST (no ETag known)',
  [r.stdout, r.stderr, r.get, r.head, r.list], [EXPECT1, '', 0, 0, 1]);
r = await run(db, "SELECT ts_check('cpu');");
eq('old db: ts_check ok without the column', [r.stdout, r.stderr], ['ok\n', '']);
r = await run(db, `${INSERT('cpu', 1)}
  SELECT json_extract(ts_maintain('cpu'), '$.tables[0].objects_written') > 0;
  SELECT count(*) FROM pragma_table_info('cpu_objects') WHERE name = 'etag';
  SELECT count(*) - count(etag) = ${nObjOld}, count(etag) > 0 FROM cpu_objects;
  SELECT ts_check('cpu');`);
eq('old db: ts_maintain adds the column; the old rows keep NULL, the new ones get an ETag',
  [r.stdout, r.stderr], ['1\n1\n1|1\nok\n', '']);
{
  const m = await manifest(db, 'cpu');
  const fresh = m.trim().split('\n').filter((l) => !l.endsWith('|NULL')).map((l) => `${l}\n`).join('');
  eq('old db: the new rows hold the ETags the store lists', fresh, await listing(db, 's3://etag/old', keysOf(fresh)));
}
const EXPECT2 = `2304|${2 * 4 * (287 * 288) / 2}.0\n`;
r = await run(db, Q);
r = await run(db, Q);
eq('old db: after the migration a warm query lists only for the rows without an ETag',
  [r.stdout, r.stderr, r.get, r.head, r.list], [EXPECT2, '', 0, 0, nObjOld >= 2 ? 1 : 0]);

// ---- ts_restore records the copies' ETags ----
for (const [label, storage] of [['file', `file://${dir}/restored`], ['s3', 's3://etag/restored']]) {
  const loc = `file://${dir}/vault-${label}`;
  r = await run(db, `SELECT json_extract(ts_backup('cpu', ${lit(loc)}), '$.cold_objects') > 0;
    SELECT json_extract(ts_restore(${lit(loc)}, 'r_${label}', ${lit(JSON.stringify({ storage }))}), '$.cold_objects') > 0;
    SELECT count(*) = count(etag) FROM r_${label}_objects;
    SELECT ts_check('r_${label}');`);
  eq(`restore ${label}: every restored object has an ETag; ts_check ok`, [r.stdout, r.stderr], ['1\n1\n1\nok\n', '']);
  const m = await manifest(db, `r_${label}`);
  eq(`restore ${label}: the ETags are the new storage's`, m, await listing(db, storage, keysOf(m)));
  r = await run(db, `SELECT count(*), sum(v) FROM r_${label};`);
  r = await run(db, `SELECT count(*), sum(v) FROM r_${label};`);
  eq(`restore ${label}: a repeated query returns every row${label === 's3' ? ' and sends no request (warm cache)' : ''}`,
    [r.stdout, r.stderr, label === 's3' ? r.all : 0], [EXPECT2, '', 0]);
}

// ---- client-side encryption: the trusted ETag covers the sealed object ----
// The cache holds ciphertext; the decryption layer asks for each object's
// stored size, which the cache answers from the manifest's ETag and size.
{
  const edb = path.join(dir, 'enc.db');
  const cse = { ...env, TSLITE_CSE_KEY: '6b'.repeat(32), TSLITE_CSE_KEY_ID: 'etag-k1' };
  const runE = (sql) => px.counted(() => sqliteAsync(edb, NOW + sql, { env: cse }));
  r = await runE(`CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE,
      memory_retention = '1h', magnetic_writes = true, partition_key = 'host',
      storage = 's3://etag/enc', encryption = 'client', kms_key = 'etag-k1');
    ${INSERT('cpu', 0)}
    SELECT json_extract(ts_maintain('cpu'), '$.tables[0].objects_written') > 1;
    SELECT count(*) = count(etag) FROM cpu_objects;`);
  eq('encrypted: setup (objects tiered, each with an ETag)', [r.stdout, r.stderr], ['1\n1\n', '']);
  r = await runE(Q);
  eq('encrypted: a cold query returns every row', [r.stdout, r.stderr], [EXPECT1, '']);
  check('encrypted: the first query fetched the objects (GETs, no LIST or HEAD)',
    r.get > 0 && r.head === 0 && r.list === 0, JSON.stringify(r));
  r = await runE(Q);
  eq('encrypted: a warm query returns every row and sends no request',
    [r.stdout, r.stderr, r.all], [EXPECT1, '', 0]);
  r = await runE(`SELECT ts_check('cpu');`);
  eq('encrypted: ts_check ok', [r.stdout, r.stderr], ['ok\n', '']);
}

// ---- file://: the ETag is the store's (mtime-size), and follows a rewrite ----
{
  const fdb = path.join(dir, 'f.db');
  const root = `file://${fdb}.tslite`;
  r = await run(fdb, `CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE,
      memory_retention = '1h', magnetic_writes = true);
    ${INSERT('cpu', 0)}
    SELECT json_extract(ts_maintain('cpu'), '$.tables[0].objects_written') > 0;`);
  eq('file: setup', [r.stdout, r.stderr], ['1\n', '']);
  const m = await manifest(fdb, 'cpu');
  check('file: each ETag is <mtime ns hex>-<size hex>', m.trim().split('\n').every((l) => /\|[0-9a-f]+-[0-9a-f]+$/.test(l)), m);
  eq('file: the ETags are the ones the store lists', m, await listing(fdb, root, keysOf(m)));
  const k = keysOf(m)[0];
  r = await run(fdb, `SELECT length(ts_object_put(${lit(`${root}/${k}`)}, ts_object_get(${lit(`${root}/${k}`)}))) > 0;
    SELECT ts_check('cpu');`);
  check('file: the same bytes written again are another object for ts_check (new mtime)',
    r.stdout.includes(`cold object ${k}: ETag `) && r.stdout.includes('(the object was replaced)'), r.stdout + r.stderr);
}

await px.stop();
await s3.stop();
done();
