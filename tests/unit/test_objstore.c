/*
** test_objstore.c: the object-store interface suite (objstore.h), one test
** body for every back end.
**
** Without arguments it runs against a fresh file:/// temp directory (plain,
** then with client-side encryption).  tests/js/s3_objstore.test.mjs runs the
** same binary against s3rver by setting TS_OBJSTORE_URI=s3://bucket/prefix
** (plus the fixture's AWS_* variables); TS_OBJSTORE_BIG=N adds an N-byte
** streaming round trip (64 MiB there, to cross many multipart parts) and
** TS_OBJSTORE_NLIST=N lists N keys (> 1000 there, to cross pages).
*/
#include "objstore.h"
#include "tt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>

static uint64_t rngState = 0x9e3779b97f4a7c15ULL;
static unsigned char rngByte(void){
  rngState ^= rngState << 13; rngState ^= rngState >> 7; rngState ^= rngState << 17;
  return (unsigned char)(rngState >> 24);
}
static unsigned char *randomBytes(size_t n){
  unsigned char *a = malloc(n ? n : 1);
  size_t i;
  for(i=0; i<n; i++) a[i] = rngByte();
  return a;
}

static char zName[256];
static int bS3rver = 0;   /* TS_OBJSTORE_QUIRKS=s3rver: skip checks s3rver gets wrong */
static const char *nm(const char *zTag, const char *zWhat){
  snprintf(zName, sizeof(zName), "%s: %s", zTag, zWhat);
  return zName;
}

/* Round trip of n bytes under zKey, put whole (bStream=0) or streamed in
** uneven pieces (bStream=1); checks the bytes and head's size. */
static void roundTrip(TsObjStore *p, const char *zTag, const char *zKey, size_t n, int bStream){
  unsigned char *a = randomBytes(n);
  char *zErr = 0;
  int rc;
  TsBuf b;
  TsObjInfo info;
  char zWhat[200];
  tsBufInit(&b);
  if( bStream ){
    TsObjWriter *w = 0;
    size_t i = 0, k = 1;
    rc = tsObjWriterOpen(p, zKey, &w, &zErr);
    while( rc==TS_OBJ_OK && i<n ){
      size_t m = n - i < k ? n - i : k;
      rc = tsObjWriterWrite(w, a + i, m, &zErr);
      i += m;
      k = k*7 + 13;
      if( k > (3u<<20) ) k = 1000003;
    }
    if( rc==TS_OBJ_OK ){
      TsObjInfo hi;
      snprintf(zWhat, sizeof(zWhat), "stream '%s' invisible before finish", zKey);
      TT_EQ_I64(nm(zTag, zWhat), tsObjHead(p, zKey, &hi, &zErr), TS_OBJ_NOTFOUND);
      rc = tsObjWriterFinish(w, &zErr);
    }else{
      tsObjWriterAbort(w);
    }
  }else{
    rc = tsObjPut(p, zKey, a, n, &zErr);
  }
  snprintf(zWhat, sizeof(zWhat), "%s '%s' %zu bytes", bStream ? "stream" : "put", zKey, n);
  if( rc ) printf("# %s\n", zErr ? zErr : "?");
  TT_EQ_I64(nm(zTag, zWhat), rc, TS_OBJ_OK);
  rc = tsObjGet(p, zKey, 0, -1, &b, &zErr);
  snprintf(zWhat, sizeof(zWhat), "get '%s' %zu bytes identical", zKey, n);
  if( rc ) printf("# %s\n", zErr ? zErr : "?");
  TT_CHECK(nm(zTag, zWhat), rc==TS_OBJ_OK && b.n==n && (n==0 || memcmp(b.a, a, n)==0));
  rc = tsObjHead(p, zKey, &info, &zErr);
  snprintf(zWhat, sizeof(zWhat), "head '%s' size %zu", zKey, n);
  TT_CHECK(nm(zTag, zWhat), rc==TS_OBJ_OK && info.nSize==(int64_t)n && info.zKey
           && strcmp(info.zKey, zKey)==0 && info.zEtag && info.iMtimeMs>1500000000000LL);
  tsBufFree(&b);
  free(a);
  free(zErr);
}

static int getRange(TsObjStore *p, const char *zKey, int64_t iOff, int64_t nLen, TsBuf *pB){
  char *zErr = 0;
  int rc;
  tsBufReset(pB);
  rc = tsObjGet(p, zKey, iOff, nLen, pB, &zErr);
  free(zErr);
  return rc;
}

