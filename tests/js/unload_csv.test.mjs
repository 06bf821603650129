// ts_unload to CSV on file://: contents equal the query run directly (parsed
// with an independent reader of Timestream's CSV dialect), every CSV option,
// partitioning, 0 rows, file rollover, manifest/metadata consistency.
import fs from 'node:fs';
import path from 'node:path';
import { check, eq, tmpDir, done, SANITIZE, skip } from './lib.mjs';
import {
  run, queryJson, unload, parseCsv, readResultFile, readManifest, readMetadata,
  checkManifest, listFiles, urlToPath,
} from './unload_lib.mjs';

const dir = tmpDir('tslite-unload-csv-');
const db = path.join(dir, 't.db');
const NOTES = ['plain', 'a,b', 'Time"stream', 'Time\\stream', 'line1\nline2', 'cr\rx', 'zürich €',
  '😀 emoji', '', null, '"quoted"', ',', '\\', 'tab\there', '|pipe|', '~tilde~', '\\"both\\"'];
const sqlStr = (s) => (s === null ? 'NULL' : `'${s.replace(/'/g, "''")}'`);
run(db, `
CREATE TABLE notes(k INTEGER PRIMARY KEY, note TEXT);
INSERT INTO notes VALUES ${NOTES.map((n, i) => `(${i}, ${sqlStr(n)})`).join(',')};
CREATE TABLE m(id INTEGER, host TEXT, v REAL, ok BOOLEAN, ts TIMESTAMP, note TEXT, region TEXT);
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i<199)
INSERT INTO m SELECT i, 'host-' || (i%7), CASE WHEN i%11=0 THEN NULL ELSE (i-100)*0.25 END,
  CASE WHEN i%13=0 THEN NULL ELSE i%2 END, 1714564800000000000 + i*1000000007,
  (SELECT note FROM notes WHERE k = i % ${NOTES.length}),
  CASE i%3 WHEN 0 THEN 'us-east-1' WHEN 1 THEN 'eu-west-1' ELSE 'a/b c' END FROM c;
`);

// The oracle: the same rows with every value in its expected CSV text form,
// computed by SQLite itself (not by the C encoder).
const EXPECT_COLS = `CAST(id AS TEXT) AS id, host, v,
  CASE ok WHEN 1 THEN 'true' WHEN 0 THEN 'false' END AS ok,
  strftime('%Y-%m-%d %H:%M:%S', ts/1000000000, 'unixepoch') || '.' || printf('%09d', ts%1000000000) AS ts,
  note`;
const expected = queryJson(db, `SELECT ${EXPECT_COLS}, region FROM m ORDER BY m.id`);

// Compare parsed CSV rows (strings) with expected objects for columns cols.
function sameRows(name, got, exp, cols) {
  if (got.length !== exp.length) { check(name, false, `row count ${got.length} != ${exp.length}`); return; }
  for (let r = 0; r < exp.length; r++) {
    for (let c = 0; c < cols.length; c++) {
      const e = exp[r][cols[c]], g = got[r][c];
      const ok = cols[c] === 'v'
        ? (e === null ? g === null : g !== null && parseFloat(g) === e)
        : (e === null ? g === null : g === e);
      if (!ok) { check(name, false, `row ${r} col ${cols[c]}: got ${JSON.stringify(g)} expected ${JSON.stringify(e)}`); return; }
    }
    if (got[r].length !== cols.length) { check(name, false, `row ${r} has ${got[r].length} fields`); return; }
  }
  check(name, true);
}

const COLS = ['id', 'host', 'v', 'ok', 'ts', 'note', 'region'];
const SELECT = 'SELECT id, host, v, ok, ts, note, region FROM m ORDER BY id';

