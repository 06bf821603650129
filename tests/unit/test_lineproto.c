/*
** test_lineproto.c: the line protocol parser (ext/codec/lineproto.c) on a
** corpus of lines: every escaping rule, every value type and boolean
** spelling, precisions, comments, and malformed lines with their exact error
** text.  Each case dumps the parse as one canonical text:
**
**   <measurement> [<tag>=<value>...] {<field>:<type>=<value>...} @<ns>|now
**
** (elements in brackets [] for tags, braces for fields, strings shown with
** their bytes; types f i u s b), or "SKIP", or "ERR <message>".
*/
#include "lineproto.h"
#include "tt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void dump(const char *zIn, int ePrec, char *zOut, size_t nOut){
  TsLpParser p;
  TsLpLine l;
  TsBuf b;
  int rc, i;
  tsLpInit(&p);
  tsBufInit(&b);
  rc = tsLpParse(&p, zIn, strlen(zIn), ePrec, &l);
  if( rc==TS_LP_SKIP ){
    tsBufPrintf(&b, "SKIP");
  }else if( rc!=TS_LP_OK ){
    tsBufPrintf(&b, "ERR %s", p.zErr);
  }else{
    tsBufPrintf(&b, "<%s> [", l.zMeas);
    for(i=0; i<l.nTag; i++){
      tsBufPrintf(&b, "%s<%s>=<%s>", i ? " " : "", l.aTag[i].zKey, l.aTag[i].zVal);
    }
    tsBufPrintf(&b, "] {");
    for(i=0; i<l.nField; i++){
      const TsLpField *f = &l.aField[i];
      tsBufPrintf(&b, "%s<%s>:", i ? " " : "", f->zKey);
      switch( f->eType ){
        case TS_LP_FLOAT:  tsBufPrintf(&b, "f=%.17g", f->rVal); break;
        case TS_LP_INT:    tsBufPrintf(&b, "i=%lld", (long long)f->iVal); break;
        case TS_LP_UINT:   tsBufPrintf(&b, "u=%llu", (unsigned long long)f->uVal); break;
        case TS_LP_STRING: tsBufPrintf(&b, "s=<%s>", f->zStr); break;
        case TS_LP_BOOL:   tsBufPrintf(&b, "b=%d", (int)f->iVal); break;
        default:           tsBufPrintf(&b, "?"); break;
      }
    }
    tsBufPrintf(&b, "}");
    if( l.bTime ) tsBufPrintf(&b, " @%lld", (long long)l.iTime); else tsBufPrintf(&b, " now");
  }
  tsBufAppendByte(&b, 0);
  snprintf(zOut, nOut, "%s", b.bErr ? "(oom)" : (const char*)b.a);
  tsBufFree(&b);
  tsLpFree(&p);
}

