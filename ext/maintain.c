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
** The object rewrites (partly expired objects, compaction) are in
** ext/maintain_rewrite.c; the run and helpers both use: ext/maintain_int.h.
**
** Owns: the maintenance run (MtRun) and everything it allocates.  Opens the
** table through its handle (table.h: schema and options from the handle,
** tsTableFlush inside the lease transaction, tsTableInvalidate after the
** shadow tables changed), reads and writes the shadow tables (<t>_series,
** _chunks, _objects, _config) with its own statements and the chunk codec;
** never holds a write transaction while talking to the object store.
*/
#include "maintain_int.h"
#include "chunk.h"
#include "parquet.h"
#include "bloom.h"
#include "coldscan.h"
#include "objstore.h"
#include "storeopt.h"
#include "tablestore.h"
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


/* Test hook (tests/unit/test_maintain.c): called at named points of a
** round with the run's connection; NULL in production. */
void (*tsMaintainTestHook)(sqlite3 *db, const char *zPoint) = 0;

/* ts_debug_kill_at(point [, n]): the process kills itself (SIGKILL) the n-th
** time (default 1) a ts_maintain reaches the named crash point.  Process
** wide; for crash tests (docs/internals/crash-testing.md). */
static char mtKillAt[32];
static int mtKillCount = 0;

/* The crash points, in the order a pass reaches them (cold-format.md 5). */
static const char *const azMtPoint[] = {
  "upload-finishing",   /* object bytes written, upload not finished */
  "uploaded",           /* round uploaded, no transaction */
  "round-in-commit",    /* round's manifest rows + chunk deletes written, before COMMIT */
  "round-committed",    /* after the round's COMMIT */
  "retention-committed",/* expired manifest rows gone (retired), after COMMIT */
  "trim-uploaded", "compact-uploaded",       /* rewrite uploaded, no transaction */
  "rewrite-in-commit",  /* rewrite's manifest changes written, before COMMIT */
  "rewrite-committed",  /* after a rewrite's COMMIT */
  "orphans-deleted",    /* store deletes done, retired entries not yet forgotten */
  "backup-uploaded",    /* ts_backup (backup.c): a memory-tier file uploaded, no manifest */
  "backup-copied",      /* ts_backup: a cold object copied, no manifest */
  "backup-committed",   /* ts_backup: manifest written, before pruning and sweeping */
};

void mtPoint(sqlite3 *db, const char *zPoint){
  if( tsMaintainTestHook ) tsMaintainTestHook(db, zPoint);
  if( mtKillAt[0] && strcmp(mtKillAt, zPoint)==0 && --mtKillCount<=0 ){
    kill(getpid(), SIGKILL);
  }
}

static void killAtFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *z = (const char*)sqlite3_value_text(argv[0]);
  int i, n = argc>1 ? sqlite3_value_int(argv[1]) : 1;
  if( z==0 || z[0]==0 ){ mtKillAt[0] = 0; sqlite3_result_int(ctx, 0); return; }
  for(i=0; i<(int)(sizeof(azMtPoint)/sizeof(azMtPoint[0])); i++){
    if( strcmp(z, azMtPoint[i])==0 ) break;
  }
  if( i==(int)(sizeof(azMtPoint)/sizeof(azMtPoint[0])) || n<1 ){
    char *zErr = sqlite3_mprintf("ts_debug_kill_at: unknown crash point '%s' or count < 1 "
                                 "(points: upload-finishing, uploaded, round-in-commit, "
                                 "round-committed, retention-committed, trim-uploaded, "
                                 "compact-uploaded, rewrite-in-commit, rewrite-committed, "
                                 "orphans-deleted, backup-uploaded, backup-copied, "
                                 "backup-committed)", z);
    sqlite3_result_error(ctx, zErr ? zErr : "ts_debug_kill_at: bad argument", -1);
    sqlite3_free(zErr);
    return;
  }
  snprintf(mtKillAt, sizeof(mtKillAt), "%s", z);
  mtKillCount = n;
  sqlite3_result_int(ctx, 1);
}

