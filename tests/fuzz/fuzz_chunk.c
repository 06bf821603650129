/* libFuzzer target: the chunk codec of ext/codec/chunk.c.
**
** 1. Decodes the input as a blob (header, reader, every column): must give
**    TS_CHUNK_CORRUPT or a valid decode, never a crash or an over-read.
** 2. Decodes it again with the CRC-32 patched to match, so the structural
**    checks behind the CRC are what the fuzzer exercises.
** 3. Builds rows and columns from the input bytes, encodes them, decodes
**    the blob and aborts unless every time, version and value round-trips
**    bit for bit; then damages that valid blob at input-chosen bytes (CRC
**    patched) and truncates it, and decodes again.
** Every decode runs twice more: through tsChunkReaderReopen of the same
** reader, and as spans (tsChunkReadColRows: a prefix of the rows, which
** stops the decoders inside a payload); the round trip checks the span's
** rows too. */
#include "chunk.h"
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void decodeAll(const uint8_t *a, size_t n){
  TsChunkInfo info;
  TsChunkStat aStat[4];
  TsChunkReader *pRd = 0;
  const int64_t *aT;
  int i;
  (void)tsChunkInfoGet(a, n, &info, aStat, 4);
  {
    char zErr[128];
    (void)tsChunkVerify(a, n, zErr, sizeof(zErr));
  }
  if( tsChunkReaderOpen(a, n, &pRd)!=TS_CHUNK_OK ) return;
  (void)tsChunkReadTime(pRd, &aT);
  (void)tsChunkReadVersion(pRd, &aT);
  for(i=0; i<tsChunkReaderInfo(pRd)->nCol; i++){
    TsChunkCol c;
    (void)tsChunkReadCol(pRd, i, &c);
  }
  if( tsChunkReaderReopen(pRd, a, n)==TS_CHUNK_OK ){
    int nRow = tsChunkReaderInfo(pRd)->nRow;
    for(i=0; i<tsChunkReaderInfo(pRd)->nCol; i++){
      TsChunkCol c;
      (void)tsChunkReadColRows(pRd, i, nRow/4, 1 + nRow/2, &c);
      (void)tsChunkReadColRows(pRd, i, 0, nRow, &c);
    }
  }
  tsChunkReaderFree(pRd);
}

static void patchCrc(uint8_t *c, size_t n){
  uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), c + 8, (uInt)(n - 8));
  c[4] = (uint8_t)crc; c[5] = (uint8_t)(crc>>8); c[6] = (uint8_t)(crc>>16); c[7] = (uint8_t)(crc>>24);
}

/* Byte source over the fuzzer input; yields zeros when exhausted. */
typedef struct Src Src;
struct Src { const uint8_t *a; size_t n, i; };
static uint64_t take(Src *p, int nByte){
  uint64_t v = 0;
  int k;
  for(k=0; k<nByte; k++) v = (v<<8) | (p->i < p->n ? p->a[p->i++] : 0);
  return v;
}

#define MAXR 300
#define MAXC 5

