/*
** test_parquet.c: unit tests of the Parquet codec: thrift compact protocol,
** RLE/bit-packed hybrid, DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT, snappy,
** codecs, writer -> reader round trips (every kind, encoding, codec, null
** pattern, 0 rows to several row groups), pruning, API errors, and corrupt
** input (truncation at every length, bit flips) rejected without crashing.
*/
#include "tt.h"
#include "pq_int.h"
#include <stdlib.h>
#include <math.h>

/*------------------------------ memory file ------------------------------*/
typedef struct MemFile { TsBuf b; int nFailAt; int nReads; } MemFile;
static int memWrite(void *p, const void *a, size_t n){
  MemFile *m = (MemFile*)p;
  if( m->nFailAt>0 && m->b.n+n>=(size_t)m->nFailAt ) return 1;
  tsBufAppend(&m->b, a, n);
  return m->b.bErr;
}
typedef struct MemSrc { const unsigned char *a; int64_t n; int nReads; } MemSrc;
static int memRead(void *p, int64_t off, int64_t n, void *out){
  MemSrc *s = (MemSrc*)p;
  if( off<0 || n<0 || off+n>s->n ) return 1;
  memcpy(out, s->a+off, (size_t)n);
  s->nReads++;
  return 0;
}

/*------------------------------ thrift ------------------------------*/
static void testThrift(void){
  TsBuf b; PqTw tw; PqTr tr;
  int iLast = 0, id, t, i, nOk = 0;
  int32_t v32; int64_t v64; const unsigned char *a; int64_t n; int eElem;
  tsBufInit(&b);
  tsPqTwInit(&tw, &b);
  tsPqTwStructBegin(&tw);
  tsPqTwFieldI32(&tw, 1, -5);
  tsPqTwFieldBin(&tw, 4, "ts", 2);
  tsPqTwFieldI64(&tw, 40, 1700000000000000001LL);   /* long-form header */
  tsPqTwFieldList(&tw, 41, PQ_TT_I32, 20);           /* long list header */
  for(i=0; i<20; i++) tsPqTwI32(&tw, i*i);
  tsPqTwFieldStruct(&tw, 42);
  tsPqTwFieldBool(&tw, 1, 1);
  tsPqTwStructEnd(&tw);
  tsPqTwFieldBool(&tw, 43, 0);
  tsPqTwStructEnd(&tw);
  TT_CHECK("thrift: field header short form (delta 1, i32)", b.a[0]==0x15 && b.a[1]==0x09);
  TT_CHECK("thrift: field header long form for delta > 15", b.a[6]==0x06 && b.a[7]==80);
  tsPqTrInit(&tr, b.a, b.n);
  while( (t = tsPqTrField(&tr, &iLast, &id))>0 ){
    if( id==1 && tsPqTrI32(&tr, t, &v32)==0 && v32==-5 ) nOk++;
    else if( id==4 && tsPqTrBin(&tr, t, &a, &n)==0 && n==2 && memcmp(a, "ts", 2)==0 ) nOk++;
    else if( id==40 && tsPqTrI64(&tr, t, &v64)==0 && v64==1700000000000000001LL ) nOk++;
    else if( id==41 && tsPqTrList(&tr, t, &eElem, &n)==0 && n==20 && eElem==PQ_TT_I32 ){
      int bGood = 1;
      for(i=0; i<20; i++){ if( tsPqTrI32(&tr, PQ_TT_I32, &v32) || v32!=i*i ) bGood = 0; }
      nOk += bGood;
    }else if( id==42 && tsPqTrSkip(&tr, t)==0 ) nOk++;
    else if( id==43 && t==PQ_TT_FALSE ) nOk++;
  }
  TT_CHECK("thrift: every field decodes back", t==0 && nOk==6);
  TT_CHECK("thrift: decoder consumed everything", tr.rd.i==b.n);
  /* truncation at every length is an error, never an over-read */
  {
    int bAll = 1;
    size_t k;
    for(k=0; k<b.n; k++){
      unsigned char *c = malloc(k ? k : 1);
      memcpy(c, b.a, k);
      tsPqTrInit(&tr, c, k);
      if( tsPqTrSkip(&tr, PQ_TT_STRUCT)==0 ) bAll = 0;
      free(c);
    }
    TT_CHECK("thrift: truncated struct rejected at every length", bAll);
  }
  /* nesting bomb: 1000 nested struct headers */
  {
    unsigned char bomb[1000];
    memset(bomb, 0x1c, sizeof(bomb));
    tsPqTrInit(&tr, bomb, sizeof(bomb));
    TT_CHECK("thrift: deep nesting rejected", tsPqTrSkip(&tr, PQ_TT_STRUCT)!=0);
  }
  {
    unsigned char huge[] = { 0x19, 0xf5, 0xff, 0xff, 0xff, 0x0f };  /* list of 2^32 i32 */
    int e; int64_t nl;
    iLast = 0;
    tsPqTrInit(&tr, huge, sizeof(huge));
    t = tsPqTrField(&tr, &iLast, &id);
    TT_CHECK("thrift: list longer than its input rejected", t==PQ_TT_LIST && tsPqTrList(&tr, t, &e, &nl)!=0);
  }
  tsBufFree(&b);
}

/*------------------------------ encodings ------------------------------*/
static uint64_t rng = 88172645463325252ULL;
static uint64_t xr(void){ rng ^= rng<<13; rng ^= rng>>7; rng ^= rng<<17; return rng; }

static void testRle(void){
  int w, bAll = 1;
  TsBuf b;
  tsBufInit(&b);
  for(w=0; w<=32; w++){
    int pat;
    for(pat=0; pat<4; pat++){
      int64_t n = pat==0 ? 0 : pat==1 ? 1 : pat==2 ? 1000 : 77, i;
      uint32_t *a = malloc(sizeof(uint32_t)*(size_t)(n+1)), *o = malloc(sizeof(uint32_t)*(size_t)(n+1));
      uint32_t mask = w==32 ? 0xffffffffu : ((1u<<w)-1);
      for(i=0; i<n; i++){
        /* runs and noise mixed */
        a[i] = ((i/13)%3==0) ? (uint32_t)(i/13) & mask : (uint32_t)xr() & mask;
      }
      tsBufReset(&b);
      tsPqRleEncode(&b, a, n, w);
      if( tsPqRleDecode(b.a, b.n, w, o, n) || (n && memcmp(a, o, sizeof(uint32_t)*(size_t)n)) ) bAll = 0;
      free(a); free(o);
    }
  }
  TT_CHECK("rle hybrid: round trip widths 0..32, runs and literals", bAll);
  {
    uint32_t a[100], o[100];
    int i;
    for(i=0; i<100; i++) a[i] = 1;
    tsBufReset(&b);
    tsPqRleEncode(&b, a, 100, 1);
    TT_CHECK("rle hybrid: 100 present levels = one RLE run (c8 01 01)",
             b.n==3 && b.a[0]==0xc8 && b.a[1]==0x01 && b.a[2]==0x01);
    TT_CHECK("rle hybrid: decode it", tsPqRleDecode(b.a, b.n, 1, o, 100)==0 && o[99]==1);
    TT_CHECK("rle hybrid: asking for more values than encoded fails", tsPqRleDecode(b.a, b.n, 1, o, 100)==0
             && tsPqRleDecode(b.a, 2, 1, o, 100)!=0);
  }
  {
    unsigned char bad[] = { 0x04, 0x05 };  /* RLE run of 2 with value 5 at width 1 */
    uint32_t o[2];
    TT_CHECK("rle hybrid: value wider than bit width rejected", tsPqRleDecode(bad, 2, 1, o, 2)!=0);
  }
  tsBufFree(&b);
}

