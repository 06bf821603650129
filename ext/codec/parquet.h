/*
** parquet.h: the public interface of tslite's Parquet codec (a streaming
** writer and a range-reading reader).  Pure C over byte buffers: no SQLite,
** no curl.  Memory comes from malloc/free; every object here is owned by the
** caller that opened it and released by the matching Free function.
**
** Files implementing it:
**   ext/codec/pq_thrift.c    thrift compact protocol encoder/decoder
**   ext/codec/pq_encode.c    PLAIN, RLE/bit-packed hybrid, DELTA_BINARY_PACKED,
**                      BYTE_STREAM_SPLIT encoders/decoders; codecs (GZIP: zlib,
**                      ZSTD: libzstd, LZ4_RAW: liblz4, reader only)
**   ext/codec/snappy.c       snappy block decompressor (reader only)
**   ext/codec/parquet_write.c  the writer
**   ext/codec/parquet_read.c   the reader
** The format details (page layout, page index, encodings chosen) are in
** docs/internals/parquet.md; what users can expect is in docs/parquet.md.
**
** WRITER in three steps:
**
**   TsPqColumnSpec aCol[] = {
**     { "time", TS_PQ_TIMESTAMP_NS, 0, TS_PQ_ENC_AUTO },
**     { "host", TS_PQ_STRING,       1, TS_PQ_ENC_AUTO },
**     { "cpu",  TS_PQ_DOUBLE,       1, TS_PQ_ENC_AUTO },
**   };
**   TsPqWriteOpts opts;  tsPqWriteOptsInit(&opts);  opts.eCodec = TS_PQ_CODEC_ZSTD;
**   rc = tsPqWriterOpen(&pW, aCol, 3, &opts, xWrite, pSinkCtx);
**   for each row:  tsPqWriterInt64(pW, 0, t); tsPqWriterText(pW, 1, z, n);
**                  tsPqWriterNull(pW, 2);     tsPqWriterEndRow(pW);
**   rc = tsPqWriterFinish(pW);   (footer written; rc is the sticky error)
**   tsPqWriterFree(pW);
**
** Rows are buffered column-wise until the row group reaches its target size;
** then the row group's pages are encoded, compressed and passed to xWrite,
** so memory stays bounded by about one row group.  Errors are sticky: after
** the first failure every call returns the same code and tsPqWriterErrmsg()
** says what went wrong.
**
** READER:
**
**   rc = tsPqReaderOpen(&pR, xRead, pCtx, nFileSize, &zErr);   (reads footer)
**   for each row group iRg:
**     if( !tsPqReaderRowGroupMayMatch(pR, iRg, aRange, nRange) ) continue;
**     tsPqReaderSelectRows(pR, iRg, aRange, nRange, &sel);   (page index)
**     tsPqReaderReadColumn(pR, iRg, iCol, &sel, &data);      (each column)
**     ... use data.aInt / aDbl / aOff+aData / aNull ...
**     tsPqColumnDataFree(&data);  tsPqRowSelFree(&sel);
**   tsPqReaderFree(pR);
**
** All bytes are fetched with xRead(off, n), so the same reader works on a
** local file, a memory buffer, or ranged GETs of an S3 object.  Input is
** hostile: every length and offset is checked, and bad input gives
** TS_PQ_CORRUPT with a message, never a crash or an over-read.
*/
#ifndef PARQUET_H
#define PARQUET_H
#include <stddef.h>
#include <stdint.h>

