/*
** func_agg.c: aggregate functions, each also a window function.
**
**   approx_percentile(x, p)   KLL sketch (sketch.c); exact for <= 4096 rows
**   approx_distinct(x)        HyperLogLog, 2.3% standard error; exact (up to
**                             64-bit hash collisions) for <= 4096 rows
**   max_by(x, y), min_by(x, y)  x of the row with the largest/smallest y
**                             (the first such row on ties; NULL y skipped)
**   count_if(x)               rows where x is true (non-zero)
**   geometric_mean(x)         exp(mean(ln x))
**   stddev = stddev_samp, stddev_pop, variance = var_samp, var_pop
**                             Welford's online algorithm
**
** Window functions.  SQLite calls xInverse to remove the oldest row still in
** the frame, so a state that must forget rows keeps them in arrival order (a
** FIFO) and pops from the front.  count_if, geometric_mean and the Welford
** statistics update in O(1) both ways.  The sketch-based functions and
** max_by/min_by keep the rows of the frame only while there are at most
** TS_AGG_EXACT_MAX of them (answers are then exact); past that they switch to
** their bounded summary, which cannot forget, and a later xInverse fails with
** an error that says so.  Frames that start at UNBOUNDED PRECEDING (the
** default frame) never call xInverse and work at any size.
*/
#include "tslite.h"
#include "sketch.h"
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TS_AGG_EXACT_MAX 4096

/* A numeric argument: 0 ok (*pr set, *pbInt for INTEGER), 1 NULL (skip),
** 2 error set. */
static int numArg(sqlite3_context *ctx, const char *zFunc, sqlite3_value *v,
                  double *pr, int *pbInt){
  int e = sqlite3_value_numeric_type(v);
  if( e==SQLITE_NULL ) return 1;
  if( e==SQLITE_INTEGER ){
    *pr = (double)sqlite3_value_int64(v);
    if( pbInt ) *pbInt = 1;
    return 0;
  }
  if( e==SQLITE_FLOAT ){
    *pr = sqlite3_value_double(v);
    if( pbInt ) *pbInt = 0;
    return 0;
  }
  tsFuncError(ctx, "%s: expects numeric values, got %s '%.40s'", zFunc,
              e==SQLITE_TEXT ? "TEXT" : "BLOB",
              e==SQLITE_TEXT ? (const char*)sqlite3_value_text(v) : "...");
  return 2;
}

/* Room for one more entry at the end of a frame's FIFO window, whose live
** entries are a[*piFirst .. *pn) of *pnAlloc slots of szElem bytes (array
** owned by the caller, sqlite3_malloc).  When the array is full and rows have
** left the frame, the live entries slide to the front (*pnSlid = how far, so
** the caller can fix indexes into the window); otherwise it doubles, starting
** at nFirst.  Returns SQLITE_OK or SQLITE_NOMEM (nothing changed). */
static int fifoReserve(void **pa, size_t szElem, size_t *piFirst, size_t *pn,
                       size_t *pnAlloc, size_t nFirst, size_t *pnSlid){
  *pnSlid = 0;
  if( *piFirst>0 && *pn==*pnAlloc ){
    unsigned char *a = (unsigned char*)*pa;
    memmove(a, a + *piFirst*szElem, (*pn - *piFirst)*szElem);
    *pnSlid = *piFirst;
    *pn -= *piFirst;
    *piFirst = 0;
  }
  if( *pn==*pnAlloc ){
    size_t nNew = *pnAlloc ? *pnAlloc*2 : nFirst;
    void *aNew = sqlite3_realloc64(*pa, nNew*szElem);
    if( aNew==0 ) return SQLITE_NOMEM;
    *pa = aNew;
    *pnAlloc = nNew;
  }
  return SQLITE_OK;
}

static void inverseUnsupported(sqlite3_context *ctx, const char *zFunc){
  tsFuncError(ctx, "%s: this window frame removes rows from a frame of more than %d rows, "
              "which the summary cannot forget; use a frame starting at UNBOUNDED PRECEDING "
              "or a smaller frame", zFunc, TS_AGG_EXACT_MAX);
}

/*------------------------------------------------------ approx_percentile */

