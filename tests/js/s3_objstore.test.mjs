// s3_objstore.test.mjs: the object-store interface suite (tests/unit/test_objstore.c)
// run against a real S3 server (s3rver on 127.0.0.1, which verifies SigV4):
// round trips of empty, 1-byte, 5 MiB+1 and 64 MiB (streamed: multipart
// across 8 parts) objects, odd keys, ranges at the edges, > 1000 keys listed
// across pages, deletes, copy, aborted writers.  Same binary and body as the
// file:// run in the unit pass.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startS3 } from './s3fixture.mjs';
import { check, done, SANITIZE } from './lib.mjs';

const BUILD = process.env.TS_BUILD || path.resolve('build');
const s3 = await startS3({ bucket: 'suite' });
try {
  const r = spawnSync(path.join(BUILD, 'tests', 'test_objstore'), [], {
    env: {
      ...process.env, ...s3.env,
      TS_OBJSTORE_URI: 's3://suite/prefix/dir',
      TS_OBJSTORE_QUIRKS: 's3rver',
      TS_OBJSTORE_BIG: String(SANITIZE ? (24 << 20) : (64 << 20)),
      TS_OBJSTORE_NLIST: '1100',
      TSLITE_S3_PART_SIZE: String(8 << 20),
    },
    encoding: 'utf8', timeout: 240000, maxBuffer: 1 << 26,
  });
  for (const line of (r.stdout || '').split('\n')) {
    if (/^(PASS|FAIL|SKIP) /.test(line)) console.log(line.replace(/^(\w+) /, '$1 s3: '));
    else if (line.startsWith('#')) console.log(line);
  }
  check('s3: interface suite exited cleanly', r.status === 0, `status ${r.status} ${r.error || ''} ${(r.stderr || '').slice(0, 2000)}`);

  // The same suite with client-side envelope encryption over S3.
  const e = spawnSync(path.join(BUILD, 'tests', 'test_objstore'), [], {
    env: {
      ...process.env, ...s3.env,
      TS_OBJSTORE_URI: 's3://suite/encrypted',
      TS_OBJSTORE_QUIRKS: 's3rver',
      TSLITE_CSE_KEY: '4f'.repeat(32),
      TSLITE_CSE_KEY_ID: 'test-key',
    },
    encoding: 'utf8', timeout: 240000, maxBuffer: 1 << 26,
  });
  for (const line of (e.stdout || '').split('\n')) {
    if (/^(PASS|FAIL|SKIP) /.test(line)) console.log(line.replace(/^(\w+) /, '$1 s3+cse: '));
    else if (line.startsWith('#')) console.log(line);
  }
  check('s3+cse: interface suite exited cleanly', e.status === 0, `status ${e.status} ${(e.stderr || '').slice(0, 2000)}`);
} finally {
  await s3.stop();
}
done();
