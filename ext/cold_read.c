/*
** cold_read.c: the cold tier's row source for the scan (tsSourceCold, the
** second implementation of ext/source.h after the memory tier): a SELECT on
** a timeseries table reads the Parquet objects that ts_maintain (maintain.c)
** tiered, merged by the scan's lanes with the memory tier.
**
**   SELECT ts_maintain('cpu');              -- rows move to objects
**   SELECT * FROM cpu WHERE hostname='h1';  -- and are still returned
**
** HOW IT WORKS (object format: docs/internals/cold-format.md; pruning and
** row-group decoding: ext/codec/coldscan.c)
**
** xOpen reads the manifest rows (<t>_objects) whose [tmin, tmax] overlaps
** the scan's time range, keeping each one's key, partition key range,
** series filter and footer bytes.  Planning needs no GET: the Parquet
** reader of an object is opened from the footer bytes of its manifest row
** (tsPqReaderOpenTail), only when a series may be in the object, and its
** schema is checked against the table's once; the parsed footer, its page
** index and series_runs are kept per connection (cold_meta.c), so a later
** scan of the same object parses and reads none of them again.
**
** xSeriesRange and xBlocks prune objects per series with the series filter
** ('S' element of the series key) and pk_min/pk_max, then row groups with
** their time and partition-key statistics.  A row group that survives is
** decoded once per cursor (ColdEnt, kept in a per-source cache bounded by
** COLD_CACHE_BYTES, least recently used first out, pinned while a block of
** it is open): the page index selects the pages of the scan's time range,
** times are decoded, the dimension columns are decoded only to split the
** rows into per-series runs, and measures and version are decoded on first
** request.  A block is the run of one series inside one row group, clipped
** to the lane's [lo, hi]; its rows are slices of the row group's arrays, so
** opening a block copies nothing.
**
** xHint (source.h rule 10) narrows the decodes to what the query can use:
** with series_runs, a row group decode covers only the runs of the scan's
** series; under row filters on measures, a filter measure is decoded only
** on pages whose statistics may pass and every other fixed-width measure
** only for the rows that pass (coldEntKeep), the rest left NULL.
**
** Every byte of an object is fetched with a ranged GET of the object store
** (s3/objstore.h: retries, client-side encryption), on s3:// and file://
** alike; the reader asks only for the column chunks (or pages) it decodes.
**
** Retention at scan time: rows older than now - memory_retention -
** magnetic_retention (tsEnvNow, so ts_debug_set_now pins it) are never
** returned, even before ts_maintain has dropped their objects.
*/
#include "source.h"
#include "cold_meta.h"
#include "coldscan.h"
#include "parquet.h"
#include "objstore.h"
#include "tablestore.h"
#include "tshash.h"
#include <stdlib.h>
#include <string.h>

#define COLD_CACHE_BYTES  (64*1024*1024)   /* decoded row groups kept per scan */
#define COLD_ROWID_BASE   ((sqlite3_int64)1<<62)

/* A decoded row group in the cache. */
typedef struct ColdEnt ColdEnt;
struct ColdEnt {
  TsColdRg *pRg;             /* (owned) */
  TsChunkCol *aMeas;         /* per measure, rows of the whole row group;
                             ** valid when abMeas[i] (owned array) */
  unsigned char *abMeas;     /* (owned) */
  const char ***aazText;     /* per measure: VARCHAR pointers (owned) */
  int **aanText;             /* per measure: VARCHAR lengths (owned) */
  int nPin;                  /* open blocks using it */
  sqlite3_uint64 iUse;       /* LRU stamp */
  size_t nByte;              /* bytes counted in the cache */
  struct ColdObj *pObj;      /* the object */
  int iRg;                   /* the row group */
  sqlite3_int64 iSid;        /* 0: every page of the time range; else only
                             ** the pages that may hold series iSid */
  int64_t *aPass;            /* under row filters: the decoded-row intervals
                             ** that pass every filter, 2 * nPass values
                             ** (malloc'd; made once, for every measure
                             ** without a filter of its own: coldEntKeep) */
  int nPass;
  int bPass;                 /* aPass/nPass are made */
  ColdEnt *pNext;            /* next entry of the source (ColdSource.pEnt) */
};

/* One manifest row kept by a scan. */
typedef struct ColdObj ColdObj;
struct ColdObj {
  sqlite3_int64 iId;         /* manifest id: the block tie order (iSeq) */
  char *zKey;                /* object key (owned) */
  sqlite3_int64 nByte;       /* object size */
  int iBucket;               /* bucket=<b> of the key, -1 if it has none */
  TsColdObjMeta m;           /* planning facts; pointers into the fields below */
  char *zPkMin, *zPkMax;     /* (owned) */
  unsigned char *aFilter;    /* series filter (owned) */
  unsigned char *aFooter;    /* footer bytes (owned) */
  int nFooter;
  unsigned char *aRuns;      /* series_runs bytes or NULL (owned) */
  int nRuns;
  char *zEtag;               /* the manifest's ETag, or NULL (owned) */
  TsColdRunIdx *pIdx;        /* parsed series_runs (with pReader; owned), NULL:
                             ** none, the dimension columns give the runs */
  int64_t *aRgStart;         /* nRg+1: first row of each row group (owned) */
  TsColdMetaEnt *pMeta;      /* when set, pReader, pIdx, aRgT and aRgStart
                             ** belong to it (borrowed for this scan) */
  TsPqReader *pReader;       /* opened on first use (owned) */
  int nRg;                   /* row groups (valid with pReader) */
  int64_t *aRgT;             /* per row group: min, max time (owned) */
  ColdEnt **apEnt;           /* per row group: its full decode or NULL */
  sqlite3_int64 *aAskSid;    /* per row group: last series that asked (owned) */
  int *anAsk;                /* per row group: series that asked (owned) */
  unsigned char *abWant;     /* per run of pIdx: a series of the scan's hint
                             ** (owned); NULL: every run counts */
  int bWantDone;             /* abWant was computed (or left NULL) */
  int bMark;                 /* has the ts_write_mode column (after version) */
};

/* A listed block: iRef indexes ColdSource.aBlk. */
typedef struct ColdBlk ColdBlk;
struct ColdBlk {
  int iObj, iRg;
  sqlite3_int64 iSid;        /* the decode it was listed from (ColdEnt.iSid) */
};

typedef struct ColdSource ColdSource;
struct ColdSource {
  TsSource base;             /* base class: must be first */
  TsScanSpec spec;           /* time range (clipped by retention), direction */
  int nCol;                  /* table columns incl. version */
  int iPkCol;                /* file column of the partition key */
  ColdObj *aObj;             /* manifest rows overlapping the range (owned) */
  int nObj;
  TsObjStore *pStore;        /* opened on first read (owned) */
  int bCacheStarted;         /* coldCacheStart ran */
  TsBuf rd;                  /* scratch of ranged reads */
  char *zReadErr;            /* message of the last failed read (malloc) */
  ColdObj *pReadObj;         /* object being read (for messages) */
  ColdEnt *pEnt;             /* every cached decode (owned list) */
  size_t nCache;             /* bytes of decoded row groups */
  sqlite3_uint64 iClock;     /* LRU clock */
  ColdBlk *aBlk;             /* listed blocks (owned) */
  int nBlk, nBlkAlloc;
  TsSeries *const *apWant;   /* the scan's series (xHint; the cursor's) */
  int nWant;                 /* 0: no hint, any series may be asked */
  const TsMeasFilter *aFilt; /* the scan's row filters (xHint; the cursor's) */
  int nFilt;
  TsSeries **apWantHash;     /* apWant by key hash, open addressing, made
                             ** when an object has no more runs than the
                             ** scan has series (owned) */
  int nWantHash;             /* slots, a power of two */
};

/* An open block. */
typedef struct ColdBlock ColdBlock;
struct ColdBlock {
  TsBlock base;              /* base class: must be first */
  ColdEnt *pEnt;             /* pinned */
  ColdObj *pObj;
  int64_t iStart;            /* first row in the row group */
  TsChunkCol *aCol;          /* per measure slices (owned array) */
  unsigned char *abCol;      /* (owned) */
  unsigned char *aMark;      /* write marks of the rows, when asked (owned) */
};

/**************************************************************************
** Store and ranged reads.
*/
int tsTableColdStore(TsTable *pTab, TsObjStore **ppStore, char **pzErr){
  const TsTableSchema *s = &pTab->pub;
  TsObjConfig cfg;
  char *zUri = 0, *zErr = 0;
  int rc = SQLITE_OK;
  *ppStore = 0;
  memset(&cfg, 0, sizeof(cfg));
  if( s->zStorage ){
    zUri = sqlite3_mprintf("%s", s->zStorage);
  }else{
    const char *zFile = sqlite3_db_filename(pTab->db, pTab->zDb);
    if( zFile==0 || zFile[0]==0 ){
      tsErrSet(pzErr, "timeseries %s: the manifest lists cold objects but the database has no "
               "storage directory (in memory or temporary, and no storage option)", pTab->zName);
      return SQLITE_ERROR;
    }
    zUri = sqlite3_mprintf("file://%s.tslite", zFile);
  }
  if( zUri==0 ) return SQLITE_NOMEM;
  tsTableStoreConfig(s, &cfg);
  if( tsObjOpen(zUri, &cfg, ppStore, &zErr)!=TS_OBJ_OK ){
    tsErrSet(pzErr, "timeseries %s: cannot open storage '%s': %s", pTab->zName, zUri,
             zErr ? zErr : "unknown error");
    rc = SQLITE_ERROR;
  }
  free(zErr);
  sqlite3_free(zUri);
  return rc;
}

