/*
** pq_vtab.c: the parquet virtual table.  (Placeholder registration; the module lands with its issue.)
*/
#include "tslite.h"

int tsPqVtabRegister(sqlite3 *db, TsEnv *pEnv){
  (void)db; (void)pEnv;
  return SQLITE_OK;
}
