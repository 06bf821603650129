/*
** batch_load.c: Timestream's batch load for tslite (reference section 4):
** ts_batch_load(config_json), ts_batch_load_resume(task_id) and the task
** tables.
**
**   SELECT ts_batch_load('{"TargetTableName":"cpu","DataSource":"s3://b/in/",
**       "DataModel":{...},"ReportLocation":"s3://b/reports/"}');
**   -> {"TaskId":"9367BE28...","TaskStatus":"SUCCEEDED","ProgressReport":{
**       "RecordsProcessed":3,"RecordsIngested":3,"ParseFailures":0,
**       "RecordIngestionFailures":0,"FileFailures":0,"BytesMetered":119}}
**
** How it works
** ------------
** The configuration is parsed and checked by batch_model.c.  The target
** table is opened with tsTableOpen and the mapping checked against its
** schema, or the table is created from the data model.  The source (one
** object, or every .csv / .csv.gz object under a prefix, in key order) is
** listed once; the list is stored in the task row so a resume reads the same
** files.  Each file is streamed with ranged GETs of BL_READ bytes (gzip is
** inflated on the fly with zlib), through the push CSV reader (csv_read.h),
** so memory stays bounded by one read, one inflate window and one record.
**
** Rows are written with one prepared INSERT on the table (the vtab applies
** every write rule) in batches of BatchRows CSV records, one transaction
** each.  A record the table rejects fails only its own INSERT (ABORT undoes
** the statement, the transaction goes on) and is reported; a row that yields
** several records (MixedMeasureMappings) runs inside a savepoint so it is
** loaded whole or not at all.  In the same transaction as the rows, the
** batch writes its error rows and advances the task row: counters and the
** resume point (file index, byte offset and line of the next record).
** The UPDATE only matches the resume point this run read last, so two runs
** of one task cannot both commit a batch: the second finds the row moved and
** stops.  A crash or sqlite3_interrupt loses at most the open batch, which
** rolls back together with its progress, so ts_batch_load_resume restarts
** exactly after the last committed record: no row loaded twice or skipped.
**
** Counting (per CSV record, header excluded):
**   RecordsProcessed = RecordsIngested + ParseFailures + RecordIngestionFailures
** BytesMetered: CSV bytes consumed (after gunzip), header included.
** A file that cannot be used at all (empty, bad header, a mapped column
** missing, unreadable) counts one FileFailure and the task goes on.
** TaskStatus: SUCCEEDED without any failure, else FAILED (reference 4.1).
**
** Files: batch_load.c (this file: the CSV-to-rows pipeline, running a task
** and the SQL functions), batch_source.c (listing the source and streaming
** its objects), batch_task.c (the task tables, batches and their progress,
** the error report); batch_model.c parses the configuration.  Their shared
** internals are the last section of batch_load.h.
*/
#include "batch_load.h"
#include "bl_value.h"
#include "chunk.h"
#include "jsonw.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/**************************************************************************
** Small helpers.
*/

/* Fatal INSERT results (stop the task) versus record rejections. */
static int rcIsRejection(int rc){
  rc &= 0xff;
  return rc==SQLITE_CONSTRAINT || rc==SQLITE_ERROR || rc==SQLITE_MISMATCH
      || rc==SQLITE_TOOBIG || rc==SQLITE_RANGE;
}

static void newTaskId(char *z){
  static const char az[] = "0123456789ABCDEF";
  unsigned char a[16];
  int i;
  sqlite3_randomness(sizeof(a), a);
  for(i=0; i<16; i++){ z[2*i] = az[a[i]>>4]; z[2*i+1] = az[a[i]&15]; }
  z[32] = 0;
}

/**************************************************************************
** Rows.
*/

/* A parsed measure value. */
typedef struct BlVal BlVal;
struct BlVal {
  int eKind;            /* SQLITE_NULL, SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT */
  int64_t i;
  double r;
  const char *z; int n; /* TEXT: points into the reader */
};

/* Field i of the current record; *pbNull for NULL (NullValue or an empty
** unquoted field). */
static inline const char *field(const TsCsvReader *pR, int i, size_t *pn, int *pbNull){
  int f = 0;
  const char *z = tsCsvField(pR, i, pn, &f);
  *pbNull = (f & TS_CSV_NULL) || (*pn==0 && !(f & TS_CSV_QUOTED));
  return z;
}

static int parseValue(const TsBlModel *m, const TsCsvReader *pR, int iIdx, const TsBlCol *c,
                      BlVal *v, char *zWhy, size_t nWhy){
  size_t n;
  int bNull, b;
  const char *z = field(pR, iIdx, &n, &bNull);
  char zTmp[160];
  v->eKind = SQLITE_NULL;
  if( bNull ) return 0;
  if( n==0 && c->eType!=TS_TYPE_VARCHAR ) return 0;   /* "" is no value */
  zTmp[0] = 0;
  switch( c->eType ){
    case TS_TYPE_DOUBLE:
      if( tsBlParseDouble(z, n, &v->r, zTmp, sizeof(zTmp)) ) break;
      v->eKind = SQLITE_FLOAT; return 0;
    case TS_TYPE_BIGINT:
      if( tsBlParseBigint(z, n, &v->i, zTmp, sizeof(zTmp)) ) break;
      v->eKind = SQLITE_INTEGER; return 0;
    case TS_TYPE_BOOLEAN:
      if( tsBlParseBool(z, n, &b, zTmp, sizeof(zTmp)) ) break;
      v->i = b; v->eKind = SQLITE_INTEGER; return 0;
    case TS_TYPE_TIMESTAMP:
      if( tsBlParseTimestamp(z, n, m->iUnit, &v->i, zTmp, sizeof(zTmp)) ) break;
      v->eKind = SQLITE_INTEGER; return 0;
    default:
      if( !tsCsvRecordAscii(pR) && !tsCsvUtf8Ok(z, n) ){
        snprintf(zTmp, sizeof(zTmp), "value is not valid UTF-8");
        break;
      }
      v->z = z; v->n = (int)n; v->eKind = SQLITE_TEXT; return 0;
  }
  snprintf(zWhy, nWhy, "column '%s' (%s): %s", c->zSrc, tsChunkTypeName(c->eType), zTmp);
  return 1;
}

