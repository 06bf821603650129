/*
** test_oom.c: out-of-memory injection over the timeseries table (issue 10).
**
** A sqlite3_config(SQLITE_CONFIG_MALLOC) wrapper fails the Nth allocation
** made through SQLite's allocator (malloc and realloc: sqlite3_malloc64 and
** everything SQLite-facing in tslite goes through it) while it is armed.
** The work is split into phases; each runs on its own small database so its
** allocation count stays small enough to fail EVERY allocation of it:
**
**   write    BEGIN; INSERT rows of 3 series (in order, out of order, a
**            duplicate, an upsert with a higher version, VARCHAR values);
**            COMMIT (the flush happens at commit)
**   flush    over committed chunks: a transaction inserts rows inside and
**            around them, a SELECT flushes (chunk merge), COMMIT
**   scan     reads: filters, IN, time ranges, ORDER BY time DESC LIMIT
**            across series (merge), aggregates, version
**   check    ts_check and ts_stats
**   unload   ts_unload to file:// as CSV and as partitioned Parquet
**   maintain ts_maintain tiering every row to Parquet in the default
**            file:// storage (the clock moved past memory_retention)
**   aggcold  timeseries_agg over a tiered table with late writes over its
**            cold rows (cold blocks, chunks and overlapping stretches)
**   aggpar   timeseries_agg under PRAGMA threads=2 over enough rows for the
**            parallel path (ext/agg_par.c): chunk references, blobs read
**            ahead, result arrays, workers started and joined on failure
**   coldread over a table tiered to file:// (its manifest rows hold ETags):
**            ts_check (manifest against the store listing, ETags included)
**            and cold scans
**   coldfilter  the same table read with row filters on a measure and
**            sets of series (the scan's hint to the cold source)
**   migrate  the same table with the manifest's etag column dropped (a
**            database made before it): scans, then ts_maintain adds the
**            column, then ts_check
**   batch    ts_batch_load of a CSV with a bad row, in batches of 8: the
**            rows in the table always equal the task's RecordsIngested
**   ddl      CREATE VIRTUAL TABLE, ALTER TABLE RENAME, DROP TABLE (every
**            13th N: most of its allocations are SQLite parsing DDL)
**
** For each phase a dry run counts its allocations (A); then for every
** N = 1..A a child process prepares the phase's database without injection,
** runs the phase with allocation N failing ("single"), and, injection off,
** checks:
**   - no crash and no sanitizer report: the child exits normally, so under
**     ASan LeakSanitizer checks it for leaks at exit (ASAN_OPTIONS from
**     tests/run.sh has detect_leaks=1);
**   - PRAGMA integrity_check is 'ok' and ts_check('t') is 'ok';
**   - the rows are all or nothing: the committed transaction of the phase
**     is there entirely or not at all, the phases that only read leave
**     every row in place.
** Then "persistent" mode (every allocation from N on fails) with a stride.
** Each mode has a time budget (TS_OOM_SECONDS, default 60, 40 under
** TS_SANITIZE=1); a phase that runs out prints SKIP for the rest, never
** PASS.  Replay one case with TS_OOM_PHASE=<name> TS_OOM_N=<n>
** [TS_OOM_PERSISTENT=1] (runs in this process, for a debugger).
*/
#include "tt.h"
#include <sqlite3.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#if defined(__SANITIZE_ADDRESS__)
# include <sanitizer/lsan_interface.h>
# define TS_HAVE_LSAN 1
#endif

int sqlite3_tslite_init(sqlite3 *db, char **pzErrMsg, const struct sqlite3_api_routines *pApi);

/* ------------------------------------------------------------ the wrapper */
static sqlite3_mem_methods gOrig;
static int64_t gCount = 0;      /* allocations since armed */
static int64_t gFailAt = 0;     /* 0: no injection */
static int gPersistent = 0;     /* fail every allocation from gFailAt on */
static int gArmed = 0;
static int gVerbose = 0;        /* TS_OOM_VERBOSE: print each failing statement */

static int shouldFail(void){
  if( !gArmed ) return 0;
  gCount++;
  if( gFailAt==0 ) return 0;
  return gCount==gFailAt || (gPersistent && gCount>gFailAt);
}
static void *oomMalloc(int n){ return shouldFail() ? 0 : gOrig.xMalloc(n); }
static void oomFree(void *p){ gOrig.xFree(p); }
static void *oomRealloc(void *p, int n){ return shouldFail() ? 0 : gOrig.xRealloc(p, n); }
static int oomSize(void *p){ return gOrig.xSize(p); }
static int oomRoundup(int n){ return gOrig.xRoundup(n); }
static int oomInit(void *p){ return gOrig.xInit(p); }
static void oomShutdown(void *p){ gOrig.xShutdown(p); }

static void installWrapper(void){
  sqlite3_mem_methods m;
  sqlite3_config(SQLITE_CONFIG_GETMALLOC, &gOrig);
  m = gOrig;
  m.xMalloc = oomMalloc; m.xFree = oomFree; m.xRealloc = oomRealloc;
  m.xSize = oomSize; m.xRoundup = oomRoundup; m.xInit = oomInit; m.xShutdown = oomShutdown;
  if( sqlite3_config(SQLITE_CONFIG_MALLOC, &m)!=SQLITE_OK ){
    printf("FAIL oom: sqlite3_config(SQLITE_CONFIG_MALLOC) refused\n");
    exit(1);
  }
}