/* One value kept while the group is small: the INTEGER itself as well as its
** REAL image, so that integers beyond 2^53 come back exactly. */
typedef struct PctVal PctVal;
struct PctVal {
  double r;           /* the value as REAL (order key) */
  sqlite3_int64 i;    /* the INTEGER value (when the input was INTEGER) */
};

typedef struct PctAgg PctAgg;
struct PctAgg {
  int bInit;          /* p has been read */
  double p;           /* the percentile, fixed by the first row */
  int bReal;          /* some value was REAL: the result is REAL */
  int bSketch;        /* switched from aRaw to kll */
  PctVal *aRaw;       /* FIFO of values while !bSketch; owned (sqlite3_malloc) */
  size_t iFirst;      /* first live entry of aRaw */
  size_t nRaw;        /* entries used in aRaw */
  size_t nAlloc;      /* entries allocated */
  TsKll kll;          /* the sketch once bSketch; owns its levels */
};

/* Order by REAL image, then by INTEGER: int64 -> double is monotonic, so
** for all-INTEGER groups this is exactly integer order. */
static int cmpPctVal(const void *a, const void *b){
  const PctVal *x = (const PctVal*)a, *y = (const PctVal*)b;
  if( x->r!=y->r ) return x->r<y->r ? -1 : 1;
  return x->i<y->i ? -1 : x->i>y->i;
}

/* r rounded to the nearest INTEGER, saturating at the int64 range (a plain
** llround of 2^63 is undefined and gives INT64_MIN on x86). */
static sqlite3_int64 roundToInt64(double r){
  if( r>=9223372036854775807.0 ) return (sqlite3_int64)0x7fffffffffffffffLL;
  if( r<=-9223372036854775808.0 ) return (sqlite3_int64)(-0x7fffffffffffffffLL - 1);
  return (sqlite3_int64)llround(r);
}

static int pctReadP(sqlite3_context *ctx, PctAgg *p, sqlite3_value *v){
  double r;
  int e = sqlite3_value_numeric_type(v);
  if( e!=SQLITE_INTEGER && e!=SQLITE_FLOAT ){
    tsFuncError(ctx, "approx_percentile: p must be a number in [0, 1], got %s",
                e==SQLITE_NULL ? "NULL" : e==SQLITE_TEXT ? "TEXT" : "BLOB");
    return 1;
  }
  r = sqlite3_value_double(v);
  if( !(r>=0.0 && r<=1.0) ){
    tsFuncError(ctx, "approx_percentile: p must be in [0, 1], got %!.15g", r);
    return 1;
  }
  if( !p->bInit ){
    p->bInit = 1;
    p->p = r;
  }else if( r!=p->p ){
    tsFuncError(ctx, "approx_percentile: p must be the same for every row (%!.15g, then %!.15g)",
                p->p, r);
    return 1;
  }
  return 0;
}

static void pctStep(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  PctAgg *p = sqlite3_aggregate_context(ctx, sizeof(PctAgg));
  double x;
  int bInt = 0, rc;
  if( p==0 ){ sqlite3_result_error_nomem(ctx); return; }
  if( pctReadP(ctx, p, argv[1]) ) return;
  rc = numArg(ctx, "approx_percentile", argv[0], &x, &bInt);
  if( rc ) return;
  if( !bInt ) p->bReal = 1;
  if( isnan(x) ) return;
  if( !p->bSketch && p->nRaw-p->iFirst>=TS_AGG_EXACT_MAX ){
    size_t i;
    tsKllInit(&p->kll, TS_KLL_K);
    for(i=p->iFirst; i<p->nRaw; i++) tsKllAdd(&p->kll, p->aRaw[i].r);
    sqlite3_free(p->aRaw);
    p->aRaw = 0;
    p->nRaw = p->iFirst = p->nAlloc = 0;
    p->bSketch = 1;
  }
  if( p->bSketch ){
    if( tsKllAdd(&p->kll, x) ) sqlite3_result_error_nomem(ctx);
    return;
  }
  {
    size_t nSlid;
    void *pv = p->aRaw;
    rc = fifoReserve(&pv, sizeof(PctVal), &p->iFirst, &p->nRaw, &p->nAlloc, 64, &nSlid);
    p->aRaw = (PctVal*)pv;
    if( rc ){ sqlite3_result_error_nomem(ctx); return; }
  }
  p->aRaw[p->nRaw].r = x;
  p->aRaw[p->nRaw].i = bInt ? sqlite3_value_int64(argv[0]) : 0;
  p->nRaw++;
}

