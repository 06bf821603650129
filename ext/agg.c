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
** prints it; tests/py/test_agg.py checks it on random data):
**   SELECT bin(time, w) AS bucket, <dims>, measure_name, count(*), min(time),
**          max(time), count(m), sum(m), min(m), max(m), avg(m),
**          min_by(m, time) FILTER (WHERE m IS NOT NULL),
**          max_by(m, time) FILTER (WHERE m IS NOT NULL), ...
**     FROM cpu WHERE <time and dimension constraints>
**    GROUP BY bucket, <dims>, measure_name
**
** HOW IT WORKS
**
** xFilter flushes the connection's pending rows, selects the series from
** <t>_series (their time range against the time constraint, their
** dimension values against the = / IN constraints), and makes one stream per
** series.  A stream walks the series' chunks in time order (ascending, or
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
** Other tiers: the fast path reads <t>_chunks (the memory tier) through its
** own statements.  xFilter opens every other row source of source.h with the
** query's range; if one has rows there (the cold tier, the test overlay),
** its blocks may overlap the chunks and win by version, so each stream reads
** its series through the table's own scan instead (one ordered SELECT per
** series, blocks of AGG_SCAN_ROWS rows, the same fused pass): correct, at
** the plain query's speed.  Taking cold blocks natively needs, per source,
** block statistics (a TsSourceMethods slot beside xBlocks) and a rule-6
** merge only where blocks of one series overlap in time.
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
#include "tslite.h"
#include "table.h"
#include "source.h"
#include "chunk.h"
#include "tsagg.h"
#include "numtext.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Per-measure aggregates.  The columns are declared kind-major (every
** <m>_last, then every <m>_first, ...), in this order, because colUsed has
** one bit per column only up to column 62 and bit 63 stands for every later
** column: the kinds whose absence enables a cheaper plan (last: lastpoint;
** first/last: chunk statistics of old chunks, see addWholeChunk) come first,
** and the kinds past the limit on a wide table (max, min, avg of the last
** measures) are answered from chunk statistics anyway.  A column past the
** limit is treated as used (correct, just more work). */
#define AGG_F_LAST  0
#define AGG_F_FIRST 1
#define AGG_F_COUNT 2
#define AGG_F_SUM   3
#define AGG_F_MAX   4
#define AGG_F_MIN   5
#define AGG_F_AVG   6
#define AGG_NF      7
static const char *const azAggSuffix[AGG_NF] = {
  "last", "first", "count", "sum", "max", "min", "avg"
};

/* Bits of the row-level columns in the "used" mask. */
#define AGG_U_ROWS   0x1
#define AGG_U_FIRSTT 0x2
#define AGG_U_LASTT  0x4

/* Largest batch of chunk references fetched at once. */
#define AGG_BATCH_MAX 256

/* Rows per block read from the table's scan (the other-tiers fallback). */
#define AGG_SCAN_ROWS 1024

typedef struct AggVtab AggVtab;
struct AggVtab {
  sqlite3_vtab base;        /* base class: must be first */
  sqlite3 *db;              /* the connection (not owned) */
  TsEnv *pEnv;              /* a reference */
  char *zName;              /* this table's name (owned) */
  char *zUDb, *zUTab;       /* the timeseries table aggregated (owned) */
  int nDim;                 /* its dimensions */
  int nMeas;                /* its measures (all, chunk column count) */
  int *aMeasType;           /* TS_TYPE_* per measure (owned) */
  int nAgg;                 /* aggregated measures (all but VARCHAR) */
  int *aAggCol;             /* chunk column of each aggregated measure (owned) */
  /* Column numbers of the declared schema. */
  int iColWidth, iColTime;  /* the hidden inputs: 1 and 2 */
  int iColDim0;             /* first dimension (3) */
  int iColMName, iColRows, iColFirstT, iColLastT, iColAgg0;
  int iColEnd;              /* one past the last aggregate column */
};

/* A chunk reference: one row of <t>_chunks' covering index. */
typedef struct AggRef AggRef;
struct AggRef {
  sqlite3_int64 id;
  int64_t tMin, tMax;
};

/* One series selected by the constraints. */
typedef struct AggSeries AggSeries;
struct AggSeries {
  sqlite3_int64 id;         /* _series.id */
  char **azDim;             /* nDim values, NULL = absent (in pMem) */
  int *anDim;               /* their lengths (in pMem) */
  char *zMName;             /* measure_name (in pMem) */
  int nMName;
  void *pMem;               /* one allocation holding the above (owned) */
};

/* The running result of one (series, bucket). */
typedef struct AggResult AggResult;
struct AggResult {
  int bHave;                /* at least one row added */
  int64_t iBucket;          /* the bucket start (0 without bucket_width) */
  int64_t nRow;             /* rows */
  int64_t tFirst, tLast;    /* first and last row time */
  TsAggAcc *aAcc;           /* one per aggregated measure (owned by the stream) */
};

/* A stream: the buckets of one series in the scan direction. */
typedef struct AggStream AggStream;
struct AggStream {
  AggSeries *pSer;          /* the series (owned by the cursor's array) */
  AggRef *aRef;             /* the current batch of chunk references (owned) */
  int nRef, iRef;           /* batch size and position */
  int nBatch;               /* size of the next batch to fetch */
  int bRefEof;              /* no chunk references past this batch */
  int64_t tKey;             /* tmin of the last reference fetched (keyset) */
  int bKey;                 /* tKey is set */
  /* Row mode: the current chunk, decoded. */
  int bRowMode;
  unsigned char *aBlob;     /* copy of the chunk blob (owned) */
  TsChunkReader *pReader;   /* over aBlob (owned) */
  const int64_t *aTime;     /* decoded times (owned by pReader) */
  int iBeg, iEnd;           /* rows of the chunk inside the time range */
  int iRow;                 /* next row in the scan direction */
  sqlite3_int64 iChunkId;   /* id of the decoded chunk (for messages) */
  /* Output. */
  AggResult res;            /* the result ready to be returned */
  int bDone;                /* no more results */
  int bStop;                /* early stop: the next call ends the stream */
  int bStarted;             /* serial mode: streamNext called once */
  /* Scan mode (another tier holds rows: see aggFilter): blocks of rows read
  ** through the table itself, which merges the tiers. */
  sqlite3_stmt *pScan;      /* this series' rows in scan order; owned */
  int bScanEof;             /* pScan is exhausted */
  int64_t *aScanTime;       /* [AGG_SCAN_ROWS] ascending (owned, one allocation
                            ** with the arrays below) */
  TsChunkCol *aScanCol;     /* [nAgg] columns of the block (in that allocation) */
};

