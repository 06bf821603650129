// ts_batch_load from s3rver and under kill -9.
//  - s3:// prefix source: .csv and .csv.gz objects loaded, other keys ignored,
//    a file larger than one ranged GET (1 MiB) streamed in pieces
//  - Timestream's CreateBatchLoadTask JSON pasted unchanged (DataModelS3Configuration,
//    ReportS3Configuration): the report object in the bucket, ClientToken idempotent
//  - the fault proxy: 503s and resets on GETs are retried, no row lost or doubled
//  - kill -9 during a multi-file load (100 rounds), then ts_batch_load_resume: the
//    table equals a clean load and every counter equals a clean run's
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { sqlite, check, eq, done, tmpDir, skip } from './lib.mjs';
import { startS3 } from './s3fixture.mjs';
import { crashRounds } from './crash.mjs';

const NOW = "SELECT ts_debug_set_now('2024-05-01T12:00:00Z');\n";
const T0 = 1714557600000; // 2024-05-01T10:00:00Z in ms
const dir = tmpDir('tslite-bljs-');
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

function model(attrs = [['v', 'BIGINT']]) {
  return {
    TimeColumn: 'time', DimensionMappings: [{ SourceColumn: 'host' }],
    MultiMeasureMappings: {
      TargetMultiMeasureName: 'm',
      MultiMeasureAttributeMappings: attrs.map(([s, t]) => ({ SourceColumn: s, MeasureValueType: t })),
    },
  };
}
function csv(n, off, hosts = 7) {
  let s = 'host,time,v\n';
  for (let i = 0; i < n; i++) s += `h${i % hosts},${T0 + off + i},${off + i}\n`;
  return s;
}
function run(db, sql, env) {
  // the first output line is ts_debug_set_now's
  const r = sqlite(db, NOW + sql, { env });
  return { ...r, out: r.stdout.trim().split('\n').slice(1).join('\n') };
}
function digest(db, table) {
  const r = sqlite(db, `SELECT host, time, v FROM ${table} ORDER BY host, time;`);
  return crypto.createHash('sha256').update(r.stdout).digest('hex') + ':' + r.stdout.split('\n').length;
}

let s3 = null;
try {
  s3 = await startS3({ bucket: 'test', proxy: true });
} catch (e) {
  skip('batch_load s3', `s3rver did not start: ${e.message}`);
}

