// The parquet virtual table reads files written by DuckDB (each codec,
// several row groups, nulls, every supported type) and returns exactly what
// DuckDB returns, with and without filters (which prune row groups/pages).
// Also: error messages, unsupported columns, a replaced file, 0 rows.
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { check, eq, tmpDir, done, SANITIZE } from './lib.mjs';
import { sqlite } from './lib.mjs';
import { run } from './unload_lib.mjs';

const dir = tmpDir('tslite-pqvtab-');
const db = path.join(dir, 't.db');
const duck = await (await DuckDBInstance.create(':memory:')).connect();
const duckRows = async (sql) => (await duck.runAndReadAll(sql)).getRowObjectsJson();
const N = 20000;

await duck.run(`CREATE TABLE src AS SELECT i::BIGINT AS id, (i % 1000)::INTEGER AS small,
  CASE WHEN i % 7 = 0 THEN NULL ELSE ((i - 5000) * 0.125)::DOUBLE END AS v, (i * 0.5)::FLOAT AS f,
  CASE WHEN i % 5 = 0 THEN NULL ELSE 'host-' || (i % 37) END AS host, i % 3 = 0 AS flag,
  TIMESTAMP '2024-05-01 00:00:00' + INTERVAL (i) SECOND AS ts, DATE '2024-01-01' + (i % 400)::INTEGER AS day,
  CASE WHEN i % 11 = 0 THEN NULL ELSE ('\\x' || lpad(to_hex(i % 256), 2, '0'))::BLOB END AS bin
  FROM range(${N}) t(i)`);

// Compare the parquet table (via the sqlite3 shell) with DuckDB on the same file.
const SQL_COLS_NAMES = ['ids', 'small', 'v', 'f', 'host', 'flag', 'ts_ns', 'day', 'bin'];
const SQL_COLS = `CAST(id AS TEXT) AS ids, small, v, f, host, flag, CAST(ts AS TEXT) AS ts_ns, day, CASE WHEN bin IS NULL THEN NULL ELSE hex(bin) END AS bin`;
const DUCK_COLS = `CAST(id AS VARCHAR) AS ids, small, v, f::DOUBLE AS f, host, CASE WHEN flag THEN 1 ELSE 0 END AS flag,
  CAST(epoch_ns(ts) AS VARCHAR) AS ts_ns, CAST(day AS VARCHAR) AS day, CASE WHEN bin IS NULL THEN NULL ELSE upper(hex(bin)) END AS bin`;

function same(name, got, exp) {
  if (got.length !== exp.length) { check(name, false, `row count ${got.length} != ${exp.length}`); return; }
  for (let r = 0; r < exp.length; r++) {
    for (const k of Object.keys(exp[r])) {
      if (got[r][k] !== exp[r][k]) { check(name, false, `row ${r} col ${k}: got ${JSON.stringify(got[r][k])} expected ${JSON.stringify(exp[r][k])}`); return; }
    }
  }
  check(name, true);
}

const FILTERS = [
  ['none', '1', '1'],
  ['id range', 'id BETWEEN 2500 AND 2600', 'id BETWEEN 2500 AND 2600'],
  ['id =', 'id = 4321', 'id = 4321'],
  ['host = text', "host = 'host-3'", "host = 'host-3'"],
  ['v < 0 and id >= 1000', 'v < 0 AND id >= 1000', 'v < 0 AND id >= 1000'],
  ['ts >= (ns)', "ts >= 1714525200000000000", "ts >= TIMESTAMP '2024-05-01 01:00:00'"],
  ['ts > non-integral us', 'ts > 1714525200000000001', "ts > TIMESTAMP '2024-05-01 01:00:00'"],
  ['ts = not representable', 'ts = 1714525200000000001', 'false'],
  ['small <= 3', 'small <= 3', 'small <= 3'],
  ['id = NULL', 'id = NULL', 'false'],
  ['host = text COLLATE NOCASE (no bytewise pruning)', "host = 'HOST-3' COLLATE NOCASE", "lower(host) = 'host-3'"],
  ['host > text', "host > 'host-35'", "host > 'host-35'"],
  ['id IN list', 'id IN (7, 4097, 19999)', 'id IN (7, 4097, 19999)'],
  ['id > text', "id > 'abc'", 'false'],
];

