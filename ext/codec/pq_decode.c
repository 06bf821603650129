/*
** pq_decode.c: the Parquet reader's page decoding and column reads
** (tsPqReaderReadColumn, tsPqReaderReadColumnKeys; API in parquet.h).  The
** footer, statistics, page index and row selection are in parquet_read.c,
** whose header comment describes the file layout this code walks; the two
** share the reader's state through pq_read_int.h.
**
** A column chunk (or, with a row selection and an OffsetIndex, only its
** dictionary page and the data pages overlapping the selection) is fetched,
** each page's CRC checked when present, decompressed, its definition levels
** and values decoded, and the selected rows emitted into TsPqColumnData.
** Only the span of a page from its first to its last selected row is
** decoded (a page with none is not even decompressed): the span decoders of
** pq_encode.c start mid-page for PLAIN, dictionary indices, RLE booleans,
** DELTA_BINARY_PACKED and BYTE_STREAM_SPLIT (docs/internals/parquet.md
** "Reading").
*/
#include "pq_read_int.h"
#include "tscrc.h"
#include <math.h>
#include <zlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*------------------------------ page decoding ------------------------------*/

/* Decoding state for one column chunk. */
typedef struct PqDec PqDec;
struct PqDec {
  TsPqReader *p;
  PqRCol *c;
  PqRChunk *k;
  int iRg;
  int ePhys, nWidth;          /* physical type; fixed byte width (0 for BYTE_ARRAY) */
  /* dictionary */
  int bDict;
  int64_t nDict;
  int64_t *aDictI; double *aDictR; int64_t *aDictOff; unsigned char *aDictData;
  /* scratch for one page */
  unsigned char *aBuf;        /* decompression: the reader's aPage (not owned) */
  /* output */
  const TsPqRowSel *pSel;
  int iSel;                   /* current selection interval */
  int64_t nOutAlloc, nOut;
  TsPqColumnData *pOut;
  TsBuf outData;              /* string bytes */
  int64_t iRow;               /* next row number (in the row group) */
  int bAnyNull;
  int bKeys;                  /* tsPqReaderReadColumnKeys: dictionary indices out */
};

/* Returned inside the reader when keys mode meets a page that is not
** dictionary-encoded: the column is read again the ordinary way. */
#define PQ_KEYS_FALLBACK (-2)

static int decCorrupt(PqDec *d, const char *zWhy){
  return tsPqrErr(d->p, TS_PQ_CORRUPT, "parquet: column \"%s\", row group %d, row %lld: %s",
              d->c->info.zName, d->iRg, (long long)d->iRow, zWhy);
}

/* Decoded values of one page (non-null values only): values
** [iBase, iBase+n) of the page, the ones its selected rows need. */
typedef struct PqVals PqVals;
struct PqVals {
  int64_t iBase;               /* page value index of element 0 */
  int64_t n;
  int64_t *aI; double *aR;
  int64_t *aOff;               /* n+1 */
  const unsigned char *aData;  /* borrowed or aOwn */
  unsigned char *aOwn;
  uint32_t *aIdx;              /* keys mode: n dictionary indices (aOff unused) */
};
static void valsFree(PqVals *v){ free(v->aI); free(v->aR); free(v->aOff); free(v->aOwn); free(v->aIdx); memset(v, 0, sizeof(*v)); }

static int valsAlloc(PqDec *d, PqVals *v, int64_t n){
  int bStr = d->ePhys==PQ_T_BYTE_ARRAY || d->ePhys==PQ_T_FLBA;
  int bDbl = d->ePhys==PQ_T_FLOAT || d->ePhys==PQ_T_DOUBLE;
  if( n*17 > tsPqReaderAllocLimit ) return tsPqrErr(d->p, TS_PQ_TOOBIG, "parquet: page of %lld values too large", (long long)n);
  v->n = n;
  if( bStr ) v->aOff = malloc(sizeof(int64_t)*(size_t)(n+1));
  else if( bDbl ) v->aR = malloc(sizeof(double)*(size_t)(n ? n : 1));
  else v->aI = malloc(sizeof(int64_t)*(size_t)(n ? n : 1));
  if( (bStr && !v->aOff) || (bDbl && !v->aR) || (!bStr && !bDbl && !v->aI) ){
    return tsPqrErr(d->p, TS_PQ_NOMEM, "out of memory");
  }
  if( bStr ) v->aOff[0] = 0;
  return 0;
}

/* The length of the PLAIN BYTE_ARRAY value at *pOff of a[0..nA), checked
** against the bytes left; *pOff moves past the length prefix.  0 ok. */
static int plainLen(PqDec *d, const unsigned char *a, size_t nA, size_t *pOff, uint32_t *pLen){
  if( 4 > nA-*pOff ) return decCorrupt(d, "PLAIN BYTE_ARRAY length truncated");
  *pLen = (uint32_t)tsPqrLe(a+*pOff, 4);
  *pOff += 4;
  if( *pLen > nA-*pOff ) return decCorrupt(d, "PLAIN BYTE_ARRAY value truncated");
  return 0;
}

