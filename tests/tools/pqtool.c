/*
** pqtool: command-line driver of the Parquet codec, used by the node tests
** (tests/js/parquet_*.test.mjs) and for measurements.
**
**   pqtool write [options] OUT.parquet < rows
**       First stdin line: the schema, comma-separated NAME:KIND[:null][:ENC]
**       with KIND int64|double|bool|string|bytes|ts|tsus|tsms|date|int32 and
**       ENC auto|plain|dict|delta|bss.  Every further line is one row of
**       tab-separated values; \N is NULL; in strings \t \n \\ are escapes.
**       Options: -c none|gzip|zstd  -g ROWGROUP_BYTES  -r ROWGROUP_ROWS
**                -p PAGE_ROWS  -P PAGE_BYTES  -d DICT_MAX_BYTES  -D (no dict)
**                -S (no statistics)  -I (no page index)  -b (batch append)
**                -s 0,1 (rows sorted by these columns: sorting_columns)
**                -L (timestamps with isAdjustedToUTC=false)
**   pqtool dump [-c col,col] [-f COL:MIN:MAX] FILE.parquet
**       Prints each row as a JSON array (integers as strings, doubles with
**       17 digits, NaN/Infinity as strings, NULL as null).  -f prunes with
**       a range on one integer/double/string column (row groups and pages).
**   pqtool meta FILE.parquet
**       Prints schema, row groups and chunk statistics as JSON.
**   pqtool bench ROWS OUT.parquet [-c codec]
**       Writes TSBS-like cpu rows, then scans them; prints throughput.
** Exit status: 0 ok, 1 on error (message on stderr, prefixed by the code).
*/
#include "parquet.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int fileWrite(void *pCtx, const void *a, size_t n){
  return fwrite(a, 1, n, (FILE*)pCtx)==n ? 0 : 1;
}
static int fileRead(void *pCtx, int64_t iOff, int64_t n, void *pOut){
  FILE *f = (FILE*)pCtx;
  if( fseeko(f, (off_t)iOff, SEEK_SET) ) return 1;
  return fread(pOut, 1, (size_t)n, f)==(size_t)n ? 0 : 1;
}

static int kindOf(const char *z){
  static const struct { const char *z; int e; } a[] = {
    {"int64", TS_PQ_INT64}, {"double", TS_PQ_DOUBLE}, {"bool", TS_PQ_BOOLEAN},
    {"string", TS_PQ_STRING}, {"bytes", TS_PQ_BYTES}, {"ts", TS_PQ_TIMESTAMP_NS},
    {"tsus", TS_PQ_TIMESTAMP_US}, {"tsms", TS_PQ_TIMESTAMP_MS}, {"date", TS_PQ_DATE},
    {"int32", TS_PQ_INT32},
  };
  size_t i;
  for(i=0; i<sizeof(a)/sizeof(a[0]); i++) if( strcmp(a[i].z, z)==0 ) return a[i].e;
  return -1;
}
static int encOf(const char *z){
  if( strcmp(z, "auto")==0 ) return TS_PQ_ENC_AUTO;
  if( strcmp(z, "plain")==0 ) return TS_PQ_ENC_PLAIN;
  if( strcmp(z, "dict")==0 ) return TS_PQ_ENC_DICT;
  if( strcmp(z, "delta")==0 ) return TS_PQ_ENC_DELTA;
  if( strcmp(z, "bss")==0 ) return TS_PQ_ENC_BSS;
  return -1;
}
static int codecOf(const char *z){
  if( strcmp(z, "none")==0 ) return TS_PQ_CODEC_NONE;
  if( strcmp(z, "gzip")==0 ) return TS_PQ_CODEC_GZIP;
  if( strcmp(z, "zstd")==0 ) return TS_PQ_CODEC_ZSTD;
  if( strcmp(z, "snappy")==0 ) return TS_PQ_CODEC_SNAPPY;
  return -1;
}

static char *readLine(FILE *f, size_t *pn){
  char *z = 0;
  size_t nAlloc = 0;
  ssize_t n = getline(&z, &nAlloc, f);
  if( n<0 ){ free(z); return 0; }
  if( n>0 && z[n-1]=='\n' ) z[--n] = 0;
  *pn = (size_t)n;
  return z;
}

