/*
** table.h: the table handle, the one way into a timeseries table's storage
** for everything that is not the sqlite3_module itself.
**
** CONTRACT (fixed by the coordinator so several engineers can build on it
** while it is implemented; change it only together with its users).
**
** A TsTable is the per-connection handle of one timeseries table: its names,
** its parsed schema and options (from <t>_config, never by re-parsing CREATE
** text), its prepared statements, its series cache and this connection's
** pending (not yet flushed) rows.  There is at most one TsTable per
** (connection, schema, table): the vtab of that table holds a reference, and
** operations (ts_check, ts_stats, ts_maintain, batch load, backup, the
** scheduler) take their own reference with tsTableOpen() and so see the same
** pending rows and caches.  Handles are kept in a list on the connection's
** TsEnv; tsTableRelease() drops a reference and the last one frees it.
**
** Operations that need the shadow tables directly build SQL with
** tsTableDb()/tsTableName() as identifiers ("%w"."%w_chunks"), bound
** parameters for every value.
*/
#ifndef TS_TABLE_H
#define TS_TABLE_H
#include "tslite.h"

/* Measure types (declared type names in tsChunkTypeName, chunk.h). */

/* The parsed schema and options of a table; read-only for users of the
** handle, valid while the handle is held. */
typedef struct TsTableSchema TsTableSchema;
struct TsTableSchema {
  int nDim;                   /* dimensions, declaration order */
  char **azDim;               /* their names */
  int nMeas;                  /* measures, declaration order */
  char **azMeas;              /* their names */
  int *aMeasType;             /* TS_TYPE_* (chunk.h) per measure */
  sqlite3_int64 iMemRet;      /* memory_retention, ns */
  sqlite3_int64 iMagRet;      /* magnetic_retention, ns */
  int bMagWrites;             /* magnetic_writes */
  int iPartDim;               /* partition_key: dimension index, -1 = measure_name */
  int bPartRequired;          /* partition_enforcement = 'required' */
  const char *zMeasureName;   /* default measure_name ('metrics') */
  const char *zStorage;       /* storage option as given, NULL = the default
                              ** directory '<dbfile>.tslite/' */
  const char *zS3Endpoint;    /* s3_endpoint or NULL */
  const char *zS3Region;      /* s3_region or NULL */
  const char *zS3UrlStyle;    /* s3_url_style or NULL */
  const char *zEncryption;    /* encryption option ('none' when not given) */
  const char *zKmsKey;        /* kms_key or NULL */
};

/* Declared column numbers of the table (time, dims, measure_name, measures,
** hidden version). */
#define TS_COL_TIME 0
#define tsColDim(pSchema, i)     (1 + (i))
#define tsColMName(pSchema)      (1 + (pSchema)->nDim)
#define tsColMeas(pSchema, i)    (2 + (pSchema)->nDim + (i))
#define tsColVersion(pSchema)    (2 + (pSchema)->nDim + (pSchema)->nMeas)

typedef struct TsTable TsTable;

/*
** Open (or share) the handle of table zTab in schema zDb ("main", "temp" or
** an attached name; NULL means "main") on connection db.  On success *ppTab
** holds a new reference.  If zTab is not a timeseries table the error is
** "no timeseries table named '<zTab>' in schema <zDb>" (SQLITE_ERROR); a
** damaged _config gives SQLITE_CORRUPT with a message naming the key.
** *pzErr (sqlite3_malloc'd) is set on failure; *ppTab is NULL then.
*/
int tsTableOpen(TsEnv *pEnv, sqlite3 *db, const char *zDb, const char *zTab,
                TsTable **ppTab, char **pzErr);

/* Drop a reference; the last one frees the handle.  NULL is a no-op. */
void tsTableRelease(TsTable *pTab);

const char *tsTableDb(const TsTable *pTab);      /* schema name */
const char *tsTableName(const TsTable *pTab);    /* table name */
const TsTableSchema *tsTableSchema(const TsTable *pTab);
sqlite3 *tsTableDbHandle(const TsTable *pTab);
TsEnv *tsTableEnv(const TsTable *pTab);

