/*
** catalog.c: ts_series(table), the series catalogue of a timeseries table,
** an eponymous table-valued function.
**
**   SELECT * FROM ts_series('cpu');
**   SELECT DISTINCT json_extract(dimensions, '$.region') FROM ts_series('cpu');
**   SELECT measure_name, count(*) FROM ts_series('main.cpu') GROUP BY 1;
**
** Columns (one row per series, in series_id order):
**   series_id    INTEGER  the series' id (<t>_series.id)
**   dimensions   TEXT     JSON object of the series' dimension values, keys in
**                         declaration order, absent (NULL) dimensions left out
**   measure_name TEXT
**   first_time   INTEGER  time of the series' first row (ns), NULL when the
**   last_time    INTEGER  memory tier holds none of its rows; likewise last
**   row_count    INTEGER  rows of the series in the memory tier
**   chunk_count  INTEGER  chunks holding them
**   table_name   HIDDEN   the argument: 'table' or 'schema.table'
**
** HOW IT WORKS.  One statement over the shadow tables: <t>_series for the
** key, dimensions and time range, joined to a GROUP BY over <t>_chunks' covering
** index (sid, tmin, tmax, nrow) for counts.  No chunk is read or decoded, so
** the catalogue costs one index pass however many rows the table holds.  The
** connection's pending rows are flushed first (tsTableFlush), so a writer
** sees its own series.  This is what Prometheus' series API and InfluxDB's
** SHOW TAG VALUES give their users.
**
** The magnetic tier: row_count, chunk_count, first_time and last_time cover
** the memory tier (the chunks); a series whose rows were all tiered keeps its
** row with NULL times and 0 rows.  The manifest (<t>_objects) counts rows per
** object, not per series, so cold counts would need a per-series summary in
** the manifest (docs/sql-reference.md says so).
*/
#include "tslite.h"
#include "table.h"
#include "jsonw.h"
#include <string.h>

/* Declared columns. */
#define CAT_SERIES_ID    0
#define CAT_DIMENSIONS   1
#define CAT_MEASURE_NAME 2
#define CAT_FIRST_TIME   3
#define CAT_LAST_TIME    4
#define CAT_ROW_COUNT    5
#define CAT_CHUNK_COUNT  6
#define CAT_TABLE_NAME   7

/* Columns of the cursor's statement (catFilter builds it in this order). */
#define CATQ_ID      0
#define CATQ_MNAME   1
#define CATQ_TMIN    2
#define CATQ_TMAX    3
#define CATQ_NCHUNK  4
#define CATQ_NROW    5
#define CATQ_DIM0    6

typedef struct CatVtab CatVtab;
struct CatVtab {
  sqlite3_vtab base;        /* base class: must be first */
  sqlite3 *db;              /* the connection (not owned) */
  TsEnv *pEnv;              /* a reference (tsEnvRef) */
};

typedef struct CatCursor CatCursor;
struct CatCursor {
  sqlite3_vtab_cursor base; /* base class: must be first */
  TsTable *pTab;            /* the table's handle (a reference) or NULL */
  sqlite3_stmt *pStmt;      /* the catalogue query; owned */
  int bEof;                 /* no current row */
  TsBuf dims;               /* the current row's dimensions JSON; owned */
  int bDims;                /* dims holds the current row's text */
};

static int catConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                      sqlite3_vtab **ppVtab, char **pzErr){
  CatVtab *p;
  int rc = sqlite3_declare_vtab(db,
      "CREATE TABLE x(series_id INTEGER, dimensions TEXT, measure_name TEXT,"
      " first_time INTEGER, last_time INTEGER, row_count INTEGER, chunk_count INTEGER,"
      " table_name HIDDEN)");
  *ppVtab = 0;
  if( rc!=SQLITE_OK ) return rc;
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->db = db;
  p->pEnv = tsEnvRef((TsEnv*)pAux);
  *ppVtab = &p->base;
  return SQLITE_OK;
}

static int catDisconnect(sqlite3_vtab *pVtab){
  CatVtab *p = (CatVtab*)pVtab;
  tsEnvUnref(p->pEnv);
  sqlite3_free(p);
  return SQLITE_OK;
}

