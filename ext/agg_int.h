/*
** agg_int.h: what the three files of timeseries_agg share: agg.c (the
** module: declared schema, planning, xFilter, columns), agg_stream.c (the
** streams: per series, its memory chunks turned into one result per bucket,
** and their merge) and agg_source.c (what a stream reads besides memory
** chunks: the blocks of the other row sources of source.h, the cold tier,
** and the stretches where blocks overlap, merged by the table's own scan)
** and agg_par.c (PRAGMA threads: the streams of a query computed by worker
** threads from chunk bytes the connection's thread reads).
** The design is in agg.c's header comment.
*/
#ifndef TS_AGG_INT_H
#define TS_AGG_INT_H
#include "tslite.h"
#include "table.h"
#include "source.h"
#include "scan_util.h"
#include "chunk.h"
#include "tsagg.h"
#include <stdint.h>

/* Per-measure aggregates.  The columns are declared kind-major (every
** <m>_last, then every <m>_first, ...), in this order, because colUsed has
** one bit per column only up to column 62 and bit 63 stands for every later
** column: the kinds whose absence enables a cheaper plan (last: lastpoint;
** first/last: chunk statistics of old chunks, see addWholeChunk) come first,
** and the kinds past the limit on a wide table (max, min, avg of the last
** measures) are answered from chunk statistics anyway.  A column past the
** limit is treated as used (correct, just more work). */
#define AGG_F_LAST  0
#define AGG_F_FIRST 1
#define AGG_F_COUNT 2
#define AGG_F_SUM   3
#define AGG_F_MAX   4
#define AGG_F_MIN   5
#define AGG_F_AVG   6
#define AGG_NF      7
static const char *const azAggSuffix[AGG_NF] = {
  "last", "first", "count", "sum", "max", "min", "avg"
};

/* Bits of the row-level columns in the "used" mask. */
#define AGG_U_ROWS   0x1
#define AGG_U_FIRSTT 0x2
#define AGG_U_LASTT  0x4

/* Largest batch of chunk references fetched at once. */
#define AGG_BATCH_MAX 256

/* Chunk buffers kept by the vtab between queries (agg_stream.c
** aggBufGet/aggBufPut): at most this many, of at most AGG_POOL_BYTES in all,
** so a repeated query does not allocate (and page-fault) a fresh 100 KB
** buffer per series each time. */
#define AGG_POOL_MAX   256
#define AGG_POOL_BYTES (16*1024*1024)

/* The parallel path (agg_par.c): at most this many worker threads whatever
** PRAGMA threads says; a query goes parallel only when its chunks hold at
** least AGG_PAR_MIN_VALUES values to decode (rows x used measures: below
** that, starting threads costs more than it saves); the chunk bytes read
** and not yet aggregated stay under AGG_PAR_BYTES (the connection's thread
** aggregates a stream itself rather than read further); the results of
** one query take at most AGG_PAR_OUT_BYTES (else it runs serially). */
#define AGG_PAR_MAX        8
#define AGG_PAR_MIN_VALUES 200000
#define AGG_PAR_BYTES      (8*1024*1024)
#define AGG_PAR_OUT_BYTES  (32*1024*1024)

/* Rows per block read from the table's scan (overlapping stretches). */
#define AGG_SCAN_ROWS 1024

/* What a stream reads next (AggStream.eUnit; agg_source.c aggUnitNext). */
#define AGG_UNIT_NONE    0
#define AGG_UNIT_CHUNK   1   /* one memory chunk (AggStream.unit) */
#define AGG_UNIT_BLOCK   2   /* one block of another source (AggStream.blk) */
#define AGG_UNIT_STRETCH 3   /* [tStrLo, tStrHi] through the table's scan */

typedef struct AggVtab AggVtab;
struct AggVtab {
  sqlite3_vtab base;        /* base class: must be first */
  sqlite3 *db;              /* the connection (not owned) */
  TsEnv *pEnv;              /* a reference */
  char *zName;              /* this table's name (owned) */
  char *zUDb, *zUTab;       /* the timeseries table aggregated (owned) */
  int nDim;                 /* its dimensions */
  int nMeas;                /* its measures (all, chunk column count) */
  int *aMeasType;           /* TS_TYPE_* per measure (owned) */
  int nAgg;                 /* aggregated measures (all but VARCHAR) */
  int *aAggCol;             /* chunk column of each aggregated measure (owned) */
  /* Column numbers of the declared schema. */
  int iColWidth, iColTime;  /* the hidden inputs: 1 and 2 */
  int iColDim0;             /* first dimension (3) */
  int iColMName, iColRows, iColFirstT, iColLastT, iColAgg0;
  int iColEnd;              /* one past the last aggregate column */
  /* The cursor statements of aggPrepareStmts, kept between queries (lent
  ** to one cursor at a time; a second concurrent cursor prepares its own). */
  sqlite3_stmt *apCache[4]; /* owned; all NULL or all set */
  int bCacheLent;           /* a cursor holds apCache */
  unsigned char *apPool[AGG_POOL_MAX];  /* free chunk buffers (owned) */
  sqlite3_int64 anPool[AGG_POOL_MAX];   /* their capacities */
  int nPool;                /* entries of apPool */
  sqlite3_int64 nPoolBytes; /* sum of anPool */
};

