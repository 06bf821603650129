/* libFuzzer target: interval and ISO-8601 parsers of ext/codec/tstime.c.
** Parses arbitrary bytes; formats what parses and checks the round trip. */
#include "tstime.h"
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stddef.h>

int LLVMFuzzerTestOneInput(const uint8_t *a, size_t n){
  int64_t v;
  if( n>200 ) return 0;
  (void)tsIntervalParse((const char*)a, (int)n, &v);
  if( tsTimeParseIso((const char*)a, (int)n, &v)==TS_TIME_OK ){
    char z[TS_ISO_BUFSZ];
    int64_t w;
    int m = tsTimeFormatIso(v, z);
    if( tsTimeParseIso(z, m, &w)!=TS_TIME_OK || w!=v ) abort();
  }
  return 0;
}
