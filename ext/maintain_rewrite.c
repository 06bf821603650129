/*
** maintain_rewrite.c: the object rewrites of ts_maintain and the
** rejected-records reports they write: retention of
** partly expired objects (an object with tmin < expiry <= tmax is rewritten
** without its expired rows) and compaction of small objects of one day and
** bucket into target-size objects.  Both stream rows from the inputs'
** row groups through a k-way merge and commit the new object and the
** manifest change in one transaction (docs/internals/cold-format.md 5b, 5c).
** Shares the run and the object writer with ext/maintain.c (maintain_int.h).
*/
#include "maintain_int.h"
#include "recrule.h"
#include "jsonw.h"
#include "chunk.h"
#include "parquet.h"
#include "objstore.h"
#include "tstime.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*************************************************************************
** Object rewrites: retention of partly expired objects and compaction.
**
** Both read a set of manifest objects of one day and bucket (each sorted by
** (partition key, series key, time), cold-format.md section 2), merge them
** into one new object in the same order, dropping rows older than the expiry
** and keeping one row per record key (ext/recrule.h in manifest id order,
** the scan's rule, so the visible row does not change; the rejected records
** go to a rejected-records report), upload it (and the report), and then in
** one transaction delete the inputs' rows (after checking they are still
** there), insert its manifest row under the highest input id, register the
** report, and record the inputs as retired.  The inputs stay in the store for readers
** of the old manifest; the orphan pass (step 6) deletes them once they have
** been retired for the grace period.  One row group of each input is decoded
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
  TsPqColumnData *aCol;         /* nCol decoded columns of row group iRg, then the
                                ** write marks when iMarkCol>=0 (owned) */
  int iMarkCol;                 /* file column ts_write_mode, -1: none (all 0) */
  int64_t nRow, iRow;           /* rows in aCol, current row */
  int bEof;
  TsBuf key;                    /* series key of the current row */
  const char *zPk; int nPk;     /* partition key of the current row (into aCol) */
  int bPkNull;
  int64_t t, v;                 /* time and version of the current row */
  int m;                        /* its write mark (ext/recrule.h) */
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
    tsOpErr(&pIn->p->op, SQLITE_IOERR, "ts_maintain %s: reading %s: %s", pIn->p->zTab, pIn->zKey,
          zE ? zE : "short read");
  }
  free(zE);
  tsBufFree(&b);
  return rc;
}

