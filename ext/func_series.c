/*
** func_series.c: time-series values (JSON text, see tsjson.h) and the
** functions over them.
**
**   create_time_series(t, v)        aggregate (and window function): the
**                                   group's points sorted by time (stable)
**   sequence(start, stop[, step])   JSON array of integers, <= 10,000 elements
**   unnest(ts)                      table-valued: columns time, value
**   interpolate_linear(ts, x)       x: a JSON array of times (for example
**   interpolate_spline_cubic(ts, x)    sequence(...)) -> time series, or one
**   interpolate_locf(ts, x)            timestamp -> scalar
**   interpolate_fill(ts, x, v)
**   derivative_linear(ts, i), non_negative_derivative_linear(ts, i)
**   integral_trapezoidal(ts[, i])   default interval 1s
**   correlate_pearson(a, b), correlate_spearman(a, b)
**
** Edge rules (Timestream leaves them undocumented; reference 3.4/3.5 proposes
** these and docs/sql-reference.md section 3 states them):
**   - requested times are sorted ascending and de-duplicated;
**   - a requested time equal to a sample's time gives that sample's value (the
**     last sample when several share the time), for every method;
**   - linear and spline do not extrapolate: times outside [first, last] are
**     left out of the array form and NULL in the scalar form; locf gives
**     nothing before the first sample and carries the last value after it;
**     fill gives the constant wherever no sample has exactly that time;
**   - the spline is a natural cubic spline (second derivative 0 at both ends)
**     through the distinct sample times; with 2 distinct times it is linear;
**   - NULL values (NaN) propagate: an interpolation that uses one is NULL;
**   - linear, spline, derivatives, integral and correlations need numeric
**     values (INTEGER/REAL); locf and fill accept any value type.
*/
#include "tslite.h"
#include "tsjson.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TS_SEQUENCE_MAX 10000   /* Trino's (and Timestream's) cap */

/*------------------------------------------------------------- helpers */

/* Read a time series argument into *pS (initialised by the caller). */
static int seriesArg(sqlite3_context *ctx, const char *zFunc, sqlite3_value *v,
                     int flags, TsSeries *pS){
  char zErr[160];
  int eType = sqlite3_value_type(v);
  if( eType==SQLITE_NULL ) return TS_ARG_NULL;
  if( eType!=SQLITE_TEXT ){
    tsFuncError(ctx, "%s: expects a time series (JSON text like "
                "'[{\"time\":0,\"value\":1.5}]'), got %s", zFunc,
                eType==SQLITE_INTEGER ? "INTEGER" : eType==SQLITE_FLOAT ? "REAL" : "BLOB");
    return TS_ARG_ERROR;
  }
  if( tsSeriesParse((const char*)sqlite3_value_text(v), (size_t)sqlite3_value_bytes(v),
                    flags, pS, zErr, sizeof(zErr)) ){
    tsFuncError(ctx, "%s: malformed time series: %s", zFunc, zErr);
    return TS_ARG_ERROR;
  }
  return TS_ARG_OK;
}

/* Error unless every value of pS is INTEGER, REAL or null. */
static int requireNumeric(sqlite3_context *ctx, const char *zFunc, const TsSeries *pS){
  size_t i;
  for(i=0; i<pS->n; i++){
    int e = pS->a[i].eType;
    if( e!=TS_SV_INT && e!=TS_SV_REAL && e!=TS_SV_NULL ){
      tsFuncError(ctx, "%s: the value of element %lld is %s; this function needs "
                  "numeric (INTEGER or REAL) values", zFunc, (long long)i,
                  e==TS_SV_TEXT ? "TEXT" : "BOOLEAN");
      return TS_ARG_ERROR;
    }
  }
  return TS_ARG_OK;
}

/* Hand pOut's bytes to SQLite as the result (or report its error). */
static void resultBuf(sqlite3_context *ctx, TsBuf *pOut){
  size_t n;
  unsigned char *a;
  if( pOut->bErr ){
    tsBufFree(pOut);
    sqlite3_result_error_nomem(ctx);
    return;
  }
  a = tsBufDetach(pOut, &n);
  if( a==0 ){
    sqlite3_result_text(ctx, "[]", 2, SQLITE_STATIC);
    return;
  }
  sqlite3_result_text64(ctx, (const char*)a, n, free, SQLITE_UTF8);
}

static void resultSeries(sqlite3_context *ctx, const TsSeries *pS){
  TsBuf out;
  tsBufInit(&out);
  tsJsonAppendSeries(&out, pS);
  resultBuf(ctx, &out);
}

static void resultDouble(sqlite3_context *ctx, double r){
  if( isnan(r) ) sqlite3_result_null(ctx);
  else sqlite3_result_double(ctx, r);
}

