/*
** pq_encode.c: Parquet value encodings and page compression codecs.
**
**  RLE/bit-packed hybrid (levels, dictionary indices):
**    run := rle-run | bitpacked-run
**    rle-run       varint(count<<1), value in ceil(w/8) bytes little-endian
**    bitpacked-run varint(groups<<1 | 1), groups*8 values packed LSB-first
**                  in groups*w bytes
**  The encoder emits an RLE run for 8 or more equal values and bit-packed
**  groups of 8 otherwise; the final group is zero padded (readers stop at
**  the page's value count).
**
**  DELTA_BINARY_PACKED:
**    header  varint(block size 128) varint(miniblocks 4) varint(count)
**            zigzag(first value)
**    block   zigzag(min delta) 4 bit-width bytes, then 4 miniblocks of 32
**            deltas-minus-min bit-packed at their width
**  Arithmetic is modular (unsigned), so any int64 sequence round-trips.
**
**  BYTE_STREAM_SPLIT: byte j of value i goes to stream j; k streams of n
**  bytes concatenated.
**
**  Every decoder has a span form (tsPq*DecodeSpan): values [lo, hi) of a
**  page, without storing the ones before lo, so a reader that needs a few
**  rows of a page decodes little more than those.
**
**  Codecs: GZIP writes one RFC 1952 member (zlib, windowBits 15+16) and
**  reads concatenated members; ZSTD one frame (reads any frames); SNAPPY
**  (snappy.c) and LZ4_RAW (liblz4's block decoder) reading only.
*/
#include "pq_int.h"
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <lz4.h>
#include <limits.h>
#include <zstd.h>

int tsPqBitWidth(uint64_t v){
  int n = 0;
  while( v ){ n++; v >>= 1; }
  return n;
}

/* Append n values of w bits (n multiple of 8) packed LSB-first. */
static void packBits(TsBuf *pOut, const uint32_t *a, int64_t n, int w){
  uint64_t acc = 0;
  int nAcc = 0;
  int64_t i;
  if( w==0 ) return;
  if( tsBufReserve(pOut, (size_t)((n*w+7)/8)) ) return;
  for(i=0; i<n; i++){
    acc |= (uint64_t)a[i] << nAcc;
    nAcc += w;
    while( nAcc>=8 ){
      pOut->a[pOut->n++] = (unsigned char)acc;
      acc >>= 8;
      nAcc -= 8;
    }
  }
  if( nAcc>0 ) pOut->a[pOut->n++] = (unsigned char)acc;
}

static void rleRun(TsBuf *pOut, uint32_t v, int64_t n, int w){
  int nb = (w+7)/8, i;
  tsBufAppendVarint(pOut, (uint64_t)n << 1);
  for(i=0; i<nb; i++) tsBufAppendByte(pOut, (unsigned char)(v >> (8*i)));
}

static void bpRun(TsBuf *pOut, const uint32_t *a, int64_t n, int w){
  /* n values; pads to a multiple of 8 with zeros */
  int64_t nGroup = (n+7)/8;
  int64_t nFull = n & ~(int64_t)7;
  tsBufAppendVarint(pOut, ((uint64_t)nGroup << 1) | 1);
  packBits(pOut, a, nFull, w);
  if( nFull<n ){
    uint32_t aPad[8] = {0};
    memcpy(aPad, a+nFull, (size_t)(n-nFull)*sizeof(uint32_t));
    packBits(pOut, aPad, 8, w);
  }
}

/* Read w bits (0..64) at bit offset `bit` of a[0..nA), LSB first.  The
** caller guarantees the bits lie inside the buffer.  Fast path: one 8-byte
** little-endian load when it stays inside the buffer and w <= 56. */
static inline uint64_t getBits(const unsigned char *a, size_t nA, uint64_t bit, int w){
  uint64_t byte = bit>>3, v = 0;
  int off = (int)(bit & 7), got = 0;
  if( w==0 ) return 0;
  if( w<=56 && byte+8<=nA ){
    uint64_t x;
    memcpy(&x, a+byte, 8);            /* little-endian host (x86-64, arm64) */
    return (x >> off) & ((((uint64_t)1) << w) - 1);
  }
  while( got<w ){
    int take = 8-off; if( take>w-got ) take = w-got;
    v |= (uint64_t)((a[byte]>>off) & ((1u<<take)-1)) << got;
    got += take; off = 0; byte++;
  }
  return v;
}

