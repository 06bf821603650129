/*
** test_storeopt.c: s3/storeopt.c, the checks of the cold-tier storage
** options (storage URI rules, s3_region, s3_url_style, s3_endpoint through
** endpoint.c, encryption, kms_key, and the rules between them): exact
** messages for each rule, and the good values that must pass.
*/
#include "storeopt.h"
#include "tt.h"
#include <stdlib.h>

static char zMsg[2048];

/* The message of a failed check, "ok" if it passed. */
static const char *chk(const char *zKey, const char *zVal){
  char *zErr = 0;
  if( tsStoreOptCheck(zKey, zVal, &zErr)==0 ){
    snprintf(zMsg, sizeof zMsg, "%s", zErr ? "ok but message set" : "ok");
  }else{
    snprintf(zMsg, sizeof zMsg, "%s", zErr ? zErr : "(no message)");
  }
  free(zErr);
  return zMsg;
}

static const char *fin(const char *zSt, const char *zEnc, const char *zKms){
  char *zErr = 0;
  if( tsStoreOptFinish(zSt, zEnc, zKms, &zErr)==0 ) snprintf(zMsg, sizeof zMsg, "ok");
  else snprintf(zMsg, sizeof zMsg, "%s", zErr ? zErr : "(no message)");
  free(zErr);
  return zMsg;
}

