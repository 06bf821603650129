/*
** sqltest.c: runs SQL golden files (tests/sql/NAME.test) against SQLite with
** tslite registered as an auto-extension.
**
** File format (blocks separated by blank lines; '#' starts a comment line):
**
**   statement ok                 the SQL must succeed
**   <sql, one or more lines>
**
**   statement error <text>       the SQL must fail and its message must
**   <sql>                        contain <text> (exactly as written)
**
**   query                        rows must match exactly: columns joined by
**   <sql>                        '|', NULL as NULL, blobs as x'..', reals as
**   ----                         printed by this runner as %.15g plus ".0"
**                                when that has no '.' or exponent (SQLite
**                                3.40's text; 3.53 prints shortest round-trip
**                                text, so the runner never asks SQLite)
**   <expected rows>
**
**   connection <name>            switch to (opening if needed) connection
**                                <name> on the same database file
**   reopen                       close every connection and reopen 'main'
**
** EXPLAIN QUERY PLAN rows print only their detail column (id, parent and
** "notused" are SQLite internals that differ between versions).
** `sqltest --version` prints the SQLite version it is linked with.
** Every test file gets a fresh temporary database file.  Each block prints
** one "PASS file:line" or "FAIL file:line: why" line.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>

int sqlite3_tslite_init(sqlite3*, char**, const sqlite3_api_routines*);

#define MAX_CONN 8
typedef struct Conn { char zName[32]; sqlite3 *db; } Conn;
static Conn aConn[MAX_CONN];
static int iCur = 0;
static char zDbPath[256];
static const char *zFile;
static int nFail = 0;

static sqlite3 *openDb(void){
  sqlite3 *db = 0;
  if( sqlite3_open(zDbPath, &db)!=SQLITE_OK ){
    fprintf(stderr, "cannot open %s: %s\n", zDbPath, sqlite3_errmsg(db));
    exit(2);
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

static void closeAll(void){
  int i;
  for(i=0; i<MAX_CONN; i++){
    if( aConn[i].db ){
      if( sqlite3_close(aConn[i].db)!=SQLITE_OK ){
        printf("FAIL %s: connection %s did not close cleanly: %s\n", zFile,
               aConn[i].zName, sqlite3_errmsg(aConn[i].db));
        nFail++;
        sqlite3_close_v2(aConn[i].db);
      }
      aConn[i].db = 0;
    }
  }
}

static void useConn(const char *zName){
  int i, iFree = -1;
  for(i=0; i<MAX_CONN; i++){
    if( aConn[i].db && strcmp(aConn[i].zName, zName)==0 ){ iCur = i; return; }
    if( !aConn[i].db && iFree<0 ) iFree = i;
  }
  if( iFree<0 ){ fprintf(stderr, "too many connections\n"); exit(2); }
  snprintf(aConn[iFree].zName, sizeof(aConn[iFree].zName), "%s", zName);
  aConn[iFree].db = openDb();
  iCur = iFree;
}

/* A REAL as text independent of the SQLite version: %.15g, with ".0"
** appended to integral values as SQLite 3.40 and earlier print them. */
static char *realText(double d){
  char z[64];
  if( isnan(d) ) return strdup("NaN");
  if( isinf(d) ) return strdup(d<0 ? "-Inf" : "Inf");
  snprintf(z, sizeof(z), "%.15g", d);
  if( strpbrk(z, ".e")==0 ) strcat(z, ".0");
  return strdup(z);
}

/* Run all statements of zSql; append result rows to pOut (if not NULL).
** Returns 0 on success, else 1 with *pzErr set (malloc'd). */
static int runSql(const char *zSql, char **pOut, size_t *pnOut, char **pzErr){
  sqlite3 *db = aConn[iCur].db;
  const char *zTail = zSql;
  while( zTail && *zTail ){
    sqlite3_stmt *pStmt = 0;
    int rc = sqlite3_prepare_v2(db, zTail, -1, &pStmt, &zTail);
    if( rc!=SQLITE_OK ){ *pzErr = strdup(sqlite3_errmsg(db)); return 1; }
    if( pStmt==0 ) continue;
    while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
      int i, n = sqlite3_column_count(pStmt);
      for(i=(sqlite3_stmt_isexplain(pStmt)==2 ? n-1 : 0); pOut && i<n; i++){
        char *zCell; const unsigned char *z;
        int t = sqlite3_column_type(pStmt, i);
        if( t==SQLITE_NULL ){
          zCell = strdup("NULL");
        }else if( t==SQLITE_BLOB ){
          int nb = sqlite3_column_bytes(pStmt, i), j;
          const unsigned char *a = sqlite3_column_blob(pStmt, i);
          zCell = malloc((size_t)nb*2 + 4);
          zCell[0] = 'x'; zCell[1] = '\'';
          for(j=0; j<nb; j++) snprintf(zCell+2+j*2, 3, "%02x", a[j]);
          zCell[2+nb*2] = '\''; zCell[3+nb*2] = 0;
        }else if( t==SQLITE_FLOAT ){
          zCell = realText(sqlite3_column_double(pStmt, i));
        }else{
          z = sqlite3_column_text(pStmt, i);
          zCell = strdup((const char*)z);
        }
        {
          size_t nc = strlen(zCell);
          *pOut = realloc(*pOut, *pnOut + nc + 2);
          memcpy(*pOut + *pnOut, zCell, nc);
          *pnOut += nc;
          (*pOut)[(*pnOut)++] = (i==n-1) ? '\n' : '|';
          (*pOut)[*pnOut] = 0;
        }
        free(zCell);
      }
    }
    if( rc!=SQLITE_DONE ){
      *pzErr = strdup(sqlite3_errmsg(db));
      sqlite3_finalize(pStmt);
      return 1;
    }
    sqlite3_finalize(pStmt);
  }
  return 0;
}

