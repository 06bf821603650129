/*
** agg_stream.c: the streams of timeseries_agg (agg_int.h; design in agg.c's
** header comment): each selected series becomes a stream that walks its
** chunk references newest or oldest first in growing batches, answers a
** chunk from its header where it falls whole in one bucket (and for
** lastpoint), decodes it otherwise and aggregates runs of one bucket in one
** fused pass, taking the blocks of the other row sources in time order
** between its chunks (agg_source.c); and the merge of the streams by the
** ORDER BY terms.
*/
#include "agg_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void aggStreamRowModeEnd(AggStream *s){
  if( s->pReader!=s->pRdLent ) tsChunkReaderFree(s->pReader);
  s->pReader = 0;
  if( s->pBlk ){
    s->pBlkSrc->pM->xBlockClose(s->pBlkSrc, s->pBlk);
    s->pBlk = 0;
  }
  s->aTime = 0;
  s->bRowMode = 0;
}

/*************************************************************************
** Chunk buffers: a stream keeps its buffer while it lives; the vtab keeps
** the buffers of finished cursors for the next query.
*/

void aggPoolPut(AggVtab *v, unsigned char *a, sqlite3_int64 nAlloc){
  if( a==0 ) return;
  if( v->nPool<AGG_POOL_MAX && v->nPoolBytes+nAlloc<=AGG_POOL_BYTES ){
    v->apPool[v->nPool] = a;
    v->anPool[v->nPool++] = nAlloc;
    v->nPoolBytes += nAlloc;
  }else{
    sqlite3_free(a);
  }
}

void aggBufPut(AggVtab *v, AggStream *s){
  aggPoolPut(v, s->aBlob, s->nBlobAlloc);
  s->aBlob = 0;
  s->nBlobAlloc = 0;
}

void aggPoolFree(AggVtab *v){
  while( v->nPool>0 ) sqlite3_free(v->apPool[--v->nPool]);
  v->nPoolBytes = 0;
}

/* Make *pa (capacity *pnAlloc) hold at least n bytes (from the pool when
** it has one). */
static int bufReserve(AggVtab *v, unsigned char **pa, sqlite3_int64 *pnAlloc, sqlite3_int64 n){
  unsigned char *aNew;
  if( *pnAlloc>=n ) return SQLITE_OK;
  if( *pa==0 && v->nPool>0 ){
    v->nPool--;
    *pa = v->apPool[v->nPool];
    *pnAlloc = v->anPool[v->nPool];
    v->nPoolBytes -= *pnAlloc;
    if( *pnAlloc>=n ) return SQLITE_OK;
  }
  /* Room to grow: chunks of one table have similar sizes. */
  n += n/8;
  aNew = sqlite3_realloc64(*pa, (sqlite3_uint64)n);
  if( aNew==0 ) return SQLITE_NOMEM;
  *pa = aNew;
  *pnAlloc = n;
  return SQLITE_OK;
}

/* Compare two TEXT-or-NULL values in SQLite's BINARY order, NULL first. */
static int cmpText(const char *a, int na, const char *b, int nb){
  int c;
  if( a==0 || b==0 ) return a==0 ? (b==0 ? 0 : -1) : 1;
  c = memcmp(a, b, (size_t)(na<nb ? na : nb));
  return c ? c : (na<nb ? -1 : na>nb);
}

/* Order of streams i and j by the ORDER BY terms; ties by series id. */
static int streamCmp(AggCursor *p, int i, int j){
  AggStream *a = &p->aStream[i], *b = &p->aStream[j];
  int k, c = 0;
  for(k=0; k<p->nOrder && c==0; k++){
    const AggOrder *o = &p->aOrder[k];
    if( o->eKind=='B' ){
      c = a->res.iBucket<b->res.iBucket ? -1 : a->res.iBucket>b->res.iBucket;
    }else if( o->eKind=='M' ){
      c = cmpText(a->pSer->zMName, a->pSer->nMName, b->pSer->zMName, b->pSer->nMName);
    }else{
      c = cmpText(a->pSer->azDim[o->iDim], a->pSer->anDim[o->iDim],
                  b->pSer->azDim[o->iDim], b->pSer->anDim[o->iDim]);
    }
    if( o->bDesc ) c = -c;
  }
  if( c==0 ) c = a->pSer->id<b->pSer->id ? -1 : a->pSer->id>b->pSer->id;
  return c;
}

/* Heap order (scan_util.h): stream i before stream j. */
static int streamBefore(void *pCtx, int i, int j){
  return streamCmp((AggCursor*)pCtx, i, j)<0;
}
void aggHeapDown(AggCursor *p, int i){
  tsHeapDown(p->aHeap, p->nHeap, i, streamBefore, p);
}

/*************************************************************************
** Streams.
*/

