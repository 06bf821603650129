/*
** test_pq_span.c: unit tests of the Parquet reader's partial decoding: the
** span decoders (tsPqRleDecodeSpan, tsPqDeltaDecodeSpan, tsPqBssDecodeSpan)
** against a full decode for spans starting and ending at every run,
** bit-packed group, miniblock and block boundary; column reads with row
** selections (one range, several per page, empty ranges, nothing) against
** the full column, for every encoding the reader decodes mid-page, with
** NULLs, with and without a page index; per-column page sizes
** (TsPqWriteOpts.anPageRows); and the cold decode's clip to a time range
** (tsColdRgDecodeRuns keeps only the rows of its runs inside the range),
** and the decode of a measure for some rows only (tsColdRgColumnPart).
*/
#include "tt.h"
#include "pq_int.h"
#include "coldscan.h"
#include <stdlib.h>

typedef struct SpanFile { TsBuf b; } SpanFile;
static int spanWrite(void *p, const void *a, size_t n){
  SpanFile *f = (SpanFile*)p;
  tsBufAppend(&f->b, a, n);
  return f->b.bErr;
}
static int spanRead(void *p, int64_t off, int64_t n, void *out){
  const TsBuf *b = (const TsBuf*)p;
  if( off<0 || n<0 || (uint64_t)(off+n)>b->n ) return 1;
  memcpy(out, b->a+off, (size_t)n);
  return 0;
}

static uint64_t spanRng = 0x9e3779b97f4a7c15ULL;
static uint64_t spanRand(void){
  spanRng ^= spanRng<<13; spanRng ^= spanRng>>7; spanRng ^= spanRng<<17;
  return spanRng;
}

/* Span boundaries worth testing inside n values: every multiple of 8 and
** 32 (bit-packed groups, miniblocks) and of 128 (delta blocks), the value
** before and after each, and 0, 1, n-1, n.  Written to a, count returned. */
static int spanPoints(int64_t n, int64_t *a){
  int k = 0;
  int64_t i;
  for(i=0; i<=n; i++){
    int64_t m = i%32;
    if( i<=2 || i>=n-1 || m==0 || m==1 || m==31 || i%8==0 || i%128==127 || i%128==1 ) a[k++] = i;
  }
  return k;
}

static void testRleSpan(void){
  static const int aW[] = {1, 3, 8, 17, 32};
  int iw, bAll = 1, bCount = 1;
  TsBuf b;
  tsBufInit(&b);
  for(iw=0; iw<(int)(sizeof(aW)/sizeof(aW[0])); iw++){
    int w = aW[iw], nP, x, y;
    int64_t n = 300, i, aP[400];
    uint32_t a[300], o[300];
    uint32_t mask = w==32 ? 0xffffffffu : ((1u<<w)-1);
    /* runs of equal values (RLE runs) between literal stretches, 0/1 for width 1 */
    for(i=0; i<n; i++){
      uint32_t v = ((i/20)%2==0) ? (uint32_t)(i/20) : (uint32_t)spanRand();
      a[i] = w==1 ? (((i/20)%2==0) ? (uint32_t)((i/20)%4!=0) : (uint32_t)(spanRand()&1)) : v & mask;
    }
    tsBufReset(&b);
    tsPqRleEncode(&b, a, n, w);
    nP = spanPoints(n, aP);
    for(x=0; x<nP; x++){
      for(y=x; y<nP; y++){
        int64_t lo = aP[x], hi = aP[y], nz = -1, want = 0;
        for(i=0; i<lo; i++) want += a[i]!=0;
        if( tsPqRleDecodeSpan(b.a, b.n, w, lo, hi, o, &nz) ){ bAll = 0; continue; }
        if( hi>lo && memcmp(o, a+lo, sizeof(uint32_t)*(size_t)(hi-lo)) ) bAll = 0;
        if( nz!=want ) bCount = 0;
      }
    }
  }
  TT_CHECK("rle span: every [lo, hi) at run/group boundaries equals the full decode", bAll);
  TT_CHECK("rle span: nonzero count before lo is exact", bCount);
  {
    uint32_t a[64], o[64];
    int64_t nz = 0;
    int i;
    for(i=0; i<64; i++) a[i] = i<40 ? 1 : 0;
    tsBufReset(&b);
    tsPqRleEncode(&b, a, 64, 1);
    TT_CHECK("rle span: span past the stream's values fails", tsPqRleDecodeSpan(b.a, b.n, 1, 10, 65, o, &nz)!=0);
    TT_CHECK("rle span: an empty span decodes nothing and counts", tsPqRleDecodeSpan(b.a, b.n, 1, 50, 50, o, &nz)==0
             && nz==40);
    TT_CHECK("rle span: lo > hi rejected", tsPqRleDecodeSpan(b.a, b.n, 1, 5, 4, o, &nz)!=0);
  }
  tsBufFree(&b);
}

