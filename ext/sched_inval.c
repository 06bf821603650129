/*
** sched_inval.c: late data for scheduled queries with a "Window".
**
** An instance at R covers source times [R - Window, R).  Late data is found
** through the source tables' write logs, never by looking at chunks:
**
**   <t>_wlog(seq INTEGER PRIMARY KEY AUTOINCREMENT, sid, tmin, tmax)
**       a shadow table of source table t, created here when the first
**       scheduled query with a Window watches t and dropped when the last
**       one is deleted.  While it exists the write path (ext/write_flush.c) adds
**       one row per series flush: the series and the time range written.
**       Compaction, tiering and retention write no rows (they change no
**       data).  seq is the table's write counter.
**
**   ts_scheduled_query_sources(Name, SchemaName, TableName, LogMark, Filter)
**       per query and source: the highest seq already looked at, and the
**       series the query reads (Filter, below).  Rows at or below every
**       watcher's LogMark are pruned from the log.
**
** Which series a query reads: while a run reads its result (sched_run.c) the
** table scan reports the dimension and measure_name constraints it was
** given (= and IN pushed into the scan; TsEnv.xScanNote, tslite.h), e.g.
** [["host",["h1"]]].  Filter is the union over runs of those scans, as a
** JSON array of scans; '*' (or NULL before the first run) means every
** series: a scan without such constraints, more than SQ_MAX_SCANS distinct
** scans, a source read without a table scan.  A log row concerns the query
** when its series matches one scan (every constraint of the scan holds for
** the series' dimension values), so one device backfilling old data
** re-runs only the rollups that read that device (or all devices).
**
** Each pass (tsSqScanSources) reads at most SQ_MAX_LOG_SCAN new log rows per
** source (the rest wait for the next pass): a concerning row with times
** [tmin, tmax] makes the already-run instances R in (tmin, tmax + Window]
** pending (ts_scheduled_query_invalidations, shown by ts_scheduled_queries;
** ranges merged when they overlap or lie within one Window).  Each run
** stores a fingerprint of its window (rows, version sum, time sum;
** ts_scheduled_query_windows) taken in the same read snapshot as its
** result.  A pass (sched_pass.c) checks at most max_check pending instances
** with one scan per source, drops the unchanged ones and re-runs at most
** max_refresh changed ones, oldest first; the rest stay pending.
*/
#include "sched_int.h"
#include "table.h"
#include <stdio.h>
#include <string.h>

#define SQ_MAX_LOG_SCAN  100000   /* write-log rows examined per source per pass */
#define SQ_MAX_SCANS     32       /* distinct scans kept in a Filter before '*' */

/* Remove the instances in [a, b] from the query's pending invalidations
** (ranges overlapping it are cut back to what lies outside it). */
int tsSqInvRemove(sqlite3 *db, const char *zName, int64_t a, int64_t b){
  sqlite3_stmt *pS = 0;
  int64_t aLo[64], aHi[64];
  int n = 0, i, rc;
  rc = sqlite3_prepare_v2(db, "SELECT FromTime, ToTime FROM main.ts_scheduled_query_invalidations"
                          " WHERE Name=?1 AND FromTime<=?3 AND ToTime>=?2 ORDER BY FromTime", -1, &pS, 0);
  if( rc!=SQLITE_OK ) return rc;
  sqlite3_bind_text(pS, 1, zName, -1, SQLITE_STATIC);
  sqlite3_bind_int64(pS, 2, a);
  sqlite3_bind_int64(pS, 3, b);
  /* At most one range can stick out on each side; remember those two. */
  while( sqlite3_step(pS)==SQLITE_ROW ){
    int64_t x = sqlite3_column_int64(pS, 0), y = sqlite3_column_int64(pS, 1);
    if( x<a && n<64 ){ aLo[n] = x; aHi[n] = a-1; n++; }
    if( y>b && n<64 ){ aLo[n] = b+1; aHi[n] = y; n++; }
  }
  rc = sqlite3_finalize(pS);
  if( rc==SQLITE_OK ){
    rc = tsSqStep(db, 0, "DELETE FROM main.ts_scheduled_query_invalidations WHERE Name=?1"
                " AND FromTime<=?3 AND ToTime>=?2", "tii", zName, (sqlite3_int64)a, (sqlite3_int64)b);
    rc = SQ_OK(rc) ? SQLITE_OK : rc;
  }
  for(i=0; rc==SQLITE_OK && i<n; i++){
    rc = tsSqStep(db, 0, "INSERT INTO main.ts_scheduled_query_invalidations VALUES(?1,?2,?3)",
                "tii", zName, (sqlite3_int64)aLo[i], (sqlite3_int64)aHi[i]);
    rc = SQ_OK(rc) ? SQLITE_OK : rc;
  }
  return rc;
}


