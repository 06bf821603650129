/*
** csv_read.c: the streaming CSV reader (interface and usage: csv_read.h).
**
** How it works.  A byte-class table marks the bytes that matter to the
** scanner (separator, quote, escape, CR, LF); runs of other bytes are copied
** into the record buffer in one append, which keeps the common unquoted
** record cheap.  The scanner is a small state machine that survives piece
** boundaries (a piece may end anywhere, even between CR and LF or after an
** escape byte):
**
**   FSTART  start of a field (TrimWhiteSpace: blanks skipped here)
**   UNQ     inside an unquoted field
**   Q       inside a quoted field
**   QQ      a quote seen inside a quoted field: a second quote is a literal
**           quote (RFC 4180 doubling), a separator/newline ends the field
**   UESC    escape byte seen in an unquoted field: next byte is literal
**   QESC    escape byte seen in a quoted field: next byte is literal
**   LF      a record ended at CR: a following LF belongs to it
**
** Lines: LF, CRLF and a lone CR each end one physical line.  A blank line
** between records is skipped (not a record).  A record is bounded by
** nMaxRecord decoded bytes and TS_CSV_MAX_FIELDS fields; past either the
** bytes are dropped until the record ends and the record is reported bad.
*/
#include "csv_read.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_FSTART, S_UNQ, S_Q, S_QQ, S_UESC, S_QESC, S_LF };

#define C_SEP   0x01
#define C_QUOTE 0x02
#define C_ESC   0x04
#define C_NL    0x08   /* CR or LF */
#define C_BLANK 0x10   /* space or tab (trim) */

/* The class of every byte, from the options (tsCsvInit fills aCls). */
static void classInit(TsCsvReader *p){
  int c;
  for(c=0; c<256; c++){
    int m = 0;
    if( c==p->opt.cSep ) m |= C_SEP;
    if( p->opt.cQuote>=0 && c==p->opt.cQuote ) m |= C_QUOTE;
    if( p->opt.cEsc>=0 && c==p->opt.cEsc ) m |= C_ESC;
    if( c=='\r' || c=='\n' ) m |= C_NL;
    if( (c==' ' || c=='\t') && c!=p->opt.cSep ) m |= C_BLANK;
    p->aCls[c] = (unsigned char)m;
  }
}
#define classOf(p, c) ((int)(p)->aCls[(unsigned char)(c)])

void tsCsvOptInit(TsCsvOpt *p){
  memset(p, 0, sizeof(*p));
  p->cSep = ',';
  p->cQuote = '"';
  p->cEsc = -1;
}

int tsCsvInit(TsCsvReader *p, const TsCsvOpt *pOpt, const char **pzWhy){
  memset(p, 0, sizeof(*p));
  p->opt = *pOpt;
  if( p->opt.nMaxRecord==0 ) p->opt.nMaxRecord = TS_CSV_MAX_RECORD_DEFAULT;
  tsBufInit(&p->field);
  p->field.nMax = p->opt.nMaxRecord;
  p->iLine = 1;
  p->iFirstLine = 1;
  *pzWhy = 0;
  if( p->opt.cSep<0 || p->opt.cSep>255 || p->opt.cSep=='\r' || p->opt.cSep=='\n' ){
    *pzWhy = "ColumnSeparator must be one character other than CR or LF";
    return 1;
  }
  if( p->opt.cQuote>255 || p->opt.cQuote==p->opt.cSep || p->opt.cQuote=='\r'
   || p->opt.cQuote=='\n' ){
    *pzWhy = "QuoteChar must be one character other than the separator, CR or LF";
    return 1;
  }
  if( p->opt.cEsc>255 || (p->opt.cEsc>=0 && (p->opt.cEsc==p->opt.cSep
      || p->opt.cEsc=='\r' || p->opt.cEsc=='\n')) ){
    *pzWhy = "EscapeChar must be one character other than the separator, CR or LF";
    return 1;
  }
  /* An escape equal to the quote is RFC 4180 doubling, which QQ handles. */
  if( p->opt.cEsc>=0 && p->opt.cEsc==p->opt.cQuote ) p->opt.cEsc = -1;
  if( p->opt.zNull ){
    size_t n = strlen(p->opt.zNull);
    if( n==0 || n>256 ){
      *pzWhy = "NullValue must be 1 to 256 characters";
      return 1;
    }
    memcpy(p->azNull, p->opt.zNull, n+1);
    p->nNull = n;
  }
  p->opt.zNull = p->nNull ? p->azNull : 0;
  classInit(p);
  return 0;
}

