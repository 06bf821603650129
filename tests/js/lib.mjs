// Shared helpers for node tests (tests/js/*.test.mjs).
//
// Protocol (tests/run.sh): print "PASS name", "FAIL name: why" or
// "SKIP name: why", one line per check.  Use check()/eq() below.
//
// sqlite(dbPath, sql): runs the system `sqlite3` shell with the extension
// loaded (LD_PRELOADing libasan under the sanitizer pass) and returns
// {status, stdout, stderr}.  sqliteAsync(dbPath, sql, {env}): the same
// without blocking the event loop (a server in this process, e.g. the
// counting proxy, must answer meanwhile); resolves to {status, stdout,
// stderr}.  sharedDir(): absolute path of ../shared, or null
// when absent (a user's clone): tests that need it must skip().
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';

export const ROOT = process.env.TS_ROOT || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const EXT = process.env.TS_EXT || path.join(ROOT, 'build', 'tslite');
export const SANITIZE = process.env.TS_SANITIZE === '1';

let nFail = 0;
export function pass(name) { console.log(`PASS ${name}`); }
export function fail(name, why) { nFail++; console.log(`FAIL ${name}: ${String(why).replace(/\n/g, '\\n')}`); }
export function skip(name, why) { console.log(`SKIP ${name}: ${why}`); }
export function check(name, cond, why = 'condition false') { cond ? pass(name) : fail(name, why); }
export function eq(name, got, exp) {
  const g = JSON.stringify(got), e = JSON.stringify(exp);
  g === e ? pass(name) : fail(name, `got ${g.slice(0, 2000)}, expected ${e.slice(0, 2000)}`);
}
export function failed() { return nFail; }
// Call at the end of a test: exit status reflects the checks.
// mulberry32: a small seeded generator in [0, 1) (the same data, queries and
// faults on every run of a seed).
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function done() { process.exitCode = nFail ? 1 : 0; }

export function childEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  if (process.env.TS_PRELOAD) {
    env.LD_PRELOAD = process.env.TS_PRELOAD;
    env.ASAN_OPTIONS = 'detect_leaks=0:abort_on_error=1';
  }
  return env;
}

export function sqlite(dbPath, sql, { env = {}, timeout = 300000 } = {}) {
  const r = spawnSync('sqlite3', ['-bail', '-cmd', `.load ${EXT}`, dbPath], {
    input: sql, env: childEnv(env), encoding: 'utf8', timeout, maxBuffer: 1 << 28,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error };
}

export function sqliteAsync(dbPath, sql, { env = {} } = {}) {
  return new Promise((resolve) => {
    const p = spawn('sqlite3', ['-bail', '-cmd', `.load ${EXT}`, dbPath], { env: childEnv(env) });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (status) => resolve({ status, stdout, stderr }));
    p.stdin.end(sql);
  });
}

export function sharedDir() {
  const d = path.resolve(ROOT, '..', 'shared');
  return fs.existsSync(path.join(d, 'DESIGN.md')) ? d : null;
}

export function tmpDir(prefix = 'tslite-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
