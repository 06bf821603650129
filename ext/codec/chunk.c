/*
** chunk.c: the memory tier's compressed column-chunk codec (API in chunk.h).
** Pure C, no SQLite.  docs/internals/chunk-format.md explains the choices and
** gives measured sizes; this comment is the normative byte layout.
**
** BLOB LAYOUT (format version 2; version 1 differs only where marked "v2";
** version 3 is version 2 with write marks, marked "v3")
**
**   All "varint" fields are ULEB128 (tsbuf.h), "zigzag" fields are zigzag +
**   ULEB128, "f64" fields are the 8 IEEE-754 bytes little-endian (bit-exact).
**   "cf64" is a compact double: an integral value v with |v| < 2^53 (not
**   -0.0) is the varint zigzag(v) << 1; any other value is the varint 1
**   followed by its f64.
**
**   header:
**     4 bytes   magic 'T' 'S' 'C' and format version 0x02 (0x01: version 1)
**     4 bytes   CRC-32 (zlib's crc32, little-endian) of every byte after
**               these 8; checked by tsChunkReaderOpen (and, for version 1,
**               by tsChunkInfoGet), so a damaged blob is reported, not
**               decoded into wrong rows
**     varint    nRow            1..TS_CHUNK_MAX_ROWS
**     varint    nCol            0..TS_CHUNK_MAX_COLS
**     zigzag    tMin            time of row 0
**     varint    tMax - tMin     (unsigned 64-bit difference)
**     varint    nTimeBytes      length of the time payload
**     varint    nVersionBytes   length of the version payload
**     nCol column directory entries, each:
**       byte    eType           TS_TYPE_*
**       byte    flags           bit 0: the payload starts with a NULL bitmap;
**                               other bits must be 0
**       varint  nValue          non-NULL values (== nRow when flags bit 0 is 0,
**                               < nRow otherwise)
**       stats, present only when nValue > 0:
**         DOUBLE:                  cf64 rMin, cf64 rMax, cf64 rSum
**         BIGINT/TIMESTAMP/BOOLEAN: zigzag iMin, varint iMax - iMin, cf64 rSum
**         VARCHAR:                 nothing
**       v2 only, the ends, present only when nValue > 0 and not VARCHAR:
**         DOUBLE:                  cf64 rFirst, cf64 rLast
**         BIGINT/TIMESTAMP/BOOLEAN: zigzag iFirst, zigzag iLast
**         and when flags bit 0:    varint tFirst - tMin, varint tMax - tLast
**                                  (without NULLs they are tMin and tMax)
**       varint  nBytes          length of this column's payload
**     v2 only:
**     4 bytes   CRC-32 of the header from byte 8 to the end of the column
**               directory (tsChunkInfoGet checks this one only, so a
**               header-only read costs the header, not the blob)
**   payloads, back to back, with no gap and nothing after the last:
**     time payload, version payload, column 0 payload, column 1 ...
**
**   Statistics cover non-NULL values.  rSum of a DOUBLE column is the sum
**   in row order with plain double addition (what a decode-and-add loop
**   gets); rSum of an integer column is the exact 128-bit integer sum rounded
**   once to double; a BOOLEAN's iMin/iMax/rSum are over 0/1.  The ends (v2)
**   are the first and last non-NULL value by time and their times, so a
**   lastpoint or a first/last over whole chunks reads the header only.
**
** PAYLOADS
**
**   time    = ISEQ of the nRow offsets time - tMin (so it starts at 0; the
**             decoder checks times strictly increasing and the last == tMax)
**   version = ISEQ of nRow values; v3: followed by the write marks, an ISEQ
**             of nRow values 0..2 (in the same payload, nVersionBytes covers
**             both): the conflict clause of the write that stored the row,
**             0 plain INSERT, 1 INSERT OR REPLACE, 2 INSERT OR IGNORE
**             (ext/recrule.h gives their meaning across tiers).  The encoder
**             writes version 3 only when some row has a mark other than 0,
**             so chunks without REPLACE/IGNORE writes stay version 2 byte for
**             byte; a version 1 or 2 chunk reads as all marks 0.
**   column  = [NULL bitmap: ceil(nRow/8) bytes, bit i (LSB first) set = row
**             i is NULL; only when flags bit 0] followed by the encoding of
**             the nValue non-NULL values in row order:
**     DOUBLE:    byte mode, then
**                  0 RAW:    nValue f64
**                  1 XOR:    Gorilla bit stream (below) filling the rest
**                            of the payload
**                  2 SCALED: byte e (0..TS_MAX_SCALE), then ISEQ of integers
**                            m such that value == (double)m / 10^e exactly,
**                            bit for bit (decimal data: 42.0, 12.25, ...)
**                  3 BITS:   ISEQ of the values' bits as order-preserving
**                            integers: x = the 64 bits as int64, and when
**                            x < 0, x XOR INT64_MAX (noisy full-precision
**                            data: deltas are about change/ulp)
**                The encoder writes the smallest; RAW bounds the worst case.
**     BIGINT, TIMESTAMP: ISEQ of nValue values
**     BOOLEAN:   byte mode, then 0 BITMAP: ceil(nValue/8) bytes, LSB first,
**                1 CONST: one byte 0 or 1 (every value equal)
**     VARCHAR:   byte mode, varint nDict (1..nValue), the dictionary, then
**                ISEQ of nValue dictionary indices.  The dictionary is nDict
**                entries (varint length + bytes, in order of first
**                appearance), stored
**                  mode 0: as is;
**                  mode 1: as varint nRaw, varint nZ, then a zstd frame of
**                          nZ bytes that decompresses to exactly the nRaw
**                          bytes of the entries (nRaw <= nZ*1000 + 1024);
**                          written when smaller (log lines, JSON, URLs)
**
**   ISEQ (a sequence of n signed 64-bit integers, n known from context):
**     byte mode, then
**       0 CONST: zigzag v                    (all n values equal)
**       1 FOR:   BLOCKS over the n values
**       2 DELTA: zigzag v0, BLOCKS over the n-1 deltas v[i]-v[i-1]
**       3 DOD:   zigzag v0, [zigzag d0 = v1-v0 when n>=2], BLOCKS over the
**                n-2 deltas of deltas (d[i]-d[i-1])
**       4 RLE:   varint nRun, nRun x (zigzag value, varint run length >= 1);
**                run lengths sum to n
**       5 ARITH: zigzag v0, zigzag step (v[i] = v0 + i*step; regular times)
**       6 GCD:   varint g >= 2, zigzag v0, then an ISEQ (not GCD) of q with
**                v[i] = v0 + g*q[i] (ms- or s-precision ns times, multiples)
**     All arithmetic wraps modulo 2^64, so any int64 sequence round-trips.
**     The encoder writes CONST or ARITH when they apply; otherwise it ranks
**     FOR, DELTA and DOD by two cheap size estimates (bit-packed, and one
**     robust to outliers), plans the one or two winners (each block in its
**     smaller coding, which gives their exact sizes), writes the smaller
**     (the robust estimate's on a tie), or RLE if that is smaller;
**     then, when every v[i] - v0 has a common factor g >= 2, the same over
**     the quotients under GCD if that is smaller.
**   BLOCKS: the values in groups of TS_BLOCK (256; the last may be shorter);
**     each group: zigzag (base - previous group's base; the first group's
**     previous base is 0), byte code, then
**       code 0..64 (bit-packed frame of reference, like Parquet's
**         DELTA_BINARY_PACKED): ceil(cnt*code/8) bytes holding value - base
**         as code-bit unsigned fields, LSB first (base = the minimum);
**       code 65+k, k 0..63 (Rice code; base = the median): varint nBytes, then
**         nBytes bytes holding per value z = zigzag(value - base) as
**         q = z >> k zero bits, a one bit, and the low k bits of z; when
**         q >= 24, instead 24 zero bits and z in 64 bits.  Every bit but the
**         last byte's padding is used.  Wins where small deviations are
**         common and large ones rare (random walks: ~2 bits instead of 3).
**   Gorilla XOR stream (Pelkonen et al. 2015, values only), bits LSB first
**     within bytes: the first value in 64 bits; then per value X = bits XOR
**     previous bits: '0' when X == 0; '1','0' + the meaningful bits in the
**     previous window; '1','1' + 5 bits leading zeros (clamped to 31) +
**     6 bits (length - 1) + the meaningful bits (new window).  (Bits are
**     written in the order listed; "'1','0'" means a 1 bit then a 0 bit.)
**
** COMPATIBILITY: chunks persist in database files.  Changing this layout
** means a new version byte, while still decoding the older ones: the encoder
** writes version 2 (3 with write marks), the decoder reads 1, 2 and 3 (a version-1 header has no
** ends: TsChunkStat.bEnds is 0); the blobs in tests/fuzz/corpus/fuzz_chunk/
** (written by the version-1 encoder) are checked by test_chunk.  Encoder choices (modes, block codings) are free to
** change: they are recorded in the blob.
**
** DECODING treats input as hostile: every length, count, width, index and
** mode is checked; anything malformed gives TS_CHUNK_CORRUPT.
*/
#include "chunk_int.h"
#include "tshash.h"
#include "tscrc.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>


