/*
** sigv4.c: AWS Signature Version 4 for S3 (see sigv4.h for the interface).
**
** The four stages, each exposed in TsSigv4Out for tests:
**   canonical request = METHOD \n URI \n QUERY \n HEADERS \n SIGNED \n PAYLOADHASH
**     URI: the path encoded once, '/' kept, no "."/".." removal and no "//"
**          collapsing (S3 differs from other services here);
**     QUERY: names and values encoded (including '/'), sorted by name then
**          value, "name=" for a parameter without value, joined by '&';
**     HEADERS: "name:value\n" per header, names lower-cased and sorted,
**          values trimmed with inner runs of blanks collapsed to one space,
**          duplicates joined by ',' in the order given;
**   string to sign = "AWS4-HMAC-SHA256\n" date "\n" scope "\n" hex(SHA256(creq))
**     scope = YYYYMMDD/region/service/aws4_request;
**   signing key = HMAC chain "AWS4"+secret -> date -> region -> service ->
**     "aws4_request" (cached per day in a TsSigv4Cache);
**   Authorization = "AWS4-HMAC-SHA256 Credential=AKID/scope,
**     SignedHeaders=..., Signature=hex(HMAC(key, string to sign))".
** The secret never appears in any output.
*/
#include "sigv4.h"
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

static const char aHexUp[] = "0123456789ABCDEF";
static const char aHexLo[] = "0123456789abcdef";

void tsSigv4Encode(TsBuf *p, const char *z, size_t n, int bKeepSlash){
  size_t i;
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    if( (c>='A' && c<='Z') || (c>='a' && c<='z') || (c>='0' && c<='9')
     || c=='-' || c=='.' || c=='_' || c=='~' || (c=='/' && bKeepSlash) ){
      tsBufAppendByte(p, c);
    }else{
      char a[3];
      a[0] = '%'; a[1] = aHexUp[c>>4]; a[2] = aHexUp[c&15];
      tsBufAppend(p, a, 3);
    }
  }
}

static void hexLower(const unsigned char *a, size_t n, char *zOut){
  size_t i;
  for(i=0; i<n; i++){
    zOut[2*i] = aHexLo[a[i]>>4];
    zOut[2*i+1] = aHexLo[a[i]&15];
  }
  zOut[2*n] = 0;
}

void tsSigv4Sha256Hex(const void *a, size_t n, char *zOut){
  unsigned char aHash[32];
  SHA256((const unsigned char*)a, n, aHash);
  hexLower(aHash, 32, zOut);
}

static void hmac(const unsigned char *aKey, size_t nKey, const void *a, size_t n,
                 unsigned char *aOut){
  unsigned int nOut = 32;
  HMAC(EVP_sha256(), aKey, (int)nKey, (const unsigned char*)a, n, aOut, &nOut);
}

typedef struct SortKv SortKv;
struct SortKv {
  char *zName;    /* encoded (query) or lower-cased (header); malloc'd */
  char *zValue;   /* encoded (query) or trimmed/collapsed (header); malloc'd */
  int iOrder;     /* original position: keeps duplicate headers in order */
};

static int cmpQuery(const void *a, const void *b){
  const SortKv *x = (const SortKv*)a, *y = (const SortKv*)b;
  int c = strcmp(x->zName, y->zName);
  return c ? c : strcmp(x->zValue, y->zValue);
}
static int cmpHeader(const void *a, const void *b){
  const SortKv *x = (const SortKv*)a, *y = (const SortKv*)b;
  int c = strcmp(x->zName, y->zName);
  return c ? c : x->iOrder - y->iOrder;
}

static char *bufStr(TsBuf *p){
  size_t n;
  char *z;
  tsBufAppendByte(p, 0);
  if( p->bErr ){ tsBufFree(p); return 0; }
  z = (char*)tsBufDetach(p, &n);
  return z;
}

static char *encodeDup(const char *z, int bKeepSlash){
  TsBuf b;
  tsBufInit(&b);
  tsSigv4Encode(&b, z ? z : "", z ? strlen(z) : 0, bKeepSlash);
  return bufStr(&b);
}

