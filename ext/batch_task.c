/*
** batch_task.c: the state of a batch-load task (batch_load.c's header
** comment): the task tables, the batches (one transaction each: the rows,
** their error rows and the task row's progress commit together), the task
** status, and the error report written when the task finishes.
**
** Tables (schema main):
**   ts_batch_load_tasks(TaskId PRIMARY KEY, TaskStatus, TargetDatabaseName,
**     TargetTableName, Config, ClientToken, ErrorMessage, RecordsProcessed,
**     RecordsIngested, ParseFailures, RecordIngestionFailures, FileFailures,
**     BytesMetered, CreationTime, LastUpdatedTime, ResumableUntil (ns),
**     Files (JSON [{"uri","size"}]), FileCount, BytesTotal, FileIndex,
**     FileOffset, FileLine (the resume point), ReportFile)
**   ts_batch_load_errors(TaskId, FileIndex (-1: task error), FirstLine,
**     LastLine, Kind ('parse'|'ingest'|'file'|'task'), Reason)
**
** Error report (reference 4.4), written when the task finishes to
** <ReportLocation>/<TaskId>/error_report.json:
**   {"taskId":..., "taskErrors":[{"reason":...}],
**    "fileErrors":[{"fileName":<uri>,"errors":[{"reason":...,
**                                               "lineRanges":[[first,last],...]}]}]}
** Errors of one file with the same reason share one entry, in order of first
** appearance; adjacent or overlapping lines merge into one range.
*/
#include "batch_load.h"
#include "jsonw.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char zTaskDdl[] =
  "CREATE TABLE IF NOT EXISTS main.ts_batch_load_tasks("
  "TaskId TEXT PRIMARY KEY, TaskStatus TEXT NOT NULL, TargetDatabaseName TEXT,"
  " TargetTableName TEXT NOT NULL, Config TEXT NOT NULL, ClientToken TEXT UNIQUE,"
  " ErrorMessage TEXT,"
  " RecordsProcessed INTEGER NOT NULL DEFAULT 0, RecordsIngested INTEGER NOT NULL DEFAULT 0,"
  " ParseFailures INTEGER NOT NULL DEFAULT 0, RecordIngestionFailures INTEGER NOT NULL DEFAULT 0,"
  " FileFailures INTEGER NOT NULL DEFAULT 0, BytesMetered INTEGER NOT NULL DEFAULT 0,"
  " CreationTime INTEGER NOT NULL, LastUpdatedTime INTEGER NOT NULL, ResumableUntil INTEGER,"
  " Files TEXT NOT NULL DEFAULT '[]', FileCount INTEGER NOT NULL DEFAULT 0,"
  " BytesTotal INTEGER NOT NULL DEFAULT 0, FileIndex INTEGER NOT NULL DEFAULT 0,"
  " FileOffset INTEGER NOT NULL DEFAULT 0, FileLine INTEGER NOT NULL DEFAULT 1,"
  " ReportFile TEXT)";
static const char zErrDdl[] =
  "CREATE TABLE IF NOT EXISTS main.ts_batch_load_errors("
  "TaskId TEXT NOT NULL, FileIndex INTEGER NOT NULL, FirstLine INTEGER, LastLine INTEGER,"
  " Kind TEXT NOT NULL, Reason TEXT NOT NULL)";
static const char zErrIdx[] =
  "CREATE INDEX IF NOT EXISTS main.ts_batch_load_errors_task ON ts_batch_load_errors(TaskId)";

/**************************************************************************
** Small helpers.
*/

/* A sqlite3_malloc'd NUL-terminated copy of a TsBuf (which uses malloc). */
char *tsBlBufDup(const TsBuf *b){
  char *z;
  if( b->bErr ) return 0;
  z = sqlite3_malloc64(b->n+1);
  if( z ){ if( b->n ) memcpy(z, b->a, b->n); z[b->n] = 0; }
  return z;
}

int tsBlExec(sqlite3 *db, const char *zSql){
  return sqlite3_exec(db, zSql, 0, 0, 0);
}

