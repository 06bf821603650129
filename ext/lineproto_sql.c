/*
** lineproto_sql.c: ts_write_lp(text[, options_json]), InfluxDB line protocol
** (what Telegraf and most agents emit) written into timeseries tables.
**
**   SELECT ts_write_lp('cpu,host=a usage=0.5,n=3i 1714564800000000000');
**   SELECT ts_write_lp(:text, '{"precision":"ms","memory_retention":"24h"}');
**   -> {"lines":1,"written":1,"rejected":[],"created":["cpu"]}
**
** MAPPING.  A measurement is a table of the same name in schema "schema"
** (option, default main); tags are DIMENSIONs, fields are measures, the
** timestamp is `time` (absent: now, truncated to the precision).  A
** measurement without a table gets one, created inside the call before any
** row is written: its dimensions are the union of the tags of its lines in
** this call, its measures the union of their fields, each typed from its
** first value (float DOUBLE, i and u integers BIGINT, string VARCHAR, boolean
** BOOLEAN), in order of first appearance; every option other than
** "precision" and "schema" becomes a CREATE option (`name = 'value'`).
** Names match columns as SQLite does, case-insensitively.
**
** REJECTS.  A line is rejected, with its 1-based line number in the text and
** a reason, when it does not parse (lineproto.c's message), when its table
** could not be created or is not a timeseries table, when a tag or field has
** no column of that kind, when a value does not fit the measure's type
** (DOUBLE takes floats and integers; BIGINT i integers and u integers up to
** 2^63-1; VARCHAR strings; BOOLEAN booleans; TIMESTAMP i integers, as ns), or
** when the table's INSERT refuses it (write window, duplicates: the vtab
** applies every write rule; its message is the reason).  Every other line is
** written.  Blank lines and '#' comments are skipped and not counted.
**
** TRANSACTION.  The call runs inside SAVEPOINT ts_write_lp: one transaction
** when called in autocommit mode, nested in the caller's otherwise.  An error
** that is not about one line (out of memory, I/O, a busy database, bad
** options) rolls the savepoint back, so the call writes all or nothing of
** its accepted lines, and is returned as the SQL error.  SQLite refuses a
** SAVEPOINT while a write statement runs, so the call fails, writing
** nothing, from inside INSERT ... SELECT: call it from a SELECT.
**
** RESULT.  JSON via common/jsonw.h: "lines" (points and malformed lines),
** "written", "rejected" (the first LPS_MAX_REJECT as {"line":N,"reason":..},
** "rejected_omitted":N when there were more) and "created" (tables made).
**
** Owns: the per-call LpsCall and its LpsTab list (statements, table
** handles, collected columns of tables to create); nothing outlives a call.
*/
#include "tslite.h"
#include "table.h"
#include "chunk.h"
#include "jsonw.h"
#include "lineproto.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LPS_MAX_REJECT 1000        /* rejected lines listed in the result */
#define LPS_SAVEPOINT  "ts_write_lp"

/* States of a measurement's table within a call. */
#define LPS_NEW   1                /* no table yet: collecting columns */
#define LPS_READY 2                /* table open, INSERT prepared */
#define LPS_BAD   3                /* every line of it is rejected (zBad) */

/* A column collected for a table to create. */
typedef struct LpsCol LpsCol;
struct LpsCol {
  char *zName;                     /* sqlite3_malloc; owned */
  int eType;                       /* 0 = DIMENSION, else TS_TYPE_* */
};

/* One measurement seen in this call. */
typedef struct LpsTab LpsTab;
struct LpsTab {
  char *zMeas;                     /* measurement as in the first line; owned */
  char *zName;                     /* table name as stored (READY); owned */
  int eState;                      /* LPS_* */
  char *zBad;                      /* reason every line is rejected (BAD); owned */
  int nCol; int nColAlloc;
  LpsCol *aCol;                    /* columns to create (NEW); owned */
  TsTable *pTab;                   /* handle (READY); one reference owned */
  sqlite3_stmt *pIns;              /* INSERT of time, dims, measures (READY); owned */
  int *aSeen;                      /* per column: line number that bound it last */
  int bCreated;                    /* 1: this call created the table */
  LpsTab *pNext;
};

