/*
** sched_run.c: scheduled queries (Timestream's CreateScheduledQuery family,
** reference section 5) and the pass that runs them.
**
**   ts_scheduled_query_create(name, schedule_expression, query_sql, target_json)
**   ts_scheduled_query_create(create_scheduled_query_request_json)
**   ts_scheduled_query_execute(name [, invocation_time])     manual run
**   ts_scheduled_query_update(name, 'ENABLED' | 'DISABLED')
**   ts_scheduled_query_delete(name)
**   ts_scheduler_run_due([options_json])                      one pass
**
** State lives in ordinary tables of the main schema, created on first use:
**
**   ts_scheduled_query_defs           one row per query (internal: lease,
**                                     version counter, window, anchors)
**   ts_scheduled_queries              VIEW over it: the Timestream fields
**                                     plus PendingInvalidations (JSON)
**   ts_scheduled_query_runs           one row per run (ScheduledQueryRunSummary
**                                     fields, ExecutionStats flattened)
**   ts_scheduled_query_invalidations  instance ranges to re-run (late data)
**   ts_scheduled_query_sources        per query and source table: the
**                                     highest <t>_chunks id already seen
**
** How a run works (tsSq run = one instance at invocation time R):
**  1. The query is prepared with @scheduled_runtime bound to R (a bound
**     parameter, never pasted) and read to the end outside any write
**     transaction (it may read cold objects over the network); the rows are
**     buffered (at most SQ_MAX_ROWS rows / SQ_MAX_BYTES bytes).
**  2. BEGIN IMMEDIATE; for a scheduled instance the query's
**     NextInvocationTime must still be R (compare-and-set: two daemons, or
**     two connections, never both commit one instance); the rows are written
**     as records with version LastVersion+1 (so a re-run replaces what an
**     earlier run wrote for the same keys); the run row and the new
**     Previous/NextInvocationTime are written; COMMIT.
**  3. After the commit, an error report (if any and if configured) is put to
**     the object store (no network I/O inside the write transaction).
**  Recoverable errors (rows or records the target rejects) fail the run
**  (*_FAILURE), write the report and keep the query enabled.
**  Non-recoverable errors (the query fails to prepare or run, the mapping
**  does not fit the result or the target table) record the run with its
**  FailureReason, write no report, and disable the query.
**
** Late data ("Window" in the target): an instance at R covers source times
** [R - Window, R).  Each pass first looks at the chunks that appeared in
** each source table since the last pass (ids above the stored mark) and at
** the newest SQ_SNAPSHOT chunks remembered last time (the vtab rewrites a
** chunk by DELETE + INSERT, which reuses the top ids): a chunk with rows in
** [tmin, tmax] makes the already-run instances R in (tmin, tmax + Window]
** pending (ts_scheduled_query_invalidations; ranges merged when they overlap
** or lie within one Window).  Each run stores a fingerprint of its window
** (rows, version sum, time sum; ts_scheduled_query_windows) taken in the
** same read snapshot as its result.  A pass checks at most max_check pending
** instances with one scan per source, drops the unchanged ones and re-runs
** at most max_refresh changed ones, oldest first; the rest stay pending.
**
** Leases: a pass claims a query (LeaseOwner/LeaseExpiry, wall clock) before
** working on it, so two daemons do not compute the same instance twice; the
** compare-and-set of step 2 is what makes a double commit impossible even
** when a lease expires mid-run.
*/
#include "sched_int.h"
#include "schedexpr.h"
#include "table.h"
#include "op.h"
#include "objstore.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SQ_MAX_ROWS        1000000
#define SQ_MAX_BYTES       (256LL*1024*1024)
#define SQ_LEASE_NS        (60LL*TS_NS_PER_SEC)
#define SQ_DEFAULT_MAX_RUNS     100
#define SQ_DEFAULT_MAX_REFRESH  10
#define SQ_DEFAULT_MAX_CHECK    1000
#define SQ_DEFAULT_CATCHUP      TS_NS_PER_DAY
#define SQ_MAX_CHUNK_SCAN  100000   /* new chunks examined per source per pass */

#define SQ_AUTO    0    /* a scheduled instance */
#define SQ_MANUAL  1    /* ts_scheduled_query_execute */
#define SQ_REFRESH 2    /* a late-data re-run of an instance */

/* The schema, one statement per exec (no multi-statement exec). */
static const char *const azSchema[] = {
  "CREATE TABLE IF NOT EXISTS main.ts_scheduled_query_defs("
  " Name TEXT PRIMARY KEY,"
  " Arn TEXT NOT NULL,"
  " QueryString TEXT NOT NULL,"
  " ScheduleExpression TEXT NOT NULL,"
  " TargetConfiguration TEXT NOT NULL,"       /* TimestreamConfiguration JSON as given */
  " ErrorReportConfiguration TEXT,"           /* JSON or NULL */
  " State TEXT NOT NULL,"                     /* ENABLED | DISABLED */
  " CreationTime INTEGER NOT NULL,"           /* ns; also the rate() anchor */
  " FirstInvocationTime INTEGER,"             /* first scheduled instance */
  " PreviousInvocationTime INTEGER,"
  " NextInvocationTime INTEGER,"
  " LastRunStatus TEXT,"
  " FailureReason TEXT,"                      /* why it was disabled automatically */
  " WindowNs INTEGER,"                        /* late-data window, NULL = none */
  " LastVersion INTEGER NOT NULL DEFAULT 0,"  /* record version of the latest run */
  " LeaseOwner TEXT, LeaseExpiry INTEGER)",   /* wall-clock ns */
  "CREATE TABLE IF NOT EXISTS main.ts_scheduled_query_runs("
  " RunId INTEGER PRIMARY KEY,"
  " Name TEXT NOT NULL,"
  " InvocationTime INTEGER NOT NULL,"
  " TriggerTime INTEGER NOT NULL,"
  " RunStatus TEXT NOT NULL,"
  " IsRefresh INTEGER NOT NULL DEFAULT 0,"
  " ExecutionTimeInMillis INTEGER, DataWrites INTEGER, BytesMetered INTEGER,"
  " CumulativeBytesScanned INTEGER, RecordsIngested INTEGER, QueryResultRows INTEGER,"
  " RecordVersion INTEGER,"
  " FailureReason TEXT, ErrorReportLocation TEXT, ErrorReport TEXT)",
  "CREATE INDEX IF NOT EXISTS main.ts_scheduled_query_runs_name"
  " ON ts_scheduled_query_runs(Name, InvocationTime)",
  "CREATE TABLE IF NOT EXISTS main.ts_scheduled_query_invalidations("
  " Name TEXT NOT NULL, FromTime INTEGER NOT NULL, ToTime INTEGER NOT NULL,"
  " PRIMARY KEY(Name, FromTime)) WITHOUT ROWID",
  "CREATE TABLE IF NOT EXISTS main.ts_scheduled_query_sources("
  " Name TEXT NOT NULL, SchemaName TEXT NOT NULL, TableName TEXT NOT NULL,"
  " ChunkMark INTEGER NOT NULL, Snapshot TEXT,"
  " PRIMARY KEY(Name, SchemaName, TableName)) WITHOUT ROWID",
  "CREATE TABLE IF NOT EXISTS main.ts_scheduled_query_windows("
  " Name TEXT NOT NULL, InvocationTime INTEGER NOT NULL,"
  " RowCount INTEGER NOT NULL, VersionSum INTEGER NOT NULL, TimeSum INTEGER NOT NULL,"
  " PRIMARY KEY(Name, InvocationTime)) WITHOUT ROWID",
  "CREATE VIEW IF NOT EXISTS main.ts_scheduled_queries AS SELECT"
  " Name, Arn, State, ScheduleExpression, QueryString, CreationTime,"
  " PreviousInvocationTime, NextInvocationTime, LastRunStatus, FailureReason,"
  " TargetConfiguration, ErrorReportConfiguration,"
  " (SELECT json_group_array(json_object('from', FromTime, 'to', ToTime)) FROM"
  "   (SELECT FromTime, ToTime FROM ts_scheduled_query_invalidations i"
  "    WHERE i.Name=d.Name ORDER BY FromTime)) AS PendingInvalidations"
  " FROM ts_scheduled_query_defs d",
};

static int sqEnsureSchema(sqlite3 *db, char **pzErr){
  size_t i;
  int rc = SQLITE_OK;
  sqlite3_stmt *pS = 0;
  /* Fast path: already there. */
  if( sqlite3_prepare_v2(db, "SELECT 1 FROM main.sqlite_master WHERE name='ts_scheduled_queries'",
                         -1, &pS, 0)==SQLITE_OK && sqlite3_step(pS)==SQLITE_ROW ){
    sqlite3_finalize(pS);
    return SQLITE_OK;
  }
  sqlite3_finalize(pS);
  for(i=0; rc==SQLITE_OK && i<sizeof(azSchema)/sizeof(azSchema[0]); i++){
    rc = sqlite3_exec(db, azSchema[i], 0, 0, 0);
    if( rc!=SQLITE_OK ) tsErrSet(pzErr, "creating the scheduled-query tables: %s", sqlite3_errmsg(db));
  }
  return rc;
}

static int64_t sqWallNs(void){
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec*TS_NS_PER_SEC + ts.tv_nsec;
}
static int64_t sqMonoMs(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec*1000 + ts.tv_nsec/1000000;
}

/* Prepare zSql, bind the arguments described by zFmt ('i' int64, 't' text,
** 'n' NULL) and step once.  Returns the step's result (SQLITE_ROW/DONE) or an
** error code; *ppStmt (if not NULL) keeps the statement for reading a row. */
int tsSqStep(sqlite3 *db, sqlite3_stmt **ppStmt, const char *zSql, const char *zFmt, ...){
  sqlite3_stmt *pS = 0;
  va_list ap;
  int rc, i;
  if( ppStmt ) *ppStmt = 0;
  rc = sqlite3_prepare_v2(db, zSql, -1, &pS, 0);
  if( rc!=SQLITE_OK ) return rc;
  va_start(ap, zFmt);
  for(i=0; zFmt[i]; i++){
    switch( zFmt[i] ){
      case 'i': sqlite3_bind_int64(pS, i+1, va_arg(ap, sqlite3_int64)); break;
      default:  sqlite3_bind_text(pS, i+1, va_arg(ap, const char*), -1, SQLITE_TRANSIENT); break;
    }
  }
  va_end(ap);
  rc = sqlite3_step(pS);
  if( ppStmt && rc==SQLITE_ROW ){ *ppStmt = pS; return rc; }
  if( rc==SQLITE_DONE || rc==SQLITE_ROW ) sqlite3_finalize(pS);
  else { sqlite3_reset(pS); rc = sqlite3_extended_errcode(db); sqlite3_finalize(pS); }
  return rc;
}
#define SQ_OK(rc) ((rc)==SQLITE_DONE || (rc)==SQLITE_ROW || (rc)==SQLITE_OK)

/* A query definition as loaded from ts_scheduled_query_defs. */
typedef struct SqDef SqDef;
struct SqDef {
  char *zName, *zQuery, *zSched, *zTarget, *zErrCfg, *zState;
  int64_t iCreation;
  int bNext; int64_t iNext;       /* NextInvocationTime (bNext: not NULL) */
  int bPrev; int64_t iPrev;
  int bFirst; int64_t iFirst;
  int64_t iWindow;                /* 0 = none */
  int64_t iLastVersion;
  TsSched sched;
};

static void sqDefFree(SqDef *p){
  if( p==0 ) return;
  sqlite3_free(p->zName); sqlite3_free(p->zQuery); sqlite3_free(p->zSched);
  sqlite3_free(p->zTarget); sqlite3_free(p->zErrCfg); sqlite3_free(p->zState);
  sqlite3_free(p);
}

