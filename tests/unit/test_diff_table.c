/*
** test_diff_table.c: differential test of the timeseries table against a
** plain SQLite table that models Timestream's write rules.
**
** Both tables live in the same database file, so every BEGIN, COMMIT,
** ROLLBACK, SAVEPOINT and ROLLBACK TO applies to both.  A random workload
** (seeded; TS_DIFF_SEED overrides) runs on two connections in turn, with
** reopens: single-row and multi-row INSERTs with out-of-order times,
** duplicates (same and different values), versions, NULL measures, every
** conflict clause, records outside the write window, bulk loads that make
** multi-chunk series, transactions with savepoints.  For each INSERT the
** model decides the outcome from reference 1.6 (rows are checked in C) and
** the test asserts the timeseries table agrees (success or the error); at
** intervals a fixed list of queries (filters on time, dimensions and
** measure_name, IN, ORDER BY ... LIMIT, aggregates, joins, SQLite's
** comparison rules for odd operand types) must return identical rows from
** both tables, and ts_check must say ok.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tt.h"

int sqlite3_tslite_init(sqlite3*, char**, const sqlite3_api_routines*);

#define NOW 1714564800000000000LL          /* 2024-05-01T12:00:00Z */
#define SEC 1000000000LL

static char zPath[64];
static sqlite3 *aDb[2];
static int iCur = 0;
static int bInTxn = 0;
static int nSavepoint = 0;
static unsigned long long rng = 1;
static int nMismatch = 0;

static unsigned rnd(unsigned n){
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return (unsigned)(rng % n);
}

static void die(sqlite3 *db, const char *zWhat){
  printf("FAIL diff: %s: %s\n", zWhat, db ? sqlite3_errmsg(db) : "");
  exit(1);
}

static void execOk(sqlite3 *db, const char *zSql){
  char *zErr = 0;
  if( sqlite3_exec(db, zSql, 0, 0, &zErr)!=SQLITE_OK ){
    printf("FAIL diff: %s: %s\n", zSql, zErr);
    exit(1);
  }
}