/* A set of accepted TEXT values for one dimension or measure_name. */
typedef struct AggValSet AggValSet;
struct AggValSet {
  int iDim;                 /* dimension, -1 = measure_name */
  int nVal;
  char **azVal;             /* owned, each owned */
  int *anVal;               /* owned */
};

/* One ORDER BY term. */
typedef struct AggOrder AggOrder;
struct AggOrder {
  int eKind;                /* 'B' bucket, 'D' dimension, 'M' measure_name */
  int iDim;                 /* for 'D' */
  int bDesc;
};

typedef struct AggCursor AggCursor;
struct AggCursor {
  sqlite3_vtab_cursor base; /* base class: must be first */
  TsTable *pTab;            /* handle of the aggregated table (a reference) */
  sqlite3_stmt *pRefStmt;   /* chunk references of a series, ascending; owned */
  sqlite3_stmt *pRefDesc;   /* the same, descending; owned */
  sqlite3_stmt *pBlob;      /* one chunk's data; owned */
  sqlite3_stmt *pStart;     /* newest chunk start <= the range start; owned */
  int64_t iWidth;           /* bucket width ns, 0 = one bucket per series */
  int64_t tLo, tHi;         /* rows aggregated: tLo <= time <= tHi */
  int bDesc;                /* streams walk newest first */
  int bHeap;                /* merge by heap (bucket in ORDER BY), else serial */
  int bLastOnly;            /* lastpoint early stop (see header) */
  int bScan;                /* another tier has rows in the range: read
                            ** through the table's own scan (see aggFilter) */
  unsigned char *aUsed;     /* per aggregated measure: bitmask of AGG_F_* used (owned) */
  int fRowUsed;             /* AGG_U_* bits used */
  int nOrder;
  AggOrder aOrder[16];      /* ORDER BY terms (consumed) */
  int nSet;
  AggValSet *aSet;          /* dimension / measure_name constraints (owned) */
  int nSeries;
  AggSeries *aSeries;       /* selected series (owned) */
  int nStream;
  AggStream *aStream;       /* one per series (owned) */
  int *aHeap;               /* heap of stream indexes (bHeap) or order (owned) */
  int nHeap;                /* live entries of aHeap */
  int iSerial;              /* serial mode: position in aHeap */
  int iCur;                 /* stream holding the current row, -1 = EOF */
  sqlite3_int64 iRowid;     /* row counter */
};

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
  if( p==0 ) return;
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

static void streamRowModeEnd(AggStream *s){
  tsChunkReaderFree(s->pReader);
  s->pReader = 0;
  sqlite3_free(s->aBlob);
  s->aBlob = 0;
  s->aTime = 0;
  s->bRowMode = 0;
}

static void aggReset(AggCursor *p){
  int i;
  for(i=0; i<p->nStream; i++){
    AggStream *s = &p->aStream[i];
    streamRowModeEnd(s);
    sqlite3_free(s->aRef);
    sqlite3_free(s->res.aAcc);
    sqlite3_finalize(s->pScan);
    sqlite3_free(s->aScanTime);
  }
  sqlite3_free(p->aStream);
  p->aStream = 0;
  p->nStream = 0;
  for(i=0; i<p->nSeries; i++) sqlite3_free(p->aSeries[i].pMem);
  sqlite3_free(p->aSeries);
  p->aSeries = 0;
  p->nSeries = 0;
  for(i=0; i<p->nSet; i++){
    int j;
    for(j=0; j<p->aSet[i].nVal; j++) sqlite3_free(p->aSet[i].azVal[j]);
    sqlite3_free(p->aSet[i].azVal);
    sqlite3_free(p->aSet[i].anVal);
  }
  sqlite3_free(p->aSet);
  p->aSet = 0;
  p->nSet = 0;
  sqlite3_free(p->aHeap);
  p->aHeap = 0;
  p->nHeap = 0;
  sqlite3_free(p->aUsed);
  p->aUsed = 0;
  sqlite3_finalize(p->pRefStmt);
  sqlite3_finalize(p->pRefDesc);
  sqlite3_finalize(p->pBlob);
  sqlite3_finalize(p->pStart);
  p->pRefStmt = p->pRefDesc = p->pBlob = p->pStart = 0;
  tsTableRelease(p->pTab);
  p->pTab = 0;
  p->iCur = -1;
  p->nOrder = 0;
  p->iRowid = 0;
  p->bScan = 0;
  p->bHeap = 0;
  p->bLastOnly = 0;
}

static int aggClose(sqlite3_vtab_cursor *pCur){
  AggCursor *p = (AggCursor*)pCur;
  aggReset(p);
  sqlite3_free(p);
  return SQLITE_OK;
}

/* Narrow [tLo, tHi] by "time <op> v" (the scan's rules: NUMERIC affinity,
** REAL bounds rounded inward, TEXT and BLOB above every integer, NULL
** matches nothing). */
static void aggTimeBound(AggCursor *p, char cOp, sqlite3_value *v){
  int eType = sqlite3_value_type(v);
  int64_t lo = INT64_MIN, hi = INT64_MAX, iv = 0;
  double r = 0;
  if( eType==SQLITE_TEXT ){
    const char *z = (const char*)sqlite3_value_text(v);
    int bIntegral = 0;
    int e = z ? tsNumText(z, (size_t)sqlite3_value_bytes(v), &iv, &r, &bIntegral) : TS_NUMTEXT_NONE;
    if( e==TS_NUMTEXT_INT ) eType = SQLITE_INTEGER;
    else if( e==TS_NUMTEXT_REAL ) eType = SQLITE_FLOAT;
  }else if( eType==SQLITE_INTEGER ){
    iv = sqlite3_value_int64(v);
  }else if( eType==SQLITE_FLOAT ){
    r = sqlite3_value_double(v);
  }
  if( eType==SQLITE_NULL ){
    lo = 1; hi = 0;
  }else if( eType==SQLITE_INTEGER ){
    switch( cOp ){
      case '=': lo = hi = iv; break;
      case '>': if( iv==INT64_MAX ){ lo = 1; hi = 0; } else lo = iv+1; break;
      case 'G': lo = iv; break;
      case '<': if( iv==INT64_MIN ){ lo = 1; hi = 0; } else hi = iv-1; break;
      case 'L': hi = iv; break;
    }
  }else if( eType==SQLITE_FLOAT ){
    double fl = floor(r), ce = ceil(r);
    const double rMax = 9223372036854775808.0;
    switch( cOp ){
      case '=':
        if( r==fl && r>=-rMax && r<rMax ) lo = hi = (int64_t)r; else { lo = 1; hi = 0; }
        break;
      case '>': case 'G': {
        double b = cOp=='>' ? fl : ce;
        if( b>=rMax ){ lo = 1; hi = 0; }
        else if( b>=-rMax ) lo = (int64_t)b + (cOp=='>');
        break;
      }
      case '<': case 'L': {
        double b = cOp=='<' ? ce : fl;
        if( b<-rMax || (cOp=='<' && b==-rMax) ){ lo = 1; hi = 0; }
        else if( b<rMax ) hi = (int64_t)b - (cOp=='<');
        break;
      }
    }
  }else{
    if( cOp=='=' || cOp=='>' || cOp=='G' ){ lo = 1; hi = 0; }
  }
  if( lo>p->tLo ) p->tLo = lo;
  if( hi<p->tHi ) p->tHi = hi;
}

