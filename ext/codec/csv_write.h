/*
** csv_write.h: the CSV encoder and gzip stream used by UNLOAD (pure C: no
** SQLite).  Interface to csv_write.c.
**
** Field rules (Timestream UNLOAD's CSV dialect, reference 6.1):
**   - the quote character is always '"';
**   - every quote character and every escape character inside a value is
**     preceded by the escape character (escaped_by, default '\'):
**     Time"stream -> Time\"stream, Time\stream -> Time\\stream;
**   - a value containing the field delimiter, CR or LF is wrapped in quotes
**     (the escaping above still applies inside the quotes);
**   - NULL is an empty field; an empty string is written as "" so that the
**     two stay distinguishable;
**   - records end with "\n".
** With escaped_by='"' the output is RFC 4180: quotes are doubled and a value
** containing a quote is also wrapped in quotes (a"b -> "a""b").
*/
#ifndef CSV_WRITE_H
#define CSV_WRITE_H
#include <stddef.h>
#include <stdint.h>
#include "tsbuf.h"

typedef struct TsCsvDialect TsCsvDialect;
struct TsCsvDialect {
  char cDelim;    /* field delimiter (one ASCII byte) */
  char cEscape;   /* escape character (one ASCII byte) */
};

/* Append one text field (n bytes of z, UTF-8 passed through unchanged). */
void tsCsvAppendText(TsBuf *p, const TsCsvDialect *pD, const char *z, size_t n);
/* Append the NULL field (nothing). */
static inline void tsCsvAppendNull(TsBuf *p){ (void)p; }
/* Append the delimiter between fields / the end of a record. */
static inline void tsCsvAppendDelim(TsBuf *p, const TsCsvDialect *pD){
  tsBufAppendByte(p, (unsigned char)pD->cDelim);
}
static inline void tsCsvAppendEol(TsBuf *p){ tsBufAppendByte(p, '\n'); }

/*
** Shortest decimal text that reads back as exactly r (tries 15, 16 and 17
** significant digits), with ".0" appended to integral values below 1e15 so
** the text stays recognisably a DOUBLE ("2.0", "0.5", "1e+300", "inf",
** "-inf").  zBuf must hold TS_DBL_BUFSZ bytes.  Returns the length.
*/
#define TS_DBL_BUFSZ 40
int tsCsvFormatDouble(double r, char *zBuf);

/*
** Format ns since the epoch as Timestream's CSV timestamp text
** "YYYY-MM-DD hh:mm:ss.nnnnnnnnn" (29 chars).  zBuf: TS_DBL_BUFSZ bytes.
*/
int tsCsvFormatTimestamp(int64_t iNs, char *zBuf);

/*
** A gzip (RFC 1952) compressor writing into a caller-provided TsBuf.
** tsGzInit prepares it; tsGzWrite compresses input into pOut; tsGzSync
** flushes everything written so far to byte boundary (Z_SYNC_FLUSH) so that
** pOut->n bounds the file size exactly up to here; tsGzFinish writes the
** trailer.  tsGzFree releases zlib state (always call it).  Return 0 on
** success, non-zero on a zlib error or when pOut failed to grow.
*/
typedef struct TsGz TsGz;
struct TsGz {
  void *pStrm;      /* z_stream*, malloc'd; owned */
  uint64_t nIn;     /* total uncompressed bytes taken */
  uint64_t nSinceSync; /* uncompressed bytes since the last tsGzSync */
};
int tsGzInit(TsGz *p, int iLevel);
int tsGzWrite(TsGz *p, const void *a, size_t n, TsBuf *pOut);
int tsGzSync(TsGz *p, TsBuf *pOut);
int tsGzFinish(TsGz *p, TsBuf *pOut);
void tsGzFree(TsGz *p);
/* Worst-case compressed size of n more input bytes plus the trailer. */
uint64_t tsGzBound(uint64_t n);

#endif
