// cold_faults.test.mjs: the cold tier through the S3 fault proxy
// (tests/js/faultproxy.mjs): 10% of requests get a 500, 503, connection
// reset or truncated body (seeded, so a run faults the same requests).
//   - tiering (ts_maintain: multipart uploads, listing, deletes) and cold
//     scans succeed through the faults with the store's bounded retries: no
//     row lost or doubled, the scan equals the same scan without faults;
//   - a store that keeps failing makes each operation stop after its
//     AWS_MAX_ATTEMPTS attempts with an error naming the operation and the
//     key; the rows stay where they were (memory tier or manifest), and the
//     next pass with the store back finishes the work.
import path from 'node:path';
import { startS3 } from './s3fixture.mjs';
import { check, eq, done, sqlite, tmpDir } from './lib.mjs';

const s3 = await startS3({ bucket: 'faults', proxy: true });
const env = { ...s3.proxyEnv, AWS_MAX_ATTEMPTS: '6' };
const T0 = 1714608000000000000n;        // 2024-05-02T00:00:00Z
const N = 6000, STEP = 80000000000n;    // 8 hosts, one row per 80 s overall: 5.5 days
const NOW = ".output /dev/null\nSELECT ts_debug_set_now('2024-05-08T00:00:00Z');\n.output stdout";
const dir = tmpDir('tslite-coldfaults-');
const db = path.join(dir, 'x.db');
const q = (sql, e = env) => sqlite(db, NOW + '\n' + sql, { env: e });
const QUERIES = `SELECT count(*), sum(n), min(time), max(time) FROM cpu;
  SELECT group_concat(time) FROM (SELECT time FROM cpu WHERE host = 'h3' ORDER BY time DESC LIMIT 5);
  SELECT count(*) FROM cpu WHERE time BETWEEN ${T0 + 86400000000000n} AND ${T0 + 2n * 86400000000000n} AND host IN ('h1', 'h6');`;

let r = q(`CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE, n BIGINT,
    magnetic_writes = true, partition_key = 'host', storage = 's3://faults/lake',
    cold_cache = '0');  -- the store's own retries are under test (the cache has tests/js/cold_cache*)
  WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < ${N - 1})
  INSERT INTO cpu(time, host, v, n) SELECT ${T0} + x*${STEP}, 'h' || (x % 8), x * 0.5, x FROM i;`, s3.env);
check('setup', r.status === 0 && !r.stderr, r.stderr);
const clean = q(QUERIES, s3.env).stdout;

// 1. Tiering through 10% faults.
let st0 = await s3.fault({ mode: 'random', rate: 0.1, seed: 7 });
r = q(`SELECT json_extract(ts_maintain('cpu'), '$.tables[0].objects_written', '$.tables[0].rounds_aborted');`);
let st = await s3.stats();
const tierFaults = st.faulted - st0.faulted;
console.log(`# tiering: ${st.requests - st0.requests} requests, ${tierFaults} faulted ${JSON.stringify(st.byMode)}`);
check('tiering through 10% faults succeeds (bounded retries)', r.status === 0 && !r.stderr && /^\[[1-9][0-9]*,0\]\n$/.test(r.stdout), r.stdout + r.stderr);
check('tiering: the proxy really faulted requests', tierFaults >= 2, String(tierFaults));
await s3.fault({ mode: 'pass' });
r = q(`SELECT (SELECT coalesce(sum(nrow), 0) FROM cpu_chunks) + (SELECT sum(nrow) FROM cpu_objects), (SELECT sum(nrow) FROM cpu_objects) > ${N / 2};
  SELECT ts_check('cpu');`, s3.env);
eq('tiering through faults: every row in one tier, most cold, ts_check ok', r.stdout, `${N}|1\nok\n`);

