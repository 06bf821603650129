/* Unit tests of ext/codec/tsjson.c: the time-series JSON parser and writer. */
#include "tt.h"
#include "tsjson.h"
#include <math.h>
#include <stdlib.h>

/* Parse z; return 0 and the re-written JSON in zOut, or 1 and the error. */
static int parse(const char *z, int flags, char *zOut, size_t nOut){
  TsSeries s;
  TsBuf b;
  int rc;
  tsSeriesInit(&s);
  rc = tsSeriesParse(z, strlen(z), flags, &s, zOut, nOut);
  if( rc==0 ){
    tsBufInit(&b);
    tsJsonAppendSeries(&b, &s);
    snprintf(zOut, nOut, "%.*s", (int)b.n, b.a ? (const char*)b.a : "");
    tsBufFree(&b);
  }
  tsSeriesFree(&s);
  return rc;
}

static void ok(const char *zIn, int flags, const char *zExp){
  char z[512], zName[600];
  snprintf(zName, sizeof(zName), "parse %s", zIn);
  if( parse(zIn, flags, z, sizeof(z)) ){ TT_EQ_STR(zName, z, "(success)"); return; }
  TT_EQ_STR(zName, z, zExp);
}

static void bad(const char *zIn, int flags, const char *zErr){
  char z[512], zName[600];
  snprintf(zName, sizeof(zName), "reject %s", zIn);
  if( parse(zIn, flags, z, sizeof(z))==0 ){ TT_EQ_STR(zName, "(success)", zErr); return; }
  TT_EQ_STR(zName, z, zErr);
}

static void dbl(double r, const char *zExp){
  TsBuf b;
  char zName[64];
  tsBufInit(&b);
  tsJsonAppendDouble(&b, r);
  tsBufAppendByte(&b, 0);
  snprintf(zName, sizeof(zName), "double %s", zExp);
  TT_EQ_STR(zName, (const char*)b.a, zExp);
  tsBufFree(&b);
}

