/*
** endpoint.c: S3 endpoint URLs (endpoint.h), parsed with libcurl's URL API
** (curl_url), the same parser that later sends the requests, so the host
** that is checked, signed and put in the Host header is the host connected
** to.  A hand-written split at "://" and ':' once read
** "http://127.0.0.1:x@evil" as host 127.0.0.1; curl reads userinfo
** "127.0.0.1:x" and host "evil", and that is now an error.
**
** REDACTION.  Messages name the endpoint through tsS3EndpointRedact: every
** byte between "://" and the last '@' anywhere becomes "<userinfo>"
** (conservative: a '/', '?' or '#' inside a password cannot leak its tail),
** then a query becomes "?<query>" and a fragment "#<fragment>".
*/
#include "endpoint.h"
#include "objstore_int.h"
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *tsS3EndpointRedact(const char *zEp){
  const char *zScheme = strstr(zEp, "://");
  const char *zAt = strrchr(zEp, '@');
  const char *zRest = zEp;                 /* what is left to copy */
  TsBuf b;
  size_t n;
  tsBufInit(&b);
  if( zAt ){
    const char *zStart = zScheme && zScheme<zAt ? zScheme + 3 : zEp;
    tsBufAppend(&b, zEp, (size_t)(zStart - zEp));
    tsBufAppendStr(&b, "<userinfo>");
    zRest = zAt;
  }
  n = strcspn(zRest, "?#");
  tsBufAppend(&b, zRest, n);
  if( zRest[n]=='?' ) tsBufAppendStr(&b, "?<query>");
  if( strchr(zRest + n, '#') ) tsBufAppendStr(&b, "#<fragment>");
  tsBufAppendByte(&b, 0);
  if( b.bErr ){ tsBufFree(&b); return 0; }
  return (char*)tsBufDetach(&b, &n);
}

/* Set *pzErr to "s3 endpoint '<redacted zEp>': <zWhy>"; returns 1. */
static int epErr(char **pzErr, const char *zEp, const char *zWhy){
  char *zRed = tsS3EndpointRedact(zEp);
  tsObjErr(pzErr, "s3 endpoint '%s': %s", zRed ? zRed : "?", zWhy);
  free(zRed);
  return 1;
}

/* Get one part of u; *pz is NULL when the part is absent. */
static int epPart(CURLU *u, CURLUPart e, char **pz){
  CURLUcode rc = curl_url_get(u, e, pz, 0);
  if( rc==CURLUE_OK ) return 0;
  *pz = 0;
  return rc==CURLUE_OUT_OF_MEMORY ? 2 : 0;
}

int tsS3EndpointParse(const char *zEp, TsS3Endpoint *p, char **pzErr){
  CURLU *u;
  CURLUcode rc;
  char *zScheme = 0, *zUser = 0, *zPass = 0, *zOpt = 0, *zHost = 0, *zPort = 0;
  char *zPath = 0, *zQuery = 0, *zFrag = 0;
  int bad = 0, nomem = 0;
  memset(p, 0, sizeof(*p));
  if( zEp==0 || zEp[0]==0 ) return epErr(pzErr, "", "empty (expected http[s]://host[:port])");
  u = curl_url();
  if( u==0 ){ tsObjErr(pzErr, "s3 endpoint: out of memory"); return 1; }
  rc = curl_url_set(u, CURLUPART_URL, zEp, 0);
  if( rc==CURLUE_OUT_OF_MEMORY ){
    curl_url_cleanup(u);
    tsObjErr(pzErr, "s3 endpoint: out of memory");
    return 1;
  }
  if( rc!=CURLUE_OK ){
    char zWhy[200];
    snprintf(zWhy, sizeof(zWhy), "not a URL of the form http[s]://host[:port] (%s)",
             curl_url_strerror(rc));
    curl_url_cleanup(u);
    return epErr(pzErr, zEp, zWhy);
  }
  nomem |= epPart(u, CURLUPART_SCHEME, &zScheme);
  nomem |= epPart(u, CURLUPART_USER, &zUser);
  nomem |= epPart(u, CURLUPART_PASSWORD, &zPass);
  nomem |= epPart(u, CURLUPART_OPTIONS, &zOpt);
  nomem |= epPart(u, CURLUPART_HOST, &zHost);
  nomem |= epPart(u, CURLUPART_PORT, &zPort);
  nomem |= epPart(u, CURLUPART_PATH, &zPath);
  nomem |= epPart(u, CURLUPART_QUERY, &zQuery);
  nomem |= epPart(u, CURLUPART_FRAGMENT, &zFrag);
  if( nomem ){
    tsObjErr(pzErr, "s3 endpoint: out of memory");
    bad = 1;
  }else if( zScheme==0 || (strcmp(zScheme, "http")!=0 && strcmp(zScheme, "https")!=0) ){
    bad = epErr(pzErr, zEp, "the scheme must be http:// or https://");
  }else if( strncasecmp(zEp, zScheme, strlen(zScheme))!=0 ){
    /* curl guessed a scheme the text does not have ("minio:9000"). */
    bad = epErr(pzErr, zEp, "no scheme (expected http[s]://host[:port])");
  }else if( zUser || zPass || zOpt ){
    bad = epErr(pzErr, zEp, "a user name or password in the endpoint is not supported "
                "(credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials)");
  }else if( zQuery ){
    bad = epErr(pzErr, zEp, "a query string is not supported (expected http[s]://host[:port])");
  }else if( zFrag ){
    bad = epErr(pzErr, zEp, "a fragment is not supported (expected http[s]://host[:port])");
  }else if( zPath && strcmp(zPath, "/")!=0 && zPath[0]!=0 ){
    bad = epErr(pzErr, zEp, "a path is not supported (expected http[s]://host[:port]; "
                "the bucket goes in the s3:// URI)");
  }else if( zHost==0 || zHost[0]==0 ){
    bad = epErr(pzErr, zEp, "no host (expected http[s]://host[:port])");
  }else{
    p->bHttps = strcmp(zScheme, "https")==0;
    p->zHostPort = zPort ? tsObjMprintf("%s:%s", zHost, zPort) : tsObjStrdup(zHost);
    if( p->zHostPort==0 ){ tsObjErr(pzErr, "s3 endpoint: out of memory"); bad = 1; }
  }
  curl_free(zScheme); curl_free(zUser); curl_free(zPass); curl_free(zOpt); curl_free(zHost);
  curl_free(zPort); curl_free(zPath); curl_free(zQuery); curl_free(zFrag);
  curl_url_cleanup(u);
  if( bad ) tsS3EndpointFree(p);
  return bad;
}

int tsS3EndpointCheck(const char *zEp, char **pzErr){
  TsS3Endpoint e;
  int rc = tsS3EndpointParse(zEp, &e, pzErr);
  tsS3EndpointFree(&e);
  return rc;
}

void tsS3EndpointFree(TsS3Endpoint *p){
  if( p==0 ) return;
  free(p->zHostPort);
  p->zHostPort = 0;
}
