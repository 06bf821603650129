/*
** storeopt.c: value checks of the cold-tier storage options (storeopt.h).
**
** Each check states the rule it enforces in its message, so a user who
** typed a bad value learns the rule without reading docs: "bad value for
** storage: 's3://My_Bucket' (bucket name: only lower-case letters, digits,
** '.' and '-')".  Bucket names follow the AWS general purpose bucket rules;
** the endpoint goes to endpoint.c, which parses it the way curl will.
*/
#include "storeopt.h"
#include "endpoint.h"
#include "objstore_int.h"
#include <stdlib.h>
#include <string.h>

#define STOREOPT_MAX_URI 1024

static const char *const azName[] = {
  "storage", "s3_endpoint", "s3_region", "s3_url_style", "encryption", "kms_key",
};

int tsStoreOptIsName(const char *zKey){
  size_t i;
  for(i=0; i<sizeof(azName)/sizeof(azName[0]); i++){
    if( strcmp(zKey, azName[i])==0 ) return 1;
  }
  return 0;
}

static int bad(char **pzErr, const char *zKey, const char *zVal, const char *zWhy){
  tsObjErr(pzErr, "bad value for %s: '%s' (%s)", zKey, zVal, zWhy);
  return 1;
}

static int isLowerAlnum(char c){ return (c>='a' && c<='z') || (c>='0' && c<='9'); }

/* Why bucket name z[0..n) is not valid, or NULL. */
static const char *bucketWhy(const char *z, size_t n){
  size_t i;
  int nDot = 0, bAllNum = 1;
  if( n<3 || n>63 ) return "bucket name: 3 to 63 characters";
  for(i=0; i<n; i++){
    char c = z[i];
    if( !isLowerAlnum(c) && c!='.' && c!='-' ){
      return "bucket name: only lower-case letters, digits, '.' and '-'";
    }
    if( c=='.' ){
      nDot++;
      if( i+1<n && z[i+1]=='.' ) return "bucket name: no two adjacent periods";
    }else if( !(c>='0' && c<='9') ){
      bAllNum = 0;
    }
  }
  if( !isLowerAlnum(z[0]) || !isLowerAlnum(z[n-1]) ){
    return "bucket name: must begin and end with a letter or digit";
  }
  if( nDot==3 && bAllNum ) return "bucket name: must not be an IP address";
  if( (n>=4 && memcmp(z, "xn--", 4)==0) || (n>=7 && memcmp(z, "sthree-", 7)==0) ){
    return "bucket name: the prefixes 'xn--' and 'sthree-' are reserved";
  }
  if( (n>=8 && memcmp(z+n-8, "-s3alias", 8)==0) || (n>=7 && memcmp(z+n-7, "--ol-s3", 7)==0) ){
    return "bucket name: the suffixes '-s3alias' and '--ol-s3' are reserved";
  }
  return 0;
}

/* Why the path z (segments separated by '/', no leading '/') is not a
** normalised relative path, or NULL.  zWhat names it in the message. */
static const char *segmentsWhy(const char *z, int bFile){
  const char *zSeg = z;
  for(;;){
    const char *zEnd = strchr(zSeg, '/');
    size_t n = zEnd ? (size_t)(zEnd - zSeg) : strlen(zSeg);
    if( n==0 ){
      return bFile ? "path: no empty segment ('//' or a trailing '/')"
                   : "prefix: no empty segment ('//' or a trailing '/')";
    }
    if( (n==1 && zSeg[0]=='.') || (n==2 && zSeg[0]=='.' && zSeg[1]=='.') ){
      return bFile ? "path: no '.' or '..' segment (give the normalised absolute path)"
                   : "prefix: no '.' or '..' segment";
    }
    if( zEnd==0 ) return 0;
    zSeg = zEnd + 1;
  }
}

int tsStorageValidate(const char *zUri, char **pzErr){
  const char *z;
  size_t i, n = strlen(zUri);
  const char *zWhy = 0;
  if( n>STOREOPT_MAX_URI ) return bad(pzErr, "storage", zUri, "at most 1024 bytes");
  for(i=0; i<n; i++){
    if( (unsigned char)zUri[i]<0x20 || zUri[i]==0x7f || zUri[i]=='\\' ){
      return bad(pzErr, "storage", zUri, "no control characters or backslashes");
    }
  }
  if( strncmp(zUri, "s3://", 5)==0 ){
    const char *zSlash;
    z = zUri + 5;
    zSlash = strchr(z, '/');
    zWhy = bucketWhy(z, zSlash ? (size_t)(zSlash - z) : strlen(z));
    if( zWhy==0 && zSlash ){
      if( zSlash[1]==0 ) zWhy = "prefix: no trailing '/' (give s3://bucket or s3://bucket/prefix)";
      else zWhy = segmentsWhy(zSlash + 1, 0);
    }
    if( zWhy==0 && strpbrk(z, "?#") ) zWhy = "no '?' or '#' in a storage URI";
  }else if( strncmp(zUri, "file://", 7)==0 ){
    z = zUri + 7;
    if( z[0]!='/' ){
      zWhy = "expected file:///absolute/dir (three slashes: no host, an absolute path)";
    }else if( z[1]==0 ){
      zWhy = "path: not the root directory itself";
    }else{
      zWhy = segmentsWhy(z + 1, 1);
    }
  }else{
    zWhy = "expected 's3://bucket/prefix' or 'file:///absolute/dir'";
  }
  return zWhy ? bad(pzErr, "storage", zUri, zWhy) : 0;
}