/* Add v to set pSet as TEXT (SQLite's TEXT affinity); NULL and BLOB never
** equal a dimension value. */
static int setAdd(AggValSet *pSet, sqlite3_value *v){
  const char *z;
  int n, e = sqlite3_value_type(v);
  char **az;
  int *an;
  if( e==SQLITE_NULL || e==SQLITE_BLOB ) return SQLITE_OK;
  z = (const char*)sqlite3_value_text(v);
  if( z==0 ) return SQLITE_NOMEM;
  n = sqlite3_value_bytes(v);
  az = sqlite3_realloc64(pSet->azVal, sizeof(char*)*(size_t)(pSet->nVal+1));
  if( az==0 ) return SQLITE_NOMEM;
  pSet->azVal = az;
  an = sqlite3_realloc64(pSet->anVal, sizeof(int)*(size_t)(pSet->nVal+1));
  if( an==0 ) return SQLITE_NOMEM;
  pSet->anVal = an;
  az[pSet->nVal] = sqlite3_malloc64((size_t)n+1);
  if( az[pSet->nVal]==0 ) return SQLITE_NOMEM;
  memcpy(az[pSet->nVal], z, (size_t)n);
  az[pSet->nVal][n] = 0;
  an[pSet->nVal] = n;
  pSet->nVal++;
  return SQLITE_OK;
}

static int setHas(const AggValSet *pSet, const char *z, int n){
  int i;
  if( z==0 ) return 0;
  for(i=0; i<pSet->nVal; i++){
    if( pSet->anVal[i]==n && memcmp(pSet->azVal[i], z, (size_t)n)==0 ) return 1;
  }
  return 0;
}

/* Compare two TEXT-or-NULL values in SQLite's BINARY order, NULL first. */
static int cmpText(const char *a, int na, const char *b, int nb){
  int c;
  if( a==0 || b==0 ) return a==0 ? (b==0 ? 0 : -1) : 1;
  c = memcmp(a, b, (size_t)(na<nb ? na : nb));
  return c ? c : (na<nb ? -1 : na>nb);
}

/* Order of streams i and j by the ORDER BY terms; ties by series id. */
static int streamCmp(AggCursor *p, int i, int j){
  AggStream *a = &p->aStream[i], *b = &p->aStream[j];
  int k, c = 0;
  for(k=0; k<p->nOrder && c==0; k++){
    const AggOrder *o = &p->aOrder[k];
    if( o->eKind=='B' ){
      c = a->res.iBucket<b->res.iBucket ? -1 : a->res.iBucket>b->res.iBucket;
    }else if( o->eKind=='M' ){
      c = cmpText(a->pSer->zMName, a->pSer->nMName, b->pSer->zMName, b->pSer->nMName);
    }else{
      c = cmpText(a->pSer->azDim[o->iDim], a->pSer->anDim[o->iDim],
                  b->pSer->azDim[o->iDim], b->pSer->anDim[o->iDim]);
    }
    if( o->bDesc ) c = -c;
  }
  if( c==0 ) c = a->pSer->id<b->pSer->id ? -1 : a->pSer->id>b->pSer->id;
  return c;
}

static void heapDown(AggCursor *p, int i){
  int n = p->nHeap;
  for(;;){
    int l = 2*i+1, r = l+1, m = i, t;
    if( l<n && streamCmp(p, p->aHeap[l], p->aHeap[m])<0 ) m = l;
    if( r<n && streamCmp(p, p->aHeap[r], p->aHeap[m])<0 ) m = r;
    if( m==i ) return;
    t = p->aHeap[i]; p->aHeap[i] = p->aHeap[m]; p->aHeap[m] = t;
    i = m;
  }
}

/*************************************************************************
** Streams.
*/