/* idxNum 1: argv[0] is the table name.  Without it, the plan is refused
** while an unusable table_name constraint exists (a join supplies it later)
** and xFilter reports the missing argument otherwise. */
static int catBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  int i, bUnusable = 0;
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *c = &pInfo->aConstraint[i];
    if( c->iColumn!=CAT_TABLE_NAME || c->op!=SQLITE_INDEX_CONSTRAINT_EQ ) continue;
    if( !c->usable ){ bUnusable = 1; continue; }
    pInfo->aConstraintUsage[i].argvIndex = 1;
    pInfo->aConstraintUsage[i].omit = 1;
    pInfo->idxNum = 1;
    pInfo->estimatedCost = 100;
    pInfo->estimatedRows = 1000;
    return SQLITE_OK;
  }
  if( bUnusable ) return SQLITE_CONSTRAINT;
  pInfo->idxNum = 0;
  pInfo->estimatedCost = 1e12;
  return SQLITE_OK;
}

static int catOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  CatCursor *p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->bEof = 1;
  tsBufInit(&p->dims);
  *ppCur = &p->base;
  return SQLITE_OK;
}

static void catReset(CatCursor *p){
  sqlite3_finalize(p->pStmt);
  p->pStmt = 0;
  tsTableRelease(p->pTab);
  p->pTab = 0;
  p->bEof = 1;
  p->bDims = 0;
}

static int catClose(sqlite3_vtab_cursor *pCur){
  CatCursor *p = (CatCursor*)pCur;
  catReset(p);
  tsBufFree(&p->dims);
  sqlite3_free(p);
  return SQLITE_OK;
}

static int catStep(CatCursor *p){
  int rc = sqlite3_step(p->pStmt);
  p->bDims = 0;
  if( rc==SQLITE_ROW ){ p->bEof = 0; return SQLITE_OK; }
  p->bEof = 1;
  if( rc==SQLITE_DONE ) return SQLITE_OK;
  tsVtabErr(p->base.pVtab, "ts_series: %s", sqlite3_errmsg(sqlite3_db_handle(p->pStmt)));
  return rc;
}

static int catFilter(sqlite3_vtab_cursor *pCur, int idxNum, const char *idxStr,
                     int argc, sqlite3_value **argv){
  CatCursor *p = (CatCursor*)pCur;
  CatVtab *pVtab = (CatVtab*)pCur->pVtab;
  char *zDb = 0, *zTab = 0, *zErr = 0, *zDims = 0, *zSql = 0;
  const TsTableSchema *pS;
  int rc = SQLITE_OK, i;
  const char *zArg;
  catReset(p);
  if( idxNum!=1 ){
    tsVtabErr(pCur->pVtab, "ts_series: needs the table name: SELECT * FROM ts_series('cpu')");
    return SQLITE_ERROR;
  }
  if( sqlite3_value_type(argv[0])==SQLITE_NULL ) return SQLITE_OK;   /* no rows */
  zArg = (const char*)sqlite3_value_text(argv[0]);
  if( zArg==0 ) return SQLITE_NOMEM;
  rc = tsTableSplitName(zArg, &zDb, &zTab);
  if( rc==SQLITE_OK ) rc = tsTableOpen(pVtab->pEnv, pVtab->db, zDb, zTab, &p->pTab, &zErr);
  if( rc==SQLITE_OK ) rc = tsTableFlush(p->pTab, &zErr);
  if( rc==SQLITE_OK ){
    pS = tsTableSchema(p->pTab);
    zDims = sqlite3_mprintf("");
    for(i=0; zDims && i<pS->nDim; i++) zDims = sqlite3_mprintf("%z, s.d%d", zDims, i);
    if( zDims ){
      zSql = sqlite3_mprintf(
          "SELECT s.id, s.measure_name, s.tmin, s.tmax, coalesce(c.n, 0), coalesce(c.r, 0)%s"
          " FROM \"%w\".\"%w_series\" s LEFT JOIN"
          " (SELECT sid, count(*) AS n, sum(nrow) AS r FROM \"%w\".\"%w_chunks\" GROUP BY sid) c"
          " ON c.sid = s.id ORDER BY s.id",
          zDims, tsTableDb(p->pTab), tsTableName(p->pTab), tsTableDb(p->pTab),
          tsTableName(p->pTab));
    }
    if( zSql==0 ) rc = SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(pVtab->db, zSql, -1, &p->pStmt, 0);
    if( rc!=SQLITE_OK ) tsErrSet(&zErr, "%s", sqlite3_errmsg(pVtab->db));
  }
  if( rc==SQLITE_OK ) rc = catStep(p);
  else tsVtabErr(pCur->pVtab, "ts_series: %s", zErr ? zErr : sqlite3_errstr(rc));
  sqlite3_free(zDb);
  sqlite3_free(zTab);
  sqlite3_free(zErr);
  sqlite3_free(zDims);
  sqlite3_free(zSql);
  return rc;
}