/* Fetch the next batch of chunk references of stream s (keyset on tmin in
** the scan direction). */
int aggStreamFetch(AggCursor *p, AggStream *s){
  sqlite3_stmt *q = p->bDesc ? p->pRefDesc : p->pRefStmt;
  int rc, n = 0, nStep = 0;
  int64_t iFrom;
  if( s->aRef==0 ){
    s->aRef = sqlite3_malloc64(sizeof(AggRef)*AGG_BATCH_MAX);
    if( s->aRef==0 ) return SQLITE_NOMEM;
  }
  if( p->bDesc ){
    iFrom = s->bKey ? s->tKey-1 : p->tHi;
    if( s->bKey && s->tKey==INT64_MIN ){ s->nRef = s->iRef = 0; s->bRefEof = 1; return SQLITE_OK; }
    if( iFrom>p->tHi ) iFrom = p->tHi;
  }else if( s->bKey ){
    if( s->tKey==INT64_MAX ){ s->nRef = s->iRef = 0; s->bRefEof = 1; return SQLITE_OK; }
    iFrom = s->tKey+1;
  }else{
    /* The first chunk that can overlap the range starts at or before tLo:
    ** the newest such start, found by one index seek. */
    iFrom = INT64_MIN;
    sqlite3_reset(p->pStart);
    sqlite3_bind_int64(p->pStart, 1, s->pSer->id);
    sqlite3_bind_int64(p->pStart, 2, p->tLo);
    rc = sqlite3_step(p->pStart);
    if( rc==SQLITE_ROW && sqlite3_column_type(p->pStart, 0)==SQLITE_INTEGER ){
      iFrom = sqlite3_column_int64(p->pStart, 0);
    }
    sqlite3_reset(p->pStart);
    if( rc!=SQLITE_ROW && rc!=SQLITE_DONE ){
      tsVtabErr(p->base.pVtab, "%s: reading %s_chunks: %s", ((AggVtab*)p->base.pVtab)->zName,
                tsTableName(p->pTab), sqlite3_errmsg(tsTableDbHandle(p->pTab)));
      return rc;
    }
  }
  sqlite3_reset(q);
  sqlite3_bind_int64(q, 1, s->pSer->id);
  sqlite3_bind_int64(q, 2, iFrom);
  sqlite3_bind_int64(q, 3, p->tHi);
  sqlite3_bind_int(q, 4, s->nBatch);
  while( (rc = sqlite3_step(q))==SQLITE_ROW ){
    int64_t tMin = sqlite3_column_int64(q, 1), tMax = sqlite3_column_int64(q, 2);
    nStep++;
    s->tKey = tMin;
    s->bKey = 1;
    if( tMax<p->tLo ){
      /* Wholly before the range: skipped; in a descending walk every older
      ** chunk is too. */
      if( p->bDesc ){ s->bRefEof = 1; break; }
      continue;
    }
    if( n<AGG_BATCH_MAX ){
      s->aRef[n].id = sqlite3_column_int64(q, 0);
      s->aRef[n].tMin = tMin;
      s->aRef[n].tMax = tMax;
      s->aRef[n].nRow = p->bDesc ? 0 : sqlite3_column_int(q, 3);   /* for agg_par.c */
      n++;
    }
  }
  if( rc==SQLITE_ROW ) rc = SQLITE_DONE;
  else if( rc==SQLITE_DONE && nStep<s->nBatch ) s->bRefEof = 1;   /* short of the LIMIT */
  sqlite3_reset(q);
  if( rc!=SQLITE_DONE ){
    tsVtabErr(p->base.pVtab, "%s: reading %s_chunks: %s", ((AggVtab*)p->base.pVtab)->zName,
              tsTableName(p->pTab), sqlite3_errmsg(tsTableDbHandle(p->pTab)));
    return rc;
  }
  s->nRef = n;
  s->iRef = 0;
  if( s->nBatch<AGG_BATCH_MAX ) s->nBatch *= 2;
  return SQLITE_OK;
}

/* Load the blob of chunk iId: *pa and *pn point into the statement's row
** (valid until p->pBlob is reset). */
static int chunkBlob(AggCursor *p, sqlite3_int64 iId, const unsigned char **pa, int *pn){
  int rc;
  sqlite3_reset(p->pBlob);
  sqlite3_bind_int64(p->pBlob, 1, iId);
  rc = sqlite3_step(p->pBlob);
  if( rc==SQLITE_ROW ){
    *pa = sqlite3_column_blob(p->pBlob, 0);
    *pn = sqlite3_column_bytes(p->pBlob, 0);
    return SQLITE_OK;
  }
  sqlite3_reset(p->pBlob);
  if( rc==SQLITE_DONE ){
    tsVtabErr(p->base.pVtab, "%s: chunk %lld of %s_chunks vanished during the scan",
              ((AggVtab*)p->base.pVtab)->zName, iId, tsTableName(p->pTab));
    return SQLITE_CORRUPT_VTAB;
  }
  tsVtabErr(p->base.pVtab, "%s: %s", ((AggVtab*)p->base.pVtab)->zName,
            sqlite3_errmsg(tsTableDbHandle(p->pTab)));
  return rc;
}

