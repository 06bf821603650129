/*
** objsql.c: SQL access to the object store (s3/objstore.h), for users,
** scripts and tests:
**
**   SELECT ts_object_put('s3://bkt/dir/a.bin', x'0102');   -- bytes written
**   SELECT ts_object_get('file:///data/a.bin');             -- BLOB
**   SELECT ts_object_get('s3://bkt/a.bin', 100, 50);        -- 50 bytes at offset 100
**   SELECT ts_object_delete('s3://bkt/dir/a.bin');          -- 1
**   SELECT key, size, last_modified, etag
**     FROM ts_object_list('s3://bkt/dir');                  -- every key under dir/
**   SELECT * FROM ts_object_list('s3://bkt/dir', 'date=2024-01-'); -- with a key prefix
**
** A URI names an object (put/get/delete) or a store root (list: keys are
** returned relative to it, in byte order).  Settings come from the
** environment exactly as for the cold tier (AWS_*, TSLITE_S3_*, TSLITE_CSE_*;
** docs/object-storage.md).  Errors are raised with the store's message
** (operation, bucket, key, HTTP status, S3 code); a missing object is an
** error for ts_object_get, not NULL, so a typo cannot look like an empty
** value.  NULL arguments give NULL.
**
** ts_object_list is an eponymous table-valued function: columns key, size
** (bytes), last_modified (INTEGER ns since the epoch, like every tslite
** time), etag, and the hidden arguments uri, prefix.  The listing is read
** in full at xFilter (S3 pages of 1000 keys) and then stepped through.
*/
#include "tslite.h"
#include "objstore.h"
#include <stdlib.h>
#include <string.h>

/* Report a store failure on a function context; frees zErr. */
static void objResultErr(sqlite3_context *ctx, const char *zFunc, int rc, char *zErr){
  if( rc==TS_OBJ_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else{
    char *zMsg = sqlite3_mprintf("%s: %s", zFunc, zErr ? zErr : "object store error");
    if( zMsg ){
      sqlite3_result_error(ctx, zMsg, -1);
      sqlite3_free(zMsg);
    }else{
      sqlite3_result_error_nomem(ctx);
    }
    if( rc==TS_OBJ_CORRUPT ) sqlite3_result_error_code(ctx, SQLITE_CORRUPT);
  }
  free(zErr);
}

/* ts_object_get(uri [, offset [, length]]) */
static void objGetFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *zUri = (const char*)sqlite3_value_text(argv[0]);
  sqlite3_int64 iOff = 0, nLen = -1;
  TsObjStore *p = 0;
  char *zKey = 0, *zErr = 0;
  TsBuf b;
  int rc;
  if( zUri==0 ) return;
  if( argc>=2 ){
    if( sqlite3_value_type(argv[1])==SQLITE_NULL ) return;
    iOff = sqlite3_value_int64(argv[1]);
  }
  if( argc>=3 ){
    if( sqlite3_value_type(argv[2])==SQLITE_NULL ) return;
    nLen = sqlite3_value_int64(argv[2]);
    if( nLen<0 ){
      sqlite3_result_error(ctx, "ts_object_get: length must be >= 0", -1);
      return;
    }
  }
  if( iOff<0 ){
    sqlite3_result_error(ctx, "ts_object_get: offset must be >= 0", -1);
    return;
  }
  tsBufInit(&b);
  b.nMax = (size_t)sqlite3_limit(sqlite3_context_db_handle(ctx), SQLITE_LIMIT_LENGTH, -1) + 1;
  rc = tsObjOpenParent(zUri, 0, &p, &zKey, &zErr);
  if( rc==TS_OBJ_OK ) rc = tsObjGet(p, zKey, iOff, nLen, &b, &zErr);
  if( rc==TS_OBJ_OK ){
    if( b.n > (size_t)sqlite3_limit(sqlite3_context_db_handle(ctx), SQLITE_LIMIT_LENGTH, -1) ){
      sqlite3_result_error_toobig(ctx);
    }else{
      sqlite3_result_blob64(ctx, b.a ? (const void*)b.a : (const void*)"", b.n, SQLITE_TRANSIENT);
    }
    free(zErr);
  }else if( b.bErr && rc==TS_OBJ_NOMEM ){
    free(zErr);
    sqlite3_result_error_toobig(ctx);
  }else{
    objResultErr(ctx, "ts_object_get", rc, zErr);
  }
  tsBufFree(&b);
  free(zKey);
  tsObjClose(p);
}