static void testRanges(TsObjStore *p, const char *zTag){
  const size_t n = 1000;
  unsigned char *a = randomBytes(n);
  char *zErr = 0;
  TsBuf b;
  tsBufInit(&b);
  TT_EQ_I64(nm(zTag, "put range object"), tsObjPut(p, "range/obj", a, n, &zErr), TS_OBJ_OK);
  TT_CHECK(nm(zTag, "range first byte"), getRange(p, "range/obj", 0, 1, &b)==0 && b.n==1 && b.a[0]==a[0]);
  TT_CHECK(nm(zTag, "range first two bytes"), getRange(p, "range/obj", 0, 2, &b)==0 && b.n==2 && memcmp(b.a, a, 2)==0);
  TT_CHECK(nm(zTag, "range last byte"), getRange(p, "range/obj", 999, 1, &b)==0 && b.n==1 && b.a[0]==a[999]);
  TT_CHECK(nm(zTag, "range last byte to end"), getRange(p, "range/obj", 999, -1, &b)==0 && b.n==1 && b.a[0]==a[999]);
  TT_CHECK(nm(zTag, "range middle"), getRange(p, "range/obj", 100, 300, &b)==0 && b.n==300 && memcmp(b.a, a+100, 300)==0);
  TT_CHECK(nm(zTag, "range clipped at end"), getRange(p, "range/obj", 990, 100, &b)==0 && b.n==10 && memcmp(b.a, a+990, 10)==0);
  TT_CHECK(nm(zTag, "range whole explicit"), getRange(p, "range/obj", 0, 1000, &b)==0 && b.n==1000 && memcmp(b.a, a, 1000)==0);
  TT_EQ_I64(nm(zTag, "range at size is RANGE"), getRange(p, "range/obj", 1000, 1, &b), TS_OBJ_RANGE);
  TT_EQ_I64(nm(zTag, "range past size is RANGE"), getRange(p, "range/obj", 5000, -1, &b), TS_OBJ_RANGE);
  TT_EQ_I64(nm(zTag, "range on missing is NOTFOUND"), getRange(p, "range/none", 0, 1, &b), TS_OBJ_NOTFOUND);
  TT_EQ_I64(nm(zTag, "put empty"), tsObjPut(p, "range/empty", "", 0, &zErr), TS_OBJ_OK);
  TT_CHECK(nm(zTag, "empty object whole"), getRange(p, "range/empty", 0, -1, &b)==0 && b.n==0);
  TT_EQ_I64(nm(zTag, "empty object offset 1 is RANGE"), getRange(p, "range/empty", 1, -1, &b), TS_OBJ_RANGE);
  /* Appends to the caller's buffer rather than replacing it. */
  tsBufReset(&b);
  tsBufAppend(&b, "xy", 2);
  TT_CHECK(nm(zTag, "get appends"), tsObjGet(p, "range/obj", 0, 3, &b, &zErr)==0 && b.n==5
           && memcmp(b.a, "xy", 2)==0 && memcmp(b.a+2, a, 3)==0);
  tsBufFree(&b);
  free(a);
  free(zErr);
}

typedef struct Collect Collect;
struct Collect {
  int n;          /* callbacks seen */
  int nStop;      /* stop after this many (0 = never) */
  int bSorted;    /* every key > the previous one */
  int64_t nBytes; /* sum of sizes */
  char zLast[1100];
  char zFirst[1100];
};
static int collectCb(void *pCtx, const TsObjInfo *pInfo){
  Collect *c = (Collect*)pCtx;
  if( c->n>0 && strcmp(pInfo->zKey, c->zLast)<=0 ) c->bSorted = 0;
  if( c->n==0 ) snprintf(c->zFirst, sizeof(c->zFirst), "%s", pInfo->zKey);
  snprintf(c->zLast, sizeof(c->zLast), "%s", pInfo->zKey);
  c->nBytes += pInfo->nSize;
  c->n++;
  return c->nStop && c->n>=c->nStop;
}
static int list(TsObjStore *p, const char *zPrefix, Collect *c, int nStop){
  char *zErr = 0;
  int rc;
  memset(c, 0, sizeof(*c));
  c->bSorted = 1;
  c->nStop = nStop;
  rc = tsObjList(p, zPrefix, collectCb, c, &zErr);
  if( rc ) printf("# list: %s\n", zErr ? zErr : "?");
  free(zErr);
  return rc;
}

static void testList(TsObjStore *p, const char *zTag, int nKeys){
  char *zErr = 0;
  Collect c;
  int i, rc = 0;
  char zKey[64];
  /* Keys inserted out of order, some in subdirectories. */
  for(i=nKeys-1; i>=0 && rc==0; i--){
    snprintf(zKey, sizeof(zKey), i%3==0 ? "list/d%d/k%05d" : "list/k%05d", i%7, i);
    if( i%3!=0 ) snprintf(zKey, sizeof(zKey), "list/k%05d", i);
    rc = tsObjPut(p, zKey, "abc", 3, &zErr);
  }
  TT_EQ_I64(nm(zTag, "put list keys"), rc, 0);
  TT_EQ_I64(nm(zTag, "list all rc"), list(p, "list/", &c, 0), 0);
  TT_EQ_I64(nm(zTag, "list all count"), c.n, nKeys);
  TT_CHECK(nm(zTag, "list all sorted"), c.bSorted);
  TT_EQ_I64(nm(zTag, "list all bytes"), c.nBytes, 3*(int64_t)nKeys);
  TT_EQ_STR(nm(zTag, "list first key"), c.zFirst, "list/d0/k00000");
  TT_EQ_I64(nm(zTag, "list partial prefix rc"), list(p, "list/k0000", &c, 0), 0);
  TT_EQ_I64(nm(zTag, "list partial prefix count"), c.n, 6);   /* k00001 k00002 k00004 .. k00008 */
  TT_EQ_STR(nm(zTag, "list partial prefix first"), c.zFirst, "list/k00001");
  TT_EQ_I64(nm(zTag, "list early stop rc"), list(p, "list/", &c, 5), 0);
  TT_EQ_I64(nm(zTag, "list early stop count"), c.n, 5);
  TT_EQ_I64(nm(zTag, "list subdir"), (list(p, "list/d3/", &c, 0), c.n), (nKeys + 20)/21);
  TT_EQ_I64(nm(zTag, "list missing prefix"), (list(p, "nothing-here/", &c, 0), c.n), 0);
  {
    /* One batch delete (DeleteObjects on S3: > 1000 keys takes two requests),
    ** with a missing key, which counts as deleted. */
    char **azKey = calloc((size_t)nKeys + 1, sizeof(char*));
    for(i=0; i<nKeys; i++){
      azKey[i] = malloc(64);
      snprintf(azKey[i], 64, "list/d%d/k%05d", i%7, i);
      if( i%3!=0 ) snprintf(azKey[i], 64, "list/k%05d", i);
    }
    azKey[nKeys] = malloc(64);
    snprintf(azKey[nKeys], 64, "list/never-existed");
    rc = tsObjDeleteMany(p, (const char *const*)azKey, nKeys + 1, &zErr);
    if( rc ) printf("# deletemany: %s\n", zErr ? zErr : "?");
    for(i=0; i<=nKeys; i++) free(azKey[i]);
    free(azKey);
  }
  TT_EQ_I64(nm(zTag, "batch delete list keys"), rc, 0);
  TT_EQ_I64(nm(zTag, "list after delete"), (list(p, "list/", &c, 0), c.n), 0);
  free(zErr);
}

