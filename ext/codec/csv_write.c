/*
** csv_write.c: the CSV field encoder, number/time text forms and the gzip
** stream of UNLOAD's CSV output.  Pure C (no SQLite); see csv_write.h for
** the dialect.  The encoder scans a value once to decide whether it needs
** quotes, then copies it with escapes inserted; UTF-8 passes through
** byte for byte (no byte of a multi-byte sequence is ASCII, so it can never
** match the ASCII delimiter, quote or escape).
*/
#include "csv_write.h"
#include "tstime.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void tsCsvAppendText(TsBuf *p, const TsCsvDialect *pD, const char *z, size_t n){
  size_t i, iRun = 0;
  int bQuote = (n==0);
  for(i=0; i<n && !bQuote; i++){
    char c = z[i];
    if( c==pD->cDelim || c=='\n' || c=='\r' ) bQuote = 1;
    /* With escaped_by '"' the output is RFC 4180: quotes force quoting. */
    if( c=='"' && pD->cEscape=='"' ) bQuote = 1;
  }
  if( bQuote ) tsBufAppendByte(p, '"');
  for(i=0; i<n; i++){
    char c = z[i];
    if( c=='"' || c==pD->cEscape ){
      tsBufAppend(p, z+iRun, i-iRun);
      tsBufAppendByte(p, (unsigned char)pD->cEscape);
      iRun = i;   /* the character itself is copied with the next run */
    }
  }
  tsBufAppend(p, z+iRun, n-iRun);
  if( bQuote ) tsBufAppendByte(p, '"');
}

/* Digits of u (u < 10^19) into z, returning their count. */
static int fmtU64(uint64_t u, char *z){
  char a[20];
  int n = 0, i;
  do{ a[n++] = (char)('0' + u%10); u /= 10; }while( u );
  for(i=0; i<n; i++) z[i] = a[n-1-i];
  return n;
}

/*
** Fast path of tsCsvFormatDouble for values with at most 15 significant
** digits in fixed notation (1e-4 <= |r| < 1e15: what "%.15g" prints without
** an exponent), the common case of measured data (21.5, 0.05, 1234.5678).
** Finds the smallest k with m = r*10^k integral, |m| < 10^15 and
** (double)m / 10^k == r: that division of two exact doubles is correctly
** rounded, so the decimal m/10^k reads back as r, and with at most 15
** digits it is exactly what "%.15g" prints (r is within half an ulp of it,
** far below half a unit of the 15th digit).  Returns the length, or 0 when
** the value needs the general path.
*/
static int fmtDoubleFast(double r, char *zBuf){
  static const double aPow10[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
    1e15, 1e16, 1e17, 1e18
  };
  double a = r<0 ? -r : r;
  int k, n = 0, nDig, i;
  if( !(a>=1e-4 && a<1e15) ) return 0;
  for(k=0; k<(int)(sizeof(aPow10)/sizeof(aPow10[0])); k++){
    double m = a*aPow10[k];
    double mr;
    if( m>=1e15 ) return 0;
    mr = (double)(uint64_t)(m + 0.5);
    if( mr/aPow10[k]==a ){
      char zDig[20];
      uint64_t u = (uint64_t)mr;
      if( r<0 ) zBuf[n++] = '-';
      nDig = fmtU64(u, zDig);
      if( k==0 ){
        memcpy(zBuf+n, zDig, (size_t)nDig); n += nDig;
        zBuf[n++] = '.'; zBuf[n++] = '0';
      }else if( nDig>k ){
        memcpy(zBuf+n, zDig, (size_t)(nDig-k)); n += nDig-k;
        zBuf[n++] = '.';
        memcpy(zBuf+n, zDig+nDig-k, (size_t)k); n += k;
      }else{
        zBuf[n++] = '0'; zBuf[n++] = '.';
        for(i=nDig; i<k; i++) zBuf[n++] = '0';
        memcpy(zBuf+n, zDig, (size_t)nDig); n += nDig;
      }
      zBuf[n] = 0;
      return n;
    }
  }
  return 0;
}

/*
** 1 when r certainly does not read back from its 15-significant-digit text,
** so the general path can start at 16 digits (a value of full precision
** then costs one snprintf and one strtod less).  The 15-digit text is
** D = M * 10^q with M = round(|r| / 10^q) in [1e14, 1e15); with |q| <= 22
** both 10^|q| and the product or quotient below are single correctly rounded
** operations, so the computed m is within 1/16 of the exact scaled value and
** M is known unless m's fraction is near .5.  Then D reads back as r iff
** M (op) 10^|q| == |r|, again one correctly rounded operation.  0 means
** "maybe": the caller tries 15 digits as before.
*/
static int no15Digits(double r){
  static const double aPow10[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
    1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
  };
  double a = r<0 ? -r : r, m, M, f;
  int x, q;
  if( !(a>=1e-7 && a<1e36) ) return 0;
  x = (int)floor(log10(a));
  q = x - 14;
  if( q<-22 || q>22 ) return 0;
  m = q<0 ? a*aPow10[-q] : a/aPow10[q];
  if( m<1e14 || m>=1e15 ) return 0;        /* log10 was off by one: give up */
  M = floor(m);
  f = m - M;
  if( f>0.43 && f<0.57 ) return 0;
  if( f>=0.57 ) M += 1.0;
  if( M>=1e15 ) return 0;
  return (q<0 ? M/aPow10[-q] : M*aPow10[q])!=a;
}

