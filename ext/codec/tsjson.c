/*
** tsjson.c: parser and writer of the JSON time-series form (see tsjson.h).
**
** The parser is a small recursive-descent reader specialised to the two
** shapes it accepts (an array of {"time","value"} objects, or an array of
** integers); it never reads past n bytes, never recurses on input depth, and
** reports the byte offset of the first problem.  It is fuzzed by
** tests/fuzz/fuzz_series.c, which also checks that whatever parses writes
** back and re-parses to the same points.
*/
#include "tsjson.h"
#include "jsonw.h"
#include "tstime.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tsSeriesInit(TsSeries *p){
  memset(p, 0, sizeof(*p));
  tsBufInit(&p->text);
}

void tsSeriesFree(TsSeries *p){
  free(p->a);
  tsBufFree(&p->text);
  tsSeriesInit(p);
}

int tsSeriesAdd(TsSeries *p, int64_t t, int eType, int64_t i, double r,
                const char *z, size_t n){
  TsSPoint *q;
  if( p->n>=p->nAlloc ){
    size_t nNew = p->nAlloc ? p->nAlloc*2 : 16;
    TsSPoint *aNew = realloc(p->a, nNew*sizeof(TsSPoint));
    if( aNew==0 ) return 1;
    p->a = aNew;
    p->nAlloc = nNew;
  }
  q = &p->a[p->n];
  memset(q, 0, sizeof(*q));
  q->t = t;
  q->eType = eType;
  q->i = i;
  q->r = r;
  if( eType==TS_SV_TEXT ){
    q->iText = p->text.n;
    q->nText = n;
    tsBufAppend(&p->text, z, n);
    tsBufAppendByte(&p->text, 0);   /* keep every string NUL-terminated */
    if( p->text.bErr ) return 1;
  }
  p->n++;
  return 0;
}

/* Parser state. */
typedef struct JP JP;
struct JP {
  const char *z;    /* input (not owned) */
  size_t n;         /* input length */
  size_t i;         /* offset of the next byte */
  char *zErr;       /* message buffer */
  size_t nErr;      /* its size */
  int bErr;         /* set once a message is written */
};

static int jpErr(JP *p, const char *zFmt, ...){
  va_list ap;
  if( !p->bErr && p->nErr>0 ){
    va_start(ap, zFmt);
    vsnprintf(p->zErr, p->nErr, zFmt, ap);
    va_end(ap);
  }
  p->bErr = 1;
  return 1;
}

static void jpWs(JP *p){
  while( p->i<p->n ){
    char c = p->z[p->i];
    if( c!=' ' && c!='\t' && c!='\n' && c!='\r' ) break;
    p->i++;
  }
}

static int jpPeek(JP *p){
  jpWs(p);
  return p->i<p->n ? (unsigned char)p->z[p->i] : -1;
}

static int jpExpect(JP *p, char c){
  if( jpPeek(p)!=c ){
    if( p->i>=p->n ) return jpErr(p, "expected '%c' at byte %zu (end of input)", c, p->i);
    return jpErr(p, "expected '%c' at byte %zu", c, p->i);
  }
  p->i++;
  return 0;
}

static int hexVal(char c){
  if( c>='0' && c<='9' ) return c-'0';
  if( c>='a' && c<='f' ) return c-'a'+10;
  if( c>='A' && c<='F' ) return c-'A'+10;
  return -1;
}

static int jpHex4(JP *p, unsigned *pv){
  unsigned v = 0;
  int k;
  if( p->i+4>p->n ) return jpErr(p, "bad \\u escape at byte %zu", p->i);
  for(k=0; k<4; k++){
    int h = hexVal(p->z[p->i+k]);
    if( h<0 ) return jpErr(p, "bad \\u escape at byte %zu", p->i);
    v = v*16 + (unsigned)h;
  }
  p->i += 4;
  *pv = v;
  return 0;
}