typedef struct LpsCall LpsCall;
struct LpsCall {
  TsEnv *pEnv;
  sqlite3 *db;
  const char *zDb;                 /* schema name; points into zDbBuf or static */
  char *zDbBuf;                    /* owned */
  int ePrec;                       /* TS_LP_* */
  int nOpt;
  char **azOptKey, **azOptVal;     /* CREATE options; owned */
  LpsTab *pTabs;                   /* measurements seen; owned */
  TsLpParser parser;
  TsBuf rej; TsJsonW jw;           /* the "rejected" array being built */
  int nReject;                     /* rejected lines listed so far */
  int nOmitted;                    /* rejected lines beyond LPS_MAX_REJECT */
  char *zErr;                      /* fatal error; owned */
};

/* Free one measurement entry. */
static void lpsTabFree(LpsTab *p){
  int i;
  if( p==0 ) return;
  sqlite3_finalize(p->pIns);
  tsTableRelease(p->pTab);
  for(i=0; i<p->nCol; i++) sqlite3_free(p->aCol[i].zName);
  sqlite3_free(p->aCol);
  sqlite3_free(p->aSeen);
  sqlite3_free(p->zMeas);
  sqlite3_free(p->zName);
  sqlite3_free(p->zBad);
  sqlite3_free(p);
}

static void lpsCallFree(LpsCall *c){
  int i;
  while( c->pTabs ){
    LpsTab *p = c->pTabs;
    c->pTabs = p->pNext;
    lpsTabFree(p);
  }
  for(i=0; i<c->nOpt; i++){ sqlite3_free(c->azOptKey[i]); sqlite3_free(c->azOptVal[i]); }
  sqlite3_free(c->azOptKey);
  sqlite3_free(c->azOptVal);
  sqlite3_free(c->zDbBuf);
  tsLpFree(&c->parser);
  tsBufFree(&c->rej);
  sqlite3_free(c->zErr);
}

/* Is z a plausible option name (lower-case letters, digits, '_')?  The vtab
** checks the name itself; this only keeps the CREATE text well formed. */
static int lpsOptName(const char *z){
  if( z==0 || *z==0 ) return 0;
  for(; *z; z++){
    if( !((*z>='a' && *z<='z') || (*z>='0' && *z<='9') || *z=='_') ) return 0;
  }
  return 1;
}

/*
** Read options_json (a JSON object, through SQLite's json_each) into c.
** Returns SQLITE_OK or an error with c->zErr set.
*/
static int lpsOptions(LpsCall *c, sqlite3_value *pOpt){
  sqlite3_stmt *pStmt = 0;
  int rc;
  rc = sqlite3_prepare_v2(c->db,
      "SELECT json_type(?1), key, value, type FROM json_each(?1)", -1, &pStmt, 0);
  if( rc!=SQLITE_OK ){
    tsErrSet(&c->zErr, "ts_write_lp: cannot read options (json_each): %s", sqlite3_errmsg(c->db));
    return rc;
  }
  sqlite3_bind_value(pStmt, 1, pOpt);
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zRoot = (const char*)sqlite3_column_text(pStmt, 0);
    const char *zKey = (const char*)sqlite3_column_text(pStmt, 1);
    const char *zVal = (const char*)sqlite3_column_text(pStmt, 2);
    const char *zType = (const char*)sqlite3_column_text(pStmt, 3);
    char **a;
    if( zRoot==0 || strcmp(zRoot, "object")!=0 ){
      tsErrSet(&c->zErr, "ts_write_lp: options must be a JSON object");
      rc = SQLITE_ERROR;
      break;
    }
    if( zKey==0 || zType==0 ) continue;
    if( strcmp(zType, "object")==0 || strcmp(zType, "array")==0 || strcmp(zType, "null")==0 ){
      tsErrSet(&c->zErr, "ts_write_lp: option '%s' must be a string, number or boolean", zKey);
      rc = SQLITE_ERROR;
    }else if( strcmp(zKey, "precision")==0 ){
      c->ePrec = tsLpPrecision(zVal);
      if( c->ePrec<0 || strcmp(zType, "text")!=0 ){
        tsErrSet(&c->zErr, "ts_write_lp: bad value for precision: '%s' "
                 "(expected 'ns', 'us', 'ms' or 's')", zVal ? zVal : "");
        rc = SQLITE_ERROR;
      }
    }else if( strcmp(zKey, "schema")==0 ){
      sqlite3_free(c->zDbBuf);
      c->zDbBuf = sqlite3_mprintf("%s", zVal ? zVal : "");
      if( c->zDbBuf==0 ) rc = SQLITE_NOMEM;
      c->zDb = c->zDbBuf;
    }else if( !lpsOptName(zKey) ){
      tsErrSet(&c->zErr, "ts_write_lp: bad option name '%s' (expected precision, schema "
               "or a timeseries CREATE option such as memory_retention)", zKey);
      rc = SQLITE_ERROR;
    }else{
      a = sqlite3_realloc64(c->azOptKey, sizeof(char*)*(c->nOpt+1));
      if( a==0 ){ rc = SQLITE_NOMEM; break; }
      c->azOptKey = a;
      a = sqlite3_realloc64(c->azOptVal, sizeof(char*)*(c->nOpt+1));
      if( a==0 ){ rc = SQLITE_NOMEM; break; }
      c->azOptVal = a;
      c->azOptKey[c->nOpt] = sqlite3_mprintf("%s", zKey);
      /* json_each gives true/false as 1/0: write them as words. */
      if( strcmp(zType, "true")==0 || strcmp(zType, "false")==0 ) zVal = zType;
      c->azOptVal[c->nOpt] = sqlite3_mprintf("%s", zVal ? zVal : "");
      c->nOpt++;
      if( c->azOptKey[c->nOpt-1]==0 || c->azOptVal[c->nOpt-1]==0 ) rc = SQLITE_NOMEM;
    }
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_finalize(pStmt);
    if( rc!=SQLITE_OK ){
      tsErrSet(&c->zErr, "ts_write_lp: options are not valid JSON");
    }
  }else{
    sqlite3_finalize(pStmt);
  }
  return rc;
}