/* Unescape in place; returns new length. */
static size_t unescape(char *z, size_t n){
  size_t i, j = 0;
  for(i=0; i<n; i++){
    if( z[i]=='\\' && i+1<n ){
      char c = z[++i];
      z[j++] = c=='t' ? '\t' : c=='n' ? '\n' : c=='r' ? '\r' : c;
    }else{
      z[j++] = z[i];
    }
  }
  return j;
}

static int cmdWrite(int argc, char **argv){
  TsPqWriteOpts o;
  TsPqColumnSpec aCol[256];
  int nCol = 0, i, rc, bBatch = 0;
  const char *zOut = 0;
  char *zLine, *zSchema, *zTok, *zSave = 0;
  size_t n;
  FILE *out;
  TsPqWriter *w = 0;
  tsPqWriteOptsInit(&o);
  for(i=0; i<argc; i++){
    const char *a = argv[i];
    if( strcmp(a, "-c")==0 && i+1<argc ) o.eCodec = codecOf(argv[++i]);
    else if( strcmp(a, "-g")==0 && i+1<argc ) o.nRowGroupBytes = atoll(argv[++i]);
    else if( strcmp(a, "-r")==0 && i+1<argc ) o.nRowGroupRows = atoll(argv[++i]);
    else if( strcmp(a, "-p")==0 && i+1<argc ) o.nPageRows = atoi(argv[++i]);
    else if( strcmp(a, "-P")==0 && i+1<argc ) o.nPageBytes = atoi(argv[++i]);
    else if( strcmp(a, "-d")==0 && i+1<argc ) o.nDictMaxBytes = atoi(argv[++i]);
    else if( strcmp(a, "-D")==0 ) o.bNoDictionary = 1;
    else if( strcmp(a, "-S")==0 ) o.bNoStatistics = 1;
    else if( strcmp(a, "-I")==0 ) o.bNoPageIndex = 1;
    else if( strcmp(a, "-b")==0 ) bBatch = 1;
    else if( strcmp(a, "-L")==0 ) o.bLocalTime = 1;
    else if( strcmp(a, "-s")==0 && i+1<argc ){
      /* comma-separated sort column indexes */
      static int aSort[64];
      char *z = argv[++i];
      o.nSortCol = 0;
      while( *z && o.nSortCol<64 ){
        aSort[o.nSortCol++] = atoi(z);
        while( *z && *z!=',' ) z++;
        if( *z==',' ) z++;
      }
      o.aSortCol = aSort;
    }
    else zOut = a;
  }
  if( !zOut ){ fprintf(stderr, "usage: pqtool write [opts] OUT < rows\n"); return 1; }
  zSchema = readLine(stdin, &n);
  if( !zSchema ){ fprintf(stderr, "no schema line\n"); return 1; }
  for(zTok=strtok_r(zSchema, ",", &zSave); zTok && nCol<256; zTok=strtok_r(0, ",", &zSave)){
    char *zK = strchr(zTok, ':'), *zRest;
    TsPqColumnSpec *s = &aCol[nCol++];
    memset(s, 0, sizeof(*s));
    if( !zK ){ fprintf(stderr, "bad column spec %s\n", zTok); return 1; }
    *zK++ = 0;
    s->zName = zTok;
    zRest = strchr(zK, ':');
    if( zRest ) *zRest++ = 0;
    s->eType = kindOf(zK);
    while( zRest ){
      char *zNext = strchr(zRest, ':');
      if( zNext ) *zNext++ = 0;
      if( strcmp(zRest, "null")==0 ) s->bNullable = 1;
      else s->eEncoding = encOf(zRest);
      zRest = zNext;
    }
  }
  out = fopen(zOut, "wb");
  if( !out ){ fprintf(stderr, "cannot open %s: %s\n", zOut, strerror(errno)); return 1; }
  rc = tsPqWriterOpen(&w, aCol, nCol, &o, fileWrite, out);
  while( rc==0 && (zLine = readLine(stdin, &n))!=0 ){
    char *z = zLine;
    TsPqColumnData aD[256];
    int64_t aOff[2];
    unsigned char aNull[1];
    int64_t aInt[1]; double aDbl[1];
    for(i=0; i<nCol && rc==0; i++){
      char *zEnd = strchr(z, '\t');
      size_t nF;
      int bNull;
      if( zEnd ) *zEnd = 0;
      nF = strlen(z);
      bNull = strcmp(z, "\\N")==0;
      memset(&aD[i], 0, sizeof(aD[i]));
      if( bBatch ){
        /* one-row batches exercise the batch path with the same input */
        TsPqColumnData *d = &aD[i];
        static int64_t aaOff[256][2]; static unsigned char aaNull[256]; static int64_t aaInt[256];
        static double aaDbl[256];
        d->nRow = 1;
        aaNull[i] = (unsigned char)bNull; d->aNull = &aaNull[i];
        d->aInt = &aaInt[i]; d->aDbl = &aaDbl[i]; d->aOff = aaOff[i];
        aaInt[i] = 0; aaDbl[i] = 0; aaOff[i][0] = 0; aaOff[i][1] = 0;
        d->aData = (unsigned char*)z;
        if( !bNull ){
          int k = aCol[i].eType;
          if( k==TS_PQ_STRING || k==TS_PQ_BYTES ) aaOff[i][1] = (int64_t)unescape(z, nF);
          else if( k==TS_PQ_DOUBLE ) aaDbl[i] = strtod(z, 0);
          else if( k==TS_PQ_BOOLEAN ) aaInt[i] = (strcmp(z, "true")==0 || strcmp(z, "1")==0);
          else aaInt[i] = strtoll(z, 0, 10);
        }
      }else if( bNull ){
        rc = tsPqWriterNull(w, i);
      }else{
        int k = aCol[i].eType;
        if( k==TS_PQ_STRING || k==TS_PQ_BYTES ) rc = tsPqWriterText(w, i, z, (int64_t)unescape(z, nF));
        else if( k==TS_PQ_DOUBLE ) rc = tsPqWriterDouble(w, i, strtod(z, 0));
        else if( k==TS_PQ_BOOLEAN ) rc = tsPqWriterBool(w, i, strcmp(z, "true")==0 || strcmp(z, "1")==0);
        else rc = tsPqWriterInt64(w, i, strtoll(z, 0, 10));
      }
      z = zEnd ? zEnd+1 : z+nF;
    }
    (void)aOff; (void)aNull; (void)aInt; (void)aDbl;
    if( rc==0 ) rc = bBatch ? tsPqWriterAppend(w, 1, aD) : tsPqWriterEndRow(w);
    free(zLine);
  }
  if( rc==0 ) rc = tsPqWriterFinish(w);
  if( rc ) fprintf(stderr, "error %d: %s\n", rc, tsPqWriterErrmsg(w));
  tsPqWriterFree(w);
  free(zSchema);
  if( fclose(out) ) rc = 1;
  return rc ? 1 : 0;
}

