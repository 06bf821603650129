// cold_read_errors.test.mjs: the cold read side (ext/cold_read.c) fails a
// query with the object key when an object it needs is missing or damaged,
// and never reads objects that planning pruned: a missing object does not
// matter to a query whose time range, partition key or series filter
// excludes it (proof that planning needs no object read).
import path from 'node:path';
import fs from 'node:fs';
import { check, eq, done, sqlite, tmpDir } from './lib.mjs';

const NOW = ".output /dev/null\nSELECT ts_debug_set_now('2024-05-04T00:30:00Z');\n.output stdout\n";
const dir = tmpDir('tslite-coldrerr-');
const db = path.join(dir, 'x.db');
const q = (sql) => sqlite(db, NOW + sql);

let r = q(`CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE,
    memory_retention = '1h', magnetic_writes = true, partition_key = 'host');
  WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM r WHERE i<575),
    h(k) AS (SELECT 0 UNION ALL SELECT k+1 FROM h WHERE k<7)
  INSERT INTO cpu(time, host, v) SELECT 1714521600000000000 + i*300000000000, 'h'||k, i FROM r, h;
  SELECT json_extract(ts_maintain('cpu'), '$.tables[0].rows_moved');`);
eq('cold errors: setup tiers two days of 8 hosts', r.stdout, '4608\n');
r = q(`SELECT key, tmin, tmax, pk_min, length(footer) FROM cpu_objects WHERE key LIKE '%date=2024-05-01%' ORDER BY key LIMIT 1;`);
const [key, tmin, tmax, pk, nFooter] = r.stdout.trim().split('|');
check('cold errors: an object of the first day', key && pk, r.stdout + r.stderr);
r = q(`SELECT group_concat(DISTINCT host) FROM cpu WHERE time BETWEEN ${tmin} AND ${tmax} AND host IN
  (SELECT host FROM cpu WHERE time BETWEEN ${tmin} AND ${tmax}) AND host = '${pk}';`);
eq('cold errors: the object holds its partition key host', r.stdout, `${pk}\n`);
const file = path.join(`${db}.tslite`, key);
const saved = fs.readFileSync(file);

// Missing object.
fs.renameSync(file, file + '.away');
r = q(`SELECT count(*) FROM cpu;`);
check('cold errors: a missing object fails the query naming its key',
  r.status !== 0 && r.stderr.includes(`timeseries cpu: reading cold object ${key}: `), r.stderr);
r = q(`SELECT count(*) FROM cpu WHERE time > ${tmax};`);
eq('cold errors: a time range after the object does not read it', [r.stdout, r.stderr], ['2304\n', '']);
const other = ['h0', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7'].find((h) => {
  const x = q(`SELECT count(*) FROM cpu_objects WHERE key='${key}' AND NOT ('${h}' BETWEEN pk_min AND pk_max);`);
  return x.stdout === '1\n';
});
r = q(`SELECT count(*) FROM cpu WHERE host = '${other}';`);
eq('cold errors: a host outside the object\'s partition key range does not read it', [r.stdout, r.stderr], ['576\n', '']);
r = q(`SELECT count(*) FROM cpu WHERE host = '${pk}' AND time > ${tmax};`);
eq('cold errors: its own host after its time range does not read it', [r.stdout, r.stderr], ['288\n', '']);

// Damaged object: same size, garbage pages (the footer bytes, which the
// manifest also holds, left as they are).
const bad = Buffer.from(saved);
for (let i = 4; i < bad.length - Number(nFooter); i += 3) bad[i] ^= 0x5a;
fs.writeFileSync(file, bad);
fs.rmSync(file + '.away');
r = q(`SELECT sum(v) FROM cpu WHERE host = '${pk}';`);
check('cold errors: a damaged object fails the query as corrupt, naming its key',
  r.status !== 0 && r.stderr.includes(`timeseries cpu: cold object ${key}: `), r.stderr);

// Restored: every row again.
fs.writeFileSync(file, saved);
r = q(`SELECT count(*), sum(v) FROM cpu;`);
eq('cold errors: the restored object reads again', r.stdout, `4608|${8 * (575 * 576) / 2}.0\n`);
done();
