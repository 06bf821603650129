/*
** write.c: the write path of a timeseries table: xUpdate (INSERT with
** Timestream's write rules: types, write window, partition key, the
** duplicate/version rules through tsSourceFind; each stored row keeps the
** write mark of its conflict clause, ext/recrule.h), the per-series pending
** buffer (TsPend) and the bulk writes of batch load (tsWriteBatch).  The
** flush of pending rows into chunks is write_flush.c's (vtab.c's header
** comment describes the buffering and when flushes happen).
*/
#include "table_int.h"
#include "source.h"
#include "recrule.h"
#include "numtext.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/**************************************************************************
** The pending buffer: per series, slots in insertion order, each a record
** of the row (table_int.h: values, version, NULL flags, write mark, one
** stretch of memory per row, so appending a row writes one or two cache
** lines instead of one per column), times and the time order in arrays of
** their own (binary search), VARCHAR bytes per measure.
*/
void tsWritePendFree(TsTable *pTab, TsPend *p){
  int i, j;
  if( p==0 ) return;
  for(i=0; i<pTab->s.nMeas; i++){
    if( p->aazText && p->aazText[i] ){
      for(j=0; j<p->nRow; j++) sqlite3_free(p->aazText[i][j]);
      sqlite3_free(p->aazText[i]);
    }
    if( p->aanText ) sqlite3_free(p->aanText[i]);
  }
  sqlite3_free(p->aazText);
  sqlite3_free(p->aanText);
  sqlite3_free(p->aRec);
  sqlite3_free(p->aTime);
  sqlite3_free(p->aOrder);
  sqlite3_free(p);
}

/* Empty a buffer, keeping its arrays for the next rows. */
void tsWritePendReset(TsTable *pTab, TsPend *p){
  int i, j;
  if( p==0 ) return;
  for(i=0; p->bText && i<pTab->s.nMeas; i++){
    if( pTab->s.aMeasType[i]==TS_TYPE_VARCHAR && p->aazText[i] ){
      for(j=0; j<p->nRow; j++){ sqlite3_free(p->aazText[i][j]); p->aazText[i][j] = 0; }
    }
  }
  p->nRow = 0;
  p->bInOrder = 1;
  p->bNull = 0;
}


/* Make room for one more slot. */
static int pendGrow(TsTable *pTab, TsPend *p){
  int rc = SQLITE_OK, i, nNew;
  size_t n;
  if( p->nRow<p->nAlloc ) return SQLITE_OK;
  nNew = p->nAlloc ? p->nAlloc*2 : 16;
  n = (size_t)nNew;
  p->aTime = tsTabReallocArray(p->aTime, n, sizeof(sqlite3_int64), &rc);
  p->aOrder = tsTabReallocArray(p->aOrder, n, sizeof(int), &rc);
  p->aRec = tsTabReallocArray(p->aRec, n, (size_t)p->szRec, &rc);
  for(i=0; p->bText && i<pTab->s.nMeas; i++){
    if( pTab->s.aMeasType[i]==TS_TYPE_VARCHAR ){
      p->aazText[i] = tsTabReallocArray(p->aazText[i], n, sizeof(char*), &rc);
      p->aanText[i] = tsTabReallocArray(p->aanText[i], n, sizeof(int), &rc);
    }
  }
  if( rc==SQLITE_OK ) p->nAlloc = nNew;
  return rc;
}

static TsPend *pendNew(TsTable *pTab){
  TsPend *p = sqlite3_malloc64(sizeof(TsPend));
  size_t n = sizeof(void*)*(size_t)pTab->s.nMeas;
  int i;
  if( p==0 ) return 0;
  memset(p, 0, sizeof(*p));
  p->bInOrder = 1;
  p->szRec = TS_PREC_SIZE(pTab->s.nMeas);
  for(i=0; i<pTab->s.nMeas; i++) if( pTab->s.aMeasType[i]==TS_TYPE_VARCHAR ) p->bText = 1;
  p->aazText = sqlite3_malloc64(n ? n : 1);
  p->aanText = sqlite3_malloc64(n ? n : 1);
  /* zeroed before anything can free them (tsWritePendFree reads them) */
  if( p->aazText ) memset(p->aazText, 0, n);
  if( p->aanText ) memset(p->aanText, 0, n);
  if( !p->aazText || !p->aanText ){
    tsWritePendFree(pTab, p);
    return 0;
  }
  return p;
}

/* Store the staged row (pTab->aSt*) with time t, version v and write mark
** eMark in slot iSlot, replacing what the slot held. */
static int pendSetSlot(TsTable *pTab, TsPend *p, int iSlot, sqlite3_int64 t,
                       sqlite3_int64 v, int eMark, int bNewSlot){
  int nMeas = pTab->s.nMeas, i;
  unsigned char *r = TS_PREC(p, iSlot);
  sqlite3_int64 nByte = 0;
  for(i=0; p->bText && i<nMeas; i++){
    int bNull = pTab->aStNull[i];
    if( pTab->s.aMeasType[i]==TS_TYPE_VARCHAR ){
      char *z = 0;
      if( !bNull ){
        int n = pTab->anStText[i];
        z = sqlite3_malloc64((size_t)n + 1);
        if( z==0 ){
          if( bNewSlot ){
            /* leave the slot well-formed for pendFree */
            for(; i<pTab->s.nMeas; i++){
              if( pTab->s.aMeasType[i]==TS_TYPE_VARCHAR ) p->aazText[i][iSlot] = 0;
            }
          }
          return SQLITE_NOMEM;
        }
        memcpy(z, pTab->azStText[i], (size_t)n);
        z[n] = 0;
        nByte += n;
      }
      if( !bNewSlot ) sqlite3_free(p->aazText[i][iSlot]);
      p->aazText[i][iSlot] = z;
      p->aanText[i][iSlot] = bNull ? 0 : pTab->anStText[i];
    }
  }
  /* values (0 for NULL and VARCHAR), version, flags, mark */
  memcpy(r, pTab->aStNum, sizeof(sqlite3_int64)*(size_t)nMeas);
  memcpy(r + TS_PREC_VERSION(nMeas), &v, sizeof(v));
  memcpy(r + TS_PREC_NULL(nMeas), pTab->aStNull, (size_t)nMeas);
  for(i=0; i<nMeas && !p->bNull; i++) p->bNull = pTab->aStNull[i];
  r[TS_PREC_MARK(nMeas)] = (unsigned char)eMark;
  p->aTime[iSlot] = t;
  pTab->nPendBytes += nByte + 20 + 9*pTab->s.nMeas;
  return SQLITE_OK;
}

