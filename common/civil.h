/*
** civil.h: calendar arithmetic shared by every layer that handles dates
** (ext/codec/tstime.c for timestamps, scheduler/ for schedule
** expressions): proleptic Gregorian civil date <-> days since 1970-01-01,
** and floor division/modulo that are right for negative operands.
** Pure C, no state.
*/
#ifndef TS_CIVIL_H
#define TS_CIVIL_H
#include <stdint.h>

/* Nanoseconds per unit. */
#define TS_NS_PER_US   1000LL
#define TS_NS_PER_MS   1000000LL
#define TS_NS_PER_SEC  1000000000LL
#define TS_NS_PER_MIN  (60LL*TS_NS_PER_SEC)
#define TS_NS_PER_HOUR (3600LL*TS_NS_PER_SEC)
#define TS_NS_PER_DAY  (86400LL*TS_NS_PER_SEC)

/* Civil calendar (proleptic Gregorian) <-> days since 1970-01-01. */
int64_t tsDaysFromCivil(int64_t y, unsigned m, unsigned d);
void tsCivilFromDays(int64_t z, int64_t *py, unsigned *pm, unsigned *pd);

/* Floor division and modulo for negative times. */
static inline int64_t tsFloorDiv(int64_t a, int64_t b){
  int64_t q = a / b;
  if( (a % b) != 0 && ((a < 0) != (b < 0)) ) q--;
  return q;
}
static inline int64_t tsFloorMod(int64_t a, int64_t b){
  int64_t m = a % b;            /* never overflows, unlike a - floor(a/b)*b */
  if( m!=0 && ((m < 0) != (b < 0)) ) m += b;
  return m;
}

#endif
