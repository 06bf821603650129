/*
** replay.c: a main() for a libFuzzer target built without libFuzzer, so that
** `make test` replays every target's corpus with the ordinary compiler (and
** under ASan+UBSan in build/asan/).  tests/sh/fuzz_replay.sh runs
**   BUILD/fuzzreplay/<target> FILE_OR_DIR...
** which calls LLVMFuzzerTestOneInput once per regular file (directories are
** read one level deep, in name order) and prints "replayed N inputs".  A
** crash, abort, sanitizer report or leak is the failure; errors returned by
** the code under test are expected.  LLVMFuzzerInitialize is not used by any
** target.
*/
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *a, size_t n);

static long nRun = 0;

static int runFile(const char *zPath){
  FILE *f = fopen(zPath, "rb");
  unsigned char *a = 0;
  long n;
  if( f==0 ){ fprintf(stderr, "replay: cannot open %s\n", zPath); return 1; }
  if( fseek(f, 0, SEEK_END) || (n = ftell(f))<0 || fseek(f, 0, SEEK_SET) ){ fclose(f); return 1; }
  /* An exact-size block, so that reading a[n] is caught by ASan. */
  a = malloc(n ? (size_t)n : 1);
  if( a==0 || (n>0 && fread(a, 1, (size_t)n, f)!=(size_t)n) ){ free(a); fclose(f); return 1; }
  fclose(f);
  LLVMFuzzerTestOneInput(a, (size_t)n);
  free(a);
  nRun++;
  return 0;
}

static int cmpStr(const void *x, const void *y){
  return strcmp(*(char*const*)x, *(char*const*)y);
}

static int runPath(const char *zPath){
  struct stat st;
  if( stat(zPath, &st) ){ fprintf(stderr, "replay: no such path %s\n", zPath); return 1; }
  if( S_ISDIR(st.st_mode) ){
    DIR *d = opendir(zPath);
    struct dirent *e;
    char **az = 0;
    int nAz = 0, i, rc = 0;
    if( d==0 ) return 1;
    while( (e = readdir(d))!=0 ){
      char **azNew;
      if( e->d_name[0]=='.' ) continue;
      azNew = realloc(az, sizeof(char*)*(size_t)(nAz+1));
      if( azNew==0 ){ rc = 1; break; }
      az = azNew;
      az[nAz] = malloc(strlen(zPath) + strlen(e->d_name) + 2);
      if( az[nAz]==0 ){ rc = 1; break; }
      sprintf(az[nAz], "%s/%s", zPath, e->d_name);
      nAz++;
    }
    closedir(d);
    qsort(az, (size_t)nAz, sizeof(char*), cmpStr);
    for(i=0; i<nAz; i++){
      struct stat s2;
      if( rc==0 && stat(az[i], &s2)==0 && S_ISREG(s2.st_mode) ) rc = runFile(az[i]);
      free(az[i]);
    }
    free(az);
    return rc;
  }
  return runFile(zPath);
}

int main(int argc, char **argv){
  int i, rc = 0;
  for(i=1; i<argc && rc==0; i++) rc = runPath(argv[i]);
  printf("replayed %ld inputs\n", nRun);
  return rc;
}
