/*
** test_unload_oom.c: ts_unload (ext/unload.c) and ts_write_lp
** (ext/lineproto_sql.c) under out-of-memory, SQLite's way: SQLite's
** allocator is wrapped so that the Nth allocation after a start point fails,
** and each call is run for N = 1, 2, ... until it runs without a failure.
** Every run must end in success or an error (SQLITE_NOMEM or a message),
** never a crash, a leak or a wild free (run under ASan in build/asan).  The
** first regression it guards: when the aCell allocation failed, aCol was
** uninitialised memory whose zName pointers the cleanup freed.
*/
#include <sqlite3.h>
#include "tt.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sqlite3_tslite_init(sqlite3*, char**, const sqlite3_api_routines*);

static sqlite3_mem_methods origMem;
static int nFailAt = 0;        /* fail the nFailAt-th allocation (0 = never) */
static int nAlloc = 0;         /* allocations since armed */
static int bFailed = 0;        /* an allocation was failed */

static void *oomMalloc(int n){
  if( nFailAt && ++nAlloc==nFailAt ){ bFailed = 1; return 0; }
  return origMem.xMalloc(n);
}
static void *oomRealloc(void *p, int n){
  if( nFailAt && ++nAlloc==nFailAt ){ bFailed = 1; return 0; }
  return origMem.xRealloc(p, n);
}

/* Run zSql with the Nth allocation failing, for N = 1.. until one run
** completes without a failed allocation.  Returns the number of runs, or
** -1 when a run gave an unexpected result (printed). */
static int oomLoop(sqlite3 *db, const char *zSql, const char *zExpect){
  int i;
  for(i=1; i<100000; i++){
    sqlite3_stmt *pStmt = 0;
    int rc;
    nAlloc = 0; bFailed = 0; nFailAt = i;
    rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
    if( rc==SQLITE_OK ){
      rc = sqlite3_step(pStmt);
      if( rc==SQLITE_ROW && !bFailed ){
        const char *z = (const char*)sqlite3_column_text(pStmt, 0);
        if( z==0 || strstr(z, zExpect)==0 ){
          printf("# run %d: unexpected result %s\n", i, z ? z : "NULL");
          nFailAt = 0;
          sqlite3_finalize(pStmt);
          return -1;
        }
      }
    }
    sqlite3_finalize(pStmt);
    nFailAt = 0;
    if( !bFailed ){
      if( rc!=SQLITE_ROW ){
        printf("# run %d: no allocation failed but rc=%d %s\n", i, rc, sqlite3_errmsg(db));
        return -1;
      }
      return i;
    }
    /* A failed run is fine when it reports an error or, if the failure hit
    ** something with a fallback, still succeeds. */
  }
  return -1;
}

int main(void){
  sqlite3 *db = 0;
  sqlite3_mem_methods m;
  char zDir[] = "/tmp/tslite-oom-XXXXXX";
  char zSql[600];
  int n;
  sqlite3_config(SQLITE_CONFIG_GETMALLOC, &origMem);
  m = origMem;
  m.xMalloc = oomMalloc;
  m.xRealloc = oomRealloc;
  if( sqlite3_config(SQLITE_CONFIG_MALLOC, &m)!=SQLITE_OK || mkdtemp(zDir)==0 ){
    printf("SKIP unload_oom: cannot install the allocator\n");
    return 0;
  }
  sqlite3_auto_extension((void(*)(void))sqlite3_tslite_init);
  if( sqlite3_open(":memory:", &db)!=SQLITE_OK ){ printf("FAIL unload_oom: open\n"); return 1; }
  sqlite3_exec(db, "SELECT ts_debug_set_now('2024-05-01T12:00:00Z')", 0, 0, 0);

  snprintf(zSql, sizeof(zSql),
           "SELECT ts_unload('SELECT 1 AS a, ''x'' AS b, 2.5 AS c UNION ALL SELECT 2, ''y'', NULL',"
           " 'file://%s/csv', '{\"compression\":\"none\",\"include_header\":true}')", zDir);
  n = oomLoop(db, zSql, "\"rows\":2");
  printf("# ts_unload csv: %d runs\n", n);
  TT_CHECK("ts_unload csv survives every allocation failure", n>0);

  snprintf(zSql, sizeof(zSql),
           "SELECT ts_unload('SELECT 1 AS a, ''x'' AS b, ''p'' AS part UNION ALL SELECT 2, ''y'', ''q''',"
           " 'file://%s/pq', '{\"format\":\"parquet\",\"partitioned_by\":[\"part\"]}')", zDir);
  n = oomLoop(db, zSql, "\"rows\":2");
  printf("# ts_unload parquet: %d runs\n", n);
  TT_CHECK("ts_unload parquet, partitioned, survives every allocation failure", n>0);

  n = oomLoop(db, "SELECT ts_write_lp('oomt,host=a v=1,n=2i,s=\"x\" 1714564000000000000\n"
                  "oomt,host=b v=2 1714564001000000000\nbad\noomu x=t')", "\"lines\":4");
  printf("# ts_write_lp: %d runs\n", n);
  TT_CHECK("ts_write_lp survives every allocation failure", n>0);
  {
    /* Runs that failed wrote nothing (the savepoint rolled back) or, when a
    ** failure had a fallback, the same rows: duplicates with equal values
    ** are no-ops, so the table holds each row once. */
    sqlite3_stmt *pStmt = 0;
    long long nRow = -1;
    if( sqlite3_prepare_v2(db, "SELECT count(*) FROM oomt", -1, &pStmt, 0)==SQLITE_OK
     && sqlite3_step(pStmt)==SQLITE_ROW ) nRow = sqlite3_column_int64(pStmt, 0);
    sqlite3_finalize(pStmt);
    TT_EQ_I64("ts_write_lp: each row once after the failed runs", nRow, 2);
  }

  sqlite3_close(db);
  {
    char zCmd[100];
    snprintf(zCmd, sizeof(zCmd), "rm -rf '%s'", zDir);
    if( system(zCmd)!=0 ) printf("# could not remove %s\n", zDir);
  }
  return tt_done();
}
