/*
** test_schedexpr.c: unit tests of scheduler/schedexpr.c (cron()/rate()).
** A table of (expression, from, next five fire times) walked with
** tsSchedNext from each previous fire, and a table of invalid expressions
** with their exact messages.
*/
#include "tt.h"
#include "schedexpr.h"
#include "tstime.h"
#include <stdio.h>

static const struct {
  const char *zExpr;
  const char *zFrom;
  const char *azNext[5];     /* "" = no further fire */
} aCase[] = {
  /* every 5 minutes (the documented example) */
  { "cron(0/5 * * * ? *)", "2021-12-01T00:03:00Z",
    { "2021-12-01T00:05", "2021-12-01T00:10", "2021-12-01T00:15", "2021-12-01T00:20", "2021-12-01T00:25" } },
  /* strictly after: from exactly a fire time skips it; seconds round up */
  { "cron(0/30 * * * ? *)", "2021-12-01T00:30:00Z",
    { "2021-12-01T01:00", "2021-12-01T01:30", "2021-12-01T02:00", "2021-12-01T02:30", "2021-12-01T03:00" } },
  { "cron(* * * * ? *)", "2021-12-31T23:58:59.999999999Z",
    { "2021-12-31T23:59", "2022-01-01T00:00", "2022-01-01T00:01", "2022-01-01T00:02", "2022-01-01T00:03" } },
  /* twice a day */
  { "cron(0 0,12 * * ? *)", "2021-12-01T06:00:00Z",
    { "2021-12-01T12:00", "2021-12-02T00:00", "2021-12-02T12:00", "2021-12-03T00:00", "2021-12-03T12:00" } },
  /* hourly */
  { "cron(0 0/1 * * ? *)", "2024-02-29T22:10:00Z",
    { "2024-02-29T23:00", "2024-03-01T00:00", "2024-03-01T01:00", "2024-03-01T02:00", "2024-03-01T03:00" } },
  /* leap day: only leap years, 2100 is not one */
  { "cron(0 12 29 2 ? *)", "2023-01-01T00:00:00Z",
    { "2024-02-29T12:00", "2028-02-29T12:00", "2032-02-29T12:00", "2036-02-29T12:00", "2040-02-29T12:00" } },
  { "cron(0 0 29 FEB ? 2096-2104)", "2090-01-01T00:00:00Z",
    { "2096-02-29T00:00", "2104-02-29T00:00", "", "", "" } },
  /* last day of the month, through a leap February */
  { "cron(30 23 L * ? *)", "2023-12-15T00:00:00Z",
    { "2023-12-31T23:30", "2024-01-31T23:30", "2024-02-29T23:30", "2024-03-31T23:30", "2024-04-30T23:30" } },
  { "cron(0 0 L-2 * ? *)", "2023-01-01T00:00:00Z",
    { "2023-01-29T00:00", "2023-02-26T00:00", "2023-03-29T00:00", "2023-04-28T00:00", "2023-05-29T00:00" } },
  /* day 31 only in months that have it */
  { "cron(0 8 31 * ? *)", "2024-01-31T09:00:00Z",
    { "2024-03-31T08:00", "2024-05-31T08:00", "2024-07-31T08:00", "2024-08-31T08:00", "2024-10-31T08:00" } },
  /* nearest weekday: 2024-06-01 is a Saturday -> Monday 3rd (no crossing
  ** back into May); 2024-09-15 Sunday -> Monday 16th; 2024-08-15 Thursday */
  { "cron(0 9 1W * ? *)", "2024-05-15T00:00:00Z",
    { "2024-06-03T09:00", "2024-07-01T09:00", "2024-08-01T09:00", "2024-09-02T09:00", "2024-10-01T09:00" } },
  { "cron(0 9 15W * ? *)", "2024-06-01T00:00:00Z",
    { "2024-06-14T09:00", "2024-07-15T09:00", "2024-08-15T09:00", "2024-09-16T09:00", "2024-10-15T09:00" } },
  /* 2024-03-31 is a Sunday: 31W -> Friday 29th; April has no 31st */
  { "cron(0 0 31W * ? 2024)", "2024-03-01T00:00:00Z",
    { "2024-03-29T00:00", "2024-05-31T00:00", "2024-07-31T00:00", "2024-08-30T00:00", "2024-10-31T00:00" } },
  /* last weekday of the month: 2024-03-31 Sun -> 29th, 2024-08-31 Sat -> 30th */
  { "cron(0 18 LW * ? *)", "2024-03-01T00:00:00Z",
    { "2024-03-29T18:00", "2024-04-30T18:00", "2024-05-31T18:00", "2024-06-28T18:00", "2024-07-31T18:00" } },
  /* second Tuesday (3#2) */
  { "cron(0 10 ? * 3#2 *)", "2024-01-01T00:00:00Z",
    { "2024-01-09T10:00", "2024-02-13T10:00", "2024-03-12T10:00", "2024-04-09T10:00", "2024-05-14T10:00" } },
  /* fifth Friday: only months that have one */
  { "cron(0 0 ? * FRI#5 *)", "2024-01-01T00:00:00Z",
    { "2024-03-29T00:00", "2024-05-31T00:00", "2024-08-30T00:00", "2024-11-29T00:00", "2025-01-31T00:00" } },
  /* last Friday of the month */
  { "cron(0 0 ? * 6L *)", "2024-01-01T00:00:00Z",
    { "2024-01-26T00:00", "2024-02-23T00:00", "2024-03-29T00:00", "2024-04-26T00:00", "2024-05-31T00:00" } },
  /* L in Day-of-week alone: Saturday */
  { "cron(0 0 ? * L *)", "2024-01-01T00:00:00Z",
    { "2024-01-06T00:00", "2024-01-13T00:00", "2024-01-20T00:00", "2024-01-27T00:00", "2024-02-03T00:00" } },
  /* weekdays by name, a range */
  { "cron(0 9 ? * MON-FRI *)", "2024-01-05T10:00:00Z",
    { "2024-01-08T09:00", "2024-01-09T09:00", "2024-01-10T09:00", "2024-01-11T09:00", "2024-01-12T09:00" } },
  /* a wrapping range FRI-MON and a list */
  { "cron(15 6 ? * FRI-MON *)", "2024-01-03T00:00:00Z",
    { "2024-01-05T06:15", "2024-01-06T06:15", "2024-01-07T06:15", "2024-01-08T06:15", "2024-01-12T06:15" } },
  { "cron(0 22-2 1 JAN ? 2025)", "2024-12-31T00:00:00Z",
    { "2025-01-01T00:00", "2025-01-01T01:00", "2025-01-01T02:00", "2025-01-01T22:00", "2025-01-01T23:00" } },
  /* steps in ranges; months by name and number */
  { "cron(10-50/20 3 1 JAN,7,dec ? *)", "2024-06-01T00:00:00Z",
    { "2024-07-01T03:10", "2024-07-01T03:30", "2024-07-01T03:50", "2024-12-01T03:10", "2024-12-01T03:30" } },
  /* day-of-month step */
  { "cron(0 0 1/10 * ? *)", "2024-02-01T00:00:00Z",
    { "2024-02-11T00:00", "2024-02-21T00:00", "2024-03-01T00:00", "2024-03-11T00:00", "2024-03-21T00:00" } },
  /* year list, step and the end of the year range */
  { "cron(0 0 1 1 ? 2030,2040/50)", "2000-01-01T00:00:00Z",
    { "2030-01-01T00:00", "2040-01-01T00:00", "2090-01-01T00:00", "2140-01-01T00:00", "2190-01-01T00:00" } },
  { "cron(59 23 31 12 ? 2198-2199)", "2198-06-01T00:00:00Z",
    { "2198-12-31T23:59", "2199-12-31T23:59", "", "", "" } },
  /* before 1970: the first fire is in 1970 */
  { "cron(0 0 1 1 ? *)", "1960-05-05T00:00:00Z",
    { "1970-01-01T00:00", "1971-01-01T00:00", "1972-01-01T00:00", "1973-01-01T00:00", "1974-01-01T00:00" } },
  /* never: February 30 */
  { "cron(0 0 30 2 ? *)", "2024-01-01T00:00:00Z", { "", "", "", "", "" } },
  /* rate(): from the given instant, not aligned */
  { "rate(1 minute)", "2024-01-01T00:00:30Z",
    { "2024-01-01T00:01:30", "2024-01-01T00:02:30", "2024-01-01T00:03:30", "2024-01-01T00:04:30", "2024-01-01T00:05:30" } },
  { "rate(90 minutes)", "2024-02-28T23:00:00Z",
    { "2024-02-29T00:30", "2024-02-29T02:00", "2024-02-29T03:30", "2024-02-29T05:00", "2024-02-29T06:30" } },
  { "rate(1 day)", "2024-02-28T05:00:00Z",
    { "2024-02-29T05:00", "2024-03-01T05:00", "2024-03-02T05:00", "2024-03-03T05:00", "2024-03-04T05:00" } },
  { "rate(2 hours)", "2024-03-10T01:00:00Z",   /* no DST in UTC */
    { "2024-03-10T03:00", "2024-03-10T05:00", "2024-03-10T07:00", "2024-03-10T09:00", "2024-03-10T11:00" } },
};