// Under ASan two codecs keep the suite fast; the normal pass runs all four.
for (const codec of SANITIZE ? ['snappy', 'zstd'] : ['uncompressed', 'snappy', 'gzip', 'zstd']) {
  const file = path.join(dir, `duck-${codec}.parquet`);
  await duck.run(`COPY (SELECT * FROM src ORDER BY id) TO '${file}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 4096)`);
  const nRg = (await duckRows(`SELECT count(DISTINCT row_group_id)::INT AS n FROM parquet_metadata('${file}')`))[0].n;
  check(`${codec}: DuckDB wrote several row groups`, nRg >= 2, `${nRg}`);
  // One sqlite3 process per file: each filter's rows as one JSON line.
  const JCOLS = SQL_COLS_NAMES.map((c) => `'${c}', ${c}`).join(', ');
  const out = run(db, `CREATE VIRTUAL TABLE temp.p USING parquet('file://${file}');\n`
    + FILTERS.map(([, sqlWhere]) => `SELECT json_group_array(json_object(${JCOLS})) FROM
      (SELECT ${SQL_COLS} FROM temp.p WHERE ${sqlWhere} ORDER BY p.id);`).join('\n') + '\n').trim().split('\n');
  for (let k = 0; k < FILTERS.length; k++) {
    const [label, , duckWhere] = FILTERS[k];
    const got = JSON.parse(out[k]);
    const exp = await duckRows(`SELECT ${DUCK_COLS} FROM read_parquet('${file}') WHERE ${duckWhere} ORDER BY id`);
    same(`${codec}: ${label}: rows equal DuckDB's (${exp.length})`, got, exp);
  }
}

// Declared types follow the file schema.
{
  const file = path.join(dir, 'duck-zstd.parquet');
  const r = sqlite(db, `CREATE VIRTUAL TABLE temp.p USING parquet('file://${file}');
SELECT group_concat(name || ':' || type, ',') FROM pragma_table_info('p', 'temp');
SELECT rowid, id FROM temp.p WHERE id IN (0, 4095, 4096, ${N - 1}) ORDER BY rowid;\n`);
  eq('declared columns', r.stdout.trim().split('\n'), [
    'id:INTEGER,small:INTEGER,v:REAL,f:REAL,host:TEXT,flag:BOOLEAN,ts:TIMESTAMP,day:DATE,bin:BLOB',
    '0|0', '4095|4095', '4096|4096', `${N - 1}|${N - 1}`]);
}

// Pruning is real: corrupt every column chunk of the last row group; a
// query whose filter excludes that row group by its statistics still works,
// a full scan reports the corruption.
{
  const file = path.join(dir, 'prune.parquet');
  await duck.run(`COPY (SELECT * FROM src ORDER BY id) TO '${file}' (FORMAT parquet, COMPRESSION uncompressed, ROW_GROUP_SIZE 4096)`);
  const chunks = await duckRows(`SELECT row_group_id::INT AS rg, data_page_offset::BIGINT AS off,
    coalesce(dictionary_page_offset, data_page_offset)::BIGINT AS start, total_compressed_size::BIGINT AS n
    FROM parquet_metadata('${file}')`);
  const last = Math.max(...chunks.map((c) => c.rg));
  const buf = fs.readFileSync(file);
  for (const c of chunks.filter((x) => x.rg === last)) buf.fill(0xff, Number(c.start), Number(c.start) + Number(c.n));
  fs.writeFileSync(file, buf);
  const lo = Number((await duckRows(`SELECT stats_min_value AS m FROM parquet_metadata('${file}')
    WHERE row_group_id = ${last} AND path_in_schema = 'id'`))[0].m);
  const r1 = sqlite(db, `CREATE VIRTUAL TABLE temp.p USING parquet('file://${file}');
SELECT count(*), sum(id) FROM temp.p WHERE id < ${lo};
`);
  eq('pruning: filter skips the corrupt row group', [r1.stdout.trim(), r1.status, r1.stderr], [`${lo}|${(lo * (lo - 1)) / 2}`, 0, '']);
  const r2 = sqlite(db, `CREATE VIRTUAL TABLE temp.p USING parquet('file://${file}');
SELECT count(*), sum(id) FROM temp.p WHERE host = 'host-1' AND id < ${lo - 4096};
`);
  check('pruning: two constraints', r2.status === 0, r2.stderr);
  const r3 = sqlite(db, `CREATE VIRTUAL TABLE temp.p USING parquet('file://${file}'); SELECT sum(id) FROM temp.p;\n`);
  check('pruning: a full scan reports the corruption', r3.status !== 0 && /parquet: reading file:\/\/.*prune\.parquet/.test(r3.stderr), r3.stderr);
}

