/*
** test_maintain.c: ts_maintain paths a shell test cannot time: a writer
** changing a moved chunk between upload and commit aborts the round (upload
** deleted, rows kept in the memory tier, the next pass moves them), and a
** second ts_maintain during a round returns at once naming the live lease
** holder.  Under build/asan it also checks ts_maintain leaks nothing.
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
/* ext/tslite.h (not included: it routes sqlite3_* through the extension API). */
extern void (*tsMaintainTestHook)(sqlite3 *db, const char *zPoint);

static char zDb[512];
static int eMode = 0;          /* 1: write a late row; 2: call ts_maintain */
static char zSeen[1024];

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

static void hook(sqlite3 *dbMain, const char *zPoint){
  sqlite3 *db = 0;
  char *z;
  (void)dbMain;
  if( strcmp(zPoint, "uploaded")!=0 || eMode==0 ) return;
  sqlite3_open(zDb, &db);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_exec(db, "SELECT ts_debug_set_now('2024-05-03T12:00:00Z')", 0, 0, 0);
  if( eMode==1 ){
    /* A late row inside the first chunk of series h0: that chunk is rewritten. */
    if( sqlite3_exec(db, "INSERT INTO cpu(time, host, v) VALUES(1714608005000000000, 'h0', 42)",
                     0, 0, 0)!=SQLITE_OK ){
      snprintf(zSeen, sizeof zSeen, "insert failed: %s", sqlite3_errmsg(db));
    }else{
      snprintf(zSeen, sizeof zSeen, "inserted");
    }
  }else{
    z = q1(db, "SELECT json_extract(ts_maintain('cpu'), '$.tables[0].busy') GLOB '*:*:*'");
    snprintf(zSeen, sizeof zSeen, "%s", z);
    free(z);
  }
  eMode = 0;
  sqlite3_close(db);
}

