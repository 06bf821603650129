/*
** restore.c: ts_restore(uri, new_table [, options_json]), which rebuilds a
** table from a backup that ts_backup (backup.c) wrote.  Layout: backup.h;
** user format and guarantees: docs/backup.md.
**
**   SELECT ts_restore('s3://vault/cpu', 'cpu_restored');
**   SELECT ts_restore('file:///backups/cpu', 'cpu_old',
**                     '{"backup":"00000003-1a2b3c4d","magnetic_retention":"30d"}');
**
** HOW IT WORKS
**
** 1. Choose the backup: options.backup (an id, as ts_backup returned it), else
**    the newest manifest in the location.  The new table's options are the
**    source's (from the manifest) overridden by options_json (the CREATE
**    options; partition_key and measure_name cannot change because the cold
**    objects are partitioned and sorted by them).  The name must be free, and
**    a dry run of the CREATE (BEGIN; CREATE; ROLLBACK) checks the options
**    before any byte is copied.
** 2. Retention: with E = now - memory_retention - magnetic_retention of the
**    NEW table, memory rows older than E are dropped and cold objects whose
**    last row is older than E are not restored (an object straddling E is
**    restored whole, as ts_maintain's retention keeps it whole).
** 3. Verify and copy (no transaction open): each memory file is read whole
**    and its SHA-256 and size compared with the manifest; each cold object
**    is copied into the new table's storage under a key of the new table
**    (server-side on S3 when possible) and the copy is hashed and compared.
**    The first missing or damaged file stops the restore with a message
**    naming it; the copies made so far are deleted.
** 4. One write transaction: CREATE VIRTUAL TABLE, the memory rows written
**    as chunks into <t>_series/<t>_chunks (series by series, time order,
**    TS_RS_CHUNK_ROWS rows per chunk), the cold objects inserted into
**    <t>_objects in the backup's order, which is the source's manifest id
**    order (readers break ties between overlapping objects by id; the
**    columns ts_maintain writes, writer = the new table's
**    writer id, also stored as cold.writer_id), COMMIT.  The table appears
**    complete or not at all.  Memory rows that are older than the new
**    memory retention stay in the memory tier until the next ts_maintain
**    tiers them, like late data; they are written as chunks directly because
**    INSERT's write window (a rule for new data) would refuse them.
**
** Owns: the run (RsRun) and everything it allocates.
*/
#include "backup.h"
#include "op.h"
#include "chunk.h"
#include "parquet.h"
#include "jsonw.h"
#include "tstime.h"
#include "bloom.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS_RS_CHUNK_ROWS 1024     /* rows per restored chunk (the vtab's target) */

/* Options of the new table that options_json may set. */
static const char *const azRsOpt[] = {
  "memory_retention", "magnetic_retention", "magnetic_writes", "partition_enforcement",
  "storage", "s3_endpoint", "s3_region", "s3_url_style", "encryption", "kms_key",
};
#define RS_NOPT ((int)(sizeof(azRsOpt)/sizeof(azRsOpt[0])))

typedef struct RsFile RsFile;
struct RsFile {
  char *zPath;                     /* key in the location */
  int bCold;
  char zSha[65];
  int64_t nByte, nRow, tMin, tMax;
  /* cold only */
  char *zKey;                      /* source object key */
  char *zNewKey;                   /* key in the new table's storage */
  char *zPkMin, *zPkMax;
  unsigned char *aFilter; int nFilter;
  unsigned char *aFooter; int nFooter;
  unsigned char *aRuns; int nRuns; /* series_runs, NULL: none in the backup */
  int64_t nSeries;                 /* -1 = NULL */
  int bCopied;                     /* zNewKey exists in the new storage */
  char *zEtag;                     /* the copy's ETag in the new storage (its
                                   ** manifest etag; NULL: the store reported none) */
  /* memory only */
  unsigned char *aData;            /* the file (sqlite3_malloc) */
};

typedef struct RsSeries RsSeries;
struct RsSeries {
  unsigned char *aKey; int nKey;   /* skey (sqlite3_malloc) */
  const char **azDim; int *anDim;  /* point into Parquet column data */
  const char *zMName; int nMName;
  int64_t nRow;
};

/* One memory row: its values live in the column data of its row group. */
typedef struct RsRow RsRow;
struct RsRow {
  int iSeries;
  int iGrp;                        /* index into RsRun.aGrp */
  int iRow;                        /* row inside the group */
  int64_t t;
};

/* The decoded columns of one row group. */
typedef struct RsGrp RsGrp;
struct RsGrp {
  TsPqColumnData *aCol;            /* nCol columns (reader-allocated data) */
  int nCol;                        /* 3+nDim+nMeas, + 1 with ts_write_mode (last) */
};

typedef struct RsRun RsRun;
struct RsRun {
  TsOp op;                         /* connection + first error (op.h) */
  TsEnv *pEnv;
  char *zDb, *zTab;                /* the new table */
  const char *zUri;
  TsObjStore *pLoc, *pDst;
  char *zDstUri;
  char *zJson;                     /* the manifest */
  char *zId, *zSrcTab;
  /* schema */
  int nDim, nMeas;
  char **azDim, **azMeas; int *aMeasType;
  /* options of the new table */
  int nOpt; char **azOptK, **azOptV;
  char *zWantBackup;               /* options.backup */
  int64_t iNow, iExpire, iMemRet, iMagRet;
  char zWriter[17];
  int nFile; RsFile *aFile;
  /* memory rows */
  int nGrp, nGrpAlloc; RsGrp *aGrp;
  int nSeries, nSeriesAlloc; RsSeries *aSeries;
  int *aHash; int nHash;           /* open addressing: series index + 1 */
  int64_t nRow, nRowAlloc; RsRow *aRow;
  /* series without memory rows: manifest "cold_series" (hex skeys) */
  int nColdSer; char **azColdSer;
  /* counters */
  int64_t nMemRows, nColdRows, nColdObjs, nExpRows, nExpObjs, nVerified, nBytes, nServer;
};

static void rsRunFree(RsRun *p){
  int i, j;
  for(i=0; i<p->nColdSer; i++) sqlite3_free(p->azColdSer[i]);
  sqlite3_free(p->azColdSer);
  for(i=0; i<p->nDim; i++) sqlite3_free(p->azDim[i]);
  for(i=0; i<p->nMeas; i++) sqlite3_free(p->azMeas[i]);
  sqlite3_free(p->azDim); sqlite3_free(p->azMeas); sqlite3_free(p->aMeasType);
  for(i=0; i<p->nOpt; i++){ sqlite3_free(p->azOptK[i]); sqlite3_free(p->azOptV[i]); }
  sqlite3_free(p->azOptK); sqlite3_free(p->azOptV);
  for(i=0; i<p->nFile; i++){
    RsFile *f = &p->aFile[i];
    sqlite3_free(f->zPath); sqlite3_free(f->zKey); sqlite3_free(f->zNewKey);
    sqlite3_free(f->zPkMin); sqlite3_free(f->zPkMax);
    sqlite3_free(f->aFilter); sqlite3_free(f->aFooter); sqlite3_free(f->aData);
    sqlite3_free(f->aRuns);
    sqlite3_free(f->zEtag);
  }
  sqlite3_free(p->aFile);
  for(i=0; i<p->nGrp; i++){
    if( p->aGrp[i].aCol ){
      for(j=0; j<p->aGrp[i].nCol; j++) tsPqColumnDataFree(&p->aGrp[i].aCol[j]);
    }
    sqlite3_free(p->aGrp[i].aCol);
  }
  sqlite3_free(p->aGrp);
  for(i=0; i<p->nSeries; i++){
    sqlite3_free(p->aSeries[i].aKey);
    sqlite3_free((void*)p->aSeries[i].azDim);
    sqlite3_free(p->aSeries[i].anDim);
  }
  sqlite3_free(p->aSeries);
  sqlite3_free(p->aHash);
  sqlite3_free(p->aRow);
  tsObjClose(p->pLoc); tsObjClose(p->pDst);
  sqlite3_free(p->zDstUri);
  sqlite3_free(p->zJson); sqlite3_free(p->zId); sqlite3_free(p->zSrcTab);
  sqlite3_free(p->zWantBackup);
  sqlite3_free(p->zDb); sqlite3_free(p->zTab);
  sqlite3_free(p->op.zErr);
}

