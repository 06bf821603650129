/* libFuzzer target: the SigV4 signer (s3/sigv4.c) on arbitrary paths,
** query parameters and header values.  Signing must never crash, must be
** deterministic, must agree with and without the key cache, and the
** canonical request must end with the payload hash. */
#include "sigv4.h"
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stddef.h>

int LLVMFuzzerTestOneInput(const uint8_t *a, size_t n){
  char *z, *zParts[8];
  int nParts = 0;
  size_t i, iStart = 0;
  TsSigv4Kv aQ[2], aH[4];
  TsSigv4Req r;
  TsSigv4Out o1, o2;
  TsSigv4Cache cache;
  if( n>4000 ) return 0;
  z = malloc(n + 1);
  memcpy(z, a, n);
  z[n] = 0;
  /* Split on '\n' into up to 8 fields (NULs end fields early: C strings). */
  for(i=0; i<=n && nParts<8; i++){
    if( i==n || z[i]=='\n' ){
      z[i] = 0;
      zParts[nParts++] = z + iStart;
      iStart = i + 1;
    }
  }
  while( nParts<8 ) zParts[nParts++] = "";
  aQ[0].zName = zParts[1]; aQ[0].zValue = zParts[2];
  aQ[1].zName = zParts[3]; aQ[1].zValue = 0;
  aH[0].zName = "host"; aH[0].zValue = zParts[4];
  aH[1].zName = "x-amz-date"; aH[1].zValue = "20240101T000000Z";
  aH[2].zName = zParts[5][0] ? zParts[5] : "x-amz-meta-a"; aH[2].zValue = zParts[6];
  aH[3].zName = "x-amz-content-sha256"; aH[3].zValue = TS_SIGV4_EMPTY_SHA256;
  memset(&r, 0, sizeof(r));
  r.zMethod = "GET"; r.zPath = zParts[0]; r.aQuery = aQ; r.nQuery = 2; r.aHeader = aH; r.nHeader = 4;
  r.zPayloadHash = TS_SIGV4_EMPTY_SHA256; r.zAmzDate = "20240101T000000Z"; r.zRegion = "us-east-1";
  r.zAccessKey = "AK"; r.zSecretKey = zParts[7];
  memset(&cache, 0, sizeof(cache));
  if( tsSigv4Sign(&r, &cache, &o1)==0 ){
    size_t nc = strlen(o1.zCanonical);
    if( nc<64 || strcmp(o1.zCanonical + nc - 64, TS_SIGV4_EMPTY_SHA256)!=0 ) abort();
    if( tsSigv4Sign(&r, 0, &o2)!=0 ) abort();
    if( strcmp(o1.zSignature, o2.zSignature)!=0 || strcmp(o1.zCanonical, o2.zCanonical)!=0 ) abort();
    tsSigv4OutFree(&o2);
    if( tsSigv4Sign(&r, &cache, &o2)!=0 || strcmp(o1.zSignature, o2.zSignature)!=0 ) abort();
    tsSigv4OutFree(&o2);
    tsSigv4OutFree(&o1);
  }
  free(z);
  return 0;
}