/* Header value: trim blanks at both ends, collapse inner runs to one space. */
static char *canonHeaderValue(const char *z){
  TsBuf b;
  int bSpace = 0;
  tsBufInit(&b);
  while( *z==' ' || *z=='\t' ) z++;
  for(; *z; z++){
    if( *z==' ' || *z=='\t' || *z=='\n' || *z=='\r' ){
      bSpace = 1;
    }else{
      if( bSpace && b.n>0 ) tsBufAppendByte(&b, ' ');
      bSpace = 0;
      tsBufAppendByte(&b, (unsigned char)*z);
    }
  }
  return bufStr(&b);
}

static char *lowerDup(const char *z){
  size_t n = strlen(z), i;
  char *zOut = malloc(n + 1);
  if( zOut==0 ) return 0;
  for(i=0; i<=n; i++){
    char c = z[i];
    zOut[i] = (c>='A' && c<='Z') ? (char)(c + 32) : c;
  }
  /* header names are tokens: trim any stray blanks */
  while( n>0 && (zOut[n-1]==' ' || zOut[n-1]=='\t') ) zOut[--n] = 0;
  return zOut;
}

static void freeKv(SortKv *a, int n){
  int i;
  if( a==0 ) return;
  for(i=0; i<n; i++){ free(a[i].zName); free(a[i].zValue); }
  free(a);
}

static void deriveKey(const TsSigv4Req *pReq, const char *zService, TsSigv4Cache *pCache,
                      unsigned char *aKey){
  unsigned char aSecretHash[32];
  unsigned char k1[32], k2[32], k3[32];
  size_t nSecret = strlen(pReq->zSecretKey);
  char *zK0;
  SHA256((const unsigned char*)pReq->zSecretKey, nSecret, aSecretHash);
  if( pCache && pCache->bValid && memcmp(pCache->zDate, pReq->zAmzDate, 8)==0
   && strcmp(pCache->zRegion, pReq->zRegion)==0 && strcmp(pCache->zService, zService)==0
   && CRYPTO_memcmp(pCache->aSecretHash, aSecretHash, 32)==0 ){
    memcpy(aKey, pCache->aKey, 32);
    return;
  }
  zK0 = malloc(nSecret + 5);
  if( zK0==0 ){ memset(aKey, 0, 32); return; }
  memcpy(zK0, "AWS4", 4);
  memcpy(zK0 + 4, pReq->zSecretKey, nSecret + 1);
  hmac((unsigned char*)zK0, nSecret + 4, pReq->zAmzDate, 8, k1);
  OPENSSL_cleanse(zK0, nSecret + 4);
  free(zK0);
  hmac(k1, 32, pReq->zRegion, strlen(pReq->zRegion), k2);
  hmac(k2, 32, zService, strlen(zService), k3);
  hmac(k3, 32, "aws4_request", 12, aKey);
  if( pCache && strlen(pReq->zRegion)<sizeof(pCache->zRegion)
   && strlen(zService)<sizeof(pCache->zService) ){
    memcpy(pCache->zDate, pReq->zAmzDate, 8);
    pCache->zDate[8] = 0;
    memcpy(pCache->zRegion, pReq->zRegion, strlen(pReq->zRegion) + 1);
    memcpy(pCache->zService, zService, strlen(zService) + 1);
    memcpy(pCache->aSecretHash, aSecretHash, 32);
    memcpy(pCache->aKey, aKey, 32);
    pCache->bValid = 1;
  }
  OPENSSL_cleanse(k1, 32); OPENSSL_cleanse(k2, 32); OPENSSL_cleanse(k3, 32);
}