/* Result = the value of point q of pS, with its SQL type. */
static void resultPoint(sqlite3_context *ctx, const TsSeries *pS, const TsSPoint *q){
  switch( q->eType ){
    case TS_SV_INT: case TS_SV_BOOL: sqlite3_result_int64(ctx, q->i); break;
    case TS_SV_REAL: resultDouble(ctx, q->r); break;
    case TS_SV_TEXT:
      sqlite3_result_text64(ctx, tsSeriesText(pS, q), q->nText, SQLITE_TRANSIENT, SQLITE_UTF8);
      break;
    default: sqlite3_result_null(ctx); break;
  }
}

/* Copy point q of pFrom to pTo at time t. */
static int copyPoint(TsSeries *pTo, int64_t t, const TsSeries *pFrom, const TsSPoint *q){
  return tsSeriesAdd(pTo, t, q->eType, q->i, q->r,
                     q->eType==TS_SV_TEXT ? tsSeriesText(pFrom, q) : 0, q->nText);
}

/* Index of the last point with time <= t, or -1. */
static long lastAtOrBefore(const TsSeries *pS, int64_t t){
  size_t lo = 0, hi = pS->n;   /* answer+1 in [lo, hi] */
  while( lo<hi ){
    size_t mid = lo + (hi-lo)/2;
    if( pS->a[mid].t<=t ) lo = mid+1; else hi = mid;
  }
  return (long)lo - 1;
}

/* t - t0 in double, exact for any two int64 with t >= t0. */
static double nsDiff(int64_t t, int64_t t0){
  return t>=t0 ? (double)((uint64_t)t - (uint64_t)t0) : -(double)((uint64_t)t0 - (uint64_t)t);
}

static int cmpI64(const void *a, const void *b){
  int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return x<y ? -1 : x>y;
}

/*------------------------------------------------------- create_time_series */

typedef struct CtsAgg CtsAgg;
struct CtsAgg {
  TsSeries s;        /* points in arrival order; zeroed memory is valid */
  size_t iFirst;     /* points before this were removed by xInverse */
};

static void ctsStep(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  CtsAgg *p = sqlite3_aggregate_context(ctx, sizeof(CtsAgg));
  int64_t t;
  int rc, eType = sqlite3_value_type(argv[1]);
  if( p==0 ){ sqlite3_result_error_nomem(ctx); return; }
  rc = tsFuncArgTime(ctx, "create_time_series", argv[0], &t);
  if( rc==TS_ARG_ERROR ) return;
  if( rc==TS_ARG_NULL ){
    tsFuncError(ctx, "create_time_series: time must not be NULL");
    return;
  }
  switch( eType ){
    case SQLITE_INTEGER: {
      int64_t v = sqlite3_value_int64(argv[1]);
      rc = tsSeriesAdd(&p->s, t, TS_SV_INT, v, (double)v, 0, 0);
      break;
    }
    case SQLITE_FLOAT:
      rc = tsSeriesAdd(&p->s, t, TS_SV_REAL, 0, sqlite3_value_double(argv[1]), 0, 0);
      break;
    case SQLITE_TEXT:
      rc = tsSeriesAdd(&p->s, t, TS_SV_TEXT, 0, NAN, (const char*)sqlite3_value_text(argv[1]),
                       (size_t)sqlite3_value_bytes(argv[1]));
      break;
    case SQLITE_NULL:
      tsFuncError(ctx, "create_time_series: value must not be NULL (time %lld)", (long long)t);
      return;
    default:
      tsFuncError(ctx, "create_time_series: value must be INTEGER, REAL or TEXT, got BLOB");
      return;
  }
  if( rc ) sqlite3_result_error_nomem(ctx);
}

static void ctsInverse(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  CtsAgg *p = sqlite3_aggregate_context(ctx, sizeof(CtsAgg));
  if( p==0 || p->iFirst>=p->s.n ) return;
  p->iFirst++;
  /* Reclaim the removed points once they are most of the array (the text
  ** arena is only reclaimed by xFinal). */
  if( p->iFirst>=1024 && p->iFirst*2>=p->s.n ){
    memmove(p->s.a, p->s.a+p->iFirst, (p->s.n-p->iFirst)*sizeof(TsSPoint));
    p->s.n -= p->iFirst;
    p->iFirst = 0;
  }
}

typedef struct SortKey { int64_t t; size_t i; } SortKey;
static int cmpSortKey(const void *a, const void *b){
  const SortKey *x = a, *y = b;
  if( x->t!=y->t ) return x->t<y->t ? -1 : 1;
  return x->i<y->i ? -1 : x->i>y->i;
}