static int64_t mtWallMs(void){
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec*1000 + ts.tv_nsec/1000000;
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

/* From <t>_config: the writer id stored by an earlier pass (cold.writer_id).
** (encryption / kms_key are table options: p->s.) */
static void mtConfigLoad(MtRun *p){
  sqlite3_stmt *pStmt = tsOpPrepare(&p->op, "SELECT k, v FROM \"%w\".\"%w_config\""
                                     " WHERE k='cold.writer_id'",
                                  p->zDb, p->zTab);
  while( pStmt && p->op.rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zK = (const char*)sqlite3_column_text(pStmt, 0);
    const char *zV = (const char*)sqlite3_column_text(pStmt, 1);
    char **pz;
    if( zK==0 || zV==0 ) continue;
    pz = &p->zWriter;
    sqlite3_free(*pz);
    *pz = sqlite3_mprintf("%s", zV);
    if( *pz==0 ) tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory");
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

void mtRandHex(char *z, int nByte){
  unsigned char a[16];
  int i;
  sqlite3_randomness(nByte, a);
  for(i=0; i<nByte; i++) sprintf(z+2*i, "%02x", a[i]);
}

static void mtConfigPut(MtRun *p, const char *zK, const char *zV){
  sqlite3_stmt *pStmt = tsOpPrepare(&p->op,
      "INSERT OR REPLACE INTO \"%w\".\"%w_config\"(k, v) VALUES(?1, ?2)", p->zDb, p->zTab);
  if( pStmt==0 ) return;
  sqlite3_bind_text(pStmt, 1, zK, -1, SQLITE_STATIC);
  sqlite3_bind_text(pStmt, 2, zV, -1, SQLITE_STATIC);
  sqlite3_step(pStmt);
  if( sqlite3_finalize(pStmt)!=SQLITE_OK ) tsOpSqlErr(&p->op, "writing _config");
}

/* Write our lease (inside a write transaction). */
void mtLeaseWrite(MtRun *p){
  TsBuf b; TsJsonW jw;
  tsBufInit(&b); tsJwInit(&jw, &b);
  tsJwObjBegin(&jw);
  tsJwKeyStr(&jw, "holder", p->zHolder);
  tsJwKeyInt(&jw, "expires", mtWallMs() + MT_LEASE_MS);
  tsJwObjEnd(&jw);
  tsBufAppendByte(&b, 0);
  if( tsJwError(&jw) || b.bErr ) tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory");
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
  if( p->zHolder==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); return 0; }
  if( tsOpExec(&p->op, "BEGIN IMMEDIATE") ) return 0;
  {
    /* ts_maintain runs in autocommit, so this connection has no pending
    ** rows; flushing keeps that true should the handle hold any. */
    char *zE = 0;
    if( tsTableFlush(p->pTab, &zE)!=SQLITE_OK ){
      tsOpErr(&p->op, SQLITE_ERROR, "ts_maintain %s: %s", p->zTab, zE ? zE : "flush failed");
    }
    sqlite3_free(zE);
  }
  pStmt = tsOpPrepare(&p->op, "SELECT json_extract(v, '$.holder'), json_extract(v, '$.expires') "
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
  if( bOk && p->op.rc==SQLITE_OK ){
    if( p->zWriter==0 ){
      char zW[17];
      mtRandHex(zW, 8);
      p->zWriter = sqlite3_mprintf("%s", zW);
      if( p->zWriter ) mtConfigPut(p, "cold.writer_id", p->zWriter);
      else tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory");
    }
    mtLeaseWrite(p);
    /* Manifest columns this writer adds (cold-format.md section 3). */
    if( p->op.rc==SQLITE_OK ){
      sqlite3_stmt *pI = tsOpPrepare(&p->op, "SELECT total(name='writer'), total(name='series_runs'),"
                                      " total(name='etag') FROM pragma_table_info(?1, ?2)");
      int bHave = 0, bHaveRuns = 0, bHaveEtag = 0;
      if( pI ){
        char *zObj = sqlite3_mprintf("%s_objects", p->zTab);
        sqlite3_bind_text(pI, 1, zObj, -1, sqlite3_free);
        sqlite3_bind_text(pI, 2, p->zDb, -1, SQLITE_STATIC);
        if( sqlite3_step(pI)==SQLITE_ROW ){
          bHave = sqlite3_column_int(pI, 0);
          bHaveRuns = sqlite3_column_int(pI, 1);
          bHaveEtag = sqlite3_column_int(pI, 2);
        }
        sqlite3_finalize(pI);
      }
      if( !bHaveRuns && p->op.rc==SQLITE_OK ){
        char *z = sqlite3_mprintf("ALTER TABLE \"%w\".\"%w_objects\" ADD COLUMN series_runs BLOB",
                                  p->zDb, p->zTab);
        if( z ) tsOpExec(&p->op, z);
        else tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory");
        sqlite3_free(z);
      }
      if( !bHaveEtag && p->op.rc==SQLITE_OK ){
        /* A table created before the column: its existing rows keep NULL
        ** (read as "no ETag known": validated by a listing, as before). */
        char *z = sqlite3_mprintf("ALTER TABLE \"%w\".\"%w_objects\" ADD COLUMN etag TEXT",
                                  p->zDb, p->zTab);
        if( z ) tsOpExec(&p->op, z);
        else tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory");
        sqlite3_free(z);
      }
      if( !bHave && p->op.rc==SQLITE_OK ){
        char *z = sqlite3_mprintf("ALTER TABLE \"%w\".\"%w_objects\" ADD COLUMN writer TEXT",
                                  p->zDb, p->zTab);
        char *z2 = sqlite3_mprintf("ALTER TABLE \"%w\".\"%w_objects\" ADD COLUMN nseries INTEGER",
                                   p->zDb, p->zTab);
        if( z && z2 ){ if( tsOpExec(&p->op, z)==SQLITE_OK ) tsOpExec(&p->op, z2); }
        else tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory");
        sqlite3_free(z); sqlite3_free(z2);
      }
    }
  }
  if( p->op.rc==SQLITE_OK && bOk ){
    tsOpExec(&p->op, "COMMIT");
  }else{
    sqlite3_exec(p->op.db, "ROLLBACK", 0, 0, 0);
  }
  return bOk && p->op.rc==SQLITE_OK;
}

static void mtLeaseRelease(MtRun *p){
  sqlite3_stmt *pStmt;
  char *zSql = sqlite3_mprintf("DELETE FROM \"%w\".\"%w_config\" WHERE k='cold.lease' "
                               "AND json_extract(v, '$.holder')=?1", p->zDb, p->zTab);
  if( zSql==0 ) return;
  if( sqlite3_prepare_v2(p->op.db, zSql, -1, &pStmt, 0)==SQLITE_OK ){
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
    azV[3] = p->s->zS3UrlStyle; azV[4] = p->s->zEncryption; azV[5] = p->s->zKmsKey;
    for(i=0; i<6; i++){
      if( azV[i] && tsStoreOptCheck(azK[i], azV[i], &zObjErr) ) break;
    }
    if( i==6 ) tsStoreOptFinish(p->s->zStorage, p->s->zEncryption, p->s->zKmsKey, &zObjErr);
    if( zObjErr ){
      tsOpErr(&p->op, SQLITE_ERROR, "ts_maintain %s: %s", p->zTab, zObjErr);
      free(zObjErr);
      return;
    }
  }
  if( p->s->zStorage ){
    zUri = sqlite3_mprintf("%s", p->s->zStorage);
  }else{
    const char *zFile = sqlite3_db_filename(p->op.db, p->zDb);
    if( zFile==0 || zFile[0]==0 ){
      tsOpErr(&p->op, SQLITE_ERROR, "ts_maintain %s: the database is in memory or temporary, so it "
            "has no default storage directory: create the table with the option "
            "storage = 's3://bucket/prefix' or 'file:///abs/dir'", p->zTab);
      return;
    }
    zUri = sqlite3_mprintf("file://%s.tslite", zFile);
  }
  if( zUri==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); return; }
  tsTableStoreConfig(p->s, &cfg);
  if( tsObjOpen(zUri, &cfg, &p->pStore, &zObjErr)!=TS_OBJ_OK ){
    tsOpErr(&p->op, SQLITE_ERROR, "ts_maintain %s: cannot open storage '%s': %s", p->zTab, zUri,
          zObjErr ? zObjErr : "unknown error");
  }
  free(zObjErr);
  sqlite3_free(zUri);
}

/*************************************************************************
** Series of the table with chunks older than the boundary.
*/
static void mtSeriesFree(MtSeries *a, int n, int nDim){
  int i, j;
  for(i=0; i<n; i++){
    sqlite3_free(a[i].aKey);
    if( a[i].azDim ){
      for(j=0; j<nDim; j++) sqlite3_free(a[i].azDim[j]);
      sqlite3_free(a[i].azDim);
    }
    sqlite3_free(a[i].zMName);
  }
  sqlite3_free(a);
}

int mtBytesCmp(const void *a, int na, const void *b, int nb){
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
  if( cols.bErr ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); return 0; }
  pStmt = tsOpPrepare(&p->op, "SELECT id, skey, measure_name%s FROM \"%w\".\"%w_series\" "
                       "WHERE id IN (SELECT sid FROM \"%w\".\"%w_chunks\" WHERE tmin < ?1)",
                    (char*)cols.a, p->zDb, p->zTab, p->zDb, p->zTab);
  tsBufFree(&cols);
  if( pStmt ) sqlite3_bind_int64(pStmt, 1, p->iBound);
  while( pStmt && p->op.rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    MtSeries *s;
    if( n==nAlloc ){
      MtSeries *aNew = sqlite3_realloc64(a, sizeof(MtSeries)*(nAlloc = nAlloc ? 2*nAlloc : 64));
      if( aNew==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); break; }
      a = aNew;
    }
    s = &a[n++];
    memset(s, 0, sizeof(*s));
    s->iSid = sqlite3_column_int64(pStmt, 0);
    s->nKey = sqlite3_column_bytes(pStmt, 1);
    s->aKey = sqlite3_malloc64(s->nKey ? s->nKey : 1);
    s->zMName = sqlite3_mprintf("%s", (const char*)sqlite3_column_text(pStmt, 2));
    s->azDim = sqlite3_malloc64(sizeof(char*)*(nDim ? nDim : 1));
    if( s->azDim ) memset(s->azDim, 0, sizeof(char*)*(size_t)nDim);
    if( s->aKey==0 || s->zMName==0 || s->azDim==0 ){
      tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); break;
    }
    if( s->nKey ) memcpy(s->aKey, sqlite3_column_blob(pStmt, 1), s->nKey);
    for(i=0; i<nDim; i++){
      const char *z = (const char*)sqlite3_column_text(pStmt, 3+i);
      s->azDim[i] = z ? sqlite3_mprintf("%s", z) : 0;
      if( z && s->azDim[i]==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); break; }
    }
    if( p->s->iPartDim>=0 ){
      s->zPk = s->azDim[p->s->iPartDim];
      s->bPkNull = s->zPk==0;
      if( s->zPk==0 ) s->zPk = "";
    }else{
      s->zPk = s->zMName;
    }
    s->nPk = (int)strlen(s->zPk);
    s->iBucket = tsColdBucket(s->zPk, s->nPk);
  }
  sqlite3_finalize(pStmt);
  if( p->op.rc ){ mtSeriesFree(a, n, nDim); return 0; }
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

