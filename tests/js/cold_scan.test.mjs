// cold_scan.test.mjs: one scan over both tiers (ext/cold_read.c, the cold
// row source of ext/source.h), checked against a differential oracle: a
// plain SQLite table holding the same rows.  Random data over four days and
// 16 series, random queries (time ranges, =/IN on dimensions and
// measure_name, ORDER BY time ASC/DESC with LIMIT, only some columns, GROUP
// BY aggregates) compared row for row
//   1. before ts_maintain (memory tier only),
//   2. after ts_maintain (most rows in Parquet objects),
//   3. after late writes into the tiered range (new keys and upserts of
//      tiered keys with a higher version: a record key held by both tiers
//      is returned once, the higher version),
//   4. after a second ts_maintain (the late rows in objects that overlap the
//      first ones: duplicates across objects resolved by version),
//   5. with the clock moved past magnetic retention (rows older than now -
//      memory_retention - magnetic_retention vanish at once, then
//      ts_maintain drops the expired objects);
// on the default file:// directory and on s3rver.  Every phase runs in new
// sqlite3 processes (a reopened database, a second process).  DuckDB reads
// the objects with hive_partitioning and agrees with the table's cold rows.
import path from 'node:path';
import fs from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { startS3 } from './s3fixture.mjs';
import { check, eq, done, sqlite, tmpDir, rng } from './lib.mjs';

const duck = await (await DuckDBInstance.create(':memory:')).connect();
const duckRows = async (sql) => (await duck.runAndReadAll(sql)).getRowObjectsJson();
const s3 = await startS3({ bucket: 'coldscan' });

const NS_S = 1000000000n;
const T0 = 1714564800000000000n;      // 2024-05-01T12:00:00Z
const NOW1 = '2024-05-05T12:00:00Z';  // the first clock
const BOUND = 1714867200000000000n;   // NOW1 - 12h: the tiering boundary
const NOW2 = '2024-05-13T00:00:00Z';  // past magnetic retention of early rows
const EXPIRE2 = BigInt(Date.parse(NOW2)) * 1000000n - 12n * 3600n * NS_S - 10n * 86400n * NS_S;
const setNow = (t) => `.output /dev/null\nSELECT ts_debug_set_now('${t}');\n.output stdout\n`;
const lit = (s) => (s === null ? 'NULL' : `'${s.replace(/'/g, "''")}'`);

const R = rng(20240501);
const ri = (n) => Math.floor(R() * n);
const pick = (a) => a[ri(a.length)];