/* A parsed Filter: constraints (iScan, iCon, series column, operator,
** value), sorted by scan and constraint; an '=' constraint (IN) has one
** entry per value, every other one exactly one.  bAll: every series
** concerns the query.  LIKE and GLOB are evaluated by the connection's own
** functions (pLike, pGlob: prepared at the first use), so the match is the
** query's (an application's like() or case_sensitive_like included). */
typedef struct SqFilter SqFilter;
struct SqFilter {
  int bAll;
  int n;
  struct SqFilterVal { int iScan, iCon, iCol; char cOp; char *zCol, *zVal; } *a;   /* (owned, with the strings) */
  sqlite3 *db;
  sqlite3_stmt *pLike, *pGlob;          /* "SELECT ?2 LIKE ?1" / GLOB (owned) */
};

static void sqFilterFree(SqFilter *f){
  int i;
  for(i=0; i<f->n; i++){ sqlite3_free(f->a[i].zCol); sqlite3_free(f->a[i].zVal); }
  sqlite3_free(f->a);
  sqlite3_finalize(f->pLike);
  sqlite3_finalize(f->pGlob);
  memset(f, 0, sizeof(*f));
}

/* The operator letter of a Filter constraint ('=' for the [col, [values]]
** form; 'K' like, 'B' glob, '>' '<' 'G' (>=) 'L' (<=)), 0 if unknown. */
static char sqFilterOp(const char *z){
  static const struct { const char *z; char c; } aOp[] = {
    {"=", '='}, {"like", 'K'}, {"glob", 'B'}, {">", '>'}, {"<", '<'}, {">=", 'G'}, {"<=", 'L'},
  };
  size_t i;
  for(i=0; z && i<sizeof(aOp)/sizeof(aOp[0]); i++) if( strcmp(z, aOp[i].z)==0 ) return aOp[i].c;
  return 0;
}

/* Parse zFilter against the source's dimensions (series column 1 + i is
** dimension i, column 0 measure_name); pS NULL: names only (iCol -1).
** A scan is a JSON array of constraints, each [column, [values]] (= or IN)
** or [column, op, value] (op "like", "glob", ">", "<", ">=", "<=";
** scan.c scanNote). */
static int sqFilterParse(sqlite3 *db, const char *zFilter, const TsTableSchema *pS, SqFilter *f){
  sqlite3_stmt *pQ = 0;
  int rc, nAlloc = 0;
  memset(f, 0, sizeof(*f));
  f->db = db;
  if( zFilter==0 || strcmp(zFilter, "*")==0 ){ f->bAll = 1; return SQLITE_OK; }
  rc = sqlite3_prepare_v2(db, "SELECT s.key, c.key, c.value->>0,"
                          " CASE WHEN json_type(c.value, '$[1]')='array' THEN '=' ELSE c.value->>1 END, v.value"
                          " FROM json_each(?1) s, json_each(s.value) c, json_each(c.value,"
                          "  CASE WHEN json_type(c.value, '$[1]')='array' THEN '$[1]' ELSE '$[2]' END) v"
                          " ORDER BY s.key, c.key", -1, &pQ, 0);
  if( rc!=SQLITE_OK ) return rc;
  sqlite3_bind_text(pQ, 1, zFilter, -1, SQLITE_STATIC);
  while( rc==SQLITE_OK && sqlite3_step(pQ)==SQLITE_ROW ){
    const char *zCol = (const char*)sqlite3_column_text(pQ, 2);
    char cOp = sqFilterOp((const char*)sqlite3_column_text(pQ, 3));
    int iCol = -1, i;
    if( zCol==0 || cOp==0 || sqlite3_column_type(pQ, 4)==SQLITE_NULL ){ f->bAll = 1; break; }
    if( pS ){
      if( strcmp(zCol, "measure_name")==0 ) iCol = 0;
      for(i=0; iCol<0 && i<pS->nDim; i++) if( strcmp(zCol, pS->azDim[i])==0 ) iCol = 1 + i;
      if( iCol<0 ){ f->bAll = 1; break; }   /* a column the table no longer has */
    }
    if( f->n==nAlloc ){
      void *aNew;
      nAlloc = nAlloc ? 2*nAlloc : 16;
      aNew = sqlite3_realloc64(f->a, sizeof(f->a[0])*(size_t)nAlloc);
      if( aNew==0 ){ rc = SQLITE_NOMEM; break; }
      f->a = aNew;
    }
    f->a[f->n].iScan = sqlite3_column_int(pQ, 0);
    f->a[f->n].iCon = sqlite3_column_int(pQ, 1);
    f->a[f->n].iCol = iCol;
    f->a[f->n].cOp = cOp;
    f->a[f->n].zCol = tsSqColDup(pQ, 2);
    f->a[f->n].zVal = tsSqColDup(pQ, 4);
    f->n++;
    if( f->a[f->n-1].zCol==0 || f->a[f->n-1].zVal==0 ){ rc = SQLITE_NOMEM; break; }
  }
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(pQ); else sqlite3_finalize(pQ);
  if( rc==SQLITE_OK && f->n==0 ) f->bAll = 1;
  return rc;
}