/* Set option zK of the new table to zV (replacing the source's). */
static void rsOptSet(RsRun *p, const char *zK, const char *zV){
  int i;
  for(i=0; i<p->nOpt; i++){
    if( strcmp(p->azOptK[i], zK)==0 ){
      sqlite3_free(p->azOptV[i]);
      p->azOptV[i] = tsOpDup(&p->op, zV);
      return;
    }
  }
  tsBkOptPush(&p->op, &p->nOpt, &p->azOptK, &p->azOptV, zK, zV);
}

static const char *rsOptGet(RsRun *p, const char *zK){
  int i;
  for(i=0; i<p->nOpt; i++) if( strcmp(p->azOptK[i], zK)==0 ) return p->azOptV[i];
  return 0;
}

/* options_json: "backup" plus the new table's options. */
static void rsOptions(RsRun *p, const char *zJson){
  sqlite3_stmt *pStmt;
  int i;
  if( zJson==0 ) return;
  pStmt = tsBkOptionsEach(&p->op, zJson);
  while( pStmt && p->op.rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zK = (const char*)sqlite3_column_text(pStmt, 0);
    const char *zV = (const char*)sqlite3_column_text(pStmt, 1);
    const char *zT = (const char*)sqlite3_column_text(pStmt, 2);
    if( zK==0 ) continue;
    if( strcmp(zK, "backup")==0 ){
      if( zT==0 || strcmp(zT, "text")!=0 || zV==0 || zV[0]==0 || strchr(zV, '/') ){
        tsOpErr(&p->op, SQLITE_ERROR, "ts_restore: option backup must be a backup id as ts_backup "
              "returned it (like \"00000002-1a2b3c4d\"), not %s", zV ? zV : "null");
      }else{
        sqlite3_free(p->zWantBackup);
        p->zWantBackup = tsOpDup(&p->op, zV);
      }
      continue;
    }
    if( strcmp(zK, "partition_key")==0 || strcmp(zK, "measure_name")==0 ){
      tsOpErr(&p->op, SQLITE_ERROR, "ts_restore: option %s cannot change at restore (the backup's "
            "cold objects are partitioned and sorted by the source's)", zK);
      break;
    }
    for(i=0; i<RS_NOPT; i++) if( strcmp(zK, azRsOpt[i])==0 ) break;
    if( i==RS_NOPT ){
      tsOpErr(&p->op, SQLITE_ERROR, "ts_restore: unknown option '%s' (expected backup, "
            "memory_retention, magnetic_retention, magnetic_writes, partition_enforcement, "
            "storage, s3_endpoint, s3_region, s3_url_style)", zK);
      break;
    }
    if( zT && (strcmp(zT, "true")==0 || strcmp(zT, "false")==0) ) zV = zT;
    if( zV==0 || (zT && (strcmp(zT, "object")==0 || strcmp(zT, "array")==0)) ){
      tsOpErr(&p->op, SQLITE_ERROR, "ts_restore: option %s must be a string, number or boolean", zK);
      break;
    }
    rsOptSet(p, zK, zV);
  }
  sqlite3_finalize(pStmt);
}

/*************************************************************************
** The manifest.
*/
static void rsPickBackup(RsRun *p){
  char *zKey = 0, *zE = 0;
  int rc;
  if( p->op.rc ) return;
  if( p->zWantBackup ){
    size_t n = strlen(p->zWantBackup);
    zKey = sqlite3_mprintf("%s%s%s", TS_BK_MANIFEST_DIR, p->zWantBackup,
                           n>5 && strcmp(p->zWantBackup+n-5, ".json")==0 ? "" : ".json");
    if( zKey==0 ){ tsOpOom(&p->op); return; }
  }else{
    char **az = 0;
    int n = 0;
    rc = tsBkManifestList("ts_restore", p->pLoc, p->zUri, &az, &n, &zE);
    if( rc ){ p->op.rc = rc; p->op.zErr = zE; return; }
    if( n==0 ){
      tsOpErr(&p->op, SQLITE_ERROR, "ts_restore: no backup in '%s' (no %s*.json manifest)", p->zUri,
            TS_BK_MANIFEST_DIR);
    }else{
      zKey = tsOpDup(&p->op, az[n-1]);
    }
    sqlite3_free(az);
    if( zKey==0 ) return;
  }
  rc = tsBkManifestRead("ts_restore", p->op.db, p->pLoc, p->zUri, zKey, &p->zJson, &zE);
  if( rc ){ p->op.rc = rc; p->op.zErr = zE; }
  sqlite3_free(zKey);
}

static int rsTypeOf(const char *z){
  int e;
  for(e=TS_TYPE_DOUBLE; e<=TS_TYPE_TIMESTAMP; e++) if( strcmp(z, tsChunkTypeName(e))==0 ) return e;
  return 0;
}

