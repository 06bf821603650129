/*
** table_int.h: the internals of a timeseries table shared by the files of
** ext/ that implement it (vtab.c: the sqlite3_module and planning; scan.c:
** the cursor; source_mem.c: the memory-tier row source) and, through
** source.h, by the cold-tier row source.  Operations outside the table
** (check, stats, maintain, batch load, backup) use ext/table.h only.
**
** Everything here is per connection: a TsTable (the handle of table.h) owns
** the parsed schema (TsSchema, schema.c), the statement cache (tsTabStmt), the series
** cache (TsSeries, one per row of <t>_series, hashed on the series key), the
** pending buffer of rows not yet flushed (TsPend per series) and the lookup
** cache of the write path (TsLook).  Errors of the helpers here are an SQLite
** rc plus the handle's message (tsTabErr), which the vtab methods move into
** their zErrMsg (tsTabVtabRc).
*/
#ifndef TS_TABLE_INT_H
#define TS_TABLE_INT_H
#include "tslite.h"
#include "table.h"
#include "chunk.h"
#include "cold_cache.h"
#include <string.h>

typedef struct TsLook TsLook;

/* Tunables. */
#define TS_CHUNK_TARGET     1024      /* rows per chunk aimed at */
#define TS_PENDING_BUDGET   (16*1024*1024)   /* pending bytes before a flush */
#define TS_MAX_VALUE_BYTES  2048      /* VARCHAR and dimension values */
#define TS_MAX_MNAME_BYTES  256       /* measure_name */
#define TS_MAX_DIMS         128
#define TS_FUTURE_NS        (15*TS_NS_PER_MIN)   /* fixed Timestream limit */

/* Column kinds of the declared schema. */
#define TS_KIND_TIME     0
#define TS_KIND_DIM      1
#define TS_KIND_MNAME    2
#define TS_KIND_MEASURE  3
#define TS_KIND_VERSION  4

typedef struct TsSchema TsSchema;
struct TsSchema {
  int nDim;               /* dimensions */
  char **azDim;           /* dimension names (owned) */
  int nMeas;              /* measures */
  char **azMeas;          /* measure names (owned) */
  int *aMeasType;         /* TS_TYPE_* per measure (owned) */
  sqlite3_int64 iMemRet;  /* memory_retention, ns */
  sqlite3_int64 iMagRet;  /* magnetic_retention, ns */
  int bMagWrites;         /* magnetic_writes */
  int iPartDim;           /* partition_key dimension, -1 = measure_name */
  int bPartRequired;      /* partition_enforcement = 'required' */
  char *zMeasureName;     /* default measure_name (owned) */
  sqlite3_int64 nColdCache;  /* cold_cache: bytes of the local cache, 0 = off */
  int nOpt;               /* options as stored in _config */
  char **azOptKey;        /* (owned) */
  char **azOptVal;        /* (owned) */
  int bStored;            /* parsed from a stored table (xConnect, _config),
                          ** not a CREATE: rules newer than the value may
                          ** be skipped so older tables still open */
  char *zCheckMsg;        /* set by an option check that fails with a whole
                          ** "bad value for ..." message (owned) */
};

