/*
** objcache.c: the local on-disk cache of s3:// object bytes (objcache.h).
**
** WHAT IT CACHES: byte ranges, in aligned blocks of TS_OBJCACHE_BLOCK
** (256 KiB) bytes of the object as stored (ciphertext when client-side
** encryption is on: the cache sits under the decryption, so no plaintext
** and no key material reaches the disk).  Byte ranges rather than whole
** objects because the cold scan reads only the column chunks and pages a
** query needs: a whole-object cache would download every column of a big
** object for a query on one measure.  A read is cut into blocks; blocks in
** the cache are copied out, each run of missing blocks is fetched with one
** ranged GET and stored block by block.  A run is read ahead to at least
** OC_READAHEAD blocks (1 MiB) while the following blocks are missing too,
** since a scan's next reads are usually the next column chunks.  A small
** object is one block, so its first read fetches all of it in one GET.
**
** HOW IT HOOKS IN: tsObjCacheEnable (tsObjCacheAttach) gives an open s3://
** store a copy of its back end's method table whose xGet is ocGet, so every ranged read of the
** store, including the client-side decryption's, passes through here, and
** whose xHead (ocHead) answers for the objects the handle has validated;
** the other methods are the back end's.
**
** VALIDATION: the first read of an object through a store handle sends one
** HEAD and remembers the object's ETag and size for the life of the handle
** (the cold scan opens one handle per query, so a query re-validates every
** object it reads: a repeated query sends no GET).  tsObjCacheValidate
** validates many objects with one listing instead (ETag and size of every
** key under a prefix, 1000 a request): the cold scan lists the common prefix
** of the objects it may read, so a warm query over N objects costs one LIST
** request rather than N HEADs.  tsObjCacheTrust needs no request at all:
** the caller knows the ETag and size (the cold manifest records the ETag
** the store reported at upload; a committed object never changes under its
** key), so a warm query whose objects all have one sends nothing.  Blocks are
** filed under the ETag, so an object replaced on the server (new ETag) no
** longer matches any cached block and is fetched again; the first miss of
** an object removes its blocks of other ETags.  A GET whose response
** carries another ETag than the HEAD's (the object changed in between) is
** returned to the caller but not cached, and the next read validates again.
** An object without an ETag, an empty object or a read at or past its end
** is passed through uncached, so the back end's errors stay as they are.
**
** FILES: <dir>/<hh>/<h32>-<e8>-<block>, where h32 is the first 32 hex
** digits of SHA-256("<store identity>\n<key>"), hh its first two, e8 the
** first 8 of SHA-256(etag) and block the block number in decimal.  A file
** (all integers little-endian):
**
**   offset  size  field
**   0       8     magic "TSOCACH1"
**   8       8     block number
**   16      4     nId: bytes of the identity text
**   20      4     nData: bytes of data (TS_OBJCACHE_BLOCK, or less for the
**                 object's last block)
**   24      nId   identity text "<store identity>\n<key>\n<etag>"
**   24+nId  nData the bytes [block*BLOCK, block*BLOCK+nData) of the object
**   ...     4     CRC-32 (zlib's polynomial, tsCrc32) of every byte before it
**
** A file is used only if its magic, block number, identity (compared byte
** for byte, so a hash collision cannot serve another object), length (the
** one the object's size implies) and CRC all match; a file that fails is
** counted as corrupt, removed and fetched again.
**
** SEVERAL PROCESSES: a block is written to "<hh>/.tmp.<pid>.<random>" and
** renamed into place, so a reader opens either nothing or a complete file
** (two writers of one block rename equal contents over each other).  A
** reader holds an open descriptor, so a concurrent eviction (unlink) cannot
** tear its read; a file evicted before it is opened is a miss.  No lock is
** taken: every process evicts on its own and tolerates files vanishing
** under it.  No fsync either: a file torn by a crash fails its CRC.
**
** LRU AND THE BOUND: a hit sets the file's mtime to now (at most once a
** second per file); eviction lists every file, and when their sizes exceed
** the bound removes the oldest until 7/8 of the bound is left (the slack
** keeps the next misses from evicting again at once).  A handle keeps a
** running total: the sizes found by its last listing plus what it wrote
** since; it lists again when the total passes the bound, on its first
** write, and after writing 1/8 of the bound (which bounds what other
** processes' writes can add unseen).  Stale temporary files (a crashed
** writer) older than ten minutes are removed by the listing.
**
** A handle also keeps its last OC_NRECENT verified blocks in memory, so the
** many small reads a Parquet reader makes inside one block cost one file
** read and one CRC.
*/
#include "objcache.h"
#include "objcrypt.h"
#include "objstore_int.h"
#include "sigv4.h"
#include "tscrc.h"
#include "tshash.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OC_MAGIC        "TSOCACH1"
#define OC_HDR          24
#define OC_NRECENT      4
#define OC_READAHEAD    4        /* blocks a miss fetches at least (if missing) */
#define OC_MAX_ETAG     255
#define OC_TMP_AGE_S    600
#define OC_MAX_SIZE     ((int64_t)1<<50)
#define OC_NHASH        1024
#define OC_MAX_OBJ      100000   /* object records a listing may add to a handle */

