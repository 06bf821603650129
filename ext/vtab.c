/*
** vtab.c: the timeseries virtual table (module "timeseries"): schema and
** options, the table handle (table.h, internals in table_int.h), the write
** path and the flush of pending rows into the memory tier, lifecycle and
** transactions, and xBestIndex.  The cursor is in scan.c, which reads through
** the row sources of source.h (the memory tier: source_mem.c).
**
**   CREATE VIRTUAL TABLE cpu USING timeseries(
**     hostname DIMENSION, region DIMENSION,
**     usage_user DOUBLE, usage_system DOUBLE,
**     memory_retention = '6h', magnetic_writes = false);
**   INSERT INTO cpu(time, hostname, region, usage_user)
**     VALUES('2024-05-01T12:00:00Z', 'h1', 'eu', 12.5);
**   SELECT * FROM cpu WHERE hostname IN ('h1','h2') AND time >= ago('1h');
**   SELECT ts_check('cpu'), ts_stats('cpu');
**
** Declared columns, in order: time (INTEGER ns), the dimensions (TEXT),
** measure_name (TEXT), the measures, and the HIDDEN version (INTEGER).
**
** HOW IT WORKS
**
** Shadow tables (all named "<t>_<suffix>", protected by xShadowName):
**
**   <t>_config(k TEXT PRIMARY KEY, v)       options ("memory_retention" ...)
**                                           and the schema ("column.N")
**   <t>_series(id INTEGER PRIMARY KEY,      one row per series = (dimension
**     skey BLOB UNIQUE, measure_name TEXT,  values, measure_name); skey is
**     tmin, tmax, d0, d1, ...)              the encoded series key (below),
**                                           tmin/tmax the time range of its
**                                           chunks (NULL while it has none),
**                                           dN the value of dimension N
**   <t>_chunks(id INTEGER PRIMARY KEY,      compressed column chunks (format
**     sid, tmin, tmax, nrow, data BLOB,     in chunk.h / chunk.c); the UNIQUE
**     UNIQUE(sid, tmin, tmax, nrow))        constraint is the covering index
**                                           of chunk lookups (an automatic
**                                           index follows its table's renames)
**   <t>_objects(...)                        the cold-tier manifest (created
**                                           here, filled by tiering)
**
** Invariants: the chunks of one series have disjoint time ranges [tmin,tmax]
** and each record key (series, time) exists at most once, so a series read
** in chunk order is in time order.  _series.tmin/tmax equal the min/max over
** the series' chunks.
**
** Series key (skey): for each dimension in declaration order one byte 0
** (absent, NULL) or 1 followed by varint(length) and the UTF-8 bytes; then
** varint(length) and the bytes of measure_name.
**
** Writes are buffered FTS5-style: xUpdate validates the row (type, window,
** Timestream's duplicate/version rules against the pending buffer and, only
** when the row's time is not after the series' last chunk, against the chunk
** that covers it) and appends it to the series' pending buffer in RAM.  The
** buffers are flushed into chunks in xSync, xSavepoint, xRelease, before every
** read of the table, and when they pass TS_PENDING_BUDGET bytes; xRollback and
** xRollbackTo discard them (every pending row is younger than the innermost
** savepoint because xSavepoint flushes).  xCommit does nothing.  A flush
** merges a series' pending rows into the chunks they fall into (rewriting
** only those chunks) and appends the rest as new chunks; a chunk smaller than
** TS_CHUNK_TARGET rows absorbs neighbouring new rows, which is the bounded,
** incremental compaction of small chunks (every flush of a series rewrites at
** most the chunks its rows touch, each at most 2*TS_CHUNK_TARGET rows).
**
** Cross-connection visibility: nothing about chunks is cached across scans;
** the per-connection series cache (skey -> id, time range) is checked against
** PRAGMA data_version before each scan and at the first write of each
** transaction, and dropped after a rollback.  Pending rows of a connection
** exist only inside its write transaction, so other connections never see
** them.
*/
#include "table_int.h"
#include "source.h"
#include "numtext.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/**************************************************************************
** Structures.
*/


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
        zSql = sqlite3_mprintf("UPDATE \"%w\".\"%w_series\" SET tmin=?2, tmax=?3 WHERE id=?1",
                               zDb, zTab);
        break;
      case STMT_CHUNK_FLOOR:
        zSql = sqlite3_mprintf(
            "SELECT id, tmin, tmax, nrow FROM \"%w\".\"%w_chunks\" WHERE sid=?1 AND tmin BETWEEN"
            " coalesce((SELECT max(tmin) FROM \"%w\".\"%w_chunks\" WHERE sid=?1 AND tmin<=?2), ?2)"
            " AND ?3 ORDER BY tmin", zDb, zTab, zDb, zTab);
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
      case STMT_ROW_COUNT:
        zSql = sqlite3_mprintf("SELECT count(*), total(nrow) FROM \"%w\".\"%w_chunks\"", zDb, zTab);
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

/* Hash of an encoded series key: 8 bytes per step (it runs for every
** inserted row). */
unsigned int tsTabKeyHash(const unsigned char *a, int n){
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n;
  int i = 0;
  for(; i+8<=n; i+=8){
    uint64_t w;
    memcpy(&w, a+i, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
  }
  for(; i<n; i++) h = (h ^ a[i]) * 0x100000001b3ULL;
  h ^= h >> 29;
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
  size_t nByte = sizeof(TsSeries) + sizeof(char*)*(size_t)nDim + (size_t)nKey*2 + (size_t)nDim + 2;
  p = sqlite3_malloc64(nByte);
  if( p==0 ) return 0;
  memset(p, 0, sizeof(*p));
  p->nRef = 1;
  p->azDim = (char**)&p[1];
  p->aKey = (unsigned char*)&p->azDim[nDim];
  memcpy(p->aKey, aKey, (size_t)nKey);
  p->nKey = nKey;
  p->h = tsTabKeyHash(aKey, nKey);
  z = (char*)&p->aKey[nKey];
  tsRdInit(&rd, aKey, (size_t)nKey);
  for(i=0; i<nDim; i++){
    unsigned char c;
    uint64_t n;
    const unsigned char *a;
    if( tsRdByte(&rd, &c) ) break;
    if( c==0 ){ p->azDim[i] = 0; continue; }
    if( tsRdVarint(&rd, &n) || tsRdBytes(&rd, (size_t)n, &a) ) break;
    memcpy(z, a, (size_t)n); z[n] = 0;
    p->azDim[i] = z;
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
  }
  return p;
}

static void pendFree(TsTable *pTab, TsPend *p);

void tsTabSeriesUnref(TsTable *pTab, TsSeries *p){
  if( p && --p->nRef==0 ){
    pendFree(pTab, p->pPend);
    sqlite3_free(p);
  }
}

TsSeries *tsTabSeriesFind(TsTable *p, const unsigned char *aKey, int nKey, unsigned int h){
  TsSeries *pS;
  if( p->nHash==0 ) return 0;
  for(pS=p->aHash[h & (p->nHash-1)]; pS; pS=pS->pHashNext){
    if( pS->h==h && pS->nKey==nKey && memcmp(pS->aKey, aKey, (size_t)nKey)==0 ) return pS;
  }
  return 0;
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
  if( p->nSeries*2 > p->nHash ){
    return hashRebuild(p, p->nHash ? p->nHash*4 : 256);
  }
  pS->pHashNext = p->aHash[pS->h & (p->nHash-1)];
  p->aHash[pS->h & (p->nHash-1)] = pS;
  return SQLITE_OK;
}

static void cacheClear(TsTable *p){
  int i;
  for(i=0; i<p->nSeries; i++) tsTabSeriesUnref(p, p->apSeries[i]);
  p->nSeries = 0;
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
  p->apSeries = 0;
  p->nSeries = 0;
  p->nSeriesAlloc = 0;
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
    cacheClear(p);
  }else{
    p->bStale = 0;
  }
  return rc;
}

/* Make the cache current: reload if it is stale or another connection
** committed since the last check. */
int tsTabSeriesRefresh(TsTable *p){
  sqlite3_stmt *pStmt;
  sqlite3_int64 v = 0;
  int rc;
  if( p->pPendFirst ) return SQLITE_OK;   /* we hold the write lock */
  rc = tsTabStmt(p, STMT_DATA_VERSION, &pStmt);
  if( rc ) return rc;
  if( sqlite3_step(pStmt)==SQLITE_ROW ) v = sqlite3_column_int64(pStmt, 0);
  rc = sqlite3_reset(pStmt);
  if( rc ) return tsTabStmtErr(p, pStmt);
  if( p->bStale || !p->bHaveVersion || v!=p->iDataVersion ){
    rc = seriesReload(p);
    if( rc==SQLITE_OK ){
      p->iDataVersion = v;
      p->bHaveVersion = 1;
    }
  }
  return rc;
}