/* Decode PLAIN values [iLo, iLo+n) of a[0..nA) (v->iBase = iLo). */
static int decodePlain(PqDec *d, const unsigned char *a, size_t nA, int64_t iLo, int64_t n,
                       PqVals *v){
  int64_t i;
  if( valsAlloc(d, v, n) ) return d->p->rc;
  v->iBase = iLo;
  if( d->ePhys!=PQ_T_BOOLEAN && d->ePhys!=PQ_T_BYTE_ARRAY ){
    /* fixed width: the span starts iLo values in */
    uint64_t w = d->ePhys==PQ_T_INT32 || d->ePhys==PQ_T_FLOAT ? 4 : d->ePhys==PQ_T_INT96 ? 12
               : d->ePhys==PQ_T_FLBA ? (uint64_t)d->nWidth : 8;
    if( w && (uint64_t)iLo > nA/w ) return decCorrupt(d, "PLAIN values truncated");
    a += (size_t)((uint64_t)iLo*w);
    nA -= (size_t)((uint64_t)iLo*w);
  }
  switch( d->ePhys ){
    case PQ_T_BOOLEAN:
      if( (uint64_t)(iLo+n+7)/8 > nA ) return decCorrupt(d, "PLAIN booleans truncated");
      for(i=0; i<n; i++) v->aI[i] = (a[(iLo+i)>>3] >> ((iLo+i)&7)) & 1;
      return 0;
    case PQ_T_INT32:
      if( (uint64_t)n*4 > nA ) return decCorrupt(d, "PLAIN INT32 values truncated");
      for(i=0; i<n; i++){
        uint32_t u = (uint32_t)tsPqrLe(a+4*i, 4);
        v->aI[i] = d->c->bUnsigned ? (int64_t)u : (int64_t)(int32_t)u;
      }
      return 0;
    case PQ_T_INT64:
      if( (uint64_t)n*8 > nA ) return decCorrupt(d, "PLAIN INT64 values truncated");
      for(i=0; i<n; i++) v->aI[i] = tsPqrLe(a+8*i, 8);
      return 0;
    case PQ_T_INT96:
      if( (uint64_t)n*12 > nA ) return decCorrupt(d, "PLAIN INT96 values truncated");
      for(i=0; i<n; i++){
        /* 8 bytes nanoseconds of the day, then the Julian day (2440588 =
        ** 1970-01-01).  Outside int64 ns (Spark's 9999-12-31 "forever") is
        ** an error: a wrapped value would be a wrong date, silently. */
        int64_t nanos = tsPqrLe(a+12*i, 8);
        uint32_t jd = (uint32_t)tsPqrLe(a+12*i+8, 4);
        __int128 x = ((__int128)jd - 2440588)*86400000000000LL + nanos;
        if( x<INT64_MIN || x>INT64_MAX ){
          return tsPqrErr(d->p, TS_PQ_ERROR, "parquet: column \"%s\", row group %d: INT96 timestamp "
                      "(Julian day %u) is outside the int64 nanosecond range (1677-09-21 .. 2262-04-11)",
                      d->c->info.zName, d->iRg, jd);
        }
        v->aI[i] = (int64_t)x;
      }
      return 0;
    case PQ_T_FLOAT:
      if( (uint64_t)n*4 > nA ) return decCorrupt(d, "PLAIN FLOAT values truncated");
      for(i=0; i<n; i++){ float f; uint32_t u = (uint32_t)tsPqrLe(a+4*i, 4); memcpy(&f, &u, 4); v->aR[i] = f; }
      return 0;
    case PQ_T_DOUBLE:
      if( (uint64_t)n*8 > nA ) return decCorrupt(d, "PLAIN DOUBLE values truncated");
      memcpy(v->aR, a, (size_t)n*8);
      return 0;
    case PQ_T_BYTE_ARRAY: {
      size_t off = 0;
      /* the values before the span are stepped over by their lengths */
      for(i=0; i<iLo; i++){
        uint32_t len;
        if( plainLen(d, a, nA, &off, &len) ) return d->p->rc;
        off += len;
      }
      /* copy into one contiguous buffer without length prefixes */
      v->aOwn = malloc(nA-off ? nA-off : 1);
      if( !v->aOwn ) return tsPqrErr(d->p, TS_PQ_NOMEM, "out of memory");
      v->aData = v->aOwn;
      for(i=0; i<n; i++){
        uint32_t len;
        if( plainLen(d, a, nA, &off, &len) ) return d->p->rc;
        memcpy(v->aOwn+v->aOff[i], a+off, len);
        v->aOff[i+1] = v->aOff[i]+len;
        off += len;
      }
      return 0;
    }
    case PQ_T_FLBA: {
      uint64_t w = (uint64_t)d->nWidth;
      if( w==0 || (uint64_t)n*w > nA ) return decCorrupt(d, "PLAIN FIXED_LEN_BYTE_ARRAY values truncated");
      v->aData = a;
      for(i=0; i<n; i++) v->aOff[i+1] = (int64_t)((uint64_t)(i+1)*w);
      return 0;
    }
  }
  return decCorrupt(d, "unsupported physical type");
}

/* The DELTA_BINARY_PACKED integers that open DELTA_LENGTH_BYTE_ARRAY (the
** lengths) and DELTA_BYTE_ARRAY (the prefix lengths) data: at least n of them.
** *paOut (malloc'd, caller frees) gets them all, *pnTotal their count and
** *pnUsed the bytes they took.  zEnc and zWhat name them in messages. */
static int decodeDeltaCounts(PqDec *d, const unsigned char *a, size_t nA, int64_t n,
                             const char *zEnc, const char *zWhat,
                             int64_t **paOut, uint64_t *pnTotal, size_t *pnUsed){
  TsRd rd;
  uint64_t b, m, nTotal;
  int64_t *aOut;
  char zWhy[80];
  *paOut = 0;
  tsRdInit(&rd, a, nA);
  if( tsRdVarint(&rd, &b) || tsRdVarint(&rd, &m) || tsRdVarint(&rd, &nTotal) || (int64_t)nTotal<n
   || nTotal>(uint64_t)tsPqReaderAllocLimit/8 ){
    snprintf(zWhy, sizeof(zWhy), "bad %s header", zEnc);
    return decCorrupt(d, zWhy);
  }
  aOut = malloc(sizeof(int64_t)*(size_t)(nTotal ? nTotal : 1));
  if( !aOut ) return tsPqrErr(d->p, TS_PQ_NOMEM, "out of memory");
  if( tsPqDeltaDecode(a, nA, aOut, (int64_t)nTotal, 1, pnUsed) ){
    free(aOut);
    snprintf(zWhy, sizeof(zWhy), "bad %s %s", zEnc, zWhat);
    return decCorrupt(d, zWhy);
  }
  *paOut = aOut;
  *pnTotal = nTotal;
  return 0;
}

/* DELTA_LENGTH_BYTE_ARRAY: lengths (delta) then concatenated bytes. */
static int decodeDeltaLength(PqDec *d, const unsigned char *a, size_t nA, int64_t n, PqVals *v,
                             size_t *pnUsed){
  int64_t *aLen = 0, i;
  size_t nUsed = 0, off;
  uint64_t nTotal = 0;
  if( valsAlloc(d, v, n) ) return d->p->rc;
  if( decodeDeltaCounts(d, a, nA, n, "DELTA_LENGTH_BYTE_ARRAY", "lengths", &aLen, &nTotal, &nUsed) ){
    return d->p->rc;
  }
  off = nUsed;
  for(i=0; i<n; i++){
    if( aLen[i]<0 || (uint64_t)aLen[i] > nA-off ){ free(aLen); return decCorrupt(d, "DELTA_LENGTH_BYTE_ARRAY data truncated"); }
    v->aOff[i+1] = v->aOff[i]+aLen[i];
    off += (size_t)aLen[i];
  }
  for(i=n; i<(int64_t)nTotal; i++){
    if( aLen[i]<0 || (uint64_t)aLen[i] > nA-off ){ free(aLen); return decCorrupt(d, "DELTA_LENGTH_BYTE_ARRAY data truncated"); }
    off += (size_t)aLen[i];
  }
  v->aData = a+nUsed;
  free(aLen);
  if( pnUsed ) *pnUsed = off;
  return 0;
}