static int coldStoreOpen(ColdSource *p){
  char *zErr = 0;
  int rc;
  if( p->pStore ) return SQLITE_OK;
  rc = tsTableColdStore(p->base.pTab, &p->pStore, &zErr);
  if( rc && zErr ) tsTabErr(p->base.pTab, "%s", zErr);
  sqlite3_free(zErr);
  return rc;
}

/* TsPqReadFn: bytes [iOff, iOff+n) of the object being read. */
static int coldRead(void *pCtx, int64_t iOff, int64_t n, void *pOut){
  ColdSource *p = (ColdSource*)pCtx;
  ColdObj *o = p->pReadObj;
  char *zErr = 0;
  int rc;
  tsBufReset(&p->rd);
  rc = tsObjGet(p->pStore, o->zKey, iOff, n, &p->rd, &zErr);
  if( rc==TS_OBJ_OK && (p->rd.bErr || (int64_t)p->rd.n!=n) ){
    free(zErr);
    zErr = 0;
    rc = TS_OBJ_ERROR;
    free(p->zReadErr);
    p->zReadErr = strdup(p->rd.bErr ? "out of memory" : "short read (object changed or truncated)");
    return 1;
  }
  if( rc!=TS_OBJ_OK ){
    free(p->zReadErr);
    p->zReadErr = zErr;
    return 1;
  }
  memcpy(pOut, p->rd.a, (size_t)n);
  p->base.pTab->cold.nRead++;
  p->base.pTab->cold.nByteRead += n;
  return 0;
}

/* Turn a Parquet error on object o into the table's message and rc. */
static int coldPqErr(ColdSource *p, ColdObj *o, int rcPq, const char *zMsg){
  TsTable *pTab = p->base.pTab;
  if( rcPq==TS_PQ_IOERR && p->zReadErr ){
    tsTabErr(pTab, "timeseries %s: reading cold object %s: %s", pTab->zName, o->zKey, p->zReadErr);
    return SQLITE_IOERR;
  }
  if( rcPq==TS_PQ_NOMEM ) return SQLITE_NOMEM;
  tsTabErr(pTab, "timeseries %s: cold object %s: %s", pTab->zName, o->zKey,
           zMsg && zMsg[0] ? zMsg : "unreadable");
  return rcPq==TS_PQ_CORRUPT || rcPq==TS_PQ_ERROR ? SQLITE_CORRUPT_VTAB : SQLITE_ERROR;
}

/**************************************************************************
** Objects.
*/
static void coldEntFree(ColdSource *p, ColdEnt *e, int nMeas){
  int i;
  if( e==0 ) return;
  p->nCache -= e->nByte;
  tsColdRgFree(e->pRg);
  for(i=0; i<nMeas; i++){
    if( e->aazText ) sqlite3_free((void*)e->aazText[i]);
    if( e->aanText ) sqlite3_free(e->aanText[i]);
  }
  sqlite3_free(e->aazText);
  sqlite3_free(e->aanText);
  sqlite3_free(e->aMeas);
  sqlite3_free(e->abMeas);
  free(e->aPass);
  sqlite3_free(e);
}

static void coldObjClear(ColdSource *p, ColdObj *o){
  if( o->pMeta ){
    /* back to the connection's cache (cold_meta.h) */
    tsColdMetaRelease(p->base.pTab, o->pMeta);
    o->pReader = 0; o->pIdx = 0; o->aRgT = 0; o->aRgStart = 0;
  }
  sqlite3_free(o->apEnt);
  sqlite3_free(o->abWant);
  sqlite3_free(o->aAskSid);
  sqlite3_free(o->anAsk);
  sqlite3_free(o->aRgT);
  tsPqReaderFree(o->pReader);
  tsColdRunIdxFree(o->pIdx);
  sqlite3_free(o->aRuns);
  sqlite3_free(o->aRgStart);
  sqlite3_free(o->zKey);
  sqlite3_free(o->zEtag);
  sqlite3_free(o->zPkMin);
  sqlite3_free(o->zPkMax);
  sqlite3_free(o->aFilter);
  sqlite3_free(o->aFooter);
  memset(o, 0, sizeof(*o));
}

/* The Parquet kind a measure of type eType is stored as. */
static int coldPqKind(int eType){
  switch( eType ){
    case TS_TYPE_DOUBLE:    return TS_PQ_DOUBLE;
    case TS_TYPE_BIGINT:    return TS_PQ_INT64;
    case TS_TYPE_VARCHAR:   return TS_PQ_STRING;
    case TS_TYPE_BOOLEAN:   return TS_PQ_BOOLEAN;
    case TS_TYPE_TIMESTAMP: return TS_PQ_TIMESTAMP_NS;
  }
  return -1;
}

/* Check that object o's columns are the table's (names, kinds, order). */
static int coldSchemaCheck(ColdSource *p, ColdObj *o){
  TsTable *pTab = p->base.pTab;
  const TsSchema *s = &pTab->s;
  int nCol = tsPqReaderColumnCount(o->pReader), i;
  const char *zFmt = tsPqReaderKeyValue(o->pReader, "tslite.cold_format");
  if( zFmt==0 || strcmp(zFmt, "1")!=0 ){
    tsTabErr(pTab, "timeseries %s: cold object %s: format '%s' is not 1", pTab->zName, o->zKey,
             zFmt ? zFmt : "(none)");
    return SQLITE_CORRUPT_VTAB;
  }
  if( nCol==p->nCol+1 ){
    /* Write marks (ext/recrule.h): an optional last column. */
    const TsPqColumnInfo *c = tsPqReaderColumn(o->pReader, nCol-1);
    if( c && strcmp(c->zName, "ts_write_mode")==0 && c->eType==TS_PQ_INT64 ){
      o->bMark = 1;
      nCol--;
    }
  }
  if( nCol!=p->nCol ){
    tsTabErr(pTab, "timeseries %s: cold object %s has %d columns, the table %d", pTab->zName,
             o->zKey, nCol, p->nCol);
    return SQLITE_CORRUPT_VTAB;
  }
  for(i=0; i<nCol; i++){
    const TsPqColumnInfo *c = tsPqReaderColumn(o->pReader, i);
    const char *zWant;
    int eWant;
    if( i==0 ){ zWant = "time"; eWant = TS_PQ_TIMESTAMP_NS; }
    else if( i<=s->nDim ){ zWant = s->azDim[i-1]; eWant = TS_PQ_STRING; }
    else if( i==s->nDim+1 ){ zWant = "measure_name"; eWant = TS_PQ_STRING; }
    else if( i<nCol-1 ){
      zWant = s->azMeas[i-2-s->nDim];
      eWant = coldPqKind(s->aMeasType[i-2-s->nDim]);
    }else{ zWant = "version"; eWant = TS_PQ_INT64; }
    if( c==0 || strcmp(c->zName, zWant)!=0 || c->eType!=eWant ){
      tsTabErr(pTab, "timeseries %s: cold object %s: column %d is '%s', expected '%s' of the "
               "table's type", pTab->zName, o->zKey, i, c ? c->zName : "?", zWant);
      return SQLITE_CORRUPT_VTAB;
    }
  }
  return SQLITE_OK;
}

/* On the scan's first object: s3:// reads go through the local cache
** (cold_cache.c, s3/objcache.c).  An object whose manifest row has an ETag
** is validated by it with no request (committed objects never change under
** their key); the others are validated with one listing of their keys'
** common prefix instead of a HEAD per object. */
static void coldCacheStart(ColdSource *p){
  const char *z0 = 0;
  size_t nPre = 0;
  sqlite3_int64 nMax = 0;
  char *zPre, *zDir;
  int i, nLeft = 0;
  p->bCacheStarted = 1;
  zDir = tsColdCacheDir(p->base.pTab, &nMax);
  if( zDir==0 ) return;
  i = tsObjCacheEnable(p->pStore, zDir, nMax, p->base.pTab->pub.zS3Endpoint);
  sqlite3_free(zDir);
  if( i!=0 ) return;
  for(i=0; i<p->nObj; i++){
    const char *z = p->aObj[i].zKey;
    size_t j = 0;
    if( tsObjCacheTrust(p->pStore, z, p->aObj[i].zEtag, p->aObj[i].nByte)==0 ) continue;
    if( nLeft++==0 ){ z0 = z; nPre = strlen(z0); continue; }
    while( j<nPre && z[j]==z0[j] ) j++;
    nPre = j;
  }
  if( nLeft<2 ) return;
  zPre = sqlite3_mprintf("%.*s", (int)nPre, z0);
  if( zPre ) tsObjCacheValidate(p->pStore, zPre, 1000 + 4*p->nObj);
  sqlite3_free(zPre);
}

