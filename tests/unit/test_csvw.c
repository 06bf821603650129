/*
** test_csvw.c: unit tests of the UNLOAD CSV encoder (ext/codec/csv_write.c) and
** the options_json parser (ext/unload_opts.c).
*/
#include "tt.h"
#include "csv_write.h"
#include "unload.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Encode one field with the dialect and return it as a static string. */
static const char *enc(char cDelim, char cEsc, const char *z){
  static char zOut[256];
  TsBuf b;
  TsCsvDialect d;
  d.cDelim = cDelim;
  d.cEscape = cEsc;
  tsBufInit(&b);
  tsCsvAppendText(&b, &d, z, strlen(z));
  snprintf(zOut, sizeof(zOut), "%.*s", (int)b.n, b.a ? (const char*)b.a : "");
  tsBufFree(&b);
  return zOut;
}

static const char *dbl(double r){
  static char z[TS_DBL_BUFSZ];
  tsCsvFormatDouble(r, z);
  return z;
}

static const char *optErr(const char *zJson){
  static char zOut[512];
  TsUnloadOpts o;
  char *zErr = 0;
  if( tsUnloadOptsParse(zJson, &o, &zErr)==0 ){
    tsUnloadOptsFree(&o);
    return "OK";
  }
  snprintf(zOut, sizeof(zOut), "%s", zErr ? zErr : "(null)");
  free(zErr);
  return zOut;
}

static void testFields(void){
  TT_EQ_STR("plain", enc(',', '\\', "abc"), "abc");
  TT_EQ_STR("empty string is quoted", enc(',', '\\', ""), "\"\"");
  TT_EQ_STR("delimiter quotes", enc(',', '\\', "a,b"), "\"a,b\"");
  TT_EQ_STR("quote escaped, not wrapped", enc(',', '\\', "Time\"stream"), "Time\\\"stream");
  TT_EQ_STR("escape doubled", enc(',', '\\', "Time\\stream"), "Time\\\\stream");
  TT_EQ_STR("newline wraps", enc(',', '\\', "a\nb"), "\"a\nb\"");
  TT_EQ_STR("CR wraps", enc(',', '\\', "a\rb"), "\"a\rb\"");
  TT_EQ_STR("everything", enc(',', '\\', "x,\"\\\n"), "\"x,\\\"\\\\\n\"");
  TT_EQ_STR("other delimiter: comma plain", enc('|', '\\', "a,b"), "a,b");
  TT_EQ_STR("other delimiter: pipe quoted", enc('|', '\\', "a|b"), "\"a|b\"");
  TT_EQ_STR("escape '\"' doubles quotes (RFC 4180)", enc(',', '"', "a\"b"), "\"a\"\"b\"");
  TT_EQ_STR("custom escape", enc(',', '~', "a~b\"c\\d"), "a~~b~\"c\\d");
  TT_EQ_STR("utf-8 passes", enc(',', '\\', "z\xc3\xbcrich \xe2\x82\xac \xf0\x9f\x98\x80"),
            "z\xc3\xbcrich \xe2\x82\xac \xf0\x9f\x98\x80");
  TT_EQ_STR("tab delimiter", enc('\t', '\\', "a\tb"), "\"a\tb\"");
}

static void testNumbers(void){
  char z[TS_DBL_BUFSZ];
  TT_EQ_STR("double 1.5", dbl(1.5), "1.5");
  TT_EQ_STR("double integral", dbl(2.0), "2.0");
  TT_EQ_STR("double negative", dbl(-0.25), "-0.25");
  TT_EQ_STR("double 0.1 shortest", dbl(0.1), "0.1");
  TT_EQ_STR("double 1/3 17 digits", dbl(1.0/3.0), "0.3333333333333333");
  TT_EQ_STR("double big", dbl(1e300), "1e+300");
  TT_EQ_STR("double inf", dbl(INFINITY), "inf");
  TT_EQ_STR("double -inf", dbl(-INFINITY), "-inf");
  TT_CHECK("double round trip 0.30000000000000004", strtod(dbl(0.1+0.2), 0)==0.1+0.2);
  tsCsvFormatTimestamp(1714564800123456789LL, z);
  TT_EQ_STR("timestamp text", z, "2024-05-01 12:00:00.123456789");
  tsCsvFormatTimestamp(-1, z);
  TT_EQ_STR("timestamp before epoch", z, "1969-12-31 23:59:59.999999999");
}

