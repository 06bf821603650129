// cold_cache.test.mjs: the local cache of s3:// cold-object bytes
// (s3/objcache.c, option cold_cache, ts_stats "cold_cache"), on s3rver
// behind a request-counting proxy (cold_cache_proxy.mjs):
//   - the objects are validated by the ETags in the manifest (no HEAD, no
//     LIST), so a repeated cold query with a warm cache sends no request at
//     all, and returns the same rows;
//   - the bound holds (a 1MB cache over ~1.2MB of objects evicts, and the
//     directory stays under 1MB), with exact results against a plain table;
//   - an object replaced on the server (new ETag): a warm cache keeps
//     serving the committed bytes; a cold one fetches the new bytes, sees
//     the damage naming the key and never files them under the manifest's
//     ETag; put back, it is fetched and cached again;
//   - a damaged cache file fails its checksum, is removed and refetched;
//   - two processes fill and share one cache, also while evicting;
//   - cold_cache = '0' disables it; bad sizes fail the CREATE.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { check, done, eq, sqlite, sqliteAsync, tmpDir } from './lib.mjs';
import { startS3 } from './s3fixture.mjs';
import { startCountingProxy } from './cold_cache_proxy.mjs';

const NOW = ".output /dev/null\nSELECT ts_debug_set_now('2024-05-04T00:30:00Z');\n.output stdout\n";
const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;
const s3 = await startS3({ bucket: 'ccache' });
const px = await startCountingProxy(s3.endpoint);
const env = { ...s3.env, AWS_ENDPOINT_URL_S3: px.endpoint };
const dir = tmpDir('tslite-coldcache-');

// Run sql on db in a child sqlite3 (not blocking: the proxy answers from
// this process); the output, and with run() the process's requests.
const runAsync = (db, sql) => sqliteAsync(db, NOW + sql, { env });
const run = (db, sql) => px.counted(() => runAsync(db, sql));
const STATS = (t) => `SELECT json_object('reads', json_extract(ts_stats('${t}'), '$.cold_reads'),
  'cache', json_extract(ts_stats('${t}'), '$.cold_cache'));`;
// Last line of stdout as the STATS JSON; the lines before it as text.
function split(r) {
  const lines = r.stdout.trim().split('\n');
  let st = null;
  try { st = JSON.parse(lines.pop()); } catch { st = null; }
  return { rows: lines.join('\n'), st: st || { reads: {}, cache: {} } };
}
// Every cache file under d: [{file, size}].
function cacheFiles(d) {
  const out = [];
  if (!fs.existsSync(d)) return out;
  for (const sub of fs.readdirSync(d)) {
    const sd = path.join(d, sub);
    if (!fs.statSync(sd).isDirectory()) continue;
    for (const f of fs.readdirSync(sd)) {
      if (f.startsWith('.tmp.')) continue;
      out.push({ file: path.join(sd, f), size: fs.statSync(path.join(sd, f)).size });
    }
  }
  return out;
}

// ---- A: 8 hosts x 2 days in 16 small objects (one cache block each) ----
const dbA = path.join(dir, 'a.db');
const cacheA = `${dbA}.tslite-cache`;
let r = await run(dbA, `CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE,
    memory_retention = '1h', magnetic_writes = true, partition_key = 'host',
    storage = 's3://ccache/a');
  WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM r WHERE i<575),
    h(k) AS (SELECT 0 UNION ALL SELECT k+1 FROM h WHERE k<7)
  INSERT INTO cpu(time, host, v) SELECT 1714521600000000000 + i*300000000000, 'h'||k, i FROM r, h;
  SELECT json_extract(ts_maintain('cpu'), '$.tables[0].objects_written');`);
eq('cold cache: setup tiers 16 objects to s3rver', [r.stdout, r.stderr], ['16\n', '']);
const EXPECT = `4608|${8 * (575 * 576) / 2}.0`;
const Q = 'SELECT count(*), sum(v) FROM cpu;\n';

