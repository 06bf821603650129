/*
** sched_inval.c: late data for scheduled queries with a "Window".
**
** Late data ("Window" in the target): an instance at R covers source times
** [R - Window, R).  Each pass first looks at the chunks that appeared in
** each source table since the last pass (ids above the stored mark) and at
** the newest SQ_SNAPSHOT chunks remembered last time (the vtab rewrites a
** chunk by DELETE + INSERT, which reuses the top ids): a chunk with rows in
** [tmin, tmax] makes the already-run instances R in (tmin, tmax + Window]
** pending (ts_scheduled_query_invalidations; ranges merged when they overlap
** or lie within one Window).  Each run stores a fingerprint of its window
** (rows, version sum, time sum; ts_scheduled_query_windows) taken in the
** same read snapshot as its result.  A pass checks at most max_check pending
** instances with one scan per source, drops the unchanged ones and re-runs
** at most max_refresh changed ones, oldest first; the rest stay pending.
**
*/
#include "sched_int.h"
#include <stdio.h>
#include <string.h>

#define SQ_MAX_CHUNK_SCAN  100000   /* new chunks examined per source per pass */

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
  rc = sqlite3_prepare_v2(db, "SELECT SchemaName, TableName FROM main.ts_scheduled_query_sources"
                          " WHERE Name=?1", -1, &pSrc, 0);
  if( rc!=SQLITE_OK ) return rc;
  sqlite3_bind_text(pSrc, 1, zName, -1, SQLITE_STATIC);
  while( rc==SQLITE_OK && sqlite3_step(pSrc)==SQLITE_ROW ){
    char *zSql = sqlite3_mprintf("SELECT time, version FROM \"%w\".\"%w\" WHERE time>=?1 AND time<?2",
                                 sqlite3_column_text(pSrc, 0), sqlite3_column_text(pSrc, 1));
    sqlite3_stmt *pS = 0;
    if( zSql==0 ){ rc = SQLITE_NOMEM; break; }
    if( sqlite3_prepare_v2(db, zSql, -1, &pS, 0)!=SQLITE_OK ){
      sqlite3_free(zSql);
      continue;                        /* the source is gone */
    }
    sqlite3_free(zSql);
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

/* FNV-1a 64 of a blob (the snapshot's change detector for one chunk). */
static int64_t sqFnv(const unsigned char *a, int n){
  uint64_t h = 1469598103934665603ULL;
  int i;
  for(i=0; i<n; i++){ h ^= a[i]; h *= 1099511628211ULL; }
  return (int64_t)h;
}

/*
** The newest SQ_SNAPSHOT chunks of a source table as JSON
** [[id,tmin,tmax,nrow,hash],...] into *pzSnap (sqlite3_malloc'd), and the
** highest chunk id into *piMax.  Why a snapshot: the vtab rewrites a chunk
** by DELETE + INSERT, and SQLite gives the new row max(rowid)+1, so a
** rewrite of the newest chunks reuses their ids; only ids at the top of the
** id space can be reused, so remembering the top chunks' contents catches
** those rewrites, and any other rewrite shows up as an id above the mark.
*/
#define SQ_SNAPSHOT 32
static int sqSnapshot(sqlite3 *db, const char *zSDb, const char *zSTab, char **pzSnap, int64_t *piMax){
  char *zSql = sqlite3_mprintf("SELECT id, tmin, tmax, nrow, data FROM \"%w\".\"%w_chunks\""
                               " ORDER BY id DESC LIMIT %d", zSDb, zSTab, SQ_SNAPSHOT);
  sqlite3_stmt *pS = 0;
  TsBuf b; TsJsonW jw;
  int rc;
  *pzSnap = 0; *piMax = 0;
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, zSql, -1, &pS, 0);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ) return rc;
  tsBufInit(&b); tsJwInit(&jw, &b);
  tsJwArrBegin(&jw);
  while( sqlite3_step(pS)==SQLITE_ROW ){
    int64_t id = sqlite3_column_int64(pS, 0);
    if( id > *piMax ) *piMax = id;
    tsJwArrBegin(&jw);
    tsJwInt(&jw, id);
    tsJwInt(&jw, sqlite3_column_int64(pS, 1));
    tsJwInt(&jw, sqlite3_column_int64(pS, 2));
    tsJwInt(&jw, sqlite3_column_int64(pS, 3));
    tsJwInt(&jw, sqFnv((const unsigned char*)sqlite3_column_blob(pS, 4), sqlite3_column_bytes(pS, 4)));
    tsJwArrEnd(&jw);
  }
  rc = sqlite3_finalize(pS);
  tsJwArrEnd(&jw);
  if( rc==SQLITE_OK && (tsJwError(&jw) || b.bErr) ) rc = SQLITE_NOMEM;
  if( rc==SQLITE_OK ){
    *pzSnap = sqlite3_mprintf("%.*s", (int)b.n, (const char*)b.a);
    if( *pzSnap==0 ) rc = SQLITE_NOMEM;
  }
  tsBufFree(&b);
  return rc;
}