static int decodeDeltaByteArray(PqDec *d, const unsigned char *a, size_t nA, int64_t n, PqVals *v){
  int64_t *aPre = 0, i;
  size_t nUsed = 0;
  uint64_t nTotal = 0;
  PqVals suf;
  TsBuf out;
  memset(&suf, 0, sizeof(suf));
  if( decodeDeltaCounts(d, a, nA, n, "DELTA_BYTE_ARRAY", "prefix lengths", &aPre, &nTotal, &nUsed) ){
    return d->p->rc;
  }
  if( decodeDeltaLength(d, a+nUsed, nA-nUsed, n, &suf, 0) ){ free(aPre); valsFree(&suf); return d->p->rc; }
  if( valsAlloc(d, v, n) ){ free(aPre); valsFree(&suf); return d->p->rc; }
  tsBufInit(&out);
  out.nMax = (size_t)tsPqReaderAllocLimit;
  for(i=0; i<n; i++){
    int64_t nPrev = i>0 ? v->aOff[i]-v->aOff[i-1] : 0;
    if( aPre[i]<0 || aPre[i]>nPrev ){ tsBufFree(&out); free(aPre); valsFree(&suf); return decCorrupt(d, "bad DELTA_BYTE_ARRAY prefix"); }
    if( aPre[i] && tsBufReserve(&out, (size_t)aPre[i])==0 ){
      memmove(out.a+out.n, out.a+v->aOff[i-1], (size_t)aPre[i]);
      out.n += (size_t)aPre[i];
    }
    tsBufAppend(&out, suf.aData+suf.aOff[i], (size_t)(suf.aOff[i+1]-suf.aOff[i]));
    v->aOff[i+1] = (int64_t)out.n;
    if( out.bErr ){ tsBufFree(&out); free(aPre); valsFree(&suf); return tsPqrErr(d->p, TS_PQ_TOOBIG, "parquet: DELTA_BYTE_ARRAY page too large"); }
  }
  v->aOwn = tsBufDetach(&out, 0);
  v->aData = v->aOwn;
  free(aPre);
  valsFree(&suf);
  return 0;
}

/* Decode the page's non-null values [iLo, iLo+n) (the ones its selected
** rows need) from a[0..nA) into v.  The encodings that can start mid-page
** (PLAIN, dictionary indices, DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT, RLE
** booleans) decode only those (v->iBase = iLo); the DELTA byte arrays,
** whose values each depend on the previous one, decode [0, iLo+n). */
static int decodeValues(PqDec *d, int eEnc, const unsigned char *a, size_t nA, int64_t iLo,
                        int64_t n, PqVals *v){
  int64_t i;
  if( d->bKeys && eEnc!=PQ_E_PLAIN_DICTIONARY && eEnc!=PQ_E_RLE_DICTIONARY ) return PQ_KEYS_FALLBACK;
  switch( eEnc ){
    case PQ_E_PLAIN:
      return decodePlain(d, a, nA, iLo, n, v);
    case PQ_E_PLAIN_DICTIONARY: case PQ_E_RLE_DICTIONARY: {
      uint32_t *aIdx;
      int w;
      if( !d->bDict ) return decCorrupt(d, "dictionary-encoded page without a dictionary page");
      if( valsAlloc(d, v, n) ) return d->p->rc;
      v->iBase = iLo;
      if( n==0 ) return 0;
      if( nA<1 || a[0]>32 ) return decCorrupt(d, "bad dictionary index bit width");
      w = a[0];
      aIdx = malloc(sizeof(uint32_t)*(size_t)n);
      if( !aIdx ) return tsPqrErr(d->p, TS_PQ_NOMEM, "out of memory");
      if( tsPqRleDecodeSpan(a+1, nA-1, w, iLo, iLo+n, aIdx, 0) ){ free(aIdx); return decCorrupt(d, "bad dictionary indices"); }
      if( d->bKeys ){
        for(i=0; i<n; i++){
          if( aIdx[i]>=d->nDict ){ free(aIdx); return decCorrupt(d, "dictionary index out of range"); }
        }
        v->aIdx = aIdx;
        return 0;
      }
      if( d->ePhys==PQ_T_BYTE_ARRAY || d->ePhys==PQ_T_FLBA ){
        int64_t nBytes = 0;
        for(i=0; i<n; i++){
          if( aIdx[i]>=d->nDict ){ free(aIdx); return decCorrupt(d, "dictionary index out of range"); }
          nBytes += d->aDictOff[aIdx[i]+1]-d->aDictOff[aIdx[i]];
          if( nBytes>tsPqReaderAllocLimit ){ free(aIdx); return tsPqrErr(d->p, TS_PQ_TOOBIG, "parquet: page of strings too large"); }
        }
        v->aOwn = malloc((size_t)(nBytes ? nBytes : 1));
        if( !v->aOwn ){ free(aIdx); return tsPqrErr(d->p, TS_PQ_NOMEM, "out of memory"); }
        v->aData = v->aOwn;
        for(i=0; i<n; i++){
          int64_t s = d->aDictOff[aIdx[i]], e = d->aDictOff[aIdx[i]+1];
          memcpy(v->aOwn+v->aOff[i], d->aDictData+s, (size_t)(e-s));
          v->aOff[i+1] = v->aOff[i]+(e-s);
        }
      }else{
        for(i=0; i<n; i++){
          if( aIdx[i]>=d->nDict ){ free(aIdx); return decCorrupt(d, "dictionary index out of range"); }
          if( v->aR ) v->aR[i] = d->aDictR[aIdx[i]];
          else v->aI[i] = d->aDictI[aIdx[i]];
        }
      }
      free(aIdx);
      return 0;
    }
    case PQ_E_DELTA_BINARY_PACKED:
      if( d->ePhys!=PQ_T_INT32 && d->ePhys!=PQ_T_INT64 ) return decCorrupt(d, "DELTA_BINARY_PACKED on a non-integer column");
      if( valsAlloc(d, v, n) ) return d->p->rc;
      v->iBase = iLo;
      if( n==0 ) return 0;
      if( tsPqDeltaDecodeSpan(a, nA, v->aI, iLo, iLo+n, d->ePhys==PQ_T_INT32, 0) ) return decCorrupt(d, "bad DELTA_BINARY_PACKED data");
      if( d->ePhys==PQ_T_INT32 && d->c->bUnsigned ) for(i=0; i<n; i++) v->aI[i] = (int64_t)(uint32_t)v->aI[i];
      return 0;
    case PQ_E_DELTA_LENGTH_BYTE_ARRAY:
      if( d->ePhys!=PQ_T_BYTE_ARRAY ) return decCorrupt(d, "DELTA_LENGTH_BYTE_ARRAY on a non-BYTE_ARRAY column");
      return decodeDeltaLength(d, a, nA, iLo+n, v, 0);
    case PQ_E_DELTA_BYTE_ARRAY:
      if( d->ePhys!=PQ_T_BYTE_ARRAY && d->ePhys!=PQ_T_FLBA ) return decCorrupt(d, "DELTA_BYTE_ARRAY on a non-byte-array column");
      return decodeDeltaByteArray(d, a, nA, iLo+n, v);
    case PQ_E_BYTE_STREAM_SPLIT: {
      int k = d->ePhys==PQ_T_INT32 || d->ePhys==PQ_T_FLOAT ? 4 : d->ePhys==PQ_T_FLBA ? d->nWidth : 8;
      unsigned char *t;
      if( d->ePhys==PQ_T_BOOLEAN || d->ePhys==PQ_T_BYTE_ARRAY || d->ePhys==PQ_T_INT96 || k<=0 ){
        return decCorrupt(d, "BYTE_STREAM_SPLIT on an unsupported type");
      }
      if( (uint64_t)(iLo+n)*(uint64_t)k > nA ) return decCorrupt(d, "BYTE_STREAM_SPLIT data truncated");
      if( d->ePhys==PQ_T_DOUBLE ){
        /* straight into the values (little-endian, as PLAIN DOUBLE above) */
        if( valsAlloc(d, v, n) ) return d->p->rc;
        v->iBase = iLo;
        if( n==0 ) return 0;
        if( tsPqBssDecodeSpan(a, nA, iLo, n, 8, (unsigned char*)v->aR) ) return decCorrupt(d, "bad BYTE_STREAM_SPLIT data");
        return 0;
      }
      t = malloc((size_t)n*(size_t)k+1);
      if( !t ) return tsPqrErr(d->p, TS_PQ_NOMEM, "out of memory");
      if( tsPqBssDecodeSpan(a, nA, iLo, n, k, t) ){ free(t); return decCorrupt(d, "bad BYTE_STREAM_SPLIT data"); }
      i = decodePlain(d, t, (size_t)n*(size_t)k, 0, n, v);
      v->iBase = iLo;
      if( d->ePhys==PQ_T_FLBA && i==0 ){ v->aOwn = t; v->aData = t; }
      else free(t);
      return (int)i;
    }
    case PQ_E_RLE: {
      uint32_t *aB;
      uint32_t nLen;
      if( d->ePhys!=PQ_T_BOOLEAN ) return decCorrupt(d, "RLE values on a non-boolean column");
      if( valsAlloc(d, v, n) ) return d->p->rc;
      v->iBase = iLo;
      if( n==0 ) return 0;
      if( nA<4 ) return decCorrupt(d, "RLE booleans truncated");
      nLen = (uint32_t)tsPqrLe(a, 4);
      if( nLen > nA-4 ) return decCorrupt(d, "RLE booleans truncated");
      aB = malloc(sizeof(uint32_t)*(size_t)n);
      if( !aB ) return tsPqrErr(d->p, TS_PQ_NOMEM, "out of memory");
      if( tsPqRleDecodeSpan(a+4, nLen, 1, iLo, iLo+n, aB, 0) ){ free(aB); return decCorrupt(d, "bad RLE booleans"); }
      for(i=0; i<n; i++) v->aI[i] = aB[i];
      free(aB);
      return 0;
    }
  }
  {
    char z[64];
    snprintf(z, sizeof(z), "unsupported encoding %d", eEnc);
    return tsPqrErr(d->p, TS_PQ_ERROR, "parquet: column \"%s\", row group %d: %s", d->c->info.zName, d->iRg, z);
  }
}

