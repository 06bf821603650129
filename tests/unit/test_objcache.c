/*
** test_objcache.c: s3/objcache.c against an in-memory back end that counts
** its requests: block splitting and read-ahead, reads across blocks and at
** the object's end, warm handles (no GET), a new ETag (refetch, old blocks
** dropped), an ETag that changes between HEAD and GET (served, not cached),
** a damaged cache file (detected, refetched), the bound, pass-through cases,
** and tsObjCacheParseSize.
*/
#include "tt.h"
#include "objcache.h"
#include "objstore_int.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct Fake Fake;
struct Fake {
  TsObjStore base;
  unsigned char *a;
  int64_t n;
  char zEtag[64];          /* what HEAD answers */
  char zGetEtag[64];       /* what GET answers ("" = same as zEtag) */
  int nGet, nHead, nList;
  int64_t nGetBytes;
};

static int fakeGet(TsObjStore *p, const char *zKey, int64_t iOff, int64_t nLen, TsBuf *pOut,
                   char **pzErr){
  Fake *f = (Fake*)p;
  int64_t iEnd;
  (void)zKey; (void)pzErr;
  f->nGet++;
  if( iOff>=f->n && !(iOff==0 && f->n==0) ) return TS_OBJ_RANGE;
  iEnd = nLen<0 || nLen>f->n - iOff ? f->n : iOff + nLen;
  tsBufAppend(pOut, f->a + iOff, (size_t)(iEnd - iOff));
  f->nGetBytes += iEnd - iOff;
  return TS_OBJ_OK;
}
static int fakeHead(TsObjStore *p, const char *zKey, TsObjInfo *pInfo, char **pzErr){
  Fake *f = (Fake*)p;
  (void)pzErr;
  f->nHead++;
  memset(pInfo, 0, sizeof(*pInfo));
  pInfo->zKey = zKey;
  pInfo->nSize = f->n;
  pInfo->zEtag = f->zEtag;
  return TS_OBJ_OK;
}
static const char *fakeLastEtag(TsObjStore *p){
  Fake *f = (Fake*)p;
  return f->zGetEtag[0] ? f->zGetEtag : f->zEtag;
}
static int fakeList(TsObjStore *p, const char *zPrefix, int (*xCb)(void*, const TsObjInfo*),
                    void *pCtx, char **pzErr){
  Fake *f = (Fake*)p;
  TsObjInfo info;
  (void)pzErr;
  f->nList++;
  memset(&info, 0, sizeof(info));
  info.nSize = f->n;
  info.zEtag = f->zEtag;
  info.zKey = "k/a.parquet";       /* another key first: must not confuse */
  if( strncmp(info.zKey, zPrefix, strlen(zPrefix))==0 && xCb(pCtx, &info) ) return TS_OBJ_OK;
  info.zKey = "k/x.parquet";
  if( strncmp(info.zKey, zPrefix, strlen(zPrefix))==0 ) xCb(pCtx, &info);
  return TS_OBJ_OK;
}
static void fakeClose(TsObjStore *p){ (void)p; }
static const TsObjMethods fakeMethods = {
  .zScheme = "fake", .xClose = fakeClose, .xGet = fakeGet, .xHead = fakeHead,
  .xLastGetEtag = fakeLastEtag, .xList = fakeList,
};

static char zDir[256];

/* Files and bytes in the cache directory. */
static int64_t dirBytes(int64_t *pnFile){
  int64_t nByte = 0, nFile = 0;
  tsObjCacheUsage(zDir, &nByte, &nFile);
  if( pnFile ) *pnFile = nFile;
  return nByte;
}

/* Path of some cache file (the first found), or "" */
static void someFile(char *zOut, size_t nOut){
  DIR *d = opendir(zDir);
  struct dirent *e;
  zOut[0] = 0;
  while( d && (e = readdir(d))!=0 && zOut[0]==0 ){
    char zSub[512];
    DIR *s;
    struct dirent *f;
    if( e->d_name[0]=='.' ) continue;
    snprintf(zSub, sizeof(zSub), "%s/%s", zDir, e->d_name);
    s = opendir(zSub);
    while( s && (f = readdir(s))!=0 ){
      if( f->d_name[0]=='.' ) continue;
      snprintf(zOut, nOut, "%s/%s", zSub, f->d_name);
      break;
    }
    if( s ) closedir(s);
  }
  if( d ) closedir(d);
}

static void rmTree(const char *z){
  char zCmd[600];
  snprintf(zCmd, sizeof(zCmd), "rm -rf '%s'", z);
  if( system(zCmd)!=0 ) fprintf(stderr, "rm failed\n");
}

