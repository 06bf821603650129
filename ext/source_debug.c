/*
** source_debug.c: a test-only row source (source.h) so the scan's merge of
** several sources can be tested before the cold tier exists, and the SQL
** function that enables it:
**
**   SELECT ts_debug_overlay('t');     -- 1; 'schema.t' for an attached table
**   CREATE TABLE t_debug_overlay(sid INTEGER, blk INTEGER, time INTEGER,
**                                version INTEGER, m0, m1, ...);
**
** Once enabled on a table's handle (for as long as this connection keeps
** the handle, i.e. while the virtual table is connected), every scan of the
** table also reads the plain table "<t>_debug_overlay" in the same schema as
** a source of lower priority than the memory tier: each distinct (sid, blk)
** is one block of series sid (the _series id) with iSeq = blk, holding the
** rows with that sid and blk; mN is measure N of the table (declaration
** order, NULL = NULL).  A block's times must be distinct (source.h rule 5);
** a duplicate time is reported as an error.  Without the table, or never
** enabled, the source has no rows (xOpen gives NULL).  The function is
** SQLITE_DIRECTONLY like ts_debug_set_now.
*/
#include "source.h"
#include <string.h>

typedef struct TsDbgSource TsDbgSource;
struct TsDbgSource {
  TsSource base;
  sqlite3_stmt *pRange;      /* min(time), max(time) WHERE sid=?1 */
  sqlite3_stmt *pBlocks;     /* blk, min, max, count per block of sid=?1 */
  sqlite3_stmt *pRows;       /* time, version, m0.. WHERE sid=?1 AND blk=?2 */
};

typedef struct TsDbgBlock TsDbgBlock;
struct TsDbgBlock {
  TsBlock base;
  int64_t *aTime;            /* (owned) */
  int64_t *aVersion;         /* (owned) */
  TsChunkCol *aCol;          /* [nMeas] (owned array) */
  unsigned char **aaNull;    /* [nMeas] (owned) */
  int64_t **aaNum;           /* [nMeas] int64 or double bits (owned) */
  char ***aazText;           /* [nMeas][row] (owned) */
  int **aanText;             /* [nMeas] (owned) */
};

static void dbgClose(TsSource *pSrc){
  TsDbgSource *p = (TsDbgSource*)pSrc;
  if( p==0 ) return;
  sqlite3_finalize(p->pRange);
  sqlite3_finalize(p->pBlocks);
  sqlite3_finalize(p->pRows);
  sqlite3_free(p);
}

static int dbgPrepare(TsTable *pTab, sqlite3_stmt **pp, char *zSql){
  int rc;
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(pTab->db, zSql, -1, pp, 0);
  sqlite3_free(zSql);
  return rc;
}

static int dbgOpen(TsTable *pTab, const TsScanSpec *pSpec, TsSource **ppSrc){
  TsDbgSource *p;
  const char *zDb = pTab->zDb, *zT = pTab->zName;
  char *zCols;
  int rc, i;
  (void)pSpec;
  *ppSrc = 0;
  if( !pTab->bDebugOverlay ) return SQLITE_OK;
  p = sqlite3_malloc64(sizeof(TsDbgSource));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  rc = dbgPrepare(pTab, &p->pRange, sqlite3_mprintf(
      "SELECT min(time), max(time) FROM \"%w\".\"%w_debug_overlay\" WHERE sid=?1", zDb, zT));
  if( rc==SQLITE_ERROR ){   /* no overlay table: no rows */
    dbgClose(&p->base);
    return SQLITE_OK;
  }
  if( rc==SQLITE_OK ) rc = dbgPrepare(pTab, &p->pBlocks, sqlite3_mprintf(
      "SELECT blk, min(time), max(time), count(*) FROM \"%w\".\"%w_debug_overlay\""
      " WHERE sid=?1 GROUP BY blk HAVING max(time)>=?2 AND min(time)<=?3", zDb, zT));
  zCols = sqlite3_mprintf("");
  for(i=0; zCols && i<pTab->s.nMeas; i++) zCols = sqlite3_mprintf("%z, m%d", zCols, i);
  if( rc==SQLITE_OK ){
    rc = zCols==0 ? SQLITE_NOMEM : dbgPrepare(pTab, &p->pRows, sqlite3_mprintf(
        "SELECT time, version%s FROM \"%w\".\"%w_debug_overlay\" WHERE sid=?1 AND blk=?2"
        " ORDER BY time", zCols, zDb, zT));
  }
  sqlite3_free(zCols);
  if( rc ){
    tsTabErr(pTab, "timeseries %s: debug overlay: %s", zT, sqlite3_errmsg(pTab->db));
    dbgClose(&p->base);
    return rc;
  }
  *ppSrc = &p->base;
  return SQLITE_OK;
}

