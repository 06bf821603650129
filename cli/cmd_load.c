/*
** cmd_load.c: `tslite load DBFILE CONFIG.json` and `tslite load --resume
** DBFILE TASK_ID` (cli.h): run a batch load task (ts_batch_load, DESIGN
** section 4) and show its progress.
**
** How it works: the main thread runs SELECT ts_batch_load(?) on its
** connection.  A watcher thread opens a second connection to the same file
** and polls the task row every 200 ms: the loader commits its progress with
** every batch, so the row advances while the load runs (readers are not
** blocked by the writer's batches, in WAL or rollback mode).  On a terminal
** (stderr is a tty) the watcher redraws one progress line:
**   [##########          ]  50%  12.0/24.0 MB  123456 records  61.7k rec/s  ETA 0:02
** otherwise it prints a plain line at most once a second when the counts
** changed:
**   progress: 12000000/24000000 bytes, 123456 records, 2 failed
** At the end the result JSON goes to stdout and a summary to stderr.  Exit
** status: 0 SUCCEEDED, 1 FAILED or an error, 2 usage.
*/
#include "cli.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct Watch Watch;
struct Watch {
  const char *zFile;        /* database file */
  const char *zTaskId;      /* task to watch, or NULL: the newest IN_PROGRESS one */
  sqlite3_int64 iStartNs;   /* tasks created before this are not ours */
  int bTty;                 /* draw a bar */
  volatile int bStop;       /* set by the main thread */
  pthread_mutex_t mu;
  int bDrawn;               /* a bar line is on the terminal */
};

static double nowSec(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec/1e9;
}

static void fmtCount(char *z, size_t n, double v){
  if( v>=1e6 ) snprintf(z, n, "%.1fM", v/1e6);
  else if( v>=1e3 ) snprintf(z, n, "%.1fk", v/1e3);
  else snprintf(z, n, "%.0f", v);
}

static void *watchMain(void *pArg){
  Watch *w = (Watch*)pArg;
  sqlite3 *db = 0;
  sqlite3_stmt *pS = 0;
  double t0 = nowSec(), tLastLine = 0;
  sqlite3_int64 nLastRec = -1;
  while( !w->bStop ){
    usleep(200*1000);
    if( w->bStop ) break;
    if( db==0 ){
      /* the file may not exist before the loader's first write */
      if( sqlite3_open_v2(w->zFile, &db, SQLITE_OPEN_READONLY, 0)!=SQLITE_OK ){
        sqlite3_close(db);
        db = 0;
        continue;
      }
      sqlite3_busy_timeout(db, 100);
    }
    if( pS==0 && sqlite3_prepare_v2(db,
          "SELECT RecordsProcessed, ParseFailures+RecordIngestionFailures+FileFailures,"
          " BytesMetered, BytesTotal, FileIndex, FileCount FROM ts_batch_load_tasks"
          " WHERE (?1 IS NOT NULL AND TaskId=?1)"
          "    OR (?1 IS NULL AND TaskStatus='IN_PROGRESS' AND CreationTime>=?2)"
          " ORDER BY CreationTime DESC LIMIT 1", -1, &pS, 0)!=SQLITE_OK ){
      sqlite3_finalize(pS);
      pS = 0;
      continue;   /* the task table does not exist yet */
    }
    if( w->zTaskId ) sqlite3_bind_text(pS, 1, w->zTaskId, -1, SQLITE_STATIC);
    sqlite3_bind_int64(pS, 2, w->iStartNs);
    if( sqlite3_step(pS)==SQLITE_ROW ){
      sqlite3_int64 nRec = sqlite3_column_int64(pS, 0), nFail = sqlite3_column_int64(pS, 1);
      sqlite3_int64 nB = sqlite3_column_int64(pS, 2), nTot = sqlite3_column_int64(pS, 3);
      int iFile = sqlite3_column_int(pS, 4), nFile = sqlite3_column_int(pS, 5);
      double dt = nowSec() - t0, rate = dt>0 ? nRec/dt : 0, frac = nTot>0 ? (double)nB/nTot : 0;
      if( frac>1 ) frac = 1;
      pthread_mutex_lock(&w->mu);
      if( w->bTty && !w->bStop ){
        char zBar[21], zRate[32], zRec[32], zEta[32];
        int i, nFill = (int)(frac*20);
        double eta = frac>0.001 ? dt*(1-frac)/frac : -1;
        for(i=0; i<20; i++) zBar[i] = i<nFill ? '#' : ' ';
        zBar[20] = 0;
        fmtCount(zRate, sizeof(zRate), rate);
        fmtCount(zRec, sizeof(zRec), (double)nRec);
        if( eta>=0 ) snprintf(zEta, sizeof(zEta), "%d:%02d", (int)eta/60, (int)eta%60);
        else snprintf(zEta, sizeof(zEta), "?");
        fprintf(stderr, "\r[%s] %3d%%  %.1f/%.1f MB  %s records  %s rec/s  file %d/%d  %lld failed  ETA %s \033[K",
                zBar, (int)(frac*100), nB/1e6, nTot/1e6, zRec, zRate, iFile<nFile ? iFile+1 : nFile,
                nFile, (long long)nFail, zEta);
        fflush(stderr);
        w->bDrawn = 1;
      }else if( !w->bTty && nRec!=nLastRec && nowSec()-tLastLine>=1.0 ){
        fprintf(stderr, "progress: %lld/%lld bytes, %lld records, %lld failed, file %d/%d\n",
                (long long)nB, (long long)nTot, (long long)nRec, (long long)nFail,
                iFile<nFile ? iFile+1 : nFile, nFile);
        tLastLine = nowSec();
        nLastRec = nRec;
      }
      pthread_mutex_unlock(&w->mu);
    }
    sqlite3_reset(pS);
  }
  sqlite3_finalize(pS);
  sqlite3_close(db);
  return 0;
}