/* ts_object_put(uri, blob_or_text) -> bytes written */
static void objPutFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *zUri = (const char*)sqlite3_value_text(argv[0]);
  const void *a;
  int n;
  TsObjStore *p = 0;
  char *zKey = 0, *zErr = 0;
  int rc;
  (void)argc;
  if( zUri==0 || sqlite3_value_type(argv[1])==SQLITE_NULL ) return;
  a = sqlite3_value_blob(argv[1]);
  n = sqlite3_value_bytes(argv[1]);
  rc = tsObjOpenParent(zUri, 0, &p, &zKey, &zErr);
  if( rc==TS_OBJ_OK ) rc = tsObjPut(p, zKey, a ? a : "", (size_t)n, &zErr);
  if( rc==TS_OBJ_OK ){
    sqlite3_result_int64(ctx, n);
    free(zErr);
  }else{
    objResultErr(ctx, "ts_object_put", rc, zErr);
  }
  free(zKey);
  tsObjClose(p);
}

/* ts_object_delete(uri) -> 1 (also when the object did not exist) */
static void objDeleteFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *zUri = (const char*)sqlite3_value_text(argv[0]);
  TsObjStore *p = 0;
  char *zKey = 0, *zErr = 0;
  int rc;
  (void)argc;
  if( zUri==0 ) return;
  rc = tsObjOpenParent(zUri, 0, &p, &zKey, &zErr);
  if( rc==TS_OBJ_OK ) rc = tsObjDelete(p, zKey, &zErr);
  if( rc==TS_OBJ_OK ){
    sqlite3_result_int(ctx, 1);
    free(zErr);
  }else{
    objResultErr(ctx, "ts_object_delete", rc, zErr);
  }
  free(zKey);
  tsObjClose(p);
}

/**************************************************************************
** ts_object_list(uri [, prefix])
*/
#define OBJLIST_COL_KEY      0
#define OBJLIST_COL_SIZE     1
#define OBJLIST_COL_MTIME    2
#define OBJLIST_COL_ETAG     3
#define OBJLIST_COL_URI      4   /* hidden argument */
#define OBJLIST_COL_PREFIX   5   /* hidden argument */

typedef struct ObjListRow ObjListRow;
struct ObjListRow {
  char *zKey;              /* sqlite3_malloc'd */
  sqlite3_int64 nSize;     /* bytes */
  sqlite3_int64 iMtimeNs;  /* ns since epoch */
  int bMtime;              /* iMtimeNs valid (else outside int64 ns: NULL) */
  char *zEtag;             /* sqlite3_malloc'd */
};

typedef struct ObjListCursor ObjListCursor;
struct ObjListCursor {
  sqlite3_vtab_cursor base;
  ObjListRow *aRow;        /* all rows of the listing; owned */
  sqlite3_int64 nRow;      /* rows in aRow */
  sqlite3_int64 nAlloc;    /* allocated slots of aRow */
  sqlite3_int64 iRow;      /* current row */
  int bOom;                /* an allocation failed while collecting */
};

static int objListConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                          sqlite3_vtab **ppVtab, char **pzErr){
  sqlite3_vtab *pNew;
  int rc;
  (void)pAux; (void)argc; (void)argv; (void)pzErr;
  rc = sqlite3_declare_vtab(db,
    "CREATE TABLE x(key TEXT, size INTEGER, last_modified INTEGER, etag TEXT,"
    " uri HIDDEN, prefix HIDDEN)");
  if( rc!=SQLITE_OK ) return rc;
  pNew = sqlite3_malloc(sizeof(*pNew));
  if( pNew==0 ) return SQLITE_NOMEM;
  memset(pNew, 0, sizeof(*pNew));
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  *ppVtab = pNew;
  return SQLITE_OK;
}

static int objListDisconnect(sqlite3_vtab *pVtab){
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

static int objListOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  ObjListCursor *pCur = sqlite3_malloc(sizeof(*pCur));
  (void)pVtab;
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  *ppCur = &pCur->base;
  return SQLITE_OK;
}

