/*
** backup.c: `tslite backup DBFILE TABLE URI [OPTIONS_JSON]` and
** `tslite restore URI DBFILE NEW_TABLE [OPTIONS_JSON]`, thin wrappers over
** the SQL functions ts_backup() and ts_restore() (ext/backup.c,
** ext/restore.c; docs/backup.md).  Each prints the function's JSON result on
** stdout and exits 0, or prints "tslite <cmd>: <message>" on stderr and
** exits 1; a usage error exits 2.
*/
#include "cli.h"
#include <stdio.h>
#include <string.h>

/* Run "SELECT <zFunc>(?1, ?2 [, ?3])" on zDbFile with the arguments bound. */
static int cliRun(const char *zCmd, const char *zDbFile, const char *zSql,
                  const char *z1, const char *z2, const char *z3){
  sqlite3 *db = tsCliOpen(zDbFile);
  sqlite3_stmt *pStmt = 0;
  int rc, ret = 1;
  if( db==0 ) return 1;
  rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pStmt, 1, z1, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 2, z2, -1, SQLITE_STATIC);
    if( z3 ) sqlite3_bind_text(pStmt, 3, z3, -1, SQLITE_STATIC);
    if( sqlite3_step(pStmt)==SQLITE_ROW ){
      printf("%s\n", (const char*)sqlite3_column_text(pStmt, 0));
      ret = 0;
    }
  }
  if( ret ) fprintf(stderr, "tslite %s: %s\n", zCmd, sqlite3_errmsg(db));
  sqlite3_finalize(pStmt);
  sqlite3_close(db);
  return ret;
}

int tsCliBackup(int argc, char **argv){
  if( argc>1 && strcmp(argv[1], "--help")==0 ){
    printf("usage: tslite backup DBFILE TABLE URI [OPTIONS_JSON]\n"
           "Backs up timeseries table TABLE of DBFILE (both tiers) to URI (s3://bucket/prefix or\n"
           "file:///dir): the first backup to a location is full, later ones copy only what changed.\n"
           "OPTIONS_JSON: {\"keep\":N, \"keep_days\":D, \"orphan_grace\":\"1h\", \"encryption\":\"sse_s3\"|\"sse_kms\",\n"
           "\"kms_key\":\"...\"}.  Prints the summary JSON (rows, files, bytes, new_files, new_bytes).\n"
           "See docs/backup.md.\n");
    return 0;
  }
  if( argc<4 || argc>5 ){
    fprintf(stderr, "usage: tslite backup DBFILE TABLE URI [OPTIONS_JSON]\n");
    return 2;
  }
  return cliRun("backup", argv[1], argc==5 ? "SELECT ts_backup(?1, ?2, ?3)" : "SELECT ts_backup(?1, ?2)",
                argv[2], argv[3], argc==5 ? argv[4] : 0);
}

int tsCliRestore(int argc, char **argv){
  if( argc>1 && strcmp(argv[1], "--help")==0 ){
    printf("usage: tslite restore URI DBFILE NEW_TABLE [OPTIONS_JSON]\n"
           "Restores the newest backup in URI (or OPTIONS_JSON's \"backup\" id) into a new table\n"
           "NEW_TABLE of DBFILE, after verifying every file's SHA-256.  OPTIONS_JSON may also set\n"
           "memory_retention, magnetic_retention, magnetic_writes, partition_enforcement, storage and\n"
           "the s3_* options (default: the source table's).  See docs/backup.md.\n");
    return 0;
  }
  if( argc<4 || argc>5 ){
    fprintf(stderr, "usage: tslite restore URI DBFILE NEW_TABLE [OPTIONS_JSON]\n");
    return 2;
  }
  return cliRun("restore", argv[2], argc==5 ? "SELECT ts_restore(?1, ?2, ?3)" : "SELECT ts_restore(?1, ?2)",
                argv[1], argv[3], argc==5 ? argv[4] : 0);
}
