/*
** source_mem.c: the memory tier as a row source (source.h): the blocks of a
** series are its chunks in <t>_chunks (disjoint time ranges, format in
** ext/codec/chunk.h), read through the handle's statement cache; and the
** memory tier's record lookup for the write path (xFind) with its cache of
** the last chunk decoded (TsLook, owned by the handle).
*/
#include "source.h"
#include <string.h>

/* An open memory source: nothing beyond the base (chunks are read through
** the handle's statements). */
typedef struct TsMemSource TsMemSource;
struct TsMemSource {
  TsSource base;
};

/* An open chunk: a private copy of its blob and a reader over it. */
typedef struct TsMemBlock TsMemBlock;
struct TsMemBlock {
  TsBlock base;
  sqlite3_int64 iChunk;      /* chunk id */
  unsigned char *aBlob;      /* (owned) */
  TsChunkReader *pReader;    /* (owned) */
  TsChunkCol *aCol;          /* [nMeas], inside this allocation */
};

static int memOpen(TsTable *pTab, const TsScanSpec *pSpec, TsSource **ppSrc){
  TsMemSource *p = sqlite3_malloc64(sizeof(TsMemSource));
  (void)pSpec;
  *ppSrc = 0;
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->base.pTab = pTab;
  *ppSrc = &p->base;
  return SQLITE_OK;
}

static void memClose(TsSource *pSrc){
  sqlite3_free(pSrc);
}

/* The series' memory-tier range is _series.tmin/tmax (NULL: no chunks). */
static int memSeriesRange(TsSource *pSrc, const TsSeries *pS, sqlite3_int64 *ptMin,
                          sqlite3_int64 *ptMax){
  (void)pSrc;
  if( !pS->bChunks ) return 0;
  *ptMin = pS->tMin;
  *ptMax = pS->tMax;
  return 1;
}

/* The chunks of pS that overlap [lo, hi], from the floor chunk of lo on. */
static int memBlocks(TsSource *pSrc, const TsSeries *pS, sqlite3_int64 lo, sqlite3_int64 hi,
                     TsBlockList *pList){
  TsTable *p = pSrc->pTab;
  sqlite3_stmt *pStmt;
  int rc;
  rc = tsTabStmt(p, STMT_CHUNK_FLOOR, &pStmt);
  if( rc ) return rc;
  sqlite3_bind_int64(pStmt, 1, pS->iId);
  sqlite3_bind_int64(pStmt, 2, lo);
  sqlite3_bind_int64(pStmt, 3, hi);
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    TsBlockInfo info;
    if( sqlite3_column_int64(pStmt, 2)<lo ) continue;   /* the floor chunk ends before lo */
    info.iRef = sqlite3_column_int64(pStmt, 0);
    info.tMin = sqlite3_column_int64(pStmt, 1);
    info.tMax = sqlite3_column_int64(pStmt, 2);
    info.nRow = sqlite3_column_int(pStmt, 3);
    info.iSeq = info.iRef;
    info.iRowid = info.iRef*TS_CHUNK_MAX_ROWS;
    rc = tsBlockListAdd(pList, pSrc, &info);
  }
  if( sqlite3_reset(pStmt)!=SQLITE_OK && rc==SQLITE_OK ) rc = tsTabStmtErr(p, pStmt);
  return rc;
}

static int memBlockOpen(TsSource *pSrc, const TsSeries *pS, const TsBlockInfo *pInfo,
                        TsBlock **ppBlk){
  TsTable *p = pSrc->pTab;
  TsMemBlock *pB;
  TsRun run;
  int rc;
  (void)pS;
  *ppBlk = 0;
  pB = sqlite3_malloc64(sizeof(TsMemBlock) + sizeof(TsChunkCol)*(size_t)(p->s.nMeas+1));
  if( pB==0 ) return SQLITE_NOMEM;
  memset(pB, 0, sizeof(*pB));
  pB->aCol = (TsChunkCol*)&pB[1];
  rc = tsTabChunkLoad(p, pInfo->iRef, &pB->aBlob, &pB->pReader, &run, pB->aCol, 0);
  if( rc ){
    sqlite3_free(pB);
    return rc;
  }
  pB->iChunk = pInfo->iRef;
  pB->base.nRow = run.n;
  pB->base.aTime = run.aTime;
  *ppBlk = &pB->base;
  return SQLITE_OK;
}

static int memBlockVersion(TsSource *pSrc, TsBlock *pBlk, const int64_t **paVersion){
  TsMemBlock *pB = (TsMemBlock*)pBlk;
  if( tsChunkReadVersion(pB->pReader, paVersion)!=TS_CHUNK_OK ){
    *paVersion = 0;
    return tsTabChunkCorrupt(pSrc->pTab, pB->iChunk, "bad version column");
  }
  return SQLITE_OK;
}

static int memBlockMark(TsSource *pSrc, TsBlock *pBlk, const unsigned char **paMark){
  TsMemBlock *pB = (TsMemBlock*)pBlk;
  if( tsChunkReadMark(pB->pReader, paMark)!=TS_CHUNK_OK ){
    *paMark = 0;
    return tsTabChunkCorrupt(pSrc->pTab, pB->iChunk, "bad version column");
  }
  return SQLITE_OK;
}

