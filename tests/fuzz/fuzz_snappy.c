/* libFuzzer target: the snappy block decompressor (ext/codec/snappy.c).  The
** output buffer is exactly the preamble's length (capped), so any write past
** it is caught by ASan. */
#include "pq_int.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *a, size_t n){
  size_t nOut;
  unsigned char *o;
  if( tsSnappyLength(a, n, &nOut) || nOut > (1u<<20) ) return 0;
  o = malloc(nOut ? nOut : 1);
  if( !o ) return 0;
  (void)tsSnappyDecompress(a, n, o, nOut);
  (void)tsPqDecompress(TS_PQ_CODEC_SNAPPY, a, n, o, nOut);
  free(o);
  return 0;
}