void tsPqRleEncode(TsBuf *pOut, const uint32_t *a, int64_t n, int w){
  int64_t i = 0, iLit = 0;  /* literals pending: a[iLit..i) */
  while( i<n ){
    int64_t j = i+1;
    while( j<n && a[j]==a[i] ) j++;
    if( j-i>=8 ){
      /* top the literals up to a multiple of 8 from the run */
      int64_t nLit = i-iLit;
      int64_t nFill = (8 - (nLit & 7)) & 7;
      if( nLit>0 && j-i-nFill>=8 ){
        bpRun(pOut, a+iLit, nLit+nFill, w);
        i += nFill;
      }else if( nLit>0 ){
        i = j;            /* run too short after filling: keep as literals */
        continue;
      }
      rleRun(pOut, a[i], j-i, w);
      iLit = i = j;
    }else{
      i = j;
    }
  }
  if( iLit<n ) bpRun(pOut, a+iLit, n-iLit, w);
}

/* Nonzero values among the n values of w bits at bit offset `bit` (the
** bits lie inside a[0..nA)).  Width 1 (definition levels) counts bits. */
static int64_t countNonZero(const unsigned char *a, size_t nA, uint64_t bit, int64_t n, int w){
  int64_t c = 0, k;
  if( w==0 ) return 0;
  if( w==1 ){
    for(; n>=56; n-=56, bit+=56) c += __builtin_popcountll(getBits(a, nA, bit, 56));
    if( n>0 ) c += __builtin_popcountll(getBits(a, nA, bit, (int)n));
    return c;
  }
  for(k=0; k<n; k++) c += getBits(a, nA, bit+(uint64_t)k*(uint64_t)w, w)!=0;
  return c;
}

/* Values [iLo, iHi) of the stream go to aOut[0..iHi-iLo).  The values
** before iLo are not stored: an RLE run is stepped over in one go, a
** bit-packed run by its byte length (its set values counted when
** pnNonZero asks).  The stream must hold at least iHi values. */
int tsPqRleDecodeSpan(const unsigned char *a, size_t nByte, int w, int64_t iLo, int64_t iHi,
                      uint32_t *aOut, int64_t *pnNonZero){
  size_t iIn = 0;
  int64_t pos = 0, nNz = 0;      /* pos: stream index of the next run's first value */
  int nb = (w+7)/8;
  if( w<0 || w>32 || iLo<0 || iHi<iLo ) return 1;
  while( pos<iHi ){
    uint64_t h = 0;
    int sh = 0;
    for(;;){
      unsigned char c;
      if( iIn>=nByte || sh>63 ) return 1;
      c = a[iIn++];
      h |= (uint64_t)(c & 0x7f) << sh;
      sh += 7;
      if( !(c & 0x80) ) break;
    }
    if( h & 1 ){
      uint64_t nVal = (h>>1)*8;
      uint64_t nBits = nVal*(uint64_t)w;
      uint64_t bit0 = (uint64_t)iIn*8;
      uint32_t mask = w==32 ? 0xffffffffu : ((1u<<w)-1);
      int64_t nSkip, k, kEnd;
      size_t nNeed;
      if( (h>>1)==0 || (h>>1) > ((uint64_t)1<<40) ) return 1;
      nNeed = (size_t)((nBits+7)/8);
      if( nNeed > nByte-iIn ){
        /* a truncated final run is tolerated when it holds what we need */
        uint64_t nWant = (uint64_t)(iHi-pos);
        if( nWant*(uint64_t)w > (uint64_t)(nByte-iIn)*8 ) return 1;
        nVal = nWant;
      }
      nSkip = iLo>pos ? iLo-pos : 0;
      if( (uint64_t)nSkip>nVal ) nSkip = (int64_t)nVal;
      if( pnNonZero && nSkip>0 ) nNz += countNonZero(a, nByte, bit0, nSkip, w);
      kEnd = (uint64_t)(iHi-pos)<nVal ? iHi-pos : (int64_t)nVal;
      for(k=nSkip; k<kEnd; k++){
        aOut[pos+k-iLo] = (uint32_t)getBits(a, nByte, bit0+(uint64_t)k*(uint64_t)w, w) & mask;
      }
      pos += kEnd<(int64_t)nVal ? iHi-pos : (int64_t)nVal;
      iIn += nNeed < nByte-iIn ? nNeed : nByte-iIn;
    }else{
      uint64_t cnt = h>>1;
      uint32_t v = 0;
      int64_t s, e, q;
      int k;
      if( cnt==0 ) return 1;
      if( (size_t)nb > nByte-iIn ) return 1;
      for(k=0; k<nb; k++) v |= (uint32_t)a[iIn++] << (8*k);
      if( w<32 && (v >> w) ) return 1;
      if( cnt > (uint64_t)(iHi-pos) ) cnt = (uint64_t)(iHi-pos);
      e = pos+(int64_t)cnt;
      if( pnNonZero && v && pos<iLo ) nNz += (e<iLo ? e : iLo) - pos;
      s = pos>iLo ? pos : iLo;
      for(q=s; q<e; q++) aOut[q-iLo] = v;
      pos = e;
    }
  }
  if( pnNonZero ) *pnNonZero = nNz;
  return 0;
}