/*
** Write this connection's pending rows of the table into chunks (what a read
** of the table does first).  Must be called inside the write transaction
** that holds them; a no-op without pending rows.  Afterwards the shadow
** tables hold every row this connection has written.
*/
int tsTableFlush(TsTable *pTab, char **pzErr);

/*
** Bulk writes (batch load): records written through the handle with the
** rules of an INSERT on the table (types, write window, partition key, the
** duplicate/version rules, conflict clause ABORT) but no statement per row.
** Inside a write transaction the caller opened (BEGIN IMMEDIATE):
**   tsWriteBatchBegin(pTab);                         after BEGIN
**   tsWriteBatch(pTab, n, aRec, &nDone, &zErr);      any number of times
**   tsTableFlush(pTab, &zErr);  then COMMIT          (the vtab's xSync runs
**                                                     only if it joined)
**   after a ROLLBACK (or a failed COMMIT): tsWriteBatchRollback(pTab);
** tsWriteBatch writes aRec[0..n) in order and stops at the first record that
** fails: *pnDone records were written, *pzErr (sqlite3_malloc'd) says why
** record *pnDone was not.  SQLITE_CONSTRAINT, SQLITE_MISMATCH and
** SQLITE_TOOBIG reject that record alone (nothing of it is stored; go on
** with the next); any other code is fatal for the transaction.  Rows may
** stay pending in the handle until the flush, like the vtab's.  A SAVEPOINT
** on the connection flushes only if the vtab joined the transaction: flush
** first (tsTableFlush) before one.
*/
typedef struct TsWriteVal TsWriteVal;
struct TsWriteVal {
  int eType;                  /* SQLITE_NULL, _INTEGER (BIGINT, BOOLEAN 0/1,
                              ** TIMESTAMP ns, DOUBLE), _FLOAT (DOUBLE) or
                              ** _TEXT (VARCHAR) */
  sqlite3_int64 i;
  double r;
  const char *z;              /* TEXT, n bytes (not NUL-terminated) */
  int n;
};
typedef struct TsWriteRec TsWriteRec;
struct TsWriteRec {
  sqlite3_int64 t;            /* time, ns since 1970 */
  sqlite3_int64 iVersion;     /* >= 1 */
  const char *const *azDim;   /* nDim values, declaration order; NULL = NULL */
  const int *anDim;           /* their lengths in bytes */
  const char *zMName;         /* measure_name, nMName bytes; NULL: the default */
  int nMName;
  const TsWriteVal *aMeas;    /* nMeas values, declaration order */
};
void tsWriteBatchBegin(TsTable *pTab);
int tsWriteBatch(TsTable *pTab, int nRec, const TsWriteRec *aRec, int *pnDone, char **pzErr);
void tsWriteBatchRollback(TsTable *pTab);

/*
** Forget every cached fact about the shadow tables (series cache, row
** estimates) so the next use reloads them: call it after an operation
** changed the shadow tables behind the table's back (tiering deleted chunks,
** a restore wrote them).
*/
void tsTableInvalidate(TsTable *pTab);

/*
** The names of every timeseries table in schema zDb (NULL = "main"): the
** virtual tables whose "<name>_config" shadow table carries the format key
** (no LIKE guess on CREATE text).  *pazName is one sqlite3_malloc'd array of *pnName strings, freed
** with one sqlite3_free (the strings live in the same allocation).
*/
int tsTableList(sqlite3 *db, const char *zDb, char ***pazName, int *pnName, char **pzErr);

/* Split "schema.table" (or "table": schema main) as ts_stats('x') takes it. */
int tsTableSplitName(const char *zArg, char **pzDb, char **pzTab);

/*
** Open the table's cold-tier object store exactly as its scan does
** (ext/cold_read.c): the storage option, default the directory
** <dbfile>.tslite/ beside the database.  *ppStore is closed with tsObjClose.
** On failure *pzErr (sqlite3_malloc'd) names the table and the URI.
*/
typedef struct TsObjStore TsObjStore;
int tsTableColdStore(TsTable *pTab, TsObjStore **ppStore, char **pzErr);

#endif /* TS_TABLE_H */