/*
** The report reason of a rejected INSERT: the table's message without the
** per-record parts (the record's time, its key), so that rejections for the
** same cause share one entry of the report with merged line ranges:
**   "timeseries t: time 2024-...Z is outside the write window [a, b] (...)"
**     -> "timeseries t: record timestamp is outside the write window [a, b] (...)"
**   "timeseries t: record (host='a', ...) already exists with ..."
**     -> "timeseries t: record already exists with ..."
** sqlite3_malloc'd; NULL on OOM.
*/
static char *reasonOf(const char *zMsg){
  const char *zWin = strstr(zMsg, " is outside the write window ");
  const char *zRec = strstr(zMsg, ": record (");
  if( zWin ){
    const char *zTime = strstr(zMsg, ": time ");
    if( zTime && zTime<zWin ){
      return sqlite3_mprintf("%.*s: record timestamp%s", (int)(zTime-zMsg), zMsg, zWin);
    }
  }
  if( zRec ){
    const char *zEx = 0, *z = zRec;
    while( (z = strstr(z+1, ") already exists with "))!=0 ) zEx = z;
    if( zEx ) return sqlite3_mprintf("%.*s: record%s", (int)(zRec-zMsg), zMsg, zEx+1);
  }
  return sqlite3_mprintf("%s", zMsg);
}

/*
** Write the one record of a CSV row (the record whose values are not all
** NULL) with tsWriteBatch; its dimension values are in r->azDimV/anDimV
** (doRow).  A rejection sets *pzReject (the report reason) and returns
** SQLITE_OK; any other failure is fatal.
*/
static int writeDirect(BlRun *r, const char *zMName, size_t nMName,
                       int64_t iTime, const BlVal *aVal, char **pzReject){
  const TsBlModel *m = &r->pCfg->model;
  const TsTableSchema *s = tsTableSchema(r->pTab);
  TsWriteRec rec;
  char *zErr = 0;
  int i, j, k, nDone = 0, rc;
  for(i=0; i<s->nMeas; i++) r->aMeasV[i].eType = SQLITE_NULL;
  memset(&rec, 0, sizeof(rec));
  for(i=0, k=0; i<m->nRec; i++){
    const TsBlRec *pRec = &m->aRec[i];
    int bAny = 0;
    for(j=0; j<pRec->nAttr; j++) if( aVal[k+j].eKind!=SQLITE_NULL ) bAny = 1;
    if( !bAny ){ k += pRec->nAttr; continue; }
    for(j=0; j<pRec->nAttr; j++, k++){
      TsWriteVal *v = &r->aMeasV[r->aMeasMap[pRec->aAttr[j].iParam]];
      v->eType = aVal[k].eKind;
      v->i = aVal[k].i;
      v->r = aVal[k].r;
      v->z = aVal[k].z;
      v->n = aVal[k].n;
    }
    if( pRec->zMeasureName ){
      rec.zMName = pRec->zMeasureName;
      rec.nMName = (int)strlen(pRec->zMeasureName);
    }else{
      rec.zMName = zMName;
      rec.nMName = (int)nMName;
    }
    break;
  }
  rec.t = iTime;
  rec.iVersion = r->pCfg->iVersion;
  rec.azDim = r->azDimV;
  rec.anDim = r->anDimV;
  rec.aMeas = r->aMeasV;
  rc = tsWriteBatch(r->pTab, 1, &rec, &nDone, &zErr);
  if( rc && rcIsRejection(rc) ){
    *pzReject = reasonOf(zErr ? zErr : sqlite3_errstr(rc));
    rc = *pzReject ? SQLITE_OK : SQLITE_NOMEM;
  }else if( rc ){
    tsErrSet(&r->zErr, "ts_batch_load: %s", zErr ? zErr : sqlite3_errstr(rc));
  }
  sqlite3_free(zErr);
  return rc;
}