static void objListReset(ObjListCursor *pCur){
  sqlite3_int64 i;
  for(i=0; i<pCur->nRow; i++){
    sqlite3_free(pCur->aRow[i].zKey);
    sqlite3_free(pCur->aRow[i].zEtag);
  }
  sqlite3_free(pCur->aRow);
  pCur->aRow = 0;
  pCur->nRow = pCur->nAlloc = pCur->iRow = 0;
  pCur->bOom = 0;
}

static int objListClose(sqlite3_vtab_cursor *cur){
  ObjListCursor *pCur = (ObjListCursor*)cur;
  objListReset(pCur);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

static int objListCollect(void *pCtx, const TsObjInfo *pInfo){
  ObjListCursor *pCur = (ObjListCursor*)pCtx;
  ObjListRow *pRow;
  if( pCur->nRow==pCur->nAlloc ){
    sqlite3_int64 nNew = pCur->nAlloc ? pCur->nAlloc*2 : 64;
    ObjListRow *aNew = sqlite3_realloc64(pCur->aRow, (sqlite3_uint64)nNew*sizeof(ObjListRow));
    if( aNew==0 ){ pCur->bOom = 1; return 1; }
    pCur->aRow = aNew;
    pCur->nAlloc = nNew;
  }
  pRow = &pCur->aRow[pCur->nRow];
  pRow->zKey = sqlite3_mprintf("%s", pInfo->zKey);
  pRow->zEtag = sqlite3_mprintf("%s", pInfo->zEtag ? pInfo->zEtag : "");
  pRow->nSize = pInfo->nSize;
  /* A file's mtime can be any second; beyond 1677..2262 it has no int64
  ** ns form and reads as NULL. */
  pRow->bMtime = !__builtin_mul_overflow((sqlite3_int64)pInfo->iMtimeMs, (sqlite3_int64)1000000,
                                         &pRow->iMtimeNs);
  if( pRow->zKey==0 || pRow->zEtag==0 ){
    sqlite3_free(pRow->zKey);
    sqlite3_free(pRow->zEtag);
    pCur->bOom = 1;
    return 1;
  }
  pCur->nRow++;
  return 0;
}

/* idxNum bit 1: argv has the uri; bit 2: argv then has the prefix. */
static int objListFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr,
                         int argc, sqlite3_value **argv){
  ObjListCursor *pCur = (ObjListCursor*)cur;
  const char *zUri = 0, *zPrefix = "";
  TsObjStore *p = 0;
  char *zErr = 0;
  int rc;
  (void)idxStr;
  objListReset(pCur);
  if( (idxNum & 1)==0 ){
    tsVtabErr(cur->pVtab, "ts_object_list: a uri argument is required: ts_object_list('s3://bucket/prefix')");
    return SQLITE_ERROR;
  }
  if( (idxNum & 1) && argc>=1 ) zUri = (const char*)sqlite3_value_text(argv[0]);
  if( (idxNum & 2) && argc>=2 ){
    zPrefix = (const char*)sqlite3_value_text(argv[1]);
    if( zPrefix==0 ) return SQLITE_OK;   /* NULL prefix: no rows */
  }
  if( zUri==0 ) return SQLITE_OK;        /* NULL uri: no rows */
  rc = tsObjOpen(zUri, 0, &p, &zErr);
  if( rc==TS_OBJ_OK ) rc = tsObjList(p, zPrefix, objListCollect, pCur, &zErr);
  tsObjClose(p);
  if( pCur->bOom || rc==TS_OBJ_NOMEM ){
    free(zErr);
    return SQLITE_NOMEM;
  }
  if( rc!=TS_OBJ_OK ){
    tsVtabErr(cur->pVtab, "ts_object_list: %s", zErr ? zErr : "object store error");
    free(zErr);
    return SQLITE_ERROR;
  }
  free(zErr);
  return SQLITE_OK;
}

static int objListNext(sqlite3_vtab_cursor *cur){
  ((ObjListCursor*)cur)->iRow++;
  return SQLITE_OK;
}

static int objListEof(sqlite3_vtab_cursor *cur){
  ObjListCursor *pCur = (ObjListCursor*)cur;
  return pCur->iRow>=pCur->nRow;
}

