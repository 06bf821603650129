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

#endif