/* Open object o's reader from its footer bytes (no read). */
static int coldObjOpen(ColdSource *p, ColdObj *o){
  char *zErr = 0;
  int rc, i;
  if( o->pReader ) return SQLITE_OK;
  rc = coldStoreOpen(p);
  if( rc ) return rc;
  if( !p->bCacheStarted ) coldCacheStart(p);
  p->pReadObj = o;
  if( o->pMeta ){
    /* Parsed by an earlier scan of this connection (taken by coldOpen). */
    TsColdMetaEnt *m = o->pMeta;
    o->pReader = m->pReader;
    tsPqReaderSetSource(o->pReader, coldRead, p);
    o->pIdx = m->pIdx;
    o->aRgT = m->aRgT;
    o->aRgStart = m->aRgStart;
    o->nRg = m->nRg;
    p->base.pTab->cold.nObjOpen++;
    rc = coldSchemaCheck(p, o);
    if( rc ) return rc;
    o->apEnt = sqlite3_malloc64(sizeof(ColdEnt*)*(size_t)(o->nRg+1));
    o->aAskSid = sqlite3_malloc64(sizeof(sqlite3_int64)*(size_t)(o->nRg+1));
    o->anAsk = sqlite3_malloc64(sizeof(int)*(size_t)(o->nRg+1));
    if( o->apEnt==0 || o->aAskSid==0 || o->anAsk==0 ) return SQLITE_NOMEM;
    memset(o->apEnt, 0, sizeof(ColdEnt*)*(size_t)(o->nRg+1));
    memset(o->aAskSid, 0, sizeof(sqlite3_int64)*(size_t)(o->nRg+1));
    memset(o->anAsk, 0, sizeof(int)*(size_t)(o->nRg+1));
    return SQLITE_OK;
  }
  if( o->aFooter && o->nFooter>8 ){
    rc = tsPqReaderOpenTail(&o->pReader, coldRead, p, o->nByte, o->aFooter, (size_t)o->nFooter, &zErr);
  }else{
    rc = tsPqReaderOpen(&o->pReader, coldRead, p, o->nByte, &zErr);
  }
  if( rc!=TS_PQ_OK ){
    rc = coldPqErr(p, o, rc, zErr);
    free(zErr);
    return rc;
  }
  p->base.pTab->cold.nObjOpen++;
  rc = coldSchemaCheck(p, o);
  if( rc ) return rc;
  o->nRg = tsPqReaderRowGroupCount(o->pReader);
  o->aRgT = sqlite3_malloc64(sizeof(int64_t)*2*(size_t)(o->nRg+1));
  o->apEnt = sqlite3_malloc64(sizeof(ColdEnt*)*(size_t)(o->nRg+1));
  o->aAskSid = sqlite3_malloc64(sizeof(sqlite3_int64)*(size_t)(o->nRg+1));
  o->anAsk = sqlite3_malloc64(sizeof(int)*(size_t)(o->nRg+1));
  o->aRgStart = sqlite3_malloc64(sizeof(int64_t)*(size_t)(o->nRg+1));
  if( o->aRgT==0 || o->apEnt==0 || o->aAskSid==0 || o->anAsk==0 || o->aRgStart==0 ) return SQLITE_NOMEM;
  o->aRgStart[0] = 0;
  for(i=0; i<o->nRg; i++) o->aRgStart[i+1] = o->aRgStart[i] + tsPqReaderRowGroupRows(o->pReader, i);
  /* series_runs: the runs without decoding any dimension column (an
  ** unreadable one is ignored: the dimension columns still give them). */
  if( o->aRuns ) o->pIdx = tsColdRunIdxParse(o->aRuns, o->nRuns, o->aRgStart[o->nRg]);
  memset(o->apEnt, 0, sizeof(ColdEnt*)*(size_t)(o->nRg+1));
  memset(o->aAskSid, 0, sizeof(sqlite3_int64)*(size_t)(o->nRg+1));
  memset(o->anAsk, 0, sizeof(int)*(size_t)(o->nRg+1));
  for(i=0; i<o->nRg; i++){
    TsPqStats st;
    o->aRgT[2*i] = o->m.tMin;
    o->aRgT[2*i+1] = o->m.tMax;
    if( tsPqReaderChunkStats(o->pReader, i, 0, &st)==TS_PQ_OK && st.bMinMax ){
      o->aRgT[2*i] = st.min.i;
      o->aRgT[2*i+1] = st.max.i;
    }
  }
  o->pMeta = tsColdMetaAdd(p->base.pTab, o->zKey, o->nByte, o->aFooter, o->nFooter, o->aRuns,
                           o->nRuns, o->pReader, o->pIdx, o->aRgT, o->aRgStart, o->nRg);
  return SQLITE_OK;
}

/* Evict unpinned decodes, least recently used first, until the cache is
** under budget. */
static void coldCacheTrim(ColdSource *p){
  while( p->nCache>COLD_CACHE_BYTES ){
    ColdEnt **pp, **ppBest = 0, *e;
    for(pp=&p->pEnt; *pp; pp=&(*pp)->pNext){
      if( (*pp)->nPin==0 && (ppBest==0 || (*pp)->iUse<(*ppBest)->iUse) ) ppBest = pp;
    }
    if( ppBest==0 ) return;
    e = *ppBest;
    *ppBest = e->pNext;
    if( e->iSid==0 ) e->pObj->apEnt[e->iRg] = 0;
    coldEntFree(p, e, p->base.pTab->s.nMeas);
  }
}

/* A cached decode of row group iRg of object o: the full one (iSid 0) or
** the one of series iSid's pages; NULL if none. */
static ColdEnt *coldEntFind(ColdSource *p, ColdObj *o, int iRg, sqlite3_int64 iSid){
  ColdEnt *e;
  if( iSid==0 ) return o->apEnt[iRg];
  for(e=p->pEnt; e; e=e->pNext){
    if( e->pObj==o && e->iRg==iRg && e->iSid==iSid ) return e;
  }
  return 0;
}

/* Decode row group iRg of object o from its series_runs: the rows of
** series pS in it, or (pS NULL) of every series, in the scan's time range. */
static int coldEntDecodeIdx(ColdSource *p, ColdObj *o, int iRg, const TsSeries *pS,
                            TsColdRg **ppRg, char **pzErr){
  const TsColdRunIdx *x = o->pIdx;
  int64_t r0 = o->aRgStart[iRg], r1 = o->aRgStart[iRg+1];
  TsColdRunSpec one, *aSpec = &one;
  TsPqRange range;
  int nSpec = 0, i, lo, hi, rc;
  memset(&range, 0, sizeof(range));
  range.iCol = 0;
  range.bMin = p->spec.tLo>INT64_MIN; range.min.i = p->spec.tLo;
  range.bMax = p->spec.tHi<INT64_MAX; range.max.i = p->spec.tHi;
  if( pS ){
    i = tsColdRunIdxFind(x, pS->aKey, pS->nKey);
    if( i>=0 && x->aStart[i]<r1 && x->aStart[i+1]>r0 ){
      one.iStart = (x->aStart[i]>r0 ? x->aStart[i] : r0) - r0;
      one.iEnd = (x->aStart[i+1]<r1 ? x->aStart[i+1] : r1) - r0;
      one.aKey = x->aKey[i]; one.nKey = x->anKey[i];
      nSpec = 1;
    }
  }else{
    /* the runs overlapping [r0, r1): binary search for the first */
    lo = 0; hi = x->nRun;
    while( lo<hi ){ int m = (lo+hi)/2; if( x->aStart[m+1]<=r0 ) lo = m+1; else hi = m; }
    for(hi=lo; hi<x->nRun && x->aStart[hi]<r1; hi++){}
    aSpec = sqlite3_malloc64(sizeof(TsColdRunSpec)*(size_t)(hi-lo+1));
    if( aSpec==0 ) return SQLITE_NOMEM;
    for(i=lo; i<hi; i++){
      TsColdRunSpec *q;
      if( o->abWant && !o->abWant[i] ) continue;
      q = &aSpec[nSpec++];
      q->iStart = (x->aStart[i]>r0 ? x->aStart[i] : r0) - r0;
      q->iEnd = (x->aStart[i+1]<r1 ? x->aStart[i+1] : r1) - r0;
      q->aKey = x->aKey[i]; q->nKey = x->anKey[i];
    }
  }
  rc = tsColdRgDecodeRuns(o->pReader, iRg, p->nCol, &range, (range.bMin || range.bMax) ? 1 : 0,
                          0, r1-r0, aSpec, nSpec, ppRg, pzErr);
  if( aSpec!=&one ) sqlite3_free(aSpec);
  return rc;
}