if (s3) try {
  const db = path.join(dir, 's3.db');
  const env = s3.env;
  // objects: a.csv (3 MiB, several ranged GETs), b.csv.gz, notes.txt (ignored), the data model
  const a = csv(150000, 0);
  const b = csv(5000, 200000);
  fs.writeFileSync(path.join(dir, 'a.csv'), a);
  fs.writeFileSync(path.join(dir, 'b.csv.gz'), zlib.gzipSync(b));
  fs.writeFileSync(path.join(dir, 'bad.csv'), 'host,time,v\nx,1714557600000,1\ny,oops,2\nz,1714557600002,zz\n');
  fs.writeFileSync(path.join(dir, 'dm.json'), JSON.stringify(model()));
  const put = run(db, [
    `SELECT ts_object_put('s3://test/in/a.csv', readfile(${q(path.join(dir, 'a.csv'))}));`,
    `SELECT ts_object_put('s3://test/in/b.csv.gz', readfile(${q(path.join(dir, 'b.csv.gz'))}));`,
    `SELECT ts_object_put('s3://test/in/notes.txt', 'not a csv');`,
    `SELECT ts_object_put('s3://test/bad/bad.csv', readfile(${q(path.join(dir, 'bad.csv'))}));`,
    `SELECT ts_object_put('s3://test/models/dm.json', readfile(${q(path.join(dir, 'dm.json'))}));`,
  ].join('\n'), env);
  check('batch_load s3: objects uploaded', put.status === 0, put.stderr);

  const short = { TargetTableName: 's3t', DataSource: 's3://test/in/', DataModel: model(), BatchRows: 20000 };
  let r = run(db, `SELECT ts_batch_load(${q(JSON.stringify(short))});\nSELECT count(*), sum(v) FROM s3t;`, env);
  const lines = r.out.split('\n');
  let res = null;
  try { res = JSON.parse(lines[0]); } catch { /* reported below */ }
  eq('batch_load s3: prefix load SUCCEEDED with every record', res && [res.TaskStatus, res.ProgressReport.RecordsIngested,
    res.ProgressReport.BytesMetered], ['SUCCEEDED', 155000, a.length + b.length]);
  let sum = 0;
  for (let i = 0; i < 150000; i++) sum += i;
  for (let i = 0; i < 5000; i++) sum += 200000 + i;
  eq('batch_load s3: rows and sum (a.csv in ranged GETs, b.csv.gz inflated, notes.txt ignored)', lines[1], `155000|${sum}`);
  r = run(db, "SELECT json_array_length(Files), FileCount FROM ts_batch_load_tasks WHERE TargetTableName='s3t';", env);
  eq('batch_load s3: two files listed', r.out, '2|2');

  // Timestream's request JSON, unchanged
  const req = {
    ClientToken: 'tok-1',
    TargetDatabaseName: 'sampledb', TargetTableName: 'awst', RecordVersion: 2,
    DataModelConfiguration: { DataModelS3Configuration: { BucketName: 'test', ObjectKey: 'models/dm.json' } },
    DataSourceConfiguration: {
      DataSourceS3Configuration: { BucketName: 'test', ObjectKeyPrefix: 'bad/' },
      CsvConfiguration: { ColumnSeparator: ',', QuoteChar: '"', TrimWhiteSpace: false },
      DataFormat: 'CSV',
    },
    ReportConfiguration: { ReportS3Configuration: { BucketName: 'test', ObjectKeyPrefix: 'reports', EncryptionOption: 'SSE_S3' } },
  };
  r = run(db, `SELECT ts_batch_load(${q(JSON.stringify(req))});`, env);
  try { res = JSON.parse(r.out); } catch { res = null; }
  eq('batch_load s3: CreateBatchLoadTask form: FAILED with 2 parse failures', res && [res.TaskStatus,
    res.ProgressReport.RecordsProcessed, res.ProgressReport.RecordsIngested, res.ProgressReport.ParseFailures],
  ['FAILED', 3, 1, 2]);
  eq('batch_load s3: report object key', res && res.ErrorReport, res && `s3://test/reports/${res.TaskId}/error_report.json`);
  r = run(db, `SELECT CAST(ts_object_get(${q(res ? res.ErrorReport : 's3://test/none')}) AS TEXT);`, env);
  let rep = null;
  try { rep = JSON.parse(r.out); } catch { rep = r.out + r.stderr; }
  eq('batch_load s3: report (reference 4.4 shape)', rep, {
    taskId: res && res.TaskId, taskErrors: [],
    fileErrors: [{ fileName: 's3://test/bad/bad.csv', errors: [
      { reason: "time column 'time': 'oops' is not an integer count of MILLISECONDS", lineRanges: [[3, 3]] },
      { reason: "column 'v' (BIGINT): 'zz' is not an integer", lineRanges: [[4, 4]] }] }],
  });
  r = run(db, 'SELECT host, time, v, version FROM awst;', env);
  eq('batch_load s3: the good row, with RecordVersion', r.out, 'x|1714557600000000000|1|2');
  r = run(db, `SELECT json_extract(ts_batch_load(${q(JSON.stringify(req))}), '$.TaskId');
               SELECT count(*) FROM ts_batch_load_tasks WHERE ClientToken='tok-1';`, env);
  eq('batch_load s3: ClientToken returns the same task, no new run', r.out.split('\n'), [res && res.TaskId, '1']);

  // faults on GET: retried
  await s3.fault({ mode: '503', count: 3, method: 'GET' });
  r = run(db, `SELECT ts_batch_load(${q(JSON.stringify({ ...short, TargetTableName: 'f1' }))});
               SELECT count(*), sum(v) FROM f1;`, s3.proxyEnv);
  let st = await s3.stats();
  const l2 = r.out.split('\n');
  check('batch_load s3 faults: 503 SlowDown on GETs retried, every row once',
    l2[1] === `155000|${sum}` && l2[0].includes('"RecordsProcessed":155000') && st.faulted >= 3, r.out + r.stderr);
  await s3.fault({ mode: 'reset', count: 2, method: 'GET' });
  r = run(db, `SELECT ts_batch_load(${q(JSON.stringify({ ...short, TargetTableName: 'f2' }))});
               SELECT count(*), sum(v) FROM f2;`, s3.proxyEnv);
  const l3 = r.out.split('\n');
  check('batch_load s3 faults: connection resets retried, every row once',
    l3[1] === `155000|${sum}` && l3[0].includes('"RecordsProcessed":155000'), r.out + r.stderr);
  await s3.fault({ mode: 'truncate', count: 2, method: 'GET' });
  r = run(db, `SELECT ts_batch_load(${q(JSON.stringify({ ...short, TargetTableName: 'f3' }))});
               SELECT count(*), sum(v) FROM f3;`, s3.proxyEnv);
  const l4 = r.out.split('\n');
  check('batch_load s3 faults: truncated GET bodies retried, every row once',
    l4[1] === `155000|${sum}` && l4[0].includes('"RecordsProcessed":155000')
    && l4[0].includes(`"BytesMetered":${a.length + b.length}`), r.out + r.stderr);
  // the store fails after its retries (every HEAD of a file answers 503): the task stops,
  // PROGRESS_STOPPED, and resumes once the store is back
  await s3.fault({ mode: '503', count: -1, method: 'HEAD' });
  r = run(db, `SELECT ts_batch_load(${q(JSON.stringify({ ...short, TargetTableName: 'f4' }))});`, s3.proxyEnv);
  const m = /task ([A-Z0-9]{32}) stopped \(ts_batch_load_resume\('\1'\) continues it\): s3:\/\/test\/in\/a\.csv: cannot open: /
    .exec(r.stderr);
  check('batch_load s3 faults: a store failing after its retries stops the task, naming it', !!m, r.out + r.stderr);
  const tid = m ? m[1] : 'NONE';
  r = run(db, `SELECT TaskStatus, ErrorMessage IS NOT NULL, RecordsProcessed FROM ts_batch_load_tasks WHERE TaskId='${tid}';`, env);
  eq('batch_load s3 faults: the task row says PROGRESS_STOPPED with its ErrorMessage', r.out, 'PROGRESS_STOPPED|1|0');
  await s3.fault({ mode: 'pass' });
  r = run(db, `SELECT ts_batch_load_resume('${tid}');
               SELECT count(*), sum(v) FROM f4;`, s3.proxyEnv);
  const l5 = r.out.split('\n');
  check('batch_load s3 faults: resumed once the store is back, every row once',
    l5[1] === `155000|${sum}` && l5[0].includes('"TaskStatus":"SUCCEEDED"') && l5[0].includes('"RecordsProcessed":155000'),
    r.out + r.stderr);
  await s3.fault({ mode: 'pass' });
} finally {
  await s3.stop();
}

