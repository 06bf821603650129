/*
** sched_target.c: the target of a scheduled query, Timestream's
** TimestreamConfiguration (reference 5.4), pasted unchanged:
**
**   {"DatabaseName":"db", "TableName":"cpu_1h", "TimeColumn":"hour",
**    "DimensionMappings":[{"Name":"hostname","DimensionValueType":"VARCHAR"}],
**    "MeasureNameColumn":"measure_name",                       (optional)
**    "MultiMeasureMappings":{"TargetMultiMeasureName":"cpu",
**        "MultiMeasureAttributeMappings":[{"SourceColumn":"avg_cpu",
**            "MeasureValueType":"DOUBLE","TargetMultiMeasureAttributeName":"avg"}]},
**    "MixedMeasureMappings":[{"MeasureName":"...","SourceColumn":"...",
**        "TargetMeasureName":"...","MeasureValueType":"DOUBLE|...|MULTI",
**        "MultiMeasureAttributeMappings":[...]}],
**    "Window":"1h", "SourceTables":["cpu"]}                    (tslite only)
**
** Exactly one of MultiMeasureMappings and MixedMeasureMappings.  Every
** mapping becomes one or more measure-name groups (SqGroup): a group writes
** one record per result row (dimensions, measure_name, its attributes) unless
** all its attributes are NULL in that row.  tslite tables are multi-measure
** (one column per measure), so a single-measure mapping (a Mixed entry that
** is not MULTI) writes its value into a measure column named after its
** target measure name (TargetMeasureName, else MeasureName, else
** SourceColumn); Timestream's measure_value::<type> columns do not exist.
** DatabaseName selects an attached schema of that name when there is one,
** else the main schema.
**
** Records go through a prepared INSERT on the target table with an explicit
** version (the run's version, increasing per run of the query), so the
** vtab's write rules apply and a later run replaces what an earlier run
** wrote for the same record key.  A record the table rejects (write window,
** version conflict, type) is a recoverable error: it goes into the error
** report (reference 5.7 format: {"reportId":..,"errors":[{"reason":..,
** "records":[..]}]}) and the run goes on.
**
** JSON is read with SQLite's json_each()/json_type() (bound parameters) and
** written with common/jsonw.h.
*/
#include "sched_int.h"
#include "table.h"
#include "chunk.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SQ_MAX_REPORT_ERRORS 100   /* errors kept in one report; the rest counted */

/* One member of a JSON object or element of an array. */
typedef struct SqJv SqJv;
struct SqJv {
  char *zKey;     /* member name (NULL for array elements) */
  char *zType;    /* json_each type: null true false integer real text array object */
  char *zVal;     /* text value, or JSON text of an array/object */
};

static void sqJvFree(SqJv *a, int n){
  int i;
  for(i=0; i<n; i++){ sqlite3_free(a[i].zKey); sqlite3_free(a[i].zType); sqlite3_free(a[i].zVal); }
  sqlite3_free(a);
}

static char *sqDup(const char *z){ return z ? sqlite3_mprintf("%s", z) : 0; }

/*
** Read the members (bObj) or elements of JSON text zJson into *paV.  zWhat
** names the value in errors ("TimestreamConfiguration.DimensionMappings").
*/
static int sqJsonList(sqlite3 *db, const char *zJson, int bObj, const char *zWhat,
                      SqJv **paV, int *pn, char **pzErr){
  sqlite3_stmt *pStmt = 0;
  SqJv *a = 0;
  int n = 0, nAlloc = 0, rc;
  *paV = 0; *pn = 0;
  rc = sqlite3_prepare_v2(db, "SELECT CASE WHEN json_valid(?1) THEN json_type(?1) END", -1, &pStmt, 0);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pStmt, 1, zJson, -1, SQLITE_STATIC);
    if( sqlite3_step(pStmt)==SQLITE_ROW ){
      const char *zT = (const char*)sqlite3_column_text(pStmt, 0);
      if( zT==0 ){
        tsErrSet(pzErr, "%s: not valid JSON", zWhat);
        rc = SQLITE_ERROR;
      }else if( strcmp(zT, bObj ? "object" : "array")!=0 ){
        tsErrSet(pzErr, "%s: expected a JSON %s, got %s", zWhat, bObj ? "object" : "array", zT);
        rc = SQLITE_ERROR;
      }
    }else{
      rc = sqlite3_errcode(db);
      tsErrSet(pzErr, "%s: %s", zWhat, sqlite3_errmsg(db));
    }
  }
  sqlite3_finalize(pStmt); pStmt = 0;
  if( rc!=SQLITE_OK ) return rc;
  rc = sqlite3_prepare_v2(db, "SELECT key, type, CASE WHEN type IN ('object','array')"
                              " THEN json(value) ELSE value END FROM json_each(?1)", -1, &pStmt, 0);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pStmt, 1, zJson, -1, SQLITE_STATIC);
    while( sqlite3_step(pStmt)==SQLITE_ROW ){
      if( n==nAlloc ){
        SqJv *aNew = sqlite3_realloc64(a, sizeof(SqJv)*(nAlloc = nAlloc ? 2*nAlloc : 8));
        if( aNew==0 ){ rc = SQLITE_NOMEM; break; }
        a = aNew;
      }
      a[n].zKey = bObj ? sqDup((const char*)sqlite3_column_text(pStmt, 0)) : 0;
      a[n].zType = sqDup((const char*)sqlite3_column_text(pStmt, 1));
      a[n].zVal = sqDup((const char*)sqlite3_column_text(pStmt, 2));
      n++;
    }
    if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt); else sqlite3_finalize(pStmt);
    pStmt = 0;
  }
  sqlite3_finalize(pStmt);
  if( rc!=SQLITE_OK ){
    sqJvFree(a, n);
    if( *pzErr==0 ) tsErrSet(pzErr, "%s: %s", zWhat, sqlite3_errstr(rc));
    return rc;
  }
  *paV = a; *pn = n;
  return SQLITE_OK;
}

