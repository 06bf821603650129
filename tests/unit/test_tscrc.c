/*
** test_tscrc.c: common/tscrc.c, the folded CRC-32, equals zlib's crc32 for
** every length 0..1100 at every alignment 0..15, for chained calls, and on
** the standard check string.
*/
#include "tscrc.h"
#include "tt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint64_t rngState = 0x9E3779B97F4A7C15ULL;
static uint64_t rng(void){
  rngState ^= rngState << 13; rngState ^= rngState >> 7; rngState ^= rngState << 17;
  return rngState;
}

int main(void){
  static unsigned char a[70000];
  size_t i, n, off;
  int bOk = 1;
  char zWhy[128] = "";
  for(i=0; i<sizeof(a); i++) a[i] = (unsigned char)rng();
  TT_EQ_I64("tscrc check value", tsCrc32(0, "123456789", 9), 0xCBF43926);
  TT_EQ_I64("tscrc empty", tsCrc32(0, a, 0), 0);
  for(n=0; n<=1100 && bOk; n++){
    for(off=0; off<16 && bOk; off++){
      uint32_t want = (uint32_t)crc32(0L, a+off, (uInt)n);
      if( tsCrc32(0, a+off, n)!=want || tsCrc32Portable(0, a+off, n)!=want ){
        bOk = 0;
        snprintf(zWhy, sizeof(zWhy), "length %zu offset %zu", n, off);
      }
    }
  }
  TT_CHECK("tscrc equals zlib at every length and alignment", bOk);
  if( !bOk ) printf("  first difference: %s\n", zWhy);
  {
    uint32_t c = 0;
    size_t k = 0;
    while( k<sizeof(a) ){
      size_t m = (size_t)(rng()%5000);
      if( m>sizeof(a)-k ) m = sizeof(a)-k;
      c = tsCrc32(c, a+k, m);
      k += m;
    }
    TT_EQ_I64("tscrc chained calls", c, (uint32_t)crc32(0L, a, (uInt)sizeof(a)));
  }
  {
    /* All-ones and all-zero blocks (the fold's carries). */
    memset(a, 0xff, 4096);
    TT_EQ_I64("tscrc all ones", tsCrc32(0, a, 4096), (uint32_t)crc32(0L, a, 4096));
    memset(a, 0, 4096);
    TT_EQ_I64("tscrc all zero", tsCrc32(0, a, 4096), (uint32_t)crc32(0L, a, 4096));
  }
  return tt_done();
}
