// bench/duckdb.mjs: DuckDB side of the TSBS-style benchmark, through the npm
// package @duckdb/node-api (what a Node application would use).
//
//   node bench/duckdb.mjs load  --data DATA --db DB --out OUT [--threads N] [--label L]
//   node bench/duckdb.mjs query --queries Q --db DB --out OUT [--threads N] [--label L] [--budget S]
//   node bench/duckdb.mjs query --queries Q --lake DIR --out OUT ...   (system duckdb-lake)
//   node bench/duckdb.mjs probe     (exit 0 iff @duckdb/node-api loads)
//
// Schema (TSBS's TimescaleDB layout, as for plain SQLite): cpu(time TIMESTAMP,
// hostname VARCHAR, 10 x DOUBLE) in data-file (epoch-major) order, plus
// tags(hostname, region, ...).  Load: one appender, row by row, timed from the
// appender's creation to CHECKPOINT; the data file (bench/tsbs.h) is read in
// blocks inside the timed loop, as the C loader does.
//
// Queries: the same instances and the same checksum as bench/sqlbench.c.
// Every column is read once first (hot cache); instance 0 of each type runs
// once untimed; each instance is timed from
// the call to runAndReadAll() to the materialized JS rows (getRows()).
// Output: JSON lines appended to OUT, like sqlbench.
//
// duckdb-lake (--lake DIR): no database of its own; cpu is a view over
// tslite's cold objects in DIR (a tslite-cold directory after `sqlbench
// tierall`, so it holds every row), read the way a fleet's analyst would:
// read_parquet('DIR/cpu/**/*.parquet', hive_partitioning = true), time cast
// from TIMESTAMPTZ to TIMESTAMP in UTC.  The same query text as duckdb-t2.
// (Objects of a table with version upserts can hold superseded versions of
// a record; the benchmark writes none, so no de-duplication is needed.)
import fs from 'node:fs';

let duck;
try {
  duck = await import('@duckdb/node-api');
} catch (e) {
  console.error(`duckdb.mjs: @duckdb/node-api is not installed (run npm ci): ${e.message}`);
  process.exit(3);
}
const { DuckDBInstance, DuckDBTimestampValue } = duck;

const FIELDS = ['usage_user', 'usage_system', 'usage_idle', 'usage_nice', 'usage_iowait',
  'usage_irq', 'usage_softirq', 'usage_steal', 'usage_guest', 'usage_guest_nice'];
const TAGS = ['hostname', 'region', 'datacenter', 'rack', 'os', 'arch', 'team', 'service',
  'service_version', 'service_environment'];
const TYPES = { // nField per query type (bench/tsbs.h)
  'single-groupby-1-1-1': 1, 'single-groupby-1-1-12': 1, 'single-groupby-1-8-1': 1,
  'single-groupby-5-1-1': 5, 'single-groupby-5-1-12': 5, 'single-groupby-5-8-1': 5,
  'cpu-max-all-1': 10, 'cpu-max-all-8': 10,
  'double-groupby-1': 1, 'double-groupby-5': 5, 'double-groupby-all': 10,
  'high-cpu-1': 10, 'high-cpu-all': 10, 'lastpoint': 10, 'groupby-orderby-limit': 1,
};
const ROW_BYTES = 96;
const HEADER_BYTES = 64;
const NS_PER_MIN = 60_000_000_000n;

function die(msg) {
  console.error(`duckdb.mjs: ${msg}`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { cmd: argv[0], threads: '2', label: 'tsbs-int', budget: 60 };
  for (let i = 1; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1];
    if (!k.startsWith('--') || v === undefined) die(`bad option ${k}`);
    o[k.slice(2)] = v;
  }
  o.budget = Number(o.budget);
  return o;
}