void tsCsvFree(TsCsvReader *p){
  if( !p ) return;
  tsBufFree(&p->field);
  free(p->aOff);
  free(p->aFlag);
  p->aOff = 0;
  p->aFlag = 0;
  p->nFieldAlloc = 0;
}

static void resetRecord(TsCsvReader *p){
  tsBufReset(&p->field);
  p->field.bErr = 0;
  p->nField = 0;
  p->bInRecord = 0;
  p->bTooLong = 0;
  p->bBadQuote = 0;
  p->iFieldTrim = 0;
  p->bFieldQuoted = 0;
  p->bQCR = 0;
}

void tsCsvSeek(TsCsvReader *p, int64_t iOff, int64_t iLine){
  resetRecord(p);
  p->eState = S_FSTART;
  p->aIn = 0; p->nIn = 0; p->iIn = 0;
  p->bEof = 0;
  p->bStarted = iOff>0;
  p->nBom = 0;
  p->iOff = iOff;
  p->iEndOff = iOff;
  p->iLine = iLine;
  p->iFirstLine = iLine;
  p->iLastLine = iLine;
}

void tsCsvFeed(TsCsvReader *p, const void *a, size_t n){
  p->iOff += (int64_t)p->nIn;
  p->aIn = (const unsigned char*)a;
  p->nIn = n;
  p->iIn = 0;
}

/* The current piece (if any) is kept: it may still hold unread records. */
void tsCsvFinish(TsCsvReader *p){
  p->bEof = 1;
}


static void badQuote(TsCsvReader *p, const char *zWhat){
  if( !p->bBadQuote ){
    p->bBadQuote = 1;
    snprintf(p->zBadWhy, sizeof(p->zBadWhy), "%s (field %d)", zWhat, p->nField+1);
  }
}

static inline void putBytes(TsCsvReader *p, const unsigned char *a, size_t n){
  if( p->bTooLong ) return;
  if( p->field.n + n <= p->field.nAlloc ){
    memcpy(p->field.a + p->field.n, a, n);
    p->field.n += n;
    return;
  }
  tsBufAppend(&p->field, a, n);
  if( p->field.bErr ) p->bTooLong = 1;
}

/* The current field is complete: record its end offset and flags. */
static int endField(TsCsvReader *p){
  size_t iStart, n;
  int f = 0;
  if( p->bTooLong ) return 0;
  if( p->nField>=TS_CSV_MAX_FIELDS ){ p->bTooLong = 2; return 0; }
  if( p->nField+2>p->nFieldAlloc ){
    int nNew = p->nFieldAlloc ? p->nFieldAlloc*2 : 32;
    size_t *aO = realloc(p->aOff, sizeof(size_t)*(size_t)nNew);
    unsigned char *aF;
    if( !aO ) return 1;
    p->aOff = aO;
    aF = realloc(p->aFlag, (size_t)nNew);
    if( !aF ) return 1;
    p->aFlag = aF;
    p->nFieldAlloc = nNew;
  }
  if( p->nField==0 ) p->aOff[0] = 0;
  iStart = p->aOff[p->nField];
  if( p->opt.bTrim && !p->bFieldQuoted && p->iFieldTrim>=iStart ){
    p->field.n = p->iFieldTrim;
  }
  if( p->bFieldQuoted ){
    f |= TS_CSV_QUOTED;
  }else if( p->nNull ){
    n = p->field.n - iStart;
    if( n==p->nNull && memcmp(p->field.a ? p->field.a+iStart : (const unsigned char*)"",
                              p->azNull, n)==0 ){
      f |= TS_CSV_NULL;
    }else if( p->opt.bTrim ){
      /* With trimming the token compares trimmed too (NullValue ' '). */
      const char *z = p->azNull; size_t m = p->nNull;
      while( m>0 && (*z==' ' || *z=='\t') ){ z++; m--; }
      while( m>0 && (z[m-1]==' ' || z[m-1]=='\t') ) m--;
      if( n==m && (m==0 || memcmp(p->field.a+iStart, z, m)==0) ) f |= TS_CSV_NULL;
    }
  }
  p->nField++;
  p->aOff[p->nField] = p->field.n;
  p->aFlag[p->nField-1] = (unsigned char)f;
  p->iFieldTrim = p->field.n;
  p->bFieldQuoted = 0;
  return 0;
}

