/*
** test_csvr.c: unit tests of the streaming CSV reader (ext/codec/csv_read.c).
** Every input is read whole and in pieces of 1, 2, 3 and 7 bytes: the
** rendering of the records must be identical (state survives boundaries).
** Rendering: one "lines:[f1][f2]" per record, NULL fields as <N>, quoted
** fields as {..}; bad records as "lines!reason"; then "@offset" of the last.
*/
#include "tt.h"
#include "csv_read.h"
#include <stdlib.h>

static void render(const char *zIn, size_t nIn, const TsCsvOpt *pOpt, size_t nPiece,
                   TsBuf *pOut){
  TsCsvReader r;
  const char *zWhy;
  size_t i = 0;
  int e, bFin = 0;
  tsBufReset(pOut);
  if( tsCsvInit(&r, pOpt, &zWhy) ){ tsBufPrintf(pOut, "OPT!%s", zWhy); tsBufAppendByte(pOut, 0); return; }
  for(;;){
    if( i<nIn ){
      size_t n = nPiece==0 || nIn-i<nPiece ? nIn-i : nPiece;
      tsCsvFeed(&r, zIn+i, n);
      i += n;
    }else if( !bFin ){
      tsCsvFinish(&r);
      bFin = 1;
    }
    while( (e = tsCsvNext(&r))==TS_CSV_ROW || e==TS_CSV_BAD ){
      tsBufPrintf(pOut, "%lld-%lld", (long long)r.iFirstLine, (long long)r.iLastLine);
      if( e==TS_CSV_BAD ){
        tsBufPrintf(pOut, "!%s|", r.zReason);
      }else{
        int k;
        tsBufAppendByte(pOut, ':');
        for(k=0; k<tsCsvFieldCount(&r); k++){
          size_t n; int f;
          const char *z = tsCsvField(&r, k, &n, &f);
          if( f & TS_CSV_NULL ){ tsBufAppendStr(pOut, "<N>"); continue; }
          tsBufAppendByte(pOut, (f & TS_CSV_QUOTED) ? '{' : '[');
          tsBufAppend(pOut, z, n);
          tsBufAppendByte(pOut, (f & TS_CSV_QUOTED) ? '}' : ']');
        }
        tsBufAppendByte(pOut, '|');
      }
    }
    if( e==TS_CSV_END ) break;
    if( e==TS_CSV_NOMEM ){ tsBufAppendStr(pOut, "NOMEM"); break; }
  }
  tsBufPrintf(pOut, "@%lld", (long long)r.iEndOff);
  tsBufAppendByte(pOut, 0);
  tsCsvFree(&r);
}

static void check(const char *zName, const char *zIn, const TsCsvOpt *pOpt, const char *zExp){
  static const size_t aPiece[] = {0, 1, 2, 3, 7};
  TsBuf b; size_t k; char zN[200];
  tsBufInit(&b);
  for(k=0; k<sizeof(aPiece)/sizeof(aPiece[0]); k++){
    render(zIn, strlen(zIn), pOpt, aPiece[k], &b);
    snprintf(zN, sizeof(zN), "%s (pieces of %zu)", zName, aPiece[k]);
    TT_EQ_STR(zN, (const char*)b.a, zExp);
  }
  tsBufFree(&b);
}