// 2. Cold scans through 10% faults equal the scans without faults.
st0 = await s3.fault({ mode: 'random', rate: 0.1, seed: 11 });
r = q(QUERIES);
st = await s3.stats();
console.log(`# scans: ${st.requests - st0.requests} requests, ${st.faulted - st0.faulted} faulted`);
eq('cold scans through 10% faults return the rows of a clean scan', [r.stdout, r.stderr], [clean, '']);
check('scans: the proxy really faulted requests', st.faulted - st0.faulted >= 2, String(st.faulted - st0.faulted));
await s3.fault({ mode: 'pass' });

// 3. A store that keeps failing: bounded attempts, then an error naming the
// operation and the key.
r = q(`SELECT key FROM cpu_objects ORDER BY id LIMIT 1;`, s3.env);
const key0 = r.stdout.trim();
for (const mode of ['503', 'reset']) {
  st0 = await s3.fault({ mode, count: -1, method: 'GET' });
  r = q(`SELECT count(*) FROM cpu WHERE host = 'h0';`);
  st = await s3.stats();
  await s3.fault({ mode: 'pass' });
  const m = r.stderr.match(/timeseries cpu: reading cold object (cpu\/date=\S+\.parquet): S3 GetObject s3:\/\/faults\/lake\/(\S+) failed: (.*) after 6 attempts in /);
  check(`scan, every GET ${mode}: the error names the cold object, the S3 operation, the cause and the attempts`,
    r.status !== 0 && !!m && m[1] === m[2] && (mode === '503' ? /^HTTP 503 SlowDown/.test(m[3]) : /Connection reset by peer/.test(m[3])), r.stderr);
  eq(`scan, every GET ${mode}: exactly AWS_MAX_ATTEMPTS requests, then stop`, st.requests - st0.requests, 6);
}
check('the failing key is one of the manifest\'s', key0.startsWith('cpu/date='), key0);

// Tiering against a store whose uploads keep failing: nothing moves, no row
// lost; with the store back the next pass moves them.
r = q(`WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM i WHERE x < 299)
  INSERT INTO cpu(time, host, v, n) SELECT ${T0 + BigInt(N) * STEP} + x*${STEP}, 'h' || (x % 8), 1, 1 FROM i;
  SELECT sum(nrow) FROM cpu_chunks;`, s3.env);
check('late rows written', r.status === 0 && !r.stderr, r.stderr);
const memBefore = r.stdout.trim();
await s3.fault({ mode: '500', count: -1, method: 'PUT' });
st0 = await s3.stats();
r = q(`SELECT ts_maintain('cpu');`);
st = await s3.stats();
await s3.fault({ mode: 'pass' });
const mu = r.stderr.match(/ts_maintain cpu: upload of (cpu\/date=\S+\.parquet): (.*)/);
check('tiering, every PUT 500: the error names the upload\'s key and the S3 operation',
  r.status !== 0 && !!mu && /S3 /.test(mu[2]) && /InternalError/.test(mu[2]) && /after 6 attempts/.test(mu[2]), r.stderr);
check('tiering, every PUT 500: the attempts are bounded', st.faulted - st0.faulted === 6, `${st.faulted - st0.faulted} faulted`);
r = q(`SELECT sum(nrow) FROM cpu_chunks; SELECT (SELECT sum(nrow) FROM cpu_chunks) + (SELECT sum(nrow) FROM cpu_objects); SELECT count(*) FROM cpu_config WHERE k = 'cold.lease';`, s3.env);
eq('tiering, every PUT 500: no row moved or lost, the lease released', r.stdout, `${memBefore}\n${N + 300}\n0\n`);
r = q(`SELECT json_extract(ts_maintain('cpu', '{"orphan_grace":"0s"}'), '$.tables[0].rows_moved') > 0;
  SELECT (SELECT coalesce(sum(nrow), 0) FROM cpu_chunks) + (SELECT sum(nrow) FROM cpu_objects);
  SELECT count(*) FROM ts_object_list('s3://faults/lake', 'cpu/') WHERE key NOT IN (SELECT key FROM cpu_objects);
  SELECT ts_check('cpu');`, s3.env);
eq('with the store back the next pass moves them; no orphan; ts_check ok', r.stdout, `1\n${N + 300}\n0\nok\n`);

await s3.stop();
done();