/* Pending (not yet flushed) rows of one series in insertion slots; aOrder
** lists the slots by increasing time (times are unique within the buffer:
** a second write of the same key is resolved in place).  Each slot's row
** is one record in aRec (TS_PREC_SIZE(nMeas) bytes at TS_PREC(p, iSlot)):
**   nMeas int64     the values: int64, or the bits of a double; 0 when
**                   NULL and for VARCHAR (its bytes are in aazText)
**   int64           the version       (at TS_PREC_VERSION(nMeas))
**   nMeas bytes     1 = NULL          (at TS_PREC_NULL(nMeas))
**   1 byte          the write mark of ext/recrule.h (at TS_PREC_MARK(nMeas))
**   padding to a multiple of 8 bytes
** so that appending a row writes one stretch of memory (rows of many series
** arrive interleaved; an array per column would cost a cache line per column);
** the flush gathers them into columns (write_flush.c). */
#define TS_PREC_VERSION(nMeas)  (8*(size_t)(nMeas))
#define TS_PREC_NULL(nMeas)     (8*(size_t)(nMeas) + 8)
#define TS_PREC_MARK(nMeas)     (9*(size_t)(nMeas) + 8)
#define TS_PREC_SIZE(nMeas)     ((int)((9*(size_t)(nMeas) + 9 + 7) & ~(size_t)7))
#define TS_PREC(p, iSlot)       ((p)->aRec + (size_t)(iSlot)*(size_t)(p)->szRec)
typedef struct TsPend TsPend;
struct TsPend {
  int nRow;               /* slots used */
  int nAlloc;             /* slots allocated */
  int bInOrder;           /* aOrder[i]==i for all i (append-only so far) */
  sqlite3_int64 tLast;    /* the latest time (valid when nRow>0), so an
                          ** append is recognised without reading aTime */
  int szRec;              /* TS_PREC_SIZE of the table's measures */
  int bText;              /* the table has a VARCHAR measure */
  int bNull;              /* a slot holds a NULL value (since the reset) */
  sqlite3_int64 *aTime;   /* per slot: time ns */
  int *aOrder;            /* slots sorted by time */
  unsigned char *aRec;    /* per slot: the record above (owned) */
  char ***aazText;        /* [measure][slot]: VARCHAR bytes (owned) or NULL;
                          ** [measure] NULL for other types */
  int **aanText;          /* [measure][slot]: VARCHAR length */
};

typedef struct TsSeries TsSeries;
struct TsSeries {
  int nRef;               /* 1 while in the cache + 1 per cursor using it */
  sqlite3_int64 iId;      /* _series.id */
  unsigned char *aKey;    /* encoded series key (owned, one allocation with
                          ** azDim strings) */
  int nKey;               /* bytes in aKey */
  unsigned int h;         /* tsTabValuesHash of its values */
  char **azDim;           /* dimension values, NULL = absent (inside aKey
                          ** allocation) */
  int *anDim;             /* their lengths in bytes (inside the allocation) */
  char *zMName;           /* measure_name (inside the allocation) */
  int nMName;             /* its length */
  TsSeries *pSucc;        /* the series of the row written after this one's
                          ** last row: write.c's first guess for the next
                          ** row (no reference; cleared with the cache) */
  int bChunks;            /* the series has at least one chunk */
  sqlite3_int64 tMin;     /* time range of its chunks (valid if bChunks) */
  sqlite3_int64 tMax;
  TsSeries *pHashNext;    /* hash chain */
  TsPend *pPend;          /* pending-row buffer or NULL (owned; kept empty
                          ** between transactions to avoid re-growing it) */
  int bPendList;          /* in the vtab's list of series with pending rows
                          ** (which holds a reference) */
  TsSeries *pPendNext;    /* next series with pending rows */
};

/* Prepared statements, prepared lazily with SQLITE_PREPARE_PERSISTENT. */
#define STMT_SERIES_ALL      0  /* id, skey, tmin, tmax of every series */
#define STMT_SERIES_FIND     1  /* id, tmin, tmax WHERE skey=?1 */
#define STMT_SERIES_INSERT   2  /* (skey, measure_name, d0..) */
#define STMT_SERIES_RANGE    3  /* SET tmin=?2, tmax=?3 WHERE id=?1 AND skey=?4 */
#define STMT_CHUNK_FLOOR     4  /* headers from the floor chunk of ?2 to ?3 */
#define STMT_CHUNK_AT        5  /* id, tmax, data of the floor chunk of ?2 */
#define STMT_CHUNK_DATA      6  /* data WHERE id=?1 */
#define STMT_CHUNK_INSERT    7  /* (sid, tmin, tmax, nrow, data) */
#define STMT_CHUNK_DELETE    8  /* WHERE id=?1 */
#define STMT_DATA_VERSION    9  /* PRAGMA data_version */
#define STMT_ROW_COUNT      10  /* count(*) of _chunks, rows of both tiers */
#define STMT_SERIES_CHECK   11  /* max(id) of _series */
#define STMT_SCHEMA_VERSION 12  /* PRAGMA schema_version (write_flush.c wlogPrepare) */
#define STMT_WLOG_INSERT    13  /* (sid, tmin, tmax) into _wlog: prepared by write_flush.c */
#define STMT_CHUNK_TAIL     14  /* id, tmax, nrow of the last ?2 chunks of sid ?1, newest first */
#define STMT_COUNT          15

