/*
** batch_model.c: the configuration of a batch load task and its data-model
** mapping (batch_load.h, reference 4.1-4.3).
**
** Two configuration forms are accepted; the presence of
** "DataSourceConfiguration" selects Timestream's:
**
**   short form (DESIGN section 4)
**     {"TargetTableName":"cpu", "TargetDatabaseName"?:..., "DataSource":"s3://b/p/",
**      "DataModel":{...}, "CsvConfiguration"?:{...}, "ReportLocation"?:"s3://b/r/",
**      "RecordVersion"?:1, "BatchRows"?:100000}
**   Timestream's CreateBatchLoadTask request, pasted unchanged
**     {"ClientToken"?, "TargetDatabaseName", "TargetTableName", "RecordVersion"?,
**      "DataModelConfiguration":{"DataModel":{...}} | {"DataModelS3Configuration":
**          {"BucketName","ObjectKey"}},
**      "DataSourceConfiguration":{"DataSourceS3Configuration":{"BucketName",
**          "ObjectKeyPrefix"?}, "CsvConfiguration"?:{...}, "DataFormat":"CSV"},
**      "ReportConfiguration":{"ReportS3Configuration":{"BucketName",
**          "ObjectKeyPrefix"?, "EncryptionOption"?, "KmsKeyId"?}}}
**
** Every object is checked for unknown and duplicate keys (Timestream's API
** rejects unknown keys too); messages name the key by its path, for example
** "ts_batch_load: DataModel.DimensionMappings[1]: unknown key 'Source'".
** JSON is read with SQLite's json_each through one prepared statement per
** object, so no JSON parser of our own is needed here.
**
** The data model becomes a TsBlModel: the dimension columns, one TsBlRec per
** record a CSV row yields (one for MultiMeasureMappings, one per entry of
** MixedMeasureMappings) and the distinct measure columns of the target.  A
** single-measure entry of MixedMeasureMappings (MeasureValueType other than
** MULTI) writes its value into the measure column named TargetMeasureName
** (default SourceColumn); the record's measure_name is the MeasureNameColumn
** value if that column is mapped, else MeasureName, else the column name.
** With MeasureNameColumn, an entry's MeasureName selects the rows it applies
** to.  tslite tables have no measure_value::<type> columns, so the value
** lands in a column of that name instead.
*/
#include "batch_load.h"
#include "bl_value.h"
#include "op.h"
#include "chunk.h"
#include "objstore.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JSON value kinds as json_each reports them. */
#define J_NULL  0
#define J_TRUE  1
#define J_FALSE 2
#define J_INT   3
#define J_REAL  4
#define J_TEXT  5
#define J_ARR   6
#define J_OBJ   7

/* The members of one JSON object or array (json_each). */
typedef struct BlObj BlObj;
struct BlObj {
  char *zPath;       /* path for messages ("DataModel.DimensionMappings[0]"); owned */
  int n;
  char **azKey;      /* member keys (array: NULL); owned */
  int *aType;        /* J_* */
  char **azVal;      /* text of the value (nested: JSON text; NULL for null); owned */
  unsigned char *aUsed; /* 1: read by a getter */
};

/* The parse: a TsOp (op.h) holds the first error; blErr adds the path. */
typedef struct BlCtx BlCtx;
struct BlCtx {
  TsOp op;                /* connection, function name, first error */
  sqlite3_stmt *pEach;    /* json_each statement */
};

/* "<zFunc>: <zPath>: <message>" (or without the path at the top level). */
static void blErr(BlCtx *p, const char *zPath, const char *zFmt, ...){
  va_list ap;
  char *z;
  if( p->op.rc ) return;
  va_start(ap, zFmt);
  z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if( z==0 ){ tsOpOom(&p->op); return; }
  if( zPath && zPath[0] ) tsOpErr(&p->op, SQLITE_ERROR, "%s: %s: %s", p->op.zFunc, zPath, z);
  else tsOpErr(&p->op, SQLITE_ERROR, "%s: %s", p->op.zFunc, z);
  sqlite3_free(z);
}

static void blObjClear(BlObj *o){
  int i;
  for(i=0; i<o->n; i++){ sqlite3_free(o->azKey[i]); sqlite3_free(o->azVal[i]); }
  sqlite3_free(o->azKey); sqlite3_free(o->azVal); sqlite3_free(o->aType);
  sqlite3_free(o->aUsed); sqlite3_free(o->zPath);
  memset(o, 0, sizeof(*o));
}

static int jtype(const char *z){
  if( z==0 ) return J_NULL;
  if( strcmp(z, "true")==0 ) return J_TRUE;
  if( strcmp(z, "false")==0 ) return J_FALSE;
  if( strcmp(z, "integer")==0 ) return J_INT;
  if( strcmp(z, "real")==0 ) return J_REAL;
  if( strcmp(z, "text")==0 ) return J_TEXT;
  if( strcmp(z, "array")==0 ) return J_ARR;
  if( strcmp(z, "object")==0 ) return J_OBJ;
  return J_NULL;
}

static const char *jtypeName(int e){
  static const char *const az[] = { "null", "true", "false", "an integer", "a number",
                                     "a string", "an array", "an object" };
  return az[e];
}

