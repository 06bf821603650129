/*
** func.c: time, time-series and aggregate SQL functions.  (Placeholder registration; the module lands with its issue.)
*/
#include "tslite.h"

int tsFuncRegister(sqlite3 *db, TsEnv *pEnv){
  (void)db; (void)pEnv;
  return SQLITE_OK;
}
