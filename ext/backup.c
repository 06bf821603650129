/*
** backup.c: ts_backup(table, uri [, options_json]), a consistent, incremental
** backup of one timeseries table (both tiers) to s3:// or file://, and the
** helpers ts_restore (restore.c) shares.  Layout: backup.h; user format:
** docs/backup.md.
**
**   SELECT ts_backup('cpu', 's3://vault/cpu');
**   SELECT ts_backup('cpu', 'file:///backups/cpu', '{"keep":7}');
**
** HOW IT WORKS
**
** 1. Snapshot.  One read transaction (BEGIN ... COMMIT, no write lock) reads
**    <t>_config (schema and options), every <t>_series row, every
**    <t>_chunks blob and every <t>_objects row into memory.  Writers wait
**    for nothing: SQLite's read transaction only pins the snapshot.  What is
**    read is the table at one instant: the memory tier and the manifest of
**    the cold tier that belong together (a row is in exactly one of them).
** 2. Memory tier.  After COMMIT, the rows of the chunks are cut into fixed
**    time windows (W = memory_retention / 64, whole minutes, at least 1 min;
**    window i holds times in [i*W, (i+1)*W)).  A window with more than
**    TS_BK_FILE_ROWS rows (estimated from chunk row counts) is split into a
**    power of two of parts by a hash of the series key.  Each (window, part)
**    becomes one Parquet file (the cold tier's column layout; rows sorted by
**    series key bytes, then time), named by the SHA-256 of its bytes.  The
**    writer is deterministic, so an unchanged window produces the same file
**    and the same name: a file that an earlier manifest already lists is not
**    uploaded again.  New data usually lands in the newest windows, so an
**    incremental backup uploads a few windows, not the memory tier.
** 3. Cold tier.  Each object the snapshot's manifest names (in manifest id
**    order, which readers use to order overlapping objects and which the
**    restore keeps by inserting them in this order) is copied to
**    data/cold/<key> unless an earlier manifest lists it (objects are
**    immutable: a key never changes content).  The copy is server-side on S3
**    (CopyObject) when the table's storage and the location share an
**    endpoint and credentials (tsObjCopyAcross), else streamed.  The copy is
**    then read once to record its SHA-256.
** 4. Manifest.  backups/<seq>-<rand>.json is written last with one whole-
**    object PUT.  A backup killed before that point has no manifest and so
**    does not exist; its uploaded files are unreferenced and swept later.
** 5. Pruning.  keep (number of backups) and keep_days delete the manifests of
**    older backups (never the new one); then every data file that no kept
**    manifest names and that was last modified more than orphan_grace ago
**    (default 1h) is deleted.  Kept backups are self-contained (each
**    manifest names every file it needs), so pruning never breaks them.
**
** Network I/O only happens after the snapshot transaction has ended.
** Owns: the run (BkRun) and everything it allocates.
*/
#include "backup.h"
#include "storeopt.h"
#include "tablestore.h"
#include "op.h"
#include "chunk.h"
#include "parquet.h"
#include "jsonw.h"
#include "tstime.h"
#include "maintain_int.h"   /* mtPoint: the named crash points of ts_debug_kill_at */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TS_BK_FILE_ROWS   (1 << 20)        /* rows per memory file before a split */
#define TS_BK_HASH_CHUNK  (8 << 20)        /* bytes per GET when hashing an object */
#define TS_BK_NS_PER_MIN  (60LL*1000000000LL)
#define TS_BK_GRACE_DEF   (3600LL*1000000000LL)

/* The option names of a table that a backup records (and restore takes). */
static const char *const azBkTableOpt[] = {
  "memory_retention", "magnetic_retention", "magnetic_writes", "partition_key",
  "partition_enforcement", "measure_name", "storage", "s3_endpoint", "s3_region",
  "s3_url_style", "encryption", "kms_key",
};
#define BK_NTABLEOPT ((int)(sizeof(azBkTableOpt)/sizeof(azBkTableOpt[0])))

/*************************************************************************
** Helpers shared with restore.c (backup.h).
*/
void tsBkSha256(const void *a, size_t n, char *zHex){
  unsigned char md[32];
  unsigned int nMd = 0;
  int i;
  EVP_Digest(a, n, md, &nMd, EVP_sha256(), 0);
  for(i=0; i<32; i++) snprintf(zHex+2*i, 3, "%02x", md[i]);
  zHex[64] = 0;
}

int tsBkHashObject(TsObjStore *p, const char *zKey, char *zHex, int64_t *pnByte, char **pzErr){
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  TsBuf b;
  int64_t iOff = 0;
  int rc = TS_OBJ_OK, i;
  unsigned char md[32];
  unsigned int nMd = 0;
  if( ctx==0 ) return TS_OBJ_NOMEM;
  EVP_DigestInit_ex(ctx, EVP_sha256(), 0);
  tsBufInit(&b);
  for(;;){
    tsBufReset(&b);
    rc = tsObjGet(p, zKey, iOff, TS_BK_HASH_CHUNK, &b, pzErr);
    if( rc==TS_OBJ_RANGE && iOff>0 ){ rc = TS_OBJ_OK; break; }
    if( rc!=TS_OBJ_OK ) break;
    EVP_DigestUpdate(ctx, b.a ? (const void*)b.a : (const void*)"", b.n);
    iOff += (int64_t)b.n;
    if( b.n<(size_t)TS_BK_HASH_CHUNK ) break;
  }
  tsBufFree(&b);
  EVP_DigestFinal_ex(ctx, md, &nMd);
  EVP_MD_CTX_free(ctx);
  if( rc==TS_OBJ_OK ){
    for(i=0; i<32; i++) snprintf(zHex+2*i, 3, "%02x", md[i]);
    zHex[64] = 0;
    *pnByte = iOff;
  }
  return rc;
}

void tsBkHexAppend(TsBuf *pOut, const unsigned char *a, size_t n){
  static const char aHex[] = "0123456789abcdef";
  size_t i;
  if( tsBufReserve(pOut, 2*n) ) return;
  for(i=0; i<n; i++){
    pOut->a[pOut->n++] = (unsigned char)aHex[a[i]>>4];
    pOut->a[pOut->n++] = (unsigned char)aHex[a[i]&15];
  }
}

static int bkHexDigit(char c){
  if( c>='0' && c<='9' ) return c-'0';
  if( c>='a' && c<='f' ) return c-'a'+10;
  if( c>='A' && c<='F' ) return c-'A'+10;
  return -1;
}

unsigned char *tsBkHexDecode(const char *z, int *pn){
  size_t n = strlen(z), i;
  unsigned char *a;
  *pn = -1;
  if( n%2 ) return 0;
  a = sqlite3_malloc64(n/2 + 1);
  if( a==0 ) return 0;
  for(i=0; i<n; i+=2){
    int h = bkHexDigit(z[i]), l = bkHexDigit(z[i+1]);
    if( h<0 || l<0 ){ sqlite3_free(a); return 0; }
    a[i/2] = (unsigned char)(h*16 + l);
  }
  *pn = (int)(n/2);
  return a;
}

/* Reading a location (zEnc NULL: ts_restore): how its backups were sealed,
** from the first manifest's first bytes, read raw.  *pzId gets the key id
** of a client-side encrypted manifest (sqlite3_malloc'd), else stays NULL. */
typedef struct BkFirst BkFirst;
struct BkFirst { char *zKey; };
static int bkFirstCb(void *pCtx, const TsObjInfo *pInfo){
  BkFirst *f = (BkFirst*)pCtx;
  size_t n = strlen(pInfo->zKey);
  if( n<5 || strcmp(pInfo->zKey + n - 5, ".json")!=0 ) return 0;
  f->zKey = sqlite3_mprintf("%s", pInfo->zKey);
  return 1;
}
static void bkSealedKeyId(const char *zUri, char **pzId){
  TsObjConfig cfg;
  TsObjStore *p = 0;
  BkFirst f;
  TsBuf b;
  *pzId = 0;
  f.zKey = 0;
  memset(&cfg, 0, sizeof(cfg));
  cfg.eCse = TS_OBJ_CSE_RAW;
  tsBufInit(&b);
  if( tsObjOpen(zUri, &cfg, &p, 0)==TS_OBJ_OK
   && tsObjList(p, TS_BK_MANIFEST_DIR, bkFirstCb, &f, 0)==TS_OBJ_OK && f.zKey
   && tsObjGet(p, f.zKey, 0, 40, &b, 0)==TS_OBJ_OK && b.n==40 && memcmp(b.a, "TSLCSE0", 7)==0 ){
    size_t n = 0;
    while( n<32 && b.a[8+n] ) n++;
    *pzId = sqlite3_mprintf("%.*s", (int)n, (const char*)b.a + 8);
  }
  sqlite3_free(f.zKey);
  tsBufFree(&b);
  tsObjClose(p);
}

int tsBkLocationOpen(const char *zFunc, const char *zUri, const char *zEnc, const char *zKms,
                     TsObjStore **pp, char **pzErr){
  TsObjConfig cfg;
  char *zE = 0, *zSealedId = 0;
  int rc;
  *pp = 0;
  if( zUri==0 || (strncmp(zUri, "s3://", 5)!=0 && strncmp(zUri, "file:///", 8)!=0) ){
    tsErrSet(pzErr, "%s: bad backup location '%s' (expected 's3://bucket/prefix' or "
             "'file:///absolute/dir')", zFunc, zUri ? zUri : "");
    return SQLITE_ERROR;
  }
  if( zEnc==0 ){
    /* Read side: client-side decryption with the key the backups name
    ** (which must be in the environment), else none, so a plain backup
    ** reads while the environment holds a key for other tables. */
    bkSealedKeyId(zUri, &zSealedId);
    zEnc = zSealedId ? "client" : "none";
    zKms = zSealedId;
  }
  tsStoreConfigFrom(0, 0, 0, zEnc, zKms, &cfg);
  rc = tsObjOpen(zUri, &cfg, pp, &zE);
  sqlite3_free(zSealedId);
  if( rc!=TS_OBJ_OK ){
    tsErrSet(pzErr, "%s: cannot open backup location '%s': %s", zFunc, zUri, zE ? zE : "failed");
    free(zE);
    return rc==TS_OBJ_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
  }
  return SQLITE_OK;
}

