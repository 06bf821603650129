/*
** sqlbench: loads the TSBS cpu-only data file into SQLite and runs the TSBS
** query instances against it, for two systems that differ only in storage:
**
**   sqlite  a plain table  cpu(time INTEGER ns, hostname TEXT, 10 x REAL)
**           with an index on (hostname, time), plus a table `tags` holding
**           the 10 tags of each host once (TSBS's TimescaleDB layout);
**   tslite  CREATE VIRTUAL TABLE cpu USING timeseries(<10 tags> DIMENSION,
**           <10 fields> DOUBLE): the extension is loaded with
**           sqlite3_load_extension(-x PATH).
**
**   sqlbench load  -t SYSTEM -d DATA -f DB -o OUT [-x EXT] [-l LABEL] [-P]
**   sqlbench query -t SYSTEM -q QUERIES -f DB -o OUT [-x EXT] [-l LABEL]
**                  [-b BUDGET_S] [-d DATA] [-N]
**                  (-N, tslite only: system "tslite-native", the native
**                  timeseries_agg form of each query type that has one)
**   sqlbench tierall -t tslite -x EXT -f DB   (a tslite-cold database: tier
**                                  the rest of its memory tier, for duckdb-lake)
**   sqlbench probe -x EXT [-C STORAGE]  exit 0 iff the timeseries module loads
**                                  (with -C: and a row ts_maintain() tiers
**                                  into STORAGE is read back by the scan)
**
** Each run is its own process, so its peak RSS (VmHWM) belongs to one system
** and one phase.  Results are JSON lines appended to OUT (one per load, one
** per query type, one summary), read by bench/report.mjs.
**
** load: one transaction, one prepared INSERT stepped per row (the way an
** application would write), timed from BEGIN to the end of COMMIT.  The data
** file is read in blocks of 4096 rows inside the timed loop (the cost is the
** same for every system and small: about 0.1 s per 250 MB from the page
** cache).  -P (sqlite only): create the index after the load instead.
** -C STORAGE (tslite only): memory_retention = '6h' with magnetic_writes, so
** after the load ts_maintain() moves all but the last 6 h to Parquet objects
** in STORAGE (timed separately as tier_seconds) and the queries read both
** tiers.  STORAGE is an absolute directory or a file:// URI (system
** "tslite-cold"), or an s3://bucket/prefix URI (system "tslite-cold-s3":
** endpoint and credentials come from the environment, AWS_ENDPOINT_URL_S3,
** AWS_ACCESS_KEY_ID, ..., never from the command line; the table's local
** cold cache is on with its default bound unless -K SIZE sets its
** cold_cache option, e.g. -K 0 for none).  The load and query-summary lines
** name the storage and the cache settings; the query summary adds the
** cache's counters of the query process (ts_stats "cold_cache").
**
** query: first the whole database is read once (hot cache); then for each
** query type, instance 0 is run once untimed (warm-up), then
** every instance is timed from prepare to finalize, with the result values
** copied out of SQLite inside the timed region; the checksum (bench/tsbs.h)
** is computed afterwards.  If a type's instances have used more than
** BUDGET_S seconds (default 60), the rest are skipped and counted.
*/
#include "tsbs.h"

#include <sqlite3.h>

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ROWS_PER_READ 4096

typedef struct Opts Opts;
struct Opts {
  const char *zCmd;
  const char *zSystem;   /* "sqlite" or "tslite" */
  const char *zData;
  const char *zQueries;
  const char *zDb;
  const char *zOut;
  const char *zExt;      /* extension path for sqlite3_load_extension */
  const char *zLabel;    /* variant label for the JSON lines */
  double budget;         /* seconds per query type */
  int bPostIndex;        /* -P: build the index after the load */
  int bTslite;
  const char *zCold;     /* -C STORAGE: tslite with a 6 h memory tier; the rest
                         ** tiered by ts_maintain() to Parquet objects there
                         ** (an absolute directory, file:// or s3:// URI) */
  char zColdUri[4096];   /* zCold as a storage URI */
  int bColdS3;           /* zCold is s3://: system "tslite-cold-s3" */
  const char *zColdCache;/* -K SIZE: the table's cold_cache option; NULL:
                         ** the default (on) */
  int bNative;           /* -N (tslite query only, system "tslite-native"):
                         ** the queries in the native form docs/sql-reference.md
                         ** teaches (timeseries_agg), where one exists */
};

