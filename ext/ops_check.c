/*
** ops_check.c: ts_check(table) and ts_stats(table), the integrity check and
** the size report of a timeseries table.
**
**   SELECT ts_check('cpu');      -- 'ok' or one line per problem (max 20)
**   SELECT ts_stats('main.cpu'); -- JSON: series, memory tier, magnetic tier
**
** Both open the table through its handle (table.h): they share the
** connection's pending rows and flush them first (tsTableFlush), take the
** schema from the handle (never from CREATE text), and read the shadow
** tables with their own statements ("%w"."%w_chunks" identifiers, bound
** values).  The counters stored in the shadow tables (nrow, nbyte) are
** treated as untrusted: they are added with overflow checks, and a value out
** of range is reported as damage (ts_check) or SQLITE_CORRUPT (ts_stats),
** never wrapped.  JSON goes through common/jsonw.h.
**
** The cold tier (docs/internals/cold-format.md): ts_check verifies every
** manifest row on its own (counts, time range inside the key's date folder,
** partition key inside the key's bucket, the footer it caches) and against
** the store: one LIST per key prefix for existence, size and ETag (the
** manifest's etag column: any other ETag is a replaced object, whatever its
** size and bytes), then one ranged GET of each object's tail, compared with
** the manifest's footer bytes (a replaced object of the same size, for rows
** without an ETag).  ts_stats reads the cached footers (no
** store access) to count the cold tier's values.
*/
#include "tslite.h"
#include "table.h"
#include "cold_cache.h"
#include "chunk.h"
#include "jsonw.h"
#include "civil.h"
#include "objstore.h"
#include "parquet.h"
#include "coldscan.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Append a problem to the report, at most 20 of them. */
static void report(TsBuf *pRep, int *pnErr, const char *zFmt, ...){
  va_list ap;
  char *z;
  if( ++(*pnErr)>20 ) return;
  va_start(ap, zFmt);
  z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if( pRep->n ) tsBufAppendByte(pRep, '\n');
  tsBufAppendStr(pRep, z ? z : "(out of memory)");
  sqlite3_free(z);
}

static int statDiffers(double a, double b){
  double d = fabs(a-b), m = fabs(a)>fabs(b) ? fabs(a) : fabs(b);
  return d > 1e-9*m + 1e-12;
}