/* Does the staged row equal pending slot iSlot (all measures, NULLs
** equal)? */
static int stagedEqualsSlot(TsTable *pTab, const TsPend *p, int iSlot){
  int nMeas = pTab->s.nMeas, i;
  const unsigned char *r = TS_PREC(p, iSlot);
  for(i=0; i<nMeas; i++){
    int bNull = r[TS_PREC_NULL(nMeas) + i]!=0;
    sqlite3_int64 x;
    if( bNull!=(pTab->aStNull[i]!=0) ) return 0;
    if( bNull ) continue;
    memcpy(&x, r + sizeof(x)*(size_t)i, sizeof(x));
    switch( pTab->s.aMeasType[i] ){
      case TS_TYPE_DOUBLE: {
        double r1, r2;
        memcpy(&r1, &x, sizeof(r1));
        memcpy(&r2, &pTab->aStNum[i], sizeof(r2));
        if( r1!=r2 ) return 0;
        break;
      }
      case TS_TYPE_VARCHAR:
        if( p->aanText[i][iSlot]!=pTab->anStText[i]
         || memcmp(p->aazText[i][iSlot], pTab->azStText[i], (size_t)pTab->anStText[i])!=0 ){
          return 0;
        }
        break;
      default:
        if( x!=pTab->aStNum[i] ) return 0;
        break;
    }
  }
  return 1;
}

/* Does the staged row equal row iRow of pRun (all measures, NULLs equal)? */
static int stagedEquals(TsTable *pTab, const TsRun *pRun, int iRow){
  int i;
  for(i=0; i<pTab->s.nMeas; i++){
    const TsChunkCol *c = &pRun->aCol[i];
    int bNull = c->aNull ? c->aNull[iRow]!=0 : 0;
    if( bNull!=(pTab->aStNull[i]!=0) ) return 0;
    if( bNull ) continue;
    switch( c->eType ){
      case TS_TYPE_DOUBLE: {
        double r;
        memcpy(&r, &pTab->aStNum[i], sizeof(r));
        if( c->aDouble[iRow]!=r ) return 0;
        break;
      }
      case TS_TYPE_VARCHAR:
        if( c->anText[iRow]!=pTab->anStText[i]
         || memcmp(c->azText[iRow], pTab->azStText[i], (size_t)pTab->anStText[i])!=0 ) return 0;
        break;
      default:
        if( c->aInt[iRow]!=pTab->aStNum[i] ) return 0;
        break;
    }
  }
  return 1;
}


void tsWritePendDiscardAll(TsTable *p){
  while( p->pPendFirst ){
    TsSeries *pS = p->pPendFirst;
    p->pPendFirst = pS->pPendNext;
    pS->pPendNext = 0;
    pS->bPendList = 0;
    tsWritePendReset(p, pS->pPend);
    tsTabSeriesUnref(p, pS);
  }
  p->nPendBytes = 0;
  p->bWlogKnown = 0;   /* a rolled-back CREATE or DROP of the write log restores an older schema cookie */
}

/**************************************************************************
** xUpdate: INSERT with Timestream's write rules; UPDATE and DELETE fail.
*/

/* Describe value v for an error message (bounded; sqlite3_malloc'd). */
static char *describeValue(sqlite3_value *v){
  switch( sqlite3_value_type(v) ){
    case SQLITE_NULL: return sqlite3_mprintf("NULL");
    case SQLITE_INTEGER: return sqlite3_mprintf("INTEGER %lld", sqlite3_value_int64(v));
    case SQLITE_FLOAT: return sqlite3_mprintf("REAL %!.15g", sqlite3_value_double(v));
    case SQLITE_BLOB: return sqlite3_mprintf("BLOB of %d bytes", sqlite3_value_bytes(v));
    default: {
      int n = sqlite3_value_bytes(v);
      const char *z = (const char*)sqlite3_value_text(v);
      if( n>64 ) return sqlite3_mprintf("TEXT '%.60s...' (%d bytes)", z, n);
      return sqlite3_mprintf("TEXT '%s'", z);
    }
  }
}


/* Type of v after SQLite's NUMERIC affinity (TEXT that looks like a number
** becomes one; integral text is converted exactly, see numtext.h) with the
** value in *pNum.  Reads only v itself: no sqlite3_value_dup(), whose copy
** has no database and crashes sqlite3_value_numeric_type() on SQLite 3.53. */
int tsTabNumericOf(sqlite3_value *v, TsNum *pNum){
  int eType = sqlite3_value_type(v);
  memset(pNum, 0, sizeof(*pNum));
  if( eType==SQLITE_INTEGER ){
    pNum->i = sqlite3_value_int64(v);
  }else if( eType==SQLITE_FLOAT ){
    pNum->r = sqlite3_value_double(v);
  }else if( eType==SQLITE_TEXT ){
    const char *z = (const char*)sqlite3_value_text(v);
    int n = sqlite3_value_bytes(v);
    int64_t i = 0;
    int e = z ? tsNumText(z, (size_t)n, &i, &pNum->r, &pNum->bIntegral) : TS_NUMTEXT_NONE;
    if( e==TS_NUMTEXT_INT ){ pNum->i = i; eType = SQLITE_INTEGER; }
    else if( e==TS_NUMTEXT_REAL ) eType = SQLITE_FLOAT;
  }
  return eType;
}