static void mtInClear(MtIn *pIn, int nCol){
  int i;
  if( pIn->aCol ){
    for(i=0; i<=nCol; i++) tsPqColumnDataFree(&pIn->aCol[i]);
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
  if( pIn->key.bErr ) tsOpErr(&pIn->p->op, SQLITE_NOMEM, "ts_maintain: out of memory");
  if( s->iPartDim>=0 ){
    pIn->zPk = mtInStr(pIn, 1+s->iPartDim, &pIn->nPk);
    pIn->bPkNull = pIn->zPk==0;
    if( pIn->zPk==0 ) pIn->zPk = "";
  }else{
    pIn->zPk = z ? z : ""; pIn->nPk = n; pIn->bPkNull = 0;
  }
  pIn->t = pIn->aCol[0].aInt[pIn->iRow];
  pIn->v = pIn->aCol[mtNCol(s)-1].aInt[pIn->iRow];
  pIn->m = pIn->iMarkCol>=0 && pIn->aCol[mtNCol(s)].aInt ? (int)pIn->aCol[mtNCol(s)].aInt[pIn->iRow] : 0;
  if( pIn->m<0 || pIn->m>2 ){
    tsOpErr(&pIn->p->op, SQLITE_CORRUPT, "ts_maintain %s: object %s: a ts_write_mode value is "
            "not 0, 1 or 2", pIn->p->zTab, pIn->zKey);
    pIn->m = 0;
  }
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
        for(j=0; j<=nCol; j++) tsPqColumnDataFree(&pIn->aCol[j]);
        pIn->iRg++;
      }else{
        pIn->aCol = sqlite3_malloc64(sizeof(TsPqColumnData)*(nCol+1));
        if( pIn->aCol==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); pIn->bEof = 1; return; }
        memset(pIn->aCol, 0, sizeof(TsPqColumnData)*(nCol+1));
      }
      pIn->iRow = 0;
      pIn->nRow = 0;
      if( pIn->iRg>=pIn->nRg || p->op.rc ){ pIn->bEof = 1; return; }
      for(j=0; j<nCol && p->op.rc==SQLITE_OK; j++){
        if( tsPqReaderReadColumn(pIn->pR, pIn->iRg, pIn->aMap[j], 0, &pIn->aCol[j])!=TS_PQ_OK ){
          tsOpErr(&p->op, SQLITE_CORRUPT, "ts_maintain %s: object %s: %s", p->zTab, pIn->zKey,
                tsPqReaderErrmsg(pIn->pR));
        }else if( j>0 && pIn->aCol[j].nRow!=pIn->aCol[0].nRow ){
          tsOpErr(&p->op, SQLITE_CORRUPT, "ts_maintain %s: object %s: column %s has %lld rows in row "
                "group %d, time has %lld", p->zTab, pIn->zKey, mtColName(p->s, j),
                (long long)pIn->aCol[j].nRow, pIn->iRg, (long long)pIn->aCol[0].nRow);
        }
      }
      if( p->op.rc==SQLITE_OK && pIn->iMarkCol>=0 ){
        if( tsPqReaderReadColumn(pIn->pR, pIn->iRg, pIn->iMarkCol, 0, &pIn->aCol[nCol])!=TS_PQ_OK ){
          tsOpErr(&p->op, SQLITE_CORRUPT, "ts_maintain %s: object %s: %s", p->zTab, pIn->zKey,
                tsPqReaderErrmsg(pIn->pR));
        }else if( pIn->aCol[nCol].nRow!=pIn->aCol[0].nRow || pIn->aCol[nCol].aInt==0 ){
          tsOpErr(&p->op, SQLITE_CORRUPT, "ts_maintain %s: object %s: column ts_write_mode has "
                "%lld rows in row group %d, time has %lld", p->zTab, pIn->zKey,
                (long long)pIn->aCol[nCol].nRow, pIn->iRg, (long long)pIn->aCol[0].nRow);
        }
      }
      if( p->op.rc ){ pIn->bEof = 1; return; }
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
  pIn->iMarkCol = -1;
  tsBufInit(&pIn->key);
  if( nCol>TS_MT_MAXCOL ){
    tsOpErr(&p->op, SQLITE_ERROR, "ts_maintain %s: too many columns to rewrite objects", p->zTab);
    return;
  }
  if( (aTail && nTail>0
       ? tsPqReaderOpenTail(&pIn->pR, mtInRead, pIn, pIn->nByte, aTail, (size_t)nTail, &zE)
       : tsPqReaderOpen(&pIn->pR, mtInRead, pIn, pIn->nByte, &zE))!=TS_PQ_OK ){
    tsOpErr(&p->op, SQLITE_CORRUPT, "ts_maintain %s: object %s: %s", p->zTab, pIn->zKey,
          zE ? zE : "unreadable footer");
    free(zE);
    return;
  }
  for(j=0; j<nCol; j++){
    pIn->aMap[j] = tsPqReaderFindColumn(pIn->pR, mtColName(s, j));
    if( pIn->aMap[j]<0 ){
      tsOpErr(&p->op, SQLITE_CORRUPT, "ts_maintain %s: object %s has no column %s", p->zTab,
            pIn->zKey, mtColName(s, j));
      return;
    }
  }
  pIn->iMarkCol = tsPqReaderFindColumn(pIn->pR, "ts_write_mode");
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
static void mtInWrite(MtRun *p, MtObj *o, MtIn *pIn, int eMark, TsBuf *pLast, int *piSeries){
  const TsTableSchema *s = p->s;
  TsPqWriter *w = o->pPw;
  int i, j = 0, n;
  const char *z;
  if( pLast->n!=pIn->key.n || memcmp(pLast->a, pIn->key.a, pIn->key.n)!=0 ){
    MtSeries ser;
    char **azDim = sqlite3_malloc64(sizeof(char*)*(s->nDim+1));
    memset(&ser, 0, sizeof(ser));
    if( azDim==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); return; }
    for(i=0; i<s->nDim; i++){
      z = mtInStr(pIn, 1+i, &n);
      azDim[i] = z ? sqlite3_mprintf("%.*s", n, z) : 0;
      if( z && azDim[i]==0 ) tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory");
    }
    z = mtInStr(pIn, 1+s->nDim, &n);
    ser.zMName = sqlite3_mprintf("%.*s", n, z ? z : "");
    if( ser.zMName==0 ) tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory");
    ser.aKey = pIn->key.a; ser.nKey = (int)pIn->key.n;
    ser.azDim = azDim;
    ser.zPk = pIn->zPk; ser.nPk = pIn->nPk; ser.bPkNull = pIn->bPkNull;
    if( p->op.rc==SQLITE_OK ) mtObjSeries(p, o, &ser, ++(*piSeries));
    for(i=0; i<s->nDim; i++) sqlite3_free(azDim[i]);
    sqlite3_free(azDim);
    sqlite3_free(ser.zMName);
    tsBufReset(pLast);
    tsBufAppend(pLast, pIn->key.a, pIn->key.n);
    if( pLast->bErr ) tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory");
    if( p->op.rc ) return;
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
  if( o->bMark ) tsPqWriterInt64(w, j++, eMark);
  if( tsPqWriterEndRow(w)!=TS_PQ_OK ){
    tsOpErr(&p->op, SQLITE_IOERR, "ts_maintain %s: writing %s: %s", p->zTab, o->zKey,
          o->zSinkErr ? o->zSinkErr : tsPqWriterErrmsg(w));
    return;
  }
  mtObjRow(o, pIn->t);
}

