/*
** scan.c: the cursor of a timeseries table (xOpen, xClose, xFilter, xNext,
** xEof, xColumn, xRowid; xBestIndex and the plan it hands xFilter are in
** vtab.c) and the row-source registry of source.h.
**
** xFilter decodes the plan (idxNum/idxStr, documented above tsBestIndexImpl
** in vtab.c and repeated above tsFilterImpl here), flushes this connection's
** pending rows, picks the series of <t>_series that match the dimension and
** measure_name constraints, opens every row source once for the cursor and
** starts the lanes.  A lane reads the series apSer[iSer..iSerEnd) one after
** the other: for the current series it lists the blocks of every source
** (TsBlockInfo, sorted in scan order) and merges them by time, opening a
** block only when the merge reaches its first time (so at most the blocks
** that overlap the current time are open) and resolving rows of the same
** record key by source.h rule 6.  While the current block is the only one
** that can hold the next rows (no other open block or listed block starts
** before its row iRunEnd) xNext just steps through it: with one source and
** disjoint chunks that is every row but the last of a block.  An unordered
** scan has one lane over all series; ORDER BY time over several series has
** one lane per series merged through a heap on their current times.
*/
#include "source.h"
#include "scan_util.h"
#include "recrule.h"
#include "jsonw.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/**************************************************************************
** The row sources.
*/
const TsSourceMethods *const tsSourceAll[] = {
  &tsSourceMemory,       /* priority 0: the memory tier */
  &tsSourceCold,         /* priority 1: the cold tier (Parquet objects) */
  &tsSourceDebug,        /* last: test-only, rows only once enabled */
};
const int tsSourceCount = (int)(sizeof(tsSourceAll)/sizeof(tsSourceAll[0]));
#define TS_MAX_SOURCE 4    /* capacity of per-lane arrays, >= tsSourceCount */

int tsBlockListAdd(TsBlockList *pList, const TsSource *pSrc, const TsBlockInfo *pInfo){
  if( pList->n>=pList->nAlloc ){
    int nNew = pList->nAlloc ? pList->nAlloc*2 : 16;
    TsBlockInfo *a = sqlite3_realloc64(pList->a, sizeof(TsBlockInfo)*(size_t)nNew);
    if( a==0 ) return SQLITE_NOMEM;
    pList->a = a;
    pList->nAlloc = nNew;
  }
  pList->a[pList->n] = *pInfo;
  pList->a[pList->n].iSrc = pSrc->iSrc;
  pList->n++;
  return SQLITE_OK;
}

int tsSourceFind(TsTable *pTab, TsSeries *pS, sqlite3_int64 t, const TsRun **ppRun,
                 int *piRow){
  sqlite3_int64 iBest = 0;
  int i, rc;
  *ppRun = 0;
  *piRow = -1;
  /* The earliest write first (the last source), then ext/recrule.h. */
  for(i=tsSourceCount-1; i>=0; i--){
    const TsRun *pRun = 0;
    int iRow = -1;
    if( tsSourceAll[i]->xFind==0 ) continue;
    rc = tsSourceAll[i]->xFind(pTab, pS, t, &pRun, &iRow);
    if( rc ) return rc;
    if( iRow>=0 ){
      sqlite3_int64 v = pRun->aVersion ? pRun->aVersion[iRow] : 1;
      if( *piRow<0 || tsRecLaterWins(iBest, v, pRun->aMark ? pRun->aMark[iRow] : TS_MARK_NONE) ){
        *ppRun = pRun;
        *piRow = iRow;
        iBest = v;
      }
    }
  }
  return SQLITE_OK;
}

/**************************************************************************
** Cursor structures.
*/

/* An open block of a lane. */
typedef struct TsOpenBlk TsOpenBlk;
struct TsOpenBlk {
  TsBlock *pBlk;             /* (owned: closed through pSrc) */
  TsSource *pSrc;            /* its source */
  sqlite3_int64 iSeq;        /* TsBlockInfo.iSeq */
  sqlite3_int64 iRowid;      /* TsBlockInfo.iRowid */
  int iRow;                  /* next row of the block (saved by laneSettle) */
  int iBegin, iEnd;          /* rows in range: [iBegin, iEnd) */
  int bVersion;              /* aVersion was asked for */
  const int64_t *aVersion;   /* versions, NULL = all 1 */
  const unsigned char *aMark;/* write marks, NULL = all TS_MARK_NONE */
  const TsChunkCol **apCol;  /* [nMeas] decoded columns, NULL until asked
                             ** (the array is owned and kept with the slot) */
};

/* A lane (see the header comment). */
typedef struct TsLane TsLane;
struct TsLane {
  int bEof;                  /* no more rows */
  int iSer;                  /* current series (index into apSer) */
  int iSerEnd;               /* one past the lane's last series */
  int bEmitted;              /* a row of the current series was emitted */
  sqlite3_int64 tLast;       /* time of that row */
  TsBlockList pend;          /* listed blocks of the series, in scan order
                             ** from pend.a[iPend] on (owned) */
  int iPend;                 /* next listed block to open */
  sqlite3_int64 aGen[TS_MAX_SOURCE];  /* xGeneration of each source when
                             ** its blocks were listed */
  TsOpenBlk *aOpen;          /* open blocks [0, nOpen); slots up to
                             ** nOpenAlloc keep their apCol arrays (owned) */
  int nOpen;
  int nOpenAlloc;
  /* The current row: pCurBlk->pBlk row iRow. */
  TsOpenBlk *pCurBlk;        /* NULL between laneSettle's start and end */
  const int64_t *aTime;      /* pCurBlk->pBlk->aTime */
  int iRow;
  int iRunEnd;               /* rows of the current block that follow without
                             ** a merge: ASC iRow < iRunEnd, DESC iRow >= iRunEnd */
  /* DISTINCT mode: the current series was proven to have a row in range
  ** from the catalogue (block listing, xSeriesAny) without opening a block:
  ** pCurBlk is NULL, aTime = &tCat, iRow = 0. */
  int bCat;
  int64_t tCat;              /* the time of one row of the series in range */
  sqlite3_int64 iCatRowid;   /* its rowid where known, else 0 */
};

