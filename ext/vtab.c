/*
** vtab.c: the timeseries virtual table: the sqlite3_module (module
** "timeseries") and query planning (xBestIndex).  The module's methods
** delegate to the rooms of the table:
**   schema.c       columns, type names, the option table, <t>_config
**   table.c        the table handle (table.h, table_int.h), shadow tables,
**                  statement and series caches
**   write.c        xUpdate, the pending buffer
**   write_flush.c  flushes of pending rows into chunks
**   scan.c         the cursor (xOpen .. xRowid), merging row sources
**   source_mem.c   the memory tier as a row source (source.h)
** This comment is the description of the whole table: its storage, write
** buffering and visibility rules; docs/internals/architecture.md has the map.
**
**   CREATE VIRTUAL TABLE cpu USING timeseries(
**     hostname DIMENSION, region DIMENSION,
**     usage_user DOUBLE, usage_system DOUBLE,
**     memory_retention = '6h', magnetic_writes = false);
**   INSERT INTO cpu(time, hostname, region, usage_user)
**     VALUES('2024-05-01T12:00:00Z', 'h1', 'eu', 12.5);
**   SELECT * FROM cpu WHERE hostname IN ('h1','h2') AND time >= ago('1h');
**   SELECT ts_check('cpu'), ts_stats('cpu');
**
** Declared columns, in order: time (INTEGER ns), the dimensions (TEXT),
** measure_name (TEXT), the measures, and the HIDDEN version (INTEGER).
**
** HOW IT WORKS
**
** Shadow tables (all named "<t>_<suffix>", protected by xShadowName):
**
**   <t>_config(k TEXT PRIMARY KEY, v)       options ("memory_retention" ...)
**                                           and the schema ("column.N")
**   <t>_series(id INTEGER PRIMARY KEY,      one row per series = (dimension
**     skey BLOB UNIQUE, measure_name TEXT,  values, measure_name); skey is
**     tmin, tmax, d0, d1, ...)              the encoded series key (below),
**                                           tmin/tmax the time range of its
**                                           chunks (NULL while it has none),
**                                           dN the value of dimension N
**   <t>_chunks(id INTEGER PRIMARY KEY,      compressed column chunks (format
**     sid, tmin, tmax, nrow, data BLOB,     in chunk.h / chunk.c); the UNIQUE
**     UNIQUE(sid, tmin, tmax, nrow))        constraint is the covering index
**                                           of chunk lookups (an automatic
**                                           index follows its table's renames)
**   <t>_objects(...)                        the cold-tier manifest (created
**                                           here, filled by tiering)
**   <t>_wlog(seq, sid, tmin, tmax)          the write log: the time range of
**                                           every series flush (write_flush.c), only
**                                           while a scheduled query watches
**                                           the table (ext/sched_inval.c)
**
** Invariants: the chunks of one series have disjoint time ranges [tmin,tmax]
** and each record key (series, time) exists at most once, so a series read
** in chunk order is in time order.  _series.tmin/tmax equal the min/max over
** the series' chunks.
**
** Series key (skey): for each dimension in declaration order one byte 0
** (absent, NULL) or 1 followed by varint(length) and the UTF-8 bytes; then
** varint(length) and the bytes of measure_name.
**
** Writes are buffered FTS5-style: xUpdate validates the row (type, window,
** Timestream's duplicate/version rules against the pending buffer and, only
** when the row's time is not after the series' last chunk, against the chunk
** that covers it) and appends it to the series' pending buffer in RAM.  The
** buffers are flushed into chunks in xSync, xSavepoint, xRelease, before every
** read of the table, and when they pass TS_PENDING_BUDGET bytes; xRollback and
** xRollbackTo discard them (every pending row is younger than the innermost
** savepoint because xSavepoint flushes).  xCommit does nothing.  A flush
** merges a series' pending rows into the chunks they fall into (rewriting
** only those chunks) and appends the rest as new chunks; a chunk smaller than
** TS_CHUNK_TARGET rows absorbs the new rows of the gap after it, and rows
** after a series' last chunk take along only its newest small chunks by a
** binary-counter rule (write_flush.c tailAppend), which is the bounded,
** incremental compaction of small chunks (every flush of a series rewrites at
** most the chunks its rows touch, each at most 2*TS_CHUNK_TARGET rows).
**
** Cross-connection visibility: nothing about chunks is cached across scans;
** the per-connection series cache (skey -> id, time range) is checked against
** PRAGMA data_version before each scan and at the first write of each
** transaction, and dropped after a rollback.  Pending rows of a connection
** exist only inside its write transaction, so other connections never see
** them.
*/
#include "table_int.h"
#include "source.h"
#include "numtext.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/**************************************************************************
** Reads.
**
** xBestIndex hands xFilter one argv value per used constraint; idxStr says
** what each is, as space-separated tokens in argv order:
**
**   T= T> T< TG TL    time =, >, <, >=, <=
**   D<n>= D<n>I       dimension n (0-based) =, or IN (all values at once
**                     through sqlite3_vtab_in)
**   M= MI             measure_name =, IN
**   L                 LIMIT (only when every other constraint is consumed
**                     and the output order is what the query asks)
**   d<n>? m?          dimension n / measure_name LIKE (K), GLOB (B), >, <,
**                     >= (G), <= (L), TEXT compared with BINARY collation:
**                     noted only (omit=0), for the scan observer
**   V<n>?             DOUBLE measure n (0-based) >, <, >= (G), <= (L): a row
**                     filter (omit=0, SQLite checks every row) that lets the
**                     sources skip data that cannot pass (source.h rule 10);
**                     used only when the operand is INTEGER or REAL
**
** idxNum bits: TS_IDX_ORDER_ASC / TS_IDX_ORDER_DESC when ORDER BY time is
** consumed: always when the plan pins one series (every dimension and
** measure_name constrained by =), else when the table has at most
** TS_MERGE_MAX series (xFilter then merges the series by time).
** TS_IDX_DISTINCT for a DISTINCT over dimensions / measure_name only (see
** below), with the DISTINCT columns as a slot mask in the bits from
** TS_IDX_DISTINCT_SHIFT: xFilter sorts the series by them and returns one
** row per series.
**
** Every used constraint but the noted-only ones is applied exactly (omit=1), with SQLite's
** comparison rules: time is INTEGER (a TEXT operand gets NUMERIC affinity;
** TEXT that stays TEXT is greater than every integer), dimensions and
** measure_name are TEXT compared with BINARY collation (numbers become
** text).  NULL operands match nothing.
*/

