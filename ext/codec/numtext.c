/*
** numtext.c: exact parsing of decimal number text (contract in numtext.h).
**
** The integer test works on the digits, not on a double: the mantissa's
** digits without the point form D, the exponent minus the count of fraction
** digits forms E, and the text is an integer when E >= 0 or D ends in at
** least -E zeros.  Its value is then accumulated in a uint64 with an
** overflow check against 2^63 (the magnitude of INT64_MIN).  The double, for
** the other cases, comes from strtod_l in the C locale.
*/
#include "numtext.h"
#include <locale.h>
#include <stdlib.h>
#include <string.h>

static int isSpace(char c){
  return c==' ' || c=='\t' || c=='\n' || c=='\r' || c=='\f' || c=='\v';
}
static int isDigit(char c){ return c>='0' && c<='9'; }

/* The C locale for strtod_l, created once per call (cheap, no global
** state); NULL falls back to strtod, fine in the default "C" locale. */
static double cStrtod(const char *z){
  locale_t loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  double r;
  if( loc==(locale_t)0 ) return strtod(z, 0);
  r = strtod_l(z, 0, loc);
  freelocale(loc);
  return r;
}

int tsNumText(const char *z, size_t n, int64_t *pi, double *pr, int *pbIntegral){
  size_t i = 0, iStart, iEnd;
  int bNeg = 0, nDigit = 0, nFrac = 0, bIntegral = 0;
  int64_t iExp = 0;
  size_t iDig0 = 0, iDigEnd = 0;  /* span of mantissa text (with the '.') */
  *pi = 0; *pr = 0.0; *pbIntegral = 0;
  while( i<n && isSpace(z[i]) ) i++;
  iStart = i;
  if( i<n && (z[i]=='+' || z[i]=='-') ){ bNeg = z[i]=='-'; i++; }
  iDig0 = i;
  while( i<n && isDigit(z[i]) ){ i++; nDigit++; }
  if( i<n && z[i]=='.' ){
    i++;
    while( i<n && isDigit(z[i]) ){ i++; nDigit++; nFrac++; }
  }
  iDigEnd = i;
  if( nDigit==0 ) return TS_NUMTEXT_NONE;
  if( i<n && (z[i]=='e' || z[i]=='E') ){
    int bExpNeg = 0, nExpDigit = 0;
    i++;
    if( i<n && (z[i]=='+' || z[i]=='-') ){ bExpNeg = z[i]=='-'; i++; }
    while( i<n && isDigit(z[i]) ){
      if( iExp<100000 ) iExp = iExp*10 + (z[i]-'0');
      i++; nExpDigit++;
    }
    if( nExpDigit==0 ) return TS_NUMTEXT_NONE;
    if( bExpNeg ) iExp = -iExp;
  }
  iEnd = i;
  while( i<n && isSpace(z[i]) ) i++;
  if( i!=n ) return TS_NUMTEXT_NONE;

  /* Integer test on the digits. */
  {
    int64_t e = iExp - nFrac;     /* value = D * 10^e */
    size_t k, kLast = iDigEnd;    /* kLast: end of D's significant part */
    int nTrailZero = 0, bAllZero = 1;
    for(k=iDig0; k<iDigEnd; k++) if( z[k]!='.' && z[k]!='0' ) bAllZero = 0;
    if( bAllZero ){
      *pi = 0;
      return TS_NUMTEXT_INT;
    }
    /* Count trailing zeros of D (skipping the point). */
    for(k=iDigEnd; k>iDig0; k--){
      char c = z[k-1];
      if( c=='.' ) continue;
      if( c!='0' ) break;
      nTrailZero++;
    }
    kLast = k;
    if( e>=0 || nTrailZero>=-e ){
      uint64_t u = 0, lim = bNeg ? (uint64_t)1<<63 : ((uint64_t)1<<63)-1;
      int bOver = 0;
      int64_t nDrop = e<0 ? -e : 0;   /* trailing zeros that are fraction */
      int64_t nMul = e>0 ? e : 0;
      size_t kEnd = iDigEnd;
      /* Digits of D up to kEnd, less nDrop trailing zero digits. */
      {
        int64_t d = nDrop;
        while( d>0 && kEnd>iDig0 ){
          if( z[kEnd-1]!='.' ) d--;
          kEnd--;
        }
      }
      for(k=iDig0; k<kEnd && !bOver; k++){
        if( z[k]=='.' ) continue;
        if( u > (lim - (uint64_t)(z[k]-'0'))/10 ) bOver = 1;
        else u = u*10 + (uint64_t)(z[k]-'0');
      }
      while( nMul>0 && !bOver ){
        if( u > lim/10 ) bOver = 1; else u *= 10;
        nMul--;
      }
      (void)kLast;
      if( !bOver ){
        *pi = bNeg ? (int64_t)(0 - u) : (int64_t)u;
        return TS_NUMTEXT_INT;
      }
      bIntegral = 1;
    }
  }

  /* A real: strtod on a terminated copy of the number's text. */
  {
    size_t m = iEnd - iStart;
    char aBuf[128];
    char *zCopy = m<sizeof(aBuf) ? aBuf : malloc(m+1);
    if( zCopy==0 ) return TS_NUMTEXT_NONE;
    memcpy(zCopy, z+iStart, m);
    zCopy[m] = 0;
    *pr = cStrtod(zCopy);
    if( zCopy!=aBuf ) free(zCopy);
  }
  *pbIntegral = bIntegral;
  return TS_NUMTEXT_REAL;
}
