/*
** vtab.c: the timeseries virtual table.  (Placeholder registration; the module lands with its issue.)
*/
#include "tslite.h"

int tsVtabRegister(sqlite3 *db, TsEnv *pEnv){
  (void)db; (void)pEnv;
  return SQLITE_OK;
}
