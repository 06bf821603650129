/*
** agg.c: the timeseries_agg module, native time-bucket aggregation and
** lastpoint over a timeseries table.
**
**   CREATE VIRTUAL TABLE cpu_agg USING timeseries_agg(cpu);
**   -- per host and hour over 12 h: count/sum/min/max/avg/first/last
**   SELECT bucket, hostname, usage_user_avg, usage_user_max FROM cpu_agg
**    WHERE bucket_width = '1h' AND time >= ago('12h') AND time < now()
**    ORDER BY bucket, hostname;
**   SELECT * FROM cpu_agg('5m') WHERE hostname IN ('h1', 'h2');   -- TVF form
**   -- lastpoint: no bucket_width = one bucket per series
**   SELECT hostname, last_time, usage_user_last FROM cpu_agg;
**
** Declared columns: bucket (start of the bucket, ns; NULL without
** bucket_width), the HIDDEN input columns bucket_width (interval text or ns)
** and time (a constraint on the rows aggregated, not on the buckets), the
** dimensions, measure_name, row_count, first_time, last_time, then seven
** columns for each measure that is not VARCHAR, <m>_last, <m>_first,
** <m>_count, <m>_sum, <m>_max, <m>_min, <m>_avg (declared kind-major: every
** _last, then every _first, ...; see AGG_F_*).  The hidden columns come early
** because colUsed has one bit per column only up to column 62 (see AGG_F_*).
**
** The answer is, row for row, that of the plain query (the SQL reference
** prints it; tests/py/test_agg.py and, on a tiered table,
** tests/py/test_agg_cold.py check it on random data):
**   SELECT bin(time, w) AS bucket, <dims>, measure_name, count(*), min(time),
**          max(time), count(m), sum(m), min(m), max(m), avg(m),
**          min_by(m, time) FILTER (WHERE m IS NOT NULL),
**          max_by(m, time) FILTER (WHERE m IS NOT NULL), ...
**     FROM cpu WHERE <time and dimension constraints>
**    GROUP BY bucket, <dims>, measure_name
**
** HOW IT WORKS
**
** xFilter flushes the connection's pending rows, raises the time range's
** start to the retention bound as the table's scan does, selects the
** series from <t>_series (their time range against the time constraint,
** their dimension values against the = / IN constraints), and makes one
** stream per series.  A stream walks the series' chunks in time order (ascending, or
** descending when ORDER BY bucket DESC) and produces one result per bucket:
**   - a chunk inside the time range whose whole time span falls in one
**     bucket is answered from its header statistics (count/sum/min/max per
**     column, chunk.h) without decoding, unless first/last are asked for;
**   - any other chunk is decoded (time and the used measure columns only)
**     and each run of rows of one bucket goes through one fused pass
**     (ext/codec/tsagg.c).
** Chunk references are fetched in growing batches (4, 8, .. 256) through the
** covering index (sid, tmin, tmax, nrow), so a stream that stops early has
** read one index page.  Streams are merged by a heap keyed on the ORDER BY
** terms (bucket, dimensions, measure_name; any order, ASC or DESC), so any
** such ORDER BY is consumed, rows come out lazily, and a LIMIT or a GROUP BY
** ... ORDER BY bucket DESC LIMIT k stops the scan after k buckets.  Without
** bucket in the ORDER BY the streams run one after the other (series sorted
** by the terms), holding one decoded chunk at a time.
**
** Lastpoint: without bucket_width, when only last_time and <m>_last columns
** are used, a stream walks newest first and stops as soon as every used
** <m>_last has a value: one index lookup and one chunk per series.
**
** Threads: with PRAGMA threads > 0 and a query worth it (both time bounds,
** no ORDER BY bucket DESC, enough values, memory tier only), xFilter has
** every stream computed ahead by worker threads over chunk bytes read by
** the connection's thread (agg_par.c); the streams then replay their
** results to the same merge, so rows and their order are those of the
** serial walk.
**
** Other tiers: xFilter opens every other row source of source.h (the cold
** tier, the test overlay) for the query's range; those with rows there are
** read natively by the streams (agg_source.c): per series their blocks are
** walked in time order together with the memory chunks, a block that
** nothing else overlaps is decoded (time and the used measures) into the
** same fused pass, and where chunks and blocks overlap in time the stretch
** is read through the table's own scan, which applies source.h rule 6 (the
** record rule of recrule.h).  A range inside the memory tier opens no cold
** object.  Cold blocks have no statistics to answer from (see agg_source.c).
**
** idxStr grammar (built by aggBestIndex, read by aggFilter), tokens
** separated by ' ', in argv order first:
**   W        argv is bucket_width
**   T<op>    argv bounds time; op one of = > G (>=) < L (<=)
**   D<n>[I]  argv is = on dimension n (I: an IN list via sqlite3_vtab_in)
**   M[I]     argv is = on measure_name
** then the ORDER BY terms (no argv):
**   oB+ oB-  bucket ASC/DESC;  oD<n>+ ...;  oM+ oM-
** then one token U<hex> of the used aggregate columns (AGG_U_* bits for the
** row columns, then 7 bits per aggregated measure, in measure order).
*/
#include "agg_int.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>