/* Convert a value for a TEXT column (dimension, measure_name, VARCHAR):
** numbers become their text (SQLite's TEXT affinity), BLOB is an error.
** The conversion happens in v itself (an xUpdate argument, a protected
** value), never in a sqlite3_value_dup() copy: copies have no database and
** SQLite 3.53 crashes converting them.  *ppDup is always NULL (kept for the
** callers' cleanup). */
int tsTabTextOf(sqlite3_value *v, sqlite3_value **ppDup, const char **pz, int *pn){
  int eType = sqlite3_value_type(v);
  *ppDup = 0;
  if( eType==SQLITE_BLOB ) return 1;
  *pz = (const char*)sqlite3_value_text(v);
  *pn = sqlite3_value_bytes(v);
  return *pz==0 ? 2 : 0;
}

static int errValue(TsTable *p, int rc, const char *zCol, const char *zType, const char *zExp,
                    sqlite3_value *v){
  char *zV = describeValue(v);
  tsTabErr(p, "timeseries %s: column %s (%s): expected %s, got %s",
            p->zName, zCol, zType, zExp, zV ? zV : "?");
  sqlite3_free(zV);
  return rc;
}

/* Convert measure iMeas of a new row into the staging area. */
static int stageMeasure(TsTable *p, int iMeas, sqlite3_value *v){
  int eType = p->s.aMeasType[iMeas];
  const char *zCol, *zType;   /* for messages: set past the fast paths */
  TsNum num;
  int eVal;
  int eArg = sqlite3_value_type(v);
  p->aStNull[iMeas] = 0;
  p->aStNum[iMeas] = 0;
  if( eArg==SQLITE_NULL ){
    p->aStNull[iMeas] = 1;
    return SQLITE_OK;
  }
  /* Fast paths for the common cases of the ingest loop. */
  if( eType==TS_TYPE_DOUBLE && eArg==SQLITE_FLOAT ){
    double r = sqlite3_value_double(v);
    if( isfinite(r) ){
      memcpy(&p->aStNum[iMeas], &r, sizeof(r));
      return SQLITE_OK;
    }
  }else if( eArg==SQLITE_INTEGER && (eType==TS_TYPE_BIGINT || eType==TS_TYPE_TIMESTAMP) ){
    sqlite3_int64 x = sqlite3_value_int64(v);
    if( eType==TS_TYPE_BIGINT || x>=0 ){
      p->aStNum[iMeas] = x;
      return SQLITE_OK;
    }
  }
  zCol = p->s.azMeas[iMeas];
  zType = tsChunkTypeName(eType);
  switch( eType ){
    case TS_TYPE_DOUBLE: {
      double r;
      eVal = tsTabNumericOf(v, &num);
      if( eVal==SQLITE_INTEGER ){
        r = (double)num.i;
      }else if( eVal==SQLITE_FLOAT ){
        r = num.r;
      }else{
        return errValue(p, SQLITE_MISMATCH, zCol, zType, "a number", v);
      }
      if( !isfinite(r) ){
        tsTabErr(p, "timeseries %s: column %s (DOUBLE): NaN and Infinity cannot be "
                  "stored", p->zName, zCol);
        return SQLITE_MISMATCH;
      }
      memcpy(&p->aStNum[iMeas], &r, sizeof(r));
      return SQLITE_OK;
    }
    case TS_TYPE_BIGINT: {
      eVal = tsTabNumericOf(v, &num);
      if( eVal==SQLITE_INTEGER ){
        p->aStNum[iMeas] = num.i;
      }else if( eVal==SQLITE_FLOAT ){
        double r = num.r;
        if( num.bIntegral ){
          return errValue(p, SQLITE_MISMATCH, zCol, zType,
                          "an integer from -9223372036854775808 to 9223372036854775807", v);
        }
        if( eArg==SQLITE_TEXT || r!=floor(r) || r<-9223372036854775808.0
         || r>=9223372036854775808.0 ){
          /* Non-integral text, or a REAL that is not a whole int64: text
          ** that denotes an integer was converted exactly above. */
          return errValue(p, SQLITE_MISMATCH, zCol, zType, "an integer", v);
        }
        p->aStNum[iMeas] = (sqlite3_int64)r;
      }else{
        return errValue(p, SQLITE_MISMATCH, zCol, zType, "an integer", v);
      }
      return SQLITE_OK;
    }
    case TS_TYPE_BOOLEAN: {
      eVal = sqlite3_value_type(v);
      if( eVal==SQLITE_INTEGER && (sqlite3_value_int64(v)==0 || sqlite3_value_int64(v)==1) ){
        p->aStNum[iMeas] = sqlite3_value_int64(v);
        return SQLITE_OK;
      }
      if( eVal==SQLITE_FLOAT && (sqlite3_value_double(v)==0.0 || sqlite3_value_double(v)==1.0) ){
        p->aStNum[iMeas] = sqlite3_value_double(v)==1.0;
        return SQLITE_OK;
      }
      if( eVal==SQLITE_TEXT ){
        const char *z = (const char*)sqlite3_value_text(v);
        if( z && (sqlite3_stricmp(z, "true")==0 || strcmp(z, "1")==0) ){
          p->aStNum[iMeas] = 1;
          return SQLITE_OK;
        }
        if( z && (sqlite3_stricmp(z, "false")==0 || strcmp(z, "0")==0) ){
          p->aStNum[iMeas] = 0;
          return SQLITE_OK;
        }
      }
      return errValue(p, SQLITE_MISMATCH, zCol, zType, "true, false, 1 or 0", v);
    }
    case TS_TYPE_TIMESTAMP: {
      eVal = tsTabNumericOf(v, &num);
      if( eVal==SQLITE_INTEGER ){
        p->aStNum[iMeas] = num.i;
      }else if( eVal==SQLITE_TEXT ){
        int64_t iNs;
        if( tsTimeParseIso((const char*)sqlite3_value_text(v), sqlite3_value_bytes(v), &iNs) ){
          return errValue(p, SQLITE_MISMATCH, zCol, zType,
                          "INTEGER nanoseconds or ISO-8601 TEXT", v);
        }
        p->aStNum[iMeas] = iNs;
      }else{
        return errValue(p, SQLITE_MISMATCH, zCol, zType, "INTEGER nanoseconds or ISO-8601 TEXT", v);
      }
      if( p->aStNum[iMeas]<0 ){
        return errValue(p, SQLITE_MISMATCH, zCol, zType,
                        "a time from 1970-01-01T00:00:00Z on", v);
      }
      return SQLITE_OK;
    }
    default: {   /* VARCHAR */
      sqlite3_value *pDup;   /* always NULL (tsTabTextOf) */
      int rc = tsTabTextOf(v, &pDup, &p->azStText[iMeas], &p->anStText[iMeas]);
      if( rc==2 ) return SQLITE_NOMEM;
      if( rc ) return errValue(p, SQLITE_MISMATCH, zCol, zType, "TEXT", v);
      if( p->anStText[iMeas]>TS_MAX_VALUE_BYTES ){
        tsTabErr(p, "timeseries %s: column %s (VARCHAR): value is %d bytes, the limit "
                  "is %d", p->zName, zCol, p->anStText[iMeas], TS_MAX_VALUE_BYTES);
        return SQLITE_TOOBIG;
      }
      return SQLITE_OK;
    }
  }
}