/*
** Check an object's member names against azAllowed (NULL-terminated): an
** unknown or duplicated name is an error naming it.
*/
static int sqCheckKeys(const SqJv *a, int n, const char *const *azAllowed, const char *zWhat,
                       char **pzErr){
  int i, j;
  for(i=0; i<n; i++){
    int bOk = 0;
    for(j=0; azAllowed[j]; j++) if( strcmp(a[i].zKey, azAllowed[j])==0 ) bOk = 1;
    if( !bOk ){
      TsBuf b;
      tsBufInit(&b);
      for(j=0; azAllowed[j]; j++) tsBufPrintf(&b, "%s%s", j ? ", " : "", azAllowed[j]);
      tsBufAppendByte(&b, 0);
      tsErrSet(pzErr, "%s: unknown field '%s' (expected %s)", zWhat, a[i].zKey,
               b.bErr ? "" : (const char*)b.a);
      tsBufFree(&b);
      return SQLITE_ERROR;
    }
    for(j=0; j<i; j++){
      if( strcmp(a[i].zKey, a[j].zKey)==0 ){
        tsErrSet(pzErr, "%s: field '%s' given twice", zWhat, a[i].zKey);
        return SQLITE_ERROR;
      }
    }
  }
  return SQLITE_OK;
}

static const SqJv *sqGet(const SqJv *a, int n, const char *zKey){
  int i;
  for(i=0; i<n; i++) if( strcmp(a[i].zKey, zKey)==0 ) return &a[i];
  return 0;
}

/* A required (bReq) or optional string member; *pz gets a copy or NULL. */
static int sqGetStr(const SqJv *a, int n, const char *zKey, int bReq, const char *zWhat,
                    char **pz, char **pzErr){
  const SqJv *v = sqGet(a, n, zKey);
  *pz = 0;
  if( v==0 || strcmp(v->zType, "null")==0 ){
    if( !bReq ) return SQLITE_OK;
    tsErrSet(pzErr, "%s: missing %s", zWhat, zKey);
    return SQLITE_ERROR;
  }
  if( strcmp(v->zType, "text")!=0 ){
    tsErrSet(pzErr, "%s.%s: expected a string, got %s", zWhat, zKey, v->zType);
    return SQLITE_ERROR;
  }
  if( v->zVal==0 || v->zVal[0]==0 ){
    tsErrSet(pzErr, "%s.%s: must not be empty", zWhat, zKey);
    return SQLITE_ERROR;
  }
  *pz = sqDup(v->zVal);
  return *pz ? SQLITE_OK : SQLITE_NOMEM;
}

static int sqTypeCode(const char *z){
  static const char *const az[] = { 0, "DOUBLE", "BIGINT", "VARCHAR", "BOOLEAN", "TIMESTAMP" };
  int i;
  for(i=1; i<=5; i++) if( z && strcmp(z, az[i])==0 ) return i;
  return 0;
}
static const char *sqTypeName(int e){
  static const char *const az[] = { "?", "DOUBLE", "BIGINT", "VARCHAR", "BOOLEAN", "TIMESTAMP" };
  return (e>=1 && e<=5) ? az[e] : "?";
}

/* Register target measure column zName of type eType; returns its index or
** -1 with an error when the same name is mapped with two types. */
static int sqAddMeas(SqTarget *p, const char *zName, int eType, const char *zWhat, char **pzErr){
  int i;
  char **az; int *ai;
  for(i=0; i<p->nMeas; i++){
    if( sqlite3_stricmp(p->azMeas[i], zName)==0 ){
      if( p->aMeasType[i]!=eType ){
        tsErrSet(pzErr, "%s: measure '%s' is mapped as both %s and %s", zWhat, zName,
                 sqTypeName(p->aMeasType[i]), sqTypeName(eType));
        return -1;
      }
      return i;
    }
  }
  az = sqlite3_realloc64(p->azMeas, sizeof(char*)*(p->nMeas+1));
  if( az==0 ) return -1;
  p->azMeas = az;
  ai = sqlite3_realloc64(p->aMeasType, sizeof(int)*(p->nMeas+1));
  if( ai==0 ) return -1;
  p->aMeasType = ai;
  p->azMeas[p->nMeas] = sqDup(zName);
  if( p->azMeas[p->nMeas]==0 ) return -1;
  p->aMeasType[p->nMeas] = eType;
  return p->nMeas++;
}

static SqGroup *sqAddGroup(SqTarget *p){
  SqGroup *a = sqlite3_realloc64(p->aGroup, sizeof(SqGroup)*(p->nGroup+1));
  if( a==0 ) return 0;
  p->aGroup = a;
  memset(&a[p->nGroup], 0, sizeof(SqGroup));
  return &a[p->nGroup++];
}

/* Parse MultiMeasureAttributeMappings (array text zArr) into group g. */
static int sqParseAttrs(sqlite3 *db, SqTarget *p, SqGroup *g, const char *zArr,
                        const char *zWhat, char **pzErr){
  static const char *const azKey[] = { "SourceColumn", "MeasureValueType",
                                       "TargetMultiMeasureAttributeName", 0 };
  SqJv *a = 0; int n = 0, i, rc;
  rc = sqJsonList(db, zArr, 0, zWhat, &a, &n, pzErr);
  if( rc==SQLITE_OK && n==0 ){
    tsErrSet(pzErr, "%s: needs at least one attribute mapping", zWhat);
    rc = SQLITE_ERROR;
  }
  if( rc==SQLITE_OK ){
    g->aAttr = sqlite3_malloc64(sizeof(SqAttr)*n);
    if( g->aAttr==0 ) rc = SQLITE_NOMEM; else memset(g->aAttr, 0, sizeof(SqAttr)*n);
  }
  for(i=0; rc==SQLITE_OK && i<n; i++){
    SqJv *m = 0; int nm = 0;
    char *zW = sqlite3_mprintf("%s[%d]", zWhat, i);
    char *zType = 0, *zTarget = 0;
    SqAttr *at = &g->aAttr[g->nAttr];
    if( zW==0 ){ rc = SQLITE_NOMEM; break; }
    rc = sqJsonList(db, a[i].zVal ? a[i].zVal : "", 1, zW, &m, &nm, pzErr);
    if( rc==SQLITE_OK ) rc = sqCheckKeys(m, nm, azKey, zW, pzErr);
    if( rc==SQLITE_OK ) rc = sqGetStr(m, nm, "SourceColumn", 1, zW, &at->zSrc, pzErr);
    if( rc==SQLITE_OK ) rc = sqGetStr(m, nm, "MeasureValueType", 1, zW, &zType, pzErr);
    if( rc==SQLITE_OK ) rc = sqGetStr(m, nm, "TargetMultiMeasureAttributeName", 0, zW, &zTarget, pzErr);
    g->nAttr++;
    if( rc==SQLITE_OK && (at->eType = sqTypeCode(zType))==0 ){
      tsErrSet(pzErr, "%s.MeasureValueType: '%s' is not one of BIGINT, BOOLEAN, DOUBLE, VARCHAR, "
               "TIMESTAMP", zW, zType);
      rc = SQLITE_ERROR;
    }
    if( rc==SQLITE_OK ){
      at->zTarget = zTarget ? zTarget : sqDup(at->zSrc);
      zTarget = 0;
      if( at->zTarget==0 ) rc = SQLITE_NOMEM;
    }
    if( rc==SQLITE_OK ){
      at->iMeas = sqAddMeas(p, at->zTarget, at->eType, zW, pzErr);
      if( at->iMeas<0 && *pzErr==0 ) rc = SQLITE_NOMEM;
      else if( at->iMeas<0 ) rc = SQLITE_ERROR;
    }
    sqlite3_free(zType); sqlite3_free(zTarget); sqlite3_free(zW);
    sqJvFree(m, nm);
  }
  sqJvFree(a, n);
  return rc;
}