/* A chunk reference: one row of <t>_chunks' covering index. */
typedef struct AggRef AggRef;
struct AggRef {
  sqlite3_int64 id;
  int64_t tMin, tMax;
  int nRow;                 /* rows of the chunk */
};

/* A chunk of a stream read ahead by the connection's thread for the
** parallel path (agg_par.c): its header statistics when they answer it
** (bStat), else its blob. */
typedef struct AggPre AggPre;
struct AggPre {
  int bStat;                /* info and aStat answer the chunk */
  TsChunkInfo info;
  TsChunkStat *aStat;       /* [nMeas] (owned) */
  unsigned char *aBlob;     /* the whole blob when !bStat (owned; from and
                            ** back to the vtab's pool) */
  sqlite3_int64 nAlloc;     /* its capacity */
  int nBlob;                /* its size */
};

/* One series selected by the constraints. */
typedef struct AggSeries AggSeries;
struct AggSeries {
  sqlite3_int64 id;         /* _series.id */
  char **azDim;             /* nDim values, NULL = absent (in pMem) */
  int *anDim;               /* their lengths (in pMem) */
  char *zMName;             /* measure_name (in pMem) */
  int nMName;
  void *pMem;               /* one allocation holding the above (owned) */
  TsSeries *pTs;            /* the handle's series of this id (a reference,
                            ** released by aggReset; set when another source
                            ** is open, for its xSeriesRange/xBlocks) */
  int bOther;               /* another source may hold rows of it in the
                            ** range, all inside [tOtherLo, tOtherHi] */
  int64_t tOtherLo, tOtherHi;
};

/* The running result of one (series, bucket). */
typedef struct AggResult AggResult;
struct AggResult {
  int bHave;                /* at least one row added */
  int64_t iBucket;          /* the bucket start (0 without bucket_width) */
  int64_t nRow;             /* rows */
  int64_t tFirst, tLast;    /* first and last row time */
  TsAggAcc *aAcc;           /* one per aggregated measure (owned by the stream) */
};