void mtObjFree(MtObj *o){
  if( o==0 ) return;
  tsPqWriterFree(o->pPw);
  tsObjWriterAbort(o->pOw);
  free(o->zSinkErr);
  sqlite3_free(o->zKey);
  sqlite3_free(o->zEtag);
  sqlite3_free(o->zPkMin); sqlite3_free(o->zPkMax);
  sqlite3_free(o->aHash);
  sqlite3_free(o->aBloom);
  sqlite3_free(o->aTail);
  tsBufFree(&o->runs);
  sqlite3_free(o);
}

MtObj *mtObjOpen(MtRun *p, int iBucket, int64_t iDay){
  const TsTableSchema *s = p->s;
  MtObj *o;
  TsPqColumnSpec *aSpec;
  TsPqWriteOpts opts;
  int nCol = 3 + s->nDim + s->nMeas, i, j = 0, aSort[2];
  int64_t y; unsigned m, d;
  char zId[17];
  char *zE = 0;
  const char *azK[4], *azV[4];
  int *anPageRows;
  o = sqlite3_malloc64(sizeof(MtObj));
  /* the page rows of each column follow the specs in one allocation */
  aSpec = sqlite3_malloc64((sizeof(TsPqColumnSpec)+sizeof(int))*(nCol+1));
  if( o==0 || aSpec==0 ){
    sqlite3_free(o); sqlite3_free(aSpec);
    tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); return 0;
  }
  anPageRows = (int*)(aSpec+nCol+1);    /* nCol+1: room for the mark column */
  memset(o, 0, sizeof(*o));
  o->iDay = iDay;
  o->iLastSeries = -1;
  tsBufInit(&o->runs);
  tsBufAppendByte(&o->runs, 1);    /* series_runs version */
  tsCivilFromDays(iDay, &y, &m, &d);
  mtRandHex(zId, 8);
  o->zKey = sqlite3_mprintf("%s/date=%04lld-%02u-%02u/bucket=%d/%s-%s.parquet", p->zTab,
                            (long long)y, m, d, iBucket, p->zWriter, zId);
  if( o->zKey==0 ){ sqlite3_free(aSpec); mtObjFree(o); tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); return 0; }
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
    aSpec[j].bNullable = 1;
    aSpec[j++].eEncoding = s->aMeasType[i]==TS_TYPE_DOUBLE ? TS_PQ_ENC_BSS : TS_PQ_ENC_AUTO;
  }
  aSpec[j].zName = "version"; aSpec[j].eType = TS_PQ_INT64; aSpec[j].bNullable = 0;
  aSpec[j++].eEncoding = TS_PQ_ENC_AUTO;
  if( p->bMarkCol ){
    /* The write marks (ext/recrule.h, cold-format.md): only in objects
    ** written from rows that have marks. */
    aSpec[j].zName = "ts_write_mode"; aSpec[j].eType = TS_PQ_INT64; aSpec[j].bNullable = 0;
    aSpec[j++].eEncoding = TS_PQ_ENC_AUTO;
    o->bMark = 1;
    nCol++;
  }
  tsPqWriteOptsInit(&opts);
  opts.eCodec = TS_PQ_CODEC_ZSTD;
  opts.iLevel = 6;      /* 0.59 B/value on tsbs-int where level 3 gave 0.61 (docs/benchmarks.md) */
  opts.nRowGroupRows = MT_RG_ROWS;
  opts.nRowGroupBytes = MT_RG_BYTES;
  opts.nPageRows = MT_PAGE_ROWS;
  for(i=0; i<nCol; i++){
    anPageRows[i] = i>=2+s->nDim && i<2+s->nDim+s->nMeas ? MT_MEAS_PAGE_ROWS : MT_PAGE_ROWS;
  }
  opts.anPageRows = anPageRows;
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
    tsOpErr(&p->op, SQLITE_IOERR, "ts_maintain %s: upload of %s: %s", p->zTab, o->zKey, zE ? zE : "failed");
    free(zE);
    sqlite3_free(aSpec); mtObjFree(o); return 0;
  }
  if( tsPqWriterOpen(&o->pPw, aSpec, nCol, &opts, mtSink, o)!=TS_PQ_OK ){
    tsOpErr(&p->op, SQLITE_ERROR, "ts_maintain %s: parquet writer: %s", p->zTab,
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
    if( a==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); return; }
    o->aHash = a; o->nHashAlloc = nNew;
  }
  o->aHash[o->nHash++] = h;
}