int tsSqTargetParse(sqlite3 *db, const char *zJson, SqTarget **ppT, char **pzErr){
  static const char *const azTop[] = {
    "DatabaseName", "TableName", "TimeColumn", "DimensionMappings", "MeasureNameColumn",
    "MultiMeasureMappings", "MixedMeasureMappings", "Window", "SourceTables", 0
  };
  const char *zW = "TimestreamConfiguration";
  SqTarget *p;
  SqJv *a = 0; int n = 0, i, rc;
  const SqJv *vMulti, *vMixed, *v;
  char *zDbName = 0;
  *ppT = 0;
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->iTimeCol = p->iMNameCol = -1;
  rc = sqJsonList(db, zJson ? zJson : "", 1, zW, &a, &n, pzErr);
  if( rc==SQLITE_OK ) rc = sqCheckKeys(a, n, azTop, zW, pzErr);
  if( rc==SQLITE_OK ) rc = sqGetStr(a, n, "DatabaseName", 0, zW, &zDbName, pzErr);
  if( rc==SQLITE_OK ) rc = sqGetStr(a, n, "TableName", 1, zW, &p->zTable, pzErr);
  if( rc==SQLITE_OK ) rc = sqGetStr(a, n, "TimeColumn", 1, zW, &p->zTimeCol, pzErr);
  if( rc==SQLITE_OK ) rc = sqGetStr(a, n, "MeasureNameColumn", 0, zW, &p->zMNameCol, pzErr);
  if( rc==SQLITE_OK ){
    /* DatabaseName: an attached schema of that name, else main. */
    sqlite3_stmt *pS = 0;
    p->zDb = sqDup("main");
    if( p->zDb==0 ) rc = SQLITE_NOMEM;
    if( rc==SQLITE_OK && zDbName
     && sqlite3_prepare_v2(db, "SELECT name FROM pragma_database_list WHERE name=?1", -1, &pS, 0)==SQLITE_OK ){
      sqlite3_bind_text(pS, 1, zDbName, -1, SQLITE_STATIC);
      if( sqlite3_step(pS)==SQLITE_ROW ){
        sqlite3_free(p->zDb);
        p->zDb = sqDup((const char*)sqlite3_column_text(pS, 0));
        if( p->zDb==0 ) rc = SQLITE_NOMEM;
      }
    }
    sqlite3_finalize(pS);
  }
  /* DimensionMappings (required; may be empty). */
  if( rc==SQLITE_OK ){
    v = sqGet(a, n, "DimensionMappings");
    if( v==0 ){
      tsErrSet(pzErr, "%s: missing DimensionMappings", zW);
      rc = SQLITE_ERROR;
    }else{
      SqJv *d = 0; int nd = 0;
      rc = sqJsonList(db, v->zVal ? v->zVal : "", 0, "TimestreamConfiguration.DimensionMappings",
                      &d, &nd, pzErr);
      if( rc==SQLITE_OK ){
        p->azDim = sqlite3_malloc64(sizeof(char*)*(nd+1));
        p->aiDimCol = sqlite3_malloc64(sizeof(int)*(nd+1));
        if( p->azDim==0 || p->aiDimCol==0 ) rc = SQLITE_NOMEM;
      }
      for(i=0; rc==SQLITE_OK && i<nd; i++){
        static const char *const azDimKey[] = { "Name", "DimensionValueType", 0 };
        SqJv *m = 0; int nm = 0, j;
        char *zDw = sqlite3_mprintf("TimestreamConfiguration.DimensionMappings[%d]", i);
        char *zType = 0;
        if( zDw==0 ){ rc = SQLITE_NOMEM; break; }
        rc = sqJsonList(db, d[i].zVal ? d[i].zVal : "", 1, zDw, &m, &nm, pzErr);
        if( rc==SQLITE_OK ) rc = sqCheckKeys(m, nm, azDimKey, zDw, pzErr);
        if( rc==SQLITE_OK ) rc = sqGetStr(m, nm, "Name", 1, zDw, &p->azDim[p->nDim], pzErr);
        if( rc==SQLITE_OK ) p->nDim++;
        if( rc==SQLITE_OK ) rc = sqGetStr(m, nm, "DimensionValueType", 1, zDw, &zType, pzErr);
        if( rc==SQLITE_OK && strcmp(zType, "VARCHAR")!=0 ){
          tsErrSet(pzErr, "%s.DimensionValueType: '%s' is not VARCHAR", zDw, zType);
          rc = SQLITE_ERROR;
        }
        for(j=0; rc==SQLITE_OK && j<p->nDim-1; j++){
          if( sqlite3_stricmp(p->azDim[j], p->azDim[p->nDim-1])==0 ){
            tsErrSet(pzErr, "%s: dimension '%s' is mapped twice", zDw, p->azDim[j]);
            rc = SQLITE_ERROR;
          }
        }
        sqlite3_free(zType); sqlite3_free(zDw);
        sqJvFree(m, nm);
      }
      sqJvFree(d, nd);
    }
  }
  vMulti = sqGet(a, n, "MultiMeasureMappings");
  vMixed = sqGet(a, n, "MixedMeasureMappings");
  if( vMulti && strcmp(vMulti->zType, "null")==0 ) vMulti = 0;
  if( vMixed && strcmp(vMixed->zType, "null")==0 ) vMixed = 0;
  if( rc==SQLITE_OK && (vMulti==0)==(vMixed==0) ){
    tsErrSet(pzErr, "%s: give exactly one of MultiMeasureMappings and MixedMeasureMappings", zW);
    rc = SQLITE_ERROR;
  }
  if( rc==SQLITE_OK && vMulti ){
    static const char *const azMmKey[] = { "TargetMultiMeasureName", "MultiMeasureAttributeMappings", 0 };
    const char *zMw = "TimestreamConfiguration.MultiMeasureMappings";
    SqJv *m = 0; int nm = 0;
    SqGroup *g = sqAddGroup(p);
    if( g==0 ) rc = SQLITE_NOMEM;
    if( rc==SQLITE_OK ) rc = sqJsonList(db, vMulti->zVal ? vMulti->zVal : "", 1, zMw, &m, &nm, pzErr);
    if( rc==SQLITE_OK ) rc = sqCheckKeys(m, nm, azMmKey, zMw, pzErr);
    if( rc==SQLITE_OK ) rc = sqGetStr(m, nm, "TargetMultiMeasureName", p->zMNameCol==0, zMw, &g->zName, pzErr);
    if( rc==SQLITE_OK ){
      const SqJv *va = sqGet(m, nm, "MultiMeasureAttributeMappings");
      char *zAw = sqlite3_mprintf("%s.MultiMeasureAttributeMappings", zMw);
      if( zAw==0 ) rc = SQLITE_NOMEM;
      else if( va==0 ){
        tsErrSet(pzErr, "%s: missing MultiMeasureAttributeMappings", zMw);
        rc = SQLITE_ERROR;
      }else{
        rc = sqParseAttrs(db, p, g, va->zVal ? va->zVal : "", zAw, pzErr);
      }
      sqlite3_free(zAw);
    }
    /* With a MeasureNameColumn the column's value is the measure name. */
    if( rc==SQLITE_OK && p->zMNameCol ){ sqlite3_free(g->zName); g->zName = 0; }
    sqJvFree(m, nm);
  }
  if( rc==SQLITE_OK && vMixed ){
    static const char *const azMxKey[] = { "MeasureName", "SourceColumn", "TargetMeasureName",
                                           "MeasureValueType", "MultiMeasureAttributeMappings", 0 };
    SqJv *d = 0; int nd = 0;
    rc = sqJsonList(db, vMixed->zVal ? vMixed->zVal : "", 0,
                    "TimestreamConfiguration.MixedMeasureMappings", &d, &nd, pzErr);
    if( rc==SQLITE_OK && nd==0 ){
      tsErrSet(pzErr, "TimestreamConfiguration.MixedMeasureMappings: needs at least one mapping");
      rc = SQLITE_ERROR;
    }
    for(i=0; rc==SQLITE_OK && i<nd; i++){
      SqJv *m = 0; int nm = 0;
      char *zXw = sqlite3_mprintf("TimestreamConfiguration.MixedMeasureMappings[%d]", i);
      char *zMName = 0, *zSrc = 0, *zTgt = 0, *zType = 0;
      SqGroup *g = sqAddGroup(p);
      if( zXw==0 || g==0 ){ sqlite3_free(zXw); rc = SQLITE_NOMEM; break; }
      rc = sqJsonList(db, d[i].zVal ? d[i].zVal : "", 1, zXw, &m, &nm, pzErr);
      if( rc==SQLITE_OK ) rc = sqCheckKeys(m, nm, azMxKey, zXw, pzErr);
      if( rc==SQLITE_OK ) rc = sqGetStr(m, nm, "MeasureName", p->zMNameCol!=0, zXw, &zMName, pzErr);
      if( rc==SQLITE_OK ) rc = sqGetStr(m, nm, "SourceColumn", 0, zXw, &zSrc, pzErr);
      if( rc==SQLITE_OK ) rc = sqGetStr(m, nm, "TargetMeasureName", 0, zXw, &zTgt, pzErr);
      if( rc==SQLITE_OK ) rc = sqGetStr(m, nm, "MeasureValueType", 1, zXw, &zType, pzErr);
      if( rc==SQLITE_OK ){
        if( p->zMNameCol ){ g->zMatch = zMName; zMName = 0; }
        if( strcmp(zType, "MULTI")==0 ){
          const SqJv *va = sqGet(m, nm, "MultiMeasureAttributeMappings");
          char *zAw = sqlite3_mprintf("%s.MultiMeasureAttributeMappings", zXw);
          g->zName = sqDup(zTgt ? zTgt : (g->zMatch ? g->zMatch : zMName));
          if( zAw==0 ) rc = SQLITE_NOMEM;
          else if( g->zName==0 ){
            tsErrSet(pzErr, "%s: a MULTI mapping needs TargetMeasureName or MeasureName", zXw);
            rc = SQLITE_ERROR;
          }else if( va==0 ){
            tsErrSet(pzErr, "%s: MeasureValueType MULTI needs MultiMeasureAttributeMappings", zXw);
            rc = SQLITE_ERROR;
          }else if( zSrc ){
            tsErrSet(pzErr, "%s: SourceColumn does not apply to a MULTI mapping", zXw);
            rc = SQLITE_ERROR;
          }else{
            rc = sqParseAttrs(db, p, g, va->zVal ? va->zVal : "", zAw, pzErr);
          }
          sqlite3_free(zAw);
        }else{
          int eType = sqTypeCode(zType);
          const char *zName = zTgt ? zTgt : (g->zMatch ? g->zMatch : (zMName ? zMName : zSrc));
          if( eType==0 || eType==SQ_T_TIMESTAMP ){
            tsErrSet(pzErr, "%s.MeasureValueType: '%s' is not one of BIGINT, BOOLEAN, DOUBLE, "
                     "VARCHAR, MULTI", zXw, zType);
            rc = SQLITE_ERROR;
          }else if( zSrc==0 ){
            tsErrSet(pzErr, "%s: missing SourceColumn", zXw);
            rc = SQLITE_ERROR;
          }else if( sqGet(m, nm, "MultiMeasureAttributeMappings") ){
            tsErrSet(pzErr, "%s: MultiMeasureAttributeMappings needs MeasureValueType MULTI", zXw);
            rc = SQLITE_ERROR;
          }else{
            g->aAttr = sqlite3_malloc64(sizeof(SqAttr));
            g->zName = sqDup(zName);
            if( g->aAttr==0 || g->zName==0 ) rc = SQLITE_NOMEM;
            else{
              memset(g->aAttr, 0, sizeof(SqAttr));
              g->nAttr = 1;
              g->aAttr[0].zSrc = zSrc; zSrc = 0;
              g->aAttr[0].zTarget = sqDup(zName);
              g->aAttr[0].eType = eType;
              if( g->aAttr[0].zTarget==0 ) rc = SQLITE_NOMEM;
              else{
                g->aAttr[0].iMeas = sqAddMeas(p, zName, eType, zXw, pzErr);
                if( g->aAttr[0].iMeas<0 ) rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
              }
            }
          }
        }
      }
      sqlite3_free(zMName); sqlite3_free(zSrc); sqlite3_free(zTgt); sqlite3_free(zType);
      sqlite3_free(zXw);
      sqJvFree(m, nm);
    }
    sqJvFree(d, nd);
  }
  /* Window (tslite): an interval the instance at runtime R covers, [R-W, R). */
  if( rc==SQLITE_OK && (v = sqGet(a, n, "Window"))!=0 && strcmp(v->zType, "null")!=0 ){
    int64_t w = 0;
    if( strcmp(v->zType, "text")!=0 || tsIntervalParse(v->zVal, -1, &w)!=TS_TIME_OK || w<=0 ){
      tsErrSet(pzErr, "%s.Window: '%s' is not a positive interval such as '1h'", zW,
               v->zVal ? v->zVal : "");
      rc = SQLITE_ERROR;
    }
    p->iWindow = w;
  }
  /* SourceTables (tslite): the timeseries tables the query reads. */
  if( rc==SQLITE_OK && (v = sqGet(a, n, "SourceTables"))!=0 && strcmp(v->zType, "null")!=0 ){
    SqJv *d = 0; int nd = 0;
    rc = sqJsonList(db, v->zVal ? v->zVal : "", 0, "TimestreamConfiguration.SourceTables", &d, &nd, pzErr);
    if( rc==SQLITE_OK ){
      p->azSource = sqlite3_malloc64(sizeof(char*)*(nd+1));
      if( p->azSource==0 ) rc = SQLITE_NOMEM;
    }
    for(i=0; rc==SQLITE_OK && i<nd; i++){
      if( strcmp(d[i].zType, "text")!=0 ){
        tsErrSet(pzErr, "TimestreamConfiguration.SourceTables[%d]: expected a table name string", i);
        rc = SQLITE_ERROR;
      }else{
        p->azSource[p->nSource] = sqDup(d[i].zVal);
        if( p->azSource[p->nSource]==0 ) rc = SQLITE_NOMEM; else p->nSource++;
      }
    }
    sqJvFree(d, nd);
  }
  if( rc==SQLITE_OK && p->nMeas==0 ){
    tsErrSet(pzErr, "%s: the mapping writes no measure", zW);
    rc = SQLITE_ERROR;
  }
  sqlite3_free(zDbName);
  sqJvFree(a, n);
  if( rc!=SQLITE_OK ){
    if( *pzErr==0 ) tsErrSet(pzErr, "%s: %s", zW, sqlite3_errstr(rc));
    tsSqTargetFree(p);
    return rc;
  }
  *ppT = p;
  return SQLITE_OK;
}

