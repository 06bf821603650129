/*
** bloom.h: the cold tier's series filter, a bloom filter over byte strings
** (bloom.c).  Pure C, no SQLite.  The byte format is fixed by
** docs/internals/cold-format.md section 4 (the writer, ts_maintain, and the
** cold scan both use this file):
**
**   u8 version=1 | u8 k | u16 0 | u32 m (bits, multiple of 64) | m/8 bytes
**
** probe j of element e sets bit (h1 + j*h2) mod m with h = FNV-1a 64 of e,
** h1 = low 32 bits, h2 = high 32 bits | 1.
*/
#ifndef TS_BLOOM_H
#define TS_BLOOM_H
#include <stddef.h>
#include <stdint.h>

#define TS_BLOOM_VERSION   1
#define TS_BLOOM_HDR       8
#define TS_BLOOM_K         7      /* probes the builder uses */
#define TS_BLOOM_BITS_PER  10     /* bits per element the builder sizes for */
#define TS_BLOOM_MAX_BITS  (1u<<31)

/* Element tags (cold-format.md section 4). */
#define TS_BLOOM_TAG_SERIES 0x53  /* 'S' + encoded series key */
#define TS_BLOOM_TAG_DIM    0x44  /* 'D' + varint(column) + value bytes */

/* FNV-1a 64 of n bytes. */
uint64_t tsBloomHash(const void *a, size_t n);

/* Size in bytes of a filter for nElem elements (>= TS_BLOOM_HDR + 8). */
size_t tsBloomSize(int64_t nElem);

/* Initialise a filter of nByte bytes (from tsBloomSize) at a: header
** written, bits cleared. */
void tsBloomInit(unsigned char *a, size_t nByte);

/* Add the element whose hash is h (tsBloomHash) to an initialised filter. */
void tsBloomAddHash(unsigned char *a, uint64_t h);

/* 1 if the element with hash h may be in the filter, 0 if it certainly is
** not.  A malformed filter (bad version, k, m or length) answers 1: a
** reader must never skip data because of a damaged filter. */
int tsBloomMayContainHash(const unsigned char *a, size_t n, uint64_t h);

/* 1 if a/n is a well-formed filter. */
int tsBloomValid(const unsigned char *a, size_t n);

#endif /* TS_BLOOM_H */