/* Report a damaged chunk.  A stream run by the parallel path (s->aPre set:
** maybe on a worker thread, which must not touch the vtab) keeps the
** message in s->zParErr for the connection's thread. */
static int corruptChunk(AggCursor *p, AggStream *s, sqlite3_int64 iId, const char *zWhy){
  const char *zName = ((AggVtab*)p->base.pVtab)->zName;
  if( s && s->aPre ){
    snprintf(s->zParErr, sizeof(s->zParErr), "%s: damaged chunk %lld in %s_chunks: %s",
             zName, (long long)iId, tsTableName(p->pTab), zWhy);
  }else{
    tsVtabErr(p->base.pVtab, "%s: damaged chunk %lld in %s_chunks: %s", zName, iId,
              tsTableName(p->pTab), zWhy);
  }
  return SQLITE_CORRUPT_VTAB;
}

/* Check a chunk header against the schema. */
static int checkInfo(AggCursor *p, AggStream *s, sqlite3_int64 iId, const TsChunkInfo *pInfo,
                     const AggRef *pRef){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  if( pInfo->nCol!=v->nMeas ) return corruptChunk(p, s, iId, "column count differs from the table's measures");
  if( pInfo->tMin!=pRef->tMin || pInfo->tMax!=pRef->tMax ){
    return corruptChunk(p, s, iId, "header time range differs from its index row");
  }
  return SQLITE_OK;
}

/* Read only the header of chunk iId, through incremental blob I/O (a chunk
** of full-precision doubles is about 100 KB, its header a few hundred
** bytes): 1 when *pInfo and aStat are set from a format-2 header, 0 when the
** caller must read the whole blob instead (version 1, whose checksum covers
** everything; a header that does not check; any blob I/O error). */
static int chunkHead(AggCursor *p, sqlite3_int64 iId, TsChunkInfo *pInfo, TsChunkStat *aStat,
                     int nStat){
  sqlite3 *db = tsTableDbHandle(p->pTab);
  int rc, n, nHave;
  if( p->pHead==0 ){
    char *zTab = sqlite3_mprintf("%s_chunks", tsTableName(p->pTab));
    if( zTab==0 ) return 0;
    rc = sqlite3_blob_open(db, tsTableDb(p->pTab), zTab, "data", iId, 0, &p->pHead);
    sqlite3_free(zTab);
  }else{
    rc = sqlite3_blob_reopen(p->pHead, iId);
  }
  if( rc ){
    sqlite3_blob_close(p->pHead);   /* a failed handle is unusable */
    p->pHead = 0;
    return 0;
  }
  n = sqlite3_blob_bytes(p->pHead);
  for(nHave = n<512 ? n : 512; ; nHave = nHave*4<n ? nHave*4 : n){
    if( nHave>p->nHeadBuf ){
      unsigned char *aNew = sqlite3_realloc64(p->aHeadBuf, (sqlite3_uint64)nHave);
      if( aNew==0 ) return 0;
      p->aHeadBuf = aNew;
      p->nHeadBuf = nHave;
    }
    if( sqlite3_blob_read(p->pHead, p->aHeadBuf, nHave, 0)!=SQLITE_OK ) return 0;
    if( tsChunkInfoGetPrefix(p->aHeadBuf, (size_t)nHave, (size_t)n, pInfo, aStat, nStat)==TS_CHUNK_OK ){
      return 1;
    }
    if( nHave>=n || nHave>=65536 ) return 0;
  }
}

