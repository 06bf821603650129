/*
** backup.h: the internal interface between ext/backup.c (ts_backup, the
** backup location's layout and the manifest helpers), ext/restore.c
** (ts_restore) and ext/backup_util.c (small helpers both use).  The format itself is documented for users in
** docs/backup.md; this header names its constants.
**
** A backup location (s3://bucket/prefix or file:///dir) holds the backups of
** ONE table:
**
**   backups/<seq:08d>-<rand:8 hex>.json   one manifest per backup, written
**                                         last (a backup exists once its
**                                         manifest does)
**   data/mem/<sha256>.parquet             memory-tier rows, one file per
**                                         time window (content-addressed:
**                                         an unchanged window is never
**                                         uploaded twice)
**   data/cold/<cold object key>           copies of the table's cold objects
**                                         (immutable, copied once)
**
** Every manifest lists every file its backup needs, with its SHA-256, so
** any kept backup restores on its own; pruning deletes manifests and then
** the data files no kept manifest names.
*/
#ifndef TS_BACKUP_H
#define TS_BACKUP_H
#include "tslite.h"
#include "table.h"
#include "objstore.h"
#include "op.h"
#include "tshash.h"
#include "jsonw.h"

#define TS_BK_FORMAT_NAME   "tslite-backup"
#define TS_BK_FORMAT_VER    1
#define TS_BK_MANIFEST_DIR  "backups/"
#define TS_BK_MEM_DIR       "data/mem/"
#define TS_BK_COLD_DIR      "data/cold/"
#define TS_BK_MAX_MANIFEST  (256LL << 20)   /* bytes: a manifest larger is refused */

/* Open the backup location zUri for backups (environment credentials, like
** every store; zEnc/zKms: the encryption and kms_key options, as a table's
** (tablestore.h), or NULL: none, a client-side key in the environment still
** applies as for every store).  Plain http is allowed for loopback
** endpoints, as for table storage.  Messages are sqlite3_malloc'd and
** prefixed with zFunc. */
int tsBkLocationOpen(const char *zFunc, const char *zUri, const char *zEnc, const char *zKms,
                     TsObjStore **pp, char **pzErr);

/* Open the storage of a table as ts_maintain does: the storage option, or
** the directory '<dbfile>.tslite' beside database zDb; s3_* options,
** encryption and kms_key (tablestore.h).  zStorage NULL = the default.
** *pzUri (if not NULL) gets the URI (sqlite3_malloc'd). */
int tsBkTableStoreOpen(const char *zFunc, sqlite3 *db, const char *zDb, const char *zTab,
                       const char *zStorage, const char *zEndpoint, const char *zRegion,
                       const char *zUrlStyle, const char *zEnc, const char *zKms,
                       TsObjStore **pp, char **pzUri, char **pzErr);

/* Lowercase hex SHA-256 of a[0..n) into zHex (65 bytes). */
void tsBkSha256(const void *a, size_t n, char *zHex);

/* Read object zKey of p in 8 MiB ranges and hash it: zHex (65 bytes) gets
** its SHA-256, *pnByte its size.  TS_OBJ_NOTFOUND if missing (no message);
** other failures set *pzErr (malloc'd by the object store: free()). */
int tsBkHashObject(TsObjStore *p, const char *zKey, char *zHex, int64_t *pnByte, char **pzErr);

/* The manifest keys in the location, ascending (= oldest first): *pazKey
** is one sqlite3_malloc'd array of *pnKey strings in the same allocation. */
int tsBkManifestList(const char *zFunc, TsObjStore *p, const char *zUri, char ***pazKey,
                     int *pnKey, char **pzErr);

/* Read one manifest (NUL-terminated, sqlite3_malloc'd in *pzJson) and check
** on connection db that it is a JSON object of this format. */
int tsBkManifestRead(const char *zFunc, sqlite3 *db, TsObjStore *p, const char *zUri,
                     const char *zKey, char **pzJson, char **pzErr);

/* Lowercase hex of a[0..n) appended to pOut / decoded from z (NULL and -1
** on a bad digit; the result is sqlite3_malloc'd, *pn its length). */
void tsBkHexAppend(TsBuf *pOut, const unsigned char *a, size_t n);
unsigned char *tsBkHexDecode(const char *z, int *pn);

/* backup_util.c, the helpers both functions share.
**
** tsBkFuncArgs: the table argument and the uri must not be NULL (else the
**   function's error zNullMsg); the table name is split ("schema.table").
**   0 when ctx already holds the error.
** tsBkOptionsEach: options_json must be a JSON object (else pOp's error
**   "<func>: options must be a JSON object"); returns the statement
**   "SELECT key, value, type FROM json_each(options_json)" (finalize it), or
**   NULL with the error in pOp.
** tsBkOptPush: append (zK, zV) to the option list (*pazK, *pazV) of *pnOpt.
** tsBkInterval: an interval option ('1h', '7d', or integer ns); 0 = ok.
** tsBkResultBegin: the result object opened with "table" and "backup".
** tsBkRegister: zName with 2 and 3 arguments. */
int tsBkFuncArgs(sqlite3_context *ctx, const char *zTabArg, const char *zUri, const char *zNullMsg,
                 char **pzDb, char **pzTab);
sqlite3_stmt *tsBkOptionsEach(TsOp *pOp, const char *zJson);
void tsBkOptPush(TsOp *pOp, int *pnOpt, char ***pazK, char ***pazV, const char *zK, const char *zV);
int tsBkInterval(const char *z, int64_t *pv);
void tsBkResultBegin(TsBuf *pBuf, TsJsonW *pW, const char *zTab, const char *zId);
int tsBkRegister(sqlite3 *db, TsEnv *pEnv, const char *zName,
                 void (*xFunc)(sqlite3_context*, int, sqlite3_value**));

/* ts_backup's options_json checked without a backup (backup plans of
** ext/sched_backup.c): SQLITE_OK or an error with *pzErr (sqlite3_malloc'd). */
int tsBkOptionsCheck(sqlite3 *db, const char *zJson, char **pzErr);

/* ts_backup (backup.c) and ts_restore (restore.c). */
int tsBackupRegister(sqlite3 *db, TsEnv *pEnv);
int tsRestoreRegister(sqlite3 *db, TsEnv *pEnv);

#endif /* TS_BACKUP_H */