// 0 rows.
{
  const file = path.join(dir, 'empty.parquet');
  await duck.run(`COPY (SELECT * FROM src WHERE false) TO '${file}' (FORMAT parquet)`);
  const r = sqlite(db, `CREATE VIRTUAL TABLE temp.p USING parquet('file://${file}'); SELECT count(*) FROM temp.p;\n`);
  eq('0-row file', [r.stdout.trim(), r.status], ['0', 0]);
  const w = sqlite(db, `CREATE VIRTUAL TABLE temp.p USING parquet('file://${file}'); DELETE FROM temp.p;\n`);
  check('read-only', w.status !== 0 && w.stderr.includes('table p may not be modified'), w.stderr);
}

// Unsupported columns: declared, readable as long as they are not selected.
{
  const file = path.join(dir, 'nested.parquet');
  await duck.run(`COPY (SELECT 1::BIGINT AS a, [1, 2] AS l) TO '${file}' (FORMAT parquet)`);
  const r1 = sqlite(db, `CREATE VIRTUAL TABLE temp.p USING parquet('file://${file}'); SELECT a FROM temp.p;\n`);
  eq('nested column not selected: reads', [r1.stdout.trim(), r1.status], ['1', 0]);
  const r2 = sqlite(db, `CREATE VIRTUAL TABLE temp.p USING parquet('file://${file}'); SELECT * FROM temp.p;\n`);
  check('nested column selected: clear error', r2.status !== 0 && /parquet: column '[^']+' of file:\/\/.*nested\.parquet has a Parquet type tslite cannot read/.test(r2.stderr), r2.stderr);
}

// Errors at CREATE.
{
  const notPq = path.join(dir, 'not.parquet');
  fs.writeFileSync(notPq, 'this is not a parquet file at all, just text');
  const cases = [
    ['no argument', 'CREATE VIRTUAL TABLE temp.p USING parquet', "parquet: expected one argument, the file URI: USING parquet('file:///dir/x.parquet' | 's3://bucket/key.parquet')"],
    ['missing file', `CREATE VIRTUAL TABLE temp.p USING parquet('file://${dir}/nope.parquet')`, `parquet: cannot open file://${dir}/nope.parquet: no such object`],
    ['not parquet', `CREATE VIRTUAL TABLE temp.p USING parquet('file://${notPq}')`, `parquet: file://${notPq} is not a readable Parquet file:`],
    ['bad scheme', "CREATE VIRTUAL TABLE temp.p USING parquet('http://x/y.parquet')", 'parquet: cannot open http://x/y.parquet: object store: unsupported URI'],
  ];
  for (const [label, sql, msg] of cases) {
    const r = sqlite(db, `${sql};\n`);
    check(`error: ${label}`, r.status !== 0 && r.stderr.includes(msg), r.stderr);
  }
}

// A replaced file: same schema is reread; a different schema is an error.
{
  const file = path.join(dir, 'swap.parquet');
  await duck.run(`COPY (SELECT 1::BIGINT AS a) TO '${file}' (FORMAT parquet)`);
  const sql = `CREATE VIRTUAL TABLE temp.p USING parquet('file://${file}'); SELECT sum(a) FROM temp.p;
SELECT 'swap';\n`;
  // Drive two statements with a replacement in between via a second process.
  const r1 = sqlite(db, sql);
  eq('swap: before', r1.stdout.trim().split('\n')[0], '1');
  await duck.run(`COPY (SELECT 2::BIGINT AS a UNION ALL SELECT 3) TO '${file}.new' (FORMAT parquet)`);
  fs.renameSync(`${file}.new`, file);
  const r2 = sqlite(db, `CREATE VIRTUAL TABLE temp.p USING parquet('file://${file}'); SELECT sum(a) FROM temp.p;\n`);
  eq('swap: after', r2.stdout.trim(), '5');
}

fs.rmSync(dir, { recursive: true, force: true });
done();