/* The end of the current series run of o in its series_runs. */
static void mtObjRunEnd(MtObj *o){
  if( !o->bRun ) return;
  tsBufAppendVarint(&o->runs, (uint64_t)(o->nRow - o->nRunStart));
  tsBufAppendZigzag(&o->runs, o->tRunMin);
  tsBufAppendVarint(&o->runs, (uint64_t)(o->tRunMax - o->tRunMin));
  o->bRun = 0;
}

void mtObjRow(MtObj *o, int64_t t){
  if( o->nRow==0 || t<o->tMin ) o->tMin = t;
  if( o->nRow==0 || t>o->tMax ) o->tMax = t;
  if( o->nRow==o->nRunStart ) o->tRunMin = t;
  o->tRunMax = t;
  o->nRow++;
}

/* First row of series iS in object o: statistics and filter elements. */
void mtObjSeries(MtRun *p, MtObj *o, MtSeries *pS, int iS){
  TsBuf b;
  int i;
  mtObjRunEnd(o);
  tsBufAppendVarint(&o->runs, (uint64_t)pS->nKey);
  tsBufAppend(&o->runs, pS->aKey, (size_t)pS->nKey);
  o->nRunStart = o->nRow;
  o->bRun = 1;
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
  if( b.bErr ) tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory");
  tsBufFree(&b);
  if( !pS->bPkNull ){
    if( !o->bPk || mtBytesCmp(pS->zPk, pS->nPk, o->zPkMin, o->nPkMin)<0 ){
      sqlite3_free(o->zPkMin); o->zPkMin = sqlite3_mprintf("%.*s", pS->nPk, pS->zPk); o->nPkMin = pS->nPk;
    }
    if( !o->bPk || mtBytesCmp(pS->zPk, pS->nPk, o->zPkMax, o->nPkMax)>0 ){
      sqlite3_free(o->zPkMax); o->zPkMax = sqlite3_mprintf("%.*s", pS->nPk, pS->zPk); o->nPkMax = pS->nPk;
    }
    o->bPk = 1;
    if( o->zPkMin==0 || o->zPkMax==0 ) tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory");
  }
}

static int mtU64Cmp(const void *a, const void *b){
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x<y ? -1 : x>y;
}

/* Finish the Parquet file and the upload. */
void mtObjFinish(MtRun *p, MtObj *o){
  char *zE = 0;
  const unsigned char *aT;
  int i, n = 0;
  if( p->op.rc ) return;
  mtObjRunEnd(o);
  if( o->runs.bErr ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); return; }
  if( tsPqWriterFinish(o->pPw)!=TS_PQ_OK ){
    tsOpErr(&p->op, SQLITE_IOERR, "ts_maintain %s: writing %s: %s", p->zTab, o->zKey,
          o->zSinkErr ? o->zSinkErr : tsPqWriterErrmsg(o->pPw));
    return;
  }
  aT = tsPqWriterTail(o->pPw, &o->nTail);
  o->aTail = sqlite3_malloc64(o->nTail ? o->nTail : 1);
  if( o->aTail==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); return; }
  memcpy(o->aTail, aT, o->nTail);
  o->nByte = tsPqWriterBytesWritten(o->pPw);
  mtPoint(p->op.db, "upload-finishing");
  if( tsObjWriterFinish(o->pOw, &zE)!=TS_OBJ_OK ){
    o->pOw = 0;
    tsOpErr(&p->op, SQLITE_IOERR, "ts_maintain %s: upload of %s: %s", p->zTab, o->zKey, zE ? zE : "failed");
    free(zE);
    return;
  }
  o->pOw = 0;
  o->bUploaded = 1;
  /* The ETag the store reported for this upload: the manifest's proof of
  ** which bytes were committed (ts_check, the cold cache). */
  o->zEtag = sqlite3_mprintf("%s", tsObjLastPutEtag(p->pStore));
  if( o->zEtag==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); return; }
  /* The series filter over the distinct element hashes. */
  qsort(o->aHash, o->nHash, sizeof(uint64_t), mtU64Cmp);
  for(i=0; i<o->nHash; i++) if( n==0 || o->aHash[n-1]!=o->aHash[i] ) o->aHash[n++] = o->aHash[i];
  o->nBloom = tsBloomSize(n);
  o->aBloom = sqlite3_malloc64(o->nBloom);
  if( o->aBloom==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); return; }
  tsBloomInit(o->aBloom, o->nBloom);
  for(i=0; i<n; i++) tsBloomAddHash(o->aBloom, o->aHash[i]);
}

