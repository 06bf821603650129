/*
** scheduler.c: `tslite scheduler [options] DBFILE...`, the scheduler daemon.
**
** For each database, in a loop: run every due scheduled-query instance,
** late-data re-run and backup plan (ts_scheduler_run_due with max_runs 1,
** repeated, so a stop request is honoured between two of them), and every
** --maintain-interval seconds ts_maintain() (tiering, retention, orphans of
** every timeseries table).  Then sleep until the next invocation time or the
** --interval, whichever is sooner.  Every action is one JSON line on stdout:
**
**   {"ts":"<ISO>","db":"<file>","action":"start"|"run"|"backup"|"skip"|
**    "maintain"|"busy"|"error"|"stop", ...}
**
** "run" carries the run summary of ts_scheduler_run_due under "run",
** "backup" a backup plan's run (ext/sched_backup.c) under "backup".
** SIGTERM and SIGINT set a flag: the current instance finishes (or rolls
** back inside SQLite), then the daemon logs "stop" and exits 0.
** SQLITE_BUSY from other writers (after --busy-timeout) is logged as "busy"
** and retried with exponential backoff (0.1 s doubling to 10 s).
** Two daemons on one file never run one instance twice: each pass leases
** the query it works on, and each instance commits with a compare-and-set of
** its NextInvocationTime (ext/sched_run.c, ext/sched_pass.c).
**
** Test hook: with TSLITE_TEST_NOW_FILE=<path> the clock of every connection
** is set (ts_debug_set_now) from the file's content (INTEGER ns or ISO-8601)
** before each pass, so tests move time by rewriting the file.
*/
#include "cli.h"
#include "jsonw.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t schedStop = 0;
static void schedOnSignal(int sig){ (void)sig; schedStop = 1; }

typedef struct SchedOpts SchedOpts;
struct SchedOpts {
  double rInterval;          /* max seconds between passes */
  double rMaintain;          /* seconds between ts_maintain() calls; 0 = never */
  int nBusyMs;               /* busy timeout per statement */
  const char *zCatchup;      /* catchup_window or NULL */
  const char *zOwner;        /* lease owner or NULL */
  int bOnce;                 /* one pass, then exit */
};

static double schedMono(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec/1e9;
}

/* Sleep up to r seconds, waking early on a stop request. */
static void schedSleep(double r){
  double tEnd = schedMono() + r;
  while( !schedStop ){
    double left = tEnd - schedMono();
    struct timespec ts;
    if( left<=0 ) break;
    if( left>0.05 ) left = 0.05;
    ts.tv_sec = 0; ts.tv_nsec = (long)(left*1e9);
    nanosleep(&ts, 0);
  }
}

/* Print one JSON line: {"ts":..,"db":..,"action":..,<zKey>:<zRaw JSON>}. */
static void schedLog(const char *zDb, const char *zAction, const char *zKey, const char *zRaw,
                     const char *zMsg){
  TsBuf b; TsJsonW jw;
  char zTs[64];
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  snprintf(zTs, sizeof(zTs), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year+1900, tm.tm_mon+1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec/1000000);
  tsBufInit(&b); tsJwInit(&jw, &b);
  tsJwObjBegin(&jw);
  tsJwKeyStr(&jw, "ts", zTs);
  if( zDb ) tsJwKeyStr(&jw, "db", zDb);
  tsJwKeyStr(&jw, "action", zAction);
  if( zKey && zRaw ){ tsJwKey(&jw, zKey); tsJwRaw(&jw, zRaw, strlen(zRaw)); }
  if( zMsg ) tsJwKeyStr(&jw, "error", zMsg);
  tsJwObjEnd(&jw);
  if( !tsJwError(&jw) && !b.bErr ){
    fwrite(b.a, 1, b.n, stdout);
    fputc('\n', stdout);
    fflush(stdout);
  }
  tsBufFree(&b);
}