static void testDeltaSpan(void){
  TsBuf b;
  int64_t a[700], o[700], aP[800];
  int pat, bAll = 1, bUsed = 1;
  tsBufInit(&b);
  for(pat=0; pat<3; pat++){
    int64_t n = 700, i;
    int nP, x, y;
    for(i=0; i<n; i++){
      /* regular (width-0 miniblocks), jittered, and full-range values */
      a[i] = pat==0 ? 1451606400000000000LL + i*10000000000LL
           : pat==1 ? 1451606400000000000LL + i*10000000000LL + (int64_t)(spanRand()%1000)
           : (int64_t)spanRand();
    }
    tsBufReset(&b);
    tsPqDeltaEncode(&b, a, n);
    nP = spanPoints(n, aP);
    for(x=0; x<nP; x++){
      for(y=x; y<nP; y++){
        int64_t lo = aP[x], hi = aP[y];
        size_t used = 0, usedFull = 0;
        if( tsPqDeltaDecodeSpan(b.a, b.n, o, lo, hi, 0, &used) ){ bAll = 0; continue; }
        if( hi>lo && memcmp(o, a+lo, sizeof(int64_t)*(size_t)(hi-lo)) ) bAll = 0;
        if( hi>0 && (tsPqDeltaDecode(b.a, b.n, o, hi, 0, &usedFull) || used!=usedFull) ) bUsed = 0;
      }
    }
  }
  TT_CHECK("delta span: every [lo, hi) at miniblock/block boundaries equals the full decode", bAll);
  TT_CHECK("delta span: bytes used match a decode of the first hi values", bUsed);
  {
    int64_t a3[200];
    int i, bOk = 1;
    for(i=0; i<200; i++) a3[i] = i%2 ? INT32_MIN + i : INT32_MAX - i;
    tsBufReset(&b);
    tsPqDeltaEncode(&b, a3, 200);
    for(i=0; i<200 && bOk; i++){
      int64_t v;
      if( tsPqDeltaDecodeSpan(b.a, b.n, &v, i, i+1, 1, 0) || v!=a3[i] ) bOk = 0;
    }
    TT_CHECK("delta span: INT32 wrap for every single value", bOk);
    TT_CHECK("delta span: more values than the header holds rejected",
             tsPqDeltaDecodeSpan(b.a, b.n, o, 150, 201, 0, 0)!=0);
  }
  tsBufFree(&b);
}

static void testBssSpan(void){
  TsBuf b;
  double a[50], o[50];
  int i, j, bAll = 1;
  for(i=0; i<50; i++) a[i] = (double)i*1.25 - 7;
  tsBufInit(&b);
  tsPqBssEncode(&b, (const unsigned char*)a, 50, 8);
  for(i=0; i<=50; i++){
    for(j=0; i+j<=50; j++){
      if( tsPqBssDecodeSpan(b.a, b.n, i, j, 8, (unsigned char*)o) || (j && memcmp(o, a+i, 8*(size_t)j)) ) bAll = 0;
    }
  }
  TT_CHECK("bss span: every [lo, lo+n) equals the full decode", bAll);
  TT_CHECK("bss span: past the streams' end rejected", tsPqBssDecodeSpan(b.a, b.n, 40, 11, 8, (unsigned char*)o)!=0);
  tsBufFree(&b);
}

/*--------------------------- column reads ---------------------------*/
#define SP_NROW  1000
#define SP_NCOL  8

/* Row i's value of column c is NULL: runs of NULLs, scattered NULLs, and
** rows 300..399 all NULL (a page of column 1 and parts of others). */
static int spNull(int c, int64_t i){
  if( c==0 ) return 0;
  if( i>=300 && i<400 ) return 1;
  return (i%11)==(c%11) || ((i/50)%7==c && (i%50)<13);
}

