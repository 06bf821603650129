/*
** lineproto.c: the InfluxDB line protocol parser (lineproto.h).  Pure C: it
** knows nothing of SQLite; ts_write_lp (ext/lineproto_sql.c) maps what it
** returns onto tables.
**
** GRAMMAR (one line; the caller splits the text at '\n', since line protocol
** allows no newline inside any element; one trailing '\r' is dropped):
**
**   line        = [spaces] measurement *("," tag) spaces fields
**                 [spaces [timestamp]] [spaces]
**   tag         = key "=" value
**   fields      = field *("," field)
**   field       = key "=" fieldvalue
**   fieldvalue  = float | integer "i" | unsigned "u" | string | boolean
**   float       = ["-"] (digits ["." [digits]] | "." digits) [("e"|"E") ["+"|"-"] digits]
**   integer     = ["-"] digits          (int64 range)
**   unsigned    = digits                (uint64 range)
**   string      = '"' *(char | '\"' | '\\') '"'
**   boolean     = t | T | true | True | TRUE | f | F | false | False | FALSE
**   timestamp   = ["-"] digits          (in the precision's unit; absent = now,
**                                        which the caller supplies)
**   spaces      = 1*" "
**
** A line that is empty, only spaces, or whose first non-space byte is '#' is
** a comment (TS_LP_SKIP).
**
** ESCAPES.  In the measurement, tag keys, tag values and field keys a
** backslash escapes the next byte when it is ',', '=', ' ' or '\' (the
** backslash is dropped); before any other byte, or at the end, a backslash is
** a literal backslash.  So "cpu\ load" is the measurement "cpu load",
** "a\=b" is "a=b" and "c:\temp" stays "c:\temp".  The measurement ends at
** the first unescaped ',' or ' '; a key ends at its unescaped '='; a tag
** value ends at an unescaped ',' or ' ' (an unescaped '=' in it is an error).
** In string field values only '\"' and '\\' are escapes; a backslash before
** any other byte is literal, and ',', '=' and ' ' need no escape.
**
** Other rules: a tag needs a non-empty key and value; at least one field;
** keys repeat neither among tags nor among fields (compared byte for byte);
** a NUL byte anywhere is an error; at most TS_LP_MAX_TAGS tags and
** TS_LP_MAX_FIELDS fields.  Errors name what is wrong and the 1-based column
** (byte offset in the line) where it was found.
**
** MEMORY.  Unescaped elements are copied, NUL-terminated, into the parser's
** scratch buffer, which is reserved once per line at 2n+16 bytes: each
** element copies at most its own input bytes plus a NUL, and elements are
** disjoint in the input with a separator between any two, so the copies
** never outgrow the reservation and pointers into scratch stay valid.
*/
#include "lineproto.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LP_NAMEMAX 64        /* bytes of a key or value quoted in an error */

void tsLpInit(TsLpParser *p){
  memset(p, 0, sizeof(*p));
  tsBufInit(&p->scratch);
}

void tsLpFree(TsLpParser *p){
  if( p==0 ) return;
  tsBufFree(&p->scratch);
  free(p->aTag);
  free(p->aField);
  p->aTag = 0; p->aField = 0;
  p->nTagAlloc = p->nFieldAlloc = 0;
}

int tsLpPrecision(const char *z){
  if( z==0 ) return -1;
  if( strcmp(z, "ns")==0 ) return TS_LP_NS;
  if( strcmp(z, "us")==0 ) return TS_LP_US;
  if( strcmp(z, "ms")==0 ) return TS_LP_MS;
  if( strcmp(z, "s")==0 ) return TS_LP_S;
  return -1;
}

/* Set the error message; returns TS_LP_ERROR. */
static int lpErr(TsLpParser *p, const char *zFmt, ...) __attribute__((format(printf, 2, 3)));
static int lpErr(TsLpParser *p, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(p->zErr, sizeof(p->zErr), zFmt, ap);
  va_end(ap);
  return TS_LP_ERROR;
}

/* Length of a name for quoting in a message (at most LP_NAMEMAX bytes). */
static int lpQ(size_t n){ return n>LP_NAMEMAX ? LP_NAMEMAX : (int)n; }