static void rsParseManifest(RsRun *p){
  sqlite3_stmt *pStmt;
  int nAlloc = 0;
  if( p->op.rc ) return;
  pStmt = tsOpPrepare(&p->op, "SELECT json_extract(?1, '$.id'), json_extract(?1, '$.table')");
  if( pStmt ){
    sqlite3_bind_text(pStmt, 1, p->zJson, -1, SQLITE_STATIC);
    if( sqlite3_step(pStmt)==SQLITE_ROW ){
      p->zId = tsOpDup(&p->op, (const char*)sqlite3_column_text(pStmt, 0));
      p->zSrcTab = tsOpDup(&p->op, (const char*)sqlite3_column_text(pStmt, 1));
    }
    sqlite3_finalize(pStmt);
  }
  if( p->op.rc==SQLITE_OK && (p->zId==0 || p->zSrcTab==0) ){
    tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: the backup manifest in '%s' has no id or table", p->zUri);
  }
  /* Schema. */
  pStmt = tsOpPrepare(&p->op, "SELECT json_extract(value, '$.name'), json_extract(value, '$.type') "
                       "FROM json_each(?1, '$.schema.columns')");
  if( pStmt ) sqlite3_bind_text(pStmt, 1, p->zJson, -1, SQLITE_STATIC);
  while( pStmt && p->op.rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zN = (const char*)sqlite3_column_text(pStmt, 0);
    const char *zT = (const char*)sqlite3_column_text(pStmt, 1);
    if( zN==0 || zT==0 || (strcmp(zT, "DIMENSION")!=0 && rsTypeOf(zT)==0) ){
      tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s in '%s': bad column in the schema",
            p->zId, p->zUri);
      break;
    }
    if( strcmp(zT, "DIMENSION")==0 ){
      char **a = sqlite3_realloc64(p->azDim, sizeof(char*)*(p->nDim+1));
      if( a==0 ){ tsOpOom(&p->op); break; }
      p->azDim = a; a[p->nDim++] = tsOpDup(&p->op, zN);
    }else{
      char **a = sqlite3_realloc64(p->azMeas, sizeof(char*)*(p->nMeas+1));
      int *t = a ? sqlite3_realloc64(p->aMeasType, sizeof(int)*(p->nMeas+1)) : 0;
      if( a ) p->azMeas = a;
      if( t ) p->aMeasType = t;
      if( a==0 || t==0 ){ tsOpOom(&p->op); break; }
      a[p->nMeas] = tsOpDup(&p->op, zN); t[p->nMeas] = rsTypeOf(zT); p->nMeas++;
    }
  }
  sqlite3_finalize(pStmt);
  if( p->op.rc==SQLITE_OK && p->nMeas==0 ){
    tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s in '%s' has no measure columns", p->zId, p->zUri);
  }
  /* Source options (overridden later by options_json). */
  pStmt = tsOpPrepare(&p->op, "SELECT key, value FROM json_each(?1, '$.options')");
  if( pStmt ) sqlite3_bind_text(pStmt, 1, p->zJson, -1, SQLITE_STATIC);
  while( pStmt && p->op.rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zK = (const char*)sqlite3_column_text(pStmt, 0);
    const char *zV = (const char*)sqlite3_column_text(pStmt, 1);
    if( zK && zV ) rsOptSet(p, zK, zV);
  }
  sqlite3_finalize(pStmt);
  /* Files. */
  pStmt = tsOpPrepare(&p->op,
      "SELECT json_extract(value, '$.path'), json_extract(value, '$.kind'), "
      "json_extract(value, '$.sha256'), json_extract(value, '$.bytes'), "
      "json_extract(value, '$.rows'), json_extract(value, '$.tmin'), json_extract(value, '$.tmax'), "
      "json_extract(value, '$.object.key'), json_extract(value, '$.object.pk_min'), "
      "json_extract(value, '$.object.pk_max'), json_extract(value, '$.object.series_filter'), "
      "json_extract(value, '$.object.footer'), json_extract(value, '$.object.nseries'), "
      "json_extract(value, '$.object.series_runs') "
      "FROM json_each(?1, '$.files')");
  if( pStmt ) sqlite3_bind_text(pStmt, 1, p->zJson, -1, SQLITE_STATIC);
  while( pStmt && p->op.rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zPath = (const char*)sqlite3_column_text(pStmt, 0);
    const char *zKind = (const char*)sqlite3_column_text(pStmt, 1);
    const char *zSha = (const char*)sqlite3_column_text(pStmt, 2);
    RsFile *f;
    if( zPath==0 || zKind==0 || zSha==0 || strlen(zSha)!=64
     || (strcmp(zKind, "memory")!=0 && strcmp(zKind, "cold")!=0)
     || (strcmp(zKind, "cold")==0 && sqlite3_column_type(pStmt, 7)!=SQLITE_TEXT) ){
      tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s in '%s': damaged file entry%s%s",
            p->zId, p->zUri, zPath ? " " : "", zPath ? zPath : "");
      break;
    }
    if( p->nFile==nAlloc ){
      RsFile *a = sqlite3_realloc64(p->aFile, sizeof(RsFile)*(nAlloc = nAlloc ? 2*nAlloc : 64));
      if( a==0 ){ tsOpOom(&p->op); break; }
      p->aFile = a;
    }
    f = &p->aFile[p->nFile++];
    memset(f, 0, sizeof(*f));
    f->zPath = tsOpDup(&p->op, zPath);
    f->bCold = zKind[0]=='c';
    memcpy(f->zSha, zSha, 65);
    f->nByte = sqlite3_column_int64(pStmt, 3);
    f->nRow = sqlite3_column_int64(pStmt, 4);
    f->tMin = sqlite3_column_int64(pStmt, 5);
    f->tMax = sqlite3_column_int64(pStmt, 6);
    f->nSeries = -1;
    if( f->bCold ){
      const char *zF = (const char*)sqlite3_column_text(pStmt, 10);
      const char *zFt = (const char*)sqlite3_column_text(pStmt, 11);
      f->zKey = tsOpDup(&p->op, (const char*)sqlite3_column_text(pStmt, 7));
      f->zPkMin = tsOpDup(&p->op, (const char*)sqlite3_column_text(pStmt, 8));
      f->zPkMax = tsOpDup(&p->op, (const char*)sqlite3_column_text(pStmt, 9));
      if( zF ){
        f->aFilter = tsBkHexDecode(zF, &f->nFilter);
        if( f->aFilter==0 ) tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s: bad series_filter of %s", p->zId, zPath);
      }
      if( zFt ){
        f->aFooter = tsBkHexDecode(zFt, &f->nFooter);
        if( f->aFooter==0 ) tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s: bad footer of %s", p->zId, zPath);
      }
      if( sqlite3_column_type(pStmt, 12)!=SQLITE_NULL ) f->nSeries = sqlite3_column_int64(pStmt, 12);
      if( sqlite3_column_type(pStmt, 13)==SQLITE_TEXT ){
        f->aRuns = tsBkHexDecode((const char*)sqlite3_column_text(pStmt, 13), &f->nRuns);
        if( f->aRuns==0 ) tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s: bad series_runs of %s", p->zId, zPath);
      }
    }
  }
  sqlite3_finalize(pStmt);
  /* Series whose rows are all cold (a backup written before this list has
  ** none: its cold-only series are not restored). */
  pStmt = tsOpPrepare(&p->op, "SELECT value FROM json_each(?1, '$.cold_series')");
  if( pStmt ) sqlite3_bind_text(pStmt, 1, p->zJson, -1, SQLITE_STATIC);
  while( pStmt && p->op.rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    char **az = sqlite3_realloc64(p->azColdSer, sizeof(char*)*(size_t)(p->nColdSer+1));
    if( az==0 ){ tsOpOom(&p->op); break; }
    p->azColdSer = az;
    az[p->nColdSer] = tsOpDup(&p->op, (const char*)sqlite3_column_text(pStmt, 0));
    if( az[p->nColdSer] ) p->nColdSer++;
  }
  sqlite3_finalize(pStmt);
}

/*************************************************************************
** The new table: CREATE text, dry run, retention.
*/
static char *rsCreateSql(RsRun *p){
  TsBuf b;
  int i;
  char *z;
  tsBufInit(&b);
  z = sqlite3_mprintf("CREATE VIRTUAL TABLE \"%w\".\"%w\" USING timeseries(", p->zDb, p->zTab);
  if( z ){ tsBufAppendStr(&b, z); sqlite3_free(z); } else b.bErr = 1;
  for(i=0; i<p->nDim+p->nMeas; i++){
    z = i<p->nDim ? sqlite3_mprintf("%s\"%w\" DIMENSION", i ? ", " : "", p->azDim[i])
                  : sqlite3_mprintf("%s\"%w\" %s", i ? ", " : "", p->azMeas[i-p->nDim],
                                    tsChunkTypeName(p->aMeasType[i-p->nDim]));
    if( z ){ tsBufAppendStr(&b, z); sqlite3_free(z); } else b.bErr = 1;
  }
  for(i=0; i<p->nOpt; i++){
    const char *zK = p->azOptK[i];
    int j, bOk = 0;
    /* Option names are fixed words (never data); check before writing one. */
    for(j=0; zK[j]; j++) if( !((zK[j]>='a' && zK[j]<='z') || zK[j]=='_' || (zK[j]>='0' && zK[j]<='9')) ) break;
    bOk = zK[0] && zK[j]==0;
    if( !bOk ){
      tsBufFree(&b);
      tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s: bad option name in the manifest", p->zId);
      return 0;
    }
    z = sqlite3_mprintf(", %s = %Q", zK, p->azOptV[i]);
    if( z ){ tsBufAppendStr(&b, z); sqlite3_free(z); } else b.bErr = 1;
  }
  tsBufAppendStr(&b, ")");
  tsBufAppendByte(&b, 0);
  if( b.bErr ){ tsBufFree(&b); tsOpOom(&p->op); return 0; }
  z = sqlite3_mprintf("%s", (char*)b.a);
  tsBufFree(&b);
  if( z==0 ) tsOpOom(&p->op);
  return z;
}