static void testDelta(void){
  TsBuf b;
  int64_t a[1500], o[1500];
  int bAll = 1, k;
  static const int64_t aN[] = {0, 1, 2, 31, 32, 33, 127, 128, 129, 130, 257, 1000, 1500};
  tsBufInit(&b);
  {
    int64_t v[5] = {1, 2, 3, 4, 5};
    static const unsigned char exp[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00};
    tsPqDeltaEncode(&b, v, 5);
    TT_CHECK("delta: spec example 1..5 encodes to 80 01 04 05 02 02 00 00 00 00",
             b.n==sizeof(exp) && memcmp(b.a, exp, sizeof(exp))==0);
  }
  for(k=0; k<(int)(sizeof(aN)/sizeof(aN[0])); k++){
    int pat;
    for(pat=0; pat<4; pat++){
      int64_t i, n = aN[k];
      size_t used = 0;
      for(i=0; i<n; i++){
        switch( pat ){
          case 0: a[i] = 1700000000000000000LL + i*10000000000LL; break;
          case 1: a[i] = (int64_t)xr(); break;                       /* full range */
          case 2: a[i] = (i&1) ? INT64_MAX : INT64_MIN; break;        /* wrap-around */
          default: a[i] = (int64_t)(xr()%100) - 50; break;
        }
      }
      tsBufReset(&b);
      tsPqDeltaEncode(&b, a, n);
      if( tsPqDeltaDecode(b.a, b.n, o, n, 0, &used) || (n && memcmp(a, o, sizeof(int64_t)*(size_t)n))
       || used!=b.n ) bAll = 0;
    }
  }
  TT_CHECK("delta: round trip of sizes 0..1500, sorted, random, wrap-around, small", bAll);
  {
    int32_t v[3] = {INT32_MAX, INT32_MIN, 5};
    int64_t a3[3] = {INT32_MAX, INT32_MIN, 5};
    (void)v;
    tsBufReset(&b);
    tsPqDeltaEncode(&b, a3, 3);
    TT_CHECK("delta: INT32 decoding wraps at 32 bits", tsPqDeltaDecode(b.a, b.n, o, 3, 1, 0)==0
             && o[0]==INT32_MAX && o[1]==INT32_MIN && o[2]==5);
  }
  {
    int i, bFail = 1;
    /* 129 values = first value + one full block: no padding to tolerate */
    for(i=0; i<129; i++) a[i] = (int64_t)i*i*i;
    tsBufReset(&b);
    tsPqDeltaEncode(&b, a, 129);
    for(i=0; i<(int)b.n; i++){ if( tsPqDeltaDecode(b.a, (size_t)i, o, 129, 0, 0)==0 ) bFail = 0; }
    TT_CHECK("delta: truncated input rejected at every length", bFail);
  }
  tsBufFree(&b);
}

static void testBss(void){
  TsBuf b;
  double a[9] = {1.5, -2.25, 0, 1e300, -0.0, 3.14159, 42, 7, 8}, o[9];
  tsBufInit(&b);
  tsPqBssEncode(&b, (const unsigned char*)a, 9, 8);
  TT_CHECK("bss: stream layout (byte 7 of value 0 in stream 7)", b.n==72 && b.a[7*9]==((unsigned char*)a)[7]);
  TT_CHECK("bss: round trip", tsPqBssDecode(b.a, b.n, 9, 8, (unsigned char*)o)==0 && memcmp(a, o, sizeof(a))==0);
  TT_CHECK("bss: length not a multiple of the width rejected", tsPqBssDecode(b.a, b.n-1, 9, 8, (unsigned char*)o)!=0);
  tsBufFree(&b);
}

static void testSnappy(void){
  /* "abcabcabcabcX": literal "abc" (tag 0x08), copy-1 len 9 off 3 (tag ((9-4)<<2)|1 = 0x15, off 3),
  ** literal "X"; preamble 13 */
  static const unsigned char s1[] = {13, 0x08, 'a','b','c', 0x15, 0x03, 0x00, 'X'};
  static const unsigned char s2[] = {8, 0x0c, 'w','x','y','z', 0x0e, 0x04, 0x00};   /* copy-2 len 4 off 4 */
  static const unsigned char s3[] = {6, 0x04, 'p','q', 0x0f, 0x02, 0x00, 0x00, 0x00}; /* copy-4 len 4 off 2 */
  char o[64];
  size_t n;
  TT_CHECK("snappy: preamble length", tsSnappyLength(s1, sizeof(s1), &n)==0 && n==13);
  TT_CHECK("snappy: literal + overlapping copy-1",
           tsSnappyDecompress(s1, sizeof(s1), o, 13)==0 && memcmp(o, "abcabcabcabcX", 13)==0);
  TT_CHECK("snappy: copy-2", tsSnappyDecompress(s2, sizeof(s2), o, 8)==0 && memcmp(o, "wxyzwxyz", 8)==0);
  TT_CHECK("snappy: copy-4", tsSnappyDecompress(s3, sizeof(s3), o, 6)==0 && memcmp(o, "pqpqpq", 6)==0);
  {
    static const unsigned char bad1[] = {4, 0x05, 0x00};             /* copy with offset 0 */
    static const unsigned char bad2[] = {8, 0x04, 'a', 'b', 0x0d, 0x09}; /* offset past output */
    static const unsigned char bad3[] = {3, 0x0c, 'a', 'b', 'c', 'd'};   /* literal longer than output */
    static const unsigned char bad4[] = {5, 0xf0, 0xff, 0xff, 0xff, 0x7f, 'a'}; /* huge literal */
    static const unsigned char bad5[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x01};   /* preamble > 32 bits */
    TT_CHECK("snappy: offset 0 rejected", tsSnappyDecompress(bad1, sizeof(bad1), o, 4)!=0);
    TT_CHECK("snappy: offset past output rejected", tsSnappyDecompress(bad2, sizeof(bad2), o, 8)!=0);
    TT_CHECK("snappy: output overflow rejected", tsSnappyDecompress(bad3, sizeof(bad3), o, 3)!=0);
    TT_CHECK("snappy: literal past input rejected", tsSnappyDecompress(bad4, sizeof(bad4), o, 5)!=0);
    TT_CHECK("snappy: oversized preamble rejected", tsSnappyLength(bad5, sizeof(bad5), &n)!=0);
    TT_CHECK("snappy: short output rejected", tsSnappyDecompress(s1, sizeof(s1)-1, o, 13)!=0);
  }
}

static void testCodecs(void){
  TsBuf b, c;
  unsigned char src[5000], out[5000];
  int i, e;
  static const int aC[] = {TS_PQ_CODEC_NONE, TS_PQ_CODEC_GZIP, TS_PQ_CODEC_ZSTD};
  for(i=0; i<5000; i++) src[i] = (unsigned char)(i%251 < 100 ? 'a' : xr());
  tsBufInit(&b); tsBufInit(&c);
  for(e=0; e<3; e++){
    char z[64];
    tsBufReset(&b);
    snprintf(z, sizeof(z), "codec %d: round trip", aC[e]);
    TT_CHECK(z, tsPqCompress(aC[e], 0, src, 5000, &b)==0
             && tsPqDecompress(aC[e], b.a, b.n, out, 5000)==TS_PQ_OK && memcmp(src, out, 5000)==0);
    snprintf(z, sizeof(z), "codec %d: wrong size is corrupt", aC[e]);
    TT_CHECK(z, tsPqDecompress(aC[e], b.a, b.n, out, 4999)==TS_PQ_CORRUPT);
  }
  /* gzip: two concatenated members */
  tsBufReset(&b);
  tsPqCompress(TS_PQ_CODEC_GZIP, 0, src, 2000, &b);
  tsPqCompress(TS_PQ_CODEC_GZIP, 0, src+2000, 3000, &b);
  TT_CHECK("gzip: concatenated members", tsPqDecompress(TS_PQ_CODEC_GZIP, b.a, b.n, out, 5000)==TS_PQ_OK
           && memcmp(src, out, 5000)==0);
  TT_CHECK("codec: Hadoop LZ4 reported unsupported", tsPqDecompress(5, b.a, b.n, out, 5000)==TS_PQ_ERROR);
  {
    /* LZ4 block: literals "abcd", match off 4 len 8 (overlapping), last literals "XYZ12" */
    static const unsigned char l1[] = {0x44, 'a','b','c','d', 0x04, 0x00, 0x50, 'X','Y','Z','1','2'};
    static const unsigned char bad1[] = {0x14, 'a', 0x00, 0x00};            /* offset 0 */
    static const unsigned char bad2[] = {0x14, 'a', 0x05, 0x00};            /* offset past output */
    static const unsigned char bad3[] = {0xf0, 0xff, 0xff};                 /* length runs off the input */
    static const unsigned char l2[] = {0xf0, 0x03, 'a','b','c','d','e','f','g','h','i','j','k','l','m','n','o','p','q','r'};
    char o[32];
    TT_CHECK("lz4: literals + overlapping match + final literals",
             tsPqDecompress(TS_PQ_CODEC_LZ4_RAW, l1, sizeof(l1), o, 17)==TS_PQ_OK && memcmp(o, "abcdabcdabcdXYZ12", 17)==0);
    TT_CHECK("lz4: extended literal length", tsPqLz4Decompress(l2, sizeof(l2), o, 18)==0 && memcmp(o, "abcdefghijklmnopqr", 18)==0);
    TT_CHECK("lz4: wrong output size rejected", tsPqLz4Decompress(l1, sizeof(l1), o, 16)!=0 && tsPqLz4Decompress(l1, sizeof(l1), o, 18)!=0);
    TT_CHECK("lz4: offset 0 rejected", tsPqLz4Decompress(bad1, sizeof(bad1), o, 8)!=0);
    TT_CHECK("lz4: offset past output rejected", tsPqLz4Decompress(bad2, sizeof(bad2), o, 8)!=0);
    TT_CHECK("lz4: truncated length rejected", tsPqLz4Decompress(bad3, sizeof(bad3), o, 30)!=0);
  }
  tsBufFree(&b); tsBufFree(&c);
}

