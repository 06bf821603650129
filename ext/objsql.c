/*
** objsql.c: ts_object_* SQL glue over s3/objstore.h.  (Placeholder registration; the module lands with its issue.)
*/
#include "tslite.h"

int tsObjSqlRegister(sqlite3 *db, TsEnv *pEnv){
  (void)db; (void)pEnv;
  return SQLITE_OK;
}