static void rsCheckTarget(RsRun *p){
  sqlite3_stmt *pStmt;
  char *zSql;
  const char *zV;
  int rc;
  if( p->op.rc ) return;
  pStmt = tsOpPrepare(&p->op, "SELECT 1 FROM \"%w\".sqlite_schema WHERE name=?1 COLLATE NOCASE", p->zDb);
  if( pStmt==0 ) return;
  sqlite3_bind_text(pStmt, 1, p->zTab, -1, SQLITE_STATIC);
  if( sqlite3_step(pStmt)==SQLITE_ROW ){
    tsOpErr(&p->op, SQLITE_ERROR, "ts_restore: a table named '%s' already exists in schema %s "
          "(restore always creates a new table)", p->zTab, p->zDb);
  }
  sqlite3_finalize(pStmt);
  if( p->op.rc ) return;
  /* Dry run of the CREATE: the options are checked before anything is copied. */
  zSql = rsCreateSql(p);
  if( zSql==0 ) return;
  rc = sqlite3_exec(p->op.db, "BEGIN", 0, 0, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_exec(p->op.db, zSql, 0, 0, 0);
  if( rc!=SQLITE_OK ) tsOpErr(&p->op, rc, "ts_restore %s: %s", p->zTab, sqlite3_errmsg(p->op.db));
  sqlite3_exec(p->op.db, "ROLLBACK", 0, 0, 0);
  sqlite3_free(zSql);
  if( p->op.rc ) return;
  p->iMemRet = 6*3600LL*1000000000LL;
  p->iMagRet = 73000LL*86400LL*1000000000LL;
  if( (zV = rsOptGet(p, "memory_retention"))!=0 && tsBkInterval(zV, &p->iMemRet) ){
    tsOpErr(&p->op, SQLITE_ERROR, "ts_restore %s: bad memory_retention '%s'", p->zTab, zV);
  }
  if( (zV = rsOptGet(p, "magnetic_retention"))!=0 && tsBkInterval(zV, &p->iMagRet) ){
    tsOpErr(&p->op, SQLITE_ERROR, "ts_restore %s: bad magnetic_retention '%s'", p->zTab, zV);
  }
  p->iNow = tsEnvNow(p->pEnv);
  p->iExpire = p->iNow - p->iMemRet - p->iMagRet;
}

/*************************************************************************
** Verify and copy.
*/
static void rsVerifyMemory(RsRun *p, RsFile *f){
  TsBuf b;
  char *zE = 0;
  char zSha[65];
  int rc;
  tsBufInit(&b);
  rc = tsObjGet(p->pLoc, f->zPath, 0, -1, &b, &zE);
  if( rc==TS_OBJ_NOTFOUND ){
    tsOpErr(&p->op, SQLITE_ERROR, "ts_restore: backup %s is incomplete: file '%s' is missing from '%s'",
          p->zId, f->zPath, p->zUri);
  }else if( rc!=TS_OBJ_OK || b.bErr ){
    tsOpErr(&p->op, SQLITE_IOERR, "ts_restore: reading '%s' of backup %s in '%s': %s", f->zPath, p->zId,
          p->zUri, b.bErr ? "out of memory" : (zE ? zE : "failed"));
  }else{
    tsBkSha256(b.a ? b.a : (const unsigned char*)"", b.n, zSha);
    if( (int64_t)b.n!=f->nByte || strcmp(zSha, f->zSha)!=0 ){
      tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s is damaged: file '%s' in '%s' has "
            "%lld bytes with sha256 %s, its manifest says %lld bytes with sha256 %s", p->zId,
            f->zPath, p->zUri, (long long)b.n, zSha, (long long)f->nByte, f->zSha);
    }else{
      size_t n;
      f->aData = sqlite3_malloc64(b.n ? b.n : 1);
      if( f->aData==0 ) tsOpOom(&p->op);
      else if( b.n ) memcpy(f->aData, b.a, b.n);
      (void)n;
      p->nVerified++;
      p->nBytes += (int64_t)b.n;
    }
  }
  free(zE);
  tsBufFree(&b);
}

/* The new key of a cold object: <new table>/<same partition folders>/<new
** writer id>-<same object id>.parquet. */
static char *rsNewKey(RsRun *p, const char *zKey){
  const char *zFirst = strchr(zKey, '/');
  const char *zLast = strrchr(zKey, '/');
  const char *zDash = zLast ? strchr(zLast, '-') : 0;
  char *z;
  if( zFirst && zLast && zDash ){
    if( zFirst==zLast ){
      z = sqlite3_mprintf("%s/%s-%s", p->zTab, p->zWriter, zDash+1);
    }else{
      z = sqlite3_mprintf("%s%.*s/%s-%s", p->zTab, (int)(zLast-zFirst), zFirst, p->zWriter, zDash+1);
    }
  }else{
    unsigned char a[8];
    char zId[17];
    int i;
    sqlite3_randomness(8, a);
    for(i=0; i<8; i++) snprintf(zId+2*i, 3, "%02x", a[i]);
    z = sqlite3_mprintf("%s/restored/%s-%s.parquet", p->zTab, p->zWriter, zId);
  }
  if( z==0 ) tsOpOom(&p->op);
  return z;
}

static void rsCopyCold(RsRun *p, RsFile *f){
  char *zE = 0;
  char zSha[65];
  int64_t nByte = 0;
  int bServer = 0, rc;
  if( p->pDst==0 ){
    char *zE2 = 0;
    rc = tsBkTableStoreOpen("ts_restore", p->op.db, p->zDb, p->zTab, rsOptGet(p, "storage"),
                            rsOptGet(p, "s3_endpoint"), rsOptGet(p, "s3_region"),
                            rsOptGet(p, "s3_url_style"), rsOptGet(p, "encryption"),
                            rsOptGet(p, "kms_key"), &p->pDst, &p->zDstUri, &zE2);
    if( rc ){ p->op.rc = rc; p->op.zErr = zE2; return; }
  }
  f->zNewKey = rsNewKey(p, f->zKey);
  if( f->zNewKey==0 ) return;
  rc = tsObjCopyAcross(p->pLoc, f->zPath, p->pDst, f->zNewKey, &bServer, &zE);
  if( rc==TS_OBJ_NOTFOUND ){
    tsOpErr(&p->op, SQLITE_ERROR, "ts_restore: backup %s is incomplete: file '%s' is missing from '%s'",
          p->zId, f->zPath, p->zUri);
    free(zE);
    return;
  }
  if( rc!=TS_OBJ_OK ){
    tsOpErr(&p->op, SQLITE_IOERR, "ts_restore: copying '%s' of backup %s to '%s': %s", f->zPath, p->zId,
          p->zDstUri, zE ? zE : "failed");
    free(zE);
    return;
  }
  free(zE); zE = 0;
  f->bCopied = 1;
  p->nServer += bServer;
  rc = tsBkHashObject(p->pDst, f->zNewKey, zSha, &nByte, &zE);
  if( rc!=TS_OBJ_OK ){
    tsOpErr(&p->op, SQLITE_IOERR, "ts_restore: reading back '%s' in '%s': %s", f->zNewKey, p->zDstUri,
          zE ? zE : "failed");
  }else if( nByte!=f->nByte || strcmp(zSha, f->zSha)!=0 ){
    tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s is damaged: file '%s' in '%s' has %lld bytes "
          "with sha256 %s, its manifest says %lld bytes with sha256 %s", p->zId, f->zPath,
          p->zUri, (long long)nByte, zSha, (long long)f->nByte, f->zSha);
  }else{
    TsObjInfo info;
    p->nVerified++;
    p->nBytes += nByte;
    /* The copy is a new object: its ETag is the new storage's (a server-side
    ** copy or a streamed one may give other ETags than the source's). */
    free(zE); zE = 0;
    rc = tsObjHead(p->pDst, f->zNewKey, &info, &zE);
    if( rc!=TS_OBJ_OK ){
      tsOpErr(&p->op, SQLITE_IOERR, "ts_restore: reading back '%s' in '%s': %s", f->zNewKey, p->zDstUri,
            zE ? zE : "failed");
    }else if( info.zEtag && info.zEtag[0] ){
      f->zEtag = tsOpDup(&p->op, info.zEtag);
    }
  }
  free(zE);
}

static void rsDeleteCopies(RsRun *p){
  int i;
  for(i=0; i<p->nFile; i++){
    RsFile *f = &p->aFile[i];
    if( f->bCopied ){
      char *zE = 0;
      tsObjDelete(p->pDst, f->zNewKey, &zE);   /* best effort: an orphan otherwise */
      free(zE);
      f->bCopied = 0;
    }
  }
}

/*************************************************************************
** Memory rows: Parquet files -> series and rows.
*/
typedef struct RsMem RsMem;
struct RsMem { const unsigned char *a; int64_t n; };
static int rsMemRead(void *pCtx, int64_t iOff, int64_t n, void *pOut){
  RsMem *m = (RsMem*)pCtx;
  if( iOff<0 || n<0 || iOff+n>m->n ) return 1;
  memcpy(pOut, m->a + iOff, (size_t)n);
  return 0;
}