static int tsBestIndexImpl(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  TsTable *p = ((TsVtab*)pVtab)->pTab;
  char *zIdx = 0;
  int nArg = 0, i, iLimit = -1, bOffset = 0, bAllUsed = 1;
  int bTimeEq = 0, bTimeRange = 0;
  unsigned char *aEqCol;         /* per dimension/measure_name: 1 = '=', 2 = IN */
  double rRows, rSeriesFrac = 1.0;
  int bOneSeries;
  /* Costs come from the row and series counts, read once per change of
  ** the database (errors here only make the estimate cruder). */
  if( p->bStale || !p->bHaveVersion ) tsTabSeriesRefresh(p);
  rRows = (double)(p->nRowEst>0 ? p->nRowEst : 1000);
  aEqCol = sqlite3_malloc64((size_t)p->s.nDim + 2);
  if( aEqCol==0 ) return SQLITE_NOMEM;
  memset(aEqCol, 0, (size_t)p->s.nDim + 2);
  zIdx = sqlite3_mprintf("");
  for(i=0; zIdx && i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *pC = &pInfo->aConstraint[i];
    int iCol = pC->iColumn, kind;
    const char *zTok = 0;
    char zBuf[24];
    int bNoteOnly = 0;
    if( pC->op==SQLITE_INDEX_CONSTRAINT_LIMIT ){ if( pC->usable ) iLimit = i; continue; }
    if( pC->op==SQLITE_INDEX_CONSTRAINT_OFFSET ){ bOffset = 1; continue; }
    if( !pC->usable || iCol<0 ){ bAllUsed = 0; continue; }
    kind = tsTabColKind(p, iCol);
    if( kind==TS_KIND_TIME ){
      switch( pC->op ){
        case SQLITE_INDEX_CONSTRAINT_EQ: zTok = "T="; bTimeEq = 1; break;
        case SQLITE_INDEX_CONSTRAINT_GT: zTok = "T>"; bTimeRange++; break;
        case SQLITE_INDEX_CONSTRAINT_LT: zTok = "T<"; bTimeRange++; break;
        case SQLITE_INDEX_CONSTRAINT_GE: zTok = "TG"; bTimeRange++; break;
        case SQLITE_INDEX_CONSTRAINT_LE: zTok = "TL"; bTimeRange++; break;
      }
    }else if( (kind==TS_KIND_DIM || kind==TS_KIND_MNAME) && pC->op==SQLITE_INDEX_CONSTRAINT_EQ ){
      const char *zColl = sqlite3_vtab_collation(pInfo, i);
      if( zColl==0 || sqlite3_stricmp(zColl, "BINARY")==0 ){
        int bIn = sqlite3_vtab_in(pInfo, i, -1);
        int iSlot = kind==TS_KIND_DIM ? iCol-1 : p->s.nDim;
        if( bIn ) sqlite3_vtab_in(pInfo, i, 1);
        if( kind==TS_KIND_DIM ){
          snprintf(zBuf, sizeof(zBuf), "D%d%c", iCol-1, bIn ? 'I' : '=');
        }else{
          snprintf(zBuf, sizeof(zBuf), "M%c", bIn ? 'I' : '=');
        }
        zTok = zBuf;
        if( aEqCol[iSlot]!=1 ) aEqCol[iSlot] = bIn ? 2 : 1;
        rSeriesFrac *= bIn ? 0.2 : 0.1;
      }
    }else if( kind==TS_KIND_DIM || kind==TS_KIND_MNAME ){
      /* LIKE, GLOB and ranges on a dimension / measure_name: SQLite keeps
      ** checking them (omit=0, no change of cost); xFilter only reports
      ** them to the scan observer (late-data invalidation, sched_inval.c). */
      const char *zColl = sqlite3_vtab_collation(pInfo, i);
      char cOp = 0;
      switch( pC->op ){
        case SQLITE_INDEX_CONSTRAINT_LIKE: cOp = 'K'; break;
        case SQLITE_INDEX_CONSTRAINT_GLOB: cOp = 'B'; break;
        case SQLITE_INDEX_CONSTRAINT_GT: cOp = '>'; break;
        case SQLITE_INDEX_CONSTRAINT_LT: cOp = '<'; break;
        case SQLITE_INDEX_CONSTRAINT_GE: cOp = 'G'; break;
        case SQLITE_INDEX_CONSTRAINT_LE: cOp = 'L'; break;
      }
      if( cOp && (cOp=='K' || cOp=='B' || zColl==0 || sqlite3_stricmp(zColl, "BINARY")==0) ){
        if( kind==TS_KIND_DIM ) snprintf(zBuf, sizeof(zBuf), "d%d%c", iCol-1, cOp);
        else snprintf(zBuf, sizeof(zBuf), "m%c", cOp);
        zTok = zBuf;
        bNoteOnly = 1;
      }
    }else if( kind==TS_KIND_MEASURE
          && p->s.aMeasType[iCol-2-p->s.nDim]==TS_TYPE_DOUBLE ){
      char cOp = 0;
      switch( pC->op ){
        case SQLITE_INDEX_CONSTRAINT_GT: cOp = '>'; break;
        case SQLITE_INDEX_CONSTRAINT_LT: cOp = '<'; break;
        case SQLITE_INDEX_CONSTRAINT_GE: cOp = 'G'; break;
        case SQLITE_INDEX_CONSTRAINT_LE: cOp = 'L'; break;
      }
      if( cOp ){
        snprintf(zBuf, sizeof(zBuf), "V%d%c", iCol-2-p->s.nDim, cOp);
        zTok = zBuf;
        bNoteOnly = 1;
      }
    }
    if( zTok ){
      pInfo->aConstraintUsage[i].argvIndex = ++nArg;
      pInfo->aConstraintUsage[i].omit = bNoteOnly ? 0 : 1;
      zIdx = sqlite3_mprintf("%z%s%s", zIdx, nArg>1 ? " " : "", zTok);
    }
    if( !zTok || bNoteOnly ) bAllUsed = 0;
  }
  bOneSeries = 1;
  for(i=0; i<=p->s.nDim; i++) if( aEqCol[i]!=1 ) bOneSeries = 0;
  sqlite3_free(aEqCol);
  if( zIdx==0 ) return SQLITE_NOMEM;

  pInfo->idxNum = 0;
  /* ORDER BY time: one series is read in time order; several are merged,
  ** holding one decoded chunk per series, so only up to TS_MERGE_MAX. */
  if( pInfo->nOrderBy==1 && pInfo->aOrderBy[0].iColumn==0
   && (bOneSeries || p->nSeries<=TS_MERGE_MAX) ){
    pInfo->orderByConsumed = 1;
    pInfo->idxNum |= pInfo->aOrderBy[0].desc ? TS_IDX_ORDER_DESC : TS_IDX_ORDER_ASC;
  }
  /* SELECT DISTINCT <dimensions / measure_name>: sqlite3_vtab_distinct() 2
  ** lets the table return only one row per combination of the ORDER BY
  ** columns as long as equal combinations are adjacent (sqlite3.h).  When
  ** the query uses no column that varies within a series (time, measures,
  ** version), one row per series is enough: xFilter sorts the series by
  ** those columns and reads only each series' first row.  Any predicate
  ** SQLite still checks is on series constants, so it holds for that row
  ** iff for all of the series' rows. */
  /* With DISTINCT and ORDER BY (3) the rows must also be sorted: the series
  ** order is by slot, so that is taken when the ORDER BY is ascending and
  ** in declaration order (SELECT DISTINCT region ... ORDER BY region). */
  if( !pInfo->orderByConsumed && pInfo->nOrderBy>0 && p->s.nDim<TS_IDX_DISTINCT_MAXSLOT
   && (sqlite3_vtab_distinct(pInfo)==2 || sqlite3_vtab_distinct(pInfo)==3) ){
    int bOk = 1, iCol, nCol = 1 + p->s.nDim + 1 + p->s.nMeas + 1, iPrev = -1;
    int bSorted = sqlite3_vtab_distinct(pInfo)==3;
    sqlite3_uint64 mUsed = pInfo->colUsed;
    unsigned int mSlot = 0;
    for(i=0; i<pInfo->nOrderBy && bOk; i++){
      int k = pInfo->aOrderBy[i].iColumn<0 ? -1 : tsTabColKind(p, pInfo->aOrderBy[i].iColumn);
      int iSlot = k==TS_KIND_DIM ? pInfo->aOrderBy[i].iColumn-1 : p->s.nDim;
      if( k!=TS_KIND_DIM && k!=TS_KIND_MNAME ){ bOk = 0; break; }
      if( bSorted && (pInfo->aOrderBy[i].desc || iSlot<=iPrev) ){ bOk = 0; break; }
      iPrev = iSlot;
      mSlot |= 1u << iSlot;
    }
    for(iCol=0; iCol<nCol && bOk; iCol++){
      int k = tsTabColKind(p, iCol);
      int bUsed = iCol>=63 ? (int)((mUsed>>63)&1) : (int)((mUsed>>iCol)&1);
      if( bUsed && k!=TS_KIND_DIM && k!=TS_KIND_MNAME ) bOk = 0;
    }
    if( bOk ){
      pInfo->orderByConsumed = 1;
      pInfo->idxNum |= TS_IDX_DISTINCT | (int)(mSlot << TS_IDX_DISTINCT_SHIFT);
      iLimit = -1;   /* LIMIT counts distinct rows, not series */
    }
  }
  if( iLimit>=0 && bAllUsed && !bOffset && (pInfo->nOrderBy==0 || pInfo->orderByConsumed) ){
    pInfo->aConstraintUsage[iLimit].argvIndex = ++nArg;
    pInfo->aConstraintUsage[iLimit].omit = 1;
    zIdx = sqlite3_mprintf("%z%sL", zIdx, nArg>1 ? " " : "");
    if( zIdx==0 ) return SQLITE_NOMEM;
  }
  pInfo->idxStr = zIdx;
  pInfo->needToFreeIdxStr = 1;

  /* Costs: rows visited, assuming series of equal size, that each '='
  ** on a dimension keeps a tenth of them (IN a fifth), that one series is
  ** 1/nSeries of the rows, that a time range keeps a quarter (both ends: a
  ** twentieth) and a time point one row per series. */
  if( bOneSeries ){
    rRows /= (p->nSeries>0 ? (double)p->nSeries : 1.0);
  }else{
    rRows *= rSeriesFrac;
  }
  if( bTimeEq ) rRows = bOneSeries ? 1.0 : (double)(p->nSeries>0 ? p->nSeries : 10)*rSeriesFrac;
  else if( bTimeRange>=2 ) rRows *= 0.05;
  else if( bTimeRange==1 ) rRows *= 0.25;
  if( rRows<1.0 ) rRows = 1.0;
  pInfo->estimatedRows = (sqlite3_int64)rRows;
  pInfo->estimatedCost = 10.0 + rRows;
  if( bOneSeries && bTimeEq ){
    pInfo->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
    pInfo->estimatedRows = 1;
    pInfo->estimatedCost = 10.0;
  }
  return SQLITE_OK;
}