static void arm(int64_t n, int bPersistent){ gFailAt = n; gPersistent = bPersistent; gCount = 0; gArmed = 1; }
static void disarm(void){ gArmed = 0; }

/* ------------------------------------------------------------ helpers */
#define T0 1714561200000000000LL   /* 2024-05-01T11:00:00Z; now is 12:00 */
#define SEC 1000000000LL

static void note(sqlite3 *db, int rc, const char *zSql){
  if( gVerbose && rc!=SQLITE_OK && rc!=SQLITE_DONE && rc!=SQLITE_ROW ){
    printf("    [alloc %lld] %.60s: rc=%d %s\n", (long long)gCount, zSql, rc, sqlite3_errmsg(db));
  }
}

static int execNote(sqlite3 *db, const char *zSql){
  int rc = sqlite3_exec(db, zSql, 0, 0, 0);
  note(db, rc, zSql);
  return rc;
}

static void execIgnore(sqlite3 *db, const char *zSql){
  execNote(db, zSql);   /* errors (SQLITE_NOMEM) are expected */
}

/* Step through one statement, ignoring its rows and errors. */
static void stepAll(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(db, zSql, -1, &p, 0);
  if( rc==SQLITE_OK ){
    while( (rc = sqlite3_step(p))==SQLITE_ROW ){
      int i;
      for(i=0; i<sqlite3_column_count(p); i++) (void)sqlite3_column_text(p, i);
    }
  }
  note(db, rc, zSql);
  sqlite3_finalize(p);
}

/* One integer from a query, or -1. */
static sqlite3_int64 queryInt(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = 0;
  sqlite3_int64 v = -1;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    v = sqlite3_column_int64(p, 0);
  }
  sqlite3_finalize(p);
  return v;
}

static sqlite3 *openDb(const char *zDir){
  sqlite3 *db = 0;
  char zPath[700];
  snprintf(zPath, sizeof(zPath), "%s/w.db", zDir);
  if( sqlite3_open(zPath, &db)!=SQLITE_OK ){ sqlite3_close(db); return 0; }
  execIgnore(db, "SELECT ts_debug_set_now(1714564800000000000)");
  execIgnore(db, "PRAGMA synchronous=OFF");   /* no fsync: the test is about memory */
  return db;
}

/* Insert rows with one prepared statement, stopping at the first error
** (after SQLITE_NOMEM SQLite may have rolled the transaction back, and the
** later rows would commit on their own); returns 1 on error. */
static int insertRows(sqlite3 *db, int nSeries, int nPer, int64_t tStep, int64_t tOff,
                      int iVersion){
  sqlite3_stmt *p = 0;
  int s, i, nBad = 0;
  if( sqlite3_prepare_v2(db, "INSERT INTO t(time, host, region, v, n, note, version)"
                         " VALUES(?,?,?,?,?,?,?)", -1, &p, 0)!=SQLITE_OK ) return 1;
  for(s=0; s<nSeries && nBad==0; s++){
    char zHost[32], zNote[32];
    snprintf(zHost, sizeof(zHost), "h%d", s);
    for(i=0; i<nPer && nBad==0; i++){
      /* every third series writes its rows backwards (out of order) */
      int k = s%3==2 ? nPer-1-i : i;
      snprintf(zNote, sizeof(zNote), "note %d/%d", s, k);
      /* a bind can fail too (SQLITE_TRANSIENT copies): then the row is
      ** not inserted with a NULL in its place */
      int rcB = sqlite3_bind_int64(p, 1, T0 + tOff + (int64_t)k*tStep);
      rcB |= sqlite3_bind_text(p, 2, zHost, -1, SQLITE_TRANSIENT);
      rcB |= sqlite3_bind_text(p, 3, s%2 ? "eu" : "us", -1, SQLITE_STATIC);
      rcB |= sqlite3_bind_double(p, 4, k*0.5 + s);
      rcB |= sqlite3_bind_int64(p, 5, (int64_t)k*s);
      if( k%4==0 ) rcB |= sqlite3_bind_null(p, 6);
      else rcB |= sqlite3_bind_text(p, 6, zNote, -1, SQLITE_TRANSIENT);
      rcB |= sqlite3_bind_int(p, 7, iVersion);
      if( rcB ){ nBad++; break; }
      if( sqlite3_step(p)!=SQLITE_DONE ){ nBad++; note(db, sqlite3_reset(p), "INSERT row"); }
      sqlite3_reset(p);
    }
  }
  sqlite3_finalize(p);
  return nBad;
}

#define CREATE_T "CREATE VIRTUAL TABLE t USING timeseries(host DIMENSION, region DIMENSION," \
                 " v DOUBLE, n BIGINT, note VARCHAR)"

/* ------------------------------------------------------------ the phases */
typedef struct Phase Phase;
struct Phase {
  const char *zName;
  void (*xTemplate)(const char *zDir);   /* builds the database, not armed */
  void (*xSetup)(sqlite3 *db);           /* per case, not armed (may be 0) */
  void (*xRun)(sqlite3 *db, const char *zDir);   /* armed */
  int nBase, nAll;                       /* acceptable row counts afterwards */
  int bDdl;                              /* the table may be absent (ddl) */
  int nStride;                           /* single mode: every nStride-th N */
  int bBatches;                          /* any count 0..nAll, equal to the
                                         ** task's committed RecordsIngested */
  const char *zTmplOk;                   /* 0, or a query on the template that
                                         ** must give 1 (the state it is for) */
};

