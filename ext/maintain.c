/*
** maintain.c: ts_maintain([table [, options_json]]), the write side of the
** cold tier: tiering of memory-tier chunks older than memory_retention into
** Parquet objects, retention of cold objects, orphan cleanup, and the
** per-table maintenance lease.  Object format, manifest, series filter and
** the commit protocol with its crash analysis: docs/internals/cold-format.md.
**
**   SELECT ts_maintain('cpu');
**   SELECT ts_maintain();                          -- every timeseries table
**   SELECT ts_maintain('cpu', '{"orphan_grace":"0s"}');
**
** Owns: the maintenance run (MtRun) and everything it allocates.  Opens the
** table through its handle (table.h: schema and options from the handle,
** tsTableFlush inside the lease transaction, tsTableInvalidate after the
** shadow tables changed), reads and writes the shadow tables (<t>_series,
** _chunks, _objects, _config) with its own statements and the chunk codec;
** never holds a write transaction while talking to the object store.
*/
#include "tslite.h"
#include "table.h"
#include "chunk.h"
#include "parquet.h"
#include "bloom.h"
#include "objstore.h"
#include "storeopt.h"
#include "jsonw.h"
#include "tstime.h"
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MT_NBUCKET        8
#define MT_NS_PER_DAY     86400000000000LL
#define MT_LEASE_MS       60000
#define MT_GRACE_DEFAULT  (3600LL*1000000000LL)
#define MT_RG_ROWS        65536
#define MT_RG_BYTES       (8LL*1024*1024)
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
  int iLastSeries;
  char *zPkMin, *zPkMax; int nPkMin, nPkMax; int bPk;
  uint64_t *aHash; int nHash, nHashAlloc;
  unsigned char *aBloom; size_t nBloom;
  unsigned char *aTail; size_t nTail;
  int64_t nByte;
  int bUploaded;
};

typedef struct MtRun MtRun;
struct MtRun {
  sqlite3 *db;
  TsEnv *pEnv;
  TsTable *pTab;                     /* the table handle (a reference, released here) */
  const TsTableSchema *s;            /* its schema, valid while pTab is held */
  const char *zDb;                   /* tsTableDb(pTab) */
  const char *zTab;                  /* tsTableName(pTab) */
  char *zWriter;                     /* writer id */
  char *zEnc;                        /* option encryption or NULL (owned) */
  char *zKmsKey;                     /* option kms_key or NULL (owned) */
  char *zHolder;                     /* lease holder string */
  TsObjStore *pStore;
  int64_t iNow, iBound, iExpire, iGrace;
  int rc; char *zErr;
  /* counters */
  int64_t nRowMoved, nChunkMoved, nChunkRewritten, nObj, nByte, nRowExpired;
  int64_t nObjExpired, nOrphan, nAborted;
  int64_t nObjTrimmed;               /* partly expired objects rewritten */
  int64_t nObjCompacted, nCompactOut;/* compaction inputs merged, outputs written */
  int64_t nDupDropped, nRejected;    /* record keys found twice; of them, rejected values */
  int64_t nCompactTarget;            /* compaction: target object bytes */
  int64_t nCompactBudget;            /* compaction: input bytes per pass */
  int nCompactMin;                   /* compaction: small objects of an open day to merge */
  char *zBusy; int64_t iBusyExp;
  TsBuf keys;                        /* JSON array items of written keys */
};

/* Test hook (tests/unit/test_maintain.c): called at named points of a
** round with the run's connection; NULL in production. */
void (*tsMaintainTestHook)(sqlite3 *db, const char *zPoint) = 0;

static int64_t mtWallMs(void){
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec*1000 + ts.tv_nsec/1000000;
}

static void mtErr(MtRun *p, int rc, const char *zFmt, ...){
  va_list ap;
  char *z;
  if( p->rc ) return;
  va_start(ap, zFmt);
  z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  p->rc = rc ? rc : SQLITE_ERROR;
  sqlite3_free(p->zErr);
  p->zErr = z;
}

static void mtSqlErr(MtRun *p, const char *zWhat){
  mtErr(p, sqlite3_errcode(p->db), "ts_maintain %s: %s: %s", p->zTab, zWhat, sqlite3_errmsg(p->db));
}

/* Run one statement of fixed text (identifiers already in it). */
static int mtExec(MtRun *p, const char *zSql){
  int rc = sqlite3_exec(p->db, zSql, 0, 0, 0);
  if( rc!=SQLITE_OK ) mtSqlErr(p, zSql);
  return rc;
}

static sqlite3_stmt *mtPrepare(MtRun *p, const char *zFmt, ...){
  va_list ap;
  char *zSql;
  sqlite3_stmt *pStmt = 0;
  if( p->rc ) return 0;
  va_start(ap, zFmt);
  zSql = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if( zSql==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); return 0; }
  if( sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0)!=SQLITE_OK ){
    mtSqlErr(p, "prepare");
    pStmt = 0;
  }
  sqlite3_free(zSql);
  return pStmt;
}

/*************************************************************************
** Options not in the table handle.
*/
static int mtParseInterval(const char *z, int64_t *pv){
  const char *q = z;
  while( *q>='0' && *q<='9' ) q++;
  if( *z && *q==0 && q-z<=18 ){ *pv = strtoll(z, 0, 10); return 0; }
  return tsIntervalParse(z, -1, pv)!=TS_TIME_OK;
}

/* From <t>_config: the writer id stored by an earlier pass (cold.writer_id),
** and the options encryption / kms_key, which the CREATE option table does
** not carry yet (the handle's schema has no field for them). */
static void mtConfigLoad(MtRun *p){
  sqlite3_stmt *pStmt = mtPrepare(p, "SELECT k, v FROM \"%w\".\"%w_config\""
                                     " WHERE k IN ('cold.writer_id', 'encryption', 'kms_key')",
                                  p->zDb, p->zTab);
  while( pStmt && p->rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zK = (const char*)sqlite3_column_text(pStmt, 0);
    const char *zV = (const char*)sqlite3_column_text(pStmt, 1);
    char **pz;
    if( zK==0 || zV==0 ) continue;
    pz = zK[0]=='c' ? &p->zWriter : zK[0]=='e' ? &p->zEnc : &p->zKmsKey;
    sqlite3_free(*pz);
    *pz = sqlite3_mprintf("%s", zV);
    if( *pz==0 ) mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory");
  }
  sqlite3_finalize(pStmt);
}

/*************************************************************************
** Lease and writer id (cold-format.md section 5 step 1).
*/
static int mtHolderAlive(const char *zHolder){
  char zHost[256];
  const char *zColon;
  long pid;
  if( gethostname(zHost, sizeof(zHost)-1)!=0 ) return 1;
  zHost[sizeof(zHost)-1] = 0;
  zColon = strchr(zHolder, ':');
  if( zColon==0 || (size_t)(zColon-zHolder)!=strlen(zHost)
   || strncmp(zHolder, zHost, strlen(zHost))!=0 ) return 1;   /* another host */
  pid = strtol(zColon+1, 0, 10);
  if( pid<=0 ) return 1;
  if( kill((pid_t)pid, 0)!=0 && errno==ESRCH ) return 0;
  return 1;
}

static void mtRandHex(char *z, int nByte){
  unsigned char a[16];
  int i;
  sqlite3_randomness(nByte, a);
  for(i=0; i<nByte; i++) sprintf(z+2*i, "%02x", a[i]);
}

static void mtConfigPut(MtRun *p, const char *zK, const char *zV){
  sqlite3_stmt *pStmt = mtPrepare(p,
      "INSERT OR REPLACE INTO \"%w\".\"%w_config\"(k, v) VALUES(?1, ?2)", p->zDb, p->zTab);
  if( pStmt==0 ) return;
  sqlite3_bind_text(pStmt, 1, zK, -1, SQLITE_STATIC);
  sqlite3_bind_text(pStmt, 2, zV, -1, SQLITE_STATIC);
  sqlite3_step(pStmt);
  if( sqlite3_finalize(pStmt)!=SQLITE_OK ) mtSqlErr(p, "writing _config");
}

/* Write our lease (inside a write transaction). */
static void mtLeaseWrite(MtRun *p){
  TsBuf b; TsJsonW jw;
  tsBufInit(&b); tsJwInit(&jw, &b);
  tsJwObjBegin(&jw);
  tsJwKeyStr(&jw, "holder", p->zHolder);
  tsJwKeyInt(&jw, "expires", mtWallMs() + MT_LEASE_MS);
  tsJwObjEnd(&jw);
  tsBufAppendByte(&b, 0);
  if( tsJwError(&jw) || b.bErr ) mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory");
  else mtConfigPut(p, "cold.lease", (const char*)b.a);
  tsBufFree(&b);
}

/* Returns 1 if we hold the lease, 0 if another holder does (p->zBusy). */
static int mtLeaseAcquire(MtRun *p){
  sqlite3_stmt *pStmt;
  int bOk = 1;
  char zHost[200];
  char zNonce[17];
  if( gethostname(zHost, sizeof(zHost)-1)!=0 ) strcpy(zHost, "localhost");
  zHost[sizeof(zHost)-1] = 0;
  mtRandHex(zNonce, 8);
  p->zHolder = sqlite3_mprintf("%s:%ld:%s", zHost, (long)getpid(), zNonce);
  if( p->zHolder==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); return 0; }
  if( mtExec(p, "BEGIN IMMEDIATE") ) return 0;
  {
    /* ts_maintain runs in autocommit, so this connection has no pending
    ** rows; flushing keeps that true should the handle hold any. */
    char *zE = 0;
    if( tsTableFlush(p->pTab, &zE)!=SQLITE_OK ){
      mtErr(p, SQLITE_ERROR, "ts_maintain %s: %s", p->zTab, zE ? zE : "flush failed");
    }
    sqlite3_free(zE);
  }
  pStmt = mtPrepare(p, "SELECT json_extract(v, '$.holder'), json_extract(v, '$.expires') "
                       "FROM \"%w\".\"%w_config\" WHERE k='cold.lease'", p->zDb, p->zTab);
  if( pStmt && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zH = (const char*)sqlite3_column_text(pStmt, 0);
    int64_t iExp = sqlite3_column_int64(pStmt, 1);
    if( zH && iExp>mtWallMs() && mtHolderAlive(zH) ){
      bOk = 0;
      p->zBusy = sqlite3_mprintf("%s", zH);
      p->iBusyExp = iExp;
    }
  }
  sqlite3_finalize(pStmt);
  if( bOk && p->rc==SQLITE_OK ){
    if( p->zWriter==0 ){
      char zW[17];
      mtRandHex(zW, 8);
      p->zWriter = sqlite3_mprintf("%s", zW);
      if( p->zWriter ) mtConfigPut(p, "cold.writer_id", p->zWriter);
    }
    mtLeaseWrite(p);
    /* Manifest columns this writer adds (cold-format.md section 3). */
    if( p->rc==SQLITE_OK ){
      sqlite3_stmt *pI = mtPrepare(p, "SELECT count(*) FROM pragma_table_info(?1, ?2) "
                                      "WHERE name='writer'");
      int bHave = 0;
      if( pI ){
        char *zObj = sqlite3_mprintf("%s_objects", p->zTab);
        sqlite3_bind_text(pI, 1, zObj, -1, sqlite3_free);
        sqlite3_bind_text(pI, 2, p->zDb, -1, SQLITE_STATIC);
        if( sqlite3_step(pI)==SQLITE_ROW ) bHave = sqlite3_column_int(pI, 0);
        sqlite3_finalize(pI);
      }
      if( !bHave && p->rc==SQLITE_OK ){
        char *z = sqlite3_mprintf("ALTER TABLE \"%w\".\"%w_objects\" ADD COLUMN writer TEXT",
                                  p->zDb, p->zTab);
        char *z2 = sqlite3_mprintf("ALTER TABLE \"%w\".\"%w_objects\" ADD COLUMN nseries INTEGER",
                                   p->zDb, p->zTab);
        if( z && z2 ){ if( mtExec(p, z)==SQLITE_OK ) mtExec(p, z2); }
        else mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory");
        sqlite3_free(z); sqlite3_free(z2);
      }
    }
  }
  if( p->rc==SQLITE_OK && bOk ){
    mtExec(p, "COMMIT");
  }else{
    sqlite3_exec(p->db, "ROLLBACK", 0, 0, 0);
  }
  return bOk && p->rc==SQLITE_OK;
}