/* Fetch the next batch of chunk references of stream s (keyset on tmin in
** the scan direction). */
static int streamFetch(AggCursor *p, AggStream *s){
  sqlite3_stmt *q = p->bDesc ? p->pRefDesc : p->pRefStmt;
  int rc, n = 0, nStep = 0;
  int64_t iFrom;
  if( s->aRef==0 ){
    s->aRef = sqlite3_malloc64(sizeof(AggRef)*AGG_BATCH_MAX);
    if( s->aRef==0 ) return SQLITE_NOMEM;
  }
  if( p->bDesc ){
    iFrom = s->bKey ? s->tKey-1 : p->tHi;
    if( s->bKey && s->tKey==INT64_MIN ){ s->nRef = s->iRef = 0; s->bRefEof = 1; return SQLITE_OK; }
    if( iFrom>p->tHi ) iFrom = p->tHi;
  }else if( s->bKey ){
    if( s->tKey==INT64_MAX ){ s->nRef = s->iRef = 0; s->bRefEof = 1; return SQLITE_OK; }
    iFrom = s->tKey+1;
  }else{
    /* The first chunk that can overlap the range starts at or before tLo:
    ** the newest such start, found by one index seek. */
    iFrom = INT64_MIN;
    sqlite3_reset(p->pStart);
    sqlite3_bind_int64(p->pStart, 1, s->pSer->id);
    sqlite3_bind_int64(p->pStart, 2, p->tLo);
    rc = sqlite3_step(p->pStart);
    if( rc==SQLITE_ROW && sqlite3_column_type(p->pStart, 0)==SQLITE_INTEGER ){
      iFrom = sqlite3_column_int64(p->pStart, 0);
    }
    sqlite3_reset(p->pStart);
    if( rc!=SQLITE_ROW && rc!=SQLITE_DONE ){
      tsVtabErr(p->base.pVtab, "%s: reading %s_chunks: %s", ((AggVtab*)p->base.pVtab)->zName,
                tsTableName(p->pTab), sqlite3_errmsg(tsTableDbHandle(p->pTab)));
      return rc;
    }
  }
  sqlite3_reset(q);
  sqlite3_bind_int64(q, 1, s->pSer->id);
  sqlite3_bind_int64(q, 2, iFrom);
  sqlite3_bind_int64(q, 3, p->tHi);
  sqlite3_bind_int(q, 4, s->nBatch);
  while( (rc = sqlite3_step(q))==SQLITE_ROW ){
    int64_t tMin = sqlite3_column_int64(q, 1), tMax = sqlite3_column_int64(q, 2);
    nStep++;
    s->tKey = tMin;
    s->bKey = 1;
    if( tMax<p->tLo ){
      /* Wholly before the range: skipped; in a descending walk every older
      ** chunk is too. */
      if( p->bDesc ){ s->bRefEof = 1; break; }
      continue;
    }
    if( n<AGG_BATCH_MAX ){
      s->aRef[n].id = sqlite3_column_int64(q, 0);
      s->aRef[n].tMin = tMin;
      s->aRef[n].tMax = tMax;
      n++;
    }
  }
  if( rc==SQLITE_ROW ) rc = SQLITE_DONE;
  else if( rc==SQLITE_DONE && nStep<s->nBatch ) s->bRefEof = 1;   /* short of the LIMIT */
  sqlite3_reset(q);
  if( rc!=SQLITE_DONE ){
    tsVtabErr(p->base.pVtab, "%s: reading %s_chunks: %s", ((AggVtab*)p->base.pVtab)->zName,
              tsTableName(p->pTab), sqlite3_errmsg(tsTableDbHandle(p->pTab)));
    return rc;
  }
  s->nRef = n;
  s->iRef = 0;
  if( s->nBatch<AGG_BATCH_MAX ) s->nBatch *= 2;
  return SQLITE_OK;
}

/* Load the blob of chunk iId: *pa and *pn point into the statement's row
** (valid until p->pBlob is reset). */
static int chunkBlob(AggCursor *p, sqlite3_int64 iId, const unsigned char **pa, int *pn){
  int rc;
  sqlite3_reset(p->pBlob);
  sqlite3_bind_int64(p->pBlob, 1, iId);
  rc = sqlite3_step(p->pBlob);
  if( rc==SQLITE_ROW ){
    *pa = sqlite3_column_blob(p->pBlob, 0);
    *pn = sqlite3_column_bytes(p->pBlob, 0);
    return SQLITE_OK;
  }
  sqlite3_reset(p->pBlob);
  if( rc==SQLITE_DONE ){
    tsVtabErr(p->base.pVtab, "%s: chunk %lld of %s_chunks vanished during the scan",
              ((AggVtab*)p->base.pVtab)->zName, iId, tsTableName(p->pTab));
    return SQLITE_CORRUPT_VTAB;
  }
  tsVtabErr(p->base.pVtab, "%s: %s", ((AggVtab*)p->base.pVtab)->zName,
            sqlite3_errmsg(tsTableDbHandle(p->pTab)));
  return rc;
}

static int corruptChunk(AggCursor *p, sqlite3_int64 iId, const char *zWhy){
  tsVtabErr(p->base.pVtab, "%s: damaged chunk %lld in %s_chunks: %s",
            ((AggVtab*)p->base.pVtab)->zName, iId, tsTableName(p->pTab), zWhy);
  return SQLITE_CORRUPT_VTAB;
}

/* Check a chunk header against the schema. */
static int checkInfo(AggCursor *p, sqlite3_int64 iId, const TsChunkInfo *pInfo, const AggRef *pRef){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  if( pInfo->nCol!=v->nMeas ) return corruptChunk(p, iId, "column count differs from the table's measures");
  if( pInfo->tMin!=pRef->tMin || pInfo->tMax!=pRef->tMax ){
    return corruptChunk(p, iId, "header time range differs from its index row");
  }
  return SQLITE_OK;
}

/* Add a whole chunk from its header statistics.  *pbDone is 0 when the
** statistics cannot answer (an integer sum not exact): decode instead. */
static int addWholeChunk(AggCursor *p, AggStream *s, const AggRef *pRef, int *pbDone){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  const unsigned char *a = 0;
  int n = 0, rc, i;
  TsChunkInfo info;
  TsChunkStat aStat[TS_CHUNK_MAX_COLS > 64 ? 64 : TS_CHUNK_MAX_COLS];
  TsChunkStat *pStat = aStat;
  *pbDone = 0;
  rc = chunkBlob(p, pRef->id, &a, &n);
  if( rc ) return rc;
  if( v->nMeas>64 ){
    pStat = sqlite3_malloc64(sizeof(TsChunkStat)*(size_t)v->nMeas);
    if( pStat==0 ){ sqlite3_reset(p->pBlob); return SQLITE_NOMEM; }
  }
  if( tsChunkInfoGet(a, (size_t)n, &info, pStat, v->nMeas)!=TS_CHUNK_OK ){
    rc = corruptChunk(p, pRef->id, "bad header or checksum");
  }else{
    rc = checkInfo(p, pRef->id, &info, pRef);
  }
  sqlite3_reset(p->pBlob);
  if( rc==SQLITE_OK ){
    /* All or nothing: first check that every used integer sum is exact and
    ** that the header has the first/last values wanted (format v2). */
    for(i=0; i<v->nAgg; i++){
      const TsChunkStat *st = &pStat[v->aAggCol[i]];
      if( p->aUsed[i] && v->aMeasType[v->aAggCol[i]]!=TS_TYPE_DOUBLE
       && !(st->rSum > -9007199254740992.0 && st->rSum < 9007199254740992.0) ) break;
      if( (p->aUsed[i] & ((1<<AGG_F_FIRST)|(1<<AGG_F_LAST))) && st->nValue>0 && !st->bEnds ) break;
    }
    if( i==v->nAgg ){
      for(i=0; i<v->nAgg; i++){
        if( p->aUsed[i] ){
          tsAggAddStat(&s->res.aAcc[i], v->aMeasType[v->aAggCol[i]], &pStat[v->aAggCol[i]]);
        }
      }
      if( !s->res.bHave || info.tMin<s->res.tFirst ) s->res.tFirst = info.tMin;
      if( !s->res.bHave || info.tMax>s->res.tLast ) s->res.tLast = info.tMax;
      s->res.nRow += info.nRow;
      *pbDone = 1;
    }
  }
  if( pStat!=aStat ) sqlite3_free(pStat);
  return rc;
}

