/*
** awsconf.c: S3 settings from TsObjConfig, the AWS_* environment and the
** shared AWS files (see awsconf.h).  Precedence, highest first:
**
**   endpoint     TsObjConfig.zEndpoint, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL
**                (both ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true),
**                endpoint_url of the profile in ~/.aws/config, else AWS
**   region       TsObjConfig.zRegion, AWS_REGION, AWS_DEFAULT_REGION,
**                region of the profile in ~/.aws/config, else us-east-1
**   credentials  AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN),
**                else profile AWS_PROFILE (default "default") of
**                AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials)
**   url style    TsObjConfig.zUrlStyle, TSLITE_S3_URL_STYLE, else path when
**                an endpoint is set and virtual-host for AWS (store_s3.c
**                also picks path style for bucket names with dots, which
**                break TLS host-name checks as virtual hosts)
**   (http/https: the endpoint's scheme, used as configured; endpoint.c
**   parses it.  TSLITE_S3_ALLOW_HTTP and TsObjConfig.bAllowHttp are no-ops.)
**   attempts     TsObjConfig.nMaxAttempts, AWS_MAX_ATTEMPTS, else 5
**
** INI files: "[section]" headers, "key = value" lines, '#'/';' comments; in
** ~/.aws/config a profile is "[profile NAME]" except "[default]".
*/
#include "awsconf.h"
#include "objstore_int.h"
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trimDup(const char *z, size_t n){
  char *zOut;
  while( n>0 && (z[0]==' ' || z[0]=='\t') ){ z++; n--; }
  while( n>0 && (z[n-1]==' ' || z[n-1]=='\t' || z[n-1]=='\r' || z[n-1]=='\n') ) n--;
  zOut = malloc(n + 1);
  if( zOut ){ memcpy(zOut, z, n); zOut[n] = 0; }
  return zOut;
}

char *tsAwsIniGet(const char *zPath, const char *zSection, const char *zKey){
  FILE *f = fopen(zPath, "r");
  char *zLine = 0;       /* one whole line (getline): session tokens run to kilobytes */
  size_t nAlloc = 0;
  ssize_t nLine;
  int bIn = 0;
  char *zVal = 0;
  if( f==0 ) return 0;
  while( zVal==0 && (nLine = getline(&zLine, &nAlloc, f))>=0 ){
    char *z = zLine, *zEq;
    while( *z==' ' || *z=='\t' ) z++;
    if( *z=='#' || *z==';' || *z=='\n' || *z==0 ) continue;
    if( *z=='[' ){
      char *zEnd = strchr(z, ']');
      char *zName;
      if( zEnd==0 ){ bIn = 0; continue; }
      zName = trimDup(z + 1, (size_t)(zEnd - z - 1));
      bIn = zName && strcmp(zName, zSection)==0;
      free(zName);
      continue;
    }
    if( !bIn || z[0]==' ' ) continue;
    zEq = strchr(z, '=');
    if( zEq ){
      char *zK = trimDup(z, (size_t)(zEq - z));
      if( zK && strcmp(zK, zKey)==0 ) zVal = trimDup(zEq + 1, strlen(zEq + 1));
      free(zK);
    }
  }
  if( zLine ){ OPENSSL_cleanse(zLine, nAlloc); free(zLine); }
  fclose(f);
  return zVal;
}

static const char *envNonEmpty(const char *zName){
  const char *z = getenv(zName);
  return (z && z[0]) ? z : 0;
}

static char *homePath(const char *zRel){
  const char *zHome = getenv("HOME");
  if( zHome==0 ) return 0;
  return tsObjMprintf("%s/%s", zHome, zRel);
}

static void freeSecret(char *z){
  if( z ){ OPENSSL_cleanse(z, strlen(z)); free(z); }
}

void tsAwsConfFree(TsAwsConf *p){
  free(p->zEndpoint);
  free(p->zRegion);
  free(p->zAccessKey);
  freeSecret(p->zSecretKey);
  freeSecret(p->zToken);
  free(p->zProfile);
  free(p->zCaBundle);
  memset(p, 0, sizeof(*p));
}