static int spWrite(TsBuf *pOut, int bNoPageIndex, int64_t nRgRows){
  TsPqColumnSpec aCol[SP_NCOL] = {
    {"time", TS_PQ_TIMESTAMP_NS, 0, TS_PQ_ENC_DELTA},
    {"bss", TS_PQ_DOUBLE, 1, TS_PQ_ENC_BSS},
    {"dplain", TS_PQ_DOUBLE, 1, TS_PQ_ENC_PLAIN},
    {"idelta", TS_PQ_INT64, 1, TS_PQ_ENC_DELTA},
    {"sdict", TS_PQ_STRING, 1, TS_PQ_ENC_DICT},
    {"splain", TS_PQ_STRING, 1, TS_PQ_ENC_PLAIN},
    {"bool", TS_PQ_BOOLEAN, 1, 0},
    {"iplain", TS_PQ_INT64, 1, TS_PQ_ENC_PLAIN}};
  /* page sizes that put page boundaries at different rows per column */
  static const int anPage[SP_NCOL] = {100, 37, 64, 129, 50, 33, 200, 0};
  TsPqWriteOpts o;
  TsPqWriter *w = 0;
  SpanFile f;
  int64_t i;
  int rc, c;
  tsBufInit(&f.b);
  tsPqWriteOptsInit(&o);
  o.nRowGroupRows = nRgRows;
  o.nPageRows = 90;
  o.anPageRows = anPage;
  o.bNoPageIndex = bNoPageIndex;
  rc = tsPqWriterOpen(&w, aCol, SP_NCOL, &o, spanWrite, &f);
  for(i=0; i<SP_NROW && rc==0; i++){
    char z[32];
    int n;
    rc = tsPqWriterInt64(w, 0, 1451606400000000000LL + i*10000000000LL + (i%3));
    for(c=1; c<SP_NCOL && rc==0; c++){
      if( spNull(c, i) ){ rc = tsPqWriterNull(w, c); continue; }
      switch( c ){
        case 1: case 2: rc = tsPqWriterDouble(w, c, (double)(i%97)*0.5 - c); break;
        case 3: case 7: rc = tsPqWriterInt64(w, c, i*i - 5000 + c); break;
        case 4: n = snprintf(z, sizeof(z), "host_%lld", (long long)(i/40)); rc = tsPqWriterText(w, c, z, n); break;
        case 5: n = snprintf(z, sizeof(z), "v%lld", (long long)(i*7919%1000)); rc = tsPqWriterText(w, c, z, n); break;
        default: rc = tsPqWriterBool(w, c, (i%5)<2); break;
      }
    }
    if( rc==0 ) rc = tsPqWriterEndRow(w);
  }
  if( rc==0 ) rc = tsPqWriterFinish(w);
  tsPqWriterFree(w);
  *pOut = f.b;
  return rc;
}

/* 1 if row k of the selected read s equals row r of the full read a. */
static int spRowEq(const TsPqColumnData *a, int64_t r, const TsPqColumnData *s, int64_t k){
  int na = a->aNull ? a->aNull[r] : 0, ns = s->aNull ? s->aNull[k] : 0;
  if( na!=ns ) return 0;
  if( na ) return 1;
  if( a->aDbl ) return s->aDbl && memcmp(&a->aDbl[r], &s->aDbl[k], 8)==0;
  if( a->aInt ) return s->aInt && a->aInt[r]==s->aInt[k];
  if( a->aOff ){
    int64_t n = a->aOff[r+1]-a->aOff[r];
    return s->aOff && s->aOff[k+1]-s->aOff[k]==n && memcmp(a->aData+a->aOff[r], s->aData+s->aOff[k], (size_t)n)==0;
  }
  return 0;
}

/* Read every column of row group g with selection aR[0..2n) and compare
** with the full reads aFull; 0 when equal. */
static int spCheckSel(TsPqReader *r, int g, const TsPqColumnData *aFull, const int64_t *aR, int n){
  TsPqRowSel sel;
  int c, i, bad = 0;
  sel.nRange = n;
  sel.aRange = (int64_t*)aR;
  sel.nRow = 0;
  for(i=0; i<n; i++) sel.nRow += aR[2*i+1]-aR[2*i];
  for(c=0; c<SP_NCOL && !bad; c++){
    TsPqColumnData d;
    int64_t k = 0, row;
    if( tsPqReaderReadColumn(r, g, c, &sel, &d) ){ bad = 1; break; }
    if( d.nRow!=sel.nRow ) bad = 1;
    for(i=0; i<n && !bad; i++){
      for(row=aR[2*i]; row<aR[2*i+1] && !bad; row++, k++){
        if( !spRowEq(&aFull[c], row, &d, k) ) bad = 1;
      }
    }
    tsPqColumnDataFree(&d);
  }
  return bad;
}