static int outReserve(PqDec *d){
  /* output sized once: number of rows to deliver */
  TsPqColumnData *o = d->pOut;
  int64_t n = d->nOutAlloc;
  int bStr = d->ePhys==PQ_T_BYTE_ARRAY || d->ePhys==PQ_T_FLBA;
  int bDbl = d->c->info.eType==TS_PQ_DOUBLE || d->c->info.eType==TS_PQ_FLOAT;
  if( n*17 > tsPqReaderAllocLimit ) return tsPqrErr(d->p, TS_PQ_TOOBIG, "parquet: %lld rows too many to read at once", (long long)n);
  tsBufInit(&d->outData);
  d->outData.nMax = (size_t)tsPqReaderAllocLimit;
  o->aNull = calloc((size_t)(n ? n : 1), 1);
  if( d->bKeys ){
    /* keys mode: one dictionary index per row; the dictionary is moved to
    ** aOff/aData at the end (readColumn) */
    o->aIdx = calloc((size_t)(n ? n : 1), sizeof(uint32_t));
    if( !o->aNull || !o->aIdx ) return tsPqrErr(d->p, TS_PQ_NOMEM, "out of memory");
    return 0;
  }
  if( bStr ) o->aOff = calloc((size_t)(n+1), sizeof(int64_t));
  else if( bDbl ) o->aDbl = calloc((size_t)(n ? n : 1), sizeof(double));
  else o->aInt = calloc((size_t)(n ? n : 1), sizeof(int64_t));
  if( !o->aNull || (bStr && !o->aOff) || (bDbl && !o->aDbl) || (!bStr && !bDbl && !o->aInt) ){
    return tsPqrErr(d->p, TS_PQ_NOMEM, "out of memory");
  }
  return 0;
}

/* The rows of the page at d->iRow (nRow rows) that the selection keeps
** lie in [*pLo, *pHi) (page-relative); both 0 when it keeps none.  Ranges
** are sorted and disjoint (readColumn checks), so the first non-empty range
** ending past the page start and the last starting before its end bound
** them. */
static void pageSpan(const PqDec *d, int64_t nRow, int64_t *pLo, int64_t *pHi){
  const TsPqRowSel *s = d->pSel;
  int64_t r0 = d->iRow, r1 = d->iRow+nRow, e;
  int i = d->iSel, j;
  *pLo = *pHi = 0;
  if( !s ){ *pHi = nRow; return; }
  while( i<s->nRange && (s->aRange[2*i+1]<=r0 || s->aRange[2*i+1]==s->aRange[2*i]) ) i++;
  if( i>=s->nRange || s->aRange[2*i]>=r1 ) return;
  for(j=i; j+1<s->nRange && s->aRange[2*(j+1)]<r1; j++){}
  e = s->aRange[2*j+1]<r1 ? s->aRange[2*j+1] : r1;
  *pLo = (s->aRange[2*i]>r0 ? s->aRange[2*i] : r0) - r0;
  *pHi = e - r0;
}

