/*
** pq_vtab.c: the parquet virtual table: read any Parquet file from SQL.
**
**   CREATE VIRTUAL TABLE t USING parquet('file:///data/x.parquet');
**   CREATE VIRTUAL TABLE u USING parquet('s3://bucket/exports/y.parquet');
**   SELECT host, avg(v) FROM t WHERE time >= 1714521600000000000 GROUP BY host;
**
** How it works
** ------------
** xCreate/xConnect (the same: there are no shadow tables) open the object
** through s3/objstore.h (tsObjOpenParent), HEAD it for its size, and open
** the Parquet reader (ext/codec/parquet.h) over byte-range reads: the reader
** fetches the footer first and later only the column chunks and pages it
** needs, so an S3 object is never downloaded whole.  The declared columns
** come from the file's schema:
**
**   Parquet kind                 declared type   value delivered
**   INT64, INT32                 INTEGER         integer
**   DOUBLE, FLOAT                REAL            real
**   BOOLEAN                      BOOLEAN         0/1
**   STRING (UTF8)                TEXT            text
**   BYTE_ARRAY (no logical type) BLOB            blob
**   TIMESTAMP(NANOS|MICROS|MILLIS) TIMESTAMP     integer ns since the epoch
**   DATE                         DATE            text 'YYYY-MM-DD'
**   anything else (INT96, nested, decimal...) UNSUPPORTED  error when read
**
** so `SELECT * FROM t` round-trips what ts_unload(format 'parquet') wrote,
** and ts_unload of a parquet table keeps its types.
**
** Each scan (xFilter) re-checks the object's size and ETag and reopens the
** reader if the object was replaced (the schema must stay the same).  It
** then walks the row groups: constraints on columns become TsPqRange
** filters, row groups whose statistics exclude them are skipped, and inside
** a row group the page index narrows the rows to the pages that may match
** (tsPqReaderSelectRows).  Only the columns in colUsed are decoded, one row
** group at a time, so memory is bounded by one row group of the used
** columns.  Pruning is conservative: constraints are never "omitted", SQLite
** re-checks every row, so results are exact whatever the statistics say.
**
** rowid is the row's position in the file (0-based).  The table is
** read-only.
*/
#include "tslite.h"
#include "parquet.h"
#include "objstore.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Comparison operators pushed into idxStr (one letter each). */
#define PQ_OP_EQ 'e'
#define PQ_OP_LT 'l'
#define PQ_OP_LE 'L'
#define PQ_OP_GT 'g'
#define PQ_OP_GE 'G'

typedef struct PqVtab PqVtab;
struct PqVtab {
  sqlite3_vtab base;        /* base class: must be first */
  sqlite3 *db;
  char *zUri;               /* the object URI; sqlite3_malloc'd */
  TsObjStore *pStore;       /* store holding the object; owned */
  char *zKey;               /* object key in pStore; malloc'd (objstore) */
  sqlite3_int64 nSize;      /* object size at open, bytes */
  char *zEtag;              /* object ETag at open; sqlite3_malloc'd */
  TsPqReader *pReader;      /* reader over the object; owned */
  int nCol;                 /* columns */
  int *aKind;               /* nCol TS_PQ_* kinds, as declared */
  TsBuf rd;                 /* scratch for range reads */
  char *zReadErr;           /* last object-store error of a range read; malloc'd */
};

typedef struct PqCursor PqCursor;
struct PqCursor {
  sqlite3_vtab_cursor base; /* base class: must be first */
  int nRange;               /* filters of this scan */
  TsPqRange *aRange;        /* nRange filters; text bounds point into aVal */
  sqlite3_value **aVal;     /* copies of text bound values (owned) */
  int bEmpty;               /* a NULL constraint value: no rows */
  sqlite3_uint64 colUsed;   /* columns to decode (bit 63: 63 and above) */
  int iRg;                  /* current row group, -1 before the first */
  sqlite3_int64 iRgStart;   /* file row number of row 0 of iRg */
  TsPqRowSel sel;           /* selected rows of iRg */
  TsPqColumnData *aData;    /* nCol decoded columns of iRg (used ones) */
  sqlite3_int64 iPos;       /* position in the selection (0..sel.nRow) */
  int iInterval;            /* interval of sel holding iPos */
  sqlite3_int64 iIntervalPos; /* selection position where iInterval starts */
  int bEof;
};

