// Node's better-sqlite3 12.x (package-lock.json; it bundles a current SQLite,
// 3.53 in 12.11) loads tslite: docs/using.md's Node snippet is run as a file
// (path replaced) and its output compared with the doc; the README tour's SQL
// is run statement by statement and each SELECT's rows compared with the
// README's output comments (REALs printed as %.15g, the README's form); text
// times (the INSERT and the ISO-8601 comparison that crashed SQLite 3.53 in
// sqlite3_value_numeric_type on a sqlite3_value_dup copy), exact 61-bit
// integer times through BigInt / safeIntegers, and ts_unload to Parquet.
// Under the ASan pass the test re-runs itself with libasan preloaded.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT, EXT, pass, fail, skip, eq, check, done } from './lib.mjs';

const self = new URL(import.meta.url).pathname;
if (process.env.TS_PRELOAD && !(process.env.LD_PRELOAD || '').includes('libasan')) {
  const r = spawnSync(process.execPath, [self], {
    stdio: 'inherit',
    env: { ...process.env, LD_PRELOAD: process.env.TS_PRELOAD, ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1' },
  });
  process.exit(r.status ?? 1);
}

const require = createRequire(path.join(ROOT, 'package.json'));
let Database;
try { Database = require('better-sqlite3'); } catch (e) {
  skip('better_sqlite3', `better-sqlite3 not installed (npm ci): ${e.message.split('\n')[0]}`);
  process.exit(0);
}
const bsVersion = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/better-sqlite3/package.json'))).version;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tslite-bsq-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

{
  const db = new Database(':memory:');
  const v = db.prepare('SELECT sqlite_version() AS v').get().v;
  console.log(`# better-sqlite3 ${bsVersion}, SQLite ${v}`);
  const h = fs.readFileSync(path.join(ROOT, 'node_modules/better-sqlite3/deps/sqlite3/sqlite3.h'), 'utf8');
  eq('better_sqlite3: runs the SQLite of its deps/sqlite3/sqlite3.c (the matrix build\'s source)',
     v, /#define SQLITE_VERSION\s+"([^"]+)"/.exec(h)[1]);
  check('better_sqlite3: is 12.x', bsVersion.startsWith('12.'), bsVersion);
  db.close();
}

// 1. docs/using.md's snippet, run as a file next to node_modules.
{
  const doc = fs.readFileSync(path.join(ROOT, 'docs/using.md'), 'utf8');
  const m = /<!-- snippet: using\.mjs -->\n```js\n([\s\S]*?)```[\s\S]*?```text\n([\s\S]*?)```/.exec(doc);
  if (!m) fail('better_sqlite3: docs/using.md snippet', 'no using.mjs snippet with an output block');
  else {
    const dir = path.join(process.env.TS_BUILD || path.join(ROOT, 'build'), 'snippets');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `using-${process.pid}.mjs`);
    fs.writeFileSync(file, m[1].replaceAll('/usr/local/lib/tslite', EXT));
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', env: process.env });
    fs.rmSync(file, { force: true });
    eq('better_sqlite3: docs/using.md Node snippet prints what the doc shows', r.stdout + r.stderr, m[2]);
  }
}

// Rows as the sqlite3 shell prints them: '|' between columns, REAL as %.15g
// with ".0" on whole numbers (ints arrive as BigInt through safeIntegers).
function cell(v) {
  if (v === null) return '';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    const s = String(Number(v.toPrecision(15)));
    return /[.e]/.test(s) ? s : s + '.0';
  }
  return String(v);
}