/**************************************************************************
** Task rows.
*/

int tsBlEnsureTables(sqlite3 *db){
  int rc = tsBlExec(db, zTaskDdl);
  if( rc==SQLITE_OK ) rc = tsBlExec(db, zErrDdl);
  if( rc==SQLITE_OK ) rc = tsBlExec(db, zErrIdx);
  return rc;
}

/* Record an error row (inside the open batch transaction or on its own). */
int tsBlAddError(BlRun *r, int iFile, int64_t iFirst, int64_t iLast, const char *zKind,
                    const char *zReason){
  int rc;
  if( r->pErrIns==0 ){
    rc = sqlite3_prepare_v2(r->db, "INSERT INTO main.ts_batch_load_errors(TaskId, FileIndex,"
                            " FirstLine, LastLine, Kind, Reason) VALUES(?,?,?,?,?,?)",
                            -1, &r->pErrIns, 0);
    if( rc ) return rc;
  }
  sqlite3_bind_text(r->pErrIns, 1, r->zTaskId, -1, SQLITE_STATIC);
  sqlite3_bind_int(r->pErrIns, 2, iFile);
  if( iFirst>0 ){
    sqlite3_bind_int64(r->pErrIns, 3, iFirst);
    sqlite3_bind_int64(r->pErrIns, 4, iLast);
  }else{
    sqlite3_bind_null(r->pErrIns, 3);
    sqlite3_bind_null(r->pErrIns, 4);
  }
  sqlite3_bind_text(r->pErrIns, 5, zKind, -1, SQLITE_STATIC);
  sqlite3_bind_text(r->pErrIns, 6, zReason, (int)(strlen(zReason)>BL_REASON_MAX ? BL_REASON_MAX
                    : strlen(zReason)), SQLITE_TRANSIENT);
  rc = sqlite3_step(r->pErrIns);
  sqlite3_reset(r->pErrIns);
  return rc==SQLITE_DONE ? SQLITE_OK : rc;
}

/* Write the counters and the resume point (iFile, iOff, iLine) into the
** task row, only if it still holds the resume point this run last wrote. */
static int saveProgress(BlRun *r, int iFile, int64_t iOff, int64_t iLine, int64_t nBytes){
  int rc;
  int64_t now = tsEnvNow(r->pEnv);
  if( r->pUpd==0 ){
    rc = sqlite3_prepare_v2(r->db,
        "UPDATE main.ts_batch_load_tasks SET RecordsProcessed=?1, RecordsIngested=?2,"
        " ParseFailures=?3, RecordIngestionFailures=?4, FileFailures=?5, BytesMetered=?6,"
        " FileIndex=?7, FileOffset=?8, FileLine=?9, LastUpdatedTime=?10, ResumableUntil=?11"
        " WHERE TaskId=?12 AND FileIndex=?13 AND FileOffset=?14", -1, &r->pUpd, 0);
    if( rc ) return rc;
  }
  sqlite3_bind_int64(r->pUpd, 1, r->nProcessed);
  sqlite3_bind_int64(r->pUpd, 2, r->nIngested);
  sqlite3_bind_int64(r->pUpd, 3, r->nParse);
  sqlite3_bind_int64(r->pUpd, 4, r->nIngestFail);
  sqlite3_bind_int64(r->pUpd, 5, r->nFileFail);
  sqlite3_bind_int64(r->pUpd, 6, nBytes);
  sqlite3_bind_int(r->pUpd, 7, iFile);
  sqlite3_bind_int64(r->pUpd, 8, iOff);
  sqlite3_bind_int64(r->pUpd, 9, iLine);
  sqlite3_bind_int64(r->pUpd, 10, now);
  sqlite3_bind_int64(r->pUpd, 11, now + BL_RESUMABLE);
  sqlite3_bind_text(r->pUpd, 12, r->zTaskId, -1, SQLITE_STATIC);
  sqlite3_bind_int(r->pUpd, 13, r->iFile);
  sqlite3_bind_int64(r->pUpd, 14, r->iOff);
  rc = sqlite3_step(r->pUpd);
  sqlite3_reset(r->pUpd);
  if( rc!=SQLITE_DONE ) return rc;
  if( sqlite3_changes(r->db)!=1 ){
    tsErrSet(&r->zErr, "ts_batch_load: task %s was advanced by another connection; this run stops",
             r->zTaskId);
    return SQLITE_BUSY;
  }
  r->iFile = iFile; r->iOff = iOff; r->iLine = iLine; r->nBytes = nBytes;
  return SQLITE_OK;
}