/* Does series value zV (NULL: absent, matches nothing) satisfy constraint
** entry v?  LIKE/GLOB through the connection's functions; an error there
** counts as a match (the query is re-run rather than left stale). */
static int sqFilterValMatch(SqFilter *f, const struct SqFilterVal *v, const char *zV){
  sqlite3_stmt **pp;
  int c, r;
  if( zV==0 ) return 0;
  switch( v->cOp ){
    case '=': return strcmp(zV, v->zVal)==0;
    case '>': return strcmp(zV, v->zVal)>0;
    case '<': return strcmp(zV, v->zVal)<0;
    case 'G': return strcmp(zV, v->zVal)>=0;
    case 'L': return strcmp(zV, v->zVal)<=0;
  }
  pp = v->cOp=='K' ? &f->pLike : &f->pGlob;
  if( *pp==0 && sqlite3_prepare_v2(f->db, v->cOp=='K' ? "SELECT ?2 LIKE ?1" : "SELECT ?2 GLOB ?1",
                                   -1, pp, 0)!=SQLITE_OK ){
    sqlite3_finalize(*pp);
    *pp = 0;
    return 1;
  }
  sqlite3_bind_text(*pp, 1, v->zVal, -1, SQLITE_STATIC);
  sqlite3_bind_text(*pp, 2, zV, -1, SQLITE_STATIC);
  c = sqlite3_step(*pp);
  r = c==SQLITE_ROW ? sqlite3_column_int(*pp, 0)!=0 : 1;
  sqlite3_reset(*pp);
  return r;
}

/* Does the series of log row pRow (series columns from iCol0 on; NULL
** measure_name = the series is unknown) match one scan of f? */
static int sqFilterMatch(SqFilter *f, sqlite3_stmt *pRow, int iCol0){
  int i = 0;
  if( f->bAll || sqlite3_column_type(pRow, iCol0)==SQLITE_NULL ) return 1;
  while( i<f->n ){
    int iScan = f->a[i].iScan, bScan = 1;
    while( i<f->n && f->a[i].iScan==iScan ){
      int iCon = f->a[i].iCon, bCon = 0;
      const char *zV = (const char*)sqlite3_column_text(pRow, iCol0 + f->a[i].iCol);
      for(; i<f->n && f->a[i].iScan==iScan && f->a[i].iCon==iCon; i++){
        if( !bCon && bScan && sqFilterValMatch(f, &f->a[i], zV) ) bCon = 1;
      }
      if( !bCon ) bScan = 0;
    }
    if( bScan ) return 1;
  }
  return 0;
}

/* The WHERE terms of f over the source table's columns, values bound from
** ?3 on (sqFilterBind): ' AND ((c IN (?,..) AND c LIKE ? ..) OR (..))', or
** '' for every series.  sqlite3_malloc'd, NULL on OOM. */
static char *sqFilterWhere(const SqFilter *f){
  sqlite3_str *p;
  int i, iScan = -1, iCon = -1;
  if( f->bAll || f->n==0 ) return sqlite3_mprintf("");
  p = sqlite3_str_new(0);
  sqlite3_str_appendall(p, " AND (");
  for(i=0; i<f->n; i++){
    const struct SqFilterVal *v = &f->a[i];
    const char *zOp = 0;
    if( v->iScan==iScan && v->iCon==iCon ){   /* one more value of an IN */
      sqlite3_str_appendall(p, ",?");
      continue;
    }
    if( i>0 && f->a[i-1].cOp=='=' ) sqlite3_str_appendall(p, ")");   /* close the last IN */
    if( v->iScan!=iScan ){
      if( iScan>=0 ) sqlite3_str_appendall(p, ") OR ");
      sqlite3_str_appendall(p, "(");
    }else{
      sqlite3_str_appendall(p, " AND ");
    }
    iScan = v->iScan; iCon = v->iCon;
    switch( v->cOp ){
      case 'K': zOp = "LIKE"; break;
      case 'B': zOp = "GLOB"; break;
      case '>': zOp = ">"; break;
      case '<': zOp = "<"; break;
      case 'G': zOp = ">="; break;
      case 'L': zOp = "<="; break;
    }
    if( zOp ) sqlite3_str_appendf(p, "\"%w\" %s ?", v->zCol, zOp);
    else sqlite3_str_appendf(p, "\"%w\" IN (?", v->zCol);
  }
  if( f->a[f->n-1].cOp=='=' ) sqlite3_str_appendall(p, ")");
  sqlite3_str_appendall(p, "))");
  return sqlite3_str_finish(p);
}

static void sqFilterBind(const SqFilter *f, sqlite3_stmt *pS){
  int i;
  for(i=0; !f->bAll && i<f->n; i++) sqlite3_bind_text(pS, 3 + i, f->a[i].zVal, -1, SQLITE_STATIC);
}