static int tsBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  return tsTabVtabRc(pVtab, tsBestIndexImpl(pVtab, pInfo));
}

/* xCreate and xConnect.  xConnect shares the connection's handle of the
** table if an operation opened one; otherwise (and always for xCreate) the
** handle is built from the CREATE arguments SQLite passes. */
static int tsInit(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                  sqlite3_vtab **ppVtab, char **pzErr, int bCreate){
  TsEnv *pEnv = (TsEnv*)pAux;
  TsVtab *pV;
  TsTable *p;
  int rc, i;
  char *zDecl;
  *ppVtab = 0;
  pV = sqlite3_malloc64(sizeof(TsVtab));
  if( pV==0 ) return SQLITE_NOMEM;
  memset(pV, 0, sizeof(*pV));
  p = bCreate ? 0 : tsTabFind(pEnv, db, argv[1], argv[2]);
  if( p ){
    p->nRef++;
  }else{
    TsSchema s;
    rc = tsSchemaParse(&s, argv[2], argc-3, argv+3, bCreate, pzErr);
    if( rc ){ sqlite3_free(pV); return rc; }
    p = tsTabNew(pEnv, db, argv[1], argv[2], &s);
    if( p==0 ){ sqlite3_free(pV); return SQLITE_NOMEM; }
  }
  pV->pTab = p;

  zDecl = sqlite3_mprintf("CREATE TABLE x(time INTEGER");
  for(i=0; zDecl && i<p->s.nDim; i++) zDecl = sqlite3_mprintf("%z, \"%w\" TEXT", zDecl, p->s.azDim[i]);
  if( zDecl ) zDecl = sqlite3_mprintf("%z, measure_name TEXT", zDecl);
  for(i=0; zDecl && i<p->s.nMeas; i++){
    zDecl = sqlite3_mprintf("%z, \"%w\" %s", zDecl, p->s.azMeas[i], tsChunkTypeName(p->s.aMeasType[i]));
  }
  if( zDecl ) zDecl = sqlite3_mprintf("%z, version INTEGER HIDDEN)", zDecl);
  if( zDecl==0 ){ tsTableRelease(p); sqlite3_free(pV); return SQLITE_NOMEM; }
  rc = sqlite3_declare_vtab(db, zDecl);
  sqlite3_free(zDecl);
  if( rc ){
    tsErrSet(pzErr, "timeseries %s: %s", p->zName, sqlite3_errmsg(db));
    tsTableRelease(p);
    sqlite3_free(pV);
    return rc;
  }
  sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  if( bCreate ){
    char *zErr = 0;
    rc = tsTabShadowCreate(p, &zErr);
    if( rc ){
      tsErrSet(pzErr, "timeseries %s: creating shadow tables: %s", p->zName, zErr ? zErr : "?");
      sqlite3_free(zErr);
      tsTableRelease(p);
      sqlite3_free(pV);
      return rc;
    }
  }
  *ppVtab = &pV->base;
  return SQLITE_OK;
}

