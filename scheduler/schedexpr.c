/*
** schedexpr.c: EventBridge schedule expressions, cron() and rate() (pure C).
**
** This module owns the grammar of ScheduleConfiguration.ScheduleExpression
** and the computation of fire times.  Grammar (UTC; one-minute granularity):
**
**   rate(V U)     V a positive decimal integer (no sign, no leading zeros
**                 beyond "0" itself, which is rejected); U is minute|hour|day
**                 when V is 1 and minutes|hours|days otherwise.  The next
**                 fire after t is t + V*U: a rate schedule counts from the
**                 instant it is given (Timestream: the creation time).
**
**   cron(Mi H DoM Mo DoW Y)   six fields separated by blanks
**
**     field          values              wildcards
**     Minutes        0-59                , - * /
**     Hours          0-23                , - * /
**     Day-of-month   1-31                , - * ? / L W
**     Month          1-12 or JAN-DEC     , - * /
**     Day-of-week    1-7 or SUN-SAT      , - * ? L #     (1 = SUN)
**     Year           1970-2199           , - * /
**
**   A field is '?' (DoM and DoW only) or a comma list of items; an item is
**   '*', a value, or a range 'a-b', optionally followed by '/step' ("every
**   step units starting at a"; 'a/step' runs from a to the field's maximum,
**   a star with a step from its minimum).  A range whose start is above its end wraps
**   around the cycle ('FRI-MON', '22-2'), as in Quartz, whose syntax
**   EventBridge follows; a wrapping Year range is an error.  Names are
**   case-insensitive.  The specials stand alone as the whole field:
**     DoM  'L' last day of the month, 'L-n' n days before it (n 1..30),
**          'LW' the last weekday (MON-FRI) of the month, 'nW' the weekday
**          nearest day n in the same month (a Saturday moves to Friday, a
**          Sunday to Monday, never across the month's edges; no fire in a
**          month shorter than n days).
**     DoW  'L' Saturday (the last day of the week), 'dL' the last weekday d
**          of the month ('6L', 'FRIL'), 'd#k' the k-th weekday d of the
**          month (k 1..5; no fire in a month without a k-th one).  Only one
**          '#' expression is allowed, so '#' cannot appear in a list.
**   Exactly one of Day-of-month and Day-of-week is '?' (EventBridge: they
**   cannot both be given, and '*' in one needs '?' in the other).
**
** Every error names the field and the text at fault (schedexpr.h).
**
** Next fire of cron(): walk forward from the first whole minute after the
** given instant, jumping to the start of the next matching year, month, day,
** hour or minute whenever the current one does not match.  Each jump moves
** to a larger unit boundary, so the walk is bounded by roughly
** years*(12 + 31) + 24 + 60 steps even for a schedule that never fires.
*/
#include "schedexpr.h"
#include "civil.h"
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include <stdarg.h>

/* Field numbers, in expression order. */
#define F_MIN   0
#define F_HOUR  1
#define F_DOM   2
#define F_MONTH 3
#define F_DOW   4
#define F_YEAR  5
#define N_FIELD 6

static const struct {
  const char *zName;   /* as EventBridge's documentation names it */
  int lo, hi;          /* value range */
  int bStep;           /* '/' allowed */
  int bWrap;           /* a range may wrap around (cyclic field) */
} aField[N_FIELD] = {
  { "Minutes",      0,   59, 1, 1 },
  { "Hours",        0,   23, 1, 1 },
  { "Day-of-month", 1,   31, 1, 1 },
  { "Month",        1,   12, 1, 1 },
  { "Day-of-week",  1,    7, 0, 1 },
  { "Year",         TS_SCHED_YEAR_MIN, TS_SCHED_YEAR_MAX, 1, 0 },
};

static const char *const azMonth[12] = {
  "JAN","FEB","MAR","APR","MAY","JUN","JUL","AUG","SEP","OCT","NOV","DEC"
};
static const char *const azDay[7] = { "SUN","MON","TUE","WED","THU","FRI","SAT" };

/* Parser state of one field. */
typedef struct FieldCtx FieldCtx;
struct FieldCtx {
  int iField;          /* F_* */
  const char *z;       /* the field's text (not NUL-terminated) */
  int n;               /* its length */
  char *zErr;          /* error output */
  size_t nErr;
};