int tsBkTableStoreOpen(const char *zFunc, sqlite3 *db, const char *zDb, const char *zTab,
                       const char *zStorage, const char *zEndpoint, const char *zRegion,
                       const char *zUrlStyle, const char *zEnc, const char *zKms,
                       TsObjStore **pp, char **pzUri, char **pzErr){
  TsObjConfig cfg;
  char *zUri, *zE = 0;
  int rc;
  *pp = 0;
  if( pzUri ) *pzUri = 0;
  if( zStorage ){
    zUri = sqlite3_mprintf("%s", zStorage);
  }else{
    const char *zFile = sqlite3_db_filename(db, zDb);
    if( zFile==0 || zFile[0]==0 ){
      tsErrSet(pzErr, "%s %s: the database is in memory or temporary, so it has no default "
               "storage directory: give the table the option storage = 's3://bucket/prefix' "
               "or 'file:///abs/dir'", zFunc, zTab);
      return SQLITE_ERROR;
    }
    zUri = sqlite3_mprintf("file://%s.tslite", zFile);
  }
  if( zUri==0 ) return SQLITE_NOMEM;
  tsStoreConfigFrom(zEndpoint, zRegion, zUrlStyle, zEnc, zKms, &cfg);
  rc = tsObjOpen(zUri, &cfg, pp, &zE);
  if( rc!=TS_OBJ_OK ){
    tsErrSet(pzErr, "%s %s: cannot open storage '%s': %s", zFunc, zTab, zUri, zE ? zE : "failed");
    free(zE);
    sqlite3_free(zUri);
    return rc==TS_OBJ_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
  }
  if( pzUri ) *pzUri = zUri; else sqlite3_free(zUri);
  return SQLITE_OK;
}

typedef struct BkList BkList;
struct BkList { TsBuf names; int n; int bOom; };

static int bkListCb(void *pCtx, const TsObjInfo *pInfo){
  BkList *l = (BkList*)pCtx;
  size_t n = strlen(pInfo->zKey);
  if( n>5 && strcmp(pInfo->zKey+n-5, ".json")==0 ){
    tsBufAppend(&l->names, pInfo->zKey, n+1);
    l->n++;
  }
  return l->names.bErr;
}

int tsBkManifestList(const char *zFunc, TsObjStore *p, const char *zUri, char ***pazKey,
                     int *pnKey, char **pzErr){
  BkList l;
  char *zE = 0;
  char **az;
  size_t off = 0;
  int rc, i;
  *pazKey = 0; *pnKey = 0;
  memset(&l, 0, sizeof(l));
  tsBufInit(&l.names);
  rc = tsObjList(p, TS_BK_MANIFEST_DIR, bkListCb, &l, &zE);
  if( rc==TS_OBJ_NOTFOUND ) rc = TS_OBJ_OK;
  if( rc!=TS_OBJ_OK || l.names.bErr ){
    tsErrSet(pzErr, "%s: listing backups in '%s': %s", zFunc, zUri,
             l.names.bErr ? "out of memory" : (zE ? zE : "failed"));
    free(zE);
    tsBufFree(&l.names);
    return l.names.bErr ? SQLITE_NOMEM : SQLITE_ERROR;
  }
  az = sqlite3_malloc64(sizeof(char*)*(l.n+1) + l.names.n + 1);
  if( az==0 ){ tsBufFree(&l.names); return SQLITE_NOMEM; }
  if( l.names.n ) memcpy((char*)&az[l.n+1], l.names.a, l.names.n);
  for(i=0; i<l.n; i++){
    az[i] = (char*)&az[l.n+1] + off;
    off += strlen(az[i]) + 1;
  }
  tsBufFree(&l.names);
  *pazKey = az;
  *pnKey = l.n;
  return SQLITE_OK;
}

int tsBkManifestRead(const char *zFunc, sqlite3 *db, TsObjStore *p, const char *zUri,
                     const char *zKey, char **pzJson, char **pzErr){
  TsBuf b;
  char *zE = 0;
  sqlite3_stmt *pStmt = 0;
  int rc, bOk = 0;
  *pzJson = 0;
  tsBufInit(&b);
  b.nMax = (size_t)TS_BK_MAX_MANIFEST;
  rc = tsObjGet(p, zKey, 0, -1, &b, &zE);
  if( rc==TS_OBJ_NOTFOUND ){
    tsErrSet(pzErr, "%s: no backup manifest '%s' in '%s'", zFunc, zKey, zUri);
    free(zE); tsBufFree(&b);
    return SQLITE_ERROR;
  }
  if( rc!=TS_OBJ_OK || b.bErr ){
    tsErrSet(pzErr, "%s: reading backup manifest '%s' in '%s': %s", zFunc, zKey, zUri,
             b.bErr ? "too large" : (zE ? zE : "failed"));
    free(zE); tsBufFree(&b);
    return SQLITE_ERROR;
  }
  tsBufAppendByte(&b, 0);
  if( b.bErr ){ tsBufFree(&b); return SQLITE_NOMEM; }
  *pzJson = sqlite3_mprintf("%s", (const char*)b.a);
  tsBufFree(&b);
  if( *pzJson==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, "SELECT CASE WHEN json_valid(?1) THEN json_type(?1)='object' AND "
                              "json_extract(?1, '$.format')=?2 AND json_extract(?1, '$.version')=?3 ELSE 0 END",
                          -1, &pStmt, 0);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pStmt, 1, *pzJson, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 2, TS_BK_FORMAT_NAME, -1, SQLITE_STATIC);
    sqlite3_bind_int(pStmt, 3, TS_BK_FORMAT_VER);
    if( sqlite3_step(pStmt)==SQLITE_ROW ) bOk = sqlite3_column_int(pStmt, 0);
    rc = sqlite3_finalize(pStmt);
  }
  if( rc!=SQLITE_OK ){
    tsErrSet(pzErr, "%s: %s", zFunc, sqlite3_errmsg(db));
  }else if( !bOk ){
    tsErrSet(pzErr, "%s: backup manifest '%s' in '%s' is damaged (not a %s version %d "
             "JSON object)", zFunc, zKey, zUri, TS_BK_FORMAT_NAME, TS_BK_FORMAT_VER);
    rc = SQLITE_CORRUPT;
  }
  if( rc!=SQLITE_OK ){ sqlite3_free(*pzJson); *pzJson = 0; }
  return rc;
}

/*************************************************************************
** The run.
*/
typedef struct BkSeries BkSeries;
struct BkSeries {
  sqlite3_int64 iId;
  unsigned char *aKey; int nKey;   /* skey (sqlite3_malloc) */
  char *zMName;                    /* measure_name (sqlite3_malloc) */
  char **azDim;                    /* nDim values, NULL = NULL (each sqlite3_malloc) */
  uint32_t h;                      /* FNV-1a 32 of the skey: splits big windows */
  int iRank;                       /* position in skey order */
  int bMem;                        /* has chunks (else every row is cold) */
};

typedef struct BkChunk BkChunk;
struct BkChunk {
  int iSeries;                     /* index into BkRun.aSeries */
  int64_t tMin, tMax;
  int nRow;
  unsigned char *a; int n;         /* the blob (sqlite3_malloc) */
};

/* A cold object of the snapshot's manifest. */
typedef struct BkObj BkObj;
struct BkObj {
  char *zKey;                      /* object key in the table's storage */
  int64_t tMin, tMax, nRow, nByte, iCreated, nSeries;
  char *zPkMin, *zPkMax, *zWriter; /* NULL when SQL NULL */
  unsigned char *aFilter; int nFilter;
  unsigned char *aFooter; int nFooter;
  unsigned char *aRuns; int nRuns; /* series_runs, NULL when SQL NULL */
};

/* A file of the new backup. */
typedef struct BkFile BkFile;
struct BkFile {
  char *zPath;                     /* key in the location (sqlite3_malloc) */
  int iObj;                        /* -1 memory file, else index into aObj */
  char zSha[65];
  int64_t nByte, nRow, tMin, tMax;
  int bNew;                        /* uploaded/copied by this backup */
};

/* A file an existing manifest names. */
typedef struct BkRef BkRef;
struct BkRef {
  char *zPath;
  char zSha[65];
  int64_t nByte;
  int iMan;                        /* index into BkRun.azMan */
};

/* One piece of memory-tier work: the rows of chunk iChunk inside window iWin. */
typedef struct BkPiece BkPiece;
struct BkPiece {
  int64_t iWin;
  int iPart;
  int iRank;                       /* series rank */
  int iChunk;
};

typedef struct BkRun BkRun;
struct BkRun {
  TsOp op;                         /* connection + first error (op.h) */
  TsEnv *pEnv;
  char *zDb, *zTab;                /* sqlite3_malloc */
  const char *zUri;                /* the location (argument) */
  TsTable *pTab;
  TsObjStore *pLoc;                /* backup location */
  TsObjStore *pSrc;                /* table storage (opened when a cold copy is needed) */
  /* options */
  int nKeep; int64_t iKeepNs; int64_t iGraceNs;
  char *zEnc, *zKms;               /* encryption / kms_key options; bEncSet: given */
  int bEncSet;
  /* snapshot */
  int nOpt; char **azOptK, **azOptV;   /* table options from _config */
  char *zWriterId;                 /* cold.writer_id or NULL */
  int nSeries; BkSeries *aSeries;
  int nChunk; BkChunk *aChunk;
  int nObj; BkObj *aObj;
  /* existing backups */
  int nMan; char **azMan;          /* manifest keys, oldest first (one allocation) */
  int64_t *aManCreated;            /* created (ns) per manifest */
  int nRef; BkRef *aRef;           /* files they name, sorted by path */
  int64_t iSeq;                    /* sequence of the new backup */
  /* the new backup */
  int nFile, nFileAlloc; BkFile *aFile;
  int64_t iNow, iWin;
  int64_t nMemRow, nColdRow, nBytes, nNewBytes, nNewFiles, nServerCopies;
  int nPruned, nSwept;
  char *zId;
};

