/*
** test_bl_value.c: unit tests of ext/codec/bl_value.c, the batch-load value
** rules (time column per TimeUnit, DOUBLE, BIGINT, BOOLEAN, TIMESTAMP) and
** their reason texts.
*/
#include "bl_value.h"
#include "tt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t tm(const char *z, int64_t iUnit, char *zWhy){
  int64_t v = -1;
  zWhy[0] = 0;
  if( tsBlParseTime(z, strlen(z), iUnit, &v, zWhy, 200) ) return -1;
  return v;
}

int main(void){
  char zWhy[200];
  int64_t i = 0;
  double r = 0;
  int b = 0;

  TT_EQ_I64("unit MILLISECONDS", tsBlUnitParse("MILLISECONDS"), 1000000);
  TT_EQ_I64("unit SECONDS", tsBlUnitParse("SECONDS"), 1000000000);
  TT_EQ_I64("unit MICROSECONDS", tsBlUnitParse("MICROSECONDS"), 1000);
  TT_EQ_I64("unit NANOSECONDS", tsBlUnitParse("NANOSECONDS"), 1);
  TT_EQ_I64("unit lower case is not a unit", tsBlUnitParse("seconds"), 0);

  TT_EQ_I64("time seconds", tm("1616661921", TS_BL_SECONDS, zWhy), 1616661921000000000LL);
  TT_EQ_I64("time ms", tm("1695335950657", TS_BL_MILLISECONDS, zWhy), 1695335950657000000LL);
  TT_EQ_I64("time ns max", tm("9223372036854775807", TS_BL_NANOSECONDS, zWhy), INT64_MAX);
  TT_EQ_I64("time zero", tm("0", TS_BL_SECONDS, zWhy), 0);
  TT_EQ_I64("time ns overflow", tm("9223372036854775808", TS_BL_NANOSECONDS, zWhy), -1);
  TT_EQ_STR("time overflow reason", zWhy,
            "'9223372036854775808' NANOSECONDS is past the largest time (2262-04-11T23:47:16.854775807Z)");
  TT_EQ_I64("time seconds overflow", tm("9223372037", TS_BL_SECONDS, zWhy), -1);
  TT_EQ_I64("time 20 digits overflow", tm("99999999999999999999", TS_BL_MILLISECONDS, zWhy), -1);
  TT_EQ_I64("time negative", tm("-1", TS_BL_SECONDS, zWhy), -1);
  TT_EQ_STR("time negative reason", zWhy, "'-1' is negative (times start at 1970-01-01)");
  TT_EQ_I64("time fraction", tm("1.5", TS_BL_SECONDS, zWhy), -1);
  TT_EQ_STR("time fraction reason", zWhy, "'1.5' is not an integer count of SECONDS");
  TT_EQ_I64("time plus sign", tm("+1", TS_BL_SECONDS, zWhy), -1);
  TT_EQ_I64("time blank", tm(" 1", TS_BL_SECONDS, zWhy), -1);
  TT_EQ_I64("time empty", tm("", TS_BL_SECONDS, zWhy), -1);

  TT_CHECK("double 1.5", tsBlParseDouble("1.5", 3, &r, zWhy, 200)==0 && r==1.5);
  TT_CHECK("double -2e3", tsBlParseDouble("-2e3", 4, &r, zWhy, 200)==0 && r==-2000.0);
  TT_CHECK("double .5", tsBlParseDouble(".5", 2, &r, zWhy, 200)==0 && r==0.5);
  TT_CHECK("double 5.", tsBlParseDouble("5.", 2, &r, zWhy, 200)==0 && r==5.0);
  TT_CHECK("double 1e-400 underflows to 0", tsBlParseDouble("1e-400", 6, &r, zWhy, 200)==0 && r==0.0);
  TT_CHECK("double inf refused", tsBlParseDouble("inf", 3, &r, zWhy, 200)==1);
  TT_CHECK("double nan refused", tsBlParseDouble("nan", 3, &r, zWhy, 200)==1);
  TT_CHECK("double hex refused", tsBlParseDouble("0x1p3", 5, &r, zWhy, 200)==1);
  TT_CHECK("double 1e999 out of range", tsBlParseDouble("1e999", 5, &r, zWhy, 200)==1);
  TT_EQ_STR("double range reason", zWhy, "'1e999' is out of the DOUBLE range");
  TT_CHECK("double 1e refused", tsBlParseDouble("1e", 2, &r, zWhy, 200)==1);
  TT_CHECK("double trailing blank refused", tsBlParseDouble("1 ", 2, &r, zWhy, 200)==1);
  TT_EQ_STR("double reason", zWhy, "'1 ' is not a number");
  TT_CHECK("double not NUL-terminated", tsBlParseDouble("12345", 2, &r, zWhy, 200)==0 && r==12.0);

  TT_CHECK("bigint min", tsBlParseBigint("-9223372036854775808", 20, &i, zWhy, 200)==0 && i==INT64_MIN);
  TT_CHECK("bigint max", tsBlParseBigint("9223372036854775807", 19, &i, zWhy, 200)==0 && i==INT64_MAX);
  TT_CHECK("bigint +7", tsBlParseBigint("+7", 2, &i, zWhy, 200)==0 && i==7);
  TT_CHECK("bigint max+1", tsBlParseBigint("9223372036854775808", 19, &i, zWhy, 200)==1);
  TT_EQ_STR("bigint range reason", zWhy, "'9223372036854775808' is out of the BIGINT range");
  TT_CHECK("bigint 1.0 refused", tsBlParseBigint("1.0", 3, &i, zWhy, 200)==1);
  TT_EQ_STR("bigint reason", zWhy, "'1.0' is not an integer");
  TT_CHECK("bigint lone sign refused", tsBlParseBigint("-", 1, &i, zWhy, 200)==1);

  TT_CHECK("bool TRUE", tsBlParseBool("TRUE", 4, &b, zWhy, 200)==0 && b==1);
  TT_CHECK("bool false", tsBlParseBool("false", 5, &b, zWhy, 200)==0 && b==0);
  TT_CHECK("bool 1", tsBlParseBool("1", 1, &b, zWhy, 200)==0 && b==1);
  TT_CHECK("bool 0", tsBlParseBool("0", 1, &b, zWhy, 200)==0 && b==0);
  TT_CHECK("bool yes refused", tsBlParseBool("yes", 3, &b, zWhy, 200)==1);
  TT_EQ_STR("bool reason", zWhy, "'yes' is not a BOOLEAN (true, false, 1 or 0)");

  TT_CHECK("timestamp count", tsBlParseTimestamp("1500", 4, TS_BL_SECONDS, &i, zWhy, 200)==0
           && i==1500000000000LL);
  TT_CHECK("timestamp ISO", tsBlParseTimestamp("1970-01-01T00:00:01Z", 20, TS_BL_SECONDS, &i, zWhy, 200)==0
           && i==1000000000LL);
  TT_CHECK("timestamp before 1970 refused", tsBlParseTimestamp("1969-12-31T23:59:59Z", 20, TS_BL_SECONDS,
           &i, zWhy, 200)==1);
  TT_CHECK("timestamp text refused", tsBlParseTimestamp("soon", 4, TS_BL_MILLISECONDS, &i, zWhy, 200)==1);
  TT_EQ_STR("timestamp reason", zWhy, "'soon' is neither an integer count of MILLISECONDS nor an ISO-8601 time");

  /* The fast path (mantissa < 2^53 with an exact power of ten) against
  ** strtod on many shapes: every result bit-identical. */
  {
    static const char *az[] = {
      "0", "-0", "+0", "0.0", "00012", "1", "-1", "12.5", "0.1", "0.3", "1.7976931348623157e308",
      "2.2250738585072014e-308", "4.9e-324", "9007199254740993", "9007199254740992",
      "123456789012345678901234567890", "0.000000000000000000000001", "1e22", "1e23", "9e22",
      "123.456e-20", "3.14159265358979323846", "1.0000000000000002", "8.5e15", "-7.25e-3",
      "99999999999999999999", "0.1e1", "1234567890123456789", "12345678901234567890",
    };
    unsigned long long x = 88172645463325252ULL;
    size_t k;
    int nBad = 0, nTry = 0;
    char zB[64];
    for(k=0; k<sizeof(az)/sizeof(az[0]); k++){
      double rS = strtod(az[k], 0);
      nTry++;
      if( tsBlParseDouble(az[k], strlen(az[k]), &r, zWhy, 200)!=0
       || memcmp(&r, &rS, sizeof(r))!=0 ){
        if( nBad++<5 ) printf("# fast path mismatch on '%s'\n", az[k]);
      }
    }
    for(k=0; k<300000; k++){
      int nInt, nFrac, e, j, n = 0;
      double rS;
      x ^= x<<13; x ^= x>>7; x ^= x<<17;
      nInt = (int)(x%12); nFrac = (int)((x>>8)%12); e = (int)((x>>16)%60) - 30;
      if( (x>>24)&1 ) zB[n++] = '-';
      for(j=0; j<nInt; j++){ x ^= x<<13; x ^= x>>7; x ^= x<<17; zB[n++] = (char)('0' + x%10); }
      if( nFrac || nInt==0 ){
        zB[n++] = '.';
        for(j=0; j<(nFrac ? nFrac : 1); j++){ x ^= x<<13; x ^= x>>7; x ^= x<<17; zB[n++] = (char)('0' + x%10); }
      }
      if( (x>>32)&1 ) n += snprintf(zB+n, sizeof(zB)-(size_t)n, "e%d", e);
      zB[n] = 0;
      rS = strtod(zB, 0);
      nTry++;
      if( tsBlParseDouble(zB, (size_t)n, &r, zWhy, 200)!=0 || memcmp(&r, &rS, sizeof(r))!=0 ){
        if( nBad++<5 ) printf("# fast path mismatch on '%s'\n", zB);
      }
    }
    TT_CHECK("double equals strtod bit for bit (300029 shapes)", nBad==0 && nTry==300029);
  }

  {
    char zS[64];
    const char *zLong = "0123456789012345678901234567890123456789xyz";
    tsBlQuoteSample(zLong, strlen(zLong), zS, sizeof(zS));
    TT_EQ_STR("sample cut at 40 bytes", zS, "0123456789012345678901234567890123456789...");
    tsBlQuoteSample("a\nb", 3, zS, sizeof(zS));
    TT_EQ_STR("sample control bytes", zS, "a?b");
    /* 39 ASCII bytes then a 2-byte UTF-8 character straddling the cut */
    tsBlQuoteSample("012345678901234567890123456789012345678\xc3\xa9zz", 43, zS, sizeof(zS));
    TT_EQ_STR("sample does not cut UTF-8", zS, "012345678901234567890123456789012345678...");
  }
  return tt_done();
}
