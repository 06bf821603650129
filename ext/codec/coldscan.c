/*
** coldscan.c: pruning and row-group decoding for the cold tier's scan
** (interface and column numbering in coldscan.h; object format in
** docs/internals/cold-format.md).
**
** Pruning happens at three levels, none of which needs an object GET:
**   1. the manifest row (tsColdObjMayMatch, tsColdObjMayHoldSeries): time
**      range, the series filter ('S' element per series, 'D' element per
**      dimension value) and the partition key range pk_min..pk_max;
**   2. row-group statistics in the footer (tsColdRgMayMatch,
**      tsColdRgMayHoldPk): min/max of time and of every constrained column;
**   3. the page index (tsColdRgDecode asks tsPqReaderSelectRows for the
**      pages that may hold the time range and the constrained values, so a
**      narrow query fetches and decodes only those pages).
**
** A decoded row group (TsColdRg) holds the selected rows of the columns the
** query uses.  Rows of an object are sorted by (partition key, series key,
** time), so the rows of one series are one contiguous run; tsColdRgDecode
** finds the runs (a new run starts where any dimension or measure_name
** differs from the row before), encodes each run's series key exactly as
** <t>_series.skey (per dimension 0x00 for NULL or 0x01 varint(len) bytes,
** then varint(len) measure_name) and indexes the runs in a hash table, so
** a scan that decodes a row group once can hand out each series' slice.
** Input is hostile: a series that appears in two runs, or times that do not
** increase inside a run, is reported as corrupt rather than returned in a
** wrong order.
*/
#include "coldscan.h"
#include "bloom.h"
#include "tsbuf.h"
#include "tshash.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bytesCmp(const void *a, int64_t na, const void *b, int64_t nb){
  int64_t n = na<nb ? na : nb;
  int c = n>0 ? memcmp(a, b, (size_t)n) : 0;
  return c ? c : (na<nb ? -1 : na>nb);
}

/* Hash of the 'D' element of (column iCol, value z/n). */
static uint64_t dimHash(int iCol, const char *z, int n){
  unsigned char aBuf[64];
  TsBuf b;
  uint64_t h;
  if( n<=(int)sizeof(aBuf)-12 ){
    size_t k = 0;
    uint64_t v = (uint64_t)iCol;
    aBuf[k++] = TS_BLOOM_TAG_DIM;
    while( v>=0x80 ){ aBuf[k++] = (unsigned char)(v|0x80); v >>= 7; }
    aBuf[k++] = (unsigned char)v;
    if( n>0 ) memcpy(aBuf+k, z, (size_t)n);
    return tsBloomHash(aBuf, k+(size_t)n);
  }
  tsBufInit(&b);
  tsBufAppendByte(&b, TS_BLOOM_TAG_DIM);
  tsBufAppendVarint(&b, (uint64_t)iCol);
  tsBufAppend(&b, z, (size_t)n);
  h = b.bErr ? 0 : tsBloomHash(b.a, b.n);
  if( b.bErr ){ tsBufFree(&b); return 0; }
  tsBufFree(&b);
  return h;
}

static int filterMay(const TsColdObjMeta *pM, uint64_t h){
  if( pM->aFilter==0 || pM->nFilter<=0 ) return 1;
  return tsBloomMayContainHash(pM->aFilter, (size_t)pM->nFilter, h);
}

static int pkInRange(const TsColdObjMeta *pM, const char *z, int n){
  return bytesCmp(z, n, pM->zPkMin, pM->nPkMin)>=0 && bytesCmp(z, n, pM->zPkMax, pM->nPkMax)<=0;
}

int tsColdObjMayMatch(const TsColdQuery *pQ, const TsColdObjMeta *pM){
  int i, j;
  if( pM->tMax<pQ->tLo || pM->tMin>pQ->tHi || pQ->tLo>pQ->tHi ) return 0;
  for(i=0; i<pQ->nSet; i++){
    const TsColdSet *s = &pQ->aSet[i];
    int bPkCol = s->iCol==(pQ->iPartDim>=0 ? pQ->iPartDim : pQ->nDim);
    int bAny = 0;
    for(j=0; j<s->nVal && !bAny; j++){
      if( bPkCol && (!pM->bPk || !pkInRange(pM, s->azVal[j], s->anVal[j])) ) continue;
      if( filterMay(pM, dimHash(s->iCol, s->azVal[j], s->anVal[j])) ) bAny = 1;
    }
    if( !bAny ) return 0;
  }
  return 1;
}

uint64_t tsColdSeriesHash(const unsigned char *aKey, int nKey){
  /* FNV-1a 64 of 'S' || key, without building the element. */
  uint64_t h = 14695981039346656037ULL;
  int i;
  h ^= TS_BLOOM_TAG_SERIES; h *= 1099511628211ULL;
  for(i=0; i<nKey; i++){ h ^= aKey[i]; h *= 1099511628211ULL; }
  return h;
}

int tsColdObjMayHoldSeries(const TsColdObjMeta *pM, uint64_t h,
                           const char *zPk, int nPk, int bPkNull){
  if( !bPkNull ){
    if( !pM->bPk || !pkInRange(pM, zPk, nPk) ) return 0;
  }
  return filterMay(pM, h);
}