/* Series index for (dims, measure_name), adding it when new; -1 on error. */
static int rsSeriesFor(RsRun *p, const char **azDim, const int *anDim, const char *zM, int nM,
                       TsBuf *pKey){
  uint32_t h;
  int i, j;
  tsBufReset(pKey);
  for(i=0; i<p->nDim; i++){
    if( azDim[i]==0 ){ tsBufAppendByte(pKey, 0); continue; }
    tsBufAppendByte(pKey, 1);
    tsBufAppendVarint(pKey, (uint64_t)anDim[i]);
    tsBufAppend(pKey, azDim[i], (size_t)anDim[i]);
  }
  tsBufAppendVarint(pKey, (uint64_t)nM);
  tsBufAppend(pKey, zM, (size_t)nM);
  if( pKey->bErr ){ tsOpOom(&p->op); return -1; }
  if( p->nSeries*2 >= p->nHash ){
    int nNew = p->nHash ? 2*p->nHash : 1024;
    int *aNew = sqlite3_malloc64(sizeof(int)*nNew);
    if( aNew==0 ){ tsOpOom(&p->op); return -1; }
    memset(aNew, 0, sizeof(int)*nNew);
    for(i=0; i<p->nSeries; i++){
      j = (int)(tsFnv1a32(p->aSeries[i].aKey, (size_t)p->aSeries[i].nKey) & (uint32_t)(nNew-1));
      while( aNew[j] ) j = (j+1) & (nNew-1);
      aNew[j] = i+1;
    }
    sqlite3_free(p->aHash);
    p->aHash = aNew; p->nHash = nNew;
  }
  h = tsFnv1a32(pKey->a, pKey->n);
  for(j=(int)(h & (uint32_t)(p->nHash-1)); p->aHash[j]; j=(j+1) & (p->nHash-1)){
    RsSeries *s = &p->aSeries[p->aHash[j]-1];
    if( (size_t)s->nKey==pKey->n && memcmp(s->aKey, pKey->a, pKey->n)==0 ) return p->aHash[j]-1;
  }
  if( p->nSeries==p->nSeriesAlloc ){
    int n = p->nSeriesAlloc ? 2*p->nSeriesAlloc : 64;
    RsSeries *a = sqlite3_realloc64(p->aSeries, sizeof(RsSeries)*n);
    if( a==0 ){ tsOpOom(&p->op); return -1; }
    p->aSeries = a; p->nSeriesAlloc = n;
  }
  {
    RsSeries *s = &p->aSeries[p->nSeries];
    memset(s, 0, sizeof(*s));
    s->aKey = sqlite3_malloc64(pKey->n);
    s->azDim = sqlite3_malloc64(sizeof(char*)*(p->nDim+1));
    s->anDim = sqlite3_malloc64(sizeof(int)*(p->nDim+1));
    if( s->aKey==0 || s->azDim==0 || s->anDim==0 ){
      sqlite3_free(s->aKey); sqlite3_free((void*)s->azDim); sqlite3_free(s->anDim);
      tsOpOom(&p->op); return -1;
    }
    memcpy(s->aKey, pKey->a, pKey->n);
    s->nKey = (int)pKey->n;
    for(i=0; i<p->nDim; i++){ s->azDim[i] = azDim[i]; s->anDim[i] = anDim[i]; }
    s->zMName = zM; s->nMName = nM;
    p->aHash[j] = p->nSeries+1;
    return p->nSeries++;
  }
}

static int rsColKind(int eType){
  static const int aMap[] = { 0, TS_PQ_DOUBLE, TS_PQ_INT64, TS_PQ_STRING, TS_PQ_BOOLEAN,
                              TS_PQ_TIMESTAMP_NS };
  return aMap[eType];
}

static void rsLoadMemFile(RsRun *p, RsFile *f){
  RsMem m;
  TsPqReader *pR = 0;
  char *zE = 0;
  int nCol = 3 + p->nDim + p->nMeas, iRg, i, bMark = 0;
  const char **azDim;
  int *anDim;
  TsBuf key;
  m.a = f->aData; m.n = f->nByte;
  if( tsPqReaderOpen(&pR, rsMemRead, &m, f->nByte, &zE)!=TS_PQ_OK ){
    tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s: file '%s' is not readable Parquet: %s",
          p->zId, f->zPath, zE ? zE : "?");
    free(zE);
    return;
  }
  /* The column layout must be the manifest's schema, optionally followed
  ** by the rows' write marks (ts_write_mode; a file without it is plain). */
  if( tsPqReaderColumnCount(pR)==nCol+1 ){
    const TsPqColumnInfo *c = tsPqReaderColumn(pR, nCol);
    if( strcmp(c->zName, "ts_write_mode")!=0 || c->eType!=TS_PQ_INT64 ){
      tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s: file '%s': column %d is '%s', the "
            "schema says 'ts_write_mode' (INT64) or none", p->zId, f->zPath, nCol, c->zName);
    }
    bMark = 1;
  }else if( tsPqReaderColumnCount(pR)!=nCol ){
    tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s: file '%s' has %d columns, the schema %d",
          p->zId, f->zPath, tsPqReaderColumnCount(pR), nCol);
  }
  for(i=0; p->op.rc==SQLITE_OK && i<nCol; i++){
    const TsPqColumnInfo *c = tsPqReaderColumn(pR, i);
    const char *zWant; int eWant;
    if( i==0 ){ zWant = "time"; eWant = TS_PQ_TIMESTAMP_NS; }
    else if( i<=p->nDim ){ zWant = p->azDim[i-1]; eWant = TS_PQ_STRING; }
    else if( i==p->nDim+1 ){ zWant = "measure_name"; eWant = TS_PQ_STRING; }
    else if( i<nCol-1 ){ zWant = p->azMeas[i-p->nDim-2]; eWant = rsColKind(p->aMeasType[i-p->nDim-2]); }
    else { zWant = "version"; eWant = TS_PQ_INT64; }
    if( strcmp(c->zName, zWant)!=0 || c->eType!=eWant ){
      tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s: file '%s': column %d is '%s', the "
            "schema says '%s'", p->zId, f->zPath, i, c->zName, zWant);
    }
  }
  azDim = sqlite3_malloc64(sizeof(char*)*(p->nDim+1));
  anDim = sqlite3_malloc64(sizeof(int)*(p->nDim+1));
  tsBufInit(&key);
  if( azDim==0 || anDim==0 ) tsOpOom(&p->op);
  for(iRg=0; p->op.rc==SQLITE_OK && iRg<tsPqReaderRowGroupCount(pR); iRg++){
    RsGrp *g;
    int64_t nRow, r;
    if( p->nGrp==p->nGrpAlloc ){
      int n = p->nGrpAlloc ? 2*p->nGrpAlloc : 64;
      RsGrp *a = sqlite3_realloc64(p->aGrp, sizeof(RsGrp)*n);
      if( a==0 ){ tsOpOom(&p->op); break; }
      p->aGrp = a; p->nGrpAlloc = n;
    }
    g = &p->aGrp[p->nGrp++];
    g->nCol = nCol + bMark;
    g->aCol = sqlite3_malloc64(sizeof(TsPqColumnData)*g->nCol);
    if( g->aCol==0 ){ tsOpOom(&p->op); break; }
    memset(g->aCol, 0, sizeof(TsPqColumnData)*g->nCol);
    for(i=0; p->op.rc==SQLITE_OK && i<g->nCol; i++){
      if( tsPqReaderReadColumn(pR, iRg, i, 0, &g->aCol[i])!=TS_PQ_OK ){
        tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s: file '%s': %s", p->zId, f->zPath,
              tsPqReaderErrmsg(pR));
      }
    }
    for(i=1; p->op.rc==SQLITE_OK && i<g->nCol; i++){
      if( g->aCol[i].nRow!=g->aCol[0].nRow ){
        tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s: file '%s': row group %d: column %d "
              "has %lld rows, column 0 %lld", p->zId, f->zPath, iRg, i, (long long)g->aCol[i].nRow,
              (long long)g->aCol[0].nRow);
      }
    }
    if( p->op.rc==SQLITE_OK && bMark ){
      const TsPqColumnData *cw = &g->aCol[nCol];
      for(r=0; r<cw->nRow; r++){
        if( (cw->aNull && cw->aNull[r]) || cw->aInt[r]<0 || cw->aInt[r]>2 ){
          tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s: file '%s': a ts_write_mode value "
                "is not 0, 1 or 2", p->zId, f->zPath);
          break;
        }
      }
    }
    if( p->op.rc ) break;
    nRow = g->aCol[0].nRow;
    for(r=0; p->op.rc==SQLITE_OK && r<nRow; r++){
      int64_t t = g->aCol[0].aInt[r];
      const TsPqColumnData *cm = &g->aCol[p->nDim+1];
      int iS;
      RsRow *pRow;
      if( t<p->iExpire ){ p->nExpRows++; continue; }
      for(i=0; i<p->nDim; i++){
        const TsPqColumnData *cd = &g->aCol[1+i];
        if( cd->aNull && cd->aNull[r] ){ azDim[i] = 0; anDim[i] = 0; continue; }
        azDim[i] = (const char*)cd->aData + cd->aOff[r];
        anDim[i] = (int)(cd->aOff[r+1] - cd->aOff[r]);
      }
      iS = rsSeriesFor(p, azDim, anDim, (const char*)cm->aData + cm->aOff[r],
                       (int)(cm->aOff[r+1] - cm->aOff[r]), &key);
      if( iS<0 ) break;
      if( p->nRow==p->nRowAlloc ){
        int64_t n = p->nRowAlloc ? 2*p->nRowAlloc : 4096;
        RsRow *a = sqlite3_realloc64(p->aRow, sizeof(RsRow)*n);
        if( a==0 ){ tsOpOom(&p->op); break; }
        p->aRow = a; p->nRowAlloc = n;
      }
      pRow = &p->aRow[p->nRow++];
      pRow->iSeries = iS;
      pRow->iGrp = p->nGrp-1;
      pRow->iRow = (int)r;
      pRow->t = t;
      p->aSeries[iS].nRow++;
    }
  }
  tsBufFree(&key);
  sqlite3_free((void*)azDim); sqlite3_free(anDim);
  tsPqReaderFree(pR);
}

