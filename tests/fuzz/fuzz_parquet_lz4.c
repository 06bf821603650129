/* libFuzzer target: the LZ4_RAW page codec (tsPqLz4Decompress in
** ext/codec/pq_encode.c, liblz4 underneath).  The first 2 input bytes give the output size, the rest is
** the compressed block; the output buffer has exactly that size so ASan
** catches any write past it. */
#include "pq_int.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *a, size_t n){
  size_t nOut;
  unsigned char *o;
  if( n<2 ) return 0;
  nOut = (size_t)a[0] | ((size_t)a[1]<<8);
  o = malloc(nOut ? nOut : 1);
  if( !o ) return 0;
  (void)tsPqLz4Decompress(a+2, n-2, o, nOut);
  free(o);
  return 0;
}
