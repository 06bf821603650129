// s3_sql.test.mjs: the SQL glue (ext/objsql.c) through the sqlite3 shell,
// against s3rver and against a file:// directory: ts_object_put/get/delete
// byte-for-byte round trips (empty, 1 byte, 5 MiB + 1), odd keys, ranges at
// the edges, ts_object_list rows in key order across several pages, and
// the exact error messages users see.
import path from 'node:path';
import fs from 'node:fs';
import { startS3 } from './s3fixture.mjs';
import { check, eq, done, sqlite, tmpDir } from './lib.mjs';

const s3 = await startS3({ bucket: 'sql' });
const dir = tmpDir('tslite-objsql-');
const db = path.join(dir, 'x.db');
const q = (sql, env = s3.env) => sqlite(db, sql, { env });
const lit = (s) => `'${s.replace(/'/g, "''")}'`;

try {
  for (const [label, root, env] of [['s3', 's3://sql/t', s3.env], ['file', `file://${dir}/store`, {}]]) {
    const u = (k) => lit(`${root}/${k}`);
    // Round trips, compared inside SQLite.
    let r = q(`CREATE TABLE b(name, v);
      INSERT INTO b VALUES ('empty', x''), ('one', x'a5'), ('big', randomblob(5*1024*1024+1)),
        ('text', 'héllo');
      SELECT name, ts_object_put(${lit(root)} || '/rt/' || name, v) FROM b ORDER BY name;
      SELECT name, ts_object_get(${lit(root)} || '/rt/' || name) = CAST(v AS BLOB), length(ts_object_get(${lit(root)} || '/rt/' || name)) FROM b ORDER BY name;
      DROP TABLE b;`, env);
    eq(`${label}: put returns bytes, get returns identical blobs`, r.stdout,
      'big|5242881\nempty|0\none|1\ntext|6\nbig|1|5242881\nempty|1|0\none|1|1\ntext|1|6\n');
    if (r.stderr) console.log(`# ${r.stderr}`);
    // Ranges at the edges.
    r = q(`SELECT hex(ts_object_get(${u('rt/one')}, 0, 1)), hex(ts_object_get(${u('rt/text')}, 5, 1)),
      hex(ts_object_get(${u('rt/text')}, 5)), hex(ts_object_get(${u('rt/text')}, 0, 100)),
      length(ts_object_get(${u('rt/big')}, 5242880, 10)), length(ts_object_get(${u('rt/empty')}));`, env);
    eq(`${label}: ranges at the edges`, r.stdout, 'A5|6F|6F|68C3A96C6C6F|1|0\n');
    r = q(`SELECT ts_object_get(${u('rt/text')}, 6, 1);`, env);
    check(`${label}: range past the end is an error`, /range offset|InvalidRange/.test(r.stderr), r.stderr);
    // Odd keys.
    const keys = ['odd/with space', 'odd/ünïcødé-日本', 'odd/a+b', 'odd/x=y', 'odd/100%', ...(label === 's3' ? ['odd/a//b'] : [])];
    r = q(keys.map((k) => `SELECT ts_object_put(${u(k)}, ${lit(k)});`).join('\n')
      + keys.map((k) => `SELECT CAST(ts_object_get(${u(k)}) AS TEXT);`).join('\n'), env);
    eq(`${label}: odd keys round trip`, r.stdout, keys.map((k) => String(Buffer.byteLength(k))).join('\n') + '\n' + keys.join('\n') + '\n');
    if (label === 'file') {
      r = q(`SELECT ts_object_put(${u('odd/a//b')}, 'x');`, env);
      check('file: // key refused with a clear message', r.stderr.includes("has an empty path segment ('//'), which is not allowed in a file:// store"), r.stderr);
    }
    // Listing.
    r = q(`SELECT key, size FROM ts_object_list(${lit(root)}, 'rt/');`, env);
    eq(`${label}: ts_object_list rows in key order`, r.stdout, 'rt/big|5242881\nrt/empty|0\nrt/one|1\nrt/text|6\n');
    r = q(`SELECT count(*), sum(length(etag) > 0), sum(last_modified > 1600000000000000000) FROM ts_object_list(${lit(root + '/rt')});`, env);
    eq(`${label}: etag and last_modified (ns) filled`, r.stdout, '4|4|4\n');
    // Many keys over several pages (page size 7 to keep it fast).
    r = q(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i<29)
      SELECT sum(ts_object_put(${lit(root)} || printf('/many/k%03d', 29-i), 'v')) FROM n;
      SELECT count(*), min(key), max(key), group_concat(key, ',') = (SELECT group_concat(k, ',') FROM (
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i<29) SELECT printf('many/k%03d', i) AS k FROM n))
        FROM ts_object_list(${lit(root)}, 'many/');`, { ...env, TSLITE_S3_LIST_PAGE: '7' });
    eq(`${label}: 30 keys listed across pages in order`, r.stdout, '30\n30|many/k000|many/k029|1\n');
    // Delete.
    r = q(`SELECT ts_object_delete(${u('rt/one')}); SELECT ts_object_delete(${u('rt/one')});
      SELECT count(*) FROM ts_object_list(${lit(root)}, 'rt/');`, env);
    eq(`${label}: delete (twice) then listed no more`, r.stdout, '1\n1\n3\n');
    r = q(`SELECT ts_object_get(${u('rt/one')});`, env);
    if (label === 's3') {
      check('s3: missing object message names operation, object, status, code',
        /ts_object_get: S3 GetObject s3:\/\/sql\/t\/rt\/one failed: HTTP 404 NoSuchKey: The specified key does not exist\. after 1 attempt in [0-9.]+ s/.test(r.stderr), r.stderr);
    } else {
      check('file: missing object message', r.stderr.includes(`ts_object_get: file:// get 'one' in ${dir}/store/rt: no such object`), r.stderr);
    }
    r = q('SELECT ts_object_get(NULL), ts_object_put(NULL, 1), ts_object_delete(NULL); SELECT count(*) FROM ts_object_list(NULL);', env);
    eq(`${label}: NULL arguments give NULL / no rows`, r.stdout, '||\n0\n');
  }
  // A modification time outside int64 ns (files can carry any mtime) gives
  // NULL, not a wrapped timestamp (nor signed-overflow UB).
  let r = q(`SELECT ts_object_put(${lit(`file://${dir}/mt/far`)}, 'x'), ts_object_put(${lit(`file://${dir}/mt/now`)}, 'y');`, {});
  fs.utimesSync(path.join(dir, 'mt', 'far'), new Date('2300-01-01T00:00:00Z'), new Date('2300-01-01T00:00:00Z'));
  fs.utimesSync(path.join(dir, 'mt', 'now'), new Date('2024-05-01T12:00:00Z'), new Date('2024-05-01T12:00:00Z'));
  r = q(`SELECT key, quote(last_modified) FROM ts_object_list(${lit(`file://${dir}/mt`)});`, {});
  eq('file: mtime beyond 2262 lists as NULL', r.stdout, 'far|NULL\nnow|1714564800000000000\n');
  r = q("SELECT ts_object_get('ftp://x/y');");
  check('unsupported scheme message', r.stderr.includes("unsupported URI 'ftp://x/y'"), r.stderr);
  r = q("SELECT * FROM ts_object_list;");
  check('ts_object_list without uri', r.stderr.includes('a uri argument is required'), r.stderr);
  r = q("SELECT ts_object_get('s3://sql/t/x', -1);");
  check('negative offset refused', r.stderr.includes('offset must be >= 0'), r.stderr);
  r = q("SELECT ts_object_get('s3://sql/../x');");
  check('.. refused', r.stderr.includes("'..' path segment"), r.stderr);
  r = q("CREATE VIEW v AS SELECT ts_object_get('s3://sql/t/rt/text'); SELECT * FROM v;");
  check('direct-only: not callable from a view', /unsafe use of ts_object_get/.test(r.stderr), r.stderr);
} finally {
  await s3.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
done();