/* Count the physical line break at byte c (prev: the byte before). */
static inline void countLine(TsCsvReader *p, unsigned char c, int bPrevCR){
  if( c=='\r' || (c=='\n' && !bPrevCR) ) p->iLine++;
}

/* The record ended (newline or end of input); returns ROW, BAD or 0 to skip
** a blank line.  iEnd: stream offset just past the record's terminator. */
static int endRecord(TsCsvReader *p, int64_t iEnd, int64_t iLastLine){
  int rc;
  if( !p->bInRecord && p->nField==0 && p->field.n==0 && !p->bFieldQuoted ){
    /* blank line */
    p->iFirstLine = p->iLine;
    p->iEndOff = iEnd;
    return 0;
  }
  if( endField(p) ) return TS_CSV_NOMEM;
  p->iLastLine = iLastLine;
  p->iEndOff = iEnd;
  if( p->bTooLong ){
    if( p->bTooLong==2 ){
      snprintf(p->zReasonBuf, sizeof(p->zReasonBuf), "record has more than %d fields",
               TS_CSV_MAX_FIELDS);
    }else{
      snprintf(p->zReasonBuf, sizeof(p->zReasonBuf), "record longer than %zu bytes",
               p->opt.nMaxRecord);
    }
    p->zReason = p->zReasonBuf;
    rc = TS_CSV_BAD;
  }else if( p->bBadQuote ){
    memcpy(p->zReasonBuf, p->zBadWhy, sizeof(p->zReasonBuf));
    p->zReason = p->zReasonBuf;
    rc = TS_CSV_BAD;
  }else{
    p->zReason = 0;
    rc = TS_CSV_ROW;
  }
  /* The record's fields stay readable until the next call; the state for
  ** the next record is reset lazily (bNeedReset). */
  p->aBase = p->field.a;
  p->nGap = 0;
  p->bAscii = 0;
  p->bInRecord = -1;
  return rc;
}

/* Room for nField+1 offsets and flags; 0 ok, 1 OOM. */
static int fieldRoom(TsCsvReader *p, int nField){
  if( nField+2>p->nFieldAlloc ){
    int nNew = p->nFieldAlloc ? p->nFieldAlloc*2 : 32;
    size_t *aO;
    unsigned char *aF;
    while( nNew<nField+2 ) nNew *= 2;
    aO = realloc(p->aOff, sizeof(size_t)*(size_t)nNew);
    if( !aO ) return 1;
    p->aOff = aO;
    aF = realloc(p->aFlag, (size_t)nNew);
    if( !aF ) return 1;
    p->aFlag = aF;
    p->nFieldAlloc = nNew;
  }
  return 0;
}

/* The separators of one word of nWord bytes whose first byte is at record
** offset iBase-1: mSep has bit (k << nShift) set for a separator at byte
** k; each starts a field at the next byte.  Returns 1, or 0 when the record
** may pass TS_CSV_MAX_FIELDS (the byte-wise scanner reads it and reports
** that), or -1 on OOM. */
static inline int wordSeps(TsCsvReader *p, int *pnField, uint64_t mSep, int nShift,
                           size_t iBase, int nWord){
  int nField = *pnField;
  size_t *aOff;
  if( nField+nWord+2>p->nFieldAlloc ){
    if( nField+nWord>=TS_CSV_MAX_FIELDS ) return 0;
    if( fieldRoom(p, nField+nWord+1) ) return -1;
  }
  aOff = p->aOff;
  while( mSep ){
    aOff[nField++] = iBase + ((size_t)__builtin_ctzll(mSep)>>nShift);
    mSep &= mSep - 1;
  }
  *pnField = nField;
  return 1;
}