static int dbgSeriesRange(TsSource *pSrc, const TsSeries *pS, sqlite3_int64 *ptMin,
                          sqlite3_int64 *ptMax){
  TsDbgSource *p = (TsDbgSource*)pSrc;
  int bHas = 0;
  sqlite3_bind_int64(p->pRange, 1, pS->iId);
  if( sqlite3_step(p->pRange)==SQLITE_ROW && sqlite3_column_type(p->pRange, 0)!=SQLITE_NULL ){
    *ptMin = sqlite3_column_int64(p->pRange, 0);
    *ptMax = sqlite3_column_int64(p->pRange, 1);
    bHas = 1;
  }
  sqlite3_reset(p->pRange);
  return bHas;
}

static int dbgBlocks(TsSource *pSrc, const TsSeries *pS, sqlite3_int64 lo, sqlite3_int64 hi,
                     TsBlockList *pList){
  TsDbgSource *p = (TsDbgSource*)pSrc;
  int rc = SQLITE_OK;
  sqlite3_bind_int64(p->pBlocks, 1, pS->iId);
  sqlite3_bind_int64(p->pBlocks, 2, lo);
  sqlite3_bind_int64(p->pBlocks, 3, hi);
  while( rc==SQLITE_OK && sqlite3_step(p->pBlocks)==SQLITE_ROW ){
    TsBlockInfo info;
    memset(&info, 0, sizeof(info));
    info.iRef = sqlite3_column_int64(p->pBlocks, 0);
    info.tMin = sqlite3_column_int64(p->pBlocks, 1);
    info.tMax = sqlite3_column_int64(p->pBlocks, 2);
    info.nRow = sqlite3_column_int(p->pBlocks, 3);
    info.iSeq = info.iRef;
    info.iRowid = ((sqlite3_int64)1<<52) + info.iRef*TS_CHUNK_MAX_ROWS;
    rc = tsBlockListAdd(pList, pSrc, &info);
  }
  if( sqlite3_reset(p->pBlocks)!=SQLITE_OK && rc==SQLITE_OK ){
    rc = tsTabStmtErr(pSrc->pTab, p->pBlocks);
  }
  return rc;
}

static void dbgBlockClose(TsSource *pSrc, TsBlock *pBlk){
  TsDbgBlock *pB = (TsDbgBlock*)pBlk;
  int i, j, nMeas = pSrc->pTab->s.nMeas;
  if( pB==0 ) return;
  for(i=0; i<nMeas; i++){
    if( pB->aaNull ) sqlite3_free(pB->aaNull[i]);
    if( pB->aaNum ) sqlite3_free(pB->aaNum[i]);
    if( pB->aanText ) sqlite3_free(pB->aanText[i]);
    if( pB->aazText && pB->aazText[i] ){
      for(j=0; j<pB->base.nRow; j++) sqlite3_free(pB->aazText[i][j]);
      sqlite3_free(pB->aazText[i]);
    }
  }
  sqlite3_free(pB->aaNull);
  sqlite3_free(pB->aaNum);
  sqlite3_free(pB->aanText);
  sqlite3_free(pB->aazText);
  sqlite3_free(pB->aCol);
  sqlite3_free(pB->aTime);
  sqlite3_free(pB->aVersion);
  sqlite3_free(pB);
}