/*------------------------------ writer/reader ------------------------------*/
#define NKIND 10
static const int aKind[NKIND] = {TS_PQ_INT64, TS_PQ_DOUBLE, TS_PQ_BOOLEAN, TS_PQ_STRING, TS_PQ_TIMESTAMP_NS,
  TS_PQ_DATE, TS_PQ_INT32, TS_PQ_BYTES, TS_PQ_TIMESTAMP_US, TS_PQ_TIMESTAMP_MS};

static int isNull(int pat, int64_t i){
  return pat==1 ? (i%3==1) : pat==2 ? 1 : pat==3 ? ((i/100)%2==1) : 0;
}
static int64_t valI(int kind, int64_t i){
  if( kind==TS_PQ_BOOLEAN ) return (i*7)%3==0;
  if( kind==TS_PQ_INT32 || kind==TS_PQ_DATE ) return (int64_t)(int32_t)(uint32_t)(i*2654435761u);
  if( kind==TS_PQ_TIMESTAMP_NS ) return 1700000000000000000LL + i*1000000007LL;
  return (i%5==0) ? (int64_t)(i*0x9E3779B97F4A7C15ULL) : i%17;
}
static double valR(int64_t i){ return (i%4==0) ? (double)(i%9)*0.5 : (double)i/7.0 - 100; }
static int valS(int64_t i, char *z){
  if( i%6==0 ) return 0;
  if( i%6==1 ) return snprintf(z, 200, "%s", "x-very-long-string-exceeding-sixty-four-bytes-for-page-index-truncation-tests");
  return snprintf(z, 200, "s%lld\xc3\xa9", (long long)(i%50));
}

/* Write nRow rows with one column per kind (nullable per pat), read them
** back and compare.  Returns number of mismatches (0 = good). */
/* tsPqReaderReadColumnKeys on STRING column k of row group g (rows
** iRow.. of the file): every row's bytes must equal the written value, with
** all rows and with a selection of two intervals.  Counts the reads that
** came back as dictionary indices and those that fell back to strings. */
static int nKeysIdx = 0, nKeysPlain = 0;
static int checkKeys(TsPqReader *r, int g, int k, int64_t n, int64_t iRow, int pat){
  int nBad = 0, s;
  for(s=0; s<2; s++){
    TsPqColumnData d;
    TsPqRowSel sel, *pSel = 0;
    int64_t aR[4], i, j = 0, q;
    memset(&sel, 0, sizeof(sel));
    if( s==1 ){
      if( n<4 ) continue;
      aR[0] = 1; aR[1] = n/3; aR[2] = n/2; aR[3] = n;
      sel.nRange = 2; sel.aRange = aR; sel.nRow = (aR[1]-aR[0]) + (aR[3]-aR[2]);
      pSel = &sel;
    }
    if( tsPqReaderReadColumnKeys(r, g, k, pSel, &d) ){ printf("# keys read: %s\n", tsPqReaderErrmsg(r)); nBad++; continue; }
    if( d.aIdx ) nKeysIdx++; else nKeysPlain++;
    for(q=0; q<(pSel ? 2 : 1); q++){
      int64_t a = pSel ? aR[2*q] : 0, b = pSel ? aR[2*q+1] : n;
      for(i=a; i<b; i++, j++){
        int64_t row = iRow+i, iv = j, m;
        int bN = d.aNull ? d.aNull[j] : 0;
        char z[200];
        if( j>=d.nRow ){ nBad++; break; }
        if( bN!=isNull(pat, row) ){ nBad++; continue; }
        if( bN ) continue;
        if( d.aIdx ){
          if( d.aIdx[j]>=d.nDict ){ nBad++; continue; }
          iv = d.aIdx[j];
        }
        m = valS(row, z);
        if( d.aOff[iv+1]-d.aOff[iv]!=m || memcmp(d.aData+d.aOff[iv], z, (size_t)m) ) nBad++;
      }
    }
    if( j!=d.nRow ) nBad++;
    tsPqColumnDataFree(&d);
  }
  return nBad;
}