int tsSigv4Sign(const TsSigv4Req *pReq, TsSigv4Cache *pCache, TsSigv4Out *pOut){
  const char *zService = pReq->zService ? pReq->zService : "s3";
  SortKv *aQ = 0, *aH = 0;
  TsBuf c, s, h, a;
  int i, nQ = pReq->nQuery, nH = pReq->nHeader;
  int rc = 0;
  char zHash[65];
  char zScope[200];
  unsigned char aKey[32], aSig[32];

  memset(pOut, 0, sizeof(*pOut));
  if( pReq->zAmzDate==0 || strlen(pReq->zAmzDate)!=16 || pReq->zRegion==0
   || pReq->zAccessKey==0 || pReq->zSecretKey==0 || pReq->zPath==0 || pReq->zMethod==0 ){
    return 1;
  }
  tsBufInit(&c); tsBufInit(&s); tsBufInit(&h); tsBufInit(&a);

  /* Query: encode, then sort by encoded name, then value. */
  aQ = calloc((size_t)nQ + 1, sizeof(SortKv));
  aH = calloc((size_t)nH + 1, sizeof(SortKv));
  if( aQ==0 || aH==0 ){ rc = 1; goto done; }
  for(i=0; i<nQ; i++){
    aQ[i].zName = encodeDup(pReq->aQuery[i].zName, 0);
    aQ[i].zValue = encodeDup(pReq->aQuery[i].zValue, 0);
    if( aQ[i].zName==0 || aQ[i].zValue==0 ){ rc = 1; goto done; }
  }
  qsort(aQ, (size_t)nQ, sizeof(SortKv), cmpQuery);
  for(i=0; i<nH; i++){
    aH[i].zName = lowerDup(pReq->aHeader[i].zName);
    aH[i].zValue = canonHeaderValue(pReq->aHeader[i].zValue ? pReq->aHeader[i].zValue : "");
    aH[i].iOrder = i;
    if( aH[i].zName==0 || aH[i].zValue==0 ){ rc = 1; goto done; }
  }
  qsort(aH, (size_t)nH, sizeof(SortKv), cmpHeader);

  /* Canonical request. */
  tsBufAppendStr(&c, pReq->zMethod);
  tsBufAppendByte(&c, '\n');
  tsSigv4Encode(&c, pReq->zPath, strlen(pReq->zPath), 1);
  tsBufAppendByte(&c, '\n');
  for(i=0; i<nQ; i++){
    if( i ) tsBufAppendByte(&c, '&');
    tsBufAppendStr(&c, aQ[i].zName);
    tsBufAppendByte(&c, '=');
    tsBufAppendStr(&c, aQ[i].zValue);
  }
  tsBufAppendByte(&c, '\n');
  for(i=0; i<nH; i++){
    if( i>0 && strcmp(aH[i].zName, aH[i-1].zName)==0 ){
      /* duplicate: continue the previous line */
      c.n--;   /* drop the '\n' */
      tsBufAppendByte(&c, ',');
    }else{
      tsBufAppendStr(&c, aH[i].zName);
      tsBufAppendByte(&c, ':');
      if( h.n ) tsBufAppendByte(&h, ';');
      tsBufAppendStr(&h, aH[i].zName);
    }
    tsBufAppendStr(&c, aH[i].zValue);
    tsBufAppendByte(&c, '\n');
  }
  tsBufAppendByte(&c, '\n');
  tsBufAppend(&c, h.a, h.n);
  tsBufAppendByte(&c, '\n');
  tsBufAppendStr(&c, pReq->zPayloadHash ? pReq->zPayloadHash : TS_SIGV4_EMPTY_SHA256);
  if( c.bErr || h.bErr ){ rc = 1; goto done; }

  /* String to sign. */
  tsSigv4Sha256Hex(c.a, c.n, zHash);
  snprintf(zScope, sizeof(zScope), "%.8s/%s/%s/aws4_request", pReq->zAmzDate, pReq->zRegion,
           zService);
  tsBufPrintf(&s, "AWS4-HMAC-SHA256\n%s\n%s\n%s", pReq->zAmzDate, zScope, zHash);
  if( s.bErr ){ rc = 1; goto done; }

  /* Signature. */
  deriveKey(pReq, zService, pCache, aKey);
  hmac(aKey, 32, s.a, s.n, aSig);
  OPENSSL_cleanse(aKey, 32);
  hexLower(aSig, 32, pOut->zSignature);
  tsBufPrintf(&a, "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%.*s, Signature=%s",
              pReq->zAccessKey, zScope, (int)h.n, (const char*)h.a, pOut->zSignature);
  pOut->zCanonical = bufStr(&c);
  pOut->zStringToSign = bufStr(&s);
  pOut->zSignedHeaders = bufStr(&h);
  pOut->zAuthorization = bufStr(&a);
  if( !pOut->zCanonical || !pOut->zStringToSign || !pOut->zSignedHeaders || !pOut->zAuthorization ){
    tsSigv4OutFree(pOut);
    rc = 1;
  }
done:
  freeKv(aQ, nQ);
  freeKv(aH, nH);
  tsBufFree(&c); tsBufFree(&s); tsBufFree(&h); tsBufFree(&a);
  return rc;
}

void tsSigv4OutFree(TsSigv4Out *pOut){
  if( pOut==0 ) return;
  free(pOut->zCanonical);
  free(pOut->zStringToSign);
  free(pOut->zAuthorization);
  free(pOut->zSignedHeaders);
  memset(pOut, 0, sizeof(*pOut));
}