/* Refuse a NUL byte inside a series-key value (a dimension or
** measure_name, zWhat names it): the series catalogue would keep every byte
** but scans return the value as a C string cut at the NUL, so two series
** would look identical.  VARCHAR measures are stored and returned
** byte-exact and need no such check. */
static int keyValueNulCheck(TsTable *p, const char *zWhat, const char *zCol,
                            const char *z, int n){
  const char *zNul = n>0 ? memchr(z, 0, (size_t)n) : 0;
  if( zNul==0 ) return SQLITE_OK;
  tsTabErr(p, "timeseries %s: %s%s: value contains a NUL byte at offset %d (not supported)",
           p->zName, zWhat, zCol, (int)(zNul - z));
  return SQLITE_MISMATCH;
}

/* The checks of a converted dimension value (n bytes) and of a given
** measure_name, shared by xUpdate and the bulk path (writeRec). */
static int dimValueCheck(TsTable *p, int iDim, const char *z, int n){
  if( n>TS_MAX_VALUE_BYTES ){
    tsTabErr(p, "timeseries %s: dimension %s: value is %d bytes, the limit is %d",
             p->zName, p->s.azDim[iDim], n, TS_MAX_VALUE_BYTES);
    return SQLITE_TOOBIG;
  }
  return keyValueNulCheck(p, "dimension ", p->s.azDim[iDim], z, n);
}
static int mnameValueCheck(TsTable *p, const char *z, int n){
  if( n==0 || n>TS_MAX_MNAME_BYTES ){
    tsTabErr(p, "timeseries %s: measure_name must be 1 to %d bytes, got %d bytes",
             p->zName, TS_MAX_MNAME_BYTES, n);
    return SQLITE_TOOBIG;
  }
  return keyValueNulCheck(p, "measure_name", "", z, n);
}

/* Format "(hostname='a', region=NULL, measure_name='m', time=...)" for a
** rejected record. */
static char *describeKey(TsTable *p, const char *const *azDim, const char *zMName,
                         sqlite3_int64 t){
  char zIso[TS_ISO_BUFSZ];
  char *z = sqlite3_mprintf("(");
  int i;
  for(i=0; z && i<p->s.nDim; i++){
    if( azDim[i] ) z = sqlite3_mprintf("%z%s=%Q, ", z, p->s.azDim[i], azDim[i]);
    else z = sqlite3_mprintf("%z%s=NULL, ", z, p->s.azDim[i]);
  }
  tsTimeFormatIso(t, zIso);
  if( z ) z = sqlite3_mprintf("%zmeasure_name=%Q, time=%s)", z, zMName, zIso);
  return z;
}

#define TS_ACT_NOOP    0
#define TS_ACT_STORE   1
#define TS_ACT_REJECT  2

/* Timestream's decision table (reference 1.6) plus the conflict clause. */
static int decide(int bEqual, sqlite3_int64 iOld, sqlite3_int64 iNew, int eConflict){
  if( bEqual ) return iNew<=iOld ? TS_ACT_NOOP : TS_ACT_STORE;
  if( iNew>iOld ) return TS_ACT_STORE;
  if( eConflict==SQLITE_REPLACE ) return TS_ACT_STORE;
  if( eConflict==SQLITE_IGNORE ) return TS_ACT_NOOP;
  return TS_ACT_REJECT;
}

static int writeStaged(TsTable *p, sqlite3_int64 t, sqlite3_int64 iVersion,
                       const char *const *azDim, const int *anDim, const char *zMName,
                       int nMName, int eConflict, TsSeries *pKnown);