r = await run(dbA, Q + STATS('cpu'));
let x = split(r);
eq('cold cache: first query returns every row', [x.rows, r.stderr], [EXPECT, '']);
eq('cold cache: first query misses every object once (one GET per object, not per read)',
  [r.get, x.st.cache.gets, x.st.cache.misses, x.st.cache.hits > 0],
  [16, 16, 16, true]);
eq('cold cache: the manifest\'s ETags validate the 16 objects (no LIST, no HEAD)',
  [r.list, x.st.cache.lists, r.head, x.st.cache.heads, x.st.cache.trusted], [0, 0, 0, 0, 16]);
eq('cold cache: ts_stats cold_reads counts objects opened and reads',
  [x.st.reads.objects, x.st.reads.reads > 16, x.st.reads.bytes > 0], [16, true, true]);
eq('cold cache: ts_stats names the default directory and bound',
  [x.st.cache.enabled, x.st.cache.dir, x.st.cache.limit, x.st.cache.files], [true, cacheA, 1 << 30, 16]);
const nReads = x.st.reads.reads;

r = await run(dbA, Q + STATS('cpu'));
x = split(r);
eq('cold cache: a repeated query returns the same rows', [x.rows, r.stderr], [EXPECT, '']);
eq('cold cache: a repeated query with a warm cache sends no request at all',
  [r.all, r.get, r.head, r.list, x.st.cache.gets, x.st.cache.misses, x.st.cache.hits, x.st.cache.bytes_fetched],
  [0, 0, 0, 0, 0, 0, nReads, 0]);
eq('cold cache: every read of the repeated query came from the cache',
  x.st.cache.bytes_hit, x.st.reads.bytes);

// A damaged cache file: detected by its CRC, removed, fetched again.
{
  const files = cacheFiles(cacheA);
  const f = files[3].file;
  const b = fs.readFileSync(f);
  b[b.length - 10] ^= 0x41;
  fs.writeFileSync(f, b);
  r = await run(dbA, Q + STATS('cpu'));
  x = split(r);
  eq('cold cache: a damaged cache file is not served (same rows)', [x.rows, r.stderr], [EXPECT, '']);
  eq('cold cache: the damaged file is counted and refetched with one GET',
    [x.st.cache.corrupt, x.st.cache.misses, r.get], [1, 1, 1]);
  r = await run(dbA, Q + STATS('cpu'));
  x = split(r);
  eq('cold cache: after the refetch the cache is whole again', [x.rows, r.get, x.st.cache.corrupt], [EXPECT, 0, 0]);
}

// An object replaced on the server (new ETag).  The manifest's ETag is the
// committed object's: a warm cache keeps serving those bytes; fetched, the
// new bytes are never filed under it.
{
  r = await run(dbA, `SELECT key, length(footer), etag FROM cpu_objects ORDER BY key LIMIT 1;`);
  const [key, nFooter, etag] = r.stdout.trim().split('|');
  const uri = `s3://ccache/a/${key}`;
  const sha = (t) => crypto.createHash('sha256').update(t).digest('hex');
  // Its cache files under the manifest's ETag (objcache.c "FILES").
  const prefix = `${sha(`s3://ccache/a ${px.endpoint}\n${key}`).slice(0, 32)}-${sha(etag).slice(0, 8)}-`;
  const filed = () => cacheFiles(cacheA).filter((f) => path.basename(f.file).startsWith(prefix)).length;
  check('cold cache: the object has cache files under its manifest ETag', filed() === 1, String(filed()));
  const saved = path.join(dir, 'saved.parquet');
  r = await run(dbA, `SELECT writefile(${lit(saved)}, ts_object_get(${lit(uri)}));`);
  const good = fs.readFileSync(saved);
  const bad = Buffer.from(good);
  for (let i = 4; i < bad.length - Number(nFooter) - 8; i += 3) bad[i] ^= 0x5a;
  const badFile = path.join(dir, 'bad.parquet');
  fs.writeFileSync(badFile, bad);
  r = await run(dbA, `SELECT length(ts_object_put(${lit(uri)}, readfile(${lit(badFile)}))) >= 0;`);
  check('cold cache: object replaced on the server', r.status === 0, r.stderr);
  r = await run(dbA, Q);
  eq('cold cache: replaced under a warm cache, the committed bytes are served with no request',
    [r.stdout.trim(), r.stderr, r.all], [EXPECT, '', 0]);
  fs.rmSync(cacheA, { recursive: true, force: true });
  r = await run(dbA, Q);
  check('cold cache: with a cold cache the replaced object is read from the server (its damage is seen, naming the key)',
    r.status !== 0 && r.stderr.includes(`timeseries cpu: cold object ${key}: `) && r.get >= 1,
    `${r.stderr} get=${r.get}`);
  eq('cold cache: bytes whose GET carried another ETag are not cached under the manifest\'s', filed(), 0);
  r = await run(dbA, `SELECT length(ts_object_put(${lit(uri)}, readfile(${lit(saved)}))) >= 0;`);
  r = await run(dbA, Q + STATS('cpu'));
  x = split(r);
  eq('cold cache: put back, the object is fetched and cached again',
    [x.rows, r.stderr, r.get >= 1, filed()], [EXPECT, '', true, 1]);
  r = await run(dbA, Q);
  eq('cold cache: then a repeated query sends no request again', [r.stdout.trim(), r.all], [EXPECT, 0]);
  eq('cold cache: one file per object remains', cacheFiles(cacheA).length, 16);
}

