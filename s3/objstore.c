/*
** objstore.c: the public object-store API of objstore.h.
**
** Resolves plain paths to file:// URIs (tsObjUriResolve), parses the URI
** scheme and hands the rest to a back end (store_file.c for
** file://, store_s3.c for s3://), validates every key once here so the back
** ends agree on what a key may be, and routes reads and writes through the
** client-side envelope encryption of objcrypt.c when a master key is
** configured (TsObjConfig.zCseKeyFile / TSLITE_CSE_KEY*), so both back ends
** get it for free.
**
** Keys: 1..1024 bytes of UTF-8, relative to the store root, no leading '/',
** no "." or ".." path segment, no control characters (they cannot travel
** in S3's XML listings).  The file back end also rejects empty segments
** ("a//b"), which would alias another key on a file system.
*/
#include "objstore_int.h"
#include "objcrypt.h"
#include "objcache.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TS_OBJ_MAX_KEY 1024

char *tsObjMprintf(const char *zFmt, ...){
  va_list ap;
  int n;
  char *z;
  va_start(ap, zFmt);
  n = vsnprintf(0, 0, zFmt, ap);
  va_end(ap);
  if( n<0 ) return 0;
  z = malloc((size_t)n + 1);
  if( z==0 ) return 0;
  va_start(ap, zFmt);
  vsnprintf(z, (size_t)n + 1, zFmt, ap);
  va_end(ap);
  return z;
}

char *tsObjStrdup(const char *z){
  size_t n;
  char *zOut;
  if( z==0 ) return 0;
  n = strlen(z);
  zOut = malloc(n + 1);
  if( zOut ) memcpy(zOut, z, n + 1);
  return zOut;
}

void tsObjErr(char **pzErr, const char *zFmt, ...){
  va_list ap;
  int n;
  char *z;
  if( pzErr==0 ) return;
  free(*pzErr);
  *pzErr = 0;
  va_start(ap, zFmt);
  n = vsnprintf(0, 0, zFmt, ap);
  va_end(ap);
  if( n<0 ) return;
  z = malloc((size_t)n + 1);
  if( z==0 ) return;
  va_start(ap, zFmt);
  vsnprintf(z, (size_t)n + 1, zFmt, ap);
  va_end(ap);
  *pzErr = z;
}

/* Check a key (bPrefix: a list prefix, which may be empty).  Returns
** TS_OBJ_OK or TS_OBJ_ERROR with a message naming the key and the rule. */
static int checkKey(const char *zKey, int bPrefix, const char *zOp, char **pzErr){
  size_t n, i, iSeg;
  if( zKey==0 ) zKey = "";
  n = strlen(zKey);
  if( n==0 && !bPrefix ){
    tsObjErr(pzErr, "%s: empty object key", zOp);
    return TS_OBJ_ERROR;
  }
  if( n>TS_OBJ_MAX_KEY ){
    tsObjErr(pzErr, "%s: object key of %zu bytes is longer than %d bytes", zOp, n, TS_OBJ_MAX_KEY);
    return TS_OBJ_ERROR;
  }
  if( zKey[0]=='/' ){
    tsObjErr(pzErr, "%s: object key '%s' must be relative (no leading '/')", zOp, zKey);
    return TS_OBJ_ERROR;
  }
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)zKey[i];
    if( c<0x20 || c==0x7f ){
      tsObjErr(pzErr, "%s: object key contains control character 0x%02x at byte %zu", zOp, c, i);
      return TS_OBJ_ERROR;
    }
  }
  /* "." and ".." segments: a whole segment, or the trailing partial
  ** segment of a prefix ("a/.." would list the parent). */
  for(iSeg=0; iSeg<=n; ){
    size_t j = iSeg;
    while( j<n && zKey[j]!='/' ) j++;
    if( (j-iSeg==1 && zKey[iSeg]=='.') || (j-iSeg==2 && zKey[iSeg]=='.' && zKey[iSeg+1]=='.') ){
      tsObjErr(pzErr, "%s: object key '%s' has a '.' or '..' path segment", zOp, zKey);
      return TS_OBJ_ERROR;
    }
    iSeg = j + 1;
  }
  return TS_OBJ_OK;
}