static void die(const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  fputs("sqlbench: ", stderr);
  vfprintf(stderr, zFmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(2);
}

static double nowSec(void){
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CPU time of this process (all threads), seconds. */
static double procCpuSec(void){
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpuSec(void){
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6
       + (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Peak resident set size of this process in KiB (VmHWM), or -1. */
static long peakRssKb(void){
  char zLine[256];
  long v = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if( !f ) return -1;
  while( fgets(zLine, sizeof(zLine), f) ){
    if( strncmp(zLine, "VmHWM:", 6) == 0 ){ v = strtol(zLine + 6, 0, 10); break; }
  }
  fclose(f);
  return v;
}

static int64_t fileSize(const char *z){
  struct stat st;
  return stat(z, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* Append a JSON string literal for z (NULL -> null) to s. */
static void jsonStr(sqlite3_str *s, const char *z){
  if( !z ){ sqlite3_str_appendall(s, "null"); return; }
  sqlite3_str_appendchar(s, 1, '"');
  for(; *z; z++){
    unsigned char c = (unsigned char)*z;
    if( c == '"' || c == '\\' ) sqlite3_str_appendf(s, "\\%c", c);
    else if( c < 0x20 ) sqlite3_str_appendf(s, "\\u%04x", c);
    else sqlite3_str_appendchar(s, 1, (char)c);
  }
  sqlite3_str_appendchar(s, 1, '"');
}

static void emit(const Opts *p, sqlite3_str *s){
  char *z = sqlite3_str_finish(s);
  FILE *f;
  if( !z ) die("out of memory");
  f = fopen(p->zOut, "a");
  if( !f ) die("cannot open %s: %s", p->zOut, strerror(errno));
  fprintf(f, "%s\n", z);
  fclose(f);
  sqlite3_free(z);
}

/* A new JSON object with the fields every line carries. */
static sqlite3_str *jsonStart(const Opts *p, const char *zPhase){
  sqlite3_str *s = sqlite3_str_new(0);
  sqlite3_str_appendall(s, "{\"phase\":");
  jsonStr(s, zPhase);
  sqlite3_str_appendall(s, ",\"system\":");
  jsonStr(s, p->bPostIndex ? "sqlite-postindex"
             : p->zCold ? (p->bColdS3 ? (p->bNative ? "tslite-cold-s3-native" : "tslite-cold-s3")
                                      : (p->bNative ? "tslite-cold-native" : "tslite-cold"))
             : p->bNative ? "tslite-native" : p->zSystem);
  sqlite3_str_appendall(s, ",\"variant\":");
  jsonStr(s, p->zLabel);
  return s;
}

/* For a cold system: ,"storage":URI,"s3_endpoint":...,"cold_cache_option":...
** and "cold_cache": the table's ts_stats cold_cache object (directory,
** bound and this process's counters).  Credentials are never written. */
static void coldJson(const Opts *p, sqlite3 *db, sqlite3_str *s);

static void exec(sqlite3 *db, const char *zSql){
  char *zErr = 0;
  if( sqlite3_exec(db, zSql, 0, 0, &zErr) != SQLITE_OK ){
    die("%s\n  in: %.300s", zErr ? zErr : sqlite3_errmsg(db), zSql);
  }
}

/* Integer result of a one-value query, or dflt if it fails. */
static int64_t queryInt(sqlite3 *db, const char *zSql, int64_t dflt){
  sqlite3_stmt *st = 0;
  int64_t v = dflt;
  if( sqlite3_prepare_v2(db, zSql, -1, &st, 0) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW ){
    v = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  return v;
}

/* Text result of a one-value query (sqlite3_malloc'd), or NULL. */
static char *queryText(sqlite3 *db, const char *zSql){
  sqlite3_stmt *st = 0;
  char *z = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &st, 0) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW
   && sqlite3_column_text(st, 0) ){
    z = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  return z;
}

static void coldJson(const Opts *p, sqlite3 *db, sqlite3_str *s){
  char *zCache;
  if( !p->zCold ) return;
  sqlite3_str_appendall(s, ",\"storage\":");
  jsonStr(s, p->zColdUri);
  sqlite3_str_appendall(s, ",\"s3_endpoint\":");
  jsonStr(s, p->bColdS3 ? getenv("AWS_ENDPOINT_URL_S3") : 0);
  sqlite3_str_appendall(s, ",\"cold_cache_option\":");
  jsonStr(s, p->zColdCache ? p->zColdCache : "default");
  zCache = queryText(db, "SELECT json_extract(ts_stats('cpu'), '$.cold_cache')");
  sqlite3_str_appendall(s, ",\"cold_cache\":");
  sqlite3_str_appendall(s, zCache ? zCache : "null");   /* JSON from ts_stats */
  sqlite3_free(zCache);
}

static sqlite3 *openDb(const Opts *p){
  sqlite3 *db = 0;
  if( sqlite3_open(p->zDb, &db) != SQLITE_OK ) die("cannot open %s", p->zDb);
  if( p->bTslite ){
    char *zErr = 0;
    sqlite3_enable_load_extension(db, 1);
    if( sqlite3_load_extension(db, p->zExt, 0, &zErr) != SQLITE_OK ){
      die("cannot load the tslite extension %s: %s", p->zExt, zErr ? zErr : "?");
    }
  }
  /* The same settings for both systems: WAL, synchronous=NORMAL, a page
  ** cache big enough to hold the whole file (hot-cache numbers), and two
  ** helper threads (SQLite's sorter and timeseries_agg use them), as
  ** DuckDB gets threads=2: SQLite's own default is 0. */
  exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-2000000;"
           " PRAGMA threads=2;");
  return db;
}

/* ---- data file ------------------------------------------------------------ */
typedef struct Data Data;
struct Data {
  FILE *f;
  int variant;
  int64_t nHost, nEpoch, start, interval;
  uint64_t seed;
  char *zTags;          /* tag lines, NUL-separated in place */
  char **azTag;         /* azTag[host*10 + k] */
};

static uint32_t getU32(const unsigned char *a){ uint32_t v; memcpy(&v, a, 4); return v; }
static int64_t getI64(const unsigned char *a){ int64_t v; memcpy(&v, a, 8); return v; }

static void dataOpen(Data *d, const char *zPath){
  unsigned char aHdr[TSBS_HEADER_BYTES];
  uint32_t nTag;
  int64_t h;
  char *z;
  memset(d, 0, sizeof(*d));
  d->f = fopen(zPath, "rb");
  if( !d->f ) die("cannot open data file %s: %s", zPath, strerror(errno));
  if( fread(aHdr, 1, sizeof(aHdr), d->f) != sizeof(aHdr) || memcmp(aHdr, TSBS_MAGIC, 8) != 0
   || getU32(aHdr + 8) != 1 || getU32(aHdr + 20) != TSBS_NFIELD ){
    die("%s is not a tsbs_gen data file (version 1)", zPath);
  }
  d->variant = (int)getU32(aHdr + 12);
  d->nHost = getU32(aHdr + 16);
  d->start = getI64(aHdr + 24);
  d->interval = getI64(aHdr + 32);
  d->nEpoch = getI64(aHdr + 40);
  d->seed = (uint64_t)getI64(aHdr + 48);
  nTag = getU32(aHdr + 56);
  d->zTags = malloc((size_t)nTag + 1);
  d->azTag = malloc(sizeof(char *) * TSBS_NTAG * (size_t)d->nHost);
  if( !d->zTags || !d->azTag ) die("out of memory");
  if( fread(d->zTags, 1, nTag, d->f) != nTag ) die("%s: truncated tags", zPath);
  d->zTags[nTag] = 0;
  z = d->zTags;
  for(h = 0; h < d->nHost; h++){
    int k;
    for(k = 0; k < TSBS_NTAG; k++){
      char *zEnd = z + strcspn(z, k == TSBS_NTAG - 1 ? "\n" : ",\n");
      if( *zEnd != (k == TSBS_NTAG - 1 ? '\n' : ',') ) die("%s: bad tag line %lld", zPath, (long long)h);
      *zEnd = 0;
      d->azTag[h * TSBS_NTAG + k] = z;
      z = zEnd + 1;
    }
  }
}

static void dataClose(Data *d){
  if( d->f ) fclose(d->f);
  free(d->zTags);
  free(d->azTag);
}

/* ---- load ----------------------------------------------------------------- */
static void createSchema(const Opts *p, sqlite3 *db){
  sqlite3_str *s = sqlite3_str_new(0);
  char *zSql;
  int k;
  if( p->bTslite ){
    /* memory_retention: all of the data set stays in the memory tier; the
    ** clock is set by setClock() so the 2016 data is inside the window. */
    sqlite3_str_appendall(s, "CREATE VIRTUAL TABLE cpu USING timeseries(");
    for(k = 0; k < TSBS_NTAG; k++) sqlite3_str_appendf(s, "%s DIMENSION, ", tsbsTagName[k]);
    for(k = 0; k < TSBS_NFIELD; k++) sqlite3_str_appendf(s, "%s DOUBLE, ", tsbsFieldName[k]);
    if( p->zCold ){
      /* Late data is accepted (magnetic_writes) and tiered by ts_maintain(). */
      sqlite3_str_appendf(s, "memory_retention = '6h', magnetic_writes = true, storage = %Q, ",
                          p->zColdUri);
      if( p->zColdCache ) sqlite3_str_appendf(s, "cold_cache = %Q, ", p->zColdCache);
      sqlite3_str_appendall(s, "measure_name = 'cpu');");
    }else{
      sqlite3_str_appendall(s, "memory_retention = '8766h', measure_name = 'cpu');");
    }
  }else{
    sqlite3_str_appendall(s, "CREATE TABLE tags(hostname TEXT PRIMARY KEY");
    for(k = 1; k < TSBS_NTAG; k++) sqlite3_str_appendf(s, ", %s TEXT", tsbsTagName[k]);
    sqlite3_str_appendall(s, ");\nCREATE TABLE cpu(time INTEGER NOT NULL, hostname TEXT NOT NULL");
    for(k = 0; k < TSBS_NFIELD; k++) sqlite3_str_appendf(s, ", %s REAL", tsbsFieldName[k]);
    sqlite3_str_appendall(s, ");");
    if( !p->bPostIndex ) sqlite3_str_appendall(s, "CREATE INDEX cpu_host_time ON cpu(hostname, time);");
  }
  zSql = sqlite3_str_finish(s);
  exec(db, zSql);
  sqlite3_free(zSql);
}

/* tslite accepts only times inside [now - memory_retention, now + 15 min];
** the benchmark data is from 2016, so move tslite's clock (ts_debug_set_now)
** to just after the end of the data. */
static void setClock(sqlite3 *db, int64_t dataEnd){
  char *zSql = sqlite3_mprintf("SELECT ts_debug_set_now(%lld)", (long long)dataEnd + NS_PER_MIN);
  exec(db, zSql);
  sqlite3_free(zSql);
}

static int cmdLoad(Opts *p){
  Data d;
  sqlite3 *db;
  sqlite3_stmt *st = 0;
  sqlite3_str *s;
  unsigned char *aBuf = malloc((size_t)TSBS_ROW_BYTES * ROWS_PER_READ);
  int64_t nRow, iRow = 0, nWal;
  double t0, t1, c0, c1, tIndex = 0, tTier = -1;
  int nCol, k;

  if( !aBuf ) die("out of memory");
  dataOpen(&d, p->zData);
  nRow = d.nHost * d.nEpoch;
  remove(p->zDb);
  {
    char *zW = sqlite3_mprintf("%s-wal", p->zDb);
    remove(zW);
    sqlite3_free(zW);
  }
  db = openDb(p);
  if( p->bTslite ) setClock(db, d.start + d.nEpoch * d.interval);
  createSchema(p, db);
  if( !p->bTslite ){
    sqlite3_stmt *stTag = 0;
    int64_t h;
    exec(db, "BEGIN");
    if( sqlite3_prepare_v2(db, "INSERT INTO tags VALUES(?,?,?,?,?,?,?,?,?,?)", -1, &stTag, 0) ) die("%s", sqlite3_errmsg(db));
    for(h = 0; h < d.nHost; h++){
      for(k = 0; k < TSBS_NTAG; k++) sqlite3_bind_text(stTag, k + 1, d.azTag[h * TSBS_NTAG + k], -1, SQLITE_STATIC);
      if( sqlite3_step(stTag) != SQLITE_DONE ) die("tags insert: %s", sqlite3_errmsg(db));
      sqlite3_reset(stTag);
    }
    sqlite3_finalize(stTag);
    exec(db, "COMMIT");
  }
  {
    sqlite3_str *q = sqlite3_str_new(0);
    char *zSql;
    int nParam;
    if( p->bTslite ){
      sqlite3_str_appendall(q, "INSERT INTO cpu(time");
      for(k = 0; k < TSBS_NTAG; k++) sqlite3_str_appendf(q, ", %s", tsbsTagName[k]);
      nParam = 1 + TSBS_NTAG + TSBS_NFIELD;
    }else{
      sqlite3_str_appendall(q, "INSERT INTO cpu(time, hostname");
      nParam = 2 + TSBS_NFIELD;
    }
    for(k = 0; k < TSBS_NFIELD; k++) sqlite3_str_appendf(q, ", %s", tsbsFieldName[k]);
    sqlite3_str_appendall(q, ") VALUES(?");
    for(k = 1; k < nParam; k++) sqlite3_str_appendall(q, ",?");
    sqlite3_str_appendall(q, ")");
    zSql = sqlite3_str_finish(q);
    if( sqlite3_prepare_v2(db, zSql, -1, &st, 0) != SQLITE_OK ) die("%s\n  in: %s", sqlite3_errmsg(db), zSql);
    sqlite3_free(zSql);
    nCol = nParam;
  }

  t0 = nowSec();
  c0 = cpuSec();
  exec(db, "BEGIN");
  while( iRow < nRow ){
    int64_t nBlock = nRow - iRow < ROWS_PER_READ ? nRow - iRow : ROWS_PER_READ;
    int64_t j;
    if( fread(aBuf, TSBS_ROW_BYTES, (size_t)nBlock, d.f) != (size_t)nBlock ) die("%s: truncated rows", p->zData);
    for(j = 0; j < nBlock; j++){
      const unsigned char *a = aBuf + j * TSBS_ROW_BYTES;
      int64_t host = getU32(a + 8);
      int iCol = 1;
      if( host >= d.nHost ) die("%s: bad host id", p->zData);
      sqlite3_bind_int64(st, iCol++, getI64(a));
      if( p->bTslite ){
        for(k = 0; k < TSBS_NTAG; k++) sqlite3_bind_text(st, iCol++, d.azTag[host * TSBS_NTAG + k], -1, SQLITE_STATIC);
      }else{
        sqlite3_bind_text(st, iCol++, d.azTag[host * TSBS_NTAG], -1, SQLITE_STATIC);
      }
      for(k = 0; k < TSBS_NFIELD; k++){
        double v;
        memcpy(&v, a + 16 + 8 * k, 8);
        sqlite3_bind_double(st, iCol++, v);
      }
      if( iCol != nCol + 1 ) die("internal: bind count");
      if( sqlite3_step(st) != SQLITE_DONE ){
        die("insert of row %lld failed: %s", (long long)(iRow + j), sqlite3_errmsg(db));
      }
      sqlite3_reset(st);
    }
    iRow += nBlock;
  }
  exec(db, "COMMIT");
  t1 = nowSec();
  if( p->bPostIndex ){
    double ti = nowSec();
    exec(db, "CREATE INDEX cpu_host_time ON cpu(hostname, time)");
    tIndex = nowSec() - ti;
  }
  c1 = cpuSec();
  sqlite3_finalize(st);
  if( p->zCold ){
    /* Tiering is not part of ingest: timed and reported on its own. */
    double tm = nowSec();
    char *zRes = queryText(db, "SELECT ts_maintain('cpu')");
    tTier = nowSec() - tm;
    if( !zRes ) die("ts_maintain('cpu') failed: %s", sqlite3_errmsg(db));
    sqlite3_free(zRes);
  }

  s = jsonStart(p, "load");
  sqlite3_str_appendf(s, ",\"rows\":%lld,\"values\":%lld,\"seconds\":%.4f,\"cpu_seconds\":%.4f",
                      (long long)nRow, (long long)nRow * TSBS_NFIELD, t1 - t0 + tIndex, c1 - c0);
  if( p->bPostIndex ) sqlite3_str_appendf(s, ",\"index_seconds\":%.4f", tIndex);
  if( tTier >= 0 ) sqlite3_str_appendf(s, ",\"tier_seconds\":%.4f", tTier);
  sqlite3_str_appendf(s, ",\"rows_per_s\":%.1f,\"values_per_s\":%.1f",
                      nRow / (t1 - t0 + tIndex), nRow * (double)TSBS_NFIELD / (t1 - t0 + tIndex));
  if( p->bTslite ){
    char *zStats = queryText(db, "SELECT ts_stats('cpu')");
    sqlite3_str_appendall(s, ",\"ts_stats\":");
    if( zStats ) sqlite3_str_appendall(s, zStats);  /* already JSON */
    else sqlite3_str_appendall(s, "null");
    sqlite3_free(zStats);
  }
  coldJson(p, db, s);
  exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite3_str_appendf(s, ",\"page_size\":%lld,\"page_count\":%lld,\"freelist_count\":%lld",
                      (long long)queryInt(db, "PRAGMA page_size", -1),
                      (long long)queryInt(db, "PRAGMA page_count", -1),
                      (long long)queryInt(db, "PRAGMA freelist_count", -1));
  if( sqlite3_close(db) != SQLITE_OK ) die("close failed (unfinalized statements?)");
  {
    char *zW = sqlite3_mprintf("%s-wal", p->zDb);
    nWal = fileSize(zW);
    sqlite3_free(zW);
  }
  sqlite3_str_appendf(s, ",\"file_bytes\":%lld,\"wal_bytes\":%lld,\"bytes_per_value\":%.4f",
                      (long long)fileSize(p->zDb), (long long)nWal,
                      (double)(fileSize(p->zDb) + nWal) / ((double)nRow * TSBS_NFIELD));
  sqlite3_str_appendf(s, ",\"peak_rss_kb\":%ld,\"sqlite_version\":\"%s\"}", peakRssKb(), sqlite3_libversion());
  emit(p, s);
  dataClose(&d);
  free(aBuf);
  return 0;
}

/* ---- queries -------------------------------------------------------------- */
typedef struct Inst Inst;
struct Inst {
  char zType[48];
  int iInst;
  int64_t start, end;
  int nHost;            /* 0 = all */
  int64_t aHost[8];
};

static Inst *readQueries(const char *zPath, int *pn){
  FILE *f = fopen(zPath, "r");
  char zLine[512];
  Inst *a = 0;
  int n = 0, nAlloc = 0;
  if( !f ) die("cannot open %s: %s", zPath, strerror(errno));
  while( fgets(zLine, sizeof(zLine), f) ){
    Inst *q;
    char zHosts[256];
    long long s, e;
    if( zLine[0] == '#' || zLine[0] == '\n' ) continue;
    if( n == nAlloc ){
      nAlloc = nAlloc * 2 + 64;
      a = realloc(a, sizeof(Inst) * (size_t)nAlloc);
      if( !a ) die("out of memory");
    }
    q = &a[n];
    memset(q, 0, sizeof(*q));
    if( sscanf(zLine, "%47s %d %lld %lld %255s", q->zType, &q->iInst, &s, &e, zHosts) != 5 ){
      die("%s: bad line: %s", zPath, zLine);
    }
    q->start = s;
    q->end = e;
    if( strcmp(zHosts, "-") != 0 ){
      char *z = zHosts;
      while( *z ){
        if( q->nHost == 8 ) die("%s: more than 8 hosts", zPath);
        q->aHost[q->nHost++] = strtoll(z, &z, 10);
        if( *z == ',' ) z++;
        else if( *z ) die("%s: bad host list: %s", zPath, zHosts);
      }
    }
    n++;
  }
  fclose(f);
  *pn = n;
  return a;
}

static const TsbsQueryType *findType(const char *zName){
  int i;
  for(i = 0; i < TSBS_NQUERYTYPE; i++){
    if( strcmp(tsbsQueryTypes[i].zName, zName) == 0 ) return &tsbsQueryTypes[i];
  }
  die("unknown query type %s", zName);
  return 0;
}

static void appendHostIn(sqlite3_str *s, const Inst *q){
  int j;
  sqlite3_str_appendall(s, " AND hostname IN (");
  for(j = 0; j < q->nHost; j++) sqlite3_str_appendf(s, "%s'host_%lld'", j ? "," : "", (long long)q->aHost[j]);
  sqlite3_str_appendall(s, ")");
}

/*
** The SQL of one query instance for system p, and in *pzKinds the column
** kinds for the checksum ('t' time ns, 'h' text, 'f' double) and in
** *pbOrdered whether the row order is part of the answer.  The same SQL
** serves both systems except lastpoint (see below).  Buckets are
** floor(time / width) * width, TSBS's time_bucket (times are positive).
*/
/*
** The native form of query instance q (tslite-native), as
** docs/sql-reference.md teaches it for timeseries_agg (temp.cpu_agg over
** cpu): per-series buckets rolled up by SQLite (max of maxima, sum of sums
** over sum of counts), lastpoint from the per-series last values.  NULL
** when the type has no native form (high-cpu filters rows, not buckets):
** the plain SQL runs then.  Columns and row order equal buildSql's.
*/
static char *buildNativeSql(const Inst *q, char *zKinds, int *pbOrdered){
  const TsbsQueryType *pT = findType(q->zType);
  sqlite3_str *s;
  int k, nK = 0;
  const char *zT = pT->zName;
  *pbOrdered = 1;
  if( strncmp(zT, "high-cpu", 8) == 0 ) return 0;
  s = sqlite3_str_new(0);
  if( strncmp(zT, "single-groupby", 14) == 0 || strncmp(zT, "cpu-max-all", 11) == 0 ){
    sqlite3_str_appendall(s, "SELECT bucket");
    zKinds[nK++] = 't';
    for(k = 0; k < pT->nField; k++){
      sqlite3_str_appendf(s, ", max(%s_max)", tsbsFieldName[k]);
      zKinds[nK++] = 'f';
    }
    sqlite3_str_appendf(s, " FROM cpu_agg WHERE bucket_width = %Q AND time >= %lld AND time < %lld",
                        zT[0] == 's' ? "1m" : "1h", (long long)q->start, (long long)q->end);
    appendHostIn(s, q);
    sqlite3_str_appendall(s, " GROUP BY bucket ORDER BY bucket");
  }else if( strncmp(zT, "double-groupby", 14) == 0 ){
    sqlite3_str_appendall(s, "SELECT bucket, hostname");
    zKinds[nK++] = 't';
    zKinds[nK++] = 'h';
    for(k = 0; k < pT->nField; k++){
      sqlite3_str_appendf(s, ", sum(%s_sum) / sum(%s_count)", tsbsFieldName[k], tsbsFieldName[k]);
      zKinds[nK++] = 'f';
    }
    sqlite3_str_appendf(s, " FROM cpu_agg WHERE bucket_width = '1h' AND time >= %lld AND time < %lld"
                           " GROUP BY bucket, hostname ORDER BY bucket, hostname",
                        (long long)q->start, (long long)q->end);
  }else if( strcmp(zT, "lastpoint") == 0 ){
    sqlite3_str_appendall(s, "SELECT last_time, hostname");
    zKinds[nK++] = 't';
    zKinds[nK++] = 'h';
    for(k = 0; k < TSBS_NFIELD; k++){
      sqlite3_str_appendf(s, ", %s_last", tsbsFieldName[k]);
      zKinds[nK++] = 'f';
    }
    sqlite3_str_appendall(s, " FROM cpu_agg");
    *pbOrdered = 0;
  }else if( strcmp(zT, "groupby-orderby-limit") == 0 ){
    sqlite3_str_appendf(s, "SELECT bucket, max(usage_user_max) FROM cpu_agg WHERE bucket_width = '1m'"
                           " AND time < %lld GROUP BY bucket ORDER BY bucket DESC LIMIT 5",
                        (long long)q->end);
    zKinds[nK++] = 't';
    zKinds[nK++] = 'f';
  }else{
    die("no SQL for query type %s", zT);
  }
  zKinds[nK] = 0;
  return sqlite3_str_finish(s);
}

static char *buildSql(const Opts *p, const Inst *q, char *zKinds, int *pbOrdered){
  const TsbsQueryType *pT = findType(q->zType);
  sqlite3_str *s;
  int k, nK = 0;
  const char *zT = pT->zName;
  if( p->bNative ){
    char *zNative = buildNativeSql(q, zKinds, pbOrdered);
    if( zNative ) return zNative;
  }
  s = sqlite3_str_new(0);
  *pbOrdered = 1;
  if( strncmp(zT, "single-groupby", 14) == 0 || strncmp(zT, "cpu-max-all", 11) == 0 ){
    int64_t w = zT[0] == 's' ? NS_PER_MIN : NS_PER_HOUR;
    sqlite3_str_appendf(s, "SELECT (time/%lld)*%lld AS bucket", (long long)w, (long long)w);
    zKinds[nK++] = 't';
    for(k = 0; k < pT->nField; k++){
      sqlite3_str_appendf(s, ", max(%s)", tsbsFieldName[k]);
      zKinds[nK++] = 'f';
    }
    sqlite3_str_appendf(s, " FROM cpu WHERE time >= %lld AND time < %lld", (long long)q->start, (long long)q->end);
    appendHostIn(s, q);
    sqlite3_str_appendall(s, " GROUP BY bucket ORDER BY bucket");
  }else if( strncmp(zT, "double-groupby", 14) == 0 ){
    sqlite3_str_appendf(s, "SELECT (time/%lld)*%lld AS hour, hostname", NS_PER_HOUR, NS_PER_HOUR);
    zKinds[nK++] = 't';
    zKinds[nK++] = 'h';
    for(k = 0; k < pT->nField; k++){
      sqlite3_str_appendf(s, ", avg(%s)", tsbsFieldName[k]);
      zKinds[nK++] = 'f';
    }
    sqlite3_str_appendf(s, " FROM cpu WHERE time >= %lld AND time < %lld GROUP BY hour, hostname ORDER BY hour, hostname",
                        (long long)q->start, (long long)q->end);
  }else if( strncmp(zT, "high-cpu", 8) == 0 ){
    sqlite3_str_appendall(s, "SELECT time, hostname");
    zKinds[nK++] = 't';
    zKinds[nK++] = 'h';
    for(k = 0; k < TSBS_NFIELD; k++){
      sqlite3_str_appendf(s, ", %s", tsbsFieldName[k]);
      zKinds[nK++] = 'f';
    }
    sqlite3_str_appendf(s, " FROM cpu WHERE usage_user > 90.0 AND time >= %lld AND time < %lld",
                        (long long)q->start, (long long)q->end);
    if( q->nHost ) appendHostIn(s, q);
    *pbOrdered = 0;   /* TSBS has no ORDER BY here */
  }else if( strcmp(zT, "lastpoint") == 0 ){
    zKinds[nK++] = 't';
    zKinds[nK++] = 'h';
    for(k = 0; k < TSBS_NFIELD; k++) zKinds[nK++] = 'f';
    if( p->bTslite ){
      /* No tags table: the hosts, then per host its newest time and that
      ** row (time = and hostname = are pushed down).  The fastest of the
      ** public-SQL forms tried (docs/benchmarks.md); a join on
      ** "GROUP BY hostname max(time)" was 2x slower. */
      sqlite3_str_appendall(s, "SELECT c.time, c.hostname");
      for(k = 0; k < TSBS_NFIELD; k++) sqlite3_str_appendf(s, ", c.%s", tsbsFieldName[k]);
      sqlite3_str_appendall(s, " FROM (SELECT DISTINCT hostname FROM cpu) h JOIN cpu c"
                               " ON c.hostname = h.hostname"
                               " AND c.time = (SELECT max(time) FROM cpu WHERE hostname = h.hostname)");
    }else{
      /* TSBS's tags-table form: per host, the newest row by the index. */
      sqlite3_str_appendall(s, "SELECT c.time, c.hostname");
      for(k = 0; k < TSBS_NFIELD; k++) sqlite3_str_appendf(s, ", c.%s", tsbsFieldName[k]);
      sqlite3_str_appendall(s, " FROM tags t JOIN cpu c ON c.rowid = "
                               "(SELECT rowid FROM cpu WHERE hostname = t.hostname ORDER BY time DESC LIMIT 1)");
    }
    *pbOrdered = 0;
  }else if( strcmp(zT, "groupby-orderby-limit") == 0 ){
    sqlite3_str_appendf(s, "SELECT (time/%lld)*%lld AS minute, max(usage_user) FROM cpu WHERE time < %lld"
                           " GROUP BY minute ORDER BY minute DESC LIMIT 5",
                        NS_PER_MIN, NS_PER_MIN, (long long)q->end);
    zKinds[nK++] = 't';
    zKinds[nK++] = 'f';
  }else{
    die("no SQL for query type %s", zT);
  }
  zKinds[nK] = 0;
  return sqlite3_str_finish(s);
}

/* Result cells copied out of SQLite during the timed region. */
typedef struct Cell Cell;
struct Cell { int eType; int64_t i; double r; size_t iText; };
typedef struct Result Result;
struct Result {
  Cell *a; size_t n, nAlloc;
  char *zText; size_t nText, nTextAlloc;
  int64_t nRow;
};

static void resultAdd(Result *r, sqlite3_stmt *st, int iCol){
  Cell *c;
  if( r->n == r->nAlloc ){
    r->nAlloc = r->nAlloc * 2 + 1024;
    r->a = realloc(r->a, sizeof(Cell) * r->nAlloc);
    if( !r->a ) die("out of memory");
  }
  c = &r->a[r->n++];
  c->eType = sqlite3_column_type(st, iCol);
  switch( c->eType ){
    case SQLITE_INTEGER: c->i = sqlite3_column_int64(st, iCol); break;
    case SQLITE_FLOAT: c->r = sqlite3_column_double(st, iCol); break;
    case SQLITE_NULL: break;
    default: {
      const unsigned char *z = sqlite3_column_text(st, iCol);
      size_t n = (size_t)sqlite3_column_bytes(st, iCol);
      if( r->nText + n + 1 > r->nTextAlloc ){
        r->nTextAlloc = (r->nTextAlloc + n + 1) * 2;
        r->zText = realloc(r->zText, r->nTextAlloc);
        if( !r->zText ) die("out of memory");
      }
      memcpy(r->zText + r->nText, z ? (const char *)z : "", n);
      r->zText[r->nText + n] = 0;
      c->iText = r->nText;
      r->nText += n + 1;
      c->eType = SQLITE_TEXT;
    }
  }
}

/* The checksum of bench/tsbs.h over r. */
static uint64_t resultChecksum(const Result *r, const char *zKinds, int bOrdered){
  int nCol = (int)strlen(zKinds);
  uint64_t sum = 0;
  int64_t iRow;
  char zBuf[64];
  for(iRow = 0; iRow < r->nRow; iRow++){
    uint64_t h = TSBS_FNV_INIT;
    int k;
    if( bOrdered ){
      int n = snprintf(zBuf, sizeof(zBuf), "%lld|", (long long)iRow);
      h = tsbsFnv(h, zBuf, (size_t)n);
    }
    for(k = 0; k < nCol; k++){
      const Cell *c = &r->a[iRow * nCol + k];
      int n = 0;
      const char *z = zBuf;
      if( k ) h = tsbsFnv(h, "|", 1);
      if( c->eType == SQLITE_NULL ){
        z = "N"; n = 1;
      }else if( zKinds[k] == 'h' ){
        z = c->eType == SQLITE_TEXT ? r->zText + c->iText : "?";
        n = (int)strlen(z);
      }else if( zKinds[k] == 't' ){
        int64_t v = c->eType == SQLITE_INTEGER ? c->i : (int64_t)llround(c->r);
        n = snprintf(zBuf, sizeof(zBuf), "%lld", (long long)v);
      }else{
        double v = c->eType == SQLITE_INTEGER ? (double)c->i : c->r;
        n = snprintf(zBuf, sizeof(zBuf), "%lld", (long long)llround(v * 1e4));
      }
      h = tsbsFnv(h, z, (size_t)n);
    }
    sum += h;
  }
  return sum;
}

/* Run one instance; returns its wall time in ms, sets *pCpuMs to the CPU
** time it used and fills r. */
static double runOne(sqlite3 *db, const char *zSql, int nCol, Result *r, double *pCpuMs){
  sqlite3_stmt *st = 0;
  double c0 = procCpuSec();
  double t0 = nowSec();
  int rc, k;
  r->n = 0;
  r->nText = 0;
  r->nRow = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &st, 0) != SQLITE_OK ){
    die("prepare failed: %s\n  in: %s", sqlite3_errmsg(db), zSql);
  }
  if( sqlite3_column_count(st) != nCol ) die("internal: %d columns, expected %d: %s", sqlite3_column_count(st), nCol, zSql);
  while( (rc = sqlite3_step(st)) == SQLITE_ROW ){
    for(k = 0; k < nCol; k++) resultAdd(r, st, k);
    r->nRow++;
  }
  if( rc != SQLITE_DONE ) die("query failed: %s\n  in: %s", sqlite3_errmsg(db), zSql);
  sqlite3_finalize(st);
  t0 = (nowSec() - t0) * 1e3;
  if( pCpuMs ) *pCpuMs = (procCpuSec() - c0) * 1e3;
  return t0;
}

/* The local cold cache's request counters of this connection (ts_stats
** cold_cache gets, heads, lists) into a[0..2]; zeros without a cache. */
static void coldRequests(sqlite3 *db, int64_t *a){
  a[0] = queryInt(db, "SELECT json_extract(ts_stats('cpu'), '$.cold_cache.gets')", 0);
  a[1] = queryInt(db, "SELECT json_extract(ts_stats('cpu'), '$.cold_cache.heads')", 0);
  a[2] = queryInt(db, "SELECT json_extract(ts_stats('cpu'), '$.cold_cache.lists')", 0);
}

static int cmdQuery(Opts *p){
  int nInst = 0, i = 0;
  Inst *aInst = readQueries(p->zQueries, &nInst);
  sqlite3 *db = openDb(p);
  Result r;
  sqlite3_str *s;
  double tAll = nowSec(), tWarm;
  memset(&r, 0, sizeof(r));
  if( p->bTslite && p->zData ){
    Data d;
    dataOpen(&d, p->zData);
    setClock(db, d.start + d.nEpoch * d.interval);
    dataClose(&d);
  }
  /* Hot cache: read the whole database once (untimed), so the first query
  ** type does not pay for the page reads that later types get for free. */
  {
    double tw = nowSec();
    if( p->bNative ){
      exec(db, "CREATE VIRTUAL TABLE temp.cpu_agg USING timeseries_agg('main.cpu')");
    }
    if( p->bTslite ){
      exec(db, "SELECT count(usage_user), count(DISTINCT hostname) FROM cpu");
    }else{
      exec(db, "SELECT max(usage_guest_nice) FROM cpu NOT INDEXED;"
               "SELECT count(*) FROM cpu INDEXED BY cpu_host_time WHERE hostname >= '';"
               "SELECT count(*) FROM tags;");
    }
    tWarm = nowSec() - tw;
  }
  while( i < nInst ){
    int iFirst = i, nType = 0, nRun = 0;
    int64_t aReq0[3] = {0, 0, 0}, aReq1[3] = {0, 0, 0};
    double used = 0;
    char zKinds[32];
    int bOrdered;
    char *zSql;
    while( i < nInst && strcmp(aInst[i].zType, aInst[iFirst].zType) == 0 ){ i++; nType++; }

    /* Warm-up: instance 0 once, untimed. */
    zSql = buildSql(p, &aInst[iFirst], zKinds, &bOrdered);
    runOne(db, zSql, (int)strlen(zKinds), &r, 0);
    sqlite3_free(zSql);

    if( p->bColdS3 ) coldRequests(db, aReq0);
    s = jsonStart(p, "query");
    sqlite3_str_appendall(s, ",\"type\":");
    jsonStr(s, aInst[iFirst].zType);
    sqlite3_str_appendall(s, ",\"sql_example\":");
    zSql = buildSql(p, &aInst[iFirst], zKinds, &bOrdered);
    jsonStr(s, zSql);
    sqlite3_free(zSql);
    sqlite3_str_appendall(s, ",\"instances\":[");
    for(int j = iFirst; j < iFirst + nType; j++){
      double ms, cpuMs;
      uint64_t cks;
      if( used > p->budget ) break;
      zSql = buildSql(p, &aInst[j], zKinds, &bOrdered);
      ms = runOne(db, zSql, (int)strlen(zKinds), &r, &cpuMs);
      sqlite3_free(zSql);
      used += ms / 1e3;
      cks = resultChecksum(&r, zKinds, bOrdered);
      sqlite3_str_appendf(s, "%s{\"i\":%d,\"ms\":%.4f,\"cpu_ms\":%.4f,\"rows\":%lld,\"checksum\":\"%016llx\"}",
                          nRun ? "," : "", aInst[j].iInst, ms, cpuMs, (long long)r.nRow, (unsigned long long)cks);
      nRun++;
    }
    sqlite3_str_appendf(s, "],\"skipped\":%d", nType - nRun);
    if( p->bColdS3 ){
      /* Requests the timed instances made the cache send (the warm-up
      ** instance before them excluded). */
      coldRequests(db, aReq1);
      sqlite3_str_appendf(s, ",\"cache_requests\":{\"get\":%lld,\"head\":%lld,\"list\":%lld}",
                          (long long)(aReq1[0] - aReq0[0]), (long long)(aReq1[1] - aReq0[1]),
                          (long long)(aReq1[2] - aReq0[2]));
    }
    sqlite3_str_appendall(s, "}");
    emit(p, s);
    fprintf(stderr, "  %-8s %-22s %3d instances %9.1f ms total\n", p->zSystem, aInst[iFirst].zType, nRun, used * 1e3);
  }
  s = jsonStart(p, "query-summary");
  coldJson(p, db, s);
  sqlite3_str_appendf(s, ",\"seconds\":%.3f,\"warm_seconds\":%.3f,\"peak_rss_kb\":%ld,\"sqlite_version\":\"%s\"}",
                      nowSec() - tAll, tWarm, peakRssKb(), sqlite3_libversion());
  emit(p, s);
  sqlite3_close(db);
  free(r.a);
  free(r.zText);
  free(aInst);
  return 0;
}

/* Exit 0 iff the extension at zExt loads and provides module "timeseries". */
static int probeRow(void *pArg, int nCol, char **azVal, char **azCol){
  *(int *)pArg = 1;
  return 0;
}
static int probeRm(const char *zPath, const struct stat *pSt, int eFlag, struct FTW *pFtw){
  (void)pSt; (void)eFlag; (void)pFtw;
  remove(zPath);
  return 0;
}
/* 0 iff a row tiered by ts_maintain into a fresh directory under
** p->zColdUri (a directory), or a fresh prefix under it (s3://), is still
** returned by SELECT; else prints why and returns 1. */
static int probeColdScan(const Opts *p, sqlite3 *db){
  char zTmp[4096];
  char *zSql, *zUri, *zErr = 0;
  sqlite3_stmt *pStmt = 0;
  int rc, n = -1;
  if( p->bColdS3 ){
    zTmp[0] = 0;
    zUri = sqlite3_mprintf("%s/probe-%ld-%lld", p->zColdUri, (long)getpid(), (long long)time(0));
  }else{
    snprintf(zTmp, sizeof(zTmp), "%s/tslite-probe-XXXXXX", p->zColdUri + 7);
    if( mkdtemp(zTmp)==0 ){ printf("cannot create a directory under %s\n", p->zColdUri + 7); return 1; }
    zUri = sqlite3_mprintf("file://%s", zTmp);
  }
  zSql = sqlite3_mprintf("SELECT ts_debug_set_now(86400000000000*3);"
      "CREATE VIRTUAL TABLE probe_cold USING timeseries(h DIMENSION, v DOUBLE,"
      " memory_retention='1h', magnetic_writes=true, storage=%Q);"
      "INSERT INTO probe_cold(time, h, v) VALUES(86400000000000, 'a', 1);"
      "SELECT ts_maintain('probe_cold');", zUri);
  sqlite3_free(zUri);
  rc = sqlite3_exec(db, zSql, 0, 0, &zErr);
  sqlite3_free(zSql);
  if( rc==SQLITE_OK ) rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM probe_cold", -1, &pStmt, 0);
  if( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ) n = sqlite3_column_int(pStmt, 0);
  sqlite3_finalize(pStmt);
  if( zTmp[0] ) nftw(zTmp, probeRm, 16, FTW_DEPTH|FTW_PHYS);
  if( rc!=SQLITE_OK || n!=1 ){
    printf("the table scan does not read the magnetic tier yet (%s)\n",
           rc!=SQLITE_OK ? (zErr ? zErr : sqlite3_errmsg(db)) : "a tiered row is not returned");
    sqlite3_free(zErr);
    return 1;
  }
  return 0;
}
static int cmdProbe(Opts *p){
  sqlite3 *db = 0;
  char *zErr = 0;
  int rc, bFound = 0;
  sqlite3_open(":memory:", &db);
  sqlite3_enable_load_extension(db, 1);
  if( sqlite3_load_extension(db, p->zExt, 0, &zErr) != SQLITE_OK ){
    printf("cannot load %s: %s\n", p->zExt, zErr ? zErr : "?");
    sqlite3_free(zErr);
    sqlite3_close(db);
    return 1;
  }
  rc = sqlite3_exec(db, "CREATE VIRTUAL TABLE temp.probe USING timeseries(h DIMENSION, v DOUBLE)", 0, 0, &zErr);
  if( rc != SQLITE_OK ){
    printf("the timeseries module is not usable: %s\n", zErr ? zErr : sqlite3_errmsg(db));
    sqlite3_free(zErr);
    sqlite3_close(db);
    return 1;
  }
  if( p->zCold ){
    rc = sqlite3_exec(db, "SELECT 1 FROM pragma_function_list WHERE name = 'ts_maintain'", probeRow, &bFound, &zErr);
    if( rc != SQLITE_OK || !bFound ){
      printf("ts_maintain() is not available\n");
      sqlite3_free(zErr);
      sqlite3_close(db);
      return 1;
    }
    /* The cold system needs the scan to read what ts_maintain tiered (the
    ** write side can exist before the read side): tier one row, count it. */
    if( probeColdScan(p, db) ){
      sqlite3_close(db);
      return 1;
    }
  }
  rc = sqlite3_exec(db, "SELECT ts_debug_set_now(0)", 0, 0, &zErr);
  if( rc != SQLITE_OK ){
    printf("ts_debug_set_now() is missing: %s\n", zErr ? zErr : sqlite3_errmsg(db));
    sqlite3_free(zErr);
    sqlite3_close(db);
    return 1;
  }
  sqlite3_close(db);
  printf("ok\n");
  return 0;
}

/* tierall (tslite-cold after its queries): the clock moves past the data's
** end + memory_retention (6 h) and ts_maintain() tiers the rest of the
** memory tier, so the cold directory holds the whole data set for the
** duckdb-lake system (DuckDB's read_parquet over tslite's own objects).
** Objects that this pass's compaction replaced stay in the store for
** orphan_grace (docs/lake.md: a glob sees their rows twice until then), so
** a second pass with orphan_grace 0 deletes them: the glob then reads
** exactly the manifest's objects, as a lake does an hour later. */
static int cmdTierAll(Opts *p){
  sqlite3 *db = openDb(p);
  char *zMax = queryText(db, "SELECT max(last_time) FROM ts_series('cpu')");
  char *zSql, *zRes, *zLeft;
  if( !zMax ) die("tierall: no rows in the memory tier of %s", p->zDb);
  zSql = sqlite3_mprintf("SELECT ts_debug_set_now(%lld)", atoll(zMax) + 7 * 3600 * 1000000000LL);
  exec(db, zSql);
  sqlite3_free(zSql);
  zRes = queryText(db, "SELECT ts_maintain('cpu')");
  if( !zRes ) die("tierall: ts_maintain('cpu') failed: %s", sqlite3_errmsg(db));
  sqlite3_free(zRes);
  zRes = queryText(db, "SELECT ts_maintain('cpu', '{\"orphan_grace\":\"0s\"}')");
  if( !zRes ) die("tierall: ts_maintain('cpu', orphan_grace 0s) failed: %s", sqlite3_errmsg(db));
  zLeft = queryText(db, "SELECT coalesce(sum(row_count), 0) FROM ts_series('cpu')");
  if( !zLeft || atoll(zLeft) != 0 ) die("tierall: %s rows left in the memory tier", zLeft ? zLeft : "?");
  sqlite3_free(zMax);
  sqlite3_free(zRes);
  sqlite3_free(zLeft);
  sqlite3_close(db);
  return 0;
}

int main(int argc, char **argv){
  Opts o;
  int i;
  memset(&o, 0, sizeof(o));
  o.zSystem = "sqlite";
  o.zLabel = "tsbs-int";
  o.budget = 60;
  if( argc < 2 ) die("usage: sqlbench load|query|probe [options] (see bench/sqlbench.c)");
  o.zCmd = argv[1];
  for(i = 2; i < argc; i++){
    const char *z = argv[i];
    if( strcmp(z, "-P") == 0 ){ o.bPostIndex = 1; continue; }
    if( strcmp(z, "-N") == 0 ){ o.bNative = 1; continue; }
    if( z[0] != '-' || !z[1] || z[2] || i + 1 >= argc ) die("bad option %s", z);
    switch( z[1] ){
      case 't': o.zSystem = argv[++i]; break;
      case 'd': o.zData = argv[++i]; break;
      case 'q': o.zQueries = argv[++i]; break;
      case 'f': o.zDb = argv[++i]; break;
      case 'o': o.zOut = argv[++i]; break;
      case 'x': o.zExt = argv[++i]; break;
      case 'l': o.zLabel = argv[++i]; break;
      case 'b': o.budget = atof(argv[++i]); break;
      case 'C': o.zCold = argv[++i]; break;
      case 'K': o.zColdCache = argv[++i]; break;
      default: die("unknown option %s", z);
    }
  }
  if( strcmp(o.zSystem, "tslite") == 0 || strcmp(o.zCmd, "probe") == 0 ) o.bTslite = 1;
  else if( strcmp(o.zSystem, "sqlite") != 0 ) die("-t must be sqlite or tslite");
  if( (o.bTslite || strcmp(o.zCmd, "probe") == 0) && !o.zExt ) die("-x EXT is required for tslite");
  if( o.bPostIndex && o.bTslite ) die("-P is for sqlite only");
  if( o.bNative && (!o.bTslite || strcmp(o.zCmd, "query") != 0) ) die("-N is for tslite queries only");
  if( o.zCold && !o.bTslite ) die("-C is for tslite only");
  if( o.zCold ){
    int n;
    if( strncmp(o.zCold, "s3://", 5) == 0 ){
      o.bColdS3 = 1;
      n = snprintf(o.zColdUri, sizeof(o.zColdUri), "%s", o.zCold);
    }else if( strncmp(o.zCold, "file:///", 8) == 0 ){
      n = snprintf(o.zColdUri, sizeof(o.zColdUri), "%s", o.zCold);
    }else if( o.zCold[0] == '/' ){
      n = snprintf(o.zColdUri, sizeof(o.zColdUri), "file://%s", o.zCold);
    }else{
      die("-C needs an absolute directory, a file:///dir or an s3://bucket/prefix URI");
    }
    if( n < 0 || (size_t)n >= sizeof(o.zColdUri) ) die("-C %s: too long", o.zCold);
  }
  if( o.zColdCache && !o.zCold ) die("-K is for a cold system (-C) only");
  if( strcmp(o.zCmd, "probe") == 0 ) return cmdProbe(&o);
  if( strcmp(o.zCmd, "tierall") == 0 ){
    if( !o.zDb || !o.bTslite ) die("tierall needs -t tslite -x EXT -f DB");
    return cmdTierAll(&o);
  }
  if( !o.zDb || !o.zOut ) die("-f DB and -o OUT are required");
  if( strcmp(o.zCmd, "load") == 0 ){
    if( !o.zData ) die("-d DATA is required");
    return cmdLoad(&o);
  }
  if( strcmp(o.zCmd, "query") == 0 ){
    if( !o.zQueries ) die("-q QUERIES is required");
    return cmdQuery(&o);
  }
  die("unknown command %s", o.zCmd);
  return 2;
}