/*
** Fingerprints of the windows [aR[i] - iW, aR[i]) (aR ascending, nR >= 1)
** over every source table of query zName, with one scan per source of the
** times they span (only the time and version columns are decoded).
*/
int tsSqFingerprint(sqlite3 *db, const char *zName, int64_t iW, const int64_t *aR, int nR,
                         SqFp *aFp){
  sqlite3_stmt *pSrc = 0;
  int rc;
  memset(aFp, 0, sizeof(SqFp)*nR);
  rc = sqlite3_prepare_v2(db, "SELECT SchemaName, TableName, Filter FROM main.ts_scheduled_query_sources"
                          " WHERE Name=?1", -1, &pSrc, 0);
  if( rc!=SQLITE_OK ) return rc;
  sqlite3_bind_text(pSrc, 1, zName, -1, SQLITE_STATIC);
  while( rc==SQLITE_OK && sqlite3_step(pSrc)==SQLITE_ROW ){
    SqFilter flt;
    char *zWhere = 0, *zSql = 0;
    sqlite3_stmt *pS = 0;
    /* Only the series the query reads: another series' late rows leave
    ** the fingerprint alone. */
    rc = sqFilterParse(db, (const char*)sqlite3_column_text(pSrc, 2), 0, &flt);
    if( rc==SQLITE_OK ) zWhere = sqFilterWhere(&flt);
    if( zWhere ) zSql = sqlite3_mprintf("SELECT time, version FROM \"%w\".\"%w\" WHERE time>=?1 AND time<?2%s",
                                        sqlite3_column_text(pSrc, 0), sqlite3_column_text(pSrc, 1), zWhere);
    sqlite3_free(zWhere);
    if( rc==SQLITE_OK && zSql==0 ) rc = SQLITE_NOMEM;
    if( rc!=SQLITE_OK ){ sqFilterFree(&flt); break; }
    if( sqlite3_prepare_v2(db, zSql, -1, &pS, 0)!=SQLITE_OK ){
      sqlite3_free(zSql);
      sqFilterFree(&flt);
      continue;                        /* the source is gone */
    }
    sqlite3_free(zSql);
    sqFilterBind(&flt, pS);
    sqlite3_bind_int64(pS, 1, aR[0] - iW);
    sqlite3_bind_int64(pS, 2, aR[nR-1]);
    while( sqlite3_step(pS)==SQLITE_ROW ){
      int64_t t = sqlite3_column_int64(pS, 0), v = sqlite3_column_int64(pS, 1);
      int lo = 0, hi = nR, i;
      /* the instances covering t: t < R <= t + W */
      while( lo<hi ){ int mid = (lo+hi)/2; if( aR[mid] > t ) hi = mid; else lo = mid+1; }
      for(i=lo; i<nR && aR[i] - iW <= t; i++){
        aFp[i].n++;
        aFp[i].v = (int64_t)((uint64_t)aFp[i].v + (uint64_t)v);
        aFp[i].t = (int64_t)((uint64_t)aFp[i].t + (uint64_t)t);
      }
    }
    rc = sqlite3_finalize(pS);
    sqFilterFree(&flt);
  }
  sqlite3_finalize(pSrc);
  return rc;
}

/* Add the instance range [a, b] to the query's invalidations, merged with
** ranges that overlap it or lie within iGap of it. */
int tsSqInvAdd(sqlite3 *db, const char *zName, int64_t a, int64_t b, int64_t iGap){
  sqlite3_stmt *pS = 0;
  int rc = sqlite3_prepare_v2(db, "SELECT FromTime, ToTime FROM main.ts_scheduled_query_invalidations"
                              " WHERE Name=?1 AND FromTime<=?3 AND ToTime>=?2", -1, &pS, 0);
  if( rc!=SQLITE_OK ) return rc;
  sqlite3_bind_text(pS, 1, zName, -1, SQLITE_STATIC);
  sqlite3_bind_int64(pS, 2, a > INT64_MIN + iGap ? a - iGap : a);
  sqlite3_bind_int64(pS, 3, b < INT64_MAX - iGap ? b + iGap : b);
  while( sqlite3_step(pS)==SQLITE_ROW ){
    int64_t x = sqlite3_column_int64(pS, 0), y = sqlite3_column_int64(pS, 1);
    if( x<a ) a = x;
    if( y>b ) b = y;
  }
  rc = sqlite3_finalize(pS);
  if( rc!=SQLITE_OK ) return rc;
  rc = tsSqStep(db, 0, "DELETE FROM main.ts_scheduled_query_invalidations WHERE Name=?1"
              " AND FromTime<=?3 AND ToTime>=?2", "tii", zName, (sqlite3_int64)a, (sqlite3_int64)b);
  if( SQ_OK(rc) ){
    rc = tsSqStep(db, 0, "INSERT INTO main.ts_scheduled_query_invalidations VALUES(?1,?2,?3)",
                "tii", zName, (sqlite3_int64)a, (sqlite3_int64)b);
  }
  return SQ_OK(rc) ? SQLITE_OK : rc;
}