static int fieldErr(FieldCtx *f, const char *zFmt, ...) __attribute__((format(printf, 2, 3)));
static int fieldErr(FieldCtx *f, const char *zFmt, ...){
  char zWhy[160];
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(zWhy, sizeof(zWhy), zFmt, ap);
  va_end(ap);
  snprintf(f->zErr, f->nErr, "%s field '%.*s': %s", aField[f->iField].zName,
           f->n > 64 ? 64 : f->n, f->z, zWhy);
  return 1;
}

/* Parse a value (number or name) at z[*pi..iEnd); advance *pi. */
static int parseValue(FieldCtx *f, const char *z, int *pi, int iEnd, int *pv){
  int i = *pi, v = 0, nDig = 0;
  int lo = aField[f->iField].lo, hi = aField[f->iField].hi;
  if( i<iEnd && isalpha((unsigned char)z[i]) ){
    const char *const *az = 0;
    int nName = 0, k;
    if( f->iField==F_MONTH ){ az = azMonth; nName = 12; }
    if( f->iField==F_DOW ){ az = azDay; nName = 7; }
    for(k=0; k<nName; k++){
      if( iEnd-i>=3 && strncasecmp(z+i, az[k], 3)==0
       && (iEnd-i==3 || !isalpha((unsigned char)z[i+3])) ){
        *pv = k+1; *pi = i+3;
        return 0;
      }
    }
    return fieldErr(f, "unknown name '%.*s'", iEnd-i > 16 ? 16 : iEnd-i, z+i);
  }
  while( i<iEnd && isdigit((unsigned char)z[i]) ){
    if( v<100000 ) v = v*10 + (z[i]-'0');
    i++; nDig++;
  }
  if( nDig==0 ){
    if( i<iEnd ) return fieldErr(f, "unexpected '%c'", z[i]);
    return fieldErr(f, "missing value");
  }
  if( v<lo || v>hi ) return fieldErr(f, "value %d out of range %d-%d", v, lo, hi);
  *pv = v; *pi = i;
  return 0;
}

/* Set bit v of the field's set (aBits: 64-bit words enough for any field). */
static void setBit(uint8_t *aSet, int v){ aSet[v] = 1; }

/*
** Parse one comma-list item z[i0..i1) into aSet[lo..hi].
*/
static int parseItem(FieldCtx *f, const char *z, int i0, int i1, uint8_t *aSet){
  int lo = aField[f->iField].lo, hi = aField[f->iField].hi;
  int a, b, step = 1, i = i0, bRange = 0, bStar = 0;
  if( i0==i1 ) return fieldErr(f, "empty list item");
  if( z[i]=='*' ){
    a = lo; b = hi; i++; bStar = 1;
  }else{
    if( parseValue(f, z, &i, i1, &a) ) return 1;
    b = a;
    if( i<i1 && z[i]=='-' ){
      i++;
      if( parseValue(f, z, &i, i1, &b) ) return 1;
      bRange = 1;
    }
  }
  if( i<i1 && z[i]=='/' ){
    int nDig = 0;
    if( !aField[f->iField].bStep ) return fieldErr(f, "'/' is not allowed in this field");
    i++;
    step = 0;
    while( i<i1 && isdigit((unsigned char)z[i]) ){
      if( step<100000 ) step = step*10 + (z[i]-'0');
      i++; nDig++;
    }
    if( nDig==0 ) return fieldErr(f, "'/' needs a step");
    if( step<1 ) return fieldErr(f, "step must be at least 1");
    if( !bRange && !bStar ) b = hi;       /* 'a/step' runs to the maximum */
  }
  if( i<i1 ){
    return fieldErr(f, "unexpected '%c'", z[i]);
  }
  if( a<=b ){
    int v;
    for(v=a; v<=b; v+=step) setBit(aSet, v);
  }else{
    /* Wrapping range: a..hi then lo..b, stepping through the cycle. */
    int nCycle = hi - lo + 1, k, nSpan;
    if( !aField[f->iField].bWrap ){
      return fieldErr(f, "range start %d is after its end %d", a, b);
    }
    nSpan = (b - lo) + (hi - a) + 1;       /* steps from a to b, wrapping */
    for(k=0; k<=nSpan; k+=step) setBit(aSet, lo + (a - lo + k) % nCycle);
  }
  return 0;
}

