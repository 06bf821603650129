// cold_late.test.mjs: late data across the tiers (ext/recrule.h), checked
// against a model.  Base rows over three days are tiered; then rounds of
// random late writes hit tiered and new keys with equal, higher and lower
// versions, same and different values, as plain INSERT, INSERT OR REPLACE
// and INSERT OR IGNORE.  The model applies the memory tier's write rules
// (ext/write.c: writes do not read the cold tier) and the cross-tier rule
// (later write wins only with a higher version or a REPLACE mark; a losing
// plain write with different values is a rejected record).  Every phase
// checks the exact visible rows, each in a new sqlite3 process (a reopened
// database, a second process):
//   1. after the late writes (memory rows next to cold rows),
//   2. after ts_maintain tiered them (compact_max_bytes 0: overlapping objects),
//   3. after ts_maintain compacted every day (compact_target 1GB: every
//      object is small; or 2 bytes: only the objects late data overlaps), whose
//      rejected-records reports (<t>/_rejected/, Timestream's error-report
//      JSON) must hold exactly the model's rejected writes, each once;
//      rows_rejected in ts_maintain and ts_stats count them; first, each
//      round kills (kill -9) a compaction at a crash point (before the
//      commit, after the upload, after the commit: ts_debug_kill_at), and
//      the rerun still reports every record exactly once;
// on the default file:// store and on s3rver.  TS_LONG=1 runs more rounds.
import path from 'node:path';
import { startS3 } from './s3fixture.mjs';
import { check, eq, done, sqlite, tmpDir, rng } from './lib.mjs';

const NS_S = 1000000000n;
const T0 = 1714564800000000000n;      // 2024-05-01T12:00:00Z
const NOW = '2024-05-05T12:00:00Z';   // boundary 2024-05-05T00:00Z: every row below is cold
const ROUNDS = process.env.TS_LONG === '1' ? 5 : 2;
const OPS = process.env.TS_LONG === '1' ? 400 : 160;
const setNow = `.output /dev/null\nSELECT ts_debug_set_now('${NOW}');\n.output stdout\n`;
const lit = (s) => (s === null ? 'NULL' : `'${s.replace(/'/g, "''")}'`);
const fmtV = (v) => (Number.isInteger(v) ? v.toFixed(1) : String(v));

const HOSTS = ['h0', 'h1', 'h2'];
const MNAMES = ['cpu', 'mem'];
const R_NONE = 0, R_REPLACE = 1, R_IGNORE = 2;
const MODE_SQL = ['INSERT', 'INSERT OR REPLACE', 'INSERT OR IGNORE'];

function scenarioModel(seed) {
  const R = rng(seed);
  const ri = (n) => Math.floor(R() * n);
  const keyOf = (h, m, t) => `${h}|${m}|${t}`;
  const base = new Map();            // key -> cold row {h, m, t, v, s, ver, mark}
  for (const h of HOSTS) for (const m of MNAMES) {
    for (let i = 0; i < 72; i++) {
      const t = T0 + BigInt(i) * 3600n * NS_S + BigInt(ri(60)) * NS_S;
      base.set(keyOf(h, m, t), { h, m, t, v: ri(400) / 4, s: ri(6) === 0 ? null : `b${ri(9)}`, ver: 1 + ri(3), mark: R_NONE });
    }
  }
  return { R, ri, keyOf, cold: base, mem: new Map(), pending: [], rejected: [] };
}

const same = (a, b) => a.v === b.v && a.s === b.s;
// Does the later row l replace the earlier e (ext/recrule.h)?
const laterWins = (e, l) => l.mark === R_REPLACE || l.ver > e.ver;