#define BOOL_BITMAP 0
#define BOOL_CONST  1

#define FLAG_NULLS  0x01

#define TEXT_DICT      0
#define TEXT_DICT_ZSTD 1
#define TEXT_ZSTD_MIN  64     /* dictionaries smaller than this stay plain */
#define TEXT_ZSTD_LEVEL 3
#define TEXT_ZSTD_RATIO 1000  /* nRaw <= nZ*RATIO + 1024: bounds a decoder's
                              ** allocation by the blob's size */

static const unsigned char aMagic[4] = { 'T', 'S', 'C', 0x02 };   /* written */
#define CHUNK_V1 0x01       /* also read */
#define CHUNK_V3 0x03       /* written when a row has a write mark */

/* CRC-32 of a[0..n) (zlib's, folded: tscrc.h). */
static uint32_t blobCrc(const unsigned char *a, size_t n){
  return tsCrc32(0, a, n);
}

/*************************************************************************
** VARCHAR dictionary.
*/

/* Encode n strings (pointers/lengths already filtered to non-NULL rows). */
static int textEncode(TsBuf *p, const char *const *az, const int *an, int n){
  int nHash = 16, nDict = 0, i, rc;
  int *aHash;          /* slot -> dictionary entry + 1, 0 = empty */
  int *aFirst;         /* dictionary entry -> row of first appearance */
  int64_t *aIdx;       /* row -> dictionary entry */
  while( nHash < 2*n ) nHash *= 2;
  aHash = (int*)calloc((size_t)nHash, sizeof(int));
  aFirst = (int*)malloc(sizeof(int)*(size_t)n);
  aIdx = (int64_t*)malloc(sizeof(int64_t)*(size_t)n);
  if( aHash==0 || aFirst==0 || aIdx==0 ){
    free(aHash); free(aFirst); free(aIdx);
    return TS_CHUNK_NOMEM;
  }
  for(i=0; i<n; i++){
    uint32_t h = tsFnv1a32(az[i], (size_t)an[i]) & (uint32_t)(nHash-1);
    for(;;){
      int k = aHash[h];
      if( k==0 ){
        aHash[h] = nDict + 1;
        aFirst[nDict] = i;
        aIdx[i] = nDict++;
        break;
      }
      k--;
      if( an[aFirst[k]]==an[i]
       && (an[i]==0 || memcmp(az[aFirst[k]], az[i], (size_t)an[i])==0) ){
        aIdx[i] = k;
        break;
      }
      h = (h + 1) & (uint32_t)(nHash-1);
    }
  }
  {
    /* The entries, then zstd over them when that is smaller. */
    TsBuf dict;
    void *aZ = 0;
    size_t nZ = 0;
    tsBufInit(&dict);
    dict.nMax = p->nMax;
    for(i=0; i<nDict; i++){
      int r = aFirst[i];
      tsBufAppendVarint(&dict, (uint64_t)an[r]);
      tsBufAppend(&dict, az[r], (size_t)an[r]);
    }
    if( dict.bErr ){
      tsBufFree(&dict);
      free(aHash); free(aFirst); free(aIdx);
      return TS_CHUNK_NOMEM;
    }
    if( dict.n>=TEXT_ZSTD_MIN ){
      size_t nBound = ZSTD_compressBound(dict.n);
      aZ = malloc(nBound);
      if( aZ ){
        nZ = ZSTD_compress(aZ, nBound, dict.a, dict.n, TEXT_ZSTD_LEVEL);
        if( ZSTD_isError(nZ) ) nZ = 0;
      }
    }
    if( nZ>0 && nZ + (size_t)varintLen(dict.n) + (size_t)varintLen(nZ) < dict.n
     && dict.n <= nZ*TEXT_ZSTD_RATIO + 1024 ){
      tsBufAppendByte(p, TEXT_DICT_ZSTD);
      tsBufAppendVarint(p, (uint64_t)nDict);
      tsBufAppendVarint(p, (uint64_t)dict.n);
      tsBufAppendVarint(p, (uint64_t)nZ);
      tsBufAppend(p, aZ, nZ);
    }else{
      tsBufAppendByte(p, TEXT_DICT);
      tsBufAppendVarint(p, (uint64_t)nDict);
      tsBufAppend(p, dict.a, dict.n);
    }
    free(aZ);
    tsBufFree(&dict);
  }
  rc = tsChunkIseqEncode(p, aIdx, n);
  free(aHash); free(aFirst); free(aIdx);
  return rc;
}

/*************************************************************************
** Encoder.
*/

/* Statistics of n (>= 1) non-NULL values; nValue is the caller's. */
static void statDoubles(const double *a, int n, TsChunkStat *pStat){
  int i;
  pStat->rMin = pStat->rMax = a[0];
  pStat->rSum = 0.0;
  for(i=0; i<n; i++){
    if( a[i]<pStat->rMin ) pStat->rMin = a[i];
    if( a[i]>pStat->rMax ) pStat->rMax = a[i];
    pStat->rSum += a[i];
  }
}
static void statInts(const int64_t *a, int n, TsChunkStat *pStat){
  __int128 sum = 0;   /* exact: 65536 x 2^63 fits in 80 bits */
  int i;
  pStat->iMin = pStat->iMax = a[0];
  for(i=0; i<n; i++){
    if( a[i]<pStat->iMin ) pStat->iMin = a[i];
    if( a[i]>pStat->iMax ) pStat->iMax = a[i];
    sum += a[i];
  }
  pStat->rSum = (double)sum;
}

/* The ends of a column (format v2): first and last non-NULL value and
** their times. */
static void statEnds(int nRow, const int64_t *aTime, const TsChunkCol *pCol,
                     const uint8_t *aNull, TsChunkStat *pStat){
  int i0 = 0, i1 = nRow-1;
  if( aNull ){
    while( aNull[i0] ) i0++;
    while( aNull[i1] ) i1--;
  }
  pStat->bEnds = 1;
  pStat->tFirst = aTime[i0];
  pStat->tLast = aTime[i1];
  if( pCol->eType==TS_TYPE_DOUBLE ){
    pStat->rFirst = pCol->aDouble[i0];
    pStat->rLast = pCol->aDouble[i1];
  }else if( pCol->eType==TS_TYPE_BOOLEAN ){
    pStat->iFirst = pCol->aInt[i0]!=0;
    pStat->iLast = pCol->aInt[i1]!=0;
  }else{
    pStat->iFirst = pCol->aInt[i0];
    pStat->iLast = pCol->aInt[i1];
  }
}

