/*
** test_objstore_conf.c: where the S3 back end takes its settings from
** (s3/awsconf.c) and how s3:// stores refuse bad configurations, without a
** server: precedence of TsObjConfig > environment > ~/.aws files, profile
** selection, INI parsing, URL style defaults, the plain-http rule, bucket
** names, SSE values.  Every case starts from a clean environment.
*/
#include "objstore.h"
#include "awsconf.h"
#include "tt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static const char *azVars[] = {
  "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
  "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
  "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
  "AWS_MAX_ATTEMPTS", "AWS_CA_BUNDLE", "TSLITE_S3_URL_STYLE", "TSLITE_S3_ALLOW_HTTP",
  "TSLITE_S3_SSE", "TSLITE_S3_KMS_KEY", "TSLITE_CSE_KEY", "TSLITE_CSE_KEY_FILE", "TSLITE_CSE_KEY_ID", 0
};
static char zHome[256];

static void cleanEnv(void){
  int i;
  for(i=0; azVars[i]; i++) unsetenv(azVars[i]);
  setenv("HOME", zHome, 1);
}

static void writeFile(const char *zPath, const char *z){
  FILE *f = fopen(zPath, "w");
  fputs(z, f);
  fclose(f);
}

static int openErr(const char *zUri, const TsObjConfig *pCfg, const char *zExpect){
  TsObjStore *p = 0;
  char *zErr = 0;
  int rc = tsObjOpen(zUri, pCfg, &p, &zErr);
  int ok = rc!=TS_OBJ_OK && p==0 && zErr && strstr(zErr, zExpect);
  if( !ok ) printf("# open %s: rc=%d msg=%s\n", zUri, rc, zErr ? zErr : "(none)");
  free(zErr);
  tsObjClose(p);
  return ok;
}