/* Load the members of zJson, which must be of kind eWant (J_OBJ or J_ARR).
** Duplicate object keys are an error. */
static void blLoad(BlCtx *p, const char *zJson, int eWant, const char *zPath, BlObj *o){
  int nAlloc = 0, rc, i, j;
  memset(o, 0, sizeof(*o));
  if( p->op.rc ) return;
  o->zPath = sqlite3_mprintf("%s", zPath);
  if( o->zPath==0 ){ tsOpOom(&p->op); return; }
  if( p->pEach==0 ){
    rc = sqlite3_prepare_v2(p->op.db,
        "SELECT json_type(?1), key, type, CASE WHEN type IN ('object','array') THEN json(value)"
        " ELSE CAST(value AS TEXT) END FROM (SELECT 1) LEFT JOIN json_each(?1)",
        -1, &p->pEach, 0);
    if( rc ){ blErr(p, 0, "%s", sqlite3_errmsg(p->op.db)); return; }
  }
  sqlite3_bind_text(p->pEach, 1, zJson, -1, SQLITE_STATIC);
  while( (rc = sqlite3_step(p->pEach))==SQLITE_ROW ){
    int eTop = jtype((const char*)sqlite3_column_text(p->pEach, 0));
    if( eTop!=eWant ){
      blErr(p, zPath, "must be %s, got %s", jtypeName(eWant), jtypeName(eTop));
      break;
    }
    if( sqlite3_column_type(p->pEach, 2)==SQLITE_NULL ) break;   /* empty */
    if( o->n>=nAlloc ){
      int nNew = nAlloc ? nAlloc*2 : 8;
      char **azK = sqlite3_realloc64(o->azKey, sizeof(char*)*nNew);
      char **azV = azK ? sqlite3_realloc64(o->azVal, sizeof(char*)*nNew) : 0;
      int *aT;
      if( azK ) o->azKey = azK;
      if( azV ) o->azVal = azV;
      aT = azV ? sqlite3_realloc64(o->aType, sizeof(int)*nNew) : 0;
      if( aT==0 ){ tsOpOom(&p->op); break; }
      o->aType = aT;
      nAlloc = nNew;
    }
    o->azKey[o->n] = eWant==J_OBJ ? sqlite3_mprintf("%s", sqlite3_column_text(p->pEach, 1)) : 0;
    o->aType[o->n] = jtype((const char*)sqlite3_column_text(p->pEach, 2));
    o->azVal[o->n] = sqlite3_column_type(p->pEach, 3)==SQLITE_NULL ? 0
                   : sqlite3_mprintf("%s", sqlite3_column_text(p->pEach, 3));
    o->n++;
    if( (eWant==J_OBJ && o->azKey[o->n-1]==0)
     || (o->aType[o->n-1]!=J_NULL && o->azVal[o->n-1]==0) ){ tsOpOom(&p->op); break; }
  }
  if( rc!=SQLITE_ROW && rc!=SQLITE_DONE && p->op.rc==0 ){
    blErr(p, zPath, "not valid JSON (%s)", sqlite3_errmsg(p->op.db));
  }
  sqlite3_reset(p->pEach);
  sqlite3_clear_bindings(p->pEach);
  if( p->op.rc==0 ){
    o->aUsed = sqlite3_malloc64(o->n ? o->n : 1);
    if( o->aUsed==0 ){ tsOpOom(&p->op); return; }
    memset(o->aUsed, 0, o->n ? o->n : 1);
  }
  for(i=0; p->op.rc==0 && eWant==J_OBJ && i<o->n; i++){
    for(j=0; j<i; j++){
      if( strcmp(o->azKey[i], o->azKey[j])==0 ){
        blErr(p, zPath, "duplicate key '%.200s'", o->azKey[i]);
        break;
      }
    }
  }
}

/* Every key of o must be in azAllowed (NULL-terminated). */
static void blKeys(BlCtx *p, const BlObj *o, const char *const *azAllowed){
  int i, j;
  for(i=0; p->op.rc==0 && i<o->n; i++){
    for(j=0; azAllowed[j] && strcmp(azAllowed[j], o->azKey[i]); j++){}
    if( azAllowed[j]==0 ) blErr(p, o->zPath, "unknown key '%.200s'", o->azKey[i]);
  }
}

/* Index of key zKey in o, -1 if absent or null. */
static int blFind(const BlObj *o, const char *zKey){
  int i;
  for(i=0; i<o->n; i++){
    if( strcmp(o->azKey[i], zKey)==0 ) return o->aType[i]==J_NULL ? -1 : i;
  }
  return -1;
}

/* A string member: a copy in *pz (NULL when absent and optional).  nMax:
** longest allowed length in bytes (0 = no limit); empty strings are errors. */
static void blStr(BlCtx *p, const BlObj *o, const char *zKey, int bReq, int nMax, char **pz){
  int i;
  *pz = 0;
  if( p->op.rc ) return;
  i = blFind(o, zKey);
  if( i<0 ){
    if( bReq ) blErr(p, o->zPath, "'%s' is required", zKey);
    return;
  }
  if( o->aType[i]!=J_TEXT ){
    blErr(p, o->zPath, "'%s' must be a string, got %s", zKey, jtypeName(o->aType[i]));
    return;
  }
  if( o->azVal[i][0]==0 ){ blErr(p, o->zPath, "'%s' must not be empty", zKey); return; }
  if( nMax>0 && (int)strlen(o->azVal[i])>nMax ){
    blErr(p, o->zPath, "'%s' is longer than %d bytes", zKey, nMax);
    return;
  }
  *pz = sqlite3_mprintf("%s", o->azVal[i]);
  if( *pz==0 ) tsOpOom(&p->op);
}

/* A one-character member (CsvConfiguration): the byte, or dflt if absent. */
static int blChar(BlCtx *p, const BlObj *o, const char *zKey, int dflt){
  char *z = 0;
  int c;
  blStr(p, o, zKey, 0, 0, &z);
  if( z==0 ) return dflt;
  c = (unsigned char)z[0];
  if( z[1] ){ blErr(p, o->zPath, "'%s' must be one character, got '%s'", zKey, z); c = dflt; }
  else if( c>=0x80 ){ blErr(p, o->zPath, "'%s' must be an ASCII character", zKey); c = dflt; }
  sqlite3_free(z);
  return c;
}

static int64_t blInt(BlCtx *p, const BlObj *o, const char *zKey, int64_t iMin, int64_t iMax,
                     int64_t dflt){
  int i;
  int64_t v;
  if( p->op.rc ) return dflt;
  i = blFind(o, zKey);
  if( i<0 ) return dflt;
  if( o->aType[i]!=J_INT ){
    blErr(p, o->zPath, "'%s' must be an integer, got %s", zKey, jtypeName(o->aType[i]));
    return dflt;
  }
  v = strtoll(o->azVal[i], 0, 10);
  if( v<iMin || v>iMax ){
    blErr(p, o->zPath, "'%s' must be between %lld and %lld, got %lld", zKey,
          (long long)iMin, (long long)iMax, (long long)v);
    return dflt;
  }
  return v;
}

