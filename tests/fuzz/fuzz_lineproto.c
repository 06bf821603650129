/* libFuzzer target: the line protocol parser (ext/codec/lineproto.c).
** The first byte picks the precision; the rest is split at '\n' and each line
** parsed.  Arbitrary bytes must never crash it or read out of bounds, and a
** line that parses must round-trip: written back with every special byte
** escaped, it parses to the same measurement, tags, fields and time. */
#include "lineproto.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stddef.h>

/* Append z[0..n) escaping the bytes of zSpecial (and backslash). */
static void esc(TsBuf *b, const char *z, size_t n, const char *zSpecial){
  size_t i;
  for(i=0; i<n; i++){
    if( z[i]=='\\' || strchr(zSpecial, z[i]) ) tsBufAppendByte(b, '\\');
    tsBufAppendByte(b, (unsigned char)z[i]);
  }
}

static void serialize(const TsLpLine *l, TsBuf *b){
  int i;
  esc(b, l->zMeas, l->nMeas, ", =");
  for(i=0; i<l->nTag; i++){
    tsBufAppendByte(b, ',');
    esc(b, l->aTag[i].zKey, l->aTag[i].nKey, ", =");
    tsBufAppendByte(b, '=');
    esc(b, l->aTag[i].zVal, l->aTag[i].nVal, ", =");
  }
  for(i=0; i<l->nField; i++){
    const TsLpField *f = &l->aField[i];
    tsBufAppendByte(b, i ? ',' : ' ');
    esc(b, f->zKey, f->nKey, ", =");
    tsBufAppendByte(b, '=');
    switch( f->eType ){
      case TS_LP_FLOAT: tsBufPrintf(b, "%.17g", f->rVal); break;
      case TS_LP_INT:   tsBufPrintf(b, "%lldi", (long long)f->iVal); break;
      case TS_LP_UINT:  tsBufPrintf(b, "%lluu", (unsigned long long)f->uVal); break;
      case TS_LP_BOOL:  tsBufPrintf(b, "%s", f->iVal ? "true" : "false"); break;
      case TS_LP_STRING:
        tsBufAppendByte(b, '"');
        { size_t k; for(k=0; k<f->nStr; k++){
            if( f->zStr[k]=='"' || f->zStr[k]=='\\' ) tsBufAppendByte(b, '\\');
            tsBufAppendByte(b, (unsigned char)f->zStr[k]);
        } }
        tsBufAppendByte(b, '"');
        break;
      default: abort();
    }
  }
  if( l->bTime ) tsBufPrintf(b, " %lld", (long long)l->iTime);
}

static void check(const char *z, size_t n, int ePrec){
  TsLpParser p, q;
  TsLpLine l, m;
  TsBuf a, b;
  int rc;
  tsLpInit(&p); tsLpInit(&q);
  tsBufInit(&a); tsBufInit(&b);
  rc = tsLpParse(&p, z, n, ePrec, &l);
  if( rc==TS_LP_ERROR && p.zErr[0]==0 ) abort();
  if( rc==TS_LP_OK ){
    if( l.nField<1 || l.nMeas<1 || strlen(l.zMeas)!=l.nMeas ) abort();
    serialize(&l, &a);
    /* The re-serialized line carries ns times. */
    if( tsLpParse(&q, (const char*)a.a, a.n, TS_LP_NS, &m)!=TS_LP_OK ) abort();
    serialize(&m, &b);
    if( a.bErr || b.bErr || a.n!=b.n || memcmp(a.a, b.a, a.n)!=0 ) abort();
  }
  tsBufFree(&a); tsBufFree(&b);
  tsLpFree(&p); tsLpFree(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *a, size_t n){
  const char *z = (const char*)a;
  size_t i = 1, j;
  if( n<1 || n>65536 ) return 0;
  while( i<=n ){
    j = i;
    while( j<n && z[j]!='\n' ) j++;
    if( j>i || j<n ){
      /* Parse from an exact-size copy so that an over-read is caught. */
      char *zLine = malloc(j-i ? j-i : 1);
      if( zLine==0 ) return 0;
      memcpy(zLine, z+i, j-i);
      check(zLine, j-i, a[0] & 3);
      free(zLine);
    }
    i = j+1;
  }
  return 0;
}
