/* store_s3.c: the s3:// back end (placeholder until it lands). */
#include "objstore_int.h"

int tsObjS3Open(const char *zRest, const TsObjConfig *pCfg, TsObjStore **pp, char **pzErr){
  (void)zRest; (void)pCfg;
  *pp = 0;
  tsObjErr(pzErr, "s3:// store: not implemented yet");
  return TS_OBJ_ERROR;
}