// ---- kill -9 during a multi-file load (100 rounds), then resume ---------
{
  const db = path.join(dir, 'crash.db');
  const src = path.join(dir, 'crash');
  fs.mkdirSync(src);
  const N = 3, R = 12000;
  let bytes = 0;
  for (let k = 0; k < N; k++) {
    // CRLF records: the resume point lands between CR and LF
    const body = csv(R, k * 100000).replace(/\n/g, '\r\n');
    fs.writeFileSync(path.join(src, `p${k}.csv`), body);
    bytes += body.length;
  }
  const cfg = (t) => JSON.stringify({ TargetTableName: t, DataSource: `file://${src}/`, DataModel: model(), BatchRows: 700 });
  let r = run(db, `SELECT ts_batch_load(${q(cfg('clean'))});`);
  check('batch_load crash: clean load', r.out.includes('"SUCCEEDED"'), r.out + r.stderr);
  const clean = digest(db, 'clean');
  let nResumed = 0;
  await crashRounds({
    label: 'batch_load crash',
    db, rounds: 100, maxMs: 'auto',
    action: (k) => NOW + `SELECT ts_batch_load(${q(cfg(`t${k}`))});`,
    verify: async (k) => {
      let q1 = run(db, `SELECT TaskId, TaskStatus FROM ts_batch_load_tasks WHERE TargetTableName='t${k}';`);
      if (q1.status !== 0) return `task query: ${q1.stderr}`;
      if (q1.out === '') {
        // killed before the task row was committed: nothing may be loaded
        const n = run(db, `SELECT count(*) FROM sqlite_schema WHERE name='t${k}';`).out;
        if (n === '1' && run(db, `SELECT count(*) FROM t${k};`).out !== '0') return 'rows without a task row';
        return null;
      }
      const [tid, status] = q1.out.split('|');
      if (status !== 'SUCCEEDED') {
        nResumed++;
        const rr = run(db, `SELECT ts_batch_load_resume('${tid}');`);
        if (!rr.out.includes('"SUCCEEDED"')) return `resume of ${tid} (${status}): ${rr.out} ${rr.stderr}`;
      }
      const pr = run(db, `SELECT RecordsProcessed, RecordsIngested, ParseFailures + RecordIngestionFailures + FileFailures,
                                 BytesMetered, FileIndex, (SELECT count(*) FROM ts_batch_load_errors WHERE TaskId='${tid}')
                          FROM ts_batch_load_tasks WHERE TaskId='${tid}';`).out;
      if (pr !== `${N * R}|${N * R}|0|${bytes}|${N}|0`) return `counters ${pr}, expected ${N * R}|${N * R}|0|${bytes}|${N}|0`;
      const d = digest(db, `t${k}`);
      if (d !== clean) return `table t${k} differs from the clean load`;
      return null;
    },
  });
  check(`batch_load crash: stopped tasks were resumed (${nResumed})`, nResumed >= 5, `${nResumed}`);
}

fs.rmSync(dir, { recursive: true, force: true });
done();