/* ---------------------------------------------------------------- I/O */

static int pqRead(void *pCtx, int64_t iOff, int64_t n, void *pOut){
  PqVtab *p = (PqVtab*)pCtx;
  char *zErr = 0;
  int rc;
  tsBufReset(&p->rd);
  rc = tsObjGet(p->pStore, p->zKey, iOff, n, &p->rd, &zErr);
  if( rc==TS_OBJ_OK && (int64_t)p->rd.n!=n ){
    rc = TS_OBJ_ERROR;
    char zMsg[128];
    snprintf(zMsg, sizeof(zMsg), "short read: asked for %lld bytes, got %lld (object changed?)",
             (long long)n, (long long)p->rd.n);
    free(zErr);
    zErr = strdup(zMsg);
  }
  if( rc!=TS_OBJ_OK ){
    free(p->zReadErr);
    p->zReadErr = zErr;
    return 1;
  }
  free(zErr);
  memcpy(pOut, p->rd.a, (size_t)n);
  return 0;
}

static const char *kindDecl(int eKind){
  switch( eKind ){
    case TS_PQ_INT64: case TS_PQ_INT32: return "INTEGER";
    case TS_PQ_DOUBLE: case TS_PQ_FLOAT: return "REAL";
    case TS_PQ_BOOLEAN: return "BOOLEAN";
    case TS_PQ_STRING: return "TEXT";
    case TS_PQ_BYTES: return "BLOB";
    case TS_PQ_TIMESTAMP_NS: case TS_PQ_TIMESTAMP_US: case TS_PQ_TIMESTAMP_MS: return "TIMESTAMP";
    case TS_PQ_DATE: return "DATE";
    default: return "UNSUPPORTED";
  }
}

/* ns per unit of a timestamp kind (1 for non-timestamps). */
static sqlite3_int64 kindScale(int eKind){
  if( eKind==TS_PQ_TIMESTAMP_US ) return 1000;
  if( eKind==TS_PQ_TIMESTAMP_MS ) return 1000000;
  return 1;
}

/* Message for a failed reader call (reader's own, else the store's). */
static char *readerErr(PqVtab *p, TsPqReader *pR, const char *zWhat){
  const char *zMsg = pR ? tsPqReaderErrmsg(pR) : "";
  if( strncmp(zMsg, "parquet: ", 9)==0 ) zMsg += 9;   /* no "parquet: ... parquet: " */
  if( p->zReadErr ){
    return sqlite3_mprintf("parquet: %s %s: %s%s%s", zWhat, p->zUri, p->zReadErr,
                           zMsg[0] ? ": " : "", zMsg);
  }
  return sqlite3_mprintf("parquet: %s %s: %s", zWhat, p->zUri, zMsg[0] ? zMsg : "unknown error");
}

/* Map a parquet result code to an SQLite one. */
static int pqRc(int rc){
  if( rc==TS_PQ_CORRUPT ) return SQLITE_CORRUPT_VTAB;
  if( rc==TS_PQ_NOMEM ) return SQLITE_NOMEM;
  return SQLITE_ERROR;
}

/* (Re)open the reader: HEAD the object, open the footer.  On success *ppR
** is the new reader and *pnSize / *pzEtag (sqlite3_malloc'd) the object's
** size and ETag it was opened at; the vtab's own cached size and ETag are
** not touched, so a caller that rejects the new reader keeps the old state
** intact.  *pzErr gets a message. */
static int pqOpenReader(PqVtab *p, TsPqReader **ppR, sqlite3_int64 *pnSize,
                        char **pzEtag, char **pzErr){
  TsObjInfo info;
  char *zObjErr = 0;
  char *zOpenErr = 0;
  char *zEtag;
  int rc;
  *ppR = 0;
  *pzEtag = 0;
  rc = tsObjHead(p->pStore, p->zKey, &info, &zObjErr);
  if( rc!=TS_OBJ_OK ){
    *pzErr = sqlite3_mprintf("parquet: cannot open %s: %s", p->zUri,
                             rc==TS_OBJ_NOTFOUND ? "no such object" : (zObjErr ? zObjErr : "error"));
    free(zObjErr);
    return SQLITE_ERROR;
  }
  free(zObjErr);
  zEtag = sqlite3_mprintf("%s", info.zEtag ? info.zEtag : "");
  if( zEtag==0 ) return SQLITE_NOMEM;
  free(p->zReadErr);
  p->zReadErr = 0;
  rc = tsPqReaderOpen(ppR, pqRead, p, info.nSize, &zOpenErr);
  if( rc!=TS_PQ_OK ){
    if( p->zReadErr ){
      *pzErr = sqlite3_mprintf("parquet: reading %s failed: %s", p->zUri, p->zReadErr);
    }else{
      *pzErr = sqlite3_mprintf("parquet: %s is not a readable Parquet file: %s", p->zUri,
                               zOpenErr ? zOpenErr : "unknown error");
    }
    free(zOpenErr);
    sqlite3_free(zEtag);
    return pqRc(rc);
  }
  *pnSize = info.nSize;
  *pzEtag = zEtag;
  return SQLITE_OK;
}

