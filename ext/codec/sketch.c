/*
** sketch.c: the KLL quantile sketch and HyperLogLog (see sketch.h).
**
** KLL.  Level h holds items of weight 2^h.  New values enter level 0.  Level
** h (of H levels) may hold cap(h) = max(8, ceil(k * (2/3)^(H-1-h))) items, so
** the top level holds about k and lower levels geometrically fewer.  When the
** sketch holds more items than the sum of the capacities, the lowest level at
** or over its capacity is compacted: it is sorted, and every other item
** (starting at a random offset 0 or 1) moves up a level with twice the weight;
** with an odd count one item stays behind.  The total weight always equals
** the number of values added.  A quantile query sorts the retained items with
** their weights and walks the cumulative weight.  Memory is O(k + log n).
**
** HLL.  The top 11 bits of a 64-bit hash pick a register, which keeps the
** maximum of 1 + (leading zeros of the remaining 53 bits).  The estimate is
** alpha*m^2/sum(2^-reg), with linear counting m*ln(m/V) while the raw estimate
** is below 2.5m and V registers are still zero.  No large-range correction is
** needed with 64-bit hashes.
*/
#include "sketch.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*-------------------------------------------------------------------- KLL */

void tsKllInit(TsKll *p, int k){
  memset(p, 0, sizeof(*p));
  p->k = k<8 ? 8 : k;
  p->rng = 0x9E3779B97F4A7C15ULL;
}

void tsKllFree(TsKll *p){
  int h;
  for(h=0; h<TS_KLL_MAXLEVEL; h++) free(p->aLvl[h]);
  tsKllInit(p, p->k);
}

static int kllCap(const TsKll *p, int h){
  double c = p->k;
  int d;
  for(d=p->nLevel-1-h; d>0; d--) c *= 2.0/3.0;
  c = ceil(c);
  return c<8 ? 8 : (int)c;
}

static int kllPush(TsKll *p, int h, double x){
  if( p->anLvl[h]>=p->anAlloc[h] ){
    int nNew = p->anAlloc[h] ? p->anAlloc[h]*2 : 16;
    double *aNew = realloc(p->aLvl[h], (size_t)nNew*sizeof(double));
    if( aNew==0 ){ p->bErr = 1; return 1; }
    p->aLvl[h] = aNew;
    p->anAlloc[h] = nNew;
  }
  p->aLvl[h][p->anLvl[h]++] = x;
  return 0;
}

static int cmpDouble(const void *a, const void *b){
  double x = *(const double*)a, y = *(const double*)b;
  return x<y ? -1 : x>y ? 1 : 0;
}

static uint64_t kllRand(TsKll *p){
  uint64_t x = p->rng;
  x ^= x<<13; x ^= x>>7; x ^= x<<17;
  p->rng = x;
  return x;
}

/* Compact until the sketch fits its capacity. */
static int kllCompress(TsKll *p){
  while( !p->bErr ){
    int h, nTot = 0, nCap = 0;
    for(h=0; h<p->nLevel; h++){ nTot += p->anLvl[h]; nCap += kllCap(p, h); }
    if( nTot<nCap ) return 0;
    for(h=0; h<p->nLevel; h++){
      if( p->anLvl[h]>=kllCap(p, h) ) break;
    }
    if( h>=p->nLevel ) return 0;
    if( h==p->nLevel-1 ){
      if( p->nLevel>=TS_KLL_MAXLEVEL ){ p->bErr = 1; return 1; }
      p->nLevel++;
    }
    {
      double *a = p->aLvl[h];
      int n = p->anLvl[h], j, iStart = n & 1;
      int off = (int)(kllRand(p)>>63);
      qsort(a, (size_t)n, sizeof(double), cmpDouble);
      for(j=iStart+off; j<n; j+=2){
        if( kllPush(p, h+1, a[j]) ) return 1;
      }
      p->anLvl[h] = iStart;   /* a[0] stays when the count was odd */
    }
  }
  return 1;
}

int tsKllAdd(TsKll *p, double x){
  if( p->bErr ) return 1;
  if( p->nLevel==0 ) p->nLevel = 1;
  if( kllPush(p, 0, x) ) return 1;
  if( p->n==0 || x<p->rMin ) p->rMin = x;
  if( p->n==0 || x>p->rMax ) p->rMax = x;
  p->n++;
  return kllCompress(p);
}