// Series: 8 hosts x 2 measure names; region fixed per host, NULL for h7.
const HOSTS = ['h0', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7'];
const MNAMES = ['cpu', 'mem'];
const regionOf = (h) => (h === 'h7' ? null : `r${Number(h[1]) % 3}`);
const series = [];
for (const h of HOSTS) for (const m of MNAMES) series.push({ host: h, region: regionOf(h), m });

// Rows: times unique across all series (the series index is added in ns),
// so ORDER BY time has no ties and both systems agree on the order.
function makeRows(tFrom, tTo, meanStepS, tag) {
  const out = [];
  series.forEach((s, si) => {
    let t = tFrom + BigInt(ri(600)) * NS_S;
    while (t < tTo) {
      const k = out.length;
      out.push({
        t: t + BigInt(si), host: s.host, region: s.region, m: s.m,
        v: ri(4000) / 4, n: ri(1000000) - 500000, s: ri(5) === 0 ? null : `${tag}${ri(50)}`,
        b: ri(2), ver: 1, k,
      });
      t += BigInt(Math.max(1, Math.round(meanStepS * (0.5 + R())))) * NS_S;
    }
  });
  return out;
}
const rows = makeRows(T0, T0 + 4n * 86400n * NS_S, 900, 's');
const insertSql = (table, rs) => {
  const parts = [];
  for (let i = 0; i < rs.length; i += 500) {
    const vals = rs.slice(i, i + 500).map((r) =>
      `(${r.t},${lit(r.host)},${lit(r.region)},${lit(r.m)},${r.v},${r.n},${lit(r.s)},${r.b},${r.ver})`).join(',');
    parts.push(`INSERT INTO ${table}(time, host, region, measure_name, v, n, s, b, version) VALUES ${vals};`);
  }
  return parts.join('\n');
};

// Random queries over {T}: each is [sql, ordered?].
function makeQueries(n) {
  const qs = [];
  const tMin = T0, span = 4n * 86400n * NS_S;
  const colsAll = ['time', 'host', 'region', 'measure_name', 'v', 'n', 's', 'b', 'version'];
  for (let i = 0; i < n; i++) {
    const w = [];
    const kind = ri(10);
    if (ri(4) !== 0) {
      const a = tMin + (span * BigInt(ri(1000))) / 1000n - 3600n * NS_S;
      const b = a + BigInt(1 + ri(36)) * 3600n * NS_S * BigInt(1 + ri(3));
      switch (ri(5)) {
        case 0: w.push(`time BETWEEN ${a} AND ${b}`); break;
        case 1: w.push(`time >= ${a}`, `time < ${b}`); break;
        case 2: w.push(`time > ${a}`); break;
        case 3: w.push(`time <= ${b}`); break;
        default: w.push(`time = ${pick(rows).t}`); break;
      }
    }
    if (ri(2)) {
      if (ri(2)) w.push(`host = '${pick(HOSTS)}'`);
      else w.push(`host IN (${[pick(HOSTS), pick(HOSTS), pick(HOSTS)].map(lit).join(',')})`);
    }
    if (ri(3) === 0) w.push(ri(2) ? `measure_name = '${pick(MNAMES)}'` : `measure_name IN ('cpu','mem','none')`);
    if (ri(6) === 0) w.push(`region = 'r${ri(3)}'`);
    if (ri(8) === 0) w.push('v > 500');
    const where = w.length ? ` WHERE ${w.join(' AND ')}` : '';
    if (kind <= 1) {
      qs.push([`SELECT host, measure_name, count(*), sum(n), sum(v), min(v), max(time), count(s), total(b), max(version) FROM {T}${where} GROUP BY 1, 2 ORDER BY 1, 2`, true]);
    } else if (kind === 2) {
      qs.push([`SELECT count(*), sum(n), min(time), max(time) FROM {T}${where}`, true]);
    } else {
      const cols = colsAll.filter(() => ri(2)).concat(['time']);
      const uniq = [...new Set(cols)];
      if (kind <= 6) {
        const dir = ri(2) ? 'DESC' : 'ASC';
        const lim = ri(3) ? ` LIMIT ${1 + ri(200)}` : '';
        qs.push([`SELECT ${uniq.join(', ')} FROM {T}${where} ORDER BY time ${dir}${lim}`, true]);
      } else {
        qs.push([`SELECT ${uniq.join(', ')} FROM {T}${where}`, false]);
      }
    }
  }
  return qs;
}
const queries = makeQueries(40);
// On s3rver every query pays its ranged GETs (tens of ms each on a loaded
// machine: the 40 queries took 30-40 s per phase), so by default the s3
// phases run one query of each shape (GROUP BY, a bare aggregate, ORDER BY
// ASC and DESC with LIMIT, ordered without LIMIT, unordered, IN on a
// dimension, a measure_name filter); TS_LONG=1 runs all 40 there too.
const SHAPES = [
  ([q]) => q.includes('GROUP BY'),
  ([q]) => q.startsWith('SELECT count(*), sum(n)'),
  ([q]) => / ORDER BY time ASC LIMIT /.test(q),
  ([q]) => / ORDER BY time DESC LIMIT /.test(q),
  ([q]) => / ORDER BY time (ASC|DESC)$/.test(q),
  ([, ordered]) => !ordered,
  ([q]) => q.includes('host IN ('),
  ([q]) => q.includes('measure_name'),
];
const s3Queries = process.env.TS_LONG === '1' ? queries
  : [...new Set(SHAPES.map((f) => queries.find(f)).filter(Boolean))];

// Run every query on both tables in one process each and compare.
function compare(label, db, env, now, queries) {
  const sep = '#--#';
  const script = (T) => setNow(now) + queries.map(([q]) => `SELECT '${sep}';\n${q.replaceAll('{T}', T)};`).join('\n') + '\n';
  const a = sqlite(db, script('cpu'), { env });
  const b = sqlite(db, script('ref'), { env });
  if (a.status !== 0 || a.stderr) { check(`${label}: queries run`, false, a.stderr); return; }
  if (b.status !== 0 || b.stderr) { check(`${label}: oracle queries run`, false, b.stderr); return; }
  const pa = a.stdout.split(sep + '\n').slice(1), pb = b.stdout.split(sep + '\n').slice(1);
  let nBad = 0, first = '';
  let nRows = 0;
  queries.forEach(([q, ordered], i) => {
    let x = pa[i] || '', y = pb[i] || '';
    if (!ordered) { x = x.split('\n').sort().join('\n'); y = y.split('\n').sort().join('\n'); }
    nRows += y.split('\n').length - 1;
    if (x !== y) {
      nBad++;
      if (!first) {
        const xl = x.split('\n'), yl = y.split('\n');
        let k = 0;
        while (k < xl.length && xl[k] === yl[k]) k++;
        first = `${q}\n line ${k}: got ${xl[k]} (${xl.length} lines), expected ${yl[k]} (${yl.length} lines)`;
      }
    }
  });
  check(`${label}: ${queries.length} random queries equal the plain-table oracle (${nRows} result rows)`,
    nBad === 0 && pa.length === queries.length, `${nBad} differ; first: ${first}`);
}

async function scenario(label, storage, env) {
  const qs = storage ? s3Queries : queries;
  const dir = tmpDir(`tslite-coldscan-${label}-`);
  const db = path.join(dir, 'x.db');
  const uri = storage || `file://${db}.tslite`;
  const q = (sql, now = NOW1) => sqlite(db, setNow(now) + sql, { env });
  let r = q(`CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, region DIMENSION,
      v DOUBLE, n BIGINT, s VARCHAR, b BOOLEAN, memory_retention = '12h', magnetic_retention = '10d',
      magnetic_writes = true, partition_key = 'host'${storage ? `, storage = ${lit(storage)}` : ''});
    CREATE TABLE ref(time INTEGER, host TEXT, region TEXT, measure_name TEXT, v REAL, n INTEGER,
      s TEXT, b INTEGER, version INTEGER, PRIMARY KEY(host, measure_name, time));
    BEGIN;
    ${insertSql('cpu', rows)}
    ${insertSql('ref', rows)}
    COMMIT;
    SELECT count(*) FROM cpu;`);
  check(`${label}: setup (${rows.length} rows, ${series.length} series)`, r.status === 0 && !r.stderr && r.stdout === `${rows.length}\n`, r.stderr + r.stdout);

  compare(`${label}: memory tier only`, db, env, NOW1, qs);

  r = q(`SELECT ts_maintain('cpu');`);
  let j = {};
  try { j = JSON.parse(r.stdout).tables[0]; } catch (e) { check(`${label}: ts_maintain`, false, r.stdout + r.stderr); return; }
  const nOld = rows.filter((x) => x.t < BOUND).length;
  eq(`${label}: ts_maintain tiers the rows older than the boundary`, j.rows_moved, nOld);
  r = q(`SELECT (SELECT total(nrow) FROM cpu_chunks), (SELECT count(*) FROM cpu_objects);`);
  check(`${label}: most rows are cold, in several objects`, Number(r.stdout.split('|')[0]) === rows.length - nOld
    && Number(r.stdout.split('|')[1]) >= 8, r.stdout);
  compare(`${label}: after ts_maintain (both tiers)`, db, env, NOW1, qs);

  // Pushdown through the cold tier: a one-series time range reads only
  // that series' objects; LIMIT with ORDER BY time DESC over every series.
  r = q(`SELECT count(*) FROM cpu WHERE host='h3' AND measure_name='cpu' AND time BETWEEN ${T0} AND ${T0 + 86400n * NS_S};
         SELECT count(*) FROM ref WHERE host='h3' AND measure_name='cpu' AND time BETWEEN ${T0} AND ${T0 + 86400n * NS_S};
         SELECT group_concat(time) FROM (SELECT time FROM cpu ORDER BY time DESC LIMIT 5);
         SELECT group_concat(time) FROM (SELECT time FROM ref ORDER BY time DESC LIMIT 5);`);
  const lines = r.stdout.split('\n');
  check(`${label}: one-series range and top-5 DESC across tiers`, !r.stderr && lines[0] === lines[1] && lines[2] === lines[3] && lines[0] !== '0', r.stdout + r.stderr);

  // DuckDB reads the objects (hive_partitioning) and agrees with the cold rows.
  r = q(`SELECT key FROM cpu_objects ORDER BY key;`);
  const keys = r.stdout.trim().split('\n');
  let root = `${db}.tslite`;
  if (storage) {
    root = path.join(dir, 'fetched');
    for (const k of keys) fs.mkdirSync(path.dirname(path.join(root, k)), { recursive: true });
    sqlite(db, keys.map((k) => `SELECT writefile(${lit(path.join(root, k))}, ts_object_get(${lit(uri + '/' + k)}));`).join('\n'), { env });
  }
  const d = await duckRows(`SELECT count(*)::VARCHAR AS c, sum(n)::VARCHAR AS sn, sum(v)::VARCHAR AS sv,
      count(s)::VARCHAR AS cs, count(DISTINCT host)::VARCHAR AS h
    FROM read_parquet('${root}/cpu/**/*.parquet', hive_partitioning=true)`);
  r = q(`SELECT count(*), sum(n), sum(v), count(s), count(DISTINCT host) FROM cpu WHERE time < ${BOUND};`);
  const [c, sn, sv, cs, h] = r.stdout.trim().split('|');
  eq(`${label}: DuckDB over the objects agrees with the table's cold rows`,
    [d[0].c, d[0].sn, Number(d[0].sv), d[0].cs, d[0].h], [c, sn, Number(sv), cs, h]);

  // Late writes into the tiered range: new keys, and upserts of tiered keys.
  const late = makeRows(T0 + 86400n * NS_S, T0 + 2n * 86400n * NS_S, 7200, 'late').map((x) => ({ ...x, t: x.t + 16n }));
  const cold = rows.filter((x) => x.t < BOUND);
  const ups = [];
  for (let i = 0; i < 60; i++) {
    const x = cold[20 + ri(cold.length - 20)];
    if (!ups.includes(x)) ups.push(x);
  }
  const upRows = ups.map((x) => ({ ...x, v: x.v + 1000, s: 'upserted', ver: 2 }));
  const sameRows = cold.slice(0, 20);     // identical values: no-ops
  r = q(`BEGIN;
    ${insertSql('cpu', late)}
    ${insertSql('ref', late)}
    ${insertSql('cpu', upRows)}
    ${upRows.map((x) => `UPDATE ref SET v=${x.v}, s='upserted', version=2 WHERE host=${lit(x.host)} AND measure_name=${lit(x.m)} AND time=${x.t};`).join('\n')}
    ${insertSql('cpu', sameRows)}
    COMMIT;`);
  check(`${label}: late writes accepted (${late.length} new, ${upRows.length} upserts, ${sameRows.length} no-ops)`, r.status === 0 && !r.stderr, r.stderr);
  compare(`${label}: a key in both tiers is returned once (higher version)`, db, env, NOW1, qs);

  r = q(`SELECT json_extract(ts_maintain('cpu'), '$.tables[0].rows_moved');`);
  check(`${label}: a second ts_maintain tiers the late rows`, Number(r.stdout) >= late.length, r.stdout + r.stderr);
  compare(`${label}: overlapping objects (duplicates across objects by version)`, db, env, NOW1, qs);

  // Retention at scan time.
  r = q(`DELETE FROM ref WHERE time < ${EXPIRE2};
         SELECT count(*) FROM ref;`, NOW2);
  check(`${label}: the oracle keeps the unexpired rows`, r.status === 0 && Number(r.stdout) > 0 && Number(r.stdout) < rows.length, r.stdout + r.stderr);
  compare(`${label}: rows past magnetic retention vanish before maintenance`, db, env, NOW2, qs);
  r = q(`SELECT json_extract(ts_maintain('cpu'), '$.tables[0].objects_expired');`, NOW2);
  check(`${label}: ts_maintain drops the expired objects`, Number(r.stdout) > 0, r.stdout + r.stderr);
  compare(`${label}: after expiry by ts_maintain`, db, env, NOW2, qs);
}

await scenario('file', null, {}).catch((e) => check('file', false, e.stack));
await scenario('s3', 's3://coldscan/lake', s3.env).catch((e) => check('s3', false, e.stack));
await s3.stop();
done();