/*************************************************************************
** Connecting: the declared schema from the aggregated table's handle.
*/

/* Append a column name to the list for the collision check; returns 1 if
** it is already there (case-insensitive, as SQLite compares names). */
static int nameSeen(char ***paz, int *pn, const char *z){
  int i;
  char **az;
  for(i=0; i<*pn; i++) if( sqlite3_stricmp((*paz)[i], z)==0 ) return 1;
  az = sqlite3_realloc64(*paz, sizeof(char*)*(size_t)(*pn+1));
  if( az==0 ) return -1;
  az[*pn] = (char*)z;
  *paz = az;
  (*pn)++;
  return 0;
}

static void aggVtabFree(AggVtab *p){
  int i;
  if( p==0 ) return;
  for(i=0; i<4; i++) sqlite3_finalize(p->apCache[i]);
  aggPoolFree(p);
  tsEnvUnref(p->pEnv);
  sqlite3_free(p->zName);
  sqlite3_free(p->zUDb);
  sqlite3_free(p->zUTab);
  sqlite3_free(p->aMeasType);
  sqlite3_free(p->aAggCol);
  sqlite3_free(p);
}

/* argv: module, schema, table name, then the one argument: the timeseries
** table ('cpu' in this schema, or 'schema.cpu'). */
static int aggConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                      sqlite3_vtab **ppVtab, char **pzErr){
  AggVtab *p = 0;
  TsTable *pTab = 0;
  const TsTableSchema *pS;
  sqlite3_str *pDecl = 0;
  char **azName = 0, *zArg = 0, *zTmp = 0;
  char **azOwned = 0;
  int nName = 0, nOwned = 0, rc = SQLITE_OK, i, k;
  *ppVtab = 0;
  if( argc!=4 ){
    *pzErr = sqlite3_mprintf("timeseries_agg: expects one argument, the timeseries table: "
                             "CREATE VIRTUAL TABLE %s USING timeseries_agg(cpu)", argv[2]);
    return SQLITE_ERROR;
  }
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->db = db;
  p->pEnv = tsEnvRef((TsEnv*)pAux);
  p->zName = sqlite3_mprintf("%s", argv[2]);
  /* Dequote the argument: it is an identifier or a string. */
  {
    const char *z = argv[3];
    int n = (int)strlen(z);
    if( n>=2 && (z[0]=='\'' || z[0]=='"' || z[0]=='`' || z[0]=='[') ){
      char q = z[0]=='[' ? ']' : z[0];
      int j = 0, ii;
      zArg = sqlite3_malloc64((size_t)n);
      if( zArg ){
        for(ii=1; ii<n-1; ii++){
          zArg[j++] = z[ii];
          if( z[ii]==q && q!=']' && ii+1<n-1 && z[ii+1]==q ) ii++;
        }
        zArg[j] = 0;
      }
    }else{
      zArg = sqlite3_mprintf("%s", z);
    }
  }
  if( p->zName==0 || zArg==0 ){ rc = SQLITE_NOMEM; goto out; }
  if( strchr(zArg, '.') ){
    rc = tsTableSplitName(zArg, &p->zUDb, &p->zUTab);
  }else{
    p->zUDb = sqlite3_mprintf("%s", argv[1]);
    p->zUTab = sqlite3_mprintf("%s", zArg);
    if( p->zUDb==0 || p->zUTab==0 ) rc = SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ) rc = tsTableOpen(p->pEnv, db, p->zUDb, p->zUTab, &pTab, pzErr);
  if( rc!=SQLITE_OK ){
    if( *pzErr ){
      zTmp = *pzErr;
      *pzErr = sqlite3_mprintf("timeseries_agg %s: %s", argv[2], zTmp);
      sqlite3_free(zTmp);
      zTmp = 0;
    }
    goto out;
  }
  pS = tsTableSchema(pTab);
  p->nDim = pS->nDim;
  p->nMeas = pS->nMeas;
  p->aMeasType = sqlite3_malloc64(sizeof(int)*(size_t)(pS->nMeas+1));
  p->aAggCol = sqlite3_malloc64(sizeof(int)*(size_t)(pS->nMeas+1));
  azOwned = sqlite3_malloc64(sizeof(char*)*(size_t)(pS->nMeas*AGG_NF+1));
  if( p->aMeasType==0 || p->aAggCol==0 || azOwned==0 ){ rc = SQLITE_NOMEM; goto out; }
  for(i=0; i<pS->nMeas; i++){
    p->aMeasType[i] = pS->aMeasType[i];
    if( pS->aMeasType[i]!=TS_TYPE_VARCHAR ) p->aAggCol[p->nAgg++] = i;
  }
  pDecl = sqlite3_str_new(db);
  /* The hidden inputs come right after bucket: a constraint puts them in
  ** colUsed, and past column 62 they would set bit 63, which stands for
  ** every later column (every _avg and _first would count as used). */
  p->iColWidth = 1;
  p->iColTime = 2;
  sqlite3_str_appendall(pDecl, "CREATE TABLE x(bucket INTEGER, bucket_width HIDDEN,"
                               " time INTEGER HIDDEN");
  if( nameSeen(&azName, &nName, "bucket")<0 ){ rc = SQLITE_NOMEM; goto out; }
  for(i=0; i<pS->nDim; i++){
    sqlite3_str_appendf(pDecl, ", \"%w\" TEXT", pS->azDim[i]);
    k = nameSeen(&azName, &nName, pS->azDim[i]);
    if( k<0 ){ rc = SQLITE_NOMEM; goto out; }
    if( k ){
      *pzErr = sqlite3_mprintf("timeseries_agg %s: dimension '%s' has the name of one of its "
                               "result columns", argv[2], pS->azDim[i]);
      rc = SQLITE_ERROR;
      goto out;
    }
  }
  p->iColDim0 = 3;
  p->iColMName = p->iColDim0 + pS->nDim;
  p->iColRows = p->iColMName + 1;
  p->iColFirstT = p->iColMName + 2;
  p->iColLastT = p->iColMName + 3;
  p->iColAgg0 = p->iColMName + 4;
  sqlite3_str_appendall(pDecl, ", measure_name TEXT, row_count INTEGER, first_time INTEGER,"
                               " last_time INTEGER");
  {
    static const char *const azFixed[] = { "measure_name", "row_count", "first_time", "last_time",
                                           "bucket_width", "time" };
    for(i=0; i<(int)(sizeof(azFixed)/sizeof(azFixed[0])); i++){
      k = nameSeen(&azName, &nName, azFixed[i]);
      if( k<0 ){ rc = SQLITE_NOMEM; goto out; }
      if( k ){
        *pzErr = sqlite3_mprintf("timeseries_agg %s: dimension '%s' has the name of one of its "
                                 "result columns", argv[2], azFixed[i]);
        rc = SQLITE_ERROR;
        goto out;
      }
    }
  }
  for(k=0; k<AGG_NF; k++){
    for(i=0; i<p->nAgg; i++){
      int iM = p->aAggCol[i], eT = pS->aMeasType[iM];
      const char *zValType = eT==TS_TYPE_DOUBLE ? "REAL" : "INTEGER";
      char *zCol = sqlite3_mprintf("%s_%s", pS->azMeas[iM], azAggSuffix[k]);
      int bSeen;
      if( zCol==0 ){ rc = SQLITE_NOMEM; goto out; }
      azOwned[nOwned++] = zCol;
      bSeen = nameSeen(&azName, &nName, zCol);
      if( bSeen<0 ){ rc = SQLITE_NOMEM; goto out; }
      if( bSeen ){
        *pzErr = sqlite3_mprintf("timeseries_agg %s: the result column '%s' of measure '%s' "
                                 "is also the name of another column (rename one of them)",
                                 argv[2], zCol, pS->azMeas[iM]);
        rc = SQLITE_ERROR;
        goto out;
      }
      sqlite3_str_appendf(pDecl, ", \"%w\" %s", zCol,
                          k==AGG_F_COUNT ? "INTEGER" : k==AGG_F_AVG ? "REAL" : zValType);
    }
  }
  p->iColEnd = p->iColAgg0 + AGG_NF*p->nAgg;
  sqlite3_str_appendall(pDecl, ")");
  zTmp = sqlite3_str_finish(pDecl);
  pDecl = 0;
  if( zTmp==0 ){ rc = SQLITE_NOMEM; goto out; }
  rc = sqlite3_declare_vtab(db, zTmp);
  if( rc!=SQLITE_OK ){
    *pzErr = sqlite3_mprintf("timeseries_agg %s: %s", argv[2], sqlite3_errmsg(db));
  }

out:
  if( pDecl ) sqlite3_free(sqlite3_str_finish(pDecl));
  for(i=0; i<nOwned; i++) sqlite3_free(azOwned[i]);
  sqlite3_free(azOwned);
  sqlite3_free(azName);
  sqlite3_free(zArg);
  sqlite3_free(zTmp);
  tsTableRelease(pTab);
  if( rc!=SQLITE_OK ){
    aggVtabFree(p);
    return rc;
  }
  *ppVtab = &p->base;
  return SQLITE_OK;
}

