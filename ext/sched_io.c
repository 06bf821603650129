/*
** sched_io.c: what a scheduled query reads and where its error reports go:
** the source tables of a query (collected with an authorizer while it is
** prepared, for late-data refresh) and the error-report location
** (ErrorReportConfiguration) with the upload of a report.  Shared with
** sched_run.c through sched_int.h.
*/
#include "sched_int.h"
#include "objstore.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Source tables of a query: collected with an authorizer while preparing. */


static int sqAuthRead(void *pArg, int op, const char *z1, const char *z2,
                      const char *zDb, const char *zTrigger){
  SqReads *r = (SqReads*)pArg;
  int i;
  (void)z2; (void)zTrigger;
  if( op!=SQLITE_READ || z1==0 || zDb==0 ) return SQLITE_OK;
  for(i=0; i<r->n; i++){
    if( strcmp(r->az[i], zDb)==0 && strcmp(r->az[i]+strlen(r->az[i])+1, z1)==0 ) return SQLITE_OK;
  }
  if( r->n < (int)(sizeof(r->az)/sizeof(r->az[0])) ){
    size_t nDb = strlen(zDb), nT = strlen(z1);
    char *p = sqlite3_malloc64(nDb + nT + 2);
    if( p ){
      memcpy(p, zDb, nDb+1); memcpy(p+nDb+1, z1, nT+1);
      r->az[r->n++] = p;
    }
  }
  return SQLITE_OK;
}

void tsSqReadsFree(SqReads *r){
  int i;
  for(i=0; i<r->n; i++) sqlite3_free(r->az[i]);
  r->n = 0;
}

/*
** Prepare the query of a scheduled query: one statement, read-only, whose
** only parameter is @scheduled_runtime.  With pReads, the tables it reads
** are collected (an authorizer is installed for the prepare and removed).
*/
int tsSqPrepareQuery(sqlite3 *db, const char *zQuery, SqReads *pReads,
                          sqlite3_stmt **ppStmt, char **pzErr){
  sqlite3_stmt *pS = 0;
  const char *zTail = 0;
  int rc, i;
  *ppStmt = 0;
  if( pReads ) sqlite3_set_authorizer(db, sqAuthRead, pReads);
  rc = sqlite3_prepare_v2(db, zQuery, -1, &pS, &zTail);
  if( pReads ) sqlite3_set_authorizer(db, 0, 0);
  if( rc!=SQLITE_OK ){
    tsErrSet(pzErr, "QueryString: %s", sqlite3_errmsg(db));
    return rc;
  }
  if( pS==0 ){
    tsErrSet(pzErr, "QueryString: no SQL statement");
    return SQLITE_ERROR;
  }
  while( zTail && (*zTail==' ' || *zTail=='\n' || *zTail=='\t' || *zTail=='\r' || *zTail==';') ) zTail++;
  if( zTail && *zTail ){
    sqlite3_finalize(pS);
    tsErrSet(pzErr, "QueryString: only one SQL statement is allowed (extra text: '%.40s')", zTail);
    return SQLITE_ERROR;
  }
  if( !sqlite3_stmt_readonly(pS) || sqlite3_column_count(pS)==0 ){
    sqlite3_finalize(pS);
    tsErrSet(pzErr, "QueryString: must be a SELECT (read-only, returning rows)");
    return SQLITE_ERROR;
  }
  for(i=1; i<=sqlite3_bind_parameter_count(pS); i++){
    const char *zP = sqlite3_bind_parameter_name(pS, i);
    if( zP==0 || strcmp(zP, "@scheduled_runtime")!=0 ){
      tsErrSet(pzErr, "QueryString: parameter %s is not bound; the only parameter of a scheduled "
               "query is @scheduled_runtime", zP ? zP : "?");
      sqlite3_finalize(pS);
      return SQLITE_ERROR;
    }
  }
  *ppStmt = pS;
  return SQLITE_OK;
}

/* ---------------------------------------------------------------------- */
/* Error report location. */

