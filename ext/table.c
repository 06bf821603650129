/*
** table.c: the table handle (table.h; internals in table_int.h): its
** lifecycle (open, share, release, the connection's list of handles), the
** shadow tables (create, drop, rename; the column and option part of
** <t>_config is schema.c's), the statement cache, the series key and the
** series cache, and reading a chunk back (tsTabChunkLoad).  The format of
** the shadow tables and the series key is described in vtab.c's header.
*/
#include "table_int.h"
#include "source.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>



int tsTabColKind(const TsTable *p, int iCol){
  if( iCol==0 ) return TS_KIND_TIME;
  if( iCol<=p->s.nDim ) return TS_KIND_DIM;
  if( iCol==tsTabColMName(p) ) return TS_KIND_MNAME;
  if( iCol==tsTabColVersion(p) ) return TS_KIND_VERSION;
  return TS_KIND_MEASURE;
}

/* Set the handle's error message (replacing the old one). */
void tsTabErr(TsTable *p, const char *zFmt, ...){
  va_list ap;
  char *z;
  va_start(ap, zFmt);
  z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  sqlite3_free(p->zErrMsg);
  p->zErrMsg = z;
}

/* Return rc from a vtab method: move the handle's message (if any) into
** the vtab's zErrMsg on failure, drop it on success. */
int tsTabVtabRc(sqlite3_vtab *pVtab, int rc){
  TsTable *p = ((TsVtab*)pVtab)->pTab;
  if( p->zErrMsg ){
    if( rc!=SQLITE_OK ){
      sqlite3_free(pVtab->zErrMsg);
      pVtab->zErrMsg = p->zErrMsg;
    }else{
      sqlite3_free(p->zErrMsg);
    }
    p->zErrMsg = 0;
  }
  return rc;
}

int tsTabStmt(TsTable *p, int eStmt, sqlite3_stmt **ppStmt){
  int rc = SQLITE_OK;
  if( p->aStmt[eStmt]==0 ){
    char *zSql = 0;
    const char *zDb = p->zDb, *zTab = p->zName;
    switch( eStmt ){
      case STMT_SERIES_ALL:
        zSql = sqlite3_mprintf("SELECT id, skey, tmin, tmax FROM \"%w\".\"%w_series\" ORDER BY id",
                               zDb, zTab);
        break;
      case STMT_SERIES_FIND:
        zSql = sqlite3_mprintf("SELECT id, tmin, tmax FROM \"%w\".\"%w_series\" WHERE skey=?1",
                               zDb, zTab);
        break;
      case STMT_SERIES_INSERT: {
        int i;
        zSql = sqlite3_mprintf("INSERT INTO \"%w\".\"%w_series\"(skey, measure_name", zDb, zTab);
        for(i=0; zSql && i<p->s.nDim; i++) zSql = sqlite3_mprintf("%z, d%d", zSql, i);
        if( zSql ) zSql = sqlite3_mprintf("%z) VALUES(?1, ?2", zSql);
        for(i=0; zSql && i<p->s.nDim; i++) zSql = sqlite3_mprintf("%z, ?%d", zSql, i+3);
        if( zSql ) zSql = sqlite3_mprintf("%z)", zSql);
        break;
      }
      case STMT_SERIES_RANGE:
        zSql = sqlite3_mprintf("UPDATE \"%w\".\"%w_series\" SET tmin=?2, tmax=?3"
                               " WHERE id=?1 AND skey=?4", zDb, zTab);
        break;
      case STMT_CHUNK_FLOOR:
        zSql = sqlite3_mprintf(
            "SELECT id, tmin, tmax, nrow FROM \"%w\".\"%w_chunks\" WHERE sid=?1 AND tmin BETWEEN"
            " coalesce((SELECT max(tmin) FROM \"%w\".\"%w_chunks\" WHERE sid=?1 AND tmin<=?2), ?2)"
            " AND ?3 ORDER BY tmin", zDb, zTab, zDb, zTab);
        break;
      case STMT_CHUNK_TAIL:
        zSql = sqlite3_mprintf("SELECT id, tmax, nrow FROM \"%w\".\"%w_chunks\" WHERE sid=?1"
                               " ORDER BY tmin DESC LIMIT ?2", zDb, zTab);
        break;
      case STMT_CHUNK_AT:
        zSql = sqlite3_mprintf(
            "SELECT id, tmax, data FROM \"%w\".\"%w_chunks\" WHERE sid=?1 AND tmin<=?2"
            " ORDER BY tmin DESC LIMIT 1", zDb, zTab);
        break;
      case STMT_CHUNK_DATA:
        zSql = sqlite3_mprintf("SELECT data FROM \"%w\".\"%w_chunks\" WHERE id=?1", zDb, zTab);
        break;
      case STMT_CHUNK_INSERT:
        zSql = sqlite3_mprintf("INSERT INTO \"%w\".\"%w_chunks\"(sid, tmin, tmax, nrow, data)"
                               " VALUES(?1, ?2, ?3, ?4, ?5)", zDb, zTab);
        break;
      case STMT_CHUNK_DELETE:
        zSql = sqlite3_mprintf("DELETE FROM \"%w\".\"%w_chunks\" WHERE id=?1", zDb, zTab);
        break;
      case STMT_DATA_VERSION:
        zSql = sqlite3_mprintf("PRAGMA \"%w\".data_version", zDb);
        break;
      case STMT_SCHEMA_VERSION:
        zSql = sqlite3_mprintf("PRAGMA \"%w\".schema_version", zDb);
        break;
      case STMT_SERIES_CHECK:
        zSql = sqlite3_mprintf("SELECT max(id) FROM \"%w\".\"%w_series\"", zDb, zTab);
        break;
      case STMT_ROW_COUNT:
        /* Rows of both tiers: the cold tier's from its manifest. */
        zSql = sqlite3_mprintf("SELECT count(*), total(nrow) + (SELECT total(nrow) FROM"
                               " \"%w\".\"%w_objects\") FROM \"%w\".\"%w_chunks\"",
                               zDb, zTab, zDb, zTab);
        break;
    }
    if( zSql==0 ) return SQLITE_NOMEM;
    rc = sqlite3_prepare_v3(p->db, zSql, -1, SQLITE_PREPARE_PERSISTENT, &p->aStmt[eStmt], 0);
    sqlite3_free(zSql);
    if( rc!=SQLITE_OK ){
      tsTabErr(p, "timeseries %s: %s", p->zName, sqlite3_errmsg(p->db));
    }
  }
  *ppStmt = p->aStmt[eStmt];
  return rc;
}