static int blBool(BlCtx *p, const BlObj *o, const char *zKey, int dflt){
  int i;
  if( p->op.rc ) return dflt;
  i = blFind(o, zKey);
  if( i<0 ) return dflt;
  if( o->aType[i]!=J_TRUE && o->aType[i]!=J_FALSE ){
    blErr(p, o->zPath, "'%s' must be true or false, got %s", zKey, jtypeName(o->aType[i]));
    return dflt;
  }
  return o->aType[i]==J_TRUE;
}

/* A nested object or array member; o2 is empty (n==0, zPath set) when absent. */
static int blSub(BlCtx *p, const BlObj *o, const char *zKey, int eWant, int bReq, BlObj *o2){
  int i;
  char *zPath;
  memset(o2, 0, sizeof(*o2));
  if( p->op.rc ) return 0;
  i = blFind(o, zKey);
  if( i<0 ){
    if( bReq ) blErr(p, o->zPath, "'%s' is required", zKey);
    return 0;
  }
  if( o->aType[i]!=eWant ){
    blErr(p, o->zPath, "'%s' must be %s, got %s", zKey, jtypeName(eWant), jtypeName(o->aType[i]));
    return 0;
  }
  zPath = o->zPath[0] ? sqlite3_mprintf("%s.%s", o->zPath, zKey) : sqlite3_mprintf("%s", zKey);
  if( zPath==0 ){ tsOpOom(&p->op); return 0; }
  blLoad(p, o->azVal[i], eWant, zPath, o2);
  sqlite3_free(zPath);
  return p->op.rc==0;
}

/* Element i of array a, which must be an object. */
static int blElem(BlCtx *p, const BlObj *a, int i, BlObj *o2){
  char *zPath;
  memset(o2, 0, sizeof(*o2));
  if( p->op.rc ) return 0;
  zPath = sqlite3_mprintf("%s[%d]", a->zPath, i);
  if( zPath==0 ){ tsOpOom(&p->op); return 0; }
  if( a->aType[i]!=J_OBJ ){
    blErr(p, zPath, "must be an object, got %s", jtypeName(a->aType[i]));
  }else{
    blLoad(p, a->azVal[i], J_OBJ, zPath, o2);
  }
  sqlite3_free(zPath);
  return p->op.rc==0;
}

/**************************************************************************
** The data model.
*/

static int typeParse(const char *z, int bMultiOk){
  if( strcmp(z, "DOUBLE")==0 ) return TS_TYPE_DOUBLE;
  if( strcmp(z, "BIGINT")==0 ) return TS_TYPE_BIGINT;
  if( strcmp(z, "VARCHAR")==0 ) return TS_TYPE_VARCHAR;
  if( strcmp(z, "BOOLEAN")==0 ) return TS_TYPE_BOOLEAN;
  if( strcmp(z, "TIMESTAMP")==0 ) return TS_TYPE_TIMESTAMP;
  if( bMultiOk && strcmp(z, "MULTI")==0 ) return 0;
  return -1;
}

static void modelFree(TsBlModel *m){
  int i, j;
  sqlite3_free(m->zTimeCol);
  sqlite3_free(m->zMNameCol);
  for(i=0; i<m->nDim; i++){ sqlite3_free(m->aDim[i].zSrc); sqlite3_free(m->aDim[i].zDst); }
  sqlite3_free(m->aDim);
  for(i=0; i<m->nRec; i++){
    TsBlRec *r = &m->aRec[i];
    for(j=0; j<r->nAttr; j++){ sqlite3_free(r->aAttr[j].zSrc); sqlite3_free(r->aAttr[j].zDst); }
    sqlite3_free(r->aAttr);
    sqlite3_free(r->zMeasureName);
    sqlite3_free(r->zMatch);
  }
  sqlite3_free(m->aRec);
  sqlite3_free(m->azMeas);
  sqlite3_free(m->aMeasType);
  memset(m, 0, sizeof(*m));
}

/* Column names the table reserves (tslite's vtab and Timestream 1.9). */
static int nameReserved(const char *z){
  static const char *const az[] = { "time", "measure_name", "version", "measure_value",
                                    "ts_non_existent_col", "rowid", 0 };
  int i;
  for(i=0; az[i]; i++) if( sqlite3_stricmp(z, az[i])==0 ) return 1;
  return sqlite3_strnicmp(z, "ts_", 3)==0 || sqlite3_strnicmp(z, "measure_value", 13)==0
      || sqlite3_strnicmp(z, "measure_name", 12)==0;
}

/* Check a target column name; zWhat names the mapping in errors. */
static void nameCheck(BlCtx *p, const char *zPath, const char *zKey, const char *zName, int nMax){
  if( p->op.rc ) return;
  if( nameReserved(zName) ){
    blErr(p, zPath, "%s '%s' is a reserved name (time, measure_name, version, measure_value*,"
          " ts_*)", zKey, zName);
  }else if( (int)strlen(zName)>nMax ){
    blErr(p, zPath, "%s '%s' is longer than %d bytes", zKey, zName, nMax);
  }
}

