/*
** write_flush.c: the flush of a timeseries table's pending rows into chunks
** (tsTabFlushAll): per series, the pending rows are matched against the
** chunks they can overlap, merged into the chunks that cover them, and the
** rest written as new chunks, with the bounded compaction of small chunks
** (the tail rule, tailAppend); the write log of each flush while the table
** has one.  docs/internals/transactions.md "Flushing one series" is the
** rule; write.c owns the pending buffer these rows come from.
*/
#include "table_int.h"
#include "recrule.h"
#include <string.h>
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
  sqlite3_free(p->aMark);
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
  p->aMark = sqlite3_malloc64((size_t)nAlloc);
  p->aaNull = sqlite3_malloc64(sizeof(void*)*(size_t)(nCol+1));
  p->aaNum = sqlite3_malloc64(sizeof(void*)*(size_t)(nCol+1));
  p->aazText = sqlite3_malloc64(sizeof(void*)*(size_t)(nCol+1));
  p->aanText = sqlite3_malloc64(sizeof(void*)*(size_t)(nCol+1));
  p->r.aCol = sqlite3_malloc64(sizeof(TsChunkCol)*(size_t)(nCol+1));
  if( !p->aTime || !p->aVersion || !p->aMark || !p->aaNull || !p->aaNum || !p->aazText || !p->aanText
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
  p->r.aMark = p->aMark;
  return SQLITE_OK;
}