int aggChunkStats(AggCursor *p, const AggRef *pRef, TsChunkInfo *pInfo, TsChunkStat *aStat,
                  int *pbOk){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  const unsigned char *a = 0;
  int n = 0, rc = SQLITE_OK, i;
  *pbOk = 0;
  if( chunkHead(p, pRef->id, pInfo, aStat, v->nMeas) ){
    rc = checkInfo(p, 0, pRef->id, pInfo, pRef);
  }else{
    /* The whole blob (version 1, or the header read failed: this reports
    ** why). */
    rc = chunkBlob(p, pRef->id, &a, &n);
    if( rc ) return rc;
    if( tsChunkInfoGet(a, (size_t)n, pInfo, aStat, v->nMeas)!=TS_CHUNK_OK ){
      rc = corruptChunk(p, 0, pRef->id, "bad header or checksum");
    }else{
      rc = checkInfo(p, 0, pRef->id, pInfo, pRef);
    }
    sqlite3_reset(p->pBlob);
  }
  if( rc ) return rc;
  /* All or nothing: every used integer sum exact and the first/last values
  ** wanted in the header (format v2). */
  for(i=0; i<v->nAgg; i++){
    const TsChunkStat *st = &aStat[v->aAggCol[i]];
    if( p->aUsed[i] && v->aMeasType[v->aAggCol[i]]!=TS_TYPE_DOUBLE
     && !(st->rSum > -9007199254740992.0 && st->rSum < 9007199254740992.0) ) break;
    if( (p->aUsed[i] & ((1<<AGG_F_FIRST)|(1<<AGG_F_LAST))) && st->nValue>0 && !st->bEnds ) break;
  }
  *pbOk = i==v->nAgg;
  return SQLITE_OK;
}

/* Add a whole chunk's header statistics to the stream's result. */
static void wholeChunkAdd(AggCursor *p, AggStream *s, const TsChunkInfo *pInfo,
                          const TsChunkStat *aStat){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  int i;
  for(i=0; i<v->nAgg; i++){
    if( p->aUsed[i] ) tsAggAddStat(&s->res.aAcc[i], v->aMeasType[v->aAggCol[i]], &aStat[v->aAggCol[i]]);
  }
  if( !s->res.bHave || pInfo->tMin<s->res.tFirst ) s->res.tFirst = pInfo->tMin;
  if( !s->res.bHave || pInfo->tMax>s->res.tLast ) s->res.tLast = pInfo->tMax;
  s->res.nRow += pInfo->nRow;
}

/* Add a whole chunk from its header statistics.  *pbDone is 0 when the
** statistics cannot answer (an integer sum not exact): decode instead.  In
** the parallel path the connection's thread read them ahead (AggPre). */
static int addWholeChunk(AggCursor *p, AggStream *s, const AggRef *pRef, int *pbDone){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  TsChunkInfo info;
  TsChunkStat aStat[TS_CHUNK_MAX_COLS > 64 ? 64 : TS_CHUNK_MAX_COLS];
  TsChunkStat *pStat = aStat;
  int rc;
  *pbDone = 0;
  if( s->aPre ){
    const AggPre *u = &s->aPre[s->iUnitRef];
    if( u->bStat ){
      wholeChunkAdd(p, s, &u->info, u->aStat);
      *pbDone = 1;
    }
    return SQLITE_OK;
  }
  if( v->nMeas>64 ){
    pStat = sqlite3_malloc64(sizeof(TsChunkStat)*(size_t)v->nMeas);
    if( pStat==0 ) return SQLITE_NOMEM;
  }
  rc = aggChunkStats(p, pRef, &info, pStat, pbDone);
  if( rc==SQLITE_OK && *pbDone ) wholeChunkAdd(p, s, &info, pStat);
  if( pStat!=aStat ) sqlite3_free(pStat);
  return rc;
}

/* Read the whole blob of chunk iId into *pa, straight from the pages
** through incremental blob I/O (no statement row to assemble and copy):
** *pn its size.  Falls back to the blob statement when the handle fails. */
int aggBlobLoad(AggCursor *p, sqlite3_int64 iId, unsigned char **pa, sqlite3_int64 *pnAlloc,
                int *pn){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  sqlite3 *db = tsTableDbHandle(p->pTab);
  const unsigned char *a = 0;
  int rc, n = 0;
  if( p->pHead==0 ){
    char *zTab = sqlite3_mprintf("%s_chunks", tsTableName(p->pTab));
    if( zTab==0 ) return SQLITE_NOMEM;
    rc = sqlite3_blob_open(db, tsTableDb(p->pTab), zTab, "data", iId, 0, &p->pHead);
    sqlite3_free(zTab);
  }else{
    rc = sqlite3_blob_reopen(p->pHead, iId);
  }
  if( rc==SQLITE_OK ){
    n = sqlite3_blob_bytes(p->pHead);
    rc = bufReserve(v, pa, pnAlloc, (sqlite3_int64)n + 1);
    if( rc ) return rc;
    if( sqlite3_blob_read(p->pHead, *pa, n, 0)==SQLITE_OK ){
      *pn = n;
      return SQLITE_OK;
    }
  }
  sqlite3_blob_close(p->pHead);   /* a failed handle is unusable */
  p->pHead = 0;
  /* The statement reports why (a vanished row, an I/O error). */
  rc = chunkBlob(p, iId, &a, &n);
  if( rc ) return rc;
  rc = bufReserve(v, pa, pnAlloc, (sqlite3_int64)n + 1);
  if( rc==SQLITE_OK ) memcpy(*pa, a, (size_t)n);
  sqlite3_reset(p->pBlob);
  *pn = n;
  return rc;
}

