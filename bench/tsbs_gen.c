/*
** tsbs_gen: a deterministic C port of the TSBS "cpu-only" data generator and
** of its query-instance generator (github.com/timescale/tsbs,
** pkg/data/usecases/devops and cmd/tsbs_generate_queries, semantics only; no
** code copied).  File formats: bench/tsbs.h.
**
**   tsbs_gen data    -o FILE [-v tsbs-int|real-float] [-H hosts] [-D days]
**                    [-s seed] [-S start_ns]
**   tsbs_gen queries -o FILE [-H hosts] [-D days] [-s seed] [-S start_ns]
**                    [-n light_instances] [-N heavy_instances]
**
** The data model, as in TSBS:
**   - `hosts` hosts, ids 0..hosts-1, hostname "host_<id>";
**   - per host, 10 fields, each a clamped random walk: start uniform in
**     [0,100), each later epoch add a N(0,1) draw, clamp to [0,100];
**     tsbs-int emits the walk truncated to an integer (ToPointAllInt64),
**     real-float emits it unchanged;
**   - tags drawn once per host after its 10 start values: region (9),
**     datacenter (an AZ of the region), rack [0,100), arch, os, service
**     [0,20), service_version [0,2), service_environment, team;
**   - rows are epoch-major at a 10 s interval from start (default
**     2016-01-01T00:00:00Z, the TSBS default).
** The random numbers come from xoshiro256** seeded by splitmix64(seed), not
** Go's math/rand, so values differ from real TSBS output but follow the
** same distributions.  Both variants use the same walk (same seed gives the
** same random draws), so tsbs-int is exactly trunc(real-float).
**
** Query instances: for each type of tsbs.h an independent generator seeded
** from (seed, type), so adding instances never changes the earlier ones.
** Windows start uniformly (ns resolution) in [start, end + 1 s - window), as
** TSBS does with its query end one second after the data end; hosts are
** distinct and uniform.
*/
#include "tsbs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_START 1451606400000000000LL /* 2016-01-01T00:00:00Z */
#define INTERVAL (10 * NS_PER_SEC)

/* ---- random numbers ------------------------------------------------------ */
typedef struct Rng Rng;
struct Rng {
  uint64_t s[4];
  int bSpare;      /* true if rSpare holds the second normal of a pair */
  double rSpare;
};