static unsigned char *bkDupBlob(BkRun *p, const void *a, int n){
  unsigned char *r = sqlite3_malloc64(n>0 ? (sqlite3_uint64)n : 1);
  if( r==0 ){ tsOpOom(&p->op); return 0; }
  if( n>0 ) memcpy(r, a, (size_t)n);
  return r;
}

static void bkRunFree(BkRun *p){
  int i, j;
  const TsTableSchema *s = p->pTab ? tsTableSchema(p->pTab) : 0;
  for(i=0; i<p->nSeries; i++){
    BkSeries *q = &p->aSeries[i];
    sqlite3_free(q->aKey); sqlite3_free(q->zMName);
    if( q->azDim && s ) for(j=0; j<s->nDim; j++) sqlite3_free(q->azDim[j]);
    sqlite3_free(q->azDim);
  }
  sqlite3_free(p->aSeries);
  for(i=0; i<p->nChunk; i++) sqlite3_free(p->aChunk[i].a);
  sqlite3_free(p->aChunk);
  for(i=0; i<p->nObj; i++){
    BkObj *o = &p->aObj[i];
    sqlite3_free(o->zKey); sqlite3_free(o->zPkMin); sqlite3_free(o->zPkMax);
    sqlite3_free(o->zWriter); sqlite3_free(o->aFilter); sqlite3_free(o->aFooter); sqlite3_free(o->aRuns);
  }
  sqlite3_free(p->aObj);
  for(i=0; i<p->nOpt; i++){ sqlite3_free(p->azOptK[i]); sqlite3_free(p->azOptV[i]); }
  sqlite3_free(p->azOptK); sqlite3_free(p->azOptV);
  sqlite3_free(p->zWriterId);
  sqlite3_free(p->azMan);
  sqlite3_free(p->aManCreated);
  for(i=0; i<p->nRef; i++) sqlite3_free(p->aRef[i].zPath);
  sqlite3_free(p->aRef);
  for(i=0; i<p->nFile; i++) sqlite3_free(p->aFile[i].zPath);
  sqlite3_free(p->aFile);
  sqlite3_free(p->zId);
  sqlite3_free(p->zEnc); sqlite3_free(p->zKms);
  tsObjClose(p->pLoc);
  tsObjClose(p->pSrc);
  tsTableRelease(p->pTab);
  sqlite3_free(p->zDb); sqlite3_free(p->zTab);
  sqlite3_free(p->op.zErr);
}

/* options_json of ts_backup: keep, keep_days, orphan_grace, encryption, kms_key. */
static void bkOptions(BkRun *p, const char *zJson){
  sqlite3_stmt *pStmt;
  p->iGraceNs = TS_BK_GRACE_DEF;
  if( zJson==0 ) return;
  pStmt = tsBkOptionsEach(&p->op, zJson);
  if( pStmt==0 ) return;
  while( p->op.rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zK = (const char*)sqlite3_column_text(pStmt, 0);
    const char *zV = (const char*)sqlite3_column_text(pStmt, 1);
    const char *zT = (const char*)sqlite3_column_text(pStmt, 2);
    int bInt = zT && strcmp(zT, "integer")==0;
    if( zK==0 ) continue;
    if( strcmp(zK, "keep")==0 ){
      sqlite3_int64 v = sqlite3_column_int64(pStmt, 1);
      if( !bInt || v<1 || v>1000000 ){
        tsOpErr(&p->op, SQLITE_ERROR, "ts_backup: option keep must be an integer from 1 to 1000000, "
              "not %s", zV ? zV : "null");
      }else p->nKeep = (int)v;
    }else if( strcmp(zK, "keep_days")==0 ){
      double r = sqlite3_column_double(pStmt, 1);
      int bNum = bInt || (zT && strcmp(zT, "real")==0);
      if( !bNum || !(r>0) || r>73000 ){
        tsOpErr(&p->op, SQLITE_ERROR, "ts_backup: option keep_days must be a number of days "
              "above 0 and at most 73000, not %s", zV ? zV : "null");
      }else p->iKeepNs = (int64_t)(r*86400.0*1e9);
    }else if( strcmp(zK, "orphan_grace")==0 ){
      int64_t v;
      if( zV==0 || tsBkInterval(zV, &v) || v<0 ){
        tsOpErr(&p->op, SQLITE_ERROR, "ts_backup: option orphan_grace must be an interval like '1h' "
              "or '0s', not %s", zV ? zV : "null");
      }else p->iGraceNs = v;
    }else if( strcmp(zK, "encryption")==0 || strcmp(zK, "kms_key")==0 ){
      const char *zWhy = zV ? tsStoreOptWhy(zK, zV) : "expected a string";
      if( zWhy ){
        tsOpErr(&p->op, SQLITE_ERROR, "ts_backup: bad value for %s: '%s' (%s)", zK,
                zV ? zV : "null", zWhy);
      }else if( zK[0]=='e' ){
        sqlite3_free(p->zEnc); p->zEnc = tsOpDup(&p->op, zV);
        p->bEncSet = 1;
      }else{
        sqlite3_free(p->zKms); p->zKms = tsOpDup(&p->op, zV);
      }
    }else{
      tsOpErr(&p->op, SQLITE_ERROR, "ts_backup: unknown option '%s' (expected keep, keep_days, "
            "orphan_grace, encryption, kms_key)", zK);
    }
  }
  sqlite3_finalize(pStmt);
}

/* options_json checked as ts_backup reads it (for backup plans,
** ext/sched_backup.c): SQLITE_OK, or an error with *pzErr. */
int tsBkOptionsCheck(sqlite3 *db, const char *zJson, char **pzErr){
  BkRun r;
  int rc;
  memset(&r, 0, sizeof(r));
  tsOpInit(&r.op, db, "ts_backup");
  bkOptions(&r, zJson);
  rc = r.op.rc;
  if( rc ){ *pzErr = r.op.zErr; r.op.zErr = 0; }
  bkRunFree(&r);
  return rc;
}

/*************************************************************************
** 1. Snapshot (one read transaction).
*/
static int bkIsTableOpt(const char *zK){
  int i;
  for(i=0; i<BK_NTABLEOPT; i++) if( strcmp(zK, azBkTableOpt[i])==0 ) return 1;
  return 0;
}

static int bkSeriesCmpId(const void *pa, const void *pb){
  const BkSeries *a = (const BkSeries*)pa, *b = (const BkSeries*)pb;
  return a->iId<b->iId ? -1 : a->iId>b->iId;
}

static int bkFindSeries(BkRun *p, sqlite3_int64 iId){
  int lo = 0, hi = p->nSeries-1;
  while( lo<=hi ){
    int mid = (lo+hi)/2;
    if( p->aSeries[mid].iId==iId ) return mid;
    if( p->aSeries[mid].iId<iId ) lo = mid+1; else hi = mid-1;
  }
  return -1;
}

static void bkSnapConfig(BkRun *p){
  sqlite3_stmt *pStmt = tsOpPrepare(&p->op, "SELECT k, v FROM \"%w\".\"%w_config\"", p->zDb, p->zTab);
  while( pStmt && p->op.rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zK = (const char*)sqlite3_column_text(pStmt, 0);
    const char *zV = (const char*)sqlite3_column_text(pStmt, 1);
    if( zK==0 || zV==0 ) continue;
    if( bkIsTableOpt(zK) ){
      tsBkOptPush(&p->op, &p->nOpt, &p->azOptK, &p->azOptV, zK, zV);
    }else if( strcmp(zK, "cold.writer_id")==0 ){
      sqlite3_free(p->zWriterId);
      p->zWriterId = tsOpDup(&p->op, zV);
    }
  }
  sqlite3_finalize(pStmt);
}

static void bkSnapSeries(BkRun *p, const TsTableSchema *s){
  TsBuf cols;
  sqlite3_stmt *pStmt;
  int nAlloc = 0, i;
  tsBufInit(&cols);
  for(i=0; i<s->nDim; i++) tsBufPrintf(&cols, ", d%d", i);
  tsBufAppendByte(&cols, 0);
  if( cols.bErr ){ tsOpOom(&p->op); return; }
  pStmt = tsOpPrepare(&p->op, "SELECT id, skey, measure_name%s FROM \"%w\".\"%w_series\" ORDER BY id",
                    (char*)cols.a, p->zDb, p->zTab);
  tsBufFree(&cols);
  while( pStmt && p->op.rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    BkSeries *q;
    if( p->nSeries==nAlloc ){
      BkSeries *a = sqlite3_realloc64(p->aSeries, sizeof(BkSeries)*(nAlloc = nAlloc ? 2*nAlloc : 64));
      if( a==0 ){ tsOpOom(&p->op); break; }
      p->aSeries = a;
    }
    q = &p->aSeries[p->nSeries++];
    memset(q, 0, sizeof(*q));
    q->iId = sqlite3_column_int64(pStmt, 0);
    q->nKey = sqlite3_column_bytes(pStmt, 1);
    q->aKey = bkDupBlob(p, sqlite3_column_blob(pStmt, 1), q->nKey);
    q->zMName = tsOpDup(&p->op, (const char*)sqlite3_column_text(pStmt, 2));
    q->azDim = sqlite3_malloc64(sizeof(char*)*(s->nDim ? s->nDim : 1));
    if( q->azDim==0 ){ tsOpOom(&p->op); break; }
    for(i=0; i<s->nDim; i++) q->azDim[i] = tsOpDup(&p->op, (const char*)sqlite3_column_text(pStmt, 3+i));
    if( q->aKey ) q->h = tsFnv1a32(q->aKey, (size_t)q->nKey);
  }
  sqlite3_finalize(pStmt);
}

