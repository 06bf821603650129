/*
** agg_source.c: what a stream of timeseries_agg (agg_int.h; design in
** agg.c's header comment) reads besides memory chunks: the blocks of every
** other row source of source.h (the cold tier's Parquet row-group slices,
** the test overlay), taken natively, and the stretches where blocks of one
** series overlap in time, read through the table's own scan.
**
** A series' blocks are listed (xBlocks) when its walk reaches the time
** range the sources claim for it (xSeriesRange, from the manifest): a
** lastpoint or a newest-first LIMIT that the memory tier answers lists no
** cold block and decodes no row group.
**
** A stream walks "units" in its scan direction: the next memory chunk
** (agg_stream.c fetches their references in batches) or the next listed
** block of another source, whichever comes first (ascending: smaller start;
** descending: larger end).  Before entering a unit the stream looks at the
** next chunk and the next block: while one overlaps the time span gathered so
** far, it joins it.  A unit nothing overlaps is read natively: a chunk by
** agg_stream.c (header statistics or one decode), a block through
** xBlockOpen/xBlockColumn (time and the used measures only) into the same
** fused pass.  Overlapping units make one stretch [lo, hi]: the same record
** key may be in several of them and source.h rule 6 (ext/recrule.h) picks
** its row, so the stretch is read through the table's own scan, which
** applies that rule (one ordered SELECT of the series over [lo, hi], in
** blocks of AGG_SCAN_ROWS rows).  Cold objects of one series overlap only
** inside one day and bucket until compaction, and late writes overlap cold
** rows only where they land, so stretches are the exception.
**
** Block statistics: a cold block is a series' slice of a row group (many
** series share a row group, cold-format.md section 2), and Parquet keeps no
** sums, so row-group or page statistics could answer only count/min/max of
** a run that is a whole row group; no source slot for them, blocks are
** decoded.
*/
#include "agg_int.h"
#include <stdlib.h>
#include <string.h>

/* The message of a failed source call: the handle's (tsTabErr) or rc's. */
static int srcErr(AggCursor *p, int rc){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  TsTable *pTab = p->pTab;
  tsVtabErr(p->base.pVtab, "%s: %s", v->zName, pTab->zErrMsg ? pTab->zErrMsg : sqlite3_errstr(rc));
  sqlite3_free(pTab->zErrMsg);
  pTab->zErrMsg = 0;
  return rc;
}

int aggSourcesOpen(AggCursor *p){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  TsScanSpec spec;
  int i, rc = SQLITE_OK;
  p->apSrc = sqlite3_malloc64(sizeof(TsSource*)*(size_t)(tsSourceCount+1));
  if( p->apSrc==0 ) return SQLITE_NOMEM;
  memset(p->apSrc, 0, sizeof(TsSource*)*(size_t)(tsSourceCount+1));
  spec.tLo = p->tLo;
  spec.tHi = p->tHi;
  spec.bDesc = p->bDesc;
  for(i=0; rc==SQLITE_OK && i<tsSourceCount; i++){
    TsSource *pSrc = 0;
    if( tsSourceAll[i]==&tsSourceMemory ) continue;
    rc = tsSourceAll[i]->xOpen(p->pTab, &spec, &pSrc);
    if( rc ){
      tsVtabErr(p->base.pVtab, "%s: cannot open the %s row source of %s: %s", v->zName,
                tsSourceAll[i]->zName, v->zUTab,
                p->pTab->zErrMsg ? p->pTab->zErrMsg : sqlite3_errstr(rc));
      sqlite3_free(p->pTab->zErrMsg);
      p->pTab->zErrMsg = 0;
    }else if( pSrc ){
      pSrc->pM = tsSourceAll[i];
      pSrc->pTab = p->pTab;
      pSrc->iSrc = i;
      p->apSrc[i] = pSrc;
      p->nSrcOpen++;
    }
  }
  return rc;
}

void aggSourcesClose(AggCursor *p){
  int i;
  if( p->apSrc==0 ) return;
  for(i=0; i<tsSourceCount; i++){
    if( p->apSrc[i] ) p->apSrc[i]->pM->xClose(p->apSrc[i]);
  }
  sqlite3_free(p->apSrc);
  p->apSrc = 0;
  p->nSrcOpen = 0;
  sqlite3_free(p->apHint);
  p->apHint = 0;
}

