/*
** coldscan.h: the pure half of the cold tier's read side (coldscan.c):
** pruning of cold objects and row groups for a query, and decoding of one
** row group into per-series runs.  No SQLite, no object store: bytes come
** through the Parquet reader's xRead callback.  Memory from malloc/free.
**
** The object format (column order, sort order, series filter) is fixed by
** docs/internals/cold-format.md; the SQLite glue that loads manifest rows,
** opens objects with ranged reads and feeds the scan is ext/cold_read.c.
**
** File column numbers equal the table's declared column numbers:
**   0 time, 1..nDim the dimensions, 1+nDim measure_name, then the measures,
**   2+nDim+nMeas version.
*/
#ifndef TS_COLDSCAN_H
#define TS_COLDSCAN_H
#include <stddef.h>
#include <stdint.h>
#include "parquet.h"

/* One =/IN constraint: column iCol (0..nDim-1 a dimension, nDim
** measure_name) must equal one of nVal byte strings. */
typedef struct TsColdSet TsColdSet;
struct TsColdSet {
  int iCol;
  int nVal;
  char **azVal;        /* not owned */
  int *anVal;          /* not owned */
};

/* What a scan asks of the cold tier. */
typedef struct TsColdQuery TsColdQuery;
struct TsColdQuery {
  int64_t tLo, tHi;    /* inclusive time range */
  int nDim;            /* dimensions of the table */
  int iPartDim;        /* partition key dimension, -1 = measure_name */
  int nSet;
  const TsColdSet *aSet;
};

/* The planning facts of one manifest row (pointers not owned). */
typedef struct TsColdObjMeta TsColdObjMeta;
struct TsColdObjMeta {
  int64_t tMin, tMax;
  int bPk;                         /* pk_min/pk_max known (not NULL) */
  const char *zPkMin; int nPkMin;
  const char *zPkMax; int nPkMax;
  const unsigned char *aFilter;    /* series filter or NULL */
  int nFilter;
};

/* 1 if the object may hold rows of the query: time range overlap, every
** set has a value whose 'D' element may be in the series filter, and a
** set on the partition key has a value inside [pk_min, pk_max] (or the
** object may hold NULL partition keys, which pk_min/pk_max ignore). */
int tsColdObjMayMatch(const TsColdQuery *pQ, const TsColdObjMeta *pM);

/* The bloom hash of series key aKey ('S' element). */
uint64_t tsColdSeriesHash(const unsigned char *aKey, int nKey);

/* 1 if the object may hold the series whose 'S' hash is h and whose
** partition key value is zPk/nPk (bPkNull: the dimension is NULL). */
int tsColdObjMayHoldSeries(const TsColdObjMeta *pM, uint64_t h,
                           const char *zPk, int nPk, int bPkNull);

/* 1 if row group iRg may hold rows of the query, by column statistics
** (time, and every set's column). */
int tsColdRgMayMatch(TsPqReader *pR, int iRg, const TsColdQuery *pQ);

/* 1 if row group iRg may hold partition key value zPk (bPkNull: NULL) in
** column iPkCol, by its statistics. */
int tsColdRgMayHoldPk(TsPqReader *pR, int iRg, int iPkCol,
                      const char *zPk, int nPk, int bPkNull);

/* 1 if row group iRg may hold the series whose dimension values are
** azDim[0..nDim) (NULL = absent) and measure_name zMName, by the min/max
** and null counts of columns 1..nDim+1 (file columns). */
int tsColdRgMayHoldSeries(TsPqReader *pR, int iRg, int nDim,
                          const char *const *azDim, const char *zMName);

/* A series' rows inside a decoded row group: rows [iStart, iEnd) of the
** decoded arrays, strictly increasing time. */
typedef struct TsColdRun TsColdRun;
struct TsColdRun {
  int64_t iStart, iEnd;
  const unsigned char *aKey;   /* encoded series key (into TsColdRg) */
  int nKey;
  int iNext;                   /* hash chain (index or -1) */
};

/* One decoded row group: the rows selected by the page index for a time
** range.  Time is decoded at once; the dimension and measure_name columns
** are decoded to find the runs and then released; every other column is
** decoded on first use (tsColdRgColumn) with the same row selection. */
typedef struct TsColdRg TsColdRg;
struct TsColdRg {
  int iRg;                     /* row group in the file */
  int64_t nRow;                /* rows decoded (the selection) */
  int nCol;                    /* file columns */
  TsPqRowSel sel;              /* the selection (owned) */
  TsPqColumnData *aCol;        /* nCol; column i valid when abHave[i] */
  unsigned char *abHave;       /* nCol flags */
  int nRun;
  TsColdRun *aRun;             /* in file order */
  int *aHash; int nHash;       /* run hash on key (power of two buckets) */
  unsigned char *aKeys;        /* bytes of every run key */
  size_t nByte;                /* approximate heap bytes held */
};

/* Decode row group iRg of a file of nCol columns (the table's, checked)
** for times in [tLo, tHi]: pages are selected with the page index; rows
** outside the range may remain (callers clip each run).  Rows are split
** into runs of equal series key.  *ppRg is malloc'd (tsColdRgFree); on
** error it is NULL and *pzErr (malloc'd) says why.  Returns TS_PQ_*. */
int tsColdRgDecode(TsPqReader *pR, int iRg, int nDim, int nCol,
                   int64_t tLo, int64_t tHi, TsColdRg **ppRg, char **pzErr);