int tsPqRleDecode(const unsigned char *a, size_t nByte, int w, uint32_t *aOut, int64_t n){
  return tsPqRleDecodeSpan(a, nByte, w, 0, n, aOut, 0);
}

/*---------------------------- DELTA_BINARY_PACKED ----------------------------*/
#define PQ_DELTA_BLOCK 128
#define PQ_DELTA_MINI 4
#define PQ_DELTA_MINIVAL 32

static void packBits64(TsBuf *pOut, const uint64_t *a, int n, int w){
  int i;
  uint64_t bitAcc = 0; int nAcc = 0;
  if( w==0 ) return;
  for(i=0; i<n; i++){
    uint64_t v = a[i];
    int left = w;
    while( left>0 ){
      int take = 64-nAcc < left ? 64-nAcc : left;
      uint64_t part = take==64 ? v : (v & (((uint64_t)1<<take)-1));
      bitAcc |= part << nAcc;
      nAcc += take; left -= take;
      v = take==64 ? 0 : v>>take;
      while( nAcc>=8 ){
        tsBufAppendByte(pOut, (unsigned char)bitAcc);
        bitAcc >>= 8; nAcc -= 8;
      }
    }
  }
  if( nAcc>0 ) tsBufAppendByte(pOut, (unsigned char)bitAcc);
}

void tsPqDeltaEncode(TsBuf *pOut, const int64_t *a, int64_t n){
  int64_t i;
  tsBufAppendVarint(pOut, PQ_DELTA_BLOCK);
  tsBufAppendVarint(pOut, PQ_DELTA_MINI);
  tsBufAppendVarint(pOut, (uint64_t)n);
  tsBufAppendZigzag(pOut, n>0 ? a[0] : 0);
  for(i=1; i<n; i+=PQ_DELTA_BLOCK){
    uint64_t aD[PQ_DELTA_BLOCK] = {0};
    int nD = (int)(n-i < PQ_DELTA_BLOCK ? n-i : PQ_DELTA_BLOCK);
    int k, m;
    int64_t minD;
    unsigned char aW[PQ_DELTA_MINI];
    for(k=0; k<nD; k++) aD[k] = (uint64_t)a[i+k] - (uint64_t)a[i+k-1];
    minD = (int64_t)aD[0];
    for(k=1; k<nD; k++) if( (int64_t)aD[k]<minD ) minD = (int64_t)aD[k];
    for(k=0; k<nD; k++) aD[k] -= (uint64_t)minD;
    for(k=nD; k<PQ_DELTA_BLOCK; k++) aD[k] = 0;
    tsBufAppendZigzag(pOut, minD);
    for(m=0; m<PQ_DELTA_MINI; m++){
      uint64_t mx = 0;
      if( m*PQ_DELTA_MINIVAL < nD ){
        for(k=0; k<PQ_DELTA_MINIVAL; k++) mx |= aD[m*PQ_DELTA_MINIVAL+k];
      }
      aW[m] = (unsigned char)tsPqBitWidth(mx);
    }
    tsBufAppend(pOut, aW, PQ_DELTA_MINI);
    for(m=0; m<PQ_DELTA_MINI && m*PQ_DELTA_MINIVAL<nD; m++){
      packBits64(pOut, aD+m*PQ_DELTA_MINIVAL, PQ_DELTA_MINIVAL, aW[m]);
    }
  }
}

