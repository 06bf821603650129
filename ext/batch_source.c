/*
** batch_source.c: the source of a batch-load task (batch_load.c's header
** comment): listing one object or every .csv / .csv.gz object under a prefix
** (s3:// or file://, in key order), and streaming one object with ranged GETs
** of BL_READ bytes, gzip inflated on the fly with zlib, so memory stays
** bounded by one read and one inflate window.
*/
#include "batch_load.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int endsWithNoCase(const char *z, const char *zEnd){
  size_t n = strlen(z), m = strlen(zEnd);
  return n>=m && strcasecmp(z+n-m, zEnd)==0;
}

void tsBlObjCfg(const TsBlConfig *c, TsObjConfig *p, int bReport){
  memset(p, 0, sizeof(*p));
  if( bReport ){ p->zSse = c->zSse; p->zKmsKey = c->zKmsKey; }
}

/**************************************************************************
** Listing the source.
*/

int tsBlListAdd(BlList *p, const char *zBase, const char *zKey, int64_t nSize){
  if( p->n>=p->nAlloc ){
    int nNew = p->nAlloc ? p->nAlloc*2 : 16;
    BlFile *a = sqlite3_realloc64(p->a, sizeof(BlFile)*nNew);
    if( a==0 ){ p->bOom = 1; return 1; }
    p->a = a; p->nAlloc = nNew;
  }
  p->a[p->n].zUri = sqlite3_mprintf("%s%s", zBase, zKey);
  p->a[p->n].nSize = nSize;
  if( p->a[p->n].zUri==0 ){ p->bOom = 1; return 1; }
  p->n++;
  return 0;
}

static int listCb(void *pCtx, const TsObjInfo *pInfo){
  BlList *p = (BlList*)pCtx;
  if( !endsWithNoCase(pInfo->zKey, ".csv") && !endsWithNoCase(pInfo->zKey, ".csv.gz") ) return 0;
  return tsBlListAdd(p, p->zBase, pInfo->zKey, pInfo->nSize);
}

/*
** The files of the source URI: the object itself if it exists, else every
** .csv / .csv.gz object whose key starts with the URI's key part.  *pzErr
** (sqlite3_malloc) on failure; no files is not an error here.
*/
int tsBlListSource(const TsBlConfig *c, BlFile **paFile, int *pnFile, char **pzErr){
  TsObjConfig oc;
  TsObjStore *pS = 0;
  char *zKey = 0, *zObjErr = 0, *zBase = 0;
  BlList l;
  int rc = TS_OBJ_OK;
  size_t nUri = strlen(c->zSource);
  memset(&l, 0, sizeof(l));
  tsBlObjCfg(c, &oc, 0);
  if( c->zSource[nUri-1]=='/' || (strncmp(c->zSource, "s3://", 5)==0 && !strchr(c->zSource+5, '/')) ){
    /* a prefix that ends at a folder or bucket: list everything below it */
    rc = tsObjOpen(c->zSource, &oc, &pS, &zObjErr);
    zBase = sqlite3_mprintf("%s%s", c->zSource, c->zSource[nUri-1]=='/' ? "" : "/");
    if( rc==TS_OBJ_OK && zBase ){
      l.zBase = zBase;
      rc = tsObjList(pS, "", listCb, &l, &zObjErr);
    }
  }else{
    rc = tsObjOpenParent(c->zSource, &oc, &pS, &zKey, &zObjErr);
    if( rc==TS_OBJ_OK ){
      TsObjInfo info;
      zBase = sqlite3_mprintf("%.*s", (int)(nUri - strlen(zKey)), c->zSource);
      rc = tsObjHead(pS, zKey, &info, &zObjErr);
      if( rc==TS_OBJ_OK && zBase ){
        tsBlListAdd(&l, zBase, zKey, info.nSize);
      }else if( rc==TS_OBJ_NOTFOUND && zBase ){
        free(zObjErr); zObjErr = 0;
        l.zBase = zBase;
        rc = tsObjList(pS, zKey, listCb, &l, &zObjErr);
      }
    }
  }
  if( zBase==0 || l.bOom ){
    tsErrSet(pzErr, "out of memory");
    rc = TS_OBJ_NOMEM;
  }else if( rc!=TS_OBJ_OK ){
    tsErrSet(pzErr, "cannot list %s: %s", c->zSource, zObjErr ? zObjErr : "error");
  }
  free(zObjErr); free(zKey);
  sqlite3_free(zBase);
  tsObjClose(pS);
  if( rc!=TS_OBJ_OK ){
    int i;
    for(i=0; i<l.n; i++) sqlite3_free(l.a[i].zUri);
    sqlite3_free(l.a);
    return SQLITE_ERROR;
  }
  *paFile = l.a; *pnFile = l.n;
  return SQLITE_OK;
}

/**************************************************************************
** Reading one object.
*/

void tsBlSrcClose(BlSrc *p){
  if( p->bZInit ) inflateEnd(&p->z);
  tsObjClose(p->pStore);
  free(p->zKey);
  tsBufFree(&p->raw);
  tsBufFree(&p->out);
  memset(p, 0, sizeof(*p));
}