/* Statistics and payload of one column. */
static int colEncode(int nRow, const int64_t *aTime, const TsChunkCol *pCol, TsBuf *pBody,
                     TsChunkStat *pStat, int *pbNull){
  int i, nVal = 0, rc = TS_CHUNK_OK;
  int eType = pCol->eType;
  const uint8_t *aNull = pCol->aNull;
  int bNull = 0;
  memset(pStat, 0, sizeof(*pStat));
  if( aNull ){
    /* eight flags at a time: most columns have no NULL */
    uint64_t uAny = 0;
    for(i=0; i+8<=nRow; i+=8){
      uint64_t w;
      memcpy(&w, aNull + i, 8);
      uAny |= w;
    }
    for(; i<nRow; i++) uAny |= aNull[i];
    bNull = uAny!=0;
  }
  if( !bNull ) aNull = 0;
  *pbNull = bNull;
  if( eType<TS_TYPE_DOUBLE || eType>TS_TYPE_TIMESTAMP ) return TS_CHUNK_MISUSE;
  if( bNull ){
    int nByte = (nRow + 7)/8;
    size_t iStart = pBody->n;
    if( tsBufReserve(pBody, (size_t)nByte) ) return TS_CHUNK_NOMEM;
    memset(pBody->a + iStart, 0, (size_t)nByte);
    pBody->n += (size_t)nByte;
    for(i=0; i<nRow; i++){
      if( aNull[i] ) pBody->a[iStart + (size_t)(i>>3)] |= (unsigned char)(1 << (i&7));
    }
  }
  if( aNull ){
    for(i=0; i<nRow; i++) if( !aNull[i] ) nVal++;
  }else{
    nVal = nRow;
  }
  pStat->nValue = nVal;
  if( nVal==0 ) return TS_CHUNK_OK;
  if( eType!=TS_TYPE_VARCHAR ){
    if( eType==TS_TYPE_DOUBLE ? pCol->aDouble==0 : pCol->aInt==0 ) return TS_CHUNK_MISUSE;
    statEnds(nRow, aTime, pCol, aNull, pStat);
  }

  if( eType==TS_TYPE_DOUBLE ){
    double *a = 0;
    int k = 0;
    if( pCol->aDouble==0 ) return TS_CHUNK_MISUSE;
    if( aNull ){
      a = (double*)malloc(sizeof(double)*(size_t)nVal);
      if( a==0 ) return TS_CHUNK_NOMEM;
      for(i=0; i<nRow; i++) if( !aNull[i] ) a[k++] = pCol->aDouble[i];
    }
    statDoubles(a ? a : pCol->aDouble, nVal, pStat);
    rc = tsChunkDoubleEncode(pBody, a ? a : pCol->aDouble, nVal);
    free(a);
  }else if( eType==TS_TYPE_VARCHAR ){
    const char **az;
    int *an;
    int k = 0;
    if( pCol->azText==0 || pCol->anText==0 ) return TS_CHUNK_MISUSE;
    az = (const char**)malloc(sizeof(char*)*(size_t)nVal);
    an = (int*)malloc(sizeof(int)*(size_t)nVal);
    if( az==0 || an==0 ){ free(az); free(an); return TS_CHUNK_NOMEM; }
    for(i=0; i<nRow; i++){
      if( aNull && aNull[i] ) continue;
      if( pCol->anText[i]<0 || (pCol->anText[i]>0 && pCol->azText[i]==0) ){
        rc = TS_CHUNK_MISUSE;
        break;
      }
      az[k] = pCol->azText[i];
      an[k] = pCol->anText[i];
      k++;
    }
    if( rc==TS_CHUNK_OK ) rc = textEncode(pBody, az, an, nVal);
    free(az); free(an);
  }else{
    int64_t *a = 0;
    const int64_t *aV = pCol->aInt;   /* the nVal values in row order */
    int k = 0;
    if( pCol->aInt==0 ) return TS_CHUNK_MISUSE;
    if( aNull || eType==TS_TYPE_BOOLEAN ){
      /* a copy only to drop NULL rows or to map BOOLEANs to 0/1 */
      a = (int64_t*)malloc(sizeof(int64_t)*(size_t)nVal);
      if( a==0 ) return TS_CHUNK_NOMEM;
      for(i=0; i<nRow; i++){
        if( aNull && aNull[i] ) continue;
        a[k++] = eType==TS_TYPE_BOOLEAN ? (pCol->aInt[i]!=0) : pCol->aInt[i];
      }
      aV = a;
    }
    statInts(aV, nVal, pStat);
    if( eType==TS_TYPE_BOOLEAN ){
      if( pStat->iMin==pStat->iMax ){
        tsBufAppendByte(pBody, BOOL_CONST);
        tsBufAppendByte(pBody, (unsigned char)pStat->iMin);
      }else{
        BitW bw;
        tsBufAppendByte(pBody, BOOL_BITMAP);
        bwInit(&bw, pBody);
        for(i=0; i<nVal; i++) bwPut(&bw, (uint64_t)aV[i], 1);
        bwFlush(&bw);
      }
    }else{
      rc = tsChunkIseqEncode(pBody, aV, nVal);
    }
    free(a);
  }
  return rc;
}

/* A statistic as "cf64": integral values in +-2^53 other than -0.0 are
** varint (zigzag(v) << 1); anything else is varint 1 then the f64. */
static void cf64Write(TsBuf *p, double r){
  if( r>-9007199254740992.0 && r<9007199254740992.0 && r==(double)(int64_t)r
   && !(r==0.0 && signbit(r)) ){
    tsBufAppendVarint(p, tsZigzagEnc((int64_t)r) << 1);
  }else{
    tsBufAppendByte(p, 1);
    tsBufAppendU64le(p, dblBits(r));
  }
}

static int cf64Read(TsRd *pRd, double *pr){
  uint64_t u;
  *pr = 0.0;
  if( tsRdVarint(pRd, &u) ) return 1;
  if( u==1 ){
    if( tsRdU64le(pRd, &u) ) return 1;
    *pr = bitsDbl(u);
    return 0;
  }
  if( (u & 1) || (u>>1) >= ((uint64_t)1<<54) ){ pRd->bErr = 1; return 1; }
  *pr = (double)tsZigzagDec(u>>1);
  return 0;
}

static void statWrite(TsBuf *p, int eType, const TsChunkStat *pStat){
  if( pStat->nValue==0 ) return;
  switch( eType ){
    case TS_TYPE_DOUBLE:
      cf64Write(p, pStat->rMin);
      cf64Write(p, pStat->rMax);
      cf64Write(p, pStat->rSum);
      break;
    case TS_TYPE_VARCHAR:
      break;
    default:
      tsBufAppendZigzag(p, pStat->iMin);
      tsBufAppendVarint(p, (uint64_t)pStat->iMax - (uint64_t)pStat->iMin);
      cf64Write(p, pStat->rSum);
      break;
  }
}

/* The ends of a column (v2), after its statistics. */
static void endsWrite(TsBuf *p, int eType, int bNull, int64_t tMin, int64_t tMax,
                      const TsChunkStat *pStat){
  if( pStat->nValue==0 || eType==TS_TYPE_VARCHAR ) return;
  if( eType==TS_TYPE_DOUBLE ){
    cf64Write(p, pStat->rFirst);
    cf64Write(p, pStat->rLast);
  }else{
    tsBufAppendZigzag(p, pStat->iFirst);
    tsBufAppendZigzag(p, pStat->iLast);
  }
  if( bNull ){
    tsBufAppendVarint(p, (uint64_t)pStat->tFirst - (uint64_t)tMin);
    tsBufAppendVarint(p, (uint64_t)tMax - (uint64_t)pStat->tLast);
  }
}

int tsChunkEncode(int nRow, const int64_t *aTime, const int64_t *aVersion,
                  int nCol, const TsChunkCol *aCol, TsBuf *pOut){
  return tsChunkEncodeMarked(nRow, aTime, aVersion, 0, nCol, aCol, pOut);
}

