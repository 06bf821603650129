/*
** jsonw.c: the JSON writer (jsonw.h has the contract).  Structure bookkeeping
** is a small stack of (object?, has-element?) flags; the string escaper
** validates UTF-8 per RFC 3629 and replaces what is not with U+FFFD.
*/
#include "jsonw.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tsJwInit(TsJsonW *p, TsBuf *pOut){
  memset(p, 0, sizeof(*p));
  p->pOut = pOut;
}

int tsJwError(const TsJsonW *p){
  return p->bErr || p->pOut->bErr || p->nDepth!=0 || p->bKey;
}

/* Before a value: the separator, and misuse checks.  Returns 1 to skip. */
static int beforeValue(TsJsonW *p){
  if( p->bErr || p->pOut->bErr ) return 1;
  if( p->nDepth>0 ){
    int i = p->nDepth-1;
    if( p->aObj[i] ){
      if( !p->bKey ){ p->bErr = 1; return 1; }   /* value without a key */
      p->bKey = 0;
    }else{
      if( p->aCount[i] ) tsBufAppendByte(p->pOut, ',');
      p->aCount[i] = 1;
    }
  }
  return 0;
}

static void open(TsJsonW *p, int bObj){
  if( beforeValue(p) ) return;
  if( p->nDepth>=TS_JW_MAXDEPTH ){ p->bErr = 1; return; }
  p->aObj[p->nDepth] = (unsigned char)bObj;
  p->aCount[p->nDepth] = 0;
  p->nDepth++;
  tsBufAppendByte(p->pOut, bObj ? '{' : '[');
}

static void close_(TsJsonW *p, int bObj){
  if( p->bErr ) return;
  if( p->nDepth==0 || p->aObj[p->nDepth-1]!=bObj || p->bKey ){ p->bErr = 1; return; }
  p->nDepth--;
  tsBufAppendByte(p->pOut, bObj ? '}' : ']');
}

void tsJwObjBegin(TsJsonW *p){ open(p, 1); }
void tsJwObjEnd(TsJsonW *p){ close_(p, 1); }
void tsJwArrBegin(TsJsonW *p){ open(p, 0); }
void tsJwArrEnd(TsJsonW *p){ close_(p, 0); }

void tsJwKey(TsJsonW *p, const char *zKey){
  int i;
  if( p->bErr ) return;
  i = p->nDepth-1;
  if( i<0 || !p->aObj[i] || p->bKey || zKey==0 ){ p->bErr = 1; return; }
  if( p->aCount[i] ) tsBufAppendByte(p->pOut, ',');
  p->aCount[i] = 1;
  tsJsonQuote(p->pOut, zKey, strlen(zKey));
  tsBufAppendByte(p->pOut, ':');
  p->bKey = 1;
}

/* RFC 3629 table 3-7 (jsonw.h). */
size_t tsJsonUtf8Len(const unsigned char *a, size_t n){
  unsigned char c = a[0];
  size_t len, k;
  unsigned char lo = 0x80, hi = 0xBF;
  if( c<0x80 ) return 1;
  if( c>=0xC2 && c<=0xDF ) len = 2;
  else if( c>=0xE0 && c<=0xEF ){
    len = 3;
    if( c==0xE0 ) lo = 0xA0;
    if( c==0xED ) hi = 0x9F;
  }else if( c>=0xF0 && c<=0xF4 ){
    len = 4;
    if( c==0xF0 ) lo = 0x90;
    if( c==0xF4 ) hi = 0x8F;
  }else return 0;
  if( n<len ) return 0;
  if( a[1]<lo || a[1]>hi ) return 0;
  for(k=2; k<len; k++) if( a[k]<0x80 || a[k]>0xBF ) return 0;
  return len;
}

