/*
** schema.c: a timeseries table's schema and options: parsing the CREATE
** VIRTUAL TABLE arguments (columns, type names, options), the one option
** table (aOpt[]: name, default, check, documentation; ts_options() returns
** it as JSON), storing the schema in <t>_config and loading it back from
** there (never from CREATE text), and the public view of table.h.
**
** <t>_config keys: "format" (1), "column.N" = "\"name\" TYPE" for each
** column N in declaration order (dimensions then measures as declared:
** TYPE is DIMENSION or a measure type name of chunk.h), and one key per
** option: the value given, else the option's default when it has one.
*/
#include "table_int.h"
#include "jsonw.h"
#include "storeopt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tsSchemaClear(TsSchema *p){
  int i;
  for(i=0; i<p->nDim; i++) sqlite3_free(p->azDim[i]);
  for(i=0; i<p->nMeas; i++) sqlite3_free(p->azMeas[i]);
  for(i=0; i<p->nOpt; i++){ sqlite3_free(p->azOptKey[i]); sqlite3_free(p->azOptVal[i]); }
  sqlite3_free(p->azDim);
  sqlite3_free(p->azMeas);
  sqlite3_free(p->aMeasType);
  sqlite3_free(p->azOptKey);
  sqlite3_free(p->azOptVal);
  sqlite3_free(p->zMeasureName);
  sqlite3_free(p->zCheckMsg);
  memset(p, 0, sizeof(*p));
}


/* Trim ASCII white space of z[0..*pn); returns the new start. */
static const char *trimSpace(const char *z, int *pn){
  int n = *pn;
  while( n>0 && (z[0]==' ' || z[0]=='\t' || z[0]=='\n' || z[0]=='\r') ){ z++; n--; }
  while( n>0 && (z[n-1]==' ' || z[n-1]=='\t' || z[n-1]=='\n' || z[n-1]=='\r') ) n--;
  *pn = n;
  return z;
}

/* Dequote an SQL identifier or string of n bytes ('..', "..", `..`, [..])
** into a new sqlite3_malloc'd string.  Returns NULL on OOM. */
static char *dequote(const char *z, int n){
  char q = n>=2 ? z[0] : 0;
  char qEnd = q=='[' ? ']' : q;
  if( (q=='\'' || q=='"' || q=='`' || q=='[') && z[n-1]==qEnd ){
    char *zOut = sqlite3_malloc64((sqlite3_uint64)n);
    int i, j = 0;
    if( zOut==0 ) return 0;
    for(i=1; i<n-1; i++){
      zOut[j++] = z[i];
      if( z[i]==qEnd && q!='[' && i+1<n-1 && z[i+1]==qEnd ) i++;
    }
    zOut[j] = 0;
    return zOut;
  }
  return sqlite3_mprintf("%.*s", n, z);
}

/* Length of the first token of z[0..n) (an identifier, possibly quoted). */
static int tokenLen(const char *z, int n){
  int i = 0;
  if( n>0 && (z[0]=='"' || z[0]=='`' || z[0]=='[' || z[0]=='\'') ){
    char qEnd = z[0]=='[' ? ']' : z[0];
    for(i=1; i<n; i++){
      if( z[i]==qEnd ){
        if( qEnd!=']' && i+1<n && z[i+1]==qEnd ){ i++; continue; }
        return i+1;
      }
    }
    return n;
  }
  while( i<n && z[i]!=' ' && z[i]!='\t' && z[i]!='\n' && z[i]!='\r' ) i++;
  return i;
}

/* Index of '=' outside quotes in z[0..n), or -1. */
static int findEquals(const char *z, int n){
  int i;
  char q = 0;
  for(i=0; i<n; i++){
    if( q ){
      if( z[i]==q ) q = 0;
    }else if( z[i]=='\'' || z[i]=='"' || z[i]=='`' ){
      q = z[i];
    }else if( z[i]=='[' ){
      q = ']';
    }else if( z[i]=='=' ){
      return i;
    }
  }
  return -1;
}

static int isReservedName(const char *z){
  return sqlite3_stricmp(z, "time")==0 || sqlite3_stricmp(z, "version")==0
      || sqlite3_strnicmp(z, "measure_name", 12)==0
      || sqlite3_strnicmp(z, "measure_value", 13)==0
      || sqlite3_strnicmp(z, "ts_", 3)==0
      || sqlite3_stricmp(z, "rowid")==0 || sqlite3_stricmp(z, "oid")==0
      || sqlite3_stricmp(z, "_rowid_")==0;
}