/* Start watching zSDb.zSTab for query zName: the mark and snapshot now. */
int tsSqWatchSource(sqlite3 *db, const char *zName, const char *zSDb, const char *zSTab){
  char *zSnap = 0;
  int64_t iMark = 0;
  int rc = sqSnapshot(db, zSDb, zSTab, &zSnap, &iMark);
  if( rc==SQLITE_OK ){
    rc = tsSqStep(db, 0, "INSERT OR REPLACE INTO main.ts_scheduled_query_sources"
                " VALUES(?1,?2,?3,?4,?5)", "tttit", zName, zSDb, zSTab, (sqlite3_int64)iMark, zSnap);
    rc = SQ_OK(rc) ? SQLITE_OK : rc;
  }
  sqlite3_free(zSnap);
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
** Look at the chunks that appeared or changed in d's source tables since the
** last pass and record the instances they invalidate.  One write
** transaction.
*/
int tsSqScanSources(sqlite3 *db, SqDef *d){
  sqlite3_stmt *pSrc = 0;
  int rc;
  if( d->iWindow<=0 || !d->bPrev || !d->bFirst ) return SQLITE_OK;
  rc = sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0);
  if( rc!=SQLITE_OK ) return rc;
  rc = sqlite3_prepare_v2(db, "SELECT SchemaName, TableName, ChunkMark, Snapshot"
                          " FROM main.ts_scheduled_query_sources WHERE Name=?1", -1, &pSrc, 0);
  if( rc==SQLITE_OK ) sqlite3_bind_text(pSrc, 1, d->zName, -1, SQLITE_STATIC);
  while( rc==SQLITE_OK && sqlite3_step(pSrc)==SQLITE_ROW ){
    const char *zSDb = (const char*)sqlite3_column_text(pSrc, 0);
    const char *zSTab = (const char*)sqlite3_column_text(pSrc, 1);
    const char *zOld = (const char*)sqlite3_column_text(pSrc, 3);
    int64_t iMark = sqlite3_column_int64(pSrc, 2), iMax = 0;
    char *zSql = sqlite3_mprintf("SELECT id, tmin, tmax FROM \"%w\".\"%w_chunks\" WHERE id>?1"
                                 " ORDER BY id LIMIT %d", zSDb, zSTab, SQ_MAX_CHUNK_SCAN);
    char *zSnap = 0;
    sqlite3_stmt *pC = 0;
    if( zSql==0 ){ rc = SQLITE_NOMEM; break; }
    if( sqlite3_prepare_v2(db, zSql, -1, &pC, 0)!=SQLITE_OK ){
      sqlite3_free(zSql);             /* the source table is gone: nothing to watch */
      continue;
    }
    sqlite3_free(zSql);
    /* 1. chunks above the mark are new */
    sqlite3_bind_int64(pC, 1, iMark);
    while( rc==SQLITE_OK && sqlite3_step(pC)==SQLITE_ROW ){
      rc = sqInvalidate(d, db, sqlite3_column_int64(pC, 1), sqlite3_column_int64(pC, 2));
    }
    sqlite3_finalize(pC); pC = 0;
    /* 2. remembered chunks that changed (same id, other content) */
    if( rc==SQLITE_OK && zOld ){
      zSql = sqlite3_mprintf("SELECT o.value->>0, o.value->>1, o.value->>2, c.tmin, c.tmax, c.nrow,"
                             " c.data, o.value->>3, o.value->>4 FROM json_each(?1) o"
                             " JOIN \"%w\".\"%w_chunks\" c ON c.id=o.value->>0", zSDb, zSTab);
      if( zSql==0 ) rc = SQLITE_NOMEM;
      if( rc==SQLITE_OK && sqlite3_prepare_v2(db, zSql, -1, &pC, 0)==SQLITE_OK ){
        sqlite3_bind_text(pC, 1, zOld, -1, SQLITE_STATIC);
        while( rc==SQLITE_OK && sqlite3_step(pC)==SQLITE_ROW ){
          int64_t oMin = sqlite3_column_int64(pC, 1), oMax = sqlite3_column_int64(pC, 2);
          int64_t cMin = sqlite3_column_int64(pC, 3), cMax = sqlite3_column_int64(pC, 4);
          int64_t h = sqFnv((const unsigned char*)sqlite3_column_blob(pC, 6), sqlite3_column_bytes(pC, 6));
          if( oMin!=cMin || oMax!=cMax || sqlite3_column_int64(pC, 5)!=sqlite3_column_int64(pC, 7)
           || h!=sqlite3_column_int64(pC, 8) ){
            rc = sqInvalidate(d, db, oMin<cMin ? oMin : cMin, oMax>cMax ? oMax : cMax);
          }
        }
      }
      sqlite3_finalize(pC); pC = 0;
      sqlite3_free(zSql);
    }
    /* 3. the new mark and snapshot */
    if( rc==SQLITE_OK ) rc = sqSnapshot(db, zSDb, zSTab, &zSnap, &iMax);
    if( rc==SQLITE_OK ){
      rc = tsSqStep(db, 0, "UPDATE main.ts_scheduled_query_sources SET ChunkMark=?4, Snapshot=?5"
                  " WHERE Name=?1 AND SchemaName=?2 AND TableName=?3", "tttit", d->zName, zSDb, zSTab,
                  (sqlite3_int64)(iMax > iMark ? iMax : iMark), zSnap);
      rc = SQ_OK(rc) ? SQLITE_OK : rc;
    }
    sqlite3_free(zSnap);
  }
  sqlite3_finalize(pSrc);
  if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
  if( rc!=SQLITE_OK ) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  return rc;
}