static int catNext(sqlite3_vtab_cursor *pCur){
  return catStep((CatCursor*)pCur);
}

static int catEof(sqlite3_vtab_cursor *pCur){
  return ((CatCursor*)pCur)->bEof;
}

/* The current row's dimensions as a JSON object in p->dims. */
static int catDims(CatCursor *p){
  const TsTableSchema *pS = tsTableSchema(p->pTab);
  TsJsonW w;
  int i;
  if( p->bDims ) return SQLITE_OK;
  p->dims.n = 0;
  tsJwInit(&w, &p->dims);
  tsJwObjBegin(&w);
  for(i=0; i<pS->nDim; i++){
    const char *z = (const char*)sqlite3_column_text(p->pStmt, CATQ_DIM0+i);
    if( z==0 ) continue;
    tsJwKey(&w, pS->azDim[i]);
    tsJwStrN(&w, z, (size_t)sqlite3_column_bytes(p->pStmt, CATQ_DIM0+i));
  }
  tsJwObjEnd(&w);
  if( tsJwError(&w) ) return SQLITE_NOMEM;
  p->bDims = 1;
  return SQLITE_OK;
}

static int catColumn(sqlite3_vtab_cursor *pCur, sqlite3_context *ctx, int iCol){
  CatCursor *p = (CatCursor*)pCur;
  static const int aMap[] = { CATQ_ID, -1, CATQ_MNAME, CATQ_TMIN, CATQ_TMAX, CATQ_NROW, CATQ_NCHUNK };
  if( iCol==CAT_DIMENSIONS ){
    if( catDims(p)!=SQLITE_OK ){ sqlite3_result_error_nomem(ctx); return SQLITE_NOMEM; }
    sqlite3_result_text(ctx, (const char*)p->dims.a, (int)p->dims.n, SQLITE_TRANSIENT);
  }else if( iCol==CAT_TABLE_NAME ){
    sqlite3_result_null(ctx);
  }else if( iCol>=0 && iCol<(int)(sizeof(aMap)/sizeof(aMap[0])) ){
    sqlite3_result_value(ctx, sqlite3_column_value(p->pStmt, aMap[iCol]));
  }
  return SQLITE_OK;
}

static int catRowid(sqlite3_vtab_cursor *pCur, sqlite3_int64 *pRowid){
  *pRowid = sqlite3_column_int64(((CatCursor*)pCur)->pStmt, CATQ_ID);
  return SQLITE_OK;
}

static sqlite3_module catModule = {
  0,                 /* iVersion */
  0,                 /* xCreate: 0 makes it eponymous-only */
  catConnect,        /* xConnect */
  catBestIndex,      /* xBestIndex */
  catDisconnect,     /* xDisconnect */
  0,                 /* xDestroy */
  catOpen,           /* xOpen */
  catClose,          /* xClose */
  catFilter,         /* xFilter */
  catNext,           /* xNext */
  catEof,            /* xEof */
  catColumn,         /* xColumn */
  catRowid,          /* xRowid */
  0, 0, 0, 0, 0,     /* xUpdate .. xRollback: read-only */
  0,                 /* xFindFunction */
  0,                 /* xRename */
  0, 0, 0,           /* xSavepoint, xRelease, xRollbackTo */
  0,                 /* xShadowName */
};

int tsCatalogRegister(sqlite3 *db, TsEnv *pEnv){
  return sqlite3_create_module_v2(db, "ts_series", &catModule, tsEnvRef(pEnv), tsEnvUnref);
}
