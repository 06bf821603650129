/*
** test_s3_endpoint.c: S3 endpoint parsing (s3/endpoint.c): the accepted
** forms and the Host value each gives (what is sent and signed), every
** refusal with its exact message, and redaction: no message ever holds the
** userinfo, query or fragment of an endpoint.
*/
#include "endpoint.h"
#include "tt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *zEp; int bHttps; const char *zHost; } aOk[] = {
  { "http://192.168.1.5:9000", 0, "192.168.1.5:9000" },
  { "http://minio:9000", 0, "minio:9000" },
  { "http://minio.lan:9000/", 0, "minio.lan:9000" },
  { "https://s3.eu-west-1.amazonaws.com", 1, "s3.eu-west-1.amazonaws.com" },
  { "https://storage.example.com:8443/", 1, "storage.example.com:8443" },
  { "http://127.0.0.1:4569", 0, "127.0.0.1:4569" },
  { "http://[::1]:9000", 0, "[::1]:9000" },
  { "http://[fd00::5]", 0, "[fd00::5]" },
  { "HTTP://Minio:9000", 0, "Minio:9000" },
  { "http://localhost", 0, "localhost" },
};

static const struct { const char *zEp; const char *zErr; } aBad[] = {
  { "http://127.0.0.1:x@evil.example:9000",
    "s3 endpoint 'http://<userinfo>@evil.example:9000': a user name or password in the endpoint "
    "is not supported (credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
    "~/.aws/credentials)" },
  { "http://AKIAXXX:topsecret@minio:9000",
    "s3 endpoint 'http://<userinfo>@minio:9000': a user name or password in the endpoint "
    "is not supported (credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
    "~/.aws/credentials)" },
  { "http://user@minio:9000",
    "s3 endpoint 'http://<userinfo>@minio:9000': a user name or password in the endpoint "
    "is not supported (credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
    "~/.aws/credentials)" },
  { "http://minio:9000/?X-Amz-Credential=topsecret",
    "s3 endpoint 'http://minio:9000/?<query>': a query string is not supported "
    "(expected http[s]://host[:port])" },
  { "http://minio:9000?a=topsecret#frag",
    "s3 endpoint 'http://minio:9000?<query>#<fragment>': a query string is not supported "
    "(expected http[s]://host[:port])" },
  { "http://minio:9000/#topsecret",
    "s3 endpoint 'http://minio:9000/#<fragment>': a fragment is not supported "
    "(expected http[s]://host[:port])" },
  { "https://s3.example.com/base",
    "s3 endpoint 'https://s3.example.com/base': a path is not supported (expected "
    "http[s]://host[:port]; the bucket goes in the s3:// URI)" },
  { "ftp://minio:21", "s3 endpoint 'ftp://minio:21': the scheme must be http:// or https://" },
  { "", "s3 endpoint '': empty (expected http[s]://host[:port])" },
};

int main(void){
  size_t i;
  char zName[200];
  for(i=0; i<sizeof(aOk)/sizeof(aOk[0]); i++){
    TsS3Endpoint e;
    char *zErr = 0;
    int rc = tsS3EndpointParse(aOk[i].zEp, &e, &zErr);
    snprintf(zName, sizeof(zName), "endpoint %s parses", aOk[i].zEp);
    TT_EQ_I64(zName, rc, 0);
    if( rc ) printf("# %s\n", zErr ? zErr : "(no message)");
    snprintf(zName, sizeof(zName), "endpoint %s: Host", aOk[i].zEp);
    TT_EQ_STR(zName, rc ? "" : e.zHostPort, aOk[i].zHost);
    snprintf(zName, sizeof(zName), "endpoint %s: scheme", aOk[i].zEp);
    TT_EQ_I64(zName, rc ? -1 : e.bHttps, aOk[i].bHttps);
    TT_EQ_I64("check agrees", tsS3EndpointCheck(aOk[i].zEp, &zErr), 0);
    tsS3EndpointFree(&e);
    free(zErr);
  }
  for(i=0; i<sizeof(aBad)/sizeof(aBad[0]); i++){
    TsS3Endpoint e;
    char *zErr = 0;
    int rc = tsS3EndpointParse(aBad[i].zEp, &e, &zErr);
    snprintf(zName, sizeof(zName), "endpoint '%s' refused", aBad[i].zEp);
    TT_EQ_I64(zName, rc, 1);
    snprintf(zName, sizeof(zName), "endpoint '%s' message", aBad[i].zEp);
    TT_EQ_STR(zName, zErr ? zErr : "", aBad[i].zErr);
    snprintf(zName, sizeof(zName), "endpoint '%s': no secret in the message", aBad[i].zEp);
    TT_CHECK(zName, zErr && !strstr(zErr, "topsecret") && !strstr(zErr, "AKIA")
             && !strstr(zErr, "127.0.0.1:x"));
    TT_CHECK("nothing kept on failure", e.zHostPort==0);
    free(zErr);
  }
  /* Malformed URLs: the message names the endpoint (redacted) and says what
  ** form is expected; curl's reason follows in parentheses. */
  {
    static const char *const az[] = { "minio:9000", "http://", "http://minio:99999",
                                      "http://a b:9000", "http://pw:topsecret@[::1" };
    for(i=0; i<sizeof(az)/sizeof(az[0]); i++){
      TsS3Endpoint e;
      char *zErr = 0, *zRed = tsS3EndpointRedact(az[i]);
      char zWant[200];
      int rc = tsS3EndpointParse(az[i], &e, &zErr);
      snprintf(zName, sizeof(zName), "malformed endpoint '%s' refused", az[i]);
      TT_EQ_I64(zName, rc, 1);
      snprintf(zWant, sizeof(zWant), "s3 endpoint '%s': ", zRed);
      snprintf(zName, sizeof(zName), "malformed endpoint '%s' message", az[i]);
      TT_CHECK(zName, zErr && strncmp(zErr, zWant, strlen(zWant))==0 && !strstr(zErr, "topsecret"));
      if( zErr ) printf("# %s\n", zErr);
      tsS3EndpointFree(&e);
      free(zErr);
      free(zRed);
    }
  }
  {
    char *z = tsS3EndpointRedact("https://u:p/w?d@host:1/?q=1#f");
    TT_EQ_STR("redact: last @ wins, query and fragment hidden", z, "https://<userinfo>@host:1/?<query>#<fragment>");
    free(z);
    z = tsS3EndpointRedact("http://minio:9000");
    TT_EQ_STR("redact: plain endpoint unchanged", z, "http://minio:9000");
    free(z);
  }
  return tt_done();
}
