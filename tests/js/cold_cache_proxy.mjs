// cold_cache_proxy.mjs: a request-counting HTTP proxy in front of an S3
// endpoint, in the calling process, for the cold cache's tests and bench
// (tests/js/cold_cache.test.mjs, bench/cold_cache.mjs).  Run sqlite3 with
// child_process.spawn (not spawnSync) while it counts: the proxy answers
// from this process's event loop.
//
//   const px = await startCountingProxy('http://127.0.0.1:4569');
//   px.endpoint            'http://127.0.0.1:PORT' (use as AWS_ENDPOINT_URL_S3)
//   px.counts()            {GET, HEAD, LIST, PUT, ...}: requests so far, LIST =
//                          a GET with list-type= (ListObjectsV2), GET = the others
//   await px.counted(fn)   fn's result (an object) plus the requests made while
//                          it ran: {...r, get, head, list, all}
//   await px.stop()
// Requests are forwarded with their headers unchanged (the Host header the
// client signed included), so SigV4 verification upstream still holds.
import http from 'node:http';

export async function startCountingProxy(upstream) {
  const up = new URL(upstream);
  const counts = {};
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const m = req.method === 'GET' && /[?&]list-type=/.test(req.url) ? 'LIST' : req.method;
    counts[m] = (counts[m] || 0) + 1;
    const fwd = http.request({
      host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers, agent,
    }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    fwd.on('error', () => req.socket.destroy());
    req.pipe(fwd);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    counts: () => ({ ...counts }),
    counted: async (fn) => {
      const a = { ...counts };
      const r = await fn();
      const d = (m) => (counts[m] || 0) - (a[m] || 0);
      const all = Object.keys(counts).reduce((n, m) => n + d(m), 0);
      return { ...r, get: d('GET'), head: d('HEAD'), list: d('LIST'), all };
    },
    stop: () => new Promise((r) => { agent.destroy(); server.close(() => r()); server.closeAllConnections?.(); }),
  };
}