static int aggDisconnect(sqlite3_vtab *pVtab){
  aggVtabFree((AggVtab*)pVtab);
  return SQLITE_OK;
}

/*************************************************************************
** Planning.
*/

/* Is column iCol used by the statement?  Bit 63 of colUsed stands for
** every column from 63 on. */
static int colIsUsed(sqlite3_uint64 mUsed, int iCol){
  if( iCol>=63 ) return (mUsed>>63)&1;
  return (int)((mUsed>>iCol)&1);
}

static int aggBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  AggVtab *p = (AggVtab*)pVtab;
  sqlite3_str *s = sqlite3_str_new(0);
  int i, k, nArg = 0, bWidth = 0, bTime = 0, nOrder = 0;
  unsigned char aDimTaken[256];
  char *zStr;
  double rCost = 1e6;
  memset(aDimTaken, 0, sizeof(aDimTaken));
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *c = &pInfo->aConstraint[i];
    int op = c->op, iCol = c->iColumn;
    if( op==SQLITE_INDEX_CONSTRAINT_LIMIT || op==SQLITE_INDEX_CONSTRAINT_OFFSET ) continue;
    if( iCol==p->iColWidth || iCol==p->iColTime ){
      const char *zCol = iCol==p->iColWidth ? "bucket_width" : "time";
      char cOp = 0;
      if( iCol==p->iColWidth ){
        if( op==SQLITE_INDEX_CONSTRAINT_EQ ) cOp = '=';
      }else{
        switch( op ){
          case SQLITE_INDEX_CONSTRAINT_EQ: cOp = '='; break;
          case SQLITE_INDEX_CONSTRAINT_GT: cOp = '>'; break;
          case SQLITE_INDEX_CONSTRAINT_GE: cOp = 'G'; break;
          case SQLITE_INDEX_CONSTRAINT_LT: cOp = '<'; break;
          case SQLITE_INDEX_CONSTRAINT_LE: cOp = 'L'; break;
        }
      }
      if( cOp==0 || (cOp=='=' && sqlite3_vtab_in(pInfo, i, -1)) ){
        sqlite3_free(sqlite3_str_finish(s));
        tsVtabErr(pVtab, "%s: %s accepts only %s", p->zName, zCol,
                  iCol==p->iColWidth ? "= (one interval such as '1h')"
                                     : "=, <, <=, >, >= and BETWEEN (no IN, no OR)");
        return SQLITE_ERROR;
      }
      if( !c->usable ){
        sqlite3_free(sqlite3_str_finish(s));
        return SQLITE_CONSTRAINT;
      }
      if( iCol==p->iColWidth ){
        if( bWidth ) continue;   /* a second '=' is rechecked by SQLite (NULL) */
        bWidth = 1;
        sqlite3_str_appendall(s, "W ");
      }else{
        bTime = 1;
        sqlite3_str_appendf(s, "T%c ", cOp);
      }
      pInfo->aConstraintUsage[i].argvIndex = ++nArg;
      pInfo->aConstraintUsage[i].omit = 1;
      continue;
    }
    if( op==SQLITE_INDEX_CONSTRAINT_EQ && c->usable
     && ((iCol>=p->iColDim0 && iCol<p->iColDim0+p->nDim) || iCol==p->iColMName)
     && sqlite3_stricmp(sqlite3_vtab_collation(pInfo, i), "BINARY")==0 ){
      int iSlot = iCol==p->iColMName ? 0 : 1+iCol-p->iColDim0;   /* slot 0 = measure_name */
      int bIn;
      if( iSlot<256 && aDimTaken[iSlot] ) continue;
      if( iSlot<256 ) aDimTaken[iSlot] = 1;
      bIn = sqlite3_vtab_in(pInfo, i, -1);
      if( bIn ) sqlite3_vtab_in(pInfo, i, 1);
      if( iCol==p->iColMName ) sqlite3_str_appendf(s, "M%s ", bIn ? "I" : "");
      else sqlite3_str_appendf(s, "D%d%s ", iCol-p->iColDim0, bIn ? "I" : "");
      pInfo->aConstraintUsage[i].argvIndex = ++nArg;
      pInfo->aConstraintUsage[i].omit = 1;
      rCost /= 4;
    }
  }
  /* ORDER BY: consumed when every term is bucket, a dimension or
  ** measure_name (the merge produces any such order). */
  if( pInfo->nOrderBy>0 && pInfo->nOrderBy<=16 ){
    int bOk = 1;
    for(i=0; i<pInfo->nOrderBy && bOk; i++){
      int iCol = pInfo->aOrderBy[i].iColumn;
      if( !(iCol==0 || (iCol>=p->iColDim0 && iCol<p->iColDim0+p->nDim) || iCol==p->iColMName) ){
        bOk = 0;
      }
      for(k=0; k<i && bOk; k++) if( pInfo->aOrderBy[k].iColumn==iCol ) bOk = 0;
    }
    if( bOk ){
      for(i=0; i<pInfo->nOrderBy; i++){
        int iCol = pInfo->aOrderBy[i].iColumn;
        const char *zDir = pInfo->aOrderBy[i].desc ? "-" : "+";
        if( iCol==0 ) sqlite3_str_appendf(s, "oB%s ", zDir);
        else if( iCol==p->iColMName ) sqlite3_str_appendf(s, "oM%s ", zDir);
        else sqlite3_str_appendf(s, "oD%d%s ", iCol-p->iColDim0, zDir);
      }
      pInfo->orderByConsumed = 1;
      nOrder = pInfo->nOrderBy;
    }
  }
  (void)nOrder;
  /* The used columns. */
  {
    int fRow = 0;
    sqlite3_uint64 m = pInfo->colUsed;
    if( colIsUsed(m, p->iColRows) ) fRow |= AGG_U_ROWS;
    if( colIsUsed(m, p->iColFirstT) ) fRow |= AGG_U_FIRSTT;
    if( colIsUsed(m, p->iColLastT) ) fRow |= AGG_U_LASTT;
    sqlite3_str_appendf(s, "U%x", fRow);
    for(i=0; i<p->nAgg; i++){
      int f = 0;
      for(k=0; k<AGG_NF; k++) if( colIsUsed(m, p->iColAgg0 + k*p->nAgg + i) ) f |= 1<<k;
      sqlite3_str_appendf(s, "%02x", f);
    }
  }
  zStr = sqlite3_str_finish(s);
  if( zStr==0 ) return SQLITE_NOMEM;
  pInfo->idxStr = zStr;
  pInfo->needToFreeIdxStr = 1;
  if( bTime ) rCost /= 10;
  pInfo->estimatedCost = rCost;
  pInfo->estimatedRows = (sqlite3_int64)(rCost/10) + 1;
  return SQLITE_OK;
}