/*
** Start watching zSDb.zSTab for query zName (inside the caller's
** transaction): the write log exists from now on, and the query's mark is
** its current end (earlier writes were there before the query).
*/
int tsSqWatchSource(sqlite3 *db, const char *zName, const char *zSDb, const char *zSTab){
  sqlite3_stmt *pS = 0;
  int64_t iMark = 0;
  char *zSql = sqlite3_mprintf("CREATE TABLE IF NOT EXISTS \"%w\".\"%w_wlog\"(seq INTEGER PRIMARY KEY"
                               " AUTOINCREMENT, sid INTEGER NOT NULL, tmin INTEGER NOT NULL,"
                               " tmax INTEGER NOT NULL)", zSDb, zSTab);
  int rc;
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_exec(db, zSql, 0, 0, 0);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ) return rc;
  zSql = sqlite3_mprintf("SELECT coalesce(max(seq), 0) FROM \"%w\".\"%w_wlog\"", zSDb, zSTab);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = tsSqStep(db, &pS, zSql, "");
  sqlite3_free(zSql);
  if( rc==SQLITE_ROW ){
    iMark = sqlite3_column_int64(pS, 0);
    sqlite3_finalize(pS);
  }else if( !SQ_OK(rc) ){
    return rc;
  }
  rc = tsSqStep(db, 0, "INSERT OR REPLACE INTO main.ts_scheduled_query_sources(Name, SchemaName,"
              " TableName, LogMark, Filter) VALUES(?1,?2,?3,?4,NULL)", "ttti", zName, zSDb, zSTab,
              (sqlite3_int64)iMark);
  return SQ_OK(rc) ? SQLITE_OK : rc;
}

/*
** Query zName stops watching its sources (it is being deleted; inside the
** caller's transaction): a source nobody else watches loses its write log,
** the others are pruned to the remaining watchers' marks.
*/
int tsSqUnwatchSources(sqlite3 *db, const char *zName){
  sqlite3_stmt *pS = 0;
  TsBuf b;                             /* the statements, NUL-separated */
  const char *z;
  int rc, n = 0, i;
  rc = sqlite3_prepare_v2(db, "SELECT SchemaName, TableName, (SELECT min(LogMark) FROM"
                          " main.ts_scheduled_query_sources o WHERE o.SchemaName=s.SchemaName"
                          " AND o.TableName=s.TableName AND o.Name<>s.Name)"
                          " FROM main.ts_scheduled_query_sources s WHERE Name=?1", -1, &pS, 0);
  if( rc!=SQLITE_OK ) return rc;
  tsBufInit(&b);
  sqlite3_bind_text(pS, 1, zName, -1, SQLITE_STATIC);
  while( sqlite3_step(pS)==SQLITE_ROW ){
    const char *zSDb = (const char*)sqlite3_column_text(pS, 0);
    const char *zSTab = (const char*)sqlite3_column_text(pS, 1);
    char *zSql = sqlite3_column_type(pS, 2)==SQLITE_NULL
      ? sqlite3_mprintf("DROP TABLE IF EXISTS \"%w\".\"%w_wlog\"", zSDb, zSTab)
      : sqlite3_mprintf("DELETE FROM \"%w\".\"%w_wlog\" WHERE seq<=%lld", zSDb, zSTab,
                        (long long)sqlite3_column_int64(pS, 2));
    if( zSql==0 ){ rc = SQLITE_NOMEM; break; }
    tsBufAppendStr(&b, zSql); tsBufAppendByte(&b, 0);
    sqlite3_free(zSql);
    n++;
  }
  sqlite3_finalize(pS);
  if( b.bErr ) rc = SQLITE_NOMEM;
  /* After the read is finished: DROP TABLE fails while a statement reads. */
  for(i=0, z=(const char*)b.a; rc==SQLITE_OK && i<n; i++, z+=strlen(z)+1){
    sqlite3_exec(db, z, 0, 0, 0);      /* a source dropped meanwhile has no log */
  }
  tsBufFree(&b);
  return rc;
}

/* The scans a run's result read (TsEnv.xScanNote): "db\0table\0json\0"
** triples in b. */
int tsSqScansNote(void *pArg, const char *zDb, const char *zTab, const char *zJson, int nJson){
  SqScans *p = (SqScans*)pArg;
  tsBufAppendStr(&p->b, zDb); tsBufAppendByte(&p->b, 0);
  tsBufAppendStr(&p->b, zTab); tsBufAppendByte(&p->b, 0);
  tsBufAppend(&p->b, zJson, (size_t)nJson); tsBufAppendByte(&p->b, 0);
  p->n++;
  return p->b.bErr ? SQLITE_NOMEM : SQLITE_OK;
}

