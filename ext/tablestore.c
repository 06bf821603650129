/*
** tablestore.c: a timeseries table's storage options as an object-store
** configuration (tablestore.h).  No SQLite calls: the options were checked
** at CREATE (schema.c, s3/storeopt.c); this only maps them.
*/
#include "tablestore.h"
#include <string.h>

void tsStoreConfigFrom(const char *zEndpoint, const char *zRegion, const char *zUrlStyle,
                       const char *zEncryption, const char *zKmsKey, TsObjConfig *pCfg){
  memset(pCfg, 0, sizeof(*pCfg));
  pCfg->zEndpoint = zEndpoint;
  pCfg->zRegion = zRegion;
  pCfg->zUrlStyle = zUrlStyle;
  if( zEndpoint && strncmp(zEndpoint, "http://", 7)==0 ) pCfg->bAllowHttp = 1;
  if( zEncryption==0 ) return;
  pCfg->eCse = TS_OBJ_CSE_OFF;
  if( strcmp(zEncryption, "sse_s3")==0 ){
    pCfg->zSse = "sse_s3";
  }else if( strcmp(zEncryption, "sse_kms")==0 ){
    pCfg->zSse = "sse_kms";
    pCfg->zKmsKey = zKmsKey;
  }else if( strcmp(zEncryption, "client")==0 ){
    pCfg->eCse = TS_OBJ_CSE_ON;
    pCfg->zCseKeyId = zKmsKey;
  }
}

void tsTableStoreConfig(const TsTableSchema *s, TsObjConfig *pCfg){
  tsStoreConfigFrom(s->zS3Endpoint, s->zS3Region, s->zS3UrlStyle,
                    s->zEncryption ? s->zEncryption : "none", s->zKmsKey, pCfg);
}