static int parseBool(const char *z, int *pb){
  if( sqlite3_stricmp(z, "true")==0 || strcmp(z, "1")==0 ){ *pb = 1; return 0; }
  if( sqlite3_stricmp(z, "false")==0 || strcmp(z, "0")==0 ){ *pb = 0; return 0; }
  return 1;
}

/* Parse an interval option: Timestream interval text or bare INTEGER ns. */
static int parseRetention(const char *z, sqlite3_int64 *piNs){
  int64_t v;
  const char *p = z;
  if( *p ){
    while( *p>='0' && *p<='9' ) p++;
    if( *p==0 && p-z<=18 ){ *piNs = (sqlite3_int64)strtoll(z, 0, 10); return 0; }
  }
  if( tsIntervalParse(z, -1, &v)!=TS_TIME_OK ) return 1;
  *piNs = v;
  return 0;
}

static int schemaAddOpt(TsSchema *p, const char *zKey, const char *zVal){
  char **a1 = sqlite3_realloc64(p->azOptKey, sizeof(char*)*(p->nOpt+1));
  char **a2;
  if( a1==0 ) return SQLITE_NOMEM;
  p->azOptKey = a1;
  a2 = sqlite3_realloc64(p->azOptVal, sizeof(char*)*(p->nOpt+1));
  if( a2==0 ) return SQLITE_NOMEM;
  p->azOptVal = a2;
  a1[p->nOpt] = sqlite3_mprintf("%s", zKey);
  a2[p->nOpt] = sqlite3_mprintf("%s", zVal);
  p->nOpt++;
  if( a1[p->nOpt-1]==0 || a2[p->nOpt-1]==0 ) return SQLITE_NOMEM;
  return SQLITE_OK;
}

static const char *schemaOpt(TsSchema *p, const char *zKey){
  int i;
  for(i=0; i<p->nOpt; i++){
    if( strcmp(p->azOptKey[i], zKey)==0 ) return p->azOptVal[i];
  }
  return 0;
}

/**************************************************************************
** The option table: the one list of table options.  CREATE parsing
** (tsSchemaParse), the defaults stored in <t>_config (tsSchemaStore), loading
** from <t>_config (tsSchemaLoad), the error messages and ts_options() (and
** through it the option table of docs/sql-reference.md, compared by
** tests/py/test_options_doc.py) all read aOpt[].
*/

/* An option's check: apply value zVal to *p, or set *pzWhy to the text of
** the parenthesis of "bad value for <name>: '<v>' (<why>)" and return
** SQLITE_ERROR; SQLITE_NOMEM on OOM. */
typedef int (*TsOptCheck)(TsSchema *p, const char *zVal, const char **pzWhy);

typedef struct TsOptDef TsOptDef;
struct TsOptDef {
  const char *zName;
  const char *zDefault;      /* value when not given (applied, and stored in
                             ** _config for its readers), NULL = none */
  TsOptCheck xCheck;         /* NULL: checked by schemaFinish (needs columns) */
  const char *zValues;       /* docs: the values it takes */
  const char *zDefaultDoc;   /* docs: the default */
};

#define TS_STR2(x) #x
#define TS_STR(x) TS_STR2(x)

static int optMemRet(TsSchema *p, const char *zVal, const char **pzWhy){
  sqlite3_int64 iNs;
  if( parseRetention(zVal, &iNs) || iNs<TS_NS_PER_HOUR || iNs>8766*TS_NS_PER_HOUR ){
    *pzWhy = "expected an interval from 1h to 8766h, e.g. '6h' or '7d'";
    return SQLITE_ERROR;
  }
  p->iMemRet = iNs;
  return SQLITE_OK;
}

static int optMagRet(TsSchema *p, const char *zVal, const char **pzWhy){
  sqlite3_int64 iNs;
  if( parseRetention(zVal, &iNs) || iNs<TS_NS_PER_DAY || iNs>73000*TS_NS_PER_DAY ){
    *pzWhy = "expected an interval from 1d to 73000d, e.g. '365d'";
    return SQLITE_ERROR;
  }
  p->iMagRet = iNs;
  return SQLITE_OK;
}