int tsBlSetStatus(BlRun *r, const char *zStatus, const char *zMsg){
  sqlite3_stmt *pS = 0;
  int rc = sqlite3_prepare_v2(r->db, "UPDATE main.ts_batch_load_tasks SET TaskStatus=?1,"
      " ErrorMessage=coalesce(?2, ErrorMessage), LastUpdatedTime=?3, ResumableUntil=?4"
      " WHERE TaskId=?5", -1, &pS, 0);
  if( rc==SQLITE_OK ){
    int64_t now = tsEnvNow(r->pEnv);
    sqlite3_bind_text(pS, 1, zStatus, -1, SQLITE_STATIC);
    if( zMsg ) sqlite3_bind_text(pS, 2, zMsg, -1, SQLITE_STATIC);
    sqlite3_bind_int64(pS, 3, now);
    sqlite3_bind_int64(pS, 4, now + BL_RESUMABLE);
    sqlite3_bind_text(pS, 5, r->zTaskId, -1, SQLITE_STATIC);
    rc = sqlite3_step(pS);
    if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  }
  sqlite3_finalize(pS);
  return rc;
}

/**************************************************************************
** Batches.
*/

int tsBlBatchBegin(BlRun *r){
  int rc;
  if( r->bInTxn ) return SQLITE_OK;
  rc = tsBlExec(r->db, "BEGIN IMMEDIATE");
  if( rc==SQLITE_OK ){
    r->bInTxn = 1; r->nInBatch = 0;
    if( r->pTab ) tsWriteBatchBegin(r->pTab);
  }
  return rc;
}

/* The rows written through the handle into chunks (before a COMMIT or a
** SAVEPOINT: the vtab's xSync/xSavepoint run only if it joined the
** transaction). */
int tsBlFlushTable(BlRun *r){
  char *zErr = 0;
  int rc = r->pTab ? tsTableFlush(r->pTab, &zErr) : SQLITE_OK;
  if( rc ){
    tsErrSet(&r->zErr, "ts_batch_load: %s", zErr ? zErr : sqlite3_errstr(rc));
    sqlite3_free(zErr);
  }
  return rc;
}

/* Commit the open batch with the resume point (iFile, iOff, iLine). */
int tsBlBatchCommit(BlRun *r, int iFile, int64_t iOff, int64_t iLine, int64_t nBytes){
  int rc = tsBlBatchBegin(r);
  if( rc==SQLITE_OK ) rc = tsBlFlushTable(r);
  if( rc==SQLITE_OK ) rc = saveProgress(r, iFile, iOff, iLine, nBytes);
  if( rc==SQLITE_OK ){
    rc = tsBlExec(r->db, "COMMIT");
    if( rc==SQLITE_OK ) r->bInTxn = 0;
  }
  return rc;
}

/* Give up the open batch (after a fatal error): nothing of it stays. */
void tsBlBatchAbandon(BlRun *r){
  if( !sqlite3_get_autocommit(r->db) ) tsBlExec(r->db, "ROLLBACK");
  if( r->pTab ) tsWriteBatchRollback(r->pTab);
  r->bInTxn = 0;
}

/**************************************************************************
** The report and the result.
*/