/* Append the current row of pIn, a rejected record (ext/recrule.h), to pRej
** as one error item of Timestream's error report (reference 5.7: reason,
** existing version, the record in WriteRecords' shape). */
static void mtRejectAdd(MtRun *p, TsBuf *pRej, const MtIn *pIn, int64_t iExisting){
  const TsTableSchema *s = p->s;
  TsBuf item;
  TsJsonW jw;
  int i, n;
  const char *z;
  char zNum[32];
  tsBufInit(&item);
  tsJwInit(&jw, &item);
  tsJwObjBegin(&jw);
  tsJwKeyStr(&jw, "reason", "A record with the same dimensions, time and measure_name exists with "
             "different measure values and an equal or higher version; the version must be "
             "higher to update it");
  tsJwKeyInt(&jw, "existingVersion", iExisting);
  tsJwKey(&jw, "records");
  tsJwArrBegin(&jw);
  tsJwObjBegin(&jw);
  tsJwKey(&jw, "dimensions");
  tsJwArrBegin(&jw);
  for(i=0; i<s->nDim; i++){
    z = mtInStr((MtIn*)pIn, 1+i, &n);
    if( z==0 ) continue;
    tsJwObjBegin(&jw);
    tsJwKeyStr(&jw, "name", s->azDim[i]);
    tsJwKey(&jw, "value"); tsJwStrN(&jw, z, (size_t)n);
    tsJwKeyStr(&jw, "dimensionValueType", "VARCHAR");
    tsJwObjEnd(&jw);
  }
  tsJwArrEnd(&jw);
  z = mtInStr((MtIn*)pIn, 1+s->nDim, &n);
  tsJwKey(&jw, "measureName"); tsJwStrN(&jw, z ? z : "", z ? (size_t)n : 0);
  tsJwKey(&jw, "measureValue"); tsJwNull(&jw);
  tsJwKey(&jw, "measureValues");
  tsJwArrBegin(&jw);
  for(i=0; i<s->nMeas; i++){
    const TsPqColumnData *c = &pIn->aCol[2+s->nDim+i];
    int64_t r = pIn->iRow;
    if( c->aNull && c->aNull[r] ) continue;     /* NULL measures are not in a record */
    tsJwObjBegin(&jw);
    tsJwKeyStr(&jw, "name", s->azMeas[i]);
    tsJwKey(&jw, "value");
    switch( s->aMeasType[i] ){
      case TS_TYPE_DOUBLE:
        snprintf(zNum, sizeof(zNum), "%.17g", c->aDbl[r]);
        tsJwStr(&jw, zNum);
        break;
      case TS_TYPE_VARCHAR:
        tsJwStrN(&jw, (const char*)c->aData + c->aOff[r], (size_t)(c->aOff[r+1] - c->aOff[r]));
        break;
      case TS_TYPE_BOOLEAN:
        tsJwStr(&jw, c->aInt[r] ? "true" : "false");
        break;
      default:
        snprintf(zNum, sizeof(zNum), "%lld", (long long)c->aInt[r]);
        tsJwStr(&jw, zNum);
        break;
    }
    tsJwKeyStr(&jw, "type", tsChunkTypeName(s->aMeasType[i]));
    tsJwObjEnd(&jw);
  }
  tsJwArrEnd(&jw);
  tsJwKeyStr(&jw, "measureValueType", "MULTI");
  snprintf(zNum, sizeof(zNum), "%lld", (long long)pIn->t);
  tsJwKeyStr(&jw, "time", zNum);
  tsJwKeyStr(&jw, "timeUnit", "NANOSECONDS");
  tsJwKeyInt(&jw, "version", pIn->v);
  tsJwObjEnd(&jw);
  tsJwArrEnd(&jw);
  tsJwObjEnd(&jw);
  if( tsJwError(&jw) || item.bErr ){
    tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory");
  }else{
    if( pRej->n ) tsBufAppendByte(pRej, ',');
    tsBufAppend(pRej, item.a, item.n);
    if( pRej->bErr ) tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory");
  }
  tsBufFree(&item);
}