static void pqVtabFree(PqVtab *p){
  if( p==0 ) return;
  if( p->pReader ) tsPqReaderFree(p->pReader);
  tsObjClose(p->pStore);
  free(p->zKey);
  free(p->zReadErr);
  sqlite3_free(p->zEtag);
  sqlite3_free(p->zUri);
  sqlite3_free(p->aKind);
  tsBufFree(&p->rd);
  sqlite3_free(p);
}

/* ---------------------------------------------------------------- methods */

/*
** xConnect (and xCreate): argv[3] is the URI, optionally quoted.
*/
static int pqConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                     sqlite3_vtab **ppVtab, char **pzErr){
  PqVtab *p = 0;
  TsObjConfig cfg;
  char *zObjErr = 0;
  TsBuf decl;
  int rc = SQLITE_OK, i;
  *ppVtab = 0;
  if( argc!=4 ){
    *pzErr = sqlite3_mprintf("parquet: expected one argument, the file URI: "
                             "USING parquet('file:///dir/x.parquet' | 's3://bucket/key.parquet')");
    return SQLITE_ERROR;
  }
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  tsBufInit(&p->rd);
  p->db = db;
  {
    const char *z = argv[3];
    size_t n = strlen(z);
    if( n>=2 && (z[0]=='\'' || z[0]=='"') && z[n-1]==z[0] ){ z++; n -= 2; }
    p->zUri = sqlite3_mprintf("%.*s", (int)n, z);
    if( p->zUri==0 ){ rc = SQLITE_NOMEM; goto fail; }
  }
  memset(&cfg, 0, sizeof(cfg));
  if( tsObjOpenParent(p->zUri, &cfg, &p->pStore, &p->zKey, &zObjErr)!=TS_OBJ_OK ){
    *pzErr = sqlite3_mprintf("parquet: cannot open %s: %s", p->zUri, zObjErr ? zObjErr : "error");
    free(zObjErr);
    rc = SQLITE_ERROR;
    goto fail;
  }
  rc = pqOpenReader(p, &p->pReader, &p->nSize, &p->zEtag, pzErr);
  if( rc ) goto fail;
  p->nCol = tsPqReaderColumnCount(p->pReader);
  if( p->nCol<=0 ){
    *pzErr = sqlite3_mprintf("parquet: %s has no columns", p->zUri);
    rc = SQLITE_ERROR;
    goto fail;
  }
  p->aKind = sqlite3_malloc64(sizeof(int)*(size_t)p->nCol);
  if( p->aKind==0 ){ rc = SQLITE_NOMEM; goto fail; }
  tsBufInit(&decl);
  tsBufAppendStr(&decl, "CREATE TABLE x(");
  for(i=0; i<p->nCol; i++){
    const TsPqColumnInfo *pInfo = tsPqReaderColumn(p->pReader, i);
    char *zCol;
    p->aKind[i] = pInfo->eType;
    zCol = sqlite3_mprintf("%s\"%w\" %s", i ? ", " : "", pInfo->zName, kindDecl(pInfo->eType));
    if( zCol==0 ){ tsBufFree(&decl); rc = SQLITE_NOMEM; goto fail; }
    tsBufAppendStr(&decl, zCol);
    sqlite3_free(zCol);
  }
  tsBufAppendStr(&decl, ")");
  tsBufAppendByte(&decl, 0);
  if( decl.bErr ){ tsBufFree(&decl); rc = SQLITE_NOMEM; goto fail; }
  rc = sqlite3_declare_vtab(db, (const char*)decl.a);
  if( rc!=SQLITE_OK ){
    *pzErr = sqlite3_mprintf("parquet: cannot declare the columns of %s: %s (duplicate column names?)",
                             p->zUri, sqlite3_errmsg(db));
  }
  tsBufFree(&decl);
  if( rc ) goto fail;
  /* It reaches external storage: never on behalf of a trigger/view's
  ** owner.  Reads only, so no further restriction. */
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  *ppVtab = &p->base;
  return SQLITE_OK;
fail:
  pqVtabFree(p);
  return rc;
}

