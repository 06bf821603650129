// Helpers shared by tests/js/unload_*.test.mjs: run ts_unload through the
// sqlite3 shell, read back manifests and CSV files, parse Timestream's CSV
// dialect independently of the C encoder.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { sqlite } from './lib.mjs';

// Run SQL; return stdout, throw with stderr on failure.
export function run(db, sql) {
  const r = sqlite(db, sql);
  if (r.status !== 0) throw new Error(`sqlite3 failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

// Rows of a query as an array of objects (sqlite3 .mode json).
export function queryJson(db, sql) {
  const out = run(db, `.mode json\n${sql};\n`).trim();
  return out ? JSON.parse(out) : [];
}

const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

// ts_unload(sql, dest, opts) -> {status, result|error}
export function unload(db, selectSql, dest, opts) {
  const args = [q(selectSql), q(dest)];
  if (opts !== undefined) args.push(q(typeof opts === 'string' ? opts : JSON.stringify(opts)));
  const r = sqlite(db, `SELECT ts_unload(${args.join(', ')});\n`);
  if (r.status !== 0) return { error: r.stderr.trim() };
  return { result: JSON.parse(r.stdout.trim()) };
}

export function urlToPath(u) {
  if (!u.startsWith('file://')) throw new Error(`not a file url: ${u}`);
  return u.slice('file://'.length);
}

// Every regular file under dir (relative paths, sorted), hidden temp files excluded.
export function listFiles(dir) {
  const out = [];
  const walk = (d, rel) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name), r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p, r);
      else if (!e.name.startsWith('.tslite-tmp-')) out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

export function readManifest(result) {
  return JSON.parse(fs.readFileSync(urlToPath(result.manifestFile), 'utf8'));
}
export function readMetadata(result) {
  return JSON.parse(fs.readFileSync(urlToPath(result.metadataFile), 'utf8'));
}

// Parse Timestream-dialect CSV text: the escape char makes the next char
// literal (inside or outside quotes); '"' toggles quoting; an unquoted empty
// field is NULL, '""' is the empty string.  Returns rows of (string|null)[].
// (escaped_by '"', RFC 4180 doubling, is covered by the C unit test.)
export function parseCsv(text, delim = ',', esc = '\\') {
  const rows = [];
  let row = [], field = '', quoted = false, wasQuoted = false, i = 0, any = false;
  const endField = () => { row.push(wasQuoted || field.length ? field : null); field = ''; wasQuoted = false; };
  while (i < text.length) {
    const c = text[i];
    any = true;
    if (c === esc && i + 1 < text.length) { field += text[i + 1]; i += 2; continue; }
    if (c === '"') { quoted = !quoted; wasQuoted = true; i++; continue; }
    if (!quoted && c === delim) { endField(); i++; continue; }
    if (!quoted && c === '\n') { endField(); rows.push(row); row = []; any = false; i++; continue; }
    field += c; i++;
  }
  if (any) { endField(); rows.push(row); }
  return rows;
}

export function readResultFile(url) {
  const buf = fs.readFileSync(urlToPath(url));
  return url.endsWith('.gz') ? zlib.gunzipSync(buf).toString('utf8') : buf.toString('utf8');
}

// Check a manifest against the files on disk: sizes, row counts, listing.
// Returns an error string or '' when consistent.
export function checkManifest(result, dest) {
  const man = readManifest(result);
  let total = 0, rows = 0;
  for (const f of man.result_files) {
    const st = fs.statSync(urlToPath(f.url));
    if (st.size !== f.file_metadata.content_length_in_bytes) return `size of ${f.url}: ${st.size} != ${f.file_metadata.content_length_in_bytes}`;
    total += st.size; rows += f.file_metadata.row_count;
  }
  if (total !== man.query_metadata.content_length_in_bytes) return `total bytes ${total} != ${man.query_metadata.content_length_in_bytes}`;
  if (rows !== man.query_metadata.total_row_count) return `total rows ${rows} != ${man.query_metadata.total_row_count}`;
  if (rows !== result.rows) return `rows ${rows} != result ${result.rows}`;
  const onDisk = listFiles(path.join(dest, 'results')).map((r) => `file://${dest}/results/${r}`).sort();
  const listed = man.result_files.map((f) => f.url).sort();
  if (JSON.stringify(onDisk) !== JSON.stringify(listed)) return `files on disk ${JSON.stringify(onDisk)} != manifest ${JSON.stringify(listed)}`;
  if (man.author.name !== 'Amazon Timestream' || man.author.manifest_file_version !== '1.0') return 'author block';
  return '';
}
