/*
** test_chunk.c: unit tests of the chunk codec (ext/codec/chunk.c).
**
** Round trips of every type with NULL patterns, 1 and TS_CHUNK_MAX_ROWS
** rows, regular and irregular times, extreme integers and doubles (bit for
** bit, -0.0, subnormals, NaN/Inf); header-only statistics; bad arguments;
** corrupt input (every truncation, random byte flips) giving
** TS_CHUNK_CORRUPT or a valid decode, never a crash; compression ratios on
** deterministic TSBS-like data (lines starting "INFO " report the figures).
*/
#include "chunk.h"
#include "tt.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int bSanitize = 0;
/* testEncoderPinned: measured with the planner of main at d828d08 */
#define PIN_BYTES 279204
#define PIN_DIGEST 0x3707029011d8d986ULL

#include "trng.h"   /* deterministic PRNG: rnd, rndUnit, rndNormal */
static uint64_t bitsOf(double r){ uint64_t u; memcpy(&u, &r, 8); return u; }
static double dblOf(uint64_t u){ double r; memcpy(&r, &u, 8); return r; }

/* A column with its own storage. */
typedef struct Col Col;
struct Col {
  TsChunkCol c;
  uint8_t *aNull;
  double *aDouble;
  int64_t *aInt;
  char **azText;
  int *anText;
};

static void colAlloc(Col *p, int eType, int nRow){
  memset(p, 0, sizeof(*p));
  p->c.eType = eType;
  p->aNull = calloc((size_t)nRow, 1);
  p->aDouble = calloc((size_t)nRow, sizeof(double));
  p->aInt = calloc((size_t)nRow, sizeof(int64_t));
  p->azText = calloc((size_t)nRow, sizeof(char*));
  p->anText = calloc((size_t)nRow, sizeof(int));
  p->c.aNull = p->aNull;
  p->c.aDouble = p->aDouble;
  p->c.aInt = p->aInt;
  p->c.azText = (const char *const *)p->azText;
  p->c.anText = p->anText;
}

static void colFree(Col *p, int nRow){
  int i;
  for(i=0; i<nRow; i++) free(p->azText[i]);
  free(p->aNull); free(p->aDouble); free(p->aInt); free(p->azText); free(p->anText);
}

static void colSetText(Col *p, int i, const char *z, int n){
  free(p->azText[i]);
  p->azText[i] = malloc((size_t)n + 1);
  memcpy(p->azText[i], z, (size_t)n);
  p->azText[i][n] = 0;
  p->anText[i] = n;
}

/* Expected statistics, computed independently of the codec. */
static void statExpected(const TsChunkCol *c, int nRow, TsChunkStat *s){
  int i, bFirst = 1;
  __int128 sum = 0;
  memset(s, 0, sizeof(*s));
  for(i=0; i<nRow; i++){
    if( c->aNull && c->aNull[i] ) continue;
    s->nValue++;
    if( c->eType==TS_TYPE_DOUBLE ){
      double r = c->aDouble[i];
      if( bFirst ){ s->rMin = s->rMax = r; }
      if( r<s->rMin ) s->rMin = r;
      if( r>s->rMax ) s->rMax = r;
      s->rSum += r;
    }else if( c->eType!=TS_TYPE_VARCHAR ){
      int64_t v = c->aInt[i];
      if( c->eType==TS_TYPE_BOOLEAN ) v = v!=0;
      if( bFirst ){ s->iMin = s->iMax = v; }
      if( v<s->iMin ) s->iMin = v;
      if( v>s->iMax ) s->iMax = v;
      sum += v;
    }
    bFirst = 0;
  }
  if( c->eType!=TS_TYPE_DOUBLE && c->eType!=TS_TYPE_VARCHAR ) s->rSum = (double)sum;
}

/* Compare a decoded column with the input; returns a description of the
** first difference, or NULL. */
static const char *colDiff(const TsChunkCol *pIn, const TsChunkCol *pOut, int nRow){
  int i;
  if( pOut->eType!=pIn->eType ) return "type";
  for(i=0; i<nRow; i++){
    int bNullIn = pIn->aNull && pIn->aNull[i];
    int bNullOut = pOut->aNull && pOut->aNull[i];
    if( bNullIn!=bNullOut ) return "null flag";
    if( bNullIn ) continue;
    switch( pIn->eType ){
      case TS_TYPE_DOUBLE:
        if( bitsOf(pIn->aDouble[i])!=bitsOf(pOut->aDouble[i]) ) return "double bits";
        break;
      case TS_TYPE_BOOLEAN:
        if( (pIn->aInt[i]!=0)!=pOut->aInt[i] ) return "boolean";
        break;
      case TS_TYPE_VARCHAR:
        if( pIn->anText[i]!=pOut->anText[i] ) return "text length";
        if( pIn->anText[i] && memcmp(pIn->azText[i], pOut->azText[i], (size_t)pIn->anText[i]) ) return "text bytes";
        break;
      default:
        if( pIn->aInt[i]!=pOut->aInt[i] ) return "integer";
        break;
    }
  }
  return 0;
}

/* Encode, check header stats, decode everything and compare.  Returns the
** blob size, or 0 after reporting a failure. */
static size_t roundTrip(const char *zName, int nRow, const int64_t *aTime,
                        const int64_t *aVer, int nCol, const TsChunkCol *aCol,
                        TsBuf *pBlob){
  TsBuf buf;
  TsChunkInfo info;
  TsChunkStat *aStat;
  TsChunkReader *pRd = 0;
  const int64_t *aT, *aV;
  char zMsg[200];
  const char *zErr = 0;
  int rc, i;
  size_t nByte = 0;

  tsBufInit(&buf);
  rc = tsChunkEncode(nRow, aTime, aVer, nCol, aCol, &buf);
  if( rc ){ snprintf(zMsg, sizeof(zMsg), "encode rc=%d", rc); zErr = zMsg; goto done; }
  aStat = calloc((size_t)nCol + 1, sizeof(TsChunkStat));
  rc = tsChunkInfoGet(buf.a, buf.n, &info, aStat, nCol);
  if( rc ){ zErr = "info rc"; free(aStat); goto done; }
  if( info.nRow!=nRow || info.nCol!=nCol || info.tMin!=aTime[0] || info.tMax!=aTime[nRow-1] ){
    zErr = "info fields"; free(aStat); goto done;
  }
  for(i=0; i<nCol && !zErr; i++){
    TsChunkStat e;
    statExpected(&aCol[i], nRow, &e);
    if( e.nValue!=aStat[i].nValue ) zErr = "stat nValue";
    else if( e.nValue==0 || aCol[i].eType==TS_TYPE_VARCHAR ) continue;
    else if( aCol[i].eType==TS_TYPE_DOUBLE ){
      if( bitsOf(e.rMin)!=bitsOf(aStat[i].rMin) || bitsOf(e.rMax)!=bitsOf(aStat[i].rMax) ) zErr = "stat rMin/rMax";
      else if( bitsOf(e.rSum)!=bitsOf(aStat[i].rSum) ) zErr = "stat rSum";
    }else{
      if( e.iMin!=aStat[i].iMin || e.iMax!=aStat[i].iMax ) zErr = "stat iMin/iMax";
      else if( bitsOf(e.rSum)!=bitsOf(aStat[i].rSum) ) zErr = "stat rSum (int)";
    }
  }
  free(aStat);
  if( zErr ) goto done;
  rc = tsChunkVerify(buf.a, buf.n, zMsg, sizeof(zMsg));
  if( rc ){ zErr = zMsg; goto done; }
  rc = tsChunkReaderOpen(buf.a, buf.n, &pRd);
  if( rc ){ zErr = "reader open"; goto done; }
  if( tsChunkReaderInfo(pRd)->nRow!=nRow ){ zErr = "reader info"; goto done; }
  if( tsChunkReadTime(pRd, &aT) ){ zErr = "read time"; goto done; }
  for(i=0; i<nRow; i++) if( aT[i]!=aTime[i] ){ zErr = "time value"; goto done; }
  if( tsChunkReadVersion(pRd, &aV) ){ zErr = "read version"; goto done; }
  for(i=0; i<nRow; i++) if( aV[i]!=(aVer ? aVer[i] : 1) ){ zErr = "version value"; goto done; }
  /* Decode columns in reverse order, then one twice (re-decode is allowed). */
  for(i=nCol-1; i>=0; i--){
    TsChunkCol out;
    const char *zD;
    if( tsChunkReadCol(pRd, i, &out) ){ zErr = "read col"; goto done; }
    zD = colDiff(&aCol[i], &out, nRow);
    if( zD ){ snprintf(zMsg, sizeof(zMsg), "col %d: %s", i, zD); zErr = zMsg; goto done; }
  }
  if( nCol>0 ){
    TsChunkCol out, out2;
    if( tsChunkReadCol(pRd, 0, &out) || colDiff(&aCol[0], &out, nRow) ){ zErr = "re-decode"; goto done; }
    if( tsChunkReadCol(pRd, 0, &out2) || memcmp(&out, &out2, sizeof(out)) ){
      zErr = "second read of a column returns the cached arrays"; goto done;
    }
  }
  nByte = buf.n;
done:
  tsChunkReaderFree(pRd);
  if( zErr ){
    printf("FAIL %s: %s\n", zName, zErr);
    tt_nFail++;
    nByte = 0;
  }else{
    tt_nPass++;
    printf("PASS %s\n", zName);
  }
  if( pBlob && nByte ){ tsBufAppend(pBlob, buf.a, buf.n); }
  tsBufFree(&buf);
  return nByte;
}

