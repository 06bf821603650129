// Parquet page CRC (issue 11): every page tslite writes carries PageHeader.crc
// (CRC-32 of the page bytes after the header); the reader verifies it, so a
// flipped bit in a page is an error naming the column, row group and page,
// not a different value.  DuckDB and hyparquet still read the files.
import { check, eq, skip, done, tmpDir, ROOT } from './lib.mjs';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const BUILD = process.env.TS_BUILD || path.join(ROOT, 'build');
const PQTOOL = path.join(BUILD, 'tools', 'pqtool');
const dir = tmpDir('tslite-pqcrc-');

let DuckDBInstance, parquetReadObjects, compressors;
try {
  ({ DuckDBInstance } = await import('@duckdb/node-api'));
  ({ parquetReadObjects } = await import('hyparquet'));
  ({ compressors } = await import('hyparquet-compressors'));
} catch (e) {
  skip('parquet crc', `node modules missing: ${e.message}`);
  done();
  process.exit(0);
}

function pqtool(args, input) {
  const env = { ...process.env };
  if (process.env.TS_PRELOAD) { env.LD_PRELOAD = process.env.TS_PRELOAD; env.ASAN_OPTIONS = 'detect_leaks=1:abort_on_error=1'; }
  return spawnSync(PQTOOL, args, { input, encoding: 'utf8', maxBuffer: 1 << 26, env });
}

// A value whose 8 little-endian bytes are easy to find in an uncompressed file.
const MARK = 0x1122334455667788n;
const N = 50;
let input = 'v:int64:plain,s:string:null\n';
for (let i = 0; i < N; i++) input += `${MARK + BigInt(i)}\t${i % 5 === 0 ? '\\N' : 'str' + i}\n`;
const inst = await DuckDBInstance.create(':memory:');
const duck = await inst.connect();

for (const codec of ['none', 'zstd', 'gzip']) {
  const file = path.join(dir, `crc_${codec}.parquet`);
  const w = pqtool(['write', '-c', codec, '-p', '20', file], input);
  check(`crc ${codec}: write`, w.status === 0, w.stderr);
  const r = pqtool(['dump', file]);
  check(`crc ${codec}: tslite reads the intact file`, r.status === 0 && r.stdout.trim().split('\n').length === N, r.stderr);
  const dr = await duck.runAndReadAll(`SELECT count(*)::INTEGER AS n, sum(v - ${MARK})::BIGINT AS s FROM '${file}'`);
  eq(`crc ${codec}: DuckDB reads it`, JSON.stringify(dr.getRowObjectsJson()), JSON.stringify([{ n: N, s: String(N * (N - 1) / 2) }]));
  const buf = fs.readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const rows = await parquetReadObjects({ file: ab, compressors });
  eq(`crc ${codec}: hyparquet reads it`, rows.length, N);

  // Flip one bit inside a data page body: for the uncompressed file, in the
  // 30th value of v (second page); for compressed files, in the middle of the
  // first column chunk's second page.
  const bad = Buffer.from(buf);
  let at;
  if (codec === 'none') {
    const needle = Buffer.alloc(8); needle.writeBigInt64LE(MARK + 30n);
    at = bad.indexOf(needle);
    check(`crc ${codec}: value found in the file`, at > 0, 'marker not found');
  } else {
    // a byte a quarter into the data (before the page index and footer)
    const footerLen = bad.readUInt32LE(bad.length - 8);
    at = Math.floor((bad.length - 8 - footerLen) / 4);
  }
  bad[at] ^= 0x10;
  const badFile = path.join(dir, `crc_${codec}_bad.parquet`);
  fs.writeFileSync(badFile, bad);
  const rb = pqtool(['dump', badFile]);
  check(`crc ${codec}: flipped bit is an error, not a value`, rb.status !== 0, `exit ${rb.status}, ${rb.stdout.slice(0, 200)}`);
  check(`crc ${codec}: error names the column and the CRC check`,
    /column "[vs]", row group 0, row \d+: (data|dictionary) page fails its CRC check \(stored [0-9a-f]{8}, computed [0-9a-f]{8}\): the file is damaged/.test(rb.stderr),
    rb.stderr);
}

// The same through SQL: an UNLOAD file, then a parquet table over a damaged copy.
{
  const file = path.join(dir, 'crc_none.parquet');
  const bad = path.join(dir, 'crc_none_bad.parquet');
  const { sqlite } = await import('./lib.mjs');
  const db = path.join(dir, 'x.db');
  const r1 = sqlite(db, `CREATE VIRTUAL TABLE temp.p USING parquet('file://${file}'); SELECT count(*) FROM temp.p;\n`);
  eq('crc sql: intact file', r1.stdout.trim(), String(N));
  const r2 = sqlite(db, `CREATE VIRTUAL TABLE temp.p USING parquet('file://${bad}'); SELECT sum(v) FROM temp.p;\n`);
  check('crc sql: damaged file is an error naming the file and column',
    r2.status !== 0 && r2.stderr.includes(`parquet: reading file://${bad}`) && r2.stderr.includes('column "v", row group 0, row 20: data page fails its CRC check'),
    r2.stderr);
}

duck.closeSync?.();
fs.rmSync(dir, { recursive: true, force: true });
done();