static void jsonStr(const unsigned char *z, int64_t n){
  int64_t i;
  putchar('"');
  for(i=0; i<n; i++){
    unsigned char c = z[i];
    if( c=='"' || c=='\\' ){ putchar('\\'); putchar(c); }
    else if( c<0x20 ) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static void jsonDbl(double r){
  if( isnan(r) ) printf("\"NaN\"");
  else if( isinf(r) ) printf(r>0 ? "\"Infinity\"" : "\"-Infinity\"");
  else printf("%.17g", r);
}

static int openReader(const char *zFile, FILE **pf, TsPqReader **pr){
  FILE *f = fopen(zFile, "rb");
  char *zErr = 0;
  int64_t nFile;
  int rc;
  if( !f ){ fprintf(stderr, "error 10: cannot open %s\n", zFile); return 1; }
  fseeko(f, 0, SEEK_END);
  nFile = (int64_t)ftello(f);
  rc = tsPqReaderOpen(pr, fileRead, f, nFile, &zErr);
  if( rc ){
    fprintf(stderr, "error %d: %s\n", rc, zErr ? zErr : "?");
    free(zErr);
    fclose(f);
    return 1;
  }
  *pf = f;
  return 0;
}

static int cmdDump(int argc, char **argv){
  const char *zFile = 0, *zCols = 0, *zFilter = 0;
  FILE *f;
  TsPqReader *r;
  int aCol[256], nCol = 0, i, g, rc = 0;
  TsPqRange rg;
  int nRange = 0;
  char *zFCopy = 0;
  for(i=0; i<argc; i++){
    if( strcmp(argv[i], "-c")==0 && i+1<argc ) zCols = argv[++i];
    else if( strcmp(argv[i], "-f")==0 && i+1<argc ) zFilter = argv[++i];
    else zFile = argv[i];
  }
  if( !zFile ){ fprintf(stderr, "usage: pqtool dump FILE\n"); return 1; }
  if( openReader(zFile, &f, &r) ) return 1;
  if( zCols ){
    char *z = strdup(zCols), *t, *s = 0;
    for(t=strtok_r(z, ",", &s); t && nCol<256; t=strtok_r(0, ",", &s)){
      int k = tsPqReaderFindColumn(r, t);
      if( k<0 ){ fprintf(stderr, "error 1: no column %s\n", t); free(z); return 1; }
      aCol[nCol++] = k;
    }
    free(z);
  }else{
    for(i=0; i<tsPqReaderColumnCount(r) && i<256; i++) aCol[nCol++] = i;
  }
  memset(&rg, 0, sizeof(rg));
  if( zFilter ){
    char *zMin, *zMax;
    const TsPqColumnInfo *ci;
    zFCopy = strdup(zFilter);
    zMin = strchr(zFCopy, ':');
    if( !zMin ){ fprintf(stderr, "error 1: filter is COL:MIN:MAX\n"); return 1; }
    *zMin++ = 0;
    zMax = strchr(zMin, ':');
    if( !zMax ){ fprintf(stderr, "error 1: filter is COL:MIN:MAX\n"); return 1; }
    *zMax++ = 0;
    rg.iCol = tsPqReaderFindColumn(r, zFCopy);
    if( rg.iCol<0 ){ fprintf(stderr, "error 1: no column %s\n", zFCopy); return 1; }
    ci = tsPqReaderColumn(r, rg.iCol);
    rg.bMin = zMin[0]!=0; rg.bMax = zMax[0]!=0;
    if( ci->eType==TS_PQ_DOUBLE || ci->eType==TS_PQ_FLOAT ){
      rg.min.r = strtod(zMin, 0); rg.max.r = strtod(zMax, 0);
    }else if( ci->eType==TS_PQ_STRING || ci->eType==TS_PQ_BYTES ){
      rg.min.z = zMin; rg.min.n = (int64_t)strlen(zMin);
      rg.max.z = zMax; rg.max.n = (int64_t)strlen(zMax);
    }else{
      rg.min.i = strtoll(zMin, 0, 10); rg.max.i = strtoll(zMax, 0, 10);
    }
    nRange = 1;
  }
  for(g=0; g<tsPqReaderRowGroupCount(r) && rc==0; g++){
    TsPqColumnData aD[256];
    TsPqRowSel sel;
    int64_t k;
    memset(aD, 0, sizeof(aD));
    memset(&sel, 0, sizeof(sel));
    if( nRange && !tsPqReaderRowGroupMayMatch(r, g, &rg, nRange) ) continue;
    if( nRange ) rc = tsPqReaderSelectRows(r, g, &rg, nRange, &sel);
    for(i=0; i<nCol && rc==0; i++){
      rc = tsPqReaderReadColumn(r, g, aCol[i], nRange ? &sel : 0, &aD[i]);
    }
    if( rc ){
      fprintf(stderr, "error %d: %s\n", rc, tsPqReaderErrmsg(r));
    }else{
      int64_t nRow = nCol ? aD[0].nRow : 0;
      for(k=0; k<nRow; k++){
        putchar('[');
        for(i=0; i<nCol; i++){
          const TsPqColumnInfo *ci = tsPqReaderColumn(r, aCol[i]);
          TsPqColumnData *d = &aD[i];
          if( i ) putchar(',');
          if( d->aNull && d->aNull[k] ){ printf("null"); continue; }
          switch( ci->eType ){
            case TS_PQ_DOUBLE: case TS_PQ_FLOAT: jsonDbl(d->aDbl[k]); break;
            case TS_PQ_BOOLEAN: printf(d->aInt[k] ? "true" : "false"); break;
            case TS_PQ_STRING: case TS_PQ_BYTES:
              jsonStr(d->aData+d->aOff[k], d->aOff[k+1]-d->aOff[k]); break;
            default: printf("\"%lld\"", (long long)d->aInt[k]); break;
          }
        }
        printf("]\n");
      }
    }
    for(i=0; i<nCol; i++) tsPqColumnDataFree(&aD[i]);
    tsPqRowSelFree(&sel);
  }
  free(zFCopy);
  tsPqReaderFree(r);
  fclose(f);
  return rc ? 1 : 0;
}

static int cmdMeta(int argc, char **argv){
  FILE *f;
  TsPqReader *r;
  int i, g;
  if( argc<1 ){ fprintf(stderr, "usage: pqtool meta FILE\n"); return 1; }
  if( openReader(argv[0], &f, &r) ) return 1;
  printf("{\"rows\":%lld,\"columns\":[", (long long)tsPqReaderRowCount(r));
  for(i=0; i<tsPqReaderColumnCount(r); i++){
    const TsPqColumnInfo *c = tsPqReaderColumn(r, i);
    printf("%s{\"name\":", i ? "," : "");
    jsonStr((const unsigned char*)c->zName, (int64_t)strlen(c->zName));
    printf(",\"kind\":%d,\"physical\":%d,\"nullable\":%d,\"utc\":%d}", c->eType, c->ePhysical,
           c->bNullable, c->bUtc);
  }
  printf("],\"rowGroups\":[");
  for(g=0; g<tsPqReaderRowGroupCount(r); g++){
    printf("%s{\"rows\":%lld,\"chunks\":[", g ? "," : "", (long long)tsPqReaderRowGroupRows(r, g));
    for(i=0; i<tsPqReaderColumnCount(r); i++){
      TsPqStats s;
      const TsPqColumnInfo *c = tsPqReaderColumn(r, i);
      if( tsPqReaderChunkStats(r, g, i, &s) ){ printf("%snull", i ? "," : ""); continue; }
      printf("%s{\"codec\":%d,\"values\":%lld,\"pageIndex\":%d", i ? "," : "", s.eCodec,
             (long long)s.nValue, s.bPageIndex);
      if( s.bNullCount ) printf(",\"nulls\":%lld", (long long)s.nNull);
      if( s.bMinMax ){
        printf(",\"min\":");
        if( c->eType==TS_PQ_DOUBLE || c->eType==TS_PQ_FLOAT ) jsonDbl(s.min.r);
        else if( c->eType==TS_PQ_STRING || c->eType==TS_PQ_BYTES )
          jsonStr((const unsigned char*)s.min.z, s.min.n);
        else printf("\"%lld\"", (long long)s.min.i);
        printf(",\"max\":");
        if( c->eType==TS_PQ_DOUBLE || c->eType==TS_PQ_FLOAT ) jsonDbl(s.max.r);
        else if( c->eType==TS_PQ_STRING || c->eType==TS_PQ_BYTES )
          jsonStr((const unsigned char*)s.max.z, s.max.n);
        else printf("\"%lld\"", (long long)s.max.i);
      }
      printf("}");
    }
    printf("]}");
  }
  printf("]}\n");
  tsPqReaderFree(r);
  fclose(f);
  return 0;
}

static double nowSec(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec/1e9;
}

/* TSBS-like cpu data: nHost hosts, 10 s interval, 10 integer-valued
** random-walk measures in 0..100 as DOUBLE; rows sorted by host, time. */
static int cmdBench(int argc, char **argv){
  int64_t nRow, i;
  int nHost = 100, k, rc;
  const char *zOut;
  TsPqWriteOpts o;
  TsPqColumnSpec aCol[12];
  static const char *azM[10] = {"usage_user","usage_system","usage_idle","usage_nice",
    "usage_iowait","usage_irq","usage_softirq","usage_steal","usage_guest","usage_guest_nice"};
  TsPqWriter *w = 0;
  FILE *out, *f;
  TsPqReader *r;
  double t0, t1, t2, tWrite;
  int64_t nBytes, nScan = 0;
  double aCur[10];
  uint64_t seed = 42;
  if( argc<2 ){ fprintf(stderr, "usage: pqtool bench ROWS OUT [-c codec] [-h hosts]\n"); return 1; }
  nRow = atoll(argv[0]);
  zOut = argv[1];
  tsPqWriteOptsInit(&o);
  for(k=2; k+1<argc; k+=2){
    if( strcmp(argv[k], "-c")==0 ) o.eCodec = codecOf(argv[k+1]);
    if( strcmp(argv[k], "-h")==0 ) nHost = atoi(argv[k+1]);
    if( strcmp(argv[k], "-p")==0 ) o.nPageRows = atoi(argv[k+1]);
    if( strcmp(argv[k], "-P")==0 ) o.nPageBytes = atoi(argv[k+1]);
  }
  memset(aCol, 0, sizeof(aCol));
  aCol[0].zName = "hostname"; aCol[0].eType = TS_PQ_STRING;
  aCol[1].zName = "time"; aCol[1].eType = TS_PQ_TIMESTAMP_NS;
  for(k=0; k<10; k++){ aCol[2+k].zName = azM[k]; aCol[2+k].eType = TS_PQ_DOUBLE; }
  out = fopen(zOut, "wb");
  if( !out ) return 1;
  t0 = nowSec();
  rc = tsPqWriterOpen(&w, aCol, 12, &o, fileWrite, out);
  {
    int64_t perHost = nRow/nHost;
    for(i=0; i<nRow && rc==0; i++){
      int64_t h = i/perHost, t = i%perHost;
      char zHost[32];
      int n = snprintf(zHost, sizeof(zHost), "host_%lld", (long long)h);
      if( t==0 ) for(k=0; k<10; k++) { seed = seed*6364136223846793005ULL+1442695040888963407ULL; aCur[k] = (double)((seed>>33)%101); }
      rc = tsPqWriterText(w, 0, zHost, n);
      if( rc==0 ) rc = tsPqWriterInt64(w, 1, 1451606400000000000LL + t*10000000000LL);
      for(k=0; k<10 && rc==0; k++){
        int step;
        seed = seed*6364136223846793005ULL+1442695040888963407ULL;
        step = (int)((seed>>33)%3) - 1;
        aCur[k] += step;
        if( aCur[k]<0 ) aCur[k] = 0;
        if( aCur[k]>100 ) aCur[k] = 100;
        rc = tsPqWriterDouble(w, 2+k, aCur[k]);
      }
      if( rc==0 ) rc = tsPqWriterEndRow(w);
    }
  }
  if( rc==0 ) rc = tsPqWriterFinish(w);
  t1 = nowSec();
  if( rc ){ fprintf(stderr, "error %d: %s\n", rc, tsPqWriterErrmsg(w)); return 1; }
  tWrite = t1-t0;
  nBytes = tsPqWriterBytesWritten(w);
  tsPqWriterFree(w);
  fclose(out);
  if( openReader(zOut, &f, &r) ) return 1;
  t1 = nowSec();
  {
    int g;
    for(g=0; g<tsPqReaderRowGroupCount(r); g++){
      for(k=0; k<12; k++){
        TsPqColumnData d;
        memset(&d, 0, sizeof(d));
        if( tsPqReaderReadColumn(r, g, k, 0, &d) ){
          fprintf(stderr, "error: %s\n", tsPqReaderErrmsg(r)); return 1;
        }
        nScan += d.nRow;
        tsPqColumnDataFree(&d);
      }
    }
  }
  t2 = nowSec();
  tsPqReaderFree(r);
  fclose(f);
  {
    /* raw size: 8-byte time + 10 doubles + hostname bytes as PLAIN */
    double nVal = (double)nRow*12;
    printf("{\"rows\":%lld,\"bytes\":%lld,\"bytesPerValue\":%.4f,\"bytesPerMeasure\":%.4f,"
           "\"writeSec\":%.3f,\"writeValuesPerSec\":%.0f,\"writeMBps\":%.1f,"
           "\"scanSec\":%.3f,\"scanValuesPerSec\":%.0f,\"scanMBps\":%.1f}\n",
           (long long)nRow, (long long)nBytes, nBytes/nVal, nBytes/((double)nRow*10),
           tWrite, nVal/tWrite, (double)nRow*(8*11+10)/1e6/tWrite,
           t2-t1, (double)nScan/(t2-t1), (double)nRow*(8*11+10)/1e6/(t2-t1));
  }
  return 0;
}

int main(int argc, char **argv){
  if( argc<2 ){
    fprintf(stderr, "usage: pqtool write|dump|meta|bench ...\n");
    return 1;
  }
  if( strcmp(argv[1], "write")==0 ) return cmdWrite(argc-2, argv+2);
  if( strcmp(argv[1], "dump")==0 ) return cmdDump(argc-2, argv+2);
  if( strcmp(argv[1], "meta")==0 ) return cmdMeta(argc-2, argv+2);
  if( strcmp(argv[1], "bench")==0 ) return cmdBench(argc-2, argv+2);
  fprintf(stderr, "unknown command %s\n", argv[1]);
  return 1;
}
