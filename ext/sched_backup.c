/*
** sched_backup.c: backup plans, ts_backup (backup.c) on a schedule, run by
** ts_scheduler_run_due() and so by the `tslite scheduler` daemon.
**
**   ts_backup_schedule(table, uri, schedule_expression [, options_json])
**       creates or replaces the plan of (table, uri): a cron() or rate()
**       expression (schedexpr.h) and ts_backup's options (keep, keep_days,
**       ...), checked now.  Returns {"table","uri","schedule","next"}.
**   ts_backup_schedule(table, uri, NULL)
**       removes the plan (its runs stay).
**
** State, in the main schema, created on first use:
**
**   ts_backup_plans(TableName, Uri, ScheduleExpression, Options,
**     CreationTime, NextInvocationTime, PreviousInvocationTime,
**     LastStatus, LastBackup, LastError)
**   ts_backup_runs(RunId, TableName, Uri, InvocationTime, TriggerTime,
**     Status ('SUCCESS' | 'FAILURE'), BackupId, Result (ts_backup's JSON),
**     Error)
**
** A pass (tsSqBackupPass) takes every plan whose NextInvocationTime is due,
** oldest first.  A backup is a snapshot of now, so missed instances are not
** run one by one: the due instance R is claimed by moving
** NextInvocationTime to the first instance after now (a compare-and-set on
** R, in one write transaction, so two daemons never both run it), then
** ts_backup runs (outside any transaction: it takes its own snapshot and
** uploads), then the run is recorded.  A failed or interrupted backup is
** not retried before the next instance (ts_backup leaves no half-backup;
** the next one completes the chain).  rate() plans are anchored at their
** creation time, like scheduled queries.
*/
#include "sched_int.h"
#include "backup.h"
#include "op.h"
#include <string.h>

static const char *const azBkSchema[] = {
  "CREATE TABLE IF NOT EXISTS main.ts_backup_plans("
  " TableName TEXT NOT NULL, Uri TEXT NOT NULL,"
  " ScheduleExpression TEXT NOT NULL, Options TEXT,"
  " CreationTime INTEGER NOT NULL,"              /* ns; the rate() anchor */
  " NextInvocationTime INTEGER, PreviousInvocationTime INTEGER,"
  " LastStatus TEXT, LastBackup TEXT, LastError TEXT,"
  " PRIMARY KEY(TableName, Uri))",
  "CREATE TABLE IF NOT EXISTS main.ts_backup_runs("
  " RunId INTEGER PRIMARY KEY, TableName TEXT NOT NULL, Uri TEXT NOT NULL,"
  " InvocationTime INTEGER NOT NULL, TriggerTime INTEGER NOT NULL,"
  " Status TEXT NOT NULL, BackupId TEXT, Result TEXT, Error TEXT)",
};

static int bsHaveSchema(sqlite3 *db){
  sqlite3_stmt *pS = 0;
  int rc = tsSqStep(db, &pS, "SELECT 1 FROM main.sqlite_master WHERE name='ts_backup_runs'", "");
  sqlite3_finalize(pS);
  return rc==SQLITE_ROW;
}