static int64_t *timesRegular(int n, int64_t t0, int64_t dt){
  int64_t *a = malloc(sizeof(int64_t)*(size_t)n);
  int i;
  for(i=0; i<n; i++) a[i] = t0 + dt*i;
  return a;
}

/* Fill a column of the given type with a value pattern. */
static void fillCol(Col *p, int nRow, int ePattern){
  int i;
  char z[64];
  for(i=0; i<nRow; i++){
    uint64_t r = rnd();
    switch( p->c.eType ){
      case TS_TYPE_DOUBLE:
        switch( ePattern ){
          case 0: p->aDouble[i] = (double)(r % 101); break;
          case 1: p->aDouble[i] = rndNormal()*1e3; break;
          case 2: { /* arbitrary bit patterns, no NaN */
            double d = dblOf(r);
            if( isnan(d) ) d = 1.5;
            p->aDouble[i] = d;
            break;
          }
          default: p->aDouble[i] = (double)((int64_t)(r % 100000) - 50000) / 100.0; break;
        }
        break;
      case TS_TYPE_VARCHAR: {
        int n = ePattern==0 ? snprintf(z, sizeof(z), "host_%d", (int)(r % 7))
                            : snprintf(z, sizeof(z), "v%llu", (unsigned long long)r);
        if( r % 13==0 ) n = 0;   /* some empty strings */
        colSetText(p, i, z, n);
        break;
      }
      case TS_TYPE_BOOLEAN:
        p->aInt[i] = ePattern==0 ? 1 : (int64_t)(r & 1);
        break;
      default:
        switch( ePattern ){
          case 0: p->aInt[i] = (int64_t)(r % 1000); break;
          case 1: p->aInt[i] = (int64_t)r; break;  /* full range */
          default: p->aInt[i] = 1000000 + i*7; break;
        }
        break;
    }
  }
}

static void nullPattern(uint8_t *a, int nRow, int eNull){
  int i;
  for(i=0; i<nRow; i++){
    switch( eNull ){
      case 0: a[i] = 0; break;               /* none */
      case 1: a[i] = 1; break;               /* all */
      case 2: a[i] = i & 1; break;           /* alternate */
      case 3: a[i] = i==0; break;            /* first */
      case 4: a[i] = i==nRow-1; break;       /* last */
      default: a[i] = (rnd() % 10)==0; break;/* random 10% */
    }
  }
}

static const int aType[] = { TS_TYPE_DOUBLE, TS_TYPE_BIGINT, TS_TYPE_VARCHAR,
                             TS_TYPE_BOOLEAN, TS_TYPE_TIMESTAMP };
static const char *azType[] = { "double", "bigint", "varchar", "boolean", "timestamp" };

static void testTypesAndNulls(void){
  int nRowCase[] = { 1, 2, 3, 7, 8, 9, 127, 128, 129, 1000 };
  int iN, t, eNull, ePat;
  char zName[128];
  for(iN=0; iN<(int)(sizeof(nRowCase)/sizeof(nRowCase[0])); iN++){
    int nRow = nRowCase[iN];
    int64_t *aTime = timesRegular(nRow, 1700000000000000000LL, 10000000000LL);
    for(t=0; t<5; t++){
      for(eNull=0; eNull<6; eNull++){
        for(ePat=0; ePat<4; ePat++){
          Col c;
          colAlloc(&c, aType[t], nRow);
          fillCol(&c, nRow, ePat);
          nullPattern(c.aNull, nRow, eNull);
          snprintf(zName, sizeof(zName), "roundtrip %s rows=%d nulls=%d pattern=%d",
                   azType[t], nRow, eNull, ePat);
          roundTrip(zName, nRow, aTime, 0, 1, &c.c, 0);
          colFree(&c, nRow);
        }
      }
    }
    free(aTime);
  }
}

/* All five types together, plus aNull==NULL arrays. */
static void testMultiCol(void){
  int nRow = 500, i;
  int64_t *aTime = malloc(sizeof(int64_t)*nRow);
  int64_t *aVer = malloc(sizeof(int64_t)*nRow);
  Col c[5];
  TsChunkCol ac[5];
  int64_t t = -5000000000LL;
  for(i=0; i<nRow; i++){
    t += 1 + (int64_t)(rnd() % 3000000000ULL);   /* irregular */
    aTime[i] = t;
    aVer[i] = i<250 ? 1 : 7 + (i>400);
  }
  for(i=0; i<5; i++){
    colAlloc(&c[i], aType[i], nRow);
    fillCol(&c[i], nRow, 1);
    ac[i] = c[i].c;
    if( i%2 ) ac[i].aNull = 0;
    else nullPattern(c[i].aNull, nRow, 5);
  }
  roundTrip("multi-column irregular times and versions", nRow, aTime, aVer, 5, ac, 0);
  for(i=0; i<nRow; i++) aVer[i] = (int64_t)rnd();
  roundTrip("multi-column random versions", nRow, aTime, aVer, 5, ac, 0);
  roundTrip("zero columns", nRow, aTime, aVer, 0, 0, 0);
  for(i=0; i<5; i++) colFree(&c[i], nRow);
  free(aTime); free(aVer);
}

static void testTimes(void){
  int nRow = 1000, i;
  int64_t *aTime = malloc(sizeof(int64_t)*TS_CHUNK_MAX_ROWS);
  Col c;
  size_t n;
  char zName[100];
  colAlloc(&c, TS_TYPE_BIGINT, TS_CHUNK_MAX_ROWS);
  /* Extremes of the int64 range. */
  aTime[0] = INT64_MIN; aTime[1] = -1; aTime[2] = 0; aTime[3] = INT64_MAX;
  c.aInt[0] = INT64_MAX; c.aInt[1] = INT64_MIN; c.aInt[2] = 0; c.aInt[3] = -1;
  roundTrip("times INT64_MIN..INT64_MAX, extreme ints", 4, aTime, 0, 1, &c.c, 0);
  aTime[0] = INT64_MIN; aTime[1] = INT64_MAX;
  roundTrip("two rows spanning all of int64", 2, aTime, aTime, 1, &c.c, 0);
  /* Jittered 10 s interval. */
  for(i=0; i<nRow; i++){
    aTime[i] = 1500000000000000000LL + 10000000000LL*i + (int64_t)(rnd() % 1000000);
    c.aInt[i] = i;
  }
  n = roundTrip("jittered 10 s times", nRow, aTime, 0, 1, &c.c, 0);
  printf("INFO jittered-times chunk 1000 rows + 1 counter column: %zu bytes\n", n);
  /* Jittered at millisecond precision (typical of devices): the deltas
  ** share the factor 10^6. */
  for(i=0; i<nRow; i++){
    aTime[i] = 1500000000000000000LL + 10000000000LL*i + 1000000LL*(int64_t)(rnd() % 200);
    c.aInt[i] = i;
  }
  n = roundTrip("ms-precision jittered 10 s times", nRow, aTime, 0, 1, &c.c, 0);
  printf("INFO ms-precision jittered times, chunk 1000 rows + 1 counter column: %zu bytes\n", n);
  TT_CHECK("ms-precision times cost about a byte per row", n>0 && n<1400);
  /* Second precision, irregular (event data). */
  for(i=0; i<nRow; i++){
    aTime[i] = (i ? aTime[i-1] : 1500000000000000000LL) + 1000000000LL*(1 + (int64_t)(rnd() % 600));
  }
  n = roundTrip("s-precision irregular times", nRow, aTime, 0, 1, &c.c, 0);
  printf("INFO s-precision irregular times (1..600 s apart), chunk 1000 rows + 1 counter column: %zu bytes\n", n);
  /* BIGINT multiples of 4096 around an offset, negative too (GCD mode). */
  {
    TsBuf b1, b2;
    for(i=0; i<nRow; i++){
      aTime[i] = i;
      c.aInt[i] = 7 + 4096*((int64_t)(rnd() % 2001) - 1000);
    }
    roundTrip("BIGINT 7 + 4096*k", nRow, aTime, 0, 1, &c.c, 0);
    tsBufInit(&b1); tsBufInit(&b2);
    tsChunkEncode(nRow, aTime, 0, 1, &c.c, &b1);
    c.aInt[5] += 1;   /* breaks the common factor */
    tsChunkEncode(nRow, aTime, 0, 1, &c.c, &b2);
    roundTrip("BIGINT 7 + 4096*k with one exception", nRow, aTime, 0, 1, &c.c, 0);
    TT_CHECK("common factor saves >= 1 byte per value", b1.n + 1000 <= b2.n);
    c.aInt[0] = INT64_MIN; c.aInt[1] = INT64_MAX - 1; c.aInt[2] = 0;
    for(i=3; i<nRow; i++) c.aInt[i] = 2*(int64_t)(rnd() % 1000);
    roundTrip("BIGINT even values spanning int64 (no GCD: overflow)", nRow, aTime, 0, 1, &c.c, 0);
    c.aInt[0] = INT64_MIN; c.aInt[1] = INT64_MIN + 6; c.aInt[2] = 0;
    roundTrip("BIGINT even values from INT64_MIN", nRow, aTime, 0, 1, &c.c, 0);
    tsBufFree(&b1); tsBufFree(&b2);
  }
  /* Regular: the time payload should be tiny. */
  for(i=0; i<nRow; i++) aTime[i] = 1500000000000000000LL + 10000000000LL*i;
  n = roundTrip("regular 10 s times", nRow, aTime, 0, 0, 0, 0);
  TT_CHECK("regular times compress to a few bytes", n>0 && n<64);
  printf("INFO regular-times chunk 1000 rows, no column: %zu bytes\n", n);
  /* Growing deltas (delta-of-delta constant). */
  for(i=0; i<nRow; i++) aTime[i] = (int64_t)i*i*1000;
  roundTrip("quadratic times", nRow, aTime, 0, 1, &c.c, 0);
  /* Small deltas with rare huge outliers: Rice blocks with escapes must
  ** keep this far below bit packing's 50+ bits per value in those blocks. */
  {
    int64_t v = 0;
    for(i=0; i<nRow; i++){
      aTime[i] = 1000LL*i;
      v += (int64_t)(rnd()%3) - 1;
      c.aInt[i] = (i==100 || i==500 || i==900) ? v + ((int64_t)1<<50) * (i==500 ? -1 : 1) : v;
      c.aNull[i] = 0;
    }
    n = roundTrip("small deltas with huge outliers (Rice escapes)", nRow, aTime, 0, 1, &c.c, 0);
    printf("INFO 1000 BIGINT deltas in -1..1 with 3 outliers of 2^50: %zu bytes\n", n);
    TT_CHECK("outliers cost little (bit packing: > 2000 bytes)", n>0 && n<500);
    c.aInt[0] = INT64_MIN; c.aInt[1] = INT64_MAX; c.aInt[2] = INT64_MIN;
    roundTrip("Rice escapes with the full int64 range", nRow, aTime, 0, 1, &c.c, 0);
  }
  /* Maximum rows with random values and NULLs. */
  for(i=0; i<TS_CHUNK_MAX_ROWS; i++){
    aTime[i] = 1000LL*i + (int64_t)(rnd()%1000);
    c.aInt[i] = (int64_t)rnd() >> (rnd()%64);
    c.aNull[i] = rnd()%3==0;
  }
  snprintf(zName, sizeof(zName), "TS_CHUNK_MAX_ROWS=%d rows", TS_CHUNK_MAX_ROWS);
  roundTrip(zName, TS_CHUNK_MAX_ROWS, aTime, 0, 1, &c.c, 0);
  colFree(&c, TS_CHUNK_MAX_ROWS);
  free(aTime);
}