/* Emit rows [iRow+rLo, iRow+rHi) of a page of nRow rows: aDef (the
** definition levels of those rows, NULL = all present) and the non-null
** values v (iv: the page value index of row rLo); only rows in the
** selection are kept.  The rows are walked in spans (kept or skipped as a
** whole), so the selection is looked up once per span, not once per row,
** and a span of a column without nulls is copied in one go. */
static int emitRows(PqDec *d, const uint32_t *aDef, int64_t rLo, int64_t rHi, int64_t nRow,
                    int64_t iv, PqVals *v){
  TsPqColumnData *o = d->pOut;
  int64_t r = rLo;
  const TsPqRowSel *s = d->pSel;
  int bDec = d->c->bDecimal;
  double rScale = bDec ? tsPqrDecScale(d->c->iScale) : 1;
  iv -= v->iBase;     /* from here on an index into v's arrays */
  if( iv<0 ) return decCorrupt(d, "values before the selected rows");
  while( r<rHi ){
    int64_t row = d->iRow + r, nSpan = rHi - r, j;
    int bKeep = 1;
    if( s ){
      while( d->iSel<s->nRange && s->aRange[2*d->iSel+1]<=row ) d->iSel++;
      if( d->iSel>=s->nRange ){
        bKeep = 0;
      }else if( s->aRange[2*d->iSel]>row ){
        bKeep = 0;
        if( s->aRange[2*d->iSel]-row<nSpan ) nSpan = s->aRange[2*d->iSel]-row;
      }else if( s->aRange[2*d->iSel+1]-row<nSpan ){
        nSpan = s->aRange[2*d->iSel+1]-row;
      }
    }
    if( !bKeep ){
      if( aDef ){ for(j=r; j<r+nSpan; j++) iv += aDef[j-rLo]!=0; }
      else iv += nSpan;
      if( iv>v->n ) return decCorrupt(d, "fewer values than definition levels");
      r += nSpan;
      continue;
    }
    if( d->nOut+nSpan>d->nOutAlloc ) return decCorrupt(d, "more rows than the row group declares");
    if( !aDef && !bDec && !o->aOff ){
      int64_t k = d->nOut;
      if( iv+nSpan>v->n ) return decCorrupt(d, "fewer values than definition levels");
      if( o->aIdx ) memcpy(o->aIdx+k, v->aIdx+iv, sizeof(uint32_t)*(size_t)nSpan);
      else if( o->aDbl ) memcpy(o->aDbl+k, v->aR+iv, sizeof(double)*(size_t)nSpan);
      else memcpy(o->aInt+k, v->aI+iv, sizeof(int64_t)*(size_t)nSpan);
      d->nOut += nSpan;
      iv += nSpan;
      r += nSpan;
      continue;
    }
    for(j=r; j<r+nSpan; j++){
      int64_t k = d->nOut;
      int bNull = aDef ? aDef[j-rLo]==0 : 0;
      if( !bNull && iv>=v->n ) return decCorrupt(d, "fewer values than definition levels");
      if( bNull ){
        o->aNull[k] = 1;
        d->bAnyNull = 1;
        if( o->aOff ) o->aOff[k+1] = o->aOff[k];
      }else if( o->aIdx ){
        o->aIdx[k] = v->aIdx[iv];
      }else if( o->aOff ){
        tsBufAppend(&d->outData, v->aData+v->aOff[iv], (size_t)(v->aOff[iv+1]-v->aOff[iv]));
        if( d->outData.bErr ) return tsPqrErr(d->p, TS_PQ_TOOBIG, "parquet: column \"%s\" string data too large", d->c->info.zName);
        o->aOff[k+1] = (int64_t)d->outData.n;
      }else if( o->aDbl ){
        o->aDbl[k] = bDec ? (double)v->aI[iv]/rScale : v->aR[iv];
      }else{
        o->aInt[k] = v->aI[iv];
      }
      d->nOut++;
      if( !bNull ) iv++;
    }
    r += nSpan;
  }
  d->iRow += nRow;
  return 0;
}

/* Decode the dictionary page body (uncompressed). */
static int loadDict(PqDec *d, const unsigned char *a, size_t nA, int64_t n){
  PqVals v;
  memset(&v, 0, sizeof(v));
  if( d->bDict ) return decCorrupt(d, "second dictionary page");
  if( n<0 ) return decCorrupt(d, "bad dictionary size");
  if( decodePlain(d, a, nA, 0, n, &v) ){ valsFree(&v); return d->p->rc; }
  d->bDict = 1;
  d->nDict = n;
  d->aDictI = v.aI; d->aDictR = v.aR; d->aDictOff = v.aOff;
  if( v.aOwn ){ d->aDictData = v.aOwn; }
  else if( v.aOff ){
    /* FLBA: data borrowed from the page buffer: copy it */
    d->aDictData = malloc((size_t)(v.aOff[n] ? v.aOff[n] : 1));
    if( !d->aDictData ){ free(v.aOff); d->aDictOff = 0; return tsPqrErr(d->p, TS_PQ_NOMEM, "out of memory"); }
    memcpy(d->aDictData, v.aData, (size_t)v.aOff[n]);
  }
  return 0;
}

static int ensureBuf(PqDec *d, size_t n){
  if( (int64_t)n > tsPqReaderAllocLimit ) return tsPqrErr(d->p, TS_PQ_TOOBIG, "parquet: page of %zu bytes too large", n);
  if( n+1 > d->p->nPage ){
    unsigned char *aNew = realloc(d->p->aPage, n+1);
    if( !aNew ) return tsPqrErr(d->p, TS_PQ_NOMEM, "out of memory");
    d->p->aPage = aNew; d->p->nPage = n+1;
  }
  d->aBuf = d->p->aPage;
  return 0;
}