/*
** One CSV record: parse, then INSERT its records.  Returns SQLITE_OK when the
** record was counted (ingested, or a failure recorded), else a fatal rc.
*/
static int doRow(BlRun *r, TsCsvReader *pR, int iFile, int eCsv, BlVal *aVal){
  const TsBlModel *m = &r->pCfg->model;
  char zWhy[600];
  int64_t iTime = 0;
  const char *zMName = 0;
  size_t nMName = 0;
  int i, j, k, nRec = 0, rc = SQLITE_OK, bFail = 0;
  const char *zKind = "parse";
  char *zReject = 0;
  int bAscii = tsCsvRecordAscii(pR);   /* every field is valid UTF-8 */

  zWhy[0] = 0;
  r->nProcessed++;
  if( eCsv==TS_CSV_BAD ){
    snprintf(zWhy, sizeof(zWhy), "%s", pR->zReason ? pR->zReason : "malformed record");
    bFail = 1;
  }else if( tsCsvFieldCount(pR)!=r->nHeader ){
    snprintf(zWhy, sizeof(zWhy), "record has %d fields, the header has %d",
             tsCsvFieldCount(pR), r->nHeader);
    bFail = 1;
  }
  if( !bFail ){
    size_t n; int bNull;
    const char *z = field(pR, r->iTimeIdx, &n, &bNull);
    char zTmp[200];
    if( bNull || n==0 ){
      snprintf(zWhy, sizeof(zWhy), "time column '%s' is empty", m->zTimeCol);
      bFail = 1;
    }else if( tsBlParseTime(z, n, m->iUnit, &iTime, zTmp, sizeof(zTmp)) ){
      snprintf(zWhy, sizeof(zWhy), "time column '%s': %s", m->zTimeCol, zTmp);
      bFail = 1;
    }
  }
  /* the dimension values, checked, straight into the record writeDirect
  ** writes (table dimensions the model does not map stay NULL) */
  if( !bFail ){
    const TsTableSchema *s = tsTableSchema(r->pTab);
    for(i=0; i<s->nDim; i++){ r->azDimV[i] = 0; r->anDimV[i] = 0; }
  }
  for(i=0; !bFail && i<m->nDim; i++){
    size_t n; int bNull;
    const char *z = field(pR, r->aDimIdx[i], &n, &bNull);
    if( bNull ) continue;
    if( !bAscii && !tsCsvUtf8Ok(z, n) ){
      snprintf(zWhy, sizeof(zWhy), "dimension column '%s': value is not valid UTF-8", m->aDim[i].zSrc);
      bFail = 1;
    }
    r->azDimV[r->aDimMap[i]] = z;
    r->anDimV[r->aDimMap[i]] = (int)n;
  }
  if( !bFail && m->zMNameCol ){
    int bNull;
    zMName = field(pR, r->iMNameIdx, &nMName, &bNull);
    if( bNull || nMName==0 ){
      snprintf(zWhy, sizeof(zWhy), "measure name column '%s' is empty", m->zMNameCol);
      bFail = 1;
    }else if( !bAscii && !tsCsvUtf8Ok(zMName, nMName) ){
      snprintf(zWhy, sizeof(zWhy), "measure name column '%s': value is not valid UTF-8", m->zMNameCol);
      bFail = 1;
    }
  }
  /* parse every record's values before writing any */
  for(i=0, k=0; !bFail && i<m->nRec; i++){
    const TsBlRec *pRec = &m->aRec[i];
    int bAny = 0, bMatch = 1;
    if( pRec->zMatch && (strlen(pRec->zMatch)!=nMName || memcmp(pRec->zMatch, zMName, nMName)) ){
      bMatch = 0;
    }
    for(j=0; j<pRec->nAttr; j++, k++){
      aVal[k].eKind = SQLITE_NULL;
      if( !bMatch ) continue;
      if( parseValue(m, pR, r->aaAttrIdx[i][j], &pRec->aAttr[j], &aVal[k], zWhy, sizeof(zWhy)) ){
        bFail = 1;
        break;
      }
      if( aVal[k].eKind!=SQLITE_NULL ) bAny = 1;
    }
    if( bAny ) nRec++;
  }
  if( !bFail && nRec==0 ){
    if( m->bMixed && m->zMNameCol ){
      char zS[64];
      tsBlQuoteSample(zMName, nMName, zS, sizeof(zS));
      snprintf(zWhy, sizeof(zWhy), "no measure values for measure name '%s' (no mapping applies"
               " or every mapped measure is empty)", zS);
    }else{
      snprintf(zWhy, sizeof(zWhy), "no measure values (every mapped measure is empty or NULL)");
    }
    bFail = 1;
  }

  if( !bFail && nRec==1 ){
    /* one record: straight into the table's handle */
    rc = writeDirect(r, zMName, nMName, iTime, aVal, &zReject);
    if( rc ) return rc;
    if( zReject ){ bFail = 1; zKind = "ingest"; }
  }else if( !bFail ){
    /* several records, loaded whole or not at all: INSERTs in a savepoint,
    ** after the rows written through the handle are in the shadow tables */
    int bSave = nRec>1;
    rc = tsBlFlushTable(r);
    if( bSave && rc==SQLITE_OK ) rc = tsBlExec(r->db, "SAVEPOINT bl_row");
    for(i=0, k=0; rc==SQLITE_OK && !bFail && i<m->nRec; i++){
      const TsBlRec *pRec = &m->aRec[i];
      int bAny = 0;
      for(j=0; j<pRec->nAttr; j++) if( aVal[k+j].eKind!=SQLITE_NULL ) bAny = 1;
      if( !bAny ){ k += pRec->nAttr; continue; }
      sqlite3_bind_int64(r->pIns, 1, iTime);
      if( pRec->zMeasureName ) sqlite3_bind_text(r->pIns, 2, pRec->zMeasureName, -1, SQLITE_STATIC);
      else sqlite3_bind_text(r->pIns, 2, zMName, (int)nMName, SQLITE_STATIC);
      sqlite3_bind_int64(r->pIns, 3, r->pCfg->iVersion);
      for(j=0; j<m->nDim; j++){
        size_t n; int bNull;
        const char *z = field(pR, r->aDimIdx[j], &n, &bNull);
        if( bNull ) sqlite3_bind_null(r->pIns, 4+j);
        else sqlite3_bind_text(r->pIns, 4+j, z, (int)n, SQLITE_STATIC);
      }
      for(j=0; j<m->nMeas; j++) sqlite3_bind_null(r->pIns, r->nParamMeas0+j);
      for(j=0; j<pRec->nAttr; j++, k++){
        int iP = r->nParamMeas0 + pRec->aAttr[j].iParam;
        switch( aVal[k].eKind ){
          case SQLITE_INTEGER: sqlite3_bind_int64(r->pIns, iP, aVal[k].i); break;
          case SQLITE_FLOAT: sqlite3_bind_double(r->pIns, iP, aVal[k].r); break;
          case SQLITE_TEXT: sqlite3_bind_text(r->pIns, iP, aVal[k].z, aVal[k].n, SQLITE_STATIC); break;
          default: break;
        }
      }
      rc = sqlite3_step(r->pIns);
      if( rc==SQLITE_DONE ){
        rc = SQLITE_OK;
      }else{
        int rc2 = sqlite3_reset(r->pIns);
        (void)rc2;
        if( rcIsRejection(rc) ){
          zReject = reasonOf(sqlite3_errmsg(r->db));
          if( zReject==0 ){ sqlite3_reset(r->pIns); rc = SQLITE_NOMEM; break; }
          bFail = 1; zKind = "ingest";
          rc = SQLITE_OK;
        }
      }
      sqlite3_reset(r->pIns);
    }
    if( bSave && rc==SQLITE_OK ){
      if( bFail ) rc = tsBlExec(r->db, "ROLLBACK TO bl_row");
      if( rc==SQLITE_OK ) rc = tsBlExec(r->db, "RELEASE bl_row");
    }
    if( rc ){ sqlite3_free(zReject); return rc; }
  }
  if( bFail ){
    rc = tsBlAddError(r, iFile, pR->iFirstLine, pR->iLastLine, zKind, zReject ? zReject : zWhy);
    if( zKind[0]=='p' ) r->nParse++; else r->nIngestFail++;
  }else{
    r->nIngested++;
  }
  sqlite3_free(zReject);
  return rc;
}