static void testDoubles(void){
  static const uint64_t aSpecial[] = {
    0x8000000000000000ULL,  /* -0.0 */
    0x0000000000000000ULL,  /* +0.0 */
    0x0000000000000001ULL,  /* smallest subnormal */
    0x800fffffffffffffULL,  /* negative largest subnormal */
    0x7fefffffffffffffULL,  /* DBL_MAX */
    0xffefffffffffffffULL,  /* -DBL_MAX */
    0x3ff0000000000000ULL,  /* 1.0 */
    0x43e0000000000000ULL,  /* 2^63 */
    0xc3e0000000000000ULL,  /* -2^63 */
    0x4340000000000001ULL,  /* 2^54+2 */
  };
  int nS = (int)(sizeof(aSpecial)/sizeof(aSpecial[0]));
  int nRow = 200, i;
  int64_t *aTime = timesRegular(nRow, 0, 1);
  Col c;
  colAlloc(&c, TS_TYPE_DOUBLE, nRow);
  for(i=0; i<nRow; i++) c.aDouble[i] = dblOf(aSpecial[i % nS]);
  roundTrip("doubles: -0.0, subnormals, DBL_MAX, 2^63", nRow, aTime, 0, 1, &c.c, 0);
  /* Integers with one -0.0: must not be scaled as +0.0. */
  for(i=0; i<nRow; i++) c.aDouble[i] = (double)(i % 50);
  c.aDouble[77] = -0.0;
  roundTrip("integer doubles with one -0.0", nRow, aTime, 0, 1, &c.c, 0);
  /* Decimals of various precisions. */
  for(i=0; i<nRow; i++) c.aDouble[i] = (double)(int64_t)(rnd()%2000000 - 1000000) / 1000.0;
  roundTrip("3-decimal doubles", nRow, aTime, 0, 1, &c.c, 0);
  for(i=0; i<nRow; i++) c.aDouble[i] = 0.1 * i;   /* not exact decimals */
  roundTrip("0.1*i doubles", nRow, aTime, 0, 1, &c.c, 0);
  for(i=0; i<nRow; i++) c.aDouble[i] = 1e300 * (i - 100);
  roundTrip("huge doubles", nRow, aTime, 0, 1, &c.c, 0);
  for(i=0; i<nRow; i++) c.aDouble[i] = 9.0e18 + 2048.0*i;
  roundTrip("doubles near 2^63", nRow, aTime, 0, 1, &c.c, 0);
  for(i=0; i<nRow; i++) c.aDouble[i] = 42.5;
  roundTrip("constant double", nRow, aTime, 0, 1, &c.c, 0);
  /* Full-precision values held for 10 rows (sample-and-hold sensors):
  ** Gorilla XOR's one bit per repeat is the smallest coding here. */
  for(i=0; i<nRow; i++) c.aDouble[i] = i%10 ? c.aDouble[i-1] : rndNormal()*1e6;
  {
    size_t n = roundTrip("held full-precision doubles", nRow, aTime, 0, 1, &c.c, 0);
    printf("INFO 200 full-precision doubles held 10 rows each: %zu bytes\n", n);
    /* 260 + the 18 bytes of the v2 header's full-precision first/last. */
    TT_CHECK("held doubles cost about a byte per value", n>0 && n<278);
  }
  /* NaN and Inf never reach the codec, but must not crash it; the XOR and
  ** RAW paths are bit-exact so they still round-trip. */
  for(i=0; i<nRow; i++){
    c.aDouble[i] = (i%3==0) ? NAN : (i%3==1) ? INFINITY : -INFINITY;
    if( i==5 ) c.aDouble[i] = 3.0;
  }
  {
    TsBuf b;
    TsChunkReader *pRd = 0;
    TsChunkCol out;
    int rc;
    tsBufInit(&b);
    rc = tsChunkEncode(nRow, aTime, 0, 1, &c.c, &b);
    TT_EQ_I64("NaN/Inf encode does not fail", rc, TS_CHUNK_OK);
    rc = tsChunkReaderOpen(b.a, b.n, &pRd);
    if( rc==TS_CHUNK_OK ) rc = tsChunkReadCol(pRd, 0, &out);
    TT_CHECK("NaN/Inf decode bit-exact", rc==TS_CHUNK_OK && colDiff(&c.c, &out, nRow)==0);
    tsChunkReaderFree(pRd);
    tsBufFree(&b);
  }
  colFree(&c, nRow);
  free(aTime);
}

/* Fill a VARCHAR column with distinct, compressible log lines. */
static void fillLogLines(Col *p, int nRow){
  static const char *azVerb[] = { "GET", "POST", "PUT", "DELETE" };
  char z[200];
  int i;
  for(i=0; i<nRow; i++){
    int n = snprintf(z, sizeof(z), "%s /api/v1/items/%d?user=%d HTTP/1.1 status=%d bytes=%d",
                     azVerb[rnd()%4], (int)(rnd()%100000), (int)(rnd()%500),
                     rnd()%10 ? 200 : 404, (int)(rnd()%65536));
    colSetText(p, i, z, n);
  }
}

