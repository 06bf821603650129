/* libFuzzer target: ts_unload's options_json parser (ext/unload_opts.c) and
** its max_file_size parser.  Any bytes (NUL-terminated copy); a success must
** give values inside the documented ranges, a failure a message; nothing may
** leak or over-read.  Seeds: tests/fuzz/corpus/fuzz_unload_opts/. */
#include "unload.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *a, size_t n){
  TsUnloadOpts o;
  char *zErr = 0;
  char *z;
  int64_t nByte;
  if( n>4096 ) return 0;
  z = malloc(n+1);
  if( z==0 ) return 0;
  memcpy(z, a, n);
  z[n] = 0;
  memset(&o, 0, sizeof(o));
  if( tsUnloadOptsParse(z, &o, &zErr)==0 ){
    int i;
    if( zErr ) abort();
    if( o.eFormat!=TS_UNLOAD_CSV && o.eFormat!=TS_UNLOAD_PARQUET ) abort();
    if( o.nPartition<0 || (o.nPartition>0 && o.azPartition==0) ) abort();
    for(i=0; i<o.nPartition; i++){ if( o.azPartition[i]==0 || o.azPartition[i][0]==0 ) abort(); }
    if( o.nMaxFileSize<=0 ) abort();
  }else{
    if( zErr==0 ) abort();
  }
  free(zErr);
  tsUnloadOptsFree(&o);
  (void)tsUnloadParseSize(z, &nByte);
  free(z);
  return 0;
}
