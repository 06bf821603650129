/* test_wlog_prepare.c: ext/write.c wlogPrepare.  A flush of a table with no
** write log ("<t>_wlog", ext/sched_inval.c) prepares nothing: the log's
** existence is looked up once per schema change, not tried (and failed) by
** every flush.  Failed prepares are counted through SQLite's error log
** (SQLITE_CONFIG_LOG: "no such table: main.src_wlog"), the lookups and
** prepares of the write log through the authorizer (every prepare that
** reads sqlite_schema for "<t>_wlog" or names the log table).  Also: a log
** created or dropped by another connection is seen by the next flush. */
#include "tt.h"
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

int sqlite3_tslite_init(sqlite3*, char**, const sqlite3_api_routines*);

static int nLogWlog = 0;    /* SQLite error-log lines that mention _wlog */
static void logCb(void *pArg, int iErr, const char *zMsg){
  (void)pArg; (void)iErr;
  if( zMsg && strstr(zMsg, "_wlog") ) nLogWlog++;
}

static int nAuthWlog = 0;   /* authorizer calls that name a _wlog table */
static int authCb(void *pArg, int op, const char *z1, const char *z2, const char *z3, const char *z4){
  (void)pArg; (void)op; (void)z2; (void)z3; (void)z4;
  if( z1 && strstr(z1, "_wlog") ) nAuthWlog++;
  return SQLITE_OK;
}

static int execOk(sqlite3 *db, const char *zSql){
  char *zErr = 0;
  int rc = sqlite3_exec(db, zSql, 0, 0, &zErr);
  if( rc!=SQLITE_OK ) printf("# %s: %s\n", zSql, zErr ? zErr : "?");
  sqlite3_free(zErr);
  return rc==SQLITE_OK;
}

static long long count(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = 0;
  long long n = -1;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    n = sqlite3_column_int64(p, 0);
  }
  sqlite3_finalize(p);
  return n;
}

int main(void){
  char zPath[64];
  sqlite3 *db = 0, *db2 = 0;
  int i, bOk = 1, nBefore;
  char zSql[200];
  snprintf(zPath, sizeof(zPath), "/tmp/test_wlog_prepare_%d.db", (int)getpid());
  unlink(zPath);
  sqlite3_config(SQLITE_CONFIG_LOG, logCb, (void*)0);
  sqlite3_auto_extension((void(*)(void))sqlite3_tslite_init);
  sqlite3_open(zPath, &db);
  sqlite3_open(zPath, &db2);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_busy_timeout(db2, 5000);

  /* The counter works: a failing prepare naming a log table is logged. */
  {
    sqlite3_stmt *p = 0;
    sqlite3_prepare_v2(db, "INSERT INTO nope_wlog VALUES(1)", -1, &p, 0);
    TT_EQ_I64("wlog: a failed prepare shows in the error log", nLogWlog, 1);
    nLogWlog = 0;
  }

  TT_CHECK("wlog: create", execOk(db, "SELECT ts_debug_set_now('2024-05-01T03:10:00Z');"
           "CREATE VIRTUAL TABLE src USING timeseries(host DIMENSION, v DOUBLE)"));
  sqlite3_set_authorizer(db, authCb, 0);
  for(i=0; i<100 && bOk; i++){
    snprintf(zSql, sizeof(zSql), "INSERT INTO src(time, host, v) VALUES(%lld, 'h%d', %d)",
             1714521600000000000LL + i*1000000000LL, i%3, i);
    bOk = execOk(db, zSql);
  }
  TT_CHECK("wlog: 100 inserts (100 flushes)", bOk);
  TT_EQ_I64("wlog: no failed prepare of the missing log", nLogWlog, 0);
  TT_EQ_I64("wlog: no statement names the missing log", nAuthWlog, 0);
  TT_EQ_I64("wlog: rows", count(db, "SELECT count(*) FROM src"), 100);

  /* Another connection creates the log: the next flush writes into it. */
  TT_CHECK("wlog: second connection creates the log", execOk(db2,
           "CREATE TABLE src_wlog(seq INTEGER PRIMARY KEY AUTOINCREMENT, sid INTEGER NOT NULL,"
           " tmin INTEGER NOT NULL, tmax INTEGER NOT NULL)"));
  bOk = 1;
  for(i=0; i<10 && bOk; i++){
    snprintf(zSql, sizeof(zSql), "INSERT INTO src(time, host, v) VALUES(%lld, 'h1', %d)",
             1714525200000000000LL + i*1000000000LL, i);
    bOk = execOk(db, zSql);
  }
  TT_CHECK("wlog: 10 more inserts", bOk);
  TT_EQ_I64("wlog: each flush logged its range", count(db, "SELECT count(*) FROM src_wlog"), 10);
  nBefore = nAuthWlog;
  TT_CHECK("wlog: the log was prepared once, not per flush", nBefore>0 && nBefore<=4);

  /* It drops it: the next flushes write no log and fail nothing. */
  TT_CHECK("wlog: second connection drops the log", execOk(db2, "DROP TABLE src_wlog"));
  nLogWlog = 0;
  bOk = 1;
  for(i=0; i<10 && bOk; i++){
    snprintf(zSql, sizeof(zSql), "INSERT INTO src(time, host, v) VALUES(%lld, 'h2', %d)",
             1714528800000000000LL + i*1000000000LL, i);
    bOk = execOk(db, zSql);
  }
  TT_CHECK("wlog: inserts after the drop", bOk);
  TT_EQ_I64("wlog: no failed prepare after the drop", nLogWlog, 0);
  TT_EQ_I64("wlog: rows at the end", count(db, "SELECT count(*) FROM src"), 120);

  /* A rolled-back CREATE of the log on this connection: the cookie goes
  ** back, the next flush looks again and writes no log. */
  TT_CHECK("wlog: create in a transaction", execOk(db, "BEGIN; CREATE TABLE src_wlog(seq INTEGER PRIMARY KEY"
           " AUTOINCREMENT, sid INTEGER NOT NULL, tmin INTEGER NOT NULL, tmax INTEGER NOT NULL);"
           " INSERT INTO src(time, host, v) VALUES(1714532400000000000, 'h0', 1);"
           " SELECT count(*) FROM src; ROLLBACK"));
  TT_CHECK("wlog: a write after the rollback", execOk(db, "CREATE TABLE other(x);"
           " INSERT INTO src(time, host, v) VALUES(1714532401000000000, 'h0', 2)"));
  TT_EQ_I64("wlog: rows after the rollback", count(db, "SELECT count(*) FROM src"), 121);

  sqlite3_close(db);
  sqlite3_close(db2);
  unlink(zPath);
  snprintf(zSql, sizeof(zSql), "%s-journal", zPath);
  unlink(zSql);
  return tt_done();
}