/* ts_backup_schedule(table, uri, schedule_expression [, options_json]) */
static void bsScheduleFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  TsEnv *pEnv = (TsEnv*)sqlite3_user_data(ctx);
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *zF = "ts_backup_schedule";
  const char *zTab = (const char*)sqlite3_value_text(argv[0]);
  const char *zUri = (const char*)sqlite3_value_text(argv[1]);
  const char *zSched = (const char*)sqlite3_value_text(argv[2]);
  const char *zOpt = argc>3 ? (const char*)sqlite3_value_text(argv[3]) : 0;
  char *zErr = 0, *zDb = 0, *zName = 0;
  TsTable *pTab = 0;
  TsSched sched;
  char zSErr[256];
  int64_t iNow = tsEnvNow(pEnv), iNext = 0;
  int rc = SQLITE_OK, bNext = 0, bSp = 0;
  size_t i;
  if( zTab==0 || zUri==0 ){
    tsSqError(ctx, zF, SQLITE_ERROR, "table and uri must not be NULL");
    return;
  }
  if( zSched==0 ){
    /* Remove the plan. */
    int n = 0;
    if( bsHaveSchema(db) ){
      rc = tsSqStep(db, 0, "DELETE FROM main.ts_backup_plans WHERE TableName=?1 AND Uri=?2", "tt", zTab, zUri);
      n = sqlite3_changes(db);
    }
    if( !SQ_OK(rc) ){
      tsSqError(ctx, zF, rc, sqlite3_errmsg(db));
    }else if( n==0 ){
      zErr = sqlite3_mprintf("no backup plan for table '%s' to '%s'", zTab, zUri);
      tsSqError(ctx, zF, SQLITE_ERROR, zErr);
    }else{
      TsBuf b; TsJsonW jw;
      tsBufInit(&b); tsJwInit(&jw, &b);
      tsJwObjBegin(&jw); tsJwKeyStr(&jw, "table", zTab); tsJwKeyStr(&jw, "uri", zUri);
      tsJwKeyBool(&jw, "removed", 1); tsJwObjEnd(&jw);
      tsOpResultJson(ctx, &b, &jw);
    }
    sqlite3_free(zErr);
    return;
  }
  if( tsSchedParse(zSched, &sched, zSErr, sizeof(zSErr)) ){
    zErr = sqlite3_mprintf("schedule_expression: %s", zSErr);
    rc = SQLITE_ERROR;
  }
  if( rc==SQLITE_OK && tsTableSplitName(zTab, &zDb, &zName) ) rc = SQLITE_NOMEM;
  if( rc==SQLITE_OK ){
    rc = tsTableOpen(pEnv, db, zDb, zName, &pTab, &zErr);
    tsTableRelease(pTab);
  }
  if( rc==SQLITE_OK ){
    char *zE = 0;
    TsObjStore *pLoc = 0;
    /* The location must open now (scheme, bucket syntax); nothing is read. */
    rc = tsBkLocationOpen(zF, zUri, 0, 0, &pLoc, &zE);
    tsObjClose(pLoc);
    if( rc ){
      zErr = zE ? sqlite3_mprintf("%s", zE + (strncmp(zE, "ts_backup_schedule: ", 20)==0 ? 20 : 0)) : 0;
      sqlite3_free(zE);
    }
  }
  if( rc==SQLITE_OK && zOpt ){
    char *zE = 0;
    rc = tsBkOptionsCheck(db, zOpt, &zE);
    if( rc ){
      zErr = sqlite3_mprintf("options_json: %s", zE ? zE : "invalid");
      sqlite3_free(zE);
    }
  }
  if( rc==SQLITE_OK ) bNext = tsSqNextFire(&sched, iNow, iNow, &iNext)==0;
  if( rc==SQLITE_OK ){
    rc = sqlite3_exec(db, "SAVEPOINT ts_backup_schedule", 0, 0, 0);
    if( rc==SQLITE_OK ) bSp = 1;
  }
  for(i=0; rc==SQLITE_OK && i<sizeof(azBkSchema)/sizeof(azBkSchema[0]); i++){
    rc = sqlite3_exec(db, azBkSchema[i], 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = tsSqStep(db, 0, "INSERT OR REPLACE INTO main.ts_backup_plans(TableName, Uri, ScheduleExpression,"
                " Options, CreationTime, NextInvocationTime) VALUES(?1,?2,?3,?4,?5,CASE WHEN ?7 THEN ?6 END)",
                "tttiiii", zTab, zUri, zSched, (sqlite3_int64)0, (sqlite3_int64)iNow,
                (sqlite3_int64)iNext, (sqlite3_int64)bNext);
    if( SQ_OK(rc) ){
      rc = tsSqStep(db, 0, "UPDATE main.ts_backup_plans SET Options=?3 WHERE TableName=?1 AND Uri=?2",
                  zOpt ? "ttt" : "ttn", zTab, zUri, zOpt);
    }
    rc = SQ_OK(rc) ? SQLITE_OK : rc;
  }
  if( bSp ){
    if( rc==SQLITE_OK ){
      rc = sqlite3_exec(db, "RELEASE ts_backup_schedule", 0, 0, 0);
    }else{
      if( zErr==0 ) zErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
      sqlite3_exec(db, "ROLLBACK TO ts_backup_schedule", 0, 0, 0);
      sqlite3_exec(db, "RELEASE ts_backup_schedule", 0, 0, 0);
    }
  }
  if( rc==SQLITE_OK ){
    TsBuf b; TsJsonW jw;
    tsBufInit(&b); tsJwInit(&jw, &b);
    tsJwObjBegin(&jw);
    tsJwKeyStr(&jw, "table", zTab);
    tsJwKeyStr(&jw, "uri", zUri);
    tsJwKeyStr(&jw, "schedule", zSched);
    tsJwKey(&jw, "next");
    if( bNext ) tsJwInt(&jw, iNext); else tsJwNull(&jw);
    tsJwObjEnd(&jw);
    tsOpResultJson(ctx, &b, &jw);
  }else{
    tsSqError(ctx, zF, rc, zErr ? zErr : sqlite3_errmsg(db));
  }
  sqlite3_free(zErr); sqlite3_free(zDb); sqlite3_free(zName);
}

