/*
** source.h: the row-source interface of the scan (ext/scan.c).
**
** A scan reads a timeseries table through row sources, one per storage
** tier: the memory tier (<t>_chunks, ext/source_mem.c) and the cold tier
** (Parquet objects; a second implementation of this interface).  The scan's
** lanes never touch storage themselves: they plan and merge the blocks the
** sources describe.  A source is a method table (TsSourceMethods) plus the
** state xOpen allocates, whose struct begins with a TsSource (the base type,
** like sqlite3_vtab_cursor); an open block's struct begins with a TsBlock.
**
** CONTRACT (what the scan relies on; a new source must keep all of it)
**
** 1. Sources and priority.  The sources are tsSourceAll[0..tsSourceCount), in
**    priority order: index 0 (memory) is the highest.  Priority is write
**    order: a higher-priority source holds the later writes (rule 6).
**
** 2. Lifetime.  xOpen is called once per xFilter of a cursor, after this
**    connection's pending rows were flushed and the series cache refreshed,
**    with the scan's inclusive time range [tLo, tHi] (tLo<=tHi) and
**    direction.  It sets *ppSrc to the new source, or to NULL when the source
**    has no rows for this scan at all (e.g. no cold objects overlap the
**    range): the scan then never calls it again.  The source may keep any
**    decoded data (object footers, whole row groups) across every series and
**    lane of the cursor until xClose, which frees it and everything it owns
**    (blocks are closed before it).  Sources read the shadow tables and the
**    object store of pSrc->pTab; errors are an SQLite rc with the message set
**    by tsTabErr(pSrc->pTab, ...) ("timeseries <t>: ...").
**
** 3. Series.  The series list of a scan is <t>_series (the handle's series
**    cache, TsSeries, ordered by id); cold objects use the same series ids
**    and tiering never deletes series rows, so a series whose memory-tier
**    range (_series.tmin/tmax) is NULL may still have cold rows.  For each
**    series that matches the scan's dimension and measure_name constraints
**    the scan calls xSeriesRange(pSrc, pS, &tMin, &tMax): it returns 1 if the
**    source may hold rows of pS in [tLo, tHi] and sets [tMin, tMax] to a range
**    containing all of them (it may be wider, and "may" may be a false
**    positive, e.g. from a bloom filter), or 0 when it holds none.  A series
**    no source claims is skipped without listing blocks.
**
** 4. Blocks.  xBlocks(pSrc, pS, lo, hi, pList) appends (tsBlockListAdd) one
**    TsBlockInfo per block of series pS that may hold rows in [lo, hi]
**    (lo<=hi, inside [tLo, tHi]):
**      tMin, tMax  the exact minimum and maximum time of the block's rows (a
**                  block never yields a row outside them), so the lane can
**                  order, prune and merge blocks without opening them;
**      nRow        the rows of the block (1..TS_CHUNK_MAX_ROWS), all of series
**                  pS (a cold block is the slice of a row group holding pS);
**      iRef        the source's own handle of the block (memory: chunk id);
**      iSeq        write order inside the source: a block with a higher
**                  iSeq holds later writes (cold: the manifest id of the
**                  object; a rewrite keeps the highest id of its inputs);
**      iRowid      rowid of the block's first row; row i is iRowid+i (rowids
**                  are not stable; they only have to be distinct within a
**                  scan where practical).
**    Appending order does not matter: the lane sorts.  Blocks of one source
**    may overlap in time (late data tiered in two passes), except for a
**    source that can go stale (rule 7).
**
** 5. Opening.  xBlockOpen(pSrc, pS, pInfo, &pBlk) decodes the block's times
**    into a TsBlock: nRow==pInfo->nRow and aTime[0..nRow) strictly
**    increasing (a record key appears at most once per block).  Everything
**    else is decoded on first request and stays valid until xBlockClose:
**    xBlockVersion sets *paVersion to the versions or NULL (all 1);
**    xBlockMark (optional, NULL = all marks TS_MARK_NONE; asked right after
**    xBlockVersion) sets *paMark to the rows' write marks (ext/recrule.h)
**    or NULL (all TS_MARK_NONE);
**    xBlockColumn(iMeas) sets *ppCol to the values of measure iMeas of the
**    table's schema (TsChunkCol with eType equal to the declared type; its
**    arrays owned by the block).  The scan asks for a column only when the
**    query reads it.  A block is private to the scan: later writes to the
**    table never change an open block.
**
** 6. Merge rule.  The lane of a series merges the blocks of all sources by
**    time.  When several blocks hold the same record key (series, time) it
**    emits exactly one row: the rule of ext/recrule.h applied in write order
**    (lower priority first, then increasing iSeq): a later row replaces the
**    visible one when it has a higher version or is marked REPLACE, so on
**    equal versions the earlier write (cold, older object) stays.
**
** 7. Staleness.  xGeneration (optional, NULL = never stale) returns a number
**    that changes whenever block lists returned earlier may have become
**    invalid (memory: this connection wrote chunks during the scan, e.g.
**    INSERT INTO t SELECT ... FROM t).  Before opening a listed block of a
**    source whose generation changed, and only when no block of that source
**    is open, the lane drops that source's unopened blocks and calls xBlocks
**    again for the rest of the range (after the last row it emitted).  A
**    source with xGeneration must list non-overlapping blocks.
**
** 8. Lookup for writes.  xFind(pTab, pS, t, &pRun, &iRow) (no open source
**    needed) finds the stored record (pS, t): iRow>=0 is its row in *ppRun
**    (versions and every measure decoded, valid until the next call on the
**    handle or a change of the table), -1 when the tier does not hold it.
**    tsSourceFind() asks every tier and returns the row rule 6 shows; it is
**    the one duplicate/version lookup of the write path (ext/vtab.c xUpdate).
**
** 9. Existence for DISTINCT.  xSeriesAny (optional) answers whether the
**    source holds a row of pS in [lo, hi] without decoding rows: *pbAny = 1
**    (and *ptAny = the time of one such row), 0 (none), or -1 (cannot tell
**    cheaply: the scan lists blocks instead).  Without it, a DISTINCT scan
**    (one row per series, no time/measure column read) takes a listed block
**    whose tMin or tMax lies in the range as proof, and opens blocks only
**    when every listed block straddles the range.
**
** 10. Hints (optional xHint, called once right after xOpen, never by a
**    caller that does not know what it promises: the aggregation path
**    does not call it).  TsScanHint.apSer[0..nSer) is every series the
**    scan may pass to xSeriesRange/xBlocks (exactly, nothing else): a source
**    may decode the rows of only those series when one decode serves
**    several.  aFilt[0..nFilt) are row filters on measures that SQLite
**    still checks on every row the scan returns (omit=0): a row of an open
**    block that fails one of them (a NULL fails) may return NULL for any
**    measure, including the filter's own, so a source may skip decoding
**    what cannot pass (pages and row groups by their statistics, the other
**    measures of failing rows).  Times, versions and marks stay exact.
*/
#ifndef TS_SOURCE_H
#define TS_SOURCE_H
#include "table_int.h"