/* Decode row group iRg of object o: every page of the scan's time range
** (pS NULL), or only the pages that may hold series pS. */
static int coldEntDecode(ColdSource *p, ColdObj *o, int iRg, const TsSeries *pS, ColdEnt **ppEnt){
  TsTable *pTab = p->base.pTab;
  int nMeas = pTab->s.nMeas, nDim = pTab->s.nDim, rc, nRange;
  TsPqRange aStack[8], *aRange = aStack;
  ColdEnt *e;
  char *zErr = 0;
  *ppEnt = 0;
  e = sqlite3_malloc64(sizeof(ColdEnt));
  if( e==0 ) return SQLITE_NOMEM;
  memset(e, 0, sizeof(*e));
  e->aMeas = sqlite3_malloc64(sizeof(TsChunkCol)*(size_t)(nMeas+1));
  e->abMeas = sqlite3_malloc64((size_t)nMeas+1);
  e->aazText = sqlite3_malloc64(sizeof(char**)*(size_t)(nMeas+1));
  e->aanText = sqlite3_malloc64(sizeof(int*)*(size_t)(nMeas+1));
  if( nDim+2>(int)(sizeof(aStack)/sizeof(aStack[0])) ){
    aRange = sqlite3_malloc64(sizeof(TsPqRange)*(size_t)(nDim+2));
  }
  if( e->aMeas==0 || e->abMeas==0 || e->aazText==0 || e->aanText==0 || aRange==0 ){
    if( aRange!=aStack ) sqlite3_free(aRange);
    coldEntFree(p, e, 0);
    return SQLITE_NOMEM;
  }
  memset(e->abMeas, 0, (size_t)nMeas+1);
  memset(e->aazText, 0, sizeof(char**)*(size_t)(nMeas+1));
  memset(e->aanText, 0, sizeof(int*)*(size_t)(nMeas+1));
  e->pObj = o;
  e->iRg = iRg;
  e->iSid = pS ? pS->iId : 0;
  if( pS ){
    nRange = tsColdSeriesRanges(nDim, (const char*const*)pS->azDim, pS->zMName,
                                p->spec.tLo, p->spec.tHi, aRange);
  }else{
    nRange = tsColdSeriesRanges(0, 0, 0, p->spec.tLo, p->spec.tHi, aRange);
    if( nRange>1 ) nRange = 1;    /* time only */
    if( nRange==1 && aRange[0].iCol!=0 ) nRange = 0;
  }
  p->pReadObj = o;
  if( o->pIdx ){
    /* series_runs: only the time pages of the series' rows (or of the whole
    ** row group), no dimension column. */
    rc = coldEntDecodeIdx(p, o, iRg, pS, &e->pRg, &zErr);
  }else
  /* A series' pages are worth a decode of their own only when they are at
  ** most a quarter of the row group; else decode it whole, once. */
  rc = tsColdRgDecodeSel(o->pReader, iRg, nDim, p->nCol + o->bMark, aRange, nRange,
                         pS ? tsPqReaderRowGroupRows(o->pReader, iRg)/4 : -1, &e->pRg, &zErr);
  if( rc==TS_PQ_OK && e->pRg==0 ){
    if( aRange!=aStack ) sqlite3_free(aRange);
    coldEntFree(p, e, nMeas);
    return coldEntDecode(p, o, iRg, 0, ppEnt);
  }
  if( aRange!=aStack ) sqlite3_free(aRange);
  if( rc!=TS_PQ_OK ){
    coldEntFree(p, e, nMeas);
    rc = coldPqErr(p, o, rc, zErr);
    free(zErr);
    return rc;
  }
  pTab->cold.nRgDecode++;
  e->nByte = e->pRg->nByte;
  p->nCache += e->nByte;
  e->pNext = p->pEnt;
  p->pEnt = e;
  if( pS==0 ) o->apEnt[iRg] = e;
  e->nPin++;             /* not evicted by the trim below */
  coldCacheTrim(p);
  e->nPin--;
  *ppEnt = e;
  return SQLITE_OK;
}

/* 1 when object o's decodes may be cut to the scan's series (xHint): it
** has series_runs; o->abWant then flags the runs of those series.  0:
** decode every run (no hint, no series_runs, or out of memory: slower,
** not wrong). */
static int coldObjWant(ColdSource *p, ColdObj *o){
  const TsColdRunIdx *x = o->pIdx;
  int i;
  if( !o->bWantDone ){
    o->bWantDone = 1;
    if( x && p->nWant>0 && x->nRun>0 ){
      o->abWant = sqlite3_malloc64((size_t)x->nRun);
      if( o->abWant ) memset(o->abWant, 0, (size_t)x->nRun);
    }
    if( o->abWant && p->nWant<x->nRun ){
      /* fewer series than runs: look each series up in the object */
      for(i=0; i<p->nWant; i++){
        int k = tsColdRunIdxFind(x, p->apWant[i]->aKey, p->apWant[i]->nKey);
        if( k>=0 ) o->abWant[k] = 1;
      }
    }else if( o->abWant ){
      /* else each run in the scan's series (a hash of them, made once) */
      if( p->apWantHash==0 ){
        int n = 16;
        while( n<2*p->nWant ) n *= 2;
        p->apWantHash = sqlite3_malloc64(sizeof(TsSeries*)*(size_t)n);
        if( p->apWantHash==0 ){
          sqlite3_free(o->abWant);
          o->abWant = 0;
          return 0;
        }
        memset(p->apWantHash, 0, sizeof(TsSeries*)*(size_t)n);
        p->nWantHash = n;
        for(i=0; i<p->nWant; i++){
          TsSeries *pS = p->apWant[i];
          unsigned h = (unsigned)tsColdSeriesHash(pS->aKey, pS->nKey) & (unsigned)(n-1);
          while( p->apWantHash[h] ) h = (h+1) & (unsigned)(n-1);
          p->apWantHash[h] = pS;
        }
      }
      for(i=0; i<x->nRun; i++){
        unsigned m = (unsigned)p->nWantHash-1;
        unsigned h = (unsigned)tsColdSeriesHash(x->aKey[i], x->anKey[i]) & m;
        for(; p->apWantHash[h]; h=(h+1)&m){
          const TsSeries *pS = p->apWantHash[h];
          if( pS->nKey==x->anKey[i] && memcmp(pS->aKey, x->aKey[i], (size_t)pS->nKey)==0 ){
            o->abWant[i] = 1;
            break;
          }
        }
      }
    }
  }
  return o->abWant!=0;
}

/* How many runs of the scan's series (o->abWant) row group iRg holds. */
static int coldRgWanted(const ColdObj *o, int iRg){
  const TsColdRunIdx *x = o->pIdx;
  int64_t r0 = o->aRgStart[iRg], r1 = o->aRgStart[iRg+1];
  int lo = 0, hi = x->nRun, n = 0;
  while( lo<hi ){ int m = (lo+hi)/2; if( x->aStart[m+1]<=r0 ) lo = m+1; else hi = m; }
  for(; lo<x->nRun && x->aStart[lo]<r1; lo++) n += o->abWant[lo];
  return n;
}

/* The decode of row group iRg of object o to find series pS in, for
** listing its blocks.  A row group that only one series of the scan asks
** for (a narrow query) decodes only the pages that may hold that series;
** once a second series asks, the whole row group is decoded once and
** serves every series after it. */
static int coldEntForSeries(ColdSource *p, ColdObj *o, int iRg, const TsSeries *pS,
                            ColdEnt **ppEnt){
  ColdEnt *e = o->apEnt[iRg];
  int rc = SQLITE_OK;
  if( e==0 && coldObjWant(p, o) ){
    /* The scan's series are known: one decode of the pages of those of
    ** them in this row group, or of pS's alone when it is the only one. */
    if( coldRgWanted(o, iRg)<=1 ){
      e = coldEntFind(p, o, iRg, pS->iId);
      if( e==0 ) rc = coldEntDecode(p, o, iRg, pS, &e);
    }else{
      rc = coldEntDecode(p, o, iRg, 0, &e);
    }
  }else if( e==0 ){
    if( o->aAskSid[iRg]!=pS->iId ){
      o->aAskSid[iRg] = pS->iId;
      o->anAsk[iRg]++;
    }
    if( o->anAsk[iRg]<=1 ){
      e = coldEntFind(p, o, iRg, pS->iId);
      if( e==0 ) rc = coldEntDecode(p, o, iRg, pS, &e);
    }else{
      rc = coldEntDecode(p, o, iRg, 0, &e);
    }
  }
  if( e ) e->iUse = ++p->iClock;
  *ppEnt = e;
  return rc;
}

static int coldEntMeasure(ColdSource *p, ColdObj *o, ColdEnt *e, int iMeas);

