/*
** op.c: the sticky error state of one operation (see op.h).
*/
#include "op.h"
#include <stdarg.h>
#include <string.h>

void tsOpInit(TsOp *p, sqlite3 *db, const char *zFunc){
  p->db = db;
  p->zFunc = zFunc;
  p->zObj = 0;
  p->rc = SQLITE_OK;
  p->zErr = 0;
}

void tsOpClear(TsOp *p){
  sqlite3_free(p->zErr);
  p->zErr = 0;
  p->rc = SQLITE_OK;
}

static void opSet(TsOp *p, int rc, char *z){
  p->rc = rc ? rc : SQLITE_ERROR;
  p->zErr = z;     /* NULL when formatting ran out of memory: tsOpResultError copes */
  if( z==0 ) p->rc = SQLITE_NOMEM;
}

void tsOpErr(TsOp *p, int rc, const char *zFmt, ...){
  va_list ap;
  if( p->rc ) return;
  va_start(ap, zFmt);
  opSet(p, rc, sqlite3_vmprintf(zFmt, ap));
  va_end(ap);
}

void tsOpOom(TsOp *p){
  if( p->rc ) return;
  p->rc = SQLITE_NOMEM;
  p->zErr = sqlite3_mprintf("%s: out of memory", p->zFunc);
}

void tsOpSqlErr(TsOp *p, const char *zWhat){
  int rc;
  if( p->rc ) return;
  rc = sqlite3_errcode(p->db);
  if( rc==SQLITE_NOMEM ){ tsOpOom(p); return; }
  opSet(p, rc==SQLITE_OK ? SQLITE_ERROR : rc,
        sqlite3_mprintf("%s%s%s: %s: %s", p->zFunc, p->zObj ? " " : "", p->zObj ? p->zObj : "",
                        zWhat, sqlite3_errmsg(p->db)));
}

sqlite3_stmt *tsOpPrepare(TsOp *p, const char *zFmt, ...){
  va_list ap;
  char *zSql;
  sqlite3_stmt *pStmt = 0;
  if( p->rc ) return 0;
  va_start(ap, zFmt);
  zSql = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if( zSql==0 ){ tsOpOom(p); return 0; }
  if( sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0)!=SQLITE_OK ){
    tsOpSqlErr(p, "prepare");
    sqlite3_finalize(pStmt);
    pStmt = 0;
  }
  sqlite3_free(zSql);
  return pStmt;
}

int tsOpExec(TsOp *p, const char *zSql){
  if( p->rc ) return p->rc;
  if( sqlite3_exec(p->db, zSql, 0, 0, 0)!=SQLITE_OK ) tsOpSqlErr(p, zSql);
  return p->rc;
}

int tsOpStepDone(TsOp *p, sqlite3_stmt *pStmt, const char *zWhat){
  if( p->rc || pStmt==0 ) return p->rc;
  if( sqlite3_step(pStmt)!=SQLITE_DONE ) tsOpSqlErr(p, zWhat);
  return p->rc;
}

char *tsOpDup(TsOp *p, const char *z){
  char *zOut;
  if( p->rc || z==0 ) return 0;
  zOut = sqlite3_mprintf("%s", z);
  if( zOut==0 ) tsOpOom(p);
  return zOut;
}

void *tsOpMallocZero(TsOp *p, sqlite3_uint64 n){
  void *a;
  if( p->rc ) return 0;
  a = sqlite3_malloc64(n ? n : 1);
  if( a==0 ){ tsOpOom(p); return 0; }
  memset(a, 0, n ? n : 1);
  return a;
}

void tsOpResultJson(sqlite3_context *ctx, TsBuf *pBuf, TsJsonW *pJw){
  if( tsJwError(pJw) || pBuf->bErr ) sqlite3_result_error_nomem(ctx);
  else sqlite3_result_text(ctx, (const char*)pBuf->a, (int)pBuf->n, SQLITE_TRANSIENT);
  tsBufFree(pBuf);
}

void tsOpResultError(TsOp *p, sqlite3_context *ctx){
  if( p->rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_error(ctx, p->zErr ? p->zErr : "operation failed", -1);
  sqlite3_result_error_code(ctx, p->rc ? p->rc : SQLITE_ERROR);
}
