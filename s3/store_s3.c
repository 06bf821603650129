/*
** store_s3.c: the s3://bucket[/prefix] back end of the object store, on
** libcurl with our own SigV4 signer (sigv4.c) and expat (s3xml.c).
**
** Requests.  Every operation goes through s3Perform(), which builds the URL
** and the signed headers from one description (so the bytes on the wire are
** the bytes signed), runs it on the store's single curl easy handle (libcurl
** keeps the connection alive between requests), and classifies the outcome:
**
**   2xx                         success (for CompleteMultipartUpload,
**                               CopyObject and DeleteObjects the body is
**                               checked too: S3 can report <Error> in a 200)
**   curl timeout/reset/refused, retried: capped exponential backoff with
**   truncated body, 500 502 503 full jitter, sleep = rand(0, min(20 s,
**   504 429, RequestTimeout,    base * 2^(attempt-1))), base 100 ms, or 1 s
**   OperationAborted, SlowDown  for throttling (503/SlowDown/429)
**   403 RequestTimeTooSkewed    once: learn the offset from the Date header
**                               and re-sign
**   other 4xx                   never retried
**
** Every attempt is signed afresh (new x-amz-date) and the upload body is
** rewound.  The final error names the operation, bucket, key, HTTP status,
** S3 error code and message, and the attempts made; never a credential.
**
** Uploads.  tsObjPut is one PutObject with Content-MD5 and the SHA-256 of
** the body in x-amz-content-sha256, so the server verifies both.  The
** streaming writer buffers one part (8 MiB, TSLITE_S3_PART_SIZE); if the
** object stays smaller it becomes one PutObject at finish, otherwise a
** multipart upload: CreateMultipartUpload, UploadPart per buffer,
** CompleteMultipartUpload at finish.  Any failure, or tsObjWriterAbort,
** sends AbortMultipartUpload (best effort: s3rver answers 405, MinIO
** succeeds for unknown ids); an unfinished upload is never visible as an
** object.  If a retried Complete answers NoSuchUpload, the first attempt
** may have succeeded: a HEAD of the key with the expected size decides.
**
** Reads.  GetObject with "Range: bytes=first-last" (explicit ranges only:
** s3rver mishandles suffix ranges and 0-0).  The answer is checked against
** Content-Range and trimmed if the server sent more than asked (a 200 with
** the whole object, or a wider 206), so a server bug cannot hand back
** wrong bytes.
**
** Tunables (environment; see docs/object-storage.md): TSLITE_S3_TIMEOUT_MS
** (stall timeout, default 30000), TSLITE_S3_CONNECT_TIMEOUT_MS (10000),
** TSLITE_S3_RETRY_BASE_MS (100), TSLITE_S3_PART_SIZE (8 MiB, >= 5 MiB),
** TSLITE_S3_LIST_PAGE (max-keys per ListObjectsV2 page, default 1000).
*/
#include "objstore_int.h"
#include "endpoint.h"
#include "awsconf.h"
#include "sigv4.h"
#include "s3xml.h"
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S3_MAX_PARTS      10000
#define S3_MIN_PART       (5u << 20)
#define S3_DEFAULT_PART   (8u << 20)
#define S3_MAX_XML_BODY   (64u << 20)
#define S3_BACKOFF_CAP_MS 20000
#define S3_DELETE_BATCH   1000

typedef struct S3Store S3Store;
struct S3Store {
  TsObjStore base;
  TsAwsConf conf;        /* endpoint, region, credentials; owned */
  char *zBucket;         /* bucket name; owned */
  char *zPrefix;         /* "" or "dir/sub/" (always ends in '/'); owned */
  char *zBaseUrl;        /* "https://host[:port]" (vhost: bucket.host); owned */
  char *zHost;           /* Host header value, as sent and signed; owned */
  char *zBucketPath;     /* "/bucket" (path style) or "" (vhost); owned */
  char *zSseHeader;      /* x-amz-server-side-encryption value or NULL; owned */
  char *zKmsKey;         /* SSE-KMS key id or NULL; owned */
  CURL *curl;            /* one easy handle: connection reuse; owned */
  TsSigv4Cache sig;      /* signing-key cache */
  int64_t iSkewMs;       /* server clock minus ours, learned from a skew error */
  long nTimeoutMs;       /* stall timeout per request */
  long nConnectMs;       /* connect timeout */
  long nRetryBaseMs;     /* backoff base for transient faults (x10 for throttling) */
  size_t nPartSize;      /* multipart part size */
  int nListPage;         /* max-keys per ListObjectsV2 page */
  char *zHeadKey;        /* key of the last xHead answer; owned */
  char zHeadEtag[256];   /* etag of the last xHead answer */
  char zGetEtag[256];    /* etag of the last successful GetObject (xLastGetEtag) */
  char zPutEtag[256];    /* etag of the last object written (xLastPutEtag) */
  int bTrace;            /* TSLITE_S3_TRACE=1: requests and error bodies to stderr */
  char zCurlErr[CURL_ERROR_SIZE];
};

/* One request and its response. */
typedef struct S3Call S3Call;
struct S3Call {
  const char *zOp;              /* S3 operation name, for messages */
  const char *zMethod;          /* GET PUT POST DELETE HEAD */
  const char *zObjKey;          /* full object key (with the store prefix) or NULL */
  TsSigv4Kv aQ[6];              /* query parameters, unencoded */
  int nQ;
  TsSigv4Kv aH[8];              /* extra signed headers */
  int nH;
  const unsigned char *aBody;   /* request body; not owned */
  size_t nBody;
  TsBuf *pData;                 /* 2xx body is appended here; NULL: into body */
  int bCheck200;                /* look for <Error> inside a 2xx body */
  /* response */
  long iStatus;
  TsBuf body;                   /* non-data response body (XML) */
  char zEtag[256];
  char zLastModified[64];
  char zContentRange[128];
  char zDate[64];
  int64_t nContentLength;       /* -1 if absent */
  char zCode[128];              /* S3 error code */
  char zMsg[512];               /* S3 error message */
  int nAttempts;
  size_t nData0;                /* pData->n before the call */
  size_t nUpOff;                /* upload cursor */
  int bDataErr;                 /* pData overflowed (OOM or max) */
};

static pthread_once_t curlOnce = PTHREAD_ONCE_INIT;
static void curlInit(void){ curl_global_init(CURL_GLOBAL_DEFAULT); }

static long envLong(const char *zName, long iDefault){
  const char *z = getenv(zName);
  return (z && z[0]) ? atol(z) : iDefault;
}

static int64_t nowMs(void){
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec*1000 + ts.tv_nsec/1000000;
}
static int64_t monoMs(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec*1000 + ts.tv_nsec/1000000;
}

static void sleepMs(long ms){
  struct timespec ts;
  if( ms<=0 ) return;
  ts.tv_sec = ms/1000;
  ts.tv_nsec = (ms%1000)*1000000L;
  while( nanosleep(&ts, &ts)!=0 ){}
}

static uint32_t randU32(void){
  uint32_t u = 0;
  if( RAND_bytes((unsigned char*)&u, sizeof(u))!=1 ) u = (uint32_t)rand();
  return u;
}

/* "s3://bucket/dir/key" for messages. */
static char *fullName(S3Store *p, const char *zObjKey){
  return tsObjMprintf("s3://%s/%s", p->zBucket, zObjKey ? zObjKey : "");
}

/* ---- curl callbacks ---- */

static size_t onWrite(char *a, size_t sz, size_t nm, void *pArg){
  S3Call *c = (S3Call*)pArg;
  size_t n = sz*nm;
  if( c->pData && c->iStatus>=200 && c->iStatus<300 ){
    tsBufAppend(c->pData, a, n);
    if( c->pData->bErr ){ c->bDataErr = 1; return 0; }
  }else{
    if( c->body.n + n > S3_MAX_XML_BODY ) return 0;
    tsBufAppend(&c->body, a, n);
    if( c->body.bErr ) return 0;
  }
  return n;
}

static void copyHeaderValue(char *zOut, size_t nOut, const char *z, size_t n){
  while( n>0 && (*z==' ' || *z=='\t') ){ z++; n--; }
  while( n>0 && (z[n-1]=='\r' || z[n-1]=='\n' || z[n-1]==' ') ) n--;
  if( n>=nOut ) n = nOut - 1;
  memcpy(zOut, z, n);
  zOut[n] = 0;
}