int tsChunkEncodeMarked(int nRow, const int64_t *aTime, const int64_t *aVersion,
                        const unsigned char *aMark, int nCol, const TsChunkCol *aCol,
                        TsBuf *pOut){
  TsBuf body;
  size_t nTime, nVer;
  int bMark = 0;
  size_t *anCol = 0;
  TsChunkStat *aStat = 0;
  int *abNull = 0;
  int rc = TS_CHUNK_OK;
  int i;

  if( nRow<1 || nRow>TS_CHUNK_MAX_ROWS || nCol<0 || nCol>TS_CHUNK_MAX_COLS
   || aTime==0 || (nCol>0 && aCol==0) || pOut==0 ){
    return TS_CHUNK_MISUSE;
  }
  for(i=1; i<nRow; i++) if( aTime[i]<=aTime[i-1] ) return TS_CHUNK_MISUSE;
  for(i=0; aMark && i<nRow; i++){
    if( aMark[i]>2 ) return TS_CHUNK_MISUSE;
    if( aMark[i] ) bMark = 1;
  }
  for(i=0; i<nCol; i++){
    int t = aCol[i].eType;
    if( t<TS_TYPE_DOUBLE || t>TS_TYPE_TIMESTAMP ) return TS_CHUNK_MISUSE;
  }

  tsBufInit(&body);
  body.nMax = pOut->nMax;
  anCol = (size_t*)malloc(sizeof(size_t)*(size_t)(nCol+1));
  aStat = (TsChunkStat*)malloc(sizeof(TsChunkStat)*(size_t)(nCol+1));
  abNull = (int*)malloc(sizeof(int)*(size_t)(nCol+1));
  if( anCol==0 || aStat==0 || abNull==0 ){ rc = TS_CHUNK_NOMEM; goto done; }

  {
    int64_t *aRel = (int64_t*)malloc(sizeof(int64_t)*(size_t)nRow);
    if( aRel==0 ){ rc = TS_CHUNK_NOMEM; goto done; }
    for(i=0; i<nRow; i++) aRel[i] = (int64_t)((uint64_t)aTime[i] - (uint64_t)aTime[0]);
    rc = tsChunkIseqEncode(&body, aRel, nRow);
    free(aRel);
  }
  nTime = body.n;
  if( rc==TS_CHUNK_OK ){
    if( aVersion==0 ){
      tsBufAppendByte(&body, ISEQ_CONST);
      tsBufAppendZigzag(&body, 1);
    }else{
      rc = tsChunkIseqEncode(&body, aVersion, nRow);
    }
  }
  if( rc==TS_CHUNK_OK && bMark ){
    int64_t *aM = (int64_t*)malloc(sizeof(int64_t)*(size_t)nRow);
    if( aM==0 ){ rc = TS_CHUNK_NOMEM; goto done; }
    for(i=0; i<nRow; i++) aM[i] = aMark[i];
    rc = tsChunkIseqEncode(&body, aM, nRow);
    free(aM);
  }
  nVer = body.n - nTime;
  for(i=0; rc==TS_CHUNK_OK && i<nCol; i++){
    size_t nStart = body.n;
    rc = colEncode(nRow, aTime, &aCol[i], &body, &aStat[i], &abNull[i]);
    anCol[i] = body.n - nStart;
  }
  if( rc==TS_CHUNK_OK && body.bErr ) rc = TS_CHUNK_NOMEM;
  if( rc ) goto done;

  {
    size_t nStart = pOut->n;
    tsBufAppend(pOut, aMagic, 3);
    tsBufAppendByte(pOut, bMark ? CHUNK_V3 : aMagic[3]);
    tsBufAppendU32le(pOut, 0);  /* CRC, filled in below */
    tsBufAppendVarint(pOut, (uint64_t)nRow);
    tsBufAppendVarint(pOut, (uint64_t)nCol);
    tsBufAppendZigzag(pOut, aTime[0]);
    tsBufAppendVarint(pOut, (uint64_t)aTime[nRow-1] - (uint64_t)aTime[0]);
    tsBufAppendVarint(pOut, (uint64_t)nTime);
    tsBufAppendVarint(pOut, (uint64_t)nVer);
    for(i=0; i<nCol; i++){
      tsBufAppendByte(pOut, (unsigned char)aCol[i].eType);
      tsBufAppendByte(pOut, abNull[i] ? FLAG_NULLS : 0);
      tsBufAppendVarint(pOut, (uint64_t)aStat[i].nValue);
      statWrite(pOut, aCol[i].eType, &aStat[i]);
      endsWrite(pOut, aCol[i].eType, abNull[i], aTime[0], aTime[nRow-1], &aStat[i]);
      tsBufAppendVarint(pOut, (uint64_t)anCol[i]);
    }
    if( !pOut->bErr ){
      tsBufAppendU32le(pOut, blobCrc(pOut->a + nStart + 8, pOut->n - nStart - 8));
    }
    tsBufAppend(pOut, body.a, body.n);
    if( !pOut->bErr ){
      unsigned char *aCrc = pOut->a + nStart + 4;
      uint32_t crc = blobCrc(pOut->a + nStart + 8, pOut->n - nStart - 8);
      aCrc[0] = (unsigned char)crc; aCrc[1] = (unsigned char)(crc>>8);
      aCrc[2] = (unsigned char)(crc>>16); aCrc[3] = (unsigned char)(crc>>24);
    }
    if( pOut->bErr ){
      /* Leave pOut as it was, apart from the sticky error. */
      if( pOut->n>nStart ) pOut->n = nStart;
      rc = TS_CHUNK_NOMEM;
    }
  }

done:
  tsBufFree(&body);
  free(anCol);
  free(aStat);
  free(abNull);
  return rc;
}

/*************************************************************************
** Header parsing (shared by tsChunkInfoGet and the reader).
*/
typedef struct ColDir ColDir;
struct ColDir {
  int eType;
  int bNull;           /* payload starts with a NULL bitmap */
  TsChunkStat stat;
  size_t iOff;         /* payload offset in the blob */
  size_t nByte;        /* payload length */
};

typedef struct Header Header;
struct Header {
  TsChunkInfo info;
  int iVersion;        /* format version: 1 or 2 */
  size_t nBlob;        /* size of the whole blob (the reader may hold only
                       ** a prefix: tsChunkInfoGetPrefix) */
  size_t iTime, nTime; /* time payload offset/length */
  size_t iVer, nVer;   /* version payload */
};


/* Parse the fixed part of the header. */
/* bWhole: check the CRC of the whole blob (always for version 1, whose
** header has no checksum of its own). */
static int headerRead(TsRd *pRd, Header *pH, int bWhole, size_t nBlob){
  const unsigned char *aM;
  uint64_t nRow, nCol, nSpan, nTime, nVer;
  uint32_t crc;
  int64_t tMin;
  memset(pH, 0, sizeof(*pH));
  if( tsRdBytes(pRd, 4, &aM) || memcmp(aM, aMagic, 3)!=0
   || (aM[3]!=aMagic[3] && aM[3]!=CHUNK_V1 && aM[3]!=CHUNK_V3) ) return TS_CHUNK_CORRUPT;
  pH->iVersion = aM[3];
  if( tsRdU32le(pRd, &crc) ) return TS_CHUNK_CORRUPT;
  pH->nBlob = nBlob;
  if( (bWhole || pH->iVersion==CHUNK_V1)
   && (pRd->n!=nBlob || crc!=blobCrc(pRd->a + 8, pRd->n - 8)) ){
    return TS_CHUNK_CORRUPT;
  }
  if( tsRdVarint(pRd, &nRow) || tsRdVarint(pRd, &nCol) || tsRdZigzag(pRd, &tMin)
   || tsRdVarint(pRd, &nSpan) || tsRdVarint(pRd, &nTime) || tsRdVarint(pRd, &nVer) ){
    return TS_CHUNK_CORRUPT;
  }
  if( nRow<1 || nRow>TS_CHUNK_MAX_ROWS || nCol>TS_CHUNK_MAX_COLS ) return TS_CHUNK_CORRUPT;
  if( nRow==1 && nSpan!=0 ) return TS_CHUNK_CORRUPT;
  if( nRow>1 && nSpan==0 ) return TS_CHUNK_CORRUPT;
  if( nSpan > (uint64_t)INT64_MAX - (uint64_t)tMin ) return TS_CHUNK_CORRUPT;
  if( nTime>nBlob || nVer>nBlob ) return TS_CHUNK_CORRUPT;
  pH->info.nRow = (int)nRow;
  pH->info.nCol = (int)nCol;
  pH->info.tMin = tMin;
  pH->info.tMax = (int64_t)((uint64_t)tMin + nSpan);
  pH->nTime = (size_t)nTime;
  pH->nVer = (size_t)nVer;
  return TS_CHUNK_OK;
}