/* A stream: the buckets of one series in the scan direction. */
typedef struct AggStream AggStream;
struct AggStream {
  AggSeries *pSer;          /* the series (owned by the cursor's array) */
  AggRef *aRef;             /* the current batch of chunk references (owned) */
  int nRef, iRef;           /* batch size and position */
  int nBatch;               /* size of the next batch to fetch */
  int bRefEof;              /* no chunk references past this batch */
  int64_t tKey;             /* tmin of the last reference fetched (keyset) */
  int bKey;                 /* tKey is set */
  /* Row mode: the current rows, decoded: a chunk (pReader), a block of
  ** another source (pBlk) or a stretch read through the scan (bStretch). */
  int bRowMode;
  unsigned char *aBlob;     /* copy of the chunk blob (owned; kept with its
                            ** capacity nBlobAlloc after row mode ends) */
  sqlite3_int64 nBlobAlloc;
  TsChunkReader *pReader;   /* over aBlob (owned) */
  const int64_t *aTime;     /* decoded times (owned by pReader, pBlk or
                            ** aScanTime) */
  int iBeg, iEnd;           /* rows inside the time range */
  int iRow;                 /* next row in the scan direction */
  sqlite3_int64 iChunkId;   /* id of the decoded chunk (for messages) */
  /* Output. */
  AggResult res;            /* the result ready to be returned */
  int bDone;                /* no more results */
  int bStop;                /* early stop: the next call ends the stream */
  int bStarted;             /* serial mode: streamNext called once */
  /* Units (agg_source.c): the next chunk, block or stretch to read. */
  int eUnit;                /* AGG_UNIT_*: chosen and not yet entered */
  AggRef unit;              /* AGG_UNIT_CHUNK: the chunk */
  TsBlockInfo blk;          /* AGG_UNIT_BLOCK: the block */
  int64_t tStrLo, tStrHi;   /* AGG_UNIT_STRETCH: its time range */
  TsBlockList other;        /* blocks of the other sources in scan order
                            ** (array owned) */
  int iOther;               /* next entry of other not yet taken */
  int bListed;              /* other has been listed */
  TsBlock *pBlk;            /* row mode on a block of another source: the open
                            ** block (owned; closed by aggStreamRowModeEnd) */
  TsSource *pBlkSrc;        /* its source (the cursor's) */
  const TsChunkCol **apCol; /* [nAgg] the used columns of the row-mode rows
                            ** when they are not a chunk's (owned array) */
  /* Stretch mode: rows read through the table itself, which merges the
  ** tiers by source.h rule 6, where blocks of this series overlap. */
  int bStretch;             /* rows come from pScan */
  sqlite3_stmt *pScan;      /* this series' rows of a range; owned */
  int bScanEof;             /* pScan is exhausted for this stretch */
  int64_t *aScanTime;       /* [AGG_SCAN_ROWS] ascending (owned, one allocation
                            ** with the arrays below) */
  TsChunkCol *aScanCol;     /* [nAgg] columns of the block (in that allocation) */
  /* The parallel path (agg_par.c).  While a worker runs the stream it
  ** alone touches the stream; the connection's thread reads aOut and the
  ** error only after joining the workers. */
  AggPre *aPre;             /* [nRef] the chunks read ahead (owned), NULL in
                            ** serial mode */
  int iUnitRef;             /* index in aRef of the chunk in s->unit */
  TsChunkReader *pRdLent;   /* a reader of the thread running the stream,
                            ** reopened on each chunk (not owned) */
  AggResult *aOut;          /* [nOutAlloc] the results computed ahead, then
                            ** returned in order (owned, one allocation with
                            ** their accumulators) */
  int nOutAlloc, nOut, iOut;
  int bReplay;              /* aggStreamNext returns aOut[iOut++] */
  int rcPar;                /* a worker's error (the stream stopped) */
  char zParErr[240];        /* its message */
};

/* One ORDER BY term. */
typedef struct AggOrder AggOrder;
struct AggOrder {
  int eKind;                /* 'B' bucket, 'D' dimension, 'M' measure_name */
  int iDim;                 /* for 'D' */
  int bDesc;
};

typedef struct AggCursor AggCursor;
struct AggCursor {
  sqlite3_vtab_cursor base; /* base class: must be first */
  TsTable *pTab;            /* handle of the aggregated table (a reference) */
  sqlite3_stmt *pRefStmt;   /* chunk references of a series, ascending; owned */
  sqlite3_stmt *pRefDesc;   /* the same, descending; owned */
  sqlite3_stmt *pBlob;      /* one chunk's data; owned */
  sqlite3_stmt *pStart;     /* newest chunk start <= the range start; owned */
  int bLent;                /* the four statements above are the vtab's
                            ** apCache (lent, not owned) */
  sqlite3_blob *pHead;      /* <t>_chunks.data, for header-only reads; owned */
  unsigned char *aHeadBuf;  /* the header bytes read (owned) */
  int nHeadBuf;             /* its size */
  int64_t iWidth;           /* bucket width ns, 0 = one bucket per series */
  sqlite3_int64 tLo, tHi;   /* rows aggregated: tLo <= time <= tHi */
  int bTimeLo, bTimeHi;     /* the query bounds time from below / above */
  int bDesc;                /* streams walk newest first */
  int bHeap;                /* merge by heap (bucket in ORDER BY), else serial */
  int bLastOnly;            /* lastpoint early stop (see header) */
  TsSource **apSrc;         /* [tsSourceCount] the open row sources other
                            ** than the memory tier, NULL = none or no rows
                            ** in the range (owned) */
  int nSrcOpen;             /* non-NULL entries of apSrc */
  TsSeries **apHint;        /* the series told to the sources' xHint
                            ** (source.h rule 10; owned, freed with them) */
  unsigned char *aUsed;     /* per aggregated measure: bitmask of AGG_F_* used (owned) */
  int fRowUsed;             /* AGG_U_* bits used */
  int nOrder;
  AggOrder aOrder[16];      /* ORDER BY terms (consumed) */
  int nSet;
  TsValSet *aSet;          /* dimension / measure_name constraints (owned) */
  int nSeries;
  AggSeries *aSeries;       /* selected series (owned) */
  int nStream;
  AggStream *aStream;       /* one per series (owned) */
  int *aHeap;               /* heap of stream indexes (bHeap) or order (owned) */
  int nHeap;                /* live entries of aHeap */
  int iSerial;              /* serial mode: position in aHeap */
  int iCur;                 /* stream holding the current row, -1 = EOF */
  sqlite3_int64 iRowid;     /* row counter */
};