static const struct { const char *zName, *zIn; int ePrec; const char *zExp; } aCase[] = {
  /* The basic shapes. */
  { "minimal", "cpu v=1", TS_LP_NS, "<cpu> [] {<v>:f=1} now" },
  { "tags fields time", "cpu,host=a,dc=x usage=0.5,n=3i 1714564800000000000", TS_LP_NS,
    "<cpu> [<host>=<a> <dc>=<x>] {<usage>:f=0.5 <n>:i=3} @1714564800000000000" },
  { "leading spaces", "   cpu v=1 5", TS_LP_NS, "<cpu> [] {<v>:f=1} @5" },
  { "trailing spaces", "cpu v=1 5   ", TS_LP_NS, "<cpu> [] {<v>:f=1} @5" },
  { "trailing space no time", "cpu v=1 ", TS_LP_NS, "<cpu> [] {<v>:f=1} now" },
  { "several spaces", "cpu,a=b   v=1    7", TS_LP_NS, "<cpu> [<a>=<b>] {<v>:f=1} @7" },
  { "crlf", "cpu v=1 9\r", TS_LP_NS, "<cpu> [] {<v>:f=1} @9" },
  { "negative time", "cpu v=1 -5", TS_LP_NS, "<cpu> [] {<v>:f=1} @-5" },
  /* Comments and blank lines. */
  { "empty", "", TS_LP_NS, "SKIP" },
  { "spaces only", "    ", TS_LP_NS, "SKIP" },
  { "comment", "# cpu v=1", TS_LP_NS, "SKIP" },
  { "indented comment", "  #x", TS_LP_NS, "SKIP" },
  { "cr only", "\r", TS_LP_NS, "SKIP" },
  /* Escapes in the measurement. */
  { "meas escaped space", "cpu\\ load v=1", TS_LP_NS, "<cpu load> [] {<v>:f=1} now" },
  { "meas escaped comma", "cpu\\,x v=1", TS_LP_NS, "<cpu,x> [] {<v>:f=1} now" },
  { "meas escaped equals", "a\\=b v=1", TS_LP_NS, "<a=b> [] {<v>:f=1} now" },
  { "meas plain equals", "a=b v=1", TS_LP_NS, "<a=b> [] {<v>:f=1} now" },
  { "meas escaped backslash", "my\\\\m v=1", TS_LP_NS, "<my\\m> [] {<v>:f=1} now" },
  { "meas literal backslash", "c:\\temp v=1", TS_LP_NS, "<c:\\temp> [] {<v>:f=1} now" },
  { "meas quote is literal", "\"q\" v=1", TS_LP_NS, "<\"q\"> [] {<v>:f=1} now" },
  { "meas hash inside", "a#b v=1", TS_LP_NS, "<a#b> [] {<v>:f=1} now" },
  /* Escapes in tag keys and values. */
  { "tag key escapes", "m,a\\ b\\,c\\=d=v f=1", TS_LP_NS, "<m> [<a b,c=d>=<v>] {<f>:f=1} now" },
  { "tag value escapes", "m,k=x\\ y\\,z\\=w f=1", TS_LP_NS, "<m> [<k>=<x y,z=w>] {<f>:f=1} now" },
  { "tag value backslash", "m,k=a\\\\b f=1", TS_LP_NS, "<m> [<k>=<a\\b>] {<f>:f=1} now" },
  { "tag value literal backslash", "m,k=a\\b f=1", TS_LP_NS, "<m> [<k>=<a\\b>] {<f>:f=1} now" },
  { "tag value backslash escapes the space", "m,k=a\\ f=1", TS_LP_NS,
    "ERR unescaped '=' in the value of tag 'k' at column 9" },
  { "backslash at end of line", "m\\", TS_LP_NS, "ERR missing fields after measurement 'm\\'" },
  { "tag value quote literal", "m,k=\"a\" f=1", TS_LP_NS, "<m> [<k>=<\"a\">] {<f>:f=1} now" },
  { "utf8 everywhere", "température,pièce=salon valeur=21.5", TS_LP_NS,
    "<température> [<pièce>=<salon>] {<valeur>:f=21.5} now" },
  /* Escapes in field keys. */
  { "field key escapes", "m a\\ b\\,c\\=d=1", TS_LP_NS, "<m> [] {<a b,c=d>:f=1} now" },
  /* String fields. */
  { "string", "m s=\"hello world\"", TS_LP_NS, "<m> [] {<s>:s=<hello world>} now" },
  { "string escapes", "m s=\"a\\\"b\\\\c\"", TS_LP_NS, "<m> [] {<s>:s=<a\"b\\c>} now" },
  { "string other backslash literal", "m s=\"a\\nb\\,c\"", TS_LP_NS,
    "<m> [] {<s>:s=<a\\nb\\,c>} now" },
  { "string with separators", "m s=\"a,b=c d\",n=1i 3", TS_LP_NS,
    "<m> [] {<s>:s=<a,b=c d> <n>:i=1} @3" },
  { "empty string", "m s=\"\"", TS_LP_NS, "<m> [] {<s>:s=<>} now" },
  { "string then time", "m s=\"x\" 42", TS_LP_NS, "<m> [] {<s>:s=<x>} @42" },
  /* Numbers. */
  { "float forms", "m a=1,b=-1.5,c=.5,d=1.,e=1e3,f=-2.5E-3,g=1e+2,h=007", TS_LP_NS,
    "<m> [] {<a>:f=1 <b>:f=-1.5 <c>:f=0.5 <d>:f=1 <e>:f=1000 <f>:f=-0.0025000000000000001 "
    "<g>:f=100 <h>:f=7} now" },
  { "int", "m a=0i,b=-9223372036854775808i,c=9223372036854775807i", TS_LP_NS,
    "<m> [] {<a>:i=0 <b>:i=-9223372036854775808 <c>:i=9223372036854775807} now" },
  { "uint", "m a=0u,b=18446744073709551615u", TS_LP_NS,
    "<m> [] {<a>:u=0 <b>:u=18446744073709551615} now" },
  /* Booleans, every spelling. */
  { "bool true", "m a=t,b=T,c=true,d=True,e=TRUE", TS_LP_NS,
    "<m> [] {<a>:b=1 <b>:b=1 <c>:b=1 <d>:b=1 <e>:b=1} now" },
  { "bool false", "m a=f,b=F,c=false,d=False,e=FALSE", TS_LP_NS,
    "<m> [] {<a>:b=0 <b>:b=0 <c>:b=0 <d>:b=0 <e>:b=0} now" },
  /* Precisions. */
  { "precision us", "m v=1 5", TS_LP_US, "<m> [] {<v>:f=1} @5000" },
  { "precision ms", "m v=1 1714564800000", TS_LP_MS, "<m> [] {<v>:f=1} @1714564800000000000" },
  { "precision s", "m v=1 1714564800", TS_LP_S, "<m> [] {<v>:f=1} @1714564800000000000" },
  { "precision s negative", "m v=1 -2", TS_LP_S, "<m> [] {<v>:f=1} @-2000000000" },
  { "precision s overflow", "m v=1 9223372037", TS_LP_S,
    "ERR timestamp '9223372037' is out of range at column 7" },

  /* Malformed lines. */
  { "no fields", "cpu", TS_LP_NS, "ERR missing fields after measurement 'cpu'" },
  { "no fields after tags", "cpu,a=b", TS_LP_NS, "ERR missing fields after measurement 'cpu'" },
  { "no fields after space", "cpu   ", TS_LP_NS, "ERR missing fields after measurement 'cpu'" },
  { "missing measurement", ",a=b v=1", TS_LP_NS, "ERR missing measurement at column 1" },
  { "empty tag key", "m,=b v=1", TS_LP_NS, "ERR empty tag key at column 3" },
  { "tag without equals", "m,ab v=1", TS_LP_NS, "ERR tag key 'ab' has no '=' at column 3" },
  { "tag without value", "m,a= v=1", TS_LP_NS, "ERR tag 'a' has no value at column 5" },
  { "tag unescaped equals", "m,a=b=c v=1", TS_LP_NS,
    "ERR unescaped '=' in the value of tag 'a' at column 6" },
  { "trailing comma in tags", "m,a=b, v=1", TS_LP_NS, "ERR empty tag key at column 7" },
  { "duplicate tag", "m,a=1,a=2 v=1", TS_LP_NS, "ERR duplicate tag 'a' at column 7" },
  { "empty field key", "m =1", TS_LP_NS, "ERR empty field key at column 3" },
  { "field without equals", "m v", TS_LP_NS, "ERR field key 'v' has no '=' at column 3" },
  { "field without value", "m v=", TS_LP_NS, "ERR field 'v' has no value at column 5" },
  { "field empty before comma", "m v=,w=1", TS_LP_NS, "ERR field 'v' has no value at column 5" },
  { "trailing comma in fields", "m v=1,", TS_LP_NS, "ERR empty field key at column 7" },
  { "duplicate field", "m v=1,v=2", TS_LP_NS, "ERR duplicate field 'v' at column 7" },
  { "bad value word", "m v=yes", TS_LP_NS,
    "ERR invalid value 'yes' of field 'v' at column 5 (expected a number, an integer with i or "
    "u, a \"string\" or a boolean)" },
  { "bad bool case", "m v=tRUE", TS_LP_NS,
    "ERR invalid value 'tRUE' of field 'v' at column 5 (expected a number, an integer with i or "
    "u, a \"string\" or a boolean)" },
  { "nan", "m v=NaN", TS_LP_NS,
    "ERR invalid value 'NaN' of field 'v' at column 5 (expected a number, an integer with i or "
    "u, a \"string\" or a boolean)" },
  { "float with i and dot", "m v=1.5i", TS_LP_NS,
    "ERR invalid value '1.5i' of field 'v' at column 5 (expected a number, an integer with i or "
    "u, a \"string\" or a boolean)" },
  { "bare i", "m v=i", TS_LP_NS,
    "ERR invalid value 'i' of field 'v' at column 5 (expected a number, an integer with i or "
    "u, a \"string\" or a boolean)" },
  { "plus sign", "m v=+1", TS_LP_NS,
    "ERR invalid value '+1' of field 'v' at column 5 (expected a number, an integer with i or "
    "u, a \"string\" or a boolean)" },
  { "exponent without digits", "m v=1e", TS_LP_NS,
    "ERR invalid value '1e' of field 'v' at column 5 (expected a number, an integer with i or "
    "u, a \"string\" or a boolean)" },
  { "int overflow", "m v=9223372036854775808i", TS_LP_NS,
    "ERR integer value of field 'v' is out of range (int64) at column 5" },
  { "int underflow", "m v=-9223372036854775809i", TS_LP_NS,
    "ERR integer value of field 'v' is out of range (int64) at column 5" },
  { "uint overflow", "m v=18446744073709551616u", TS_LP_NS,
    "ERR unsigned value of field 'v' is out of range (uint64) at column 5" },
  { "uint negative", "m v=-1u", TS_LP_NS, "ERR unsigned value of field 'v' is negative at column 5" },
  { "float overflow", "m v=1e999", TS_LP_NS,
    "ERR float value of field 'v' is out of range at column 5" },
  { "unterminated string", "m s=\"abc", TS_LP_NS,
    "ERR unterminated string value of field 's' at column 5" },
  { "string escaped final quote", "m s=\"abc\\\"", TS_LP_NS,
    "ERR unterminated string value of field 's' at column 5" },
  { "text after string", "m s=\"a\"b", TS_LP_NS,
    "ERR expected ',' or ' ' after the string value of field 's' at column 8" },
  { "bad timestamp", "m v=1 12x", TS_LP_NS,
    "ERR invalid timestamp '12x' at column 7 (expected an integer)" },
  { "float timestamp", "m v=1 1.5", TS_LP_NS,
    "ERR invalid timestamp '1.5' at column 7 (expected an integer)" },
  { "timestamp overflow", "m v=1 9223372036854775808", TS_LP_NS,
    "ERR timestamp '9223372036854775808' is out of range at column 7" },
  { "text after timestamp", "m v=1 5 6", TS_LP_NS,
    "ERR unexpected text after the timestamp at column 9" },
};

