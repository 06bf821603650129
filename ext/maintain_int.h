/*
** maintain_int.h: what the two files of ts_maintain share: the run
** (MtRun) with its series, chunks and objects of a round, and the object
** writer and manifest helpers.  ext/maintain.c owns the run, tiering,
** retention, orphans and the SQL function; ext/maintain_rewrite.c rewrites
** manifest objects (partly expired objects and compaction).  Format and
** commit protocol: docs/internals/cold-format.md.
*/
#ifndef TS_MAINTAIN_INT_H
#define TS_MAINTAIN_INT_H
#include "tslite.h"
#include "op.h"
#include "table.h"
#include "parquet.h"
#include "objstore.h"

#define MT_NS_PER_DAY     86400000000000LL
#define MT_LEASE_MS       60000
#define MT_GRACE_DEFAULT  (3600LL*1000000000LL)
#define MT_RG_ROWS        65536
#define MT_RG_BYTES       (8LL*1024*1024)
/* Data page rows: a narrow cold query decompresses every page its rows
** touch, so the measure pages (the bulk of the bytes) are half the size of
** the others; on tsbs-int 10000-row measure pages cost 0.592 B/value where
** 20000 gave 0.589 and 5000 0.617 (docs/benchmarks.md). */
#define MT_PAGE_ROWS      20000
#define MT_MEAS_PAGE_ROWS 10000
#define TS_MT_MAXCOL      2002      /* SQLite's default column limit + 2 */
#define MT_COMPACT_TARGET (64LL*1024*1024)   /* bytes an object aims at */
#define MT_COMPACT_BUDGET (512LL*1024*1024)  /* input bytes merged per pass */
#define MT_COMPACT_MIN    4         /* small objects of a day still tiered into */
#define MT_COMPACT_MAXIN  64        /* inputs per merge (one row group each in RAM) */

/* One series of the table that has chunks to tier. */
typedef struct MtSeries MtSeries;
struct MtSeries {
  sqlite3_int64 iSid;
  unsigned char *aKey; int nKey;      /* encoded series key (skey) */
  char **azDim;                       /* nDim values (NULL = NULL) */
  char *zMName;                       /* measure_name */
  const char *zPk; int nPk;           /* partition key value (points into the above) */
  int bPkNull;
  int iBucket;
};

/* A chunk read in a round, checked again at commit. */
typedef struct MtChunk MtChunk;
struct MtChunk {
  sqlite3_int64 iId, iSid, tMin, tMax, nRow;
  uint64_t h; sqlite3_int64 nData;    /* FNV-64 and length of the blob */
  unsigned char *aRepl; size_t nRepl; /* replacement chunk (rows >= boundary) or NULL;
                                      ** malloc (tsBufDetach) */
  sqlite3_int64 tReplMin, tReplMax, nReplRow;
};

/* One object being written in a round (one day of one bucket). */
typedef struct MtObj MtObj;
struct MtObj {
  int64_t iDay;
  char *zKey;
  TsObjWriter *pOw;
  TsPqWriter *pPw;
  char *zSinkErr;
  int64_t tMin, tMax, nRow, nSeries;
  /* series_runs (cold-format.md section 3): per series run, in row order,
  ** the key then (rows, tmin, tmax) once the run ends */
  TsBuf runs;
  int64_t nRunStart, tRunMin, tRunMax;
  int bRun;
  int iLastSeries;
  char *zPkMin, *zPkMax; int nPkMin, nPkMax; int bPk;
  uint64_t *aHash; int nHash, nHashAlloc;
  unsigned char *aBloom; size_t nBloom;
  unsigned char *aTail; size_t nTail;
  int64_t nByte;
  int bUploaded;
  char *zEtag;                        /* the store's ETag of the upload ("" if it
                                      ** reported none); sqlite3_malloc, owned */
  int bMark;                          /* has the ts_write_mode column (p->bMarkCol at open) */
};

typedef struct MtRun MtRun;
struct MtRun {
  TsOp op;                         /* connection + first error (op.h) */
  TsEnv *pEnv;
  TsTable *pTab;                     /* the table handle (a reference, released here) */
  const TsTableSchema *s;            /* its schema, valid while pTab is held */
  const char *zDb;                   /* tsTableDb(pTab) */
  const char *zTab;                  /* tsTableName(pTab) */
  char *zWriter;                     /* writer id */
  char *zHolder;                     /* lease holder string */
  TsObjStore *pStore;
  int64_t iNow, iBound, iExpire, iGrace;
  /* counters */
  int64_t nRowMoved, nChunkMoved, nChunkRewritten, nObj, nByte, nRowExpired;
  int64_t nObjExpired, nOrphan, nAborted;
  int64_t nRetiredDeleted;           /* retired objects deleted after the grace period */
  int64_t nObjTrimmed;               /* partly expired objects rewritten */
  int64_t nObjCompacted, nCompactOut;/* compaction inputs merged, outputs written */
  int64_t nDupDropped, nRejected;    /* record keys found twice; of them, rejected values */
  int64_t nCompactTarget;            /* compaction: target object bytes */
  int64_t nCompactBudget;            /* compaction: input bytes per pass */
  int nCompactMin;                   /* compaction: small objects of an open day to merge */
  int bMarkCol;                      /* objects opened now get the ts_write_mode column */
  TsBuf rej;                         /* JSON array items: keys of the rejected-records
                                     ** reports the pass committed */
  int64_t nRejRows;                  /* records in them */
  char *zBusy; int64_t iBusyExp;
  TsBuf keys;                        /* JSON array items of written keys */
};

/* maintain.c: helpers the rewrite uses. */
void mtLeaseWrite(MtRun *p);
int mtBytesCmp(const void *a, int na, const void *b, int nb);
void mtObjFree(MtObj *o);
MtObj *mtObjOpen(MtRun *p, int iBucket, int64_t iDay);
void mtRandHex(char *z, int nByte);
void mtObjSeries(MtRun *p, MtObj *o, MtSeries *pS, int iS);
void mtObjFinish(MtRun *p, MtObj *o);
void mtObjRemove(MtRun *p, MtObj *o);
void mtObjRow(MtObj *o, int64_t t);   /* after a row of time t is written */
void mtManifestInsert(MtRun *p, sqlite3_stmt *pIns, MtObj *o);
void mtRetire(MtRun *p, const char *zKey);
void mtPoint(sqlite3 *db, const char *zPoint);   /* a named crash point (test hook, ts_debug_kill_at) */
sqlite3_stmt *mtManifestInsertStmt(MtRun *p);

/* maintain_rewrite.c: the object rewrites of one pass (cold-format.md 5b, 5c). */
void mtTrim(MtRun *p);
void mtCompact(MtRun *p);
void mtRejectCleanup(MtRun *p);      /* uncommitted reports of a crashed pass */

#endif /* TS_MAINTAIN_INT_H */