/*
** The series of a row when the series cache is current for this
** transaction (bTxnChecked) and already holds the row's values; NULL
** otherwise (then the caller checks the values and writeStaged finds or
** makes the series).  A known series' values passed dimValueCheck and
** mnameValueCheck when the series was made, so a row with the same values
** needs neither: the per-value checks (a NUL scan per dimension) run once
** per new series, not once per row.  Values over the limits never match
** (no series holds them), so their errors are unchanged.
**
** The first guess is the series that followed the previous row's series
** the last time (pSucc): rows that cycle through the series in a fixed
** order (every host at t, then every host at t+10s) and rows sorted by
** series (pSucc is the series itself) are found by comparing their values
** with one series, without hashing them.  A miss costs that comparison
** (usually cut short at the first dimension) and then the hash lookup.
*/
static TsSeries *knownSeries(TsTable *p, const char *const *azDim, const int *anDim,
                             const char *zMName, int nMName){
  TsSeries *pLast = p->pLastWrite, *pS;
  int i;
  if( !p->bTxnChecked || nMName<1 || nMName>TS_MAX_MNAME_BYTES ) return 0;
  for(i=0; i<p->s.nDim; i++) if( azDim[i] && anDim[i]>TS_MAX_VALUE_BYTES ) return 0;
  pS = pLast ? pLast->pSucc : 0;
  if( pS==0 || !tsTabSeriesIs(pS, p->s.nDim, azDim, anDim, zMName, nMName) ){
    pS = tsTabSeriesFind(p, azDim, anDim, zMName, nMName,
                         tsTabValuesHash(p->s.nDim, azDim, anDim, zMName, nMName));
    if( pS==0 ) return 0;
    if( pLast ) pLast->pSucc = pS;
  }
  p->pLastWrite = pS;
  return pS;
}

static int tsUpdateImpl(sqlite3_vtab *pVtab, int argc, sqlite3_value **argv, sqlite3_int64 *pRowid){
  TsTable *p = ((TsVtab*)pVtab)->pTab;
  const char *azDim[TS_MAX_DIMS];
  int anDim[TS_MAX_DIMS];
  sqlite3_value *apDup[TS_MAX_DIMS+1];
  int nDup = 0;
  const char *zMName = 0;
  int nMName = 0;
  sqlite3_int64 t = 0, iVersion = 1;
  int rc = SQLITE_OK, i, nNonNull = 0;
  int eConflict = sqlite3_vtab_on_conflict(p->db);
  sqlite3_value **aCol = &argv[2];
  TsSeries *pKnown = 0;   /* the row's series when knownSeries finds it */

  *pRowid = 0;
  if( argc==1 ){
    tsTabErr(p, "timeseries %s: DELETE is not supported: records leave the table only "
              "through retention (memory_retention + magnetic_retention) or DROP TABLE", p->zName);
    return SQLITE_ERROR;
  }
  if( sqlite3_value_type(argv[0])!=SQLITE_NULL ){
    tsTabErr(p, "timeseries %s: UPDATE is not supported: records are immutable; to change "
              "a record, INSERT it again with the same dimensions, measure_name and time and a "
              "higher version (upsert)", p->zName);
    return SQLITE_ERROR;
  }
  if( p->rcFlush ){
    tsTabErr(p, "timeseries %s: an earlier flush of this transaction failed; roll it back",
              p->zName);
    return p->rcFlush;
  }

  /* time */
  {
    sqlite3_value *v = aCol[TS_COL_TIME];
    TsNum num;
    int eType = sqlite3_value_type(v);
    if( eType==SQLITE_INTEGER ){
      num.i = sqlite3_value_int64(v);   /* the usual case, without tsTabNumericOf */
    }else{
      eType = tsTabNumericOf(v, &num);
    }
    if( eType==SQLITE_INTEGER ){
      t = num.i;
    }else if( eType==SQLITE_TEXT ){
      int64_t iNs;
      int rcT = tsTimeParseIso((const char*)sqlite3_value_text(v), sqlite3_value_bytes(v), &iNs);
      if( rcT ){
        char *zV = describeValue(v);
        tsTabErr(p, "timeseries %s: column time: %s is not an ISO-8601 time "
                  "(e.g. '2024-05-01T12:00:00.123456789Z')", p->zName, zV ? zV : "?");
        sqlite3_free(zV);
        rc = SQLITE_MISMATCH;
      }
      t = iNs;
    }else{
      char *zV = describeValue(v);
      tsTabErr(p, "timeseries %s: column time: expected INTEGER nanoseconds since "
                "1970-01-01 or ISO-8601 TEXT, got %s", p->zName, zV ? zV : "?");
      sqlite3_free(zV);
      rc = SQLITE_MISMATCH;
    }
    if( rc ) return rc;
  }

  /* dimensions and measure_name: converted first; their value checks run
  ** in column order, before the first conversion error, unless the key is
  ** a known series' (knownSeries) */
  {
    int iBad = -1;          /* first column that failed to convert (nDim: measure_name) */
    int rcBad = SQLITE_OK;
    sqlite3_value *vM = aCol[tsTabColMName(p)];
    int bMNameGiven = sqlite3_value_type(vM)!=SQLITE_NULL;
    for(i=0; i<p->s.nDim; i++){
      sqlite3_value *v = aCol[1+i];
      int rcT;
      int eArg = sqlite3_value_type(v);
      azDim[i] = 0;
      anDim[i] = 0;
      if( eArg==SQLITE_NULL ) continue;
      if( eArg==SQLITE_TEXT ){
        /* the usual case, without tsTabTextOf's second type lookup */
        azDim[i] = (const char*)sqlite3_value_text(v);
        anDim[i] = sqlite3_value_bytes(v);
        rcT = azDim[i]==0 ? 2 : 0;
      }else{
        rcT = tsTabTextOf(v, &apDup[nDup], &azDim[i], &anDim[i]);
        if( apDup[nDup] ) nDup++;
      }
      if( rcT ){ iBad = i; rcBad = rcT; break; }
    }
    if( iBad<0 ){
      if( !bMNameGiven ){
        zMName = p->s.zMeasureName;
        nMName = (int)strlen(zMName);
      }else{
        int rcT = tsTabTextOf(vM, &apDup[nDup], &zMName, &nMName);
        if( apDup[nDup] ) nDup++;
        if( rcT ){ iBad = p->s.nDim; rcBad = rcT; }
      }
    }
    if( iBad<0 ) pKnown = knownSeries(p, azDim, anDim, zMName, nMName);
    if( rc==SQLITE_OK && pKnown==0 ){
      int nCheck = iBad<0 ? p->s.nDim : (iBad<p->s.nDim ? iBad : p->s.nDim);
      for(i=0; rc==SQLITE_OK && i<nCheck; i++){
        if( azDim[i] ) rc = dimValueCheck(p, i, azDim[i], anDim[i]);
      }
      if( rc==SQLITE_OK && iBad<0 && bMNameGiven ) rc = mnameValueCheck(p, zMName, nMName);
    }
    if( rc==SQLITE_OK && iBad>=0 ){
      if( rcBad==2 ){
        rc = SQLITE_NOMEM;
      }else if( iBad<p->s.nDim ){
        rc = errValue(p, SQLITE_MISMATCH, p->s.azDim[iBad], "DIMENSION", "TEXT", aCol[1+iBad]);
      }else{
        rc = errValue(p, SQLITE_MISMATCH, "measure_name", "TEXT", "TEXT", vM);
      }
    }
  }

  /* measures and version */
  for(i=0; rc==SQLITE_OK && i<p->s.nMeas; i++){
    rc = stageMeasure(p, i, aCol[tsTabColMeas0(p)+i]);
    if( rc==SQLITE_OK && !p->aStNull[i] ) nNonNull++;
  }
  if( rc==SQLITE_OK && nNonNull==0 ){
    tsTabErr(p, "timeseries %s: a record needs at least one non-NULL measure", p->zName);
    rc = SQLITE_CONSTRAINT;
  }
  if( rc==SQLITE_OK ){
    sqlite3_value *v = aCol[tsTabColVersion(p)];
    if( sqlite3_value_type(v)==SQLITE_NULL ){
      iVersion = 1;
    }else if( sqlite3_value_type(v)!=SQLITE_INTEGER || sqlite3_value_int64(v)<1 ){
      char *zV = describeValue(v);
      tsTabErr(p, "timeseries %s: column version: expected an INTEGER >= 1, got %s",
                p->zName, zV ? zV : "?");
      sqlite3_free(zV);
      rc = SQLITE_MISMATCH;
    }else{
      iVersion = sqlite3_value_int64(v);
    }
  }

  if( rc==SQLITE_OK ) rc = writeStaged(p, t, iVersion, azDim, anDim, zMName, nMName, eConflict, pKnown);

  for(i=0; i<nDup; i++) sqlite3_value_free(apDup[i]);
  return rc;
}

