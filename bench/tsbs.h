/*
** tsbs.h: what the TSBS-style benchmark programs share (bench/tsbs_gen.c,
** bench/sqlbench.c; bench/duckdb.mjs reads the same files in JavaScript).
**
** DATA FILE (written once by tsbs_gen, read by every loader), little-endian:
**
**   offset  size  field
**   0       8     magic "TSBSCPU1"
**   8       4     u32 version (1)
**   12      4     u32 variant: 0 = tsbs-int (values truncated to integers as
**                 TSBS's ToPointAllInt64 does), 1 = real-float (the same
**                 clamped random walk, full precision)
**   16      4     u32 hosts
**   20      4     u32 fields (10)
**   24      8     i64 start, ns since 1970
**   32      8     i64 interval, ns
**   40      8     i64 epochs (rows = hosts x epochs)
**   48      8     u64 seed
**   56      4     u32 tag_bytes
**   60      4     u32 reserved (0)
**   64      tag_bytes  one line per host ("\n"-terminated): the 10 tag values
**                 in TSBS order (hostname, region, datacenter, rack, os,
**                 arch, team, service, service_version, service_environment)
**                 separated by ','; no value contains ',' or '\n'.
**   then    rows x 96 bytes, epoch-major (all hosts at t0, then t0+interval):
**             i64 time ns, u32 host id, u32 reserved (0), 10 x f64 fields.
**
** QUERY FILE (text, written by tsbs_gen, read by every runner): comment
** lines start with '#'; every other line is one query instance:
**
**   <type> <instance> <start_ns> <end_ns> <hosts>
**
** <hosts> is "-" (all hosts) or comma-separated host ids.  start/end form
** the half-open window [start, end); lastpoint has start = end = 0 (no
** window) and groupby-orderby-limit uses only end ("time < end").
**
** RESULT CHECKSUM (identical in C and JS): each result row becomes a text
** "c1|c2|...", prefixed with "<rownumber>|" when the query has ORDER BY
** (row order is part of the answer).  Column kinds: 't' = time as integer
** ns, 'h' = text, 'f' = double printed as the integer llround(v * 1e4) (so
** the last-bit differences of summation order do not matter), NULL = "N".
** The row hash is 64-bit FNV-1a of that text; the checksum is the sum of the
** row hashes mod 2^64, printed as 16 hex digits.
*/
#ifndef TSBS_H
#define TSBS_H

#include <stddef.h>
#include <stdint.h>

#define TSBS_MAGIC "TSBSCPU1"
#define TSBS_HEADER_BYTES 64
#define TSBS_NFIELD 10
#define TSBS_NTAG 10
#define TSBS_ROW_BYTES (8 + 4 + 4 + 8 * TSBS_NFIELD)

static const char *const tsbsFieldName[TSBS_NFIELD] = {
  "usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
  "usage_irq", "usage_softirq", "usage_steal", "usage_guest",
  "usage_guest_nice"
};
static const char *const tsbsTagName[TSBS_NTAG] = {
  "hostname", "region", "datacenter", "rack", "os", "arch", "team",
  "service", "service_version", "service_environment"
};

/* The TSBS cpu-only query types (TSBS's devops query matrix). */
typedef struct TsbsQueryType TsbsQueryType;
struct TsbsQueryType {
  const char *zName;
  int nHost;        /* random hosts; 0 = all hosts */
  int nField;       /* aggregated fields (first nField of tsbsFieldName) */
  int64_t window;   /* window length in ns; 0 = no window (lastpoint) */
  int bHeavy;       /* touches every host: fewer instances by default */
};

#define NS_PER_SEC  1000000000LL
#define NS_PER_MIN  (60 * NS_PER_SEC)
#define NS_PER_HOUR (3600 * NS_PER_SEC)

static const TsbsQueryType tsbsQueryTypes[] = {
  {"single-groupby-1-1-1", 1, 1, 1 * NS_PER_HOUR, 0},
  {"single-groupby-1-1-12", 1, 1, 12 * NS_PER_HOUR, 0},
  {"single-groupby-1-8-1", 8, 1, 1 * NS_PER_HOUR, 0},
  {"single-groupby-5-1-1", 1, 5, 1 * NS_PER_HOUR, 0},
  {"single-groupby-5-1-12", 1, 5, 12 * NS_PER_HOUR, 0},
  {"single-groupby-5-8-1", 8, 5, 1 * NS_PER_HOUR, 0},
  {"cpu-max-all-1", 1, 10, 8 * NS_PER_HOUR, 0},
  {"cpu-max-all-8", 8, 10, 8 * NS_PER_HOUR, 0},
  {"double-groupby-1", 0, 1, 12 * NS_PER_HOUR, 1},
  {"double-groupby-5", 0, 5, 12 * NS_PER_HOUR, 1},
  {"double-groupby-all", 0, 10, 12 * NS_PER_HOUR, 1},
  {"high-cpu-1", 1, 10, 12 * NS_PER_HOUR, 0},
  {"high-cpu-all", 0, 10, 12 * NS_PER_HOUR, 1},
  {"lastpoint", 0, 10, 0, 1},
  {"groupby-orderby-limit", 0, 1, 1 * NS_PER_HOUR, 1},
};
#define TSBS_NQUERYTYPE ((int)(sizeof(tsbsQueryTypes) / sizeof(tsbsQueryTypes[0])))

/* 64-bit FNV-1a, continuing from h (start with TSBS_FNV_INIT). */
#define TSBS_FNV_INIT 0xcbf29ce484222325ULL
static inline uint64_t tsbsFnv(uint64_t h, const void *p, size_t n){
  const unsigned char *a = (const unsigned char *)p;
  size_t i;
  for(i = 0; i < n; i++){
    h ^= a[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

#endif /* TSBS_H */