/*************************************************************************
** Cursor state.
*/

static int aggOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  AggCursor *p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->iCur = -1;
  *ppCur = &p->base;
  return SQLITE_OK;
}


static void aggReset(AggCursor *p){
  int i;
  for(i=0; i<p->nStream; i++){
    AggStream *s = &p->aStream[i];
    aggStreamRowModeEnd(s);
    aggBufPut((AggVtab*)p->base.pVtab, s);
    aggStreamSourceFree(s);
    aggParStreamFree((AggVtab*)p->base.pVtab, s);
    sqlite3_free(s->aRef);
    sqlite3_free(s->res.aAcc);
  }
  sqlite3_free(p->aStream);
  p->aStream = 0;
  p->nStream = 0;
  aggSourcesClose(p);
  for(i=0; i<p->nSeries; i++){
    sqlite3_free(p->aSeries[i].pMem);
    if( p->aSeries[i].pTs ) tsTabSeriesUnref(p->pTab, p->aSeries[i].pTs);
  }
  sqlite3_free(p->aSeries);
  p->aSeries = 0;
  p->nSeries = 0;
  for(i=0; i<p->nSet; i++) tsValSetClear(&p->aSet[i]);
  sqlite3_free(p->aSet);
  p->aSet = 0;
  p->nSet = 0;
  sqlite3_free(p->aHeap);
  p->aHeap = 0;
  p->nHeap = 0;
  sqlite3_free(p->aUsed);
  p->aUsed = 0;
  {
    AggVtab *v = (AggVtab*)p->base.pVtab;
    sqlite3_stmt *ap[4];
    ap[0] = p->pRefStmt; ap[1] = p->pRefDesc; ap[2] = p->pBlob; ap[3] = p->pStart;
    if( p->bLent || (ap[0] && ap[1] && ap[2] && ap[3] && v->apCache[0]==0) ){
      /* Back to (or into) the vtab's cache, reset. */
      for(i=0; i<4; i++){ sqlite3_reset(ap[i]); v->apCache[i] = ap[i]; }
      if( p->bLent ) v->bCacheLent = 0;
    }else{
      for(i=0; i<4; i++) sqlite3_finalize(ap[i]);
    }
    p->bLent = 0;
    p->pRefStmt = p->pRefDesc = p->pBlob = p->pStart = 0;
  }
  sqlite3_blob_close(p->pHead);
  p->pHead = 0;
  tsTableRelease(p->pTab);
  p->pTab = 0;
  p->iCur = -1;
  p->nOrder = 0;
  p->iRowid = 0;
  p->bHeap = 0;
  p->bLastOnly = 0;
  p->bTimeLo = p->bTimeHi = 0;
}