void tsSqTargetFree(SqTarget *p){
  int i, j;
  if( p==0 ) return;
  sqlite3_free(p->zDb); sqlite3_free(p->zTable); sqlite3_free(p->zTimeCol);
  for(i=0; i<p->nDim; i++) sqlite3_free(p->azDim[i]);
  sqlite3_free(p->azDim); sqlite3_free(p->aiDimCol);
  sqlite3_free(p->zMNameCol);
  for(i=0; i<p->nGroup; i++){
    SqGroup *g = &p->aGroup[i];
    for(j=0; j<g->nAttr; j++){ sqlite3_free(g->aAttr[j].zSrc); sqlite3_free(g->aAttr[j].zTarget); }
    sqlite3_free(g->aAttr); sqlite3_free(g->zName); sqlite3_free(g->zMatch);
  }
  sqlite3_free(p->aGroup);
  for(i=0; i<p->nMeas; i++) sqlite3_free(p->azMeas[i]);
  sqlite3_free(p->azMeas); sqlite3_free(p->aMeasType);
  for(i=0; i<p->nSource; i++) sqlite3_free(p->azSource[i]);
  sqlite3_free(p->azSource);
  sqlite3_free(p);
}

/* Index of result column zName (case-insensitive), or -1. */
static int sqFindCol(sqlite3_stmt *pQuery, const char *zName){
  int i, n = sqlite3_column_count(pQuery);
  for(i=0; i<n; i++){
    const char *z = sqlite3_column_name(pQuery, i);
    if( z && sqlite3_stricmp(z, zName)==0 ) return i;
  }
  return -1;
}