static void roundTrip(const uint8_t *aIn, size_t nIn){
  Src s = { aIn, nIn, 0 };
  int nRow = 1 + (int)(take(&s, 2) % MAXR);
  int nCol = (int)(take(&s, 1) % (MAXC+1));
  int64_t aTime[MAXR], aVer[MAXR];
  uint8_t aNull[MAXC][MAXR];
  double aDbl[MAXC][MAXR];
  int64_t aInt[MAXC][MAXR];
  const char *azText[MAXC][MAXR];
  int anText[MAXC][MAXR];
  TsChunkCol aCol[MAXC];
  TsBuf b;
  TsChunkReader *pRd = 0;
  const int64_t *aT, *aV;
  int i, j, eTimeMode = (int)take(&s, 1) % 3, eValMode;
  int64_t t = (int64_t)take(&s, 8);
  int bVer = (int)take(&s, 1) & 1;

  for(i=0; i<nRow; i++){
    uint64_t d = eTimeMode==0 ? 10 : eTimeMode==1 ? 1 + take(&s, 1) : 1 + (take(&s, 8) >> 4);
    if( i>0 ){
      if( (uint64_t)INT64_MAX - (uint64_t)t < d ){ nRow = i; break; }
      t += (int64_t)d;
    }
    aTime[i] = t;
    aVer[i] = bVer ? (int64_t)take(&s, 1) : 1;
  }
  memset(aCol, 0, sizeof(aCol));
  for(j=0; j<nCol; j++){
    int eType = 1 + (int)(take(&s, 1) % 5);
    int eNull = (int)take(&s, 1) % 3;
    eValMode = (int)take(&s, 1) % 3;
    aCol[j].eType = eType;
    aCol[j].aNull = eNull ? aNull[j] : 0;
    aCol[j].aDouble = aDbl[j];
    aCol[j].aInt = aInt[j];
    aCol[j].azText = azText[j];
    aCol[j].anText = anText[j];
    for(i=0; i<nRow; i++){
      uint64_t r;
      aNull[j][i] = eNull==2 ? (uint8_t)(take(&s, 1) & 1) : 0;
      r = eValMode==0 ? take(&s, 1) : eValMode==1 ? take(&s, 2) : take(&s, 8);
      if( eType==TS_TYPE_DOUBLE ){
        double d;
        if( eValMode==2 ){ memcpy(&d, &r, 8); }
        else d = (double)(int64_t)(r - 100) / (eValMode ? 100.0 : 1.0);
        aDbl[j][i] = d;
      }else{
        aInt[j][i] = eValMode==2 ? (int64_t)r : (int64_t)r - 100;
      }
      /* Text: a slice of the input, so it is arbitrary bytes. */
      anText[j][i] = (int)(r % 9);
      if( (size_t)anText[j][i] > nIn ) anText[j][i] = 0;
      azText[j][i] = (const char*)aIn + (nIn ? (r % (nIn - (size_t)anText[j][i] + 1)) : 0);
    }
  }

  tsBufInit(&b);
  if( tsChunkEncode(nRow, aTime, bVer ? aVer : 0, nCol, aCol, &b)!=TS_CHUNK_OK ) abort();
  if( tsChunkVerify(b.a, b.n, 0, 0)!=TS_CHUNK_OK ) abort();
  if( tsChunkReaderOpen(b.a, b.n, &pRd)!=TS_CHUNK_OK ) abort();
  if( tsChunkReadTime(pRd, &aT) || tsChunkReadVersion(pRd, &aV) ) abort();
  for(i=0; i<nRow; i++){
    if( aT[i]!=aTime[i] || aV[i]!=(bVer ? aVer[i] : 1) ) abort();
  }
  for(j=0; j<2*nCol; j++){
    TsChunkCol c;
    int iTo = nRow, jc = j<nCol ? j : j-nCol;   /* jc: the column */
    if( j==nCol ){
      /* The second pass: spans, on the same reader reopened. */
      if( tsChunkReaderReopen(pRd, b.a, b.n)!=TS_CHUNK_OK ) abort();
    }
    if( j<nCol ){
      if( tsChunkReadCol(pRd, j, &c)!=TS_CHUNK_OK ) abort();
    }else{
      iTo = 1 + (int)(take(&s, 2) % (uint64_t)nRow);
      if( tsChunkReadColRows(pRd, jc, 0, iTo, &c)!=TS_CHUNK_OK ) abort();
    }
    for(i=0; i<iTo; i++){
      int bN = aCol[jc].aNull && aCol[jc].aNull[i];
      if( bN!=(c.aNull && c.aNull[i]) ) abort();
      if( bN ) continue;
      switch( aCol[jc].eType ){
        case TS_TYPE_DOUBLE:
          if( memcmp(&c.aDouble[i], &aDbl[jc][i], 8) ) abort();
          break;
        case TS_TYPE_VARCHAR:
          if( c.anText[i]!=anText[jc][i] ) abort();
          if( anText[jc][i] && memcmp(c.azText[i], azText[jc][i], (size_t)anText[jc][i]) ) abort();
          break;
        case TS_TYPE_BOOLEAN:
          if( c.aInt[i]!=(aInt[jc][i]!=0) ) abort();
          break;
        default:
          if( c.aInt[i]!=aInt[jc][i] ) abort();
      }
    }
  }
  tsChunkReaderFree(pRd);
  /* Damage the valid blob at input-chosen places, patch the CRC, decode. */
  if( b.n>8 ){
    int k, nK = 1 + (int)(take(&s, 1) % 4);
    for(k=0; k<nK; k++){
      size_t iPos = 8 + (size_t)(take(&s, 2) % (b.n - 8));
      b.a[iPos] ^= (uint8_t)(1 + take(&s, 1) % 255);
    }
    patchCrc(b.a, b.n);
    decodeAll(b.a, b.n);
    decodeAll(b.a, b.n - 1 - (size_t)(take(&s, 1) % (b.n - 8)));
  }
  tsBufFree(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *a, size_t n){
  decodeAll(a, n);
  if( n>=8 ){
    uint8_t *c = (uint8_t*)malloc(n);
    memcpy(c, a, n);
    c[0] = 'T'; c[1] = 'S'; c[2] = 'C'; c[3] = 1;
    patchCrc(c, n);
    decodeAll(c, n);
    free(c);
  }
  roundTrip(a, n);
  return 0;
}
