/*
** bl_value.h: the value rules of batch load (pure C, no SQLite): how a CSV
** field becomes a time or a typed measure value under Timestream's DataModel
** (reference 4.2/4.3).  batch_load.c calls these per field; every failure
** comes back as a reason text naming the column and the value, which goes
** into the error report unchanged.
**
**   time column      an integer count of TimeUnit since 1970-01-01 UTC
**                    (MILLISECONDS default, SECONDS, MICROSECONDS,
**                    NANOSECONDS); no sign, no fraction, no blanks; must fit
**                    int64 nanoseconds (up to 2262-04-11)
**   DOUBLE           a decimal number (digits, '.', exponent, leading sign);
**                    no hex, no "inf"/"nan", must be finite
**   BIGINT           a decimal integer that fits int64 (leading sign ok)
**   BOOLEAN          true / false (any case), 1 / 0
**   VARCHAR          any valid UTF-8
**   TIMESTAMP        an integer count of TimeUnit (like the time column), or
**                    ISO-8601 text ('2024-05-01T12:00:00Z')
*/
#ifndef TS_BL_VALUE_H
#define TS_BL_VALUE_H
#include <stddef.h>
#include <stdint.h>

/* TimeUnit values: the multiplier to nanoseconds. */
#define TS_BL_NANOSECONDS  1LL
#define TS_BL_MICROSECONDS 1000LL
#define TS_BL_MILLISECONDS 1000000LL
#define TS_BL_SECONDS      1000000000LL

/* The multiplier of a TimeUnit name, 0 if the name is not one. */
int64_t tsBlUnitParse(const char *zUnit);
/* The name of a multiplier ("MILLISECONDS", ...). */
const char *tsBlUnitName(int64_t iUnit);

/*
** Parse z[0..n) (not NUL-terminated) as an epoch count of iUnit into *piNs.
** 0 on success; 1 with a reason in zWhy (nWhy bytes), for example
** "'12.5' is not an integer count of MILLISECONDS".
*/
int tsBlParseTime(const char *z, size_t n, int64_t iUnit, int64_t *piNs,
                  char *zWhy, size_t nWhy);

/* The same rules for measure values; 0 ok, 1 with a reason in zWhy. */
int tsBlParseDouble(const char *z, size_t n, double *pr, char *zWhy, size_t nWhy);
int tsBlParseBigint(const char *z, size_t n, int64_t *pi, char *zWhy, size_t nWhy);
int tsBlParseBool(const char *z, size_t n, int *pb, char *zWhy, size_t nWhy);
int tsBlParseTimestamp(const char *z, size_t n, int64_t iUnit, int64_t *piNs,
                       char *zWhy, size_t nWhy);

/* Write up to 40 bytes of z[0..n) into zOut (size nOut >= 48) for use in a
** reason: control bytes as '?', "..." appended when cut. */
void tsBlQuoteSample(const char *z, size_t n, char *zOut, size_t nOut);

#endif
