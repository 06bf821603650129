// bench/report.mjs: turns the JSON lines written by bench/sqlbench and
// bench/duckdb.mjs into the markdown table printed by `make bench` and one
// JSON document in bench/results/.  Checks that every query instance has the
// same result checksum (and row count) on every system; a mismatch is
// printed loudly and makes the exit status 1.  A system whose run failed
// (recorded by bench/run.sh as {"phase":"error",...}) also fails the run.
//
//   node bench/report.mjs --in RUN.jsonl --out RESULT.json [--scale H,D] [--seed N]
//                         [--quick 0|1] [--cflags "..."] [--elapsed S]
import fs from 'node:fs';
import os from 'node:os';
import { execSync } from 'node:child_process';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
if (!args.in || !args.out) {
  console.error('usage: node bench/report.mjs --in RUN.jsonl --out RESULT.json');
  process.exit(2);
}

const records = fs.readFileSync(args.in, 'utf8').split('\n').filter((l) => l.trim())
  .map((l) => JSON.parse(l));
const SYSTEM_ORDER = ['tslite', 'tslite-native', 'tslite-cold', 'tslite-cold-native', 'sqlite', 'sqlite-postindex', 'duckdb-t2', 'duckdb-t1', 'duckdb-lake'];
const sysRank = (s) => (SYSTEM_ORDER.indexOf(s) < 0 ? 99 : SYSTEM_ORDER.indexOf(s));

function quantile(xs, q) {
  if (!xs.length) return null;
  const a = [...xs].sort((x, y) => x - y);
  // nearest-rank: the smallest value with at least q of the sample at or below it
  return a[Math.min(a.length - 1, Math.max(0, Math.ceil(q * a.length) - 1))];
}
function median(xs) {
  if (!xs.length) return null;
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}
function sh(cmd) {
  try { return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return null; }
}
const fmtMs = (x) => (x === null || x === undefined ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fmtInt = (x) => (x === null || x === undefined ? '-' : Math.round(x).toLocaleString('en-US'));
const fmtRatio = (a, b) => (a == null || b == null || b === 0 ? '-' : `${(a / b).toFixed(2)}x`);
const mb = (kb) => (kb == null || kb < 0 ? '-' : (kb / 1024).toFixed(0));

// ---- environment ----
const cpuModel = (() => {
  try {
    const m = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m);
    return m ? m[1] : os.cpus()[0]?.model;
  } catch { return os.cpus()[0]?.model; }
})();
const sqliteVersion = records.find((r) => r.sqlite_version)?.sqlite_version ?? null;
const duckdbVersion = records.find((r) => r.duckdb_version)?.duckdb_version ?? null;
const env = {
  date: new Date().toISOString(),
  cpu: cpuModel,
  cores: os.cpus().length,
  memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
  kernel: `${os.type()} ${os.release()}`,
  sqlite_version: sqliteVersion,
  duckdb_version: duckdbVersion,
  node_version: process.version,
  cc: sh('cc --version | head -1'),
  cflags: args.cflags ?? null,
  git_commit: sh('git rev-parse --short HEAD'),
  seed: args.seed ? Number(args.seed) : null,
  scale: args.scale ?? null,
  quick: args.quick === '1',
  elapsed_seconds: args.elapsed ? Number(args.elapsed) : null,
};

// ---- group ----
const variants = [...new Set(records.map((r) => r.variant).filter(Boolean))];
const errors = records.filter((r) => r.phase === 'error');
const skips = records.filter((r) => r.phase === 'skip');
const out = [];
const summary = {};
const mismatches = [];
let nCompared = 0;

const p = (s = '') => out.push(s);
p(`## TSBS cpu-only side by side${args.scale ? `: ${args.scale.replace(',', ' hosts x ')} day(s)` : ''}`
  + `${env.quick ? ' (quick mode)' : ''}${env.seed != null ? `, seed ${env.seed}` : ''}`);
p();
p(`${env.cpu}, ${env.cores} cores; SQLite ${sqliteVersion ?? '-'}; DuckDB ${duckdbVersion ?? '-'}`
  + ` (node ${process.version}); ${env.cc ?? 'cc ?'} ${env.cflags ?? ''}`);
for (const s of skips) p(`\n**SKIPPED ${s.system}**: ${s.reason}`);
for (const e of errors) p(`\n**FAILED ${e.system} ${e.what} (${e.variant})**: ${e.reason}`);