static void testKeys(TsObjStore *p, const char *zTag, int bFile){
  static const char *azKey[] = {
    "dir/sub/deeper/x.parquet", "with space.txt", "unicode-\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac.bin",
    "plus+equals=percent%20amp&q?.x", "tilde~star*paren(1),semi;colon:at@", "a//b", 0
  };
  int i;
  char *zErr = 0;
  for(i=0; azKey[i]; i++){
    if( bFile && strstr(azKey[i], "//") ) continue;
    roundTrip(p, zTag, azKey[i], 17, 0);
  }
  for(i=0; azKey[i]; i++){
    Collect c;
    char zWhat[200];
    if( bFile && strstr(azKey[i], "//") ) continue;
    snprintf(zWhat, sizeof(zWhat), "listed exactly: %s", azKey[i]);
    if( bS3rver && strpbrk(azKey[i], "&*()'!/") && (strchr(azKey[i], '/')==0 || strstr(azKey[i], "//")) ){
      /* s3rver quirks: it signs query values with encodeURIComponent (which
      ** leaves !'()* alone, unlike AWS), double-escapes '&' in listings and
      ** stores "a//b" as the file a/b. */
      printf("SKIP %s: s3rver quirk\n", nm(zTag, zWhat));
      TT_EQ_I64(nm(zTag, "delete odd key"), tsObjDelete(p, azKey[i], &zErr), 0);
      continue;
    }
    TT_CHECK(nm(zTag, zWhat), list(p, azKey[i], &c, 0)==0 && c.n==1 && strcmp(c.zFirst, azKey[i])==0);
    TT_EQ_I64(nm(zTag, "delete odd key"), tsObjDelete(p, azKey[i], &zErr), 0);
  }
  if( bFile ){
    TT_EQ_I64(nm(zTag, "file rejects //"), tsObjPut(p, "a//b", "x", 1, &zErr), TS_OBJ_ERROR);
    TT_CHECK(nm(zTag, "file // message"), zErr && strstr(zErr, "empty path segment"));
  }
  TT_EQ_I64(nm(zTag, "reject .."), tsObjPut(p, "../escape", "x", 1, &zErr), TS_OBJ_ERROR);
  TT_CHECK(nm(zTag, ".. message"), zErr && strstr(zErr, "'..'") && strstr(zErr, "../escape"));
  TT_EQ_I64(nm(zTag, "reject inner .."), tsObjPut(p, "a/../../b", "x", 1, &zErr), TS_OBJ_ERROR);
  TT_EQ_I64(nm(zTag, "reject get .."), tsObjGet(p, "a/..", 0, -1, 0, &zErr), TS_OBJ_ERROR);
  TT_EQ_I64(nm(zTag, "reject absolute"), tsObjPut(p, "/etc/x", "x", 1, &zErr), TS_OBJ_ERROR);
  TT_CHECK(nm(zTag, "absolute message"), zErr && strstr(zErr, "relative"));
  TT_EQ_I64(nm(zTag, "reject empty"), tsObjPut(p, "", "x", 1, &zErr), TS_OBJ_ERROR);
  TT_EQ_I64(nm(zTag, "reject list .."), tsObjList(p, "x/..", collectCb, 0, &zErr), TS_OBJ_ERROR);
  {
    const char *az[] = { "ok-key", "../bad" };
    TT_EQ_I64(nm(zTag, "reject batch delete with a bad key"), tsObjDeleteMany(p, az, 2, &zErr), TS_OBJ_ERROR);
  }
  TT_EQ_I64(nm(zTag, "..x is a fine key"), tsObjPut(p, "..x", "x", 1, &zErr), TS_OBJ_OK);
  TT_EQ_I64(nm(zTag, "delete ..x"), tsObjDelete(p, "..x", &zErr), TS_OBJ_OK);
  free(zErr);
}

