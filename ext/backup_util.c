/*
** backup_util.c: the small helpers ts_backup (backup.c) and ts_restore
** (restore.c) share, declared in backup.h: argument checks at the start of
** the functions, the options_json walk, the option list, an interval
** option, the series-key hash, the start of the result JSON and the
** registration of the 2- and 3-argument forms.  The location's layout and
** the manifest helpers stay in backup.c.
*/
#include "backup.h"
#include "op.h"
#include "jsonw.h"
#include <stdlib.h>
#include <string.h>

int tsBkFuncArgs(sqlite3_context *ctx, const char *zTabArg, const char *zUri, const char *zNullMsg,
                 char **pzDb, char **pzTab){
  if( zTabArg==0 || zUri==0 ){
    sqlite3_result_error(ctx, zNullMsg, -1);
    return 0;
  }
  if( tsTableSplitName(zTabArg, pzDb, pzTab)!=SQLITE_OK ){
    sqlite3_result_error_nomem(ctx);
    return 0;
  }
  return 1;
}

sqlite3_stmt *tsBkOptionsEach(TsOp *pOp, const char *zJson){
  sqlite3_stmt *pStmt;
  int bObj = 0;
  pStmt = tsOpPrepare(pOp, "SELECT CASE WHEN json_valid(?1) THEN json_type(?1)='object' ELSE 0 END");
  if( pStmt==0 ) return 0;
  sqlite3_bind_text(pStmt, 1, zJson, -1, SQLITE_STATIC);
  if( sqlite3_step(pStmt)==SQLITE_ROW ) bObj = sqlite3_column_int(pStmt, 0);
  sqlite3_finalize(pStmt);
  if( !bObj ){
    tsOpErr(pOp, SQLITE_ERROR, "%s: options must be a JSON object", pOp->zFunc);
    return 0;
  }
  pStmt = tsOpPrepare(pOp, "SELECT key, value, type FROM json_each(?1)");
  if( pStmt ) sqlite3_bind_text(pStmt, 1, zJson, -1, SQLITE_STATIC);
  return pStmt;
}

void tsBkOptPush(TsOp *pOp, int *pnOpt, char ***pazK, char ***pazV, const char *zK, const char *zV){
  char **aK = sqlite3_realloc64(*pazK, sizeof(char*)*(size_t)(*pnOpt+1));
  char **aV = aK ? sqlite3_realloc64(*pazV, sizeof(char*)*(size_t)(*pnOpt+1)) : 0;
  if( aK ) *pazK = aK;
  if( aV ) *pazV = aV;
  if( aK==0 || aV==0 ){ tsOpOom(pOp); return; }
  aK[*pnOpt] = tsOpDup(pOp, zK);
  aV[*pnOpt] = tsOpDup(pOp, zV);
  (*pnOpt)++;
}

int tsBkInterval(const char *z, int64_t *pv){
  const char *q = z;
  while( *q>='0' && *q<='9' ) q++;
  if( *z && *q==0 && q-z<=18 ){ *pv = strtoll(z, 0, 10); return 0; }
  return tsIntervalParse(z, -1, pv)!=TS_TIME_OK;
}

void tsBkResultBegin(TsBuf *pBuf, TsJsonW *pW, const char *zTab, const char *zId){
  tsBufInit(pBuf);
  tsJwInit(pW, pBuf);
  tsJwObjBegin(pW);
  tsJwKeyStr(pW, "table", zTab);
  tsJwKeyStr(pW, "backup", zId);
}

int tsBkRegister(sqlite3 *db, TsEnv *pEnv, const char *zName,
                 void (*xFunc)(sqlite3_context*, int, sqlite3_value**)){
  int rc = SQLITE_OK, n;
  /* DIRECTONLY: they commit transactions and talk to object stores. */
  for(n=2; rc==SQLITE_OK && n<=3; n++){
    rc = sqlite3_create_function_v2(db, zName, n, SQLITE_UTF8|SQLITE_DIRECTONLY,
                                    tsEnvRef(pEnv), xFunc, 0, 0, tsEnvUnref);
  }
  return rc;
}