static const struct { const char *zExpr; const char *zErr; } aBad[] = {
  { "cron(61 * * * ? *)", "Minutes field '61': value 61 out of range 0-59" },
  { "cron(0 24 * * ? *)", "Hours field '24': value 24 out of range 0-23" },
  { "cron(0 0 32 * ? *)", "Day-of-month field '32': value 32 out of range 1-31" },
  { "cron(0 0 0 * ? *)", "Day-of-month field '0': value 0 out of range 1-31" },
  { "cron(0 0 * 13 ? *)", "Month field '13': value 13 out of range 1-12" },
  { "cron(0 0 * FOO ? *)", "Month field 'FOO': unknown name 'FOO'" },
  { "cron(0 0 ? * 8 *)", "Day-of-week field '8': value 8 out of range 1-7" },
  { "cron(0 0 ? * 0 *)", "Day-of-week field '0': value 0 out of range 1-7" },
  { "cron(0 0 * * ? 1969)", "Year field '1969': value 1969 out of range 1970-2199" },
  { "cron(0 0 * * ? 2200)", "Year field '2200': value 2200 out of range 1970-2199" },
  { "cron(0 0 * * ? 2030-2025)", "Year field '2030-2025': range start 2030 is after its end 2025" },
  { "cron(0 0 * * * *)", "Day-of-week field '*': one of Day-of-month and Day-of-week must be '?'" },
  { "cron(0 0 1 * MON *)", "Day-of-week field 'MON': one of Day-of-month and Day-of-week must be '?'" },
  { "cron(0 0 ? * ? *)", "Day-of-week field '?': Day-of-month and Day-of-week cannot both be '?'" },
  { "cron(? 0 * * ? *)", "Minutes field '?': '?' is only allowed in Day-of-month and Day-of-week" },
  { "cron(0 0 ? * 2#6 *)", "Day-of-week field '2#6': '#' needs a number 1-5 after it" },
  { "cron(0 0 ? * 2#1,3#1 *)", "Day-of-week field '2#1,3#1': only one '#' expression is allowed and it stands alone" },
  { "cron(0 0 3#1 * ? *)", "Day-of-month field '3#1': '#' is only allowed in Day-of-week" },
  { "cron(0 0 ? * 1W *)", "Day-of-week field '1W': 'W' is only allowed in Day-of-month" },
  { "cron(0 0 L,5 * ? *)", "Day-of-month field 'L,5': 'L' and 'W' cannot be combined with other values" },
  { "cron(0 0 L-31 * ? *)", "Day-of-month field 'L-31': offset 31 out of range 1-30" },
  { "cron(0 0 32W * ? *)", "Day-of-month field '32W': value 32 out of range 1-31" },
  { "cron(0 0 ? * 1/2 *)", "Day-of-week field '1/2': '/' is not allowed in this field" },
  { "cron(*/0 * * * ? *)", "Minutes field '*/0': step must be at least 1" },
  { "cron(5/ * * * ? *)", "Minutes field '5/': '/' needs a step" },
  { "cron(1,,2 * * * ? *)", "Minutes field '1,,2': empty list item" },
  { "cron(1-x * * * ? *)", "Minutes field '1-x': unknown name 'x'" },
  { "cron(0 0 * * ?)", "cron expression has 5 fields, needs 6 (Minutes Hours Day-of-month Month Day-of-week Year)" },
  { "cron(0 0 * * ? * *)", "cron expression has more than 6 fields (Minutes Hours Day-of-month Month Day-of-week Year)" },
  { "cron()", "cron expression has 0 fields, needs 6 (Minutes Hours Day-of-month Month Day-of-week Year)" },
  { "every 5 minutes", "schedule expression 'every 5 minutes': expected cron(...) or rate(...)" },
  { "CRON(0 0 * * ? *)", "schedule expression 'CRON(0 0 * * ? *)': expected cron(...) or rate(...)" },
  { "rate(0 minutes)", "rate value '0': must be a positive integer" },
  { "rate(-5 minutes)", "rate value '-5': must be a positive integer" },
  { "rate(1.5 hours)", "rate value '1.5': must be a positive integer" },
  { "rate(1 minutes)", "rate unit 'minutes': a value of 1 needs the singular 'minute'" },
  { "rate(5 minute)", "rate unit 'minute': a value other than 1 needs the plural 'minutes'" },
  { "rate(5 weeks)", "rate unit 'weeks': expected minute(s), hour(s) or day(s)" },
  { "rate(5)", "rate unit missing: expected minute(s), hour(s) or day(s)" },
  { "rate(99999999999999999999 days)", "rate value '99999999999999999999': too large" },
};