static void pctInverse(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  PctAgg *p = sqlite3_aggregate_context(ctx, sizeof(PctAgg));
  if( p==0 ) return;
  if( sqlite3_value_numeric_type(argv[0])==SQLITE_NULL ) return;   /* never added */
  if( isnan(sqlite3_value_double(argv[0])) ) return;
  if( p->bSketch ){ inverseUnsupported(ctx, "approx_percentile"); return; }
  if( p->iFirst<p->nRaw ) p->iFirst++;
}

static void pctResult(sqlite3_context *ctx, PctAgg *p){
  double v;
  sqlite3_int64 iv;
  if( p==0 || !p->bInit ) return;   /* no rows: NULL */
  if( p->bSketch ){
    if( tsKllQuantile(&p->kll, p->p, &v) ){ sqlite3_result_error_nomem(ctx); return; }
    iv = roundToInt64(v);
  }else{
    size_t n = p->nRaw - p->iFirst, k;
    PctVal *a;
    if( n==0 ) return;
    a = sqlite3_malloc64(n*sizeof(PctVal));
    if( a==0 ){ sqlite3_result_error_nomem(ctx); return; }
    memcpy(a, p->aRaw+p->iFirst, n*sizeof(PctVal));
    /* Nearest rank: the smallest value whose rank is >= ceil(p*n). */
    k = (size_t)ceil(p->p*(double)n);
    k = k>0 ? k-1 : 0;
    if( k>=n ) k = n-1;
    qsort(a, n, sizeof(PctVal), cmpPctVal);
    v = a[k].r;
    iv = a[k].i;
    sqlite3_free(a);
  }
  if( p->bReal ) sqlite3_result_double(ctx, v);
  else sqlite3_result_int64(ctx, iv);
}

static void pctValue(sqlite3_context *ctx){ pctResult(ctx, sqlite3_aggregate_context(ctx, 0)); }
static void pctFinal(sqlite3_context *ctx){
  PctAgg *p = sqlite3_aggregate_context(ctx, 0);
  pctResult(ctx, p);
  if( p ){
    sqlite3_free(p->aRaw);
    if( p->bSketch ) tsKllFree(&p->kll);
  }
}

/*-------------------------------------------------------- approx_distinct */

typedef struct DistinctAgg DistinctAgg;
struct DistinctAgg {
  int bHll;           /* switched from aRaw to hll */
  uint64_t *aRaw;     /* FIFO of value hashes while !bHll; owned */
  size_t iFirst, nRaw, nAlloc;
  TsHll *pHll;        /* the HyperLogLog once bHll; owned */
};

/* Hash a value so that values SQLite's DISTINCT treats as equal (1 and
** 1.0) hash equally. */
static uint64_t hashValue(sqlite3_value *v){
  switch( sqlite3_value_type(v) ){
    case SQLITE_INTEGER:
      return tsHashU64((uint64_t)sqlite3_value_int64(v) ^ 0x1234567ULL);
    case SQLITE_FLOAT: {
      double r = sqlite3_value_double(v);
      uint64_t u;
      if( r>=-9223372036854775808.0 && r<9223372036854775808.0 && r==floor(r) ){
        return tsHashU64((uint64_t)(int64_t)r ^ 0x1234567ULL);
      }
      if( r==0 ) r = 0;   /* -0.0 == 0.0 */
      memcpy(&u, &r, 8);
      return tsHashU64(u ^ 0xF10A7ULL);
    }
    case SQLITE_TEXT:
      return tsHash64(sqlite3_value_text(v), (size_t)sqlite3_value_bytes(v), 0x7E47ULL);
    default:
      return tsHash64(sqlite3_value_blob(v), (size_t)sqlite3_value_bytes(v), 0xB10BULL);
  }
}

static int cmpU64(const void *a, const void *b){
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x<y ? -1 : x>y;
}

