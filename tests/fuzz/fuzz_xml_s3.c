/* libFuzzer target: the expat walker of s3/s3xml.c over hostile S3
** responses (any bytes from a misbehaving or malicious endpoint).  Checks
** the walker reports paths that are NUL-terminated, bounded and never
** longer than the limit, and that Error parsing agrees with the root. */
#include "s3xml.h"
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stddef.h>

static int cb(void *p, const char *zPath, const char *zText, size_t nText){
  size_t *pn = (size_t*)p;
  if( strlen(zPath)>1024 ) abort();
  if( strlen(zText)>nText ) abort();   /* text may hold NULs only via escapes expat refuses */
  (*pn)++;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *a, size_t n){
  size_t nEvents = 0;
  char zRoot[64], zCode[128], zMsg[256];
  int bErr;
  if( n>100000 ) return 0;
  (void)tsS3XmlWalk((const char*)a, n, cb, &nEvents);
  tsS3XmlRoot((const char*)a, n, zRoot, sizeof(zRoot));
  bErr = tsS3XmlError((const char*)a, n, zCode, sizeof(zCode), zMsg, sizeof(zMsg));
  if( strlen(zCode)>=sizeof(zCode) || strlen(zMsg)>=sizeof(zMsg) ) abort();
  if( bErr && strcmp(zRoot, "Error")!=0 && zRoot[0] ) {
    /* an <Error> element below another root also counts only at the root */
    if( strchr(zRoot, '/') ) abort();
  }
  return 0;
}
