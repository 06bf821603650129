/*
** cold_meta.h: interface to cold_meta.c, the cold tier's per-connection
** cache (one per table handle, TsTable.pColdMeta) of what a scan learns
** about an object once and can reuse: its parsed footer (a Parquet reader
** with its page index), series_runs and row-group times, and the manifest
** SELECT of the cold source (ext/cold_read.c, its only user).
**
** An object never changes under its key (a new object gets a new random
** key), and an entry is used only when the manifest row's size, footer and
** series_runs bytes are those it was made from.  One scan at a time uses an
** entry (bBusy: a second cursor of the same connection opens its own).
*/
#ifndef TS_COLD_META_H
#define TS_COLD_META_H
#include "table_int.h"
#include "coldscan.h"

typedef struct TsColdMetaEnt TsColdMetaEnt;
struct TsColdMetaEnt {
  char *zKey;                /* (owned) */
  sqlite3_int64 nByte;
  unsigned char *aFooter; int nFooter;   /* (owned) */
  unsigned char *aRuns; int nRuns;       /* (owned) */
  TsPqReader *pReader;       /* (owned) */
  TsColdRunIdx *pIdx;        /* (owned) */
  int64_t *aRgT, *aRgStart;  /* (owned) */
  int nRg;
  int bBusy;                 /* a scan holds it */
  TsColdMetaEnt *pNext;      /* hash chain */
};

/* The free entry for object zKey of nByte bytes whose footer and
** series_runs are a[0..n) and r[0..nr) (compared where they lie), marked
** busy; NULL when there is none. */
TsColdMetaEnt *tsColdMetaTake(TsTable *pTab, const char *zKey, sqlite3_int64 nByte,
                              const void *a, int n, const void *r, int nr);

/* A new busy entry for a freshly opened object: copies the key, footer
** and series_runs and takes ownership of pReader, pIdx, aRgT and aRgStart.
** NULL (the caller keeps them) when memory is short or all of the
** TS_COLD_META_MAX entries are busy. */
TsColdMetaEnt *tsColdMetaAdd(TsTable *pTab, const char *zKey, sqlite3_int64 nByte,
                             const unsigned char *aFooter, int nFooter,
                             const unsigned char *aRuns, int nRuns, TsPqReader *pReader,
                             TsColdRunIdx *pIdx, int64_t *aRgT, int64_t *aRgStart, int nRg);

/* The scan is done with entry m: it becomes free again (its reader reads
** nothing until the next scan sets a source, and its page buffer is
** trimmed), or is dropped when its reader's last call failed (the reader's
** error is sticky). */
void tsColdMetaRelease(TsTable *pTab, TsColdMetaEnt *m);

/* The kept manifest statement (reset, unbound), or NULL; the caller owns
** it until tsColdMetaStmtPut, which keeps it for the next scan (or
** finalizes it when one is kept already or memory is short). */
sqlite3_stmt *tsColdMetaStmtTake(TsTable *pTab);
void tsColdMetaStmtPut(TsTable *pTab, sqlite3_stmt *pStmt);

#endif /* TS_COLD_META_H */