static int aggClose(sqlite3_vtab_cursor *pCur){
  AggCursor *p = (AggCursor*)pCur;
  aggReset(p);
  sqlite3_free(p->aHeadBuf);
  sqlite3_free(p);
  return SQLITE_OK;
}

static int aggFilter(sqlite3_vtab_cursor *pCur, int idxNum, const char *idxStr,
                     int argc, sqlite3_value **argv){
  AggCursor *p = (AggCursor*)pCur;
  AggVtab *v = (AggVtab*)pCur->pVtab;
  const char *z = idxStr ? idxStr : "";
  char *zErr = 0;
  int rc = SQLITE_OK, iArg = 0, i, bEmpty = 0;
  aggReset(p);
  p->iWidth = 0;
  p->tLo = INT64_MIN;
  p->tHi = INT64_MAX;
  p->bDesc = 0;
  p->aUsed = sqlite3_malloc64((size_t)v->nAgg + 1);
  if( p->aUsed==0 ) return SQLITE_NOMEM;
  memset(p->aUsed, 0, (size_t)v->nAgg + 1);
  while( rc==SQLITE_OK && *z ){
    if( *z==' ' ){ z++; continue; }
    if( z[0]=='o' ){
      AggOrder *o = &p->aOrder[p->nOrder];
      char *zEnd = (char*)z+2;
      if( p->nOrder>=16 ) break;
      o->eKind = z[1];
      o->iDim = z[1]=='D' ? (int)strtol(z+2, &zEnd, 10) : 0;
      o->bDesc = *zEnd=='-';
      z = zEnd + 1;
      p->nOrder++;
      continue;
    }
    if( z[0]=='U' ){
      unsigned int f = 0;
      char zHex[3] = {0, 0, 0};
      zHex[0] = z[1];
      f = (unsigned)strtoul(zHex, 0, 16);
      p->fRowUsed = (int)f;
      z += 2;
      for(i=0; i<v->nAgg && z[0] && z[1]; i++){
        zHex[0] = z[0]; zHex[1] = z[1];
        p->aUsed[i] = (unsigned char)strtoul(zHex, 0, 16);
        z += 2;
      }
      continue;
    }
    if( iArg>=argc ){
      tsVtabErr(pCur->pVtab, "%s: internal error: bad plan '%s'", v->zName, idxStr);
      return SQLITE_ERROR;
    }
    if( z[0]=='W' ){
      sqlite3_value *w = argv[iArg++];
      int e = sqlite3_value_type(w);
      z++;
      if( e==SQLITE_NULL ){ bEmpty = 1; continue; }
      if( e==SQLITE_INTEGER ){
        p->iWidth = sqlite3_value_int64(w);
      }else if( e==SQLITE_TEXT ){
        if( tsIntervalParse((const char*)sqlite3_value_text(w), sqlite3_value_bytes(w), &p->iWidth)!=TS_TIME_OK ){
          p->iWidth = 0;
        }
      }else{
        p->iWidth = 0;
      }
      if( p->iWidth<=0 ){
        const char *zW = (const char*)sqlite3_value_text(w);
        tsVtabErr(pCur->pVtab, "%s: bucket_width must be a positive interval such as '1h' or "
                  "integer nanoseconds (got '%.60s')", v->zName, zW ? zW : "");
        return SQLITE_ERROR;
      }
    }else if( z[0]=='T' ){
      if( z[1]=='=' || z[1]=='>' || z[1]=='G' ) p->bTimeLo = 1;
      if( z[1]=='=' || z[1]=='<' || z[1]=='L' ) p->bTimeHi = 1;
      tsScanTimeBound(z[1], argv[iArg++], &p->tLo, &p->tHi);
      z += 2;
    }else if( z[0]=='D' || z[0]=='M' ){
      TsValSet *aNew, *pSet;
      sqlite3_value *a = argv[iArg++];
      int iDim = -1;
      if( z[0]=='D' ){
        char *zEnd;
        iDim = (int)strtol(z+1, &zEnd, 10);
        z = zEnd;
      }else{
        z++;
      }
      aNew = sqlite3_realloc64(p->aSet, sizeof(TsValSet)*(size_t)(p->nSet+1));
      if( aNew==0 ) return SQLITE_NOMEM;
      p->aSet = aNew;
      pSet = &aNew[p->nSet++];
      memset(pSet, 0, sizeof(*pSet));
      pSet->iDim = iDim;
      if( z[0]=='I' ){
        sqlite3_value *pVal = 0;
        int rc2;
        for(rc2=sqlite3_vtab_in_first(a, &pVal); rc==SQLITE_OK && rc2==SQLITE_OK && pVal;
            rc2=sqlite3_vtab_in_next(a, &pVal)){
          rc = tsValSetAdd(pSet, pVal);
        }
        if( rc==SQLITE_OK && rc2!=SQLITE_OK && rc2!=SQLITE_DONE ) rc = rc2;
        z++;
      }else{
        rc = tsValSetAdd(pSet, a);
      }
      if( pSet->nVal==0 ) bEmpty = 1;
    }else{
      z++;
    }
  }
  if( rc ) return rc;
  for(i=0; i<p->nOrder; i++){
    if( p->aOrder[i].eKind=='B' ){
      p->bHeap = 1;
      p->bDesc = p->aOrder[i].bDesc;
    }
  }
  if( p->iWidth==0 ) p->bHeap = 0;   /* one bucket per series: serial order suffices */
  /* Lastpoint: one bucket, only last_time and <m>_last used. */
  {
    int bOnlyLast = p->iWidth==0 && (p->fRowUsed & (AGG_U_ROWS|AGG_U_FIRSTT))==0;
    for(i=0; i<v->nAgg && bOnlyLast; i++){
      if( p->aUsed[i] & ~(1<<AGG_F_LAST) ) bOnlyLast = 0;
    }
    p->bLastOnly = bOnlyLast;
    if( bOnlyLast ) p->bDesc = 1;
  }
  if( bEmpty || p->tLo>p->tHi ) return SQLITE_OK;   /* no rows */

  rc = tsTableOpen(v->pEnv, v->db, v->zUDb, v->zUTab, &p->pTab, &zErr);
  if( rc==SQLITE_OK ) rc = tsTableFlush(p->pTab, &zErr);
  if( rc ){
    tsVtabErr(pCur->pVtab, "%s: %s", v->zName, zErr ? zErr : sqlite3_errstr(rc));
    sqlite3_free(zErr);
    return rc;
  }
  /* Retention at scan time, as the table's scan applies it: rows older
  ** than now - memory_retention - magnetic_retention are never counted. */
  {
    sqlite3_int64 iExpire = tsEnvNow(p->pTab->pEnv) - p->pTab->s.iMemRet - p->pTab->s.iMagRet;
    if( p->tLo<iExpire ) p->tLo = iExpire;
    if( p->tLo>p->tHi ) return SQLITE_OK;
  }
  /* The other row sources (source.h; the cold tier) with rows in the
  ** range: their blocks are read natively by the streams, merged with the
  ** chunks where they overlap (agg_source.c). */
  rc = aggSourcesOpen(p);
  if( rc ) return rc;
  rc = aggPrepareStmts(p);
  if( rc==SQLITE_OK ) rc = aggLoadSeries(p);
  if( rc==SQLITE_OK && p->nSrcOpen ) rc = aggSeriesBind(p);
  if( rc ) return rc;
  if( p->nSeries==0 ) return SQLITE_OK;
  p->aStream = sqlite3_malloc64(sizeof(AggStream)*(size_t)p->nSeries);
  p->aHeap = sqlite3_malloc64(sizeof(int)*(size_t)p->nSeries);
  if( p->aStream==0 || p->aHeap==0 ) return SQLITE_NOMEM;
  memset(p->aStream, 0, sizeof(AggStream)*(size_t)p->nSeries);
  for(i=0; i<p->nSeries; i++){
    AggStream *s = &p->aStream[i];
    s->pSer = &p->aSeries[i];
    s->nBatch = 4;
    if( s->pSer->pTs && !(s->pSer->pTs->bChunks && s->pSer->pTs->tMax>=p->tLo
                          && s->pSer->pTs->tMin<=p->tHi) ){
      s->bRefEof = 1;   /* no memory chunk in the range: other sources only */
    }
    s->res.aAcc = sqlite3_malloc64(sizeof(TsAggAcc)*(size_t)(v->nAgg+1));
    if( s->res.aAcc==0 ){ p->nStream = i; return SQLITE_NOMEM; }
    p->aHeap[i] = i;
  }
  p->nStream = p->nSeries;
  p->nHeap = p->nSeries;
  p->iSerial = 0;
  /* PRAGMA threads: every stream computed ahead by worker threads when the
  ** query is worth it (agg_par.c); the merge below is the same. */
  rc = aggParRun(p);
  if( rc ) return rc;
  if( p->bHeap ){
    /* Prime every stream, drop the empty ones, heapify. */
    int n = 0;
    for(i=0; i<p->nStream; i++){
      rc = aggStreamNext(p, &p->aStream[i]);
      if( rc ) return rc;
      if( !p->aStream[i].bDone ) p->aHeap[n++] = i;
    }
    p->nHeap = n;
    for(i=n/2-1; i>=0; i--) aggHeapDown(p, i);
    rc = aggAdvance(p, 1);
  }else{
    /* Serial: a heap on the ORDER BY terms, all constant per series. */
    for(i=p->nHeap/2-1; i>=0; i--) aggHeapDown(p, i);
    rc = aggAdvance(p, 1);
  }
  return rc;
}

