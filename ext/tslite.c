/*
** tslite.c: the extension's entry point.
**
**   .load ./build/tslite            (sqlite3 shell)
**   con.load_extension("./build/tslite")   (Python)
**
** sqlite3_tslite_init creates the connection's TsEnv and asks each module to
** register its functions and virtual-table modules.  It is the only exported
** symbol of build/tslite.so (ext/tslite.map).  A static build calls it
** through sqlite3_auto_extension() as the tests do.
*/
#include "tslite.h"
#include "backup.h"
SQLITE_EXTENSION_INIT1

typedef int (*RegisterFn)(sqlite3*, TsEnv*);

__attribute__((visibility("default")))
int sqlite3_tslite_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi){
  static const struct { const char *zName; RegisterFn x; } aReg[] = {
    { "util",     tsUtilRegister },
    { "vtab",     tsVtabRegister },
    { "check",    tsOpsCheckRegister },
    { "func",     tsFuncRegister },
    { "objsql",   tsObjSqlRegister },
    { "parquet",  tsPqVtabRegister },
    { "unload",   tsUnloadRegister },
    { "maintain", tsMaintainRegister },
    { "catalog",  tsCatalogRegister },
    { "agg",      tsAggRegister },
    { "lineproto", tsLineProtoRegister },
    { "batchload", tsBatchLoadRegister },
    { "backup",   tsBackupRegister },
    { "restore",  tsRestoreRegister },
    { "sched",    tsSchedSqlRegister },
  };
  int rc = SQLITE_OK;
  size_t i;
  TsEnv *pEnv;
  SQLITE_EXTENSION_INIT2(pApi);
  if( sqlite3_libversion_number() < TSLITE_MIN_SQLITE_VERSION_NUMBER ){
    if( pzErrMsg ){
      *pzErrMsg = sqlite3_mprintf("tslite needs SQLite " TSLITE_MIN_SQLITE_VERSION
                                  " or later (this is %s)", sqlite3_libversion());
    }
    return SQLITE_ERROR;
  }
  pEnv = tsEnvNew(db);
  if( pEnv==0 ) return SQLITE_NOMEM;
  for(i=0; rc==SQLITE_OK && i<sizeof(aReg)/sizeof(aReg[0]); i++){
    rc = aReg[i].x(db, pEnv);
    if( rc!=SQLITE_OK && pzErrMsg ){
      *pzErrMsg = sqlite3_mprintf("tslite: registering %s failed: %s",
                                  aReg[i].zName, sqlite3_errstr(rc));
    }
  }
  tsEnvUnref(pEnv);   /* registrations hold their own references */
  return rc;
}
