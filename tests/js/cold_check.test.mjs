// cold_check.test.mjs: ts_check verifies the manifest against the store
// and ts_stats reports both tiers (ext/ops_check.c), on file:// and s3rver:
// after a ts_maintain every manifest row holds the ETag the store lists for
// its object, ts_check is 'ok' and ts_stats gives the exact figures of both
// tiers; then an object deleted, truncated, replaced by another object,
// overwritten with bytes of the same size, and changed in one data byte
// (same size, same footer: only the ETag tells) is each reported with its
// exact message naming the key (a row without an ETag falls back to the
// footer comparison), and a manifest row whose counts, time range or
// partition key break the rules is reported too.
import path from 'node:path';
import { startS3 } from './s3fixture.mjs';
import { check, eq, done, sqlite, tmpDir } from './lib.mjs';

const s3 = await startS3({ bucket: 'chk' });
const NOW = ".output /dev/null\nSELECT ts_debug_set_now('2024-05-03T12:00:00Z');\n.output stdout";
const T0 = 1714608000000000000n;        // 2024-05-02T00:00:00Z
const N = 2000, STEP = 60000000000n;    // one row a minute, hosts round robin
const lit = (s) => `'${s.replace(/'/g, "''")}'`;

async function scenario(label, storage, env) {
  const dir = tmpDir(`tslite-coldchk-${label}-`);
  const db = path.join(dir, 'x.db');
  const root = storage || `file://${db}.tslite`;
  const q = (sql) => sqlite(db, NOW + '\n' + sql, { env });
  let r = q(`CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE, n BIGINT,
    magnetic_writes = true, partition_key = 'host'${storage ? `, storage = ${lit(storage)}` : ''});
    WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM r WHERE i<${N - 1})
    INSERT INTO cpu(time, host, v, n) SELECT ${T0} + i*${STEP}, 'h'||(i%4), i*0.25,
      CASE WHEN i%3=0 THEN NULL ELSE i END FROM r;
    SELECT json_extract(ts_maintain('cpu'), '$.tables[0].objects_written') > 0;
    SELECT ts_check('cpu');`);
  eq(`${label}: ts_maintain wrote objects; ts_check ok`, [r.stdout, r.stderr], ['1\nok\n', '']);

  // ts_stats: exact figures of both tiers, from the shadow tables and the data.
  r = q(`SELECT ts_stats('cpu');
    SELECT count(*), coalesce(sum(nrow), 0), coalesce(sum(length(data)), 0) FROM cpu_chunks;
    SELECT count(*), sum(nrow), sum(nbyte) FROM cpu_objects;
    SELECT count(v) + count(n) FROM cpu WHERE time >= (SELECT min(tmin) FROM cpu_chunks);
    SELECT count(v) + count(n) FROM cpu WHERE time < (SELECT min(tmin) FROM cpu_chunks);`);
  const [js, mem, obj, memVals, coldVals] = r.stdout.trim().split('\n');
  const [nChunk, memRows, memBytes] = mem.split('|').map(Number);
  const [nObj, objRows, objBytes] = obj.split('|').map(Number);
  const st = JSON.parse(js);
  // cold_reads and cold_cache (the read counters) have their own tests.
  delete st.cold_reads; delete st.cold_cache;
  const bpv = (b, v) => Number((v ? b / v : 0).toFixed(3));
  eq(`${label}: ts_stats reports both tiers`, st, {
    table: 'cpu', series: 4,
    memory: { rows: memRows, chunks: nChunk, bytes: memBytes, values: Number(memVals),
      bytes_per_value: bpv(memBytes, Number(memVals)) },
    magnetic: { objects: nObj, rows: objRows, bytes: objBytes, values: Number(coldVals),
      bytes_per_value: bpv(objBytes, Number(coldVals)), rows_rejected: 0 },
  });
  check(`${label}: every row is in one tier (${memRows} + ${objRows})`, memRows + objRows === N && objRows > 0 && memRows > 0,
    `${memRows} + ${objRows}`);
  // 2 measures, n NULL on every third row: values = 2N - ceil(N/3).
  eq(`${label}: values of both tiers = non-NULL measures written`, Number(memVals) + Number(coldVals), 2 * N - Math.ceil(N / 3));

  // The manifest's ETags: what the store reported at upload, which is what
  // its listing shows.
  const listed = () => new Map(q(`SELECT key, etag FROM ts_object_list(${lit(root)}, 'cpu/');`)
    .stdout.trim().split('\n').map((l) => l.split('|')));
  r = q(`SELECT key, nbyte, etag FROM cpu_objects ORDER BY id;`);
  const objs = r.stdout.trim().split('\n').map((l) => { const [k, b, e] = l.split('|'); return { k, b: Number(b), e }; });
  const ls0 = listed();
  eq(`${label}: every manifest row holds the ETag the store lists for its object`,
    objs.map((o) => [o.k, o.e.length > 0 && o.e === ls0.get(o.k)]), objs.map((o) => [o.k, true]));

  // Damage in the store.
  check(`${label}: at least six objects to damage`, objs.length >= 6, String(objs.length));
  const [a, b, c, d, e, f] = objs;
  const u = (k) => lit(`${root}/${k}`);
  // e: one byte in the middle flipped (same size, same footer); f: the same
  // with the manifest's ETag cleared (a row written before the column).
  const flip = (o) => `SELECT ts_object_put(${u(o.k)}, substr(ts_object_get(${u(o.k)}), 1, 99)
      || CASE WHEN substr(ts_object_get(${u(o.k)}), 100, 1) = x'00' THEN x'01' ELSE x'00' END
      || substr(ts_object_get(${u(o.k)}), 101));`;
  r = q(`SELECT ts_object_delete(${u(a.k)});
    SELECT ts_object_put(${u(b.k)}, substr(ts_object_get(${u(b.k)}), 1, ${b.b - 100}));
    SELECT ts_object_put(${u(c.k)}, ts_object_get(${u(d.k)}));
    SELECT ts_object_put(${u(d.k)}, zeroblob(${d.b}));
    ${flip(e)}
    ${flip(f)}
    UPDATE cpu_objects SET etag = NULL WHERE key = ${lit(f.k)};
    SELECT length(ts_object_get(${u(e.k)})) = ${e.b}, length(ts_object_get(${u(f.k)})) = ${f.b};`);
  eq(`${label}: damage done (e and f keep their size)`, [r.stdout.trim().split('\n').pop(), r.stderr], ['1|1', '']);
  const ls = listed();
  const replaced = (o) => `cold object ${o.k}: ETag ${ls.get(o.k)} in the store, the manifest records ${o.e} (the object was replaced)`;
  r = q(`SELECT ts_check('cpu');`);
  eq(`${label}: ts_check names each damaged object`, r.stdout, [
    `cold object ${a.k}: missing from the store`,
    `cold object ${b.k}: ${b.b - 100} bytes in the store, the manifest records ${b.b} (truncated or replaced)`,
    c.b === d.b ? replaced(c) : `cold object ${c.k}: ${d.b} bytes in the store, the manifest records ${c.b} (truncated or replaced)`,
    replaced(d),
    replaced(e),
  ].join('\n') + '\n');
  check(`${label}: a changed data byte (same size and footer) is found by the ETag alone`,
    ls.get(e.k) !== e.e && r.stdout.includes(`cold object ${e.k}: ETag `), r.stdout);
  check(`${label}: a row without an ETag is checked by size and footer only (the flipped byte passes)`,
    !r.stdout.includes(f.k), r.stdout);

  // Manifest rules (a hand-edited manifest: no store needed to see these).
  r = q(`UPDATE cpu_objects SET nrow = 0 WHERE key = ${lit(a.k)};
    UPDATE cpu_objects SET tmax = tmax + 86400000000000 WHERE key = ${lit(b.k)};
    UPDATE cpu_objects SET pk_min = 'zz', pk_max = 'zz' WHERE key = ${lit(c.k)} AND pk_min IS NOT NULL;
    UPDATE cpu_objects SET nbyte = 9223372036854775807 WHERE key = ${lit(d.k)};
    SELECT ts_check('cpu');`);
  const day = (k) => k.slice(9, 19);
  const lines = r.stdout.trim().split('\n');
  const want = [
    `cold object ${a.k}: nrow 0 is out of range (>= 1)`,
    `cold object ${a.k}: the footer counts `,
    `cold object ${b.k}: time range `,
    `cold object ${c.k}: partition key 'zz' (pk_min) does not hash to bucket=`,
    `cpu_objects: the sum of nrow or nbyte overflows`,
  ];
  for (const w of want) check(`${label}: manifest rule reported: ${w.slice(0, 60)}...`, lines.some((l) => l.startsWith(w)), r.stdout);
  check(`${label}: a time range outside the date folder names the folder's day`,
    lines.some((l) => l.startsWith(`cold object ${b.k}: time range `) && l.endsWith('is not inside its date folder')) && day(b.k).startsWith('2024-05-0'),
    r.stdout);
}

await scenario('file', null, {}).catch((e) => check('file', false, e.stack));
await scenario('s3', 's3://chk/lake', s3.env).catch((e) => check('s3', false, e.stack));

// The store unreachable: an error naming the operation, not damage.
{
  const dir = tmpDir('tslite-coldchk-down-');
  const db = path.join(dir, 'x.db');
  const env = { ...s3.env, AWS_MAX_ATTEMPTS: '1' };
  let r = sqlite(db, `${NOW}
    CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE, magnetic_writes = true, storage = 's3://chk/down');
    INSERT INTO cpu(time, host, v) VALUES(${T0}, 'h0', 1);
    SELECT json_extract(ts_maintain('cpu'), '$.tables[0].objects_written');`, { env });
  eq('store down: setup', [r.stdout, r.stderr], ['1\n', '']);
  r = sqlite(db, `SELECT ts_check('cpu');`, { env: { ...env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' } });
  check('store down: ts_check fails naming the listing', /^Runtime error near line 1: ts_check: cpu: listing cold objects under 'cpu\/': S3 ListObjectsV2 s3:\/\/chk\/down\/cpu\/ failed: /.test(r.stderr.trim()), r.stderr);
}
await s3.stop();
done();