// ---- 64-bit FNV-1a on two 32-bit halves (same result as tsbsFnv in C) ----
function fnv(h, str) {
  let hi = h.hi;
  let lo = h.lo;
  const buf = Buffer.from(str, 'utf8');
  for (let i = 0; i < buf.length; i++) {
    lo = (lo ^ buf[i]) >>> 0;
    // (hi:lo) * 0x100000001b3 = (hi:lo) * 0x1b3 + ((hi:lo) << 40)
    const a = lo & 0xffff;
    const b = lo >>> 16;
    const t0 = a * 0x1b3;
    const t1 = b * 0x1b3 + (t0 >>> 16);
    const newLo = (((t1 & 0xffff) << 16) | (t0 & 0xffff)) >>> 0;
    hi = (Math.imul(hi, 0x1b3) + Math.floor(t1 / 65536) + (lo << 8)) >>> 0;
    lo = newLo;
  }
  return { hi, lo };
}
const FNV_INIT = { hi: 0xcbf29ce4, lo: 0x84222325 };

// The checksum of bench/tsbs.h over rows (arrays of JS values).
function checksum(rows, kinds, ordered) {
  let sum = 0n;
  const mask = (1n << 64n) - 1n;
  rows.forEach((row, i) => {
    const parts = row.map((v, k) => {
      if (v === null || v === undefined) return 'N';
      if (kinds[k] === 'h') return String(v);
      if (kinds[k] === 't') return BigInt(v).toString();
      return String(Math.round(Number(v) * 1e4));
    });
    const text = (ordered ? `${i}|` : '') + parts.join('|');
    const h = fnv(FNV_INIT, text);
    sum = (sum + ((BigInt(h.hi) << 32n) | BigInt(h.lo))) & mask;
  });
  return sum.toString(16).padStart(16, '0');
}

// ---- data file ----
function openData(path) {
  const fd = fs.openSync(path, 'r');
  const hdr = Buffer.alloc(HEADER_BYTES);
  fs.readSync(fd, hdr, 0, HEADER_BYTES, 0);
  if (hdr.toString('latin1', 0, 8) !== 'TSBSCPU1' || hdr.readUInt32LE(8) !== 1) {
    die(`${path} is not a tsbs_gen data file (version 1)`);
  }
  const d = {
    fd,
    variant: hdr.readUInt32LE(12),
    hosts: hdr.readUInt32LE(16),
    start: hdr.readBigInt64LE(24),
    interval: hdr.readBigInt64LE(32),
    epochs: Number(hdr.readBigInt64LE(40)),
  };
  const nTag = hdr.readUInt32LE(56);
  const tb = Buffer.alloc(nTag);
  fs.readSync(fd, tb, 0, nTag, HEADER_BYTES);
  d.tags = tb.toString('utf8').split('\n').filter((l) => l).map((l) => l.split(','));
  d.rowsOffset = HEADER_BYTES + nTag;
  return d;
}

function peakRssKb() {
  return process.resourceUsage().maxRSS;
}

function emit(o, obj) {
  fs.appendFileSync(o.out, `${JSON.stringify(obj)}\n`);
}

async function openDb(o) {
  const instance = await DuckDBInstance.create(o.db, { threads: String(o.threads) });
  const con = await instance.connect();
  return { instance, con };
}