static void bkSnapChunks(BkRun *p){
  sqlite3_stmt *pStmt = tsOpPrepare(&p->op, "SELECT sid, tmin, tmax, nrow, data FROM \"%w\".\"%w_chunks\" "
                                     "ORDER BY sid, tmin", p->zDb, p->zTab);
  int nAlloc = 0;
  while( pStmt && p->op.rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    BkChunk *c;
    int iS = bkFindSeries(p, sqlite3_column_int64(pStmt, 0));
    if( iS<0 ){
      tsOpErr(&p->op, SQLITE_CORRUPT, "ts_backup %s: chunk of series %lld, which %s_series does not "
            "have (run ts_check)", p->zTab, sqlite3_column_int64(pStmt, 0), p->zTab);
      break;
    }
    if( p->nChunk==nAlloc ){
      BkChunk *a = sqlite3_realloc64(p->aChunk, sizeof(BkChunk)*(nAlloc = nAlloc ? 2*nAlloc : 256));
      if( a==0 ){ tsOpOom(&p->op); break; }
      p->aChunk = a;
    }
    c = &p->aChunk[p->nChunk++];
    c->iSeries = iS;
    p->aSeries[iS].bMem = 1;
    c->tMin = sqlite3_column_int64(pStmt, 1);
    c->tMax = sqlite3_column_int64(pStmt, 2);
    c->nRow = sqlite3_column_int(pStmt, 3);
    c->n = sqlite3_column_bytes(pStmt, 4);
    c->a = bkDupBlob(p, sqlite3_column_blob(pStmt, 4), c->n);
  }
  sqlite3_finalize(pStmt);
}

static void bkSnapObjects(BkRun *p){
  sqlite3_stmt *pStmt = tsOpPrepare(&p->op, "SELECT * FROM \"%w\".\"%w_objects\" ORDER BY id",
                                  p->zDb, p->zTab);
  int nAlloc = 0, nCol, i;
  if( pStmt==0 ) return;
  nCol = sqlite3_column_count(pStmt);
  while( p->op.rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    BkObj *o;
    if( p->nObj==nAlloc ){
      BkObj *a = sqlite3_realloc64(p->aObj, sizeof(BkObj)*(nAlloc = nAlloc ? 2*nAlloc : 64));
      if( a==0 ){ tsOpOom(&p->op); break; }
      p->aObj = a;
    }
    o = &p->aObj[p->nObj++];
    memset(o, 0, sizeof(*o));
    o->nSeries = -1;
    for(i=0; i<nCol; i++){
      const char *zC = sqlite3_column_name(pStmt, i);
      int bNull = sqlite3_column_type(pStmt, i)==SQLITE_NULL;
      if( strcmp(zC, "key")==0 ) o->zKey = tsOpDup(&p->op, (const char*)sqlite3_column_text(pStmt, i));
      else if( strcmp(zC, "tmin")==0 ) o->tMin = sqlite3_column_int64(pStmt, i);
      else if( strcmp(zC, "tmax")==0 ) o->tMax = sqlite3_column_int64(pStmt, i);
      else if( strcmp(zC, "nrow")==0 ) o->nRow = sqlite3_column_int64(pStmt, i);
      else if( strcmp(zC, "nbyte")==0 ) o->nByte = sqlite3_column_int64(pStmt, i);
      else if( strcmp(zC, "created")==0 ) o->iCreated = sqlite3_column_int64(pStmt, i);
      else if( strcmp(zC, "nseries")==0 ){ if( !bNull ) o->nSeries = sqlite3_column_int64(pStmt, i); }
      else if( bNull ) continue;
      else if( strcmp(zC, "pk_min")==0 ) o->zPkMin = tsOpDup(&p->op, (const char*)sqlite3_column_text(pStmt, i));
      else if( strcmp(zC, "pk_max")==0 ) o->zPkMax = tsOpDup(&p->op, (const char*)sqlite3_column_text(pStmt, i));
      else if( strcmp(zC, "writer")==0 ) o->zWriter = tsOpDup(&p->op, (const char*)sqlite3_column_text(pStmt, i));
      else if( strcmp(zC, "series_filter")==0 ){
        o->nFilter = sqlite3_column_bytes(pStmt, i);
        o->aFilter = bkDupBlob(p, sqlite3_column_blob(pStmt, i), o->nFilter);
      }else if( strcmp(zC, "footer")==0 ){
        o->nFooter = sqlite3_column_bytes(pStmt, i);
        o->aFooter = bkDupBlob(p, sqlite3_column_blob(pStmt, i), o->nFooter);
      }else if( strcmp(zC, "series_runs")==0 ){
        o->nRuns = sqlite3_column_bytes(pStmt, i);
        o->aRuns = bkDupBlob(p, sqlite3_column_blob(pStmt, i), o->nRuns);
      }
    }
    if( p->op.rc==SQLITE_OK && o->zKey==0 ){
      tsOpErr(&p->op, SQLITE_CORRUPT, "ts_backup %s: %s_objects has a row without a key", p->zTab, p->zTab);
    }
  }
  sqlite3_finalize(pStmt);
}

static void bkSnapshot(BkRun *p){
  const TsTableSchema *s = tsTableSchema(p->pTab);
  int rc = sqlite3_exec(p->op.db, "BEGIN", 0, 0, 0);
  if( rc!=SQLITE_OK ){
    tsOpErr(&p->op, rc, "ts_backup %s: BEGIN: %s", p->zTab, sqlite3_errmsg(p->op.db));
    return;
  }
  bkSnapConfig(p);
  if( p->op.rc==SQLITE_OK ) bkSnapSeries(p, s);
  if( p->op.rc==SQLITE_OK && p->nSeries>1 ){
    qsort(p->aSeries, p->nSeries, sizeof(BkSeries), bkSeriesCmpId);
  }
  if( p->op.rc==SQLITE_OK ) bkSnapChunks(p);
  if( p->op.rc==SQLITE_OK ) bkSnapObjects(p);
  /* The snapshot is what was read; ending the read transaction cannot lose
  ** it, so COMMIT's result matters only as an error to report. */
  rc = sqlite3_exec(p->op.db, "COMMIT", 0, 0, 0);
  if( rc!=SQLITE_OK ){
    tsOpErr(&p->op, rc, "ts_backup %s: COMMIT: %s", p->zTab, sqlite3_errmsg(p->op.db));
    sqlite3_exec(p->op.db, "ROLLBACK", 0, 0, 0);
  }
}

/*************************************************************************
** Existing backups in the location.
*/
static int bkRefCmp(const void *pa, const void *pb){
  return strcmp(((const BkRef*)pa)->zPath, ((const BkRef*)pb)->zPath);
}

static BkRef *bkRefFind(BkRun *p, const char *zPath){
  BkRef key;
  key.zPath = (char*)zPath;
  return p->nRef ? bsearch(&key, p->aRef, p->nRef, sizeof(BkRef), bkRefCmp) : 0;
}

static void bkLoadBackups(BkRun *p){
  int i, nAlloc = 0;
  char *zE = 0;
  if( p->op.rc ) return;
  p->op.rc = tsBkManifestList("ts_backup", p->pLoc, p->zUri, &p->azMan, &p->nMan, &zE);
  if( p->op.rc ){ p->op.zErr = zE; return; }
  p->aManCreated = sqlite3_malloc64(sizeof(int64_t)*(p->nMan+1));
  if( p->aManCreated==0 ){ tsOpOom(&p->op); return; }
  for(i=0; i<p->nMan && p->op.rc==SQLITE_OK; i++){
    char *zJson = 0;
    sqlite3_stmt *pStmt;
    int rc = tsBkManifestRead("ts_backup", p->op.db, p->pLoc, p->zUri, p->azMan[i], &zJson, &zE);
    if( rc ){ p->op.rc = rc; p->op.zErr = zE; break; }
    pStmt = tsOpPrepare(&p->op, "SELECT json_extract(?1, '$.table'), json_extract(?1, '$.created'), "
                         "json_extract(?1, '$.seq')");
    if( pStmt ){
      sqlite3_bind_text(pStmt, 1, zJson, -1, SQLITE_STATIC);
      if( sqlite3_step(pStmt)==SQLITE_ROW ){
        const char *zT = (const char*)sqlite3_column_text(pStmt, 0);
        sqlite3_int64 iSeq = sqlite3_column_int64(pStmt, 2);
        if( zT==0 || strcmp(zT, p->zTab)!=0 ){
          tsOpErr(&p->op, SQLITE_ERROR, "ts_backup %s: '%s' holds backups of table '%s'; a location "
                "holds the backups of one table: use another location", p->zTab, p->zUri,
                zT ? zT : "?");
        }
        p->aManCreated[i] = sqlite3_column_int64(pStmt, 1);
        if( iSeq>=p->iSeq ) p->iSeq = iSeq + 1;
      }
      sqlite3_finalize(pStmt);
    }
    pStmt = tsOpPrepare(&p->op, "SELECT json_extract(value, '$.path'), json_extract(value, '$.sha256'), "
                         "json_extract(value, '$.bytes') FROM json_each(?1, '$.files')");
    if( pStmt ) sqlite3_bind_text(pStmt, 1, zJson, -1, SQLITE_STATIC);
    while( pStmt && p->op.rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
      const char *zPath = (const char*)sqlite3_column_text(pStmt, 0);
      const char *zSha = (const char*)sqlite3_column_text(pStmt, 1);
      BkRef *r;
      if( zPath==0 || zSha==0 || strlen(zSha)!=64 ){
        tsOpErr(&p->op, SQLITE_CORRUPT, "ts_backup %s: backup manifest '%s' in '%s' is damaged (a file "
              "without path or sha256)", p->zTab, p->azMan[i], p->zUri);
        break;
      }
      if( p->nRef==nAlloc ){
        BkRef *a = sqlite3_realloc64(p->aRef, sizeof(BkRef)*(nAlloc = nAlloc ? 2*nAlloc : 256));
        if( a==0 ){ tsOpOom(&p->op); break; }
        p->aRef = a;
      }
      r = &p->aRef[p->nRef];
      r->zPath = tsOpDup(&p->op, zPath);
      if( r->zPath==0 ) break;
      memcpy(r->zSha, zSha, 65);
      r->nByte = sqlite3_column_int64(pStmt, 2);
      r->iMan = i;
      p->nRef++;
    }
    sqlite3_finalize(pStmt);
    sqlite3_free(zJson);
  }
  if( p->op.rc==SQLITE_OK && p->nRef>1 ) qsort(p->aRef, p->nRef, sizeof(BkRef), bkRefCmp);
}

