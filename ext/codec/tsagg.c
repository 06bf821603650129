/*
** tsagg.c: time buckets and the fused decode-and-aggregate kernels of the
** native aggregation path (API and contracts in tsagg.h; the SQL side is
** ext/agg.c).  Pure C, no SQLite.
**
** The fused pass: for a run of rows inside one bucket, each used measure's
** decoded value array is walked once, adding count/sum/min/max in registers;
** NULL flags are consulted only when the column has any.  First/last need
** only the first and last non-NULL index of the run, found from the ends.
*/
#include "tsagg.h"
#include <string.h>

int64_t tsAggBucket(int64_t t, int64_t w){
  int64_t q = t / w, b;
  if( (t % w)<0 ) q--;
  if( __builtin_mul_overflow(q, w, &b) ) return INT64_MIN;
  return b;
}

int64_t tsAggBucketEnd(int64_t b, int64_t w){
  int64_t e;
  if( __builtin_add_overflow(b, w, &e) ) return INT64_MAX;
  return e;
}

int tsAggLowerBound(const int64_t *aT, int i, int n, int64_t t){
  int lo = i, hi = n;
  while( lo<hi ){
    int mid = lo + (hi-lo)/2;
    if( aT[mid]<t ) lo = mid+1; else hi = mid;
  }
  return lo;
}

void tsAggReset(TsAggAcc *p){
  memset(p, 0, sizeof(*p));
}

/* Record value index i (time t) as a first/last candidate. */
static void firstLast(TsAggAcc *p, const TsChunkCol *pCol, int i, int64_t t, int bHad){
  int bD = pCol->eType==TS_TYPE_DOUBLE;
  if( !bHad || t<p->tFirst ){
    p->tFirst = t;
    if( bD ) p->rFirst = pCol->aDouble[i]; else p->iFirst = pCol->aInt[i];
  }
  if( !bHad || t>p->tLast ){
    p->tLast = t;
    if( bD ) p->rLast = pCol->aDouble[i]; else p->iLast = pCol->aInt[i];
  }
}

void tsAggAddCol(TsAggAcc *p, const TsChunkCol *pCol, const int64_t *aT, int iFrom, int iTo){
  const uint8_t *aNull = pCol->aNull;
  int64_t n = 0;
  int iLo = iFrom, iHi = iTo-1, i;
  int bHad = p->nValue>0;
  if( iFrom>=iTo ) return;
  if( aNull ){
    while( iLo<iTo && aNull[iLo] ) iLo++;
    if( iLo==iTo ) return;
    while( aNull[iHi] ) iHi--;
  }
  if( pCol->eType==TS_TYPE_DOUBLE ){
    const double *a = pCol->aDouble;
    double s = p->rSum, mn = bHad ? p->rMin : a[iLo], mx = bHad ? p->rMax : a[iLo];
    if( aNull==0 ){
      /* The common case: no NULL, a tight loop (min/max compile to
      ** branch-free minsd/maxsd; the sum stays in row order). */
      for(i=iLo; i<=iHi; i++){
        double v = a[i];
        s += v;
        mn = v<mn ? v : mn;
        mx = v>mx ? v : mx;
      }
      n = iHi - iLo + 1;
    }else{
      for(i=iLo; i<=iHi; i++){
        double v;
        if( aNull[i] ) continue;
        v = a[i];
        s += v;
        if( v<mn ) mn = v;
        if( v>mx ) mx = v;
        n++;
      }
    }
    p->rSum = s; p->rMin = mn; p->rMax = mx;
  }else{
    const int64_t *a = pCol->aInt;
    int64_t s = p->iSum, mn = bHad ? p->iMin : a[iLo], mx = bHad ? p->iMax : a[iLo];
    double r = p->rSum;
    int bOv = p->bOverflow;
    for(i=iLo; i<=iHi; i++){
      int64_t v;
      if( aNull && aNull[i] ) continue;
      v = a[i];
      if( __builtin_add_overflow(s, v, &s) ) bOv = 1;
      r += (double)v;
      if( v<mn ) mn = v;
      if( v>mx ) mx = v;
      n++;
    }
    p->iSum = s; p->rSum = r; p->bOverflow = bOv; p->iMin = mn; p->iMax = mx;
  }
  firstLast(p, pCol, iLo, aT[iLo], bHad);
  if( iHi!=iLo ) firstLast(p, pCol, iHi, aT[iHi], 1);
  p->nValue += n;
}

int tsAggAddStat(TsAggAcc *p, int eType, const TsChunkStat *pStat){
  int bHad = p->nValue>0;
  if( pStat->nValue==0 ) return 0;
  if( eType==TS_TYPE_DOUBLE ){
    p->rSum += pStat->rSum;
    if( !bHad || pStat->rMin<p->rMin ) p->rMin = pStat->rMin;
    if( !bHad || pStat->rMax>p->rMax ) p->rMax = pStat->rMax;
  }else{
    /* The header's integer sum is the exact sum rounded once to double:
    ** exact itself only below 2^53. */
    if( !(pStat->rSum > -9007199254740992.0 && pStat->rSum < 9007199254740992.0) ) return 1;
    if( __builtin_add_overflow(p->iSum, (int64_t)pStat->rSum, &p->iSum) ) p->bOverflow = 1;
    p->rSum += pStat->rSum;
    if( !bHad || pStat->iMin<p->iMin ) p->iMin = pStat->iMin;
    if( !bHad || pStat->iMax>p->iMax ) p->iMax = pStat->iMax;
  }
  if( pStat->bEnds ){
    int bD = eType==TS_TYPE_DOUBLE;
    if( !bHad || pStat->tFirst<p->tFirst ){
      p->tFirst = pStat->tFirst;
      if( bD ) p->rFirst = pStat->rFirst; else p->iFirst = pStat->iFirst;
    }
    if( !bHad || pStat->tLast>p->tLast ){
      p->tLast = pStat->tLast;
      if( bD ) p->rLast = pStat->rLast; else p->iLast = pStat->iLast;
    }
  }
  p->nValue += pStat->nValue;
  return 0;
}