static void distinctStep(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  DistinctAgg *p = sqlite3_aggregate_context(ctx, sizeof(DistinctAgg));
  uint64_t h;
  if( p==0 ){ sqlite3_result_error_nomem(ctx); return; }
  if( sqlite3_value_type(argv[0])==SQLITE_NULL ) return;
  h = hashValue(argv[0]);
  if( !p->bHll && p->nRaw-p->iFirst>=TS_AGG_EXACT_MAX ){
    size_t i;
    p->pHll = sqlite3_malloc64(sizeof(TsHll));
    if( p->pHll==0 ){ sqlite3_result_error_nomem(ctx); return; }
    tsHllInit(p->pHll);
    for(i=p->iFirst; i<p->nRaw; i++) tsHllAdd(p->pHll, p->aRaw[i]);
    sqlite3_free(p->aRaw);
    p->aRaw = 0;
    p->nRaw = p->iFirst = p->nAlloc = 0;
    p->bHll = 1;
  }
  if( p->bHll ){
    tsHllAdd(p->pHll, h);
    return;
  }
  {
    size_t nSlid;
    void *pv = p->aRaw;
    int rc = fifoReserve(&pv, sizeof(uint64_t), &p->iFirst, &p->nRaw, &p->nAlloc, 64, &nSlid);
    p->aRaw = (uint64_t*)pv;
    if( rc ){ sqlite3_result_error_nomem(ctx); return; }
  }
  p->aRaw[p->nRaw++] = h;
}

static void distinctInverse(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  DistinctAgg *p = sqlite3_aggregate_context(ctx, sizeof(DistinctAgg));
  if( p==0 || sqlite3_value_type(argv[0])==SQLITE_NULL ) return;
  if( p->bHll ){ inverseUnsupported(ctx, "approx_distinct"); return; }
  if( p->iFirst<p->nRaw ) p->iFirst++;
}

static void distinctResult(sqlite3_context *ctx, DistinctAgg *p){
  if( p==0 ){ sqlite3_result_int64(ctx, 0); return; }
  if( p->bHll ){
    sqlite3_result_int64(ctx, roundToInt64(tsHllEstimate(p->pHll)));
  }else{
    size_t n = p->nRaw - p->iFirst, i, nDistinct = 0;
    uint64_t *a;
    if( n==0 ){ sqlite3_result_int64(ctx, 0); return; }
    a = sqlite3_malloc64(n*sizeof(uint64_t));
    if( a==0 ){ sqlite3_result_error_nomem(ctx); return; }
    memcpy(a, p->aRaw+p->iFirst, n*sizeof(uint64_t));
    qsort(a, n, sizeof(uint64_t), cmpU64);
    for(i=0; i<n; i++) if( i==0 || a[i]!=a[i-1] ) nDistinct++;
    sqlite3_free(a);
    sqlite3_result_int64(ctx, (sqlite3_int64)nDistinct);
  }
}

static void distinctValue(sqlite3_context *ctx){ distinctResult(ctx, sqlite3_aggregate_context(ctx, 0)); }
static void distinctFinal(sqlite3_context *ctx){
  DistinctAgg *p = sqlite3_aggregate_context(ctx, 0);
  distinctResult(ctx, p);
  if( p ){
    sqlite3_free(p->aRaw);
    sqlite3_free(p->pHll);
  }
}

/*---------------------------------------------------------- max_by/min_by */

typedef struct ByRow { sqlite3_value *x, *y; } ByRow;   /* both owned (value_dup) */
typedef struct ByAgg ByAgg;
struct ByAgg {
  ByRow *a;          /* FIFO of the frame's rows while !bOverflow; owned */
  size_t iFirst, n, nAlloc;
  int bOverflow;     /* more than TS_AGG_EXACT_MAX rows: only best is kept */
  ByRow best;        /* the current answer's row (owned copies), x may be NULL */
  int bBest;         /* best is set */
  size_t iBest;      /* index of best in a (while !bOverflow) */
};