/* A database with t (made by zCreate) holding 3 series x 24 rows in
** 2-second steps. */
static void tmplRows(const char *zDir, const char *zCreate){
  sqlite3 *db = openDb(zDir);
  execIgnore(db, zCreate);
  execIgnore(db, "BEGIN");
  insertRows(db, 3, 24, 2*SEC, 0, 1);
  execIgnore(db, "COMMIT");
  sqlite3_close(db);
}
static void tmplFilled(const char *zDir){ tmplRows(zDir, CREATE_T); }

static void tmplEmpty(const char *zDir){
  sqlite3 *db = openDb(zDir);
  execIgnore(db, CREATE_T);
  sqlite3_close(db);
}

static void tmplNone(const char *zDir){
  sqlite3 *db = openDb(zDir);
  execIgnore(db, "CREATE TABLE keep(x)");
  sqlite3_close(db);
}

/* write: one transaction of 3 series x 8 rows, a duplicate (no-op), an
** upsert with version 2, a rejected conflict (OR IGNORE), then COMMIT. */
static void runWrite(sqlite3 *db, const char *zDir){
  (void)zDir;
  if( execNote(db, "BEGIN")!=SQLITE_OK ) return;
  if( insertRows(db, 3, 8, SEC, 0, 1)
   || execNote(db, "INSERT INTO t(time, host, region, v, n, note) VALUES"
                   " (1714561200000000000, 'h0', 'us', 0.0, 0, NULL)")
   || execNote(db, "INSERT INTO t(time, host, region, v, n, note, version) VALUES"
                   " (1714561201000000000, 'h0', 'us', 9.5, 9, 'upsert', 2)")
   || execNote(db, "INSERT OR IGNORE INTO t(time, host, region, v) VALUES"
                   " (1714561202000000000, 'h0', 'us', 1234.0)") ){
    execIgnore(db, "ROLLBACK");
    return;
  }
  if( execNote(db, "COMMIT")!=SQLITE_OK ) execIgnore(db, "ROLLBACK");
}

/* flush: rows inside the committed chunks' range (merge) and after it, a
** read that flushes them, and COMMIT. */
static void runFlush(sqlite3 *db, const char *zDir){
  (void)zDir;
  if( execNote(db, "BEGIN")!=SQLITE_OK ) return;
  if( insertRows(db, 3, 12, 4*SEC, SEC, 1) ){   /* odd seconds: between the rows */
    execIgnore(db, "ROLLBACK");
    return;
  }
  stepAll(db, "SELECT count(*) FROM t WHERE host = 'h1'");
  if( execNote(db, "COMMIT")!=SQLITE_OK ) execIgnore(db, "ROLLBACK");
}

static void runScan(sqlite3 *db, const char *zDir){
  (void)zDir;
  stepAll(db, "SELECT count(*), sum(n), max(note) FROM t WHERE host = 'h1'");
  stepAll(db, "SELECT host, avg(v) FROM t WHERE time >= 1714561210000000000 GROUP BY host");
  stepAll(db, "SELECT time, v, note FROM t WHERE host IN ('h0','h2') AND region = 'us'"
              " ORDER BY time DESC LIMIT 5");
  stepAll(db, "SELECT host, time, version FROM t ORDER BY time LIMIT 7");
  stepAll(db, "SELECT * FROM t WHERE time BETWEEN 1714561204000000000 AND 1714561220000000000");
}

static void runCheck(sqlite3 *db, const char *zDir){
  (void)zDir;
  stepAll(db, "SELECT ts_check('t')");
  stepAll(db, "SELECT ts_stats('t')");
}

static void runUnload(sqlite3 *db, const char *zDir){
  char zSql[1600];
  /* sqlite3_snprintf: %q quotes the directory, and nothing is allocated. */
  sqlite3_snprintf((int)sizeof(zSql), zSql, "SELECT ts_unload('SELECT * FROM t WHERE n > 3', 'file://%q/u_csv',"
           " '{\"format\":\"csv\",\"include_header\":true}')", zDir);
  stepAll(db, zSql);
  sqlite3_snprintf((int)sizeof(zSql), zSql, "SELECT ts_unload('SELECT host, v, note, time FROM t',"
           " 'file://%q/u_pq', '{\"format\":\"parquet\",\"partitioned_by\":[\"host\"]}')", zDir);
  stepAll(db, zSql);
}

static void runDdl(sqlite3 *db, const char *zDir){
  (void)zDir;
  if( execNote(db, CREATE_T)==SQLITE_OK ){
    execIgnore(db, "INSERT INTO t(time, host, v) VALUES (1714561200000000000, 'a', 1.0)");
    execIgnore(db, "ALTER TABLE t RENAME TO t2");
    execIgnore(db, "DROP TABLE t2");
  }
}

/* maintain: t with memory_retention 2h; the case's clock is moved 2h on,
** so ts_maintain tiers every row into Parquet objects in the default
** storage (the directory w.db.tslite/ beside the case's database). */
#define CREATE_T2H "CREATE VIRTUAL TABLE t USING timeseries(host DIMENSION, region DIMENSION," \
                   " v DOUBLE, n BIGINT, note VARCHAR, memory_retention='2h')"