static void ctsResult(sqlite3_context *ctx, CtsAgg *p){
  size_t n, i;
  SortKey *a;
  TsBuf out;
  if( p==0 || p->s.n<=p->iFirst ){
    sqlite3_result_null(ctx);
    return;
  }
  n = p->s.n - p->iFirst;
  a = sqlite3_malloc64(n*sizeof(SortKey));
  if( a==0 ){ sqlite3_result_error_nomem(ctx); return; }
  for(i=0; i<n; i++){ a[i].t = p->s.a[p->iFirst+i].t; a[i].i = p->iFirst+i; }
  qsort(a, n, sizeof(SortKey), cmpSortKey);
  tsBufInit(&out);
  tsBufAppendByte(&out, '[');
  for(i=0; i<n && !out.bErr; i++){
    if( i ) tsBufAppendByte(&out, ',');
    tsJsonAppendPoint(&out, &p->s, &p->s.a[a[i].i]);
  }
  tsBufAppendByte(&out, ']');
  sqlite3_free(a);
  resultBuf(ctx, &out);
}

static void ctsValue(sqlite3_context *ctx){
  ctsResult(ctx, sqlite3_aggregate_context(ctx, 0));
}

static void ctsFinal(sqlite3_context *ctx){
  CtsAgg *p = sqlite3_aggregate_context(ctx, 0);
  ctsResult(ctx, p);
  if( p ) tsSeriesFree(&p->s);
}

/*---------------------------------------------------------------- sequence */

static void sequenceFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int64_t a, b, step = 1;
  int bTime, rc1, rc2, rc3 = TS_ARG_OK;
  __int128 nElem, k;
  TsBuf out;
  /* TEXT start or stop means timestamps (ISO-8601), default step 1 day. */
  bTime = sqlite3_value_type(argv[0])==SQLITE_TEXT || sqlite3_value_type(argv[1])==SQLITE_TEXT;
  if( bTime ){
    rc1 = tsFuncArgTime(ctx, "sequence", argv[0], &a);
    if( rc1==TS_ARG_ERROR ) return;
    rc2 = tsFuncArgTime(ctx, "sequence", argv[1], &b);
  }else{
    rc1 = tsFuncArgInt(ctx, "sequence", "start", argv[0], &a);
    if( rc1==TS_ARG_ERROR ) return;
    rc2 = tsFuncArgInt(ctx, "sequence", "stop", argv[1], &b);
  }
  if( rc2==TS_ARG_ERROR ) return;
  if( argc==3 ){
    rc3 = tsFuncArgInterval(ctx, "sequence", argv[2], &step);
    if( rc3==TS_ARG_ERROR ) return;
  }else{
    step = bTime ? TS_NS_PER_DAY : (b>=a ? 1 : -1);
  }
  if( rc1!=TS_ARG_OK || rc2!=TS_ARG_OK || rc3!=TS_ARG_OK ) return;
  if( step==0 ){
    tsFuncError(ctx, "sequence: step must not be zero");
    return;
  }
  if( (b>a && step<0) || (b<a && step>0) ){
    tsFuncError(ctx, "sequence: stop (%lld) is %s start (%lld) but the step (%lld) is %s",
        (long long)b, b>a ? "after" : "before", (long long)a, (long long)step,
        step>0 ? "positive" : "negative");
    return;
  }
  nElem = ((__int128)b - a)/step + 1;
  if( nElem>TS_SEQUENCE_MAX ){
    tsFuncError(ctx, "sequence: the result would have %lld elements; the maximum is %d",
                (long long)nElem, TS_SEQUENCE_MAX);
    return;
  }
  tsBufInit(&out);
  tsBufAppendByte(&out, '[');
  for(k=0; k<nElem; k++){
    if( k ) tsBufAppendByte(&out, ',');
    tsBufPrintf(&out, "%lld", (long long)(a + k*step));
  }
  tsBufAppendByte(&out, ']');
  resultBuf(ctx, &out);
}

/*----------------------------------------------------------- interpolation */

#define INTERP_LINEAR 0
#define INTERP_SPLINE 1
#define INTERP_LOCF   2
#define INTERP_FILL   3
static const char *const azInterp[] = {
  "interpolate_linear", "interpolate_spline_cubic", "interpolate_locf", "interpolate_fill"
};

/* A natural cubic spline over the distinct times of a series. */
typedef struct Spline Spline;
struct Spline {
  int n;          /* knots */
  int64_t *at;    /* knot times (ns); owned, sqlite3_malloc64 */
  double *ax;     /* knot times in seconds after at[0]; owned: one block with
                  ** ay, aM and the solver's two scratch arrays */
  double *ay;     /* values */
  double *aM;     /* second derivatives */
};

static void splineFree(Spline *p){
  sqlite3_free(p->at);
  sqlite3_free(p->ax);
  memset(p, 0, sizeof(*p));
}

