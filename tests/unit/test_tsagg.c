/*
** test_tsagg.c: the native aggregation kernels (ext/codec/tsagg.c): bucket
** floor on negative and overflowing times, lower bound, the fused column
** pass against a brute-force loop (NULLs, runs in both time orders), chunk
** statistics equal to decoding, and the integer sum exactness rule.
*/
#include "tsagg.h"
#include "tt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rngState = 88172645463325252ULL;
static uint64_t rng(void){
  rngState ^= rngState << 13; rngState ^= rngState >> 7; rngState ^= rngState << 17;
  return rngState;
}

int main(void){
  int64_t aT[1000];
  double aD[1000];
  int64_t aI[1000];
  uint8_t aN[1000];
  int i, iter, bOk;
  TsAggAcc a, b;
  TsChunkCol c;

  TT_EQ_I64("tsagg bucket positive", tsAggBucket(3599, 3600), 0);
  TT_EQ_I64("tsagg bucket exact", tsAggBucket(7200, 3600), 7200);
  TT_EQ_I64("tsagg bucket negative floors", tsAggBucket(-1, 3600), -3600);
  TT_EQ_I64("tsagg bucket negative exact", tsAggBucket(-3600, 3600), -3600);
  TT_EQ_I64("tsagg bucket underflow clamps", tsAggBucket(INT64_MIN, INT64_MAX), INT64_MIN);
  TT_EQ_I64("tsagg bucket end overflow", tsAggBucketEnd(INT64_MAX-5, 10), INT64_MAX);
  TT_EQ_I64("tsagg bucket end", tsAggBucketEnd(3600, 3600), 7200);

  for(i=0; i<1000; i++) aT[i] = 10*i + 5;
  TT_EQ_I64("tsagg lower bound middle", tsAggLowerBound(aT, 0, 1000, 100), 10);
  TT_EQ_I64("tsagg lower bound exact", tsAggLowerBound(aT, 0, 1000, 105), 10);
  TT_EQ_I64("tsagg lower bound past end", tsAggLowerBound(aT, 0, 1000, 1000000), 1000);
  TT_EQ_I64("tsagg lower bound from i", tsAggLowerBound(aT, 50, 1000, 0), 50);

  /* Fused pass vs. brute force, random runs added in random order. */
  bOk = 1;
  for(iter=0; iter<200 && bOk; iter++){
    int nRun = 1 + (int)(rng()%5), aCut[7], k, eType = iter%2 ? TS_TYPE_DOUBLE : TS_TYPE_BIGINT;
    int64_t n = 0, iSum = 0, iMin = 0, iMax = 0, tF = 0, tL = 0;
    double rSum = 0, rMin = 0, rMax = 0, rF = 0, rL = 0;
    int iF = -1, iL = -1;
    int bNulls = (int)(rng()%3);
    for(i=0; i<1000; i++){
      aD[i] = (double)((int64_t)(rng()%2001) - 1000) / 4;
      aI[i] = (int64_t)(rng()%2000001) - 1000000;
      aN[i] = bNulls ? (rng()%4==0) : 0;
    }
    memset(&c, 0, sizeof(c));
    c.eType = eType; c.aDouble = aD; c.aInt = aI; c.aNull = bNulls ? aN : 0;
    aCut[0] = 0; aCut[nRun] = 1000;
    for(k=1; k<nRun; k++) aCut[k] = aCut[k-1] + (int)(rng()%(uint64_t)(1000-aCut[k-1]+1));
    tsAggReset(&a);
    /* runs newest first on odd iterations (a descending scan) */
    for(k=0; k<nRun; k++){
      int r = iter%4>=2 ? nRun-1-k : k;
      tsAggAddCol(&a, &c, aT, aCut[r], aCut[r+1]);
    }
    for(i=0; i<1000; i++){
      if( c.aNull && aN[i] ) continue;
      if( iF<0 ) iF = i;
      iL = i;
      if( eType==TS_TYPE_DOUBLE ){
        if( n==0 || aD[i]<rMin ) rMin = aD[i];
        if( n==0 || aD[i]>rMax ) rMax = aD[i];
        rSum += aD[i];
      }else{
        if( n==0 || aI[i]<iMin ) iMin = aI[i];
        if( n==0 || aI[i]>iMax ) iMax = aI[i];
        iSum += aI[i];
      }
      n++;
    }
    if( iF>=0 ){
      tF = aT[iF]; tL = aT[iL];
      rF = aD[iF]; rL = aD[iL];
    }
    if( a.nValue!=n || (n && (a.tFirst!=tF || a.tLast!=tL)) ) bOk = 0;
    if( eType==TS_TYPE_DOUBLE && n && (a.rSum!=rSum || a.rMin!=rMin || a.rMax!=rMax
                                       || a.rFirst!=rF || a.rLast!=rL) ) bOk = 0;
    if( eType==TS_TYPE_BIGINT && n && (a.iSum!=iSum || a.iMin!=iMin || a.iMax!=iMax
                                       || a.iFirst!=aI[iF] || a.iLast!=aI[iL] || a.bOverflow) ) bOk = 0;
    if( !bOk ) printf("  iteration %d differs\n", iter);
  }
  TT_CHECK("tsagg fused pass equals brute force (200 random columns, NULLs, both run orders)", bOk);

  /* An all-NULL run adds nothing. */
  for(i=0; i<10; i++) aN[i] = 1;
  memset(&c, 0, sizeof(c));
  c.eType = TS_TYPE_DOUBLE; c.aDouble = aD; c.aNull = aN;
  tsAggReset(&a);
  tsAggAddCol(&a, &c, aT, 0, 10);
  TT_EQ_I64("tsagg all-NULL run", a.nValue, 0);

  /* Chunk statistics give what decoding gives. */
  {
    TsBuf blob;
    TsChunkInfo info;
    TsChunkStat st[2];
    TsChunkCol ac[2];
    for(i=0; i<1000; i++){ aD[i] = (double)(i%37) - 3.5; aI[i] = (int64_t)i*i - 5000; aN[i] = i%7==0; }
    memset(ac, 0, sizeof(ac));
    ac[0].eType = TS_TYPE_DOUBLE; ac[0].aDouble = aD; ac[0].aNull = aN;
    ac[1].eType = TS_TYPE_BIGINT; ac[1].aInt = aI;
    tsBufInit(&blob);
    TT_CHECK("tsagg encode", tsChunkEncode(1000, aT, 0, 2, ac, &blob)==TS_CHUNK_OK);
    TT_CHECK("tsagg header", tsChunkInfoGet(blob.a, blob.n, &info, st, 2)==TS_CHUNK_OK);
    for(i=0; i<2; i++){
      tsAggReset(&a); tsAggReset(&b);
      tsAggAddCol(&a, &ac[i], aT, 0, 1000);
      TT_CHECK("tsagg stat accepted", tsAggAddStat(&b, ac[i].eType, &st[i])==0);
      TT_CHECK(i ? "tsagg stat == decode (BIGINT)" : "tsagg stat == decode (DOUBLE)",
               a.nValue==b.nValue && a.rSum==b.rSum && a.iSum==b.iSum
               && a.rMin==b.rMin && a.rMax==b.rMax && a.iMin==b.iMin && a.iMax==b.iMax);
      TT_CHECK(i ? "tsagg stat first/last == decode (BIGINT)" : "tsagg stat first/last == decode (DOUBLE, NULL ends)",
               st[i].bEnds && a.tFirst==b.tFirst && a.tLast==b.tLast && a.rFirst==b.rFirst
               && a.rLast==b.rLast && a.iFirst==b.iFirst && a.iLast==b.iLast);
    }
    /* Two chunks' headers in either order keep the older first, the newer last. */
    {
      TsBuf blob2;
      TsChunkInfo info2;
      TsChunkStat st2[2];
      int64_t aT2[3] = { aT[999]+1, aT[999]+2, aT[999]+3 };
      double aD2[3] = { 7.25, 8.25, 9.25 };
      tsBufInit(&blob2);
      memset(&c, 0, sizeof(c));
      c.eType = TS_TYPE_DOUBLE; c.aDouble = aD2;
      TT_CHECK("tsagg encode 2", tsChunkEncode(3, aT2, 0, 1, &c, &blob2)==TS_CHUNK_OK);
      TT_CHECK("tsagg header 2", tsChunkInfoGet(blob2.a, blob2.n, &info2, st2, 1)==TS_CHUNK_OK);
      tsAggReset(&a);
      tsAggAddStat(&a, TS_TYPE_DOUBLE, &st2[0]);
      tsAggAddStat(&a, TS_TYPE_DOUBLE, &st[0]);
      TT_CHECK("tsagg stat ends newest first", a.rLast==9.25 && a.tLast==aT2[2]
               && a.rFirst==aD[1] && a.tFirst==aT[1]);
      tsBufFree(&blob2);
    }
    tsBufFree(&blob);
  }
  /* Integer runs: the int64 fast path (no NULL, small values) against the
  ** row-order reference (exact int64 sum with overflow flag, double sum
  ** in row order), at magnitudes on both sides of its 2^52 bound and with
  ** runs of both paths in one accumulator. */
  bOk = 1;
  for(iter=0; iter<400 && bOk; iter++){
    static const int aShift[6] = { 10, 31, 32, 40, 45, 62 };
    int nRun = 1 + (int)(rng()%6), aCut[8], k;
    int64_t iSum = 0, iMin = 0, iMax = 0, n = 0;
    double rSum = 0;
    int bOv = 0;
    for(i=0; i<1000; i++){
      int sh = aShift[(i/128 + iter)%6 < 3 || iter%3 ? iter%6 : (i/128)%6];
      uint64_t mask = ((uint64_t)1<<sh) - 1;
      aI[i] = (int64_t)(rng() & mask) - (int64_t)(mask/2);
      if( iter%7==0 ) aI[i] = (int64_t)(mask/2);   /* every value at the bound */
    }
    memset(&c, 0, sizeof(c));
    c.eType = TS_TYPE_BIGINT; c.aInt = aI;
    aCut[0] = 0; aCut[nRun] = 1000;
    for(k=1; k<nRun; k++) aCut[k] = aCut[k-1] + (int)(rng()%(uint64_t)(1000-aCut[k-1]+1));
    tsAggReset(&a);
    for(k=0; k<nRun; k++){
      tsAggAddCol(&a, &c, aT, aCut[k], aCut[k+1]);
      for(i=aCut[k]; i<aCut[k+1]; i++){
        if( n==0 || aI[i]<iMin ) iMin = aI[i];
        if( n==0 || aI[i]>iMax ) iMax = aI[i];
        if( __builtin_add_overflow(iSum, aI[i], &iSum) ) bOv = 1;
        rSum += (double)aI[i];
        n++;
      }
    }
    if( a.nValue!=n || a.rSum!=rSum || a.bOverflow!=bOv || (!bOv && a.iSum!=iSum)
     || a.iMin!=iMin || a.iMax!=iMax ){
      bOk = 0;
      printf("  iteration %d: n %lld/%lld rSum %.17g/%.17g overflow %d/%d iSum %lld/%lld\n", iter,
             (long long)a.nValue, (long long)n, a.rSum, rSum, a.bOverflow, bOv,
             (long long)a.iSum, (long long)iSum);
    }
  }
  TT_CHECK("tsagg integer runs: fast path equals the row-order sums (400 columns, 2^10..2^62)", bOk);

  /* The multi-column DOUBLE pass equals one column at a time, bit for bit
  ** (1..7 columns: the 4-, 2- and 1-wide paths; runs newest first too). */
  {
    static double aCols[7][1000];
    TsAggAcc aA[7], aB[7];
    TsAggAcc *apA[7];
    TsChunkCol aC[7];
    const TsChunkCol *apC[7];
    int nCol, k;
    bOk = 1;
    for(iter=0; iter<100 && bOk; iter++){
      int i0 = (int)(rng()%500), i1 = i0 + 1 + (int)(rng()%500), j0 = i0 ? (int)(rng()%(uint64_t)i0) : 0;
      nCol = 1 + iter%7;
      for(k=0; k<nCol; k++){
        for(i=0; i<1000; i++) aCols[k][i] = (double)((int64_t)(rng()%2000001) - 1000000) / 7.0;
        memset(&aC[k], 0, sizeof(aC[k]));
        aC[k].eType = TS_TYPE_DOUBLE; aC[k].aDouble = aCols[k];
        apC[k] = &aC[k]; apA[k] = &aA[k];
        tsAggReset(&aA[k]); tsAggReset(&aB[k]);
      }
      /* two runs: [i0, i1) then the older [j0, i0) (a descending scan) */
      tsAggAddColsDouble(apA, apC, nCol, aT, i0, i1);
      tsAggAddColsDouble(apA, apC, nCol, aT, j0, i0);
      for(k=0; k<nCol; k++){
        tsAggAddCol(&aB[k], &aC[k], aT, i0, i1);
        tsAggAddCol(&aB[k], &aC[k], aT, j0, i0);
        if( memcmp(&aA[k], &aB[k], sizeof(TsAggAcc))!=0 ){
          bOk = 0;
          printf("  iteration %d column %d: sum %.17g/%.17g\n", iter, k, aA[k].rSum, aB[k].rSum);
        }
      }
    }
    TT_CHECK("tsagg multi-column DOUBLE pass equals one column at a time (100 runs, 1..7 columns)", bOk);
  }

  {
    TsChunkStat st;
    memset(&st, 0, sizeof(st));
    st.nValue = 2; st.iMin = 1; st.iMax = INT64_MAX/2; st.rSum = 9007199254740992.0;
    tsAggReset(&a);
    TT_CHECK("tsagg inexact integer sum refused", tsAggAddStat(&a, TS_TYPE_BIGINT, &st)==1 && a.nValue==0);
    st.rSum = 9007199254740990.0;
    TT_CHECK("tsagg exact integer sum taken", tsAggAddStat(&a, TS_TYPE_BIGINT, &st)==0
             && a.iSum==9007199254740990LL && a.nValue==2);
  }
  /* Integer overflow is flagged, as SQLite's sum() reports it. */
  aI[0] = INT64_MAX; aI[1] = 1;
  memset(&c, 0, sizeof(c));
  c.eType = TS_TYPE_BIGINT; c.aInt = aI;
  tsAggReset(&a);
  tsAggAddCol(&a, &c, aT, 0, 2);
  TT_CHECK("tsagg integer overflow flagged", a.bOverflow==1);
  return tt_done();
}
