/*
** agg_par.c: the parallel path of timeseries_agg (agg_int.h; design in
** agg.c's header comment): with PRAGMA threads = N > 0, up to N worker
** threads (pthreads) decode and aggregate the streams of a query, one
** series at a time each, while the connection's thread alone talks to
** SQLite.
**
** SQLite's PRAGMA threads (sqlite3_limit(db, SQLITE_LIMIT_WORKER_THREADS))
** is how a SQLite user grants a statement helper threads (its sorter uses
** them); default 0, which keeps timeseries_agg serial.
**
** HOW IT WORKS
**
** aggParRun runs inside xFilter, after the streams are made:
**   1. Eligibility: a query with both time bounds given, no other row
**      source open (the cold tier stays serial: its blocks are read through
**      source.h, whose sources are not thread-safe), no lastpoint, no ORDER
**      BY bucket DESC (a newest-first LIMIT stops the lazy walk after k
**      buckets; computing every bucket ahead would be slower).
**   2. The connection's thread fetches every chunk reference of every
**      stream in the range (the walk's own statements; they stay the
**      stream's references if the query then runs serially).  The query
**      goes parallel when at least two streams have chunks, their rows
**      times the used measures reach AGG_PAR_MIN_VALUES, and their results
**      fit AGG_PAR_OUT_BYTES (a stream has at most one result per bucket of
**      the range and per row).
**   3. The connection's thread reads each stream's chunks in stream order:
**      a chunk that falls whole in one bucket as its header statistics,
**      when they answer it (aggChunkStats), any other as its whole blob
**      (aggBlobLoad, into buffers of the vtab's pool); then queues the
**      stream.  Workers take queued streams and run the serial walk
**      (aggStreamNext) over the bytes read ahead (AggStream.aPre), saving
**      every result in AggStream.aOut.  While more than AGG_PAR_BYTES of
**      chunk bytes wait, the connection's thread runs a queued stream
**      itself instead of reading further; after the last stream it runs
**      queued streams until none is left, then joins every worker.
**   4. The streams then replay their results (AggStream.bReplay) to the
**      merge of agg.c, which orders them as in serial mode.
** Each series is aggregated by one thread in row order, exactly as the
** serial walk does: the results are the serial ones bit for bit (the
** order of double additions is the same), and the merge is deterministic.
**
** OWNERSHIP HAND-OFF (why there is no data race)
**
**   - Before a stream is queued (under the mutex), only the connection's
**     thread touches it; from the moment a worker takes it (under the
**     mutex) until that worker marks it done (under the mutex), only that
**     worker touches it; the connection's thread reads its results, its
**     error and returns its buffers after it is marked done.  The mutex
**     orders these steps (its lock and unlock are the happens-before
**     edges), so nothing else needs to be atomic.
**   - What every thread reads and nobody writes while workers live: the
**     cursor's range, width, used columns and direction, the vtab's
**     schema arrays and names, the table's name.  The connection's thread
**     writes none of these during aggParRun.
**   - A worker calls no sqlite3_* function: it decodes with the chunk codec
**     and the tsagg kernels (pure C, malloc/free, no global state: chunk.h),
**     and its errors go to AggStream.rcPar / zParErr (snprintf), which the
**     connection's thread turns into the vtab's error after joining.  The
**     buffers it reads were allocated by the connection's thread and are
**     freed by it.
**   - Every worker is joined before aggParRun returns, on every path: a
**     read error, an allocation failure, sqlite3_interrupt (the next SQLite
**     call of the connection's thread fails with SQLITE_INTERRUPT: every
**     blob read runs a statement, which checks it) set bCancel, workers
**     leave their current stream and take no other, and the thread joins
**     them.  A worker's error cancels the rest the same way.
*/
#include "agg_int.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct AggPar AggPar;
struct AggPar {
  AggCursor *p;             /* the cursor (see the hand-off rules above) */
  pthread_mutex_t mu;       /* guards every field below */
  pthread_cond_t cvWork;    /* a stream was queued, or bQuit/bCancel set */
  int *aQueue;              /* [nStream] stream indexes queued in order (owned) */
  int iHead, nQueue;        /* aQueue[iHead..nQueue) wait for a thread */
  int *aDone;               /* [nStream] streams finished, not yet reclaimed (owned) */
  int nDone;
  sqlite3_int64 nBytes;     /* chunk bytes read and not reclaimed */
  int bQuit;                /* no stream will be queued any more */
  int bCancel;              /* stop: an error; queued streams are dropped */
  int nThread;              /* workers started */
  TsChunkReader *pRd;       /* the connection's thread's reader (owned) */
  pthread_t aThread[AGG_PAR_MAX];
};

