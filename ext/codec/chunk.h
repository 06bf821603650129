/*
** chunk.h: the memory tier's compressed column-chunk codec (chunk.c; its ISEQ and DOUBLE codecs in chunk_seq.c).
** Pure C, no SQLite: input and output are byte buffers (see tsbuf.h).
**
** A chunk holds the rows of ONE series (fixed dimensions + measure_name) for
** a time range: nRow rows sorted by strictly increasing time, a version per
** row, and nCol typed, nullable measure columns.  It is one blob with a
** header (row count, time range, per-column statistics) and a directory of
** column offsets, so a reader can learn the header without decoding, and
** decode only the columns a query uses.  The byte layout is documented at
** the top of chunk.c and in docs/internals/chunk-format.md.
**
** Encodings: time = delta-of-delta; version = run-length (almost always 1);
** DOUBLE = Gorilla XOR (or better); BIGINT/TIMESTAMP = delta + zigzag varints
** (or better); VARCHAR = per-chunk dictionary (zstd-compressed when that is
** smaller); BOOLEAN = bitmap; NULLs = a bitmap per column, absent when the
** column has no NULL.
**
** Decoders treat input as hostile: every length is checked and a bad blob
** gives TS_CHUNK_CORRUPT, never a crash or an over-read.  Every blob carries
** a CRC-32, so damage is reported rather than decoded into wrong rows.
**
** The codec has no global state: any number of threads may encode and
** decode at once (one TsChunkReader per thread at a time).
*/
#ifndef CHUNK_H
#define CHUNK_H
#include <stddef.h>
#include <stdint.h>
#include "tsbuf.h"

/* Result codes. */
#define TS_CHUNK_OK       0
#define TS_CHUNK_CORRUPT  1   /* malformed blob */
#define TS_CHUNK_NOMEM    2
#define TS_CHUNK_MISUSE   3   /* bad arguments (unsorted times, bad type) */

/* Measure types (also used by the vtab's schema). */
#define TS_TYPE_DOUBLE     1
#define TS_TYPE_BIGINT     2
#define TS_TYPE_VARCHAR    3
#define TS_TYPE_BOOLEAN    4
#define TS_TYPE_TIMESTAMP  5

/* The SQL name of a TS_TYPE_* ("DOUBLE", ...); "?" for anything else. */
const char *tsChunkTypeName(int eType);

#define TS_CHUNK_MAX_ROWS  65536
#define TS_CHUNK_MAX_COLS  1024

/* One column of values, input to the encoder or output of the decoder.
** Exactly one value array is used, by type: aDouble (DOUBLE), aInt (BIGINT,
** TIMESTAMP, BOOLEAN as 0/1), azText+anText (VARCHAR; bytes need no NUL).
** aNull[i]!=0 marks row i NULL (its value slot is ignored); aNull may be NULL
** when no row is NULL.
** Decoder output: aNull is NULL when the column has no NULL; a NULL row's
** value slot is 0 (azText NULL, anText 0); a BOOLEAN decodes as 0/1 (the
** encoder stores any nonzero as 1); VARCHAR bytes point into the blob (or into
** the reader's memory when the dictionary was compressed) and are not
** NUL-terminated; an empty string gets a valid pointer to "". */
typedef struct TsChunkCol TsChunkCol;
struct TsChunkCol {
  int eType;                /* TS_TYPE_* */
  const uint8_t *aNull;     /* per-row NULL flags or NULL */
  const double *aDouble;
  const int64_t *aInt;
  const char *const *azText;
  const int *anText;
};

/* Per-column statistics kept in the header (non-NULL values only).
** For DOUBLE rMin/rMax/rSum; for BIGINT/TIMESTAMP/BOOLEAN iMin/iMax and rSum
** (as double); VARCHAR keeps only nValue.  Exactness: a DOUBLE rSum is the
** plain double sum in row order (what a decode-and-add loop computes); an
** integer rSum is the exact integer sum rounded once to double.  Fields that
** do not apply (and all of them when nValue==0) are 0. */
typedef struct TsChunkStat TsChunkStat;
struct TsChunkStat {
  int64_t nValue;           /* non-NULL values */
  double rMin, rMax, rSum;
  int64_t iMin, iMax;
  /* First and last non-NULL value by time, and their times; only when
  ** bEnds (format version 2 headers, nValue > 0, not VARCHAR). */
  int bEnds;
  double rFirst, rLast;     /* DOUBLE */
  int64_t iFirst, iLast;    /* BIGINT/TIMESTAMP/BOOLEAN (0/1) */
  int64_t tFirst, tLast;    /* times of the first and last non-NULL value */
};

