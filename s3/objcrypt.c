/* objcrypt.c: client-side envelope encryption (placeholder until it lands). */
#include "objcrypt.h"
#include <stdlib.h>

int tsObjCryptConfigure(const TsObjConfig *pCfg, TsObjCrypt **pp, char **pzErr){
  (void)pCfg; (void)pzErr;
  *pp = 0;
  return TS_OBJ_OK;
}
void tsObjCryptFree(TsObjCrypt *p){ (void)p; }
int64_t tsObjCryptPlainSize(int64_t nStored){ return nStored; }
int tsObjCryptPut(TsObjStore *p, const char *zKey, const void *a, size_t n, char **pzErr){
  (void)p; (void)zKey; (void)a; (void)n; tsObjErr(pzErr, "encryption not built"); return TS_OBJ_ERROR;
}
int tsObjCryptGet(TsObjStore *p, const char *zKey, int64_t iOff, int64_t nLen, TsBuf *pOut, char **pzErr){
  (void)p; (void)zKey; (void)iOff; (void)nLen; (void)pOut; tsObjErr(pzErr, "encryption not built"); return TS_OBJ_ERROR;
}
int tsObjCryptWriterOpen(TsObjStore *p, const char *zKey, TsObjWriter **pp, char **pzErr){
  (void)p; (void)zKey; *pp = 0; tsObjErr(pzErr, "encryption not built"); return TS_OBJ_ERROR;
}
int tsObjCryptWriterWrite(TsObjWriter *w, const void *a, size_t n, char **pzErr){
  (void)w; (void)a; (void)n; (void)pzErr; return TS_OBJ_ERROR;
}
int tsObjCryptWriterFinish(TsObjWriter *w, char **pzErr){ (void)w; (void)pzErr; return TS_OBJ_ERROR; }
void tsObjCryptWriterAbort(TsObjWriter *w){ (void)w; }