typedef struct TsCursor TsCursor;
struct TsCursor {
  sqlite3_vtab_cursor base;  /* base class: must be first */
  int bEof;
  sqlite3_int64 tLo, tHi;    /* time range, inclusive */
  int bDesc;                 /* emit in descending time order */
  int bMerge;                /* ordered by time across series (a lane each) */
  int bDistinct;             /* one row per series (TS_IDX_DISTINCT) */
  unsigned int mDistinct;    /* the slots the series are sorted by */
  sqlite3_int64 nLimit;      /* rows to emit, -1 = no limit */
  sqlite3_int64 nOut;        /* rows emitted */
  TsValSet *aSet;            /* constraints on dimensions (owned) */
  int nSet;
  TsMeasFilter *aFilt;       /* row filters on measures, SQLite re-checks
                             ** them (source.h rule 10; owned) */
  int nFilt;
  TsSeries **apSer;          /* series to scan (referenced) */
  int nSer;
  TsSource *apSrc[TS_MAX_SOURCE];  /* open sources by tsSourceAll index;
                             ** NULL = no rows for this scan (owned) */
  TsLane *aLane;             /* (owned) */
  int nLane;
  int *aHeap;                /* lanes with rows, a heap on current time
                             ** (bMerge only; owned) */
  int nHeap;
  TsLane *pLane;             /* the lane holding the current row */
};

static TsTable *cursorTable(TsCursor *pCur){
  return ((TsVtab*)pCur->base.pVtab)->pTab;
}

/**************************************************************************
** Lanes.
*/

/* Close open block i of the lane; the last open slot takes its place (the
** closed slot moves past nOpen, keeping its apCol array). */
static void laneBlkClose(TsLane *pL, int i){
  TsOpenBlk *b = &pL->aOpen[i], tmp;
  b->pSrc->pM->xBlockClose(b->pSrc, b->pBlk);
  b->pBlk = 0;
  pL->nOpen--;
  if( i!=pL->nOpen ){
    tmp = pL->aOpen[i];
    pL->aOpen[i] = pL->aOpen[pL->nOpen];
    pL->aOpen[pL->nOpen] = tmp;
  }
}

/* Close every open block and forget the listed ones. */
static void laneClear(TsLane *pL){
  while( pL->nOpen>0 ) laneBlkClose(pL, pL->nOpen-1);
  pL->pend.n = 0;
  pL->iPend = 0;
  pL->pCurBlk = 0;
  pL->aTime = 0;
  pL->bCat = 0;
}

static void laneFree(TsLane *pL){
  int i;
  laneClear(pL);
  for(i=0; i<pL->nOpenAlloc; i++) sqlite3_free((void*)pL->aOpen[i].apCol);
  sqlite3_free(pL->aOpen);
  sqlite3_free(pL->pend.a);
  memset(pL, 0, sizeof(*pL));
}

/* Scan order of listed blocks: ascending by first time (descending by
** last time for DESC); ties by source priority and iSeq, for a stable
** order only (the merge rule does not depend on it). */
static int blkCmpAsc(const void *pA, const void *pB){
  const TsBlockInfo *a = pA, *b = pB;
  if( a->tMin!=b->tMin ) return a->tMin<b->tMin ? -1 : 1;
  if( a->iSrc!=b->iSrc ) return a->iSrc<b->iSrc ? -1 : 1;
  if( a->iSeq!=b->iSeq ) return a->iSeq<b->iSeq ? -1 : 1;
  return 0;
}
static int blkCmpDesc(const void *pA, const void *pB){
  const TsBlockInfo *a = pA, *b = pB;
  if( a->tMax!=b->tMax ) return a->tMax>b->tMax ? -1 : 1;
  if( a->iSrc!=b->iSrc ) return a->iSrc<b->iSrc ? -1 : 1;
  if( a->iSeq!=b->iSeq ) return a->iSeq<b->iSeq ? -1 : 1;
  return 0;
}

/* Sort pend.a[iPend..n) into scan order (a no-op when already sorted, the
** usual case of one source whose list comes in time order). */
static void laneSortPend(TsCursor *pCur, TsLane *pL){
  int (*xCmp)(const void*, const void*) = pCur->bDesc ? blkCmpDesc : blkCmpAsc;
  TsBlockInfo *a = pL->pend.a + pL->iPend;
  int n = pL->pend.n - pL->iPend, i;
  for(i=1; i<n && xCmp(&a[i-1], &a[i])<=0; i++){}
  if( i>=n ) return;
  if( pCur->bDesc ){
    /* A list in ascending order (as the memory tier gives it) reverses. */
    for(i=1; i<n && blkCmpAsc(&a[i-1], &a[i])<0; i++){}
    if( i>=n ){
      int j;
      for(j=0; j<n/2; j++){ TsBlockInfo t = a[j]; a[j] = a[n-1-j]; a[n-1-j] = t; }
      /* Reversed ascending-by-tMin is descending-by-tMax only for blocks
      ** that do not overlap (one source); overlapping blocks of two
      ** sources (a late write over cold rows) need the sort. */
      for(i=1; i<n && xCmp(&a[i-1], &a[i])<=0; i++){}
      if( i>=n ) return;
    }
  }
  qsort(a, (size_t)n, sizeof(TsBlockInfo), xCmp);
}

/* The part of the cursor's range the lane still has to read in the current
** series: after the last row emitted. */
static void laneRange(TsCursor *pCur, TsLane *pL, sqlite3_int64 *pLo, sqlite3_int64 *pHi){
  sqlite3_int64 lo = pCur->tLo, hi = pCur->tHi;
  if( pL->bEmitted ){
    if( pCur->bDesc ){ if( pL->tLast-1<hi ) hi = pL->tLast-1; }
    else{ if( pL->tLast+1>lo ) lo = pL->tLast+1; }
  }
  *pLo = lo;
  *pHi = hi;
}

/* List the blocks of source iSrc for the current series (rest of the
** range) and put them in order among the listed blocks not yet opened. */
static int laneList(TsCursor *pCur, TsLane *pL, int iSrc){
  TsSource *pSrc = pCur->apSrc[iSrc];
  sqlite3_int64 lo, hi;
  int rc;
  laneRange(pCur, pL, &lo, &hi);
  pL->aGen[iSrc] = pSrc->pM->xGeneration ? pSrc->pM->xGeneration(pSrc) : 0;
  if( lo>hi ) return SQLITE_OK;
  rc = pSrc->pM->xBlocks(pSrc, pCur->apSer[pL->iSer], lo, hi, &pL->pend);
  return rc;
}

