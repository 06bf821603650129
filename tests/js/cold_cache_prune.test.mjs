// cold_cache_prune.test.mjs: partition-key pruning of the cold tier,
// measured (ts_stats "cold_reads": objects opened, bytes read, per
// connection), and the bucketing rule of ts_maintain (docs/internals/
// cold-format.md "Buckets"): the partition key's value hashes (FNV-1a
// 32-bit) into one of 8 buckets, one object per day and bucket and round,
// so neither 100k devices nor 3 regions explode the object count.
import path from 'node:path';
import fs from 'node:fs';
import { check, done, eq, sqlite, tmpDir } from './lib.mjs';

const NOW = ".output /dev/null\nSELECT ts_debug_set_now('2024-05-04T00:30:00Z');\n.output stdout\n";
const dir = tmpDir('tslite-coldprune-');
const fnvBucket = (s) => {
  let h = 2166136261;
  for (const c of Buffer.from(s, 'utf8')) { h ^= c; h = Math.imul(h, 16777619) >>> 0; }
  return h % 8;
};

// ---- pruning: 24 hosts (2 to 4 per bucket) x 2 days = 16 objects ----
const db = path.join(dir, 'p.db');
const q = (sql) => sqlite(db, NOW + sql);
const HOSTS = Array.from({ length: 24 }, (_, k) => `host-${k}`);
let r = q(`CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, dc DIMENSION, v DOUBLE,
    memory_retention = '1h', magnetic_writes = true, partition_key = 'host');
  WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM r WHERE i<575),
    h(k) AS (SELECT 0 UNION ALL SELECT k+1 FROM h WHERE k<23)
  INSERT INTO cpu(time, host, dc, v) SELECT 1714521600000000000 + i*300000000000, 'host-'||k, 'dc'||(k%3), i FROM r, h;
  SELECT json_extract(ts_maintain('cpu'), '$.tables[0].objects_written');
  SELECT count(DISTINCT substr(key, instr(key, 'bucket='), 8)) FROM cpu_objects;`);
