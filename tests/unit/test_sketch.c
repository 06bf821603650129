/* Unit tests of ext/codec/sketch.c: KLL rank error on 1M values (several input
** orders), exact extremes, merging; HyperLogLog error at several
** cardinalities; hash sanity. */
#include "tt.h"
#include "sketch.h"
#include <math.h>
#include <stdlib.h>

static uint64_t rs = 88172645463325252ULL;
static uint64_t xrand(void){ rs ^= rs<<13; rs ^= rs>>7; rs ^= rs<<17; return rs; }
static double urand(void){ return (double)(xrand()>>11) / 9007199254740992.0; }

static int cmpd(const void *a, const void *b){
  double x = *(const double*)a, y = *(const double*)b;
  return x<y ? -1 : x>y;
}

/* Largest normalised rank error of the sketch over many quantiles. */
static double worstRankError(const TsKll *p, const double *aSorted, size_t n){
  static const double aq[] = {0.001, 0.01, 0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5,
                              0.6, 0.7, 0.75, 0.8, 0.9, 0.95, 0.99, 0.999};
  double worst = 0;
  size_t k;
  for(k=0; k<sizeof(aq)/sizeof(aq[0]); k++){
    double v, target = aq[k]*(double)n, err = 0;
    size_t lo = 0, hi = n, a, b;
    tsKllQuantile(p, aq[k], &v);
    while( lo<hi ){ size_t m = (lo+hi)/2; if( aSorted[m]<v ) lo = m+1; else hi = m; }
    a = lo; hi = n;
    while( lo<hi ){ size_t m = (lo+hi)/2; if( aSorted[m]<=v ) lo = m+1; else hi = m; }
    b = lo;
    if( target<(double)a ) err = ((double)a - target)/(double)n;
    if( target>(double)b ) err = (target - (double)b)/(double)n;
    if( err>worst ) worst = err;
  }
  return worst;
}

static void kllCase(const char *zName, int eOrder, size_t n){
  double *a = malloc(n*sizeof(double)), *s = malloc(n*sizeof(double)), v;
  TsKll k;
  size_t i;
  char zMsg[128];
  double w;
  for(i=0; i<n; i++){
    switch( eOrder ){
      case 0: a[i] = urand()*1000; break;                      /* uniform */
      case 1: a[i] = (double)i; break;                         /* ascending */
      case 2: a[i] = (double)(n-i); break;                     /* descending */
      case 3: a[i] = -log(urand()+1e-300); break;              /* exponential */
      default: a[i] = (double)(xrand()%10); break;             /* 10 distinct */
    }
  }
  tsKllInit(&k, TS_KLL_K);
  for(i=0; i<n; i++) tsKllAdd(&k, a[i]);
  memcpy(s, a, n*sizeof(double));
  qsort(s, n, sizeof(double), cmpd);
  w = worstRankError(&k, s, n);
  snprintf(zMsg, sizeof(zMsg), "kll %s n=%zu: worst rank error %.4f%% <= 1%%", zName, n, w*100);
  TT_CHECK(zMsg, w<=0.01);
  printf("# %s\n", zMsg);
  snprintf(zMsg, sizeof(zMsg), "kll %s: exact min and max", zName);
  TT_CHECK(zMsg, tsKllQuantile(&k, 0, &v)==0 && v==s[0] && tsKllQuantile(&k, 1, &v)==0 && v==s[n-1]);
  snprintf(zMsg, sizeof(zMsg), "kll %s: %zu items retained (bounded)", zName, tsKllRetained(&k));
  TT_CHECK(zMsg, tsKllRetained(&k) < 4*TS_KLL_K);
  tsKllFree(&k);
  free(a); free(s);
}

int main(void){
  size_t n = getenv("TS_SANITIZE") && atoi(getenv("TS_SANITIZE")) ? 200000 : 1000000;
  TsKll a, b;
  double v;
  size_t i;
  kllCase("uniform", 0, n);
  kllCase("ascending", 1, n);
  kllCase("descending", 2, n);
  kllCase("exponential", 3, n);
  kllCase("ten-values", 4, n);

  /* Small inputs are exact (nearest rank). */
  tsKllInit(&a, TS_KLL_K);
  TT_CHECK("kll empty has no quantile", tsKllQuantile(&a, 0.5, &v)==1);
  for(i=1; i<=4; i++) tsKllAdd(&a, (double)i);
  tsKllQuantile(&a, 0.5, &v);  TT_CHECK("kll exact median of 1..4 is 2", v==2);
  tsKllQuantile(&a, 0.51, &v); TT_CHECK("kll p=0.51 of 1..4 is 3", v==3);
  tsKllFree(&a);

  /* Merge: two halves give the same accuracy as one sketch. */
  {
    double *s = malloc(n*sizeof(double)), w;
    tsKllInit(&a, TS_KLL_K); tsKllInit(&b, TS_KLL_K);
    for(i=0; i<n; i++){ s[i] = urand(); tsKllAdd(i%2 ? &a : &b, s[i]); }
    TT_CHECK("kll merge ok", tsKllMerge(&a, &b)==0 && a.n==n);
    qsort(s, n, sizeof(double), cmpd);
    w = worstRankError(&a, s, n);
    TT_CHECK("kll merged sketch rank error <= 1%", w<=0.01);
    tsKllFree(&a); tsKllFree(&b); free(s);
  }

  /* HyperLogLog: within 3 standard errors (3 x 2.3%) at each cardinality,
  ** and the mean absolute error over several cardinalities near 2.3%. */
  {
    static const size_t aCard[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    double sumRel = 0;
    int nCase = 0;
    size_t c;
    for(c=0; c<sizeof(aCard)/sizeof(aCard[0]); c++){
      TsHll h;
      double e, rel;
      char zMsg[96];
      if( aCard[c]>n ) continue;
      tsHllInit(&h);
      for(i=0; i<aCard[c]; i++){
        uint64_t x = i*0x9E3779B97F4A7C15ULL + 12345;
        tsHllAdd(&h, tsHash64(&x, 8, 7));
        tsHllAdd(&h, tsHash64(&x, 8, 7));   /* duplicates change nothing */
      }
      e = tsHllEstimate(&h);
      rel = fabs(e - (double)aCard[c])/(double)aCard[c];
      snprintf(zMsg, sizeof(zMsg), "hll %zu distinct: estimate %.0f (%.2f%%)", aCard[c], e, rel*100);
      TT_CHECK(zMsg, rel < 0.069);
      if( aCard[c]>=1000 ){ sumRel += rel; nCase++; }
    }
    TT_CHECK("hll mean error below 4%", nCase==0 || sumRel/nCase < 0.04);
  }
  {
    TsHll h1, h2;
    tsHllInit(&h1); tsHllInit(&h2);
    for(i=0; i<5000; i++){ tsHllAdd(i<3000 ? &h1 : &h2, tsHashU64(i)); }
    tsHllMerge(&h1, &h2);
    TT_CHECK("hll merge of 3000 + 2000 within 6.9%", fabs(tsHllEstimate(&h1)-5000)/5000 < 0.069);
  }
  TT_CHECK("hash differs by seed and content",
      tsHash64("abc", 3, 1)!=tsHash64("abc", 3, 2) && tsHash64("abc", 3, 1)!=tsHash64("abd", 3, 1)
      && tsHash64("", 0, 1)!=tsHash64("\0", 1, 1));
  return tt_done();
}