/* Set the connection's clock from TSLITE_TEST_NOW_FILE, if given. */
static void schedTestClock(sqlite3 *db){
  const char *zPath = getenv("TSLITE_TEST_NOW_FILE");
  char zBuf[64];
  FILE *f;
  size_t n;
  sqlite3_stmt *pS = 0;
  if( zPath==0 || (f = fopen(zPath, "r"))==0 ) return;
  n = fread(zBuf, 1, sizeof(zBuf)-1, f);
  fclose(f);
  while( n>0 && (zBuf[n-1]=='\n' || zBuf[n-1]==' ' || zBuf[n-1]=='\r') ) n--;
  zBuf[n] = 0;
  if( n==0 ) return;
  if( sqlite3_prepare_v2(db, "SELECT ts_debug_set_now(CASE WHEN ?1 GLOB '[0-9]*' AND ?1 NOT GLOB '*[^0-9]*'"
                         " THEN CAST(?1 AS INTEGER) ELSE ?1 END)", -1, &pS, 0)==SQLITE_OK ){
    sqlite3_bind_text(pS, 1, zBuf, -1, SQLITE_TRANSIENT);
    sqlite3_step(pS);
  }
  sqlite3_finalize(pS);
}

/* The options JSON of ts_scheduler_run_due. */
static char *schedRunOpts(const SchedOpts *o){
  TsBuf b; TsJsonW jw;
  char *z = 0;
  tsBufInit(&b); tsJwInit(&jw, &b);
  tsJwObjBegin(&jw);
  tsJwKeyInt(&jw, "max_runs", 1);
  if( o->zCatchup ) tsJwKeyStr(&jw, "catchup_window", o->zCatchup);
  if( o->zOwner ) tsJwKeyStr(&jw, "owner", o->zOwner);
  tsJwObjEnd(&jw);
  tsBufAppendByte(&b, 0);
  if( !tsJwError(&jw) && !b.bErr ) z = strdup((const char*)b.a);
  tsBufFree(&b);
  return z;
}

/*
** Run what is due in one database.  Returns 1 when SQLITE_BUSY stopped it,
** 0 otherwise; *piNext gets the next invocation time (ns) or 0.
*/
static int schedPassDb(sqlite3 *db, const char *zFile, const char *zOpts, int64_t *piNext,
                       int64_t *piNow){
  sqlite3_stmt *pRun = 0, *pEach = 0;
  int bBusy = 0, rc;
  *piNext = 0;
  rc = sqlite3_prepare_v2(db, "SELECT ts_scheduler_run_due(?1)", -1, &pRun, 0);
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(db, "SELECT 'skip', value FROM json_each(?1, '$.skipped')"
                            " UNION ALL SELECT 'run', value FROM json_each(?1, '$.runs')"
                            " UNION ALL SELECT 'backup', value FROM json_each(?1, '$.backups')"
                            " UNION ALL SELECT 'next', json_extract(?1, '$.nextInvocationTime')"
                            " UNION ALL SELECT 'busy', json_extract(?1, '$.busy')"
                            " UNION ALL SELECT 'now', json_extract(?1, '$.now')", -1, &pEach, 0);
  }
  if( rc!=SQLITE_OK ){
    schedLog(zFile, "error", 0, 0, sqlite3_errmsg(db));
    sqlite3_finalize(pRun);
    return 0;
  }
  sqlite3_bind_text(pRun, 1, zOpts, -1, SQLITE_STATIC);
  while( !schedStop ){
    int nRun = 0;
    char *zRes = 0;
    rc = sqlite3_step(pRun);
    if( rc==SQLITE_ROW ){
      const char *z = (const char*)sqlite3_column_text(pRun, 0);
      zRes = z ? strdup(z) : 0;
    }
    if( rc!=SQLITE_ROW || zRes==0 ){
      int ec = sqlite3_errcode(db);
      sqlite3_reset(pRun);
      if( ec==SQLITE_BUSY || ec==SQLITE_LOCKED ){
        schedLog(zFile, "busy", 0, 0, sqlite3_errmsg(db));
        bBusy = 1;
      }else{
        schedLog(zFile, "error", 0, 0, sqlite3_errmsg(db));
      }
      free(zRes);
      break;
    }
    sqlite3_reset(pRun);
    sqlite3_bind_text(pEach, 1, zRes, -1, SQLITE_STATIC);
    while( sqlite3_step(pEach)==SQLITE_ROW ){
      const char *zK = (const char*)sqlite3_column_text(pEach, 0);
      if( strcmp(zK, "run")==0 ){
        schedLog(zFile, "run", "run", (const char*)sqlite3_column_text(pEach, 1), 0);
        nRun++;
      }else if( strcmp(zK, "backup")==0 ){
        schedLog(zFile, "backup", "backup", (const char*)sqlite3_column_text(pEach, 1), 0);
        nRun++;
      }else if( strcmp(zK, "skip")==0 ){
        schedLog(zFile, "skip", "skipped", (const char*)sqlite3_column_text(pEach, 1), 0);
      }else if( strcmp(zK, "next")==0 ){
        *piNext = sqlite3_column_int64(pEach, 1);
      }else if( strcmp(zK, "now")==0 ){
        *piNow = sqlite3_column_int64(pEach, 1);
      }else if( strcmp(zK, "busy")==0 && sqlite3_column_int(pEach, 1) ){
        schedLog(zFile, "busy", 0, 0, "database is locked");
        bBusy = 1;
      }
    }
    sqlite3_reset(pEach);
    free(zRes);
    if( bBusy || nRun==0 ) break;
  }
  sqlite3_finalize(pRun);
  sqlite3_finalize(pEach);
  return bBusy;
}

