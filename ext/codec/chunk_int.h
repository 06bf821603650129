/*
** chunk_int.h: internals shared by the chunk codec's two files: chunk.c
** (the format: header, column directory, text dictionaries, encoder and
** reader) and chunk_seq.c (the ISEQ integer-sequence and DOUBLE codecs).
** The byte layout is taught in chunk.c's header comment.  Not used outside
** the codec; the API is chunk.h.
*/
#ifndef CHUNK_INT_H
#define CHUNK_INT_H
#include "chunk.h"
#include <stdint.h>
#include <string.h>

#define TS_BLOCK       256   /* values per block (measured: docs/internals/chunk-format.md) */
#define TS_MAX_SCALE   15    /* largest decimal exponent tried for doubles */

#define ISEQ_CONST 0
#define ISEQ_FOR   1
#define ISEQ_DELTA 2
#define ISEQ_DOD   3
#define ISEQ_RLE   4
#define ISEQ_ARITH 5
#define ISEQ_GCD   6

#define DBL_RAW    0
#define DBL_XOR    1
#define DBL_SCALED 2
#define DBL_BITS   3


static inline uint64_t dblBits(double r){ uint64_t u; memcpy(&u, &r, 8); return u; }
static inline double bitsDbl(uint64_t u){ double r; memcpy(&r, &u, 8); return r; }

/* Little-endian 64-bit load from 8 readable bytes. */
static inline uint64_t ld64le(const unsigned char *a){
  uint64_t v;
  memcpy(&v, a, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__==__ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

static inline int varintLen(uint64_t v){
  /* ceil(bits/7), at least 1: no loop (hot in the encoder's estimates) */
  return (64 - __builtin_clzll(v|1) + 6)/7;
}

/* Width in bits of the largest value (0 for 0). */
static inline int bitWidth(uint64_t v){ return 64 - __builtin_clzll(v|1) - (v==0); }   /* no branch */

/*************************************************************************
** Bit writer / reader (LSB first).
*/
typedef struct BitW BitW;
struct BitW {
  TsBuf *p;          /* destination; not owned */
  uint64_t acc;      /* pending bits, the low nAcc of them valid */
  int nAcc;          /* 0..63 */
};

static inline void bwInit(BitW *w, TsBuf *p){ w->p = p; w->acc = 0; w->nAcc = 0; }

/* Append the low nb bits of v (0 <= nb <= 64). */
static inline __attribute__((always_inline)) void bwPut(BitW *w, uint64_t v, int nb){
  int nNew;
  if( nb==0 ) return;
  if( nb<64 ) v &= ((uint64_t)1<<nb) - 1;
  w->acc |= v << w->nAcc;
  nNew = w->nAcc + nb;
  if( nNew>=64 ){
    int nSpill = nNew - 64;
    TsBuf *p = w->p;
    if( p->nAlloc - p->n >= 8 ){
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__==__ORDER_BIG_ENDIAN__
      uint64_t le = __builtin_bswap64(w->acc);
#else
      uint64_t le = w->acc;
#endif
      memcpy(p->a + p->n, &le, 8);
      p->n += 8;
    }else{
      tsBufAppendU64le(p, w->acc);
    }
    w->acc = nSpill ? v >> (nb - nSpill) : 0;
    w->nAcc = nSpill;
  }else{
    w->nAcc = nNew;
  }
}

/* Write the pending bits, padded with zeros to a byte boundary. */
static inline void bwFlush(BitW *w){
  while( w->nAcc>0 ){
    tsBufAppendByte(w->p, (unsigned char)w->acc);
    w->acc >>= 8;
    w->nAcc -= 8;
  }
  w->acc = 0;
  w->nAcc = 0;
}

typedef struct BitR BitR;
struct BitR {
  const unsigned char *a;   /* bytes; not owned */
  size_t nByte;
  uint64_t iBit;            /* next bit to read */
  uint64_t nBit;            /* nByte*8 */
  int bErr;                 /* sticky: read past the end */
};

static inline void brInit(BitR *r, const unsigned char *a, size_t n){
  r->a = a; r->nByte = n; r->iBit = 0; r->nBit = (uint64_t)n*8; r->bErr = 0;
}

/* Read nb bits (0..64); 0 and bErr set when fewer remain. */
static inline uint64_t brGet(BitR *r, int nb){
  size_t iByte;
  int sh;
  uint64_t v;
  if( nb==0 ) return 0;
  if( r->bErr || r->nBit - r->iBit < (uint64_t)nb ){ r->bErr = 1; return 0; }
  iByte = (size_t)(r->iBit>>3);
  sh = (int)(r->iBit & 7);
  if( iByte + 8 <= r->nByte ){
    v = ld64le(r->a + iByte) >> sh;
    if( sh + nb > 64 ) v |= (uint64_t)r->a[iByte+8] << (64 - sh);
  }else{
    /* Near the end: assemble the remaining bytes one at a time. */
    int k;
    v = 0;
    for(k=0; k<9 && iByte+k<r->nByte; k++){
      uint64_t b = r->a[iByte+k];
      int s = k*8 - sh;
      if( s<0 ) v |= b >> (-s);
      else if( s<64 ) v |= b << s;
    }
  }
  r->iBit += (uint64_t)nb;
  if( nb<64 ) v &= ((uint64_t)1<<nb) - 1;
  return v;
}

/* The next 64 bits without consuming them; bits past the end read as 0. */
static inline uint64_t brPeek(const BitR *r){
  size_t iByte = (size_t)(r->iBit>>3);
  int sh = (int)(r->iBit & 7), k;
  uint64_t v = 0;
  if( iByte + 9 <= r->nByte ){
    v = ld64le(r->a + iByte) >> sh;
    if( sh ) v |= (uint64_t)r->a[iByte+8] << (64 - sh);
    return v;
  }
  for(k=0; k<9 && iByte+k<r->nByte; k++){
    uint64_t b = r->a[iByte+k];
    int s = k*8 - sh;
    if( s<0 ) v |= b >> (-s);
    else if( s<64 ) v |= b << s;
  }
  return v;
}

/* ISEQ (chunk.c header, "ISEQ"): encode n integers into p; 0 or
** TS_CHUNK_NOMEM.  Decode n integers from pRd; 0 or TS_CHUNK_CORRUPT. */
int tsChunkIseqEncode(TsBuf *p, const int64_t *a, int n);
int tsChunkIseqDecode(TsRd *pRd, int64_t *a, int n);
/* The first nNeed (1..n) of the n values only (a[nNeed..n) may be written):
** the reader may be left inside the sequence, so the caller cannot check
** that the payload ends there (the blob's CRC covers it). */
int tsChunkIseqDecodePrefix(TsRd *pRd, int64_t *a, int n, int nNeed);
/* DOUBLE columns (chunk.c header, "DOUBLE"): the same contract. */
int tsChunkDoubleEncode(TsBuf *p, const double *a, int n);
int tsChunkDoubleDecode(TsRd *pRd, double *a, int n);
int tsChunkDoubleDecodePrefix(TsRd *pRd, double *a, int n, int nNeed);

#endif
