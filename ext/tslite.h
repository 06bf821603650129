/*
** tslite.h: the internal interface of the SQLite-facing layer of tslite.
**
** Every file of ext/ that talks to SQLite includes this header (and only
** ext/tslite.c defines the extension API pointer).  Pure codecs (tstime.c,
** tsbuf.c, the chunk codec, Parquet, CSV) have their own headers and no
** SQLite dependency.  The sections below are one per file; each is owned by
** the file it names.
*/
#ifndef TSLITE_H
#define TSLITE_H
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3
#include <stdint.h>
#include "tsbuf.h"
#include "tstime.h"
/* The public header (installed include/tslite.h): TSLITE_VERSION and the
** minimum SQLite version. */
#include "../include/tslite.h"

/**************************************************************************
** Interface to util.c: per-connection environment and error helpers.
**
** A TsEnv is created by sqlite3_tslite_init for each connection and passed
** as user data to every function and module the extension registers.  It is
** reference counted: each registration takes a reference (tsEnvRef) and
** gives its destructor tsEnvUnref, so it lives until SQLite has destroyed the
** last function or module that points at it.  It is the only per-connection
** state of the extension; there is no global mutable state.
*/
typedef struct TsEnv TsEnv;
struct TsEnv {
  int nRef;                /* references; freed at 0 */
  sqlite3 *db;             /* the connection (not owned) */
  sqlite3_int64 iFakeNow;  /* test clock (ns since epoch) set by
                           ** ts_debug_set_now(); 0 = use the real clock */
  struct TsTable *pTableList;  /* open table handles of this connection
                           ** (table.h; each holds a reference on the env) */
  /* Scan observer, NULL = none: while a scheduled query reads its result
  ** (ext/sched_run.c) every xFilter of a timeseries table (scan.c) reports
  ** the dimension / measure_name constraints it was given, as JSON
  ** [["<column>",["<value>",...]],...] ("[]" = every series).  A nonzero
  ** return (SQLITE_NOMEM) fails the scan. */
  int (*xScanNote)(void *pArg, const char *zDb, const char *zTab, const char *zJson, int nJson);
  void *pScanNoteArg;      /* its argument (not owned) */
};
TsEnv *tsEnvNew(sqlite3 *db);
TsEnv *tsEnvRef(TsEnv *p);
void tsEnvUnref(void *p);             /* signature fits xDestroy slots */
/* Current time in ns since the epoch: the test clock if set, else real. */
sqlite3_int64 tsEnvNow(TsEnv *p);
/* Replace *pzErr (sqlite3_malloc'd, may be NULL) with a new message. */
void tsErrSet(char **pzErr, const char *zFmt, ...);
/* Set the vtab's zErrMsg the same way. */
void tsVtabErr(sqlite3_vtab *pVtab, const char *zFmt, ...);
/* Register tslite_version() and ts_debug_set_now(). */
int tsUtilRegister(sqlite3 *db, TsEnv *pEnv);

/**************************************************************************
** Interface to vtab.c: the timeseries virtual table (module "timeseries"),
** ts_check(table), ts_stats(table).
*/
int tsVtabRegister(sqlite3 *db, TsEnv *pEnv);
/* Decode an encoded series key (the _series.skey format in vtab.c's header)
** of a table with nDim dimensions: *pazDim gets nDim values (NULL = absent),
** *pzMName the measure_name, both inside the returned allocation (free it
** with sqlite3_free).  NULL if the key is malformed or on OOM. */
void *tsTableKeyDecode(int nDim, const unsigned char *aKey, int nKey,
                       char *const **pazDim, const char **pzMName);

/**************************************************************************
** Interface to ops_check.c: ts_check(table) and ts_stats(table).
*/
int tsOpsCheckRegister(sqlite3 *db, TsEnv *pEnv);

/**************************************************************************
** Interface to func*.c: time, time-series and aggregate SQL functions.
** func.c registers them all (tsFuncRegister) and holds the argument helpers
** every function uses, so errors read the same everywhere:
**   "<function>: invalid interval '<text>': <why>"
**   "<function>: invalid timestamp '<text>': <why>"
*/
int tsFuncRegister(sqlite3 *db, TsEnv *pEnv);
int tsFuncTimeRegister(sqlite3 *db, TsEnv *pEnv);     /* func_time.c */
int tsFuncSeriesRegister(sqlite3 *db, TsEnv *pEnv);   /* func_series.c */
int tsFuncAggRegister(sqlite3 *db, TsEnv *pEnv);      /* func_agg.c */
/* Set a printf-style error on ctx. */
void tsFuncError(sqlite3_context *ctx, const char *zFmt, ...);
/* Results of the argument readers below. */
#define TS_ARG_OK    0   /* *pv set */
#define TS_ARG_NULL  1   /* SQL NULL: the caller returns NULL */
#define TS_ARG_ERROR 2   /* error already set on ctx */
/* A timestamp: INTEGER ns, a REAL holding a whole number in range, or
** ISO-8601 TEXT (tsTimeParseIso).  zFunc names the function in errors. */
int tsFuncArgTime(sqlite3_context *ctx, const char *zFunc, sqlite3_value *v, int64_t *pv);
/* An interval: TEXT literal (tsIntervalParse) or INTEGER ns. */
int tsFuncArgInterval(sqlite3_context *ctx, const char *zFunc, sqlite3_value *v, int64_t *pv);
/* An integer: INTEGER, or a REAL holding a whole number in int64 range. */
int tsFuncArgInt(sqlite3_context *ctx, const char *zFunc, const char *zWhat,
                 sqlite3_value *v, int64_t *pv);

/**************************************************************************
** Interface to objsql.c: ts_object_list/get/put/delete over s3/objstore.h.
*/
int tsObjSqlRegister(sqlite3 *db, TsEnv *pEnv);

/**************************************************************************
** Interface to pq_vtab.c: the parquet virtual table.
*/
int tsPqVtabRegister(sqlite3 *db, TsEnv *pEnv);

/**************************************************************************
** Interface to unload.c: ts_unload().
*/
int tsUnloadRegister(sqlite3 *db, TsEnv *pEnv);
/* ts_batch_load(config_json), ts_batch_load_resume(task_id) (batch_load.c). */
int tsBatchLoadRegister(sqlite3 *db, TsEnv *pEnv);
/* ts_maintain([table [, options_json]]): the cold tier's writer (maintain.c). */
int tsMaintainRegister(sqlite3 *db, TsEnv *pEnv);
/* Test-only hook of maintain.c: called at named points ("uploaded": the
** round's objects are uploaded, its commit transaction not begun). */
extern void (*tsMaintainTestHook)(sqlite3 *db, const char *zPoint);

/**************************************************************************
** Interface to catalog.c: ts_series(table), the series catalogue.
*/
int tsCatalogRegister(sqlite3 *db, TsEnv *pEnv);

/**************************************************************************
** Interface to agg.c: the timeseries_agg module (native time-bucket
** aggregation and lastpoint over a timeseries table).
*/
int tsAggRegister(sqlite3 *db, TsEnv *pEnv);

/**************************************************************************
** Interface to lineproto_sql.c: ts_write_lp(text[, options_json]).
*/
int tsLineProtoRegister(sqlite3 *db, TsEnv *pEnv);

/**************************************************************************
** Interface to sched_sql.c / sched_func.c: ts_schedule_next() and the
** scheduled queries (ts_scheduled_query_*, ts_scheduler_run_due).
*/
int tsSchedSqlRegister(sqlite3 *db, TsEnv *pEnv);

#endif /* TSLITE_H */
