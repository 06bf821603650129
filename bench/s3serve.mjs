// bench/s3serve.mjs: the S3 server of bench/run.sh's tslite-cold-s3 system.
// Starts an @20minutes/s3rver on 127.0.0.1 on a free port
// (tests/js/s3fixture.mjs startS3, which verifies SigV4) with an empty
// bucket, behind the request-counting proxy of tests/js/cold_cache_proxy.mjs,
// and lives until its stdin closes, or SIGTERM / SIGINT; then it stops the
// server and removes its directory.
//
//   node bench/s3serve.mjs [BUCKET]        (default "bench")
//
// stdout, one line each: the environment a client needs, as NAME=VALUE
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3
// = the proxy, ...), then "ready <endpoint> <bucket>".  The values go through
// this pipe, never through a command line, so they land in no result JSON
// and no process list.
//
// stdin, one command a line: "counts" answers one line
// "counts {"GET":n,"HEAD":n,"LIST":n,"PUT":n,...}" (requests the proxy has
// forwarded since it started; LIST = ListObjectsV2); anything else is ignored.
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startS3 } = await import(path.join(ROOT, 'tests/js/s3fixture.mjs'));
const { startCountingProxy } = await import(path.join(ROOT, 'tests/js/cold_cache_proxy.mjs'));

const bucket = process.argv[2] || 'bench';
const s3 = await startS3({ bucket });
const px = await startCountingProxy(s3.endpoint);

let stopping = null;
function stop() {
  if (!stopping) {
    stopping = (async () => {
      await px.stop().catch(() => {});
      await s3.stop().catch(() => {});
      process.exit(0);
    })();
  }
  return stopping;
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

const env = { ...s3.env, AWS_ENDPOINT_URL_S3: px.endpoint };
for (const [k, v] of Object.entries(env)) {
  if (/[\s'"\\$`]/.test(v)) throw new Error(`s3serve: ${k} has a character the reader cannot take`);
  process.stdout.write(`${k}=${v}\n`);
}
process.stdout.write(`ready ${px.endpoint} ${bucket}\n`);

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() === 'counts') process.stdout.write(`counts ${JSON.stringify(px.counts())}\n`);
});
rl.on('close', stop);
