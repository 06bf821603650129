/*
** tscrc.c: CRC-32 (tscrc.h).  The fold: the reflected CRC-32 state is
** four 128-bit lanes advanced 512 bits at a time by multiplying with
** x^(512+-32) mod P (and x^(128+-32) to join lanes), then reduced to 64 and
** 32 bits (Barrett); the constants are those of Intel's paper "Fast CRC
** Computation for Generic Polynomials Using PCLMULQDQ" for P = 0x104C11DB7
** (as in zlib's and the Linux kernel's crc32 folding code).  Lengths below
** 64 bytes and the tail past the last 16-byte block go to zlib.
*/
#include "tscrc.h"
#include <zlib.h>

uint32_t tsCrc32Portable(uint32_t crc, const void *p, size_t n){
  const unsigned char *a = (const unsigned char*)p;
  uLong c = crc;
  while( n>0 ){
    uInt k = n > 0x40000000 ? 0x40000000 : (uInt)n;
    c = crc32(c, a, k);
    a += k;
    n -= k;
  }
  return (uint32_t)c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

/* Fold n bytes (n >= 64, a multiple of 16) into the raw (not inverted)
** state s. */
__attribute__((target("pclmul,sse4.1")))
static uint32_t crcFold(uint32_t s, const unsigned char *a, size_t n){
  const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596LL, 0x0154442bd4LL);
  const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009eLL, 0x01751997d0LL);
  const __m128i k5k0 = _mm_set_epi64x(0, 0x0163cd6124LL);
  const __m128i poly = _mm_set_epi64x(0x01f7011641LL, 0x01db710641LL);
  const __m128i mask32 = _mm_setr_epi32(-1, 0, -1, 0);
  __m128i x0, x1, x2, x3, x4, x5, x6, x7, x8;

  x1 = _mm_loadu_si128((const __m128i*)(a + 0));
  x2 = _mm_loadu_si128((const __m128i*)(a + 16));
  x3 = _mm_loadu_si128((const __m128i*)(a + 32));
  x4 = _mm_loadu_si128((const __m128i*)(a + 48));
  x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)s));
  a += 64;
  n -= 64;
  while( n>=64 ){
    x5 = _mm_clmulepi64_si128(x1, k1k2, 0x00);
    x6 = _mm_clmulepi64_si128(x2, k1k2, 0x00);
    x7 = _mm_clmulepi64_si128(x3, k1k2, 0x00);
    x8 = _mm_clmulepi64_si128(x4, k1k2, 0x00);
    x1 = _mm_clmulepi64_si128(x1, k1k2, 0x11);
    x2 = _mm_clmulepi64_si128(x2, k1k2, 0x11);
    x3 = _mm_clmulepi64_si128(x3, k1k2, 0x11);
    x4 = _mm_clmulepi64_si128(x4, k1k2, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x5), _mm_loadu_si128((const __m128i*)(a + 0)));
    x2 = _mm_xor_si128(_mm_xor_si128(x2, x6), _mm_loadu_si128((const __m128i*)(a + 16)));
    x3 = _mm_xor_si128(_mm_xor_si128(x3, x7), _mm_loadu_si128((const __m128i*)(a + 32)));
    x4 = _mm_xor_si128(_mm_xor_si128(x4, x8), _mm_loadu_si128((const __m128i*)(a + 48)));
    a += 64;
    n -= 64;
  }
  /* Four lanes into one. */
  x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
  x1 = _mm_clmulepi64_si128(x1, k3k4, 0x11);
  x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
  x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
  x1 = _mm_clmulepi64_si128(x1, k3k4, 0x11);
  x1 = _mm_xor_si128(_mm_xor_si128(x1, x3), x5);
  x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
  x1 = _mm_clmulepi64_si128(x1, k3k4, 0x11);
  x1 = _mm_xor_si128(_mm_xor_si128(x1, x4), x5);
  /* Whole 16-byte blocks left. */
  while( n>=16 ){
    x2 = _mm_loadu_si128((const __m128i*)a);
    x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
    x1 = _mm_clmulepi64_si128(x1, k3k4, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
    a += 16;
    n -= 16;
  }
  /* 128 -> 64 bits. */
  x2 = _mm_clmulepi64_si128(x1, k3k4, 0x10);
  x1 = _mm_srli_si128(x1, 8);
  x1 = _mm_xor_si128(x1, x2);
  x2 = _mm_srli_si128(x1, 4);
  x1 = _mm_and_si128(x1, mask32);
  x1 = _mm_clmulepi64_si128(x1, k5k0, 0x00);
  x1 = _mm_xor_si128(x1, x2);
  /* Barrett reduction to 32 bits. */
  x2 = _mm_and_si128(x1, mask32);
  x2 = _mm_clmulepi64_si128(x2, poly, 0x10);
  x2 = _mm_and_si128(x2, mask32);
  x2 = _mm_clmulepi64_si128(x2, poly, 0x00);
  x1 = _mm_xor_si128(x1, x2);
  (void)x0;
  return (uint32_t)_mm_extract_epi32(x1, 1);
}

static int crcHaveClmul(void){
  static int eHave = -1;   /* benign race: every thread computes the same */
  if( eHave<0 ){
    __builtin_cpu_init();
    eHave = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
  }
  return eHave;
}

uint32_t tsCrc32(uint32_t crc, const void *p, size_t n){
  const unsigned char *a = (const unsigned char*)p;
  if( n>=64 && crcHaveClmul() ){
    size_t nFold = n & ~(size_t)15;
    crc = ~crcFold(~crc, a, nFold);
    a += nFold;
    n -= nFold;
  }
  return tsCrc32Portable(crc, a, n);
}

#else
uint32_t tsCrc32(uint32_t crc, const void *p, size_t n){
  return tsCrc32Portable(crc, p, n);
}
#endif