/* Enter row mode on chunk pRef: copy and open it, decode time, find the
** rows inside [tLo, tHi].  *pbEmpty when none is. */
static int rowModeBegin(AggCursor *p, AggStream *s, const AggRef *pRef, int *pbEmpty){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  const unsigned char *a = 0;
  int n = 0, rc;
  TsChunkInfo info;
  *pbEmpty = 0;
  rc = chunkBlob(p, pRef->id, &a, &n);
  if( rc ) return rc;
  s->aBlob = sqlite3_malloc64((sqlite3_uint64)n + 1);
  if( s->aBlob==0 ){ sqlite3_reset(p->pBlob); return SQLITE_NOMEM; }
  memcpy(s->aBlob, a, (size_t)n);
  sqlite3_reset(p->pBlob);
  s->iChunkId = pRef->id;
  s->bRowMode = 1;
  if( tsChunkReaderOpen(s->aBlob, (size_t)n, &s->pReader)!=TS_CHUNK_OK ){
    return corruptChunk(p, pRef->id, "bad header or checksum");
  }
  info = *tsChunkReaderInfo(s->pReader);
  rc = checkInfo(p, pRef->id, &info, pRef);
  if( rc ) return rc;
  if( tsChunkReadTime(s->pReader, &s->aTime)!=TS_CHUNK_OK ){
    return corruptChunk(p, pRef->id, "time column does not decode");
  }
  (void)v;
  s->iBeg = tsAggLowerBound(s->aTime, 0, info.nRow, p->tLo);
  s->iEnd = p->tHi==INT64_MAX ? info.nRow : tsAggLowerBound(s->aTime, s->iBeg, info.nRow, p->tHi+1);
  if( s->iBeg>=s->iEnd ){ *pbEmpty = 1; return SQLITE_OK; }
  s->iRow = p->bDesc ? s->iEnd-1 : s->iBeg;
  return SQLITE_OK;
}

/* Add rows [i0, i1) of the decoded chunk to the result. */
static int addRun(AggCursor *p, AggStream *s, int i0, int i1){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  int i;
  if( !s->res.bHave || s->aTime[i0]<s->res.tFirst ) s->res.tFirst = s->aTime[i0];
  if( !s->res.bHave || s->aTime[i1-1]>s->res.tLast ) s->res.tLast = s->aTime[i1-1];
  s->res.nRow += i1-i0;
  for(i=0; i<v->nAgg; i++){
    TsChunkCol c;
    int iM = v->aAggCol[i];
    if( !p->aUsed[i] ) continue;
    if( s->pReader==0 ){
      tsAggAddCol(&s->res.aAcc[i], &s->aScanCol[i], s->aTime, i0, i1);
      continue;
    }
    if( tsChunkReadCol(s->pReader, iM, &c)!=TS_CHUNK_OK ){
      return corruptChunk(p, s->iChunkId, "a measure column does not decode");
    }
    if( c.eType!=v->aMeasType[iM] ){
      return corruptChunk(p, s->iChunkId, "a column has the wrong type");
    }
    tsAggAddCol(&s->res.aAcc[i], &c, s->aTime, i0, i1);
  }
  return SQLITE_OK;
}

/* Lastpoint: has every used <m>_last got a value (and last_time, which
** the first row gives)? */
static int lastComplete(AggCursor *p, AggStream *s){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  int i;
  for(i=0; i<v->nAgg; i++){
    if( p->aUsed[i] && s->res.aAcc[i].nValue==0 ) return 0;
  }
  return s->res.bHave;
}

/* Scan mode: prepare the series' query on the table itself (which merges
** every tier by the source.h rules) and its block buffers. */
static int scanBegin(AggCursor *p, AggStream *s){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  const TsTableSchema *pS = tsTableSchema(p->pTab);
  sqlite3 *db = tsTableDbHandle(p->pTab);
  sqlite3_str *q = sqlite3_str_new(db);
  char *zSql;
  size_t nCol = sizeof(TsChunkCol)*(size_t)v->nAgg;
  size_t nVal = (sizeof(int64_t) + 1)*AGG_SCAN_ROWS;
  unsigned char *pMem;
  int rc, i, iBind = 1;
  pMem = sqlite3_malloc64(sizeof(int64_t)*AGG_SCAN_ROWS + nCol + nVal*(size_t)v->nAgg + 8);
  if( pMem==0 ){ sqlite3_free(sqlite3_str_finish(q)); return SQLITE_NOMEM; }
  s->aScanTime = (int64_t*)pMem;
  s->aScanCol = (TsChunkCol*)(pMem + sizeof(int64_t)*AGG_SCAN_ROWS);
  memset(s->aScanCol, 0, nCol);
  for(i=0; i<v->nAgg; i++){
    unsigned char *a = pMem + sizeof(int64_t)*AGG_SCAN_ROWS + nCol + nVal*(size_t)i;
    s->aScanCol[i].eType = v->aMeasType[v->aAggCol[i]];
    s->aScanCol[i].aDouble = (const double*)a;
    s->aScanCol[i].aInt = (const int64_t*)a;
    s->aScanCol[i].aNull = a + sizeof(int64_t)*AGG_SCAN_ROWS;
  }
  sqlite3_str_appendall(q, "SELECT time");
  for(i=0; i<v->nAgg; i++){
    if( p->aUsed[i] ) sqlite3_str_appendf(q, ", \"%w\"", pS->azMeas[v->aAggCol[i]]);
    else sqlite3_str_appendall(q, ", NULL");
  }
  sqlite3_str_appendf(q, " FROM \"%w\".\"%w\" WHERE measure_name = ?", tsTableDb(p->pTab),
                      tsTableName(p->pTab));
  for(i=0; i<pS->nDim; i++){
    if( s->pSer->azDim[i] ) sqlite3_str_appendf(q, " AND \"%w\" = ?", pS->azDim[i]);
    else sqlite3_str_appendf(q, " AND \"%w\" IS NULL", pS->azDim[i]);
  }
  sqlite3_str_appendf(q, " AND time >= ? AND time <= ? ORDER BY time%s", p->bDesc ? " DESC" : "");
  zSql = sqlite3_str_finish(q);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, zSql, -1, &s->pScan, 0);
  sqlite3_free(zSql);
  if( rc ){
    tsVtabErr(p->base.pVtab, "%s: %s", v->zName, sqlite3_errmsg(db));
    return rc;
  }
  sqlite3_bind_text(s->pScan, iBind++, s->pSer->zMName, s->pSer->nMName, SQLITE_STATIC);
  for(i=0; i<pS->nDim; i++){
    if( s->pSer->azDim[i] ){
      sqlite3_bind_text(s->pScan, iBind++, s->pSer->azDim[i], s->pSer->anDim[i], SQLITE_STATIC);
    }
  }
  sqlite3_bind_int64(s->pScan, iBind++, p->tLo);
  sqlite3_bind_int64(s->pScan, iBind++, p->tHi);
  return SQLITE_OK;
}