/* 1 if string value z/n may be in the column chunk (iRg, iCol). */
static int statsMayHold(TsPqReader *pR, int iRg, int iCol, const char *z, int n){
  TsPqStats s;
  if( tsPqReaderChunkStats(pR, iRg, iCol, &s) ) return 1;
  if( s.bNullCount && s.nValue>0 && s.nNull==s.nValue ) return 0;
  if( !s.bMinMax ) return 1;
  return bytesCmp(z, n, s.min.z, s.min.n)>=0 && bytesCmp(z, n, s.max.z, s.max.n)<=0;
}

int tsColdRgMayMatch(TsPqReader *pR, int iRg, const TsColdQuery *pQ){
  TsPqStats s;
  int i, j;
  if( tsPqReaderChunkStats(pR, iRg, 0, &s)==0 && s.bMinMax ){
    if( s.max.i<pQ->tLo || s.min.i>pQ->tHi ) return 0;
  }
  for(i=0; i<pQ->nSet; i++){
    const TsColdSet *st = &pQ->aSet[i];
    int bAny = 0;
    for(j=0; j<st->nVal && !bAny; j++){
      bAny = statsMayHold(pR, iRg, 1+st->iCol, st->azVal[j], st->anVal[j]);
    }
    if( !bAny ) return 0;
  }
  return 1;
}

int tsColdRgMayHoldPk(TsPqReader *pR, int iRg, int iPkCol,
                      const char *zPk, int nPk, int bPkNull){
  if( bPkNull ) return 1;
  return statsMayHold(pR, iRg, iPkCol, zPk, nPk);
}

int tsColdRgMayHoldSeries(TsPqReader *pR, int iRg, int nDim,
                          const char *const *azDim, const char *zMName){
  int i;
  for(i=0; i<=nDim; i++){
    const char *z = i<nDim ? azDim[i] : zMName;
    if( z==0 ){
      /* An absent dimension: the chunk must have a NULL. */
      TsPqStats s;
      if( tsPqReaderChunkStats(pR, iRg, 1+i, &s)==0 && s.bNullCount && s.nNull==0 ) return 0;
      continue;
    }
    if( !statsMayHold(pR, iRg, 1+i, z, (int)strlen(z)) ) return 0;
  }
  return 1;
}

int64_t tsColdLowerBound(const int64_t *aTime, int64_t iStart, int64_t iEnd, int64_t t){
  int64_t lo = iStart, hi = iEnd;
  while( lo<hi ){
    int64_t mid = lo + (hi-lo)/2;
    if( aTime[mid]<t ) lo = mid+1; else hi = mid;
  }
  return lo;
}

void tsColdRgFree(TsColdRg *p){
  int i;
  if( p==0 ) return;
  for(i=0; i<p->nCol; i++) tsPqColumnDataFree(&p->aCol[i]);
  tsPqRowSelFree(&p->sel);
  free(p->aCol);
  free(p->abHave);
  free(p->aRun);
  free(p->aHash);
  free(p->aKeys);
  free(p);
}

static void errSet(char **pzErr, const char *zFmt, ...){
  va_list ap;
  char *z;
  int n;
  if( pzErr==0 ) return;
  free(*pzErr);
  *pzErr = 0;
  va_start(ap, zFmt);
  n = vsnprintf(0, 0, zFmt, ap);
  va_end(ap);
  if( n<0 ) return;
  z = malloc((size_t)n+1);
  if( z==0 ) return;
  va_start(ap, zFmt);
  vsnprintf(z, (size_t)n+1, zFmt, ap);
  va_end(ap);
  *pzErr = z;
}

/* Bytes of row r of a key column, read whole or as dictionary indices
** (tsPqReaderReadColumnKeys). */
static const unsigned char *keyVal(const TsPqColumnData *d, int64_t r, int64_t *pn){
  int64_t i = d->aIdx ? (int64_t)d->aIdx[r] : r;
  *pn = d->aOff[i+1]-d->aOff[i];
  return d->aData + d->aOff[i];
}

/* Bytes held by a decoded column (the row group cache's budget). */
static size_t colBytes(const TsPqColumnData *d, int64_t nRow){
  if( d->aIdx ) return (size_t)nRow*5 + (size_t)d->aOff[d->nDict] + 8*(size_t)(d->nDict+2);
  return (size_t)nRow*9 + (d->aOff ? (size_t)d->aOff[nRow] + 8 : 0);
}

/* Does row r have the same series as row r-1? (columns 1..nDim+1) */
static int sameSeries(const TsColdRg *p, int nDim, int64_t r){
  int c;
  for(c=1; c<=nDim+1; c++){
    const TsPqColumnData *d = &p->aCol[c];
    int bNa = d->aNull && d->aNull[r-1], bNb = d->aNull && d->aNull[r];
    const unsigned char *a, *b;
    int64_t na, nb;
    if( bNa!=bNb ) return 0;
    if( bNa ) continue;
    if( d->aIdx && d->aIdx[r-1]==d->aIdx[r] ) continue;
    a = keyVal(d, r-1, &na);
    b = keyVal(d, r, &nb);
    if( bytesCmp(a, na, b, nb)!=0 ) return 0;
  }
  return 1;
}

static void keyOfRow(TsBuf *pB, const TsColdRg *p, int nDim, int64_t r){
  int c;
  for(c=1; c<=nDim+1; c++){
    const TsPqColumnData *d = &p->aCol[c];
    int64_t n;
    const unsigned char *a;
    if( c<=nDim ){
      if( d->aNull && d->aNull[r] ){ tsBufAppendByte(pB, 0); continue; }
      tsBufAppendByte(pB, 1);
    }
    a = keyVal(d, r, &n);
    tsBufAppendVarint(pB, (uint64_t)n);
    tsBufAppend(pB, a, (size_t)n);
  }
}