int tsAwsConfLoad(const TsObjConfig *pCfg, TsAwsConf *p, char **pzErr){
  const char *z;
  char *zCredFile = 0, *zConfFile = 0, *zConfSection = 0;
  int bIgnoreEp = 0;
  memset(p, 0, sizeof(*p));

  z = envNonEmpty("AWS_PROFILE");
  p->zProfile = tsObjStrdup(z ? z : "default");
  z = envNonEmpty("AWS_SHARED_CREDENTIALS_FILE");
  zCredFile = z ? tsObjStrdup(z) : homePath(".aws/credentials");
  z = envNonEmpty("AWS_CONFIG_FILE");
  zConfFile = z ? tsObjStrdup(z) : homePath(".aws/config");
  if( p->zProfile ){
    zConfSection = strcmp(p->zProfile, "default")==0 ? tsObjStrdup("default")
                 : tsObjMprintf("profile %s", p->zProfile);
  }
  if( p->zProfile==0 || zConfSection==0 ) goto nomem;

  /* Endpoint. */
  z = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
  bIgnoreEp = z && strcmp(z, "true")==0;
  if( pCfg->zEndpoint && pCfg->zEndpoint[0] ){
    p->zEndpoint = tsObjStrdup(pCfg->zEndpoint);
  }else if( !bIgnoreEp && (z = envNonEmpty("AWS_ENDPOINT_URL_S3"))!=0 ){
    p->zEndpoint = tsObjStrdup(z);
  }else if( !bIgnoreEp && (z = envNonEmpty("AWS_ENDPOINT_URL"))!=0 ){
    p->zEndpoint = tsObjStrdup(z);
  }else if( !bIgnoreEp && zConfFile ){
    p->zEndpoint = tsAwsIniGet(zConfFile, zConfSection, "endpoint_url");
  }
  if( p->zEndpoint ){
    size_t n = strlen(p->zEndpoint);
    while( n>0 && p->zEndpoint[n-1]=='/' ) p->zEndpoint[--n] = 0;
  }

  /* Region. */
  if( pCfg->zRegion && pCfg->zRegion[0] ) p->zRegion = tsObjStrdup(pCfg->zRegion);
  else if( (z = envNonEmpty("AWS_REGION"))!=0 ) p->zRegion = tsObjStrdup(z);
  else if( (z = envNonEmpty("AWS_DEFAULT_REGION"))!=0 ) p->zRegion = tsObjStrdup(z);
  else if( zConfFile ) p->zRegion = tsAwsIniGet(zConfFile, zConfSection, "region");
  if( p->zRegion==0 ) p->zRegion = tsObjStrdup("us-east-1");
  if( p->zRegion==0 ) goto nomem;

  /* Credentials. */
  if( envNonEmpty("AWS_ACCESS_KEY_ID") && envNonEmpty("AWS_SECRET_ACCESS_KEY") ){
    p->zAccessKey = tsObjStrdup(getenv("AWS_ACCESS_KEY_ID"));
    p->zSecretKey = tsObjStrdup(getenv("AWS_SECRET_ACCESS_KEY"));
    if( envNonEmpty("AWS_SESSION_TOKEN") ) p->zToken = tsObjStrdup(getenv("AWS_SESSION_TOKEN"));
  }else if( zCredFile ){
    p->zAccessKey = tsAwsIniGet(zCredFile, p->zProfile, "aws_access_key_id");
    p->zSecretKey = tsAwsIniGet(zCredFile, p->zProfile, "aws_secret_access_key");
    p->zToken = tsAwsIniGet(zCredFile, p->zProfile, "aws_session_token");
  }
  if( p->zAccessKey==0 || p->zSecretKey==0 ){
    tsObjErr(pzErr, "s3:// store: no AWS credentials: set AWS_ACCESS_KEY_ID and "
             "AWS_SECRET_ACCESS_KEY, or profile '%s' in %s", p->zProfile,
             zCredFile ? zCredFile : "~/.aws/credentials");
    goto fail;
  }

  /* Style, attempts, CA bundle. */
  z = pCfg->zUrlStyle ? pCfg->zUrlStyle : envNonEmpty("TSLITE_S3_URL_STYLE");
  p->bStyleSet = z!=0;
  if( z && strcmp(z, "path")==0 ) p->bPathStyle = 1;
  else if( z && strcmp(z, "virtual")==0 ) p->bPathStyle = 0;
  else if( z ){
    tsObjErr(pzErr, "s3:// store: url style '%s' is not 'path' or 'virtual'", z);
    goto fail;
  }else p->bPathStyle = p->zEndpoint!=0;
  p->nMaxAttempts = pCfg->nMaxAttempts;
  if( p->nMaxAttempts<=0 && (z = envNonEmpty("AWS_MAX_ATTEMPTS"))!=0 ) p->nMaxAttempts = atoi(z);
  if( p->nMaxAttempts<=0 ) p->nMaxAttempts = 5;
  if( p->nMaxAttempts>20 ) p->nMaxAttempts = 20;
  if( (z = envNonEmpty("AWS_CA_BUNDLE"))!=0 ) p->zCaBundle = tsObjStrdup(z);

  free(zCredFile); free(zConfFile); free(zConfSection);
  return TS_OBJ_OK;
nomem:
  tsObjErr(pzErr, "s3:// store: out of memory");
fail:
  free(zCredFile); free(zConfFile); free(zConfSection);
  tsAwsConfFree(p);
  return TS_OBJ_ERROR;
}
