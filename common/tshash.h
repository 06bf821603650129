/*
** tshash.h: FNV-1a 32, the one byte-string hash of the project.  It names
** cold-tier partition buckets (a format rule: docs/internals/cold-format.md
** section 1, see tsColdBucket in ext/codec/coldscan.h), so its value must
** never change; hash tables (chunk dictionaries, the object cache, backup
** series sets) use it too.  Inline: it sits on the chunk encoder's path.
*/
#ifndef TS_TSHASH_H
#define TS_TSHASH_H
#include <stddef.h>
#include <stdint.h>

static inline uint32_t tsFnv1a32(const void *p, size_t n){
  const unsigned char *a = (const unsigned char*)p;
  uint32_t h = 2166136261u;
  size_t i;
  for(i=0; i<n; i++){ h ^= a[i]; h *= 16777619u; }
  return h;
}

#endif