static void testText(void){
  int nRow = 1000, i;
  int64_t *aTime = timesRegular(nRow, 0, 1000);
  Col c;
  size_t nByte, nRaw = 0;
  colAlloc(&c, TS_TYPE_VARCHAR, nRow);
  fillLogLines(&c, nRow);
  for(i=0; i<nRow; i++) nRaw += (size_t)c.anText[i];
  nByte = roundTrip("distinct log lines (zstd dictionary)", nRow, aTime, 0, 1, &c.c, 0);
  printf("INFO 1000 distinct log lines: %zu bytes of text, chunk %zu bytes (%.2fx)\n",
         nRaw, nByte, nByte ? (double)nRaw/(double)nByte : 0.0);
  TT_CHECK("log lines compress at least 2x", nByte>0 && nByte*2<nRaw);
  nullPattern(c.aNull, nRow, 5);
  roundTrip("log lines with NULLs", nRow, aTime, 0, 1, &c.c, 0);
  /* A single long string repeated, and one huge string. */
  {
    char *zBig = malloc(100000);
    for(i=0; i<100000; i++) zBig[i] = (char)('a' + (i % 26));
    for(i=0; i<nRow; i++){ c.aNull[i] = 0; colSetText(&c, i, zBig, 1000 + (i%2)); }
    roundTrip("two long strings repeated", nRow, aTime, 0, 1, &c.c, 0);
    colSetText(&c, 7, zBig, 100000);
    roundTrip("a 100000-byte string", nRow, aTime, 0, 1, &c.c, 0);
    /* Binary bytes including NUL. */
    for(i=0; i<nRow; i++){
      int k;
      for(k=0; k<64; k++) zBig[k] = (char)(rnd() & 0xff);
      colSetText(&c, i, zBig, (int)(rnd()%64));
    }
    roundTrip("binary strings with NUL bytes", nRow, aTime, 0, 1, &c.c, 0);
    free(zBig);
  }
  colFree(&c, nRow);
  free(aTime);
}

static void testMisuse(void){
  int64_t aTime[3] = { 10, 20, 20 };
  int64_t aInt[3] = { 1, 2, 3 };
  TsChunkCol c;
  TsBuf b;
  TsChunkInfo info;
  TsChunkReader *pRd = (TsChunkReader*)&info;
  tsBufInit(&b);
  memset(&c, 0, sizeof(c));
  c.eType = TS_TYPE_BIGINT; c.aInt = aInt;
  TT_EQ_I64("equal times are misuse", tsChunkEncode(3, aTime, 0, 1, &c, &b), TS_CHUNK_MISUSE);
  aTime[2] = 15;
  TT_EQ_I64("decreasing times are misuse", tsChunkEncode(3, aTime, 0, 1, &c, &b), TS_CHUNK_MISUSE);
  TT_EQ_I64("zero rows is misuse", tsChunkEncode(0, aTime, 0, 1, &c, &b), TS_CHUNK_MISUSE);
  TT_EQ_I64("too many rows is misuse", tsChunkEncode(TS_CHUNK_MAX_ROWS+1, aTime, 0, 1, &c, &b), TS_CHUNK_MISUSE);
  c.eType = 99;
  TT_EQ_I64("bad type is misuse", tsChunkEncode(2, aTime, 0, 1, &c, &b), TS_CHUNK_MISUSE);
  c.eType = TS_TYPE_DOUBLE;
  TT_EQ_I64("missing value array is misuse", tsChunkEncode(2, aTime, 0, 1, &c, &b), TS_CHUNK_MISUSE);
  {
    const char *az[2] = { "a", "b" };
    int an[2] = { 1, -1 };
    TsChunkCol t;
    memset(&t, 0, sizeof(t));
    t.eType = TS_TYPE_VARCHAR; t.azText = az; t.anText = an;
    TT_EQ_I64("negative text length is misuse", tsChunkEncode(2, aTime, 0, 1, &t, &b), TS_CHUNK_MISUSE);
    an[1] = 1; az[1] = 0;
    TT_EQ_I64("NULL text with a length is misuse", tsChunkEncode(2, aTime, 0, 1, &t, &b), TS_CHUNK_MISUSE);
  }
  TT_EQ_I64("misuse appends nothing", (long long)b.n, 0);
  /* An output limit too small for the blob: NOMEM, and pOut keeps what it
  ** had (here 3 bytes). */
  {
    int64_t aT[100], aV[100];
    int i, rc;
    TsChunkCol d;
    memset(&d, 0, sizeof(d));
    for(i=0; i<100; i++){ aT[i] = i; aV[i] = (int64_t)rnd(); }
    d.eType = TS_TYPE_BIGINT; d.aInt = aV;
    tsBufAppend(&b, "abc", 3);
    b.nMax = 64;
    rc = tsChunkEncode(100, aT, 0, 1, &d, &b);
    TT_EQ_I64("output limit gives NOMEM", rc, TS_CHUNK_NOMEM);
    TT_EQ_I64("output limit leaves the buffer's length", (long long)b.n, 3);
    /* Small body (fits the limit), header + body do not. */
    tsBufFree(&b);
    tsBufInit(&b);
    tsBufAppend(&b, "abc", 3);
    b.nMax = 24;
    for(i=0; i<100; i++) aV[i] = i;
    rc = tsChunkEncode(100, aT, 0, 1, &d, &b);
    TT_EQ_I64("output limit hit by the header gives NOMEM", rc, TS_CHUNK_NOMEM);
    TT_EQ_I64("output limit hit by the header leaves the length", (long long)b.n, 3);
    tsBufFree(&b);
    tsBufInit(&b);
  }
  TT_EQ_I64("empty blob is corrupt", tsChunkInfoGet("", 0, &info, 0, 0), TS_CHUNK_CORRUPT);
  TT_EQ_I64("bad magic is corrupt", tsChunkReaderOpen("XXXXXXXXXX", 10, &pRd), TS_CHUNK_CORRUPT);
  TT_CHECK("failed open nulls the reader", pRd==0);
  tsChunkReaderFree(0);
  tsBufFree(&b);
}

/* Decode everything in a blob; returns TS_CHUNK_OK or the first error. */
static int decodeAll(const unsigned char *a, size_t n){
  TsChunkInfo info;
  TsChunkStat aStat[8];
  TsChunkReader *pRd = 0;
  const int64_t *aT;
  int rc, i;
  rc = tsChunkInfoGet(a, n, &info, aStat, 8);
  if( rc ) return rc;
  rc = tsChunkReaderOpen(a, n, &pRd);
  if( rc ) return rc;
  rc = tsChunkReadTime(pRd, &aT);
  if( rc==TS_CHUNK_OK ) rc = tsChunkReadVersion(pRd, &aT);
  for(i=0; rc==TS_CHUNK_OK && i<tsChunkReaderInfo(pRd)->nCol; i++){
    TsChunkCol out;
    rc = tsChunkReadCol(pRd, i, &out);
  }
  tsChunkReaderFree(pRd);
  return rc;
}

/* Recompute the CRC-32 (bytes 4..7) so that damage reaches the decoders. */
static void fixCrc(unsigned char *a, size_t n){
  uint32_t crc;
  if( n<8 ) return;
  crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), a + 8, (uInt)(n - 8));
  a[4] = (unsigned char)crc; a[5] = (unsigned char)(crc>>8);
  a[6] = (unsigned char)(crc>>16); a[7] = (unsigned char)(crc>>24);
}

/* Format 2: the offset of the header's own CRC-32 (after the column
** directory), found on an undamaged blob as the first i where the 4 bytes
** at i are the CRC of bytes 8..i; 0 when none. */
static size_t hdrCrcAt(const unsigned char *a, size_t n){
  size_t i;
  for(i=14; i+4<=n; i++){
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), a + 8, (uInt)(i - 8));
    if( a[i]==(unsigned char)crc && a[i+1]==(unsigned char)(crc>>8)
     && a[i+2]==(unsigned char)(crc>>16) && a[i+3]==(unsigned char)(crc>>24) ) return i;
  }
  return 0;
}

/* Recompute both CRCs of a format-2 blob whose header CRC is at iHdr. */
static void fixCrc2(unsigned char *a, size_t n, size_t iHdr){
  uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), a + 8, (uInt)(iHdr - 8));
  a[iHdr] = (unsigned char)crc; a[iHdr+1] = (unsigned char)(crc>>8);
  a[iHdr+2] = (unsigned char)(crc>>16); a[iHdr+3] = (unsigned char)(crc>>24);
  fixCrc(a, n);
}