/* Step a statement expected to give no row; reset it.  On error set the
** vtab message. */
int tsTabStepDone(TsTable *p, sqlite3_stmt *pStmt){
  int rc = sqlite3_step(pStmt);
  if( rc==SQLITE_DONE || rc==SQLITE_ROW ){
    rc = sqlite3_reset(pStmt);
  }else{
    sqlite3_reset(pStmt);
  }
  if( rc!=SQLITE_OK ){
    tsTabErr(p, "timeseries %s: %s", p->zName, sqlite3_errmsg(p->db));
  }
  return rc;
}

int tsTabStmtErr(TsTable *p, sqlite3_stmt *pStmt){
  int rc = sqlite3_reset(pStmt);
  if( rc==SQLITE_OK ) rc = SQLITE_ERROR;
  tsTabErr(p, "timeseries %s: %s", p->zName, sqlite3_errmsg(p->db));
  return rc;
}

/**************************************************************************
** The series key and the series cache.
*/

/* The hash of a series from its values (tsTabValuesHash): per value, two
** words that together hold all of its bytes (overlapping reads of its first
** and last 8 or 4 bytes, so a value of up to 16 bytes costs two loads and
** one multiply, and nothing is read outside it), mixed with the length
** into the running hash by a 64x64->128 multiply (a 64-bit one where the
** compiler has no 128-bit type).  It runs for every inserted row whose
** series the successor guess misses (write.c knownSeries), and is an
** in-memory hash only: nothing stores it. */
#define KEY_K0 0xa0761d6478bd642fULL
#define KEY_K1 0xe7037ed1a0b428dbULL
#define KEY_K2 0x8ebc6af09c88c6e3ULL
static uint64_t keyMix(uint64_t a, uint64_t b){
#ifdef __SIZEOF_INT128__
  __uint128_t r = (__uint128_t)a * b;
  return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
  uint64_t r = (a ^ (a >> 29)) * (b | 1);
  return r ^ (r >> 32);
#endif
}
static uint64_t keyValueHash(uint64_t h, const unsigned char *a, int n){
  uint64_t x = 0, y = 0;
  if( n>16 ){
    int i;
    for(i=0; i+16<n; i+=16) h = keyMix(tsTabKeyRd8(a+i) ^ KEY_K1, tsTabKeyRd8(a+i+8) ^ h);
    x = tsTabKeyRd8(a+n-16);
    y = tsTabKeyRd8(a+n-8);
  }else if( n>=8 ){
    x = tsTabKeyRd8(a);
    y = tsTabKeyRd8(a+n-8);
  }else if( n>=4 ){
    x = tsTabKeyRd4(a);
    y = tsTabKeyRd4(a+n-4);
  }else if( n>0 ){
    x = ((uint64_t)a[0]<<16) | ((uint64_t)a[n>>1]<<8) | a[n-1];
  }
  return keyMix(x ^ KEY_K1 ^ (uint64_t)n, y ^ h ^ KEY_K2);
}

unsigned int tsTabValuesHash(int nDim, const char *const *azDim, const int *anDim,
                             const char *zMName, int nMName){
  uint64_t h = KEY_K0 ^ (uint64_t)nDim;
  int i;
  for(i=0; i<nDim; i++){
    if( azDim[i] ) h = keyValueHash(h, (const unsigned char*)azDim[i], anDim[i]);
    else h = keyMix(h ^ KEY_K2, KEY_K1);
  }
  h = keyValueHash(h, (const unsigned char*)zMName, nMName);
  return (unsigned int)(h ^ (h >> 32));
}

/* Write v as ULEB128 (tsBufAppendVarint's format) to a[]; returns the
** length (at most 10). */
static size_t keyVarint(unsigned char *a, uint64_t v){
  size_t n = 0;
  while( v>=0x80 ){ a[n++] = (unsigned char)(v | 0x80); v >>= 7; }
  a[n++] = (unsigned char)v;
  return n;
}

/* Encode a series key from dimension values (azDim[i]/anDim[i], NULL =
** absent) and the measure name into pBuf (reset first). */
void tsTabKeyEncode(TsBuf *pBuf, int nDim, const char *const *azDim, const int *anDim,
                      const char *zMName, int nMName){
  size_t nMax = 10 + (size_t)nMName, n = 0;
  unsigned char *a;
  int i;
  /* It runs for every inserted row: reserve the largest size once, then
  ** write bytes directly. */
  for(i=0; i<nDim; i++) nMax += azDim[i] ? 11 + (size_t)anDim[i] : 1;
  tsBufReset(pBuf);
  if( tsBufReserve(pBuf, nMax) ) return;   /* sets pBuf->bErr */
  a = pBuf->a;
  for(i=0; i<nDim; i++){
    if( azDim[i]==0 ){
      a[n++] = 0;
    }else{
      a[n++] = 1;
      n += keyVarint(a + n, (uint64_t)anDim[i]);
      if( anDim[i]>0 ) memcpy(a + n, azDim[i], (size_t)anDim[i]);
      n += (size_t)anDim[i];
    }
  }
  n += keyVarint(a + n, (uint64_t)nMName);
  if( nMName>0 ) memcpy(a + n, zMName, (size_t)nMName);
  pBuf->n = n + (size_t)nMName;
}