static void testGzip(void){
  TsGz gz;
  TsBuf out, in;
  int i, ok;
  z_stream s;
  unsigned char *aBack;
  size_t nBack = 0;
  tsBufInit(&out);
  tsBufInit(&in);
  for(i=0; i<200000; i++) tsBufPrintf(&in, "%d,row %d,%d.5\n", i, i%97, i*3);
  ok = tsGzInit(&gz, 6)==0;
  ok = ok && tsGzWrite(&gz, in.a, in.n/2, &out)==0;
  ok = ok && tsGzSync(&gz, &out)==0;
  {
    /* After a sync, the bound on the rest holds. */
    size_t nAfterSync = out.n;
    ok = ok && tsGzWrite(&gz, in.a+in.n/2, in.n-in.n/2, &out)==0;
    ok = ok && tsGzFinish(&gz, &out)==0;
    TT_CHECK("gzip bound after sync", out.n <= nAfterSync + tsGzBound(in.n-in.n/2));
  }
  tsGzFree(&gz);
  TT_CHECK("gzip stream written", ok && out.n>20 && out.a[0]==0x1f && out.a[1]==0x8b);
  TT_CHECK("gzip compresses", out.n < in.n/3);
  aBack = malloc(in.n+16);
  memset(&s, 0, sizeof(s));
  inflateInit2(&s, 15+16);
  s.next_in = out.a; s.avail_in = (uInt)out.n;
  s.next_out = aBack; s.avail_out = (uInt)(in.n+16);
  TT_CHECK("gunzip ends the stream", inflate(&s, Z_FINISH)==Z_STREAM_END);
  nBack = in.n+16 - s.avail_out;
  inflateEnd(&s);
  TT_CHECK("gzip round trip", nBack==in.n && memcmp(aBack, in.a, in.n)==0);
  free(aBack);
  {
    /* Incompressible data stays under the bound. */
    TsBuf rnd, o2;
    unsigned x = 12345;
    tsBufInit(&rnd); tsBufInit(&o2);
    for(i=0; i<300000; i++){ x = x*1103515245u + 12345u; tsBufAppendByte(&rnd, (unsigned char)(x>>16)); }
    ok = tsGzInit(&gz, 6)==0 && tsGzWrite(&gz, rnd.a, rnd.n, &o2)==0 && tsGzFinish(&gz, &o2)==0;
    tsGzFree(&gz);
    TT_CHECK("gzip bound on random bytes", ok && o2.n <= tsGzBound(rnd.n));
    tsBufFree(&rnd); tsBufFree(&o2);
  }
  tsBufFree(&out);
  tsBufFree(&in);
}

static void testOptions(void){
  TsUnloadOpts o;
  char *zErr = 0;
  int rc;
  int64_t n;
  rc = tsUnloadOptsParse("{\"FORMAT\":\"PARQUET\",\"compression\":\"Zstd\","
      "\"partitioned_by\":[\"a\",\"b\\u00fc\"],\"max_file_size\":\"0.5GB\","
      "\"encryption\":\"SSE_KMS\",\"kms_key\":\"arn:aws:kms:k\"}", &o, &zErr);
  TT_CHECK("options parse", rc==0);
  if( rc==0 ){
    TT_EQ_I64("format", o.eFormat, TS_UNLOAD_PARQUET);
    TT_EQ_I64("compression", o.eCompression, TS_UNLOAD_ZSTD);
    TT_EQ_I64("partitions", o.nPartition, 2);
    TT_EQ_STR("partition 2 utf-8", o.azPartition[1], "b\xc3\xbc");
    TT_EQ_I64("max_file_size 0.5GB", o.nMaxFileSize, 512LL*1024*1024);
    TT_EQ_STR("encryption", o.zEncryption, "sse_kms");
    TT_EQ_STR("kms_key", o.zKmsKey, "arn:aws:kms:k");
    tsUnloadOptsFree(&o);
  }
  free(zErr);
  rc = tsUnloadOptsParse(0, &o, &zErr);
  TT_CHECK("defaults", rc==0 && o.eFormat==TS_UNLOAD_CSV && o.eCompression==TS_UNLOAD_GZIP
           && o.cDelim==',' && o.cEscape=='\\' && o.bHeader==0
           && o.nMaxFileSize==78LL*1024*1024*1024);
  tsUnloadOptsFree(&o);
  TT_CHECK("size 24.7MB", tsUnloadParseSize("24.7MB", &n)==0 && n==(int64_t)(24.7*1024*1024+0.5));
  TT_CHECK("size 16mb", tsUnloadParseSize("16mb", &n)==0 && n==16LL*1024*1024);
  TT_CHECK("size bad unit", tsUnloadParseSize("16KB", &n)!=0);
  TT_CHECK("size no digits", tsUnloadParseSize("MB", &n)!=0);
  TT_CHECK("size trailing dot", tsUnloadParseSize("1.GB", &n)!=0);
  TT_EQ_STR("empty object", optErr("{}"), "OK");
  TT_EQ_STR("whitespace only", optErr("  "), "OK");
  TT_EQ_STR("not an object", optErr("[1]"),
            "options_json must be a JSON object such as {\"format\":\"parquet\"}");
  TT_EQ_STR("trailing garbage", optErr("{} x"), "unexpected text after the options object at offset 3");
  TT_EQ_STR("unterminated", optErr("{\"format\":\"csv"), "options_json: unterminated string");
  TT_EQ_STR("bad escape", optErr("{\"format\":\"c\\qsv\"}"), "options_json: bad escape in a string at offset 12");
  TT_EQ_STR("lone surrogate", optErr("{\"kms_key\":\"\\ud800\"}"), "options_json: unpaired surrogate");
  TT_EQ_STR("missing colon", optErr("{\"format\" \"csv\"}"), "expected ':' after option 'format'");
  TT_EQ_STR("bad literal", optErr("{\"include_header\":tru}"), "options_json: not valid JSON at offset 18");
  TT_EQ_STR("nested in string option", optErr("{\"format\":{\"a\":[1]}}"),
            "option 'format' must be a string, got an object");
  TT_EQ_STR("number for string", optErr("{\"max_file_size\":100}"),
            "option 'max_file_size' must be a string, got a number");
  TT_EQ_STR("partition not array", optErr("{\"partitioned_by\":\"a\"}"),
            "option 'partitioned_by' must be a JSON array of column names, such as [\"region\"]");
  TT_EQ_STR("partition not strings", optErr("{\"partitioned_by\":[1]}"),
            "option 'partitioned_by' must be a JSON array of column names (strings)");
  TT_EQ_STR("empty partitions ok", optErr("{\"partitioned_by\":[]}"), "OK");
  TT_EQ_STR("duplicate option (case)", optErr("{\"format\":\"csv\",\"Format\":\"csv\"}"),
            "option 'format' is given twice");
}