/* An object seen by this handle. */
typedef struct OcObj OcObj;
struct OcObj {
  char *zKey;                /* store key (owned) */
  char *zId;                 /* identity text "<ident>\n<key>\n<etag>" (owned) */
  char zEtag[OC_MAX_ETAG+1]; /* from the HEAD; "" = not cacheable */
  int64_t nSize;             /* stored size from the HEAD */
  char zName[48];            /* "<h32>-<e8>-" file name prefix */
  char zHh[3];               /* subdirectory */
  int bSwept;                /* blocks of other ETags removed */
  int bValid;                /* zEtag/nSize are from a HEAD or a listing of this handle */
  OcObj *pNext;              /* next in its hash chain */
};

/* A verified block kept in memory. */
typedef struct OcRecent OcRecent;
struct OcRecent {
  OcObj *pObj;               /* NULL = empty slot */
  int64_t iBlock;
  unsigned char *a;          /* block bytes (owned, malloc) */
  size_t n;
  uint64_t iUse;             /* LRU stamp */
};

struct TsObjCache {
  TsObjMethods m;            /* the back end's methods with xGet = ocGet;
                             ** the store's pM points here */
  const TsObjMethods *pInner;/* the back end's own table */
  char *zDir;                /* cache directory, no trailing '/' (owned) */
  char *zIdent;              /* store identity (owned) */
  int64_t nMax;              /* bound in bytes */
  int64_t nUsed;             /* running total of the directory's bytes */
  int64_t nSinceScan;        /* bytes this handle wrote since its last listing */
  int bScanned;              /* listed at least once */
  OcObj *apHash[OC_NHASH];   /* objects seen, hashed on key (owned) */
  int nObj;                  /* records in apHash */
  OcRecent aRecent[OC_NRECENT];
  uint64_t iClock;
  TsObjCacheStats st;
};

/**************************************************************************
** Sizes and usage.
*/
int tsObjCacheParseSize(const char *z, int64_t *pn){
  size_t i = 0, nDigit = 0, nFrac = 0;
  long double v = 0, scale = 1, unit = 1;
  const char *zU;
  if( z==0 ) return 1;
  while( z[i]>='0' && z[i]<='9' ){
    v = v*10 + (z[i]-'0'); i++;
    if( ++nDigit>16 ) return 1;
  }
  if( z[i]=='.' ){
    i++;
    while( z[i]>='0' && z[i]<='9' ){
      scale /= 10; v += (z[i]-'0')*scale; i++;
      if( ++nFrac>9 ) return 1;
    }
    if( nFrac==0 ) return 1;
  }
  if( nDigit==0 ) return 1;
  zU = z + i;
  if( zU[0]==0 || strcasecmp(zU, "B")==0 ) unit = 1;
  else if( strcasecmp(zU, "KB")==0 ) unit = 1024.0L;
  else if( strcasecmp(zU, "MB")==0 ) unit = 1024.0L*1024;
  else if( strcasecmp(zU, "GB")==0 ) unit = 1024.0L*1024*1024;
  else if( strcasecmp(zU, "TB")==0 ) unit = 1024.0L*1024*1024*1024;
  else return 1;
  v = v*unit + 0.5L;
  if( v>(long double)OC_MAX_SIZE ) return 1;
  *pn = (int64_t)v;
  return 0;
}

int tsObjCacheStats(TsObjStore *p, TsObjCacheStats *pSt){
  memset(pSt, 0, sizeof(*pSt));
  if( p==0 || p->pCache==0 ) return 0;
  *pSt = p->pCache->st;
  return 1;
}

/* One cache file found by a listing. */
typedef struct OcFile OcFile;
struct OcFile {
  int64_t iMtimeNs;
  int64_t nByte;
  char zPath[8];             /* "hh/name" (allocated past the struct) */
};

static int ocIsHex2(const char *z){
  return strlen(z)==2 && strspn(z, "0123456789abcdef")==2;
}

