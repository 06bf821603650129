/*
** lineproto.h: the InfluxDB line protocol parser (pure C, no SQLite).
**
** One call parses one line (the caller splits the text at '\n'; line protocol
** has no newline inside any element) into a TsLpLine whose strings are
** unescaped, NUL-terminated copies in the parser's scratch buffer, valid
** until the next call.  ts_write_lp (ext/lineproto_sql.c) and the fuzz target
** are its users; the grammar and every escaping rule are in lineproto.c.
**
**   TsLpParser p; TsLpLine l;
**   tsLpInit(&p);
**   rc = tsLpParse(&p, zLine, nLine, TS_LP_MS, &l);
**   TS_LP_OK: l is the point; TS_LP_SKIP: blank or comment line;
**   TS_LP_ERROR: p.zErr says what is wrong and at which column
**   tsLpFree(&p);
*/
#ifndef TS_LINEPROTO_H
#define TS_LINEPROTO_H
#include <stddef.h>
#include <stdint.h>
#include "tsbuf.h"

/* Timestamp precisions (the unit of the optional timestamp). */
#define TS_LP_NS 0
#define TS_LP_US 1
#define TS_LP_MS 2
#define TS_LP_S  3

/* Field value types. */
#define TS_LP_FLOAT  1     /* 1.5, -2, 1e3 (no suffix) */
#define TS_LP_INT    2     /* 12i */
#define TS_LP_UINT   3     /* 12u */
#define TS_LP_STRING 4     /* "text" */
#define TS_LP_BOOL   5     /* t T true True TRUE f F false False FALSE */

/* Results of tsLpParse. */
#define TS_LP_OK    0
#define TS_LP_SKIP  1      /* empty, whitespace-only or '#' comment line */
#define TS_LP_ERROR 2      /* malformed: zErr set */
#define TS_LP_NOMEM 3      /* out of memory: zErr set */

/* Limits of one line (beyond them the line is an error, not a crash). */
#define TS_LP_MAX_TAGS   1024
#define TS_LP_MAX_FIELDS 1024

typedef struct TsLpTag TsLpTag;
struct TsLpTag {
  const char *zKey; size_t nKey;     /* unescaped, NUL-terminated */
  const char *zVal; size_t nVal;     /* unescaped, NUL-terminated */
};

typedef struct TsLpField TsLpField;
struct TsLpField {
  const char *zKey; size_t nKey;     /* unescaped, NUL-terminated */
  int eType;                         /* TS_LP_* type */
  double rVal;                       /* TS_LP_FLOAT */
  int64_t iVal;                      /* TS_LP_INT; TS_LP_BOOL: 0 or 1 */
  uint64_t uVal;                     /* TS_LP_UINT */
  const char *zStr; size_t nStr;     /* TS_LP_STRING: unescaped, NUL-terminated
                                     ** (may hold NUL bytes inside: use nStr) */
};

typedef struct TsLpLine TsLpLine;
struct TsLpLine {
  const char *zMeas; size_t nMeas;   /* measurement, unescaped, NUL-terminated */
  int nTag;  const TsLpTag *aTag;    /* tags in line order */
  int nField; const TsLpField *aField; /* fields in line order (at least one) */
  int bTime;                         /* 1: a timestamp was given */
  int64_t iTime;                     /* it, converted to ns (when bTime) */
};

typedef struct TsLpParser TsLpParser;
struct TsLpParser {
  TsBuf scratch;                     /* unescaped strings of the last line; owned */
  TsLpTag *aTag; int nTagAlloc;      /* owned (malloc) */
  TsLpField *aField; int nFieldAlloc;/* owned (malloc) */
  char zErr[256];                    /* reason of the last TS_LP_ERROR */
};

void tsLpInit(TsLpParser *p);
void tsLpFree(TsLpParser *p);        /* accepts a zeroed parser */

/* Parse the line z[0..n) (no '\n'; one trailing '\r' is ignored).  ePrec is
** TS_LP_NS..TS_LP_S.  Returns TS_LP_OK (*pLine filled), TS_LP_SKIP,
** TS_LP_ERROR or TS_LP_NOMEM (p->zErr says why). */
int tsLpParse(TsLpParser *p, const char *z, size_t n, int ePrec, TsLpLine *pLine);

/* "ns" "us" "ms" "s" -> TS_LP_NS.. ; anything else -> -1. */
int tsLpPrecision(const char *z);

#endif
