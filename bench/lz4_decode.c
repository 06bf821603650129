/*
** lz4_decode.c: the measurement behind "LZ4_RAW pages through liblz4"
** (issue 12): decode speed of tslite's LZ4_RAW codec (tsPqLz4Decompress,
** liblz4 underneath) on 1 MiB blocks of timeseries-like text, 200 rounds.
**
**   cc -O2 -Iext/codec -Icommon bench/lz4_decode.c build/libtslite.a -llz4 \
**      -lzstd -lz -o /tmp/lz4_decode && /tmp/lz4_decode
**
** To compare with the hand-written decoder this replaced, build the same
** program against it: git show 31d6e98^:ext/codec/pq_lz4.c > /tmp/pq_lz4.c,
** then compile /tmp/pq_lz4.c instead of linking build/libtslite.a.
** Measured on this machine: 2.2 GB/s (old) vs 6.6 GB/s (liblz4), 3.0x.
*/
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int tsPqLz4Decompress(const void *a, size_t n, void *aOut, size_t nOut);

static double nowSec(void){
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec/1e9;
}

int main(void){
  int N = 1<<20, i, k, nc;
  char *src = malloc(N), *cmp = malloc(LZ4_compressBound(N)), *out = malloc(N);
  unsigned s = 1;
  double t0, t1;
  for(i=0; i<N; i++){
    s = s*1103515245 + 12345;
    src[i] = (i%64<40) ? "timeseries-host-"[i%16] : (char)('0' + ((s>>16)%10));
  }
  nc = LZ4_compress_default(src, cmp, N, LZ4_compressBound(N));
  t0 = nowSec();
  for(k=0; k<200; k++) if( tsPqLz4Decompress(cmp, (size_t)nc, out, (size_t)N) ) return 1;
  t1 = nowSec();
  printf("ratio %.2f; tsPqLz4Decompress %.0f MB/s\n", (double)N/nc, 200.0/(t1-t0));
  return memcmp(src, out, N)!=0;
}