/* The word-at-a-time in-place path against the byte-wise scanner: random
** records over an alphabet of separators, quotes, CR, LF, blanks, letters
** and UTF-8 bytes, shifted by 0..15 bytes so every special byte falls at
** every position of a 16- and an 8-byte word, read whole and in 1-byte pieces (which
** never take the in-place path): the renderings must be equal.  Whole reads
** also check the ASCII flag: set only when every byte of the record is
** below 0x80. */
static void testWordPath(void){
  static const char aAlpha[] = ",,,,aaaab\"\r\n \xC3\xA9";
  char z[400];
  TsBuf b, e;
  TsCsvOpt o;
  int iCase, nDiff = 0, nAsciiBad = 0, nAscii = 0, nInPlace = 0;
  uint64_t x = 88172645463325252ULL;
  tsBufInit(&b); tsBufInit(&e);
  for(iCase=0; iCase<4000; iCase++){
    int n = 0, nLen, k;
    tsCsvOptInit(&o);
    if( iCase%4==1 ) o.cEsc = '\\';
    if( iCase%4==2 ) o.zNull = "aa";
    if( iCase%4==3 ) o.cSep = ';';
    for(k=0; k<iCase%16; k++) z[n++] = 'p';                   /* shift */
    x ^= x<<13; x ^= x>>7; x ^= x<<17;
    nLen = 20 + (int)(x%300);
    for(k=0; k<nLen; k++){
      char c;
      x ^= x<<13; x ^= x>>7; x ^= x<<17;
      /* mostly plain bytes and line ends (a quote, CR or UTF-8 byte now
      ** and then), so most records take the in-place path and end at
      ** every position of a word */
      c = (x>>32)%16 ? "aaaab,,,;\n"[(x>>40)%10] : aAlpha[(x>>40)%(sizeof(aAlpha)-1)];
      if( (x>>20)%40==0 ) c = '\n';
      if( o.cEsc=='\\' && (x>>24)%80==0 ) c = '\\';
      z[n++] = c;
    }
    z[n] = 0;
    render(z, (size_t)n, &o, 0, &b);
    render(z, (size_t)n, &o, 1, &e);
    if( strcmp((const char*)b.a, (const char*)e.a)!=0 ){
      if( nDiff++==0 ) printf("# first difference: input case %d\n", iCase);
    }
    {
      /* the ASCII flag of every record read whole */
      TsCsvReader r; const char *zWhy; int ev;
      tsCsvInit(&r, &o, &zWhy);
      tsCsvFeed(&r, z, (size_t)n);
      tsCsvFinish(&r);
      while( (ev = tsCsvNext(&r))==TS_CSV_ROW || ev==TS_CSV_BAD ){
        if( ev==TS_CSV_ROW && r.nGap==1 ) nInPlace++;
        if( ev==TS_CSV_ROW && tsCsvRecordAscii(&r) ){
          int f;
          nAscii++;
          for(f=0; f<tsCsvFieldCount(&r); f++){
            size_t nF, j; int fl;
            const char *zF = tsCsvField(&r, f, &nF, &fl);
            for(j=0; j<nF; j++) if( (unsigned char)zF[j]>=0x80 ) nAsciiBad++;
          }
        }
      }
      tsCsvFree(&r);
    }
  }
  TT_CHECK("csvr word path: 4000 random shifted inputs read whole equal byte-wise", nDiff==0);
  TT_CHECK("csvr word path: most records of those inputs were read in place", nInPlace>20000);
  printf("INFO csvr word path: %d records read in place\n", nInPlace);
  TT_CHECK("csvr word path: the ASCII flag is set on some records and never on a non-ASCII one",
           nAscii>100 && nAsciiBad==0);
  tsBufFree(&b); tsBufFree(&e);
}

