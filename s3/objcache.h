/*
** objcache.h: the local on-disk cache of s3:// object bytes (objcache.c).
**
** An s3:// store given a cache with tsObjCacheEnable serves every ranged read (tsObjGet, and the client-side decryption
** reads beneath it) from fixed-size blocks kept in files under zCacheDir,
** validated by the object's ETag, evicted least recently used first to
** keep the directory under nCacheMax bytes, shared safely by every process
** that uses the same directory.  The format and the rules are at the top of
** objcache.c.  Knows nothing of SQLite.
*/
#ifndef OBJCACHE_H
#define OBJCACHE_H
#include <stdint.h>
#include "objstore.h"

/* Block size: reads are served and stored in aligned blocks of this many
** bytes (the last block of an object is shorter). */
#define TS_OBJCACHE_BLOCK  (256*1024)

/* Counters of one store handle's cache, since the store was opened. */
typedef struct TsObjCacheStats TsObjCacheStats;
struct TsObjCacheStats {
  int64_t nHit;          /* blocks served from the cache */
  int64_t nMiss;         /* blocks fetched from the store (and cached) */
  int64_t nByteHit;      /* bytes of reads served from the cache */
  int64_t nByteFetched;  /* bytes fetched from the store by the cache */
  int64_t nGet;          /* GET requests the cache sent */
  int64_t nHead;         /* HEAD requests (ETag validation, once per object) */
  int64_t nList;         /* listings (tsObjCacheValidate) */
  int64_t nTrusted;      /* objects validated by a known ETag (tsObjCacheTrust),
                         ** with no request */
  int64_t nBypass;       /* reads passed through uncached (no ETag, empty
                         ** object, out-of-range offset, failed HEAD) */
  int64_t nStale;        /* objects whose cached blocks had another ETag */
  int64_t nCorrupt;      /* cache files that failed their check (removed) */
  int64_t nEvict;        /* cache files evicted to keep the bound */
  int64_t nWriteErr;     /* cache files that could not be written */
};

/* Parse a cache size: "0" (off), or a number with an optional fraction and
** a unit B, KB, MB, GB or TB (case-insensitive, binary: 1KB = 1024 bytes;
** no unit = bytes), e.g. "1GB", "512MB", "0.5GB".  Returns 0 and sets *pn,
** or 1 for text that is not such a size (or exceeds 2^50 bytes). */
int tsObjCacheParseSize(const char *z, int64_t *pn);

/* Counters of store p's cache into *pSt (zeroed when it has none).
** Returns 1 if p has a cache, else 0. */
int tsObjCacheStats(TsObjStore *p, TsObjCacheStats *pSt);

/* Validate the objects under key prefix zPrefix with one listing (LIST
** requests of up to 1000 keys) instead of a HEAD each on first read: their
** ETag and size are taken from the listing, for at most nMaxKey keys (the
** others are HEADed when read).  No-op for a store without a cache; a
** failed listing is ignored (the objects are then HEADed). */
void tsObjCacheValidate(TsObjStore *p, const char *zPrefix, int nMaxKey);

/* Validate object zKey of store p with no request: its ETag zEtag and
** stored size nSize are known to the caller (the cold manifest records the
** ETag the store reported at upload, and committed objects never change
** under their key).  Its cached blocks of that ETag are then served without
** a HEAD or a listing; a GET whose response carries another ETag is still
** returned uncached.  Returns 0 if recorded (or already validated by this
** handle), 1 with nothing done: no cache, client-side encryption (the
** caller's size is the plaintext's, and the decryption reads each object's
** header itself), an empty ETag, nSize <= 0 or out of memory. */
int tsObjCacheTrust(TsObjStore *p, const char *zKey, const char *zEtag, int64_t nSize);

/* Bytes and files now in cache directory zDir (every process's blocks);
** both 0 when it does not exist. */
void tsObjCacheUsage(const char *zDir, int64_t *pnByte, int64_t *pnFile);

/* Give the open s3:// store p a cache in directory zDir (created if
** missing) bounded to nMax bytes; zEndpoint is the endpoint the store was
** opened with (NULL: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL), which with the
** store's root names it inside the cache files.  Returns 0, or 1 with the
** store left uncached: not an s3:// store, nMax <= 0, a directory that
** cannot be created, out of memory, or a cache already there.  The cache is
** freed by tsObjClose. */
int tsObjCacheEnable(TsObjStore *p, const char *zDir, int64_t nMax, const char *zEndpoint);

/* The same with the store's identity text given (tests); and the free of
** tsObjClose (objstore.c). */
int tsObjCacheAttach(TsObjStore *p, const char *zDir, int64_t nMax, const char *zIdent);
void tsObjCacheDetach(TsObjStore *p);

#endif