/* The rows of decoded row group e worth decoding measure iMeas for under
** the scan's row filters (source.h rule 10), as decoded-row intervals
** *paKeep (2 * *pnKeep values; NULL: every row; the caller frees it when
** *pbFree, else it is e->aPass, kept with e).  For a measure
** with a filter of its own: the pages whose ColumnIndex bounds may pass it
** (a row group whose chunk statistics exclude it keeps none).  For any
** other: the rows that pass every filter, the filter measures decoded
** first.  Rows left out fail a filter, so SQLite drops them whatever they
** hold; they are counted in cold_reads.filter_skipped. */
static int coldEntKeep(ColdSource *p, ColdObj *o, ColdEnt *e, int iMeas, int64_t **paKeep,
                       int *pnKeep, int *pbFree){
  TsTable *pTab = p->base.pTab;
  TsColdRg *pRg = e->pRg;
  int64_t *aKeep = 0, nKept = 0, r;
  int nKeep = 0, i, rc = SQLITE_OK, bOwn = 0;
  *paKeep = 0; *pnKeep = 0; *pbFree = 1;
  for(i=0; i<p->nFilt; i++) if( p->aFilt[i].iMeas==iMeas ) bOwn = 1;
  if( bOwn ){
    TsPqRange rg;
    TsPqRowSel sel;
    memset(&rg, 0, sizeof(rg));
    rg.iCol = 2 + pTab->s.nDim + iMeas;
    for(i=0; i<p->nFilt; i++){
      const TsMeasFilter *f = &p->aFilt[i];
      if( f->iMeas!=iMeas ) continue;
      if( f->eOp==TS_FILT_GT || f->eOp==TS_FILT_GE ){
        if( !rg.bMin || f->rVal>rg.min.r ) rg.min.r = f->rVal;
        rg.bMin = 1;
      }else{
        if( !rg.bMax || f->rVal<rg.max.r ) rg.max.r = f->rVal;
        rg.bMax = 1;
      }
    }
    p->pReadObj = o;
    if( !tsPqReaderRowGroupMayMatch(o->pReader, pRg->iRg, &rg, 1) ){
      aKeep = malloc(sizeof(int64_t)*2);
      if( aKeep==0 ) return SQLITE_NOMEM;
    }else{
      int rcPq = tsPqReaderSelectRows(o->pReader, pRg->iRg, &rg, 1, &sel);
      if( rcPq!=TS_PQ_OK ) return coldPqErr(p, o, rcPq, tsPqReaderErrmsg(o->pReader));
      rcPq = tsColdRgSelToRows(pRg, sel.aRange, sel.nRange, &aKeep, &nKeep);
      tsPqRowSelFree(&sel);
      if( rcPq!=TS_PQ_OK ) return SQLITE_NOMEM;
    }
  }else{
    /* The rows that pass are the same for every such measure: made once
    ** per decoded row group and kept with it. */
    if( !e->bPass ){
      for(i=0; rc==SQLITE_OK && i<p->nFilt; i++){
        rc = coldEntMeasure(p, o, e, p->aFilt[i].iMeas);
      }
      if( rc ) return rc;
      e->aPass = malloc(sizeof(int64_t)*2*(size_t)(pRg->nRow/2+1));
      if( e->aPass==0 ) return SQLITE_NOMEM;
      for(r=0; r<pRg->nRow; r++){
        int bPass = 1;
        for(i=0; bPass && i<p->nFilt; i++){
          const TsChunkCol *c = &e->aMeas[p->aFilt[i].iMeas];
          bPass = !(c->aNull && c->aNull[r]) && tsMeasFilterPass(&p->aFilt[i], c->aDouble[r]);
        }
        if( !bPass ) continue;
        if( e->nPass>0 && e->aPass[2*e->nPass-1]==r ) e->aPass[2*e->nPass-1] = r+1;
        else{ e->aPass[2*e->nPass] = r; e->aPass[2*e->nPass+1] = r+1; e->nPass++; }
      }
      e->bPass = 1;
    }
    aKeep = e->aPass;
    nKeep = e->nPass;
    *pbFree = 0;
  }
  for(i=0; i<nKeep; i++) nKept += aKeep[2*i+1]-aKeep[2*i];
  if( nKept==pRg->nRow ){
    if( *pbFree ) free(aKeep);
    return SQLITE_OK;
  }
  pTab->cold.nFiltSkip += pRg->nRow - nKept;
  *paKeep = aKeep;
  *pnKeep = nKeep;
  return SQLITE_OK;
}

/* Measure iMeas of a cached row group as a TsChunkCol over all its rows
** (under row filters, rows that fail them may be NULL: coldEntKeep). */
static int coldEntMeasure(ColdSource *p, ColdObj *o, ColdEnt *e, int iMeas){
  TsTable *pTab = p->base.pTab;
  int iCol = 2 + pTab->s.nDim + iMeas, rc, nKeep = 0, bFree = 0;
  TsChunkCol *c = &e->aMeas[iMeas];
  const TsPqColumnData *d;
  char *zErr = 0;
  int64_t *aKeep = 0;
  size_t nBefore;
  if( e->abMeas[iMeas] ) return SQLITE_OK;
  if( p->nFilt>0 && pTab->s.aMeasType[iMeas]!=TS_TYPE_VARCHAR ){
    rc = coldEntKeep(p, o, e, iMeas, &aKeep, &nKeep, &bFree);
    if( rc ) return rc;
  }
  nBefore = e->pRg->nByte;
  p->pReadObj = o;
  if( aKeep ){
    rc = tsColdRgColumnPart(o->pReader, e->pRg, iCol, aKeep, nKeep, &zErr);
    if( bFree ) free(aKeep);
  }else{
    rc = tsColdRgColumn(o->pReader, e->pRg, iCol, &zErr);
  }
  if( rc!=TS_PQ_OK ){
    rc = coldPqErr(p, o, rc, zErr);
    free(zErr);
    return rc;
  }
  d = &e->pRg->aCol[iCol];
  memset(c, 0, sizeof(*c));
  c->eType = pTab->s.aMeasType[iMeas];
  c->aNull = d->aNull;
  if( c->eType==TS_TYPE_DOUBLE ){
    c->aDouble = d->aDbl;
  }else if( c->eType==TS_TYPE_VARCHAR ){
    int64_t i, n = e->pRg->nRow;
    const char **az = sqlite3_malloc64(sizeof(char*)*(size_t)(n+1));
    int *an = sqlite3_malloc64(sizeof(int)*(size_t)(n+1));
    if( az==0 || an==0 ){ sqlite3_free((void*)az); sqlite3_free(an); return SQLITE_NOMEM; }
    for(i=0; i<n; i++){
      az[i] = (const char*)d->aData + d->aOff[i];
      an[i] = (int)(d->aOff[i+1] - d->aOff[i]);
    }
    e->aazText[iMeas] = az;
    e->aanText[iMeas] = an;
    c->azText = az;
    c->anText = an;
    e->pRg->nByte += (size_t)n*(sizeof(char*)+sizeof(int));
  }else{
    c->aInt = d->aInt;
  }
  e->abMeas[iMeas] = 1;
  e->nByte += e->pRg->nByte - nBefore;
  p->nCache += e->pRg->nByte - nBefore;
  return SQLITE_OK;
}

/* The <b> of ".../bucket=<b>/..." in an object key, -1 if none (0..7). */
static int coldKeyBucket(const char *zKey){
  const char *z = zKey ? strstr(zKey, "/bucket=") : 0;
  int b = 0, n = 0;
  if( z==0 ) return -1;
  for(z+=8; *z>='0' && *z<='9' && n<3; z++, n++) b = b*10 + (*z - '0');
  return n>0 && *z=='/' && b<TS_COLD_NBUCKET ? b : -1;
}

/* The partition key value of series pS. */
static void coldSeriesPk(const ColdSource *p, const TsSeries *pS, const char **pz, int *pn,
                         int *pbNull){
  const TsTable *pTab = p->base.pTab;
  const char *z = pTab->s.iPartDim>=0 ? pS->azDim[pTab->s.iPartDim] : pS->zMName;
  *pbNull = z==0;
  *pz = z ? z : "";
  *pn = z ? (int)strlen(z) : 0;
}

/**************************************************************************
** The source methods.
*/
static void coldClose(TsSource *pSrc){
  ColdSource *p = (ColdSource*)pSrc;
  int i;
  if( p==0 ) return;
  while( p->pEnt ){
    ColdEnt *e = p->pEnt;
    p->pEnt = e->pNext;
    coldEntFree(p, e, p->base.pTab->s.nMeas);
  }
  for(i=0; i<p->nObj; i++) coldObjClear(p, &p->aObj[i]);
  sqlite3_free(p->aObj);
  sqlite3_free(p->aBlk);
  sqlite3_free(p->apWantHash);
  tsBufFree(&p->rd);
  free(p->zReadErr);
  if( p->pStore ) tsColdCacheHarvest(p->base.pTab, p->pStore);
  tsObjClose(p->pStore);
  sqlite3_free(p);
}