/* Parse a plain list field into aSet (indexed by value). */
static int parseList(FieldCtx *f, uint8_t *aSet){
  int i0 = 0, i;
  for(i=0; i<=f->n; i++){
    if( i==f->n || f->z[i]==',' ){
      if( parseItem(f, f->z, i0, i, aSet) ) return 1;
      i0 = i+1;
    }
  }
  return 0;
}

static int hasChar(const FieldCtx *f, char c){
  return memchr(f->z, c, (size_t)f->n)!=0;
}

/* Parse the Day-of-month field. */
static int parseDom(FieldCtx *f, TsSched *p){
  uint8_t aSet[32];
  int i;
  if( f->n==1 && f->z[0]=='?' ){ p->bDomAny = 1; return 0; }
  if( hasChar(f, 'L') || hasChar(f, 'l') || hasChar(f, 'W') || hasChar(f, 'w') ){
    if( hasChar(f, ',') ) return fieldErr(f, "'L' and 'W' cannot be combined with other values");
    if( f->n==1 && (f->z[0]=='L' || f->z[0]=='l') ){
      p->eDomSpecial = TS_DOM_L; p->iDomArg = 0; return 0;
    }
    if( f->n==2 && strncasecmp(f->z, "LW", 2)==0 ){
      p->eDomSpecial = TS_DOM_LW; return 0;
    }
    if( f->n>=3 && (f->z[0]=='L' || f->z[0]=='l') && f->z[1]=='-' ){
      int v = 0;
      for(i=2; i<f->n; i++){
        if( !isdigit((unsigned char)f->z[i]) ) return fieldErr(f, "'L-' needs a day count");
        if( v<1000 ) v = v*10 + (f->z[i]-'0');
      }
      if( v<1 || v>30 ) return fieldErr(f, "offset %d out of range 1-30", v);
      p->eDomSpecial = TS_DOM_L; p->iDomArg = v; return 0;
    }
    if( f->n>=2 && (f->z[f->n-1]=='W' || f->z[f->n-1]=='w') ){
      int j = 0, v;
      FieldCtx g = *f;
      if( parseValue(f, f->z, &j, f->n-1, &v) ) return 1;
      if( j!=f->n-1 ) return fieldErr(&g, "'W' needs a single day before it");
      p->eDomSpecial = TS_DOM_W; p->iDomArg = v; return 0;
    }
    return fieldErr(f, "invalid use of 'L' or 'W'");
  }
  if( hasChar(f, '#') ) return fieldErr(f, "'#' is only allowed in Day-of-week");
  if( hasChar(f, '?') ) return fieldErr(f, "'?' must stand alone");
  memset(aSet, 0, sizeof(aSet));
  if( parseList(f, aSet) ) return 1;
  p->eDomSpecial = TS_DOM_SET;
  for(i=1; i<=31; i++) if( aSet[i] ) p->mDom |= 1u<<i;
  return 0;
}