static int pqDisconnect(sqlite3_vtab *pVtab){
  pqVtabFree((PqVtab*)pVtab);
  return SQLITE_OK;
}

/*
** xBestIndex.  Usable constraints (=, <, <=, >, >=) on columns whose kind
** has an order are passed to xFilter for pruning, never omitted.
**   idxNum  = number of constraints passed
**   idxStr  = colUsed in hex, ':', then for each constraint the operator
**             letter (PQ_OP_*), the column number in decimal and ',';
**             argv[k] is the value of the k-th constraint.
** Estimated rows: the file's rows, /10 per equality and /3 per range
** constraint (at least 1); cost: rows times the number of used columns,
** plus the footer read.
*/
static int pqBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  PqVtab *p = (PqVtab*)pVtab;
  TsBuf idx;
  int i, nArg = 0, nUsedCol = 0;
  double nRow = (double)tsPqReaderRowCount(p->pReader);
  tsBufInit(&idx);
  tsBufPrintf(&idx, "%llx:", (unsigned long long)pInfo->colUsed);
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *pC = &pInfo->aConstraint[i];
    char cOp = 0;
    int eKind;
    if( !pC->usable || pC->iColumn<0 ) continue;
    eKind = p->aKind[pC->iColumn];
    if( eKind==TS_PQ_UNSUPPORTED || eKind==TS_PQ_DATE ) continue;
    /* Statistics order strings bytewise: a constraint under another
    ** collation (NOCASE, RTRIM, ...) could match rows outside [min,max]. */
    if( (eKind==TS_PQ_STRING || eKind==TS_PQ_BYTES)
     && sqlite3_stricmp(sqlite3_vtab_collation(pInfo, i), "BINARY")!=0 ) continue;
    switch( pC->op ){
      case SQLITE_INDEX_CONSTRAINT_EQ: cOp = PQ_OP_EQ; break;
      case SQLITE_INDEX_CONSTRAINT_LT: cOp = PQ_OP_LT; break;
      case SQLITE_INDEX_CONSTRAINT_LE: cOp = PQ_OP_LE; break;
      case SQLITE_INDEX_CONSTRAINT_GT: cOp = PQ_OP_GT; break;
      case SQLITE_INDEX_CONSTRAINT_GE: cOp = PQ_OP_GE; break;
      default: break;
    }
    if( cOp==0 ) continue;
    pInfo->aConstraintUsage[i].argvIndex = ++nArg;
    pInfo->aConstraintUsage[i].omit = 0;
    tsBufPrintf(&idx, "%c%d,", cOp, pC->iColumn);
    nRow /= (cOp==PQ_OP_EQ ? 10.0 : 3.0);
  }
  if( nRow<1.0 ) nRow = 1.0;
  for(i=0; i<p->nCol && i<64; i++){
    if( pInfo->colUsed & ((sqlite3_uint64)1<<(i<63 ? i : 63)) ) nUsedCol++;
  }
  if( nUsedCol==0 ) nUsedCol = 1;
  tsBufAppendByte(&idx, 0);
  if( idx.bErr ){ tsBufFree(&idx); return SQLITE_NOMEM; }
  pInfo->idxNum = nArg;
  pInfo->idxStr = sqlite3_mprintf("%s", (const char*)idx.a);
  pInfo->needToFreeIdxStr = 1;
  tsBufFree(&idx);
  if( pInfo->idxStr==0 ) return SQLITE_NOMEM;
  pInfo->estimatedRows = (sqlite3_int64)nRow;
  pInfo->estimatedCost = 100.0 + nRow*(double)nUsedCol;
  return SQLITE_OK;
}

static int pqOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  PqCursor *pCur = sqlite3_malloc64(sizeof(*pCur));
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  pCur->bEof = 1;
  *ppCur = &pCur->base;
  return SQLITE_OK;
}

