// s3fixture.mjs: a local S3 server (and an optional fault-injecting proxy)
// for tests.  Reusable by any test that needs S3.
//
//   import { startS3 } from './s3fixture.mjs';
//   const s3 = await startS3({ bucket: 'test', proxy: true });
//   // s3.endpoint     'http://127.0.0.1:PORT'   (s3rver, verifies SigV4)
//   // s3.bucket       'test'                    (created empty)
//   // s3.env          AWS_* + TSLITE_S3_* variables for a child process
//   //                 (sqlite3 via lib.mjs sqlite(db, sql, {env: s3.env}),
//   //                 or a C helper): credentials S3RVER/S3RVER, region
//   //                 us-east-1, AWS_ENDPOINT_URL_S3 (plain http needs no opt-in),
//   //                 TSLITE_S3_RETRY_BASE_MS=20 (fast retries)
//   // s3.proxyEndpoint, s3.proxyEnv   same, through the fault proxy
//   //                 (only with {proxy: true})
//   await s3.fault({ mode: '503', count: 2 });  // next 2 requests get 503 SlowDown
//   //   mode: '503' (SlowDown), '500' (InternalError), 'reset' (TCP reset
//   //   before any response), 'truncate' (headers + half the body, then
//   //   close), 'delay' (wait delayMs, then forward), 'pass' (clear)
//   //   count: how many matching requests to affect (-1 = all, default 1)
//   //   method: only requests with this method ('PUT', 'GET', 'POST'...)
//   //   query: only requests whose URL contains this substring (e.g. 'uploadId')
//   //   delayMs: for 'delay' (default 3000)
//   const st = await s3.stats();   // {requests, faulted, connections, last} seen by the proxy;
//                                  // last = {method, url, headers} of the latest request
//   await s3.stop();               // kills the server process, removes its directory
//
// The server runs in a child node process (this file with --serve), so a
// test may block in spawnSync (sqlite3) while the server keeps answering.
// NODE_OPTIONS=--openssl-legacy-provider is set for it: s3rver encrypts
// ListObjectsV2 continuation tokens with DES, which OpenSSL 3 otherwise
// refuses (500 on every second page).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const SELF = fileURLToPath(import.meta.url);

export async function startS3({ bucket = 'test', proxy = false } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tslite-s3rver-'));
  const child = spawn(process.execPath, [SELF, '--serve', dir, bucket, proxy ? '1' : '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider', LD_PRELOAD: '' },
  });
  const info = await new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('s3rver did not start in 20 s')), 20000);
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) { clearTimeout(t); resolve(JSON.parse(buf.slice(0, nl))); }
    });
    child.on('exit', (code) => { clearTimeout(t); reject(new Error(`s3rver exited with ${code}`)); });
  });
  child.removeAllListeners('exit');
  const endpoint = `http://127.0.0.1:${info.port}`;
  const mkEnv = (ep) => ({
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_SESSION_TOKEN: '',
    AWS_REGION: 'us-east-1',
    AWS_PROFILE: '',
    AWS_ENDPOINT_URL_S3: ep,
    TSLITE_S3_RETRY_BASE_MS: '20',
  });
  const proxyEndpoint = info.proxyPort ? `http://127.0.0.1:${info.proxyPort}` : null;
  const control = (pathname, body) => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: info.controlPort, path: pathname, method: 'POST' }, (res) => {
      let s = '';
      res.on('data', (d) => { s += d; });
      res.on('end', () => resolve(s ? JSON.parse(s) : null));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body || {}));
  });
  return {
    endpoint, bucket, dir,
    env: mkEnv(endpoint),
    proxyEndpoint,
    proxyEnv: proxyEndpoint ? mkEnv(proxyEndpoint) : null,
    fault: (spec) => control('/fault', spec),
    stats: () => control('/stats', {}),
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => { if (child.exitCode !== null) r(); else child.on('exit', r); });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- server process ----

function s3Error(code, message) {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault</RequestId></Error>`;
}

async function serve(dir, bucket, withProxy) {
  const require = createRequire(import.meta.url);
  const S3rver = require('@20minutes/s3rver');
  const server = new S3rver({
    address: '127.0.0.1', port: 0, silent: true, directory: dir,
    configureBuckets: [{ name: bucket }],
  });
  const addr = await server.run();
  const out = { port: addr.port };
  let fault = { mode: 'pass', count: 0 };
  const stats = { requests: 0, faulted: 0, connections: 0 };
  const agent = new http.Agent({ keepAlive: true });

  const proxy = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      stats.requests++;
      stats.last = { method: req.method, url: req.url, headers: req.headers };
      const body = Buffer.concat(chunks);
      let mode = 'pass';
      if (fault.mode !== 'pass' && fault.count !== 0
          && (!fault.method || fault.method === req.method)
          && (!fault.query || req.url.includes(fault.query))) {
        mode = fault.mode;
        if (fault.count > 0) fault.count--;
        stats.faulted++;
      }
      if (mode === 'reset') { req.socket.resetAndDestroy(); return; }
      if (mode === 'body') {
        const b = Buffer.from(fault.body || '');
        res.writeHead(fault.status || 200, { 'Content-Type': 'application/xml', 'Content-Length': b.length });
        res.end(b);
        return;
      }
      if (mode === '503' || mode === '500' || mode === 'error') {
        const xml = mode === '503' ? s3Error('SlowDown', 'Please reduce your request rate.')
          : mode === '500' ? s3Error('InternalError', 'We encountered an internal error. Please try again.')
            : s3Error(fault.code || 'AccessDenied', `Injected ${fault.code || 'AccessDenied'}`);
        const status = mode === 'error' ? (fault.status || 403) : Number(mode);
        res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml) });
        res.end(xml);
        return;
      }
      const forward = () => {
        const up = http.request({
          host: '127.0.0.1', port: addr.port, method: req.method, path: req.url,
          headers: req.headers, agent,
        }, (ur) => {
          const parts = [];
          ur.on('data', (d) => parts.push(d));
          ur.on('end', () => {
            const ub = Buffer.concat(parts);
            if (mode === 'truncate' && ub.length > 1) {
              res.writeHead(ur.statusCode, { ...ur.headers, 'content-length': String(ub.length) });
              res.write(ub.subarray(0, Math.floor(ub.length / 2)));
              setTimeout(() => req.socket.destroy(), 20);
              return;
            }
            res.writeHead(ur.statusCode, ur.headers);
            res.end(ub);
          });
        });
        up.on('error', () => req.socket.destroy());
        up.end(body);
      };
      if (mode === 'delay') setTimeout(forward, fault.delayMs || 3000);
      else forward();
    });
  });
  const control = http.createServer((req, res) => {
    let s = '';
    req.on('data', (d) => { s += d; });
    req.on('end', () => {
      if (req.url === '/fault') {
        const spec = JSON.parse(s || '{}');
        fault = { mode: spec.mode || 'pass', count: spec.count === undefined ? 1 : spec.count,
          method: spec.method, query: spec.query, delayMs: spec.delayMs, status: spec.status, code: spec.code, body: spec.body };
      }
      res.end(JSON.stringify(stats));
    });
  });
  proxy.on('connection', () => { stats.connections++; });
  if (withProxy) {
    await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
    await new Promise((r) => control.listen(0, '127.0.0.1', r));
    out.proxyPort = proxy.address().port;
    out.controlPort = control.address().port;
  }
  process.on('SIGTERM', () => process.exit(0));
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

if (process.argv[2] === '--serve') {
  serve(process.argv[3], process.argv[4], process.argv[5] === '1').catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