static char *sqColDup(sqlite3_stmt *pS, int i){
  const char *z = (const char*)sqlite3_column_text(pS, i);
  return z ? sqlite3_mprintf("%s", z) : 0;
}

/* Load query zName.  SQLITE_NOTFOUND (with a message) if there is none. */
static int sqDefLoad(sqlite3 *db, const char *zName, SqDef **pp, char **pzErr){
  sqlite3_stmt *pS = 0;
  SqDef *p;
  char zErr[256];
  int rc;
  *pp = 0;
  rc = tsSqStep(db, &pS, "SELECT Name, QueryString, ScheduleExpression, TargetConfiguration,"
              " ErrorReportConfiguration, State, CreationTime, NextInvocationTime,"
              " PreviousInvocationTime, FirstInvocationTime, WindowNs, LastVersion"
              " FROM main.ts_scheduled_query_defs WHERE Name=?1", "t", zName);
  if( rc==SQLITE_DONE ){
    tsErrSet(pzErr, "no scheduled query named '%s'", zName);
    return SQLITE_NOTFOUND;
  }
  if( rc!=SQLITE_ROW ){
    tsErrSet(pzErr, "reading scheduled query '%s': %s", zName, sqlite3_errmsg(db));
    return rc;
  }
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ){ sqlite3_finalize(pS); return SQLITE_NOMEM; }
  memset(p, 0, sizeof(*p));
  p->zName = sqColDup(pS, 0); p->zQuery = sqColDup(pS, 1); p->zSched = sqColDup(pS, 2);
  p->zTarget = sqColDup(pS, 3); p->zErrCfg = sqColDup(pS, 4); p->zState = sqColDup(pS, 5);
  p->iCreation = sqlite3_column_int64(pS, 6);
  p->bNext = sqlite3_column_type(pS, 7)!=SQLITE_NULL; p->iNext = sqlite3_column_int64(pS, 7);
  p->bPrev = sqlite3_column_type(pS, 8)!=SQLITE_NULL; p->iPrev = sqlite3_column_int64(pS, 8);
  p->bFirst = sqlite3_column_type(pS, 9)!=SQLITE_NULL; p->iFirst = sqlite3_column_int64(pS, 9);
  p->iWindow = sqlite3_column_int64(pS, 10);
  p->iLastVersion = sqlite3_column_int64(pS, 11);
  sqlite3_finalize(pS);
  if( p->zName==0 || p->zQuery==0 || p->zSched==0 || p->zTarget==0 || p->zState==0 ){
    sqDefFree(p);
    return SQLITE_NOMEM;
  }
  if( tsSchedParse(p->zSched, &p->sched, zErr, sizeof(zErr)) ){
    tsErrSet(pzErr, "scheduled query '%s': ScheduleExpression: %s", zName, zErr);
    sqDefFree(p);
    return SQLITE_CORRUPT;
  }
  *pp = p;
  return SQLITE_OK;
}

/* The first instance strictly after iAfter.  rate() schedules are anchored at
** the creation time: instances are CreationTime + k*period, k >= 1. */
static int sqNextFire(const TsSched *s, int64_t iAnchor, int64_t iAfter, int64_t *piNext){
  if( s->eKind==TS_SCHED_RATE ){
    int64_t p = s->iRateNs, k;
    if( iAfter < iAnchor ) iAfter = iAnchor;
    k = tsFloorDiv(iAfter - iAnchor, p) + 1;
    if( k > (INT64_MAX - iAnchor)/p ) return 1;
    *piNext = iAnchor + k*p;
    return 0;
  }
  return tsSchedNext(s, iAfter, piNext);
}

/* Scheduled query names: Timestream's pattern
** [a-zA-Z0-9|!\-_*'()]([a-zA-Z0-9]|[!\-_*'()/.])+ and 1..64 characters. */
static int sqNameValid(const char *z){
  size_t n, i;
  if( z==0 ) return 0;
  n = strlen(z);
  if( n<2 || n>64 ) return 0;
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    int bAlnum = (c>='a' && c<='z') || (c>='A' && c<='Z') || (c>='0' && c<='9');
    if( bAlnum || strchr("!-_*'()", c) ) continue;
    if( i==0 && c=='|' ) continue;
    if( i>0 && (c=='/' || c=='.') ) continue;
    return 0;
  }
  return 1;
}

/* ---------------------------------------------------------------------- */
/* One run. */

/* What a run did (the ScheduledQueryRunSummary). */
typedef struct SqRun SqRun;
struct SqRun {
  int64_t iInvocation, iTrigger;
  int eMode;                    /* SQ_AUTO, SQ_MANUAL, SQ_REFRESH */
  int bFailed;
  int bDisabled;                /* the run disabled the query */
  int64_t nExecMs, nDataWrites, nBytesMetered, nRecords, nResultRows, iVersion;
  char *zFailure;               /* FailureReason or NULL */
  char *zReportLoc;             /* ErrorReportLocation or NULL */
};

static void sqRunClear(SqRun *r){
  sqlite3_free(r->zFailure); sqlite3_free(r->zReportLoc);
  memset(r, 0, sizeof(*r));
}

static const char *sqRunStatus(const SqRun *r){
  if( r->eMode==SQ_MANUAL ) return r->bFailed ? "MANUAL_TRIGGER_FAILURE" : "MANUAL_TRIGGER_SUCCESS";
  return r->bFailed ? "AUTO_TRIGGER_FAILURE" : "AUTO_TRIGGER_SUCCESS";
}

/* The run summary as JSON (Timestream's field names). */
static void sqRunJson(TsJsonW *jw, const char *zName, const SqRun *r){
  tsJwObjBegin(jw);
  if( zName ) tsJwKeyStr(jw, "Name", zName);
  tsJwKeyInt(jw, "InvocationTime", r->iInvocation);
  tsJwKeyInt(jw, "TriggerTime", r->iTrigger);
  tsJwKeyStr(jw, "RunStatus", sqRunStatus(r));
  if( r->eMode==SQ_REFRESH ) tsJwKeyBool(jw, "Refresh", 1);
  tsJwKey(jw, "ExecutionStats"); tsJwObjBegin(jw);
  tsJwKeyInt(jw, "ExecutionTimeInMillis", r->nExecMs);
  tsJwKeyInt(jw, "DataWrites", r->nDataWrites);
  tsJwKeyInt(jw, "BytesMetered", r->nBytesMetered);
  tsJwKeyInt(jw, "CumulativeBytesScanned", r->nBytesMetered);
  tsJwKeyInt(jw, "RecordsIngested", r->nRecords);
  tsJwKeyInt(jw, "QueryResultRows", r->nResultRows);
  tsJwObjEnd(jw);
  if( r->zFailure ) tsJwKeyStr(jw, "FailureReason", r->zFailure);
  if( r->zReportLoc ) tsJwKeyStr(jw, "ErrorReportLocation", r->zReportLoc);
  if( r->bDisabled ) tsJwKeyStr(jw, "State", "DISABLED");
  tsJwObjEnd(jw);
}

/* Buffered result rows. */
typedef struct SqRows SqRows;
struct SqRows {
  int nCol;
  int64_t nRow, nAlloc, nByte;
  sqlite3_value **a;          /* nRow*nCol values, sqlite3_value_dup'd */
};

static void sqRowsFree(SqRows *r){
  int64_t i;
  for(i=0; i<r->nRow*r->nCol; i++) sqlite3_value_free(r->a[i]);
  sqlite3_free(r->a);
  memset(r, 0, sizeof(*r));
}

static int64_t sqPagesRead(sqlite3 *db){
  int cur = 0, hi = 0; int64_t n = 0;
  sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_HIT, &cur, &hi, 0);  n += cur;
  sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_MISS, &cur, &hi, 0); n += cur;
  return n;
}

static int64_t sqPageSize(sqlite3 *db){
  sqlite3_stmt *pS = 0;
  int64_t n = 4096;
  if( tsSqStep(db, &pS, "PRAGMA main.page_size", "")==SQLITE_ROW ){
    n = sqlite3_column_int64(pS, 0);
    sqlite3_finalize(pS);
  }
  return n;
}

/* Read the query's result for runtime R into *pRows.  Returns SQLITE_OK,
** SQLITE_BUSY/LOCKED (retry later), or SQLITE_ERROR with *pzErr for a
** non-recoverable failure. */
static int sqReadResult(sqlite3 *db, sqlite3_stmt *pQ, int64_t R, SqRows *pRows,
                        int64_t *pnBytesRead, char **pzErr){
  int idx = sqlite3_bind_parameter_index(pQ, "@scheduled_runtime");
  int64_t nPage0 = sqPagesRead(db);
  int rc, i;
  memset(pRows, 0, sizeof(*pRows));
  pRows->nCol = sqlite3_column_count(pQ);
  if( idx>0 ) sqlite3_bind_int64(pQ, idx, R);
  while( (rc = sqlite3_step(pQ))==SQLITE_ROW ){
    if( pRows->nRow>=SQ_MAX_ROWS || pRows->nByte>SQ_MAX_BYTES ){
      tsErrSet(pzErr, "the query returned more than %d rows or %lld bytes", SQ_MAX_ROWS,
               (long long)SQ_MAX_BYTES);
      return SQLITE_ERROR;
    }
    if( pRows->nRow==pRows->nAlloc ){
      int64_t nNew = pRows->nAlloc ? 2*pRows->nAlloc : 64;
      sqlite3_value **aNew = sqlite3_realloc64(pRows->a, sizeof(sqlite3_value*)*nNew*pRows->nCol);
      if( aNew==0 ) return SQLITE_NOMEM;
      pRows->a = aNew; pRows->nAlloc = nNew;
    }
    for(i=0; i<pRows->nCol; i++){
      sqlite3_value *v = sqlite3_value_dup(sqlite3_column_value(pQ, i));
      if( v==0 ){
        int j;
        for(j=0; j<i; j++) sqlite3_value_free(pRows->a[pRows->nRow*pRows->nCol + j]);
        return SQLITE_NOMEM;
      }
      pRows->a[pRows->nRow*pRows->nCol + i] = v;
      pRows->nByte += 16 + sqlite3_value_bytes(v);
    }
    pRows->nRow++;
  }
  if( rc!=SQLITE_DONE ){
    int ec = sqlite3_errcode(db);
    sqlite3_reset(pQ);
    if( ec==SQLITE_BUSY || ec==SQLITE_LOCKED ) return ec;
    if( ec==SQLITE_NOMEM ) return ec;
    tsErrSet(pzErr, "the query failed: %s", sqlite3_errmsg(db));
    return SQLITE_ERROR;
  }
  *pnBytesRead = (sqPagesRead(db) - nPage0) * sqPageSize(db);
  return SQLITE_OK;
}

