/*
** pq_read_int.h: the Parquet reader's state, shared by its two files:
** parquet_read.c (open, footer, statistics, page index, row selection) and
** pq_decode.c (page decoding and column reads).  Internal to the codec.
*/
#ifndef PQ_READ_INT_H
#define PQ_READ_INT_H
#include "pq_int.h"

/* One data page of a column chunk from its OffsetIndex. */
typedef struct PqPageLoc PqPageLoc;
struct PqPageLoc { int64_t iOff; int32_t nSize; int64_t iFirstRow; };

typedef struct PqRChunk PqRChunk;
struct PqRChunk {
  int bPresent;              /* meta_data was present */
  int bExternal;             /* file_path set: data lives in another file */
  int ePhys, eCodec;
  int64_t nValue;
  int64_t nUncomp, nComp;
  int64_t iDataOff, iDictOff;/* iDictOff -1 if none */
  int bMinMax;               /* min/max bytes known */
  const unsigned char *aMin, *aMax; int64_t nMin, nMax;  /* into footer copy */
  int bNullCount; int64_t nNull;
  int64_t iOffIdx, iColIdx;  /* -1 = none */
  int nOffIdx, nColIdx;
  /* The page index as first read, kept for the reader's life so that
  ** later column reads and selections of the chunk need no read for it
  ** (a reader kept between scans, as the cold tier does, reads each once). */
  PqPageLoc *aLoc;           /* parsed OffsetIndex or NULL (owned) */
  int nLoc;
  unsigned char *aColIdx;    /* ColumnIndex bytes or NULL (owned) */
};

typedef struct PqRRowGroup PqRRowGroup;
struct PqRRowGroup {
  int64_t nRow;
  PqRChunk *aChunk;          /* nLeaf; owned */
};

typedef struct PqRCol PqRCol;
struct PqRCol {
  TsPqColumnInfo info;       /* info.zName owned */
  int iLeaf;                 /* first leaf (column chunk index) */
  int nTypeLen;              /* FIXED_LEN_BYTE_ARRAY width */
  int iScale;                /* DECIMAL scale (delivered as double) */
  int bDecimal;
  int bUnsigned;             /* unsigned INT32: delivered as INT64 */
  int bUnsigned64;           /* unsigned INT64: bit pattern delivered; its
                             ** statistics (unsigned order) are not used */
};

struct TsPqReader {
  TsPqReadFn xRead;
  void *pCtx;
  int64_t nFile;
  unsigned char *aMeta;      /* FileMetaData bytes; owned */
  int64_t nMeta;
  int nCol;  PqRCol *aCol;   /* top-level columns; owned */
  int nLeaf;
  int nRg;   PqRRowGroup *aRg;
  int64_t nRow;
  char *zCreatedBy;
  int nKv; char **azKey; char **azVal;
  int rc;
  char *zErr;
  unsigned char *aPage;      /* decompressed page scratch, reused by every
                             ** column read until tsPqReaderTrim (owned) */
  size_t nPage;              /* its size */
  void *pZstd;               /* zstd decompression context, made on first
                             ** use and kept until tsPqReaderTrim (owned) */
};


/* Set the reader's error (printf-style message) and return rc. */
int tsPqrErr(TsPqReader *p, int rc, const char *zFmt, ...);
/* Read n bytes at iOff of the file after checking the range; 0 ok. */
int tsPqrReadAt(TsPqReader *p, int64_t iOff, int64_t n, void *pOut);
/* The OffsetIndex of chunk k (*paLoc malloc'd): 0 ok, 1 none, else rc. */
int tsPqrOffsetIndex(TsPqReader *p, PqRChunk *k, int64_t nRgRow, PqPageLoc **paLoc, int *pnLoc);
/* Little-endian integer of n bytes. */
int64_t tsPqrLe(const unsigned char *a, int n);
/* 10^iScale as a double (DECIMAL columns). */
double tsPqrDecScale(int iScale);

#endif