static void testMisc(TsObjStore *p, const char *zTag){
  char *zErr = 0;
  TsBuf b;
  TsObjInfo info;
  TsObjWriter *w = 0;
  Collect c;
  tsBufInit(&b);
  TT_EQ_I64(nm(zTag, "get missing"), tsObjGet(p, "nope/missing", 0, -1, &b, &zErr), TS_OBJ_NOTFOUND);
  TT_CHECK(nm(zTag, "get missing message names key"), zErr && strstr(zErr, "nope/missing"));
  TT_EQ_I64(nm(zTag, "head missing"), tsObjHead(p, "nope/missing", &info, &zErr), TS_OBJ_NOTFOUND);
  TT_EQ_I64(nm(zTag, "delete missing ok"), tsObjDelete(p, "nope/missing", &zErr), TS_OBJ_OK);
  /* Overwrite replaces. */
  TT_EQ_I64(nm(zTag, "put v1"), tsObjPut(p, "misc/over", "version-1", 9, &zErr), 0);
  TT_EQ_I64(nm(zTag, "put v2"), tsObjPut(p, "misc/over", "v2", 2, &zErr), 0);
  TT_CHECK(nm(zTag, "overwrite"), tsObjGet(p, "misc/over", 0, -1, &b, &zErr)==0 && b.n==2 && memcmp(b.a, "v2", 2)==0);
  /* Copy. */
  TT_EQ_I64(nm(zTag, "copy"), tsObjCopy(p, "misc/over", "misc/copy/of over", &zErr), 0);
  tsBufReset(&b);
  TT_CHECK(nm(zTag, "copy content"), tsObjGet(p, "misc/copy/of over", 0, -1, &b, &zErr)==0 && b.n==2 && memcmp(b.a, "v2", 2)==0);
  TT_EQ_I64(nm(zTag, "copy missing"), tsObjCopy(p, "misc/none", "misc/x", &zErr), TS_OBJ_NOTFOUND);
  /* Aborted writer leaves nothing. */
  TT_EQ_I64(nm(zTag, "writer open"), tsObjWriterOpen(p, "misc/aborted", &w, &zErr), 0);
  if( w ){
    TT_EQ_I64(nm(zTag, "writer write"), tsObjWriterWrite(w, "partial", 7, &zErr), 0);
    tsObjWriterAbort(w);
  }
  TT_EQ_I64(nm(zTag, "aborted invisible"), tsObjHead(p, "misc/aborted", &info, &zErr), TS_OBJ_NOTFOUND);
  TT_EQ_I64(nm(zTag, "listing after abort"), (list(p, "misc/", &c, 0), c.n), 2);
  TT_EQ_STR(nm(zTag, "listing after abort keys"), c.zLast, "misc/over");
  tsObjDelete(p, "misc/over", &zErr);
  tsObjDelete(p, "misc/copy/of over", &zErr);
  tsBufFree(&b);
  free(zErr);
}

static void runSuite(const char *zUri, const TsObjConfig *pCfg, const char *zTag, int bFile){
  TsObjStore *p = 0;
  char *zErr = 0;
  const char *zBig = getenv("TS_OBJSTORE_BIG");
  const char *zNList = getenv("TS_OBJSTORE_NLIST");
  int rc = tsObjOpen(zUri, pCfg, &p, &zErr);
  if( rc ) printf("# open %s: %s\n", zUri, zErr ? zErr : "?");
  TT_EQ_I64(nm(zTag, "open"), rc, TS_OBJ_OK);
  free(zErr);
  if( p==0 ) return;
  roundTrip(p, zTag, "rt/empty", 0, 0);
  roundTrip(p, zTag, "rt/empty-stream", 0, 1);
  roundTrip(p, zTag, "rt/one", 1, 0);
  roundTrip(p, zTag, "rt/one-stream", 1, 1);
  roundTrip(p, zTag, "rt/5MiB+1", (5u<<20) + 1, 0);
  roundTrip(p, zTag, "rt/5MiB+1-stream", (5u<<20) + 1, 1);
  roundTrip(p, zTag, "rt/64KiB", 65536, 0);
  roundTrip(p, zTag, "rt/64KiB-stream", 65536, 1);
  roundTrip(p, zTag, "rt/128KiB+1-stream", 131073, 1);
  if( zBig ) roundTrip(p, zTag, "rt/big-stream", (size_t)atoll(zBig), 1);
  testRanges(p, zTag);
  testMisc(p, zTag);
  testKeys(p, zTag, bFile);
  testList(p, zTag, zNList ? atoi(zNList) : 60);
  tsObjClose(p);
}

