/*
** bloom.c: the series filter's bloom filter (format in bloom.h and
** docs/internals/cold-format.md section 4).  Owns nothing: filters live in
** caller memory.
*/
#include "bloom.h"
#include <string.h>

uint64_t tsBloomHash(const void *a, size_t n){
  const unsigned char *p = (const unsigned char*)a;
  uint64_t h = 14695981039346656037ULL;
  size_t i;
  for(i=0; i<n; i++){ h ^= p[i]; h *= 1099511628211ULL; }
  return h;
}

size_t tsBloomSize(int64_t nElem){
  uint64_t m;
  if( nElem<1 ) nElem = 1;
  if( nElem > (int64_t)(TS_BLOOM_MAX_BITS/TS_BLOOM_BITS_PER) ){
    m = TS_BLOOM_MAX_BITS;
  }else{
    m = (uint64_t)nElem * TS_BLOOM_BITS_PER;
    m = (m + 63) & ~(uint64_t)63;
  }
  return TS_BLOOM_HDR + (size_t)(m/8);
}

static void put32(unsigned char *a, uint32_t v){
  a[0] = (unsigned char)v; a[1] = (unsigned char)(v>>8);
  a[2] = (unsigned char)(v>>16); a[3] = (unsigned char)(v>>24);
}
static uint32_t get32(const unsigned char *a){
  return (uint32_t)a[0] | ((uint32_t)a[1]<<8) | ((uint32_t)a[2]<<16) | ((uint32_t)a[3]<<24);
}

void tsBloomInit(unsigned char *a, size_t nByte){
  memset(a, 0, nByte);
  a[0] = TS_BLOOM_VERSION;
  a[1] = TS_BLOOM_K;
  put32(a+4, (uint32_t)((nByte - TS_BLOOM_HDR)*8));
}

int tsBloomValid(const unsigned char *a, size_t n){
  uint32_t m;
  if( a==0 || n<TS_BLOOM_HDR+8 ) return 0;
  if( a[0]!=TS_BLOOM_VERSION || a[1]<1 || a[1]>16 || a[2]!=0 || a[3]!=0 ) return 0;
  m = get32(a+4);
  if( m<64 || (m & 63)!=0 || m>TS_BLOOM_MAX_BITS ) return 0;
  return n==TS_BLOOM_HDR + (size_t)(m/8);
}

void tsBloomAddHash(unsigned char *a, uint64_t h){
  uint64_t m = get32(a+4), h1 = h & 0xffffffffu, h2 = (h>>32) | 1;
  int j, k = a[1];
  unsigned char *aBit = a + TS_BLOOM_HDR;
  for(j=0; j<k; j++){
    uint64_t b = (h1 + (uint64_t)j*h2) % m;
    aBit[b>>3] |= (unsigned char)(1u << (b&7));
  }
}

int tsBloomMayContainHash(const unsigned char *a, size_t n, uint64_t h){
  uint64_t m, h1 = h & 0xffffffffu, h2 = (h>>32) | 1;
  int j, k;
  const unsigned char *aBit;
  if( !tsBloomValid(a, n) ) return 1;
  m = get32(a+4);
  k = a[1];
  aBit = a + TS_BLOOM_HDR;
  for(j=0; j<k; j++){
    uint64_t b = (h1 + (uint64_t)j*h2) % m;
    if( (aBit[b>>3] & (1u << (b&7)))==0 ) return 0;
  }
  return 1;
}
