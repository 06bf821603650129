/*
** tt.h: the tiny C unit-test harness.  Each check prints "PASS name" or
** "FAIL name: file:line: detail" (the protocol of tests/run.sh); main()
** returns tt_done().  Usage:
**
**   TT_CHECK("interval 1h", rc==0 && v==3600000000000LL);
**   TT_EQ_I64("bin 5m", got, expected);
**   TT_EQ_STR("iso", zGot, "2024-01-01T00:00:00.000000000Z");
*/
#ifndef TT_H
#define TT_H
#include <stdio.h>
#include <string.h>
#include <stdint.h>

static int tt_nFail = 0;
static int tt_nPass = 0;

#define TT_CHECK(name, cond) do{ \
  if( cond ){ tt_nPass++; printf("PASS %s\n", (name)); } \
  else { tt_nFail++; printf("FAIL %s: %s:%d: %s\n", (name), __FILE__, __LINE__, #cond); } \
}while(0)

#define TT_EQ_I64(name, got, exp) do{ \
  long long tt_g = (long long)(got), tt_e = (long long)(exp); \
  if( tt_g==tt_e ){ tt_nPass++; printf("PASS %s\n", (name)); } \
  else { tt_nFail++; printf("FAIL %s: %s:%d: got %lld, expected %lld\n", (name), __FILE__, __LINE__, tt_g, tt_e); } \
}while(0)

#define TT_EQ_STR(name, got, exp) do{ \
  const char *tt_g = (got), *tt_e = (exp); \
  if( tt_g && tt_e && strcmp(tt_g, tt_e)==0 ){ tt_nPass++; printf("PASS %s\n", (name)); } \
  else { tt_nFail++; printf("FAIL %s: %s:%d: got [%s], expected [%s]\n", (name), __FILE__, __LINE__, tt_g?tt_g:"(null)", tt_e?tt_e:"(null)"); } \
}while(0)

static inline int tt_done(void){ return tt_nFail ? 1 : 0; }
#endif