/*
** The write rules for a converted row whose measures are staged in
** p->aStNull/aStNum/azStText/anStText: write window, partition key, the
** series, Timestream's duplicate/version rules, the pending buffer (shared
** by xUpdate and tsWriteBatch).  A rejection sets the handle's message.
*/
static int writeStaged(TsTable *p, sqlite3_int64 t, sqlite3_int64 iVersion,
                       const char *const *azDim, const int *anDim, const char *zMName,
                       int nMName, int eConflict, TsSeries *pKnown){
  TsSeries *pS = pKnown;
  int rc = SQLITE_OK;

  /* Records Timestream would reject (write window, partition key): the
  ** conflict clause applies (OR IGNORE skips them). */
  if( rc==SQLITE_OK ){
    sqlite3_int64 now = tsEnvNow(p->pEnv);
    sqlite3_int64 lo = now - p->s.iMemRet - (p->s.bMagWrites ? p->s.iMagRet : 0);
    sqlite3_int64 hi = now + TS_FUTURE_NS;
    if( t<lo || t>hi ){
      if( eConflict==SQLITE_IGNORE ) goto done;
      {
        char zT[TS_ISO_BUFSZ], zLo[TS_ISO_BUFSZ], zHi[TS_ISO_BUFSZ];
        tsTimeFormatIso(t, zT);
        tsTimeFormatIso(lo, zLo);
        tsTimeFormatIso(hi, zHi);
        tsTabErr(p, "timeseries %s: time %s is outside the write window [%s, %s] "
                  "(now - %s .. now + 15 minutes)", p->zName, zT, zLo, zHi,
                  p->s.bMagWrites ? "memory_retention - magnetic_retention" : "memory_retention");
      }
      rc = SQLITE_CONSTRAINT;
    }
  }
  if( rc==SQLITE_OK && p->s.bPartRequired && p->s.iPartDim>=0 && azDim[p->s.iPartDim]==0 ){
    if( eConflict==SQLITE_IGNORE ) goto done;
    tsTabErr(p, "timeseries %s: partition_enforcement is 'required' and the record has no "
              "value for the partition key %s", p->zName, p->s.azDim[p->s.iPartDim]);
    rc = SQLITE_CONSTRAINT;
  }

  /* Find the series (unless the caller's knownSeries did) and apply the
  ** duplicate rules. */
  if( rc==SQLITE_OK && pS==0 ){
    if( !p->bTxnChecked ){
      rc = tsTabSeriesRefresh(p);
      if( rc==SQLITE_OK ) p->bTxnChecked = 1;
    }
    if( rc==SQLITE_OK ){
      tsTabKeyEncode(&p->key, p->s.nDim, azDim, anDim, zMName, nMName);
      if( p->key.bErr ) rc = SQLITE_NOMEM;
    }
    if( rc==SQLITE_OK ) rc = tsTabSeriesForWrite(p, azDim, anDim, zMName, nMName, &pS);
    if( rc==SQLITE_OK ){
      if( p->pLastWrite ) p->pLastWrite->pSucc = pS;
      p->pLastWrite = pS;
    }
  }
  if( rc==SQLITE_OK ){
    TsPend *pP = pS->pPend;
    int iPos = 0, bFound = 0, eAct = TS_ACT_STORE;
    int eMark = eConflict==SQLITE_REPLACE ? TS_MARK_REPLACE
              : eConflict==SQLITE_IGNORE ? TS_MARK_IGNORE : TS_MARK_NONE;
    sqlite3_int64 iOld = 0;
    if( pP==0 ){
      pP = pS->pPend = pendNew(p);
      if( pP==0 ){
        rc = SQLITE_NOMEM;
        goto done;
      }
    }
    if( !pS->bPendList ){
      pS->nRef++;
      pS->bPendList = 1;
      pS->pPendNext = p->pPendFirst;
      p->pPendFirst = pS;
    }
    if( pP->nRow==0 || t>pP->tLast ){
      iPos = pP->nRow;
    }else{
      iPos = tsTabSearchTime((const int64_t*)pP->aTime, pP->aOrder, pP->nRow, t);
      bFound = iPos<pP->nRow && pP->aTime[pP->aOrder[iPos]]==t;
    }
    if( bFound ){
      int iSlot = pP->aOrder[iPos];
      const unsigned char *r = TS_PREC(pP, iSlot);
      memcpy(&iOld, r + TS_PREC_VERSION(p->s.nMeas), sizeof(iOld));
      eAct = decide(stagedEqualsSlot(p, pP, iSlot), iOld, iVersion, eConflict);
      eMark = tsRecMarkStore(r[TS_PREC_MARK(p->s.nMeas)], eMark);
      if( eAct==TS_ACT_STORE ) rc = pendSetSlot(p, pP, iSlot, t, iVersion, eMark, 0);
    }else{
      {
        /* The stored record of the key, in whichever tier holds it. */
        const TsRun *pRun = 0;
        int iRow = -1;
        rc = tsSourceFind(p, pS, t, &pRun, &iRow);
        if( rc==SQLITE_OK && iRow>=0 ){
          iOld = pRun->aVersion ? pRun->aVersion[iRow] : 1;
          eAct = decide(stagedEquals(p, pRun, iRow), iOld, iVersion, eConflict);
          eMark = tsRecMarkStore(pRun->aMark ? pRun->aMark[iRow] : TS_MARK_NONE, eMark);
        }
      }
      if( rc==SQLITE_OK && eAct==TS_ACT_STORE ){
        rc = pendGrow(p, pP);
        if( rc==SQLITE_OK ){
          int iSlot = pP->nRow;
          rc = pendSetSlot(p, pP, iSlot, t, iVersion, eMark, 1);
          if( rc==SQLITE_OK ){
            if( iPos<pP->nRow ){
              memmove(&pP->aOrder[iPos+1], &pP->aOrder[iPos], sizeof(int)*(size_t)(pP->nRow-iPos));
              pP->bInOrder = 0;
            }
            pP->aOrder[iPos] = iSlot;
            pP->nRow++;
            if( iPos==iSlot ) pP->tLast = t;
          }
        }
      }
    }
    if( rc==SQLITE_OK && eAct==TS_ACT_REJECT ){
      char *zKey = describeKey(p, azDim, pS->zMName, t);
      tsTabErr(p, "timeseries %s: record %s already exists with different measure values "
                "and version %lld; the new record's version %lld must be higher to update it "
                "(or use INSERT OR REPLACE / INSERT OR IGNORE)", p->zName, zKey ? zKey : "?",
                iOld, iVersion);
      sqlite3_free(zKey);
      rc = SQLITE_CONSTRAINT;
    }
  }
  if( rc==SQLITE_OK && p->nPendBytes>TS_PENDING_BUDGET ){
    rc = tsTabFlushAll(p);
  }

done:
  return rc;
}