/* Source iSrc's earlier list went stale (source.h rule 7): drop its
** unopened blocks and list the rest of the range again. */
static int laneRelist(TsCursor *pCur, TsLane *pL, int iSrc){
  int i, j = pL->iPend, rc;
  for(i=pL->iPend; i<pL->pend.n; i++){
    if( pL->pend.a[i].iSrc!=iSrc ) pL->pend.a[j++] = pL->pend.a[i];
  }
  pL->pend.n = j;
  rc = laneList(pCur, pL, iSrc);
  if( rc==SQLITE_OK ) laneSortPend(pCur, pL);
  return rc;
}

/* DISTINCT mode: the lane's current series has a row at time t in range
** (rowid iRowid, 0 = unknown): it is the lane's row, no block opened. */
static void laneCatalogue(TsLane *pL, sqlite3_int64 t, sqlite3_int64 iRowid){
  pL->bCat = 1;
  pL->tCat = t;
  pL->iCatRowid = iRowid;
  pL->aTime = &pL->tCat;
  pL->iRow = 0;
  pL->pCurBlk = 0;
}

/* DISTINCT mode: does the series of the lane have a row in range by what
** source s tells without a decode (source.h rule 9)?  Sets the catalogue
** row (laneCatalogue) when it does; else lists the source's blocks when
** they are needed to tell. */
static int laneDistinctProbe(TsCursor *pCur, TsLane *pL, int s){
  TsSource *pSrc = pCur->apSrc[s];
  sqlite3_int64 lo = pCur->tLo, hi = pCur->tHi;
  int rc, k, n0;
  if( pSrc->pM->xSeriesAny ){
    int bAny = -1;
    sqlite3_int64 t = 0;
    rc = pSrc->pM->xSeriesAny(pSrc, pCur->apSer[pL->iSer], lo, hi, &bAny, &t);
    if( rc ) return rc;
    if( bAny==1 ) laneCatalogue(pL, t, 0);
    if( bAny>=0 ) return SQLITE_OK;
  }
  n0 = pL->pend.n;
  rc = laneList(pCur, pL, s);
  for(k=n0; rc==SQLITE_OK && k<pL->pend.n; k++){
    const TsBlockInfo *pI = &pL->pend.a[k];
    if( pI->tMin>=lo && pI->tMin<=hi ){
      laneCatalogue(pL, pI->tMin, pI->iRowid);
      break;
    }
    if( pI->tMax>=lo && pI->tMax<=hi ){
      laneCatalogue(pL, pI->tMax, pI->iRowid + pI->nRow - 1);
      break;
    }
  }
  return rc;
}

/* Move the lane to its next series that some source has rows of in the
** range, listing its blocks; bEof when there is none.  In DISTINCT mode
** the series may instead be proven from the catalogue (bCat: the lane's
** row is set, nothing listed to open). */
static int laneNextSeries(TsCursor *pCur, TsLane *pL){
  int rc = SQLITE_OK, s;
  laneClear(pL);
  pL->bEmitted = 0;
  for(pL->iSer++; pL->iSer<pL->iSerEnd; pL->iSer++){
    TsSeries *pS = pCur->apSer[pL->iSer];
    for(s=0; rc==SQLITE_OK && s<tsSourceCount && !pL->bCat; s++){
      TsSource *pSrc = pCur->apSrc[s];
      sqlite3_int64 tMin, tMax;
      if( pSrc && pSrc->pM->xSeriesRange(pSrc, pS, &tMin, &tMax)
       && tMax>=pCur->tLo && tMin<=pCur->tHi ){
        rc = pCur->bDistinct ? laneDistinctProbe(pCur, pL, s) : laneList(pCur, pL, s);
      }
    }
    if( rc ) return rc;
    if( pL->bCat ){
      pL->pend.n = 0;
      return SQLITE_OK;
    }
    if( pL->pend.n>0 ){
      laneSortPend(pCur, pL);
      return SQLITE_OK;
    }
  }
  pL->bEof = 1;
  return SQLITE_OK;
}

/* Open listed block pend.a[iPend] (and step past it).  A block with no row
** left in range is closed again at once. */
static int laneBlkOpen(TsCursor *pCur, TsLane *pL){
  TsTable *p = cursorTable(pCur);
  const TsBlockInfo *pI = &pL->pend.a[pL->iPend++];
  TsSource *pSrc = pCur->apSrc[pI->iSrc];
  TsBlock *pBlk = 0;
  TsOpenBlk *b;
  sqlite3_int64 lo, hi;
  int rc, iBegin, iEnd;
  rc = pSrc->pM->xBlockOpen(pSrc, pCur->apSer[pL->iSer], pI, &pBlk);
  if( rc ) return rc;
  laneRange(pCur, pL, &lo, &hi);
  iBegin = tsTabSearchTime(pBlk->aTime, 0, pBlk->nRow, lo);
  iEnd = hi==INT64_MAX ? pBlk->nRow : tsTabSearchTime(pBlk->aTime, 0, pBlk->nRow, hi+1);
  if( iEnd<=iBegin ){
    pSrc->pM->xBlockClose(pSrc, pBlk);
    return SQLITE_OK;
  }
  if( pL->nOpen>=pL->nOpenAlloc ){
    int nNew = pL->nOpenAlloc ? pL->nOpenAlloc*2 : 2;
    TsOpenBlk *a = sqlite3_realloc64(pL->aOpen, sizeof(TsOpenBlk)*(size_t)nNew);
    if( a==0 ){
      pSrc->pM->xBlockClose(pSrc, pBlk);
      return SQLITE_NOMEM;
    }
    memset(&a[pL->nOpenAlloc], 0, sizeof(TsOpenBlk)*(size_t)(nNew-pL->nOpenAlloc));
    pL->aOpen = a;
    pL->nOpenAlloc = nNew;
  }
  b = &pL->aOpen[pL->nOpen];
  if( b->apCol==0 ){
    b->apCol = sqlite3_malloc64(sizeof(TsChunkCol*)*(size_t)(p->s.nMeas+1));
    if( b->apCol==0 ){
      pSrc->pM->xBlockClose(pSrc, pBlk);
      return SQLITE_NOMEM;
    }
  }
  memset((void*)b->apCol, 0, sizeof(TsChunkCol*)*(size_t)(p->s.nMeas+1));
  b->pBlk = pBlk;
  b->pSrc = pSrc;
  b->iSeq = pI->iSeq;
  b->iRowid = pI->iRowid;
  b->iBegin = iBegin;
  b->iEnd = iEnd;
  b->iRow = pCur->bDesc ? iEnd-1 : iBegin;
  b->bVersion = 0;
  b->aVersion = 0;
  b->aMark = 0;
  pL->nOpen++;
  return SQLITE_OK;
}