static size_t onHeader(char *a, size_t sz, size_t nm, void *pArg){
  S3Call *c = (S3Call*)pArg;
  size_t n = sz*nm;
  const char *zColon;
  if( n>5 && memcmp(a, "HTTP/", 5)==0 ){
    /* A new response (after a redirect or 100): start over. */
    const char *zSp = memchr(a, ' ', n);
    c->iStatus = zSp ? atol(zSp + 1) : 0;
    c->zEtag[0] = c->zLastModified[0] = c->zContentRange[0] = c->zDate[0] = 0;
    c->nContentLength = -1;
    return n;
  }
  zColon = memchr(a, ':', n);
  if( zColon ){
    size_t nName = (size_t)(zColon - a);
    const char *zV = zColon + 1;
    size_t nV = n - nName - 1;
    if( nName==4 && strncasecmp(a, "etag", 4)==0 ){
      copyHeaderValue(c->zEtag, sizeof(c->zEtag), zV, nV);
    }else if( nName==13 && strncasecmp(a, "last-modified", 13)==0 ){
      copyHeaderValue(c->zLastModified, sizeof(c->zLastModified), zV, nV);
    }else if( nName==13 && strncasecmp(a, "content-range", 13)==0 ){
      copyHeaderValue(c->zContentRange, sizeof(c->zContentRange), zV, nV);
    }else if( nName==4 && strncasecmp(a, "date", 4)==0 ){
      copyHeaderValue(c->zDate, sizeof(c->zDate), zV, nV);
    }else if( nName==14 && strncasecmp(a, "content-length", 14)==0 ){
      char z[32];
      copyHeaderValue(z, sizeof(z), zV, nV);
      c->nContentLength = atoll(z);
    }
  }
  return n;
}

static size_t onRead(char *a, size_t sz, size_t nm, void *pArg){
  S3Call *c = (S3Call*)pArg;
  size_t n = sz*nm;
  size_t nLeft = c->nBody - c->nUpOff;
  if( n>nLeft ) n = nLeft;
  if( n ) memcpy(a, c->aBody + c->nUpOff, n);
  c->nUpOff += n;
  return n;
}

/* CURLOPT_SEEKFUNCTION: curl rewinds the body when it resends a request
** inside one perform (a reused connection found dead mid-send); without it
** that is CURLE_SEND_FAIL_REWIND, which no retry repairs. */
static int onSeek(void *pArg, curl_off_t iOff, int eOrigin){
  S3Call *c = (S3Call*)pArg;
  if( eOrigin!=SEEK_SET || iOff<0 || (size_t)iOff>c->nBody ) return CURL_SEEKFUNC_CANTSEEK;
  c->nUpOff = (size_t)iOff;
  return CURL_SEEKFUNC_OK;
}

/* ---- the request loop ---- */

/* TSLITE_S3_TRACE: print an error body to stderr, with the text of the
** elements that echo our canonical request elided.  AWS puts the canonical
** request (as text and as hex bytes) in SignatureDoesNotMatch answers, and
** its header lines carry x-amz-security-token: a credential. */
static void traceErrorBody(const char *z, size_t n){
  static const char *const azHide[] = { "CanonicalRequest>", "CanonicalRequestBytes>" };
  size_t i = 0;
  fputs("tslite s3: error body: ", stderr);
  while( i<n ){
    size_t k, nTag = 0;
    const char *zOpen = 0;
    for(k=0; k<sizeof(azHide)/sizeof(azHide[0]) && zOpen==0; k++){
      size_t m = strlen(azHide[k]);
      if( z[i]=='<' && n-i>m && memcmp(z+i+1, azHide[k], m)==0 ){ zOpen = azHide[k]; nTag = m; }
    }
    if( zOpen==0 ){ fputc(z[i++], stderr); continue; }
    /* "<Name>": print it, skip to "</Name>" (or the end of what we have). */
    fwrite(z+i, 1, nTag+1, stderr);
    i += nTag+1;
    while( i<n && !(z[i]=='<' && n-i>nTag+1 && z[i+1]=='/' && memcmp(z+i+2, zOpen, nTag)==0) ) i++;
    fputs("[elided]", stderr);
  }
  fputc('\n', stderr);
}

static int curlRetryable(CURLcode e){
  switch( e ){
    case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT: case CURLE_SEND_ERROR: case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING: case CURLE_PARTIAL_FILE: case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2: case CURLE_HTTP2_STREAM:
      return 1;
    default:
      return 0;
  }
}

static int isThrottle(long iStatus, const char *zCode){
  return iStatus==503 || iStatus==429 || strcmp(zCode, "SlowDown")==0
      || strcmp(zCode, "Throttling")==0 || strcmp(zCode, "ThrottlingException")==0
      || strcmp(zCode, "RequestLimitExceeded")==0;
}

static int httpRetryable(long iStatus, const char *zCode){
  if( iStatus==500 || iStatus==502 || iStatus==503 || iStatus==504 || iStatus==429 ) return 1;
  return strcmp(zCode, "RequestTimeout")==0 || strcmp(zCode, "OperationAborted")==0
      || strcmp(zCode, "InternalError")==0 || isThrottle(iStatus, zCode);
}

