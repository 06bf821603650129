/*
** sketch.h: mergeable summaries for approximate aggregates (pure C).
**
**   TsKll  a KLL quantile sketch (Karnin, Lang, Liberty 2016) over doubles,
**          used by approx_percentile.  Deterministic: its coin flips come
**          from a fixed-seed generator, so a query gives the same answer
**          every time.
**   TsHll  a HyperLogLog distinct counter (Flajolet et al. 2007) with 2^11
**          registers: standard error 1.04/sqrt(2048) = 2.3%, used by
**          approx_distinct.
**   tsHash64  the 64-bit hash HLL uses.
*/
#ifndef SKETCH_H
#define SKETCH_H
#include <stddef.h>
#include <stdint.h>

/* KLL accuracy parameter.  With k=256 the normalised rank error is about
** 1.33/256*200 ~ 1% at 99% confidence (DataSketches' table: 1.33% for
** k=200); measured on 1M values it stays well under 1% (tests/unit). */
#define TS_KLL_K 256
#define TS_KLL_MAXLEVEL 60

typedef struct TsKll TsKll;
struct TsKll {
  int k;                            /* accuracy parameter */
  int nLevel;                       /* levels in use (>=1 after first add) */
  double *aLvl[TS_KLL_MAXLEVEL];    /* items of each level; owned (malloc) */
  int anLvl[TS_KLL_MAXLEVEL];       /* items used per level */
  int anAlloc[TS_KLL_MAXLEVEL];     /* items allocated per level */
  uint64_t n;                       /* total weight = values added */
  uint64_t rng;                     /* xorshift state for the coin flips */
  double rMin, rMax;                /* exact extremes of the values added */
  int bErr;                         /* sticky: out of memory */
};

void tsKllInit(TsKll *p, int k);
void tsKllFree(TsKll *p);
/* Add one value.  0 ok, 1 out of memory (sticky). */
int tsKllAdd(TsKll *p, double x);
/* Merge q into p (q unchanged).  0 ok, 1 out of memory. */
int tsKllMerge(TsKll *p, const TsKll *q);
/* The value at rank ceil(q*n) (q in [0,1]; rank 1 and rank n give the exact
** minimum and maximum).  *pv is
** set and 0 returned, or 1 if the sketch is empty or out of memory. */
int tsKllQuantile(const TsKll *p, double q, double *pv);
/* Items retained (for tests: memory is O(k log(n/k))). */
size_t tsKllRetained(const TsKll *p);

#define TS_HLL_P 11
#define TS_HLL_M (1u<<TS_HLL_P)
typedef struct TsHll TsHll;
struct TsHll {
  uint8_t aReg[TS_HLL_M];   /* max leading-zero rank seen per register */
};
void tsHllInit(TsHll *p);
void tsHllAdd(TsHll *p, uint64_t h);
void tsHllMerge(TsHll *p, const TsHll *q);
double tsHllEstimate(const TsHll *p);

/* 64-bit hash of n bytes, seeded; tsHashU64 of one integer. */
uint64_t tsHash64(const void *a, size_t n, uint64_t seed);
uint64_t tsHashU64(uint64_t x);

#endif
