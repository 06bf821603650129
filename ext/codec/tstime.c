/*
** tstime.c: parsing and formatting of nanosecond timestamps and interval
** literals (see tstime.h).  Pure C; every parser is total over arbitrary
** bytes (fuzzed by tests/fuzz/fuzz_time.c) and never overflows: arithmetic on
** int64 uses the __builtin_*_overflow checks and reports TS_TIME_RANGE.
*/
#include "tstime.h"
#include <stdio.h>
#include <string.h>

typedef struct Unit { const char *z; int64_t ns; } Unit;
static const Unit aUnit[] = {
  {"ns", 1}, {"nanosecond", 1},
  {"us", TS_NS_PER_US}, {"microsecond", TS_NS_PER_US},
  {"ms", TS_NS_PER_MS}, {"millisecond", TS_NS_PER_MS},
  {"s", TS_NS_PER_SEC}, {"second", TS_NS_PER_SEC},
  {"m", TS_NS_PER_MIN}, {"minute", TS_NS_PER_MIN},
  {"h", TS_NS_PER_HOUR}, {"hour", TS_NS_PER_HOUR},
  {"d", TS_NS_PER_DAY}, {"day", TS_NS_PER_DAY},
};

int tsIntervalParse(const char *z, int n, int64_t *piNs){
  int i = 0, iFracStart, nFrac, nInt = 0;
  int64_t iInt = 0, iUnit = 0, iRes;
  size_t k, nUnit;
  const char *zUnit;
  *piNs = 0;
  if( z==0 ) return TS_TIME_SYNTAX;
  if( n<0 ) n = (int)strlen(z);
  while( i<n && z[i]>='0' && z[i]<='9' ){
    if( __builtin_mul_overflow(iInt, 10, &iInt)
     || __builtin_add_overflow(iInt, z[i]-'0', &iInt) ) return TS_TIME_RANGE;
    i++; nInt++;
  }
  iFracStart = i;
  if( i<n && z[i]=='.' ){
    i++;
    iFracStart = i;
    while( i<n && z[i]>='0' && z[i]<='9' ) i++;
  }
  nFrac = i - iFracStart;
  if( nInt==0 && nFrac==0 ) return TS_TIME_SYNTAX;
  if( i<n && z[i-1]=='.' && nFrac==0 ) return TS_TIME_SYNTAX;
  zUnit = z + i;
  nUnit = (size_t)(n - i);
  if( nUnit==0 ) return TS_TIME_SYNTAX;
  for(k=0; k<sizeof(aUnit)/sizeof(aUnit[0]); k++){
    if( strlen(aUnit[k].z)==nUnit && memcmp(aUnit[k].z, zUnit, nUnit)==0 ){
      iUnit = aUnit[k].ns;
      break;
    }
  }
  if( iUnit==0 ){
    if( (nUnit==1 && zUnit[0]=='y') || (nUnit==4 && memcmp(zUnit, "year", 4)==0)
     || (nUnit==5 && memcmp(zUnit, "month", 5)==0) ){
      return TS_TIME_CALENDAR;
    }
    return TS_TIME_SYNTAX;
  }
  if( __builtin_mul_overflow(iInt, iUnit, &iRes) ) return TS_TIME_RANGE;
  if( nFrac>0 ){
    /* Fraction f = 0.d1d2...dk; f*unit must be a whole number of ns. */
    int64_t iNum = 0, iDen = 1, iPart;
    int j;
    for(j=0; j<nFrac; j++){
      if( j>=18 ){
        if( z[iFracStart+j]!='0' ) return TS_TIME_FRACTION;
        continue;
      }
      iNum = iNum*10 + (z[iFracStart+j]-'0');
      iDen *= 10;
    }
    /* iUnit <= 8.64e13 and iNum < 1e18: use 128-bit to avoid overflow. */
    {
      __int128 x = (__int128)iNum * iUnit;
      if( x % iDen ) return TS_TIME_FRACTION;
      iPart = (int64_t)(x / iDen);
    }
    if( __builtin_add_overflow(iRes, iPart, &iRes) ) return TS_TIME_RANGE;
  }
  *piNs = iRes;
  return TS_TIME_OK;
}

/* Read exactly nDigit decimal digits at z[*pi]; 1 if not digits. */
static int readDigits(const char *z, int n, int *pi, int nDigit, int *pv){
  int v = 0, j;
  if( *pi + nDigit > n ) return 1;
  for(j=0; j<nDigit; j++){
    char c = z[*pi + j];
    if( c<'0' || c>'9' ) return 1;
    v = v*10 + (c-'0');
  }
  *pi += nDigit;
  *pv = v;
  return 0;
}