int main(void){
  ok("[]", 0, "[]");
  ok(" [ ] ", 0, "[]");
  ok("[{\"time\":1,\"value\":2}]", 0, "[{\"time\":1,\"value\":2}]");
  ok("[{\"value\":2.50,\"time\":-5}]", 0, "[{\"time\":-5,\"value\":2.5}]");
  ok("[{\"time\":1,\"value\":35.0}]", 0, "[{\"time\":1,\"value\":35.0}]");
  ok("[{\"time\":1,\"value\":1e2},{\"time\":1,\"value\":-0}]", 0,
     "[{\"time\":1,\"value\":100.0},{\"time\":1,\"value\":0}]");
  ok("[{\"time\":1,\"value\":9223372036854775807},{\"time\":2,\"value\":-9223372036854775808}]", 0,
     "[{\"time\":1,\"value\":9223372036854775807},{\"time\":2,\"value\":-9223372036854775808}]");
  ok("[{\"time\":1,\"value\":9223372036854775808}]", 0, "[{\"time\":1,\"value\":9.223372036854776e+18}]");
  /* Any JSON number is accepted, however many digits (an integer beyond
  ** int64 is a REAL): 70-digit integer, 80-digit fraction. */
  ok("[{\"time\":1,\"value\":1234567890123456789012345678901234567890123456789012345678901234567890}]", 0,
     "[{\"time\":1,\"value\":1.2345678901234567e+69}]");
  ok("[{\"time\":1,\"value\":0.25000000000000000000000000000000000000000000000000000000000000000000000000000001}]", 0,
     "[{\"time\":1,\"value\":0.25}]");
  ok("[{\"time\":1,\"value\":\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}]", 0,
     "[{\"time\":1,\"value\":\"a\\\"\\\\/\\b\\f\\n\\r\\t\xc3\xa9\xf0\x9f\x98\x80\"}]");
  ok("[{\"time\":1,\"value\":true},{\"time\":2,\"value\":false},{\"time\":3,\"value\":null}]", 0,
     "[{\"time\":1,\"value\":true},{\"time\":2,\"value\":false},{\"time\":3,\"value\":null}]");
  ok("[{\"time\":\"1970-01-01T00:00:01Z\",\"value\":1}]", 0, "[{\"time\":1000000000,\"value\":1}]");
  ok("[{\"time\":1,\"value\":9.0e999}]", 0, "[{\"time\":1,\"value\":9.0e999}]");
  ok("[3,1,2]", TS_SERIES_ALLOW_SEQ, "[{\"time\":3,\"value\":3},{\"time\":1,\"value\":1},{\"time\":2,\"value\":2}]");

  bad("", 0, "expected '[' at byte 0 (end of input)");
  bad("[", 0, "expected '{' at byte 1");
  bad("[{\"time\":1,\"value\":2}", 0, "expected ',' or ']' at byte 21");
  bad("[{\"time\":1,\"value\":2}] x", 0, "unexpected text after the array at byte 23");
  bad("[{\"time\":2,\"value\":1},{\"time\":1,\"value\":1}]", 0, "times not ascending at element 1");
  bad("[{\"time\":1,\"time\":2,\"value\":1}]", 0, "duplicate key \"time\" at byte 11");
  bad("[{\"time\":1}]", 0, "element 0 has no \"value\"");
  bad("[{\"value\":1}]", 0, "element 0 has no \"time\"");
  bad("[{}]", 0, "element 0 has no \"time\" and \"value\"");
  bad("[{\"time\":1e3,\"value\":1}]", 0, "bad time at byte 9: not an integer number of ns");
  bad("[{\"time\":9223372036854775808,\"value\":1}]", 0, "bad time at byte 9: not an integer number of ns");
  bad("[{\"time\":\"noon\",\"value\":1}]", 0, "bad time at byte 9: not an ISO-8601 timestamp");
  bad("[{\"time\":1,\"value\":[1]}]", 0, "value at byte 19 is not a number, string or boolean");
  bad("[{\"time\":1,\"value\":01}]", 0, "expected ',' or '}' at byte 20");
  bad("[{\"time\":1,\"value\":1.}]", 0, "bad number at byte 19");
  bad("[{\"time\":1,\"value\":\"a\x01\"}]", 0, "control character in string at byte 21");
  bad("[{\"time\":1,\"value\":\"\\ud800\"}]", 0, "unpaired surrogate at byte 26");
  bad("[{\"time\":1,\"value\":\"\\x\"}]", 0, "bad escape at byte 21");
  /* Bytes that are not UTF-8 would come back as U+FFFD: refused (a lone
  ** 0xFF, a truncated sequence at the end of the string, an overlong '/',
  ** an encoded surrogate); well-formed multi-byte text is kept byte for byte. */
  bad("[{\"time\":1,\"value\":\"a\xff\"}]", 0, "invalid UTF-8 in string at byte 21");
  bad("[{\"time\":1,\"value\":\"\xe2\x82\"}]", 0, "invalid UTF-8 in string at byte 20");
  bad("[{\"time\":1,\"value\":\"\xc0\xaf\"}]", 0, "invalid UTF-8 in string at byte 20");
  bad("[{\"time\":1,\"value\":\"\xed\xa0\x80\"}]", 0, "invalid UTF-8 in string at byte 20");
  ok("[{\"time\":1,\"value\":\"\xe2\x82\xac\xf0\x9f\x98\x80\"}]", 0,
     "[{\"time\":1,\"value\":\"\xe2\x82\xac\xf0\x9f\x98\x80\"}]");
  bad("[{\"time\":1,\"value\":\"abc", 0, "unterminated string at byte 23");
  bad("[{\"time\":1,\"value\":tru}]", 0, "unexpected character at byte 19");
  bad("[1,2]", 0, "expected '{' at byte 1");
  bad("[1,2.5]", TS_SERIES_ALLOW_SEQ, "sequence element at byte 3 is not an integer");
  bad("[1,{\"time\":1,\"value\":1}]", TS_SERIES_ALLOW_SEQ, "expected a number at byte 3");

  dbl(35.0, "35.0");
  dbl(0.1, "0.1");
  dbl(-2.5e-300, "-2.5e-300");
  dbl(1e21, "1e+21");
  dbl(1.0/3, "0.3333333333333333");
  dbl(NAN, "null");
  dbl(-INFINITY, "-9.0e999");
  /* Shortest round trip for random doubles. */
  {
    uint64_t x = 12345;
    int i, bOk = 1;
    for(i=0; i<20000 && bOk; i++){
      double r, back;
      TsBuf b;
      x ^= x<<13; x ^= x>>7; x ^= x<<17;
      memcpy(&r, &x, 8);
      if( isnan(r) || isinf(r) ) continue;
      tsBufInit(&b);
      tsJsonAppendDouble(&b, r);
      tsBufAppendByte(&b, 0);
      back = strtod((const char*)b.a, 0);
      bOk = back==r;
      tsBufFree(&b);
    }
    TT_CHECK("doubles round trip through the writer", bOk);
  }
  return tt_done();
}