/* Length of a URI scheme prefix "name:" at the start of z (0 if none):
** RFC 3986 scheme characters then ':'. */
static size_t uriSchemeLen(const char *z){
  size_t i = 0;
  if( !((z[0]>='a' && z[0]<='z') || (z[0]>='A' && z[0]<='Z')) ) return 0;
  while( (z[i]>='a' && z[i]<='z') || (z[i]>='A' && z[i]<='Z') || (z[i]>='0' && z[i]<='9')
      || z[i]=='+' || z[i]=='-' || z[i]=='.' ) i++;
  return z[i]==':' ? i+1 : 0;
}

char *tsObjUriResolve(const char *zIn, char **pzErr){
  TsBuf b, path;
  char *zCwd = 0, *zOut;
  size_t n, i, nSeg = 0, aSegEnd[512];
  int bDirTail;
  if( zIn==0 || zIn[0]==0 ){
    tsObjErr(pzErr, "object store: empty URI or path");
    return 0;
  }
  if( strncmp(zIn, "s3://", 5)==0 || strncmp(zIn, "file://", 7)==0 ) return tsObjStrdup(zIn);
  if( uriSchemeLen(zIn) ){
    tsObjErr(pzErr, "object store: unsupported URI '%s' (expected s3://bucket/..., "
             "file:///dir/... or a file path)", zIn);
    return 0;
  }
  /* The absolute path, then fold it segment by segment into path. */
  tsBufInit(&b);
  tsBufInit(&path);
  if( zIn[0]!='/' ){
    zCwd = getcwd(0, 0);
    if( zCwd==0 ){
      tsObjErr(pzErr, "object store: cannot resolve relative path '%s': no working directory", zIn);
      return 0;
    }
    tsBufAppendStr(&b, zCwd);
    tsBufAppendByte(&b, '/');
    free(zCwd);
  }
  tsBufAppendStr(&b, zIn);
  n = b.n;
  bDirTail = n>0 && (b.a[n-1]=='/' || (n>=2 && b.a[n-1]=='.' && b.a[n-2]=='/')
                     || (n>=3 && b.a[n-1]=='.' && b.a[n-2]=='.' && b.a[n-3]=='/'));
  for(i=0; i<n && !b.bErr; ){
    size_t j = i;
    while( j<n && b.a[j]!='/' ) j++;
    if( j-i==0 || (j-i==1 && b.a[i]=='.') ){
      /* empty or "." segment: nothing */
    }else if( j-i==2 && b.a[i]=='.' && b.a[i+1]=='.' ){
      if( nSeg>0 ){ nSeg--; path.n = nSeg ? aSegEnd[nSeg-1] : 0; }
    }else{
      if( nSeg>=sizeof(aSegEnd)/sizeof(aSegEnd[0]) ){
        tsObjErr(pzErr, "object store: path '%s' has too many segments", zIn);
        tsBufFree(&b); tsBufFree(&path);
        return 0;
      }
      tsBufAppendByte(&path, '/');
      tsBufAppend(&path, b.a + i, j - i);
      aSegEnd[nSeg++] = path.n;
    }
    i = j + 1;
  }
  zOut = b.bErr || path.bErr ? 0
       : tsObjMprintf("file://%.*s%s", (int)path.n, path.n ? (const char*)path.a : "",
                      path.n==0 || bDirTail ? "/" : "");
  tsBufFree(&b);
  tsBufFree(&path);
  if( zOut==0 ) tsObjErr(pzErr, "object store: out of memory");
  return zOut;
}