/*
** The in-place path: at the start of a record (state FSTART, nothing of it
** seen), if the piece holds the whole record up to its LF or CR and the
** record has no quote or escape (and TrimWhiteSpace is off), split it
** where it lies: no copy, no state machine.  Returns TS_CSV_ROW, 0 when the
** record needs the byte-wise scanner (nothing consumed then), or
** TS_CSV_NOMEM.  A blank line is consumed and skipped (returns 0 with
** *pbBlank set).
*/
static int scanInPlace(TsCsvReader *p, size_t *piIn, int *pbBlank){
  const unsigned char *aCls = p->aCls;
  const unsigned char *a = p->aIn;
  size_t i0 = *piIn, i = i0, n = p->nIn;
  size_t nMax = p->opt.nMaxRecord < n - i0 ? p->opt.nMaxRecord : n - i0;
  const unsigned char *z = a + i0, *zEnd = z + nMax, *zS;
  size_t *aOff;
  uint64_t uAcc = 0;   /* every byte of the record OR-ed (ASCII check) */
  int bStop = 0;       /* a word loop stopped at the record's stop byte */
  int nField = 1, k;
  *pbBlank = 0;
  if( p->nFieldAlloc<32 && fieldRoom(p, 30) ) return TS_CSV_NOMEM;
  aOff = p->aOff;
  aOff[0] = 0;
  zS = z;
#if defined(__SSE2__)
  /* Sixteen bytes at a time where SSE2 is there (every x86-64): the same
  ** masks as the eight-byte loop below, one bit per byte. */
  if( !bStop ){
    const __m128i vSep = _mm_set1_epi8((char)p->opt.cSep), vLf = _mm_set1_epi8('\n');
    const __m128i vCr = _mm_set1_epi8('\r');
    const __m128i vQ = p->opt.cQuote>=0 ? _mm_set1_epi8((char)p->opt.cQuote) : vLf;
    const __m128i vE = p->opt.cEsc>=0 ? _mm_set1_epi8((char)p->opt.cEsc) : vLf;
    __m128i vAcc = _mm_setzero_si128();
    while( zEnd - z >= 16 ){
      __m128i w = _mm_loadu_si128((const __m128i*)(const void*)z);
      unsigned mStop, mSep;
      int rcW;
      vAcc = _mm_or_si128(vAcc, w);
      mStop = (unsigned)_mm_movemask_epi8(_mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(w, vLf), _mm_cmpeq_epi8(w, vCr)),
                _mm_or_si128(_mm_cmpeq_epi8(w, vQ), _mm_cmpeq_epi8(w, vE))));
      mSep = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, vSep));
      if( mStop ) mSep &= (mStop & (0u - mStop)) - 1;   /* separators before the stop byte */
      rcW = wordSeps(p, &nField, mSep, 0, (size_t)(z - zS) + 1, 16);
      if( rcW<=0 ) return rcW<0 ? TS_CSV_NOMEM : 0;
      if( mStop ){
        z += __builtin_ctz(mStop);
        bStop = 1;
        break;
      }
      z += 16;
    }
    if( _mm_movemask_epi8(vAcc) ) uAcc |= 0x80;
  }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__==__ORDER_LITTLE_ENDIAN__
  /* Eight bytes at a time: a per-byte equality mask of the separator and
  ** one of the bytes that stop the in-place path (quote, escape, CR, LF).
  ** The word holding the stop byte keeps the separators before it and ends
  ** the loop at that byte, so only a record's last few bytes (under a word
  ** before the end of the piece) go byte by byte.  The bytes are OR-ed
  ** together, so the record is known to be ASCII (valid UTF-8) for free.
  ** (Writing a word's separators without a branch each measured slower on
  ** regular files: the branch predicts well when rows share a shape.) */
  {
    const uint64_t k7 = UINT64_C(0x7F7F7F7F7F7F7F7F), k1 = UINT64_C(0x0101010101010101);
    const uint64_t wSep = k1*(unsigned char)p->opt.cSep, wLf = k1*'\n', wCr = k1*'\r';
    const uint64_t wQ = p->opt.cQuote>=0 ? k1*(unsigned char)p->opt.cQuote : wLf;
    const uint64_t wE = p->opt.cEsc>=0 ? k1*(unsigned char)p->opt.cEsc : wLf;
#define CSV_EQ(w, r) (~(((((w)^(r)) & k7) + k7) | ((w)^(r)) | k7))   /* 0x80 where equal */
    while( !bStop && zEnd - z >= 8 ){
      uint64_t w, mSep, mStop;
      int rcW;
      memcpy(&w, z, 8);
      uAcc |= w;
      mStop = CSV_EQ(w, wLf) | CSV_EQ(w, wCr) | CSV_EQ(w, wQ) | CSV_EQ(w, wE);
      mSep = CSV_EQ(w, wSep);
      if( mStop ) mSep &= (mStop & (0 - mStop)) - 1;   /* separators before the stop byte */
      rcW = wordSeps(p, &nField, mSep, 3, (size_t)(z - zS) + 1, 8);
      if( rcW<=0 ) return rcW<0 ? TS_CSV_NOMEM : 0;
      if( mStop ){
        z += __builtin_ctzll(mStop)>>3;
        bStop = 1;
        break;
      }
      z += 8;
    }
#undef CSV_EQ
  }