/* List every block file under zDir: *pnByte and *pnFile get the totals; with
** papFile, every file (malloc'd array of malloc'd entries, caller frees).
** Temporary files older than OC_TMP_AGE_S are removed. */
static void ocList(const char *zDir, int64_t *pnByte, int64_t *pnFile, OcFile ***papFile,
                   int *pnAlloc){
  DIR *pTop = opendir(zDir);
  struct dirent *pE;
  int64_t nByte = 0, nFile = 0;
  int nAlloc = 0;
  OcFile **aFile = 0;
  time_t tNow = time(0);
  if( papFile ) *papFile = 0;
  while( pTop && (pE = readdir(pTop))!=0 ){
    char *zSub;
    DIR *pSub;
    struct dirent *pF;
    if( !ocIsHex2(pE->d_name) ) continue;
    zSub = tsObjMprintf("%s/%s", zDir, pE->d_name);
    pSub = zSub ? opendir(zSub) : 0;
    while( pSub && (pF = readdir(pSub))!=0 ){
      struct stat st;
      char *zPath;
      if( strcmp(pF->d_name, ".")==0 || strcmp(pF->d_name, "..")==0 ) continue;
      zPath = tsObjMprintf("%s/%s", zSub, pF->d_name);
      if( zPath==0 ) continue;
      if( stat(zPath, &st)!=0 || !S_ISREG(st.st_mode) ){ free(zPath); continue; }
      if( strncmp(pF->d_name, ".tmp.", 5)==0 ){
        if( tNow - st.st_mtime > OC_TMP_AGE_S ) unlink(zPath);
        free(zPath);
        continue;
      }
      nByte += (int64_t)st.st_size;
      nFile++;
      if( papFile ){
        size_t nPath = strlen(zPath);
        OcFile *f = malloc(sizeof(OcFile) + nPath + 1);
        if( f && nFile>nAlloc ){
          int nNew = nAlloc ? 2*nAlloc : 256;
          OcFile **aNew = realloc(aFile, sizeof(OcFile*)*(size_t)nNew);
          if( aNew ){ aFile = aNew; nAlloc = nNew; }
        }
        if( f && nFile<=nAlloc ){
          f->iMtimeNs = (int64_t)st.st_mtim.tv_sec*1000000000 + st.st_mtim.tv_nsec;
          f->nByte = (int64_t)st.st_size;
          memcpy(f->zPath, zPath, nPath + 1);
          aFile[nFile-1] = f;
        }else{
          free(f);
          nFile--;            /* not listed: not counted either */
          nByte -= (int64_t)st.st_size;
        }
      }
      free(zPath);
    }
    if( pSub ) closedir(pSub);
    free(zSub);
  }
  if( pTop ) closedir(pTop);
  *pnByte = nByte;
  *pnFile = nFile;
  if( papFile ){ *papFile = aFile; *pnAlloc = (int)nFile; }
}

void tsObjCacheUsage(const char *zDir, int64_t *pnByte, int64_t *pnFile){
  ocList(zDir, pnByte, pnFile, 0, 0);
}

static int ocFileCmp(const void *a, const void *b){
  const OcFile *x = *(const OcFile*const*)a, *y = *(const OcFile*const*)b;
  if( x->iMtimeNs!=y->iMtimeNs ) return x->iMtimeNs<y->iMtimeNs ? -1 : 1;
  return strcmp(x->zPath, y->zPath);
}

/* List the directory and evict the least recently used files while it
** holds more than the bound. */
static void ocEvict(TsObjCache *c){
  OcFile **aFile = 0;
  int64_t nByte = 0, nFile = 0;
  int n = 0, i;
  ocList(c->zDir, &nByte, &nFile, &aFile, &n);
  if( nByte>c->nMax && aFile ){
    int64_t nTarget = c->nMax - c->nMax/8;
    qsort(aFile, (size_t)n, sizeof(OcFile*), ocFileCmp);
    for(i=0; i<n && nByte>nTarget; i++){
      if( unlink(aFile[i]->zPath)==0 ){
        nByte -= aFile[i]->nByte;
        c->st.nEvict++;
      }else if( errno==ENOENT ){
        nByte -= aFile[i]->nByte;     /* another process evicted it */
      }
    }
  }
  for(i=0; i<n; i++) free(aFile[i]);
  free(aFile);
  c->nUsed = nByte;
  c->nSinceScan = 0;
  c->bScanned = 1;
}

/**************************************************************************
** Objects and block files.
*/
static void ocObjFree(OcObj *o){
  if( o==0 ) return;
  free(o->zKey);
  free(o->zId);
  free(o);
}

/* Drop every memory of object o's blocks (its ETag changed). */
static void ocForgetRecent(TsObjCache *c, OcObj *o){
  int i;
  for(i=0; i<OC_NRECENT; i++){
    if( c->aRecent[i].pObj==o ){
      free(c->aRecent[i].a);
      memset(&c->aRecent[i], 0, sizeof(c->aRecent[i]));
    }
  }
}