static int tsCreate(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                    sqlite3_vtab **ppVtab, char **pzErr){
  return tsInit(db, pAux, argc, argv, ppVtab, pzErr, 1);
}

static int tsConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                     sqlite3_vtab **ppVtab, char **pzErr){
  return tsInit(db, pAux, argc, argv, ppVtab, pzErr, 0);
}

static int tsDisconnect(sqlite3_vtab *pVtab){
  TsVtab *pV = (TsVtab*)pVtab;
  /* A message SQLite never took over (a failed xDestroy's: SQLite does not
  ** read zErrMsg after xDestroy) is freed with the vtab. */
  sqlite3_free(pVtab->zErrMsg);
  tsTableRelease(pV->pTab);
  sqlite3_free(pV);
  return SQLITE_OK;
}

static int tsDestroy(sqlite3_vtab *pVtab){
  TsVtab *pV = (TsVtab*)pVtab;
  char *zErr = 0;
  int rc = tsTabDestroy(pV->pTab, &zErr);
  if( rc ){
    tsVtabErr(pVtab, "timeseries %s: dropping shadow tables: %s", pV->pTab->zName,
              zErr ? zErr : "?");
    sqlite3_free(zErr);
    return rc;
  }
  tsTableRelease(pV->pTab);
  sqlite3_free(pV);
  return SQLITE_OK;
}