/* Record a rejected line.  zFmt is a printf format for the reason. */
static void lpsReject(LpsCall *c, int iLine, const char *zFmt, ...)
  __attribute__((format(printf, 3, 4)));
static void lpsReject(LpsCall *c, int iLine, const char *zFmt, ...){
  va_list ap;
  char *z;
  if( c->nReject>=LPS_MAX_REJECT ){ c->nOmitted++; return; }
  va_start(ap, zFmt);
  z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  tsJwObjBegin(&c->jw);
  tsJwKeyInt(&c->jw, "line", iLine);
  tsJwKeyStr(&c->jw, "reason", z ? z : "out of memory");
  tsJwObjEnd(&c->jw);
  sqlite3_free(z);
  c->nReject++;
}

/* The measurement entry of zMeas, or NULL. */
static LpsTab *lpsFind(LpsCall *c, const char *zMeas){
  LpsTab *p;
  for(p=c->pTabs; p; p=p->pNext){
    if( sqlite3_stricmp(p->zMeas, zMeas)==0 ) return p;
  }
  return 0;
}

/* Prepare the INSERT of a READY table: time, every dimension, every
** measure, in declaration order, as bound parameters 1.. */
static int lpsPrepare(LpsCall *c, LpsTab *p){
  const TsTableSchema *s = tsTableSchema(p->pTab);
  TsBuf b;
  int i, rc, nCol = 1 + s->nDim + s->nMeas;
  tsBufInit(&b);
  {
    char *z = sqlite3_mprintf("INSERT INTO \"%w\".\"%w\"(\"time\"", c->zDb, p->zName);
    if( z==0 ) return SQLITE_NOMEM;
    tsBufAppendStr(&b, z);
    sqlite3_free(z);
  }
  for(i=0; i<s->nDim+s->nMeas; i++){
    const char *zCol = i<s->nDim ? s->azDim[i] : s->azMeas[i-s->nDim];
    char *z = sqlite3_mprintf(",\"%w\"", zCol);
    if( z==0 ){ tsBufFree(&b); return SQLITE_NOMEM; }
    tsBufAppendStr(&b, z);
    sqlite3_free(z);
  }
  tsBufAppendStr(&b, ") VALUES(?");
  for(i=1; i<nCol; i++) tsBufAppendStr(&b, ",?");
  tsBufAppendStr(&b, ")");
  tsBufAppendByte(&b, 0);
  if( b.bErr ){ tsBufFree(&b); return SQLITE_NOMEM; }
  rc = sqlite3_prepare_v2(c->db, (const char*)b.a, -1, &p->pIns, 0);
  tsBufFree(&b);
  if( rc!=SQLITE_OK ){
    tsErrSet(&p->zBad, "cannot prepare INSERT into %s: %s", p->zName, sqlite3_errmsg(c->db));
    p->eState = LPS_BAD;
    return rc==SQLITE_NOMEM ? rc : SQLITE_OK;
  }
  p->aSeen = sqlite3_malloc64(sizeof(int)*(size_t)nCol);
  if( p->aSeen==0 ) return SQLITE_NOMEM;
  memset(p->aSeen, 0, sizeof(int)*(size_t)nCol);
  p->eState = LPS_READY;
  return SQLITE_OK;
}

