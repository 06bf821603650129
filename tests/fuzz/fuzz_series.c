/* libFuzzer target: the time-series JSON parser (ext/codec/tsjson.c).  Arbitrary
** bytes must never crash it or read past the input; whatever parses is
** written back, and the written text must parse to the same points
** (times, types, values; NaN as null). */
#include "tsjson.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stddef.h>

static int samePoint(const TsSeries *p, const TsSPoint *a, const TsSeries *q, const TsSPoint *b){
  if( a->t!=b->t || a->eType!=b->eType ) return 0;
  switch( a->eType ){
    case TS_SV_INT: case TS_SV_BOOL: return a->i==b->i;
    case TS_SV_REAL: return a->r==b->r || (isnan(a->r) && isnan(b->r));
    case TS_SV_TEXT: return a->nText==b->nText
                     && memcmp(tsSeriesText(p, a), tsSeriesText(q, b), a->nText)==0;
    default: return 1;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *a, size_t n){
  int flags;
  char zErr[160];
  for(flags=0; flags<=TS_SERIES_ALLOW_SEQ; flags+=TS_SERIES_ALLOW_SEQ){
    TsSeries s, s2;
    TsBuf b;
    /* Copy so that ASan catches any read past n. */
    char *z = malloc(n ? n : 1);
    memcpy(z, a, n);
    tsSeriesInit(&s);
    if( tsSeriesParse(z, n, flags, &s, zErr, sizeof(zErr))==0 ){
      size_t i;
      tsBufInit(&b);
      tsJsonAppendSeries(&b, &s);
      tsSeriesInit(&s2);
      /* Written form: always an object series (sequences become objects). */
      if( tsSeriesParse((const char*)b.a, b.n, 0, &s2, zErr, sizeof(zErr)) ){
        if( !s.bSeq ) abort();
        /* a descending sequence is not a valid object series: fine */
      }else{
        if( s2.n!=s.n ) abort();
        for(i=0; i<s.n; i++){
          /* -0.0 and 0 integer: "-0" parses as INT 0, compare loosely */
          if( !samePoint(&s, &s.a[i], &s2, &s2.a[i]) ) abort();
        }
      }
      tsSeriesFree(&s2);
      tsBufFree(&b);
    }
    tsSeriesFree(&s);
    free(z);
  }
  return 0;
}