/* Create a series object from an encoded key (decoding the dimension values
** into NUL-terminated strings).  Returns NULL on OOM or a malformed key. */
static TsSeries *seriesNew(int nDim, const unsigned char *aKey, int nKey){
  TsSeries *p;
  TsRd rd;
  char *z;
  int i;
  size_t nByte = sizeof(TsSeries) + (sizeof(char*) + sizeof(int))*(size_t)nDim + (size_t)nKey*2
               + (size_t)nDim + 2;
  p = sqlite3_malloc64(nByte);
  if( p==0 ) return 0;
  memset(p, 0, sizeof(*p));
  p->nRef = 1;
  p->azDim = (char**)&p[1];
  p->anDim = (int*)&p->azDim[nDim];
  p->aKey = (unsigned char*)&p->anDim[nDim];
  memcpy(p->aKey, aKey, (size_t)nKey);
  p->nKey = nKey;
  z = (char*)&p->aKey[nKey];
  tsRdInit(&rd, aKey, (size_t)nKey);
  for(i=0; i<nDim; i++){
    unsigned char c;
    uint64_t n;
    const unsigned char *a;
    if( tsRdByte(&rd, &c) ) break;
    if( c==0 ){ p->azDim[i] = 0; p->anDim[i] = 0; continue; }
    if( tsRdVarint(&rd, &n) || tsRdBytes(&rd, (size_t)n, &a) ) break;
    memcpy(z, a, (size_t)n); z[n] = 0;
    p->azDim[i] = z;
    p->anDim[i] = (int)n;
    z += n + 1;
  }
  {
    uint64_t n;
    const unsigned char *a;
    if( i<nDim || tsRdVarint(&rd, &n) || tsRdBytes(&rd, (size_t)n, &a) || rd.i!=rd.n ){
      sqlite3_free(p);
      return 0;
    }
    memcpy(z, a, (size_t)n); z[n] = 0;
    p->zMName = z;
    p->nMName = (int)n;
  }
  p->h = tsTabValuesHash(nDim, (const char*const*)p->azDim, p->anDim, p->zMName, p->nMName);
  return p;
}


void tsTabSeriesUnref(TsTable *pTab, TsSeries *p){
  if( p && --p->nRef==0 ){
    tsWritePendFree(pTab, p->pPend);
    sqlite3_free(p);
  }
}

TsSeries *tsTabSeriesFind(TsTable *p, const char *const *azDim, const int *anDim,
                          const char *zMName, int nMName, unsigned int h){
  TsSeries *pS;
  if( p->nHash==0 ) return 0;
  for(pS=p->aHash[h & (p->nHash-1)]; pS; pS=pS->pHashNext){
    if( pS->h==h && tsTabSeriesIs(pS, p->s.nDim, azDim, anDim, zMName, nMName) ) return pS;
  }
  return 0;
}

/* Forget the write path's guesses (TsSeries.pSucc, TsTable.pLastWrite):
** they point at cache members without a reference, so they go whenever
** the cache drops or replaces its series. */
static void cacheGuessClear(TsTable *p){
  int i;
  for(i=0; i<p->nSeries; i++) p->apSeries[i]->pSucc = 0;
  p->pLastWrite = 0;
}

static int hashRebuild(TsTable *p, int nNew){
  TsSeries **aNew = sqlite3_malloc64(sizeof(TsSeries*)*(size_t)nNew);
  int i;
  if( aNew==0 ) return SQLITE_NOMEM;
  memset(aNew, 0, sizeof(TsSeries*)*(size_t)nNew);
  for(i=0; i<p->nSeries; i++){
    TsSeries *pS = p->apSeries[i];
    pS->pHashNext = aNew[pS->h & (nNew-1)];
    aNew[pS->h & (nNew-1)] = pS;
  }
  sqlite3_free(p->aHash);
  p->aHash = aNew;
  p->nHash = nNew;
  return SQLITE_OK;
}

/* Add a series (taking over the caller's reference) to the cache; ids
** arrive in increasing order except during a reload, which re-sorts. */
static int cacheAdd(TsTable *p, TsSeries *pS){
  if( p->nSeries>=p->nSeriesAlloc ){
    int nNew = p->nSeriesAlloc ? p->nSeriesAlloc*2 : 64;
    TsSeries **a = sqlite3_realloc64(p->apSeries, sizeof(TsSeries*)*(size_t)nNew);
    if( a==0 ){ tsTabSeriesUnref(p, pS); return SQLITE_NOMEM; }
    p->apSeries = a;
    p->nSeriesAlloc = nNew;
  }
  p->apSeries[p->nSeries++] = pS;
  if( pS->iId>p->iSeriesMax ) p->iSeriesMax = pS->iId;
  if( p->nSeries*2 > p->nHash ){
    return hashRebuild(p, p->nHash ? p->nHash*4 : 256);
  }
  pS->pHashNext = p->aHash[pS->h & (p->nHash-1)];
  p->aHash[pS->h & (p->nHash-1)] = pS;
  return SQLITE_OK;
}

void tsTabCacheClear(TsTable *p){
  int i;
  cacheGuessClear(p);
  for(i=0; i<p->nSeries; i++) tsTabSeriesUnref(p, p->apSeries[i]);
  p->nSeries = 0;
  p->iSeriesMax = 0;
  if( p->aHash ) memset(p->aHash, 0, sizeof(TsSeries*)*(size_t)p->nHash);
  p->bStale = 1;
}

static void seriesSetRange(TsSeries *pS, sqlite3_stmt *pStmt, int iMin, int iMax){
  if( sqlite3_column_type(pStmt, iMin)==SQLITE_NULL ){
    pS->bChunks = 0;
  }else{
    pS->bChunks = 1;
    pS->tMin = sqlite3_column_int64(pStmt, iMin);
    pS->tMax = sqlite3_column_int64(pStmt, iMax);
  }
}

