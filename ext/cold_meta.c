/*
** cold_meta.c: the cold tier's per-connection cache of parsed object
** metadata and its kept manifest statement (interface and rules in
** cold_meta.h).
**
** Entries hang in a hash table on the object key (COLD_META_NHASH chains,
** at most TS_COLD_META_MAX entries); when it is full a free entry is
** dropped to make room (the first found: scans reuse the objects of their
** time range, so which one goes matters little).  A reader kept here has a
** read callback that fails (coldNoRead) between scans, so nothing reads
** through a source that no longer exists.
*/
#include "cold_meta.h"
#include "tshash.h"
#include <string.h>

#define TS_COLD_META_MAX  1024                /* entries per table handle */
#define COLD_META_NHASH   256

struct TsColdMeta {
  TsColdMetaEnt *aHash[COLD_META_NHASH];
  int n;                     /* entries */
  sqlite3_stmt *pObjStmt;    /* the cold source's manifest SELECT, prepared
                             ** once (SQLITE_PREPARE_PERSISTENT; owned) */
};

static unsigned metaHash(const char *zKey){
  return (unsigned)(tsFnv1a32(zKey, strlen(zKey)) & (COLD_META_NHASH-1));
}

static void metaEntFree(TsColdMetaEnt *m){
  sqlite3_free(m->zKey);
  sqlite3_free(m->aFooter);
  sqlite3_free(m->aRuns);
  tsPqReaderFree(m->pReader);
  tsColdRunIdxFree(m->pIdx);
  sqlite3_free(m->aRgT);
  sqlite3_free(m->aRgStart);
  sqlite3_free(m);
}

void tsColdMetaFree(TsTable *pTab){
  struct TsColdMeta *c = pTab->pColdMeta;
  int i;
  if( c==0 ) return;
  for(i=0; i<COLD_META_NHASH; i++){
    while( c->aHash[i] ){
      TsColdMetaEnt *m = c->aHash[i];
      c->aHash[i] = m->pNext;
      metaEntFree(m);
    }
  }
  sqlite3_finalize(c->pObjStmt);
  sqlite3_free(c);
  pTab->pColdMeta = 0;
}

/* The handle's cache, made on first use (NULL on OOM). */
static struct TsColdMeta *metaState(TsTable *pTab){
  if( pTab->pColdMeta==0 ){
    pTab->pColdMeta = sqlite3_malloc64(sizeof(struct TsColdMeta));
    if( pTab->pColdMeta ) memset(pTab->pColdMeta, 0, sizeof(struct TsColdMeta));
  }
  return pTab->pColdMeta;
}

static int bytesEq(const void *a, int na, const void *b, int nb){
  return na==nb && (na==0 || memcmp(a, b, (size_t)na)==0);
}

TsColdMetaEnt *tsColdMetaTake(TsTable *pTab, const char *zKey, sqlite3_int64 nByte,
                              const void *a, int n, const void *r, int nr){
  TsColdMetaEnt *m;
  if( pTab->pColdMeta==0 || zKey==0 ) return 0;
  for(m=pTab->pColdMeta->aHash[metaHash(zKey)]; m; m=m->pNext){
    if( !m->bBusy && strcmp(m->zKey, zKey)==0 && m->nByte==nByte
     && bytesEq(m->aFooter, m->nFooter, a, n) && bytesEq(m->aRuns, m->nRuns, r, nr) ){
      m->bBusy = 1;
      return m;
    }
  }
  return 0;
}

static void metaUnlink(TsTable *pTab, TsColdMetaEnt *pDel){
  TsColdMetaEnt **pp;
  for(pp=&pTab->pColdMeta->aHash[metaHash(pDel->zKey)]; *pp; pp=&(*pp)->pNext){
    if( *pp==pDel ){ *pp = pDel->pNext; pTab->pColdMeta->n--; return; }
  }
}

TsColdMetaEnt *tsColdMetaAdd(TsTable *pTab, const char *zKey, sqlite3_int64 nByte,
                             const unsigned char *aFooter, int nFooter,
                             const unsigned char *aRuns, int nRuns, TsPqReader *pReader,
                             TsColdRunIdx *pIdx, int64_t *aRgT, int64_t *aRgStart, int nRg){
  TsColdMetaEnt *m;
  if( metaState(pTab)==0 ) return 0;
  if( pTab->pColdMeta->n>=TS_COLD_META_MAX ){
    /* Make room: drop one free entry (the first found). */
    TsColdMetaEnt *pDel = 0;
    int i;
    for(i=0; i<COLD_META_NHASH && pDel==0; i++){
      for(m=pTab->pColdMeta->aHash[i]; m && m->bBusy; m=m->pNext){}
      pDel = m;
    }
    if( pDel==0 ) return 0;
    metaUnlink(pTab, pDel);
    metaEntFree(pDel);
  }
  m = sqlite3_malloc64(sizeof(TsColdMetaEnt));
  if( m==0 ) return 0;
  memset(m, 0, sizeof(*m));
  m->zKey = sqlite3_mprintf("%s", zKey);
  m->aFooter = sqlite3_malloc64((size_t)nFooter+1);
  m->aRuns = sqlite3_malloc64((size_t)nRuns+1);
  if( m->zKey==0 || m->aFooter==0 || m->aRuns==0 ){ metaEntFree(m); return 0; }
  if( nFooter ) memcpy(m->aFooter, aFooter, (size_t)nFooter);
  if( nRuns ) memcpy(m->aRuns, aRuns, (size_t)nRuns);
  m->nFooter = nFooter;
  m->nRuns = nRuns;
  m->nByte = nByte;
  m->pReader = pReader;
  m->pIdx = pIdx;
  m->aRgT = aRgT;
  m->aRgStart = aRgStart;
  m->nRg = nRg;
  m->bBusy = 1;
  m->pNext = pTab->pColdMeta->aHash[metaHash(m->zKey)];
  pTab->pColdMeta->aHash[metaHash(m->zKey)] = m;
  pTab->pColdMeta->n++;
  return m;
}

/* A kept reader between scans reads nothing. */
static int coldNoRead(void *pCtx, int64_t iOff, int64_t n, void *pOut){
  (void)pCtx; (void)iOff; (void)n; (void)pOut;
  return 1;
}

void tsColdMetaRelease(TsTable *pTab, TsColdMetaEnt *m){
  if( tsPqReaderErrcode(m->pReader)!=TS_PQ_OK ){
    metaUnlink(pTab, m);
    metaEntFree(m);
  }else{
    tsPqReaderSetSource(m->pReader, coldNoRead, 0);
    tsPqReaderTrim(m->pReader);
    m->bBusy = 0;
  }
}

sqlite3_stmt *tsColdMetaStmtTake(TsTable *pTab){
  sqlite3_stmt *p = pTab->pColdMeta ? pTab->pColdMeta->pObjStmt : 0;
  if( p ) pTab->pColdMeta->pObjStmt = 0;
  return p;
}

void tsColdMetaStmtPut(TsTable *pTab, sqlite3_stmt *pStmt){
  if( metaState(pTab) && pTab->pColdMeta->pObjStmt==0 ){
    sqlite3_reset(pStmt);
    sqlite3_clear_bindings(pStmt);
    pTab->pColdMeta->pObjStmt = pStmt;
  }else{
    sqlite3_finalize(pStmt);
  }
}