/* Parse a MultiMeasureAttributeMappings array into r->aAttr. */
static void attrsParse(BlCtx *p, const BlObj *a, TsBlRec *r){
  static const char *const azKey[] = { "SourceColumn", "TargetMultiMeasureAttributeName",
                                       "MeasureValueType", 0 };
  int i;
  if( p->op.rc ) return;
  if( a->n==0 ){ blErr(p, a->zPath, "needs at least one mapping"); return; }
  if( a->n>256 ){ blErr(p, a->zPath, "has %d mappings, at most 256 are allowed", a->n); return; }
  r->aAttr = sqlite3_malloc64(sizeof(TsBlCol)*a->n);
  if( r->aAttr==0 ){ tsOpOom(&p->op); return; }
  memset(r->aAttr, 0, sizeof(TsBlCol)*a->n);
  for(i=0; p->op.rc==0 && i<a->n; i++){
    BlObj o;
    TsBlCol *c = &r->aAttr[i];
    char *zType = 0;
    if( blElem(p, a, i, &o) ){
      blKeys(p, &o, azKey);
      r->nAttr++;
      blStr(p, &o, "SourceColumn", 1, 256, &c->zSrc);
      blStr(p, &o, "TargetMultiMeasureAttributeName", 0, 256, &c->zDst);
      blStr(p, &o, "MeasureValueType", 0, 0, &zType);
      if( p->op.rc==0 && c->zDst==0 ){
        c->zDst = sqlite3_mprintf("%s", c->zSrc);
        if( c->zDst==0 ) tsOpOom(&p->op);
      }
      c->eType = TS_TYPE_DOUBLE;
      if( zType && (c->eType = typeParse(zType, 0))<0 ){
        blErr(p, o.zPath, "MeasureValueType '%s' is not one of DOUBLE, BIGINT, BOOLEAN,"
              " VARCHAR, TIMESTAMP", zType);
      }
      nameCheck(p, o.zPath, "attribute", c->zDst ? c->zDst : "", 256);
    }
    sqlite3_free(zType);
    blObjClear(&o);
  }
}

static TsBlRec *recAdd(BlCtx *p, TsBlModel *m){
  TsBlRec *a;
  if( p->op.rc ) return 0;
  a = sqlite3_realloc64(m->aRec, sizeof(TsBlRec)*(m->nRec+1));
  if( a==0 ){ tsOpOom(&p->op); return 0; }
  m->aRec = a;
  memset(&a[m->nRec], 0, sizeof(TsBlRec));
  return &a[m->nRec++];
}

