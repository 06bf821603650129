/*
** chunk_seq.c: the integer-sequence (ISEQ) and DOUBLE codecs of the chunk
** format: block plans (bit-packing or Rice codes per block of TS_BLOCK
** values), the ISEQ modes (constant, frame of reference, delta,
** delta-of-delta, RLE, arithmetic, GCD) chosen by estimated size, and
** doubles as scaled decimals, Gorilla XOR or raw bits.  Their byte layout
** is taught in chunk.c's header comment; chunk.c calls them through
** chunk_int.h.  Decoding treats input as hostile: every count, width and
** mode is checked (TS_CHUNK_CORRUPT).
*/
#include "chunk_int.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Powers of ten exactly representable as doubles (10^0..10^22). */
static const double aPow10[] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* Unpack nb fields of w bits (1..64) from aBits[0..nBytes), which the
** caller has checked holds ceil(nb*w/8) bytes, adding base. */
static void unpack(const unsigned char *aBits, size_t nBytes, int w,
                   uint64_t base, uint64_t *a, int nb){
  int j = 0;
  if( w<=56 ){
    /* Fast path: one unaligned 64-bit load per value while 8 bytes remain. */
    uint64_t mask = ((uint64_t)1<<w) - 1;
    uint64_t iBit = 0;
    for(; j<nb; j++, iBit+=(uint64_t)w){
      size_t iByte = (size_t)(iBit>>3);
      if( iByte + 8 > nBytes ) break;
      a[j] = base + ((ld64le(aBits + iByte) >> (iBit & 7)) & mask);
    }
  }
  if( j<nb ){
    BitR br;
    brInit(&br, aBits, nBytes);
    br.iBit = (uint64_t)j * (uint64_t)w;
    for(; j<nb; j++) a[j] = base + brGet(&br, w);
  }
}

/*************************************************************************
** ISEQ: integer sequences.
*/

/* How one block of BLOCKS is coded: code 0..64 = bit-packed (value - base)
** in that many bits, base = the block's minimum; code RICE_CODE+k = Rice
** code with parameter k of zigzag(value - base), base = the block's median. */
#define RICE_CODE  65
#define RICE_ESC   24    /* this many 0 bits: escape, 64 raw bits follow */

typedef struct BlockPlan BlockPlan;
struct BlockPlan {
  int64_t base;        /* subtracted from every value */
  int code;            /* 0..64 width, or RICE_CODE+k */
  uint64_t nBit;       /* payload bits */
};

/* Bits the Rice code needs for z[0..n) with parameters k, k+1 and k+2. */
static void riceBits3(const uint64_t *z, int n, int k, uint64_t *aBit){
  uint64_t n0 = 0, n1 = 0, n2 = 0;
  int j;
  for(j=0; j<n; j++){
    uint64_t q0 = z[j] >> k, q1 = q0 >> 1, q2 = q0 >> 2;
    n0 += q0<RICE_ESC ? q0 : RICE_ESC + 63 - (uint64_t)k;
    n1 += q1<RICE_ESC ? q1 : RICE_ESC + 62 - (uint64_t)k;
    n2 += q2<RICE_ESC ? q2 : RICE_ESC + 61 - (uint64_t)k;
  }
  /* Each value also has its stop bit and k (k+1, k+2) low bits. */
  aBit[0] = n0 + (uint64_t)n*(uint64_t)(1 + k);
  aBit[1] = n1 + (uint64_t)n*(uint64_t)(2 + k);
  aBit[2] = n2 + (uint64_t)n*(uint64_t)(3 + k);
}