static unsigned runHash(const unsigned char *a, int n){
  uint64_t h = tsBloomHash(a, (size_t)n);
  return (unsigned)(h ^ (h>>32));
}

const TsColdRun *tsColdRgFind(const TsColdRg *p, const unsigned char *aKey, int nKey){
  int i;
  if( p->nHash==0 ) return 0;
  for(i=p->aHash[runHash(aKey, nKey) & (unsigned)(p->nHash-1)]; i>=0; i=p->aRun[i].iNext){
    const TsColdRun *r = &p->aRun[i];
    if( r->nKey==nKey && memcmp(r->aKey, aKey, (size_t)nKey)==0 ) return r;
  }
  return 0;
}

/* Decode column iCol of the row group's selection; bKeys: a dimension or
** measure_name column, read as dictionary indices where possible (only the
** series split reads it). */
static int rgColumn(TsPqReader *pR, TsColdRg *p, int iCol, int bKeys, char **pzErr){
  int rc;
  if( iCol<0 || iCol>=p->nCol ){
    errSet(pzErr, "column %d out of range", iCol);
    return TS_PQ_MISUSE;
  }
  if( p->abHave[iCol] ) return TS_PQ_OK;
  rc = bKeys ? tsPqReaderReadColumnKeys(pR, p->iRg, iCol, &p->sel, &p->aCol[iCol])
             : tsPqReaderReadColumn(pR, p->iRg, iCol, &p->sel, &p->aCol[iCol]);
  if( rc!=TS_PQ_OK ){
    errSet(pzErr, "%s", tsPqReaderErrmsg(pR));
    return rc;
  }
  if( p->aCol[iCol].nRow!=p->nRow ){
    errSet(pzErr, "row group %d: column %d has %lld rows, expected %lld", p->iRg, iCol,
           (long long)p->aCol[iCol].nRow, (long long)p->nRow);
    tsPqColumnDataFree(&p->aCol[iCol]);
    return TS_PQ_CORRUPT;
  }
  p->abHave[iCol] = 1;
  p->nByte += colBytes(&p->aCol[iCol], p->nRow);
  return TS_PQ_OK;
}

int tsColdRgColumn(TsPqReader *pR, TsColdRg *p, int iCol, char **pzErr){
  return rgColumn(pR, p, iCol, 0, pzErr);
}

int tsColdRgSelToRows(const TsColdRg *p, const int64_t *aRg, int nRg, int64_t **paOut,
                      int *pnOut){
  int64_t *aOut, kRow = 0;
  int i = 0, j = 0, n = 0;
  *paOut = 0; *pnOut = 0;
  aOut = malloc(sizeof(int64_t)*2*(size_t)(p->sel.nRange+nRg+1));
  if( aOut==0 ) return TS_PQ_NOMEM;
  /* interval i of the selection starts at decoded row kRow */
  while( i<p->sel.nRange && j<nRg ){
    int64_t s0 = p->sel.aRange[2*i], e0 = p->sel.aRange[2*i+1];
    int64_t a = s0>aRg[2*j] ? s0 : aRg[2*j], b = e0<aRg[2*j+1] ? e0 : aRg[2*j+1];
    if( a<b ){
      int64_t x = kRow+(a-s0), y = kRow+(b-s0);
      if( n>0 && aOut[2*n-1]==x ) aOut[2*n-1] = y;
      else{ aOut[2*n] = x; aOut[2*n+1] = y; n++; }
    }
    if( e0<=aRg[2*j+1] ){ kRow += e0-s0; i++; }else j++;
  }
  *paOut = aOut; *pnOut = n;
  return TS_PQ_OK;
}