/* Build the spline of pS (numeric values).  Returns SQLITE_OK or NOMEM. */
static int splineInit(Spline *p, const TsSeries *pS){
  size_t i;
  int n = 0, k;
  double *c, *d;
  memset(p, 0, sizeof(*p));
  if( pS->n==0 ) return SQLITE_OK;
  p->at = sqlite3_malloc64(pS->n*sizeof(int64_t));
  p->ax = sqlite3_malloc64(pS->n*5*sizeof(double));
  if( p->at==0 || p->ax==0 ){
    splineFree(p);
    return SQLITE_NOMEM;
  }
  p->ay = p->ax + pS->n;
  p->aM = p->ay + pS->n;
  c = p->aM + pS->n;
  d = c + pS->n;
  for(i=0; i<pS->n; i++){
    /* Equal times: the last sample wins, as for the exact-match rule. */
    if( n>0 && p->at[n-1]==pS->a[i].t ) n--;
    p->at[n] = pS->a[i].t;
    p->ax[n] = nsDiff(pS->a[i].t, pS->a[0].t)/1e9;
    p->ay[n] = pS->a[i].r;
    n++;
  }
  p->n = n;
  for(k=0; k<n; k++) p->aM[k] = 0;
  if( n<3 ) return SQLITE_OK;
  /* Tridiagonal system for M[1..n-2] (M[0] = M[n-1] = 0), Thomas algorithm:
  **   h[k-1] M[k-1] + 2(h[k-1]+h[k]) M[k] + h[k] M[k+1]
  **     = 6((y[k+1]-y[k])/h[k] - (y[k]-y[k-1])/h[k-1]) */
  for(k=1; k<n-1; k++){
    double h0 = p->ax[k]-p->ax[k-1], h1 = p->ax[k+1]-p->ax[k];
    double diag = 2*(h0+h1), rhs = 6*((p->ay[k+1]-p->ay[k])/h1 - (p->ay[k]-p->ay[k-1])/h0);
    if( k>1 ){
      double w = h0 / d[k-1];
      diag -= w * c[k-1];
      rhs -= w * p->aM[k-1];
    }
    d[k] = diag;
    c[k] = h1;
    p->aM[k] = rhs;
  }
  for(k=n-2; k>=1; k--){
    double next = k+1<=n-2 ? p->aM[k+1] : 0;
    p->aM[k] = (p->aM[k] - c[k]*next) / d[k];
  }
  return SQLITE_OK;
}

/* Evaluate at t.  Returns 0 with *pv set, or 1 if t is outside the knots. */
static int splineEval(const Spline *p, int64_t t, double *pv){
  int lo = 0, hi = p->n, j;
  double x, h, A, B;
  while( lo<hi ){ int mid = (lo+hi)/2; if( p->at[mid]<=t ) lo = mid+1; else hi = mid; }
  j = lo-1;
  if( j<0 ) return 1;
  if( p->at[j]==t ){ *pv = p->ay[j]; return 0; }
  if( j>=p->n-1 ) return 1;
  x = nsDiff(t, p->at[0])/1e9;
  h = p->ax[j+1] - p->ax[j];
  A = p->ax[j+1] - x;
  B = x - p->ax[j];
  if( p->n<3 ){
    *pv = p->ay[j] + (p->ay[j+1]-p->ay[j])*(nsDiff(t, p->at[j])/nsDiff(p->at[j+1], p->at[j]));
    return 0;
  }
  *pv = p->aM[j]*A*A*A/(6*h) + p->aM[j+1]*B*B*B/(6*h)
      + (p->ay[j]/h - p->aM[j]*h/6)*A + (p->ay[j+1]/h - p->aM[j+1]*h/6)*B;
  return 0;
}

/* Interpolate pS at t with eMethod.  Returns 1 if there is no value (the
** point is omitted / the scalar is NULL).  Otherwise returns 0 and either
** *ppPt (a sample of pS to copy: locf, fill and exact matches of any
** method) or *pr (a computed REAL; ppPt NULL); for fill without a sample,
** both are NULL/unused and *pbFill is set. */
static int interpAt(int eMethod, const TsSeries *pS, const Spline *pSp, int64_t t,
                    const TsSPoint **ppPt, double *pr, int *pbFill){
  long j = lastAtOrBefore(pS, t);
  *ppPt = 0;
  *pbFill = 0;
  if( j>=0 && pS->a[j].t==t ){
    if( eMethod==INTERP_LINEAR || eMethod==INTERP_SPLINE ){
      *pr = pS->a[j].r;
    }else{
      *ppPt = &pS->a[j];
    }
    return 0;
  }
  switch( eMethod ){
    case INTERP_LINEAR: {
      const TsSPoint *p0, *p1;
      if( j<0 || j>=(long)pS->n-1 ) return 1;
      p0 = &pS->a[j]; p1 = &pS->a[j+1];
      *pr = p0->r + (p1->r - p0->r)*(nsDiff(t, p0->t)/nsDiff(p1->t, p0->t));
      return 0;
    }
    case INTERP_SPLINE:
      return splineEval(pSp, t, pr);
    case INTERP_LOCF:
      if( j<0 ) return 1;
      *ppPt = &pS->a[j];
      return 0;
    default:
      *pbFill = 1;
      return 0;
  }
}