static int roundTrip(int nRow, int pat, int eCodec, int eEnc, int bBatch, int64_t nRgRows,
                     int *pnRg, TsBuf *pFile){
  TsPqColumnSpec aCol[NKIND];
  TsPqWriteOpts o;
  TsPqWriter *w = 0;
  MemFile mf;
  int k, rc, nBad = 0;
  int64_t i;
  char zName[NKIND][16];
  memset(&mf, 0, sizeof(mf));
  tsBufInit(&mf.b);
  tsPqWriteOptsInit(&o);
  o.eCodec = eCodec;
  o.nRowGroupRows = nRgRows;
  o.nPageRows = 37;
  for(k=0; k<NKIND; k++){
    snprintf(zName[k], sizeof(zName[k]), "c%d", k);
    aCol[k].zName = zName[k];
    aCol[k].eType = aKind[k];
    aCol[k].bNullable = pat!=0;
    aCol[k].eEncoding = eEnc;
    if( eEnc==TS_PQ_ENC_DELTA && !(aKind[k]==TS_PQ_INT64 || aKind[k]==TS_PQ_INT32 || aKind[k]==TS_PQ_DATE
        || aKind[k]==TS_PQ_TIMESTAMP_NS || aKind[k]==TS_PQ_TIMESTAMP_US || aKind[k]==TS_PQ_TIMESTAMP_MS) ) aCol[k].eEncoding = 0;
    if( eEnc==TS_PQ_ENC_BSS && aKind[k]!=TS_PQ_DOUBLE ) aCol[k].eEncoding = 0;
    if( eEnc==TS_PQ_ENC_DICT && aKind[k]==TS_PQ_BOOLEAN ) aCol[k].eEncoding = 0;
  }
  rc = tsPqWriterOpen(&w, aCol, NKIND, &o, memWrite, &mf);
  if( bBatch ){
    TsPqColumnData aD[NKIND];
    int64_t *aI = calloc((size_t)nRow+1, 8), *aOff = calloc((size_t)nRow+2, 8);
    double *aR = calloc((size_t)nRow+1, 8);
    unsigned char *aN = calloc((size_t)nRow+1, 1);
    TsBuf s; tsBufInit(&s);
    for(k=0; k<NKIND && rc==0; k++){
      memset(&aD[k], 0, sizeof(aD[k]));
    }
    /* batches are per column: build all columns then append once */
    {
      int64_t **aaI = calloc(NKIND, sizeof(int64_t*));
      int64_t **aaO = calloc(NKIND, sizeof(int64_t*));
      TsBuf aS[NKIND];
      for(k=0; k<NKIND; k++){
        char z[200];
        aaI[k] = calloc((size_t)nRow+1, 8);
        aaO[k] = calloc((size_t)nRow+2, 8);
        tsBufInit(&aS[k]);
        for(i=0; i<nRow; i++){
          int n = 0;
          aN[i] = (unsigned char)isNull(pat, i);
          if( !aN[i] ){
            if( aKind[k]==TS_PQ_STRING || aKind[k]==TS_PQ_BYTES ){ n = valS(i, z); tsBufAppend(&aS[k], z, (size_t)n); }
            else if( aKind[k]==TS_PQ_DOUBLE ) aR[i] = valR(i);
            else aaI[k][i] = valI(aKind[k], i);
          }
          aaO[k][i+1] = (int64_t)aS[k].n;
        }
        aD[k].nRow = nRow; aD[k].aNull = aN; aD[k].aInt = aaI[k]; aD[k].aDbl = aR;
        aD[k].aOff = aaO[k]; aD[k].aData = aS[k].a ? aS[k].a : (unsigned char*)"";
      }
      if( rc==0 ) rc = tsPqWriterAppend(w, nRow, aD);
      for(k=0; k<NKIND; k++){ free(aaI[k]); free(aaO[k]); tsBufFree(&aS[k]); }
      free(aaI); free(aaO);
    }
    free(aI); free(aOff); free(aR); free(aN); tsBufFree(&s);
  }else{
    for(i=0; i<nRow && rc==0; i++){
      for(k=0; k<NKIND && rc==0; k++){
        char z[200];
        if( isNull(pat, i) ) rc = tsPqWriterNull(w, k);
        else if( aKind[k]==TS_PQ_STRING || aKind[k]==TS_PQ_BYTES ){ int n = valS(i, z); rc = tsPqWriterText(w, k, z, n); }
        else if( aKind[k]==TS_PQ_DOUBLE ) rc = tsPqWriterDouble(w, k, valR(i));
        else if( aKind[k]==TS_PQ_BOOLEAN ) rc = tsPqWriterBool(w, k, (int)valI(aKind[k], i));
        else rc = tsPqWriterInt64(w, k, valI(aKind[k], i));
      }
      if( rc==0 ) rc = tsPqWriterEndRow(w);
    }
  }
  if( rc==0 ) rc = tsPqWriterFinish(w);
  if( rc ){ printf("# writer: %s\n", tsPqWriterErrmsg(w)); tsPqWriterFree(w); tsBufFree(&mf.b); return 1000000; }
  if( tsPqWriterBytesWritten(w)!=(int64_t)mf.b.n ) nBad++;
  tsPqWriterFree(w);
  {
    MemSrc src = { mf.b.a, (int64_t)mf.b.n, 0 };
    TsPqReader *r = 0;
    char *zErr = 0;
    int g;
    int64_t iRow = 0;
    rc = tsPqReaderOpen(&r, memRead, &src, src.n, &zErr);
    if( rc ){ printf("# reader: %s\n", zErr); free(zErr); tsBufFree(&mf.b); return 1000000; }
    if( tsPqReaderRowCount(r)!=nRow || tsPqReaderColumnCount(r)!=NKIND ) nBad++;
    if( pnRg ) *pnRg = tsPqReaderRowGroupCount(r);
    for(g=0; g<tsPqReaderRowGroupCount(r); g++){
      int64_t n = tsPqReaderRowGroupRows(r, g);
      for(k=0; k<NKIND; k++){
        TsPqColumnData d;
        const TsPqColumnInfo *ci = tsPqReaderColumn(r, k);
        if( ci->eType!=aKind[k] || ci->bNullable!=(pat!=0) ) nBad++;
        if( tsPqReaderReadColumn(r, g, k, 0, &d) ){ printf("# read: %s\n", tsPqReaderErrmsg(r)); nBad++; continue; }
        if( d.nRow!=n ) nBad++;
        for(i=0; i<d.nRow && i<n; i++){
          int64_t row = iRow+i;
          int bN = d.aNull ? d.aNull[i] : 0;
          if( bN!=isNull(pat, row) ){ nBad++; continue; }
          if( bN ) continue;
          if( aKind[k]==TS_PQ_STRING || aKind[k]==TS_PQ_BYTES ){
            char z[200]; int m = valS(row, z);
            if( d.aOff[i+1]-d.aOff[i]!=m || memcmp(d.aData+d.aOff[i], z, (size_t)m) ) nBad++;
          }else if( aKind[k]==TS_PQ_DOUBLE ){
            if( d.aDbl[i]!=valR(row) ) nBad++;
          }else if( d.aInt[i]!=valI(aKind[k], row) ) nBad++;
        }
        tsPqColumnDataFree(&d);
        if( aKind[k]==TS_PQ_STRING ) nBad += checkKeys(r, g, k, n, iRow, pat);
      }
      iRow += n;
    }
    if( iRow!=nRow ) nBad++;
    tsPqReaderFree(r);
  }
  if( pFile ){ tsBufFree(pFile); *pFile = mf.b; }
  else tsBufFree(&mf.b);
  return nBad;
}

static void testRoundTrips(void){
  static const int aN[] = {0, 1, 36, 37, 38, 500};
  static const int aCodec[] = {TS_PQ_CODEC_NONE, TS_PQ_CODEC_GZIP, TS_PQ_CODEC_ZSTD};
  static const int aEnc[] = {TS_PQ_ENC_AUTO, TS_PQ_ENC_PLAIN, TS_PQ_ENC_DICT, TS_PQ_ENC_DELTA, TS_PQ_ENC_BSS};
  int n, pat, c, e, nBad = 0, nCase = 0, nRg = 0;
  for(n=0; n<(int)(sizeof(aN)/sizeof(aN[0])); n++){
    for(pat=0; pat<4; pat++){
      for(c=0; c<3; c++){
        for(e=0; e<5; e++){
          int bad = roundTrip(aN[n], pat, aCodec[c], aEnc[e], (n+e)%2, 0, 0, 0);
          if( bad ){ printf("# case rows=%d nulls=%d codec=%d enc=%d: %d bad\n", aN[n], pat, aCodec[c], aEnc[e], bad); }
          nBad += bad; nCase++;
        }
      }
    }
  }
  TT_CHECK("round trip: 10 kinds x 5 encodings x 3 codecs x 4 null patterns x 6 sizes", nBad==0 && nCase==360);
  /* AUTO and DICT write dictionary pages (indices back), PLAIN/DELTA do not. */
  TT_CHECK("keys read: dictionary indices for dictionary-encoded chunks, strings otherwise",
           nKeysIdx>0 && nKeysPlain>0);
  TT_EQ_I64("round trip: several row groups (rows=2500, 700 per group)", roundTrip(2500, 1, TS_PQ_CODEC_ZSTD, 0, 0, 700, &nRg, 0), 0);
  TT_EQ_I64("round trip: row group count", nRg, 4);
  TT_EQ_I64("round trip: batch append across row groups", roundTrip(2500, 3, TS_PQ_CODEC_GZIP, 0, 1, 1000, &nRg, 0), 0);
}

/* Writer with 3 columns used by the pruning and API tests. */
static int writeSimple(TsBuf *pOut, int64_t nRow, int64_t nRgRows, int nPageRows, TsPqWriteOpts *pO){
  TsPqColumnSpec aCol[3] = {
    {"time", TS_PQ_TIMESTAMP_NS, 0, 0}, {"host", TS_PQ_STRING, 1, 0}, {"v", TS_PQ_DOUBLE, 1, 0}};
  TsPqWriteOpts o;
  TsPqWriter *w = 0;
  MemFile mf;
  int64_t i;
  int rc;
  memset(&mf, 0, sizeof(mf));
  tsBufInit(&mf.b);
  if( pO ) o = *pO; else tsPqWriteOptsInit(&o);
  o.nRowGroupRows = nRgRows;
  o.nPageRows = nPageRows;
  rc = tsPqWriterOpen(&w, aCol, 3, &o, memWrite, &mf);
  for(i=0; i<nRow && rc==0; i++){
    char z[32];
    int n = snprintf(z, sizeof(z), "host_%02lld", (long long)(i%10));
    rc = tsPqWriterInt64(w, 0, 1000000000LL*i);
    if( rc==0 ) rc = tsPqWriterText(w, 1, z, n);
    if( rc==0 ) rc = i%10==3 ? tsPqWriterNull(w, 2) : tsPqWriterDouble(w, 2, (double)i);
    if( rc==0 ) rc = tsPqWriterEndRow(w);
  }
  if( rc==0 ) rc = tsPqWriterFinish(w);
  if( rc==0 ){
    size_t nTail;
    const unsigned char *aTail = tsPqWriterTail(w, &nTail);
    if( !aTail || nTail<12 || memcmp(mf.b.a+mf.b.n-nTail, aTail, nTail) ) rc = 99;
  }
  tsPqWriterFree(w);
  *pOut = mf.b;
  return rc;
}