/* Result codes.  Numerically equal to the SQLite codes of the same meaning
** (SQLITE_OK, SQLITE_ERROR, SQLITE_NOMEM, SQLITE_IOERR, SQLITE_CORRUPT,
** SQLITE_TOOBIG, SQLITE_MISUSE) so SQL glue can return them unchanged
** (pq_vtab.c may turn TS_PQ_CORRUPT into SQLITE_CORRUPT_VTAB). */
#define TS_PQ_OK        0
#define TS_PQ_ERROR     1   /* generic, incl. "unsupported feature" */
#define TS_PQ_NOMEM     7   /* malloc failed */
#define TS_PQ_IOERR    10   /* the xWrite/xRead callback failed */
#define TS_PQ_CORRUPT  11   /* the input is not a valid Parquet file */
#define TS_PQ_TOOBIG   18   /* a value/page/row group exceeds a limit */
#define TS_PQ_MISUSE   21   /* API misuse (wrong column, wrong type, ...) */

/* Column kinds: the logical type of a column as this API sees it.
** Writer: every kind except TS_PQ_FLOAT may be written.
** Reader: FLOAT values are delivered as double, INT32 and DATE as int64.
**
**  kind               Parquet physical / logical type       values in
**  TS_PQ_INT64        INT64 (no logical type)                aInt
**  TS_PQ_DOUBLE       DOUBLE                                 aDbl
**  TS_PQ_BOOLEAN      BOOLEAN                                aInt (0/1)
**  TS_PQ_STRING       BYTE_ARRAY STRING (UTF8)               aOff+aData
**  TS_PQ_TIMESTAMP_NS INT64 TIMESTAMP(NANOS, UTC)            aInt (ns)
**  TS_PQ_DATE         INT32 DATE                             aInt (days since 1970-01-01)
**  TS_PQ_INT32        INT32 (or INTEGER(8|16|32, signed))    aInt
**  TS_PQ_BYTES        BYTE_ARRAY without logical type        aOff+aData
**  TS_PQ_TIMESTAMP_US INT64 TIMESTAMP(MICROS)                aInt (us)
**  TS_PQ_TIMESTAMP_MS INT64 TIMESTAMP(MILLIS)                aInt (ms)
**  TS_PQ_FLOAT        FLOAT (reader only)                    aDbl
**
** The reader also maps INT96 (legacy timestamps) to TIMESTAMP_NS and
** FIXED_LEN_BYTE_ARRAY to BYTES.  TS_PQ_UNSUPPORTED marks a column the
** reader cannot decode (nested or repeated columns, DECIMAL in byte arrays):
** it appears in the schema so a table can declare it, but
** tsPqReaderReadColumn() refuses it. */
#define TS_PQ_UNSUPPORTED   0
#define TS_PQ_INT64         1
#define TS_PQ_DOUBLE        2
#define TS_PQ_BOOLEAN       3
#define TS_PQ_STRING        4
#define TS_PQ_TIMESTAMP_NS  5
#define TS_PQ_DATE          6
#define TS_PQ_INT32         7
#define TS_PQ_BYTES         8
#define TS_PQ_TIMESTAMP_US  9
#define TS_PQ_TIMESTAMP_MS 10
#define TS_PQ_FLOAT        11

/* Compression codecs (values are Parquet's CompressionCodec enum).
** The writer supports NONE, GZIP, ZSTD; the reader also SNAPPY and LZ4_RAW. */
#define TS_PQ_CODEC_NONE    0
#define TS_PQ_CODEC_SNAPPY  1
#define TS_PQ_CODEC_GZIP    2
#define TS_PQ_CODEC_ZSTD    6
#define TS_PQ_CODEC_LZ4_RAW 7

/* Per-column encoding choice for the writer.
**   AUTO   dictionary (RLE_DICTIONARY) while the dictionary stays under the
**          size limit, then the type's best plain-ish encoding:
**          DELTA_BINARY_PACKED for INT64/INT32/DATE/TIMESTAMP_*,
**          BYTE_STREAM_SPLIT for DOUBLE, PLAIN for STRING/BYTES.
**          BOOLEAN is always PLAIN.
**   PLAIN  PLAIN only.
**   DICT   RLE_DICTIONARY, falling back to PLAIN when the dictionary grows
**          past TsPqWriteOpts.nDictMaxBytes.
**   DELTA  DELTA_BINARY_PACKED (integer kinds only, else TS_PQ_MISUSE).
**   BSS    BYTE_STREAM_SPLIT (DOUBLE, INT64/INT32 kinds, else TS_PQ_MISUSE). */
#define TS_PQ_ENC_AUTO   0
#define TS_PQ_ENC_PLAIN  1
#define TS_PQ_ENC_DICT   2
#define TS_PQ_ENC_DELTA  3
#define TS_PQ_ENC_BSS    4