/* Prepare the INSERT on the table:
**   INSERT INTO "db"."t"(time, measure_name, version, <dims>, <measures>) VALUES(?, ...) */
static int prepareInsert(BlRun *r){
  const TsBlModel *m = &r->pCfg->model;
  TsBuf b;
  int i, rc;
  char *z;
  tsBufInit(&b);
  z = sqlite3_mprintf("INSERT INTO \"%w\".\"%w\"(time, measure_name, version",
                      r->pCfg->zDb, r->pCfg->zTable);
  if( z ){ tsBufAppendStr(&b, z); sqlite3_free(z); } else b.bErr = 1;
  for(i=0; i<m->nDim; i++){
    z = sqlite3_mprintf(", \"%w\"", m->aDim[i].zDst);
    if( z ){ tsBufAppendStr(&b, z); sqlite3_free(z); } else b.bErr = 1;
  }
  for(i=0; i<m->nMeas; i++){
    z = sqlite3_mprintf(", \"%w\"", m->azMeas[i]);
    if( z ){ tsBufAppendStr(&b, z); sqlite3_free(z); } else b.bErr = 1;
  }
  tsBufAppendStr(&b, ") VALUES(?");
  for(i=1; i<3+m->nDim+m->nMeas; i++) tsBufAppendStr(&b, ",?");
  tsBufAppendStr(&b, ")");
  tsBufAppendByte(&b, 0);
  if( b.bErr ){ tsBufFree(&b); return SQLITE_NOMEM; }
  r->nParamMeas0 = 4 + m->nDim;
  rc = sqlite3_prepare_v3(r->db, (const char*)b.a, -1, SQLITE_PREPARE_PERSISTENT, &r->pIns, 0);
  if( rc ) tsErrSet(&r->zErr, "ts_batch_load: %s", sqlite3_errmsg(r->db));
  tsBufFree(&b);
  return rc;
}

/* Resolve the mapped columns against a header; NULL or a reason. */
static char *resolveHeader(BlRun *r, TsCsvReader *pR){
  const TsBlModel *m = &r->pCfg->model;
  int n = tsCsvFieldCount(pR), i, j, k;
  /* find a header name; -1 if absent */
#define FINDCOL(zName, iOut) do{ \
    size_t nN = strlen(zName); (iOut) = -1; \
    for(k=0; k<n; k++){ size_t nF; int f; const char *zF = tsCsvField(pR, k, &nF, &f); \
      if( nF==nN && memcmp(zF, zName, nN)==0 ){ (iOut) = k; break; } } \
  }while(0)
  r->nHeader = n;
  for(i=0; i<n; i++){
    size_t nA; int f;
    const char *zA = tsCsvField(pR, i, &nA, &f);
    for(j=0; j<i; j++){
      size_t nB; const char *zB = tsCsvField(pR, j, &nB, &f);
      if( nA==nB && memcmp(zA, zB, nA)==0 ){
        return sqlite3_mprintf("header names column '%.*s' twice (columns %d and %d)",
                               (int)(nA>200 ? 200 : nA), zA, j+1, i+1);
      }
    }
  }
  FINDCOL(m->zTimeCol, r->iTimeIdx);
  if( r->iTimeIdx<0 ) return sqlite3_mprintf("header has no column '%s' (TimeColumn)", m->zTimeCol);
  r->iMNameIdx = -1;
  if( m->zMNameCol ){
    FINDCOL(m->zMNameCol, r->iMNameIdx);
    if( r->iMNameIdx<0 ){
      return sqlite3_mprintf("header has no column '%s' (MeasureNameColumn)", m->zMNameCol);
    }
  }
  for(i=0; i<m->nDim; i++){
    FINDCOL(m->aDim[i].zSrc, r->aDimIdx[i]);
    if( r->aDimIdx[i]<0 ){
      return sqlite3_mprintf("header has no column '%s' (DimensionMappings[%d])", m->aDim[i].zSrc, i);
    }
  }
  for(i=0; i<m->nRec; i++){
    for(j=0; j<m->aRec[i].nAttr; j++){
      FINDCOL(m->aRec[i].aAttr[j].zSrc, r->aaAttrIdx[i][j]);
      if( r->aaAttrIdx[i][j]<0 ){
        return sqlite3_mprintf("header has no column '%s' (measure '%s')",
                               m->aRec[i].aAttr[j].zSrc, m->aRec[i].aAttr[j].zDst);
      }
    }
  }
#undef FINDCOL
  return 0;
}

/* A file that cannot be loaded: one FileFailure, the task moves on. */
static int fileFailed(BlRun *r, int iFile, const char *zWhy, int64_t iLine, int64_t nBytes){
  int rc = tsBlBatchBegin(r);
  if( rc==SQLITE_OK ) rc = tsBlAddError(r, iFile, iLine, iLine, "file", zWhy);
  if( rc==SQLITE_OK ){
    r->nFileFail++;
    rc = tsBlBatchCommit(r, iFile+1, 0, 1, nBytes);
  }
  return rc;
}