int tsStoreOptCheck(const char *zKey, const char *zVal, char **pzErr){
  size_t i, n = strlen(zVal);
  if( strcmp(zKey, "storage")==0 ) return tsStorageValidate(zVal, pzErr);
  if( strcmp(zKey, "s3_endpoint")==0 ){
    char *zE = 0;
    if( tsS3EndpointCheck(zVal, &zE) ){
      char *zR = tsS3EndpointRedact(zVal);
      const char *zWhy = zE ? zE : "not an http:// or https:// URL";
      /* endpoint.c names the endpoint itself ("s3 endpoint '<ep>': why"):
      ** keep only the why, the endpoint is named once here. */
      if( zE && strncmp(zE, "s3 endpoint '", 13)==0 && strstr(zE, "': ") ){
        zWhy = strstr(zE, "': ") + 3;
      }
      tsObjErr(pzErr, "bad value for s3_endpoint: '%s' (%s)", zR ? zR : "?", zWhy);
      free(zR);
      free(zE);
      return 1;
    }
    return 0;
  }
  if( strcmp(zKey, "s3_region")==0 ){
    if( n==0 || n>32 ) return bad(pzErr, zKey, zVal, "1 to 32 characters, e.g. 'us-east-1'");
    for(i=0; i<n; i++){
      if( !isLowerAlnum(zVal[i]) && zVal[i]!='-' ){
        return bad(pzErr, zKey, zVal, "only lower-case letters, digits and '-', e.g. 'us-east-1'");
      }
    }
    return 0;
  }
  if( strcmp(zKey, "s3_url_style")==0 ){
    if( strcmp(zVal, "path")==0 || strcmp(zVal, "virtual")==0 ) return 0;
    return bad(pzErr, zKey, zVal, "expected 'path' or 'virtual'");
  }
  if( strcmp(zKey, "encryption")==0 || strcmp(zKey, "kms_key")==0 ){
    const char *zWhy = tsStoreOptWhy(zKey, zVal);
    return zWhy ? bad(pzErr, zKey, zVal, zWhy) : 0;
  }
  return 0;
}

const char *tsStoreOptWhy(const char *zKey, const char *zVal){
  size_t i, n = strlen(zVal);
  if( strcmp(zKey, "encryption")==0 ){
    if( strcmp(zVal, "none")==0 || strcmp(zVal, "sse_s3")==0 || strcmp(zVal, "sse_kms")==0
     || strcmp(zVal, "client")==0 ) return 0;
    return "expected 'none', 'sse_s3', 'sse_kms' or 'client'";
  }
  if( strcmp(zKey, "kms_key")==0 ){
    /* A key id, ARN or alias; these characters cover every form AWS gives
    ** and keep the value safe in an HTTP header and a message. */
    if( n==0 || n>256 ) return "a key id of 1 to 256 characters";
    for(i=0; i<n; i++){
      char c = zVal[i];
      if( !isLowerAlnum(c) && !(c>='A' && c<='Z') && !strchr("-_:/.", c) ){
        return "a key id, ARN or alias: letters, digits and - _ : / . only";
      }
    }
    return 0;
  }
  return 0;
}

int tsStoreOptFinish(const char *zStorage, const char *zEncryption, const char *zKmsKey,
                     char **pzErr){
  const char *zEnc = zEncryption ? zEncryption : "none";
  int bSse = strcmp(zEnc, "sse_s3")==0 || strcmp(zEnc, "sse_kms")==0;
  if( strcmp(zEnc, "sse_kms")==0 && zKmsKey==0 ){
    tsObjErr(pzErr, "encryption 'sse_kms' needs the option kms_key (a KMS key id, ARN or alias)");
    return 1;
  }
  if( zKmsKey && strcmp(zEnc, "sse_kms")!=0 && strcmp(zEnc, "client")!=0 ){
    tsObjErr(pzErr, "kms_key is used only with encryption 'sse_kms' or 'client' "
             "(encryption is '%s')", zEnc);
    return 1;
  }
  if( zKmsKey && strcmp(zEnc, "client")==0 && strlen(zKmsKey)>32 ){
    tsObjErr(pzErr, "kms_key '%s' names a client-side key, whose name has at most 32 bytes",
             zKmsKey);
    return 1;
  }
  if( bSse && (zStorage==0 || strncmp(zStorage, "s3://", 5)!=0) ){
    tsObjErr(pzErr, "encryption '%s' is server-side encryption and needs s3:// storage "
             "(use 'client' to encrypt objects in a directory)", zEnc);
    return 1;
  }
  return 0;
}