static int optMagWrites(TsSchema *p, const char *zVal, const char **pzWhy){
  if( parseBool(zVal, &p->bMagWrites) ){
    *pzWhy = "expected true or false";
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

static int optPartEnf(TsSchema *p, const char *zVal, const char **pzWhy){
  if( sqlite3_stricmp(zVal, "required")==0 ){
    p->bPartRequired = 1;
  }else if( sqlite3_stricmp(zVal, "optional")==0 ){
    p->bPartRequired = 0;
  }else{
    *pzWhy = "expected 'optional' or 'required'";
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

static int optMeasureName(TsSchema *p, const char *zVal, const char **pzWhy){
  if( zVal[0]==0 || strlen(zVal)>TS_MAX_MNAME_BYTES ){
    *pzWhy = "expected 1 to " TS_STR(TS_MAX_MNAME_BYTES) " bytes";
    return SQLITE_ERROR;
  }
  sqlite3_free(p->zMeasureName);
  p->zMeasureName = sqlite3_mprintf("%s", zVal);
  return p->zMeasureName ? SQLITE_OK : SQLITE_NOMEM;
}

static int optColdCache(TsSchema *p, const char *zVal, const char **pzWhy){
  int64_t n;
  if( tsObjCacheParseSize(zVal, &n) || (n>0 && n<(1<<20)) ){
    *pzWhy = "expected 0 (off) or a size of at least 1MB, e.g. '1GB' or '512MB'";
    return SQLITE_ERROR;
  }
  p->nColdCache = n;
  return SQLITE_OK;
}

static int optStorage(TsSchema *p, const char *zVal, const char **pzWhy){
  (void)p;
  if( strncmp(zVal, "s3://", 5)!=0 && strncmp(zVal, "file:///", 8)!=0 ){
    *pzWhy = "expected 's3://bucket/prefix' or 'file:///absolute/dir'";
    return SQLITE_ERROR;
  }
  if( strncmp(zVal, "s3://", 5)==0 && (zVal[5]==0 || zVal[5]=='/') ){
    *pzWhy = "no bucket name";
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* A new table's endpoint is parsed as the S3 client will parse it
** (s3/endpoint.c, through storeopt.c), so a malformed endpoint fails the
** CREATE with the message an upload (ts_maintain) would give, which never
** echoes userinfo or a query string.  A stored table (bStored) keeps the
** rule of older builds: its value loads, and ts_maintain names the problem
** before it talks to the store. */
static int optS3Endpoint(TsSchema *p, const char *zVal, const char **pzWhy){
  char *zMsg = 0;
  if( strncmp(zVal, "http://", 7)!=0 && strncmp(zVal, "https://", 8)!=0 ){
    if( p->bStored ){
      *pzWhy = "expected an http:// or https:// URL";
      return SQLITE_ERROR;
    }
  }else if( p->bStored ){
    return SQLITE_OK;
  }
  if( tsStoreOptCheck("s3_endpoint", zVal, &zMsg)==0 ) return SQLITE_OK;
  if( zMsg==0 ) return SQLITE_NOMEM;
  sqlite3_free(p->zCheckMsg);
  p->zCheckMsg = sqlite3_mprintf("%s", zMsg);
  free(zMsg);
  return p->zCheckMsg ? SQLITE_ERROR : SQLITE_NOMEM;
}

static int optS3Region(TsSchema *p, const char *zVal, const char **pzWhy){
  (void)p;
  if( zVal[0]==0 ){
    *pzWhy = "empty";
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

static int optS3UrlStyle(TsSchema *p, const char *zVal, const char **pzWhy){
  (void)p;
  if( strcmp(zVal, "path")!=0 && strcmp(zVal, "virtual")!=0 ){
    *pzWhy = "expected 'path' or 'virtual'";
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* encryption, kms_key: the rules of s3/storeopt.c (tsStoreOptWhy); the
** rules between them and storage are checked by schemaFinish. */
static int optEncryption(TsSchema *p, const char *zVal, const char **pzWhy){
  (void)p;
  *pzWhy = tsStoreOptWhy("encryption", zVal);
  return *pzWhy ? SQLITE_ERROR : SQLITE_OK;
}

static int optKmsKey(TsSchema *p, const char *zVal, const char **pzWhy){
  (void)p;
  *pzWhy = tsStoreOptWhy("kms_key", zVal);
  return *pzWhy ? SQLITE_ERROR : SQLITE_OK;
}

static const TsOptDef aOpt[] = {
  { "memory_retention", "6h", optMemRet,
    "interval `1h` .. `8766h` (or INTEGER ns)", "`6h`" },
  { "magnetic_retention", "73000d", optMagRet,
    "interval `1d` .. `73000d`", "`73000d`" },
  { "magnetic_writes", "false", optMagWrites,
    "`true`/`false`/`1`/`0`: accept records older than memory retention", "`false`" },
  { "partition_key", "measure_name", 0,
    "a DIMENSION column, or `measure_name`", "`measure_name`" },
  { "partition_enforcement", "optional", optPartEnf,
    "`optional` or `required`", "`optional`" },
  { "measure_name", "metrics", optMeasureName,
    "default `measure_name` of rows that give none (1.." TS_STR(TS_MAX_MNAME_BYTES) " bytes)",
    "`metrics`" },
  { "storage", 0, optStorage,
    "`s3://bucket/prefix` or `file:///abs/dir` (cold tier)", "`<dbfile>.tslite/`" },
  { "cold_cache", "1GB", optColdCache,
    "size of the local cache of `s3://` object bytes in `<dbfile>.tslite-cache/` "
    "(`B`/`KB`/`MB`/`GB`/`TB`, at least `1MB`), or `0` for none", "`1GB`" },
  { "s3_endpoint", 0, optS3Endpoint,
    "`http://...` or `https://...` (used as given)", "from the environment" },
  { "s3_region", 0, optS3Region,
    "an AWS region, e.g. `eu-west-1`", "from the environment" },
  { "s3_url_style", 0, optS3UrlStyle,
    "`path` or `virtual`", "`path` with an endpoint, else `virtual`" },
  { "encryption", "none", optEncryption,
    "`none`, `sse_s3`, `sse_kms` (server-side, s3:// only) or `client` (AES-256-GCM in tslite)",
    "`none`" },
  { "kms_key", 0, optKmsKey,
    "KMS key id/ARN/alias for `sse_kms`; the client-side key's name for `client` (never key material)",
    "none (`client`: the environment's key id)" },
};
#define TS_NOPT ((int)(sizeof(aOpt)/sizeof(aOpt[0])))

/* The option named zKey, or NULL. */
static const TsOptDef *optFind(const char *zKey){
  int j;
  for(j=0; j<TS_NOPT; j++) if( strcmp(zKey, aOpt[j].zName)==0 ) return &aOpt[j];
  return 0;
}

/* "memory_retention, magnetic_retention, ..." (sqlite3_malloc'd; NULL on OOM). */
static char *optNameList(void){
  char *z = sqlite3_mprintf("%s", aOpt[0].zName);
  int j;
  for(j=1; z && j<TS_NOPT; j++) z = sqlite3_mprintf("%z, %s", z, aOpt[j].zName);
  return z;
}

/* Apply one option (already known to be new) to the schema and record it
** as given.  Column-dependent checks (partition_key) happen in
** schemaFinish. */
static int schemaOption(TsSchema *p, const char *zTab, const TsOptDef *pDef,
                        const char *zVal, char **pzErr){
  if( pDef->xCheck ){
    const char *zWhy = 0;
    int rc = pDef->xCheck(p, zVal, &zWhy);
    if( rc==SQLITE_ERROR && p->zCheckMsg ){
      tsErrSet(pzErr, "timeseries %s: %s", zTab, p->zCheckMsg);
    }else if( rc==SQLITE_ERROR ){
      tsErrSet(pzErr, "timeseries %s: bad value for %s: '%s' (%s)", zTab, pDef->zName, zVal,
               zWhy ? zWhy : "invalid");
    }
    sqlite3_free(p->zCheckMsg);
    p->zCheckMsg = 0;
    if( rc ) return rc;
  }
  return schemaAddOpt(p, pDef->zName, zVal);
}

/* ts_options(): the option table as JSON, one object per option in table
** order: {"name", "default" (null = none), "values", "default_doc"}. */
static void optionsFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  TsBuf b;
  TsJsonW w;
  int j;
  (void)argc; (void)argv;
  tsBufInit(&b);
  tsJwInit(&w, &b);
  tsJwArrBegin(&w);
  for(j=0; j<TS_NOPT; j++){
    tsJwObjBegin(&w);
    tsJwKeyStr(&w, "name", aOpt[j].zName);
    tsJwKeyStr(&w, "default", aOpt[j].zDefault);
    tsJwKeyStr(&w, "values", aOpt[j].zValues);
    tsJwKeyStr(&w, "default_doc", aOpt[j].zDefaultDoc);
    tsJwObjEnd(&w);
  }
  tsJwArrEnd(&w);
  if( tsJwError(&w) || b.bErr ){
    sqlite3_result_error_nomem(ctx);
  }else{
    sqlite3_result_text(ctx, (const char*)b.a, (int)b.n, SQLITE_TRANSIENT);
  }
  tsBufFree(&b);
}

int tsSchemaRegister(sqlite3 *db, TsEnv *pEnv){
  (void)pEnv;
  return sqlite3_create_function_v2(db, "ts_options", 0,
      SQLITE_UTF8|SQLITE_DETERMINISTIC|SQLITE_INNOCUOUS, 0,
      optionsFunc, 0, 0, 0);
}


/* Parse one column definition "name TYPE" and add it to the schema. */
static int schemaColumn(TsSchema *p, const char *zTab, const char *z, int n,
                        char **pzErr){
  /* Timestream's type names and the SQLite names that mean the same; the
  ** schema keeps the Timestream name (tsChunkTypeName). */
  static const struct { const char *z; int e; } aType[] = {
    { "DIMENSION", 0 },
    { "DOUBLE", TS_TYPE_DOUBLE }, { "REAL", TS_TYPE_DOUBLE }, { "FLOAT", TS_TYPE_DOUBLE },
    { "BIGINT", TS_TYPE_BIGINT }, { "INTEGER", TS_TYPE_BIGINT }, { "INT", TS_TYPE_BIGINT },
    { "VARCHAR", TS_TYPE_VARCHAR }, { "TEXT", TS_TYPE_VARCHAR },
    { "BOOLEAN", TS_TYPE_BOOLEAN },
    { "TIMESTAMP", TS_TYPE_TIMESTAMP },
  };
  int nName = tokenLen(z, n);
  const char *zType = z + nName;
  int nType = n - nName;
  char *zName = 0, *zTypeStr = 0;
  int rc = SQLITE_OK, i, eType = -1;
  zType = trimSpace(zType, &nType);
  zName = dequote(z, nName);
  zTypeStr = sqlite3_mprintf("%.*s", nType, zType);
  if( zName==0 || zTypeStr==0 ){ rc = SQLITE_NOMEM; goto out; }
  for(i=0; i<(int)(sizeof(aType)/sizeof(aType[0])); i++){
    if( sqlite3_stricmp(zTypeStr, aType[i].z)==0 ) eType = aType[i].e;
  }
  if( zName[0]==0 ){
    tsErrSet(pzErr, "timeseries %s: empty column name", zTab);
    rc = SQLITE_ERROR;
  }else if( nType==0 ){
    tsErrSet(pzErr, "timeseries %s: column '%s' has no type (expected DIMENSION, "
             "DOUBLE, BIGINT, VARCHAR, BOOLEAN or TIMESTAMP)", zTab, zName);
    rc = SQLITE_ERROR;
  }else if( eType<0 ){
    tsErrSet(pzErr, "timeseries %s: column '%s': unknown type '%s' (expected DIMENSION, "
             "DOUBLE, BIGINT, VARCHAR, BOOLEAN or TIMESTAMP)", zTab, zName, zTypeStr);
    rc = SQLITE_ERROR;
  }else if( isReservedName(zName) ){
    tsErrSet(pzErr, "timeseries %s: column name '%s' is reserved (time, measure_name, "
             "version, measure_value*, ts_*, rowid)", zTab, zName);
    rc = SQLITE_ERROR;
  }else{
    for(i=0; i<p->nDim && rc==SQLITE_OK; i++){
      if( sqlite3_stricmp(p->azDim[i], zName)==0 ) rc = SQLITE_ERROR;
    }
    for(i=0; i<p->nMeas && rc==SQLITE_OK; i++){
      if( sqlite3_stricmp(p->azMeas[i], zName)==0 ) rc = SQLITE_ERROR;
    }
    if( rc ){
      tsErrSet(pzErr, "timeseries %s: duplicate column name '%s'", zTab, zName);
    }
  }
  if( rc==SQLITE_OK && eType==0 ){
    char **a;
    if( p->nDim>=TS_MAX_DIMS ){
      tsErrSet(pzErr, "timeseries %s: too many dimensions (the limit is %d)", zTab, TS_MAX_DIMS);
      rc = SQLITE_ERROR;
      goto out;
    }
    a = sqlite3_realloc64(p->azDim, sizeof(char*)*(p->nDim+1));
    if( a==0 ){ rc = SQLITE_NOMEM; goto out; }
    p->azDim = a;
    a[p->nDim++] = zName;
    zName = 0;
  }else if( rc==SQLITE_OK ){
    char **a;
    int *ai;
    if( p->nMeas>=TS_CHUNK_MAX_COLS ){
      tsErrSet(pzErr, "timeseries %s: too many measures (the limit is %d)", zTab, TS_CHUNK_MAX_COLS);
      rc = SQLITE_ERROR;
      goto out;
    }
    a = sqlite3_realloc64(p->azMeas, sizeof(char*)*(p->nMeas+1));
    if( a==0 ){ rc = SQLITE_NOMEM; goto out; }
    p->azMeas = a;
    ai = sqlite3_realloc64(p->aMeasType, sizeof(int)*(p->nMeas+1));
    if( ai==0 ){ rc = SQLITE_NOMEM; goto out; }
    p->aMeasType = ai;
    ai[p->nMeas] = eType;
    a[p->nMeas++] = zName;
    zName = 0;
  }
out:
  sqlite3_free(zName);
  sqlite3_free(zTypeStr);
  return rc;
}

/* Defaults of a schema before any option applies. */
/* An empty schema with every option at its default (aOpt[].zDefault). */
static int schemaInit(TsSchema *p){
  int j, rc = SQLITE_OK;
  memset(p, 0, sizeof(*p));
  p->iPartDim = -1;
  for(j=0; rc==SQLITE_OK && j<TS_NOPT; j++){
    const char *zWhy = 0;
    if( aOpt[j].zDefault && aOpt[j].xCheck ) rc = aOpt[j].xCheck(p, aOpt[j].zDefault, &zWhy);
  }
  return rc;
}

/* Checks that need every column and option: a measure exists, the
** partition key names a dimension. */
static int schemaFinish(TsSchema *p, const char *zTab, char **pzErr){
  int rc = SQLITE_OK, j;
  if( p->nMeas==0 ){
    tsErrSet(pzErr, "timeseries %s: at least one measure column is required "
             "(DOUBLE, BIGINT, VARCHAR, BOOLEAN or TIMESTAMP)", zTab);
    rc = SQLITE_ERROR;
  }
  if( rc==SQLITE_OK ){
    const char *zPk = schemaOpt(p, "partition_key");
    p->iPartDim = -1;
    if( zPk && strcmp(zPk, "measure_name")!=0 ){
      for(j=0; j<p->nDim; j++) if( sqlite3_stricmp(p->azDim[j], zPk)==0 ) p->iPartDim = j;
      if( p->iPartDim<0 ){
        tsErrSet(pzErr, "timeseries %s: bad value for partition_key: '%s' "
                 "(expected a DIMENSION column or measure_name)", zTab, zPk);
        rc = SQLITE_ERROR;
      }
    }
  }
  if( rc==SQLITE_OK ){
    char *zE = 0;
    const char *zEnc = schemaOpt(p, "encryption");
    if( tsStoreOptFinish(schemaOpt(p, "storage"), zEnc, schemaOpt(p, "kms_key"), &zE) ){
      tsErrSet(pzErr, "timeseries %s: %s", zTab, zE ? zE : "out of memory");
      rc = zE ? SQLITE_ERROR : SQLITE_NOMEM;
      free(zE);
    }
  }
  return rc;
}


/* Parse the CREATE VIRTUAL TABLE arguments azArg[0..nArg) into *p.
** bCreate: a new table (xCreate), so the CREATE-only option rules apply;
** xConnect re-reads the arguments of a table that may come from an older
** build and skips them. */
int tsSchemaParse(TsSchema *p, const char *zTab, int nArg,
                       const char *const *azArg, int bCreate, char **pzErr){
  int rc, i;
  rc = schemaInit(p);
  p->bStored = !bCreate;
  for(i=0; rc==SQLITE_OK && i<nArg; i++){
    int n = (int)strlen(azArg[i]);
    const char *z = trimSpace(azArg[i], &n);
    int iEq = findEquals(z, n);
    if( n==0 ){
      tsErrSet(pzErr, "timeseries %s: empty argument %d", zTab, i+1);
      rc = SQLITE_ERROR;
    }else if( iEq>=0 ){
      int nKey = iEq, nVal = n - iEq - 1;
      const char *zKey = trimSpace(z, &nKey);
      const char *zV = trimSpace(z+iEq+1, &nVal);
      char *zK = dequote(zKey, nKey);
      char *zVal = dequote(zV, nVal);
      const TsOptDef *pDef = zK ? optFind(zK) : 0;
      if( zK==0 || zVal==0 ){
        rc = SQLITE_NOMEM;
      }else if( pDef==0 ){
        char *zList = optNameList();
        tsErrSet(pzErr, "timeseries %s: unknown option '%s' (options: %s)", zTab, zK,
                 zList ? zList : "?");
        sqlite3_free(zList);
        rc = zList ? SQLITE_ERROR : SQLITE_NOMEM;
      }else if( schemaOpt(p, zK) ){
        tsErrSet(pzErr, "timeseries %s: option '%s' given twice", zTab, zK);
        rc = SQLITE_ERROR;
      }else{
        rc = schemaOption(p, zTab, pDef, zVal, pzErr);
      }
      sqlite3_free(zK);
      sqlite3_free(zVal);
    }else{
      rc = schemaColumn(p, zTab, z, n, pzErr);
    }
  }
  if( rc==SQLITE_OK ) rc = schemaFinish(p, zTab, pzErr);
  if( rc!=SQLITE_OK ) tsSchemaClear(p);
  return rc;
}

/* Fill the public view *pPub of schema *p (pointers into *p). */
void tsSchemaPublish(const TsSchema *p, TsTableSchema *pPub){
  memset(pPub, 0, sizeof(*pPub));
  pPub->nDim = p->nDim;
  pPub->azDim = p->azDim;
  pPub->nMeas = p->nMeas;
  pPub->azMeas = p->azMeas;
  pPub->aMeasType = p->aMeasType;
  pPub->iMemRet = p->iMemRet;
  pPub->iMagRet = p->iMagRet;
  pPub->bMagWrites = p->bMagWrites;
  pPub->iPartDim = p->iPartDim;
  pPub->bPartRequired = p->bPartRequired;
  pPub->zMeasureName = p->zMeasureName;
  pPub->zStorage = schemaOpt((TsSchema*)p, "storage");
  pPub->zS3Endpoint = schemaOpt((TsSchema*)p, "s3_endpoint");
  pPub->zS3Region = schemaOpt((TsSchema*)p, "s3_region");
  pPub->zS3UrlStyle = schemaOpt((TsSchema*)p, "s3_url_style");
  pPub->zEncryption = schemaOpt((TsSchema*)p, "encryption");
  if( pPub->zEncryption==0 ) pPub->zEncryption = "none";
  pPub->zKmsKey = schemaOpt((TsSchema*)p, "kms_key");
}

/* Load the schema of table zTab of schema zDb from its _config rows: the
** stored column definitions ("column.N" = '"name" TYPE', N = 0, 1, ... in
** declaration order) and option values, each applied directly (no CREATE
** text is rebuilt or re-parsed).  zTab must be a virtual table whose
** _config carries the "format" key.  *pzName receives the table's name as
** stored (sqlite3_malloc'd).  A bad stored value is SQLITE_CORRUPT with a
** message naming the key. */
static int schemaLoadImpl(sqlite3 *db, const char *zDb, const char *zTab, TsSchema *p,
                          char **pzName, char **pzErr){
  sqlite3_stmt *pStmt = 0;
  char *zSql, *zName = 0, *zErr = 0;
  int rc, nCol = 0, bFormat = 0;
  *pzName = 0;
  rc = schemaInit(p);
  if( rc ) return rc;
  p->bStored = 1;
  zSql = sqlite3_mprintf("SELECT name FROM \"%w\".sqlite_schema"
                         " WHERE type='table' AND rootpage=0 AND name=?1", zDb);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
  sqlite3_free(zSql);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pStmt, 1, zTab, -1, SQLITE_STATIC);
    if( sqlite3_step(pStmt)==SQLITE_ROW ){
      zName = sqlite3_mprintf("%s", sqlite3_column_text(pStmt, 0));
      if( zName==0 ) rc = SQLITE_NOMEM;
    }
    sqlite3_finalize(pStmt);
    pStmt = 0;
  }
  if( rc==SQLITE_NOMEM ) return rc;
  if( zName ){
    zSql = sqlite3_mprintf("SELECT k, v FROM \"%w\".\"%w_config\""
                           " ORDER BY k GLOB 'column.*' DESC, CAST(substr(k, 8) AS INTEGER), k",
                           zDb, zName);
    rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
    if( rc==SQLITE_NOMEM ){ sqlite3_free(zName); return rc; }
  }
  if( zName==0 || rc!=SQLITE_OK ){
    sqlite3_free(zName);
    tsErrSet(pzErr, "no timeseries table named '%s' in schema %s", zTab, zDb);
    return SQLITE_ERROR;
  }
  rc = SQLITE_OK;
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zK = (const char*)sqlite3_column_text(pStmt, 0);
    const char *zV = (const char*)sqlite3_column_text(pStmt, 1);
    if( zK==0 ) continue;
    if( strcmp(zK, "format")==0 ){
      bFormat = 1;
    }else if( strncmp(zK, "column.", 7)==0 ){
      char zWant[32];
      snprintf(zWant, sizeof(zWant), "column.%d", nCol);
      if( zV==0 || strcmp(zK, zWant)!=0 ){
        tsErrSet(&zErr, "column definitions are not numbered 0, 1, ...");
        rc = SQLITE_CORRUPT;
      }else{
        rc = schemaColumn(p, zName, zV, (int)strlen(zV), &zErr);
        nCol++;
      }
      if( rc==SQLITE_ERROR ) rc = SQLITE_CORRUPT;
      if( rc==SQLITE_CORRUPT ){
        tsErrSet(pzErr, "timeseries %s: damaged %s_config: key '%s': %s", zName, zName, zK,
                 zErr ? zErr : "bad value");
      }
    }else if( optFind(zK) ){
      if( zV==0 || schemaOpt(p, zK) ){
        rc = SQLITE_CORRUPT;
      }else{
        rc = schemaOption(p, zName, optFind(zK), zV, &zErr);
        if( rc==SQLITE_ERROR ) rc = SQLITE_CORRUPT;
      }
      if( rc==SQLITE_CORRUPT ){
        tsErrSet(pzErr, "timeseries %s: damaged %s_config: key '%s': %s", zName, zName, zK,
                 zErr ? zErr : "missing or repeated value");
      }
    }
    /* other keys belong to other modules (tiering state, ...) */
  }
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt); else sqlite3_finalize(pStmt);
  if( rc==SQLITE_OK && !bFormat ){
    tsErrSet(pzErr, "no timeseries table named '%s' in schema %s", zTab, zDb);
    rc = SQLITE_ERROR;
  }
  if( rc==SQLITE_OK ){
    rc = schemaFinish(p, zName, &zErr);
    if( rc==SQLITE_ERROR ){
      rc = SQLITE_CORRUPT;
      tsErrSet(pzErr, "timeseries %s: damaged %s_config: %s", zName, zName, zErr);
    }
  }
  sqlite3_free(zErr);
  if( rc!=SQLITE_OK ){
    tsSchemaClear(p);
    sqlite3_free(zName);
    return rc;
  }
  *pzName = zName;
  return SQLITE_OK;
}

int tsSchemaLoad(sqlite3 *db, const char *zDb, const char *zTab, TsSchema *p,
                 char **pzName, char **pzErr){
  int rc = schemaLoadImpl(db, zDb, zTab, p, pzName, pzErr);
  if( rc ) tsSchemaClear(p);   /* every early return: the defaults allocate */
  return rc;
}


/**************************************************************************
** <t>_config.
*/

/* Insert (k, v) into _config with both bound (v NULL-free text). */
static int configPut(sqlite3_stmt *pIns, const char *zKey, const char *zVal){
  sqlite3_bind_text(pIns, 1, zKey, -1, SQLITE_STATIC);
  sqlite3_bind_text(pIns, 2, zVal, -1, SQLITE_STATIC);
  sqlite3_step(pIns);
  return sqlite3_reset(pIns);
}

/* Store schema *p (format key, columns, the options given, the defaults of
** the others) in "zDb"."zTab_config", which exists and is empty.  Every
** value is a bound parameter. */
int tsSchemaStore(sqlite3 *db, const char *zDb, const char *zTab, const TsSchema *p,
                  char **pzErr){
  sqlite3_stmt *pIns = 0;
  char *zSql;
  int rc, i;
  zSql = sqlite3_mprintf("INSERT OR IGNORE INTO \"%w\".\"%w_config\"(k, v) VALUES(?1, ?2)",
                         zDb, zTab);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, zSql, -1, &pIns, 0);
  sqlite3_free(zSql);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pIns, 1, "format", -1, SQLITE_STATIC);
    sqlite3_bind_int(pIns, 2, 1);
    sqlite3_step(pIns);
    rc = sqlite3_reset(pIns);
  }
  for(i=0; rc==SQLITE_OK && i<p->nDim+p->nMeas; i++){
    char zKey[32];
    char *zDef;
    snprintf(zKey, sizeof(zKey), "column.%d", i);
    if( i<p->nDim ){
      zDef = sqlite3_mprintf("\"%w\" DIMENSION", p->azDim[i]);
    }else{
      int j = i - p->nDim;
      zDef = sqlite3_mprintf("\"%w\" %s", p->azMeas[j], tsChunkTypeName(p->aMeasType[j]));
    }
    rc = zDef ? configPut(pIns, zKey, zDef) : SQLITE_NOMEM;
    sqlite3_free(zDef);
  }
  for(i=0; rc==SQLITE_OK && i<p->nOpt; i++){
    rc = configPut(pIns, p->azOptKey[i], p->azOptVal[i]);
  }
  /* Effective values of the options not given, for readers of _config
  ** (INSERT OR IGNORE keeps the ones given). */
  for(i=0; rc==SQLITE_OK && i<TS_NOPT; i++){
    if( aOpt[i].zDefault ) rc = configPut(pIns, aOpt[i].zName, aOpt[i].zDefault);
  }
  if( rc!=SQLITE_OK ) tsErrSet(pzErr, "%s", sqlite3_errmsg(db));
  sqlite3_finalize(pIns);
  return rc;
}