static char *readFile(const char *zPath){
  FILE *f = fopen(zPath, "rb");
  char *z = 0;
  long n;
  if( f==0 ) return 0;
  if( fseek(f, 0, SEEK_END)==0 && (n = ftell(f))>=0 && n<(16L<<20) && fseek(f, 0, SEEK_SET)==0 ){
    z = malloc((size_t)n+1);
    if( z && fread(z, 1, (size_t)n, f)!=(size_t)n ){ free(z); z = 0; }
    if( z ) z[n] = 0;
  }
  fclose(f);
  return z;
}

static void usageLoad(FILE *f){
  fprintf(f,
    "usage: tslite load DBFILE CONFIG.json\n"
    "       tslite load --resume DBFILE TASK_ID\n"
    "Runs a batch load task (ts_batch_load; see docs/batch-load.md) on DBFILE and shows\n"
    "its progress: a bar on a terminal, plain 'progress:' lines otherwise.  The result\n"
    "JSON ({\"TaskId\",\"TaskStatus\",\"ProgressReport\"}) is printed on stdout.\n"
    "--resume continues a stopped task (after a crash or an interrupt) from its\n"
    "last committed batch.  Exit status: 0 SUCCEEDED, 1 FAILED or error, 2 usage.\n");
}

int tsCliLoad(int argc, char **argv){
  sqlite3 *db;
  sqlite3_stmt *pS = 0;
  Watch w;
  pthread_t th;
  int bResume = 0, rc = 1, bThread = 0;
  const char *zDb, *zArg;
  char *zConfig = 0;
  struct timespec ts;
  if( argc>1 && strcmp(argv[1], "--help")==0 ){ usageLoad(stdout); return 0; }
  if( argc>1 && strcmp(argv[1], "--resume")==0 ){ bResume = 1; argv++; argc--; }
  if( argc!=3 ){ usageLoad(stderr); return 2; }
  zDb = argv[1]; zArg = argv[2];
  if( !bResume ){
    zConfig = readFile(zArg);
    if( zConfig==0 ){ fprintf(stderr, "tslite: cannot read %s\n", zArg); return 1; }
  }
  db = tsCliOpen(zDb);
  if( db==0 ){ free(zConfig); return 1; }
  memset(&w, 0, sizeof(w));
  w.zFile = zDb;
  w.zTaskId = bResume ? zArg : 0;
  clock_gettime(CLOCK_REALTIME, &ts);
  w.iStartNs = (sqlite3_int64)ts.tv_sec*1000000000 + ts.tv_nsec - 1000000000;
  w.bTty = isatty(2);
  pthread_mutex_init(&w.mu, 0);
  if( strcmp(zDb, ":memory:")!=0 && pthread_create(&th, 0, watchMain, &w)==0 ) bThread = 1;
  if( sqlite3_prepare_v2(db, bResume ? "SELECT ts_batch_load_resume(?)" : "SELECT ts_batch_load(?)",
                         -1, &pS, 0)==SQLITE_OK ){
    sqlite3_bind_text(pS, 1, bResume ? zArg : zConfig, -1, SQLITE_STATIC);
    if( sqlite3_step(pS)==SQLITE_ROW ){
      const char *zRes = (const char*)sqlite3_column_text(pS, 0);
      w.bStop = 1;
      pthread_mutex_lock(&w.mu);
      if( w.bDrawn ) fprintf(stderr, "\r\033[K");
      pthread_mutex_unlock(&w.mu);
      printf("%s\n", zRes ? zRes : "");
      rc = zRes && strstr(zRes, "\"TaskStatus\":\"SUCCEEDED\"") ? 0 : 1;
    }
  }
  w.bStop = 1;
  if( bThread ) pthread_join(th, 0);
  if( w.bDrawn && rc ) fprintf(stderr, "\r\033[K");
  if( rc && sqlite3_errcode(db)!=SQLITE_OK && sqlite3_errcode(db)!=SQLITE_ROW
   && sqlite3_errcode(db)!=SQLITE_DONE ){
    fprintf(stderr, "tslite: %s\n", sqlite3_errmsg(db));
  }else{
    /* the summary of the task */
    sqlite3_stmt *pT = 0;
    if( sqlite3_prepare_v2(db, "SELECT TaskId, TaskStatus, RecordsProcessed, RecordsIngested,"
          " ParseFailures, RecordIngestionFailures, FileFailures, BytesMetered, ReportFile"
          " FROM ts_batch_load_tasks WHERE TaskId=json_extract(?, '$.TaskId')", -1, &pT, 0)==SQLITE_OK ){
      sqlite3_bind_text(pT, 1, (const char*)sqlite3_column_text(pS, 0), -1, SQLITE_TRANSIENT);
      if( sqlite3_step(pT)==SQLITE_ROW ){
        fprintf(stderr, "task %s %s: %lld records processed, %lld ingested, %lld parse failures,"
                " %lld ingestion failures, %lld file failures, %lld bytes%s%s\n",
                sqlite3_column_text(pT, 0), sqlite3_column_text(pT, 1),
                (long long)sqlite3_column_int64(pT, 2), (long long)sqlite3_column_int64(pT, 3),
                (long long)sqlite3_column_int64(pT, 4), (long long)sqlite3_column_int64(pT, 5),
                (long long)sqlite3_column_int64(pT, 6), (long long)sqlite3_column_int64(pT, 7),
                sqlite3_column_type(pT, 8)!=SQLITE_NULL ? "; error report " : "",
                sqlite3_column_type(pT, 8)!=SQLITE_NULL ? (const char*)sqlite3_column_text(pT, 8) : "");
      }
    }
    sqlite3_finalize(pT);
  }
  sqlite3_finalize(pS);
  pthread_mutex_destroy(&w.mu);
  sqlite3_close(db);
  free(zConfig);
  return rc;
}