/* Bytes of the chunks read ahead for stream s. */
static sqlite3_int64 preBytes(const AggStream *s){
  sqlite3_int64 n = 0;
  int i;
  for(i=0; s->aPre && i<s->nRef; i++) n += s->aPre[i].nAlloc;
  return n;
}

/* Free the chunks read ahead for stream s (blobs back to the pool). */
static void preFree(AggVtab *v, AggStream *s){
  int i;
  if( s->aPre==0 ) return;
  for(i=0; i<s->nRef; i++){
    aggPoolPut(v, s->aPre[i].aBlob, s->aPre[i].nAlloc);
    sqlite3_free(s->aPre[i].aStat);
  }
  sqlite3_free(s->aPre);
  s->aPre = 0;
}

void aggParStreamFree(AggVtab *v, AggStream *s){
  preFree(v, s);
  sqlite3_free(s->aOut);
  s->aOut = 0;
  s->nOut = s->nOutAlloc = s->iOut = 0;
  s->bReplay = 0;
}

/* Run stream s to its end, saving its results in s->aOut.  Called by a
** worker or by the connection's thread; no SQLite call is made (every
** chunk was read ahead, every reference fetched).  Returns the error,
** also kept in s->rcPar with its message in s->zParErr. */
static int runStream(AggCursor *p, AggStream *s, TsChunkReader **ppRd){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  int rc = SQLITE_OK;
  s->pRdLent = *ppRd;   /* the thread's reader: no allocation per chunk */
  while( rc==SQLITE_OK ){
    AggResult *r;
    rc = aggStreamNext(p, s);
    if( rc || s->bDone ) break;
    if( s->nOut>=s->nOutAlloc ){
      /* Never expected: the capacity bounds buckets and rows. */
      snprintf(s->zParErr, sizeof(s->zParErr), "%s: internal error: more results than "
               "buckets in the range", v->zName);
      rc = SQLITE_INTERNAL;
      break;
    }
    r = &s->aOut[s->nOut++];
    r->bHave = s->res.bHave;
    r->iBucket = s->res.iBucket;
    r->nRow = s->res.nRow;
    r->tFirst = s->res.tFirst;
    r->tLast = s->res.tLast;
    memcpy(r->aAcc, s->res.aAcc, sizeof(TsAggAcc)*(size_t)v->nAgg);
  }
  aggStreamRowModeEnd(s);
  *ppRd = s->pRdLent;
  s->pRdLent = 0;
  s->rcPar = rc;   /* without a message: aggParRun uses rc's */
  return rc;
}

/* Take the next queued stream (the caller holds the mutex): its index, or
** -1 when none. */
static int queueTake(AggPar *x){
  if( x->bCancel || x->iHead>=x->nQueue ) return -1;
  return x->aQueue[x->iHead++];
}

/* Mark stream i done (the caller holds the mutex). */
static void markDone(AggPar *x, int i, int rc){
  x->aDone[x->nDone++] = i;
  if( rc ){
    x->bCancel = 1;
    pthread_cond_broadcast(&x->cvWork);
  }
}