/* Verify one chunk blob against its row and the schema. */
static void checkChunk(const TsTableSchema *pS, sqlite3_int64 iChunk, const unsigned char *a, int n,
                       sqlite3_int64 tmin, sqlite3_int64 tmax, sqlite3_int64 nrow,
                       TsBuf *pRep, int *pnErr, sqlite3_int64 *pnValue){
  TsChunkReader *pR = 0;
  TsChunkInfo info;
  TsChunkStat *aStat = 0;
  const int64_t *aT = 0, *aV = 0;
  char zWhy[200];
  int i, j;
  zWhy[0] = 0;
  if( tsChunkVerify(a, (size_t)n, zWhy, sizeof(zWhy))!=TS_CHUNK_OK ){
    report(pRep, pnErr, "chunk %lld: %s", iChunk, zWhy[0] ? zWhy : "corrupt");
    return;
  }
  if( tsChunkInfoGet(a, (size_t)n, &info, 0, 0)!=TS_CHUNK_OK
   || tsChunkReaderOpen(a, (size_t)n, &pR)!=TS_CHUNK_OK ){
    report(pRep, pnErr, "chunk %lld: unreadable header", iChunk);
    return;
  }
  if( info.nRow!=nrow || info.tMin!=tmin || info.tMax!=tmax ){
    report(pRep, pnErr, "chunk %lld: header (rows %d, time %lld..%lld) does not match its row "
           "(rows %lld, time %lld..%lld)", iChunk, info.nRow, (long long)info.tMin,
           (long long)info.tMax, nrow, tmin, tmax);
  }
  if( info.nCol!=pS->nMeas ){
    report(pRep, pnErr, "chunk %lld: %d columns, the table has %d measures", iChunk,
           info.nCol, pS->nMeas);
    goto out;
  }
  if( tsChunkReadTime(pR, &aT)!=TS_CHUNK_OK || tsChunkReadVersion(pR, &aV)!=TS_CHUNK_OK ){
    report(pRep, pnErr, "chunk %lld: time or version column does not decode", iChunk);
    goto out;
  }
  for(i=0; i<info.nRow; i++){
    if( i>0 && aT[i]<=aT[i-1] ){
      report(pRep, pnErr, "chunk %lld: times not strictly increasing at row %d", iChunk, i);
      break;
    }
    if( aV[i]<1 ){
      report(pRep, pnErr, "chunk %lld: version %lld < 1 at row %d", iChunk, (long long)aV[i], i);
      break;
    }
  }
  if( aT[0]!=info.tMin || aT[info.nRow-1]!=info.tMax ){
    report(pRep, pnErr, "chunk %lld: header time range does not match its times", iChunk);
  }
  aStat = sqlite3_malloc64(sizeof(TsChunkStat)*(size_t)(pS->nMeas+1));
  if( aStat==0 || tsChunkInfoGet(a, (size_t)n, &info, aStat, pS->nMeas)!=TS_CHUNK_OK ) goto out;
  for(j=0; j<pS->nMeas; j++){
    TsChunkCol c;
    TsChunkStat st;
    int bNonNullRow = 0;
    memset(&st, 0, sizeof(st));
    if( tsChunkReadCol(pR, j, &c)!=TS_CHUNK_OK ){
      report(pRep, pnErr, "chunk %lld: column %s does not decode", iChunk, pS->azMeas[j]);
      continue;
    }
    if( c.eType!=pS->aMeasType[j] ){
      report(pRep, pnErr, "chunk %lld: column %s has type %s, expected %s", iChunk,
             pS->azMeas[j], tsChunkTypeName(c.eType), tsChunkTypeName(pS->aMeasType[j]));
      continue;
    }
    for(i=0; i<info.nRow; i++){
      if( c.aNull && c.aNull[i] ) continue;
      bNonNullRow = 1;
      if( c.eType==TS_TYPE_DOUBLE ){
        double r = c.aDouble[i];
        if( !isfinite(r) ) report(pRep, pnErr, "chunk %lld: column %s row %d is not finite",
                                  iChunk, pS->azMeas[j], i);
        if( st.nValue==0 || r<st.rMin ) st.rMin = r;
        if( st.nValue==0 || r>st.rMax ) st.rMax = r;
        st.rSum += r;
      }else if( c.eType!=TS_TYPE_VARCHAR ){
        int64_t v = c.aInt[i];
        if( st.nValue==0 || v<st.iMin ) st.iMin = v;
        if( st.nValue==0 || v>st.iMax ) st.iMax = v;
        st.rSum += (double)v;
      }
      st.nValue++;
    }
    (void)bNonNullRow;
    *pnValue += st.nValue;
    if( st.nValue!=aStat[j].nValue ){
      report(pRep, pnErr, "chunk %lld: column %s: header counts %lld values, the data has %lld",
             iChunk, pS->azMeas[j], (long long)aStat[j].nValue, (long long)st.nValue);
    }else if( st.nValue>0 && c.eType==TS_TYPE_DOUBLE
           && (st.rMin!=aStat[j].rMin || st.rMax!=aStat[j].rMax
               || statDiffers(st.rSum, aStat[j].rSum)) ){
      report(pRep, pnErr, "chunk %lld: column %s: header min/max/sum do not match the data",
             iChunk, pS->azMeas[j]);
    }else if( st.nValue>0 && c.eType!=TS_TYPE_DOUBLE && c.eType!=TS_TYPE_VARCHAR
           && (st.iMin!=aStat[j].iMin || st.iMax!=aStat[j].iMax
               || statDiffers(st.rSum, aStat[j].rSum)) ){
      report(pRep, pnErr, "chunk %lld: column %s: header min/max/sum do not match the data",
             iChunk, pS->azMeas[j]);
    }
  }
  /* every row has at least one non-NULL measure */
  for(i=0; i<info.nRow; i++){
    int bAny = 0;
    for(j=0; j<pS->nMeas && !bAny; j++){
      TsChunkCol c;
      if( tsChunkReadCol(pR, j, &c)!=TS_CHUNK_OK ) break;
      if( !(c.aNull && c.aNull[i]) ) bAny = 1;
    }
    if( !bAny ){
      report(pRep, pnErr, "chunk %lld: row %d has no non-NULL measure", iChunk, i);
      break;
    }
    if( pS->nMeas>8 ) break;   /* decoding every column per row is costly */
  }
out:
  sqlite3_free(aStat);
  tsChunkReaderFree(pR);
}

/* TsPqReadFn of a reader opened only on a manifest footer: never reads. */
static int noRead(void *pCtx, int64_t iOff, int64_t n, void *pOut){
  (void)pCtx; (void)iOff; (void)n; (void)pOut;
  return 1;
}

/* Parse "<t>/date=YYYY-MM-DD/bucket=<b>/<16 hex>-<16 hex>.parquet": the day
** number and bucket, 0 on success. */
static int keyParse(const char *z, int64_t *piDay, int *piBucket){
  const char *q = strstr(z, "/date=");
  unsigned y, m, d;
  int i, n = 0;
  if( q==0 || q==z ) return 1;
  q += 6;
  if( sscanf(q, "%4u-%2u-%2u%n", &y, &m, &d, &n)!=3 || n!=10 || m<1 || m>12 || d<1 || d>31 ) return 1;
  q += 10;
  if( strncmp(q, "/bucket=", 8)!=0 || q[8]<'0' || q[8]>'7' || q[9]!='/' ) return 1;
  *piBucket = q[8]-'0';
  q += 10;
  for(i=0; i<33; i++){
    if( i==16 ){ if( q[i]!='-' ) return 1; }
    else if( !((q[i]>='0' && q[i]<='9') || (q[i]>='a' && q[i]<='f')) ) return 1;
  }
  if( strcmp(q+33, ".parquet")!=0 ) return 1;
  *piDay = tsDaysFromCivil(y, m, d);
  return 0;
}

/* One manifest object, for the store pass. */
typedef struct TsCheckObj TsCheckObj;
struct TsCheckObj {
  sqlite3_int64 iId;
  char *zKey;                  /* (owned) */
  sqlite3_int64 nByte;         /* manifest size */
  unsigned char *aFoot;        /* manifest footer (owned) */
  int nFoot;
  char *zEtag;                 /* manifest ETag, NULL if none recorded (owned) */
};

/* One listed object. */
typedef struct TsCheckList TsCheckList;
struct TsCheckList { char *zKey; int64_t nSize; char *zEtag; };
typedef struct TsCheckListing TsCheckListing;
struct TsCheckListing { TsCheckList *a; int n, nAlloc; int bOom; };

