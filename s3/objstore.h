/*
** objstore.h: the object-store interface used by the cold tier, UNLOAD,
** batch load, backups and the parquet table.  Two back ends behind one API:
**
**   s3://bucket[/prefix]     S3 (AWS, MinIO, s3rver) over libcurl, SigV4
**   file:///abs/dir          a local directory (the embedded default)
**
** Knows nothing of SQLite.  Memory comes from malloc; error messages are
** returned through char **pzErr, allocated with malloc (free with free()),
** and name the operation, bucket/dir, key, HTTP status and S3 error code,
** never credentials.  A store opened on a URI is rooted there: every key
** passed to the functions below is relative to the root ("a/b.parquet" under
** s3://bkt/pre is object "pre/a/b.parquet" of bucket "bkt").
**
** Thread-safety: a TsObjStore is used by one thread at a time.
*/
#ifndef OBJSTORE_H
#define OBJSTORE_H
#include <stddef.h>
#include <stdint.h>
#include "tsbuf.h"

/* Result codes. */
#define TS_OBJ_OK        0
#define TS_OBJ_ERROR     1   /* failed (after retries where retrying applies) */
#define TS_OBJ_NOTFOUND  2   /* no such key (or bucket/directory) */
#define TS_OBJ_NOMEM     3
#define TS_OBJ_CORRUPT   4   /* integrity failure: bad checksum, tampered ciphertext */
#define TS_OBJ_RANGE     5   /* requested byte range not satisfiable */

/* Options for opening a store.  Zero-initialise and set what you need;
** NULL/0 fields take their defaults from the environment (AWS_* variables,
** ~/.aws/credentials) or built-in defaults.  Credentials are never here. */
typedef struct TsObjConfig TsObjConfig;
struct TsObjConfig {
  const char *zEndpoint;   /* e.g. "http://127.0.0.1:4569"; NULL = env or AWS */
  const char *zRegion;     /* NULL = env or "us-east-1" */
  const char *zUrlStyle;   /* "path" | "virtual" | NULL (path if endpoint set) */
  const char *zSse;        /* server-side encryption: "sse_s3" | "sse_kms" | NULL
                           ** (NULL = env TSLITE_S3_SSE, else none) */
  const char *zKmsKey;     /* KMS key id/ARN for sse_kms (NULL = env TSLITE_S3_KMS_KEY) */
  /* Appended by the s3 issue (see docs/object-storage.md): */
  int bAllowHttp;          /* no-op, kept for source compatibility: an endpoint
                           ** is used as configured, http:// included (as is
                           ** the old TSLITE_S3_ALLOW_HTTP variable) */
  const char *zCseKeyFile; /* client-side encryption master key file (32 raw
                           ** bytes or 64 hex digits); NULL = env
                           ** TSLITE_CSE_KEY_FILE, else env TSLITE_CSE_KEY (hex),
                           ** else no client-side encryption */
  const char *zCseKeyId;   /* name recorded in each encrypted object (<= 32
                           ** bytes); NULL = env TSLITE_CSE_KEY_ID or "default" */
  int nMaxAttempts;        /* S3 attempts per request; 0 = env AWS_MAX_ATTEMPTS or 5 */
  /* Appended by the encryption-at-rest issue (docs/object-storage.md): */
  int eCse;                /* client-side encryption: TS_OBJ_CSE_ENV (0, as the
                           ** key fields/environment say), TS_OBJ_CSE_ON,
                           ** TS_OBJ_CSE_OFF or TS_OBJ_CSE_RAW */
};

/* TsObjConfig.eCse.
**   ENV  a key in zCseKeyFile or the environment turns encryption on; without
**        one, reading an object that starts with a client-side encryption
**        header fails naming its key id (instead of returning ciphertext).
**   ON   encryption is required (a table with encryption = 'client'): the
**        open fails, naming the key id, when no key material is configured
**        or the environment's key id (TSLITE_CSE_KEY_ID, default "default")
**        is not zCseKeyId.
**   OFF  no client-side encryption even if the environment holds a key (a
**        table with encryption 'none', 'sse_s3' or 'sse_kms'); reading a
**        sealed object fails naming its key id, as for ENV without a key.
**   RAW  never encrypt or decrypt: the stored bytes as they are (tools, tests). */
#define TS_OBJ_CSE_ENV  0
#define TS_OBJ_CSE_ON   1
#define TS_OBJ_CSE_RAW  2
#define TS_OBJ_CSE_OFF  3

typedef struct TsObjStore TsObjStore;
typedef struct TsObjWriter TsObjWriter;

typedef struct TsObjInfo TsObjInfo;
struct TsObjInfo {
  const char *zKey;        /* key relative to the store root */
  int64_t nSize;           /* bytes */
  int64_t iMtimeMs;        /* last modified, ms since epoch */
  const char *zEtag;       /* ETag without quotes, or "" */
};

/* Open a store rooted at zUri.  *pp is NULL on failure. */
int tsObjOpen(const char *zUri, const TsObjConfig *pCfg, TsObjStore **pp, char **pzErr);