/* Reload the whole cache from _series.  Keeps the objects of series that
** still exist (cursors may point at them). Must not run while rows are
** pending. */
static int seriesReload(TsTable *p){
  sqlite3_stmt *pStmt;
  TsSeries **apOld = p->apSeries;
  int nOld = p->nSeries, i, rc;
  rc = tsTabStmt(p, STMT_SERIES_ALL, &pStmt);
  if( rc ) return rc;
  cacheGuessClear(p);
  p->apSeries = 0;
  p->nSeries = 0;
  p->nSeriesAlloc = 0;
  p->iSeriesMax = 0;
  /* Reuse the objects of series that still exist (cursors may point at
  ** them): both lists are ordered by id. */
  {
    int j = 0;
    sqlite3_free(p->aHash);
    p->aHash = 0;
    p->nHash = 0;
    while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
      sqlite3_int64 iId = sqlite3_column_int64(pStmt, 0);
      const unsigned char *aKey = sqlite3_column_blob(pStmt, 1);
      int nKey = sqlite3_column_bytes(pStmt, 1);
      TsSeries *pS = 0;
      while( j<nOld && apOld[j]->iId<iId ) j++;
      if( j<nOld && apOld[j]->iId==iId && apOld[j]->nKey==nKey
       && memcmp(apOld[j]->aKey, aKey, (size_t)nKey)==0 ){
        pS = apOld[j];
        pS->nRef++;
      }else{
        pS = seriesNew(p->s.nDim, aKey, nKey);
        if( pS==0 ){
          rc = SQLITE_CORRUPT_VTAB;
          tsTabErr(p, "timeseries %s: malformed series key in %s_series (id %lld)",
                    p->zName, p->zName, iId);
          break;
        }
        pS->iId = iId;
      }
      seriesSetRange(pS, pStmt, 2, 3);
      rc = cacheAdd(p, pS);
    }
    if( rc==SQLITE_OK ){
      rc = sqlite3_reset(pStmt);
      if( rc ) tsTabErr(p, "timeseries %s: %s", p->zName, sqlite3_errmsg(p->db));
    }else{
      sqlite3_reset(pStmt);
    }
  }
  for(i=0; i<nOld; i++) tsTabSeriesUnref(p, apOld[i]);
  sqlite3_free(apOld);
  if( rc==SQLITE_OK && p->nHash==0 ) rc = hashRebuild(p, 256);
  if( rc==SQLITE_OK ){
    rc = tsTabStmt(p, STMT_ROW_COUNT, &pStmt);
    if( rc==SQLITE_OK ){
      if( sqlite3_step(pStmt)==SQLITE_ROW ) p->nRowEst = sqlite3_column_int64(pStmt, 1);
      rc = sqlite3_reset(pStmt);
    }
  }
  if( rc ){
    tsTabCacheClear(p);
  }else{
    p->bStale = 0;
  }
  return rc;
}

/* Does the cache still describe <t>_series?  This connection wrote since
** the last check (maybe to the shadow tables directly, e.g. "DELETE FROM
** t_series", which PRAGMA data_version does not show): compare the largest
** id (one index probe; a count would read every row, per transaction) with
** the cache's.  *pbStale = 1 when they differ.  Edits this misses (a row
** other than the last deleted, a key rewritten) cannot make a write go
** astray: the flush writes a series' range only where id and key still
** match, and repairs the row otherwise (tsTabSeriesRepair). */
static int seriesCheck(TsTable *p, int *pbStale){
  sqlite3_stmt *pStmt;
  sqlite3_int64 iMax = 0;
  int rc;
  *pbStale = 0;
  rc = tsTabStmt(p, STMT_SERIES_CHECK, &pStmt);
  if( rc ) return rc;
  if( sqlite3_step(pStmt)==SQLITE_ROW ) iMax = sqlite3_column_int64(pStmt, 0);
  if( sqlite3_reset(pStmt)!=SQLITE_OK ) return tsTabStmtErr(p, pStmt);
  if( iMax!=p->iSeriesMax ) *pbStale = 1;
  return SQLITE_OK;
}

/* Make the cache current: reload if it is stale, another connection
** committed since the last check (data_version), or this connection wrote
** since and the cache no longer matches <t>_series (seriesCheck).  The
** check costs one index probe, once after each change made on the
** connection, never per row. */
int tsTabSeriesRefresh(TsTable *p){
  sqlite3_stmt *pStmt;
  sqlite3_int64 v = 0, nChg;
  int rc, bReload;
  if( p->pPendFirst ) return SQLITE_OK;   /* we hold the write lock */
  rc = tsTabStmt(p, STMT_DATA_VERSION, &pStmt);
  if( rc ) return rc;
  if( sqlite3_step(pStmt)==SQLITE_ROW ) v = sqlite3_column_int64(pStmt, 0);
  rc = sqlite3_reset(pStmt);
  if( rc ) return tsTabStmtErr(p, pStmt);
  nChg = sqlite3_total_changes64(p->db);
  bReload = p->bStale || !p->bHaveVersion || v!=p->iDataVersion;
  if( !bReload && (!p->bHaveChanges || nChg!=p->nChanges) ){
    /* The lookup chunk may have been edited in place. */
    tsMemLookClear(p);
    rc = seriesCheck(p, &bReload);
    if( rc ) return rc;
  }
  if( bReload ){
    rc = seriesReload(p);
    if( rc==SQLITE_OK ){
      p->iDataVersion = v;
      p->bHaveVersion = 1;
    }
  }
  if( rc==SQLITE_OK ){
    p->nChanges = nChg;
    p->bHaveChanges = 1;
  }
  return rc;
}