int tsColdRgColumnPart(TsPqReader *pR, TsColdRg *p, int iCol, const int64_t *aKeep, int nKeep,
                       char **pzErr){
  TsPqRowSel sub;
  TsPqColumnData part, full;
  int64_t kRow = 0, nKept = 0, q;
  int i = 0, j, rc, bDbl, bInt;
  if( iCol<0 || iCol>=p->nCol ){
    errSet(pzErr, "column %d out of range", iCol);
    return TS_PQ_MISUSE;
  }
  if( p->abHave[iCol] ) return TS_PQ_OK;
  memset(&sub, 0, sizeof(sub));
  memset(&part, 0, sizeof(part));
  memset(&full, 0, sizeof(full));
  /* decoded rows [a, b) back to row-group rows through the selection */
  sub.aRange = malloc(sizeof(int64_t)*2*(size_t)(p->sel.nRange+nKeep+1));
  if( sub.aRange==0 ){ errSet(pzErr, "out of memory"); return TS_PQ_NOMEM; }
  for(j=0; j<nKeep; j++){
    int64_t a = aKeep[2*j], b = aKeep[2*j+1];
    while( i<p->sel.nRange && a<b ){
      int64_t s0 = p->sel.aRange[2*i], n0 = p->sel.aRange[2*i+1]-s0;
      if( a>=kRow+n0 ){ kRow += n0; i++; continue; }
      {
        int64_t rs = s0+(a-kRow), re = s0+((b<kRow+n0 ? b : kRow+n0)-kRow);
        if( sub.nRange>0 && sub.aRange[2*sub.nRange-1]==rs ) sub.aRange[2*sub.nRange-1] = re;
        else{ sub.aRange[2*sub.nRange] = rs; sub.aRange[2*sub.nRange+1] = re; sub.nRange++; }
        sub.nRow += re-rs;
        a = kRow+(re-s0);
      }
    }
  }
  nKept = sub.nRow;
  rc = sub.nRow>0 ? tsPqReaderReadColumn(pR, p->iRg, iCol, &sub, &part) : TS_PQ_OK;
  tsPqRowSelFree(&sub);
  if( rc!=TS_PQ_OK ){
    errSet(pzErr, "%s", tsPqReaderErrmsg(pR));
    return rc;
  }
  if( part.aOff || part.aIdx || part.nRow!=nKept || (nKept>0 && !part.aDbl && !part.aInt) ){
    /* not a fixed-width column, or the pages disagree: decode it whole */
    int64_t nGot = part.nRow;
    tsPqColumnDataFree(&part);
    if( nGot!=nKept ){
      errSet(pzErr, "row group %d: column %d has %lld rows, expected %lld", p->iRg, iCol,
             (long long)nGot, (long long)nKept);
      return TS_PQ_CORRUPT;
    }
    return rgColumn(pR, p, iCol, 0, pzErr);
  }
  /* no kept row: the kind is unknown, so both arrays (all NULL) */
  bDbl = part.aDbl!=0 || nKept==0;
  bInt = part.aInt!=0 || nKept==0;
  full.nRow = p->nRow;
  full.aNull = malloc((size_t)p->nRow+1);
  if( bDbl ) full.aDbl = calloc((size_t)p->nRow+1, sizeof(double));
  if( bInt ) full.aInt = calloc((size_t)p->nRow+1, sizeof(int64_t));
  if( full.aNull==0 || (bDbl && full.aDbl==0) || (bInt && full.aInt==0) ){
    tsPqColumnDataFree(&part);
    tsPqColumnDataFree(&full);
    errSet(pzErr, "out of memory");
    return TS_PQ_NOMEM;
  }
  memset(full.aNull, 1, (size_t)p->nRow+1);
  for(j=0, q=0; j<nKeep; j++){
    int64_t a = aKeep[2*j], n = aKeep[2*j+1]-a;
    if( part.aNull ) memcpy(full.aNull+a, part.aNull+q, (size_t)n);
    else memset(full.aNull+a, 0, (size_t)n);
    if( part.aDbl ) memcpy(full.aDbl+a, part.aDbl+q, sizeof(double)*(size_t)n);
    if( part.aInt ) memcpy(full.aInt+a, part.aInt+q, sizeof(int64_t)*(size_t)n);
    q += n;
  }
  tsPqColumnDataFree(&part);
  p->aCol[iCol] = full;
  p->abHave[iCol] = 1;
  p->nByte += colBytes(&full, p->nRow);
  return TS_PQ_OK;
}

int tsColdSeriesRanges(int nDim, const char *const *azDim, const char *zMName,
                       int64_t tLo, int64_t tHi, TsPqRange *aRange){
  int n = 0, i;
  memset(aRange, 0, sizeof(TsPqRange)*(size_t)(nDim+2));
  aRange[0].iCol = 0;
  aRange[0].bMin = tLo>INT64_MIN; aRange[0].min.i = tLo;
  aRange[0].bMax = tHi<INT64_MAX; aRange[0].max.i = tHi;
  if( aRange[0].bMin || aRange[0].bMax ) n++;
  for(i=0; i<=nDim; i++){
    const char *z = i<nDim ? azDim[i] : zMName;
    if( z==0 ) continue;
    aRange[n].iCol = 1+i;
    aRange[n].bMin = aRange[n].bMax = aRange[n].bNotNull = 1;
    aRange[n].min.z = z;
    aRange[n].min.n = (int64_t)strlen(z);
    aRange[n].max = aRange[n].min;
    n++;
  }
  return n;
}

int tsColdRgDecode(TsPqReader *pR, int iRg, int nDim, int nCol,
                   int64_t tLo, int64_t tHi, TsColdRg **ppRg, char **pzErr){
  TsPqRange range;
  memset(&range, 0, sizeof(range));
  range.iCol = 0;
  range.bMin = tLo>INT64_MIN; range.min.i = tLo;
  range.bMax = tHi<INT64_MAX; range.max.i = tHi;
  return tsColdRgDecodeSel(pR, iRg, nDim, nCol, &range, (range.bMin || range.bMax) ? 1 : 0,
                           -1, ppRg, pzErr);
}

