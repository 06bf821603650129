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
//   // s3.proxyEndpoint, s3.proxyEnv   same, through the fault proxy of
//   //                 tests/js/faultproxy.mjs (only with {proxy: true})
//   await s3.fault({ mode: '503', count: 2 });  // next 2 requests get 503 SlowDown
//   //   mode: '503' (SlowDown), '500' (InternalError), 'reset' (TCP reset
//   //   before any response), 'truncate' (headers + half the body, then
//   //   close), 'delay' (wait delayMs, then forward), 'random' (rate,
//   //   modes, seed: e.g. 10% of requests get one of 500/503/reset/
//   //   truncate), 'pass' (clear); all modes: tests/js/faultproxy.mjs
//   //   count: how many matching requests to affect (-1 = all, default 1)
//   //   method: only requests with this method ('PUT', 'GET', 'POST'...)
//   //   query: only requests whose URL contains this substring (e.g. 'uploadId')
//   //   delayMs: for 'delay' (default 3000)
//   const st = await s3.stats();   // {requests, faulted, connections, last} seen by the proxy;
//                                  // last = {method, url, headers} of the latest request
//   const log = await s3.log();    // every request through the proxy since the last
//                                  // call (then cleared): [{method, url, sse, kms, signed}],
//                                  // sse/kms = the x-amz-server-side-encryption[-aws-kms-key-id]
//                                  // headers as received (null if absent), signed = the
//                                  // Authorization header's SignedHeaders list
//   await s3.stop();               // kills the server process, removes its directory
//
// stats() also has methods = {GET: n, HEAD: n, LIST: n, PUT: n, ...}, requests per method
// (LIST: a GET with list-type=, ListObjectsV2), once a request came through the proxy.
//
// The server runs in a child node process (this file with --serve), so a
// test may block in spawnSync (sqlite3) while the server keeps answering.
// NODE_OPTIONS=--openssl-legacy-provider is set for it: s3rver encrypts
// ListObjectsV2 continuation tokens with DES, which OpenSSL 3 otherwise
// refuses (500 on every second page).
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { serveFaultProxy } from './faultproxy.mjs';

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
    // agent: false: a fresh connection per call (a reused keep-alive socket
    // the server has just closed fails with "socket hang up").
    const req = http.request({ host: '127.0.0.1', port: info.controlPort, path: pathname, method: 'POST', agent: false }, (res) => {
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
    log: () => control('/log', {}),
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => { if (child.exitCode !== null) r(); else child.on('exit', r); });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- server process ----

// s3rver's filesystem store writes an object's bytes straight into the file
// that GET and LIST read, and LIST takes the file's current size: a PUT is
// visible while its body is still arriving, and a PUT whose client was
// killed mid-body leaves a truncated object that lists and reads.  S3 never
// shows a partial object (a PUT is atomic: all of it after its 200, or
// nothing).  The crash tests kill clients mid-PUT, so the fixture gives the
// store S3's rule: the body goes to a temporary file (not an object to
// LIST, which looks for the "._S3rver_object" suffix), renamed into place
// once complete and removed when the upload fails.
function atomicPuts(Store) {
  let seq = 0;
  const putContent = Store.prototype.putContent;
  Store.prototype.putContent = async function (objectPath, content) {
    const tmp = `${objectPath}.partial-${process.pid}-${seq++}`;
    try {
      let res;
      if (Buffer.isBuffer(content)) {
        // (the original resolves a Buffer's write before it is flushed)
        await fs.promises.writeFile(tmp, content);
        res = [content.length, crypto.createHash('md5').update(content).digest('hex')];
      } else {
        res = await putContent.call(this, tmp, content);
      }
      await fs.promises.rename(tmp, objectPath);
      return res;
    } catch (e) {
      await fs.promises.rm(tmp, { force: true });
      throw e;
    }
  };
}

async function serve(dir, bucket, withProxy) {
  const require = createRequire(import.meta.url);
  const S3rver = require('@20minutes/s3rver');
  atomicPuts(require('@20minutes/s3rver/lib/stores/filesystem'));
  const server = new S3rver({
    address: '127.0.0.1', port: 0, silent: true, directory: dir,
    configureBuckets: [{ name: bucket }],
  });
  const addr = await server.run();
  const out = { port: addr.port };
  if (withProxy) Object.assign(out, await serveFaultProxy(addr.port));
  process.on('SIGTERM', () => process.exit(0));
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

if (process.argv[2] === '--serve') {
  serve(process.argv[3], process.argv[4], process.argv[5] === '1').catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