/* Remove the instances in [a, b] from the query's pending invalidations
** (ranges overlapping it are cut back to what lies outside it). */
static int sqInvRemove(sqlite3 *db, const char *zName, int64_t a, int64_t b){
  sqlite3_stmt *pS = 0;
  int64_t aLo[64], aHi[64];
  int n = 0, i, rc;
  rc = sqlite3_prepare_v2(db, "SELECT FromTime, ToTime FROM main.ts_scheduled_query_invalidations"
                          " WHERE Name=?1 AND FromTime<=?3 AND ToTime>=?2 ORDER BY FromTime", -1, &pS, 0);
  if( rc!=SQLITE_OK ) return rc;
  sqlite3_bind_text(pS, 1, zName, -1, SQLITE_STATIC);
  sqlite3_bind_int64(pS, 2, a);
  sqlite3_bind_int64(pS, 3, b);
  /* At most one range can stick out on each side; remember those two. */
  while( sqlite3_step(pS)==SQLITE_ROW ){
    int64_t x = sqlite3_column_int64(pS, 0), y = sqlite3_column_int64(pS, 1);
    if( x<a && n<64 ){ aLo[n] = x; aHi[n] = a-1; n++; }
    if( y>b && n<64 ){ aLo[n] = b+1; aHi[n] = y; n++; }
  }
  rc = sqlite3_finalize(pS);
  if( rc==SQLITE_OK ){
    rc = tsSqStep(db, 0, "DELETE FROM main.ts_scheduled_query_invalidations WHERE Name=?1"
                " AND FromTime<=?3 AND ToTime>=?2", "tii", zName, (sqlite3_int64)a, (sqlite3_int64)b);
    rc = SQ_OK(rc) ? SQLITE_OK : rc;
  }
  for(i=0; rc==SQLITE_OK && i<n; i++){
    rc = tsSqStep(db, 0, "INSERT INTO main.ts_scheduled_query_invalidations VALUES(?1,?2,?3)",
                "tii", zName, (sqlite3_int64)aLo[i], (sqlite3_int64)aHi[i]);
    rc = SQ_OK(rc) ? SQLITE_OK : rc;
  }
  return rc;
}

/* Fingerprint of the source rows an instance covers: rows, sum of their
** versions, sum of their times (wrapping).  A late row changes the count,
** an upsert the version sum. */
typedef struct SqFp SqFp;
struct SqFp { int64_t n, v, t; };

/*
** Fingerprints of the windows [aR[i] - iW, aR[i]) (aR ascending, nR >= 1)
** over every source table of query zName, with one scan per source of the
** times they span (only the time and version columns are decoded).
*/
static int sqFingerprint(sqlite3 *db, const char *zName, int64_t iW, const int64_t *aR, int nR,
                         SqFp *aFp){
  sqlite3_stmt *pSrc = 0;
  int rc;
  memset(aFp, 0, sizeof(SqFp)*nR);
  rc = sqlite3_prepare_v2(db, "SELECT SchemaName, TableName FROM main.ts_scheduled_query_sources"
                          " WHERE Name=?1", -1, &pSrc, 0);
  if( rc!=SQLITE_OK ) return rc;
  sqlite3_bind_text(pSrc, 1, zName, -1, SQLITE_STATIC);
  while( rc==SQLITE_OK && sqlite3_step(pSrc)==SQLITE_ROW ){
    char *zSql = sqlite3_mprintf("SELECT time, version FROM \"%w\".\"%w\" WHERE time>=?1 AND time<?2",
                                 sqlite3_column_text(pSrc, 0), sqlite3_column_text(pSrc, 1));
    sqlite3_stmt *pS = 0;
    if( zSql==0 ){ rc = SQLITE_NOMEM; break; }
    if( sqlite3_prepare_v2(db, zSql, -1, &pS, 0)!=SQLITE_OK ){
      sqlite3_free(zSql);
      continue;                        /* the source is gone */
    }
    sqlite3_free(zSql);
    sqlite3_bind_int64(pS, 1, aR[0] - iW);
    sqlite3_bind_int64(pS, 2, aR[nR-1]);
    while( sqlite3_step(pS)==SQLITE_ROW ){
      int64_t t = sqlite3_column_int64(pS, 0), v = sqlite3_column_int64(pS, 1);
      int lo = 0, hi = nR, i;
      /* the instances covering t: t < R <= t + W */
      while( lo<hi ){ int mid = (lo+hi)/2; if( aR[mid] > t ) hi = mid; else lo = mid+1; }
      for(i=lo; i<nR && aR[i] - iW <= t; i++){
        aFp[i].n++;
        aFp[i].v = (int64_t)((uint64_t)aFp[i].v + (uint64_t)v);
        aFp[i].t = (int64_t)((uint64_t)aFp[i].t + (uint64_t)t);
      }
    }
    rc = sqlite3_finalize(pS);
  }
  sqlite3_finalize(pSrc);
  return rc;
}

static int sqRandomId(char *zOut /* 33 bytes */){
  unsigned char a[16];
  int i;
  sqlite3_randomness(sizeof(a), a);
  for(i=0; i<16; i++) snprintf(zOut+2*i, 3, "%02X", a[i]);
  return 0;
}

/* Record a non-recoverable failure: the run row, the query disabled with the
** reason.  For a scheduled instance the instance counts as run (the CAS on
** NextInvocationTime applies).  Returns SQLITE_OK, SQLITE_DONE (someone else
** ran the instance), or an error. */
static int sqRecordFatal(TsEnv *pEnv, sqlite3 *db, SqDef *d, SqRun *r, const char *zWhy){
  int rc;
  int64_t iNext = 0;
  int bNext;
  r->bFailed = 1;
  r->bDisabled = 1;
  sqlite3_free(r->zFailure);
  r->zFailure = sqlite3_mprintf("%s", zWhy);
  if( r->zFailure==0 ) return SQLITE_NOMEM;
  rc = sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0);
  if( rc!=SQLITE_OK ) return rc;
  if( r->eMode==SQ_AUTO ){
    sqlite3_stmt *pS = 0;
    rc = tsSqStep(db, &pS, "SELECT 1 FROM main.ts_scheduled_query_defs WHERE Name=?1"
                " AND NextInvocationTime=?2 AND State='ENABLED'", "ti", d->zName,
                (sqlite3_int64)r->iInvocation);
    sqlite3_finalize(pS);
    if( rc!=SQLITE_ROW ){
      sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
      return SQ_OK(rc) ? SQLITE_DONE : rc;
    }
  }
  bNext = r->eMode==SQ_AUTO && sqNextFire(&d->sched, d->iCreation, r->iInvocation, &iNext)==0;
  rc = tsSqStep(db, 0, "INSERT INTO main.ts_scheduled_query_runs(Name, InvocationTime, TriggerTime,"
              " RunStatus, IsRefresh, ExecutionTimeInMillis, DataWrites, BytesMetered,"
              " CumulativeBytesScanned, RecordsIngested, QueryResultRows, FailureReason)"
              " VALUES(?1,?2,?3,?4,?5,?6,0,?7,?7,0,?8,?9)", "tiitiiiit",
              d->zName, (sqlite3_int64)r->iInvocation, (sqlite3_int64)r->iTrigger, sqRunStatus(r),
              (sqlite3_int64)(r->eMode==SQ_REFRESH), (sqlite3_int64)r->nExecMs,
              (sqlite3_int64)r->nBytesMetered, (sqlite3_int64)r->nResultRows, r->zFailure);
  if( SQ_OK(rc) ){
    rc = tsSqStep(db, 0, "UPDATE main.ts_scheduled_query_defs SET State='DISABLED', FailureReason=?2,"
                " LastRunStatus=?3 WHERE Name=?1", "ttt", d->zName, r->zFailure, sqRunStatus(r));
  }
  if( SQ_OK(rc) && r->eMode==SQ_AUTO ){
    rc = bNext
      ? tsSqStep(db, 0, "UPDATE main.ts_scheduled_query_defs SET PreviousInvocationTime=?2,"
               " NextInvocationTime=?3 WHERE Name=?1", "tii", d->zName,
               (sqlite3_int64)r->iInvocation, (sqlite3_int64)iNext)
      : tsSqStep(db, 0, "UPDATE main.ts_scheduled_query_defs SET PreviousInvocationTime=?2,"
               " NextInvocationTime=NULL WHERE Name=?1", "ti", d->zName, (sqlite3_int64)r->iInvocation);
  }
  if( SQ_OK(rc) ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
  if( !SQ_OK(rc) ){ sqlite3_exec(db, "ROLLBACK", 0, 0, 0); return rc; }
  (void)pEnv;
  return SQLITE_OK;
}