struct TsTable {
  int nRef;               /* references: the vtab and open operations */
  TsTable *pNext;         /* next handle in pEnv->pTableList */
  char *zErrMsg;          /* last error of a table-level helper (owned);
                          ** vtab methods move it into their zErrMsg */
  TsTableSchema pub;      /* public view of s (tsTableSchema) */
  sqlite3 *db;            /* the connection */
  TsEnv *pEnv;            /* environment (reference held) */
  char *zDb;              /* schema name, e.g. "main" (owned) */
  char *zName;            /* table name (owned) */
  TsSchema s;             /* columns and options */
  int nCol;               /* declared columns incl. version */
  sqlite3_stmt *aStmt[STMT_COUNT];  /* see STMT_* (owned) */

  /* Series cache: every series of the table, valid when !bStale and the
  ** data version matches.  Holds one reference to each series. */
  TsSeries **aHash;       /* hash table on skey (owned) */
  int nHash;              /* buckets (power of 2) */
  TsSeries **apSeries;    /* all cached series by increasing id (owned) */
  int nSeries;
  int nSeriesAlloc;
  sqlite3_int64 iSeriesMax;  /* largest id in the cache (0: none) */
  int bStale;             /* reload before next use */
  int bHaveVersion;       /* iDataVersion is valid */
  sqlite3_int64 iDataVersion;  /* PRAGMA data_version of the last check */
  int bTxnChecked;        /* the cache was checked in this write txn */
  int bHaveChanges;       /* nChanges is valid */
  sqlite3_int64 nChanges; /* sqlite3_total_changes64() after the last check:
                          ** when it moved, this connection wrote something,
                          ** perhaps the shadow tables directly, which
                          ** data_version does not show (tsTabSeriesRefresh) */
  sqlite3_int64 nRowEst;  /* rows in both tiers (for costs; cold: manifest nrow) */

  /* Pending buffer. */
  TsSeries *pPendFirst;   /* series with pending rows (referenced) */
  sqlite3_int64 nPendBytes;  /* approximate RAM held by pending rows */
  int iFlushGen;          /* bumped whenever chunks are written */
  int rcFlush;            /* sticky: a flush failed in this transaction, so
                          ** it must not commit (cleared by rollback) */
  int bWlogKnown;         /* aStmt[STMT_WLOG_INSERT] (NULL: no write log) is
                          ** right for schema cookie iWlogCookie (write_flush.c) */
  sqlite3_int64 iWlogCookie;

  /* Scratch space of xUpdate: the converted measure values of one row. */
  unsigned char *aStNull; /* [measure] */
  sqlite3_int64 *aStNum;  /* [measure] int64 or double bits */
  const char **azStText;  /* [measure] text (points into argv) */
  int *anStText;          /* [measure] */
  TsBuf key;              /* encoded series key of a row whose series is
                          ** not in the cache (tsTabSeriesForWrite) */
  TsSeries *pLastWrite;   /* the series of the last row written (no
                          ** reference; cleared with the cache) */
  TsLook *pLook;         /* last chunk decoded for duplicate checks (owned) */
  int bDebugOverlay;      /* ts_debug_overlay() enabled source_debug.c */
  TsColdCounters cold;    /* cold reads and cache, this connection (cold_cache.c) */
  struct TsColdMeta *pColdMeta;  /* cold_read.c: parsed footers and series_runs
                          ** of objects, kept between scans (owned) */
};

/* The sqlite3_vtab of a timeseries table: a reference on its handle. */
typedef struct TsVtab TsVtab;
struct TsVtab {
  sqlite3_vtab base;      /* base class: must be first */
  TsTable *pTab;          /* the table handle (reference held) */
};