int main(void){
  TsCsvOpt o;
  tsCsvOptInit(&o);
  check("csvr plain LF", "a,b,c\n1,2,3\n", &o, "1-1:[a][b][c]|2-2:[1][2][3]|@12");
  check("csvr CRLF and no final newline", "a,b\r\n1,2", &o, "1-1:[a][b]|2-2:[1][2]|@8");
  check("csvr lone CR ends a line", "a\rb\r", &o, "1-1:[a]|2-2:[b]|@4");
  check("csvr blank lines skipped", "a\n\n\r\nb\n", &o, "1-1:[a]|4-4:[b]|@7");
  check("csvr empty fields", ",\n,,x\n", &o, "1-1:[][]|2-2:[][][x]|@6");
  check("csvr quoted with separator, doubled quote, newline",
        "\"a,b\",\"say \"\"hi\"\"\",\"l1\nl2\"\nz\n", &o,
        "1-2:{a,b}{say \"hi\"}{l1\nl2}|3-3:[z]|@29");
  check("csvr quoted CRLF inside counts one line", "\"x\r\ny\",1\r\n2\r\n", &o,
        "1-2:{x\r\ny}[1]|3-3:[2]|@13");
  check("csvr empty quoted is not NULL", "\"\",a\n", &o, "1-1:{}[a]|@5");
  check("csvr BOM skipped", "\xEF\xBB\xBFh1,h2\n1,2\n", &o, "1-1:[h1][h2]|2-2:[1][2]|@13");
  check("csvr partial BOM is data", "\xEF\xBBx\n", &o, "1-1:[\xEF\xBBx]|@4");
  check("csvr input ending inside a BOM is data", "\xEF", &o, "1-1:[\xEF]|@1");
  check("csvr stray quote in unquoted field", "a,b\"c,d\nok\n", &o,
        "1-1!quote character inside an unquoted field (field 2)|2-2:[ok]|@11");
  check("csvr junk after closing quote", "\"a\"x,b\nok\n", &o,
        "1-1!unexpected character after a closing quote (field 1)|2-2:[ok]|@10");
  check("csvr unterminated quote at EOF", "ok\n\"abc\ndef\n", &o,
        "1-1:[ok]|2-4!quoted field not closed at end of input (field 1, opened on line 2)|@12");
  check("csvr whitespace kept without trim", " a , b \n", &o, "1-1:[ a ][ b ]|@8");

  tsCsvOptInit(&o); o.bTrim = 1;
  check("csvr trim unquoted and around quotes", " a , \"b \" ,c\t\n", &o, "1-1:[a]{b }[c]|@14");
  check("csvr trim field of blanks is empty", "x,   ,y\n", &o, "1-1:[x][][y]|@8");

  tsCsvOptInit(&o); o.cSep = ';';
  check("csvr separator ;", "a;b,c\n", &o, "1-1:[a][b,c]|@6");
  tsCsvOptInit(&o); o.cSep = '\t'; o.bTrim = 1;
  check("csvr separator tab with trim keeps tabs as separators", "a\t b \tc\n", &o,
        "1-1:[a][b][c]|@8");
  tsCsvOptInit(&o); o.cSep = ' ';
  check("csvr separator space", "a b  c\n", &o, "1-1:[a][b][][c]|@7");
  tsCsvOptInit(&o); o.cSep = '|'; o.cQuote = '\'';
  check("csvr quote char '", "'a|b'|'it''s'|\"x\"\n", &o, "1-1:{a|b}{it's}[\"x\"]|@18");

  tsCsvOptInit(&o); o.cEsc = '\\';
  check("csvr escape in unquoted and quoted", "a\\,b,\"q\\\"x\",c\\\\\n", &o,
        "1-1:[a,b]{q\"x}[c\\]|@16");
  check("csvr escaped newline is data", "a\\\nb,c\n", &o, "1-2:[a\nb][c]|@7");
  tsCsvOptInit(&o); o.cEsc = '"';
  check("csvr escape equal to quote is doubling", "\"a\"\"b\"\n", &o, "1-1:{a\"b}|@7");

  tsCsvOptInit(&o); o.zNull = "NULL";
  check("csvr NullValue unquoted only", "NULL,\"NULL\",NULLx,\n", &o, "1-1:<N>{NULL}[NULLx][]|@19");
  tsCsvOptInit(&o); o.zNull = " "; o.bTrim = 1;
  check("csvr NullValue blank with trim", "a, ,\"\"\n", &o, "1-1:[a]<N>{}|@7");
  tsCsvOptInit(&o); o.zNull = " ";
  check("csvr NullValue blank without trim", "a, ,\n", &o, "1-1:[a]<N>[]|@5");

  tsCsvOptInit(&o); o.nMaxRecord = 8;
  check("csvr record too long is bad, next is read", "123456789,1\nok\n", &o,
        "1-1!record longer than 8 bytes|2-2:[ok]|@15");

  tsCsvOptInit(&o); o.cSep = '"';
  check("csvr separator equal to quote refused", "a\n", &o,
        "OPT!QuoteChar must be one character other than the separator, CR or LF");
  tsCsvOptInit(&o); o.zNull = "";
  check("csvr empty NullValue refused", "a\n", &o, "OPT!NullValue must be 1 to 256 characters");

  /* Records read in place (whole piece, no quote): the same rendering as
  ** the byte-wise scanner in pieces (check compares both). */
  tsCsvOptInit(&o);
  check("csvr in place: CRLF records and a CRLF blank line", "a,b\r\n\r\nc,\r\n", &o,
        "1-1:[a][b]|3-3:[c][]|@11");
  check("csvr in place: lone CR then LF record", "a\rb\n\nc", &o, "1-1:[a]|2-2:[b]|4-4:[c]|@6");
  check("csvr in place: a quoted record between plain ones", "1,2\n\"x\",3\n4,5\n", &o,
        "1-1:[1][2]|2-2:{x}[3]|3-3:[4][5]|@14");
  check("csvr in place: separators at every byte of a word, quote and CR past the first words",
        "a,bb,ccc,dddd,eeeee,ffffff,ggggggg,hhhhhhhh,,,x\n0123456789abcdef,\"q\"\n0123456789abcdef,z\r\n", &o,
        "1-1:[a][bb][ccc][dddd][eeeee][ffffff][ggggggg][hhhhhhhh][][][x]|2-2:[0123456789abcdef]{q}"
        "|3-3:[0123456789abcdef][z]|@89");
  tsCsvOptInit(&o); o.cEsc = '\\';
  check("csvr in place: an escape past the first word", "0123456789,abcdef\\,x\n", &o,
        "1-1:[0123456789][abcdef,x]|@21");
  tsCsvOptInit(&o); o.zNull = "NA";
  check("csvr in place: NullValue", "NA,NAx,,NA\n", &o, "1-1:<N>[NAx][]<N>|@11");
  tsCsvOptInit(&o); o.nMaxRecord = 4;
  check("csvr in place: the record limit still applies", "12345\n1,2\n", &o,
        "1-1!record longer than 4 bytes|2-2:[1][2]|@10");
  {
    /* 4096 fields is the limit: 4096 in place, 4097 bad */
    size_t n = 2*4096, k;
    char *z = malloc(2*n+8);
    TsBuf b, e;
    tsBufInit(&b); tsBufInit(&e);
    for(k=0; k<4096; k++){ z[2*k] = 'x'; z[2*k+1] = k+1<4096 ? ',' : '\n'; }
    memcpy(z+n, z, n); z[2*n-1] = ','; memcpy(z+2*n, "x\n", 3);
    tsCsvOptInit(&o);
    render(z, 2*n+2, &o, 0, &b);
    render(z, 2*n+2, &o, 1, &e);
    TT_CHECK("csvr in place: 4096 fields read, 4097 refused, as byte-wise",
             strcmp((const char*)b.a, (const char*)e.a)==0
             && strstr((const char*)b.a, "|2-2!record has more than 4096 fields|@16386")!=0);
    tsBufFree(&b); tsBufFree(&e);
    free(z);
  }

  /* Word boundaries of the in-place path: a word of eight separators (more
  ** than the four written without a loop), the stop byte (LF, CR, quote) as
  ** each byte of a word with separators before it, a separator as the last
  ** byte of a word. */
  tsCsvOptInit(&o);
  check("csvr in place: eight separators in one word", "abcdefgh,,,,,,,,x\nab,,,,,,,,,c\n", &o,
        "1-1:[abcdefgh][][][][][][][][x]|2-2:[ab][][][][][][][][][c]|@31");
  check("csvr in place: sixteen separators in one 16-byte word",
        "abcdefghijklmnop,,,,,,,,,,,,,,,,x\n", &o,
        "1-1:[abcdefghijklmnop][][][][][][][][][][][][][][][][x]|@34");
  check("csvr in place: LF as the last byte of a 16-byte word, then a record in the tail",
        "0123456789,abcd\n0,1\n", &o, "1-1:[0123456789][abcd]|2-2:[0][1]|@20");
  check("csvr in place: LF as byte 0..7 of the second word after separators",
        "0123456,\n0123456,a\n0123456,ab\n0123456,abc\n0123456,abcd\n0123456,abcde\n"
        "0123456,abcdef\n0123456,a,c,e,\n", &o,
        "1-1:[0123456][]|2-2:[0123456][a]|3-3:[0123456][ab]|4-4:[0123456][abc]|5-5:[0123456][abcd]"
        "|6-6:[0123456][abcde]|7-7:[0123456][abcdef]|8-8:[0123456][a][c][e][]|@99");
  check("csvr in place: quote at byte 7 of a word after separators", "a,b,c,d\"e\nok\n", &o,
        "1-1!quote character inside an unquoted field (field 4)|2-2:[ok]|@13");
  check("csvr in place: CR at byte 4 of a word after separators", "a,b,\r\nx,y\n", &o,
        "1-1:[a][b][]|2-2:[x][y]|@10");
  check("csvr in place: non-ASCII after the LF in the same word", "a,b\n\xC3\xA9,c\n", &o,
        "1-1:[a][b]|2-2:[\xC3\xA9][c]|@9");
  testWordPath();

  /* Empty input and header only. */
  tsCsvOptInit(&o);
  check("csvr empty input", "", &o, "@0");
  check("csvr header only", "h\n", &o, "1-1:[h]|@2");

  /* A 10 MB single line: bounded memory, one bad record. */
  {
    size_t n = 10u<<20, k;
    char *z = malloc(n+8);
    TsCsvReader r; const char *zWhy; int e, nBad = 0, nRow = 0;
    memset(z, 'x', n); memcpy(z+n, "\nok\n", 5);
    tsCsvOptInit(&o);
    tsCsvInit(&r, &o, &zWhy);
    for(k=0; k<n+4; k+=65536){
      size_t m = n+4-k<65536 ? n+4-k : 65536;
      tsCsvFeed(&r, z+k, m);
      while( (e = tsCsvNext(&r))==TS_CSV_ROW || e==TS_CSV_BAD ){ if( e==TS_CSV_BAD ) nBad++; else nRow++; }
    }
    tsCsvFinish(&r);
    while( (e = tsCsvNext(&r))==TS_CSV_ROW || e==TS_CSV_BAD ){ if( e==TS_CSV_BAD ) nBad++; else nRow++; }
    TT_CHECK("csvr 10 MB line is one bad record", nBad==1 && nRow==1);
    TT_CHECK("csvr 10 MB line: buffer stayed bounded", r.field.nAlloc<=TS_CSV_MAX_RECORD_DEFAULT);
    TT_EQ_I64("csvr 10 MB line: end offset", r.iEndOff, (long long)n+4);
    tsCsvFree(&r);
    free(z);
  }

  /* Seek: resume at a record boundary with the right line numbers. */
  {
    const char *zIn = "h\na\nb\nc\n";
    TsCsvReader r; const char *zWhy; int e;
    tsCsvOptInit(&o);
    tsCsvInit(&r, &o, &zWhy);
    tsCsvSeek(&r, 4, 3);
    tsCsvFeed(&r, zIn+4, 4);
    tsCsvFinish(&r);
    e = tsCsvNext(&r);
    TT_CHECK("csvr seek: first record after the seek", e==TS_CSV_ROW && r.iFirstLine==3 && r.iEndOff==6);
    e = tsCsvNext(&r);
    TT_CHECK("csvr seek: second record", e==TS_CSV_ROW && r.iFirstLine==4 && r.iEndOff==8);
    TT_CHECK("csvr seek: end", tsCsvNext(&r)==TS_CSV_END);
    tsCsvFree(&r);
  }

  TT_CHECK("csvr utf8 ok", tsCsvUtf8Ok("h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 12));
  TT_CHECK("csvr utf8 bad continuation", !tsCsvUtf8Ok("\xC3(", 2));
  TT_CHECK("csvr utf8 overlong", !tsCsvUtf8Ok("\xC0\xAF", 2));
  TT_CHECK("csvr utf8 surrogate", !tsCsvUtf8Ok("\xED\xA0\x80", 3));
  TT_CHECK("csvr utf8 truncated", !tsCsvUtf8Ok("\xE2\x82", 2));
  return tt_done();
}