/* File object o's blocks under ETag zEtag (NULL or "": not cacheable) and
** size nSize; forgets what the handle kept of its blocks. */
static int ocObjSetEtag(TsObjCache *c, OcObj *o, const char *zEtag, int64_t nSize){
  char zHex[65], zE[65];
  char *zObjId;
  ocForgetRecent(c, o);
  o->zEtag[0] = 0;
  free(o->zId);
  o->zId = 0;
  o->nSize = nSize;
  if( zEtag==0 || zEtag[0]==0 || strlen(zEtag)>OC_MAX_ETAG ) return TS_OBJ_OK;
  zObjId = tsObjMprintf("%s\n%s", c->zIdent, o->zKey);
  o->zId = tsObjMprintf("%s\n%s\n%s", c->zIdent, o->zKey, zEtag);
  if( zObjId==0 || o->zId==0 ){
    free(zObjId);
    free(o->zId);
    o->zId = 0;
    return TS_OBJ_NOMEM;
  }
  memcpy(o->zEtag, zEtag, strlen(zEtag) + 1);
  tsSigv4Sha256Hex(zObjId, strlen(zObjId), zHex);
  free(zObjId);
  tsSigv4Sha256Hex(o->zEtag, strlen(o->zEtag), zE);
  snprintf(o->zName, sizeof(o->zName), "%.32s-%.8s-", zHex, zE);
  memcpy(o->zHh, zHex, 2);
  o->zHh[2] = 0;
  return TS_OBJ_OK;
}

/* (Re)validate object o: HEAD it and file its blocks under the ETag. */
static int ocObjHead(TsObjStore *p, TsObjCache *c, OcObj *o){
  TsObjInfo info;
  char *zErr = 0;
  int rc;
  c->st.nHead++;
  rc = c->pInner->xHead(p, o->zKey, &info, &zErr);
  free(zErr);
  if( rc!=TS_OBJ_OK ){
    ocObjSetEtag(c, o, 0, 0);
    return rc;
  }
  return ocObjSetEtag(c, o, info.zEtag, info.nSize);
}

static unsigned ocKeyHash(const char *z){
  return tsFnv1a32(z, strlen(z));
}

/* The handle's record of object zKey, or NULL. */
static OcObj *ocObjFind(TsObjCache *c, const char *zKey){
  OcObj *o;
  for(o=c->apHash[ocKeyHash(zKey) % OC_NHASH]; o; o=o->pNext){
    if( strcmp(o->zKey, zKey)==0 ) return o;
  }
  return 0;
}

/* A new record of object zKey in the handle (not yet validated). */
static OcObj *ocObjAdd(TsObjCache *c, const char *zKey){
  OcObj *o = calloc(1, sizeof(OcObj));
  unsigned h = ocKeyHash(zKey) % OC_NHASH;
  if( o==0 ) return 0;
  o->zKey = tsObjStrdup(zKey);
  if( o->zKey==0 ){ free(o); return 0; }
  o->pNext = c->apHash[h];
  c->apHash[h] = o;
  c->nObj++;
  return o;
}

/* The handle's record of object zKey, validated (HEAD) on first use unless
** a listing validated it.  NULL when the HEAD failed or on OOM (the record
** is kept, without ETag: the next read tries the HEAD again). */
static OcObj *ocObjGet(TsObjStore *p, TsObjCache *c, const char *zKey){
  OcObj *o = ocObjFind(c, zKey);
  if( o && o->bValid ) return o;
  if( o==0 && (o = ocObjAdd(c, zKey))==0 ) return 0;
  o->bValid = ocObjHead(p, c, o)==TS_OBJ_OK;
  return o->bValid ? o : 0;
}

/* tsObjList callback of tsObjCacheValidate. */
typedef struct OcListCtx OcListCtx;
struct OcListCtx {
  TsObjCache *c;
  int nLeft;                 /* keys still to take */
};
static int ocListCb(void *pArg, const TsObjInfo *pInfo){
  OcListCtx *x = (OcListCtx*)pArg;
  TsObjCache *c = x->c;
  OcObj *o;
  if( x->nLeft--<=0 ) return 1;
  if( c->nObj>=OC_MAX_OBJ ) return 1;
  o = ocObjFind(c, pInfo->zKey);
  if( o && o->bValid ) return 0;
  if( o==0 && (o = ocObjAdd(c, pInfo->zKey))==0 ) return 1;
  if( ocObjSetEtag(c, o, pInfo->zEtag, pInfo->nSize)!=TS_OBJ_OK ) return 1;
  o->bValid = 1;
  return 0;
}

