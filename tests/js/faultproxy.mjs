// faultproxy.mjs: the fault-injecting HTTP proxy in front of s3rver, shared
// by every S3 test (tests/js/s3fixture.mjs starts it with {proxy: true} in
// its server process; batch_load, cold_faults and s3_faults drive it
// through s3.fault() and s3.stats()).
//
//   import { serveFaultProxy } from './faultproxy.mjs';
//   const { proxyPort, controlPort } = await serveFaultProxy(upstreamPort);
//
// Control (POST JSON to the control port; s3fixture's s3.fault(spec)):
//   /fault {mode, count, method, query, ...}
//     mode: '503' (SlowDown), '500' (InternalError), 'reset' (TCP reset
//       before any response), 'truncate' (headers + half the body, then
//       close; responses without a body pass), 'delay' (wait delayMs, then
//       forward), 'error' (status + S3 code), 'body' (status + given body),
//       'random' (each matching request, with probability rate, gets one of
//       modes, default ['500', '503', 'reset', 'truncate'], from a generator
//       seeded with seed: the same run faults the same requests), 'pass'
//     count: how many matching requests to affect (-1 = all, default 1;
//       for 'random' the number of faults injected at most)
//     method / query: only requests with this method / whose URL contains it
//   /stats -> {requests, faulted, connections, byMode, last, methods}
//             (methods: requests per method, LIST = a GET with list-type=)
//   /log   -> every request since the last /log (then cleared):
//             [{method, url, sse, kms, signed}] (sse/kms: the
//             x-amz-server-side-encryption[-aws-kms-key-id] headers or null;
//             signed: the Authorization header's SignedHeaders)
export const FAULT_MODES = ['500', '503', 'reset', 'truncate'];

import http from 'node:http';
import { rng } from './lib.mjs';

function s3Error(code, message) {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault</RequestId></Error>`;
}


export async function serveFaultProxy(upstreamPort) {
  let fault = { mode: 'pass', count: 0 };
  let rnd = rng(1);
  const stats = { requests: 0, faulted: 0, connections: 0, byMode: {} };
  let log = [];
  const agent = new http.Agent({ keepAlive: true });

  const pickMode = (req) => {
    if (fault.mode === 'pass' || fault.count === 0) return 'pass';
    if (fault.method && fault.method !== req.method) return 'pass';
    if (fault.query && !req.url.includes(fault.query)) return 'pass';
    let mode = fault.mode;
    if (mode === 'random') {
      if (rnd() >= (fault.rate ?? 0.1)) return 'pass';
      const modes = fault.modes || FAULT_MODES;
      mode = modes[Math.floor(rnd() * modes.length)];
    }
    if (fault.count > 0) fault.count--;
    stats.faulted++;
    stats.byMode[mode] = (stats.byMode[mode] || 0) + 1;
    return mode;
  };

  const proxy = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      stats.requests++;
      const m = req.method === 'GET' && /[?&]list-type=/.test(req.url) ? 'LIST' : req.method;
      stats.methods = stats.methods || {};
      stats.methods[m] = (stats.methods[m] || 0) + 1;
      stats.last = { method: req.method, url: req.url, headers: req.headers };
      if (log.length < 100000) {
        log.push({ method: req.method, url: req.url,
          sse: req.headers['x-amz-server-side-encryption'] ?? null,
          kms: req.headers['x-amz-server-side-encryption-aws-kms-key-id'] ?? null,
          signed: (/SignedHeaders=([^,\s]*)/.exec(req.headers.authorization || '') || [])[1] ?? null });
      }
      const body = Buffer.concat(chunks);
      const mode = pickMode(req);
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
          host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url,
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
        fault = { mode: spec.mode || 'pass', count: spec.count === undefined ? (spec.mode === 'random' ? -1 : 1) : spec.count,
          method: spec.method, query: spec.query, delayMs: spec.delayMs, status: spec.status, code: spec.code,
          body: spec.body, rate: spec.rate, modes: spec.modes };
        if (spec.mode === 'random') rnd = rng(spec.seed ?? 1);
      }
      if (req.url === '/log') { res.end(JSON.stringify(log)); log = []; return; }
      res.end(JSON.stringify(stats));
    });
  });
  proxy.on('connection', () => { stats.connections++; });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  await new Promise((r) => control.listen(0, '127.0.0.1', r));
  return { proxyPort: proxy.address().port, controlPort: control.address().port };
}