// One round of late writes: returns the SQL, updates the model's memory tier.
function lateRound(M) {
  const { ri } = M;
  const keys = [...M.cold.keys()];
  const stmts = [];
  for (let i = 0; i < OPS; i++) {
    let k, h, m, t;
    if (ri(10) < 7) {
      k = keys[ri(keys.length)];
      [h, m] = k.split('|'); t = BigInt(k.split('|')[2]);
    } else {
      h = HOSTS[ri(3)]; m = MNAMES[ri(2)];
      t = T0 + BigInt(ri(3 * 86400)) * NS_S + 7n;
      k = M.keyOf(h, m, t);
    }
    const cold = M.cold.get(k), mem = M.mem.get(k);
    const vis = visible(cold, mem);
    const mode = [R_NONE, R_NONE, R_NONE, R_REPLACE, R_IGNORE][ri(5)];
    const vals = vis && ri(3) === 0 ? { v: vis.v, s: vis.s } : { v: ri(400) / 4 + 200, s: ri(5) === 0 ? null : `l${ri(9)}` };
    let ver = vis ? Math.max(1, vis.ver + ri(3) - 1) : 1 + ri(3);
    const w = { h, m, t, ...vals, ver };
    // The memory tier's own decision (ext/write.c decide): only against a
    // memory row; the cold row is not read.
    if (mem) {
      const eqv = same(w, mem);
      let act;
      if (eqv) act = ver <= mem.ver ? 'noop' : 'store';
      else if (ver > mem.ver) act = 'store';
      else if (mode === R_REPLACE) act = 'store';
      else if (mode === R_IGNORE) act = 'noop';
      else { w.ver = ver = mem.ver + 1; act = 'store'; }   // avoid a synchronous rejection
      if (act === 'store') M.mem.set(k, { ...w, mark: mem.mark === R_REPLACE ? R_REPLACE : mode });
    } else {
      M.mem.set(k, { ...w, mark: mode });
    }
    stmts.push(`${MODE_SQL[mode]} INTO t(time, host, measure_name, v, s, version) VALUES (${t}, ${lit(h)}, ${lit(m)}, ${w.v}, ${lit(w.s)}, ${ver});`);
  }
  return `BEGIN;\n${stmts.join('\n')}\nCOMMIT;\n`;
}

// The visible row of a key: the cold row, then the memory row by the rule.
function visible(cold, mem) {
  if (!cold) return mem;
  if (!mem) return cold;
  return laterWins(cold, mem) ? mem : cold;
}

// Tiering and compaction of the model: memory rows merge into the cold
// rows; a losing memory row with different values (not IGNORE) is rejected
// (reported when compaction merges the two objects).
function tierModel(M) {
  for (const [k, mem] of M.mem) {
    const cold = M.cold.get(k);
    if (!cold) { M.cold.set(k, mem); continue; }
    const win = laterWins(cold, mem);
    if (!win && !same(cold, mem) && mem.mark !== R_IGNORE) M.pending.push(mem);
    const w = win ? mem : cold;
    M.cold.set(k, { ...w, mark: cold.mark === R_REPLACE || mem.mark === R_REPLACE ? R_REPLACE : w.mark });
  }
  M.mem.clear();
}

function modelRows(M) {
  const all = new Map(M.cold);
  for (const [k, mem] of M.mem) all.set(k, visible(M.cold.get(k), mem));
  return [...all.values()]
    .sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : a.m < b.m ? -1 : a.m > b.m ? 1 : a.t < b.t ? -1 : a.t > b.t ? 1 : 0))
    .map((r) => `${r.h}|${r.m}|${r.t}|${fmtV(r.v)}|${r.s === null ? '' : r.s}|${r.ver}`).join('\n') + '\n';
}
const recKey = (r) => `${r.h}|${r.m}|${r.t}|${r.ver}|${r.v}|${r.s === null ? 'NULL' : r.s}`;