static int aggNext(sqlite3_vtab_cursor *pCur){
  AggCursor *p = (AggCursor*)pCur;
  p->iRowid++;
  return aggAdvance(p, 0);
}

static int aggEof(sqlite3_vtab_cursor *pCur){
  return ((AggCursor*)pCur)->iCur<0;
}

static int aggColumn(sqlite3_vtab_cursor *pCur, sqlite3_context *ctx, int iCol){
  AggCursor *p = (AggCursor*)pCur;
  AggVtab *v = (AggVtab*)pCur->pVtab;
  AggStream *s;
  if( p->iCur<0 ) return SQLITE_OK;
  s = &p->aStream[p->iCur];
  if( iCol==0 ){
    if( p->iWidth ) sqlite3_result_int64(ctx, s->res.iBucket);
  }else if( iCol>=v->iColDim0 && iCol<v->iColDim0+v->nDim ){
    int iD = iCol - v->iColDim0;
    const char *z = s->pSer->azDim[iD];
    if( z ) sqlite3_result_text(ctx, z, s->pSer->anDim[iD], SQLITE_TRANSIENT);
  }else if( iCol==v->iColMName ){
    sqlite3_result_text(ctx, s->pSer->zMName, s->pSer->nMName, SQLITE_TRANSIENT);
  }else if( iCol==v->iColRows ){
    sqlite3_result_int64(ctx, s->res.nRow);
  }else if( iCol==v->iColFirstT ){
    sqlite3_result_int64(ctx, s->res.tFirst);
  }else if( iCol==v->iColLastT ){
    sqlite3_result_int64(ctx, s->res.tLast);
  }else if( iCol>=v->iColAgg0 && iCol<v->iColEnd ){
    int iA = (iCol - v->iColAgg0)%v->nAgg, f = (iCol - v->iColAgg0)/v->nAgg;
    const TsAggAcc *a = &s->res.aAcc[iA];
    int bD = v->aMeasType[v->aAggCol[iA]]==TS_TYPE_DOUBLE;
    if( (p->aUsed[iA] & (1<<f))==0 ){
      /* Not in colUsed: SQLite never reads it (a rechecked constraint
      ** would have put it there). */
      return SQLITE_OK;
    }
    if( f==AGG_F_COUNT ){ sqlite3_result_int64(ctx, a->nValue); return SQLITE_OK; }
    if( a->nValue==0 ) return SQLITE_OK;   /* NULL, as SQLite's aggregates give */
    switch( f ){
      case AGG_F_SUM:
        if( bD ) sqlite3_result_double(ctx, a->rSum);
        else if( a->bOverflow ){ sqlite3_result_error(ctx, "integer overflow", -1); return SQLITE_ERROR; }
        else sqlite3_result_int64(ctx, a->iSum);
        break;
      case AGG_F_AVG:
        if( bD || a->bOverflow ) sqlite3_result_double(ctx, a->rSum/(double)a->nValue);
        else sqlite3_result_double(ctx, (double)a->iSum/(double)a->nValue);
        break;
      case AGG_F_MIN:
        if( bD ) sqlite3_result_double(ctx, a->rMin); else sqlite3_result_int64(ctx, a->iMin);
        break;
      case AGG_F_MAX:
        if( bD ) sqlite3_result_double(ctx, a->rMax); else sqlite3_result_int64(ctx, a->iMax);
        break;
      case AGG_F_FIRST:
        if( bD ) sqlite3_result_double(ctx, a->rFirst); else sqlite3_result_int64(ctx, a->iFirst);
        break;
      case AGG_F_LAST:
        if( bD ) sqlite3_result_double(ctx, a->rLast); else sqlite3_result_int64(ctx, a->iLast);
        break;
    }
  }
  /* bucket_width and time are inputs: NULL. */
  return SQLITE_OK;
}