static void pqCursorReset(PqCursor *pCur, int nCol){
  int i;
  if( pCur->aData ){
    for(i=0; i<nCol; i++) tsPqColumnDataFree(&pCur->aData[i]);
  }
  tsPqRowSelFree(&pCur->sel);
  if( pCur->aVal ){
    for(i=0; i<pCur->nRange; i++) sqlite3_value_free(pCur->aVal[i]);
  }
  sqlite3_free(pCur->aVal);
  sqlite3_free(pCur->aRange);
  pCur->aVal = 0;
  pCur->aRange = 0;
  pCur->nRange = 0;
}

static int pqClose(sqlite3_vtab_cursor *cur){
  PqCursor *pCur = (PqCursor*)cur;
  PqVtab *p = (PqVtab*)cur->pVtab;
  pqCursorReset(pCur, p->nCol);
  sqlite3_free(pCur->aData);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

static int colIsUsed(PqCursor *pCur, int iCol){
  return (pCur->colUsed & ((sqlite3_uint64)1<<(iCol<63 ? iCol : 63)))!=0;
}

/* Load the next row group that may hold matching rows (from iRg+1). */
static int pqNextRowGroup(PqCursor *pCur){
  PqVtab *p = (PqVtab*)pCur->base.pVtab;
  int nRg = tsPqReaderRowGroupCount(p->pReader);
  int i, rc;
  for(;;){
    if( pCur->iRg>=0 ) pCur->iRgStart += tsPqReaderRowGroupRows(p->pReader, pCur->iRg);
    pCur->iRg++;
    for(i=0; i<p->nCol; i++) tsPqColumnDataFree(&pCur->aData[i]);
    tsPqRowSelFree(&pCur->sel);
    if( pCur->iRg>=nRg ){ pCur->bEof = 1; return SQLITE_OK; }
    if( !tsPqReaderRowGroupMayMatch(p->pReader, pCur->iRg, pCur->aRange, pCur->nRange) ) continue;
    rc = tsPqReaderSelectRows(p->pReader, pCur->iRg, pCur->aRange, pCur->nRange, &pCur->sel);
    if( rc!=TS_PQ_OK ){
      sqlite3_free(p->base.zErrMsg);
      p->base.zErrMsg = readerErr(p, p->pReader, "reading the page index of");
      return pqRc(rc);
    }
    if( pCur->sel.nRow==0 ) continue;
    for(i=0; i<p->nCol; i++){
      if( !colIsUsed(pCur, i) ) continue;
      if( p->aKind[i]==TS_PQ_UNSUPPORTED ){
        const TsPqColumnInfo *pInfo = tsPqReaderColumn(p->pReader, i);
        tsVtabErr(&p->base, "parquet: column '%s' of %s has a Parquet type tslite cannot read "
                  "(physical type %d; nested, INT96, decimal and fixed-length columns are not supported)",
                  pInfo->zName, p->zUri, pInfo->ePhysical);
        return SQLITE_ERROR;
      }
      rc = tsPqReaderReadColumn(p->pReader, pCur->iRg, i, &pCur->sel, &pCur->aData[i]);
      if( rc!=TS_PQ_OK ){
        sqlite3_free(p->base.zErrMsg);
        p->base.zErrMsg = readerErr(p, p->pReader, "reading");
        return pqRc(rc);
      }
      if( pCur->aData[i].nRow!=pCur->sel.nRow ){
        tsVtabErr(&p->base, "parquet: %s: column %d of row group %d has %lld values, expected %lld",
                  p->zUri, i, pCur->iRg, (long long)pCur->aData[i].nRow, (long long)pCur->sel.nRow);
        return SQLITE_CORRUPT_VTAB;
      }
    }
    pCur->iPos = 0;
    pCur->iInterval = 0;
    pCur->iIntervalPos = 0;
    return SQLITE_OK;
  }
}

/* Turn constraint value v on column iCol with operator cOp into a range
** bound on pR.  Returns 0 if the value cannot prune (left unbounded), 1 if
** it was applied, -1 if it makes the scan empty (NULL). */
static int pqBound(PqVtab *p, PqCursor *pCur, int k, char cOp, int iCol, sqlite3_value *v){
  TsPqRange *pR = &pCur->aRange[k];
  int eKind = p->aKind[iCol];
  int eVal = sqlite3_value_type(v);
  int bMin = (cOp==PQ_OP_EQ || cOp==PQ_OP_GT || cOp==PQ_OP_GE);
  int bMax = (cOp==PQ_OP_EQ || cOp==PQ_OP_LT || cOp==PQ_OP_LE);
  TsPqValue val;
  memset(&val, 0, sizeof(val));
  pR->iCol = iCol;
  if( eVal==SQLITE_NULL ) return -1;
  switch( eKind ){
    case TS_PQ_INT64: case TS_PQ_INT32: case TS_PQ_BOOLEAN:
    case TS_PQ_TIMESTAMP_NS: case TS_PQ_TIMESTAMP_US: case TS_PQ_TIMESTAMP_MS: {
      sqlite3_int64 x, s = kindScale(eKind);
      if( eVal!=SQLITE_INTEGER ) return 0;
      x = sqlite3_value_int64(v);
      /* Stored value w stands for w*s ns.  Exact integer bounds:
      **   w*s <  x  <=>  w <= ceil(x/s)-1      w*s <= x  <=>  w <= floor(x/s)
      **   w*s >  x  <=>  w >= floor(x/s)+1     w*s >= x  <=>  w >= ceil(x/s)
      **   w*s == x  <=>  w == x/s (only when s divides x). */
      {
        sqlite3_int64 fl = tsFloorDiv(x, s);
        sqlite3_int64 ce = fl + (fl*s!=x);
        switch( cOp ){
          case PQ_OP_EQ: if( fl!=ce ) return -1; val.i = fl; break;
          case PQ_OP_LT: if( ce==INT64_MIN ) return -1; val.i = ce-1; break;
          case PQ_OP_LE: val.i = fl; break;
          case PQ_OP_GT: if( fl==INT64_MAX ) return -1; val.i = fl+1; break;
          default:       val.i = ce; break;
        }
      }
      break;
    }
    case TS_PQ_DOUBLE: case TS_PQ_FLOAT:
      if( eVal==SQLITE_FLOAT ) val.r = sqlite3_value_double(v);
      else if( eVal==SQLITE_INTEGER ){
        sqlite3_int64 x = sqlite3_value_int64(v);
        if( x>(1LL<<53) || x<-(1LL<<53) ) return 0;   /* not exact as a double */
        val.r = (double)x;
      }else return 0;
      if( eKind==TS_PQ_FLOAT ) return 0;   /* float rounding: do not prune */
      break;
    case TS_PQ_STRING: case TS_PQ_BYTES: {
      sqlite3_value *pCopy;
      if( eVal!=(eKind==TS_PQ_STRING ? SQLITE_TEXT : SQLITE_BLOB) ) return 0;
      pCopy = sqlite3_value_dup(v);
      if( pCopy==0 ) return 0;
      pCur->aVal[k] = pCopy;
      if( eKind==TS_PQ_STRING ) val.z = (const char*)sqlite3_value_text(pCopy);
      else val.z = (const char*)sqlite3_value_blob(pCopy);
      val.n = sqlite3_value_bytes(pCopy);
      if( val.z==0 ) val.z = "";
      break;
    }
    default:
      return 0;
  }
  if( bMin ){ pR->bMin = 1; pR->min = val; }
  if( bMax ){ pR->bMax = 1; pR->max = val; }
  pR->bNotNull = 1;
  return 1;
}

static int pqFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr,
                    int argc, sqlite3_value **argv){
  PqCursor *pCur = (PqCursor*)cur;
  PqVtab *p = (PqVtab*)cur->pVtab;
  const char *z = idxStr ? idxStr : "";
  int k, rc;
  pqCursorReset(pCur, p->nCol);
  pCur->bEof = 1;
  pCur->bEmpty = 0;
  pCur->iRg = -1;
  pCur->iRgStart = 0;

  /* Reopen if the object was replaced since the footer was read. */
  {
    TsObjInfo info;
    char *zObjErr = 0;
    int orc = tsObjHead(p->pStore, p->zKey, &info, &zObjErr);
    if( orc!=TS_OBJ_OK ){
      tsVtabErr(&p->base, "parquet: cannot open %s: %s", p->zUri,
                orc==TS_OBJ_NOTFOUND ? "no such object" : (zObjErr ? zObjErr : "error"));
      free(zObjErr);
      return SQLITE_ERROR;
    }
    free(zObjErr);
    if( info.nSize!=p->nSize || strcmp(info.zEtag ? info.zEtag : "", p->zEtag ? p->zEtag : "") ){
      TsPqReader *pNew = 0;
      char *zErr = 0, *zNewEtag = 0;
      sqlite3_int64 nNewSize = 0;
      int i, bSame;
      rc = pqOpenReader(p, &pNew, &nNewSize, &zNewEtag, &zErr);
      if( rc ){
        sqlite3_free(p->base.zErrMsg);
        p->base.zErrMsg = zErr;
        return rc;
      }
      bSame = tsPqReaderColumnCount(pNew)==p->nCol;
      for(i=0; bSame && i<p->nCol; i++){
        const TsPqColumnInfo *a = tsPqReaderColumn(pNew, i);
        const TsPqColumnInfo *b = tsPqReaderColumn(p->pReader, i);
        if( a->eType!=b->eType || strcmp(a->zName, b->zName) ) bSame = 0;
      }
      if( !bSame ){
        /* A plain error, not SQLITE_SCHEMA (SQLite would re-prepare and retry
        ** silently); the cached size/ETag stay those of the old reader, so
        ** every later scan reports the same thing. */
        tsPqReaderFree(pNew);
        sqlite3_free(zNewEtag);
        tsVtabErr(&p->base, "parquet: %s was replaced by a file with different columns; "
                  "drop and re-create the table", p->zUri);
        return SQLITE_ERROR;
      }
      /* The reader, size and ETag change together. */
      tsPqReaderFree(p->pReader);
      p->pReader = pNew;
      p->nSize = nNewSize;
      sqlite3_free(p->zEtag);
      p->zEtag = zNewEtag;
    }
  }

  if( pCur->aData==0 ){
    pCur->aData = sqlite3_malloc64(sizeof(TsPqColumnData)*(size_t)p->nCol);
    if( pCur->aData==0 ) return SQLITE_NOMEM;
    memset(pCur->aData, 0, sizeof(TsPqColumnData)*(size_t)p->nCol);
  }
  if( idxNum>0 ){
    pCur->aRange = sqlite3_malloc64(sizeof(TsPqRange)*(size_t)idxNum);
    pCur->aVal = sqlite3_malloc64(sizeof(sqlite3_value*)*(size_t)idxNum);
    if( pCur->aRange==0 || pCur->aVal==0 ) return SQLITE_NOMEM;
    memset(pCur->aRange, 0, sizeof(TsPqRange)*(size_t)idxNum);
    memset(pCur->aVal, 0, sizeof(sqlite3_value*)*(size_t)idxNum);
  }
  pCur->colUsed = 0;
  while( *z && *z!=':' ){
    int h = (*z>='0' && *z<='9') ? *z-'0' : (*z>='a' && *z<='f') ? *z-'a'+10 : 0;
    pCur->colUsed = (pCur->colUsed<<4) | (sqlite3_uint64)h;
    z++;
  }
  if( *z==':' ) z++;
  for(k=0; k<idxNum && k<argc; k++){
    char cOp = *z;
    int iCol = 0, r;
    if( cOp==0 ) break;
    z++;
    while( *z>='0' && *z<='9' ){ iCol = iCol*10 + (*z-'0'); z++; }
    if( *z==',' ) z++;
    if( iCol>=p->nCol ) break;
    r = pqBound(p, pCur, pCur->nRange, cOp, iCol, argv[k]);
    if( r<0 ){ pCur->bEmpty = 1; pCur->nRange++; break; }
    if( r>0 ) pCur->nRange++;
    else if( pCur->aVal[pCur->nRange] ){
      sqlite3_value_free(pCur->aVal[pCur->nRange]);
      pCur->aVal[pCur->nRange] = 0;
    }
  }
  if( pCur->bEmpty ) return SQLITE_OK;
  pCur->bEof = 0;
  rc = pqNextRowGroup(pCur);
  return rc;
}