/* Scan mode: read the next block of up to AGG_SCAN_ROWS rows into the
** stream's buffers (ascending, whatever the scan order) and enter row mode
** on it; *pbEnd when the series has no more rows. */
static int scanBlock(AggCursor *p, AggStream *s, int *pbEnd){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  int n = 0, rc = SQLITE_OK, i;
  *pbEnd = 0;
  if( s->pScan==0 && !s->bScanEof ){
    rc = scanBegin(p, s);
    if( rc ) return rc;
  }
  while( !s->bScanEof && n<AGG_SCAN_ROWS ){
    rc = sqlite3_step(s->pScan);
    if( rc==SQLITE_ROW ){
      s->aScanTime[n] = sqlite3_column_int64(s->pScan, 0);
      for(i=0; i<v->nAgg; i++){
        TsChunkCol *c = &s->aScanCol[i];
        int bNull = !p->aUsed[i] || sqlite3_column_type(s->pScan, 1+i)==SQLITE_NULL;
        ((uint8_t*)c->aNull)[n] = (uint8_t)bNull;
        if( bNull ) ((int64_t*)c->aInt)[n] = 0;
        else if( c->eType==TS_TYPE_DOUBLE ) ((double*)c->aDouble)[n] = sqlite3_column_double(s->pScan, 1+i);
        else ((int64_t*)c->aInt)[n] = sqlite3_column_int64(s->pScan, 1+i);
      }
      n++;
      rc = SQLITE_OK;
    }else if( rc==SQLITE_DONE ){
      s->bScanEof = 1;
      rc = SQLITE_OK;
    }else{
      tsVtabErr(p->base.pVtab, "%s: %s", v->zName, sqlite3_errmsg(tsTableDbHandle(p->pTab)));
      return rc;
    }
  }
  if( s->bScanEof && s->pScan ){
    sqlite3_finalize(s->pScan);
    s->pScan = 0;
  }
  if( n==0 ){ *pbEnd = 1; return SQLITE_OK; }
  if( p->bDesc ){
    /* The runs are found by binary search over ascending times. */
    int a, b;
    for(a=0, b=n-1; a<b; a++, b--){
      int64_t t = s->aScanTime[a]; s->aScanTime[a] = s->aScanTime[b]; s->aScanTime[b] = t;
      for(i=0; i<v->nAgg; i++){
        TsChunkCol *c = &s->aScanCol[i];
        int64_t *ai = (int64_t*)c->aInt, x = ai[a];
        uint8_t *an = (uint8_t*)c->aNull, y = an[a];
        ai[a] = ai[b]; ai[b] = x;
        an[a] = an[b]; an[b] = y;
      }
    }
  }
  s->aTime = s->aScanTime;
  s->iBeg = 0;
  s->iEnd = n;
  s->iRow = p->bDesc ? n-1 : 0;
  s->bRowMode = 1;
  return SQLITE_OK;
}

static int64_t bucketOf(AggCursor *p, int64_t t){
  return p->iWidth ? tsAggBucket(t, p->iWidth) : 0;
}

/* Compute the stream's next result into s->res; s->bDone when none. */
static int streamNext(AggCursor *p, AggStream *s){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  int rc = SQLITE_OK, i;
  s->res.bHave = 0;
  s->res.nRow = 0;
  s->res.tFirst = s->res.tLast = 0;
  for(i=0; i<v->nAgg; i++) tsAggReset(&s->res.aAcc[i]);
  if( s->bStop ){ s->bDone = 1; return SQLITE_OK; }
  for(;;){
    if( s->bRowMode ){
      int64_t t, b;
      int j;
      if( (p->bDesc && s->iRow<s->iBeg) || (!p->bDesc && s->iRow>=s->iEnd) ){
        streamRowModeEnd(s);
        s->iRef++;
        continue;
      }
      t = s->aTime[s->iRow];
      b = bucketOf(p, t);
      if( s->res.bHave && b!=s->res.iBucket ) return SQLITE_OK;
      if( !s->res.bHave ) s->res.iBucket = b;
      if( !p->bDesc ){
        j = p->iWidth ? tsAggLowerBound(s->aTime, s->iRow, s->iEnd, tsAggBucketEnd(b, p->iWidth)) : s->iEnd;
        if( j<=s->iRow ) j = s->iRow+1;   /* a bucket end clamped at INT64_MAX */
        rc = addRun(p, s, s->iRow, j);
        s->iRow = j;
      }else{
        j = p->iWidth ? tsAggLowerBound(s->aTime, s->iBeg, s->iRow+1, b) : s->iBeg;
        rc = addRun(p, s, j, s->iRow+1);
        s->iRow = j-1;
      }
      s->res.bHave = 1;
      if( rc ) return rc;
      if( p->bLastOnly && lastComplete(p, s) ){
        s->bStop = 1;
        return SQLITE_OK;
      }
      continue;
    }
    if( p->bScan ){
      int bEnd = 0;
      rc = scanBlock(p, s, &bEnd);
      if( rc ) return rc;
      if( bEnd ){
        if( !s->res.bHave ) s->bDone = 1;
        s->bStop = 1;
        return SQLITE_OK;
      }
      continue;
    }
    if( s->iRef>=s->nRef ){
      if( s->bRefEof ){
        if( !s->res.bHave ) s->bDone = 1;
        s->bStop = 1;
        return SQLITE_OK;
      }
      rc = streamFetch(p, s);
      if( rc ) return rc;
      continue;
    }
    {
      AggRef *r = &s->aRef[s->iRef];
      int bEmpty = 0;
      if( r->tMin>=p->tLo && r->tMax<=p->tHi && bucketOf(p, r->tMin)==bucketOf(p, r->tMax) ){
        /* Inside the range and one bucket: the header may answer (first
        ** and last only from format-v2 headers; see addWholeChunk). */
        int64_t b = bucketOf(p, r->tMin);
        int bDone = 0;
        if( s->res.bHave && b!=s->res.iBucket ) return SQLITE_OK;
        rc = addWholeChunk(p, s, r, &bDone);
        if( rc ) return rc;
        if( bDone ){
          s->res.iBucket = b;
          s->res.bHave = 1;
          s->iRef++;
          if( p->bLastOnly && lastComplete(p, s) ){
            s->bStop = 1;
            return SQLITE_OK;
          }
          continue;
        }
      }
      rc = rowModeBegin(p, s, r, &bEmpty);
      if( rc ) return rc;
      if( bEmpty ){
        streamRowModeEnd(s);
        s->iRef++;
      }
    }
  }
}