static void mtLeaseRelease(MtRun *p){
  sqlite3_stmt *pStmt;
  char *zSql = sqlite3_mprintf("DELETE FROM \"%w\".\"%w_config\" WHERE k='cold.lease' "
                               "AND json_extract(v, '$.holder')=?1", p->zDb, p->zTab);
  if( zSql==0 ) return;
  if( sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0)==SQLITE_OK ){
    sqlite3_bind_text(pStmt, 1, p->zHolder, -1, SQLITE_STATIC);
    sqlite3_step(pStmt);
    sqlite3_finalize(pStmt);
  }
  sqlite3_free(zSql);
}

/*************************************************************************
** Storage.
*/
static void mtStoreOpen(MtRun *p){
  TsObjConfig cfg;
  char *zUri = 0, *zObjErr = 0;
  memset(&cfg, 0, sizeof(cfg));
  {
    /* The CREATE checks these too; a value stored another way (an older
    ** build, a hand edit of _config) still fails here, naming the option. */
    const char *azK[] = { "storage", "s3_endpoint", "s3_region", "s3_url_style",
                          "encryption", "kms_key" };
    const char *azV[6];
    int i;
    azV[0] = p->s->zStorage; azV[1] = p->s->zS3Endpoint; azV[2] = p->s->zS3Region;
    azV[3] = p->s->zS3UrlStyle; azV[4] = p->zEnc; azV[5] = p->zKmsKey;
    for(i=0; i<6; i++){
      if( azV[i] && tsStoreOptCheck(azK[i], azV[i], &zObjErr) ) break;
    }
    if( i==6 ) tsStoreOptFinish(p->s->zStorage, p->zEnc, p->zKmsKey, &zObjErr);
    if( zObjErr ){
      mtErr(p, SQLITE_ERROR, "ts_maintain %s: %s", p->zTab, zObjErr);
      free(zObjErr);
      return;
    }
  }
  if( p->s->zStorage ){
    zUri = sqlite3_mprintf("%s", p->s->zStorage);
  }else{
    const char *zFile = sqlite3_db_filename(p->db, p->zDb);
    if( zFile==0 || zFile[0]==0 ){
      mtErr(p, SQLITE_ERROR, "ts_maintain %s: the database is in memory or temporary, so it "
            "has no default storage directory: create the table with the option "
            "storage = 's3://bucket/prefix' or 'file:///abs/dir'", p->zTab);
      return;
    }
    zUri = sqlite3_mprintf("file://%s.tslite", zFile);
  }
  if( zUri==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); return; }
  cfg.zEndpoint = p->s->zS3Endpoint;
  cfg.zRegion = p->s->zS3Region;
  cfg.zUrlStyle = p->s->zS3UrlStyle;
  if( cfg.zEndpoint && strncmp(cfg.zEndpoint, "http://", 7)==0 ) cfg.bAllowHttp = 1;
  if( tsObjOpen(zUri, &cfg, &p->pStore, &zObjErr)!=TS_OBJ_OK ){
    mtErr(p, SQLITE_ERROR, "ts_maintain %s: cannot open storage '%s': %s", p->zTab, zUri,
          zObjErr ? zObjErr : "unknown error");
  }
  free(zObjErr);
  sqlite3_free(zUri);
}

/*************************************************************************
** Series of the table with chunks older than the boundary.
*/
static uint32_t mtFnv32(const char *z, int n){
  uint32_t h = 2166136261u;
  int i;
  for(i=0; i<n; i++){ h ^= (unsigned char)z[i]; h *= 16777619u; }
  return h;
}

static void mtSeriesFree(MtSeries *a, int n, int nDim){
  int i, j;
  for(i=0; i<n; i++){
    sqlite3_free(a[i].aKey);
    for(j=0; j<nDim; j++) sqlite3_free(a[i].azDim[j]);
    sqlite3_free(a[i].azDim);
    sqlite3_free(a[i].zMName);
  }
  sqlite3_free(a);
}

static int mtBytesCmp(const void *a, int na, const void *b, int nb){
  int c = memcmp(a, b, na<nb ? na : nb);
  return c ? c : (na<nb ? -1 : na>nb);
}

static int mtSeriesCmp(const void *pa, const void *pb){
  const MtSeries *a = (const MtSeries*)pa, *b = (const MtSeries*)pb;
  int c;
  if( a->iBucket!=b->iBucket ) return a->iBucket<b->iBucket ? -1 : 1;
  if( a->bPkNull!=b->bPkNull ) return a->bPkNull ? 1 : -1;    /* NULL last */
  c = mtBytesCmp(a->zPk, a->nPk, b->zPk, b->nPk);
  if( c ) return c;
  return mtBytesCmp(a->aKey, a->nKey, b->aKey, b->nKey);
}

static MtSeries *mtSeriesLoad(MtRun *p, int *pn){
  TsBuf cols;
  MtSeries *a = 0;
  int n = 0, nAlloc = 0, i, nDim = p->s->nDim;
  sqlite3_stmt *pStmt;
  tsBufInit(&cols);
  for(i=0; i<nDim; i++) tsBufPrintf(&cols, ", d%d", i);
  tsBufAppendByte(&cols, 0);
  if( cols.bErr ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); return 0; }
  pStmt = mtPrepare(p, "SELECT id, skey, measure_name%s FROM \"%w\".\"%w_series\" "
                       "WHERE id IN (SELECT sid FROM \"%w\".\"%w_chunks\" WHERE tmin < ?1)",
                    (char*)cols.a, p->zDb, p->zTab, p->zDb, p->zTab);
  tsBufFree(&cols);
  if( pStmt ) sqlite3_bind_int64(pStmt, 1, p->iBound);
  while( pStmt && p->rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    MtSeries *s;
    if( n==nAlloc ){
      MtSeries *aNew = sqlite3_realloc64(a, sizeof(MtSeries)*(nAlloc = nAlloc ? 2*nAlloc : 64));
      if( aNew==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); break; }
      a = aNew;
    }
    s = &a[n++];
    memset(s, 0, sizeof(*s));
    s->iSid = sqlite3_column_int64(pStmt, 0);
    s->nKey = sqlite3_column_bytes(pStmt, 1);
    s->aKey = sqlite3_malloc64(s->nKey ? s->nKey : 1);
    s->zMName = sqlite3_mprintf("%s", (const char*)sqlite3_column_text(pStmt, 2));
    s->azDim = sqlite3_malloc64(sizeof(char*)*(nDim ? nDim : 1));
    if( s->aKey==0 || s->zMName==0 || s->azDim==0 ){
      mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); break;
    }
    if( s->nKey ) memcpy(s->aKey, sqlite3_column_blob(pStmt, 1), s->nKey);
    for(i=0; i<nDim; i++){
      const char *z = (const char*)sqlite3_column_text(pStmt, 3+i);
      s->azDim[i] = z ? sqlite3_mprintf("%s", z) : 0;
      if( z && s->azDim[i]==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); break; }
    }
    if( p->s->iPartDim>=0 ){
      s->zPk = s->azDim[p->s->iPartDim];
      s->bPkNull = s->zPk==0;
      if( s->zPk==0 ) s->zPk = "";
    }else{
      s->zPk = s->zMName;
    }
    s->nPk = (int)strlen(s->zPk);
    s->iBucket = (int)(mtFnv32(s->zPk, s->nPk) % MT_NBUCKET);
  }
  sqlite3_finalize(pStmt);
  if( p->rc ){ mtSeriesFree(a, n, nDim); return 0; }
  if( n>1 ) qsort(a, n, sizeof(MtSeries), mtSeriesCmp);
  *pn = n;
  return a;
}

/*************************************************************************
** Objects of a round.
*/
static int mtSink(void *pCtx, const void *a, size_t n){
  MtObj *o = (MtObj*)pCtx;
  char *zE = 0;
  if( tsObjWriterWrite(o->pOw, a, n, &zE)!=TS_OBJ_OK ){
    if( o->zSinkErr==0 ) o->zSinkErr = zE; else free(zE);
    return 1;
  }
  return 0;
}

static void mtObjFree(MtObj *o){
  if( o==0 ) return;
  tsPqWriterFree(o->pPw);
  tsObjWriterAbort(o->pOw);
  free(o->zSinkErr);
  sqlite3_free(o->zKey);
  sqlite3_free(o->zPkMin); sqlite3_free(o->zPkMax);
  sqlite3_free(o->aHash);
  sqlite3_free(o->aBloom);
  sqlite3_free(o->aTail);
  sqlite3_free(o);
}