static int listCb(void *pCtx, const TsObjInfo *pInfo){
  TsCheckListing *l = (TsCheckListing*)pCtx;
  if( l->n==l->nAlloc ){
    int nNew = l->nAlloc ? 2*l->nAlloc : 64;
    TsCheckList *a = sqlite3_realloc64(l->a, sizeof(*a)*(size_t)nNew);
    if( a==0 ){ l->bOom = 1; return 1; }
    l->a = a; l->nAlloc = nNew;
  }
  l->a[l->n].zKey = sqlite3_mprintf("%s", pInfo->zKey);
  l->a[l->n].zEtag = sqlite3_mprintf("%s", pInfo->zEtag ? pInfo->zEtag : "");
  if( l->a[l->n].zKey==0 || l->a[l->n].zEtag==0 ){
    sqlite3_free(l->a[l->n].zKey);
    sqlite3_free(l->a[l->n].zEtag);
    l->bOom = 1;
    return 1;
  }
  l->a[l->n].nSize = pInfo->nSize;
  l->n++;
  return 0;
}

static int listCmp(const void *a, const void *b){
  return strcmp(((const TsCheckList*)a)->zKey, ((const TsCheckList*)b)->zKey);
}

/* The manifest rules of one object row (no store access). */
static void checkObjRow(const TsTableSchema *pS, sqlite3_stmt *pStmt, TsBuf *pRep, int *pnErr){
  sqlite3_int64 iId = sqlite3_column_int64(pStmt, 0);
  const char *zKey = (const char*)sqlite3_column_text(pStmt, 1);
  sqlite3_int64 tmin = sqlite3_column_int64(pStmt, 2);
  sqlite3_int64 tmax = sqlite3_column_int64(pStmt, 3);
  sqlite3_int64 nrow = sqlite3_column_int64(pStmt, 4);
  sqlite3_int64 nbyte = sqlite3_column_int64(pStmt, 5);
  int nFoot = sqlite3_column_bytes(pStmt, 8);
  int64_t iDay = 0;
  int iBucket = 0, k;
  TsPqReader *pR = 0;
  char *zE = 0;
  if( zKey==0 ) zKey = "";
  if( nrow<1 ){
    report(pRep, pnErr, "cold object %s: nrow %lld is out of range (>= 1)", zKey, nrow);
  }
  if( tmin>tmax ){
    report(pRep, pnErr, "cold object %s: tmin %lld is after tmax %lld", zKey, tmin, tmax);
  }
  if( keyParse(zKey, &iDay, &iBucket) ){
    report(pRep, pnErr, "cold object %lld: key '%s' is not <table>/date=YYYY-MM-DD/bucket=<0-7>/"
           "<writer>-<id>.parquet", iId, zKey);
  }else{
    /* One object holds one UTC day (so objects of different days never
    ** overlap) and one partition bucket. */
    if( tsFloorDiv(tmin, 86400000000000LL)!=iDay || tsFloorDiv(tmax, 86400000000000LL)!=iDay ){
      report(pRep, pnErr, "cold object %s: time range %lld..%lld is not inside its date folder",
             zKey, tmin, tmax);
    }
    for(k=6; k<=7; k++){
      if( sqlite3_column_type(pStmt, k)==SQLITE_NULL ) continue;
      if( tsColdBucket(sqlite3_column_text(pStmt, k), sqlite3_column_bytes(pStmt, k))!=iBucket ){
        report(pRep, pnErr, "cold object %s: partition key '%s' (%s) does not hash to bucket=%d",
               zKey, (const char*)sqlite3_column_text(pStmt, k), k==6 ? "pk_min" : "pk_max", iBucket);
        break;
      }
    }
  }
  if( nFoot<8 || nbyte<nFoot ){
    report(pRep, pnErr, "cold object %s: nbyte %lld and footer of %d bytes are inconsistent",
           zKey, nbyte, nFoot);
    return;
  }
  if( tsPqReaderOpenTail(&pR, noRead, 0, nbyte, sqlite3_column_blob(pStmt, 8), (size_t)nFoot,
                         &zE)!=TS_PQ_OK ){
    report(pRep, pnErr, "cold object %s: the manifest's footer does not parse: %s", zKey,
           zE ? zE : "corrupt");
    free(zE);
    return;
  }
  if( tsPqReaderRowCount(pR)!=nrow ){
    report(pRep, pnErr, "cold object %s: the footer counts %lld rows, the manifest %lld", zKey,
           (long long)tsPqReaderRowCount(pR), nrow);
  }else if( tsPqReaderColumnCount(pR)!=pS->nDim + pS->nMeas + 3
          && tsPqReaderColumnCount(pR)!=pS->nDim + pS->nMeas + 4 ){   /* + ts_write_mode */
    report(pRep, pnErr, "cold object %s: %d columns, the table has %d", zKey,
           tsPqReaderColumnCount(pR), pS->nDim + pS->nMeas + 3);
  }else{
    int64_t lo = 0, hi = 0;
    int iRg, bAny = 0, bStats = 1;
    for(iRg=0; iRg<tsPqReaderRowGroupCount(pR); iRg++){
      TsPqStats st;
      if( tsPqReaderChunkStats(pR, iRg, 0, &st)!=TS_PQ_OK || !st.bMinMax ){ bStats = 0; break; }
      if( !bAny || st.min.i<lo ) lo = st.min.i;
      if( !bAny || st.max.i>hi ) hi = st.max.i;
      bAny = 1;
    }
    if( bStats && bAny && (lo!=tmin || hi!=tmax) ){
      report(pRep, pnErr, "cold object %s: the footer's time range %lld..%lld does not match the "
             "manifest's %lld..%lld", zKey, (long long)lo, (long long)hi, tmin, tmax);
    }
  }
  tsPqReaderFree(pR);
}