/* Upload the rejected-records report of one rewrite (the error items in
** pRej) as <t>/_rejected/<day>-<random>.json; *pzKey is its key
** (sqlite3_malloc).  Registered by the caller in the commit transaction. */
static void mtRejectUpload(MtRun *p, const TsBuf *pRej, int64_t iDay, char **pzKey){
  TsBuf doc;
  TsJsonW jw;
  char zId[33], *zE = 0;
  int64_t y; unsigned m, d;
  *pzKey = 0;
  mtRandHex(zId, 16);
  tsCivilFromDays(iDay, &y, &m, &d);
  *pzKey = sqlite3_mprintf("%s/_rejected/%04lld-%02u-%02u-%s.json", p->zTab, (long long)y, m, d, zId);
  if( *pzKey==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); return; }
  tsBufInit(&doc);
  tsJwInit(&jw, &doc);
  tsJwObjBegin(&jw);
  tsJwKeyStr(&jw, "reportId", zId);
  tsJwKeyStr(&jw, "table", p->zTab);
  tsJwKey(&jw, "errors");
  tsJwArrBegin(&jw);
  tsJwRaw(&jw, (const char*)pRej->a, pRej->n);
  tsJwArrEnd(&jw);
  tsJwObjEnd(&jw);
  if( tsJwError(&jw) || doc.bErr ){
    tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory");
  }else if( tsObjPut(p->pStore, *pzKey, doc.a, doc.n, &zE)!=TS_OBJ_OK ){
    tsOpErr(&p->op, SQLITE_IOERR, "ts_maintain %s: upload of %s: %s", p->zTab, *pzKey,
            zE ? zE : "failed");
  }
  free(zE);
  tsBufFree(&doc);
}