/* Copy column iCol of the current row of pStmt (TEXT or BLOB) into a new
** allocation; *pn gets its length.  *pRc is set on OOM. */
static void *coldColumnDup(sqlite3_stmt *pStmt, int iCol, int *pn, int *pRc){
  int n = sqlite3_column_bytes(pStmt, iCol);
  const void *a = sqlite3_column_type(pStmt, iCol)==SQLITE_TEXT
                ? (const void*)sqlite3_column_text(pStmt, iCol) : sqlite3_column_blob(pStmt, iCol);
  char *z;
  *pn = 0;
  if( a==0 || *pRc ) return 0;
  z = sqlite3_malloc64((size_t)n+1);
  if( z==0 ){ *pRc = SQLITE_NOMEM; return 0; }
  memcpy(z, a, (size_t)n);
  z[n] = 0;
  *pn = n;
  return z;
}

/* Order of a scan's objects: by first time, then manifest id. */
static int coldObjCmp(const void *pA, const void *pB){
  const ColdObj *a = pA, *b = pB;
  if( a->m.tMin!=b->m.tMin ) return a->m.tMin<b->m.tMin ? -1 : 1;
  return a->iId<b->iId ? -1 : a->iId>b->iId;
}

/* The manifest SELECT of coldOpen: the one kept on the handle (*pbCached),
** or a new one.  series_runs and etag are added by the first ts_maintain of
** the version that has them: a manifest without them is read without, by
** a statement prepared per scan (so the columns are used as soon as they
** exist); one with both is kept (*pbKeep: give it back to the handle). */
static int coldObjStmt(TsTable *pTab, const TsScanSpec *pSpec, sqlite3_stmt **ppStmt,
                       int *pbKeep, int *pbCached){
  static const char *const azOpt[] = { "series_runs, etag", "series_runs, NULL", "NULL, NULL" };
  int rc = SQLITE_OK, k;
  *ppStmt = 0;
  *pbKeep = *pbCached = 0;
  if( (*ppStmt = tsColdMetaStmtTake(pTab))!=0 ) *pbKeep = *pbCached = 1;
  for(k=0; rc==SQLITE_OK && *ppStmt==0 && k<3; k++){
    char *zSql = sqlite3_mprintf("SELECT id, key, tmin, tmax, nbyte, pk_min, pk_max, series_filter, footer,"
                                 " %s FROM \"%w\".\"%w_objects\" WHERE tmax>=?1 AND tmin<=?2 ORDER BY id",
                                 azOpt[k], pTab->zDb, pTab->zName);
    if( zSql==0 ){ rc = SQLITE_NOMEM; break; }
    rc = sqlite3_prepare_v3(pTab->db, zSql, -1, k==0 ? SQLITE_PREPARE_PERSISTENT : 0, ppStmt, 0);
    sqlite3_free(zSql);
    if( rc==SQLITE_ERROR && k<2 ) rc = SQLITE_OK;
    *pbKeep = k==0;
  }
  if( rc ) tsTabErr(pTab, "timeseries %s: reading %s_objects: %s", pTab->zName, pTab->zName,
                    sqlite3_errmsg(pTab->db));
  if( rc==SQLITE_OK ){
    sqlite3_bind_int64(*ppStmt, 1, pSpec->tLo);
    sqlite3_bind_int64(*ppStmt, 2, pSpec->tHi);
  }
  return rc;
}

static int coldOpen(TsTable *pTab, const TsScanSpec *pSpec, TsSource **ppSrc){
  ColdSource *p;
  sqlite3_stmt *pStmt = 0;
  int rc = SQLITE_OK, nAlloc = 0, bKeep = 0, bCached = 0;
  sqlite3_int64 iExpire;
  *ppSrc = 0;
  p = sqlite3_malloc64(sizeof(ColdSource));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->base.pTab = pTab;
  p->spec = *pSpec;
  p->nCol = 3 + pTab->s.nDim + pTab->s.nMeas;
  p->iPkCol = pTab->s.iPartDim>=0 ? 1 + pTab->s.iPartDim : 1 + pTab->s.nDim;
  tsBufInit(&p->rd);
  /* Retention at scan time: nothing older than now - both retentions. */
  iExpire = tsEnvNow(pTab->pEnv) - pTab->s.iMemRet - pTab->s.iMagRet;
  if( p->spec.tLo<iExpire ) p->spec.tLo = iExpire;
  if( p->spec.tLo>p->spec.tHi ){ coldClose(&p->base); return SQLITE_OK; }
  rc = coldObjStmt(pTab, &p->spec, &pStmt, &bKeep, &bCached);
  while( rc==SQLITE_OK ){
    ColdObj *o;
    int n, rcStep = sqlite3_step(pStmt);
    if( rcStep!=SQLITE_ROW ){
      if( rcStep!=SQLITE_DONE && bCached && p->nObj==0 ){
        /* The kept statement no longer prepares (the manifest's columns
        ** changed, e.g. a database from before etag): prepare it anew. */
        sqlite3_finalize(pStmt);
        pStmt = 0;
        rc = coldObjStmt(pTab, &p->spec, &pStmt, &bKeep, &bCached);
        continue;
      }
      break;
    }
    if( p->nObj==nAlloc ){
      nAlloc = nAlloc ? 2*nAlloc : 16;
      p->aObj = tsTabReallocArray(p->aObj, (size_t)nAlloc, sizeof(ColdObj), &rc);
      if( rc ) break;
    }
    o = &p->aObj[p->nObj++];
    memset(o, 0, sizeof(*o));
    o->iId = sqlite3_column_int64(pStmt, 0);
    o->zKey = coldColumnDup(pStmt, 1, &n, &rc);
    o->iBucket = coldKeyBucket(o->zKey);
    o->m.tMin = sqlite3_column_int64(pStmt, 2);
    o->m.tMax = sqlite3_column_int64(pStmt, 3);
    o->nByte = sqlite3_column_int64(pStmt, 4);
    if( sqlite3_column_type(pStmt, 5)!=SQLITE_NULL && sqlite3_column_type(pStmt, 6)!=SQLITE_NULL ){
      o->zPkMin = coldColumnDup(pStmt, 5, &o->m.nPkMin, &rc);
      o->zPkMax = coldColumnDup(pStmt, 6, &o->m.nPkMax, &rc);
      o->m.zPkMin = o->zPkMin;
      o->m.zPkMax = o->zPkMax;
      o->m.bPk = 1;
    }
    o->aFilter = coldColumnDup(pStmt, 7, &o->m.nFilter, &rc);
    o->m.aFilter = o->aFilter;
    if( rc==SQLITE_OK ){
      /* An object parsed by an earlier scan of this connection is taken
      ** now, its footer and series_runs compared where they lie, not copied. */
      const void *aF = sqlite3_column_blob(pStmt, 8), *aR = sqlite3_column_blob(pStmt, 9);
      o->pMeta = tsColdMetaTake(pTab, o->zKey, o->nByte, aF, sqlite3_column_bytes(pStmt, 8),
                                aR, sqlite3_column_bytes(pStmt, 9));
    }
    if( o->pMeta==0 ){
      o->aFooter = coldColumnDup(pStmt, 8, &o->nFooter, &rc);
      o->aRuns = coldColumnDup(pStmt, 9, &o->nRuns, &rc);
    }
    if( sqlite3_column_type(pStmt, 10)==SQLITE_TEXT ) o->zEtag = coldColumnDup(pStmt, 10, &n, &rc);
    if( rc==SQLITE_OK && o->zKey==0 ){
      tsTabErr(pTab, "timeseries %s: %s_objects row %lld has no key", pTab->zName, pTab->zName,
               (long long)o->iId);
      rc = SQLITE_CORRUPT_VTAB;
    }
  }
  if( pStmt && (bKeep ? sqlite3_reset(pStmt) : sqlite3_finalize(pStmt))!=SQLITE_OK && rc==SQLITE_OK ){
    rc = SQLITE_ERROR;
    tsTabErr(pTab, "timeseries %s: reading %s_objects: %s", pTab->zName, pTab->zName,
             sqlite3_errmsg(pTab->db));
  }
  if( pStmt && bKeep ) tsColdMetaStmtPut(pTab, pStmt);   /* for the next scan */
  if( rc || p->nObj==0 ){
    coldClose(&p->base);
    return rc;
  }
  /* By (tmin, id), sorted here: an ORDER BY tmin in the SELECT would copy
  ** every footer through SQLite's sorter. */
  qsort(p->aObj, (size_t)p->nObj, sizeof(ColdObj), coldObjCmp);
  *ppSrc = &p->base;
  return SQLITE_OK;
}

