#!/usr/bin/env bash
# bench_smoke: `make bench` in quick mode end to end (tiny scale), plus the
# benchmark's own guarantees: the generator is deterministic and follows the
# TSBS value rules, the result JSON is written, the checksums of every query
# instance agree across the systems that ran, and the report really fails
# when a checksum differs.
set -u
cd "${TS_ROOT:-$(dirname "$0")/../..}"
B=${TS_BUILD:-$PWD/build}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass() { echo "PASS bench_smoke: $1"; }
fail() { echo "FAIL bench_smoke: $1"; }
skip() { echo "SKIP bench_smoke: $1"; }

if ! command -v node >/dev/null; then
  skip "node is not installed"
  exit 0
fi
make -s -f bench/Makefile B="$B" >"$TMP/make.log" 2>&1 || { fail "bench programs do not build: $(tail -3 "$TMP/make.log")"; exit 1; }
GEN="$B/bench/tsbs_gen"

# 1. Generator: deterministic, TSBS value rules, tsbs-int == trunc(real-float).
"$GEN" data -o "$TMP/a.bin" -v tsbs-int -H 9 -D 0.6 -s 7 &&
  "$GEN" data -o "$TMP/b.bin" -v tsbs-int -H 9 -D 0.6 -s 7 &&
  "$GEN" data -o "$TMP/f.bin" -v real-float -H 9 -D 0.6 -s 7 ||
  { fail "tsbs_gen data failed"; exit 1; }
if cmp -s "$TMP/a.bin" "$TMP/b.bin"; then pass "generator is deterministic"; else fail "same seed gave different data files"; fi
"$GEN" data -o "$TMP/c.bin" -v tsbs-int -H 9 -D 0.6 -s 8
if cmp -s "$TMP/a.bin" "$TMP/c.bin"; then fail "another seed gave the same data"; else pass "seed changes the data"; fi
if out=$(node - "$TMP/a.bin" "$TMP/f.bin" <<'EOF'
const fs = require('fs');
const [ia, fa] = process.argv.slice(2).map((p) => fs.readFileSync(p));
const nTag = ia.readUInt32LE(56), hosts = ia.readUInt32LE(16), epochs = Number(ia.readBigInt64LE(40));
const start = ia.readBigInt64LE(24), interval = ia.readBigInt64LE(32);
const tags = ia.toString('utf8', 64, 64 + nTag).trim().split('\n').map((l) => l.split(','));
const err = (m) => { console.log(m); process.exit(1); };
if (hosts !== 9 || epochs !== 5184 || interval !== 10_000_000_000n) err(`header: ${hosts} ${epochs} ${interval}`);
if (tags.length !== 9 || tags.some((t, i) => t.length !== 10 || t[0] !== `host_${i}`)) err('tags');
if (tags.some((t) => !t[2].startsWith(t[1]))) err('datacenter not in region');
const off = 64 + nTag, n = (ia.length - off) / 96;
if (n !== hosts * epochs) err(`rows ${n}`);
let same = 0, prev = new Map();
for (let r = 0; r < n; r++) {
  const o = off + r * 96;
  const t = ia.readBigInt64LE(o), h = ia.readUInt32LE(o + 8);
  if (t !== start + BigInt(Math.floor(r / hosts)) * interval || h !== r % hosts) err(`row ${r} order`);
  for (let k = 0; k < 10; k++) {
    const v = ia.readDoubleLE(o + 16 + 8 * k), f = fa.readDoubleLE(o + 16 + 8 * k);
    if (!Number.isInteger(v) || v < 0 || v > 100) err(`tsbs-int value ${v}`);
    if (f < 0 || f > 100 || Math.trunc(f) !== v) err(`real-float ${f} vs ${v}`);
    const key = h * 10 + k;
    if (prev.get(key) === v) same++;
    prev.set(key, v);
  }
}
const frac = same / (n * 10);
if (frac < 0.25 || frac > 0.5) err(`unchanged fraction ${frac}`);
console.log(`ok ${frac.toFixed(3)}`);
EOF
); then
  pass "data follows TSBS rules (epoch-major, ints 0..100, $out unchanged)"
