/*
** table_ingest.c: measures the memory tier's ingest speed and compression.
**
**   build/tools/table_ingest [HOSTS [POINTS [ts|plain|both [ints|doubles]]]]    (defaults 100 hosts x 8640
**                                                   points = one day at 10 s)
**
** Generates TSBS cpu-only-like data: HOSTS series (hostname, region,
** datacenter), one row every 10 s, 10 DOUBLE measures.  Two data sets:
**   ints    integer-valued random walks in 0..100 (TSBS's shape)
**   doubles full-precision random walks (step uniform in [-1,1))
** For each it inserts the rows, in time order interleaved across hosts,
** through one prepared INSERT inside one transaction into
**   (a) a timeseries table, and
**   (b) a plain SQLite table with an index on (hostname, time),
** each in a fresh database file under /tmp, and prints rows/s for both, the
** ratio, and the memory tier's bytes per value from ts_stats().  Rates are
** given per wall-clock second and per CPU second of the process (the
** latter is the fairer comparison on a shared, busy machine).
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int sqlite3_tslite_init(sqlite3*, char**, const sqlite3_api_routines*);

#define NMEAS 10
static const char *azMeas[NMEAS] = {
  "usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
  "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice",
};

static double nowSec(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec*1e-9;
}

/* CPU seconds of this process: on a busy machine (the test machine is
** shared) wall time mostly measures the wait for a CPU. */
static double cpuSec(void){
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec*1e-9;
}

static void check(sqlite3 *db, int rc, const char *zWhat){
  if( rc!=SQLITE_OK && rc!=SQLITE_DONE && rc!=SQLITE_ROW ){
    fprintf(stderr, "%s: %s\n", zWhat, sqlite3_errmsg(db));
    exit(1);
  }
}

static void exec(sqlite3 *db, const char *zSql){
  char *zErr = 0;
  if( sqlite3_exec(db, zSql, 0, 0, &zErr)!=SQLITE_OK ){
    fprintf(stderr, "%s: %s\n", zSql, zErr);
    exit(1);
  }
}