void tsObjCacheValidate(TsObjStore *p, const char *zPrefix, int nMaxKey){
  TsObjCache *c = p ? p->pCache : 0;
  OcListCtx x;
  char *zErr = 0;
  if( c==0 || c->pInner->xList==0 || nMaxKey<=0 ) return;
  x.c = c;
  x.nLeft = nMaxKey;
  c->st.nList++;
  c->pInner->xList(p, zPrefix ? zPrefix : "", ocListCb, &x, &zErr);
  free(zErr);
}

int tsObjCacheTrust(TsObjStore *p, const char *zKey, const char *zEtag, int64_t nSize){
  TsObjCache *c = p ? p->pCache : 0;
  OcObj *o;
  if( c==0 || zKey==0 || zEtag==0 || zEtag[0]==0 || nSize<=0 ) return 1;
  /* The cache holds what the back end stores: with client-side encryption,
  ** the sealed object, whose size follows from the plaintext's. */
  if( p->pCrypt ) nSize = tsObjCryptStoredSize(nSize);
  o = ocObjFind(c, zKey);
  if( o && o->bValid ) return 0;
  if( o==0 && (c->nObj>=OC_MAX_OBJ || (o = ocObjAdd(c, zKey))==0) ) return 1;
  if( ocObjSetEtag(c, o, zEtag, nSize)!=TS_OBJ_OK ) return 1;
  o->bValid = 1;
  c->st.nTrusted++;
  return 0;
}

/* TsObjMethods.xHead of a store with a cache: an object this handle has
** validated (a HEAD, a listing, or a trusted manifest ETag) is answered
** from its record, with no request; the others go to the back end.  The
** client-side decryption layer asks for the stored size of every object it
** opens, so a warm scan of an encrypted table sends nothing either. */
static int ocHead(TsObjStore *p, const char *zKey, TsObjInfo *pInfo, char **pzErr){
  TsObjCache *c = p->pCache;
  OcObj *o = ocObjFind(c, zKey);
  if( o && o->bValid && o->zEtag[0] && o->nSize>0 ){
    memset(pInfo, 0, sizeof(*pInfo));
    pInfo->zKey = o->zKey;
    pInfo->nSize = o->nSize;
    pInfo->zEtag = o->zEtag;
    return TS_OBJ_OK;
  }
  return c->pInner->xHead(p, zKey, pInfo, pzErr);
}

/* Path of block iBlock of o (malloc'd). */
static char *ocPath(TsObjCache *c, OcObj *o, int64_t iBlock){
  return tsObjMprintf("%s/%s/%s%lld", c->zDir, o->zHh, o->zName, (long long)iBlock);
}

/* Bytes in block iBlock of o. */
static size_t ocBlockLen(OcObj *o, int64_t iBlock){
  int64_t n = o->nSize - iBlock*TS_OBJCACHE_BLOCK;
  return (size_t)(n>TS_OBJCACHE_BLOCK ? TS_OBJCACHE_BLOCK : n);
}

static uint32_t ocGet32(const unsigned char *a){
  return (uint32_t)a[0] | (uint32_t)a[1]<<8 | (uint32_t)a[2]<<16 | (uint32_t)a[3]<<24;
}
static uint64_t ocGet64(const unsigned char *a){
  return (uint64_t)ocGet32(a) | (uint64_t)ocGet32(a+4)<<32;
}

/* Keep a verified block in memory (takes ownership of a). */
static void ocRecentPut(TsObjCache *c, OcObj *o, int64_t iBlock, unsigned char *a, size_t n){
  OcRecent *r = &c->aRecent[0];
  int i;
  for(i=1; i<OC_NRECENT && r->pObj; i++){
    if( c->aRecent[i].pObj==0 || c->aRecent[i].iUse<r->iUse ) r = &c->aRecent[i];
  }
  free(r->a);
  r->pObj = o;
  r->iBlock = iBlock;
  r->a = a;
  r->n = n;
  r->iUse = ++c->iClock;
}

static OcRecent *ocRecentFind(TsObjCache *c, OcObj *o, int64_t iBlock){
  int i;
  for(i=0; i<OC_NRECENT; i++){
    OcRecent *r = &c->aRecent[i];
    if( r->pObj==o && r->iBlock==iBlock ){ r->iUse = ++c->iClock; return r; }
  }
  return 0;
}