int tsWriteUpdate(sqlite3_vtab *pVtab, int argc, sqlite3_value **argv, sqlite3_int64 *pRowid){
  return tsTabVtabRc(pVtab, tsUpdateImpl(pVtab, argc, argv, pRowid));
}

/**************************************************************************
** Bulk writes through the handle (batch load): table.h describes the
** contract.  The values arrive converted, so only their checks remain; the
** rules after conversion are writeStaged's, the same as xUpdate's.
*/

/* Stage measure iMeas from a bulk value, with xUpdate's checks and
** messages. */
static int stageValue(TsTable *p, int iMeas, const TsWriteVal *v){
  int eType = p->s.aMeasType[iMeas];
  const char *zCol = p->s.azMeas[iMeas], *zType;
  p->aStNull[iMeas] = 0;
  p->aStNum[iMeas] = 0;
  if( v->eType==SQLITE_INTEGER && eType==TS_TYPE_BIGINT ){   /* the common case */
    p->aStNum[iMeas] = v->i;
    return SQLITE_OK;
  }
  zType = tsChunkTypeName(eType);
  switch( v->eType ){
    case SQLITE_NULL:
      p->aStNull[iMeas] = 1;
      return SQLITE_OK;
    case SQLITE_INTEGER:
      if( eType==TS_TYPE_BIGINT ){ p->aStNum[iMeas] = v->i; return SQLITE_OK; }
      if( eType==TS_TYPE_DOUBLE ){
        double r = (double)v->i;
        memcpy(&p->aStNum[iMeas], &r, sizeof(r));
        return SQLITE_OK;
      }
      if( eType==TS_TYPE_BOOLEAN && (v->i==0 || v->i==1) ){ p->aStNum[iMeas] = v->i; return SQLITE_OK; }
      if( eType==TS_TYPE_TIMESTAMP && v->i>=0 ){ p->aStNum[iMeas] = v->i; return SQLITE_OK; }
      tsTabErr(p, "timeseries %s: column %s (%s): INTEGER %lld is not a %s value",
               p->zName, zCol, zType, v->i, zType);
      return SQLITE_MISMATCH;
    case SQLITE_FLOAT:
      if( eType==TS_TYPE_DOUBLE ){
        if( !isfinite(v->r) ){
          tsTabErr(p, "timeseries %s: column %s (DOUBLE): NaN and Infinity cannot be "
                    "stored", p->zName, zCol);
          return SQLITE_MISMATCH;
        }
        memcpy(&p->aStNum[iMeas], &v->r, sizeof(v->r));
        return SQLITE_OK;
      }
      tsTabErr(p, "timeseries %s: column %s (%s): REAL %!.15g is not a %s value",
               p->zName, zCol, zType, v->r, zType);
      return SQLITE_MISMATCH;
    case SQLITE_TEXT:
      if( eType==TS_TYPE_VARCHAR ){
        if( v->n>TS_MAX_VALUE_BYTES ){
          tsTabErr(p, "timeseries %s: column %s (VARCHAR): value is %d bytes, the limit "
                    "is %d", p->zName, zCol, v->n, TS_MAX_VALUE_BYTES);
          return SQLITE_TOOBIG;
        }
        p->azStText[iMeas] = v->z;
        p->anStText[iMeas] = v->n;
        return SQLITE_OK;
      }
      tsTabErr(p, "timeseries %s: column %s (%s): expected a %s value, got TEXT",
               p->zName, zCol, zType, zType);
      return SQLITE_MISMATCH;
  }
  tsTabErr(p, "timeseries %s: column %s (%s): unknown value kind %d", p->zName, zCol, zType,
           v->eType);
  return SQLITE_MISMATCH;
}