static void tmplTier(const char *zDir){ tmplRows(zDir, CREATE_T2H); }
static void setupLater(sqlite3 *db){
  execIgnore(db, "SELECT ts_debug_set_now(1714572000000000000)");   /* 14:00Z */
}
static void runMaintain(sqlite3 *db, const char *zDir){
  (void)zDir;
  stepAll(db, "SELECT ts_maintain('t')");
}

/* aggcold: timeseries_agg over a tiered table: 75 rows of 4 series tiered
** into file:// objects in the template directory (every case reads them
** there), then late writes over the cold rows of 3 series kept in the
** memory tier (an upsert with version 2, two new rows between cold ones,
** an INSERT OR REPLACE) and a memory-only series: the native path reads
** cold blocks (h3), chunks (h4), and stretches where they overlap through
** the table's scan (h0..h2). */
static void tmplAggCold(const char *zDir){
  char zSql[1200];
  sqlite3 *db = openDb(zDir);
  sqlite3_snprintf((int)sizeof(zSql), zSql, "CREATE VIRTUAL TABLE t USING timeseries(host DIMENSION,"
                   " region DIMENSION, v DOUBLE, n BIGINT, note VARCHAR, memory_retention='2h',"
                   " magnetic_writes=true, storage='file://%q/cold')", zDir);
  execIgnore(db, zSql);
  execIgnore(db, "CREATE VIRTUAL TABLE t_agg USING timeseries_agg(t)");
  execIgnore(db, "BEGIN");
  insertRows(db, 3, 24, 2*SEC, 0, 1);
  execIgnore(db, "INSERT INTO t(time, host, region, v, n) VALUES (1714561200000000000, 'h3', 'eu', 1.0, 1),"
                 " (1714561230000000000, 'h3', 'eu', 2.0, NULL), (1714561260000000000, 'h3', 'eu', NULL, 3)");
  execIgnore(db, "COMMIT");
  setupLater(db);
  execIgnore(db, "SELECT ts_maintain('t')");
  execIgnore(db, "INSERT INTO t(time, host, region, v) VALUES (1714570200000000000, 'h4', 'us', 4.0),"
                 " (1714570260000000000, 'h4', 'us', 5.0)");
  execIgnore(db, "INSERT INTO t(time, host, region, v, n, version) VALUES"
                 " (1714561200000000000, 'h0', 'us', 7.5, 7, 2),"
                 " (1714561201000000000, 'h1', 'eu', 1.25, 1, 1),"
                 " (1714561211000000000, 'h2', 'us', 2.25, 2, 1)");
  execIgnore(db, "INSERT OR REPLACE INTO t(time, host, region, v) VALUES (1714561204000000000, 'h2', 'us', 3.5)");
  sqlite3_close(db);
}
static void runAggCold(sqlite3 *db, const char *zDir){
  (void)zDir;
  stepAll(db, "SELECT bucket, host, row_count, v_sum, v_first, v_last, n_max FROM t_agg"
              " WHERE bucket_width = '10s' ORDER BY bucket, host");
  stepAll(db, "SELECT bucket, host, v_avg FROM t_agg WHERE bucket_width = '7s'"
              " AND time >= 1714561203000000000 ORDER BY bucket DESC LIMIT 4");
  stepAll(db, "SELECT host, last_time, v_last FROM t_agg WHERE host IN ('h0', 'h2')");
  stepAll(db, "SELECT host, row_count, n_sum FROM t_agg('1h') ORDER BY host DESC");
}

/* aggpar: 4 series x 20,000 rows in half-second steps (the 4 hours before
** T0) and t_agg over them: a query's chunks hold more than the parallel
** path's AGG_PAR_MIN_VALUES, so with PRAGMA threads=2 it reads them ahead
** for worker threads (the heap merge and the serial order both). */
#define AGGPAR_RANGE "time >= 1714546800000000000 AND time < 1714561200000000000"
static void tmplAggPar(const char *zDir){
  sqlite3 *db = openDb(zDir);
  execIgnore(db, CREATE_T);
  execIgnore(db, "CREATE VIRTUAL TABLE t_agg USING timeseries_agg(t)");
  execIgnore(db, "BEGIN");
  insertRows(db, 4, 20000, SEC/2, -4*3600*SEC, 1);
  execIgnore(db, "COMMIT");
  sqlite3_close(db);
}
static void runAggPar(sqlite3 *db, const char *zDir){
  (void)zDir;
  execIgnore(db, "PRAGMA threads=2");
  stepAll(db, "SELECT bucket, host, row_count, v_sum, v_min, n_max, n_last FROM t_agg"
              " WHERE bucket_width = '10m' AND " AGGPAR_RANGE " ORDER BY bucket, host");
  stepAll(db, "SELECT host, row_count, v_avg, n_sum, v_first FROM t_agg WHERE " AGGPAR_RANGE
              " ORDER BY host DESC");
}