/* Open the existing table zName (as stored) for entry p: READY or BAD. */
static int lpsOpen(LpsCall *c, LpsTab *p, const char *zName){
  char *zErr = 0;
  int rc;
  p->zName = sqlite3_mprintf("%s", zName);
  if( p->zName==0 ) return SQLITE_NOMEM;
  rc = tsTableOpen(c->pEnv, c->db, c->zDb, zName, &p->pTab, &zErr);
  if( rc==SQLITE_NOMEM ){ sqlite3_free(zErr); return rc; }
  if( rc!=SQLITE_OK ){
    p->eState = LPS_BAD;
    p->zBad = zErr;
    return p->zBad ? SQLITE_OK : SQLITE_NOMEM;
  }
  return lpsPrepare(c, p);
}

/*
** The entry of measurement zMeas, created on first sight: an existing table
** of that name (looked up in sqlite_schema, as SQLite compares names) is
** opened; otherwise the entry starts collecting columns (LPS_NEW).
*/
static int lpsLookup(LpsCall *c, const char *zMeas, LpsTab **pp){
  LpsTab *p = lpsFind(c, zMeas);
  sqlite3_stmt *pStmt = 0;
  char *zSql;
  int rc;
  *pp = 0;
  if( p ){ *pp = p; return SQLITE_OK; }
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->zMeas = sqlite3_mprintf("%s", zMeas);
  if( p->zMeas==0 ){ sqlite3_free(p); return SQLITE_NOMEM; }
  p->pNext = c->pTabs;
  c->pTabs = p;
  *pp = p;
  zSql = sqlite3_mprintf("SELECT name FROM \"%w\".sqlite_schema WHERE name=?1 COLLATE NOCASE"
                         " AND type IN ('table','view')", c->zDb);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(c->db, zSql, -1, &pStmt, 0);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ){
    tsErrSet(&c->zErr, "ts_write_lp: schema %s: %s", c->zDb, sqlite3_errmsg(c->db));
    return rc;
  }
  sqlite3_bind_text(pStmt, 1, zMeas, -1, SQLITE_STATIC);
  if( sqlite3_step(pStmt)==SQLITE_ROW ){
    rc = lpsOpen(c, p, (const char*)sqlite3_column_text(pStmt, 0));
  }else{
    p->eState = LPS_NEW;
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_finalize(pStmt);
    if( rc!=SQLITE_OK ) tsErrSet(&c->zErr, "ts_write_lp: %s", sqlite3_errmsg(c->db));
  }else{
    sqlite3_finalize(pStmt);
  }
  return rc;
}

/* Type of a new measure from its first value. */
static int lpsTypeOf(const TsLpField *f){
  switch( f->eType ){
    case TS_LP_FLOAT:  return TS_TYPE_DOUBLE;
    case TS_LP_STRING: return TS_TYPE_VARCHAR;
    case TS_LP_BOOL:   return TS_TYPE_BOOLEAN;
    default:           return TS_TYPE_BIGINT;
  }
}

/* Add column zName (kind eType) to a NEW entry unless it has it already. */
static int lpsAddCol(LpsTab *p, const char *zName, int eType){
  int i;
  for(i=0; i<p->nCol; i++){
    if( sqlite3_stricmp(p->aCol[i].zName, zName)==0 ) return SQLITE_OK;
  }
  if( p->nCol>=p->nColAlloc ){
    int nNew = p->nColAlloc ? 2*p->nColAlloc : 16;
    LpsCol *a = sqlite3_realloc64(p->aCol, sizeof(LpsCol)*(size_t)nNew);
    if( a==0 ) return SQLITE_NOMEM;
    p->aCol = a;
    p->nColAlloc = nNew;
  }
  p->aCol[p->nCol].zName = sqlite3_mprintf("%s", zName);
  if( p->aCol[p->nCol].zName==0 ) return SQLITE_NOMEM;
  p->aCol[p->nCol].eType = eType;
  p->nCol++;
  return SQLITE_OK;
}