// 2. The README tour, on this SQLite.
{
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const tour = /## A 5-minute tour[\s\S]*?```sql\n([\s\S]*?)```/.exec(readme)[1];
  const db = new Database(path.join(tmp, 'tour.db'));
  db.loadExtension(EXT);
  const exp = [], got = [];
  let stmt = '';
  let ok = true;
  for (const line of tour.split('\n')) {
    if (line.startsWith('.load ')) continue;
    if (/^-- [^ ]+$/.test(line)) { exp.push(line.slice(3)); continue; }
    if (line.startsWith('--')) continue;
    stmt += line + '\n';
    if (!line.trimEnd().endsWith(';')) continue;
    const sql = stmt.replace("file:///tmp/tslite-tour'", `file://${tmp}/export'`);
    stmt = '';
    try {
      const st = db.prepare(sql);
      if (st.reader) for (const r of st.safeIntegers().raw().all()) got.push(r.map(cell).join('|'));
      else st.run();
    } catch (e) { ok = false; fail('better_sqlite3: README tour statement', `${sql.trim().slice(0, 80)}: ${e.message}`); }
  }
  if (ok) pass('better_sqlite3: README tour runs (ISO-8601 text times in INSERT)');
  eq('better_sqlite3: README tour output equals the README\'s comments', got, exp);
  // The ISO-8601 text comparison that crashed 3.53: SQLite semantics (TEXT
  // is greater than every INTEGER), so no row, and no crash.
  eq('better_sqlite3: time > ISO-8601 text (no crash; TEXT > INTEGER)',
     db.prepare("SELECT count(*) AS n FROM cpu WHERE time > '2024-05-01T12:02:00Z'").get().n, 0);
  eq('better_sqlite3: time > from_iso8601_timestamp(text)',
     db.prepare("SELECT count(*) AS n FROM cpu WHERE time > from_iso8601_timestamp('2024-05-01T12:02:00Z')").get().n, 2);
  eq('better_sqlite3: text number written to a DOUBLE (\'2.5\')',
     (db.prepare("INSERT INTO cpu(time, hostname, region, usage_user) VALUES ('2024-05-01T12:10:00Z', 'host_2', 'x', '2.5')").run(),
      db.prepare("SELECT usage_user FROM cpu WHERE hostname = 'host_2'").get().usage_user), 2.5);
  db.close();
}

// 3. Integer times: 61-bit nanoseconds exact through BigInt; ts_unload.
{
  const db = new Database(':memory:');
  db.loadExtension(EXT);
  db.prepare("SELECT ts_debug_set_now('2024-05-01T12:30:00Z')").get();
  db.exec("CREATE VIRTUAL TABLE m USING timeseries(dev DIMENSION, v BIGINT, memory_retention = '6h')");
  const ins = db.prepare('INSERT INTO m(time, dev, v) VALUES (?, ?, ?)');
  const t0 = 1714564800000000001n;
  db.transaction(() => { for (let i = 0n; i < 5n; i++) ins.run(t0 + i * 1000n, 'd' + (i % 2n), 9007199254740993n + i); })();
  const rows = db.prepare('SELECT time, dev, v FROM m WHERE time BETWEEN ? AND ? ORDER BY time')
    .safeIntegers().raw().all(t0 + 1000n, t0 + 3000n);
  eq('better_sqlite3: BigInt times and 64-bit values round-trip exactly',
     rows.map((r) => r.map(String).join('|')),
     ['1714564800000001001|d1|9007199254740994', '1714564800000002001|d0|9007199254740995',
      '1714564800000003001|d1|9007199254740996']);
  eq('better_sqlite3: to_iso8601 of a BigInt time',
     db.prepare('SELECT to_iso8601(?) AS s').get(t0), { s: '2024-05-01T12:00:00.000000001Z' });
  const r = JSON.parse(db.prepare("SELECT ts_unload('SELECT time, dev, v FROM m', ?, '{\"format\":\"parquet\"}') AS r")
    .get(`file://${tmp}/unload`).r);
  eq('better_sqlite3: ts_unload rows', r.rows, 5);
  const files = fs.readdirSync(`${tmp}/unload/results`, { recursive: true }).filter((f) => f.endsWith('.parquet'));
  eq('better_sqlite3: ts_unload wrote one Parquet file', files.length, 1);
  db.exec(`CREATE VIRTUAL TABLE p USING parquet('file://${tmp}/unload/results/${files[0]}')`);
  eq('better_sqlite3: unloaded Parquet reads back exactly',
     db.prepare('SELECT sum(v) - 5 * 9007199254740993 AS d, min(time) AS t FROM p').safeIntegers().raw().get().map(String),
     ['10', '1714564800000000001']);
  db.close();
}
done();