#endif
  aOff = p->aOff;   /* wordSeps may have moved it */
  /* byte by byte: the field starts (after each separator) and the end */
  for(; ; z++){
    unsigned char m;
    if( z>=zEnd ) return 0;   /* the piece or the record limit ends first */
    uAcc |= *z;
    m = aCls[*z];
    if( m==0 || m==C_BLANK ) continue;
    if( !(m & C_SEP) ) break;
    if( nField+2>p->nFieldAlloc ){
      if( nField>=TS_CSV_MAX_FIELDS ) return 0;
      if( fieldRoom(p, nField+1) ) return TS_CSV_NOMEM;
      aOff = p->aOff;
    }
    aOff[nField++] = (size_t)(z - zS) + 1;
  }
  i = i0 + (size_t)(z - zS);
  if( !(aCls[a[i]] & C_NL) ) return 0;   /* a quote or an escape */
  if( nField>TS_CSV_MAX_FIELDS ) return 0;
  /* LF, or CR (then a following LF belongs to it: state LF, as the
  ** byte-wise scanner does) */
  p->eState = a[i]=='\r' ? S_LF : S_FSTART;
  if( i==i0 ){
    /* a blank line */
    *piIn = i+1;
    p->iLine++;
    p->iFirstLine = p->iLine;
    p->iEndOff = p->iOff + (int64_t)(i+1);
    *pbBlank = 1;
    return 0;
  }
  /* with nGap = 1 the separator after each field is not part of it */
  aOff[nField] = i - i0 + 1;
  if( p->nNull ){
    for(k=0; k<nField; k++){
      size_t iS = aOff[k], nF = aOff[k+1]-1-iS;
      p->aFlag[k] = (nF==p->nNull && memcmp(zS+iS, p->azNull, nF)==0) ? TS_CSV_NULL : 0;
    }
  }else{
    memset(p->aFlag, 0, (size_t)nField);
  }
  p->nGap = 1;
  p->aBase = zS;
  p->bAscii = (uAcc & UINT64_C(0x8080808080808080))==0;
  p->nField = nField;
  p->iFirstLine = p->iLine;
  p->iLastLine = p->iLine;
  p->iLine++;
  *piIn = i+1;
  p->iEndOff = p->iOff + (int64_t)(i+1);
  p->zReason = 0;
  p->bInRecord = -1;
  return TS_CSV_ROW;
}