/* One due plan: claim instance R, back up, record.  SQLITE_DONE when
** another connection claimed it first. */
static int bsRunPlan(TsEnv *pEnv, sqlite3 *db, const char *zTab, const char *zUri, int64_t R,
                     TsJsonW *pOut, char **pzErr){
  sqlite3_stmt *pS = 0, *pB = 0;
  char *zSched = 0, *zOpt = 0, *zRes = 0, *zBkErr = 0, *zId = 0;
  int64_t iNow = tsEnvNow(pEnv), iCreation = 0, iNext = 0;
  TsSched sched;
  char zSErr[256];
  int rc, bNext = 0;
  /* 1. claim */
  rc = sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0);
  if( rc!=SQLITE_OK ) return rc;
  rc = tsSqStep(db, &pS, "SELECT ScheduleExpression, Options, CreationTime FROM main.ts_backup_plans"
              " WHERE TableName=?1 AND Uri=?2 AND NextInvocationTime=?3", "tti", zTab, zUri,
              (sqlite3_int64)R);
  if( rc==SQLITE_ROW ){
    zSched = tsSqColDup(pS, 0);
    zOpt = tsSqColDup(pS, 1);
    iCreation = sqlite3_column_int64(pS, 2);
    sqlite3_finalize(pS);
    if( zSched==0 ) rc = SQLITE_NOMEM;
    else if( tsSchedParse(zSched, &sched, zSErr, sizeof(zSErr)) ){
      tsErrSet(pzErr, "backup plan of '%s': ScheduleExpression: %s", zTab, zSErr);
      rc = SQLITE_CORRUPT;
    }else{
      bNext = tsSqNextFire(&sched, iCreation, iNow > R ? iNow : R, &iNext)==0;
      rc = tsSqStep(db, 0, "UPDATE main.ts_backup_plans SET PreviousInvocationTime=?3,"
                  " NextInvocationTime=CASE WHEN ?5 THEN ?4 END WHERE TableName=?1 AND Uri=?2",
                  "ttiii", zTab, zUri, (sqlite3_int64)R, (sqlite3_int64)iNext, (sqlite3_int64)bNext);
      rc = SQ_OK(rc) ? SQLITE_OK : rc;
    }
  }else if( SQ_OK(rc) ){
    rc = SQLITE_DONE;
  }
  if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
  if( rc!=SQLITE_OK ){
    sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
    sqlite3_free(zSched); sqlite3_free(zOpt);
    return rc;
  }
  /* 2. the backup (its own transactions) */
  rc = sqlite3_prepare_v2(db, zOpt ? "SELECT ts_backup(?1, ?2, ?3)" : "SELECT ts_backup(?1, ?2)", -1, &pB, 0);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pB, 1, zTab, -1, SQLITE_STATIC);
    sqlite3_bind_text(pB, 2, zUri, -1, SQLITE_STATIC);
    if( zOpt ) sqlite3_bind_text(pB, 3, zOpt, -1, SQLITE_STATIC);
    if( sqlite3_step(pB)==SQLITE_ROW ){
      zRes = tsSqColDup(pB, 0);
      if( zRes==0 ) rc = SQLITE_NOMEM;
    }else{
      zBkErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
      if( zBkErr==0 ) rc = SQLITE_NOMEM;
    }
  }else{
    zBkErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
    rc = SQLITE_OK;
  }
  sqlite3_finalize(pB);
  if( rc==SQLITE_OK && zRes ){
    rc = tsSqStep(db, &pS, "SELECT json_extract(?1, '$.backup')", "t", zRes);
    if( rc==SQLITE_ROW ){ zId = tsSqColDup(pS, 0); sqlite3_finalize(pS); }
    rc = SQ_OK(rc) ? SQLITE_OK : rc;
  }
  /* 3. the record */
  if( rc==SQLITE_OK ){
    const char *zStatus = zRes ? "SUCCESS" : "FAILURE";
    rc = tsSqStep(db, 0, "INSERT INTO main.ts_backup_runs(TableName, Uri, InvocationTime, TriggerTime,"
                " Status, BackupId, Result, Error) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)", "ttiitttt",
                zTab, zUri, (sqlite3_int64)R, (sqlite3_int64)iNow, zStatus, zId, zRes, zBkErr);
    if( SQ_OK(rc) ){
      rc = tsSqStep(db, 0, "UPDATE main.ts_backup_plans SET LastStatus=?3, LastBackup=coalesce(?4, LastBackup),"
                  " LastError=?5 WHERE TableName=?1 AND Uri=?2", "ttttt", zTab, zUri, zStatus, zId, zBkErr);
    }
    rc = SQ_OK(rc) ? SQLITE_OK : rc;
    if( rc==SQLITE_OK ){
      tsJwObjBegin(pOut);
      tsJwKeyStr(pOut, "Table", zTab);
      tsJwKeyStr(pOut, "Uri", zUri);
      tsJwKeyInt(pOut, "InvocationTime", R);
      tsJwKeyInt(pOut, "TriggerTime", iNow);
      tsJwKeyStr(pOut, "Status", zStatus);
      if( zRes ){ tsJwKey(pOut, "Result"); tsJwRaw(pOut, zRes, strlen(zRes)); }
      if( zBkErr ) tsJwKeyStr(pOut, "Error", zBkErr);
      tsJwObjEnd(pOut);
    }
  }
  sqlite3_free(zSched); sqlite3_free(zOpt); sqlite3_free(zRes); sqlite3_free(zBkErr); sqlite3_free(zId);
  return rc;
}