/* Parse a DataModel object into m. */
static void modelParse(BlCtx *p, const BlObj *o, TsBlModel *m){
  static const char *const azKey[] = { "TimeColumn", "TimeUnit", "DimensionMappings",
      "MeasureNameColumn", "MultiMeasureMappings", "MixedMeasureMappings", 0 };
  BlObj dims, multi, mixed;
  char *zUnit = 0;
  int i, j, k;
  memset(m, 0, sizeof(*m));
  blKeys(p, o, azKey);
  blStr(p, o, "TimeColumn", 1, 256, &m->zTimeCol);
  blStr(p, o, "TimeUnit", 0, 0, &zUnit);
  m->iUnit = TS_BL_MILLISECONDS;
  if( zUnit && (m->iUnit = tsBlUnitParse(zUnit))==0 ){
    blErr(p, o->zPath, "TimeUnit '%s' is not one of MILLISECONDS, SECONDS, MICROSECONDS,"
          " NANOSECONDS", zUnit);
  }
  sqlite3_free(zUnit);
  blStr(p, o, "MeasureNameColumn", 0, 256, &m->zMNameCol);
  blSub(p, o, "DimensionMappings", J_ARR, 1, &dims);
  if( p->op.rc==0 && dims.n==0 ) blErr(p, dims.zPath, "needs at least one dimension");
  if( p->op.rc==0 && dims.n>128 ) blErr(p, dims.zPath, "has %d dimensions, at most 128 are allowed", dims.n);
  if( p->op.rc==0 ){
    m->aDim = sqlite3_malloc64(sizeof(TsBlCol)*dims.n);
    if( m->aDim==0 ) tsOpOom(&p->op);
    else memset(m->aDim, 0, sizeof(TsBlCol)*dims.n);
  }
  for(i=0; p->op.rc==0 && i<dims.n; i++){
    static const char *const azDKey[] = { "SourceColumn", "DestinationColumn", 0 };
    BlObj d;
    TsBlCol *c = &m->aDim[i];
    if( blElem(p, &dims, i, &d) ){
      blKeys(p, &d, azDKey);
      m->nDim++;
      blStr(p, &d, "SourceColumn", 1, 256, &c->zSrc);
      blStr(p, &d, "DestinationColumn", 0, 60, &c->zDst);
      if( p->op.rc==0 && c->zDst==0 ){
        c->zDst = sqlite3_mprintf("%s", c->zSrc);
        if( c->zDst==0 ) tsOpOom(&p->op);
      }
      if( p->op.rc==0 ) nameCheck(p, d.zPath, "dimension", c->zDst, 60);
      for(j=0; p->op.rc==0 && j<i; j++){
        if( strcmp(m->aDim[j].zDst, c->zDst)==0 ){
          blErr(p, d.zPath, "dimension '%s' is mapped twice", c->zDst);
        }
      }
    }
    blObjClear(&d);
  }
  blObjClear(&dims);

  if( p->op.rc==0 && (blFind(o, "MultiMeasureMappings")>=0)==(blFind(o, "MixedMeasureMappings")>=0) ){
    blErr(p, o->zPath, "exactly one of MultiMeasureMappings and MixedMeasureMappings is required");
  }
  if( blSub(p, o, "MultiMeasureMappings", J_OBJ, 0, &multi) && multi.zPath ){
    static const char *const azMKey[] = { "TargetMultiMeasureName",
                                          "MultiMeasureAttributeMappings", 0 };
    BlObj a;
    TsBlRec *r = recAdd(p, m);
    blKeys(p, &multi, azMKey);
    if( r ){
      blStr(p, &multi, "TargetMultiMeasureName", 0, 256, &r->zMeasureName);
      if( p->op.rc==0 && r->zMeasureName==0 && m->zMNameCol==0 ){
        blErr(p, multi.zPath, "'TargetMultiMeasureName' is required when MeasureNameColumn is absent");
      }
      /* MeasureNameColumn, when mapped, names the records (reference 4.3) */
      if( m->zMNameCol ){ sqlite3_free(r->zMeasureName); r->zMeasureName = 0; }
      blSub(p, &multi, "MultiMeasureAttributeMappings", J_ARR, 1, &a);
      attrsParse(p, &a, r);
      blObjClear(&a);
    }
  }
  blObjClear(&multi);
  if( blSub(p, o, "MixedMeasureMappings", J_ARR, 0, &mixed) && mixed.zPath ){
    static const char *const azXKey[] = { "MeasureName", "SourceColumn", "TargetMeasureName",
        "MeasureValueType", "MultiMeasureAttributeMappings", 0 };
    m->bMixed = 1;
    if( mixed.n==0 ) blErr(p, mixed.zPath, "needs at least one mapping");
    for(i=0; p->op.rc==0 && i<mixed.n; i++){
      BlObj x, a;
      char *zMName = 0, *zSrc = 0, *zTarget = 0, *zType = 0;
      int eType = -1;
      TsBlRec *r;
      memset(&a, 0, sizeof(a));
      if( blElem(p, &mixed, i, &x) ){
        blKeys(p, &x, azXKey);
        blStr(p, &x, "MeasureName", 0, 256, &zMName);
        blStr(p, &x, "SourceColumn", 0, 256, &zSrc);
        blStr(p, &x, "TargetMeasureName", 0, 256, &zTarget);
        blStr(p, &x, "MeasureValueType", 1, 0, &zType);
        if( zType && (eType = typeParse(zType, 1))<0 ){
          blErr(p, x.zPath, "MeasureValueType '%s' is not one of DOUBLE, BIGINT, VARCHAR,"
                " BOOLEAN, TIMESTAMP, MULTI", zType);
        }
        r = recAdd(p, m);
        if( r && eType==0 ){
          /* MULTI: attributes from its own mappings */
          if( zSrc ) blErr(p, x.zPath, "'SourceColumn' is not used with MeasureValueType MULTI");
          blSub(p, &x, "MultiMeasureAttributeMappings", J_ARR, 1, &a);
          attrsParse(p, &a, r);
          if( m->zMNameCol==0 ){
            if( zTarget==0 && zMName==0 ){
              blErr(p, x.zPath, "a MULTI mapping needs TargetMeasureName or MeasureName"
                    " (or a MeasureNameColumn)");
            }
            r->zMeasureName = sqlite3_mprintf("%s", zTarget ? zTarget : zMName ? zMName : "");
            if( r->zMeasureName==0 ) tsOpOom(&p->op);
          }else if( zMName ){
            r->zMatch = zMName; zMName = 0;
          }
        }else if( r && eType>0 ){
          if( blFind(&x, "MultiMeasureAttributeMappings")>=0 ){
            blErr(p, x.zPath, "'MultiMeasureAttributeMappings' is only used with MeasureValueType MULTI");
          }
          if( zSrc==0 ) blErr(p, x.zPath, "'SourceColumn' is required");
          if( p->op.rc==0 ){
            r->aAttr = sqlite3_malloc64(sizeof(TsBlCol));
            if( r->aAttr==0 ){ tsOpOom(&p->op); }
            else{
              memset(r->aAttr, 0, sizeof(TsBlCol));
              r->nAttr = 1;
              r->aAttr[0].zSrc = sqlite3_mprintf("%s", zSrc);
              r->aAttr[0].zDst = sqlite3_mprintf("%s", zTarget ? zTarget : zSrc);
              r->aAttr[0].eType = eType;
              if( !r->aAttr[0].zSrc || !r->aAttr[0].zDst ) tsOpOom(&p->op);
              nameCheck(p, x.zPath, "measure", zTarget ? zTarget : zSrc, 256);
            }
          }
          if( p->op.rc==0 && m->zMNameCol==0 ){
            r->zMeasureName = sqlite3_mprintf("%s", zMName ? zMName : zTarget ? zTarget : zSrc);
            if( r->zMeasureName==0 ) tsOpOom(&p->op);
          }else if( p->op.rc==0 && zMName ){
            r->zMatch = zMName; zMName = 0;
          }
        }
      }
      sqlite3_free(zMName); sqlite3_free(zSrc); sqlite3_free(zTarget); sqlite3_free(zType);
      blObjClear(&a);
      blObjClear(&x);
    }
  }
  blObjClear(&mixed);

  /* The distinct measure columns; a name used twice must keep its type and
  ** may not also be a dimension.  Source columns: the time column and the
  ** measure-name column are not data. */
  for(i=0; p->op.rc==0 && i<m->nRec; i++){
    TsBlRec *r = &m->aRec[i];
    for(j=0; p->op.rc==0 && j<r->nAttr; j++){
      TsBlCol *c = &r->aAttr[j];
      for(k=0; k<m->nMeas && strcmp(m->azMeas[k], c->zDst); k++){}
      if( k<m->nMeas ){
        if( m->aMeasType[k]!=c->eType ){
          blErr(p, "DataModel", "measure '%s' is mapped as %s and as %s", c->zDst,
                tsChunkTypeName(m->aMeasType[k]), tsChunkTypeName(c->eType));
        }
        if( !m->bMixed ) blErr(p, "DataModel", "measure '%s' is mapped twice", c->zDst);
      }else{
        char **az = sqlite3_realloc64(m->azMeas, sizeof(char*)*(m->nMeas+1));
        int *aT = az ? sqlite3_realloc64(m->aMeasType, sizeof(int)*(m->nMeas+1)) : 0;
        if( az ) m->azMeas = az;
        if( aT==0 ){ tsOpOom(&p->op); break; }
        m->aMeasType = aT;
        m->azMeas[m->nMeas] = c->zDst;
        m->aMeasType[m->nMeas] = c->eType;
        m->nMeas++;
      }
      c->iParam = k;
      for(k=0; k<m->nDim; k++){
        if( strcmp(m->aDim[k].zDst, c->zDst)==0 ){
          blErr(p, "DataModel", "'%s' is mapped both as a dimension and as a measure", c->zDst);
        }
      }
      if( p->op.rc==0 && strcmp(c->zSrc, m->zTimeCol)==0 ){
        blErr(p, "DataModel", "the time column '%s' is also mapped as a measure", c->zSrc);
      }
    }
  }
  for(i=0; p->op.rc==0 && i<m->nDim; i++){
    m->aDim[i].iParam = i;
    if( strcmp(m->aDim[i].zSrc, m->zTimeCol)==0 ){
      blErr(p, "DataModel", "the time column '%s' is also mapped as a dimension", m->zTimeCol);
    }
  }
  if( p->op.rc==0 && m->zMNameCol && strcmp(m->zMNameCol, m->zTimeCol)==0 ){
    blErr(p, "DataModel", "MeasureNameColumn and TimeColumn are both '%s'", m->zTimeCol);
  }
}