/*************************************************************************
** 2. Memory tier: windows -> Parquet files.
*/
static BkFile *bkFileAdd(BkRun *p, const char *zPath, int iObj){
  BkFile *f;
  if( p->op.rc ) return 0;
  if( p->nFile==p->nFileAlloc ){
    int n = p->nFileAlloc ? 2*p->nFileAlloc : 64;
    BkFile *a = sqlite3_realloc64(p->aFile, sizeof(BkFile)*n);
    if( a==0 ){ tsOpOom(&p->op); return 0; }
    p->aFile = a; p->nFileAlloc = n;
  }
  f = &p->aFile[p->nFile];
  memset(f, 0, sizeof(*f));
  f->zPath = tsOpDup(&p->op, zPath);
  if( f->zPath==0 ) return 0;
  f->iObj = iObj;
  p->nFile++;
  return f;
}

static int bkRankCmp(const void *pa, const void *pb){
  const BkSeries *a = *(const BkSeries*const*)pa, *b = *(const BkSeries*const*)pb;
  int n = a->nKey<b->nKey ? a->nKey : b->nKey;
  int c = memcmp(a->aKey, b->aKey, (size_t)n);
  return c ? c : (a->nKey<b->nKey ? -1 : a->nKey>b->nKey);
}

static int bkPieceWinCmp(const void *pa, const void *pb){
  const BkPiece *a = (const BkPiece*)pa, *b = (const BkPiece*)pb;
  return a->iWin<b->iWin ? -1 : a->iWin>b->iWin;
}

static int bkPieceCmp(const void *pa, const void *pb){
  const BkPiece *a = (const BkPiece*)pa, *b = (const BkPiece*)pb;
  if( a->iWin!=b->iWin ) return a->iWin<b->iWin ? -1 : 1;
  if( a->iPart!=b->iPart ) return a->iPart<b->iPart ? -1 : 1;
  if( a->iRank!=b->iRank ) return a->iRank<b->iRank ? -1 : 1;
  return a->iChunk<b->iChunk ? -1 : a->iChunk>b->iChunk;   /* chunks are in (sid, tmin) order */
}

static int64_t bkFloorDiv(int64_t a, int64_t b){
  int64_t q = a / b;
  if( (a % b)!=0 && ((a<0)!=(b<0)) ) q--;
  return q;
}

static int bkSink(void *pCtx, const void *a, size_t n){
  TsBuf *b = (TsBuf*)pCtx;
  tsBufAppend(b, a, n);
  return b->bErr;
}

/* Open a Parquet writer with the cold tier's column layout into *pOut. */
static TsPqWriter *bkPqOpen(BkRun *p, const TsTableSchema *s, int64_t iWinStart, int bMark,
                            TsBuf *pOut, char *zWinBuf){
  TsPqColumnSpec *aSpec;
  TsPqWriteOpts opts;
  TsPqWriter *pW = 0;
  int nCol = 3 + s->nDim + s->nMeas + (bMark!=0), i, j = 0;
  const char *azK[3], *azV[3];
  static const int aMap[] = { 0, TS_PQ_DOUBLE, TS_PQ_INT64, TS_PQ_STRING, TS_PQ_BOOLEAN,
                              TS_PQ_TIMESTAMP_NS };
  aSpec = sqlite3_malloc64(sizeof(TsPqColumnSpec)*nCol);
  if( aSpec==0 ){ tsOpOom(&p->op); return 0; }
  aSpec[j].zName = "time"; aSpec[j].eType = TS_PQ_TIMESTAMP_NS; aSpec[j].bNullable = 0;
  aSpec[j++].eEncoding = TS_PQ_ENC_DELTA;
  for(i=0; i<s->nDim; i++){
    aSpec[j].zName = s->azDim[i]; aSpec[j].eType = TS_PQ_STRING; aSpec[j].bNullable = 1;
    aSpec[j++].eEncoding = TS_PQ_ENC_DICT;
  }
  aSpec[j].zName = "measure_name"; aSpec[j].eType = TS_PQ_STRING; aSpec[j].bNullable = 0;
  aSpec[j++].eEncoding = TS_PQ_ENC_DICT;
  for(i=0; i<s->nMeas; i++){
    aSpec[j].zName = s->azMeas[i]; aSpec[j].eType = aMap[s->aMeasType[i]];
    aSpec[j].bNullable = 1; aSpec[j++].eEncoding = TS_PQ_ENC_AUTO;
  }
  aSpec[j].zName = "version"; aSpec[j].eType = TS_PQ_INT64; aSpec[j].bNullable = 0;
  aSpec[j++].eEncoding = TS_PQ_ENC_AUTO;
  if( bMark ){
    /* The rows' write marks (ext/recrule.h), as in cold objects: only in a
    ** file with a row marked other than 0. */
    aSpec[j].zName = "ts_write_mode"; aSpec[j].eType = TS_PQ_INT64; aSpec[j].bNullable = 0;
    aSpec[j++].eEncoding = TS_PQ_ENC_AUTO;
  }
  tsPqWriteOptsInit(&opts);
  opts.eCodec = TS_PQ_CODEC_ZSTD;
  opts.nRowGroupRows = 65536;
  opts.nRowGroupBytes = 8LL*1024*1024;
  opts.nPageRows = 20000;
  snprintf(zWinBuf, 24, "%lld", (long long)iWinStart);
  azK[0] = "tslite.backup_format"; azV[0] = "1";
  azK[1] = "tslite.table";         azV[1] = p->zTab;
  azK[2] = "tslite.window_start";  azV[2] = zWinBuf;
  opts.nKeyValue = 3; opts.azKey = azK; opts.azValue = azV;
  if( tsPqWriterOpen(&pW, aSpec, nCol, &opts, bkSink, pOut)!=TS_PQ_OK ){
    tsOpErr(&p->op, SQLITE_ERROR, "ts_backup %s: Parquet writer: %s", p->zTab,
          pW ? tsPqWriterErrmsg(pW) : "out of memory");
    tsPqWriterFree(pW);
    pW = 0;
  }
  sqlite3_free(aSpec);
  return pW;
}

/* A chunk decoded once and kept while windows still need it: a chunk spans
** many windows when the window is short, and decoding it per window would
** cost (windows x rows). */
typedef struct BkDec BkDec;
struct BkDec {
  TsChunkReader *pR;               /* NULL until first use */
  const int64_t *aTime, *aVer;
  const unsigned char *aMark;      /* write marks, NULL: all 0 (owned by pR) */
  TsChunkCol *aCol;                /* nMeas columns (arrays owned by pR) */
};

static void bkDecFree(BkDec *d){
  tsChunkReaderFree(d->pR);
  sqlite3_free(d->aCol);
  memset(d, 0, sizeof(*d));
}

static int bkDecOpen(BkRun *p, const TsTableSchema *s, const BkChunk *c, BkDec *d){
  int rc, j;
  if( d->pR ) return SQLITE_OK;
  d->aCol = sqlite3_malloc64(sizeof(TsChunkCol)*(s->nMeas ? s->nMeas : 1));
  if( d->aCol==0 ){ tsOpOom(&p->op); return SQLITE_NOMEM; }
  rc = tsChunkReaderOpen(c->a, (size_t)c->n, &d->pR);
  if( rc==TS_CHUNK_OK ) rc = tsChunkReadTime(d->pR, &d->aTime);
  if( rc==TS_CHUNK_OK ) rc = tsChunkReadVersion(d->pR, &d->aVer);
  if( rc==TS_CHUNK_OK ) rc = tsChunkReadMark(d->pR, &d->aMark);
  if( rc==TS_CHUNK_OK && tsChunkReaderInfo(d->pR)->nCol!=s->nMeas ) rc = TS_CHUNK_CORRUPT;
  for(j=0; rc==TS_CHUNK_OK && j<s->nMeas; j++) rc = tsChunkReadCol(d->pR, j, &d->aCol[j]);
  if( rc!=TS_CHUNK_OK ){
    bkDecFree(d);
    tsOpErr(&p->op, rc==TS_CHUNK_NOMEM ? SQLITE_NOMEM : SQLITE_CORRUPT,
          "ts_backup %s: a chunk of series %lld is damaged (run ts_check)", p->zTab,
          p->aSeries[c->iSeries].iId);
    return p->op.rc;
  }
  return SQLITE_OK;
}

