/*
** unload.c: ts_unload().  (Placeholder registration; the module lands with its issue.)
*/
#include "tslite.h"

int tsUnloadRegister(sqlite3 *db, TsEnv *pEnv){
  (void)db; (void)pEnv;
  return SQLITE_OK;
}