int tsColdRgDecodeSel(TsPqReader *pR, int iRg, int nDim, int nCol,
                      const TsPqRange *aRange, int nRange, int64_t nMaxRow,
                      TsColdRg **ppRg, char **pzErr){
  TsColdRg *p = 0;
  int i, rc = TS_PQ_OK, nAllocRun = 0;
  int64_t r;
  TsBuf keys;
  tsBufInit(&keys);
  *ppRg = 0;
  if( nCol<nDim+3 || nCol!=tsPqReaderColumnCount(pR) ){
    errSet(pzErr, "has %d columns, the table %d", tsPqReaderColumnCount(pR), nCol);
    return TS_PQ_CORRUPT;
  }
  if( iRg<0 || iRg>=tsPqReaderRowGroupCount(pR) ){
    errSet(pzErr, "row group %d out of range", iRg);
    return TS_PQ_MISUSE;
  }
  p = calloc(1, sizeof(TsColdRg));
  if( p ) p->aCol = calloc((size_t)nCol, sizeof(TsPqColumnData));
  if( p ) p->abHave = calloc((size_t)nCol, 1);
  if( p==0 || p->aCol==0 || p->abHave==0 ){
    tsColdRgFree(p);
    errSet(pzErr, "out of memory");
    return TS_PQ_NOMEM;
  }
  p->nCol = nCol;
  p->iRg = iRg;
  rc = tsPqReaderSelectRows(pR, iRg, aRange, nRange, &p->sel);
  if( rc!=TS_PQ_OK ) errSet(pzErr, "%s", tsPqReaderErrmsg(pR));
  if( rc==TS_PQ_OK && nMaxRow>=0 && p->sel.nRow>nMaxRow ){
    tsColdRgFree(p);
    return TS_PQ_OK;
  }
  p->nRow = p->sel.nRow;
  for(i=0; rc==TS_PQ_OK && i<=nDim+1; i++){
    rc = rgColumn(pR, p, i, i>0, pzErr);
  }
  if( rc==TS_PQ_OK ){
    const TsPqColumnData *t = &p->aCol[0];
    for(i=1; i<=nDim+1 && rc==TS_PQ_OK; i++){
      if( p->aCol[i].aOff==0 && p->nRow>0 ){
        errSet(pzErr, "row group %d: column %d is not a string column", iRg, i);
        rc = TS_PQ_CORRUPT;
      }
    }
    if( rc==TS_PQ_OK && p->nRow>0 && t->aInt==0 ){
      errSet(pzErr, "row group %d: the time column is not an integer column", iRg);
      rc = TS_PQ_CORRUPT;
    }
    if( rc==TS_PQ_OK && p->aCol[nDim+1].aNull ){
      for(r=0; r<p->nRow && rc==TS_PQ_OK; r++){
        if( p->aCol[nDim+1].aNull[r] ){
          errSet(pzErr, "row group %d: NULL measure_name", iRg);
          rc = TS_PQ_CORRUPT;
        }
      }
    }
    /* Split into runs of one series. */
    for(r=0; rc==TS_PQ_OK && r<p->nRow; r++){
      if( r>0 && sameSeries(p, nDim, r) ){
        if( t->aInt[r]<=t->aInt[r-1] ){
          errSet(pzErr, "row group %d: times do not increase within a series at row %lld",
                 iRg, (long long)r);
          rc = TS_PQ_CORRUPT;
        }
        continue;
      }
      if( p->nRun==nAllocRun ){
        int nNew = nAllocRun ? 2*nAllocRun : 16;
        TsColdRun *a = realloc(p->aRun, sizeof(TsColdRun)*(size_t)nNew);
        if( a==0 ){ rc = TS_PQ_NOMEM; errSet(pzErr, "out of memory"); break; }
        p->aRun = a; nAllocRun = nNew;
      }
      if( p->nRun>0 ) p->aRun[p->nRun-1].iEnd = r;
      p->aRun[p->nRun].iStart = r;
      p->aRun[p->nRun].iEnd = p->nRow;
      p->aRun[p->nRun].aKey = 0;
      p->aRun[p->nRun].iNext = (int)keys.n;    /* key offset until the hash is built */
      keyOfRow(&keys, p, nDim, r);
      p->aRun[p->nRun].nKey = (int)(keys.n - (size_t)p->aRun[p->nRun].iNext);
      p->nRun++;
    }
    if( rc==TS_PQ_OK && keys.bErr ){ rc = TS_PQ_NOMEM; errSet(pzErr, "out of memory"); }
  }
  if( rc==TS_PQ_OK && p->nRun>0 ){
    int nHash = 16;
    while( nHash<2*p->nRun ) nHash *= 2;
    p->aHash = malloc(sizeof(int)*(size_t)nHash);
    if( p->aHash==0 ){ rc = TS_PQ_NOMEM; errSet(pzErr, "out of memory"); }
    else{
      size_t nK;
      p->nHash = nHash;
      for(i=0; i<nHash; i++) p->aHash[i] = -1;
      p->aKeys = tsBufDetach(&keys, &nK);
      p->nByte += nK + sizeof(TsColdRun)*(size_t)p->nRun + sizeof(int)*(size_t)nHash;
      for(i=0; i<p->nRun && rc==TS_PQ_OK; i++){
        TsColdRun *run = &p->aRun[i];
        unsigned h;
        run->aKey = p->aKeys + run->iNext;
        run->iNext = -1;
        if( tsColdRgFind(p, run->aKey, run->nKey) ){
          errSet(pzErr, "row group %d: a series appears in two runs (rows not sorted by series)", iRg);
          rc = TS_PQ_CORRUPT;
          break;
        }
        h = runHash(run->aKey, run->nKey) & (unsigned)(nHash-1);
        run->iNext = p->aHash[h];
        p->aHash[h] = i;
      }
    }
  }
  tsBufFree(&keys);
  if( rc!=TS_PQ_OK ){
    tsColdRgFree(p);
    return rc;
  }
  /* The runs carry the series now: release the key columns. */
  for(i=1; i<=nDim+1; i++){
    size_t nData = colBytes(&p->aCol[i], p->nRow);
    tsPqColumnDataFree(&p->aCol[i]);
    p->abHave[i] = 0;
    p->nByte -= nData;
  }
  *ppRg = p;
  return TS_PQ_OK;
}