static void schedMaintain(sqlite3 *db, const char *zFile){
  sqlite3_stmt *pS = 0;
  if( sqlite3_prepare_v2(db, "SELECT ts_maintain()", -1, &pS, 0)==SQLITE_OK
   && sqlite3_step(pS)==SQLITE_ROW ){
    schedLog(zFile, "maintain", "result", (const char*)sqlite3_column_text(pS, 0), 0);
  }else{
    int ec = sqlite3_errcode(db);
    schedLog(zFile, ec==SQLITE_BUSY || ec==SQLITE_LOCKED ? "busy" : "error", 0, 0, sqlite3_errmsg(db));
  }
  sqlite3_finalize(pS);
}

static void schedUsage(FILE *f){
  fprintf(f,
    "usage: tslite scheduler [options] DBFILE...\n"
    "Runs due scheduled queries and backup plans (ts_scheduler_run_due) and\n"
    "ts_maintain() on every DBFILE until SIGTERM or SIGINT; one JSON line per\n"
    "action on stdout.\n"
    "  --interval SECS           longest sleep between passes (default 60)\n"
    "  --maintain-interval SECS  ts_maintain() every SECS seconds; 0 = never (default 300)\n"
    "  --busy-timeout MS         wait for other writers this long per statement (default 5000)\n"
    "  --catchup-window I        run missed instances at most this far back, e.g. 1d (default 1d)\n"
    "  --owner ID                lease owner name (default host:pid)\n"
    "  --once                    one pass over every database, then exit\n");
}