// Two processes fill one empty cache at once, then share it.
{
  fs.rmSync(cacheA, { recursive: true, force: true });
  const rs = await Promise.all([runAsync(dbA, Q + STATS('cpu')), runAsync(dbA, Q + STATS('cpu'))]);
  eq('cold cache: two processes filling one cache both return every row',
    rs.map((y) => [split(y).rows, y.stderr]), [[EXPECT, ''], [EXPECT, '']]);
  eq('cold cache: two processes leave one file per object', cacheFiles(cacheA).length, 16);
  eq('cold cache: no temporary file is left behind',
    fs.readdirSync(cacheA).flatMap((s) => fs.readdirSync(path.join(cacheA, s))).filter((f) => f.startsWith('.tmp.')), []);
  r = await run(dbA, Q + STATS('cpu'));
  x = split(r);
  eq('cold cache: a third process reads what they cached, no GET', [x.rows, r.get, x.st.cache.misses], [EXPECT, 0, 0]);
}

// cold_cache = '0': no cache; a file:// table has none either.
{
  r = await run(dbA, `CREATE VIRTUAL TABLE nc USING timeseries(host DIMENSION, v DOUBLE,
      memory_retention = '1h', magnetic_writes = true, storage = 's3://ccache/nc', cold_cache = '0');
    INSERT INTO nc(time, host, v) SELECT time, host, v FROM cpu;
    SELECT json_extract(ts_maintain('nc'), '$.tables[0].rows_moved');`);
  eq('cold cache: off: setup', [r.stdout, r.stderr], ['4608\n', '']);
  const nFiles = cacheFiles(cacheA).length;
  const QN = 'SELECT count(*), sum(v) FROM nc;\n';
  const r1 = await run(dbA, QN + STATS('nc'));
  const r2 = await run(dbA, QN + STATS('nc'));
  x = split(r2);
  eq('cold cache: off: both queries read the store (GETs each time), nothing cached',
    [split(r1).rows, x.rows, r1.get > 0, r2.get, r2.head, r2.list, cacheFiles(cacheA).length],
    [EXPECT, EXPECT, true, r1.get, 0, 0, nFiles]);
  eq('cold cache: off: ts_stats says so',
    [x.st.cache.enabled, x.st.cache.dir, x.st.cache.limit, x.st.cache.hits], [false, null, 0, 0]);
  const dbF = path.join(dir, 'f.db');
  r = sqlite(dbF, `CREATE VIRTUAL TABLE f USING timeseries(h DIMENSION, v DOUBLE, cold_cache = '2gb');
    SELECT json_extract(ts_stats('f'), '$.cold_cache.enabled'), json_extract(ts_stats('f'), '$.cold_cache.dir');
    SELECT v FROM f_config WHERE k = 'cold_cache';`);
  eq('cold cache: a file:// table has no cache (the option is kept as given)', [r.stdout, r.stderr], ['0|\n2gb\n', '']);
  for (const bad of ['lots', '512KB', '1.5', '-1GB', '3PB', '']) {
    r = sqlite(':memory:', `CREATE VIRTUAL TABLE t USING timeseries(h DIMENSION, v DOUBLE, cold_cache = '${bad}');`);
    check(`cold cache: cold_cache = '${bad}' fails the CREATE`, r.stderr.includes(
      `timeseries t: bad value for cold_cache: '${bad}' (expected 0 (off) or a size of at least 1MB, e.g. '1GB' or '512MB')`), r.stderr);
  }
  r = sqlite(':memory:', `CREATE VIRTUAL TABLE t USING timeseries(h DIMENSION, v DOUBLE, storage = 's3://b1/p', cold_cache = '1.5GB');
    SELECT json_extract(ts_stats('t'), '$.cold_cache.enabled');`);
  eq('cold cache: an in-memory database has no cache directory', [r.stdout, r.stderr], ['0\n', '']);
}

