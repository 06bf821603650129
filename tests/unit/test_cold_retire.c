/*
** test_cold_retire.c: objects that compaction replaces stay in the store for
** the grace period (cold-format.md section 5, "retired"), so a reader on
** another connection that started its scan before the compaction committed
** still reads its snapshot's objects to the end.  Two connections on one WAL
** database: A steps into a scan over both tiers, B runs ts_maintain (tiering
** + compaction of the objects A's snapshot names), A finishes.  With
** orphan_grace '0s' the same sequence deletes the inputs at the end of B's
** pass and A gets the error naming the object: the check that this test
** reaches the window it guards.
*/
#include <sqlite3.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tt.h"
#include "tfiles.h"

int sqlite3_tslite_init(sqlite3*, char**, const sqlite3_api_routines*);

#define NHOST 8
#define NPERHOST 216   /* every 10 min from 2024-05-02T00:00Z for 36 h */

static char *q1(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = 0;
  char *z = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    const char *t = (const char*)sqlite3_column_text(p, 0);
    z = strdup(t ? t : "NULL");
  }else{
    z = strdup(sqlite3_errmsg(db));
  }
  sqlite3_finalize(p);
  return z;
}

static sqlite3 *openDb(const char *zDb){
  sqlite3 *db = 0;
  sqlite3_open(zDb, &db);
  sqlite3_busy_timeout(db, 10000);
  return db;
}

