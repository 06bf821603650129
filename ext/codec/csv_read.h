/*
** csv_read.h: the streaming CSV reader of batch load (pure C, no SQLite).
**
** RFC 4180 records plus Timestream's CsvConfiguration knobs: ColumnSeparator,
** QuoteChar, EscapeChar, NullValue, TrimWhiteSpace.  Records end at LF or
** CRLF outside quotes; a UTF-8 byte order mark at the very start is skipped.
**
** The reader is push-driven so memory stays bounded whatever the file size:
** the caller hands it the input in pieces of any size, and pulls records:
**
**   TsCsvReader r; TsCsvOpt o; tsCsvOptInit(&o); tsCsvInit(&r, &o);
**   while( have input ){
**     tsCsvFeed(&r, piece, nPiece);      // piece must stay valid until NEED
**     while( (e = tsCsvNext(&r))==TS_CSV_ROW || e==TS_CSV_BAD ){ ... }
**     // e==TS_CSV_NEED: feed the next piece
**   }
**   tsCsvFinish(&r);                     // end of input
**   while( (e = tsCsvNext(&r))==TS_CSV_ROW || e==TS_CSV_BAD ){ ... }
**   tsCsvFree(&r);
**
** Only the current record is held (decoded field bytes + field offsets), at
** most nMaxRecord bytes; a record that lies whole in the current piece and
** has no quote or escape is not copied (its fields point into the piece,
** which is why the piece must stay valid).  A longer record is not stored: the reader discards
** its bytes up to the end of the record and returns TS_CSV_BAD with the
** reason "record longer than N bytes", so a 10 MB line costs no 10 MB.
**
** Per record the reader reports its first and last physical line (1-based;
** a quoted field may span lines) and the byte offset just past it in the
** input stream (BOM included), which is where a resumed load starts.
** Malformed records (a stray quote, a quote left open at end of input, a
** record too long) come back as TS_CSV_BAD with zReason; reading continues
** with the next record.
*/
#ifndef TS_CSV_READ_H
#define TS_CSV_READ_H
#include <stddef.h>
#include <stdint.h>
#include "tsbuf.h"

#define TS_CSV_ROW   1   /* a record is ready: tsCsvField() */
#define TS_CSV_BAD   2   /* a malformed record was skipped: zReason, lines */
#define TS_CSV_NEED  3   /* the piece is consumed: feed more, or finish */
#define TS_CSV_END   4   /* finished and nothing left */
#define TS_CSV_NOMEM 5

#define TS_CSV_MAX_RECORD_DEFAULT (4u<<20)   /* 4 MiB of decoded field bytes */
#define TS_CSV_MAX_FIELDS 4096

/* Field flags. */
#define TS_CSV_QUOTED 0x01   /* the field was quoted (never NULL) */
#define TS_CSV_NULL   0x02   /* unquoted and equal to NullValue */

typedef struct TsCsvOpt TsCsvOpt;
struct TsCsvOpt {
  int cSep;              /* column separator byte, default ',' */
  int cQuote;            /* quote byte, default '"'; -1 = no quoting */
  int cEsc;              /* escape byte, default -1 (none) */
  const char *zNull;     /* NullValue token or NULL (not owned; copied by Init) */
  int bTrim;             /* TrimWhiteSpace: strip spaces/tabs around fields */
  size_t nMaxRecord;     /* 0 = TS_CSV_MAX_RECORD_DEFAULT */
};

typedef struct TsCsvReader TsCsvReader;
struct TsCsvReader {
  TsCsvOpt opt;          /* copy of the options (zNull points to azNull) */
  char azNull[260];      /* NullValue copy (<= 256 bytes) */
  size_t nNull;          /* strlen(azNull); 0 = no NullValue */
  const unsigned char *aIn; /* current piece; not owned */
  size_t nIn, iIn;       /* its size and read position */
  int bEof;              /* tsCsvFinish was called */
  int bStarted;          /* first byte seen (BOM check done) */
  int nBom;              /* BOM bytes matched so far (0..3) */
  int eState;            /* scanner state (csv_read.c) */
  int bInRecord;         /* bytes of a record seen since the last end */
  int bTooLong;          /* current record overflowed nMaxRecord */
  int bBadQuote;         /* current record had a quoting error */
  char zBadWhy[96];      /* first quoting error of the current record */
  TsBuf field;           /* decoded bytes of the current record's fields */
  size_t *aOff;          /* nField+1 offsets into field.a; owned */
  unsigned char *aFlag;  /* flags per field; owned */
  int nField, nFieldAlloc;
  size_t iFieldTrim;     /* field.n after the last non-blank byte of the field */
  int bFieldQuoted;      /* current field was opened with a quote */
  int bQCR;              /* last byte inside quotes was CR (CRLF = one line) */
  int64_t iLine;         /* current physical line (1-based) */
  int64_t iFirstLine;    /* first line of the current/last record */
  int64_t iLastLine;     /* last line of the last record */
  int64_t iOff;          /* stream offset of aIn[0] */
  int64_t iEndOff;       /* offset just past the last returned record */
  const char *zReason;   /* TS_CSV_BAD: why (points into the reader) */
  char zReasonBuf[96];
  unsigned char aCls[256];  /* byte class for the scanner (csv_read.c) */
  const unsigned char *aBase; /* the last record's field bytes: field.a, or
                            ** the input piece when the record was read in
                            ** place (no quote, escape or piece boundary) */
  int nGap;                 /* bytes between fields in aBase: 0 copied, 1 in place */
  int bAscii;               /* the last record's bytes are all ASCII (so every
                            ** field is valid UTF-8); 0 = not known */
};

void tsCsvOptInit(TsCsvOpt *p);
/* 0 ok; 1 if the options are unusable (separator equal to quote, ...):
** *pzWhy names the problem (static text). */
int tsCsvInit(TsCsvReader *p, const TsCsvOpt *pOpt, const char **pzWhy);
void tsCsvFree(TsCsvReader *p);
/* Start again at stream offset iOff, physical line iLine (a resume point:
** the start of a record).  No BOM check there unless iOff==0. */
void tsCsvSeek(TsCsvReader *p, int64_t iOff, int64_t iLine);
void tsCsvFeed(TsCsvReader *p, const void *a, size_t n);
void tsCsvFinish(TsCsvReader *p);
int tsCsvNext(TsCsvReader *p);

/* The fields of the last TS_CSV_ROW. */
static inline int tsCsvFieldCount(const TsCsvReader *p){ return p->nField; }
static inline const char *tsCsvField(const TsCsvReader *p, int i, size_t *pn, int *pFlags){
  if( i<0 || i>=p->nField ){ *pn = 0; if( pFlags ) *pFlags = TS_CSV_NULL; return ""; }
  *pn = p->aOff[i+1] - p->aOff[i] - (size_t)p->nGap;
  if( pFlags ) *pFlags = p->aFlag[i];
  return p->aBase ? (const char*)p->aBase + p->aOff[i] : "";
}

/* 1 when every byte of the last TS_CSV_ROW is ASCII, so each of its fields
** is valid UTF-8 without tsCsvUtf8Ok; 0 when not known (check the field). */
static inline int tsCsvRecordAscii(const TsCsvReader *p){ return p->bAscii; }

/* 1 if a[0..n) is well-formed UTF-8. */
int tsCsvUtf8Ok(const char *a, size_t n);

#endif