/* Parse the Day-of-week field. */
static int parseDow(FieldCtx *f, TsSched *p){
  uint8_t aSet[8];
  int i;
  const char *zHash;
  if( f->n==1 && f->z[0]=='?' ){ p->eDowSpecial = TS_DOW_SET; p->mDow = 0; return -1; }
  if( hasChar(f, 'W') || hasChar(f, 'w') ){
    /* 'WED' is a name; a bare W is the Day-of-month special. */
    int bName = 0;
    for(i=0; i+3<=f->n; i++) if( strncasecmp(f->z+i, "WED", 3)==0 ) bName = 1;
    if( !bName ) return fieldErr(f, "'W' is only allowed in Day-of-month");
  }
  if( hasChar(f, '?') ) return fieldErr(f, "'?' must stand alone");
  zHash = memchr(f->z, '#', (size_t)f->n);
  if( zHash ){
    int j = 0, v, k = 0, nDig = 0;
    int iHash = (int)(zHash - f->z);
    if( hasChar(f, ',') || hasChar(f, '-') || hasChar(f, '*') || hasChar(f, '/') ){
      return fieldErr(f, "only one '#' expression is allowed and it stands alone");
    }
    if( parseValue(f, f->z, &j, iHash, &v) ) return 1;
    if( j!=iHash ) return fieldErr(f, "'#' needs one day before it");
    for(j=iHash+1; j<f->n; j++){
      if( !isdigit((unsigned char)f->z[j]) ) return fieldErr(f, "'#' needs a number 1-5 after it");
      if( k<1000 ) k = k*10 + (f->z[j]-'0');
      nDig++;
    }
    if( nDig==0 || k<1 || k>5 ) return fieldErr(f, "'#' needs a number 1-5 after it");
    p->eDowSpecial = TS_DOW_NTH; p->iDowArg = v; p->iDowNth = k;
    return 0;
  }
  /* 'L' alone, or 'dL'.  Names contain no 'L' except JUL (a month), so an
  ** 'L' here is always the special. */
  if( hasChar(f, 'L') || hasChar(f, 'l') ){
    if( hasChar(f, ',') || hasChar(f, '-') || hasChar(f, '*') ){
      return fieldErr(f, "'L' cannot be combined with other values");
    }
    if( f->n==1 ){ p->eDowSpecial = TS_DOW_SET; p->mDow = 1u<<7; return 0; }
    if( f->z[f->n-1]=='L' || f->z[f->n-1]=='l' ){
      int j = 0, v;
      if( parseValue(f, f->z, &j, f->n-1, &v) ) return 1;
      if( j!=f->n-1 ) return fieldErr(f, "'L' needs a single day before it");
      p->eDowSpecial = TS_DOW_LAST; p->iDowArg = v;
      return 0;
    }
    return fieldErr(f, "invalid use of 'L'");
  }
  memset(aSet, 0, sizeof(aSet));
  if( parseList(f, aSet) ) return 1;
  p->eDowSpecial = TS_DOW_SET;
  for(i=1; i<=7; i++) if( aSet[i] ) p->mDow |= 1u<<i;
  return 0;
}

/* Parse a field of Minutes, Hours, Month or Year. */
static int parseSimple(FieldCtx *f, TsSched *p){
  uint8_t aSet[TS_SCHED_YEAR_MAX + 1];
  int i, lo = aField[f->iField].lo, hi = aField[f->iField].hi;
  if( hasChar(f, '?') ) return fieldErr(f, "'?' is only allowed in Day-of-month and Day-of-week");
  if( hasChar(f, '#') ) return fieldErr(f, "'#' is only allowed in Day-of-week");
  memset(aSet, 0, sizeof(aSet));
  if( parseList(f, aSet) ) return 1;
  for(i=lo; i<=hi; i++){
    if( !aSet[i] ) continue;
    switch( f->iField ){
      case F_MIN:   p->mMin |= 1ull<<i; break;
      case F_HOUR:  p->mHour |= 1u<<i; break;
      case F_MONTH: p->mMonth |= 1u<<i; break;
      default:      p->aYear[i - TS_SCHED_YEAR_MIN] = 1; break;
    }
  }
  return 0;
}