int tsObjOpen(const char *zUri, const TsObjConfig *pCfg, TsObjStore **pp, char **pzErr){
  TsObjConfig cfg;
  TsObjStore *p = 0;
  char *zRes;           /* zUri resolved (plain paths -> file://); owned */
  int rc;
  *pp = 0;
  memset(&cfg, 0, sizeof(cfg));
  if( pCfg ) cfg = *pCfg;
  if( zUri==0 ){
    tsObjErr(pzErr, "object store: no URI given");
    return TS_OBJ_ERROR;
  }
  zRes = tsObjUriResolve(zUri, pzErr);
  if( zRes==0 ) return TS_OBJ_ERROR;
  zUri = zRes;
  if( strncmp(zUri, "file://", 7)==0 ){
    rc = tsObjFileOpen(zUri + 7, &cfg, &p, pzErr);
  }else if( strncmp(zUri, "s3://", 5)==0 ){
    rc = tsObjS3Open(zUri + 5, &cfg, &p, pzErr);
  }else{
    tsObjErr(pzErr, "object store: unsupported URI '%s' (expected s3://bucket[/prefix] or file:///dir)", zUri);
    free(zRes);
    return TS_OBJ_ERROR;
  }
  if( rc==TS_OBJ_OK ){
    size_t n = strlen(zUri);
    while( n>0 && zUri[n-1]=='/' ) n--;
    p->zRoot = tsObjMprintf("%.*s", (int)n, zUri);
    p->eCse = cfg.eCse;
    rc = p->zRoot ? tsObjCryptConfigure(&cfg, &p->pCrypt, pzErr) : TS_OBJ_NOMEM;
    if( rc!=TS_OBJ_OK ){
      free(p->zRoot);
      p->pM->xClose(p);
      p = 0;
    }
  }
  *pp = p;
  free(zRes);
  return rc;
}

static int openParent(const char *zUri, const TsObjConfig *pCfg, TsObjStore **pp,
                      char **pzKey, char **pzErr){
  const char *zSplit;   /* the '/' between the store root and the key */
  const char *zPath;
  char *zRoot = 0;
  int rc;
  *pp = 0;
  *pzKey = 0;
  if( zUri==0 ){
    tsObjErr(pzErr, "object store: no URI given");
    return TS_OBJ_ERROR;
  }
  if( strncmp(zUri, "s3://", 5)==0 ){
    /* Rooted at the bucket: the key keeps every byte after "bucket/",
    ** including "//" (a legal S3 key). */
    zPath = zUri + 5;
    zSplit = strchr(zPath, '/');
  }else if( strncmp(zUri, "file://", 7)==0 ){
    /* Rooted at the containing directory.  An empty segment would alias
    ** another file, so it is refused here as the file store does. */
    zPath = zUri + 7;
    zSplit = strrchr(zPath, '/');
    if( strstr(zPath, "//") ){
      tsObjErr(pzErr, "object store: URI '%s' has an empty path segment ('//'), which is not "
               "allowed in a file:// store", zUri);
      return TS_OBJ_ERROR;
    }
    if( zSplit==zPath ) zSplit = 0;   /* file:///x: no directory */
  }else{
    tsObjErr(pzErr, "object store: unsupported URI '%s' (expected s3://bucket/key or file:///dir/file)", zUri);
    return TS_OBJ_ERROR;
  }
  if( zSplit==0 || zSplit[1]==0 ){
    tsObjErr(pzErr, "object store: URI '%s' does not name an object", zUri);
    return TS_OBJ_ERROR;
  }
  rc = checkKey(zSplit + 1, 0, "object store", pzErr);
  if( rc!=TS_OBJ_OK ) return rc;
  zRoot = malloc((size_t)(zSplit - zUri) + 1);
  if( zRoot==0 ) return TS_OBJ_NOMEM;
  memcpy(zRoot, zUri, (size_t)(zSplit - zUri));
  zRoot[zSplit - zUri] = 0;
  rc = tsObjOpen(zRoot, pCfg, pp, pzErr);
  if( rc==TS_OBJ_OK ){
    *pzKey = tsObjStrdup(zSplit + 1);
    if( *pzKey==0 ){
      tsObjClose(*pp);
      *pp = 0;
      rc = TS_OBJ_NOMEM;
    }
  }
  free(zRoot);
  return rc;
}

