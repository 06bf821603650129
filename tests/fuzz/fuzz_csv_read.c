/* libFuzzer target: the streaming CSV reader of ext/codec/csv_read.c.
** The first 4 bytes choose options (separator, quote, escape, trim, NULL
** token, piece size, a small record limit); the rest is the input, read
** once whole and once in pieces.  Both readings must give the same records,
** every field must lie inside the record buffer (or, for a record read in
** place, inside the current piece), offsets must grow and the
** last end offset must equal the input size. */
#include "csv_read.h"
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stddef.h>

static uint64_t readAll(const uint8_t *a, size_t n, const TsCsvOpt *pOpt, size_t nPiece){
  TsCsvReader r;
  const char *zWhy;
  uint64_t h = 1469598103934665603ull;
  size_t i = 0;
  int e, bFin = 0;
  int64_t iPrevEnd = 0;
  if( tsCsvInit(&r, pOpt, &zWhy) ) return 0;
  for(;;){
    if( i<n ){
      size_t m = n-i<nPiece ? n-i : nPiece;
      tsCsvFeed(&r, a+i, m); i += m;
    }else if( !bFin ){ tsCsvFinish(&r); bFin = 1; }
    while( (e = tsCsvNext(&r))==TS_CSV_ROW || e==TS_CSV_BAD ){
      int k;
      if( r.iEndOff<iPrevEnd || r.iEndOff>(int64_t)n || r.iFirstLine>r.iLastLine ) abort();
      iPrevEnd = r.iEndOff;
      h = (h ^ (uint64_t)e ^ ((uint64_t)r.iFirstLine<<8)) * 1099511628211ull;
      if( e==TS_CSV_ROW ){
        for(k=0; k<tsCsvFieldCount(&r); k++){
          size_t nf, j; int f;
          const char *z = tsCsvField(&r, k, &nf, &f);
          if( r.nGap==0 ? nf>r.field.n
              : (z<(const char*)r.aIn || z+nf>(const char*)r.aIn+r.nIn) ) abort();
          for(j=0; j<nf; j++) h = (h ^ (unsigned char)z[j]) * 1099511628211ull;
          h = (h ^ (uint64_t)(f+0x100)) * 1099511628211ull;
        }
      }
    }
    if( e==TS_CSV_END || e==TS_CSV_NOMEM ) break;
  }
  if( e==TS_CSV_END && r.iEndOff!=(int64_t)n ) abort();
  tsCsvFree(&r);
  return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *a, size_t n){
  static const char aSep[] = {',', ';', '|', '\t', ' ', '"'};
  TsCsvOpt o;
  if( n<4 || n>1<<16 ) return 0;
  tsCsvOptInit(&o);
  o.cSep = aSep[a[0]%6];
  o.cQuote = (a[1]&1) ? '\'' : (a[1]&2) ? -1 : '"';
  o.cEsc = (a[1]&4) ? '\\' : (a[1]&8) ? o.cQuote : -1;
  o.bTrim = (a[1]>>4)&1;
  o.zNull = (a[1]&0x20) ? "NULL" : (a[1]&0x40) ? " " : 0;
  o.nMaxRecord = (a[2]&1) ? 16 : 0;
  if( readAll(a+4, n-4, &o, n) != readAll(a+4, n-4, &o, 1 + a[3]%13) ) abort();
  return 0;
}