/* Build the run hash of p (runs set, keys in p->aKeys at offsets held in
** iNext); a key twice is reported as corrupt. */
static int rgHashRuns(TsColdRg *p, char **pzErr){
  int nHash = 16, i;
  if( p->nRun==0 ) return TS_PQ_OK;
  while( nHash<2*p->nRun ) nHash *= 2;
  p->aHash = malloc(sizeof(int)*(size_t)nHash);
  if( p->aHash==0 ){ errSet(pzErr, "out of memory"); return TS_PQ_NOMEM; }
  p->nHash = nHash;
  for(i=0; i<nHash; i++) p->aHash[i] = -1;
  p->nByte += sizeof(TsColdRun)*(size_t)p->nRun + sizeof(int)*(size_t)nHash;
  for(i=0; i<p->nRun; i++){
    TsColdRun *run = &p->aRun[i];
    unsigned h;
    run->aKey = p->aKeys + run->iNext;
    run->iNext = -1;
    if( tsColdRgFind(p, run->aKey, run->nKey) ){
      errSet(pzErr, "row group %d: a series appears in two runs (rows not sorted by series)", p->iRg);
      return TS_PQ_CORRUPT;
    }
    h = runHash(run->aKey, run->nKey) & (unsigned)(nHash-1);
    run->iNext = p->aHash[h];
    p->aHash[h] = i;
  }
  return TS_PQ_OK;
}

/* Keep only the rows of p's runs whose time lies in [tLo, tHi] (time is
** decoded, nothing else yet): a run's times increase, so two binary searches
** give its rows; the selection, the time array and the runs are narrowed to
** them (runs left empty are dropped), so every column decoded later reads
** only the rows a scan of that range returns. */
static int rgClipTime(TsColdRg *p, int64_t tLo, int64_t tHi, char **pzErr){
  int64_t *aT = p->aCol[0].aInt, pos = 0, iSelRow = 0;
  int64_t *aNew;
  int i, n = 0, j = 0, nNew = 0;
  if( p->nRow==0 ) return TS_PQ_OK;
  aNew = malloc(sizeof(int64_t)*2*(size_t)(p->sel.nRange+p->nRun+1));
  if( aNew==0 ){ errSet(pzErr, "out of memory"); return TS_PQ_NOMEM; }
  for(i=0; i<p->nRun; i++){
    TsColdRun *run = &p->aRun[i];
    int64_t a = tsColdLowerBound(aT, run->iStart, run->iEnd, tLo);
    int64_t b = tHi==INT64_MAX ? run->iEnd : tsColdLowerBound(aT, a, run->iEnd, tHi+1);
    int64_t first = pos;
    if( a>=b ) continue;
    memmove(aT+pos, aT+a, sizeof(int64_t)*(size_t)(b-a));
    if( p->aCol[0].aNull ) memmove(p->aCol[0].aNull+pos, p->aCol[0].aNull+a, (size_t)(b-a));
    /* selection rows [a, b) back to row-group rows: walk the intervals
    ** (iSelRow = selection row of interval j's start; both only advance) */
    while( j<p->sel.nRange && iSelRow+(p->sel.aRange[2*j+1]-p->sel.aRange[2*j])<=a ){
      iSelRow += p->sel.aRange[2*j+1]-p->sel.aRange[2*j];
      j++;
    }
    {
      int k = j;
      int64_t kRow = iSelRow;
      while( k<p->sel.nRange && kRow<b ){
        int64_t s0 = p->sel.aRange[2*k], e0 = p->sel.aRange[2*k+1];
        int64_t lo = a>kRow ? a : kRow, hi = b<kRow+(e0-s0) ? b : kRow+(e0-s0);
        if( lo<hi ){
          int64_t rs = s0+(lo-kRow), re = s0+(hi-kRow);
          if( nNew>0 && aNew[2*nNew-1]==rs ) aNew[2*nNew-1] = re;
          else{ aNew[2*nNew] = rs; aNew[2*nNew+1] = re; nNew++; }
        }
        kRow += e0-s0;
        k++;
      }
    }
    pos += b-a;
    p->aRun[n] = *run;
    p->aRun[n].iStart = first;
    p->aRun[n].iEnd = pos;
    n++;
  }
  free(p->sel.aRange);
  p->sel.aRange = aNew;
  p->sel.nRange = nNew;
  p->sel.nRow = pos;
  p->nRow = pos;
  p->aCol[0].nRow = pos;
  p->nRun = n;
  return TS_PQ_OK;
}