static void testPruning(void){
  TsBuf f;
  MemSrc src;
  TsPqReader *r = 0;
  char *zErr = 0;
  TsPqRange rg;
  TsPqRowSel sel;
  TsPqColumnData d;
  TsPqStats st;
  int g, nMatch = 0;
  TT_EQ_I64("pruning: write 10000 rows, 2000 per group, 100 per page", writeSimple(&f, 10000, 2000, 100, 0), 0);
  src.a = f.a; src.n = (int64_t)f.n; src.nReads = 0;
  TT_EQ_I64("pruning: open", tsPqReaderOpen(&r, memRead, &src, src.n, &zErr), 0);
  TT_EQ_I64("pruning: one read for the tail, one for the footer, one for the magic", src.nReads, 3);
  TT_EQ_I64("pruning: 5 row groups", tsPqReaderRowGroupCount(r), 5);
  TT_CHECK("pruning: chunk stats of time in group 2",
           tsPqReaderChunkStats(r, 2, 0, &st)==0 && st.bMinMax && st.min.i==4000000000000LL
           && st.max.i==5999000000000LL && st.bNullCount && st.nNull==0 && st.bPageIndex && st.eCodec==TS_PQ_CODEC_ZSTD);
  TT_CHECK("pruning: string stats", tsPqReaderChunkStats(r, 0, 1, &st)==0 && st.bMinMax
           && st.min.n==7 && memcmp(st.min.z, "host_00", 7)==0 && memcmp(st.max.z, "host_09", 7)==0);
  TT_CHECK("pruning: double stats and null count", tsPqReaderChunkStats(r, 0, 2, &st)==0 && st.bMinMax
           && st.min.r==0 && st.max.r==1999 && st.nNull==200);
  memset(&rg, 0, sizeof(rg));
  rg.iCol = 0; rg.bMin = rg.bMax = 1;
  rg.min.i = 4550000000000LL; rg.max.i = 4560000000000LL;
  for(g=0; g<5; g++) nMatch += tsPqReaderRowGroupMayMatch(r, g, &rg, 1);
  TT_EQ_I64("pruning: one row group may match", nMatch, 1);
  TT_CHECK("pruning: it is group 2", tsPqReaderRowGroupMayMatch(r, 2, &rg, 1)==1);
  TT_EQ_I64("pruning: select rows via page index", tsPqReaderSelectRows(r, 2, &rg, 1, &sel), 0);
  TT_CHECK("pruning: selection is the 100-row page 500..600",
           sel.nRange==1 && sel.aRange[0]==500 && sel.aRange[1]==600 && sel.nRow==100);
  src.nReads = 0;
  TT_EQ_I64("pruning: read selected rows of v", tsPqReaderReadColumn(r, 2, 2, &sel, &d), 0);
  TT_CHECK("pruning: values are rows 4500..4599 with nulls",
           d.nRow==100 && d.aDbl[0]==4500 && d.aNull && d.aNull[3]==1 && d.aDbl[99]==4599);
  TT_CHECK("pruning: only the offset index and one page were read", src.nReads==2);
  tsPqColumnDataFree(&d);
  src.nReads = 0;
  TT_EQ_I64("pruning: read selected rows of host (dictionary page + one page)", tsPqReaderReadColumn(r, 2, 1, &sel, &d), 0);
  TT_CHECK("pruning: host values", d.nRow==100 && d.aOff[1]==7 && memcmp(d.aData, "host_00", 7)==0);
  TT_EQ_I64("pruning: host needs offset index, dictionary, page: 3 reads", src.nReads, 3);
  tsPqColumnDataFree(&d);
  tsPqRowSelFree(&sel);
  /* three adjacent pages are fetched with one read */
  rg.min.i = 4450000000000LL; rg.max.i = 4650000000000LL;
  tsPqReaderSelectRows(r, 2, &rg, 1, &sel);
  TT_CHECK("pruning: rows 400..700 selected", sel.nRange==1 && sel.aRange[0]==400 && sel.aRange[1]==700);
  src.nReads = 0;
  TT_EQ_I64("pruning: read 3 adjacent pages", tsPqReaderReadColumn(r, 2, 2, &sel, &d), 0);
  /* the chunk's OffsetIndex was read by the first read and kept */
  TT_CHECK("pruning: adjacent pages coalesced into one read", src.nReads==1 && d.nRow==300 && d.aDbl[299]==4699);
  tsPqColumnDataFree(&d);
  tsPqRowSelFree(&sel);
  /* a selection of every row reads the chunk in one piece */
  memset(&rg, 0, sizeof(rg));
  tsPqReaderSelectRows(r, 2, &rg, 0, &sel);
  src.nReads = 0;
  TT_EQ_I64("pruning: full selection", tsPqReaderReadColumn(r, 2, 1, &sel, &d), 0);
  TT_CHECK("pruning: full selection is one read", src.nReads==1 && d.nRow==2000);
  tsPqColumnDataFree(&d);
  tsPqRowSelFree(&sel);
  /* string range and not-null */
  memset(&rg, 0, sizeof(rg));
  rg.iCol = 1; rg.bMin = rg.bMax = 1; rg.min.z = rg.max.z = "zzz"; rg.min.n = rg.max.n = 3;
  TT_CHECK("pruning: string range above max prunes", tsPqReaderRowGroupMayMatch(r, 0, &rg, 1)==0);
  rg.min.z = "host_05"; rg.min.n = 7; rg.max.z = "host_05"; rg.max.n = 7;
  TT_CHECK("pruning: string range inside keeps", tsPqReaderRowGroupMayMatch(r, 0, &rg, 1)==1);
  /* OpenTail: planning without reads */
  {
    TsPqReader *r2 = 0;
    uint32_t nMeta;
    size_t nTail;
    memcpy(&nMeta, f.a+f.n-8, 4);
    nTail = nMeta+8;
    src.nReads = 0;
    TT_EQ_I64("open from cached tail", tsPqReaderOpenTail(&r2, memRead, &src, src.n, f.a+f.n-nTail, nTail, &zErr), 0);
    TT_EQ_I64("open from cached tail reads nothing", src.nReads, 0);
    TT_EQ_I64("open from cached tail: rows", tsPqReaderRowCount(r2), 10000);
    tsPqReaderFree(r2);
  }
  tsPqReaderFree(r);
  tsBufFree(&f);
}