/* Compare y values in SQLite's order: numbers < TEXT (binary) < BLOB. */
static int cmpY(sqlite3_value *a, sqlite3_value *b){
  int ea = sqlite3_value_type(a), eb = sqlite3_value_type(b);
  int ca = ea==SQLITE_TEXT ? 1 : ea==SQLITE_BLOB ? 2 : 0;
  int cb = eb==SQLITE_TEXT ? 1 : eb==SQLITE_BLOB ? 2 : 0;
  if( ca!=cb ) return ca<cb ? -1 : 1;
  if( ca==0 ){
    if( ea==SQLITE_INTEGER && eb==SQLITE_INTEGER ){
      sqlite3_int64 x = sqlite3_value_int64(a), y = sqlite3_value_int64(b);
      return x<y ? -1 : x>y;
    }else{
      double x = sqlite3_value_double(a), y = sqlite3_value_double(b);
      return x<y ? -1 : x>y;
    }
  }else{
    int na = sqlite3_value_bytes(a), nb = sqlite3_value_bytes(b);
    const void *za = ca==1 ? (const void*)sqlite3_value_text(a) : sqlite3_value_blob(a);
    const void *zb = ca==1 ? (const void*)sqlite3_value_text(b) : sqlite3_value_blob(b);
    int c = memcmp(za, zb, (size_t)(na<nb ? na : nb));
    return c ? c : (na<nb ? -1 : na>nb);
  }
}

static int bySetBest(ByAgg *p, sqlite3_value *x, sqlite3_value *y){
  sqlite3_value *x2 = sqlite3_value_dup(x), *y2 = sqlite3_value_dup(y);
  if( x2==0 || y2==0 ){ sqlite3_value_free(x2); sqlite3_value_free(y2); return 1; }
  sqlite3_value_free(p->best.x);
  sqlite3_value_free(p->best.y);
  p->best.x = x2;
  p->best.y = y2;
  p->bBest = 1;
  return 0;
}

static void byStep(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  ByAgg *p = sqlite3_aggregate_context(ctx, sizeof(ByAgg));
  int bMax = sqlite3_user_data(ctx)!=0;
  int bBetter;
  if( p==0 ){ sqlite3_result_error_nomem(ctx); return; }
  if( sqlite3_value_type(argv[1])==SQLITE_NULL ) return;
  bBetter = !p->bBest || (bMax ? cmpY(argv[1], p->best.y)>0 : cmpY(argv[1], p->best.y)<0);
  if( bBetter && bySetBest(p, argv[0], argv[1]) ){ sqlite3_result_error_nomem(ctx); return; }
  if( p->bOverflow ) return;
  if( p->n-p->iFirst>=TS_AGG_EXACT_MAX ){
    size_t i;
    for(i=p->iFirst; i<p->n; i++){ sqlite3_value_free(p->a[i].x); sqlite3_value_free(p->a[i].y); }
    sqlite3_free(p->a);
    p->a = 0;
    p->n = p->iFirst = p->nAlloc = 0;
    p->bOverflow = 1;
    return;
  }
  {
    size_t nSlid;
    void *pv = p->a;
    int rc = fifoReserve(&pv, sizeof(ByRow), &p->iFirst, &p->n, &p->nAlloc, 16, &nSlid);
    p->a = (ByRow*)pv;
    p->iBest -= nSlid;
    if( rc ){ sqlite3_result_error_nomem(ctx); return; }
  }
  p->a[p->n].x = sqlite3_value_dup(argv[0]);
  p->a[p->n].y = sqlite3_value_dup(argv[1]);
  if( p->a[p->n].x==0 || p->a[p->n].y==0 ){
    sqlite3_value_free(p->a[p->n].x);
    sqlite3_value_free(p->a[p->n].y);
    sqlite3_result_error_nomem(ctx);
    return;
  }
  if( bBetter ) p->iBest = p->n;
  p->n++;
}

static void byInverse(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  ByAgg *p = sqlite3_aggregate_context(ctx, sizeof(ByAgg));
  int bMax = sqlite3_user_data(ctx)!=0;
  size_t i;
  if( p==0 || sqlite3_value_type(argv[1])==SQLITE_NULL ) return;
  if( p->bOverflow ){ inverseUnsupported(ctx, bMax ? "max_by" : "min_by"); return; }
  if( p->iFirst>=p->n ) return;
  sqlite3_value_free(p->a[p->iFirst].x);
  sqlite3_value_free(p->a[p->iFirst].y);
  p->iFirst++;
  if( p->iBest>=p->iFirst ) return;
  /* The best row left the frame: rescan (first best row wins ties). */
  p->bBest = 0;
  sqlite3_value_free(p->best.x); sqlite3_value_free(p->best.y);
  p->best.x = p->best.y = 0;
  for(i=p->iFirst; i<p->n; i++){
    if( !p->bBest || (bMax ? cmpY(p->a[i].y, p->best.y)>0 : cmpY(p->a[i].y, p->best.y)<0) ){
      if( bySetBest(p, p->a[i].x, p->a[i].y) ){ sqlite3_result_error_nomem(ctx); return; }
      p->iBest = i;
    }
  }
}