/* Find or create the series whose key is in p->key, for a write.
** *ppS gets a cache-owned pointer (no new reference). */
int tsTabSeriesForWrite(TsTable *p, const char *const *azDim, const int *anDim,
                          const char *zMName, int nMName, TsSeries **ppS){
  unsigned int h = tsTabValuesHash(p->s.nDim, azDim, anDim, zMName, nMName);
  TsSeries *pS = tsTabSeriesFind(p, azDim, anDim, zMName, nMName, h);
  sqlite3_stmt *pStmt;
  int rc = SQLITE_OK, i;
  *ppS = 0;
  if( pS ){ *ppS = pS; return SQLITE_OK; }
  pS = seriesNew(p->s.nDim, p->key.a, (int)p->key.n);
  if( pS==0 ) return SQLITE_NOMEM;
  rc = tsTabStmt(p, STMT_SERIES_FIND, &pStmt);
  if( rc==SQLITE_OK ){
    sqlite3_bind_blob(pStmt, 1, p->key.a, (int)p->key.n, SQLITE_STATIC);
    if( sqlite3_step(pStmt)==SQLITE_ROW ){
      pS->iId = sqlite3_column_int64(pStmt, 0);
      seriesSetRange(pS, pStmt, 1, 2);
    }
    rc = sqlite3_reset(pStmt);
    if( rc ) tsTabStmtErr(p, pStmt);
  }
  if( rc==SQLITE_OK && pS->iId==0 ){
    rc = tsTabStmt(p, STMT_SERIES_INSERT, &pStmt);
    if( rc==SQLITE_OK ){
      sqlite3_bind_blob(pStmt, 1, p->key.a, (int)p->key.n, SQLITE_STATIC);
      sqlite3_bind_text(pStmt, 2, zMName, nMName, SQLITE_STATIC);
      for(i=0; i<p->s.nDim; i++){
        if( azDim[i] ){
          sqlite3_bind_text(pStmt, 3+i, azDim[i], anDim[i], SQLITE_STATIC);
        }else{
          sqlite3_bind_null(pStmt, 3+i);
        }
      }
      rc = tsTabStepDone(p, pStmt);
      sqlite3_clear_bindings(pStmt);
      pS->iId = sqlite3_last_insert_rowid(p->db);
    }
  }
  if( rc==SQLITE_OK ){
    rc = cacheAdd(p, pS);
    if( rc==SQLITE_OK ) *ppS = pS;
  }else{
    tsTabSeriesUnref(p, pS);
  }
  return rc;
}

int tsTabSeriesRepair(TsTable *p, TsSeries *pS){
  sqlite3_stmt *pStmt;
  int rc, i, bFound = 0;
  rc = tsTabStmt(p, STMT_SERIES_FIND, &pStmt);
  if( rc ) return rc;
  sqlite3_bind_blob(pStmt, 1, pS->aKey, pS->nKey, SQLITE_STATIC);
  if( sqlite3_step(pStmt)==SQLITE_ROW ){
    pS->iId = sqlite3_column_int64(pStmt, 0);
    seriesSetRange(pS, pStmt, 1, 2);
    bFound = 1;
  }
  if( sqlite3_reset(pStmt)!=SQLITE_OK ) return tsTabStmtErr(p, pStmt);
  if( !bFound ){
    /* Dimension values and measure_name hold no NUL (write.c refuses
    ** them), so the decoded C strings are the values. */
    rc = tsTabStmt(p, STMT_SERIES_INSERT, &pStmt);
    if( rc ) return rc;
    sqlite3_bind_blob(pStmt, 1, pS->aKey, pS->nKey, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 2, pS->zMName, -1, SQLITE_STATIC);
    for(i=0; i<p->s.nDim; i++){
      if( pS->azDim[i] ) sqlite3_bind_text(pStmt, 3+i, pS->azDim[i], -1, SQLITE_STATIC);
      else sqlite3_bind_null(pStmt, 3+i);
    }
    rc = tsTabStepDone(p, pStmt);
    sqlite3_clear_bindings(pStmt);
    if( rc ) return rc;
    pS->iId = sqlite3_last_insert_rowid(p->db);
    pS->bChunks = 0;
  }
  /* ids of the cache may now repeat or be out of order: reload it at the
  ** next check, and forget the lookup chunk. */
  p->bStale = 1;
  tsMemLookClear(p);
  return SQLITE_OK;
}

/**************************************************************************
** Helpers shared by the write path and the row sources: arrays, time
** search, reading a chunk.
*/

void *tsTabReallocArray(void *a, size_t nElem, size_t szElem, int *pRc){
  void *aNew;
  if( *pRc ) return a;
  aNew = sqlite3_realloc64(a, nElem*szElem);
  if( aNew==0 ){ *pRc = SQLITE_NOMEM; return a; }
  return aNew;
}

/* Binary search: index of the first i in [0,n) with aTime[ix(i)] >= t. */
int tsTabSearchTime(const int64_t *aTime, const int *aOrder, int n, sqlite3_int64 t){
  int lo = 0, hi = n;
  while( lo<hi ){
    int mid = (lo+hi)/2;
    sqlite3_int64 v = aTime[aOrder ? aOrder[mid] : mid];
    if( v<t ) lo = mid+1; else hi = mid;
  }
  return lo;
}

int tsTabChunkCorrupt(TsTable *p, sqlite3_int64 iChunk, const char *zWhy){
  tsTabErr(p, "timeseries %s: chunk %lld is corrupt: %s", p->zName, iChunk, zWhy);
  return SQLITE_CORRUPT_VTAB;
}