/* One bulk record: its checks, then writeStaged (conflict clause ABORT). */
static int writeRec(TsTable *p, const TsWriteRec *r){
  const char *zMName = r->zMName;
  int nMName = r->nMName, i, nNonNull = 0, rc;
  TsSeries *pKnown;       /* the record's series when knownSeries finds it */
  if( p->rcFlush ){
    tsTabErr(p, "timeseries %s: an earlier flush of this transaction failed; roll it back",
              p->zName);
    return p->rcFlush;
  }
  rc = SQLITE_OK;
  pKnown = knownSeries(p, r->azDim, r->anDim, zMName ? zMName : p->s.zMeasureName,
                       zMName ? nMName : (int)strlen(p->s.zMeasureName));
  for(i=0; pKnown==0 && i<p->s.nDim; i++){
    if( r->azDim[i] && (rc = dimValueCheck(p, i, r->azDim[i], r->anDim[i]))!=SQLITE_OK ) return rc;
  }
  if( zMName==0 ){
    zMName = p->s.zMeasureName;
    nMName = (int)strlen(zMName);
  }else if( pKnown==0 && (rc = mnameValueCheck(p, zMName, nMName))!=SQLITE_OK ){
    return rc;
  }
  for(i=0; i<p->s.nMeas; i++){
    rc = stageValue(p, i, &r->aMeas[i]);
    if( rc ) return rc;
    if( !p->aStNull[i] ) nNonNull++;
  }
  if( nNonNull==0 ){
    tsTabErr(p, "timeseries %s: a record needs at least one non-NULL measure", p->zName);
    return SQLITE_CONSTRAINT;
  }
  if( r->iVersion<1 ){
    tsTabErr(p, "timeseries %s: column version: expected an INTEGER >= 1, got INTEGER %lld",
              p->zName, r->iVersion);
    return SQLITE_MISMATCH;
  }
  return writeStaged(p, r->t, r->iVersion, r->azDim, r->anDim, zMName, nMName, SQLITE_ABORT, pKnown);
}

void tsWriteBatchBegin(TsTable *pTab){
  pTab->bTxnChecked = 0;
}

int tsWriteBatch(TsTable *pTab, int nRec, const TsWriteRec *aRec, int *pnDone, char **pzErr){
  int i, rc = SQLITE_OK;
  for(i=0; i<nRec; i++){
    rc = writeRec(pTab, &aRec[i]);
    if( rc ) break;
  }
  *pnDone = i;
  if( rc ){
    sqlite3_free(*pzErr);
    *pzErr = pTab->zErrMsg ? pTab->zErrMsg : sqlite3_mprintf("%s", sqlite3_errstr(rc));
    pTab->zErrMsg = 0;
  }else if( pTab->zErrMsg ){
    sqlite3_free(pTab->zErrMsg);
    pTab->zErrMsg = 0;
  }
  return rc;
}

void tsWriteBatchRollback(TsTable *pTab){
  tsWritePendDiscardAll(pTab);
  tsTabCacheClear(pTab);
  tsMemLookClear(pTab);
  pTab->iFlushGen++;
  pTab->rcFlush = SQLITE_OK;
  pTab->bTxnChecked = 0;
}
