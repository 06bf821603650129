/*
** sched_int.h: internal interface between the scheduled-query files of ext/:
**
**   sched_sql.c     ts_schedule_next() and registration of everything below
**   sched_target.c  the target mapping (Timestream TimestreamConfiguration):
**                   JSON parsing, the target table, result rows -> records
**   sched_run.c     the bookkeeping tables, create/update/delete/execute,
**                   ts_scheduler_run_due(), late-data invalidations, leases
**   sched_io.c      a query's source tables (authorizer) and its error
**                   report location and upload
**
** User guide: docs/scheduled-queries.md.
*/
#ifndef TS_SCHED_INT_H
#define TS_SCHED_INT_H
#include "tslite.h"
#include "tsbuf.h"
#include "jsonw.h"

/**************************************************************************
** Interface to sched_target.c.
*/

/* Measure value types of a mapping (the target table's declared types). */
#define SQ_T_DOUBLE    1
#define SQ_T_BIGINT    2
#define SQ_T_VARCHAR   3
#define SQ_T_BOOLEAN   4
#define SQ_T_TIMESTAMP 5

/* One measure attribute written from one result column. */
typedef struct SqAttr SqAttr;
struct SqAttr {
  char *zSrc;       /* SourceColumn (result column name) */
  char *zTarget;    /* target measure column */
  int eType;        /* SQ_T_* */
  int iCol;         /* result column index (set by tsSqTargetBind) */
  int iMeas;        /* index in SqTarget.azMeas (the INSERT's measure slot) */
};

/* One measure-name group: the attributes written as one record per row. */
typedef struct SqGroup SqGroup;
struct SqGroup {
  char *zName;      /* measure_name written; NULL = the MeasureNameColumn value */
  char *zMatch;     /* only rows whose MeasureNameColumn equals this; NULL = all */
  int nAttr;
  SqAttr *aAttr;
};

/* A parsed TimestreamConfiguration (plus tslite's Window and SourceTables). */
typedef struct SqTarget SqTarget;
struct SqTarget {
  char *zDb;            /* schema of the target ("main" or an attached name) */
  char *zTable;         /* TableName */
  char *zTimeCol;       /* TimeColumn */
  int iTimeCol;         /* its result column (tsSqTargetBind) */
  int nDim;
  char **azDim;         /* DimensionMappings[].Name */
  int *aiDimCol;        /* their result columns */
  char *zMNameCol;      /* MeasureNameColumn or NULL */
  int iMNameCol;
  int nGroup;
  SqGroup *aGroup;
  int nMeas;            /* distinct target measure columns, in first-use order */
  char **azMeas;
  int *aMeasType;       /* SQ_T_* per measure column */
  sqlite3_int64 iWindow;/* "Window": ns an instance covers before its runtime; 0 = none */
  int nSource;          /* "SourceTables" given explicitly (else 0) */
  char **azSource;
};

/* Parse zJson (a TimestreamConfiguration object) into a new *ppT.  Errors
** name the field: "TimestreamConfiguration.DimensionMappings[1]: missing
** Name".  *pzErr is sqlite3_malloc'd. */
int tsSqTargetParse(sqlite3 *db, const char *zJson, SqTarget **ppT, char **pzErr);
void tsSqTargetFree(SqTarget *p);    /* accepts NULL */

/* Resolve the mapping's column names against the prepared query's result
** columns; an error names the missing column and lists what the query has. */
int tsSqTargetBind(SqTarget *p, sqlite3_stmt *pQuery, char **pzErr);

/* Create the target table from the mapping when it does not exist, else check
** that it is a timeseries table with the mapped dimensions and measures. */
int tsSqTargetEnsure(TsEnv *pEnv, sqlite3 *db, SqTarget *p, char **pzErr);

/* Writes result rows into the target table as records. */
typedef struct SqWriter SqWriter;
int tsSqWriterOpen(sqlite3 *db, SqTarget *p, sqlite3_int64 iVersion,
                   SqWriter **pp, char **pzErr);
/* Write one buffered result row (apVal[nCol]).  Returns SQLITE_OK (every
** error of the row's records is recoverable and was added to the report),
** or another code (busy, I/O, OOM) that aborts the run with *pzErr. */
int tsSqWriterRow(SqWriter *w, sqlite3_value **apVal, int nCol, char **pzErr);
void tsSqWriterStats(SqWriter *w, int64_t *pnRecords, int64_t *pnBytes,
                     int64_t *pnErrors);
/* The error report JSON (5.7 format) of the rows written so far, or NULL if
** there were no errors; sqlite3_malloc'd.  zReportId is its "reportId".
** Call it once, after the last row. */
char *tsSqWriterReport(SqWriter *w, const char *zReportId);
/* The first error's reason (inside w), or NULL. */
const char *tsSqWriterFirstError(SqWriter *w);
void tsSqWriterClose(SqWriter *w);   /* accepts NULL */

/**************************************************************************
** Interface to sched_run.c.
*/
int tsSchedRunRegister(sqlite3 *db, TsEnv *pEnv);

/**************************************************************************
** Interface to sched_io.c and the statement helper of sched_run.c.
*/
typedef struct SqReads SqReads;
struct SqReads {
  int n;
  char *az[32];        /* "schema\0table" pairs, sqlite3_malloc'd */
};

int tsSqPrepareQuery(sqlite3 *db, const char *zQuery, SqReads *pReads,
                          sqlite3_stmt **ppStmt, char **pzErr);
void tsSqReadsFree(SqReads *r);
int tsSqReportBase(sqlite3 *db, const char *zCfg, char **pzBase, char **pzErr);
int tsSqReportPut(const char *zBase, const char *zKey, const char *zReport, char **pzErr);

/* sched_run.c: prepare zSql, bind the arguments described by zFmt ('i'
** int64, 't' text, 'n' NULL), step once; the step's result or an error
** code; *ppStmt (if not NULL) keeps the statement for reading a row. */
int tsSqStep(sqlite3 *db, sqlite3_stmt **ppStmt, const char *zSql, const char *zFmt, ...);

#endif /* TS_SCHED_INT_H */