int tsKllMerge(TsKll *p, const TsKll *q){
  int h, j;
  if( p->bErr || q->bErr ) return (p->bErr = 1);
  if( q->n==0 ) return 0;
  if( p->n==0 || q->rMin<p->rMin ) p->rMin = q->rMin;
  if( p->n==0 || q->rMax>p->rMax ) p->rMax = q->rMax;
  if( q->nLevel>p->nLevel ) p->nLevel = q->nLevel;
  for(h=0; h<q->nLevel; h++){
    for(j=0; j<q->anLvl[h]; j++){
      if( kllPush(p, h, q->aLvl[h][j]) ) return 1;
    }
  }
  p->n += q->n;
  return kllCompress(p);
}

typedef struct KllItem { double x; uint64_t w; } KllItem;
static int cmpItem(const void *a, const void *b){
  return cmpDouble(&((const KllItem*)a)->x, &((const KllItem*)b)->x);
}

int tsKllQuantile(const TsKll *p, double q, double *pv){
  size_t nItem = tsKllRetained(p), i = 0;
  KllItem *a;
  uint64_t cum = 0, target;
  int h, j;
  if( p->bErr || p->n==0 || nItem==0 ) return 1;
  a = malloc(nItem*sizeof(KllItem));
  if( a==0 ) return 1;
  for(h=0; h<p->nLevel; h++){
    for(j=0; j<p->anLvl[h]; j++){
      a[i].x = p->aLvl[h][j];
      a[i].w = (uint64_t)1<<h;
      i++;
    }
  }
  qsort(a, nItem, sizeof(KllItem), cmpItem);
  if( q<0 ) q = 0;
  if( q>1 ) q = 1;
  target = (uint64_t)ceil(q * (double)p->n);
  if( target<=1 || target>=p->n ){
    *pv = target<=1 ? p->rMin : p->rMax;
    free(a);
    return 0;
  }
  *pv = a[nItem-1].x;
  for(i=0; i<nItem; i++){
    cum += a[i].w;
    if( cum>=target ){ *pv = a[i].x; break; }
  }
  free(a);
  return 0;
}

size_t tsKllRetained(const TsKll *p){
  size_t n = 0;
  int h;
  for(h=0; h<p->nLevel; h++) n += (size_t)p->anLvl[h];
  return n;
}

/*-------------------------------------------------------------------- HLL */

void tsHllInit(TsHll *p){ memset(p, 0, sizeof(*p)); }

void tsHllAdd(TsHll *p, uint64_t h){
  uint32_t iReg = (uint32_t)(h >> (64-TS_HLL_P));
  uint64_t w = h << TS_HLL_P;            /* remaining 53 bits, left-aligned */
  int rank = w ? __builtin_clzll(w) + 1 : 64-TS_HLL_P+1;
  if( rank>64-TS_HLL_P+1 ) rank = 64-TS_HLL_P+1;
  if( p->aReg[iReg]<rank ) p->aReg[iReg] = (uint8_t)rank;
}

void tsHllMerge(TsHll *p, const TsHll *q){
  unsigned i;
  for(i=0; i<TS_HLL_M; i++) if( q->aReg[i]>p->aReg[i] ) p->aReg[i] = q->aReg[i];
}

double tsHllEstimate(const TsHll *p){
  double m = TS_HLL_M, sum = 0, alpha = 0.7213/(1.0 + 1.079/m), e;
  unsigned i, nZero = 0;
  for(i=0; i<TS_HLL_M; i++){
    sum += ldexp(1.0, -(int)p->aReg[i]);
    if( p->aReg[i]==0 ) nZero++;
  }
  e = alpha*m*m/sum;
  if( e<=2.5*m && nZero>0 ) e = m*log(m/(double)nZero);
  return e;
}

/*------------------------------------------------------------------- hash */

/* The MurmurHash3 64-bit finaliser: a bijection with full avalanche. */
uint64_t tsHashU64(uint64_t x){
  x ^= x>>33; x *= 0xff51afd7ed558ccdULL;
  x ^= x>>33; x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x>>33;
  return x;
}

uint64_t tsHash64(const void *pv, size_t n, uint64_t seed){
  const unsigned char *a = (const unsigned char*)pv;
  uint64_t h = tsHashU64(seed ^ (n*0x9E3779B97F4A7C15ULL));
  while( n>=8 ){
    uint64_t w;
    memcpy(&w, a, 8);
    h = tsHashU64(h ^ w) * 0x9E3779B97F4A7C15ULL;
    a += 8; n -= 8;
  }
  if( n>0 ){
    uint64_t w = 0;
    memcpy(&w, a, n);
    h = tsHashU64(h ^ w ^ ((uint64_t)n<<56));
  }
  return tsHashU64(h);
}
