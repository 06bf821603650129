/*
** tstime.h: nanosecond timestamps, ISO-8601 text and interval literals.
** Pure C (no SQLite): used by the timeseries table (time column, retention
** options) and by the SQL time functions.  Times are int64 nanoseconds since
** 1970-01-01T00:00:00Z (UTC), so the representable range is
** 1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z.
*/
#ifndef TSTIME_H
#define TSTIME_H
#include <stdint.h>
#include "civil.h"      /* tsDaysFromCivil, tsCivilFromDays, tsFloorDiv, tsFloorMod */


/* Result codes of the parsers. */
#define TS_TIME_OK       0
#define TS_TIME_SYNTAX   1   /* not a valid literal */
#define TS_TIME_RANGE    2   /* valid syntax, outside the int64 ns range */
#define TS_TIME_CALENDAR 3   /* interval with a year/month unit (not a fixed length) */
#define TS_TIME_FRACTION 4   /* interval not a whole number of nanoseconds */

/*
** Parse an interval literal of n bytes (n<0: NUL-terminated): a decimal
** number followed by a unit, no spaces: ns nanosecond us microsecond ms
** millisecond s second m minute h hour d day (Timestream's day-to-second
** units, singular; "10day" is valid, "1 day" and "1w" are not).  Year/month
** units give TS_TIME_CALENDAR.  On success *piNs is the length in ns.
*/
int tsIntervalParse(const char *z, int n, int64_t *piNs);

/*
** Parse ISO-8601 text of n bytes (n<0: NUL-terminated) into ns UTC:
**   YYYY-MM-DD
**   YYYY-MM-DD[T| ]hh:mm[:ss[.f{1,9}]][Z|(+|-)hh[:?mm]]
** An offset is converted to UTC.  No offset means UTC.
*/
int tsTimeParseIso(const char *z, int n, int64_t *piNs);

/* Format ns as "YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ" (30 chars + NUL) into zBuf,
** which must hold at least TS_ISO_BUFSZ bytes.  Returns the length. */
#define TS_ISO_BUFSZ 40
int tsTimeFormatIso(int64_t iNs, char *zBuf);

#endif
