/*
** scan_util.c: the helpers of scan_util.h, shared by the table scan
** (scan.c) and timeseries_agg (agg.c, agg_stream.c): time constraints as a
** closed range, accepted-value sets for = / IN, and the index heap.
*/
#include "scan_util.h"
#include "source.h"
#include <math.h>
#include <string.h>

void tsScanTimeBound(char cOp, sqlite3_value *v, sqlite3_int64 *pLo, sqlite3_int64 *pHi){
  TsNum num;
  int eType = tsTabNumericOf(v, &num);
  sqlite3_int64 lo = INT64_MIN, hi = INT64_MAX;
  if( eType==SQLITE_NULL ){
    lo = 1; hi = 0;
  }else if( eType==SQLITE_INTEGER ){
    sqlite3_int64 x = num.i;
    switch( cOp ){
      case '=': lo = hi = x; break;
      case '>': if( x==INT64_MAX ){ lo = 1; hi = 0; } else lo = x+1; break;
      case 'G': lo = x; break;
      case '<': if( x==INT64_MIN ){ lo = 1; hi = 0; } else hi = x-1; break;
      case 'L': hi = x; break;
    }
  }else if( eType==SQLITE_FLOAT ){
    double r = num.r;
    double fl = floor(r), ce = ceil(r);
    const double rMax = 9223372036854775808.0;   /* 2^63 */
    switch( cOp ){
      case '=':
        if( r==fl && r>=-rMax && r<rMax ) lo = hi = (sqlite3_int64)r; else { lo = 1; hi = 0; }
        break;
      /* The +1/-1 is done on the int64: above 2^53, fl+1 or ce-1 in double
      ** arithmetic rounds back to the same value and would let t == r
      ** through a strict comparison.  fl and ce are whole numbers, exact
      ** as int64 inside [-2^63, 2^63). */
      case '>': case 'G': {                  /* t > fl, or t >= ce */
        double b = cOp=='>' ? fl : ce;
        if( b>=rMax ){ lo = 1; hi = 0; }
        else if( b>=-rMax ) lo = (sqlite3_int64)b + (cOp=='>');
        break;
      }
      case '<': case 'L': {                  /* t < ce, or t <= fl */
        double b = cOp=='<' ? ce : fl;
        if( b<-rMax || (cOp=='<' && b==-rMax) ){ lo = 1; hi = 0; }
        else if( b<rMax ) hi = (sqlite3_int64)b - (cOp=='<');
        break;
      }
    }
  }else{
    /* TEXT or BLOB: greater than every integer. */
    if( cOp=='=' || cOp=='>' || cOp=='G' ){ lo = 1; hi = 0; }
  }
  if( lo>*pLo ) *pLo = lo;
  if( hi<*pHi ) *pHi = hi;
}

int tsValSetAdd(TsValSet *pSet, sqlite3_value *v){
  sqlite3_value *pDup = 0;
  const char *z = 0;
  int n = 0, rc;
  char **az;
  int *an;
  if( sqlite3_value_type(v)==SQLITE_NULL ) return SQLITE_OK;
  rc = tsTabTextOf(v, &pDup, &z, &n);
  if( rc==1 ) return SQLITE_OK;   /* BLOB never equals TEXT */
  if( rc==2 ) return SQLITE_NOMEM;
  az = sqlite3_realloc64(pSet->azVal, sizeof(char*)*(size_t)(pSet->nVal+1));
  if( az ) pSet->azVal = az;
  an = sqlite3_realloc64(pSet->anVal, sizeof(int)*(size_t)(pSet->nVal+1));
  if( an ) pSet->anVal = an;
  if( az && an ){
    az[pSet->nVal] = sqlite3_malloc64((size_t)n+1);
    if( az[pSet->nVal] ){
      memcpy(az[pSet->nVal], z, (size_t)n);
      az[pSet->nVal][n] = 0;
      an[pSet->nVal] = n;
      pSet->nVal++;
    }else{
      rc = SQLITE_NOMEM;
    }
  }else{
    rc = SQLITE_NOMEM;
  }
  sqlite3_value_free(pDup);
  return rc;
}

int tsValSetHas(const TsValSet *pSet, const char *z, int n){
  int i;
  if( z==0 ) return 0;
  for(i=0; i<pSet->nVal; i++){
    if( pSet->anVal[i]==n && memcmp(pSet->azVal[i], z, (size_t)n)==0 ) return 1;
  }
  return 0;
}

void tsValSetClear(TsValSet *pSet){
  int i;
  for(i=0; i<pSet->nVal; i++) sqlite3_free(pSet->azVal[i]);
  sqlite3_free(pSet->azVal);
  sqlite3_free(pSet->anVal);
  pSet->azVal = 0;
  pSet->anVal = 0;
  pSet->nVal = 0;
}

void tsHeapDown(int *aHeap, int n, int i, int (*xBefore)(void*, int, int), void *pCtx){
  for(;;){
    int l = 2*i+1, r = l+1, m = i, t;
    if( l<n && xBefore(pCtx, aHeap[l], aHeap[m]) ) m = l;
    if( r<n && xBefore(pCtx, aHeap[r], aHeap[m]) ) m = r;
    if( m==i ) return;
    t = aHeap[i]; aHeap[i] = aHeap[m]; aHeap[m] = t;
    i = m;
  }
}