static void amzDate(int64_t iMs, char *zOut, size_t nOut){
  time_t t = (time_t)(iMs/1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(zOut, nOut, "%Y%m%dT%H%M%SZ", &tm);
}

static void base64(const unsigned char *a, int n, char *zOut){
  EVP_EncodeBlock((unsigned char*)zOut, a, n);
}

/* Content-MD5 value (base64 of the MD5 digest) of a[0..n). */
static void contentMd5(const void *a, size_t n, char *zOut /* >= 25 bytes */){
  unsigned char aMd5[16];
  unsigned int nMd5 = 16;
  EVP_Digest(a, n, aMd5, &nMd5, EVP_md5(), 0);
  base64(aMd5, 16, zOut);
}

typedef struct FindCtx FindCtx;
struct FindCtx { const char *zPath; char *zVal; };   /* first text of element zPath */
static int findCb(void *pArg, const char *zPath, const char *zText, size_t nText);
static int64_t parseIsoMs(const char *z);

/* Run one request with retries.  Returns TS_OBJ_OK on 2xx; on failure a
** result code (NOTFOUND for 404, RANGE for 416, NOMEM, else ERROR) and
** *pzErr describing it.  c's response fields describe the last attempt. */
static int s3Perform(S3Store *p, S3Call *c, const char *zMsgKey, char **pzErr){
  TsBuf url, path;
  TsSigv4Kv aSign[16];
  char zDate[20], zHash[65];
  int rc = TS_OBJ_ERROR;
  int bSkewRetried = 0;
  int i;
  CURLcode ce = CURLE_OK;
  int64_t t0 = monoMs();
  int nMax = p->conf.nMaxAttempts;
  char *zName;

  tsBufInit(&url);
  tsBufInit(&path);
  tsBufInit(&c->body);
  c->nAttempts = 0;
  c->nData0 = c->pData ? c->pData->n : 0;

  /* Path (unencoded, for the signer) and URL (encoded by the same rules). */
  tsBufAppendStr(&path, p->zBucketPath);
  tsBufAppendByte(&path, '/');
  if( c->zObjKey ) tsBufAppendStr(&path, c->zObjKey);
  if( c->zObjKey==0 && p->zBucketPath[0] ) path.n--;   /* bucket-level: "/bucket" */
  tsBufAppendStr(&url, p->zBaseUrl);
  tsSigv4Encode(&url, (const char*)path.a, path.n, 1);
  for(i=0; i<c->nQ; i++){
    const char *zV = c->aQ[i].zValue ? c->aQ[i].zValue : "";
    tsBufAppendByte(&url, i==0 ? '?' : '&');
    tsSigv4Encode(&url, c->aQ[i].zName, strlen(c->aQ[i].zName), 0);
    tsBufAppendByte(&url, '=');
    tsSigv4Encode(&url, zV, strlen(zV), 0);
  }
  tsBufAppendByte(&url, 0);
  tsBufAppendByte(&path, 0);
  path.n--;
  if( url.bErr || path.bErr ){
    tsBufFree(&url); tsBufFree(&path);
    tsObjErr(pzErr, "S3 %s: out of memory", c->zOp);
    return TS_OBJ_NOMEM;
  }
  tsSigv4Sha256Hex(c->aBody ? (const void*)c->aBody : (const void*)"", c->nBody, zHash);

  while( 1 ){
    struct curl_slist *pHdrs = 0;
    TsSigv4Req req;
    TsSigv4Out out;
    int nSign = 0;
    int bHdrOom = 0;
    long iDelay;

    c->nAttempts++;
    c->iStatus = 0;
    c->zCode[0] = c->zMsg[0] = 0;
    c->nContentLength = -1;
    c->nUpOff = 0;
    c->bDataErr = 0;
    tsBufReset(&c->body);
    if( c->pData ){ c->pData->n = c->nData0; c->pData->bErr = 0; }

    amzDate(nowMs() + p->iSkewMs, zDate, sizeof(zDate));
    aSign[nSign].zName = "host"; aSign[nSign++].zValue = p->zHost;
    aSign[nSign].zName = "x-amz-content-sha256"; aSign[nSign++].zValue = zHash;
    aSign[nSign].zName = "x-amz-date"; aSign[nSign++].zValue = zDate;
    if( p->conf.zToken ){ aSign[nSign].zName = "x-amz-security-token"; aSign[nSign++].zValue = p->conf.zToken; }
    for(i=0; i<c->nH; i++) aSign[nSign++] = c->aH[i];
    memset(&req, 0, sizeof(req));
    req.zMethod = c->zMethod;
    req.zPath = (const char*)path.a;
    req.aQuery = c->aQ; req.nQuery = c->nQ;
    req.aHeader = aSign; req.nHeader = nSign;
    req.zPayloadHash = zHash;
    req.zAmzDate = zDate;
    req.zRegion = p->conf.zRegion;
    req.zService = "s3";
    req.zAccessKey = p->conf.zAccessKey;
    req.zSecretKey = p->conf.zSecretKey;
    if( tsSigv4Sign(&req, &p->sig, &out) ){
      rc = TS_OBJ_NOMEM;
      tsObjErr(pzErr, "S3 %s: out of memory while signing", c->zOp);
      break;
    }
    /* Header lines are built at their full length: session tokens run to
    ** kilobytes, and a truncated header would only show up as a 403. */
    for(i=0; i<=nSign; i++){
      char *zLine = i<nSign ? tsObjMprintf("%s: %s", aSign[i].zName, aSign[i].zValue)
                            : tsObjMprintf("Authorization: %s", out.zAuthorization);
      struct curl_slist *pNew = zLine ? curl_slist_append(pHdrs, zLine) : 0;
      free(zLine);
      if( pNew==0 ){ bHdrOom = 1; break; }
      pHdrs = pNew;
    }
    pHdrs = curl_slist_append(pHdrs, "Expect:");
    pHdrs = curl_slist_append(pHdrs, "Accept:");
    if( strcmp(c->zMethod, "POST")==0 ) pHdrs = curl_slist_append(pHdrs, "Content-Type:");
    tsSigv4OutFree(&out);
    if( bHdrOom ){
      curl_slist_free_all(pHdrs);
      rc = TS_OBJ_NOMEM;
      tsObjErr(pzErr, "S3 %s: out of memory", c->zOp);
      break;
    }

    curl_easy_reset(p->curl);
    curl_easy_setopt(p->curl, CURLOPT_URL, (const char*)url.a);
    curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, pHdrs);
    curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(p->curl, CURLOPT_PATH_AS_IS, 1L);   /* send "//" exactly as signed */
    curl_easy_setopt(p->curl, CURLOPT_ERRORBUFFER, p->zCurlErr);
    curl_easy_setopt(p->curl, CURLOPT_USERAGENT, "tslite");
    curl_easy_setopt(p->curl, CURLOPT_CONNECTTIMEOUT_MS, p->nConnectMs);
    curl_easy_setopt(p->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(p->curl, CURLOPT_LOW_SPEED_TIME, p->nTimeoutMs<1000 ? 1L : p->nTimeoutMs/1000);
    curl_easy_setopt(p->curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(p->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(p->curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(p->curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if( p->conf.zCaBundle ) curl_easy_setopt(p->curl, CURLOPT_CAINFO, p->conf.zCaBundle);
    curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, onWrite);
    curl_easy_setopt(p->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(p->curl, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(p->curl, CURLOPT_HEADERDATA, c);
    if( strcmp(c->zMethod, "PUT")==0 ){
      curl_easy_setopt(p->curl, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(p->curl, CURLOPT_READFUNCTION, onRead);
      curl_easy_setopt(p->curl, CURLOPT_READDATA, c);
      curl_easy_setopt(p->curl, CURLOPT_SEEKFUNCTION, onSeek);
      curl_easy_setopt(p->curl, CURLOPT_SEEKDATA, c);
      curl_easy_setopt(p->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->nBody);
    }else if( strcmp(c->zMethod, "POST")==0 ){
      curl_easy_setopt(p->curl, CURLOPT_POST, 1L);
      curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, c->aBody ? (const char*)c->aBody : "");
      curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->nBody);
    }else if( strcmp(c->zMethod, "HEAD")==0 ){
      curl_easy_setopt(p->curl, CURLOPT_NOBODY, 1L);
    }else if( strcmp(c->zMethod, "DELETE")==0 ){
      curl_easy_setopt(p->curl, CURLOPT_CUSTOMREQUEST, "DELETE");
    }
    p->zCurlErr[0] = 0;
    ce = curl_easy_perform(p->curl);
    curl_slist_free_all(pHdrs);

    if( p->bTrace ){
      fprintf(stderr, "tslite s3: %s %s -> %s %ld (attempt %d)\n", c->zMethod, (const char*)url.a,
              ce==CURLE_OK ? "HTTP" : curl_easy_strerror(ce), c->iStatus, c->nAttempts);
    }
    if( ce==CURLE_OK ){
      curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &c->iStatus);
      if( p->bTrace && (c->iStatus<200 || c->iStatus>=300) && c->body.n ){
        traceErrorBody((const char*)c->body.a, c->body.n<4000 ? c->body.n : 4000);
      }
      if( c->iStatus>=200 && c->iStatus<300 ){
        if( c->bCheck200 && tsS3XmlError((const char*)c->body.a, c->body.n, c->zCode,
                                         sizeof(c->zCode), c->zMsg, sizeof(c->zMsg)) ){
          /* error inside a 200: classify like a 500 with that code */
        }else{
          rc = TS_OBJ_OK;
          break;
        }
      }else{
        tsS3XmlError((const char*)c->body.a, c->body.n, c->zCode, sizeof(c->zCode),
                     c->zMsg, sizeof(c->zMsg));
      }
      if( c->iStatus==403 && strcmp(c->zCode, "RequestTimeTooSkewed")==0 && !bSkewRetried ){
        /* The server's clock: the Date header, else <ServerTime> of the body. */
        int64_t iServerMs = -1;
        bSkewRetried = 1;
        if( c->zDate[0] ){
          time_t t = curl_getdate(c->zDate, 0);
          if( t>0 ) iServerMs = (int64_t)t*1000;
        }
        if( iServerMs<0 ){
          FindCtx f;
          f.zPath = "Error/ServerTime";
          f.zVal = 0;
          tsS3XmlWalk((const char*)c->body.a, c->body.n, findCb, &f);
          if( f.zVal ) iServerMs = parseIsoMs(f.zVal);
          free(f.zVal);
        }
        if( iServerMs>0 ){
          p->iSkewMs = iServerMs - nowMs();
          continue;   /* re-sign with the server's clock, no backoff */
        }
      }
      if( !httpRetryable(c->iStatus, c->zCode) || (c->iStatus>=200 && c->iStatus<300 && !c->zCode[0]) ){
        break;
      }
    }else if( c->bDataErr || !curlRetryable(ce) ){
      break;
    }
    if( c->nAttempts>=nMax ) break;
    /* Full-jitter capped exponential backoff. */
    iDelay = (ce==CURLE_OK && isThrottle(c->iStatus, c->zCode)) ? p->nRetryBaseMs*10 : p->nRetryBaseMs;
    {
      int64_t iCap = (int64_t)iDelay << (c->nAttempts - 1 < 20 ? c->nAttempts - 1 : 20);
      if( iCap > S3_BACKOFF_CAP_MS ) iCap = S3_BACKOFF_CAP_MS;
      sleepMs((long)(randU32() % (uint32_t)(iCap + 1)));
    }
  }

  if( rc!=TS_OBJ_OK && rc!=TS_OBJ_NOMEM ){
    double secs = (double)(monoMs() - t0)/1000.0;
    zName = fullName(p, c->zObjKey ? c->zObjKey : zMsgKey);
    if( ce!=CURLE_OK ){
      if( c->bDataErr ){
        rc = TS_OBJ_NOMEM;
        tsObjErr(pzErr, "S3 %s %s: out of memory for the response body", c->zOp, zName ? zName : "");
      }else{
        tsObjErr(pzErr, "S3 %s %s failed: %s (curl error %d: %s) after %d attempt%s in %.1f s",
                 c->zOp, zName ? zName : "", curl_easy_strerror(ce), (int)ce,
                 p->zCurlErr[0] ? p->zCurlErr : "-", c->nAttempts, c->nAttempts==1 ? "" : "s", secs);
      }
    }else{
      if( c->iStatus==404 ) rc = TS_OBJ_NOTFOUND;
      else if( c->iStatus==416 ) rc = TS_OBJ_RANGE;
      tsObjErr(pzErr, "S3 %s %s failed: HTTP %ld%s%s%s%s after %d attempt%s in %.1f s%s", c->zOp,
               zName ? zName : "", c->iStatus,
               c->zCode[0] ? " " : (c->iStatus>=200 && c->iStatus<300 ? "" : " (no error body)"),
               c->zCode, c->zMsg[0] ? ": " : "", c->zMsg,
               c->nAttempts, c->nAttempts==1 ? "" : "s", secs,
               (c->iStatus==403 && c->zCode[0]==0 && strcmp(c->zMethod, "HEAD")==0)
                 ? " (HEAD of a missing key answers 403 without s3:ListBucket permission)" : "");
    }
    free(zName);
  }
  tsBufFree(&url);
  tsBufFree(&path);
  return rc;
}

static void callFree(S3Call *c){ tsBufFree(&c->body); }

/* Full object key for a store key (malloc'd). */
static char *objKey(S3Store *p, const char *zKey){
  return tsObjMprintf("%s%s", p->zPrefix, zKey);
}

static void addSse(S3Store *p, S3Call *c){
  if( p->zSseHeader ){
    c->aH[c->nH].zName = "x-amz-server-side-encryption";
    c->aH[c->nH++].zValue = p->zSseHeader;
    if( p->zKmsKey ){
      c->aH[c->nH].zName = "x-amz-server-side-encryption-aws-kms-key-id";
      c->aH[c->nH++].zValue = p->zKmsKey;
    }
  }
}

static void stripQuotes(const char *zIn, char *zOut, size_t nOut){
  size_t n = strlen(zIn);
  if( n>=2 && zIn[0]=='"' && zIn[n-1]=='"' ){ zIn++; n -= 2; }
  if( n>=nOut ) n = nOut - 1;
  memcpy(zOut, zIn, n);
  zOut[n] = 0;
}

/* ---- operations ---- */

static int s3PutFull(S3Store *p, const char *zFull, const void *a, size_t n, char **pzErr){
  S3Call c;
  char zMd5[32];
  int rc;
  memset(&c, 0, sizeof(c));
  p->zPutEtag[0] = 0;
  contentMd5(a ? a : "", n, zMd5);
  c.zOp = "PutObject";
  c.zMethod = "PUT";
  c.zObjKey = zFull;
  c.aBody = (const unsigned char*)a;
  c.nBody = n;
  c.aH[c.nH].zName = "content-md5"; c.aH[c.nH++].zValue = zMd5;
  addSse(p, &c);
  rc = s3Perform(p, &c, zFull, pzErr);
  if( rc==TS_OBJ_OK ) stripQuotes(c.zEtag, p->zPutEtag, sizeof(p->zPutEtag));
  callFree(&c);
  return rc;
}

static int s3Put(TsObjStore *pBase, const char *zKey, const void *a, size_t n, char **pzErr){
  S3Store *p = (S3Store*)pBase;
  char *zFull = objKey(p, zKey);
  int rc;
  if( zFull==0 ) return TS_OBJ_NOMEM;
  rc = s3PutFull(p, zFull, a, n, pzErr);
  free(zFull);
  return rc;
}

static int s3Head(TsObjStore *pBase, const char *zKey, TsObjInfo *pInfo, char **pzErr){
  S3Store *p = (S3Store*)pBase;
  S3Call c;
  char *zFull = objKey(p, zKey);
  int rc;
  memset(pInfo, 0, sizeof(*pInfo));
  if( zFull==0 ) return TS_OBJ_NOMEM;
  memset(&c, 0, sizeof(c));
  c.zOp = "HeadObject";
  c.zMethod = "HEAD";
  c.zObjKey = zFull;
  rc = s3Perform(p, &c, zKey, pzErr);
  if( rc==TS_OBJ_OK ){
    free(p->zHeadKey);
    p->zHeadKey = tsObjStrdup(zKey);
    if( p->zHeadKey==0 ) rc = TS_OBJ_NOMEM;
    stripQuotes(c.zEtag, p->zHeadEtag, sizeof(p->zHeadEtag));
    pInfo->zKey = p->zHeadKey;
    pInfo->zEtag = p->zHeadEtag;
    pInfo->nSize = c.nContentLength;
    if( c.zLastModified[0] ){
      time_t t = curl_getdate(c.zLastModified, 0);
      if( t>0 ) pInfo->iMtimeMs = (int64_t)t*1000;
    }
    if( c.nContentLength<0 ){
      tsObjErr(pzErr, "S3 HeadObject s3://%s/%s: response has no Content-Length", p->zBucket, zFull);
      rc = TS_OBJ_ERROR;
    }
  }
  callFree(&c);
  free(zFull);
  return rc;
}

/* Parse "bytes a-b/total" into *piFirst. */
static int parseContentRange(const char *z, int64_t *piFirst, int64_t *piTotal){
  long long a, b, t;
  if( sscanf(z, "bytes %lld-%lld/%lld", &a, &b, &t)==3 ){
    *piFirst = a;
    *piTotal = t;
    return 0;
  }
  return 1;
}

static int s3Get(TsObjStore *pBase, const char *zKey, int64_t iOff, int64_t nLen,
                 TsBuf *pOut, char **pzErr){
  S3Store *p = (S3Store*)pBase;
  S3Call c;
  char zRange[80];
  char *zFull;
  int rc;
  size_t n0 = pOut->n;
  if( nLen==0 ){
    /* Nothing to read; still report a missing object or a bad offset. */
    TsObjInfo info;
    rc = s3Head(pBase, zKey, &info, pzErr);
    if( rc==TS_OBJ_OK && iOff>=info.nSize && !(iOff==0 && info.nSize==0) ){
      tsObjErr(pzErr, "S3 GetObject s3://%s/%s%s: range offset %lld is beyond the object size %lld",
               p->zBucket, p->zPrefix, zKey, (long long)iOff, (long long)info.nSize);
      rc = TS_OBJ_RANGE;
    }
    return rc;
  }
  zFull = objKey(p, zKey);
  if( zFull==0 ) return TS_OBJ_NOMEM;
  memset(&c, 0, sizeof(c));
  c.zOp = "GetObject";
  c.zMethod = "GET";
  c.zObjKey = zFull;
  c.pData = pOut;
  if( iOff>0 || nLen>0 ){
    if( nLen>0 ) snprintf(zRange, sizeof(zRange), "bytes=%lld-%lld", (long long)iOff, (long long)(iOff + nLen - 1));
    else snprintf(zRange, sizeof(zRange), "bytes=%lld-", (long long)iOff);
    c.aH[c.nH].zName = "range"; c.aH[c.nH++].zValue = zRange;
  }
  rc = s3Perform(p, &c, zKey, pzErr);
  if( rc==TS_OBJ_RANGE && iOff==0 ){
    /* 416 for bytes=0-N of an empty object: that is an empty read. */
    TsObjInfo info;
    int rc2 = s3Head(pBase, zKey, &info, 0);
    if( rc2==TS_OBJ_OK && info.nSize==0 ) rc = TS_OBJ_OK;
  }else if( rc==TS_OBJ_OK ){
    /* Check what came back against what was asked; trim any excess. */
    int64_t iFirst = 0, iTotal = -1;
    int64_t nGot = (int64_t)(pOut->n - n0);
    if( c.iStatus==206 && parseContentRange(c.zContentRange, &iFirst, &iTotal) ){
      rc = TS_OBJ_ERROR;
      tsObjErr(pzErr, "S3 GetObject s3://%s/%s: 206 response with bad Content-Range '%s'",
               p->zBucket, zFull, c.zContentRange);
    }else if( c.iStatus==200 ){
      iFirst = 0;
      iTotal = nGot;
    }
    if( rc==TS_OBJ_OK && (iFirst>iOff || (c.iStatus==200 && iOff>0 && iOff>=iTotal)) ){
      rc = iFirst>iOff ? TS_OBJ_ERROR : TS_OBJ_RANGE;
      tsObjErr(pzErr, "S3 GetObject s3://%s/%s: %s", p->zBucket, zFull,
               rc==TS_OBJ_RANGE ? "range offset is beyond the object size"
                                : "server returned a range that does not start at the offset asked");
    }
    if( rc==TS_OBJ_OK ){
      int64_t nSkip = iOff - iFirst;
      int64_t nKeep = nGot - nSkip;
      if( nLen>=0 && nKeep>nLen ) nKeep = nLen;
      if( nKeep<0 ) nKeep = 0;
      if( nSkip>0 && nKeep>0 ) memmove(pOut->a + n0, pOut->a + n0 + nSkip, (size_t)nKeep);
      pOut->n = n0 + (size_t)nKeep;
      if( c.nContentLength>=0 && nGot!=c.nContentLength ){
        rc = TS_OBJ_ERROR;
        tsObjErr(pzErr, "S3 GetObject s3://%s/%s: body of %lld bytes, Content-Length %lld",
                 p->zBucket, zFull, (long long)nGot, (long long)c.nContentLength);
      }
    }
  }
  if( rc!=TS_OBJ_OK ) pOut->n = n0;
  else stripQuotes(c.zEtag, p->zGetEtag, sizeof(p->zGetEtag));
  callFree(&c);
  free(zFull);
  return rc;
}

static const char *s3LastGetEtag(TsObjStore *pBase){
  return ((S3Store*)pBase)->zGetEtag;
}

static const char *s3LastPutEtag(TsObjStore *pBase){
  return ((S3Store*)pBase)->zPutEtag;
}

static int s3Delete(TsObjStore *pBase, const char *zKey, char **pzErr){
  S3Store *p = (S3Store*)pBase;
  S3Call c;
  char *zFull = objKey(p, zKey);
  int rc;
  if( zFull==0 ) return TS_OBJ_NOMEM;
  memset(&c, 0, sizeof(c));
  c.zOp = "DeleteObject";
  c.zMethod = "DELETE";
  c.zObjKey = zFull;
  rc = s3Perform(p, &c, zKey, pzErr);
  if( rc==TS_OBJ_NOTFOUND && strcmp(c.zCode, "NoSuchBucket")!=0 ){
    rc = TS_OBJ_OK;   /* deleting a missing key succeeds */
    if( pzErr ){ free(*pzErr); *pzErr = 0; }
  }
  callFree(&c);
  free(zFull);
  return rc;
}

static void xmlEscape(TsBuf *b, const char *z){
  for(; *z; z++){
    switch( *z ){
      case '&': tsBufAppendStr(b, "&amp;"); break;
      case '<': tsBufAppendStr(b, "&lt;"); break;
      case '>': tsBufAppendStr(b, "&gt;"); break;
      case '"': tsBufAppendStr(b, "&quot;"); break;
      case '\'': tsBufAppendStr(b, "&apos;"); break;
      default: tsBufAppendByte(b, (unsigned char)*z);
    }
  }
}

typedef struct DelCtx DelCtx;
struct DelCtx {
  int nErr;
  char zKey[1100], zCode[128], zMsg[256];   /* first failure */
  char zCurKey[1100], zCurCode[128], zCurMsg[256];
};
static int delCb(void *pArg, const char *zPath, const char *zText, size_t nText){
  DelCtx *d = (DelCtx*)pArg;
  (void)nText;
  if( strcmp(zPath, "DeleteResult/Error/Key")==0 ) snprintf(d->zCurKey, sizeof(d->zCurKey), "%s", zText);
  else if( strcmp(zPath, "DeleteResult/Error/Code")==0 ) snprintf(d->zCurCode, sizeof(d->zCurCode), "%s", zText);
  else if( strcmp(zPath, "DeleteResult/Error/Message")==0 ) snprintf(d->zCurMsg, sizeof(d->zCurMsg), "%s", zText);
  else if( strcmp(zPath, "DeleteResult/Error")==0 ){
    if( d->nErr++==0 ){
      memcpy(d->zKey, d->zCurKey, sizeof(d->zKey));
      memcpy(d->zCode, d->zCurCode, sizeof(d->zCode));
      memcpy(d->zMsg, d->zCurMsg, sizeof(d->zMsg));
    }
    d->zCurKey[0] = d->zCurCode[0] = d->zCurMsg[0] = 0;
  }
  return 0;
}

static int s3DeleteMany(TsObjStore *pBase, const char *const *azKey, int nKey, char **pzErr){
  S3Store *p = (S3Store*)pBase;
  int iStart, rc = TS_OBJ_OK;
  for(iStart=0; iStart<nKey && rc==TS_OBJ_OK; iStart+=S3_DELETE_BATCH){
    int i, nBatch = nKey - iStart < S3_DELETE_BATCH ? nKey - iStart : S3_DELETE_BATCH;
    TsBuf b;
    S3Call c;
    char zMd5[32];
    DelCtx d;
    tsBufInit(&b);
    tsBufAppendStr(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                   "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>");
    for(i=0; i<nBatch; i++){
      tsBufAppendStr(&b, "<Object><Key>");
      tsBufAppendStr(&b, p->zPrefix);
      xmlEscape(&b, azKey[iStart + i]);
      tsBufAppendStr(&b, "</Key></Object>");
    }
    tsBufAppendStr(&b, "</Delete>");
    if( b.bErr ){ tsBufFree(&b); tsObjErr(pzErr, "S3 DeleteObjects: out of memory"); return TS_OBJ_NOMEM; }
    contentMd5(b.a, b.n, zMd5);
    memset(&c, 0, sizeof(c));
    c.zOp = "DeleteObjects";
    c.zMethod = "POST";
    c.aQ[c.nQ].zName = "delete"; c.aQ[c.nQ++].zValue = "";
    c.aH[c.nH].zName = "content-md5"; c.aH[c.nH++].zValue = zMd5;
    c.aBody = b.a;
    c.nBody = b.n;
    c.bCheck200 = 1;
    rc = s3Perform(p, &c, 0, pzErr);
    if( rc==TS_OBJ_OK ){
      memset(&d, 0, sizeof(d));
      if( tsS3XmlWalk((const char*)c.body.a, c.body.n, delCb, &d) ){
        tsObjErr(pzErr, "S3 DeleteObjects s3://%s: unparseable response (HTTP %ld)", p->zBucket, c.iStatus);
        rc = TS_OBJ_ERROR;
      }else if( d.nErr ){
        tsObjErr(pzErr, "S3 DeleteObjects s3://%s: %d of %d keys failed; first: s3://%s/%s: %s: %s",
                 p->zBucket, d.nErr, nBatch, p->zBucket, d.zKey, d.zCode, d.zMsg);
        rc = TS_OBJ_ERROR;
      }
    }
    callFree(&c);
    tsBufFree(&b);
  }
  return rc;
}

static int s3Copy(TsObjStore *pBase, const char *zSrc, const char *zDst, char **pzErr){
  S3Store *p = (S3Store*)pBase;
  S3Call c;
  TsBuf src;
  char *zFull = objKey(p, zDst);
  char *zSrcFull = objKey(p, zSrc);
  int rc;
  tsBufInit(&src);
  if( zFull==0 || zSrcFull==0 ){ free(zFull); free(zSrcFull); return TS_OBJ_NOMEM; }
  tsBufAppendByte(&src, '/');
  tsBufAppendStr(&src, p->zBucket);
  tsBufAppendByte(&src, '/');
  tsSigv4Encode(&src, zSrcFull, strlen(zSrcFull), 1);
  tsBufAppendByte(&src, 0);
  memset(&c, 0, sizeof(c));
  c.zOp = "CopyObject";
  c.zMethod = "PUT";
  c.zObjKey = zFull;
  c.bCheck200 = 1;
  if( !src.bErr ){ c.aH[c.nH].zName = "x-amz-copy-source"; c.aH[c.nH++].zValue = (const char*)src.a; }
  addSse(p, &c);
  rc = src.bErr ? TS_OBJ_NOMEM : s3Perform(p, &c, zDst, pzErr);
  if( rc==TS_OBJ_NOTFOUND ){
    tsObjErr(pzErr, "S3 CopyObject s3://%s/%s to s3://%s/%s failed: HTTP 404 %s: %s", p->zBucket,
             zSrcFull, p->zBucket, zFull, c.zCode, c.zMsg);
  }
  callFree(&c);
  tsBufFree(&src);
  free(zFull);
  free(zSrcFull);
  return rc;
}

/* CopyObject from another S3 store (another bucket or prefix) into this one:
** possible when both talk to the same endpoint with the same access key (the
** request is signed with this store's credentials and must be allowed to
** read the source).  Else TS_OBJ_NOCOPY with nothing sent. */
static int s3CopyFrom(TsObjStore *pBase, const char *zDst, TsObjStore *pSrcBase,
                      const char *zSrc, char **pzErr){
  S3Store *p = (S3Store*)pBase;
  S3Store *q = (S3Store*)pSrcBase;
  S3Call c;
  TsBuf src;
  char *zFull, *zSrcFull;
  int rc;
  if( pSrcBase->pM!=pBase->pM ) return TS_OBJ_NOCOPY;
  if( (p->conf.zEndpoint==0)!=(q->conf.zEndpoint==0)
   || (p->conf.zEndpoint && strcmp(p->conf.zEndpoint, q->conf.zEndpoint)!=0)
   || strcmp(p->conf.zRegion, q->conf.zRegion)!=0
   || strcmp(p->conf.zAccessKey, q->conf.zAccessKey)!=0 ){
    return TS_OBJ_NOCOPY;
  }
  zFull = objKey(p, zDst);
  zSrcFull = objKey(q, zSrc);
  tsBufInit(&src);
  if( zFull==0 || zSrcFull==0 ){ free(zFull); free(zSrcFull); return TS_OBJ_NOMEM; }
  tsBufAppendByte(&src, '/');
  tsBufAppendStr(&src, q->zBucket);
  tsBufAppendByte(&src, '/');
  tsSigv4Encode(&src, zSrcFull, strlen(zSrcFull), 1);
  tsBufAppendByte(&src, 0);
  /* '=' (Hive folders "date=...") is sent unencoded: S3 decodes the header
  ** either way, but s3rver decodes it with decodeURI, which keeps "%3D". */
  if( !src.bErr ){
    char *z = (char*)src.a, *w = z;
    for(; *z; z++){
      if( z[0]=='%' && z[1]=='3' && z[2]=='D' ){ *w++ = '='; z += 2; }
      else *w++ = *z;
    }
    *w = 0;
  }
  memset(&c, 0, sizeof(c));
  c.zOp = "CopyObject";
  c.zMethod = "PUT";
  c.zObjKey = zFull;
  c.bCheck200 = 1;
  if( !src.bErr ){ c.aH[c.nH].zName = "x-amz-copy-source"; c.aH[c.nH++].zValue = (const char*)src.a; }
  addSse(p, &c);
  rc = src.bErr ? TS_OBJ_NOMEM : s3Perform(p, &c, zDst, pzErr);
  if( rc==TS_OBJ_NOTFOUND ){
    tsObjErr(pzErr, "S3 CopyObject s3://%s/%s to s3://%s/%s failed: HTTP 404 %s: %s", q->zBucket,
             zSrcFull, p->zBucket, zFull, c.zCode, c.zMsg);
  }
  callFree(&c);
  tsBufFree(&src);
  free(zFull);
  free(zSrcFull);
  return rc;
}

/* ---- ListObjectsV2 ---- */

typedef struct ListEntry ListEntry;
struct ListEntry { char *zKey; int64_t nSize; int64_t iMtimeMs; char *zEtag; };
typedef struct ListPage ListPage;
struct ListPage {
  ListEntry *a;
  int n, nAlloc;
  ListEntry cur;
  int bTruncated;
  char *zNext;
  int bOom;
};

static int64_t parseIsoMs(const char *z){
  int y, mo, d, h, mi, s, ms = 0;
  struct tm tm;
  if( sscanf(z, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s)!=6 ) return 0;
  {
    const char *zDot = strchr(z, '.');
    if( zDot ){
      int k;
      for(k=1; k<=3 && zDot[k]>='0' && zDot[k]<='9'; k++) ms = ms*10 + (zDot[k]-'0');
      for(; k<=3; k++) ms *= 10;
    }
  }
  memset(&tm, 0, sizeof(tm));
  tm.tm_year = y - 1900; tm.tm_mon = mo - 1; tm.tm_mday = d;
  tm.tm_hour = h; tm.tm_min = mi; tm.tm_sec = s;
  return (int64_t)timegm(&tm)*1000 + ms;
}

static int listCb(void *pArg, const char *zPath, const char *zText, size_t nText){
  ListPage *l = (ListPage*)pArg;
  (void)nText;
  if( strncmp(zPath, "ListBucketResult/", 17)!=0 ) return 0;
  zPath += 17;
  if( strcmp(zPath, "Contents/Key")==0 ){
    free(l->cur.zKey);
    l->cur.zKey = tsObjStrdup(zText);
  }else if( strcmp(zPath, "Contents/Size")==0 ){
    l->cur.nSize = atoll(zText);
  }else if( strcmp(zPath, "Contents/LastModified")==0 ){
    l->cur.iMtimeMs = parseIsoMs(zText);
  }else if( strcmp(zPath, "Contents/ETag")==0 ){
    char z[256];
    stripQuotes(zText, z, sizeof(z));
    free(l->cur.zEtag);
    l->cur.zEtag = tsObjStrdup(z);
  }else if( strcmp(zPath, "Contents")==0 ){
    if( l->cur.zKey==0 ){ l->bOom = 1; return 1; }
    if( l->n==l->nAlloc ){
      int nNew = l->nAlloc ? l->nAlloc*2 : 64;
      ListEntry *aNew = realloc(l->a, (size_t)nNew*sizeof(ListEntry));
      if( aNew==0 ){ l->bOom = 1; return 1; }
      l->a = aNew;
      l->nAlloc = nNew;
    }
    l->a[l->n++] = l->cur;
    memset(&l->cur, 0, sizeof(l->cur));
  }else if( strcmp(zPath, "IsTruncated")==0 ){
    l->bTruncated = strcmp(zText, "true")==0;
  }else if( strcmp(zPath, "NextContinuationToken")==0 ){
    free(l->zNext);
    l->zNext = tsObjStrdup(zText);
  }
  return 0;
}

static void listPageFree(ListPage *l){
  int i;
  for(i=0; i<l->n; i++){ free(l->a[i].zKey); free(l->a[i].zEtag); }
  free(l->a);
  free(l->cur.zKey);
  free(l->cur.zEtag);
  free(l->zNext);
  memset(l, 0, sizeof(*l));
}

static int s3List(TsObjStore *pBase, const char *zPrefix,
                  int (*xCb)(void*, const TsObjInfo*), void *pCtx, char **pzErr){
  S3Store *p = (S3Store*)pBase;
  char *zFullPrefix = objKey(p, zPrefix);
  char *zToken = 0;
  char zMax[16];
  size_t nStorePrefix = strlen(p->zPrefix);
  int rc = TS_OBJ_OK, bStop = 0, nPage = 0;
  if( zFullPrefix==0 ) return TS_OBJ_NOMEM;
  snprintf(zMax, sizeof(zMax), "%d", p->nListPage);
  while( rc==TS_OBJ_OK && !bStop ){
    S3Call c;
    ListPage l;
    int i;
    memset(&c, 0, sizeof(c));
    memset(&l, 0, sizeof(l));
    c.zOp = "ListObjectsV2";
    c.zMethod = "GET";
    c.aQ[c.nQ].zName = "list-type"; c.aQ[c.nQ++].zValue = "2";
    c.aQ[c.nQ].zName = "max-keys"; c.aQ[c.nQ++].zValue = zMax;
    if( zFullPrefix[0] ){ c.aQ[c.nQ].zName = "prefix"; c.aQ[c.nQ++].zValue = zFullPrefix; }
    if( zToken ){ c.aQ[c.nQ].zName = "continuation-token"; c.aQ[c.nQ++].zValue = zToken; }
    rc = s3Perform(p, &c, zFullPrefix, pzErr);
    if( rc==TS_OBJ_OK ){
      char zRoot[64];
      tsS3XmlRoot((const char*)c.body.a, c.body.n, zRoot, sizeof(zRoot));
      if( strcmp(zRoot, "ListBucketResult")!=0
       || tsS3XmlWalk((const char*)c.body.a, c.body.n, listCb, &l) ){
        rc = l.bOom ? TS_OBJ_NOMEM : TS_OBJ_ERROR;
        tsObjErr(pzErr, "S3 ListObjectsV2 s3://%s/%s: %s (page %d)", p->zBucket, zFullPrefix,
                 l.bOom ? "out of memory" : "malformed XML response", nPage + 1);
      }else if( l.bTruncated && (l.zNext==0 || l.zNext[0]==0) ){
        rc = TS_OBJ_ERROR;
        tsObjErr(pzErr, "S3 ListObjectsV2 s3://%s/%s: truncated page %d without NextContinuationToken",
                 p->zBucket, zFullPrefix, nPage + 1);
      }else if( l.bTruncated && zToken && strcmp(l.zNext, zToken)==0 ){
        /* The same page again would follow, forever. */
        rc = TS_OBJ_ERROR;
        tsObjErr(pzErr, "S3 ListObjectsV2 s3://%s/%s: page %d repeated the continuation token "
                 "of the page before (server bug; the listing would never end)",
                 p->zBucket, zFullPrefix, nPage + 1);
      }
    }
    for(i=0; rc==TS_OBJ_OK && i<l.n && !bStop; i++){
      TsObjInfo info;
      if( strncmp(l.a[i].zKey, p->zPrefix, nStorePrefix)!=0 ) continue;
      memset(&info, 0, sizeof(info));
      info.zKey = l.a[i].zKey + nStorePrefix;
      info.nSize = l.a[i].nSize;
      info.iMtimeMs = l.a[i].iMtimeMs;
      info.zEtag = l.a[i].zEtag ? l.a[i].zEtag : "";
      bStop = xCb(pCtx, &info)!=0;
    }
    nPage++;
    free(zToken);
    zToken = 0;
    if( rc==TS_OBJ_OK && l.bTruncated ){
      zToken = l.zNext;
      l.zNext = 0;
    }else{
      bStop = 1;
    }
    listPageFree(&l);
    callFree(&c);
  }
  free(zToken);
  free(zFullPrefix);
  return rc;
}

/* ---- streaming writer: multipart upload ---- */

typedef struct S3Writer S3Writer;
struct S3Writer {
  TsObjWriter base;
  char *zFull;          /* full object key; owned */
  TsBuf part;           /* bytes of the part being filled */
  char *zUploadId;      /* multipart upload id once started; owned */
  char **azEtag;        /* ETag of each uploaded part (quotes kept); owned */
  int nPart;            /* parts uploaded */
  int64_t nTotal;       /* bytes written so far */
  int rc;               /* sticky error */
};

static int findCb(void *pArg, const char *zPath, const char *zText, size_t nText){
  FindCtx *f = (FindCtx*)pArg;
  (void)nText;
  if( strcmp(zPath, f->zPath)==0 && f->zVal==0 ){ f->zVal = tsObjStrdup(zText); return 1; }
  return 0;
}

static int s3WriterOpen(TsObjStore *pBase, const char *zKey, TsObjWriter **pp, char **pzErr){
  S3Store *p = (S3Store*)pBase;
  S3Writer *w = calloc(1, sizeof(*w));
  *pp = 0;
  if( w==0 ) return TS_OBJ_NOMEM;
  w->base.pStore = pBase;
  w->zFull = objKey(p, zKey);
  tsBufInit(&w->part);
  w->part.nMax = p->nPartSize + 1;
  if( w->zFull==0 ){ free(w); return TS_OBJ_NOMEM; }
  *pp = &w->base;
  return TS_OBJ_OK;
}

static void s3AbortUpload(S3Store *p, S3Writer *w){
  S3Call c;
  char *zErr = 0;
  if( w->zUploadId==0 ) return;
  memset(&c, 0, sizeof(c));
  c.zOp = "AbortMultipartUpload";
  c.zMethod = "DELETE";
  c.zObjKey = w->zFull;
  c.aQ[c.nQ].zName = "uploadId"; c.aQ[c.nQ++].zValue = w->zUploadId;
  /* Best effort: some servers (s3rver) answer 405; AWS 404 for unknown ids.
  ** A bucket lifecycle rule AbortIncompleteMultipartUpload cleans leftovers. */
  (void)s3Perform(p, &c, w->zFull, &zErr);
  free(zErr);
  callFree(&c);
}

static int s3UploadPart(S3Store *p, S3Writer *w, char **pzErr){
  S3Call c;
  char zPartNo[16], zMd5[32];
  int rc;
  char **azNew;
  if( w->zUploadId==0 ){
    FindCtx f;
    memset(&c, 0, sizeof(c));
    c.zOp = "CreateMultipartUpload";
    c.zMethod = "POST";
    c.zObjKey = w->zFull;
    c.aQ[c.nQ].zName = "uploads"; c.aQ[c.nQ++].zValue = "";
    addSse(p, &c);
    rc = s3Perform(p, &c, w->zFull, pzErr);
    f.zPath = "InitiateMultipartUploadResult/UploadId";
    f.zVal = 0;
    if( rc==TS_OBJ_OK ){
      tsS3XmlWalk((const char*)c.body.a, c.body.n, findCb, &f);
      if( f.zVal==0 || f.zVal[0]==0 ){
        free(f.zVal);
        tsObjErr(pzErr, "S3 CreateMultipartUpload s3://%s/%s: no UploadId in the response",
                 p->zBucket, w->zFull);
        rc = TS_OBJ_ERROR;
      }else{
        w->zUploadId = f.zVal;
      }
    }
    callFree(&c);
    if( rc!=TS_OBJ_OK ) return rc;
  }
  if( w->nPart>=S3_MAX_PARTS ){
    tsObjErr(pzErr, "S3 UploadPart s3://%s/%s: more than %d parts of %zu bytes (raise TSLITE_S3_PART_SIZE)",
             p->zBucket, w->zFull, S3_MAX_PARTS, p->nPartSize);
    return TS_OBJ_ERROR;
  }
  snprintf(zPartNo, sizeof(zPartNo), "%d", w->nPart + 1);
  contentMd5(w->part.a ? (const void*)w->part.a : (const void*)"", w->part.n, zMd5);
  memset(&c, 0, sizeof(c));
  c.zOp = "UploadPart";
  c.zMethod = "PUT";
  c.zObjKey = w->zFull;
  c.aQ[c.nQ].zName = "partNumber"; c.aQ[c.nQ++].zValue = zPartNo;
  c.aQ[c.nQ].zName = "uploadId"; c.aQ[c.nQ++].zValue = w->zUploadId;
  c.aH[c.nH].zName = "content-md5"; c.aH[c.nH++].zValue = zMd5;
  c.aBody = w->part.a;
  c.nBody = w->part.n;
  rc = s3Perform(p, &c, w->zFull, pzErr);
  if( rc==TS_OBJ_OK ){
    azNew = realloc(w->azEtag, (size_t)(w->nPart + 1)*sizeof(char*));
    if( azNew==0 ) rc = TS_OBJ_NOMEM;
    else{
      w->azEtag = azNew;
      w->azEtag[w->nPart] = tsObjStrdup(c.zEtag);
      if( w->azEtag[w->nPart]==0 ) rc = TS_OBJ_NOMEM;
      else if( c.zEtag[0]==0 ){
        free(w->azEtag[w->nPart]);
        tsObjErr(pzErr, "S3 UploadPart s3://%s/%s part %d: response has no ETag", p->zBucket,
                 w->zFull, w->nPart + 1);
        rc = TS_OBJ_ERROR;
      }else w->nPart++;
    }
  }
  callFree(&c);
  tsBufReset(&w->part);
  return rc;
}

static int s3WriterWrite(TsObjWriter *pBase, const void *a, size_t n, char **pzErr){
  S3Writer *w = (S3Writer*)pBase;
  S3Store *p = (S3Store*)w->base.pStore;
  const unsigned char *z = (const unsigned char*)a;
  if( w->rc ){
    tsObjErr(pzErr, "S3 upload s3://%s/%s: writer already failed", p->zBucket, w->zFull);
    return w->rc;
  }
  while( n>0 && w->rc==TS_OBJ_OK ){
    size_t nRoom = p->nPartSize - w->part.n;
    size_t k = n < nRoom ? n : nRoom;
    tsBufAppend(&w->part, z, k);
    if( w->part.bErr ){
      tsObjErr(pzErr, "S3 upload s3://%s/%s: out of memory", p->zBucket, w->zFull);
      w->rc = TS_OBJ_NOMEM;
      break;
    }
    z += k;
    n -= k;
    w->nTotal += (int64_t)k;
    if( w->part.n>=p->nPartSize ) w->rc = s3UploadPart(p, w, pzErr);
  }
  return w->rc;
}

static void s3WriterFree(S3Writer *w){
  int i;
  for(i=0; i<w->nPart; i++) free(w->azEtag[i]);
  free(w->azEtag);
  free(w->zUploadId);
  free(w->zFull);
  tsBufFree(&w->part);
  free(w);
}

static int s3WriterFinish(TsObjWriter *pBase, char **pzErr){
  S3Writer *w = (S3Writer*)pBase;
  S3Store *p = (S3Store*)w->base.pStore;
  int rc = w->rc;
  p->zPutEtag[0] = 0;
  if( rc==TS_OBJ_OK && w->zUploadId==0 ){
    /* Small object: one PutObject. */
    rc = s3PutFull(p, w->zFull, w->part.a, w->part.n, pzErr);
    s3WriterFree(w);
    return rc;
  }
  if( rc==TS_OBJ_OK && (w->part.n>0 || w->nPart==0) ) rc = s3UploadPart(p, w, pzErr);
  if( rc==TS_OBJ_OK ){
    TsBuf b;
    S3Call c;
    int i;
    tsBufInit(&b);
    tsBufAppendStr(&b, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for(i=0; i<w->nPart; i++){
      tsBufPrintf(&b, "<Part><PartNumber>%d</PartNumber><ETag>", i + 1);
      xmlEscape(&b, w->azEtag[i]);
      tsBufAppendStr(&b, "</ETag></Part>");
    }
    tsBufAppendStr(&b, "</CompleteMultipartUpload>");
    memset(&c, 0, sizeof(c));
    c.zOp = "CompleteMultipartUpload";
    c.zMethod = "POST";
    c.zObjKey = w->zFull;
    c.aQ[c.nQ].zName = "uploadId"; c.aQ[c.nQ++].zValue = w->zUploadId;
    c.aBody = b.a;
    c.nBody = b.n;
    c.bCheck200 = 1;
    rc = b.bErr ? TS_OBJ_NOMEM : s3Perform(p, &c, w->zFull, pzErr);
    if( rc==TS_OBJ_OK ){
      /* The whole object's ETag is in the result body (not a header). */
      FindCtx f;
      f.zPath = "CompleteMultipartUploadResult/ETag";
      f.zVal = 0;
      tsS3XmlWalk((const char*)c.body.a, c.body.n, findCb, &f);
      if( f.zVal ) stripQuotes(f.zVal, p->zPutEtag, sizeof(p->zPutEtag));
      free(f.zVal);
    }
    if( rc!=TS_OBJ_OK && c.nAttempts>1 && strcmp(c.zCode, "NoSuchUpload")==0 ){
      /* An earlier attempt may have completed it: trust a HEAD with the
      ** exact size we wrote. */
      TsObjInfo info;
      char *zErr2 = 0;
      const char *zKey = w->zFull + strlen(p->zPrefix);
      if( s3Head(&p->base, zKey, &info, &zErr2)==TS_OBJ_OK && info.nSize==w->nTotal ){
        rc = TS_OBJ_OK;
        stripQuotes(info.zEtag, p->zPutEtag, sizeof(p->zPutEtag));
        if( pzErr ){ free(*pzErr); *pzErr = 0; }
      }
      free(zErr2);
    }
    callFree(&c);
    tsBufFree(&b);
  }
  if( rc!=TS_OBJ_OK ) s3AbortUpload(p, w);
  s3WriterFree(w);
  return rc;
}

static void s3WriterAbort(TsObjWriter *pBase){
  S3Writer *w = (S3Writer*)pBase;
  s3AbortUpload((S3Store*)w->base.pStore, w);
  s3WriterFree(w);
}

/* ---- open/close ---- */

static void s3Close(TsObjStore *pBase){
  S3Store *p = (S3Store*)pBase;
  if( p->curl ) curl_easy_cleanup(p->curl);
  tsAwsConfFree(&p->conf);
  free(p->zBucket); free(p->zPrefix); free(p->zBaseUrl); free(p->zHost);
  free(p->zBucketPath); free(p->zSseHeader); free(p->zKmsKey); free(p->zHeadKey);
  memset(&p->sig, 0, sizeof(p->sig));
  free(p);
}

static const TsObjMethods s3Methods = {
  "s3", s3Close, s3Put, s3Get, s3Head, s3Delete, s3Copy, s3List,
  s3WriterOpen, s3WriterWrite, s3WriterFinish, s3WriterAbort, s3DeleteMany, s3CopyFrom,
  s3LastGetEtag, s3LastPutEtag
};

static int validBucket(const char *z){
  size_t n = strlen(z), i;
  if( n<3 || n>63 ) return 0;
  for(i=0; i<n; i++){
    char c = z[i];
    if( !((c>='a' && c<='z') || (c>='0' && c<='9') || c=='-' || c=='.' || c=='_') ) return 0;
  }
  return 1;
}

int tsObjS3Open(const char *zRest, const TsObjConfig *pCfg, TsObjStore **pp, char **pzErr){
  S3Store *p;
  const char *zSlash = strchr(zRest, '/');
  int bHttps;
  size_t n;
  long nPart;
  const char *zSse, *zKms;
  *pp = 0;
  pthread_once(&curlOnce, curlInit);
  p = calloc(1, sizeof(*p));
  if( p==0 ) return TS_OBJ_NOMEM;
  p->base.pM = &s3Methods;
  p->zBucket = zSlash ? tsObjMprintf("%.*s", (int)(zSlash - zRest), zRest) : tsObjStrdup(zRest);
  if( p->zBucket==0 ) goto nomem;
  if( !validBucket(p->zBucket) ){
    tsObjErr(pzErr, "s3:// store: '%s' is not a valid bucket name (s3://bucket[/prefix])", p->zBucket);
    goto fail;
  }
  {
    const char *zPre = zSlash ? zSlash + 1 : "";
    n = strlen(zPre);
    while( n>0 && zPre[n-1]=='/' ) n--;
    p->zPrefix = n ? tsObjMprintf("%.*s/", (int)n, zPre) : tsObjStrdup("");
    if( p->zPrefix==0 ) goto nomem;
  }
  if( tsAwsConfLoad(pCfg, &p->conf, pzErr) ) goto fail;
  /* "my.bucket.s3.amazonaws.com" does not match the *.s3.amazonaws.com
  ** certificate: dotted names use path style unless told otherwise. */
  if( !p->conf.bStyleSet && strchr(p->zBucket, '.') ) p->conf.bPathStyle = 1;

  /* Endpoint -> base URL and Host header, both from the host and port that
  ** curl_url parsed (endpoint.c), so what is signed is what is connected
  ** to.  Used exactly as configured: http:// to any host, https:// with TLS
  ** verified. */
  if( p->conf.zEndpoint ){
    TsS3Endpoint ep;
    if( tsS3EndpointParse(p->conf.zEndpoint, &ep, pzErr) ) goto fail;
    bHttps = ep.bHttps;
    if( p->conf.bPathStyle ){
      p->zHost = tsObjStrdup(ep.zHostPort);
    }else{
      p->zHost = tsObjMprintf("%s.%s", p->zBucket, ep.zHostPort);
    }
    tsS3EndpointFree(&ep);
    p->zBaseUrl = p->zHost ? tsObjMprintf("%s://%s", bHttps ? "https" : "http", p->zHost) : 0;
  }else{
    if( p->conf.bPathStyle ){
      p->zHost = tsObjMprintf("s3.%s.amazonaws.com", p->conf.zRegion);
    }else{
      p->zHost = tsObjMprintf("%s.s3.%s.amazonaws.com", p->zBucket, p->conf.zRegion);
    }
    p->zBaseUrl = p->zHost ? tsObjMprintf("https://%s", p->zHost) : 0;
  }
  p->zBucketPath = p->conf.bPathStyle ? tsObjMprintf("/%s", p->zBucket) : tsObjStrdup("");
  if( p->zHost==0 || p->zBaseUrl==0 || p->zBucketPath==0 ) goto nomem;

  /* Server-side encryption (config, else TSLITE_S3_SSE / TSLITE_S3_KMS_KEY). */
  zSse = pCfg->zSse;
  zKms = pCfg->zKmsKey;
  if( zSse==0 ){
    zSse = getenv("TSLITE_S3_SSE");
    if( zSse && zSse[0]==0 ) zSse = 0;
    if( zSse && zKms==0 ){
      zKms = getenv("TSLITE_S3_KMS_KEY");
      if( zKms && zKms[0]==0 ) zKms = 0;
    }
  }
  if( zSse ){
    if( strcmp(zSse, "sse_s3")==0 ){
      p->zSseHeader = tsObjStrdup("AES256");
    }else if( strcmp(zSse, "sse_kms")==0 ){
      p->zSseHeader = tsObjStrdup("aws:kms");
      if( zKms && zKms[0] ){
        p->zKmsKey = tsObjStrdup(zKms);
        if( p->zKmsKey==0 ) goto nomem;
      }
    }else{
      tsObjErr(pzErr, "s3:// store: server-side encryption '%s' is not 'sse_s3' or 'sse_kms'", zSse);
      goto fail;
    }
    if( p->zSseHeader==0 ) goto nomem;
  }else if( zKms ){
    tsObjErr(pzErr, "s3:// store: a KMS key was given without sse_kms");
    goto fail;
  }

  p->nTimeoutMs = envLong("TSLITE_S3_TIMEOUT_MS", 30000);
  p->nConnectMs = envLong("TSLITE_S3_CONNECT_TIMEOUT_MS", 10000);
  p->nRetryBaseMs = envLong("TSLITE_S3_RETRY_BASE_MS", 100);
  if( p->nTimeoutMs<100 ) p->nTimeoutMs = 100;
  if( p->nConnectMs<100 ) p->nConnectMs = 100;
  if( p->nRetryBaseMs<0 ) p->nRetryBaseMs = 0;
  nPart = envLong("TSLITE_S3_PART_SIZE", (long)S3_DEFAULT_PART);
  if( nPart<(long)S3_MIN_PART ) nPart = (long)S3_MIN_PART;
  if( nPart>(1L<<30) ) nPart = 1L<<30;
  p->nPartSize = (size_t)nPart;
  p->nListPage = (int)envLong("TSLITE_S3_LIST_PAGE", 1000);
  p->bTrace = envLong("TSLITE_S3_TRACE", 0)==1;
  if( p->nListPage<1 || p->nListPage>1000 ) p->nListPage = 1000;

  p->curl = curl_easy_init();
  if( p->curl==0 ) goto nomem;
  *pp = &p->base;
  return TS_OBJ_OK;
nomem:
  tsObjErr(pzErr, "s3:// store: out of memory");
  s3Close(&p->base);
  return TS_OBJ_NOMEM;
fail:
  s3Close(&p->base);
  return TS_OBJ_ERROR;
}
