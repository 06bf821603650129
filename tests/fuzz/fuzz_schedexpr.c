/* libFuzzer target: schedule expressions (scheduler/schedexpr.c).  Arbitrary
** bytes must never crash the parser; whatever parses must give fire times
** strictly after the instant asked about, on whole minutes for cron(), and
** the walk must be consistent: asking from one nanosecond before a fire time
** returns that fire time again. */
#include "schedexpr.h"
#include "tstime.h"
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stddef.h>

int LLVMFuzzerTestOneInput(const uint8_t *a, size_t n){
  char z[300], zErr[256];
  TsSched s;
  static const int64_t aFrom[] = {
    0, 1709164800000000000LL /* 2024-02-29 */, -1, 4102444800000000000LL /* 2100-01-01 */,
  };
  size_t i;
  if( n>=sizeof(z) ) return 0;
  memcpy(z, a, n);
  z[n] = 0;
  if( tsSchedParse(z, &s, zErr, sizeof(zErr)) ){
    if( zErr[0]==0 ) abort();                /* every error has a message */
    return 0;
  }
  for(i=0; i<sizeof(aFrom)/sizeof(aFrom[0]); i++){
    int64_t t = aFrom[i], tNext, tAgain;
    int k;
    for(k=0; k<3; k++){
      if( tsSchedNext(&s, t, &tNext) ) break;
      if( tNext<=t ) abort();
      if( s.eKind==TS_SCHED_CRON && tsFloorMod(tNext, TS_NS_PER_MIN)!=0 ) abort();
      if( s.eKind==TS_SCHED_CRON && (tsSchedNext(&s, tNext-1, &tAgain) || tAgain!=tNext) ) abort();
      t = tNext;
    }
  }
  return 0;
}