/* One column of values, used both to feed the writer in batches (the
** caller owns the arrays) and to return values from the reader (the arrays
** are malloc'd by the reader and released by tsPqColumnDataFree()).
** Exactly the arrays of the column's kind are used (see the kind table). */
typedef struct TsPqColumnData TsPqColumnData;
struct TsPqColumnData {
  int64_t nRow;          /* number of values, nulls included */
  unsigned char *aNull;  /* nRow flags, 1 = NULL; NULL pointer = no nulls */
  int64_t *aInt;         /* integer kinds and BOOLEAN: nRow values (0 at nulls) */
  double *aDbl;          /* DOUBLE/FLOAT: nRow values (0.0 at nulls) */
  int64_t *aOff;         /* STRING/BYTES: nRow+1 offsets into aData; value i
                         ** is aData[aOff[i] .. aOff[i+1]) (empty at nulls) */
  unsigned char *aData;  /* STRING/BYTES bytes (not NUL-terminated) */
  uint32_t *aIdx;        /* tsPqReaderReadColumnKeys only: nRow dictionary
                         ** indices (0 at nulls); aOff/aData then hold the
                         ** nDict dictionary values, not one per row */
  int64_t nDict;
};
void tsPqColumnDataFree(TsPqColumnData *p);   /* frees arrays, zeroes *p; NULL ok */

/* A single value (statistics and filters).  Which field is meaningful
** depends on the column kind: i for integer kinds/BOOLEAN, r for
** DOUBLE/FLOAT, z+n for STRING/BYTES.  Integers are in the column's own
** unit (TIMESTAMP_US in microseconds, DATE in days, ...), exactly as the
** values in TsPqColumnData.aInt. */
typedef struct TsPqValue TsPqValue;
struct TsPqValue {
  int64_t i;
  double r;
  const char *z;   /* not NUL-terminated; owner documented where returned */
  int64_t n;       /* bytes in z */
};

/*************************************************************************
** Writer
*/
typedef struct TsPqWriter TsPqWriter;

/* Output sink: append n bytes to the file.  Return 0 on success, non-zero
** on failure (the writer then fails with TS_PQ_IOERR). */
typedef int (*TsPqWriteFn)(void *pCtx, const void *a, size_t n);

typedef struct TsPqColumnSpec TsPqColumnSpec;
struct TsPqColumnSpec {
  const char *zName;   /* column name (copied by tsPqWriterOpen) */
  int eType;           /* TS_PQ_INT64 .. TS_PQ_TIMESTAMP_MS (not FLOAT) */
  int bNullable;       /* 1: OPTIONAL column (nulls allowed); 0: REQUIRED */
  int eEncoding;       /* TS_PQ_ENC_*; 0 = AUTO */
};