/* Parse one column directory entry. */
static int colDirRead(TsRd *pRd, const Header *pH, ColDir *pD){
  unsigned char eType, flags;
  uint64_t nValue, nByte;
  memset(pD, 0, sizeof(*pD));
  if( tsRdByte(pRd, &eType) || tsRdByte(pRd, &flags) || tsRdVarint(pRd, &nValue) ){
    return TS_CHUNK_CORRUPT;
  }
  if( eType<TS_TYPE_DOUBLE || eType>TS_TYPE_TIMESTAMP ) return TS_CHUNK_CORRUPT;
  if( flags & ~FLAG_NULLS ) return TS_CHUNK_CORRUPT;
  if( flags & FLAG_NULLS ){
    if( nValue>=(uint64_t)pH->info.nRow ) return TS_CHUNK_CORRUPT;
  }else if( nValue!=(uint64_t)pH->info.nRow ){
    return TS_CHUNK_CORRUPT;
  }
  pD->eType = eType;
  pD->bNull = (flags & FLAG_NULLS)!=0;
  pD->stat.nValue = (int64_t)nValue;
  if( nValue>0 ){
    switch( eType ){
      case TS_TYPE_DOUBLE:
        if( cf64Read(pRd, &pD->stat.rMin) || cf64Read(pRd, &pD->stat.rMax)
         || cf64Read(pRd, &pD->stat.rSum) ) return TS_CHUNK_CORRUPT;
        break;
      case TS_TYPE_VARCHAR:
        break;
      default: {
        int64_t iMin;
        uint64_t nRange;
        if( tsRdZigzag(pRd, &iMin) || tsRdVarint(pRd, &nRange)
         || cf64Read(pRd, &pD->stat.rSum) ) return TS_CHUNK_CORRUPT;
        if( nRange > (uint64_t)INT64_MAX - (uint64_t)iMin ) return TS_CHUNK_CORRUPT;
        pD->stat.iMin = iMin;
        pD->stat.iMax = (int64_t)((uint64_t)iMin + nRange);
        if( eType==TS_TYPE_BOOLEAN && (iMin<0 || pD->stat.iMax>1) ) return TS_CHUNK_CORRUPT;
        break;
      }
    }
  }
  if( pH->iVersion>=2 && nValue>0 && eType!=TS_TYPE_VARCHAR ){
    TsChunkStat *st = &pD->stat;
    uint64_t dFirst = 0, dLast = 0;
    uint64_t nSpan = (uint64_t)pH->info.tMax - (uint64_t)pH->info.tMin;
    if( eType==TS_TYPE_DOUBLE ){
      if( cf64Read(pRd, &st->rFirst) || cf64Read(pRd, &st->rLast) ) return TS_CHUNK_CORRUPT;
    }else{
      if( tsRdZigzag(pRd, &st->iFirst) || tsRdZigzag(pRd, &st->iLast) ) return TS_CHUNK_CORRUPT;
    }
    if( pD->bNull ){
      if( tsRdVarint(pRd, &dFirst) || tsRdVarint(pRd, &dLast) ) return TS_CHUNK_CORRUPT;
      if( dFirst>nSpan || dLast>nSpan || dFirst>nSpan-dLast ) return TS_CHUNK_CORRUPT;
    }
    st->bEnds = 1;
    st->tFirst = (int64_t)((uint64_t)pH->info.tMin + dFirst);
    st->tLast = (int64_t)((uint64_t)pH->info.tMax - dLast);
  }
  if( tsRdVarint(pRd, &nByte) || nByte>pH->nBlob ) return TS_CHUNK_CORRUPT;
  pD->nByte = (size_t)nByte;
  return TS_CHUNK_OK;
}

/* Version 2: the header's own CRC-32 (of bytes 8 .. the end of the column
** directory) follows the directory. */
static int headerCrcRead(TsRd *pRd, const Header *pH){
  uint32_t crc;
  size_t iEnd = pRd->i;
  if( pH->iVersion==CHUNK_V1 ) return TS_CHUNK_OK;
  if( tsRdU32le(pRd, &crc) || crc!=blobCrc(pRd->a + 8, iEnd - 8) ) return TS_CHUNK_CORRUPT;
  return TS_CHUNK_OK;
}

/* Assign payload offsets after the header; the payloads must fill the rest
** of the blob exactly. */
static int layoutCheck(size_t iBody, size_t n, Header *pH, ColDir *aD, size_t nStride, int nD){
  size_t iOff = iBody;
  int i;
  pH->iTime = iOff;
  if( pH->nTime > n - iOff ) return TS_CHUNK_CORRUPT;
  iOff += pH->nTime;
  pH->iVer = iOff;
  if( pH->nVer > n - iOff ) return TS_CHUNK_CORRUPT;
  iOff += pH->nVer;
  for(i=0; i<nD; i++){
    ColDir *pD = (ColDir*)((char*)aD + nStride*(size_t)i);   /* aD: entries nStride bytes apart */
    pD->iOff = iOff;
    if( pD->nByte > n - iOff ) return TS_CHUNK_CORRUPT;
    iOff += pD->nByte;
  }
  return iOff==n ? TS_CHUNK_OK : TS_CHUNK_CORRUPT;
}

/* The header of a blob of nTotal bytes from its first nHave bytes. */
static int infoGet(const void *a, size_t nHave, size_t nTotal, TsChunkInfo *pInfo,
                   TsChunkStat *aStat, int nStat){
  TsRd rd;
  Header h;
  size_t nSum;
  int rc, i;
  memset(pInfo, 0, sizeof(*pInfo));
  if( a==0 || nHave>nTotal ) return TS_CHUNK_CORRUPT;
  tsRdInit(&rd, a, nHave);
  rc = headerRead(&rd, &h, 0, nTotal);
  if( rc ) return rc;
  nSum = h.nTime + h.nVer;
  for(i=0; i<h.info.nCol; i++){
    ColDir d;
    rc = colDirRead(&rd, &h, &d);
    if( rc ) return rc;
    if( d.nByte > nTotal - nSum ) return TS_CHUNK_CORRUPT;
    nSum += d.nByte;
    if( aStat && i<nStat ) aStat[i] = d.stat;
  }
  rc = headerCrcRead(&rd, &h);
  if( rc ) return rc;
  if( nSum!=nTotal - rd.i ) return TS_CHUNK_CORRUPT;
  *pInfo = h.info;
  return TS_CHUNK_OK;
}

int tsChunkInfoGet(const void *a, size_t n, TsChunkInfo *pInfo,
                   TsChunkStat *aStat, int nStat){
  return infoGet(a, n, n, pInfo, aStat, nStat);
}

int tsChunkInfoGetPrefix(const void *a, size_t nHave, size_t nTotal, TsChunkInfo *pInfo,
                         TsChunkStat *aStat, int nStat){
  return infoGet(a, nHave, nTotal, pInfo, aStat, nStat);
}

/*************************************************************************
** Reader.
*/
typedef struct ReaderCol ReaderCol;
struct ReaderCol {
  ColDir dir;
  uint8_t *aNull;        /* decoded NULL flags or NULL; owned */
  double *aDouble;       /* owned */
  int64_t *aInt;         /* owned */
  const char **azText;   /* owned array; strings point into the blob */
  int *anText;           /* owned */
  unsigned char *aTextBuf;  /* decompressed VARCHAR dictionary or NULL; owned */
  int bDone;             /* decoded: the arrays above are the result */
  int nDone;             /* rows [0, nDone) of the arrays are decoded (nRow
                         ** after a whole decode; less after a span's) */
  int nCap;              /* rows the arrays hold (kept across
                         ** tsChunkReaderReopen: a reused reader allocates
                         ** only for a bigger chunk) */
};

struct TsChunkReader {
  const unsigned char *a;  /* the blob; not owned */
  size_t n;
  Header h;
  int64_t *aTime;          /* decoded times or NULL; owned */
  int64_t *aVersion;       /* decoded versions or NULL; owned */
  unsigned char *aMark;    /* decoded write marks (v3) or NULL; owned */
  int bMarkDone;           /* aMark is decoded (NULL: all 0) */
  int bTimeDone;           /* aTime holds this blob's times */
  int nTimeCap;            /* rows aTime holds */
  ReaderCol *aCol;         /* nColAlloc entries, the first h.info.nCol of
                           ** them this blob's; owned */
  int nColAlloc;
};

/* Free a column's arrays. */
static void readerColClear(ReaderCol *p){
  free(p->aNull); free(p->aDouble); free(p->aInt);
  free((void*)p->azText); free(p->anText); free(p->aTextBuf);
  p->aTextBuf = 0;
  p->aNull = 0; p->aDouble = 0; p->aInt = 0; p->azText = 0; p->anText = 0;
  p->bDone = 0;
  p->nDone = 0;
  p->nCap = 0;
}

/* Make the column's arrays for its type hold nRow rows, keeping those
** that already do (their contents are stale until decoded). */
static int readerColArrays(ReaderCol *p, int nRow){
  free(p->aTextBuf);
  p->aTextBuf = 0;
  p->bDone = 0;
  p->nDone = 0;
  if( p->nCap<nRow ) readerColClear(p);
  p->nCap = nRow;
  if( p->dir.bNull && p->aNull==0 && (p->aNull = (uint8_t*)malloc((size_t)nRow))==0 ) goto nomem;
  switch( p->dir.eType ){
    case TS_TYPE_DOUBLE:
      if( p->aDouble==0 && (p->aDouble = (double*)malloc(sizeof(double)*(size_t)nRow))==0 ) goto nomem;
      break;
    case TS_TYPE_VARCHAR:
      if( p->azText==0 && (p->azText = (const char**)malloc(sizeof(char*)*(size_t)nRow))==0 ) goto nomem;
      if( p->anText==0 && (p->anText = (int*)malloc(sizeof(int)*(size_t)nRow))==0 ) goto nomem;
      break;
    default:
      if( p->aInt==0 && (p->aInt = (int64_t*)malloc(sizeof(int64_t)*(size_t)nRow))==0 ) goto nomem;
      break;
  }
  return TS_CHUNK_OK;
nomem:
  readerColClear(p);
  return TS_CHUNK_NOMEM;
}