/**************************************************************************
** The two configuration forms.
*/

static void csvParse(BlCtx *p, const BlObj *o, TsBlConfig *c){
  static const char *const azKey[] = { "ColumnSeparator", "EscapeChar", "QuoteChar",
                                       "NullValue", "TrimWhiteSpace", 0 };
  blKeys(p, o, azKey);
  c->csv.cSep = blChar(p, o, "ColumnSeparator", ',');
  c->csv.cEsc = blChar(p, o, "EscapeChar", -1);
  c->csv.cQuote = blChar(p, o, "QuoteChar", '"');
  blStr(p, o, "NullValue", 0, 256, &c->zNull);
  c->csv.zNull = c->zNull;
  c->csv.bTrim = blBool(p, o, "TrimWhiteSpace", 0);
  if( p->op.rc==0 && c->csv.cSep!=',' && c->csv.cSep!='|' && c->csv.cSep!=';' && c->csv.cSep!='\t'
   && c->csv.cSep!=' ' ){
    blErr(p, o->zPath, "ColumnSeparator must be one of ',', '|', ';', tab or space");
  }
  if( p->op.rc==0 ){
    TsCsvReader r;
    const char *zWhy = 0;
    if( tsCsvInit(&r, &c->csv, &zWhy) ) blErr(p, o->zPath, "%s", zWhy ? zWhy : "unusable options");
    tsCsvFree(&r);
  }
}

/* "s3://<bucket>/<prefix>" from Timestream's S3 configuration objects. */
static char *s3Uri(BlCtx *p, const BlObj *o, const char *zPrefixKey){
  char *zB = 0, *zP = 0, *z = 0;
  blStr(p, o, "BucketName", 1, 63, &zB);
  blStr(p, o, zPrefixKey, 0, 1024, &zP);
  if( p->op.rc==0 ){
    z = sqlite3_mprintf("s3://%s/%s", zB, zP ? zP : "");
    if( z==0 ) tsOpOom(&p->op);
  }
  sqlite3_free(zB); sqlite3_free(zP);
  return z;
}

/* Fetch a DataModel JSON object from S3 (DataModelS3Configuration). */
static char *fetchModel(BlCtx *p, const char *zUri){
  TsObjStore *pS = 0;
  char *zKey = 0, *zErr = 0, *z = 0;
  TsBuf b;
  tsBufInit(&b);
  if( tsObjOpenParent(zUri, 0, &pS, &zKey, &zErr)!=TS_OBJ_OK
   || tsObjGet(pS, zKey, 0, 1<<20, &b, &zErr)!=TS_OBJ_OK ){
    blErr(p, "DataModelConfiguration.DataModelS3Configuration", "cannot read %s: %s", zUri,
          zErr ? zErr : "error");
  }else{
    z = sqlite3_malloc64(b.n+1);
    if( z==0 ) tsOpOom(&p->op);
    else{ memcpy(z, b.a, b.n); z[b.n] = 0; }
  }
  free(zErr); free(zKey);
  tsObjClose(pS);
  tsBufFree(&b);
  return z;
}

