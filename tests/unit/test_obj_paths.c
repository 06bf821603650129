/*
** test_obj_paths.c: plain and relative paths wherever a file:// URI works
** (s3/objstore.c tsObjUriResolve, called by tsObjOpen and tsObjOpenParent):
** resolution against the working directory with "." / ".." / "//" folded
** and a trailing '/' kept, URIs passed through, other schemes refused; then
** a store opened and an object written and read through relative paths.
*/
#include "objstore.h"
#include "tt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char zCwd[512];

/* tsObjUriResolve(zIn) compared with zExp, where '@' in zExp stands for
** the working directory. */
static void res(const char *zIn, const char *zExp){
  char zWant[1200], zName[300];
  const char *zAt = strchr(zExp, '@');
  char *zErr = 0, *z;
  if( zAt ) snprintf(zWant, sizeof(zWant), "%.*s%s%s", (int)(zAt - zExp), zExp, zCwd, zAt + 1);
  else snprintf(zWant, sizeof(zWant), "%s", zExp);
  z = tsObjUriResolve(zIn, &zErr);
  snprintf(zName, sizeof(zName), "resolve '%s'", zIn);
  TT_EQ_STR(zName, z ? z : (zErr ? zErr : "(null)"), zWant);
  free(z);
  free(zErr);
}

int main(void){
  char zTmp[] = "/tmp/tslite-paths-XXXXXX";
  char *zErr = 0;
  TsObjStore *p = 0;
  char *zKey = 0;
  TsBuf b;
  if( mkdtemp(zTmp)==0 || chdir(zTmp)!=0 || getcwd(zCwd, sizeof(zCwd))==0 ){
    printf("FAIL paths: cannot make a temporary directory\n");
    return 1;
  }
  res("data/x.parquet", "file://@/data/x.parquet");
  res("./out/", "file://@/out/");
  res("out", "file://@/out");
  res(".", "file://@/");
  res("a/./b//c/../d", "file://@/a/b/d");
  res("a/..", "file://@/");
  res("/srv/lake/../data//x.csv", "file:///srv/data/x.csv");
  res("/../../x", "file:///x");
  res("/", "file:///");
  res("./data:2024/x", "file://@/data:2024/x");
  res("s3://bkt/pre/x", "s3://bkt/pre/x");
  res("file:///abs/dir/", "file:///abs/dir/");
  res("gs://bkt/x", "object store: unsupported URI 'gs://bkt/x' (expected s3://bucket/..., "
      "file:///dir/... or a file path)");
  res("http:x", "object store: unsupported URI 'http:x' (expected s3://bucket/..., "
      "file:///dir/... or a file path)");
  res("", "object store: empty URI or path");

  /* A relative store root and a relative object name reach the same file. */
  TT_EQ_I64("open relative root", tsObjOpen("sub/dir/", 0, &p, &zErr), TS_OBJ_OK);
  TT_EQ_I64("put through it", p ? tsObjPut(p, "k.txt", "hello", 5, &zErr) : -1, TS_OBJ_OK);
  tsObjClose(p);
  p = 0;
  TT_CHECK("file is where the relative path says", access("sub/dir/k.txt", F_OK)==0);
  TT_EQ_I64("open parent of a relative name", tsObjOpenParent("./sub/../sub/dir/k.txt", 0, &p, &zKey, &zErr),
            TS_OBJ_OK);
  TT_EQ_STR("its key", zKey ? zKey : "", "k.txt");
  tsBufInit(&b);
  TT_EQ_I64("get", p ? tsObjGet(p, zKey, 0, -1, &b, &zErr) : -1, TS_OBJ_OK);
  TT_CHECK("bytes", b.n==5 && memcmp(b.a, "hello", 5)==0);
  tsBufFree(&b);
  tsObjClose(p);
  free(zKey);
  p = 0; zKey = 0;
  {
    char zAbs[700];
    snprintf(zAbs, sizeof(zAbs), "%s/sub/dir/k.txt", zCwd);
    TT_EQ_I64("absolute plain path", tsObjOpenParent(zAbs, 0, &p, &zKey, &zErr), TS_OBJ_OK);
  }
  tsObjClose(p);
  free(zKey);
  free(zErr);
  unlink("sub/dir/k.txt");
  rmdir("sub/dir");
  rmdir("sub");
  if( chdir("/")==0 ) rmdir(zTmp);
  return tt_done();
}