/* Create the table of a NEW entry from its collected columns (dimensions
** first, then measures, each in order of first appearance) and the CREATE
** options; then open it.  A refused CREATE makes the entry BAD. */
static int lpsCreate(LpsCall *c, LpsTab *p){
  TsBuf b;
  int i, k, rc, nOut = 0;
  char *z;
  tsBufInit(&b);
  z = sqlite3_mprintf("CREATE VIRTUAL TABLE \"%w\".\"%w\" USING timeseries(", c->zDb, p->zMeas);
  if( z==0 ) return SQLITE_NOMEM;
  tsBufAppendStr(&b, z);
  sqlite3_free(z);
  for(k=0; k<2; k++){
    for(i=0; i<p->nCol; i++){
      const LpsCol *pc = &p->aCol[i];
      if( (pc->eType==0)!=(k==0) ) continue;
      z = sqlite3_mprintf("%s\"%w\" %s", nOut ? ", " : "", pc->zName,
                          pc->eType ? tsChunkTypeName(pc->eType) : "DIMENSION");
      if( z==0 ){ tsBufFree(&b); return SQLITE_NOMEM; }
      tsBufAppendStr(&b, z);
      sqlite3_free(z);
      nOut++;
    }
  }
  for(i=0; i<c->nOpt; i++){
    /* Option names are checked by lpsOptName(); values are SQL literals. */
    z = sqlite3_mprintf(", %s = %Q", c->azOptKey[i], c->azOptVal[i]);
    if( z==0 ){ tsBufFree(&b); return SQLITE_NOMEM; }
    tsBufAppendStr(&b, z);
    sqlite3_free(z);
  }
  tsBufAppendStr(&b, ")");
  tsBufAppendByte(&b, 0);
  if( b.bErr ){ tsBufFree(&b); return SQLITE_NOMEM; }
  rc = sqlite3_exec(c->db, (const char*)b.a, 0, 0, 0);
  tsBufFree(&b);
  if( rc==SQLITE_NOMEM ) return rc;
  if( rc!=SQLITE_OK ){
    tsErrSet(&p->zBad, "cannot create table %s: %s", p->zMeas, sqlite3_errmsg(c->db));
    p->eState = LPS_BAD;
    return p->zBad ? SQLITE_OK : SQLITE_NOMEM;
  }
  p->bCreated = 1;
  return lpsOpen(c, p, p->zMeas);
}

/* Column index of zName in table p's schema: 0 = time (never matched),
** 1..nDim dimensions, then measures; -1 when absent. */
static int lpsColumn(const TsTableSchema *s, const char *zName){
  int i;
  for(i=0; i<s->nDim; i++) if( sqlite3_stricmp(s->azDim[i], zName)==0 ) return 1 + i;
  for(i=0; i<s->nMeas; i++) if( sqlite3_stricmp(s->azMeas[i], zName)==0 ) return 1 + s->nDim + i;
  return -1;
}