/* Enter row mode on chunk pRef: read and open it, decode time, find the
** rows inside [tLo, tHi].  *pbEmpty when none is. */
static int rowModeBegin(AggCursor *p, AggStream *s, const AggRef *pRef, int *pbEmpty){
  const unsigned char *aBlob;
  int n = 0, rc;
  TsChunkInfo info;
  *pbEmpty = 0;
  if( s->aPre ){
    /* Read ahead by the connection's thread (agg_par.c). */
    aBlob = s->aPre[s->iUnitRef].aBlob;
    n = s->aPre[s->iUnitRef].nBlob;
  }else{
    rc = aggBlobLoad(p, pRef->id, &s->aBlob, &s->nBlobAlloc, &n);
    if( rc ) return rc;
    aBlob = s->aBlob;
  }
  s->iChunkId = pRef->id;
  s->bRowMode = 1;
  if( s->pRdLent ){
    s->pReader = s->pRdLent;
    if( tsChunkReaderReopen(s->pReader, aBlob, (size_t)n)!=TS_CHUNK_OK ){
      return corruptChunk(p, s, pRef->id, "bad header or checksum");
    }
  }else if( tsChunkReaderOpen(aBlob, (size_t)n, &s->pReader)!=TS_CHUNK_OK ){
    return corruptChunk(p, s, pRef->id, "bad header or checksum");
  }else if( s->aPre ){
    s->pRdLent = s->pReader;   /* the running thread's from now on */
  }
  info = *tsChunkReaderInfo(s->pReader);
  rc = checkInfo(p, s, pRef->id, &info, pRef);
  if( rc ) return rc;
  if( tsChunkReadTime(s->pReader, &s->aTime)!=TS_CHUNK_OK ){
    return corruptChunk(p, s, pRef->id, "time column does not decode");
  }
  s->iBeg = tsAggLowerBound(s->aTime, 0, info.nRow, p->tLo);
  s->iEnd = p->tHi==INT64_MAX ? info.nRow : tsAggLowerBound(s->aTime, s->iBeg, info.nRow, p->tHi+1);
  if( s->iBeg>=s->iEnd ){ *pbEmpty = 1; return SQLITE_OK; }
  s->iRow = p->bDesc ? s->iEnd-1 : s->iBeg;
  return SQLITE_OK;
}

/* Add rows [i0, i1) of the decoded chunk to the result.  DOUBLE columns
** without NULLs go through the multi-column pass (several independent
** add chains per row), the rest one column at a time. */
static int addRun(AggCursor *p, AggStream *s, int i0, int i1){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  TsAggAcc *apAcc[16];
  const TsChunkCol *apCol[16];
  TsChunkCol aCol[16];
  int i, nD = 0;
  if( !s->res.bHave || s->aTime[i0]<s->res.tFirst ) s->res.tFirst = s->aTime[i0];
  if( !s->res.bHave || s->aTime[i1-1]>s->res.tLast ) s->res.tLast = s->aTime[i1-1];
  s->res.nRow += i1-i0;
  for(i=0; i<v->nAgg; i++){
    TsChunkCol c;
    const TsChunkCol *pc = &c;
    int iM = v->aAggCol[i];
    if( !p->aUsed[i] ) continue;
    if( s->pReader==0 ){
      pc = s->apCol[i];   /* a block's or a stretch's rows */
    }else{
      if( tsChunkReadColRows(s->pReader, iM, s->iBeg, s->iEnd, &c)!=TS_CHUNK_OK ){
        return corruptChunk(p, s, s->iChunkId, "a measure column does not decode");
      }
      if( c.eType!=v->aMeasType[iM] ){
        return corruptChunk(p, s, s->iChunkId, "a column has the wrong type");
      }
    }
    if( pc->eType==TS_TYPE_DOUBLE && pc->aNull==0 ){
      aCol[nD] = *pc;
      apCol[nD] = &aCol[nD];
      apAcc[nD++] = &s->res.aAcc[i];
      if( nD==16 ){
        tsAggAddColsDouble(apAcc, apCol, nD, s->aTime, i0, i1);
        nD = 0;
      }
    }else{
      tsAggAddCol(&s->res.aAcc[i], pc, s->aTime, i0, i1);
    }
  }
  if( nD ) tsAggAddColsDouble(apAcc, apCol, nD, s->aTime, i0, i1);
  return SQLITE_OK;
}

/* Lastpoint: has every used <m>_last got a value (and last_time, which
** the first row gives)? */
static int lastComplete(AggCursor *p, AggStream *s){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  int i;
  for(i=0; i<v->nAgg; i++){
    if( p->aUsed[i] && s->res.aAcc[i].nValue==0 ) return 0;
  }
  return s->res.bHave;
}