static void testCorrupt(void){
  int nRow = 300, i, t;
  int64_t *aTime = malloc(sizeof(int64_t)*nRow);
  Col c[7];
  TsChunkCol ac[7];
  TsBuf blob;
  int nBad = 0, nCorrupt = 0, nOk = 0, nVerifyBad = 0, nVerifyOdd = 0;
  char zErr[200];
  int nFlip = bSanitize ? 3000 : 20000;
  tsBufInit(&blob);
  for(i=0; i<nRow; i++) aTime[i] = 1000*i + (int64_t)(rnd()%100);
  for(t=0; t<6; t++){
    colAlloc(&c[t], t<5 ? aType[t] : TS_TYPE_DOUBLE, nRow);
    fillCol(&c[t], nRow, t==5 ? 1 : 0);
    nullPattern(c[t].aNull, nRow, t==2 ? 5 : 0);
    ac[t] = c[t].c;
  }
  colAlloc(&c[6], TS_TYPE_VARCHAR, nRow);   /* a zstd dictionary */
  fillLogLines(&c[6], nRow);
  ac[6] = c[6].c;
  ac[6].aNull = 0;
  roundTrip("corruption source blob", nRow, aTime, 0, 7, ac, &blob);
  /* Every proper prefix must be rejected (payload lengths are exact). */
  for(i=0; i<(int)blob.n; i++){
    unsigned char *a = malloc((size_t)i + 1);  /* exact size for ASan */
    memcpy(a, blob.a, (size_t)i);
    if( decodeAll(a, (size_t)i)!=TS_CHUNK_CORRUPT ) nBad++;
    free(a);
  }
  TT_EQ_I64("every truncation is TS_CHUNK_CORRUPT", nBad, 0);
  /* Same with the CRC patched, so the structure checks are what rejects. */
  nBad = 0;
  for(i=8; i<(int)blob.n; i++){
    unsigned char *a = malloc((size_t)i);
    memcpy(a, blob.a, (size_t)i);
    fixCrc(a, (size_t)i);
    if( decodeAll(a, (size_t)i)!=TS_CHUNK_CORRUPT ) nBad++;
    free(a);
  }
  TT_EQ_I64("every truncation with a valid CRC is TS_CHUNK_CORRUPT", nBad, 0);
  /* Random byte flips: corrupt or a valid decode, never a crash. */
  for(i=0; i<nFlip; i++){
    unsigned char *a = malloc(blob.n);
    int k, nK = 1 + (int)(rnd()%3), rc;
    memcpy(a, blob.a, blob.n);
    for(k=0; k<nK; k++) a[rnd() % blob.n] ^= (unsigned char)(1 + rnd()%255);
    rc = decodeAll(a, blob.n);
    if( rc==TS_CHUNK_CORRUPT ) nCorrupt++;
    else if( rc==TS_CHUNK_OK ) nOk++;
    free(a);
  }
  TT_EQ_I64("byte flips are all caught by the CRC", nCorrupt, nFlip);
  /* Flips behind a valid CRC: corrupt or a valid decode, never a crash. */
  nCorrupt = nOk = 0;
  for(i=0; i<nFlip; i++){
    unsigned char *a = malloc(blob.n);
    int k, nK = 1 + (int)(rnd()%3), rc;
    memcpy(a, blob.a, blob.n);
    for(k=0; k<nK; k++) a[8 + rnd() % (blob.n - 8)] ^= (unsigned char)(1 + rnd()%255);
    fixCrc(a, blob.n);
    rc = decodeAll(a, blob.n);
    if( rc==TS_CHUNK_CORRUPT ) nCorrupt++;
    else if( rc==TS_CHUNK_OK ) nOk++;
    rc = tsChunkVerify(a, blob.n, zErr, sizeof(zErr));
    if( rc==TS_CHUNK_CORRUPT && zErr[0] ) nVerifyBad++;
    else if( rc!=TS_CHUNK_OK ) nVerifyOdd++;
    free(a);
  }
  TT_EQ_I64("byte flips behind a valid CRC give only CORRUPT or OK", nCorrupt + nOk, nFlip);
  TT_EQ_I64("tsChunkVerify gives CORRUPT with a message or OK", nVerifyOdd, 0);
  TT_CHECK("tsChunkVerify finds more damage than decoding", nVerifyBad>nCorrupt);
  printf("INFO byte flips behind a valid CRC: %d corrupt on decode, %d by tsChunkVerify (of %d)\n",
         nCorrupt, nVerifyBad, nFlip);
  /* Garbage after a good header. */
  {
    unsigned char *a = malloc(blob.n + 1);
    memcpy(a, blob.a, blob.n);
    a[blob.n] = 0;
    fixCrc(a, blob.n + 1);
    TT_EQ_I64("trailing byte is corrupt", decodeAll(a, blob.n + 1), TS_CHUNK_CORRUPT);
    free(a);
  }
  for(t=0; t<7; t++) colFree(&c[t], nRow);
  free(aTime);
  tsBufFree(&blob);
}

/* tsChunkVerify: ok on good blobs, exact descriptions of damage. */
static void testVerify(void){
  int64_t aTime[3] = { 1, 2, 3 };
  int64_t aInt[3] = { 5, 6, 7 };
  TsChunkCol c;
  TsBuf b;
  char zErr[200];
  TsChunkInfo info;
  size_t iHdr;
  int rc;
  memset(&c, 0, sizeof(c));
  c.eType = TS_TYPE_BIGINT; c.aInt = aInt;
  tsBufInit(&b);
  rc = tsChunkEncode(3, aTime, 0, 1, &c, &b);
  TT_EQ_I64("verify: encode", rc, TS_CHUNK_OK);
  rc = tsChunkVerify(b.a, b.n, zErr, sizeof(zErr));
  TT_EQ_I64("verify: good blob is ok", rc, TS_CHUNK_OK);
  TT_EQ_STR("verify: good blob has no message", zErr, "");
  /* Layout: magic 4, crc 4, nRow, nCol, tMin, span, nTime, nVer (one byte
  ** each here), type, flags, nValue, then iMin as zigzag at offset 17. */
  TT_EQ_I64("verify: iMin byte where the layout says", b.a[17], 10);
  iHdr = hdrCrcAt(b.a, b.n);
  TT_EQ_I64("verify: header CRC after the directory", (int64_t)iHdr, 23);
  b.a[17] = 8;   /* iMin 5 -> 4 (and so iMax 7 -> 6) */
  rc = tsChunkVerify(b.a, b.n, zErr, sizeof(zErr));
  TT_EQ_I64("verify: stale CRC is corrupt", rc, TS_CHUNK_CORRUPT);
  TT_CHECK("verify: checksum message", strncmp(zErr, "checksum mismatch (stored ", 26)==0);
  rc = tsChunkInfoGet(b.a, b.n, &info, 0, 0);
  TT_EQ_I64("verify: stale header CRC fails a header read", rc, TS_CHUNK_CORRUPT);
  fixCrc2(b.a, b.n, iHdr);
  rc = tsChunkVerify(b.a, b.n, zErr, sizeof(zErr));
  TT_EQ_I64("verify: wrong header stats are corrupt", rc, TS_CHUNK_CORRUPT);
  TT_EQ_STR("verify: stats message", zErr,
            "column 0 (BIGINT): header min/max/sum 4/6/18, contents 5/7/18");
  rc = tsChunkVerify("TSC\x04xxxxxxxx", 12, zErr, sizeof(zErr));
  TT_EQ_STR("verify: unknown version message", zErr,
            "not a chunk (bad magic or unknown format version)");
  rc = tsChunkVerify(b.a, b.n, 0, 0);
  TT_EQ_I64("verify: NULL message buffer", rc, TS_CHUNK_CORRUPT);
  tsBufFree(&b);
}