static int blkVersions(TsOpenBlk *b){
  int rc = SQLITE_OK;
  if( !b->bVersion ){
    rc = b->pSrc->pM->xBlockVersion(b->pSrc, b->pBlk, &b->aVersion);
    if( rc==SQLITE_OK && b->pSrc->pM->xBlockMark ){
      rc = b->pSrc->pM->xBlockMark(b->pSrc, b->pBlk, &b->aMark);
    }
    if( rc==SQLITE_OK ) b->bVersion = 1;
  }
  return rc;
}

/* Was block a written before block b (source.h rule 6: a lower-priority
** source is the earlier write; in one source the lower iSeq)? */
static int blkEarlier(const TsOpenBlk *a, const TsOpenBlk *b){
  if( a->pSrc->iSrc!=b->pSrc->iSrc ) return a->pSrc->iSrc>b->pSrc->iSrc;
  return a->iSeq<b->iSeq;
}

/* Of the open blocks aTie[0..nTie) holding the same record key at their
** current rows, the one that is visible: ext/recrule.h applied in write
** order.  Returns its index in aOpen, or -1 with *pRc set. */
static int blkResolve(TsLane *pL, int *aTie, int nTie, int *pRc){
  int i, j, iWin;
  for(i=0; i<nTie; i++){
    if( (*pRc = blkVersions(&pL->aOpen[aTie[i]]))!=SQLITE_OK ) return -1;
  }
  for(i=1; i<nTie; i++){              /* insertion sort, earliest first */
    int x = aTie[i];
    for(j=i; j>0 && blkEarlier(&pL->aOpen[x], &pL->aOpen[aTie[j-1]]); j--) aTie[j] = aTie[j-1];
    aTie[j] = x;
  }
  iWin = aTie[0];
  for(i=1; i<nTie; i++){
    const TsOpenBlk *w = &pL->aOpen[iWin], *l = &pL->aOpen[aTie[i]];
    sqlite3_int64 vW = w->aVersion ? w->aVersion[w->iRow] : 1;
    sqlite3_int64 vL = l->aVersion ? l->aVersion[l->iRow] : 1;
    if( tsRecLaterWins(vW, vL, l->aMark ? l->aMark[l->iRow] : TS_MARK_NONE) ) iWin = aTie[i];
  }
  return iWin;
}

/* Position the lane on its next row: the current block's row iRow was
** consumed by the caller (or there is no current block yet).  Closes used
** up blocks, moves to the next series when the current one is done, opens
** the listed blocks the merge has reached, resolves duplicate keys and
** computes how far the chosen block runs on its own. */
static int laneSettle(TsCursor *pCur, TsLane *pL){
  int bDesc = pCur->bDesc;
  int rc = SQLITE_OK, i, iBest;
  TsOpenBlk *w;
  sqlite3_int64 tBest = 0, tBound = 0;
  int bBound = 0;
  if( pL->pCurBlk ){
    pL->pCurBlk->iRow = pL->iRow;
    pL->pCurBlk = 0;
  }
  for(;;){
    int bTie = 0;
    /* Close the blocks that are used up. */
    for(i=0; i<pL->nOpen; ){
      TsOpenBlk *b = &pL->aOpen[i];
      if( b->iRow<b->iBegin || b->iRow>=b->iEnd ) laneBlkClose(pL, i);
      else i++;
    }
    if( pL->nOpen==0 && pL->iPend>=pL->pend.n ){
      rc = laneNextSeries(pCur, pL);
      if( rc || pL->bEof || pL->bCat ) return rc;
      continue;
    }
    /* Open the listed blocks that begin at or before the merge front. */
    while( pL->iPend<pL->pend.n ){
      const TsBlockInfo *pI = &pL->pend.a[pL->iPend];
      TsSource *pSrc = pCur->apSrc[pI->iSrc];
      if( pL->nOpen>0 ){
        sqlite3_int64 tFront = 0, tStart = bDesc ? pI->tMax : pI->tMin;
        for(i=0; i<pL->nOpen; i++){
          sqlite3_int64 t = pL->aOpen[i].pBlk->aTime[pL->aOpen[i].iRow];
          if( i==0 || (bDesc ? t>tFront : t<tFront) ) tFront = t;
        }
        if( bDesc ? tStart<tFront : tStart>tFront ) break;
      }
      if( pSrc->pM->xGeneration && pSrc->pM->xGeneration(pSrc)!=pL->aGen[pI->iSrc] ){
        int bOpen = 0;
        for(i=0; i<pL->nOpen; i++) if( pL->aOpen[i].pSrc==pSrc ) bOpen = 1;
        if( !bOpen ){
          rc = laneRelist(pCur, pL, pI->iSrc);
          if( rc ) return rc;
          continue;
        }
      }
      rc = laneBlkOpen(pCur, pL);
      if( rc ) return rc;
    }
    if( pL->nOpen==0 ) continue;
    /* The block whose current row comes first. */
    iBest = 0;
    tBest = pL->aOpen[0].pBlk->aTime[pL->aOpen[0].iRow];
    for(i=1; i<pL->nOpen; i++){
      sqlite3_int64 t = pL->aOpen[i].pBlk->aTime[pL->aOpen[i].iRow];
      if( bDesc ? t>tBest : t<tBest ){ iBest = i; tBest = t; }
    }
    /* Other blocks at the same time hold the same record key: the winner
    ** stays, the others step past it; then look again. */
    for(i=0; i<pL->nOpen; i++){
      TsOpenBlk *b = &pL->aOpen[i];
      if( i!=iBest && b->pBlk->aTime[b->iRow]==tBest ){ bTie = 1; break; }
    }
    if( !bTie ) break;
    {
      int aTieStack[8], *aTie = aTieStack, nTie = 0, iWin;
      if( pL->nOpen>8 ){
        aTie = sqlite3_malloc64(sizeof(int)*(size_t)pL->nOpen);
        if( aTie==0 ) return SQLITE_NOMEM;
      }
      for(i=0; i<pL->nOpen; i++){
        if( pL->aOpen[i].pBlk->aTime[pL->aOpen[i].iRow]==tBest ) aTie[nTie++] = i;
      }
      iWin = blkResolve(pL, aTie, nTie, &rc);
      if( aTie!=aTieStack ) sqlite3_free(aTie);
      if( rc ) return rc;
      for(i=0; i<pL->nOpen; i++){
        TsOpenBlk *b = &pL->aOpen[i];
        if( i!=iWin && b->pBlk->aTime[b->iRow]==tBest ) b->iRow += bDesc ? -1 : 1;
      }
    }
  }
  /* How far the chosen block runs before another block may interleave. */
  w = &pL->aOpen[iBest];
  for(i=0; i<pL->nOpen; i++){
    sqlite3_int64 t;
    if( i==iBest ) continue;
    t = pL->aOpen[i].pBlk->aTime[pL->aOpen[i].iRow];
    if( !bBound || (bDesc ? t>tBound : t<tBound) ){ tBound = t; bBound = 1; }
  }
  if( pL->iPend<pL->pend.n ){
    const TsBlockInfo *pI = &pL->pend.a[pL->iPend];
    sqlite3_int64 t = bDesc ? pI->tMax : pI->tMin;
    if( !bBound || (bDesc ? t>tBound : t<tBound) ){ tBound = t; bBound = 1; }
  }
  pL->pCurBlk = w;
  pL->aTime = w->pBlk->aTime;
  pL->iRow = w->iRow;
  if( bDesc ){
    /* rows iRow down to the first with time > tBound (tBound < tBest) */
    pL->iRunEnd = w->iBegin;
    if( bBound ){
      int k = tsTabSearchTime(w->pBlk->aTime, 0, w->iRow+1, tBound+1);
      if( k>pL->iRunEnd ) pL->iRunEnd = k;
    }
  }else{
    /* rows iRow up to the last with time < tBound (tBound > tBest) */
    pL->iRunEnd = w->iEnd;
    if( bBound ){
      int k = w->iRow + tsTabSearchTime(w->pBlk->aTime + w->iRow, 0, w->iEnd - w->iRow, tBound);
      if( k<pL->iRunEnd ) pL->iRunEnd = k;
    }
  }
  return SQLITE_OK;
}