int tsCsvNext(TsCsvReader *p){
  const unsigned char *a;
  size_t n, i;
  if( p->bInRecord<0 ){
    int64_t iFirst = p->iLine;
    resetRecord(p);
    p->iFirstLine = iFirst;
  }
  a = p->aIn; n = p->nIn; i = p->iIn;
  /* BOM: EF BB BF at stream offset 0 only. */
  while( !p->bStarted && i<n ){
    static const unsigned char aBom[3] = {0xEF, 0xBB, 0xBF};
    if( a[i]==aBom[p->nBom] ){
      p->nBom++; i++;
      if( p->nBom==3 ){ p->bStarted = 1; p->iEndOff = 3; }
    }else{
      /* not a BOM: the matched prefix bytes are data */
      if( p->nBom>0 ){ putBytes(p, aBom, (size_t)p->nBom); p->bInRecord = 1; p->eState = S_UNQ; }
      p->bStarted = 1;
    }
  }
  while( i<n ){
    unsigned char c;
    int m;
    if( p->eState==S_FSTART && p->bInRecord==0 && !p->opt.bTrim && p->nField==0
     && p->field.n==0 && !p->bFieldQuoted ){
      int bBlank, rc = scanInPlace(p, &i, &bBlank);
      if( rc ){ p->iIn = i; return rc; }
      if( bBlank || i>=n ) continue;
    }
    c = a[i];
    m = classOf(p, c);
    switch( p->eState ){
      case S_LF:
        p->eState = S_FSTART;
        if( c=='\n' ){ i++; p->iEndOff = p->iOff + (int64_t)i; continue; }
        continue;
      case S_FSTART:
        if( m & C_BLANK && p->opt.bTrim ){ i++; p->bInRecord = 1; continue; }
        if( m & C_QUOTE ){ p->bFieldQuoted = 1; p->bInRecord = 1; p->eState = S_Q; i++; continue; }
        p->eState = S_UNQ;
        /* fall through */
      case S_UNQ: {
        if( m==0 || m==C_BLANK ){
          const unsigned char *aCls = p->aCls;
          size_t j = i+1;
          while( j<n && (aCls[a[j]] & ~C_BLANK)==0 ) j++;
          putBytes(p, a+i, j-i);
          p->bInRecord = 1;
          if( p->opt.bTrim ){
            size_t k = j;
            while( k>i && (a[k-1]==' ' || a[k-1]=='\t') && a[k-1]!=(unsigned char)p->opt.cSep ) k--;
            if( k>i ) p->iFieldTrim = p->field.n - (j-k);
          }
          i = j;
          continue;
        }
        if( m & C_SEP ){
          i++;
          p->bInRecord = 1;
          if( endField(p) ) return TS_CSV_NOMEM;
          p->eState = S_FSTART;
          continue;
        }
        if( m & C_NL ){
          int rc;
          int64_t iLast = p->iLine;
          countLine(p, c, 0);
          i++;
          p->eState = (c=='\r') ? S_LF : S_FSTART;
          rc = endRecord(p, p->iOff + (int64_t)i, iLast);
          if( rc ){ p->iIn = i; return rc; }
          continue;
        }
        if( m & C_ESC ){ i++; p->bInRecord = 1; p->eState = S_UESC; continue; }
        /* a quote inside an unquoted field */
        badQuote(p, "quote character inside an unquoted field");
        putBytes(p, a+i, 1);
        p->iFieldTrim = p->field.n;
        i++;
        continue;
      }
      case S_UESC:
      case S_QESC:
        countLine(p, c, 0);
        putBytes(p, a+i, 1);
        p->iFieldTrim = p->field.n;
        i++;
        p->eState = p->eState==S_UESC ? S_UNQ : S_Q;
        continue;
      case S_Q: {
        if( !(m & (C_QUOTE|C_ESC|C_NL)) ){
          size_t j = i+1;
          const unsigned char *aCls = p->aCls;
          while( j<n && !(aCls[a[j]] & (C_QUOTE|C_ESC|C_NL)) ) j++;
          putBytes(p, a+i, j-i);
          p->bQCR = 0;
          i = j;
          continue;
        }
        if( m & C_QUOTE ){ i++; p->bQCR = 0; p->eState = S_QQ; continue; }
        if( m & C_ESC ){ i++; p->bQCR = 0; p->eState = S_QESC; continue; }
        /* newline inside quotes: data, and a physical line */
        countLine(p, c, p->bQCR);
        p->bQCR = c=='\r';
        putBytes(p, a+i, 1);
        i++;
        continue;
      }
      case S_QQ:
        if( m & C_QUOTE ){ putBytes(p, a+i, 1); i++; p->eState = S_Q; continue; }
        if( m & (C_SEP|C_NL) ){
          p->iFieldTrim = p->field.n;
          p->eState = S_UNQ;   /* the separator/newline is handled there */
          continue;
        }
        if( (m & C_BLANK) && p->opt.bTrim ){ i++; continue; }
        badQuote(p, "unexpected character after a closing quote");
        p->eState = S_UNQ;
        continue;
    }
  }
  p->iIn = i;
  if( !p->bEof ) return TS_CSV_NEED;
  /* End of input. */
  if( !p->bStarted ){
    /* input ended inside what looked like a BOM: those bytes are data */
    static const unsigned char aBom[3] = {0xEF, 0xBB, 0xBF};
    p->bStarted = 1;
    if( p->nBom>0 ){ putBytes(p, aBom, (size_t)p->nBom); p->bInRecord = 1; p->eState = S_UNQ; }
  }
  if( p->eState==S_Q || p->eState==S_QESC ){
    char z[96];
    snprintf(z, sizeof(z), "quoted field not closed at end of input (field %d, opened on line %lld)",
             p->nField+1, (long long)p->iFirstLine);
    if( !p->bBadQuote ){ p->bBadQuote = 1; memcpy(p->zBadWhy, z, sizeof(z)); }
    p->bInRecord = 1;
  }
  if( p->eState==S_UESC ) p->bInRecord = 1;
  p->eState = S_FSTART;
  if( p->bInRecord>0 || p->nField>0 || p->field.n>0 || p->bFieldQuoted ){
    int rc = endRecord(p, p->iOff + (int64_t)n, p->iLine);
    if( rc ) return rc;
  }
  return TS_CSV_END;
}