int tsObjOpenParent(const char *zUri, const TsObjConfig *pCfg, TsObjStore **pp,
                    char **pzKey, char **pzErr){
  char *zRes;
  int rc;
  *pp = 0;
  *pzKey = 0;
  if( zUri==0 ){
    tsObjErr(pzErr, "object store: no URI given");
    return TS_OBJ_ERROR;
  }
  zRes = tsObjUriResolve(zUri, pzErr);
  if( zRes==0 ) return TS_OBJ_ERROR;
  rc = openParent(zRes, pCfg, pp, pzKey, pzErr);
  free(zRes);
  return rc;
}

void tsObjClose(TsObjStore *p){
  if( p==0 ) return;
  tsObjCacheDetach(p);
  tsObjCryptFree(p->pCrypt);
  p->pCrypt = 0;
  free(p->zRoot);
  p->zRoot = 0;
  p->pM->xClose(p);
}

int tsObjPut(TsObjStore *p, const char *zKey, const void *a, size_t n, char **pzErr){
  int rc = checkKey(zKey, 0, "put", pzErr);
  if( rc!=TS_OBJ_OK ) return rc;
  if( p->pCrypt ) return tsObjCryptPut(p, zKey, a, n, pzErr);
  return p->pM->xPut(p, zKey, a, n, pzErr);
}

int tsObjGet(TsObjStore *p, const char *zKey, int64_t iOff, int64_t nLen,
             TsBuf *pOut, char **pzErr){
  int rc = checkKey(zKey, 0, "get", pzErr);
  if( rc!=TS_OBJ_OK ) return rc;
  if( iOff<0 ){
    tsObjErr(pzErr, "get '%s': negative offset %lld", zKey, (long long)iOff);
    return TS_OBJ_RANGE;
  }
  /* No object reaches INT64_MAX bytes: a longer length means "to the end".
  ** Clamping here keeps iOff + nLen from overflowing in every back end (the
  ** S3 Range header, the decrypting reader's end of range). */
  if( nLen>INT64_MAX - iOff ) nLen = INT64_MAX - iOff;
  if( p->pCrypt ) return tsObjCryptGet(p, zKey, iOff, nLen, pOut, pzErr);
  {
    size_t n0 = pOut->n;
    rc = p->pM->xGet(p, zKey, iOff, nLen, pOut, pzErr);
    /* No key configured, and the object is client-side encrypted: say which
    ** key it needs rather than hand ciphertext to a parser. */
    if( rc==TS_OBJ_OK && iOff==0 && p->eCse!=TS_OBJ_CSE_RAW && pOut->n - n0>=8
     && memcmp(pOut->a + n0, "TSLCSE0", 7)==0 ){
      char zId[33];
      size_t i, nId = 0;
      if( pOut->n - n0>=40 ){
        for(nId=0; nId<32 && pOut->a[n0 + 8 + nId]; nId++){}
        memcpy(zId, pOut->a + n0 + 8, nId);
      }
      zId[nId] = 0;
      for(i=0; i<nId; i++) if( (unsigned char)zId[i]<0x20 || zId[i]==0x7f ) zId[i] = '?';
      pOut->n = n0;
      if( nId ){
        tsObjErr(pzErr, "object %s/%s is client-side encrypted with key id '%s', and no client-side "
                 "key is configured: set TSLITE_CSE_KEY_FILE (or TSLITE_CSE_KEY) to key '%s' and "
                 "TSLITE_CSE_KEY_ID='%s'", p->zRoot, zKey, zId, zId, zId);
      }else{
        tsObjErr(pzErr, "object %s/%s is client-side encrypted, and no client-side key is "
                 "configured (TSLITE_CSE_KEY_FILE or TSLITE_CSE_KEY)", p->zRoot, zKey);
      }
      rc = TS_OBJ_ERROR;
    }
  }
  return rc;
}