/* The same, with the pages selected by aRange[0..nRange) (any columns;
** see tsPqReaderSelectRows), e.g. the time range and one series' values
** for a decode of that series' pages only.  tsColdSeriesRanges fills them.
** nMaxRow >= 0: when the selection has more rows than that, nothing is
** decoded and *ppRg is NULL with TS_PQ_OK (the caller decodes more broadly). */
int tsColdRgDecodeSel(TsPqReader *pR, int iRg, int nDim, int nCol,
                      const TsPqRange *aRange, int nRange, int64_t nMaxRow,
                      TsColdRg **ppRg, char **pzErr);

/* Page-selection ranges for the rows of one series in [tLo, tHi]: time,
** and each non-NULL dimension and measure_name equal to the series'
** value.  aRange must have room for nDim+2; returns how many were set.
** The strings are not copied. */
int tsColdSeriesRanges(int nDim, const char *const *azDim, const char *zMName,
                       int64_t tLo, int64_t tHi, TsPqRange *aRange);

/* Make column iCol of p available in p->aCol[iCol] (no-op when it is).
** Returns TS_PQ_*; *pzErr (malloc'd) on error. */
int tsColdRgColumn(TsPqReader *pR, TsColdRg *p, int iCol, char **pzErr);

/* Make column iCol of p available for only the decoded rows in the sorted,
** disjoint intervals aKeep[0..2*nKeep) (decoded-row numbers): those rows
** get their values, every other row is NULL and its page is not
** decompressed when no kept row is in it.  A column that is not of a
** fixed-width kind is decoded whole (as tsColdRgColumn).  Returns TS_PQ_*;
** *pzErr (malloc'd) on error. */
int tsColdRgColumnPart(TsPqReader *pR, TsColdRg *p, int iCol, const int64_t *aKeep, int nKeep,
                       char **pzErr);

/* Row-group row intervals aRg[0..2*nRg) (sorted, disjoint; e.g. the pages
** tsPqReaderSelectRows keeps) as decoded-row intervals of p: *paOut
** (malloc'd, 2 * *pnOut values).  TS_PQ_OK or TS_PQ_NOMEM. */
int tsColdRgSelToRows(const TsColdRg *p, const int64_t *aRg, int nRg, int64_t **paOut,
                      int *pnOut);

/* The partition bucket of a partition key value (cold-format.md section 1):
** FNV-1a 32 of its n bytes (NULL as "") modulo TS_COLD_NBUCKET.  Objects
** are keyed ".../bucket=<b>/..." by it; tiering, the scan's pruning and
** ts_check all call this one function. */
#define TS_COLD_NBUCKET 8
int tsColdBucket(const void *z, int n);

/* The run of series key aKey, or NULL. */
const TsColdRun *tsColdRgFind(const TsColdRg *p, const unsigned char *aKey, int nKey);

void tsColdRgFree(TsColdRg *p);   /* NULL ok */

/* A series run given by the object's series_runs (rows [iStart, iEnd) of
** one row group, local row numbers). */
typedef struct TsColdRunSpec TsColdRunSpec;
struct TsColdRunSpec {
  int64_t iStart, iEnd;
  const unsigned char *aKey;   /* encoded series key (not copied) */
  int nKey;
};

/* Decode row group iRg with its runs known (series_runs): the rows are
** those of aSpec[0..nSpec) (sorted, disjoint) inside rows [iLo, iHi) of the
** row group, intersected with the pages aRange[0..nRange) selects (as
** tsColdRgDecodeSel); only time is decoded (no dimension column), times must
** increase within each run.  When aRange bounds time (column 0), each run is
** then cut to its rows inside those bounds (the selection too), so columns
** decoded later read only them.  Runs left with no row are dropped.  nCol is
** the table's column count; a file with one more (an optional last column)
** is decoded with all of its columns (p->nCol is the file's). */
int tsColdRgDecodeRuns(TsPqReader *pR, int iRg, int nCol,
                       const TsPqRange *aRange, int nRange, int64_t iLo, int64_t iHi,
                       const TsColdRunSpec *aSpec, int nSpec,
                       TsColdRg **ppRg, char **pzErr);

/* The parsed series_runs of one object (cold-format.md section 3): every
** series run in row order, with its rows (global row numbers of the
** object), first and last time. */
typedef struct TsColdRunIdx TsColdRunIdx;
struct TsColdRunIdx {
  int nRun;
  const unsigned char **aKey;  /* nRun keys (into the parsed blob's copy) */
  int *anKey;
  int64_t *aStart;             /* nRun+1: run i is rows [aStart[i], aStart[i+1]) */
  int64_t *aTMin, *aTMax;
  int *aHash; int *aNext; int nHash;
  unsigned char *aBlob;        /* copy of the blob (owned) */
};

/* Parse series_runs bytes a[0..n) of an object of nRow rows.  Returns NULL
** when the bytes are absent, of another version or inconsistent (sum of
** rows, a key twice, tmin > tmax): the caller then decodes the dimension
** columns instead.  malloc'd; tsColdRunIdxFree. */
TsColdRunIdx *tsColdRunIdxParse(const unsigned char *a, int n, int64_t nRow);
void tsColdRunIdxFree(TsColdRunIdx *p);   /* NULL ok */
/* Index of the run of series key aKey, -1 if the object has none. */
int tsColdRunIdxFind(const TsColdRunIdx *p, const unsigned char *aKey, int nKey);

/* First index i in [iStart, iEnd) with aTime[i] >= t (aTime ascending
** there), iEnd if none. */
int64_t tsColdLowerBound(const int64_t *aTime, int64_t iStart, int64_t iEnd, int64_t t);

#endif /* TS_COLDSCAN_H */