int tsCliScheduler(int argc, char **argv){
  SchedOpts o;
  sqlite3 **aDb = 0;
  const char **azFile = 0;
  double *aLastMaint = 0;
  char *zOpts = 0;
  int nDb = 0, i, rc = 0;
  double rBackoff = 0.1;
  struct sigaction sa;
  memset(&o, 0, sizeof(o));
  o.rInterval = 60; o.rMaintain = 300; o.nBusyMs = 5000;
  azFile = calloc(argc > 0 ? argc : 1, sizeof(char*));
  if( azFile==0 ) return 1;
  for(i=1; i<argc; i++){
    const char *z = argv[i];
    const char *zVal = i+1<argc ? argv[i+1] : 0;
    if( strcmp(z, "--help")==0 || strcmp(z, "-h")==0 ){ schedUsage(stdout); free(azFile); return 0; }
    if( strcmp(z, "--once")==0 ){ o.bOnce = 1; continue; }
    if( strncmp(z, "--", 2)==0 ){
      char *zEnd = 0;
      if( zVal==0 ){ fprintf(stderr, "tslite scheduler: %s needs a value\n", z); free(azFile); return 2; }
      if( strcmp(z, "--interval")==0 ) o.rInterval = strtod(zVal, &zEnd);
      else if( strcmp(z, "--maintain-interval")==0 ) o.rMaintain = strtod(zVal, &zEnd);
      else if( strcmp(z, "--busy-timeout")==0 ) o.nBusyMs = (int)strtol(zVal, &zEnd, 10);
      else if( strcmp(z, "--catchup-window")==0 ){ o.zCatchup = zVal; zEnd = (char*)zVal + strlen(zVal); }
      else if( strcmp(z, "--owner")==0 ){ o.zOwner = zVal; zEnd = (char*)zVal + strlen(zVal); }
      else{ fprintf(stderr, "tslite scheduler: unknown option %s\n", z); schedUsage(stderr); free(azFile); return 2; }
      if( zEnd==zVal || *zEnd || o.rInterval<0 || o.rMaintain<0 || o.nBusyMs<0 ){
        fprintf(stderr, "tslite scheduler: bad value for %s: '%s'\n", z, zVal);
        free(azFile);
        return 2;
      }
      i++;
      continue;
    }
    azFile[nDb++] = z;
  }
  if( nDb==0 ){ schedUsage(stderr); free(azFile); return 2; }
  zOpts = schedRunOpts(&o);
  aDb = calloc(nDb, sizeof(sqlite3*));
  aLastMaint = calloc(nDb, sizeof(double));
  if( zOpts==0 || aDb==0 || aLastMaint==0 ){ rc = 1; goto done; }
  for(i=0; i<nDb; i++){
    aDb[i] = tsCliOpen(azFile[i]);
    if( aDb[i]==0 ){ rc = 1; goto done; }
    sqlite3_busy_timeout(aDb[i], o.nBusyMs);
    aLastMaint[i] = schedMono();          /* first maintenance after one interval */
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = schedOnSignal;       /* no SA_RESTART: sleeps wake up */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, 0);
  sigaction(SIGINT, &sa, 0);
  for(i=0; i<nDb; i++) schedLog(azFile[i], "start", 0, 0, 0);
  while( !schedStop ){
    int bBusy = 0;
    double rSleep = o.rInterval;
    for(i=0; i<nDb && !schedStop; i++){
      int64_t iNext = 0, iNow = 0;
      schedTestClock(aDb[i]);
      if( schedPassDb(aDb[i], azFile[i], zOpts, &iNext, &iNow) ) bBusy = 1;
      if( iNext>0 && iNow>0 && !getenv("TSLITE_TEST_NOW_FILE") ){
        double r = (double)(iNext - iNow)/1e9;
        if( r < 0 ) r = 0;
        if( r < rSleep ) rSleep = r;
      }
      if( !schedStop && o.rMaintain>0 && schedMono() - aLastMaint[i] >= o.rMaintain ){
        schedMaintain(aDb[i], azFile[i]);
        aLastMaint[i] = schedMono();
      }
    }
    if( o.bOnce ) break;
    if( bBusy ){
      rSleep = rBackoff;
      rBackoff = rBackoff*2 > 10 ? 10 : rBackoff*2;
    }else{
      rBackoff = 0.1;
    }
    schedSleep(rSleep);
  }
  for(i=0; i<nDb; i++) schedLog(azFile[i], "stop", 0, 0, 0);

done:
  if( aDb ) for(i=0; i<nDb; i++) sqlite3_close(aDb[i]);
  free(aDb); free(aLastMaint); free(zOpts); free(azFile);
  return rc;
}