/* Inside the commit transaction: register report zKey (nRow records) and
** add them to the table's count (<t>_config 'cold.rejected:<key>' and
** 'cold.rows_rejected'; ts_stats reads the count). */
static void mtRejectRegister(MtRun *p, const char *zKey, int64_t nRow){
  sqlite3_stmt *pStmt;
  pStmt = tsOpPrepare(&p->op, "INSERT INTO \"%w\".\"%w_config\"(k, v) VALUES('cold.rejected:' || ?1, ?2)",
                      p->zDb, p->zTab);
  if( pStmt ){
    sqlite3_bind_text(pStmt, 1, zKey, -1, SQLITE_STATIC);
    sqlite3_bind_int64(pStmt, 2, nRow);
    sqlite3_step(pStmt);
    if( sqlite3_finalize(pStmt)!=SQLITE_OK ) tsOpSqlErr(&p->op, "registering a rejected-records report");
  }
  pStmt = tsOpPrepare(&p->op, "INSERT INTO \"%w\".\"%w_config\"(k, v) VALUES('cold.rows_rejected', ?1)"
                      " ON CONFLICT(k) DO UPDATE SET v = v + excluded.v", p->zDb, p->zTab);
  if( pStmt ){
    sqlite3_bind_int64(pStmt, 1, nRow);
    sqlite3_step(pStmt);
    if( sqlite3_finalize(pStmt)!=SQLITE_OK ) tsOpSqlErr(&p->op, "counting rejected records");
  }
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
  TsBuf last, rej;
  char *zRej = 0;                /* the uploaded report's key */
  sqlite3_int64 iMaxId = 0;
  int i, iSeries = 0, bAbort = 0;
  int64_t nIn = 0, nDup = 0, nRej = 0, nInRow = 0;
  sqlite3_stmt *pSel = 0, *pChk = 0, *pIns = 0, *pDel = 0;
  tsBufInit(&last);
  tsBufInit(&rej);
  p->bMarkCol = 0;
  for(i=0; i<nId; i++) if( aId[i]>iMaxId ) iMaxId = aId[i];
  aIn = sqlite3_malloc64(sizeof(MtIn)*nId);
  if( aIn==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); goto done; }
  memset(aIn, 0, sizeof(MtIn)*nId);
  pSel = tsOpPrepare(&p->op, "SELECT key, nbyte, footer, nrow FROM \"%w\".\"%w_objects\" WHERE id=?1",
                   p->zDb, p->zTab);
  for(i=0; pSel && i<nId && p->op.rc==SQLITE_OK; i++){
    aIn[i].iId = aId[i];
    sqlite3_bind_int64(pSel, 1, aId[i]);
    if( sqlite3_step(pSel)==SQLITE_ROW ){
      aIn[i].zKey = sqlite3_mprintf("%s", (const char*)sqlite3_column_text(pSel, 0));
      aIn[i].nByte = sqlite3_column_int64(pSel, 1);
      nInRow += sqlite3_column_int64(pSel, 3);
      if( aIn[i].zKey==0 ) tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory");
      else mtInOpen(p, &aIn[i], sqlite3_column_blob(pSel, 2), sqlite3_column_bytes(pSel, 2));
      nIn++;
    }
    sqlite3_reset(pSel);
  }
  sqlite3_finalize(pSel);
  if( p->op.rc || nIn<nId ) goto done;
  /* k-way merge. */
  for(;;){
    int iMin = -1;
    for(i=0; i<nId; i++){
      if( aIn[i].bEof ) continue;
      if( iMin<0 || mtInCmp(&aIn[i], &aIn[iMin])<0 ) iMin = i;
    }
    if( iMin<0 || p->op.rc ) break;
    {
      /* Every input at the same record key, in write order (aId is in
      ** manifest id order): ext/recrule.h.  The merged row is marked
      ** REPLACE when any of them is (it then replaces every older row, as
      ** that REPLACE row did), else it keeps the winner's mark. */
      int iWin = iMin, eMark = aIn[iMin].m==TS_MARK_REPLACE ? TS_MARK_REPLACE : -1;
      for(i=iMin+1; i<nId; i++){
        if( aIn[i].bEof || mtInCmp(&aIn[i], &aIn[iMin])!=0 ) continue;
        nDup++;
        if( aIn[i].m==TS_MARK_REPLACE ) eMark = TS_MARK_REPLACE;
        if( tsRecLaterWins(aIn[iWin].v, aIn[i].v, aIn[i].m) ){
          iWin = i;
        }else if( tsRecRejected(mtInValuesDiffer(&aIn[i], &aIn[iWin]), aIn[i].m) ){
          nRej++;
          mtRejectAdd(p, &rej, &aIn[i], aIn[iWin].v);
        }
      }
      if( eMark<0 ) eMark = aIn[iWin].m;
      if( o==0 ){
        for(i=0; i<nId; i++) if( aIn[i].iMarkCol>=0 ) p->bMarkCol = 1;
        o = mtObjOpen(p, iBucket, iDay);
        if( o==0 ) break;
      }
      mtInWrite(p, o, &aIn[iWin], eMark, &last, &iSeries);
      for(i=nId-1; i>=iMin; i--){
        if( i!=iMin && (aIn[i].bEof || mtInCmp(&aIn[i], &aIn[iMin])!=0) ) continue;
        if( i!=iMin ) mtInNext(&aIn[i], p->iExpire);
      }
      mtInNext(&aIn[iMin], p->iExpire);
    }
  }
  if( p->op.rc ) goto done;
  if( o ) mtObjFinish(p, o);
  if( p->op.rc==SQLITE_OK && nRej ) mtRejectUpload(p, &rej, iDay, &zRej);
  if( p->op.rc ) goto done;
  mtPoint(p->op.db, eWhy ? "compact-uploaded" : "trim-uploaded");

  if( tsOpExec(&p->op, "BEGIN IMMEDIATE") ) goto done;
  pChk = tsOpPrepare(&p->op, "SELECT key FROM \"%w\".\"%w_objects\" WHERE id=?1", p->zDb, p->zTab);
  for(i=0; pChk && i<nId && !bAbort; i++){
    sqlite3_bind_int64(pChk, 1, aIn[i].iId);
    if( sqlite3_step(pChk)!=SQLITE_ROW
     || strcmp((const char*)sqlite3_column_text(pChk, 0), aIn[i].zKey)!=0 ) bAbort = 1;
    sqlite3_reset(pChk);
  }
  sqlite3_finalize(pChk);
  if( bAbort || p->op.rc ){
    sqlite3_exec(p->op.db, "ROLLBACK", 0, 0, 0);
    if( bAbort ) p->nAborted++;
    if( o ) mtObjRemove(p, o);
    goto done;
  }
  pDel = tsOpPrepare(&p->op, "DELETE FROM \"%w\".\"%w_objects\" WHERE id=?1", p->zDb, p->zTab);
  for(i=0; pDel && i<nId && p->op.rc==SQLITE_OK; i++){
    sqlite3_bind_int64(pDel, 1, aIn[i].iId);
    sqlite3_step(pDel);
    if( sqlite3_reset(pDel)!=SQLITE_OK ) tsOpSqlErr(&p->op, "deleting a rewritten manifest row");
  }
  sqlite3_finalize(pDel);
  if( o && p->op.rc==SQLITE_OK ){
    /* The new object takes the highest id of its inputs: the manifest id
    ** is the write order of overlapping objects (source.h rule 4), and the
    ** inputs are consecutive in it (mtCompact), so every other object of
    ** the day and bucket keeps its place before or after the merged rows. */
    sqlite3_stmt *pId;
    pIns = mtManifestInsertStmt(p);
    if( pIns ) mtManifestInsert(p, pIns, o);
    sqlite3_finalize(pIns);
    pId = tsOpPrepare(&p->op, "UPDATE \"%w\".\"%w_objects\" SET id=?1 WHERE key=?2", p->zDb, p->zTab);
    if( pId ){
      sqlite3_bind_int64(pId, 1, iMaxId);
      sqlite3_bind_text(pId, 2, o->zKey, -1, SQLITE_STATIC);
      sqlite3_step(pId);
      if( sqlite3_finalize(pId)!=SQLITE_OK ) tsOpSqlErr(&p->op, "numbering a rewritten object");
    }
  }
  if( zRej ) mtRejectRegister(p, zRej, nRej);
  /* The inputs stay in the store for readers of the old manifest; the
  ** orphan pass deletes them after the grace period. */
  for(i=0; i<nId; i++) mtRetire(p, aIn[i].zKey);
  if( p->op.rc==SQLITE_OK ) mtLeaseWrite(p);
  if( p->op.rc==SQLITE_OK ) mtPoint(p->op.db, "rewrite-in-commit");
  if( p->op.rc==SQLITE_OK && tsOpExec(&p->op, "COMMIT")==SQLITE_OK ){
    int64_t nOut = o ? o->nRow : 0;
    mtPoint(p->op.db, "rewrite-committed");
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
    if( zRej ){
      p->nRejRows += nRej;
      if( p->rej.n ) tsBufAppendByte(&p->rej, ',');
      tsJsonQuote(&p->rej, zRej, strlen(zRej));
      sqlite3_free(zRej);
      zRej = 0;
    }
  }else{
    sqlite3_exec(p->op.db, "ROLLBACK", 0, 0, 0);
    if( o ) mtObjRemove(p, o);
  }