typedef struct TsChunkInfo TsChunkInfo;
struct TsChunkInfo {
  int nRow;                 /* rows, 1..TS_CHUNK_MAX_ROWS */
  int nCol;                 /* measure columns */
  int64_t tMin, tMax;       /* first and last time */
};

/* Encode nRow rows (aTime strictly increasing; aVersion may be NULL meaning
** all 1) and nCol columns; append the blob to pOut.  Returns TS_CHUNK_*.
** On any failure pOut->n is unchanged. */
int tsChunkEncode(int nRow, const int64_t *aTime, const int64_t *aVersion,
                  int nCol, const TsChunkCol *aCol, TsBuf *pOut);
/* The same with the rows' write marks (aMark[nRow], each 0..2, or NULL for
** all 0; chunk.c "v3"): a blob with a mark other than 0 is format 3. */
int tsChunkEncodeMarked(int nRow, const int64_t *aTime, const int64_t *aVersion,
                        const unsigned char *aMark, int nCol, const TsChunkCol *aCol,
                        TsBuf *pOut);

/* Read the header only: *pInfo, and aStat[0..nCol-1] when aStat is not
** NULL (nStat = its capacity; columns past it are skipped).  Checks the
** header's own CRC (format 2; version 1: the whole blob's), not the
** payloads': tsChunkReaderOpen checks the whole blob. */
int tsChunkInfoGet(const void *a, size_t n, TsChunkInfo *pInfo,
                   TsChunkStat *aStat, int nStat);
/* The same from the first nHave bytes of a blob of nTotal bytes (a caller
** reading the blob incrementally): TS_CHUNK_CORRUPT also when the header
** does not fit in nHave bytes, and always for a version-1 blob with
** nHave < nTotal (its only checksum covers the whole blob): read more, or
** the whole blob, and ask again. */
int tsChunkInfoGetPrefix(const void *a, size_t nHave, size_t nTotal, TsChunkInfo *pInfo,
                         TsChunkStat *aStat, int nStat);

/* A decoder over one blob.  The blob must outlive the reader.  Decoded
** arrays are owned by the reader and stay valid until it is freed or the
** same column is decoded again. */
typedef struct TsChunkReader TsChunkReader;
int tsChunkReaderOpen(const void *a, size_t n, TsChunkReader **pp);
void tsChunkReaderFree(TsChunkReader *p);          /* accepts NULL */
/* Point reader p at another blob, keeping its decode arrays (a reader
** reused over many chunks allocates only for a bigger one).  Everything
** decoded from the previous blob becomes invalid.  On failure p holds no
** blob (reading from it is TS_CHUNK_MISUSE or an empty result) but may be
** reopened again or freed. */
int tsChunkReaderReopen(TsChunkReader *p, const void *a, size_t n);
const TsChunkInfo *tsChunkReaderInfo(TsChunkReader *p);
int tsChunkReadTime(TsChunkReader *p, const int64_t **paTime);
int tsChunkReadVersion(TsChunkReader *p, const int64_t **paVersion);
/* The write marks (format 3), or *paMark = NULL when every mark is 0. */
int tsChunkReadMark(TsChunkReader *p, const unsigned char **paMark);
/* Decode column iCol (0-based) into *pCol (arrays owned by the reader).
** A column is decoded once per reader: asking again returns the same
** arrays at no cost. */
int tsChunkReadCol(TsChunkReader *p, int iCol, TsChunkCol *pCol);
/* The same for rows [iFrom, iTo) only (0 <= iFrom <= iTo <= nRow): the
** arrays are indexed by row as tsChunkReadCol's, their entries outside
** [iFrom, iTo) are unspecified; fewer values are decoded when iTo < nRow (a
** query whose time range ends inside the chunk).  Asking again for rows
** inside the rows decoded returns the same arrays; a wider span decodes
** again (the earlier arrays are then freed). */
int tsChunkReadColRows(TsChunkReader *p, int iCol, int iFrom, int iTo, TsChunkCol *pCol);

/* Integrity check of one blob (for ts_check): checksum, structure, every
** column decoded, times strictly increasing within the header's range, and
** the header statistics equal to those recomputed from the contents.
** Returns TS_CHUNK_OK, TS_CHUNK_CORRUPT or TS_CHUNK_NOMEM; on failure a
** description ("column 2 (DOUBLE): header says 10 values, payload has 9")
** is written to zErr (NUL-terminated, truncated to nErr) when zErr is not
** NULL. */
int tsChunkVerify(const void *a, size_t n, char *zErr, size_t nErr);

#endif
