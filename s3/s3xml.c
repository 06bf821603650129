/*
** s3xml.c: expat-based walker for S3 response bodies (see s3xml.h).
**
** Keeps a stack of element names as a '/'-joined path and the text of the
** innermost element; at each end tag it reports (path, text).  Entities
** are decoded by expat; DOCTYPE declarations are refused (no entity
** expansion games from a hostile endpoint).
*/
#include "s3xml.h"
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XML_MAX_DEPTH 32
#define XML_MAX_PATH  1024
#define XML_MAX_TEXT  (1 << 20)

typedef struct Walk Walk;
struct Walk {
  XML_Parser x;
  TsS3XmlCb xCb;
  void *pCtx;
  char zPath[XML_MAX_PATH + 1];
  size_t nPath;
  size_t aPathLen[XML_MAX_DEPTH + 1];  /* nPath before each open element */
  int nDepth;
  char *zText;       /* text of the innermost open element; owned */
  size_t nText, nAlloc;
  int bErr;          /* limits exceeded / OOM */
  int bStop;         /* callback asked to stop */
};

static const char *localName(const char *z){
  const char *zColon = strrchr(z, ':');
  return zColon ? zColon + 1 : z;
}

static void XMLCALL onStart(void *p, const XML_Char *zName, const XML_Char **azAttr){
  Walk *w = (Walk*)p;
  const char *zLocal = localName(zName);
  size_t n = strlen(zLocal);
  (void)azAttr;
  if( w->bErr || w->bStop ) return;
  if( w->nDepth>=XML_MAX_DEPTH || w->nPath + n + 1 > XML_MAX_PATH ){
    w->bErr = 1;
    XML_StopParser(w->x, XML_FALSE);
    return;
  }
  w->aPathLen[w->nDepth++] = w->nPath;
  if( w->nPath ) w->zPath[w->nPath++] = '/';
  memcpy(w->zPath + w->nPath, zLocal, n);
  w->nPath += n;
  w->zPath[w->nPath] = 0;
  w->nText = 0;
}

static void XMLCALL onEnd(void *p, const XML_Char *zName){
  Walk *w = (Walk*)p;
  (void)zName;
  if( w->bErr || w->bStop || w->nDepth==0 ) return;
  if( w->zText ) w->zText[w->nText] = 0;
  if( w->xCb(w->pCtx, w->zPath, w->zText ? w->zText : "", w->nText) ){
    w->bStop = 1;
    XML_StopParser(w->x, XML_FALSE);
    return;
  }
  w->nPath = w->aPathLen[--w->nDepth];
  w->zPath[w->nPath] = 0;
  w->nText = 0;
}

static void XMLCALL onText(void *p, const XML_Char *z, int n){
  Walk *w = (Walk*)p;
  if( w->bErr || w->bStop || n<=0 ) return;
  if( w->nText + (size_t)n + 1 > w->nAlloc ){
    size_t nNew = w->nAlloc ? w->nAlloc : 256;
    char *zNew;
    while( nNew < w->nText + (size_t)n + 1 ) nNew *= 2;
    if( nNew > XML_MAX_TEXT ){ w->bErr = 1; XML_StopParser(w->x, XML_FALSE); return; }
    zNew = realloc(w->zText, nNew);
    if( zNew==0 ){ w->bErr = 1; XML_StopParser(w->x, XML_FALSE); return; }
    w->zText = zNew;
    w->nAlloc = nNew;
  }
  memcpy(w->zText + w->nText, z, (size_t)n);
  w->nText += (size_t)n;
}

static void XMLCALL onDoctype(void *p, const XML_Char *zName, const XML_Char *zSys,
                              const XML_Char *zPub, int bInternal){
  Walk *w = (Walk*)p;
  (void)zName; (void)zSys; (void)zPub; (void)bInternal;
  w->bErr = 1;
  XML_StopParser(w->x, XML_FALSE);
}

int tsS3XmlWalk(const char *a, size_t n, TsS3XmlCb xCb, void *pCtx){
  Walk w;
  int rc = 0;
  memset(&w, 0, sizeof(w));
  if( n > 0x7fffffff ) return 1;
  w.x = XML_ParserCreate("UTF-8");
  if( w.x==0 ) return 1;
  w.xCb = xCb;
  w.pCtx = pCtx;
  XML_SetUserData(w.x, &w);
  XML_SetElementHandler(w.x, onStart, onEnd);
  XML_SetCharacterDataHandler(w.x, onText);
  XML_SetStartDoctypeDeclHandler(w.x, onDoctype);
  if( XML_Parse(w.x, a, (int)n, 1)==XML_STATUS_ERROR && !w.bStop ) rc = 1;
  if( w.bErr ) rc = 1;
  XML_ParserFree(w.x);
  free(w.zText);
  return rc;
}

typedef struct RootCtx RootCtx;
struct RootCtx { char *z; size_t n; };
static int rootCb(void *p, const char *zPath, const char *zText, size_t nText){
  RootCtx *r = (RootCtx*)p;
  (void)zText; (void)nText;
  if( strchr(zPath, '/')==0 ) snprintf(r->z, r->n, "%s", zPath);
  return 0;
}
void tsS3XmlRoot(const char *a, size_t n, char *zOut, size_t nOut){
  RootCtx r;
  if( nOut==0 ) return;
  zOut[0] = 0;
  r.z = zOut; r.n = nOut;
  tsS3XmlWalk(a, n, rootCb, &r);
}

typedef struct ErrCtx ErrCtx;
struct ErrCtx { char *zCode; size_t nCode; char *zMsg; size_t nMsg; int bError; };
static int errCb(void *p, const char *zPath, const char *zText, size_t nText){
  ErrCtx *e = (ErrCtx*)p;
  (void)nText;
  if( strcmp(zPath, "Error/Code")==0 ) snprintf(e->zCode, e->nCode, "%s", zText);
  else if( strcmp(zPath, "Error/Message")==0 ) snprintf(e->zMsg, e->nMsg, "%s", zText);
  else if( strcmp(zPath, "Error")==0 ) e->bError = 1;
  return 0;
}
int tsS3XmlError(const char *a, size_t n, char *zCode, size_t nCode, char *zMsg, size_t nMsg){
  ErrCtx e;
  if( nCode ) zCode[0] = 0;
  if( nMsg ) zMsg[0] = 0;
  e.zCode = zCode; e.nCode = nCode; e.zMsg = zMsg; e.nMsg = nMsg; e.bError = 0;
  /* Skip leading whitespace: S3 may stream spaces before a late <Error>. */
  tsS3XmlWalk(a, n, errCb, &e);
  return e.bError;
}
