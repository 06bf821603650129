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

int tsCsvFormatDouble(double r, char *zBuf){
  int n, nDigit;
  if( isnan(r) ){ memcpy(zBuf, "nan", 4); return 3; }
  if( isinf(r) ){
    if( r<0 ){ memcpy(zBuf, "-inf", 5); return 4; }
    memcpy(zBuf, "inf", 4); return 3;
  }
  for(nDigit=15; nDigit<=17; nDigit++){
    n = snprintf(zBuf, TS_DBL_BUFSZ, "%.*g", nDigit, r);
    if( strtod(zBuf, 0)==r ) break;
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