static void readerColOut(const ReaderCol *pC, TsChunkCol *pCol){
  int e = pC->dir.eType;
  pCol->eType = e;
  pCol->aNull = pC->dir.bNull ? pC->aNull : 0;
  pCol->aDouble = e==TS_TYPE_DOUBLE ? pC->aDouble : 0;
  pCol->aInt = e!=TS_TYPE_DOUBLE && e!=TS_TYPE_VARCHAR ? pC->aInt : 0;
  pCol->azText = e==TS_TYPE_VARCHAR ? pC->azText : 0;
  pCol->anText = e==TS_TYPE_VARCHAR ? pC->anText : 0;
}

/* Parse blob a[0..n) into reader p (fresh or reused): header, column
** directory, layout; nothing decoded yet. */
static int readerParse(TsChunkReader *p, const void *a, size_t n){
  TsRd rd;
  int rc, i;
  p->a = (const unsigned char*)a;
  p->n = n;
  p->bTimeDone = 0;
  free(p->aVersion);
  free(p->aMark);
  p->aVersion = 0;
  p->aMark = 0;
  p->bMarkDone = 0;
  for(i=0; i<p->nColAlloc; i++){ p->aCol[i].bDone = 0; p->aCol[i].nDone = 0; }
  if( a==0 ){ memset(&p->h, 0, sizeof(p->h)); return TS_CHUNK_CORRUPT; }
  tsRdInit(&rd, a, n);
  rc = headerRead(&rd, &p->h, 1, n);
  if( rc ){ p->h.info.nCol = 0; return rc; }
  if( p->h.info.nCol>p->nColAlloc ){
    ReaderCol *aNew = (ReaderCol*)realloc(p->aCol, sizeof(ReaderCol)*(size_t)p->h.info.nCol);
    if( aNew==0 ){ p->h.info.nCol = 0; return TS_CHUNK_NOMEM; }
    memset(&aNew[p->nColAlloc], 0, sizeof(ReaderCol)*(size_t)(p->h.info.nCol - p->nColAlloc));
    p->aCol = aNew;
    p->nColAlloc = p->h.info.nCol;
  }
  for(i=0; rc==TS_CHUNK_OK && i<p->h.info.nCol; i++){
    rc = colDirRead(&rd, &p->h, &p->aCol[i].dir);
  }
  if( rc==TS_CHUNK_OK ) rc = headerCrcRead(&rd, &p->h);
  if( rc==TS_CHUNK_OK && p->h.info.nCol>0 ){
    rc = layoutCheck(rd.i, n, &p->h, &p->aCol[0].dir, sizeof(ReaderCol), p->h.info.nCol);
  }else if( rc==TS_CHUNK_OK ){
    rc = layoutCheck(rd.i, n, &p->h, 0, 0, 0);
  }
  if( rc ) p->h.info.nCol = 0;
  return rc;
}

int tsChunkReaderOpen(const void *a, size_t n, TsChunkReader **pp){
  TsChunkReader *p;
  int rc;
  *pp = 0;
  if( a==0 ) return TS_CHUNK_CORRUPT;
  p = (TsChunkReader*)calloc(1, sizeof(*p));
  if( p==0 ) return TS_CHUNK_NOMEM;
  rc = readerParse(p, a, n);
  if( rc ){
    tsChunkReaderFree(p);
    return rc;
  }
  *pp = p;
  return TS_CHUNK_OK;
}

int tsChunkReaderReopen(TsChunkReader *p, const void *a, size_t n){
  return readerParse(p, a, n);
}

void tsChunkReaderFree(TsChunkReader *p){
  int i;
  if( p==0 ) return;
  if( p->aCol ){
    for(i=0; i<p->nColAlloc; i++) readerColClear(&p->aCol[i]);
    free(p->aCol);
  }
  free(p->aTime);
  free(p->aVersion);
  free(p->aMark);
  free(p);
}

const TsChunkInfo *tsChunkReaderInfo(TsChunkReader *p){ return &p->h.info; }

/* Decode an ISEQ payload of nRow values that must consume it exactly. */
static int payloadIseq(TsChunkReader *p, size_t iOff, size_t nByte, int64_t **pa){
  int nRow = p->h.info.nRow;
  int64_t *a;
  TsRd rd;
  int rc;
  *pa = 0;
  a = (int64_t*)malloc(sizeof(int64_t)*(size_t)nRow);
  if( a==0 ) return TS_CHUNK_NOMEM;
  tsRdInit(&rd, p->a + iOff, nByte);
  rc = tsChunkIseqDecode(&rd, a, nRow);
  if( rc==TS_CHUNK_OK && rd.i!=nByte ) rc = TS_CHUNK_CORRUPT;
  if( rc ){ free(a); return rc; }
  *pa = a;
  return TS_CHUNK_OK;
}

int tsChunkReadTime(TsChunkReader *p, const int64_t **paTime){
  int rc = TS_CHUNK_OK;
  *paTime = 0;
  if( p->h.info.nRow<1 ) return TS_CHUNK_MISUSE;   /* a failed (re)open */
  if( !p->bTimeDone ){
    int64_t *a;
    int i, nRow = p->h.info.nRow;
    TsRd rd;
    if( p->nTimeCap<nRow ){
      free(p->aTime);
      p->nTimeCap = 0;
      p->aTime = (int64_t*)malloc(sizeof(int64_t)*(size_t)nRow);
      if( p->aTime==0 ) return TS_CHUNK_NOMEM;
      p->nTimeCap = nRow;
    }
    a = p->aTime;
    tsRdInit(&rd, p->a + p->h.iTime, p->h.nTime);
    rc = tsChunkIseqDecode(&rd, a, nRow);
    if( rc==TS_CHUNK_OK && rd.i!=p->h.nTime ) rc = TS_CHUNK_CORRUPT;
    if( rc ) return rc;
    for(i=0; i<nRow; i++) a[i] = (int64_t)((uint64_t)a[i] + (uint64_t)p->h.info.tMin);
    if( a[0]!=p->h.info.tMin || a[nRow-1]!=p->h.info.tMax ) rc = TS_CHUNK_CORRUPT;
    for(i=1; rc==TS_CHUNK_OK && i<nRow; i++) if( a[i]<=a[i-1] ) rc = TS_CHUNK_CORRUPT;
    if( rc ) return rc;
    p->bTimeDone = 1;
  }
  *paTime = p->aTime;
  return rc;
}

/* Decode the version payload: the versions, and for version 3 the write
** marks after them (both must consume the payload exactly). */
static int payloadVersion(TsChunkReader *p){
  int nRow = p->h.info.nRow, rc, i;
  int64_t *aV, *aM = 0;
  TsRd rd;
  if( p->h.iVersion!=CHUNK_V3 ){
    rc = payloadIseq(p, p->h.iVer, p->h.nVer, &p->aVersion);
    if( rc==TS_CHUNK_OK ) p->bMarkDone = 1;
    return rc;
  }
  aV = (int64_t*)malloc(sizeof(int64_t)*(size_t)nRow);
  aM = (int64_t*)malloc(sizeof(int64_t)*(size_t)nRow);
  p->aMark = (unsigned char*)malloc((size_t)nRow);
  if( aV==0 || aM==0 || p->aMark==0 ){
    free(aV); free(aM); free(p->aMark); p->aMark = 0;
    return TS_CHUNK_NOMEM;
  }
  tsRdInit(&rd, p->a + p->h.iVer, p->h.nVer);
  rc = tsChunkIseqDecode(&rd, aV, nRow);
  if( rc==TS_CHUNK_OK ) rc = tsChunkIseqDecode(&rd, aM, nRow);
  if( rc==TS_CHUNK_OK && rd.i!=p->h.nVer ) rc = TS_CHUNK_CORRUPT;
  for(i=0; rc==TS_CHUNK_OK && i<nRow; i++){
    if( aM[i]<0 || aM[i]>2 ) rc = TS_CHUNK_CORRUPT;
    else p->aMark[i] = (unsigned char)aM[i];
  }
  free(aM);
  if( rc ){ free(aV); free(p->aMark); p->aMark = 0; return rc; }
  p->aVersion = aV;
  p->bMarkDone = 1;
  return TS_CHUNK_OK;
}

int tsChunkReadVersion(TsChunkReader *p, const int64_t **paVersion){
  *paVersion = 0;
  if( p->aVersion==0 ){
    int rc = payloadVersion(p);
    if( rc ) return rc;
  }
  *paVersion = p->aVersion;
  return TS_CHUNK_OK;
}