static sqlite3 *openDb(void){
  sqlite3 *db;
  char zSql[80];
  if( sqlite3_open(zPath, &db)!=SQLITE_OK ) die(db, "open");
  sqlite3_busy_timeout(db, 5000);
  /* Durability is the crash test's business: no fsync here. */
  execOk(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF");
  snprintf(zSql, sizeof(zSql), "SELECT ts_debug_set_now(%lld)", NOW);
  execOk(db, zSql);
  return db;
}

/* A record to insert. */
typedef struct Rec Rec;
struct Rec {
  long long t;
  int iHost;          /* -1 = NULL */
  int iDc;            /* -1 = NULL */
  int iM;             /* -1 = NULL (default measure_name) */
  int bD, bB, bS, bF; /* non-NULL flags */
  double d;
  long long b;
  char s[16];
  int f;
  long long v;        /* 0 = no version given */
};

static const char *azM[] = { "cpu", "mem" };

static void bindRec(sqlite3_stmt *p, int i0, const Rec *r){
  char z[16];
  sqlite3_bind_int64(p, i0, r->t);
  if( r->iHost<0 ) sqlite3_bind_null(p, i0+1);
  else { snprintf(z, sizeof(z), "h%d", r->iHost); sqlite3_bind_text(p, i0+1, z, -1, SQLITE_TRANSIENT); }
  if( r->iDc<0 ) sqlite3_bind_null(p, i0+2);
  else sqlite3_bind_text(p, i0+2, r->iDc ? "b" : "a", -1, SQLITE_STATIC);
  if( r->iM<0 ) sqlite3_bind_null(p, i0+3);
  else sqlite3_bind_text(p, i0+3, azM[r->iM], -1, SQLITE_STATIC);
  if( r->bD ) sqlite3_bind_double(p, i0+4, r->d); else sqlite3_bind_null(p, i0+4);
  if( r->bB ) sqlite3_bind_int64(p, i0+5, r->b); else sqlite3_bind_null(p, i0+5);
  if( r->bS ) sqlite3_bind_text(p, i0+6, r->s, -1, SQLITE_TRANSIENT); else sqlite3_bind_null(p, i0+6);
  if( r->bF ) sqlite3_bind_int(p, i0+7, r->f); else sqlite3_bind_null(p, i0+7);
  if( r->v ) sqlite3_bind_int64(p, i0+8, r->v); else sqlite3_bind_null(p, i0+8);
}

/* Remember some written records so later ones can collide with them. */
#define NKEEP 256
static Rec aKeep[NKEEP];
static int nKeep = 0;
static int nSeriesHost = 6;

static void randRec(Rec *r){
  int k = rnd(100);
  if( nKeep>0 && k<30 ){
    /* same key as an earlier record: same or different values */
    *r = aKeep[rnd(nKeep)];
    if( rnd(2) ){
      r->d += 1;
      if( rnd(3)==0 ) r->bS = !r->bS;
    }
    r->v = rnd(3)==0 ? 0 : 1 + rnd(4);
    return;
  }
  memset(r, 0, sizeof(*r));
  r->iHost = rnd(10)==0 ? -1 : (int)rnd(nSeriesHost);
  r->iDc = rnd(4)==0 ? -1 : (int)rnd(2);
  r->iM = rnd(5)==0 ? -1 : (int)rnd(2);
  if( k<33 ){
    r->t = NOW - 25*3600*SEC + rnd(3600)*SEC;      /* outside the window */
  }else if( k<36 ){
    r->t = NOW + 16*60*SEC + rnd(100);             /* too far in the future */
  }else{
    r->t = NOW - 3600*SEC + rnd(4000)*(SEC/4);     /* out of order, inside */
  }
  do{
    r->bD = rnd(4)!=0; r->bB = rnd(3)!=0; r->bS = rnd(4)==0; r->bF = rnd(5)==0;
  }while( rnd(8)==0 ? 0 : !(r->bD || r->bB || r->bS || r->bF) );
  r->d = (double)(int)rnd(1000) / 8.0 - 40.0;
  r->b = (long long)rnd(100000) - 500;
  snprintf(r->s, sizeof(r->s), "s%u", rnd(20));
  r->f = (int)rnd(2);
  r->v = rnd(4)==0 ? 1 + rnd(3) : 0;
  if( nKeep<NKEEP ) aKeep[nKeep++] = *r;
  else aKeep[rnd(NKEEP)] = *r;
}

#define OUT_OK      0   /* stored or no-op */
#define OUT_REJECT  1   /* version conflict */
#define OUT_WINDOW  2   /* outside the write window */
#define OUT_NOMEAS  3   /* no measure */

/* Apply r to the model under conflict clause c (0 abort, 1 ignore, 2
** replace); return the expected outcome. */
static int modelApply(sqlite3 *db, const Rec *r, int c){
  static const char *zFind =
    "SELECT d, b, s, f, version, rowid FROM model WHERE host IS ?2 AND dc IS ?3"
    " AND measure_name = coalesce(?4, 'metrics') AND time = ?1";
  sqlite3_stmt *p;
  int rc = OUT_OK, bFound = 0, bEqual = 1;
  long long iOld = 0, iRowid = 0, iNew = r->v ? r->v : 1;
  if( !(r->bD || r->bB || r->bS || r->bF) ) return c==1 ? OUT_OK : OUT_NOMEAS;
  if( r->t < NOW - 24*3600*SEC || r->t > NOW + 15*60*SEC ) return c==1 ? OUT_OK : OUT_WINDOW;
  if( sqlite3_prepare_v2(db, zFind, -1, &p, 0) ) die(db, "model find");
  bindRec(p, 1, r);
  if( sqlite3_step(p)==SQLITE_ROW ){
    char z[16];
    bFound = 1;
    iOld = sqlite3_column_int64(p, 4);
    iRowid = sqlite3_column_int64(p, 5);
    if( (sqlite3_column_type(p, 0)!=SQLITE_NULL)!=r->bD
     || (r->bD && sqlite3_column_double(p, 0)!=r->d) ) bEqual = 0;
    if( (sqlite3_column_type(p, 1)!=SQLITE_NULL)!=r->bB
     || (r->bB && sqlite3_column_int64(p, 1)!=r->b) ) bEqual = 0;
    if( (sqlite3_column_type(p, 2)!=SQLITE_NULL)!=r->bS
     || (r->bS && strcmp((const char*)sqlite3_column_text(p, 2), r->s)!=0) ) bEqual = 0;
    if( (sqlite3_column_type(p, 3)!=SQLITE_NULL)!=r->bF
     || (r->bF && sqlite3_column_int(p, 3)!=r->f) ) bEqual = 0;
    (void)z;
  }
  sqlite3_finalize(p);
  if( bFound ){
    int bStore;
    if( bEqual ) bStore = iNew>iOld;
    else if( iNew>iOld || c==2 ) bStore = 1;
    else if( c==1 ) bStore = 0;
    else return OUT_REJECT;
    if( !bStore ) return OUT_OK;
    if( sqlite3_prepare_v2(db, "DELETE FROM model WHERE rowid=?", -1, &p, 0) ) die(db, "model del");
    sqlite3_bind_int64(p, 1, iRowid);
    sqlite3_step(p);
    sqlite3_finalize(p);
  }
  if( sqlite3_prepare_v2(db, "INSERT INTO model VALUES(?1, ?2, ?3, coalesce(?4, 'metrics'),"
                         " ?5, ?6, ?7, ?8, coalesce(?9, 1))", -1, &p, 0) ) die(db, "model ins");
  bindRec(p, 1, r);
  if( sqlite3_step(p)!=SQLITE_DONE ) die(db, "model insert");
  sqlite3_finalize(p);
  return rc;
}

static const char *azConflict[] = { "", "OR IGNORE ", "OR REPLACE " };

static void checkOutcome(const char *zWhat, int rc, const char *zErr, int eExp, int iOp){
  int bOk;
  if( eExp==OUT_OK ) bOk = rc==SQLITE_OK;
  else if( eExp==OUT_REJECT ) bOk = rc!=SQLITE_OK && strstr(zErr, "already exists with different");
  else if( eExp==OUT_WINDOW ) bOk = rc!=SQLITE_OK && strstr(zErr, "outside the write window");
  else bOk = rc!=SQLITE_OK && strstr(zErr, "at least one non-NULL measure");
  if( !bOk ){
    nMismatch++;
    printf("FAIL diff op %d: %s: expected outcome %d, got rc=%d (%s)\n", iOp, zWhat, eExp, rc,
           rc ? zErr : "ok");
  }
}

/* One single-row INSERT. */
static void opInsert(int iOp){
  sqlite3 *db = aDb[iCur];
  Rec r;
  int c = rnd(10)<7 ? 0 : 1 + rnd(2), eExp, rc;
  char zSql[256];
  sqlite3_stmt *p;
  randRec(&r);
  eExp = modelApply(db, &r, c);
  snprintf(zSql, sizeof(zSql), "INSERT %sINTO ts(time, host, dc, measure_name, d, b, s, f, version)"
           " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", azConflict[c]);
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0) ) die(db, "prepare insert");
  bindRec(p, 1, &r);
  rc = sqlite3_step(p);
  if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  checkOutcome("insert", rc, sqlite3_errmsg(db), eExp, iOp);
  sqlite3_finalize(p);
}