async function scenario(label, storage, env) {
  const dir = tmpDir(`tslite-coldlate-${label}-`);
  const db = path.join(dir, 'x.db');
  const uri = storage || `file://${db}.tslite`;
  const q = (sql) => sqlite(db, setNow + sql, { env });
  const M = scenarioModel(label === 'file' ? 20240505 : 20240506);
  const rowsSql = 'SELECT host, measure_name, time, v, s, version FROM t ORDER BY host, measure_name, time;';
  const checkRows = (what) => {
    const r = q(rowsSql);
    const exp = modelRows(M);
    if (r.stdout === exp && !r.stderr) { check(`${label}: ${what}: ${exp.split('\n').length - 1} rows equal the model`, true); return; }
    const a = r.stdout.split('\n'), b = exp.split('\n');
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    check(`${label}: ${what}: rows equal the model`, false, `${r.stderr} line ${i}: got ${a[i]} (${a.length} lines), expected ${b[i]} (${b.length} lines)`);
  };
  // One series in descending time order, through a time range (the lanes
  // resolve keys in both directions).
  const checkDesc = (what) => {
    const lo = T0 + 86400n * NS_S;
    const r = q(`SELECT host, measure_name, time, v, s, version FROM t WHERE host = 'h1' AND measure_name = 'mem' AND time >= ${lo} ORDER BY time DESC;`);
    const exp = modelRows(M).split('\n').filter((x) => x.startsWith('h1|mem|') && BigInt(x.split('|')[2]) >= lo).reverse().join('\n') + '\n';
    check(`${label}: ${what}: one series DESC over a range equals the model`, r.stdout === exp && !r.stderr, r.stderr + r.stdout.slice(0, 200));
  };
  const maintain = (opts) => {
    const r = q(`SELECT ts_maintain('t', '${JSON.stringify(opts)}');`);
    try { return JSON.parse(r.stdout).tables[0]; } catch (e) { return { error: r.stdout + r.stderr }; }
  };

  let r = q(`CREATE VIRTUAL TABLE t USING timeseries(host DIMENSION, v DOUBLE, s VARCHAR,
      memory_retention = '12h', magnetic_retention = '30d', magnetic_writes = true${storage ? `, storage = ${lit(storage)}` : ''});
    BEGIN;
    ${[...M.cold.values()].map((x) => `INSERT INTO t(time, host, measure_name, v, s, version) VALUES (${x.t}, ${lit(x.h)}, ${lit(x.m)}, ${x.v}, ${lit(x.s)}, ${x.ver});`).join('\n')}
    COMMIT;`);
  check(`${label}: setup (${M.cold.size} rows)`, r.status === 0 && !r.stderr, r.stderr);
  let j = maintain({ compact_max_bytes: 0 });
  eq(`${label}: the base rows are tiered`, j.rows_moved, M.cold.size);

  const reports = [];
  let nRejTotal = 0, killedRej = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    r = q(lateRound(M));
    check(`${label}: round ${round}: ${OPS} late writes accepted`, r.status === 0 && !r.stderr, r.stderr);
    checkRows(`round ${round}: before ts_maintain`);
    checkDesc(`round ${round}: before ts_maintain`);
    j = maintain({ compact_max_bytes: 0 });
    const nMem = M.mem.size;
    tierModel(M);
    check(`${label}: round ${round}: ts_maintain tiers the late rows, no compaction`,
      j.rows_moved === nMem && j.objects_compacted === 0 && j.rows_rejected === 0, JSON.stringify(j));
    checkRows(`round ${round}: after tiering (overlapping objects)`);
    checkDesc(`round ${round}: after tiering`);
    if (round === 1) {
      r = q(`SELECT count(*), sum(instr(footer, CAST('ts_write_mode' AS BLOB)) > 0) FROM t_objects;`);
      const [nAll, nMarked] = r.stdout.trim().split('|').map(Number);
      check(`${label}: the late objects carry ts_write_mode, the base objects do not (${nMarked} of ${nAll})`,
        nMarked > 0 && nMarked < nAll, r.stdout + r.stderr);
    }
    const KILL = ['rewrite-in-commit', 'compact-uploaded', 'rewrite-committed'];
    const kill = round === ROUNDS ? 'compact-uploaded' : KILL[(round - 1) % 3];
    if (M.pending.length) {
      // A pass killed (kill -9) at a crash point of a merge: before its
      // commit the upload and its report are left uncommitted, after it
      // the report is registered; the rerun reports every record once.
      r = q(`SELECT ts_debug_kill_at('${kill}');\nSELECT ts_maintain('t', '{"compact_target":"1GB"}');`);
      check(`${label}: round ${round}: a compaction killed at ${kill}`, r.status !== 0, `status ${r.status} ${r.stdout}`);
      r = q(`SELECT count(*) FROM ts_object_list(${lit(uri)}, 't/_rejected/');
             SELECT count(*) FROM t_config WHERE k GLOB 'cold.rejected:*';`);
      const [nStore, nReg] = r.stdout.trim().split('\n').map(Number);
      if (kill === 'rewrite-committed') {
        check(`${label}: round ${round}: the killed pass committed one report`, nStore === reports.length + 1 && nReg === nStore, r.stdout + r.stderr);
        r = q(`SELECT key FROM ts_object_list(${lit(uri)}, 't/_rejected/') ORDER BY key;`);
        const first = r.stdout.trim().split('\n').filter((k) => !reports.includes(k));
        reports.push(...first);
        r = q(`SELECT v FROM t_config WHERE k = 'cold.rejected:' || ${lit(first[0] || '')};`);
        nRejTotal += Number(r.stdout);
        killedRej += Number(r.stdout);
      } else {
        check(`${label}: round ${round}: the killed pass left an uncommitted report`, nStore === reports.length + 1 && nReg === reports.length, r.stdout + r.stderr);
      }
      checkRows(`round ${round}: after the compaction killed at ${kill}`);
    }
    // Odd rounds: every object is small (compact_target 1GB); even rounds:
    // every object counts as target-size (2 bytes), so only the objects
    // that late data overlaps are merged.
    j = maintain({ compact_target: round % 2 ? '1GB' : 2, orphan_grace: '0s' });
    check(`${label}: round ${round}: compaction merged objects`, j.objects_compacted > 0, JSON.stringify(j));
    eq(`${label}: round ${round}: rows_rejected counts the model's rejected writes`, j.rows_rejected + killedRej, M.pending.length);
    eq(`${label}: round ${round}: one report per merge with rejections`, j.rejected_reports.length > 0, M.pending.length > killedRej);
    killedRej = 0;
    reports.push(...j.rejected_reports);
    nRejTotal += j.rows_rejected || 0;
    M.rejected.push(...M.pending);
    M.pending = [];
    checkRows(`round ${round}: after compaction`);
  }

  // The reports: every key is under <t>/_rejected/, listed and registered.
  r = q(`SELECT key FROM ts_object_list(${lit(uri)}, 't/_rejected/') ORDER BY key;`);
  eq(`${label}: the store holds exactly the committed reports`, r.stdout.trim().split('\n').filter(Boolean), [...reports].sort());
  const got = [];
  let shapeOk = true;
  for (const k of reports) {
    r = q(`SELECT CAST(ts_object_get(${lit(uri + '/' + k)}) AS TEXT);`);
    let doc;
    try { doc = JSON.parse(r.stdout); } catch (e) { shapeOk = false; continue; }
    if (typeof doc.reportId !== 'string' || !Array.isArray(doc.errors)) shapeOk = false;
    for (const e of doc.errors) {
      if (typeof e.reason !== 'string' || typeof e.existingVersion !== 'number' || e.records.length !== 1) shapeOk = false;
      for (const rec of e.records) {
        const h = rec.dimensions.find((d) => d.name === 'host').value;
        const mv = Object.fromEntries(rec.measureValues.map((x) => [x.name, x]));
        if (rec.timeUnit !== 'NANOSECONDS' || rec.measureValueType !== 'MULTI' || mv.v.type !== 'DOUBLE') shapeOk = false;
        got.push(recKey({ h, m: rec.measureName, t: rec.time, ver: rec.version, v: Number(mv.v.value), s: mv.s ? mv.s.value : null }));
      }
    }
  }
  check(`${label}: the reports are Timestream error reports (reportId, errors: reason, existingVersion, records)`, shapeOk && reports.length > 0, reports.join(','));
  eq(`${label}: the reports list exactly the rejected writes, each once (${M.rejected.length})`,
    got.sort(), M.rejected.map(recKey).sort());
  r = q(`SELECT json_extract(ts_stats('t'), '$.magnetic.rows_rejected');`);
  eq(`${label}: ts_stats counts the rejected records`, r.stdout.trim(), String(nRejTotal));

  // A rerun finds nothing more: no new report, the rows stay.
  j = maintain({ compact_target: '1GB', orphan_grace: '0s' });
  check(`${label}: a rerun rejects nothing again`, j.rows_rejected === 0 && j.rejected_reports.length === 0, JSON.stringify(j));
  checkRows('after a rerun of ts_maintain');
  r = q(`SELECT ts_check('t');`);
  eq(`${label}: ts_check accepts the objects with ts_write_mode and the reports beside them`, r.stdout.trim(), 'ok');
}

const s3 = await startS3({ bucket: 'coldlate' });
await scenario('file', null, {}).catch((e) => check('file', false, e.stack));
await scenario('s3', 's3://coldlate/lake', s3.env).catch((e) => check('s3', false, e.stack));
await s3.stop();
done();