static void awsParse(BlCtx *p, const BlObj *top, TsBlConfig *c){
  static const char *const azKey[] = { "ClientToken", "DataModelConfiguration",
      "DataSourceConfiguration", "ReportConfiguration", "TargetDatabaseName",
      "TargetTableName", "RecordVersion", 0 };
  BlObj dmc, dsc, s3, csv, rc3, rs3, dm;
  char *zFmt = 0;
  memset(&dm, 0, sizeof(dm)); memset(&s3, 0, sizeof(s3)); memset(&csv, 0, sizeof(csv));
  memset(&rs3, 0, sizeof(rs3));
  blKeys(p, top, azKey);
  blStr(p, top, "ClientToken", 0, 64, &c->zClientToken);
  blStr(p, top, "TargetDatabaseName", 1, 256, &c->zTargetDbName);
  blStr(p, top, "TargetTableName", 1, 256, &c->zTable);
  c->iVersion = blInt(p, top, "RecordVersion", 1, INT64_MAX, 1);

  if( blSub(p, top, "DataSourceConfiguration", J_OBJ, 1, &dsc) ){
    static const char *const azDKey[] = { "DataSourceS3Configuration", "CsvConfiguration",
                                          "DataFormat", 0 };
    blKeys(p, &dsc, azDKey);
    blStr(p, &dsc, "DataFormat", 1, 0, &zFmt);
    if( zFmt && strcmp(zFmt, "CSV")!=0 ) blErr(p, dsc.zPath, "DataFormat must be \"CSV\"");
    if( blSub(p, &dsc, "DataSourceS3Configuration", J_OBJ, 1, &s3) ){
      static const char *const azSKey[] = { "BucketName", "ObjectKeyPrefix", 0 };
      blKeys(p, &s3, azSKey);
      c->zSource = s3Uri(p, &s3, "ObjectKeyPrefix");
    }
    if( blSub(p, &dsc, "CsvConfiguration", J_OBJ, 0, &csv) && csv.zPath ) csvParse(p, &csv, c);
  }
  blObjClear(&dsc);
  if( blSub(p, top, "ReportConfiguration", J_OBJ, 1, &rc3) ){
    static const char *const azRKey[] = { "ReportS3Configuration", 0 };
    blKeys(p, &rc3, azRKey);
    if( blSub(p, &rc3, "ReportS3Configuration", J_OBJ, 1, &rs3) ){
      static const char *const azSKey[] = { "BucketName", "ObjectKeyPrefix", "EncryptionOption",
                                            "KmsKeyId", 0 };
      char *zEnc = 0;
      blKeys(p, &rs3, azSKey);
      c->zReport = s3Uri(p, &rs3, "ObjectKeyPrefix");
      blStr(p, &rs3, "EncryptionOption", 0, 0, &zEnc);
      blStr(p, &rs3, "KmsKeyId", 0, 2048, &c->zKmsKey);
      if( zEnc ){
        if( strcmp(zEnc, "SSE_S3")==0 ) c->zSse = sqlite3_mprintf("sse_s3");
        else if( strcmp(zEnc, "SSE_KMS")==0 ) c->zSse = sqlite3_mprintf("sse_kms");
        else blErr(p, rs3.zPath, "EncryptionOption must be SSE_S3 or SSE_KMS");
        if( p->op.rc==0 && c->zSse==0 ) tsOpOom(&p->op);
      }
      sqlite3_free(zEnc);
    }
  }
  blObjClear(&rc3);
  if( blSub(p, top, "DataModelConfiguration", J_OBJ, 1, &dmc) ){
    static const char *const azMKey[] = { "DataModel", "DataModelS3Configuration", 0 };
    blKeys(p, &dmc, azMKey);
    if( p->op.rc==0 && (blFind(&dmc, "DataModel")>=0)==(blFind(&dmc, "DataModelS3Configuration")>=0) ){
      blErr(p, dmc.zPath, "exactly one of DataModel and DataModelS3Configuration is required");
    }
    if( blFind(&dmc, "DataModel")>=0 ){
      if( blSub(p, &dmc, "DataModel", J_OBJ, 1, &dm) ) modelParse(p, &dm, &c->model);
    }else{
      BlObj m3;
      if( blSub(p, &dmc, "DataModelS3Configuration", J_OBJ, 1, &m3) ){
        static const char *const azSKey[] = { "BucketName", "ObjectKey", 0 };
        char *zUri, *zJson = 0;
        blKeys(p, &m3, azSKey);
        zUri = s3Uri(p, &m3, "ObjectKey");
        if( zUri ) zJson = fetchModel(p, zUri);
        if( zJson ){
          blLoad(p, zJson, J_OBJ, "DataModel", &dm);
          modelParse(p, &dm, &c->model);
        }
        sqlite3_free(zUri); sqlite3_free(zJson);
      }
      blObjClear(&m3);
    }
  }
  blObjClear(&dmc);
  blObjClear(&dm); blObjClear(&s3); blObjClear(&csv); blObjClear(&rs3);
  sqlite3_free(zFmt);
}

static void shortParse(BlCtx *p, const BlObj *top, TsBlConfig *c){
  static const char *const azKey[] = { "TargetTableName", "TargetDatabaseName", "DataSource",
      "DataModel", "CsvConfiguration", "ReportLocation", "RecordVersion", "BatchRows", 0 };
  BlObj dm, csv;
  blKeys(p, top, azKey);
  blStr(p, top, "TargetTableName", 1, 256, &c->zTable);
  blStr(p, top, "TargetDatabaseName", 0, 256, &c->zTargetDbName);
  blStr(p, top, "DataSource", 1, 0, &c->zSource);
  blStr(p, top, "ReportLocation", 0, 0, &c->zReport);
  c->iVersion = blInt(p, top, "RecordVersion", 1, INT64_MAX, 1);
  c->nBatchRows = (int)blInt(p, top, "BatchRows", 1, 1000000, c->nBatchRows);
  if( blSub(p, top, "CsvConfiguration", J_OBJ, 0, &csv) && csv.zPath ) csvParse(p, &csv, c);
  if( blSub(p, top, "DataModel", J_OBJ, 1, &dm) ) modelParse(p, &dm, &c->model);
  blObjClear(&dm);
  blObjClear(&csv);
}

void tsBlConfigFree(TsBlConfig *p){
  if( p==0 ) return;
  sqlite3_free(p->zDb); sqlite3_free(p->zTargetDbName); sqlite3_free(p->zTable);
  sqlite3_free(p->zSource); sqlite3_free(p->zReport); sqlite3_free(p->zSse);
  sqlite3_free(p->zKmsKey); sqlite3_free(p->zClientToken); sqlite3_free(p->zNull);
  modelFree(&p->model);
  sqlite3_free(p);
}

/* 1 if zName is the name of an attached schema of db. */
static int schemaExists(sqlite3 *db, const char *zName){
  sqlite3_stmt *pS = 0;
  int b = 0;
  if( sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_database_list WHERE name=?", -1, &pS, 0)==SQLITE_OK ){
    sqlite3_bind_text(pS, 1, zName, -1, SQLITE_STATIC);
    b = sqlite3_step(pS)==SQLITE_ROW;
  }
  sqlite3_finalize(pS);
  return b;
}