static uint64_t splitmix64(uint64_t *px){
  uint64_t z = (*px += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static void rngSeed(Rng *p, uint64_t seed){
  int i;
  for(i = 0; i < 4; i++) p->s[i] = splitmix64(&seed);
  p->bSpare = 0;
}

static uint64_t rotl(uint64_t x, int k){ return (x << k) | (x >> (64 - k)); }

static uint64_t rngNext(Rng *p){
  uint64_t *s = p->s;
  uint64_t r = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return r;
}

/* Uniform double in [0,1). */
static double rngUnit(Rng *p){ return (double)(rngNext(p) >> 11) * 0x1.0p-53; }

/* Uniform integer in [0,n), n > 0, without modulo bias. */
static uint64_t rngBelow(Rng *p, uint64_t n){
  uint64_t lim = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do{ x = rngNext(p); }while( x >= lim );
  return x % n;
}

/* Standard normal draw (Marsaglia's polar method). */
static double rngNormal(Rng *p){
  double u, v, s, m;
  if( p->bSpare ){
    p->bSpare = 0;
    return p->rSpare;
  }
  do{
    u = 2.0 * rngUnit(p) - 1.0;
    v = 2.0 * rngUnit(p) - 1.0;
    s = u * u + v * v;
  }while( s >= 1.0 || s == 0.0 );
  m = sqrt(-2.0 * log(s) / s);
  p->rSpare = v * m;
  p->bSpare = 1;
  return u * m;
}

/* ---- host tags (TSBS devops/host.go choices) ---------------------------- */
typedef struct Region Region;
struct Region { const char *zName; int nDc; const char *azDc[4]; };
static const Region aRegion[] = {
  {"us-east-1", 4, {"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1e"}},
  {"us-west-1", 2, {"us-west-1a", "us-west-1b"}},
  {"us-west-2", 3, {"us-west-2a", "us-west-2b", "us-west-2c"}},
  {"eu-west-1", 3, {"eu-west-1a", "eu-west-1b", "eu-west-1c"}},
  {"eu-central-1", 2, {"eu-central-1a", "eu-central-1b"}},
  {"ap-southeast-1", 2, {"ap-southeast-1a", "ap-southeast-1b"}},
  {"ap-southeast-2", 2, {"ap-southeast-2a", "ap-southeast-2b"}},
  {"ap-northeast-1", 2, {"ap-northeast-1a", "ap-northeast-1c"}},
  {"sa-east-1", 3, {"sa-east-1a", "sa-east-1b", "sa-east-1c"}},
};
static const char *const azTeam[] = {"SF", "NYC", "LON", "CHI"};
static const char *const azOs[] = {"Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"};
static const char *const azArch[] = {"x64", "x86"};
static const char *const azEnv[] = {"production", "staging", "test"};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- options -------------------------------------------------------------- */
typedef struct Opts Opts;
struct Opts {
  const char *zOut;
  int variant;          /* 0 tsbs-int, 1 real-float */
  int64_t nHost;
  double days;
  uint64_t seed;
  int64_t start;
  int nLight, nHeavy;   /* query instances per light / heavy type */
};

static void die(const char *zMsg, const char *zArg){
  fprintf(stderr, "tsbs_gen: %s%s%s\n", zMsg, zArg ? ": " : "", zArg ? zArg : "");
  exit(2);
}

static int64_t parseInt(const char *z, const char *zWhat){
  char *zEnd = 0;
  long long v;
  errno = 0;
  v = strtoll(z, &zEnd, 10);
  if( errno || zEnd == z || *zEnd ) die("not an integer", zWhat);
  return v;
}

static int64_t epochsOf(const Opts *p){
  return (int64_t)llround(p->days * 86400.0 / 10.0);
}

/* ---- data ----------------------------------------------------------------- */
static void putU32(unsigned char *a, uint32_t v){ memcpy(a, &v, 4); }
static void putI64(unsigned char *a, int64_t v){ memcpy(a, &v, 8); }

static int genData(const Opts *p){
  Rng rng;
  int64_t nEpoch = epochsOf(p);
  int64_t h, e;
  double *aWalk;
  char *zTags = 0;
  size_t nTags = 0, nAlloc = 0;
  unsigned char aHdr[TSBS_HEADER_BYTES];
  unsigned char *aBuf;
  size_t nBufRow = 4096, iRow = 0;
  FILE *f;

  aWalk = malloc(sizeof(double) * TSBS_NFIELD * (size_t)p->nHost);
  aBuf = malloc(TSBS_ROW_BYTES * nBufRow);
  if( !aWalk || !aBuf ) die("out of memory", 0);
  rngSeed(&rng, p->seed);
  for(h = 0; h < p->nHost; h++){
    char zLine[256];
    const Region *pReg;
    int j, n;
    for(j = 0; j < TSBS_NFIELD; j++) aWalk[h * TSBS_NFIELD + j] = rngUnit(&rng) * 100.0;
    pReg = &aRegion[rngBelow(&rng, NELEM(aRegion))];
    {
      const char *zDc = pReg->azDc[rngBelow(&rng, (uint64_t)pReg->nDc)];
      int rack = (int)rngBelow(&rng, 100);
      const char *zArch = azArch[rngBelow(&rng, NELEM(azArch))];
      const char *zOs = azOs[rngBelow(&rng, NELEM(azOs))];
      int service = (int)rngBelow(&rng, 20);
      int version = (int)rngBelow(&rng, 2);
      const char *zEnv = azEnv[rngBelow(&rng, NELEM(azEnv))];
      const char *zTeam = azTeam[rngBelow(&rng, NELEM(azTeam))];
      /* TSBS tag order: hostname region datacenter rack os arch team
      ** service service_version service_environment. */
      n = snprintf(zLine, sizeof(zLine), "host_%lld,%s,%s,%d,%s,%s,%s,%d,%d,%s\n",
                   (long long)h, pReg->zName, zDc, rack, zOs, zArch, zTeam,
                   service, version, zEnv);
    }
    if( n <= 0 || (size_t)n >= sizeof(zLine) ) die("tag line too long", 0);
    if( nTags + (size_t)n > nAlloc ){
      nAlloc = nAlloc * 2 + (size_t)n + 4096;
      zTags = realloc(zTags, nAlloc);
      if( !zTags ) die("out of memory", 0);
    }
    memcpy(zTags + nTags, zLine, (size_t)n);
    nTags += (size_t)n;
  }

  f = fopen(p->zOut, "wb");
  if( !f ) die("cannot create", p->zOut);
  memset(aHdr, 0, sizeof(aHdr));
  memcpy(aHdr, TSBS_MAGIC, 8);
  putU32(aHdr + 8, 1);
  putU32(aHdr + 12, (uint32_t)p->variant);
  putU32(aHdr + 16, (uint32_t)p->nHost);
  putU32(aHdr + 20, TSBS_NFIELD);
  putI64(aHdr + 24, p->start);
  putI64(aHdr + 32, INTERVAL);
  putI64(aHdr + 40, nEpoch);
  putI64(aHdr + 48, (int64_t)p->seed);
  putU32(aHdr + 56, (uint32_t)nTags);
  if( fwrite(aHdr, 1, sizeof(aHdr), f) != sizeof(aHdr)
   || fwrite(zTags, 1, nTags, f) != nTags ) die("write failed", p->zOut);

  for(e = 0; e < nEpoch; e++){
    int64_t t = p->start + e * INTERVAL;
    for(h = 0; h < p->nHost; h++){
      unsigned char *a = aBuf + iRow * TSBS_ROW_BYTES;
      double *w = &aWalk[h * TSBS_NFIELD];
      int j;
      putI64(a, t);
      putU32(a + 8, (uint32_t)h);
      putU32(a + 12, 0);
      for(j = 0; j < TSBS_NFIELD; j++){
        double v;
        if( e > 0 ){
          /* TSBS ticks every distribution before each later epoch. */
          w[j] += rngNormal(&rng);
          if( w[j] < 0.0 ) w[j] = 0.0;
          if( w[j] > 100.0 ) w[j] = 100.0;
        }
        v = p->variant == 0 ? (double)(int64_t)w[j] : w[j];
        memcpy(a + 16 + 8 * j, &v, 8);
      }
      if( ++iRow == nBufRow ){
        if( fwrite(aBuf, TSBS_ROW_BYTES, iRow, f) != iRow ) die("write failed", p->zOut);
        iRow = 0;
      }
    }
  }
  if( iRow && fwrite(aBuf, TSBS_ROW_BYTES, iRow, f) != iRow ) die("write failed", p->zOut);
  if( fclose(f) ) die("write failed", p->zOut);
  free(aWalk);
  free(aBuf);
  free(zTags);
  return 0;
}

/* ---- queries -------------------------------------------------------------- */
static int genQueries(const Opts *p){
  int64_t nEpoch = epochsOf(p);
  int64_t dataEnd = p->start + nEpoch * INTERVAL;  /* exclusive */
  int64_t qEnd = dataEnd + NS_PER_SEC;             /* TSBS: one second after */
  int iType;
  FILE *f = fopen(p->zOut, "w");
  if( !f ) die("cannot create", p->zOut);
  fprintf(f, "# tsbs_gen queries seed=%llu hosts=%lld start=%lld end=%lld\n",
          (unsigned long long)p->seed, (long long)p->nHost, (long long)p->start,
          (long long)dataEnd);
  for(iType = 0; iType < TSBS_NQUERYTYPE; iType++){
    const TsbsQueryType *pT = &tsbsQueryTypes[iType];
    int nInst = pT->bHeavy ? p->nHeavy : p->nLight;
    int i;
    Rng rng;
    rngSeed(&rng, p->seed * 1000003ULL + (uint64_t)iType + 1);
    if( pT->window && pT->window >= qEnd - p->start ){
      die("data too short for the query windows (need more than 12 h)", pT->zName);
    }
    if( pT->nHost > p->nHost ) die("need at least 8 hosts", pT->zName);
    for(i = 0; i < nInst; i++){
      int64_t s = 0, e = 0;
      fprintf(f, "%s %d ", pT->zName, i);
      if( pT->window ){
        s = p->start + (int64_t)rngBelow(&rng, (uint64_t)(qEnd - pT->window - p->start));
        e = s + pT->window;
      }
      if( strcmp(pT->zName, "groupby-orderby-limit") == 0 ) s = 0;
      fprintf(f, "%lld %lld ", (long long)s, (long long)e);
      if( pT->nHost == 0 ){
        fputs("-\n", f);
      }else{
        int64_t aId[8];
        int k = 0, j;
        while( k < pT->nHost ){
          int64_t id = (int64_t)rngBelow(&rng, (uint64_t)p->nHost);
          for(j = 0; j < k && aId[j] != id; j++){}
          if( j == k ) aId[k++] = id;
        }
        for(j = 0; j < k; j++) fprintf(f, "%s%lld", j ? "," : "", (long long)aId[j]);
        fputc('\n', f);
      }
    }
  }
  if( fclose(f) ) die("write failed", p->zOut);
  return 0;
}

int main(int argc, char **argv){
  Opts o;
  int i;
  const char *zCmd;
  memset(&o, 0, sizeof(o));
  o.nHost = 100;
  o.days = 3;
  o.seed = 123;
  o.start = DEFAULT_START;
  o.nLight = 20;
  o.nHeavy = 10;
  if( argc < 2 ) die("usage: tsbs_gen data|queries -o FILE [options] (see bench/tsbs_gen.c)", 0);
  zCmd = argv[1];
  for(i = 2; i < argc; i++){
    const char *z = argv[i];
    const char *zV = i + 1 < argc ? argv[i + 1] : 0;
    if( z[0] != '-' || !z[1] || z[2] || !zV ) die("bad option", z);
    i++;
    switch( z[1] ){
      case 'o': o.zOut = zV; break;
      case 'v':
        if( strcmp(zV, "tsbs-int") == 0 ) o.variant = 0;
        else if( strcmp(zV, "real-float") == 0 ) o.variant = 1;
        else die("variant must be tsbs-int or real-float", zV);
        break;
      case 'H': o.nHost = parseInt(zV, "-H"); break;
      case 'D': {
        char *zEnd = 0;
        o.days = strtod(zV, &zEnd);
        if( zEnd == zV || *zEnd || !(o.days > 0) ) die("bad -D days", zV);
        break;
      }
      case 's': o.seed = (uint64_t)parseInt(zV, "-s"); break;
      case 'S': o.start = parseInt(zV, "-S"); break;
      case 'n': o.nLight = (int)parseInt(zV, "-n"); break;
      case 'N': o.nHeavy = (int)parseInt(zV, "-N"); break;
      default: die("unknown option", z);
    }
  }
  if( !o.zOut ) die("-o FILE is required", 0);
  if( o.nHost < 1 || o.nHost > 1000000 ) die("hosts must be 1..1000000", 0);
  if( epochsOf(&o) < 1 ) die("days too small", 0);
  if( o.nLight < 1 || o.nHeavy < 1 ) die("instances must be >= 1", 0);
  if( strcmp(zCmd, "data") == 0 ) return genData(&o);
  if( strcmp(zCmd, "queries") == 0 ) return genQueries(&o);
  die("unknown command (data or queries)", zCmd);
  return 2;
}