/*
** Load file iFile from the resume point (r->iOff, r->iLine).  Returns
** SQLITE_OK when the file is done (loaded or failed as a file), else a fatal
** rc with r->zErr.
*/
static int loadFile(BlRun *r, int iFile, BlVal *aVal){
  const TsBlConfig *c = r->pCfg;
  BlSrc src;
  TsCsvReader rd;
  const char *zWhy = 0;
  char *zFail = 0, *zRdErr = 0;
  int rc, e, bHeader = 0, bSkip = 0, bInit = 0;
  int64_t iStart = r->iOff, iStartLine = r->iLine;
  int64_t nBytes0 = r->nBytes - iStart;   /* BytesMetered before this file */
  int64_t iFailLine = 1, nFailBytes = r->nBytes;   /* where a file failure is reported */

  memset(&rd, 0, sizeof(rd));
  rc = tsBlSrcOpen(&src, c, r->aFile[iFile].zUri, &zRdErr);
  if( rc==SQLITE_NOMEM ) goto done;
  if( rc==SQLITE_IOERR ){
    /* the store failed after its retries: the task stops, resumable */
    tsErrSet(&r->zErr, "ts_batch_load: %s: %s", r->aFile[iFile].zUri, zRdErr);
    goto done;
  }
  if( rc ){ zFail = sqlite3_mprintf("%s", zRdErr); rc = SQLITE_OK; goto done; }
  if( tsCsvInit(&rd, &c->csv, &zWhy) ){ rc = SQLITE_NOMEM; goto done; }
  bInit = 1;

  /* The header (always from the start). */
  while( !bHeader && rc==SQLITE_OK ){
    const unsigned char *a; size_t n;
    e = tsCsvNext(&rd);
    if( e==TS_CSV_NEED ){
      rc = tsBlSrcNext(&src, &a, &n, &zRdErr);
      if( rc==SQLITE_NOMEM ) goto done;
      if( rc==SQLITE_IOERR ){
        tsErrSet(&r->zErr, "ts_batch_load: %s: %s", r->aFile[iFile].zUri, zRdErr);
        goto done;
      }
      if( rc ){ zFail = sqlite3_mprintf("%s", zRdErr); rc = SQLITE_OK; goto done; }
      if( n==0 ) tsCsvFinish(&rd); else tsCsvFeed(&rd, a, n);
      continue;
    }
    if( e==TS_CSV_NOMEM ){ rc = SQLITE_NOMEM; goto done; }
    if( e==TS_CSV_END ){ zFail = sqlite3_mprintf("file is empty (a header row is required)"); goto done; }
    if( e==TS_CSV_BAD ){ zFail = sqlite3_mprintf("header row: %s", rd.zReason); goto done; }
    zFail = resolveHeader(r, &rd);
    if( zFail ) goto done;
    bHeader = 1;
  }
  if( iStart>rd.iEndOff ){
    /* Resume inside the file.  Plain CSV: fetch from the resume offset.  A
    ** CRLF record end leaves the offset between CR and LF (the reader counts
    ** the line at CR): skip that LF so it is not a blank line.  Gzip:
    ** inflate from the start and skip the committed records. */
    if( !src.bGz ){
      int64_t iFrom = iStart;
      TsBuf two;
      char *zObjErr = 0;
      tsBufInit(&two);
      if( tsObjGet(src.pStore, src.zKey, iStart-1, 2, &two, &zObjErr)==TS_OBJ_OK
       && two.n==2 && two.a[0]=='\r' && two.a[1]=='\n' ){
        iFrom++;
      }
      free(zObjErr);
      tsBufFree(&two);
      tsCsvFree(&rd);
      bInit = 0;
      if( tsCsvInit(&rd, &c->csv, &zWhy) ){ rc = SQLITE_NOMEM; goto done; }
      bInit = 1;
      tsCsvSeek(&rd, iFrom, iStartLine);
      src.iRaw = iFrom;
    }else{
      bSkip = 1;
    }
  }else if( iStart>0 && iStart<rd.iEndOff ){
    iStart = 0;   /* a resume point inside the header: count from the start */
    nBytes0 = r->nBytes;
  }

  /* Records. */
  for(;;){
    const unsigned char *a; size_t n;
    e = tsCsvNext(&rd);
    if( e==TS_CSV_NEED ){
      rc = tsBlSrcNext(&src, &a, &n, &zRdErr);
      if( rc==SQLITE_NOMEM ) break;
      if( rc==SQLITE_CORRUPT ){
        /* corrupt gzip data: the rows before it stay, the file failed */
        zFail = sqlite3_mprintf("%s", zRdErr);
        iFailLine = rd.iLine;
        nFailBytes = nBytes0 + (rd.iEndOff>iStart ? rd.iEndOff : iStart);
        rc = SQLITE_OK;
        goto done;
      }
      if( rc ){
        /* A read failure after the retries: the task stops, resumable. */
        tsErrSet(&r->zErr, "ts_batch_load: %s: %s", r->aFile[iFile].zUri, zRdErr);
        rc = SQLITE_IOERR;
        break;
      }
      if( n==0 ) tsCsvFinish(&rd); else tsCsvFeed(&rd, a, n);
      continue;
    }
    if( e==TS_CSV_NOMEM ){ rc = SQLITE_NOMEM; break; }
    if( e==TS_CSV_END ) break;
    if( bSkip ){
      if( rd.iEndOff<=iStart ) continue;
      bSkip = 0;
    }
    rc = tsBlBatchBegin(r);
    if( rc==SQLITE_OK ) rc = doRow(r, &rd, iFile, e, aVal);
    if( rc ) break;
    if( ++r->nInBatch>=c->nBatchRows ){
      rc = tsBlBatchCommit(r, iFile, rd.iEndOff, rd.iLine, nBytes0 + rd.iEndOff);
      if( rc ) break;
    }
  }
  if( rc==SQLITE_OK ){
    /* the file is done: the rest of its rows and the move to the next file
    ** commit together */
    rc = tsBlBatchCommit(r, iFile+1, 0, 1, nBytes0 + (rd.iEndOff>iStart ? rd.iEndOff : iStart));
  }

done:
  if( rc==SQLITE_OK && zFail ){
    rc = fileFailed(r, iFile, zFail, iFailLine, nFailBytes);
  }
  if( rc==SQLITE_NOMEM && r->zErr==0 ) tsErrSet(&r->zErr, "ts_batch_load: out of memory");
  sqlite3_free(zFail);
  sqlite3_free(zRdErr);
  if( bInit ) tsCsvFree(&rd);
  tsBlSrcClose(&src);
  return rc;
}

/**************************************************************************
** Running a task.
*/

static void runFree(BlRun *r){
  int i;
  sqlite3_finalize(r->pIns);
  sqlite3_finalize(r->pErrIns);
  sqlite3_finalize(r->pUpd);
  for(i=0; i<r->nFile; i++) sqlite3_free(r->aFile[i].zUri);
  sqlite3_free(r->aFile);
  if( r->aaAttrIdx ){
    for(i=0; i<r->pCfg->model.nRec; i++) sqlite3_free(r->aaAttrIdx[i]);
  }
  sqlite3_free(r->aaAttrIdx);
  sqlite3_free(r->aDimIdx);
  sqlite3_free(r->aDimMap);
  sqlite3_free(r->aMeasMap);
  sqlite3_free(r->azDimV);
  sqlite3_free(r->anDimV);
  sqlite3_free(r->aMeasV);
  tsTableRelease(r->pTab);
  tsBlConfigFree(r->pCfg);
  sqlite3_free(r->zErr);
}