/* The k-th smallest (0-based) of a[0..n) taken as int64 (Hoare's
** quickselect); reorders a[]. */
static uint64_t selectKth(uint64_t *a, int n, int k){
  const uint64_t flip = (uint64_t)1<<63;   /* signed order via unsigned compares */
  int lo = 0, hi = n - 1;
  while( lo<hi ){
    uint64_t x = a[lo + (hi-lo)/2] ^ flip;
    int i = lo, j = hi;
    while( i<=j ){
      while( (a[i]^flip) < x ) i++;
      while( (a[j]^flip) > x ) j--;
      if( i<=j ){ uint64_t t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
    }
    if( k<=j ) hi = j;
    else if( k>=i ) lo = i;
    else break;
  }
  return a[k];
}

/* The Rice parameters tried for a block whose z values have the width
** histogram aHist (n values): k0..k0+2 around log2(median z). */
static int riceK0(const int *aHist, int n){
  int k0, nCum;
  for(k0=0, nCum=0; nCum + aHist[k0] <= n/2; k0++) nCum += aHist[k0];
  k0 = k0>1 ? k0 - 2 : 0;
  return k0>61 ? 61 : k0;
}

/* Rice code sizes (riceBits3) of a block of a narrow range, from its value
** counts: value mn+v occurs aCnt[v] times, v in 0..nV-1, and med is the
** base.  The same sums as over the values, one term per distinct value. */
static void riceBitsCounts(const int *aCnt, int nV, int64_t mn, int64_t med, int n,
                           uint64_t *aBit, int *pk0){
  int aHist[65], v, k0;
  uint64_t n0 = 0, n1 = 0, n2 = 0;
  memset(aHist, 0, sizeof(aHist));
  for(v=0; v<nV; v++){
    uint64_t z = tsZigzagEnc((int64_t)((uint64_t)mn + (uint64_t)v - (uint64_t)med));
    aHist[bitWidth(z)] += aCnt[v];
  }
  k0 = riceK0(aHist, n);
  for(v=0; v<nV; v++){
    uint64_t z, q0, q1, q2, c = (uint64_t)aCnt[v];
    if( c==0 ) continue;
    z = tsZigzagEnc((int64_t)((uint64_t)mn + (uint64_t)v - (uint64_t)med));
    q0 = z >> k0; q1 = q0 >> 1; q2 = q0 >> 2;
    n0 += c*(q0<RICE_ESC ? q0 : RICE_ESC + 63 - (uint64_t)k0);
    n1 += c*(q1<RICE_ESC ? q1 : RICE_ESC + 62 - (uint64_t)k0);
    n2 += c*(q2<RICE_ESC ? q2 : RICE_ESC + 61 - (uint64_t)k0);
  }
  aBit[0] = n0 + (uint64_t)n*(uint64_t)(1 + k0);
  aBit[1] = n1 + (uint64_t)n*(uint64_t)(2 + k0);
  aBit[2] = n2 + (uint64_t)n*(uint64_t)(3 + k0);
  *pk0 = k0;
}

/* Choose the smaller coding of one block a[0..n) (1 <= n <= TS_BLOCK). */
static void blockPlan(const uint64_t *a, int n, BlockPlan *pPlan){
  int64_t mn = (int64_t)a[0], mxs = (int64_t)a[0], med;
  uint64_t z[TS_BLOCK], t[TS_BLOCK], aBit[3];
  int j, w, k, k0;
  for(j=1; j<n; j++){
    int64_t v = (int64_t)a[j];
    mn = v<mn ? v : mn;
    mxs = v>mxs ? v : mxs;
  }
  /* the largest value - base is (max - min) as an unsigned difference */
  w = bitWidth((uint64_t)mxs - (uint64_t)mn);
  pPlan->base = mn;
  pPlan->code = w;
  pPlan->nBit = (uint64_t)n * (uint64_t)w;
  if( w<=1 ) return;   /* Rice cannot beat 0 or 1 bit per value */

  /* Rice around the median, trying parameters near log2(median z): both
  ** medians, unlike means, ignore rare outliers, which escape. */
  if( w<=8 ){
    /* Small range: the median, the widths and the Rice sizes from the
    ** count of each value (at most 256 of them, usually a handful).  Four
    ** interleaved count tables, so runs of one value (common in this data)
    ** do not chain every increment on the previous one. */
    int aCnt[4][256], nV = (int)((uint64_t)mxs - (uint64_t)mn) + 1, nCum = 0;
    for(k=0; k<4; k++) memset(aCnt[k], 0, sizeof(int)*(size_t)nV);
    for(j=0; j+4<=n; j+=4){
      aCnt[0][a[j] - (uint64_t)mn]++;
      aCnt[1][a[j+1] - (uint64_t)mn]++;
      aCnt[2][a[j+2] - (uint64_t)mn]++;
      aCnt[3][a[j+3] - (uint64_t)mn]++;
    }
    for(; j<n; j++) aCnt[0][a[j] - (uint64_t)mn]++;
    for(j=0; j<nV; j++) aCnt[0][j] += aCnt[1][j] + aCnt[2][j] + aCnt[3][j];
    for(j=0; nCum + aCnt[0][j] <= n/2; j++) nCum += aCnt[0][j];
    med = (int64_t)((uint64_t)mn + (uint64_t)j);
    riceBitsCounts(aCnt[0], nV, mn, med, n, aBit, &k0);
  }else{
    /* Wide range: narrow to the values whose top 8 bits (of value -
    ** minimum) are the median's, by counting, then select among those
    ** few (branch-free counting instead of a quickselect over the whole
    ** block, whose compares mispredict on noisy data). */
    int aCnt[256], aHist[65], sh = w - 8, kk = n/2, b, m = 0, nCum = 0;
    memset(aCnt, 0, sizeof(aCnt));
    for(j=0; j<n; j++) aCnt[(a[j] - (uint64_t)mn) >> sh]++;
    for(b=0; nCum + aCnt[b] <= kk; b++) nCum += aCnt[b];
    t[0] = a[0];   /* (the loop below writes it; -O1 cannot tell) */
    for(j=0; j<n; j++){
      t[m] = a[j];
      m += (int)(((a[j] - (uint64_t)mn) >> sh)==(uint64_t)b);
    }
    med = (int64_t)selectKth(t, m, kk - nCum);
    /* bitWidth(median z) from a histogram of widths (bitWidth is monotone). */
    memset(aHist, 0, sizeof(aHist));
    for(j=0; j<n; j++){
      z[j] = tsZigzagEnc((int64_t)(a[j] - (uint64_t)med));
      aHist[bitWidth(z[j])]++;
    }
    k0 = riceK0(aHist, n);
    riceBits3(z, n, k0, aBit);
  }
  for(k=0; k<3; k++){
    if( aBit[k]<pPlan->nBit ){
      pPlan->base = med;
      pPlan->code = RICE_CODE + k0 + k;
      pPlan->nBit = aBit[k];
    }
  }
}

/* Two estimates of the bytes of BLOCKS over a[0..n), used only to rank
** FOR, DELTA and DOD.  *pnPacked: bit packing (the largest width in each
** block, for every value).  *pnRobust: per value, the bit width of its
** zigzag deviation from a reference (the median of its block's first three
** values) plus one bit; unlike the largest width it is not thrown off by a
** rare outlier, which a Rice block escapes cheaply.  3 bytes per block. */
static void seqEstimate(const uint64_t *a, int n, size_t *pnRobust, size_t *pnPacked){
  uint64_t nBit = 0, nPack = 0;
  int i, j;
  for(i=0; i<n; i+=TS_BLOCK){
    int nb = n - i < TS_BLOCK ? n - i : TS_BLOCK;
    const uint64_t *x = a + i;
    uint64_t r = x[0], s0 = 0, s1 = 0;
    int64_t mn0 = (int64_t)x[0], mx0 = mn0, mn1 = mn0, mx1 = mn0;
    if( nb>=3 ){
      int64_t p = (int64_t)x[0], q = (int64_t)x[1], z = (int64_t)x[2];
      r = (uint64_t)(p<q ? (q<z ? q : (p<z ? z : p)) : (p<z ? p : (q<z ? z : q)));
    }
    /* two values per step in independent chains (branch-free widths) */
    for(j=0; j+2<=nb; j+=2){
      int64_t v0 = (int64_t)x[j], v1 = (int64_t)x[j+1];
      mn0 = v0<mn0 ? v0 : mn0;
      mx0 = v0>mx0 ? v0 : mx0;
      mn1 = v1<mn1 ? v1 : mn1;
      mx1 = v1>mx1 ? v1 : mx1;
      s0 += (uint64_t)bitWidth(tsZigzagEnc((int64_t)(x[j] - r)));
      s1 += (uint64_t)bitWidth(tsZigzagEnc((int64_t)(x[j+1] - r)));
    }
    if( j<nb ){
      int64_t v0 = (int64_t)x[j];
      mn0 = v0<mn0 ? v0 : mn0;
      mx0 = v0>mx0 ? v0 : mx0;
      s0 += (uint64_t)bitWidth(tsZigzagEnc((int64_t)(x[j] - r)));
    }
    if( mn1<mn0 ) mn0 = mn1;
    if( mx1>mx0 ) mx0 = mx1;
    /* each value also costs its one bit */
    nBit += 24 + (uint64_t)nb + s0 + s1;
    nPack += 24 + (uint64_t)nb*(uint64_t)bitWidth((uint64_t)mx0 - (uint64_t)mn0);
  }
  *pnRobust = (size_t)(nBit/8);
  *pnPacked = (size_t)(nPack/8);
}

/* Plan every block of BLOCKS over a[0..n) into aPlan[] (one per block)
** and return the exact bytes blocksEmit will write with those plans. */
static size_t blocksPlan(const uint64_t *a, int n, BlockPlan *aPlan){
  uint64_t prevBase = 0;
  size_t nByte = 0;
  int i, iBlk;
  for(i=0, iBlk=0; i<n; i+=TS_BLOCK, iBlk++){
    int nb = n - i < TS_BLOCK ? n - i : TS_BLOCK;
    BlockPlan *pPlan = &aPlan[iBlk];
    blockPlan(a + i, nb, pPlan);
    nByte += (size_t)varintLen(tsZigzagEnc((int64_t)((uint64_t)pPlan->base - prevBase))) + 1;
    if( pPlan->code>=RICE_CODE ){
      uint64_t nB = (pPlan->nBit + 7)/8;
      nByte += (size_t)varintLen(nB) + (size_t)nB;
    }else{
      nByte += (size_t)(((uint64_t)nb*(uint64_t)pPlan->code + 7)/8);
    }
    prevBase = (uint64_t)pPlan->base;
  }
  return nByte;
}

/* Write BLOCKS over a[0..n) with the plans blocksPlan chose. */
static void blocksEmit(TsBuf *p, const uint64_t *a, int n, const BlockPlan *aPlan){
  uint64_t prevBase = 0;
  int i, j, iBlk;
  for(i=0, iBlk=0; i<n; i+=TS_BLOCK, iBlk++){
    int nb = n - i < TS_BLOCK ? n - i : TS_BLOCK;
    const BlockPlan *pPlan = &aPlan[iBlk];
    BitW bw;
    tsBufAppendZigzag(p, (int64_t)((uint64_t)pPlan->base - prevBase));
    tsBufAppendByte(p, (unsigned char)pPlan->code);
    prevBase = (uint64_t)pPlan->base;
    if( pPlan->code>=RICE_CODE ){
      int k = pPlan->code - RICE_CODE;
      tsBufAppendVarint(p, (pPlan->nBit + 7)/8);
      bwInit(&bw, p);
      for(j=0; j<nb; j++){
        uint64_t z = tsZigzagEnc((int64_t)(a[i+j] - (uint64_t)pPlan->base));
        uint64_t q = z >> k;
        if( q<RICE_ESC && (int)q + 1 + k<=64 ){
          /* the stop bit after q zeros, then the low k bits of z, in one put */
          uint64_t lo = k ? (z & (((uint64_t)1 << k) - 1)) << (q + 1) : 0;
          bwPut(&bw, ((uint64_t)1 << q) | lo, (int)q + 1 + k);
        }else if( q<RICE_ESC ){
          bwPut(&bw, (uint64_t)1 << q, (int)q + 1);
          bwPut(&bw, z, k);
        }else{
          bwPut(&bw, 0, RICE_ESC);
          bwPut(&bw, z, 64);
        }
      }
      bwFlush(&bw);
    }else if( pPlan->code>0 ){
      bwInit(&bw, p);
      for(j=0; j<nb; j++) bwPut(&bw, a[i+j] - (uint64_t)pPlan->base, pPlan->code);
      bwFlush(&bw);
    }
  }
}

/* Decode Rice-coded values j..nb-1 (parameter k), the first of them at bit
** iBit of aBits[0..nBytes), into a[], adding base.  Every bit must be used
** except the last byte's padding. */
static int riceReadFrom(const unsigned char *aBits, size_t nBytes, int k,
                        uint64_t base, uint64_t *a, int nb, int j, uint64_t iBit){
  BitR br;
  uint64_t maskK = k ? (((uint64_t)1<<k) - 1) : 0;
  /* Fast path: while 8 bytes remain, one load (at least 57 bits) decodes
  ** every code that fits whole in it, shifting the word as it goes: the
  ** chain from one code to the next is a count of trailing zeros and a
  ** shift, not a load.  An escape or a code longer than what is left of
  ** the word reloads; one that does not fit a fresh word ends the fast
  ** path (the loop below decodes the rest). */
  while( j<nb ){
    size_t iByte = (size_t)(iBit>>3);
    int sh = (int)(iBit & 7), nAvail, j0 = j;
    uint64_t w;
    if( iByte + 8 > nBytes ) break;
    w = ld64le(aBits + iByte) >> sh;
    nAvail = 64 - sh;
    while( j<nb && w ){
      int q = __builtin_ctzll(w), nLen = q + 1 + k;
      if( q>=RICE_ESC || nLen>=nAvail ) break;
      a[j++] = base + (uint64_t)tsZigzagDec(((uint64_t)q << k) | ((w >> (q + 1)) & maskK));
      w >>= nLen;
      nAvail -= nLen;
      iBit += (uint64_t)nLen;
    }
    if( j==j0 ) break;
  }
  brInit(&br, aBits, nBytes);
  br.iBit = iBit;
  for(; j<nb; j++){
    uint64_t w = brPeek(&br), z;
    uint64_t nLeft = br.nBit - br.iBit;
    int q = w ? __builtin_ctzll(w) : 64;
    if( q<RICE_ESC ){
      if( (uint64_t)q >= nLeft ) return TS_CHUNK_CORRUPT;
      br.iBit += (uint64_t)q + 1;
      z = ((uint64_t)q << k) | brGet(&br, k);
    }else{
      if( nLeft<RICE_ESC ) return TS_CHUNK_CORRUPT;
      br.iBit += RICE_ESC;
      z = brGet(&br, 64);
    }
    if( br.bErr ) return TS_CHUNK_CORRUPT;
    a[j] = base + (uint64_t)tsZigzagDec(z);
  }
  if( (br.iBit + 7)/8 != nBytes ) return TS_CHUNK_CORRUPT;
  return TS_CHUNK_OK;
}

/* One Rice-coded block: nb values from aBits[0..nBytes). */
static int riceRead(const unsigned char *aBits, size_t nBytes, int k,
                    uint64_t base, uint64_t *a, int nb){
  return riceReadFrom(aBits, nBytes, k, base, a, nb, 0, 0);
}

/* Two Rice-coded blocks at once (X and Y: their own bytes, parameter and
** base).  Codes of k >= RICE_PAIR_K bits fit once or twice in a 64-bit
** load, so a block alone is one chain of load, count and shift per value;
** two independent chains interleaved keep the core busy (about twice the
** values per cycle on full-precision doubles).  Each block then finishes
** alone, with the same checks as riceRead. */
#define RICE_PAIR_K 16
static int ricePair(const unsigned char *aX, size_t nX, int kX, uint64_t bX, uint64_t *x, int nbX,
                    const unsigned char *aY, size_t nY, int kY, uint64_t bY, uint64_t *y, int nbY){
  uint64_t iX = 0, iY = 0;
  uint64_t mX = ((uint64_t)1<<kX) - 1, mY = ((uint64_t)1<<kY) - 1;
  int jX = 0, jY = 0, rc;
  while( jX<nbX && jY<nbY ){
    size_t oX = (size_t)(iX>>3), oY = (size_t)(iY>>3);
    int sX = (int)(iX & 7), sY = (int)(iY & 7), qX, qY;
    uint64_t wX, wY;
    if( oX + 8 > nX || oY + 8 > nY ) break;
    wX = ld64le(aX + oX) >> sX;
    wY = ld64le(aY + oY) >> sY;
    if( wX==0 || wY==0 ) break;
    qX = __builtin_ctzll(wX);
    qY = __builtin_ctzll(wY);
    if( qX>=RICE_ESC || qX + 1 + kX > 64 - sX || qY>=RICE_ESC || qY + 1 + kY > 64 - sY ) break;
    x[jX++] = bX + (uint64_t)tsZigzagDec(((uint64_t)qX << kX) | ((wX >> (qX + 1)) & mX));
    y[jY++] = bY + (uint64_t)tsZigzagDec(((uint64_t)qY << kY) | ((wY >> (qY + 1)) & mY));
    iX += (uint64_t)(qX + 1 + kX);
    iY += (uint64_t)(qY + 1 + kY);
  }
  rc = riceReadFrom(aX, nX, kX, bX, x, nbX, jX, iX);
  if( rc==TS_CHUNK_OK ) rc = riceReadFrom(aY, nY, kY, bY, y, nbY, jY, iY);
  return rc;
}

/* Decode the first nNeed (<= n) of the n values of BLOCKS into a[]: the
** blocks holding them; the reader is left after the last block read. */
static int blocksRead(TsRd *pRd, uint64_t *a, int n, int nNeed){
  uint64_t prevBase = 0;
  int i, j;
  for(i=0; i<n && i<nNeed; i+=TS_BLOCK){
    int nb = n - i < TS_BLOCK ? n - i : TS_BLOCK;
    int64_t base;
    unsigned char code;
    const unsigned char *aBits;
    size_t nBits;
    if( tsRdZigzag(pRd, &base) || tsRdByte(pRd, &code) ) return TS_CHUNK_CORRUPT;
    base = (int64_t)((uint64_t)base + prevBase);
    prevBase = (uint64_t)base;
    if( code>=RICE_CODE ){
      uint64_t nB;
      int rc;
      if( code>=RICE_CODE+64 || tsRdVarint(pRd, &nB) || nB>(uint64_t)nb*11 ){
        return TS_CHUNK_CORRUPT;   /* 11 bytes per value covers an escape */
      }
      if( tsRdBytes(pRd, (size_t)nB, &aBits) ) return TS_CHUNK_CORRUPT;
      if( code - RICE_CODE >= RICE_PAIR_K && i + TS_BLOCK < n && i + TS_BLOCK < nNeed ){
        /* Is the next block a long Rice code too?  Then both at once. */
        TsRd save = *pRd;
        int64_t base2;
        unsigned char code2;
        uint64_t nB2;
        const unsigned char *aBits2;
        int nb2 = n - i - TS_BLOCK < TS_BLOCK ? n - i - TS_BLOCK : TS_BLOCK;
        if( tsRdZigzag(pRd, &base2)==0 && tsRdByte(pRd, &code2)==0
         && code2>=RICE_CODE+RICE_PAIR_K && code2<RICE_CODE+64
         && tsRdVarint(pRd, &nB2)==0 && nB2<=(uint64_t)nb2*11
         && tsRdBytes(pRd, (size_t)nB2, &aBits2)==0 ){
          base2 = (int64_t)((uint64_t)base2 + prevBase);
          prevBase = (uint64_t)base2;
          rc = ricePair(aBits, (size_t)nB, code - RICE_CODE, (uint64_t)base, a + i, nb,
                        aBits2, (size_t)nB2, code2 - RICE_CODE, (uint64_t)base2, a + i + TS_BLOCK, nb2);
          if( rc ) return rc;
          i += TS_BLOCK;   /* the loop's step adds the other */
          continue;
        }
        *pRd = save;   /* not a pair: the next block is read on its own */
      }
      rc = riceRead(aBits, (size_t)nB, code - RICE_CODE, (uint64_t)base, a + i, nb);
      if( rc ) return rc;
      continue;
    }
    if( code>64 ) return TS_CHUNK_CORRUPT;
    if( code==0 ){
      for(j=0; j<nb; j++) a[i+j] = (uint64_t)base;
      continue;
    }
    nBits = ((size_t)nb*code + 7)/8;
    if( tsRdBytes(pRd, nBits, &aBits) ) return TS_CHUNK_CORRUPT;
    unpack(aBits, nBits, code, (uint64_t)base, a + i, nb);
  }
  return TS_CHUNK_OK;
}

/* The values BLOCKS codes in mode FOR, DELTA or DOD, written to aD;
** returns their count.  *pnHead: the bytes of the mode's fields between
** the mode byte and BLOCKS (v0, d0). */
static int modeValues(const int64_t *a, int n, int eMode, uint64_t *aD, size_t *pnHead){
  int i;
  switch( eMode ){
    case ISEQ_FOR:
      for(i=0; i<n; i++) aD[i] = (uint64_t)a[i];
      *pnHead = 0;
      return n;
    case ISEQ_DELTA:
      for(i=0; i<n-1; i++) aD[i] = (uint64_t)a[i+1] - (uint64_t)a[i];
      *pnHead = (size_t)varintLen(tsZigzagEnc(a[0]));
      return n-1;
    default: /* ISEQ_DOD */
      for(i=0; i<n-1; i++) aD[i] = (uint64_t)a[i+1] - (uint64_t)a[i];
      *pnHead = (size_t)varintLen(tsZigzagEnc(a[0])) + (size_t)varintLen(tsZigzagEnc((int64_t)aD[0]));
      for(i=0; i<n-2; i++) aD[i] = aD[i+1] - aD[i];
      return n-2;
  }
}

/* Write a[0..n) in mode FOR, DELTA or DOD: the mode byte, its fields, then
** BLOCKS over the nD values modeValues left in aD with their plans. */
static void iseqEmitMode(TsBuf *p, const int64_t *a, int eMode, const uint64_t *aD, int nD,
                         const BlockPlan *aPlan){
  tsBufAppendByte(p, (unsigned char)eMode);
  if( eMode!=ISEQ_FOR ) tsBufAppendZigzag(p, a[0]);
  if( eMode==ISEQ_DOD ) tsBufAppendZigzag(p, (int64_t)((uint64_t)a[1] - (uint64_t)a[0]));
  blocksEmit(p, aD, nD, aPlan);
}

/* Write a[0..n) in mode RLE. */
static void iseqWriteRle(TsBuf *p, const int64_t *a, int n){
  int i, nRun = 0;
  tsBufAppendByte(p, ISEQ_RLE);
  for(i=0; i<n; ){
    int j = i+1;
    while( j<n && a[j]==a[i] ) j++;
    nRun++;
    i = j;
  }
  tsBufAppendVarint(p, (uint64_t)nRun);
  for(i=0; i<n; ){
    int j = i+1;
    while( j<n && a[j]==a[i] ) j++;
    tsBufAppendZigzag(p, a[i]);
    tsBufAppendVarint(p, (uint64_t)(j-i));
    i = j;
  }
}

/* Append the ISEQ encoding of a[0..n) (n >= 1) to p without GCD. */
static int iseqEncodePlain(TsBuf *p, const int64_t *a, int n){
  uint64_t *aD;
  BlockPlan *aPlan, *aPlan2;
  size_t aRobust[3], aPacked[3], nRle = 0, nRleMin, nHead, nBest;
  int nRun = 0, nBlk = (n + TS_BLOCK - 1)/TS_BLOCK;
  int i, k, eRobust, ePacked, eBest, nD, bConst = 1, bArith = 1;
  static const int aMode[3] = { ISEQ_FOR, ISEQ_DELTA, ISEQ_DOD };
  for(i=1; i<n && bConst; i++) bConst = a[i]==a[0];
  if( bConst ){
    tsBufAppendByte(p, ISEQ_CONST);
    tsBufAppendZigzag(p, a[0]);
    return TS_CHUNK_OK;
  }
  /* Arithmetic progression (regular timestamps, counters): v0 and a step. */
  for(i=2; i<n && bArith; i++){
    bArith = (uint64_t)a[i] - (uint64_t)a[i-1] == (uint64_t)a[1] - (uint64_t)a[0];
  }
  if( bArith ){
    tsBufAppendByte(p, ISEQ_ARITH);
    tsBufAppendZigzag(p, a[0]);
    tsBufAppendZigzag(p, (int64_t)((uint64_t)a[1] - (uint64_t)a[0]));
    return TS_CHUNK_OK;
  }
  /* one allocation: n scratch values and two plan arrays */
  aD = (uint64_t*)malloc(sizeof(uint64_t)*(size_t)n + 2*sizeof(BlockPlan)*(size_t)nBlk);
  if( aD==0 ) return TS_CHUNK_NOMEM;
  aPlan = (BlockPlan*)(void*)&aD[n];
  aPlan2 = &aPlan[nBlk];

  /* RLE's size is at least 1 + varintLen(nRun) + nRun*(1 + varintLen of
  ** the smallest zigzag value); the exact size is computed below only when
  ** that bound does not already rule it out. */
  {
    uint64_t zMin = tsZigzagEnc(a[0]);
    for(i=1; i<n; i++){
      uint64_t z = tsZigzagEnc(a[i]);
      nRun += a[i]!=a[i-1];
      zMin = z<zMin ? z : zMin;
    }
    nRun++;
    nRleMin = 1 + (size_t)varintLen((uint64_t)nRun) + (size_t)nRun*(1 + (size_t)varintLen(zMin));
  }

  /* Two cheap estimates per mode: FOR over the values, DELTA over the
  ** n-1 deltas, DOD over the n-2 deltas of deltas (n >= 3 here). */
  seqEstimate((const uint64_t*)a, n, &aRobust[0], &aPacked[0]);
  for(i=0; i<n-1; i++) aD[i] = (uint64_t)a[i+1] - (uint64_t)a[i];
  nHead = (size_t)varintLen(tsZigzagEnc(a[0]));
  seqEstimate(aD, n-1, &aRobust[1], &aPacked[1]);
  aRobust[1] += nHead; aPacked[1] += nHead;
  nHead += (size_t)varintLen(tsZigzagEnc((int64_t)aD[0]));
  for(i=0; i<n-2; i++) aD[i] = aD[i+1] - aD[i];
  seqEstimate(aD, n-2, &aRobust[2], &aPacked[2]);
  aRobust[2] += nHead; aPacked[2] += nHead;
  eRobust = ePacked = 0;
  for(k=1; k<3; k++){
    if( aRobust[k]<aRobust[eRobust] ) eRobust = k;
    if( aPacked[k]<aPacked[ePacked] ) ePacked = k;
  }

  /* The robust estimate's choice; when the bit-packed estimate disagrees,
  ** its choice too, and the exactly smaller of the two (the robust one on
  ** a tie) is written: the block plans give the exact sizes, so the loser
  ** is never written.  Then RLE if that is smaller still. */
  eBest = eRobust;
  nD = modeValues(a, n, aMode[eRobust], aD, &nHead);
  nBest = 1 + nHead + blocksPlan(aD, nD, aPlan);
  if( ePacked!=eRobust ){
    size_t n2;
    nD = modeValues(a, n, aMode[ePacked], aD, &nHead);
    n2 = 1 + nHead + blocksPlan(aD, nD, aPlan2);
    if( n2<nBest ){
      BlockPlan *pT = aPlan; aPlan = aPlan2; aPlan2 = pT;
      nBest = n2;
      eBest = ePacked;
    }else{
      nD = modeValues(a, n, aMode[eRobust], aD, &nHead);
    }
  }
  if( nBest > nRleMin ){
    for(i=0; i<n; ){
      int j = i+1;
      while( j<n && a[j]==a[i] ) j++;
      nRle += (size_t)varintLen(tsZigzagEnc(a[i])) + (size_t)varintLen((uint64_t)(j-i));
      i = j;
    }
    nRle += 1 + (size_t)varintLen((uint64_t)nRun);
  }
  if( nRle>0 && nBest > nRle ){
    iseqWriteRle(p, a, n);
  }else{
    iseqEmitMode(p, a, aMode[eBest], aD, nD, aPlan);
  }
  free(aD);
  return TS_CHUNK_OK;
}

static uint64_t gcd64(uint64_t x, uint64_t y){
  while( y ){ uint64_t t = x % y; x = y; y = t; }
  return x;
}

/* Append the ISEQ encoding of a[0..n) (n >= 1): the plain encoding, or
** GCD when every a[i] - a[0] is a multiple of some g >= 2 and factoring it
** out is smaller (nanosecond times with millisecond or second precision,
** multiples of a block size). */
int tsChunkIseqEncode(TsBuf *p, const int64_t *a, int n){
  uint64_t g = 0;
  size_t iStart = p->n, nPlain;
  int64_t *aQ;
  TsBuf tmp;
  int i, rc;
  rc = iseqEncodePlain(p, a, n);
  if( rc || p->bErr ) return rc;
  nPlain = p->n - iStart;
  if( nPlain<=4 ) return rc;   /* CONST/ARITH: nothing to gain */
  for(i=1; i<n; i++){
    int64_t d;
    uint64_t m;
    if( __builtin_sub_overflow(a[i], a[0], &d) ){ g = 1; break; }
    m = d<0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
    g = gcd64(g, m);
    if( g==1 ) break;
  }
  if( g<2 || g>((uint64_t)1<<62) ) return rc;
  aQ = (int64_t*)malloc(sizeof(int64_t)*(size_t)n);
  if( aQ==0 ) return TS_CHUNK_NOMEM;
  for(i=0; i<n; i++) aQ[i] = (a[i] - a[0]) / (int64_t)g;   /* exact, no overflow */
  tsBufInit(&tmp);
  tmp.nMax = p->nMax;
  tsBufAppendByte(&tmp, ISEQ_GCD);
  tsBufAppendVarint(&tmp, g);
  tsBufAppendZigzag(&tmp, a[0]);
  rc = iseqEncodePlain(&tmp, aQ, n);
  if( rc==TS_CHUNK_OK && tmp.bErr ) rc = TS_CHUNK_NOMEM;
  if( rc==TS_CHUNK_OK && tmp.n<nPlain ){
    p->n = iStart;
    tsBufAppend(p, tmp.a, tmp.n);
  }
  tsBufFree(&tmp);
  free(aQ);
  return rc;
}

/* Decode the first nNeed (1 <= nNeed <= n) values of an ISEQ of n values
** into a[] (a[nNeed..n) may be written too).  With nNeed < n the reader may
** stop inside the sequence (the caller checks no end). */
static int iseqDecodeX(TsRd *pRd, int64_t *a, int n, int nNeed, int bInner){
  unsigned char eMode;
  uint64_t *u = (uint64_t*)a;   /* same size and representation */
  int i, rc;
  if( tsRdByte(pRd, &eMode) ) return TS_CHUNK_CORRUPT;
  switch( eMode ){
    case ISEQ_GCD: {
      uint64_t g;
      int64_t v0;
      if( bInner ) return TS_CHUNK_CORRUPT;   /* GCD does not nest */
      if( tsRdVarint(pRd, &g) || g<2 || tsRdZigzag(pRd, &v0) ) return TS_CHUNK_CORRUPT;
      rc = iseqDecodeX(pRd, a, n, nNeed, 1);
      if( rc ) return rc;
      for(i=0; i<nNeed; i++) u[i] = (uint64_t)v0 + g*u[i];
      return TS_CHUNK_OK;
    }
    case ISEQ_CONST: {
      int64_t v;
      if( tsRdZigzag(pRd, &v) ) return TS_CHUNK_CORRUPT;
      for(i=0; i<nNeed; i++) a[i] = v;
      return TS_CHUNK_OK;
    }
    case ISEQ_FOR:
      return blocksRead(pRd, u, n, nNeed);
    case ISEQ_ARITH: {
      int64_t v0, d;
      if( tsRdZigzag(pRd, &v0) || tsRdZigzag(pRd, &d) ) return TS_CHUNK_CORRUPT;
      u[0] = (uint64_t)v0;
      for(i=1; i<nNeed; i++) u[i] = u[i-1] + (uint64_t)d;
      return TS_CHUNK_OK;
    }
    case ISEQ_DELTA: {
      int64_t v0;
      if( tsRdZigzag(pRd, &v0) ) return TS_CHUNK_CORRUPT;
      rc = blocksRead(pRd, u+1, n-1, nNeed-1);
      if( rc ) return rc;
      u[0] = (uint64_t)v0;
      for(i=1; i<nNeed; i++) u[i] += u[i-1];
      return TS_CHUNK_OK;
    }
    case ISEQ_DOD: {
      int64_t v0, d0 = 0;
      uint64_t d;
      if( tsRdZigzag(pRd, &v0) ) return TS_CHUNK_CORRUPT;
      if( n>=2 && tsRdZigzag(pRd, &d0) ) return TS_CHUNK_CORRUPT;
      if( n>=3 ){
        rc = blocksRead(pRd, u+2, n-2, nNeed-2);
        if( rc ) return rc;
      }
      u[0] = (uint64_t)v0;
      if( n>=2 ) u[1] = u[0] + (uint64_t)d0;
      d = (uint64_t)d0;
      for(i=2; i<nNeed; i++){ d += u[i]; u[i] = u[i-1] + d; }
      return TS_CHUNK_OK;
    }
    case ISEQ_RLE: {
      uint64_t nRun, r;
      int k = 0;
      if( tsRdVarint(pRd, &nRun) || nRun<1 || nRun>(uint64_t)n ) return TS_CHUNK_CORRUPT;
      for(r=0; r<nRun; r++){
        int64_t v;
        uint64_t nLen;
        if( tsRdZigzag(pRd, &v) || tsRdVarint(pRd, &nLen) ) return TS_CHUNK_CORRUPT;
        if( nLen<1 || nLen>(uint64_t)(n-k) ) return TS_CHUNK_CORRUPT;
        for(i=0; i<(int)nLen; i++) a[k++] = v;
        if( k>=nNeed ) return TS_CHUNK_OK;
      }
      return k==n ? TS_CHUNK_OK : TS_CHUNK_CORRUPT;
    }
  }
  return TS_CHUNK_CORRUPT;
}

int tsChunkIseqDecode(TsRd *pRd, int64_t *a, int n){
  return iseqDecodeX(pRd, a, n, n, 0);
}

int tsChunkIseqDecodePrefix(TsRd *pRd, int64_t *a, int n, int nNeed){
  if( nNeed<1 || nNeed>n ) return TS_CHUNK_MISUSE;
  return iseqDecodeX(pRd, a, n, nNeed, 0);
}

/*************************************************************************
** DOUBLE columns.
*/

/* Gorilla XOR stream of a[0..n). */
static void xorWrite(TsBuf *p, const double *a, int n){
  BitW bw;
  uint64_t prev = dblBits(a[0]);
  int nLead = -1, nLen = 0;     /* current window; nLead<0: none yet */
  int i;
  bwInit(&bw, p);
  bwPut(&bw, prev, 64);
  for(i=1; i<n; i++){
    uint64_t cur = dblBits(a[i]);
    uint64_t x = cur ^ prev;
    prev = cur;
    if( x==0 ){
      bwPut(&bw, 0, 1);
    }else{
      int lz = __builtin_clzll(x);
      int tz = __builtin_ctzll(x);
      if( lz>31 ) lz = 31;
      if( nLead>=0 && lz>=nLead && tz>=64 - nLead - nLen ){
        bwPut(&bw, 1, 1);
        bwPut(&bw, 0, 1);
        bwPut(&bw, x >> (64 - nLead - nLen), nLen);
      }else{
        nLead = lz;
        nLen = 64 - lz - tz;
        bwPut(&bw, 1, 1);
        bwPut(&bw, 1, 1);
        bwPut(&bw, (uint64_t)nLead, 5);
        bwPut(&bw, (uint64_t)(nLen - 1), 6);
        bwPut(&bw, x >> tz, nLen);
      }
    }
  }
  bwFlush(&bw);
}

/* Bytes xorWrite would produce for a[0..n). */
static size_t xorCost(const double *a, int n){
  uint64_t prev = dblBits(a[0]), nBit = 64;
  int nLead = -1, nLen = 0, i;
  for(i=1; i<n; i++){
    uint64_t cur = dblBits(a[i]);
    uint64_t x = cur ^ prev;
    prev = cur;
    if( x==0 ){
      nBit += 1;
    }else{
      int lz = __builtin_clzll(x);
      int tz = __builtin_ctzll(x);
      if( lz>31 ) lz = 31;
      if( nLead>=0 && lz>=nLead && tz>=64 - nLead - nLen ){
        nBit += 2 + (uint64_t)nLen;
      }else{
        nLead = lz;
        nLen = 64 - lz - tz;
        nBit += 13 + (uint64_t)nLen;
      }
    }
  }
  return (size_t)((nBit + 7)/8);
}

/* The first nNeed of n values of a Gorilla stream. */
static int xorRead(const unsigned char *aIn, size_t nIn, double *a, int n, int nNeed){
  BitR br;
  uint64_t prev;
  int nLead = -1, nLen = 0;
  int i;
  brInit(&br, aIn, nIn);
  prev = brGet(&br, 64);
  a[0] = bitsDbl(prev);
  for(i=1; i<n && i<nNeed && !br.bErr; i++){
    if( brGet(&br, 1) ){
      uint64_t x;
      if( brGet(&br, 1) ){
        nLead = (int)brGet(&br, 5);
        nLen = (int)brGet(&br, 6) + 1;
        if( nLead + nLen > 64 ) return TS_CHUNK_CORRUPT;
      }else if( nLead<0 ){
        return TS_CHUNK_CORRUPT;   /* window reuse before any window */
      }
      x = brGet(&br, nLen) << (64 - nLead - nLen);
      prev ^= x;
    }
    a[i] = bitsDbl(prev);
  }
  return br.bErr ? TS_CHUNK_CORRUPT : TS_CHUNK_OK;
}

/* Map a double's bits to an int64 whose order is the doubles' order (-0.0
** just below +0.0), and back.  Deltas between nearby values of a noisy
** series are then small integers (about value change / ulp). */
static int64_t dblOrdered(double r){
  int64_t x = (int64_t)dblBits(r);
  return x<0 ? x ^ INT64_MAX : x;
}
static double orderedDbl(int64_t x){
  return bitsDbl((uint64_t)(x<0 ? x ^ INT64_MAX : x));
}

/* If v == (double)m / 10^e exactly, store m in *pm and return 1. */
static int scaleTry(double v, int e, int64_t *pm){
  double x = v * aPow10[e];
  int64_t m;
  if( e==0 ){
    /* Integers: truncation is exact iff v is integral (bits keep -0.0 out). */
    if( !(v > -9.0e18 && v < 9.0e18) ) return 0;
    m = (int64_t)v;
    if( dblBits((double)m)!=dblBits(v) ) return 0;
    *pm = m;
    return 1;
  }
  if( !(x > -9.0e18 && x < 9.0e18) ) return 0;   /* also rejects NaN */
  m = (int64_t)nearbyint(x);
  if( dblBits((double)m / aPow10[e])!=dblBits(v) ) return 0;
  *pm = m;
  return 1;
}

/* Encode the n (>= 1) doubles of a[] with the smallest of SCALED (when
** every value is a short decimal), BITS, XOR and RAW. */
int tsChunkDoubleEncode(TsBuf *p, const double *a, int n){
  int e = 0, i, rc = TS_CHUNK_OK;
  int bScaled = 1;
  int64_t *aM = 0;
  TsBuf best, cand;
  size_t nRaw = 1 + 8*(size_t)n;

  tsBufInit(&best);
  tsBufInit(&cand);
  best.nMax = cand.nMax = p->nMax;
  aM = (int64_t*)malloc(sizeof(int64_t)*(size_t)n);
  if( aM==0 ){ rc = TS_CHUNK_NOMEM; goto done; }

  /* SCALED: the smallest decimal exponent e that represents every value
  ** exactly.  When it is at most a byte per value, nothing else will be
  ** much smaller, so the other candidates are not tried. */
  {
    int iE = 0;   /* a[0..iE) were converted with an exponent below e */
    /* e = 0 first without the call: integral values are the common case
    ** (the same test as scaleTry's for e = 0) */
    for(i=0; i<n; i++){
      double v = a[i];
      int64_t m;
      if( !(v > -9.0e18 && v < 9.0e18) ) break;
      m = (int64_t)v;
      if( dblBits((double)m)!=dblBits(v) ) break;
      aM[i] = m;
    }
    for(; i<n && bScaled; i++){
      if( !scaleTry(a[i], e, &aM[i]) ){
        do{ e++; }while( e<=TS_MAX_SCALE && !scaleTry(a[i], e, &aM[i]) );
        if( e>TS_MAX_SCALE ) bScaled = 0;
        iE = i;
      }
    }
    for(i=0; i<iE && bScaled; i++) bScaled = scaleTry(a[i], e, &aM[i]);
  }
  if( bScaled ){
    /* straight into p: at most a byte per value is kept without trying
    ** the others (the common case), anything longer moves to best */
    size_t iStart = p->n;
    tsBufAppendByte(p, DBL_SCALED);
    tsBufAppendByte(p, (unsigned char)e);
    rc = tsChunkIseqEncode(p, aM, n);
    if( rc || p->bErr ){
      p->n = iStart;
      if( rc==TS_CHUNK_OK ) rc = TS_CHUNK_NOMEM;
      goto done;
    }
    if( p->n - iStart <= (size_t)n ){
      free(aM);
      tsBufFree(&best);
      tsBufFree(&cand);
      return TS_CHUNK_OK;
    }
    tsBufAppend(&best, p->a + iStart, p->n - iStart);
    p->n = iStart;
  }

  /* BITS: order-preserving integers through the integer coder. */
  for(i=0; i<n; i++) aM[i] = dblOrdered(a[i]);
  tsBufAppendByte(&cand, DBL_BITS);
  rc = tsChunkIseqEncode(&cand, aM, n);
  if( rc ) goto done;
  if( best.n==0 || cand.n<best.n ){ TsBuf t = best; best = cand; cand = t; }

  /* XOR (Gorilla), written only when it wins. */
  if( 1 + xorCost(a, n) < best.n ){
    tsBufReset(&cand);
    tsBufAppendByte(&cand, DBL_XOR);
    xorWrite(&cand, a, n);
    { TsBuf t = best; best = cand; cand = t; }
  }

done:
  if( rc==TS_CHUNK_OK && (best.bErr || cand.bErr) ) rc = TS_CHUNK_NOMEM;
  if( rc==TS_CHUNK_OK ){
    if( best.n<=nRaw ){
      tsBufAppend(p, best.a, best.n);
    }else{
      tsBufAppendByte(p, DBL_RAW);
      for(i=0; i<n; i++) tsBufAppendU64le(p, dblBits(a[i]));
    }
  }
  free(aM);
  tsBufFree(&best);
  tsBufFree(&cand);
  return rc;
}

int tsChunkDoubleDecode(TsRd *pRd, double *a, int n){
  return tsChunkDoubleDecodePrefix(pRd, a, n, n);
}

int tsChunkDoubleDecodePrefix(TsRd *pRd, double *a, int n, int nNeed){
  unsigned char eMode;
  int i;
  if( nNeed<1 || nNeed>n ) return TS_CHUNK_MISUSE;
  if( tsRdByte(pRd, &eMode) ) return TS_CHUNK_CORRUPT;
  switch( eMode ){
    case DBL_RAW: {
      const unsigned char *aB;
      if( tsRdBytes(pRd, (size_t)n*8, &aB) ) return TS_CHUNK_CORRUPT;
      for(i=0; i<nNeed; i++) a[i] = bitsDbl(ld64le(aB + (size_t)i*8));
      return TS_CHUNK_OK;
    }
    case DBL_XOR: {
      /* The stream runs to the end of the payload. */
      const unsigned char *aB;
      size_t nB = pRd->n - pRd->i;
      if( tsRdBytes(pRd, nB, &aB) ) return TS_CHUNK_CORRUPT;
      return xorRead(aB, nB, a, n, nNeed);
    }
    case DBL_SCALED:
    case DBL_BITS: {
      unsigned char e = 0;
      int64_t m;
      int rc;
      if( eMode==DBL_SCALED && (tsRdByte(pRd, &e) || e>TS_MAX_SCALE) ) return TS_CHUNK_CORRUPT;
      /* The integers are decoded into a[] itself (8 bytes each, as the
      ** doubles) and converted in place: no second array. */
      rc = iseqDecodeX(pRd, (int64_t*)(void*)a, n, nNeed, 0);
      if( rc==TS_CHUNK_OK ){
        if( eMode==DBL_BITS ){
          for(i=0; i<nNeed; i++){ memcpy(&m, &a[i], 8); a[i] = orderedDbl(m); }
        }else if( e==0 ){
          for(i=0; i<nNeed; i++){ memcpy(&m, &a[i], 8); a[i] = (double)m; }
        }else{
          double p10 = aPow10[e];
          for(i=0; i<nNeed; i++){ memcpy(&m, &a[i], 8); a[i] = (double)m / p10; }
        }
      }
      return rc;
    }
  }
  return TS_CHUNK_CORRUPT;
}