/* coldread / migrate: t tiered by ts_maintain into the template's own
** storage directory (cases copy only w.db and share the objects: the
** phases only read them, and ts_maintain finds nothing to tier). */
static void tmplColdStore(const char *zDir){
  char zSql[1200];
  sqlite3 *db;
  sqlite3_snprintf((int)sizeof(zSql), zSql, "CREATE VIRTUAL TABLE t USING timeseries(host DIMENSION,"
      " region DIMENSION, v DOUBLE, n BIGINT, note VARCHAR, memory_retention='2h',"
      " storage='file://%q/store')", zDir);
  tmplRows(zDir, zSql);
  db = openDb(zDir);
  setupLater(db);
  execIgnore(db, "SELECT ts_maintain('t')");
  sqlite3_close(db);
}
static void tmplColdOld(const char *zDir){
  sqlite3 *db;
  tmplColdStore(zDir);
  db = openDb(zDir);
  execIgnore(db, "ALTER TABLE t_objects DROP COLUMN etag");
  sqlite3_close(db);
}
static void runColdRead(sqlite3 *db, const char *zDir){
  (void)zDir;
  stepAll(db, "SELECT ts_check('t')");
  stepAll(db, "SELECT count(*), sum(v), max(note) FROM t");
  stepAll(db, "SELECT time, v FROM t WHERE host = 'h1' ORDER BY time DESC LIMIT 3");
}
/* coldfilter: row filters on measures and a series set over the tiered t
** (source.h rule 10: the scan's filters and series, the cold source's
** series bitmap and series hash). */
static void runColdFilter(sqlite3 *db, const char *zDir){
  (void)zDir;
  stepAll(db, "SELECT count(*), sum(v), max(note) FROM t WHERE v > 3 AND v <= 40.5");
  stepAll(db, "SELECT time, host, v, n FROM t WHERE v >= 7 AND host IN ('h0', 'h2') ORDER BY time DESC");
  stepAll(db, "SELECT host, count(*) FROM t WHERE host IN ('h0', 'h1', 'h2') GROUP BY host");
}
static void runMigrate(sqlite3 *db, const char *zDir){
  (void)zDir;
  stepAll(db, "SELECT count(*), sum(v) FROM t WHERE host IN ('h0', 'h2')");
  stepAll(db, "SELECT ts_maintain('t')");
  stepAll(db, "SELECT ts_check('t')");
}

/* batch: ts_batch_load of a 30-row CSV (one bad row: a parse failure in
** the error report) from file:// into the existing t, in batches of 8.
** The CSV stays in the template directory, beside every case directory. */
static void tmplBatch(const char *zDir){
  char zPath[800];
  FILE *f;
  int i;
  tmplEmpty(zDir);
  snprintf(zPath, sizeof(zPath), "%s/in.csv", zDir);
  f = fopen(zPath, "w");
  if( f==0 ) return;
  fprintf(f, "host,region,time,v,note\n");
  for(i=0; i<30; i++){
    if( i==13 ) fprintf(f, "h1,us,notatime,1,x\n");
    else fprintf(f, "h%d,%s,%lld,%d.5,\"n %d\"\n", i%3, i%2 ? "eu" : "us",
                 (long long)(T0/1000000 + i*1000), i, i);
  }
  fclose(f);
}
static void runBatch(sqlite3 *db, const char *zDir){
  char zSql[2400];
  int nBase = (int)(strrchr(zDir, '/') - zDir);
  sqlite3_snprintf((int)sizeof(zSql), zSql, "SELECT ts_batch_load(json_object("
      "'TargetTableName','t','DataSource','file://%.*q/tmpl_batch/in.csv','ReportLocation','file://%q/rep',"
      "'BatchRows',8,'DataModel',json_object('TimeColumn','time',"
      "'DimensionMappings',json_array(json_object('SourceColumn','host'),json_object('SourceColumn','region')),"
      "'MultiMeasureMappings',json_object('TargetMultiMeasureName','metrics',"
      "'MultiMeasureAttributeMappings',json_array(json_object('SourceColumn','v','MeasureValueType','DOUBLE'),"
      "json_object('SourceColumn','note','MeasureValueType','VARCHAR'))))))", nBase, zDir, zDir);
  stepAll(db, zSql);
}

static const Phase aPhase[] = {
  { "write",  tmplEmpty,  0, runWrite,  0, 24, 0, 1, 0, 0 },
  { "flush",  tmplFilled, 0, runFlush,  72, 108, 0, 1, 0, 0 },
  { "scan",   tmplFilled, 0, runScan,   72, 72, 0, 1, 0, 0 },
  { "check",  tmplFilled, 0, runCheck,  72, 72, 0, 1, 0, 0 },
  { "unload", tmplFilled, 0, runUnload, 72, 72, 0, 1, 0, 0 },
  { "maintain", tmplTier, setupLater, runMaintain, 72, 72, 0, 1, 0, 0 },
  { "aggcold", tmplAggCold, setupLater, runAggCold, 79, 79, 0, 1, 0,
    "SELECT (SELECT count(*) FROM t_objects) > 0 AND (SELECT count(*) FROM t_chunks) > 0" },
  { "aggpar", tmplAggPar, 0, runAggPar, 80000, 80000, 0, 1, 0,
    "SELECT (SELECT count(*) FROM t) = 80000 AND (SELECT count(*) FROM t_chunks) >= 8" },
  { "coldread", tmplColdStore, setupLater, runColdRead, 72, 72, 0, 1, 0, 0 },
  { "coldfilter", tmplColdStore, setupLater, runColdFilter, 72, 72, 0, 1, 0, 0 },
  { "migrate", tmplColdOld, setupLater, runMigrate, 72, 72, 0, 1, 0, 0 },
  /* batches commit one by one, each with its progress row */
  { "batch",  tmplBatch,  0, runBatch,  0, 29, 0, 1, 1, 0 },
  /* CREATE is mostly SQLite parsing the shadow tables' DDL: a stride */
  { "ddl",    tmplNone,   0, runDdl,    -1, -1, 1, 13, 0, 0 },
};
#define NPHASE ((int)(sizeof(aPhase)/sizeof(aPhase[0])))