/* Build the reference 4.4 report from ts_batch_load_errors. */
static int buildReport(BlRun *r, TsBuf *pOut){
  TsJsonW w;
  sqlite3_stmt *pS = 0;
  int rc, iCurFile = -2, bInErr = 0, bInRanges = 0;
  char *zCurReason = 0;
  int64_t iA = 0, iB = 0;
  tsJwInit(&w, pOut);
  tsJwObjBegin(&w);
  tsJwKeyStr(&w, "taskId", r->zTaskId);
  tsJwKey(&w, "taskErrors");
  tsJwArrBegin(&w);
  rc = sqlite3_prepare_v2(r->db, "SELECT Reason FROM main.ts_batch_load_errors WHERE TaskId=?"
                          " AND FileIndex<0 ORDER BY rowid", -1, &pS, 0);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pS, 1, r->zTaskId, -1, SQLITE_STATIC);
    while( sqlite3_step(pS)==SQLITE_ROW ){
      tsJwObjBegin(&w);
      tsJwKeyStr(&w, "reason", (const char*)sqlite3_column_text(pS, 0));
      tsJwObjEnd(&w);
    }
    rc = sqlite3_finalize(pS);
    pS = 0;
  }
  tsJwArrEnd(&w);
  tsJwKey(&w, "fileErrors");
  tsJwArrBegin(&w);
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(r->db,
        "SELECT FileIndex, Reason, FirstLine, LastLine FROM main.ts_batch_load_errors"
        " WHERE TaskId=?1 AND FileIndex>=0"
        " ORDER BY FileIndex, min(rowid) OVER (PARTITION BY FileIndex, Reason), FirstLine",
        -1, &pS, 0);
  }
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pS, 1, r->zTaskId, -1, SQLITE_STATIC);
    while( sqlite3_step(pS)==SQLITE_ROW ){
      int iF = sqlite3_column_int(pS, 0);
      const char *zR = (const char*)sqlite3_column_text(pS, 1);
      int64_t a = sqlite3_column_int64(pS, 2), b = sqlite3_column_int64(pS, 3);
      int bNewFile = iF!=iCurFile, bNewReason = bNewFile || zCurReason==0 || strcmp(zR, zCurReason);
      if( bInRanges && (bNewReason || a>iB+1) ){
        tsJwArrBegin(&w); tsJwInt(&w, iA); tsJwInt(&w, iB); tsJwArrEnd(&w);
        bInRanges = 0;
      }
      if( bNewReason && bInErr ){ tsJwArrEnd(&w); tsJwObjEnd(&w); bInErr = 0; }
      if( bNewFile ){
        if( iCurFile>=0 ){ tsJwArrEnd(&w); tsJwObjEnd(&w); }
        tsJwObjBegin(&w);
        tsJwKeyStr(&w, "fileName", iF<r->nFile ? r->aFile[iF].zUri : "?");
        tsJwKey(&w, "errors");
        tsJwArrBegin(&w);
        iCurFile = iF;
      }
      if( bNewReason ){
        sqlite3_free(zCurReason);
        zCurReason = sqlite3_mprintf("%s", zR);
        tsJwObjBegin(&w);
        tsJwKeyStr(&w, "reason", zR);
        tsJwKey(&w, "lineRanges");
        tsJwArrBegin(&w);
        bInErr = 1;
      }
      if( !bInRanges ){ iA = a; iB = b; bInRanges = 1; }
      else if( b>iB ) iB = b;
    }
    if( bInRanges ){ tsJwArrBegin(&w); tsJwInt(&w, iA); tsJwInt(&w, iB); tsJwArrEnd(&w); }
    if( bInErr ){ tsJwArrEnd(&w); tsJwObjEnd(&w); }
    if( iCurFile>=0 ){ tsJwArrEnd(&w); tsJwObjEnd(&w); }
    rc = sqlite3_finalize(pS);
  }
  sqlite3_free(zCurReason);
  tsJwArrEnd(&w);
  tsJwObjEnd(&w);
  if( rc==SQLITE_OK && tsJwError(&w) ) rc = SQLITE_NOMEM;
  return rc;
}