/* Fetch chunk iChunk's blob into a private copy (*paBlob, sqlite3_malloc'd)
** and open a reader over it with every column decoded into *pRun (whose
** aCol array the caller provides). */
int tsTabChunkLoad(TsTable *p, sqlite3_int64 iChunk, unsigned char **paBlob,
                     TsChunkReader **ppReader, TsRun *pRun, TsChunkCol *aCol, int bCols){
  sqlite3_stmt *pStmt;
  unsigned char *aBlob = 0;
  int nBlob = 0, rc, i;
  TsChunkReader *pReader = 0;
  *paBlob = 0;
  *ppReader = 0;
  rc = tsTabStmt(p, STMT_CHUNK_DATA, &pStmt);
  if( rc ) return rc;
  sqlite3_bind_int64(pStmt, 1, iChunk);
  if( sqlite3_step(pStmt)==SQLITE_ROW ){
    nBlob = sqlite3_column_bytes(pStmt, 0);
    aBlob = sqlite3_malloc64((size_t)nBlob + 1);
    if( aBlob==0 ) rc = SQLITE_NOMEM;
    else if( nBlob ) memcpy(aBlob, sqlite3_column_blob(pStmt, 0), (size_t)nBlob);
  }
  if( sqlite3_reset(pStmt)!=SQLITE_OK ){
    sqlite3_free(aBlob);
    return tsTabStmtErr(p, pStmt);
  }
  if( rc ) return rc;
  if( aBlob==0 ) return tsTabChunkCorrupt(p, iChunk, "row missing");
  if( tsChunkReaderOpen(aBlob, (size_t)nBlob, &pReader)!=TS_CHUNK_OK ){
    sqlite3_free(aBlob);
    return tsTabChunkCorrupt(p, iChunk, "bad header");
  }
  {
    const TsChunkInfo *pInfo = tsChunkReaderInfo(pReader);
    const int64_t *aT = 0, *aV = 0;
    const unsigned char *aM = 0;
    if( pInfo->nCol!=p->s.nMeas ){
      rc = tsTabChunkCorrupt(p, iChunk, "wrong column count");
    }else if( tsChunkReadTime(pReader, &aT)!=TS_CHUNK_OK ){
      rc = tsTabChunkCorrupt(p, iChunk, "bad time column");
    }else if( bCols && (tsChunkReadVersion(pReader, &aV)!=TS_CHUNK_OK
                        || tsChunkReadMark(pReader, &aM)!=TS_CHUNK_OK) ){
      rc = tsTabChunkCorrupt(p, iChunk, "bad version column");
    }
    pRun->n = pInfo->nRow;
    pRun->aTime = aT;
    pRun->aVersion = aV;
    pRun->aMark = aM;
    pRun->aCol = aCol;
    for(i=0; bCols && rc==SQLITE_OK && i<p->s.nMeas; i++){
      if( tsChunkReadCol(pReader, i, &aCol[i])!=TS_CHUNK_OK || aCol[i].eType!=p->s.aMeasType[i] ){
        rc = tsTabChunkCorrupt(p, iChunk, "bad measure column");
      }
    }
  }
  if( rc ){
    tsChunkReaderFree(pReader);
    sqlite3_free(aBlob);
    return rc;
  }
  *paBlob = aBlob;
  *ppReader = pReader;
  return SQLITE_OK;
}

/**************************************************************************
** The handle's lifecycle and the shadow tables.
*/
/* "wlog" (the write log of write.c, kept by ext/sched_inval.c) exists only
** while a scheduled query watches the table: the last TS_NSHADOW_OPTIONAL
** names may be missing. */
static const char *const azShadow[] = { "config", "series", "chunks", "objects", "wlog" };
#define TS_NSHADOW ((int)(sizeof(azShadow)/sizeof(azShadow[0])))
#define TS_NSHADOW_OPTIONAL 1

/* Run SQL built from a format; set *pzErr on failure. */
static int execf(sqlite3 *db, char **pzErr, const char *zFmt, ...){
  va_list ap;
  char *zSql;
  int rc;
  va_start(ap, zFmt);
  zSql = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_exec(db, zSql, 0, 0, 0);
  if( rc!=SQLITE_OK && pzErr ) tsErrSet(pzErr, "%s", sqlite3_errmsg(db));
  sqlite3_free(zSql);
  return rc;
}


/* Create every shadow table and store the options and schema.  Each
** statement is run on its own; names go in as "%w" identifiers and every
** stored value (column definitions, options) is a bound parameter, so no
** column name or option value can become SQL. */
int tsTabShadowCreate(TsTable *p, char **pzErr){
  const char *zDb = p->zDb, *zTab = p->zName;
  char *zDims = sqlite3_mprintf("");
  int rc = SQLITE_OK, i;
  for(i=0; zDims && i<p->s.nDim; i++) zDims = sqlite3_mprintf("%z, d%d TEXT", zDims, i);
  if( zDims==0 ) return SQLITE_NOMEM;
  rc = execf(p->db, pzErr,
      "CREATE TABLE \"%w\".\"%w_config\"(k TEXT PRIMARY KEY, v) WITHOUT ROWID", zDb, zTab);
  if( rc==SQLITE_OK ) rc = execf(p->db, pzErr,
      "CREATE TABLE \"%w\".\"%w_series\"(id INTEGER PRIMARY KEY, skey BLOB NOT NULL UNIQUE,"
      " measure_name TEXT NOT NULL, tmin INTEGER, tmax INTEGER%s)", zDb, zTab, zDims);
  if( rc==SQLITE_OK ) rc = execf(p->db, pzErr,
      "CREATE TABLE \"%w\".\"%w_chunks\"(id INTEGER PRIMARY KEY, sid INTEGER NOT NULL,"
      " tmin INTEGER NOT NULL, tmax INTEGER NOT NULL, nrow INTEGER NOT NULL, data BLOB NOT NULL,"
      " UNIQUE(sid, tmin, tmax, nrow))", zDb, zTab);
  if( rc==SQLITE_OK ) rc = execf(p->db, pzErr,
      "CREATE TABLE \"%w\".\"%w_objects\"(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE,"
      " tmin INTEGER NOT NULL, tmax INTEGER NOT NULL, nrow INTEGER NOT NULL,"
      " nbyte INTEGER NOT NULL, pk_min TEXT, pk_max TEXT, series_filter BLOB, footer BLOB,"
      " created INTEGER NOT NULL, etag TEXT)", zDb, zTab);
  sqlite3_free(zDims);
  if( rc!=SQLITE_OK ) return rc;

  return tsSchemaStore(p->db, zDb, zTab, &p->s, pzErr);
}

