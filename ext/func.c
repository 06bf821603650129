/*
** func.c: registration of the time, time-series and aggregate SQL functions
** (func_time.c, func_series.c, func_agg.c) and the argument readers they
** share.
**
** Conventions of every function here:
**   - a NULL argument gives a NULL result (aggregates skip NULL rows), except
**     where the function documents otherwise (create_time_series rejects a
**     NULL value, as Timestream does);
**   - timestamps are INTEGER ns since 1970-01-01T00:00:00Z; TEXT in ISO-8601
**     is accepted wherever a timestamp is expected; results that are
**     timestamps are INTEGER ns;
**   - intervals are TEXT literals ('1h', '42.8ms', '10day') or INTEGER ns;
**   - an error message starts with the function's name;
**   - arithmetic on times is checked: a result outside the int64 ns range is
**     an error, never a wrapped value.
*/
#include "tslite.h"
#include <math.h>
#include <stdarg.h>

void tsFuncError(sqlite3_context *ctx, const char *zFmt, ...){
  va_list ap;
  char *z;
  va_start(ap, zFmt);
  z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if( z==0 ){
    sqlite3_result_error_nomem(ctx);
  }else{
    sqlite3_result_error(ctx, z, -1);
    sqlite3_free(z);
  }
}

static const char *typeName(int eType){
  switch( eType ){
    case SQLITE_INTEGER: return "INTEGER";
    case SQLITE_FLOAT:   return "REAL";
    case SQLITE_TEXT:    return "TEXT";
    case SQLITE_BLOB:    return "BLOB";
    default:             return "NULL";
  }
}

/* A REAL that holds a whole number inside the int64 range. */
static int realToInt(double r, int64_t *pv){
  if( !(r>=-9223372036854775808.0 && r<9223372036854775808.0) ) return 1;
  if( r!=floor(r) ) return 1;
  *pv = (int64_t)r;
  return 0;
}

int tsFuncArgInt(sqlite3_context *ctx, const char *zFunc, const char *zWhat,
                 sqlite3_value *v, int64_t *pv){
  switch( sqlite3_value_type(v) ){
    case SQLITE_NULL:
      return TS_ARG_NULL;
    case SQLITE_INTEGER:
      *pv = sqlite3_value_int64(v);
      return TS_ARG_OK;
    case SQLITE_FLOAT:
      if( realToInt(sqlite3_value_double(v), pv)==0 ) return TS_ARG_OK;
      tsFuncError(ctx, "%s: %s must be a whole number, got %!.15g",
                  zFunc, zWhat, sqlite3_value_double(v));
      return TS_ARG_ERROR;
    default:
      tsFuncError(ctx, "%s: %s must be an INTEGER, got %s",
                  zFunc, zWhat, typeName(sqlite3_value_type(v)));
      return TS_ARG_ERROR;
  }
}

int tsFuncArgTime(sqlite3_context *ctx, const char *zFunc, sqlite3_value *v, int64_t *pv){
  switch( sqlite3_value_type(v) ){
    case SQLITE_NULL:
      return TS_ARG_NULL;
    case SQLITE_INTEGER:
      *pv = sqlite3_value_int64(v);
      return TS_ARG_OK;
    case SQLITE_FLOAT:
      if( realToInt(sqlite3_value_double(v), pv)==0 ) return TS_ARG_OK;
      tsFuncError(ctx, "%s: invalid timestamp %!.15g: expected INTEGER ns or ISO-8601 text",
                  zFunc, sqlite3_value_double(v));
      return TS_ARG_ERROR;
    case SQLITE_TEXT: {
      const char *z = (const char*)sqlite3_value_text(v);
      int rc = tsTimeParseIso(z, sqlite3_value_bytes(v), pv);
      if( rc==TS_TIME_OK ) return TS_ARG_OK;
      tsFuncError(ctx, "%s: invalid timestamp '%.100s': %s", zFunc, z,
          rc==TS_TIME_RANGE
            ? "outside the int64 nanosecond range (1677-09-21 .. 2262-04-11)"
            : "expected INTEGER ns or ISO-8601 text like '2024-05-01T12:00:00Z'");
      return TS_ARG_ERROR;
    }
    default:
      tsFuncError(ctx, "%s: invalid timestamp: expected INTEGER ns or ISO-8601 text, got BLOB",
                  zFunc);
      return TS_ARG_ERROR;
  }
}

int tsFuncArgInterval(sqlite3_context *ctx, const char *zFunc, sqlite3_value *v, int64_t *pv){
  switch( sqlite3_value_type(v) ){
    case SQLITE_NULL:
      return TS_ARG_NULL;
    case SQLITE_INTEGER:
      *pv = sqlite3_value_int64(v);
      return TS_ARG_OK;
    case SQLITE_TEXT: {
      const char *z = (const char*)sqlite3_value_text(v);
      const char *zWhy = 0;
      switch( tsIntervalParse(z, sqlite3_value_bytes(v), pv) ){
        case TS_TIME_OK: return TS_ARG_OK;
        case TS_TIME_RANGE: zWhy = "out of the int64 nanosecond range"; break;
        case TS_TIME_CALENDAR:
          zWhy = "year and month have no fixed length (use date_add)"; break;
        case TS_TIME_FRACTION: zWhy = "not a whole number of nanoseconds"; break;
        default:
          zWhy = "expected a number and a unit without spaces, unit one of "
                 "ns us ms s m h d nanosecond microsecond millisecond second "
                 "minute hour day";
          break;
      }
      tsFuncError(ctx, "%s: invalid interval '%.100s': %s", zFunc, z, zWhy);
      return TS_ARG_ERROR;
    }
    default:
      tsFuncError(ctx, "%s: invalid interval: expected TEXT like '1h' or INTEGER ns, got %s",
                  zFunc, typeName(sqlite3_value_type(v)));
      return TS_ARG_ERROR;
  }
}

int tsFuncRegister(sqlite3 *db, TsEnv *pEnv){
  int rc = tsFuncTimeRegister(db, pEnv);
  if( rc==SQLITE_OK ) rc = tsFuncSeriesRegister(db, pEnv);
  if( rc==SQLITE_OK ) rc = tsFuncAggRegister(db, pEnv);
  return rc;
}
