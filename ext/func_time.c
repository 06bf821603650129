/*
** func_time.c: Timestream's date/time functions over INTEGER ns timestamps.
**
**   now()                       the connection clock (tsEnvNow: honours
**                               ts_debug_set_now), INTEGER ns
**   ago(i)                      now() - i
**   bin(t, i)                   floor(t / i) * i on epoch ns (not calendar)
**   date_trunc(unit, t)         unit: nanosecond .. day, week (ISO, Monday),
**                               month, quarter, year
**   date_add(unit, n, t)        calendar units clamp the day of month
**   date_diff(unit, a, b)       whole units from a to b, truncated to zero
**   parse_duration(s)           interval text (spaces allowed) -> ns
**   from_/to_milliseconds, from_/to_nanoseconds, from_unixtime,
**   to_unixtime, from_iso8601_timestamp, from_iso8601_date, to_iso8601
**   year quarter month week week_of_year day day_of_month day_of_week dow
**   day_of_year doy year_of_week yow hour minute second millisecond
**   nanosecond                  extraction (INTEGER), all in UTC
**
** Every result that is a time is checked against the int64 ns range
** (1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z);
** outside it the function fails with "<name>: result out of range".
*/
#include "tslite.h"
#include <math.h>
#include <string.h>

/* Units of date_trunc / date_add / date_diff.  nNs>0: fixed length;
** nMonth>0: calendar unit of that many months. */
typedef struct TimeUnit { const char *zName; int64_t nNs; int nMonth; } TimeUnit;
static const TimeUnit aTimeUnit[] = {
  { "nanosecond",  1, 0 },
  { "microsecond", TS_NS_PER_US, 0 },
  { "millisecond", TS_NS_PER_MS, 0 },
  { "second",      TS_NS_PER_SEC, 0 },
  { "minute",      TS_NS_PER_MIN, 0 },
  { "hour",        TS_NS_PER_HOUR, 0 },
  { "day",         TS_NS_PER_DAY, 0 },
  { "week",        7*TS_NS_PER_DAY, 0 },
  { "month",       0, 1 },
  { "quarter",     0, 3 },
  { "year",        0, 12 },
};
#define UNIT_WEEK 7

/* Look up argv[0] as a unit.  Returns the index, -1 for NULL (result NULL),
** -2 after setting an error. */
static int timeUnitArg(sqlite3_context *ctx, const char *zFunc, sqlite3_value *v){
  const char *z;
  size_t i;
  if( sqlite3_value_type(v)==SQLITE_NULL ) return -1;
  z = (const char*)sqlite3_value_text(v);
  if( z ){
    for(i=0; i<sizeof(aTimeUnit)/sizeof(aTimeUnit[0]); i++){
      if( sqlite3_stricmp(z, aTimeUnit[i].zName)==0 ) return (int)i;
    }
  }
  tsFuncError(ctx, "%s: unknown unit '%.50s' (expected nanosecond, microsecond, "
      "millisecond, second, minute, hour, day, week, month, quarter or year)",
      zFunc, z ? z : "");
  return -2;
}

static void resultTime(sqlite3_context *ctx, const char *zFunc, __int128 v){
  if( v<INT64_MIN || v>INT64_MAX ){
    tsFuncError(ctx, "%s: result out of range (timestamps are int64 nanoseconds: "
                "1677-09-21 .. 2262-04-11)", zFunc);
  }else{
    sqlite3_result_int64(ctx, (sqlite3_int64)v);
  }
}

/* Split t into days since the epoch and ns within the day. */
static void splitDay(int64_t t, int64_t *piDay, int64_t *piTod){
  *piDay = t / TS_NS_PER_DAY;       /* truncate then borrow: no overflow */
  *piTod = t % TS_NS_PER_DAY;
  if( *piTod<0 ){ *piTod += TS_NS_PER_DAY; (*piDay)--; }
}

static int isLeap(int64_t y){ return (y%4==0 && y%100!=0) || y%400==0; }
static unsigned daysInMonth(int64_t y, unsigned m){
  static const unsigned aDim[] = {31,28,31,30,31,30,31,31,30,31,30,31};
  return m==2 && isLeap(y) ? 29 : aDim[m-1];
}