/* Fetch the next raw range into p->raw (empty at the end). */
static int srcFetch(BlSrc *p, char **pzErr){
  char *zObjErr = 0;
  int rc;
  tsBufReset(&p->raw);
  if( p->iRaw>=p->nSize ) return SQLITE_OK;
  rc = tsObjGet(p->pStore, p->zKey, p->iRaw, BL_READ, &p->raw, &zObjErr);
  if( rc!=TS_OBJ_OK ){
    tsErrSet(pzErr, "read failed at byte %lld: %s", (long long)p->iRaw, zObjErr ? zObjErr : "error");
    free(zObjErr);
    return SQLITE_IOERR;
  }
  if( p->raw.n==0 ){
    tsErrSet(pzErr, "read failed at byte %lld: the object is shorter than its %lld bytes",
             (long long)p->iRaw, (long long)p->nSize);
    return SQLITE_IOERR;
  }
  p->iRaw += (int64_t)p->raw.n;
  return SQLITE_OK;
}

/* Open the object and position at raw byte iRaw (0 for gzip). */
int tsBlSrcOpen(BlSrc *p, const TsBlConfig *c, const char *zUri, char **pzErr){
  TsObjConfig oc;
  TsObjInfo info;
  char *zObjErr = 0;
  int rc;
  memset(p, 0, sizeof(*p));
  tsBufInit(&p->raw);
  tsBufInit(&p->out);
  tsBlObjCfg(c, &oc, 0);
  rc = tsObjOpenParent(zUri, &oc, &p->pStore, &p->zKey, &zObjErr);
  if( rc==TS_OBJ_OK ) rc = tsObjHead(p->pStore, p->zKey, &info, &zObjErr);
  if( rc==TS_OBJ_NOTFOUND ){
    /* removed since the task listed it: that file fails, the task goes on */
    tsErrSet(pzErr, "the object no longer exists");
    free(zObjErr);
    return SQLITE_NOTFOUND;
  }
  if( rc!=TS_OBJ_OK ){
    tsErrSet(pzErr, "cannot open: %s", zObjErr ? zObjErr : "error");
    free(zObjErr);
    return SQLITE_IOERR;
  }
  p->nSize = info.nSize;
  /* gzip by content (1f 8b), whatever the name says */
  if( p->nSize>=2 ){
    TsBuf b;
    tsBufInit(&b);
    rc = tsObjGet(p->pStore, p->zKey, 0, 2, &b, &zObjErr);
    if( rc!=TS_OBJ_OK ){
      tsErrSet(pzErr, "read failed at byte 0: %s", zObjErr ? zObjErr : "error");
      free(zObjErr);
      tsBufFree(&b);
      return SQLITE_IOERR;
    }
    p->bGz = b.n==2 && b.a[0]==0x1f && b.a[1]==0x8b;
    tsBufFree(&b);
  }
  if( p->bGz ){
    memset(&p->z, 0, sizeof(p->z));
    if( inflateInit2(&p->z, 16+MAX_WBITS)!=Z_OK ) return SQLITE_NOMEM;
    p->bZInit = 1;
  }
  return SQLITE_OK;
}

/* The next piece of CSV bytes in *pa, *pn; *pn==0 at the end. */
int tsBlSrcNext(BlSrc *p, const unsigned char **pa, size_t *pn, char **pzErr){
  int rc;
  *pa = 0; *pn = 0;
  if( !p->bGz ){
    rc = srcFetch(p, pzErr);
    if( rc ) return rc;
    *pa = p->raw.a; *pn = p->raw.n;
    return SQLITE_OK;
  }
  if( p->bZEnd ) return SQLITE_OK;
  tsBufReset(&p->out);
  if( tsBufReserve(&p->out, BL_INFLATE) ) return SQLITE_NOMEM;
  p->z.next_out = p->out.a;
  p->z.avail_out = BL_INFLATE;
  while( p->z.avail_out>0 && !p->bZEnd ){
    int zrc;
    if( p->z.avail_in==0 ){
      rc = srcFetch(p, pzErr);
      if( rc ) return rc;
      if( p->raw.n==0 ){
        if( p->out.n==0 && p->z.next_out==p->out.a ){
          tsErrSet(pzErr, "gzip stream is truncated");
          return SQLITE_CORRUPT;
        }
        break;
      }
      p->z.next_in = p->raw.a;
      p->z.avail_in = (uInt)p->raw.n;
    }
    zrc = inflate(&p->z, Z_NO_FLUSH);
    if( zrc==Z_STREAM_END ){
      /* concatenated gzip members are one stream (as gunzip reads them) */
      if( p->z.avail_in>0 || p->iRaw<p->nSize ){
        if( inflateReset(&p->z)!=Z_OK ){ tsErrSet(pzErr, "gzip: cannot reset"); return SQLITE_CORRUPT; }
      }else{
        p->bZEnd = 1;
      }
    }else if( zrc!=Z_OK && zrc!=Z_BUF_ERROR ){
      tsErrSet(pzErr, "gzip data is corrupt at byte %lld (%s)",
               (long long)(p->iRaw - p->z.avail_in), p->z.msg ? p->z.msg : "inflate failed");
      return SQLITE_CORRUPT;
    }else if( zrc==Z_BUF_ERROR && p->z.avail_in==0 && p->iRaw>=p->nSize ){
      tsErrSet(pzErr, "gzip stream is truncated");
      return SQLITE_CORRUPT;
    }
  }
  p->out.n = (size_t)(p->z.next_out - p->out.a);
  *pa = p->out.a; *pn = p->out.n;
  return SQLITE_OK;
}

