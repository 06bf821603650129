#!/usr/bin/env bash
# bench/backup_bench.mjs (make bench's backup line, docs/benchmarks.md
# "Backup and restore") end to end on 20,000 rows: every requested store
# prints its full backup, incremental and restore figures; an unknown store
# is refused (exit 2) and a store that cannot run fails the script (exit 1).
set -u
B=${TS_BUILD:-build}
if [ -n "${TS_PRELOAD:-}" ]; then echo "SKIP backup bench smoke: not under the sanitizer pass"; exit 0; fi
if ! command -v node >/dev/null; then echo "SKIP backup bench smoke: node is not installed"; exit 0; fi
if [ ! -e "$B/tslite.so" ]; then echo "SKIP backup bench smoke: $B/tslite.so not built"; exit 0; fi
systems="file"
[ -d node_modules/@20minutes/s3rver ] && systems="file s3rver"
out=$(TS_EXT="$B/tslite" BACKUP_SYSTEMS="$systems" node bench/backup_bench.mjs 20000 2>&1); rc=$?
for s in $systems; do
  if [ $rc -eq 0 ] && grep -q "^$s: full backup of 20000 rows .* M rows/s wall" <<<"$out" \
     && grep -q "^$s: incremental backup after 1% new rows (200): " <<<"$out" \
     && grep -q "^$s: restore of 20200 rows " <<<"$out"
  then echo "PASS backup bench smoke: $s: full backup, incremental and restore figures"
  else echo "FAIL backup bench smoke: $s: rc=$rc $out"; fi
done
out=$(TS_EXT="$B/tslite" BACKUP_SYSTEMS="file nosuch" node bench/backup_bench.mjs 20000 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q "unknown system 'nosuch'" <<<"$out"
then echo "PASS backup bench smoke: an unknown store is refused (exit 2)"
else echo "FAIL backup bench smoke: unknown store: rc=$rc $out"; fi
out=$(TS_EXT="$B/nosuch/tslite" BACKUP_SYSTEMS="file" node bench/backup_bench.mjs 20000 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q "backup bench: FAILED: requested system(s) skipped or failed: file" <<<"$out"
then echo "PASS backup bench smoke: a store that cannot run fails the script (exit 1)"
else echo "FAIL backup bench smoke: failing store: rc=$rc $(tail -3 <<<"$out")"; fi