typedef struct TsPqWriteOpts TsPqWriteOpts;
struct TsPqWriteOpts {
  int eCodec;              /* TS_PQ_CODEC_NONE/GZIP/ZSTD (default ZSTD) */
  int iLevel;              /* codec level; 0 = codec default (zstd 3, gzip 6) */
  int64_t nRowGroupBytes;  /* target uncompressed row group size (default 64 MiB) */
  int64_t nRowGroupRows;   /* max rows per row group; 0 = no row limit */
  int nPageBytes;          /* target encoded page size (default 1 MiB) */
  int nPageRows;           /* max rows per data page (default 100000) */
  int nDictMaxBytes;       /* dictionary size limit per column chunk (default 1 MiB) */
  int bNoDictionary;       /* 1: never use dictionaries (AUTO skips to its fallback) */
  int bNoStatistics;       /* 1: no min/max statistics (null counts still written) */
  int bNoPageIndex;        /* 1: no ColumnIndex/OffsetIndex */
  const char *zCreatedBy;  /* footer created_by; NULL = "tslite version ..." */
  int nKeyValue;           /* footer key_value_metadata entries */
  const char *const *azKey;   /* nKeyValue keys (copied at open) */
  const char *const *azValue; /* nKeyValue values (copied at open; NULL ok) */
  /* Added after the first release of this header: */
  int nSortCol;            /* RowGroup.sorting_columns: the rows are sorted by */
  const int *aSortCol;     /* these nSortCol column indexes, ascending, nulls
                           ** last (copied at open; the writer does not check) */
  const int *anPageRows;   /* NULL, or per column: max rows per data page of
                           ** that column (0 = nPageRows), so columns a reader
                           ** gathers a few rows of get smaller pages
                           ** (read at open) */
  int bLocalTime;          /* 1: TIMESTAMP_* columns get isAdjustedToUTC=false
                           ** (DuckDB then reads NANOS exactly as TIMESTAMP_NS
                           ** instead of truncating them to microseconds as
                           ** TIMESTAMPTZ); 0 (default): UTC instants */
};
void tsPqWriteOptsInit(TsPqWriteOpts *p);   /* all defaults */

/* Create a writer.  Validates the schema (names non-empty and unique, kinds
** writable, encodings valid for the kind) and writes the leading "PAR1".
** *pp is set even on most failures so the message can be read; it is NULL
** only when out of memory.  Always free it with tsPqWriterFree(). */
int tsPqWriterOpen(TsPqWriter **pp, const TsPqColumnSpec *aCol, int nCol,
                   const TsPqWriteOpts *pOpts, TsPqWriteFn xWrite, void *pCtx);

/* Value-by-value input, row-wise: for each row set every column once (in
** any order) with one of the following, then call tsPqWriterEndRow().
** The setter must match the column kind: Int64 for integer kinds,
** TIMESTAMP_* and DATE (DATE and INT32 range-checked), Double for DOUBLE,
** Bool for BOOLEAN, Text for STRING/BYTES (bytes are copied).  Null on a
** REQUIRED column is TS_PQ_MISUSE.  EndRow fails with TS_PQ_MISUSE when a
** column was not set, and may flush a row group to the sink. */
int tsPqWriterNull(TsPqWriter *p, int iCol);
int tsPqWriterInt64(TsPqWriter *p, int iCol, int64_t v);
int tsPqWriterDouble(TsPqWriter *p, int iCol, double v);
int tsPqWriterBool(TsPqWriter *p, int iCol, int v);
int tsPqWriterText(TsPqWriter *p, int iCol, const char *z, int64_t n);
int tsPqWriterEndRow(TsPqWriter *p);

/* Column-wise batch input: aCol[nCol] (one per column, same nRow each)
** appended as nRow complete rows.  Not to be mixed with a row that is
** half set by the value setters. */
int tsPqWriterAppend(TsPqWriter *p, int64_t nRow, const TsPqColumnData *aCol);

/* End the current row group now (no-op when it is empty). */
int tsPqWriterFlushRowGroup(TsPqWriter *p);

/* Flush the last row group, write the page index, the footer and the
** trailing "PAR1".  Returns the sticky error code.  After Finish only the
** getters and Free may be called. */
int tsPqWriterFinish(TsPqWriter *p);

/* After a successful Finish: the file's tail (FileMetaData, its u32 length
** and "PAR1"), owned by the writer.  A reader can be opened from it without
** re-reading the footer (tsPqReaderOpenTail).  NULL before Finish. */
const unsigned char *tsPqWriterTail(TsPqWriter *p, size_t *pnTail);