static void utf8Put(TsBuf *pOut, unsigned c){
  if( c<0x80 ){
    tsBufAppendByte(pOut, (unsigned char)c);
  }else if( c<0x800 ){
    tsBufAppendByte(pOut, (unsigned char)(0xC0 | (c>>6)));
    tsBufAppendByte(pOut, (unsigned char)(0x80 | (c&0x3F)));
  }else if( c<0x10000 ){
    tsBufAppendByte(pOut, (unsigned char)(0xE0 | (c>>12)));
    tsBufAppendByte(pOut, (unsigned char)(0x80 | ((c>>6)&0x3F)));
    tsBufAppendByte(pOut, (unsigned char)(0x80 | (c&0x3F)));
  }else{
    tsBufAppendByte(pOut, (unsigned char)(0xF0 | (c>>18)));
    tsBufAppendByte(pOut, (unsigned char)(0x80 | ((c>>12)&0x3F)));
    tsBufAppendByte(pOut, (unsigned char)(0x80 | ((c>>6)&0x3F)));
    tsBufAppendByte(pOut, (unsigned char)(0x80 | (c&0x3F)));
  }
}

/* Read a JSON string (at '"') and append its decoded bytes to pOut. */
static int jpString(JP *p, TsBuf *pOut){
  if( jpPeek(p)!='"' ) return jpErr(p, "expected a string at byte %zu", p->i);
  p->i++;
  while( 1 ){
    unsigned char c;
    if( p->i>=p->n ) return jpErr(p, "unterminated string at byte %zu", p->i);
    c = (unsigned char)p->z[p->i];
    if( c=='"' ){ p->i++; break; }
    if( c<0x20 ) return jpErr(p, "control character in string at byte %zu", p->i);
    if( c>=0x80 ){
      /* JSON text is UTF-8 (RFC 8259 section 8.1); the writer would turn
      ** any other byte into U+FFFD, so a value would not survive a round
      ** trip: refuse it here instead. */
      size_t len = tsJsonUtf8Len((const unsigned char*)p->z + p->i, p->n - p->i);
      if( len==0 ) return jpErr(p, "invalid UTF-8 in string at byte %zu", p->i);
      tsBufAppend(pOut, p->z + p->i, len);
      p->i += len;
      continue;
    }
    if( c!='\\' ){
      tsBufAppendByte(pOut, c);
      p->i++;
      continue;
    }
    p->i++;
    if( p->i>=p->n ) return jpErr(p, "unterminated string at byte %zu", p->i);
    c = (unsigned char)p->z[p->i++];
    switch( c ){
      case '"': case '\\': case '/': tsBufAppendByte(pOut, c); break;
      case 'b': tsBufAppendByte(pOut, '\b'); break;
      case 'f': tsBufAppendByte(pOut, '\f'); break;
      case 'n': tsBufAppendByte(pOut, '\n'); break;
      case 'r': tsBufAppendByte(pOut, '\r'); break;
      case 't': tsBufAppendByte(pOut, '\t'); break;
      case 'u': {
        unsigned u, u2;
        if( jpHex4(p, &u) ) return 1;
        if( u>=0xD800 && u<=0xDBFF ){
          if( p->i+2>p->n || p->z[p->i]!='\\' || p->z[p->i+1]!='u' ){
            return jpErr(p, "unpaired surrogate at byte %zu", p->i);
          }
          p->i += 2;
          if( jpHex4(p, &u2) ) return 1;
          if( u2<0xDC00 || u2>0xDFFF ) return jpErr(p, "unpaired surrogate at byte %zu", p->i);
          u = 0x10000 + ((u-0xD800)<<10) + (u2-0xDC00);
        }else if( u>=0xDC00 && u<=0xDFFF ){
          return jpErr(p, "unpaired surrogate at byte %zu", p->i);
        }
        utf8Put(pOut, u);
        break;
      }
      default:
        return jpErr(p, "bad escape at byte %zu", p->i-1);
    }
  }
  if( pOut->bErr ) return jpErr(p, "out of memory");
  return 0;
}

