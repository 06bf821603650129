/*
** test_coldscan.c: the cold read side's pure planner and row-group decoder
** (ext/codec/coldscan.c) on objects that ts_maintain really wrote: readers
** opened from the manifest's footer bytes with no read, series filter and
** partition-key pruning, row-group statistics, page selection by time, and
** per-series runs that reproduce exactly the rows of every series.
*/
#include <sqlite3.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tt.h"
#include "coldscan.h"

int sqlite3_tslite_init(sqlite3*, char**, const sqlite3_api_routines*);

typedef struct FileCtx { int fd; int nRead; } FileCtx;
static int fileRead(void *pCtx, int64_t iOff, int64_t n, void *pOut){
  FileCtx *f = (FileCtx*)pCtx;
  f->nRead++;
  return pread(f->fd, pOut, (size_t)n, (off_t)iOff)==(ssize_t)n ? 0 : 1;
}

static sqlite3_int64 q64(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = 0;
  sqlite3_int64 v = -1;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    v = sqlite3_column_int64(p, 0);
  }else{
    printf("# %s: %s\n", zSql, sqlite3_errmsg(db));
  }
  sqlite3_finalize(p);
  return v;
}

int main(void){
  sqlite3 *db = 0;
  sqlite3_stmt *pObj = 0, *pSer = 0, *pCnt = 0;
  char zDir[256], zDb[512];
  int nObj = 0, bSchema = 1, bFooterNoRead = 1, bFilterAll = 1, bRuns = 1, bRows = 1;
  int bSerStats = 1, bSerPages = 1;
  int bPkPrune = 1, bRgTime = 1, nPruned = 0, nAbsentPruned = 0, nAbsent = 0;
  int64_t nRowsSeen = 0, nSel = 0, nAll = 0;
  snprintf(zDir, sizeof zDir, "/tmp/tslite-coldscan-XXXXXX");
  if( mkdtemp(zDir)==0 ){ printf("FAIL coldscan: mkdtemp\n"); return 1; }
  snprintf(zDb, sizeof zDb, "%s/x.db", zDir);
  sqlite3_auto_extension((void(*)(void))sqlite3_tslite_init);
  sqlite3_open(zDb, &db);
  TT_CHECK("coldscan setup", sqlite3_exec(db,
    "SELECT ts_debug_set_now('2024-05-04T00:30:00Z');"
    "CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, region DIMENSION, v DOUBLE,"
    " n BIGINT, s VARCHAR, memory_retention='1h', magnetic_writes=true, partition_key='host');"
    "CREATE TABLE src(time INTEGER, host TEXT, region TEXT, v REAL, n INTEGER, s TEXT);"
    "WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM r WHERE i<863),"
    " h(k) AS (SELECT 0 UNION ALL SELECT k+1 FROM h WHERE k<5)"
    " INSERT INTO src SELECT 1714521600000000000 + i*300000000000, 'h'||k,"
    "  CASE WHEN k=5 THEN NULL ELSE 'r'||(k%2) END, i*0.5+k, i*k, CASE WHEN i%7 THEN 's'||i END"
    "  FROM r, h;"
    "INSERT INTO cpu(time, host, region, v, n, s) SELECT * FROM src;"
    "SELECT ts_maintain('cpu');", 0, 0, 0)==SQLITE_OK);
  TT_EQ_I64("coldscan: every row older than the boundary is tiered",
            q64(db, "SELECT total(nrow) FROM cpu_objects"),
            q64(db, "SELECT count(*) FROM src WHERE time < 1714779000000000000"));

  sqlite3_prepare_v2(db, "SELECT key, tmin, tmax, nrow, nbyte, pk_min, pk_max, series_filter,"
                         " footer FROM cpu_objects ORDER BY id", -1, &pObj, 0);
  sqlite3_prepare_v2(db, "SELECT skey, d0, d1 FROM cpu_series ORDER BY id", -1, &pSer, 0);
  sqlite3_prepare_v2(db, "SELECT count(*) FROM src WHERE host=?1 AND time BETWEEN ?2 AND ?3",
                     -1, &pCnt, 0);
  while( pObj && sqlite3_step(pObj)==SQLITE_ROW ){
    char zPath[1200];
    FileCtx f;
    TsPqReader *pR = 0;
    TsColdObjMeta m;
    char *zErr = 0;
    int iRg, nRg;
    int64_t nObjRows = 0;
    memset(&m, 0, sizeof(m));
    m.tMin = sqlite3_column_int64(pObj, 1);
    m.tMax = sqlite3_column_int64(pObj, 2);
    m.bPk = sqlite3_column_type(pObj, 5)!=SQLITE_NULL;
    m.zPkMin = (const char*)sqlite3_column_text(pObj, 5); m.nPkMin = sqlite3_column_bytes(pObj, 5);
    m.zPkMax = (const char*)sqlite3_column_text(pObj, 6); m.nPkMax = sqlite3_column_bytes(pObj, 6);
    m.aFilter = sqlite3_column_blob(pObj, 7); m.nFilter = sqlite3_column_bytes(pObj, 7);
    snprintf(zPath, sizeof zPath, "%s.tslite/%s", zDb, (const char*)sqlite3_column_text(pObj, 0));
    f.fd = open(zPath, O_RDONLY);
    f.nRead = 0;
    nObj++;
    if( f.fd<0 ){ bSchema = 0; continue; }
    if( tsPqReaderOpenTail(&pR, fileRead, &f, sqlite3_column_int64(pObj, 4),
                           sqlite3_column_blob(pObj, 8), (size_t)sqlite3_column_bytes(pObj, 8),
                           &zErr)!=TS_PQ_OK ){
      printf("# open: %s\n", zErr ? zErr : "?");
      free(zErr);
      bSchema = 0; close(f.fd); continue;
    }
    if( f.nRead!=0 ) bFooterNoRead = 0;
    if( tsPqReaderColumnCount(pR)!=8 || strcmp(tsPqReaderColumn(pR, 3)->zName, "measure_name")
     || tsPqReaderColumn(pR, 0)->eType!=TS_PQ_TIMESTAMP_NS ) bSchema = 0;
    /* Every series: the filter never says "no" for a series the object has;
    ** an absent series is mostly pruned by the filter or the pk range. */
    sqlite3_reset(pSer);
    while( sqlite3_step(pSer)==SQLITE_ROW ){
      const unsigned char *aKey = sqlite3_column_blob(pSer, 0);
      int nKey = sqlite3_column_bytes(pSer, 0);
      const char *zHost = (const char*)sqlite3_column_text(pSer, 1);
      uint64_t h = tsColdSeriesHash(aKey, nKey);
      int bMay = tsColdObjMayHoldSeries(&m, h, zHost, (int)strlen(zHost), 0);
      int bHas = 0;
      nRg = tsPqReaderRowGroupCount(pR);
      for(iRg=0; iRg<nRg; iRg++){
        TsColdRg *pRg = 0;
        if( tsColdRgDecode(pR, iRg, 2, 8, INT64_MIN, INT64_MAX, &pRg, &zErr)!=TS_PQ_OK ){
          printf("# decode: %s\n", zErr ? zErr : "?"); free(zErr); zErr = 0; bRuns = 0; continue;
        }
        if( tsColdRgFind(pRg, aKey, nKey) ){
          const TsColdRun *pFull = tsColdRgFind(pRg, aKey, nKey), *pPart;
          const char *azDim[2];
          TsPqRange aRange[4];
          TsColdRg *pOne = 0;
          int nRange;
          bHas = 1;
          if( !tsColdRgMayHoldPk(pR, iRg, 1, zHost, (int)strlen(zHost), 0) ) bPkPrune = 0;
          azDim[0] = zHost;
          azDim[1] = (const char*)sqlite3_column_text(pSer, 2);
          if( !tsColdRgMayHoldSeries(pR, iRg, 2, azDim, "metrics") ) bSerStats = 0;
          /* The series' own pages hold exactly its rows. */
          nRange = tsColdSeriesRanges(2, azDim, "metrics", INT64_MIN, INT64_MAX, aRange);
          if( nRange!=(azDim[1] ? 3 : 2) ) bSerPages = 0;   /* no time bound */
          if( tsColdRgDecodeSel(pR, iRg, 2, 8, aRange, nRange, -1, &pOne, &zErr)!=TS_PQ_OK ){
            free(zErr); zErr = 0; bSerPages = 0;
          }else{
            pPart = tsColdRgFind(pOne, aKey, nKey);
            if( pPart==0 || pPart->iEnd-pPart->iStart!=pFull->iEnd-pFull->iStart
             || memcmp(pOne->aCol[0].aInt+pPart->iStart, pRg->aCol[0].aInt+pFull->iStart,
                       sizeof(int64_t)*(size_t)(pFull->iEnd-pFull->iStart)) ){
              bSerPages = 0;
            }
            if( pOne->nRow>pRg->nRow ) bSerPages = 0;
            tsColdRgFree(pOne);
          }
          pOne = 0;
          if( tsColdRgDecodeSel(pR, iRg, 2, 8, aRange, nRange, 0, &pOne, &zErr)!=TS_PQ_OK || pOne ){
            bSerPages = 0;
          }
          tsColdRgFree(pOne);
        }
        tsColdRgFree(pRg);
      }
      if( bHas && !bMay ) bFilterAll = 0;
      if( !bHas ){ nAbsent++; if( !bMay ) nAbsentPruned++; }
    }
    /* Runs: every row of the object in exactly one run, matching the source. */
    nRg = tsPqReaderRowGroupCount(pR);
    for(iRg=0; iRg<nRg; iRg++){
      TsColdRg *pRg = 0;
      TsColdQuery q;
      int r;
      if( tsColdRgDecode(pR, iRg, 2, 8, INT64_MIN, INT64_MAX, &pRg, &zErr)!=TS_PQ_OK ){
        free(zErr); zErr = 0; bRuns = 0; continue;
      }
      if( tsColdRgColumn(pR, pRg, 4, &zErr)!=TS_PQ_OK || pRg->aCol[4].aDbl==0 ){
        free(zErr); zErr = 0; bRuns = 0;
      }
      for(r=0; r<pRg->nRun; r++){
        const TsColdRun *pRun = &pRg->aRun[r];
        const int64_t *aT = pRg->aCol[0].aInt;
        const char *zHost = (const char*)pRun->aKey + 2;   /* 0x01 len bytes */
        int nHost = pRun->aKey[1];
        char zH[16];
        int64_t i;
        snprintf(zH, sizeof zH, "%.*s", nHost, zHost);
        for(i=pRun->iStart+1; i<pRun->iEnd; i++) if( aT[i]<=aT[i-1] ) bRuns = 0;
        sqlite3_bind_text(pCnt, 1, zH, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(pCnt, 2, aT[pRun->iStart]);
        sqlite3_bind_int64(pCnt, 3, aT[pRun->iEnd-1]);
        if( sqlite3_step(pCnt)!=SQLITE_ROW || sqlite3_column_int64(pCnt, 0)!=pRun->iEnd-pRun->iStart ){
          bRows = 0;
        }
        sqlite3_reset(pCnt);
        /* v = i*0.5 + k with time = t0 + i*5min */
        for(i=pRun->iStart; i<pRun->iEnd; i++){
          int64_t k = zH[1]-'0', j = (aT[i]-1714521600000000000LL)/300000000000LL;
          if( pRg->aCol[4].aDbl && pRg->aCol[4].aDbl[i]!=j*0.5+(double)k ) bRows = 0;
        }
        nObjRows += pRun->iEnd-pRun->iStart;
      }
      /* Row-group statistics: a time range after the object prunes it. */
      memset(&q, 0, sizeof(q));
      q.nDim = 2; q.iPartDim = 0;
      q.tLo = m.tMax+1; q.tHi = INT64_MAX;
      if( tsColdRgMayMatch(pR, iRg, &q) ) bRgTime = 0;
      q.tLo = m.tMin; q.tHi = m.tMax;
      if( !tsColdRgMayMatch(pR, iRg, &q) ) bRgTime = 0;
      /* Page selection by time loses no row of the range. */
      {
        int64_t lo = m.tMin, hi = m.tMin+3600000000000LL, i;
        for(i=0; i<pRg->nRow; i++) if( pRg->aCol[0].aInt[i]>=lo && pRg->aCol[0].aInt[i]<=hi ) nAll++;
        tsColdRgFree(pRg);
        pRg = 0;
        if( tsColdRgDecode(pR, iRg, 2, 8, lo, hi, &pRg, &zErr)==TS_PQ_OK ){
          for(i=0; i<pRg->nRow; i++) if( pRg->aCol[0].aInt[i]>=lo && pRg->aCol[0].aInt[i]<=hi ) nSel++;
          tsColdRgFree(pRg);
        }else{
          free(zErr); zErr = 0; bRuns = 0;
        }
      }
    }
    if( nObjRows!=sqlite3_column_int64(pObj, 3) ) bRows = 0;
    nRowsSeen += nObjRows;
    /* Object-level pruning with sets. */
    {
      TsColdQuery q;
      TsColdSet set;
      char *az[2]; int an[2];
      memset(&q, 0, sizeof(q));
      q.nDim = 2; q.iPartDim = 0; q.tLo = INT64_MIN; q.tHi = INT64_MAX;
      az[0] = "nohost"; an[0] = 6;
      set.iCol = 0; set.nVal = 1; set.azVal = az; set.anVal = an;
      q.nSet = 1; q.aSet = &set;
      if( !tsColdObjMayMatch(&q, &m) ) nPruned++;
      az[1] = (char*)m.zPkMin; an[1] = m.nPkMin;
      set.nVal = 2;
      if( !tsColdObjMayMatch(&q, &m) ) bPkPrune = 0;
      q.tLo = m.tMax+1;
      if( tsColdObjMayMatch(&q, &m) ) bRgTime = 0;
    }
    tsPqReaderFree(pR);
    close(f.fd);
  }
  TT_CHECK("coldscan: several objects (days x partition buckets)", nObj>=6);
  TT_CHECK("coldscan: objects open from the manifest footer with no read", bFooterNoRead);
  TT_CHECK("coldscan: object schema as cold-format.md says", bSchema);
  TT_CHECK("coldscan: the series filter keeps every series an object holds", bFilterAll);
  TT_CHECK("coldscan: an absent series is pruned by filter or pk range (>=90%)",
           nAbsent>0 && nAbsentPruned*10>=nAbsent*9);
  TT_CHECK("coldscan: runs are per series, times strictly increasing", bRuns);
  TT_CHECK("coldscan: run rows and values equal the source rows", bRows);
  TT_EQ_I64("coldscan: runs cover every tiered row once", nRowsSeen,
            q64(db, "SELECT total(nrow) FROM cpu_objects"));
  TT_CHECK("coldscan: partition key range and stats keep the pk's objects", bPkPrune);
  TT_EQ_I64("coldscan: a dimension value in no object prunes every object", nPruned, nObj);
  TT_CHECK("coldscan: time statistics prune row groups and objects", bRgTime);
  TT_CHECK("coldscan: dimension statistics keep every series a row group holds", bSerStats);
  TT_CHECK("coldscan: a decode of one series' pages holds exactly its rows; nMaxRow refuses", bSerPages);
  TT_CHECK("coldscan: a time-range decode keeps every row of the range", nSel>0 && nSel==nAll);
  sqlite3_finalize(pObj);
  sqlite3_finalize(pSer);
  sqlite3_finalize(pCnt);
  sqlite3_close(db);
  return tt_done();
}