int tsCsvFormatDouble(double r, char *zBuf){
  int n, nDigit;
  if( isnan(r) ){ memcpy(zBuf, "nan", 4); return 3; }
  if( isinf(r) ){
    if( r<0 ){ memcpy(zBuf, "-inf", 5); return 4; }
    memcpy(zBuf, "inf", 4); return 3;
  }
  if( r==0.0 ){
    if( signbit(r) ){ memcpy(zBuf, "-0.0", 5); return 4; }
    memcpy(zBuf, "0.0", 4); return 3;
  }
  if( (n = fmtDoubleFast(r, zBuf))>0 ) return n;
  /* 17 digits always read back (binary64), so no strtod for them. */
  for(nDigit=no15Digits(r) ? 16 : 15; nDigit<=17; nDigit++){
    n = snprintf(zBuf, TS_DBL_BUFSZ, "%.*g", nDigit, r);
    if( nDigit==17 || strtod(zBuf, 0)==r ) break;
  }
  if( strpbrk(zBuf, ".e")==0 && n+2<TS_DBL_BUFSZ ){
    zBuf[n++] = '.';
    zBuf[n++] = '0';
    zBuf[n] = 0;
  }
  return n;
}

int tsCsvFormatTimestamp(int64_t iNs, char *zBuf){
  char zIso[TS_ISO_BUFSZ];
  int n = tsTimeFormatIso(iNs, zIso);
  /* "YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ" -> "YYYY-MM-DD hh:mm:ss.nnnnnnnnn" */
  if( n>0 && zIso[n-1]=='Z' ) n--;
  if( n>=TS_DBL_BUFSZ ) n = TS_DBL_BUFSZ-1;
  memcpy(zBuf, zIso, (size_t)n);
  zBuf[n] = 0;
  {
    char *zT = strchr(zBuf, 'T');
    if( zT ) *zT = ' ';
  }
  return n;
}

/* Run deflate over the pending input with flush mode f until it is all
** consumed and (for f!=Z_NO_FLUSH) all output is produced. */
static int gzPump(TsGz *p, const void *a, size_t n, int f, TsBuf *pOut){
  z_stream *s = (z_stream*)p->pStrm;
  int rc;
  s->next_in = (Bytef*)a;
  s->avail_in = (uInt)n;
  do{
    if( tsBufReserve(pOut, 65536) ) return 1;
    s->next_out = pOut->a + pOut->n;
    s->avail_out = (uInt)(pOut->nAlloc - pOut->n);
    if( s->avail_out>65536*16 ) s->avail_out = 65536*16;
    {
      uInt nBefore = s->avail_out;
      rc = deflate(s, f);
      pOut->n += nBefore - s->avail_out;
    }
    if( rc==Z_STREAM_ERROR ) return 1;
    if( f==Z_FINISH && rc==Z_STREAM_END ) return 0;
  }while( s->avail_in>0 || s->avail_out==0 );
  return f==Z_FINISH ? 1 : 0;
}

int tsGzInit(TsGz *p, int iLevel){
  z_stream *s;
  memset(p, 0, sizeof(*p));
  s = (z_stream*)calloc(1, sizeof(z_stream));
  if( s==0 ) return 1;
  /* windowBits 15+16: a gzip header and trailer instead of zlib's. */
  if( deflateInit2(s, iLevel, Z_DEFLATED, 15+16, 8, Z_DEFAULT_STRATEGY)!=Z_OK ){
    free(s);
    return 1;
  }
  p->pStrm = s;
  return 0;
}

int tsGzWrite(TsGz *p, const void *a, size_t n, TsBuf *pOut){
  const unsigned char *z = (const unsigned char*)a;
  if( p->pStrm==0 ) return 1;
  while( n>0 ){
    /* avail_in is a uInt: feed huge inputs in slices. */
    size_t nPart = n>(1u<<30) ? (1u<<30) : n;
    if( gzPump(p, z, nPart, Z_NO_FLUSH, pOut) ) return 1;
    p->nIn += nPart;
    p->nSinceSync += nPart;
    z += nPart;
    n -= nPart;
  }
  return 0;
}

int tsGzSync(TsGz *p, TsBuf *pOut){
  if( p->pStrm==0 ) return 1;
  p->nSinceSync = 0;
  return gzPump(p, 0, 0, Z_SYNC_FLUSH, pOut);
}

int tsGzFinish(TsGz *p, TsBuf *pOut){
  if( p->pStrm==0 ) return 1;
  p->nSinceSync = 0;
  return gzPump(p, 0, 0, Z_FINISH, pOut);
}

void tsGzFree(TsGz *p){
  if( p->pStrm ){
    deflateEnd((z_stream*)p->pStrm);
    free(p->pStrm);
    p->pStrm = 0;
  }
}

uint64_t tsGzBound(uint64_t n){
  /* zlib's deflateBound for default settings is n + n/4096*5 + 13 or so;
  ** stay on the safe side: stored blocks cost 5 bytes per 16 KB, plus the
  ** sync marker, the block header and the 8-byte trailer. */
  return n + (n>>12)*5 + 64;
}