else
  fail "data rules: $out"
fi

# 2. The quick benchmark end to end.
export BENCH_QUICK=1 BENCH_WORK="$TMP/work" BENCH_OUT="$TMP/result.json" BENCH_BUILD="$B" BENCH_FUNCS=0
export BENCH_VARIANTS=tsbs-int BENCH_QUICK_SCALE=8,0.6
# Under ASan the extension needs libasan preloaded into the C runner.
export BENCH_PRELOAD="${TS_PRELOAD:-}"
if bash bench/run.sh >"$TMP/out.md" 2>"$TMP/err.log"; then
  pass "BENCH_QUICK=1 bench/run.sh exits 0"
else
  fail "bench/run.sh failed: $(grep -E 'FAIL|MISMATCH|error' "$TMP/out.md" "$TMP/err.log" | head -5)"
fi
if grep -q '^| single-groupby-1-1-1 |' "$TMP/out.md" && grep -q '^| lastpoint |' "$TMP/out.md"; then
  pass "markdown table printed"
else
  fail "no markdown table on stdout"
fi
if [ -s "$TMP/result.json" ] && out=$(node -e '
const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const sys = Object.keys(d.summary["tsbs-int"].load);
const q = d.summary["tsbs-int"].query;
if (!d.env.cpu || !d.env.sqlite_version || d.env.seed !== 123) throw new Error("env incomplete");
if (Object.keys(q).length !== 15) throw new Error("query types: " + Object.keys(q).length);
console.log(sys.join(" ") + " compared=" + d.instances_compared + " mismatches=" + d.checksum_mismatches.length);
' "$TMP/result.json" 2>&1); then
  pass "result JSON written ($out)"
else
  fail "result JSON: $out"
fi
case "$out" in
  *compared=0*) skip "only one system ran: no checksums to compare" ;;
  *mismatches=0*) pass "checksums agree across systems ($out)" ;;
  *) fail "checksum mismatches: $out" ;;
esac
if grep -q 'SKIP duckdb' "$TMP/err.log"; then skip "DuckDB part: $(grep 'SKIP duckdb' "$TMP/err.log")"
else case "$out" in *duckdb-t2*) pass "DuckDB ran" ;; *) fail "DuckDB neither ran nor was skipped" ;; esac; fi
if grep -q 'SKIP tslite:' "$TMP/err.log"; then skip "tslite part: $(grep 'SKIP tslite:' "$TMP/err.log")"
else case "$out" in *tslite*) pass "tslite ran" ;; *) fail "tslite neither ran nor was skipped" ;; esac
  # The native timeseries_agg forms run on the same database, their
  # checksums compared with the others' above.
  if grep -q '^| query | tslite | tslite-native |' "$TMP/out.md" && grep -q 'FROM cpu_agg' "$TMP/result.json"; then
    pass "tslite-native (timeseries_agg forms) ran"
  else
    fail "tslite-native did not run"
  fi
fi