/* t plus nMonth calendar months (day clamped to the month's length), as a
** 128-bit value the caller range-checks.  *pbRange set if the year is absurd. */
static __int128 addMonths(int64_t t, int64_t nMonth, int *pbRange){
  int64_t iDay, iTod, y, iTot;
  unsigned m, d, dim;
  splitDay(t, &iDay, &iTod);
  tsCivilFromDays(iDay, &y, &m, &d);
  if( nMonth>12*400000LL || nMonth<-12*400000LL ){ *pbRange = 1; return 0; }
  iTot = y*12 + (m-1) + nMonth;
  y = tsFloorDiv(iTot, 12);
  m = (unsigned)(iTot - y*12) + 1;
  dim = daysInMonth(y, m);
  if( d>dim ) d = dim;
  return (__int128)tsDaysFromCivil(y, m, d)*TS_NS_PER_DAY + iTod;
}

/*---------------------------------------------------------------- now/ago */

static void nowFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3_result_int64(ctx, tsEnvNow((TsEnv*)sqlite3_user_data(ctx)));
}

static void agoFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int64_t i;
  if( tsFuncArgInterval(ctx, "ago", argv[0], &i)!=TS_ARG_OK ) return;
  resultTime(ctx, "ago", (__int128)tsEnvNow((TsEnv*)sqlite3_user_data(ctx)) - i);
}

static void binFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int64_t t, i;
  int rc = tsFuncArgTime(ctx, "bin", argv[0], &t);
  if( rc==TS_ARG_ERROR ) return;
  if( tsFuncArgInterval(ctx, "bin", argv[1], &i)!=TS_ARG_OK || rc!=TS_ARG_OK ) return;
  if( i<=0 ){
    tsFuncError(ctx, "bin: interval must be positive, got %lld ns", (long long)i);
    return;
  }
  resultTime(ctx, "bin", (__int128)tsFloorDiv(t, i)*i);
}

/*------------------------------------------------ date_trunc/add/diff */

static void dateTruncFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int64_t t, iDay, iTod, y;
  unsigned m, d;
  int iUnit = timeUnitArg(ctx, "date_trunc", argv[0]);
  int rc;
  if( iUnit==-2 ) return;
  rc = tsFuncArgTime(ctx, "date_trunc", argv[1], &t);
  if( rc!=TS_ARG_OK || iUnit<0 ) return;
  splitDay(t, &iDay, &iTod);
  if( iUnit==UNIT_WEEK ){
    /* 1970-01-01 was a Thursday: (iDay+3) mod 7 is 0 on Mondays. */
    resultTime(ctx, "date_trunc", (__int128)(iDay - tsFloorMod(iDay+3, 7))*TS_NS_PER_DAY);
  }else if( aTimeUnit[iUnit].nNs ){
    int64_t u = aTimeUnit[iUnit].nNs;
    resultTime(ctx, "date_trunc", (__int128)tsFloorDiv(t, u)*u);
  }else{
    tsCivilFromDays(iDay, &y, &m, &d);
    if( aTimeUnit[iUnit].nMonth==12 ) m = 1;
    if( aTimeUnit[iUnit].nMonth==3 ) m = (m-1)/3*3 + 1;
    resultTime(ctx, "date_trunc", (__int128)tsDaysFromCivil(y, m, 1)*TS_NS_PER_DAY);
  }
}

static void dateAddFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int64_t n, t;
  int rc1, rc2;
  int iUnit = timeUnitArg(ctx, "date_add", argv[0]);
  if( iUnit==-2 ) return;
  rc1 = tsFuncArgInt(ctx, "date_add", "the amount", argv[1], &n);
  if( rc1==TS_ARG_ERROR ) return;
  rc2 = tsFuncArgTime(ctx, "date_add", argv[2], &t);
  if( rc2!=TS_ARG_OK || rc1!=TS_ARG_OK || iUnit<0 ) return;
  if( aTimeUnit[iUnit].nNs ){
    resultTime(ctx, "date_add", (__int128)t + (__int128)n*aTimeUnit[iUnit].nNs);
  }else{
    int bRange = 0;
    __int128 v;
    __int128 nMonth = (__int128)n*aTimeUnit[iUnit].nMonth;
    if( nMonth>INT64_MAX || nMonth<INT64_MIN ) bRange = 1;
    v = bRange ? 0 : addMonths(t, (int64_t)nMonth, &bRange);
    resultTime(ctx, "date_add", bRange ? ((__int128)INT64_MAX)+1 : v);
  }
}