/*
** The backup part of a pass: every due plan (NextInvocationTime <= now),
** oldest first, while *pnRuns < nMaxRuns (each backup counts as a run).
** Writes the run summaries into pOut (an open JSON array).
*/
int tsSqBackupPass(TsEnv *pEnv, sqlite3 *db, int64_t iNow, int nMaxRuns, int *pnRuns,
                   TsJsonW *pOut, char **pzErr){
  sqlite3_stmt *pS = 0;
  TsBuf due;
  int rc, nDue = 0, i;
  const char *z;
  if( !bsHaveSchema(db) ) return SQLITE_OK;
  tsBufInit(&due);
  rc = sqlite3_prepare_v2(db, "SELECT TableName, Uri, NextInvocationTime FROM main.ts_backup_plans"
                          " WHERE NextInvocationTime<=?1 ORDER BY NextInvocationTime, TableName, Uri",
                          -1, &pS, 0);
  if( rc==SQLITE_OK ){
    sqlite3_bind_int64(pS, 1, iNow);
    while( sqlite3_step(pS)==SQLITE_ROW ){
      int64_t R = sqlite3_column_int64(pS, 2);
      tsBufAppendStr(&due, (const char*)sqlite3_column_text(pS, 0)); tsBufAppendByte(&due, 0);
      tsBufAppendStr(&due, (const char*)sqlite3_column_text(pS, 1)); tsBufAppendByte(&due, 0);
      tsBufAppend(&due, &R, sizeof(R));
      nDue++;
    }
    rc = sqlite3_finalize(pS);
  }
  if( rc==SQLITE_OK && due.bErr ) rc = SQLITE_NOMEM;
  for(i=0, z=(const char*)due.a; rc==SQLITE_OK && i<nDue && *pnRuns<nMaxRuns; i++){
    const char *zTab = z, *zUri = zTab + strlen(zTab) + 1;
    int64_t R;
    z = zUri + strlen(zUri) + 1;
    memcpy(&R, z, sizeof(R));
    z += sizeof(R);
    rc = bsRunPlan(pEnv, db, zTab, zUri, R, pOut, pzErr);
    if( rc==SQLITE_OK ) (*pnRuns)++;
    if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  }
  tsBufFree(&due);
  return rc;
}

/* The earliest NextInvocationTime of every plan (for the daemon's sleep). */
int tsSqBackupNext(sqlite3 *db, int64_t *piNext){
  sqlite3_stmt *pS = 0;
  int b = 0;
  if( bsHaveSchema(db)
   && tsSqStep(db, &pS, "SELECT min(NextInvocationTime) FROM main.ts_backup_plans", "")==SQLITE_ROW ){
    b = sqlite3_column_type(pS, 0)!=SQLITE_NULL;
    *piNext = sqlite3_column_int64(pS, 0);
    sqlite3_finalize(pS);
  }
  return b;
}

int tsSqBackupRegister(sqlite3 *db, TsEnv *pEnv){
  int rc = SQLITE_OK, i;
  for(i=3; rc==SQLITE_OK && i<=4; i++){
    rc = sqlite3_create_function_v2(db, "ts_backup_schedule", i, SQLITE_UTF8|SQLITE_DIRECTONLY,
                                    tsEnvRef(pEnv), bsScheduleFunc, 0, 0, tsEnvUnref);
  }
  return rc;
}