static void spCheckFile(int bNoPageIndex, int64_t nRgRows, const char *zWhat){
  TsBuf f;
  TsPqReader *r = 0;
  char *zErr = 0, zName[160];
  int g, c, nRg, bSingle = 0, bMulti = 0, bEmpty = 0;
  snprintf(zName, sizeof(zName), "span read (%s): write", zWhat);
  TT_EQ_I64(zName, spWrite(&f, bNoPageIndex, nRgRows), 0);
  snprintf(zName, sizeof(zName), "span read (%s): open", zWhat);
  TT_EQ_I64(zName, tsPqReaderOpen(&r, spanRead, &f, (int64_t)f.n, &zErr), 0);
  nRg = r ? tsPqReaderRowGroupCount(r) : 0;
  for(g=0; g<nRg; g++){
    TsPqColumnData aFull[SP_NCOL];
    int64_t nRow = tsPqReaderRowGroupRows(r, g), aP[1100], aR[8];
    int nP, x, y, nStep = getenv("TS_SANITIZE") && atoi(getenv("TS_SANITIZE")) ? 23 : 5;
    memset(aFull, 0, sizeof(aFull));
    for(c=0; c<SP_NCOL; c++){
      if( tsPqReaderReadColumn(r, g, c, 0, &aFull[c]) ) bSingle = 1;
    }
    nP = spanPoints(nRow, aP);
    /* one range [lo, hi) for boundary pairs (every nStep-th hi keeps it quick) */
    for(x=0; x<nP && !bSingle; x++){
      for(y=x+1; y<nP && !bSingle; y+=nStep){
        aR[0] = aP[x]; aR[1] = aP[y];
        bSingle |= spCheckSel(r, g, aFull, aR, 1);
      }
    }
    /* several ranges, some in one page, some empty */
    for(x=0; x<300 && !bMulti; x++){
      int64_t a0 = (int64_t)(spanRand()%(uint64_t)(nRow+1)), v[6];
      int k, m;
      v[0] = a0;
      for(k=1; k<6; k++){
        int64_t step = (int64_t)(spanRand()%40);
        v[k] = v[k-1]+step>nRow ? nRow : v[k-1]+step;
      }
      for(k=0, m=0; k<3; k++){ aR[2*m] = v[2*k]; aR[2*m+1] = v[2*k+1]; m++; }
      bMulti |= spCheckSel(r, g, aFull, aR, m);
    }
    aR[0] = aR[1] = nRow/2;
    bEmpty |= spCheckSel(r, g, aFull, aR, 1);
    bEmpty |= spCheckSel(r, g, aFull, aR, 0);
    for(c=0; c<SP_NCOL; c++) tsPqColumnDataFree(&aFull[c]);
  }
  snprintf(zName, sizeof(zName), "span read (%s): one range at every boundary pair, every encoding, with NULLs", zWhat);
  TT_CHECK(zName, nRg>0 && !bSingle);
  snprintf(zName, sizeof(zName), "span read (%s): several ranges per page, empty ones among them", zWhat);
  TT_CHECK(zName, nRg>0 && !bMulti);
  snprintf(zName, sizeof(zName), "span read (%s): an empty range and no range read no row", zWhat);
  TT_CHECK(zName, nRg>0 && !bEmpty);
  tsPqReaderFree(r);
  free(zErr);
  tsBufFree(&f);
}

static void testSpanReads(void){
  spCheckFile(0, 0, "page index, one row group");
  spCheckFile(1, 0, "no page index");
  spCheckFile(0, 384, "row groups of 384 rows");
}

/* 1 if the page index selects exactly rows [lo, hi) (one page) for
** column iCol = v in row group 0. */
static int spSelectsPage(TsPqReader *r, int iCol, int64_t v, int64_t lo, int64_t hi){
  TsPqRange rg;
  TsPqRowSel sel;
  int bOk;
  memset(&rg, 0, sizeof(rg));
  rg.iCol = iCol; rg.bMin = rg.bMax = 1;
  rg.min.i = rg.max.i = v;
  if( r==0 || tsPqReaderSelectRows(r, 0, &rg, 1, &sel) ) return 0;
  bOk = sel.nRange==1 && sel.aRange[0]==lo && sel.aRange[1]==hi;
  tsPqRowSelFree(&sel);
  return bOk;
}