/* The table exists and matches the model, or is created from it. */
static int prepareTarget(BlRun *r){
  TsTable *pTab = 0;
  char *zErr = 0;
  int rc = tsTableOpen(r->pEnv, r->db, r->pCfg->zDb, r->pCfg->zTable, &pTab, &zErr);
  if( rc==SQLITE_ERROR && zErr && strstr(zErr, "no timeseries table named") ){
    sqlite3_stmt *pS = 0;
    char *zSql = sqlite3_mprintf("SELECT 1 FROM \"%w\".sqlite_schema WHERE lower(name)=lower(?)",
                                 r->pCfg->zDb);
    int bOther = 0;
    if( zSql && sqlite3_prepare_v2(r->db, zSql, -1, &pS, 0)==SQLITE_OK ){
      sqlite3_bind_text(pS, 1, r->pCfg->zTable, -1, SQLITE_STATIC);
      bOther = sqlite3_step(pS)==SQLITE_ROW;
    }
    sqlite3_finalize(pS);
    sqlite3_free(zSql);
    sqlite3_free(zErr); zErr = 0;
    if( bOther ){
      tsErrSet(&r->zErr, "ts_batch_load: %s.%s exists and is not a timeseries table",
               r->pCfg->zDb, r->pCfg->zTable);
      return SQLITE_ERROR;
    }
    rc = tsBlModelCreate(r->db, r->pCfg, &r->zErr);
    if( rc ) return rc;
    rc = tsTableOpen(r->pEnv, r->db, r->pCfg->zDb, r->pCfg->zTable, &pTab, &zErr);
  }
  if( rc ){
    tsErrSet(&r->zErr, "ts_batch_load: %s", zErr ? zErr : sqlite3_errstr(rc));
    sqlite3_free(zErr);
    return rc;
  }
  rc = tsBlModelCheck(&r->pCfg->model, pTab, &r->zErr);
  tsTableRelease(pTab);
  return rc;
}

static int allocScratch(BlRun *r, BlVal **paVal){
  const TsBlModel *m = &r->pCfg->model;
  int i, nAttr = 0;
  r->aDimIdx = sqlite3_malloc64(sizeof(int)*(m->nDim+1));
  r->aaAttrIdx = sqlite3_malloc64(sizeof(int*)*(m->nRec+1));
  if( r->aaAttrIdx ) memset(r->aaAttrIdx, 0, sizeof(int*)*(m->nRec+1));   /* runFree frees them */
  if( !r->aDimIdx || !r->aaAttrIdx ) return SQLITE_NOMEM;
  for(i=0; i<m->nRec; i++){
    r->aaAttrIdx[i] = sqlite3_malloc64(sizeof(int)*(m->aRec[i].nAttr+1));
    if( r->aaAttrIdx[i]==0 ) return SQLITE_NOMEM;
    nAttr += m->aRec[i].nAttr;
  }
  *paVal = sqlite3_malloc64(sizeof(BlVal)*(nAttr+1));
  return *paVal ? SQLITE_OK : SQLITE_NOMEM;
}

/* The table's handle for the bulk writes, and where the model's columns
** are in the table (tsBlModelCheck made sure each exists, same names). */
static int openTarget(BlRun *r){
  const TsBlModel *m = &r->pCfg->model;
  const TsTableSchema *s;
  char *zErr = 0;
  int i, j;
  int rc = tsTableOpen(r->pEnv, r->db, r->pCfg->zDb, r->pCfg->zTable, &r->pTab, &zErr);
  if( rc ){
    tsErrSet(&r->zErr, "ts_batch_load: %s", zErr ? zErr : sqlite3_errstr(rc));
    sqlite3_free(zErr);
    return rc;
  }
  s = tsTableSchema(r->pTab);
  r->aDimMap = sqlite3_malloc64(sizeof(int)*(m->nDim+1));
  r->aMeasMap = sqlite3_malloc64(sizeof(int)*(m->nMeas+1));
  r->azDimV = sqlite3_malloc64(sizeof(char*)*(s->nDim+1));
  r->anDimV = sqlite3_malloc64(sizeof(int)*(s->nDim+1));
  r->aMeasV = sqlite3_malloc64(sizeof(TsWriteVal)*(s->nMeas+1));
  if( !r->aDimMap || !r->aMeasMap || !r->azDimV || !r->anDimV || !r->aMeasV ) return SQLITE_NOMEM;
  memset(r->aMeasV, 0, sizeof(TsWriteVal)*(s->nMeas+1));
  for(i=0; i<m->nDim; i++){
    for(j=0; j<s->nDim && strcmp(s->azDim[j], m->aDim[i].zDst); j++){}
    if( j==s->nDim ) return SQLITE_INTERNAL;
    r->aDimMap[i] = j;
  }
  for(i=0; i<m->nMeas; i++){
    for(j=0; j<s->nMeas && strcmp(s->azMeas[j], m->azMeas[i]); j++){}
    if( j==s->nMeas ) return SQLITE_INTERNAL;
    r->aMeasMap[i] = j;
  }
  return SQLITE_OK;
}

/* Run (or continue) the task from its committed resume point. */
static int runTask(BlRun *r){
  BlVal *aVal = 0;
  int rc = allocScratch(r, &aVal);
  if( rc==SQLITE_OK ) rc = openTarget(r);
  if( rc==SQLITE_OK ) rc = prepareInsert(r);
  if( rc==SQLITE_OK ) rc = tsBlSetStatus(r, "IN_PROGRESS", 0);
  while( rc==SQLITE_OK && r->iFile<r->nFile ){
    rc = loadFile(r, r->iFile, aVal);
  }
  if( rc ){
    tsBlBatchAbandon(r);
    if( r->zErr==0 ) tsErrSet(&r->zErr, "ts_batch_load: %s", sqlite3_errmsg(r->db));
    /* best effort: after sqlite3_interrupt nothing can be written until the
    ** calling statement ends, and the row then still says IN_PROGRESS,
    ** which ts_batch_load_resume accepts too */
    if( (rc&0xff)!=SQLITE_INTERRUPT && (rc&0xff)!=SQLITE_BUSY ) tsBlSetStatus(r, "PROGRESS_STOPPED", r->zErr);
    if( (rc&0xff)!=SQLITE_BUSY ){
      /* name the task, so the caller can resume it */
      const char *zWhy = r->zErr ? r->zErr : "out of memory";
      char *z;
      if( strncmp(zWhy, "ts_batch_load: ", 15)==0 ) zWhy += 15;
      z = sqlite3_mprintf("ts_batch_load: task %s stopped (ts_batch_load_resume('%s') continues it): %s",
                          r->zTaskId, r->zTaskId, zWhy);
      if( z ){ sqlite3_free(r->zErr); r->zErr = z; }
    }
  }else{
    char *zUri = 0;
    const char *zStatus;
    if( r->pCfg->zReport ){
      int rc2 = tsBlWriteReport(r, &zUri);
      if( rc2 ){
        tsBlAddError(r, -1, 0, 0, "task", r->zErr ? r->zErr : "cannot write the error report");
      }
    }
    zStatus = (r->nParse || r->nIngestFail || r->nFileFail || r->zErr) ? "FAILED" : "SUCCEEDED";
    {
      sqlite3_stmt *pS = 0;
      rc = sqlite3_prepare_v2(r->db, "UPDATE main.ts_batch_load_tasks SET ReportFile=?1 WHERE TaskId=?2",
                              -1, &pS, 0);
      if( rc==SQLITE_OK ){
        if( zUri ) sqlite3_bind_text(pS, 1, zUri, -1, SQLITE_STATIC);
        sqlite3_bind_text(pS, 2, r->zTaskId, -1, SQLITE_STATIC);
        rc = sqlite3_step(pS)==SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(r->db);
      }
      sqlite3_finalize(pS);
    }
    if( rc==SQLITE_OK ) rc = tsBlSetStatus(r, zStatus, r->zErr);
    sqlite3_free(zUri);
    sqlite3_free(r->zErr); r->zErr = 0;
  }
  sqlite3_free(aVal);
  return rc;
}