/*
** Run instance R of query d (mode eMode).  Returns SQLITE_OK when the run
** happened (r says how it went, failed or not), SQLITE_DONE when there was
** nothing to do (another connection ran the instance, the invalidation is
** gone), SQLITE_BUSY/LOCKED to retry later, or another error with *pzErr.
*/
static int sqRunInstance(TsEnv *pEnv, sqlite3 *db, SqDef *d, int64_t R, int eMode,
                         const char *zOwner, SqRun *r, char **pzErr){
  SqTarget *pT = 0;
  sqlite3_stmt *pQ = 0;
  SqWriter *w = 0;
  SqRows rows;
  char *zWhy = 0, *zReport = 0, *zBase = 0, *zKey = 0;
  int64_t t0 = sqMonoMs();
  int rc, bTxn = 0, bFp = 0;
  SqFp fp;
  int64_t i;
  memset(&rows, 0, sizeof(rows));
  memset(&fp, 0, sizeof(fp));
  memset(r, 0, sizeof(*r));
  r->iInvocation = R;
  r->eMode = eMode;
  r->iTrigger = tsEnvNow(pEnv);

  rc = tsSqTargetParse(db, d->zTarget, &pT, &zWhy);
  if( rc==SQLITE_OK ) rc = tsSqPrepareQuery(db, d->zQuery, 0, &pQ, &zWhy);
  if( rc==SQLITE_OK ) rc = tsSqTargetBind(pT, pQ, &zWhy);
  /* With a Window, the fingerprint of the window and the result come from
  ** one read transaction (one snapshot), so a later check sees exactly the
  ** rows this run did not. */
  bFp = rc==SQLITE_OK && d->iWindow>0 && eMode!=SQ_MANUAL;
  if( bFp ){
    rc = sqlite3_exec(db, "BEGIN", 0, 0, 0);
    if( rc==SQLITE_OK ){
      bTxn = 1;
      rc = sqFingerprint(db, d->zName, d->iWindow, &R, 1, &fp);
    }
  }
  if( rc==SQLITE_OK ) rc = sqReadResult(db, pQ, R, &rows, &r->nBytesMetered, &zWhy);
  sqlite3_finalize(pQ); pQ = 0;
  if( bTxn ){
    if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
    if( rc!=SQLITE_OK ) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
    bTxn = 0;
  }
  r->nResultRows = rows.nRow;
  if( rc==SQLITE_BUSY || rc==SQLITE_LOCKED || rc==SQLITE_NOMEM ) goto done;
  if( rc!=SQLITE_OK ) goto fatal;

  rc = sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0);
  if( rc!=SQLITE_OK ) goto done;
  bTxn = 1;
  {
    sqlite3_stmt *pS = 0;
    int rc2 = tsSqStep(db, &pS, "SELECT NextInvocationTime, State, LastVersion"
                     " FROM main.ts_scheduled_query_defs WHERE Name=?1", "t", d->zName);
    if( rc2!=SQLITE_ROW ){ rc = SQ_OK(rc2) ? SQLITE_DONE : rc2; goto done; }
    if( eMode==SQ_AUTO && (sqlite3_column_type(pS, 0)==SQLITE_NULL
        || sqlite3_column_int64(pS, 0)!=R
        || strcmp((const char*)sqlite3_column_text(pS, 1), "ENABLED")!=0) ){
      sqlite3_finalize(pS);
      rc = SQLITE_DONE;
      goto done;
    }
    r->iVersion = sqlite3_column_int64(pS, 2) + 1;
    sqlite3_finalize(pS);
  }
  rc = tsSqTargetEnsure(pEnv, db, pT, &zWhy);
  if( rc==SQLITE_OK ) rc = tsSqWriterOpen(db, pT, r->iVersion, &w, &zWhy);
  if( rc!=SQLITE_OK ){
    if( rc==SQLITE_BUSY || rc==SQLITE_LOCKED || rc==SQLITE_NOMEM ) goto done;
    goto fatal;
  }
  for(i=0; rc==SQLITE_OK && i<rows.nRow; i++){
    rc = tsSqWriterRow(w, &rows.a[i*rows.nCol], rows.nCol, pzErr);
  }
  if( rc!=SQLITE_OK ) goto done;
  {
    int64_t nErr = 0;
    tsSqWriterStats(w, &r->nRecords, &r->nDataWrites, &nErr);
    if( nErr ){
      char zId[40];
      sqRandomId(zId);
      r->bFailed = 1;
      r->zFailure = sqlite3_mprintf("%lld of %lld result rows or records were not written; first: %s",
                                    (long long)nErr, (long long)rows.nRow, tsSqWriterFirstError(w));
      zReport = tsSqWriterReport(w, zId);
      if( r->zFailure==0 || zReport==0 ){ rc = SQLITE_NOMEM; goto done; }
      rc = tsSqReportBase(db, d->zErrCfg, &zBase, pzErr);
      if( rc!=SQLITE_OK ) goto done;
      if( zBase ){
        zKey = sqlite3_mprintf("%s/%lld/%s/%lld", d->zName, (long long)tsFloorDiv(R, TS_NS_PER_SEC),
                               eMode==SQ_MANUAL ? "Manual" : "Auto",
                               (long long)tsFloorDiv(r->iTrigger, TS_NS_PER_MS));
        r->zReportLoc = sqlite3_mprintf("%s/%s", zBase, zKey ? zKey : "");
        if( zKey==0 || r->zReportLoc==0 ){ rc = SQLITE_NOMEM; goto done; }
      }
    }
  }
  r->nExecMs = sqMonoMs() - t0;
  rc = tsSqStep(db, 0, "INSERT INTO main.ts_scheduled_query_runs(Name, InvocationTime, TriggerTime,"
              " RunStatus, IsRefresh, ExecutionTimeInMillis, DataWrites, BytesMetered,"
              " CumulativeBytesScanned, RecordsIngested, QueryResultRows, RecordVersion,"
              " FailureReason, ErrorReportLocation, ErrorReport)"
              " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?8,?9,?10,?11,?12,?13,?14)", "tiitiiiiiiittt",
              d->zName, (sqlite3_int64)R, (sqlite3_int64)r->iTrigger, sqRunStatus(r),
              (sqlite3_int64)(eMode==SQ_REFRESH), (sqlite3_int64)r->nExecMs,
              (sqlite3_int64)r->nDataWrites, (sqlite3_int64)r->nBytesMetered,
              (sqlite3_int64)r->nRecords, (sqlite3_int64)r->nResultRows, (sqlite3_int64)r->iVersion,
              r->zFailure, r->zReportLoc, zReport);
  if( SQ_OK(rc) ){
    rc = tsSqStep(db, 0, "UPDATE main.ts_scheduled_query_defs SET LastVersion=?2, LastRunStatus=?3"
                " WHERE Name=?1", "tit", d->zName, (sqlite3_int64)r->iVersion, sqRunStatus(r));
  }
  if( SQ_OK(rc) && bFp ){
    rc = tsSqStep(db, 0, "INSERT OR REPLACE INTO main.ts_scheduled_query_windows VALUES(?1,?2,?3,?4,?5)",
                "tiiii", d->zName, (sqlite3_int64)R, (sqlite3_int64)fp.n, (sqlite3_int64)fp.v,
                (sqlite3_int64)fp.t);
  }
  if( SQ_OK(rc) && eMode==SQ_AUTO ){
    int64_t iNext = 0;
    int bNext = sqNextFire(&d->sched, d->iCreation, R, &iNext)==0;
    rc = tsSqStep(db, 0, "UPDATE main.ts_scheduled_query_defs SET PreviousInvocationTime=?2,"
                " NextInvocationTime=CASE WHEN ?4 THEN ?3 END, LeaseExpiry=CASE WHEN LeaseOwner=?5"
                " THEN ?6 ELSE LeaseExpiry END WHERE Name=?1", "tiiiti", d->zName, (sqlite3_int64)R,
                (sqlite3_int64)iNext, (sqlite3_int64)bNext, zOwner ? zOwner : "",
                (sqlite3_int64)(sqWallNs() + SQ_LEASE_NS));
  }
  if( !SQ_OK(rc) ){ rc = sqlite3_errcode(db); tsErrSet(pzErr, "%s", sqlite3_errmsg(db)); goto done; }
  tsSqWriterClose(w); w = 0;
  rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
  if( rc!=SQLITE_OK ){
    tsErrSet(pzErr, "committing the run: %s", sqlite3_errmsg(db));
    goto done;
  }
  bTxn = 0;
  /* Outside the transaction: the report object. */
  if( zBase && zKey && zReport ){
    char *zPutErr = 0;
    if( tsSqReportPut(zBase, zKey, zReport, &zPutErr)!=SQLITE_OK ){
      char *zF = sqlite3_mprintf("%s; the error report could not be written: %s", r->zFailure, zPutErr);
      sqlite3_free(r->zReportLoc); r->zReportLoc = 0;
      if( zF ){ sqlite3_free(r->zFailure); r->zFailure = zF; }
      tsSqStep(db, 0, "UPDATE main.ts_scheduled_query_runs SET ErrorReportLocation=NULL, FailureReason=?3"
             " WHERE Name=?1 AND InvocationTime=?2 AND RecordVersion=?4", "titi", d->zName,
             (sqlite3_int64)R, r->zFailure, (sqlite3_int64)r->iVersion);
    }
    sqlite3_free(zPutErr);
  }
  rc = SQLITE_OK;
  goto done;

fatal:
  if( bTxn ){ sqlite3_exec(db, "ROLLBACK", 0, 0, 0); bTxn = 0; }
  tsSqWriterClose(w); w = 0;
  r->nExecMs = sqMonoMs() - t0;
  rc = sqRecordFatal(pEnv, db, d, r, zWhy ? zWhy : "unknown error");

done:
  if( bTxn ) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  if( rc!=SQLITE_OK && rc!=SQLITE_DONE && *pzErr==0 ){
    tsErrSet(pzErr, "%s", zWhy ? zWhy : sqlite3_errstr(rc));
  }
  tsSqWriterClose(w);
  sqRowsFree(&rows);
  tsSqTargetFree(pT);
  sqlite3_free(zWhy); sqlite3_free(zReport); sqlite3_free(zBase); sqlite3_free(zKey);
  return rc;
}

static int sqSnapshot(sqlite3 *db, const char *zSDb, const char *zSTab, char **pzSnap, int64_t *piMax);

/* ---------------------------------------------------------------------- */
/* SQL functions. */

static void sqError(sqlite3_context *ctx, const char *zFunc, int rc, const char *zMsg){
  char *z = sqlite3_mprintf("%s: %s", zFunc, zMsg ? zMsg : sqlite3_errstr(rc));
  if( z ){ sqlite3_result_error(ctx, z, -1); sqlite3_free(z); }
  else sqlite3_result_error_nomem(ctx);
  if( rc!=SQLITE_ERROR && rc!=SQLITE_OK && rc!=SQLITE_NOTFOUND ) sqlite3_result_error_code(ctx, rc);
}