static int dbgBlockOpen(TsSource *pSrc, const TsSeries *pS, const TsBlockInfo *pInfo,
                        TsBlock **ppBlk){
  TsDbgSource *p = (TsDbgSource*)pSrc;
  TsTable *pTab = pSrc->pTab;
  int nMeas = pTab->s.nMeas, n = pInfo->nRow, i, iRow = 0, rc = SQLITE_OK;
  size_t nPtr = sizeof(void*)*(size_t)(nMeas+1);
  TsDbgBlock *pB = sqlite3_malloc64(sizeof(TsDbgBlock));
  *ppBlk = 0;
  if( pB==0 ) return SQLITE_NOMEM;
  memset(pB, 0, sizeof(*pB));
  pB->aTime = sqlite3_malloc64(sizeof(int64_t)*(size_t)n);
  pB->aVersion = sqlite3_malloc64(sizeof(int64_t)*(size_t)n);
  pB->aCol = sqlite3_malloc64(sizeof(TsChunkCol)*(size_t)(nMeas+1));
  pB->aaNull = sqlite3_malloc64(nPtr);
  pB->aaNum = sqlite3_malloc64(nPtr);
  pB->aazText = sqlite3_malloc64(nPtr);
  pB->aanText = sqlite3_malloc64(nPtr);
  if( !pB->aTime || !pB->aVersion || !pB->aCol || !pB->aaNull || !pB->aaNum || !pB->aazText
   || !pB->aanText ){
    rc = SQLITE_NOMEM;
  }else{
    memset(pB->aCol, 0, sizeof(TsChunkCol)*(size_t)(nMeas+1));
    memset(pB->aaNull, 0, nPtr);
    memset(pB->aaNum, 0, nPtr);
    memset(pB->aazText, 0, nPtr);
    memset(pB->aanText, 0, nPtr);
  }
  for(i=0; rc==SQLITE_OK && i<nMeas; i++){
    TsChunkCol *c = &pB->aCol[i];
    c->eType = pTab->s.aMeasType[i];
    pB->aaNull[i] = sqlite3_malloc64((size_t)n);
    if( c->eType==TS_TYPE_VARCHAR ){
      pB->aazText[i] = sqlite3_malloc64(sizeof(char*)*(size_t)n);
      pB->aanText[i] = sqlite3_malloc64(sizeof(int)*(size_t)n);
      if( pB->aazText[i] ) memset(pB->aazText[i], 0, sizeof(char*)*(size_t)n);
      if( !pB->aazText[i] || !pB->aanText[i] ) rc = SQLITE_NOMEM;
      c->azText = (const char*const*)pB->aazText[i];
      c->anText = pB->aanText[i];
    }else{
      pB->aaNum[i] = sqlite3_malloc64(sizeof(int64_t)*(size_t)n);
      if( !pB->aaNum[i] ) rc = SQLITE_NOMEM;
      c->aInt = pB->aaNum[i];
      c->aDouble = (const double*)(void*)pB->aaNum[i];
    }
    if( !pB->aaNull[i] ) rc = SQLITE_NOMEM;
    c->aNull = pB->aaNull[i];
  }
  pB->base.nRow = n;
  if( rc==SQLITE_OK ){
    sqlite3_bind_int64(p->pRows, 1, pS->iId);
    sqlite3_bind_int64(p->pRows, 2, pInfo->iRef);
    while( rc==SQLITE_OK && iRow<n && sqlite3_step(p->pRows)==SQLITE_ROW ){
      pB->aTime[iRow] = sqlite3_column_int64(p->pRows, 0);
      pB->aVersion[iRow] = sqlite3_column_type(p->pRows, 1)==SQLITE_NULL ? 1
                         : sqlite3_column_int64(p->pRows, 1);
      if( iRow>0 && pB->aTime[iRow]<=pB->aTime[iRow-1] ){
        tsTabErr(pTab, "timeseries %s: debug overlay: block %lld of series %lld has time %lld "
                 "twice", pTab->zName, pInfo->iRef, pS->iId, pB->aTime[iRow]);
        rc = SQLITE_ERROR;
        break;
      }
      for(i=0; rc==SQLITE_OK && i<nMeas; i++){
        int bNull = sqlite3_column_type(p->pRows, 2+i)==SQLITE_NULL;
        pB->aaNull[i][iRow] = (unsigned char)bNull;
        if( pB->aCol[i].eType==TS_TYPE_VARCHAR ){
          pB->aanText[i][iRow] = 0;
          if( !bNull ){
            const char *z = (const char*)sqlite3_column_text(p->pRows, 2+i);
            int nz = sqlite3_column_bytes(p->pRows, 2+i);
            pB->aazText[i][iRow] = sqlite3_malloc64((size_t)nz+1);
            if( pB->aazText[i][iRow]==0 ){ rc = SQLITE_NOMEM; break; }
            memcpy(pB->aazText[i][iRow], z ? z : "", (size_t)nz);
            pB->aazText[i][iRow][nz] = 0;
            pB->aanText[i][iRow] = nz;
          }
        }else if( pB->aCol[i].eType==TS_TYPE_DOUBLE ){
          double r = bNull ? 0.0 : sqlite3_column_double(p->pRows, 2+i);
          memcpy(&pB->aaNum[i][iRow], &r, sizeof(r));
        }else{
          pB->aaNum[i][iRow] = bNull ? 0 : sqlite3_column_int64(p->pRows, 2+i);
        }
      }
      iRow++;
    }
    if( sqlite3_reset(p->pRows)!=SQLITE_OK && rc==SQLITE_OK ){
      rc = tsTabStmtErr(pTab, p->pRows);
    }
    if( rc==SQLITE_OK && iRow!=n ){
      tsTabErr(pTab, "timeseries %s: debug overlay changed during the scan", pTab->zName);
      rc = SQLITE_ERROR;
    }
  }
  if( rc ){
    dbgBlockClose(pSrc, &pB->base);
    return rc;
  }
  pB->base.aTime = pB->aTime;
  *ppBlk = &pB->base;
  return SQLITE_OK;
}