typedef struct TsRun TsRun;
struct TsRun {
  int n;                      /* rows */
  const int64_t *aTime;       /* times */
  const int64_t *aVersion;    /* versions or NULL (all 1) */
  const unsigned char *aMark; /* write marks (ext/recrule.h) or NULL (all 0) */
  TsChunkCol *aCol;           /* one per measure (owned by the run's owner) */
};

typedef struct TsRunBuf TsRunBuf;
struct TsRunBuf {
  TsRun r;                    /* the rows gathered so far (r.aCol owned) */
  int nAlloc;                 /* row capacity */
  int nCol;                   /* measures */
  int64_t *aTime;             /* (owned) */
  int64_t *aVersion;          /* (owned) */
  unsigned char *aMark;       /* (owned) */
  unsigned char **aaNull;     /* [col] (owned) */
  int64_t **aaNum;            /* [col] int64 or double bits (owned) */
  const char ***aazText;      /* [col] pointers into the source runs (owned array) */
  int **aanText;              /* [col] (owned) */
};

struct TsLook {
  sqlite3_int64 iChunk;   /* chunk id, 0 = empty */
  int iGen;               /* iFlushGen when loaded */
  unsigned char *aBlob;   /* private copy (owned) */
  TsChunkReader *pReader; /* (owned) */
  TsRun run;              /* decoded rows */
  TsChunkCol *aCol;       /* (owned) */
};

/* A value read with SQLite's NUMERIC affinity (numericOf). */
typedef struct TsNum TsNum;
struct TsNum {
  sqlite3_int64 i;        /* SQLITE_INTEGER: the exact value */
  double r;               /* SQLITE_FLOAT: the value */
  int bIntegral;          /* SQLITE_FLOAT from TEXT that denotes an integer
                          ** outside int64 ('-9223372036854775809') */
};

/* Plan flags (idxNum) shared by xBestIndex (vtab.c) and xFilter (scan.c);
** see the comment above tsBestIndexImpl. */
#define TS_MERGE_MAX       4096   /* series merged for ORDER BY time */
#define TS_IDX_ORDER_ASC   0x01
#define TS_IDX_ORDER_DESC  0x02
#define TS_IDX_DISTINCT    0x04   /* one row per series; bits 8.. = the
                                  ** columns to group series by (slot i:
                                  ** dimension i, slot nDim: measure_name) */
#define TS_IDX_DISTINCT_SHIFT 8
#define TS_IDX_DISTINCT_MAXSLOT 22   /* slots that fit in idxNum */

/* Column numbers (see the header comment of vtab.c). */
static inline int tsTabColMName(const TsTable *p){ return 1 + p->s.nDim; }
static inline int tsTabColMeas0(const TsTable *p){ return 2 + p->s.nDim; }
static inline int tsTabColVersion(const TsTable *p){ return 2 + p->s.nDim + p->s.nMeas; }
int tsTabColKind(const TsTable *p, int iCol);   /* TS_KIND_* */

/* Errors: set the handle's message (replacing the old one); move it into
** a vtab's zErrMsg when rc!=SQLITE_OK (dropping it otherwise), return rc. */
void tsTabErr(TsTable *p, const char *zFmt, ...);
int tsTabVtabRc(sqlite3_vtab *pVtab, int rc);

/* The statement cache: prepared on first use (SQLITE_PREPARE_PERSISTENT),
** owned by the handle.  tsTabStepDone steps a statement that returns no
** row of interest and resets it; tsTabStmtErr resets a failed statement and
** sets the message.  Both return the rc. */
int tsTabStmt(TsTable *p, int eStmt, sqlite3_stmt **ppStmt);
int tsTabStepDone(TsTable *p, sqlite3_stmt *pStmt);
int tsTabStmtErr(TsTable *p, sqlite3_stmt *pStmt);

/* realloc of nElem*szElem bytes that leaves a unchanged on OOM and sets
** *pRc (a no-op once *pRc is set). */
void *tsTabReallocArray(void *a, size_t nElem, size_t szElem, int *pRc);

/* The series key and the series cache. */
/* Series are hashed and compared on their values (dimension values with
** lengths, NULL = absent, and the measure name), never on an encoded key,
** so a row's series is found without encoding its key. */
unsigned int tsTabValuesHash(int nDim, const char *const *azDim, const int *anDim,
                             const char *zMName, int nMName);