/* Append row iRow of pSrc (capacity must suffice). */
static void runBufPush(TsRunBuf *p, const TsRun *pSrc, int iRow){
  int n = p->r.n, i;
  p->aTime[n] = pSrc->aTime[iRow];
  p->aVersion[n] = pSrc->aVersion ? pSrc->aVersion[iRow] : 1;
  p->aMark[n] = pSrc->aMark ? pSrc->aMark[iRow] : TS_MARK_NONE;
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
    rcc = tsChunkEncodeMarked(n, pRun->aTime+iStart, pRun->aVersion ? pRun->aVersion+iStart : 0,
                              pRun->aMark ? pRun->aMark+iStart : 0, p->s.nMeas, aCol, &buf);
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



/* Merge rows [i0, i1) of the sorted pending run pPendRun into chunk
** iChunk: pending rows replace chunk rows of the same time. */
static int chunkMerge(TsTable *p, TsSeries *pS, sqlite3_int64 iChunk, const TsRun *pPendRun,
                      int i0, int i1){
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
    if( b>=i1 || (a<old.n && old.aTime[a]<pPendRun->aTime[b]) ){
      runBufPush(&out, &old, a++);
    }else{
      if( a<old.n && old.aTime[a]==pPendRun->aTime[b] ) a++;
      runBufPush(&out, pPendRun, b++);
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

/* Write rows [i0, i1) of the sorted pending run pPend as new chunks. */
static int pendWrite(TsTable *p, TsSeries *pS, const TsRun *pPend, int i0, int i1){
  TsChunkCol *aSl = sqlite3_malloc64(sizeof(TsChunkCol)*(size_t)(p->s.nMeas+1));
  TsRun sl;
  int rc;
  if( aSl==0 ) return SQLITE_NOMEM;
  runSlice(pPend, p->s.nMeas, i0, aSl);
  sl.n = i1 - i0;
  sl.aTime = pPend->aTime + i0;
  sl.aVersion = pPend->aVersion + i0;
  sl.aMark = pPend->aMark + i0;
  sl.aCol = aSl;
  rc = chunksWrite(p, pS->iId, &sl);
  sqlite3_free(aSl);
  return rc;
}

/* The pending rows of pP gathered into columns in time order (pOut is
** initialised here; the caller frees it with runBufFree).  VARCHAR bytes
** stay the buffer's (pOut points at them). */
static int pendSorted(TsTable *p, const TsPend *pP, TsRunBuf *pOut){
  int nMeas = p->s.nMeas, k, i;
  int rc = runBufInit(pOut, nMeas, p->s.aMeasType, pP->nRow);
  if( rc ) return rc;
  for(k=0; k<pP->nRow; k++){
    int iSlot = pP->aOrder[k];
    const unsigned char *r = TS_PREC(pP, iSlot);
    const unsigned char *aNul = r + TS_PREC_NULL(nMeas);
    pOut->aTime[k] = pP->aTime[iSlot];
    memcpy(&pOut->aVersion[k], r + TS_PREC_VERSION(nMeas), sizeof(int64_t));
    pOut->aMark[k] = r[TS_PREC_MARK(nMeas)];
    for(i=0; i<nMeas; i++){
      if( pP->bNull ) pOut->aaNull[i][k] = aNul[i];
      if( pOut->aaNum[i] ){
        memcpy(&pOut->aaNum[i][k], r + sizeof(int64_t)*(size_t)i, sizeof(int64_t));
      }else{
        pOut->aazText[i][k] = pP->aazText[i][iSlot];
        pOut->aanText[i][k] = pP->aanText[i][iSlot];
      }
    }
  }
  /* without NULLs the columns have no flags (what the encoder reads as
  ** none), so the flags are neither gathered nor scanned */
  for(i=0; !pP->bNull && i<nMeas; i++) pOut->r.aCol[i].aNull = 0;
  pOut->r.n = pP->nRow;
  return SQLITE_OK;
}

/* Rows after a series' last chunk (the tail rule; docs/internals/
** transactions.md "Flushing one series").  A chunk of fewer than TS_CHUNK_SMALL
** rows is small.  Rows [i0, i1) of the sorted pending run, all later than every
** chunk of pS, become new chunks; they take along (merge and rewrite) the
** newest trailing small chunks, newest first, while each is no larger than
** the rows taken so far: equal sizes merge as in a binary counter, so a row
** is rewritten about log2(TS_CHUNK_SMALL / rows per flush) times while its
** chunk is small and never once it is not (a flush of TS_CHUNK_SMALL or more
** rows per series rewrites nothing).  When that would leave more than
** TS_TAIL_MAX small chunks trailing, all of them are taken, which bounds a
** series' chunk count.  Small chunks elsewhere absorb the rows of the gap
** after them (flushSeries). */
#define TS_CHUNK_SMALL  (TS_CHUNK_TARGET/2)
#define TS_TAIL_MAX     8
static int tailAppend(TsTable *p, TsSeries *pS, const TsRun *pPend, int i0, int i1){
  sqlite3_int64 aId[TS_TAIL_MAX+1];
  int aN[TS_TAIL_MAX+1];
  unsigned char *aBlob[TS_TAIL_MAX+1];
  TsChunkReader *aReader[TS_TAIL_MAX+1];
  TsChunkCol *aCol = 0;
  sqlite3_int64 tFirst = pPend->aTime[i0];
  sqlite3_stmt *pStmt;
  TsRunBuf out;
  int nSmall = 0, nTake, nRow = i1 - i0, k, rc;
  rc = tsTabStmt(p, STMT_CHUNK_TAIL, &pStmt);
  if( rc ) return rc;
  sqlite3_bind_int64(pStmt, 1, pS->iId);
  sqlite3_bind_int(pStmt, 2, TS_TAIL_MAX+1);
  while( nSmall<=TS_TAIL_MAX && sqlite3_step(pStmt)==SQLITE_ROW ){
    /* id, tmax, nrow, newest first; a chunk not before the rows ends it */
    if( sqlite3_column_int64(pStmt, 1)>=tFirst ){ nSmall = 0; break; }
    if( sqlite3_column_int(pStmt, 2)>=TS_CHUNK_SMALL ) break;
    aId[nSmall] = sqlite3_column_int64(pStmt, 0);
    aN[nSmall] = sqlite3_column_int(pStmt, 2);
    nSmall++;
  }
  if( sqlite3_reset(pStmt)!=SQLITE_OK ) return tsTabStmtErr(p, pStmt);
  for(nTake=0; nTake<nSmall && aN[nTake]<=nRow; nTake++) nRow += aN[nTake];
  if( nSmall - nTake + (nRow<TS_CHUNK_SMALL) > TS_TAIL_MAX ){
    for(; nTake<nSmall; nTake++) nRow += aN[nTake];
  }
  if( nTake==0 ) return pendWrite(p, pS, pPend, i0, i1);

  memset(aBlob, 0, sizeof(aBlob));
  memset(aReader, 0, sizeof(aReader));
  aCol = sqlite3_malloc64(sizeof(TsChunkCol)*(size_t)(p->s.nMeas+1));
  if( aCol==0 ) return SQLITE_NOMEM;
  rc = runBufInit(&out, p->s.nMeas, p->s.aMeasType, nRow);
  /* oldest first: the chunks do not overlap and all precede the rows */
  for(k=nTake-1; rc==SQLITE_OK && k>=0; k--){
    TsRun old;
    int r;
    rc = tsTabChunkLoad(p, aId[k], &aBlob[k], &aReader[k], &old, aCol, 1);
    if( rc==SQLITE_OK && out.r.n + old.n > out.nAlloc ){
      rc = tsTabChunkCorrupt(p, aId[k], "its row count differs from its header");
    }
    for(r=0; rc==SQLITE_OK && r<old.n; r++) runBufPush(&out, &old, r);
  }
  for(k=i0; rc==SQLITE_OK && k<i1; k++) runBufPush(&out, pPend, k);
  for(k=0; rc==SQLITE_OK && k<nTake; k++){
    rc = tsTabStmt(p, STMT_CHUNK_DELETE, &pStmt);
    if( rc==SQLITE_OK ){
      sqlite3_bind_int64(pStmt, 1, aId[k]);
      rc = tsTabStepDone(p, pStmt);
    }
  }
  if( rc==SQLITE_OK ) rc = chunksWrite(p, pS->iId, &out.r);
  runBufFree(&out);
  for(k=0; k<nTake; k++){
    tsChunkReaderFree(aReader[k]);
    sqlite3_free(aBlob[k]);
  }
  sqlite3_free(aCol);
  return rc;
}

/* Widen the <t>_series row of pS to cover [tLo, tHi] (with the range of its
** chunks as the cache knows it).  The row is matched on id and key: when
** none matches, the shadow table was edited directly since the cache was
** checked ("DELETE FROM t_series", an UPDATE of id or skey), and the row is
** repaired (found again by key, or inserted again) before the rows are
** written, so they never go to a series id that no longer exists. */
static int seriesRangeWrite(TsTable *p, TsSeries *pS, sqlite3_int64 tLo, sqlite3_int64 tHi){
  int rc = SQLITE_OK, iTry;
  for(iTry=0; iTry<2; iTry++){
    sqlite3_stmt *pStmt;
    sqlite3_int64 tMin = pS->bChunks && pS->tMin<tLo ? pS->tMin : tLo;
    sqlite3_int64 tMax = pS->bChunks && pS->tMax>tHi ? pS->tMax : tHi;
    rc = tsTabStmt(p, STMT_SERIES_RANGE, &pStmt);
    if( rc ) return rc;
    sqlite3_bind_int64(pStmt, 1, pS->iId);
    sqlite3_bind_int64(pStmt, 2, tMin);
    sqlite3_bind_int64(pStmt, 3, tMax);
    sqlite3_bind_blob(pStmt, 4, pS->aKey, pS->nKey, SQLITE_STATIC);
    rc = tsTabStepDone(p, pStmt);
    sqlite3_bind_null(pStmt, 4);
    if( rc ) return rc;
    if( sqlite3_changes(p->db)>0 ) return SQLITE_OK;
    if( iTry==0 ){
      rc = tsTabSeriesRepair(p, pS);
      if( rc ) return rc;
    }
  }
  tsTabErr(p, "timeseries %s: series %lld: its %s_series row cannot be written", p->zName,
           pS->iId, p->zName);
  return SQLITE_CORRUPT_VTAB;
}

/* Flush the pending rows of one series (see the header comment). */
static int flushSeries(TsTable *p, TsSeries *pS){
  TsPend *pP = pS->pPend;
  TsRunBuf srt;            /* the pending rows in time order */
  const TsRun *pend = &srt.r;
  sqlite3_int64 *aC = 0;   /* chunk headers: id, tmin, tmax, nrow per chunk */
  int nC = 0, nCAlloc = 0;
  int rc = SQLITE_OK, i, j;
  int bLastMerged = 0;     /* rows were merged into the last chunk of aC */
  sqlite3_int64 tLo, tHi;
  if( pP==0 || pP->nRow==0 ) return SQLITE_OK;
  rc = pendSorted(p, pP, &srt);
  if( rc ) return rc;
  tLo = pend->aTime[0];
  tHi = pend->aTime[pP->nRow-1];
  rc = seriesRangeWrite(p, pS, tLo, tHi);
  if( rc==SQLITE_OK && pS->bChunks ){
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
      sqlite3_int64 t = pend->aTime[i];
      while( j+1<nC && aC[(j+1)*4+1]<=t ) j++;
      if( nC==0 ){
        tgt = -1;
      }else if( aC[j*4+1]<=t ){
        /* a small chunk absorbs the rows of the gap after it, except after
        ** the series' last chunk (tailAppend's rule) */
        int bTail = j==nC-1 && pS->bChunks && t>pS->tMax;
        tgt = (t<=aC[j*4+2] || (aC[j*4+3]<TS_CHUNK_TARGET && !bTail)) ? j : -(j+2);
      }else{
        tgt = aC[3]<TS_CHUNK_TARGET ? 0 : -1;
      }
      if( i==i0 ) tgt0 = tgt;
      else if( tgt!=tgt0 ) break;
    }
    if( tgt0>=0 ){
      rc = chunkMerge(p, pS, aC[tgt0*4], pend, i0, i);
      if( tgt0==nC-1 ) bLastMerged = 1;
    }else if( tgt0==-(nC+1) && pS->bChunks && pend->aTime[i0]>pS->tMax
           && (bLastMerged || aC[(nC-1)*4+3]<TS_CHUNK_SMALL) ){
      /* the last chunk is small (or was just rewritten): the tail rule */
      rc = tailAppend(p, pS, pend, i0, i);
    }else{
      rc = pendWrite(p, pS, pend, i0, i);
    }
  }
  if( rc==SQLITE_OK ){
    /* the row's range was written first (seriesRangeWrite) */
    sqlite3_int64 tMin = pS->bChunks && pS->tMin<tLo ? pS->tMin : tLo;
    sqlite3_int64 tMax = pS->bChunks && pS->tMax>tHi ? pS->tMax : tHi;
    pS->bChunks = 1;
    pS->tMin = tMin;
    pS->tMax = tMax;
    p->nRowEst += pP->nRow;
  }
  sqlite3_free(aC);
  runBufFree(&srt);
  return rc;
}

/* The write log "<t>_wlog"(seq, sid, tmin, tmax): while it exists (a
** scheduled query with a Window watches the table, ext/sched_inval.c creates
** and prunes it) every flush of a series adds the time ranges it wrote.  NULL
** when the table has no log (or on error, which the flush then reports).
** Whether it exists is looked up once per schema change (the schema cookie,
** a cached PRAGMA: any connection's CREATE or DROP of the log changes it),
** so a flush of a table without a log prepares nothing; the INSERT is
** prepared once and kept in aStmt[STMT_WLOG_INSERT]. */
static sqlite3_stmt *wlogPrepare(TsTable *p, int *pRc){
  sqlite3_stmt *pV = 0;
  sqlite3_int64 iCookie;
  char *zSql;
  int rc = tsTabStmt(p, STMT_SCHEMA_VERSION, &pV);
  if( rc!=SQLITE_OK ){ *pRc = rc; return 0; }
  rc = sqlite3_step(pV);
  iCookie = sqlite3_column_int64(pV, 0);
  if( rc==SQLITE_ROW ) rc = sqlite3_reset(pV); else sqlite3_reset(pV);
  if( rc!=SQLITE_OK ){
    tsTabErr(p, "timeseries %s: %s", p->zName, sqlite3_errmsg(p->db));
    *pRc = rc;
    return 0;
  }
  if( p->bWlogKnown && iCookie==p->iWlogCookie ) return p->aStmt[STMT_WLOG_INSERT];
  sqlite3_finalize(p->aStmt[STMT_WLOG_INSERT]);
  p->aStmt[STMT_WLOG_INSERT] = 0;
  p->bWlogKnown = 0;
  zSql = sqlite3_mprintf("SELECT 1 FROM \"%w\".sqlite_schema WHERE type='table' AND name=?1||'_wlog'",
                         p->zDb);
  if( zSql==0 ){ *pRc = SQLITE_NOMEM; return 0; }
  rc = sqlite3_prepare_v2(p->db, zSql, -1, &pV, 0);
  sqlite3_free(zSql);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pV, 1, p->zName, -1, SQLITE_STATIC);
    rc = sqlite3_step(pV);
    if( rc==SQLITE_ROW ){
      zSql = sqlite3_mprintf("INSERT INTO \"%w\".\"%w_wlog\"(sid, tmin, tmax) VALUES(?1,?2,?3)",
                             p->zDb, p->zName);
      rc = zSql ? sqlite3_prepare_v3(p->db, zSql, -1, SQLITE_PREPARE_PERSISTENT,
                                     &p->aStmt[STMT_WLOG_INSERT], 0) : SQLITE_NOMEM;
      sqlite3_free(zSql);
    }else if( rc==SQLITE_DONE ){
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(pV);
  if( rc!=SQLITE_OK ){
    if( rc!=SQLITE_NOMEM ) tsTabErr(p, "timeseries %s: write log: %s", p->zName, sqlite3_errmsg(p->db));
    *pRc = rc;
    return 0;
  }
  p->bWlogKnown = 1;
  p->iWlogCookie = iCookie;
  return p->aStmt[STMT_WLOG_INSERT];
}

/* Log the rows of pending buffer pP (series iSid) about to be flushed: in
** time order, cut at their TS_WLOG_RANGES-1 widest gaps of at least
** TS_WLOG_GAP, so a few late rows spread over a month log a few short
** ranges, not the month, while rows written in order log one range (a
** schedule fires at most once a minute: a shorter gap separates no two
** instances). */
#define TS_WLOG_RANGES 16
#define TS_WLOG_GAP    (60*(sqlite3_int64)1000000000)
static int wlogNote(TsTable *p, sqlite3_stmt *pLog, sqlite3_int64 iSid, const TsPend *pP){
  const int *o = pP->aOrder;
  int aCut[TS_WLOG_RANGES-1];        /* row i starts a new range */
  int nCut = 0, i, j, iStart = 0, rc = SQLITE_OK;
  for(i=1; i<pP->nRow; i++){
    sqlite3_int64 g = pP->aTime[o[i]] - pP->aTime[o[i-1]];
    int iMin = 0;
    if( g<TS_WLOG_GAP ) continue;
    if( nCut<TS_WLOG_RANGES-1 ){ aCut[nCut++] = i; continue; }
    for(j=1; j<nCut; j++){
      if( pP->aTime[o[aCut[j]]] - pP->aTime[o[aCut[j]-1]]
        < pP->aTime[o[aCut[iMin]]] - pP->aTime[o[aCut[iMin]-1]] ) iMin = j;
    }
    if( g > pP->aTime[o[aCut[iMin]]] - pP->aTime[o[aCut[iMin]-1]] ) aCut[iMin] = i;
  }
  for(i=1; i<nCut; i++){             /* cuts in row order */
    int x = aCut[i];
    for(j=i; j>0 && aCut[j-1]>x; j--) aCut[j] = aCut[j-1];
    aCut[j] = x;
  }
  for(i=0; rc==SQLITE_OK && i<=nCut; i++){
    int iEnd = i<nCut ? aCut[i] : pP->nRow;
    sqlite3_bind_int64(pLog, 1, iSid);
    sqlite3_bind_int64(pLog, 2, pP->aTime[o[iStart]]);
    sqlite3_bind_int64(pLog, 3, pP->aTime[o[iEnd-1]]);
    rc = tsTabStepDone(p, pLog);
    iStart = iEnd;
  }
  return rc;
}

/* Flush every pending row of the table.  On error the rows of the series
** not yet flushed stay pending (the caller's statement or commit fails). */
int tsTabFlushAll(TsTable *p){
  int rc = SQLITE_OK;
  sqlite3_int64 iLastRowid;
  sqlite3_stmt *pLog;
  if( p->pPendFirst==0 ) return SQLITE_OK;
  iLastRowid = sqlite3_last_insert_rowid(p->db);
  p->iFlushGen++;
  pLog = wlogPrepare(p, &rc);
  while( rc==SQLITE_OK && p->pPendFirst ){
    TsSeries *pS = p->pPendFirst;
    TsPend *pP = pS->pPend;
    if( pLog && pP && pP->nRow ) rc = wlogNote(p, pLog, pS->iId, pP);
    if( rc==SQLITE_OK ) rc = flushSeries(p, pS);
    if( rc==SQLITE_OK ){
      p->pPendFirst = pS->pPendNext;
      pS->pPendNext = 0;
      pS->bPendList = 0;
      tsWritePendReset(p, pS->pPend);
      tsTabSeriesUnref(p, pS);
    }
  }
  if( p->pPendFirst==0 ) p->nPendBytes = 0;
  sqlite3_set_last_insert_rowid(p->db, iLastRowid);
  if( rc!=SQLITE_OK ) p->rcFlush = rc;
  return rc;
}

/* Drop every pending row (rollback). */