/*
** The cold tier of ts_check: every manifest row's rules, then the store.
** Problems go to the report; a store that cannot be listed or read is an
** error (*pzErr, SQLITE_IOERR), not damage.
*/
static int checkCold(TsTable *pTab, TsBuf *pRep, int *pnErr, char **pzErr){
  sqlite3 *db = tsTableDbHandle(pTab);
  const TsTableSchema *pS = tsTableSchema(pTab);
  sqlite3_stmt *pStmt = 0;
  TsCheckObj *aObj = 0;
  int nObj = 0, nAlloc = 0, i, rc;
  sqlite3_int64 nRowSum = 0, nByteSum = 0;
  int bOverflow = 0;
  TsObjStore *pStore = 0;
  TsCheckListing l;
  TsBuf tail;
  char *zSql;
  memset(&l, 0, sizeof(l));
  tsBufInit(&tail);
  /* etag: NULL in a manifest made before the column (ts_maintain adds it). */
  for(i=0; i<2; i++){
    zSql = sqlite3_mprintf("SELECT id, key, tmin, tmax, nrow, nbyte, pk_min, pk_max, footer, %s"
                           " FROM \"%w\".\"%w_objects\" ORDER BY id", i==0 ? "etag" : "NULL",
                           tsTableDb(pTab), tsTableName(pTab));
    rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
    if( rc!=SQLITE_ERROR ) break;
  }
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    TsCheckObj *o;
    sqlite3_int64 r;
    checkObjRow(pS, pStmt, pRep, pnErr);
    if( __builtin_add_overflow(nRowSum, sqlite3_column_int64(pStmt, 4), &r) ) bOverflow = 1;
    else nRowSum = r;
    if( __builtin_add_overflow(nByteSum, sqlite3_column_int64(pStmt, 5), &r) ) bOverflow = 1;
    else nByteSum = r;
    if( nObj==nAlloc ){
      int nNew = nAlloc ? 2*nAlloc : 32;
      TsCheckObj *a = sqlite3_realloc64(aObj, sizeof(*a)*(size_t)nNew);
      if( a==0 ){ rc = SQLITE_NOMEM; break; }
      aObj = a; nAlloc = nNew;
    }
    o = &aObj[nObj];
    memset(o, 0, sizeof(*o));
    o->iId = sqlite3_column_int64(pStmt, 0);
    o->nByte = sqlite3_column_int64(pStmt, 5);
    o->zKey = sqlite3_mprintf("%s", sqlite3_column_text(pStmt, 1) ? (const char*)sqlite3_column_text(pStmt, 1) : "");
    o->nFoot = sqlite3_column_bytes(pStmt, 8);
    o->aFoot = o->nFoot>0 ? sqlite3_malloc64((size_t)o->nFoot) : 0;
    nObj++;
    if( sqlite3_column_type(pStmt, 9)==SQLITE_TEXT && sqlite3_column_bytes(pStmt, 9)>0 ){
      o->zEtag = sqlite3_mprintf("%s", (const char*)sqlite3_column_text(pStmt, 9));
      if( o->zEtag==0 ){ rc = SQLITE_NOMEM; break; }
    }
    if( o->zKey==0 || (o->nFoot>0 && o->aFoot==0) ){ rc = SQLITE_NOMEM; break; }
    if( o->nFoot>0 ) memcpy(o->aFoot, sqlite3_column_blob(pStmt, 8), (size_t)o->nFoot);
  }
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt); else sqlite3_finalize(pStmt);
  if( rc ){ tsErrSet(pzErr, "%s", sqlite3_errmsg(db)); goto out; }
  if( bOverflow ){
    report(pRep, pnErr, "%s_objects: the sum of nrow or nbyte overflows", tsTableName(pTab));
  }
  if( nObj==0 ) goto out;

  /* The store: list every key prefix ("<t>/") once. */
  rc = tsTableColdStore(pTab, &pStore, pzErr);
  if( rc ) goto out;
  for(i=0; i<nObj && rc==SQLITE_OK; i++){
    const char *zSlash = strchr(aObj[i].zKey, '/');
    int nPre = zSlash ? (int)(zSlash - aObj[i].zKey) + 1 : 0, j;
    char *zPre, *zE = 0;
    for(j=0; j<i; j++){
      if( strncmp(aObj[j].zKey, aObj[i].zKey, (size_t)nPre)==0 && strchr(aObj[j].zKey, '/')
          && strchr(aObj[j].zKey, '/') - aObj[j].zKey + 1 == nPre ) break;
    }
    if( j<i || nPre==0 ) continue;
    zPre = sqlite3_mprintf("%.*s", nPre, aObj[i].zKey);
    if( zPre==0 ){ rc = SQLITE_NOMEM; break; }
    if( tsObjList(pStore, zPre, listCb, &l, &zE)!=TS_OBJ_OK || l.bOom ){
      rc = l.bOom ? SQLITE_NOMEM : SQLITE_IOERR;
      if( !l.bOom ) tsErrSet(pzErr, "listing cold objects under '%s': %s", zPre, zE ? zE : "failed");
    }
    free(zE);
    sqlite3_free(zPre);
  }
  if( rc ) goto out;
  qsort(l.a, (size_t)l.n, sizeof(l.a[0]), listCmp);
  for(i=0; i<nObj && rc==SQLITE_OK; i++){
    TsCheckObj *o = &aObj[i];
    TsCheckList k, *pHit;
    char *zE = 0;
    int rcObj;
    memset(&k, 0, sizeof(k));
    k.zKey = o->zKey;
    pHit = l.n ? bsearch(&k, l.a, (size_t)l.n, sizeof(l.a[0]), listCmp) : 0;
    if( pHit==0 ){
      report(pRep, pnErr, "cold object %s: missing from the store", o->zKey);
      continue;
    }
    if( pHit->nSize!=o->nByte ){
      report(pRep, pnErr, "cold object %s: %lld bytes in the store, the manifest records %lld "
             "(truncated or replaced)", o->zKey, (long long)pHit->nSize, o->nByte);
      continue;
    }
    if( o->zEtag && pHit->zEtag[0] && strcmp(o->zEtag, pHit->zEtag)!=0 ){
      /* Committed objects never change under their key: another ETag is
      ** another object, even with the same size and footer. */
      report(pRep, pnErr, "cold object %s: ETag %s in the store, the manifest records %s "
             "(the object was replaced)", o->zKey, pHit->zEtag, o->zEtag);
      continue;
    }
    if( o->nFoot<=0 || o->nFoot>o->nByte ) continue;   /* reported by checkObjRow */
    tsBufReset(&tail);
    rcObj = tsObjGet(pStore, o->zKey, o->nByte - o->nFoot, o->nFoot, &tail, &zE);
    if( rcObj==TS_OBJ_NOTFOUND ){
      report(pRep, pnErr, "cold object %s: missing from the store", o->zKey);
    }else if( rcObj!=TS_OBJ_OK ){
      rc = rcObj==TS_OBJ_NOMEM ? SQLITE_NOMEM : SQLITE_IOERR;
      tsErrSet(pzErr, "reading cold object %s: %s", o->zKey, zE ? zE : "failed");
    }else if( tail.bErr ){
      rc = SQLITE_NOMEM;
    }else if( tail.n!=(size_t)o->nFoot || memcmp(tail.a, o->aFoot, (size_t)o->nFoot)!=0 ){
      report(pRep, pnErr, "cold object %s: its footer differs from the manifest's (the object "
             "was replaced)", o->zKey);
    }
    free(zE);
  }