/*
** ts_scheduled_query_create(name, schedule_expression, query_sql, target_json)
** ts_scheduled_query_create(request_json)
*/
static void createFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  TsEnv *pEnv = (TsEnv*)sqlite3_user_data(ctx);
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *zF = "ts_scheduled_query_create";
  char *zName = 0, *zSched = 0, *zQuery = 0, *zTarget = 0, *zErrCfg = 0, *zErr = 0, *zArn = 0;
  SqTarget *pT = 0;
  sqlite3_stmt *pQ = 0;
  SqReads reads;
  TsSched sched;
  char zSErr[256];
  int rc = SQLITE_OK, bSp = 0, i;
  int64_t iNow = tsEnvNow(pEnv), iFirst = 0;
  int bFirst;
  memset(&reads, 0, sizeof(reads));
  if( argc==1 ){
    static const char *const azKey[] = { "Name", "QueryString", "ScheduleConfiguration",
      "TargetConfiguration", "ErrorReportConfiguration", "NotificationConfiguration",
      "ScheduledQueryExecutionRoleArn", "KmsKeyId", "Tags", "ClientToken", 0 };
    sqlite3_stmt *pS = 0;
    const char *zReq = (const char*)sqlite3_value_text(argv[0]);
    rc = tsSqStep(db, &pS, "SELECT CASE WHEN json_valid(?1) AND json_type(?1)='object' THEN 1 ELSE 0 END,"
                " json_extract(?1,'$.Name'), json_extract(?1,'$.QueryString'),"
                " json_extract(?1,'$.ScheduleConfiguration.ScheduleExpression'),"
                " json(json_extract(?1,'$.TargetConfiguration.TimestreamConfiguration')),"
                " json(json_extract(?1,'$.ErrorReportConfiguration')),"
                " json_type(?1,'$.TargetConfiguration.TimestreamConfiguration')",
                "t", zReq ? zReq : "");
    if( rc==SQLITE_ROW && !sqlite3_column_int(pS, 0) ){
      zErr = sqlite3_mprintf("the request must be a JSON object (CreateScheduledQuery)");
      rc = SQLITE_ERROR;
    }else if( rc==SQLITE_ROW ){
      zName = sqColDup(pS, 1); zQuery = sqColDup(pS, 2); zSched = sqColDup(pS, 3);
      zTarget = sqColDup(pS, 4); zErrCfg = sqColDup(pS, 5);
      rc = SQLITE_OK;
      if( zName==0 ) zErr = sqlite3_mprintf("request: missing Name");
      else if( zQuery==0 ) zErr = sqlite3_mprintf("request: missing QueryString");
      else if( zSched==0 ) zErr = sqlite3_mprintf("request: missing ScheduleConfiguration.ScheduleExpression");
      else if( zTarget==0 ) zErr = sqlite3_mprintf("request: missing TargetConfiguration.TimestreamConfiguration");
      if( zErr ) rc = SQLITE_ERROR;
    }else{
      zErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(pS); pS = 0;
    if( rc==SQLITE_OK ){
      /* unknown top-level fields */
      rc = tsSqStep(db, &pS, "SELECT key FROM json_each(?1)", "t", zReq);
      while( rc==SQLITE_ROW ){
        const char *zK = (const char*)sqlite3_column_text(pS, 0);
        int j, bOk = 0;
        for(j=0; azKey[j]; j++) if( zK && strcmp(zK, azKey[j])==0 ) bOk = 1;
        if( !bOk ){
          zErr = sqlite3_mprintf("request: unknown field '%s'", zK ? zK : "");
          rc = SQLITE_ERROR;
          break;
        }
        rc = sqlite3_step(pS);
      }
      sqlite3_finalize(pS);
      if( rc==SQLITE_DONE ) rc = SQLITE_OK;
    }
  }else{
    zName = sqlite3_value_text(argv[0]) ? sqlite3_mprintf("%s", sqlite3_value_text(argv[0])) : 0;
    zSched = sqlite3_value_text(argv[1]) ? sqlite3_mprintf("%s", sqlite3_value_text(argv[1])) : 0;
    zQuery = sqlite3_value_text(argv[2]) ? sqlite3_mprintf("%s", sqlite3_value_text(argv[2])) : 0;
    zTarget = sqlite3_value_text(argv[3]) ? sqlite3_mprintf("%s", sqlite3_value_text(argv[3])) : 0;
    if( zName==0 || zSched==0 || zQuery==0 || zTarget==0 ){
      zErr = sqlite3_mprintf("name, schedule_expression, query_sql and target_json must not be NULL");
      rc = SQLITE_ERROR;
    }
  }
  if( rc==SQLITE_OK && !sqNameValid(zName) ){
    zErr = sqlite3_mprintf("invalid name '%s': 2..64 characters of letters, digits and !-_*'() "
                           "(also / and . after the first)", zName);
    rc = SQLITE_ERROR;
  }
  if( rc==SQLITE_OK && tsSchedParse(zSched, &sched, zSErr, sizeof(zSErr)) ){
    zErr = sqlite3_mprintf("ScheduleExpression: %s", zSErr);
    rc = SQLITE_ERROR;
  }
  if( rc==SQLITE_OK ) rc = tsSqTargetParse(db, zTarget, &pT, &zErr);
  if( rc==SQLITE_OK ){
    char *zBase = 0;
    rc = tsSqReportBase(db, zErrCfg, &zBase, &zErr);
    sqlite3_free(zBase);
  }
  /* The tables the query reads are only needed to watch for late data, and
  ** learning them means an authorizer during the prepare (which replaces
  ** any authorizer of the connection; SourceTables avoids that). */
  if( rc==SQLITE_OK ){
    rc = tsSqPrepareQuery(db, zQuery, pT->iWindow && pT->nSource==0 ? &reads : 0, &pQ, &zErr);
  }
  if( rc==SQLITE_OK ) rc = tsSqTargetBind(pT, pQ, &zErr);
  sqlite3_finalize(pQ); pQ = 0;
  bFirst = rc==SQLITE_OK && sqNextFire(&sched, iNow, iNow, &iFirst)==0;
  if( rc==SQLITE_OK ){
    rc = sqlite3_exec(db, "SAVEPOINT ts_scheduled_query_create", 0, 0, 0);
    if( rc==SQLITE_OK ) bSp = 1; else zErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
  }
  if( rc==SQLITE_OK ) rc = sqEnsureSchema(db, &zErr);
  if( rc==SQLITE_OK ){
    sqlite3_stmt *pS = 0;
    int rc2 = tsSqStep(db, &pS, "SELECT 1 FROM main.ts_scheduled_query_defs WHERE Name=?1", "t", zName);
    sqlite3_finalize(pS);
    if( rc2==SQLITE_ROW ){
      zErr = sqlite3_mprintf("a scheduled query named '%s' already exists", zName);
      rc = SQLITE_ERROR;
    }else if( !SQ_OK(rc2) ) rc = rc2;
  }
  if( rc==SQLITE_OK ) rc = tsSqTargetEnsure(pEnv, db, pT, &zErr);
  if( rc==SQLITE_OK ){
    zArn = sqlite3_mprintf("arn:tslite:timestream:local:000000000000:scheduled-query/%s", zName);
    if( zArn==0 ) rc = SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ){
    rc = tsSqStep(db, 0, "INSERT INTO main.ts_scheduled_query_defs(Name, Arn, QueryString,"
                " ScheduleExpression, TargetConfiguration, ErrorReportConfiguration, State,"
                " CreationTime, FirstInvocationTime, NextInvocationTime, WindowNs)"
                " VALUES(?1,?2,?3,?4,?5,?6,'ENABLED',?7,?8,?8,?9)",
                "ttttttiii",
                zName, zArn, zQuery, zSched, zTarget, zErrCfg, (sqlite3_int64)iNow,
                (sqlite3_int64)(bFirst ? iFirst : 0), (sqlite3_int64)pT->iWindow);
    if( SQ_OK(rc) ){
      rc = SQLITE_OK;
      if( !bFirst ) tsSqStep(db, 0, "UPDATE main.ts_scheduled_query_defs SET FirstInvocationTime=NULL,"
                           " NextInvocationTime=NULL WHERE Name=?1", "t", zName);
      if( pT->iWindow==0 ) tsSqStep(db, 0, "UPDATE main.ts_scheduled_query_defs SET WindowNs=NULL"
                                  " WHERE Name=?1", "t", zName);
    }else{
      zErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
    }
  }
  /* Source tables: given, else the timeseries tables the query reads. */
  if( rc==SQLITE_OK && pT->iWindow ){
    int nSrc = 0;
    for(i=0; rc==SQLITE_OK && i<(pT->nSource ? pT->nSource : reads.n); i++){
      char *zSDb = 0, *zSTab = 0;
      TsTable *pTab = 0;
      char *zOErr = 0;
      if( pT->nSource ){
        if( tsTableSplitName(pT->azSource[i], &zSDb, &zSTab) ){ rc = SQLITE_NOMEM; break; }
      }else{
        zSDb = sqlite3_mprintf("%s", reads.az[i]);
        zSTab = sqlite3_mprintf("%s", reads.az[i] + strlen(reads.az[i]) + 1);
        if( zSDb==0 || zSTab==0 ){ sqlite3_free(zSDb); sqlite3_free(zSTab); rc = SQLITE_NOMEM; break; }
      }
      if( tsTableOpen(pEnv, db, zSDb, zSTab, &pTab, &zOErr)==SQLITE_OK ){
        char *zSnap = 0;
        int64_t iMark = 0;
        tsTableRelease(pTab);
        rc = sqSnapshot(db, zSDb, zSTab, &zSnap, &iMark);
        if( rc==SQLITE_OK ){
          rc = tsSqStep(db, 0, "INSERT OR REPLACE INTO main.ts_scheduled_query_sources"
                      " VALUES(?1,?2,?3,?4,?5)", "tttit", zName, zSDb, zSTab, (sqlite3_int64)iMark, zSnap);
          rc = SQ_OK(rc) ? SQLITE_OK : rc;
        }
        sqlite3_free(zSnap);
        nSrc++;
      }else if( pT->nSource ){
        zErr = sqlite3_mprintf("TimestreamConfiguration.SourceTables: %s", zOErr ? zOErr : "not found");
        rc = SQLITE_ERROR;
      }
      sqlite3_free(zOErr);
      sqlite3_free(zSDb); sqlite3_free(zSTab);
    }
    if( rc==SQLITE_OK && nSrc==0 ){
      zErr = sqlite3_mprintf("TimestreamConfiguration.Window: the query reads no timeseries table, "
                             "so there is no late data to watch (name them in SourceTables)");
      rc = SQLITE_ERROR;
    }
  }
  if( bSp ){
    if( rc==SQLITE_OK ){
      rc = sqlite3_exec(db, "RELEASE ts_scheduled_query_create", 0, 0, 0);
      if( rc!=SQLITE_OK ) zErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
    }else{
      sqlite3_exec(db, "ROLLBACK TO ts_scheduled_query_create", 0, 0, 0);
      sqlite3_exec(db, "RELEASE ts_scheduled_query_create", 0, 0, 0);
    }
  }
  if( rc==SQLITE_OK ){
    TsBuf b; TsJsonW jw;
    tsBufInit(&b); tsJwInit(&jw, &b);
    tsJwObjBegin(&jw); tsJwKeyStr(&jw, "Arn", zArn); tsJwObjEnd(&jw);
    tsOpResultJson(ctx, &b, &jw);
  }else{
    sqError(ctx, zF, rc, zErr);
  }
  tsSqReadsFree(&reads);
  tsSqTargetFree(pT);
  sqlite3_free(zName); sqlite3_free(zSched); sqlite3_free(zQuery); sqlite3_free(zTarget);
  sqlite3_free(zErrCfg); sqlite3_free(zErr); sqlite3_free(zArn);
}

/* Does the schema exist?  (Functions other than create do not create it.) */
static int sqHaveSchema(sqlite3 *db){
  sqlite3_stmt *pS = 0;
  int rc = tsSqStep(db, &pS, "SELECT 1 FROM main.sqlite_master WHERE name='ts_scheduled_query_defs'", "");
  sqlite3_finalize(pS);
  return rc==SQLITE_ROW;
}

/* ts_scheduled_query_update(name, 'ENABLED'|'DISABLED') */
static void updateFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  TsEnv *pEnv = (TsEnv*)sqlite3_user_data(ctx);
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *zName = (const char*)sqlite3_value_text(argv[0]);
  const char *zState = (const char*)sqlite3_value_text(argv[1]);
  SqDef *d = 0;
  char *zErr = 0;
  int rc;
  (void)argc;
  if( zName==0 ){ sqError(ctx, "ts_scheduled_query_update", SQLITE_ERROR, "name must not be NULL"); return; }
  if( zState==0 || (strcmp(zState, "ENABLED")!=0 && strcmp(zState, "DISABLED")!=0) ){
    zErr = sqlite3_mprintf("state must be 'ENABLED' or 'DISABLED', not %s%s%s", zState ? "'" : "",
                           zState ? zState : "NULL", zState ? "'" : "");
    sqError(ctx, "ts_scheduled_query_update", SQLITE_ERROR, zErr);
    sqlite3_free(zErr);
    return;
  }
  if( !sqHaveSchema(db) ){
    zErr = sqlite3_mprintf("no scheduled query named '%s'", zName);
    sqError(ctx, "ts_scheduled_query_update", SQLITE_ERROR, zErr);
    sqlite3_free(zErr);
    return;
  }
  rc = sqDefLoad(db, zName, &d, &zErr);
  if( rc==SQLITE_OK ){
    if( strcmp(zState, "ENABLED")==0 && strcmp(d->zState, "ENABLED")!=0 ){
      /* Re-enabled: the next instance is the first one after now. */
      int64_t iNext = 0;
      int bNext = sqNextFire(&d->sched, d->iCreation, tsEnvNow(pEnv), &iNext)==0;
      rc = tsSqStep(db, 0, "UPDATE main.ts_scheduled_query_defs SET State='ENABLED', FailureReason=NULL,"
                  " NextInvocationTime=CASE WHEN ?3 THEN ?2 END WHERE Name=?1", "tii", zName,
                  (sqlite3_int64)iNext, (sqlite3_int64)bNext);
    }else if( strcmp(zState, "DISABLED")==0 ){
      rc = tsSqStep(db, 0, "UPDATE main.ts_scheduled_query_defs SET State='DISABLED' WHERE Name=?1", "t", zName);
    }
    if( !SQ_OK(rc) ) zErr = sqlite3_mprintf("%s", sqlite3_errmsg(db)); else rc = SQLITE_OK;
  }
  if( rc==SQLITE_OK ){
    TsBuf b; TsJsonW jw;
    tsBufInit(&b); tsJwInit(&jw, &b);
    tsJwObjBegin(&jw); tsJwKeyStr(&jw, "Name", zName); tsJwKeyStr(&jw, "State", zState); tsJwObjEnd(&jw);
    tsOpResultJson(ctx, &b, &jw);
  }else{
    sqError(ctx, "ts_scheduled_query_update", rc, zErr);
  }
  sqDefFree(d);
  sqlite3_free(zErr);
}

/* ts_scheduled_query_delete(name): the query, its runs and invalidations;
** the target table and its rows stay. */
static void deleteFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *zName = (const char*)sqlite3_value_text(argv[0]);
  static const char *const azDel[] = {
    "DELETE FROM main.ts_scheduled_query_runs WHERE Name=?1",
    "DELETE FROM main.ts_scheduled_query_invalidations WHERE Name=?1",
    "DELETE FROM main.ts_scheduled_query_sources WHERE Name=?1",
    "DELETE FROM main.ts_scheduled_query_defs WHERE Name=?1",
  };
  char *zErr = 0;
  int rc = SQLITE_OK;
  size_t i;
  (void)argc;
  if( zName==0 || !sqHaveSchema(db) || tsSqStep(db, 0, "SELECT 1 FROM main.ts_scheduled_query_defs"
                                              " WHERE Name=?1", "t", zName)!=SQLITE_ROW ){
    zErr = sqlite3_mprintf("no scheduled query named '%s'", zName ? zName : "NULL");
    sqError(ctx, "ts_scheduled_query_delete", SQLITE_ERROR, zErr);
    sqlite3_free(zErr);
    return;
  }
  rc = sqlite3_exec(db, "SAVEPOINT ts_scheduled_query_delete", 0, 0, 0);
  for(i=0; rc==SQLITE_OK && i<sizeof(azDel)/sizeof(azDel[0]); i++){
    rc = tsSqStep(db, 0, azDel[i], "t", zName);
    rc = SQ_OK(rc) ? SQLITE_OK : rc;
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_exec(db, "RELEASE ts_scheduled_query_delete", 0, 0, 0);
  }else{
    zErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK TO ts_scheduled_query_delete", 0, 0, 0);
    sqlite3_exec(db, "RELEASE ts_scheduled_query_delete", 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    TsBuf b; TsJsonW jw;
    tsBufInit(&b); tsJwInit(&jw, &b);
    tsJwObjBegin(&jw); tsJwKeyStr(&jw, "Name", zName); tsJwKeyBool(&jw, "Deleted", 1); tsJwObjEnd(&jw);
    tsOpResultJson(ctx, &b, &jw);
  }else{
    sqError(ctx, "ts_scheduled_query_delete", rc, zErr);
  }
  sqlite3_free(zErr);
}