eq('prune: 24 hosts over 2 days tier into 8 buckets x 2 days', [r.stdout, r.stderr], ['16\n8\n', '']);
// Objects per bucket as ts_maintain named them, against the rule.
r = q(`SELECT key FROM cpu_objects ORDER BY key;`);
const keys = r.stdout.trim().split('\n');
const bucketOfKey = (k) => Number(/bucket=(\d+)\//.exec(k)[1]);
{
  // Each object read as plain Parquet (the parquet table): its hosts.
  const bad = [];
  const seen = new Set();
  for (const k of keys) {
    const x = q(`CREATE VIRTUAL TABLE temp.o USING parquet('file://${db}.tslite/${k}');
      SELECT DISTINCT host FROM temp.o ORDER BY host;`);
    const hs = x.stdout.trim().split('\n');
    hs.forEach((h) => seen.add(h));
    if (!hs.every((h) => fnvBucket(h) === bucketOfKey(k))) bad.push(`${k}: ${hs} ${x.stderr}`);
  }
  eq('prune: every object holds exactly the hosts with FNV-1a(host) % 8 = its bucket', [bad, seen.size], [[], 24]);
}

// Per query: rows, objects opened, bytes read (one connection per query).
function measure(where) {
  const x = q(`SELECT count(*), sum(v) FROM cpu ${where};
    SELECT json_extract(ts_stats('cpu'), '$.cold_reads.objects'), json_extract(ts_stats('cpu'), '$.cold_reads.bytes');`);
  const [rows, objs] = x.stdout.trim().split('\n');
  const [nObj, nByte] = objs.split('|').map(Number);
  return { rows, nObj, nByte, err: x.stderr };
}
const all = measure('');
eq('prune: no filter opens all 16 objects', [all.rows, all.nObj, all.err], [`13824|${24 * (575 * 576) / 2}.0`, 16, '']);
const one = measure(`WHERE host = 'host-5'`);
eq('prune: host = one value opens only its bucket\'s 2 objects', [one.rows, one.nObj, one.err], [`576|${(575 * 576) / 2}.0`, 2, '']);
check('prune: ... and reads less than a third of the bytes of the full scan', one.nByte * 3 < all.nByte,
  `${one.nByte} vs ${all.nByte}`);
// Two hosts of different buckets, and two of one bucket.
const sameB = HOSTS.filter((h) => fnvBucket(h) === fnvBucket('host-5') && h !== 'host-5')[0];
const otherB = HOSTS.find((h) => fnvBucket(h) !== fnvBucket('host-5'));
const two = measure(`WHERE host IN ('host-5', '${otherB}')`);
eq('prune: host IN (two buckets) opens 4 objects', [two.rows, two.nObj, two.err], [`1152|${(575 * 576)}.0`, 4, '']);
const twoSame = measure(`WHERE host IN ('host-5', '${sameB}')`);
eq('prune: host IN (two hosts of one bucket) opens 2 objects', [twoSame.rows, twoSame.nObj, twoSame.err],
  [`1152|${(575 * 576)}.0`, 2, '']);
const oneDay = measure(`WHERE host = 'host-5' AND time < 1714608000000000000`);
eq('prune: host = value and one day opens 1 object', [oneDay.rows, oneDay.nObj, oneDay.err], [`288|${(287 * 288) / 2}.0`, 1, '']);
const none = measure(`WHERE host = 'no-such-host'`);
eq('prune: an unknown host opens nothing', [none.rows, none.nObj, none.nByte], ['0|', 0, 0]);
// A filter on another dimension prunes by the series filter only: the
// objects of the buckets that hold a dc0 host.
const dc0 = HOSTS.filter((h, k) => k % 3 === 0);
const nDcBuckets = new Set(dc0.map(fnvBucket)).size;
const dc = measure(`WHERE dc = 'dc0'`);
eq(`prune: a non-partition dimension opens the objects of the ${nDcBuckets} buckets that hold it`,
  [dc.rows, dc.nObj], [`4608|${8 * (575 * 576) / 2}.0`, 2 * nDcBuckets]);

// ---- bucketing: object counts for a high- and a low-cardinality key ----
function tierCount(name, pk, values, nRowPer) {
  const d = path.join(dir, `${name}.db`);
  const sql = `CREATE VIRTUAL TABLE t USING timeseries(k DIMENSION, v DOUBLE,
      memory_retention = '1h', magnetic_writes = true${pk ? `, partition_key = 'k'` : ''});
    CREATE TEMP TABLE vals(k TEXT);
    ${values}
    WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM r WHERE i<${nRowPer - 1})
    INSERT INTO t(time, k, v) SELECT 1714521600000000000 + i*60000000000, vals.k, i FROM r, vals;
    SELECT json_extract(ts_maintain('t'), '$.tables[0].rows_moved');
    SELECT count(*), count(DISTINCT substr(key, instr(key, 'date='), 16)) FROM t_objects;`;
  const x = sqlite(d, NOW + sql);
  return x.stdout + x.stderr;
}
const t0 = Date.now();
r = tierCount('hi', true, `WITH RECURSIVE d(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM d WHERE i<99999)
    INSERT INTO vals SELECT 'device-'||i FROM d;`, 1);
eq('buckets: 100k devices as partition key: one day in 8 objects (one per bucket)', r, '100000\n8|1\n');
const msHi = Date.now() - t0;
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];
const nRegionBuckets = new Set(REGIONS.map(fnvBucket)).size;
r = tierCount('lo', true, `INSERT INTO vals VALUES ${REGIONS.map((x) => `('${x}')`).join(', ')};`, 1440);
eq(`buckets: 3 regions as partition key: one day in ${nRegionBuckets} objects (one per region's bucket)`, r,
  `4320\n${nRegionBuckets}|1\n`);
r = tierCount('mn', false, `INSERT INTO vals VALUES ${REGIONS.map((x) => `('${x}')`).join(', ')};`, 1440);
eq('buckets: default partition key (measure_name, one value): one object for the day', r, '4320\n1|1\n');
check('buckets: tiering 100k series stays quick', msHi < 120000, `${msHi} ms`);

fs.rmSync(dir, { recursive: true, force: true });
done();