// 1. Defaults: gzip, ',', '\', no header.
{
  const dest = path.join(dir, 'd1');
  const r = unload(db, SELECT, `file://${dest}`);
  check('default: succeeds', r.result, r.error);
  if (r.result) {
    eq('default: rows', r.result.rows, 200);
    const man = readManifest(r.result);
    eq('default: one .gz file', man.result_files.map((f) => path.extname(f.url)), ['.gz']);
    check('default: file layout results/<id>_<uuid>.gz',
      /\/d1\/results\/[A-Z2-7]{26}_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.gz$/.test(man.result_files[0].url),
      man.result_files[0].url);
    check('default: manifest/metadata names share the id',
      r.result.manifestFile.replace('_manifest.json', '') === r.result.metadataFile.replace('_metadata.json', '')
      && r.result.manifestFile.startsWith(`file://${dest}/`), JSON.stringify(r.result));
    eq('default: manifest consistent with files', checkManifest(r.result, dest), '');
    eq('default: result_format', man.query_metadata.result_format, 'CSV');
    eq('default: result_version', man.query_metadata.result_version, 'Amazon Timestream version 1.0.0');
    const rows = parseCsv(readResultFile(man.result_files[0].url));
    sameRows('default: values equal the query', rows, expected, COLS);
    const meta = readMetadata(r.result);
    eq('default: metadata ColumnInfo', meta.ColumnInfo, [
      { Name: 'id', Type: { ScalarType: 'BIGINT' } }, { Name: 'host', Type: { ScalarType: 'VARCHAR' } },
      { Name: 'v', Type: { ScalarType: 'DOUBLE' } }, { Name: 'ok', Type: { ScalarType: 'BOOLEAN' } },
      { Name: 'ts', Type: { ScalarType: 'TIMESTAMP' } }, { Name: 'note', Type: { ScalarType: 'VARCHAR' } },
      { Name: 'region', Type: { ScalarType: 'VARCHAR' } }]);
    eq('default: metadata Author', meta.Author, { Name: 'Amazon Timestream', MetadataFileVersion: '1.0' });
  }
}

// 2. compression none, header, '|' delimiter, '~' escape.
{
  const dest = path.join(dir, 'd2');
  const r = unload(db, SELECT, `file://${dest}`, { compression: 'NONE', include_header: 'true', field_delimiter: '|', escaped_by: '~' });
  check('options: succeeds', r.result, r.error);
  if (r.result) {
    const man = readManifest(r.result);
    eq('options: one .csv file', man.result_files.map((f) => path.extname(f.url)), ['.csv']);
    eq('options: manifest consistent', checkManifest(r.result, dest), '');
    const text = readResultFile(man.result_files[0].url);
    const rows = parseCsv(text, '|', '~');
    eq('options: header row', rows[0], COLS);
    sameRows('options: values equal the query', rows.slice(1), expected, COLS);
    check('options: quote escaped with ~', text.includes('Time~"stream'), 'no Time~"stream');
    check('options: backslash not escaped with ~', text.includes('Time\\stream'), 'no Time\\stream');
    check('options: pipe value quoted', text.includes('"~|pipe~|"') || text.includes('"|pipe|"'), 'pipe');
    check('options: comma value unquoted with | delimiter', text.includes('|a,b|'), 'a,b');
    eq('options: row count = manifest', man.result_files[0].file_metadata.row_count, 200);
  }
}

// 2b. escaped_by '"' gives RFC 4180 CSV: DuckDB's CSV reader (an
// independent parser) reads the values back.
{
  const dest = path.join(dir, 'd2b');
  const r = unload(db, SELECT, `file://${dest}`, { compression: 'none', include_header: true, escaped_by: '"' });
  check('rfc4180: succeeds', r.result, r.error);
  if (r.result) {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const file = urlToPath(readManifest(r.result).result_files[0].url);
    const got = (await duck.runAndReadAll(`SELECT * FROM read_csv('${file}', header = true, quote = '"', escape = '"',
      delim = ',', all_varchar = true, new_line = '\\n')`)).getRowsJson();
    // DuckDB reads the empty string "" and NULL both as NULL: compare with that folding.
    const fold = (v) => (v === '' ? null : v);
    sameRows('rfc4180: DuckDB read_csv reads the values', got.map((row) => row.map(fold)),
      expected.map((e) => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, fold(v)]))), COLS);
  }
}

// 3. Header honours the escape rules; header-only columns with odd names.
{
  const dest = path.join(dir, 'd3');
  const r = unload(db, 'SELECT 1 AS "a,b", 2 AS "q""x"', `file://${dest}`, { compression: 'none', include_header: true });
  check('header escaping: succeeds', r.result, r.error);
  if (r.result) {
    const text = readResultFile(readManifest(r.result).result_files[0].url);
    eq('header escaping: text', text, '"a,b",q\\"x\n1,2\n');
  }
}