/* One multi-row INSERT statement: all or nothing under ABORT. */
static void opMulti(int iOp){
  sqlite3 *db = aDb[iCur];
  Rec a[4];
  int n = 2 + rnd(3), i, c = rnd(10)<6 ? 0 : 1 + rnd(2), bFail = 0, rc;
  char zSql[1024];
  int nSql;
  sqlite3_stmt *p;
  for(i=0; i<n; i++) randRec(&a[i]);
  execOk(db, "SAVEPOINT stmt");
  for(i=0; i<n && !bFail; i++){
    int e = modelApply(db, &a[i], c);
    if( e!=OUT_OK ) bFail = e;
  }
  if( bFail ) execOk(db, "ROLLBACK TO stmt");
  execOk(db, "RELEASE stmt");
  nSql = snprintf(zSql, sizeof(zSql), "INSERT %sINTO ts(time, host, dc, measure_name, d, b, s, f,"
                  " version) VALUES", azConflict[c]);
  for(i=0; i<n; i++){
    nSql += snprintf(zSql+nSql, sizeof(zSql)-nSql, "%s(?%d, ?%d, ?%d, ?%d, ?%d, ?%d, ?%d, ?%d, ?%d)",
                     i ? ", " : "", i*9+1, i*9+2, i*9+3, i*9+4, i*9+5, i*9+6, i*9+7, i*9+8, i*9+9);
  }
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0) ) die(db, "prepare multi");
  for(i=0; i<n; i++) bindRec(p, i*9+1, &a[i]);
  rc = sqlite3_step(p);
  if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  checkOutcome("multi-row insert", rc, sqlite3_errmsg(db), bFail, iOp);
  sqlite3_finalize(p);
}