static int memBlockColumn(TsSource *pSrc, TsBlock *pBlk, int iMeas, const TsChunkCol **ppCol){
  TsMemBlock *pB = (TsMemBlock*)pBlk;
  TsChunkCol *c = &pB->aCol[iMeas];
  if( tsChunkReadCol(pB->pReader, iMeas, c)!=TS_CHUNK_OK
   || c->eType!=pSrc->pTab->s.aMeasType[iMeas] ){
    *ppCol = 0;
    return tsTabChunkCorrupt(pSrc->pTab, pB->iChunk, "bad measure column");
  }
  *ppCol = c;
  return SQLITE_OK;
}

static void memBlockClose(TsSource *pSrc, TsBlock *pBlk){
  TsMemBlock *pB = (TsMemBlock*)pBlk;
  (void)pSrc;
  if( pB==0 ) return;
  tsChunkReaderFree(pB->pReader);
  sqlite3_free(pB->aBlob);
  sqlite3_free(pB);
}

/* Chunks are rewritten by this connection's flushes (iFlushGen). */
static sqlite3_int64 memGeneration(TsSource *pSrc){
  return pSrc->pTab->iFlushGen;
}

/**************************************************************************
** Duplicate detection against committed chunks.  The last chunk decoded for
** this purpose is kept (most out-of-order rows hit the same chunk); it is
** dropped whenever this connection writes chunks (iFlushGen) or the cache is
** reloaded.
*/

/* The handle's lookup cache, allocated on first use. */
static TsLook *memLookOf(TsTable *p){
  if( p->pLook==0 ){
    p->pLook = sqlite3_malloc64(sizeof(TsLook));
    if( p->pLook ){
      memset(p->pLook, 0, sizeof(TsLook));
      p->pLook->aCol = sqlite3_malloc64(sizeof(TsChunkCol)*(size_t)(p->s.nMeas+1));
      if( p->pLook->aCol==0 ){ sqlite3_free(p->pLook); p->pLook = 0; }
    }
  }
  return p->pLook;
}

static void memLookReset(TsLook *pL){
  if( pL==0 ) return;
  tsChunkReaderFree(pL->pReader);
  sqlite3_free(pL->aBlob);
  pL->pReader = 0;
  pL->aBlob = 0;
  pL->iChunk = 0;
}

/* Look for the committed record (pS, t).  *piRow = its row in the returned
** run (*ppRun), or -1 when there is none. */
static int memFind(TsTable *p, TsSeries *pS, sqlite3_int64 t, const TsRun **ppRun, int *piRow){
  sqlite3_stmt *pStmt;
  sqlite3_int64 iChunk = 0, tMax = 0;
  TsLook *pL = memLookOf(p);
  int rc, i;
  *piRow = -1;
  *ppRun = 0;
  if( !pS->bChunks || t<pS->tMin || t>pS->tMax ) return SQLITE_OK;
  if( pL==0 ) return SQLITE_NOMEM;
  rc = tsTabStmt(p, STMT_CHUNK_AT, &pStmt);
  if( rc ) return rc;
  sqlite3_bind_int64(pStmt, 1, pS->iId);
  sqlite3_bind_int64(pStmt, 2, t);
  if( sqlite3_step(pStmt)==SQLITE_ROW ){
    iChunk = sqlite3_column_int64(pStmt, 0);
    tMax = sqlite3_column_int64(pStmt, 1);
  }
  if( sqlite3_reset(pStmt)!=SQLITE_OK ) return tsTabStmtErr(p, pStmt);
  if( iChunk==0 || tMax<t ) return SQLITE_OK;
  if( pL->iChunk!=iChunk || pL->iGen!=p->iFlushGen ){
    memLookReset(pL);
    rc = tsTabChunkLoad(p, iChunk, &pL->aBlob, &pL->pReader, &pL->run, pL->aCol, 1);
    if( rc ) return rc;
    pL->iChunk = iChunk;
    pL->iGen = p->iFlushGen;
  }
  i = tsTabSearchTime(pL->run.aTime, 0, pL->run.n, t);
  if( i<pL->run.n && pL->run.aTime[i]==t ){
    *piRow = i;
    *ppRun = &pL->run;
  }
  return SQLITE_OK;
}


void tsMemLookClear(TsTable *p){
  memLookReset(p->pLook);
}

void tsMemLookFree(TsTable *p){
  if( p->pLook ){
    memLookReset(p->pLook);
    sqlite3_free(p->pLook->aCol);
    sqlite3_free(p->pLook);
    p->pLook = 0;
  }
}

const TsSourceMethods tsSourceMemory = {
  "memory",
  memOpen,
  memClose,
  memSeriesRange,
  memBlocks,
  memBlockOpen,
  memBlockVersion,
  memBlockColumn,
  memBlockClose,
  memGeneration,
  memFind,
  memBlockMark,
  0,                 /* xSeriesAny: DISTINCT uses the chunk listing */
  0,                 /* xHint: chunks are decoded whole */
};