/* Free a handle whose last reference is gone: unlink it from the
** connection's list and release everything it owns. */
static void tableFree(TsTable *p){
  int i;
  TsTable **pp;
  if( p==0 ) return;
  for(pp=&p->pEnv->pTableList; *pp; pp=&(*pp)->pNext){
    if( *pp==p ){ *pp = p->pNext; break; }
  }
  tsWritePendDiscardAll(p);
  tsTabCacheClear(p);
  for(i=0; i<STMT_COUNT; i++) sqlite3_finalize(p->aStmt[i]);
  tsMemLookFree(p);
  tsColdMetaFree(p);
  sqlite3_free(p->aHash);
  sqlite3_free(p->apSeries);
  sqlite3_free(p->aStNull);
  sqlite3_free(p->aStNum);
  sqlite3_free((void*)p->azStText);
  sqlite3_free(p->anStText);
  tsBufFree(&p->key);
  tsSchemaClear(&p->s);
  tsEnvUnref(p->pEnv);
  sqlite3_free(p->zErrMsg);
  sqlite3_free(p->zDb);
  sqlite3_free(p->zName);
  sqlite3_free(p);
}

void tsTableRelease(TsTable *pTab){
  if( pTab && --pTab->nRef<=0 ) tableFree(pTab);
}

/* The handle of (zDb, zTab) on this connection if one is open, else NULL. */
TsTable *tsTabFind(TsEnv *pEnv, sqlite3 *db, const char *zDb, const char *zTab){
  TsTable *p;
  for(p=pEnv->pTableList; p; p=p->pNext){
    if( p->db==db && sqlite3_stricmp(p->zDb, zDb)==0 && sqlite3_stricmp(p->zName, zTab)==0 ){
      return p;
    }
  }
  return 0;
}

/* A new handle for table zTab of schema zDb, taking ownership of the parsed
** schema *pS (cleared on failure too), linked into pEnv's list with one
** reference.  NULL on OOM. */
TsTable *tsTabNew(TsEnv *pEnv, sqlite3 *db, const char *zDb, const char *zTab,
                         TsSchema *pS){
  TsTable *p;
  size_t n;
  p = sqlite3_malloc64(sizeof(TsTable));
  if( p==0 ){ tsSchemaClear(pS); return 0; }
  memset(p, 0, sizeof(*p));
  p->nRef = 1;
  p->db = db;
  p->pEnv = tsEnvRef(pEnv);
  p->pNext = pEnv->pTableList;
  pEnv->pTableList = p;
  p->s = *pS;
  memset(pS, 0, sizeof(*pS));
  p->zDb = sqlite3_mprintf("%s", zDb);
  p->zName = sqlite3_mprintf("%s", zTab);
  p->bStale = 1;
  tsBufInit(&p->key);
  p->nCol = 3 + p->s.nDim + p->s.nMeas;
  n = (size_t)p->s.nMeas + 1;
  p->aStNull = sqlite3_malloc64(n);
  p->aStNum = sqlite3_malloc64(n*sizeof(sqlite3_int64));
  p->azStText = sqlite3_malloc64(n*sizeof(char*));
  p->anStText = sqlite3_malloc64(n*sizeof(int));
  if( !p->zDb || !p->zName || !p->aStNull || !p->aStNum || !p->azStText || !p->anStText ){
    tableFree(p);
    return 0;
  }
  memset((void*)p->azStText, 0, n*sizeof(char*));
  tsSchemaPublish(&p->s, &p->pub);
  return p;
}

const char *tsTableDb(const TsTable *pTab){ return pTab->zDb; }
const char *tsTableName(const TsTable *pTab){ return pTab->zName; }
const TsTableSchema *tsTableSchema(const TsTable *pTab){ return &pTab->pub; }
sqlite3 *tsTableDbHandle(const TsTable *pTab){ return pTab->db; }
TsEnv *tsTableEnv(const TsTable *pTab){ return pTab->pEnv; }

int tsTableOpen(TsEnv *pEnv, sqlite3 *db, const char *zDb, const char *zTab,
                TsTable **ppTab, char **pzErr){
  TsTable *p;
  TsSchema s;
  char *zName = 0;
  int rc;
  *ppTab = 0;
  if( zDb==0 ) zDb = "main";
  p = tsTabFind(pEnv, db, zDb, zTab);
  if( p ){
    p->nRef++;
    *ppTab = p;
    return SQLITE_OK;
  }
  memset(&s, 0, sizeof(s));
  rc = tsSchemaLoad(db, zDb, zTab, &s, &zName, pzErr);
  if( rc!=SQLITE_OK ) return rc;
  p = tsTabNew(pEnv, db, zDb, zName, &s);
  sqlite3_free(zName);
  if( p==0 ) return SQLITE_NOMEM;
  *ppTab = p;
  return SQLITE_OK;
}

int tsTableFlush(TsTable *pTab, char **pzErr){
  int rc;
  if( pTab->rcFlush ){
    tsErrSet(pzErr, "timeseries %s: an earlier flush of this transaction failed", pTab->zName);
    return pTab->rcFlush;
  }
  if( pTab->pPendFirst==0 ) return SQLITE_OK;
  rc = tsTabFlushAll(pTab);
  if( rc!=SQLITE_OK ){
    tsErrSet(pzErr, "%s", pTab->zErrMsg ? pTab->zErrMsg : sqlite3_errstr(rc));
    sqlite3_free(pTab->zErrMsg);
    pTab->zErrMsg = 0;
  }
  return rc;
}

void tsTableInvalidate(TsTable *pTab){
  tsTabCacheClear(pTab);
  tsMemLookClear(pTab);
  pTab->iFlushGen++;
  pTab->nRowEst = 0;
}

int tsTableSplitName(const char *zArg, char **pzDb, char **pzTab){
  const char *zDot = strchr(zArg, '.');
  if( zDot ){
    *pzDb = sqlite3_mprintf("%.*s", (int)(zDot-zArg), zArg);
    *pzTab = sqlite3_mprintf("%s", zDot+1);
  }else{
    *pzDb = sqlite3_mprintf("main");
    *pzTab = sqlite3_mprintf("%s", zArg);
  }
  if( *pzDb && *pzTab ) return SQLITE_OK;
  sqlite3_free(*pzDb);
  sqlite3_free(*pzTab);
  *pzDb = *pzTab = 0;
  return SQLITE_NOMEM;
}