/* A bulk, in-order load of one series (makes multi-chunk series and
** exercises the flush budget and tail merging). */
static void opBulk(int iOp){
  sqlite3 *db = aDb[iCur];
  sqlite3_stmt *pT, *pM;
  Rec r;
  int n = 300 + rnd(900), i;
  long long t0 = NOW - 20*3600*SEC + rnd(3600)*SEC*10;
  memset(&r, 0, sizeof(r));
  r.iHost = rnd(nSeriesHost);
  r.iDc = 0;
  r.iM = 0;
  if( sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO ts(time, host, dc, measure_name, d, b, s, f, version)"
                         " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", -1, &pT, 0) ) die(db, "bulk");
  for(i=0; i<n; i++){
    r.t = t0 + i*SEC;
    r.bD = 1; r.d = (double)(i%50);
    r.bB = i%7!=0; r.b = i;
    if( modelApply(db, &r, 1)!=OUT_OK ) die(db, "bulk model");
    bindRec(pT, 1, &r);
    if( sqlite3_step(pT)!=SQLITE_DONE ){
      printf("FAIL diff op %d: bulk insert: %s\n", iOp, sqlite3_errmsg(db));
      nMismatch++;
    }
    sqlite3_reset(pT);
  }
  sqlite3_finalize(pT);
  (void)pM;
}

/* Render all rows of a query as text (doubles exactly). */
static char *render(sqlite3 *db, const char *zSql, int *pRc){
  sqlite3_stmt *p;
  sqlite3_str *pOut = sqlite3_str_new(0);
  int i, n;
  *pRc = sqlite3_prepare_v2(db, zSql, -1, &p, 0);
  if( *pRc ){
    sqlite3_str_appendf(pOut, "error: %s", sqlite3_errmsg(db));
    return sqlite3_str_finish(pOut);
  }
  n = sqlite3_column_count(p);
  while( sqlite3_step(p)==SQLITE_ROW ){
    for(i=0; i<n; i++){
      switch( sqlite3_column_type(p, i) ){
        case SQLITE_NULL: sqlite3_str_appendf(pOut, "NULL"); break;
        case SQLITE_INTEGER: sqlite3_str_appendf(pOut, "%lld", sqlite3_column_int64(p, i)); break;
        case SQLITE_FLOAT: sqlite3_str_appendf(pOut, "%!.17g", sqlite3_column_double(p, i)); break;
        default: sqlite3_str_appendf(pOut, "'%s'", sqlite3_column_text(p, i)); break;
      }
      sqlite3_str_appendchar(pOut, 1, i==n-1 ? '\n' : '|');
    }
  }
  *pRc = sqlite3_finalize(p);
  if( *pRc ) sqlite3_str_appendf(pOut, "error: %s", sqlite3_errmsg(db));
  return sqlite3_str_finish(pOut);
}

/* Query templates: "T" stands for the table name. */
static const char *azQuery[] = {
  "SELECT time, host, dc, measure_name, d, b, s, f, version FROM T ORDER BY host, dc, measure_name, time",
  "SELECT count(*), sum(d), sum(b), min(time), max(time), count(s), sum(f) FROM T",
  "SELECT time, d, b, version FROM T WHERE host = 'h1' ORDER BY dc, measure_name, time",
  "SELECT time, host, d FROM T WHERE host IN ('h0', 'h2', 'nope') AND measure_name = 'cpu' ORDER BY host, dc, time",
  "SELECT time, host, dc FROM T WHERE measure_name IN ('mem', 'metrics') AND time >= %lld AND time < %lld ORDER BY host, dc, measure_name, time",
  "SELECT time, d FROM T WHERE host = 'h3' AND dc = 'a' AND measure_name = 'cpu' ORDER BY time DESC LIMIT 5",
  "SELECT time, d FROM T WHERE host = 'h2' AND dc = 'b' AND measure_name = 'mem' ORDER BY time LIMIT 3",
  "SELECT time, d, b FROM T WHERE host = 'h4' AND dc = 'a' AND measure_name = 'cpu' AND time = %lld",
  "SELECT host, measure_name, count(*), sum(d), avg(b), max(time) FROM T GROUP BY host, measure_name ORDER BY 1, 2",
  "SELECT time, host, dc, measure_name FROM T ORDER BY time DESC, host, dc, measure_name LIMIT 7",
  "SELECT count(*) FROM T WHERE time > %lld",
  "SELECT count(*) FROM T WHERE time <= %lld AND time BETWEEN %lld AND %lld",
  "SELECT count(*) FROM T WHERE time > 'abc'",
  "SELECT count(*) FROM T WHERE time < 'abc'",
  "SELECT count(*) FROM T WHERE time >= 1714561200000000000.5",
  "SELECT count(*) FROM T WHERE time < '1714561200000000000'",
  "SELECT count(*) FROM T WHERE host = NULL OR dc IS NULL",
  "SELECT a.time, a.host, b.host, a.d, b.d FROM T a JOIN T b ON a.time = b.time AND a.measure_name = b.measure_name"
  " WHERE a.host = 'h0' AND b.host = 'h1' ORDER BY 1, 2, 3, a.dc, b.dc, a.measure_name",
  "SELECT host, count(*) FROM T WHERE host IN (SELECT host FROM T WHERE d > 50) GROUP BY host ORDER BY host",
  "SELECT time, s FROM T WHERE s IS NOT NULL AND f = 1 ORDER BY time, host, dc, measure_name",
  "SELECT count(*) FROM T WHERE measure_name = 'metrics' AND host IS NULL",
  "SELECT time FROM T ORDER BY time",
  "SELECT time FROM T WHERE measure_name = 'cpu' ORDER BY time DESC LIMIT 9",
  "SELECT time FROM T WHERE host IN ('h1', 'h2') AND time > %lld ORDER BY time LIMIT 20",
  "SELECT time FROM T WHERE host = 'h0' ORDER BY time DESC",
};

