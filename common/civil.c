/*
** civil.c: proleptic Gregorian calendar <-> days since 1970-01-01 (see civil.h).
*/
#include "civil.h"

/* Howard Hinnant's days_from_civil / civil_from_days (public domain
** algorithms, written here from their description). */
int64_t tsDaysFromCivil(int64_t y, unsigned m, unsigned d){
  int64_t era;
  unsigned yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (unsigned)(y - era * 400);
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

void tsCivilFromDays(int64_t z, int64_t *py, unsigned *pm, unsigned *pd){
  int64_t era, y;
  unsigned doe, yoe, doy, mp, d, m;
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = (unsigned)(z - era * 146097);
  yoe = (doe - doe/1460 + doe/36524 - doe/146096) / 365;
  y = (int64_t)yoe + era * 400;
  doy = doe - (365*yoe + yoe/4 - yoe/100);
  mp = (5*doy + 2)/153;
  d = doy - (153*mp + 2)/5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  *py = y + (m <= 2);
  *pm = m;
  *pd = d;
}