static MtObj *mtObjOpen(MtRun *p, int iBucket, int64_t iDay){
  const TsTableSchema *s = p->s;
  MtObj *o;
  TsPqColumnSpec *aSpec;
  TsPqWriteOpts opts;
  int nCol = 3 + s->nDim + s->nMeas, i, j = 0, aSort[2];
  int64_t y; unsigned m, d;
  char zId[17];
  char *zE = 0;
  const char *azK[4], *azV[4];
  o = sqlite3_malloc64(sizeof(MtObj));
  aSpec = sqlite3_malloc64(sizeof(TsPqColumnSpec)*nCol);
  if( o==0 || aSpec==0 ){
    sqlite3_free(o); sqlite3_free(aSpec);
    mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); return 0;
  }
  memset(o, 0, sizeof(*o));
  o->iDay = iDay;
  o->iLastSeries = -1;
  tsCivilFromDays(iDay, &y, &m, &d);
  mtRandHex(zId, 8);
  o->zKey = sqlite3_mprintf("%s/date=%04lld-%02u-%02u/bucket=%d/%s-%s.parquet", p->zTab,
                            (long long)y, m, d, iBucket, p->zWriter, zId);
  if( o->zKey==0 ){ sqlite3_free(aSpec); mtObjFree(o); mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); return 0; }
  aSpec[j].zName = "time"; aSpec[j].eType = TS_PQ_TIMESTAMP_NS; aSpec[j].bNullable = 0;
  aSpec[j++].eEncoding = TS_PQ_ENC_DELTA;
  for(i=0; i<s->nDim; i++){
    aSpec[j].zName = s->azDim[i]; aSpec[j].eType = TS_PQ_STRING; aSpec[j].bNullable = 1;
    aSpec[j++].eEncoding = TS_PQ_ENC_DICT;
  }
  aSpec[j].zName = "measure_name"; aSpec[j].eType = TS_PQ_STRING; aSpec[j].bNullable = 0;
  aSpec[j++].eEncoding = TS_PQ_ENC_DICT;
  for(i=0; i<s->nMeas; i++){
    static const int aMap[] = { 0, TS_PQ_DOUBLE, TS_PQ_INT64, TS_PQ_STRING, TS_PQ_BOOLEAN,
                                TS_PQ_TIMESTAMP_NS };
    aSpec[j].zName = s->azMeas[i]; aSpec[j].eType = aMap[s->aMeasType[i]];
    aSpec[j].bNullable = 1; aSpec[j++].eEncoding = TS_PQ_ENC_AUTO;
  }
  aSpec[j].zName = "version"; aSpec[j].eType = TS_PQ_INT64; aSpec[j].bNullable = 0;
  aSpec[j++].eEncoding = TS_PQ_ENC_AUTO;
  tsPqWriteOptsInit(&opts);
  opts.eCodec = TS_PQ_CODEC_ZSTD;
  opts.nRowGroupRows = MT_RG_ROWS;
  opts.nRowGroupBytes = MT_RG_BYTES;
  opts.nPageRows = 20000;
  aSort[0] = s->iPartDim>=0 ? 1 + s->iPartDim : 1 + s->nDim;
  aSort[1] = 0;
  opts.nSortCol = 2; opts.aSortCol = aSort;
  azK[0] = "tslite.cold_format"; azV[0] = "1";
  azK[1] = "tslite.table";       azV[1] = p->zTab;
  azK[2] = "tslite.writer";      azV[2] = p->zWriter;
  azK[3] = "tslite.partition_key";
  azV[3] = s->iPartDim>=0 ? s->azDim[s->iPartDim] : "measure_name";
  opts.nKeyValue = 4; opts.azKey = azK; opts.azValue = azV;
  if( tsObjWriterOpen(p->pStore, o->zKey, &o->pOw, &zE)!=TS_OBJ_OK ){
    mtErr(p, SQLITE_IOERR, "ts_maintain %s: upload of %s: %s", p->zTab, o->zKey, zE ? zE : "failed");
    free(zE);
    sqlite3_free(aSpec); mtObjFree(o); return 0;
  }
  if( tsPqWriterOpen(&o->pPw, aSpec, nCol, &opts, mtSink, o)!=TS_PQ_OK ){
    mtErr(p, SQLITE_ERROR, "ts_maintain %s: parquet writer: %s", p->zTab,
          o->pPw ? tsPqWriterErrmsg(o->pPw) : "out of memory");
    sqlite3_free(aSpec); mtObjFree(o); return 0;
  }
  sqlite3_free(aSpec);
  return o;
}

static void mtObjHash(MtRun *p, MtObj *o, uint64_t h){
  if( o->nHash==o->nHashAlloc ){
    int nNew = o->nHashAlloc ? 2*o->nHashAlloc : 64;
    uint64_t *a = sqlite3_realloc64(o->aHash, sizeof(uint64_t)*nNew);
    if( a==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); return; }
    o->aHash = a; o->nHashAlloc = nNew;
  }
  o->aHash[o->nHash++] = h;
}

/* First row of series iS in object o: statistics and filter elements. */
static void mtObjSeries(MtRun *p, MtObj *o, MtSeries *pS, int iS){
  TsBuf b;
  int i;
  o->iLastSeries = iS;
  o->nSeries++;
  tsBufInit(&b);
  tsBufAppendByte(&b, TS_BLOOM_TAG_SERIES);
  tsBufAppend(&b, pS->aKey, pS->nKey);
  if( !b.bErr ) mtObjHash(p, o, tsBloomHash(b.a, b.n));
  for(i=0; i<=p->s->nDim; i++){
    const char *z = i<p->s->nDim ? pS->azDim[i] : pS->zMName;
    if( z==0 ) continue;
    tsBufReset(&b);
    tsBufAppendByte(&b, TS_BLOOM_TAG_DIM);
    tsBufAppendVarint(&b, (uint64_t)i);
    tsBufAppendStr(&b, z);
    if( !b.bErr ) mtObjHash(p, o, tsBloomHash(b.a, b.n));
  }
  if( b.bErr ) mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory");
  tsBufFree(&b);
  if( !pS->bPkNull ){
    if( !o->bPk || mtBytesCmp(pS->zPk, pS->nPk, o->zPkMin, o->nPkMin)<0 ){
      sqlite3_free(o->zPkMin); o->zPkMin = sqlite3_mprintf("%.*s", pS->nPk, pS->zPk); o->nPkMin = pS->nPk;
    }
    if( !o->bPk || mtBytesCmp(pS->zPk, pS->nPk, o->zPkMax, o->nPkMax)>0 ){
      sqlite3_free(o->zPkMax); o->zPkMax = sqlite3_mprintf("%.*s", pS->nPk, pS->zPk); o->nPkMax = pS->nPk;
    }
    o->bPk = 1;
    if( o->zPkMin==0 || o->zPkMax==0 ) mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory");
  }
}

static int mtU64Cmp(const void *a, const void *b){
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x<y ? -1 : x>y;
}

/* Finish the Parquet file and the upload. */
static void mtObjFinish(MtRun *p, MtObj *o){
  char *zE = 0;
  const unsigned char *aT;
  int i, n = 0;
  if( p->rc ) return;
  if( tsPqWriterFinish(o->pPw)!=TS_PQ_OK ){
    mtErr(p, SQLITE_IOERR, "ts_maintain %s: writing %s: %s", p->zTab, o->zKey,
          o->zSinkErr ? o->zSinkErr : tsPqWriterErrmsg(o->pPw));
    return;
  }
  aT = tsPqWriterTail(o->pPw, &o->nTail);
  o->aTail = sqlite3_malloc64(o->nTail ? o->nTail : 1);
  if( o->aTail==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); return; }
  memcpy(o->aTail, aT, o->nTail);
  o->nByte = tsPqWriterBytesWritten(o->pPw);
  if( tsObjWriterFinish(o->pOw, &zE)!=TS_OBJ_OK ){
    o->pOw = 0;
    mtErr(p, SQLITE_IOERR, "ts_maintain %s: upload of %s: %s", p->zTab, o->zKey, zE ? zE : "failed");
    free(zE);
    return;
  }
  o->pOw = 0;
  o->bUploaded = 1;
  /* The series filter over the distinct element hashes. */
  qsort(o->aHash, o->nHash, sizeof(uint64_t), mtU64Cmp);
  for(i=0; i<o->nHash; i++) if( n==0 || o->aHash[n-1]!=o->aHash[i] ) o->aHash[n++] = o->aHash[i];
  o->nBloom = tsBloomSize(n);
  o->aBloom = sqlite3_malloc64(o->nBloom);
  if( o->aBloom==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); return; }
  tsBloomInit(o->aBloom, o->nBloom);
  for(i=0; i<n; i++) tsBloomAddHash(o->aBloom, o->aHash[i]);
}

static void mtObjRemove(MtRun *p, MtObj *o){
  char *zE = 0;
  if( o->bUploaded && tsObjDelete(p->pStore, o->zKey, &zE)!=TS_OBJ_OK ){
    /* Left as an orphan: the next pass deletes it after the grace period. */
  }
  free(zE);
}

/*************************************************************************
** One round: every chunk older than the boundary of one partition bucket.
*/
static uint64_t mtHash64(const void *a, size_t n){ return tsBloomHash(a, n); }

static void mtRowValues(MtRun *p, MtObj *o, MtSeries *pS, const TsChunkCol *aCol,
                        const int64_t *aT, const int64_t *aV, int r){
  const TsTableSchema *s = p->s;
  TsPqWriter *w = o->pPw;
  int i, j = 0;
  tsPqWriterInt64(w, j++, aT[r]);
  for(i=0; i<s->nDim; i++){
    if( pS->azDim[i] ) tsPqWriterText(w, j++, pS->azDim[i], (int64_t)strlen(pS->azDim[i]));
    else tsPqWriterNull(w, j++);
  }
  tsPqWriterText(w, j++, pS->zMName, (int64_t)strlen(pS->zMName));
  for(i=0; i<s->nMeas; i++){
    const TsChunkCol *c = &aCol[i];
    if( c->aNull && c->aNull[r] ){ tsPqWriterNull(w, j++); continue; }
    switch( c->eType ){
      case TS_TYPE_DOUBLE:  tsPqWriterDouble(w, j++, c->aDouble[r]); break;
      case TS_TYPE_VARCHAR: tsPqWriterText(w, j++, c->azText[r], c->anText[r]); break;
      case TS_TYPE_BOOLEAN: tsPqWriterBool(w, j++, c->aInt[r]!=0); break;
      default:              tsPqWriterInt64(w, j++, c->aInt[r]); break;
    }
  }
  tsPqWriterInt64(w, j++, aV ? aV[r] : 1);
  if( tsPqWriterEndRow(w)!=TS_PQ_OK ){
    mtErr(p, SQLITE_IOERR, "ts_maintain %s: writing %s: %s", p->zTab, o->zKey,
          o->zSinkErr ? o->zSinkErr : tsPqWriterErrmsg(w));
    return;
  }
  if( o->nRow==0 || aT[r]<o->tMin ) o->tMin = aT[r];
  if( o->nRow==0 || aT[r]>o->tMax ) o->tMax = aT[r];
  o->nRow++;
}