/* ------------------------------------------------------------ checking */

/* Returns 0 when the database is sound, else writes why into zWhy. */
static int verify(const Phase *pP, const char *zDir, char *zWhy, size_t nWhy){
  sqlite3 *db = openDb(zDir);
  sqlite3_stmt *p = 0;
  int rc = 0;
  zWhy[0] = 0;
  if( db==0 ){ snprintf(zWhy, nWhy, "reopen failed"); return 1; }
  if( sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &p, 0)==SQLITE_OK
   && sqlite3_step(p)==SQLITE_ROW ){
    const char *z = (const char*)sqlite3_column_text(p, 0);
    if( z==0 || strcmp(z, "ok") ){ snprintf(zWhy, nWhy, "integrity_check: %.300s", z ? z : "NULL"); rc = 1; }
  }else{
    snprintf(zWhy, nWhy, "integrity_check failed: %s", sqlite3_errmsg(db)); rc = 1;
  }
  sqlite3_finalize(p); p = 0;
  if( rc==0 && queryInt(db, "SELECT count(*) FROM sqlite_schema WHERE name='t'")==1 ){
    if( sqlite3_prepare_v2(db, "SELECT ts_check('t')", -1, &p, 0)==SQLITE_OK
     && sqlite3_step(p)==SQLITE_ROW ){
      const char *z = (const char*)sqlite3_column_text(p, 0);
      if( z==0 || strcmp(z, "ok") ){ snprintf(zWhy, nWhy, "ts_check: %.300s", z ? z : "NULL"); rc = 1; }
    }else{
      snprintf(zWhy, nWhy, "ts_check failed: %s", sqlite3_errmsg(db)); rc = 1;
    }
    sqlite3_finalize(p); p = 0;
    if( rc==0 && !pP->bDdl ){
      sqlite3_int64 n = queryInt(db, "SELECT count(*) FROM t");
      if( pP->bBatches ){
        sqlite3_int64 nIn = queryInt(db, "SELECT coalesce(sum(RecordsIngested), 0) FROM ts_batch_load_tasks");
        if( nIn<0 ) nIn = 0;   /* no task table: nothing may be in */
        if( n<0 || n>pP->nAll || n!=nIn ){
          snprintf(zWhy, nWhy, "%lld rows, the task table says %lld ingested", (long long)n, (long long)nIn);
          rc = 1;
        }
      }else if( n!=pP->nBase && n!=pP->nAll ){
        snprintf(zWhy, nWhy, "%lld rows, expected %d or %d", (long long)n, pP->nBase, pP->nAll);
        rc = 1;
      }
    }
  }else if( rc==0 && !pP->bDdl ){
    snprintf(zWhy, nWhy, "table t is gone");
    rc = 1;
  }
  if( rc==0 && pP->bDdl ){
    /* Nothing half-done: no shadow table without its virtual table. */
    sqlite3_int64 nT = queryInt(db, "SELECT count(*) FROM sqlite_schema WHERE name IN ('t','t2')");
    sqlite3_int64 nS = queryInt(db, "SELECT count(*) FROM sqlite_schema WHERE name GLOB 't*_*'");
    if( nS!=4*nT ){
      snprintf(zWhy, nWhy, "%lld virtual tables but %lld shadow tables", (long long)nT, (long long)nS);
      rc = 1;
    }
  }
  sqlite3_close(db);
  return rc;
}

static void rmTree(const char *zPath){
  struct stat st;
  if( lstat(zPath, &st) ) return;
  if( S_ISDIR(st.st_mode) ){
    DIR *d = opendir(zPath);
    struct dirent *e;
    if( d ){
      while( (e = readdir(d))!=0 ){
        char z[1024];
        if( strcmp(e->d_name, ".")==0 || strcmp(e->d_name, "..")==0 ) continue;
        snprintf(z, sizeof(z), "%s/%s", zPath, e->d_name);
        rmTree(z);
      }
      closedir(d);
    }
    rmdir(zPath);
  }else{
    unlink(zPath);
  }
}

static int copyFile(const char *zFrom, const char *zTo){
  char a[65536];
  ssize_t n;
  int rc = 0;
  int fi = open(zFrom, O_RDONLY), fo;
  if( fi<0 ) return 1;
  fo = open(zTo, O_WRONLY|O_CREAT|O_TRUNC, 0600);
  if( fo<0 ){ close(fi); return 1; }
  while( (n = read(fi, a, sizeof(a)))>0 ){
    if( write(fo, a, (size_t)n)!=n ){ rc = 1; break; }
  }
  close(fi);
  close(fo);
  return rc;
}

/* Run the phase in zDir (a copy of the template): setup, then the armed run.
** Returns the number of allocations counted while armed. */
static int64_t runPhase(const Phase *pP, const char *zDir, int64_t n, int bPersistent){
  sqlite3 *db = openDb(zDir);
  int64_t nAlloc;
  if( db==0 ) return 0;
  if( pP->xSetup ) pP->xSetup(db);
  arm(n, bPersistent);
  pP->xRun(db, zDir);
  disarm();
  nAlloc = gCount;
  sqlite3_close(db);
  return nAlloc;
}