/* Load block iBlock of o from its file into memory (ocRecentPut).
** Returns 1 if it is there now, 0 on a miss (absent, or failed its check:
** then removed and counted). */
static int ocLoad(TsObjCache *c, OcObj *o, int64_t iBlock){
  char *zPath = ocPath(c, o, iBlock);
  size_t nId = strlen(o->zId), nData = ocBlockLen(o, iBlock), nFile = OC_HDR + nId + nData + 4;
  unsigned char *a = 0;
  struct stat st;
  int fd = -1, bOk = 0, bBad = 0;
  if( zPath==0 ) return 0;
  fd = open(zPath, O_RDONLY|O_CLOEXEC);
  if( fd>=0 && fstat(fd, &st)==0 ){
    if( (size_t)st.st_size!=nFile ){
      bBad = 1;
    }else if( (a = malloc(nFile))!=0 ){
      size_t nGot = 0;
      while( nGot<nFile ){
        ssize_t k = read(fd, a + nGot, nFile - nGot);
        if( k<0 && errno==EINTR ) continue;
        if( k<=0 ) break;
        nGot += (size_t)k;
      }
      if( nGot!=nFile
       || memcmp(a, OC_MAGIC, 8)!=0
       || ocGet64(a+8)!=(uint64_t)iBlock
       || ocGet32(a+16)!=(uint32_t)nId
       || ocGet32(a+20)!=(uint32_t)nData
       || memcmp(a+OC_HDR, o->zId, nId)!=0
       || ocGet32(a+nFile-4)!=tsCrc32(0, a, nFile-4) ){
        bBad = 1;
      }else{
        bOk = 1;
        /* LRU stamp, at most once a second per file. */
        if( time(0) > st.st_mtime ) futimens(fd, 0);
      }
    }
  }
  if( fd>=0 ) close(fd);
  if( bBad ){
    c->st.nCorrupt++;
    unlink(zPath);
  }
  free(zPath);
  if( !bOk ){ free(a); return 0; }
  memmove(a, a + OC_HDR + nId, nData);
  ocRecentPut(c, o, iBlock, a, nData);
  return 1;
}

/* Remove o's block files of other ETags (once per object and handle). */
static void ocSweep(TsObjCache *c, OcObj *o){
  char *zSub = tsObjMprintf("%s/%s", c->zDir, o->zHh);
  DIR *pD = zSub ? opendir(zSub) : 0;
  struct dirent *pE;
  int bStale = 0;
  o->bSwept = 1;
  while( pD && (pE = readdir(pD))!=0 ){
    if( strncmp(pE->d_name, o->zName, 33)==0 && strncmp(pE->d_name, o->zName, 42)!=0 ){
      char *zPath = tsObjMprintf("%s/%s", zSub, pE->d_name);
      if( zPath && unlink(zPath)==0 ) bStale = 1;
      free(zPath);
    }
  }
  if( pD ) closedir(pD);
  free(zSub);
  if( bStale ) c->st.nStale++;
}

/* Write block iBlock of o (a, n bytes) into its file.  Failures are
** counted, never reported: the cache only ever saves requests. */
static void ocStore(TsObjCache *c, OcObj *o, int64_t iBlock, const unsigned char *a, size_t n){
  size_t nId = strlen(o->zId);
  char *zSub = tsObjMprintf("%s/%s", c->zDir, o->zHh);
  char *zTmp = 0, *zPath = ocPath(c, o, iBlock);
  unsigned char aHdr[OC_HDR], aCrc[4];
  uint32_t crc;
  int fd = -1, bOk = 0, i;
  if( zSub==0 || zPath==0 ) goto done;
  if( mkdir(c->zDir, 0700)!=0 && errno!=EEXIST ) goto done;
  if( mkdir(zSub, 0700)!=0 && errno!=EEXIST ) goto done;
  {
    unsigned int r = 0;
    int fdR = open("/dev/urandom", O_RDONLY|O_CLOEXEC);
    if( fdR>=0 ){ if( read(fdR, &r, sizeof(r))<0 ) r = 0; close(fdR); }
    zTmp = tsObjMprintf("%s/.tmp.%ld.%08x", zSub, (long)getpid(), r ^ (unsigned)c->iClock);
  }
  if( zTmp==0 ) goto done;
  memcpy(aHdr, OC_MAGIC, 8);
  for(i=0; i<8; i++) aHdr[8+i] = (unsigned char)((uint64_t)iBlock>>(8*i));
  for(i=0; i<4; i++) aHdr[16+i] = (unsigned char)((uint32_t)nId>>(8*i));
  for(i=0; i<4; i++) aHdr[20+i] = (unsigned char)((uint32_t)n>>(8*i));
  crc = tsCrc32(0, aHdr, OC_HDR);
  crc = tsCrc32(crc, o->zId, nId);
  crc = tsCrc32(crc, a, n);
  for(i=0; i<4; i++) aCrc[i] = (unsigned char)(crc>>(8*i));
  fd = open(zTmp, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600);
  if( fd<0 ) goto done;
  {
    const void *aPart[4];
    size_t anPart[4];
    int k;
    aPart[0] = aHdr; anPart[0] = OC_HDR;
    aPart[1] = o->zId; anPart[1] = nId;
    aPart[2] = a; anPart[2] = n;
    aPart[3] = aCrc; anPart[3] = 4;
    bOk = 1;
    for(k=0; k<4 && bOk; k++){
      size_t nDone = 0;
      while( nDone<anPart[k] ){
        ssize_t w = write(fd, (const char*)aPart[k] + nDone, anPart[k] - nDone);
        if( w<0 && errno==EINTR ) continue;
        if( w<=0 ){ bOk = 0; break; }
        nDone += (size_t)w;
      }
    }
  }
  if( close(fd)!=0 ) bOk = 0;
  fd = -1;
  if( bOk && rename(zTmp, zPath)!=0 ) bOk = 0;
  if( bOk ){
    int64_t nFile = (int64_t)(OC_HDR + nId + n + 4);
    c->nUsed += nFile;
    c->nSinceScan += nFile;
  }else{
    unlink(zTmp);
  }
done:
  if( !bOk ) c->st.nWriteErr++;
  free(zSub);
  free(zTmp);
  free(zPath);
}