// 4. Partitioning: Hive folders, partition column left out, values match.
{
  const dest = path.join(dir, 'd4');
  const r = unload(db, SELECT, `file://${dest}`, { partitioned_by: ['region'], include_header: true });
  check('partition: succeeds', r.result, r.error);
  if (r.result) {
    eq('partition: manifest consistent', checkManifest(r.result, dest), '');
    eq('partition: folders', [...new Set(listFiles(path.join(dest, 'results')).map((f) => f.split('/')[0]))].sort(),
      ['region=a%2Fb c', 'region=eu-west-1', 'region=us-east-1']);
    const man = readManifest(r.result);
    const byRegion = { 'region=a%2Fb c': 'a/b c', 'region=eu-west-1': 'eu-west-1', 'region=us-east-1': 'us-east-1' };
    let all = [];
    for (const f of man.result_files) {
      const folder = urlToPath(f.url).split('/').slice(-2)[0];
      const rows = parseCsv(readResultFile(f.url));
      eq(`partition: header of ${folder} leaves out region`, rows[0], COLS.slice(0, 6));
      const exp = expected.filter((e) => e.region === byRegion[folder]);
      sameRows(`partition: rows of ${folder}`, rows.slice(1), exp, COLS.slice(0, 6));
      eq(`partition: row_count of ${folder}`, f.file_metadata.row_count, exp.length);
      all = all.concat(rows.slice(1));
    }
    eq('partition: all rows', all.length, 200);
    eq('partition: metadata still lists the partition column last',
      readMetadata(r.result).ColumnInfo.map((c) => c.Name), COLS);
  }
  // Two partition columns, NULL partition values.
  const dest2 = path.join(dir, 'd4b');
  const r2 = unload(db, "SELECT id, CASE WHEN id%2=0 THEN 'even' END AS par, id%3 AS m3 FROM m WHERE id < 12",
    `file://${dest2}`, { partitioned_by: ['par', 'm3'], compression: 'none' });
  check('partition 2 cols: succeeds', r2.result, r2.error);
  if (r2.result) {
    eq('partition 2 cols: folders', [...new Set(listFiles(path.join(dest2, 'results')).map((f) => f.split('/').slice(0, 2).join('/')))].sort(),
      ['par=__HIVE_DEFAULT_PARTITION__/m3=0', 'par=__HIVE_DEFAULT_PARTITION__/m3=1', 'par=__HIVE_DEFAULT_PARTITION__/m3=2',
        'par=even/m3=0', 'par=even/m3=1', 'par=even/m3=2']);
    const f = readManifest(r2.result).result_files.find((x) => x.url.includes('par=even/m3=0/'));
    eq('partition 2 cols: rows of par=even/m3=0', f && readResultFile(f.url), '0\n6\n');
    eq('partition 2 cols: manifest consistent', checkManifest(r2.result, dest2), '');
  }
}

// 5. More than 100 partitions: error, no manifest, no complete files left.
{
  const dest = path.join(dir, 'd5');
  const r = unload(db, 'SELECT id, id AS p FROM m', `file://${dest}`, { partitioned_by: ['p'] });
  check('101 partitions: error', r.error && r.error.includes('ts_unload: the query produces more than 100 partitions (partitioned_by allows at most 100; new partition p=100/)'), r.error);
  eq('101 partitions: no manifest or metadata', fs.existsSync(dest) ? fs.readdirSync(dest).filter((f) => f.endsWith('.json')) : [], []);
  const ok = unload(db, 'SELECT id, id AS p FROM m WHERE id < 100', `file://${path.join(dir, 'd5b')}`, { partitioned_by: ['p'] });
  check('100 partitions: allowed', ok.result && ok.result.rows === 100, ok.error);
}

// 5b. A destination that cannot be written: the error names it; nothing
// is left behind; trailing slashes in the destination are ignored.
{
  const blocker = path.join(dir, 'blocker');
  fs.writeFileSync(blocker, 'a regular file where a directory is needed');
  const r = unload(db, 'SELECT id FROM m', `file://${blocker}/sub`, { compression: 'none' });
  check('unwritable destination: error names it', r.error && r.error.includes('ts_unload: cannot create file://')
    && r.error.includes(`file://${blocker}/sub`), r.error);
  const ok = unload(db, 'SELECT 1 AS x', `file://${dir}/slashes//`, { compression: 'none' });
  check('trailing slashes: urls have single slashes', ok.result && ok.result.manifestFile.startsWith(`file://${dir}/slashes/`)
    && !ok.result.manifestFile.includes('slashes//') && readManifest(ok.result).result_files[0].url.includes('/slashes/results/'), JSON.stringify(ok));
}

