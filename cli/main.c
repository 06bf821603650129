/*
** main.c: the `tslite` program's entry point and subcommand table (cli.h).
** A new subcommand adds one line to aCmd[] and one file cli/cmd_<name>.c.
*/
#include "cli.h"
#include <stdio.h>
#include <string.h>

int sqlite3_tslite_init(sqlite3 *db, char **pzErrMsg, const struct sqlite3_api_routines *pApi);

static const struct {
  const char *zName;                  /* subcommand */
  int (*xMain)(int, char**);          /* its entry point (argv[0] = name) */
  const char *zUsage;                 /* one line for `tslite --help` */
} aCmd[] = {
  { "load",    tsCliLoad,    "load DBFILE CONFIG.json  run a batch load task (ts_batch_load) with a progress bar" },
  { "version", tsCliVersion, "version                 print the tslite and SQLite versions" },
  { "ingest",  tsCliIngest,  "ingest DBFILE           line protocol on stdin into tables (Telegraf execd)" },
  { "backup",  tsCliBackup,  "backup DBFILE TABLE URI [OPTIONS_JSON]    back up a table (full, then incremental)" },
  { "scheduler", tsCliScheduler, "scheduler DBFILE...     the daemon: due scheduled queries and ts_maintain, JSON log" },
  { "restore", tsCliRestore, "restore URI DBFILE NEW_TABLE [OPTIONS_JSON]  restore a backup into a new table" },
};
#define TS_NCMD ((int)(sizeof(aCmd)/sizeof(aCmd[0])))

sqlite3 *tsCliOpen(const char *zFile){
  sqlite3 *db = 0;
  int rc;
  /* The extension is linked in statically: SQLite hands it its API table
  ** when it runs as an automatic extension (registering twice is a no-op). */
  sqlite3_auto_extension((void(*)(void))sqlite3_tslite_init);
  rc = sqlite3_open_v2(zFile, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE, 0);
  if( rc!=SQLITE_OK ){
    fprintf(stderr, "tslite: %s: %s\n", zFile, db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    return 0;
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

int tsCliVersion(int argc, char **argv){
  sqlite3 *db;
  sqlite3_stmt *pStmt = 0;
  (void)argc; (void)argv;
  if( argc>1 && strcmp(argv[1], "--help")==0 ){
    printf("usage: tslite version\nPrints the versions of tslite and of the SQLite it runs on.\n");
    return 0;
  }
  db = tsCliOpen(":memory:");
  if( db==0 ) return 1;
  if( sqlite3_prepare_v2(db, "SELECT tslite_version(), sqlite_version()", -1, &pStmt, 0)==SQLITE_OK
   && sqlite3_step(pStmt)==SQLITE_ROW ){
    printf("tslite %s (SQLite %s)\n", sqlite3_column_text(pStmt, 0), sqlite3_column_text(pStmt, 1));
  }
  sqlite3_finalize(pStmt);
  sqlite3_close(db);
  return 0;
}

static void usage(FILE *f){
  int i;
  fprintf(f, "usage: tslite <command> [arguments]   (tslite <command> --help for details)\n\ncommands:\n");
  for(i=0; i<TS_NCMD; i++) fprintf(f, "  %s\n", aCmd[i].zUsage);
}

int main(int argc, char **argv){
  int i;
  if( argc<2 || strcmp(argv[1], "--help")==0 || strcmp(argv[1], "-h")==0 ){
    usage(argc<2 ? stderr : stdout);
    return argc<2 ? 2 : 0;
  }
  for(i=0; i<TS_NCMD; i++){
    if( strcmp(argv[1], aCmd[i].zName)==0 ) return aCmd[i].xMain(argc-1, argv+1);
  }
  fprintf(stderr, "tslite: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