int tsBlConfigParse(sqlite3 *db, const char *zFunc, const char *zJson,
                    TsBlConfig **ppCfg, char **pzErr){
  BlCtx ctx;
  BlObj top;
  TsBlConfig *c;
  int rc;
  *ppCfg = 0;
  memset(&ctx, 0, sizeof(ctx));
  tsOpInit(&ctx.op, db, zFunc);
  c = sqlite3_malloc64(sizeof(*c));
  if( c==0 ) return SQLITE_NOMEM;
  memset(c, 0, sizeof(*c));
  tsCsvOptInit(&c->csv);
  c->iVersion = 1;
  c->nBatchRows = 100000;
  blLoad(&ctx, zJson ? zJson : "", J_OBJ, "", &top);
  if( ctx.op.rc==0 ){
    if( blFind(&top, "DataSourceConfiguration")>=0 ) awsParse(&ctx, &top, c);
    else shortParse(&ctx, &top, c);
  }
  blObjClear(&top);
  sqlite3_finalize(ctx.pEach);
  if( ctx.op.rc==0 ){
    const char *zDb = "main";
    if( c->zTargetDbName && schemaExists(db, c->zTargetDbName) ) zDb = c->zTargetDbName;
    c->zDb = tsOpDup(&ctx.op, zDb);
  }
  if( ctx.op.rc==0 && strncmp(c->zSource, "s3://", 5)!=0 && strncmp(c->zSource, "file://", 7)!=0 ){
    tsOpErr(&ctx.op, SQLITE_ERROR, "%s: DataSource '%s' must be an s3:// or file:// URI", zFunc, c->zSource);
  }
  if( ctx.op.rc==0 && c->zReport && strncmp(c->zReport, "s3://", 5)!=0
   && strncmp(c->zReport, "file://", 7)!=0 ){
    tsOpErr(&ctx.op, SQLITE_ERROR, "%s: ReportLocation '%s' must be an s3:// or file:// URI",
            zFunc, c->zReport);
  }
  rc = ctx.op.rc;
  if( rc ){
    /* the message moves to the caller */
    sqlite3_free(*pzErr);
    *pzErr = ctx.op.zErr;
    ctx.op.zErr = 0;
    tsBlConfigFree(c);
  }else{
    *ppCfg = c;
  }
  tsOpClear(&ctx.op);
  return rc;
}

/**************************************************************************
** Target table: check or create.
*/

int tsBlModelCheck(const TsBlModel *pM, TsTable *pTab, char **pzErr){
  const TsTableSchema *s = tsTableSchema(pTab);
  const char *zT = tsTableName(pTab), *zD = tsTableDb(pTab);
  int i, j, bPart = s->iPartDim<0 || !s->bPartRequired;
  for(i=0; i<pM->nDim; i++){
    for(j=0; j<s->nDim && strcmp(s->azDim[j], pM->aDim[i].zDst); j++){}
    if( j==s->nDim ){
      for(j=0; j<s->nMeas && strcmp(s->azMeas[j], pM->aDim[i].zDst); j++){}
      tsErrSet(pzErr, j<s->nMeas
               ? "ts_batch_load: DimensionMappings[%d]: '%s' is a measure of %s.%s, not a dimension"
               : "ts_batch_load: DimensionMappings[%d]: table %s.%s has no dimension '%s'",
               i, j<s->nMeas ? pM->aDim[i].zDst : zD, j<s->nMeas ? zD : zT,
               j<s->nMeas ? zT : pM->aDim[i].zDst);
      return SQLITE_ERROR;
    }
    if( j==s->iPartDim ) bPart = 1;
  }
  for(i=0; i<pM->nMeas; i++){
    for(j=0; j<s->nMeas && strcmp(s->azMeas[j], pM->azMeas[i]); j++){}
    if( j==s->nMeas ){
      tsErrSet(pzErr, "ts_batch_load: table %s.%s has no measure column '%s' (%s)", zD, zT,
               pM->azMeas[i], tsChunkTypeName(pM->aMeasType[i]));
      return SQLITE_ERROR;
    }
    if( s->aMeasType[j]!=pM->aMeasType[i] ){
      tsErrSet(pzErr, "ts_batch_load: measure '%s' is mapped as %s but %s.%s declares it %s",
               pM->azMeas[i], tsChunkTypeName(pM->aMeasType[i]), zD, zT,
               tsChunkTypeName(s->aMeasType[j]));
      return SQLITE_ERROR;
    }
  }
  if( !bPart ){
    tsErrSet(pzErr, "ts_batch_load: table %s.%s requires the partition key dimension '%s'"
             " (partition_enforcement 'required') and the data model does not map it",
             zD, zT, s->azDim[s->iPartDim]);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

int tsBlModelCreate(sqlite3 *db, const TsBlConfig *pCfg, char **pzErr){
  const TsBlModel *m = &pCfg->model;
  TsBuf b;
  char *zSql = 0, *z;
  int i, rc = SQLITE_OK;
  tsBufInit(&b);
  for(i=0; i<m->nDim; i++){
    z = sqlite3_mprintf("%s\"%w\" DIMENSION", i ? ", " : "", m->aDim[i].zDst);
    if( z==0 ){ rc = SQLITE_NOMEM; break; }
    tsBufAppendStr(&b, z);
    sqlite3_free(z);
  }
  for(i=0; rc==SQLITE_OK && i<m->nMeas; i++){
    z = sqlite3_mprintf(", \"%w\" %s", m->azMeas[i], tsChunkTypeName(m->aMeasType[i]));
    if( z==0 ){ rc = SQLITE_NOMEM; break; }
    tsBufAppendStr(&b, z);
    sqlite3_free(z);
  }
  tsBufAppendByte(&b, 0);
  if( rc==SQLITE_OK && b.bErr ) rc = SQLITE_NOMEM;
  if( rc==SQLITE_OK ){
    zSql = sqlite3_mprintf("CREATE VIRTUAL TABLE \"%w\".\"%w\" USING timeseries(%s)",
                           pCfg->zDb, pCfg->zTable, (const char*)b.a);
    if( zSql==0 ) rc = SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ){
    sqlite3_stmt *pS = 0;
    rc = sqlite3_prepare_v2(db, zSql, -1, &pS, 0);
    if( rc==SQLITE_OK ){
      rc = sqlite3_step(pS);
      if( rc==SQLITE_DONE ) rc = SQLITE_OK;
    }
    sqlite3_finalize(pS);
    if( rc ) tsErrSet(pzErr, "ts_batch_load: cannot create %s.%s from the data model: %s",
                      pCfg->zDb, pCfg->zTable, sqlite3_errmsg(db));
  }
  if( rc==SQLITE_NOMEM ) tsErrSet(pzErr, "ts_batch_load: out of memory");
  sqlite3_free(zSql);
  tsBufFree(&b);
  return rc;
}