async function cmdLoad(o) {
  const d = openData(o.data);
  for (const f of [o.db, `${o.db}.wal`]) fs.rmSync(f, { force: true });
  const { instance, con } = await openDb(o);
  await con.run(`CREATE TABLE tags(${TAGS.map((t) => `${t} VARCHAR`).join(', ')})`);
  await con.run(`CREATE TABLE cpu(time TIMESTAMP NOT NULL, hostname VARCHAR NOT NULL, ${
    FIELDS.map((f) => `${f} DOUBLE`).join(', ')})`);
  {
    const app = await con.createAppender('tags');
    for (const t of d.tags) {
      for (const v of t) app.appendVarchar(v);
      app.endRow();
    }
    app.closeSync();
  }
  const nRow = d.hosts * d.epochs;
  const hostnames = d.tags.map((t) => t[0]);
  const block = 4096;
  const buf = Buffer.alloc(block * ROW_BYTES);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const app = await con.createAppender('cpu');
  let pos = d.rowsOffset;
  for (let done = 0; done < nRow;) {
    const n = Math.min(block, nRow - done);
    const got = fs.readSync(d.fd, buf, 0, n * ROW_BYTES, pos);
    if (got !== n * ROW_BYTES) die(`${o.data}: truncated rows`);
    pos += got;
    for (let j = 0; j < n; j++) {
      const off = j * ROW_BYTES;
      const tNs = buf.readBigInt64LE(off);
      app.appendTimestamp(new DuckDBTimestampValue(tNs / 1000n));
      app.appendVarchar(hostnames[buf.readUInt32LE(off + 8)]);
      for (let k = 0; k < 10; k++) app.appendDouble(buf.readDoubleLE(off + 16 + 8 * k));
      app.endRow();
    }
    done += n;
  }
  app.closeSync();
  await con.run('CHECKPOINT');
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  con.closeSync();
  instance.closeSync();
  fs.closeSync(d.fd);
  const fileBytes = fs.statSync(o.db).size;
  const walBytes = fs.existsSync(`${o.db}.wal`) ? fs.statSync(`${o.db}.wal`).size : 0;
  emit(o, {
    phase: 'load', system: `duckdb-t${o.threads}`, variant: o.label,
    rows: nRow, values: nRow * 10, seconds: secs, cpu_seconds: (cpu.user + cpu.system) / 1e6,
    rows_per_s: nRow / secs, values_per_s: (nRow * 10) / secs,
    file_bytes: fileBytes, wal_bytes: walBytes, bytes_per_value: (fileBytes + walBytes) / (nRow * 10),
    peak_rss_kb: peakRssKb(), duckdb_version: duck.version(),
  });
}

// ---- queries ----
function readQueries(path) {
  const out = [];
  for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [type, inst, s, e, hosts] = line.split(' ');
    out.push({
      type, inst: Number(inst), start: BigInt(s), end: BigInt(e),
      hosts: hosts === '-' ? [] : hosts.split(',').map(Number),
    });
  }
  return out;
}

// A TIMESTAMP literal for the smallest microsecond >= ns (data times are
// whole seconds, so `time >= ceil_us(S)` selects exactly `time_ns >= S`).
function tsLit(ns) {
  const us = (ns + 999n) / 1000n;
  const secs = us / 1_000_000n;
  const frac = (us % 1_000_000n).toString().padStart(6, '0');
  const iso = new Date(Number(secs) * 1000).toISOString().slice(0, 19).replace('T', ' ');
  return `TIMESTAMP '${iso}.${frac}'`;
}

function hostIn(q) {
  return ` AND hostname IN (${q.hosts.map((h) => `'host_${h}'`).join(',')})`;
}

// The SQL, column kinds and ordered flag of one instance (mirrors buildSql in
// bench/sqlbench.c; DuckDB spellings: date_trunc, epoch_ns, QUALIFY).
function buildSql(q) {
  const nf = TYPES[q.type];
  if (nf === undefined) die(`unknown query type ${q.type}`);
  const f = FIELDS.slice(0, nf);
  const win = `time >= ${tsLit(q.start)} AND time < ${tsLit(q.end)}`;
  const all = FIELDS.join(', ');
  if (q.type.startsWith('single-groupby') || q.type.startsWith('cpu-max-all')) {
    const unit = q.type.startsWith('single') ? 'minute' : 'hour';
    return {
      sql: `SELECT epoch_ns(date_trunc('${unit}', time)) AS bucket, ${f.map((x) => `max(${x})`).join(', ')}`
        + ` FROM cpu WHERE ${win}${hostIn(q)} GROUP BY bucket ORDER BY bucket`,
      kinds: `t${'f'.repeat(nf)}`, ordered: true,
    };
  }
  if (q.type.startsWith('double-groupby')) {
    return {
      sql: `SELECT epoch_ns(date_trunc('hour', time)) AS hour, hostname, ${f.map((x) => `avg(${x})`).join(', ')}`
        + ` FROM cpu WHERE ${win} GROUP BY hour, hostname ORDER BY hour, hostname`,
      kinds: `th${'f'.repeat(nf)}`, ordered: true,
    };
  }
  if (q.type.startsWith('high-cpu')) {
    return {
      sql: `SELECT epoch_ns(time), hostname, ${all} FROM cpu WHERE usage_user > 90.0 AND ${win}`
        + `${q.hosts.length ? hostIn(q) : ''}`,
      kinds: `th${'f'.repeat(10)}`, ordered: false,
    };
  }
  if (q.type === 'lastpoint') {
    return {
      sql: `SELECT epoch_ns(time), hostname, ${all} FROM cpu`
        + ' QUALIFY row_number() OVER (PARTITION BY hostname ORDER BY time DESC) = 1',
      kinds: `th${'f'.repeat(10)}`, ordered: false,
    };
  }
  if (q.type === 'groupby-orderby-limit') {
    return {
      sql: `SELECT epoch_ns(date_trunc('minute', time)) AS minute, max(usage_user) FROM cpu`
        + ` WHERE time < ${tsLit(q.end)} GROUP BY minute ORDER BY minute DESC LIMIT 5`,
      kinds: 'tf', ordered: true,
    };
  }
  return die(`no SQL for ${q.type}`);
}