static int sqMissing(sqlite3_stmt *pQuery, const char *zField, const char *zCol, char **pzErr){
  TsBuf b;
  int i, n = sqlite3_column_count(pQuery);
  tsBufInit(&b);
  for(i=0; i<n; i++) tsBufPrintf(&b, "%s%s", i ? ", " : "", sqlite3_column_name(pQuery, i));
  tsBufAppendByte(&b, 0);
  tsErrSet(pzErr, "TimestreamConfiguration.%s: column '%s' is not in the query's result "
           "(columns: %s)", zField, zCol, b.bErr ? "?" : (const char*)b.a);
  tsBufFree(&b);
  return SQLITE_ERROR;
}

int tsSqTargetBind(SqTarget *p, sqlite3_stmt *pQuery, char **pzErr){
  int i, j;
  if( (p->iTimeCol = sqFindCol(pQuery, p->zTimeCol))<0 ){
    return sqMissing(pQuery, "TimeColumn", p->zTimeCol, pzErr);
  }
  for(i=0; i<p->nDim; i++){
    if( (p->aiDimCol[i] = sqFindCol(pQuery, p->azDim[i]))<0 ){
      return sqMissing(pQuery, "DimensionMappings", p->azDim[i], pzErr);
    }
  }
  if( p->zMNameCol && (p->iMNameCol = sqFindCol(pQuery, p->zMNameCol))<0 ){
    return sqMissing(pQuery, "MeasureNameColumn", p->zMNameCol, pzErr);
  }
  for(i=0; i<p->nGroup; i++){
    for(j=0; j<p->aGroup[i].nAttr; j++){
      SqAttr *at = &p->aGroup[i].aAttr[j];
      if( (at->iCol = sqFindCol(pQuery, at->zSrc))<0 ){
        return sqMissing(pQuery, p->nGroup==1 && !p->aGroup[0].zMatch && p->aGroup[0].nAttr>1
                         ? "MultiMeasureMappings" : "MeasureMappings", at->zSrc, pzErr);
      }
    }
  }
  return SQLITE_OK;
}