/* Does lane a come before lane b in the output order? */
static int laneBefore(void *pCtx, int a, int b){
  TsCursor *pCur = (TsCursor*)pCtx;
  sqlite3_int64 ta = pCur->aLane[a].aTime[pCur->aLane[a].iRow];
  sqlite3_int64 tb = pCur->aLane[b].aTime[pCur->aLane[b].iRow];
  if( ta==tb ) return a<b;
  return pCur->bDesc ? ta>tb : ta<tb;
}

/* Choose the lane of the next row (or set EOF). */
static void cursorPick(TsCursor *pCur){
  if( pCur->nLimit>=0 && pCur->nOut>=pCur->nLimit ){
    pCur->bEof = 1;
  }else if( pCur->bMerge ){
    if( pCur->nHeap==0 ) pCur->bEof = 1;
    else pCur->pLane = &pCur->aLane[pCur->aHeap[0]];
  }else{
    pCur->pLane = &pCur->aLane[0];
    pCur->bEof = pCur->aLane[0].bEof;
  }
}

static void cursorReset(TsCursor *pCur){
  TsTable *p = cursorTable(pCur);
  int i;
  for(i=0; i<pCur->nLane; i++) laneFree(&pCur->aLane[i]);
  sqlite3_free(pCur->aLane);
  pCur->aLane = 0;
  pCur->nLane = 0;
  pCur->pLane = 0;
  for(i=0; i<TS_MAX_SOURCE; i++){
    if( pCur->apSrc[i] ){
      pCur->apSrc[i]->pM->xClose(pCur->apSrc[i]);
      pCur->apSrc[i] = 0;
    }
  }
  sqlite3_free(pCur->aHeap);
  pCur->aHeap = 0;
  pCur->nHeap = 0;
  for(i=0; i<pCur->nSer; i++) tsTabSeriesUnref(p, pCur->apSer[i]);
  sqlite3_free(pCur->apSer);
  pCur->apSer = 0;
  pCur->nSer = 0;
  for(i=0; i<pCur->nSet; i++){
    tsValSetClear(&pCur->aSet[i]);
  }
  sqlite3_free(pCur->aSet);
  pCur->aSet = 0;
  pCur->nSet = 0;
  sqlite3_free(pCur->aFilt);
  pCur->aFilt = 0;
  pCur->nFilt = 0;
  pCur->bEof = 1;
}

/* Open the sources, set up the lanes over apSer[0..nSer) and position on
** the first row. */
static int cursorStart(TsCursor *pCur){
  TsTable *p = cursorTable(pCur);
  TsScanSpec spec;
  int i, rc = SQLITE_OK;
  spec.tLo = pCur->tLo;
  spec.tHi = pCur->tHi;
  spec.bDesc = pCur->bDesc;
  if( pCur->nSer>0 ){
    for(i=0; rc==SQLITE_OK && i<tsSourceCount; i++){
      TsSource *pSrc = 0;
      rc = tsSourceAll[i]->xOpen(p, &spec, &pSrc);
      if( rc==SQLITE_OK && pSrc ){
        pSrc->pM = tsSourceAll[i];
        pSrc->pTab = p;
        pSrc->iSrc = i;
        pCur->apSrc[i] = pSrc;
        if( pSrc->pM->xHint ){
          TsScanHint hint;
          hint.apSer = pCur->apSer;
          hint.nSer = pCur->nSer;
          hint.aFilt = pCur->aFilt;
          hint.nFilt = pCur->nFilt;
          rc = pSrc->pM->xHint(pSrc, &hint);
        }
      }
    }
    if( rc ) return rc;
  }
  pCur->nLane = pCur->bMerge ? pCur->nSer : 1;
  pCur->aLane = sqlite3_malloc64(sizeof(TsLane)*(size_t)pCur->nLane);
  if( pCur->aLane==0 ){ pCur->nLane = 0; return SQLITE_NOMEM; }
  memset(pCur->aLane, 0, sizeof(TsLane)*(size_t)pCur->nLane);
  for(i=0; i<pCur->nLane; i++){
    TsLane *pL = &pCur->aLane[i];
    pL->iSer = pCur->bMerge ? i-1 : -1;
    pL->iSerEnd = pCur->bMerge ? i+1 : pCur->nSer;
  }
  if( pCur->bMerge ){
    pCur->aHeap = sqlite3_malloc64(sizeof(int)*(size_t)(pCur->nLane+1));
    if( pCur->aHeap==0 ) return SQLITE_NOMEM;
  }
  for(i=0; rc==SQLITE_OK && i<pCur->nLane; i++){
    rc = laneSettle(pCur, &pCur->aLane[i]);
    if( rc==SQLITE_OK && pCur->bMerge && !pCur->aLane[i].bEof ) pCur->aHeap[pCur->nHeap++] = i;
  }
  if( rc==SQLITE_OK && pCur->bMerge ){
    for(i=pCur->nHeap/2-1; i>=0; i--) tsHeapDown(pCur->aHeap, pCur->nHeap, i, laneBefore, pCur);
  }
  if( rc==SQLITE_OK ){
    pCur->bEof = 0;
    cursorPick(pCur);
  }
  return rc;
}