static int objListColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i){
  ObjListCursor *pCur = (ObjListCursor*)cur;
  ObjListRow *pRow = &pCur->aRow[pCur->iRow];
  switch( i ){
    case OBJLIST_COL_KEY:   sqlite3_result_text(ctx, pRow->zKey, -1, SQLITE_TRANSIENT); break;
    case OBJLIST_COL_SIZE:  sqlite3_result_int64(ctx, pRow->nSize); break;
    case OBJLIST_COL_MTIME: if( pRow->bMtime ) sqlite3_result_int64(ctx, pRow->iMtimeNs); break;
    case OBJLIST_COL_ETAG:  sqlite3_result_text(ctx, pRow->zEtag, -1, SQLITE_TRANSIENT); break;
    default: break;   /* hidden arguments read back as NULL */
  }
  return SQLITE_OK;
}

static int objListRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid){
  *pRowid = ((ObjListCursor*)cur)->iRow + 1;
  return SQLITE_OK;
}

/* The uri argument is required (SQLITE_CONSTRAINT without it); prefix is
** optional.  Both are consumed exactly (omit=1).  Rows come out in key
** order, so ORDER BY key is satisfied. */
static int objListBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  int i, iUri = -1, iPrefix = -1;
  (void)pVtab;
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *c = &pInfo->aConstraint[i];
    if( c->op!=SQLITE_INDEX_CONSTRAINT_EQ ) continue;
    if( c->iColumn==OBJLIST_COL_URI ){
      if( !c->usable ) return SQLITE_CONSTRAINT;
      iUri = i;
    }else if( c->iColumn==OBJLIST_COL_PREFIX ){
      if( !c->usable ) return SQLITE_CONSTRAINT;
      iPrefix = i;
    }
  }
  if( iUri<0 ){
    if( iPrefix>=0 ) return SQLITE_CONSTRAINT;
    pInfo->estimatedCost = 1e12;
    pInfo->idxNum = 0;
    return SQLITE_OK;
  }
  pInfo->aConstraintUsage[iUri].argvIndex = 1;
  pInfo->aConstraintUsage[iUri].omit = 1;
  pInfo->idxNum = 1;
  if( iPrefix>=0 ){
    pInfo->aConstraintUsage[iPrefix].argvIndex = 2;
    pInfo->aConstraintUsage[iPrefix].omit = 1;
    pInfo->idxNum |= 2;
  }
  if( pInfo->nOrderBy==1 && pInfo->aOrderBy[0].iColumn==OBJLIST_COL_KEY && !pInfo->aOrderBy[0].desc ){
    pInfo->orderByConsumed = 1;
  }
  pInfo->estimatedCost = 1000;
  pInfo->estimatedRows = 1000;
  return SQLITE_OK;
}

static sqlite3_module objListModule = {
  0,                   /* iVersion */
  0,                   /* xCreate: 0 = eponymous-only */
  objListConnect,      /* xConnect */
  objListBestIndex,    /* xBestIndex */
  objListDisconnect,   /* xDisconnect */
  0,                   /* xDestroy */
  objListOpen,         /* xOpen */
  objListClose,        /* xClose */
  objListFilter,       /* xFilter */
  objListNext,         /* xNext */
  objListEof,          /* xEof */
  objListColumn,       /* xColumn */
  objListRowid,        /* xRowid */
  0, 0, 0, 0, 0, 0,    /* xUpdate, xBegin, xSync, xCommit, xRollback, xFindFunction */
  0,                   /* xRename */
  0, 0, 0,             /* xSavepoint, xRelease, xRollbackTo */
  0                    /* xShadowName */
};

int tsObjSqlRegister(sqlite3 *db, TsEnv *pEnv){
  int rc = SQLITE_OK;
  /* Not deterministic (the store changes), and not innocuous: they reach
  ** the network and the file system, so schemas and views cannot call them
  ** under trusted_schema=OFF. */
  const int f = SQLITE_UTF8 | SQLITE_DIRECTONLY;
  (void)pEnv;
  if( rc==SQLITE_OK ) rc = sqlite3_create_function(db, "ts_object_get", 1, f, 0, objGetFunc, 0, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_create_function(db, "ts_object_get", 2, f, 0, objGetFunc, 0, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_create_function(db, "ts_object_get", 3, f, 0, objGetFunc, 0, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_create_function(db, "ts_object_put", 2, f, 0, objPutFunc, 0, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_create_function(db, "ts_object_delete", 1, f, 0, objDeleteFunc, 0, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_create_module(db, "ts_object_list", &objListModule, 0);
  return rc;
}
