/*
** snappy.c: a Snappy block-format decompressor (the "raw" format Parquet's
** SNAPPY codec uses; no framing).  Reader only: tslite never writes snappy.
**
** Format (google/snappy format_description.txt):
**   preamble  uncompressed length as ULEB128 (at most 32 bits)
**   elements  tag byte, low 2 bits = kind:
**     00 literal: len-1 in the upper 6 bits (0..59), or 60..63 meaning
**        1..4 following little-endian bytes hold len-1; then len bytes
**     01 copy, 1-byte offset: len = 4 + ((tag>>2)&7),
**        offset = ((tag>>5)<<8) | next byte
**     10 copy, 2-byte offset: len = 1 + (tag>>2), offset u16 LE
**     11 copy, 4-byte offset: len = 1 + (tag>>2), offset u32 LE
**   A copy reads from the already produced output; the offset must be
**   1..bytes produced, and may overlap the destination (run-length style).
** Every length is checked against both the input and the output buffer.
*/
#include "pq_int.h"
#include <string.h>

int tsSnappyLength(const void *a, size_t n, size_t *pnOut){
  const unsigned char *p = (const unsigned char*)a;
  uint64_t v = 0;
  size_t i;
  for(i=0; i<n && i<5; i++){
    v |= (uint64_t)(p[i] & 0x7f) << (7*i);
    if( !(p[i] & 0x80) ){
      if( v>0xffffffffu ) return 1;
      *pnOut = (size_t)v;
      return 0;
    }
  }
  return 1;
}

int tsSnappyDecompress(const void *a, size_t n, void *aOut, size_t nOut){
  const unsigned char *p = (const unsigned char*)a;
  unsigned char *o = (unsigned char*)aOut;
  size_t i = 0, iOut = 0, nLen;
  if( tsSnappyLength(a, n, &nLen) || nLen!=nOut ) return 1;
  while( i<n && (p[i] & 0x80) ) i++;
  i++;
  while( i<n ){
    unsigned char tag = p[i++];
    size_t len, off;
    switch( tag & 3 ){
      case 0: {
        len = tag>>2;
        if( len>=60 ){
          size_t nb = len-59, k;
          if( nb > n-i ) return 1;
          len = 0;
          for(k=0; k<nb; k++) len |= (size_t)p[i+k] << (8*k);
          i += nb;
        }
        len += 1;
        if( len > n-i || len > nOut-iOut ) return 1;
        memcpy(o+iOut, p+i, len);
        i += len; iOut += len;
        continue;
      }
      case 1:
        if( i>=n ) return 1;
        len = 4 + ((tag>>2) & 7);
        off = ((size_t)(tag>>5) << 8) | p[i++];
        break;
      case 2:
        if( 2 > n-i ) return 1;
        len = 1 + (tag>>2);
        off = (size_t)p[i] | ((size_t)p[i+1]<<8);
        i += 2;
        break;
      default:
        if( 4 > n-i ) return 1;
        len = 1 + (tag>>2);
        off = (size_t)p[i] | ((size_t)p[i+1]<<8) | ((size_t)p[i+2]<<16) | ((size_t)p[i+3]<<24);
        i += 4;
        break;
    }
    if( off==0 || off>iOut || len > nOut-iOut ) return 1;
    if( off>=len ){
      memcpy(o+iOut, o+iOut-off, len);
    }else{
      size_t k;
      for(k=0; k<len; k++) o[iOut+k] = o[iOut-off+k];
    }
    iOut += len;
  }
  return iOut==nOut ? 0 : 1;
}