/* Files JSON of the task row. */
static int filesJson(const BlRun *r, char **pz, int64_t *pnTotal){
  TsBuf b;
  TsJsonW w;
  int i;
  int64_t n = 0;
  tsBufInit(&b);
  tsJwInit(&w, &b);
  tsJwArrBegin(&w);
  for(i=0; i<r->nFile; i++){
    tsJwObjBegin(&w);
    tsJwKeyStr(&w, "uri", r->aFile[i].zUri);
    tsJwKeyInt(&w, "size", r->aFile[i].nSize);
    tsJwObjEnd(&w);
    n += r->aFile[i].nSize;
  }
  tsJwArrEnd(&w);
  *pz = tsJwError(&w) ? 0 : tsBlBufDup(&b);
  tsBufFree(&b);
  *pnTotal = n;
  return *pz ? SQLITE_OK : SQLITE_NOMEM;
}

static int loadFiles(BlRun *r, const char *zFiles){
  sqlite3_stmt *pS = 0;
  int rc = sqlite3_prepare_v2(r->db, "SELECT json_extract(value,'$.uri'), json_extract(value,'$.size')"
                              " FROM json_each(?) ORDER BY CAST(key AS INTEGER)", -1, &pS, 0);
  BlList l;
  memset(&l, 0, sizeof(l));
  if( rc ) return rc;
  sqlite3_bind_text(pS, 1, zFiles, -1, SQLITE_STATIC);
  while( sqlite3_step(pS)==SQLITE_ROW ){
    const char *z = (const char*)sqlite3_column_text(pS, 0);
    if( tsBlListAdd(&l, "", z ? z : "", sqlite3_column_int64(pS, 1)) ) break;
  }
  rc = sqlite3_finalize(pS);
  if( l.bOom ) rc = SQLITE_NOMEM;
  r->aFile = l.a; r->nFile = l.n;
  return rc;
}

static void resultOrError(sqlite3_context *ctx, BlRun *r, int rc){
  char *zJson = 0;
  if( rc==SQLITE_OK ) rc = tsBlTaskJson(r->db, r->zTaskId, &zJson);
  if( rc==SQLITE_OK ){
    sqlite3_result_text(ctx, zJson, -1, sqlite3_free);
  }else if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else{
    sqlite3_result_error(ctx, r->zErr ? r->zErr : sqlite3_errmsg(r->db), -1);
  }
}

static int checkNoTxn(sqlite3_context *ctx, sqlite3 *db, const char *zFunc){
  if( !sqlite3_get_autocommit(db) ){
    char *z = sqlite3_mprintf("%s: cannot run inside a transaction (it commits its own batches)",
                              zFunc);
    sqlite3_result_error(ctx, z ? z : "out of memory", -1);
    sqlite3_free(z);
    return 1;
  }
  return 0;
}

/* ts_batch_load(config_json) */
static void batchLoadFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  TsEnv *pEnv = (TsEnv*)sqlite3_user_data(ctx);
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *zJson = (const char*)sqlite3_value_text(argv[0]);
  BlRun r;
  int rc;
  memset(&r, 0, sizeof(r));
  r.pEnv = pEnv; r.db = db;
  if( checkNoTxn(ctx, db, "ts_batch_load") ) return;
  if( zJson==0 ){ sqlite3_result_error(ctx, "ts_batch_load: the configuration must be JSON text", -1); return; }
  rc = tsBlConfigParse(db, "ts_batch_load", zJson, &r.pCfg, &r.zErr);
  if( rc==SQLITE_OK ) rc = tsBlEnsureTables(db);
  if( rc==SQLITE_OK && r.pCfg->zClientToken ){
    /* ClientToken: the same request again returns the existing task */
    sqlite3_stmt *pS = 0;
    rc = sqlite3_prepare_v2(db, "SELECT TaskId FROM main.ts_batch_load_tasks WHERE ClientToken=?",
                            -1, &pS, 0);
    if( rc==SQLITE_OK ){
      sqlite3_bind_text(pS, 1, r.pCfg->zClientToken, -1, SQLITE_STATIC);
      if( sqlite3_step(pS)==SQLITE_ROW ){
        snprintf(r.zTaskId, sizeof(r.zTaskId), "%s", (const char*)sqlite3_column_text(pS, 0));
      }
      rc = sqlite3_finalize(pS);
    }
    if( rc==SQLITE_OK && r.zTaskId[0] ){
      resultOrError(ctx, &r, SQLITE_OK);
      runFree(&r);
      return;
    }
  }
  if( rc==SQLITE_OK ) rc = prepareTarget(&r);
  if( rc==SQLITE_OK ){
    char *zListErr = 0;
    rc = tsBlListSource(r.pCfg, &r.aFile, &r.nFile, &zListErr);
    if( rc ){
      tsErrSet(&r.zErr, "ts_batch_load: %s", zListErr);
      sqlite3_free(zListErr);
    }
  }
  if( rc==SQLITE_OK ){
    sqlite3_stmt *pS = 0;
    char *zFiles = 0;
    int64_t nTotal = 0, now = tsEnvNow(pEnv);
    newTaskId(r.zTaskId);
    rc = filesJson(&r, &zFiles, &nTotal);
    if( rc==SQLITE_OK ){
      rc = sqlite3_prepare_v2(db, "INSERT INTO main.ts_batch_load_tasks(TaskId, TaskStatus,"
          " TargetDatabaseName, TargetTableName, Config, ClientToken, CreationTime, LastUpdatedTime,"
          " ResumableUntil, Files, FileCount, BytesTotal) VALUES(?1,'CREATED',?2,?3,?4,?5,?6,?6,?7,?8,?9,?10)",
          -1, &pS, 0);
    }
    if( rc==SQLITE_OK ){
      sqlite3_bind_text(pS, 1, r.zTaskId, -1, SQLITE_STATIC);
      sqlite3_bind_text(pS, 2, r.pCfg->zTargetDbName ? r.pCfg->zTargetDbName : r.pCfg->zDb, -1, SQLITE_STATIC);
      sqlite3_bind_text(pS, 3, r.pCfg->zTable, -1, SQLITE_STATIC);
      sqlite3_bind_text(pS, 4, zJson, -1, SQLITE_STATIC);
      if( r.pCfg->zClientToken ) sqlite3_bind_text(pS, 5, r.pCfg->zClientToken, -1, SQLITE_STATIC);
      sqlite3_bind_int64(pS, 6, now);
      sqlite3_bind_int64(pS, 7, now + BL_RESUMABLE);
      sqlite3_bind_text(pS, 8, zFiles, -1, SQLITE_STATIC);
      sqlite3_bind_int(pS, 9, r.nFile);
      sqlite3_bind_int64(pS, 10, nTotal);
      rc = sqlite3_step(pS)==SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
    }
    sqlite3_finalize(pS);
    sqlite3_free(zFiles);
    r.iFile = 0; r.iOff = 0; r.iLine = 1;
  }
  if( rc==SQLITE_OK && r.nFile==0 ){
    char *z = sqlite3_mprintf("no .csv or .csv.gz objects at %s", r.pCfg->zSource);
    rc = z ? tsBlAddError(&r, -1, 0, 0, "task", z) : SQLITE_NOMEM;
    sqlite3_free(z);
    r.nFileFail = 0;
    if( rc==SQLITE_OK ){
      tsErrSet(&r.zErr, "no .csv or .csv.gz objects at %s", r.pCfg->zSource);
      rc = runTask(&r);
    }
  }else if( rc==SQLITE_OK ){
    rc = runTask(&r);
  }
  resultOrError(ctx, &r, rc);
  runFree(&r);
}