int64_t tsPqWriterBytesWritten(TsPqWriter *p); /* bytes given to xWrite so far */
int64_t tsPqWriterPendingBytes(TsPqWriter *p); /* uncompressed bytes buffered, not yet written */
int64_t tsPqWriterRowCount(TsPqWriter *p);     /* complete rows accepted so far */
int tsPqWriterErrcode(TsPqWriter *p);          /* sticky code (TS_PQ_OK if none) */
const char *tsPqWriterErrmsg(TsPqWriter *p);   /* message or "" ; owned by writer */
void tsPqWriterFree(TsPqWriter *p);            /* NULL ok; does not write a footer */

/*************************************************************************
** Reader
*/
typedef struct TsPqReader TsPqReader;

/* Input: copy the n bytes at offset iOff of the file into pOut.  Return 0 on
** success, non-zero on failure (the reader fails with TS_PQ_IOERR).  The
** reader only asks for ranges inside [0, nFile). */
typedef int (*TsPqReadFn)(void *pCtx, int64_t iOff, int64_t n, void *pOut);

/* Open a file of nFile bytes: reads and validates the tail and footer.
** On failure *pp is NULL and *pzErr (if pzErr) gets a malloc'd message the
** caller free()s. */
int tsPqReaderOpen(TsPqReader **pp, TsPqReadFn xRead, void *pCtx,
                   int64_t nFile, char **pzErr);

/* Same, but the file's tail bytes (at least FileMetaData + 8 bytes, e.g.
** from tsPqWriterTail() or a manifest cache) are supplied, so no read is
** needed to plan: the open calls xRead not even once (the leading "PAR1"
** is not checked; pages are validated when read).  aTail is copied. */
int tsPqReaderOpenTail(TsPqReader **pp, TsPqReadFn xRead, void *pCtx,
                       int64_t nFile, const void *aTail, size_t nTail,
                       char **pzErr);
void tsPqReaderFree(TsPqReader *p);            /* NULL ok */
int tsPqReaderErrcode(TsPqReader *p);          /* code of the last failed call */
/* Point an open reader at another source of the same file bytes (a reader
** kept between scans, whose read context belongs to one scan). */
void tsPqReaderSetSource(TsPqReader *p, TsPqReadFn xRead, void *pCtx);
/* Free the page buffer the reader keeps between column reads (one
** decompressed page, so reads do not allocate and fault in a fresh one per
** column); a reader kept idle calls it.  NULL ok. */
void tsPqReaderTrim(TsPqReader *p);
const char *tsPqReaderErrmsg(TsPqReader *p);   /* message of the last failed call, or "" */

/* Schema: top-level leaf columns in file order. */
typedef struct TsPqColumnInfo TsPqColumnInfo;
struct TsPqColumnInfo {
  const char *zName;   /* column name (owned by the reader) */
  int eType;           /* TS_PQ_* kind, TS_PQ_UNSUPPORTED if not decodable */
  int ePhysical;       /* Parquet physical Type enum (BOOLEAN 0 .. FLBA 7) */
  int bNullable;       /* 1 if OPTIONAL */
  int bUtc;            /* timestamps: isAdjustedToUTC */
};
int tsPqReaderColumnCount(TsPqReader *p);
const TsPqColumnInfo *tsPqReaderColumn(TsPqReader *p, int iCol); /* NULL if out of range */
int tsPqReaderFindColumn(TsPqReader *p, const char *zName); /* index or -1 (case-sensitive) */
int64_t tsPqReaderRowCount(TsPqReader *p);
const char *tsPqReaderCreatedBy(TsPqReader *p);              /* or NULL */
const char *tsPqReaderKeyValue(TsPqReader *p, const char *zKey); /* or NULL */

/* Row groups. */
int tsPqReaderRowGroupCount(TsPqReader *p);
int64_t tsPqReaderRowGroupRows(TsPqReader *p, int iRg);