void tsTabKeyEncode(TsBuf *pBuf, int nDim, const char *const *azDim, const int *anDim,
                    const char *zMName, int nMName);
TsSeries *tsTabSeriesFind(TsTable *p, const char *const *azDim, const int *anDim,
                          const char *zMName, int nMName, unsigned int h);

/* Are the n bytes at za and zb equal?  Values of up to 16 bytes (most
** dimension values) are compared as the two overlapping words that
** tsTabValuesHash reads, with no call; nothing outside the n bytes is
** read.  Inline: it runs for every inserted row (write.c knownSeries). */
static inline uint64_t tsTabKeyRd8(const unsigned char *a){ uint64_t v; memcpy(&v, a, 8); return v; }
static inline uint64_t tsTabKeyRd4(const unsigned char *a){ uint32_t v; memcpy(&v, a, 4); return v; }
static inline int tsTabKeyBytesEq(const char *za, const char *zb, int n){
  const unsigned char *a = (const unsigned char*)za, *b = (const unsigned char*)zb;
  if( n>16 ) return memcmp(a, b, (size_t)n)==0;
  if( n>=8 ) return tsTabKeyRd8(a)==tsTabKeyRd8(b) && tsTabKeyRd8(a+n-8)==tsTabKeyRd8(b+n-8);
  if( n>=4 ) return tsTabKeyRd4(a)==tsTabKeyRd4(b) && tsTabKeyRd4(a+n-4)==tsTabKeyRd4(b+n-4);
  if( n>0 ) return a[0]==b[0] && a[n>>1]==b[n>>1] && a[n-1]==b[n-1];
  return 1;
}

/* Does series pS have exactly these values (NULL dimensions equal only
** NULL; an empty value is not NULL)? */
static inline int tsTabSeriesIs(const TsSeries *pS, int nDim, const char *const *azDim,
                                const int *anDim, const char *zMName, int nMName){
  int i;
  for(i=0; i<nDim; i++){
    const char *z = pS->azDim[i];
    if( z==0 || azDim[i]==0 ){
      if( z!=azDim[i] ) return 0;
    }else if( pS->anDim[i]!=anDim[i] || !tsTabKeyBytesEq(z, azDim[i], anDim[i]) ){
      return 0;
    }
  }
  return pS->nMName==nMName && tsTabKeyBytesEq(pS->zMName, zMName, nMName);
}
void tsTabSeriesUnref(TsTable *p, TsSeries *pS);
int tsTabSeriesRefresh(TsTable *p);   /* reload if stale or another connection wrote */

/* Index of the first i in [0,n) with aTime[aOrder ? aOrder[i] : i] >= t. */
int tsTabSearchTime(const int64_t *aTime, const int *aOrder, int n, sqlite3_int64 t);

/* Chunks: load chunk iChunk into a private copy (*paBlob) with a reader and
** its times in *pRun (and, if bCols, versions and every measure into aCol).
** tsTabChunkCorrupt sets "chunk N is corrupt: zWhy", SQLITE_CORRUPT_VTAB. */
int tsTabChunkLoad(TsTable *p, sqlite3_int64 iChunk, unsigned char **paBlob,
                   TsChunkReader **ppReader, TsRun *pRun, TsChunkCol *aCol, int bCols);
int tsTabChunkCorrupt(TsTable *p, sqlite3_int64 iChunk, const char *zWhy);

/* The series the row in p->key belongs to (found or inserted into
** <t>_series); *ppS is owned by the cache.  tsTabCacheClear drops the cache
** (the next use reloads it). */
int tsTabSeriesForWrite(TsTable *p, const char *const *azDim, const int *anDim,
                        const char *zMName, int nMName, TsSeries **ppS);
/* The flush found no <t>_series row with pS's id and key (the shadow table
** was edited directly): point pS at the row its key has now, or insert it
** again (pS->bChunks then 0), and mark the cache stale. */
int tsTabSeriesRepair(TsTable *p, TsSeries *pS);
void tsTabCacheClear(TsTable *p);