/* Does "zDb"."zName_config" exist and hold the format key? */
static int hasFormatKey(sqlite3 *db, const char *zDb, const char *zName){
  sqlite3_stmt *pStmt = 0;
  char *zSql = sqlite3_mprintf("SELECT 1 FROM \"%w\".\"%w_config\" WHERE k='format'", zDb, zName);
  int bYes = 0;
  if( zSql==0 ) return -1;
  if( sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0)==SQLITE_OK ){
    bYes = sqlite3_step(pStmt)==SQLITE_ROW;
  }
  sqlite3_finalize(pStmt);
  sqlite3_free(zSql);
  return bYes;
}

int tsTableList(sqlite3 *db, const char *zDb, char ***pazName, int *pnName, char **pzErr){
  sqlite3_stmt *pStmt = 0;
  TsBuf names;
  char *zSql, **az = 0;
  int rc, n = 0, i;
  size_t nText = 0, off;
  *pazName = 0;
  *pnName = 0;
  if( zDb==0 ) zDb = "main";
  tsBufInit(&names);
  zSql = sqlite3_mprintf("SELECT name FROM \"%w\".sqlite_schema WHERE type='table' AND rootpage=0"
                         " ORDER BY name", zDb);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ){
    tsErrSet(pzErr, "no schema named %s", zDb);
    return SQLITE_ERROR;
  }
  while( sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zName = (const char*)sqlite3_column_text(pStmt, 0);
    int b = zName ? hasFormatKey(db, zDb, zName) : 0;
    if( b<0 ){ rc = SQLITE_NOMEM; break; }
    if( b ){
      tsBufAppend(&names, zName, strlen(zName)+1);
      n++;
    }
  }
  sqlite3_finalize(pStmt);
  if( rc==SQLITE_OK && names.bErr ) rc = SQLITE_NOMEM;
  if( rc==SQLITE_OK ){
    nText = names.n;
    az = sqlite3_malloc64(sizeof(char*)*(size_t)(n+1) + nText + 1);
    if( az==0 ) rc = SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ){
    char *zText = (char*)&az[n+1];
    if( nText ) memcpy(zText, names.a, nText);
    for(i=0, off=0; i<n; i++){
      az[i] = zText + off;
      off += strlen(az[i]) + 1;
    }
    az[n] = 0;
    *pazName = az;
    *pnName = n;
  }
  tsBufFree(&names);
  return rc;
}


/* xDestroy's work: drop the pending rows and the shadow tables, and unlink
** the handle so no later open finds it (the caller releases its
** reference). */
int tsTabDestroy(TsTable *p, char **pzErr){
  TsTable **pp;
  int rc = SQLITE_OK, i;
  tsWritePendDiscardAll(p);
  for(i=0; rc==SQLITE_OK && i<TS_NSHADOW; i++){
    rc = execf(p->db, pzErr, "DROP TABLE IF EXISTS \"%w\".\"%w_%s\"", p->zDb, p->zName, azShadow[i]);
  }
  if( rc ) return rc;
  for(pp=&p->pEnv->pTableList; *pp; pp=&(*pp)->pNext){
    if( *pp==p ){ *pp = p->pNext; p->pNext = 0; break; }
  }
  tsTableInvalidate(p);
  return SQLITE_OK;
}

/* xRename's work: flush, rename the shadow tables, take the new name. */
int tsTabRename(TsTable *p, const char *zNew){
  int rc = SQLITE_OK, i;
  char *zErr = 0, *zNewName;
  rc = tsTabFlushAll(p);
  for(i=0; rc==SQLITE_OK && i<STMT_COUNT; i++){
    sqlite3_finalize(p->aStmt[i]);
    p->aStmt[i] = 0;
  }
  p->bWlogKnown = 0;
  for(i=0; rc==SQLITE_OK && i<TS_NSHADOW; i++){
    if( i>=TS_NSHADOW-TS_NSHADOW_OPTIONAL ){
      char *zSql = sqlite3_mprintf("SELECT 1 FROM \"%w\".sqlite_schema WHERE name=?1", p->zDb);
      char *zOld = sqlite3_mprintf("%s_%s", p->zName, azShadow[i]);
      sqlite3_stmt *pS = 0;
      int bHave = zSql && zOld && sqlite3_prepare_v2(p->db, zSql, -1, &pS, 0)==SQLITE_OK
               && sqlite3_bind_text(pS, 1, zOld, -1, SQLITE_STATIC)==SQLITE_OK
               && sqlite3_step(pS)==SQLITE_ROW;
      sqlite3_finalize(pS);
      sqlite3_free(zSql);
      sqlite3_free(zOld);
      if( !bHave ) continue;
    }
    rc = execf(p->db, &zErr, "ALTER TABLE \"%w\".\"%w_%s\" RENAME TO \"%w_%s\"",
               p->zDb, p->zName, azShadow[i], zNew, azShadow[i]);
  }
  if( rc ){
    tsTabErr(p, "timeseries %s: renaming shadow tables: %s", p->zName, zErr ? zErr : "?");
    sqlite3_free(zErr);
    return rc;
  }
  zNewName = sqlite3_mprintf("%s", zNew);
  if( zNewName==0 ) return SQLITE_NOMEM;
  sqlite3_free(p->zName);
  p->zName = zNewName;
  return SQLITE_OK;
}

int tsTabIsShadowName(const char *zSuffix){
  int i;
  for(i=0; i<TS_NSHADOW; i++) if( sqlite3_stricmp(zSuffix, azShadow[i])==0 ) return 1;
  return 0;
}

/**************************************************************************
** For operations (ops_check.c): the series key decoder and the table list.
*/
void *tsTableKeyDecode(int nDim, const unsigned char *aKey, int nKey,
                       char *const **pazDim, const char **pzMName){
  TsSeries *pS = seriesNew(nDim, aKey, nKey);
  if( pS==0 ) return 0;
  *pazDim = pS->azDim;
  *pzMName = pS->zMName;
  return pS;
}