static int tsRename(sqlite3_vtab *pVtab, const char *zNew){
  return tsTabVtabRc(pVtab, tsTabRename(((TsVtab*)pVtab)->pTab, zNew));
}

static int tsShadowName(const char *zSuffix){
  return tsTabIsShadowName(zSuffix);
}

/**************************************************************************
** Transactions (see the header comment).
*/
static int tsBegin(sqlite3_vtab *pVtab){
  ((TsVtab*)pVtab)->pTab->bTxnChecked = 0;
  return SQLITE_OK;
}

static int tsSyncImpl(sqlite3_vtab *pVtab){
  TsTable *p = ((TsVtab*)pVtab)->pTab;
  if( p->rcFlush ){
    tsTabErr(p, "timeseries %s: an earlier flush of this transaction failed; it cannot "
              "commit", p->zName);
    return p->rcFlush;
  }
  return tsTabFlushAll(p);
}

static int tsSync(sqlite3_vtab *pVtab){
  return tsTabVtabRc(pVtab, tsSyncImpl(pVtab));
}

static int tsCommit(sqlite3_vtab *pVtab){
  ((TsVtab*)pVtab)->pTab->bTxnChecked = 0;
  return SQLITE_OK;
}

/* After a rollback the shadow tables may have lost rows this connection
** wrote: drop the pending rows and every cached fact about them. */
static void forgetTxn(TsTable *p){
  tsWritePendDiscardAll(p);
  tsTabCacheClear(p);
  tsMemLookClear(p);
  p->iFlushGen++;
}