out:
  for(i=0; i<nObj; i++){
    sqlite3_free(aObj[i].zKey); sqlite3_free(aObj[i].aFoot); sqlite3_free(aObj[i].zEtag);
  }
  sqlite3_free(aObj);
  for(i=0; i<l.n; i++){ sqlite3_free(l.a[i].zKey); sqlite3_free(l.a[i].zEtag); }
  sqlite3_free(l.a);
  tsBufFree(&tail);
  tsObjClose(pStore);
  return rc;
}

typedef struct TsCheckSeries TsCheckSeries;
struct TsCheckSeries {
  sqlite3_int64 iId;
  int bHasRange;              /* _series.tmin/tmax not NULL */
  sqlite3_int64 tMin, tMax;   /* from _series */
  int bChunks;                /* chunks seen */
  sqlite3_int64 cMin, cMax;   /* from the chunks */
};

/* Open the table named by argv[0] ("table" or "schema.table") for
** function zFunc, flushing this connection's pending rows.  On failure the
** error is set on ctx and NULL returned. */
static TsTable *openArg(sqlite3_context *ctx, const char *zFunc, sqlite3_value *pArg,
                        char **pzTab){
  TsEnv *pEnv = (TsEnv*)sqlite3_user_data(ctx);
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *zArg = (const char*)sqlite3_value_text(pArg);
  char *zDb = 0, *zTab = 0, *zErr = 0;
  TsTable *pTab = 0;
  int rc;
  *pzTab = 0;
  if( zArg==0 ){
    char *z = sqlite3_mprintf("%s: expects a table name", zFunc);
    sqlite3_result_error(ctx, z ? z : zFunc, -1);
    sqlite3_free(z);
    return 0;
  }
  rc = tsTableSplitName(zArg, &zDb, &zTab);
  if( rc==SQLITE_OK ) rc = tsTableOpen(pEnv, db, zDb, zTab, &pTab, &zErr);
  if( rc==SQLITE_OK ) rc = tsTableFlush(pTab, &zErr);
  if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else if( rc ){
    char *z = sqlite3_mprintf("%s: %s", zFunc, zErr ? zErr : sqlite3_errstr(rc));
    sqlite3_result_error(ctx, z ? z : zFunc, -1);
    sqlite3_result_error_code(ctx, rc);
    sqlite3_free(z);
  }
  sqlite3_free(zErr);
  sqlite3_free(zDb);
  if( rc ){
    tsTableRelease(pTab);
    sqlite3_free(zTab);
    return 0;
  }
  *pzTab = zTab;
  return pTab;
}