/* Bind field f to the measure column iCol of type eType.  Returns 0, or 1
** after rejecting the line. */
static int lpsBindField(LpsCall *c, LpsTab *p, int iLine, int iCol, int eType,
                        const TsLpField *f){
  sqlite3_stmt *s = p->pIns;
  static const char *const azKind[] = { "?", "a float", "an integer", "an unsigned integer",
                                        "a string", "a boolean" };
  switch( eType ){
    case TS_TYPE_DOUBLE:
      if( f->eType==TS_LP_FLOAT ){ sqlite3_bind_double(s, iCol+1, f->rVal); return 0; }
      if( f->eType==TS_LP_INT ){ sqlite3_bind_double(s, iCol+1, (double)f->iVal); return 0; }
      if( f->eType==TS_LP_UINT ){ sqlite3_bind_double(s, iCol+1, (double)f->uVal); return 0; }
      break;
    case TS_TYPE_BIGINT:
    case TS_TYPE_TIMESTAMP:
      if( f->eType==TS_LP_INT ){ sqlite3_bind_int64(s, iCol+1, f->iVal); return 0; }
      if( f->eType==TS_LP_UINT && eType==TS_TYPE_BIGINT ){
        if( f->uVal>(uint64_t)INT64_MAX ){
          lpsReject(c, iLine, "field '%s': %lluu does not fit BIGINT measure '%s' of table %s",
                    f->zKey, (unsigned long long)f->uVal,
                    tsTableSchema(p->pTab)->azMeas[iCol-1-tsTableSchema(p->pTab)->nDim],
                    p->zName);
          return 1;
        }
        sqlite3_bind_int64(s, iCol+1, (sqlite3_int64)f->uVal);
        return 0;
      }
      break;
    case TS_TYPE_VARCHAR:
      if( f->eType==TS_LP_STRING ){
        sqlite3_bind_text64(s, iCol+1, f->zStr, f->nStr, SQLITE_STATIC, SQLITE_UTF8);
        return 0;
      }
      break;
    case TS_TYPE_BOOLEAN:
      if( f->eType==TS_LP_BOOL ){ sqlite3_bind_int(s, iCol+1, (int)f->iVal); return 0; }
      break;
  }
  lpsReject(c, iLine, "field '%s' is %s but measure '%s' of table %s is %s", f->zKey,
            azKind[f->eType>=1 && f->eType<=5 ? f->eType : 0],
            tsTableSchema(p->pTab)->azMeas[iCol-1-tsTableSchema(p->pTab)->nDim],
            p->zName, tsChunkTypeName(eType));
  return 1;
}

/* Is rc the failure of one row (the line is rejected) rather than of the
** database (the call fails)? */
static int lpsRowError(int rc){
  rc &= 0xff;
  return rc==SQLITE_ERROR || rc==SQLITE_CONSTRAINT || rc==SQLITE_MISMATCH
      || rc==SQLITE_RANGE || rc==SQLITE_TOOBIG;
}

/*
** Write one parsed line l (line number iLine) into its READY table.
** *pbWritten is set when the row went in.  Returns SQLITE_OK (written or
** rejected) or a fatal error with c->zErr set.
*/
static int lpsWrite(LpsCall *c, LpsTab *p, int iLine, const TsLpLine *l, int *pbWritten){
  const TsTableSchema *s = tsTableSchema(p->pTab);
  sqlite3_stmt *pIns = p->pIns;
  int i, iCol, rc;
  *pbWritten = 0;
  for(i=0; i<l->nTag; i++){
    const TsLpTag *t = &l->aTag[i];
    iCol = lpsColumn(s, t->zKey);
    if( iCol<0 ){
      lpsReject(c, iLine, "table %s has no dimension '%s' (tag)", p->zName, t->zKey);
      goto rejected;
    }
    if( iCol>s->nDim ){
      lpsReject(c, iLine, "tag '%s' is a measure of table %s, not a dimension", t->zKey, p->zName);
      goto rejected;
    }
    if( p->aSeen[iCol]==iLine ){
      lpsReject(c, iLine, "tag '%s' names column %s twice (names are case-insensitive)",
                t->zKey, s->azDim[iCol-1]);
      goto rejected;
    }
    p->aSeen[iCol] = iLine;
    sqlite3_bind_text64(pIns, iCol+1, t->zVal, t->nVal, SQLITE_STATIC, SQLITE_UTF8);
  }
  for(i=0; i<l->nField; i++){
    const TsLpField *f = &l->aField[i];
    iCol = lpsColumn(s, f->zKey);
    if( iCol<0 ){
      lpsReject(c, iLine, "table %s has no measure '%s' (field)", p->zName, f->zKey);
      goto rejected;
    }
    if( iCol<=s->nDim ){
      lpsReject(c, iLine, "field '%s' is a dimension of table %s, not a measure",
                f->zKey, p->zName);
      goto rejected;
    }
    if( p->aSeen[iCol]==iLine ){
      lpsReject(c, iLine, "field '%s' names column %s twice (names are case-insensitive)",
                f->zKey, s->azMeas[iCol-1-s->nDim]);
      goto rejected;
    }
    p->aSeen[iCol] = iLine;
    if( lpsBindField(c, p, iLine, iCol, s->aMeasType[iCol-1-s->nDim], f) ) goto rejected;
  }
  if( l->bTime ){
    sqlite3_bind_int64(pIns, 1, l->iTime);
  }else{
    static const sqlite3_int64 aUnit[] = { 1, 1000, 1000000, 1000000000 };
    sqlite3_int64 t = tsEnvNow(c->pEnv);
    sqlite3_bind_int64(pIns, 1, t - t % aUnit[c->ePrec]);
  }
  rc = sqlite3_step(pIns);
  if( rc==SQLITE_DONE ){
    *pbWritten = 1;
    rc = SQLITE_OK;
  }else{
    rc = sqlite3_reset(pIns);
    if( rc==SQLITE_OK ) rc = SQLITE_ERROR;
    if( lpsRowError(rc) ){
      lpsReject(c, iLine, "%s", sqlite3_errmsg(c->db));
      rc = SQLITE_OK;
    }else{
      tsErrSet(&c->zErr, "ts_write_lp: line %d: %s", iLine, sqlite3_errmsg(c->db));
    }
  }
  sqlite3_reset(pIns);
  sqlite3_clear_bindings(pIns);
  return rc;
rejected:
  sqlite3_clear_bindings(pIns);
  return SQLITE_OK;
}