typedef struct TsSource TsSource;
typedef struct TsSourceMethods TsSourceMethods;
typedef struct TsBlock TsBlock;
typedef struct TsBlockInfo TsBlockInfo;
typedef struct TsBlockList TsBlockList;

/* What the scan asks for (fixed for the life of a source). */
typedef struct TsScanSpec TsScanSpec;
struct TsScanSpec {
  sqlite3_int64 tLo, tHi;    /* inclusive time range, tLo<=tHi */
  int bDesc;                 /* rows are wanted in descending time order */
};

/* A row filter on a measure (rule 10): measure iMeas (schema index) eOp
** rVal, eOp one of TS_FILT_*; only DOUBLE measures (scan.c scanFilterAdd). */
#define TS_FILT_GT 1         /* value >  rVal */
#define TS_FILT_GE 2         /* value >= rVal */
#define TS_FILT_LT 3         /* value <  rVal */
#define TS_FILT_LE 4         /* value <= rVal */
typedef struct TsMeasFilter TsMeasFilter;
struct TsMeasFilter {
  int iMeas;
  int eOp;
  double rVal;               /* an exact double (integers |v| <= 2^53) */
};

/* What the scan tells a source after xOpen (rule 10); the arrays belong to
** the cursor and stay valid until the source's xClose. */
typedef struct TsScanHint TsScanHint;
struct TsScanHint {
  TsSeries *const *apSer;    /* every series the scan may ask about */
  int nSer;
  const TsMeasFilter *aFilt; /* row filters SQLite re-checks */
  int nFilt;
};

