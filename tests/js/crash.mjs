// crash.mjs: the shared kill -9 harness for node tests.
//
// A crash test has three parts, and this module runs the loop around them:
//   prepare(k)   optional: work done before round k, not killed (e.g. write
//                rows the round will tier, load or back up); returns a
//                string to report as failure, or null.
//   action(k)    the SQL text a child `sqlite3` process runs in round k (the
//                extension is loaded first); the child is killed with
//                SIGKILL after a random delay in [0, maxMs) ms, or runs to
//                its end when it is faster.  maxMs may be a function of k
//                (e.g. to let every n-th round run to its end, so later rounds
//                start from committed work rather than a growing backlog).
//                maxMs 'auto' calibrates itself: round 1 runs to its end, and
//                each later cap is 1.5 times the duration of the latest round
//                that ended on its own, so most rounds die mid-way on a fast
//                machine and on a loaded one alike.
//   verify(k, res) checks the database from a fresh process after round k
//                (res = {killed, code, out, err} of the child); returns a
//                failure string or null.  It must check the feature's
//                invariant: nothing committed lost, nothing doubled, the
//                store holding what the database names.
//   pointOf(k)   optional: a named crash point (ts_debug_kill_at) for round
//                k, or null for a random kill.  A named round has no delay:
//                the child kills itself at the point, and the round fails
//                unless it died there; verify sees res.killed true and
//                res.point.  Named rounds hit every crash point whatever the
//                machine's load, so with pointOf the random rounds need not
//                land anywhere in particular (no kill-count check unless
//                minKilled is given).
// crashRounds() runs `rounds` rounds, stops at the first failure, and prints
// two checks: every round verified, and enough rounds were really killed
// mid-way (a harness whose kills always land after the end proves nothing;
// with pointOf: that every named round died at its point).
// The delays come from a seeded generator, so a failing seed reproduces:
// TS_CRASH_SEED=<n> (printed in the failure message).
//
// See docs/internals/crash-testing.md for how a feature plugs in.
import { spawn } from 'node:child_process';
import { EXT, check, childEnv } from './lib.mjs';

// Run sql in a child sqlite3 on db with the extension loaded; SIGKILL it
// after ms milliseconds if it is still running.
export function killAfter(db, sql, { env = {}, ms = 50 } = {}) {
  return new Promise((resolve) => {
    const p = spawn('sqlite3', [db], { env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '', killed = false;
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    // Cleared on exit, so a long ms does not keep node alive after the child.
    const timer = setTimeout(() => { killed = p.exitCode === null; if (killed) p.kill('SIGKILL'); }, ms);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err, killed }); });
    p.stdin.end(`.load ${EXT}\n${sql}\n`);
  });
}

// A small deterministic generator (LCG) in [0, 1).
export function seeded(seed) {
  let s = seed >>> 0;
  return () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
}

export async function crashRounds({ label, db, rounds, maxMs = 120, env = {}, prepare, action, verify, minKilled, pointOf }) {
  const seed = Number(process.env.TS_CRASH_SEED || 12345);
  const rnd = seeded(seed);
  let bad = null, nKilled = 0, nPoint = 0, k = 0, tEnd = null;
  for (k = 1; k <= rounds && !bad; k++) {
    if (prepare) bad = await prepare(k);
    if (bad) { bad = `round ${k} prepare: ${bad}`; break; }
    const point = pointOf ? pointOf(k) : null;
    let cap, ms;
    if (point) ms = 1e9;
    else {
      if (maxMs === 'auto') cap = tEnd === null ? 1e9 : Math.max(20, 1.5 * tEnd);
      else cap = typeof maxMs === 'function' ? maxMs(k) : maxMs;
      ms = tEnd === null && maxMs === 'auto' ? 1e9 : Math.floor(rnd() * cap);
    }
    const sql = point ? `.output /dev/null\nSELECT ts_debug_kill_at('${point}');\n.output stdout\n${action(k)}` : action(k);
    const t0 = Date.now();
    const res = await killAfter(typeof db === 'function' ? db(k) : db, sql, { env, ms });
    if (point) {
      if (res.code !== null) { bad = `round ${k}: the child did not die at ${point} (exit ${res.code}: ${res.out} ${res.err})`; break; }
      res.killed = true;
      res.point = point;
      nPoint++;
    } else if (res.killed) nKilled++;
    else tEnd = Date.now() - t0;
    const why = await verify(k, res);
    if (why) bad = `round ${k} (${point ? `killed at ${point}` : `killed=${res.killed} after ${ms} ms`}, TS_CRASH_SEED=${seed}): ${why}`;
  }
  if (pointOf) {
    check(`${label}: ${rounds} rounds of kill -9 (${nPoint} at named points, ${rounds - nPoint} at random instants, ${nKilled} of those mid-way), every round verified`, !bad, bad);
    if (minKilled !== undefined) check(`${label}: ${nKilled} random rounds were killed mid-way (at least ${minKilled})`, nKilled >= minKilled, `${nKilled}`);
  } else {
    const need = minKilled ?? Math.min(5, Math.floor(rounds / 4));
    check(`${label}: ${rounds} rounds of kill -9, every round verified`, !bad, bad);
    check(`${label}: ${nKilled} rounds were killed mid-way (at least ${need})`, nKilled >= need, `${nKilled}`);
  }
  return { nKilled, nPoint, failed: !!bad };
}