static int parseRate(const char *z, int n, TsSched *p, char *zErr, size_t nErr){
  int i = 0, iV0, nV;
  int64_t v = 0, unit = 0;
  int bOver = 0;
  const char *zU;
  int nU;
  while( i<n && z[i]==' ' ) i++;
  iV0 = i;
  while( i<n && isdigit((unsigned char)z[i]) ){
    if( v > INT64_MAX/10 - 10 ) bOver = 1; else v = v*10 + (z[i]-'0');
    i++;
  }
  nV = i - iV0;
  if( nV==0 || (i<n && z[i]!=' ') ){
    int j = iV0;
    while( j<n && z[j]!=' ' ) j++;
    snprintf(zErr, nErr, "rate value '%.*s': must be a positive integer",
             j-iV0 > 32 ? 32 : j-iV0, z+iV0);
    return 1;
  }
  if( v==0 ){
    snprintf(zErr, nErr, "rate value '%.*s': must be a positive integer", nV, z+iV0);
    return 1;
  }
  while( i<n && z[i]==' ' ) i++;
  zU = z+i; nU = n-i;
  while( nU>0 && zU[nU-1]==' ' ) nU--;
  if( nU==0 ){
    snprintf(zErr, nErr, "rate unit missing: expected minute(s), hour(s) or day(s)");
    return 1;
  }
  {
    static const struct { const char *z; int64_t ns; } aUnit[] = {
      { "minute", TS_NS_PER_MIN }, { "hour", TS_NS_PER_HOUR }, { "day", TS_NS_PER_DAY },
    };
    size_t k;
    for(k=0; k<sizeof(aUnit)/sizeof(aUnit[0]); k++){
      int nBase = (int)strlen(aUnit[k].z);
      if( strncmp(zU, aUnit[k].z, (size_t)nBase)!=0 ) continue;
      if( nU==nBase || (nU==nBase+1 && zU[nBase]=='s') ){
        int bPlural = nU==nBase+1;
        if( v==1 && bPlural ){
          snprintf(zErr, nErr, "rate unit '%.*s': a value of 1 needs the singular '%s'",
                   nU, zU, aUnit[k].z);
          return 1;
        }
        if( v!=1 && !bPlural ){
          snprintf(zErr, nErr, "rate unit '%.*s': a value other than 1 needs the plural '%ss'",
                   nU, zU, aUnit[k].z);
          return 1;
        }
        unit = aUnit[k].ns;
      }
    }
  }
  if( unit==0 ){
    snprintf(zErr, nErr, "rate unit '%.*s': expected minute(s), hour(s) or day(s)",
             nU > 32 ? 32 : nU, zU);
    return 1;
  }
  if( bOver || v > INT64_MAX/unit/2 ){
    snprintf(zErr, nErr, "rate value '%.*s': too large", nV > 32 ? 32 : nV, z+iV0);
    return 1;
  }
  p->eKind = TS_SCHED_RATE;
  p->iRateNs = v*unit;
  return 0;
}

int tsSchedParse(const char *z, TsSched *p, char *zErr, size_t nErr){
  int n, i;
  memset(p, 0, sizeof(*p));
  if( nErr ) zErr[0] = 0;
  if( z==0 ){
    snprintf(zErr, nErr, "schedule expression is NULL");
    return 1;
  }
  while( *z==' ' ) z++;
  n = (int)strlen(z);
  while( n>0 && z[n-1]==' ' ) n--;
  if( n>256 ){
    snprintf(zErr, nErr, "schedule expression longer than 256 characters");
    return 1;
  }
  if( n<6 || z[n-1]!=')' || (strncmp(z, "cron(", 5)!=0 && strncmp(z, "rate(", 5)!=0) ){
    snprintf(zErr, nErr, "schedule expression '%.*s': expected cron(...) or rate(...)",
             n > 64 ? 64 : n, z);
    return 1;
  }
  if( z[0]=='r' ) return parseRate(z+5, n-6, p, zErr, nErr);
  {
    const char *zBody = z+5;
    int nBody = n-6, iField = 0, aStart[N_FIELD], aLen[N_FIELD];
    int bDowAny = 0, rc;
    FieldCtx f;
    for(i=0; i<nBody; ){
      while( i<nBody && (zBody[i]==' ' || zBody[i]=='\t') ) i++;
      if( i>=nBody ) break;
      if( iField==N_FIELD ){
        snprintf(zErr, nErr, "cron expression has more than 6 fields "
                 "(Minutes Hours Day-of-month Month Day-of-week Year)");
        return 1;
      }
      aStart[iField] = i;
      while( i<nBody && zBody[i]!=' ' && zBody[i]!='\t' ) i++;
      aLen[iField] = i - aStart[iField];
      iField++;
    }
    if( iField<N_FIELD ){
      snprintf(zErr, nErr, "cron expression has %d field%s, needs 6 "
               "(Minutes Hours Day-of-month Month Day-of-week Year)", iField, iField==1?"":"s");
      return 1;
    }
    p->eKind = TS_SCHED_CRON;
    for(i=0; i<N_FIELD; i++){
      f.iField = i; f.z = zBody + aStart[i]; f.n = aLen[i]; f.zErr = zErr; f.nErr = nErr;
      switch( i ){
        case F_DOM: rc = parseDom(&f, p); break;
        case F_DOW: rc = parseDow(&f, p); if( rc<0 ){ bDowAny = 1; rc = 0; } break;
        default:    rc = parseSimple(&f, p); break;
      }
      if( rc ) return 1;
    }
    if( p->bDomAny==bDowAny ){
      f.iField = F_DOW; f.z = zBody + aStart[F_DOW]; f.n = aLen[F_DOW];
      fieldErr(&f, p->bDomAny
               ? "Day-of-month and Day-of-week cannot both be '?'"
               : "one of Day-of-month and Day-of-week must be '?'");
      return 1;
    }
  }
  return 0;
}