/*************************************************************************
** Filter, iteration, columns.
*/

/* Select the series matching the constraints into p->aSeries. */
static int loadSeries(AggCursor *p){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  sqlite3 *db = tsTableDbHandle(p->pTab);
  sqlite3_str *s = sqlite3_str_new(db);
  sqlite3_stmt *q = 0;
  char *zSql;
  int rc, i, nAlloc = 0;
  sqlite3_str_appendall(s, "SELECT id, measure_name");
  for(i=0; i<v->nDim; i++) sqlite3_str_appendf(s, ", d%d", i);
  /* Series without memory-tier rows (NULL tmin) may have rows in another
  ** tier: in scan mode every series is a candidate. */
  sqlite3_str_appendf(s, " FROM \"%w\".\"%w_series\" WHERE %s ORDER BY id",
                      tsTableDb(p->pTab), tsTableName(p->pTab),
                      p->bScan ? "?1 <= ?2" : "tmax >= ?1 AND tmin <= ?2");
  zSql = sqlite3_str_finish(s);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, zSql, -1, &q, 0);
  sqlite3_free(zSql);
  if( rc ){
    tsVtabErr(p->base.pVtab, "%s: %s", v->zName, sqlite3_errmsg(db));
    return rc;
  }
  sqlite3_bind_int64(q, 1, p->tLo);
  sqlite3_bind_int64(q, 2, p->tHi);
  while( (rc = sqlite3_step(q))==SQLITE_ROW ){
    int bOk = 1, k;
    size_t nMem;
    char *z;
    AggSeries *pS;
    for(k=0; k<p->nSet && bOk; k++){
      int iC = p->aSet[k].iDim<0 ? 1 : 2 + p->aSet[k].iDim;
      bOk = setHas(&p->aSet[k], (const char*)sqlite3_column_text(q, iC), sqlite3_column_bytes(q, iC));
    }
    if( !bOk ) continue;
    if( p->nSeries==nAlloc ){
      AggSeries *aNew;
      nAlloc = nAlloc ? nAlloc*2 : 16;
      aNew = sqlite3_realloc64(p->aSeries, sizeof(AggSeries)*(size_t)nAlloc);
      if( aNew==0 ){ rc = SQLITE_NOMEM; break; }
      p->aSeries = aNew;
    }
    pS = &p->aSeries[p->nSeries];
    memset(pS, 0, sizeof(*pS));
    nMem = (sizeof(char*)+sizeof(int))*(size_t)(v->nDim+1) + (size_t)sqlite3_column_bytes(q, 1) + 1;
    for(k=0; k<v->nDim; k++) nMem += (size_t)sqlite3_column_bytes(q, 2+k) + 1;
    pS->pMem = sqlite3_malloc64(nMem);
    if( pS->pMem==0 ){ rc = SQLITE_NOMEM; break; }
    p->nSeries++;
    pS->id = sqlite3_column_int64(q, 0);
    pS->azDim = (char**)pS->pMem;
    pS->anDim = (int*)&pS->azDim[v->nDim+1];
    z = (char*)&pS->anDim[v->nDim+1];
    for(k=0; k<v->nDim; k++){
      const char *zV = (const char*)sqlite3_column_text(q, 2+k);
      int nV = sqlite3_column_bytes(q, 2+k);
      if( zV==0 ){ pS->azDim[k] = 0; pS->anDim[k] = 0; continue; }
      memcpy(z, zV, (size_t)nV);
      z[nV] = 0;
      pS->azDim[k] = z;
      pS->anDim[k] = nV;
      z += nV+1;
    }
    {
      const char *zV = (const char*)sqlite3_column_text(q, 1);
      int nV = sqlite3_column_bytes(q, 1);
      memcpy(z, zV ? zV : "", (size_t)nV);
      z[nV] = 0;
      pS->zMName = z;
      pS->nMName = nV;
    }
  }
  if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  else if( rc!=SQLITE_NOMEM ) tsVtabErr(p->base.pVtab, "%s: %s", v->zName, sqlite3_errmsg(db));
  sqlite3_finalize(q);
  return rc;
}

