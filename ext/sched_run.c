/*
** sched_run.c: scheduled queries (Timestream's CreateScheduledQuery family,
** reference section 5): the bookkeeping tables, a query's definition and one
** run of one instance.  The SQL functions are in sched_func.c, the pass of
** ts_scheduler_run_due() in sched_pass.c, late data in sched_inval.c.
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
**                                     write-log mark and the series read
**                                     (sched_inval.c)
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
*/
#include "sched_int.h"
#include "table.h"
#include "op.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SQ_MAX_ROWS        1000000
#define SQ_MAX_BYTES       (256LL*1024*1024)

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
  " LogMark INTEGER NOT NULL, Filter TEXT,"
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

int tsSqEnsureSchema(sqlite3 *db, char **pzErr){
  size_t i;
  int rc = SQLITE_OK;
  sqlite3_stmt *pS = 0;
  /* Fast path: already there (the view is created last; the sources table
  ** is missing after tsSqMigrate dropped an old one). */
  if( sqlite3_prepare_v2(db, "SELECT count(*)=2 FROM main.sqlite_master WHERE name IN"
                         " ('ts_scheduled_queries', 'ts_scheduled_query_sources')",
                         -1, &pS, 0)==SQLITE_OK && sqlite3_step(pS)==SQLITE_ROW
   && sqlite3_column_int(pS, 0) ){
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

int64_t tsSqWallNs(void){
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
void tsSqDefFree(SqDef *p){
  if( p==0 ) return;
  sqlite3_free(p->zName); sqlite3_free(p->zQuery); sqlite3_free(p->zSched);
  sqlite3_free(p->zTarget); sqlite3_free(p->zErrCfg); sqlite3_free(p->zState);
  sqlite3_free(p);
}

char *tsSqColDup(sqlite3_stmt *pS, int i){
  const char *z = (const char*)sqlite3_column_text(pS, i);
  return z ? sqlite3_mprintf("%s", z) : 0;
}

/* Load query zName.  SQLITE_NOTFOUND (with a message) if there is none. */
int tsSqDefLoad(sqlite3 *db, const char *zName, SqDef **pp, char **pzErr){
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
  p->zName = tsSqColDup(pS, 0); p->zQuery = tsSqColDup(pS, 1); p->zSched = tsSqColDup(pS, 2);
  p->zTarget = tsSqColDup(pS, 3); p->zErrCfg = tsSqColDup(pS, 4); p->zState = tsSqColDup(pS, 5);
  p->iCreation = sqlite3_column_int64(pS, 6);
  p->bNext = sqlite3_column_type(pS, 7)!=SQLITE_NULL; p->iNext = sqlite3_column_int64(pS, 7);
  p->bPrev = sqlite3_column_type(pS, 8)!=SQLITE_NULL; p->iPrev = sqlite3_column_int64(pS, 8);
  p->bFirst = sqlite3_column_type(pS, 9)!=SQLITE_NULL; p->iFirst = sqlite3_column_int64(pS, 9);
  p->iWindow = sqlite3_column_int64(pS, 10);
  p->iLastVersion = sqlite3_column_int64(pS, 11);
  sqlite3_finalize(pS);
  if( p->zName==0 || p->zQuery==0 || p->zSched==0 || p->zTarget==0 || p->zState==0 ){
    tsSqDefFree(p);
    return SQLITE_NOMEM;
  }
  if( tsSchedParse(p->zSched, &p->sched, zErr, sizeof(zErr)) ){
    tsErrSet(pzErr, "scheduled query '%s': ScheduleExpression: %s", zName, zErr);
    tsSqDefFree(p);
    return SQLITE_CORRUPT;
  }
  *pp = p;
  return SQLITE_OK;
}

/* The first instance strictly after iAfter.  rate() schedules are anchored at
** the creation time: instances are CreationTime + k*period, k >= 1. */
int tsSqNextFire(const TsSched *s, int64_t iAnchor, int64_t iAfter, int64_t *piNext){
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


/* ---------------------------------------------------------------------- */
/* One run. */

void tsSqRunClear(SqRun *r){
  sqlite3_free(r->zFailure); sqlite3_free(r->zReportLoc);
  memset(r, 0, sizeof(*r));
}

static const char *sqRunStatus(const SqRun *r){
  if( r->eMode==SQ_MANUAL ) return r->bFailed ? "MANUAL_TRIGGER_FAILURE" : "MANUAL_TRIGGER_SUCCESS";
  return r->bFailed ? "AUTO_TRIGGER_FAILURE" : "AUTO_TRIGGER_SUCCESS";
}

/* The run summary as JSON (Timestream's field names). */
void tsSqRunJson(TsJsonW *jw, const char *zName, const SqRun *r){
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
  bNext = r->eMode==SQ_AUTO && tsSqNextFire(&d->sched, d->iCreation, r->iInvocation, &iNext)==0;
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
int tsSqRunInstance(TsEnv *pEnv, sqlite3 *db, SqDef *d, int64_t R, int eMode,
                         const char *zOwner, SqRun *r, char **pzErr){
  SqTarget *pT = 0;
  sqlite3_stmt *pQ = 0;
  SqWriter *w = 0;
  SqRows rows;
  char *zWhy = 0, *zReport = 0, *zBase = 0, *zKey = 0;
  int64_t t0 = sqMonoMs();
  int rc, bTxn = 0, bFp = 0;
  SqFp fp;
  SqScans scans;
  int64_t i;
  memset(&scans, 0, sizeof(scans));
  tsBufInit(&scans.b);
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
      rc = tsSqFingerprint(db, d->zName, d->iWindow, &R, 1, &fp);
    }
  }
  /* The scans of the result tell which series of the sources it reads. */
  if( rc==SQLITE_OK && d->iWindow>0 ){
    pEnv->xScanNote = tsSqScansNote;
    pEnv->pScanNoteArg = &scans;
  }
  if( rc==SQLITE_OK ) rc = sqReadResult(db, pQ, R, &rows, &r->nBytesMetered, &zWhy);
  pEnv->xScanNote = 0;
  pEnv->pScanNoteArg = 0;
  if( rc==SQLITE_OK && scans.b.bErr ) rc = SQLITE_NOMEM;
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
  if( SQ_OK(rc) && d->iWindow>0 ) rc = tsSqSourcesNote(db, d->zName, &scans);
  if( SQ_OK(rc) && bFp ){
    rc = tsSqStep(db, 0, "INSERT OR REPLACE INTO main.ts_scheduled_query_windows VALUES(?1,?2,?3,?4,?5)",
                "tiiii", d->zName, (sqlite3_int64)R, (sqlite3_int64)fp.n, (sqlite3_int64)fp.v,
                (sqlite3_int64)fp.t);
  }
  if( SQ_OK(rc) && eMode==SQ_AUTO ){
    int64_t iNext = 0;
    int bNext = tsSqNextFire(&d->sched, d->iCreation, R, &iNext)==0;
    rc = tsSqStep(db, 0, "UPDATE main.ts_scheduled_query_defs SET PreviousInvocationTime=?2,"
                " NextInvocationTime=CASE WHEN ?4 THEN ?3 END, LeaseExpiry=CASE WHEN LeaseOwner=?5"
                " THEN ?6 ELSE LeaseExpiry END WHERE Name=?1", "tiiiti", d->zName, (sqlite3_int64)R,
                (sqlite3_int64)iNext, (sqlite3_int64)bNext, zOwner ? zOwner : "",
                (sqlite3_int64)(tsSqWallNs() + SQ_LEASE_NS));
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
  tsBufFree(&scans.b);
  return rc;
}