static void *parWorker(void *pArg){
  AggPar *x = (AggPar*)pArg;
  TsChunkReader *pRd = 0;   /* this thread's, over every stream it runs */
  pthread_mutex_lock(&x->mu);
  for(;;){
    int i = queueTake(x);
    if( i<0 ){
      if( x->bCancel || x->bQuit ) break;
      pthread_cond_wait(&x->cvWork, &x->mu);
      continue;
    }
    pthread_mutex_unlock(&x->mu);
    {
      int rc = runStream(x->p, &x->p->aStream[i], &pRd);
      pthread_mutex_lock(&x->mu);
      markDone(x, i, rc);
    }
  }
  pthread_mutex_unlock(&x->mu);
  tsChunkReaderFree(pRd);
  return 0;
}

/* Return the buffers of finished streams to the pool (connection's thread;
** takes the mutex). */
static void reclaim(AggPar *x){
  AggVtab *v = (AggVtab*)x->p->base.pVtab;
  int aLocal[64], n, i;
  do{
    pthread_mutex_lock(&x->mu);
    n = x->nDone<64 ? x->nDone : 64;
    x->nDone -= n;
    memcpy(aLocal, &x->aDone[x->nDone], sizeof(int)*(size_t)n);
    for(i=0; i<n; i++) x->nBytes -= preBytes(&x->p->aStream[aLocal[i]]);
    pthread_mutex_unlock(&x->mu);
    for(i=0; i<n; i++) preFree(v, &x->p->aStream[aLocal[i]]);
  }while( n==64 );
}

/* Run one queued stream on the connection's thread: 1 if one ran. */
static int helpOne(AggPar *x){
  int i, rc;
  pthread_mutex_lock(&x->mu);
  i = queueTake(x);
  pthread_mutex_unlock(&x->mu);
  if( i<0 ) return 0;
  rc = runStream(x->p, &x->p->aStream[i], &x->pRd);
  pthread_mutex_lock(&x->mu);
  markDone(x, i, rc);
  pthread_mutex_unlock(&x->mu);
  return 1;
}

/* Fetch every chunk reference of stream s in the range (all batches) into
** one array: s->aRef, with bRefEof set.  *pnVal += rows x nUsed, *pnRow =
** the rows of its chunks. */
static int fetchAll(AggCursor *p, AggStream *s, sqlite3_int64 *pnRow){
  AggRef *aAll = 0;
  int nAll = 0, nAlloc = 0, rc = SQLITE_OK, i;
  *pnRow = 0;
  while( !s->bRefEof ){
    rc = aggStreamFetch(p, s);
    if( rc ) break;
    if( nAll+s->nRef>nAlloc ){
      AggRef *aNew;
      nAlloc = (nAll+s->nRef)*2 + 8;
      aNew = sqlite3_realloc64(aAll, sizeof(AggRef)*(size_t)nAlloc);
      if( aNew==0 ){ rc = SQLITE_NOMEM; break; }
      aAll = aNew;
    }
    for(i=0; i<s->nRef; i++){
      aAll[nAll++] = s->aRef[i];
      *pnRow += s->aRef[i].nRow;
    }
  }
  if( rc ){
    sqlite3_free(aAll);
    return rc;
  }
  sqlite3_free(s->aRef);
  s->aRef = aAll;
  s->nRef = nAll;
  s->iRef = 0;
  s->bRefEof = 1;
  return SQLITE_OK;
}

/* Upper bound of the buckets of the range (1 without bucket_width),
** saturated at n. */
static sqlite3_int64 bucketBound(AggCursor *p, sqlite3_int64 n){
  int64_t b0, b1;
  uint64_t d;
  if( p->iWidth==0 ) return 1;
  b0 = tsAggBucket(p->tLo, p->iWidth);
  b1 = tsAggBucket(p->tHi, p->iWidth);
  d = ((uint64_t)b1 - (uint64_t)b0) / (uint64_t)p->iWidth + 1;
  return d<(uint64_t)n ? (sqlite3_int64)d : n;
}

