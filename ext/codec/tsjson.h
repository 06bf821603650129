/*
** tsjson.h: the JSON text form of time-series values (pure C, no SQLite).
**
** A time series is JSON text
**
**     [{"time":<int64 ns>,"value":<v>}, ...]
**
** in ascending time order (equal times allowed, kept in their order).  <v> is
** a JSON number (an integer literal that fits int64 is an INTEGER, any other
** number a REAL), a string, true/false, or null (NaN produced by arithmetic).
** "time" may also be an ISO-8601 string, for hand-written series.  Keys may
** come in either order; other keys, duplicate keys and a missing key are
** errors.  A sequence (the output of sequence()) is a JSON array of integers;
** parsers that allow it return each element as a point with time = value.
**
** The writer side produces exactly this form: integers as decimal, REALs in
** the shortest form that reads back to the same double and always with a '.'
** or exponent (so 35.0 stays a REAL), +/-Inf as 9.0e999/-9.0e999 (as SQLite's
** json functions do), NaN as null.
*/
#ifndef TSJSON_H
#define TSJSON_H
#include <stddef.h>
#include <stdint.h>
#include "tsbuf.h"

#define TS_SV_NULL 0   /* JSON null (NaN) */
#define TS_SV_INT  1   /* integer literal that fits int64: i (and r) */
#define TS_SV_REAL 2   /* other number: r */
#define TS_SV_TEXT 3   /* string: decoded UTF-8 bytes at zText+iText, nText bytes */
#define TS_SV_BOOL 4   /* true/false: i is 1/0 (and r) */

typedef struct TsSPoint TsSPoint;
struct TsSPoint {
  int64_t t;        /* time, ns since the epoch */
  int eType;        /* TS_SV_* */
  int64_t i;        /* INT and BOOL value */
  double r;         /* numeric value (INT/BOOL converted, NaN for NULL/TEXT) */
  size_t iText;     /* TEXT: offset into TsSeries.text */
  size_t nText;     /* TEXT: length in bytes */
};

typedef struct TsSeries TsSeries;
struct TsSeries {
  TsSPoint *a;      /* points; owned (malloc) */
  size_t n;         /* points used */
  size_t nAlloc;    /* points allocated */
  TsBuf text;       /* decoded string values, concatenated; owned */
  int bSeq;         /* 1: parsed from a sequence (array of integers) */
};

void tsSeriesInit(TsSeries *p);
void tsSeriesFree(TsSeries *p);        /* leaves p initialised */
/* Append a point; for TS_SV_TEXT, z/n is copied.  0 ok, 1 out of memory. */
int tsSeriesAdd(TsSeries *p, int64_t t, int eType, int64_t i, double r,
                const char *z, size_t n);
static inline const char *tsSeriesText(const TsSeries *p, const TsSPoint *q){
  return (const char*)p->text.a + q->iText;
}

/* Flags for tsSeriesParse. */
#define TS_SERIES_ALLOW_SEQ 0x01   /* accept an array of integers too */

/*
** Parse n bytes of z into p (which must be initialised and empty).  Returns 0
** on success; on failure returns 1 and writes a message (no function name, for
** example "expected ':' at byte 9" or "times not ascending at element 3")
** into zErr (nErr bytes).  Object series must be in ascending time order.
*/
int tsSeriesParse(const char *z, size_t n, int flags, TsSeries *p,
                  char *zErr, size_t nErr);

/* Writers (append to a TsBuf; errors are sticky in the TsBuf). */
void tsJsonAppendDouble(TsBuf *pOut, double r);
void tsJsonAppendString(TsBuf *pOut, const char *z, size_t n);
/* Append {"time":t,"value":<point value>} for point q of series p. */
void tsJsonAppendPoint(TsBuf *pOut, const TsSeries *p, const TsSPoint *q);
/* Append a whole series as JSON. */
void tsJsonAppendSeries(TsBuf *pOut, const TsSeries *p);

#endif
