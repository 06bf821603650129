/*
** store_file.c: the file:///dir back end of the object store.
**
** Object "a/b.parquet" of store file:///data is the file /data/a/b.parquet.
** Directories are created on demand and pruned (when empty) after deletes,
** so the tree looks like the S3 key space.  Writes are atomic: bytes go to a
** hidden temp file ".tslite-tmp-*" in the target directory, are fsync'ed,
** then rename()d over the final name and the directory is fsync'ed; a crash
** leaves either the old object, the new one, or a temp file that listings
** ignore.  Streaming writers use the same temp file, so nothing is visible
** under the key before tsObjWriterFinish.
**
** Keys may not contain empty segments ("a//b") or end in '/': on a file
** system they would alias other keys.  ETags are "<mtime ns hex>-<size
** hex>": they change whenever the file is replaced.
*/
#include "objstore_int.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define FILE_TMP_PREFIX ".tslite-tmp-"
#define FILE_IO_CHUNK   (1 << 20)

typedef struct FileStore FileStore;
struct FileStore {
  TsObjStore base;
  char *zDir;          /* root directory, absolute, no trailing '/'; owned */
  char *zHeadKey;      /* key returned by the last xHead; owned */
  char zEtag[40];      /* etag returned by the last xHead */
  char zPutEtag[40];   /* etag of the file the last xPut/xWriterFinish wrote */
  unsigned nTmp;       /* counter making temp names unique within a process */
};

typedef struct FileWriter FileWriter;
struct FileWriter {
  TsObjWriter base;
  int fd;              /* temp file, open for writing */
  char *zTmp;          /* temp file path; owned */
  char *zFinal;        /* final path; owned */
  char *zKey;          /* key, for messages; owned */
};

static void fillInfo(const struct stat *pSt, TsObjInfo *pInfo, char *zEtag, size_t nEtag);

static int errnoRc(int e){ return e==ENOENT || e==ENOTDIR ? TS_OBJ_NOTFOUND : TS_OBJ_ERROR; }

static int fileCheckKey(FileStore *p, const char *zOp, const char *zKey, char **pzErr){
  size_t n = strlen(zKey);
  if( strstr(zKey, "//") || (n>0 && zKey[n-1]=='/') ){
    tsObjErr(pzErr, "file:// %s '%s' in %s: empty path segment ('//' or trailing '/') is not "
             "allowed in a file:// store", zOp, zKey, p->zDir);
    return TS_OBJ_ERROR;
  }
  return TS_OBJ_OK;
}

static char *filePath(FileStore *p, const char *zKey){
  return tsObjMprintf("%s/%s", p->zDir, zKey);
}

/* mkdir -p of the directories of zPath below the root (the last component
** of zPath is a file name and is not created). */
static int makeParents(FileStore *p, const char *zPath, const char *zOp, const char *zKey,
                       char **pzErr){
  char *z = tsObjStrdup(zPath);
  size_t i;
  int rc = TS_OBJ_OK;
  (void)p;
  if( z==0 ) return TS_OBJ_NOMEM;
  /* The root itself is created too (mkdir -p), so a new prefix works. */
  for(i=1; z[i]; i++){
    if( z[i]=='/' ){
      z[i] = 0;
      if( mkdir(z, 0777)!=0 && errno!=EEXIST ){
        tsObjErr(pzErr, "file:// %s '%s': cannot create directory %s: %s", zOp, zKey, z,
                 strerror(errno));
        rc = TS_OBJ_ERROR;
        break;
      }
      z[i] = '/';
    }
  }
  free(z);
  return rc;
}

