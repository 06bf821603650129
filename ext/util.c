/*
** util.c: the per-connection TsEnv, error-message helpers, and the small
** utility SQL functions:
**
**   tslite_version()          -> '0.1.0'
**   ts_debug_set_now(t)       test clock: t as INTEGER ns or ISO-8601 text;
**                             NULL or 0 returns to the real clock.  Affects
**                             now(), ago(), write windows and retention of
**                             this connection only.  For tests and demos.
*/
#include "tslite.h"
#include <stdarg.h>
#include <string.h>
#include <time.h>

TsEnv *tsEnvNew(sqlite3 *db){
  TsEnv *p = sqlite3_malloc64(sizeof(*p));
  if( p ){
    memset(p, 0, sizeof(*p));
    p->nRef = 1;
    p->db = db;
  }
  return p;
}

TsEnv *tsEnvRef(TsEnv *p){
  if( p ) p->nRef++;
  return p;
}

void tsEnvUnref(void *pArg){
  TsEnv *p = (TsEnv*)pArg;
  if( p && --p->nRef==0 ) sqlite3_free(p);
}

sqlite3_int64 tsEnvNow(TsEnv *p){
  struct timespec ts;
  if( p && p->iFakeNow ) return p->iFakeNow;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (sqlite3_int64)ts.tv_sec*TS_NS_PER_SEC + ts.tv_nsec;
}

void tsErrSet(char **pzErr, const char *zFmt, ...){
  va_list ap;
  char *z;
  va_start(ap, zFmt);
  z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  sqlite3_free(*pzErr);
  *pzErr = z;
}

void tsVtabErr(sqlite3_vtab *pVtab, const char *zFmt, ...){
  va_list ap;
  char *z;
  va_start(ap, zFmt);
  z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  sqlite3_free(pVtab->zErrMsg);
  pVtab->zErrMsg = z;
}

static void versionFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3_result_text(ctx, TSLITE_VERSION, -1, SQLITE_STATIC);
}

static void setNowFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  TsEnv *pEnv = (TsEnv*)sqlite3_user_data(ctx);
  sqlite3_int64 iNs = 0;
  switch( sqlite3_value_type(argv[0]) ){
    case SQLITE_NULL:
      break;
    case SQLITE_INTEGER:
      iNs = sqlite3_value_int64(argv[0]);
      break;
    case SQLITE_TEXT: {
      int64_t v;
      if( tsTimeParseIso((const char*)sqlite3_value_text(argv[0]), -1, &v) ){
        char *z = sqlite3_mprintf("ts_debug_set_now: not an ISO-8601 time: '%s'",
                                  sqlite3_value_text(argv[0]));
        sqlite3_result_error(ctx, z, -1);
        sqlite3_free(z);
        return;
      }
      iNs = v;
      break;
    }
    default:
      sqlite3_result_error(ctx, "ts_debug_set_now: expects INTEGER ns or ISO-8601 TEXT", -1);
      return;
  }
  pEnv->iFakeNow = iNs;
  sqlite3_result_int64(ctx, tsEnvNow(pEnv));
}

int tsUtilRegister(sqlite3 *db, TsEnv *pEnv){
  int rc;
  rc = sqlite3_create_function_v2(db, "tslite_version", 0,
      SQLITE_UTF8|SQLITE_DETERMINISTIC|SQLITE_INNOCUOUS, 0, versionFunc, 0, 0, 0);
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "ts_debug_set_now", 1, SQLITE_UTF8|SQLITE_DIRECTONLY,
        tsEnvRef(pEnv), setNowFunc, 0, 0, tsEnvUnref);
  }
  return rc;
}