int main(void){
  static const char *azGood[] = {
    "s3://bucket", "s3://my-bucket.logs/lake", "s3://abc/a/b/c", "s3://b12/x.y/z-1",
    "file:///data/lake", "file:///tmp/x.db.tslite", "file:///a",
  };
  static const struct { const char *z, *zWhy; } aBad[] = {
    { "s3://ab", "bucket name: 3 to 63 characters" },
    { "s3://My_Bucket/x", "bucket name: only lower-case letters, digits, '.' and '-'" },
    { "s3://a..b", "bucket name: no two adjacent periods" },
    { "s3://-abc", "bucket name: must begin and end with a letter or digit" },
    { "s3://abc-", "bucket name: must begin and end with a letter or digit" },
    { "s3://192.168.1.10", "bucket name: must not be an IP address" },
    { "s3://xn--abc", "bucket name: the prefixes 'xn--' and 'sthree-' are reserved" },
    { "s3://data-s3alias", "bucket name: the suffixes '-s3alias' and '--ol-s3' are reserved" },
    { "s3:///prefix", "bucket name: 3 to 63 characters" },
    { "s3://bucket/", "prefix: no trailing '/' (give s3://bucket or s3://bucket/prefix)" },
    { "s3://bucket//x", "prefix: no empty segment ('//' or a trailing '/')" },
    { "s3://bucket/a/../b", "prefix: no '.' or '..' segment" },
    { "s3://bucket/a?x=1", "no '?' or '#' in a storage URI" },
    { "file://host/dir", "expected file:///absolute/dir (three slashes: no host, an absolute path)" },
    { "file://relative", "expected file:///absolute/dir (three slashes: no host, an absolute path)" },
    { "file:///", "path: not the root directory itself" },
    { "file:///data/../etc", "path: no '.' or '..' segment (give the normalised absolute path)" },
    { "file:///data/./x", "path: no '.' or '..' segment (give the normalised absolute path)" },
    { "file:///data//x", "path: no empty segment ('//' or a trailing '/')" },
    { "file:///data/", "path: no empty segment ('//' or a trailing '/')" },
    { "file:///da\tta", "no control characters or backslashes" },
    { "/data/lake", "expected 's3://bucket/prefix' or 'file:///absolute/dir'" },
    { "http://bucket/x", "expected 's3://bucket/prefix' or 'file:///absolute/dir'" },
  };
  char zName[300], zExp[600];
  size_t i;
  for(i=0; i<sizeof(azGood)/sizeof(azGood[0]); i++){
    snprintf(zName, sizeof zName, "storage %s is accepted", azGood[i]);
    TT_EQ_STR(zName, chk("storage", azGood[i]), "ok");
  }
  for(i=0; i<sizeof(aBad)/sizeof(aBad[0]); i++){
    snprintf(zName, sizeof zName, "storage %s is refused: %s", aBad[i].z, aBad[i].zWhy);
    snprintf(zExp, sizeof zExp, "bad value for storage: '%s' (%s)", aBad[i].z, aBad[i].zWhy);
    TT_EQ_STR(zName, chk("storage", aBad[i].z), zExp);
  }
  {
    char zLong[1100];
    memset(zLong, 'a', sizeof zLong);
    memcpy(zLong, "file:///", 8);
    zLong[sizeof zLong - 1] = 0;
    TT_CHECK("storage longer than 1024 bytes is refused",
             strstr(chk("storage", zLong), "(at most 1024 bytes)")!=0);
  }
  TT_EQ_STR("s3_region us-east-1", chk("s3_region", "us-east-1"), "ok");
  TT_EQ_STR("s3_region empty", chk("s3_region", ""),
            "bad value for s3_region: '' (1 to 32 characters, e.g. 'us-east-1')");
  TT_EQ_STR("s3_region with a space", chk("s3_region", "us east"),
            "bad value for s3_region: 'us east' (only lower-case letters, digits and '-', e.g. 'us-east-1')");
  TT_EQ_STR("s3_url_style virtual", chk("s3_url_style", "virtual"), "ok");
  TT_EQ_STR("s3_url_style bad", chk("s3_url_style", "host"),
            "bad value for s3_url_style: 'host' (expected 'path' or 'virtual')");
  TT_EQ_STR("s3_endpoint http LAN host", chk("s3_endpoint", "http://minio.lan:9000"), "ok");
  TT_EQ_STR("s3_endpoint https", chk("s3_endpoint", "https://s3.example.com"), "ok");
  TT_EQ_STR("s3_endpoint ftp refused, option named", chk("s3_endpoint", "ftp://x"),
            "bad value for s3_endpoint: 'ftp://x' (the scheme must be http:// or https://)");
  TT_CHECK("s3_endpoint with userinfo refused without echoing it",
           strncmp(chk("s3_endpoint", "http://user:secret@h:9000"),
                   "bad value for s3_endpoint: 'http://<userinfo>@h:9000' (a user name or password", 75)==0
           && strstr(zMsg, "secret")==0);
  TT_EQ_STR("encryption client", chk("encryption", "client"), "ok");
  TT_EQ_STR("encryption bad", chk("encryption", "aes"),
            "bad value for encryption: 'aes' (expected 'none', 'sse_s3', 'sse_kms' or 'client')");
  TT_EQ_STR("kms_key ARN", chk("kms_key", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab"), "ok");
  TT_EQ_STR("kms_key alias", chk("kms_key", "alias/my-key"), "ok");
  TT_EQ_STR("kms_key bad", chk("kms_key", "k\"ey"),
            "bad value for kms_key: 'k\"ey' (a key id, ARN or alias: letters, digits and - _ : / . only)");
  TT_EQ_STR("an option that is not ours passes", chk("memory_retention", "whatever"), "ok");
  TT_CHECK("option names", tsStoreOptIsName("kms_key") && tsStoreOptIsName("storage")
           && !tsStoreOptIsName("memory_retention"));
  TT_EQ_STR("finish: nothing given", fin(0, 0, 0), "ok");
  TT_EQ_STR("finish: sse_kms with key on s3", fin("s3://bkt/x", "sse_kms", "alias/k"), "ok");
  TT_EQ_STR("finish: client on file", fin("file:///d", "client", "k1"), "ok");
  TT_EQ_STR("finish: sse_kms without kms_key", fin("s3://bkt", "sse_kms", 0),
            "encryption 'sse_kms' needs the option kms_key (a KMS key id, ARN or alias)");
  TT_EQ_STR("finish: kms_key with sse_s3", fin("s3://bkt", "sse_s3", "k"),
            "kms_key is used only with encryption 'sse_kms' or 'client' (encryption is 'sse_s3')");
  TT_EQ_STR("finish: kms_key alone", fin("s3://bkt", 0, "k"),
            "kms_key is used only with encryption 'sse_kms' or 'client' (encryption is 'none')");
  TT_EQ_STR("finish: sse_s3 on a directory", fin("file:///d", "sse_s3", 0),
            "encryption 'sse_s3' is server-side encryption and needs s3:// storage (use 'client' to encrypt objects in a directory)");
  TT_EQ_STR("finish: sse_s3 on the default directory", fin(0, "sse_s3", 0),
            "encryption 'sse_s3' is server-side encryption and needs s3:// storage (use 'client' to encrypt objects in a directory)");
  return tt_done();
}
