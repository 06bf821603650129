/*
** tsagg.h: the pure kernels of the native aggregation path (tsagg.c): time
** buckets and the fused aggregate of decoded chunk columns.  No SQLite.
**
** A TsAggAcc accumulates one measure of one (series, bucket): count, sum,
** min, max, and the first and last value by time, over non-NULL values.
** Rows are added in runs of a decoded column (tsAggAddCol: one pass over the
** value array, the time array consulted only for first/last) or as a whole
** chunk's header statistics (tsAggAddStat: count/sum/min/max, and
** first/last from a format-2 header, with no decoding).  Runs may arrive in either time order (a descending scan adds
** newer runs first): first/last keep the value of the smallest/largest time.
**
** Numbers follow SQLite's aggregates: DOUBLE sums are plain double additions
** in the order runs are added; integer types (BIGINT, TIMESTAMP, BOOLEAN as
** 0/1) sum exactly in int64 with an overflow flag, as SQLite's sum() does.
*/
#ifndef TSAGG_H
#define TSAGG_H
#include <stdint.h>
#include "chunk.h"

typedef struct TsAggAcc TsAggAcc;
struct TsAggAcc {
  int64_t nValue;        /* non-NULL values added */
  double rSum;           /* DOUBLE: sum; integer types: sum as double */
  int64_t iSum;          /* integer types: exact sum (valid unless bOverflow) */
  int bOverflow;         /* iSum overflowed int64 */
  double rMin, rMax;     /* DOUBLE extremes (valid when nValue>0) */
  int64_t iMin, iMax;    /* integer extremes */
  int64_t tFirst, tLast; /* times of the first/last value (when nValue>0) */
  double rFirst, rLast;  /* DOUBLE first/last value */
  int64_t iFirst, iLast; /* integer first/last value */
};

/* Start of the bucket of width w (> 0) holding t: floor(t / w) * w, the
** bin() of func_time.c; INT64_MIN when that is below the int64 range. */
int64_t tsAggBucket(int64_t t, int64_t w);

/* The end (exclusive) of bucket b of width w: b + w, or INT64_MAX when that
** overflows. */
int64_t tsAggBucketEnd(int64_t b, int64_t w);

/* First index j in [i, n) of the ascending array aT with aT[j] >= t (n when
** none): binary search. */
int tsAggLowerBound(const int64_t *aT, int i, int n, int64_t t);

/* Zero *p. */
void tsAggReset(TsAggAcc *p);

/* Add rows [iFrom, iTo) of decoded column pCol (times aT, ascending) to p.
** pCol->eType must not be TS_TYPE_VARCHAR. */
void tsAggAddCol(TsAggAcc *p, const TsChunkCol *pCol, const int64_t *aT, int iFrom, int iTo);

/* The same as tsAggAddCol(ap[k], ac[k], aT, iFrom, iTo) for each k < nCol,
** for DOUBLE columns without NULLs (aNull NULL), several columns per pass
** over the rows: equal results, bit for bit. */
void tsAggAddColsDouble(TsAggAcc *const *ap, const TsChunkCol *const *ac, int nCol,
                        const int64_t *aT, int iFrom, int iTo);

/* Add a whole chunk's statistics of a column of type eType: count, sum, min,
** max, and first/last when the header has them (pStat->bEnds: format v2
** chunks; without, first/last are left as they were).  Returns 0, or 1 without changing p when an integer
** column's sum is not known exactly from the header (|rSum| >= 2^53): the
** caller decodes the column instead. */
int tsAggAddStat(TsAggAcc *p, int eType, const TsChunkStat *pStat);

#endif