/* ts_scheduled_query_execute(name [, invocation_time]) */
static void executeFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  TsEnv *pEnv = (TsEnv*)sqlite3_user_data(ctx);
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *zF = "ts_scheduled_query_execute";
  const char *zName = (const char*)sqlite3_value_text(argv[0]);
  int64_t R;
  SqDef *d = 0;
  SqRun run;
  char *zErr = 0;
  int rc;
  memset(&run, 0, sizeof(run));
  if( !sqlite3_get_autocommit(db) ){
    sqError(ctx, zF, SQLITE_ERROR, "cannot run inside a transaction (it commits its own)");
    return;
  }
  if( zName==0 ){ sqError(ctx, zF, SQLITE_ERROR, "name must not be NULL"); return; }
  if( argc>1 && sqlite3_value_type(argv[1])!=SQLITE_NULL ){
    if( tsFuncArgTime(ctx, zF, argv[1], &R)!=TS_ARG_OK ) return;
  }else{
    R = tsEnvNow(pEnv);
  }
  if( !sqHaveSchema(db) ){
    zErr = sqlite3_mprintf("no scheduled query named '%s'", zName);
    sqError(ctx, zF, SQLITE_ERROR, zErr);
    sqlite3_free(zErr);
    return;
  }
  rc = sqDefLoad(db, zName, &d, &zErr);
  if( rc==SQLITE_OK ) rc = sqRunInstance(pEnv, db, d, R, SQ_MANUAL, 0, &run, &zErr);
  if( rc==SQLITE_OK ){
    TsBuf b; TsJsonW jw;
    tsBufInit(&b); tsJwInit(&jw, &b);
    sqRunJson(&jw, 0, &run);
    tsOpResultJson(ctx, &b, &jw);
  }else{
    sqError(ctx, zF, rc, zErr);
  }
  sqRunClear(&run);
  sqDefFree(d);
  sqlite3_free(zErr);
}

/* ---------------------------------------------------------------------- */
/* The pass. */

typedef struct SqPass SqPass;
struct SqPass {
  TsEnv *pEnv;
  sqlite3 *db;
  int64_t iNow;
  int nMaxRuns, nMaxRefresh, nMaxCheck;
  int nChecked;       /* pending instances found unchanged (not re-run) */
  int64_t iCatchup;
  char *zOwner;
  int nRuns;          /* runs done (scheduled + refresh) */
  int bBusy;          /* stopped by SQLITE_BUSY */
  TsJsonW jw;         /* the result; "runs" array open while running */
  TsBuf out;
  TsBuf skipped;      /* JSON objects of skipped ranges, comma-separated */
  TsJsonW jwSkip;
  TsBuf leased;       /* queries another owner holds */
  TsJsonW jwLeased;
};

/* Claim (or renew) the lease of query zName.  1 = ours. */
static int sqLeaseClaim(SqPass *p, const char *zName, int *pRc){
  int64_t iWall = sqWallNs();
  int rc = sqlite3_exec(p->db, "BEGIN IMMEDIATE", 0, 0, 0);
  int bOk = 0;
  if( rc==SQLITE_OK ){
    rc = tsSqStep(p->db, 0, "UPDATE main.ts_scheduled_query_defs SET LeaseOwner=?2, LeaseExpiry=?3"
                " WHERE Name=?1 AND (LeaseOwner IS NULL OR LeaseOwner=?2 OR LeaseExpiry<?4)",
                "ttii", zName, p->zOwner, (sqlite3_int64)(iWall + SQ_LEASE_NS), (sqlite3_int64)iWall);
    bOk = SQ_OK(rc) && sqlite3_changes(p->db)==1;
    if( SQ_OK(rc) ) rc = sqlite3_exec(p->db, "COMMIT", 0, 0, 0);
    if( rc!=SQLITE_OK && !SQ_OK(rc) ){ sqlite3_exec(p->db, "ROLLBACK", 0, 0, 0); bOk = 0; }
  }
  if( !SQ_OK(rc) ) *pRc = rc;
  return bOk;
}

static void sqLeaseRelease(SqPass *p, const char *zName){
  tsSqStep(p->db, 0, "UPDATE main.ts_scheduled_query_defs SET LeaseOwner=NULL, LeaseExpiry=NULL"
         " WHERE Name=?1 AND LeaseOwner=?2", "tt", zName, p->zOwner);
}

/* Add the instance range [a, b] to the query's invalidations, merged with
** ranges that overlap it or lie within iGap of it. */
static int sqInvAdd(sqlite3 *db, const char *zName, int64_t a, int64_t b, int64_t iGap){
  sqlite3_stmt *pS = 0;
  int rc = sqlite3_prepare_v2(db, "SELECT FromTime, ToTime FROM main.ts_scheduled_query_invalidations"
                              " WHERE Name=?1 AND FromTime<=?3 AND ToTime>=?2", -1, &pS, 0);
  if( rc!=SQLITE_OK ) return rc;
  sqlite3_bind_text(pS, 1, zName, -1, SQLITE_STATIC);
  sqlite3_bind_int64(pS, 2, a > INT64_MIN + iGap ? a - iGap : a);
  sqlite3_bind_int64(pS, 3, b < INT64_MAX - iGap ? b + iGap : b);
  while( sqlite3_step(pS)==SQLITE_ROW ){
    int64_t x = sqlite3_column_int64(pS, 0), y = sqlite3_column_int64(pS, 1);
    if( x<a ) a = x;
    if( y>b ) b = y;
  }
  rc = sqlite3_finalize(pS);
  if( rc!=SQLITE_OK ) return rc;
  rc = tsSqStep(db, 0, "DELETE FROM main.ts_scheduled_query_invalidations WHERE Name=?1"
              " AND FromTime<=?3 AND ToTime>=?2", "tii", zName, (sqlite3_int64)a, (sqlite3_int64)b);
  if( SQ_OK(rc) ){
    rc = tsSqStep(db, 0, "INSERT INTO main.ts_scheduled_query_invalidations VALUES(?1,?2,?3)",
                "tii", zName, (sqlite3_int64)a, (sqlite3_int64)b);
  }
  return SQ_OK(rc) ? SQLITE_OK : rc;
}

/* FNV-1a 64 of a blob (the snapshot's change detector for one chunk). */
static int64_t sqFnv(const unsigned char *a, int n){
  uint64_t h = 1469598103934665603ULL;
  int i;
  for(i=0; i<n; i++){ h ^= a[i]; h *= 1099511628211ULL; }
  return (int64_t)h;
}

/*
** The newest SQ_SNAPSHOT chunks of a source table as JSON
** [[id,tmin,tmax,nrow,hash],...] into *pzSnap (sqlite3_malloc'd), and the
** highest chunk id into *piMax.  Why a snapshot: the vtab rewrites a chunk
** by DELETE + INSERT, and SQLite gives the new row max(rowid)+1, so a
** rewrite of the newest chunks reuses their ids; only ids at the top of the
** id space can be reused, so remembering the top chunks' contents catches
** those rewrites, and any other rewrite shows up as an id above the mark.
*/
#define SQ_SNAPSHOT 32
static int sqSnapshot(sqlite3 *db, const char *zSDb, const char *zSTab, char **pzSnap, int64_t *piMax){
  char *zSql = sqlite3_mprintf("SELECT id, tmin, tmax, nrow, data FROM \"%w\".\"%w_chunks\""
                               " ORDER BY id DESC LIMIT %d", zSDb, zSTab, SQ_SNAPSHOT);
  sqlite3_stmt *pS = 0;
  TsBuf b; TsJsonW jw;
  int rc;
  *pzSnap = 0; *piMax = 0;
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, zSql, -1, &pS, 0);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ) return rc;
  tsBufInit(&b); tsJwInit(&jw, &b);
  tsJwArrBegin(&jw);
  while( sqlite3_step(pS)==SQLITE_ROW ){
    int64_t id = sqlite3_column_int64(pS, 0);
    if( id > *piMax ) *piMax = id;
    tsJwArrBegin(&jw);
    tsJwInt(&jw, id);
    tsJwInt(&jw, sqlite3_column_int64(pS, 1));
    tsJwInt(&jw, sqlite3_column_int64(pS, 2));
    tsJwInt(&jw, sqlite3_column_int64(pS, 3));
    tsJwInt(&jw, sqFnv((const unsigned char*)sqlite3_column_blob(pS, 4), sqlite3_column_bytes(pS, 4)));
    tsJwArrEnd(&jw);
  }
  rc = sqlite3_finalize(pS);
  tsJwArrEnd(&jw);
  if( rc==SQLITE_OK && (tsJwError(&jw) || b.bErr) ) rc = SQLITE_NOMEM;
  if( rc==SQLITE_OK ){
    *pzSnap = sqlite3_mprintf("%.*s", (int)b.n, (const char*)b.a);
    if( *pzSnap==0 ) rc = SQLITE_NOMEM;
  }
  tsBufFree(&b);
  return rc;
}

/* Record the instances that source rows in [tMin, tMax] invalidate. */
static int sqInvalidate(SqDef *d, sqlite3 *db, int64_t tMin, int64_t tMax){
  int64_t a = tMin + 1, b = tMax > INT64_MAX - d->iWindow ? INT64_MAX : tMax + d->iWindow;
  if( a < d->iFirst ) a = d->iFirst;
  if( b > d->iPrev ) b = d->iPrev;
  return a<=b ? sqInvAdd(db, d->zName, a, b, d->iWindow) : SQLITE_OK;
}