int main(void){
  size_t i, k;
  char zName[200], zErr[256], zIso[TS_ISO_BUFSZ];
  for(i=0; i<sizeof(aCase)/sizeof(aCase[0]); i++){
    TsSched s;
    int64_t t;
    int rc = tsSchedParse(aCase[i].zExpr, &s, zErr, sizeof(zErr));
    snprintf(zName, sizeof(zName), "parse %s", aCase[i].zExpr);
    TT_CHECK(zName, rc==0);
    if( rc ){ printf("  error: %s\n", zErr); continue; }
    tsTimeParseIso(aCase[i].zFrom, -1, &t);
    for(k=0; k<5; k++){
      int64_t tNext = 0, tExp;
      int bNone = tsSchedNext(&s, t, &tNext);
      char zGot[64];
      snprintf(zName, sizeof(zName), "next %s from %s #%d", aCase[i].zExpr, aCase[i].zFrom, (int)k+1);
      if( bNone ){
        snprintf(zGot, sizeof(zGot), "%s", "");
      }else{
        tsTimeFormatIso(tNext, zIso);
        /* compare at minute or second precision as written */
        snprintf(zGot, sizeof(zGot), "%.*s", (int)strlen(aCase[i].azNext[k] && aCase[i].azNext[k][0]
                 ? aCase[i].azNext[k] : "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), zIso);
        tsTimeParseIso(aCase[i].azNext[k][0] ? aCase[i].azNext[k] : "1970-01-01", -1, &tExp);
        if( aCase[i].azNext[k][0] && tExp!=tNext ) snprintf(zGot, sizeof(zGot), "%s", zIso);
      }
      TT_EQ_STR(zName, zGot, aCase[i].azNext[k]);
      if( bNone ) break;
      t = tNext;
    }
  }
  for(i=0; i<sizeof(aBad)/sizeof(aBad[0]); i++){
    TsSched s;
    int rc = tsSchedParse(aBad[i].zExpr, &s, zErr, sizeof(zErr));
    snprintf(zName, sizeof(zName), "invalid %s", aBad[i].zExpr);
    if( rc==0 ) snprintf(zErr, sizeof(zErr), "(accepted)");
    TT_EQ_STR(zName, zErr, aBad[i].zErr);
  }
  {
    TsSched s;
    TT_CHECK("NULL expression", tsSchedParse(0, &s, zErr, sizeof(zErr))==1
             && strcmp(zErr, "schedule expression is NULL")==0);
    TT_CHECK("blanks around fields", tsSchedParse("  cron( 0   12  * *  ?  * ) ", &s, zErr, sizeof(zErr))==0);
    TT_CHECK("rate past int64", tsSchedParse("rate(1 day)", &s, zErr, sizeof(zErr))==0);
    {
      int64_t t;
      TT_CHECK("rate next past int64 is none", tsSchedNext(&s, INT64_MAX - 10, &t)==1);
    }
    TT_CHECK("cron next past 2199 is none", tsSchedParse("cron(* * * * ? *)", &s, zErr, sizeof(zErr))==0);
    {
      int64_t t = 0, t0;
      tsTimeParseIso("2199-12-31T23:59:00Z", -1, &t0);
      TT_CHECK("cron next at 2199-12-31T23:59 is none", tsSchedNext(&s, t0, &t)==1);
      TT_CHECK("cron next from INT64_MAX is none", tsSchedNext(&s, INT64_MAX, &t)==1);
      TT_CHECK("cron next from INT64_MIN is 1970", tsSchedNext(&s, INT64_MIN, &t)==0 && t==0);
    }
  }
  return tt_done();
}