// 6. Zero rows: manifest without files, metadata with the columns.
{
  const dest = path.join(dir, 'd6');
  const r = unload(db, 'SELECT id, note FROM m WHERE 0', `file://${dest}`, { include_header: 'true' });
  check('0 rows: succeeds', r.result && r.result.rows === 0, r.error);
  if (r.result) {
    const man = readManifest(r.result);
    eq('0 rows: manifest', [man.result_files, man.query_metadata.total_row_count, man.query_metadata.content_length_in_bytes], [[], 0, 0]);
    eq('0 rows: metadata', readMetadata(r.result).ColumnInfo.map((c) => c.Type.ScalarType), ['BIGINT', 'VARCHAR']);
    eq('0 rows: no data files', listFiles(path.join(dest, 'results')), []);
  }
}

// 7. Type rules for columns without a declared type (mixed values).
{
  const dest = path.join(dir, 'd7');
  const r = unload(db, `SELECT column1 AS i_r, column2 AS i_t, column3 AS nul, column4 AS i, column5 AS b
    FROM (VALUES (1, 1, NULL, 5, 'x'), (2.5, 'two', NULL, 6, 'y'))`, `file://${dest}`, { compression: 'none' });
  check('mixed types: succeeds', r.result, r.error);
  if (r.result) {
    eq('mixed types: INTEGER+REAL=DOUBLE, +TEXT=VARCHAR, NULL=VARCHAR',
      readMetadata(r.result).ColumnInfo.map((c) => c.Type.ScalarType), ['DOUBLE', 'VARCHAR', 'VARCHAR', 'BIGINT', 'VARCHAR']);
    eq('mixed types: values keep their own text', readResultFile(readManifest(r.result).result_files[0].url), '1,1,,5,x\n2.5,two,,6,y\n');
  }
}

// 8. File rollover at max_file_size (16MB minimum): uncompressed and gzip.
if (SANITIZE) {
  skip('rollover', 'skipped under ASan (writes ~40 MB)');
} else {
  const dest = path.join(dir, 'd8');
  const r = unload(db, `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<400000)
    SELECT i, printf('%080d', i) AS pad FROM c`, `file://${dest}`, { compression: 'none', max_file_size: '16MB', include_header: true });
  check('rollover csv: succeeds', r.result && r.result.rows === 400000, r.error);
  if (r.result) {
    const man = readManifest(r.result);
    check('rollover csv: several files', man.result_files.length >= 2, man.result_files.length);
    check('rollover csv: each file <= 16MB', man.result_files.every((f) => f.file_metadata.content_length_in_bytes <= 16 * 1024 * 1024), JSON.stringify(man.result_files));
    check('rollover csv: all but the last file near 16MB', man.result_files.slice(0, -1).every((f) => f.file_metadata.content_length_in_bytes > 16 * 1024 * 1024 - 200),
      JSON.stringify(man.result_files));
    eq('rollover csv: manifest consistent', checkManifest(r.result, dest), '');
    let n = 0, last = 0, okOrder = true;
    for (const f of man.result_files) {
      // No special characters in this data: split lines directly (fast).
      const lines = readResultFile(f.url).split('\n');
      if (lines.pop() !== '') okOrder = false;
      if (lines[0] !== 'i,pad') okOrder = false;      // every file has the header
      for (const line of lines.slice(1)) {
        const v = Number(line.slice(0, line.indexOf(',')));
        n++; if (v !== last + 1) okOrder = false; last = v;
      }
    }
    check('rollover csv: every file has the header and rows stay in order', okOrder && n === 400000, `${n}`);
  }
  const dest2 = path.join(dir, 'd8b');
  const r2 = unload(db, `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<140000)
    SELECT i, hex(randomblob(120)) AS h FROM c`, `file://${dest2}`, { max_file_size: '16MB' });
  check('rollover gzip: succeeds', r2.result && r2.result.rows === 140000, r2.error);
  if (r2.result) {
    const man = readManifest(r2.result);
    check('rollover gzip: several files, each <= 16MB', man.result_files.length >= 2
      && man.result_files.every((f) => f.file_metadata.content_length_in_bytes <= 16 * 1024 * 1024), JSON.stringify(man.result_files));
    eq('rollover gzip: manifest consistent', checkManifest(r2.result, dest2), '');
    const n = man.result_files.reduce((a, f) => a + readResultFile(f.url).split('\n').length - 1, 0);
    eq('rollover gzip: rows read back', n, 140000);
  }
}

fs.rmSync(dir, { recursive: true, force: true });
done();