static int aggRowid(sqlite3_vtab_cursor *pCur, sqlite3_int64 *pRowid){
  *pRowid = ((AggCursor*)pCur)->iRowid + 1;
  return SQLITE_OK;
}

static sqlite3_module aggModule = {
  0,                 /* iVersion */
  aggConnect,        /* xCreate: nothing to create (no shadow tables) */
  aggConnect,        /* xConnect */
  aggBestIndex,      /* xBestIndex */
  aggDisconnect,     /* xDisconnect */
  aggDisconnect,     /* xDestroy */
  aggOpen,           /* xOpen */
  aggClose,          /* xClose */
  aggFilter,         /* xFilter */
  aggNext,           /* xNext */
  aggEof,            /* xEof */
  aggColumn,         /* xColumn */
  aggRowid,          /* xRowid */
  0, 0, 0, 0, 0,     /* xUpdate .. xRollback: read-only */
  0,                 /* xFindFunction */
  0,                 /* xRename */
  0, 0, 0,           /* xSavepoint, xRelease, xRollbackTo */
  0,                 /* xShadowName */
};

int tsAggRegister(sqlite3 *db, TsEnv *pEnv){
  return sqlite3_create_module_v2(db, "timeseries_agg", &aggModule, tsEnvRef(pEnv), tsEnvUnref);
}