/* Read a JSON number.  *peType is TS_SV_INT (value in *pi and *pr) or
** TS_SV_REAL (value in *pr). */
static int jpNumber(JP *p, int *peType, int64_t *pi, double *pr){
  size_t i0, i;
  int bInt = 1, bNeg = 0;
  char zNum[64];
  jpWs(p);
  i0 = i = p->i;
  if( i<p->n && p->z[i]=='-' ){ bNeg = 1; i++; }
  if( i>=p->n || p->z[i]<'0' || p->z[i]>'9' ) return jpErr(p, "expected a number at byte %zu", i0);
  if( p->z[i]=='0' ){
    i++;
  }else{
    while( i<p->n && p->z[i]>='0' && p->z[i]<='9' ) i++;
  }
  if( i<p->n && p->z[i]=='.' ){
    bInt = 0; i++;
    if( i>=p->n || p->z[i]<'0' || p->z[i]>'9' ) return jpErr(p, "bad number at byte %zu", i0);
    while( i<p->n && p->z[i]>='0' && p->z[i]<='9' ) i++;
  }
  if( i<p->n && (p->z[i]=='e' || p->z[i]=='E') ){
    bInt = 0; i++;
    if( i<p->n && (p->z[i]=='+' || p->z[i]=='-') ) i++;
    if( i>=p->n || p->z[i]<'0' || p->z[i]>'9' ) return jpErr(p, "bad number at byte %zu", i0);
    while( i<p->n && p->z[i]>='0' && p->z[i]<='9' ) i++;
  }
  p->i = i;
  if( bInt ){
    int64_t v = 0;
    size_t k;
    int bOvfl = 0;
    for(k=i0+bNeg; k<i && !bOvfl; k++){
      int d = p->z[k]-'0';
      if( __builtin_mul_overflow(v, 10, &v) ) bOvfl = 1;
      else if( __builtin_sub_overflow(v, d, &v) ) bOvfl = 1;  /* accumulate negative */
    }
    if( !bOvfl && !bNeg && v==INT64_MIN ) bOvfl = 1;
    if( !bOvfl ){
      *peType = TS_SV_INT;
      *pi = bNeg ? v : -v;
      *pr = (double)*pi;
      return 0;
    }
  }
  /* strtod needs a NUL-terminated copy; the input is not terminated.  Long
  ** numbers (any digit count is valid JSON) get a heap copy. */
  {
    char *z = zNum;
    if( i-i0>=sizeof(zNum) ){
      z = malloc(i-i0+1);
      if( z==0 ) return jpErr(p, "out of memory");
    }
    memcpy(z, p->z+i0, i-i0);
    z[i-i0] = 0;
    *peType = TS_SV_REAL;
    *pr = strtod(z, 0);
    *pi = 0;
    if( z!=zNum ) free(z);
  }
  return 0;
}

static int jpLiteral(JP *p, const char *zLit){
  size_t n = strlen(zLit);
  if( p->i+n>p->n || memcmp(p->z+p->i, zLit, n)!=0 ){
    return jpErr(p, "unexpected character at byte %zu", p->i);
  }
  p->i += n;
  return 0;
}