/* Report rc (an error of a statement on db) on ctx for zFunc. */
static void resultErr(sqlite3_context *ctx, const char *zFunc, int rc, const char *zMsg){
  if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else{
    char *z = sqlite3_mprintf("%s: %s", zFunc, zMsg);
    sqlite3_result_error(ctx, z ? z : zFunc, -1);
    sqlite3_result_error_code(ctx, rc);
    sqlite3_free(z);
  }
}

static void checkFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  char *zTab = 0, *zSql = 0;
  TsTable *pTab;
  const TsTableSchema *pS;
  const char *zDb, *zName;
  TsBuf rep;
  TsCheckSeries *aSer = 0;
  int nSer = 0, nErr = 0, rc = SQLITE_OK, i;
  sqlite3_stmt *pStmt = 0;
  sqlite3_int64 nValue = 0, iPrevSid = -1, tPrevMax = 0;
  (void)argc;
  pTab = openArg(ctx, "ts_check", argv[0], &zTab);
  if( pTab==0 ) return;
  pS = tsTableSchema(pTab);
  zDb = tsTableDb(pTab);
  zName = tsTableName(pTab);
  tsBufInit(&rep);
  /* series */
  zSql = sqlite3_mprintf("SELECT * FROM \"%w\".\"%w_series\" ORDER BY id", zDb, zName);
  rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    void *pKey;
    char *const *azDim = 0;
    const char *zMName = 0, *zCol;
    TsCheckSeries *aNew = sqlite3_realloc64(aSer, sizeof(*aSer)*(size_t)(nSer+1));
    sqlite3_int64 iId = sqlite3_column_int64(pStmt, 0);
    if( aNew==0 ){ rc = SQLITE_NOMEM; break; }
    aSer = aNew;
    memset(&aSer[nSer], 0, sizeof(aSer[nSer]));
    aSer[nSer].iId = iId;
    aSer[nSer].bHasRange = sqlite3_column_type(pStmt, 3)!=SQLITE_NULL;
    aSer[nSer].tMin = sqlite3_column_int64(pStmt, 3);
    aSer[nSer].tMax = sqlite3_column_int64(pStmt, 4);
    nSer++;
    pKey = tsTableKeyDecode(pS->nDim, sqlite3_column_blob(pStmt, 1),
                            sqlite3_column_bytes(pStmt, 1), &azDim, &zMName);
    if( pKey==0 ){
      report(&rep, &nErr, "series %lld: malformed series key", iId);
      continue;
    }
    zCol = (const char*)sqlite3_column_text(pStmt, 2);
    if( zCol==0 || strcmp(zMName, zCol)!=0 ){
      report(&rep, &nErr, "series %lld: measure_name does not match its key", iId);
    }
    for(i=0; i<pS->nDim; i++){
      zCol = (const char*)sqlite3_column_text(pStmt, 5+i);
      if( (zCol==0)!=(azDim[i]==0) || (zCol && strcmp(zCol, azDim[i])!=0) ){
        report(&rep, &nErr, "series %lld: dimension %s does not match its key", iId, pS->azDim[i]);
      }
    }
    sqlite3_free(pKey);
  }
  sqlite3_finalize(pStmt);
  pStmt = 0;
  /* chunks */
  if( rc==SQLITE_OK ){
    zSql = sqlite3_mprintf("SELECT id, sid, tmin, tmax, nrow, data FROM \"%w\".\"%w_chunks\""
                           " ORDER BY sid, tmin", zDb, zName);
    rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
    while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
      sqlite3_int64 iChunk = sqlite3_column_int64(pStmt, 0);
      sqlite3_int64 iSid = sqlite3_column_int64(pStmt, 1);
      sqlite3_int64 tmin = sqlite3_column_int64(pStmt, 2);
      sqlite3_int64 tmax = sqlite3_column_int64(pStmt, 3);
      sqlite3_int64 nrow = sqlite3_column_int64(pStmt, 4);
      int lo = 0, hi = nSer;
      while( lo<hi ){ int m = (lo+hi)/2; if( aSer[m].iId<iSid ) lo = m+1; else hi = m; }
      if( lo>=nSer || aSer[lo].iId!=iSid ){
        report(&rep, &nErr, "chunk %lld: belongs to series %lld, which does not exist", iChunk, iSid);
      }else{
        TsCheckSeries *pC = &aSer[lo];
        if( !pC->bChunks || tmin<pC->cMin ) pC->cMin = tmin;
        if( !pC->bChunks || tmax>pC->cMax ) pC->cMax = tmax;
        pC->bChunks = 1;
      }
      if( iSid==iPrevSid && tmin<=tPrevMax ){
        report(&rep, &nErr, "chunk %lld: overlaps the previous chunk of series %lld", iChunk, iSid);
      }
      iPrevSid = iSid;
      tPrevMax = tmax;
      if( nrow<1 || nrow>TS_CHUNK_MAX_ROWS ){
        report(&rep, &nErr, "chunk %lld: nrow %lld is out of range (1..%d)", iChunk, nrow,
               TS_CHUNK_MAX_ROWS);
      }
      checkChunk(pS, iChunk, sqlite3_column_blob(pStmt, 5), sqlite3_column_bytes(pStmt, 5),
                 tmin, tmax, nrow, &rep, &nErr, &nValue);
    }
    sqlite3_finalize(pStmt);
    pStmt = 0;
  }
  for(i=0; rc==SQLITE_OK && i<nSer; i++){
    TsCheckSeries *pC = &aSer[i];
    if( pC->bChunks!=pC->bHasRange
     || (pC->bChunks && (pC->cMin!=pC->tMin || pC->cMax!=pC->tMax)) ){
      report(&rep, &nErr, "series %lld: time range in %s_series does not match its chunks",
             pC->iId, zTab);
    }
  }
  if( rc==SQLITE_OK ){
    char *zCold = 0;
    rc = checkCold(pTab, &rep, &nErr, &zCold);
    if( rc && rc!=SQLITE_NOMEM ){
      char *z = sqlite3_mprintf("%s: %s", zTab, zCold ? zCold : sqlite3_errstr(rc));
      resultErr(ctx, "ts_check", rc, z ? z : "out of memory");
      sqlite3_free(z);
      sqlite3_free(zCold);
      goto check_out;
    }
    sqlite3_free(zCold);
  }
  if( rc ){
    resultErr(ctx, "ts_check", rc, sqlite3_errmsg(db));
  }else if( rep.bErr ){
    sqlite3_result_error_nomem(ctx);
  }else if( nErr==0 ){
    sqlite3_result_text(ctx, "ok", -1, SQLITE_STATIC);
  }else{
    if( nErr>20 ) tsBufPrintf(&rep, "\n... and %d more problems", nErr-20);
    sqlite3_result_text(ctx, (const char*)rep.a, (int)rep.n, SQLITE_TRANSIENT);
  }