done:
  if( zRej ){
    /* Not committed: the report goes too (or mtRejectCleanup removes it). */
    char *zE = 0;
    tsObjDelete(p->pStore, zRej, &zE);
    free(zE);
    sqlite3_free(zRej);
  }
  tsBufFree(&rej);
  if( o ){
    if( p->op.rc ) mtObjRemove(p, o);
    mtObjFree(o);
  }
  for(i=0; aIn && i<nId; i++) mtInClear(&aIn[i], mtNCol(p->s));
  sqlite3_free(aIn);
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
  int64_t tMin, tMax;
  int bCand;                    /* compaction: to be merged */
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
  sqlite3_stmt *pStmt = tsOpPrepare(&p->op, "SELECT id, key, nbyte, tmin, tmax FROM \"%w\".\"%w_objects\""
                                     " WHERE writer=?1 AND %s", p->zDb, p->zTab, zWhere);
  *pn = 0;
  if( pStmt==0 ) return 0;
  sqlite3_bind_text(pStmt, 1, p->zWriter, -1, SQLITE_STATIC);
  sqlite3_bind_int64(pStmt, 2, iArg);
  while( p->op.rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zKey = (const char*)sqlite3_column_text(pStmt, 1);
    int iB = zKey ? mtKeyBucket(zKey) : -1;
    if( iB<0 ) continue;                   /* not a key of ours: leave it */
    if( n==nAlloc ){
      MtCand *aNew = sqlite3_realloc64(a, sizeof(MtCand)*(nAlloc = nAlloc ? 2*nAlloc : 64));
      if( aNew==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); break; }
      a = aNew;
    }
    a[n].iId = sqlite3_column_int64(pStmt, 0);
    a[n].nByte = sqlite3_column_int64(pStmt, 2);
    a[n].iDay = tsFloorDiv(sqlite3_column_int64(pStmt, 3), MT_NS_PER_DAY);
    a[n].iBucket = iB;
    a[n].tMin = sqlite3_column_int64(pStmt, 3);
    a[n].tMax = sqlite3_column_int64(pStmt, 4);
    n++;
  }
  if( sqlite3_finalize(pStmt)!=SQLITE_OK ) tsOpSqlErr(&p->op, "reading the manifest");
  if( p->op.rc ){ sqlite3_free(a); return 0; }
  if( n>1 ) qsort(a, n, sizeof(MtCand), mtCandCmp);
  *pn = n;
  return a;
}

