/*
** crash_writer.c: the child of tests/sh/crash_table.sh.
**
**   crash_writer write DB     append transactions until killed, printing
**                             "commit N" after each COMMIT returns
**   crash_writer verify DB N  check the table after a kill: transaction N
**                             (the last one reported committed) and all
**                             before it are present exactly once, nothing
**                             else is (a later transaction may be present
**                             only whole: its COMMIT may have finished
**                             without the report), rolled-back savepoint rows
**                             are absent, and ts_check says ok.  Prints one
**                             PASS or FAIL line.
**
** Transaction i writes ROWS rows of table c (5 series) whose BIGINT measure
** txn = i; times interleave with transaction i-1's so every other flush
** merges into existing chunks.  Each transaction also re-sends two rows of
** transaction i-1 unchanged (idempotent duplicates checked against
** committed chunks) and writes junk rows (txn = -1) inside a savepoint that
** it rolls back.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sqlite3_tslite_init(sqlite3*, char**, const sqlite3_api_routines*);

#define NOW   1714564800000000000LL   /* 2024-05-01T12:00:00Z */
#define ROWS  97
#define MS    1000000LL

static void fail(sqlite3 *db, const char *zWhat){
  printf("FAIL crash: %s: %s\n", zWhat, db ? sqlite3_errmsg(db) : "");
  exit(1);
}

static void exec(sqlite3 *db, const char *zSql){
  if( sqlite3_exec(db, zSql, 0, 0, 0)!=SQLITE_OK ) fail(db, zSql);
}

static long long rowTime(long long i, int j){
  return NOW - 5*3600*1000*MS + ((i/2)*ROWS*2 + j*2 + (i%2))*MS;
}

static void bindRow(sqlite3_stmt *p, long long i, int j){
  char z[16];
  snprintf(z, sizeof(z), "s%d", j%5);
  sqlite3_bind_int64(p, 1, rowTime(i, j));
  sqlite3_bind_text(p, 2, z, -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(p, 3, (double)((i*31 + j) % 1000) / 4.0);
  sqlite3_bind_int64(p, 4, i);
}

int main(int argc, char **argv){
  sqlite3 *db;
  sqlite3_stmt *pIns, *p;
  long long i = 0;
  int j;
  if( argc<3 ){ fprintf(stderr, "usage: crash_writer write|verify DB [N]\n"); return 2; }
  sqlite3_auto_extension((void(*)(void))sqlite3_tslite_init);
  if( sqlite3_open(argv[2], &db)!=SQLITE_OK ) fail(db, "open");
  sqlite3_busy_timeout(db, 10000);
  exec(db, "SELECT ts_debug_set_now(1714564800000000000)");
  exec(db, "CREATE VIRTUAL TABLE IF NOT EXISTS c USING timeseries(s DIMENSION, v DOUBLE, txn BIGINT)");
  if( strcmp(argv[1], "verify")==0 ){
    long long nLast = argc>3 ? atoll(argv[3]) : -1, nMax = -1, nRow = 0, nJunk = 0;
    char *zCheck = 0;
    if( sqlite3_prepare_v2(db, "SELECT coalesce(max(txn), -1), count(*), count(*) FILTER (WHERE txn<0),"
                           " ts_check('c') FROM c", -1, &p, 0) ) fail(db, "prepare verify");
    if( sqlite3_step(p)!=SQLITE_ROW ) fail(db, "verify");
    nMax = sqlite3_column_int64(p, 0);
    nRow = sqlite3_column_int64(p, 1);
    nJunk = sqlite3_column_int64(p, 2);
    zCheck = sqlite3_mprintf("%s", sqlite3_column_text(p, 3));
    sqlite3_finalize(p);
    if( strcmp(zCheck, "ok")!=0 ){
      printf("FAIL crash: ts_check after kill: %s\n", zCheck);
      return 1;
    }
    if( nMax<nLast || nMax>nLast+1 ){
      printf("FAIL crash: last reported commit %lld, table has transactions up to %lld\n", nLast, nMax);
      return 1;
    }
    if( nJunk || nRow!=(nMax+1)*ROWS ){
      printf("FAIL crash: %lld rows (%lld rolled-back), expected %lld\n", nRow, nJunk, (nMax+1)*ROWS);
      return 1;
    }
    /* every row of every transaction, exactly once: one grouped scan
    ** (a query per transaction made verification quadratic in the run) */
    if( sqlite3_prepare_v2(db, "SELECT txn, count(*), count(DISTINCT time) FROM c"
                           " GROUP BY txn ORDER BY txn", -1, &p, 0) ) fail(db, "prepare txn");
    for(i=0; i<=nMax; i++){
      if( sqlite3_step(p)!=SQLITE_ROW || sqlite3_column_int64(p, 0)!=i
       || sqlite3_column_int64(p, 1)!=ROWS || sqlite3_column_int64(p, 2)!=ROWS ){
        printf("FAIL crash: transaction %lld is not present exactly once\n", i);
        return 1;
      }
    }
    sqlite3_finalize(p);
    printf("PASS crash: after kill: %lld transactions, %lld rows, ts_check ok (last reported %lld)\n",
           nMax+1, nRow, nLast);
    sqlite3_free(zCheck);
    sqlite3_close(db);
    return 0;
  }
  if( sqlite3_prepare_v2(db, "SELECT coalesce(max(txn), -1) + 1 FROM c", -1, &p, 0) ) fail(db, "max");
  if( sqlite3_step(p)==SQLITE_ROW ) i = sqlite3_column_int64(p, 0);
  sqlite3_finalize(p);
  if( sqlite3_prepare_v2(db, "INSERT INTO c(time, s, v, txn) VALUES(?1, ?2, ?3, ?4)", -1, &pIns, 0) ){
    fail(db, "prepare");
  }
  for(;; i++){
    exec(db, "BEGIN");
    for(j=0; j<ROWS; j++){
      bindRow(pIns, i, j);
      if( sqlite3_step(pIns)!=SQLITE_DONE ) fail(db, "insert");
      sqlite3_reset(pIns);
      if( j==ROWS/2 ){
        /* rows in a savepoint that is rolled back must never appear */
        exec(db, "SAVEPOINT junk");
        exec(db, "INSERT INTO c(time, s, v, txn) VALUES(1714564000000000000, 'junk', 1, -1)");
        bindRow(pIns, i+2, j);
        sqlite3_bind_int64(pIns, 4, -1);
        if( sqlite3_step(pIns)!=SQLITE_DONE ) fail(db, "junk insert");
        sqlite3_reset(pIns);
        exec(db, "ROLLBACK TO junk; RELEASE junk");
      }
    }
    if( i>0 ){
      /* idempotent re-sends of the previous transaction */
      for(j=0; j<2; j++){
        bindRow(pIns, i-1, j*7);
        if( sqlite3_step(pIns)!=SQLITE_DONE ) fail(db, "re-send");
        sqlite3_reset(pIns);
      }
    }
    exec(db, "COMMIT");
    printf("commit %lld\n", i);
    fflush(stdout);
  }
}