static int daysInMonth(int64_t y, unsigned m){
  static const int a[12] = {31,28,31,30,31,30,31,31,30,31,30,31};
  if( m==2 && ((y%4==0 && y%100!=0) || y%400==0) ) return 29;
  return a[m-1];
}

/* Day of week of a day number (days since 1970-01-01): 1 = SUN .. 7 = SAT. */
static int weekday(int64_t iDay){
  return (int)tsFloorMod(iDay + 4, 7) + 1;   /* 1970-01-01 was a Thursday */
}

/* Does day d of month m of year y fire? */
static int dayMatches(const TsSched *p, int64_t y, unsigned m, int d){
  int nDays = daysInMonth(y, m);
  int64_t iFirst = tsDaysFromCivil(y, m, 1);
  int wd = weekday(iFirst + d - 1);
  if( p->bDomAny ){
    switch( p->eDowSpecial ){
      case TS_DOW_LAST: return wd==p->iDowArg && d+7>nDays;
      case TS_DOW_NTH:  return wd==p->iDowArg && (d-1)/7+1==p->iDowNth;
      default:          return (p->mDow>>wd) & 1;
    }
  }
  switch( p->eDomSpecial ){
    case TS_DOM_L:
      return d==nDays - p->iDomArg;
    case TS_DOM_LW: {
      int last = nDays, wl = weekday(iFirst + nDays - 1);
      if( wl==7 ) last -= 1; else if( wl==1 ) last -= 2;
      return d==last;
    }
    case TS_DOM_W: {
      int n = p->iDomArg, t = n, wn;
      if( n>nDays ) return 0;
      wn = weekday(iFirst + n - 1);
      if( wn==7 ) t = n==1 ? 3 : n-1;               /* Saturday */
      else if( wn==1 ) t = n==nDays ? n-2 : n+1;    /* Sunday */
      return d==t;
    }
    default:
      return (p->mDom>>d) & 1;
  }
}

int tsSchedNext(const TsSched *p, int64_t iAfter, int64_t *piNext){
  int64_t iMin;     /* candidate, whole minutes since the epoch */
  int64_t iMaxMin = INT64_MAX / TS_NS_PER_MIN;
  if( p->eKind==TS_SCHED_RATE ){
    if( iAfter > INT64_MAX - p->iRateNs ) return 1;
    *piNext = iAfter + p->iRateNs;
    return 0;
  }
  iMin = tsFloorDiv(iAfter, TS_NS_PER_MIN) + 1;
  for(;;){
    int64_t iDay = tsFloorDiv(iMin, 1440), y;
    int iMinOfDay = (int)(iMin - iDay*1440);
    int h = iMinOfDay/60, mi = iMinOfDay%60;
    unsigned m, d;
    if( iMin >= iMaxMin ) return 1;
    tsCivilFromDays(iDay, &y, &m, &d);
    if( y<TS_SCHED_YEAR_MIN ){
      iMin = tsDaysFromCivil(TS_SCHED_YEAR_MIN, 1, 1)*1440;
      continue;
    }
    if( y>TS_SCHED_YEAR_MAX ) return 1;
    if( !p->aYear[y - TS_SCHED_YEAR_MIN] ){
      iMin = tsDaysFromCivil(y+1, 1, 1)*1440;
      continue;
    }
    if( !((p->mMonth>>m) & 1) ){
      iMin = (m==12 ? tsDaysFromCivil(y+1, 1, 1) : tsDaysFromCivil(y, m+1, 1))*1440;
      continue;
    }
    if( !dayMatches(p, y, m, (int)d) ){
      iMin = (iDay+1)*1440;
      continue;
    }
    if( !((p->mHour>>h) & 1) ){
      iMin = iDay*1440 + (h+1)*60;
      continue;
    }
    if( !((p->mMin>>mi) & 1) ){
      iMin++;
      continue;
    }
    *piNext = iMin * TS_NS_PER_MIN;
    return 0;
  }
}
