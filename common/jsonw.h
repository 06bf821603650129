/*
** jsonw.h: the one JSON writer of tslite (pure C, no SQLite).
**
** Every JSON text the extension returns or writes (ts_stats, ts_check,
** ts_maintain, ts_unload's manifest and metadata, batch-load reports, task
** rows, line-protocol results) is built with these calls, never with SQL
** quoting or hand-made printf formats, so it is valid JSON for any table,
** column, key or value:
**
**   TsBuf b; TsJsonW w;
**   tsBufInit(&b); tsJwInit(&w, &b);
**   tsJwObjBegin(&w);
**     tsJwKeyStr(&w, "table", zTab);
**     tsJwKeyInt(&w, "rows", nRow);
**     tsJwKey(&w, "objects"); tsJwArrBegin(&w); ... tsJwArrEnd(&w);
**   tsJwObjEnd(&w);
**   if( tsJwError(&w) ) -> out of memory or misuse; else b.a/b.n is the text
**
** The writer inserts the commas and colons itself.  Strings are written as
** valid UTF-8: '"', '\\' and every byte below 0x20 are escaped (\n, \t, \r,
** \b, \f by name, the rest as \u00XX), DEL is escaped as \u007f, and a byte
** that is not part of a well-formed UTF-8 sequence (overlongs, surrogates,
** code points past U+10FFFF, truncated sequences) becomes U+FFFD, so the
** output always parses.  Doubles are written in the shortest form that reads
** back to the same value; NaN and +/-Inf, which JSON cannot express, are
** written as null.
**
** Errors are sticky, like TsBuf: after the first failure (allocation, nesting
** deeper than TS_JW_MAXDEPTH, a value where a key is expected) every call is
** a no-op and tsJwError() returns 1.
*/
#ifndef TSJSONW_H
#define TSJSONW_H
#include <stddef.h>
#include <stdint.h>
#include "tsbuf.h"

#define TS_JW_MAXDEPTH 32

typedef struct TsJsonW TsJsonW;
struct TsJsonW {
  TsBuf *pOut;                          /* output; not owned */
  int nDepth;                           /* open objects/arrays */
  unsigned char aObj[TS_JW_MAXDEPTH];   /* 1: level is an object */
  unsigned char aCount[TS_JW_MAXDEPTH]; /* 1: level has an element already */
  int bKey;                             /* a key was written, value expected */
  int bErr;                             /* sticky misuse flag */
};

void tsJwInit(TsJsonW *p, TsBuf *pOut);
int tsJwError(const TsJsonW *p);       /* 1 on misuse or out of memory */

void tsJwObjBegin(TsJsonW *p);
void tsJwObjEnd(TsJsonW *p);
void tsJwArrBegin(TsJsonW *p);
void tsJwArrEnd(TsJsonW *p);
void tsJwKey(TsJsonW *p, const char *zKey);   /* NUL-terminated key */

void tsJwStr(TsJsonW *p, const char *z);      /* NUL-terminated; NULL -> null */
void tsJwStrN(TsJsonW *p, const char *z, size_t n);   /* n bytes, NULs kept */
void tsJwInt(TsJsonW *p, int64_t v);
void tsJwUInt(TsJsonW *p, uint64_t v);
void tsJwDouble(TsJsonW *p, double r);
void tsJwBool(TsJsonW *p, int b);
void tsJwNull(TsJsonW *p);
/* Append already-valid JSON text (for example a nested writer's output). */
void tsJwRaw(TsJsonW *p, const char *zJson, size_t n);

/* Key + value shorthands. */
void tsJwKeyStr(TsJsonW *p, const char *zKey, const char *z);
void tsJwKeyInt(TsJsonW *p, const char *zKey, int64_t v);
void tsJwKeyDouble(TsJsonW *p, const char *zKey, double r);
void tsJwKeyBool(TsJsonW *p, const char *zKey, int b);

/* Append z[0..n) as a JSON string literal to pOut (the escaping rule above). */
void tsJsonQuote(TsBuf *pOut, const char *z, size_t n);

/* Length of the well-formed UTF-8 sequence at a[0..n) (n >= 1), or 0 if
** there is none (RFC 3629: no overlongs, no surrogates, nothing past
** U+10FFFF).  The rule tsJsonQuote applies; readers of JSON text use it to
** refuse what the writer would replace. */
size_t tsJsonUtf8Len(const unsigned char *a, size_t n);

#endif