void tsJsonQuote(TsBuf *pOut, const char *z, size_t n){
  static const char aHex[] = "0123456789abcdef";
  const unsigned char *a = (const unsigned char*)z;
  size_t i = 0, iRun = 0;
  tsBufAppendByte(pOut, '"');
  while( i<n ){
    unsigned char c = a[i];
    size_t len;
    if( c>=0x20 && c<0x7F && c!='"' && c!='\\' ){ i++; continue; }
    len = c>=0x80 ? tsJsonUtf8Len(a+i, n-i) : 0;
    if( len ){ i += len; continue; }
    tsBufAppend(pOut, a+iRun, i-iRun);
    switch( c ){
      case '"':  tsBufAppend(pOut, "\\\"", 2); break;
      case '\\': tsBufAppend(pOut, "\\\\", 2); break;
      case '\n': tsBufAppend(pOut, "\\n", 2); break;
      case '\t': tsBufAppend(pOut, "\\t", 2); break;
      case '\r': tsBufAppend(pOut, "\\r", 2); break;
      case '\b': tsBufAppend(pOut, "\\b", 2); break;
      case '\f': tsBufAppend(pOut, "\\f", 2); break;
      default:
        if( c<0x80 ){
          char e[6] = { '\\', 'u', '0', '0', aHex[c>>4], aHex[c&15] };
          tsBufAppend(pOut, e, 6);
        }else{
          tsBufAppend(pOut, "\xEF\xBF\xBD", 3);   /* U+FFFD for a bad byte */
        }
        break;
    }
    i++;
    iRun = i;
  }
  tsBufAppend(pOut, a+iRun, n-iRun);
  tsBufAppendByte(pOut, '"');
}

void tsJwStrN(TsJsonW *p, const char *z, size_t n){
  if( beforeValue(p) ) return;
  tsJsonQuote(p->pOut, z ? z : "", z ? n : 0);
}

void tsJwStr(TsJsonW *p, const char *z){
  if( z==0 ){ tsJwNull(p); return; }
  if( beforeValue(p) ) return;
  tsJsonQuote(p->pOut, z, strlen(z));
}

void tsJwInt(TsJsonW *p, int64_t v){
  if( beforeValue(p) ) return;
  tsBufPrintf(p->pOut, "%lld", (long long)v);
}

void tsJwUInt(TsJsonW *p, uint64_t v){
  if( beforeValue(p) ) return;
  tsBufPrintf(p->pOut, "%llu", (unsigned long long)v);
}

void tsJwDouble(TsJsonW *p, double r){
  char z[40];
  int prec;
  if( beforeValue(p) ) return;
  if( !isfinite(r) ){ tsBufAppend(p->pOut, "null", 4); return; }
  /* Shortest of 15..17 significant digits that reads back exactly. */
  for(prec=15; prec<=17; prec++){
    snprintf(z, sizeof(z), "%.*g", prec, r);
    if( strtod(z, 0)==r ) break;
  }
  tsBufAppendStr(p->pOut, z);
}

void tsJwBool(TsJsonW *p, int b){
  if( beforeValue(p) ) return;
  tsBufAppendStr(p->pOut, b ? "true" : "false");
}

void tsJwNull(TsJsonW *p){
  if( beforeValue(p) ) return;
  tsBufAppend(p->pOut, "null", 4);
}

void tsJwRaw(TsJsonW *p, const char *zJson, size_t n){
  if( beforeValue(p) ) return;
  tsBufAppend(p->pOut, zJson, n);
}

void tsJwKeyStr(TsJsonW *p, const char *zKey, const char *z){ tsJwKey(p, zKey); tsJwStr(p, z); }
void tsJwKeyInt(TsJsonW *p, const char *zKey, int64_t v){ tsJwKey(p, zKey); tsJwInt(p, v); }
void tsJwKeyDouble(TsJsonW *p, const char *zKey, double r){ tsJwKey(p, zKey); tsJwDouble(p, r); }
void tsJwKeyBool(TsJsonW *p, const char *zKey, int b){ tsJwKey(p, zKey); tsJwBool(p, b); }