/* TsPqWriteOpts.anPageRows: the page index selects a column's own pages. */
static void testPageRows(void){
  TsBuf f;
  TsPqReader *r = 0;
  char *zErr = 0;
  TT_EQ_I64("page rows: write", spWrite(&f, 0, 0), 0);
  TT_EQ_I64("page rows: open", tsPqReaderOpen(&r, spanRead, &f, (int64_t)f.n, &zErr), 0);
  TT_CHECK("page rows: time (100-row pages) selects rows 100..200",
           spSelectsPage(r, 0, 1451606400000000000LL + 150*10000000000LL, 100, 200));
  TT_CHECK("page rows: idelta (129-row pages) selects rows 129..258",
           spSelectsPage(r, 3, 150*150 - 5000 + 3, 129, 258));
  TT_CHECK("page rows: iplain (0 = the default 90) selects rows 90..180",
           spSelectsPage(r, 7, 150*150 - 5000 + 7, 90, 180));
  tsPqReaderFree(r);
  free(zErr);
  tsBufFree(&f);
}

/*------------------------- cold decode clip -------------------------*/
/* Two series of 500 rows each (times 10 s apart), one row group, 64-row
** pages; tsColdRgDecodeRuns with a time range keeps only the rows of each
** run inside it, and the measure decoded afterwards matches those rows. */
static void testColdClip(void){
  TsPqColumnSpec aCol[3] = {{"time", TS_PQ_TIMESTAMP_NS, 0, TS_PQ_ENC_DELTA},
                            {"measure_name", TS_PQ_STRING, 0, 0}, {"v", TS_PQ_DOUBLE, 1, TS_PQ_ENC_BSS}};
  TsPqWriteOpts o;
  TsPqWriter *w = 0;
  TsPqReader *r = 0;
  SpanFile f;
  TsColdRunSpec aSpec[2];
  TsPqRange rg;
  TsColdRg *p = 0;
  char *zErr = 0;
  int64_t i, t0 = 1451606400000000000LL, tLo = t0 + 250*10000000000LL, tHi = t0 + 600*10000000000LL;
  int rc, bTime = 1, bV = 1;
  tsBufInit(&f.b);
  tsPqWriteOptsInit(&o);
  o.nPageRows = 64;
  rc = tsPqWriterOpen(&w, aCol, 3, &o, spanWrite, &f);
  for(i=0; i<1000 && rc==0; i++){
    rc = tsPqWriterInt64(w, 0, t0 + (i%500)*10000000000LL);
    if( rc==0 ) rc = tsPqWriterText(w, 1, i<500 ? "a" : "b", 1);
    if( rc==0 ) rc = i%7==0 ? tsPqWriterNull(w, 2) : tsPqWriterDouble(w, 2, (double)i);
    if( rc==0 ) rc = tsPqWriterEndRow(w);
  }
  if( rc==0 ) rc = tsPqWriterFinish(w);
  tsPqWriterFree(w);
  TT_EQ_I64("cold clip: write two series", rc, 0);
  TT_EQ_I64("cold clip: open", tsPqReaderOpen(&r, spanRead, &f.b, (int64_t)f.b.n, &zErr), 0);
  aSpec[0].iStart = 0; aSpec[0].iEnd = 500; aSpec[0].aKey = (const unsigned char*)"a"; aSpec[0].nKey = 1;
  aSpec[1].iStart = 500; aSpec[1].iEnd = 1000; aSpec[1].aKey = (const unsigned char*)"b"; aSpec[1].nKey = 1;
  memset(&rg, 0, sizeof(rg));
  rg.iCol = 0; rg.bMin = rg.bMax = 1; rg.min.i = tLo; rg.max.i = tHi;
  rc = r ? tsColdRgDecodeRuns(r, 0, 3, &rg, 1, 0, 1000, aSpec, 2, &p, &zErr) : 1;
  TT_EQ_I64("cold clip: decode the runs for times 250..599 (x 10 s)", rc, 0);
  TT_CHECK("cold clip: 250 rows of each run remain", p && p->nRow==500 && p->nRun==2
           && p->aRun[0].iStart==0 && p->aRun[0].iEnd==250 && p->aRun[1].iStart==250 && p->aRun[1].iEnd==500);
  TT_CHECK("cold clip: the selection is rows 250..500 and 750..1000", p && p->sel.nRange==2
           && p->sel.aRange[0]==250 && p->sel.aRange[1]==500 && p->sel.aRange[2]==750 && p->sel.aRange[3]==1000);
  for(i=0; p && i<500; i++){
    if( p->aCol[0].aInt[i]!=t0 + (250 + i%250)*10000000000LL ) bTime = 0;
  }
  TT_CHECK("cold clip: times are those rows'", p && bTime);
  TT_EQ_I64("cold clip: measure decoded after the clip", p ? tsColdRgColumn(r, p, 2, &zErr) : 1, 0);
  for(i=0; p && p->aCol[2].nRow==500 && i<500; i++){
    int64_t row = i<250 ? 250+i : 500+i;
    int bNull = p->aCol[2].aNull && p->aCol[2].aNull[i];
    if( bNull!=(row%7==0) || (!bNull && p->aCol[2].aDbl[i]!=(double)row) ) bV = 0;
  }
  TT_CHECK("cold clip: measure values and NULLs are those rows'", p && p->aCol[2].nRow==500 && bV);
  {
    /* Row-group rows 300..800 in decoded rows: 50..250 of the first run's
    ** piece and 250..300 of the second's, adjacent, so one interval. */
    int64_t aRgRows[2] = {300, 800}, *aOut = 0, aKeep[6] = {10, 20, 260, 270, 499, 500};
    int nOut = 0, bSame = 1, bRest = 1;
    TsColdRg *q = 0;
    TT_CHECK("cold part: row-group rows to decoded rows", p
             && tsColdRgSelToRows(p, aRgRows, 1, &aOut, &nOut)==0 && nOut==1 && aOut[0]==50 && aOut[1]==300);
    free(aOut);
    /* A measure decoded for kept rows only: those equal the full decode,
    ** every other row is NULL. */
    rg.min.i = tLo; rg.max.i = tHi;
    rc = tsColdRgDecodeRuns(r, 0, 3, &rg, 1, 0, 1000, aSpec, 2, &q, &zErr);
    TT_EQ_I64("cold part: the measure for three intervals",
              rc==0 && q ? tsColdRgColumnPart(r, q, 2, aKeep, 3, &zErr) : 1, 0);
    for(i=0; p && q && q->abHave[2] && i<500; i++){
      int bKept = (i>=10 && i<20) || (i>=260 && i<270) || i==499;
      int bNullP = p->aCol[2].aNull && p->aCol[2].aNull[i];
      int bNullQ = q->aCol[2].aNull && q->aCol[2].aNull[i];
      if( bKept && (bNullP!=bNullQ || (!bNullP && p->aCol[2].aDbl[i]!=q->aCol[2].aDbl[i])) ) bSame = 0;
      if( !bKept && !bNullQ ) bRest = 0;
    }
    TT_CHECK("cold part: kept rows are the full decode's (values and NULLs)", q && q->abHave[2] && bSame);
    TT_CHECK("cold part: the other rows are NULL", q && q->abHave[2] && bRest);
    tsColdRgFree(q);
    q = 0;
    rc = tsColdRgDecodeRuns(r, 0, 3, &rg, 1, 0, 1000, aSpec, 2, &q, &zErr);
    TT_EQ_I64("cold part: no kept row", rc==0 && q ? tsColdRgColumnPart(r, q, 2, aKeep, 0, &zErr) : 1, 0);
    bRest = q && q->aCol[2].nRow==500 && q->aCol[2].aDbl && q->aCol[2].aInt;
    for(i=0; bRest && i<500; i++) if( !q->aCol[2].aNull[i] ) bRest = 0;
    TT_CHECK("cold part: every row NULL, both value arrays there (kind unknown)", bRest);
    TT_EQ_I64("cold part: a string column is decoded whole",
              q ? tsColdRgColumnPart(r, q, 1, aKeep, 3, &zErr) : 1, 0);
    TT_CHECK("cold part: its rows all there", q && q->aCol[1].nRow==500 && q->aCol[1].aOff
             && q->aCol[1].aOff[500]-q->aCol[1].aOff[499]==1 && q->aCol[1].aData[q->aCol[1].aOff[0]]=='a');
    tsColdRgFree(q);
  }
  tsColdRgFree(p);
  p = 0;
  rg.min.i = t0 + 600*10000000000LL; rg.max.i = t0 + 700*10000000000LL;
  rc = tsColdRgDecodeRuns(r, 0, 3, &rg, 1, 0, 1000, aSpec, 2, &p, &zErr);
  TT_CHECK("cold clip: a range after every row leaves no run", rc==0 && p && p->nRow==0 && p->nRun==0);
  tsColdRgFree(p);
  tsPqReaderFree(r);
  free(zErr);
  tsBufFree(&f.b);
}

int main(void){
  testRleSpan();
  testDeltaSpan();
  testBssSpan();
  testSpanReads();
  testPageRows();
  testColdClip();
  return tt_done();
}