/* ts_batch_load_resume(task_id) */
static void batchResumeFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  TsEnv *pEnv = (TsEnv*)sqlite3_user_data(ctx);
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *zId = (const char*)sqlite3_value_text(argv[0]);
  sqlite3_stmt *pS = 0;
  BlRun r;
  int rc;
  memset(&r, 0, sizeof(r));
  r.pEnv = pEnv; r.db = db;
  if( checkNoTxn(ctx, db, "ts_batch_load_resume") ) return;
  rc = tsBlEnsureTables(db);
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(db, "SELECT TaskStatus, Config, Files, FileIndex, FileOffset, FileLine,"
        " RecordsProcessed, RecordsIngested, ParseFailures, RecordIngestionFailures, FileFailures,"
        " BytesMetered, ResumableUntil FROM main.ts_batch_load_tasks WHERE TaskId=?", -1, &pS, 0);
  }
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pS, 1, zId ? zId : "", -1, SQLITE_STATIC);
    if( sqlite3_step(pS)!=SQLITE_ROW ){
      tsErrSet(&r.zErr, "ts_batch_load_resume: no task '%s'", zId ? zId : "");
      rc = SQLITE_ERROR;
    }else{
      const char *zStatus = (const char*)sqlite3_column_text(pS, 0);
      snprintf(r.zTaskId, sizeof(r.zTaskId), "%s", zId);
      if( strcmp(zStatus, "IN_PROGRESS") && strcmp(zStatus, "PROGRESS_STOPPED")
       && strcmp(zStatus, "PENDING_RESUME") && strcmp(zStatus, "CREATED") ){
        tsErrSet(&r.zErr, "ts_batch_load_resume: task %s is %s; only a stopped task"
                 " (PROGRESS_STOPPED or an interrupted IN_PROGRESS) can be resumed", zId, zStatus);
        rc = SQLITE_ERROR;
      }else if( sqlite3_column_int64(pS, 12) < tsEnvNow(pEnv) ){
        char zT[TS_ISO_BUFSZ];
        tsTimeFormatIso(sqlite3_column_int64(pS, 12), zT);
        tsErrSet(&r.zErr, "ts_batch_load_resume: task %s could be resumed until %s", zId, zT);
        rc = SQLITE_ERROR;
      }else{
        r.iFile = sqlite3_column_int(pS, 3);
        r.iOff = sqlite3_column_int64(pS, 4);
        r.iLine = sqlite3_column_int64(pS, 5);
        r.nProcessed = sqlite3_column_int64(pS, 6);
        r.nIngested = sqlite3_column_int64(pS, 7);
        r.nParse = sqlite3_column_int64(pS, 8);
        r.nIngestFail = sqlite3_column_int64(pS, 9);
        r.nFileFail = sqlite3_column_int64(pS, 10);
        r.nBytes = sqlite3_column_int64(pS, 11);
        rc = tsBlConfigParse(db, "ts_batch_load_resume", (const char*)sqlite3_column_text(pS, 1),
                             &r.pCfg, &r.zErr);
        if( rc==SQLITE_OK ) rc = loadFiles(&r, (const char*)sqlite3_column_text(pS, 2));
      }
    }
  }
  sqlite3_finalize(pS);
  if( rc==SQLITE_OK ) rc = tsBlSetStatus(&r, "PENDING_RESUME", 0);
  if( rc==SQLITE_OK ) rc = prepareTarget(&r);
  if( rc==SQLITE_OK ){
    if( r.nFile==0 ) tsErrSet(&r.zErr, "no .csv or .csv.gz objects at %s", r.pCfg->zSource);
    rc = runTask(&r);
  }
  resultOrError(ctx, &r, rc);
  runFree(&r);
}

int tsBatchLoadRegister(sqlite3 *db, TsEnv *pEnv){
  int rc = sqlite3_create_function_v2(db, "ts_batch_load", 1, SQLITE_UTF8|SQLITE_DIRECTONLY,
                                      tsEnvRef(pEnv), batchLoadFunc, 0, 0, tsEnvUnref);
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "ts_batch_load_resume", 1, SQLITE_UTF8|SQLITE_DIRECTONLY,
                                    tsEnvRef(pEnv), batchResumeFunc, 0, 0, tsEnvUnref);
  }
  return rc;
}

