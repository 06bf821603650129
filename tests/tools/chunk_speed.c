/*
** chunk_speed.c: encode/decode throughput and size of the chunk codec on
** deterministic TSBS-like data (10 DOUBLE measures, integer-valued clamped
** random walks in 0..100, 10 s interval, 1000-row chunks) and on the same
** walks at full precision.  Not a test: prints figures.
**
**   build/tools/chunk_speed [nChunk]     (default 200 chunks = 2 M values)
**
** Also one VARCHAR column of distinct log lines (zstd dictionary) and of
** 20 repeated host names.
** "values/s" counts measure values (rows x 10); the time column is encoded
** and decoded too, and its cost is included.  Times are this thread's CPU
** time (the build machine is shared), best of 3 repetitions.
*/
#include "chunk.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NROW 1000
#define NCOL 10

#define TRNG_SEED 42
#include "../unit/trng.h"
static double now(void){
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec*1e-9;
}

static void run(const char *zName, int bFull, int nChunk){
  int64_t *aTime = malloc(sizeof(int64_t)*(size_t)nChunk*NROW);
  double *aVal = malloc(sizeof(double)*(size_t)nChunk*NROW*NCOL);  /* [chunk][col][row] */
  TsBuf *aBlob = calloc((size_t)nChunk, sizeof(TsBuf));
  double aWalk[NCOL], t0, t, tEnc, tDec, sum = 0;
  size_t nByte = 0;
  int k, i, j, rep;
  for(j=0; j<NCOL; j++) aWalk[j] = rndUnit()*100;
  for(k=0; k<nChunk; k++){
    for(i=0; i<NROW; i++){
      aTime[(size_t)k*NROW+i] = 1451606400000000000LL + ((int64_t)k*NROW+i)*10000000000LL;
      for(j=0; j<NCOL; j++){
        aWalk[j] += rndNormal();
        if( aWalk[j]<0 ) aWalk[j] = 0;
        if( aWalk[j]>100 ) aWalk[j] = 100;
        aVal[((size_t)k*NCOL+j)*NROW+i] = bFull ? aWalk[j] : (double)(int64_t)aWalk[j];
      }
    }
  }
  tEnc = tDec = 1e30;
  for(rep=0; rep<3; rep++){
  nByte = 0;
  t0 = now();
  for(k=0; k<nChunk; k++){
    TsChunkCol ac[NCOL];
    memset(ac, 0, sizeof(ac));
    for(j=0; j<NCOL; j++){
      ac[j].eType = TS_TYPE_DOUBLE;
      ac[j].aDouble = &aVal[((size_t)k*NCOL+j)*NROW];
    }
    tsBufFree(&aBlob[k]);
    if( tsChunkEncode(NROW, &aTime[(size_t)k*NROW], 0, NCOL, ac, &aBlob[k]) ){
      fprintf(stderr, "encode failed\n");
      exit(1);
    }
    nByte += aBlob[k].n;
  }
  t = now() - t0;
  if( t<tEnc ) tEnc = t;
  t0 = now();
  for(k=0; k<nChunk; k++){
    TsChunkReader *pRd;
    const int64_t *aT;
    if( tsChunkReaderOpen(aBlob[k].a, aBlob[k].n, &pRd) || tsChunkReadTime(pRd, &aT) ){
      fprintf(stderr, "decode failed\n");
      exit(1);
    }
    sum += (double)aT[NROW-1];
    for(j=0; j<NCOL; j++){
      TsChunkCol c;
      if( tsChunkReadCol(pRd, j, &c) ){ fprintf(stderr, "decode failed\n"); exit(1); }
      for(i=0; i<NROW; i++) sum += c.aDouble[i];
    }
    tsChunkReaderFree(pRd);
  }
  t = now() - t0;
  if( t<tDec ) tDec = t;
  }
  printf("%-28s %8.4f bytes/value  encode %7.1f M values/s  decode(+sum) %7.1f M values/s  (check %g)\n",
         zName, (double)nByte/((double)nChunk*NROW*NCOL),
         (double)nChunk*NROW*NCOL/tEnc/1e6, (double)nChunk*NROW*NCOL/tDec/1e6, sum);
  for(k=0; k<nChunk; k++) tsBufFree(&aBlob[k]);
  free(aBlob); free(aTime); free(aVal);
}

/* One VARCHAR column per chunk: distinct HTTP log lines (zstd dictionary)
** or 20 repeated host names (plain dictionary). */
static void runText(const char *zName, int bDistinct, int nChunk){
  static char azBuf[NROW][96];
  const char *az[NROW];
  int an[NROW];
  int64_t aTime[NROW];
  TsBuf *aBlob = calloc((size_t)nChunk, sizeof(TsBuf));
  double t0, t, tEnc = 1e30, tDec = 1e30;
  size_t nByte = 0, nText = 0, nCheck = 0;
  int k, i, rep;
  for(i=0; i<NROW; i++){
    aTime[i] = 1451606400000000000LL + i*10000000000LL;
    if( bDistinct ){
      an[i] = snprintf(azBuf[i], sizeof(azBuf[i]), "GET /api/v1/items/%d?user=%d HTTP/1.1 status=%d",
                       (int)(rnd()%100000), (int)(rnd()%500), rnd()%10 ? 200 : 404);
    }else{
      an[i] = snprintf(azBuf[i], sizeof(azBuf[i]), "host_%d", (int)(rnd()%20));
    }
    az[i] = azBuf[i];
    nText += (size_t)an[i];
  }
  for(rep=0; rep<3; rep++){
    TsChunkCol c;
    memset(&c, 0, sizeof(c));
    c.eType = TS_TYPE_VARCHAR; c.azText = az; c.anText = an;
    nByte = 0;
    t0 = now();
    for(k=0; k<nChunk; k++){
      tsBufFree(&aBlob[k]);
      if( tsChunkEncode(NROW, aTime, 0, 1, &c, &aBlob[k]) ){ fprintf(stderr, "encode failed\n"); exit(1); }
      nByte += aBlob[k].n;
    }
    t = now() - t0;
    if( t<tEnc ) tEnc = t;
    t0 = now();
    for(k=0; k<nChunk; k++){
      TsChunkReader *pRd;
      TsChunkCol out;
      if( tsChunkReaderOpen(aBlob[k].a, aBlob[k].n, &pRd) || tsChunkReadCol(pRd, 0, &out) ){
        fprintf(stderr, "decode failed\n");
        exit(1);
      }
      for(i=0; i<NROW; i++) nCheck += (size_t)out.anText[i];
      tsChunkReaderFree(pRd);
    }
    t = now() - t0;
    if( t<tDec ) tDec = t;
  }
  printf("%-28s %8.2f bytes/value  encode %7.1f M values/s  decode %7.1f M values/s  (text %.1fx smaller; check %zu)\n",
         zName, (double)nByte/((double)nChunk*NROW), (double)nChunk*NROW/tEnc/1e6,
         (double)nChunk*NROW/tDec/1e6, (double)nText*nChunk/(double)nByte, nCheck);
  for(k=0; k<nChunk; k++) tsBufFree(&aBlob[k]);
  free(aBlob);
}

int main(int argc, char **argv){
  int nChunk = argc>1 ? atoi(argv[1]) : 200;
  if( nChunk<1 ) nChunk = 1;
  run("TSBS-like integer-valued", 0, nChunk);
  run("full-precision random walk", 1, nChunk);
  runText("VARCHAR distinct log lines", 1, nChunk/10 + 1);
  runText("VARCHAR 20 host names", 0, nChunk/10 + 1);
  return 0;
}