int tsColdRgDecodeRuns(TsPqReader *pR, int iRg, int nCol,
                       const TsPqRange *aRange, int nRange, int64_t iLo, int64_t iHi,
                       const TsColdRunSpec *aSpec, int nSpec,
                       TsColdRg **ppRg, char **pzErr){
  TsColdRg *p = 0;
  TsPqRowSel full;
  int rc = TS_PQ_OK, i, j, k, n = 0;
  int64_t nRgRow, pos = 0;
  TsBuf keys;
  *ppRg = 0;
  memset(&full, 0, sizeof(full));
  tsBufInit(&keys);
  /* The file may have one optional last column (write marks) past the
  ** table's: the decode holds every column of the file. */
  if( nCol<3 || nCol>tsPqReaderColumnCount(pR) || tsPqReaderColumnCount(pR)>nCol+1 ){
    errSet(pzErr, "has %d columns, the table %d", tsPqReaderColumnCount(pR), nCol);
    return TS_PQ_CORRUPT;
  }
  nCol = tsPqReaderColumnCount(pR);
  if( iRg<0 || iRg>=tsPqReaderRowGroupCount(pR) ){
    errSet(pzErr, "row group %d out of range", iRg);
    return TS_PQ_MISUSE;
  }
  nRgRow = tsPqReaderRowGroupRows(pR, iRg);
  if( iLo<0 ) iLo = 0;
  if( iHi>nRgRow ) iHi = nRgRow;
  for(i=0; i<nSpec; i++){
    if( aSpec[i].iStart<0 || aSpec[i].iEnd>nRgRow || aSpec[i].iStart>aSpec[i].iEnd
     || (i>0 && aSpec[i].iStart<aSpec[i-1].iEnd) ){
      errSet(pzErr, "row group %d: series_runs do not match its %lld rows", iRg, (long long)nRgRow);
      return TS_PQ_CORRUPT;
    }
  }
  p = calloc(1, sizeof(TsColdRg));
  if( p ) p->aCol = calloc((size_t)nCol, sizeof(TsPqColumnData));
  if( p ) p->abHave = calloc((size_t)nCol, 1);
  if( p ) p->aRun = malloc(sizeof(TsColdRun)*(size_t)(nSpec ? nSpec : 1));
  if( p==0 || p->aCol==0 || p->abHave==0 || p->aRun==0 ){
    tsColdRgFree(p);
    errSet(pzErr, "out of memory");
    return TS_PQ_NOMEM;
  }
  p->nCol = nCol;
  p->iRg = iRg;
  /* The selection: the pages of aRange, inside [iLo, iHi) and the runs. */
  rc = tsPqReaderSelectRows(pR, iRg, aRange, nRange, &full);
  if( rc!=TS_PQ_OK ) errSet(pzErr, "%s", tsPqReaderErrmsg(pR));
  if( rc==TS_PQ_OK ){
    p->sel.aRange = malloc(sizeof(int64_t)*2*(size_t)(full.nRange+nSpec+1));
    if( p->sel.aRange==0 ){ rc = TS_PQ_NOMEM; errSet(pzErr, "out of memory"); }
  }
  /* Runs are disjoint and sorted, so are the selection's intervals: walk
  ** both, keeping each run's piece of the selection (in selection rows). */
  for(i=0, j=0; rc==TS_PQ_OK && i<nSpec; i++){
    int64_t s0 = aSpec[i].iStart>iLo ? aSpec[i].iStart : iLo;
    int64_t e0 = aSpec[i].iEnd<iHi ? aSpec[i].iEnd : iHi;
    int64_t first = pos;
    if( s0>=e0 ) continue;
    while( j<full.nRange && full.aRange[2*j+1]<=s0 ) j++;
    for(k=j; k<full.nRange && full.aRange[2*k]<e0; k++){
      int64_t a = full.aRange[2*k]>s0 ? full.aRange[2*k] : s0;
      int64_t b = full.aRange[2*k+1]<e0 ? full.aRange[2*k+1] : e0;
      if( a>=b ) continue;
      if( p->sel.nRange>0 && p->sel.aRange[2*p->sel.nRange-1]==a ){
        p->sel.aRange[2*p->sel.nRange-1] = b;
      }else{
        p->sel.aRange[2*p->sel.nRange] = a;
        p->sel.aRange[2*p->sel.nRange+1] = b;
        p->sel.nRange++;
      }
      pos += b-a;
    }
    if( pos>first ){
      TsColdRun *run = &p->aRun[n++];
      run->iStart = first;
      run->iEnd = pos;
      run->iNext = (int)keys.n;
      run->nKey = aSpec[i].nKey;
      tsBufAppend(&keys, aSpec[i].aKey, (size_t)aSpec[i].nKey);
    }
  }
  tsPqRowSelFree(&full);
  p->sel.nRow = pos;
  p->nRow = pos;
  p->nRun = n;
  if( rc==TS_PQ_OK && keys.bErr ){ rc = TS_PQ_NOMEM; errSet(pzErr, "out of memory"); }
  if( rc==TS_PQ_OK ) rc = rgColumn(pR, p, 0, 0, pzErr);
  if( rc==TS_PQ_OK && p->nRow>0 && p->aCol[0].aInt==0 ){
    errSet(pzErr, "row group %d: the time column is not an integer column", iRg);
    rc = TS_PQ_CORRUPT;
  }
  for(i=0; rc==TS_PQ_OK && i<n; i++){
    const int64_t *aT = p->aCol[0].aInt;
    int64_t r;
    for(r=p->aRun[i].iStart+1; r<p->aRun[i].iEnd; r++){
      if( aT[r]<=aT[r-1] ){
        errSet(pzErr, "row group %d: times do not increase within a series at row %lld",
               iRg, (long long)r);
        rc = TS_PQ_CORRUPT;
        break;
      }
    }
  }
  if( rc==TS_PQ_OK ){
    int64_t tLo = INT64_MIN, tHi = INT64_MAX;
    for(i=0; i<nRange; i++){
      if( aRange[i].iCol!=0 ) continue;
      if( aRange[i].bMin && aRange[i].min.i>tLo ) tLo = aRange[i].min.i;
      if( aRange[i].bMax && aRange[i].max.i<tHi ) tHi = aRange[i].max.i;
    }
    if( tLo>INT64_MIN || tHi<INT64_MAX ) rc = rgClipTime(p, tLo, tHi, pzErr);
  }
  if( rc==TS_PQ_OK ){
    size_t nK;
    p->aKeys = tsBufDetach(&keys, &nK);
    if( p->aKeys==0 ) p->aKeys = malloc(1);
    if( p->aKeys==0 ){ rc = TS_PQ_NOMEM; errSet(pzErr, "out of memory"); }
    p->nByte += nK;
  }
  if( rc==TS_PQ_OK ) rc = rgHashRuns(p, pzErr);
  tsBufFree(&keys);
  if( rc!=TS_PQ_OK ){
    tsColdRgFree(p);
    return rc;
  }
  *ppRg = p;
  return TS_PQ_OK;
}