static int pqNext(sqlite3_vtab_cursor *cur){
  PqCursor *pCur = (PqCursor*)cur;
  pCur->iPos++;
  if( pCur->iPos>=pCur->sel.nRow ) return pqNextRowGroup(pCur);
  /* Advance the interval cursor used by xRowid. */
  while( pCur->iInterval<pCur->sel.nRange ){
    sqlite3_int64 nLen = pCur->sel.aRange[2*pCur->iInterval+1] - pCur->sel.aRange[2*pCur->iInterval];
    if( pCur->iPos < pCur->iIntervalPos + nLen ) break;
    pCur->iIntervalPos += nLen;
    pCur->iInterval++;
  }
  return SQLITE_OK;
}

static int pqEof(sqlite3_vtab_cursor *cur){
  return ((PqCursor*)cur)->bEof;
}

static int pqColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int iCol){
  PqCursor *pCur = (PqCursor*)cur;
  PqVtab *p = (PqVtab*)cur->pVtab;
  const TsPqColumnData *d;
  sqlite3_int64 i = pCur->iPos;
  if( iCol<0 || iCol>=p->nCol ) return SQLITE_OK;
  d = &pCur->aData[iCol];
  if( i>=d->nRow || (d->aNull && d->aNull[i]) ) return SQLITE_OK;   /* NULL */
  switch( p->aKind[iCol] ){
    case TS_PQ_INT64: case TS_PQ_INT32: case TS_PQ_BOOLEAN: case TS_PQ_TIMESTAMP_NS:
      sqlite3_result_int64(ctx, d->aInt[i]);
      break;
    case TS_PQ_TIMESTAMP_US: case TS_PQ_TIMESTAMP_MS: {
      sqlite3_int64 s = kindScale(p->aKind[iCol]), v = d->aInt[i];
      if( v>INT64_MAX/s || v<INT64_MIN/s ){
        tsVtabErr(&p->base, "parquet: %s: timestamp %lld in column %d does not fit in nanoseconds",
                  p->zUri, (long long)v, iCol);
        return SQLITE_ERROR;
      }
      sqlite3_result_int64(ctx, v*s);
      break;
    }
    case TS_PQ_DATE: {
      int64_t y; unsigned m, dd;
      char zBuf[32];
      tsCivilFromDays(d->aInt[i], &y, &m, &dd);
      snprintf(zBuf, sizeof(zBuf), "%04lld-%02u-%02u", (long long)y, m, dd);
      sqlite3_result_text(ctx, zBuf, -1, SQLITE_TRANSIENT);
      break;
    }
    case TS_PQ_DOUBLE: case TS_PQ_FLOAT:
      sqlite3_result_double(ctx, d->aDbl[i]);
      break;
    case TS_PQ_STRING:
      sqlite3_result_text64(ctx, (const char*)d->aData + d->aOff[i],
                            (sqlite3_uint64)(d->aOff[i+1]-d->aOff[i]), SQLITE_TRANSIENT, SQLITE_UTF8);
      break;
    case TS_PQ_BYTES:
      sqlite3_result_blob64(ctx, d->aData + d->aOff[i],
                            (sqlite3_uint64)(d->aOff[i+1]-d->aOff[i]), SQLITE_TRANSIENT);
      break;
    default:
      break;
  }
  return SQLITE_OK;
}