static char *readFile(const char *z){
  FILE *f = fopen(z, "rb");
  long n;
  char *a;
  if( !f ){ fprintf(stderr, "cannot read %s\n", z); exit(2); }
  fseek(f, 0, SEEK_END); n = ftell(f); fseek(f, 0, SEEK_SET);
  a = malloc((size_t)n + 1);
  if( fread(a, 1, (size_t)n, f)!=(size_t)n ){ exit(2); }
  a[n] = 0;
  fclose(f);
  return a;
}

int main(int argc, char **argv){
  char *zText;
  static char *aLine[100000];
  int nLine = 0, i;
  int fd;
  if( argc==2 && strcmp(argv[1], "--version")==0 ){
    printf("%s\n", sqlite3_libversion());
    return 0;
  }
  if( argc!=2 ){ fprintf(stderr, "usage: sqltest FILE.test | --version\n"); return 2; }
  zFile = argv[1];
  sqlite3_auto_extension((void(*)(void))sqlite3_tslite_init);
  snprintf(zDbPath, sizeof(zDbPath), "/tmp/tslite-sqltest-XXXXXX");
  fd = mkstemp(zDbPath);
  if( fd<0 ){ perror("mkstemp"); return 2; }
  close(fd);
  unlink(zDbPath);
  useConn("main");
  zText = readFile(zFile);
  {
    char *p = zText;
    aLine[nLine++] = p;
    while( (p = strchr(p, '\n'))!=0 && nLine<100000 ){ *p++ = 0; aLine[nLine++] = p; }
  }
  for(i=0; i<nLine; ){
    char *z = aLine[i];
    int iStart = i + 1;
    if( z[0]==0 || z[0]=='#' ){ i++; continue; }
    if( strncmp(z, "connection ", 11)==0 ){ useConn(z+11); i++; continue; }
    if( strcmp(z, "reopen")==0 ){ closeAll(); useConn("main"); i++; continue; }
    if( strncmp(z, "statement ", 10)==0 || strcmp(z, "query")==0 ){
      int bQuery = z[0]=='q';
      int bErr = strncmp(z, "statement error", 15)==0;
      const char *zExpErr = bErr ? z + 15 + (z[15]==' ') : 0;
      size_t nSql = 0, nExp = 0, nOut = 0;
      char *zSql = calloc(1, 1), *zExp = calloc(1, 1), *zOut = 0, *zErr = 0;
      i++;
      while( i<nLine && aLine[i][0] && strcmp(aLine[i], "----")!=0 ){
        size_t n = strlen(aLine[i]);
        zSql = realloc(zSql, nSql + n + 2);
        memcpy(zSql+nSql, aLine[i], n); nSql += n; zSql[nSql++] = '\n'; zSql[nSql] = 0;
        i++;
      }
      if( bQuery && i<nLine && strcmp(aLine[i], "----")==0 ){
        i++;
        while( i<nLine && aLine[i][0] ){
          size_t n = strlen(aLine[i]);
          zExp = realloc(zExp, nExp + n + 2);
          memcpy(zExp+nExp, aLine[i], n); nExp += n; zExp[nExp++] = '\n'; zExp[nExp] = 0;
          i++;
        }
      }
      if( runSql(zSql, bQuery ? &zOut : 0, &nOut, &zErr) ){
        if( bErr && strstr(zErr, zExpErr) ){
          printf("PASS %s:%d\n", zFile, iStart);
        }else if( bErr ){
          printf("FAIL %s:%d: expected error containing [%s], got [%s]\n", zFile, iStart, zExpErr, zErr);
          nFail++;
        }else{
          printf("FAIL %s:%d: error: %s\n", zFile, iStart, zErr);
          nFail++;
        }
      }else if( bErr ){
        printf("FAIL %s:%d: expected error containing [%s], but it succeeded\n", zFile, iStart, zExpErr);
        nFail++;
      }else if( bQuery && strcmp(zOut ? zOut : "", zExp)!=0 ){
        printf("FAIL %s:%d: result differs\n--- expected\n%s--- got\n%s---\n", zFile, iStart, zExp, zOut ? zOut : "");
        nFail++;
      }else{
        printf("PASS %s:%d\n", zFile, iStart);
      }
      free(zSql); free(zExp); free(zOut); free(zErr);
      continue;
    }
    printf("FAIL %s:%d: cannot parse line: %s\n", zFile, i+1, z);
    nFail++;
    i++;
  }
  closeAll();
  free(zText);
  unlink(zDbPath);
  {
    char zJ[300];
    snprintf(zJ, sizeof(zJ), "%s-journal", zDbPath); unlink(zJ);
    snprintf(zJ, sizeof(zJ), "%s-wal", zDbPath); unlink(zJ);
    snprintf(zJ, sizeof(zJ), "%s-shm", zDbPath); unlink(zJ);
  }
  sqlite3_reset_auto_extension();
  sqlite3_shutdown();
  return nFail ? 1 : 0;
}
