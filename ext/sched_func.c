/*
** sched_func.c: the SQL functions of scheduled queries and their
** registration (the semantics of a run are in sched_run.c):
**
**   ts_scheduled_query_create(name, schedule_expression, query_sql, target_json)
**   ts_scheduled_query_create(create_scheduled_query_request_json)
**   ts_scheduled_query_execute(name [, invocation_time])     manual run
**   ts_scheduled_query_update(name, 'ENABLED' | 'DISABLED')
**   ts_scheduled_query_delete(name)
**   ts_scheduler_run_due([options_json])                      one pass (sched_pass.c)
*/
#include "sched_int.h"
#include "table.h"
#include "op.h"
#include <stdio.h>
#include <string.h>

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

/* SQL functions. */

void tsSqError(sqlite3_context *ctx, const char *zFunc, int rc, const char *zMsg){
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
      zName = tsSqColDup(pS, 1); zQuery = tsSqColDup(pS, 2); zSched = tsSqColDup(pS, 3);
      zTarget = tsSqColDup(pS, 4); zErrCfg = tsSqColDup(pS, 5);
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
  bFirst = rc==SQLITE_OK && tsSqNextFire(&sched, iNow, iNow, &iFirst)==0;
  if( rc==SQLITE_OK && tsSqHaveSchema(db) && sqlite3_get_autocommit(db) ){
    rc = tsSqMigrate(db);
    if( rc!=SQLITE_OK ) zErr = sqlite3_mprintf("upgrading the scheduled-query tables: %s", sqlite3_errmsg(db));
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_exec(db, "SAVEPOINT ts_scheduled_query_create", 0, 0, 0);
    if( rc==SQLITE_OK ) bSp = 1; else zErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
  }
  if( rc==SQLITE_OK ) rc = tsSqEnsureSchema(db, &zErr);
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
        tsTableRelease(pTab);
        rc = tsSqWatchSource(db, zName, zSDb, zSTab);
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
    tsSqError(ctx, zF, rc, zErr);
  }
  tsSqReadsFree(&reads);
  tsSqTargetFree(pT);
  sqlite3_free(zName); sqlite3_free(zSched); sqlite3_free(zQuery); sqlite3_free(zTarget);
  sqlite3_free(zErrCfg); sqlite3_free(zErr); sqlite3_free(zArn);
}

/* Does the schema exist?  (Functions other than create do not create it.) */
int tsSqHaveSchema(sqlite3 *db){
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
  if( zName==0 ){ tsSqError(ctx, "ts_scheduled_query_update", SQLITE_ERROR, "name must not be NULL"); return; }
  if( zState==0 || (strcmp(zState, "ENABLED")!=0 && strcmp(zState, "DISABLED")!=0) ){
    zErr = sqlite3_mprintf("state must be 'ENABLED' or 'DISABLED', not %s%s%s", zState ? "'" : "",
                           zState ? zState : "NULL", zState ? "'" : "");
    tsSqError(ctx, "ts_scheduled_query_update", SQLITE_ERROR, zErr);
    sqlite3_free(zErr);
    return;
  }
  if( !tsSqHaveSchema(db) ){
    zErr = sqlite3_mprintf("no scheduled query named '%s'", zName);
    tsSqError(ctx, "ts_scheduled_query_update", SQLITE_ERROR, zErr);
    sqlite3_free(zErr);
    return;
  }
  rc = tsSqDefLoad(db, zName, &d, &zErr);
  if( rc==SQLITE_OK ){
    if( strcmp(zState, "ENABLED")==0 && strcmp(d->zState, "ENABLED")!=0 ){
      /* Re-enabled: the next instance is the first one after now. */
      int64_t iNext = 0;
      int bNext = tsSqNextFire(&d->sched, d->iCreation, tsEnvNow(pEnv), &iNext)==0;
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
    tsSqError(ctx, "ts_scheduled_query_update", rc, zErr);
  }
  tsSqDefFree(d);
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
    "DELETE FROM main.ts_scheduled_query_windows WHERE Name=?1",
    "DELETE FROM main.ts_scheduled_query_defs WHERE Name=?1",
  };
  char *zErr = 0;
  int rc = SQLITE_OK;
  size_t i;
  (void)argc;
  if( zName==0 || !tsSqHaveSchema(db) || tsSqStep(db, 0, "SELECT 1 FROM main.ts_scheduled_query_defs"
                                              " WHERE Name=?1", "t", zName)!=SQLITE_ROW ){
    zErr = sqlite3_mprintf("no scheduled query named '%s'", zName ? zName : "NULL");
    tsSqError(ctx, "ts_scheduled_query_delete", SQLITE_ERROR, zErr);
    sqlite3_free(zErr);
    return;
  }
  rc = sqlite3_exec(db, "SAVEPOINT ts_scheduled_query_delete", 0, 0, 0);
  if( rc==SQLITE_OK ) rc = tsSqUnwatchSources(db, zName);
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
    tsSqError(ctx, "ts_scheduled_query_delete", rc, zErr);
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
    tsSqError(ctx, zF, SQLITE_ERROR, "cannot run inside a transaction (it commits its own)");
    return;
  }
  if( zName==0 ){ tsSqError(ctx, zF, SQLITE_ERROR, "name must not be NULL"); return; }
  if( argc>1 && sqlite3_value_type(argv[1])!=SQLITE_NULL ){
    if( tsFuncArgTime(ctx, zF, argv[1], &R)!=TS_ARG_OK ) return;
  }else{
    R = tsEnvNow(pEnv);
  }
  if( !tsSqHaveSchema(db) ){
    zErr = sqlite3_mprintf("no scheduled query named '%s'", zName);
    tsSqError(ctx, zF, SQLITE_ERROR, zErr);
    sqlite3_free(zErr);
    return;
  }
  rc = tsSqDefLoad(db, zName, &d, &zErr);
  if( rc==SQLITE_OK ) rc = tsSqRunInstance(pEnv, db, d, R, SQ_MANUAL, 0, &run, &zErr);
  if( rc==SQLITE_OK ){
    TsBuf b; TsJsonW jw;
    tsBufInit(&b); tsJwInit(&jw, &b);
    tsSqRunJson(&jw, 0, &run);
    tsOpResultJson(ctx, &b, &jw);
  }else{
    tsSqError(ctx, zF, rc, zErr);
  }
  tsSqRunClear(&run);
  tsSqDefFree(d);
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
    { "ts_scheduler_run_due",       0, tsSqRunDueFunc },
    { "ts_scheduler_run_due",       1, tsSqRunDueFunc },
  };
  int rc = SQLITE_OK;
  size_t i;
  for(i=0; rc==SQLITE_OK && i<sizeof(a)/sizeof(a[0]); i++){
    /* DIRECTONLY: they write tables and commit transactions; never from a
    ** trigger or a view. */
    rc = sqlite3_create_function_v2(db, a[i].zName, a[i].nArg, SQLITE_UTF8|SQLITE_DIRECTONLY,
                                    tsEnvRef(pEnv), a[i].x, 0, 0, tsEnvUnref);
  }
  if( rc==SQLITE_OK ) rc = tsSqBackupRegister(db, pEnv);
  return rc;
}
