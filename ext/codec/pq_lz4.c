/*
** pq_lz4.c: an LZ4 block decompressor for Parquet's LZ4_RAW codec (7), the
** codec DuckDB writes for COMPRESSION lz4 / lz4_raw.  Reader only.
**
** Block format (lz4/lz4 doc/lz4_Block_format.md), a series of sequences:
**   token      one byte: high nibble = literal length, low nibble = match
**              length - 4; a nibble of 15 continues with bytes added until
**              one is below 255
**   literals   literal-length bytes copied to the output
**   offset     u16 little-endian, 1..bytes produced (absent in the last
**              sequence, which ends after its literals)
**   match      match-length bytes copied from output[-offset], possibly
**              overlapping the bytes being written
** Every length is checked against both input and output; the output must be
** filled exactly.
*/
#include "pq_int.h"
#include <string.h>

/* Read an LZ4 length continuation; returns 0 ok, 1 on truncation/overflow. */
static int lz4Len(const unsigned char *a, size_t n, size_t *pi, size_t *pLen){
  unsigned char c;
  do{
    if( *pi>=n ) return 1;
    c = a[(*pi)++];
    if( *pLen > ((size_t)1<<40) ) return 1;
    *pLen += c;
  }while( c==255 );
  return 0;
}

int tsPqLz4Decompress(const void *aIn, size_t n, void *aOut, size_t nOut){
  const unsigned char *a = (const unsigned char*)aIn;
  unsigned char *o = (unsigned char*)aOut;
  size_t i = 0, iOut = 0;
  if( n==0 ) return nOut==0 ? 0 : 1;
  while( i<n ){
    unsigned char tok = a[i++];
    size_t nLit = tok>>4, nMatch = tok & 15, off;
    if( nLit==15 && lz4Len(a, n, &i, &nLit) ) return 1;
    if( nLit > n-i || nLit > nOut-iOut ) return 1;
    memcpy(o+iOut, a+i, nLit);
    i += nLit; iOut += nLit;
    if( i==n ) break;                      /* last sequence: literals only */
    if( 2 > n-i ) return 1;
    off = (size_t)a[i] | ((size_t)a[i+1]<<8);
    i += 2;
    if( nMatch==15 && lz4Len(a, n, &i, &nMatch) ) return 1;
    nMatch += 4;
    if( off==0 || off>iOut || nMatch > nOut-iOut ) return 1;
    if( off>=nMatch ){
      memcpy(o+iOut, o+iOut-off, nMatch);
    }else{
      size_t k;
      for(k=0; k<nMatch; k++) o[iOut+k] = o[iOut-off+k];
    }
    iOut += nMatch;
  }
  return iOut==nOut ? 0 : 1;
}