int tsTimeParseIso(const char *z, int n, int64_t *piNs){
  int i = 0, Y, M, D, h = 0, mi = 0, s = 0, iFrac = 0, nFrac = 0;
  int64_t iOffSec = 0, iDays, iSec, iNs;
  static const int aDim[] = {31,29,31,30,31,30,31,31,30,31,30,31};
  *piNs = 0;
  if( z==0 ) return TS_TIME_SYNTAX;
  if( n<0 ) n = (int)strlen(z);
  if( readDigits(z, n, &i, 4, &Y) ) return TS_TIME_SYNTAX;
  if( i>=n || z[i++]!='-' ) return TS_TIME_SYNTAX;
  if( readDigits(z, n, &i, 2, &M) ) return TS_TIME_SYNTAX;
  if( i>=n || z[i++]!='-' ) return TS_TIME_SYNTAX;
  if( readDigits(z, n, &i, 2, &D) ) return TS_TIME_SYNTAX;
  if( M<1 || M>12 || D<1 || D>aDim[M-1] ) return TS_TIME_SYNTAX;
  if( M==2 && D==29 && !((Y%4==0 && Y%100!=0) || Y%400==0) ) return TS_TIME_SYNTAX;
  if( i<n ){
    if( z[i]!='T' && z[i]!=' ' ) return TS_TIME_SYNTAX;
    i++;
    if( readDigits(z, n, &i, 2, &h) ) return TS_TIME_SYNTAX;
    if( i>=n || z[i++]!=':' ) return TS_TIME_SYNTAX;
    if( readDigits(z, n, &i, 2, &mi) ) return TS_TIME_SYNTAX;
    if( i<n && z[i]==':' ){
      i++;
      if( readDigits(z, n, &i, 2, &s) ) return TS_TIME_SYNTAX;
      if( i<n && z[i]=='.' ){
        i++;
        while( i<n && z[i]>='0' && z[i]<='9' ){
          if( nFrac>=9 ) return TS_TIME_SYNTAX;   /* finer than 1 ns */
          iFrac = iFrac*10 + (z[i]-'0');
          nFrac++; i++;
        }
        if( nFrac==0 ) return TS_TIME_SYNTAX;
        while( nFrac<9 ){ iFrac *= 10; nFrac++; }
      }
    }
    if( h>23 || mi>59 || s>59 ) return TS_TIME_SYNTAX;
    if( i<n ){
      if( z[i]=='Z' ){
        i++;
      }else if( z[i]=='+' || z[i]=='-' ){
        int sign = z[i]=='-' ? -1 : 1, oh, om = 0;
        i++;
        if( readDigits(z, n, &i, 2, &oh) ) return TS_TIME_SYNTAX;
        if( i<n ){
          if( z[i]==':' ) i++;
          if( readDigits(z, n, &i, 2, &om) ) return TS_TIME_SYNTAX;
        }
        if( oh>23 || om>59 ) return TS_TIME_SYNTAX;
        iOffSec = sign * (oh*3600 + om*60);
      }else{
        return TS_TIME_SYNTAX;
      }
    }
    if( i!=n ) return TS_TIME_SYNTAX;
  }
  iDays = tsDaysFromCivil(Y, (unsigned)M, (unsigned)D);
  iSec = iDays*86400 + h*3600 + mi*60 + s - iOffSec;
  /* In 128 bits: near the minimum, iSec*1e9 alone is below INT64_MIN while
  ** adding the fraction brings it back (1677-09-21T00:12:43.145224192Z). */
  {
    __int128 x = (__int128)iSec*TS_NS_PER_SEC + iFrac;
    if( x<INT64_MIN || x>INT64_MAX ) return TS_TIME_RANGE;
    iNs = (int64_t)x;
  }
  *piNs = iNs;
  return TS_TIME_OK;
}

int tsTimeFormatIso(int64_t iNs, char *zBuf){
  /* Truncate, then borrow: no intermediate leaves the int64 range even for
  ** INT64_MIN (floor(x/1e9)*1e9 would). */
  int64_t iSec = iNs / TS_NS_PER_SEC;
  int64_t iSub = iNs % TS_NS_PER_SEC;
  if( iSub<0 ){ iSub += TS_NS_PER_SEC; iSec--; }
  int64_t iDay = tsFloorDiv(iSec, 86400);
  int64_t iSod = iSec - iDay*86400;
  int64_t y;
  unsigned m, d;
  tsCivilFromDays(iDay, &y, &m, &d);
  return snprintf(zBuf, TS_ISO_BUFSZ, "%04lld-%02u-%02uT%02d:%02d:%02d.%09lldZ",
      (long long)y, m, d, (int)(iSod/3600), (int)(iSod/60%60), (int)(iSod%60),
      (long long)iSub);
}
