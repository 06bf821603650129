/*
** schedexpr.h: schedule expressions of scheduled queries (pure C, no SQLite).
**
** Parses Amazon EventBridge schedule expressions, as Timestream's
** ScheduleConfiguration takes them, and computes fire times:
**
**   cron(Minutes Hours Day-of-month Month Day-of-week Year)
**   rate(Value Unit)         Unit: minute|hour|day when Value is 1,
**                            minutes|hours|days otherwise
**
** All times are UTC (no daylight saving), int64 nanoseconds since the epoch,
** with one-minute granularity.  The grammar and rules are in schedexpr.c's
** header comment and docs/scheduled-queries.md.
*/
#ifndef TS_SCHEDEXPR_H
#define TS_SCHEDEXPR_H
#include <stddef.h>
#include <stdint.h>

#define TS_SCHED_CRON 1
#define TS_SCHED_RATE 2

#define TS_SCHED_YEAR_MIN 1970
#define TS_SCHED_YEAR_MAX 2199

/* Day-of-month specials (TsSched.eDomSpecial). */
#define TS_DOM_SET   0   /* aDom bits only */
#define TS_DOM_L     1   /* L: last day of the month (iDomArg = offset n of L-n) */
#define TS_DOM_LW    2   /* LW: last weekday (Mon-Fri) of the month */
#define TS_DOM_W     3   /* nW: weekday nearest day iDomArg, same month */
/* Day-of-week specials (TsSched.eDowSpecial). */
#define TS_DOW_SET   0   /* mDow bits only */
#define TS_DOW_LAST  1   /* dL: last weekday iDowArg (1=SUN..7=SAT) of the month */
#define TS_DOW_NTH   2   /* d#k: k-th (iDowNth) weekday iDowArg of the month */

typedef struct TsSched TsSched;
struct TsSched {
  int eKind;              /* TS_SCHED_CRON or TS_SCHED_RATE */
  /* rate(): */
  int64_t iRateNs;        /* the period in ns */
  /* cron(): a set bit means "fires at that value" */
  uint64_t mMin;          /* bit 0..59 */
  uint32_t mHour;         /* bit 0..23 */
  uint32_t mDom;          /* bit 1..31 (TS_DOM_SET) */
  uint32_t mMonth;        /* bit 1..12 */
  uint32_t mDow;          /* bit 1..7, 1 = Sunday (TS_DOW_SET) */
  uint8_t aYear[TS_SCHED_YEAR_MAX - TS_SCHED_YEAR_MIN + 1];  /* 1: year fires */
  int bDomAny;            /* Day-of-month is '?': only Day-of-week decides */
  int eDomSpecial;        /* TS_DOM_* */
  int iDomArg;            /* see TS_DOM_* */
  int eDowSpecial;        /* TS_DOW_* */
  int iDowArg;            /* see TS_DOW_* */
  int iDowNth;            /* 1..5 for TS_DOW_NTH */
};

/*
** Parse the NUL-terminated expression z into *p.  Returns 0 on success.  On
** failure returns 1 and writes into zErr (nErr bytes) a message naming the
** offending field and text, for example
**   "Day-of-month field '32': value 32 out of range 1-31"
**   "rate value '0': must be a positive integer"
*/
int tsSchedParse(const char *z, TsSched *p, char *zErr, size_t nErr);

/*
** The first fire time strictly after iAfter (ns).  For rate() that is
** iAfter + the period.  For cron() it is the first whole UTC minute after
** iAfter that matches every field.  Returns 0 and sets *piNext, or 1 when
** there is none (cron years exhausted, or past the int64 ns range).
*/
int tsSchedNext(const TsSched *p, int64_t iAfter, int64_t *piNext);

#endif /* TS_SCHEDEXPR_H */
