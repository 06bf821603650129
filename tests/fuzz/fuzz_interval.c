/* libFuzzer target: the interval parser (ext/codec/tstime.c tsIntervalParse).
** Arbitrary bytes must never crash it; whatever parses must equal the same
** length written back as "<ns>ns" and, when a whole number of seconds, as
** "<s>s". */
#include "tstime.h"
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <stddef.h>

int LLVMFuzzerTestOneInput(const uint8_t *a, size_t n){
  int64_t v, w;
  char z[64];
  int m;
  if( n>100 ) return 0;
  if( tsIntervalParse((const char*)a, (int)n, &v)!=TS_TIME_OK ) return 0;
  if( v<0 ) abort();                       /* literals have no sign */
  m = snprintf(z, sizeof(z), "%lldns", (long long)v);
  if( tsIntervalParse(z, m, &w)!=TS_TIME_OK || w!=v ) abort();
  if( v % TS_NS_PER_SEC==0 ){
    m = snprintf(z, sizeof(z), "%llds", (long long)(v/TS_NS_PER_SEC));
    if( tsIntervalParse(z, m, &w)!=TS_TIME_OK || w!=v ) abort();
  }
  return 0;
}