static void testApiErrors(void){
  TsPqColumnSpec aCol[2] = {{"a", TS_PQ_INT64, 0, 0}, {"b", TS_PQ_STRING, 1, 0}};
  TsPqColumnSpec aDup[2] = {{"a", TS_PQ_INT64, 0, 0}, {"a", TS_PQ_STRING, 1, 0}};
  TsPqColumnSpec aBadEnc[1] = {{"s", TS_PQ_STRING, 0, TS_PQ_ENC_DELTA}};
  TsPqWriter *w = 0;
  MemFile mf;
  memset(&mf, 0, sizeof(mf));
  tsBufInit(&mf.b);
  tsPqWriterOpen(&w, aDup, 2, 0, memWrite, &mf);
  TT_EQ_STR("writer: duplicate column", tsPqWriterErrmsg(w), "parquet writer: duplicate column name \"a\"");
  tsPqWriterFree(w);
  tsPqWriterOpen(&w, aBadEnc, 1, 0, memWrite, &mf);
  TT_EQ_STR("writer: bad encoding", tsPqWriterErrmsg(w), "parquet writer: column \"s\": encoding 3 is not valid for STRING");
  tsPqWriterFree(w);
  tsBufReset(&mf.b);
  TT_EQ_I64("writer: open", tsPqWriterOpen(&w, aCol, 2, 0, memWrite, &mf), 0);
  TT_EQ_I64("writer: NULL in required column is misuse", tsPqWriterNull(w, 0), TS_PQ_MISUSE);
  TT_EQ_STR("writer: NULL in required column message", tsPqWriterErrmsg(w),
            "parquet writer: NULL in required column \"a\" (row 0)");
  TT_EQ_I64("writer: error is sticky", tsPqWriterInt64(w, 0, 1), TS_PQ_MISUSE);
  TT_EQ_I64("writer: finish returns the sticky error", tsPqWriterFinish(w), TS_PQ_MISUSE);
  tsPqWriterFree(w);
  tsPqWriterOpen(&w, aCol, 2, 0, memWrite, &mf);
  tsPqWriterDouble(w, 0, 1.5);
  TT_EQ_STR("writer: type mismatch", tsPqWriterErrmsg(w), "parquet writer: column \"a\" is INT64, cannot take a double");
  tsPqWriterFree(w);
  tsPqWriterOpen(&w, aCol, 2, 0, memWrite, &mf);
  tsPqWriterInt64(w, 0, 1);
  tsPqWriterEndRow(w);
  TT_EQ_STR("writer: unset column", tsPqWriterErrmsg(w), "parquet writer: column \"b\" not set in row 0");
  tsPqWriterFree(w);
  {
    TsPqWriteOpts o;
    tsPqWriteOptsInit(&o);
    o.eCodec = TS_PQ_CODEC_SNAPPY;
    tsPqWriterOpen(&w, aCol, 2, &o, memWrite, &mf);
    TT_EQ_STR("writer: snappy not writable", tsPqWriterErrmsg(w),
              "parquet writer: unsupported compression codec 1 (supported: none, gzip, zstd)");
    tsPqWriterFree(w);
  }
  {
    MemFile bad;
    int rc, i;
    memset(&bad, 0, sizeof(bad));
    tsBufInit(&bad.b);
    bad.nFailAt = 100;
    rc = tsPqWriterOpen(&w, aCol, 2, 0, memWrite, &bad);
    for(i=0; i<100 && rc==0; i++){
      rc = tsPqWriterInt64(w, 0, i);
      if( rc==0 ) rc = tsPqWriterText(w, 1, "xyz", 3);
      if( rc==0 ) rc = tsPqWriterEndRow(w);
    }
    if( rc==0 ) rc = tsPqWriterFinish(w);
    TT_EQ_I64("writer: sink failure gives IOERR", rc, TS_PQ_IOERR);
    TT_CHECK("writer: sink failure message", strstr(tsPqWriterErrmsg(w), "output write of")!=0);
    TT_CHECK("writer: no tail after failure", tsPqWriterTail(w, 0)==0);
    tsPqWriterFree(w);
    tsBufFree(&bad.b);
  }
  {
    /* batch: an all-NULL column needs no value arrays; a missing array
    ** for non-NULL rows is refused */
    TsPqColumnData aD[2];
    int64_t aI[3] = {1, 2, 3};
    unsigned char aN[3] = {1, 1, 1};
    memset(aD, 0, sizeof(aD));
    aD[0].nRow = 3; aD[0].aInt = aI;
    aD[1].nRow = 3; aD[1].aNull = aN;
    tsBufReset(&mf.b);
    tsPqWriterOpen(&w, aCol, 2, 0, memWrite, &mf);
    TT_EQ_I64("writer: batch with an all-NULL column and no arrays", tsPqWriterAppend(w, 3, aD), 0);
    aN[1] = 0;
    TT_EQ_I64("writer: batch lacking values for a non-NULL row", tsPqWriterAppend(w, 3, aD), TS_PQ_MISUSE);
    TT_EQ_STR("writer: batch lacking values message", tsPqWriterErrmsg(w),
              "parquet writer: batch for column \"b\" lacks its STRING values");
    TT_EQ_I64("writer: rows of the good batch only", tsPqWriterRowCount(w), 3);
    tsPqWriterFree(w);
  }
  {
    /* streaming: a full row group goes to the sink before Finish */
    TsPqWriteOpts o;
    int i, rc = 0;
    int64_t nPend = 0, nAfter = 0;
    tsPqWriteOptsInit(&o);
    o.nRowGroupBytes = 4000;
    tsBufReset(&mf.b);
    rc = tsPqWriterOpen(&w, aCol, 2, &o, memWrite, &mf);
    for(i=0; i<1000 && rc==0; i++){
      rc = tsPqWriterInt64(w, 0, i);
      if( rc==0 ) rc = tsPqWriterText(w, 1, "0123456789abcdef", 16);
      if( i==100 ) nPend = tsPqWriterPendingBytes(w);
      if( rc==0 ) rc = tsPqWriterEndRow(w);
    }
    nAfter = tsPqWriterBytesWritten(w);
    TT_CHECK("writer: row groups stream out before finish", rc==0 && nAfter>1000 && (int64_t)mf.b.n==nAfter);
    TT_CHECK("writer: pending bytes stay under the row group target", nPend>0 && nPend<4000
             && tsPqWriterPendingBytes(w)<4000);
    TT_EQ_I64("writer: rows counted", tsPqWriterRowCount(w), 1000);
    TT_EQ_I64("writer: finish", tsPqWriterFinish(w), 0);
    TT_CHECK("writer: bytes written = file size", tsPqWriterBytesWritten(w)==(int64_t)mf.b.n);
    tsPqWriterFree(w);
  }
  {
    TsPqColumnSpec aK[1] = {{"k", TS_PQ_STRING, 0, 0}};
    TsPqWriteOpts o;
    const char *azK[2] = {"tslite.table", "other"}, *azV[2] = {"cpu", 0};
    TsPqReader *r = 0;
    MemSrc src;
    char *zErr = 0;
    tsPqWriteOptsInit(&o);
    o.nKeyValue = 2; o.azKey = azK; o.azValue = azV; o.zCreatedBy = "unit test";
    tsBufReset(&mf.b);
    tsPqWriterOpen(&w, aK, 1, &o, memWrite, &mf);
    TT_EQ_I64("writer: zero-row file", tsPqWriterFinish(w), 0);
    tsPqWriterFree(w);
    src.a = mf.b.a; src.n = (int64_t)mf.b.n; src.nReads = 0;
    TT_EQ_I64("reader: zero-row file opens", tsPqReaderOpen(&r, memRead, &src, src.n, &zErr), 0);
    TT_EQ_I64("reader: zero rows, zero row groups", tsPqReaderRowCount(r)+tsPqReaderRowGroupCount(r), 0);
    TT_EQ_STR("reader: key value metadata", tsPqReaderKeyValue(r, "tslite.table"), "cpu");
    TT_CHECK("reader: key without value", tsPqReaderKeyValue(r, "other")==0 && tsPqReaderKeyValue(r, "none")==0);
    TT_EQ_STR("reader: created_by", tsPqReaderCreatedBy(r), "unit test");
    TT_EQ_I64("reader: find column", tsPqReaderFindColumn(r, "k"), 0);
    tsPqReaderFree(r);
  }
  tsBufFree(&mf.b);
}

/*------------------------------ corrupt input ------------------------------*/
static int readAll(const unsigned char *a, int64_t n, char **pzErr){
  MemSrc src = { a, n, 0 };
  TsPqReader *r = 0;
  int rc, g, k;
  TsPqRange rg;
  rc = tsPqReaderOpen(&r, memRead, &src, n, pzErr);
  if( rc ) return rc;
  for(g=0; g<tsPqReaderRowGroupCount(r) && rc==0; g++){
    TsPqRowSel sel;
    memset(&rg, 0, sizeof(rg));
    rg.iCol = 0; rg.bMin = 1; rg.min.i = 0;
    if( tsPqReaderSelectRows(r, g, &rg, 1, &sel)==0 ){
      for(k=0; k<tsPqReaderColumnCount(r); k++){
        TsPqColumnData d;
        if( tsPqReaderReadColumn(r, g, k, &sel, &d)==0 ) tsPqColumnDataFree(&d);
      }
      tsPqRowSelFree(&sel);
    }
    for(k=0; k<tsPqReaderColumnCount(r) && rc==0; k++){
      TsPqColumnData d;
      TsPqStats st;
      tsPqReaderChunkStats(r, g, k, &st);
      rc = tsPqReaderReadColumn(r, g, k, 0, &d);
      tsPqColumnDataFree(&d);
    }
  }
  if( rc && pzErr ) *pzErr = strdup(tsPqReaderErrmsg(r));
  tsPqReaderFree(r);
  return rc;
}