/* Retention of partly expired objects (tmin < expiry <= tmax): each is
** rewritten without its expired rows. */
void mtTrim(MtRun *p){
  int n = 0, i;
  int64_t nDone = 0;
  MtCand *a = mtCandLoad(p, "tmin < ?2", p->iExpire, &n);
  for(i=0; i<n && p->op.rc==SQLITE_OK && nDone<p->nCompactBudget; i++){
    mtRewrite(p, &a[i].iId, 1, a[i].iBucket, a[i].iDay, 0);
    nDone += a[i].nByte;
  }
  sqlite3_free(a);
}

/* 1 if no manifest object of day iDay and bucket iBucket has an id between
** idLo and idHi (exclusive): two inputs of one merge must be consecutive
** in the write order of their day and bucket (the output takes the
** highest id, mtRewrite). */
static int mtAdjacent(MtRun *p, sqlite3_int64 idLo, sqlite3_int64 idHi, int64_t iDay, int iBucket){
  int bAdj = 1;
  sqlite3_stmt *pStmt = tsOpPrepare(&p->op, "SELECT key FROM \"%w\".\"%w_objects\""
                                    " WHERE id>?1 AND id<?2 AND tmin>=?3 AND tmin<?4",
                                    p->zDb, p->zTab);
  if( pStmt==0 ) return 0;
  sqlite3_bind_int64(pStmt, 1, idLo);
  sqlite3_bind_int64(pStmt, 2, idHi);
  sqlite3_bind_int64(pStmt, 3, iDay*MT_NS_PER_DAY);
  sqlite3_bind_int64(pStmt, 4, (iDay+1)*MT_NS_PER_DAY);
  while( bAdj && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zKey = (const char*)sqlite3_column_text(pStmt, 0);
    int iB = zKey ? mtKeyBucket(zKey) : -1;
    if( iB<0 || iB==iBucket ) bAdj = 0;     /* a foreign key: keep clear of it too */
  }
  if( sqlite3_finalize(pStmt)!=SQLITE_OK ){ tsOpSqlErr(&p->op, "reading the manifest"); bAdj = 0; }
  return bAdj;
}