int tsSqTargetEnsure(TsEnv *pEnv, sqlite3 *db, SqTarget *p, char **pzErr){
  TsTable *pTab = 0;
  char *zOpenErr = 0;
  int rc = tsTableOpen(pEnv, db, p->zDb, p->zTable, &pTab, &zOpenErr);
  int i, j;
  if( rc==SQLITE_OK ){
    const TsTableSchema *s = tsTableSchema(pTab);
    for(i=0; rc==SQLITE_OK && i<p->nDim; i++){
      for(j=0; j<s->nDim && sqlite3_stricmp(s->azDim[j], p->azDim[i]); j++){}
      if( j==s->nDim ){
        tsErrSet(pzErr, "target table %s has no dimension '%s' (DimensionMappings)",
                 p->zTable, p->azDim[i]);
        rc = SQLITE_ERROR;
      }
    }
    for(i=0; rc==SQLITE_OK && i<p->nMeas; i++){
      for(j=0; j<s->nMeas && sqlite3_stricmp(s->azMeas[j], p->azMeas[i]); j++){}
      if( j==s->nMeas ){
        tsErrSet(pzErr, "target table %s has no measure column '%s'", p->zTable, p->azMeas[i]);
        rc = SQLITE_ERROR;
      }else if( s->aMeasType[j]!=p->aMeasType[i] ){
        tsErrSet(pzErr, "target table %s: measure '%s' is %s, the mapping says %s", p->zTable,
                 p->azMeas[i], tsChunkTypeName(s->aMeasType[j]), sqTypeName(p->aMeasType[i]));
        rc = SQLITE_ERROR;
      }
    }
    if( rc==SQLITE_OK && s->bPartRequired && s->iPartDim>=0 ){
      for(i=0; i<p->nDim && sqlite3_stricmp(p->azDim[i], s->azDim[s->iPartDim]); i++){}
      if( i==p->nDim ){
        tsErrSet(pzErr, "target table %s requires partition key '%s', which "
                 "DimensionMappings does not map", p->zTable, s->azDim[s->iPartDim]);
        rc = SQLITE_ERROR;
      }
    }
    tsTableRelease(pTab);
    sqlite3_free(zOpenErr);
    return rc;
  }
  sqlite3_free(zOpenErr);
  {
    /* Missing: create it from the mapping.  Is there another table of that
    ** name (not a timeseries table)? */
    sqlite3_stmt *pS = 0;
    char *zSql = sqlite3_mprintf("SELECT 1 FROM \"%w\".sqlite_master WHERE name=?1 COLLATE NOCASE", p->zDb);
    int bExists = 0;
    TsBuf b;
    if( zSql==0 ) return SQLITE_NOMEM;
    rc = sqlite3_prepare_v2(db, zSql, -1, &pS, 0);
    sqlite3_free(zSql);
    if( rc==SQLITE_OK ){
      sqlite3_bind_text(pS, 1, p->zTable, -1, SQLITE_STATIC);
      bExists = sqlite3_step(pS)==SQLITE_ROW;
    }
    sqlite3_finalize(pS);
    if( rc!=SQLITE_OK ){ tsErrSet(pzErr, "%s", sqlite3_errmsg(db)); return rc; }
    if( bExists ){
      tsErrSet(pzErr, "target %s is not a timeseries table", p->zTable);
      return SQLITE_ERROR;
    }
    tsBufInit(&b);
    zSql = sqlite3_mprintf("CREATE VIRTUAL TABLE \"%w\".\"%w\" USING timeseries(", p->zDb, p->zTable);
    tsBufAppendStr(&b, zSql ? zSql : "");
    sqlite3_free(zSql);
    for(i=0; i<p->nDim; i++){
      zSql = sqlite3_mprintf("\"%w\" DIMENSION, ", p->azDim[i]);
      tsBufAppendStr(&b, zSql ? zSql : "");
      sqlite3_free(zSql);
    }
    for(i=0; i<p->nMeas; i++){
      zSql = sqlite3_mprintf("\"%w\" %s, ", p->azMeas[i], sqTypeName(p->aMeasType[i]));
      tsBufAppendStr(&b, zSql ? zSql : "");
      sqlite3_free(zSql);
    }
    /* Rollups are written for past windows: accept them however old. */
    tsBufAppendStr(&b, "magnetic_writes = true)");
    tsBufAppendByte(&b, 0);
    if( b.bErr ){ tsBufFree(&b); return SQLITE_NOMEM; }
    rc = sqlite3_exec(db, (const char*)b.a, 0, 0, 0);
    if( rc!=SQLITE_OK ){
      tsErrSet(pzErr, "creating target table %s: %s", p->zTable, sqlite3_errmsg(db));
    }
    tsBufFree(&b);
  }
  return rc;
}

/**************************************************************************
** The writer.
*/
struct SqWriter {
  sqlite3 *db;
  SqTarget *pT;             /* not owned */
  sqlite3_stmt *pIns;       /* INSERT INTO target(time, dims, measure_name, meas..., version) */
  sqlite3_int64 iVersion;
  sqlite3_int64 nRecords;   /* records written */
  sqlite3_int64 nBytes;     /* bytes of the values written */
  sqlite3_int64 nErrors;    /* errors (rows or records) */
  sqlite3_int64 nRow;       /* rows seen */
  TsBuf errs;               /* JSON array elements of the report (comma-joined) */
  TsJsonW jw;               /* writes into errs */
  char *zFirstErr;          /* first error's reason */
};