/* Decode one chunk and route its rows.  Returns the replacement (rows >=
** boundary) in pC. */
static void mtChunkRoute(MtRun *p, MtSeries *aS, int iS, MtChunk *pC,
                         const void *aData, int nData, MtObj ***papObj, int *pnObj,
                         int iBucket, int64_t *pnMoved, int64_t *pnExpired){
  TsChunkReader *pR = 0;
  const TsChunkInfo *pInfo;
  const int64_t *aT = 0, *aV = 0;
  TsChunkCol *aCol = 0;
  int i, r, nRow, iRepl;
  MtSeries *pS = &aS[iS];
  if( tsChunkReaderOpen(aData, (size_t)nData, &pR)!=TS_CHUNK_OK ){
    mtErr(p, SQLITE_CORRUPT, "ts_maintain %s: chunk %lld of series %lld is corrupt",
          p->zTab, (long long)pC->iId, (long long)pC->iSid);
    goto done;
  }
  pInfo = tsChunkReaderInfo(pR);
  nRow = pInfo->nRow;
  aCol = sqlite3_malloc64(sizeof(TsChunkCol)*(p->s->nMeas+1));
  if( aCol==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); goto done; }
  if( pInfo->nCol!=p->s->nMeas || tsChunkReadTime(pR, &aT) || tsChunkReadVersion(pR, &aV) ){
    mtErr(p, SQLITE_CORRUPT, "ts_maintain %s: chunk %lld of series %lld is corrupt",
          p->zTab, (long long)pC->iId, (long long)pC->iSid);
    goto done;
  }
  for(i=0; i<p->s->nMeas; i++){
    if( tsChunkReadCol(pR, i, &aCol[i])!=TS_CHUNK_OK ){
      mtErr(p, SQLITE_CORRUPT, "ts_maintain %s: chunk %lld of series %lld is corrupt",
            p->zTab, (long long)pC->iId, (long long)pC->iSid);
      goto done;
    }
  }
  for(r=0; r<nRow && aT[r]<p->iBound && p->rc==SQLITE_OK; r++){
    int64_t iDay;
    MtObj *o = 0;
    if( aT[r]<p->iExpire ){ (*pnExpired)++; continue; }
    iDay = tsFloorDiv(aT[r], MT_NS_PER_DAY);
    for(i=0; i<*pnObj; i++) if( (*papObj)[i]->iDay==iDay ){ o = (*papObj)[i]; break; }
    if( o==0 ){
      MtObj **a = sqlite3_realloc64(*papObj, sizeof(MtObj*)*(*pnObj+1));
      if( a==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); break; }
      *papObj = a;
      o = mtObjOpen(p, iBucket, iDay);
      if( o==0 ) break;
      a[(*pnObj)++] = o;
    }
    if( o->iLastSeries!=iS ) mtObjSeries(p, o, pS, iS);
    mtRowValues(p, o, pS, aCol, aT, aV, r);
    (*pnMoved)++;
  }
  iRepl = r;
  if( p->rc==SQLITE_OK && iRepl<nRow ){
    /* Rows at or after the boundary stay in the memory tier as a new chunk. */
    TsBuf out;
    TsChunkCol *aSub = &aCol[0];
    for(i=0; i<p->s->nMeas; i++){
      TsChunkCol *c = &aSub[i];
      if( c->aNull ) c->aNull += iRepl;
      if( c->aDouble ) c->aDouble += iRepl;
      if( c->aInt ) c->aInt += iRepl;
      if( c->azText ) c->azText += iRepl;
      if( c->anText ) c->anText += iRepl;
    }
    tsBufInit(&out);
    if( tsChunkEncode(nRow-iRepl, aT+iRepl, aV ? aV+iRepl : 0, p->s->nMeas, aSub, &out)
        !=TS_CHUNK_OK || out.bErr ){
      tsBufFree(&out);
      mtErr(p, SQLITE_NOMEM, "ts_maintain %s: re-encoding chunk %lld failed", p->zTab,
            (long long)pC->iId);
      goto done;
    }
    pC->aRepl = tsBufDetach(&out, &pC->nRepl);
    pC->tReplMin = aT[iRepl]; pC->tReplMax = aT[nRow-1]; pC->nReplRow = nRow-iRepl;
  }
done:
  sqlite3_free(aCol);
  tsChunkReaderFree(pR);
}

/* Insert the manifest row of a finished object (inside the commit
** transaction). */
static void mtManifestInsert(MtRun *p, sqlite3_stmt *pIns, MtObj *o){
  sqlite3_bind_text(pIns, 1, o->zKey, -1, SQLITE_STATIC);
  sqlite3_bind_int64(pIns, 2, o->tMin);
  sqlite3_bind_int64(pIns, 3, o->tMax);
  sqlite3_bind_int64(pIns, 4, o->nRow);
  sqlite3_bind_int64(pIns, 5, o->nByte);
  if( o->bPk ){
    sqlite3_bind_text(pIns, 6, o->zPkMin, o->nPkMin, SQLITE_STATIC);
    sqlite3_bind_text(pIns, 7, o->zPkMax, o->nPkMax, SQLITE_STATIC);
  }else{
    sqlite3_bind_null(pIns, 6); sqlite3_bind_null(pIns, 7);
  }
  sqlite3_bind_blob(pIns, 8, o->aBloom, (int)o->nBloom, SQLITE_STATIC);
  sqlite3_bind_blob(pIns, 9, o->aTail, (int)o->nTail, SQLITE_STATIC);
  sqlite3_bind_int64(pIns, 10, p->iNow);
  sqlite3_bind_text(pIns, 11, p->zWriter, -1, SQLITE_STATIC);
  sqlite3_bind_int64(pIns, 12, o->nSeries);
  sqlite3_step(pIns);
  if( sqlite3_reset(pIns)!=SQLITE_OK ) mtSqlErr(p, "inserting the manifest row");
}

static sqlite3_stmt *mtManifestInsertStmt(MtRun *p){
  return mtPrepare(p, "INSERT INTO \"%w\".\"%w_objects\"(key, tmin, tmax, nrow, nbyte, pk_min,"
                      " pk_max, series_filter, footer, created, writer, nseries)"
                      " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)", p->zDb, p->zTab);
}

static void mtRound(MtRun *p, MtSeries *aS, int iFirst, int iEnd){
  MtChunk *aC = 0;
  int nC = 0, nCAlloc = 0, i, nObj = 0, bAbort = 0;
  MtObj **apObj = 0;
  int64_t nMoved = 0, nExpired = 0, nRewritten = 0;
  sqlite3_stmt *pSel = 0, *pChk = 0, *pIns = 0, *pDel = 0, *pRepl = 0, *pSer = 0;
  int iBucket = aS[iFirst].iBucket;

  /* Read and upload, with no transaction open across the uploads. */
  pSel = mtPrepare(p, "SELECT id, tmin, tmax, nrow, data FROM \"%w\".\"%w_chunks\" "
                      "WHERE sid=?1 AND tmin < ?2 ORDER BY tmin", p->zDb, p->zTab);
  for(i=iFirst; pSel && i<iEnd && p->rc==SQLITE_OK; i++){
    sqlite3_bind_int64(pSel, 1, aS[i].iSid);
    sqlite3_bind_int64(pSel, 2, p->iBound);
    while( p->rc==SQLITE_OK && sqlite3_step(pSel)==SQLITE_ROW ){
      MtChunk *c;
      const void *aData = sqlite3_column_blob(pSel, 4);
      int nData = sqlite3_column_bytes(pSel, 4);
      if( nC==nCAlloc ){
        MtChunk *aNew = sqlite3_realloc64(aC, sizeof(MtChunk)*(nCAlloc = nCAlloc ? 2*nCAlloc : 64));
        if( aNew==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); break; }
        aC = aNew;
      }
      c = &aC[nC++];
      memset(c, 0, sizeof(*c));
      c->iId = sqlite3_column_int64(pSel, 0);
      c->iSid = aS[i].iSid;
      c->tMin = sqlite3_column_int64(pSel, 1);
      c->tMax = sqlite3_column_int64(pSel, 2);
      c->nRow = sqlite3_column_int64(pSel, 3);
      c->nData = nData;
      c->h = mtHash64(aData, (size_t)nData);
      mtChunkRoute(p, aS, i, c, aData, nData, &apObj, &nObj, iBucket, &nMoved, &nExpired);
    }
    sqlite3_reset(pSel);
  }
  sqlite3_finalize(pSel);
  for(i=0; i<nObj && p->rc==SQLITE_OK; i++) mtObjFinish(p, apObj[i]);
  if( p->rc ) goto done;

  if( tsMaintainTestHook ) tsMaintainTestHook(p->db, "uploaded");
  /* Commit: one write transaction, no network I/O inside it. */
  if( mtExec(p, "BEGIN IMMEDIATE") ) goto done;
  pChk = mtPrepare(p, "SELECT sid, tmin, tmax, nrow, data FROM \"%w\".\"%w_chunks\" WHERE id=?1",
                   p->zDb, p->zTab);
  for(i=0; pChk && i<nC && !bAbort; i++){
    sqlite3_bind_int64(pChk, 1, aC[i].iId);
    if( sqlite3_step(pChk)!=SQLITE_ROW
     || sqlite3_column_int64(pChk, 0)!=aC[i].iSid
     || sqlite3_column_int64(pChk, 1)!=aC[i].tMin
     || sqlite3_column_int64(pChk, 2)!=aC[i].tMax
     || sqlite3_column_int64(pChk, 3)!=aC[i].nRow
     || sqlite3_column_bytes(pChk, 4)!=aC[i].nData
     || mtHash64(sqlite3_column_blob(pChk, 4), (size_t)aC[i].nData)!=aC[i].h ){
      bAbort = 1;
    }
    sqlite3_reset(pChk);
  }
  sqlite3_finalize(pChk);
  if( bAbort || p->rc ){
    sqlite3_exec(p->db, "ROLLBACK", 0, 0, 0);
    if( bAbort ) p->nAborted++;
    for(i=0; i<nObj; i++) mtObjRemove(p, apObj[i]);
    goto done;
  }
  pIns = mtManifestInsertStmt(p);
  for(i=0; pIns && i<nObj && p->rc==SQLITE_OK; i++) mtManifestInsert(p, pIns, apObj[i]);
  sqlite3_finalize(pIns);
  pDel = mtPrepare(p, "DELETE FROM \"%w\".\"%w_chunks\" WHERE id=?1", p->zDb, p->zTab);
  pRepl = mtPrepare(p, "INSERT INTO \"%w\".\"%w_chunks\"(sid, tmin, tmax, nrow, data)"
                       " VALUES(?1,?2,?3,?4,?5)", p->zDb, p->zTab);
  for(i=0; pDel && pRepl && i<nC && p->rc==SQLITE_OK; i++){
    sqlite3_bind_int64(pDel, 1, aC[i].iId);
    sqlite3_step(pDel);
    if( sqlite3_reset(pDel)!=SQLITE_OK ){ mtSqlErr(p, "deleting a moved chunk"); break; }
    if( aC[i].aRepl ){
      sqlite3_bind_int64(pRepl, 1, aC[i].iSid);
      sqlite3_bind_int64(pRepl, 2, aC[i].tReplMin);
      sqlite3_bind_int64(pRepl, 3, aC[i].tReplMax);
      sqlite3_bind_int64(pRepl, 4, aC[i].nReplRow);
      sqlite3_bind_blob(pRepl, 5, aC[i].aRepl, (int)aC[i].nRepl, SQLITE_STATIC);
      sqlite3_step(pRepl);
      if( sqlite3_reset(pRepl)!=SQLITE_OK ){ mtSqlErr(p, "writing the rest of a split chunk"); break; }
      nRewritten++;
    }
  }
  sqlite3_finalize(pDel);
  sqlite3_finalize(pRepl);
  pSer = mtPrepare(p, "UPDATE \"%w\".\"%w_series\" SET"
                      " tmin=(SELECT min(tmin) FROM \"%w\".\"%w_chunks\" WHERE sid=?1),"
                      " tmax=(SELECT max(tmax) FROM \"%w\".\"%w_chunks\" WHERE sid=?1) WHERE id=?1",
                   p->zDb, p->zTab, p->zDb, p->zTab, p->zDb, p->zTab);
  for(i=iFirst; pSer && i<iEnd && p->rc==SQLITE_OK; i++){
    sqlite3_bind_int64(pSer, 1, aS[i].iSid);
    sqlite3_step(pSer);
    if( sqlite3_reset(pSer)!=SQLITE_OK ) mtSqlErr(p, "updating the series time range");
  }
  sqlite3_finalize(pSer);
  if( p->rc==SQLITE_OK ) mtLeaseWrite(p);
  if( p->rc==SQLITE_OK && mtExec(p, "COMMIT")==SQLITE_OK ){
    p->nRowMoved += nMoved;
    p->nRowExpired += nExpired;
    p->nChunkMoved += nC;
    p->nChunkRewritten += nRewritten;
    p->nObj += nObj;
    for(i=0; i<nObj; i++){
      p->nByte += apObj[i]->nByte;
      if( p->keys.n ) tsBufAppendByte(&p->keys, ',');
      tsJsonQuote(&p->keys, apObj[i]->zKey, strlen(apObj[i]->zKey));
    }
  }else{
    sqlite3_exec(p->db, "ROLLBACK", 0, 0, 0);
    for(i=0; i<nObj; i++) mtObjRemove(p, apObj[i]);
  }