/* Delete the reports under <t>/_rejected/ that no committed rewrite
** registered (a pass that crashed between their upload and its commit):
** the lease holder is the only writer of reports, so while it runs every
** unregistered report is such a leftover.  The records of that rewrite
** are found again, and reported again, when the merge is redone. */
typedef struct MtRejList MtRejList;
struct MtRejList { char **az; int n, nAlloc; int bErr; };
static int mtRejListCb(void *pCtx, const TsObjInfo *pInfo){
  MtRejList *l = (MtRejList*)pCtx;
  if( l->n==l->nAlloc ){
    char **a = sqlite3_realloc64(l->az, sizeof(char*)*(l->nAlloc = l->nAlloc ? 2*l->nAlloc : 16));
    if( a==0 ){ l->bErr = 1; return 1; }
    l->az = a;
  }
  l->az[l->n] = sqlite3_mprintf("%s", pInfo->zKey);
  if( l->az[l->n]==0 ){ l->bErr = 1; return 1; }
  l->n++;
  return 0;
}
void mtRejectCleanup(MtRun *p){
  MtRejList l;
  char *zPrefix, *zE = 0;
  sqlite3_stmt *pStmt;
  int i;
  memset(&l, 0, sizeof(l));
  zPrefix = sqlite3_mprintf("%s/_rejected/", p->zTab);
  if( zPrefix==0 ){ tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory"); return; }
  if( tsObjList(p->pStore, zPrefix, mtRejListCb, &l, &zE)!=TS_OBJ_OK || l.bErr ){
    tsOpErr(&p->op, SQLITE_IOERR, "ts_maintain %s: listing %s: %s", p->zTab, zPrefix,
            zE ? zE : "failed");
  }
  free(zE); zE = 0;
  sqlite3_free(zPrefix);
  pStmt = tsOpPrepare(&p->op, "SELECT 1 FROM \"%w\".\"%w_config\" WHERE k='cold.rejected:' || ?1",
                      p->zDb, p->zTab);
  for(i=0; pStmt && p->op.rc==SQLITE_OK && i<l.n; i++){
    int bKeep;
    sqlite3_bind_text(pStmt, 1, l.az[i], -1, SQLITE_STATIC);
    bKeep = sqlite3_step(pStmt)==SQLITE_ROW;
    sqlite3_reset(pStmt);
    if( !bKeep && tsObjDelete(p->pStore, l.az[i], &zE)!=TS_OBJ_OK ){
      tsOpErr(&p->op, SQLITE_IOERR, "ts_maintain %s: deleting %s: %s", p->zTab, l.az[i],
              zE ? zE : "failed");
    }
    free(zE); zE = 0;
  }
  sqlite3_finalize(pStmt);
  for(i=0; i<l.n; i++) sqlite3_free(l.az[i]);
  sqlite3_free(l.az);
}

/*
** Compaction: objects smaller than half the target of one day and bucket
** are merged, in id order, into groups of at most the target size and
** MT_COMPACT_MAXIN inputs.  A day that tiering may still add to (it ends
** after the boundary) is merged only once it has nCompactMin small
** objects, so an hourly pass does not rewrite the day every hour; an older
** day is merged as soon as it has two.  At most nCompactBudget input bytes
** per pass; the rest is left for the next pass (each merge commits on its
** own, so the work is resumable at any point).  The inputs of one merge
** are consecutive in the manifest id order of their day and bucket (an
** object between them that is not merged ends the group), so the merged
** object, which takes the highest of their ids, keeps the write order
** the scan resolves record keys by (ext/recrule.h).
*/
void mtCompact(MtRun *p){
  int n = 0, i, j, k, m;
  int64_t nDone = 0;
  MtCand *a = mtCandLoad(p, "1", 0, &n);
  sqlite3_int64 *aId;
  /* Candidates: the small objects, and objects of any size that a newer
  ** object of their day and bucket overlaps in time (late data tiered on
  ** top of them) together with every object between the two in id order
  ** (so they can be merged as one consecutive group): merging them is
  ** where the rows of one key held twice are resolved for good and the
  ** rejected ones reported. */
  for(i=0; i<n; i++) a[i].bCand = a[i].nByte < p->nCompactTarget/2;
  for(i=0; i<n; i++){
    for(k=i+1; k<n && a[k].iDay==a[i].iDay && a[k].iBucket==a[i].iBucket; k++){
      if( a[k].tMin<=a[i].tMax && a[k].tMax>=a[i].tMin ){
        for(m=i; m<=k; m++) a[m].bCand = 1;
      }
    }
  }
  for(i=j=0; i<n; i++) if( a[i].bCand ) a[j++] = a[i];
  n = j;
  aId = sqlite3_malloc64(sizeof(sqlite3_int64)*MT_COMPACT_MAXIN);
  if( aId==0 && p->op.rc==SQLITE_OK ) tsOpErr(&p->op, SQLITE_NOMEM, "ts_maintain: out of memory");
  for(i=0; aId && i<n && p->op.rc==SQLITE_OK && nDone<p->nCompactBudget; i=j){
    int bOpen;
    for(j=i+1; j<n && a[j].iDay==a[i].iDay && a[j].iBucket==a[i].iBucket; j++){}
    bOpen = (a[i].iDay+1)*MT_NS_PER_DAY > p->iBound;
    if( j-i < (bOpen ? p->nCompactMin : 2) ) continue;
    for(k=i; k<j && p->op.rc==SQLITE_OK && nDone<p->nCompactBudget; ){
      int nG = 0;
      int64_t nB = 0, gMin = 0, gMax = 0;
      /* Two inputs at least (each is under half the target, so two fit),
      ** then while the target and the pass's budget allow, and past them
      ** while the next object overlaps the group in time (a key held by
      ** both is then resolved against every earlier row of the day). */
      while( k<j && nG<MT_COMPACT_MAXIN
          && (nG<2 || (nB + a[k].nByte <= p->nCompactTarget
                       && nDone + nB + a[k].nByte <= p->nCompactBudget)
              || (a[k].tMin<=gMax && a[k].tMax>=gMin)) ){
        if( nG>0 && !mtAdjacent(p, aId[nG-1], a[k].iId, a[i].iDay, a[i].iBucket) ) break;
        if( nG==0 || a[k].tMin<gMin ) gMin = a[k].tMin;
        if( nG==0 || a[k].tMax>gMax ) gMax = a[k].tMax;
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

