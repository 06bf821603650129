// Parquet interoperability: files written by tslite's writer (through
// build/tools/pqtool) must read back identically in DuckDB and hyparquet,
// for every type, encoding, codec, null pattern and sizes from 0 rows to
// several row groups; files written by DuckDB (each codec, dictionary and
// plain, v1 and v2 pages) must read back identically in tslite's reader.
// One DuckDB instance serves every check (instance start-up is slow).
import { check, eq, skip, done, tmpDir, ROOT } from './lib.mjs';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const BUILD = process.env.TS_BUILD || path.join(ROOT, 'build');
const PQTOOL = path.join(BUILD, 'tools', 'pqtool');
const dir = tmpDir('tslite-pq-');

let DuckDBInstance, parquetReadObjects, compressors, hy;
try {
  ({ DuckDBInstance } = await import('@duckdb/node-api'));
  hy = await import('hyparquet');
  ({ parquetReadObjects } = hy);
  ({ compressors } = await import('hyparquet-compressors'));
} catch (e) {
  skip('parquet interop', `node modules missing: ${e.message}`);
  done();
  process.exit(0);
}

function pqtool(args, input) {
  const env = { ...process.env };
  if (process.env.TS_PRELOAD) { env.LD_PRELOAD = process.env.TS_PRELOAD; env.ASAN_OPTIONS = 'detect_leaks=1:abort_on_error=1'; }
  const r = spawnSync(PQTOOL, args, { input, encoding: 'utf8', maxBuffer: 1 << 28, env });
  return r;
}

// ---------------------------------------------------------------------------
// Deterministic value generators.  Canonical form of a value: integers and
// timestamps as decimal strings, doubles as numbers, booleans, strings; NULL
// as null.  This is exactly what `pqtool dump` prints.
let seed = 12345;
function rnd() { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; }

const STRS = ['', 'a', 'host_1', 'héllo wörld ✓', 'tab\there', 'new\nline', 'quote"and\\back',
  'x'.repeat(100) + 'END', '\u{1F600} emoji', 'zzz'];