/* Read stream s's chunks ahead (connection's thread): header statistics
** where they answer, blobs elsewhere. */
static int readAhead(AggCursor *p, AggStream *s){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  int i, rc = SQLITE_OK;
  if( s->nRef==0 ) return SQLITE_OK;
  s->aPre = sqlite3_malloc64(sizeof(AggPre)*(size_t)s->nRef);
  if( s->aPre==0 ) return SQLITE_NOMEM;
  memset(s->aPre, 0, sizeof(AggPre)*(size_t)s->nRef);
  for(i=0; rc==SQLITE_OK && i<s->nRef; i++){
    AggPre *u = &s->aPre[i];
    const AggRef *r = &s->aRef[i];
    if( aggRefOneBucket(p, r) ){
      u->aStat = sqlite3_malloc64(sizeof(TsChunkStat)*(size_t)(v->nMeas+1));
      if( u->aStat==0 ) return SQLITE_NOMEM;
      rc = aggChunkStats(p, r, &u->info, u->aStat, &u->bStat);
      if( rc || u->bStat ) continue;
    }
    rc = aggBlobLoad(p, r->id, &u->aBlob, &u->nAlloc, &u->nBlob);
  }
  return rc;
}

/* Start up to nWant workers (fewer when pthread_create fails: the
** connection's thread then runs more streams itself). */
static void startWorkers(AggPar *x, int nWant){
  while( x->nThread<nWant ){
    if( pthread_create(&x->aThread[x->nThread], 0, parWorker, x) ) break;
    x->nThread++;
  }
}

/* Stop and join every worker: finish (bCancel 0: the queue is drained
** first) or cancel. */
static void joinWorkers(AggPar *x, int bCancel){
  int i;
  pthread_mutex_lock(&x->mu);
  x->bQuit = 1;
  if( bCancel ) x->bCancel = 1;
  pthread_cond_broadcast(&x->cvWork);
  pthread_mutex_unlock(&x->mu);
  for(i=0; i<x->nThread; i++) pthread_join(x->aThread[i], 0);
  x->nThread = 0;
}