int tsObjHead(TsObjStore *p, const char *zKey, TsObjInfo *pInfo, char **pzErr){
  int rc = checkKey(zKey, 0, "head", pzErr);
  if( rc!=TS_OBJ_OK ) return rc;
  rc = p->pM->xHead(p, zKey, pInfo, pzErr);
  if( rc==TS_OBJ_OK && p->pCrypt ){
    int64_t nStored = pInfo->nSize;
    pInfo->nSize = tsObjCryptPlainSize(nStored);
    if( pInfo->nSize<0 ){
      tsObjErr(pzErr, "head %s/%s: stored size %lld is not that of a client-side encrypted "
               "object (plaintext object, or truncated)", p->zRoot, zKey, (long long)nStored);
      rc = TS_OBJ_CORRUPT;
    }
  }
  return rc;
}

int tsObjDelete(TsObjStore *p, const char *zKey, char **pzErr){
  int rc = checkKey(zKey, 0, "delete", pzErr);
  if( rc!=TS_OBJ_OK ) return rc;
  tsObjCryptForget(p->pCrypt, zKey);
  return p->pM->xDelete(p, zKey, pzErr);
}

int tsObjDeleteMany(TsObjStore *p, const char *const *azKey, int nKey, char **pzErr){
  int i, rc = TS_OBJ_OK;
  for(i=0; i<nKey && rc==TS_OBJ_OK; i++) rc = checkKey(azKey[i], 0, "delete", pzErr);
  if( rc!=TS_OBJ_OK || nKey<=0 ) return rc;
  tsObjCryptForget(p->pCrypt, 0);
  if( p->pM->xDeleteMany ) return p->pM->xDeleteMany(p, azKey, nKey, pzErr);
  for(i=0; i<nKey && rc==TS_OBJ_OK; i++) rc = p->pM->xDelete(p, azKey[i], pzErr);
  return rc;
}

int tsObjCopy(TsObjStore *p, const char *zSrcKey, const char *zDstKey, char **pzErr){
  int rc = checkKey(zSrcKey, 0, "copy", pzErr);
  if( rc==TS_OBJ_OK ) rc = checkKey(zDstKey, 0, "copy", pzErr);
  if( rc!=TS_OBJ_OK ) return rc;
  tsObjCryptForget(p->pCrypt, zDstKey);
  /* An encrypted object is bound to its key (objcrypt.c): a byte copy would
  ** not open under the new key, so it is re-sealed through this process. */
  if( p->pCrypt ) return tsObjCopyAcross(p, zSrcKey, p, zDstKey, 0, pzErr);
  return p->pM->xCopy(p, zSrcKey, zDstKey, pzErr);
}

