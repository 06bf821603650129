// ts_unload to s3:// (s3rver on loopback, SigV4 verified) and the parquet
// table over s3:// (ranged GETs): CSV+gzip partitioned output read back with
// ts_object_get and compared with the query; a multipart-sized file; Parquet
// read back through the parquet table; SSE headers reach S3; a failed UNLOAD
// writes no manifest.
import path from 'node:path';
import zlib from 'node:zlib';
import fs from 'node:fs';
import { startS3 } from './s3fixture.mjs';
import { check, eq, done, sqlite, tmpDir } from './lib.mjs';
import { parseCsv } from './unload_lib.mjs';

const s3 = await startS3({ bucket: 'exp', proxy: true });
const dir = tmpDir('tslite-unload-s3-');
const db = path.join(dir, 't.db');
const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;
const q = (sql, env = s3.env) => sqlite(db, sql, { env });
const getObj = (url, env = s3.env) => {
  const r = q(`SELECT hex(ts_object_get(${lit(url)}));`, env);
  if (r.status !== 0) throw new Error(r.stderr);
  return Buffer.from(r.stdout.trim(), 'hex');
};
const unload = (sql, dest, opts, env = s3.env) => {
  const r = q(`SELECT ts_unload(${lit(sql)}, ${lit(dest)}, ${lit(JSON.stringify(opts))});`, env);
  return r.status === 0 ? { result: JSON.parse(r.stdout.trim()) } : { error: r.stderr.trim() };
};