/* One scenario; zGrace is the orphan_grace of B's compacting pass. */
static void scenario(const char *zLabel, const char *zGrace){
  char zDir[256], zDb[300], zStore[320], zName[200], zSql[400];
  sqlite3 *dbA, *dbB;
  sqlite3_stmt *pScan = 0;
  char *z;
  int rc, nRow = 0;
  snprintf(zDir, sizeof zDir, "/tmp/tslite-retire-XXXXXX");
  if( mkdtemp(zDir)==0 ){ printf("FAIL %s: mkdtemp\n", zLabel); return; }
  snprintf(zDb, sizeof zDb, "%s/x.db", zDir);
  snprintf(zStore, sizeof zStore, "%s/x.db.tslite", zDir);
  dbB = openDb(zDb);
  sqlite3_exec(dbB, "PRAGMA journal_mode=wal", 0, 0, 0);
  snprintf(zName, sizeof zName, "%s: setup and first pass", zLabel);
  z = q1(dbB,
    "SELECT ts_debug_set_now('2024-05-03T12:00:00Z');");
  free(z);
  TT_CHECK(zName, sqlite3_exec(dbB,
    "CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE, magnetic_writes=true,"
    " partition_key='host');"
    "WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM r WHERE i<8*216-1)"
    " INSERT INTO cpu(time, host, v) SELECT 1714608000000000000 + (i/8)*600000000000,"
    " 'h'||(i%8), i FROM r;"
    "SELECT ts_debug_set_now('2024-05-02T12:00:00Z');"
    "SELECT ts_maintain('cpu');", 0, 0, 0)==SQLITE_OK);
  z = q1(dbB, "SELECT count(*)>1 AND sum(nrow)=8*36 FROM cpu_objects");
  snprintf(zName, sizeof zName, "%s: the first pass writes one object per host bucket", zLabel);
  TT_EQ_STR(zName, z, "1");
  free(z);

  /* A: a scan over both tiers, stepped into its first series. */
  dbA = openDb(zDb);
  rc = sqlite3_prepare_v2(dbA, "SELECT host, time, v FROM cpu", -1, &pScan, 0);
  if( rc==SQLITE_OK && sqlite3_step(pScan)==SQLITE_ROW ) nRow = 1;
  snprintf(zName, sizeof zName, "%s: reader A has its first row", zLabel);
  TT_EQ_I64(zName, nRow, 1);

  /* B: the second pass tiers the rest of 2024-05-02 and merges each bucket's
  ** two objects of that day, replacing the objects A's snapshot names. */
  sqlite3_snprintf(sizeof zSql, zSql, "SELECT json_extract(ts_maintain('cpu', json_object('orphan_grace', %Q)),"
                   " '$.tables[0].objects_compacted') > 0", zGrace);
  sqlite3_exec(dbB, "SELECT ts_debug_set_now('2024-05-03T12:00:00Z')", 0, 0, 0);
  z = q1(dbB, zSql);
  snprintf(zName, sizeof zName, "%s: writer B compacts while A reads", zLabel);
  TT_EQ_STR(zName, z, "1");
  free(z);

  while( (rc = sqlite3_step(pScan))==SQLITE_ROW ) nRow++;
  if( zGrace[0]=='0' ){
    snprintf(zName, sizeof zName, "%s: the deleted input fails A's scan naming the object", zLabel);
    z = sqlite3_mprintf("%s", sqlite3_errmsg(dbA));
    TT_CHECK(zName, rc!=SQLITE_DONE
             && sqlite3_strglob("timeseries cpu: reading cold object cpu/date=2024-05-02/bucket=*/"
                                "*.parquet: *", z)==0);
    if( rc==SQLITE_DONE || sqlite3_strglob("timeseries cpu: reading cold object *", z) )
      printf("  (A: rc %d, %d rows, %s)\n", rc, nRow, z);
    sqlite3_free(z);
  }else{
    snprintf(zName, sizeof zName, "%s: reader A reads every row of its snapshot", zLabel);
    TT_CHECK(zName, rc==SQLITE_DONE && nRow==NHOST*NPERHOST);
    if( rc!=SQLITE_DONE || nRow!=NHOST*NPERHOST ){
      printf("  (A: rc %d, %d rows, %s)\n", rc, nRow, sqlite3_errmsg(dbA));
    }
  }
  sqlite3_finalize(pScan);

  if( zGrace[0]!='0' ){
    int nRetired;
    z = q1(dbB, "SELECT count(*) FROM cpu_config WHERE k GLOB 'cold.retired:*'");
    nRetired = atoi(z);
    free(z);
    z = q1(dbB, "SELECT count(*) FROM cpu_objects");
    snprintf(zName, sizeof zName, "%s: retired objects stay in the store", zLabel);
    TT_EQ_I64(zName, ttCountParquet(zStore), atoi(z) + nRetired);
    free(z);
    snprintf(zName, sizeof zName, "%s: every compaction input is recorded as retired", zLabel);
    TT_CHECK(zName, nRetired>=2);
    /* A pass within the grace keeps them; one with a grace of 0 deletes them. */
    z = q1(dbB, "SELECT json_extract(ts_maintain('cpu'), '$.tables[0].retired_deleted',"
                " '$.tables[0].orphans_deleted')");
    snprintf(zName, sizeof zName, "%s: a pass inside the grace period keeps them", zLabel);
    TT_EQ_STR(zName, z, "[0,0]");
    free(z);
    z = q1(dbB, "SELECT json_extract(ts_maintain('cpu', '{\"orphan_grace\":\"0s\"}'),"
                " '$.tables[0].retired_deleted', '$.tables[0].orphans_deleted')");
    snprintf(zSql, sizeof zSql, "[%d,0]", nRetired);
    snprintf(zName, sizeof zName, "%s: a pass after the grace deletes them (not counted as orphans)", zLabel);
    TT_EQ_STR(zName, z, zSql);
    free(z);
    z = q1(dbB, "SELECT (SELECT count(*) FROM cpu_objects) || '|' || (SELECT count(*) FROM cpu_config"
                " WHERE k GLOB 'cold.retired:*') || '|' || (SELECT count(*) FROM cpu) || '|' || ts_check('cpu')");
    snprintf(zSql, sizeof zSql, "%d|0|%d|ok", ttCountParquet(zStore), NHOST*NPERHOST);
    snprintf(zName, sizeof zName, "%s: store = manifest, retired list empty, every row, ts_check ok", zLabel);
    TT_EQ_STR(zName, z, zSql);
    free(z);
  }
  sqlite3_close(dbA);
  sqlite3_close(dbB);
}

int main(void){
  sqlite3_auto_extension((void(*)(void))sqlite3_tslite_init);
  scenario("retire: grace 1h", "1h");
  scenario("retire: grace 0s", "0s");
  return tt_done();
}
