/* Unit tests of common/jsonw.c, the one JSON writer: structure, escaping of
** every byte 0-255 (the output is checked by a strict validator below), and
** misuse.  tests/py/test_jsonw_bytes.py re-checks the byte corpus with
** Python's json module. */
#include "tt.h"
#include "jsonw.h"
#include <math.h>
#include <stdlib.h>

/* Strict check of one JSON string literal: the bytes are valid UTF-8, no raw
** control byte, escapes well formed. */
static int validString(const unsigned char *a, size_t n){
  size_t i = 1;
  if( n<2 || a[0]!='"' || a[n-1]!='"' ) return 0;
  while( i<n-1 ){
    unsigned char c = a[i];
    if( c<0x20 || c==0x7F ) return 0;
    if( c=='"' ) return 0;
    if( c=='\\' ){
      c = a[i+1];
      if( c=='u' ){ i += 6; continue; }
      if( !strchr("\"\\/bfnrt", c) ) return 0;
      i += 2; continue;
    }
    if( c>=0x80 ){
      size_t len = c>=0xF0 ? 4 : c>=0xE0 ? 3 : c>=0xC2 ? 2 : 0, k;
      if( len==0 || i+len>n-1 ) return 0;
      for(k=1; k<len; k++) if( (a[i+k]&0xC0)!=0x80 ) return 0;
      i += len; continue;
    }
    i++;
  }
  return i==n-1;
}

static char *render(void (*fn)(TsJsonW*)){
  TsBuf b; TsJsonW w; char *z;
  tsBufInit(&b); tsJwInit(&w, &b);
  fn(&w);
  if( tsJwError(&w) ){ tsBufFree(&b); return 0; }
  tsBufAppendByte(&b, 0);
  z = (char*)b.a;
  return z;
}

static void docStats(TsJsonW *w){
  tsJwObjBegin(w);
  tsJwKeyStr(w, "table", "a\"b");
  tsJwKeyInt(w, "rows", -5);
  tsJwKey(w, "list"); tsJwArrBegin(w);
  tsJwInt(w, 1); tsJwDouble(w, 0.1); tsJwDouble(w, NAN); tsJwBool(w, 1); tsJwNull(w);
  tsJwStr(w, 0);
  tsJwArrEnd(w);
  tsJwKey(w, "empty"); tsJwObjBegin(w); tsJwObjEnd(w);
  tsJwObjEnd(w);
}
static void docBad1(TsJsonW *w){ tsJwObjBegin(w); tsJwInt(w, 1); tsJwObjEnd(w); }
static void docBad2(TsJsonW *w){ tsJwArrBegin(w); tsJwObjEnd(w); }
static void docBad3(TsJsonW *w){ tsJwObjBegin(w); tsJwKey(w, "k"); }

int main(void){
  char *z;
  int c, bad = 0;
  z = render(docStats);
  TT_EQ_STR("structure", z,
    "{\"table\":\"a\\\"b\",\"rows\":-5,\"list\":[1,0.1,null,true,null,null],\"empty\":{}}");
  free(z);
  TT_CHECK("value without key is an error", render(docBad1)==0);
  TT_CHECK("mismatched close is an error", render(docBad2)==0);
  TT_CHECK("dangling key is an error", render(docBad3)==0);

  /* Every single byte, and every byte between two ASCII letters. */
  for(c=0; c<256; c++){
    char in[3] = { 'a', (char)c, 'b' };
    TsBuf b; tsBufInit(&b);
    tsJsonQuote(&b, in+1, 1);
    if( !validString(b.a, b.n) ){ bad++; printf("INFO byte %d -> %.*s\n", c, (int)b.n, b.a); }
    tsBufReset(&b);
    tsJsonQuote(&b, in, 3);
    if( !validString(b.a, b.n) ) bad++;
    tsBufFree(&b);
  }
  TT_EQ_I64("every byte 0-255 gives a valid JSON string", bad, 0);
  {
    TsBuf b; tsBufInit(&b);
    tsJsonQuote(&b, "\t\\\x01\x7f\xc3\xa9\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82", 15);
    tsBufAppendByte(&b, 0);
    TT_EQ_STR("escapes, UTF-8 kept, bad sequences replaced", (char*)b.a,
      "\"\\t\\\\\\u0001\\u007f\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    tsBufFree(&b);
  }
  {
    TsBuf b; tsBufInit(&b);
    tsJsonQuote(&b, "x\0y", 3);
    tsBufAppendByte(&b, 0);
    TT_EQ_STR("NUL byte escaped", (char*)b.a, "\"x\\u0000y\"");
    tsBufFree(&b);
  }
  return tt_done();
}