done:
  for(i=0; i<nObj; i++){
    if( p->rc ) mtObjRemove(p, apObj[i]);
    mtObjFree(apObj[i]);
  }
  sqlite3_free(apObj);
  for(i=0; i<nC; i++) free(aC[i].aRepl);   /* tsBufDetach: malloc */
  sqlite3_free(aC);
}

static void mtTier(MtRun *p){
  int n = 0, i, j;
  MtSeries *aS = mtSeriesLoad(p, &n);
  if( aS==0 ) return;
  for(i=0; i<n && p->rc==SQLITE_OK; i=j){
    for(j=i+1; j<n && aS[j].iBucket==aS[i].iBucket; j++){}
    mtRound(p, aS, i, j);
  }
  mtSeriesFree(aS, n, p->s->nDim);
}

/*************************************************************************
** Object rewrites: retention of partly expired objects and compaction.
**
** Both read a set of manifest objects of one day and bucket (each sorted by
** (partition key, series key, time), cold-format.md section 2), merge them
** into one new object in the same order, dropping rows older than the expiry
** and keeping one row per record key (the higher version; on a tie the row
** of the older object, as Timestream keeps the first write), upload it, and
** then in one transaction insert its manifest row and delete the inputs'
** rows (after checking they are still there).  The inputs are deleted from
** the store after COMMIT; a crash before that leaves them as orphans of our
** writer id, which step 6 removes.  One row group of each input is decoded
** at a time, so memory is bounded by the number of inputs, not their size.
*/

/* One input object of a rewrite and its read cursor. */
typedef struct MtIn MtIn;
struct MtIn {
  MtRun *p;
  sqlite3_int64 iId;            /* manifest id */
  char *zKey;                   /* object key (owned) */
  int64_t nByte;                /* object size (manifest) */
  TsPqReader *pR;               /* reader (owned) */
  int aMap[TS_MT_MAXCOL];       /* logical column -> file column */
  int iRg, nRg;                 /* current row group, count */
  TsPqColumnData *aCol;         /* nCol decoded columns of row group iRg (owned) */
  int64_t nRow, iRow;           /* rows in aCol, current row */
  int bEof;
  TsBuf key;                    /* series key of the current row */
  const char *zPk; int nPk;     /* partition key of the current row (into aCol) */
  int bPkNull;
  int64_t t, v;                 /* time and version of the current row */
};

static int mtInRead(void *pCtx, int64_t iOff, int64_t n, void *pOut){
  MtIn *pIn = (MtIn*)pCtx;
  TsBuf b;
  char *zE = 0;
  int rc = 1;
  tsBufInit(&b);
  if( tsObjGet(pIn->p->pStore, pIn->zKey, iOff, n, &b, &zE)==TS_OBJ_OK && (int64_t)b.n==n ){
    memcpy(pOut, b.a, (size_t)n);
    rc = 0;
  }else{
    mtErr(pIn->p, SQLITE_IOERR, "ts_maintain %s: reading %s: %s", pIn->p->zTab, pIn->zKey,
          zE ? zE : "short read");
  }
  free(zE);
  tsBufFree(&b);
  return rc;
}

static void mtInClear(MtIn *pIn, int nCol){
  int i;
  if( pIn->aCol ){
    for(i=0; i<nCol; i++) tsPqColumnDataFree(&pIn->aCol[i]);
    sqlite3_free(pIn->aCol);
  }
  pIn->aCol = 0;
  tsPqReaderFree(pIn->pR);
  pIn->pR = 0;
  tsBufFree(&pIn->key);
  sqlite3_free(pIn->zKey);
  pIn->zKey = 0;
}

/* Number of logical columns: time, dims, measure_name, measures, version. */
#define mtNCol(s) (3 + (s)->nDim + (s)->nMeas)

static const char *mtColName(const TsTableSchema *s, int j){
  if( j==0 ) return "time";
  if( j<=s->nDim ) return s->azDim[j-1];
  if( j==1+s->nDim ) return "measure_name";
  if( j<2+s->nDim+s->nMeas ) return s->azMeas[j-2-s->nDim];
  return "version";
}

/* Value of string column j at the current row, or NULL. */
static const char *mtInStr(MtIn *pIn, int j, int *pn){
  TsPqColumnData *c = &pIn->aCol[j];
  int64_t r = pIn->iRow;
  if( c->aNull && c->aNull[r] ){ *pn = 0; return 0; }
  *pn = (int)(c->aOff[r+1] - c->aOff[r]);
  return (const char*)c->aData + c->aOff[r];
}

/* Load the key fields of the current row (series key, partition key, time,
** version). */
static void mtInRowKey(MtIn *pIn){
  const TsTableSchema *s = pIn->p->s;
  int i, n;
  const char *z;
  tsBufReset(&pIn->key);
  for(i=0; i<s->nDim; i++){
    z = mtInStr(pIn, 1+i, &n);
    if( z==0 ){ tsBufAppendByte(&pIn->key, 0); continue; }
    tsBufAppendByte(&pIn->key, 1);
    tsBufAppendVarint(&pIn->key, (uint64_t)n);
    tsBufAppend(&pIn->key, z, (size_t)n);
  }
  z = mtInStr(pIn, 1+s->nDim, &n);
  tsBufAppendVarint(&pIn->key, (uint64_t)n);
  if( z ) tsBufAppend(&pIn->key, z, (size_t)n);
  if( pIn->key.bErr ) mtErr(pIn->p, SQLITE_NOMEM, "ts_maintain: out of memory");
  if( s->iPartDim>=0 ){
    pIn->zPk = mtInStr(pIn, 1+s->iPartDim, &pIn->nPk);
    pIn->bPkNull = pIn->zPk==0;
    if( pIn->zPk==0 ) pIn->zPk = "";
  }else{
    pIn->zPk = z ? z : ""; pIn->nPk = n; pIn->bPkNull = 0;
  }
  pIn->t = pIn->aCol[0].aInt[pIn->iRow];
  pIn->v = pIn->aCol[mtNCol(s)-1].aInt[pIn->iRow];
}

/* Move to the next row with time >= iMin (the first one when called with
** bEof==0 and aCol==0).  Sets bEof at the end. */
static void mtInNext(MtIn *pIn, int64_t iMin){
  MtRun *p = pIn->p;
  int nCol = mtNCol(p->s), j;
  for(;;){
    if( pIn->aCol ) pIn->iRow++;
    while( pIn->aCol==0 || pIn->iRow>=pIn->nRow ){
      if( pIn->aCol ){
        for(j=0; j<nCol; j++) tsPqColumnDataFree(&pIn->aCol[j]);
        pIn->iRg++;
      }else{
        pIn->aCol = sqlite3_malloc64(sizeof(TsPqColumnData)*nCol);
        if( pIn->aCol==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); pIn->bEof = 1; return; }
        memset(pIn->aCol, 0, sizeof(TsPqColumnData)*nCol);
      }
      pIn->iRow = 0;
      pIn->nRow = 0;
      if( pIn->iRg>=pIn->nRg || p->rc ){ pIn->bEof = 1; return; }
      for(j=0; j<nCol && p->rc==SQLITE_OK; j++){
        if( tsPqReaderReadColumn(pIn->pR, pIn->iRg, pIn->aMap[j], 0, &pIn->aCol[j])!=TS_PQ_OK ){
          mtErr(p, SQLITE_CORRUPT, "ts_maintain %s: object %s: %s", p->zTab, pIn->zKey,
                tsPqReaderErrmsg(pIn->pR));
        }else if( j>0 && pIn->aCol[j].nRow!=pIn->aCol[0].nRow ){
          mtErr(p, SQLITE_CORRUPT, "ts_maintain %s: object %s: column %s has %lld rows in row "
                "group %d, time has %lld", p->zTab, pIn->zKey, mtColName(p->s, j),
                (long long)pIn->aCol[j].nRow, pIn->iRg, (long long)pIn->aCol[0].nRow);
        }
      }
      if( p->rc ){ pIn->bEof = 1; return; }
      pIn->nRow = pIn->aCol[0].nRow;
    }
    if( pIn->aCol[0].aInt[pIn->iRow]>=iMin ) break;
  }
  mtInRowKey(pIn);
}

/* Open input pIn (iId, zKey, nByte set) with its stored footer. */
static void mtInOpen(MtRun *p, MtIn *pIn, const void *aTail, int nTail){
  const TsTableSchema *s = p->s;
  char *zE = 0;
  int j, nCol = mtNCol(s);
  pIn->p = p;
  tsBufInit(&pIn->key);
  if( nCol>TS_MT_MAXCOL ){
    mtErr(p, SQLITE_ERROR, "ts_maintain %s: too many columns to rewrite objects", p->zTab);
    return;
  }
  if( (aTail && nTail>0
       ? tsPqReaderOpenTail(&pIn->pR, mtInRead, pIn, pIn->nByte, aTail, (size_t)nTail, &zE)
       : tsPqReaderOpen(&pIn->pR, mtInRead, pIn, pIn->nByte, &zE))!=TS_PQ_OK ){
    mtErr(p, SQLITE_CORRUPT, "ts_maintain %s: object %s: %s", p->zTab, pIn->zKey,
          zE ? zE : "unreadable footer");
    free(zE);
    return;
  }
  for(j=0; j<nCol; j++){
    pIn->aMap[j] = tsPqReaderFindColumn(pIn->pR, mtColName(s, j));
    if( pIn->aMap[j]<0 ){
      mtErr(p, SQLITE_CORRUPT, "ts_maintain %s: object %s has no column %s", p->zTab,
            pIn->zKey, mtColName(s, j));
      return;
    }
  }
  pIn->nRg = tsPqReaderRowGroupCount(pIn->pR);
  mtInNext(pIn, p->iExpire);
}

/* Order of the current rows of two inputs: partition key (NULL last),
** series key, time. */
static int mtInCmp(const MtIn *a, const MtIn *b){
  int c;
  if( a->bPkNull!=b->bPkNull ) return a->bPkNull ? 1 : -1;
  c = mtBytesCmp(a->zPk, a->nPk, b->zPk, b->nPk);
  if( c ) return c;
  c = mtBytesCmp(a->key.a, (int)a->key.n, b->key.a, (int)b->key.n);
  if( c ) return c;
  return a->t<b->t ? -1 : a->t>b->t;
}

/* 1 if the measures of the current rows of a and b differ. */
static int mtInValuesDiffer(const MtIn *a, const MtIn *b){
  const TsTableSchema *s = a->p->s;
  int i;
  for(i=0; i<s->nMeas; i++){
    int j = 2 + s->nDim + i;
    const TsPqColumnData *ca = &a->aCol[j], *cb = &b->aCol[j];
    int na = ca->aNull && ca->aNull[a->iRow], nb = cb->aNull && cb->aNull[b->iRow];
    if( na!=nb ) return 1;
    if( na ) continue;
    switch( s->aMeasType[i] ){
      case TS_TYPE_DOUBLE:
        if( memcmp(&ca->aDbl[a->iRow], &cb->aDbl[b->iRow], sizeof(double)) ) return 1;
        break;
      case TS_TYPE_VARCHAR:
        if( mtBytesCmp(ca->aData + ca->aOff[a->iRow], (int)(ca->aOff[a->iRow+1]-ca->aOff[a->iRow]),
                       cb->aData + cb->aOff[b->iRow], (int)(cb->aOff[b->iRow+1]-cb->aOff[b->iRow])) )
          return 1;
        break;
      default:
        if( ca->aInt[a->iRow]!=cb->aInt[b->iRow] ) return 1;
        break;
    }
  }
  return 0;
}