/* Open the store holding the object named by a full URI (s3://bkt/dir/x.pq,
** file:///dir/x.pq) and return its key in *pzKey (malloc'd).  For s3:// the
** store is the bucket and the key every byte after "bkt/" ("dir/x.pq", "a//b"
** kept as is); for file:// the store is the containing directory.
**
** Keys (everywhere): 1..1024 bytes, no leading '/', no "." or ".." segment,
** no control characters; file:// also refuses empty segments ("a//b"). */
int tsObjOpenParent(const char *zUri, const TsObjConfig *pCfg, TsObjStore **pp,
                    char **pzKey, char **pzErr);

void tsObjClose(TsObjStore *p);   /* accepts NULL */

/* The URI that zIn names, as tsObjOpen and tsObjOpenParent read it (both
** call this first, so every user of a store takes plain paths): an s3:// or
** file:// URI is returned as given; a plain path ("data/x.parquet",
** "./out/", "/srv/lake") becomes "file://" + its absolute path, a relative
** one resolved against the working directory (as SQLite resolves database
** names), with "." and ".." segments and repeated '/' folded and a trailing
** '/' kept.  Text that starts like another URI scheme ("gs://b", "http:")
** is an error (write "./name:x" for a file whose name has a ':').
** Returns a malloc'd string, or NULL with *pzErr set. */
char *tsObjUriResolve(const char *zIn, char **pzErr);

/* Whole-object write: the object appears complete or not at all. */
int tsObjPut(TsObjStore *p, const char *zKey, const void *a, size_t n, char **pzErr);

/* Append bytes [iOff, iOff+nLen) of the object to *pOut (nLen<0: to the
** end).  A range past the end is clipped; iOff beyond the size gives
** TS_OBJ_RANGE unless the object is empty and iOff==0. */
int tsObjGet(TsObjStore *p, const char *zKey, int64_t iOff, int64_t nLen,
             TsBuf *pOut, char **pzErr);

/* Size/mtime/etag of one object; TS_OBJ_NOTFOUND if absent. pInfo->zKey and
** zEtag point into the store and stay valid until the next call on p. */
int tsObjHead(TsObjStore *p, const char *zKey, TsObjInfo *pInfo, char **pzErr);

/* Delete; deleting a missing key succeeds. */
int tsObjDelete(TsObjStore *p, const char *zKey, char **pzErr);

/* Delete many keys (S3: DeleteObjects, 1000 per request).  Missing keys
** count as deleted.  Per-key failures reported inside a 200 are errors:
** the message names the first failed key, its S3 error code and how many
** failed.  (Added by the s3 issue.) */
int tsObjDeleteMany(TsObjStore *p, const char *const *azKey, int nKey, char **pzErr);

/* Server-side copy within the store. */
int tsObjCopy(TsObjStore *p, const char *zSrcKey, const char *zDstKey, char **pzErr);

/* Copy object zSrcKey of store pSrc to zDstKey of store pDst (objstore.c,
** added by the backup issue).  Server-side (S3 CopyObject, no bytes through
** this process) when both are S3 stores on the same endpoint, region and
** access key and neither uses client-side encryption; otherwise the bytes
** are streamed: ranged GETs of 8 MiB into a tsObjWriter (decrypting and
** re-encrypting when client-side encryption is on).  The destination
** appears complete or not at all.  *pbServer (if not NULL) is set to 1 for a
** server-side copy, else 0.  A missing source is TS_OBJ_NOTFOUND. */
int tsObjCopyAcross(TsObjStore *pSrc, const char *zSrcKey, TsObjStore *pDst,
                    const char *zDstKey, int *pbServer, char **pzErr);

/* Call xCb for each object whose key starts with zPrefix (relative to the
** root), in key order.  xCb returns non-zero to stop early (not an error).
** With client-side encryption sizes are plaintext sizes, -1 for an object
** whose stored size no encrypted object can have. */
int tsObjList(TsObjStore *p, const char *zPrefix,
              int (*xCb)(void *pCtx, const TsObjInfo *pInfo), void *pCtx, char **pzErr);

/* Streaming upload (multipart on S3, temp file + rename on file://).
** Nothing is visible under zKey until tsObjWriterFinish succeeds; on any
** error, or tsObjWriterAbort, the partial upload is discarded. */
int tsObjWriterOpen(TsObjStore *p, const char *zKey, TsObjWriter **pp, char **pzErr);
int tsObjWriterWrite(TsObjWriter *w, const void *a, size_t n, char **pzErr);
int tsObjWriterFinish(TsObjWriter *w, char **pzErr);   /* frees w */
void tsObjWriterAbort(TsObjWriter *w);                 /* frees w; accepts NULL */

/* The ETag (without quotes) the store reported for the object that the last
** successful tsObjPut or tsObjWriterFinish on p wrote, as tsObjHead and
** tsObjList report it afterwards (with client-side encryption: of the stored
** ciphertext, which is what HEAD and LIST show); "" when the back end reports
** none.  Valid until the next call on p. */
const char *tsObjLastPutEtag(TsObjStore *p);

#endif