static int codecErr(PqDec *d){
  static const char *az[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
  int e = d->k->eCodec;
  char zNum[16];
  snprintf(zNum, sizeof(zNum), "%d", e);
  return tsPqrErr(d->p, TS_PQ_ERROR, "parquet: column \"%s\": compression codec %s is not supported "
              "(supported: UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW)", d->c->info.zName,
              e>=0 && e<8 ? az[e] : zNum);
}

typedef struct PqPageHdr PqPageHdr;
struct PqPageHdr {
  int eType;
  int32_t nUncomp, nComp;
  int32_t nValue, eEnc, eDefEnc;      /* v1 / dict */
  int32_t nNull, nRow, nDefLen, nRepLen;  /* v2 */
  int bCompressed;
  int bHaveSub;
  int bHaveCrc;                       /* PageHeader.crc present */
  uint32_t crc;
};

static int parsePageHeader(PqTr *tr, PqPageHdr *h){
  int iLast = 0, id, t;
  memset(h, 0, sizeof(*h));
  h->eType = -1; h->bCompressed = 1; h->nUncomp = -1; h->nComp = -1;
  while( (t = tsPqTrField(tr, &iLast, &id))>0 ){
    int32_t v;
    if( id==1 ){ if( tsPqTrI32(tr, t, &v) ) return 1; h->eType = v; }
    else if( id==2 ){ if( tsPqTrI32(tr, t, &h->nUncomp) ) return 1; }
    else if( id==3 ){ if( tsPqTrI32(tr, t, &h->nComp) ) return 1; }
    else if( id==4 && t!=PQ_TT_STRUCT ){
      if( tsPqTrI32(tr, t, &v) ) return 1;
      h->crc = (uint32_t)v; h->bHaveCrc = 1;
    }
    else if( (id==5 || id==7 || id==8) && t==PQ_TT_STRUCT ){
      int l2 = 0, id2, t2;
      h->bHaveSub = 1;
      while( (t2 = tsPqTrField(tr, &l2, &id2))>0 ){
        int32_t *pv = 0;
        if( id==5 ){        /* DataPageHeader */
          pv = id2==1 ? &h->nValue : id2==2 ? &h->eEnc : id2==3 ? &h->eDefEnc : 0;
        }else if( id==7 ){  /* DictionaryPageHeader */
          pv = id2==1 ? &h->nValue : id2==2 ? &h->eEnc : 0;
        }else{              /* DataPageHeaderV2 */
          pv = id2==1 ? &h->nValue : id2==2 ? &h->nNull : id2==3 ? &h->nRow : id2==4 ? &h->eEnc
             : id2==5 ? &h->nDefLen : id2==6 ? &h->nRepLen : 0;
          if( id2==7 ){ if( tsPqTrBool(tr, t2, &h->bCompressed) ) return 1; continue; }
        }
        if( pv ){ if( tsPqTrI32(tr, t2, pv) ) return 1; }
        else if( tsPqTrSkip(tr, t2) ) return 1;
      }
      if( t2<0 ) return 1;
    }else if( tsPqTrSkip(tr, t) ) return 1;
  }
  if( t<0 || h->nUncomp<0 || h->nComp<0 ) return 1;
  return 0;
}

/* Decode the page starting at a[0..nA).  *pnUsed = bytes of the page.
** bSkipData: only dictionary pages are decoded (used when locating). */
/* 1 if data page h holds no selected row (decodePage skips it). */
static int pageSkipped(const PqDec *d, const PqPageHdr *h){
  int64_t rLo, rHi;
  if( h->eType!=PQ_PAGE_DATA && h->eType!=PQ_PAGE_DATA_V2 ) return 0;
  if( !h->bHaveSub || h->nValue<0 || h->nValue>d->k->nValue ) return 0;
  pageSpan(d, h->nValue, &rLo, &rHi);
  return rLo>=rHi;
}

static int decodePage(PqDec *d, const unsigned char *a, size_t nA, size_t *pnUsed){
  PqTr tr;
  PqPageHdr h;
  size_t nHdr;
  const unsigned char *body;
  int rc = 0;
  int bNullable = d->c->info.bNullable;
  tsPqTrInit(&tr, a, nA);
  if( parsePageHeader(&tr, &h) || tr.rd.bErr ) return decCorrupt(d, "bad page header");
  nHdr = tr.rd.i;
  if( (size_t)h.nComp > nA-nHdr ) return decCorrupt(d, "page extends past its column chunk");
  body = a+nHdr;
  *pnUsed = nHdr + (size_t)h.nComp;
  if( h.bHaveCrc && tsPqReaderVerifyCrc && (h.eType==PQ_PAGE_DICT || h.eType==PQ_PAGE_DATA || h.eType==PQ_PAGE_DATA_V2)
   && !pageSkipped(d, &h) ){
    /* The CRC covers the page bytes after the header (levels + values);
    ** a data page with no selected row is not used, so not checked. */
    uint32_t crc = tsCrc32(0, h.nComp ? body : (const unsigned char*)"", (size_t)h.nComp);
    if( crc!=h.crc ){
      char zWhy[160];
      snprintf(zWhy, sizeof(zWhy), "%s page fails its CRC check (stored %08x, computed %08x): "
               "the file is damaged", h.eType==PQ_PAGE_DICT ? "dictionary" : "data",
               (unsigned)h.crc, (unsigned)crc);
      return decCorrupt(d, zWhy);
    }
  }
  if( h.eType==PQ_PAGE_DICT ){
    if( !h.bHaveSub ) return decCorrupt(d, "dictionary page without header");
    if( ensureBuf(d, (size_t)h.nUncomp) ) return d->p->rc;
    rc = tsPqDecompressCtx(&d->p->pZstd, d->k->eCodec, body, (size_t)h.nComp, d->aBuf, (size_t)h.nUncomp);
    if( rc==TS_PQ_ERROR ) return codecErr(d);
    if( rc ) return decCorrupt(d, "dictionary page does not decompress");
    if( h.nValue<0 || (int64_t)h.nValue > (int64_t)h.nUncomp*8+8 ) return decCorrupt(d, "bad dictionary size");
    return loadDict(d, d->aBuf, (size_t)h.nUncomp, h.nValue);
  }
  if( h.eType==PQ_PAGE_DATA || h.eType==PQ_PAGE_DATA_V2 ){
    const unsigned char *aLev = 0, *aVal;
    size_t nLev = 0, nVal;
    int64_t nRow = h.nValue, nBefore, nNeed, rLo, rHi, i;
    uint32_t *aDef = 0;
    PqVals v;
    if( !h.bHaveSub ) return decCorrupt(d, "data page without header");
    if( nRow<0 || nRow > d->k->nValue ) return decCorrupt(d, "bad page value count");
    pageSpan(d, nRow, &rLo, &rHi);
    if( rLo>=rHi ){
      /* no selected row: the page is not decompressed */
      d->iRow += nRow;
      return 0;
    }
    if( h.eType==PQ_PAGE_DATA_V2 ){
      if( h.nRepLen!=0 ) return decCorrupt(d, "repetition levels in a flat column");
      if( h.nDefLen<0 || h.nDefLen>h.nComp || h.nDefLen>h.nUncomp ) return decCorrupt(d, "bad definition levels length");
      aLev = body; nLev = (size_t)h.nDefLen;
      nVal = (size_t)(h.nUncomp - h.nDefLen);
      if( h.bCompressed && d->k->eCodec!=TS_PQ_CODEC_NONE ){
        if( ensureBuf(d, nVal) ) return d->p->rc;
        rc = tsPqDecompressCtx(&d->p->pZstd, d->k->eCodec, body+nLev, (size_t)h.nComp-nLev, d->aBuf, nVal);
        if( rc==TS_PQ_ERROR ) return codecErr(d);
        if( rc ) return decCorrupt(d, "data page does not decompress");
        aVal = d->aBuf;
      }else{
        if( h.nComp!=h.nUncomp ) return decCorrupt(d, "uncompressed page size mismatch");
        aVal = body+nLev;
      }
    }else{
      size_t off = 0;
      if( ensureBuf(d, (size_t)h.nUncomp) ) return d->p->rc;
      rc = tsPqDecompressCtx(&d->p->pZstd, d->k->eCodec, body, (size_t)h.nComp, d->aBuf, (size_t)h.nUncomp);
      if( rc==TS_PQ_ERROR ) return codecErr(d);
      if( rc ) return decCorrupt(d, "data page does not decompress");
      if( bNullable ){
        uint32_t n;
        if( h.eDefEnc!=PQ_E_RLE ) return tsPqrErr(d->p, TS_PQ_ERROR, "parquet: column \"%s\": definition level encoding %d not supported", d->c->info.zName, h.eDefEnc);
        if( h.nUncomp<4 ) return decCorrupt(d, "definition levels truncated");
        n = (uint32_t)tsPqrLe(d->aBuf, 4);
        if( n > (uint32_t)h.nUncomp-4 ) return decCorrupt(d, "definition levels truncated");
        aLev = d->aBuf+4; nLev = n;
        off = 4+(size_t)n;
      }
      aVal = d->aBuf+off;
      nVal = (size_t)h.nUncomp-off;
    }
    if( (int64_t)nRow*4 > tsPqReaderAllocLimit ) return tsPqrErr(d->p, TS_PQ_TOOBIG, "parquet: page of %lld values too large", (long long)nRow);
    /* Only rows [rLo, rHi) are decoded: their definition levels, and the
    ** values from the first present row at or after rLo (nBefore values
    ** precede it) to the last one before rHi. */
    nBefore = rLo;
    nNeed = rHi-rLo;
    if( bNullable ){
      aDef = malloc(sizeof(uint32_t)*(size_t)(rHi-rLo));
      if( !aDef ) return tsPqrErr(d->p, TS_PQ_NOMEM, "out of memory");
      if( tsPqRleDecodeSpan(aLev, nLev, 1, rLo, rHi, aDef, &nBefore) ){ free(aDef); return decCorrupt(d, "bad definition levels"); }
      nNeed = 0;
      for(i=0; i<rHi-rLo; i++) nNeed += aDef[i]!=0;
    }
    memset(&v, 0, sizeof(v));
    rc = decodeValues(d, h.eEnc, aVal, nVal, nBefore, nNeed, &v);
    if( rc==0 ) rc = emitRows(d, aDef, rLo, rHi, nRow, nBefore, &v);
    valsFree(&v);
    free(aDef);
    return rc;
  }
  /* index pages and unknown page types are skipped */
  return 0;
}

static void decFree(PqDec *d){
  free(d->aDictI); free(d->aDictR); free(d->aDictOff); free(d->aDictData);
  tsBufFree(&d->outData);
}

static int readColumn(TsPqReader *p, int iRg, int iCol, const TsPqRowSel *pSel,
                      TsPqColumnData *pOut, int bKeys){
  PqDec d;
  PqRChunk *k;
  PqRCol *c;
  int64_t iStart, nRgRow;
  int rc = 0;
  unsigned char *aChunk = 0;
  PqPageLoc *aLoc = 0;
  int nLoc = 0;
  memset(pOut, 0, sizeof(*pOut));
  if( iRg<0 || iRg>=p->nRg || iCol<0 || iCol>=p->nCol ){
    return tsPqrErr(p, TS_PQ_MISUSE, "parquet: row group %d / column %d out of range", iRg, iCol);
  }
  c = &p->aCol[iCol];
  if( c->info.eType==TS_PQ_UNSUPPORTED ){
    return tsPqrErr(p, TS_PQ_ERROR, "parquet: column \"%s\" has an unsupported type (nested, INT96 or similar)",
                c->info.zName);
  }
  k = &p->aRg[iRg].aChunk[c->iLeaf];
  nRgRow = p->aRg[iRg].nRow;
  if( k->bExternal ) return tsPqrErr(p, TS_PQ_ERROR, "parquet: column \"%s\" is stored in another file", c->info.zName);
  if( k->nValue!=nRgRow ){
    return tsPqrErr(p, TS_PQ_CORRUPT, "parquet: column \"%s\", row group %d: %lld values but %lld rows",
                c->info.zName, iRg, (long long)k->nValue, (long long)nRgRow);
  }
  memset(&d, 0, sizeof(d));
  d.p = p; d.c = c; d.k = k; d.iRg = iRg;
  d.ePhys = c->info.ePhysical;
  d.nWidth = c->nTypeLen;
  d.pSel = pSel;
  d.pOut = pOut;
  d.bKeys = bKeys;
  d.nOutAlloc = pSel ? pSel->nRow : nRgRow;
  if( pSel ){
    int i;
    int64_t prev = 0, nSel = 0;
    for(i=0; i<pSel->nRange; i++){
      if( pSel->aRange[2*i]<prev || pSel->aRange[2*i+1]<pSel->aRange[2*i] || pSel->aRange[2*i+1]>nRgRow ){
        return tsPqrErr(p, TS_PQ_MISUSE, "parquet: invalid row selection");
      }
      prev = pSel->aRange[2*i+1];
      nSel += pSel->aRange[2*i+1]-pSel->aRange[2*i];
    }
    if( nSel!=pSel->nRow ) return tsPqrErr(p, TS_PQ_MISUSE, "parquet: invalid row selection");
  }
  rc = outReserve(&d);
  iStart = k->iDataOff;
  if( k->iDictOff>0 && k->iDictOff<k->iDataOff ) iStart = k->iDictOff;
  if( rc==0 && (iStart<4 || k->nComp<0 || iStart>p->nFile-8 || k->nComp>p->nFile-8-iStart) ){
    rc = tsPqrErr(p, TS_PQ_CORRUPT, "parquet: column \"%s\", row group %d: chunk range %lld+%lld outside the file",
              c->info.zName, iRg, (long long)iStart, (long long)k->nComp);
  }
  if( rc==0 && pSel && pSel->nRow==0 ){
    /* nothing to read */
  }else if( rc==0 && pSel && pSel->nRow<nRgRow && k->iOffIdx>=0
         && tsPqrOffsetIndex(p, k, nRgRow, &aLoc, &nLoc)==0 ){
    /* Fetch the dictionary page (the bytes before the first data page) and
    ** only the data pages overlapping the selection.  Byte-adjacent pieces
    ** are fetched with one read, so an object store sees as few range
    ** requests as possible. */
    typedef struct Seg { int64_t iOff, n, iRow, iEndRow; int bDict; } Seg;
    Seg *aSeg = malloc(sizeof(Seg)*(size_t)(nLoc+1));
    int nSeg = 0, j, a, b;
    int64_t iEnd = iStart + k->nComp;
    if( !aSeg ) rc = tsPqrErr(p, TS_PQ_NOMEM, "out of memory");
    if( rc==0 && aLoc[0].iOff>iStart ){
      if( aLoc[0].iOff>iEnd ){
        rc = decCorrupt(&d, "OffsetIndex disagrees with the chunk");
      }else{
        aSeg[0].iOff = iStart; aSeg[0].n = aLoc[0].iOff-iStart; aSeg[0].bDict = 1;
        aSeg[0].iRow = aSeg[0].iEndRow = 0;
        nSeg = 1;
      }
    }
    for(j=0; rc==0 && j<nLoc; j++){
      int64_t s0 = aLoc[j].iFirstRow, e0 = j+1<nLoc ? aLoc[j+1].iFirstRow : nRgRow;
      int bNeed = 0, q;
      for(q=0; q<pSel->nRange; q++){
        if( pSel->aRange[2*q]<e0 && pSel->aRange[2*q+1]>s0 ){ bNeed = 1; break; }
      }
      if( !bNeed ) continue;
      if( aLoc[j].iOff<iStart || aLoc[j].iOff+aLoc[j].nSize>iEnd ){
        rc = decCorrupt(&d, "OffsetIndex page outside the chunk");
        break;
      }
      aSeg[nSeg].iOff = aLoc[j].iOff; aSeg[nSeg].n = aLoc[j].nSize; aSeg[nSeg].bDict = 0;
      aSeg[nSeg].iRow = s0; aSeg[nSeg].iEndRow = e0;
      nSeg++;
    }
    for(a=0; rc==0 && a<nSeg; a=b){
      int64_t nRun;
      for(b=a+1; b<nSeg && aSeg[b].iOff==aSeg[b-1].iOff+aSeg[b-1].n; b++){}
      nRun = aSeg[b-1].iOff+aSeg[b-1].n-aSeg[a].iOff;
      if( nRun>tsPqReaderAllocLimit ){ rc = tsPqrErr(p, TS_PQ_TOOBIG, "parquet: %lld pages bytes too large", (long long)nRun); break; }
      aChunk = malloc((size_t)(nRun ? nRun : 1));
      if( !aChunk ){ rc = tsPqrErr(p, TS_PQ_NOMEM, "out of memory"); break; }
      rc = tsPqrReadAt(p, aSeg[a].iOff, nRun, aChunk);
      for(j=a; rc==0 && j<b; j++){
        const unsigned char *z = aChunk + (aSeg[j].iOff-aSeg[a].iOff);
        size_t used = 0, at = 0;
        if( aSeg[j].bDict ){
          while( rc==0 && at<(size_t)aSeg[j].n ){
            rc = decodePage(&d, z+at, (size_t)aSeg[j].n-at, &used);
            at += used;
          }
        }else{
          d.iRow = aSeg[j].iRow;
          rc = decodePage(&d, z, (size_t)aSeg[j].n, &used);
          if( rc==0 && d.iRow!=aSeg[j].iEndRow ){
            rc = decCorrupt(&d, "page row count disagrees with the OffsetIndex");
          }
        }
      }
      free(aChunk); aChunk = 0;
    }
    free(aSeg);
  }else if( rc==0 ){
    if( p->rc==TS_PQ_NOMEM || p->rc==TS_PQ_IOERR ) rc = p->rc;
    if( rc==0 && k->nComp>tsPqReaderAllocLimit ) rc = tsPqrErr(p, TS_PQ_TOOBIG, "parquet: column chunk of %lld bytes too large", (long long)k->nComp);
    if( rc==0 ){
      aChunk = malloc((size_t)(k->nComp ? k->nComp : 1));
      if( !aChunk ) rc = tsPqrErr(p, TS_PQ_NOMEM, "out of memory");
    }
    if( rc==0 ) rc = tsPqrReadAt(p, iStart, k->nComp, aChunk);
    if( rc==0 ){
      size_t at = 0, used = 0;
      while( rc==0 && d.iRow<nRgRow ){
        if( at>=(size_t)k->nComp ){ rc = decCorrupt(&d, "column chunk ends before all rows"); break; }
        rc = decodePage(&d, aChunk+at, (size_t)k->nComp-at, &used);
        at += used;
      }
    }
    free(aChunk); aChunk = 0;
  }
  free(aLoc);
  if( rc==0 && d.nOut!=d.nOutAlloc ){
    rc = decCorrupt(&d, "column chunk has fewer rows than selected");
  }
  if( rc==0 ){
    pOut->nRow = d.nOut;
    if( pOut->aOff ){
      pOut->aData = tsBufDetach(&d.outData, 0);
      if( !pOut->aData ) pOut->aData = malloc(1);
      if( !pOut->aData ) rc = tsPqrErr(p, TS_PQ_NOMEM, "out of memory");
    }
    if( !d.bAnyNull ){ free(pOut->aNull); pOut->aNull = 0; }
  }
  if( rc==0 && bKeys ){
    /* The dictionary moves to the output (an all-NULL selection may have none). */
    if( d.bDict ){
      pOut->aOff = d.aDictOff; pOut->aData = d.aDictData; pOut->nDict = d.nDict;
      d.aDictOff = 0; d.aDictData = 0;
      if( !pOut->aData ) pOut->aData = malloc(1);
    }else{
      pOut->aOff = calloc(1, sizeof(int64_t));
      pOut->aData = malloc(1);
      pOut->nDict = 0;
    }
    if( !pOut->aOff || !pOut->aData ) rc = tsPqrErr(p, TS_PQ_NOMEM, "out of memory");
  }
  decFree(&d);
  if( rc==PQ_KEYS_FALLBACK ){
    tsPqColumnDataFree(pOut);
    return rc;
  }
  if( rc ){
    tsPqColumnDataFree(pOut);
    if( !p->rc ) p->rc = rc;
  }else{
    p->rc = 0;
  }
  return rc;
}

int tsPqReaderReadColumn(TsPqReader *p, int iRg, int iCol, const TsPqRowSel *pSel,
                         TsPqColumnData *pOut){
  return readColumn(p, iRg, iCol, pSel, pOut, 0);
}

int tsPqReaderReadColumnKeys(TsPqReader *p, int iRg, int iCol, const TsPqRowSel *pSel,
                             TsPqColumnData *pOut){
  int rc;
  if( iRg>=0 && iRg<p->nRg && iCol>=0 && iCol<p->nCol
   && (p->aCol[iCol].info.eType==TS_PQ_STRING || p->aCol[iCol].info.eType==TS_PQ_BYTES)
   && p->aCol[iCol].info.ePhysical==PQ_T_BYTE_ARRAY ){
    rc = readColumn(p, iRg, iCol, pSel, pOut, 1);
    if( rc!=PQ_KEYS_FALLBACK ) return rc;
  }
  return readColumn(p, iRg, iCol, pSel, pOut, 0);
}