/* Values [iLo, iHi) go to aOut[0..iHi-iLo); decoding stops at iHi.  A
** value depends on every delta before it, so the miniblocks before iLo are
** summed (a width-0 miniblock in one step) without storing their values. */
int tsPqDeltaDecodeSpan(const unsigned char *a, size_t nByte, int64_t *aOut, int64_t iLo,
                        int64_t iHi, int bIs32, size_t *pnUsed){
  TsRd rd;
  uint64_t nBlock, nMini, nTotal, nPerMini;
  int64_t first, iOut = 0;
  tsRdInit(&rd, a, nByte);
  if( iLo<0 || iHi<iLo ) return 1;
  if( tsRdVarint(&rd, &nBlock) || tsRdVarint(&rd, &nMini) || tsRdVarint(&rd, &nTotal)
   || tsRdZigzag(&rd, &first) ) return 1;
  if( nBlock==0 || nBlock%128 || nBlock>65536 || nMini==0 || nBlock%nMini ) return 1;
  nPerMini = nBlock/nMini;
  if( nPerMini%32 ) return 1;
  if( (int64_t)nTotal < iHi ) return 1;
  {
    uint64_t prev = (uint64_t)first;
    if( bIs32 ) prev = (uint64_t)(int64_t)(int32_t)(uint32_t)prev;
    if( iHi>0 ){
      if( iLo==0 ) aOut[0] = (int64_t)prev;
      iOut = 1;
    }
    while( iOut<iHi ){
      int64_t minD;
      const unsigned char *aW;
      uint64_t m;
      if( tsRdZigzag(&rd, &minD) || tsRdBytes(&rd, (size_t)nMini, &aW) ) return 1;
      for(m=0; m<nMini && iOut<iHi; m++){
        int w = aW[m];
        uint64_t k, bit, nIn;
        size_t nb;
        if( w>64 ) return 1;
        nb = (size_t)((nPerMini*(uint64_t)w+7)/8);
        if( nb > rd.n-rd.i ){
          /* the last miniblock may be cut short by writers that do not pad */
          uint64_t need = (uint64_t)(iHi-iOut);
          if( need>nPerMini ) need = nPerMini;
          if( (need*(uint64_t)w+7)/8 > rd.n-rd.i ) return 1;
          nb = rd.n-rd.i;
        }
        bit = (uint64_t)rd.i*8;
        nIn = (uint64_t)(iHi-iOut) < nPerMini ? (uint64_t)(iHi-iOut) : nPerMini;
        if( iOut+(int64_t)nIn<=iLo && !bIs32 ){
          /* wholly before the span: only the sum of its deltas matters */
          uint64_t sum = (uint64_t)minD*nIn;
          if( w ) for(k=0; k<nIn; k++){ sum += getBits(rd.a, rd.n, bit, w); bit += (uint64_t)w; }
          prev += sum;
          iOut += (int64_t)nIn;
        }else{
          for(k=0; k<nIn; k++){
            uint64_t v = getBits(rd.a, rd.n, bit, w);
            bit += (uint64_t)w;
            prev = prev + (uint64_t)minD + v;
            if( bIs32 ) prev = (uint64_t)(int64_t)(int32_t)(uint32_t)prev;
            if( iOut>=iLo ) aOut[iOut-iLo] = (int64_t)prev;
            iOut++;
          }
        }
        rd.i += nb;
      }
    }
  }
  if( pnUsed ) *pnUsed = rd.i;
  return 0;
}