static void testCorrupt(void){
  TsBuf f;
  int64_t k;
  int bTruncOk = 1, nFlipErr = 0, nFlip = 0, bCodes = 1;
  char *zErr = 0;
  TsPqWriteOpts o;
  tsPqWriteOptsInit(&o);
  writeSimple(&f, 300, 120, 50, &o);
  TT_EQ_I64("corrupt: the intact file reads", readAll(f.a, (int64_t)f.n, 0), 0);
  TT_EQ_I64("corrupt: empty file", readAll(f.a, 0, &zErr), TS_PQ_CORRUPT);
  TT_EQ_STR("corrupt: empty file message", zErr, "parquet: file of 0 bytes is too small to be Parquet");
  free(zErr); zErr = 0;
  TT_EQ_I64("corrupt: truncated by one byte", readAll(f.a, (int64_t)f.n-1, &zErr), TS_PQ_CORRUPT);
  TT_EQ_STR("corrupt: truncated message", zErr, "parquet: not a Parquet file (no PAR1 magic at the end)");
  free(zErr); zErr = 0;
  /* every truncation keeping the tail (the file's prefix cut, tail glued on) */
  for(k=0; k<(int64_t)f.n; k+=3){
    int rc = readAll(f.a, k, 0);
    if( rc==0 || (rc!=TS_PQ_CORRUPT && rc!=TS_PQ_ERROR && rc!=TS_PQ_TOOBIG) ) bTruncOk = 0;
  }
  TT_CHECK("corrupt: every truncation rejected with CORRUPT", bTruncOk);
  /* footer length too large */
  {
    unsigned char *c = malloc(f.n);
    memcpy(c, f.a, f.n);
    c[f.n-8] = 0xff; c[f.n-7] = 0xff;
    TT_EQ_I64("corrupt: footer length beyond file", readAll(c, (int64_t)f.n, &zErr), TS_PQ_CORRUPT);
    TT_CHECK("corrupt: footer length message", zErr && strstr(zErr, "exceeds the"));
    free(zErr); zErr = 0;
    /* bit flips everywhere: must never crash; most give an error */
    for(k=4; k<(int64_t)f.n-8; k+=(getenv("TS_SANITIZE") ? 5 : 2)){
      {
        int rc;
        memcpy(c, f.a, f.n);
        c[k] ^= (unsigned char)(1<<(k%8));
        rc = readAll(c, (int64_t)f.n, 0);
        nFlip++;
        if( rc ) nFlipErr++;
        if( rc && rc!=TS_PQ_CORRUPT && rc!=TS_PQ_ERROR && rc!=TS_PQ_TOOBIG && rc!=TS_PQ_MISUSE ) bCodes = 0;
      }
    }
    printf("# bit flips: %d of %d detected\n", nFlipErr, nFlip);
    TT_CHECK("corrupt: bit flips never crash and fail with CORRUPT-style codes", bCodes && nFlipErr>0);
    free(c);
  }
  tsBufFree(&f);
}

/* Build a one-column, one-page (DATA_PAGE_V2, uncompressed, REQUIRED) file
** around an encoded page body: for encodings and types no writer at hand
** produces. */
static void buildFile(TsBuf *pF, int ePhys, int eConv, int eEnc, const TsBuf *pBody, int n){
  PqTw tw;
  TsBuf meta;
  size_t iPage;
  tsBufInit(&meta);
  tsBufAppend(pF, "PAR1", 4);
  iPage = pF->n;
  tsPqTwInit(&tw, pF);
  tsPqTwStructBegin(&tw);
  tsPqTwFieldI32(&tw, 1, PQ_PAGE_DATA_V2);
  tsPqTwFieldI32(&tw, 2, (int32_t)pBody->n);
  tsPqTwFieldI32(&tw, 3, (int32_t)pBody->n);
  tsPqTwFieldStruct(&tw, 8);
  tsPqTwFieldI32(&tw, 1, n); tsPqTwFieldI32(&tw, 2, 0); tsPqTwFieldI32(&tw, 3, n);
  tsPqTwFieldI32(&tw, 4, eEnc); tsPqTwFieldI32(&tw, 5, 0); tsPqTwFieldI32(&tw, 6, 0);
  tsPqTwFieldBool(&tw, 7, 0);
  tsPqTwStructEnd(&tw);
  tsPqTwStructEnd(&tw);
  tsBufAppend(pF, pBody->a, pBody->n);
  tsPqTwInit(&tw, &meta);
  tsPqTwStructBegin(&tw);
  tsPqTwFieldI32(&tw, 1, 1);
  tsPqTwFieldList(&tw, 2, PQ_TT_STRUCT, 2);
  tsPqTwStructBegin(&tw); tsPqTwFieldBin(&tw, 4, "schema", 6); tsPqTwFieldI32(&tw, 5, 1); tsPqTwStructEnd(&tw);
  tsPqTwStructBegin(&tw); tsPqTwFieldI32(&tw, 1, ePhys); tsPqTwFieldI32(&tw, 3, 0);
  tsPqTwFieldBin(&tw, 4, "s", 1);
  if( eConv>=0 ) tsPqTwFieldI32(&tw, 6, eConv);
  tsPqTwStructEnd(&tw);
  tsPqTwFieldI64(&tw, 3, n);
  tsPqTwFieldList(&tw, 4, PQ_TT_STRUCT, 1);
  tsPqTwStructBegin(&tw);
  tsPqTwFieldList(&tw, 1, PQ_TT_STRUCT, 1);
  tsPqTwStructBegin(&tw);
  tsPqTwFieldI64(&tw, 2, 0);
  tsPqTwFieldStruct(&tw, 3);
  tsPqTwFieldI32(&tw, 1, ePhys);
  tsPqTwFieldList(&tw, 2, PQ_TT_I32, 1); tsPqTwI32(&tw, eEnc);
  tsPqTwFieldList(&tw, 3, PQ_TT_BINARY, 1); tsPqTwBin(&tw, "s", 1);
  tsPqTwFieldI32(&tw, 4, 0);
  tsPqTwFieldI64(&tw, 5, n);
  tsPqTwFieldI64(&tw, 6, (int64_t)(pF->n-iPage));
  tsPqTwFieldI64(&tw, 7, (int64_t)(pF->n-iPage));
  tsPqTwFieldI64(&tw, 9, (int64_t)iPage);
  tsPqTwStructEnd(&tw);
  tsPqTwStructEnd(&tw);
  tsPqTwFieldI64(&tw, 2, (int64_t)(pF->n-iPage));
  tsPqTwFieldI64(&tw, 3, n);
  tsPqTwStructEnd(&tw);
  tsPqTwStructEnd(&tw);
  tsBufAppend(pF, meta.a, meta.n);
  tsBufAppendU32le(pF, (uint32_t)meta.n);
  tsBufAppend(pF, "PAR1", 4);
  tsBufFree(&meta);
}

/* A hand-built file with one DELTA_BYTE_ARRAY page (no writer here emits
** that encoding, and DuckDB does not either): checks the decoder against
** values built with the spec's prefix/suffix rules. */
static void testDeltaByteArray(void){
  static const char *az[] = {"apple", "applesauce", "apply", "banana", "band", "", "bandana"};
  int n = 7, i;
  int64_t aPre[7], aSufLen[7];
  TsBuf body, f;
  tsBufInit(&body); tsBufInit(&f);
  for(i=0; i<n; i++){
    int64_t k = 0;
    if( i>0 ){
      while( az[i][k] && az[i-1][k] && az[i][k]==az[i-1][k] ) k++;
    }
    aPre[i] = k;
    aSufLen[i] = (int64_t)strlen(az[i]) - k;
  }
  tsPqDeltaEncode(&body, aPre, n);
  tsPqDeltaEncode(&body, aSufLen, n);
  for(i=0; i<n; i++) tsBufAppend(&body, az[i]+aPre[i], (size_t)aSufLen[i]);
  buildFile(&f, PQ_T_BYTE_ARRAY, 0, PQ_E_DELTA_BYTE_ARRAY, &body, n);
  {
    MemSrc src = { f.a, (int64_t)f.n, 0 };
    TsPqReader *r = 0;
    char *zErr = 0;
    TsPqColumnData d;
    int bOk;
    TT_EQ_I64("delta byte array: hand-built file opens", tsPqReaderOpen(&r, memRead, &src, src.n, &zErr), 0);
    TT_EQ_I64("delta byte array: column reads", r ? tsPqReaderReadColumn(r, 0, 0, 0, &d) : -1, 0);
    bOk = r && d.nRow==n;
    for(i=0; bOk && i<n; i++){
      bOk = d.aOff[i+1]-d.aOff[i]==(int64_t)strlen(az[i]) && memcmp(d.aData+d.aOff[i], az[i], strlen(az[i]))==0;
    }
    TT_CHECK("delta byte array: values rebuilt from prefixes and suffixes", bOk);
    if( r ) tsPqColumnDataFree(&d);
    tsPqReaderFree(r);
    free(zErr);
  }
  tsBufFree(&body); tsBufFree(&f);
}