/* Find the end of the line starting at z[i] (index of '\n' or n). */
static size_t lpsLineEnd(const char *z, size_t n, size_t i){
  const char *e = memchr(z+i, '\n', n-i);
  return e ? (size_t)(e - z) : n;
}

/* Pass 1: look up every measurement and collect the columns of the new
** ones (malformed lines are ignored here and reported in pass 2). */
static int lpsCollect(LpsCall *c, const char *z, size_t n){
  size_t i = 0;
  int rc = SQLITE_OK, k;
  while( rc==SQLITE_OK && i<n ){
    size_t e = lpsLineEnd(z, n, i);
    TsLpLine l;
    int prc = tsLpParse(&c->parser, z+i, e-i, c->ePrec, &l);
    if( prc==TS_LP_NOMEM ) return SQLITE_NOMEM;
    if( prc==TS_LP_OK ){
      LpsTab *p;
      rc = lpsLookup(c, l.zMeas, &p);
      if( rc==SQLITE_OK && p->eState==LPS_NEW ){
        for(k=0; rc==SQLITE_OK && k<l.nTag; k++) rc = lpsAddCol(p, l.aTag[k].zKey, 0);
        for(k=0; rc==SQLITE_OK && k<l.nField; k++){
          rc = lpsAddCol(p, l.aField[k].zKey, lpsTypeOf(&l.aField[k]));
        }
      }
    }
    i = e + 1;
  }
  return rc;
}

/* Pass 2: write every line; *pnLine and *pnWritten count them. */
static int lpsWriteAll(LpsCall *c, const char *z, size_t n, int *pnLine, int *pnWritten){
  size_t i = 0;
  int rc = SQLITE_OK, iLine = 0;
  while( rc==SQLITE_OK && i<n ){
    size_t e = lpsLineEnd(z, n, i);
    TsLpLine l;
    int prc = tsLpParse(&c->parser, z+i, e-i, c->ePrec, &l);
    iLine++;
    i = e + 1;
    if( prc==TS_LP_SKIP ) continue;
    (*pnLine)++;
    if( prc==TS_LP_NOMEM ) return SQLITE_NOMEM;
    if( prc==TS_LP_ERROR ){
      lpsReject(c, iLine, "%s", c->parser.zErr);
    }else{
      LpsTab *p = lpsFind(c, l.zMeas);
      int bWritten = 0;
      if( p==0 || p->eState!=LPS_READY ){
        lpsReject(c, iLine, "%s", p && p->zBad ? p->zBad : "no table");
      }else{
        rc = lpsWrite(c, p, iLine, &l, &bWritten);
        *pnWritten += bWritten;
      }
    }
  }
  return rc;
}