static void interpFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int eMethod = (int)(intptr_t)sqlite3_user_data(ctx);
  const char *zFunc = azInterp[eMethod];
  TsSeries s, req, out;
  Spline sp;
  int rc, bArray;
  int64_t tOne = 0;
  memset(&sp, 0, sizeof(sp));
  tsSeriesInit(&s);
  tsSeriesInit(&req);
  tsSeriesInit(&out);
  rc = seriesArg(ctx, zFunc, argv[0], 0, &s);
  if( rc!=TS_ARG_ERROR && sqlite3_value_type(argv[1])==SQLITE_NULL ) rc = TS_ARG_NULL;
  if( rc!=TS_ARG_OK ) goto done;
  if( (eMethod==INTERP_LINEAR || eMethod==INTERP_SPLINE)
   && requireNumeric(ctx, zFunc, &s)!=TS_ARG_OK ) goto done;
  /* The second argument: a JSON array of times, or one timestamp. */
  bArray = 0;
  if( sqlite3_value_type(argv[1])==SQLITE_TEXT ){
    const char *z = (const char*)sqlite3_value_text(argv[1]);
    while( *z==' ' || *z=='\t' || *z=='\n' || *z=='\r' ) z++;
    bArray = *z=='[';
  }
  if( bArray ){
    char zErr[160];
    if( tsSeriesParse((const char*)sqlite3_value_text(argv[1]),
                      (size_t)sqlite3_value_bytes(argv[1]), TS_SERIES_ALLOW_SEQ,
                      &req, zErr, sizeof(zErr)) ){
      tsFuncError(ctx, "%s: malformed array of times: %s", zFunc, zErr);
      goto done;
    }
  }else if( tsFuncArgTime(ctx, zFunc, argv[1], &tOne)!=TS_ARG_OK ){
    goto done;
  }
  if( eMethod==INTERP_SPLINE && splineInit(&sp, &s)!=SQLITE_OK ){
    sqlite3_result_error_nomem(ctx);
    goto done;
  }
  if( !bArray ){
    const TsSPoint *pPt;
    double r = 0;
    int bFill;
    if( interpAt(eMethod, &s, &sp, tOne, &pPt, &r, &bFill) ){
      sqlite3_result_null(ctx);
    }else if( pPt ){
      resultPoint(ctx, &s, pPt);
    }else if( bFill ){
      sqlite3_result_value(ctx, argv[2]);
    }else{
      resultDouble(ctx, r);
    }
  }else{
    int64_t *aT = sqlite3_malloc64((req.n ? req.n : 1)*sizeof(int64_t));
    size_t i, nT = 0;
    int bOom = 0;
    if( aT==0 ){ sqlite3_result_error_nomem(ctx); goto done; }
    for(i=0; i<req.n; i++) aT[i] = req.a[i].t;
    qsort(aT, req.n, sizeof(int64_t), cmpI64);
    for(i=0; i<req.n; i++){ if( nT==0 || aT[nT-1]!=aT[i] ) aT[nT++] = aT[i]; }
    for(i=0; i<nT && !bOom; i++){
      const TsSPoint *pPt;
      double r = 0;
      int bFill;
      if( interpAt(eMethod, &s, &sp, aT[i], &pPt, &r, &bFill) ) continue;
      if( pPt ){
        bOom = copyPoint(&out, aT[i], &s, pPt);
      }else if( bFill ){
        sqlite3_value *v = argv[2];
        switch( sqlite3_value_type(v) ){
          case SQLITE_INTEGER:
            bOom = tsSeriesAdd(&out, aT[i], TS_SV_INT, sqlite3_value_int64(v),
                               (double)sqlite3_value_int64(v), 0, 0);
            break;
          case SQLITE_FLOAT:
            bOom = tsSeriesAdd(&out, aT[i], TS_SV_REAL, 0, sqlite3_value_double(v), 0, 0);
            break;
          case SQLITE_TEXT:
            bOom = tsSeriesAdd(&out, aT[i], TS_SV_TEXT, 0, NAN,
                               (const char*)sqlite3_value_text(v), (size_t)sqlite3_value_bytes(v));
            break;
          default:
            bOom = tsSeriesAdd(&out, aT[i], TS_SV_NULL, 0, NAN, 0, 0);
            break;
        }
      }else{
        bOom = tsSeriesAdd(&out, aT[i], TS_SV_REAL, 0, r, 0, 0);
      }
    }
    sqlite3_free(aT);
    if( bOom ) sqlite3_result_error_nomem(ctx);
    else resultSeries(ctx, &out);
  }
done:
  splineFree(&sp);
  tsSeriesFree(&s);
  tsSeriesFree(&req);
  tsSeriesFree(&out);
}