check_out:
  sqlite3_free(aSer);
  tsBufFree(&rep);
  sqlite3_free(zTab);
  tsTableRelease(pTab);
}

/* *pSum += v for a stored counter that must be >= 0; 1 if v is negative or
** the sum overflows (a damaged shadow table). */
static int addCounter(sqlite3_int64 *pSum, sqlite3_int64 v){
  sqlite3_int64 r;
  if( v<0 || __builtin_add_overflow(*pSum, v, &r) ) return 1;
  *pSum = r;
  return 0;
}

/* *pnValue += the non-NULL measure values of one cold object, from its
** manifest footer (columns: time, dimensions, measure_name, measures,
** version).  1 if the footer does not parse or the sum overflows. */
static int coldValues(const TsTableSchema *pS, sqlite3_int64 nByte, const void *aFoot, int nFoot,
                      sqlite3_int64 *pnValue){
  TsPqReader *pR = 0;
  char *zE = 0;
  int iRg, j, bad = 0;
  if( nFoot<8 || nByte<nFoot
   || tsPqReaderOpenTail(&pR, noRead, 0, nByte, aFoot, (size_t)nFoot, &zE)!=TS_PQ_OK ){
    free(zE);
    return 1;
  }
  if( tsPqReaderColumnCount(pR)!=pS->nDim + pS->nMeas + 3
   && tsPqReaderColumnCount(pR)!=pS->nDim + pS->nMeas + 4 ) bad = 1;   /* + ts_write_mode */
  for(iRg=0; !bad && iRg<tsPqReaderRowGroupCount(pR); iRg++){
    for(j=0; !bad && j<pS->nMeas; j++){
      TsPqStats st;
      if( tsPqReaderChunkStats(pR, iRg, pS->nDim + 2 + j, &st)!=TS_PQ_OK
       || addCounter(pnValue, st.nValue - (st.bNullCount ? st.nNull : 0)) ) bad = 1;
    }
  }
  tsPqReaderFree(pR);
  return bad;
}