static void dateDiffFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int64_t a, b;
  int rc1, rc2;
  int iUnit = timeUnitArg(ctx, "date_diff", argv[0]);
  if( iUnit==-2 ) return;
  rc1 = tsFuncArgTime(ctx, "date_diff", argv[1], &a);
  if( rc1==TS_ARG_ERROR ) return;
  rc2 = tsFuncArgTime(ctx, "date_diff", argv[2], &b);
  if( rc2!=TS_ARG_OK || rc1!=TS_ARG_OK || iUnit<0 ) return;
  if( aTimeUnit[iUnit].nNs ){
    __int128 d = ((__int128)b - a) / aTimeUnit[iUnit].nNs;
    if( d>INT64_MAX || d<INT64_MIN ){
      tsFuncError(ctx, "date_diff: result out of range (more than 2^63-1 %ss)",
                  aTimeUnit[iUnit].zName);
      return;
    }
    sqlite3_result_int64(ctx, (sqlite3_int64)d);
  }else{
    /* Whole months from a to b: the largest k (toward zero) such that
    ** a + k months does not pass b, as Joda/Trino count them. */
    int64_t ya, yb, iDay, iTod, k;
    unsigned ma, mb, d;
    int bRange = 0;
    splitDay(a, &iDay, &iTod); tsCivilFromDays(iDay, &ya, &ma, &d);
    splitDay(b, &iDay, &iTod); tsCivilFromDays(iDay, &yb, &mb, &d);
    k = (yb*12 + mb) - (ya*12 + ma);
    if( b>=a ){
      while( k>0 && addMonths(a, k, &bRange)>b ) k--;
    }else{
      while( k<0 && addMonths(a, k, &bRange)<b ) k++;
    }
    sqlite3_result_int64(ctx, k / aTimeUnit[iUnit].nMonth);
  }
}

/*-------------------------------------------------------- parse_duration */

static void parseDurationFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *z;
  char zBuf[128];
  int n, i = 0, j = 0, rc, bBad = 0;
  int64_t v;
  if( sqlite3_value_type(argv[0])==SQLITE_NULL ) return;
  z = (const char*)sqlite3_value_text(argv[0]);
  n = sqlite3_value_bytes(argv[0]);
  /* Drop spaces around the string and between the number and the unit. */
  while( i<n && (z[i]==' ' || z[i]=='\t') ) i++;
  while( n>i && (z[n-1]==' ' || z[n-1]=='\t') ) n--;
  while( i<n && j<(int)sizeof(zBuf)-1 && ((z[i]>='0' && z[i]<='9') || z[i]=='.') ) zBuf[j++] = z[i++];
  while( i<n && (z[i]==' ' || z[i]=='\t') ) i++;
  if( i<n && ((z[i]>='0' && z[i]<='9') || z[i]=='.') ) bBad = 1;   /* "1 2h" */
  while( i<n && j<(int)sizeof(zBuf)-1 ) zBuf[j++] = z[i++];
  zBuf[j] = 0;
  rc = (i<n || bBad) ? TS_TIME_SYNTAX : tsIntervalParse(zBuf, j, &v);
  if( rc==TS_TIME_OK ){
    sqlite3_result_int64(ctx, v);
    return;
  }
  tsFuncError(ctx, "parse_duration: invalid duration '%.100s': %s", z,
      rc==TS_TIME_RANGE ? "out of the int64 nanosecond range" :
      rc==TS_TIME_CALENDAR ? "year and month have no fixed length" :
      rc==TS_TIME_FRACTION ? "not a whole number of nanoseconds" :
      "expected a number and a unit, unit one of ns us ms s m h d nanosecond "
      "microsecond millisecond second minute hour day");
}

/*------------------------------------------------------------ conversions */

static void fromMillisFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int64_t n;
  if( tsFuncArgInt(ctx, "from_milliseconds", "the argument", argv[0], &n)!=TS_ARG_OK ) return;
  resultTime(ctx, "from_milliseconds", (__int128)n*TS_NS_PER_MS);
}

static void fromNanosFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int64_t n;
  if( tsFuncArgInt(ctx, "from_nanoseconds", "the argument", argv[0], &n)!=TS_ARG_OK ) return;
  sqlite3_result_int64(ctx, n);
}

/* to_milliseconds / to_nanoseconds: INTEGER ns (a timestamp or an
** interval), an interval literal, or an ISO-8601 timestamp. */
static int timeOrIntervalArg(sqlite3_context *ctx, const char *zFunc,
                             sqlite3_value *v, int64_t *pv){
  if( sqlite3_value_type(v)==SQLITE_TEXT ){
    const char *z = (const char*)sqlite3_value_text(v);
    int n = sqlite3_value_bytes(v);
    if( tsIntervalParse(z, n, pv)==TS_TIME_OK ) return TS_ARG_OK;
    if( tsTimeParseIso(z, n, pv)==TS_TIME_OK ) return TS_ARG_OK;
    tsFuncError(ctx, "%s: invalid argument '%.100s': expected INTEGER ns, an interval "
                "like '1h' or an ISO-8601 timestamp", zFunc, z);
    return TS_ARG_ERROR;
  }
  return tsFuncArgTime(ctx, zFunc, v, pv);
}