static void byValue(sqlite3_context *ctx){
  ByAgg *p = sqlite3_aggregate_context(ctx, 0);
  if( p && p->bBest ) sqlite3_result_value(ctx, p->best.x);
}

static void byFinal(sqlite3_context *ctx){
  ByAgg *p = sqlite3_aggregate_context(ctx, 0);
  size_t i;
  if( p==0 ) return;
  if( p->bBest ) sqlite3_result_value(ctx, p->best.x);
  for(i=p->iFirst; i<p->n; i++){ sqlite3_value_free(p->a[i].x); sqlite3_value_free(p->a[i].y); }
  sqlite3_free(p->a);
  sqlite3_value_free(p->best.x);
  sqlite3_value_free(p->best.y);
}

/*--------------------------------------------------------------- count_if */

static int truthy(sqlite3_value *v){
  switch( sqlite3_value_type(v) ){
    case SQLITE_NULL: return 0;
    case SQLITE_INTEGER: return sqlite3_value_int64(v)!=0;
    default: return sqlite3_value_double(v)!=0.0;
  }
}

static void countIfStep(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3_int64 *p = sqlite3_aggregate_context(ctx, sizeof(sqlite3_int64));
  if( p==0 ){ sqlite3_result_error_nomem(ctx); return; }
  if( truthy(argv[0]) ) (*p)++;
}
static void countIfInverse(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3_int64 *p = sqlite3_aggregate_context(ctx, sizeof(sqlite3_int64));
  if( p && truthy(argv[0]) ) (*p)--;
}
static void countIfValue(sqlite3_context *ctx){
  sqlite3_int64 *p = sqlite3_aggregate_context(ctx, 0);
  sqlite3_result_int64(ctx, p ? *p : 0);
}

/*--------------------------------------------------------- geometric_mean */

typedef struct GeoAgg { sqlite3_int64 nPos, nZero, nNeg; double sumLog; } GeoAgg;

static void geoUpdate(sqlite3_context *ctx, sqlite3_value *v, int iDir){
  GeoAgg *p = sqlite3_aggregate_context(ctx, sizeof(GeoAgg));
  double x;
  if( p==0 ){ sqlite3_result_error_nomem(ctx); return; }
  if( numArg(ctx, "geometric_mean", v, &x, 0) ) return;
  if( isnan(x) ) return;
  if( x>0 ){ p->nPos += iDir; p->sumLog += iDir*log(x); }
  else if( x==0 ) p->nZero += iDir;
  else p->nNeg += iDir;
  if( p->nPos==0 ) p->sumLog = 0;   /* drop accumulated rounding */
}
static void geoStep(sqlite3_context *ctx, int argc, sqlite3_value **argv){ geoUpdate(ctx, argv[0], 1); }
static void geoInverse(sqlite3_context *ctx, int argc, sqlite3_value **argv){ geoUpdate(ctx, argv[0], -1); }
static void geoValue(sqlite3_context *ctx){
  GeoAgg *p = sqlite3_aggregate_context(ctx, 0);
  if( p==0 || p->nPos+p->nZero+p->nNeg==0 ) return;   /* NULL */
  if( p->nNeg>0 ) return;                              /* undefined: NULL */
  if( p->nZero>0 ){ sqlite3_result_double(ctx, 0.0); return; }
  sqlite3_result_double(ctx, exp(p->sumLog/(double)p->nPos));
}

/*-------------------------------------------------- variance and stddev */

/* Welford on x - K, where K is the first value seen: shifting by a value
** near the data keeps mean small, so a large common offset (timestamps,
** 1e9 + small noise) costs no precision.  The variance is shift-invariant. */
typedef struct WelfordAgg {
  sqlite3_int64 n;    /* values in the state */
  double mean, m2;    /* mean of x-K and sum of squared deviations */
  double K;           /* the shift */
  int bK;             /* K is set */
} WelfordAgg;
#define STAT_VAR_SAMP 0
#define STAT_VAR_POP  1
#define STAT_SD_SAMP  2
#define STAT_SD_POP   3
static const char *const azStat[] = { "variance", "var_pop", "stddev", "stddev_pop" };