int tsChunkReadMark(TsChunkReader *p, const unsigned char **paMark){
  *paMark = 0;
  if( !p->bMarkDone ){
    int rc = payloadVersion(p);
    if( rc ) return rc;
  }
  *paMark = p->aMark;
  return TS_CHUNK_OK;
}

/* Decode the values of a VARCHAR payload into az/an (nVal entries).  The
** strings point into the blob, or for a compressed dictionary into
** *ppOwned, which the caller frees. */
static int textDecode(TsRd *pRd, const char **az, int *an, int nVal,
                      unsigned char **ppOwned){
  uint64_t nDict, i;
  const char **azD = 0;
  int *anD = 0;
  int64_t *aIdx = 0;
  int rc = TS_CHUNK_OK, k;
  unsigned char eMode;
  TsRd dictRd, *pDict = pRd;
  *ppOwned = 0;
  if( tsRdByte(pRd, &eMode) || eMode>TEXT_DICT_ZSTD ) return TS_CHUNK_CORRUPT;
  if( tsRdVarint(pRd, &nDict) || nDict<1 || nDict>(uint64_t)nVal ) return TS_CHUNK_CORRUPT;
  if( eMode==TEXT_DICT_ZSTD ){
    uint64_t nRaw, nZ;
    const unsigned char *aZ;
    size_t nOut;
    if( tsRdVarint(pRd, &nRaw) || tsRdVarint(pRd, &nZ) || nZ>pRd->n
     || nRaw > nZ*TEXT_ZSTD_RATIO + 1024 || nRaw<nDict
     || tsRdBytes(pRd, (size_t)nZ, &aZ) ){
      return TS_CHUNK_CORRUPT;
    }
    *ppOwned = (unsigned char*)malloc((size_t)nRaw);
    if( *ppOwned==0 ) return TS_CHUNK_NOMEM;
    nOut = ZSTD_decompress(*ppOwned, (size_t)nRaw, aZ, (size_t)nZ);
    if( ZSTD_isError(nOut) || nOut!=(size_t)nRaw ) return TS_CHUNK_CORRUPT;
    tsRdInit(&dictRd, *ppOwned, (size_t)nRaw);
    pDict = &dictRd;
  }
  azD = (const char**)malloc(sizeof(char*)*(size_t)nDict);
  anD = (int*)malloc(sizeof(int)*(size_t)nDict);
  aIdx = (int64_t*)malloc(sizeof(int64_t)*(size_t)nVal);
  if( azD==0 || anD==0 || aIdx==0 ){ rc = TS_CHUNK_NOMEM; goto done; }
  for(i=0; i<nDict; i++){
    uint64_t nLen;
    const unsigned char *aB;
    if( tsRdVarint(pDict, &nLen) || nLen>0x7fffffff || tsRdBytes(pDict, (size_t)nLen, &aB) ){
      rc = TS_CHUNK_CORRUPT;
      goto done;
    }
    azD[i] = nLen ? (const char*)aB : "";
    anD[i] = (int)nLen;
  }
  if( pDict!=pRd && pDict->i!=pDict->n ){ rc = TS_CHUNK_CORRUPT; goto done; }
  rc = tsChunkIseqDecode(pRd, aIdx, nVal);
  for(k=0; rc==TS_CHUNK_OK && k<nVal; k++){
    if( aIdx[k]<0 || (uint64_t)aIdx[k]>=nDict ){ rc = TS_CHUNK_CORRUPT; break; }
    az[k] = azD[aIdx[k]];
    an[k] = anD[aIdx[k]];
  }
done:
  free(azD); free(anD); free(aIdx);
  return rc;
}

int tsChunkReadCol(TsChunkReader *p, int iCol, TsChunkCol *pCol){
  return tsChunkReadColRows(p, iCol, 0, p->h.info.nRow, pCol);
}

/* Rows [iFrom, iTo) need the values of rows [0, iTo): the integer codings
** (DELTA, DOD, Gorilla) are running sums, so the decode stops after the
** block (ISEQ, TS_BLOCK values) or the value holding row iTo-1, and iFrom
** saves nothing; the CRC checked by tsChunkReaderOpen covers the bytes
** left unread.  VARCHAR and BOOLEAN columns are always decoded whole. */
int tsChunkReadColRows(TsChunkReader *p, int iCol, int iFrom, int iTo, TsChunkCol *pCol){
  ReaderCol *pC;
  int nRow = p->h.info.nRow;
  int nVal, nNeed, i, k, rc = TS_CHUNK_OK;
  int nTo;              /* rows decoded: [0, nTo) */
  TsRd rd;
  memset(pCol, 0, sizeof(*pCol));
  if( iCol<0 || iCol>=p->h.info.nCol ) return TS_CHUNK_MISUSE;
  if( iFrom<0 || iTo>nRow || iFrom>iTo ) return TS_CHUNK_MISUSE;
  pC = &p->aCol[iCol];
  if( pC->bDone && pC->nDone>=iTo ){
    /* Already decoded: the same arrays (callers may ask once per row). */
    readerColOut(pC, pCol);
    return TS_CHUNK_OK;
  }
  if( readerColArrays(pC, nRow) ) return TS_CHUNK_NOMEM;
  nVal = (int)pC->dir.stat.nValue;
  nTo = pC->dir.eType==TS_TYPE_VARCHAR || pC->dir.eType==TS_TYPE_BOOLEAN || iTo<1 ? nRow : iTo;
  nNeed = nVal;   /* values of rows [0, nTo), set below */
  tsRdInit(&rd, p->a + pC->dir.iOff, pC->dir.nByte);

  if( pC->dir.bNull ){
    const unsigned char *aB;
    int nNull = 0;
    if( tsRdBytes(&rd, (size_t)(nRow+7)/8, &aB) ) return TS_CHUNK_CORRUPT;
    for(i=0; i<nRow; i++){
      pC->aNull[i] = (aB[i>>3] >> (i&7)) & 1;
      nNull += pC->aNull[i];
    }
    /* Padding bits must be zero and the count must match the header. */
    if( (nRow & 7) && (aB[nRow>>3] >> (nRow&7))!=0 ) rc = TS_CHUNK_CORRUPT;
    if( nRow - nNull != nVal ) rc = TS_CHUNK_CORRUPT;
    if( rc ) goto fail;
    if( nTo<nRow ){
      for(i=nTo, nNeed=nVal; i<nRow; i++) nNeed -= pC->aNull[i]==0;
    }
  }else{
    nNeed = nTo;
  }
  if( nNeed<1 && nVal>0 ){
    nTo = nRow;   /* no value before row iTo: nothing to stop early for */
    nNeed = nVal;
  }

  switch( pC->dir.eType ){
    case TS_TYPE_DOUBLE: {
      double *a = pC->aDouble;
      if( nVal==0 ){ memset(a, 0, sizeof(double)*(size_t)nRow); break; }
      rc = tsChunkDoubleDecodePrefix(&rd, a, nVal, nNeed);
      if( rc ) goto fail;
      if( pC->dir.bNull ){
        /* Spread the values backwards to their rows. */
        k = nNeed - 1;
        for(i=nTo-1; i>=0; i--) a[i] = pC->aNull[i] ? 0.0 : a[k--];
      }
      break;
    }
    case TS_TYPE_VARCHAR: {
      memset((void*)pC->azText, 0, sizeof(char*)*(size_t)nRow);
      memset(pC->anText, 0, sizeof(int)*(size_t)nRow);
      if( nVal==0 ) break;
      rc = textDecode(&rd, pC->azText, pC->anText, nVal, &pC->aTextBuf);
      if( rc ) goto fail;
      if( pC->dir.bNull ){
        k = nVal - 1;
        for(i=nRow-1; i>=0; i--){
          if( pC->aNull[i] ){ pC->azText[i] = 0; pC->anText[i] = 0; }
          else{ pC->azText[i] = pC->azText[k]; pC->anText[i] = pC->anText[k]; k--; }
        }
      }
      break;
    }
    case TS_TYPE_BOOLEAN: {
      unsigned char eMode;
      int64_t *a = pC->aInt;
      if( nVal==0 ){ memset(a, 0, sizeof(int64_t)*(size_t)nRow); break; }
      if( tsRdByte(&rd, &eMode) ){ rc = TS_CHUNK_CORRUPT; goto fail; }
      if( eMode==BOOL_CONST ){
        unsigned char v;
        if( tsRdByte(&rd, &v) || v>1 ){ rc = TS_CHUNK_CORRUPT; goto fail; }
        for(i=0; i<nVal; i++) a[i] = v;
      }else if( eMode==BOOL_BITMAP ){
        const unsigned char *aB;
        if( tsRdBytes(&rd, (size_t)(nVal+7)/8, &aB) ){ rc = TS_CHUNK_CORRUPT; goto fail; }
        for(i=0; i<nVal; i++) a[i] = (aB[i>>3] >> (i&7)) & 1;
      }else{
        rc = TS_CHUNK_CORRUPT;
        goto fail;
      }
      if( pC->dir.bNull ){
        k = nVal - 1;
        for(i=nRow-1; i>=0; i--) a[i] = pC->aNull[i] ? 0 : a[k--];
      }
      break;
    }
    default: {  /* BIGINT, TIMESTAMP */
      int64_t *a = pC->aInt;
      if( nVal==0 ){ memset(a, 0, sizeof(int64_t)*(size_t)nRow); break; }
      rc = tsChunkIseqDecodePrefix(&rd, a, nVal, nNeed);
      if( rc ) goto fail;
      if( pC->dir.bNull ){
        k = nNeed - 1;
        for(i=nTo-1; i>=0; i--) a[i] = pC->aNull[i] ? 0 : a[k--];
      }
      break;
    }
  }
  /* A whole decode must consume the payload exactly (XOR streams end at
  ** the payload). */
  if( nTo==nRow && rd.i!=pC->dir.nByte ){ rc = TS_CHUNK_CORRUPT; goto fail; }

  pC->bDone = 1;
  pC->nDone = nTo;
  readerColOut(pC, pCol);
  return TS_CHUNK_OK;

fail:
  readerColClear(pC);
  return rc;
}

