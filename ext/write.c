/*
** write.c: the write path of a timeseries table: xUpdate (INSERT with
** Timestream's write rules: types, write window, partition key, the
** duplicate/version rules through tsSourceFind; each stored row keeps the
** write mark of its conflict clause, ext/recrule.h), the per-series pending
** buffer (TsPend), and the flush of pending rows into chunks with the
** bounded compaction of small chunks (vtab.c's header comment describes the
** buffering and when flushes happen).
*/
#include "table_int.h"
#include "source.h"
#include "recrule.h"
#include "numtext.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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
** The pending buffer.
*/
void tsWritePendFree(TsTable *pTab, TsPend *p){
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
  sqlite3_free(p->aMark);
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


/* Make room for one more slot. */
static int pendGrow(TsTable *pTab, TsPend *p){
  int rc = SQLITE_OK, i, nNew;
  size_t n;
  if( p->nRow<p->nAlloc ) return SQLITE_OK;
  nNew = p->nAlloc ? p->nAlloc*2 : 16;
  n = (size_t)nNew;
  p->aTime = tsTabReallocArray(p->aTime, n, sizeof(sqlite3_int64), &rc);
  p->aVersion = tsTabReallocArray(p->aVersion, n, sizeof(sqlite3_int64), &rc);
  p->aMark = tsTabReallocArray(p->aMark, n, 1, &rc);
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
  /* zeroed before anything can free them (tsWritePendFree reads them) */
  if( p->aaNull ) memset(p->aaNull, 0, n);
  if( p->aaNum ) memset(p->aaNum, 0, n);
  if( p->aazText ) memset(p->aazText, 0, n);
  if( p->aanText ) memset(p->aanText, 0, n);
  if( !p->aaNull || !p->aaNum || !p->aazText || !p->aanText ){
    tsWritePendFree(pTab, p);
    return 0;
  }
  return p;
}

/* Store the staged row (pTab->aSt*) with time t, version v and write mark
** eMark in slot iSlot, replacing what the slot held. */
static int pendSetSlot(TsTable *pTab, TsPend *p, int iSlot, sqlite3_int64 t,
                       sqlite3_int64 v, int eMark, int bNewSlot){
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
  p->aMark[iSlot] = (unsigned char)eMark;
  pTab->nPendBytes += nByte + 20 + 9*pTab->s.nMeas;
  return SQLITE_OK;
}

/* A run view of the pending buffer's slots (not sorted: use aOrder). */
static void pendView(TsTable *pTab, TsPend *p, TsRun *pRun, TsChunkCol *aCol){
  int i;
  pRun->n = p->nRow;
  pRun->aTime = (const int64_t*)p->aTime;
  pRun->aVersion = (const int64_t*)p->aVersion;
  pRun->aMark = p->aMark;
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

/* Write pending rows aOrder[i0..i1) of pP (view pPend) as new chunks. */
static int pendWrite(TsTable *p, TsSeries *pS, const TsPend *pP, const TsRun *pPend,
                     int i0, int i1){
  int rc, k;
  if( pP->bInOrder ){
    /* Slots are in time order: encode straight from the buffer. */
    TsChunkCol *aSl = sqlite3_malloc64(sizeof(TsChunkCol)*(size_t)(p->s.nMeas+1));
    TsRun sl;
    if( aSl==0 ) return SQLITE_NOMEM;
    runSlice(pPend, p->s.nMeas, i0, aSl);
    sl.n = i1 - i0;
    sl.aTime = pPend->aTime + i0;
    sl.aVersion = pPend->aVersion + i0;
    sl.aMark = pPend->aMark ? pPend->aMark + i0 : 0;
    sl.aCol = aSl;
    rc = chunksWrite(p, pS->iId, &sl);
    sqlite3_free(aSl);
  }else{
    TsRunBuf out;
    rc = runBufInit(&out, p->s.nMeas, p->s.aMeasType, i1 - i0);
    for(k=i0; rc==SQLITE_OK && k<i1; k++) runBufPush(&out, pPend, pP->aOrder[k]);
    if( rc==SQLITE_OK ) rc = chunksWrite(p, pS->iId, &out.r);
    runBufFree(&out);
  }
  return rc;
}

/* Rows after a series' last chunk (the tail rule; docs/internals/
** transactions.md "Flushing one series").  A chunk of fewer than TS_CHUNK_SMALL
** rows is small.  Pending rows aOrder[i0..i1) of pP, all later than every
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
static int tailAppend(TsTable *p, TsSeries *pS, const TsPend *pP, const TsRun *pPend,
                      int i0, int i1){
  sqlite3_int64 aId[TS_TAIL_MAX+1];
  int aN[TS_TAIL_MAX+1];
  unsigned char *aBlob[TS_TAIL_MAX+1];
  TsChunkReader *aReader[TS_TAIL_MAX+1];
  TsChunkCol *aCol = 0;
  sqlite3_int64 tFirst = pPend->aTime[pP->aOrder[i0]];
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
  if( nTake==0 ) return pendWrite(p, pS, pP, pPend, i0, i1);

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
  for(k=i0; rc==SQLITE_OK && k<i1; k++) runBufPush(&out, pPend, pP->aOrder[k]);
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
  TsChunkCol *aCol = 0;
  TsRun pend;
  sqlite3_int64 *aC = 0;   /* chunk headers: id, tmin, tmax, nrow per chunk */
  int nC = 0, nCAlloc = 0;
  int rc = SQLITE_OK, i, j;
  int bLastMerged = 0;     /* rows were merged into the last chunk of aC */
  const int *aOrd;
  sqlite3_int64 tLo, tHi;
  if( pP==0 || pP->nRow==0 ) return SQLITE_OK;
  aOrd = pP->aOrder;
  aCol = sqlite3_malloc64(sizeof(TsChunkCol)*(size_t)(p->s.nMeas+1));
  if( aCol==0 ) return SQLITE_NOMEM;
  pendView(p, pP, &pend, aCol);
  tLo = pP->aTime[aOrd[0]];
  tHi = pP->aTime[aOrd[pP->nRow-1]];
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
      sqlite3_int64 t = pP->aTime[aOrd[i]];
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
      rc = chunkMerge(p, pS, aC[tgt0*4], &pend, aOrd, i0, i);
      if( tgt0==nC-1 ) bLastMerged = 1;
    }else if( tgt0==-(nC+1) && pS->bChunks && aOrd && pend.aTime[aOrd[i0]]>pS->tMax
           && (bLastMerged || aC[(nC-1)*4+3]<TS_CHUNK_SMALL) ){
      /* the last chunk is small (or was just rewritten): the tail rule */
      rc = tailAppend(p, pS, pP, &pend, i0, i);
    }else{
      rc = pendWrite(p, pS, pP, &pend, i0, i);
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
  sqlite3_free(aCol);
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
void tsWritePendDiscardAll(TsTable *p){
  while( p->pPendFirst ){
    TsSeries *pS = p->pPendFirst;
    p->pPendFirst = pS->pPendNext;
    pS->pPendNext = 0;
    pS->bPendList = 0;
    pendReset(p, pS->pPend);
    tsTabSeriesUnref(p, pS);
  }
  p->nPendBytes = 0;
  p->bWlogKnown = 0;   /* a rolled-back CREATE or DROP of the write log restores an older schema cookie */
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

/* Refuse a NUL byte inside a series-key value (a dimension or
** measure_name, zWhat names it): the series catalogue would keep every byte
** but scans return the value as a C string cut at the NUL, so two series
** would look identical.  VARCHAR measures are stored and returned
** byte-exact and need no such check. */
static int keyValueNulCheck(TsTable *p, const char *zWhat, const char *zCol,
                            const char *z, int n){
  const char *zNul = n>0 ? memchr(z, 0, (size_t)n) : 0;
  if( zNul==0 ) return SQLITE_OK;
  tsTabErr(p, "timeseries %s: %s%s: value contains a NUL byte at offset %d (not supported)",
           p->zName, zWhat, zCol, (int)(zNul - z));
  return SQLITE_MISMATCH;
}

/* The checks of a converted dimension value (n bytes) and of a given
** measure_name, shared by xUpdate and the bulk path (writeRec). */
static int dimValueCheck(TsTable *p, int iDim, const char *z, int n){
  if( n>TS_MAX_VALUE_BYTES ){
    tsTabErr(p, "timeseries %s: dimension %s: value is %d bytes, the limit is %d",
             p->zName, p->s.azDim[iDim], n, TS_MAX_VALUE_BYTES);
    return SQLITE_TOOBIG;
  }
  return keyValueNulCheck(p, "dimension ", p->s.azDim[iDim], z, n);
}
static int mnameValueCheck(TsTable *p, const char *z, int n){
  if( n==0 || n>TS_MAX_MNAME_BYTES ){
    tsTabErr(p, "timeseries %s: measure_name must be 1 to %d bytes, got %d bytes",
             p->zName, TS_MAX_MNAME_BYTES, n);
    return SQLITE_TOOBIG;
  }
  return keyValueNulCheck(p, "measure_name", "", z, n);
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

static int writeStaged(TsTable *p, sqlite3_int64 t, sqlite3_int64 iVersion,
                       const char *const *azDim, const int *anDim, const char *zMName,
                       int nMName, int eConflict, TsSeries *pKnown);

/* Does the encoded key pKey (tsTabKeyEncode's format: per dimension a 0
** byte for NULL or 1, varint length, bytes; then varint length and bytes
** of the measure name) hold exactly these values? */
static int keyEquals(const TsBuf *pKey, int nDim, const char *const *azDim, const int *anDim,
                     const char *zMName, int nMName){
  const unsigned char *a = pKey->a, *aEnd = pKey->a + pKey->n;
  int i;
  for(i=0; i<=nDim; i++){
    const char *z = i<nDim ? azDim[i] : zMName;
    uint64_t n = 0;
    int sh = 0;
    if( i<nDim ){
      if( a>=aEnd || *a!=(z ? 1 : 0) ) return 0;
      a++;
      if( z==0 ) continue;
    }
    do{
      if( a>=aEnd || sh>28 ) return 0;
      n |= (uint64_t)(*a & 0x7f) << sh;
      sh += 7;
    }while( *a++ & 0x80 );
    if( n!=(uint64_t)(i<nDim ? anDim[i] : nMName) || (uint64_t)(aEnd - a)<n ) return 0;
    if( n>0 && memcmp(a, z, (size_t)n)!=0 ) return 0;
    a += n;
  }
  return a==aEnd;
}

/*
** The series of a row when the series cache is current for this
** transaction (bTxnChecked) and already holds the row's key; NULL otherwise
** (then the caller checks the values and writeStaged finds or makes the
** series).  A known series' key passed dimValueCheck and mnameValueCheck
** when the series was made, so a row with the same key needs neither: the
** per-value checks (a NUL scan per dimension) run once per new series, not
** once per row.  Values over the limits never match (no series holds
** them), so their errors are unchanged.  Sets p->key; SQLITE_NOMEM in *pRc.
*/
static TsSeries *knownSeries(TsTable *p, const char *const *azDim, const int *anDim,
                             const char *zMName, int nMName, int *pRc){
  int i;
  if( !p->bTxnChecked || nMName<1 || nMName>TS_MAX_MNAME_BYTES ) return 0;
  for(i=0; i<p->s.nDim; i++) if( azDim[i] && anDim[i]>TS_MAX_VALUE_BYTES ) return 0;
  /* A run of rows of one series (a file sorted by series) reuses the
  ** previous row's key and hash; other rows usually differ in the first
  ** dimension, where keyEquals stops. */
  if( !p->bKeyHash || !keyEquals(&p->key, p->s.nDim, azDim, anDim, zMName, nMName) ){
    tsTabKeyEncode(&p->key, p->s.nDim, azDim, anDim, zMName, nMName);
    p->bKeyHash = 0;
    if( p->key.bErr ){ *pRc = SQLITE_NOMEM; return 0; }
    p->hKey = tsTabKeyHash(p->key.a, (int)p->key.n);
    p->bKeyHash = 1;
  }
  return tsTabSeriesFind(p, p->key.a, (int)p->key.n, p->hKey);
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
  TsSeries *pKnown = 0;   /* the row's series when knownSeries finds it */

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

  /* dimensions and measure_name: converted first; their value checks run
  ** in column order, before the first conversion error, unless the key is
  ** a known series' (knownSeries) */
  {
    int iBad = -1;          /* first column that failed to convert (nDim: measure_name) */
    int rcBad = SQLITE_OK;
    sqlite3_value *vM = aCol[tsTabColMName(p)];
    int bMNameGiven = sqlite3_value_type(vM)!=SQLITE_NULL;
    for(i=0; i<p->s.nDim; i++){
      sqlite3_value *v = aCol[1+i];
      int rcT;
      azDim[i] = 0;
      anDim[i] = 0;
      if( sqlite3_value_type(v)==SQLITE_NULL ) continue;
      rcT = tsTabTextOf(v, &apDup[nDup], &azDim[i], &anDim[i]);
      if( apDup[nDup] ) nDup++;
      if( rcT ){ iBad = i; rcBad = rcT; break; }
    }
    if( iBad<0 ){
      if( !bMNameGiven ){
        zMName = p->s.zMeasureName;
        nMName = (int)strlen(zMName);
      }else{
        int rcT = tsTabTextOf(vM, &apDup[nDup], &zMName, &nMName);
        if( apDup[nDup] ) nDup++;
        if( rcT ){ iBad = p->s.nDim; rcBad = rcT; }
      }
    }
    if( iBad<0 ) pKnown = knownSeries(p, azDim, anDim, zMName, nMName, &rc);
    if( rc==SQLITE_OK && pKnown==0 ){
      int nCheck = iBad<0 ? p->s.nDim : (iBad<p->s.nDim ? iBad : p->s.nDim);
      for(i=0; rc==SQLITE_OK && i<nCheck; i++){
        if( azDim[i] ) rc = dimValueCheck(p, i, azDim[i], anDim[i]);
      }
      if( rc==SQLITE_OK && iBad<0 && bMNameGiven ) rc = mnameValueCheck(p, zMName, nMName);
    }
    if( rc==SQLITE_OK && iBad>=0 ){
      if( rcBad==2 ){
        rc = SQLITE_NOMEM;
      }else if( iBad<p->s.nDim ){
        rc = errValue(p, SQLITE_MISMATCH, p->s.azDim[iBad], "DIMENSION", "TEXT", aCol[1+iBad]);
      }else{
        rc = errValue(p, SQLITE_MISMATCH, "measure_name", "TEXT", "TEXT", vM);
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

  if( rc==SQLITE_OK ) rc = writeStaged(p, t, iVersion, azDim, anDim, zMName, nMName, eConflict, pKnown);

  for(i=0; i<nDup; i++) sqlite3_value_free(apDup[i]);
  for(i=0; i<p->s.nMeas; i++){
    if( apMeasDup[i] ){
      sqlite3_value_free(apMeasDup[i]);
      apMeasDup[i] = 0;
    }
  }
  return rc;
}

/*
** The write rules for a converted row whose measures are staged in
** p->aStNull/aStNum/azStText/anStText: write window, partition key, the
** series, Timestream's duplicate/version rules, the pending buffer (shared
** by xUpdate and tsWriteBatch).  A rejection sets the handle's message.
*/
static int writeStaged(TsTable *p, sqlite3_int64 t, sqlite3_int64 iVersion,
                       const char *const *azDim, const int *anDim, const char *zMName,
                       int nMName, int eConflict, TsSeries *pKnown){
  TsSeries *pS = pKnown;
  int rc = SQLITE_OK;

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

  /* Find the series (unless the caller's knownSeries did) and apply the
  ** duplicate rules. */
  if( rc==SQLITE_OK && pS==0 ){
    if( !p->bTxnChecked ){
      rc = tsTabSeriesRefresh(p);
      if( rc==SQLITE_OK ) p->bTxnChecked = 1;
    }
    if( rc==SQLITE_OK ){
      tsTabKeyEncode(&p->key, p->s.nDim, azDim, anDim, zMName, nMName);
      p->bKeyHash = 0;
      if( p->key.bErr ) rc = SQLITE_NOMEM;
    }
    if( rc==SQLITE_OK ) rc = tsTabSeriesForWrite(p, azDim, anDim, zMName, nMName, &pS);
  }
  if( rc==SQLITE_OK ){
    TsPend *pP = pS->pPend;
    int iPos = 0, bFound = 0, eAct = TS_ACT_STORE;
    int eMark = eConflict==SQLITE_REPLACE ? TS_MARK_REPLACE
              : eConflict==SQLITE_IGNORE ? TS_MARK_IGNORE : TS_MARK_NONE;
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
      eMark = tsRecMarkStore(pP->aMark[iSlot], eMark);
      if( eAct==TS_ACT_STORE ) rc = pendSetSlot(p, pP, iSlot, t, iVersion, eMark, 0);
    }else{
      {
        /* The stored record of the key, in whichever tier holds it. */
        const TsRun *pRun = 0;
        int iRow = -1;
        rc = tsSourceFind(p, pS, t, &pRun, &iRow);
        if( rc==SQLITE_OK && iRow>=0 ){
          iOld = pRun->aVersion ? pRun->aVersion[iRow] : 1;
          eAct = decide(stagedEquals(p, pRun, iRow), iOld, iVersion, eConflict);
          eMark = tsRecMarkStore(pRun->aMark ? pRun->aMark[iRow] : TS_MARK_NONE, eMark);
        }
      }
      if( rc==SQLITE_OK && eAct==TS_ACT_STORE ){
        rc = pendGrow(p, pP);
        if( rc==SQLITE_OK ){
          int iSlot = pP->nRow;
          rc = pendSetSlot(p, pP, iSlot, t, iVersion, eMark, 1);
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
  return rc;
}

int tsWriteUpdate(sqlite3_vtab *pVtab, int argc, sqlite3_value **argv, sqlite3_int64 *pRowid){
  return tsTabVtabRc(pVtab, tsUpdateImpl(pVtab, argc, argv, pRowid));
}

/**************************************************************************
** Bulk writes through the handle (batch load): table.h describes the
** contract.  The values arrive converted, so only their checks remain; the
** rules after conversion are writeStaged's, the same as xUpdate's.
*/

/* Stage measure iMeas from a bulk value, with xUpdate's checks and
** messages. */
static int stageValue(TsTable *p, int iMeas, const TsWriteVal *v){
  int eType = p->s.aMeasType[iMeas];
  const char *zCol = p->s.azMeas[iMeas], *zType;
  p->aStNull[iMeas] = 0;
  p->aStNum[iMeas] = 0;
  if( v->eType==SQLITE_INTEGER && eType==TS_TYPE_BIGINT ){   /* the common case */
    p->aStNum[iMeas] = v->i;
    return SQLITE_OK;
  }
  zType = tsChunkTypeName(eType);
  switch( v->eType ){
    case SQLITE_NULL:
      p->aStNull[iMeas] = 1;
      return SQLITE_OK;
    case SQLITE_INTEGER:
      if( eType==TS_TYPE_BIGINT ){ p->aStNum[iMeas] = v->i; return SQLITE_OK; }
      if( eType==TS_TYPE_DOUBLE ){
        double r = (double)v->i;
        memcpy(&p->aStNum[iMeas], &r, sizeof(r));
        return SQLITE_OK;
      }
      if( eType==TS_TYPE_BOOLEAN && (v->i==0 || v->i==1) ){ p->aStNum[iMeas] = v->i; return SQLITE_OK; }
      if( eType==TS_TYPE_TIMESTAMP && v->i>=0 ){ p->aStNum[iMeas] = v->i; return SQLITE_OK; }
      tsTabErr(p, "timeseries %s: column %s (%s): INTEGER %lld is not a %s value",
               p->zName, zCol, zType, v->i, zType);
      return SQLITE_MISMATCH;
    case SQLITE_FLOAT:
      if( eType==TS_TYPE_DOUBLE ){
        if( !isfinite(v->r) ){
          tsTabErr(p, "timeseries %s: column %s (DOUBLE): NaN and Infinity cannot be "
                    "stored", p->zName, zCol);
          return SQLITE_MISMATCH;
        }
        memcpy(&p->aStNum[iMeas], &v->r, sizeof(v->r));
        return SQLITE_OK;
      }
      tsTabErr(p, "timeseries %s: column %s (%s): REAL %!.15g is not a %s value",
               p->zName, zCol, zType, v->r, zType);
      return SQLITE_MISMATCH;
    case SQLITE_TEXT:
      if( eType==TS_TYPE_VARCHAR ){
        if( v->n>TS_MAX_VALUE_BYTES ){
          tsTabErr(p, "timeseries %s: column %s (VARCHAR): value is %d bytes, the limit "
                    "is %d", p->zName, zCol, v->n, TS_MAX_VALUE_BYTES);
          return SQLITE_TOOBIG;
        }
        p->azStText[iMeas] = v->z;
        p->anStText[iMeas] = v->n;
        return SQLITE_OK;
      }
      tsTabErr(p, "timeseries %s: column %s (%s): expected a %s value, got TEXT",
               p->zName, zCol, zType, zType);
      return SQLITE_MISMATCH;
  }
  tsTabErr(p, "timeseries %s: column %s (%s): unknown value kind %d", p->zName, zCol, zType,
           v->eType);
  return SQLITE_MISMATCH;
}

/* One bulk record: its checks, then writeStaged (conflict clause ABORT). */
static int writeRec(TsTable *p, const TsWriteRec *r){
  const char *zMName = r->zMName;
  int nMName = r->nMName, i, nNonNull = 0, rc;
  TsSeries *pKnown;       /* the record's series when knownSeries finds it */
  if( p->rcFlush ){
    tsTabErr(p, "timeseries %s: an earlier flush of this transaction failed; roll it back",
              p->zName);
    return p->rcFlush;
  }
  rc = SQLITE_OK;
  pKnown = knownSeries(p, r->azDim, r->anDim, zMName ? zMName : p->s.zMeasureName,
                       zMName ? nMName : (int)strlen(p->s.zMeasureName), &rc);
  if( rc ) return rc;
  for(i=0; pKnown==0 && i<p->s.nDim; i++){
    if( r->azDim[i] && (rc = dimValueCheck(p, i, r->azDim[i], r->anDim[i]))!=SQLITE_OK ) return rc;
  }
  if( zMName==0 ){
    zMName = p->s.zMeasureName;
    nMName = (int)strlen(zMName);
  }else if( pKnown==0 && (rc = mnameValueCheck(p, zMName, nMName))!=SQLITE_OK ){
    return rc;
  }
  for(i=0; i<p->s.nMeas; i++){
    rc = stageValue(p, i, &r->aMeas[i]);
    if( rc ) return rc;
    if( !p->aStNull[i] ) nNonNull++;
  }
  if( nNonNull==0 ){
    tsTabErr(p, "timeseries %s: a record needs at least one non-NULL measure", p->zName);
    return SQLITE_CONSTRAINT;
  }
  if( r->iVersion<1 ){
    tsTabErr(p, "timeseries %s: column version: expected an INTEGER >= 1, got INTEGER %lld",
              p->zName, r->iVersion);
    return SQLITE_MISMATCH;
  }
  return writeStaged(p, r->t, r->iVersion, r->azDim, r->anDim, zMName, nMName, SQLITE_ABORT, pKnown);
}

void tsWriteBatchBegin(TsTable *pTab){
  pTab->bTxnChecked = 0;
}

int tsWriteBatch(TsTable *pTab, int nRec, const TsWriteRec *aRec, int *pnDone, char **pzErr){
  int i, rc = SQLITE_OK;
  for(i=0; i<nRec; i++){
    rc = writeRec(pTab, &aRec[i]);
    if( rc ) break;
  }
  *pnDone = i;
  if( rc ){
    sqlite3_free(*pzErr);
    *pzErr = pTab->zErrMsg ? pTab->zErrMsg : sqlite3_mprintf("%s", sqlite3_errstr(rc));
    pTab->zErrMsg = 0;
  }else if( pTab->zErrMsg ){
    sqlite3_free(pTab->zErrMsg);
    pTab->zErrMsg = 0;
  }
  return rc;
}

void tsWriteBatchRollback(TsTable *pTab){
  tsWritePendDiscardAll(pTab);
  tsTabCacheClear(pTab);
  tsMemLookClear(pTab);
  pTab->iFlushGen++;
  pTab->rcFlush = SQLITE_OK;
  pTab->bTxnChecked = 0;
}