int tsPqDeltaDecode(const unsigned char *a, size_t nByte, int64_t *aOut, int64_t n,
                    int bIs32, size_t *pnUsed){
  return tsPqDeltaDecodeSpan(a, nByte, aOut, 0, n, bIs32, pnUsed);
}

/*---------------------------- BYTE_STREAM_SPLIT ----------------------------*/
void tsPqBssEncode(TsBuf *pOut, const unsigned char *a, int64_t n, int k){
  int64_t i;
  int j;
  if( tsBufReserve(pOut, (size_t)(n*k)) ) return;
  for(j=0; j<k; j++){
    unsigned char *o = pOut->a + pOut->n + (size_t)j*(size_t)n;
    for(i=0; i<n; i++) o[i] = a[i*k+j];
  }
  pOut->n += (size_t)(n*k);
}

/* Values [iLo, iLo+n) of the page: each of the k streams is nByte/k
** long; only the selected entries of each are read. */
int tsPqBssDecodeSpan(const unsigned char *a, size_t nByte, int64_t iLo, int64_t n, int k,
                      unsigned char *aOut){
  int64_t i, nTot;
  int j;
  if( k<=0 || nByte%(size_t)k || iLo<0 || n<0 ) return 1;
  nTot = (int64_t)(nByte/(size_t)k);
  if( nTot-iLo<n ) return 1;
  if( k==8 ){
    /* one sequential pass over the output (the common DOUBLE/INT64 case) */
    const unsigned char *s0 = a+iLo, *s1 = s0+nTot, *s2 = s1+nTot, *s3 = s2+nTot;
    const unsigned char *s4 = s3+nTot, *s5 = s4+nTot, *s6 = s5+nTot, *s7 = s6+nTot;
    for(i=0; i<n; i++){
      unsigned char *o = aOut + 8*i;
      o[0] = s0[i]; o[1] = s1[i]; o[2] = s2[i]; o[3] = s3[i];
      o[4] = s4[i]; o[5] = s5[i]; o[6] = s6[i]; o[7] = s7[i];
    }
    return 0;
  }
  for(j=0; j<k; j++){
    const unsigned char *s = a + (size_t)j*(size_t)nTot + iLo;
    for(i=0; i<n; i++) aOut[i*k+j] = s[i];
  }
  return 0;
}

int tsPqBssDecode(const unsigned char *a, size_t nByte, int64_t n, int k, unsigned char *aOut){
  return tsPqBssDecodeSpan(a, nByte, 0, n, k, aOut);
}

/*---------------------------------- codecs ----------------------------------*/
int tsPqCompress(int eCodec, int iLevel, const void *a, size_t n, TsBuf *pOut){
  if( eCodec==TS_PQ_CODEC_NONE ){
    tsBufAppend(pOut, a, n);
    return pOut->bErr;
  }
  if( eCodec==TS_PQ_CODEC_ZSTD ){
    size_t nBound = ZSTD_compressBound(n), r;
    if( tsBufReserve(pOut, nBound) ) return 1;
    r = ZSTD_compress(pOut->a+pOut->n, nBound, a, n, iLevel ? iLevel : 3);
    if( ZSTD_isError(r) ) return 1;
    pOut->n += r;
    return 0;
  }
  if( eCodec==TS_PQ_CODEC_GZIP ){
    z_stream zs;
    uLong nBound;
    int rc;
    memset(&zs, 0, sizeof(zs));
    if( deflateInit2(&zs, iLevel ? iLevel : 6, Z_DEFLATED, 15+16, 8, Z_DEFAULT_STRATEGY)!=Z_OK ){
      return 1;
    }
    nBound = deflateBound(&zs, (uLong)n) + 32;
    if( tsBufReserve(pOut, nBound) ){ deflateEnd(&zs); return 1; }
    zs.next_in = (Bytef*)a;
    zs.avail_in = (uInt)n;
    zs.next_out = pOut->a + pOut->n;
    zs.avail_out = (uInt)nBound;
    rc = deflate(&zs, Z_FINISH);
    if( rc==Z_STREAM_END ) pOut->n += zs.total_out;
    deflateEnd(&zs);
    return rc==Z_STREAM_END ? 0 : 1;
  }
  return 1;
}