/* agg_stream.c */
/* Does the chunk fall inside the range and in one bucket (so its header
** statistics may answer it)? */
int aggRefOneBucket(AggCursor *p, const AggRef *pRef);
/* Read the header statistics of chunk pRef into *pInfo and aStat[nMeas]:
** *pbOk when they answer it (every used integer sum exact, first/last in
** the header when used), else the chunk must be decoded. */
int aggChunkStats(AggCursor *p, const AggRef *pRef, TsChunkInfo *pInfo, TsChunkStat *aStat,
                  int *pbOk);
/* Read the whole blob of chunk iId into *pa (capacity *pnAlloc, grown from
** the vtab's pool), *pn its size. */
int aggBlobLoad(AggCursor *p, sqlite3_int64 iId, unsigned char **pa, sqlite3_int64 *pnAlloc,
                int *pn);
/* Give a buffer back to the vtab's pool (or free it). */
void aggPoolPut(AggVtab *v, unsigned char *a, sqlite3_int64 nAlloc);
/* Leave row mode: free the decoded chunk of stream s (its buffer is kept)
** or close its block. */
void aggStreamRowModeEnd(AggStream *s);
/* Fetch the next batch of the stream's chunk references. */
int aggStreamFetch(AggCursor *p, AggStream *s);
/* Give the stream's chunk buffer back to the vtab's pool (or free it). */
void aggBufPut(AggVtab *v, AggStream *s);
/* Free the vtab's pool of chunk buffers. */
void aggPoolFree(AggVtab *v);
/* Compute the stream's next result into s->res; s->bDone when none. */
int aggStreamNext(AggCursor *p, AggStream *s);
/* Sift heap entry i down (order: the ORDER BY terms, then series id). */
void aggHeapDown(AggCursor *p, int i);
/* Select the series matching the constraints into p->aSeries. */
int aggLoadSeries(AggCursor *p);
/* Prepare the cursor's statements on the table's shadow tables. */
int aggPrepareStmts(AggCursor *p);
/* Make the cursor's current row the next one (iCur, -1 at the end). */
int aggAdvance(AggCursor *p, int bFirst);

/* agg_par.c */
/* With PRAGMA threads > 0 and a query worth it, compute every stream's
** results ahead by worker threads (they replay from aggStreamNext); else
** leave the streams to the serial walk.  Every thread is joined before it
** returns, on every path. */
int aggParRun(AggCursor *p);
/* Free what the parallel path allocated for stream s. */
void aggParStreamFree(AggVtab *v, AggStream *s);

/* agg_source.c */
/* Open every row source but the memory tier for the cursor's range into
** p->apSrc (p->nSrcOpen of them have rows there). */
int aggSourcesOpen(AggCursor *p);
/* Close them (after every stream left row mode). */
void aggSourcesClose(AggCursor *p);
/* With other sources open: give each selected series its TsSeries and drop
** the series no tier holds rows of in the range. */
int aggSeriesBind(AggCursor *p);
/* Choose the stream's next unit (s->eUnit) into *peNext: AGG_NEXT_UNIT
** (chosen), AGG_NEXT_END (the series has no more chunks or blocks) or
** AGG_NEXT_CLOSED (nothing chosen: nothing left can fall in the bucket of
** the result being built, which is complete). */
#define AGG_NEXT_UNIT   0
#define AGG_NEXT_END    1
#define AGG_NEXT_CLOSED 2
int aggUnitNext(AggCursor *p, AggStream *s, int *peNext);
/* Enter row mode on the block s->blk (*pbEmpty: no row in the range). */
int aggBlockBegin(AggCursor *p, AggStream *s, int *pbEmpty);
/* Start reading the stretch [s->tStrLo, s->tStrHi] through the scan. */
int aggStretchBegin(AggCursor *p, AggStream *s);
/* Read the stretch's next rows and enter row mode on them; *pbEnd when the
** stretch has no more. */
int aggStretchBlock(AggCursor *p, AggStream *s, int *pbEnd);
/* Free what agg_source.c allocated for stream s. */
void aggStreamSourceFree(AggStream *s);

#endif
