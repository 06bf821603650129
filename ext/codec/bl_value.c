/*
** bl_value.c: CSV field -> time / typed value rules of batch load (see
** bl_value.h for the accepted forms).  Pure C: no SQLite, no allocation.
*/
#include "bl_value.h"
#include "tstime.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int64_t tsBlUnitParse(const char *z){
  if( z==0 ) return 0;
  if( strcmp(z, "MILLISECONDS")==0 ) return TS_BL_MILLISECONDS;
  if( strcmp(z, "SECONDS")==0 ) return TS_BL_SECONDS;
  if( strcmp(z, "MICROSECONDS")==0 ) return TS_BL_MICROSECONDS;
  if( strcmp(z, "NANOSECONDS")==0 ) return TS_BL_NANOSECONDS;
  return 0;
}

const char *tsBlUnitName(int64_t iUnit){
  switch( iUnit ){
    case TS_BL_SECONDS: return "SECONDS";
    case TS_BL_MICROSECONDS: return "MICROSECONDS";
    case TS_BL_NANOSECONDS: return "NANOSECONDS";
    default: return "MILLISECONDS";
  }
}

void tsBlQuoteSample(const char *z, size_t n, char *zOut, size_t nOut){
  size_t i, m = n>40 ? 40 : n;
  if( nOut<48 ){ if( nOut ) zOut[0] = 0; return; }
  for(i=0; i<m; i++){
    unsigned char c = (unsigned char)z[i];
    zOut[i] = (c<0x20 || c==0x7f) ? '?' : (char)c;
  }
  /* do not cut a UTF-8 sequence in the middle: drop trailing continuation
  ** bytes and their lead byte when the sample was truncated */
  if( m<n ){
    while( m>0 && ((unsigned char)zOut[m-1] & 0xC0)==0x80 ) m--;
    if( m>0 && ((unsigned char)zOut[m-1])>=0xC0 ) m--;
    memcpy(zOut+m, "...", 3);
    m += 3;
  }
  zOut[m] = 0;
}

/* Unsigned decimal digits only, into *pu; 0 ok, 1 empty/non-digit, 2 overflow. */
static int parseDigits(const char *z, size_t n, uint64_t *pu){
  uint64_t u = 0;
  size_t i;
  if( n==0 ) return 1;
  if( n<=19 ){
    /* at most 19 digits fit in 64 bits: no overflow check per digit */
    for(i=0; i<n; i++){
      unsigned d = (unsigned char)z[i] - '0';
      if( d>9 ) return 1;
      u = u*10 + d;
    }
    *pu = u;
    return 0;
  }
  for(i=0; i<n; i++){
    unsigned d = (unsigned char)z[i] - '0';
    if( d>9 ) return 1;
    if( u > (UINT64_MAX - d)/10 ) return 2;
    u = u*10 + d;
  }
  *pu = u;
  return 0;
}

int tsBlParseTime(const char *z, size_t n, int64_t iUnit, int64_t *piNs,
                  char *zWhy, size_t nWhy){
  char zS[64];
  uint64_t u = 0;
  int rc;
  rc = parseDigits(z, n, &u);
  if( rc==0 && u <= (uint64_t)INT64_MAX/(uint64_t)iUnit ){
    *piNs = (int64_t)(u*(uint64_t)iUnit);
    return 0;
  }
  /* the sample is made only for a reason (it costs more than the parse) */
  tsBlQuoteSample(z, n, zS, sizeof(zS));
  if( n>0 && z[0]=='-' ){
    snprintf(zWhy, nWhy, "'%s' is negative (times start at 1970-01-01)", zS);
    return 1;
  }
  if( rc==1 ){
    snprintf(zWhy, nWhy, "'%s' is not an integer count of %s", zS, tsBlUnitName(iUnit));
    return 1;
  }
  snprintf(zWhy, nWhy, "'%s' %s is past the largest time (2262-04-11T23:47:16.854775807Z)",
           zS, tsBlUnitName(iUnit));
  return 1;
}

int tsBlParseBigint(const char *z, size_t n, int64_t *pi, char *zWhy, size_t nWhy){
  char zS[64];
  uint64_t u = 0;
  int bNeg = 0, rc;
  size_t i = 0;
  if( n>0 && (z[0]=='-' || z[0]=='+') ){ bNeg = z[0]=='-'; i = 1; }
  rc = parseDigits(z+i, n-i, &u);
  if( rc==0 && (bNeg ? u > (uint64_t)INT64_MAX+1 : u > (uint64_t)INT64_MAX) ) rc = 2;
  if( rc ){
    tsBlQuoteSample(z, n, zS, sizeof(zS));
    snprintf(zWhy, nWhy, rc==1 ? "'%s' is not an integer" : "'%s' is out of the BIGINT range", zS);
    return 1;
  }
  *pi = bNeg ? (int64_t)(0 - u) : (int64_t)u;
  return 0;
}