static int64_t bucketOf(AggCursor *p, int64_t t){
  return p->iWidth ? tsAggBucket(t, p->iWidth) : 0;
}

int aggRefOneBucket(AggCursor *p, const AggRef *r){
  return r->tMin>=p->tLo && r->tMax<=p->tHi && bucketOf(p, r->tMin)==bucketOf(p, r->tMax);
}

/* Compute the stream's next result into s->res; s->bDone when none.
** Rows come from row mode (a decoded chunk, a block of another source, or
** a stretch read through the scan) or from a chunk's header; when neither
** is current the next unit is chosen (agg_source.c aggUnitNext). */
int aggStreamNext(AggCursor *p, AggStream *s){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  int rc = SQLITE_OK, i;
  if( s->bReplay ){
    /* Computed ahead by the parallel path. */
    if( s->iOut<s->nOut ){
      const AggResult *r = &s->aOut[s->iOut++];
      s->res.bHave = r->bHave;
      s->res.iBucket = r->iBucket;
      s->res.nRow = r->nRow;
      s->res.tFirst = r->tFirst;
      s->res.tLast = r->tLast;
      memcpy(s->res.aAcc, r->aAcc, sizeof(TsAggAcc)*(size_t)v->nAgg);
    }else{
      s->bDone = 1;
    }
    return SQLITE_OK;
  }
  s->res.bHave = 0;
  s->res.nRow = 0;
  s->res.tFirst = s->res.tLast = 0;
  for(i=0; i<v->nAgg; i++) tsAggReset(&s->res.aAcc[i]);
  if( s->bStop ){ s->bDone = 1; return SQLITE_OK; }
  for(;;){
    if( s->bRowMode ){
      int64_t t, b;
      int j;
      if( (p->bDesc && s->iRow<s->iBeg) || (!p->bDesc && s->iRow>=s->iEnd) ){
        aggStreamRowModeEnd(s);
        continue;
      }
      t = s->aTime[s->iRow];
      b = bucketOf(p, t);
      if( s->res.bHave && b!=s->res.iBucket ) return SQLITE_OK;
      if( !s->res.bHave ) s->res.iBucket = b;
      if( !p->bDesc ){
        j = p->iWidth ? tsAggLowerBound(s->aTime, s->iRow, s->iEnd, tsAggBucketEnd(b, p->iWidth)) : s->iEnd;
        if( j<=s->iRow ) j = s->iRow+1;   /* a bucket end clamped at INT64_MAX */
        rc = addRun(p, s, s->iRow, j);
        s->iRow = j;
      }else{
        j = p->iWidth ? tsAggLowerBound(s->aTime, s->iBeg, s->iRow+1, b) : s->iBeg;
        rc = addRun(p, s, j, s->iRow+1);
        s->iRow = j-1;
      }
      s->res.bHave = 1;
      if( rc ) return rc;
      if( p->bLastOnly && lastComplete(p, s) ){
        s->bStop = 1;
        return SQLITE_OK;
      }
      continue;
    }
    if( s->bStretch ){
      int bEnd = 0;
      rc = aggStretchBlock(p, s, &bEnd);
      if( rc ) return rc;
      continue;
    }
    if( s->eUnit==AGG_UNIT_NONE ){
      int eNext = AGG_NEXT_UNIT;
      rc = aggUnitNext(p, s, &eNext);
      if( rc ) return rc;
      if( eNext==AGG_NEXT_CLOSED ) return SQLITE_OK;
      if( eNext==AGG_NEXT_END ){
        if( !s->res.bHave ) s->bDone = 1;
        s->bStop = 1;
        return SQLITE_OK;
      }
    }
    if( s->eUnit==AGG_UNIT_STRETCH ){
      s->eUnit = AGG_UNIT_NONE;
      rc = aggStretchBegin(p, s);
      if( rc ) return rc;
    }else if( s->eUnit==AGG_UNIT_BLOCK ){
      int bEmpty = 0;
      s->eUnit = AGG_UNIT_NONE;
      rc = aggBlockBegin(p, s, &bEmpty);
      if( bEmpty ) aggStreamRowModeEnd(s);
      if( rc ) return rc;
    }else{
      AggRef *r = &s->unit;
      int bEmpty = 0;
      if( aggRefOneBucket(p, r) ){
        /* Inside the range and one bucket: the header may answer (first
        ** and last only from format-v2 headers; see addWholeChunk). */
        int64_t b = bucketOf(p, r->tMin);
        int bDone = 0;
        if( s->res.bHave && b!=s->res.iBucket ) return SQLITE_OK;   /* the unit waits */
        rc = addWholeChunk(p, s, r, &bDone);
        if( rc ) return rc;
        if( bDone ){
          s->eUnit = AGG_UNIT_NONE;
          s->res.iBucket = b;
          s->res.bHave = 1;
          if( p->bLastOnly && lastComplete(p, s) ){
            s->bStop = 1;
            return SQLITE_OK;
          }
          continue;
        }
      }
      s->eUnit = AGG_UNIT_NONE;
      rc = rowModeBegin(p, s, r, &bEmpty);
      if( rc ) return rc;
      if( bEmpty ) aggStreamRowModeEnd(s);
    }
  }
}