/* Read [iOff, iOff+nLen) through the cache and compare with the object. */
static int readOk(Fake *f, int64_t iOff, int64_t nLen){
  TsBuf b;
  char *zErr = 0;
  int rc, bOk;
  int64_t iEnd = nLen<0 || nLen>f->n - iOff ? f->n : iOff + nLen;
  tsBufInit(&b);
  rc = f->base.pM->xGet(&f->base, "k/x.parquet", iOff, nLen, &b, &zErr);
  bOk = rc==TS_OBJ_OK && (int64_t)b.n==iEnd - iOff && (b.n==0 || memcmp(b.a, f->a + iOff, b.n)==0);
  tsBufFree(&b);
  free(zErr);
  return bOk;
}

static void fill(Fake *f, int64_t n, unsigned seed){
  int64_t i;
  free(f->a);
  f->a = malloc((size_t)n + 1);
  f->n = n;
  for(i=0; i<n; i++){ seed = seed*1103515245u + 12345u; f->a[i] = (unsigned char)(seed>>16); }
}

int main(void){
  Fake f;
  TsObjCacheStats st;
  int64_t n, nFile;
  const int64_t B = TS_OBJCACHE_BLOCK;
  char zFile[768];

  snprintf(zDir, sizeof(zDir), "/tmp/tslite-objcache-%ld", (long)getpid());
  rmTree(zDir);
  memset(&f, 0, sizeof(f));
  f.base.pM = &fakeMethods;
  fill(&f, 2*B + 100000, 1);
  strcpy(f.zEtag, "etag-1");

  /* Cold: one small read fetches the whole 3-block object (read-ahead). */
  TT_CHECK("objcache: attach", tsObjCacheAttach(&f.base, zDir, (int64_t)1<<30, "s3://b/p ep")==0);
  TT_CHECK("objcache: a small read is exact", readOk(&f, 1000, 10));
  TT_EQ_I64("objcache: one HEAD", f.nHead, 1);
  TT_EQ_I64("objcache: one GET reads ahead over the whole object", f.nGet, 1);
  TT_EQ_I64("objcache: ... of every byte", f.nGetBytes, f.n);
  TT_CHECK("objcache: a read across blocks 0 and 1", readOk(&f, B - 5000, 10000));
  TT_CHECK("objcache: a read to the end (nLen < 0)", readOk(&f, B + 7, -1));
  TT_CHECK("objcache: a read past the end is clipped", readOk(&f, f.n - 10, 1000));
  TT_EQ_I64("objcache: no more requests", f.nGet*10 + f.nHead, 11);
  tsObjCacheStats(&f.base, &st);
  TT_EQ_I64("objcache: 3 misses", st.nMiss, 3);
  dirBytes(&nFile);
  TT_EQ_I64("objcache: 3 block files", nFile, 3);
  tsObjCacheDetach(&f.base);
  TT_CHECK("objcache: detach restores the methods", f.base.pM==&fakeMethods && f.base.pCache==0);

  /* Warm: a new handle sends one HEAD and no GET. */
  f.nGet = f.nHead = 0;
  tsObjCacheAttach(&f.base, zDir, (int64_t)1<<30, "s3://b/p ep");
  TT_CHECK("objcache: warm: whole object", readOk(&f, 0, -1));
  TT_CHECK("objcache: warm: a middle range", readOk(&f, 2*B - 1, 2));
  TT_EQ_I64("objcache: warm: no GET", f.nGet, 0);
  TT_EQ_I64("objcache: warm: one HEAD", f.nHead, 1);
  tsObjCacheStats(&f.base, &st);
  TT_EQ_I64("objcache: warm: hits", st.nHit, 5);
  TT_EQ_I64("objcache: warm: bytes from the cache", st.nByteHit, f.n + 2);
  /* Pass-through: out of range, zero length. */
  {
    TsBuf b;
    char *zErr = 0;
    tsBufInit(&b);
    TT_EQ_I64("objcache: offset past the end is the store's TS_OBJ_RANGE",
              f.base.pM->xGet(&f.base, "k/x.parquet", f.n, 10, &b, &zErr), TS_OBJ_RANGE);
    TT_EQ_I64("objcache: zero length goes to the store", f.base.pM->xGet(&f.base, "k/x.parquet", 5, 0, &b, &zErr),
              TS_OBJ_OK);
    tsBufFree(&b);
    free(zErr);
    tsObjCacheStats(&f.base, &st);
    TT_EQ_I64("objcache: the out-of-range read was bypassed", st.nBypass, 1);
  }
  tsObjCacheDetach(&f.base);

  /* A listing validates instead of a HEAD. */
  f.nGet = f.nHead = f.nList = 0;
  tsObjCacheAttach(&f.base, zDir, (int64_t)1<<30, "s3://b/p ep");
  tsObjCacheValidate(&f.base, "k/", 100);
  TT_CHECK("objcache: listed: exact", readOk(&f, 0, -1));
  TT_EQ_I64("objcache: listed: one LIST, no HEAD, no GET", f.nList*100 + f.nHead*10 + f.nGet, 100);
  tsObjCacheDetach(&f.base);
  f.nList = 0;
  tsObjCacheAttach(&f.base, zDir, (int64_t)1<<30, "s3://b/p ep");
  tsObjCacheValidate(&f.base, "k/", 1);
  TT_CHECK("objcache: listing cut at nMaxKey: exact", readOk(&f, 0, 10));
  TT_EQ_I64("objcache: listing cut at nMaxKey: the unlisted object is HEADed", f.nList*10 + f.nHead, 11);
  tsObjCacheDetach(&f.base);
  f.nHead = 0;

  /* Another store identity does not share blocks. */
  f.nGet = 0;
  tsObjCacheAttach(&f.base, zDir, (int64_t)1<<30, "s3://b/other ep");
  TT_CHECK("objcache: other store: exact", readOk(&f, 0, 100));
  TT_EQ_I64("objcache: other store: its own GET", f.nGet, 1);
  tsObjCacheDetach(&f.base);
  rmTree(zDir);

  /* A new ETag: refetched, the old blocks removed. */
  tsObjCacheAttach(&f.base, zDir, (int64_t)1<<30, "s3://b/p ep");
  readOk(&f, 0, -1);
  tsObjCacheDetach(&f.base);
  fill(&f, 2*B + 100000, 2);
  strcpy(f.zEtag, "etag-2");
  f.nGet = 0;
  tsObjCacheAttach(&f.base, zDir, (int64_t)1<<30, "s3://b/p ep");
  TT_CHECK("objcache: new etag: the new bytes", readOk(&f, 0, -1));
  TT_EQ_I64("objcache: new etag: fetched again", f.nGet, 1);
  tsObjCacheStats(&f.base, &st);
  TT_EQ_I64("objcache: new etag: counted stale", st.nStale, 1);
  dirBytes(&nFile);
  TT_EQ_I64("objcache: new etag: only the new blocks remain", nFile, 3);
  tsObjCacheDetach(&f.base);

  /* The ETag changes between HEAD and GET: served, not cached. */
  rmTree(zDir);
  strcpy(f.zGetEtag, "etag-3");
  f.nGet = 0;
  tsObjCacheAttach(&f.base, zDir, (int64_t)1<<30, "s3://b/p ep");
  TT_CHECK("objcache: etag race: the bytes are returned", readOk(&f, 10, 100));
  dirBytes(&nFile);
  TT_EQ_I64("objcache: etag race: nothing cached", nFile, 0);
  tsObjCacheStats(&f.base, &st);
  TT_EQ_I64("objcache: etag race: counted stale and bypassed", st.nStale*10 + st.nBypass, 11);
  tsObjCacheDetach(&f.base);
  f.zGetEtag[0] = 0;

  /* A damaged file fails its CRC: removed and fetched again. */
  tsObjCacheAttach(&f.base, zDir, (int64_t)1<<30, "s3://b/p ep");
  readOk(&f, 0, -1);
  tsObjCacheDetach(&f.base);
  someFile(zFile, sizeof(zFile));
  {
    FILE *fp = fopen(zFile, "r+b");
    int c;
    fseek(fp, 100, SEEK_SET);
    c = fgetc(fp);
    fseek(fp, 100, SEEK_SET);
    fputc(c ^ 1, fp);
    fclose(fp);
  }
  f.nGet = 0;
  tsObjCacheAttach(&f.base, zDir, (int64_t)1<<30, "s3://b/p ep");
  TT_CHECK("objcache: damaged file: exact bytes anyway", readOk(&f, 0, -1));
  tsObjCacheStats(&f.base, &st);
  TT_EQ_I64("objcache: damaged file: counted", st.nCorrupt, 1);
  TT_EQ_I64("objcache: damaged file: one GET for its block", f.nGet, 1);
  TT_EQ_I64("objcache: damaged file: one block refetched", st.nMiss, 1);
  tsObjCacheDetach(&f.base);
  /* A truncated file likewise. */
  someFile(zFile, sizeof(zFile));
  TT_CHECK("objcache: truncate a file", truncate(zFile, 50)==0);
  tsObjCacheAttach(&f.base, zDir, (int64_t)1<<30, "s3://b/p ep");
  TT_CHECK("objcache: truncated file: exact bytes", readOk(&f, 0, -1));
  tsObjCacheStats(&f.base, &st);
  TT_EQ_I64("objcache: truncated file: counted", st.nCorrupt, 1);
  tsObjCacheDetach(&f.base);

  /* The bound: 600000 bytes over a 3-block object (~624 KiB of files). */
  rmTree(zDir);
  tsObjCacheAttach(&f.base, zDir, 600000, "s3://b/p ep");
  TT_CHECK("objcache: bound: exact", readOk(&f, 0, -1));
  n = dirBytes(&nFile);
  TT_CHECK("objcache: bound: the directory is within the bound", n<=600000 && n>0);
  tsObjCacheStats(&f.base, &st);
  TT_CHECK("objcache: bound: files were evicted", st.nEvict>=1);
  TT_CHECK("objcache: bound: a second read is exact", readOk(&f, 0, -1));
  TT_CHECK("objcache: bound: still within the bound", dirBytes(0)<=600000);
  tsObjCacheDetach(&f.base);

  /* An empty object, and one without an ETag, bypass the cache. */
  rmTree(zDir);
  fill(&f, 0, 3);
  tsObjCacheAttach(&f.base, zDir, (int64_t)1<<30, "s3://b/p ep");
  TT_CHECK("objcache: empty object: empty read", readOk(&f, 0, 100));
  fill(&f, 1000, 3);
  tsObjCacheDetach(&f.base);
  f.zEtag[0] = 0;
  tsObjCacheAttach(&f.base, zDir, (int64_t)1<<30, "s3://b/p ep");
  TT_CHECK("objcache: no etag: exact", readOk(&f, 0, 100));
  tsObjCacheStats(&f.base, &st);
  TT_EQ_I64("objcache: no etag: bypassed", st.nBypass, 1);
  dirBytes(&nFile);
  TT_EQ_I64("objcache: no etag: nothing cached", nFile, 0);
  tsObjCacheDetach(&f.base);

  /* tsObjCacheEnable takes s3:// stores only; a second cache is refused. */
  f.base.zRoot = "s3://b/p";
  TT_CHECK("objcache: enable refuses a store that is not s3://",
           tsObjCacheEnable(&f.base, zDir, 1<<30, 0)==1 && f.base.pCache==0);
  tsObjCacheAttach(&f.base, zDir, 1<<30, "x");
  TT_CHECK("objcache: a second cache is refused", tsObjCacheAttach(&f.base, zDir, 1<<30, "y")==1);
  tsObjCacheDetach(&f.base);
  f.base.zRoot = 0;

  /* Unwritable directory: the store stays uncached. */
  TT_CHECK("objcache: a directory that cannot be made leaves the store uncached",
           tsObjCacheAttach(&f.base, "/proc/no/such/dir", 1<<30, "x")==1 && f.base.pCache==0
           && f.base.pM==&fakeMethods);

  /* Sizes. */
  {
    static const struct { const char *z; int64_t n; } aOk[] = {
      { "0", 0 }, { "10", 10 }, { "1B", 1 }, { "1kb", 1024 }, { "1MB", 1<<20 },
      { "1GB", (int64_t)1<<30 }, { "0.5GB", (int64_t)1<<29 }, { "2TB", (int64_t)2<<40 },
      { "1.5MB", 3<<19 },
    };
    static const char *azBad[] = { "", "GB", "1.GB", "1 GB", "-1", "1PB", "1e3", "2000TB", ".5GB" };
    size_t i;
    for(i=0; i<sizeof(aOk)/sizeof(aOk[0]); i++){
      int64_t v = -1;
      char zName[64];
      snprintf(zName, sizeof(zName), "objcache: size '%s'", aOk[i].z);
      TT_CHECK(zName, tsObjCacheParseSize(aOk[i].z, &v)==0 && v==aOk[i].n);
    }
    for(i=0; i<sizeof(azBad)/sizeof(azBad[0]); i++){
      int64_t v = -1;
      char zName[64];
      snprintf(zName, sizeof(zName), "objcache: bad size '%s'", azBad[i]);
      TT_CHECK(zName, tsObjCacheParseSize(azBad[i], &v)==1);
    }
  }
  rmTree(zDir);
  free(f.a);
  return tt_done();
}