/*
** Copy the escaped element that starts at z[*pi] into scratch, unescaping
** "\," "\=" "\ " "\\", up to the first unescaped byte of zStop (or the end).
** *pi is left on the stop byte.  Returns the NUL-terminated copy; *pn gets its
** length.  Cannot fail: scratch was reserved for the whole line.
*/
static const char *lpElem(TsLpParser *p, const char *z, size_t n, size_t *pi,
                          const char *zStop, size_t *pn){
  TsBuf *b = &p->scratch;
  size_t i = *pi, iStart = b->n;
  while( i<n && strchr(zStop, z[i])==0 ){
    if( z[i]=='\\' && i+1<n && (z[i+1]==',' || z[i+1]=='=' || z[i+1]==' ' || z[i+1]=='\\') ){
      i++;
    }
    tsBufAppendByte(b, (unsigned char)z[i]);
    i++;
  }
  tsBufAppendByte(b, 0);
  *pi = i;
  *pn = b->n - iStart - 1;
  return (const char*)b->a + iStart;
}

/* Parse digits z[0..n) as a magnitude; 1 if empty, not digits or > uMax. */
static int lpDigits(const char *z, size_t n, uint64_t uMax, uint64_t *pu){
  uint64_t u = 0;
  size_t i;
  if( n==0 ) return 1;
  for(i=0; i<n; i++){
    unsigned d = (unsigned char)z[i] - '0';
    if( d>9 ) return 1;
    if( u > (uMax - d)/10 ) return 2;
    u = u*10 + d;
  }
  *pu = u;
  return 0;
}

/* Signed decimal z[0..n) into *pi: 0 ok, 1 syntax, 2 out of int64 range. */
static int lpInt(const char *z, size_t n, int64_t *pi){
  uint64_t u;
  int bNeg = n>0 && z[0]=='-';
  int rc = lpDigits(z+bNeg, n-bNeg, bNeg ? (uint64_t)INT64_MAX+1 : (uint64_t)INT64_MAX, &u);
  if( rc ) return rc;
  *pi = bNeg ? (int64_t)(0 - u) : (int64_t)u;
  return 0;
}

/* 1 if z[0..n) matches the float grammar above. */
static int lpIsFloat(const char *z, size_t n){
  size_t i = 0, nInt = 0, nFrac = 0;
  if( i<n && z[i]=='-' ) i++;
  while( i<n && z[i]>='0' && z[i]<='9' ){ i++; nInt++; }
  if( i<n && z[i]=='.' ){
    i++;
    while( i<n && z[i]>='0' && z[i]<='9' ){ i++; nFrac++; }
  }
  if( nInt+nFrac==0 ) return 0;
  if( i<n && (z[i]=='e' || z[i]=='E') ){
    size_t nExp = 0;
    i++;
    if( i<n && (z[i]=='+' || z[i]=='-') ) i++;
    while( i<n && z[i]>='0' && z[i]<='9' ){ i++; nExp++; }
    if( nExp==0 ) return 0;
  }
  return i==n;
}

/* Classify and convert the unquoted field value z[0..n) into *pF.  Returns
** TS_LP_OK or an error (message names the field and column iCol). */
static int lpValue(TsLpParser *p, const char *z, size_t n, TsLpField *pF, size_t iCol){
  static const char *const azTrue[] = { "t", "T", "true", "True", "TRUE" };
  static const char *const azFalse[] = { "f", "F", "false", "False", "FALSE" };
  size_t k;
  int rc;
  if( n==0 ){
    return lpErr(p, "field '%.*s' has no value at column %zu", lpQ(pF->nKey), pF->zKey, iCol);
  }
  for(k=0; k<sizeof(azTrue)/sizeof(azTrue[0]); k++){
    if( strlen(azTrue[k])==n && memcmp(azTrue[k], z, n)==0 ){
      pF->eType = TS_LP_BOOL; pF->iVal = 1; return TS_LP_OK;
    }
    if( strlen(azFalse[k])==n && memcmp(azFalse[k], z, n)==0 ){
      pF->eType = TS_LP_BOOL; pF->iVal = 0; return TS_LP_OK;
    }
  }
  if( z[n-1]=='i' && n>1 ){
    rc = lpInt(z, n-1, &pF->iVal);
    if( rc==0 ){ pF->eType = TS_LP_INT; return TS_LP_OK; }
    if( rc==2 ){
      return lpErr(p, "integer value of field '%.*s' is out of range (int64) at column %zu",
                   lpQ(pF->nKey), pF->zKey, iCol);
    }
  }else if( z[n-1]=='u' && n>1 ){
    if( z[0]=='-' ){
      return lpErr(p, "unsigned value of field '%.*s' is negative at column %zu",
                   lpQ(pF->nKey), pF->zKey, iCol);
    }
    rc = lpDigits(z, n-1, UINT64_MAX, &pF->uVal);
    if( rc==0 ){ pF->eType = TS_LP_UINT; return TS_LP_OK; }
    if( rc==2 ){
      return lpErr(p, "unsigned value of field '%.*s' is out of range (uint64) at column %zu",
                   lpQ(pF->nKey), pF->zKey, iCol);
    }
  }else if( lpIsFloat(z, n) ){
    char zNum[400];
    char *zEnd = 0;
    if( n>=sizeof(zNum) ){
      return lpErr(p, "float value of field '%.*s' is longer than %d bytes at column %zu",
                   lpQ(pF->nKey), pF->zKey, (int)sizeof(zNum)-1, iCol);
    }
    memcpy(zNum, z, n);
    zNum[n] = 0;
    pF->rVal = strtod(zNum, &zEnd);
    if( zEnd!=zNum+n ){
      return lpErr(p, "invalid value '%.*s' of field '%.*s' at column %zu",
                   lpQ(n), z, lpQ(pF->nKey), pF->zKey, iCol);
    }
    if( isinf(pF->rVal) ){
      return lpErr(p, "float value of field '%.*s' is out of range at column %zu",
                   lpQ(pF->nKey), pF->zKey, iCol);
    }
    pF->eType = TS_LP_FLOAT;
    return TS_LP_OK;
  }
  return lpErr(p, "invalid value '%.*s' of field '%.*s' at column %zu (expected a number, "
               "an integer with i or u, a \"string\" or a boolean)",
               lpQ(n), z, lpQ(pF->nKey), pF->zKey, iCol);
}