static int prepareStmts(AggCursor *p){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  sqlite3 *db = tsTableDbHandle(p->pTab);
  const char *zDb = tsTableDb(p->pTab), *zTab = tsTableName(p->pTab);
  /* References in time order from a keyset bound ?2 (ascending: tmin >= ?2,
  ** descending: tmin <= ?2); the time range's far end bounds the range
  ** scan of the covering index, its near end is checked in C (the chunks of
  ** a series are disjoint, so the first chunk wholly before the range ends a
  ** descending walk). */
  char *z1 = sqlite3_mprintf(
      "SELECT id, tmin, tmax FROM \"%w\".\"%w_chunks\" WHERE sid = ?1 AND tmin >= ?2 AND tmin <= ?3"
      " ORDER BY tmin LIMIT ?4", zDb, zTab);
  char *z2 = sqlite3_mprintf(
      "SELECT id, tmin, tmax FROM \"%w\".\"%w_chunks\" WHERE sid = ?1 AND tmin <= ?2"
      " ORDER BY tmin DESC LIMIT ?4", zDb, zTab);
  char *z3 = sqlite3_mprintf("SELECT data FROM \"%w\".\"%w_chunks\" WHERE id = ?1", zDb, zTab);
  char *z4 = sqlite3_mprintf("SELECT max(tmin) FROM \"%w\".\"%w_chunks\" WHERE sid = ?1 AND tmin <= ?2",
                             zDb, zTab);
  int rc = SQLITE_NOMEM;
  if( z1 && z2 && z3 && z4 ){
    rc = sqlite3_prepare_v2(db, z1, -1, &p->pRefStmt, 0);
    if( rc==SQLITE_OK ) rc = sqlite3_prepare_v2(db, z2, -1, &p->pRefDesc, 0);
    if( rc==SQLITE_OK ) rc = sqlite3_prepare_v2(db, z3, -1, &p->pBlob, 0);
    if( rc==SQLITE_OK ) rc = sqlite3_prepare_v2(db, z4, -1, &p->pStart, 0);
    if( rc ) tsVtabErr(p->base.pVtab, "%s: %s", v->zName, sqlite3_errmsg(db));
  }
  sqlite3_free(z1);
  sqlite3_free(z2);
  sqlite3_free(z3);
  sqlite3_free(z4);
  return rc;
}

/* Make the cursor's current row the next one: iCur = the stream holding
** it, or -1 at the end. */
static int advanceCurrent(AggCursor *p, int bFirst){
  int rc = SQLITE_OK;
  if( p->bHeap ){
    if( !bFirst && p->nHeap>0 ){
      AggStream *s = &p->aStream[p->aHeap[0]];
      rc = streamNext(p, s);
      if( rc ) return rc;
      if( s->bDone ) p->aHeap[0] = p->aHeap[--p->nHeap];
      if( p->nHeap>0 ) heapDown(p, 0);
    }
    p->iCur = p->nHeap>0 ? p->aHeap[0] : -1;
    return SQLITE_OK;
  }
  /* Serial: the heap's top stream until it is done, then the next (the
  ** heap is keyed on series attributes only, so its order is fixed). */
  if( !bFirst && p->iCur>=0 ){
    AggStream *s = &p->aStream[p->iCur];
    rc = streamNext(p, s);
    if( rc ) return rc;
    if( !s->bDone ) return SQLITE_OK;
  }
  p->iCur = -1;
  while( p->nHeap>0 ){
    AggStream *s = &p->aStream[p->aHeap[0]];
    if( !s->bStarted ){
      s->bStarted = 1;
      rc = streamNext(p, s);
      if( rc ) return rc;
    }
    if( !s->bDone ){ p->iCur = p->aHeap[0]; break; }
    streamRowModeEnd(s);
    sqlite3_free(s->aRef);
    s->aRef = 0;
    p->aHeap[0] = p->aHeap[--p->nHeap];
    if( p->nHeap>0 ) heapDown(p, 0);
  }
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
      aggTimeBound(p, z[1], argv[iArg++]);
      z += 2;
    }else if( z[0]=='D' || z[0]=='M' ){
      AggValSet *aNew, *pSet;
      sqlite3_value *a = argv[iArg++];
      int iDim = -1;
      if( z[0]=='D' ){
        char *zEnd;
        iDim = (int)strtol(z+1, &zEnd, 10);
        z = zEnd;
      }else{
        z++;
      }
      aNew = sqlite3_realloc64(p->aSet, sizeof(AggValSet)*(size_t)(p->nSet+1));
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
          rc = setAdd(pSet, pVal);
        }
        if( rc==SQLITE_OK && rc2!=SQLITE_OK && rc2!=SQLITE_DONE ) rc = rc2;
        z++;
      }else{
        rc = setAdd(pSet, a);
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
  /* Another tier (a row source other than the memory tier, source.h) with
  ** rows in the range: its blocks may overlap the chunks and win by version,
  ** so read through the table's own scan, which applies source.h's merge
  ** rules (correct, not fast; see the header).  Otherwise the chunks are the
  ** whole answer. */
  {
    TsScanSpec spec;
    spec.tLo = p->tLo;
    spec.tHi = p->tHi;
    spec.bDesc = p->bDesc;
    for(i=0; rc==SQLITE_OK && i<tsSourceCount && !p->bScan; i++){
      TsSource *pSrc = 0;
      if( tsSourceAll[i]==&tsSourceMemory ) continue;
      rc = tsSourceAll[i]->xOpen(p->pTab, &spec, &pSrc);
      if( rc ){
        tsVtabErr(pCur->pVtab, "%s: cannot open the %s row source of %s: %s", v->zName,
                  tsSourceAll[i]->zName, v->zUTab, sqlite3_errstr(rc));
        return rc;
      }
      if( pSrc ){
        pSrc->pM = tsSourceAll[i];
        pSrc->pTab = p->pTab;
        tsSourceAll[i]->xClose(pSrc);
        p->bScan = 1;
      }
    }
  }
  rc = prepareStmts(p);
  if( rc==SQLITE_OK ) rc = loadSeries(p);
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
    s->res.aAcc = sqlite3_malloc64(sizeof(TsAggAcc)*(size_t)(v->nAgg+1));
    if( s->res.aAcc==0 ){ p->nStream = i; return SQLITE_NOMEM; }
    p->aHeap[i] = i;
  }
  p->nStream = p->nSeries;
  p->nHeap = p->nSeries;
  p->iSerial = 0;
  if( p->bHeap ){
    /* Prime every stream, drop the empty ones, heapify. */
    int n = 0;
    for(i=0; i<p->nStream; i++){
      rc = streamNext(p, &p->aStream[i]);
      if( rc ) return rc;
      if( !p->aStream[i].bDone ) p->aHeap[n++] = i;
    }
    p->nHeap = n;
    for(i=n/2-1; i>=0; i--) heapDown(p, i);
    rc = advanceCurrent(p, 1);
  }else{
    /* Serial: a heap on the ORDER BY terms, all constant per series. */
    for(i=p->nHeap/2-1; i>=0; i--) heapDown(p, i);
    rc = advanceCurrent(p, 1);
  }
  return rc;
}

static int aggNext(sqlite3_vtab_cursor *pCur){
  AggCursor *p = (AggCursor*)pCur;
  p->iRowid++;
  return advanceCurrent(p, 0);
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