/*************************************************************************
** Integrity check.
*/
static void verifyMsg(char *zErr, size_t nErr, const char *zFmt, ...){
  va_list ap;
  if( zErr==0 || nErr==0 ) return;
  va_start(ap, zFmt);
  vsnprintf(zErr, nErr, zFmt, ap);
  va_end(ap);
}

const char *tsChunkTypeName(int eType){
  switch( eType ){
    case TS_TYPE_DOUBLE: return "DOUBLE";
    case TS_TYPE_BIGINT: return "BIGINT";
    case TS_TYPE_VARCHAR: return "VARCHAR";
    case TS_TYPE_BOOLEAN: return "BOOLEAN";
    case TS_TYPE_TIMESTAMP: return "TIMESTAMP";
  }
  return "?";
}

int tsChunkVerify(const void *a, size_t n, char *zErr, size_t nErr){
  TsChunkReader *p = 0;
  const int64_t *aT, *aTime = 0;
  int rc, i, j;
  if( zErr && nErr ) zErr[0] = 0;
  if( a==0 || n<8 || memcmp(a, aMagic, 3)!=0
   || (((const unsigned char*)a)[3]!=aMagic[3] && ((const unsigned char*)a)[3]!=CHUNK_V1
       && ((const unsigned char*)a)[3]!=CHUNK_V3) ){
    verifyMsg(zErr, nErr, "not a chunk (bad magic or unknown format version)");
    return TS_CHUNK_CORRUPT;
  }
  {
    const unsigned char *aB = (const unsigned char*)a;
    uint32_t crc = (uint32_t)aB[4] | ((uint32_t)aB[5]<<8) | ((uint32_t)aB[6]<<16) | ((uint32_t)aB[7]<<24);
    uint32_t crcReal = blobCrc(aB + 8, n - 8);
    if( crc!=crcReal ){
      verifyMsg(zErr, nErr, "checksum mismatch (stored %08x, computed %08x over %zu bytes)",
                crc, crcReal, n);
      return TS_CHUNK_CORRUPT;
    }
  }
  rc = tsChunkReaderOpen(a, n, &p);
  if( rc ){
    verifyMsg(zErr, nErr, rc==TS_CHUNK_NOMEM ? "out of memory" : "malformed header or column directory");
    return rc;
  }
  rc = tsChunkReadTime(p, &aTime);
  if( rc ){
    verifyMsg(zErr, nErr, "time column: %s", rc==TS_CHUNK_NOMEM ? "out of memory"
              : "malformed, not strictly increasing, or not matching the header's time range");
    goto done;
  }
  rc = tsChunkReadVersion(p, &aT);
  if( rc ){
    verifyMsg(zErr, nErr, "version column: %s", rc==TS_CHUNK_NOMEM ? "out of memory" : "malformed");
    goto done;
  }
  for(i=0; i<p->h.info.nCol; i++){
    TsChunkCol c;
    const TsChunkStat *pH = &p->aCol[i].dir.stat;
    TsChunkStat st;
    int nRow = p->h.info.nRow, k = 0, eType = p->aCol[i].dir.eType;
    rc = tsChunkReadCol(p, i, &c);
    if( rc ){
      verifyMsg(zErr, nErr, "column %d (%s): %s", i, tsChunkTypeName(eType),
                rc==TS_CHUNK_NOMEM ? "out of memory" : "malformed payload");
      goto done;
    }
    memset(&st, 0, sizeof(st));
    for(j=0; j<nRow; j++) if( !c.aNull || !c.aNull[j] ) st.nValue++;
    if( st.nValue!=pH->nValue ){
      verifyMsg(zErr, nErr, "column %d (%s): header says %lld values, payload has %lld",
                i, tsChunkTypeName(eType), (long long)pH->nValue, (long long)st.nValue);
      rc = TS_CHUNK_CORRUPT;
      goto done;
    }
    if( st.nValue==0 || eType==TS_TYPE_VARCHAR ) continue;
    if( eType==TS_TYPE_DOUBLE ){
      double *aV = (double*)malloc(sizeof(double)*(size_t)st.nValue);
      if( aV==0 ){ rc = TS_CHUNK_NOMEM; verifyMsg(zErr, nErr, "out of memory"); goto done; }
      for(j=0; j<nRow; j++) if( !c.aNull || !c.aNull[j] ) aV[k++] = c.aDouble[j];
      statDoubles(aV, k, &st);
      free(aV);
      if( dblBits(st.rMin)!=dblBits(pH->rMin) || dblBits(st.rMax)!=dblBits(pH->rMax)
       || dblBits(st.rSum)!=dblBits(pH->rSum) ){
        verifyMsg(zErr, nErr, "column %d (DOUBLE): header min/max/sum %.17g/%.17g/%.17g, "
                  "contents %.17g/%.17g/%.17g", i, pH->rMin, pH->rMax, pH->rSum,
                  st.rMin, st.rMax, st.rSum);
        rc = TS_CHUNK_CORRUPT;
        goto done;
      }
    }else{
      int64_t *aV = (int64_t*)malloc(sizeof(int64_t)*(size_t)st.nValue);
      if( aV==0 ){ rc = TS_CHUNK_NOMEM; verifyMsg(zErr, nErr, "out of memory"); goto done; }
      for(j=0; j<nRow; j++) if( !c.aNull || !c.aNull[j] ) aV[k++] = c.aInt[j];
      statInts(aV, k, &st);
      free(aV);
      if( st.iMin!=pH->iMin || st.iMax!=pH->iMax || dblBits(st.rSum)!=dblBits(pH->rSum) ){
        verifyMsg(zErr, nErr, "column %d (%s): header min/max/sum %lld/%lld/%.17g, "
                  "contents %lld/%lld/%.17g", i, tsChunkTypeName(eType), (long long)pH->iMin,
                  (long long)pH->iMax, pH->rSum, (long long)st.iMin, (long long)st.iMax, st.rSum);
        rc = TS_CHUNK_CORRUPT;
        goto done;
      }
    }
    if( pH->bEnds ){
      TsChunkStat e;
      memset(&e, 0, sizeof(e));
      statEnds(nRow, aTime, &c, c.aNull, &e);
      if( e.tFirst!=pH->tFirst || e.tLast!=pH->tLast
       || (eType==TS_TYPE_DOUBLE ? (dblBits(e.rFirst)!=dblBits(pH->rFirst)
                                    || dblBits(e.rLast)!=dblBits(pH->rLast))
                                 : (e.iFirst!=pH->iFirst || e.iLast!=pH->iLast)) ){
        verifyMsg(zErr, nErr, "column %d (%s): header first/last value or time differs from "
                  "the contents", i, tsChunkTypeName(eType));
        rc = TS_CHUNK_CORRUPT;
        goto done;
      }
    }
  }
done:
  tsChunkReaderFree(p);
  return rc;
}