int tsCsvUtf8Ok(const char *z, size_t n){
  const unsigned char *a = (const unsigned char*)z;
  size_t i = 0;
  while( i<n ){
    unsigned char c;
    /* ASCII eight bytes at a time */
    while( i+8<=n ){
      uint64_t w;
      memcpy(&w, a+i, 8);
      if( w & UINT64_C(0x8080808080808080) ) break;
      i += 8;
    }
    if( i>=n ) break;
    c = a[i];
    if( c<0x80 ){ i++; continue; }
    if( c>=0xC2 && c<=0xDF ){
      if( i+1>=n || (a[i+1]&0xC0)!=0x80 ) return 0;
      i += 2; continue;
    }
    if( c>=0xE0 && c<=0xEF ){
      unsigned char lo = c==0xE0 ? 0xA0 : 0x80, hi = c==0xED ? 0x9F : 0xBF;
      if( i+2>=n || a[i+1]<lo || a[i+1]>hi || (a[i+2]&0xC0)!=0x80 ) return 0;
      i += 3; continue;
    }
    if( c>=0xF0 && c<=0xF4 ){
      unsigned char lo = c==0xF0 ? 0x90 : 0x80, hi = c==0xF4 ? 0x8F : 0xBF;
      if( i+3>=n || a[i+1]<lo || a[i+1]>hi || (a[i+2]&0xC0)!=0x80
       || (a[i+3]&0xC0)!=0x80 ) return 0;
      i += 4; continue;
    }
    return 0;
  }
  return 1;
}