/**************************************************************************
** The cached read (TsObjMethods.xGet of a store with a cache).
*/
static int ocGet(TsObjStore *p, const char *zKey, int64_t iOff, int64_t nLen, TsBuf *pOut,
                 char **pzErr){
  TsObjCache *c = p->pCache;
  OcObj *o;
  int64_t iEnd, iBlock, iLast, iLastObj;
  size_t n0 = pOut->n;
  int rc = TS_OBJ_OK, bWrote = 0;
  if( nLen==0 ) return c->pInner->xGet(p, zKey, iOff, nLen, pOut, pzErr);
  o = ocObjGet(p, c, zKey);
  if( o==0 || o->zEtag[0]==0 || o->nSize<=0 || iOff>=o->nSize
   || (int64_t)ocBlockLen(o, 0)>c->nMax ){
    c->st.nBypass++;
    return c->pInner->xGet(p, zKey, iOff, nLen, pOut, pzErr);
  }
  iEnd = (nLen<0 || nLen>o->nSize - iOff) ? o->nSize : iOff + nLen;
  if( tsBufReserve(pOut, (size_t)(iEnd - iOff)) ) return TS_OBJ_NOMEM;
  iLast = (iEnd - 1)/TS_OBJCACHE_BLOCK;
  iLastObj = (o->nSize - 1)/TS_OBJCACHE_BLOCK;
  for(iBlock=iOff/TS_OBJCACHE_BLOCK; rc==TS_OBJ_OK && iBlock<=iLast; ){
    OcRecent *r = ocRecentFind(c, o, iBlock);
    if( r || ocLoad(c, o, iBlock) ){
      int64_t iB0 = iBlock*TS_OBJCACHE_BLOCK;
      int64_t a = iOff>iB0 ? iOff - iB0 : 0;
      int64_t b = iEnd<iB0 + TS_OBJCACHE_BLOCK ? iEnd - iB0 : TS_OBJCACHE_BLOCK;
      if( r==0 ) r = ocRecentFind(c, o, iBlock);
      if( r==0 || (int64_t)r->n<b ){ rc = TS_OBJ_ERROR; break; }   /* cannot happen */
      tsBufAppend(pOut, r->a + a, (size_t)(b - a));
      c->st.nHit++;
      c->st.nByteHit += b - a;
      iBlock++;
    }else{
      /* A run of missing blocks: one ranged GET. */
      int64_t iRunEnd = iBlock, iF0 = iBlock*TS_OBJCACHE_BLOCK, iF1, k;
      TsBuf fetched;
      const char *zGotEtag;
      /* Read ahead past the blocks asked for (the next reads of a scan are
      ** usually the following column chunks), within OC_READAHEAD blocks a
      ** run and the object's end. */
      while( iRunEnd<iLastObj && (iRunEnd<iLast || iRunEnd-iBlock+1<OC_READAHEAD)
          && ocRecentFind(c, o, iRunEnd+1)==0 ){
        char *zPath = ocPath(c, o, iRunEnd+1);
        int bHave = zPath && access(zPath, F_OK)==0;
        free(zPath);
        if( bHave ) break;
        iRunEnd++;
      }
      iF1 = (iRunEnd+1)*TS_OBJCACHE_BLOCK;
      if( iF1>o->nSize ) iF1 = o->nSize;
      if( !o->bSwept ) ocSweep(c, o);
      tsBufInit(&fetched);
      c->st.nGet++;
      rc = c->pInner->xGet(p, zKey, iF0, iF1 - iF0, &fetched, pzErr);
      if( rc==TS_OBJ_OK && fetched.bErr ) rc = TS_OBJ_NOMEM;
      zGotEtag = c->pInner->xLastGetEtag ? c->pInner->xLastGetEtag(p) : 0;
      if( rc==TS_OBJ_OK
       && ((int64_t)fetched.n!=iF1 - iF0 || (zGotEtag && zGotEtag[0] && strcmp(zGotEtag, o->zEtag)!=0)) ){
        /* The object changed since the HEAD (another size or ETag): hand
        ** out what the store has now, uncached, and validate again next
        ** time. */
        tsBufFree(&fetched);
        c->st.nStale++;
        c->st.nBypass++;
        o->bValid = ocObjHead(p, c, o)==TS_OBJ_OK;
        pOut->n = n0;
        return c->pInner->xGet(p, zKey, iOff, nLen, pOut, pzErr);
      }
      if( rc==TS_OBJ_OK ){
        c->st.nByteFetched += (int64_t)fetched.n;
        for(k=iBlock; k<=iRunEnd; k++){
          int64_t iB0 = k*TS_OBJCACHE_BLOCK;
          size_t nB = ocBlockLen(o, k);
          const unsigned char *aB = fetched.a + (iB0 - iF0);
          int64_t a = iOff>iB0 ? iOff - iB0 : 0;
          int64_t b = iEnd<iB0 + (int64_t)nB ? iEnd - iB0 : (int64_t)nB;
          unsigned char *aCopy;
          ocStore(c, o, k, aB, nB);
          bWrote = 1;
          if( k<=iLast ) tsBufAppend(pOut, aB + a, (size_t)(b - a));
          c->st.nMiss++;
          if( k>=iRunEnd-(OC_NRECENT-1) && (aCopy = malloc(nB ? nB : 1))!=0 ){
            memcpy(aCopy, aB, nB);
            ocRecentPut(c, o, k, aCopy, nB);
          }
        }
        iBlock = iRunEnd + 1;
      }
      tsBufFree(&fetched);
    }
  }
  if( bWrote && (!c->bScanned || c->nUsed>c->nMax || c->nSinceScan>c->nMax/8) ) ocEvict(c);
  if( rc==TS_OBJ_OK && pOut->bErr ) rc = TS_OBJ_NOMEM;
  if( rc!=TS_OBJ_OK ) pOut->n = n0;
  return rc;
}