async function runOne(con, sql) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const reader = await con.runAndReadAll(sql);
  const rows = reader.getRows();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1e3, rows };
}

async function cmdQuery(o) {
  const qs = readQueries(o.queries);
  const { instance, con } = await openDb(o.lake ? { ...o, db: ':memory:' } : o);
  const system = o.lake ? 'duckdb-lake' : `duckdb-t${o.threads}`;
  if (o.lake) {
    const glob = `${o.lake}/cpu/**/*.parquet`.replaceAll("'", "''");
    await con.run("SET TimeZone = 'UTC'");
    await con.run(`CREATE VIEW cpu AS SELECT time::TIMESTAMP AS time, hostname, ${FIELDS.join(', ')}`
      + ` FROM read_parquet('${glob}', hive_partitioning = true)`);
  }
  const tAll = process.hrtime.bigint();
  // Hot cache: read every column once (untimed), as the C runner does.
  await runOne(con, `SELECT max(time), max(hostname), ${FIELDS.map((f) => `max(${f})`).join(', ')} FROM cpu`);
  const warmSeconds = Number(process.hrtime.bigint() - tAll) / 1e9;
  // Per-query overhead of node-api: an empty query, 20 times.
  await runOne(con, 'SELECT 1');
  const empty = [];
  for (let i = 0; i < 20; i++) empty.push((await runOne(con, 'SELECT 1')).ms);
  for (let i = 0; i < qs.length;) {
    const first = i;
    while (i < qs.length && qs[i].type === qs[first].type) i++;
    const b0 = buildSql(qs[first]);
    await runOne(con, b0.sql); // warm-up
    const instances = [];
    let used = 0;
    for (let j = first; j < i; j++) {
      if (used > o.budget) break;
      const b = buildSql(qs[j]);
      const r = await runOne(con, b.sql);
      used += r.ms / 1e3;
      instances.push({ i: qs[j].inst, ms: r.ms, cpu_ms: r.cpuMs, rows: r.rows.length, checksum: checksum(r.rows, b.kinds, b.ordered) });
    }
    emit(o, {
      phase: 'query', system, variant: o.label, type: qs[first].type, sql_example: b0.sql,
      instances, skipped: i - first - instances.length,
    });
    process.stderr.write(`  ${system.padEnd(8)} ${qs[first].type.padEnd(22)} ${String(instances.length).padStart(3)}`
      + ` instances ${(used * 1e3).toFixed(1).padStart(9)} ms total\n`);
  }
  emit(o, {
    phase: 'query-summary', system, variant: o.label,
    seconds: Number(process.hrtime.bigint() - tAll) / 1e9, warm_seconds: warmSeconds, peak_rss_kb: peakRssKb(),
    empty_query_ms: empty.sort((a, b) => a - b)[10], duckdb_version: duck.version(),
  });
  con.closeSync();
  instance.closeSync();
}

const o = parseArgs(process.argv.slice(2));
if (o.cmd === 'probe') {
  console.log(`ok ${duck.version()}`);
} else if (o.cmd === 'load') {
  if (!o.data || !o.db || !o.out) die('load needs --data --db --out');
  await cmdLoad(o);
} else if (o.cmd === 'query') {
  if (!o.queries || !(o.db || o.lake) || !o.out) die('query needs --queries --db (or --lake) --out');
  await cmdQuery(o);
} else {
  die('usage: node bench/duckdb.mjs load|query|probe [options]');
}
