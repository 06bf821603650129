// s3_faults.test.mjs: retries and failure reporting of the S3 back end,
// through the fault-injecting proxy of s3fixture.mjs in front of s3rver.
//   transient faults (503 SlowDown, 500, connection reset, truncated body,
//   a stalled response past the timeout, a clock-skew 403) succeed after
//   retries with the exact bytes; permanent faults fail in bounded time with
//   the documented message (operation, s3:// name, HTTP status, S3 code,
//   attempts); 4xx errors are not retried; a failed upload (single or
//   multipart) leaves no object visible; a wrong secret is rejected by the
//   server (SigV4 verified) and never appears in the message.
// Uses build/tools/objtool (tests/tools/objtool.c).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startS3 } from './s3fixture.mjs';
import { check, eq, done, childEnv } from './lib.mjs';

const BUILD = process.env.TS_BUILD || path.resolve('build');
const TOOL = path.join(BUILD, 'tools', 'objtool');
const s3 = await startS3({ bucket: 'faults', proxy: true });

function tool(env, ...args) {
  const t0 = Date.now();
  const r = spawnSync(TOOL, args.map(String), {
    env: childEnv({ ...env, TSLITE_S3_PART_SIZE: String(5 << 20) }), encoding: 'utf8', timeout: 60000,
  });
  return { out: (r.stdout || '').trim(), err: r.stderr || '', status: r.status, ms: Date.now() - t0 };
}
const viaProxy = (...a) => tool({ ...s3.proxyEnv, AWS_MAX_ATTEMPTS: '4' }, ...a);
const direct = (...a) => tool(s3.env, ...a);
const U = (k) => `s3://faults/f/${k}`;
async function faulted(spec, fn) {
  await s3.fault(spec);
  const before = await s3.stats();
  const r = fn();
  const after = await s3.fault({ mode: 'pass' });
  r.faulted = after.faulted - before.faulted;
  r.requests = after.requests - before.requests;
  return r;
}