# tslite-cold-s3: the cold system on an s3rver started by bench/s3serve.mjs,
# read through the default local cold cache; the server is gone after the
# run, and no credential reaches the result.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if grep -q 'SKIP tslite-cold-s3' "$TMP/err.log"; then skip "tslite-cold-s3: $(grep 'SKIP tslite-cold-s3' "$TMP/err.log")"
elif s3out=$(node -e '
const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const v = d.summary["tsbs-int"];
const types = Object.keys(v.query).filter((t) => v.query[t]["tslite-cold-s3"]);
const c = v.cold && v.cold["tslite-cold-s3"];
if (types.length !== 15) throw new Error("query types on tslite-cold-s3: " + types.length);
if (!c || !/^s3:\/\/bench\/tsbs-int$/.test(c.storage) || c.cold_cache_option !== "default"
    || !c.cold_cache_query_process || c.cold_cache_query_process.enabled !== true) throw new Error("cold: " + JSON.stringify(c));
if (!c.timed_instances_requests || !c.server_requests_load || !(c.server_requests_load.PUT > 0)) throw new Error("requests: " + JSON.stringify(c));
if (!d.markdown.includes("tslite-cold-s3/tslite-cold") || !d.markdown.includes("tslite/tslite-cold-s3")) throw new Error("ratio columns missing");
console.log(c.s3_endpoint.replace(/^http:\/\/127\.0\.0\.1:/, "") + " gets=" + c.timed_instances_requests.get);
' "$TMP/result.json" 2>&1); then
  pass "tslite-cold-s3 ran on s3rver with the default cold cache (proxy port ${s3out%% *}, timed instances' ${s3out#* })"
  if port_open "${s3out%% *}"; then fail "the s3rver (port ${s3out%% *}) still answers after bench/run.sh exited"
  else pass "the s3rver is stopped when bench/run.sh exits"; fi
  if grep -q 'S3RVER' "$TMP/result.json" "$TMP/out.md"; then fail "the s3rver credentials appear in the result"
  else pass "no credential in the result JSON or the markdown"; fi
else
  fail "tslite-cold-s3: $s3out"
fi
# The server is stopped on SIGTERM too (run.sh's trap).
if grep -q 'SKIP tslite-cold-s3' "$TMP/err.log"; then :
else
  BENCH_SYSTEMS=tslite-cold-s3 BENCH_OUT="$TMP/term.json" BENCH_WORK="$TMP/termwork" bash bench/run.sh >"$TMP/term.md" 2>"$TMP/term.log" &
  rpid=$!
  for _ in $(seq 1 300); do grep -q 'tslite-cold-s3 load' "$TMP/term.log" && break; sleep 0.1; done
  line=$(grep 'tslite-cold-s3 storage: s3rver at' "$TMP/term.log")
  port=${line##*127.0.0.1:}; port=${port%% *}
  spid=${line##*pid }; spid=${spid%)}
  kill -TERM "$rpid"; wait "$rpid"; rc=$?
  if [ -n "$port" ] && [ "$rc" -ne 0 ] && ! port_open "$port" && ! kill -0 "$spid" 2>/dev/null; then
    pass "SIGTERM to bench/run.sh stops its s3rver (exit $rc, port $port closed, pid $spid gone)"
  else
    fail "after SIGTERM: rc=$rc port=$port spid=$spid: $(tail -3 "$TMP/term.log" | tr '\n' ' ')"
  fi
fi

# 3. The report fails loudly on a checksum mismatch (and on a failed run).
cat >"$TMP/bad.jsonl" <<'EOF'
{"phase":"query","system":"sqlite","variant":"tsbs-int","type":"lastpoint","instances":[{"i":0,"ms":1,"rows":3,"checksum":"00000000000000aa"}],"skipped":0}
{"phase":"query","system":"tslite","variant":"tsbs-int","type":"lastpoint","instances":[{"i":0,"ms":2,"rows":3,"checksum":"00000000000000bb"}],"skipped":0}
EOF
node bench/report.mjs --in "$TMP/bad.jsonl" --out "$TMP/bad.json" >"$TMP/bad.md" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q 'CHECKSUM MISMATCH: 1 of 1' "$TMP/bad.md" && grep -q 'lastpoint instance 0: .*sqlite=00000000000000aa' "$TMP/bad.md"; then
  pass "a checksum mismatch fails the report and names the instance"
else
  fail "mismatch not reported (rc=$rc): $(head -c 300 "$TMP/bad.md")"
fi
echo '{"phase":"error","system":"tslite","what":"load","variant":"tsbs-int","reason":"boom"}' >"$TMP/err.jsonl"
if node bench/report.mjs --in "$TMP/err.jsonl" --out "$TMP/err.json" >"$TMP/err.md" 2>&1; then
  fail "a failed run did not fail the report"
else
  grep -q 'FAILED tslite load (tsbs-int)\*\*: boom' "$TMP/err.md" && pass "a failed run fails the report" || fail "failed run not shown: $(cat "$TMP/err.md")"
fi
exit 0