/* Write the current row of pIn to o; a new series starts a new series entry
** (statistics and filter elements). */
static void mtInWrite(MtRun *p, MtObj *o, MtIn *pIn, TsBuf *pLast, int *piSeries){
  const TsTableSchema *s = p->s;
  TsPqWriter *w = o->pPw;
  int i, j = 0, n;
  const char *z;
  if( pLast->n!=pIn->key.n || memcmp(pLast->a, pIn->key.a, pIn->key.n)!=0 ){
    MtSeries ser;
    char **azDim = sqlite3_malloc64(sizeof(char*)*(s->nDim+1));
    memset(&ser, 0, sizeof(ser));
    if( azDim==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); return; }
    for(i=0; i<s->nDim; i++){
      z = mtInStr(pIn, 1+i, &n);
      azDim[i] = z ? sqlite3_mprintf("%.*s", n, z) : 0;
      if( z && azDim[i]==0 ) mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory");
    }
    z = mtInStr(pIn, 1+s->nDim, &n);
    ser.zMName = sqlite3_mprintf("%.*s", n, z ? z : "");
    if( ser.zMName==0 ) mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory");
    ser.aKey = pIn->key.a; ser.nKey = (int)pIn->key.n;
    ser.azDim = azDim;
    ser.zPk = pIn->zPk; ser.nPk = pIn->nPk; ser.bPkNull = pIn->bPkNull;
    if( p->rc==SQLITE_OK ) mtObjSeries(p, o, &ser, ++(*piSeries));
    for(i=0; i<s->nDim; i++) sqlite3_free(azDim[i]);
    sqlite3_free(azDim);
    sqlite3_free(ser.zMName);
    tsBufReset(pLast);
    tsBufAppend(pLast, pIn->key.a, pIn->key.n);
    if( pLast->bErr ) mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory");
    if( p->rc ) return;
  }
  tsPqWriterInt64(w, j++, pIn->t);
  for(i=0; i<=s->nDim; i++){
    z = mtInStr(pIn, 1+i, &n);
    if( z ) tsPqWriterText(w, j++, z, n); else tsPqWriterNull(w, j++);
  }
  for(i=0; i<s->nMeas; i++){
    const TsPqColumnData *c = &pIn->aCol[2+s->nDim+i];
    int64_t r = pIn->iRow;
    if( c->aNull && c->aNull[r] ){ tsPqWriterNull(w, j++); continue; }
    switch( s->aMeasType[i] ){
      case TS_TYPE_DOUBLE:  tsPqWriterDouble(w, j++, c->aDbl[r]); break;
      case TS_TYPE_VARCHAR: tsPqWriterText(w, j++, (const char*)c->aData + c->aOff[r],
                                           c->aOff[r+1] - c->aOff[r]); break;
      case TS_TYPE_BOOLEAN: tsPqWriterBool(w, j++, c->aInt[r]!=0); break;
      default:              tsPqWriterInt64(w, j++, c->aInt[r]); break;
    }
  }
  tsPqWriterInt64(w, j++, pIn->v);
  if( tsPqWriterEndRow(w)!=TS_PQ_OK ){
    mtErr(p, SQLITE_IOERR, "ts_maintain %s: writing %s: %s", p->zTab, o->zKey,
          o->zSinkErr ? o->zSinkErr : tsPqWriterErrmsg(w));
    return;
  }
  if( o->nRow==0 || pIn->t<o->tMin ) o->tMin = pIn->t;
  if( o->nRow==0 || pIn->t>o->tMax ) o->tMax = pIn->t;
  o->nRow++;
}

/*
** Rewrite the manifest objects aId[0..nId) (one day iDay, one bucket
** iBucket) into one object.  eWhy: 0 retention (a partly expired object),
** 1 compaction.  Errors are set on p; a changed manifest aborts quietly.
*/
static void mtRewrite(MtRun *p, const sqlite3_int64 *aId, int nId, int iBucket, int64_t iDay,
                      int eWhy){
  MtIn *aIn = 0;
  MtObj *o = 0;
  TsBuf last;
  int i, nLive = 0, iSeries = 0, bAbort = 0;
  int64_t nIn = 0, nDup = 0, nRej = 0, nInRow = 0;
  sqlite3_stmt *pSel = 0, *pChk = 0, *pIns = 0, *pDel = 0;
  char **azOld = 0;
  tsBufInit(&last);
  aIn = sqlite3_malloc64(sizeof(MtIn)*nId);
  azOld = sqlite3_malloc64(sizeof(char*)*nId);
  if( aIn==0 || azOld==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); goto done; }
  memset(aIn, 0, sizeof(MtIn)*nId);
  pSel = mtPrepare(p, "SELECT key, nbyte, footer, nrow FROM \"%w\".\"%w_objects\" WHERE id=?1",
                   p->zDb, p->zTab);
  for(i=0; pSel && i<nId && p->rc==SQLITE_OK; i++){
    aIn[i].iId = aId[i];
    sqlite3_bind_int64(pSel, 1, aId[i]);
    if( sqlite3_step(pSel)==SQLITE_ROW ){
      aIn[i].zKey = sqlite3_mprintf("%s", (const char*)sqlite3_column_text(pSel, 0));
      aIn[i].nByte = sqlite3_column_int64(pSel, 1);
      nInRow += sqlite3_column_int64(pSel, 3);
      if( aIn[i].zKey==0 ) mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory");
      else mtInOpen(p, &aIn[i], sqlite3_column_blob(pSel, 2), sqlite3_column_bytes(pSel, 2));
      nIn++;
    }
    sqlite3_reset(pSel);
  }
  sqlite3_finalize(pSel);
  if( p->rc || nIn<nId ) goto done;
  /* k-way merge. */
  for(;;){
    int iMin = -1;
    for(i=0; i<nId; i++){
      if( aIn[i].bEof ) continue;
      if( iMin<0 || mtInCmp(&aIn[i], &aIn[iMin])<0 ) iMin = i;
    }
    if( iMin<0 || p->rc ) break;
    {
      /* Every input at the same record key: the winner is the highest
      ** version, on a tie the first input (older manifest id). */
      int iWin = iMin;
      for(i=iMin+1; i<nId; i++){
        if( aIn[i].bEof || mtInCmp(&aIn[i], &aIn[iMin])!=0 ) continue;
        nDup++;
        if( aIn[i].v>aIn[iWin].v ){
          iWin = i;
        }else if( aIn[i].v==aIn[iWin].v && mtInValuesDiffer(&aIn[i], &aIn[iWin]) ){
          nRej++;
        }
      }
      if( o==0 ){
        o = mtObjOpen(p, iBucket, iDay);
        if( o==0 ) break;
      }
      mtInWrite(p, o, &aIn[iWin], &last, &iSeries);
      for(i=nId-1; i>=iMin; i--){
        if( i!=iMin && (aIn[i].bEof || mtInCmp(&aIn[i], &aIn[iMin])!=0) ) continue;
        if( i!=iMin ) mtInNext(&aIn[i], p->iExpire);
      }
      mtInNext(&aIn[iMin], p->iExpire);
    }
  }
  if( p->rc ) goto done;
  if( o ) mtObjFinish(p, o);
  if( p->rc ) goto done;
  if( tsMaintainTestHook ) tsMaintainTestHook(p->db, eWhy ? "compact-uploaded" : "trim-uploaded");

  if( mtExec(p, "BEGIN IMMEDIATE") ) goto done;
  pChk = mtPrepare(p, "SELECT key FROM \"%w\".\"%w_objects\" WHERE id=?1", p->zDb, p->zTab);
  for(i=0; pChk && i<nId && !bAbort; i++){
    sqlite3_bind_int64(pChk, 1, aIn[i].iId);
    if( sqlite3_step(pChk)!=SQLITE_ROW
     || strcmp((const char*)sqlite3_column_text(pChk, 0), aIn[i].zKey)!=0 ) bAbort = 1;
    sqlite3_reset(pChk);
  }
  sqlite3_finalize(pChk);
  if( bAbort || p->rc ){
    sqlite3_exec(p->db, "ROLLBACK", 0, 0, 0);
    if( bAbort ) p->nAborted++;
    if( o ) mtObjRemove(p, o);
    goto done;
  }
  if( o ){
    pIns = mtManifestInsertStmt(p);
    if( pIns ) mtManifestInsert(p, pIns, o);
    sqlite3_finalize(pIns);
  }
  pDel = mtPrepare(p, "DELETE FROM \"%w\".\"%w_objects\" WHERE id=?1", p->zDb, p->zTab);
  for(i=0; pDel && i<nId && p->rc==SQLITE_OK; i++){
    sqlite3_bind_int64(pDel, 1, aIn[i].iId);
    sqlite3_step(pDel);
    if( sqlite3_reset(pDel)!=SQLITE_OK ) mtSqlErr(p, "deleting a rewritten manifest row");
  }
  sqlite3_finalize(pDel);
  if( p->rc==SQLITE_OK ) mtLeaseWrite(p);
  if( p->rc==SQLITE_OK && mtExec(p, "COMMIT")==SQLITE_OK ){
    char *zE = 0;
    int64_t nOut = o ? o->nRow : 0;
    for(i=0; i<nId; i++){ azOld[nLive++] = aIn[i].zKey; }
    /* Not part of the table any more; a failure leaves orphans for step 6. */
    if( tsObjDeleteMany(p->pStore, (const char*const*)azOld, nLive, &zE)!=TS_OBJ_OK ){}
    free(zE);
    if( eWhy==0 ){
      p->nObjTrimmed += nId;
      p->nRowExpired += nInRow - nOut - nDup;
    }else{
      p->nObjCompacted += nId;
      if( o ) p->nCompactOut++;
    }
    p->nDupDropped += nDup;
    p->nRejected += nRej;
    if( o ){
      p->nByte += o->nByte;
      if( p->keys.n ) tsBufAppendByte(&p->keys, ',');
      tsJsonQuote(&p->keys, o->zKey, strlen(o->zKey));
    }
  }else{
    sqlite3_exec(p->db, "ROLLBACK", 0, 0, 0);
    if( o ) mtObjRemove(p, o);
  }

done:
  if( o ){
    if( p->rc ) mtObjRemove(p, o);
    mtObjFree(o);
  }
  for(i=0; aIn && i<nId; i++) mtInClear(&aIn[i], mtNCol(p->s));
  sqlite3_free(aIn);
  sqlite3_free(azOld);
  tsBufFree(&last);
}

/* The bucket number in an object key ("<t>/date=.../bucket=<b>/..."), -1 if
** the key has none. */
static int mtKeyBucket(const char *zKey){
  const char *z = strstr(zKey, "/bucket=");
  int b = 0, n = 0;
  if( z==0 ) return -1;
  for(z+=8; *z>='0' && *z<='9' && n<6; z++, n++) b = b*10 + (*z-'0');
  return n>0 && *z=='/' ? b : -1;
}

/* A manifest object considered for trimming or compaction. */
typedef struct MtCand MtCand;
struct MtCand {
  sqlite3_int64 iId;
  int64_t iDay, nByte;
  int iBucket;
};