/* Format v2: the header holds each column's first and last non-NULL value
** and their times; tsChunkInfoGet returns them (bEnds), tsChunkVerify checks
** them against the contents. */
static void testEnds(void){
  int64_t aTime[5] = { 100, 110, 120, 130, 140 };
  double aD[5] = { 0, 1.5, 2.5, -3.25, 0 };
  uint8_t aNullD[5] = { 1, 0, 0, 0, 1 };
  int64_t aI[5] = { 7, 8, 9, 10, -11 };
  int64_t aB[5] = { 0, 1, 1, 0, 5 };
  const char *az[5] = { "a", "b", "c", "d", "e" };
  int an[5] = { 1, 1, 1, 1, 1 };
  uint8_t aNullAll[5] = { 1, 1, 1, 1, 1 };
  TsChunkCol c[5];
  TsChunkStat st[5];
  TsChunkInfo info;
  TsBuf b;
  char zErr[200];
  size_t iHdr;
  int rc;
  memset(c, 0, sizeof(c));
  c[0].eType = TS_TYPE_DOUBLE; c[0].aDouble = aD; c[0].aNull = aNullD;
  c[1].eType = TS_TYPE_BIGINT; c[1].aInt = aI;
  c[2].eType = TS_TYPE_BOOLEAN; c[2].aInt = aB;
  c[3].eType = TS_TYPE_VARCHAR; c[3].azText = az; c[3].anText = an;
  c[4].eType = TS_TYPE_TIMESTAMP; c[4].aInt = aI; c[4].aNull = aNullAll;
  tsBufInit(&b);
  rc = tsChunkEncode(5, aTime, 0, 5, c, &b);
  TT_EQ_I64("ends: encode", rc, TS_CHUNK_OK);
  TT_EQ_I64("ends: version byte 2", b.a[3], 2);
  rc = tsChunkInfoGet(b.a, b.n, &info, st, 5);
  TT_EQ_I64("ends: info", rc, TS_CHUNK_OK);
  TT_EQ_I64("ends: double has ends", st[0].bEnds, 1);
  TT_CHECK("ends: double first/last skip NULLs", st[0].rFirst==1.5 && st[0].rLast==-3.25);
  TT_EQ_I64("ends: double first time", st[0].tFirst, 110);
  TT_EQ_I64("ends: double last time", st[0].tLast, 130);
  TT_EQ_I64("ends: bigint first", st[1].iFirst, 7);
  TT_EQ_I64("ends: bigint last", st[1].iLast, -11);
  TT_EQ_I64("ends: bigint times", st[1].tFirst*1000 + st[1].tLast, 100*1000 + 140);
  TT_EQ_I64("ends: boolean last as 0/1", st[2].iLast, 1);
  TT_EQ_I64("ends: varchar has none", st[3].bEnds, 0);
  TT_EQ_I64("ends: all-NULL column has none", st[4].bEnds, 0);
  rc = tsChunkVerify(b.a, b.n, zErr, sizeof(zErr));
  TT_EQ_I64("ends: verify ok", rc, TS_CHUNK_OK);
  /* Layout: magic 4, crc 4, nRow 1, nCol 1, tMin 2 (zigzag 200), span 1,
  ** nTime 1, nVer 1 = 15; column 0: type, flags, nValue = 18; rMin, rMax,
  ** rSum as cf64 (-3.25: 9 bytes, 2.5: 9, 0.75: 9) = 45; rFirst 1.5 at 45:
  ** a 1 then its f64; damage its last byte. */
  TT_EQ_I64("ends: rFirst marker where the layout says", b.a[45], 1);
  iHdr = hdrCrcAt(b.a, b.n);
  TT_CHECK("ends: header CRC found", iHdr>53);
  /* A prefix holding the header (through its CRC) is enough; one byte less
  ** is not; and a version-1 blob needs all of it (its CRC is the blob's). */
  TT_EQ_I64("prefix: the header alone", tsChunkInfoGetPrefix(b.a, iHdr+4, b.n, &info, st, 5), TS_CHUNK_OK);
  TT_CHECK("prefix: same first/last", st[0].bEnds && st[0].rLast==-3.25 && st[1].iLast==-11);
  TT_EQ_I64("prefix: short of the header CRC", tsChunkInfoGetPrefix(b.a, iHdr+3, b.n, &info, st, 5),
            TS_CHUNK_CORRUPT);
  TT_EQ_I64("prefix: longer than the blob", tsChunkInfoGetPrefix(b.a, b.n, b.n-1, &info, st, 5),
            TS_CHUNK_CORRUPT);
  /* A damaged payload byte: the header read still succeeds (it checks the
  ** header's CRC), the reader does not. */
  b.a[b.n-1] ^= 0x01;
  TT_EQ_I64("ends: header read ignores payload damage", tsChunkInfoGet(b.a, b.n, &info, st, 5),
            TS_CHUNK_OK);
  {
    TsChunkReader *pRd = 0;
    TT_EQ_I64("ends: reader sees payload damage", tsChunkReaderOpen(b.a, b.n, &pRd), TS_CHUNK_CORRUPT);
    tsChunkReaderFree(pRd);
  }
  b.a[b.n-1] ^= 0x01;
  b.a[53] ^= 0x40;
  fixCrc2(b.a, b.n, iHdr);
  rc = tsChunkVerify(b.a, b.n, zErr, sizeof(zErr));
  TT_EQ_I64("ends: damaged first value is corrupt", rc, TS_CHUNK_CORRUPT);
  TT_EQ_STR("ends: verify message", zErr,
            "column 0 (DOUBLE): header first/last value or time differs from the contents");
  tsBufFree(&b);
}

/* Blobs written by earlier builds (committed as the fuzzer's seed corpus)
** must stay readable: chunks persist in users' databases. */
static unsigned char *readFile(const char *zPath, size_t *pn){
  FILE *f = fopen(zPath, "rb");
  unsigned char *a = 0;
  long n;
  *pn = 0;
  if( f==0 ) return 0;
  if( fseek(f, 0, SEEK_END)==0 && (n = ftell(f))>0 && fseek(f, 0, SEEK_SET)==0 ){
    a = malloc((size_t)n);
    if( a && fread(a, 1, (size_t)n, f)==(size_t)n ) *pn = (size_t)n;
    else{ free(a); a = 0; }
  }
  fclose(f);
  return a;
}

static void testStoredBlobs(void){
  static const char *azFile[] = { "tsbs-100x10", "all-types-nulls", "varchar-zstd",
                                  "doubles-bits-xor", "ints-rice-gcd", "one-row" };
  const char *zRoot = getenv("TS_ROOT");
  char zPath[1024], zErr[200], zName[300];
  int i;
  if( zRoot==0 ){
    printf("SKIP stored blobs: TS_ROOT not set\n");
    return;
  }
  for(i=0; i<(int)(sizeof(azFile)/sizeof(azFile[0])); i++){
    size_t n;
    unsigned char *a;
    snprintf(zPath, sizeof(zPath), "%s/tests/fuzz/corpus/fuzz_chunk/%s", zRoot, azFile[i]);
    a = readFile(zPath, &n);
    snprintf(zName, sizeof(zName), "stored blob %s verifies", azFile[i]);
    TT_CHECK(zName, a && tsChunkVerify(a, n, zErr, sizeof(zErr))==TS_CHUNK_OK);
    if( a && n>8 ){
      TsChunkInfo info;
      snprintf(zName, sizeof(zName), "stored v1 blob %s: a prefix is refused, the whole is read", azFile[i]);
      TT_CHECK(zName, tsChunkInfoGetPrefix(a, n-1, n, &info, 0, 0)==TS_CHUNK_CORRUPT
               && tsChunkInfoGetPrefix(a, n, n, &info, 0, 0)==TS_CHUNK_OK);
    }
    if( a && i==5 ){
      TsChunkReader *pRd = 0;
      const int64_t *aT;
      TsChunkCol c;
      int ok = tsChunkReaderOpen(a, n, &pRd)==TS_CHUNK_OK
            && tsChunkReadTime(pRd, &aT)==TS_CHUNK_OK && aT[0]==-5
            && tsChunkReadCol(pRd, 0, &c)==TS_CHUNK_OK && c.aDouble[0]==1.5;
      TT_CHECK("stored blob one-row: time -5, value 1.5", ok);
      tsChunkReaderFree(pRd);
    }
    if( a && i==2 ){
      TsChunkReader *pRd = 0;
      TsChunkCol c;
      int ok = tsChunkReaderOpen(a, n, &pRd)==TS_CHUNK_OK
            && tsChunkReadCol(pRd, 0, &c)==TS_CHUNK_OK
            && c.anText[0]>20 && memcmp(c.azText[0], "GET /api/v1/items/", 18)==0;
      TT_CHECK("stored blob varchar-zstd: first string", ok);
      tsChunkReaderFree(pRd);
    }
    free(a);
  }
}

/* TSBS cpu-like data: nHost series x nRow rows, 10 measures each an
** integer-valued clamped random walk in 0..100 (step N(0,1), truncated),
** stored as DOUBLE, chunks of 1000 rows.  Returns bytes per value. */
static double measureTsbs(int bFullPrecision, int nChunk, int nRow){
  int k, i, j;
  int64_t *aTime = malloc(sizeof(int64_t)*nRow);
  Col c[10];
  TsChunkCol ac[10];
  double aWalk[10];
  size_t nTotal = 0;
  char zName[100];
  for(j=0; j<10; j++){
    colAlloc(&c[j], TS_TYPE_DOUBLE, nRow);
    ac[j] = c[j].c;
    ac[j].aNull = 0;
    aWalk[j] = rndUnit()*100.0;
  }
  for(k=0; k<nChunk; k++){
    for(i=0; i<nRow; i++){
      aTime[i] = 1451606400000000000LL + ((int64_t)k*nRow + i)*10000000000LL;
      for(j=0; j<10; j++){
        aWalk[j] += rndNormal();
        if( aWalk[j]<0 ) aWalk[j] = 0;
        if( aWalk[j]>100 ) aWalk[j] = 100;
        c[j].aDouble[i] = bFullPrecision ? aWalk[j] : (double)(int64_t)aWalk[j];
      }
    }
    snprintf(zName, sizeof(zName), "tsbs %s %d-row chunk %d round trip",
             bFullPrecision ? "full-precision" : "integer", nRow, k);
    nTotal += roundTrip(zName, nRow, aTime, 0, 10, ac, 0);
  }
  for(j=0; j<10; j++) colFree(&c[j], nRow);
  free(aTime);
  return (double)nTotal / ((double)nChunk*nRow*10);
}

static void testCompression(void){
  double r;
  rngState = 42;
  r = measureTsbs(0, 20, 1000);
  printf("INFO TSBS-like integer-valued DOUBLE (10 measures, 10 s, 1000-row chunks): %.4f bytes/value\n", r);
  TT_CHECK("TSBS-like data <= 1.0 byte per value", r>0 && r<=1.0);
  r = measureTsbs(1, 20, 1000);
  printf("INFO full-precision random-walk DOUBLE (10 measures, 1000-row chunks): %.4f bytes/value\n", r);
  TT_CHECK("full-precision random walk <= 8 bytes per value", r>0 && r<=8.0);
  r = measureTsbs(0, 50, 100);
  printf("INFO TSBS-like integer-valued DOUBLE in 100-row chunks: %.4f bytes/value\n", r);
  TT_CHECK("TSBS-like data in 100-row chunks <= 1.0 byte per value", r>0 && r<=1.0);
  r = measureTsbs(0, 100, 10);
  printf("INFO TSBS-like integer-valued DOUBLE in 10-row chunks: %.4f bytes/value\n", r);
  r = measureTsbs(0, 100, 1);
  printf("INFO TSBS-like integer-valued DOUBLE in 1-row chunks: %.4f bytes/value\n", r);
}

