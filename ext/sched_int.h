/*
** sched_int.h: internal interface between the scheduled-query files of ext/:
**
**   sched_sql.c     ts_schedule_next() and registration of everything below
**   sched_target.c  the target mapping (Timestream TimestreamConfiguration):
**                   JSON parsing, the target table, result rows -> records
**   sched_run.c     the bookkeeping tables, a query's definition, one run
**                   of one instance (read, write, record)
**   sched_func.c    the SQL functions create/update/delete/execute and the
**                   registration of everything here
**   sched_pass.c    ts_scheduler_run_due(): leases, due instances in order,
**                   the bounded late-data refresh
**   sched_inval.c   late data: the write logs of the source tables, the
**                   pending invalidations, window fingerprints
**   sched_backup.c  backup plans: ts_backup_schedule() and their runs
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

/**************************************************************************
** Interface to sched_run.c.
*/
#include "schedexpr.h"

#define SQ_OK(rc) ((rc)==SQLITE_DONE || (rc)==SQLITE_ROW || (rc)==SQLITE_OK)
#define SQ_LEASE_NS  (60LL*TS_NS_PER_SEC)   /* a pass's claim on one query */

#define SQ_AUTO    0    /* a scheduled instance */
#define SQ_MANUAL  1    /* ts_scheduled_query_execute */
#define SQ_REFRESH 2    /* a late-data re-run of an instance */

/* A query definition as loaded from ts_scheduled_query_defs. */
typedef struct SqDef SqDef;
struct SqDef {
  char *zName, *zQuery, *zSched, *zTarget, *zErrCfg, *zState;   /* (owned) */
  int64_t iCreation;
  int bNext; int64_t iNext;       /* NextInvocationTime (bNext: not NULL) */
  int bPrev; int64_t iPrev;
  int bFirst; int64_t iFirst;
  int64_t iWindow;                /* 0 = none */
  int64_t iLastVersion;
  TsSched sched;
};

/* What a run did (the ScheduledQueryRunSummary). */
typedef struct SqRun SqRun;
struct SqRun {
  int64_t iInvocation, iTrigger;
  int eMode;                    /* SQ_AUTO, SQ_MANUAL, SQ_REFRESH */
  int bFailed;
  int bDisabled;                /* the run disabled the query */
  int64_t nExecMs, nDataWrites, nBytesMetered, nRecords, nResultRows, iVersion;
  char *zFailure;               /* FailureReason or NULL (owned) */
  char *zReportLoc;             /* ErrorReportLocation or NULL (owned) */
};

/* Create the bookkeeping tables if missing / are they there (functions
** other than create never create them). */
int tsSqEnsureSchema(sqlite3 *db, char **pzErr);
int tsSqHaveSchema(sqlite3 *db);
int64_t tsSqWallNs(void);
char *tsSqColDup(sqlite3_stmt *pS, int i);     /* sqlite3_malloc'd or NULL */

/* Load query zName (SQLITE_NOTFOUND with a message if there is none). */
int tsSqDefLoad(sqlite3 *db, const char *zName, SqDef **pp, char **pzErr);
void tsSqDefFree(SqDef *p);                    /* accepts NULL */
/* The first instance strictly after iAfter (rate() anchored at iAnchor);
** nonzero when there is none. */
int tsSqNextFire(const TsSched *s, int64_t iAnchor, int64_t iAfter, int64_t *piNext);

/* Run instance R of query d (mode eMode): SQLITE_OK when the run happened
** (*r says how it went), SQLITE_DONE when there was nothing to do,
** SQLITE_BUSY/LOCKED to retry later, another error with *pzErr. */
int tsSqRunInstance(TsEnv *pEnv, sqlite3 *db, SqDef *d, int64_t R, int eMode,
                    const char *zOwner, SqRun *r, char **pzErr);
void tsSqRunJson(TsJsonW *jw, const char *zName, const SqRun *r);
void tsSqRunClear(SqRun *r);

/* sched_func.c: register the scheduled-query functions. */
int tsSchedRunRegister(sqlite3 *db, TsEnv *pEnv);
/* sched_func.c: a function's error "<zFunc>: <zMsg>" on ctx. */
void tsSqError(sqlite3_context *ctx, const char *zFunc, int rc, const char *zMsg);
/* sched_pass.c: ts_scheduler_run_due([options_json]). */
void tsSqRunDueFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/**************************************************************************
** Interface to sched_backup.c: backup plans (ts_backup_schedule).
*/
int tsSqBackupRegister(sqlite3 *db, TsEnv *pEnv);
/* Run the due plans while *pnRuns < nMaxRuns; summaries into pOut (an open
** JSON array). */
int tsSqBackupPass(TsEnv *pEnv, sqlite3 *db, int64_t iNow, int nMaxRuns, int *pnRuns,
                   TsJsonW *pOut, char **pzErr);
/* The earliest next backup: 1 and *piNext, or 0 when none is planned. */
int tsSqBackupNext(sqlite3 *db, int64_t *piNext);

/**************************************************************************
** Interface to sched_inval.c (late data; the rule is in its header).
*/
/* Fingerprint of the source rows an instance covers: rows, sum of their
** versions, sum of their times (wrapping).  A late row changes the count,
** an upsert the version sum. */
typedef struct SqFp SqFp;
struct SqFp { int64_t n, v, t; };

/* Fingerprints of the windows [aR[i] - iW, aR[i]) (aR ascending, nR >= 1)
** over every source table of query zName. */
int tsSqFingerprint(sqlite3 *db, const char *zName, int64_t iW, const int64_t *aR, int nR,
                    SqFp *aFp);
/* Add the instance range [a, b] to zName's invalidations (merged with
** ranges within iGap); remove [a, b] from them. */
int tsSqInvAdd(sqlite3 *db, const char *zName, int64_t a, int64_t b, int64_t iGap);
int tsSqInvRemove(sqlite3 *db, const char *zName, int64_t a, int64_t b);
/* Start watching source table zSDb.zSTab for query zName (creates its
** write log; inside the caller's transaction) / stop watching all of
** zName's sources (drops the logs nobody else reads). */
int tsSqWatchSource(sqlite3 *db, const char *zName, const char *zSDb, const char *zSTab);
int tsSqUnwatchSources(sqlite3 *db, const char *zName);
/* Upgrade the sources table of a database made before the write logs
** (one write transaction; a no-op when current). */
int tsSqMigrate(sqlite3 *db);
/* Drop the write logs no query watches (the pass does it first). */
int tsSqDropOrphanLogs(sqlite3 *db);
/* Record the instances of d that writes since the last pass invalidate
** (one write transaction). */
int tsSqScanSources(TsEnv *pEnv, sqlite3 *db, SqDef *d);

/* The table scans of one run's result: tsSqScansNote is the TsEnv
** xScanNote callback (pArg = SqScans*), tsSqSourcesNote merges them into
** the Filter of zName's sources (inside the run's write transaction). */
typedef struct SqScans SqScans;
struct SqScans {
  int n;                /* scans noted */
  TsBuf b;              /* n "db\0table\0json\0" triples (owned) */
};
int tsSqScansNote(void *pArg, const char *zDb, const char *zTab, const char *zJson, int nJson);
int tsSqSourcesNote(sqlite3 *db, const char *zName, const SqScans *p);

#endif /* TS_SCHED_INT_H */
