/*
** test_bloom.c: the series filter (ext/codec/bloom.c): exact bytes of a
** known filter, no false negatives, false-positive rate near 1 %, and
** damaged filters answering "may contain".
*/
#include "bloom.h"
#include "tt.h"
#include <stdlib.h>

int main(void){
  unsigned char a[64];
  size_t n;
  int i, nFp = 0, bAll = 1;
  char z[32];
  unsigned char *pBig;

  TT_EQ_I64("bloom fnv1a64 empty", (long long)tsBloomHash("", 0), (long long)14695981039346656037ULL);
  TT_EQ_I64("bloom fnv1a64 a", (long long)tsBloomHash("a", 1), (long long)0xaf63dc4c8601ec8cULL);
  TT_EQ_I64("bloom size 1", (long long)tsBloomSize(1), 16);
  TT_EQ_I64("bloom size 7", (long long)tsBloomSize(7), 8+16);
  TT_EQ_I64("bloom size 100", (long long)tsBloomSize(100), 8+128);

  n = tsBloomSize(1);
  tsBloomInit(a, n);
  TT_CHECK("bloom header", a[0]==1 && a[1]==7 && a[2]==0 && a[3]==0 && a[4]==64 && a[5]==0 && a[6]==0 && a[7]==0);
  TT_CHECK("bloom valid", tsBloomValid(a, n));
  TT_CHECK("bloom empty misses", tsBloomMayContainHash(a, n, tsBloomHash("a", 1))==0);
  tsBloomAddHash(a, tsBloomHash("a", 1));
  {
    /* h = 0xaf63dc4c8601ec8c: h1 = 0x8601ec8c, h2 = 0xaf63dc4d; bits
    ** (h1 + j*h2) % 64 for j = 0..6. */
    uint64_t h1 = 0x8601ec8cULL, h2 = 0xaf63dc4dULL, bits = 0, got = 0;
    int j;
    for(j=0; j<7; j++) bits |= 1ULL << ((h1 + (uint64_t)j*h2) % 64);
    for(j=0; j<8; j++) got |= (uint64_t)a[8+j] << (8*j);
    TT_EQ_I64("bloom bits of 'a'", (long long)got, (long long)bits);
  }
  TT_CHECK("bloom hit", tsBloomMayContainHash(a, n, tsBloomHash("a", 1))==1);

  n = tsBloomSize(1000);
  pBig = malloc(n);
  tsBloomInit(pBig, n);
  for(i=0; i<1000; i++){
    int k = snprintf(z, sizeof z, "S-series-%d", i);
    tsBloomAddHash(pBig, tsBloomHash(z, (size_t)k));
  }
  for(i=0; i<1000; i++){
    int k = snprintf(z, sizeof z, "S-series-%d", i);
    if( !tsBloomMayContainHash(pBig, n, tsBloomHash(z, (size_t)k)) ) bAll = 0;
  }
  TT_CHECK("bloom no false negatives (1000)", bAll);
  for(i=0; i<10000; i++){
    int k = snprintf(z, sizeof z, "other-%d", i);
    nFp += tsBloomMayContainHash(pBig, n, tsBloomHash(z, (size_t)k));
  }
  TT_CHECK("bloom false positives < 2% (10000 probes)", nFp < 200);
  TT_CHECK("bloom short length may contain", tsBloomMayContainHash(pBig, n-1, 1)==1);
  pBig[0] = 2;
  TT_CHECK("bloom bad version may contain", tsBloomMayContainHash(pBig, n, 1)==1 && !tsBloomValid(pBig, n));
  pBig[0] = 1; pBig[4] = 65;
  TT_CHECK("bloom bad m invalid", !tsBloomValid(pBig, n));
  TT_CHECK("bloom NULL invalid", !tsBloomValid(0, 0));
  free(pBig);
  return tt_done();
}