int tsSqWriterOpen(sqlite3 *db, SqTarget *p, sqlite3_int64 iVersion, SqWriter **pp, char **pzErr){
  SqWriter *w;
  TsBuf b;
  int i, rc;
  char *z;
  *pp = 0;
  w = sqlite3_malloc64(sizeof(*w));
  if( w==0 ) return SQLITE_NOMEM;
  memset(w, 0, sizeof(*w));
  w->db = db; w->pT = p; w->iVersion = iVersion;
  tsBufInit(&w->errs);
  tsJwInit(&w->jw, &w->errs);
  tsJwArrBegin(&w->jw);
  tsBufInit(&b);
  z = sqlite3_mprintf("INSERT INTO \"%w\".\"%w\"(time", p->zDb, p->zTable);
  tsBufAppendStr(&b, z ? z : ""); sqlite3_free(z);
  for(i=0; i<p->nDim; i++){
    z = sqlite3_mprintf(", \"%w\"", p->azDim[i]);
    tsBufAppendStr(&b, z ? z : ""); sqlite3_free(z);
  }
  tsBufAppendStr(&b, ", measure_name");
  for(i=0; i<p->nMeas; i++){
    z = sqlite3_mprintf(", \"%w\"", p->azMeas[i]);
    tsBufAppendStr(&b, z ? z : ""); sqlite3_free(z);
  }
  tsBufAppendStr(&b, ", version) VALUES(?");
  for(i=0; i<p->nDim + 1 + p->nMeas + 1; i++) tsBufAppendStr(&b, ", ?");
  tsBufAppendStr(&b, ")");
  tsBufAppendByte(&b, 0);
  if( b.bErr ){ tsBufFree(&b); tsSqWriterClose(w); return SQLITE_NOMEM; }
  rc = sqlite3_prepare_v2(db, (const char*)b.a, -1, &w->pIns, 0);
  tsBufFree(&b);
  if( rc!=SQLITE_OK ){
    tsErrSet(pzErr, "target table %s: %s", p->zTable, sqlite3_errmsg(db));
    tsSqWriterClose(w);
    return rc;
  }
  *pp = w;
  return SQLITE_OK;
}

/* Record a row error {"reason":...}. */
static void sqRowError(SqWriter *w, const char *zReason){
  w->nErrors++;
  if( w->zFirstErr==0 ) w->zFirstErr = sqlite3_mprintf("%s", zReason);
  if( w->nErrors > SQ_MAX_REPORT_ERRORS ) return;
  tsJwObjBegin(&w->jw);
  tsJwKeyStr(&w->jw, "reason", zReason);
  tsJwObjEnd(&w->jw);
}

static void sqJwValue(TsJsonW *jw, sqlite3_value *v){
  if( v==0 || sqlite3_value_type(v)==SQLITE_NULL ) tsJwNull(jw);
  else tsJwStr(jw, (const char*)sqlite3_value_text(v));
}

/* Record a rejected record {"reason":..,"records":[<Record>]} (5.7). */
static void sqRecordError(SqWriter *w, const char *zReason, sqlite3_value **apVal, int64_t iTime,
                          const char *zMName, const SqGroup *g){
  SqTarget *p = w->pT;
  TsJsonW *jw = &w->jw;
  char zNum[32];
  int i;
  w->nErrors++;
  if( w->zFirstErr==0 ) w->zFirstErr = sqlite3_mprintf("%s", zReason);
  if( w->nErrors > SQ_MAX_REPORT_ERRORS ) return;
  tsJwObjBegin(jw);
  tsJwKeyStr(jw, "reason", zReason);
  tsJwKey(jw, "records"); tsJwArrBegin(jw); tsJwObjBegin(jw);
  tsJwKey(jw, "dimensions"); tsJwArrBegin(jw);
  for(i=0; i<p->nDim; i++){
    tsJwObjBegin(jw);
    tsJwKeyStr(jw, "name", p->azDim[i]);
    tsJwKey(jw, "value"); sqJwValue(jw, apVal[p->aiDimCol[i]]);
    tsJwKeyStr(jw, "dimensionValueType", "VARCHAR");
    tsJwObjEnd(jw);
  }
  tsJwArrEnd(jw);
  tsJwKeyStr(jw, "measureName", zMName);
  tsJwKey(jw, "measureValue"); tsJwNull(jw);
  tsJwKey(jw, "measureValues"); tsJwArrBegin(jw);
  for(i=0; i<g->nAttr; i++){
    tsJwObjBegin(jw);
    tsJwKeyStr(jw, "name", g->aAttr[i].zTarget);
    tsJwKey(jw, "value"); sqJwValue(jw, apVal[g->aAttr[i].iCol]);
    tsJwKeyStr(jw, "type", sqTypeName(g->aAttr[i].eType));
    tsJwObjEnd(jw);
  }
  tsJwArrEnd(jw);
  tsJwKeyStr(jw, "measureValueType", "MULTI");
  snprintf(zNum, sizeof(zNum), "%lld", (long long)iTime);
  tsJwKeyStr(jw, "time", zNum);
  tsJwKeyStr(jw, "timeUnit", "NANOSECONDS");
  snprintf(zNum, sizeof(zNum), "%lld", (long long)w->iVersion);
  tsJwKeyStr(jw, "version", zNum);
  tsJwObjEnd(jw); tsJwArrEnd(jw);
  tsJwObjEnd(jw);
}

static sqlite3_int64 sqValueBytes(sqlite3_value *v){
  switch( sqlite3_value_type(v) ){
    case SQLITE_NULL: return 0;
    case SQLITE_TEXT: case SQLITE_BLOB: return sqlite3_value_bytes(v);
    default: return 8;
  }
}