static int coldSeriesRange(TsSource *pSrc, const TsSeries *pS, sqlite3_int64 *ptMin,
                           sqlite3_int64 *ptMax){
  ColdSource *p = (ColdSource*)pSrc;
  uint64_t h = tsColdSeriesHash(pS->aKey, pS->nKey);
  const char *zPk;
  int nPk, bPkNull, i, bAny = 0, iBucket;
  coldSeriesPk(p, pS, &zPk, &nPk, &bPkNull);
  iBucket = tsColdBucket(zPk, nPk);
  for(i=0; i<p->nObj; i++){
    ColdObj *o = &p->aObj[i];
    if( !tsColdObjMayHoldSeries(&o->m, h, zPk, nPk, bPkNull) ) continue;
    if( o->iBucket>=0 && o->iBucket!=iBucket ) continue;
    if( !bAny || o->m.tMin<*ptMin ) *ptMin = o->m.tMin;
    if( !bAny || o->m.tMax>*ptMax ) *ptMax = o->m.tMax;
    bAny = 1;
  }
  if( bAny ){
    if( *ptMin<p->spec.tLo ) *ptMin = p->spec.tLo;
    if( *ptMax>p->spec.tHi ) *ptMax = p->spec.tHi;
    if( *ptMin>*ptMax ) bAny = 0;
  }
  return bAny;
}

/* List the block of rows [a, a+n) (of the decode iSid of row group iRg of
** object iObj; times tMin..tMax). */
static int coldBlockAdd(ColdSource *p, TsBlockList *pList, int iObj, int iRg, sqlite3_int64 iSid,
                        int64_t tMin, int64_t tMax, int64_t n, int64_t a){
  ColdObj *o = &p->aObj[iObj];
  TsBlockInfo info;
  ColdBlk *pB;
  int rc = SQLITE_OK;
  if( p->nBlk==p->nBlkAlloc ){
    int nNew = p->nBlkAlloc ? 2*p->nBlkAlloc : 64;
    p->aBlk = tsTabReallocArray(p->aBlk, (size_t)nNew, sizeof(ColdBlk), &rc);
    if( rc ) return rc;
    p->nBlkAlloc = nNew;
  }
  pB = &p->aBlk[p->nBlk];
  pB->iObj = iObj; pB->iRg = iRg; pB->iSid = iSid;
  memset(&info, 0, sizeof(info));
  info.tMin = tMin;
  info.tMax = tMax;
  info.nRow = (int)n;
  info.iRef = p->nBlk;
  info.iSeq = o->iId;
  info.iRowid = COLD_ROWID_BASE + ((o->iId & 0xffffff)<<32) + ((sqlite3_int64)(iRg & 0xffff)<<16) + a;
  p->nBlk++;
  return tsBlockListAdd(pList, &p->base, &info);
}

/* May object o hold rows of the series (hash h, partition key zPk/nPk,
** bucket iBucket) in [lo, hi]?  From the manifest row only: time range,
** series filter and the key's bucket. */
static int coldObjMayHold(const ColdObj *o, sqlite3_int64 lo, sqlite3_int64 hi, uint64_t h,
                          const char *zPk, int nPk, int bPkNull, int iBucket){
  if( o->m.tMax<lo || o->m.tMin>hi ) return 0;
  if( !tsColdObjMayHoldSeries(&o->m, h, zPk, nPk, bPkNull) ) return 0;
  return o->iBucket<0 || o->iBucket==iBucket;
}

static int coldBlocks(TsSource *pSrc, const TsSeries *pS, sqlite3_int64 lo, sqlite3_int64 hi,
                      TsBlockList *pList){
  ColdSource *p = (ColdSource*)pSrc;
  TsTable *pTab = pSrc->pTab;
  uint64_t h = tsColdSeriesHash(pS->aKey, pS->nKey);
  const char *zPk;
  int nPk, bPkNull, i, j, rc = SQLITE_OK, iBucket, iRun = -1;
  if( lo<p->spec.tLo ) lo = p->spec.tLo;
  if( hi>p->spec.tHi ) hi = p->spec.tHi;
  if( lo>hi ) return SQLITE_OK;
  coldSeriesPk(p, pS, &zPk, &nPk, &bPkNull);
  iBucket = tsColdBucket(zPk, nPk);
  for(i=0; rc==SQLITE_OK && i<p->nObj; i++){
    ColdObj *o = &p->aObj[i];
    if( !coldObjMayHold(o, lo, hi, h, zPk, nPk, bPkNull, iBucket) ) continue;
    rc = coldObjOpen(p, o);
    if( rc==SQLITE_OK && o->pIdx ){
      /* series_runs: exact, the series' rows and times in this object. */
      iRun = tsColdRunIdxFind(o->pIdx, pS->aKey, pS->nKey);
      if( iRun<0 || o->pIdx->aTMax[iRun]<lo || o->pIdx->aTMin[iRun]>hi ) continue;
    }
    for(j=0; rc==SQLITE_OK && j<o->nRg; j++){
      ColdEnt *e = 0;
      const TsColdRun *pRun;
      const int64_t *aT;
      int64_t a, b;
      if( o->aRgT[2*j+1]<lo || o->aRgT[2*j]>hi ) continue;
      if( o->pIdx ){
        const TsColdRunIdx *x = o->pIdx;
        if( x->aStart[iRun]>=o->aRgStart[j+1] || x->aStart[iRun+1]<=o->aRgStart[j] ) continue;
        if( x->aStart[iRun]>=o->aRgStart[j] && x->aStart[iRun+1]<=o->aRgStart[j+1]
         && x->aTMin[iRun]>=lo && x->aTMax[iRun]<=hi ){
          /* The whole run, inside this row group and the range: its block
          ** is known exactly without a decode, which waits for xBlockOpen
          ** (never, when the merge stops first: a newest-row lookup). */
          rc = coldBlockAdd(p, pList, i, j, pS->iId, x->aTMin[iRun], x->aTMax[iRun],
                            x->aStart[iRun+1]-x->aStart[iRun], 0);
          continue;
        }
      }else
      if( !tsColdRgMayHoldSeries(o->pReader, j, pTab->s.nDim, (const char*const*)pS->azDim,
                                 pS->zMName) ) continue;
      rc = coldEntForSeries(p, o, j, pS, &e);
      if( rc ) break;
      pRun = tsColdRgFind(e->pRg, pS->aKey, pS->nKey);
      if( pRun==0 ) continue;
      aT = e->pRg->aCol[0].aInt;
      a = tsColdLowerBound(aT, pRun->iStart, pRun->iEnd, lo);
      b = hi==INT64_MAX ? pRun->iEnd : tsColdLowerBound(aT, a, pRun->iEnd, hi+1);
      if( a<b ) rc = coldBlockAdd(p, pList, i, j, e->iSid, aT[a], aT[b-1], b-a, a);
    }
  }
  return rc;
}

/* xSeriesAny: does the cold tier hold a row of pS in [lo, hi]?  From the
** objects' series_runs only (no row group decode): 1 when some run has its
** first or last time in the range, 0 when no run overlaps it, -1 when it
** cannot tell (a run straddles the range, or an object has no
** series_runs): the scan then lists blocks. */
static int coldSeriesAny(TsSource *pSrc, const TsSeries *pS, sqlite3_int64 lo, sqlite3_int64 hi,
                         int *pbAny, sqlite3_int64 *ptAny){
  ColdSource *p = (ColdSource*)pSrc;
  uint64_t h = tsColdSeriesHash(pS->aKey, pS->nKey);
  const char *zPk;
  int nPk, bPkNull, i, rc = SQLITE_OK, iBucket, bUnknown = 0;
  *pbAny = 0;
  if( lo<p->spec.tLo ) lo = p->spec.tLo;
  if( hi>p->spec.tHi ) hi = p->spec.tHi;
  if( lo>hi ) return SQLITE_OK;
  coldSeriesPk(p, pS, &zPk, &nPk, &bPkNull);
  iBucket = tsColdBucket(zPk, nPk);
  for(i=0; rc==SQLITE_OK && i<p->nObj; i++){
    ColdObj *o = &p->aObj[i];
    int iRun;
    sqlite3_int64 t0, t1;
    if( !coldObjMayHold(o, lo, hi, h, zPk, nPk, bPkNull, iBucket) ) continue;
    rc = coldObjOpen(p, o);
    if( rc ) break;
    if( o->pIdx==0 ){ bUnknown = 1; continue; }
    iRun = tsColdRunIdxFind(o->pIdx, pS->aKey, pS->nKey);
    if( iRun<0 ) continue;
    t0 = o->pIdx->aTMin[iRun];
    t1 = o->pIdx->aTMax[iRun];
    if( t1<lo || t0>hi ) continue;
    if( t0>=lo || t1<=hi ){
      *pbAny = 1;
      *ptAny = t0>=lo ? t0 : t1;
      return SQLITE_OK;
    }
    bUnknown = 1;
  }
  if( rc==SQLITE_OK && bUnknown ) *pbAny = -1;
  return rc;
}