static int mtCandCmp(const void *pa, const void *pb){
  const MtCand *a = (const MtCand*)pa, *b = (const MtCand*)pb;
  if( a->iDay!=b->iDay ) return a->iDay<b->iDay ? -1 : 1;
  if( a->iBucket!=b->iBucket ) return a->iBucket<b->iBucket ? -1 : 1;
  return a->iId<b->iId ? -1 : a->iId>b->iId;
}

/* Objects of our writer selected by zWhere (bound ?1 = writer, ?2 = iArg),
** sorted by (day, bucket, id).  sqlite3_free the result. */
static MtCand *mtCandLoad(MtRun *p, const char *zWhere, int64_t iArg, int *pn){
  MtCand *a = 0;
  int n = 0, nAlloc = 0;
  sqlite3_stmt *pStmt = mtPrepare(p, "SELECT id, key, nbyte, tmin FROM \"%w\".\"%w_objects\""
                                     " WHERE writer=?1 AND %s", p->zDb, p->zTab, zWhere);
  *pn = 0;
  if( pStmt==0 ) return 0;
  sqlite3_bind_text(pStmt, 1, p->zWriter, -1, SQLITE_STATIC);
  sqlite3_bind_int64(pStmt, 2, iArg);
  while( p->rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zKey = (const char*)sqlite3_column_text(pStmt, 1);
    int iB = zKey ? mtKeyBucket(zKey) : -1;
    if( iB<0 ) continue;                   /* not a key of ours: leave it */
    if( n==nAlloc ){
      MtCand *aNew = sqlite3_realloc64(a, sizeof(MtCand)*(nAlloc = nAlloc ? 2*nAlloc : 64));
      if( aNew==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); break; }
      a = aNew;
    }
    a[n].iId = sqlite3_column_int64(pStmt, 0);
    a[n].nByte = sqlite3_column_int64(pStmt, 2);
    a[n].iDay = tsFloorDiv(sqlite3_column_int64(pStmt, 3), MT_NS_PER_DAY);
    a[n].iBucket = iB;
    n++;
  }
  if( sqlite3_finalize(pStmt)!=SQLITE_OK ) mtSqlErr(p, "reading the manifest");
  if( p->rc ){ sqlite3_free(a); return 0; }
  if( n>1 ) qsort(a, n, sizeof(MtCand), mtCandCmp);
  *pn = n;
  return a;
}

/* Retention of partly expired objects (tmin < expiry <= tmax): each is
** rewritten without its expired rows. */
static void mtTrim(MtRun *p){
  int n = 0, i;
  int64_t nDone = 0;
  MtCand *a = mtCandLoad(p, "tmin < ?2", p->iExpire, &n);
  for(i=0; i<n && p->rc==SQLITE_OK && nDone<p->nCompactBudget; i++){
    mtRewrite(p, &a[i].iId, 1, a[i].iBucket, a[i].iDay, 0);
    nDone += a[i].nByte;
  }
  sqlite3_free(a);
}

/*
** Compaction: objects smaller than half the target of one day and bucket
** are merged, in id order, into groups of at most the target size and
** MT_COMPACT_MAXIN inputs.  A day that tiering may still add to (it ends
** after the boundary) is merged only once it has nCompactMin small
** objects, so an hourly pass does not rewrite the day every hour; an older
** day is merged as soon as it has two.  At most nCompactBudget input bytes
** per pass; the rest is left for the next pass (each merge commits on its
** own, so the work is resumable at any point).
*/
static void mtCompact(MtRun *p){
  int n = 0, i, j, k;
  int64_t nDone = 0;
  MtCand *a = mtCandLoad(p, "nbyte < ?2", p->nCompactTarget/2, &n);
  sqlite3_int64 *aId = sqlite3_malloc64(sizeof(sqlite3_int64)*MT_COMPACT_MAXIN);
  if( aId==0 && p->rc==SQLITE_OK ) mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory");
  for(i=0; aId && i<n && p->rc==SQLITE_OK && nDone<p->nCompactBudget; i=j){
    int bOpen;
    for(j=i+1; j<n && a[j].iDay==a[i].iDay && a[j].iBucket==a[i].iBucket; j++){}
    bOpen = (a[i].iDay+1)*MT_NS_PER_DAY > p->iBound;
    if( j-i < (bOpen ? p->nCompactMin : 2) ) continue;
    for(k=i; k<j && p->rc==SQLITE_OK && nDone<p->nCompactBudget; ){
      int nG = 0;
      int64_t nB = 0;
      /* Two inputs at least (each is under half the target, so two fit),
      ** then while the target and the pass's budget allow. */
      while( k<j && nG<MT_COMPACT_MAXIN && (nG<2 || (nB + a[k].nByte <= p->nCompactTarget
                                                     && nDone + nB + a[k].nByte <= p->nCompactBudget)) ){
        aId[nG++] = a[k].iId;
        nB += a[k++].nByte;
      }
      if( nG>=2 ){
        mtRewrite(p, aId, nG, a[i].iBucket, a[i].iDay, 1);
        nDone += nB;
      }
    }
  }
  sqlite3_free(aId);
  sqlite3_free(a);
}

/*************************************************************************
** Retention and orphans.
*/
static void mtRetention(MtRun *p){
  sqlite3_stmt *pStmt;
  char **azKey = 0;
  int nKey = 0, nAlloc = 0, i;
  char *zE = 0;
  if( mtExec(p, "BEGIN IMMEDIATE") ) return;
  pStmt = mtPrepare(p, "DELETE FROM \"%w\".\"%w_objects\" WHERE tmax < ?1 RETURNING key",
                    p->zDb, p->zTab);
  if( pStmt ) sqlite3_bind_int64(pStmt, 1, p->iExpire);
  while( pStmt && p->rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    if( nKey==nAlloc ){
      char **a = sqlite3_realloc64(azKey, sizeof(char*)*(nAlloc = nAlloc ? 2*nAlloc : 16));
      if( a==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); break; }
      azKey = a;
    }
    azKey[nKey] = sqlite3_mprintf("%s", (const char*)sqlite3_column_text(pStmt, 0));
    if( azKey[nKey]==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); break; }
    nKey++;
  }
  if( pStmt && sqlite3_finalize(pStmt)!=SQLITE_OK ) mtSqlErr(p, "expiring manifest rows");
  if( p->rc==SQLITE_OK && mtExec(p, "COMMIT")==SQLITE_OK ){
    p->nObjExpired += nKey;
    if( nKey && tsObjDeleteMany(p->pStore, (const char*const*)azKey, nKey, &zE)!=TS_OBJ_OK ){
      /* Not part of the table any more: the orphan pass retries them. */
    }
    free(zE);
  }else{
    sqlite3_exec(p->db, "ROLLBACK", 0, 0, 0);
  }
  for(i=0; i<nKey; i++) sqlite3_free(azKey[i]);
  sqlite3_free(azKey);
}

typedef struct MtList MtList;
struct MtList { MtRun *p; char **az; int n, nAlloc; int64_t iCutMs; };

static int mtListCb(void *pCtx, const TsObjInfo *pInfo){
  MtList *l = (MtList*)pCtx;
  const char *zBase = strrchr(pInfo->zKey, '/');
  size_t nW = strlen(l->p->zWriter);
  zBase = zBase ? zBase+1 : pInfo->zKey;
  if( strncmp(zBase, l->p->zWriter, nW)!=0 || zBase[nW]!='-' ) return 0;   /* not ours */
  if( pInfo->iMtimeMs > l->iCutMs ) return 0;                              /* in grace */
  if( l->n==l->nAlloc ){
    char **a = sqlite3_realloc64(l->az, sizeof(char*)*(l->nAlloc = l->nAlloc ? 2*l->nAlloc : 16));
    if( a==0 ) return 1;
    l->az = a;
  }
  l->az[l->n] = sqlite3_mprintf("%s", pInfo->zKey);
  if( l->az[l->n]==0 ) return 1;
  l->n++;
  return 0;
}

static void mtOrphans(MtRun *p){
  MtList l;
  char *zPrefix, *zE = 0;
  sqlite3_stmt *pStmt;
  char **azDel = 0;
  int i, nDel = 0;
  memset(&l, 0, sizeof(l));
  l.p = p;
  l.iCutMs = mtWallMs() - p->iGrace/1000000;
  zPrefix = sqlite3_mprintf("%s/", p->zTab);
  if( zPrefix==0 ){ mtErr(p, SQLITE_NOMEM, "ts_maintain: out of memory"); return; }
  if( tsObjList(p->pStore, zPrefix, mtListCb, &l, &zE)!=TS_OBJ_OK ){
    mtErr(p, SQLITE_IOERR, "ts_maintain %s: listing %s: %s", p->zTab, zPrefix, zE ? zE : "failed");
  }
  free(zE); zE = 0;
  sqlite3_free(zPrefix);
  /* Keep only the keys the manifest does not hold (read after the list, so
  ** an object committed meanwhile is seen as committed). */
  pStmt = mtPrepare(p, "SELECT 1 FROM \"%w\".\"%w_objects\" WHERE key=?1", p->zDb, p->zTab);
  azDel = l.n ? sqlite3_malloc64(sizeof(char*)*l.n) : 0;
  for(i=0; pStmt && azDel && i<l.n; i++){
    sqlite3_bind_text(pStmt, 1, l.az[i], -1, SQLITE_STATIC);
    if( sqlite3_step(pStmt)!=SQLITE_ROW ) azDel[nDel++] = l.az[i];
    sqlite3_reset(pStmt);
  }
  sqlite3_finalize(pStmt);
  if( p->rc==SQLITE_OK && nDel ){
    if( tsObjDeleteMany(p->pStore, (const char*const*)azDel, nDel, &zE)!=TS_OBJ_OK ){
      mtErr(p, SQLITE_IOERR, "ts_maintain %s: deleting orphans: %s", p->zTab, zE ? zE : "failed");
    }else{
      p->nOrphan += nDel;
    }
    free(zE);
  }
  sqlite3_free(azDel);
  for(i=0; i<l.n; i++) sqlite3_free(l.az[i]);
  sqlite3_free(l.az);
}