/*
** Merge the scans of one run (p) into the Filter of each source of query
** zName (inside the run's write transaction).  A source the run read
** without a table scan gets '*'.
*/
int tsSqSourcesNote(sqlite3 *db, const char *zName, const SqScans *p){
  sqlite3_stmt *pSrc = 0;
  int rc = sqlite3_prepare_v2(db, "SELECT SchemaName, TableName, Filter FROM"
                              " main.ts_scheduled_query_sources WHERE Name=?1", -1, &pSrc, 0);
  if( rc!=SQLITE_OK ) return rc;
  sqlite3_bind_text(pSrc, 1, zName, -1, SQLITE_STATIC);
  while( rc==SQLITE_OK && sqlite3_step(pSrc)==SQLITE_ROW ){
    const char *zSDb = (const char*)sqlite3_column_text(pSrc, 0);
    const char *zSTab = (const char*)sqlite3_column_text(pSrc, 1);
    const char *zOld = (const char*)sqlite3_column_text(pSrc, 2);
    const char *z = (const char*)p->b.a;
    TsBuf nb; TsJsonW jw;
    sqlite3_stmt *pU = 0;
    int i, nMine = 0;
    if( zOld && strcmp(zOld, "*")==0 ) continue;          /* every series already */
    tsBufInit(&nb); tsJwInit(&jw, &nb);
    tsJwArrBegin(&jw);
    for(i=0; i<p->n; i++){
      const char *zD = z, *zT = zD + strlen(zD) + 1, *zJ = zT + strlen(zT) + 1;
      z = zJ + strlen(zJ) + 1;
      if( sqlite3_stricmp(zD, zSDb)==0 && sqlite3_stricmp(zT, zSTab)==0 ){
        tsJwRaw(&jw, zJ, strlen(zJ));
        nMine++;
      }
    }
    tsJwArrEnd(&jw);
    if( tsJwError(&jw) || nb.bErr ){ tsBufFree(&nb); rc = SQLITE_NOMEM; break; }
    tsBufAppendByte(&nb, 0);
    if( nb.bErr ){ tsBufFree(&nb); rc = SQLITE_NOMEM; break; }
    rc = tsSqStep(db, &pU,
        "WITH u(s) AS (SELECT value FROM json_each(?1) UNION SELECT value FROM json_each(?2))"
        " SELECT CASE WHEN ?3=0 OR (SELECT count(*) FROM u)>?4"
        "  OR EXISTS(SELECT 1 FROM u WHERE json_array_length(s)=0) THEN '*'"
        "  ELSE (SELECT json_group_array(json(s)) FROM (SELECT s FROM u ORDER BY s)) END",
        "ttii", zOld ? zOld : "[]", (const char*)nb.a, (sqlite3_int64)nMine,
        (sqlite3_int64)SQ_MAX_SCANS);
    tsBufFree(&nb);
    if( rc==SQLITE_ROW ){
      char *zNew = tsSqColDup(pU, 0);
      sqlite3_finalize(pU);
      if( zNew==0 ){ rc = SQLITE_NOMEM; break; }
      rc = zOld && strcmp(zOld, zNew)==0 ? SQLITE_OK
         : tsSqStep(db, 0, "UPDATE main.ts_scheduled_query_sources SET Filter=?4 WHERE Name=?1"
                    " AND SchemaName=?2 AND TableName=?3", "tttt", zName, zSDb, zSTab, zNew);
      sqlite3_free(zNew);
    }
    rc = SQ_OK(rc) ? SQLITE_OK : rc;
  }
  sqlite3_finalize(pSrc);
  return rc;
}

/* Record the instances that source rows in [tMin, tMax] invalidate. */
static int sqInvalidate(SqDef *d, sqlite3 *db, int64_t tMin, int64_t tMax){
  int64_t a = tMin + 1, b = tMax > INT64_MAX - d->iWindow ? INT64_MAX : tMax + d->iWindow;
  if( a < d->iFirst ) a = d->iFirst;
  if( b > d->iPrev ) b = d->iPrev;
  return a<=b ? tsSqInvAdd(db, d->zName, a, b, d->iWindow) : SQLITE_OK;
}

