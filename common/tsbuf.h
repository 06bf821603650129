/*
** tsbuf.h: growable byte buffers and varint helpers shared by the pure codecs
** (chunk codec, Parquet, CSV, JSON).  No SQLite dependency: memory comes from
** malloc/realloc, so these modules can be unit-tested and fuzzed standalone.
**
** A TsBuf owns its bytes (a).  Appends never fail silently: the first failure
** (out of memory, or growing past nMax) sets the sticky flag bErr and every
** later append is a no-op, so a writer can append many fields and check once.
*/
#ifndef TSBUF_H
#define TSBUF_H
#include <stddef.h>
#include <stdint.h>

typedef struct TsBuf TsBuf;
struct TsBuf {
  unsigned char *a;   /* bytes; owned; NULL while empty */
  size_t n;           /* bytes used */
  size_t nAlloc;      /* bytes allocated */
  size_t nMax;        /* growth limit in bytes; 0 means the default (1 GiB) */
  int bErr;           /* sticky: set when an append failed (OOM or nMax) */
};

void tsBufInit(TsBuf *p);                 /* zero it; nMax default */
void tsBufFree(TsBuf *p);                 /* release a; leave p initialised */
void tsBufReset(TsBuf *p);                /* n = 0, keep the allocation */
int tsBufReserve(TsBuf *p, size_t nExtra);/* 0 ok, else sets bErr and returns 1 */
void tsBufAppend(TsBuf *p, const void *a, size_t n);
void tsBufAppendByte(TsBuf *p, unsigned char c);
void tsBufAppendU32le(TsBuf *p, uint32_t v);
void tsBufAppendU64le(TsBuf *p, uint64_t v);
void tsBufAppendVarint(TsBuf *p, uint64_t v);   /* ULEB128 */
void tsBufAppendZigzag(TsBuf *p, int64_t v);    /* zigzag + ULEB128 */
void tsBufAppendStr(TsBuf *p, const char *z);   /* no terminator */
void tsBufPrintf(TsBuf *p, const char *zFmt, ...) __attribute__((format(printf, 2, 3)));
/* Take ownership of the bytes; *pn gets the length.  p is left empty. */
unsigned char *tsBufDetach(TsBuf *p, size_t *pn);

/* Bounds-checked reading.  Every getter returns 0 on success and 1 when the
** input is short or malformed; on failure the reader becomes sticky-bad. */
typedef struct TsRd TsRd;
struct TsRd {
  const unsigned char *a;  /* input; not owned */
  size_t n;                /* input length */
  size_t i;                /* read offset */
  int bErr;                /* sticky: a read ran past n or was malformed */
};
void tsRdInit(TsRd *p, const void *a, size_t n);
int tsRdByte(TsRd *p, unsigned char *pc);
int tsRdBytes(TsRd *p, size_t n, const unsigned char **pa);
int tsRdU32le(TsRd *p, uint32_t *pv);
int tsRdU64le(TsRd *p, uint64_t *pv);
int tsRdVarint(TsRd *p, uint64_t *pv);    /* at most 10 bytes */
int tsRdZigzag(TsRd *p, int64_t *pv);

static inline uint64_t tsZigzagEnc(int64_t v){ return ((uint64_t)v<<1) ^ (0 - ((uint64_t)v>>63)); }
static inline int64_t tsZigzagDec(uint64_t u){ return (int64_t)(u>>1) ^ -(int64_t)(u&1); }

#endif