try {
  let r = q(`CREATE TABLE m(id INTEGER, note TEXT, v REAL, region TEXT);
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i<999)
INSERT INTO m SELECT i, CASE i%4 WHEN 0 THEN 'a,b' WHEN 1 THEN 'q"x' WHEN 2 THEN 'é\n2' END, i*0.5,
  CASE i%2 WHEN 0 THEN 'east' ELSE 'west' END FROM c;`);
  check('setup', r.status === 0, r.stderr);

  // 1. CSV + gzip, partitioned, on S3.
  {
    const u = unload('SELECT id, note, v, region FROM m ORDER BY id', 's3://exp/out/csv', { partitioned_by: ['region'], include_header: true });
    check('s3 csv: succeeds', u.result && u.result.rows === 1000, u.error);
    if (u.result) {
      check('s3 csv: manifest url on s3', u.result.manifestFile.startsWith('s3://exp/out/csv/') && u.result.manifestFile.endsWith('_manifest.json'), u.result.manifestFile);
      const man = JSON.parse(getObj(u.result.manifestFile).toString('utf8'));
      eq('s3 csv: two partitions', man.result_files.map((f) => f.url.split('/').slice(-2)[0]).sort(), ['region=east', 'region=west']);
      let n = 0, okAll = true;
      for (const f of man.result_files) {
        const raw = getObj(f.url);
        if (raw.length !== f.file_metadata.content_length_in_bytes) okAll = false;
        const rows = parseCsv(zlib.gunzipSync(raw).toString('utf8'));
        if (rows[0].join() !== 'id,note,v') okAll = false;
        const region = f.url.includes('region=east') ? 'east' : 'west';
        const exp = sqlite(db, `.mode json\nSELECT CAST(id AS TEXT) AS id, note, v FROM m WHERE region = '${region}' ORDER BY m.id;\n`);
        const e = JSON.parse(exp.stdout);
        rows.slice(1).forEach((row, i) => {
          if (row[0] !== e[i].id || row[1] !== e[i].note || parseFloat(row[2]) !== e[i].v) { if (okAll) console.log('# mismatch', JSON.stringify(row), JSON.stringify(e[i])); okAll = false; }
        });
        n += rows.length - 1;
      }
      check('s3 csv: sizes match the manifest, rows equal the query', okAll && n === 1000, `${n}`);
      const list = q(`SELECT count(*) FROM ts_object_list('s3://exp/out/csv');`);
      eq('s3 csv: objects under the destination (2 files + manifest + metadata)', list.stdout.trim(), '4');
    }
  }

  // 2. A file bigger than one multipart part (8 MiB): streamed upload.
  {
    const nRow = 200000;
    const u = unload(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<${nRow}) SELECT i, printf('%060d', i) AS pad FROM c`,
      's3://exp/out/big', { compression: 'none' });
    check('s3 multipart: succeeds', u.result && u.result.rows === nRow, u.error);
    if (u.result) {
      const man = JSON.parse(getObj(u.result.manifestFile).toString('utf8'));
      const f = man.result_files[0];
      const size = q(`SELECT size FROM ts_object_list('s3://exp/out/big', 'results/');`);
      check('s3 multipart: file > 8 MiB, size matches', f.file_metadata.content_length_in_bytes > 8 * 1024 * 1024
        && Number(size.stdout.trim()) === f.file_metadata.content_length_in_bytes, `${size.stdout} ${JSON.stringify(f)}`);
      const tail = q(`SELECT CAST(ts_object_get(${lit(f.url)}, ${f.file_metadata.content_length_in_bytes - 68}) AS TEXT);`);
      eq('s3 multipart: last row intact', tail.stdout, `${nRow},${String(nRow).padStart(60, '0')}\n\n`);
    }
  }

  // 3. Parquet on S3, read back by the parquet table over s3:// (ranged GETs).
  {
    const u = unload('SELECT id, note, v, region FROM m', 's3://exp/out/pq', { format: 'parquet', compression: 'zstd' });
    check('s3 parquet: succeeds', u.result && u.result.rows === 1000, u.error);
    if (u.result) {
      const man = JSON.parse(getObj(u.result.manifestFile).toString('utf8'));
      const url = man.result_files[0].url;
      r = q(`CREATE VIRTUAL TABLE temp.p USING parquet(${lit(url)});
SELECT (SELECT count(*) FROM (SELECT * FROM m EXCEPT SELECT * FROM temp.p)), (SELECT count(*) FROM temp.p),
  (SELECT sum(id) FROM temp.p WHERE id BETWEEN 100 AND 199);`);
      eq('s3 parquet: parquet table over s3:// returns the rows', [r.stdout.trim(), r.stderr], ['0|1000|14950', '']);
    }
  }

  // 4. Encryption options reach S3 as SSE headers (seen by the proxy).
  {
    let u = unload('SELECT 1 AS x', 's3://exp/out/sse', { encryption: 'sse_s3' }, s3.proxyEnv);
    check('sse_s3: succeeds', u.result, u.error);
    let st = await s3.stats();
    eq('sse_s3: header on the last PUT (manifest)', [st.last.method, st.last.headers['x-amz-server-side-encryption']], ['PUT', 'AES256']);
    u = unload('SELECT 1 AS x', 's3://exp/out/kms', { encryption: 'sse_kms', kms_key: 'arn:aws:kms:us-east-1:111122223333:key/k1' }, s3.proxyEnv);
    st = await s3.stats();
    eq('sse_kms: headers on the last request', [st.last.headers['x-amz-server-side-encryption'], st.last.headers['x-amz-server-side-encryption-aws-kms-key-id']],
      ['aws:kms', 'arn:aws:kms:us-east-1:111122223333:key/k1']);
  }

  // 5. An S3 failure while writing: error names the key, no manifest.
  {
    await s3.fault({ mode: 'error', code: 'AccessDenied', status: 403, method: 'PUT', count: -1 });
    const u = unload('SELECT id FROM m', 's3://exp/out/fail', { compression: 'none' }, s3.proxyEnv);
    await s3.fault({ mode: 'pass' });
    check('s3 failure: error names the object and the S3 error', u.error && /ts_unload: (completing|writing|cannot create) s3:\/\/exp\/out\/fail\/results\/[A-Z2-7]{26}_[0-9a-f-]{36}\.csv( failed)?:.*(403|AccessDenied)/.test(u.error), u.error);
    const list = q(`SELECT count(*) FROM ts_object_list('s3://exp/out/fail');`);
    eq('s3 failure: nothing written (no manifest)', list.stdout.trim(), '0');
  }
} finally {
  await s3.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
done();