/*
** Read the write logs of d's source tables since the last pass (at most
** SQ_MAX_LOG_SCAN rows each), record the instances the rows that concern d
** invalidate, advance d's marks and prune the logs.  One write transaction.
*/
int tsSqScanSources(TsEnv *pEnv, sqlite3 *db, SqDef *d){
  sqlite3_stmt *pSrc = 0;
  int rc;
  if( d->iWindow<=0 ) return SQLITE_OK;
  rc = sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0);
  if( rc!=SQLITE_OK ) return rc;
  rc = sqlite3_prepare_v2(db, "SELECT SchemaName, TableName, LogMark, Filter"
                          " FROM main.ts_scheduled_query_sources WHERE Name=?1", -1, &pSrc, 0);
  if( rc==SQLITE_OK ) sqlite3_bind_text(pSrc, 1, d->zName, -1, SQLITE_STATIC);
  while( rc==SQLITE_OK && sqlite3_step(pSrc)==SQLITE_ROW ){
    const char *zSDb = (const char*)sqlite3_column_text(pSrc, 0);
    const char *zSTab = (const char*)sqlite3_column_text(pSrc, 1);
    int64_t iMark = sqlite3_column_int64(pSrc, 2), iLast = iMark;
    TsTable *pTab = 0;
    SqFilter flt;
    sqlite3_str *pSql;
    sqlite3_stmt *pLog = 0;
    char *zSql, *zOErr = 0;
    int i;
    if( tsTableOpen(pEnv, db, zSDb, zSTab, &pTab, &zOErr)!=SQLITE_OK ){
      sqlite3_free(zOErr);                  /* the source table is gone: nothing to watch */
      continue;
    }
    rc = sqFilterParse(db, (const char*)sqlite3_column_text(pSrc, 3), tsTableSchema(pTab), &flt);
    pSql = sqlite3_str_new(db);
    sqlite3_str_appendf(pSql, "SELECT w.seq, w.tmin, w.tmax, s.measure_name");
    for(i=0; i<tsTableSchema(pTab)->nDim; i++) sqlite3_str_appendf(pSql, ", s.d%d", i);
    sqlite3_str_appendf(pSql, " FROM \"%w\".\"%w_wlog\" w LEFT JOIN \"%w\".\"%w_series\" s"
                        " ON s.id=w.sid WHERE w.seq>?1 ORDER BY w.seq LIMIT %d",
                        zSDb, zSTab, zSDb, zSTab, SQ_MAX_LOG_SCAN);
    zSql = sqlite3_str_finish(pSql);
    tsTableRelease(pTab);
    if( zSql==0 ) rc = SQLITE_NOMEM;
    if( rc==SQLITE_OK && sqlite3_prepare_v2(db, zSql, -1, &pLog, 0)!=SQLITE_OK ){
      pLog = 0;                             /* no log (an older watch): recreate it */
      rc = tsSqWatchSource(db, d->zName, zSDb, zSTab);
    }
    sqlite3_free(zSql);
    if( pLog ){
      /* Consecutive concerning rows are merged before they are recorded. */
      int64_t a = 0, b = 0;
      int bRun = 0;
      sqlite3_bind_int64(pLog, 1, iMark);
      while( rc==SQLITE_OK && sqlite3_step(pLog)==SQLITE_ROW ){
        int64_t x = sqlite3_column_int64(pLog, 1), y = sqlite3_column_int64(pLog, 2);
        iLast = sqlite3_column_int64(pLog, 0);
        if( !d->bPrev || !d->bFirst || !sqFilterMatch(&flt, pLog, 3) ) continue;
        if( bRun && x<=b && y>=a ){
          if( x<a ) a = x;
          if( y>b ) b = y;
          continue;
        }
        if( bRun ) rc = sqInvalidate(d, db, a, b);
        a = x; b = y; bRun = 1;
      }
      if( rc==SQLITE_OK && bRun ) rc = sqInvalidate(d, db, a, b);
      sqlite3_finalize(pLog);
    }
    sqFilterFree(&flt);
    if( rc==SQLITE_OK && iLast>iMark ){
      rc = tsSqStep(db, 0, "UPDATE main.ts_scheduled_query_sources SET LogMark=?4"
                  " WHERE Name=?1 AND SchemaName=?2 AND TableName=?3", "ttti", d->zName, zSDb, zSTab,
                  (sqlite3_int64)iLast);
      rc = SQ_OK(rc) ? SQLITE_OK : rc;
      if( rc==SQLITE_OK ){
        /* Rows every watcher has seen are not needed again. */
        sqlite3_stmt *pM = 0;
        int rc2 = tsSqStep(db, &pM, "SELECT min(LogMark) FROM main.ts_scheduled_query_sources"
                           " WHERE SchemaName=?1 AND TableName=?2", "tt", zSDb, zSTab);
        if( rc2==SQLITE_ROW ){
          zSql = sqlite3_mprintf("DELETE FROM \"%w\".\"%w_wlog\" WHERE seq<=?1", zSDb, zSTab);
          if( zSql==0 ) rc = SQLITE_NOMEM;
          else{
            rc2 = tsSqStep(db, 0, zSql, "i", (sqlite3_int64)sqlite3_column_int64(pM, 0));
            rc = SQ_OK(rc2) ? SQLITE_OK : rc2;
          }
          sqlite3_free(zSql);
          sqlite3_finalize(pM);
        }else if( !SQ_OK(rc2) ){
          rc = rc2;
        }
      }
    }
  }
  sqlite3_finalize(pSrc);
  if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
  if( rc!=SQLITE_OK ) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  return rc;
}