/* Run one case in a child: 0 ok, 1 verification failed (zWhy), 2 crash or
** sanitizer report. */
static int runCase(const Phase *pP, const char *zTmpl, const char *zBase, int64_t n,
                   int bPersistent, char *zWhy, size_t nWhy){
  char zDir[700], zFrom[800], zTo[800];
  int fd[2], st = 0;
  pid_t pid;
  snprintf(zDir, sizeof(zDir), "%s/c%lld%s", zBase, (long long)n, bPersistent ? "p" : "");
  mkdir(zDir, 0700);
  snprintf(zFrom, sizeof(zFrom), "%s/w.db", zTmpl);
  snprintf(zTo, sizeof(zTo), "%s/w.db", zDir);
  if( copyFile(zFrom, zTo) ){ snprintf(zWhy, nWhy, "copying the template failed"); return 1; }
  if( pipe(fd) ){ snprintf(zWhy, nWhy, "pipe: %s", strerror(errno)); return 1; }
  fflush(stdout);
  pid = fork();
  if( pid==0 ){
    char zMsg[512];
    int rc;
    close(fd[0]);
    runPhase(pP, zDir, n, bPersistent);
    rc = verify(pP, zDir, zMsg, sizeof(zMsg));
    if( rc && write(fd[1], zMsg, strlen(zMsg))<0 ){}
    close(fd[1]);
    exit(rc ? 1 : 0);      /* exit(), not _exit(): LeakSanitizer runs at exit */
  }
  close(fd[1]);
  {
    ssize_t k = read(fd[0], zWhy, nWhy-1);
    zWhy[k>0 ? k : 0] = 0;
  }
  close(fd[0]);
  waitpid(pid, &st, 0);
  rmTree(zDir);
  if( WIFEXITED(st) && WEXITSTATUS(st)==0 ) return 0;
  if( WIFEXITED(st) && WEXITSTATUS(st)==1 ) return 1;
  if( WIFSIGNALED(st) ) snprintf(zWhy, nWhy, "killed by signal %d", WTERMSIG(st));
  else snprintf(zWhy, nWhy, "exit status %d (sanitizer report above?)", WEXITSTATUS(st));
  return 2;
}

/* The case running in this process, for the crash handler. */
static const char *gzCasePhase = 0;
static int64_t gCaseN = 0;
static int gCasePersistent = 0;

static void onCrash(int sig){
  char z[256];
  int n = snprintf(z, sizeof(z), "\nFAIL oom %s %s: N=%lld: crashed (signal %d; replay: "
                   "TS_OOM_PHASE=%s TS_OOM_N=%lld%s)\n", gzCasePhase ? gzCasePhase : "?",
                   gCasePersistent ? "persistent" : "single", (long long)gCaseN, sig,
                   gzCasePhase ? gzCasePhase : "?", (long long)gCaseN,
                   gCasePersistent ? " TS_OOM_PERSISTENT=1" : "");
  if( write(1, z, (size_t)n)<0 ){}
  signal(sig, SIG_DFL);
  raise(sig);
}

/* Run one case in this process: 0 ok, 1 verification failed (zWhy). */
static int runCaseHere(const Phase *pP, const char *zTmpl, const char *zBase, int64_t n,
                       int bPersistent, char *zWhy, size_t nWhy){
  char zDir[700], zFrom[800], zTo[800];
  int rc;
  snprintf(zDir, sizeof(zDir), "%s/c%lld%s", zBase, (long long)n, bPersistent ? "p" : "");
  mkdir(zDir, 0700);
  snprintf(zFrom, sizeof(zFrom), "%s/w.db", zTmpl);
  snprintf(zTo, sizeof(zTo), "%s/w.db", zDir);
  if( copyFile(zFrom, zTo) ){ snprintf(zWhy, nWhy, "copying the template failed"); return 1; }
  gzCasePhase = pP->zName; gCaseN = n; gCasePersistent = bPersistent;
  runPhase(pP, zDir, n, bPersistent);
  rc = verify(pP, zDir, zWhy, nWhy);
  gzCasePhase = 0;
  rmTree(zDir);
  return rc;
}

static int gFork = 0;           /* TS_OOM_FORK=1: each case in a child */

static double elapsed(const struct timespec *t0){
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec)/1e9;
}