static void compareQueries(int iOp){
  sqlite3 *db = aDb[iCur];
  size_t i;
  for(i=0; i<sizeof(azQuery)/sizeof(azQuery[0]); i++){
    long long a = NOW - 3600*SEC + rnd(4000)*(SEC/4), b = a + rnd(2000)*SEC/4;
    char *zTpl = sqlite3_mprintf(azQuery[i], a, b, a - 100*SEC, b);
    char *zTs, *zModel, *z1, *z2;
    int rc1, rc2;
    size_t j;
    /* substitute the table names */
    zTs = sqlite3_mprintf("%s", zTpl);
    zModel = sqlite3_mprintf("%s", zTpl);
    for(j=0; zTpl[j]; j++){
      if( zTpl[j]=='T' && (j==0 || zTpl[j-1]==' ') && (zTpl[j+1]==' ' || zTpl[j+1]==0) ){
        /* replaced below */
      }
    }
    sqlite3_free(zTs);
    sqlite3_free(zModel);
    {
      sqlite3_str *s1 = sqlite3_str_new(0), *s2 = sqlite3_str_new(0);
      for(j=0; zTpl[j]; j++){
        if( zTpl[j]=='T' && (j==0 || zTpl[j-1]==' ') && (zTpl[j+1]==' ' || zTpl[j+1]==0) ){
          sqlite3_str_appendall(s1, "ts");
          sqlite3_str_appendall(s2, "model");
        }else{
          sqlite3_str_appendchar(s1, 1, zTpl[j]);
          sqlite3_str_appendchar(s2, 1, zTpl[j]);
        }
      }
      zTs = sqlite3_str_finish(s1);
      zModel = sqlite3_str_finish(s2);
    }
    z1 = render(db, zTs, &rc1);
    z2 = render(db, zModel, &rc2);
    if( rc1 || rc2 || strcmp(z1 ? z1 : "", z2 ? z2 : "")!=0 ){
      nMismatch++;
      printf("FAIL diff op %d query %d: %s\n--- timeseries\n%.1500s\n--- model\n%.1500s\n", iOp, (int)i,
             zTs, z1, z2);
    }
    sqlite3_free(z1);
    sqlite3_free(z2);
    sqlite3_free(zTs);
    sqlite3_free(zModel);
    sqlite3_free(zTpl);
  }
  {
    sqlite3_stmt *p;
    if( sqlite3_prepare_v2(db, "SELECT ts_check('ts')", -1, &p, 0) ) die(db, "ts_check");
    if( sqlite3_step(p)!=SQLITE_ROW ){
      nMismatch++;
      printf("FAIL diff op %d: ts_check: %s\n", iOp, sqlite3_errmsg(db));
    }else if( strcmp((const char*)sqlite3_column_text(p, 0), "ok")!=0 ){
      nMismatch++;
      printf("FAIL diff op %d: ts_check: %s\n", iOp, sqlite3_column_text(p, 0));
    }
    sqlite3_finalize(p);
  }
}