static void writeLpFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  LpsCall c;
  const char *z;
  size_t n;
  int rc = SQLITE_OK, nLine = 0, nWritten = 0, bSave = 0;
  LpsTab *p;
  TsBuf out;
  TsJsonW jw;
  if( sqlite3_value_type(argv[0])==SQLITE_NULL ) return;
  memset(&c, 0, sizeof(c));
  c.pEnv = (TsEnv*)sqlite3_user_data(ctx);
  c.db = sqlite3_context_db_handle(ctx);
  c.zDb = "main";
  c.ePrec = TS_LP_NS;
  tsLpInit(&c.parser);
  tsBufInit(&c.rej);
  tsJwInit(&c.jw, &c.rej);
  tsBufInit(&out);
  tsJwInit(&jw, &out);
  z = (const char*)sqlite3_value_text(argv[0]);
  n = (size_t)sqlite3_value_bytes(argv[0]);
  if( z==0 ){ rc = SQLITE_NOMEM; goto done; }
  if( argc>1 && sqlite3_value_type(argv[1])!=SQLITE_NULL ) rc = lpsOptions(&c, argv[1]);
  if( rc==SQLITE_OK ){
    rc = sqlite3_exec(c.db, "SAVEPOINT " LPS_SAVEPOINT, 0, 0, 0);
    if( rc==SQLITE_OK ) bSave = 1;
    else tsErrSet(&c.zErr, "ts_write_lp: cannot begin: %s", sqlite3_errmsg(c.db));
  }
  if( rc==SQLITE_OK ) rc = lpsCollect(&c, z, n);
  if( rc==SQLITE_OK ){
    /* Tables are created in the order their measurements first appear. */
    LpsTab *pRev = 0;
    while( c.pTabs ){ p = c.pTabs; c.pTabs = p->pNext; p->pNext = pRev; pRev = p; }
    c.pTabs = pRev;
    for(p=c.pTabs; rc==SQLITE_OK && p; p=p->pNext){
      if( p->eState==LPS_NEW ) rc = lpsCreate(&c, p);
    }
  }
  tsJwArrBegin(&c.jw);
  if( rc==SQLITE_OK ) rc = lpsWriteAll(&c, z, n, &nLine, &nWritten);
  tsJwArrEnd(&c.jw);
  tsJwObjBegin(&jw);
  tsJwKeyInt(&jw, "lines", nLine);
  tsJwKeyInt(&jw, "written", nWritten);
  tsJwKey(&jw, "rejected");
  tsJwRaw(&jw, (const char*)c.rej.a, c.rej.n);
  if( c.nOmitted ) tsJwKeyInt(&jw, "rejected_omitted", c.nOmitted);
  tsJwKey(&jw, "created");
  tsJwArrBegin(&jw);
  for(p=c.pTabs; p; p=p->pNext) if( p->bCreated ) tsJwStr(&jw, p->zMeas);
  tsJwArrEnd(&jw);
  tsJwObjEnd(&jw);
  /* Statements and handles go before the savepoint ends. */
  while( c.pTabs ){ p = c.pTabs; c.pTabs = p->pNext; lpsTabFree(p); }
  if( bSave && rc==SQLITE_OK ){
    rc = sqlite3_exec(c.db, "RELEASE " LPS_SAVEPOINT, 0, 0, 0);
    if( rc!=SQLITE_OK ) tsErrSet(&c.zErr, "ts_write_lp: cannot commit: %s", sqlite3_errmsg(c.db));
    else bSave = 0;
  }
  if( bSave ){
    sqlite3_exec(c.db, "ROLLBACK TO " LPS_SAVEPOINT, 0, 0, 0);
    sqlite3_exec(c.db, "RELEASE " LPS_SAVEPOINT, 0, 0, 0);
  }
done:
  if( rc==SQLITE_OK && (tsJwError(&jw) || tsJwError(&c.jw) || out.bErr || c.rej.bErr) ){
    rc = SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ){
    sqlite3_result_text(ctx, (const char*)out.a, (int)out.n, SQLITE_TRANSIENT);
  }else if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else{
    sqlite3_result_error(ctx, c.zErr ? c.zErr : sqlite3_errstr(rc), -1);
    sqlite3_result_error_code(ctx, rc);
  }
  tsBufFree(&out);
  lpsCallFree(&c);
}

int tsLineProtoRegister(sqlite3 *db, TsEnv *pEnv){
  int rc = SQLITE_OK, n;
  for(n=1; rc==SQLITE_OK && n<=2; n++){
    rc = sqlite3_create_function_v2(db, "ts_write_lp", n, SQLITE_UTF8|SQLITE_DIRECTONLY,
                                    tsEnvRef(pEnv), writeLpFunc, 0, 0, tsEnvUnref);
  }
  return rc;
}