/*************************************************************************
** Filter, iteration, columns.
*/

/* Select the series matching the constraints into p->aSeries. */
int aggLoadSeries(AggCursor *p){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  sqlite3 *db = tsTableDbHandle(p->pTab);
  sqlite3_str *s = sqlite3_str_new(db);
  sqlite3_stmt *q = 0;
  char *zSql;
  int rc, i, nAlloc = 0;
  sqlite3_str_appendall(s, "SELECT id, measure_name");
  for(i=0; i<v->nDim; i++) sqlite3_str_appendf(s, ", d%d", i);
  /* Series without memory-tier rows (NULL tmin) may have rows in another
  ** tier: with another source open every series is a candidate
  ** (aggSeriesBind keeps those some tier holds rows of). */
  sqlite3_str_appendf(s, " FROM \"%w\".\"%w_series\" WHERE %s ORDER BY id",
                      tsTableDb(p->pTab), tsTableName(p->pTab),
                      p->nSrcOpen ? "?1 <= ?2" : "tmax >= ?1 AND tmin <= ?2");
  zSql = sqlite3_str_finish(s);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, zSql, -1, &q, 0);
  sqlite3_free(zSql);
  if( rc ){
    tsVtabErr(p->base.pVtab, "%s: %s", v->zName, sqlite3_errmsg(db));
    return rc;
  }
  sqlite3_bind_int64(q, 1, p->tLo);
  sqlite3_bind_int64(q, 2, p->tHi);
  while( (rc = sqlite3_step(q))==SQLITE_ROW ){
    int bOk = 1, k;
    size_t nMem;
    char *z;
    AggSeries *pS;
    for(k=0; k<p->nSet && bOk; k++){
      int iC = p->aSet[k].iDim<0 ? 1 : 2 + p->aSet[k].iDim;
      bOk = tsValSetHas(&p->aSet[k], (const char*)sqlite3_column_text(q, iC), sqlite3_column_bytes(q, iC));
    }
    if( !bOk ) continue;
    if( p->nSeries==nAlloc ){
      AggSeries *aNew;
      nAlloc = nAlloc ? nAlloc*2 : 16;
      aNew = sqlite3_realloc64(p->aSeries, sizeof(AggSeries)*(size_t)nAlloc);
      if( aNew==0 ){ rc = SQLITE_NOMEM; break; }
      p->aSeries = aNew;
    }
    pS = &p->aSeries[p->nSeries];
    memset(pS, 0, sizeof(*pS));
    nMem = (sizeof(char*)+sizeof(int))*(size_t)(v->nDim+1) + (size_t)sqlite3_column_bytes(q, 1) + 1;
    for(k=0; k<v->nDim; k++) nMem += (size_t)sqlite3_column_bytes(q, 2+k) + 1;
    pS->pMem = sqlite3_malloc64(nMem);
    if( pS->pMem==0 ){ rc = SQLITE_NOMEM; break; }
    p->nSeries++;
    pS->id = sqlite3_column_int64(q, 0);
    pS->azDim = (char**)pS->pMem;
    pS->anDim = (int*)&pS->azDim[v->nDim+1];
    z = (char*)&pS->anDim[v->nDim+1];
    for(k=0; k<v->nDim; k++){
      const char *zV = (const char*)sqlite3_column_text(q, 2+k);
      int nV = sqlite3_column_bytes(q, 2+k);
      if( zV==0 ){ pS->azDim[k] = 0; pS->anDim[k] = 0; continue; }
      memcpy(z, zV, (size_t)nV);
      z[nV] = 0;
      pS->azDim[k] = z;
      pS->anDim[k] = nV;
      z += nV+1;
    }
    {
      const char *zV = (const char*)sqlite3_column_text(q, 1);
      int nV = sqlite3_column_bytes(q, 1);
      memcpy(z, zV ? zV : "", (size_t)nV);
      z[nV] = 0;
      pS->zMName = z;
      pS->nMName = nV;
    }
  }
  if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  else if( rc!=SQLITE_NOMEM ) tsVtabErr(p->base.pVtab, "%s: %s", v->zName, sqlite3_errmsg(db));
  sqlite3_finalize(q);
  return rc;
}

