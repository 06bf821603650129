/*
** tsbuf.c: growable byte buffers (TsBuf) and bounds-checked readers (TsRd).
** See tsbuf.h for the contract.  Pure C, no SQLite.
*/
#include "tsbuf.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TSBUF_DEFAULT_MAX ((size_t)1 << 30)

void tsBufInit(TsBuf *p){ memset(p, 0, sizeof(*p)); }

void tsBufFree(TsBuf *p){
  if( p ){ free(p->a); memset(p, 0, sizeof(*p)); }
}

void tsBufReset(TsBuf *p){ p->n = 0; }

int tsBufReserve(TsBuf *p, size_t nExtra){
  size_t nMax = p->nMax ? p->nMax : TSBUF_DEFAULT_MAX;
  size_t nNew;
  unsigned char *aNew;
  if( p->bErr ) return 1;
  if( nExtra > nMax || p->n > nMax - nExtra ){ p->bErr = 1; return 1; }
  if( p->n + nExtra <= p->nAlloc ) return 0;
  nNew = p->nAlloc ? p->nAlloc : 64;
  while( nNew < p->n + nExtra ) nNew *= 2;
  if( nNew > nMax ) nNew = nMax;
  aNew = realloc(p->a, nNew);
  if( aNew==0 ){ p->bErr = 1; return 1; }
  p->a = aNew;
  p->nAlloc = nNew;
  return 0;
}

void tsBufAppend(TsBuf *p, const void *a, size_t n){
  if( n==0 || tsBufReserve(p, n) ) return;
  memcpy(p->a + p->n, a, n);
  p->n += n;
}

void tsBufAppendByte(TsBuf *p, unsigned char c){
  if( tsBufReserve(p, 1) ) return;
  p->a[p->n++] = c;
}

void tsBufAppendU32le(TsBuf *p, uint32_t v){
  unsigned char a[4];
  int i;
  for(i=0; i<4; i++) a[i] = (unsigned char)(v >> (8*i));
  tsBufAppend(p, a, 4);
}

void tsBufAppendU64le(TsBuf *p, uint64_t v){
  unsigned char a[8];
  int i;
  for(i=0; i<8; i++) a[i] = (unsigned char)(v >> (8*i));
  tsBufAppend(p, a, 8);
}

void tsBufAppendVarint(TsBuf *p, uint64_t v){
  unsigned char a[10];
  int n = 0;
  do{
    unsigned char c = v & 0x7f;
    v >>= 7;
    a[n++] = c | (v ? 0x80 : 0);
  }while( v );
  tsBufAppend(p, a, (size_t)n);
}

void tsBufAppendZigzag(TsBuf *p, int64_t v){ tsBufAppendVarint(p, tsZigzagEnc(v)); }

void tsBufAppendStr(TsBuf *p, const char *z){ tsBufAppend(p, z, strlen(z)); }

void tsBufPrintf(TsBuf *p, const char *zFmt, ...){
  va_list ap;
  int n;
  char aSmall[256];
  va_start(ap, zFmt);
  n = vsnprintf(aSmall, sizeof(aSmall), zFmt, ap);
  va_end(ap);
  if( n<0 ){ p->bErr = 1; return; }
  if( (size_t)n < sizeof(aSmall) ){ tsBufAppend(p, aSmall, (size_t)n); return; }
  if( tsBufReserve(p, (size_t)n + 1) ) return;
  va_start(ap, zFmt);
  vsnprintf((char*)p->a + p->n, (size_t)n + 1, zFmt, ap);
  va_end(ap);
  p->n += (size_t)n;
}

unsigned char *tsBufDetach(TsBuf *p, size_t *pn){
  unsigned char *a = p->a;
  if( pn ) *pn = p->n;
  p->a = 0; p->n = 0; p->nAlloc = 0;
  return a;
}

void tsRdInit(TsRd *p, const void *a, size_t n){
  p->a = (const unsigned char*)a; p->n = n; p->i = 0; p->bErr = 0;
}

int tsRdByte(TsRd *p, unsigned char *pc){
  if( p->bErr || p->i >= p->n ){ p->bErr = 1; *pc = 0; return 1; }
  *pc = p->a[p->i++];
  return 0;
}

int tsRdBytes(TsRd *p, size_t n, const unsigned char **pa){
  if( p->bErr || n > p->n - p->i ){ p->bErr = 1; *pa = 0; return 1; }
  *pa = p->a + p->i;
  p->i += n;
  return 0;
}

int tsRdU32le(TsRd *p, uint32_t *pv){
  const unsigned char *a;
  *pv = 0;
  if( tsRdBytes(p, 4, &a) ) return 1;
  *pv = (uint32_t)a[0] | ((uint32_t)a[1]<<8) | ((uint32_t)a[2]<<16) | ((uint32_t)a[3]<<24);
  return 0;
}

int tsRdU64le(TsRd *p, uint64_t *pv){
  const unsigned char *a;
  int i;
  *pv = 0;
  if( tsRdBytes(p, 8, &a) ) return 1;
  for(i=7; i>=0; i--) *pv = (*pv<<8) | a[i];
  return 0;
}

int tsRdVarint(TsRd *p, uint64_t *pv){
  uint64_t v = 0;
  int s;
  *pv = 0;
  for(s=0; s<70; s+=7){
    unsigned char c;
    if( tsRdByte(p, &c) ) return 1;
    if( s==63 && (c & 0x7e) ){ p->bErr = 1; return 1; }  /* > 64 bits */
    v |= (uint64_t)(c & 0x7f) << s;
    if( (c & 0x80)==0 ){ *pv = v; return 0; }
  }
  p->bErr = 1;
  return 1;
}

int tsRdZigzag(TsRd *p, int64_t *pv){
  uint64_t u;
  int rc = tsRdVarint(p, &u);
  *pv = tsZigzagDec(u);
  return rc;
}