/**************************************************************************
** Attach and detach.
*/
int tsObjCacheEnable(TsObjStore *p, const char *zDir, int64_t nMax, const char *zEndpoint){
  char *zIdent;
  int rc;
  if( p==0 || strcmp(p->pM->zScheme, "s3")!=0 || p->zRoot==0 ) return 1;
  if( zEndpoint==0 || zEndpoint[0]==0 ) zEndpoint = getenv("AWS_ENDPOINT_URL_S3");
  if( zEndpoint==0 || zEndpoint[0]==0 ) zEndpoint = getenv("AWS_ENDPOINT_URL");
  zIdent = tsObjMprintf("%s %s", p->zRoot, zEndpoint ? zEndpoint : "");
  if( zIdent==0 ) return 1;
  rc = tsObjCacheAttach(p, zDir, nMax, zIdent);
  free(zIdent);
  return rc;
}

int tsObjCacheAttach(TsObjStore *p, const char *zDir, int64_t nMax, const char *zIdent){
  TsObjCache *c;
  size_t n;
  if( zDir==0 || zDir[0]==0 || nMax<=0 || p->pCache ) return 1;
  if( mkdir(zDir, 0700)!=0 && errno!=EEXIST ) return 1;
  c = calloc(1, sizeof(TsObjCache));
  if( c==0 ) return 1;
  n = strlen(zDir);
  while( n>1 && zDir[n-1]=='/' ) n--;
  c->zDir = tsObjMprintf("%.*s", (int)n, zDir);
  c->zIdent = tsObjStrdup(zIdent ? zIdent : "");
  if( c->zDir==0 || c->zIdent==0 ){
    free(c->zDir); free(c->zIdent); free(c);
    return 1;
  }
  c->nMax = nMax;
  c->pInner = p->pM;
  c->m = *p->pM;
  c->m.xGet = ocGet;
  c->m.xHead = ocHead;
  p->pCache = c;
  p->pM = &c->m;
  return 0;
}

void tsObjCacheDetach(TsObjStore *p){
  TsObjCache *c = p->pCache;
  int i;
  if( c==0 ) return;
  p->pM = c->pInner;
  p->pCache = 0;
  for(i=0; i<OC_NHASH; i++){
    while( c->apHash[i] ){
      OcObj *o = c->apHash[i];
      c->apHash[i] = o->pNext;
      ocObjFree(o);
    }
  }
  for(i=0; i<OC_NRECENT; i++) free(c->aRecent[i].a);
  free(c->zDir);
  free(c->zIdent);
  free(c);
}
