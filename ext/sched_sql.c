/*
** sched_sql.c: the SQL functions over schedule expressions (schedexpr.h).
**
**   ts_schedule_next(expression [, after])
**       The first fire time (INTEGER ns) strictly after `after` (INTEGER ns
**       or ISO-8601 text; default now(), the connection's clock) of a
**       cron(...) or rate(...) expression; for rate(n unit) that is
**       after + n units.  NULL when a cron() schedule never fires again
**       (its Year field is exhausted) or either argument is NULL.  An
**       invalid expression is an error naming the field:
**         ts_schedule_next: Day-of-month field '32': value 32 out of range 1-31
**
** The scheduled-query functions live in sched_func.c.
*/
#include "tslite.h"
#include "schedexpr.h"
#include "sched_int.h"

static void scheduleNextFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  TsEnv *pEnv = (TsEnv*)sqlite3_user_data(ctx);
  const char *zExpr = (const char*)sqlite3_value_text(argv[0]);
  int64_t iAfter, iNext;
  TsSched s;
  char zErr[256];
  if( zExpr==0 ) return;
  if( argc>1 ){
    int rc = tsFuncArgTime(ctx, "ts_schedule_next", argv[1], &iAfter);
    if( rc!=TS_ARG_OK ) return;
  }else{
    iAfter = tsEnvNow(pEnv);
  }
  if( tsSchedParse(zExpr, &s, zErr, sizeof(zErr)) ){
    tsFuncError(ctx, "ts_schedule_next: %s", zErr);
    return;
  }
  if( tsSchedNext(&s, iAfter, &iNext)==0 ) sqlite3_result_int64(ctx, iNext);
}

int tsSchedSqlRegister(sqlite3 *db, TsEnv *pEnv){
  int rc = SQLITE_OK;
  int i;
  for(i=1; rc==SQLITE_OK && i<=2; i++){
    rc = sqlite3_create_function_v2(db, "ts_schedule_next", i, SQLITE_UTF8,
                                    tsEnvRef(pEnv), scheduleNextFunc, 0, 0, tsEnvUnref);
  }
  if( rc==SQLITE_OK ) rc = tsSchedRunRegister(db, pEnv);
  return rc;
}