static void fsyncDirOf(const char *zPath){
  const char *zSlash = strrchr(zPath, '/');
  char *zDir;
  int fd;
  if( zSlash==0 ) return;
  zDir = malloc((size_t)(zSlash - zPath) + 2);
  if( zDir==0 ) return;
  memcpy(zDir, zPath, (size_t)(zSlash - zPath));
  zDir[zSlash - zPath] = 0;
  if( zDir[0]==0 ){ zDir[0] = '/'; zDir[1] = 0; }
  fd = open(zDir, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
  if( fd>=0 ){ (void)fsync(fd); close(fd); }
  free(zDir);
}

static void fileClose(TsObjStore *pBase){
  FileStore *p = (FileStore*)pBase;
  free(p->zDir);
  free(p->zHeadKey);
  free(p);
}

/* ---- writer: temp file + fsync + rename ---- */

static int fileWriterOpen(TsObjStore *pBase, const char *zKey, TsObjWriter **pp, char **pzErr){
  FileStore *p = (FileStore*)pBase;
  FileWriter *w = 0;
  const char *zBase;
  int rc = fileCheckKey(p, "put", zKey, pzErr);
  *pp = 0;
  if( rc!=TS_OBJ_OK ) return rc;
  w = calloc(1, sizeof(*w));
  if( w==0 ) return TS_OBJ_NOMEM;
  w->base.pStore = pBase;
  w->fd = -1;
  w->zKey = tsObjStrdup(zKey);
  w->zFinal = filePath(p, zKey);
  if( w->zKey==0 || w->zFinal==0 ){ rc = TS_OBJ_NOMEM; goto fail; }
  zBase = strrchr(w->zFinal, '/') + 1;
  w->zTmp = tsObjMprintf("%.*s" FILE_TMP_PREFIX "%s-%ld-%u", (int)(zBase - w->zFinal), w->zFinal,
                         zBase, (long)getpid(), ++p->nTmp);
  if( w->zTmp==0 ){ rc = TS_OBJ_NOMEM; goto fail; }
  rc = makeParents(p, w->zFinal, "put", zKey, pzErr);
  if( rc!=TS_OBJ_OK ) goto fail;
  w->fd = open(w->zTmp, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666);
  if( w->fd<0 ){
    tsObjErr(pzErr, "file:// put '%s' in %s: cannot create %s: %s", zKey, p->zDir, w->zTmp,
             strerror(errno));
    rc = TS_OBJ_ERROR;
    goto fail;
  }
  *pp = &w->base;
  return TS_OBJ_OK;
fail:
  free(w->zKey); free(w->zFinal); free(w->zTmp); free(w);
  return rc;
}

static void fileWriterFree(FileWriter *w, int bUnlink){
  if( w->fd>=0 ) close(w->fd);
  if( bUnlink && w->zTmp ) unlink(w->zTmp);
  free(w->zKey); free(w->zFinal); free(w->zTmp); free(w);
}

static int fileWriterWrite(TsObjWriter *pBase, const void *a, size_t n, char **pzErr){
  FileWriter *w = (FileWriter*)pBase;
  const unsigned char *z = (const unsigned char*)a;
  while( n>0 ){
    ssize_t k = write(w->fd, z, n);
    if( k<0 ){
      if( errno==EINTR ) continue;
      tsObjErr(pzErr, "file:// put '%s' in %s: write failed: %s", w->zKey,
               ((FileStore*)w->base.pStore)->zDir, strerror(errno));
      return TS_OBJ_ERROR;
    }
    z += k;
    n -= (size_t)k;
  }
  return TS_OBJ_OK;
}

static int fileWriterFinish(TsObjWriter *pBase, char **pzErr){
  FileWriter *w = (FileWriter*)pBase;
  FileStore *p = (FileStore*)w->base.pStore;
  const char *zDir = p->zDir;
  int rc = TS_OBJ_OK;
  p->zPutEtag[0] = 0;
  if( fsync(w->fd)!=0 ){
    tsObjErr(pzErr, "file:// put '%s' in %s: fsync failed: %s", w->zKey, zDir, strerror(errno));
    rc = TS_OBJ_ERROR;
  }else if( close(w->fd)!=0 ){
    w->fd = -1;
    tsObjErr(pzErr, "file:// put '%s' in %s: close failed: %s", w->zKey, zDir, strerror(errno));
    rc = TS_OBJ_ERROR;
  }else{
    w->fd = -1;
    if( rename(w->zTmp, w->zFinal)!=0 ){
      tsObjErr(pzErr, "file:// put '%s' in %s: rename to %s failed: %s", w->zKey, zDir,
               w->zFinal, strerror(errno));
      rc = TS_OBJ_ERROR;
    }else{
      struct stat st;
      TsObjInfo info;
      fsyncDirOf(w->zFinal);
      /* What xHead reports for it from now on (rename keeps the mtime). */
      if( stat(w->zFinal, &st)==0 ) fillInfo(&st, &info, p->zPutEtag, sizeof(p->zPutEtag));
    }
  }
  fileWriterFree(w, rc!=TS_OBJ_OK);
  return rc;
}

static void fileWriterAbort(TsObjWriter *pBase){
  fileWriterFree((FileWriter*)pBase, 1);
}

static int filePut(TsObjStore *p, const char *zKey, const void *a, size_t n, char **pzErr){
  TsObjWriter *w = 0;
  int rc = fileWriterOpen(p, zKey, &w, pzErr);
  if( rc==TS_OBJ_OK ) rc = fileWriterWrite(w, a, n, pzErr);
  if( rc==TS_OBJ_OK ) return fileWriterFinish(w, pzErr);
  if( w ) fileWriterAbort(w);
  return rc;
}

/* ---- reads ---- */

static int fileGet(TsObjStore *pBase, const char *zKey, int64_t iOff, int64_t nLen,
                   TsBuf *pOut, char **pzErr){
  FileStore *p = (FileStore*)pBase;
  char *zPath;
  int fd;
  struct stat st;
  int64_t nWant;
  int rc = fileCheckKey(p, "get", zKey, pzErr);
  if( rc!=TS_OBJ_OK ) return rc;
  zPath = filePath(p, zKey);
  if( zPath==0 ) return TS_OBJ_NOMEM;
  fd = open(zPath, O_RDONLY|O_CLOEXEC);
  if( fd<0 || fstat(fd, &st)!=0 || !S_ISREG(st.st_mode) ){
    int e = fd<0 ? errno : ENOENT;
    if( fd>=0 ) close(fd);
    rc = errnoRc(e);
    tsObjErr(pzErr, "file:// get '%s' in %s: %s", zKey, p->zDir,
             rc==TS_OBJ_NOTFOUND ? "no such object" : strerror(e));
    free(zPath);
    return rc;
  }
  free(zPath);
  if( iOff>=st.st_size && !(iOff==0 && st.st_size==0) ){
    close(fd);
    tsObjErr(pzErr, "file:// get '%s' in %s: range offset %lld is beyond the object size %lld",
             zKey, p->zDir, (long long)iOff, (long long)st.st_size);
    return TS_OBJ_RANGE;
  }
  nWant = st.st_size - iOff;
  if( nLen>=0 && nLen<nWant ) nWant = nLen;
  if( tsBufReserve(pOut, (size_t)nWant) ){
    close(fd);
    tsObjErr(pzErr, "file:// get '%s' in %s: out of memory for %lld bytes", zKey, p->zDir,
             (long long)nWant);
    return TS_OBJ_NOMEM;
  }
  while( nWant>0 ){
    ssize_t k = pread(fd, pOut->a + pOut->n, (size_t)nWant, (off_t)iOff);
    if( k<0 && errno==EINTR ) continue;
    if( k<=0 ){
      tsObjErr(pzErr, "file:// get '%s' in %s: read failed: %s", zKey, p->zDir,
               k<0 ? strerror(errno) : "file shrank while reading");
      rc = TS_OBJ_ERROR;
      break;
    }
    pOut->n += (size_t)k;
    iOff += k;
    nWant -= k;
  }
  close(fd);
  return rc;
}

static void fillInfo(const struct stat *pSt, TsObjInfo *pInfo, char *zEtag, size_t nEtag){
  /* A file may carry any mtime: milliseconds fit int64 for +-292 million
  ** years, nanoseconds overflow past 2262 (objsql.c turns those into NULL).
  ** The ETag only needs to change with the file: unsigned, wrapping. */
  uint64_t uNs = (uint64_t)pSt->st_mtim.tv_sec*1000000000u + (uint64_t)pSt->st_mtim.tv_nsec;
  pInfo->nSize = (int64_t)pSt->st_size;
  pInfo->iMtimeMs = (int64_t)pSt->st_mtim.tv_sec*1000 + pSt->st_mtim.tv_nsec/1000000;
  snprintf(zEtag, nEtag, "%llx-%llx", (unsigned long long)uNs, (unsigned long long)pSt->st_size);
  pInfo->zEtag = zEtag;
}

static int fileHead(TsObjStore *pBase, const char *zKey, TsObjInfo *pInfo, char **pzErr){
  FileStore *p = (FileStore*)pBase;
  struct stat st;
  char *zPath;
  int rc = fileCheckKey(p, "head", zKey, pzErr);
  memset(pInfo, 0, sizeof(*pInfo));
  if( rc!=TS_OBJ_OK ) return rc;
  zPath = filePath(p, zKey);
  if( zPath==0 ) return TS_OBJ_NOMEM;
  memset(&st, 0, sizeof(st));
  if( stat(zPath, &st)!=0 || !S_ISREG(st.st_mode) ){
    int e = S_ISREG(st.st_mode) ? errno : ENOENT;   /* a directory is no object */
    rc = errnoRc(e);
    tsObjErr(pzErr, "file:// head '%s' in %s: %s", zKey, p->zDir,
             rc==TS_OBJ_NOTFOUND ? "no such object" : strerror(e));
    free(zPath);
    return rc;
  }
  free(zPath);
  free(p->zHeadKey);
  p->zHeadKey = tsObjStrdup(zKey);
  if( p->zHeadKey==0 ) return TS_OBJ_NOMEM;
  pInfo->zKey = p->zHeadKey;
  fillInfo(&st, pInfo, p->zEtag, sizeof(p->zEtag));
  return TS_OBJ_OK;
}

static int fileDelete(TsObjStore *pBase, const char *zKey, char **pzErr){
  FileStore *p = (FileStore*)pBase;
  char *zPath;
  char *zSlash;
  size_t nRoot = strlen(p->zDir);
  int rc = fileCheckKey(p, "delete", zKey, pzErr);
  if( rc!=TS_OBJ_OK ) return rc;
  zPath = filePath(p, zKey);
  if( zPath==0 ) return TS_OBJ_NOMEM;
  if( unlink(zPath)!=0 && errno!=ENOENT && errno!=ENOTDIR && errno!=EISDIR ){
    tsObjErr(pzErr, "file:// delete '%s' in %s: %s", zKey, p->zDir, strerror(errno));
    rc = TS_OBJ_ERROR;
  }else{
    /* Prune now-empty parent directories below the root (best effort). */
    while( (zSlash = strrchr(zPath, '/'))!=0 && (size_t)(zSlash - zPath)>nRoot ){
      *zSlash = 0;
      if( rmdir(zPath)!=0 ) break;
    }
  }
  free(zPath);
  return rc;
}

static int fileCopy(TsObjStore *pBase, const char *zSrc, const char *zDst, char **pzErr){
  FileStore *p = (FileStore*)pBase;
  TsObjWriter *w = 0;
  char *zPath;
  unsigned char *aBuf;
  int fd;
  int rc = fileCheckKey(p, "copy", zSrc, pzErr);
  if( rc!=TS_OBJ_OK ) return rc;
  zPath = filePath(p, zSrc);
  aBuf = malloc(FILE_IO_CHUNK);
  if( zPath==0 || aBuf==0 ){ free(zPath); free(aBuf); return TS_OBJ_NOMEM; }
  fd = open(zPath, O_RDONLY|O_CLOEXEC);
  free(zPath);
  if( fd<0 ){
    rc = errnoRc(errno);
    tsObjErr(pzErr, "file:// copy '%s' to '%s' in %s: %s", zSrc, zDst, p->zDir,
             rc==TS_OBJ_NOTFOUND ? "no such object" : strerror(errno));
    free(aBuf);
    return rc;
  }
  rc = fileWriterOpen(pBase, zDst, &w, pzErr);
  while( rc==TS_OBJ_OK ){
    ssize_t k = read(fd, aBuf, FILE_IO_CHUNK);
    if( k<0 && errno==EINTR ) continue;
    if( k<0 ){
      tsObjErr(pzErr, "file:// copy '%s' in %s: read failed: %s", zSrc, p->zDir, strerror(errno));
      rc = TS_OBJ_ERROR;
      break;
    }
    if( k==0 ) break;
    rc = fileWriterWrite(w, aBuf, (size_t)k, pzErr);
  }
  close(fd);
  free(aBuf);
  if( rc==TS_OBJ_OK ) return fileWriterFinish(w, pzErr);
  if( w ) fileWriterAbort(w);
  return rc;
}

/* ---- listing ---- */

typedef struct FileEntry FileEntry;
struct FileEntry {
  char *zKey;
  struct stat st;
};
typedef struct FileList FileList;
struct FileList {
  FileEntry *a;
  size_t n, nAlloc;
  int rc;
};

static int entryCmp(const void *a, const void *b){
  return strcmp(((const FileEntry*)a)->zKey, ((const FileEntry*)b)->zKey);
}

/* Collect every regular file under root/zRel (zRel "" or ending in '/')
** whose key starts with zPrefix. */
static void walk(FileStore *p, FileList *pL, const char *zRel, const char *zPrefix, char **pzErr){
  char *zDirPath = tsObjMprintf("%s/%s", p->zDir, zRel);
  DIR *d;
  struct dirent *e;
  size_t nPre = strlen(zPrefix);
  if( zDirPath==0 ){ pL->rc = TS_OBJ_NOMEM; return; }
  d = opendir(zDirPath);
  if( d==0 ){
    if( errno!=ENOENT && errno!=ENOTDIR ){
      tsObjErr(pzErr, "file:// list '%s' in %s: cannot open %s: %s", zPrefix, p->zDir, zDirPath,
               strerror(errno));
      pL->rc = TS_OBJ_ERROR;
    }
    free(zDirPath);
    return;
  }
  while( pL->rc==TS_OBJ_OK && (e = readdir(d))!=0 ){
    char *zKey, *zPath;
    struct stat st;
    size_t nKey;
    if( strcmp(e->d_name, ".")==0 || strcmp(e->d_name, "..")==0 ) continue;
    if( strncmp(e->d_name, FILE_TMP_PREFIX, strlen(FILE_TMP_PREFIX))==0 ) continue;
    zKey = tsObjMprintf("%s%s", zRel, e->d_name);
    zPath = zKey ? tsObjMprintf("%s/%s", p->zDir, zKey) : 0;
    if( zPath==0 ){ free(zKey); pL->rc = TS_OBJ_NOMEM; break; }
    nKey = strlen(zKey);
    if( stat(zPath, &st)==0 ){
      if( S_ISDIR(st.st_mode) ){
        /* Descend if keys below "zKey/" can match the prefix. */
        size_t nCmp = nKey + 1 < nPre ? nKey + 1 : nPre;
        char *zSub = tsObjMprintf("%s/", zKey);
        if( zSub==0 ) pL->rc = TS_OBJ_NOMEM;
        else if( strncmp(zSub, zPrefix, nCmp)==0 ) walk(p, pL, zSub, zPrefix, pzErr);
        free(zSub);
      }else if( S_ISREG(st.st_mode) && strncmp(zKey, zPrefix, nPre)==0 ){
        if( pL->n==pL->nAlloc ){
          size_t nNew = pL->nAlloc ? pL->nAlloc*2 : 64;
          FileEntry *aNew = realloc(pL->a, nNew*sizeof(FileEntry));
          if( aNew==0 ){ pL->rc = TS_OBJ_NOMEM; free(zKey); free(zPath); break; }
          pL->a = aNew;
          pL->nAlloc = nNew;
        }
        pL->a[pL->n].zKey = zKey;
        pL->a[pL->n].st = st;
        pL->n++;
        zKey = 0;
      }
    }
    free(zKey);
    free(zPath);
  }
  closedir(d);
  free(zDirPath);
}

static int fileList(TsObjStore *pBase, const char *zPrefix,
                    int (*xCb)(void*, const TsObjInfo*), void *pCtx, char **pzErr){
  FileStore *p = (FileStore*)pBase;
  FileList l;
  char *zStart;
  const char *zSlash = strrchr(zPrefix, '/');
  size_t i;
  memset(&l, 0, sizeof(l));
  /* Start the walk at the deepest directory the prefix names. */
  zStart = zSlash ? tsObjMprintf("%.*s", (int)(zSlash - zPrefix + 1), zPrefix) : tsObjStrdup("");
  if( zStart==0 ) return TS_OBJ_NOMEM;
  if( zSlash && strstr(zStart, "//") ){
    free(zStart);
    return TS_OBJ_OK;   /* no file key contains "//" */
  }
  walk(p, &l, zStart, zPrefix, pzErr);
  free(zStart);
  if( l.rc==TS_OBJ_NOMEM ) tsObjErr(pzErr, "file:// list '%s' in %s: out of memory", zPrefix, p->zDir);
  if( l.rc==TS_OBJ_OK ){
    if( l.n>1 ) qsort(l.a, l.n, sizeof(FileEntry), entryCmp);
    for(i=0; i<l.n; i++){
      TsObjInfo info;
      char zEtag[40];
      memset(&info, 0, sizeof(info));
      info.zKey = l.a[i].zKey;
      fillInfo(&l.a[i].st, &info, zEtag, sizeof(zEtag));
      if( xCb(pCtx, &info) ) break;
    }
  }
  for(i=0; i<l.n; i++) free(l.a[i].zKey);
  free(l.a);
  return l.rc;
}

static const char *fileLastPutEtag(TsObjStore *pBase){
  return ((FileStore*)pBase)->zPutEtag;
}

static const TsObjMethods fileMethods = {
  "file", fileClose, filePut, fileGet, fileHead, fileDelete, fileCopy, fileList,
  fileWriterOpen, fileWriterWrite, fileWriterFinish, fileWriterAbort, 0, 0, 0, fileLastPutEtag
};

int tsObjFileOpen(const char *zRest, const TsObjConfig *pCfg, TsObjStore **pp, char **pzErr){
  FileStore *p;
  size_t n;
  struct stat st;
  (void)pCfg;
  *pp = 0;
  if( zRest[0]!='/' ){
    tsObjErr(pzErr, "file:// store: '%s' is not an absolute path (use file:///abs/dir)", zRest);
    return TS_OBJ_ERROR;
  }
  if( strstr(zRest, "/../") || (strlen(zRest)>=3 && strcmp(zRest + strlen(zRest) - 3, "/..")==0) ){
    tsObjErr(pzErr, "file:// store: '%s' has a '..' path segment", zRest);
    return TS_OBJ_ERROR;
  }
  p = calloc(1, sizeof(*p));
  if( p==0 ) return TS_OBJ_NOMEM;
  p->base.pM = &fileMethods;
  p->zDir = tsObjStrdup(zRest);
  if( p->zDir==0 ){ free(p); return TS_OBJ_NOMEM; }
  n = strlen(p->zDir);
  while( n>1 && p->zDir[n-1]=='/' ) p->zDir[--n] = 0;
  if( n==1 ) p->zDir[0] = 0;   /* root "/": keys become "/key" */
  if( stat(n==1 ? "/" : p->zDir, &st)==0 && !S_ISDIR(st.st_mode) ){
    tsObjErr(pzErr, "file:// store: %s exists and is not a directory", zRest);
    fileClose(&p->base);
    return TS_OBJ_ERROR;
  }
  *pp = &p->base;
  return TS_OBJ_OK;
}