/* Append the rows of chunk c (decoded in d) with time in [tLo, tHi) to pW. */
static int64_t bkChunkRows(BkRun *p, const TsTableSchema *s, TsPqWriter *pW, int bMark,
                           const BkChunk *c, BkDec *d, int64_t tLo, int64_t tHi,
                           int64_t *ptMin, int64_t *ptMax){
  const BkSeries *q = &p->aSeries[c->iSeries];
  const int64_t *aTime, *aVer;
  int64_t nOut = 0;
  int i, j, nRow, lo, hi;
  if( bkDecOpen(p, s, c, d) ) return 0;
  aTime = d->aTime; aVer = d->aVer;
  nRow = tsChunkReaderInfo(d->pR)->nRow;
  /* Times are increasing: binary search the window's first row. */
  for(lo=0, hi=nRow; lo<hi; ){
    int mid = (lo+hi)/2;
    if( aTime[mid]<tLo ) lo = mid+1; else hi = mid;
  }
  for(i=lo; p->op.rc==SQLITE_OK && i<nRow && aTime[i]<tHi; i++){
    int k = 0;
    tsPqWriterInt64(pW, k++, aTime[i]);
    for(j=0; j<s->nDim; j++, k++){
      if( q->azDim[j] ) tsPqWriterText(pW, k, q->azDim[j], (int64_t)strlen(q->azDim[j]));
      else tsPqWriterNull(pW, k);
    }
    tsPqWriterText(pW, k++, q->zMName, (int64_t)strlen(q->zMName));
    for(j=0; j<s->nMeas; j++, k++){
      const TsChunkCol *col = &d->aCol[j];
      if( col->aNull && col->aNull[i] ){ tsPqWriterNull(pW, k); continue; }
      switch( s->aMeasType[j] ){
        case TS_TYPE_DOUBLE:  tsPqWriterDouble(pW, k, col->aDouble[i]); break;
        case TS_TYPE_VARCHAR: tsPqWriterText(pW, k, col->azText[i], col->anText[i]); break;
        case TS_TYPE_BOOLEAN: tsPqWriterBool(pW, k, col->aInt[i]!=0); break;
        default:              tsPqWriterInt64(pW, k, col->aInt[i]); break;
      }
    }
    tsPqWriterInt64(pW, k++, aVer ? aVer[i] : 1);
    if( bMark ) tsPqWriterInt64(pW, k, d->aMark ? d->aMark[i] : 0);
    if( tsPqWriterEndRow(pW)!=TS_PQ_OK ){
      tsOpErr(&p->op, SQLITE_ERROR, "ts_backup %s: Parquet writer: %s", p->zTab, tsPqWriterErrmsg(pW));
      break;
    }
    if( nOut==0 || aTime[i]<*ptMin ) *ptMin = aTime[i];
    if( nOut==0 || aTime[i]>*ptMax ) *ptMax = aTime[i];
    nOut++;
  }
  return nOut;
}

/* Finish one memory file: name it by its hash, upload it unless an earlier
** backup has it, record it. */
static void bkMemFileDone(BkRun *p, TsBuf *pBuf, int64_t nRow, int64_t tMin, int64_t tMax){
  char zSha[65];
  char *zPath;
  BkRef *r;
  BkFile *f;
  tsBkSha256(pBuf->a ? pBuf->a : (const unsigned char*)"", pBuf->n, zSha);
  zPath = sqlite3_mprintf("%s%s.parquet", TS_BK_MEM_DIR, zSha);
  if( zPath==0 ){ tsOpOom(&p->op); return; }
  f = bkFileAdd(p, zPath, -1);
  sqlite3_free(zPath);
  if( f==0 ) return;
  memcpy(f->zSha, zSha, 65);
  f->nByte = (int64_t)pBuf->n;
  f->nRow = nRow; f->tMin = tMin; f->tMax = tMax;
  r = bkRefFind(p, f->zPath);
  if( r==0 ){
    char *zE = 0;
    int i;
    /* Two windows with identical bytes are one file. */
    for(i=0; i<p->nFile-1; i++) if( strcmp(p->aFile[i].zPath, f->zPath)==0 ) break;
    if( i==p->nFile-1 ){
      if( tsObjPut(p->pLoc, f->zPath, pBuf->a ? pBuf->a : (const unsigned char*)"", pBuf->n, &zE)!=TS_OBJ_OK ){
        tsOpErr(&p->op, SQLITE_IOERR, "ts_backup %s: upload of %s to '%s': %s", p->zTab, f->zPath,
              p->zUri, zE ? zE : "failed");
        free(zE);
        return;
      }
      f->bNew = 1;
      p->nNewBytes += f->nByte;
      mtPoint(p->op.db, "backup-uploaded");
      p->nNewFiles++;
    }
  }
  p->nBytes += f->nByte;
  p->nMemRow += nRow;
}

static void bkMemory(BkRun *p){
  const TsTableSchema *s = p->op.rc ? 0 : tsTableSchema(p->pTab);
  BkSeries **apRank = 0;
  BkPiece *aPiece = 0;
  BkDec *aDec = 0;
  int64_t nPiece = 0, nAlloc = 0, i, j;
  int64_t W;
  if( p->op.rc || p->nChunk==0 ) return;
  aDec = sqlite3_malloc64(sizeof(BkDec)*p->nChunk);
  if( aDec==0 ){ tsOpOom(&p->op); return; }
  memset(aDec, 0, sizeof(BkDec)*p->nChunk);
  W = (s->iMemRet / 64) / TS_BK_NS_PER_MIN * TS_BK_NS_PER_MIN;
  if( W<TS_BK_NS_PER_MIN ) W = TS_BK_NS_PER_MIN;
  p->iWin = W;
  apRank = sqlite3_malloc64(sizeof(BkSeries*)*(p->nSeries ? p->nSeries : 1));
  if( apRank==0 ){ tsOpOom(&p->op); return; }
  for(i=0; i<p->nSeries; i++) apRank[i] = &p->aSeries[i];
  qsort(apRank, p->nSeries, sizeof(BkSeries*), bkRankCmp);
  for(i=0; i<p->nSeries; i++) apRank[i]->iRank = (int)i;
  sqlite3_free(apRank);
  for(i=0; i<p->nChunk && p->op.rc==SQLITE_OK; i++){
    const BkChunk *c = &p->aChunk[i];
    int64_t w, w0 = bkFloorDiv(c->tMin, W), w1 = bkFloorDiv(c->tMax, W);
    for(w=w0; w<=w1; w++){
      if( nPiece==nAlloc ){
        BkPiece *a = sqlite3_realloc64(aPiece, sizeof(BkPiece)*(nAlloc = nAlloc ? 2*nAlloc : 256));
        if( a==0 ){ tsOpOom(&p->op); break; }
        aPiece = a;
      }
      aPiece[nPiece].iWin = w;
      aPiece[nPiece].iPart = 0;
      aPiece[nPiece].iRank = p->aSeries[c->iSeries].iRank;
      aPiece[nPiece].iChunk = (int)i;
      nPiece++;
    }
  }
  /* Split windows whose (estimated) rows exceed TS_BK_FILE_ROWS. */
  if( p->op.rc==SQLITE_OK ) qsort(aPiece, nPiece, sizeof(BkPiece), bkPieceWinCmp);
  for(i=0; p->op.rc==SQLITE_OK && i<nPiece; i=j){
    int64_t nEst = 0;
    uint32_t nSplit = 1;
    for(j=i; j<nPiece && aPiece[j].iWin==aPiece[i].iWin; j++) nEst += p->aChunk[aPiece[j].iChunk].nRow;
    while( nEst/nSplit > TS_BK_FILE_ROWS && nSplit<(1u<<16) ) nSplit *= 2;
    if( nSplit>1 ){
      int64_t k;
      for(k=i; k<j; k++){
        aPiece[k].iPart = (int)(p->aSeries[p->aChunk[aPiece[k].iChunk].iSeries].h & (nSplit-1));
      }
    }
  }
  if( p->op.rc==SQLITE_OK ) qsort(aPiece, nPiece, sizeof(BkPiece), bkPieceCmp);
  for(i=0; p->op.rc==SQLITE_OK && i<nPiece; i=j){
    TsBuf buf;
    char zWin[24];
    TsPqWriter *pW;
    int64_t nRow = 0, tMin = 0, tMax = 0;
    int bMark = 0;
    tsBufInit(&buf);
    /* The file gets the ts_write_mode column when a chunk of it has marks. */
    for(j=i; p->op.rc==SQLITE_OK && j<nPiece && aPiece[j].iWin==aPiece[i].iWin
             && aPiece[j].iPart==aPiece[i].iPart; j++){
      BkDec *d = &aDec[aPiece[j].iChunk];
      if( bkDecOpen(p, s, &p->aChunk[aPiece[j].iChunk], d)==SQLITE_OK && d->aMark ) bMark = 1;
    }
    pW = p->op.rc ? 0 : bkPqOpen(p, s, aPiece[i].iWin*W, bMark, &buf, zWin);
    for(j=i; j<nPiece && aPiece[j].iWin==aPiece[i].iWin && aPiece[j].iPart==aPiece[i].iPart; j++){
      int64_t a = 0, b = 0, n;
      const BkChunk *c = &p->aChunk[aPiece[j].iChunk];
      if( pW==0 || p->op.rc ) continue;
      n = bkChunkRows(p, s, pW, bMark, c, &aDec[aPiece[j].iChunk], aPiece[j].iWin*W,
                      aPiece[j].iWin*W + W, &a, &b);
      /* Windows come in order: the chunk's last window frees it. */
      if( aPiece[j].iWin==bkFloorDiv(c->tMax, W) ) bkDecFree(&aDec[aPiece[j].iChunk]);
      if( n>0 ){
        if( nRow==0 || a<tMin ) tMin = a;
        if( nRow==0 || b>tMax ) tMax = b;
        nRow += n;
      }
    }
    if( pW && p->op.rc==SQLITE_OK ){
      if( tsPqWriterFinish(pW)!=TS_PQ_OK || buf.bErr ){
        tsOpErr(&p->op, SQLITE_ERROR, "ts_backup %s: Parquet writer: %s", p->zTab,
              buf.bErr ? "out of memory" : tsPqWriterErrmsg(pW));
      }else if( nRow>0 ){
        bkMemFileDone(p, &buf, nRow, tMin, tMax);
      }
    }
    tsPqWriterFree(pW);
    tsBufFree(&buf);
  }
  for(i=0; i<p->nChunk; i++) bkDecFree(&aDec[i]);
  sqlite3_free(aDec);
  sqlite3_free(aPiece);
}

