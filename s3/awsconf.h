/*
** awsconf.h: where the S3 back end's settings come from (awsconf.c):
** TsObjConfig fields first, then the standard AWS environment variables,
** then ~/.aws/credentials and ~/.aws/config profiles, then defaults.  See
** docs/object-storage.md for the table.  Pure C, no curl, no SQLite.
*/
#ifndef AWSCONF_H
#define AWSCONF_H
#include "objstore.h"

typedef struct TsAwsConf TsAwsConf;
struct TsAwsConf {
  char *zEndpoint;   /* "https://host[:port]" without trailing '/'; NULL = AWS */
  char *zRegion;     /* never NULL after a successful load */
  char *zAccessKey;  /* never NULL after a successful load */
  char *zSecretKey;  /* secret; never printed; wiped on free */
  char *zToken;      /* session token or NULL; wiped on free */
  char *zProfile;    /* profile name used (for messages) */
  char *zCaBundle;   /* AWS_CA_BUNDLE or NULL */
  int bPathStyle;    /* 1: https://endpoint/bucket/key; 0: https://bucket.endpoint/key */
  int bStyleSet;     /* bPathStyle came from TsObjConfig or TSLITE_S3_URL_STYLE */
  int nMaxAttempts;  /* >= 1 */
};

/* Fill *p.  Returns TS_OBJ_OK or TS_OBJ_ERROR with a message (naming the
** variable, file or profile, never a secret).  tsAwsConfFree always. */
int tsAwsConfLoad(const TsObjConfig *pCfg, TsAwsConf *p, char **pzErr);
void tsAwsConfFree(TsAwsConf *p);

/* Value of [zSection] zKey in INI file zPath (malloc'd), or NULL. */
char *tsAwsIniGet(const char *zPath, const char *zSection, const char *zKey);

#endif