static void interpFillCheck(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  if( sqlite3_value_type(argv[2])==SQLITE_BLOB ){
    tsFuncError(ctx, "interpolate_fill: the fill value must be INTEGER, REAL or TEXT");
    return;
  }
  interpFunc(ctx, argc, argv);
}

/*------------------------------------------------- derivatives and integral */

static void derivativeFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int bNonNeg = sqlite3_user_data(ctx)!=0;
  const char *zFunc = bNonNeg ? "non_negative_derivative_linear" : "derivative_linear";
  TsSeries s, out;
  int64_t iv;
  int rc1, rc2;
  size_t i;
  tsSeriesInit(&s);
  tsSeriesInit(&out);
  rc1 = seriesArg(ctx, zFunc, argv[0], 0, &s);
  if( rc1==TS_ARG_ERROR ) goto done;
  rc2 = tsFuncArgInterval(ctx, zFunc, argv[1], &iv);
  if( rc1!=TS_ARG_OK || rc2!=TS_ARG_OK ) goto done;
  if( iv<=0 ){
    tsFuncError(ctx, "%s: interval must be positive, got %lld ns", zFunc, (long long)iv);
    goto done;
  }
  if( requireNumeric(ctx, zFunc, &s)!=TS_ARG_OK ) goto done;
  for(i=1; i<s.n; i++){
    const TsSPoint *p0 = &s.a[i-1], *p1 = &s.a[i];
    double r;
    if( p1->t==p0->t ) continue;   /* no rate between equal times */
    r = (p1->r - p0->r) * ((double)iv / nsDiff(p1->t, p0->t));
    if( bNonNeg && r<0 ) continue;
    if( tsSeriesAdd(&out, p1->t, TS_SV_REAL, 0, r, 0, 0) ){
      sqlite3_result_error_nomem(ctx);
      goto done;
    }
  }
  resultSeries(ctx, &out);
done:
  tsSeriesFree(&s);
  tsSeriesFree(&out);
}

static void integralFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  TsSeries s;
  int64_t iv = TS_NS_PER_SEC;
  int rc1, rc2 = TS_ARG_OK;
  size_t i;
  double sum = 0;
  tsSeriesInit(&s);
  rc1 = seriesArg(ctx, "integral_trapezoidal", argv[0], 0, &s);
  if( rc1==TS_ARG_ERROR ) goto done;
  if( argc==2 ) rc2 = tsFuncArgInterval(ctx, "integral_trapezoidal", argv[1], &iv);
  if( rc1!=TS_ARG_OK || rc2!=TS_ARG_OK ) goto done;
  if( iv<=0 ){
    tsFuncError(ctx, "integral_trapezoidal: interval must be positive, got %lld ns", (long long)iv);
    goto done;
  }
  if( requireNumeric(ctx, "integral_trapezoidal", &s)!=TS_ARG_OK ) goto done;
  if( s.n==0 ) goto done;   /* NULL */
  for(i=1; i<s.n; i++){
    sum += (s.a[i-1].r + s.a[i].r)/2 * (nsDiff(s.a[i].t, s.a[i-1].t)/(double)iv);
  }
  resultDouble(ctx, sum);
done:
  tsSeriesFree(&s);
}

/*------------------------------------------------------------ correlation */

static double pearson(const double *x, const double *y, size_t n){
  double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
  size_t i;
  for(i=0; i<n; i++){ mx += x[i]; my += y[i]; }
  mx /= (double)n; my /= (double)n;
  for(i=0; i<n; i++){
    double dx = x[i]-mx, dy = y[i]-my;
    sxx += dx*dx; syy += dy*dy; sxy += dx*dy;
  }
  if( sxx==0 || syy==0 ) return NAN;
  return sxy / sqrt(sxx*syy);
}

typedef struct RankKey { double v; size_t i; } RankKey;
static int cmpRankKey(const void *a, const void *b){
  double x = ((const RankKey*)a)->v, y = ((const RankKey*)b)->v;
  return x<y ? -1 : x>y;
}

/* Replace a[0..n) by its ranks (1-based; ties get their average rank). */
static int toRanks(double *a, size_t n){
  RankKey *k = sqlite3_malloc64((n ? n : 1)*sizeof(RankKey));
  size_t i, j;
  if( k==0 ) return SQLITE_NOMEM;
  for(i=0; i<n; i++){ k[i].v = a[i]; k[i].i = i; }
  qsort(k, n, sizeof(RankKey), cmpRankKey);
  for(i=0; i<n; i=j){
    double r;
    for(j=i+1; j<n && k[j].v==k[i].v; j++){}
    r = ((double)(i+1) + (double)j)/2;   /* average of ranks i+1 .. j */
    for(; i<j; i++) a[k[i].i] = r;
    j = i;
  }
  sqlite3_free(k);
  return SQLITE_OK;
}