/* The backup's encryption: the options given, else the table's (its
** server-side encryption only where the location is s3://: a directory has
** no server to encrypt).  The rules between them are the table's
** (tsStoreOptFinish, with the location as the storage). */
static void bkEncryption(BkRun *p){
  char *zE = 0;
  if( !p->bEncSet ){
    const TsTableSchema *s = tsTableSchema(p->pTab);
    const char *zEnc = s->zEncryption;
    if( p->zKms ){
      tsOpErr(&p->op, SQLITE_ERROR, "ts_backup %s: option kms_key needs the option encryption",
              p->zTab);
      return;
    }
    if( zEnc==0 || (strncmp(zEnc, "sse_", 4)==0 && strncmp(p->zUri, "s3://", 5)!=0) ) zEnc = "none";
    p->zEnc = tsOpDup(&p->op, zEnc);
    if( s->zKmsKey && strcmp(zEnc, "none")!=0 ) p->zKms = tsOpDup(&p->op, s->zKmsKey);
    if( p->op.rc ) return;
  }
  if( tsStoreOptFinish(p->zUri, p->zEnc, p->zKms, &zE) ){
    tsOpErr(&p->op, SQLITE_ERROR, "ts_backup %s: %s", p->zTab, zE ? zE : "out of memory");
  }
  free(zE);
}

/*************************************************************************
** 3. Cold tier: copy new objects.
*/
static void bkCold(BkRun *p){
  const TsTableSchema *s = p->op.rc ? 0 : tsTableSchema(p->pTab);
  int i;
  for(i=0; i<p->nObj && p->op.rc==SQLITE_OK; i++){
    BkObj *o = &p->aObj[i];
    char *zPath = sqlite3_mprintf("%s%s", TS_BK_COLD_DIR, o->zKey);
    BkFile *f;
    BkRef *r;
    if( zPath==0 ){ tsOpOom(&p->op); break; }
    f = bkFileAdd(p, zPath, i);
    sqlite3_free(zPath);
    if( f==0 ) break;
    f->nRow = o->nRow; f->tMin = o->tMin; f->tMax = o->tMax;
    r = bkRefFind(p, f->zPath);
    if( r ){
      memcpy(f->zSha, r->zSha, 65);
      f->nByte = r->nByte;
    }else{
      char *zE = 0;
      int bServer = 0, rc;
      if( p->pSrc==0 ){
        char *zE2 = 0;
        int rc2 = tsBkTableStoreOpen("ts_backup", p->op.db, p->zDb, p->zTab, s->zStorage,
                                     s->zS3Endpoint, s->zS3Region, s->zS3UrlStyle,
                                     s->zEncryption, s->zKmsKey, &p->pSrc, 0, &zE2);
        if( rc2 ){ p->op.rc = rc2; p->op.zErr = zE2; break; }
      }
      rc = tsObjCopyAcross(p->pSrc, o->zKey, p->pLoc, f->zPath, &bServer, &zE);
      if( rc==TS_OBJ_OK ){
        free(zE); zE = 0;
        rc = tsBkHashObject(p->pLoc, f->zPath, f->zSha, &f->nByte, &zE);
      }
      if( rc!=TS_OBJ_OK ){
        tsOpErr(&p->op, SQLITE_IOERR, "ts_backup %s: copy of cold object '%s' to '%s': %s", p->zTab,
              o->zKey, p->zUri, rc==TS_OBJ_NOTFOUND && zE==0 ? "no such object" : (zE ? zE : "failed"));
        free(zE);
        break;
      }
      free(zE);
      if( f->nByte!=o->nByte ){
        tsOpErr(&p->op, SQLITE_CORRUPT, "ts_backup %s: cold object '%s' has %lld bytes, its manifest "
              "row says %lld", p->zTab, o->zKey, (long long)f->nByte, (long long)o->nByte);
        break;
      }
      f->bNew = 1;
      p->nNewBytes += f->nByte;
      p->nNewFiles++;
      p->nServerCopies += bServer;
      mtPoint(p->op.db, "backup-copied");
    }
    p->nBytes += f->nByte;
    p->nColdRow += o->nRow;
  }
}

/*************************************************************************
** 4. Manifest.
*/
static void bkJwOptStr(TsJsonW *w, const char *zKey, const char *z){
  if( z ) tsJwKeyStr(w, zKey, z); else { tsJwKey(w, zKey); tsJwNull(w); }
}

static void bkSummary(BkRun *p, TsJsonW *w){
  tsJwKeyInt(w, "rows", p->nMemRow + p->nColdRow);
  tsJwKeyInt(w, "memory_rows", p->nMemRow);
  tsJwKeyInt(w, "cold_rows", p->nColdRow);
  tsJwKeyInt(w, "cold_objects", p->nObj);
  tsJwKeyInt(w, "files", p->nFile);
  tsJwKeyInt(w, "bytes", p->nBytes);
  tsJwKeyInt(w, "new_files", p->nNewFiles);
  tsJwKeyInt(w, "new_bytes", p->nNewBytes);
}

static void bkManifest(BkRun *p){
  const TsTableSchema *s = p->op.rc ? 0 : tsTableSchema(p->pTab);
  TsBuf b, hex;
  TsJsonW w;
  char zRand[9], zIso[40];
  unsigned char aRand[4];
  char *zKey, *zE = 0;
  int i;
  if( p->op.rc ) return;
  sqlite3_randomness(4, aRand);
  for(i=0; i<4; i++) snprintf(zRand+2*i, 3, "%02x", aRand[i]);
  p->zId = sqlite3_mprintf("%08lld-%s", (long long)p->iSeq, zRand);
  if( p->zId==0 ){ tsOpOom(&p->op); return; }
  tsBufInit(&b); tsBufInit(&hex);
  tsJwInit(&w, &b);
  tsJwObjBegin(&w);
  tsJwKeyStr(&w, "format", TS_BK_FORMAT_NAME);
  tsJwKeyInt(&w, "version", TS_BK_FORMAT_VER);
  tsJwKeyStr(&w, "id", p->zId);
  tsJwKeyInt(&w, "seq", p->iSeq);
  tsJwKeyInt(&w, "created", p->iNow);
  tsTimeFormatIso(p->iNow, zIso);
  tsJwKeyStr(&w, "created_iso", zIso);
  tsJwKeyStr(&w, "table", p->zTab);
  tsJwKeyStr(&w, "tslite_version", TSLITE_VERSION);
  bkJwOptStr(&w, "writer_id", p->zWriterId);
  tsJwKey(&w, "schema"); tsJwObjBegin(&w);
  tsJwKey(&w, "columns"); tsJwArrBegin(&w);
  for(i=0; i<s->nDim; i++){
    tsJwObjBegin(&w); tsJwKeyStr(&w, "name", s->azDim[i]); tsJwKeyStr(&w, "type", "DIMENSION");
    tsJwObjEnd(&w);
  }
  for(i=0; i<s->nMeas; i++){
    tsJwObjBegin(&w); tsJwKeyStr(&w, "name", s->azMeas[i]);
    tsJwKeyStr(&w, "type", tsChunkTypeName(s->aMeasType[i])); tsJwObjEnd(&w);
  }
  tsJwArrEnd(&w);
  tsJwObjEnd(&w);
  tsJwKey(&w, "options"); tsJwObjBegin(&w);
  for(i=0; i<p->nOpt; i++) tsJwKeyStr(&w, p->azOptK[i], p->azOptV[i]);
  tsJwObjEnd(&w);
  tsJwKeyInt(&w, "memory_window_ns", p->iWin);
  /* Series without memory rows: the memory files do not name them, and the
  ** restore needs their <t>_series rows to find them in the cold objects. */
  tsJwKey(&w, "cold_series"); tsJwArrBegin(&w);
  for(i=0; i<p->nSeries; i++){
    if( p->aSeries[i].bMem || p->aSeries[i].aKey==0 ) continue;
    tsBufReset(&hex); tsBkHexAppend(&hex, p->aSeries[i].aKey, (size_t)p->aSeries[i].nKey);
    tsJwStrN(&w, (const char*)hex.a, hex.n);
  }
  tsJwArrEnd(&w);
  tsJwKey(&w, "summary"); tsJwObjBegin(&w); bkSummary(p, &w); tsJwObjEnd(&w);
  tsJwKey(&w, "files"); tsJwArrBegin(&w);
  for(i=0; i<p->nFile; i++){
    const BkFile *f = &p->aFile[i];
    tsJwObjBegin(&w);
    tsJwKeyStr(&w, "path", f->zPath);
    tsJwKeyStr(&w, "kind", f->iObj<0 ? "memory" : "cold");
    tsJwKeyStr(&w, "sha256", f->zSha);
    tsJwKeyInt(&w, "bytes", f->nByte);
    tsJwKeyInt(&w, "rows", f->nRow);
    tsJwKeyInt(&w, "tmin", f->tMin);
    tsJwKeyInt(&w, "tmax", f->tMax);
    if( f->iObj>=0 ){
      const BkObj *o = &p->aObj[f->iObj];
      tsJwKey(&w, "object"); tsJwObjBegin(&w);
      tsJwKeyStr(&w, "key", o->zKey);
      bkJwOptStr(&w, "pk_min", o->zPkMin);
      bkJwOptStr(&w, "pk_max", o->zPkMax);
      tsBufReset(&hex); tsBkHexAppend(&hex, o->aFilter, (size_t)o->nFilter);
      tsJwKey(&w, "series_filter");
      if( o->aFilter ) tsJwStrN(&w, (const char*)hex.a, hex.n); else tsJwNull(&w);
      tsBufReset(&hex); tsBkHexAppend(&hex, o->aFooter, (size_t)o->nFooter);
      tsJwKey(&w, "footer");
      if( o->aFooter ) tsJwStrN(&w, (const char*)hex.a, hex.n); else tsJwNull(&w);
      tsBufReset(&hex); tsBkHexAppend(&hex, o->aRuns, (size_t)o->nRuns);
      tsJwKey(&w, "series_runs");
      if( o->aRuns ) tsJwStrN(&w, (const char*)hex.a, hex.n); else tsJwNull(&w);
      tsJwKeyInt(&w, "created", o->iCreated);
      bkJwOptStr(&w, "writer", o->zWriter);
      tsJwKey(&w, "nseries"); if( o->nSeries>=0 ) tsJwInt(&w, o->nSeries); else tsJwNull(&w);
      tsJwObjEnd(&w);
    }
    tsJwObjEnd(&w);
  }
  tsJwArrEnd(&w);
  tsJwObjEnd(&w);
  if( tsJwError(&w) || b.bErr || hex.bErr ){ tsOpOom(&p->op); tsBufFree(&b); tsBufFree(&hex); return; }
  tsBufFree(&hex);
  zKey = sqlite3_mprintf("%s%s.json", TS_BK_MANIFEST_DIR, p->zId);
  if( zKey==0 ){ tsOpOom(&p->op); tsBufFree(&b); return; }
  if( tsObjPut(p->pLoc, zKey, b.a, b.n, &zE)!=TS_OBJ_OK ){
    tsOpErr(&p->op, SQLITE_IOERR, "ts_backup %s: writing manifest %s to '%s': %s", p->zTab, zKey,
          p->zUri, zE ? zE : "failed");
  }else{
    mtPoint(p->op.db, "backup-committed");
  }
  free(zE);
  sqlite3_free(zKey);
  tsBufFree(&b);
}