void mtObjRemove(MtRun *p, MtObj *o){
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
                        const int64_t *aT, const int64_t *aV, const unsigned char *aM, int r){
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
  if( o->bMark ) tsPqWriterInt64(w, j++, aM ? aM[r] : 0);
  if( tsPqWriterEndRow(w)!=TS_PQ_OK ){
    tsOpErr(&p->op, SQLITE_IOERR, "ts_maintain %s: writing %s: %s", p->zTab, o->zKey,
          o->zSinkErr ? o->zSinkErr : tsPqWriterErrmsg(w));
    return;
  }
  mtObjRow(o, aT[r]);
}

/* Decode one chunk and route its rows.  Returns the replacement (rows >=
** boundary) in pC. */
static void mtChunkRoute(MtRun *p, MtSeries *aS, int iS, MtChunk *pC,
                         const void *aData, int nData, MtObj ***papObj, int *pnObj,
                         int iBucket, int64_t *pnMoved, int64_t *pnExpired){
  TsChunkReader *pR = 0;
  const TsChunkInfo *pInfo;
  const int64_t *aT = 0, *aV = 0;
  const unsigned char *aM = 0;
  TsChunkCol *aCol = 0;
  int i, r, nRow, iRepl;
  MtSeries *pS = &aS[iS];
  if( tsChunkReaderOpen(aData, (size_t)nData, &pR)!=TS_CHUNK_OK ){
    tsOpErr(&p->op, SQLITE_CORRUPT, "ts_maintain %s: chunk %lld of series %lld is corrupt",
          p->zTab, (long long)pC->iId, (long long)pC->iSid);
    goto done;
  }
  pInfo = tsChunkReaderInfo(pR);
  nRow = pInfo->nRow;
  aCol = sqlite3_malloc64(sizeof(TsChunkCol)*(p->s->nMeas+1));
  if( aCol==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); goto done; }
  if( pInfo->nCol!=p->s->nMeas || tsChunkReadTime(pR, &aT) || tsChunkReadVersion(pR, &aV)
   || tsChunkReadMark(pR, &aM) ){
    tsOpErr(&p->op, SQLITE_CORRUPT, "ts_maintain %s: chunk %lld of series %lld is corrupt",
          p->zTab, (long long)pC->iId, (long long)pC->iSid);
    goto done;
  }
  for(i=0; i<p->s->nMeas; i++){
    if( tsChunkReadCol(pR, i, &aCol[i])!=TS_CHUNK_OK ){
      tsOpErr(&p->op, SQLITE_CORRUPT, "ts_maintain %s: chunk %lld of series %lld is corrupt",
            p->zTab, (long long)pC->iId, (long long)pC->iSid);
      goto done;
    }
  }
  for(r=0; r<nRow && aT[r]<p->iBound && p->op.rc==SQLITE_OK; r++){
    int64_t iDay;
    MtObj *o = 0;
    if( aT[r]<p->iExpire ){ (*pnExpired)++; continue; }
    iDay = tsFloorDiv(aT[r], MT_NS_PER_DAY);
    for(i=0; i<*pnObj; i++) if( (*papObj)[i]->iDay==iDay ){ o = (*papObj)[i]; break; }
    if( o==0 ){
      MtObj **a = sqlite3_realloc64(*papObj, sizeof(MtObj*)*(*pnObj+1));
      if( a==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); break; }
      *papObj = a;
      o = mtObjOpen(p, iBucket, iDay);
      if( o==0 ) break;
      a[(*pnObj)++] = o;
    }
    if( o->iLastSeries!=iS ) mtObjSeries(p, o, pS, iS);
    mtRowValues(p, o, pS, aCol, aT, aV, aM, r);
    (*pnMoved)++;
  }
  iRepl = r;
  if( p->op.rc==SQLITE_OK && iRepl<nRow ){
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
    if( tsChunkEncodeMarked(nRow-iRepl, aT+iRepl, aV ? aV+iRepl : 0, aM ? aM+iRepl : 0,
                            p->s->nMeas, aSub, &out)!=TS_CHUNK_OK || out.bErr ){
      tsBufFree(&out);
      tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain %s: re-encoding chunk %lld failed", p->zTab,
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
void mtManifestInsert(MtRun *p, sqlite3_stmt *pIns, MtObj *o){
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
  sqlite3_bind_blob(pIns, 13, o->runs.a, (int)o->runs.n, SQLITE_STATIC);
  if( o->zEtag && o->zEtag[0] ) sqlite3_bind_text(pIns, 14, o->zEtag, -1, SQLITE_STATIC);
  else sqlite3_bind_null(pIns, 14);
  sqlite3_step(pIns);
  if( sqlite3_reset(pIns)!=SQLITE_OK ) tsOpSqlErr(&p->op, "inserting the manifest row");
}

sqlite3_stmt *mtManifestInsertStmt(MtRun *p){
  return tsOpPrepare(&p->op, "INSERT INTO \"%w\".\"%w_objects\"(key, tmin, tmax, nrow, nbyte, pk_min,"
                      " pk_max, series_filter, footer, created, writer, nseries, series_runs, etag)"
                      " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)", p->zDb, p->zTab);
}

static void mtRound(MtRun *p, MtSeries *aS, int iFirst, int iEnd){
  MtChunk *aC = 0;
  int nC = 0, nCAlloc = 0, i, nObj = 0, bAbort = 0;
  MtObj **apObj = 0;
  int64_t nMoved = 0, nExpired = 0, nRewritten = 0;
  sqlite3_stmt *pSel = 0, *pChk = 0, *pIns = 0, *pDel = 0, *pRepl = 0, *pSer = 0;
  int iBucket = aS[iFirst].iBucket;

  /* Objects get the ts_write_mode column when a chunk of the round has
  ** write marks (chunk format 3: byte 3 of the blob). */
  p->bMarkCol = 0;
  pSel = tsOpPrepare(&p->op, "SELECT 1 FROM \"%w\".\"%w_chunks\" WHERE sid=?1 AND tmin < ?2"
                     " AND substr(data, 4, 1)=x'03' LIMIT 1", p->zDb, p->zTab);
  for(i=iFirst; pSel && i<iEnd && !p->bMarkCol; i++){
    sqlite3_bind_int64(pSel, 1, aS[i].iSid);
    sqlite3_bind_int64(pSel, 2, p->iBound);
    if( sqlite3_step(pSel)==SQLITE_ROW ) p->bMarkCol = 1;
    sqlite3_reset(pSel);
  }
  sqlite3_finalize(pSel);
  pSel = 0;

  /* Read and upload, with no transaction open across the uploads. */
  pSel = tsOpPrepare(&p->op, "SELECT id, tmin, tmax, nrow, data FROM \"%w\".\"%w_chunks\" "
                      "WHERE sid=?1 AND tmin < ?2 ORDER BY tmin", p->zDb, p->zTab);
  for(i=iFirst; pSel && i<iEnd && p->op.rc==SQLITE_OK; i++){
    sqlite3_bind_int64(pSel, 1, aS[i].iSid);
    sqlite3_bind_int64(pSel, 2, p->iBound);
    while( p->op.rc==SQLITE_OK && sqlite3_step(pSel)==SQLITE_ROW ){
      MtChunk *c;
      const void *aData = sqlite3_column_blob(pSel, 4);
      int nData = sqlite3_column_bytes(pSel, 4);
      if( nC==nCAlloc ){
        MtChunk *aNew = sqlite3_realloc64(aC, sizeof(MtChunk)*(nCAlloc = nCAlloc ? 2*nCAlloc : 64));
        if( aNew==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); break; }
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
  for(i=0; i<nObj && p->op.rc==SQLITE_OK; i++) mtObjFinish(p, apObj[i]);
  if( p->op.rc ) goto done;

  mtPoint(p->op.db, "uploaded");
  /* Commit: one write transaction, no network I/O inside it. */
  if( tsOpExec(&p->op, "BEGIN IMMEDIATE") ) goto done;
  pChk = tsOpPrepare(&p->op, "SELECT sid, tmin, tmax, nrow, data FROM \"%w\".\"%w_chunks\" WHERE id=?1",
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
  if( bAbort || p->op.rc ){
    sqlite3_exec(p->op.db, "ROLLBACK", 0, 0, 0);
    if( bAbort ) p->nAborted++;
    for(i=0; i<nObj; i++) mtObjRemove(p, apObj[i]);
    goto done;
  }
  pIns = mtManifestInsertStmt(p);
  for(i=0; pIns && i<nObj && p->op.rc==SQLITE_OK; i++) mtManifestInsert(p, pIns, apObj[i]);
  sqlite3_finalize(pIns);
  pDel = tsOpPrepare(&p->op, "DELETE FROM \"%w\".\"%w_chunks\" WHERE id=?1", p->zDb, p->zTab);
  pRepl = tsOpPrepare(&p->op, "INSERT INTO \"%w\".\"%w_chunks\"(sid, tmin, tmax, nrow, data)"
                       " VALUES(?1,?2,?3,?4,?5)", p->zDb, p->zTab);
  for(i=0; pDel && pRepl && i<nC && p->op.rc==SQLITE_OK; i++){
    sqlite3_bind_int64(pDel, 1, aC[i].iId);
    sqlite3_step(pDel);
    if( sqlite3_reset(pDel)!=SQLITE_OK ){ tsOpSqlErr(&p->op, "deleting a moved chunk"); break; }
    if( aC[i].aRepl ){
      sqlite3_bind_int64(pRepl, 1, aC[i].iSid);
      sqlite3_bind_int64(pRepl, 2, aC[i].tReplMin);
      sqlite3_bind_int64(pRepl, 3, aC[i].tReplMax);
      sqlite3_bind_int64(pRepl, 4, aC[i].nReplRow);
      sqlite3_bind_blob(pRepl, 5, aC[i].aRepl, (int)aC[i].nRepl, SQLITE_STATIC);
      sqlite3_step(pRepl);
      if( sqlite3_reset(pRepl)!=SQLITE_OK ){ tsOpSqlErr(&p->op, "writing the rest of a split chunk"); break; }
      nRewritten++;
    }
  }
  sqlite3_finalize(pDel);
  sqlite3_finalize(pRepl);
  pSer = tsOpPrepare(&p->op, "UPDATE \"%w\".\"%w_series\" SET"
                      " tmin=(SELECT min(tmin) FROM \"%w\".\"%w_chunks\" WHERE sid=?1),"
                      " tmax=(SELECT max(tmax) FROM \"%w\".\"%w_chunks\" WHERE sid=?1) WHERE id=?1",
                   p->zDb, p->zTab, p->zDb, p->zTab, p->zDb, p->zTab);
  for(i=iFirst; pSer && i<iEnd && p->op.rc==SQLITE_OK; i++){
    sqlite3_bind_int64(pSer, 1, aS[i].iSid);
    sqlite3_step(pSer);
    if( sqlite3_reset(pSer)!=SQLITE_OK ) tsOpSqlErr(&p->op, "updating the series time range");
  }
  sqlite3_finalize(pSer);
  if( p->op.rc==SQLITE_OK ) mtLeaseWrite(p);
  if( p->op.rc==SQLITE_OK ) mtPoint(p->op.db, "round-in-commit");
  if( p->op.rc==SQLITE_OK && tsOpExec(&p->op, "COMMIT")==SQLITE_OK ){
    mtPoint(p->op.db, "round-committed");
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
    sqlite3_exec(p->op.db, "ROLLBACK", 0, 0, 0);
    for(i=0; i<nObj; i++) mtObjRemove(p, apObj[i]);
  }

done:
  for(i=0; i<nObj; i++){
    if( p->op.rc ) mtObjRemove(p, apObj[i]);
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
  for(i=0; i<n && p->op.rc==SQLITE_OK; i=j){
    for(j=i+1; j<n && aS[j].iBucket==aS[i].iBucket; j++){}
    mtRound(p, aS, i, j);
  }
  mtSeriesFree(aS, n, p->s->nDim);
}

/*************************************************************************
** Retention and orphans.
*/
/* Inside the write transaction that removes zKey's manifest row: record it
** as retired ('cold.retired:<key>' = wall clock ms in <t>_config).  The
** object stays in the store, so a reader whose snapshot still has the old
** manifest can finish; the orphan pass deletes it once it has been retired
** for longer than the grace period (cold-format.md section 5). */
void mtRetire(MtRun *p, const char *zKey){
  sqlite3_stmt *pStmt;
  if( p->op.rc ) return;
  pStmt = tsOpPrepare(&p->op, "INSERT OR REPLACE INTO \"%w\".\"%w_config\"(k, v)"
                      " VALUES('cold.retired:' || ?1, ?2)", p->zDb, p->zTab);
  if( pStmt==0 ) return;
  sqlite3_bind_text(pStmt, 1, zKey, -1, SQLITE_STATIC);
  sqlite3_bind_int64(pStmt, 2, mtWallMs());
  sqlite3_step(pStmt);
  if( sqlite3_finalize(pStmt)!=SQLITE_OK ) tsOpSqlErr(&p->op, "recording a retired object");
}

static void mtRetention(MtRun *p){
  sqlite3_stmt *pStmt;
  char **azKey = 0;
  int nKey = 0, nAlloc = 0, i;
  if( tsOpExec(&p->op, "BEGIN IMMEDIATE") ) return;
  pStmt = tsOpPrepare(&p->op, "DELETE FROM \"%w\".\"%w_objects\" WHERE tmax < ?1 RETURNING key",
                    p->zDb, p->zTab);
  if( pStmt ) sqlite3_bind_int64(pStmt, 1, p->iExpire);
  while( pStmt && p->op.rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    if( nKey==nAlloc ){
      char **a = sqlite3_realloc64(azKey, sizeof(char*)*(nAlloc = nAlloc ? 2*nAlloc : 16));
      if( a==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); break; }
      azKey = a;
    }
    azKey[nKey] = sqlite3_mprintf("%s", (const char*)sqlite3_column_text(pStmt, 0));
    if( azKey[nKey]==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); break; }
    nKey++;
  }
  if( pStmt && sqlite3_finalize(pStmt)!=SQLITE_OK ) tsOpSqlErr(&p->op, "expiring manifest rows");
  /* The objects stay in the store until the orphan pass (after the grace). */
  for(i=0; i<nKey; i++) mtRetire(p, azKey[i]);
  if( p->op.rc==SQLITE_OK && tsOpExec(&p->op, "COMMIT")==SQLITE_OK ){
    if( nKey ) mtPoint(p->op.db, "retention-committed");
    p->nObjExpired += nKey;
  }else{
    sqlite3_exec(p->op.db, "ROLLBACK", 0, 0, 0);
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
  sqlite3_stmt *pStmt, *pRet;
  char **azDel = 0;
  int i, nDel = 0, nRetired = 0;
  memset(&l, 0, sizeof(l));
  l.p = p;
  l.iCutMs = mtWallMs() - p->iGrace/1000000;
  zPrefix = sqlite3_mprintf("%s/", p->zTab);
  if( zPrefix==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); return; }
  if( tsObjList(p->pStore, zPrefix, mtListCb, &l, &zE)!=TS_OBJ_OK ){
    tsOpErr(&p->op, SQLITE_IOERR, "ts_maintain %s: listing %s: %s", p->zTab, zPrefix, zE ? zE : "failed");
  }
  free(zE); zE = 0;
  sqlite3_free(zPrefix);
  /* Keep only the keys the manifest does not hold (read after the list, so
  ** an object committed meanwhile is seen as committed), and of the retired
  ** ones only those retired before the cut. */
  pStmt = tsOpPrepare(&p->op, "SELECT 1 FROM \"%w\".\"%w_objects\" WHERE key=?1", p->zDb, p->zTab);
  pRet = tsOpPrepare(&p->op, "SELECT v FROM \"%w\".\"%w_config\" WHERE k='cold.retired:' || ?1",
                     p->zDb, p->zTab);
  azDel = l.n ? sqlite3_malloc64(sizeof(char*)*l.n) : 0;
  for(i=0; pStmt && pRet && azDel && i<l.n; i++){
    int bKeep;
    sqlite3_bind_text(pStmt, 1, l.az[i], -1, SQLITE_STATIC);
    bKeep = sqlite3_step(pStmt)==SQLITE_ROW;
    sqlite3_reset(pStmt);
    sqlite3_bind_text(pRet, 1, l.az[i], -1, SQLITE_STATIC);
    if( !bKeep && sqlite3_step(pRet)==SQLITE_ROW ){
      if( sqlite3_column_int64(pRet, 0) > l.iCutMs ) bKeep = 1;   /* retired, in grace */
      else nRetired++;
    }
    sqlite3_reset(pRet);
    if( !bKeep ) azDel[nDel++] = l.az[i];
  }
  sqlite3_finalize(pStmt);
  sqlite3_finalize(pRet);
  if( p->op.rc==SQLITE_OK && nDel ){
    if( tsObjDeleteMany(p->pStore, (const char*const*)azDel, nDel, &zE)!=TS_OBJ_OK ){
      tsOpErr(&p->op, SQLITE_IOERR, "ts_maintain %s: deleting orphans: %s", p->zTab, zE ? zE : "failed");
    }else{
      p->nOrphan += nDel - nRetired;
      p->nRetiredDeleted += nRetired;
      mtPoint(p->op.db, "orphans-deleted");
    }
    free(zE);
  }
  /* Every retired object past the grace is gone now (deleted above, or
  ** already missing from the list): forget them. */
  if( p->op.rc==SQLITE_OK ){
    pStmt = tsOpPrepare(&p->op, "DELETE FROM \"%w\".\"%w_config\" WHERE k GLOB 'cold.retired:*'"
                        " AND v <= ?1", p->zDb, p->zTab);
    if( pStmt ){
      sqlite3_bind_int64(pStmt, 1, l.iCutMs);
      sqlite3_step(pStmt);
      if( sqlite3_finalize(pStmt)!=SQLITE_OK ) tsOpSqlErr(&p->op, "forgetting deleted retired objects");
    }
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
  if( p->op.rc==SQLITE_OK ) mtStoreOpen(p);
  if( p->op.rc==SQLITE_OK && mtLeaseAcquire(p) ){
    p->iBound = p->iNow - p->s->iMemRet;
    p->iExpire = p->iBound - p->s->iMagRet;
    mtTier(p);
    if( p->op.rc==SQLITE_OK ) mtRetention(p);
    if( p->op.rc==SQLITE_OK ) mtTrim(p);
    if( p->op.rc==SQLITE_OK ) mtRejectCleanup(p);
    if( p->op.rc==SQLITE_OK ) mtCompact(p);
    if( p->op.rc==SQLITE_OK ) mtOrphans(p);
    mtLeaseRelease(p);
    /* Chunks were deleted and written behind the handle's back. */
    tsTableInvalidate(p->pTab);
  }
  if( p->op.rc ) return;
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
    tsJwKeyInt(pJw, "retired_deleted", p->nRetiredDeleted);
    tsJwKeyInt(pJw, "objects_trimmed", p->nObjTrimmed);
    tsJwKeyInt(pJw, "objects_compacted", p->nObjCompacted);
    tsJwKeyInt(pJw, "compacted_into", p->nCompactOut);
    tsJwKeyInt(pJw, "duplicates_dropped", p->nDupDropped);
    tsJwKeyInt(pJw, "rows_rejected", p->nRejected);
    tsJwKey(pJw, "rejected_reports");
    tsJwArrBegin(pJw);
    if( p->rej.n ) tsJwRaw(pJw, (const char*)p->rej.a, p->rej.n);
    tsJwArrEnd(pJw);
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
  sqlite3_free(p->zHolder);
  sqlite3_free(p->zBusy);
  tsObjClose(p->pStore);
  tsBufFree(&p->keys);
  tsBufFree(&p->rej);
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
      if( mtParseSize(pV, &v) || v<(zK[8]=='m' ? 0 : 1) ){   /* compact_max_bytes 0: no compaction */
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
    tsOpInit(&run.op, db, "ts_maintain"); run.pEnv = pEnv; run.iGrace = opts.iGrace;
    run.nCompactTarget = opts.nTarget;
    run.nCompactBudget = opts.nBudget;
    run.nCompactMin = opts.nMin;
    tsBufInit(&run.keys);
    tsBufInit(&run.rej);
    rc = tsTableOpen(pEnv, db, zDb, zOne ? zOne : azTab[i], &run.pTab, &zErr);
    if( rc==SQLITE_OK ){
      run.s = tsTableSchema(run.pTab);
      run.zDb = tsTableDb(run.pTab);
      run.zTab = tsTableName(run.pTab);
      run.op.zObj = run.zTab;
      mtTable(&run, &jw);
      rc = run.op.rc;
    }else{
      run.op.zErr = sqlite3_mprintf("ts_maintain: %s", zErr ? zErr : sqlite3_errstr(rc));
      sqlite3_free(zErr); zErr = 0;
    }
    if( rc && rc!=SQLITE_NOMEM ){
      sqlite3_result_error(ctx, run.op.zErr ? run.op.zErr : "ts_maintain: out of memory", -1);
      sqlite3_result_error_code(ctx, rc);
    }
    sqlite3_free(run.op.zErr);
    mtRunClear(&run);
  }
  tsJwArrEnd(&jw);
  tsJwObjEnd(&jw);
  sqlite3_free(azTab);
  sqlite3_free(zDb);
  sqlite3_free(zOne);
  if( rc==SQLITE_OK ){
    tsOpResultJson(ctx, &out, &jw);
  }else{
    if( rc==SQLITE_NOMEM ) sqlite3_result_error_nomem(ctx);
    tsBufFree(&out);
  }
}

int tsMaintainRegister(sqlite3 *db, TsEnv *pEnv){
  int rc = SQLITE_OK, n;
  for(n=0; rc==SQLITE_OK && n<=2; n++){
    rc = sqlite3_create_function_v2(db, "ts_maintain", n, SQLITE_UTF8|SQLITE_DIRECTONLY,
                                    tsEnvRef(pEnv), maintainFunc, 0, 0, tsEnvUnref);
  }
  for(n=1; rc==SQLITE_OK && n<=2; n++){
    rc = sqlite3_create_function_v2(db, "ts_debug_kill_at", n, SQLITE_UTF8|SQLITE_DIRECTONLY,
                                    0, killAtFunc, 0, 0, 0);
  }
  return rc;
}