function gen(kind, i, n) {
  switch (kind) {
    case 'int64':
      if (i === n - 1 && n > 2) return '9223372036854775807';
      if (i === 1) return '-9223372036854775808';
      return String(i % 7 === 0 ? -(BigInt(i) * 1234567890123n) : BigInt(i) * 1000003n);
    case 'int32': return String(i % 5 === 0 ? -2147483648 + i : 2147483647 - i * 3);
    case 'double': return i % 11 === 0 ? -0.5 * i : Math.round(rnd() * 1e6) / 64 + (i % 3 === 0 ? 1e300 : 0);
    case 'bool': return i % 3 !== 1;
    case 'string': return STRS[i % STRS.length] + (i % 4 === 0 ? String(i) : '');
    case 'ts': return String(1700000000000000000n + BigInt(i) * 10000000000n + BigInt(i % 1000));
    case 'tsus': return String(1700000000000000n + BigInt(i) * 1000n);
    case 'tsms': return String(1700000000000n + BigInt(i) * 1000n);
    case 'date': return String(19000 + (i % 500) - 250);
    case 'dictstr': return 'host_' + (i % 17);
    case 'bytes': return 'blob-' + (i * 7919 % 1000);
    case 'dictdbl': return (i % 13) * 1.5;
  }
  throw new Error(kind);
}
function nullAt(pattern, i) {
  if (pattern === 'none') return false;
  if (pattern === 'all') return true;
  if (pattern === 'some') return i % 4 === 2;
  if (pattern === 'runs') return Math.floor(i / 50) % 2 === 1;
  return false;
}
function esc(s) { return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n'); }
function toInput(v) {
  if (v === null) return '\\N';
  if (typeof v === 'string') return esc(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return String(v);
}
const PQKIND = { int64: 'int64', int32: 'int32', double: 'double', bool: 'bool', string: 'string', ts: 'ts',
  tsus: 'tsus', tsms: 'tsms', date: 'date', dictstr: 'string', dictdbl: 'double', bytes: 'bytes' };

// A case: columns [{name, kind, enc, nulls}], n rows, writer options.
function makeCase(name, cols, n, opts = []) {
  const rows = [];
  for (let i = 0; i < n; i++) {
    rows.push(cols.map(c => (c.nulls !== 'none' && nullAt(c.nulls, i)) ? null : gen(c.kind, i, n)));
  }
  const schema = cols.map(c => `${c.name}:${PQKIND[c.kind]}${c.nulls !== 'none' ? ':null' : ''}${c.enc ? ':' + c.enc : ''}`).join(',');
  const input = schema + '\n' + rows.map(r => r.map(toInput).join('\t')).join('\n') + (n ? '\n' : '');
  const file = path.join(dir, name + '.parquet');
  const r = pqtool(['write', ...opts, file], input);
  return { name, cols, rows, file, ok: r.status === 0, err: r.stderr };
}

const cases = [];
const ALLKINDS = ['int64', 'int32', 'double', 'bool', 'string', 'ts', 'tsus', 'tsms', 'date', 'dictstr', 'dictdbl', 'bytes'];
// every type x codec x null pattern, default (AUTO) encodings
for (const codec of ['none', 'gzip', 'zstd']) {
  for (const nulls of ['none', 'some', 'runs', 'all']) {
    const cols = ALLKINDS.map((k, j) => ({ name: `c${j}_${k}`, kind: k, nulls: (k === 'int64' && nulls === 'all') ? 'none' : nulls }));
    cases.push(makeCase(`auto_${codec}_${nulls}`, cols, 300, ['-c', codec, '-p', '64']));
  }
}
// every explicit encoding valid for each kind
const ENCS = { int64: ['plain', 'dict', 'delta', 'bss'], int32: ['plain', 'dict', 'delta', 'bss'],
  double: ['plain', 'dict', 'bss'], bool: ['plain'], string: ['plain', 'dict'], ts: ['plain', 'dict', 'delta', 'bss'],
  date: ['plain', 'dict', 'delta'], dictstr: ['dict', 'plain'], dictdbl: ['dict', 'bss'] };
for (const [k, encs] of Object.entries(ENCS)) {
  for (const enc of encs) {
    cases.push(makeCase(`enc_${k}_${enc}`, [{ name: 'v', kind: k, enc, nulls: 'some' }, { name: 'r', kind: k, enc, nulls: 'none' }], 1000, ['-c', 'zstd', '-p', '300']));
  }
}
// sizes: 0 rows, 1 row, several row groups (by rows and by bytes), tiny pages, dictionary fallback
const SIZECOLS = [{ name: 't', kind: 'ts', nulls: 'none' }, { name: 'h', kind: 'dictstr', nulls: 'some' },
  { name: 'x', kind: 'double', nulls: 'some' }, { name: 's', kind: 'string', nulls: 'none' }];
cases.push(makeCase('rows0', SIZECOLS, 0));
cases.push(makeCase('rows1', SIZECOLS, 1));
cases.push(makeCase('rowgroups_by_rows', SIZECOLS, 2500, ['-r', '1000', '-p', '100', '-s', '0']));
cases.push(makeCase('rowgroups_by_bytes', SIZECOLS, 5000, ['-g', '20000', '-c', 'gzip']));
cases.push(makeCase('dict_fallback', SIZECOLS, 3000, ['-d', '200', '-r', '1500']));
cases.push(makeCase('no_dict_no_stats_no_index', SIZECOLS, 700, ['-D', '-S', '-I', '-c', 'none']));
cases.push(makeCase('batch_append', SIZECOLS, 700, ['-b', '-r', '300']));

for (const c of cases) check(`pqtool write ${c.name}`, c.ok, c.err);

// ---------------------------------------------------------------------------
// 1. our reader (pqtool dump) reads back our files exactly
for (const c of cases) {
  if (!c.ok) continue;
  const r = pqtool(['dump', c.file]);
  const got = r.stdout.split('\n').filter(Boolean).map(l => JSON.parse(l));
  eq(`tslite reads tslite ${c.name}`, got, c.rows);
}

// ---------------------------------------------------------------------------
// 2. DuckDB reads our files
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
function duckExpr(c) {
  const q = `"${c.name}"`;
  switch (c.kind) {
    case 'int64': case 'int32': return `CAST(${q} AS VARCHAR)`;
    // DuckDB reads TIMESTAMP(NANOS, UTC) as TIMESTAMPTZ at microsecond precision
    case 'ts': case 'tsus': return `CAST(epoch_us(${q}) AS VARCHAR)`;
    case 'tsms': return `CAST(epoch_ms(${q}) AS VARCHAR)`;
    case 'date': return `CAST(date_diff('day', DATE '1970-01-01', ${q}) AS VARCHAR)`;
    case 'bytes': return `CAST(${q} AS VARCHAR)`;
    default: return q;
  }
}
function duckCanon(c, v) {
  if (v === null) return null;
  if (c.kind === 'ts') return String(BigInt(v) / 1000n);   // positive values: truncation = floor
  if (c.kind === 'tsus') return v;
  return v;
}
for (const c of cases) {
  if (!c.ok) continue;
  if (/^enc_.*_bss$/.test(c.name) && !['double', 'dictdbl'].includes(c.cols[0].kind)) {
    // BYTE_STREAM_SPLIT for integers (format 2.11) is not read by DuckDB 1.5
    skip(`duckdb reads tslite ${c.name}`, 'DuckDB reads BYTE_STREAM_SPLIT only for FLOAT/DOUBLE');
    continue;
  }
  try {
    const sql = `SELECT ${c.cols.map(duckExpr).join(', ')} FROM read_parquet('${c.file}')`;
    const res = await con.runAndReadAll(sql);
    const got = res.getRows().map(r => r.map(v => (typeof v === 'bigint' ? String(v) : v)));
    const exp = c.rows.map(r => r.map((v, j) => duckCanon(c.cols[j], v)));
    eq(`duckdb reads tslite ${c.name}`, got, exp);
  } catch (e) {
    check(`duckdb reads tslite ${c.name}`, false, e.message);
  }
}
// DuckDB sees our statistics and the row-group layout
{
  const c = cases.find(x => x.name === 'rowgroups_by_rows');
  const res = await con.runAndReadAll(`SELECT row_group_id, row_group_num_rows, stats_min_value, stats_max_value, stats_null_count
    FROM parquet_metadata('${c.file}') WHERE path_in_schema='t' ORDER BY row_group_id`);
  const got = res.getRows().map(r => r.map(v => (typeof v === 'bigint' ? String(v) : v)));
  eq('duckdb sees 3 row groups with time statistics', got.map(r => [r[0], r[1], r[4]]),
    [['0', '1000', '0'], ['1', '1000', '0'], ['2', '500', '0']]);
  const fmt = t => { const d = new Date(Number(BigInt(t) / 1000000n)); return d.toISOString().replace('T', ' ').replace('Z', '').replace(/\.000$/, ''); };
  check('duckdb time min statistic', String(got[1][2]).startsWith(fmt(c.rows[1000][0])), `${got[1][2]} vs ${fmt(c.rows[1000][0])}`);
}

// ---------------------------------------------------------------------------
// 3. hyparquet reads our files
const parsers = { timestampFromNanoseconds: n => n, timestampFromMicroseconds: n => n,
  timestampFromMilliseconds: n => n, dateFromDays: d => d };
function hyCanon(c, v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return String(v);
  if (['int32', 'date'].includes(c.kind)) return String(v);
  if (c.kind === 'bytes') return Buffer.from(v).toString('latin1');
  return v;
}
for (const c of cases) {
  if (!c.ok) continue;
  try {
    const buf = fs.readFileSync(c.file);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const objs = await parquetReadObjects({ file: ab, compressors, parsers });
    const got = objs.map(o => c.cols.map(col => hyCanon(col, o[col.name])));
    eq(`hyparquet reads tslite ${c.name}`, got, c.rows);
  } catch (e) {
    check(`hyparquet reads tslite ${c.name}`, false, e.message);
  }
}

// hyparquet decodes our page index: OffsetIndex rows and ColumnIndex bounds per 100-row page
{
  const c = cases.find(x => x.name === 'rowgroups_by_rows');
  const buf = fs.readFileSync(c.file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const md = hy.parquetMetadata(ab, { parsers });
  const rg = md.row_groups[1];
  const col = rg.columns[0];
  const view = new DataView(ab);
  const oi = hy.readOffsetIndex({ view, offset: Number(col.offset_index_offset) });
  const ci = hy.readColumnIndex({ view, offset: Number(col.column_index_offset) }, md.schema[1], parsers);
  eq('hyparquet reads our sorting_columns', md.row_groups.map(g => (g.sorting_columns || []).map(x => [x.column_idx, x.descending, x.nulls_first])),
    [[[0, false, false]], [[0, false, false]], [[0, false, false]]]);
  eq('hyparquet reads our OffsetIndex (10 pages of 100 rows)', oi.page_locations.map(l => Number(l.first_row_index)),
    [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
  check('OffsetIndex pages lie inside the column chunk', oi.page_locations.every(l =>
    Number(l.offset) >= Number(col.meta_data.data_page_offset) &&
    Number(l.offset) + l.compressed_page_size <= Number(col.meta_data.data_page_offset) + Number(col.meta_data.total_compressed_size)));
  eq('hyparquet reads our ColumnIndex min/max per page',
    [ci.min_values.map(String), ci.max_values.map(String), ci.boundary_order, ci.null_pages.every(b => b === false)],
    [[...Array(10).keys()].map(k => c.rows[1000 + 100 * k][0]), [...Array(10).keys()].map(k => c.rows[1099 + 100 * k][0]),
      'ASCENDING', true]);
  // null counts of the nullable double column match the rows
  const ci2 = hy.readColumnIndex({ view, offset: Number(rg.columns[2].column_index_offset) }, md.schema[3], parsers);
  const nulls = [...Array(10).keys()].map(k => c.rows.slice(1000 + 100 * k, 1100 + 100 * k).filter(r => r[2] === null).length);
  eq('hyparquet reads our ColumnIndex null counts', ci2.null_counts.map(Number), nulls);
}

// ---------------------------------------------------------------------------
// 4. our reader reads DuckDB's files (the oracle is DuckDB reading its own file)
await con.run(`CREATE TABLE src AS SELECT
    i::BIGINT AS i64,
    (i * 7 - 300)::INTEGER AS i32,
    (i % 100)::SMALLINT AS i16,
    CASE WHEN i % 5 = 0 THEN NULL ELSE ((i % 37) * 0.25)::DOUBLE END AS dbl,
    (i % 9)::FLOAT / 4 AS flt,
    CASE WHEN i % 7 = 0 THEN NULL ELSE 'host_' || (i % 23) END AS host,
    CASE WHEN i % 3 = 0 THEN NULL ELSE repeat('s', i % 40) || i END AS str,
    (i % 2 = 0) AS b,
    make_timestamp_ns(1700000000000000000 + i * 1000000007) AS tsns,
    make_timestamp(1700000000000000 + i * 1000) AS tsus,
    (DATE '2024-01-01' + (i % 400)::INTEGER) AS d,
    (i * 3)::DECIMAL(12, 2) AS dec
  FROM range(0, 5000) t(i)`);
const srcCols = ['i64', 'i32', 'i16', 'dbl', 'flt', 'host', 'str', 'b', 'tsns', 'tsus', 'd', 'dec'];
// what pqtool dump prints for each column
const oracle = `SELECT CAST(i64 AS VARCHAR), CAST(i32 AS VARCHAR), CAST(i16 AS VARCHAR), dbl, CAST(flt AS DOUBLE),
  host, str, b, CAST(epoch_ns(tsns) AS VARCHAR), CAST(epoch_us(tsus) AS VARCHAR),
  CAST(date_diff('day', DATE '1970-01-01', d) AS VARCHAR), CAST(dec AS DOUBLE) FROM src`;
const expRows = (await con.runAndReadAll(oracle)).getRows().map(r => r.map(v => (typeof v === 'bigint' ? String(v) : v)));
const duckFiles = [];
for (const comp of ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4_raw']) {
  for (const ver of ['v1', 'v2']) {
    duckFiles.push({ name: `${comp}_${ver}`, opts: `COMPRESSION ${comp}, PARQUET_VERSION ${ver}, ROW_GROUP_SIZE 2048` });
  }
}
duckFiles.push({ name: 'nodict', opts: 'COMPRESSION snappy, DICTIONARY_SIZE_LIMIT 1' });
for (const f of duckFiles) {
  const file = path.join(dir, `duck_${f.name}.parquet`);
  try {
    await con.run(`COPY src TO '${file}' (FORMAT parquet, ${f.opts})`);
  } catch (e) {
    // an option this DuckDB does not know: say so rather than fail silently
    skip(`tslite reads duckdb ${f.name}`, e.message.split('\n')[0]);
    continue;
  }
  const r = pqtool(['dump', '-c', srcCols.join(','), file]);
  if (r.status !== 0) { check(`tslite reads duckdb ${f.name}`, false, r.stderr); continue; }
  const got = r.stdout.split('\n').filter(Boolean).map(l => JSON.parse(l));
  eq(`tslite reads duckdb ${f.name}`, got, expRows);
}
// BROTLI (DuckDB offers it) is not supported: a clear error naming the codec
{
  const f = path.join(dir, 'duck_brotli.parquet');
  await con.run(`COPY (SELECT i FROM range(0, 10) t(i)) TO '${f}' (FORMAT parquet, COMPRESSION brotli)`);
  const r = pqtool(['dump', f]);
  eq('brotli files are refused with the codec named', [r.status, r.stderr.trim()],
    [1, 'error 1: parquet: column "i": compression codec BROTLI is not supported (supported: UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW)']);
}
// the v2 and no-dictionary files really exercise the other encodings
{
  const encs = async f => (await con.runAndReadAll(`SELECT DISTINCT encodings FROM parquet_metadata('${path.join(dir, f)}') ORDER BY 1`)).getRows().map(r => r[0]).join(' ');
  const v2 = await encs('duck_zstd_v2.parquet');
  check('duckdb v2 file uses DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, RLE_DICTIONARY',
    ['DELTA_BINARY_PACKED', 'DELTA_LENGTH_BYTE_ARRAY', 'RLE_DICTIONARY'].every(e => v2.includes(e)), v2);
  // high-cardinality doubles and floats: DuckDB v2 picks BYTE_STREAM_SPLIT
  const f = path.join(dir, 'duck_bss.parquet');
  await con.run(`COPY (SELECT sqrt(i)::DOUBLE AS r, (sqrt(i) * 3)::FLOAT AS f FROM range(0, 3000) t(i)) TO '${f}' (FORMAT parquet, PARQUET_VERSION v2, COMPRESSION zstd)`);
  const bss = await encs('duck_bss.parquet');
  check('duckdb v2 doubles use BYTE_STREAM_SPLIT', bss.includes('BYTE_STREAM_SPLIT'), bss);
  const exp = (await con.runAndReadAll(`SELECT r, CAST(f AS DOUBLE) FROM '${f}'`)).getRows();
  const r = pqtool(['dump', f]);
  eq('tslite reads duckdb BYTE_STREAM_SPLIT doubles and floats', r.stdout.split('\n').filter(Boolean).map(l => JSON.parse(l)), exp);
  const nd = await encs('duck_nodict.parquet');
  check('duckdb no-dictionary file is PLAIN only', nd === 'PLAIN', nd);
}
// pruning on a DuckDB file: row groups by statistics, exact rows after filtering
{
  const file = path.join(dir, 'duck_zstd_v1.parquet');
  const r = pqtool(['dump', '-c', 'i64', '-f', 'i64:3000:3100', file]);
  const got = r.stdout.split('\n').filter(Boolean).map(l => BigInt(JSON.parse(l)[0]));
  check('tslite prunes duckdb row groups (i64 3000..3100)', got.length > 0 && got.length <= 2048 && got.includes(3000n) && got.includes(3100n),
    `got ${got.length} rows`);
}

// page pruning on our file with a page index: only overlapping pages are returned
{
  const c = cases.find(x => x.name === 'rowgroups_by_rows');
  const t0 = BigInt(c.rows[1234][0]), t1 = BigInt(c.rows[1250][0]);
  const r = pqtool(['dump', '-c', 't', '-f', `t:${t0}:${t1}`, c.file]);
  const got = r.stdout.split('\n').filter(Boolean).map(l => JSON.parse(l)[0]);
  // pages hold 100 rows: rows 1200..1299 of the second row group survive
  eq('page index prunes to one 100-row page', [got.length, got[0], got[got.length - 1]],
    [100, c.rows[1200][0], c.rows[1299][0]]);
}

// timestamps written with isAdjustedToUTC=false: DuckDB reads nanoseconds exactly
{
  const f = path.join(dir, 'local.parquet');
  const fu = path.join(dir, 'utc.parquet');
  const input = 't:ts,u:tsus\n1700000000123456789\t1700000000123456\n-1\t5\n';
  const w = pqtool(['write', '-L', f], input), wu = pqtool(['write', fu], input);
  check('pqtool write local-time and UTC files', w.status === 0 && wu.status === 0, w.stderr + wu.stderr);
  const q = x => `SELECT typeof(t), CAST(epoch_ns(t) AS VARCHAR), typeof(u), CAST(epoch_us(u) AS VARCHAR) FROM '${x}'`;
  eq('duckdb reads local NANOS exactly as TIMESTAMP_NS', (await con.runAndReadAll(q(f))).getRows(),
    [['TIMESTAMP_NS', '1700000000123456789', 'TIMESTAMP', '1700000000123456'], ['TIMESTAMP_NS', '-1', 'TIMESTAMP', '5']]);
  eq('duckdb reads UTC NANOS as TIMESTAMPTZ (microseconds)', (await con.runAndReadAll(q(fu))).getRows(),
    [['TIMESTAMP WITH TIME ZONE', '1700000000123456000', 'TIMESTAMP WITH TIME ZONE', '1700000000123456'],
      ['TIMESTAMP WITH TIME ZONE', '0', 'TIMESTAMP WITH TIME ZONE', '5']]);  // truncated toward zero
  const m = JSON.parse(pqtool(['meta', f]).stdout), mu = JSON.parse(pqtool(['meta', fu]).stdout);
  eq('tslite reads the UTC flag back', [m.columns.map(c => [c.kind, c.utc]), mu.columns.map(c => [c.kind, c.utc])],
    [[[5, 0], [9, 0]], [[5, 1], [9, 1]]]);
}

// NaN: DuckDB orders NaN above every number, so a chunk holding NaN must not
// carry NaN-free bounds (DuckDB would prune the NaN row for x > 100)
{
  const f = path.join(dir, 'nan.parquet');
  const w = pqtool(['write', f], 'x:double\nnan\n1\n2.5\n-inf\n');
  check('pqtool write NaN file', w.status === 0, w.stderr);
  const got = (await con.runAndReadAll(`SELECT count(*) FILTER (WHERE x > 100), count(*) FILTER (WHERE isnan(x)), min(x) FROM '${f}'`)).getRows();
  eq('duckdb filters a NaN chunk correctly', got.map(r => r.map(v => (typeof v === 'bigint' ? Number(v) : v))), [[1, 1, -Infinity]]);
  const r = pqtool(['dump', f]);
  eq('tslite reads NaN and -Infinity back', r.stdout, '["NaN"]\n[1]\n[2.5]\n["-Infinity"]\n');
}

// corrupt files: pqtool reports the reader's CORRUPT code (11) and message, never crashes
{
  const good = fs.readFileSync(path.join(dir, 'duck_snappy_v1.parquet'));
  const bad = path.join(dir, 'bad.parquet');
  const tries = [
    ['truncated tail', good.subarray(0, good.length - 3), 'error 11: parquet: not a Parquet file (no PAR1 magic at the end)'],
    ['not parquet at all', Buffer.from('hello, world, this is not parquet'), 'error 11: parquet: not a Parquet file (no PAR1 magic at the end)'],
  ];
  // cut out the middle of the data (footer kept): page reads must fail cleanly
  const cut = Buffer.concat([good.subarray(0, 100), good.subarray(good.length - 2000)]);
  for (const [name, bytes, msg] of tries) {
    fs.writeFileSync(bad, bytes);
    const r = pqtool(['dump', bad]);
    eq(`corrupt file (${name}) rejected`, [r.status, r.stderr.trim()], [1, msg]);
  }
  fs.writeFileSync(bad, cut);
  const r = pqtool(['dump', bad]);
  check('corrupt file (middle cut out) rejected with CORRUPT', r.status === 1 && /^error 11: parquet: /.test(r.stderr), r.stderr);
  // zeroed page bytes inside a snappy chunk
  const z = Buffer.from(good);
  z.fill(0, 200, 260);
  fs.writeFileSync(bad, z);
  const r2 = pqtool(['dump', bad]);
  check('corrupt file (zeroed pages) rejected with CORRUPT', r2.status === 1 && /^error 11: parquet: column "/.test(r2.stderr), r2.stderr);
}

con.closeSync?.();
fs.rmSync(dir, { recursive: true, force: true });
done();