/* Client-side encryption specifics, on a file store whose raw bytes the
** test can inspect and damage through a second, keyless store. */
static void testCrypt(const char *zDir){
  /* zDir: the test's directory; the store is zDir/crypt. */
  char zUri[300], zKeyFile[300], zKeyFile2[300];
  TsObjConfig cfg, cfg2;
  TsObjStore *pEnc = 0, *pRaw = 0, *pWrong = 0;
  char *zErr = 0;
  TsBuf b, raw;
  const size_t n = 200000;   /* 4 segments: 3 full + 1 partial */
  unsigned char *a = randomBytes(n);
  FILE *f;
  tsBufInit(&b);
  tsBufInit(&raw);
  snprintf(zUri, sizeof(zUri), "file://%s/crypt", zDir);
  snprintf(zKeyFile, sizeof(zKeyFile), "%s/master.key", zDir);
  snprintf(zKeyFile2, sizeof(zKeyFile2), "%s/other.key", zDir);
  f = fopen(zKeyFile, "w");
  fputs("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", f);
  fclose(f);
  f = fopen(zKeyFile2, "w");
  fputs("ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100", f);
  fclose(f);
  memset(&cfg, 0, sizeof(cfg));
  cfg.zCseKeyFile = zKeyFile;
  cfg.zCseKeyId = "k1";
  TT_EQ_I64("crypt: open", tsObjOpen(zUri, &cfg, &pEnc, &zErr), 0);
  {
    TsObjConfig rawCfg;
    memset(&rawCfg, 0, sizeof(rawCfg));
    rawCfg.eCse = TS_OBJ_CSE_RAW;
    TT_EQ_I64("crypt: open raw", tsObjOpen(zUri, &rawCfg, &pRaw, &zErr), 0);
  }
  if( !pEnc || !pRaw ) goto done;
  TT_EQ_I64("crypt: put", tsObjPut(pEnc, "obj", a, n, &zErr), 0);
  TT_EQ_I64("crypt: raw get", tsObjGet(pRaw, "obj", 0, -1, &raw, &zErr), 0);
  TT_EQ_I64("crypt: stored size = 128 + P + 16*segments", (int64_t)raw.n, 128 + 200000 + 16*4);
  TT_CHECK("crypt: header magic and key id", raw.n>40 && memcmp(raw.a, "TSLCSE02k1\0", 11)==0);
  {
    int bLeak = 0;
    size_t i;
    for(i=0; i+16<=raw.n && !bLeak; i++) if( memcmp(raw.a + i, a + 1000, 16)==0 ) bLeak = 1;
    TT_CHECK("crypt: plaintext not in stored bytes", !bLeak);
  }
  {
    TsObjInfo info;
    TT_CHECK("crypt: head reports plaintext size", tsObjHead(pEnc, "obj", &info, &zErr)==0 && info.nSize==(int64_t)n);
  }
  TT_CHECK("crypt: range across segments", getRange(pEnc, "obj", 65530, 70000, &b)==0 && b.n==70000 && memcmp(b.a, a + 65530, 70000)==0);
  TT_CHECK("crypt: last byte", getRange(pEnc, "obj", n - 1, 1, &b)==0 && b.n==1 && b.a[0]==a[n-1]);
  TT_EQ_I64("crypt: range past end", getRange(pEnc, "obj", n, 1, &b), TS_OBJ_RANGE);
  /* A length running past INT64_MAX means "to the end" (offset + length
  ** once overflowed to a negative end and returned nothing). */
  TT_CHECK("crypt: huge length reads to the end",
           getRange(pEnc, "obj", n - 10, INT64_MAX, &b)==0 && b.n==10 && memcmp(b.a, a + n - 10, 10)==0);
  /* Tamper one byte of segment 2. */
  raw.a[128 + 2*(65536 + 16) + 77] ^= 1;
  TT_EQ_I64("crypt: put tampered", tsObjPut(pRaw, "obj", raw.a, raw.n, &zErr), 0);
  tsBufReset(&b);
  TT_EQ_I64("crypt: tampered whole get is CORRUPT", tsObjGet(pEnc, "obj", 0, -1, &b, &zErr), TS_OBJ_CORRUPT);
  TT_CHECK("crypt: tamper message names store, key, segment", zErr && strstr(zErr, "/crypt/obj: client-side decryption failed at segment 2: the object was tampered with or corrupted"));
  TT_CHECK("crypt: nothing returned on tamper", b.n==0);
  TT_CHECK("crypt: untouched segment still reads", getRange(pEnc, "obj", 10, 100, &b)==0 && memcmp(b.a, a + 10, 100)==0);
  TT_EQ_I64("crypt: range in tampered segment", getRange(pEnc, "obj", 2*65536 + 5, 10, &b), TS_OBJ_CORRUPT);
  raw.a[128 + 2*(65536 + 16) + 77] ^= 1;
  /* Drop the final segment: the new last one lacks the final flag. */
  TT_EQ_I64("crypt: put truncated", tsObjPut(pRaw, "obj", raw.a, 128 + 3*(65536 + 16), &zErr), 0);
  TT_EQ_I64("crypt: truncation detected", tsObjGet(pEnc, "obj", 0, -1, &b, &zErr), TS_OBJ_CORRUPT);
  /* Swap two segments. */
  {
    unsigned char *aSwap = malloc(raw.n);
    memcpy(aSwap, raw.a, raw.n);
    memcpy(aSwap + 128, raw.a + 128 + 65552, 65552);
    memcpy(aSwap + 128 + 65552, raw.a + 128, 65552);
    tsObjPut(pRaw, "obj", aSwap, raw.n, &zErr);
    TT_EQ_I64("crypt: reordered segments detected", tsObjGet(pEnc, "obj", 0, -1, &b, &zErr), TS_OBJ_CORRUPT);
    free(aSwap);
  }
  /* Header tamper (wrapped key). */
  raw.a[60] ^= 0x80;
  tsObjPut(pRaw, "obj", raw.a, raw.n, &zErr);
  TT_EQ_I64("crypt: wrapped key tamper detected", tsObjGet(pEnc, "obj", 0, -1, &b, &zErr), TS_OBJ_CORRUPT);
  TT_CHECK("crypt: unwrap message", zErr && strstr(zErr, "cannot unwrap"));
  raw.a[60] ^= 0x80;
  tsObjPut(pRaw, "obj", raw.a, raw.n, &zErr);
  tsBufReset(&b);
  TT_CHECK("crypt: restored object reads again", tsObjGet(pEnc, "obj", 0, -1, &b, &zErr)==0 && b.n==n && memcmp(b.a, a, n)==0);
  /* A plaintext object where ciphertext is expected. */
  tsObjPut(pRaw, "plain", "hello, world", 12, &zErr);
  TT_EQ_I64("crypt: plaintext object refused", tsObjGet(pEnc, "plain", 0, -1, &b, &zErr), TS_OBJ_CORRUPT);
  TT_CHECK("crypt: plaintext message", zErr && strstr(zErr, "not client-side encrypted"));
  {
    TsObjInfo info;
    TT_EQ_I64("crypt: head of plaintext object is CORRUPT", tsObjHead(pEnc, "plain", &info, &zErr), TS_OBJ_CORRUPT);
    TT_CHECK("crypt: head message", zErr && strstr(zErr, "stored size 12 is not that of a client-side encrypted object"));
  }
  /* Wrong key, same id; other id. */
  memset(&cfg2, 0, sizeof(cfg2));
  cfg2.zCseKeyFile = zKeyFile2;
  cfg2.zCseKeyId = "k1";
  TT_EQ_I64("crypt: open wrong key", tsObjOpen(zUri, &cfg2, &pWrong, &zErr), 0);
  if( pWrong ){
    TT_EQ_I64("crypt: wrong master key is CORRUPT", tsObjGet(pWrong, "obj", 0, -1, &b, &zErr), TS_OBJ_CORRUPT);
    tsObjClose(pWrong);
    pWrong = 0;
  }
  cfg2.zCseKeyId = "k2";
  if( tsObjOpen(zUri, &cfg2, &pWrong, &zErr)==0 ){
    TT_EQ_I64("crypt: other key id", tsObjGet(pWrong, "obj", 0, -1, &b, &zErr), TS_OBJ_ERROR);
    TT_CHECK("crypt: key id message", zErr && strstr(zErr, "key id 'k1'") && strstr(zErr, "'k2'"));
    tsObjClose(pWrong);
  }
  /* The header cache never serves a replaced object. */
  {
    TsObjStore *pEnc2 = 0;
    unsigned char *a2 = randomBytes(n);
    TT_EQ_I64("cache: put v1", tsObjPut(pEnc, "cached", a, n, &zErr), 0);
    TT_CHECK("cache: ranged read v1 (fills cache)", getRange(pEnc, "cached", 70000, 10, &b)==0 && memcmp(b.a, a + 70000, 10)==0);
    TT_EQ_I64("cache: open second writer", tsObjOpen(zUri, &cfg, &pEnc2, &zErr), 0);
    if( pEnc2 ){
      /* Same size, other content and data key, written behind pEnc's back. */
      TT_EQ_I64("cache: v2 by another store", tsObjPut(pEnc2, "cached", a2, n, &zErr), 0);
      TT_CHECK("cache: stale entry detected, v2 read", getRange(pEnc, "cached", 70000, 10, &b)==0 && memcmp(b.a, a2 + 70000, 10)==0);
      TT_EQ_I64("cache: v3 shorter by another store", tsObjPut(pEnc2, "cached", a, 1000, &zErr), 0);
      TT_CHECK("cache: shrunk object read whole", getRange(pEnc, "cached", 0, -1, &b)==0 && b.n==1000 && memcmp(b.a, a, 1000)==0);
      TT_EQ_I64("cache: deleted by another store", tsObjDelete(pEnc2, "cached", &zErr), 0);
      TT_EQ_I64("cache: deleted object is NOTFOUND", getRange(pEnc, "cached", 0, 10, &b), TS_OBJ_NOTFOUND);
      tsObjClose(pEnc2);
    }
    TT_EQ_I64("cache: put v4 through the same store", tsObjPut(pEnc, "cached", a2, 5000, &zErr), 0);
    TT_CHECK("cache: v4 read", getRange(pEnc, "cached", 4990, 100, &b)==0 && b.n==10 && memcmp(b.a, a2 + 4990, 10)==0);
    free(a2);
  }
  /* Binding (TSLCSE02): each object is sealed for its key id and object key. */
  {
    TsBuf ra, rb;
    TsObjStore *pSub = 0, *pTop = 0, *pNoKey = 0, *pK2 = 0;
    TsObjConfig c3;
    char zWant[900], zTop[400];
    unsigned char *a2 = randomBytes(5000);
    tsBufInit(&ra);
    tsBufInit(&rb);
    TT_EQ_I64("bind: put cpu/a", tsObjPut(pEnc, "cpu/a", a, 5000, &zErr), 0);
    TT_EQ_I64("bind: put cpu/b", tsObjPut(pEnc, "cpu/b", a2, 5000, &zErr), 0);
    TT_EQ_I64("bind: raw a", tsObjGet(pRaw, "cpu/a", 0, -1, &ra, &zErr), 0);
    TT_EQ_I64("bind: raw b", tsObjGet(pRaw, "cpu/b", 0, -1, &rb, &zErr), 0);
    TT_CHECK("bind: header magic TSLCSE02", ra.n>8 && memcmp(ra.a, "TSLCSE02", 8)==0);
    /* Swap the two objects' bytes. */
    tsObjPut(pRaw, "cpu/a", rb.a, rb.n, &zErr);
    tsObjPut(pRaw, "cpu/b", ra.a, ra.n, &zErr);
    TT_EQ_I64("bind: swapped object is CORRUPT", getRange(pEnc, "cpu/b", 0, -1, &b), TS_OBJ_CORRUPT);
    tsObjGet(pEnc, "cpu/b", 0, -1, &b, &zErr);
    snprintf(zWant, sizeof(zWant), "object %s/cpu/b was sealed for another object key (moved, "
             "swapped or replayed from another name): refused", zUri);
    TT_EQ_STR("bind: swap message names the object", zErr, zWant);
    TT_EQ_I64("bind: the other one too", getRange(pEnc, "cpu/a", 0, 10, &b), TS_OBJ_CORRUPT);
    /* Replayed under a new name. */
    tsObjPut(pRaw, "cpu/c", ra.a, ra.n, &zErr);
    TT_EQ_I64("bind: replay under another name is CORRUPT", getRange(pEnc, "cpu/c", 0, -1, &b), TS_OBJ_CORRUPT);
    /* Back in place: readable again. */
    tsObjPut(pRaw, "cpu/a", ra.a, ra.n, &zErr);
    tsObjPut(pRaw, "cpu/b", rb.a, rb.n, &zErr);
    TT_CHECK("bind: restored a reads", getRange(pEnc, "cpu/a", 0, -1, &b)==0 && b.n==5000 && memcmp(b.a, a, 5000)==0);
    TT_CHECK("bind: restored b reads", getRange(pEnc, "cpu/b", 0, -1, &b)==0 && b.n==5000 && memcmp(b.a, a2, 5000)==0);
    /* tsObjCopy re-seals for the new key. */
    TT_EQ_I64("bind: copy cpu/a -> cpu/d", tsObjCopy(pEnc, "cpu/a", "cpu/d", &zErr), 0);
    TT_CHECK("bind: copy reads back", getRange(pEnc, "cpu/d", 0, -1, &b)==0 && b.n==5000 && memcmp(b.a, a, 5000)==0);
    /* A store rooted lower (the object's directory) or higher finds the bound key. */
    snprintf(zTop, sizeof(zTop), "%s/cpu", zUri);
    TT_EQ_I64("bind: open the object's directory", tsObjOpen(zTop, &cfg, &pSub, &zErr), 0);
    TT_CHECK("bind: read through the directory store", pSub && getRange(pSub, "a", 0, -1, &b)==0 && b.n==5000 && memcmp(b.a, a, 5000)==0);
    snprintf(zTop, sizeof(zTop), "file://%s", zDir);
    TT_EQ_I64("bind: open the parent", tsObjOpen(zTop, &cfg, &pTop, &zErr), 0);
    TT_CHECK("bind: read through the parent store", pTop && getRange(pTop, "crypt/cpu/a", 0, -1, &b)==0 && b.n==5000 && memcmp(b.a, a, 5000)==0);
    /* The key id is bound too: relabelling the header does not open under another key. */
    memset(&c3, 0, sizeof(c3));
    c3.zCseKeyFile = zKeyFile;
    c3.zCseKeyId = "k2";
    memcpy(ra.a + 8, "k2", 2);
    tsObjPut(pRaw, "cpu/e", ra.a, ra.n, &zErr);
    TT_EQ_I64("bind: open k2 (same material)", tsObjOpen(zUri, &c3, &pK2, &zErr), 0);
    if( pK2 ){
      TT_EQ_I64("bind: relabelled key id does not unwrap", getRange(pK2, "cpu/e", 0, -1, &b), TS_OBJ_CORRUPT);
      tsObjClose(pK2);
    }
    /* The unbound format TSLCSE01 is refused. */
    memcpy(ra.a, "TSLCSE01k1", 10);
    tsObjPut(pRaw, "cpu/v1", ra.a, ra.n, &zErr);
    tsObjGet(pEnc, "cpu/v1", 0, -1, &b, &zErr);
    TT_CHECK("bind: TSLCSE01 refused", zErr && strstr(zErr, "/crypt/cpu/v1 is in the client-side encryption format TSLCSE01, which does not bind an object to its key: refused"));
    /* Without a key: the error names the key id, not ciphertext. */
    if( getenv("TSLITE_CSE_KEY")==0 && getenv("TSLITE_CSE_KEY_FILE")==0 ){
      TT_EQ_I64("nokey: open", tsObjOpen(zUri, 0, &pNoKey, &zErr), 0);
      tsBufReset(&b);
      TT_EQ_I64("nokey: sealed object is an error", pNoKey ? tsObjGet(pNoKey, "cpu/a", 0, -1, &b, &zErr) : -1, TS_OBJ_ERROR);
      snprintf(zWant, sizeof(zWant), "object %s/cpu/a is client-side encrypted with key id 'k1', and "
               "no client-side key is configured: set TSLITE_CSE_KEY_FILE (or TSLITE_CSE_KEY) to key "
               "'k1' and TSLITE_CSE_KEY_ID='k1'", zUri);
      TT_EQ_STR("nokey: message names key id k1", zErr, zWant);
      TT_CHECK("nokey: nothing returned", b.n==0);
      tsObjClose(pNoKey);
      /* Required (a table with encryption = 'client'): the open fails by name. */
      memset(&c3, 0, sizeof(c3));
      c3.eCse = TS_OBJ_CSE_ON;
      c3.zCseKeyId = "k9";
      pNoKey = 0;
      TT_EQ_I64("required: no key material", tsObjOpen(zUri, &c3, &pNoKey, &zErr), TS_OBJ_ERROR);
      TT_EQ_STR("required: message names the key", zErr, "client-side encryption key 'k9' is not "
                "configured: set TSLITE_CSE_KEY_FILE (or TSLITE_CSE_KEY) to its material and "
                "TSLITE_CSE_KEY_ID='k9'");
      setenv("TSLITE_CSE_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 1);
      setenv("TSLITE_CSE_KEY_ID", "k8", 1);
      TT_EQ_I64("required: other key in the environment", tsObjOpen(zUri, &c3, &pNoKey, &zErr), TS_OBJ_ERROR);
      TT_EQ_STR("required: message names both ids", zErr, "client-side encryption key 'k9' is not "
                "configured: the environment holds key 'k8' (TSLITE_CSE_KEY_ID)");
      TT_CHECK("required: no key material in the message", !strstr(zErr, "0011223344"));
      c3.zCseKeyId = "k8";
      TT_EQ_I64("required: the named key opens", tsObjOpen(zUri, &c3, &pNoKey, &zErr), 0);
      tsObjClose(pNoKey);
      c3.zCseKeyId = 0;
      pNoKey = 0;
      TT_EQ_I64("required: no name = the environment's key", tsObjOpen(zUri, &c3, &pNoKey, &zErr), 0);
      tsObjClose(pNoKey);
      unsetenv("TSLITE_CSE_KEY");
      unsetenv("TSLITE_CSE_KEY_ID");
    }
    tsObjClose(pSub);
    tsObjClose(pTop);
    tsBufFree(&ra);
    tsBufFree(&rb);
    free(a2);
  }
  /* Bad key material is refused at open, without echoing it. */
  f = fopen(zKeyFile2, "w");
  fputs("not-a-key", f);
  fclose(f);
  TT_EQ_I64("crypt: bad key file refused", tsObjOpen(zUri, &cfg2, &pWrong, &zErr), TS_OBJ_ERROR);
  TT_CHECK("crypt: bad key message", zErr && strstr(zErr, "64 hex") && !strstr(zErr, "not-a-key"));
done:
  tsObjClose(pEnc);
  tsObjClose(pRaw);
  tsBufFree(&b);
  tsBufFree(&raw);
  free(a);
  free(zErr);
}

int main(void){
  const char *zUri = getenv("TS_OBJSTORE_URI");
  const char *zQuirks = getenv("TS_OBJSTORE_QUIRKS");
  bS3rver = zQuirks && strcmp(zQuirks, "s3rver")==0;
  if( zUri ){
    runSuite(zUri, 0, "env", strncmp(zUri, "file:", 5)==0);
  }else{
    char zDir[] = "/tmp/tslite-objstore-XXXXXX";
    char zCmd[128];
    char zU[128];
    if( mkdtemp(zDir)==0 ){ printf("FAIL mkdtemp\n"); return 1; }
    snprintf(zU, sizeof(zU), "file://%s/plain", zDir);
    runSuite(zU, 0, "file", 1);
    {
      char zKeyFile[200];
      TsObjConfig cfg;
      FILE *f;
      snprintf(zKeyFile, sizeof(zKeyFile), "%s/suite.key", zDir);
      f = fopen(zKeyFile, "w");
      fputs("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", f);
      fclose(f);
      memset(&cfg, 0, sizeof(cfg));
      cfg.zCseKeyFile = zKeyFile;
      snprintf(zU, sizeof(zU), "file://%s/encrypted", zDir);
      runSuite(zU, &cfg, "file+cse", 1);
    }
    testCrypt(zDir);
    {
      /* The store root need not exist yet; bad roots are refused. */
      TsObjStore *p = 0;
      char *zErr = 0;
      TT_EQ_I64("file: relative root refused", tsObjOpen("file://relative/dir", 0, &p, &zErr), TS_OBJ_ERROR);
      TT_CHECK("file: relative root message", zErr && strstr(zErr, "absolute"));
      TT_EQ_I64("file: unknown scheme", tsObjOpen("ftp://x/y", 0, &p, &zErr), TS_OBJ_ERROR);
      TT_CHECK("file: unknown scheme message", zErr && strstr(zErr, "unsupported URI 'ftp://x/y'"));
      free(zErr);
      zErr = 0;
      {
        char *zKey = 0;
        snprintf(zU, sizeof(zU), "file://%s/parent/sub/obj.bin", zDir);
        TT_EQ_I64("file: open parent", tsObjOpenParent(zU, 0, &p, &zKey, &zErr), 0);
        TT_EQ_STR("file: parent key", zKey, "obj.bin");
        if( p ){
          TT_EQ_I64("file: put via parent", tsObjPut(p, zKey, "hi", 2, &zErr), 0);
          tsObjClose(p);
        }
        free(zKey);
        snprintf(zU, sizeof(zU), "%s/parent/sub/obj.bin", zDir);
        {
          struct stat st;
          TT_CHECK("file: object is a plain file", stat(zU, &st)==0 && st.st_size==2);
        }
        TT_EQ_I64("file: parent of dir refused", tsObjOpenParent("file:///tmp/", 0, &p, &zKey, &zErr), TS_OBJ_ERROR);
      }
      free(zErr);
    }
    snprintf(zCmd, sizeof(zCmd), "rm -rf '%s'", zDir);
    if( system(zCmd)!=0 ) printf("# cleanup of %s failed\n", zDir);
  }
  return tt_done();
}