/* Every N (stride 1) in single mode, a stride in persistent mode, within
** the time budget. */
static void runMode(const Phase *pP, const char *zTmpl, const char *zBase, int64_t nAlloc,
                    int bPersistent, int64_t stride, double tLimit){
  int64_t n, nLast = 0, nCases = (nAlloc + stride - 1)/stride;
  int nRun = 0, nBad = 0, bOut = 0;
  struct timespec t0;
  const char *zMode = bPersistent ? "persistent" : "single";
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if( getenv("TS_OOM_TO") && atoll(getenv("TS_OOM_TO"))<nAlloc ) nAlloc = atoll(getenv("TS_OOM_TO"));
  for(n=getenv("TS_OOM_FROM") ? atoll(getenv("TS_OOM_FROM")) : 1; n<=nAlloc; n+=stride){
    char zWhy[512];
    int rc = gFork ? runCase(pP, zTmpl, zBase, n, bPersistent, zWhy, sizeof(zWhy))
                   : runCaseHere(pP, zTmpl, zBase, n, bPersistent, zWhy, sizeof(zWhy));
    nRun++;
    nLast = n;
    if( rc ){
      if( nBad<5 ){
        printf("FAIL oom %s %s: N=%lld: %s (replay: TS_OOM_PHASE=%s TS_OOM_N=%lld%s)\n",
               pP->zName, zMode, (long long)n, zWhy, pP->zName, (long long)n,
               bPersistent ? " TS_OOM_PERSISTENT=1" : "");
      }
      nBad++;
    }
    if( elapsed(&t0)>tLimit && n+stride<=nAlloc ){ bOut = 1; break; }
  }
#ifdef TS_HAVE_LSAN
  if( !gFork && __lsan_do_recoverable_leak_check() ){
    printf("FAIL oom %s %s: LeakSanitizer found leaks (report above; replay single cases "
           "with TS_OOM_PHASE/TS_OOM_N, or TS_OOM_FORK=1 to find the N)\n", pP->zName, zMode);
    nBad++;
  }
#endif
  if( nBad ){
    tt_nFail++;
    printf("FAIL oom %s %s: %d of %d cases failed\n", pP->zName, zMode, nBad, nRun);
  }else if( bOut ){
    printf("SKIP oom %s %s: time budget %.0fs spent after %d of %lld cases (N up to %lld of "
           "%lld; all of them passed)\n", pP->zName, zMode, tLimit, nRun, (long long)nCases,
           (long long)nLast, (long long)nAlloc);
  }else{
    tt_nPass++;
    printf("PASS oom %s %s: every N = 1..%lld%s (%d cases, %.1fs)\n", pP->zName, zMode,
           (long long)nAlloc, stride>1 ? " by stride" : "", nRun, elapsed(&t0));
  }
}

int main(void){
  char zBase[] = "/tmp/tslite-oom-XXXXXX";
  const char *zSan = getenv("TS_SANITIZE");
  const char *zSec = getenv("TS_OOM_SECONDS");
  const char *zOnly = getenv("TS_OOM_PHASE");
  const char *zN = getenv("TS_OOM_N");
  int bSan = zSan && strcmp(zSan, "1")==0;
  double tLimit = zSec ? atof(zSec) : 60.0;
  int i;
  if( bSan && !zSec ) tLimit = 40.0;   /* ASan: ~10x slower; bounded, rest reported as SKIP */
  setvbuf(stdout, 0, _IOLBF, 0);   /* lines survive a crash */
  gVerbose = getenv("TS_OOM_VERBOSE")!=0;
  gFork = getenv("TS_OOM_FORK")!=0;
  signal(SIGSEGV, onCrash);
  signal(SIGBUS, onCrash);
  signal(SIGABRT, onCrash);
  installWrapper();
  sqlite3_auto_extension((void(*)(void))sqlite3_tslite_init);
  if( mkdtemp(zBase)==0 ){ printf("FAIL oom: mkdtemp: %s\n", strerror(errno)); return 1; }
  for(i=0; i<NPHASE; i++){
    const Phase *pP = &aPhase[i];
    char zTmpl[700], zDry[700], zWhy[512], zName[200];
    int64_t nAlloc;
    if( zOnly && strcmp(zOnly, pP->zName) ) continue;
    snprintf(zTmpl, sizeof(zTmpl), "%s/tmpl_%s", zBase, pP->zName);
    snprintf(zDry, sizeof(zDry), "%s/dry_%s", zBase, pP->zName);
    mkdir(zTmpl, 0700);
    mkdir(zDry, 0700);
    pP->xTemplate(zTmpl);
    {
      char zFrom[800], zTo[800];
      snprintf(zFrom, sizeof(zFrom), "%s/w.db", zTmpl);
      snprintf(zTo, sizeof(zTo), "%s/w.db", zDry);
      copyFile(zFrom, zTo);
    }
    if( zN ){   /* replay one case in this process */
      runPhase(pP, zDry, atoll(zN), getenv("TS_OOM_PERSISTENT")!=0);
      snprintf(zName, sizeof(zName), "oom %s replay N=%s: database sound", pP->zName, zN);
      TT_CHECK(zName, verify(pP, zDry, zWhy, sizeof(zWhy))==0);
      if( zWhy[0] ) printf("    %s\n", zWhy);
      continue;
    }
    /* Dry run: count the phase's allocations; without injection it must
    ** leave every row of it. */
    nAlloc = runPhase(pP, zDry, 0, 0);
    {
      sqlite3 *db = openDb(zDry);
      int bFull = 1;
      if( !pP->bDdl ) bFull = queryInt(db, "SELECT count(*) FROM t")==pP->nAll;
      if( pP->zTmplOk && queryInt(db, pP->zTmplOk)!=1 ) bFull = 0;
      sqlite3_close(db);
      snprintf(zName, sizeof(zName), "oom %s: the phase without injection succeeds (%lld allocations)",
               pP->zName, (long long)nAlloc);
      TT_CHECK(zName, bFull && verify(pP, zDry, zWhy, sizeof(zWhy))==0 && nAlloc>50);
      if( zWhy[0] ) printf("    %s\n", zWhy);
    }
    runMode(pP, zTmpl, zBase, nAlloc, 0, pP->nStride, tLimit);
    runMode(pP, zTmpl, zBase, nAlloc, 1, nAlloc/100 + 1, tLimit/4);
  }
  rmTree(zBase);
  return tt_done();
}