/*************************************************************************
** ts_maintain([table [, options_json]])
*/
static void mtTable(MtRun *p, TsJsonW *pJw){
  int64_t t0 = mtWallMs();
  p->iNow = tsEnvNow(p->pEnv);
  mtConfigLoad(p);
  if( p->rc==SQLITE_OK ) mtStoreOpen(p);
  if( p->rc==SQLITE_OK && mtLeaseAcquire(p) ){
    p->iBound = p->iNow - p->s->iMemRet;
    p->iExpire = p->iBound - p->s->iMagRet;
    mtTier(p);
    if( p->rc==SQLITE_OK ) mtRetention(p);
    if( p->rc==SQLITE_OK ) mtTrim(p);
    if( p->rc==SQLITE_OK ) mtCompact(p);
    if( p->rc==SQLITE_OK ) mtOrphans(p);
    mtLeaseRelease(p);
    /* Chunks were deleted and written behind the handle's back. */
    tsTableInvalidate(p->pTab);
  }
  if( p->rc ) return;
  tsJwObjBegin(pJw);
  tsJwKeyStr(pJw, "table", p->zTab);
  if( p->zBusy ){
    tsJwKeyStr(pJw, "busy", p->zBusy);
    tsJwKeyInt(pJw, "lease_expires_ms", p->iBusyExp);
  }else{
    tsJwKeyStr(pJw, "writer", p->zWriter);
    tsJwKeyInt(pJw, "boundary", p->iBound);
    tsJwKeyInt(pJw, "rows_moved", p->nRowMoved);
    tsJwKeyInt(pJw, "chunks_moved", p->nChunkMoved);
    tsJwKeyInt(pJw, "chunks_split", p->nChunkRewritten);
    tsJwKeyInt(pJw, "objects_written", p->nObj);
    tsJwKeyInt(pJw, "bytes_written", p->nByte);
    tsJwKeyInt(pJw, "rows_expired", p->nRowExpired);
    tsJwKeyInt(pJw, "objects_expired", p->nObjExpired);
    tsJwKeyInt(pJw, "orphans_deleted", p->nOrphan);
    tsJwKeyInt(pJw, "objects_trimmed", p->nObjTrimmed);
    tsJwKeyInt(pJw, "objects_compacted", p->nObjCompacted);
    tsJwKeyInt(pJw, "compacted_into", p->nCompactOut);
    tsJwKeyInt(pJw, "duplicates_dropped", p->nDupDropped);
    tsJwKeyInt(pJw, "rows_rejected", p->nRejected);
    tsJwKeyInt(pJw, "rounds_aborted", p->nAborted);
    tsJwKey(pJw, "keys");
    tsJwArrBegin(pJw);
    if( p->keys.n ) tsJwRaw(pJw, (const char*)p->keys.a, p->keys.n);
    tsJwArrEnd(pJw);
  }
  tsJwKeyInt(pJw, "ms", mtWallMs() - t0);
  tsJwObjEnd(pJw);
}

static void mtRunClear(MtRun *p){
  sqlite3_free(p->zWriter);
  sqlite3_free(p->zEnc);
  sqlite3_free(p->zKmsKey);
  sqlite3_free(p->zHolder);
  sqlite3_free(p->zBusy);
  tsObjClose(p->pStore);
  tsBufFree(&p->keys);
  tsTableRelease(p->pTab);
  memset(p, 0, sizeof(*p));
}

/* Options of one ts_maintain call (the second argument). */
typedef struct MtOpts MtOpts;
struct MtOpts {
  int64_t iGrace;              /* orphan_grace, ns */
  int64_t nTarget;             /* compact_target, bytes */
  int64_t nBudget;             /* compact_max_bytes, bytes */
  int nMin;                    /* compact_min_objects */
};

/* A size: an integer (bytes) or text "<n>[KB|MB|GB]" (1024-based).  0 ok. */
static int mtParseSize(sqlite3_value *pV, int64_t *pn){
  const char *z;
  int64_t v = 0, m = 1;
  int n = 0;
  if( sqlite3_value_type(pV)==SQLITE_INTEGER ){
    *pn = sqlite3_value_int64(pV);
    return *pn<0;
  }
  z = (const char*)sqlite3_value_text(pV);
  if( z==0 ) return 1;
  while( z[n]>='0' && z[n]<='9' && n<15 ){ v = v*10 + (z[n]-'0'); n++; }
  if( n==0 ) return 1;
  if( sqlite3_stricmp(z+n, "KB")==0 ) m = 1024;
  else if( sqlite3_stricmp(z+n, "MB")==0 ) m = 1024*1024;
  else if( sqlite3_stricmp(z+n, "GB")==0 ) m = 1024*1024*1024;
  else if( z[n] ) return 1;
  *pn = v*m;
  return 0;
}

/* Parse the options argument into *pO; 0 or an sqlite3_malloc'd message. */
static char *mtOptions(sqlite3 *db, sqlite3_value *pArg, MtOpts *pO){
  sqlite3_stmt *pStmt = 0;
  char *zErr = 0;
  int rc;
  if( sqlite3_prepare_v2(db, "SELECT key, value FROM json_each(CASE WHEN json_valid(?1) AND "
                         "json_type(?1)='object' THEN ?1 END)", -1, &pStmt, 0)!=SQLITE_OK ){
    return sqlite3_mprintf("ts_maintain: %s", sqlite3_errmsg(db));
  }
  sqlite3_bind_value(pStmt, 1, pArg);
  {
    sqlite3_stmt *pV = 0;
    int bObj = 0;
    if( sqlite3_prepare_v2(db, "SELECT json_valid(?1) AND json_type(?1)='object'", -1, &pV, 0)
        ==SQLITE_OK ){
      sqlite3_bind_value(pV, 1, pArg);
      if( sqlite3_step(pV)==SQLITE_ROW ) bObj = sqlite3_column_int(pV, 0);
    }
    sqlite3_finalize(pV);
    if( !bObj ){
      sqlite3_finalize(pStmt);
      return sqlite3_mprintf("ts_maintain: options must be a JSON object, e.g. "
                             "'{\"orphan_grace\":\"1h\"}'");
    }
  }
  while( zErr==0 && (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    const char *zK = (const char*)sqlite3_column_text(pStmt, 0);
    sqlite3_value *pV = sqlite3_column_value(pStmt, 1);
    const char *zV = (const char*)sqlite3_column_text(pStmt, 1);
    int64_t v = 0;
    if( zK==0 ) continue;
    if( strcmp(zK, "orphan_grace")==0 ){
      if( sqlite3_column_type(pStmt, 1)==SQLITE_INTEGER ) pO->iGrace = sqlite3_column_int64(pStmt, 1);
      else if( zV==0 || mtParseInterval(zV, &v) ){
        zErr = sqlite3_mprintf("ts_maintain: bad value for orphan_grace: '%s' "
                               "(expected an interval such as '1h' or '0s')", zV ? zV : "");
      }else pO->iGrace = v;
    }else if( strcmp(zK, "compact_target")==0 || strcmp(zK, "compact_max_bytes")==0 ){
      if( mtParseSize(pV, &v) || v<1 ){
        zErr = sqlite3_mprintf("ts_maintain: bad value for %s: '%s' (expected a size in "
                               "bytes such as 67108864 or '64MB')", zK, zV ? zV : "");
      }else if( zK[8]=='t' ){ pO->nTarget = v; }else{ pO->nBudget = v; }
    }else if( strcmp(zK, "compact_min_objects")==0 ){
      if( sqlite3_column_type(pStmt, 1)!=SQLITE_INTEGER || (v = sqlite3_column_int64(pStmt, 1))<2
       || v>MT_COMPACT_MAXIN ){
        zErr = sqlite3_mprintf("ts_maintain: bad value for compact_min_objects: '%s' "
                               "(expected an integer from 2 to %d)", zV ? zV : "", MT_COMPACT_MAXIN);
      }else pO->nMin = (int)v;
    }else{
      zErr = sqlite3_mprintf("ts_maintain: unknown option '%s' (options: orphan_grace, "
                             "compact_target, compact_max_bytes, compact_min_objects)", zK);
    }
  }
  sqlite3_finalize(pStmt);
  return zErr;
}

static void maintainFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  TsEnv *pEnv = (TsEnv*)sqlite3_user_data(ctx);
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  TsBuf out; TsJsonW jw;
  char **azTab = 0;            /* tsTableList: one allocation */
  char *zDb = 0, *zOne = 0;    /* the named table's schema and name */
  int nTab = 0, i, rc = SQLITE_OK;
  MtOpts opts;
  char *zErr = 0;
  opts.iGrace = MT_GRACE_DEFAULT;
  opts.nTarget = MT_COMPACT_TARGET;
  opts.nBudget = MT_COMPACT_BUDGET;
  opts.nMin = MT_COMPACT_MIN;
  if( !sqlite3_get_autocommit(db) ){
    sqlite3_result_error(ctx, "ts_maintain: cannot run inside a transaction "
                              "(it commits its own transactions)", -1);
    return;
  }
  if( argc>=2 && sqlite3_value_type(argv[1])!=SQLITE_NULL ){
    zErr = mtOptions(db, argv[1], &opts);
    if( zErr ){ sqlite3_result_error(ctx, zErr, -1); sqlite3_free(zErr); return; }
  }
  if( argc>=1 && sqlite3_value_type(argv[0])!=SQLITE_NULL ){
    const char *zT = (const char*)sqlite3_value_text(argv[0]);
    if( zT==0 || tsTableSplitName(zT, &zDb, &zOne)!=SQLITE_OK ){
      sqlite3_result_error_nomem(ctx);
      return;
    }
    nTab = 1;
  }else{
    rc = tsTableList(db, "main", &azTab, &nTab, &zErr);
    zDb = sqlite3_mprintf("main");
    if( rc==SQLITE_OK && zDb==0 ) rc = SQLITE_NOMEM;
    if( rc ){
      char *z = sqlite3_mprintf("ts_maintain: %s", zErr ? zErr : sqlite3_errstr(rc));
      sqlite3_result_error(ctx, z ? z : "ts_maintain: out of memory", -1);
      sqlite3_result_error_code(ctx, rc);
      sqlite3_free(z); sqlite3_free(zErr); sqlite3_free(azTab); sqlite3_free(zDb);
      return;
    }
  }
  tsBufInit(&out);
  tsJwInit(&jw, &out);
  tsJwObjBegin(&jw);
  tsJwKey(&jw, "tables");
  tsJwArrBegin(&jw);
  for(i=0; i<nTab && rc==SQLITE_OK; i++){
    MtRun run;
    memset(&run, 0, sizeof(run));
    run.db = db; run.pEnv = pEnv; run.iGrace = opts.iGrace;
    run.nCompactTarget = opts.nTarget;
    run.nCompactBudget = opts.nBudget;
    run.nCompactMin = opts.nMin;
    tsBufInit(&run.keys);
    rc = tsTableOpen(pEnv, db, zDb, zOne ? zOne : azTab[i], &run.pTab, &zErr);
    if( rc==SQLITE_OK ){
      run.s = tsTableSchema(run.pTab);
      run.zDb = tsTableDb(run.pTab);
      run.zTab = tsTableName(run.pTab);
      mtTable(&run, &jw);
      rc = run.rc;
    }else{
      run.zErr = sqlite3_mprintf("ts_maintain: %s", zErr ? zErr : sqlite3_errstr(rc));
      sqlite3_free(zErr); zErr = 0;
    }
    if( rc && rc!=SQLITE_NOMEM ){
      sqlite3_result_error(ctx, run.zErr ? run.zErr : "ts_maintain: out of memory", -1);
      sqlite3_result_error_code(ctx, rc);
    }
    sqlite3_free(run.zErr);
    mtRunClear(&run);
  }
  tsJwArrEnd(&jw);
  tsJwObjEnd(&jw);
  sqlite3_free(azTab);
  sqlite3_free(zDb);
  sqlite3_free(zOne);
  if( rc==SQLITE_OK ){
    if( tsJwError(&jw) || out.bErr ) sqlite3_result_error_nomem(ctx);
    else sqlite3_result_text(ctx, (const char*)out.a, (int)out.n, SQLITE_TRANSIENT);
  }else if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }
  tsBufFree(&out);
}

int tsMaintainRegister(sqlite3 *db, TsEnv *pEnv){
  int rc = SQLITE_OK, n;
  for(n=0; rc==SQLITE_OK && n<=2; n++){
    rc = sqlite3_create_function_v2(db, "ts_maintain", n, SQLITE_UTF8|SQLITE_DIRECTONLY,
                                    tsEnvRef(pEnv), maintainFunc, 0, 0, tsEnvUnref);
  }
  return rc;
}