/* Column chunk statistics.  Values owned by the reader (valid until Free).
** min/max are in the kind's representation (see TsPqValue). */
typedef struct TsPqStats TsPqStats;
struct TsPqStats {
  int bMinMax;         /* 1 if min and max are known */
  TsPqValue min, max;
  int bNullCount;      /* 1 if nNull is known */
  int64_t nNull;
  int64_t nValue;      /* values in the chunk incl. nulls */
  int eCodec;          /* TS_PQ_CODEC_* of the chunk */
  int64_t nCompressed; /* chunk bytes on disk, page headers included */
  int64_t nUncompressed;
  int bPageIndex;      /* 1 if the chunk has an OffsetIndex */
};
int tsPqReaderChunkStats(TsPqReader *p, int iRg, int iCol, TsPqStats *pStats);

/* A filter: column iCol's non-null values must lie in [min, max]
** (inclusive bounds; either may be absent).  Used only for pruning: the
** reader returns every row of a page that may match, and the caller still
** applies its own predicate.  A range with a bound compares with the
** column kind's order (signed integers, IEEE doubles, bytewise strings).
** bNotNull asks for non-null values only (lets all-null pages be skipped). */
typedef struct TsPqRange TsPqRange;
struct TsPqRange {
  int iCol;
  int bMin, bMax;
  TsPqValue min, max;
  int bNotNull;
};

/* 1 if row group iRg may contain rows matching every range (by chunk
** statistics), 0 if it certainly does not. */
int tsPqReaderRowGroupMayMatch(TsPqReader *p, int iRg,
                               const TsPqRange *aRange, int nRange);

/* Row selection inside a row group: sorted, disjoint [start, end) row
** intervals (row numbers relative to the row group). */
typedef struct TsPqRowSel TsPqRowSel;
struct TsPqRowSel {
  int nRange;          /* number of intervals */
  int64_t *aRange;     /* 2*nRange: start0,end0,start1,end1...; malloc'd */
  int64_t nRow;        /* total rows selected */
};
void tsPqRowSelFree(TsPqRowSel *p);   /* frees aRange, zeroes *p; NULL ok */

/* Compute the rows of row group iRg that may match all ranges, using the
** page index (ColumnIndex + OffsetIndex) of the filtered columns; columns
** without a page index select all rows.  Reads the page index (one xRead
** per index).  The result is passed to tsPqReaderReadColumn. */
int tsPqReaderSelectRows(TsPqReader *p, int iRg, const TsPqRange *aRange,
                         int nRange, TsPqRowSel *pSel);

/* Decode column iCol of row group iRg into *pOut (which the caller has
** zeroed or freed).  pSel NULL = all rows; else only the selected rows, in
** order, are returned (pOut->nRow == pSel->nRow), and with a page index
** only the pages overlapping the selection are fetched and decoded.
** Returns TS_PQ_CORRUPT (with message naming column, row group and page)
** on bad data; *pOut is left empty on failure. */
int tsPqReaderReadColumn(TsPqReader *p, int iRg, int iCol,
                         const TsPqRowSel *pSel, TsPqColumnData *pOut);

/* As tsPqReaderReadColumn, for a STRING/BYTES column whose every selected
** page is dictionary-encoded: pOut->aIdx[r] is row r's dictionary index and
** aOff/aData hold the pOut->nDict dictionary values (value of row r:
** aData[aOff[aIdx[r]] .. aOff[aIdx[r]+1])), so no string is copied per row.
** Equal indices mean equal values; different indices may still hold equal
** bytes (a writer may repeat a dictionary entry).  Any other column (a PLAIN
** fallback page included) is returned as by tsPqReaderReadColumn, with
** aIdx NULL. */
int tsPqReaderReadColumnKeys(TsPqReader *p, int iRg, int iCol,
                             const TsPqRowSel *pSel, TsPqColumnData *pOut);

#endif