try {
  // --- transient faults succeed after retries ---
  let r = await faulted({ mode: '503', count: 2, method: 'PUT' }, () => viaProxy('put', U('slowdown'), 1000, 1));
  eq('503 SlowDown x2 then put succeeds', r.out, 'OK 1000');
  eq('503: two requests faulted', r.faulted, 2);
  eq('503: object intact', direct('expect', U('slowdown'), 1000, 1).out.split(' ')[0], 'OK');

  r = await faulted({ mode: '500', count: 2, method: 'GET' }, () => viaProxy('expect', U('slowdown'), 1000, 1));
  check('500 x2 then get returns the exact bytes', r.out.startsWith('OK 1000 '), r.out);
  eq('500: retried', r.faulted, 2);

  r = await faulted({ mode: 'reset', count: 2, method: 'GET' }, () => viaProxy('expect', U('slowdown'), 1000, 1));
  check('connection reset x2 then get succeeds', r.out.startsWith('OK 1000 '), r.out);

  r = await faulted({ mode: 'reset', count: 1, method: 'PUT' }, () => viaProxy('put', U('reset-put'), 3000, 2));
  eq('connection reset during put then retried put succeeds', r.out, 'OK 3000');
  check('reset put: object intact', direct('expect', U('reset-put'), 3000, 2).out.startsWith('OK'));

  r = await faulted({ mode: 'truncate', count: 1, method: 'GET' }, () => viaProxy('expect', U('slowdown'), 1000, 1));
  check('truncated body is detected and retried', r.out.startsWith('OK 1000 '), r.out);
  eq('truncate: one faulted request', r.faulted, 1);

  r = await faulted({ mode: 'delay', count: 1, delayMs: 4000, method: 'GET' },
    () => tool({ ...s3.proxyEnv, TSLITE_S3_TIMEOUT_MS: '1000' }, 'expect', U('slowdown'), 1000, 1));
  check('stalled response times out and the retry succeeds', r.out.startsWith('OK 1000 '), r.out);
  check('stall: bounded time (< 3.9 s)', r.ms < 3900, `${r.ms} ms`);

  r = await faulted({ mode: 'error', status: 403, code: 'RequestTimeTooSkewed', count: 1 },
    () => viaProxy('expect', U('slowdown'), 1000, 1));
  check('clock skew 403 is re-signed once and succeeds', r.out.startsWith('OK 1000 '), r.out);

  r = await faulted({ mode: '503', count: 1, query: 'partNumber=2' }, () => viaProxy('stream', U('multi'), (12 << 20) + 7, 3));
  eq('multipart: transient fault on part 2 is retried', r.out, `OK ${(12 << 20) + 7}`);
  check('multipart: object intact', direct('expect', U('multi'), (12 << 20) + 7, 3).out.startsWith('OK'));

  // --- errors inside a 200 ---
  const err200 = '<?xml version="1.0" encoding="UTF-8"?>\n\n  <Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>';
  r = await faulted({ mode: 'body', status: 200, body: err200, count: 1, method: 'POST', query: 'uploadId' },
    () => viaProxy('stream', U('complete-200'), (6 << 20) + 1, 8));
  eq('Complete: <Error> inside a 200 is retried', r.out, `OK ${(6 << 20) + 1}`);
  check('Complete-200: object intact', direct('expect', U('complete-200'), (6 << 20) + 1, 8).out.startsWith('OK'));
  r = await faulted({ mode: 'body', status: 200, body: err200, count: -1, method: 'POST', query: 'uploadId' },
    () => viaProxy('stream', U('complete-200-perm'), (6 << 20) + 1, 8));
  check('Complete: persistent <Error> in a 200 fails with its code',
    /^ERR 1 S3 CompleteMultipartUpload s3:\/\/faults\/f\/complete-200-perm failed: HTTP 200 InternalError: We encountered an internal error\. after 4 attempts/.test(r.out), r.out);
  check('Complete-200-perm: not visible', direct('head', U('complete-200-perm')).out.startsWith('ERR 2 '));

  // --- DeleteObjects ---
  for (const k of ['d1', 'd 2', 'd&3']) direct('put', U(`del/${k}`), 5, 9);
  r = direct('deletemany', 's3://faults/f', 'del/d1', 'del/d 2', 'del/d&3', 'del/missing');
  eq('DeleteObjects: batch delete (missing key counts as deleted)', r.out, 'OK');
  eq('DeleteObjects: nothing left', direct('list', 's3://faults/f/del').out, 'OK 0 0');
  const delErr = '<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    + '<Error><Key>f/del/x</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'
    + '<Error><Key>f/del/y</Key><Code>InternalError</Code><Message>oops</Message></Error></DeleteResult>';
  r = await faulted({ mode: 'body', status: 200, body: delErr, count: 1, method: 'POST', query: 'delete' },
    () => viaProxy('deletemany', 's3://faults/f', 'del/x', 'del/y', 'del/z'));
  eq('DeleteObjects: per-key errors inside a 200 are reported',
    r.out, 'ERR 1 S3 DeleteObjects s3://faults: 2 of 3 keys failed; first: s3://faults/f/del/x: AccessDenied: Access Denied');

  // --- permanent faults fail in bounded time, nothing visible ---
  r = await faulted({ mode: '503', count: -1, method: 'PUT' }, () => viaProxy('put', U('never'), 10, 4));
  check('permanent 503: fails', r.status === 1);
  check('permanent 503: documented message', /^ERR 1 S3 PutObject s3:\/\/faults\/f\/never failed: HTTP 503 SlowDown: Please reduce your request rate\. after 4 attempts in [0-9.]+ s$/.test(r.out), r.out);
  eq('permanent 503: 4 attempts', r.faulted, 4);
  check('permanent 503: bounded time (< 10 s)', r.ms < 10000, `${r.ms} ms`);
  check('permanent 503: nothing visible', direct('head', U('never')).out.startsWith('ERR 2 '));

  r = await faulted({ mode: 'reset', count: -1 }, () => viaProxy('get', U('slowdown')));
  check('permanent reset: message names curl error and attempts',
    /^ERR 1 S3 GetObject s3:\/\/faults\/f\/slowdown failed: .*\(curl error \d+: .*\) after 4 attempts in [0-9.]+ s$/.test(r.out), r.out);

  r = await faulted({ mode: 'error', status: 403, code: 'AccessDenied', count: -1 }, () => viaProxy('get', U('slowdown')));
  eq('4xx is not retried: one attempt', r.faulted, 1);
  check('4xx message', /^ERR 1 S3 GetObject s3:\/\/faults\/f\/slowdown failed: HTTP 403 AccessDenied: Injected AccessDenied after 1 attempt in/.test(r.out), r.out);

  r = await faulted({ mode: '500', count: -1, query: 'partNumber=2' }, () => viaProxy('stream', U('multi-fail'), (11 << 20), 5));
  check('multipart: permanent part failure fails naming UploadPart', /^ERR 1 S3 UploadPart s3:\/\/faults\/f\/multi-fail failed: HTTP 500 InternalError/.test(r.out), r.out);
  check('multipart: failed upload not visible', direct('head', U('multi-fail')).out.startsWith('ERR 2 '));

  r = await faulted({ mode: '500', count: -1, query: 'uploadId', method: 'POST' }, () => viaProxy('stream', U('complete-fail'), (6 << 20), 6));
  check('multipart: failing Complete fails naming it', /^ERR 1 S3 CompleteMultipartUpload s3:\/\/faults\/f\/complete-fail failed: HTTP 500/.test(r.out), r.out);
  check('multipart: not visible after failed Complete', direct('head', U('complete-fail')).out.startsWith('ERR 2 '));

  // --- connection reuse: one process, many requests, one connection ---
  for (let i = 0; i < 12; i++) direct('put', U(`reuse/k${String(i).padStart(2, '0')}`), 3, i);
  let before = await s3.stats();
  r = tool({ ...s3.proxyEnv, TSLITE_S3_LIST_PAGE: '2' }, 'list', 's3://faults/f/reuse');
  let after = await s3.stats();
  eq('listing 12 keys in pages of 2', r.out, 'OK 12 36 k00 k11');
  eq('6 list requests', after.requests - before.requests, 6);
  eq('... over one kept-alive connection', after.connections - before.connections, 1);

  // --- client-side encryption over S3: ranged reads reuse the object's header ---
  const cse = { TSLITE_CSE_KEY: '5a'.repeat(32), TSLITE_CSE_KEY_ID: 'k' };
  r = tool({ ...s3.env, ...cse }, 'put', U('cse'), 300000, 11);
  eq('cse put', r.out, 'OK 300000');
  const plain = tool({ ...s3.env }, 'head', U('cse')).out.split(' ')[1];
  eq('cse: stored size is 128 + P + 16 per 64 KiB segment', plain, String(128 + 300000 + 16 * 5));
  before = await s3.stats();
  const rr = tool({ ...s3.proxyEnv, ...cse }, 'getranges', U('cse'), 299990, 10, 0, 8, 70000, 100, 200000, 50);
  after = await s3.stats();
  const want = tool({ ...s3.env, ...cse }, 'getranges', U('cse'), 299990, 10, 0, 8, 70000, 100, 200000, 50);
  check('cse: 4 ranged reads return the right bytes', rr.out === want.out && rr.out.startsWith('OK 168 '), `${rr.out} vs ${want.out}`);
  eq('cse: HEAD + header + 4 segment reads = 6 requests (header cached)', after.requests - before.requests, 6);
  r = tool({ ...s3.env, ...cse, TSLITE_CSE_KEY: '5b'.repeat(32) }, 'get', U('cse'));
  check('cse: wrong master key is detected', /^ERR 4 object s3:\/\/faults\/f\/cse: cannot unwrap its data key with key 'k' \(wrong master key, or the header was tampered with\)$/.test(r.out), r.out);

  // --- clock skew answered without a Date header: ServerTime from the body ---
  const skewBody = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message><ServerTime>${new Date().toISOString()}</ServerTime></Error>`;
  r = await faulted({ mode: 'body', status: 403, body: skewBody, count: 1 }, () => viaProxy('expect', U('slowdown'), 1000, 1));
  check('clock skew (ServerTime in body) re-signed and succeeds', r.out.startsWith('OK 1000 '), r.out);
  r = await faulted({ mode: 'body', status: 403, body: skewBody, count: -1 }, () => viaProxy('get', U('slowdown')));
  eq('persistent clock skew: re-signed only once', r.faulted, 2);
  r = await faulted({ mode: 'body', status: 403, body: '', count: 1, method: 'HEAD' }, () => viaProxy('head', U('slowdown')));
  check('HEAD 403 without body explains the ListBucket case', r.out.includes('HTTP 403 (no error body) after 1 attempt') && r.out.includes('s3:ListBucket'), r.out);

  // --- server-side encryption headers are sent and signed (s3rver verifies) ---
  r = tool({ ...s3.proxyEnv, TSLITE_S3_SSE: 'sse_kms', TSLITE_S3_KMS_KEY: 'alias/tslite-test' }, 'put', U('sse'), 10, 7);
  let st = await s3.stats();
  eq('sse_kms put succeeds (headers signed correctly)', r.out, 'OK 10');
  eq('sse_kms header sent', st.last.headers['x-amz-server-side-encryption'], 'aws:kms');
  eq('sse_kms key id sent', st.last.headers['x-amz-server-side-encryption-aws-kms-key-id'], 'alias/tslite-test');
  check('sse headers are signed', /SignedHeaders=[^,]*x-amz-server-side-encryption;x-amz-server-side-encryption-aws-kms-key-id/.test(st.last.headers.authorization || ''), st.last.headers.authorization);
  check('payload hash and Content-MD5 sent', st.last.headers['x-amz-content-sha256'].length === 64 && st.last.headers['content-md5'].length === 24);
  r = tool({ ...s3.proxyEnv, TSLITE_S3_SSE: 'sse_s3' }, 'put', U('sse'), 10, 7);
  st = await s3.stats();
  eq('sse_s3 header sent', st.last.headers['x-amz-server-side-encryption'], 'AES256');
  r = tool({ ...s3.proxyEnv, TSLITE_S3_SSE: 'aes' }, 'put', U('sse'), 10, 7);
  check('bad sse value refused', r.out.includes("server-side encryption 'aes' is not 'sse_s3' or 'sse_kms'"), r.out);
  const token = `session-token-value${'Ab0/+='.repeat(500)}`;   // 3 KB, like STS role tokens
  r = tool({ ...s3.proxyEnv, AWS_SESSION_TOKEN: token }, 'head', U('sse'));
  st = await s3.stats();
  eq('session token (3 KB) sent whole as x-amz-security-token', st.last.headers['x-amz-security-token'], token);
  check('session token is signed', /SignedHeaders=[^,]*x-amz-security-token/.test(st.last.headers.authorization || ''), st.last.headers.authorization);
  check('session token never in output', !r.out.includes('session-token-value') && !r.err.includes('session-token-value'), r.out);

  // AWS's SignatureDoesNotMatch body echoes the canonical request, whose
  // header lines include x-amz-security-token: TSLITE_S3_TRACE=1 must not
  // copy that to stderr (docs: "never headers or credentials").
  const sigBody = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code>'
    + '<Message>The request signature we calculated does not match the signature you provided.</Message>'
    + '<AWSAccessKeyId>AKIDEXAMPLE</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256</StringToSign>'
    + `<CanonicalRequest>GET\n/faults/f/slowdown\n\nx-amz-security-token:trace-token-SECRET\n</CanonicalRequest>`
    + '<CanonicalRequestBytes>78 2d 61 6d 7a</CanonicalRequestBytes><RequestId>r1</RequestId></Error>';
  r = await faulted({ mode: 'body', status: 403, body: sigBody, count: 1 },
    () => tool({ ...s3.proxyEnv, AWS_SESSION_TOKEN: 'trace-token-SECRET', TSLITE_S3_TRACE: '1' }, 'get', U('slowdown')));
  check('trace: error body still traced (code shown)', r.err.includes('SignatureDoesNotMatch'), r.err);
  check('trace: echoed canonical request (session token) not printed', !r.err.includes('trace-token-SECRET') && !r.out.includes('trace-token-SECRET'), r.err);

  // A server that answers every ListObjectsV2 page with the same
  // continuation token would loop the listing forever: it must stop.
  const loopBody = '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>faults</Name>'
    + '<IsTruncated>true</IsTruncated><NextContinuationToken>same-token</NextContinuationToken>'
    + '<Contents><Key>f/loop/a</Key><Size>1</Size><LastModified>2024-05-01T00:00:00.000Z</LastModified><ETag>"x"</ETag></Contents>'
    + '</ListBucketResult>';
  r = await faulted({ mode: 'body', status: 200, body: loopBody, count: -1, method: 'GET', query: 'list-type' },
    () => viaProxy('list', 's3://faults/f/loop'));
  check('list: repeated continuation token is an error, not an endless loop',
    r.out.includes('ListObjectsV2 s3://faults/f/loop') && r.out.includes("repeated the continuation token"), r.out);
  check('list: stopped after 2 pages', r.faulted === 2, String(r.faulted));

  // --- wrong secret: the server verifies SigV4 ---
  r = tool({ ...s3.env, AWS_SECRET_ACCESS_KEY: 'not-the-secret-XYZ' }, 'get', U('slowdown'));
  check('tampered secret rejected by server', /^ERR 1 S3 GetObject s3:\/\/faults\/f\/slowdown failed: HTTP 403 SignatureDoesNotMatch: .* after 1 attempt in/.test(r.out), r.out);
  check('secret never in the message', !r.out.includes('not-the-secret-XYZ') && !r.err.includes('not-the-secret-XYZ'));
  r = tool({ ...s3.env, AWS_ACCESS_KEY_ID: 'NOBODY' }, 'get', U('slowdown'));
  check('unknown access key rejected', /HTTP 403 InvalidAccessKeyId/.test(r.out), r.out);

  // --- configuration errors ---
  // An endpoint is used exactly as configured (no opt-in for http; the
  // variable is a no-op), and the Host header and SigV4 canonical host come
  // from the host and port curl_url parsed: s3rver verifies the signature.
  const port = new URL(s3.endpoint).port;
  for (const ep of [s3.endpoint, `http://localhost:${port}/`, `HTTP://127.0.0.1:${port}`]) {
    r = tool({ ...s3.env, AWS_ENDPOINT_URL_S3: ep, TSLITE_S3_ALLOW_HTTP: '' }, 'get', U('slowdown'));
    check(`plain http endpoint ${ep} works without TSLITE_S3_ALLOW_HTTP`, r.out.startsWith('OK 1000 '), r.out);
  }
  r = tool({ ...s3.env, AWS_ENDPOINT_URL_S3: s3.endpoint, TSLITE_S3_ALLOW_HTTP: '0' }, 'get', U('slowdown'));
  check('TSLITE_S3_ALLOW_HTTP=0 changes nothing (documented no-op)', r.out.startsWith('OK 1000 '), r.out);
  // Userinfo would once have been read as host 127.0.0.1 and port "x@...".
  r = tool({ ...s3.env, AWS_ENDPOINT_URL_S3: `http://127.0.0.1:s3cr3t-pw@localhost:${port}` }, 'get', U('slowdown'));
  check('userinfo in the endpoint refused, not echoed',
    r.out.includes(`s3 endpoint 'http://<userinfo>@localhost:${port}': a user name or password in the endpoint is not supported`)
    && !r.out.includes('s3cr3t') && !r.err.includes('s3cr3t'), r.out);
  r = tool({ ...s3.env, AWS_ENDPOINT_URL_S3: `${s3.endpoint}/?X-Amz-Security-Token=tok3n` }, 'get', U('slowdown'));
  check('query in the endpoint refused, not echoed',
    r.out.includes(`s3 endpoint '${s3.endpoint}/?<query>': a query string is not supported`) && !r.out.includes('tok3n'), r.out);
  r = tool({ ...s3.env, AWS_ENDPOINT_URL_S3: `${s3.endpoint}/minio` }, 'get', U('slowdown'));
  check('path in the endpoint refused', r.out.includes(`s3 endpoint '${s3.endpoint}/minio': a path is not supported`), r.out);
  r = tool({ ...s3.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', HOME: '/nonexistent' }, 'get', U('slowdown'));
  check('missing credentials message', r.out.includes('no AWS credentials'), r.out);
  r = tool({ ...s3.env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1' }, 'get', U('slowdown'));
  check('connection refused: bounded, names the failure', r.out.includes("Couldn't connect") && r.ms < 10000, `${r.out} ${r.ms}`);
} finally {
  await s3.stop();
}
done();