/* Tell the open sources the series whose blocks the streams will list
** (source.h rule 10), so a row group shared by several of them is decoded
** once for all of them.  No row filters: the fused pass reads every row. */
static int aggSourcesHint(AggCursor *p){
  TsScanHint hint;
  int i, n = 0, rc = SQLITE_OK;
  p->apHint = sqlite3_malloc64(sizeof(TsSeries*)*(size_t)(p->nSeries+1));
  if( p->apHint==0 ) return SQLITE_NOMEM;
  for(i=0; i<p->nSeries; i++) if( p->aSeries[i].pTs ) p->apHint[n++] = p->aSeries[i].pTs;
  memset(&hint, 0, sizeof(hint));
  hint.apSer = p->apHint;
  hint.nSer = n;
  for(i=0; rc==SQLITE_OK && i<tsSourceCount; i++){
    TsSource *pSrc = p->apSrc[i];
    if( pSrc && pSrc->pM->xHint ) rc = pSrc->pM->xHint(pSrc, &hint);
  }
  return rc==SQLITE_OK ? rc : srcErr(p, rc);
}

/* Does any open source claim rows of the series in the range?  Sets
** pS->bOther and the union of the claimed ranges. */
static int otherHolds(AggCursor *p, AggSeries *pS){
  int i;
  pS->bOther = 0;
  for(i=0; i<tsSourceCount; i++){
    sqlite3_int64 a = 0, b = 0;
    TsSource *pSrc = p->apSrc[i];
    if( pSrc==0 || !pSrc->pM->xSeriesRange(pSrc, pS->pTs, &a, &b) ) continue;
    if( a<p->tLo ) a = p->tLo;
    if( b>p->tHi ) b = p->tHi;
    if( a>b ) continue;
    if( !pS->bOther || a<pS->tOtherLo ) pS->tOtherLo = a;
    if( !pS->bOther || b>pS->tOtherHi ) pS->tOtherHi = b;
    pS->bOther = 1;
  }
  return pS->bOther;
}

int aggSeriesBind(AggCursor *p){
  TsTable *pTab = p->pTab;
  int rc = tsTabSeriesRefresh(pTab), i, j = 0, n = 0;
  if( rc ) return srcErr(p, rc);
  /* Both lists are in increasing id order. */
  for(i=0; i<p->nSeries; i++){
    AggSeries *pS = &p->aSeries[i];
    TsSeries *pTs;
    while( j<pTab->nSeries && pTab->apSeries[j]->iId<pS->id ) j++;
    pTs = j<pTab->nSeries && pTab->apSeries[j]->iId==pS->id ? pTab->apSeries[j] : 0;
    /* A series the cache lacks (never expected after the refresh) keeps
    ** its memory chunks and no other source is asked about it. */
    pS->pTs = pTs;
    pS->bOther = 0;
    if( pTs ) otherHolds(p, pS);
    if( pTs==0 || (pTs->bChunks && pTs->tMax>=p->tLo && pTs->tMin<=p->tHi) || pS->bOther ){
      if( pTs ) pTs->nRef++;
      p->aSeries[n++] = *pS;
    }else{
      sqlite3_free(pS->pMem);
    }
  }
  p->nSeries = n;
  return aggSourcesHint(p);
}

/* Scan order of listed blocks: ascending by start, descending by end. */
static int blkCmpAsc(const void *a, const void *b){
  const TsBlockInfo *x = a, *y = b;
  if( x->tMin!=y->tMin ) return x->tMin<y->tMin ? -1 : 1;
  return x->tMax<y->tMax ? -1 : x->tMax>y->tMax;
}
static int blkCmpDesc(const void *a, const void *b){
  const TsBlockInfo *x = a, *y = b;
  if( x->tMax!=y->tMax ) return x->tMax>y->tMax ? -1 : 1;
  return x->tMin>y->tMin ? -1 : x->tMin<y->tMin;
}

/* List the series' blocks of every other source inside the range. */
static int listOther(AggCursor *p, AggStream *s){
  int i, rc = SQLITE_OK;
  s->bListed = 1;
  if( s->pSer->pTs==0 ) return SQLITE_OK;
  for(i=0; rc==SQLITE_OK && i<tsSourceCount; i++){
    TsSource *pSrc = p->apSrc[i];
    sqlite3_int64 a = 0, b = 0;
    if( pSrc==0 || !pSrc->pM->xSeriesRange(pSrc, s->pSer->pTs, &a, &b) ) continue;
    if( a<p->tLo ) a = p->tLo;
    if( b>p->tHi ) b = p->tHi;
    if( a>b ) continue;
    rc = pSrc->pM->xBlocks(pSrc, s->pSer->pTs, a, b, &s->other);
    if( rc ) return srcErr(p, rc);
  }
  if( s->other.n>1 ){
    qsort(s->other.a, (size_t)s->other.n, sizeof(TsBlockInfo), p->bDesc ? blkCmpDesc : blkCmpAsc);
  }
  return SQLITE_OK;
}