/* xorshift64* */
static unsigned long long rngState = 88172645463325252ULL;
static double rnd(void){
  rngState ^= rngState >> 12; rngState ^= rngState << 25; rngState ^= rngState >> 27;
  return (double)((rngState * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* Fill aVal (nHost*NMEAS walkers) with the next step. */
static void step(double *aVal, int n, int bInts){
  int i;
  for(i=0; i<n; i++){
    if( bInts ){
      double v = aVal[i] + (double)((int)(rnd()*3) - 1);
      if( v<0 ) v = 0;
      if( v>100 ) v = 100;
      aVal[i] = v;
    }else{
      aVal[i] += rnd()*2.0 - 1.0;
    }
  }
}

/* The measured part: nPoint x nHost rows through pIns in one transaction.
** Not inlined, so that an instruction count can be limited to it:
**   valgrind --tool=callgrind --toggle-collect=ingest build/tools/table_ingest 20 2000 ts
** (and "plain" for the plain table). */
__attribute__((noinline))
void ingest(sqlite3 *db, sqlite3_stmt *pIns, double *aVal, const char **azHost,
            int bInts, int nHost, int nPoint, long long t0){
  int i, h, m;
  exec(db, "BEGIN");
  for(i=0; i<nPoint; i++){
    step(aVal, nHost*NMEAS, bInts);
    for(h=0; h<nHost; h++){
      sqlite3_bind_int64(pIns, 1, t0 + (long long)i*10000000000LL);
      sqlite3_bind_text(pIns, 2, azHost[h], -1, SQLITE_STATIC);
      sqlite3_bind_text(pIns, 3, (h%3)==0 ? "eu-west-1" : (h%3)==1 ? "us-east-1" : "ap-south-1", -1, SQLITE_STATIC);
      sqlite3_bind_text(pIns, 4, (h%2) ? "dc-a" : "dc-b", -1, SQLITE_STATIC);
      for(m=0; m<NMEAS; m++) sqlite3_bind_double(pIns, 5+m, aVal[h*NMEAS+m]);
      if( sqlite3_step(pIns)!=SQLITE_DONE ) check(db, SQLITE_ERROR, "insert");
      sqlite3_reset(pIns);
    }
  }
  exec(db, "COMMIT");
}

/* Insert nHost x nPoint rows; returns rows/s of wall time (*pCpuRate: of
** CPU time).  bTs: timeseries table. */
static double run(int bTs, int bInts, int nHost, int nPoint, double *pBpv, double *pCpuRate){
  char zPath[64];
  sqlite3 *db;
  sqlite3_stmt *pIns;
  char zSql[2048];
  int i, h, m, n;
  double *aVal = malloc(sizeof(double)*(size_t)nHost*NMEAS);
  char **azHost = malloc(sizeof(char*)*(size_t)nHost);
  long long t0 = 1714521600000000000LL;   /* 2024-05-01T00:00:00Z */
  double tStart, tEnd, cStart, cEnd;
  snprintf(zPath, sizeof(zPath), "/tmp/tslite-ingest-%d.db", (int)getpid());
  unlink(zPath);
  check(0, sqlite3_open(zPath, &db), "open");
  rngState = 88172645463325252ULL;
  for(i=0; i<nHost*NMEAS; i++) aVal[i] = bInts ? (double)(int)(rnd()*100) : rnd()*100.0;
  for(h=0; h<nHost; h++) azHost[h] = sqlite3_mprintf("host_%d", h);
  if( bTs ){
    /* now = the end of the data, retention long enough for all of it */
    snprintf(zSql, sizeof(zSql), "SELECT ts_debug_set_now(%lld)", t0 + (long long)nPoint*10000000000LL);
    exec(db, zSql);
    n = snprintf(zSql, sizeof(zSql), "CREATE VIRTUAL TABLE cpu USING timeseries(hostname DIMENSION,"
                 " region DIMENSION, datacenter DIMENSION");
    for(m=0; m<NMEAS; m++) n += snprintf(zSql+n, sizeof(zSql)-n, ", %s DOUBLE", azMeas[m]);
    snprintf(zSql+n, sizeof(zSql)-n, ", memory_retention='8766h')");
    exec(db, zSql);
  }else{
    n = snprintf(zSql, sizeof(zSql), "CREATE TABLE cpu(time INTEGER, hostname TEXT, region TEXT,"
                 " datacenter TEXT, measure_name TEXT");
    for(m=0; m<NMEAS; m++) n += snprintf(zSql+n, sizeof(zSql)-n, ", %s REAL", azMeas[m]);
    snprintf(zSql+n, sizeof(zSql)-n, ")");
    exec(db, zSql);
    exec(db, "CREATE INDEX cpu_host_time ON cpu(hostname, time)");
  }
  n = snprintf(zSql, sizeof(zSql), "INSERT INTO cpu(time, hostname, region, datacenter, measure_name");
  for(m=0; m<NMEAS; m++) n += snprintf(zSql+n, sizeof(zSql)-n, ", %s", azMeas[m]);
  n += snprintf(zSql+n, sizeof(zSql)-n, ") VALUES(?, ?, ?, ?, 'cpu'");
  for(m=0; m<NMEAS; m++) n += snprintf(zSql+n, sizeof(zSql)-n, ", ?");
  snprintf(zSql+n, sizeof(zSql)-n, ")");
  check(db, sqlite3_prepare_v2(db, zSql, -1, &pIns, 0), "prepare");
  tStart = nowSec();
  cStart = cpuSec();
  ingest(db, pIns, aVal, (const char**)azHost, bInts, nHost, nPoint, t0);
  tEnd = nowSec();
  cEnd = cpuSec();
  *pCpuRate = (double)nHost*nPoint/(cEnd - cStart);
  sqlite3_finalize(pIns);
  *pBpv = 0;
  if( bTs ){
    sqlite3_stmt *p;
    check(db, sqlite3_prepare_v2(db, "SELECT ts_stats('cpu') ->> '$.memory.bytes_per_value', ts_check('cpu')",
                                 -1, &p, 0), "stats");
    if( sqlite3_step(p)==SQLITE_ROW ){
      *pBpv = sqlite3_column_double(p, 0);
      if( strcmp((const char*)sqlite3_column_text(p, 1), "ok")!=0 ){
        fprintf(stderr, "ts_check: %s\n", sqlite3_column_text(p, 1));
        exit(1);
      }
    }
    sqlite3_finalize(p);
  }else{
    /* bytes per value of the plain table: file size / values */
    sqlite3_stmt *p;
    check(db, sqlite3_prepare_v2(db, "SELECT page_count*page_size FROM pragma_page_count, pragma_page_size",
                                 -1, &p, 0), "size");
    if( sqlite3_step(p)==SQLITE_ROW ){
      *pBpv = sqlite3_column_double(p, 0) / ((double)nHost*nPoint*NMEAS);
    }
    sqlite3_finalize(p);
  }
  sqlite3_close(db);
  unlink(zPath);
  for(h=0; h<nHost; h++) sqlite3_free(azHost[h]);
  free(azHost);
  free(aVal);
  return (double)nHost*nPoint/(tEnd - tStart);
}

int main(int argc, char **argv){
  int nHost = argc>1 ? atoi(argv[1]) : 100;
  int nPoint = argc>2 ? atoi(argv[2]) : 8640;
  /* "ts" or "plain": run only that table (for profiling) */
  int bOnlyTs = argc>3 && strcmp(argv[3], "ts")==0;
  int bOnlyPlain = argc>3 && strcmp(argv[3], "plain")==0;
  int bInts;
  sqlite3_auto_extension((void(*)(void))sqlite3_tslite_init);
  printf("%d hosts x %d points (10 s interval) = %lld rows x %d DOUBLE measures\n",
         nHost, nPoint, (long long)nHost*nPoint, NMEAS);
  /* optional 4th argument "ints" or "doubles": only that data set */
  for(bInts=1; bInts>=0; bInts--){
    if( argc>4 && strcmp(argv[4], bInts ? "ints" : "doubles")!=0 ) continue;
    double bpvTs = 0, bpvPlain = 0, cTs = 1, cPlain = 1;
    double rTs = bOnlyPlain ? 1 : run(1, bInts, nHost, nPoint, &bpvTs, &cTs);
    double rPlain = bOnlyTs ? 1 : run(0, bInts, nHost, nPoint, &bpvPlain, &cPlain);
    printf("%-8s timeseries %8.0f rows/s (cpu %8.0f) %6.3f B/value | plain+index %8.0f rows/s"
           " (cpu %8.0f) %6.3f B/value (file) | ratio %.2fx (cpu %.2fx)\n", bInts ? "ints" : "doubles",
           rTs, cTs, bpvTs, rPlain, cPlain, bpvPlain, rTs/rPlain, cTs/cPlain);
  }
  return 0;
}