/*
** Look at the chunks that appeared or changed in d's source tables since the
** last pass and record the instances they invalidate.  One write
** transaction.
*/
static int sqScanSources(SqPass *p, SqDef *d){
  sqlite3 *db = p->db;
  sqlite3_stmt *pSrc = 0;
  int rc;
  if( d->iWindow<=0 || !d->bPrev || !d->bFirst ) return SQLITE_OK;
  rc = sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0);
  if( rc!=SQLITE_OK ) return rc;
  rc = sqlite3_prepare_v2(db, "SELECT SchemaName, TableName, ChunkMark, Snapshot"
                          " FROM main.ts_scheduled_query_sources WHERE Name=?1", -1, &pSrc, 0);
  if( rc==SQLITE_OK ) sqlite3_bind_text(pSrc, 1, d->zName, -1, SQLITE_STATIC);
  while( rc==SQLITE_OK && sqlite3_step(pSrc)==SQLITE_ROW ){
    const char *zSDb = (const char*)sqlite3_column_text(pSrc, 0);
    const char *zSTab = (const char*)sqlite3_column_text(pSrc, 1);
    const char *zOld = (const char*)sqlite3_column_text(pSrc, 3);
    int64_t iMark = sqlite3_column_int64(pSrc, 2), iMax = 0;
    char *zSql = sqlite3_mprintf("SELECT id, tmin, tmax FROM \"%w\".\"%w_chunks\" WHERE id>?1"
                                 " ORDER BY id LIMIT %d", zSDb, zSTab, SQ_MAX_CHUNK_SCAN);
    char *zSnap = 0;
    sqlite3_stmt *pC = 0;
    if( zSql==0 ){ rc = SQLITE_NOMEM; break; }
    if( sqlite3_prepare_v2(db, zSql, -1, &pC, 0)!=SQLITE_OK ){
      sqlite3_free(zSql);             /* the source table is gone: nothing to watch */
      continue;
    }
    sqlite3_free(zSql);
    /* 1. chunks above the mark are new */
    sqlite3_bind_int64(pC, 1, iMark);
    while( rc==SQLITE_OK && sqlite3_step(pC)==SQLITE_ROW ){
      rc = sqInvalidate(d, db, sqlite3_column_int64(pC, 1), sqlite3_column_int64(pC, 2));
    }
    sqlite3_finalize(pC); pC = 0;
    /* 2. remembered chunks that changed (same id, other content) */
    if( rc==SQLITE_OK && zOld ){
      zSql = sqlite3_mprintf("SELECT o.value->>0, o.value->>1, o.value->>2, c.tmin, c.tmax, c.nrow,"
                             " c.data, o.value->>3, o.value->>4 FROM json_each(?1) o"
                             " JOIN \"%w\".\"%w_chunks\" c ON c.id=o.value->>0", zSDb, zSTab);
      if( zSql==0 ) rc = SQLITE_NOMEM;
      if( rc==SQLITE_OK && sqlite3_prepare_v2(db, zSql, -1, &pC, 0)==SQLITE_OK ){
        sqlite3_bind_text(pC, 1, zOld, -1, SQLITE_STATIC);
        while( rc==SQLITE_OK && sqlite3_step(pC)==SQLITE_ROW ){
          int64_t oMin = sqlite3_column_int64(pC, 1), oMax = sqlite3_column_int64(pC, 2);
          int64_t cMin = sqlite3_column_int64(pC, 3), cMax = sqlite3_column_int64(pC, 4);
          int64_t h = sqFnv((const unsigned char*)sqlite3_column_blob(pC, 6), sqlite3_column_bytes(pC, 6));
          if( oMin!=cMin || oMax!=cMax || sqlite3_column_int64(pC, 5)!=sqlite3_column_int64(pC, 7)
           || h!=sqlite3_column_int64(pC, 8) ){
            rc = sqInvalidate(d, db, oMin<cMin ? oMin : cMin, oMax>cMax ? oMax : cMax);
          }
        }
      }
      sqlite3_finalize(pC); pC = 0;
      sqlite3_free(zSql);
    }
    /* 3. the new mark and snapshot */
    if( rc==SQLITE_OK ) rc = sqSnapshot(db, zSDb, zSTab, &zSnap, &iMax);
    if( rc==SQLITE_OK ){
      rc = tsSqStep(db, 0, "UPDATE main.ts_scheduled_query_sources SET ChunkMark=?4, Snapshot=?5"
                  " WHERE Name=?1 AND SchemaName=?2 AND TableName=?3", "tttit", d->zName, zSDb, zSTab,
                  (sqlite3_int64)(iMax > iMark ? iMax : iMark), zSnap);
      rc = SQ_OK(rc) ? SQLITE_OK : rc;
    }
    sqlite3_free(zSnap);
  }
  sqlite3_finalize(pSrc);
  if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
  if( rc!=SQLITE_OK ) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  return rc;
}

static int sqPassRunOne(SqPass *p, SqDef *d, int64_t R, int eMode){
  SqRun run;
  char *zErr = 0;
  int rc = sqRunInstance(p->pEnv, p->db, d, R, eMode, p->zOwner, &run, &zErr);
  if( rc==SQLITE_OK ){
    sqRunJson(&p->jw, d->zName, &run);
    p->nRuns++;
  }else if( rc!=SQLITE_DONE && rc!=SQLITE_BUSY && rc!=SQLITE_LOCKED ){
    /* An internal error (not the query's fault): report it in the pass. */
    tsJwObjBegin(&p->jw);
    tsJwKeyStr(&p->jw, "Name", d->zName);
    tsJwKeyInt(&p->jw, "InvocationTime", R);
    tsJwKeyStr(&p->jw, "Error", zErr ? zErr : sqlite3_errstr(rc));
    tsJwObjEnd(&p->jw);
  }
  sqRunClear(&run);
  sqlite3_free(zErr);
  return rc;
}

/*
** The late-data part of a pass for query d: take up to nMaxCheck pending
** instances (oldest first), fingerprint their windows in one scan per
** source, drop the ones whose fingerprint matches the one stored by their
** last run, and re-run up to nMaxRefresh of the others, in order.  Changed
** instances beyond that budget stay pending for the next pass.
*/
static int sqPassRefresh(SqPass *p, SqDef *d){
  sqlite3 *db = p->db;
  sqlite3_stmt *pS = 0;
  int64_t *aR = 0;
  SqFp *aFp = 0;
  unsigned char *aDirty = 0;
  int nR = 0, i, rc, nRun = 0;
  int64_t iEnd = INT64_MIN;            /* end of the last range taken whole */
  if( p->nMaxCheck<=0 ) return SQLITE_OK;
  aR = sqlite3_malloc64(sizeof(int64_t)*p->nMaxCheck);
  aFp = sqlite3_malloc64(sizeof(SqFp)*p->nMaxCheck);
  aDirty = sqlite3_malloc64(p->nMaxCheck);
  if( aR==0 || aFp==0 || aDirty==0 ){ rc = SQLITE_NOMEM; goto done; }
  /* 1. the instances to check */
  rc = sqlite3_prepare_v2(db, "SELECT FromTime, ToTime FROM main.ts_scheduled_query_invalidations"
                          " WHERE Name=?1 ORDER BY FromTime", -1, &pS, 0);
  if( rc!=SQLITE_OK ) goto done;
  sqlite3_bind_text(pS, 1, d->zName, -1, SQLITE_STATIC);
  while( nR<p->nMaxCheck && sqlite3_step(pS)==SQLITE_ROW ){
    int64_t a = sqlite3_column_int64(pS, 0), b = sqlite3_column_int64(pS, 1), R;
    if( sqNextFire(&d->sched, d->iCreation, a-1, &R) ){ iEnd = b; continue; }
    while( R<=b && nR<p->nMaxCheck ){
      if( nR==0 || R>aR[nR-1] ) aR[nR++] = R;
      if( sqNextFire(&d->sched, d->iCreation, R, &R) ){ R = INT64_MAX; break; }
    }
    if( R>b ) iEnd = b;                 /* this range is fully taken */
  }
  rc = sqlite3_finalize(pS); pS = 0;
  if( rc!=SQLITE_OK || nR==0 ){
    /* nothing to check: ranges without an instance are dropped */
    if( rc==SQLITE_OK ){
      rc = tsSqStep(db, 0, "DELETE FROM main.ts_scheduled_query_invalidations WHERE Name=?1", "t", d->zName);
      rc = SQ_OK(rc) ? SQLITE_OK : rc;
    }
    goto done;
  }
  /* 2. fingerprints now and at the last run, in one read snapshot */
  rc = sqlite3_exec(db, "BEGIN", 0, 0, 0);
  if( rc!=SQLITE_OK ) goto done;
  rc = sqFingerprint(db, d->zName, d->iWindow, aR, nR, aFp);
  memset(aDirty, 1, nR);
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(db, "SELECT InvocationTime, RowCount, VersionSum, TimeSum"
                            " FROM main.ts_scheduled_query_windows WHERE Name=?1"
                            " AND InvocationTime BETWEEN ?2 AND ?3", -1, &pS, 0);
  }
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pS, 1, d->zName, -1, SQLITE_STATIC);
    sqlite3_bind_int64(pS, 2, aR[0]);
    sqlite3_bind_int64(pS, 3, aR[nR-1]);
    while( sqlite3_step(pS)==SQLITE_ROW ){
      int64_t R = sqlite3_column_int64(pS, 0);
      int lo = 0, hi = nR;
      while( lo<hi ){ int mid = (lo+hi)/2; if( aR[mid] < R ) lo = mid+1; else hi = mid; }
      if( lo<nR && aR[lo]==R && aFp[lo].n==sqlite3_column_int64(pS, 1)
       && aFp[lo].v==sqlite3_column_int64(pS, 2) && aFp[lo].t==sqlite3_column_int64(pS, 3) ){
        aDirty[lo] = 0;
      }
    }
    rc = sqlite3_finalize(pS); pS = 0;
  }
  sqlite3_exec(db, "COMMIT", 0, 0, 0);
  if( rc!=SQLITE_OK ) goto done;
  /* 3. the checked span leaves the pending set; changed instances that are
  ** not re-run in this pass go back as single-instance ranges */
  rc = sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0);
  if( rc!=SQLITE_OK ) goto done;
  rc = sqInvRemove(db, d->zName, aR[0], iEnd > aR[nR-1] ? iEnd : aR[nR-1]);
  for(i=0; rc==SQLITE_OK && i<nR; i++){
    if( !aDirty[i] ){ p->nChecked++; continue; }
    if( nRun < p->nMaxRefresh ){ nRun++; continue; }
    rc = sqInvAdd(db, d->zName, aR[i], aR[i], 0);
  }
  if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
  if( rc!=SQLITE_OK ){ sqlite3_exec(db, "ROLLBACK", 0, 0, 0); goto done; }
  /* 4. re-run the changed ones; a run that cannot happen now goes back */
  nRun = 0;
  for(i=0; i<nR; i++){
    if( !aDirty[i] ) continue;
    if( nRun>=p->nMaxRefresh ) break;
    nRun++;
    if( rc==SQLITE_OK ){
      rc = sqPassRunOne(p, d, aR[i], SQ_REFRESH);
      if( rc==SQLITE_DONE ) rc = SQLITE_OK;
      if( rc==SQLITE_OK ) continue;
    }
    sqInvAdd(db, d->zName, aR[i], aR[i], 0);
  }
done:
  sqlite3_finalize(pS);
  sqlite3_free(aR); sqlite3_free(aFp); sqlite3_free(aDirty);
  return rc;
}

/* All the work of one query in one pass. */
static int sqPassQuery(SqPass *p, const char *zName){
  SqDef *d = 0;
  char *zErr = 0;
  int rc = SQLITE_OK;
  if( !sqLeaseClaim(p, zName, &rc) ){
    if( rc==SQLITE_OK ) tsJwStr(&p->jwLeased, zName);
    sqlite3_free(zErr);
    return rc;
  }
  rc = sqDefLoad(p->db, zName, &d, &zErr);
  if( rc==SQLITE_OK ) rc = sqScanSources(p, d);
  /* Catch-up: instances older than now - catchup_window are skipped. */
  if( rc==SQLITE_OK && d->bNext && p->iNow - p->iCatchup > d->iNext ){
    int64_t iNew = 0;
    int bNew = sqNextFire(&d->sched, d->iCreation, p->iNow - p->iCatchup - 1, &iNew)==0;
    rc = tsSqStep(p->db, 0, "UPDATE main.ts_scheduled_query_defs SET NextInvocationTime=CASE WHEN ?4"
                " THEN ?3 END WHERE Name=?1 AND NextInvocationTime=?2", "tiii", zName,
                (sqlite3_int64)d->iNext, (sqlite3_int64)iNew, (sqlite3_int64)bNew);
    rc = SQ_OK(rc) ? SQLITE_OK : rc;
    if( rc==SQLITE_OK && sqlite3_changes(p->db)==1 ){
      tsJwObjBegin(&p->jwSkip);
      tsJwKeyStr(&p->jwSkip, "Name", zName);
      tsJwKeyInt(&p->jwSkip, "From", d->iNext);
      tsJwKey(&p->jwSkip, "To");
      if( bNew ) tsJwInt(&p->jwSkip, iNew); else tsJwNull(&p->jwSkip);
      tsJwObjEnd(&p->jwSkip);
    }
  }
  /* Scheduled instances, in order. */
  while( rc==SQLITE_OK && p->nRuns < p->nMaxRuns ){
    sqDefFree(d); d = 0;
    rc = sqDefLoad(p->db, zName, &d, &zErr);
    if( rc!=SQLITE_OK || strcmp(d->zState, "ENABLED")!=0 || !d->bNext || d->iNext > p->iNow ) break;
    rc = sqPassRunOne(p, d, d->iNext, SQ_AUTO);
    if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  }
  /* Late data: check the oldest pending instances, re-run the changed ones. */
  if( rc==SQLITE_OK && d && strcmp(d->zState, "ENABLED")==0 && d->iWindow>0 ){
    rc = sqPassRefresh(p, d);
  }
  sqLeaseRelease(p, zName);
  if( rc==SQLITE_BUSY || rc==SQLITE_LOCKED ){ p->bBusy = 1; rc = SQLITE_OK; }
  if( rc==SQLITE_NOTFOUND ) rc = SQLITE_OK;     /* deleted meanwhile */
  sqDefFree(d);
  sqlite3_free(zErr);
  return rc;
}