/* INT96 legacy timestamps (Impala/Hive/Spark): nanoseconds of day + Julian day. */
static void testInt96(void){
  static const struct { uint64_t nanos; uint32_t jd; int64_t want; } a[] = {
    {1, 2440588, 1},
    {0, 2440589, 86400000000000LL},
    {3600000000000ULL, 2451545, 946688400000000000LL},
    {0, 2440587, -86400000000000LL},
  };
  TsBuf body, f;
  int i;
  tsBufInit(&body); tsBufInit(&f);
  for(i=0; i<4; i++){ tsBufAppendU64le(&body, a[i].nanos); tsBufAppendU32le(&body, a[i].jd); }
  buildFile(&f, PQ_T_INT96, -1, PQ_E_PLAIN, &body, 4);
  {
    MemSrc src = { f.a, (int64_t)f.n, 0 };
    TsPqReader *r = 0;
    char *zErr = 0;
    TsPqColumnData d;
    int bOk;
    TT_EQ_I64("int96: hand-built file opens", tsPqReaderOpen(&r, memRead, &src, src.n, &zErr), 0);
    TT_CHECK("int96: read as UTC nanosecond timestamps", r && tsPqReaderColumn(r, 0)->eType==TS_PQ_TIMESTAMP_NS
             && tsPqReaderColumn(r, 0)->bUtc);
    TT_EQ_I64("int96: column reads", r ? tsPqReaderReadColumn(r, 0, 0, 0, &d) : -1, 0);
    bOk = r && d.nRow==4;
    for(i=0; bOk && i<4; i++) bOk = d.aInt[i]==a[i].want;
    TT_CHECK("int96: values", bOk);
    if( r ) tsPqColumnDataFree(&d);
    tsPqReaderFree(r);
    free(zErr);
  }
  tsBufFree(&body); tsBufFree(&f);
}

/* An INT96 beyond the int64 nanosecond range (Spark/Hive write 9999-12-31
** as a "forever" sentinel) is an error naming the column, not a wrapped
** timestamp in 1816. */
static void testInt96Range(void){
  TsBuf body, f;
  tsBufInit(&body); tsBufInit(&f);
  tsBufAppendU64le(&body, 0); tsBufAppendU32le(&body, 2440588);     /* 1970-01-01 */
  tsBufAppendU64le(&body, 0); tsBufAppendU32le(&body, 5373484);     /* 9999-12-31 */
  buildFile(&f, PQ_T_INT96, -1, PQ_E_PLAIN, &body, 2);
  {
    MemSrc src = { f.a, (int64_t)f.n, 0 };
    TsPqReader *r = 0;
    char *zErr = 0;
    TsPqColumnData d;
    int rc;
    memset(&d, 0, sizeof(d));
    TT_EQ_I64("int96 range: file opens", tsPqReaderOpen(&r, memRead, &src, src.n, &zErr), 0);
    rc = r ? tsPqReaderReadColumn(r, 0, 0, 0, &d) : -1;
    TT_EQ_I64("int96 range: 9999-12-31 is an error", rc, TS_PQ_ERROR);
    TT_CHECK("int96 range: message names column, row group, day and range",
             r && tsPqReaderErrmsg(r) && strstr(tsPqReaderErrmsg(r), "row group 0: INT96 timestamp (Julian day 5373484)")
             && strstr(tsPqReaderErrmsg(r), "outside the int64 nanosecond range"));
    if( r && rc==0 ) tsPqColumnDataFree(&d);
    tsPqReaderFree(r);
    free(zErr);
  }
  tsBufFree(&body); tsBufFree(&f);
}

/* NaN, infinities and signed zeros: exact round trip; a chunk holding NaN
** gets neither min/max nor a ColumnIndex (DuckDB would prune NaN rows with
** NaN-free bounds). */
static void testSpecialDoubles(void){
  TsPqColumnSpec aCol[1] = {{"x", TS_PQ_DOUBLE, 1, TS_PQ_ENC_PLAIN}};
  double a[8] = {NAN, 1.0, -0.0, INFINITY, -INFINITY, NAN, 0.0, 2.5};
  TsPqWriteOpts o;
  TsPqWriter *w = 0;
  MemFile mf;
  int i, rc, e;
  memset(&mf, 0, sizeof(mf));
  tsBufInit(&mf.b);
  for(e=0; e<2; e++){
    tsPqWriteOptsInit(&o);
    o.nPageRows = 2;
    aCol[0].eEncoding = e ? TS_PQ_ENC_AUTO : TS_PQ_ENC_PLAIN;
    tsBufReset(&mf.b);
    rc = tsPqWriterOpen(&w, aCol, 1, &o, memWrite, &mf);
    for(i=0; i<8 && rc==0; i++){
      rc = tsPqWriterDouble(w, 0, a[i]);
      if( rc==0 ) rc = tsPqWriterEndRow(w);
    }
    /* the last page is all NaN */
    for(i=0; i<2 && rc==0; i++){
      rc = tsPqWriterDouble(w, 0, NAN);
      if( rc==0 ) rc = tsPqWriterEndRow(w);
    }
    if( rc==0 ) rc = tsPqWriterFinish(w);
    tsPqWriterFree(w);
    TT_EQ_I64(e ? "special doubles: write (auto)" : "special doubles: write (plain)", rc, 0);
    {
      MemSrc src = { mf.b.a, (int64_t)mf.b.n, 0 };
      TsPqReader *r = 0;
      TsPqColumnData d;
      TsPqStats st;
      TsPqRowSel sel;
      TsPqRange rg;
      int bSame = 1;
      char *zErr = 0;
      tsPqReaderOpen(&r, memRead, &src, src.n, &zErr);
      TT_EQ_I64("special doubles: read", r ? tsPqReaderReadColumn(r, 0, 0, 0, &d) : -1, 0);
      for(i=0; r && i<10; i++){
        double want = i<8 ? a[i] : NAN;
        if( memcmp(&d.aDbl[i], &want, 8)!=0 && !(isnan(want) && isnan(d.aDbl[i])) ) bSame = 0;
        if( i==2 && !signbit(d.aDbl[i]) ) bSame = 0;
      }
      TT_CHECK("special doubles: NaN, +-Inf, -0.0 round trip bit-exact", bSame);
      tsPqColumnDataFree(&d);
      TT_CHECK("special doubles: a chunk with NaN has no min/max (as DuckDB writes it)",
               tsPqReaderChunkStats(r, 0, 0, &st)==0 && !st.bMinMax && st.bNullCount && st.nNull==0);
      memset(&rg, 0, sizeof(rg));
      rg.iCol = 0; rg.bMin = 1; rg.min.r = 100;
      TT_EQ_I64("special doubles: selection without a ColumnIndex", tsPqReaderSelectRows(r, 0, &rg, 1, &sel), 0);
      TT_EQ_I64("special doubles: no page pruning without a ColumnIndex", sel.nRow, 10);
      tsPqRowSelFree(&sel);
      tsPqReaderFree(r);
      free(zErr);
    }
  }
  tsBufFree(&mf.b);
}

int main(void){
  testSpecialDoubles();
  testDeltaByteArray();
  testInt96();
  testInt96Range();
  testThrift();
  testRle();
  testDelta();
  testBss();
  testSnappy();
  testCodecs();
  testRoundTrips();
  testPruning();
  testApiErrors();
  testCorrupt();
  return tt_done();
}
