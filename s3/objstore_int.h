/*
** objstore_int.h: internal interface between s3/objstore.c (the public API,
** key checks, client-side encryption) and the back ends (store_file.c,
** store_s3.c).  Nothing outside s3/ includes this.
**
** A back end's store struct begins with a TsObjStore, its writer struct with
** a TsObjWriter, so objstore.c can hold either through the base type.  Keys
** handed to a back end are already validated (tsObjCheckKey) and relative to
** the store root; the back end maps them onto its root itself.
*/
#ifndef OBJSTORE_INT_H
#define OBJSTORE_INT_H
#include "objstore.h"

typedef struct TsObjMethods TsObjMethods;
typedef struct TsObjCrypt TsObjCrypt;
typedef struct TsObjCache TsObjCache;

struct TsObjMethods {
  const char *zScheme;   /* "file" or "s3" */
  void (*xClose)(TsObjStore*);
  int (*xPut)(TsObjStore*, const char *zKey, const void *a, size_t n, char **pzErr);
  int (*xGet)(TsObjStore*, const char *zKey, int64_t iOff, int64_t nLen, TsBuf *pOut,
              char **pzErr);
  int (*xHead)(TsObjStore*, const char *zKey, TsObjInfo *pInfo, char **pzErr);
  int (*xDelete)(TsObjStore*, const char *zKey, char **pzErr);
  int (*xCopy)(TsObjStore*, const char *zSrc, const char *zDst, char **pzErr);
  int (*xList)(TsObjStore*, const char *zPrefix,
               int (*xCb)(void*, const TsObjInfo*), void *pCtx, char **pzErr);
  int (*xWriterOpen)(TsObjStore*, const char *zKey, TsObjWriter **pp, char **pzErr);
  int (*xWriterWrite)(TsObjWriter*, const void *a, size_t n, char **pzErr);
  int (*xWriterFinish)(TsObjWriter*, char **pzErr);   /* frees the writer */
  void (*xWriterAbort)(TsObjWriter*);                  /* frees the writer */
  /* optional (NULL: one xDelete per key) */
  int (*xDeleteMany)(TsObjStore*, const char *const *azKey, int nKey, char **pzErr);
  /* optional (NULL: never server-side; added by the backup issue, used by
  ** tsObjCopyAcross): copy zSrc of store pSrc to zDst of this store on the server.
  ** Returns TS_OBJ_NOCOPY, having sent nothing, when the two stores cannot
  ** copy server-side (another back end, endpoint or credentials). */
  int (*xCopyFrom)(TsObjStore *pDst, const char *zDst, TsObjStore *pSrc, const char *zSrc,
                   char **pzErr);
  /* optional (NULL: unknown; added by the cold cache, objcache.c): the ETag,
  ** without quotes, of the response to the last successful xGet, "" if it
  ** had none. */
  const char *(*xLastGetEtag)(TsObjStore*);
  /* optional (NULL: unknown; added for the cold manifest's etag column):
  ** the ETag, without quotes, that the store reported for the object
  ** written by the last successful xPut or xWriterFinish on this store
  ** (the response's ETag header on S3, the CompleteMultipartUpload
  ** result's ETag, or what xHead would report on file://); "" if none. */
  const char *(*xLastPutEtag)(TsObjStore*);
};
/* xCopyFrom's "not possible here": the caller streams the bytes instead. */
#define TS_OBJ_NOCOPY  (-1)

struct TsObjStore {
  const TsObjMethods *pM;  /* back end */
  TsObjCache *pCache;      /* local block cache (objcache.c), or NULL; owned.
                           ** With one, pM is the cache's copy of the back
                           ** end's methods (xGet goes through the cache). */
  TsObjCrypt *pCrypt;      /* client-side encryption state, or NULL; owned */
  char *zRoot;             /* the URI the store was opened on, no trailing '/',
                           ** for messages; owned by objstore.c */
  int eCse;                /* TsObjConfig.eCse as opened (TS_OBJ_CSE_*) */
};

struct TsObjWriter {
  TsObjStore *pStore;      /* the store written to; not owned */
  TsObjWriter *pInner;     /* encrypting writer: the back end's writer; else NULL */
  int rc;                  /* sticky error of an encrypting writer */
  void *pCryptState;       /* encrypting writer state (objcrypt.c); owned */
};

/* Back-end constructors.  zRest is the URI after "scheme://". */
int tsObjFileOpen(const char *zRest, const TsObjConfig *pCfg, TsObjStore **pp, char **pzErr);
int tsObjS3Open(const char *zRest, const TsObjConfig *pCfg, TsObjStore **pp, char **pzErr);

/* Error helper: replace *pzErr (if pzErr) with a malloc'd message. */
void tsObjErr(char **pzErr, const char *zFmt, ...) __attribute__((format(printf, 2, 3)));
/* malloc'd printf; NULL on OOM. */
char *tsObjMprintf(const char *zFmt, ...) __attribute__((format(printf, 1, 2)));
char *tsObjStrdup(const char *z);

#endif