/* Cross-store copy (objstore.h).  The streamed path reads 8 MiB ranges so
** memory stays bounded whatever the object's size. */
#define OBJ_COPY_CHUNK (8 << 20)
int tsObjCopyAcross(TsObjStore *pSrc, const char *zSrcKey, TsObjStore *pDst,
                    const char *zDstKey, int *pbServer, char **pzErr){
  TsObjWriter *w = 0;
  TsBuf b;
  int64_t iOff = 0;
  int rc = checkKey(zSrcKey, 0, "copy", pzErr);
  if( pbServer ) *pbServer = 0;
  if( rc==TS_OBJ_OK ) rc = checkKey(zDstKey, 0, "copy", pzErr);
  if( rc!=TS_OBJ_OK ) return rc;
  if( pSrc->pCrypt==0 && pDst->pCrypt==0 && pDst->pM->xCopyFrom ){
    rc = pDst->pM->xCopyFrom(pDst, zDstKey, pSrc, zSrcKey, pzErr);
    if( rc!=TS_OBJ_NOCOPY ){
      if( rc==TS_OBJ_OK && pbServer ) *pbServer = 1;
      return rc;
    }
  }
  tsBufInit(&b);
  rc = tsObjWriterOpen(pDst, zDstKey, &w, pzErr);
  while( rc==TS_OBJ_OK ){
    tsBufReset(&b);
    rc = tsObjGet(pSrc, zSrcKey, iOff, OBJ_COPY_CHUNK, &b, pzErr);
    if( rc==TS_OBJ_RANGE && iOff>0 ){ rc = TS_OBJ_OK; break; }  /* size was a multiple */
    if( rc!=TS_OBJ_OK ) break;
    if( b.n>0 ) rc = tsObjWriterWrite(w, b.a, b.n, pzErr);
    iOff += (int64_t)b.n;
    if( b.n<(size_t)OBJ_COPY_CHUNK ) break;
  }
  tsBufFree(&b);
  if( rc==TS_OBJ_OK ) return tsObjWriterFinish(w, pzErr);
  tsObjWriterAbort(w);
  return rc;
}

/* With encryption on, listed sizes are translated to plaintext sizes (-1
** for an object whose stored size no encrypted object can have). */
typedef struct ListCtx ListCtx;
struct ListCtx {
  int (*xCb)(void*, const TsObjInfo*);
  void *pCtx;
};
static int listCryptCb(void *pArg, const TsObjInfo *pInfo){
  ListCtx *pL = (ListCtx*)pArg;
  TsObjInfo info = *pInfo;
  info.nSize = tsObjCryptPlainSize(info.nSize);
  return pL->xCb(pL->pCtx, &info);
}

int tsObjList(TsObjStore *p, const char *zPrefix,
              int (*xCb)(void *pCtx, const TsObjInfo *pInfo), void *pCtx, char **pzErr){
  int rc = checkKey(zPrefix, 1, "list", pzErr);
  if( rc!=TS_OBJ_OK ) return rc;
  if( zPrefix==0 ) zPrefix = "";
  if( p->pCrypt ){
    ListCtx l;
    l.xCb = xCb;
    l.pCtx = pCtx;
    return p->pM->xList(p, zPrefix, listCryptCb, &l, pzErr);
  }
  return p->pM->xList(p, zPrefix, xCb, pCtx, pzErr);
}

int tsObjWriterOpen(TsObjStore *p, const char *zKey, TsObjWriter **pp, char **pzErr){
  int rc = checkKey(zKey, 0, "writer", pzErr);
  *pp = 0;
  if( rc!=TS_OBJ_OK ) return rc;
  if( p->pCrypt ) return tsObjCryptWriterOpen(p, zKey, pp, pzErr);
  return p->pM->xWriterOpen(p, zKey, pp, pzErr);
}

int tsObjWriterWrite(TsObjWriter *w, const void *a, size_t n, char **pzErr){
  if( w->pCryptState ) return tsObjCryptWriterWrite(w, a, n, pzErr);
  return w->pStore->pM->xWriterWrite(w, a, n, pzErr);
}

int tsObjWriterFinish(TsObjWriter *w, char **pzErr){
  if( w->pCryptState ) return tsObjCryptWriterFinish(w, pzErr);
  return w->pStore->pM->xWriterFinish(w, pzErr);
}

const char *tsObjLastPutEtag(TsObjStore *p){
  const char *z = p && p->pM->xLastPutEtag ? p->pM->xLastPutEtag(p) : 0;
  return z ? z : "";
}

void tsObjWriterAbort(TsObjWriter *w){
  if( w==0 ) return;
  if( w->pCryptState ){
    tsObjCryptWriterAbort(w);
    return;
  }
  w->pStore->pM->xWriterAbort(w);
}