/* Read one {"time":..,"value":..} object and append it to pS. */
static int jpPoint(JP *p, TsSeries *pS, TsBuf *pTmp, size_t iElem){
  int bTime = 0, bValue = 0, eType = TS_SV_NULL;
  int64_t t = 0, iv = 0;
  double r = NAN;
  size_t iTmpText = 0, nTmpText = 0;
  if( jpExpect(p, '{') ) return 1;
  tsBufReset(pTmp);
  if( jpPeek(p)=='}' ) return jpErr(p, "element %zu has no \"time\" and \"value\"", iElem);
  while( 1 ){
    size_t iKey = p->i, nKeyStart = pTmp->n;
    int c;
    if( jpString(p, pTmp) ) return 1;
    if( jpExpect(p, ':') ) return 1;
    if( pTmp->n-nKeyStart==4 && memcmp(pTmp->a+nKeyStart, "time", 4)==0 ){
      pTmp->n = nKeyStart;
      if( bTime ) return jpErr(p, "duplicate key \"time\" at byte %zu", iKey);
      bTime = 1;
      c = jpPeek(p);
      if( c=='"' ){
        size_t iStr = p->i, nS = pTmp->n;
        int rc;
        if( jpString(p, pTmp) ) return 1;
        rc = tsTimeParseIso((const char*)pTmp->a+nS, (int)(pTmp->n-nS), &t);
        pTmp->n = nS;
        if( rc!=TS_TIME_OK ) return jpErr(p, "bad time at byte %zu: not an ISO-8601 timestamp", iStr);
      }else{
        int eT;
        double rT;
        size_t iNum = p->i;
        if( jpNumber(p, &eT, &t, &rT) ) return 1;
        if( eT!=TS_SV_INT ) return jpErr(p, "bad time at byte %zu: not an integer number of ns", iNum);
      }
    }else if( pTmp->n-nKeyStart==5 && memcmp(pTmp->a+nKeyStart, "value", 5)==0 ){
      pTmp->n = nKeyStart;
      if( bValue ) return jpErr(p, "duplicate key \"value\" at byte %zu", iKey);
      bValue = 1;
      c = jpPeek(p);
      if( c=='"' ){
        iTmpText = pTmp->n;
        if( jpString(p, pTmp) ) return 1;
        nTmpText = pTmp->n - iTmpText;
        eType = TS_SV_TEXT;
        r = NAN;
      }else if( c=='t' ){
        if( jpLiteral(p, "true") ) return 1;
        eType = TS_SV_BOOL; iv = 1; r = 1.0;
      }else if( c=='f' ){
        if( jpLiteral(p, "false") ) return 1;
        eType = TS_SV_BOOL; iv = 0; r = 0.0;
      }else if( c=='n' ){
        if( jpLiteral(p, "null") ) return 1;
        eType = TS_SV_NULL; r = NAN;
      }else if( c=='{' || c=='[' ){
        return jpErr(p, "value at byte %zu is not a number, string or boolean", p->i);
      }else{
        if( jpNumber(p, &eType, &iv, &r) ) return 1;
      }
    }else{
      return jpErr(p, "unexpected key at byte %zu (expected \"time\" or \"value\")", iKey);
    }
    c = jpPeek(p);
    if( c==',' ){ p->i++; continue; }
    if( c=='}' ){ p->i++; break; }
    return jpErr(p, "expected ',' or '}' at byte %zu", p->i);
  }
  if( !bTime ) return jpErr(p, "element %zu has no \"time\"", iElem);
  if( !bValue ) return jpErr(p, "element %zu has no \"value\"", iElem);
  if( pS->n>0 && t<pS->a[pS->n-1].t ){
    return jpErr(p, "times not ascending at element %zu", iElem);
  }
  if( tsSeriesAdd(pS, t, eType, iv, r, (const char*)pTmp->a+iTmpText, nTmpText) ){
    return jpErr(p, "out of memory");
  }
  return 0;
}

