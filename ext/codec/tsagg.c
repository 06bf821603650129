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
    if( aNull==0 && !bOv && iHi-iLo < (1<<20) ){
      /* The common case: no NULL and small values.  The run's sum, min and
      ** max in plain int64 arithmetic (no dependent double add per value);
      ** when every |value| <= M and n*M + |previous sums| < 2^53, no partial
      ** sum (integer or double, in row order) leaves the range where
      ** doubles are exact integers, so the row-order double sum equals the
      ** integer sum and neither can overflow.  Otherwise: the exact loop. */
      int64_t rs, rmn = a[iLo], rmx = a[iLo];
      uint64_t m, urs = 0;
      for(i=iLo; i<=iHi; i++){
        int64_t v = a[i];
        urs += (uint64_t)v;             /* wraps; used only when exact */
        rmn = v<rmn ? v : rmn;
        rmx = v>rmx ? v : rmx;
      }
      m = rmx>=0 ? (uint64_t)rmx : 0;
      if( rmn<0 && (uint64_t)0-(uint64_t)rmn>m ) m = (uint64_t)0-(uint64_t)rmn;
      if( m < ((uint64_t)1<<32) && p->iSum > -((int64_t)1<<52) && p->iSum < ((int64_t)1<<52)
       && r > -4503599627370496.0 && r < 4503599627370496.0
       && m*(uint64_t)(iHi-iLo+1) < ((uint64_t)1<<52) ){
        rs = (int64_t)urs;
        p->iSum = s + rs;
        p->rSum = r + (double)rs;
        p->iMin = rmn<mn ? rmn : mn;
        p->iMax = rmx>mx ? rmx : mx;
        n = iHi - iLo + 1;
        goto ends;
      }
    }
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
ends:
  firstLast(p, pCol, iLo, aT[iLo], bHad);
  if( iHi!=iLo ) firstLast(p, pCol, iHi, aT[iHi], 1);
  p->nValue += n;
}

/* The end of a multi-column pass for one accumulator: the run's sum, min
** and max (over rows [iFrom, iTo), no NULL) merged as tsAggAddCol does. */
static void addDoubleRun(TsAggAcc *p, const TsChunkCol *pCol, const int64_t *aT, int iFrom,
                         int iTo, double s, double mn, double mx){
  int bHad = p->nValue>0;
  p->rSum = s;
  p->rMin = bHad && p->rMin<mn ? p->rMin : mn;
  p->rMax = bHad && p->rMax>mx ? p->rMax : mx;
  firstLast(p, pCol, iFrom, aT[iFrom], bHad);
  if( iTo-1!=iFrom ) firstLast(p, pCol, iTo-1, aT[iTo-1], 1);
  p->nValue += iTo - iFrom;
}

void tsAggAddColsDouble(TsAggAcc *const *ap, const TsChunkCol *const *ac, int nCol,
                        const int64_t *aT, int iFrom, int iTo){
  int k = 0, i;
  if( iFrom>=iTo ) return;
  /* Four columns per pass: four independent add chains in flight (each
  ** column's sum still in row order: the same bits as one at a time). */
  for(; k+4<=nCol; k+=4){
    const double *a0 = ac[k]->aDouble, *a1 = ac[k+1]->aDouble;
    const double *a2 = ac[k+2]->aDouble, *a3 = ac[k+3]->aDouble;
    double s0 = ap[k]->rSum, s1 = ap[k+1]->rSum, s2 = ap[k+2]->rSum, s3 = ap[k+3]->rSum;
    double n0 = a0[iFrom], n1 = a1[iFrom], n2 = a2[iFrom], n3 = a3[iFrom];
    double x0 = n0, x1 = n1, x2 = n2, x3 = n3;
    for(i=iFrom; i<iTo; i++){
      double v0 = a0[i], v1 = a1[i], v2 = a2[i], v3 = a3[i];
      s0 += v0; s1 += v1; s2 += v2; s3 += v3;
      n0 = v0<n0 ? v0 : n0; n1 = v1<n1 ? v1 : n1; n2 = v2<n2 ? v2 : n2; n3 = v3<n3 ? v3 : n3;
      x0 = v0>x0 ? v0 : x0; x1 = v1>x1 ? v1 : x1; x2 = v2>x2 ? v2 : x2; x3 = v3>x3 ? v3 : x3;
    }
    addDoubleRun(ap[k], ac[k], aT, iFrom, iTo, s0, n0, x0);
    addDoubleRun(ap[k+1], ac[k+1], aT, iFrom, iTo, s1, n1, x1);
    addDoubleRun(ap[k+2], ac[k+2], aT, iFrom, iTo, s2, n2, x2);
    addDoubleRun(ap[k+3], ac[k+3], aT, iFrom, iTo, s3, n3, x3);
  }
  for(; k+2<=nCol; k+=2){
    const double *a0 = ac[k]->aDouble, *a1 = ac[k+1]->aDouble;
    double s0 = ap[k]->rSum, s1 = ap[k+1]->rSum;
    double n0 = a0[iFrom], n1 = a1[iFrom], x0 = n0, x1 = n1;
    for(i=iFrom; i<iTo; i++){
      double v0 = a0[i], v1 = a1[i];
      s0 += v0; s1 += v1;
      n0 = v0<n0 ? v0 : n0; n1 = v1<n1 ? v1 : n1;
      x0 = v0>x0 ? v0 : x0; x1 = v1>x1 ? v1 : x1;
    }
    addDoubleRun(ap[k], ac[k], aT, iFrom, iTo, s0, n0, x0);
    addDoubleRun(ap[k+1], ac[k+1], aT, iFrom, iTo, s1, n1, x1);
  }
  for(; k<nCol; k++) tsAggAddCol(ap[k], ac[k], aT, iFrom, iTo);
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