/* Find or create the series whose key is in p->key, for a write.
** *ppS gets a cache-owned pointer (no new reference). */
static int seriesForWrite(TsTable *p, const char *const *azDim, const int *anDim,
                          const char *zMName, int nMName, TsSeries **ppS){
  unsigned int h = tsTabKeyHash(p->key.a, (int)p->key.n);
  TsSeries *pS = tsTabSeriesFind(p, p->key.a, (int)p->key.n, h);
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

/**************************************************************************
** Runs of rows: a read-only view of rows in column arrays (a decoded chunk
** or the pending buffer), and an owning builder used to merge runs.
*/

static void runBufFree(TsRunBuf *p){
  int i;
  for(i=0; i<p->nCol; i++){
    if( p->aaNull ) sqlite3_free(p->aaNull[i]);
    if( p->aaNum ) sqlite3_free(p->aaNum[i]);
    if( p->aazText ) sqlite3_free((void*)p->aazText[i]);
    if( p->aanText ) sqlite3_free(p->aanText[i]);
  }
  sqlite3_free(p->aaNull);
  sqlite3_free(p->aaNum);
  sqlite3_free(p->aazText);
  sqlite3_free(p->aanText);
  sqlite3_free(p->aTime);
  sqlite3_free(p->aVersion);
  sqlite3_free(p->r.aCol);
  memset(p, 0, sizeof(*p));
}

static int runBufInit(TsRunBuf *p, int nCol, const int *aType, int nAlloc){
  int i;
  memset(p, 0, sizeof(*p));
  p->nCol = nCol;
  p->nAlloc = nAlloc;
  p->aTime = sqlite3_malloc64(sizeof(int64_t)*(size_t)nAlloc);
  p->aVersion = sqlite3_malloc64(sizeof(int64_t)*(size_t)nAlloc);
  p->aaNull = sqlite3_malloc64(sizeof(void*)*(size_t)(nCol+1));
  p->aaNum = sqlite3_malloc64(sizeof(void*)*(size_t)(nCol+1));
  p->aazText = sqlite3_malloc64(sizeof(void*)*(size_t)(nCol+1));
  p->aanText = sqlite3_malloc64(sizeof(void*)*(size_t)(nCol+1));
  p->r.aCol = sqlite3_malloc64(sizeof(TsChunkCol)*(size_t)(nCol+1));
  if( !p->aTime || !p->aVersion || !p->aaNull || !p->aaNum || !p->aazText || !p->aanText
   || !p->r.aCol ){
    p->nCol = 0;
    runBufFree(p);
    return SQLITE_NOMEM;
  }
  memset(p->aaNull, 0, sizeof(void*)*(size_t)(nCol+1));
  memset(p->aaNum, 0, sizeof(void*)*(size_t)(nCol+1));
  memset(p->aazText, 0, sizeof(void*)*(size_t)(nCol+1));
  memset(p->aanText, 0, sizeof(void*)*(size_t)(nCol+1));
  memset(p->r.aCol, 0, sizeof(TsChunkCol)*(size_t)(nCol+1));
  for(i=0; i<nCol; i++){
    TsChunkCol *c = &p->r.aCol[i];
    p->aaNull[i] = sqlite3_malloc64((size_t)nAlloc);
    if( p->aaNull[i]==0 ){ runBufFree(p); return SQLITE_NOMEM; }
    c->eType = aType[i];
    c->aNull = p->aaNull[i];
    if( aType[i]==TS_TYPE_VARCHAR ){
      p->aazText[i] = sqlite3_malloc64(sizeof(char*)*(size_t)nAlloc);
      p->aanText[i] = sqlite3_malloc64(sizeof(int)*(size_t)nAlloc);
      if( !p->aazText[i] || !p->aanText[i] ){ runBufFree(p); return SQLITE_NOMEM; }
      c->azText = p->aazText[i];
      c->anText = p->aanText[i];
    }else{
      p->aaNum[i] = sqlite3_malloc64(sizeof(int64_t)*(size_t)nAlloc);
      if( !p->aaNum[i] ){ runBufFree(p); return SQLITE_NOMEM; }
      c->aInt = p->aaNum[i];
      c->aDouble = (const double*)(void*)p->aaNum[i];
    }
  }
  p->r.aTime = p->aTime;
  p->r.aVersion = p->aVersion;
  return SQLITE_OK;
}

/* Append row iRow of pSrc (capacity must suffice). */
static void runBufPush(TsRunBuf *p, const TsRun *pSrc, int iRow){
  int n = p->r.n, i;
  p->aTime[n] = pSrc->aTime[iRow];
  p->aVersion[n] = pSrc->aVersion ? pSrc->aVersion[iRow] : 1;
  for(i=0; i<p->nCol; i++){
    const TsChunkCol *c = &pSrc->aCol[i];
    int bNull = c->aNull ? c->aNull[iRow]!=0 : 0;
    p->aaNull[i][n] = (unsigned char)bNull;
    if( c->eType==TS_TYPE_VARCHAR ){
      p->aazText[i][n] = bNull ? 0 : c->azText[iRow];
      p->aanText[i][n] = bNull ? 0 : c->anText[iRow];
    }else if( c->eType==TS_TYPE_DOUBLE ){
      ((double*)(void*)p->aaNum[i])[n] = bNull ? 0.0 : c->aDouble[iRow];
    }else{
      p->aaNum[i][n] = bNull ? 0 : c->aInt[iRow];
    }
  }
  p->r.n = n+1;
}

/* The columns of run pRun from row k on, for the encoder. */
static void runSlice(const TsRun *pRun, int nCol, int k, TsChunkCol *aOut){
  int i;
  for(i=0; i<nCol; i++){
    const TsChunkCol *c = &pRun->aCol[i];
    aOut[i] = *c;
    if( c->aNull ) aOut[i].aNull = c->aNull + k;
    if( c->aDouble ) aOut[i].aDouble = c->aDouble + k;
    if( c->aInt ) aOut[i].aInt = c->aInt + k;
    if( c->azText ) aOut[i].azText = c->azText + k;
    if( c->anText ) aOut[i].anText = c->anText + k;
  }
}

/**************************************************************************
** The pending buffer.
*/
static void pendFree(TsTable *pTab, TsPend *p){
  int i, j;
  if( p==0 ) return;
  for(i=0; i<pTab->s.nMeas; i++){
    if( p->aazText && p->aazText[i] ){
      for(j=0; j<p->nRow; j++) sqlite3_free(p->aazText[i][j]);
      sqlite3_free(p->aazText[i]);
    }
    if( p->aanText ) sqlite3_free(p->aanText[i]);
    if( p->aaNull ) sqlite3_free(p->aaNull[i]);
    if( p->aaNum ) sqlite3_free(p->aaNum[i]);
  }
  sqlite3_free(p->aazText);
  sqlite3_free(p->aanText);
  sqlite3_free(p->aaNull);
  sqlite3_free(p->aaNum);
  sqlite3_free(p->aTime);
  sqlite3_free(p->aVersion);
  sqlite3_free(p->aOrder);
  sqlite3_free(p);
}

/* Empty a buffer, keeping its arrays for the next rows. */
static void pendReset(TsTable *pTab, TsPend *p){
  int i, j;
  if( p==0 ) return;
  for(i=0; i<pTab->s.nMeas; i++){
    if( pTab->s.aMeasType[i]==TS_TYPE_VARCHAR && p->aazText[i] ){
      for(j=0; j<p->nRow; j++){ sqlite3_free(p->aazText[i][j]); p->aazText[i][j] = 0; }
    }
  }
  p->nRow = 0;
  p->bInOrder = 1;
}

void *tsTabReallocArray(void *a, size_t nElem, size_t szElem, int *pRc){
  void *aNew;
  if( *pRc ) return a;
  aNew = sqlite3_realloc64(a, nElem*szElem);
  if( aNew==0 ){ *pRc = SQLITE_NOMEM; return a; }
  return aNew;
}

/* Make room for one more slot. */
static int pendGrow(TsTable *pTab, TsPend *p){
  int rc = SQLITE_OK, i, nNew;
  size_t n;
  if( p->nRow<p->nAlloc ) return SQLITE_OK;
  nNew = p->nAlloc ? p->nAlloc*2 : 16;
  n = (size_t)nNew;
  p->aTime = tsTabReallocArray(p->aTime, n, sizeof(sqlite3_int64), &rc);
  p->aVersion = tsTabReallocArray(p->aVersion, n, sizeof(sqlite3_int64), &rc);
  p->aOrder = tsTabReallocArray(p->aOrder, n, sizeof(int), &rc);
  for(i=0; i<pTab->s.nMeas; i++){
    p->aaNull[i] = tsTabReallocArray(p->aaNull[i], n, 1, &rc);
    if( pTab->s.aMeasType[i]==TS_TYPE_VARCHAR ){
      p->aazText[i] = tsTabReallocArray(p->aazText[i], n, sizeof(char*), &rc);
      p->aanText[i] = tsTabReallocArray(p->aanText[i], n, sizeof(int), &rc);
    }else{
      p->aaNum[i] = tsTabReallocArray(p->aaNum[i], n, sizeof(sqlite3_int64), &rc);
    }
  }
  if( rc==SQLITE_OK ) p->nAlloc = nNew;
  return rc;
}

static TsPend *pendNew(TsTable *pTab){
  TsPend *p = sqlite3_malloc64(sizeof(TsPend));
  size_t n = sizeof(void*)*(size_t)pTab->s.nMeas;
  if( p==0 ) return 0;
  memset(p, 0, sizeof(*p));
  p->bInOrder = 1;
  p->aaNull = sqlite3_malloc64(n);
  p->aaNum = sqlite3_malloc64(n);
  p->aazText = sqlite3_malloc64(n);
  p->aanText = sqlite3_malloc64(n);
  if( !p->aaNull || !p->aaNum || !p->aazText || !p->aanText ){
    pendFree(pTab, p);
    return 0;
  }
  memset(p->aaNull, 0, n);
  memset(p->aaNum, 0, n);
  memset(p->aazText, 0, n);
  memset(p->aanText, 0, n);
  return p;
}

/* Store the staged row (pTab->aSt*) with time t and version v in slot iSlot,
** replacing what the slot held. */
static int pendSetSlot(TsTable *pTab, TsPend *p, int iSlot, sqlite3_int64 t,
                       sqlite3_int64 v, int bNewSlot){
  int i;
  sqlite3_int64 nByte = 0;
  for(i=0; i<pTab->s.nMeas; i++){
    int bNull = pTab->aStNull[i];
    p->aaNull[i][iSlot] = (unsigned char)bNull;
    if( pTab->s.aMeasType[i]==TS_TYPE_VARCHAR ){
      char *z = 0;
      if( !bNull ){
        int n = pTab->anStText[i];
        z = sqlite3_malloc64((size_t)n + 1);
        if( z==0 ){
          if( bNewSlot ){
            /* leave the slot well-formed for pendFree */
            for(; i<pTab->s.nMeas; i++){
              if( pTab->s.aMeasType[i]==TS_TYPE_VARCHAR ) p->aazText[i][iSlot] = 0;
            }
          }
          return SQLITE_NOMEM;
        }
        memcpy(z, pTab->azStText[i], (size_t)n);
        z[n] = 0;
        nByte += n;
      }
      if( !bNewSlot ) sqlite3_free(p->aazText[i][iSlot]);
      p->aazText[i][iSlot] = z;
      p->aanText[i][iSlot] = bNull ? 0 : pTab->anStText[i];
    }else{
      p->aaNum[i][iSlot] = pTab->aStNum[i];
    }
  }
  p->aTime[iSlot] = t;
  p->aVersion[iSlot] = v;
  pTab->nPendBytes += nByte + 20 + 9*pTab->s.nMeas;
  return SQLITE_OK;
}

/* A run view of the pending buffer's slots (not sorted: use aOrder). */
static void pendView(TsTable *pTab, TsPend *p, TsRun *pRun, TsChunkCol *aCol){
  int i;
  pRun->n = p->nRow;
  pRun->aTime = (const int64_t*)p->aTime;
  pRun->aVersion = (const int64_t*)p->aVersion;
  pRun->aCol = aCol;
  for(i=0; i<pTab->s.nMeas; i++){
    memset(&aCol[i], 0, sizeof(TsChunkCol));
    aCol[i].eType = pTab->s.aMeasType[i];
    aCol[i].aNull = p->aaNull[i];
    aCol[i].aInt = (const int64_t*)p->aaNum[i];
    aCol[i].aDouble = (const double*)(void*)p->aaNum[i];
    aCol[i].azText = (const char*const*)p->aazText[i];
    aCol[i].anText = p->aanText[i];
  }
}

/* Does the staged row equal row iRow of pRun (all measures, NULLs equal)? */
static int stagedEquals(TsTable *pTab, const TsRun *pRun, int iRow){
  int i;
  for(i=0; i<pTab->s.nMeas; i++){
    const TsChunkCol *c = &pRun->aCol[i];
    int bNull = c->aNull ? c->aNull[iRow]!=0 : 0;
    if( bNull!=(pTab->aStNull[i]!=0) ) return 0;
    if( bNull ) continue;
    switch( c->eType ){
      case TS_TYPE_DOUBLE: {
        double r;
        memcpy(&r, &pTab->aStNum[i], sizeof(r));
        if( c->aDouble[iRow]!=r ) return 0;
        break;
      }
      case TS_TYPE_VARCHAR:
        if( c->anText[iRow]!=pTab->anStText[i]
         || memcmp(c->azText[iRow], pTab->azStText[i], (size_t)pTab->anStText[i])!=0 ) return 0;
        break;
      default:
        if( c->aInt[iRow]!=pTab->aStNum[i] ) return 0;
        break;
    }
  }
  return 1;
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

/**************************************************************************
** Flushing pending rows into chunks.
*/

/* Encode run rows [0, pRun->n) of series iSid into chunks of about
** TS_CHUNK_TARGET rows (one chunk up to 2*TS_CHUNK_TARGET) and insert them. */
static int chunksWrite(TsTable *p, sqlite3_int64 iSid, const TsRun *pRun){
  int nPiece = pRun->n<=2*TS_CHUNK_TARGET ? 1 : (pRun->n + TS_CHUNK_TARGET - 1)/TS_CHUNK_TARGET;
  int k, iStart = 0, rc = SQLITE_OK;
  TsChunkCol *aCol = sqlite3_malloc64(sizeof(TsChunkCol)*(size_t)(p->s.nMeas+1));
  TsBuf buf;
  sqlite3_stmt *pStmt = 0;
  if( aCol==0 ) return SQLITE_NOMEM;
  tsBufInit(&buf);
  rc = tsTabStmt(p, STMT_CHUNK_INSERT, &pStmt);
  for(k=0; rc==SQLITE_OK && k<nPiece; k++){
    int iEnd = (int)((sqlite3_int64)pRun->n*(k+1)/nPiece);
    int n = iEnd - iStart, rcc;
    runSlice(pRun, p->s.nMeas, iStart, aCol);
    tsBufReset(&buf);
    rcc = tsChunkEncode(n, pRun->aTime+iStart, pRun->aVersion ? pRun->aVersion+iStart : 0,
                        p->s.nMeas, aCol, &buf);
    if( rcc!=TS_CHUNK_OK || buf.bErr ){
      rc = rcc==TS_CHUNK_NOMEM || buf.bErr ? SQLITE_NOMEM : SQLITE_ERROR;
      if( rc==SQLITE_ERROR ){
        tsTabErr(p, "timeseries %s: chunk encoder failed (code %d)", p->zName, rcc);
      }
      break;
    }
    sqlite3_bind_int64(pStmt, 1, iSid);
    sqlite3_bind_int64(pStmt, 2, pRun->aTime[iStart]);
    sqlite3_bind_int64(pStmt, 3, pRun->aTime[iEnd-1]);
    sqlite3_bind_int(pStmt, 4, n);
    sqlite3_bind_blob(pStmt, 5, buf.a, (int)buf.n, SQLITE_STATIC);
    rc = tsTabStepDone(p, pStmt);
    iStart = iEnd;
  }
  if( pStmt ) sqlite3_bind_null(pStmt, 5);
  tsBufFree(&buf);
  sqlite3_free(aCol);
  return rc;
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
    if( pInfo->nCol!=p->s.nMeas ){
      rc = tsTabChunkCorrupt(p, iChunk, "wrong column count");
    }else if( tsChunkReadTime(pReader, &aT)!=TS_CHUNK_OK ){
      rc = tsTabChunkCorrupt(p, iChunk, "bad time column");
    }else if( bCols && tsChunkReadVersion(pReader, &aV)!=TS_CHUNK_OK ){
      rc = tsTabChunkCorrupt(p, iChunk, "bad version column");
    }
    pRun->n = pInfo->nRow;
    pRun->aTime = aT;
    pRun->aVersion = aV;
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

/* Merge pending rows aOrder[i0..i1) of pPend (view pPendRun) into chunk
** iChunk: pending rows replace chunk rows of the same time. */
static int chunkMerge(TsTable *p, TsSeries *pS, sqlite3_int64 iChunk, const TsRun *pPendRun,
                      const int *aOrder, int i0, int i1){
  unsigned char *aBlob = 0;
  TsChunkReader *pReader = 0;
  TsChunkCol *aCol = sqlite3_malloc64(sizeof(TsChunkCol)*(size_t)(p->s.nMeas+1));
  TsRun old;
  TsRunBuf out;
  int rc, a = 0, b = i0;
  memset(&out, 0, sizeof(out));
  if( aCol==0 ) return SQLITE_NOMEM;
  rc = tsTabChunkLoad(p, iChunk, &aBlob, &pReader, &old, aCol, 1);
  if( rc==SQLITE_OK ) rc = runBufInit(&out, p->s.nMeas, p->s.aMeasType, old.n + (i1-i0));
  while( rc==SQLITE_OK && (a<old.n || b<i1) ){
    if( b>=i1 || (a<old.n && old.aTime[a]<pPendRun->aTime[aOrder[b]]) ){
      runBufPush(&out, &old, a++);
    }else{
      if( a<old.n && old.aTime[a]==pPendRun->aTime[aOrder[b]] ) a++;
      runBufPush(&out, pPendRun, aOrder[b++]);
    }
  }
  if( rc==SQLITE_OK ){
    sqlite3_stmt *pStmt;
    rc = tsTabStmt(p, STMT_CHUNK_DELETE, &pStmt);
    if( rc==SQLITE_OK ){
      sqlite3_bind_int64(pStmt, 1, iChunk);
      rc = tsTabStepDone(p, pStmt);
    }
  }
  if( rc==SQLITE_OK ) rc = chunksWrite(p, pS->iId, &out.r);
  runBufFree(&out);
  tsChunkReaderFree(pReader);
  sqlite3_free(aBlob);
  sqlite3_free(aCol);
  return rc;
}

/* Flush the pending rows of one series (see the header comment). */
static int flushSeries(TsTable *p, TsSeries *pS){
  TsPend *pP = pS->pPend;
  TsChunkCol *aCol = 0;
  TsRun pend;
  sqlite3_int64 *aC = 0;   /* chunk headers: id, tmin, tmax, nrow per chunk */
  int nC = 0, nCAlloc = 0;
  int rc = SQLITE_OK, i, j;
  const int *aOrd;
  sqlite3_int64 tLo, tHi;
  if( pP==0 || pP->nRow==0 ) return SQLITE_OK;
  aOrd = pP->aOrder;
  aCol = sqlite3_malloc64(sizeof(TsChunkCol)*(size_t)(p->s.nMeas+1));
  if( aCol==0 ) return SQLITE_NOMEM;
  pendView(p, pP, &pend, aCol);
  tLo = pP->aTime[aOrd[0]];
  tHi = pP->aTime[aOrd[pP->nRow-1]];
  if( pS->bChunks ){
    sqlite3_stmt *pStmt;
    rc = tsTabStmt(p, STMT_CHUNK_FLOOR, &pStmt);
    if( rc==SQLITE_OK ){
      sqlite3_bind_int64(pStmt, 1, pS->iId);
      sqlite3_bind_int64(pStmt, 2, tLo);
      sqlite3_bind_int64(pStmt, 3, tHi);
      while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
        if( nC>=nCAlloc ){
          nCAlloc = nCAlloc ? nCAlloc*2 : 16;
          aC = tsTabReallocArray(aC, (size_t)nCAlloc*4, sizeof(sqlite3_int64), &rc);
          if( rc ) break;
        }
        for(j=0; j<4; j++) aC[nC*4+j] = sqlite3_column_int64(pStmt, j);
        nC++;
      }
      if( sqlite3_reset(pStmt)!=SQLITE_OK ) rc = tsTabStmtErr(p, pStmt);
    }
  }
  /* Assign each pending row (in time order) to a target: chunk index j>=0
  ** to merge into, or a new run: -1 before the first chunk, -(j+2) in the
  ** gap after chunk j.  Targets of consecutive rows form groups. */
  j = 0;
  i = 0;
  while( rc==SQLITE_OK && i<pP->nRow ){
    int i0 = i, tgt = 0, tgt0 = 0;
    for(; i<pP->nRow; i++){
      sqlite3_int64 t = pP->aTime[aOrd[i]];
      while( j+1<nC && aC[(j+1)*4+1]<=t ) j++;
      if( nC==0 ){
        tgt = -1;
      }else if( aC[j*4+1]<=t ){
        tgt = (t<=aC[j*4+2] || aC[j*4+3]<TS_CHUNK_TARGET) ? j : -(j+2);
      }else{
        tgt = aC[3]<TS_CHUNK_TARGET ? 0 : -1;
      }
      if( i==i0 ) tgt0 = tgt;
      else if( tgt!=tgt0 ) break;
    }
    if( tgt0>=0 ){
      rc = chunkMerge(p, pS, aC[tgt0*4], &pend, aOrd, i0, i);
    }else if( pP->bInOrder ){
      /* Slots are in time order: encode straight from the buffer. */
      TsChunkCol *aSl = sqlite3_malloc64(sizeof(TsChunkCol)*(size_t)(p->s.nMeas+1));
      TsRun sl;
      if( aSl==0 ){ rc = SQLITE_NOMEM; break; }
      runSlice(&pend, p->s.nMeas, i0, aSl);
      sl.n = i - i0;
      sl.aTime = pend.aTime + i0;
      sl.aVersion = pend.aVersion + i0;
      sl.aCol = aSl;
      rc = chunksWrite(p, pS->iId, &sl);
      sqlite3_free(aSl);
    }else{
      TsRunBuf out;
      int k;
      rc = runBufInit(&out, p->s.nMeas, p->s.aMeasType, i - i0);
      for(k=i0; rc==SQLITE_OK && k<i; k++) runBufPush(&out, &pend, aOrd[k]);
      if( rc==SQLITE_OK ) rc = chunksWrite(p, pS->iId, &out.r);
      runBufFree(&out);
    }
  }
  if( rc==SQLITE_OK ){
    sqlite3_stmt *pStmt;
    sqlite3_int64 tMin = pS->bChunks && pS->tMin<tLo ? pS->tMin : tLo;
    sqlite3_int64 tMax = pS->bChunks && pS->tMax>tHi ? pS->tMax : tHi;
    rc = tsTabStmt(p, STMT_SERIES_RANGE, &pStmt);
    if( rc==SQLITE_OK ){
      sqlite3_bind_int64(pStmt, 1, pS->iId);
      sqlite3_bind_int64(pStmt, 2, tMin);
      sqlite3_bind_int64(pStmt, 3, tMax);
      rc = tsTabStepDone(p, pStmt);
    }
    if( rc==SQLITE_OK ){
      pS->bChunks = 1;
      pS->tMin = tMin;
      pS->tMax = tMax;
      p->nRowEst += pP->nRow;
    }
  }
  sqlite3_free(aC);
  sqlite3_free(aCol);
  return rc;
}

/* Flush every pending row of the table.  On error the rows of the series
** not yet flushed stay pending (the caller's statement or commit fails). */
int tsTabFlushAll(TsTable *p){
  int rc = SQLITE_OK;
  sqlite3_int64 iLastRowid;
  if( p->pPendFirst==0 ) return SQLITE_OK;
  iLastRowid = sqlite3_last_insert_rowid(p->db);
  p->iFlushGen++;
  while( rc==SQLITE_OK && p->pPendFirst ){
    TsSeries *pS = p->pPendFirst;
    rc = flushSeries(p, pS);
    if( rc==SQLITE_OK ){
      p->pPendFirst = pS->pPendNext;
      pS->pPendNext = 0;
      pS->bPendList = 0;
      pendReset(p, pS->pPend);
      tsTabSeriesUnref(p, pS);
    }
  }
  if( p->pPendFirst==0 ) p->nPendBytes = 0;
  sqlite3_set_last_insert_rowid(p->db, iLastRowid);
  if( rc!=SQLITE_OK ) p->rcFlush = rc;
  return rc;
}

/* Drop every pending row (rollback). */
static void pendDiscardAll(TsTable *p){
  while( p->pPendFirst ){
    TsSeries *pS = p->pPendFirst;
    p->pPendFirst = pS->pPendNext;
    pS->pPendNext = 0;
    pS->bPendList = 0;
    pendReset(p, pS->pPend);
    tsTabSeriesUnref(p, pS);
  }
  p->nPendBytes = 0;
}

/**************************************************************************
** xUpdate: INSERT with Timestream's write rules; UPDATE and DELETE fail.
*/

/* Describe value v for an error message (bounded; sqlite3_malloc'd). */
static char *describeValue(sqlite3_value *v){
  switch( sqlite3_value_type(v) ){
    case SQLITE_NULL: return sqlite3_mprintf("NULL");
    case SQLITE_INTEGER: return sqlite3_mprintf("INTEGER %lld", sqlite3_value_int64(v));
    case SQLITE_FLOAT: return sqlite3_mprintf("REAL %!.15g", sqlite3_value_double(v));
    case SQLITE_BLOB: return sqlite3_mprintf("BLOB of %d bytes", sqlite3_value_bytes(v));
    default: {
      int n = sqlite3_value_bytes(v);
      const char *z = (const char*)sqlite3_value_text(v);
      if( n>64 ) return sqlite3_mprintf("TEXT '%.60s...' (%d bytes)", z, n);
      return sqlite3_mprintf("TEXT '%s'", z);
    }
  }
}


/* Type of v after SQLite's NUMERIC affinity (TEXT that looks like a number
** becomes one; integral text is converted exactly, see numtext.h) with the
** value in *pNum.  Reads only v itself: no sqlite3_value_dup(), whose copy
** has no database and crashes sqlite3_value_numeric_type() on SQLite 3.53. */
int tsTabNumericOf(sqlite3_value *v, TsNum *pNum){
  int eType = sqlite3_value_type(v);
  memset(pNum, 0, sizeof(*pNum));
  if( eType==SQLITE_INTEGER ){
    pNum->i = sqlite3_value_int64(v);
  }else if( eType==SQLITE_FLOAT ){
    pNum->r = sqlite3_value_double(v);
  }else if( eType==SQLITE_TEXT ){
    const char *z = (const char*)sqlite3_value_text(v);
    int n = sqlite3_value_bytes(v);
    int64_t i = 0;
    int e = z ? tsNumText(z, (size_t)n, &i, &pNum->r, &pNum->bIntegral) : TS_NUMTEXT_NONE;
    if( e==TS_NUMTEXT_INT ){ pNum->i = i; eType = SQLITE_INTEGER; }
    else if( e==TS_NUMTEXT_REAL ) eType = SQLITE_FLOAT;
  }
  return eType;
}

/* Convert a value for a TEXT column (dimension, measure_name, VARCHAR):
** numbers become their text (SQLite's TEXT affinity), BLOB is an error.
** The conversion happens in v itself (an xUpdate argument, a protected
** value), never in a sqlite3_value_dup() copy: copies have no database and
** SQLite 3.53 crashes converting them.  *ppDup is always NULL (kept for the
** callers' cleanup). */
int tsTabTextOf(sqlite3_value *v, sqlite3_value **ppDup, const char **pz, int *pn){
  int eType = sqlite3_value_type(v);
  *ppDup = 0;
  if( eType==SQLITE_BLOB ) return 1;
  *pz = (const char*)sqlite3_value_text(v);
  *pn = sqlite3_value_bytes(v);
  return *pz==0 ? 2 : 0;
}

static int errValue(TsTable *p, int rc, const char *zCol, const char *zType, const char *zExp,
                    sqlite3_value *v){
  char *zV = describeValue(v);
  tsTabErr(p, "timeseries %s: column %s (%s): expected %s, got %s",
            p->zName, zCol, zType, zExp, zV ? zV : "?");
  sqlite3_free(zV);
  return rc;
}

/* Convert measure iMeas of a new row into the staging area. */
static int stageMeasure(TsTable *p, int iMeas, sqlite3_value *v, sqlite3_value **ppDup){
  int eType = p->s.aMeasType[iMeas];
  const char *zCol, *zType;   /* for messages: set past the fast paths */
  TsNum num;
  int eVal;
  int eArg = sqlite3_value_type(v);
  p->aStNull[iMeas] = 0;
  p->aStNum[iMeas] = 0;
  *ppDup = 0;
  if( eArg==SQLITE_NULL ){
    p->aStNull[iMeas] = 1;
    return SQLITE_OK;
  }
  /* Fast paths for the common cases of the ingest loop. */
  if( eType==TS_TYPE_DOUBLE && eArg==SQLITE_FLOAT ){
    double r = sqlite3_value_double(v);
    if( isfinite(r) ){
      memcpy(&p->aStNum[iMeas], &r, sizeof(r));
      return SQLITE_OK;
    }
  }else if( eArg==SQLITE_INTEGER && (eType==TS_TYPE_BIGINT || eType==TS_TYPE_TIMESTAMP) ){
    sqlite3_int64 x = sqlite3_value_int64(v);
    if( eType==TS_TYPE_BIGINT || x>=0 ){
      p->aStNum[iMeas] = x;
      return SQLITE_OK;
    }
  }
  zCol = p->s.azMeas[iMeas];
  zType = tsChunkTypeName(eType);
  switch( eType ){
    case TS_TYPE_DOUBLE: {
      double r;
      eVal = tsTabNumericOf(v, &num);
      if( eVal==SQLITE_INTEGER ){
        r = (double)num.i;
      }else if( eVal==SQLITE_FLOAT ){
        r = num.r;
      }else{
        return errValue(p, SQLITE_MISMATCH, zCol, zType, "a number", v);
      }
      if( !isfinite(r) ){
        tsTabErr(p, "timeseries %s: column %s (DOUBLE): NaN and Infinity cannot be "
                  "stored", p->zName, zCol);
        return SQLITE_MISMATCH;
      }
      memcpy(&p->aStNum[iMeas], &r, sizeof(r));
      return SQLITE_OK;
    }
    case TS_TYPE_BIGINT: {
      eVal = tsTabNumericOf(v, &num);
      if( eVal==SQLITE_INTEGER ){
        p->aStNum[iMeas] = num.i;
      }else if( eVal==SQLITE_FLOAT ){
        double r = num.r;
        if( num.bIntegral ){
          return errValue(p, SQLITE_MISMATCH, zCol, zType,
                          "an integer from -9223372036854775808 to 9223372036854775807", v);
        }
        if( eArg==SQLITE_TEXT || r!=floor(r) || r<-9223372036854775808.0
         || r>=9223372036854775808.0 ){
          /* Non-integral text, or a REAL that is not a whole int64: text
          ** that denotes an integer was converted exactly above. */
          return errValue(p, SQLITE_MISMATCH, zCol, zType, "an integer", v);
        }
        p->aStNum[iMeas] = (sqlite3_int64)r;
      }else{
        return errValue(p, SQLITE_MISMATCH, zCol, zType, "an integer", v);
      }
      return SQLITE_OK;
    }
    case TS_TYPE_BOOLEAN: {
      eVal = sqlite3_value_type(v);
      if( eVal==SQLITE_INTEGER && (sqlite3_value_int64(v)==0 || sqlite3_value_int64(v)==1) ){
        p->aStNum[iMeas] = sqlite3_value_int64(v);
        return SQLITE_OK;
      }
      if( eVal==SQLITE_FLOAT && (sqlite3_value_double(v)==0.0 || sqlite3_value_double(v)==1.0) ){
        p->aStNum[iMeas] = sqlite3_value_double(v)==1.0;
        return SQLITE_OK;
      }
      if( eVal==SQLITE_TEXT ){
        const char *z = (const char*)sqlite3_value_text(v);
        if( z && (sqlite3_stricmp(z, "true")==0 || strcmp(z, "1")==0) ){
          p->aStNum[iMeas] = 1;
          return SQLITE_OK;
        }
        if( z && (sqlite3_stricmp(z, "false")==0 || strcmp(z, "0")==0) ){
          p->aStNum[iMeas] = 0;
          return SQLITE_OK;
        }
      }
      return errValue(p, SQLITE_MISMATCH, zCol, zType, "true, false, 1 or 0", v);
    }
    case TS_TYPE_TIMESTAMP: {
      eVal = tsTabNumericOf(v, &num);
      if( eVal==SQLITE_INTEGER ){
        p->aStNum[iMeas] = num.i;
      }else if( eVal==SQLITE_TEXT ){
        int64_t iNs;
        if( tsTimeParseIso((const char*)sqlite3_value_text(v), sqlite3_value_bytes(v), &iNs) ){
          return errValue(p, SQLITE_MISMATCH, zCol, zType,
                          "INTEGER nanoseconds or ISO-8601 TEXT", v);
        }
        p->aStNum[iMeas] = iNs;
      }else{
        return errValue(p, SQLITE_MISMATCH, zCol, zType, "INTEGER nanoseconds or ISO-8601 TEXT", v);
      }
      if( p->aStNum[iMeas]<0 ){
        return errValue(p, SQLITE_MISMATCH, zCol, zType,
                        "a time from 1970-01-01T00:00:00Z on", v);
      }
      return SQLITE_OK;
    }
    default: {   /* VARCHAR */
      int rc = tsTabTextOf(v, ppDup, &p->azStText[iMeas], &p->anStText[iMeas]);
      if( rc==2 ) return SQLITE_NOMEM;
      if( rc ) return errValue(p, SQLITE_MISMATCH, zCol, zType, "TEXT", v);
      if( p->anStText[iMeas]>TS_MAX_VALUE_BYTES ){
        tsTabErr(p, "timeseries %s: column %s (VARCHAR): value is %d bytes, the limit "
                  "is %d", p->zName, zCol, p->anStText[iMeas], TS_MAX_VALUE_BYTES);
        return SQLITE_TOOBIG;
      }
      return SQLITE_OK;
    }
  }
}

/* Format "(hostname='a', region=NULL, measure_name='m', time=...)" for a
** rejected record. */
static char *describeKey(TsTable *p, const char *const *azDim, const char *zMName,
                         sqlite3_int64 t){
  char zIso[TS_ISO_BUFSZ];
  char *z = sqlite3_mprintf("(");
  int i;
  for(i=0; z && i<p->s.nDim; i++){
    if( azDim[i] ) z = sqlite3_mprintf("%z%s=%Q, ", z, p->s.azDim[i], azDim[i]);
    else z = sqlite3_mprintf("%z%s=NULL, ", z, p->s.azDim[i]);
  }
  tsTimeFormatIso(t, zIso);
  if( z ) z = sqlite3_mprintf("%zmeasure_name=%Q, time=%s)", z, zMName, zIso);
  return z;
}

#define TS_ACT_NOOP    0
#define TS_ACT_STORE   1
#define TS_ACT_REJECT  2

/* Timestream's decision table (reference 1.6) plus the conflict clause. */
static int decide(int bEqual, sqlite3_int64 iOld, sqlite3_int64 iNew, int eConflict){
  if( bEqual ) return iNew<=iOld ? TS_ACT_NOOP : TS_ACT_STORE;
  if( iNew>iOld ) return TS_ACT_STORE;
  if( eConflict==SQLITE_REPLACE ) return TS_ACT_STORE;
  if( eConflict==SQLITE_IGNORE ) return TS_ACT_NOOP;
  return TS_ACT_REJECT;
}

static int tsUpdateImpl(sqlite3_vtab *pVtab, int argc, sqlite3_value **argv, sqlite3_int64 *pRowid){
  TsTable *p = ((TsVtab*)pVtab)->pTab;
  const char *azDim[TS_MAX_DIMS];
  int anDim[TS_MAX_DIMS];
  sqlite3_value *apDup[TS_MAX_DIMS+1];
  sqlite3_value **apMeasDup = p->apStDup;
  int nDup = 0;
  const char *zMName = 0;
  int nMName = 0;
  sqlite3_int64 t = 0, iVersion = 1;
  int rc = SQLITE_OK, i, nNonNull = 0;
  int eConflict = sqlite3_vtab_on_conflict(p->db);
  sqlite3_value **aCol = &argv[2];
  TsSeries *pS = 0;

  *pRowid = 0;
  if( argc==1 ){
    tsTabErr(p, "timeseries %s: DELETE is not supported: records leave the table only "
              "through retention (memory_retention + magnetic_retention) or DROP TABLE", p->zName);
    return SQLITE_ERROR;
  }
  if( sqlite3_value_type(argv[0])!=SQLITE_NULL ){
    tsTabErr(p, "timeseries %s: UPDATE is not supported: records are immutable; to change "
              "a record, INSERT it again with the same dimensions, measure_name and time and a "
              "higher version (upsert)", p->zName);
    return SQLITE_ERROR;
  }
  if( p->rcFlush ){
    tsTabErr(p, "timeseries %s: an earlier flush of this transaction failed; roll it back",
              p->zName);
    return p->rcFlush;
  }

  /* time */
  {
    sqlite3_value *v = aCol[TS_COL_TIME];
    TsNum num;
    int eType = tsTabNumericOf(v, &num);
    if( eType==SQLITE_INTEGER ){
      t = num.i;
    }else if( eType==SQLITE_TEXT ){
      int64_t iNs;
      int rcT = tsTimeParseIso((const char*)sqlite3_value_text(v), sqlite3_value_bytes(v), &iNs);
      if( rcT ){
        char *zV = describeValue(v);
        tsTabErr(p, "timeseries %s: column time: %s is not an ISO-8601 time "
                  "(e.g. '2024-05-01T12:00:00.123456789Z')", p->zName, zV ? zV : "?");
        sqlite3_free(zV);
        rc = SQLITE_MISMATCH;
      }
      t = iNs;
    }else{
      char *zV = describeValue(v);
      tsTabErr(p, "timeseries %s: column time: expected INTEGER nanoseconds since "
                "1970-01-01 or ISO-8601 TEXT, got %s", p->zName, zV ? zV : "?");
      sqlite3_free(zV);
      rc = SQLITE_MISMATCH;
    }
    if( rc ) return rc;
  }

  /* dimensions and measure_name */
  for(i=0; rc==SQLITE_OK && i<p->s.nDim; i++){
    sqlite3_value *v = aCol[1+i];
    azDim[i] = 0;
    anDim[i] = 0;
    if( sqlite3_value_type(v)==SQLITE_NULL ) continue;
    rc = tsTabTextOf(v, &apDup[nDup], &azDim[i], &anDim[i]);
    if( apDup[nDup] ) nDup++;
    if( rc==2 ){
      rc = SQLITE_NOMEM;
    }else if( rc ){
      rc = errValue(p, SQLITE_MISMATCH, p->s.azDim[i], "DIMENSION", "TEXT", v);
    }else if( anDim[i]>TS_MAX_VALUE_BYTES ){
      tsTabErr(p, "timeseries %s: dimension %s: value is %d bytes, the limit is %d",
                p->zName, p->s.azDim[i], anDim[i], TS_MAX_VALUE_BYTES);
      rc = SQLITE_TOOBIG;
    }
  }
  if( rc==SQLITE_OK ){
    sqlite3_value *v = aCol[tsTabColMName(p)];
    if( sqlite3_value_type(v)==SQLITE_NULL ){
      zMName = p->s.zMeasureName;
      nMName = (int)strlen(zMName);
    }else{
      rc = tsTabTextOf(v, &apDup[nDup], &zMName, &nMName);
      if( apDup[nDup] ) nDup++;
      if( rc==2 ){
        rc = SQLITE_NOMEM;
      }else if( rc ){
        rc = errValue(p, SQLITE_MISMATCH, "measure_name", "TEXT", "TEXT", v);
      }else if( nMName==0 || nMName>TS_MAX_MNAME_BYTES ){
        tsTabErr(p, "timeseries %s: measure_name must be 1 to %d bytes, got %d bytes",
                  p->zName, TS_MAX_MNAME_BYTES, nMName);
        rc = SQLITE_TOOBIG;
      }
    }
  }

  /* measures and version */
  for(i=0; rc==SQLITE_OK && i<p->s.nMeas; i++){
    rc = stageMeasure(p, i, aCol[tsTabColMeas0(p)+i], &apMeasDup[i]);
    if( rc==SQLITE_OK && !p->aStNull[i] ) nNonNull++;
  }
  if( rc==SQLITE_OK && nNonNull==0 ){
    tsTabErr(p, "timeseries %s: a record needs at least one non-NULL measure", p->zName);
    rc = SQLITE_CONSTRAINT;
  }
  if( rc==SQLITE_OK ){
    sqlite3_value *v = aCol[tsTabColVersion(p)];
    if( sqlite3_value_type(v)==SQLITE_NULL ){
      iVersion = 1;
    }else if( sqlite3_value_type(v)!=SQLITE_INTEGER || sqlite3_value_int64(v)<1 ){
      char *zV = describeValue(v);
      tsTabErr(p, "timeseries %s: column version: expected an INTEGER >= 1, got %s",
                p->zName, zV ? zV : "?");
      sqlite3_free(zV);
      rc = SQLITE_MISMATCH;
    }else{
      iVersion = sqlite3_value_int64(v);
    }
  }

  /* Records Timestream would reject (write window, partition key): the
  ** conflict clause applies (OR IGNORE skips them). */
  if( rc==SQLITE_OK ){
    sqlite3_int64 now = tsEnvNow(p->pEnv);
    sqlite3_int64 lo = now - p->s.iMemRet - (p->s.bMagWrites ? p->s.iMagRet : 0);
    sqlite3_int64 hi = now + TS_FUTURE_NS;
    if( t<lo || t>hi ){
      if( eConflict==SQLITE_IGNORE ) goto done;
      {
        char zT[TS_ISO_BUFSZ], zLo[TS_ISO_BUFSZ], zHi[TS_ISO_BUFSZ];
        tsTimeFormatIso(t, zT);
        tsTimeFormatIso(lo, zLo);
        tsTimeFormatIso(hi, zHi);
        tsTabErr(p, "timeseries %s: time %s is outside the write window [%s, %s] "
                  "(now - %s .. now + 15 minutes)", p->zName, zT, zLo, zHi,
                  p->s.bMagWrites ? "memory_retention - magnetic_retention" : "memory_retention");
      }
      rc = SQLITE_CONSTRAINT;
    }
  }
  if( rc==SQLITE_OK && p->s.bPartRequired && p->s.iPartDim>=0 && azDim[p->s.iPartDim]==0 ){
    if( eConflict==SQLITE_IGNORE ) goto done;
    tsTabErr(p, "timeseries %s: partition_enforcement is 'required' and the record has no "
              "value for the partition key %s", p->zName, p->s.azDim[p->s.iPartDim]);
    rc = SQLITE_CONSTRAINT;
  }

  /* Find the series and apply the duplicate rules. */
  if( rc==SQLITE_OK && !p->bTxnChecked ){
    rc = tsTabSeriesRefresh(p);
    if( rc==SQLITE_OK ) p->bTxnChecked = 1;
  }
  if( rc==SQLITE_OK ){
    tsTabKeyEncode(&p->key, p->s.nDim, azDim, anDim, zMName, nMName);
    if( p->key.bErr ) rc = SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ) rc = seriesForWrite(p, azDim, anDim, zMName, nMName, &pS);
  if( rc==SQLITE_OK ){
    TsPend *pP = pS->pPend;
    int iPos = 0, bFound = 0, eAct = TS_ACT_STORE;
    sqlite3_int64 iOld = 0;
    if( pP==0 ){
      pP = pS->pPend = pendNew(p);
      if( pP==0 ){
        rc = SQLITE_NOMEM;
        goto done;
      }
    }
    if( !pS->bPendList ){
      pS->nRef++;
      pS->bPendList = 1;
      pS->pPendNext = p->pPendFirst;
      p->pPendFirst = pS;
    }
    if( pP->nRow==0 || t>pP->aTime[pP->aOrder[pP->nRow-1]] ){
      iPos = pP->nRow;
    }else{
      iPos = tsTabSearchTime((const int64_t*)pP->aTime, pP->aOrder, pP->nRow, t);
      bFound = iPos<pP->nRow && pP->aTime[pP->aOrder[iPos]]==t;
    }
    if( bFound ){
      TsChunkCol *aC = sqlite3_malloc64(sizeof(TsChunkCol)*(size_t)(p->s.nMeas+1));
      TsRun view;
      int iSlot = pP->aOrder[iPos];
      if( aC==0 ){ rc = SQLITE_NOMEM; goto done; }
      pendView(p, pP, &view, aC);
      iOld = pP->aVersion[iSlot];
      eAct = decide(stagedEquals(p, &view, iSlot), iOld, iVersion, eConflict);
      sqlite3_free(aC);
      if( eAct==TS_ACT_STORE ) rc = pendSetSlot(p, pP, iSlot, t, iVersion, 0);
    }else{
      {
        /* The stored record of the key, in whichever tier holds it. */
        const TsRun *pRun = 0;
        int iRow = -1;
        rc = tsSourceFind(p, pS, t, &pRun, &iRow);
        if( rc==SQLITE_OK && iRow>=0 ){
          iOld = pRun->aVersion ? pRun->aVersion[iRow] : 1;
          eAct = decide(stagedEquals(p, pRun, iRow), iOld, iVersion, eConflict);
        }
      }
      if( rc==SQLITE_OK && eAct==TS_ACT_STORE ){
        rc = pendGrow(p, pP);
        if( rc==SQLITE_OK ){
          int iSlot = pP->nRow;
          rc = pendSetSlot(p, pP, iSlot, t, iVersion, 1);
          if( rc==SQLITE_OK ){
            if( iPos<pP->nRow ){
              memmove(&pP->aOrder[iPos+1], &pP->aOrder[iPos], sizeof(int)*(size_t)(pP->nRow-iPos));
              pP->bInOrder = 0;
            }
            pP->aOrder[iPos] = iSlot;
            pP->nRow++;
          }
        }
      }
    }
    if( rc==SQLITE_OK && eAct==TS_ACT_REJECT ){
      char *zKey = describeKey(p, azDim, pS->zMName, t);
      tsTabErr(p, "timeseries %s: record %s already exists with different measure values "
                "and version %lld; the new record's version %lld must be higher to update it "
                "(or use INSERT OR REPLACE / INSERT OR IGNORE)", p->zName, zKey ? zKey : "?",
                iOld, iVersion);
      sqlite3_free(zKey);
      rc = SQLITE_CONSTRAINT;
    }
  }
  if( rc==SQLITE_OK && p->nPendBytes>TS_PENDING_BUDGET ){
    rc = tsTabFlushAll(p);
  }

done:
  for(i=0; i<nDup; i++) sqlite3_value_free(apDup[i]);
  for(i=0; i<p->s.nMeas; i++){
    if( apMeasDup[i] ){
      sqlite3_value_free(apMeasDup[i]);
      apMeasDup[i] = 0;
    }
  }
  return rc;
}

static int tsUpdate(sqlite3_vtab *pVtab, int argc, sqlite3_value **argv, sqlite3_int64 *pRowid){
  return tsTabVtabRc(pVtab, tsUpdateImpl(pVtab, argc, argv, pRowid));
}

/**************************************************************************
** Reads.
**
** xBestIndex hands xFilter one argv value per used constraint; idxStr says
** what each is, as space-separated tokens in argv order:
**
**   T= T> T< TG TL    time =, >, <, >=, <=
**   D<n>= D<n>I       dimension n (0-based) =, or IN (all values at once
**                     through sqlite3_vtab_in)
**   M= MI             measure_name =, IN
**   L                 LIMIT (only when every other constraint is consumed
**                     and the output order is what the query asks)
**
** idxNum bits: TS_IDX_ORDER_ASC / TS_IDX_ORDER_DESC when ORDER BY time is
** consumed: always when the plan pins one series (every dimension and
** measure_name constrained by =), else when the table has at most
** TS_MERGE_MAX series (xFilter then merges the series by time).
**
** Every used constraint is applied exactly (omit=1), with SQLite's
** comparison rules: time is INTEGER (a TEXT operand gets NUMERIC affinity;
** TEXT that stays TEXT is greater than every integer), dimensions and
** measure_name are TEXT compared with BINARY collation (numbers become
** text).  NULL operands match nothing.
*/

static int tsBestIndexImpl(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  TsTable *p = ((TsVtab*)pVtab)->pTab;
  char *zIdx = 0;
  int nArg = 0, i, iLimit = -1, bOffset = 0, bAllUsed = 1;
  int bTimeEq = 0, bTimeRange = 0;
  unsigned char *aEqCol;         /* per dimension/measure_name: 1 = '=', 2 = IN */
  double rRows, rSeriesFrac = 1.0;
  int bOneSeries;
  /* Costs come from the row and series counts, read once per change of
  ** the database (errors here only make the estimate cruder). */
  if( p->bStale || !p->bHaveVersion ) tsTabSeriesRefresh(p);
  rRows = (double)(p->nRowEst>0 ? p->nRowEst : 1000);
  aEqCol = sqlite3_malloc64((size_t)p->s.nDim + 2);
  if( aEqCol==0 ) return SQLITE_NOMEM;
  memset(aEqCol, 0, (size_t)p->s.nDim + 2);
  zIdx = sqlite3_mprintf("");
  for(i=0; zIdx && i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *pC = &pInfo->aConstraint[i];
    int iCol = pC->iColumn, kind;
    const char *zTok = 0;
    char zBuf[24];
    if( pC->op==SQLITE_INDEX_CONSTRAINT_LIMIT ){ if( pC->usable ) iLimit = i; continue; }
    if( pC->op==SQLITE_INDEX_CONSTRAINT_OFFSET ){ bOffset = 1; continue; }
    if( !pC->usable || iCol<0 ){ bAllUsed = 0; continue; }
    kind = tsTabColKind(p, iCol);
    if( kind==TS_KIND_TIME ){
      switch( pC->op ){
        case SQLITE_INDEX_CONSTRAINT_EQ: zTok = "T="; bTimeEq = 1; break;
        case SQLITE_INDEX_CONSTRAINT_GT: zTok = "T>"; bTimeRange++; break;
        case SQLITE_INDEX_CONSTRAINT_LT: zTok = "T<"; bTimeRange++; break;
        case SQLITE_INDEX_CONSTRAINT_GE: zTok = "TG"; bTimeRange++; break;
        case SQLITE_INDEX_CONSTRAINT_LE: zTok = "TL"; bTimeRange++; break;
      }
    }else if( (kind==TS_KIND_DIM || kind==TS_KIND_MNAME) && pC->op==SQLITE_INDEX_CONSTRAINT_EQ ){
      const char *zColl = sqlite3_vtab_collation(pInfo, i);
      if( zColl==0 || sqlite3_stricmp(zColl, "BINARY")==0 ){
        int bIn = sqlite3_vtab_in(pInfo, i, -1);
        int iSlot = kind==TS_KIND_DIM ? iCol-1 : p->s.nDim;
        if( bIn ) sqlite3_vtab_in(pInfo, i, 1);
        if( kind==TS_KIND_DIM ){
          snprintf(zBuf, sizeof(zBuf), "D%d%c", iCol-1, bIn ? 'I' : '=');
        }else{
          snprintf(zBuf, sizeof(zBuf), "M%c", bIn ? 'I' : '=');
        }
        zTok = zBuf;
        if( aEqCol[iSlot]!=1 ) aEqCol[iSlot] = bIn ? 2 : 1;
        rSeriesFrac *= bIn ? 0.2 : 0.1;
      }
    }
    if( zTok ){
      pInfo->aConstraintUsage[i].argvIndex = ++nArg;
      pInfo->aConstraintUsage[i].omit = 1;
      zIdx = sqlite3_mprintf("%z%s%s", zIdx, nArg>1 ? " " : "", zTok);
    }else{
      bAllUsed = 0;
    }
  }
  bOneSeries = 1;
  for(i=0; i<=p->s.nDim; i++) if( aEqCol[i]!=1 ) bOneSeries = 0;
  sqlite3_free(aEqCol);
  if( zIdx==0 ) return SQLITE_NOMEM;

  pInfo->idxNum = 0;
  /* ORDER BY time: one series is read in time order; several are merged,
  ** holding one decoded chunk per series, so only up to TS_MERGE_MAX. */
  if( pInfo->nOrderBy==1 && pInfo->aOrderBy[0].iColumn==0
   && (bOneSeries || p->nSeries<=TS_MERGE_MAX) ){
    pInfo->orderByConsumed = 1;
    pInfo->idxNum |= pInfo->aOrderBy[0].desc ? TS_IDX_ORDER_DESC : TS_IDX_ORDER_ASC;
  }
  if( iLimit>=0 && bAllUsed && !bOffset && (pInfo->nOrderBy==0 || pInfo->orderByConsumed) ){
    pInfo->aConstraintUsage[iLimit].argvIndex = ++nArg;
    pInfo->aConstraintUsage[iLimit].omit = 1;
    zIdx = sqlite3_mprintf("%z%sL", zIdx, nArg>1 ? " " : "");
    if( zIdx==0 ) return SQLITE_NOMEM;
  }
  pInfo->idxStr = zIdx;
  pInfo->needToFreeIdxStr = 1;

  /* Costs: rows visited, assuming series of equal size, that each '='
  ** on a dimension keeps a tenth of them (IN a fifth), that one series is
  ** 1/nSeries of the rows, that a time range keeps a quarter (both ends: a
  ** twentieth) and a time point one row per series. */
  if( bOneSeries ){
    rRows /= (p->nSeries>0 ? (double)p->nSeries : 1.0);
  }else{
    rRows *= rSeriesFrac;
  }
  if( bTimeEq ) rRows = bOneSeries ? 1.0 : (double)(p->nSeries>0 ? p->nSeries : 10)*rSeriesFrac;
  else if( bTimeRange>=2 ) rRows *= 0.05;
  else if( bTimeRange==1 ) rRows *= 0.25;
  if( rRows<1.0 ) rRows = 1.0;
  pInfo->estimatedRows = (sqlite3_int64)rRows;
  pInfo->estimatedCost = 10.0 + rRows;
  if( bOneSeries && bTimeEq ){
    pInfo->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
    pInfo->estimatedRows = 1;
    pInfo->estimatedCost = 10.0;
  }
  return SQLITE_OK;
}

static int tsBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  return tsTabVtabRc(pVtab, tsBestIndexImpl(pVtab, pInfo));
}

/**************************************************************************
** Table lifecycle: xCreate/xConnect, shadow tables, xDisconnect/xDestroy,
** xRename, xShadowName.
*/
static const char *const azShadow[] = { "config", "series", "chunks", "objects" };
#define TS_NSHADOW ((int)(sizeof(azShadow)/sizeof(azShadow[0])))

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
static int shadowCreate(TsTable *p, char **pzErr){
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
      " created INTEGER NOT NULL)", zDb, zTab);
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
  pendDiscardAll(p);
  cacheClear(p);
  for(i=0; i<STMT_COUNT; i++) sqlite3_finalize(p->aStmt[i]);
  tsMemLookFree(p);
  sqlite3_free(p->aHash);
  sqlite3_free(p->apSeries);
  sqlite3_free(p->aStNull);
  sqlite3_free(p->aStNum);
  sqlite3_free((void*)p->azStText);
  sqlite3_free(p->anStText);
  sqlite3_free(p->apStDup);
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
static TsTable *tableFind(TsEnv *pEnv, sqlite3 *db, const char *zDb, const char *zTab){
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
static TsTable *tableNew(TsEnv *pEnv, sqlite3 *db, const char *zDb, const char *zTab,
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
  p->apStDup = sqlite3_malloc64(n*sizeof(sqlite3_value*));
  if( !p->zDb || !p->zName || !p->aStNull || !p->aStNum || !p->azStText || !p->anStText
   || !p->apStDup ){
    tableFree(p);
    return 0;
  }
  memset(p->apStDup, 0, n*sizeof(sqlite3_value*));
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
  p = tableFind(pEnv, db, zDb, zTab);
  if( p ){
    p->nRef++;
    *ppTab = p;
    return SQLITE_OK;
  }
  memset(&s, 0, sizeof(s));
  rc = tsSchemaLoad(db, zDb, zTab, &s, &zName, pzErr);
  if( rc!=SQLITE_OK ) return rc;
  p = tableNew(pEnv, db, zDb, zName, &s);
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
  cacheClear(pTab);
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

/* xCreate and xConnect.  xConnect shares the connection's handle of the
** table if an operation opened one; otherwise (and always for xCreate) the
** handle is built from the CREATE arguments SQLite passes. */
static int tsInit(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                  sqlite3_vtab **ppVtab, char **pzErr, int bCreate){
  TsEnv *pEnv = (TsEnv*)pAux;
  TsVtab *pV;
  TsTable *p;
  int rc, i;
  char *zDecl;
  *ppVtab = 0;
  pV = sqlite3_malloc64(sizeof(TsVtab));
  if( pV==0 ) return SQLITE_NOMEM;
  memset(pV, 0, sizeof(*pV));
  p = bCreate ? 0 : tableFind(pEnv, db, argv[1], argv[2]);
  if( p ){
    p->nRef++;
  }else{
    TsSchema s;
    rc = tsSchemaParse(&s, argv[2], argc-3, argv+3, pzErr);
    if( rc ){ sqlite3_free(pV); return rc; }
    p = tableNew(pEnv, db, argv[1], argv[2], &s);
    if( p==0 ){ sqlite3_free(pV); return SQLITE_NOMEM; }
  }
  pV->pTab = p;

  zDecl = sqlite3_mprintf("CREATE TABLE x(time INTEGER");
  for(i=0; zDecl && i<p->s.nDim; i++) zDecl = sqlite3_mprintf("%z, \"%w\" TEXT", zDecl, p->s.azDim[i]);
  if( zDecl ) zDecl = sqlite3_mprintf("%z, measure_name TEXT", zDecl);
  for(i=0; zDecl && i<p->s.nMeas; i++){
    zDecl = sqlite3_mprintf("%z, \"%w\" %s", zDecl, p->s.azMeas[i], tsChunkTypeName(p->s.aMeasType[i]));
  }
  if( zDecl ) zDecl = sqlite3_mprintf("%z, version INTEGER HIDDEN)", zDecl);
  if( zDecl==0 ){ tsTableRelease(p); sqlite3_free(pV); return SQLITE_NOMEM; }
  rc = sqlite3_declare_vtab(db, zDecl);
  sqlite3_free(zDecl);
  if( rc ){
    tsErrSet(pzErr, "timeseries %s: %s", p->zName, sqlite3_errmsg(db));
    tsTableRelease(p);
    sqlite3_free(pV);
    return rc;
  }
  sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  if( bCreate ){
    char *zErr = 0;
    rc = shadowCreate(p, &zErr);
    if( rc ){
      tsErrSet(pzErr, "timeseries %s: creating shadow tables: %s", p->zName, zErr ? zErr : "?");
      sqlite3_free(zErr);
      tsTableRelease(p);
      sqlite3_free(pV);
      return rc;
    }
  }
  *ppVtab = &pV->base;
  return SQLITE_OK;
}

static int tsCreate(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                    sqlite3_vtab **ppVtab, char **pzErr){
  return tsInit(db, pAux, argc, argv, ppVtab, pzErr, 1);
}

static int tsConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                     sqlite3_vtab **ppVtab, char **pzErr){
  return tsInit(db, pAux, argc, argv, ppVtab, pzErr, 0);
}

static int tsDisconnect(sqlite3_vtab *pVtab){
  TsVtab *pV = (TsVtab*)pVtab;
  tsTableRelease(pV->pTab);
  sqlite3_free(pV);
  return SQLITE_OK;
}

static int tsDestroy(sqlite3_vtab *pVtab){
  TsVtab *pV = (TsVtab*)pVtab;
  TsTable *p = pV->pTab;
  TsTable **pp;
  int rc = SQLITE_OK, i;
  char *zErr = 0;
  pendDiscardAll(p);
  for(i=0; rc==SQLITE_OK && i<TS_NSHADOW; i++){
    rc = execf(p->db, &zErr, "DROP TABLE IF EXISTS \"%w\".\"%w_%s\"", p->zDb, p->zName, azShadow[i]);
  }
  if( rc ){
    tsVtabErr(pVtab, "timeseries %s: dropping shadow tables: %s", p->zName, zErr ? zErr : "?");
    sqlite3_free(zErr);
    return rc;
  }
  /* The table is gone: no later open may find this handle. */
  for(pp=&p->pEnv->pTableList; *pp; pp=&(*pp)->pNext){
    if( *pp==p ){ *pp = p->pNext; p->pNext = 0; break; }
  }
  tsTableInvalidate(p);
  tsTableRelease(p);
  sqlite3_free(pV);
  return SQLITE_OK;
}

static int tsRenameImpl(sqlite3_vtab *pVtab, const char *zNew){
  TsTable *p = ((TsVtab*)pVtab)->pTab;
  int rc = SQLITE_OK, i;
  char *zErr = 0, *zNewName;
  rc = tsTabFlushAll(p);
  for(i=0; rc==SQLITE_OK && i<STMT_COUNT; i++){
    sqlite3_finalize(p->aStmt[i]);
    p->aStmt[i] = 0;
  }
  for(i=0; rc==SQLITE_OK && i<TS_NSHADOW; i++){
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

static int tsRename(sqlite3_vtab *pVtab, const char *zNew){
  return tsTabVtabRc(pVtab, tsRenameImpl(pVtab, zNew));
}

static int tsShadowName(const char *zSuffix){
  int i;
  for(i=0; i<TS_NSHADOW; i++) if( sqlite3_stricmp(zSuffix, azShadow[i])==0 ) return 1;
  return 0;
}

/**************************************************************************
** Transactions (see the header comment).
*/
static int tsBegin(sqlite3_vtab *pVtab){
  ((TsVtab*)pVtab)->pTab->bTxnChecked = 0;
  return SQLITE_OK;
}

static int tsSyncImpl(sqlite3_vtab *pVtab){
  TsTable *p = ((TsVtab*)pVtab)->pTab;
  if( p->rcFlush ){
    tsTabErr(p, "timeseries %s: an earlier flush of this transaction failed; it cannot "
              "commit", p->zName);
    return p->rcFlush;
  }
  return tsTabFlushAll(p);
}

static int tsSync(sqlite3_vtab *pVtab){
  return tsTabVtabRc(pVtab, tsSyncImpl(pVtab));
}

static int tsCommit(sqlite3_vtab *pVtab){
  ((TsVtab*)pVtab)->pTab->bTxnChecked = 0;
  return SQLITE_OK;
}

/* After a rollback the shadow tables may have lost rows this connection
** wrote: drop the pending rows and every cached fact about them. */
static void forgetTxn(TsTable *p){
  pendDiscardAll(p);
  cacheClear(p);
  tsMemLookClear(p);
  p->iFlushGen++;
}

static int tsRollback(sqlite3_vtab *pVtab){
  TsTable *p = ((TsVtab*)pVtab)->pTab;
  forgetTxn(p);
  p->rcFlush = SQLITE_OK;
  p->bTxnChecked = 0;
  return SQLITE_OK;
}

static int tsSavepoint(sqlite3_vtab *pVtab, int iSavepoint){
  (void)iSavepoint;
  return tsTabVtabRc(pVtab, tsTabFlushAll(((TsVtab*)pVtab)->pTab));
}

static int tsRelease(sqlite3_vtab *pVtab, int iSavepoint){
  (void)iSavepoint;
  return tsTabVtabRc(pVtab, tsTabFlushAll(((TsVtab*)pVtab)->pTab));
}

static int tsRollbackTo(sqlite3_vtab *pVtab, int iSavepoint){
  (void)iSavepoint;
  forgetTxn(((TsVtab*)pVtab)->pTab);
  return SQLITE_OK;
}

static sqlite3_module tsModule = {
  /* iVersion    */ 3,             /* xSavepoint.. and xShadowName */
  /* xCreate     */ tsCreate,      /* parses options, creates shadow tables */
  /* xConnect    */ tsConnect,     /* parses the same arguments */
  /* xBestIndex  */ tsBestIndex,   /* time, dimension, measure_name, LIMIT pushdown */
  /* xDisconnect */ tsDisconnect,
  /* xDestroy    */ tsDestroy,     /* drops the shadow tables */
  /* xOpen       */ tsScanOpen,    /* scan.c */
  /* xClose      */ tsScanClose,
  /* xFilter     */ tsScanFilter,  /* flushes pending rows, picks series */
  /* xNext       */ tsScanNext,
  /* xEof        */ tsScanEof,
  /* xColumn     */ tsScanColumn,  /* decodes measure columns on first use */
  /* xRowid      */ tsScanRowid,   /* block rowid base + row (not stable) */
  /* xUpdate     */ tsUpdate,      /* INSERT only */
  /* xBegin      */ tsBegin,
  /* xSync       */ tsSync,        /* flushes pending rows */
  /* xCommit     */ tsCommit,      /* nothing that can fail */
  /* xRollback   */ tsRollback,    /* discards pending rows */
  /* xFindFunction */ 0,
  /* xRename     */ tsRename,      /* renames the shadow tables */
  /* xSavepoint  */ tsSavepoint,   /* flushes */
  /* xRelease    */ tsRelease,     /* flushes */
  /* xRollbackTo */ tsRollbackTo,  /* discards pending rows */
  /* xShadowName */ tsShadowName,  /* config, series, chunks, objects */
};

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

int tsVtabRegister(sqlite3 *db, TsEnv *pEnv){
  int rc = sqlite3_create_module_v2(db, "timeseries", &tsModule, tsEnvRef(pEnv), tsEnvUnref);
  if( rc==SQLITE_OK ) rc = tsSchemaRegister(db, pEnv);
  if( rc==SQLITE_OK ) rc = tsSourceDebugRegister(db, pEnv);
  return rc;
}
