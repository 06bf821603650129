/*
** scan_util.h: helpers shared by the two readers of a timeseries table's
** constraints and series, the table scan (scan.c) and timeseries_agg
** (agg.c, agg_stream.c): a time constraint folded into a closed range with
** SQLite's comparison rules, the set of TEXT values accepted by = / IN on a
** dimension or measure_name, and the binary heap of indexes both use to
** merge their streams (lanes of rows, or buckets of series).
*/
#ifndef TS_SCAN_UTIL_H
#define TS_SCAN_UTIL_H
#include "tslite.h"
#include <stdint.h>

/* Narrow [*pLo, *pHi] by "time <cOp> v", cOp one of = > G (>=) < L (<=),
** with SQLite's rules for an INTEGER column: NUMERIC affinity, REAL bounds
** rounded inward, TEXT and BLOB above every integer, NULL matches nothing
** (an empty range is *pLo > *pHi). */
void tsScanTimeBound(char cOp, sqlite3_value *v, sqlite3_int64 *pLo, sqlite3_int64 *pHi);

/* A set of accepted TEXT values for one dimension (iDim >= 0) or
** measure_name (iDim = -1). */
typedef struct TsValSet TsValSet;
struct TsValSet {
  int iDim;
  int nVal;
  char **azVal;          /* (owned, each owned, NUL-terminated) */
  int *anVal;            /* (owned) */
};

/* Add v as TEXT (SQLite's TEXT affinity); NULL and BLOB never equal a
** dimension value and add nothing.  SQLITE_OK or SQLITE_NOMEM. */
int tsValSetAdd(TsValSet *pSet, sqlite3_value *v);
/* Is the n bytes at z (NULL: an absent value, never accepted) in the set? */
int tsValSetHas(const TsValSet *pSet, const char *z, int n);
/* Free the values (the struct itself is the caller's). */
void tsValSetClear(TsValSet *pSet);

/* Sift entry i of the heap aHeap[0..n-1] down; xBefore(pCtx, a, b) says
** whether element a comes before element b (the top is the first). */
void tsHeapDown(int *aHeap, int n, int i, int (*xBefore)(void*, int, int), void *pCtx);

#endif