/* The stream's next chunk reference in scan order (*ppRef NULL: none). */
static int chunkPeek(AggCursor *p, AggStream *s, const AggRef **ppRef){
  int rc;
  *ppRef = 0;
  while( s->iRef>=s->nRef && !s->bRefEof ){
    rc = aggStreamFetch(p, s);
    if( rc ) return rc;
  }
  if( s->iRef<s->nRef ) *ppRef = &s->aRef[s->iRef];
  return SQLITE_OK;
}

/* Can rows in [a, b] fall in the bucket of the result being built? */
static int inBucket(AggCursor *p, AggStream *s, int64_t a, int64_t b){
  int64_t iB = s->res.iBucket;
  if( !s->res.bHave || p->iWidth==0 ) return 1;
  return p->bDesc ? b>=iB : a<tsAggBucketEnd(iB, p->iWidth);
}

int aggUnitNext(AggCursor *p, AggStream *s, int *peNext){
  const AggRef *pM;
  const TsBlockInfo *pC;
  int64_t lo = 0, hi = 0;
  int rc, n = 0, eFirst = AGG_UNIT_NONE;
  *peNext = AGG_NEXT_UNIT;
  if( !s->bListed ){
    /* List the other sources' blocks once the walk reaches the range they
    ** may hold: until then the chunks come first in the scan direction
    ** and none of those blocks can overlap them, so a lastpoint or a
    ** newest-first LIMIT that the memory tier answers never lists (or
    ** decodes) a cold row group.  A result whose bucket neither the next
    ** chunk nor that range can reach is complete before listing. */
    if( !s->pSer->bOther ){
      s->bListed = 1;
    }else{
      rc = chunkPeek(p, s, &pM);
      if( rc ) return rc;
      if( pM==0 || (p->bDesc ? pM->tMin<=s->pSer->tOtherHi : pM->tMax>=s->pSer->tOtherLo) ){
        if( (pM==0 || !inBucket(p, s, pM->tMin, pM->tMax))
         && !inBucket(p, s, s->pSer->tOtherLo, s->pSer->tOtherHi) ){
          *peNext = AGG_NEXT_CLOSED;
          return SQLITE_OK;
        }
        rc = listOther(p, s);
        if( rc ) return rc;
      }
    }
  }
  for(;;){
    int bChunk;
    rc = chunkPeek(p, s, &pM);
    if( rc ) return rc;
    pC = s->iOther<s->other.n ? &s->other.a[s->iOther] : 0;
    if( n==0 ){
      if( pM==0 && pC==0 ){ *peNext = AGG_NEXT_END; return SQLITE_OK; }
      bChunk = pM && (pC==0 || (p->bDesc ? pM->tMax>=pC->tMax : pM->tMin<=pC->tMin));
      if( bChunk ){
        s->unit = *pM;
        s->iUnitRef = s->iRef;
        eFirst = AGG_UNIT_CHUNK;
      }else{
        s->blk = *pC;
        eFirst = AGG_UNIT_BLOCK;
      }
    }else if( pM && (p->bDesc ? pM->tMax>=lo : pM->tMin<=hi) ){
      bChunk = 1;
    }else if( pC && (p->bDesc ? pC->tMax>=lo : pC->tMin<=hi) ){
      bChunk = 0;
    }else{
      break;
    }
    /* Take it: the span grows by its range. */
    {
      int64_t a = bChunk ? pM->tMin : pC->tMin, b = bChunk ? pM->tMax : pC->tMax;
      if( n==0 || a<lo ) lo = a;
      if( n==0 || b>hi ) hi = b;
    }
    if( bChunk ) s->iRef++; else s->iOther++;
    n++;
  }
  if( n==1 ){
    s->eUnit = eFirst;
  }else{
    s->eUnit = AGG_UNIT_STRETCH;
    s->tStrLo = lo<p->tLo ? p->tLo : lo;
    s->tStrHi = hi>p->tHi ? p->tHi : hi;
  }
  return SQLITE_OK;
}

/* The per-stream array of the used columns' pointers. */
static int colsReserve(AggCursor *p, AggStream *s){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  if( s->apCol ) return SQLITE_OK;
  s->apCol = sqlite3_malloc64(sizeof(TsChunkCol*)*(size_t)(v->nAgg+1));
  if( s->apCol==0 ) return SQLITE_NOMEM;
  memset(s->apCol, 0, sizeof(TsChunkCol*)*(size_t)(v->nAgg+1));
  return SQLITE_OK;
}