/* Write the report object; its URI in *pzUri. */
int tsBlWriteReport(BlRun *r, char **pzUri){
  TsObjConfig oc;
  TsObjStore *pS = 0;
  TsBuf b;
  char *zObjErr = 0, *zKey;
  int rc;
  *pzUri = 0;
  tsBufInit(&b);
  rc = buildReport(r, &b);
  if( rc ){ tsBufFree(&b); return rc; }
  zKey = sqlite3_mprintf("%s/error_report.json", r->zTaskId);
  if( zKey==0 ){ tsBufFree(&b); return SQLITE_NOMEM; }
  tsBlObjCfg(r->pCfg, &oc, 1);
  if( tsObjOpen(r->pCfg->zReport, &oc, &pS, &zObjErr)!=TS_OBJ_OK
   || tsObjPut(pS, zKey, b.a, b.n, &zObjErr)!=TS_OBJ_OK ){
    tsErrSet(&r->zErr, "cannot write the error report to %s: %s", r->pCfg->zReport,
             zObjErr ? zObjErr : "error");
    rc = SQLITE_IOERR;
  }else{
    size_t n = strlen(r->pCfg->zReport);
    *pzUri = sqlite3_mprintf("%s%s%s", r->pCfg->zReport,
                             n && r->pCfg->zReport[n-1]=='/' ? "" : "/", zKey);
    if( *pzUri==0 ) rc = SQLITE_NOMEM;
  }
  free(zObjErr);
  tsObjClose(pS);
  sqlite3_free(zKey);
  tsBufFree(&b);
  return rc;
}

/* The result JSON of task zTaskId from its row. */
int tsBlTaskJson(sqlite3 *db, const char *zTaskId, char **pzOut){
  sqlite3_stmt *pS = 0;
  TsBuf b;
  TsJsonW w;
  int rc;
  *pzOut = 0;
  rc = sqlite3_prepare_v2(db, "SELECT TaskId, TaskStatus, RecordsProcessed, RecordsIngested,"
      " ParseFailures, RecordIngestionFailures, FileFailures, BytesMetered, ReportFile,"
      " ErrorMessage FROM main.ts_batch_load_tasks WHERE TaskId=?", -1, &pS, 0);
  if( rc ) return rc;
  sqlite3_bind_text(pS, 1, zTaskId, -1, SQLITE_STATIC);
  if( sqlite3_step(pS)!=SQLITE_ROW ){ sqlite3_finalize(pS); return SQLITE_NOTFOUND; }
  tsBufInit(&b);
  tsJwInit(&w, &b);
  tsJwObjBegin(&w);
  tsJwKeyStr(&w, "TaskId", (const char*)sqlite3_column_text(pS, 0));
  tsJwKeyStr(&w, "TaskStatus", (const char*)sqlite3_column_text(pS, 1));
  tsJwKey(&w, "ProgressReport");
  tsJwObjBegin(&w);
  tsJwKeyInt(&w, "RecordsProcessed", sqlite3_column_int64(pS, 2));
  tsJwKeyInt(&w, "RecordsIngested", sqlite3_column_int64(pS, 3));
  tsJwKeyInt(&w, "ParseFailures", sqlite3_column_int64(pS, 4));
  tsJwKeyInt(&w, "RecordIngestionFailures", sqlite3_column_int64(pS, 5));
  tsJwKeyInt(&w, "FileFailures", sqlite3_column_int64(pS, 6));
  tsJwKeyInt(&w, "BytesMetered", sqlite3_column_int64(pS, 7));
  tsJwObjEnd(&w);
  if( sqlite3_column_type(pS, 8)!=SQLITE_NULL ){
    tsJwKeyStr(&w, "ErrorReport", (const char*)sqlite3_column_text(pS, 8));
  }
  if( sqlite3_column_type(pS, 9)!=SQLITE_NULL ){
    tsJwKeyStr(&w, "ErrorMessage", (const char*)sqlite3_column_text(pS, 9));
  }
  tsJwObjEnd(&w);
  sqlite3_finalize(pS);
  *pzOut = tsJwError(&w) ? 0 : tsBlBufDup(&b);
  tsBufFree(&b);
  return *pzOut ? SQLITE_OK : SQLITE_NOMEM;
}