/* ts_scheduler_run_due([options_json]) */
static void runDueFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  TsEnv *pEnv = (TsEnv*)sqlite3_user_data(ctx);
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *zF = "ts_scheduler_run_due";
  SqPass pass;
  char *zErr = 0;
  char **azName = 0;
  int nName = 0, i, rc = SQLITE_OK;
  memset(&pass, 0, sizeof(pass));
  pass.pEnv = pEnv; pass.db = db; pass.iNow = tsEnvNow(pEnv);
  pass.nMaxRuns = SQ_DEFAULT_MAX_RUNS; pass.nMaxRefresh = SQ_DEFAULT_MAX_REFRESH;
  pass.nMaxCheck = SQ_DEFAULT_MAX_CHECK;
  pass.iCatchup = SQ_DEFAULT_CATCHUP;
  if( !sqlite3_get_autocommit(db) ){
    sqError(ctx, zF, SQLITE_ERROR, "cannot run inside a transaction (it commits its own)");
    return;
  }
  if( argc>0 && sqlite3_value_type(argv[0])!=SQLITE_NULL ){
    sqlite3_stmt *pS = 0;
    const char *zO = (const char*)sqlite3_value_text(argv[0]);
    rc = tsSqStep(db, &pS, "SELECT CASE WHEN json_valid(?1) AND json_type(?1)='object' THEN 1 ELSE 0 END,"
                " json_extract(?1,'$.max_runs'), json_extract(?1,'$.max_refresh'),"
                " json_extract(?1,'$.catchup_window'), json_extract(?1,'$.owner'),"
                " (SELECT group_concat(key) FROM json_each(?1) WHERE key NOT IN"
                "  ('max_runs','max_refresh','max_check','catchup_window','owner')),"
                " json_extract(?1,'$.max_check')", "t", zO ? zO : "");
    if( rc!=SQLITE_ROW || !sqlite3_column_int(pS, 0) ){
      zErr = sqlite3_mprintf("options must be a JSON object, e.g. '{\"max_runs\":10}'");
    }else if( sqlite3_column_type(pS, 5)!=SQLITE_NULL ){
      zErr = sqlite3_mprintf("unknown option '%s' (expected max_runs, max_refresh, max_check, "
                             "catchup_window, owner)",
                             sqlite3_column_text(pS, 5));
    }else{
      if( sqlite3_column_type(pS, 1)!=SQLITE_NULL ){
        if( sqlite3_column_type(pS, 1)!=SQLITE_INTEGER || sqlite3_column_int64(pS, 1)<1 ){
          zErr = sqlite3_mprintf("max_runs must be a positive integer");
        }else pass.nMaxRuns = (int)(sqlite3_column_int64(pS, 1) > 1000000 ? 1000000 : sqlite3_column_int64(pS, 1));
      }
      if( zErr==0 && sqlite3_column_type(pS, 2)!=SQLITE_NULL ){
        if( sqlite3_column_type(pS, 2)!=SQLITE_INTEGER || sqlite3_column_int64(pS, 2)<0 ){
          zErr = sqlite3_mprintf("max_refresh must be an integer >= 0");
        }else pass.nMaxRefresh = (int)(sqlite3_column_int64(pS, 2) > 1000000 ? 1000000 : sqlite3_column_int64(pS, 2));
      }
      if( zErr==0 && sqlite3_column_type(pS, 6)!=SQLITE_NULL ){
        if( sqlite3_column_type(pS, 6)!=SQLITE_INTEGER || sqlite3_column_int64(pS, 6)<0 ){
          zErr = sqlite3_mprintf("max_check must be an integer >= 0");
        }else pass.nMaxCheck = (int)(sqlite3_column_int64(pS, 6) > 100000 ? 100000 : sqlite3_column_int64(pS, 6));
      }
      if( zErr==0 && sqlite3_column_type(pS, 3)!=SQLITE_NULL ){
        const char *zC = (const char*)sqlite3_column_text(pS, 3);
        int64_t v;
        if( sqlite3_column_type(pS, 3)!=SQLITE_TEXT || tsIntervalParse(zC, -1, &v)!=TS_TIME_OK ){
          zErr = sqlite3_mprintf("catchup_window must be an interval such as '1d'");
        }else pass.iCatchup = v;
      }
      if( zErr==0 && sqlite3_column_type(pS, 4)!=SQLITE_NULL ){
        pass.zOwner = sqColDup(pS, 4);
      }
    }
    sqlite3_finalize(pS);
    rc = SQLITE_OK;
    if( zErr ){ sqError(ctx, zF, SQLITE_ERROR, zErr); sqlite3_free(zErr); sqlite3_free(pass.zOwner); return; }
  }
  if( pass.zOwner==0 ){
    char zHost[128];
    if( gethostname(zHost, sizeof(zHost))!=0 ) snprintf(zHost, sizeof(zHost), "?");
    zHost[sizeof(zHost)-1] = 0;
    pass.zOwner = sqlite3_mprintf("%s:%d:%p", zHost, (int)getpid(), (void*)db);
  }
  tsBufInit(&pass.out); tsJwInit(&pass.jw, &pass.out);
  tsBufInit(&pass.skipped); tsJwInit(&pass.jwSkip, &pass.skipped); tsJwArrBegin(&pass.jwSkip);
  tsBufInit(&pass.leased); tsJwInit(&pass.jwLeased, &pass.leased); tsJwArrBegin(&pass.jwLeased);
  tsJwObjBegin(&pass.jw);
  tsJwKeyInt(&pass.jw, "now", pass.iNow);
  tsJwKey(&pass.jw, "runs"); tsJwArrBegin(&pass.jw);
  if( sqHaveSchema(db) && pass.zOwner ){
    sqlite3_stmt *pS = 0;
    TsBuf names;
    tsBufInit(&names);
    rc = sqlite3_prepare_v2(db, "SELECT Name FROM main.ts_scheduled_query_defs WHERE State='ENABLED'"
                            " ORDER BY NextInvocationTime, Name", -1, &pS, 0);
    while( rc==SQLITE_OK && sqlite3_step(pS)==SQLITE_ROW ){
      tsBufAppendStr(&names, (const char*)sqlite3_column_text(pS, 0));
      tsBufAppendByte(&names, 0);
      nName++;
    }
    sqlite3_finalize(pS);
    if( names.bErr ) rc = SQLITE_NOMEM;
    if( rc==SQLITE_OK && nName ){
      const char *z = (const char*)names.a;
      azName = sqlite3_malloc64(sizeof(char*)*nName);
      if( azName==0 ) rc = SQLITE_NOMEM;
      for(i=0; rc==SQLITE_OK && i<nName; i++){ azName[i] = (char*)z; z += strlen(z)+1; }
    }
    for(i=0; rc==SQLITE_OK && i<nName && !pass.bBusy && pass.nRuns<pass.nMaxRuns; i++){
      rc = sqPassQuery(&pass, azName[i]);
    }
    sqlite3_free(azName);
    tsBufFree(&names);
  }else if( pass.zOwner==0 ){
    rc = SQLITE_NOMEM;
  }
  tsJwArrEnd(&pass.jw);
  tsJwArrEnd(&pass.jwSkip);
  tsJwArrEnd(&pass.jwLeased);
  tsJwKey(&pass.jw, "skipped");
  tsJwRaw(&pass.jw, (const char*)pass.skipped.a, pass.skipped.n);
  tsJwKey(&pass.jw, "leasedElsewhere");
  tsJwRaw(&pass.jw, (const char*)pass.leased.a, pass.leased.n);
  {
    int64_t nPending = 0, iNextDue = 0;
    int bNextDue = 0;
    sqlite3_stmt *pS = 0;
    if( sqHaveSchema(db) ){
      if( tsSqStep(db, &pS, "SELECT count(*) FROM main.ts_scheduled_query_invalidations", "")==SQLITE_ROW ){
        nPending = sqlite3_column_int64(pS, 0);
        sqlite3_finalize(pS);
      }
      if( tsSqStep(db, &pS, "SELECT min(NextInvocationTime) FROM main.ts_scheduled_query_defs"
                 " WHERE State='ENABLED'", "")==SQLITE_ROW ){
        bNextDue = sqlite3_column_type(pS, 0)!=SQLITE_NULL;
        iNextDue = sqlite3_column_int64(pS, 0);
        sqlite3_finalize(pS);
      }
    }
    tsJwKeyInt(&pass.jw, "checkedUnchanged", pass.nChecked);
    tsJwKeyInt(&pass.jw, "pendingInvalidations", nPending);
    tsJwKey(&pass.jw, "nextInvocationTime");
    if( bNextDue ) tsJwInt(&pass.jw, iNextDue); else tsJwNull(&pass.jw);
  }
  tsJwKeyBool(&pass.jw, "busy", pass.bBusy);
  tsJwObjEnd(&pass.jw);
  if( rc==SQLITE_OK ){
    tsOpResultJson(ctx, &pass.out, &pass.jw);
  }else{
    tsBufFree(&pass.out);
    sqError(ctx, zF, rc, zErr ? zErr : sqlite3_errmsg(db));
  }
  tsBufFree(&pass.skipped);
  tsBufFree(&pass.leased);
  sqlite3_free(pass.zOwner);
  sqlite3_free(zErr);
}

int tsSchedRunRegister(sqlite3 *db, TsEnv *pEnv){
  static const struct { const char *zName; int nArg; void (*x)(sqlite3_context*,int,sqlite3_value**); } a[] = {
    { "ts_scheduled_query_create",  1, createFunc },
    { "ts_scheduled_query_create",  4, createFunc },
    { "ts_scheduled_query_execute", 1, executeFunc },
    { "ts_scheduled_query_execute", 2, executeFunc },
    { "ts_scheduled_query_update",  2, updateFunc },
    { "ts_scheduled_query_delete",  1, deleteFunc },
    { "ts_scheduler_run_due",       0, runDueFunc },
    { "ts_scheduler_run_due",       1, runDueFunc },
  };
  int rc = SQLITE_OK;
  size_t i;
  for(i=0; rc==SQLITE_OK && i<sizeof(a)/sizeof(a[0]); i++){
    /* DIRECTONLY: they write tables and commit transactions; never from a
    ** trigger or a view. */
    rc = sqlite3_create_function_v2(db, a[i].zName, a[i].nArg, SQLITE_UTF8|SQLITE_DIRECTONLY,
                                    tsEnvRef(pEnv), a[i].x, 0, 0, tsEnvUnref);
  }
  return rc;
}