/*************************************************************************
** 5. Pruning and sweeping.
*/
typedef struct BkSweep BkSweep;
struct BkSweep {
  BkRun *p;
  unsigned char *aKeep;            /* per manifest: 1 kept */
  int64_t iCutMs;                  /* delete only files modified before (wall ms) */
  TsBuf del;                       /* NUL-separated keys to delete */
  int nDel;
};

static int bkFileCmp(const void *pa, const void *pb){
  return strcmp(((const BkFile*)pa)->zPath, ((const BkFile*)pb)->zPath);
}

static int bkSweepCb(void *pCtx, const TsObjInfo *pInfo){
  BkSweep *w = (BkSweep*)pCtx;
  BkRun *p = w->p;
  BkFile key;
  int i, bRef = 0;
  key.zPath = (char*)pInfo->zKey;
  if( bsearch(&key, p->aFile, p->nFile, sizeof(BkFile), bkFileCmp) ) return 0;
  if( p->nRef ){
    BkRef *r = bkRefFind(p, pInfo->zKey);
    if( r ){
      /* Refs of one path are adjacent: any kept manifest keeps it. */
      int lo = (int)(r - p->aRef);
      while( lo>0 && strcmp(p->aRef[lo-1].zPath, pInfo->zKey)==0 ) lo--;
      for(i=lo; i<p->nRef && strcmp(p->aRef[i].zPath, pInfo->zKey)==0; i++){
        if( w->aKeep[p->aRef[i].iMan] ){ bRef = 1; break; }
      }
    }
  }
  if( bRef || pInfo->iMtimeMs>=w->iCutMs ) return 0;
  tsBufAppend(&w->del, pInfo->zKey, strlen(pInfo->zKey)+1);
  w->nDel++;
  return w->del.bErr;
}

static void bkPrune(BkRun *p){
  BkSweep w;
  char *zE = 0;
  struct timespec ts;
  int i, nKept = 1, rc;
  if( p->op.rc ) return;
  memset(&w, 0, sizeof(w));
  w.p = p;
  w.aKeep = sqlite3_malloc64(p->nMan+1);
  if( w.aKeep==0 ){ tsOpOom(&p->op); return; }
  /* Newest first: the new backup counts as the first kept one. */
  for(i=p->nMan-1; i>=0; i--){
    int bKeep = 1;
    if( p->nKeep>0 && nKept>=p->nKeep ) bKeep = 0;
    if( p->iKeepNs>0 && p->aManCreated[i] < p->iNow - p->iKeepNs ) bKeep = 0;
    w.aKeep[i] = (unsigned char)bKeep;
    nKept += bKeep;
  }
  tsBufInit(&w.del);
  for(i=0; i<p->nMan; i++){
    if( w.aKeep[i] ) continue;
    rc = tsObjDelete(p->pLoc, p->azMan[i], &zE);
    if( rc!=TS_OBJ_OK ){
      tsOpErr(&p->op, SQLITE_IOERR, "ts_backup %s: the backup is complete, but pruning %s in '%s' "
            "failed: %s", p->zTab, p->azMan[i], p->zUri, zE ? zE : "failed");
      free(zE);
      break;
    }
    p->nPruned++;
  }
  if( p->op.rc==SQLITE_OK ){
    clock_gettime(CLOCK_REALTIME, &ts);
    w.iCutMs = (int64_t)ts.tv_sec*1000 + ts.tv_nsec/1000000 - p->iGraceNs/1000000;
    if( p->nFile>1 ) qsort(p->aFile, p->nFile, sizeof(BkFile), bkFileCmp);
    rc = tsObjList(p->pLoc, "data/", bkSweepCb, &w, &zE);
    if( rc==TS_OBJ_NOTFOUND ) rc = TS_OBJ_OK;
    if( rc==TS_OBJ_OK && w.del.bErr ) rc = TS_OBJ_NOMEM;
    if( rc==TS_OBJ_OK && w.nDel>0 ){
      const char **az = sqlite3_malloc64(sizeof(char*)*w.nDel);
      size_t off = 0;
      if( az==0 ) rc = TS_OBJ_NOMEM;
      for(i=0; az && i<w.nDel; i++){ az[i] = (const char*)w.del.a + off; off += strlen(az[i])+1; }
      if( az ) rc = tsObjDeleteMany(p->pLoc, az, w.nDel, &zE);
      sqlite3_free(az);
      if( rc==TS_OBJ_OK ) p->nSwept = w.nDel;
    }
    if( rc!=TS_OBJ_OK ){
      tsOpErr(&p->op, rc==TS_OBJ_NOMEM ? SQLITE_NOMEM : SQLITE_IOERR, "ts_backup %s: the backup is "
            "complete, but deleting unreferenced files in '%s' failed: %s", p->zTab, p->zUri,
            zE ? zE : "failed");
    }
    free(zE);
  }
  tsBufFree(&w.del);
  sqlite3_free(w.aKeep);
}

/*************************************************************************
** ts_backup(table, uri [, options_json])
*/
static void bkFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  BkRun r;
  const char *zArg = (const char*)sqlite3_value_text(argv[0]);
  char *zE = 0;
  memset(&r, 0, sizeof(r));
  r.pEnv = (TsEnv*)sqlite3_user_data(ctx);
  tsOpInit(&r.op, sqlite3_context_db_handle(ctx), "ts_backup");
  r.zUri = (const char*)sqlite3_value_text(argv[1]);
  if( !tsBkFuncArgs(ctx, zArg, r.zUri, "ts_backup: table and uri must not be NULL", &r.zDb, &r.zTab) ) return;
  r.op.zObj = r.zTab;
  if( !sqlite3_get_autocommit(r.op.db) ){
    tsOpErr(&r.op, SQLITE_ERROR, "ts_backup %s: must be called outside a transaction (the snapshot "
          "is its own read transaction)", r.zTab);
  }
  if( r.op.rc==SQLITE_OK ) bkOptions(&r, argc>2 ? (const char*)sqlite3_value_text(argv[2]) : 0);
  if( r.op.rc==SQLITE_OK ){
    r.op.rc = tsTableOpen(r.pEnv, r.op.db, r.zDb, r.zTab, &r.pTab, &zE);
    if( r.op.rc ){ r.op.zErr = sqlite3_mprintf("ts_backup: %s", zE ? zE : "cannot open the table"); sqlite3_free(zE); zE = 0; }
  }
  if( r.op.rc==SQLITE_OK ){
    sqlite3_free(r.zTab);
    r.zTab = tsOpDup(&r.op, tsTableName(r.pTab));
    r.op.zObj = r.zTab;
  }
  if( r.op.rc==SQLITE_OK ) bkEncryption(&r);
  if( r.op.rc==SQLITE_OK ){
    r.op.rc = tsBkLocationOpen("ts_backup", r.zUri, r.zEnc, r.zKms, &r.pLoc, &zE);
    if( r.op.rc ){ r.op.zErr = zE; zE = 0; }
  }
  bkLoadBackups(&r);
  if( r.op.rc==SQLITE_OK ){
    r.iNow = tsEnvNow(r.pEnv);
    bkSnapshot(&r);
  }
  bkMemory(&r);
  bkCold(&r);
  bkManifest(&r);
  bkPrune(&r);
  if( r.op.rc==SQLITE_OK || (r.zId && r.op.rc!=SQLITE_NOMEM) ){
    TsBuf b; TsJsonW w;
    tsBkResultBegin(&b, &w, r.zTab, r.zId);
    bkSummary(&r, &w);
    tsJwKeyInt(&w, "server_side_copies", r.nServerCopies);
    tsJwKeyInt(&w, "pruned", r.nPruned);
    tsJwKeyInt(&w, "swept", r.nSwept);
    if( r.op.rc ) tsJwKeyStr(&w, "warning", r.op.zErr);
    tsJwObjEnd(&w);
    tsOpResultJson(ctx, &b, &w);
  }else{
    tsOpResultError(&r.op, ctx);
  }
  bkRunFree(&r);
}

int tsBackupRegister(sqlite3 *db, TsEnv *pEnv){
  return tsBkRegister(db, pEnv, "ts_backup", bkFunc);
}