static void toMillisFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int64_t t;
  if( timeOrIntervalArg(ctx, "to_milliseconds", argv[0], &t)!=TS_ARG_OK ) return;
  sqlite3_result_int64(ctx, tsFloorDiv(t, TS_NS_PER_MS));
}

static void toNanosFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int64_t t;
  if( timeOrIntervalArg(ctx, "to_nanoseconds", argv[0], &t)!=TS_ARG_OK ) return;
  sqlite3_result_int64(ctx, t);
}

static void fromUnixtimeFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  double r, fSec;
  switch( sqlite3_value_type(argv[0]) ){
    case SQLITE_NULL: return;
    case SQLITE_INTEGER:
      resultTime(ctx, "from_unixtime", (__int128)sqlite3_value_int64(argv[0])*TS_NS_PER_SEC);
      return;
    case SQLITE_FLOAT: break;
    default:
      tsFuncError(ctx, "from_unixtime: expects a number of seconds (INTEGER or REAL)");
      return;
  }
  r = sqlite3_value_double(argv[0]);
  if( !(r>-9.3e9 && r<9.3e9) ){
    tsFuncError(ctx, "from_unixtime: result out of range (timestamps are int64 "
                "nanoseconds: 1677-09-21 .. 2262-04-11)");
    return;
  }
  /* Whole seconds exactly, the fraction rounded to the nearest ns. */
  fSec = floor(r);
  resultTime(ctx, "from_unixtime",
      (__int128)(int64_t)fSec*TS_NS_PER_SEC + (int64_t)llround((r - fSec)*1e9));
}

static void toUnixtimeFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int64_t t, s;
  if( tsFuncArgTime(ctx, "to_unixtime", argv[0], &t)!=TS_ARG_OK ) return;
  s = t / TS_NS_PER_SEC;
  sqlite3_result_double(ctx, (double)s + (double)(t % TS_NS_PER_SEC)/1e9);
}

static void fromIsoFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *zFunc = (const char*)sqlite3_user_data(ctx);
  const int bDate = strcmp(zFunc, "from_iso8601_date")==0;
  const char *z;
  int64_t t;
  int n, rc;
  if( sqlite3_value_type(argv[0])==SQLITE_NULL ) return;
  if( sqlite3_value_type(argv[0])!=SQLITE_TEXT ){
    tsFuncError(ctx, "%s: expects ISO-8601 TEXT", zFunc);
    return;
  }
  z = (const char*)sqlite3_value_text(argv[0]);
  n = sqlite3_value_bytes(argv[0]);
  if( bDate && n!=10 ){   /* from_iso8601_date: YYYY-MM-DD only */
    rc = TS_TIME_SYNTAX;
  }else{
    rc = tsTimeParseIso(z, n, &t);
  }
  if( rc==TS_TIME_OK ){
    sqlite3_result_int64(ctx, t);
  }else{
    tsFuncError(ctx, "%s: invalid ISO-8601 %s '%.100s'%s", zFunc,
        bDate ? "date" : "timestamp", z,
        rc==TS_TIME_RANGE ? ": outside the int64 nanosecond range (1677-09-21 .. 2262-04-11)" : "");
  }
}

static void toIsoFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int64_t t;
  char zBuf[TS_ISO_BUFSZ];
  int n;
  if( tsFuncArgTime(ctx, "to_iso8601", argv[0], &t)!=TS_ARG_OK ) return;
  n = tsTimeFormatIso(t, zBuf);
  sqlite3_result_text(ctx, zBuf, n, SQLITE_TRANSIENT);
}

/*------------------------------------------------------------- extraction */

enum { F_YEAR, F_QUARTER, F_MONTH, F_WEEK, F_DAY, F_DOW, F_DOY, F_YOW,
       F_HOUR, F_MINUTE, F_SECOND, F_MILLISECOND, F_NANOSECOND };

typedef struct ExtractFn { const char *zName; int eField; } ExtractFn;
static const ExtractFn aExtract[] = {
  { "year", F_YEAR }, { "quarter", F_QUARTER }, { "month", F_MONTH },
  { "week", F_WEEK }, { "week_of_year", F_WEEK },
  { "day", F_DAY }, { "day_of_month", F_DAY },
  { "day_of_week", F_DOW }, { "dow", F_DOW },
  { "day_of_year", F_DOY }, { "doy", F_DOY },
  { "year_of_week", F_YOW }, { "yow", F_YOW },
  { "hour", F_HOUR }, { "minute", F_MINUTE }, { "second", F_SECOND },
  { "millisecond", F_MILLISECOND }, { "nanosecond", F_NANOSECOND },
};