int main(void){
  int nOp = getenv("TS_SANITIZE") && atoi(getenv("TS_SANITIZE")) ? 700 : 2500;
  int iOp, nCompare = 0;
  const char *zSeed = getenv("TS_DIFF_SEED");
  rng = zSeed ? strtoull(zSeed, 0, 10) : 20240501;
  if( rng==0 ) rng = 1;
  sqlite3_auto_extension((void(*)(void))sqlite3_tslite_init);
  snprintf(zPath, sizeof(zPath), "/tmp/tslite-diff-%d.db", (int)getpid());
  unlink(zPath);
  aDb[0] = openDb();
  execOk(aDb[0], "CREATE VIRTUAL TABLE ts USING timeseries(host DIMENSION, dc DIMENSION,"
                 " d DOUBLE, b BIGINT, s VARCHAR, f BOOLEAN, memory_retention='24h');"
                 "CREATE TABLE model(time INTEGER, host TEXT, dc TEXT, measure_name TEXT,"
                 " d DOUBLE, b BIGINT, s VARCHAR, f BOOLEAN, version INTEGER);"
                 "CREATE INDEX model_key ON model(time, host, dc, measure_name);");
  aDb[1] = openDb();
  for(iOp=0; iOp<nOp; iOp++){
    unsigned k = rnd(1000);
    sqlite3 *db = aDb[iCur];
    if( k<600 ){
      opInsert(iOp);
    }else if( k<700 ){
      opMulti(iOp);
    }else if( k<712 ){
      opBulk(iOp);
    }else if( k<760 ){
      if( !bInTxn ){ execOk(db, "BEGIN"); bInTxn = 1; nSavepoint = 0; }
    }else if( k<800 ){
      if( bInTxn ){ execOk(db, "COMMIT"); bInTxn = 0; }
    }else if( k<820 ){
      if( bInTxn ){ execOk(db, "ROLLBACK"); bInTxn = 0; }
    }else if( k<850 ){
      if( bInTxn && nSavepoint<5 ){
        char z[32];
        snprintf(z, sizeof(z), "SAVEPOINT sp%d", ++nSavepoint);
        execOk(db, z);
      }
    }else if( k<870 ){
      if( bInTxn && nSavepoint>0 ){
        char z[48];
        int iSp = 1 + rnd(nSavepoint);
        snprintf(z, sizeof(z), "ROLLBACK TO sp%d", iSp);
        execOk(db, z);
        nSavepoint = iSp;   /* sp1..spN remain, spN is current */
      }
    }else if( k<885 ){
      if( bInTxn && nSavepoint>0 ){
        char z[32];
        snprintf(z, sizeof(z), "RELEASE sp%d", nSavepoint);
        execOk(db, z);
        nSavepoint--;
      }
    }else if( k<930 ){
      if( !bInTxn ) iCur = !iCur;
    }else if( k<940 ){
      if( !bInTxn ){
        sqlite3_close(aDb[0]);
        sqlite3_close(aDb[1]);
        aDb[0] = openDb();
        aDb[1] = openDb();
      }
    }else if( k<955 ){
      compareQueries(iOp);
      nCompare++;
    }
  }
  if( bInTxn ) execOk(aDb[iCur], "COMMIT");
  compareQueries(nOp);
  iCur = !iCur;
  compareQueries(nOp);
  sqlite3_close(aDb[0]);
  sqlite3_close(aDb[1]);
  aDb[0] = openDb();
  iCur = 0;
  compareQueries(nOp);
  {
    sqlite3_stmt *p;
    long long nRow = 0, nChunk = 0;
    if( sqlite3_prepare_v2(aDb[0], "SELECT count(*), (SELECT count(*) FROM ts_chunks) FROM model", -1, &p, 0)
        ==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
      nRow = sqlite3_column_int64(p, 0);
      nChunk = sqlite3_column_int64(p, 1);
    }
    sqlite3_finalize(p);
    printf("# %d ops, %d comparisons, %lld rows in %lld chunks\n", nOp, nCompare, nRow, nChunk);
    TT_CHECK("diff: workload produced multi-chunk data", nRow>2000 && nChunk>10);
  }
  sqlite3_close(aDb[0]);
  TT_EQ_I64("diff: timeseries table matches the model", nMismatch, 0);
  unlink(zPath);
  return tt_done();
}