int aggBlockBegin(AggCursor *p, AggStream *s, int *pbEmpty){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  TsSource *pSrc = p->apSrc[s->blk.iSrc];
  int rc, i, nRow;
  *pbEmpty = 0;
  rc = colsReserve(p, s);
  if( rc ) return rc;
  rc = pSrc->pM->xBlockOpen(pSrc, s->pSer->pTs, &s->blk, &s->pBlk);
  if( rc ) return srcErr(p, rc);
  s->pBlkSrc = pSrc;
  s->bRowMode = 1;
  nRow = s->pBlk->nRow;
  s->aTime = s->pBlk->aTime;
  s->iBeg = tsAggLowerBound(s->aTime, 0, nRow, p->tLo);
  s->iEnd = p->tHi==INT64_MAX ? nRow : tsAggLowerBound(s->aTime, s->iBeg, nRow, p->tHi+1);
  if( s->iBeg>=s->iEnd ){ *pbEmpty = 1; return SQLITE_OK; }
  for(i=0; i<v->nAgg; i++){
    const TsChunkCol *pc = 0;
    int iM = v->aAggCol[i];
    s->apCol[i] = 0;
    if( !p->aUsed[i] ) continue;
    rc = pSrc->pM->xBlockColumn(pSrc, s->pBlk, iM, &pc);
    if( rc ) return srcErr(p, rc);
    if( pc==0 || pc->eType!=v->aMeasType[iM] ){
      tsVtabErr(p->base.pVtab, "%s: a %s block of %s has measure column %d of the wrong type",
                v->zName, pSrc->pM->zName, tsTableName(p->pTab), iM);
      return SQLITE_CORRUPT_VTAB;
    }
    s->apCol[i] = pc;
  }
  s->iRow = p->bDesc ? s->iEnd-1 : s->iBeg;
  return SQLITE_OK;
}

/* Prepare the stream's query on the table itself (which merges every tier
** by the source.h rules) and its block buffers; the last two parameters are
** the stretch's bounds. */
static int scanBegin(AggCursor *p, AggStream *s){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  const TsTableSchema *pS = tsTableSchema(p->pTab);
  sqlite3 *db = tsTableDbHandle(p->pTab);
  sqlite3_str *q = sqlite3_str_new(db);
  char *zSql;
  size_t nCol = sizeof(TsChunkCol)*(size_t)v->nAgg;
  size_t nVal = (sizeof(int64_t) + 1)*AGG_SCAN_ROWS;
  unsigned char *pMem;
  int rc, i, iBind = 1;
  rc = colsReserve(p, s);
  if( rc ){ sqlite3_free(sqlite3_str_finish(q)); return rc; }
  pMem = sqlite3_malloc64(sizeof(int64_t)*AGG_SCAN_ROWS + nCol + nVal*(size_t)v->nAgg + 8);
  if( pMem==0 ){ sqlite3_free(sqlite3_str_finish(q)); return SQLITE_NOMEM; }
  s->aScanTime = (int64_t*)pMem;
  s->aScanCol = (TsChunkCol*)(pMem + sizeof(int64_t)*AGG_SCAN_ROWS);
  memset(s->aScanCol, 0, nCol);
  for(i=0; i<v->nAgg; i++){
    unsigned char *a = pMem + sizeof(int64_t)*AGG_SCAN_ROWS + nCol + nVal*(size_t)i;
    s->aScanCol[i].eType = v->aMeasType[v->aAggCol[i]];
    s->aScanCol[i].aDouble = (const double*)a;
    s->aScanCol[i].aInt = (const int64_t*)a;
    s->aScanCol[i].aNull = a + sizeof(int64_t)*AGG_SCAN_ROWS;
  }
  sqlite3_str_appendall(q, "SELECT time");
  for(i=0; i<v->nAgg; i++){
    if( p->aUsed[i] ) sqlite3_str_appendf(q, ", \"%w\"", pS->azMeas[v->aAggCol[i]]);
    else sqlite3_str_appendall(q, ", NULL");
  }
  sqlite3_str_appendf(q, " FROM \"%w\".\"%w\" WHERE measure_name = ?", tsTableDb(p->pTab),
                      tsTableName(p->pTab));
  for(i=0; i<pS->nDim; i++){
    if( s->pSer->azDim[i] ) sqlite3_str_appendf(q, " AND \"%w\" = ?", pS->azDim[i]);
    else sqlite3_str_appendf(q, " AND \"%w\" IS NULL", pS->azDim[i]);
  }
  sqlite3_str_appendf(q, " AND time >= ? AND time <= ? ORDER BY time%s", p->bDesc ? " DESC" : "");
  zSql = sqlite3_str_finish(q);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, zSql, -1, &s->pScan, 0);
  sqlite3_free(zSql);
  if( rc ){
    tsVtabErr(p->base.pVtab, "%s: %s", v->zName, sqlite3_errmsg(db));
    return rc;
  }
  sqlite3_bind_text(s->pScan, iBind++, s->pSer->zMName, s->pSer->nMName, SQLITE_STATIC);
  for(i=0; i<pS->nDim; i++){
    if( s->pSer->azDim[i] ){
      sqlite3_bind_text(s->pScan, iBind++, s->pSer->azDim[i], s->pSer->anDim[i], SQLITE_STATIC);
    }
  }
  return SQLITE_OK;
}

