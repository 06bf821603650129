// bench/cold_cache.mjs: cold-tier queries on s3rver through the local cold
// cache (s3/objcache.c) against the same queries on file://, and partition-
// key pruning as objects opened per query.  Not a test: prints a table.
//
//   node bench/cold_cache.mjs [ROWS_PER_SERIES] [SERIES]   (default 2000 x 100;
//                                                         BENCH_QUICK=1: 500 x 50)
//
// Four copies of one table (hosts as partition key, one row per 30 s per
// host, everything but the last hour tiered by ts_maintain): storage on
// file://, and on s3rver (behind tests/js/s3fixture.mjs's counting proxy)
// with a warm cache, with a cold cache (its directory removed before each
// run) and with cold_cache = '0'.  Each figure is the median wall time of 5
// runs of a fresh sqlite3 process, minus the median of `SELECT 1` (start-up
// and .load).  Wall time, because S3 latency is the point; the machine may
// be shared, so the load average is printed with the table.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startS3 } = await import(path.join(ROOT, 'tests/js/s3fixture.mjs'));
const B = process.env.BENCH_BUILD || 'build';
const EXT = path.resolve(ROOT, B, 'tslite');
const quick = process.env.BENCH_QUICK === '1';
const N = Number(process.argv[2] || (quick ? 500 : 2000));
const S = Number(process.argv[3] || (quick ? 50 : 100));
const T0 = 1714521600000000000n;
const TEND = T0 + BigInt(N) * 30000000000n;
const NOW = `.output /dev/null\nSELECT ts_debug_set_now(${TEND + 3600000000000n});\n.output stdout\n`;

const s3 = await startS3({ bucket: 'bench', proxy: true });
const W = fs.mkdtempSync(path.join(os.tmpdir(), 'tslite-coldcache-bench-'));
const sq = (db, sql, env = {}) => {
  const t = process.hrtime.bigint();
  const r = spawnSync('sqlite3', ['-bail', '-cmd', `.load ${EXT}`, db], {
    input: NOW + sql, encoding: 'utf8', env: { ...process.env, ...s3.proxyEnv, ...env }, maxBuffer: 1 << 26,
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${db}: ${r.stderr}`);
  return { out: r.stdout, ms };
};
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

const CONFIGS = [
  { name: 'file', storage: null, cache: null },
  { name: 's3warm', storage: 's3://bench/warm', cache: '1GB' },
  { name: 's3cold', storage: 's3://bench/cold', cache: '1GB', clear: true },
  { name: 's3none', storage: 's3://bench/none', cache: '0' },
];
for (const c of CONFIGS) {
  c.db = path.join(W, `${c.name}.db`);
  const opts = [c.storage ? `storage = '${c.storage}'` : null, c.cache ? `cold_cache = '${c.cache}'` : null]
    .filter(Boolean).map((o) => `, ${o}`).join('');
  sq(c.db, `CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, region DIMENSION, v DOUBLE, n BIGINT,
      memory_retention = '1h', magnetic_writes = true, partition_key = 'host'${opts});
    WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM r WHERE i<${N - 1}),
      h(k) AS (SELECT 0 UNION ALL SELECT k+1 FROM h WHERE k<${S - 1})
    INSERT INTO cpu(time, host, region, v, n)
      SELECT ${T0} + i*30000000000, 'host_'||k, 'r'||(k%5), (i%1000)*0.25, i*k FROM r, h;
    SELECT ts_maintain('cpu');`);
}
const objs = sq(CONFIGS[0].db, 'SELECT count(*), total(nbyte) FROM cpu_objects;').out.trim();
const MID = T0 + BigInt(N) * 15000000000n;
const QUERIES = [
  ['full scan: count, sum', 'SELECT count(*), sum(v), sum(n) FROM cpu'],
  ["host = one value", "SELECT count(*), sum(v) FROM cpu WHERE host='host_7'"],
  ["host IN (3 values)", "SELECT count(*), sum(v) FROM cpu WHERE host IN ('host_1','host_2','host_3')"],
  ['one series, 1 h range', `SELECT count(*), sum(v) FROM cpu WHERE host='host_7' AND time BETWEEN ${MID} AND ${MID + 3600000000000n}`],
  ['all series, 1 h range', `SELECT count(*), sum(v) FROM cpu WHERE time BETWEEN ${MID} AND ${MID + 3600000000000n}`],
  ['GROUP BY host, 1 h bins', "SELECT count(*) FROM (SELECT host, bin(time,'1h'), avg(v) FROM cpu GROUP BY 1, 2)"],
];
const base = median([1, 2, 3, 4, 5].map(() => sq(CONFIGS[0].db, 'SELECT 1;').ms));
const rows = [];
for (const [name, sql] of QUERIES) {
  const row = { name };
  let check = null;
  for (const c of CONFIGS) {
    const cacheDir = `${c.db}.tslite-cache`;
    const out = sq(c.db, `${sql};`).out;            // warms the warm cache
    if (check === null) check = out; else if (out !== check) throw new Error(`${c.name}: ${name}: ${out} != ${check}`);
    const ts = [];
    let gets = 0;
    for (let i = 0; i < 5; i++) {
      if (c.clear) fs.rmSync(cacheDir, { recursive: true, force: true });
      const a = await s3.stats();
      ts.push(sq(c.db, `${sql};`).ms);
      const b = await s3.stats();
      gets += ((b.methods || {}).GET || 0) - ((a.methods || {}).GET || 0);
    }
    row[c.name] = Math.max(0, median(ts) - base);
    row[`${c.name}Gets`] = gets / 5;
    if (c.name === 'file') {
      const st = sq(c.db, `SELECT count(*) FROM (${sql}); SELECT json_extract(ts_stats('cpu'), '$.cold_reads.objects');`).out.trim().split('\n');
      row.objects = st[1];
    }
  }
  rows.push(row);
}
const f1 = (x) => x.toFixed(1);
console.log(`cold cache on s3rver vs file://: ${N * S} rows (${S} series x ${N}), partition_key = host, ` +
  `cold objects|bytes: ${objs}; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log('| query | objects opened | file:// ms | s3 warm cache ms | warm/file | s3 cold cache ms | s3 no cache ms | GETs warm | GETs cold cache | GETs no cache |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.objects} | ${f1(r.file)} | ${f1(r.s3warm)} | ${(r.s3warm / Math.max(r.file, 1)).toFixed(2)}x | ` +
    `${f1(r.s3cold)} | ${f1(r.s3none)} | ${r.s3warmGets} | ${r.s3coldGets} | ${r.s3noneGets} |`);
}
console.log(`(wall ms, median of 5 fresh sqlite3 processes minus ${f1(base)} ms start-up; warm/file divides by max(file, 1 ms))`);
await s3.stop();
fs.rmSync(W, { recursive: true, force: true });