int aggPrepareStmts(AggCursor *p){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  sqlite3 *db = tsTableDbHandle(p->pTab);
  const char *zDb = tsTableDb(p->pTab), *zTab = tsTableName(p->pTab);
  /* References in time order from a keyset bound ?2 (ascending: tmin >= ?2,
  ** descending: tmin <= ?2); the time range's far end bounds the range
  ** scan of the covering index, its near end is checked in C (the chunks of
  ** a series are disjoint, so the first chunk wholly before the range ends a
  ** descending walk). */
  char *z1 = sqlite3_mprintf(
      "SELECT id, tmin, tmax, nrow FROM \"%w\".\"%w_chunks\" WHERE sid = ?1 AND tmin >= ?2 AND tmin <= ?3"
      " ORDER BY tmin LIMIT ?4", zDb, zTab);
  char *z2 = sqlite3_mprintf(
      "SELECT id, tmin, tmax FROM \"%w\".\"%w_chunks\" WHERE sid = ?1 AND tmin <= ?2"
      " ORDER BY tmin DESC LIMIT ?4", zDb, zTab);
  char *z3 = sqlite3_mprintf("SELECT data FROM \"%w\".\"%w_chunks\" WHERE id = ?1", zDb, zTab);
  char *z4 = sqlite3_mprintf("SELECT max(tmin) FROM \"%w\".\"%w_chunks\" WHERE sid = ?1 AND tmin <= ?2",
                             zDb, zTab);
  int rc = SQLITE_NOMEM;
  if( v->apCache[0] && !v->bCacheLent ){
    /* The statements of an earlier query (they re-prepare themselves
    ** after a schema change). */
    p->pRefStmt = v->apCache[0];
    p->pRefDesc = v->apCache[1];
    p->pBlob = v->apCache[2];
    p->pStart = v->apCache[3];
    p->bLent = 1;
    v->bCacheLent = 1;
    rc = SQLITE_OK;
  }else if( z1 && z2 && z3 && z4 ){
    const unsigned int f = SQLITE_PREPARE_PERSISTENT;
    rc = sqlite3_prepare_v3(db, z1, -1, f, &p->pRefStmt, 0);
    if( rc==SQLITE_OK ) rc = sqlite3_prepare_v3(db, z2, -1, f, &p->pRefDesc, 0);
    if( rc==SQLITE_OK ) rc = sqlite3_prepare_v3(db, z3, -1, f, &p->pBlob, 0);
    if( rc==SQLITE_OK ) rc = sqlite3_prepare_v3(db, z4, -1, f, &p->pStart, 0);
    if( rc ) tsVtabErr(p->base.pVtab, "%s: %s", v->zName, sqlite3_errmsg(db));
  }
  sqlite3_free(z1);
  sqlite3_free(z2);
  sqlite3_free(z3);
  sqlite3_free(z4);
  return rc;
}

/* Make the cursor's current row the next one: iCur = the stream holding
** it, or -1 at the end. */
int aggAdvance(AggCursor *p, int bFirst){
  int rc = SQLITE_OK;
  if( p->bHeap ){
    if( !bFirst && p->nHeap>0 ){
      AggStream *s = &p->aStream[p->aHeap[0]];
      rc = aggStreamNext(p, s);
      if( rc ) return rc;
      if( s->bDone ) p->aHeap[0] = p->aHeap[--p->nHeap];
      if( p->nHeap>0 ) aggHeapDown(p, 0);
    }
    p->iCur = p->nHeap>0 ? p->aHeap[0] : -1;
    return SQLITE_OK;
  }
  /* Serial: the heap's top stream until it is done, then the next (the
  ** heap is keyed on series attributes only, so its order is fixed). */
  if( !bFirst && p->iCur>=0 ){
    AggStream *s = &p->aStream[p->iCur];
    rc = aggStreamNext(p, s);
    if( rc ) return rc;
    if( !s->bDone ) return SQLITE_OK;
  }
  p->iCur = -1;
  while( p->nHeap>0 ){
    AggStream *s = &p->aStream[p->aHeap[0]];
    if( !s->bStarted ){
      s->bStarted = 1;
      rc = aggStreamNext(p, s);
      if( rc ) return rc;
    }
    if( !s->bDone ){ p->iCur = p->aHeap[0]; break; }
    aggStreamRowModeEnd(s);
    aggBufPut((AggVtab*)p->base.pVtab, s);
    aggStreamSourceFree(s);
    aggParStreamFree((AggVtab*)p->base.pVtab, s);
    sqlite3_free(s->aRef);
    s->aRef = 0;
    p->aHeap[0] = p->aHeap[--p->nHeap];
    if( p->nHeap>0 ) aggHeapDown(p, 0);
  }
  return SQLITE_OK;
}