int main(void){
  sqlite3 *db = 0;
  char zDir[256], zStore[600];
  char *z;
  snprintf(zDir, sizeof zDir, "/tmp/tslite-maint-XXXXXX");
  if( mkdtemp(zDir)==0 ){ printf("FAIL maintain: mkdtemp\n"); return 1; }
  snprintf(zDb, sizeof zDb, "%s/x.db", zDir);
  snprintf(zStore, sizeof zStore, "%s/x.db.tslite", zDir);
  sqlite3_auto_extension((void(*)(void))sqlite3_tslite_init);
  sqlite3_open(zDb, &db);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_exec(db, "PRAGMA journal_mode=wal", 0, 0, 0);
  TT_CHECK("maintain setup", sqlite3_exec(db,
    "SELECT ts_debug_set_now('2024-05-03T12:00:00Z');"
    "CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, v DOUBLE, magnetic_writes=true);"
    "WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM r WHERE i<1999)"
    " INSERT INTO cpu(time, host, v) SELECT 1714608000000000000 + i*60000000000, 'h'||(i%2), i FROM r;",
    0, 0, 0)==SQLITE_OK);
  tsMaintainTestHook = hook;

  eMode = 1;
  z = q1(db, "SELECT json_extract(ts_maintain('cpu'), '$.tables[0].rounds_aborted',"
             " '$.tables[0].rows_moved', '$.tables[0].objects_written')");
  TT_EQ_STR("maintain: a chunk changed before commit aborts the round", z, "[1,0,0]");
  free(z);
  TT_EQ_STR("maintain: the concurrent write happened", zSeen, "inserted");
  TT_EQ_I64("maintain: the aborted round's upload is deleted", ttCountParquet(zStore), 0);
  z = q1(db, "SELECT (SELECT count(*) FROM cpu) || '|' || (SELECT count(*) FROM cpu_objects)");
  TT_EQ_STR("maintain: rows stay in the memory tier after an abort", z, "2001|0");
  free(z);

  eMode = 2;
  zSeen[0] = 0;
  z = q1(db, "SELECT json_extract(ts_maintain('cpu'), '$.tables[0].rounds_aborted',"
             " '$.tables[0].rows_moved')");
  TT_EQ_STR("maintain: the next pass moves the rows older than the boundary", z, "[0,1801]");
  free(z);
  TT_EQ_STR("maintain: a second maintainer during a round is told who holds the lease", zSeen, "1");
  z = q1(db, "SELECT (SELECT total(nrow) FROM cpu_chunks) || '|' || (SELECT sum(nrow) FROM cpu_objects)"
             " || '|' || (SELECT count(*) FROM cpu_config WHERE k='cold.lease')");
  TT_EQ_STR("maintain: memory + manifest rows = rows written; lease released", z, "200.0|1801|0");
  free(z);
  TT_EQ_I64("maintain: objects in the store = manifest rows", ttCountParquet(zStore), 2);
  tsMaintainTestHook = 0;

  /* The table handle: "schema.table" names, errors from tsTableOpen, and the
  ** same connection's handle sees the shadow tables ts_maintain changed. */
  z = q1(db, "SELECT json_extract(ts_maintain('main.cpu'), '$.tables[0].table')");
  TT_EQ_STR("maintain: ts_maintain('main.cpu') names the table through its handle", z, "cpu");
  free(z);
  z = q1(db, "SELECT ts_maintain('nope')");
  TT_EQ_STR("maintain: an unknown table is named", z,
            "ts_maintain: no timeseries table named 'nope' in schema main");
  free(z);
  z = q1(db, "SELECT ts_maintain('temp.cpu')");
  TT_EQ_STR("maintain: a table of another schema is looked up there", z,
            "ts_maintain: no timeseries table named 'cpu' in schema temp");
  free(z);
  z = q1(db, "INSERT INTO cpu(time, host, v) VALUES(1714733000000000000, 'h0', 7) RETURNING 'ok'");
  TT_EQ_STR("maintain: the handle writes after ts_maintain", z, "ok");
  free(z);
  z = q1(db, "SELECT ts_check('cpu') || '|' || (SELECT sum(nrow) FROM cpu_chunks) || '|' || (SELECT count(*) FROM cpu)");
  TT_EQ_STR("maintain: ts_check ok and the new row counted after ts_maintain", z, "ok|201|2002");
  free(z);
  sqlite3_close(db);

  /* Storage options are checked again before the store is opened
  ** (s3/storeopt.h): values the CREATE let through, or stored in _config,
  ** fail with the option's name. */
  sqlite3_open(":memory:", &db);
  TT_CHECK("maintain: option tables", sqlite3_exec(db,
    "CREATE VIRTUAL TABLE m USING timeseries(h DIMENSION, v DOUBLE);"
    "CREATE VIRTUAL TABLE d USING timeseries(h DIMENSION, v DOUBLE, storage='file:///data/../etc');"
    "CREATE VIRTUAL TABLE b USING timeseries(h DIMENSION, v DOUBLE, storage='s3://Bad_Bucket/x');"
    "CREATE VIRTUAL TABLE e USING timeseries(h DIMENSION, v DOUBLE, storage='file:///tmp/tslite-e');",
    0, 0, 0)==SQLITE_OK);
  z = q1(db, "SELECT ts_maintain('m')");
  TT_EQ_STR("maintain: in-memory database without storage names the option", z,
            "ts_maintain m: the database is in memory or temporary, so it has no default storage "
            "directory: create the table with the option storage = 's3://bucket/prefix' or "
            "'file:///abs/dir'");
  free(z);
  z = q1(db, "SELECT ts_maintain('d')");
  TT_EQ_STR("maintain: storage with '..' is refused", z,
            "ts_maintain d: bad value for storage: 'file:///data/../etc' (path: no '.' or '..' "
            "segment (give the normalised absolute path))");
  free(z);
  z = q1(db, "SELECT ts_maintain('b')");
  TT_EQ_STR("maintain: a bad bucket name is refused", z,
            "ts_maintain b: bad value for storage: 's3://Bad_Bucket/x' (bucket name: only "
            "lower-case letters, digits, '.' and '-')");
  free(z);
  /* encryption is a table option (schema.c), checked at CREATE. */
  {
    char *zE = 0;
    TT_CHECK("maintain: server-side encryption on a directory is refused at CREATE",
      sqlite3_exec(db, "CREATE VIRTUAL TABLE e2 USING timeseries(h DIMENSION, v DOUBLE, "
                   "storage='file:///tmp/tslite-e', encryption='sse_s3')", 0, 0, &zE)==SQLITE_ERROR
      && zE && strcmp(zE, "timeseries e2: encryption 'sse_s3' is server-side encryption and needs "
                      "s3:// storage (use 'client' to encrypt objects in a directory)")==0);
    sqlite3_free(zE);
  }
  sqlite3_close(db);
  return tt_done();
}