/* The encoder's choices are pinned: blobs of a fixed set of inputs (every
** ISEQ shape at lengths around the 256-value block: runs, narrow and wide
** random walks, rare outliers, constants with one change, the extremes,
** millisecond times; doubles as decimals, integers and noise) must hash to
** the value the reference planner (estimates, then each block's bit-packed
** and Rice sizes by direct counting over the values) produced.  A faster
** planner must make the same choices: a different hash means different
** bytes, so sizes (and docs/benchmarks.md's bytes per value) could drift. */
static uint64_t fnv64(uint64_t h, const unsigned char *a, size_t n){
  size_t i;
  for(i=0; i<n; i++){ h ^= a[i]; h *= 0x100000001b3ULL; }
  return h;
}
static void testEncoderPinned(void){
  static const int aLen[] = { 1, 2, 3, 4, 7, 8, 9, 255, 256, 257, 258, 511, 512, 513, 1000, 1025, 3000 };
  uint64_t h = 0xcbf29ce484222325ULL;
  size_t nTotal = 0;
  int iL, eShape, i;
  TsBuf b;
  tsBufInit(&b);
  rngState = 7;
  for(iL=0; iL<(int)(sizeof(aLen)/sizeof(aLen[0])); iL++){
    int n = aLen[iL];
    int64_t *aT = malloc(sizeof(int64_t)*(size_t)n);
    Col ci, cd;
    colAlloc(&ci, TS_TYPE_BIGINT, n);
    colAlloc(&cd, TS_TYPE_DOUBLE, n);
    for(eShape=0; eShape<10; eShape++){
      TsChunkCol ac[2];
      double w = 50.0;
      int64_t v = 0;
      int rc;
      for(i=0; i<n; i++){
        aT[i] = eShape==9 ? (int64_t)i*1000000 + (int64_t)(rnd()%3)*1000000*(i>0) + (int64_t)i*4000000
                          : 1700000000000000000LL + (int64_t)i*10000000000LL + (int64_t)(rnd()%7);
        w += (double)((int64_t)(rnd()%2001) - 1000)/1000.0;   /* no libm: the same inputs everywhere */
        if( w<0 ) w = 0;
        if( w>100 ) w = 100;
        switch( eShape ){
          case 0: v = (int64_t)w; break;                                   /* tsbs-int walk */
          case 1: v = (i/37)%5; break;                                     /* runs */
          case 2: v += (int64_t)(rnd()%2001) - 1000; break;                /* wide walk */
          case 3: v = (int64_t)(rnd()%8) + ((rnd()%97)==0 ? 1000000 : 0); break;  /* outliers */
          case 4: v = i==n/2 ? 5 : 4; break;                               /* one change */
          case 5: v = (rnd()&1) ? INT64_MAX : INT64_MIN; break;            /* extremes */
          case 6: v = (int64_t)rnd(); break;                               /* noise */
          case 7: v = (int64_t)i*3 + (int64_t)(rnd()%2); break;            /* near-arithmetic */
          case 8: v = -(int64_t)(w*1000); break;                           /* negative, scaled */
          default: v = (int64_t)(rnd()%3); break;
        }
        ci.aInt[i] = v;
        cd.aDouble[i] = eShape==0 ? (double)(int64_t)w : eShape==1 ? w
                      : eShape==2 ? (double)(int64_t)(w*100)/100.0 : eShape==3 ? -0.0
                      : (double)v;
      }
      ac[0] = ci.c; ac[0].aNull = 0;
      ac[1] = cd.c; ac[1].aNull = 0;
      /* strictly increasing times */
      for(i=1; i<n; i++) if( aT[i]<=aT[i-1] ) aT[i] = aT[i-1] + 1;
      tsBufReset(&b);
      rc = tsChunkEncode(n, aT, 0, 2, ac, &b);
      if( rc!=TS_CHUNK_OK ){ TT_EQ_I64("pinned encoder: encode", rc, TS_CHUNK_OK); break; }
      h = fnv64(h, b.a, b.n);
      nTotal += b.n;
    }
    free(aT);
    colFree(&ci, n);
    colFree(&cd, n);
  }
  tsBufFree(&b);
  printf("INFO pinned encoder inputs: %zu bytes, digest %016llx\n", nTotal, (unsigned long long)h);
  TT_EQ_I64("pinned encoder inputs: total bytes", (long long)nTotal, PIN_BYTES);
  TT_CHECK("pinned encoder inputs: the blobs hash to the reference planner's digest",
           h==PIN_DIGEST);
}

/* Format 3: write marks after the versions (chunk.c "v3"). */
static void testMarks(void){
  int64_t aTime[4] = { 10, 20, 30, 40 }, aVer[4] = { 1, 2, 1, 7 };
  int64_t aInt[4] = { 5, 6, 7, 8 };
  unsigned char aMark[4] = { 0, 1, 0, 2 }, aZero[4] = { 0, 0, 0, 0 }, aBad[4] = { 0, 3, 0, 0 };
  const unsigned char *aM = 0;
  const int64_t *aV = 0;
  TsChunkCol c, out;
  TsBuf b, b2;
  TsChunkReader *pRd = 0;
  char zErr[200];
  int rc;
  memset(&c, 0, sizeof(c));
  c.eType = TS_TYPE_BIGINT; c.aInt = aInt;
  tsBufInit(&b); tsBufInit(&b2);
  rc = tsChunkEncodeMarked(4, aTime, aVer, aMark, 1, &c, &b);
  TT_EQ_I64("marks: encode", rc, TS_CHUNK_OK);
  TT_EQ_I64("marks: a marked chunk is format 3", b.a[3], 3);
  TT_EQ_I64("marks: verify", tsChunkVerify(b.a, b.n, zErr, sizeof(zErr)), TS_CHUNK_OK);
  rc = tsChunkReaderOpen(b.a, b.n, &pRd);
  TT_EQ_I64("marks: open", rc, TS_CHUNK_OK);
  if( rc==TS_CHUNK_OK ){
    TT_EQ_I64("marks: read marks", tsChunkReadMark(pRd, &aM), TS_CHUNK_OK);
    TT_CHECK("marks: round trip", aM && memcmp(aM, aMark, 4)==0);
    TT_EQ_I64("marks: versions", tsChunkReadVersion(pRd, &aV), TS_CHUNK_OK);
    TT_CHECK("marks: versions round trip", aV && aV[0]==1 && aV[1]==2 && aV[2]==1 && aV[3]==7);
    TT_EQ_I64("marks: column", tsChunkReadCol(pRd, 0, &out), TS_CHUNK_OK);
    TT_CHECK("marks: column round trip", out.aInt && out.aInt[3]==8);
    tsChunkReaderFree(pRd);
  }
  /* Versions first, then the marks: both orders of asking agree. */
  rc = tsChunkReaderOpen(b.a, b.n, &pRd);
  if( rc==TS_CHUNK_OK ){
    TT_EQ_I64("marks: versions first", tsChunkReadVersion(pRd, &aV), TS_CHUNK_OK);
    TT_EQ_I64("marks: then marks", tsChunkReadMark(pRd, &aM), TS_CHUNK_OK);
    TT_CHECK("marks: then marks round trip", aM && aM[1]==1 && aM[3]==2);
    tsChunkReaderFree(pRd);
  }
  /* All marks 0 (or none): format 2, byte for byte the unmarked blob. */
  tsBufReset(&b);
  rc = tsChunkEncodeMarked(4, aTime, aVer, aZero, 1, &c, &b);
  TT_EQ_I64("marks: all zero encodes", rc, TS_CHUNK_OK);
  rc = tsChunkEncode(4, aTime, aVer, 1, &c, &b2);
  TT_CHECK("marks: all zero is the format-2 blob", b.n==b2.n && memcmp(b.a, b2.a, b.n)==0 && b.a[3]==2);
  rc = tsChunkReaderOpen(b.a, b.n, &pRd);
  if( rc==TS_CHUNK_OK ){
    TT_EQ_I64("marks: format 2 reads", tsChunkReadMark(pRd, &aM), TS_CHUNK_OK);
    TT_CHECK("marks: format 2 has no marks (NULL)", aM==0);
    tsChunkReaderFree(pRd);
  }
  tsBufReset(&b);
  TT_EQ_I64("marks: a mark above 2 is misuse", tsChunkEncodeMarked(4, aTime, aVer, aBad, 1, &c, &b),
            TS_CHUNK_MISUSE);
  tsBufFree(&b); tsBufFree(&b2);
}