int aggStretchBegin(AggCursor *p, AggStream *s){
  int rc, n;
  if( s->pScan==0 ){
    rc = scanBegin(p, s);
    if( rc ) return rc;
  }
  sqlite3_reset(s->pScan);
  n = sqlite3_bind_parameter_count(s->pScan);
  sqlite3_bind_int64(s->pScan, n-1, s->tStrLo);
  sqlite3_bind_int64(s->pScan, n, s->tStrHi);
  s->bScanEof = 0;
  s->bStretch = 1;
  return SQLITE_OK;
}

int aggStretchBlock(AggCursor *p, AggStream *s, int *pbEnd){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  int n = 0, rc = SQLITE_OK, i;
  *pbEnd = 0;
  while( !s->bScanEof && n<AGG_SCAN_ROWS ){
    rc = sqlite3_step(s->pScan);
    if( rc==SQLITE_ROW ){
      s->aScanTime[n] = sqlite3_column_int64(s->pScan, 0);
      for(i=0; i<v->nAgg; i++){
        TsChunkCol *c = &s->aScanCol[i];
        int bNull = !p->aUsed[i] || sqlite3_column_type(s->pScan, 1+i)==SQLITE_NULL;
        ((uint8_t*)c->aNull)[n] = (uint8_t)bNull;
        if( bNull ) ((int64_t*)c->aInt)[n] = 0;
        else if( c->eType==TS_TYPE_DOUBLE ) ((double*)c->aDouble)[n] = sqlite3_column_double(s->pScan, 1+i);
        else ((int64_t*)c->aInt)[n] = sqlite3_column_int64(s->pScan, 1+i);
      }
      n++;
      rc = SQLITE_OK;
    }else if( rc==SQLITE_DONE ){
      s->bScanEof = 1;
      sqlite3_reset(s->pScan);
      rc = SQLITE_OK;
    }else{
      tsVtabErr(p->base.pVtab, "%s: %s", v->zName, sqlite3_errmsg(tsTableDbHandle(p->pTab)));
      sqlite3_reset(s->pScan);
      return rc;
    }
  }
  if( n==0 ){
    s->bStretch = 0;
    *pbEnd = 1;
    return SQLITE_OK;
  }
  if( p->bDesc ){
    /* The runs are found by binary search over ascending times. */
    int a, b;
    for(a=0, b=n-1; a<b; a++, b--){
      int64_t t = s->aScanTime[a]; s->aScanTime[a] = s->aScanTime[b]; s->aScanTime[b] = t;
      for(i=0; i<v->nAgg; i++){
        TsChunkCol *c = &s->aScanCol[i];
        int64_t *ai = (int64_t*)c->aInt, x = ai[a];
        uint8_t *an = (uint8_t*)c->aNull, y = an[a];
        ai[a] = ai[b]; ai[b] = x;
        an[a] = an[b]; an[b] = y;
      }
    }
  }
  for(i=0; i<v->nAgg; i++) s->apCol[i] = &s->aScanCol[i];
  s->aTime = s->aScanTime;
  s->iBeg = 0;
  s->iEnd = n;
  s->iRow = p->bDesc ? n-1 : 0;
  s->bRowMode = 1;
  return SQLITE_OK;
}

void aggStreamSourceFree(AggStream *s){
  sqlite3_finalize(s->pScan);
  s->pScan = 0;
  sqlite3_free(s->aScanTime);
  s->aScanTime = 0;
  s->aScanCol = 0;
  sqlite3_free(s->apCol);
  s->apCol = 0;
  sqlite3_free(s->other.a);
  memset(&s->other, 0, sizeof(s->other));
}