static int rsRowCmp(const void *pa, const void *pb){
  const RsRow *a = (const RsRow*)pa, *b = (const RsRow*)pb;
  if( a->iSeries!=b->iSeries ) return a->iSeries<b->iSeries ? -1 : 1;
  return a->t<b->t ? -1 : a->t>b->t;
}

/*************************************************************************
** The write transaction.
*/
static void rsWriteChunks(RsRun *p){
  TsBuf cols, vals;
  sqlite3_stmt *pSer = 0, *pChk = 0;
  int64_t i, j;
  int k, c;
  int64_t *aTime = 0, *aVer = 0;
  unsigned char *aMark = 0;
  TsChunkCol *aCol = 0;
  uint8_t *aNull = 0;
  double *aDbl = 0; int64_t *aInt = 0; const char **azTxt = 0; int *anTxt = 0;
  TsBuf blob;
  if( p->op.rc || p->nRow==0 ) return;
  qsort(p->aRow, (size_t)p->nRow, sizeof(RsRow), rsRowCmp);
  tsBufInit(&cols); tsBufInit(&vals); tsBufInit(&blob);
  for(k=0; k<p->nDim; k++){ tsBufPrintf(&cols, ", d%d", k); tsBufPrintf(&vals, ", ?%d", 5+k); }
  tsBufAppendByte(&cols, 0); tsBufAppendByte(&vals, 0);
  if( cols.bErr || vals.bErr ){ tsOpOom(&p->op); goto done; }
  pSer = tsOpPrepare(&p->op, "INSERT INTO \"%w\".\"%w_series\"(skey, measure_name, tmin, tmax%s) "
                      "VALUES(?1, ?2, ?3, ?4%s)", p->zDb, p->zTab, (char*)cols.a, (char*)vals.a);
  pChk = tsOpPrepare(&p->op, "INSERT INTO \"%w\".\"%w_chunks\"(sid, tmin, tmax, nrow, data) "
                      "VALUES(?1, ?2, ?3, ?4, ?5)", p->zDb, p->zTab);
  aTime = sqlite3_malloc64(sizeof(int64_t)*TS_RS_CHUNK_ROWS);
  aVer = sqlite3_malloc64(sizeof(int64_t)*TS_RS_CHUNK_ROWS);
  aMark = sqlite3_malloc64(TS_RS_CHUNK_ROWS);
  aCol = sqlite3_malloc64(sizeof(TsChunkCol)*p->nMeas);
  aNull = sqlite3_malloc64((size_t)p->nMeas*TS_RS_CHUNK_ROWS);
  aDbl = sqlite3_malloc64(sizeof(double)*p->nMeas*TS_RS_CHUNK_ROWS);
  aInt = sqlite3_malloc64(sizeof(int64_t)*p->nMeas*TS_RS_CHUNK_ROWS);
  azTxt = sqlite3_malloc64(sizeof(char*)*p->nMeas*TS_RS_CHUNK_ROWS);
  anTxt = sqlite3_malloc64(sizeof(int)*p->nMeas*TS_RS_CHUNK_ROWS);
  if( !aTime || !aVer || !aMark || !aCol || !aNull || !aDbl || !aInt || !azTxt || !anTxt ){ tsOpOom(&p->op); goto done; }
  for(i=0; p->op.rc==SQLITE_OK && i<p->nRow; i=j){
    const RsSeries *s = &p->aSeries[p->aRow[i].iSeries];
    sqlite3_int64 iSid;
    for(j=i+1; j<p->nRow && p->aRow[j].iSeries==p->aRow[i].iSeries; j++){
      if( p->aRow[j].t==p->aRow[j-1].t ){
        tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s holds two rows of one series at time "
              "%lld", p->zId, (long long)p->aRow[j].t);
        break;
      }
    }
    if( p->op.rc ) break;
    sqlite3_bind_blob(pSer, 1, s->aKey, s->nKey, SQLITE_STATIC);
    sqlite3_bind_text(pSer, 2, s->zMName, s->nMName, SQLITE_STATIC);
    sqlite3_bind_int64(pSer, 3, p->aRow[i].t);
    sqlite3_bind_int64(pSer, 4, p->aRow[j-1].t);
    for(k=0; k<p->nDim; k++){
      if( s->azDim[k] ) sqlite3_bind_text(pSer, 5+k, s->azDim[k], s->anDim[k], SQLITE_STATIC);
      else sqlite3_bind_null(pSer, 5+k);
    }
    sqlite3_step(pSer);
    if( sqlite3_reset(pSer)!=SQLITE_OK ){
      tsOpErr(&p->op, sqlite3_errcode(p->op.db), "ts_restore %s: writing %s_series: %s", p->zTab, p->zTab,
            sqlite3_errmsg(p->op.db));
      break;
    }
    iSid = sqlite3_last_insert_rowid(p->op.db);
    for(; p->op.rc==SQLITE_OK && i<j; ){
      int n = (int)(j-i < TS_RS_CHUNK_ROWS ? j-i : TS_RS_CHUNK_ROWS);
      int r, bMarked = 0;
      for(c=0; c<p->nMeas; c++){
        aCol[c].eType = p->aMeasType[c];
        aCol[c].aNull = aNull + (size_t)c*TS_RS_CHUNK_ROWS;
        aCol[c].aDouble = aDbl + (size_t)c*TS_RS_CHUNK_ROWS;
        aCol[c].aInt = aInt + (size_t)c*TS_RS_CHUNK_ROWS;
        aCol[c].azText = azTxt + (size_t)c*TS_RS_CHUNK_ROWS;
        aCol[c].anText = anTxt + (size_t)c*TS_RS_CHUNK_ROWS;
      }
      for(r=0; r<n; r++){
        const RsRow *pRow = &p->aRow[i+r];
        const RsGrp *g = &p->aGrp[pRow->iGrp];
        const TsPqColumnData *aC = g->aCol;
        aTime[r] = pRow->t;
        aVer[r] = aC[2+p->nDim+p->nMeas].aInt[pRow->iRow];
        aMark[r] = g->nCol>3+p->nDim+p->nMeas ? (unsigned char)aC[3+p->nDim+p->nMeas].aInt[pRow->iRow] : 0;
        if( aMark[r] ) bMarked = 1;
        for(c=0; c<p->nMeas; c++){
          const TsPqColumnData *cd = &aC[2+p->nDim+c];
          size_t o = (size_t)c*TS_RS_CHUNK_ROWS + (size_t)r;
          int bNull = cd->aNull && cd->aNull[pRow->iRow];
          aNull[o] = (uint8_t)bNull;
          aDbl[o] = 0; aInt[o] = 0; azTxt[o] = ""; anTxt[o] = 0;
          if( bNull ) continue;
          switch( p->aMeasType[c] ){
            case TS_TYPE_DOUBLE: aDbl[o] = cd->aDbl[pRow->iRow]; break;
            case TS_TYPE_VARCHAR:
              azTxt[o] = (const char*)cd->aData + cd->aOff[pRow->iRow];
              anTxt[o] = (int)(cd->aOff[pRow->iRow+1] - cd->aOff[pRow->iRow]);
              break;
            default: aInt[o] = cd->aInt[pRow->iRow]; break;
          }
        }
      }
      tsBufReset(&blob);
      if( tsChunkEncodeMarked(n, aTime, aVer, bMarked ? aMark : 0, p->nMeas, aCol, &blob)!=TS_CHUNK_OK
       || blob.bErr ){
        tsOpErr(&p->op, SQLITE_ERROR, "ts_restore %s: encoding a chunk of %d rows failed", p->zTab, n);
        break;
      }
      sqlite3_bind_int64(pChk, 1, iSid);
      sqlite3_bind_int64(pChk, 2, aTime[0]);
      sqlite3_bind_int64(pChk, 3, aTime[n-1]);
      sqlite3_bind_int(pChk, 4, n);
      sqlite3_bind_blob(pChk, 5, blob.a, (int)blob.n, SQLITE_STATIC);
      sqlite3_step(pChk);
      if( sqlite3_reset(pChk)!=SQLITE_OK ){
        tsOpErr(&p->op, sqlite3_errcode(p->op.db), "ts_restore %s: writing %s_chunks: %s", p->zTab,
              p->zTab, sqlite3_errmsg(p->op.db));
        break;
      }
      p->nMemRows += n;
      i += n;
    }
  }