/* Parse a quoted string starting at z[*pi]=='"' into scratch. */
static int lpString(TsLpParser *p, const char *z, size_t n, size_t *pi, TsLpField *pF){
  TsBuf *b = &p->scratch;
  size_t i = *pi + 1, iStart = b->n;
  while( i<n && z[i]!='"' ){
    if( z[i]=='\\' && i+1<n && (z[i+1]=='"' || z[i+1]=='\\') ) i++;
    tsBufAppendByte(b, (unsigned char)z[i]);
    i++;
  }
  if( i>=n ){
    return lpErr(p, "unterminated string value of field '%.*s' at column %zu",
                 lpQ(pF->nKey), pF->zKey, *pi+1);
  }
  tsBufAppendByte(b, 0);
  pF->eType = TS_LP_STRING;
  pF->zStr = (const char*)b->a + iStart;
  pF->nStr = b->n - iStart - 1;
  *pi = i + 1;
  return TS_LP_OK;
}

/* Grow an array of elements of size sz to hold at least nNeed. */
static int lpGrow(void **pa, int *pnAlloc, int nNeed, size_t sz){
  int nNew;
  void *a;
  if( nNeed<=*pnAlloc ) return 0;
  nNew = *pnAlloc ? *pnAlloc*2 : 16;
  if( nNew<nNeed ) nNew = nNeed;
  a = realloc(*pa, (size_t)nNew*sz);
  if( a==0 ) return 1;
  *pa = a;
  *pnAlloc = nNew;
  return 0;
}