int tsBlParseDouble(const char *z, size_t n, double *pr, char *zWhy, size_t nWhy){
  /* Exact powers of ten: 1e0..1e22 are doubles without rounding. */
  static const double aPow10[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
    1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
  };
  char zS[64];
  char zNum[400];
  size_t i = 0, nDig = 0, nSig = 0;
  char *zEnd = 0;
  double r;
  uint64_t uMant = 0;   /* the digits as an integer while nSig <= 19 */
  int iExp10 = 0, bNeg = 0, bExpNeg = 0, iExp = 0, nExp = 0;
  /* [sign] digits [. digits] [e [sign] digits], at least one digit */
  if( n==0 || n>=sizeof(zNum) ) goto bad;
  if( z[i]=='-' || z[i]=='+' ){ bNeg = z[i]=='-'; i++; }
  while( i<n && z[i]>='0' && z[i]<='9' ){
    if( nSig>0 || z[i]!='0' ){ if( nSig<19 ) uMant = uMant*10 + (uint64_t)(z[i]-'0'); else iExp10++; nSig++; }
    i++; nDig++;
  }
  if( i<n && z[i]=='.' ){
    i++;
    while( i<n && z[i]>='0' && z[i]<='9' ){
      if( nSig>0 || z[i]!='0' ){
        if( nSig<19 ){ uMant = uMant*10 + (uint64_t)(z[i]-'0'); iExp10--; }
        nSig++;
      }else{
        iExp10--;
      }
      i++; nDig++;
    }
  }
  if( nDig==0 ) goto bad;
  if( i<n && (z[i]=='e' || z[i]=='E') ){
    i++;
    if( i<n && (z[i]=='-' || z[i]=='+') ){ bExpNeg = z[i]=='-'; i++; }
    while( i<n && z[i]>='0' && z[i]<='9' ){
      if( iExp<100000 ) iExp = iExp*10 + (z[i]-'0');
      i++; nExp++;
    }
    if( nExp==0 ) goto bad;
  }
  if( i!=n ) goto bad;
  /* Clinger's fast path: a mantissa below 2^53 times or divided by an exact
  ** power of ten is one correctly rounded operation, the same double strtod
  ** gives.  Anything else goes to strtod. */
  iExp10 += bExpNeg ? -iExp : iExp;
  if( nSig<=19 && uMant<=(UINT64_C(1)<<53) ){
    if( uMant==0 ){ *pr = bNeg ? -0.0 : 0.0; return 0; }
    if( iExp10>=0 && iExp10<=22 ){
      r = (double)uMant * aPow10[iExp10];
      if( isfinite(r) ){ *pr = bNeg ? -r : r; return 0; }
    }else if( iExp10<0 && iExp10>=-22 ){
      r = (double)uMant / aPow10[-iExp10];
      *pr = bNeg ? -r : r;
      return 0;
    }
  }
  memcpy(zNum, z, n);
  zNum[n] = 0;
  r = strtod(zNum, &zEnd);
  if( !isfinite(r) ){
    tsBlQuoteSample(z, n, zS, sizeof(zS));
    snprintf(zWhy, nWhy, "'%s' is out of the DOUBLE range", zS);
    return 1;
  }
  *pr = r;
  return 0;
bad:
  tsBlQuoteSample(z, n, zS, sizeof(zS));
  snprintf(zWhy, nWhy, "'%s' is not a number", zS);
  return 1;
}

int tsBlParseBool(const char *z, size_t n, int *pb, char *zWhy, size_t nWhy){
  char zS[64];
  if( (n==4 && strncasecmp(z, "true", 4)==0) || (n==1 && z[0]=='1') ){ *pb = 1; return 0; }
  if( (n==5 && strncasecmp(z, "false", 5)==0) || (n==1 && z[0]=='0') ){ *pb = 0; return 0; }
  tsBlQuoteSample(z, n, zS, sizeof(zS));
  snprintf(zWhy, nWhy, "'%s' is not a BOOLEAN (true, false, 1 or 0)", zS);
  return 1;
}

int tsBlParseTimestamp(const char *z, size_t n, int64_t iUnit, int64_t *piNs,
                       char *zWhy, size_t nWhy){
  char zS[64];
  size_t i;
  for(i=0; i<n && z[i]>='0' && z[i]<='9'; i++){}
  if( n>0 && i==n ) return tsBlParseTime(z, n, iUnit, piNs, zWhy, nWhy);
  if( n>0 && n<100 && tsTimeParseIso(z, (int)n, piNs)==0 && *piNs>=0 ) return 0;
  tsBlQuoteSample(z, n, zS, sizeof(zS));
  snprintf(zWhy, nWhy, "'%s' is neither an integer count of %s nor an ISO-8601 time",
           zS, tsBlUnitName(iUnit));
  return 1;
}