static int pqRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid){
  PqCursor *pCur = (PqCursor*)cur;
  sqlite3_int64 iRow = pCur->iPos;
  if( pCur->sel.nRange>0 && pCur->iInterval<pCur->sel.nRange ){
    iRow = pCur->sel.aRange[2*pCur->iInterval] + (pCur->iPos - pCur->iIntervalPos);
  }
  *pRowid = pCur->iRgStart + iRow;
  return SQLITE_OK;
}

static sqlite3_module pqModule = {
  0,               /* iVersion */
  pqConnect,       /* xCreate: same as xConnect (no shadow tables) */
  pqConnect,       /* xConnect */
  pqBestIndex,     /* xBestIndex */
  pqDisconnect,    /* xDisconnect */
  pqDisconnect,    /* xDestroy: nothing stored besides the schema */
  pqOpen,          /* xOpen */
  pqClose,         /* xClose */
  pqFilter,        /* xFilter */
  pqNext,          /* xNext */
  pqEof,           /* xEof */
  pqColumn,        /* xColumn */
  pqRowid,         /* xRowid */
  0,               /* xUpdate: read-only */
  0,               /* xBegin */
  0,               /* xSync */
  0,               /* xCommit */
  0,               /* xRollback */
  0,               /* xFindFunction */
  0,               /* xRename */
  0, 0, 0, 0       /* xSavepoint, xRelease, xRollbackTo, xShadowName */
};

int tsPqVtabRegister(sqlite3 *db, TsEnv *pEnv){
  (void)pEnv;
  return sqlite3_create_module_v2(db, "parquet", &pqModule, 0, 0);
}