int tsSeriesParse(const char *z, size_t n, int flags, TsSeries *pS,
                  char *zErr, size_t nErr){
  JP jp;
  TsBuf tmp;
  size_t iElem = 0;
  int rc = 0, c;
  memset(&jp, 0, sizeof(jp));
  jp.z = z; jp.n = n; jp.zErr = zErr; jp.nErr = nErr;
  if( nErr>0 ) zErr[0] = 0;
  tsBufInit(&tmp);
  if( jpExpect(&jp, '[') ){ rc = 1; goto done; }
  c = jpPeek(&jp);
  if( c==']' ){
    jp.i++;
  }else if( c=='{' ){
    while( 1 ){
      if( jpPoint(&jp, pS, &tmp, iElem) ){ rc = 1; goto done; }
      iElem++;
      c = jpPeek(&jp);
      if( c==',' ){ jp.i++; continue; }
      if( c==']' ){ jp.i++; break; }
      rc = jpErr(&jp, "expected ',' or ']' at byte %zu", jp.i);
      goto done;
    }
  }else if( (flags & TS_SERIES_ALLOW_SEQ) && (c=='-' || (c>='0' && c<='9')) ){
    pS->bSeq = 1;
    while( 1 ){
      int eType;
      int64_t v;
      double r;
      size_t iNum = jp.i;
      if( jpNumber(&jp, &eType, &v, &r) ){ rc = 1; goto done; }
      if( eType!=TS_SV_INT ){
        rc = jpErr(&jp, "sequence element at byte %zu is not an integer", iNum);
        goto done;
      }
      if( tsSeriesAdd(pS, v, TS_SV_INT, v, (double)v, 0, 0) ){
        rc = jpErr(&jp, "out of memory");
        goto done;
      }
      c = jpPeek(&jp);
      if( c==',' ){ jp.i++; continue; }
      if( c==']' ){ jp.i++; break; }
      rc = jpErr(&jp, "expected ',' or ']' at byte %zu", jp.i);
      goto done;
    }
  }else{
    rc = jpErr(&jp, (flags & TS_SERIES_ALLOW_SEQ)
        ? "expected '{' or an integer at byte %zu" : "expected '{' at byte %zu", jp.i);
    goto done;
  }
  if( jpPeek(&jp)!=-1 ) rc = jpErr(&jp, "unexpected text after the array at byte %zu", jp.i);
done:
  tsBufFree(&tmp);
  return rc;
}

void tsJsonAppendDouble(TsBuf *pOut, double r){
  char z[40];
  int k, n = 0;
  if( isnan(r) ){ tsBufAppendStr(pOut, "null"); return; }
  if( isinf(r) ){ tsBufAppendStr(pOut, r<0 ? "-9.0e999" : "9.0e999"); return; }
  for(k=15; k<=17; k++){
    n = snprintf(z, sizeof(z), "%.*g", k, r);
    if( strtod(z, 0)==r ) break;
  }
  tsBufAppend(pOut, z, (size_t)n);
  if( strchr(z, '.')==0 && strchr(z, 'e')==0 ) tsBufAppendStr(pOut, ".0");
}

/* Strings use the one JSON writer's escaping (common/jsonw.h): valid UTF-8
** for any bytes. */
void tsJsonAppendString(TsBuf *pOut, const char *z, size_t n){
  tsJsonQuote(pOut, z, n);
}

/* Append v in decimal (faster than printf on the hot path of
** create_time_series, which writes two integers per point). */
static void appendI64(TsBuf *pOut, int64_t v){
  char z[24];
  int i = (int)sizeof(z);
  uint64_t u = v<0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do{ z[--i] = (char)('0' + u%10); u /= 10; }while( u );
  if( v<0 ) z[--i] = '-';
  tsBufAppend(pOut, z+i, sizeof(z)-(size_t)i);
}

void tsJsonAppendPoint(TsBuf *pOut, const TsSeries *p, const TsSPoint *q){
  tsBufAppend(pOut, "{\"time\":", 8);
  appendI64(pOut, q->t);
  tsBufAppend(pOut, ",\"value\":", 9);
  switch( q->eType ){
    case TS_SV_INT:  appendI64(pOut, q->i); break;
    case TS_SV_REAL: tsJsonAppendDouble(pOut, q->r); break;
    case TS_SV_TEXT: tsJsonAppendString(pOut, tsSeriesText(p, q), q->nText); break;
    case TS_SV_BOOL: tsBufAppendStr(pOut, q->i ? "true" : "false"); break;
    default:         tsBufAppendStr(pOut, "null"); break;
  }
  tsBufAppendByte(pOut, '}');
}

void tsJsonAppendSeries(TsBuf *pOut, const TsSeries *p){
  size_t i;
  tsBufAppendByte(pOut, '[');
  for(i=0; i<p->n; i++){
    if( i ) tsBufAppendByte(pOut, ',');
    tsJsonAppendPoint(pOut, p, &p->a[i]);
  }
  tsBufAppendByte(pOut, ']');
}