int tsSqWriterRow(SqWriter *w, sqlite3_value **apVal, int nCol, char **pzErr){
  SqTarget *p = w->pT;
  sqlite3_value *vTime = apVal[p->iTimeCol];
  int64_t iTime = 0;
  int g, i, nWritten = 0, rc = SQLITE_OK;
  const char *zMNameVal = 0;
  w->nRow++;
  switch( sqlite3_value_type(vTime) ){
    case SQLITE_INTEGER: iTime = sqlite3_value_int64(vTime); break;
    case SQLITE_FLOAT: {
      double r = sqlite3_value_double(vTime);
      if( r!=(double)(int64_t)r ) goto bad_time;
      iTime = (int64_t)r;
      break;
    }
    case SQLITE_TEXT:
      if( tsTimeParseIso((const char*)sqlite3_value_text(vTime), -1, &iTime)!=TS_TIME_OK ) goto bad_time;
      break;
    default: goto bad_time;
  }
  if( p->iMNameCol>=0 ){
    zMNameVal = (const char*)sqlite3_value_text(apVal[p->iMNameCol]);
    if( zMNameVal==0 ){
      char *z = sqlite3_mprintf("result row %lld: MeasureNameColumn '%s' is NULL",
                                (long long)w->nRow, p->zMNameCol);
      sqRowError(w, z ? z : "out of memory");
      sqlite3_free(z);
      return SQLITE_OK;
    }
  }
  for(g=0; g<p->nGroup; g++){
    const SqGroup *pg = &p->aGroup[g];
    const char *zMName = pg->zName ? pg->zName : zMNameVal;
    int bAny = 0;
    sqlite3_int64 nBytes = 8;
    if( pg->zMatch && (zMNameVal==0 || strcmp(pg->zMatch, zMNameVal)!=0) ) continue;
    for(i=0; i<pg->nAttr; i++){
      if( sqlite3_value_type(apVal[pg->aAttr[i].iCol])!=SQLITE_NULL ) bAny = 1;
    }
    if( !bAny ) continue;
    sqlite3_reset(w->pIns);
    sqlite3_clear_bindings(w->pIns);
    sqlite3_bind_int64(w->pIns, 1, iTime);
    for(i=0; i<p->nDim; i++){
      sqlite3_value *v = apVal[p->aiDimCol[i]];
      if( sqlite3_value_type(v)!=SQLITE_NULL ){
        /* with its length: a NUL inside reaches the table, which refuses
        ** it, instead of a value silently cut at the NUL */
        const char *zV = (const char*)sqlite3_value_text(v);
        sqlite3_bind_text(w->pIns, 2+i, zV, sqlite3_value_bytes(v), SQLITE_TRANSIENT);
        nBytes += sqlite3_value_bytes(v);
      }
    }
    sqlite3_bind_text(w->pIns, 2+p->nDim, zMName,
                      zMName && zMName==zMNameVal ? sqlite3_value_bytes(apVal[p->iMNameCol]) : -1,
                      SQLITE_TRANSIENT);
    nBytes += zMName ? (sqlite3_int64)strlen(zMName) : 0;
    for(i=0; i<pg->nAttr; i++){
      sqlite3_value *v = apVal[pg->aAttr[i].iCol];
      sqlite3_bind_value(w->pIns, 3+p->nDim+pg->aAttr[i].iMeas, v);
      nBytes += sqValueBytes(v);
    }
    sqlite3_bind_int64(w->pIns, 3+p->nDim+p->nMeas, w->iVersion);
    rc = sqlite3_step(w->pIns);
    if( rc==SQLITE_DONE ){
      rc = SQLITE_OK;
      w->nRecords++;
      w->nBytes += nBytes;
      nWritten++;
    }else{
      int ec = sqlite3_extended_errcode(w->db);
      int pc = ec & 0xff;
      if( pc==SQLITE_CONSTRAINT || pc==SQLITE_MISMATCH || pc==SQLITE_TOOBIG || pc==SQLITE_RANGE
       || (pc==SQLITE_ERROR) ){
        sqRecordError(w, sqlite3_errmsg(w->db), apVal, iTime, zMName, pg);
        sqlite3_reset(w->pIns);
        rc = SQLITE_OK;
        nWritten++;
      }else{
        tsErrSet(pzErr, "writing to %s: %s", p->zTable, sqlite3_errmsg(w->db));
        sqlite3_reset(w->pIns);
        return pc ? pc : SQLITE_ERROR;
      }
    }
  }
  if( nWritten==0 ){
    char *z = sqlite3_mprintf("result row %lld: every mapped measure column is NULL",
                              (long long)w->nRow);
    sqRowError(w, z ? z : "out of memory");
    sqlite3_free(z);
  }
  (void)nCol;
  return rc;

bad_time:
  {
    char *z = sqlite3_mprintf("result row %lld: TimeColumn '%s' is %s, not a timestamp",
                              (long long)w->nRow, p->zTimeCol,
                              sqlite3_value_type(vTime)==SQLITE_NULL ? "NULL" : "not a time");
    sqRowError(w, z ? z : "out of memory");
    sqlite3_free(z);
  }
  return SQLITE_OK;
}

void tsSqWriterStats(SqWriter *w, int64_t *pnRecords, int64_t *pnBytes,
                     int64_t *pnErrors){
  *pnRecords = w->nRecords; *pnBytes = w->nBytes; *pnErrors = w->nErrors;
}

const char *tsSqWriterFirstError(SqWriter *w){ return w->zFirstErr; }

char *tsSqWriterReport(SqWriter *w, const char *zReportId){
  TsBuf b; TsJsonW jw;
  char *z;
  if( w->nErrors==0 ) return 0;
  tsJwArrEnd(&w->jw);
  if( tsJwError(&w->jw) ) return 0;
  tsBufInit(&b); tsJwInit(&jw, &b);
  tsJwObjBegin(&jw);
  tsJwKeyStr(&jw, "reportId", zReportId);
  tsJwKey(&jw, "errors");
  tsJwRaw(&jw, (const char*)w->errs.a, w->errs.n);
  if( w->nErrors > SQ_MAX_REPORT_ERRORS ){
    tsJwKeyInt(&jw, "errorsNotListed", w->nErrors - SQ_MAX_REPORT_ERRORS);
  }
  tsJwObjEnd(&jw);
  if( tsJwError(&jw) ){ tsBufFree(&b); return 0; }
  z = sqlite3_mprintf("%.*s", (int)b.n, (const char*)b.a);
  tsBufFree(&b);
  return z;
}

void tsSqWriterClose(SqWriter *w){
  if( w==0 ) return;
  sqlite3_finalize(w->pIns);
  tsBufFree(&w->errs);
  sqlite3_free(w->zFirstErr);
  sqlite3_free(w);
}