int aggParRun(AggCursor *p){
  AggVtab *v = (AggVtab*)p->base.pVtab;
  sqlite3 *db = tsTableDbHandle(p->pTab);
  AggPar x;
  sqlite3_int64 nVal = 0, nOutBytes = 0, nAccBytes;
  int nThread, nUsed = 0, nBusy = 0, i, rc = SQLITE_OK;
  nThread = sqlite3_limit(db, SQLITE_LIMIT_WORKER_THREADS, -1);
  if( nThread>AGG_PAR_MAX ) nThread = AGG_PAR_MAX;
  if( nThread<=0 || p->nStream<2 || p->nSrcOpen || p->bLastOnly || p->bDesc
   || !p->bTimeLo || !p->bTimeHi ){
    return SQLITE_OK;
  }
  /* The work: every chunk reference in the range. */
  for(i=0; i<v->nAgg; i++) nUsed += p->aUsed[i]!=0;
  nAccBytes = (sqlite3_int64)(sizeof(AggResult) + sizeof(TsAggAcc)*(size_t)v->nAgg);
  for(i=0; i<p->nStream; i++){
    AggStream *s = &p->aStream[i];
    sqlite3_int64 nRow = 0;
    rc = fetchAll(p, s, &nRow);
    if( rc ) return rc;
    if( s->nRef>0 ) nBusy++;
    nVal += nRow*(nUsed+1);
    s->nOutAlloc = (int)bucketBound(p, nRow<INT32_MAX ? nRow : INT32_MAX);
    nOutBytes += s->nOutAlloc*nAccBytes;
  }
  if( nBusy<2 || nVal<AGG_PAR_MIN_VALUES || nOutBytes>AGG_PAR_OUT_BYTES ){
    for(i=0; i<p->nStream; i++) p->aStream[i].nOutAlloc = 0;
    return SQLITE_OK;   /* serial, over the references fetched */
  }
  /* The result arrays, each with its accumulators after it. */
  for(i=0; i<p->nStream; i++){
    AggStream *s = &p->aStream[i];
    unsigned char *a;
    int k;
    if( s->nOutAlloc==0 ) continue;
    a = sqlite3_malloc64((sqlite3_uint64)(s->nOutAlloc*nAccBytes));
    if( a==0 ) return SQLITE_NOMEM;
    s->aOut = (AggResult*)a;
    for(k=0; k<s->nOutAlloc; k++){
      s->aOut[k].aAcc = (TsAggAcc*)(a + sizeof(AggResult)*(size_t)s->nOutAlloc
                                    + sizeof(TsAggAcc)*(size_t)v->nAgg*(size_t)k);
    }
  }
  memset(&x, 0, sizeof(x));
  x.p = p;
  x.aQueue = sqlite3_malloc64(sizeof(int)*(size_t)p->nStream*2);
  if( x.aQueue==0 ) return SQLITE_NOMEM;
  x.aDone = &x.aQueue[p->nStream];
  if( pthread_mutex_init(&x.mu, 0) ){
    sqlite3_free(x.aQueue);
    return SQLITE_OK;   /* no mutex: serial */
  }
  if( pthread_cond_init(&x.cvWork, 0) ){
    pthread_mutex_destroy(&x.mu);
    sqlite3_free(x.aQueue);
    return SQLITE_OK;
  }
  for(i=0; i<p->nStream; i++){
    AggStream *s = &p->aStream[i];
    s->rcPar = 0;
    s->zParErr[0] = 0;
    s->nOut = s->iOut = 0;
  }
  startWorkers(&x, nThread<nBusy-1 ? nThread : nBusy-1);

  /* Read every stream's chunks, queue it, help while too much waits. */
  for(i=0; i<p->nStream && rc==SQLITE_OK; i++){
    AggStream *s = &p->aStream[i];
    int bCancel;
    rc = readAhead(p, s);
    if( rc==SQLITE_OK && s->aPre==0 ){
      /* No chunk: still a (empty) stream whose walk must be run. */
      s->aPre = sqlite3_malloc64(sizeof(AggPre));
      if( s->aPre==0 ) rc = SQLITE_NOMEM;
      else memset(s->aPre, 0, sizeof(AggPre));
    }
    if( rc ) break;
    pthread_mutex_lock(&x.mu);
    x.aQueue[x.nQueue++] = i;
    x.nBytes += preBytes(s);
    bCancel = x.bCancel;
    pthread_cond_signal(&x.cvWork);
    pthread_mutex_unlock(&x.mu);
    if( bCancel ) break;
    reclaim(&x);
    for(;;){
      sqlite3_int64 nWait;
      pthread_mutex_lock(&x.mu);
      nWait = x.nBytes;
      pthread_mutex_unlock(&x.mu);
      if( (nWait<=AGG_PAR_BYTES && x.nThread>0) || !helpOne(&x) ) break;
      reclaim(&x);
    }
  }
  if( rc==SQLITE_OK ){
    while( helpOne(&x) ) reclaim(&x);
  }
  joinWorkers(&x, rc!=SQLITE_OK);
  reclaim(&x);
  tsChunkReaderFree(x.pRd);
  pthread_cond_destroy(&x.cvWork);
  pthread_mutex_destroy(&x.mu);
  sqlite3_free(x.aQueue);
  for(i=0; i<p->nStream; i++){
    AggStream *s = &p->aStream[i];
    preFree(v, s);
    if( rc==SQLITE_OK && s->rcPar ){
      rc = s->rcPar;
      if( s->zParErr[0] ) tsVtabErr(p->base.pVtab, "%s", s->zParErr);
      else tsVtabErr(p->base.pVtab, "%s: %s", v->zName, sqlite3_errstr(rc));
    }
    s->bReplay = 1;
    s->bDone = 0;
    s->bStop = 0;
  }
  return rc;
}