for (const variant of variants) {
  const vr = records.filter((r) => r.variant === variant);
  const loads = vr.filter((r) => r.phase === 'load').sort((a, b) => sysRank(a.system) - sysRank(b.system));
  const qsum = Object.fromEntries(vr.filter((r) => r.phase === 'query-summary').map((r) => [r.system, r]));
  const queries = vr.filter((r) => r.phase === 'query');
  const systems = [...new Set(queries.map((r) => r.system))].sort((a, b) => sysRank(a) - sysRank(b));
  const vs = { load: {}, query: {} };
  summary[variant] = vs;
  const rows0 = loads[0]?.rows;

  p();
  p(`### ${variant}: ingest, storage, memory${rows0 ? ` (${fmtInt(rows0)} rows, ${fmtInt(rows0 * 10)} values)` : ''}`);
  p();
  p('| system | rows/s | values/s | load s (CPU s) | file B/value | memory tier B/value | Parquet B/value | peak RSS load MB | peak RSS queries MB |');
  p('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const l of loads) {
    const ts = l.ts_stats;
    let tierBpv = null;
    let pqBpv = null;
    if (ts && typeof ts === 'object') {
      // ts_stats(table): memory.bytes_per_value (compressed chunk bytes per
      // stored value); magnetic.bytes / (magnetic.rows x 10) for Parquet.
      const mt = ts.memory ?? {};
      tierBpv = mt.bytes_per_value ?? (mt.bytes && mt.values ? mt.bytes / mt.values : null);
      const mg = ts.magnetic ?? {};
      if (mg.bytes > 0 && mg.rows > 0) pqBpv = mg.bytes / (mg.rows * 10);
    }
    vs.load[l.system] = {
      rows_per_s: l.rows_per_s, values_per_s: l.values_per_s, seconds: l.seconds,
      cpu_seconds: l.cpu_seconds, rows_per_cpu_s: l.cpu_seconds ? l.rows / l.cpu_seconds : null,
      bytes_per_value: l.bytes_per_value, memory_tier_bytes_per_value: tierBpv, parquet_bytes_per_value: pqBpv,
      tier_seconds: l.tier_seconds ?? null,
      peak_rss_kb_load: l.peak_rss_kb, peak_rss_kb_query: qsum[l.system]?.peak_rss_kb ?? null,
    };
    p(`| ${l.system} | ${fmtInt(l.rows_per_s)} | ${fmtInt(l.values_per_s)} | ${l.seconds.toFixed(2)}`
      + `${l.cpu_seconds != null ? ` (${l.cpu_seconds.toFixed(2)})` : ''}`
      + `${l.index_seconds ? ` (index ${l.index_seconds.toFixed(2)})` : ''} | ${l.bytes_per_value.toFixed(2)}`
      + ` | ${tierBpv == null ? '-' : Number(tierBpv).toFixed(2)}`
      + ` | ${pqBpv == null ? '-' : pqBpv.toFixed(2)}${l.tier_seconds != null ? ` (ts_maintain ${l.tier_seconds.toFixed(1)} s)` : ''}`
      + ` | ${mb(l.peak_rss_kb)} | ${mb(qsum[l.system]?.peak_rss_kb)} |`);
  }
  for (const s of systems) {
    if (!loads.find((l) => l.system === s) && qsum[s]) {
      vs.load[s] = { peak_rss_kb_query: qsum[s].peak_rss_kb };
      const from = s === 'duckdb-lake' ? "tslite-cold's Parquet objects" : `same file as ${s.replace(/-native$/, '').replace(/t\d$/, 't2')}`;
      p(`| ${s} | (${from}) | | | | | | - | ${mb(qsum[s].peak_rss_kb)} |`);
    }
  }
  const tl = vs.load.tslite;
  if (tl) {
    p();
    const others = Object.keys(vs.load).filter((s) => s !== 'tslite' && vs.load[s].rows_per_s);
    p(`tslite/other: ingest rows/s ${others.map((s) => `${fmtRatio(tl.rows_per_s, vs.load[s].rows_per_s)} of ${s}`).join(', ')};`
      + ` ingest rows per CPU second ${others.map((s) => `${fmtRatio(tl.rows_per_cpu_s, vs.load[s].rows_per_cpu_s)} of ${s}`).join(', ')};`
      + ` file size ${others.map((s) => `${fmtRatio(tl.bytes_per_value, vs.load[s].bytes_per_value)} of ${s}`).join(', ')};`
      + ` peak RSS (queries) ${others.map((s) => `${fmtRatio(tl.peak_rss_kb_query, vs.load[s].peak_rss_kb_query)} of ${s}`).join(', ')}.`);
  }

  if (!queries.length) continue;
  // Per-type stats and checksum comparison.
  const types = [...new Set(queries.map((r) => r.type))];
  p();
  p(`### ${variant}: query latency, median / p95 ms (instances per type in the last column)`);
  p();
  // Ratio columns [numerator, denominator]: tslite against every other
  // system, and the native form against DuckDB.
  const ratioCols = [];
  if (systems.includes('tslite')) for (const s of systems) if (s !== 'tslite' && !s.endsWith('-native') && s !== 'duckdb-lake') ratioCols.push(['tslite', s]);
  if (systems.includes('tslite-native')) for (const s of systems) if (s.startsWith('duckdb-t')) ratioCols.push(['tslite-native', s]);
  if (systems.includes('tslite-cold') && systems.includes('duckdb-lake')) ratioCols.push(['tslite-cold', 'duckdb-lake']);
  if (systems.includes('tslite-cold-native') && systems.includes('duckdb-lake')) ratioCols.push(['tslite-cold-native', 'duckdb-lake']);
  p(`| query | ${systems.join(' | ')}${ratioCols.map(([a, b]) => ` | ${a}/${b}`).join('')} | rows | n |`);
  p(`|---|${systems.map(() => '---:').join('|')}${ratioCols.map(() => '|---:').join('')}|---:|---:|`);
  for (const type of types) {
    const per = {};
    for (const s of systems) {
      const rec = queries.find((r) => r.system === s && r.type === type);
      if (!rec) continue;
      const ms = rec.instances.map((x) => x.ms);
      const cpu = rec.instances.map((x) => x.cpu_ms).filter((x) => x != null);
      per[s] = { median_ms: median(ms), p95_ms: quantile(ms, 0.95), cpu_median_ms: median(cpu),
        n: ms.length, skipped: rec.skipped,
        rows_median: median(rec.instances.map((x) => x.rows)), instances: rec.instances };
    }
    vs.query[type] = Object.fromEntries(Object.entries(per).map(([s, v]) => [s, {
      median_ms: v.median_ms, p95_ms: v.p95_ms, cpu_median_ms: v.cpu_median_ms, n: v.n, skipped: v.skipped, rows_median: v.rows_median }]));
    // checksums: every instance present on two or more systems must agree
    const byInst = new Map();
    for (const [s, v] of Object.entries(per)) {
      for (const x of v.instances) {
        if (!byInst.has(x.i)) byInst.set(x.i, []);
        byInst.get(x.i).push({ system: s, checksum: x.checksum, rows: x.rows });
      }
    }
    for (const [i, list] of byInst) {
      if (list.length < 2) continue;
      nCompared++;
      const key = (x) => `${x.checksum}/${x.rows}`;
      if (new Set(list.map(key)).size > 1) mismatches.push({ variant, type, instance: i, results: list });
    }
    const cells = systems.map((s) => (per[s] ? `${fmtMs(per[s].median_ms)} / ${fmtMs(per[s].p95_ms)}${per[s].skipped ? ` (${per[s].skipped} skipped)` : ''}` : '-'));
    const ratios = ratioCols.map(([a, b]) => fmtRatio(per[a]?.median_ms, per[b]?.median_ms));
    const anyS = per[systems[0]] ?? Object.values(per)[0];
    const ns = [...new Set(Object.values(per).map((v) => v.n))].join('/');
    p(`| ${type} | ${cells.join(' | ')}${ratios.map((r) => ` | ${r}`).join('')} | ${fmtInt(anyS?.rows_median)} | ${ns} |`);
  }
  // The same medians in CPU time (user + system of the whole process, all
  // threads): steadier than wall time on a shared machine.
  p();
  p(`### ${variant}: query CPU time (all threads of the process), median ms`);
  p();
  p(`| query | ${systems.join(' | ')}${ratioCols.map(([a, b]) => ` | ${a}/${b}`).join('')} |`);
  p(`|---|${systems.map(() => '---:').join('|')}${ratioCols.map(() => '|---:').join('')}|`);
  for (const type of types) {
    const q = vs.query[type];
    p(`| ${type} | ${systems.map((s) => fmtMs(q[s]?.cpu_median_ms)).join(' | ')}`
      + `${ratioCols.map(([a, b]) => ` | ${fmtRatio(q[a]?.cpu_median_ms, q[b]?.cpu_median_ms)}`).join('')} |`);
  }
  const emptyMs = qsum['duckdb-t2']?.empty_query_ms;
  if (emptyMs != null) p(`\nDuckDB node-api floor: \`SELECT 1\` takes ${fmtMs(emptyMs)} ms (median of 20).`);
}

p();
if (mismatches.length) {
  p(`**CHECKSUM MISMATCH: ${mismatches.length} of ${nCompared} query instances differ between systems:**`);
  for (const m of mismatches.slice(0, 40)) {
    p(`- ${m.variant} ${m.type} instance ${m.instance}: ${m.results.map((x) => `${x.system}=${x.checksum} (${x.rows} rows)`).join(', ')}`);
  }
  if (mismatches.length > 40) p(`- ... and ${mismatches.length - 40} more (see the JSON)`);
} else {
  p(`Checksums: all ${nCompared} query instances agree across systems.`);
}
if (env.elapsed_seconds) p(`Whole run: ${env.elapsed_seconds.toFixed(0)} s.`);

const md = out.join('\n');
console.log(md);
const doc = { env, summary, checksum_mismatches: mismatches, instances_compared: nCompared, errors, skips, records, markdown: md };
fs.writeFileSync(args.out, `${JSON.stringify(doc, null, 1)}\n`);
console.log(`\n(results written to ${args.out})`);
if (mismatches.length || errors.length) {
  console.error(`bench: FAILED (${mismatches.length} checksum mismatches, ${errors.length} failed runs)`);
  process.exit(1);
}