static int coldBlockOpen(TsSource *pSrc, const TsSeries *pS, const TsBlockInfo *pInfo,
                         TsBlock **ppBlk){
  ColdSource *p = (ColdSource*)pSrc;
  TsTable *pTab = pSrc->pTab;
  ColdBlock *pB;
  ColdBlk *pL;
  ColdObj *o;
  ColdEnt *e = 0;
  const TsColdRun *pRun;
  int64_t iStart = 0, iEnd = 0;
  int rc;
  *ppBlk = 0;
  if( pInfo->iRef<0 || pInfo->iRef>=p->nBlk ){
    tsTabErr(pTab, "timeseries %s: internal error: bad cold block %lld", pTab->zName,
             (long long)pInfo->iRef);
    return SQLITE_ERROR;
  }
  pL = &p->aBlk[pInfo->iRef];
  o = &p->aObj[pL->iObj];
  /* The decode it was listed from, or the full one, or decode it again
  ** (evicted meanwhile); the rows are found again by key and time. */
  e = coldEntFind(p, o, pL->iRg, pL->iSid);
  if( e==0 ) e = o->apEnt[pL->iRg];
  if( e==0 && pL->iSid && o->pIdx ){
    /* listed from series_runs without a decode: as a listing would */
    rc = coldEntForSeries(p, o, pL->iRg, pS, &e);
    if( rc ) return rc;
  }
  if( e==0 ){
    rc = coldEntDecode(p, o, pL->iRg, pL->iSid ? pS : 0, &e);
    if( rc ) return rc;
  }
  e->iUse = ++p->iClock;
  pRun = tsColdRgFind(e->pRg, pS->aKey, pS->nKey);
  if( pRun ){
    const int64_t *aT = e->pRg->aCol[0].aInt;
    iStart = tsColdLowerBound(aT, pRun->iStart, pRun->iEnd, pInfo->tMin);
    iEnd = tsColdLowerBound(aT, iStart, pRun->iEnd, pInfo->tMax) + 1;
  }
  if( pRun==0 || iEnd-iStart!=pInfo->nRow || iEnd>pRun->iEnd ){
    tsTabErr(pTab, "timeseries %s: internal error: cold block %lld changed", pTab->zName,
             (long long)pInfo->iRef);
    return SQLITE_ERROR;
  }
  pB = sqlite3_malloc64(sizeof(ColdBlock));
  if( pB==0 ) return SQLITE_NOMEM;
  memset(pB, 0, sizeof(*pB));
  pB->aCol = sqlite3_malloc64(sizeof(TsChunkCol)*(size_t)(pTab->s.nMeas+1));
  pB->abCol = sqlite3_malloc64((size_t)pTab->s.nMeas+1);
  if( pB->aCol==0 || pB->abCol==0 ){
    sqlite3_free(pB->aCol); sqlite3_free(pB->abCol); sqlite3_free(pB);
    return SQLITE_NOMEM;
  }
  memset(pB->abCol, 0, (size_t)pTab->s.nMeas+1);
  pB->pEnt = e;
  pB->pObj = o;
  pB->iStart = iStart;
  pB->base.nRow = (int)(iEnd - iStart);
  pB->base.aTime = e->pRg->aCol[0].aInt + iStart;
  e->nPin++;
  *ppBlk = &pB->base;
  return SQLITE_OK;
}

static int coldBlockVersion(TsSource *pSrc, TsBlock *pBlk, const int64_t **paVersion){
  ColdSource *p = (ColdSource*)pSrc;
  ColdBlock *pB = (ColdBlock*)pBlk;
  int iCol = p->nCol-1, rc;
  char *zErr = 0;
  *paVersion = 0;
  p->pReadObj = pB->pObj;
  rc = tsColdRgColumn(pB->pObj->pReader, pB->pEnt->pRg, iCol, &zErr);
  if( rc!=TS_PQ_OK ){
    rc = coldPqErr(p, pB->pObj, rc, zErr);
    free(zErr);
    return rc;
  }
  if( pB->pEnt->pRg->aCol[iCol].aInt==0 && pBlk->nRow>0 ){
    return coldPqErr(p, pB->pObj, TS_PQ_CORRUPT, "the version column has no values");
  }
  *paVersion = pB->pEnt->pRg->aCol[iCol].aInt + pB->iStart;
  return SQLITE_OK;
}

/* The write marks: the ts_write_mode column of objects that have it. */
static int coldBlockMark(TsSource *pSrc, TsBlock *pBlk, const unsigned char **paMark){
  ColdSource *p = (ColdSource*)pSrc;
  ColdBlock *pB = (ColdBlock*)pBlk;
  int iCol = p->nCol, rc, i;
  char *zErr = 0;
  const int64_t *aM;
  *paMark = 0;
  if( !pB->pObj->bMark ) return SQLITE_OK;
  if( pB->aMark==0 ){
    p->pReadObj = pB->pObj;
    rc = tsColdRgColumn(pB->pObj->pReader, pB->pEnt->pRg, iCol, &zErr);
    if( rc!=TS_PQ_OK ){
      rc = coldPqErr(p, pB->pObj, rc, zErr);
      free(zErr);
      return rc;
    }
    aM = pB->pEnt->pRg->aCol[iCol].aInt;
    if( aM==0 && pBlk->nRow>0 ){
      return coldPqErr(p, pB->pObj, TS_PQ_CORRUPT, "the ts_write_mode column has no values");
    }
    pB->aMark = sqlite3_malloc64((size_t)pBlk->nRow + 1);
    if( pB->aMark==0 ) return SQLITE_NOMEM;
    for(i=0; i<pBlk->nRow; i++){
      int64_t m = aM[pB->iStart + i];
      if( m<0 || m>2 ){
        return coldPqErr(p, pB->pObj, TS_PQ_CORRUPT, "a ts_write_mode value is not 0, 1 or 2");
      }
      pB->aMark[i] = (unsigned char)m;
    }
  }
  *paMark = pB->aMark;
  return SQLITE_OK;
}

static int coldBlockColumn(TsSource *pSrc, TsBlock *pBlk, int iMeas, const TsChunkCol **ppCol){
  ColdSource *p = (ColdSource*)pSrc;
  ColdBlock *pB = (ColdBlock*)pBlk;
  TsChunkCol *c = &pB->aCol[iMeas];
  const TsChunkCol *f;
  int64_t k = pB->iStart;
  int rc;
  *ppCol = 0;
  if( iMeas<0 || iMeas>=pSrc->pTab->s.nMeas ) return SQLITE_MISUSE;
  if( !pB->abCol[iMeas] ){
    rc = coldEntMeasure(p, pB->pObj, pB->pEnt, iMeas);
    if( rc ) return rc;
    f = &pB->pEnt->aMeas[iMeas];
    memset(c, 0, sizeof(*c));
    c->eType = f->eType;
    if( f->aNull ) c->aNull = f->aNull + k;
    if( f->aDouble ) c->aDouble = f->aDouble + k;
    if( f->aInt ) c->aInt = f->aInt + k;
    if( f->azText ) c->azText = f->azText + k;
    if( f->anText ) c->anText = f->anText + k;
    if( pBlk->nRow>0 && c->aDouble==0 && c->aInt==0 && c->azText==0 ){
      return coldPqErr(p, pB->pObj, TS_PQ_CORRUPT, "a measure column has no values");
    }
    pB->abCol[iMeas] = 1;
  }
  *ppCol = c;
  return SQLITE_OK;
}

/* xHint: the scan's series and row filters (borrowed until xClose). */
static int coldHint(TsSource *pSrc, const TsScanHint *pHint){
  ColdSource *p = (ColdSource*)pSrc;
  p->apWant = pHint->apSer;
  p->nWant = pHint->nSer;
  p->aFilt = pHint->aFilt;
  p->nFilt = pHint->nFilt;
  return SQLITE_OK;
}

static void coldBlockClose(TsSource *pSrc, TsBlock *pBlk){
  ColdBlock *pB = (ColdBlock*)pBlk;
  (void)pSrc;
  if( pB==0 ) return;
  pB->pEnt->nPin--;
  sqlite3_free(pB->aMark);
  sqlite3_free(pB->aCol);
  sqlite3_free(pB->abCol);
  sqlite3_free(pB);
}

const TsSourceMethods tsSourceCold = {
  "cold",            /* zName */
  coldOpen,          /* xOpen: manifest rows overlapping the range */
  coldClose,         /* xClose */
  coldSeriesRange,   /* xSeriesRange: series filter + partition key range */
  coldBlocks,        /* xBlocks: per-series slices of row groups */
  coldBlockOpen,     /* xBlockOpen: pins the decoded row group */
  coldBlockVersion,  /* xBlockVersion */
  coldBlockColumn,   /* xBlockColumn: decoded on first request */
  coldBlockClose,    /* xBlockClose */
  0,                 /* xGeneration: blocks never go stale during a scan */
  0,                 /* xFind: the write path does not look into objects yet */
  coldBlockMark,     /* xBlockMark: the ts_write_mode column, when present */
  coldSeriesAny,     /* xSeriesAny: from series_runs, for DISTINCT */
  coldHint,          /* xHint: decodes cut to the scan's series and filters */
};