/* 1 if two decoded columns differ in a row of [iFrom, iTo) (NULL flag, or
** the value bit for bit). */
static int rowsDiffer(const TsChunkCol *x, const TsChunkCol *y, int iFrom, int iTo){
  int i;
  for(i=iFrom; i<iTo; i++){
    int bN = x->aNull && x->aNull[i];
    if( bN!=(y->aNull && y->aNull[i]) ) return 1;
    if( bN ) continue;
    if( x->eType==TS_TYPE_DOUBLE ? bitsOf(x->aDouble[i])!=bitsOf(y->aDouble[i])
      : x->eType==TS_TYPE_VARCHAR ? (x->anText[i]!=y->anText[i]
                                     || memcmp(x->azText[i], y->azText[i], (size_t)x->anText[i]))
      : x->aInt[i]!=y->aInt[i] ) return 1;
  }
  return 0;
}

/* tsChunkReadColRows: rows [iFrom, iTo) equal the whole decode's, for every
** type, NULL pattern and value pattern (ISEQ modes, doubles SCALED / BITS /
** XOR / RAW, random walks that take Rice-coded blocks), spans that end
** inside, at and across block boundaries (TS_BLOCK = 256 values); a wider
** span after a narrower one decodes again. */
static void testSpans(void){
  static const int aSpan[][2] = { {0, 1}, {0, 255}, {0, 256}, {0, 257}, {100, 300}, {511, 512},
                                  {700, 1000}, {999, 1000}, {0, 1000}, {0, 0}, {400, 400} };
  int nRow = 1000, t, eNull, ePat, k, i, nBad = 0, nCase = 0;
  int64_t *aTime = timesRegular(nRow, 1700000000000000000LL, 10000000000LL);
  for(t=0; t<5; t++){
    for(eNull=0; eNull<6; eNull++){
      for(ePat=0; ePat<5; ePat++){
        Col c;
        TsBuf b;
        TsChunkReader *pFull = 0, *pPart = 0;
        TsChunkCol full, part;
        colAlloc(&c, aType[t], nRow);
        if( ePat<4 ){
          fillCol(&c, nRow, ePat);
        }else{
          /* random walks: integers and full-precision doubles */
          double r = 50.0;
          for(i=0; i<nRow; i++){
            r += rndNormal();
            c.aDouble[i] = r;
            c.aInt[i] = (int64_t)(r*1000);
          }
          if( aType[t]==TS_TYPE_VARCHAR || aType[t]==TS_TYPE_BOOLEAN ) fillCol(&c, nRow, 1);
        }
        nullPattern(c.aNull, nRow, eNull);
        tsBufInit(&b);
        if( tsChunkEncode(nRow, aTime, 0, 1, &c.c, &b)!=TS_CHUNK_OK
         || tsChunkReaderOpen(b.a, b.n, &pFull)!=TS_CHUNK_OK
         || tsChunkReaderOpen(b.a, b.n, &pPart)!=TS_CHUNK_OK
         || tsChunkReadCol(pFull, 0, &full)!=TS_CHUNK_OK ){
          nBad++;
        }else{
          for(k=0; k<(int)(sizeof(aSpan)/sizeof(aSpan[0])); k++){
            int a = aSpan[k][0], z = aSpan[k][1];
            nCase++;
            if( tsChunkReadColRows(pPart, 0, a, z, &part)!=TS_CHUNK_OK ){ nBad++; continue; }
            nBad += rowsDiffer(&full, &part, a, z);
          }
        }
        tsChunkReaderFree(pFull);
        tsChunkReaderFree(pPart);
        tsBufFree(&b);
        colFree(&c, nRow);
      }
    }
  }
  TT_CHECK("tsChunkReadColRows equals the whole decode on every span, type and pattern", nBad==0 && nCase>1000);
  {
    TsChunkReader *pR = 0;
    TsChunkCol col;
    Col c;
    TsBuf b;
    colAlloc(&c, TS_TYPE_BIGINT, nRow);
    fillCol(&c, nRow, 0);
    tsBufInit(&b);
    TT_CHECK("span reader: encode and open", tsChunkEncode(nRow, aTime, 0, 1, &c.c, &b)==TS_CHUNK_OK
             && tsChunkReaderOpen(b.a, b.n, &pR)==TS_CHUNK_OK);
    if( pR ){
      TT_CHECK("span reader: iTo past nRow is misuse", tsChunkReadColRows(pR, 0, 0, nRow+1, &col)==TS_CHUNK_MISUSE);
      TT_CHECK("span reader: iFrom > iTo is misuse", tsChunkReadColRows(pR, 0, 5, 4, &col)==TS_CHUNK_MISUSE);
      TT_CHECK("span reader: negative iFrom is misuse", tsChunkReadColRows(pR, 0, -1, 4, &col)==TS_CHUNK_MISUSE);
      TT_CHECK("span reader: a prefix, then the whole column",
               tsChunkReadColRows(pR, 0, 0, 10, &col)==TS_CHUNK_OK && col.aInt[9]==c.aInt[9]
               && tsChunkReadColRows(pR, 0, 0, nRow, &col)==TS_CHUNK_OK && col.aInt[nRow-1]==c.aInt[nRow-1]);
    }
    tsChunkReaderFree(pR);
    tsBufFree(&b);
    colFree(&c, nRow);
  }
  free(aTime);
}

/* tsChunkReaderReopen: one reader over blobs of other sizes, column counts,
** types and NULL patterns (bigger, then smaller, then bigger) decodes each
** exactly as a fresh reader does; a damaged blob fails the reopen and the
** reader then still reopens on a good one. */
static void testReopen(void){
  static const int aRows[] = { 300, 1000, 5, 2000, 1 };
  TsChunkReader *pR = 0;
  int k, c, nBad = 0, nCase = 0;
  for(k=0; k<(int)(sizeof(aRows)/sizeof(aRows[0]))*2; k++){
    int nRow = aRows[k%5], nCol = 1 + k%4;
    int64_t *aTime = timesRegular(nRow, 1700000000000000000LL + k, 1000000000LL + k);
    Col ac[4];
    TsChunkCol aIn[4];
    TsBuf b;
    TsChunkReader *pFresh = 0;
    tsBufInit(&b);
    for(c=0; c<nCol; c++){
      colAlloc(&ac[c], aType[(k+c)%5], nRow);
      fillCol(&ac[c], nRow, (k+c)%4);
      nullPattern(ac[c].aNull, nRow, (k+2*c)%6);
      aIn[c] = ac[c].c;
    }
    if( tsChunkEncode(nRow, aTime, 0, nCol, aIn, &b)!=TS_CHUNK_OK
     || tsChunkReaderOpen(b.a, b.n, &pFresh)!=TS_CHUNK_OK
     || (pR ? tsChunkReaderReopen(pR, b.a, b.n) : tsChunkReaderOpen(b.a, b.n, &pR))!=TS_CHUNK_OK ){
      nBad++;
    }else{
      const int64_t *aT1, *aT2;
      nCase++;
      if( tsChunkReadTime(pR, &aT1) || tsChunkReadTime(pFresh, &aT2)
       || memcmp(aT1, aT2, sizeof(int64_t)*(size_t)nRow) ) nBad++;
      for(c=0; c<nCol; c++){
        TsChunkCol x, y;
        if( tsChunkReadCol(pR, c, &x) || tsChunkReadCol(pFresh, c, &y) ){ nBad++; continue; }
        nBad += rowsDiffer(&x, &y, 0, nRow);
      }
      if( k==3 ){
        /* a damaged copy: the reopen fails, the next good one works */
        unsigned char *aBad = malloc(b.n);
        memcpy(aBad, b.a, b.n);
        aBad[b.n-1] ^= 0x40;
        if( tsChunkReaderReopen(pR, aBad, b.n)!=TS_CHUNK_CORRUPT ) nBad++;
        if( tsChunkReadTime(pR, &aT1)==TS_CHUNK_OK ) nBad++;
        free(aBad);
        if( tsChunkReaderReopen(pR, b.a, b.n)!=TS_CHUNK_OK || tsChunkReadTime(pR, &aT1)
         || aT1[nRow-1]!=aTime[nRow-1] ) nBad++;
      }
    }
    tsChunkReaderFree(pFresh);
    for(c=0; c<nCol; c++) colFree(&ac[c], nRow);
    /* the reader outlives the blob it last read only until reopened */
    if( pR ) tsChunkReaderReopen(pR, 0, 0);
    tsBufFree(&b);
    free(aTime);
  }
  tsChunkReaderFree(pR);
  TT_CHECK("tsChunkReaderReopen: a reused reader decodes every blob as a fresh one", nBad==0 && nCase==10);
}

int main(void){
  const char *z = getenv("TS_SANITIZE");
  bSanitize = z && z[0]=='1';
  testTypesAndNulls();
  testMultiCol();
  testTimes();
  testDoubles();
  testText();
  testMisuse();
  testCorrupt();
  testVerify();
  testEnds();
  testStoredBlobs();
  testCompression();
  testMarks();
  testSpans();
  testReopen();
  testEncoderPinned();
  return tt_done();
}