static void welfordStep(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  WelfordAgg *p = sqlite3_aggregate_context(ctx, sizeof(WelfordAgg));
  double x, d;
  if( p==0 ){ sqlite3_result_error_nomem(ctx); return; }
  if( numArg(ctx, azStat[(intptr_t)sqlite3_user_data(ctx)], argv[0], &x, 0) ) return;
  if( !p->bK ){ p->K = x; p->bK = 1; }
  x -= p->K;
  p->n++;
  d = x - p->mean;
  p->mean += d/(double)p->n;
  p->m2 += d*(x - p->mean);
}

static void welfordInverse(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  WelfordAgg *p = sqlite3_aggregate_context(ctx, sizeof(WelfordAgg));
  double x, meanOld;
  if( p==0 || numArg(ctx, azStat[(intptr_t)sqlite3_user_data(ctx)], argv[0], &x, 0) ) return;
  x -= p->K;
  if( p->n<=1 ){ p->n = 0; p->mean = p->m2 = 0; return; }
  meanOld = (p->mean*(double)p->n - x)/(double)(p->n-1);
  p->m2 -= (x - meanOld)*(x - p->mean);
  p->mean = meanOld;
  p->n--;
  /* Removal leaves rounding noise of about eps*n*mean^2 in m2; below that
  ** level m2 is indistinguishable from 0 (a constant frame must give 0). */
  if( p->m2 < 64*DBL_EPSILON*(double)p->n*p->mean*p->mean ) p->m2 = 0;
}

static void welfordValue(sqlite3_context *ctx){
  WelfordAgg *p = sqlite3_aggregate_context(ctx, 0);
  int eKind = (int)(intptr_t)sqlite3_user_data(ctx);
  int bSamp = eKind==STAT_VAR_SAMP || eKind==STAT_SD_SAMP;
  double v;
  if( p==0 || p->n==0 || (bSamp && p->n<2) ) return;   /* NULL */
  v = p->m2 / (double)(bSamp ? p->n-1 : p->n);
  if( eKind==STAT_SD_SAMP || eKind==STAT_SD_POP ) v = sqrt(v);
  sqlite3_result_double(ctx, v);
}

/*----------------------------------------------------------- registration */

int tsFuncAggRegister(sqlite3 *db, TsEnv *pEnv){
  const int f = SQLITE_UTF8|SQLITE_DETERMINISTIC|SQLITE_INNOCUOUS;
  static const struct { const char *zName; int eKind; } aStat[] = {
    { "variance", STAT_VAR_SAMP }, { "var_samp", STAT_VAR_SAMP },
    { "var_pop", STAT_VAR_POP },
    { "stddev", STAT_SD_SAMP }, { "stddev_samp", STAT_SD_SAMP },
    { "stddev_pop", STAT_SD_POP },
  };
  int rc;
  size_t i;
  (void)pEnv;
  rc = sqlite3_create_window_function(db, "approx_percentile", 2, f, 0,
      pctStep, pctFinal, pctValue, pctInverse, 0);
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_window_function(db, "approx_distinct", 1, f, 0,
        distinctStep, distinctFinal, distinctValue, distinctInverse, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_window_function(db, "max_by", 2, f, (void*)1,
        byStep, byFinal, byValue, byInverse, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_window_function(db, "min_by", 2, f, 0,
        byStep, byFinal, byValue, byInverse, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_window_function(db, "count_if", 1, f, 0,
        countIfStep, countIfValue, countIfValue, countIfInverse, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_window_function(db, "geometric_mean", 1, f, 0,
        geoStep, geoValue, geoValue, geoInverse, 0);
  }
  for(i=0; rc==SQLITE_OK && i<sizeof(aStat)/sizeof(aStat[0]); i++){
    rc = sqlite3_create_window_function(db, aStat[i].zName, 1, f,
        (void*)(intptr_t)aStat[i].eKind, welfordStep, welfordValue, welfordValue,
        welfordInverse, 0);
  }
  return rc;
}