int main(void){
  TsAwsConf c;
  TsObjConfig cfg;
  char *zErr = 0;
  char zPath[400], zCred[400], zConf[400];
  char *zV;

  snprintf(zHome, sizeof(zHome), "/tmp/tslite-conf-XXXXXX");
  if( mkdtemp(zHome)==0 ){ printf("FAIL mkdtemp\n"); return 1; }
  snprintf(zPath, sizeof(zPath), "%s/.aws", zHome);
  mkdir(zPath, 0700);
  snprintf(zCred, sizeof(zCred), "%s/.aws/credentials", zHome);
  snprintf(zConf, sizeof(zConf), "%s/.aws/config", zHome);
  writeFile(zCred,
    "# comment\n[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = secret-default\n\n"
    "[work]\n  aws_access_key_id=AKWORK\naws_secret_access_key =  secret work  \r\naws_session_token = tok\n"
    "; another comment\n[empty]\n");
  writeFile(zConf,
    "[default]\nregion = eu-west-3\n[profile work]\nregion = ap-south-1\n"
    "endpoint_url = https://minio.internal:9000\n");
  memset(&cfg, 0, sizeof(cfg));

  /* INI reader. */
  zV = tsAwsIniGet(zCred, "work", "aws_secret_access_key");
  TT_EQ_STR("ini: value trimmed (spaces, CR)", zV, "secret work");
  free(zV);
  zV = tsAwsIniGet(zCred, "work", "aws_access_key_id");
  TT_EQ_STR("ini: indented key", zV, "AKWORK");
  free(zV);
  TT_CHECK("ini: missing key", (zV = tsAwsIniGet(zCred, "empty", "aws_access_key_id"))==0);
  TT_CHECK("ini: missing file", tsAwsIniGet("/nonexistent/x", "default", "region")==0);
  {
    /* STS/SSO session tokens run to kilobytes: a long line is read whole,
    ** not cut at a fixed buffer (whose tail, with its '=' padding, once
    ** parsed as a line of its own). */
    char zLong[400];
    size_t nTok = 9000, k;
    char *zTok = malloc(nTok + 1), *zText = malloc(nTok + 200);
    for(k=0; k<nTok; k++) zTok[k] = "AbZ09+/"[k%7];
    zTok[nTok-2] = zTok[nTok-1] = '=';
    zTok[nTok] = 0;
    snprintf(zText, nTok + 200, "[long]\naws_session_token = %s\nregion = r1\n", zTok);
    snprintf(zLong, sizeof(zLong), "%s/.aws/long", zHome);
    writeFile(zLong, zText);
    zV = tsAwsIniGet(zLong, "long", "aws_session_token");
    TT_CHECK("ini: 9000-byte value read whole", zV && strcmp(zV, zTok)==0);
    free(zV);
    zV = tsAwsIniGet(zLong, "long", "region");
    TT_EQ_STR("ini: key after a long line", zV, "r1");
    free(zV);
    unlink(zLong);
    free(zTok); free(zText);
  }

  /* Default profile from the files. */
  cleanEnv();
  TT_EQ_I64("files: load", tsAwsConfLoad(&cfg, &c, &zErr), 0);
  TT_EQ_STR("files: default key", c.zAccessKey, "AKDEFAULT");
  TT_EQ_STR("files: default region from config", c.zRegion, "eu-west-3");
  TT_CHECK("files: no endpoint, virtual style", c.zEndpoint==0 && c.bPathStyle==0);
  TT_EQ_I64("files: default attempts", c.nMaxAttempts, 5);
  tsAwsConfFree(&c);

  /* AWS_PROFILE picks [work] and [profile work]. */
  setenv("AWS_PROFILE", "work", 1);
  TT_EQ_I64("profile: load", tsAwsConfLoad(&cfg, &c, &zErr), 0);
  TT_EQ_STR("profile: key", c.zAccessKey, "AKWORK");
  TT_EQ_STR("profile: token", c.zToken, "tok");
  TT_EQ_STR("profile: region", c.zRegion, "ap-south-1");
  TT_EQ_STR("profile: endpoint_url", c.zEndpoint, "https://minio.internal:9000");
  TT_EQ_I64("profile: endpoint implies path style", c.bPathStyle, 1);
  tsAwsConfFree(&c);
  setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
  TT_EQ_I64("ignore endpoints: load", tsAwsConfLoad(&cfg, &c, &zErr), 0);
  TT_CHECK("ignore endpoints: none", c.zEndpoint==0);
  tsAwsConfFree(&c);

  /* Environment beats files; config beats environment. */
  cleanEnv();
  setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "secret-env", 1);
  setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
  setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9/", 1);
  setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4569///", 1);
  setenv("AWS_MAX_ATTEMPTS", "3", 1);
  TT_EQ_I64("env: load", tsAwsConfLoad(&cfg, &c, &zErr), 0);
  TT_EQ_STR("env: key", c.zAccessKey, "AKENV");
  TT_EQ_STR("env: AWS_DEFAULT_REGION", c.zRegion, "us-west-1");
  TT_EQ_STR("env: _S3 endpoint wins, trailing / dropped", c.zEndpoint, "http://127.0.0.1:4569");
  TT_EQ_I64("env: attempts", c.nMaxAttempts, 3);
  tsAwsConfFree(&c);
  setenv("AWS_REGION", "eu-north-1", 1);
  setenv("TSLITE_S3_URL_STYLE", "virtual", 1);
  TT_EQ_I64("env2: load", tsAwsConfLoad(&cfg, &c, &zErr), 0);
  TT_EQ_STR("env2: AWS_REGION beats AWS_DEFAULT_REGION", c.zRegion, "eu-north-1");
  TT_EQ_I64("env2: style override", c.bPathStyle, 0);
  tsAwsConfFree(&c);
  cfg.zRegion = "sa-east-1";
  cfg.zEndpoint = "https://example.test";
  cfg.zUrlStyle = "path";
  cfg.nMaxAttempts = 7;
  TT_EQ_I64("cfg: load", tsAwsConfLoad(&cfg, &c, &zErr), 0);
  TT_EQ_STR("cfg: region wins", c.zRegion, "sa-east-1");
  TT_EQ_STR("cfg: endpoint wins", c.zEndpoint, "https://example.test");
  TT_EQ_I64("cfg: style wins", c.bPathStyle, 1);
  TT_EQ_I64("cfg: attempts win", c.nMaxAttempts, 7);
  tsAwsConfFree(&c);
  cfg.zUrlStyle = "sideways";
  TT_EQ_I64("cfg: bad style refused", tsAwsConfLoad(&cfg, &c, &zErr), TS_OBJ_ERROR);
  TT_CHECK("cfg: bad style message", zErr && strstr(zErr, "'sideways' is not 'path' or 'virtual'"));
  memset(&cfg, 0, sizeof(cfg));

  /* No credentials anywhere. */
  cleanEnv();
  setenv("AWS_PROFILE", "empty", 1);
  TT_EQ_I64("nocreds: refused", tsAwsConfLoad(&cfg, &c, &zErr), TS_OBJ_ERROR);
  TT_CHECK("nocreds: message names profile and file", zErr && strstr(zErr, "no AWS credentials")
           && strstr(zErr, "profile 'empty'") && strstr(zErr, zCred));

  /* s3:// open-time refusals (no network needed). */
  cleanEnv();
  setenv("AWS_ACCESS_KEY_ID", "AK", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "very-secret-value", 1);
  /* Endpoints are used as configured: plain http to any host opens with
  ** no opt-in (opening does no network I/O); malformed ones are refused
  ** (every rule: tests/unit/test_s3_endpoint.c). */
  {
    static const char *const azOk[] = { "http://127.0.0.1:9", "http://192.168.1.5:9000",
                                        "http://minio.lan:9000/", "https://s3.example.com" };
    size_t k;
    for(k=0; k<sizeof(azOk)/sizeof(azOk[0]); k++){
      TsObjStore *p = 0;
      char zName[96];
      setenv("AWS_ENDPOINT_URL_S3", azOk[k], 1);
      snprintf(zName, sizeof(zName), "endpoint %s opens without TSLITE_S3_ALLOW_HTTP", azOk[k]);
      TT_EQ_I64(zName, tsObjOpen("s3://bkt", &cfg, &p, &zErr), 0);
      tsObjClose(p);
      p = 0;
    }
  }
  setenv("AWS_ENDPOINT_URL_S3", "ftp://127.0.0.1", 1);
  TT_CHECK("non-http endpoint refused", openErr("s3://bkt", &cfg, "the scheme must be http:// or https://"));
  setenv("AWS_ENDPOINT_URL_S3", "https://s3.example.com/base", 1);
  TT_CHECK("endpoint with a path refused", openErr("s3://bkt", &cfg, "a path is not supported"));
  setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:x@evil.example", 1);
  TT_CHECK("endpoint with userinfo refused", openErr("s3://bkt", &cfg,
           "s3 endpoint 'http://<userinfo>@evil.example': a user name or password"));
  setenv("TSLITE_S3_ALLOW_HTTP", "1", 1);
  setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9", 1);
  TT_CHECK("bad bucket name refused", openErr("s3://Bad_Bucket!", &cfg, "not a valid bucket name"));
  TT_CHECK("empty bucket refused", openErr("s3:///x", &cfg, "not a valid bucket name"));
  setenv("TSLITE_S3_SSE", "sse_c", 1);
  TT_CHECK("bad SSE refused", openErr("s3://bkt", &cfg, "'sse_c' is not 'sse_s3' or 'sse_kms'"));
  unsetenv("TSLITE_S3_SSE");
  cfg.zKmsKey = "alias/k";
  TT_CHECK("KMS key without sse_kms refused", openErr("s3://bkt", &cfg, "KMS key was given without sse_kms"));
  cfg.zKmsKey = 0;
  setenv("TSLITE_CSE_KEY", "abcd", 1);
  TT_CHECK("short client-side key refused", openErr("s3://bkt", &cfg, "must be 64 hex digits"));
  unsetenv("TSLITE_CSE_KEY");
  {
    TsObjStore *p = 0;
    char *zKey = 0;
    TT_EQ_I64("loopback http with opt-in opens", tsObjOpen("s3://bkt/pre/fix/", &cfg, &p, &zErr), 0);
    tsObjClose(p);
    p = 0;
    TT_EQ_I64("open parent keeps // in the key", tsObjOpenParent("s3://bkt/a//b/c", &cfg, &p, &zKey, &zErr), 0);
    TT_EQ_STR("open parent key", zKey, "a//b/c");
    free(zKey);
    tsObjClose(p);
    p = 0;
    TT_EQ_I64("open parent refuses ..", tsObjOpenParent("s3://bkt/x/../y", &cfg, &p, &zKey, &zErr), TS_OBJ_ERROR);
    TT_CHECK("no secret in any message", zErr && !strstr(zErr, "very-secret-value"));
  }

  free(zErr);
  {
    char zCmd[400];
    snprintf(zCmd, sizeof(zCmd), "rm -rf '%s'", zHome);
    if( system(zCmd)!=0 ) printf("# cleanup failed\n");
  }
  return tt_done();
}