static int dbgBlockVersion(TsSource *pSrc, TsBlock *pBlk, const int64_t **paVersion){
  (void)pSrc;
  *paVersion = ((TsDbgBlock*)pBlk)->aVersion;
  return SQLITE_OK;
}

static int dbgBlockColumn(TsSource *pSrc, TsBlock *pBlk, int iMeas, const TsChunkCol **ppCol){
  (void)pSrc;
  *ppCol = &((TsDbgBlock*)pBlk)->aCol[iMeas];
  return SQLITE_OK;
}

const TsSourceMethods tsSourceDebug = {
  "debug overlay",
  dbgOpen,
  dbgClose,
  dbgSeriesRange,
  dbgBlocks,
  dbgBlockOpen,
  dbgBlockVersion,
  dbgBlockColumn,
  dbgBlockClose,
  0,                 /* never stale */
  0,                 /* no lookup for writes */
  0,                 /* no write marks */
  0,                 /* DISTINCT uses the block listing */
  0,                 /* no hints */
};

/* ts_debug_overlay('[schema.]table'): enable the overlay source on the
** connection's handle of the table; returns 1. */
static void overlayFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  TsEnv *pEnv = (TsEnv*)sqlite3_user_data(ctx);
  const char *zArg = (const char*)sqlite3_value_text(argv[0]);
  char *zDb = 0, *zTab = 0, *zErr = 0;
  TsTable *pTab = 0;
  int rc;
  (void)argc;
  if( zArg==0 ){
    sqlite3_result_error(ctx, "ts_debug_overlay: expects a table name", -1);
    return;
  }
  rc = tsTableSplitName(zArg, &zDb, &zTab);
  if( rc==SQLITE_OK ){
    rc = tsTableOpen(pEnv, sqlite3_context_db_handle(ctx), zDb, zTab, &pTab, &zErr);
  }
  if( rc==SQLITE_OK ){
    pTab->bDebugOverlay = 1;
    tsTableRelease(pTab);
    sqlite3_result_int(ctx, 1);
  }else if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else{
    sqlite3_result_error(ctx, zErr ? zErr : sqlite3_errstr(rc), -1);
  }
  sqlite3_free(zErr);
  sqlite3_free(zDb);
  sqlite3_free(zTab);
}

int tsSourceDebugRegister(sqlite3 *db, TsEnv *pEnv){
  return sqlite3_create_function_v2(db, "ts_debug_overlay", 1, SQLITE_UTF8|SQLITE_DIRECTONLY,
                                    tsEnvRef(pEnv), overlayFunc, 0, 0, tsEnvUnref);
}