static int gunzipAll(const unsigned char *a, size_t n, unsigned char *aOut, size_t nOut){
  size_t iIn = 0, iOut = 0;
  /* concatenated gzip members: inflate each in turn */
  while( iIn<n && iOut<=nOut ){
    z_stream zs;
    int rc;
    memset(&zs, 0, sizeof(zs));
    if( inflateInit2(&zs, 15+32)!=Z_OK ) return TS_PQ_NOMEM;
    zs.next_in = (Bytef*)(a+iIn);
    zs.avail_in = (uInt)(n-iIn);
    zs.next_out = aOut+iOut;
    zs.avail_out = (uInt)(nOut-iOut);
    rc = inflate(&zs, Z_FINISH);
    if( rc!=Z_STREAM_END ){
      inflateEnd(&zs);
      return TS_PQ_CORRUPT;
    }
    iIn += zs.total_in;
    iOut += zs.total_out;
    inflateEnd(&zs);
    if( iOut==nOut ){
      /* allow trailing zero padding */
      while( iIn<n && a[iIn]==0 ) iIn++;
      if( iIn<n ) continue;
    }
  }
  return iOut==nOut ? TS_PQ_OK : TS_PQ_CORRUPT;
}

/* LZ4 block (Parquet's LZ4_RAW) through liblz4's bounds-checked decoder:
** the block must decode to exactly nOut bytes. */
int tsPqLz4Decompress(const void *a, size_t n, void *aOut, size_t nOut){
  char one;
  int r;
  if( n==0 || n>INT_MAX || nOut>INT_MAX ) return 1;
  r = LZ4_decompress_safe((const char*)a, nOut ? (char*)aOut : &one, (int)n, (int)nOut);
  return r<0 || (size_t)r!=nOut;
}

int tsPqDecompress(int eCodec, const void *a, size_t n, void *aOut, size_t nOut){
  return tsPqDecompressCtx(0, eCodec, a, n, aOut, nOut);
}

int tsPqDecompressCtx(void **ppZstd, int eCodec, const void *a, size_t n, void *aOut, size_t nOut){
  switch( eCodec ){
    case TS_PQ_CODEC_NONE:
      if( n!=nOut ) return TS_PQ_CORRUPT;
      if( n ) memcpy(aOut, a, n);
      return TS_PQ_OK;
    case TS_PQ_CODEC_SNAPPY: {
      size_t nLen;
      if( tsSnappyLength(a, n, &nLen) || nLen!=nOut ) return TS_PQ_CORRUPT;
      return tsSnappyDecompress(a, n, aOut, nOut) ? TS_PQ_CORRUPT : TS_PQ_OK;
    }
    case TS_PQ_CODEC_GZIP:
      if( nOut==0 ) return TS_PQ_OK;
      return gunzipAll((const unsigned char*)a, n, (unsigned char*)aOut, nOut);
    case TS_PQ_CODEC_LZ4_RAW:
      return tsPqLz4Decompress(a, n, aOut, nOut) ? TS_PQ_CORRUPT : TS_PQ_OK;
    case TS_PQ_CODEC_ZSTD: {
      size_t r;
      if( nOut==0 && n==0 ) return TS_PQ_OK;
      if( ppZstd && *ppZstd==0 ) *ppZstd = ZSTD_createDCtx();
      r = ppZstd && *ppZstd ? ZSTD_decompressDCtx((ZSTD_DCtx*)*ppZstd, aOut, nOut, a, n)
                            : ZSTD_decompress(aOut, nOut, a, n);
      if( ZSTD_isError(r) || r!=nOut ) return TS_PQ_CORRUPT;
      return TS_PQ_OK;
    }
  }
  return TS_PQ_ERROR;
}

void tsPqDecompressCtxFree(void *pZstd){
  ZSTD_freeDCtx((ZSTD_DCtx*)pZstd);
}