// ---- B: a 1MB cache over 4 objects of ~290KB (two blocks each) ----
{
  const dbB = path.join(dir, 'b.db');
  const cacheB = `${dbB}.tslite-cache`;
  r = await run(dbB, `CREATE VIRTUAL TABLE big USING timeseries(host DIMENSION, s VARCHAR,
      memory_retention = '1h', magnetic_writes = true, partition_key = 'host',
      storage = 's3://ccache/b', cold_cache = '1MB');
    CREATE TABLE plain(time INTEGER, host TEXT, s TEXT, PRIMARY KEY(time, host));
    WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM r WHERE i<575),
      h(k) AS (VALUES('h0'), ('h2'))
    INSERT INTO plain SELECT 1714521600000000000 + i*300000000000, k, hex(randomblob(1000)) FROM r, h;
    INSERT INTO big(time, host, s) SELECT time, host, s FROM plain;
    SELECT json_extract(ts_maintain('big'), '$.tables[0].objects_written');
    SELECT count(*) FROM big_objects WHERE nbyte > 262144;`);
  eq('cold cache: bound: setup tiers 4 objects of more than one block', [r.stdout, r.stderr], ['4\n4\n', '']);
  const QB = `SELECT count(*), sum(b.s = p.s) FROM big b CROSS JOIN plain p ON p.time = b.time AND p.host = b.host;\n`;
  r = await run(dbB, QB + STATS('big'));
  x = split(r);
  const total = cacheFiles(cacheB).reduce((a, f) => a + f.size, 0);
  eq('cold cache: bound: every value read through a 1MB cache equals the plain table', [x.rows, r.stderr], ['1152|1152', '']);
  eq('cold cache: bound: the cache evicted, and holds at most 1MB',
    [x.st.cache.evicted > 0, total <= 1 << 20, x.st.cache.bytes <= 1 << 20, x.st.cache.limit], [true, true, true, 1 << 20]);
  r = await run(dbB, QB + STATS('big'));
  x = split(r);
  eq('cold cache: bound: a second query is exact too and stays in bound',
    [x.rows, cacheFiles(cacheB).reduce((a, f) => a + f.size, 0) <= 1 << 20, x.st.cache.hits > 0], ['1152|1152', true, true]);
  const rs = await Promise.all([0, 1].map(() => runAsync(dbB, QB + QB + QB)));
  eq('cold cache: bound: two processes evicting under each other read exact values',
    rs.map((y) => [y.stdout, y.stderr]), [0, 1].map(() => ['1152|1152\n'.repeat(3), '']));
}

await px.stop();
await s3.stop();
fs.rmSync(dir, { recursive: true, force: true });
done();