int tsLpParse(TsLpParser *p, const char *z, size_t n, int ePrec, TsLpLine *pLine){
  static const int64_t aMul[] = { 1, 1000, 1000000, 1000000000 };
  size_t i = 0, nKey, iCol;
  const char *zKey;
  int nTag = 0, nField = 0, j;
  memset(pLine, 0, sizeof(*pLine));
  p->zErr[0] = 0;
  if( n>0 && z[n-1]=='\r' ) n--;
  while( i<n && z[i]==' ' ) i++;
  if( i==n || z[i]=='#' ) return TS_LP_SKIP;
  if( memchr(z, 0, n) ){
    return lpErr(p, "NUL byte at column %zu", (size_t)((const char*)memchr(z, 0, n) - z) + 1);
  }
  if( ePrec<TS_LP_NS || ePrec>TS_LP_S ) ePrec = TS_LP_NS;
  tsBufReset(&p->scratch);
  if( n > (SIZE_MAX-16)/2 || tsBufReserve(&p->scratch, 2*n+16) ){
    snprintf(p->zErr, sizeof(p->zErr), "out of memory (line of %zu bytes)", n);
    return TS_LP_NOMEM;
  }

  /* Measurement. */
  if( z[i]==',' ) return lpErr(p, "missing measurement at column %zu", i+1);
  pLine->zMeas = lpElem(p, z, n, &i, ", ", &pLine->nMeas);

  /* Tags. */
  while( i<n && z[i]==',' ){
    TsLpTag *pT;
    size_t iKeyCol;
    i++;
    iCol = iKeyCol = i+1;
    zKey = lpElem(p, z, n, &i, ",= ", &nKey);
    if( nKey==0 ) return lpErr(p, "empty tag key at column %zu", iCol);
    if( i>=n || z[i]!='=' ){
      return lpErr(p, "tag key '%.*s' has no '=' at column %zu", lpQ(nKey), zKey, iCol);
    }
    if( nTag>=TS_LP_MAX_TAGS ) return lpErr(p, "more than %d tags", TS_LP_MAX_TAGS);
    if( lpGrow((void**)&p->aTag, &p->nTagAlloc, nTag+1, sizeof(TsLpTag)) ){
      snprintf(p->zErr, sizeof(p->zErr), "out of memory");
      return TS_LP_NOMEM;
    }
    pT = &p->aTag[nTag++];
    pT->zKey = zKey; pT->nKey = nKey;
    i++;
    iCol = i+1;
    pT->zVal = lpElem(p, z, n, &i, ",= ", &pT->nVal);
    if( i<n && z[i]=='=' ){
      return lpErr(p, "unescaped '=' in the value of tag '%.*s' at column %zu",
                   lpQ(nKey), zKey, i+1);
    }
    if( pT->nVal==0 ){
      return lpErr(p, "tag '%.*s' has no value at column %zu", lpQ(nKey), zKey, iCol);
    }
    for(j=0; j<nTag-1; j++){
      if( p->aTag[j].nKey==nKey && memcmp(p->aTag[j].zKey, zKey, nKey)==0 ){
        return lpErr(p, "duplicate tag '%.*s' at column %zu", lpQ(nKey), zKey, iKeyCol);
      }
    }
  }
  while( i<n && z[i]==' ' ) i++;
  if( i>=n ){
    return lpErr(p, "missing fields after measurement '%.*s'", lpQ(pLine->nMeas), pLine->zMeas);
  }

  /* Fields. */
  for(;;){
    TsLpField *pF;
    int rc;
    iCol = i+1;
    zKey = lpElem(p, z, n, &i, ",= ", &nKey);
    if( nKey==0 ) return lpErr(p, "empty field key at column %zu", iCol);
    if( i>=n || z[i]!='=' ){
      return lpErr(p, "field key '%.*s' has no '=' at column %zu", lpQ(nKey), zKey, iCol);
    }
    if( nField>=TS_LP_MAX_FIELDS ) return lpErr(p, "more than %d fields", TS_LP_MAX_FIELDS);
    if( lpGrow((void**)&p->aField, &p->nFieldAlloc, nField+1, sizeof(TsLpField)) ){
      snprintf(p->zErr, sizeof(p->zErr), "out of memory");
      return TS_LP_NOMEM;
    }
    pF = &p->aField[nField++];
    memset(pF, 0, sizeof(*pF));
    pF->zKey = zKey; pF->nKey = nKey;
    for(j=0; j<nField-1; j++){
      if( p->aField[j].nKey==nKey && memcmp(p->aField[j].zKey, zKey, nKey)==0 ){
        return lpErr(p, "duplicate field '%.*s' at column %zu", lpQ(nKey), zKey, iCol);
      }
    }
    i++;
    if( i<n && z[i]=='"' ){
      rc = lpString(p, z, n, &i, pF);
      if( rc ) return rc;
      if( i<n && z[i]!=',' && z[i]!=' ' ){
        return lpErr(p, "expected ',' or ' ' after the string value of field '%.*s' "
                     "at column %zu", lpQ(nKey), zKey, i+1);
      }
    }else{
      size_t iStart = i;
      while( i<n && z[i]!=',' && z[i]!=' ' ) i++;
      rc = lpValue(p, z+iStart, i-iStart, pF, iStart+1);
      if( rc ) return rc;
    }
    if( i<n && z[i]==',' ){ i++; continue; }
    break;
  }

  /* Timestamp. */
  while( i<n && z[i]==' ' ) i++;
  if( i<n ){
    size_t iStart = i;
    int64_t t;
    int rc;
    while( i<n && z[i]!=' ' ) i++;
    rc = lpInt(z+iStart, i-iStart, &t);
    if( rc==1 ){
      return lpErr(p, "invalid timestamp '%.*s' at column %zu (expected an integer)",
                   lpQ(i-iStart), z+iStart, iStart+1);
    }
    if( rc==2 || (t>0 && t>INT64_MAX/aMul[ePrec]) || (t<0 && t<INT64_MIN/aMul[ePrec]) ){
      return lpErr(p, "timestamp '%.*s' is out of range at column %zu",
                   lpQ(i-iStart), z+iStart, iStart+1);
    }
    pLine->bTime = 1;
    pLine->iTime = t*aMul[ePrec];
    while( i<n && z[i]==' ' ) i++;
    if( i<n ) return lpErr(p, "unexpected text after the timestamp at column %zu", i+1);
  }
  pLine->nTag = nTag;
  pLine->aTag = p->aTag;
  pLine->nField = nField;
  pLine->aField = p->aField;
  return TS_LP_OK;
}