static void extractFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const ExtractFn *pFn = (const ExtractFn*)sqlite3_user_data(ctx);
  int64_t t, iDay, iTod, y, v = 0;
  unsigned m, d;
  if( tsFuncArgTime(ctx, pFn->zName, argv[0], &t)!=TS_ARG_OK ) return;
  splitDay(t, &iDay, &iTod);
  tsCivilFromDays(iDay, &y, &m, &d);
  switch( pFn->eField ){
    case F_YEAR:    v = y; break;
    case F_QUARTER: v = (m-1)/3 + 1; break;
    case F_MONTH:   v = m; break;
    case F_DAY:     v = d; break;
    case F_DOW:     v = tsFloorMod(iDay+3, 7) + 1; break;        /* Mon=1 .. Sun=7 */
    case F_DOY:     v = iDay - tsDaysFromCivil(y, 1, 1) + 1; break;
    case F_WEEK:
    case F_YOW: {
      /* ISO 8601: the week belongs to the year of its Thursday. */
      int64_t iThu = iDay - tsFloorMod(iDay+3, 7) + 3, yt;
      unsigned mt, dt;
      tsCivilFromDays(iThu, &yt, &mt, &dt);
      v = pFn->eField==F_YOW ? yt : (iThu - tsDaysFromCivil(yt, 1, 1))/7 + 1;
      break;
    }
    case F_HOUR:        v = iTod / TS_NS_PER_HOUR; break;
    case F_MINUTE:      v = iTod / TS_NS_PER_MIN % 60; break;
    case F_SECOND:      v = iTod / TS_NS_PER_SEC % 60; break;
    case F_MILLISECOND: v = iTod / TS_NS_PER_MS % 1000; break;
    case F_NANOSECOND:  v = iTod % TS_NS_PER_SEC; break;
  }
  sqlite3_result_int64(ctx, v);
}

/*----------------------------------------------------------- registration */

int tsFuncTimeRegister(sqlite3 *db, TsEnv *pEnv){
  static const struct {
    const char *zName; int nArg; void (*x)(sqlite3_context*, int, sqlite3_value**);
  } aPure[] = {
    { "bin", 2, binFunc },
    { "date_trunc", 2, dateTruncFunc },
    { "date_add", 3, dateAddFunc },
    { "date_diff", 3, dateDiffFunc },
    { "parse_duration", 1, parseDurationFunc },
    { "from_milliseconds", 1, fromMillisFunc },
    { "to_milliseconds", 1, toMillisFunc },
    { "from_nanoseconds", 1, fromNanosFunc },
    { "to_nanoseconds", 1, toNanosFunc },
    { "from_unixtime", 1, fromUnixtimeFunc },
    { "to_unixtime", 1, toUnixtimeFunc },
    { "to_iso8601", 1, toIsoFunc },
  };
  const int fPure = SQLITE_UTF8|SQLITE_DETERMINISTIC|SQLITE_INNOCUOUS;
  int rc = SQLITE_OK;
  size_t i;
  for(i=0; rc==SQLITE_OK && i<sizeof(aPure)/sizeof(aPure[0]); i++){
    rc = sqlite3_create_function_v2(db, aPure[i].zName, aPure[i].nArg, fPure, 0,
                                    aPure[i].x, 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "from_iso8601_timestamp", 1, fPure,
        (void*)"from_iso8601_timestamp", fromIsoFunc, 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "from_iso8601_date", 1, fPure,
        (void*)"from_iso8601_date", fromIsoFunc, 0, 0, 0);
  }
  for(i=0; rc==SQLITE_OK && i<sizeof(aExtract)/sizeof(aExtract[0]); i++){
    rc = sqlite3_create_function_v2(db, aExtract[i].zName, 1, fPure,
        (void*)&aExtract[i], extractFunc, 0, 0, 0);
  }
  /* now() and ago() read the clock: not deterministic, but innocuous. */
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "now", 0, SQLITE_UTF8|SQLITE_INNOCUOUS,
        tsEnvRef(pEnv), nowFunc, 0, 0, tsEnvUnref);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "ago", 1, SQLITE_UTF8|SQLITE_INNOCUOUS,
        tsEnvRef(pEnv), agoFunc, 0, 0, tsEnvUnref);
  }
  return rc;
}
