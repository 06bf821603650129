/*
** pq_int.h: internal interface shared by the Parquet codec files
** (pq_thrift.c, pq_encode.c, snappy.c, parquet_write.c, parquet_read.c,
** pq_decode.c).
** Nothing here is used outside the codec; the public API is parquet.h.
*/
#ifndef PQ_INT_H
#define PQ_INT_H
#include "parquet.h"
#include "tsbuf.h"

/* Parquet enums used by the codec (parquet.thrift). */
#define PQ_T_BOOLEAN 0
#define PQ_T_INT32   1
#define PQ_T_INT64   2
#define PQ_T_INT96   3
#define PQ_T_FLOAT   4
#define PQ_T_DOUBLE  5
#define PQ_T_BYTE_ARRAY 6
#define PQ_T_FLBA    7

#define PQ_E_PLAIN 0
#define PQ_E_PLAIN_DICTIONARY 2
#define PQ_E_RLE 3
#define PQ_E_BIT_PACKED 4
#define PQ_E_DELTA_BINARY_PACKED 5
#define PQ_E_DELTA_LENGTH_BYTE_ARRAY 6
#define PQ_E_DELTA_BYTE_ARRAY 7
#define PQ_E_RLE_DICTIONARY 8
#define PQ_E_BYTE_STREAM_SPLIT 9

#define PQ_PAGE_DATA 0
#define PQ_PAGE_INDEX 1
#define PQ_PAGE_DICT 2
#define PQ_PAGE_DATA_V2 3

/* Thrift compact protocol type nibbles. */
#define PQ_TT_STOP 0
#define PQ_TT_TRUE 1
#define PQ_TT_FALSE 2
#define PQ_TT_I8 3
#define PQ_TT_I16 4
#define PQ_TT_I32 5
#define PQ_TT_I64 6
#define PQ_TT_DOUBLE 7
#define PQ_TT_BINARY 8
#define PQ_TT_LIST 9
#define PQ_TT_SET 10
#define PQ_TT_MAP 11
#define PQ_TT_STRUCT 12

/************** interface to pq_thrift.c **************/
/* Encoder: writes into a TsBuf (its sticky error covers failures).  The
** writer tracks the last field id of each open struct. */
#define PQ_TW_MAXDEPTH 16
typedef struct PqTw PqTw;
struct PqTw {
  TsBuf *pBuf;                 /* output; not owned */
  int iDepth;                  /* open structs */
  int aLast[PQ_TW_MAXDEPTH];   /* last field id per open struct */
};
void tsPqTwInit(PqTw *p, TsBuf *pBuf);
void tsPqTwStructBegin(PqTw *p);                 /* top-level or list element */
void tsPqTwStructEnd(PqTw *p);                   /* writes STOP */
void tsPqTwFieldStruct(PqTw *p, int id);         /* field header + begin */
void tsPqTwFieldI32(PqTw *p, int id, int32_t v);
void tsPqTwFieldI64(PqTw *p, int id, int64_t v);
void tsPqTwFieldBool(PqTw *p, int id, int b);
void tsPqTwFieldBin(PqTw *p, int id, const void *a, size_t n);
void tsPqTwFieldList(PqTw *p, int id, int eElem, int64_t n);
void tsPqTwListHeader(PqTw *p, int eElem, int64_t n);
void tsPqTwI32(PqTw *p, int32_t v);              /* list elements */
void tsPqTwI64(PqTw *p, int64_t v);
void tsPqTwBin(PqTw *p, const void *a, size_t n);
void tsPqTwBool(PqTw *p, int b);

/* Decoder over a byte range.  Every call checks bounds; after any error
** bErr is set and calls return failure. */
typedef struct PqTr PqTr;
struct PqTr {
  TsRd rd;
  int iDepth;       /* nesting depth of skip recursion */
};
void tsPqTrInit(PqTr *p, const void *a, size_t n);
/* Read the next field header of the struct whose last id is *pLast.
** Returns the field type (PQ_TT_*), PQ_TT_STOP at the end of the struct,
** or -1 on error.  *pId gets the field id. */
int tsPqTrField(PqTr *p, int *pLast, int *pId);
int tsPqTrI32(PqTr *p, int eType, int32_t *pv);   /* accepts I8/I16/I32 */
int tsPqTrI64(PqTr *p, int eType, int64_t *pv);   /* accepts I8..I64 */
int tsPqTrBin(PqTr *p, int eType, const unsigned char **pa, int64_t *pn);
int tsPqTrBool(PqTr *p, int eType, int *pb);      /* field bool from type */
int tsPqTrListElemBool(PqTr *p, int *pb);        /* one list element */
int tsPqTrList(PqTr *p, int eType, int *peElem, int64_t *pn);
int tsPqTrSkip(PqTr *p, int eType);               /* skip one value */