/*
** Databases made before the write logs have ts_scheduled_query_sources with
** (ChunkMark, Snapshot): rename them to (LogMark, Filter) and watch every
** source again from now (writes between the last pass and the upgrade are
** not seen).  A no-op on a current schema.  No DROP TABLE: that fails while
** another statement reads the database.
*/
int tsSqMigrate(sqlite3 *db){
  sqlite3_stmt *pS = 0;
  TsBuf b;
  const char *z;
  int rc, n = 0, i;
  rc = tsSqStep(db, &pS, "SELECT 1 FROM pragma_table_info('ts_scheduled_query_sources', 'main')"
              " WHERE name='ChunkMark'", "");
  sqlite3_finalize(pS);
  if( rc!=SQLITE_ROW ) return SQ_OK(rc) ? SQLITE_OK : rc;
  rc = sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0);
  if( rc!=SQLITE_OK ) return rc;
  rc = sqlite3_exec(db, "ALTER TABLE main.ts_scheduled_query_sources RENAME COLUMN ChunkMark TO LogMark", 0, 0, 0);
  if( rc==SQLITE_OK ){
    rc = sqlite3_exec(db, "ALTER TABLE main.ts_scheduled_query_sources RENAME COLUMN Snapshot TO Filter", 0, 0, 0);
  }
  tsBufInit(&b);
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(db, "SELECT Name, SchemaName, TableName FROM main.ts_scheduled_query_sources",
                            -1, &pS, 0);
  }
  while( rc==SQLITE_OK && sqlite3_step(pS)==SQLITE_ROW ){
    for(i=0; i<3; i++){
      tsBufAppendStr(&b, (const char*)sqlite3_column_text(pS, i));
      tsBufAppendByte(&b, 0);
    }
    n++;
  }
  sqlite3_finalize(pS);
  if( rc==SQLITE_OK && b.bErr ) rc = SQLITE_NOMEM;
  for(i=0, z=(const char*)b.a; rc==SQLITE_OK && i<n; i++){
    const char *zName = z, *zSDb = zName + strlen(zName) + 1, *zSTab = zSDb + strlen(zSDb) + 1;
    z = zSTab + strlen(zSTab) + 1;
    rc = tsSqWatchSource(db, zName, zSDb, zSTab);
    if( rc==SQLITE_ERROR ) rc = SQLITE_OK;  /* the source table is gone */
  }
  tsBufFree(&b);
  if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
  if( rc!=SQLITE_OK ) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  return rc;
}

/*
** Drop the write logs no query watches any more (a delete whose DROP TABLE
** could not run because another statement was reading): the write path
** would fill them forever.  Only "<t>_wlog" of a timeseries table t
** (tsTableList), in the main schema and attached ones.
*/
int tsSqDropOrphanLogs(sqlite3 *db){
  sqlite3_stmt *pS = 0;
  TsBuf b;
  const char *z;
  int rc, n = 0, i, j;
  tsBufInit(&b);
  rc = sqlite3_prepare_v2(db, "SELECT name FROM pragma_database_list WHERE name<>'temp'", -1, &pS, 0);
  while( rc==SQLITE_OK && sqlite3_step(pS)==SQLITE_ROW ){
    const char *zSchema = (const char*)sqlite3_column_text(pS, 0);
    char **azTab = 0, *zE = 0, *zSql;
    int nTab = 0;
    sqlite3_stmt *pT = 0;
    if( tsTableList(db, zSchema, &azTab, &nTab, &zE)!=SQLITE_OK ){ sqlite3_free(zE); continue; }
    zSql = sqlite3_mprintf("SELECT 1 FROM \"%w\".sqlite_schema WHERE type='table' AND name=?1||'_wlog'", zSchema);
    if( zSql==0 || sqlite3_prepare_v2(db, zSql, -1, &pT, 0)!=SQLITE_OK ) nTab = 0;
    for(j=0; j<nTab; j++){
      sqlite3_bind_text(pT, 1, azTab[j], -1, SQLITE_STATIC);
      if( sqlite3_step(pT)==SQLITE_ROW ){
        tsBufAppendStr(&b, zSchema); tsBufAppendByte(&b, 0);
        tsBufAppendStr(&b, azTab[j]); tsBufAppendByte(&b, 0);
        n++;
      }
      sqlite3_reset(pT);
    }
    sqlite3_finalize(pT);
    sqlite3_free(zSql);
    sqlite3_free(azTab);
  }
  sqlite3_finalize(pS);
  if( rc==SQLITE_OK && b.bErr ) rc = SQLITE_NOMEM;
  for(i=0, z=(const char*)b.a; rc==SQLITE_OK && i<n; i++){
    const char *zSDb = z, *zSTab = zSDb + strlen(zSDb) + 1;
    sqlite3_stmt *pW = 0;
    int rc2;
    z = zSTab + strlen(zSTab) + 1;
    rc2 = tsSqStep(db, &pW, "SELECT 1 FROM main.ts_scheduled_query_sources WHERE SchemaName=?1 COLLATE NOCASE"
                   " AND TableName=?2 COLLATE NOCASE", "tt", zSDb, zSTab);
    sqlite3_finalize(pW);
    if( rc2==SQLITE_DONE ){
      char *zSql = sqlite3_mprintf("DROP TABLE IF EXISTS \"%w\".\"%w_wlog\"", zSDb, zSTab);
      if( zSql==0 ){ rc = SQLITE_NOMEM; break; }
      sqlite3_exec(db, zSql, 0, 0, 0);      /* retried by the next pass if it cannot run now */
      sqlite3_free(zSql);
    }else if( !SQ_OK(rc2) ){
      rc = rc2;
    }
  }
  tsBufFree(&b);
  return rc;
}
