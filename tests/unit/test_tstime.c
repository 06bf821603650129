/* Unit tests of ext/codec/tstime.c: interval literals and ISO-8601 timestamps. */
#include "tt.h"
#include "tstime.h"

static void interval(const char *z, int expRc, int64_t expNs){
  int64_t v = -1;
  int rc = tsIntervalParse(z, -1, &v);
  char zName[128];
  snprintf(zName, sizeof(zName), "interval '%s'", z);
  if( expRc==TS_TIME_OK ){
    TT_CHECK(zName, rc==TS_TIME_OK && v==expNs);
  }else{
    TT_EQ_I64(zName, rc, expRc);
  }
}

static void iso(const char *z, int expRc, int64_t expNs){
  int64_t v = -1;
  int rc = tsTimeParseIso(z, -1, &v);
  char zName[160];
  snprintf(zName, sizeof(zName), "iso '%s'", z);
  if( expRc==TS_TIME_OK ){
    if( rc!=TS_TIME_OK ){ TT_EQ_I64(zName, rc, 0); return; }
    TT_EQ_I64(zName, v, expNs);
  }else{
    TT_EQ_I64(zName, rc, expRc);
  }
}

static void fmt(int64_t ns, const char *zExp){
  char zBuf[TS_ISO_BUFSZ];
  char zName[64];
  snprintf(zName, sizeof(zName), "format %lld", (long long)ns);
  tsTimeFormatIso(ns, zBuf);
  TT_EQ_STR(zName, zBuf, zExp);
}

int main(void){
  interval("1h", TS_TIME_OK, TS_NS_PER_HOUR);
  interval("15m", TS_TIME_OK, 15*TS_NS_PER_MIN);
  interval("30s", TS_TIME_OK, 30*TS_NS_PER_SEC);
  interval("1d", TS_TIME_OK, TS_NS_PER_DAY);
  interval("10day", TS_TIME_OK, 10*TS_NS_PER_DAY);
  interval("42.8ms", TS_TIME_OK, 42800000);
  interval("10us", TS_TIME_OK, 10000);
  interval("100ns", TS_TIME_OK, 100);
  interval("2hour", TS_TIME_OK, 2*TS_NS_PER_HOUR);
  interval("1.5nanosecond", TS_TIME_FRACTION, 0);
  interval("1 day", TS_TIME_SYNTAX, 0);
  interval("1w", TS_TIME_SYNTAX, 0);
  interval("", TS_TIME_SYNTAX, 0);
  interval("h", TS_TIME_SYNTAX, 0);
  interval("1.h", TS_TIME_SYNTAX, 0);
  interval("1year", TS_TIME_CALENDAR, 0);
  interval("12month", TS_TIME_CALENDAR, 0);
  interval("1hours", TS_TIME_SYNTAX, 0);
  interval("99999999999d", TS_TIME_RANGE, 0);
  interval("73000d", TS_TIME_OK, 73000*TS_NS_PER_DAY);

  iso("1970-01-01T00:00:00Z", TS_TIME_OK, 0);
  iso("2024-05-01T12:00:00.123456789Z", TS_TIME_OK, 1714564800123456789LL);
  iso("2024-05-01 12:00:00", TS_TIME_OK, 1714564800000000000LL);
  iso("2022-06-17T08:04:05.000000000+05:00", TS_TIME_OK, 1655435045000000000LL);
  iso("2022-06-17T03:04:05-0130", TS_TIME_OK, 1655440445000000000LL);
  iso("2022-07-17", TS_TIME_OK, 1658016000000000000LL);
  iso("2024-02-29T00:00Z", TS_TIME_OK, 1709164800000000000LL);
  iso("2023-02-29T00:00Z", TS_TIME_SYNTAX, 0);
  iso("2024-13-01", TS_TIME_SYNTAX, 0);
  iso("2024-05-01T25:00:00Z", TS_TIME_SYNTAX, 0);
  iso("2024-05-01T12:00:00.1234567891Z", TS_TIME_SYNTAX, 0);
  iso("2024-05-01T12:00:00Zjunk", TS_TIME_SYNTAX, 0);
  iso("yesterday", TS_TIME_SYNTAX, 0);
  iso("2300-01-01T00:00:00Z", TS_TIME_RANGE, 0);
  /* Both ends of the range parse back from what tsTimeFormatIso prints
  ** (the minimum's whole seconds alone are below INT64_MIN). */
  iso("1677-09-21T00:12:43.145224192Z", TS_TIME_OK, INT64_MIN);
  iso("1677-09-21T00:12:43.145224193Z", TS_TIME_OK, INT64_MIN + 1);
  iso("1677-09-21T00:12:43.145224191Z", TS_TIME_RANGE, 0);
  iso("2262-04-11T23:47:16.854775807Z", TS_TIME_OK, INT64_MAX);
  iso("2262-04-11T23:47:16.854775808Z", TS_TIME_RANGE, 0);
  iso("1677-09-21T05:12:43.145224192+05:00", TS_TIME_OK, INT64_MIN);

  fmt(0, "1970-01-01T00:00:00.000000000Z");
  fmt(1714564800123456789LL, "2024-05-01T12:00:00.123456789Z");
  fmt(-1, "1969-12-31T23:59:59.999999999Z");
  fmt(INT64_MAX, "2262-04-11T23:47:16.854775807Z");
  fmt(INT64_MIN, "1677-09-21T00:12:43.145224192Z");
  fmt(-1000000000, "1969-12-31T23:59:59.000000000Z");
  TT_EQ_I64("floormod INT64_MIN by 1e9", tsFloorMod(INT64_MIN, TS_NS_PER_SEC), 145224192);
  TT_EQ_I64("floormod -1 by 7", tsFloorMod(-1, 7), 6);
  return tt_done();
}