/************** interface to pq_encode.c **************/
int tsPqBitWidth(uint64_t v);     /* bits needed for v (0 for 0) */
/* RLE/bit-packed hybrid of n values of bit width w (0..32), no length prefix. */
void tsPqRleEncode(TsBuf *pOut, const uint32_t *a, int64_t n, int w);
/* Decode n values; returns 0 ok, 1 corrupt. */
int tsPqRleDecode(const unsigned char *a, size_t nByte, int w, uint32_t *aOut, int64_t n);
/* Decode values [iLo, iHi) into aOut[0..iHi-iLo) without storing the ones
** before iLo; *pnNonZero (when not NULL) gets how many of those are nonzero
** (the present rows before iLo, for definition levels).  0 ok, 1 corrupt. */
int tsPqRleDecodeSpan(const unsigned char *a, size_t nByte, int w, int64_t iLo, int64_t iHi,
                      uint32_t *aOut, int64_t *pnNonZero);
/* DELTA_BINARY_PACKED */
void tsPqDeltaEncode(TsBuf *pOut, const int64_t *a, int64_t n);
/* Decode exactly n values (bIs32: wrap at 32 bits); *pnUsed gets bytes consumed. */
int tsPqDeltaDecode(const unsigned char *a, size_t nByte, int64_t *aOut, int64_t n,
                    int bIs32, size_t *pnUsed);
/* Decode values [iLo, iHi) into aOut[0..iHi-iLo), stopping at iHi (*pnUsed:
** bytes up to there). */
int tsPqDeltaDecodeSpan(const unsigned char *a, size_t nByte, int64_t *aOut, int64_t iLo,
                        int64_t iHi, int bIs32, size_t *pnUsed);
/* BYTE_STREAM_SPLIT of n values of k bytes each. */
void tsPqBssEncode(TsBuf *pOut, const unsigned char *a, int64_t n, int k);
int tsPqBssDecode(const unsigned char *a, size_t nByte, int64_t n, int k, unsigned char *aOut);
/* Values [iLo, iLo+n) of a page of nByte/k values into aOut (n*k bytes). */
int tsPqBssDecodeSpan(const unsigned char *a, size_t nByte, int64_t iLo, int64_t n, int k,
                      unsigned char *aOut);

/* Codecs.  Compress appends to pOut; returns 0 ok. */
int tsPqCompress(int eCodec, int iLevel, const void *a, size_t n, TsBuf *pOut);
/* Decompress exactly nOut bytes into aOut; returns TS_PQ_OK, TS_PQ_CORRUPT
** (bad or short data), TS_PQ_NOMEM (zlib could not start) or TS_PQ_ERROR
** (unsupported codec: no message here, the caller names codec and column). */
int tsPqDecompress(int eCodec, const void *a, size_t n, void *aOut, size_t nOut);
/* The same with a decompression context kept by the caller in *ppZstd
** (made on first ZSTD use, NULL = none yet; a failed make falls back to a
** context per call): creating one per page costs more than a narrow
** page read.  tsPqDecompressCtxFree(*ppZstd) frees it (NULL ok). */
int tsPqDecompressCtx(void **ppZstd, int eCodec, const void *a, size_t n, void *aOut, size_t nOut);
void tsPqDecompressCtxFree(void *pZstd);

/************** interface to snappy.c **************/
/* Uncompressed length from the preamble; 0 ok, 1 corrupt. */
int tsSnappyLength(const void *a, size_t n, size_t *pnOut);
/* Decompress into aOut of exactly nOut bytes; 0 ok, 1 corrupt. */
int tsSnappyDecompress(const void *a, size_t n, void *aOut, size_t nOut);

/************** LZ4_RAW (pq_encode.c, through liblz4) **************/
/* LZ4 block (LZ4_RAW codec) into aOut of exactly nOut bytes; 0 ok, 1 corrupt. */
int tsPqLz4Decompress(const void *a, size_t n, void *aOut, size_t nOut);

/************** interface to parquet_read.c **************/
/* Largest single allocation the reader makes from sizes found in a file
** (decompressed page, decoded values); bigger gives TS_PQ_TOOBIG.  The
** fuzz target lowers it.  Default 1 GiB. */
extern int64_t tsPqReaderAllocLimit;
/* 1 (default): verify PageHeader.crc when present.  The fuzz targets set 0
** so that mutated pages reach the decoders instead of stopping at the CRC. */
extern int tsPqReaderVerifyCrc;

#endif