static int tsRollback(sqlite3_vtab *pVtab){
  TsTable *p = ((TsVtab*)pVtab)->pTab;
  forgetTxn(p);
  p->rcFlush = SQLITE_OK;
  p->bTxnChecked = 0;
  return SQLITE_OK;
}

static int tsSavepoint(sqlite3_vtab *pVtab, int iSavepoint){
  (void)iSavepoint;
  return tsTabVtabRc(pVtab, tsTabFlushAll(((TsVtab*)pVtab)->pTab));
}

static int tsRelease(sqlite3_vtab *pVtab, int iSavepoint){
  (void)iSavepoint;
  return tsTabVtabRc(pVtab, tsTabFlushAll(((TsVtab*)pVtab)->pTab));
}

static int tsRollbackTo(sqlite3_vtab *pVtab, int iSavepoint){
  (void)iSavepoint;
  forgetTxn(((TsVtab*)pVtab)->pTab);
  return SQLITE_OK;
}

static sqlite3_module tsModule = {
  /* iVersion    */ 3,             /* xSavepoint.. and xShadowName */
  /* xCreate     */ tsCreate,      /* parses options, creates shadow tables */
  /* xConnect    */ tsConnect,     /* parses the same arguments */
  /* xBestIndex  */ tsBestIndex,   /* time, dimension, measure_name, LIMIT pushdown */
  /* xDisconnect */ tsDisconnect,
  /* xDestroy    */ tsDestroy,     /* drops the shadow tables */
  /* xOpen       */ tsScanOpen,    /* scan.c */
  /* xClose      */ tsScanClose,
  /* xFilter     */ tsScanFilter,  /* flushes pending rows, picks series */
  /* xNext       */ tsScanNext,
  /* xEof        */ tsScanEof,
  /* xColumn     */ tsScanColumn,  /* decodes measure columns on first use */
  /* xRowid      */ tsScanRowid,   /* block rowid base + row (not stable) */
  /* xUpdate     */ tsWriteUpdate,     /* INSERT only */
  /* xBegin      */ tsBegin,
  /* xSync       */ tsSync,        /* flushes pending rows */
  /* xCommit     */ tsCommit,      /* nothing that can fail */
  /* xRollback   */ tsRollback,    /* discards pending rows */
  /* xFindFunction */ 0,
  /* xRename     */ tsRename,      /* renames the shadow tables */
  /* xSavepoint  */ tsSavepoint,   /* flushes */
  /* xRelease    */ tsRelease,     /* flushes */
  /* xRollbackTo */ tsRollbackTo,  /* discards pending rows */
  /* xShadowName */ tsShadowName,  /* config, series, chunks, objects */
};

int tsVtabRegister(sqlite3 *db, TsEnv *pEnv){
  int rc = sqlite3_create_module_v2(db, "timeseries", &tsModule, tsEnvRef(pEnv), tsEnvUnref);
  if( rc==SQLITE_OK ) rc = tsSchemaRegister(db, pEnv);
  if( rc==SQLITE_OK ) rc = tsSourceDebugRegister(db, pEnv);
  return rc;
}
