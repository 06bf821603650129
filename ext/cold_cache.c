/*
** cold_cache.c: the table side of the cold tier's local cache and of the
** cold read counters (interface in cold_cache.h; the cache itself is
** s3/objcache.c).
**
**   CREATE VIRTUAL TABLE t USING timeseries(..., storage = 's3://b/p',
**                                           cold_cache = '1GB');
**   SELECT ts_stats('t') -> {..., "cold_reads":{"objects":3,"reads":9,
**       "bytes":81234,"row_groups":4}, "cold_cache":{"enabled":true, "dir":"/d/x.db.tslite-cache",
**       "limit":1073741824, "hits":7, "misses":2, ...}}
**
** The cache of a table lives in "<dbfile>.tslite-cache/" beside the
** database (one directory for every table of the database: blocks are
** named by store and key, so tables and processes share it), bounded by the
** table's cold_cache option.  The counters are per connection and table,
** since the handle was opened; the "files" and "bytes" of "cold_cache" are
** the directory's now (every process's blocks).
*/
#include "cold_cache.h"
#include "table_int.h"
#include <string.h>

char *tsColdCacheDir(TsTable *pTab, sqlite3_int64 *pnMax){
  const char *zFile;
  *pnMax = pTab->s.nColdCache;
  if( pTab->s.nColdCache<=0 ) return 0;
  if( pTab->pub.zStorage==0 || strncmp(pTab->pub.zStorage, "s3://", 5)!=0 ) return 0;
  zFile = sqlite3_db_filename(pTab->db, pTab->zDb);
  if( zFile==0 || zFile[0]==0 ) return 0;
  return sqlite3_mprintf("%s.tslite-cache", zFile);
}

void tsColdCacheHarvest(TsTable *pTab, TsObjStore *pStore){
  TsObjCacheStats st;
  TsObjCacheStats *pSum = &pTab->cold.cache;
  if( !tsObjCacheStats(pStore, &st) ) return;
  pSum->nHit += st.nHit;
  pSum->nMiss += st.nMiss;
  pSum->nByteHit += st.nByteHit;
  pSum->nByteFetched += st.nByteFetched;
  pSum->nGet += st.nGet;
  pSum->nHead += st.nHead;
  pSum->nList += st.nList;
  pSum->nTrusted += st.nTrusted;
  pSum->nBypass += st.nBypass;
  pSum->nStale += st.nStale;
  pSum->nCorrupt += st.nCorrupt;
  pSum->nEvict += st.nEvict;
  pSum->nWriteErr += st.nWriteErr;
}

void tsColdStatsJson(TsTable *pTab, TsJsonW *w){
  const TsColdCounters *c = &pTab->cold;
  sqlite3_int64 nMax = 0;
  char *zDir = tsColdCacheDir(pTab, &nMax);
  tsJwKey(w, "cold_reads");
  tsJwObjBegin(w);
  tsJwKeyInt(w, "objects", c->nObjOpen);
  tsJwKeyInt(w, "reads", c->nRead);
  tsJwKeyInt(w, "bytes", c->nByteRead);
  tsJwKeyInt(w, "row_groups", c->nRgDecode);
  tsJwKeyInt(w, "filter_skipped", c->nFiltSkip);
  tsJwObjEnd(w);
  tsJwKey(w, "cold_cache");
  tsJwObjBegin(w);
  tsJwKeyBool(w, "enabled", zDir!=0);
  tsJwKeyStr(w, "dir", zDir);
  tsJwKeyInt(w, "limit", zDir ? nMax : 0);
  tsJwKeyInt(w, "hits", c->cache.nHit);
  tsJwKeyInt(w, "misses", c->cache.nMiss);
  tsJwKeyInt(w, "bytes_hit", c->cache.nByteHit);
  tsJwKeyInt(w, "bytes_fetched", c->cache.nByteFetched);
  tsJwKeyInt(w, "gets", c->cache.nGet);
  tsJwKeyInt(w, "heads", c->cache.nHead);
  tsJwKeyInt(w, "lists", c->cache.nList);
  tsJwKeyInt(w, "trusted", c->cache.nTrusted);
  tsJwKeyInt(w, "bypassed", c->cache.nBypass);
  tsJwKeyInt(w, "stale", c->cache.nStale);
  tsJwKeyInt(w, "corrupt", c->cache.nCorrupt);
  tsJwKeyInt(w, "evicted", c->cache.nEvict);
  tsJwKeyInt(w, "write_errors", c->cache.nWriteErr);
  {
    int64_t nByte = 0, nFile = 0;
    if( zDir ) tsObjCacheUsage(zDir, &nByte, &nFile);
    tsJwKeyInt(w, "files", nFile);
    tsJwKeyInt(w, "bytes", nByte);
  }
  tsJwObjEnd(w);
  sqlite3_free(zDir);
}