/* Base URI of the error reports from ErrorReportConfiguration JSON:
** {"S3Configuration":{"BucketName":"b","ObjectKeyPrefix":"p",...}} gives
** s3://b/p; tslite also takes {"Uri":"file:///dir" or "s3://b/p"}.  NULL
** config gives NULL (reports are kept in the runs table only). */
int tsSqReportBase(sqlite3 *db, const char *zCfg, char **pzBase, char **pzErr){
  sqlite3_stmt *pS = 0;
  int rc;
  *pzBase = 0;
  if( zCfg==0 ) return SQLITE_OK;
  rc = tsSqStep(db, &pS,
      "SELECT CASE WHEN json_valid(?1) AND json_type(?1)='object' THEN 1 ELSE 0 END,"
      " json_extract(?1,'$.Uri'), json_extract(?1,'$.S3Configuration.BucketName'),"
      " json_extract(?1,'$.S3Configuration.ObjectKeyPrefix'),"
      " (SELECT group_concat(key) FROM json_each(?1) WHERE key NOT IN ('Uri','S3Configuration'))",
      "t", zCfg);
  if( rc!=SQLITE_ROW ){
    tsErrSet(pzErr, "ErrorReportConfiguration: %s", sqlite3_errmsg(db));
    return rc==SQLITE_DONE ? SQLITE_ERROR : rc;
  }
  rc = SQLITE_OK;
  if( !sqlite3_column_int(pS, 0) ){
    tsErrSet(pzErr, "ErrorReportConfiguration: expected a JSON object");
    rc = SQLITE_ERROR;
  }else if( sqlite3_column_type(pS, 4)!=SQLITE_NULL ){
    tsErrSet(pzErr, "ErrorReportConfiguration: unknown field '%s' (expected S3Configuration or Uri)",
             sqlite3_column_text(pS, 4));
    rc = SQLITE_ERROR;
  }else if( sqlite3_column_type(pS, 1)==SQLITE_TEXT ){
    const char *zU = (const char*)sqlite3_column_text(pS, 1);
    size_t n = strlen(zU);
    while( n>0 && zU[n-1]=='/' ) n--;
    *pzBase = sqlite3_mprintf("%.*s", (int)n, zU);
  }else if( sqlite3_column_type(pS, 2)==SQLITE_TEXT ){
    const char *zB = (const char*)sqlite3_column_text(pS, 2);
    const char *zP = (const char*)sqlite3_column_text(pS, 3);
    if( zP && zP[0] ){
      size_t n = strlen(zP);
      while( n>0 && zP[n-1]=='/' ) n--;
      *pzBase = sqlite3_mprintf("s3://%s/%.*s", zB, (int)n, zP);
    }else{
      *pzBase = sqlite3_mprintf("s3://%s", zB);
    }
  }else{
    tsErrSet(pzErr, "ErrorReportConfiguration: needs S3Configuration.BucketName or Uri");
    rc = SQLITE_ERROR;
  }
  sqlite3_finalize(pS);
  if( rc==SQLITE_OK && *pzBase==0 ) rc = SQLITE_NOMEM;
  if( rc==SQLITE_OK && strncmp(*pzBase, "s3://", 5)!=0 && strncmp(*pzBase, "file:///", 8)!=0 ){
    tsErrSet(pzErr, "ErrorReportConfiguration: '%s' is not an s3:// or file:/// location", *pzBase);
    sqlite3_free(*pzBase); *pzBase = 0;
    rc = SQLITE_ERROR;
  }
  return rc;
}

/* Put the report zReport at zBase/zKey.  0 ok; else *pzErr. */
int tsSqReportPut(const char *zBase, const char *zKey, const char *zReport, char **pzErr){
  TsObjStore *pStore = 0;
  TsObjConfig cfg;
  char *zOErr = 0;
  int rc;
  memset(&cfg, 0, sizeof(cfg));
  rc = tsObjOpen(zBase, &cfg, &pStore, &zOErr);
  if( rc==TS_OBJ_OK ) rc = tsObjPut(pStore, zKey, zReport, strlen(zReport), &zOErr);
  tsObjClose(pStore);
  if( rc!=TS_OBJ_OK ){
    tsErrSet(pzErr, "%s", zOErr ? zOErr : "object store error");
    free(zOErr);
    return SQLITE_ERROR;
  }
  free(zOErr);
  return SQLITE_OK;
}