void tsColdRunIdxFree(TsColdRunIdx *p){
  if( p==0 ) return;
  free(p->aKey); free(p->anKey); free(p->aStart); free(p->aTMin); free(p->aTMax);
  free(p->aHash); free(p->aNext); free(p->aBlob);
  free(p);
}

int tsColdRunIdxFind(const TsColdRunIdx *p, const unsigned char *aKey, int nKey){
  int i;
  if( p==0 || p->nHash==0 ) return -1;
  for(i=p->aHash[runHash(aKey, nKey) & (unsigned)(p->nHash-1)]; i>=0; i=p->aNext[i]){
    if( p->anKey[i]==nKey && memcmp(p->aKey[i], aKey, (size_t)nKey)==0 ) return i;
  }
  return -1;
}

TsColdRunIdx *tsColdRunIdxParse(const unsigned char *a, int n, int64_t nRow){
  TsColdRunIdx *p;
  TsRd rd;
  int nAlloc = 0, bad = 0, i;
  int64_t iRow = 0;
  if( a==0 || n<1 || a[0]!=1 ) return 0;
  p = calloc(1, sizeof(TsColdRunIdx));
  if( p==0 ) return 0;
  p->aBlob = malloc((size_t)n);
  if( p->aBlob==0 ){ free(p); return 0; }
  memcpy(p->aBlob, a, (size_t)n);
  tsRdInit(&rd, p->aBlob+1, (size_t)n-1);
  while( !bad && rd.i<rd.n ){
    uint64_t nKey = 0, nR = 0, dT = 0;
    int64_t t0 = 0;
    const unsigned char *k;
    if( p->nRun==nAlloc ){
      int nNew = nAlloc ? 2*nAlloc : 64;
      const unsigned char **aK = realloc(p->aKey, sizeof(*aK)*(size_t)nNew);
      int *anK = aK ? realloc(p->anKey, sizeof(int)*(size_t)nNew) : 0;
      int64_t *aS = anK ? realloc(p->aStart, sizeof(int64_t)*(size_t)(nNew+1)) : 0;
      int64_t *aMn = aS ? realloc(p->aTMin, sizeof(int64_t)*(size_t)nNew) : 0;
      int64_t *aMx = aMn ? realloc(p->aTMax, sizeof(int64_t)*(size_t)nNew) : 0;
      if( aK ) p->aKey = aK;
      if( anK ) p->anKey = anK;
      if( aS ) p->aStart = aS;
      if( aMn ) p->aTMin = aMn;
      if( aMx ) p->aTMax = aMx;
      if( !aMx ){ bad = 1; break; }
      nAlloc = nNew;
    }
    if( tsRdVarint(&rd, &nKey) || nKey>(uint64_t)(rd.n-rd.i) ){ bad = 1; break; }
    if( tsRdBytes(&rd, (size_t)nKey, &k) || tsRdVarint(&rd, &nR) || tsRdZigzag(&rd, &t0) || tsRdVarint(&rd, &dT) ){ bad = 1; break; }
    if( nR==0 || nR>(uint64_t)(nRow-iRow) || dT>(uint64_t)INT64_MAX || (int64_t)((uint64_t)t0 + dT)<t0 ){ bad = 1; break; }
    p->aKey[p->nRun] = k;
    p->anKey[p->nRun] = (int)nKey;
    p->aStart[p->nRun] = iRow;
    p->aTMin[p->nRun] = t0;
    p->aTMax[p->nRun] = (int64_t)((uint64_t)t0 + dT);
    iRow += (int64_t)nR;
    p->nRun++;
  }
  if( bad || iRow!=nRow || p->nRun==0 ){ tsColdRunIdxFree(p); return 0; }
  p->aStart[p->nRun] = iRow;
  p->nHash = 16;
  while( p->nHash<2*p->nRun ) p->nHash *= 2;
  p->aHash = malloc(sizeof(int)*(size_t)p->nHash);
  p->aNext = malloc(sizeof(int)*(size_t)p->nRun);
  if( p->aHash==0 || p->aNext==0 ){ tsColdRunIdxFree(p); return 0; }
  for(i=0; i<p->nHash; i++) p->aHash[i] = -1;
  for(i=0; i<p->nRun; i++){
    unsigned h;
    if( tsColdRunIdxFind(p, p->aKey[i], p->anKey[i])>=0 ){ tsColdRunIdxFree(p); return 0; }
    h = runHash(p->aKey[i], p->anKey[i]) & (unsigned)(p->nHash-1);
    p->aNext[i] = p->aHash[h];
    p->aHash[h] = i;
  }
  return p;
}

int tsColdBucket(const void *z, int n){
  return (int)(tsFnv1a32(z, n>0 ? (size_t)n : 0) % TS_COLD_NBUCKET);
}
