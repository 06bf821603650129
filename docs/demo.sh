#!/bin/sh
# make demo: creates a timeseries table in a temporary database, inserts a few
# hours of data (3 hosts, one row every 10 s for the last 3 hours, relative to
# the real clock), runs a few queries and prints them.
set -e
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/tslite-demo-XXXXXX)
trap 'rm -rf "$dir"' EXIT
sqlite3 -bail -box "$dir/demo.db" <<'SQL'
.load ./build/tslite
SELECT tslite_version() AS tslite_version;
CREATE VIRTUAL TABLE cpu USING timeseries(
  hostname DIMENSION, region DIMENSION,
  usage_user DOUBLE, usage_system DOUBLE, processes BIGINT,
  memory_retention = '12h');
-- 3 hosts x 3 hours at 10 s = 3240 rows, in one transaction
BEGIN;
WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n < 1079),
  h(name, region) AS (VALUES ('web-1', 'eu-west-1'), ('web-2', 'eu-west-1'), ('db-1', 'us-east-1')),
  t0(ns) AS (SELECT (CAST(strftime('%s', 'now') AS INTEGER) / 10 * 10 - 3 * 3600) * 1000000000)
INSERT INTO cpu(time, hostname, region, usage_user, usage_system, processes)
SELECT t0.ns + n * 10000000000, name, region,
       round(40 + 30 * sin(n / 60.0 + length(name)), 2),
       round(5 + 3 * cos(n / 40.0), 2),
       200 + (n * 7 + length(name)) % 50
FROM i, h, t0;
COMMIT;
.print 'Rows per host:'
SELECT hostname, region, count(*) AS rows, round(avg(usage_user), 2) AS avg_user,
       max(processes) AS max_proc
FROM cpu GROUP BY hostname, region ORDER BY hostname;
.print 'Latest 3 readings of web-1 (ORDER BY time DESC LIMIT is answered by the table):'
SELECT strftime('%Y-%m-%d %H:%M:%S', time / 1000000000, 'unixepoch') AS time_utc, usage_user, usage_system
FROM cpu WHERE hostname = 'web-1' AND region = 'eu-west-1' AND measure_name = 'metrics'
ORDER BY time DESC LIMIT 3;
.print 'Average user CPU per host and 30-minute bucket over the last hour:'
SELECT hostname, strftime('%H:%M', time / 1000000000 / 1800 * 1800, 'unixepoch') AS bucket,
       round(avg(usage_user), 2) AS avg_user
FROM cpu
WHERE time >= (CAST(strftime('%s', 'now') AS INTEGER) - 3600) * 1000000000
  AND hostname IN ('web-1', 'db-1')
GROUP BY hostname, bucket ORDER BY hostname, bucket;
.print 'Storage (memory tier):'
SELECT ts_stats('cpu') AS stats, ts_check('cpu') AS integrity;
SQL