static void correlateFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int bSpearman = sqlite3_user_data(ctx)!=0;
  const char *zFunc = bSpearman ? "correlate_spearman" : "correlate_pearson";
  TsSeries a, b;
  double *x = 0, *y;
  size_t i;
  int rc1, rc2;
  tsSeriesInit(&a);
  tsSeriesInit(&b);
  rc1 = seriesArg(ctx, zFunc, argv[0], 0, &a);
  if( rc1==TS_ARG_ERROR ) goto done;
  rc2 = seriesArg(ctx, zFunc, argv[1], 0, &b);
  if( rc1!=TS_ARG_OK || rc2!=TS_ARG_OK ) goto done;
  if( requireNumeric(ctx, zFunc, &a)!=TS_ARG_OK ) goto done;
  if( requireNumeric(ctx, zFunc, &b)!=TS_ARG_OK ) goto done;
  if( a.n!=b.n ){
    tsFuncError(ctx, "%s: the series must have the same timestamps, but have %lld and %lld points",
                zFunc, (long long)a.n, (long long)b.n);
    goto done;
  }
  for(i=0; i<a.n; i++){
    if( a.a[i].t!=b.a[i].t ){
      tsFuncError(ctx, "%s: the series must have the same timestamps, but element %lld is at "
                  "%lld in the first and %lld in the second", zFunc, (long long)i,
                  (long long)a.a[i].t, (long long)b.a[i].t);
      goto done;
    }
  }
  if( a.n<2 ) goto done;   /* NULL: undefined for fewer than 2 points */
  x = sqlite3_malloc64(2*a.n*sizeof(double));
  if( x==0 ){ sqlite3_result_error_nomem(ctx); goto done; }
  y = x + a.n;
  for(i=0; i<a.n; i++){
    x[i] = a.a[i].r; y[i] = b.a[i].r;
    if( isnan(x[i]) || isnan(y[i]) ) goto done;   /* NULL propagates */
  }
  if( bSpearman && (toRanks(x, a.n) || toRanks(y, a.n)) ){
    sqlite3_result_error_nomem(ctx);
    goto done;
  }
  resultDouble(ctx, pearson(x, y, a.n));
done:
  sqlite3_free(x);
  tsSeriesFree(&a);
  tsSeriesFree(&b);
}

/*------------------------------------------------------------ unnest vtab */

/* unnest(ts): an eponymous table-valued function.
**   SELECT time, value FROM unnest(create_time_series(t, v));
**   SELECT u.time FROM unnest(sequence(0, 100, 10)) AS u;
** Columns: time, value, and the hidden argument column "series".  Without
** the argument the plan is rejected (SQLITE_CONSTRAINT). */
#define UNNEST_TIME   0
#define UNNEST_VALUE  1
#define UNNEST_SERIES 2

typedef struct UnnestCursor UnnestCursor;
struct UnnestCursor {
  sqlite3_vtab_cursor base;   /* base class: must be first */
  TsSeries s;                 /* the parsed argument; owned */
  size_t i;                   /* current row */
};

static int unnestConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                         sqlite3_vtab **ppVtab, char **pzErr){
  sqlite3_vtab *p;
  int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(time, value, series HIDDEN)");
  *ppVtab = 0;
  if( rc!=SQLITE_OK ) return rc;
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  *ppVtab = p;
  return SQLITE_OK;
}

static int unnestDisconnect(sqlite3_vtab *p){
  sqlite3_free(p);
  return SQLITE_OK;
}

/* idxNum 1: argv[0] is the series. */
static int unnestBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  int i, bUnusable = 0;
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *c = &pInfo->aConstraint[i];
    if( c->iColumn!=UNNEST_SERIES || c->op!=SQLITE_INDEX_CONSTRAINT_EQ ) continue;
    if( !c->usable ){ bUnusable = 1; continue; }
    pInfo->aConstraintUsage[i].argvIndex = 1;
    pInfo->aConstraintUsage[i].omit = 1;
    pInfo->idxNum = 1;
    pInfo->estimatedCost = 10;
    pInfo->estimatedRows = 100;
    return SQLITE_OK;
  }
  if( bUnusable ) return SQLITE_CONSTRAINT;
  pInfo->idxNum = 0;
  pInfo->estimatedCost = 1e12;
  return SQLITE_OK;
}

static int unnestOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  UnnestCursor *p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  tsSeriesInit(&p->s);
  *ppCur = &p->base;
  return SQLITE_OK;
}

static int unnestClose(sqlite3_vtab_cursor *pCur){
  UnnestCursor *p = (UnnestCursor*)pCur;
  tsSeriesFree(&p->s);
  sqlite3_free(p);
  return SQLITE_OK;
}