done:
  sqlite3_finalize(pSer); sqlite3_finalize(pChk);
  sqlite3_free(aTime); sqlite3_free(aVer); sqlite3_free(aMark); sqlite3_free(aCol); sqlite3_free(aNull);
  sqlite3_free(aDbl); sqlite3_free(aInt); sqlite3_free((void*)azTxt); sqlite3_free(anTxt);
  tsBufFree(&cols); tsBufFree(&vals); tsBufFree(&blob);
}

static void rsWriteObjects(RsRun *p){
  sqlite3_stmt *pIns;
  char *zSql;
  int i, rc;
  if( p->op.rc ) return;
  /* The manifest columns ts_maintain adds (cold-format.md section 3). */
  zSql = sqlite3_mprintf("ALTER TABLE \"%w\".\"%w_objects\" ADD COLUMN writer TEXT", p->zDb, p->zTab);
  rc = zSql ? sqlite3_exec(p->op.db, zSql, 0, 0, 0) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  if( rc==SQLITE_OK ){
    zSql = sqlite3_mprintf("ALTER TABLE \"%w\".\"%w_objects\" ADD COLUMN nseries INTEGER", p->zDb, p->zTab);
    rc = zSql ? sqlite3_exec(p->op.db, zSql, 0, 0, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
  }
  if( rc==SQLITE_OK ){
    zSql = sqlite3_mprintf("ALTER TABLE \"%w\".\"%w_objects\" ADD COLUMN series_runs BLOB", p->zDb, p->zTab);
    rc = zSql ? sqlite3_exec(p->op.db, zSql, 0, 0, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
  }
  if( rc ){ tsOpErr(&p->op, rc, "ts_restore %s: %s", p->zTab, sqlite3_errmsg(p->op.db)); return; }
  pIns = tsOpPrepare(&p->op, "INSERT INTO \"%w\".\"%w_objects\"(key, tmin, tmax, nrow, nbyte, pk_min, "
                      "pk_max, series_filter, footer, created, writer, nseries, series_runs, etag) "
                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)", p->zDb, p->zTab);
  for(i=0; pIns && p->op.rc==SQLITE_OK && i<p->nFile; i++){
    const RsFile *f = &p->aFile[i];
    if( !f->bCold || !f->bCopied ) continue;
    sqlite3_bind_text(pIns, 1, f->zNewKey, -1, SQLITE_STATIC);
    sqlite3_bind_int64(pIns, 2, f->tMin);
    sqlite3_bind_int64(pIns, 3, f->tMax);
    sqlite3_bind_int64(pIns, 4, f->nRow);
    sqlite3_bind_int64(pIns, 5, f->nByte);
    if( f->zPkMin ) sqlite3_bind_text(pIns, 6, f->zPkMin, -1, SQLITE_STATIC); else sqlite3_bind_null(pIns, 6);
    if( f->zPkMax ) sqlite3_bind_text(pIns, 7, f->zPkMax, -1, SQLITE_STATIC); else sqlite3_bind_null(pIns, 7);
    if( f->aFilter ) sqlite3_bind_blob(pIns, 8, f->aFilter, f->nFilter, SQLITE_STATIC); else sqlite3_bind_null(pIns, 8);
    if( f->aFooter ) sqlite3_bind_blob(pIns, 9, f->aFooter, f->nFooter, SQLITE_STATIC); else sqlite3_bind_null(pIns, 9);
    sqlite3_bind_int64(pIns, 10, p->iNow);
    sqlite3_bind_text(pIns, 11, p->zWriter, -1, SQLITE_STATIC);
    if( f->nSeries>=0 ) sqlite3_bind_int64(pIns, 12, f->nSeries); else sqlite3_bind_null(pIns, 12);
    if( f->aRuns ) sqlite3_bind_blob(pIns, 13, f->aRuns, f->nRuns, SQLITE_STATIC); else sqlite3_bind_null(pIns, 13);
    if( f->zEtag ) sqlite3_bind_text(pIns, 14, f->zEtag, -1, SQLITE_STATIC); else sqlite3_bind_null(pIns, 14);
    sqlite3_step(pIns);
    if( sqlite3_reset(pIns)!=SQLITE_OK ){
      tsOpErr(&p->op, sqlite3_errcode(p->op.db), "ts_restore %s: writing %s_objects: %s", p->zTab, p->zTab,
            sqlite3_errmsg(p->op.db));
    }
  }
  sqlite3_finalize(pIns);
  if( p->op.rc==SQLITE_OK && p->nColdObjs>0 ){
    pIns = tsOpPrepare(&p->op, "INSERT OR REPLACE INTO \"%w\".\"%w_config\"(k, v) VALUES('cold.writer_id', ?1)",
                     p->zDb, p->zTab);
    if( pIns ){
      sqlite3_bind_text(pIns, 1, p->zWriter, -1, SQLITE_STATIC);
      sqlite3_step(pIns);
      if( sqlite3_finalize(pIns)!=SQLITE_OK ){
        tsOpErr(&p->op, sqlite3_errcode(p->op.db), "ts_restore %s: writing %s_config: %s", p->zTab,
              p->zTab, sqlite3_errmsg(p->op.db));
      }
    }
  }
}

/* The <t>_series rows of the series whose rows are all cold (no memory row
** names them), for those a restored object may hold (its series filter,
** cold-format.md section 4; an object without one may hold any). */
static void rsWriteColdSeries(RsRun *p){
  TsBuf cols, vals, el;
  sqlite3_stmt *pSer = 0;
  int i, k, n;
  if( p->op.rc || p->nColdSer==0 ) return;
  tsBufInit(&cols); tsBufInit(&vals); tsBufInit(&el);
  for(k=0; k<p->nDim; k++){ tsBufPrintf(&cols, ", d%d", k); tsBufPrintf(&vals, ", ?%d", 3+k); }
  tsBufAppendByte(&cols, 0); tsBufAppendByte(&vals, 0);
  if( cols.bErr || vals.bErr ){ tsOpOom(&p->op); goto done; }
  pSer = tsOpPrepare(&p->op, "INSERT OR IGNORE INTO \"%w\".\"%w_series\"(skey, measure_name%s) "
                      "VALUES(?1, ?2%s)", p->zDb, p->zTab, (char*)cols.a, (char*)vals.a);
  for(i=0; pSer && p->op.rc==SQLITE_OK && i<p->nColdSer; i++){
    unsigned char *aKey = tsBkHexDecode(p->azColdSer[i], &n);
    char *const *azDim = 0;
    const char *zMName = 0;
    void *pDec = aKey ? tsTableKeyDecode(p->nDim, aKey, n, &azDim, &zMName) : 0;
    int j, bHeld = 0;
    if( pDec==0 ){
      tsOpErr(&p->op, SQLITE_CORRUPT, "ts_restore: backup %s: bad cold_series entry %d", p->zId, i);
      sqlite3_free(aKey);
      break;
    }
    tsBufReset(&el); tsBufAppendByte(&el, 'S'); tsBufAppend(&el, aKey, (size_t)n);
    for(j=0; !bHeld && !el.bErr && j<p->nFile; j++){
      const RsFile *f = &p->aFile[j];
      if( !f->bCold || !f->bCopied ) continue;
      bHeld = f->aFilter==0 || tsBloomMayContainHash(f->aFilter, (size_t)f->nFilter, tsBloomHash(el.a, el.n));
    }
    if( el.bErr ) tsOpOom(&p->op);
    if( bHeld && p->op.rc==SQLITE_OK ){
      sqlite3_bind_blob(pSer, 1, aKey, n, SQLITE_STATIC);
      sqlite3_bind_text(pSer, 2, zMName, -1, SQLITE_STATIC);
      for(k=0; k<p->nDim; k++){
        if( azDim[k] ) sqlite3_bind_text(pSer, 3+k, azDim[k], -1, SQLITE_STATIC);
        else sqlite3_bind_null(pSer, 3+k);
      }
      sqlite3_step(pSer);
      if( sqlite3_reset(pSer)!=SQLITE_OK ){
        tsOpErr(&p->op, sqlite3_errcode(p->op.db), "ts_restore %s: writing %s_series: %s", p->zTab,
              p->zTab, sqlite3_errmsg(p->op.db));
      }
    }
    sqlite3_free(pDec);
    sqlite3_free(aKey);
  }
done:
  sqlite3_finalize(pSer);
  tsBufFree(&cols); tsBufFree(&vals); tsBufFree(&el);
}

static void rsCommit(RsRun *p){
  char *zSql;
  int rc;
  if( p->op.rc ) return;
  zSql = rsCreateSql(p);
  if( zSql==0 ) return;
  rc = sqlite3_exec(p->op.db, "BEGIN IMMEDIATE", 0, 0, 0);
  if( rc==SQLITE_OK ){
    rc = sqlite3_exec(p->op.db, zSql, 0, 0, 0);
    if( rc ) tsOpErr(&p->op, rc, "ts_restore %s: %s", p->zTab, sqlite3_errmsg(p->op.db));
    rsWriteChunks(p);
    rsWriteColdSeries(p);
    rsWriteObjects(p);
    if( p->op.rc==SQLITE_OK ){
      rc = sqlite3_exec(p->op.db, "COMMIT", 0, 0, 0);
      if( rc ) tsOpErr(&p->op, rc, "ts_restore %s: COMMIT: %s", p->zTab, sqlite3_errmsg(p->op.db));
    }
    if( p->op.rc ) sqlite3_exec(p->op.db, "ROLLBACK", 0, 0, 0);
  }else{
    tsOpErr(&p->op, rc, "ts_restore %s: BEGIN IMMEDIATE: %s", p->zTab, sqlite3_errmsg(p->op.db));
  }
  sqlite3_free(zSql);
  if( p->op.rc==SQLITE_OK ){
    TsTable *pTab = 0;
    char *zE = 0;
    /* The shadow tables were written behind the handle's back. */
    if( tsTableOpen(p->pEnv, p->op.db, p->zDb, p->zTab, &pTab, &zE)==SQLITE_OK ){
      tsTableInvalidate(pTab);
      tsTableRelease(pTab);
    }
    sqlite3_free(zE);
  }
}

/*************************************************************************
** ts_restore(uri, new_table [, options_json])
*/
static void rsFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  RsRun r;
  const char *zArg = (const char*)sqlite3_value_text(argv[1]);
  char *zE = 0;
  int i;
  memset(&r, 0, sizeof(r));
  r.pEnv = (TsEnv*)sqlite3_user_data(ctx);
  tsOpInit(&r.op, sqlite3_context_db_handle(ctx), "ts_restore");
  r.zUri = (const char*)sqlite3_value_text(argv[0]);
  if( !tsBkFuncArgs(ctx, zArg, r.zUri, "ts_restore: uri and new_table must not be NULL", &r.zDb, &r.zTab) ) return;
  r.op.zObj = r.zTab;
  if( r.zTab[0]==0 ) tsOpErr(&r.op, SQLITE_ERROR, "ts_restore: new_table must not be empty");
  if( r.op.rc==SQLITE_OK && !sqlite3_get_autocommit(r.op.db) ){
    tsOpErr(&r.op, SQLITE_ERROR, "ts_restore %s: must be called outside a transaction", r.zTab);
  }
  if( r.op.rc==SQLITE_OK ){
    r.op.rc = tsBkLocationOpen("ts_restore", r.zUri, 0, 0, &r.pLoc, &zE);
    if( r.op.rc ){ r.op.zErr = zE; zE = 0; }
  }
  /* options_json is read twice: "backup" first (which manifest), the table
  ** options after the manifest's (they override the source's). */
  if( r.op.rc==SQLITE_OK && argc>2 ){
    const char *zOpt = (const char*)sqlite3_value_text(argv[2]);
    rsOptions(&r, zOpt);
    for(i=0; i<r.nOpt; i++){ sqlite3_free(r.azOptK[i]); sqlite3_free(r.azOptV[i]); }
    r.nOpt = 0;
  }
  rsPickBackup(&r);
  rsParseManifest(&r);
  if( r.op.rc==SQLITE_OK && argc>2 ) rsOptions(&r, (const char*)sqlite3_value_text(argv[2]));
  rsCheckTarget(&r);
  if( r.op.rc==SQLITE_OK ){
    unsigned char a[8];
    sqlite3_randomness(8, a);
    for(i=0; i<8; i++) snprintf(r.zWriter+2*i, 3, "%02x", a[i]);
  }
  /* Verify and copy, then decode the memory rows. */
  for(i=0; r.op.rc==SQLITE_OK && i<r.nFile; i++){
    RsFile *f = &r.aFile[i];
    if( f->tMax<r.iExpire ){
      if( f->bCold ){ r.nExpObjs++; r.nExpRows += f->nRow; }
      else r.nExpRows += f->nRow;
      continue;
    }
    if( f->bCold ){
      rsCopyCold(&r, f);
      if( r.op.rc==SQLITE_OK ){ r.nColdObjs++; r.nColdRows += f->nRow; }
    }else{
      rsVerifyMemory(&r, f);
      if( r.op.rc==SQLITE_OK ) rsLoadMemFile(&r, f);
    }
  }
  rsCommit(&r);
  if( r.op.rc ) rsDeleteCopies(&r);
  if( r.op.rc==SQLITE_OK ){
    TsBuf b; TsJsonW w;
    tsBkResultBegin(&b, &w, r.zTab, r.zId);
    tsJwKeyStr(&w, "source_table", r.zSrcTab);
    tsJwKeyInt(&w, "rows", r.nMemRows + r.nColdRows);
    tsJwKeyInt(&w, "memory_rows", r.nMemRows);
    tsJwKeyInt(&w, "cold_rows", r.nColdRows);
    tsJwKeyInt(&w, "cold_objects", r.nColdObjs);
    tsJwKeyInt(&w, "expired_rows", r.nExpRows);
    tsJwKeyInt(&w, "expired_objects", r.nExpObjs);
    tsJwKeyInt(&w, "files_verified", r.nVerified);
    tsJwKeyInt(&w, "bytes_verified", r.nBytes);
    tsJwKeyInt(&w, "server_side_copies", r.nServer);
    tsJwObjEnd(&w);
    tsOpResultJson(ctx, &b, &w);
  }else{
    tsOpResultError(&r.op, ctx);
  }
  rsRunFree(&r);
}

int tsRestoreRegister(sqlite3 *db, TsEnv *pEnv){
  return tsBkRegister(db, pEnv, "ts_restore", rsFunc);
}