int main(void){
  char zGot[1024];
  size_t i;
  for(i=0; i<sizeof(aCase)/sizeof(aCase[0]); i++){
    char zName[128];
    snprintf(zName, sizeof(zName), "lineproto %s", aCase[i].zName);
    dump(aCase[i].zIn, aCase[i].ePrec, zGot, sizeof(zGot));
    TT_EQ_STR(zName, zGot, aCase[i].zExp);
  }

  /* A NUL byte is an error naming its column. */
  {
    TsLpParser p; TsLpLine l;
    static const char a[] = "m v=\"a\0b\"";
    tsLpInit(&p);
    TT_EQ_I64("lineproto nul rc", tsLpParse(&p, a, sizeof(a)-1, TS_LP_NS, &l), TS_LP_ERROR);
    TT_EQ_STR("lineproto nul message", p.zErr, "NUL byte at column 7");
    tsLpFree(&p);
  }

  /* The parser is reusable: a long line after a short one, pointers valid,
  ** and 1024 fields parse while 1025 are an error. */
  {
    TsLpParser p; TsLpLine l;
    TsBuf b;
    int k, rc, bOk = 1;
    tsLpInit(&p);
    tsBufInit(&b);
    tsBufPrintf(&b, "wide");
    for(k=0; k<TS_LP_MAX_FIELDS; k++) tsBufPrintf(&b, "%cf%d=%di", k ? ',' : ' ', k, k);
    rc = tsLpParse(&p, "m v=1", 5, TS_LP_NS, &l);
    TT_EQ_I64("lineproto reuse short", rc, TS_LP_OK);
    rc = tsLpParse(&p, (const char*)b.a, b.n, TS_LP_NS, &l);
    TT_EQ_I64("lineproto 1024 fields rc", rc, TS_LP_OK);
    TT_EQ_I64("lineproto 1024 fields n", l.nField, TS_LP_MAX_FIELDS);
    for(k=0; rc==TS_LP_OK && k<l.nField; k++){
      char zKey[16];
      snprintf(zKey, sizeof(zKey), "f%d", k);
      if( strcmp(l.aField[k].zKey, zKey)!=0 || l.aField[k].iVal!=k ) bOk = 0;
    }
    TT_CHECK("lineproto 1024 fields values", bOk);
    tsBufPrintf(&b, ",extra=1");
    rc = tsLpParse(&p, (const char*)b.a, b.n, TS_LP_NS, &l);
    TT_EQ_I64("lineproto 1025 fields rc", rc, TS_LP_ERROR);
    TT_EQ_STR("lineproto 1025 fields message", p.zErr, "more than 1024 fields");
    tsBufFree(&b);
    tsLpFree(&p);
  }

  TT_EQ_I64("lineproto precision ns", tsLpPrecision("ns"), TS_LP_NS);
  TT_EQ_I64("lineproto precision s", tsLpPrecision("s"), TS_LP_S);
  TT_EQ_I64("lineproto precision bad", tsLpPrecision("m"), -1);
  TT_EQ_I64("lineproto precision NULL", tsLpPrecision(0), -1);
  return tt_done();
}