static void statsFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  char *zTab = 0, *zSql = 0, *zBad = 0;
  TsTable *pTab;
  const TsTableSchema *pS;
  const char *zDb, *zName;
  sqlite3_stmt *pStmt = 0;
  sqlite3_int64 nSeries = 0, nRow = 0, nChunk = 0, nByte = 0, nValue = 0;
  sqlite3_int64 nObj = 0, nObjRow = 0, nObjByte = 0, nObjValue = 0, nRejected = 0;
  int rc = SQLITE_OK, j;
  TsChunkStat *aStat = 0;
  (void)argc;
  pTab = openArg(ctx, "ts_stats", argv[0], &zTab);
  if( pTab==0 ) return;
  pS = tsTableSchema(pTab);
  zDb = tsTableDb(pTab);
  zName = tsTableName(pTab);
  aStat = sqlite3_malloc64(sizeof(TsChunkStat)*(size_t)(pS->nMeas+1));
  if( aStat==0 ) rc = SQLITE_NOMEM;
  if( rc==SQLITE_OK ){
    zSql = sqlite3_mprintf("SELECT count(*) FROM \"%w\".\"%w_series\"", zDb, zName);
    rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
    if( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ) nSeries = sqlite3_column_int64(pStmt, 0);
    if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt); else sqlite3_finalize(pStmt);
    pStmt = 0;
  }
  if( rc==SQLITE_OK ){
    zSql = sqlite3_mprintf("SELECT id, nrow, nbyte, footer FROM \"%w\".\"%w_objects\"", zDb, zName);
    rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
    while( rc==SQLITE_OK && zBad==0 && sqlite3_step(pStmt)==SQLITE_ROW ){
      nObj++;
      if( addCounter(&nObjRow, sqlite3_column_int64(pStmt, 1))
       || addCounter(&nObjByte, sqlite3_column_int64(pStmt, 2)) ){
        zBad = sqlite3_mprintf("damaged %s_objects: object %lld has nrow %lld, nbyte %lld",
                               zName, sqlite3_column_int64(pStmt, 0),
                               sqlite3_column_int64(pStmt, 1), sqlite3_column_int64(pStmt, 2));
        if( zBad==0 ) rc = SQLITE_NOMEM;
      }else if( coldValues(pS, sqlite3_column_int64(pStmt, 2), sqlite3_column_blob(pStmt, 3),
                           sqlite3_column_bytes(pStmt, 3), &nObjValue) ){
        zBad = sqlite3_mprintf("damaged %s_objects: object %lld has an unreadable footer",
                               zName, sqlite3_column_int64(pStmt, 0));
        if( zBad==0 ) rc = SQLITE_NOMEM;
      }
    }
    if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt); else sqlite3_finalize(pStmt);
    pStmt = 0;
  }
  if( rc==SQLITE_OK && zBad==0 ){
    /* Late writes rejected at ts_maintain (maintain_rewrite.c). */
    zSql = sqlite3_mprintf("SELECT v FROM \"%w\".\"%w_config\" WHERE k='cold.rows_rejected'", zDb, zName);
    rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
    if( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ) nRejected = sqlite3_column_int64(pStmt, 0);
    if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt); else sqlite3_finalize(pStmt);
    pStmt = 0;
  }
  if( rc==SQLITE_OK && zBad==0 ){
    zSql = sqlite3_mprintf("SELECT id, nrow, data FROM \"%w\".\"%w_chunks\"", zDb, zName);
    rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
    while( rc==SQLITE_OK && zBad==0 && sqlite3_step(pStmt)==SQLITE_ROW ){
      TsChunkInfo info;
      sqlite3_int64 nrow = sqlite3_column_int64(pStmt, 1);
      int n = sqlite3_column_bytes(pStmt, 2);
      nChunk++;
      if( nrow>TS_CHUNK_MAX_ROWS || addCounter(&nRow, nrow) ){
        zBad = sqlite3_mprintf("damaged %s_chunks: chunk %lld has nrow %lld", zName,
                               sqlite3_column_int64(pStmt, 0), nrow);
        if( zBad==0 ) rc = SQLITE_NOMEM;
        break;
      }
      nByte += n;
      if( tsChunkInfoGet(sqlite3_column_blob(pStmt, 2), (size_t)n, &info, aStat, pS->nMeas)
          ==TS_CHUNK_OK ){
        for(j=0; j<pS->nMeas && j<info.nCol; j++) nValue += aStat[j].nValue;
      }
    }
    if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt); else sqlite3_finalize(pStmt);
    pStmt = 0;
  }
  if( rc ){
    resultErr(ctx, "ts_stats", rc, sqlite3_errmsg(db));
  }else if( zBad ){
    resultErr(ctx, "ts_stats", SQLITE_CORRUPT, zBad);
  }else{
    TsBuf b;
    TsJsonW w;
    char zNum[64];
    tsBufInit(&b);
    tsJwInit(&w, &b);
    tsJwObjBegin(&w);
    tsJwKeyStr(&w, "table", zTab);
    tsJwKeyInt(&w, "series", nSeries);
    tsJwKey(&w, "memory");
    tsJwObjBegin(&w);
    tsJwKeyInt(&w, "rows", nRow);
    tsJwKeyInt(&w, "chunks", nChunk);
    tsJwKeyInt(&w, "bytes", nByte);
    tsJwKeyInt(&w, "values", nValue);
    /* three decimals, as the figure has always been printed */
    snprintf(zNum, sizeof(zNum), "%.3f", nValue ? (double)nByte/(double)nValue : 0.0);
    tsJwKey(&w, "bytes_per_value");
    tsJwRaw(&w, zNum, strlen(zNum));
    tsJwObjEnd(&w);
    tsJwKey(&w, "magnetic");
    tsJwObjBegin(&w);
    tsJwKeyInt(&w, "objects", nObj);
    tsJwKeyInt(&w, "rows", nObjRow);
    tsJwKeyInt(&w, "bytes", nObjByte);
    tsJwKeyInt(&w, "values", nObjValue);
    snprintf(zNum, sizeof(zNum), "%.3f", nObjValue ? (double)nObjByte/(double)nObjValue : 0.0);
    tsJwKey(&w, "bytes_per_value");
    tsJwRaw(&w, zNum, strlen(zNum));
    tsJwKeyInt(&w, "rows_rejected", nRejected);
    tsJwObjEnd(&w);
    tsColdStatsJson(pTab, &w);
    tsJwObjEnd(&w);
    if( tsJwError(&w) || b.bErr ){
      sqlite3_result_error_nomem(ctx);
    }else{
      sqlite3_result_text(ctx, (const char*)b.a, (int)b.n, SQLITE_TRANSIENT);
    }
    tsBufFree(&b);
  }
  sqlite3_free(zBad);
  sqlite3_free(aStat);
  sqlite3_free(zTab);
  tsTableRelease(pTab);
}

int tsOpsCheckRegister(sqlite3 *db, TsEnv *pEnv){
  int rc = sqlite3_create_function_v2(db, "ts_check", 1, SQLITE_UTF8, tsEnvRef(pEnv),
                                      checkFunc, 0, 0, tsEnvUnref);
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "ts_stats", 1, SQLITE_UTF8, tsEnvRef(pEnv),
                                    statsFunc, 0, 0, tsEnvUnref);
  }
  return rc;
}
