/*
** batch_load.h: interface to batch_model.c (the task configuration and the
** data-model mapping) and batch_load.c (the task runner, the task tables and
** the SQL functions ts_batch_load / ts_batch_load_resume).
*/
#ifndef TS_BATCH_LOAD_H
#define TS_BATCH_LOAD_H
#include "tslite.h"
#include "table.h"
#include "csv_read.h"

/**************************************************************************
** Interface to batch_model.c.
*/

/* One mapped CSV column: a dimension or a measure attribute. */
typedef struct TsBlCol TsBlCol;
struct TsBlCol {
  char *zSrc;          /* CSV header name (SourceColumn); owned */
  char *zDst;          /* table column (DestinationColumn / attribute name); owned */
  int eType;           /* TS_TYPE_* (chunk.h) for measures; 0 for dimensions */
  int iParam;          /* index of the table column in the target list (TsBlModel) */
};

/* One record a CSV row produces: the MultiMeasureMappings, or one entry of
** MixedMeasureMappings. */
typedef struct TsBlRec TsBlRec;
struct TsBlRec {
  char *zMeasureName;  /* fixed measure_name, or NULL: the MeasureNameColumn value; owned */
  char *zMatch;        /* with MeasureNameColumn: only rows whose value is this
                       ** (MixedMeasureMappings[].MeasureName); NULL = every row; owned */
  int nAttr;
  TsBlCol *aAttr;      /* measure attributes; owned */
};

/* A DataModel, resolved: the distinct target columns and the records. */
typedef struct TsBlModel TsBlModel;
struct TsBlModel {
  char *zTimeCol;      /* TimeColumn; owned */
  int64_t iUnit;       /* TimeUnit as a multiplier to ns (bl_value.h) */
  char *zMNameCol;     /* MeasureNameColumn or NULL; owned */
  int nDim;
  TsBlCol *aDim;       /* DimensionMappings; owned */
  int nRec;
  TsBlRec *aRec;       /* owned */
  int bMixed;          /* from MixedMeasureMappings */
  /* Distinct target measure columns (name, type), in first-use order; the
  ** iParam of an attribute indexes this list. */
  int nMeas;
  char **azMeas;       /* names point into the attributes (not owned) */
  int *aMeasType;      /* owned */
};

/* A parsed ts_batch_load configuration (either form, DESIGN section 4 or
** Timestream's CreateBatchLoadTask request). */
typedef struct TsBlConfig TsBlConfig;
struct TsBlConfig {
  char *zDb;           /* SQLite schema of the target ("main" unless
                       ** TargetDatabaseName names an attached schema); owned */
  char *zTargetDbName; /* TargetDatabaseName as given, or NULL; owned */
  char *zTable;        /* TargetTableName; owned */
  char *zSource;       /* source URI (object or prefix); owned */
  char *zReport;       /* report location URI or NULL; owned */
  char *zSse;          /* "sse_s3" | "sse_kms" | NULL; owned */
  char *zKmsKey;       /* KMS key id or NULL; owned */
  char *zClientToken;  /* ClientToken or NULL; owned */
  TsCsvOpt csv;        /* CsvConfiguration (csv.zNull points to zNull) */
  char *zNull;         /* NullValue or NULL; owned */
  int64_t iVersion;    /* RecordVersion, default 1 */
  int nBatchRows;      /* rows per transaction (tslite's BatchRows), default 10000 */
  TsBlModel model;
};

/*
** Parse a configuration JSON text on connection db (json1 does the JSON).
** zFunc names the function in messages ("ts_batch_load").  On success
** *ppCfg is a new config (tsBlConfigFree); on failure *pzErr says which key
** and why.  A DataModelS3Configuration is fetched from the object store.
*/
int tsBlConfigParse(sqlite3 *db, const char *zFunc, const char *zJson,
                    TsBlConfig **ppCfg, char **pzErr);
void tsBlConfigFree(TsBlConfig *p);

/*
** Check the model against an existing table, or (pTab NULL) create the
** table zDb.zTable from it.  Errors name the mapping and the column.
*/
int tsBlModelCheck(const TsBlModel *pM, TsTable *pTab, char **pzErr);
int tsBlModelCreate(sqlite3 *db, const TsBlConfig *pCfg, char **pzErr);

/**************************************************************************
** Interface to batch_load.c.
*/

/* Register ts_batch_load() and ts_batch_load_resume(). */
int tsBatchLoadRegister(sqlite3 *db, TsEnv *pEnv);

/**************************************************************************
** Internals shared by the batch-load runner's files: batch_load.c (the
** CSV-to-rows pipeline, running a task, the SQL functions), batch_source.c
** (listing and streaming the source) and batch_task.c (task tables,
** batches, the error report).  Nothing else includes this section's names.
*/
#include "objstore.h"
#include <zlib.h>