/* The handle's lifecycle (table.c).  tsTabFind: this connection's handle of
** (zDb, zTab) or NULL; tsTabNew: a new handle owning *pS (cleared), NULL on
** OOM; tsTabShadowCreate: the shadow tables and _config of a new table;
** tsTabDestroy: pending rows and shadow tables dropped, handle unlinked;
** tsTabRename: shadow tables renamed (message on the handle). */
TsTable *tsTabFind(TsEnv *pEnv, sqlite3 *db, const char *zDb, const char *zTab);
TsTable *tsTabNew(TsEnv *pEnv, sqlite3 *db, const char *zDb, const char *zTab, TsSchema *pS);
int tsTabShadowCreate(TsTable *p, char **pzErr);
int tsTabDestroy(TsTable *p, char **pzErr);
int tsTabRename(TsTable *p, const char *zNew);
int tsTabIsShadowName(const char *zSuffix);

/* The write path (write.c): xUpdate; drop every pending row (rollback);
** free one series' buffer; empty one (keeping its arrays). */
int tsWriteUpdate(sqlite3_vtab *pVtab, int argc, sqlite3_value **argv, sqlite3_int64 *pRowid);
void tsWritePendDiscardAll(TsTable *p);
void tsWritePendFree(TsTable *pTab, TsPend *p);
void tsWritePendReset(TsTable *pTab, TsPend *p);

/* The flush (write_flush.c): every pending row of the table into chunks
** (see vtab.c's header); on error the rows not yet flushed stay pending
** and the error is sticky for the transaction (rcFlush). */
int tsTabFlushAll(TsTable *p);

/* Values: SQLite's NUMERIC affinity (type after conversion, value in
** *pNum) and TEXT affinity (0 ok, 1 BLOB, 2 OOM; *ppDup is always NULL). */
int tsTabNumericOf(sqlite3_value *v, TsNum *pNum);
int tsTabTextOf(sqlite3_value *v, sqlite3_value **ppDup, const char **pz, int *pn);

/* The schema (schema.c).  tsSchemaParse: from the CREATE arguments
** (bCreate: of a new table, with the CREATE-only option rules);
** tsSchemaLoad: from "zDb"."zTab_config" (*pzName: the table's name as
** stored); tsSchemaStore: into an empty _config; tsSchemaPublish: the
** table.h view (pointers into *p).  Errors name the table and option. */
int tsSchemaParse(TsSchema *p, const char *zTab, int nArg, const char *const *azArg,
                  int bCreate, char **pzErr);
int tsSchemaLoad(sqlite3 *db, const char *zDb, const char *zTab, TsSchema *p,
                 char **pzName, char **pzErr);
int tsSchemaStore(sqlite3 *db, const char *zDb, const char *zTab, const TsSchema *p,
                  char **pzErr);
void tsSchemaPublish(const TsSchema *p, TsTableSchema *pPub);
void tsSchemaClear(TsSchema *p);
int tsSchemaRegister(sqlite3 *db, TsEnv *pEnv);   /* ts_options() */

/* The memory tier's lookup cache (source_mem.c). */
void tsMemLookFree(TsTable *p);    /* free p->pLook */
void tsColdMetaFree(TsTable *p);   /* free p->pColdMeta (cold_read.c) */
void tsMemLookClear(TsTable *p);   /* forget the decoded chunk */

/* The cursor (scan.c): the sqlite3_module's read methods. */
int tsScanOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor);
int tsScanClose(sqlite3_vtab_cursor *pCursor);
int tsScanFilter(sqlite3_vtab_cursor *pCursor, int idxNum, const char *idxStr,
                 int argc, sqlite3_value **argv);
int tsScanNext(sqlite3_vtab_cursor *pCursor);
int tsScanEof(sqlite3_vtab_cursor *pCursor);
int tsScanColumn(sqlite3_vtab_cursor *pCursor, sqlite3_context *ctx, int iCol);
int tsScanRowid(sqlite3_vtab_cursor *pCursor, sqlite3_int64 *pRowid);

#endif /* TS_TABLE_INT_H */
