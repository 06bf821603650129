/*
** trng.h: the deterministic test PRNG (splitmix64) shared by the chunk
** codec's unit test and its speed tool, so both generate the same data
** shapes.  Define TRNG_SEED before including to change the start state.
*/
#ifndef TRNG_H
#define TRNG_H
#include <math.h>
#include <stdint.h>

#ifndef TRNG_SEED
#define TRNG_SEED 0x1234567887654321ULL
#endif

static uint64_t rngState = TRNG_SEED;
static uint64_t rnd(void){
  uint64_t z = (rngState += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
/* Uniform in [0,1) with 53 random bits. */
static double rndUnit(void){ return (double)(rnd() >> 11) / 9007199254740992.0; }
/* Standard normal (Box-Muller). */
static double rndNormal(void){
  double u = rndUnit(), v = rndUnit();
  if( u<1e-300 ) u = 1e-300;
  return sqrt(-2.0*log(u)) * cos(6.283185307179586*v);
}
#endif