#define BL_READ        (1<<20)          /* bytes per ranged GET */
#define BL_INFLATE     (1<<20)          /* bytes of inflated output per piece */
#define BL_RESUMABLE   (15LL*86400*1000000000LL)   /* ResumableUntil = last update + 15 days */
#define BL_REASON_MAX  1000             /* bytes of a reason kept in the report */


/* One source file. */
typedef struct BlFile BlFile;
struct BlFile {
  char *zUri;         /* full URI; owned */
  int64_t nSize;      /* bytes as listed */
};

/* A streaming reader of one source object: ranged GETs, optional gunzip. */
typedef struct BlSrc BlSrc;
struct BlSrc {
  TsObjStore *pStore;  /* owned */
  char *zKey;          /* key in pStore; malloc'd (objstore) */
  int64_t nSize;       /* object size */
  int64_t iRaw;        /* next raw byte to fetch */
  int bGz;             /* gzip stream */
  int bZInit;          /* z initialised */
  int bZEnd;           /* inflate reached the end of the stream */
  z_stream z;
  TsBuf raw;           /* last fetched bytes */
  TsBuf out;           /* last inflated bytes */
};

/* One task run. */
typedef struct BlRun BlRun;
struct BlRun {
  TsEnv *pEnv;
  sqlite3 *db;
  TsBlConfig *pCfg;        /* owned */
  char zTaskId[40];
  char *zErr;              /* run error (sqlite3_malloc) */
  int nFile;
  BlFile *aFile;           /* owned */
  /* committed progress (what the task row says) */
  int64_t nProcessed, nIngested, nParse, nIngestFail, nFileFail, nBytes;
  int iFile;               /* resume point: file index */
  int64_t iOff, iLine;     /* resume point: offset and line in that file */
  /* the target's handle and the bulk write scratch (tsWriteBatch) */
  TsTable *pTab;           /* reference held while the task runs */
  int *aDimMap;            /* model dimension -> table dimension index */
  int *aMeasMap;           /* model measure -> table measure index */
  const char **azDimV;     /* [table dimensions] values of the record */
  int *anDimV;
  TsWriteVal *aMeasV;      /* [table measures] values of the record */
  /* statements */
  sqlite3_stmt *pIns;      /* INSERT into the table (rows of several records) */
  sqlite3_stmt *pErrIns;   /* INSERT into ts_batch_load_errors */
  sqlite3_stmt *pUpd;      /* advance the task row */
  int nParamMeas0;         /* first measure parameter */
  /* per-row scratch */
  int *aDimIdx;            /* header index per dimension */
  int **aaAttrIdx;         /* header index per record attribute */
  int iTimeIdx, iMNameIdx;
  int nHeader;
  /* a batch in progress */
  int bInTxn;
  int nInBatch;
};

/* A list of source files being built (tsBlListAdd). */
typedef struct BlList BlList;
struct BlList {
  const char *zBase;       /* URI prefix to put before each key */
  BlFile *a; int n, nAlloc;
  int bOom;
};

/* batch_source.c */
void tsBlObjCfg(const TsBlConfig *c, TsObjConfig *p, int bReport);
int tsBlListAdd(BlList *p, const char *zBase, const char *zKey, int64_t nSize);
int tsBlListSource(const TsBlConfig *c, BlFile **paFile, int *pnFile, char **pzErr);
int tsBlSrcOpen(BlSrc *p, const TsBlConfig *c, const char *zUri, char **pzErr);
int tsBlSrcNext(BlSrc *p, const unsigned char **pa, size_t *pn, char **pzErr);
void tsBlSrcClose(BlSrc *p);

/* batch_task.c */
char *tsBlBufDup(const TsBuf *b);
int tsBlExec(sqlite3 *db, const char *zSql);
int tsBlEnsureTables(sqlite3 *db);
int tsBlAddError(BlRun *r, int iFile, int64_t iFirst, int64_t iLast, const char *zKind,
                 const char *zReason);
int tsBlSetStatus(BlRun *r, const char *zStatus, const char *zMsg);
int tsBlBatchBegin(BlRun *r);
int tsBlFlushTable(BlRun *r);
int tsBlBatchCommit(BlRun *r, int iFile, int64_t iOff, int64_t iLine, int64_t nBytes);
void tsBlBatchAbandon(BlRun *r);
int tsBlWriteReport(BlRun *r, char **pzUri);
int tsBlTaskJson(sqlite3 *db, const char *zTaskId, char **pzOut);

#endif