/**************************************************************************
** The sqlite3_module read methods.
*/
int tsScanOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor){
  TsCursor *pCur = sqlite3_malloc64(sizeof(TsCursor));
  (void)pVtab;
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  pCur->bEof = 1;
  *ppCursor = &pCur->base;
  return SQLITE_OK;
}

int tsScanClose(sqlite3_vtab_cursor *pCursor){
  TsCursor *pCur = (TsCursor*)pCursor;
  cursorReset(pCur);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

static int tsNextImpl(TsCursor *pCur){
  TsLane *pL = pCur->pLane;
  int rc = SQLITE_OK;
  pL->bEmitted = 1;
  pL->tLast = pL->aTime[pL->iRow];
  pCur->nOut++;
  if( pCur->bDistinct ){
    /* One row per series: on to the next series' first row. */
    rc = laneNextSeries(pCur, pL);
    if( rc==SQLITE_OK && !pL->bEof && !pL->bCat ) rc = laneSettle(pCur, pL);
  }else if( pCur->bDesc ){
    if( --pL->iRow<pL->iRunEnd ) rc = laneSettle(pCur, pL);
  }else{
    if( ++pL->iRow>=pL->iRunEnd ) rc = laneSettle(pCur, pL);
  }
  if( rc ){
    pCur->bEof = 1;
    return rc;
  }
  if( pCur->bMerge ){
    if( pL->bEof ) pCur->aHeap[0] = pCur->aHeap[--pCur->nHeap];
    tsHeapDown(pCur->aHeap, pCur->nHeap, 0, laneBefore, pCur);
  }
  cursorPick(pCur);
  return SQLITE_OK;
}

int tsScanNext(sqlite3_vtab_cursor *pCursor){
  return tsTabVtabRc(pCursor->pVtab, tsNextImpl((TsCursor*)pCursor));
}

/**************************************************************************
** xFilter: constraints and the series to scan.
*/

/* DISTINCT mode: order of two series by the slots in mDistinct (BINARY,
** NULL first), so that series equal in those columns are adjacent. */
static int seriesCmpDistinct(const void *pA, const void *pB, void *pCtx){
  const TsSeries *a = *(TsSeries *const*)pA, *b = *(TsSeries *const*)pB;
  const TsCursor *pCur = (const TsCursor*)pCtx;
  int nDim = cursorTable((TsCursor*)pCur)->s.nDim, i;
  for(i=0; i<=nDim; i++){
    const char *za, *zb;
    int c;
    if( (pCur->mDistinct & (1u<<i))==0 ) continue;
    za = i<nDim ? a->azDim[i] : a->zMName;
    zb = i<nDim ? b->azDim[i] : b->zMName;
    if( za==0 || zb==0 ){
      if( za!=zb ) return za==0 ? -1 : 1;
      continue;
    }
    c = strcmp(za, zb);
    if( c ) return c;
  }
  return a->iId<b->iId ? -1 : a->iId>b->iId;
}

static int seriesMatches(TsCursor *pCur, TsSeries *pS){
  int i;
  for(i=0; i<pCur->nSet; i++){
    TsValSet *pSet = &pCur->aSet[i];
    const char *z = pSet->iDim<0 ? pS->zMName : pS->azDim[pSet->iDim];
    if( z==0 || !tsValSetHas(pSet, z, (int)strlen(z)) ) return 0;
  }
  return 1;
}

/* Report the series constraints of this scan to the environment's scan
** observer (TsEnv.xScanNote, tslite.h): one [column, [values]] pair per
** dimension / measure_name set (= and IN), then one [column, op, value]
** triple per noted-only constraint of idxStr (d<n>/m tokens: op "like",
** "glob", ">", "<", ">=" or "<="; TEXT and INTEGER operands only, as text:
** another operand is left out, which only widens what the scan may read). */
static int scanNote(TsCursor *pCur, TsTable *p, const char *idxStr, int argc, sqlite3_value **argv){
  TsBuf b;
  TsJsonW jw;
  int i, j, rc, iArg = 0;
  const char *z = idxStr ? idxStr : "";
  tsBufInit(&b);
  tsJwInit(&jw, &b);
  tsJwArrBegin(&jw);
  for(i=0; i<pCur->nSet; i++){
    const TsValSet *pSet = &pCur->aSet[i];
    tsJwArrBegin(&jw);
    tsJwStr(&jw, pSet->iDim<0 ? "measure_name" : p->s.azDim[pSet->iDim]);
    tsJwArrBegin(&jw);
    for(j=0; j<pSet->nVal; j++) tsJwStrN(&jw, pSet->azVal[j], (size_t)pSet->anVal[j]);
    tsJwArrEnd(&jw);
    tsJwArrEnd(&jw);
  }
  while( *z ){
    int iDim = -1;
    const char *zOp = 0;
    if( *z==' ' ){ z++; continue; }
    if( z[0]!='d' && z[0]!='m' ){
      /* every other token (T? L D<n>? M?) holds one argv value */
      if( z[0]=='D' || z[0]=='V' ){ z++; while( *z>='0' && *z<='9' ) z++; }else{ z++; }
      if( *z && *z!=' ' ) z++;
      iArg++;
      continue;
    }
    if( z[0]=='d' ){ char *zEnd; iDim = (int)strtol(z+1, &zEnd, 10); z = zEnd; }else{ z++; }
    switch( *z ){
      case 'K': zOp = "like"; break;
      case 'B': zOp = "glob"; break;
      case '>': zOp = ">"; break;
      case '<': zOp = "<"; break;
      case 'G': zOp = ">="; break;
      case 'L': zOp = "<="; break;
    }
    if( *z ) z++;
    if( iArg<argc && zOp && (iDim<0 || iDim<p->s.nDim)
     && (sqlite3_value_type(argv[iArg])==SQLITE_TEXT || sqlite3_value_type(argv[iArg])==SQLITE_INTEGER) ){
      const unsigned char *zV = sqlite3_value_text(argv[iArg]);
      if( zV==0 ){ tsBufFree(&b); return SQLITE_NOMEM; }
      tsJwArrBegin(&jw);
      tsJwStr(&jw, iDim<0 ? "measure_name" : p->s.azDim[iDim]);
      tsJwStr(&jw, zOp);
      tsJwStrN(&jw, (const char*)zV, (size_t)sqlite3_value_bytes(argv[iArg]));
      tsJwArrEnd(&jw);
    }
    iArg++;
  }
  tsJwArrEnd(&jw);
  rc = tsJwError(&jw) || b.bErr ? SQLITE_NOMEM
     : p->pEnv->xScanNote(p->pEnv->pScanNoteArg, p->zDb, p->zName, (const char*)b.a, (int)b.n);
  tsBufFree(&b);
  return rc;
}

/* A 'V' token of the plan: measure iMeas, operator character cOp, operand
** v.  Kept as a row filter only when it compares exactly as SQLite does:
** a DOUBLE measure against a REAL, or an INTEGER a double holds exactly. */
static int scanFilterAdd(TsCursor *pCur, TsTable *p, int iMeas, char cOp, sqlite3_value *v){
  TsMeasFilter f, *aNew;
  int eType = sqlite3_value_type(v);
  memset(&f, 0, sizeof(f));
  if( iMeas<0 || iMeas>=p->s.nMeas || p->s.aMeasType[iMeas]!=TS_TYPE_DOUBLE ) return SQLITE_OK;
  switch( cOp ){
    case '>': f.eOp = TS_FILT_GT; break;
    case 'G': f.eOp = TS_FILT_GE; break;
    case '<': f.eOp = TS_FILT_LT; break;
    case 'L': f.eOp = TS_FILT_LE; break;
    default: return SQLITE_OK;
  }
  if( eType==SQLITE_FLOAT ){
    f.rVal = sqlite3_value_double(v);
    if( f.rVal!=f.rVal ) return SQLITE_OK;
  }else if( eType==SQLITE_INTEGER ){
    sqlite3_int64 i = sqlite3_value_int64(v);
    if( i>((sqlite3_int64)1<<53) || i<-((sqlite3_int64)1<<53) ) return SQLITE_OK;
    f.rVal = (double)i;
  }else{
    return SQLITE_OK;
  }
  f.iMeas = iMeas;
  aNew = sqlite3_realloc64(pCur->aFilt, sizeof(TsMeasFilter)*(size_t)(pCur->nFilt+1));
  if( aNew==0 ) return SQLITE_NOMEM;
  aNew[pCur->nFilt++] = f;
  pCur->aFilt = aNew;
  return SQLITE_OK;
}

/*
** xFilter.  The plan comes from tsBestIndexImpl (vtab.c):
**
** idxStr: one space-separated token per argv value, in argv order:
**   T= T> T< TG TL    time =, >, <, >=, <=
**   D<n>= D<n>I       dimension n (0-based) =, or IN (all values at once
**                     through sqlite3_vtab_in)
**   M= MI             measure_name =, IN
**   L                 LIMIT
**   d<n>? m?          dimension n / measure_name LIKE (K), GLOB (B), >, <,
**                     >= (G), <= (L): not applied here (SQLite checks them),
**                     only reported to the scan observer (scanNote)
**   V<n>?             DOUBLE measure n >, <, >= (G), <= (L): SQLite checks
**                     it; with an INTEGER (|v| <= 2^53) or REAL operand it
**                     becomes a row filter the sources may skip data by
**                     (source.h rule 10); any other operand is ignored
** idxNum bits: TS_IDX_ORDER_ASC / TS_IDX_ORDER_DESC: emit rows in time
** order (one lane per series, merged, when more than one series matches).
*/
static int tsFilterImpl(sqlite3_vtab_cursor *pCursor, int idxNum, const char *idxStr,
                    int argc, sqlite3_value **argv){
  TsCursor *pCur = (TsCursor*)pCursor;
  TsTable *p = cursorTable(pCur);
  const char *z = idxStr ? idxStr : "";
  int rc = SQLITE_OK, iArg = 0, i;
  cursorReset(pCur);
  pCur->bEof = 0;
  pCur->tLo = INT64_MIN;
  pCur->tHi = INT64_MAX;
  pCur->nLimit = -1;
  pCur->nOut = 0;
  pCur->bDesc = (idxNum & TS_IDX_ORDER_DESC)!=0;
  while( rc==SQLITE_OK && *z ){
    sqlite3_value *v;
    if( *z==' ' ){ z++; continue; }
    if( iArg>=argc ){
      tsTabErr(p, "timeseries %s: internal error: bad plan '%s'", p->zName, idxStr);
      return SQLITE_ERROR;
    }
    v = argv[iArg++];
    if( z[0]=='T' ){
      tsScanTimeBound(z[1], v, &pCur->tLo, &pCur->tHi);
      z += 2;
    }else if( z[0]=='L' ){
      if( sqlite3_value_type(v)==SQLITE_INTEGER && sqlite3_value_int64(v)>=0 ){
        pCur->nLimit = sqlite3_value_int64(v);
      }
      z += 1;
    }else if( z[0]=='V' ){
      char *zEnd;
      int iMeas = (int)strtol(z+1, &zEnd, 10);
      z = zEnd;
      rc = scanFilterAdd(pCur, p, iMeas, *z, v);
      if( *z ) z++;
    }else if( z[0]=='d' || z[0]=='m' ){
      /* noted only (scanNote) */
      if( z[0]=='d' ){ z++; while( *z>='0' && *z<='9' ) z++; }else{ z++; }
      if( *z ) z++;
    }else{
      int iDim = -1;
      TsValSet *aNew;
      if( z[0]=='D' ){
        char *zEnd;
        iDim = (int)strtol(z+1, &zEnd, 10);
        z = zEnd;
      }else{
        z++;
      }
      aNew = sqlite3_realloc64(pCur->aSet, sizeof(TsValSet)*(size_t)(pCur->nSet+1));
      if( aNew==0 ){ rc = SQLITE_NOMEM; break; }
      pCur->aSet = aNew;
      memset(&aNew[pCur->nSet], 0, sizeof(TsValSet));
      aNew[pCur->nSet].iDim = iDim;
      pCur->nSet++;
      if( z[0]=='I' ){
        sqlite3_value *pVal = 0;
        int rc2;
        for(rc2=sqlite3_vtab_in_first(v, &pVal); rc==SQLITE_OK && rc2==SQLITE_OK && pVal;
            rc2=sqlite3_vtab_in_next(v, &pVal)){
          rc = tsValSetAdd(&aNew[pCur->nSet-1], pVal);
        }
        if( rc==SQLITE_OK && rc2!=SQLITE_OK && rc2!=SQLITE_DONE ) rc = rc2;
      }else{
        rc = tsValSetAdd(&aNew[pCur->nSet-1], v);
      }
      z++;
    }
  }
  if( rc==SQLITE_OK && p->pEnv->xScanNote ) rc = scanNote(pCur, p, idxStr, argc, argv);
  /* Retention at scan time: rows older than now - memory_retention -
  ** magnetic_retention are never returned, in either tier, even before
  ** ts_maintain drops them. */
  {
    sqlite3_int64 iExpire = tsEnvNow(p->pEnv) - p->s.iMemRet - p->s.iMagRet;
    if( pCur->tLo<iExpire ) pCur->tLo = iExpire;
  }
  /* Reads see this connection's pending rows: flush them first. */
  if( rc==SQLITE_OK && p->pPendFirst ) rc = tsTabFlushAll(p);
  if( rc==SQLITE_OK ) rc = tsTabSeriesRefresh(p);
  if( rc==SQLITE_OK && pCur->tLo<=pCur->tHi ){
    pCur->apSer = sqlite3_malloc64(sizeof(TsSeries*)*(size_t)(p->nSeries+1));
    if( pCur->apSer==0 ) rc = SQLITE_NOMEM;
    for(i=0; rc==SQLITE_OK && i<p->nSeries; i++){
      TsSeries *pS = p->apSeries[i];
      if( seriesMatches(pCur, pS) ){
        pS->nRef++;
        pCur->apSer[pCur->nSer++] = pS;
      }
    }
  }
  pCur->bDistinct = (idxNum & TS_IDX_DISTINCT)!=0;
  pCur->mDistinct = (unsigned int)idxNum >> TS_IDX_DISTINCT_SHIFT;
  if( rc==SQLITE_OK && pCur->bDistinct && pCur->nSer>1 ){
    qsort_r(pCur->apSer, (size_t)pCur->nSer, sizeof(TsSeries*), seriesCmpDistinct, pCur);
  }
  if( rc==SQLITE_OK ){
    pCur->bMerge = (idxNum & (TS_IDX_ORDER_ASC|TS_IDX_ORDER_DESC))!=0 && pCur->nSer>1;
    rc = cursorStart(pCur);
  }
  if( rc ) pCur->bEof = 1;
  return rc;
}

int tsScanFilter(sqlite3_vtab_cursor *pCursor, int idxNum, const char *idxStr,
                 int argc, sqlite3_value **argv){
  return tsTabVtabRc(pCursor->pVtab, tsFilterImpl(pCursor, idxNum, idxStr, argc, argv));
}

int tsScanEof(sqlite3_vtab_cursor *pCursor){
  return ((TsCursor*)pCursor)->bEof;
}

static int tsColumnImpl(TsCursor *pCur, sqlite3_context *ctx, int iCol){
  TsTable *p = cursorTable(pCur);
  TsLane *pL = pCur->pLane;
  TsOpenBlk *b = pL->pCurBlk;
  TsSeries *pS = pCur->apSer[pL->iSer];
  int iRow = pL->iRow, rc;
  if( b==0 && pL->bCat ){
    int k = tsTabColKind(p, iCol);
    if( k!=TS_KIND_TIME && k!=TS_KIND_DIM && k!=TS_KIND_MNAME ){
      /* vtab.c plans DISTINCT mode only when no such column is read */
      tsTabErr(p, "timeseries %s: internal error: column %d read in DISTINCT mode",
               p->zName, iCol);
      return SQLITE_ERROR;
    }
  }
  switch( tsTabColKind(p, iCol) ){
    case TS_KIND_TIME:
      sqlite3_result_int64(ctx, pL->aTime[iRow]);
      break;
    case TS_KIND_DIM: {
      const char *z = pS->azDim[iCol-1];
      if( z ) sqlite3_result_text(ctx, z, -1, SQLITE_TRANSIENT);
      break;
    }
    case TS_KIND_MNAME:
      sqlite3_result_text(ctx, pS->zMName, -1, SQLITE_TRANSIENT);
      break;
    case TS_KIND_VERSION:
      rc = blkVersions(b);
      if( rc ) return rc;
      sqlite3_result_int64(ctx, b->aVersion ? b->aVersion[iRow] : 1);
      break;
    default: {
      int iMeas = iCol - tsTabColMeas0(p);
      const TsChunkCol *c = b->apCol[iMeas];
      if( c==0 ){
        rc = b->pSrc->pM->xBlockColumn(b->pSrc, b->pBlk, iMeas, &c);
        if( rc ) return rc;
        b->apCol[iMeas] = c;
      }
      if( c->aNull && c->aNull[iRow] ) break;
      switch( c->eType ){
        case TS_TYPE_DOUBLE: sqlite3_result_double(ctx, c->aDouble[iRow]); break;
        case TS_TYPE_VARCHAR:
          sqlite3_result_text(ctx, c->azText[iRow], c->anText[iRow], SQLITE_TRANSIENT);
          break;
        default: sqlite3_result_int64(ctx, c->aInt[iRow]); break;
      }
      break;
    }
  }
  return SQLITE_OK;
}

int tsScanColumn(sqlite3_vtab_cursor *pCursor, sqlite3_context *ctx, int iCol){
  return tsTabVtabRc(pCursor->pVtab, tsColumnImpl((TsCursor*)pCursor, ctx, iCol));
}

int tsScanRowid(sqlite3_vtab_cursor *pCursor, sqlite3_int64 *pRowid){
  TsLane *pL = ((TsCursor*)pCursor)->pLane;
  *pRowid = pL->pCurBlk ? pL->pCurBlk->iRowid + pL->iRow : pL->iCatRowid;
  return SQLITE_OK;
}
