/*
** cold_cache.h: the cold tier's read counters and local cache, as the table
** sees them (cold_cache.c): the cache directory and bound of a table, the
** per-connection counters of cold reads (objects opened, ranged reads,
** bytes) and of the cache (s3/objcache.h), and their "cold_reads" and
** "cold_cache" objects in ts_stats.
*/
#ifndef TS_COLD_CACHE_H
#define TS_COLD_CACHE_H
#include "tslite.h"
#include "objcache.h"
#include "jsonw.h"

typedef struct TsTable TsTable;

/* Counters of one table on one connection since the handle was opened
** (a field of TsTable; the cold source adds to it). */
typedef struct TsColdCounters TsColdCounters;
struct TsColdCounters {
  sqlite3_int64 nObjOpen;    /* cold objects opened by scans (a reader made
                             ** from the manifest's footer bytes; an object
                             ** pruned by the manifest is never opened) */
  sqlite3_int64 nRead;       /* ranged reads of object bytes */
  sqlite3_int64 nByteRead;   /* bytes those reads returned */
  sqlite3_int64 nRgDecode;   /* row group decodes (whole or a series' pages) */
  sqlite3_int64 nFiltSkip;   /* measure values not decoded because a row
                             ** filter on a measure proved their rows fail
                             ** (page or row-group statistics, or the filter
                             ** measure's own values) */
  TsObjCacheStats cache;     /* the cache's counters, summed over closed stores */
};

/* The cache directory of table pTab, "<dbfile>.tslite-cache"
** (sqlite3_malloc'd), or NULL when it has none: cold_cache = 0, storage not
** s3://, or a database without a file.  *pnMax gets the bound. */
char *tsColdCacheDir(TsTable *pTab, sqlite3_int64 *pnMax);

/* Add a closing store's cache counters to the table's. */
void tsColdCacheHarvest(TsTable *pTab, TsObjStore *pStore);

/* Write "cold_reads":{...},"cold_cache":{...} into the open object of w
** (ts_stats). */
void tsColdStatsJson(TsTable *pTab, TsJsonW *w);

#endif