static int unnestFilter(sqlite3_vtab_cursor *pCur, int idxNum, const char *idxStr,
                        int argc, sqlite3_value **argv){
  UnnestCursor *p = (UnnestCursor*)pCur;
  char zErr[160];
  tsSeriesFree(&p->s);
  p->i = 0;
  if( idxNum!=1 ){
    tsVtabErr(pCur->pVtab, "unnest: needs one argument: unnest(time_series) or unnest(sequence(...))");
    return SQLITE_ERROR;
  }
  switch( sqlite3_value_type(argv[0]) ){
    case SQLITE_NULL: return SQLITE_OK;   /* no rows */
    case SQLITE_TEXT: break;
    default:
      tsVtabErr(pCur->pVtab, "unnest: expects a time series or an array (JSON text)");
      return SQLITE_ERROR;
  }
  if( tsSeriesParse((const char*)sqlite3_value_text(argv[0]), (size_t)sqlite3_value_bytes(argv[0]),
                    TS_SERIES_ALLOW_SEQ, &p->s, zErr, sizeof(zErr)) ){
    tsSeriesFree(&p->s);
    tsVtabErr(pCur->pVtab, "unnest: malformed time series: %s", zErr);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

static int unnestNext(sqlite3_vtab_cursor *pCur){
  ((UnnestCursor*)pCur)->i++;
  return SQLITE_OK;
}

static int unnestEof(sqlite3_vtab_cursor *pCur){
  UnnestCursor *p = (UnnestCursor*)pCur;
  return p->i>=p->s.n;
}

static int unnestColumn(sqlite3_vtab_cursor *pCur, sqlite3_context *ctx, int iCol){
  UnnestCursor *p = (UnnestCursor*)pCur;
  const TsSPoint *q = &p->s.a[p->i];
  if( iCol==UNNEST_TIME ) sqlite3_result_int64(ctx, q->t);
  else if( iCol==UNNEST_VALUE ) resultPoint(ctx, &p->s, q);
  return SQLITE_OK;
}

static int unnestRowid(sqlite3_vtab_cursor *pCur, sqlite3_int64 *pRowid){
  *pRowid = (sqlite3_int64)((UnnestCursor*)pCur)->i + 1;
  return SQLITE_OK;
}

static sqlite3_module unnestModule = {
  0,                 /* iVersion */
  0,                 /* xCreate: 0 makes it eponymous-only */
  unnestConnect,     /* xConnect */
  unnestBestIndex,   /* xBestIndex */
  unnestDisconnect,  /* xDisconnect */
  0,                 /* xDestroy */
  unnestOpen,        /* xOpen */
  unnestClose,       /* xClose */
  unnestFilter,      /* xFilter */
  unnestNext,        /* xNext */
  unnestEof,         /* xEof */
  unnestColumn,      /* xColumn */
  unnestRowid,       /* xRowid */
  0, 0, 0, 0, 0,     /* xUpdate .. xRollback: read-only */
  0,                 /* xFindFunction */
  0,                 /* xRename */
  0, 0, 0,           /* xSavepoint, xRelease, xRollbackTo */
  0,                 /* xShadowName */
};

/*----------------------------------------------------------- registration */

int tsFuncSeriesRegister(sqlite3 *db, TsEnv *pEnv){
  const int fPure = SQLITE_UTF8|SQLITE_DETERMINISTIC|SQLITE_INNOCUOUS;
  int rc;
  rc = sqlite3_create_window_function(db, "create_time_series", 2, fPure, 0,
      ctsStep, ctsFinal, ctsValue, ctsInverse, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_create_function_v2(db, "sequence", 2, fPure, 0, sequenceFunc, 0, 0, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_create_function_v2(db, "sequence", 3, fPure, 0, sequenceFunc, 0, 0, 0);
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "interpolate_linear", 2, fPure,
        (void*)(intptr_t)INTERP_LINEAR, interpFunc, 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "interpolate_spline_cubic", 2, fPure,
        (void*)(intptr_t)INTERP_SPLINE, interpFunc, 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "interpolate_locf", 2, fPure,
        (void*)(intptr_t)INTERP_LOCF, interpFunc, 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "interpolate_fill", 3, fPure,
        (void*)(intptr_t)INTERP_FILL, interpFillCheck, 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "derivative_linear", 2, fPure, 0, derivativeFunc, 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "non_negative_derivative_linear", 2, fPure,
        (void*)1, derivativeFunc, 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "integral_trapezoidal", 1, fPure, 0, integralFunc, 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "integral_trapezoidal", 2, fPure, 0, integralFunc, 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "correlate_pearson", 2, fPure, 0, correlateFunc, 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "correlate_spearman", 2, fPure, (void*)1,
        correlateFunc, 0, 0, 0);
  }
  if( rc==SQLITE_OK ) rc = sqlite3_create_module_v2(db, "unnest", &unnestModule, 0, 0);
  (void)pEnv;
  return rc;
}