/* The general rule tsCsvFormatDouble implements (the first of 15, 16, 17
** significant digits that reads back exactly, ".0" on integral fixed
** text), as plain snprintf/strtod: the fast path must agree with it on
** every value. */
static void refDouble(double r, char *z){
  int n = 0, nDigit;
  if( isnan(r) ){ snprintf(z, TS_DBL_BUFSZ, "nan"); return; }
  if( isinf(r) ){ snprintf(z, TS_DBL_BUFSZ, r<0 ? "-inf" : "inf"); return; }
  for(nDigit=15; nDigit<=17; nDigit++){
    n = snprintf(z, TS_DBL_BUFSZ, "%.*g", nDigit, r);
    if( strtod(z, 0)==r ) break;
  }
  if( strpbrk(z, ".e")==0 && n+2<TS_DBL_BUFSZ ){ z[n++] = '.'; z[n++] = '0'; z[n] = 0; }
}

static void testDoubleDiff(void){
  static const double aScale[] = { 1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e9, 1e12, 1e15, 1e18 };
  uint64_t x = 0x9E3779B97F4A7C15ull;
  int i, nBad = 0;
  char zA[TS_DBL_BUFSZ], zB[TS_DBL_BUFSZ], zFirst[200] = "";
  for(i=0; i<100000; i++){
    double r;
    x ^= x<<13; x ^= x>>7; x ^= x<<17;
    switch( i%4 ){
      case 0: {     /* short decimals: integer / power of ten */
        int64_t m = (int64_t)(x % 2000000000000000ull) >> (x>>60);
        r = (double)(m - (int64_t)(x>>62)*m) / aScale[(x>>40)%11];
        break;
      }
      case 1: {     /* 1-6 digit decimals around the fast path's edges */
        r = (double)(x % 1000000) / aScale[(x>>32)%11] * ((x>>63) ? -1 : 1);
        break;
      }
      case 2: {     /* any bit pattern */
        memcpy(&r, &x, 8);
        break;
      }
      default: {    /* values computed the way data is (sums, products) */
        r = (double)(x % 100000)/100.0 + 0.05*(double)((x>>20)%7) - 1e-4*(double)((x>>30)%3);
        break;
      }
    }
    tsCsvFormatDouble(r, zA);
    refDouble(r, zB);
    if( strcmp(zA, zB)!=0 ){
      if( nBad++==0 ) snprintf(zFirst, sizeof(zFirst), "%a: got %s, expected %s", r, zA, zB);
    }
  }
  {
    static const double aEdge[] = { 1e-4, -1e-4, 9.9999999999999e-5, 1e15, 999999999999999.0,
                                    999999999999999.9, 0.1, 0.2, 0.3, 1.0/3, 2.5e-5, 123456789012345.0,
                                    12345678901234.5, 0.000123456789012345, 4503599627370496.5 };
    for(i=0; i<(int)(sizeof(aEdge)/sizeof(aEdge[0])); i++){
      tsCsvFormatDouble(aEdge[i], zA);
      refDouble(aEdge[i], zB);
      if( strcmp(zA, zB)!=0 && nBad++==0 ) snprintf(zFirst, sizeof(zFirst), "%a: got %s, expected %s", aEdge[i], zA, zB);
    }
  }
  if( nBad ) printf("# %d differences; first: %s\n", nBad, zFirst);
  TT_EQ_I64("double text: fast path agrees with snprintf/strtod on 100015 values", nBad, 0);
}

int main(void){
  testDoubleDiff();
  testFields();
  testNumbers();
  testGzip();
  testOptions();
  return tt_done();
}
