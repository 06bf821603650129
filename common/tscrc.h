/*
** tscrc.h: CRC-32 (zlib's polynomial and values: tsCrc32(c, a, n) equals
** zlib's crc32(c, a, n)) of any length, folded with carry-less multiplies
** (PCLMULQDQ) when the CPU has them, zlib's crc32 otherwise (tscrc.c).
** The chunk codec checks every blob it opens with it: reading a 100 KB
** chunk of doubles spent more time in zlib's byte-table CRC than decoding.
*/
#ifndef TS_TSCRC_H
#define TS_TSCRC_H
#include <stddef.h>
#include <stdint.h>

/* The CRC-32 of a[0..n) continuing from crc (0 to start). */
uint32_t tsCrc32(uint32_t crc, const void *a, size_t n);

/* The same without the multiply path (tests compare the two). */
uint32_t tsCrc32Portable(uint32_t crc, const void *a, size_t n);

#endif