/* 1 if value r passes filter f (NaN passes nothing).  Inline: sources
** call it per row. */
static inline int tsMeasFilterPass(const TsMeasFilter *f, double r){
  switch( f->eOp ){
    case TS_FILT_GT: return r>f->rVal;
    case TS_FILT_GE: return r>=f->rVal;
    case TS_FILT_LT: return r<f->rVal;
    case TS_FILT_LE: return r<=f->rVal;
  }
  return 1;
}

/* Base of every open source. */
struct TsSource {
  const TsSourceMethods *pM; /* set by the scan after xOpen */
  TsTable *pTab;             /* the table (the cursor holds its reference) */
  int iSrc;                  /* index in tsSourceAll, set by the scan */
};

/* A block as listed (rule 4). */
struct TsBlockInfo {
  sqlite3_int64 tMin, tMax;  /* exact time range of its rows */
  int nRow;                  /* rows */
  int iSrc;                  /* set by tsBlockListAdd: the source's index */
  sqlite3_int64 iRef;        /* the source's handle */
  sqlite3_int64 iSeq;        /* tie order inside the source */
  sqlite3_int64 iRowid;      /* rowid of row 0 */
};

/* A growable array of TsBlockInfo (owned by the lane). */
struct TsBlockList {
  TsBlockInfo *a;
  int n;
  int nAlloc;
};

/* Base of every open block (rule 5). */
struct TsBlock {
  int nRow;                  /* rows */
  const int64_t *aTime;      /* [nRow], strictly increasing */
};

struct TsSourceMethods {
  const char *zName;         /* "memory", "cold": for messages */
  int (*xOpen)(TsTable *pTab, const TsScanSpec *pSpec, TsSource **ppSrc);
  void (*xClose)(TsSource*);
  int (*xSeriesRange)(TsSource*, const TsSeries *pS, sqlite3_int64 *ptMin,
                      sqlite3_int64 *ptMax);
  int (*xBlocks)(TsSource*, const TsSeries *pS, sqlite3_int64 lo, sqlite3_int64 hi,
                 TsBlockList *pList);
  int (*xBlockOpen)(TsSource*, const TsSeries *pS, const TsBlockInfo *pInfo,
                    TsBlock **ppBlk);
  int (*xBlockVersion)(TsSource*, TsBlock*, const int64_t **paVersion);
  int (*xBlockColumn)(TsSource*, TsBlock*, int iMeas, const TsChunkCol **ppCol);
  void (*xBlockClose)(TsSource*, TsBlock*);
  sqlite3_int64 (*xGeneration)(TsSource*);        /* optional */
  int (*xFind)(TsTable *pTab, TsSeries *pS, sqlite3_int64 t, const TsRun **ppRun,
               int *piRow);                        /* optional */
  int (*xBlockMark)(TsSource*, TsBlock*, const unsigned char **paMark);  /* optional */
  int (*xSeriesAny)(TsSource*, const TsSeries *pS, sqlite3_int64 lo, sqlite3_int64 hi,
                    int *pbAny, sqlite3_int64 *ptAny);   /* optional (rule 9) */
  int (*xHint)(TsSource*, const TsScanHint *pHint);      /* optional (rule 10) */
};

/* Append a block of source pSrc to pList (copies *pInfo, sets iSrc).
** SQLITE_NOMEM on OOM. */
int tsBlockListAdd(TsBlockList *pList, const TsSource *pSrc, const TsBlockInfo *pInfo);

/* The registered sources, highest priority first (ext/scan.c). */
extern const TsSourceMethods *const tsSourceAll[];
extern const int tsSourceCount;

/* The memory tier (ext/source_mem.c). */
extern const TsSourceMethods tsSourceMemory;

/* The cold tier: Parquet objects listed in <t>_objects (ext/cold_read.c). */
extern const TsSourceMethods tsSourceCold;

/* The test-only overlay source (ext/source_debug.c) and its SQL function
** ts_debug_overlay(table). */
extern const TsSourceMethods tsSourceDebug;
int tsSourceDebugRegister(sqlite3 *db, TsEnv *pEnv);

/* The write path's lookup (rule 8): the stored record (pS, t) over every
** tier.  *piRow = -1 when no tier holds it. */
int tsSourceFind(TsTable *pTab, TsSeries *pS, sqlite3_int64 t, const TsRun **ppRun,
                 int *piRow);

#endif /* TS_SOURCE_H */
