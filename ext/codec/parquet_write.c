/*
** parquet_write.c: the streaming Parquet writer (API in parquet.h).
**
** How it works.  Values are buffered column-wise for the current row group
** (non-null values only, plus one null flag byte per row).  When the row
** group reaches its target size (TsPqWriteOpts.nRowGroupBytes of buffered,
** uncompressed values) or row count, each column is encoded in turn and its
** pages handed to the sink; the buffers are then reset, so memory is
** bounded by one row group plus the footer metadata.
**
** File layout written:
**
**   "PAR1"
**   for each row group, for each column (one column chunk):
**     [dictionary page]  PageHeader{DICTIONARY_PAGE} + compressed PLAIN dictionary
**     data pages         PageHeader{DATA_PAGE_V2} + def levels (RLE hybrid,
**                        bit width 1, uncompressed, OPTIONAL columns only)
**                        + compressed values
**   (every PageHeader carries crc: CRC-32 of the page bytes after it)
**   page index: every ColumnIndex, then every OffsetIndex (thrift compact)
**   FileMetaData (thrift compact), u32 LE length, "PAR1"
**
** Column chunk encoding: AUTO/DICT columns build a dictionary over the whole
** chunk; it is used when it stays under nDictMaxBytes (and, for AUTO, when it
** has at most half as many entries as there are values), else the chunk
** falls back to the plain-ish encoding (see parquet.h).  Pages hold at most
** nPageRows rows (or the column's anPageRows) and about nPageBytes of values.  Statistics (min, max,
** null_count) go in each page header, in the ColumnIndex and in the chunk's
** ColumnMetaData; min/max of long strings are truncated in the page index
** (min to a prefix, max to a prefix with its last byte incremented).
*/
#include "pq_int.h"
#include "tscrc.h"
#include <math.h>
#include <zlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PQ_DEF_ROWGROUP_BYTES ((int64_t)64<<20)
#define PQ_DEF_PAGE_BYTES     (1<<20)
#define PQ_DEF_PAGE_ROWS      100000
#define PQ_DEF_DICT_BYTES     (1<<20)
#define PQ_IDX_STR_MAX        64      /* page index string bound length */
#define PQ_STAT_STR_MAX       4096    /* longer chunk min/max are omitted */
#define PQ_MAX_VALUE_BYTES    ((int64_t)1<<30)

/* Statistics accumulator for one page or one chunk. */
typedef struct PqStat PqStat;
struct PqStat {
  int bAny;              /* 1 once a min/max candidate was seen */
  int64_t iMin, iMax;    /* integer kinds, BOOLEAN */
  double rMin, rMax;     /* DOUBLE (NaN skipped) */
  const unsigned char *zMin, *zMax; int64_t nMin, nMax;  /* strings (borrowed) */
  int64_t nNull;
  int64_t nNan;          /* NaN values seen (they make min/max unusable, below) */
};

/* Footer metadata kept for one column chunk. */
typedef struct PqChunkMeta PqChunkMeta;
struct PqChunkMeta {
  int64_t iDictOff;      /* dictionary page offset or -1 */
  int64_t iDataOff;      /* first data page offset */
  int64_t nComp, nUncomp;/* totals incl. page headers */
  int64_t nValue;        /* values incl. nulls */
  int64_t nNull;
  unsigned encMask;      /* bit e set when encoding e used */
  unsigned char *aMin, *aMax; int nMin, nMax;  /* PLAIN stats (malloc'd) or NULL */
  int bMinMax;
  int64_t iColIdx, iOffIdx;   /* offsets inside the writer's idx buffer, -1 = none */
  int nColIdx, nOffIdx;
};

typedef struct PqRowGroup PqRowGroup;
struct PqRowGroup {
  int64_t nRow;
  int64_t iFileOff;
  int64_t nUncomp, nComp;
  PqChunkMeta *aChunk;   /* nCol entries; owned */
};

typedef struct PqWCol PqWCol;
struct PqWCol {
  char *zName;           /* owned */
  int eType;             /* TS_PQ_* kind */
  int ePhys;             /* PQ_T_* physical type */
  int bNullable;
  int eEnc;              /* TS_PQ_ENC_* */
  int bLocalTime;        /* timestamps: isAdjustedToUTC=false */
  int nPageRows;         /* max rows per data page of this column */
  TsBuf nulls;           /* one byte per row of the row group: 1 = null */
  TsBuf vals;            /* non-null values: int64/double (8 bytes), or
                         ** for strings u32 length + bytes (PLAIN form) */
  TsBuf offs;            /* strings: int64 start of each value in vals */
  int64_t nVal;          /* non-null values buffered */
  int bSet;              /* set in the current row */
};

struct TsPqWriter {
  int nCol;
  PqWCol *aCol;          /* nCol; owned */
  TsPqWriteOpts opts;    /* copy; strings below are owned copies */
  char *zCreatedBy;
  char **azKey, **azValue;
  int *aSortCol;         /* opts.nSortCol column indexes (owned copy) */
  TsPqWriteFn xWrite;
  void *pCtx;
  int rc;                /* sticky error */
  char *zErr;            /* malloc'd message */
  int bFinished;
  int64_t nWritten;      /* file offset */
  int64_t nRowGroupRows; /* rows buffered in the current row group */
  int64_t nRows;         /* complete rows in previous row groups + current */
  int nSetInRow;         /* columns set in the current row */
  PqRowGroup *aRg; int nRg, nRgAlloc;
  TsBuf idx;             /* serialized ColumnIndex / OffsetIndex blobs */
  TsBuf page;            /* scratch: values of one page */
  TsBuf lev;             /* scratch: levels of one page */
  TsBuf comp;            /* scratch: compressed values */
  TsBuf hdr;             /* scratch: page header */
  TsBuf dict;            /* scratch: PLAIN dictionary */
  TsBuf tail;            /* footer + length + magic after Finish */
};

static int wErr(TsPqWriter *p, int rc, const char *zFmt, ...){
  va_list ap;
  char z[512];
  if( p->rc ) return p->rc;
  va_start(ap, zFmt);
  vsnprintf(z, sizeof(z), zFmt, ap);
  va_end(ap);
  free(p->zErr);
  p->zErr = strdup(z);
  p->rc = rc;
  return rc;
}

void tsPqWriteOptsInit(TsPqWriteOpts *p){
  memset(p, 0, sizeof(*p));
  p->eCodec = TS_PQ_CODEC_ZSTD;
}

void tsPqColumnDataFree(TsPqColumnData *p){
  if( !p ) return;
  free(p->aNull); free(p->aInt); free(p->aDbl); free(p->aOff); free(p->aData); free(p->aIdx);
  memset(p, 0, sizeof(*p));
}

static int physOf(int eType){
  switch( eType ){
    case TS_PQ_INT64: case TS_PQ_TIMESTAMP_NS: case TS_PQ_TIMESTAMP_US:
    case TS_PQ_TIMESTAMP_MS: return PQ_T_INT64;
    case TS_PQ_INT32: case TS_PQ_DATE: return PQ_T_INT32;
    case TS_PQ_DOUBLE: return PQ_T_DOUBLE;
    case TS_PQ_BOOLEAN: return PQ_T_BOOLEAN;
    case TS_PQ_STRING: case TS_PQ_BYTES: return PQ_T_BYTE_ARRAY;
  }
  return -1;
}
static int isIntKind(int eType){
  int t = physOf(eType);
  return t==PQ_T_INT64 || t==PQ_T_INT32;
}
static const char *kindName(int eType){
  switch( eType ){
    case TS_PQ_INT64: return "INT64";
    case TS_PQ_DOUBLE: return "DOUBLE";
    case TS_PQ_BOOLEAN: return "BOOLEAN";
    case TS_PQ_STRING: return "STRING";
    case TS_PQ_TIMESTAMP_NS: return "TIMESTAMP_NS";
    case TS_PQ_DATE: return "DATE";
    case TS_PQ_INT32: return "INT32";
    case TS_PQ_BYTES: return "BYTES";
    case TS_PQ_TIMESTAMP_US: return "TIMESTAMP_US";
    case TS_PQ_TIMESTAMP_MS: return "TIMESTAMP_MS";
    case TS_PQ_FLOAT: return "FLOAT";
  }
  return "UNSUPPORTED";
}

static int sinkWrite(TsPqWriter *p, const void *a, size_t n){
  if( p->rc ) return p->rc;
  if( n==0 ) return 0;
  if( p->xWrite(p->pCtx, a, n) ){
    return wErr(p, TS_PQ_IOERR, "parquet writer: output write of %zu bytes at offset %lld failed",
                n, (long long)p->nWritten);
  }
  p->nWritten += (int64_t)n;
  return 0;
}

int tsPqWriterOpen(TsPqWriter **pp, const TsPqColumnSpec *aCol, int nCol,
                   const TsPqWriteOpts *pOpts, TsPqWriteFn xWrite, void *pCtx){
  TsPqWriter *p;
  int i, j;
  *pp = 0;
  p = calloc(1, sizeof(*p));
  if( !p ) return TS_PQ_NOMEM;
  *pp = p;
  if( pOpts ) p->opts = *pOpts; else tsPqWriteOptsInit(&p->opts);
  p->xWrite = xWrite;
  p->pCtx = pCtx;
  tsBufInit(&p->idx); tsBufInit(&p->page); tsBufInit(&p->lev);
  tsBufInit(&p->comp); tsBufInit(&p->hdr); tsBufInit(&p->dict); tsBufInit(&p->tail);
  if( p->opts.nRowGroupBytes<=0 ) p->opts.nRowGroupBytes = PQ_DEF_ROWGROUP_BYTES;
  if( p->opts.nPageBytes<=0 ) p->opts.nPageBytes = PQ_DEF_PAGE_BYTES;
  if( p->opts.nPageRows<=0 ) p->opts.nPageRows = PQ_DEF_PAGE_ROWS;
  if( p->opts.nDictMaxBytes<=0 ) p->opts.nDictMaxBytes = PQ_DEF_DICT_BYTES;
  p->opts.zCreatedBy = 0; p->opts.azKey = 0; p->opts.azValue = 0;
  p->zCreatedBy = strdup(pOpts && pOpts->zCreatedBy ? pOpts->zCreatedBy
                         : "tslite version 0.1.0 (build parquet)");
  if( !p->zCreatedBy ) return wErr(p, TS_PQ_NOMEM, "out of memory");
  if( p->opts.eCodec!=TS_PQ_CODEC_NONE && p->opts.eCodec!=TS_PQ_CODEC_GZIP
   && p->opts.eCodec!=TS_PQ_CODEC_ZSTD ){
    return wErr(p, TS_PQ_MISUSE, "parquet writer: unsupported compression codec %d "
                "(supported: none, gzip, zstd)", p->opts.eCodec);
  }
  if( pOpts && pOpts->nKeyValue>0 ){
    p->azKey = calloc((size_t)pOpts->nKeyValue, sizeof(char*));
    p->azValue = calloc((size_t)pOpts->nKeyValue, sizeof(char*));
    if( !p->azKey || !p->azValue ) return wErr(p, TS_PQ_NOMEM, "out of memory");
    p->opts.nKeyValue = pOpts->nKeyValue;
    for(i=0; i<pOpts->nKeyValue; i++){
      p->azKey[i] = strdup(pOpts->azKey[i] ? pOpts->azKey[i] : "");
      if( pOpts->azValue && pOpts->azValue[i] ) p->azValue[i] = strdup(pOpts->azValue[i]);
      if( !p->azKey[i] ) return wErr(p, TS_PQ_NOMEM, "out of memory");
    }
  }else{
    p->opts.nKeyValue = 0;
  }
  p->opts.aSortCol = 0;
  p->opts.anPageRows = 0;    /* read into each column below */
  if( pOpts && pOpts->nSortCol>0 ){
    p->aSortCol = malloc(sizeof(int)*(size_t)pOpts->nSortCol);
    if( !p->aSortCol ){ p->opts.nSortCol = 0; return wErr(p, TS_PQ_NOMEM, "out of memory"); }
    memcpy(p->aSortCol, pOpts->aSortCol, sizeof(int)*(size_t)pOpts->nSortCol);
    for(i=0; i<pOpts->nSortCol; i++){
      if( p->aSortCol[i]<0 || p->aSortCol[i]>=nCol ){
        return wErr(p, TS_PQ_MISUSE, "parquet writer: sort column index %d out of range", p->aSortCol[i]);
      }
    }
  }else{
    p->opts.nSortCol = 0;
  }
  if( nCol<=0 ) return wErr(p, TS_PQ_MISUSE, "parquet writer: a file needs at least one column");
  p->aCol = calloc((size_t)nCol, sizeof(PqWCol));
  if( !p->aCol ) return wErr(p, TS_PQ_NOMEM, "out of memory");
  p->nCol = nCol;
  for(i=0; i<nCol; i++){
    PqWCol *c = &p->aCol[i];
    const TsPqColumnSpec *s = &aCol[i];
    tsBufInit(&c->nulls); tsBufInit(&c->vals); tsBufInit(&c->offs);
    c->vals.nMax = (size_t)1 << 31;
    if( !s->zName || !s->zName[0] ){
      return wErr(p, TS_PQ_MISUSE, "parquet writer: column %d has no name", i);
    }
    for(j=0; j<i; j++){
      if( strcmp(aCol[j].zName, s->zName)==0 ){
        return wErr(p, TS_PQ_MISUSE, "parquet writer: duplicate column name \"%s\"", s->zName);
      }
    }
    c->zName = strdup(s->zName);
    if( !c->zName ) return wErr(p, TS_PQ_NOMEM, "out of memory");
    c->nPageRows = pOpts && pOpts->anPageRows && pOpts->anPageRows[i]>0 ? pOpts->anPageRows[i]
                 : p->opts.nPageRows;
    c->eType = s->eType;
    c->ePhys = physOf(s->eType);
    c->bNullable = s->bNullable ? 1 : 0;
    c->eEnc = s->eEncoding;
    c->bLocalTime = p->opts.bLocalTime ? 1 : 0;
    if( c->ePhys<0 ){
      return wErr(p, TS_PQ_MISUSE, "parquet writer: column \"%s\": type %d cannot be written",
                  s->zName, s->eType);
    }
    if( c->eEnc<TS_PQ_ENC_AUTO || c->eEnc>TS_PQ_ENC_BSS
     || (c->eEnc==TS_PQ_ENC_DELTA && !isIntKind(c->eType))
     || (c->eEnc==TS_PQ_ENC_BSS && !isIntKind(c->eType) && c->eType!=TS_PQ_DOUBLE)
     || (c->eEnc==TS_PQ_ENC_DICT && c->eType==TS_PQ_BOOLEAN) ){
      return wErr(p, TS_PQ_MISUSE, "parquet writer: column \"%s\": encoding %d is not valid for %s",
                  s->zName, s->eEncoding, kindName(s->eType));
    }
  }
  sinkWrite(p, "PAR1", 4);
  return p->rc;
}

/*------------------------------ value input ------------------------------*/

static PqWCol *colForSet(TsPqWriter *p, int iCol, int bNull){
  PqWCol *c;
  if( p->rc ) return 0;
  if( p->bFinished ){ wErr(p, TS_PQ_MISUSE, "parquet writer: value after finish"); return 0; }
  if( iCol<0 || iCol>=p->nCol ){
    wErr(p, TS_PQ_MISUSE, "parquet writer: column index %d out of range (0..%d)", iCol, p->nCol-1);
    return 0;
  }
  c = &p->aCol[iCol];
  if( c->bSet ){
    wErr(p, TS_PQ_MISUSE, "parquet writer: column \"%s\" set twice in row %lld",
         c->zName, (long long)p->nRows);
    return 0;
  }
  if( bNull && !c->bNullable ){
    wErr(p, TS_PQ_MISUSE, "parquet writer: NULL in required column \"%s\" (row %lld)",
         c->zName, (long long)p->nRows);
    return 0;
  }
  c->bSet = 1;
  p->nSetInRow++;
  tsBufAppendByte(&c->nulls, (unsigned char)(bNull ? 1 : 0));
  return c;
}

static int typeMismatch(TsPqWriter *p, PqWCol *c, const char *zWhat){
  return wErr(p, TS_PQ_MISUSE, "parquet writer: column \"%s\" is %s, cannot take %s",
              c->zName, kindName(c->eType), zWhat);
}

int tsPqWriterNull(TsPqWriter *p, int iCol){
  colForSet(p, iCol, 1);
  return p->rc;
}

static int appendInt(TsPqWriter *p, PqWCol *c, int64_t v){
  if( c->ePhys==PQ_T_INT32 && (v<INT32_MIN || v>INT32_MAX) ){
    return wErr(p, TS_PQ_TOOBIG, "parquet writer: value %lld out of range for %s column \"%s\"",
                (long long)v, kindName(c->eType), c->zName);
  }
  tsBufAppend(&c->vals, &v, 8);
  c->nVal++;
  return 0;
}

int tsPqWriterInt64(TsPqWriter *p, int iCol, int64_t v){
  PqWCol *c = colForSet(p, iCol, 0);
  if( !c ) return p->rc;
  if( !isIntKind(c->eType) ) return typeMismatch(p, c, "an integer");
  return appendInt(p, c, v);
}

int tsPqWriterDouble(TsPqWriter *p, int iCol, double v){
  PqWCol *c = colForSet(p, iCol, 0);
  if( !c ) return p->rc;
  if( c->eType!=TS_PQ_DOUBLE ) return typeMismatch(p, c, "a double");
  tsBufAppend(&c->vals, &v, 8);
  c->nVal++;
  return 0;
}

int tsPqWriterBool(TsPqWriter *p, int iCol, int v){
  PqWCol *c = colForSet(p, iCol, 0);
  int64_t x = v ? 1 : 0;
  if( !c ) return p->rc;
  if( c->eType!=TS_PQ_BOOLEAN ) return typeMismatch(p, c, "a boolean");
  tsBufAppend(&c->vals, &x, 8);
  c->nVal++;
  return 0;
}

static int appendText(TsPqWriter *p, PqWCol *c, const void *z, int64_t n){
  int64_t off = (int64_t)c->vals.n;
  if( n<0 || n>PQ_MAX_VALUE_BYTES ){
    return wErr(p, TS_PQ_TOOBIG, "parquet writer: value of %lld bytes too large for column \"%s\"",
                (long long)n, c->zName);
  }
  tsBufAppend(&c->offs, &off, 8);
  tsBufAppendU32le(&c->vals, (uint32_t)n);
  tsBufAppend(&c->vals, z, (size_t)n);
  c->nVal++;
  if( c->vals.bErr || c->offs.bErr ){
    return wErr(p, TS_PQ_TOOBIG, "parquet writer: column \"%s\": row group buffer limit reached "
                "(out of memory or over 2 GiB of values)", c->zName);
  }
  return 0;
}

int tsPqWriterText(TsPqWriter *p, int iCol, const char *z, int64_t n){
  PqWCol *c = colForSet(p, iCol, 0);
  if( !c ) return p->rc;
  if( c->ePhys!=PQ_T_BYTE_ARRAY ) return typeMismatch(p, c, "text");
  return appendText(p, c, z, n);
}

static int64_t pendingBytes(TsPqWriter *p){
  int64_t n = 0;
  int i;
  for(i=0; i<p->nCol; i++) n += (int64_t)p->aCol[i].vals.n + (int64_t)p->aCol[i].nulls.n/8;
  return n;
}

static int checkBuffers(TsPqWriter *p){
  int i;
  for(i=0; i<p->nCol; i++){
    PqWCol *c = &p->aCol[i];
    if( c->vals.bErr || c->nulls.bErr || c->offs.bErr ){
      return wErr(p, TS_PQ_NOMEM, "parquet writer: column \"%s\": out of memory buffering the row group",
                  c->zName);
    }
  }
  return 0;
}

static int flushRowGroup(TsPqWriter *p);

static int maybeFlush(TsPqWriter *p){
  if( p->rc ) return p->rc;
  if( checkBuffers(p) ) return p->rc;
  if( pendingBytes(p)>=p->opts.nRowGroupBytes
   || (p->opts.nRowGroupRows>0 && p->nRowGroupRows>=p->opts.nRowGroupRows) ){
    return flushRowGroup(p);
  }
  return 0;
}

int tsPqWriterEndRow(TsPqWriter *p){
  int i;
  if( p->rc ) return p->rc;
  if( p->nSetInRow!=p->nCol ){
    for(i=0; i<p->nCol; i++){
      if( !p->aCol[i].bSet ){
        return wErr(p, TS_PQ_MISUSE, "parquet writer: column \"%s\" not set in row %lld",
                    p->aCol[i].zName, (long long)p->nRows);
      }
    }
  }
  for(i=0; i<p->nCol; i++) p->aCol[i].bSet = 0;
  p->nSetInRow = 0;
  p->nRowGroupRows++;
  p->nRows++;
  return maybeFlush(p);
}

int tsPqWriterAppend(TsPqWriter *p, int64_t nRow, const TsPqColumnData *aCol){
  int i;
  int64_t r;
  if( p->rc ) return p->rc;
  if( p->bFinished ) return wErr(p, TS_PQ_MISUSE, "parquet writer: append after finish");
  if( p->nSetInRow ) return wErr(p, TS_PQ_MISUSE, "parquet writer: batch append inside a half-set row");
  if( nRow<0 ) return wErr(p, TS_PQ_MISUSE, "parquet writer: negative row count");
  /* validate everything first so a rejected batch leaves no partial rows */
  for(i=0; i<p->nCol; i++){
    PqWCol *c = &p->aCol[i];
    const TsPqColumnData *d = &aCol[i];
    int64_t nNonNull = 0;
    if( nRow==0 ) break;
    for(r=0; r<nRow; r++) nNonNull += !(d->aNull && d->aNull[r]);
    /* value arrays may be absent only when every row is NULL */
    if( nNonNull>0 && (c->ePhys==PQ_T_BYTE_ARRAY ? (!d->aOff || !d->aData) :
        c->eType==TS_PQ_DOUBLE ? !d->aDbl : !d->aInt) ){
      return wErr(p, TS_PQ_MISUSE, "parquet writer: batch for column \"%s\" lacks its %s values",
                  c->zName, kindName(c->eType));
    }
    for(r=0; r<nRow; r++){
      int bNull = d->aNull && d->aNull[r];
      if( bNull && !c->bNullable ){
        return wErr(p, TS_PQ_MISUSE, "parquet writer: NULL in required column \"%s\" (row %lld)",
                    c->zName, (long long)(p->nRows+r));
      }
      if( !bNull && c->ePhys==PQ_T_INT32 && (d->aInt[r]<INT32_MIN || d->aInt[r]>INT32_MAX) ){
        return wErr(p, TS_PQ_TOOBIG, "parquet writer: value %lld out of range for %s column \"%s\"",
                    (long long)d->aInt[r], kindName(c->eType), c->zName);
      }
      if( !bNull && c->ePhys==PQ_T_BYTE_ARRAY
       && (d->aOff[r+1]<d->aOff[r] || d->aOff[r+1]-d->aOff[r]>PQ_MAX_VALUE_BYTES) ){
        return wErr(p, TS_PQ_MISUSE, "parquet writer: bad string offsets for column \"%s\" (row %lld)",
                    c->zName, (long long)(p->nRows+r));
      }
    }
  }
  for(i=0; i<p->nCol; i++){
    PqWCol *c = &p->aCol[i];
    const TsPqColumnData *d = &aCol[i];
    for(r=0; r<nRow; r++){
      int bNull = d->aNull && d->aNull[r];
      tsBufAppendByte(&c->nulls, (unsigned char)bNull);
      if( bNull ) continue;
      if( c->ePhys==PQ_T_BYTE_ARRAY ){
        if( appendText(p, c, d->aData+d->aOff[r], d->aOff[r+1]-d->aOff[r]) ) return p->rc;
      }else if( c->eType==TS_PQ_DOUBLE ){
        tsBufAppend(&c->vals, &d->aDbl[r], 8);
        c->nVal++;
      }else if( c->eType==TS_PQ_BOOLEAN ){
        int64_t x = d->aInt[r] ? 1 : 0;
        tsBufAppend(&c->vals, &x, 8);
        c->nVal++;
      }else{
        tsBufAppend(&c->vals, &d->aInt[r], 8);
        c->nVal++;
      }
    }
  }
  p->nRowGroupRows += nRow;
  p->nRows += nRow;
  return maybeFlush(p);
}

/*------------------------------ statistics ------------------------------*/

static void statAddInt(PqStat *s, int64_t v){
  if( !s->bAny ){ s->iMin = s->iMax = v; s->bAny = 1; return; }
  if( v<s->iMin ) s->iMin = v;
  if( v>s->iMax ) s->iMax = v;
}
static void statAddDbl(PqStat *s, double v){
  if( isnan(v) ){ s->nNan++; return; }
  if( !s->bAny ){ s->rMin = s->rMax = v; s->bAny = 1; return; }
  if( v<s->rMin || (v==0 && s->rMin==0 && signbit(v)) ) s->rMin = v;
  if( v>s->rMax || (v==0 && s->rMax==0 && !signbit(v)) ) s->rMax = v;
}
static int bytesCmp(const unsigned char *a, int64_t na, const unsigned char *b, int64_t nb){
  int64_t n = na<nb ? na : nb;
  int c = n ? memcmp(a, b, (size_t)n) : 0;
  if( c ) return c;
  return na<nb ? -1 : na>nb ? 1 : 0;
}
static void statAddStr(PqStat *s, const unsigned char *z, int64_t n){
  if( !s->bAny ){ s->zMin = s->zMax = z; s->nMin = s->nMax = n; s->bAny = 1; return; }
  if( bytesCmp(z, n, s->zMin, s->nMin)<0 ){ s->zMin = z; s->nMin = n; }
  if( bytesCmp(z, n, s->zMax, s->nMax)>0 ){ s->zMax = z; s->nMax = n; }
}
static void statMerge(int ePhys, PqStat *a, const PqStat *b){
  a->nNull += b->nNull;
  a->nNan += b->nNan;
  if( !b->bAny ) return;
  if( ePhys==PQ_T_DOUBLE ){ statAddDbl(a, b->rMin); statAddDbl(a, b->rMax); }
  else if( ePhys==PQ_T_BYTE_ARRAY ){ statAddStr(a, b->zMin, b->nMin); statAddStr(a, b->zMax, b->nMax); }
  else { statAddInt(a, b->iMin); statAddInt(a, b->iMax); }
}

/* PLAIN bytes of a statistic bound into pOut.  bMax selects max.  nTrunc>0
** truncates strings (page index): min to a prefix, max to a prefix with the
** last byte that is not 0xff incremented; returns 1 if max cannot be
** truncated (all 0xff) in which case the full value is written. */
static void statBytes(TsBuf *pOut, int ePhys, const PqStat *s, int bMax, int nTrunc){
  unsigned char a[8];
  int i;
  if( ePhys==PQ_T_BYTE_ARRAY ){
    const unsigned char *z = bMax ? s->zMax : s->zMin;
    int64_t n = bMax ? s->nMax : s->nMin;
    if( nTrunc>0 && n>nTrunc ){
      if( !bMax ){ tsBufAppend(pOut, z, (size_t)nTrunc); return; }
      for(i=nTrunc-1; i>=0; i--){
        if( z[i]!=0xff ){
          size_t n0 = pOut->n;
          tsBufAppend(pOut, z, (size_t)i+1);
          if( !pOut->bErr ) pOut->a[n0+(size_t)i]++;
          return;
        }
      }
    }
    tsBufAppend(pOut, z, (size_t)n);
    return;
  }
  if( ePhys==PQ_T_DOUBLE ){
    double r = bMax ? s->rMax : s->rMin;
    memcpy(a, &r, 8);
    tsBufAppend(pOut, a, 8);
    return;
  }
  {
    int64_t v = bMax ? s->iMax : s->iMin;
    int nb = ePhys==PQ_T_INT64 ? 8 : ePhys==PQ_T_INT32 ? 4 : 1;
    for(i=0; i<nb; i++) a[i] = (unsigned char)((uint64_t)v >> (8*i));
    tsBufAppend(pOut, a, (size_t)nb);
  }
}

static void writeStatistics(PqTw *tw, int id, int ePhys, const PqStat *s, int bMinMax){
  tsPqTwFieldStruct(tw, id);
  tsPqTwFieldI64(tw, 3, s->nNull);
  if( bMinMax && s->bAny && s->nNan==0 && (ePhys!=PQ_T_BYTE_ARRAY || (s->nMin<=PQ_STAT_STR_MAX && s->nMax<=PQ_STAT_STR_MAX)) ){
    TsBuf b; tsBufInit(&b);
    statBytes(&b, ePhys, s, 1, 0);
    tsPqTwFieldBin(tw, 5, b.a, b.n);
    tsBufReset(&b);
    statBytes(&b, ePhys, s, 0, 0);
    tsPqTwFieldBin(tw, 6, b.a, b.n);
    if( b.bErr ) tw->pBuf->bErr = 1;
    tsBufFree(&b);
  }
  tsPqTwStructEnd(tw);
}

/*------------------------------ dictionary ------------------------------*/

typedef struct PqDict PqDict;
struct PqDict {
  uint32_t *aSlot;       /* hash slots: entry index + 1, 0 = empty */
  uint32_t nSlot;        /* power of two */
  int64_t *aEntry;       /* per entry: value (int/double bits) or offset in col vals */
  uint32_t nEntry, nEntryAlloc;
  int64_t nBytes;        /* PLAIN size of the dictionary */
};

static uint64_t hashBytes(const unsigned char *a, size_t n){
  uint64_t h = 0xcbf29ce484222325ULL;
  size_t i;
  for(i=0; i<n; i++){ h ^= a[i]; h *= 0x100000001b3ULL; }
  return h ^ (h>>29);
}
static uint64_t hashInt(uint64_t x){
  x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL; x ^= x >> 33;
  return x;
}

static void dictFree(PqDict *d){ free(d->aSlot); free(d->aEntry); memset(d, 0, sizeof(*d)); }

/* Build the dictionary of column c's buffered values and the index of each
** value into aIdx.  Returns 1 if it exceeded nMaxBytes or nMaxEntries
** (the caller falls back), 0 if built, -1 on OOM. */
static int dictBuild(PqWCol *c, PqDict *d, uint32_t *aIdx, int64_t nMaxBytes, int64_t nMaxEntries){
  int64_t i;
  int bStr = c->ePhys==PQ_T_BYTE_ARRAY;
  int w = c->ePhys==PQ_T_INT32 ? 4 : 8;
  const int64_t *aV = (const int64_t*)c->vals.a;
  const int64_t *aO = (const int64_t*)c->offs.a;
  memset(d, 0, sizeof(*d));
  d->nSlot = 1024;
  d->aSlot = calloc(d->nSlot, sizeof(uint32_t));
  if( !d->aSlot ) return -1;
  for(i=0; i<c->nVal; i++){
    uint64_t h;
    const unsigned char *z = 0;
    uint32_t n = 0, s;
    int64_t key;
    if( bStr ){
      key = aO[i];
      memcpy(&n, c->vals.a+key, 4);
      z = c->vals.a+key+4;
      h = hashBytes(z, n);
    }else{
      key = aV[i];
      h = hashInt((uint64_t)key);
    }
    for(s=(uint32_t)h & (d->nSlot-1); ; s=(s+1)&(d->nSlot-1)){
      uint32_t e = d->aSlot[s];
      if( e==0 ) break;
      if( bStr ){
        uint32_t n2;
        memcpy(&n2, c->vals.a+d->aEntry[e-1], 4);
        if( n2==n && memcmp(c->vals.a+d->aEntry[e-1]+4, z, n)==0 ) break;
      }else if( d->aEntry[e-1]==key ){
        break;
      }
    }
    if( d->aSlot[s] ){
      aIdx[i] = d->aSlot[s]-1;
      continue;
    }
    /* new entry */
    d->nBytes += bStr ? 4+(int64_t)n : w;
    if( d->nBytes>nMaxBytes || (int64_t)d->nEntry+1>nMaxEntries ) return 1;
    if( d->nEntry>=d->nEntryAlloc ){
      uint32_t nNew = d->nEntryAlloc ? d->nEntryAlloc*2 : 256;
      int64_t *aNew = realloc(d->aEntry, nNew*sizeof(int64_t));
      if( !aNew ) return -1;
      d->aEntry = aNew; d->nEntryAlloc = nNew;
    }
    d->aEntry[d->nEntry++] = key;
    d->aSlot[s] = d->nEntry;
    aIdx[i] = d->nEntry-1;
    if( (uint64_t)d->nEntry*2 > d->nSlot ){
      /* grow and rehash */
      uint32_t nNew = d->nSlot*2, e;
      uint32_t *aNew = calloc(nNew, sizeof(uint32_t));
      if( !aNew ) return -1;
      for(e=0; e<d->nEntry; e++){
        uint64_t h2;
        uint32_t s2;
        if( bStr ){
          uint32_t n2;
          memcpy(&n2, c->vals.a+d->aEntry[e], 4);
          h2 = hashBytes(c->vals.a+d->aEntry[e]+4, n2);
        }else{
          h2 = hashInt((uint64_t)d->aEntry[e]);
        }
        for(s2=(uint32_t)h2 & (nNew-1); aNew[s2]; s2=(s2+1)&(nNew-1)){}
        aNew[s2] = e+1;
      }
      free(d->aSlot);
      d->aSlot = aNew; d->nSlot = nNew;
    }
  }
  return 0;
}

/*------------------------------ page output ------------------------------*/

/* Encode value v (non-null value index) PLAIN into pOut. */
static void plainValue(TsBuf *pOut, PqWCol *c, int64_t i){
  const int64_t *aV = (const int64_t*)c->vals.a;
  if( c->ePhys==PQ_T_BYTE_ARRAY ){
    const int64_t *aO = (const int64_t*)c->offs.a;
    uint32_t n;
    memcpy(&n, c->vals.a+aO[i], 4);
    tsBufAppend(pOut, c->vals.a+aO[i], 4+(size_t)n);
  }else if( c->ePhys==PQ_T_INT32 ){
    tsBufAppendU32le(pOut, (uint32_t)aV[i]);
  }else{
    tsBufAppend(pOut, &aV[i], 8);   /* little-endian host assumed: int64/double */
  }
}

/* Write one page: header built from the arguments, then aLev (uncompressed
** levels) and the compressed form of aVal. */
static int emitPage(TsPqWriter *p, PqChunkMeta *m, int ePageType, int64_t nValue,
                    int64_t nNull, int64_t nRow, int eEnc, const TsBuf *pLev,
                    const TsBuf *pVal, int ePhys, const PqStat *pStat, int bMinMax,
                    int64_t *pnPage){
  PqTw tw;
  int64_t nLev = pLev ? (int64_t)pLev->n : 0;
  tsBufReset(&p->comp);
  if( tsPqCompress(p->opts.eCodec, p->opts.iLevel, pVal->a, pVal->n, &p->comp) ){
    return wErr(p, TS_PQ_NOMEM, "parquet writer: compression of a %zu-byte page failed", pVal->n);
  }
  if( (int64_t)pVal->n + nLev > INT32_MAX || (int64_t)p->comp.n + nLev > INT32_MAX ){
    return wErr(p, TS_PQ_TOOBIG, "parquet writer: page over 2 GiB");
  }
  tsBufReset(&p->hdr);
  tsPqTwInit(&tw, &p->hdr);
  tsPqTwStructBegin(&tw);
  tsPqTwFieldI32(&tw, 1, ePageType);
  tsPqTwFieldI32(&tw, 2, (int32_t)(pVal->n + (size_t)nLev));
  tsPqTwFieldI32(&tw, 3, (int32_t)(p->comp.n + (size_t)nLev));
  {
    /* PageHeader.crc: CRC-32 (zlib's) of the page bytes after the header,
    ** levels then compressed values, as the Parquet spec defines it. */
    uint32_t crc = 0;
    if( nLev ) crc = tsCrc32(crc, pLev->a, pLev->n);
    crc = tsCrc32(crc, p->comp.a ? p->comp.a : (const unsigned char*)"", p->comp.n);
    tsPqTwFieldI32(&tw, 4, (int32_t)crc);
  }
  if( ePageType==PQ_PAGE_DICT ){
    tsPqTwFieldStruct(&tw, 7);
    tsPqTwFieldI32(&tw, 1, (int32_t)nValue);
    tsPqTwFieldI32(&tw, 2, PQ_E_PLAIN);
    tsPqTwStructEnd(&tw);
  }else{
    tsPqTwFieldStruct(&tw, 8);
    tsPqTwFieldI32(&tw, 1, (int32_t)nValue);
    tsPqTwFieldI32(&tw, 2, (int32_t)nNull);
    tsPqTwFieldI32(&tw, 3, (int32_t)nRow);
    tsPqTwFieldI32(&tw, 4, eEnc);
    tsPqTwFieldI32(&tw, 5, (int32_t)nLev);
    tsPqTwFieldI32(&tw, 6, 0);
    tsPqTwFieldBool(&tw, 7, p->opts.eCodec!=TS_PQ_CODEC_NONE);
    writeStatistics(&tw, 8, ePhys, pStat, bMinMax);
    tsPqTwStructEnd(&tw);
  }
  tsPqTwStructEnd(&tw);
  if( p->hdr.bErr ) return wErr(p, TS_PQ_NOMEM, "out of memory");
  *pnPage = (int64_t)(p->hdr.n + p->comp.n) + nLev;
  m->nComp += *pnPage;
  m->nUncomp += (int64_t)(p->hdr.n + pVal->n) + nLev;
  m->encMask |= 1u << eEnc;
  sinkWrite(p, p->hdr.a, p->hdr.n);
  if( nLev ) sinkWrite(p, pLev->a, pLev->n);
  sinkWrite(p, p->comp.a, p->comp.n);
  return p->rc;
}

/* Page index entries collected while writing one chunk. */
typedef struct PqPageIdx PqPageIdx;
struct PqPageIdx {
  int64_t iOff, nSize, iFirstRow;
  PqStat st;
  int64_t nRow;
};

static int stLess(int ePhys, const PqStat *a, int bAmax, const PqStat *b, int bBmax){
  /* compare a.(min|max) <= b.(min|max) */
  if( ePhys==PQ_T_DOUBLE ){
    double x = bAmax ? a->rMax : a->rMin, y = bBmax ? b->rMax : b->rMin;
    return x<=y;
  }
  if( ePhys==PQ_T_BYTE_ARRAY ){
    return bytesCmp(bAmax?a->zMax:a->zMin, bAmax?a->nMax:a->nMin,
                    bBmax?b->zMax:b->zMin, bBmax?b->nMax:b->nMin)<=0;
  }
  return (bAmax?a->iMax:a->iMin) <= (bBmax?b->iMax:b->iMin);
}

static void writePageIndex(TsPqWriter *p, PqWCol *c, PqChunkMeta *m, PqPageIdx *aPg,
                           int nPg, int bColIdx){
  PqTw tw;
  int i;
  size_t n0 = p->idx.n;
  if( p->opts.bNoPageIndex ) return;
  tsPqTwInit(&tw, &p->idx);
  if( bColIdx && !p->opts.bNoStatistics ){
    int bAsc = 1, bDesc = 1, iPrev = -1;
    for(i=0; i<nPg; i++){
      if( !aPg[i].st.bAny ) continue;
      if( iPrev>=0 ){
        if( !(stLess(c->ePhys, &aPg[iPrev].st, 0, &aPg[i].st, 0)
              && stLess(c->ePhys, &aPg[iPrev].st, 1, &aPg[i].st, 1)) ) bAsc = 0;
        if( !(stLess(c->ePhys, &aPg[i].st, 0, &aPg[iPrev].st, 0)
              && stLess(c->ePhys, &aPg[i].st, 1, &aPg[iPrev].st, 1)) ) bDesc = 0;
      }
      iPrev = i;
    }
    tsPqTwStructBegin(&tw);
    tsPqTwFieldList(&tw, 1, PQ_TT_TRUE, nPg);
    for(i=0; i<nPg; i++) tsPqTwBool(&tw, !aPg[i].st.bAny);
    tsPqTwFieldList(&tw, 2, PQ_TT_BINARY, nPg);
    for(i=0; i<nPg; i++){
      TsBuf b; tsBufInit(&b);
      if( aPg[i].st.bAny ) statBytes(&b, c->ePhys, &aPg[i].st, 0, PQ_IDX_STR_MAX);
      tsPqTwBin(&tw, b.a, b.n);
      tsBufFree(&b);
    }
    tsPqTwFieldList(&tw, 3, PQ_TT_BINARY, nPg);
    for(i=0; i<nPg; i++){
      TsBuf b; tsBufInit(&b);
      if( aPg[i].st.bAny ) statBytes(&b, c->ePhys, &aPg[i].st, 1, PQ_IDX_STR_MAX);
      tsPqTwBin(&tw, b.a, b.n);
      tsBufFree(&b);
    }
    tsPqTwFieldI32(&tw, 4, bAsc ? 1 : bDesc ? 2 : 0);
    tsPqTwFieldList(&tw, 5, PQ_TT_I64, nPg);
    for(i=0; i<nPg; i++) tsPqTwI64(&tw, aPg[i].st.nNull);
    tsPqTwStructEnd(&tw);
    m->iColIdx = (int64_t)n0;
    m->nColIdx = (int)(p->idx.n - n0);
    n0 = p->idx.n;
  }
  tsPqTwStructBegin(&tw);
  tsPqTwFieldList(&tw, 1, PQ_TT_STRUCT, nPg);
  for(i=0; i<nPg; i++){
    tsPqTwStructBegin(&tw);
    tsPqTwFieldI64(&tw, 1, aPg[i].iOff);
    tsPqTwFieldI32(&tw, 2, (int32_t)aPg[i].nSize);
    tsPqTwFieldI64(&tw, 3, aPg[i].iFirstRow);
    tsPqTwStructEnd(&tw);
  }
  tsPqTwStructEnd(&tw);
  m->iOffIdx = (int64_t)n0;
  m->nOffIdx = (int)(p->idx.n - n0);
}

/* Encode and write column c of the current row group. */
static int writeChunk(TsPqWriter *p, PqWCol *c, PqChunkMeta *m, int64_t nRow){
  uint32_t *aIdx = 0;
  PqDict dict;
  int bDict = 0;
  int eEnc;
  int64_t r, iVal = 0;
  PqPageIdx *aPg = 0;
  int nPg = 0, nPgAlloc = 0, bColIdx = 1;
  PqStat chunkSt;
  int wDict;
  const unsigned char *aNul = c->nulls.a;
  memset(&dict, 0, sizeof(dict));
  memset(&chunkSt, 0, sizeof(chunkSt));
  m->iDictOff = -1;
  m->iColIdx = m->iOffIdx = -1;
  m->nValue = nRow;

  /* choose the encoding */
  if( c->eEnc==TS_PQ_ENC_PLAIN || c->eType==TS_PQ_BOOLEAN ) eEnc = PQ_E_PLAIN;
  else if( c->eEnc==TS_PQ_ENC_DELTA ) eEnc = PQ_E_DELTA_BINARY_PACKED;
  else if( c->eEnc==TS_PQ_ENC_BSS ) eEnc = PQ_E_BYTE_STREAM_SPLIT;
  else if( c->eEnc==TS_PQ_ENC_DICT ) eEnc = PQ_E_PLAIN;
  else if( isIntKind(c->eType) ) eEnc = PQ_E_DELTA_BINARY_PACKED;
  else if( c->eType==TS_PQ_DOUBLE ) eEnc = PQ_E_BYTE_STREAM_SPLIT;
  else eEnc = PQ_E_PLAIN;
  if( (c->eEnc==TS_PQ_ENC_AUTO || c->eEnc==TS_PQ_ENC_DICT) && c->eType!=TS_PQ_BOOLEAN
   && !p->opts.bNoDictionary && c->nVal>0 ){
    int64_t nMaxEntries = c->eEnc==TS_PQ_ENC_AUTO ? (c->nVal+1)/2 : c->nVal;
    int rcD;
    aIdx = malloc((size_t)c->nVal*sizeof(uint32_t));
    if( !aIdx ) return wErr(p, TS_PQ_NOMEM, "out of memory");
    rcD = dictBuild(c, &dict, aIdx, p->opts.nDictMaxBytes, nMaxEntries);
    if( rcD<0 ){ free(aIdx); dictFree(&dict); return wErr(p, TS_PQ_NOMEM, "out of memory"); }
    if( rcD==0 ) bDict = 1;
    if( bDict && c->eEnc==TS_PQ_ENC_AUTO && isIntKind(c->eType) ){
      /* integers (time above all) often delta-encode smaller than any
      ** dictionary: keep the smaller of the two estimates */
      int64_t nDictEst = dict.nBytes + (c->nVal*tsPqBitWidth(dict.nEntry ? dict.nEntry-1 : 0)+7)/8;
      tsBufReset(&p->page);
      tsPqDeltaEncode(&p->page, (const int64_t*)c->vals.a, c->nVal);
      if( !p->page.bErr && (int64_t)p->page.n < nDictEst ) bDict = 0;
    }
  }

  if( bDict ){
    uint32_t e;
    tsBufReset(&p->dict);
    for(e=0; e<dict.nEntry; e++){
      if( c->ePhys==PQ_T_BYTE_ARRAY ){
        uint32_t n;
        memcpy(&n, c->vals.a+dict.aEntry[e], 4);
        tsBufAppend(&p->dict, c->vals.a+dict.aEntry[e], 4+(size_t)n);
      }else if( c->ePhys==PQ_T_INT32 ){
        tsBufAppendU32le(&p->dict, (uint32_t)dict.aEntry[e]);
      }else{
        tsBufAppend(&p->dict, &dict.aEntry[e], 8);
      }
    }
    {
      int64_t nPage;
      m->iDictOff = p->nWritten;
      emitPage(p, m, PQ_PAGE_DICT, dict.nEntry, 0, 0, PQ_E_PLAIN, 0, &p->dict, c->ePhys,
               &chunkSt, 0, &nPage);
    }
    eEnc = PQ_E_RLE_DICTIONARY;
  }
  m->iDataOff = p->nWritten;
  /* page size is estimated in encoded bits: index width for dictionary
  ** pages, the PLAIN size otherwise */
  wDict = bDict ? tsPqBitWidth(dict.nEntry>0 ? dict.nEntry-1 : 0) : 0;
  if( bDict && wDict==0 ) wDict = 1;

  /* pages */
  for(r=0; r<nRow && p->rc==0; ){
    int64_t r0 = r, v0 = iVal, nBytes = 0 /* bits */, nNull = 0;
    PqStat st;
    int64_t nPage, iPageOff = p->nWritten;
    memset(&st, 0, sizeof(st));
    while( r<nRow && r-r0<c->nPageRows && nBytes<(int64_t)p->opts.nPageBytes*8 ){
      if( aNul[r] ){
        nNull++;
      }else{
        if( c->ePhys==PQ_T_BYTE_ARRAY ){
          const int64_t *aO = (const int64_t*)c->offs.a;
          uint32_t n;
          memcpy(&n, c->vals.a+aO[iVal], 4);
          nBytes += bDict ? wDict : 8*(4+(int64_t)n);
          statAddStr(&st, c->vals.a+aO[iVal]+4, n);
        }else{
          int64_t v = ((const int64_t*)c->vals.a)[iVal];
          nBytes += bDict ? wDict : c->ePhys==PQ_T_INT32 ? 32 : c->ePhys==PQ_T_BOOLEAN ? 1 : 64;
          if( c->ePhys==PQ_T_DOUBLE ){ double d; memcpy(&d, &v, 8); statAddDbl(&st, d); }
          else statAddInt(&st, v);
        }
        iVal++;
      }
      r++;
    }
    st.nNull = nNull;
    /* A page with NaN has no trustworthy bounds: DuckDB orders NaN above
    ** every number and would prune it away with NaN-free bounds (the spec
    ** says to leave NaN out of min/max; DuckDB writes no min/max then, and
    ** so do we).  Such a chunk gets no ColumnIndex. */
    if( st.nNan>0 || (st.bAny==0 && nNull<r-r0) ) bColIdx = 0;
    /* levels */
    tsBufReset(&p->lev);
    if( c->bNullable ){
      uint32_t *aL = malloc((size_t)(r-r0)*sizeof(uint32_t));
      int64_t k;
      if( !aL ){ wErr(p, TS_PQ_NOMEM, "out of memory"); break; }
      for(k=r0; k<r; k++) aL[k-r0] = aNul[k] ? 0 : 1;
      tsPqRleEncode(&p->lev, aL, r-r0, 1);
      free(aL);
    }
    /* values */
    tsBufReset(&p->page);
    if( eEnc==PQ_E_RLE_DICTIONARY ){
      int w = tsPqBitWidth(dict.nEntry>0 ? dict.nEntry-1 : 0);
      tsBufAppendByte(&p->page, (unsigned char)w);
      tsPqRleEncode(&p->page, aIdx+v0, iVal-v0, w);
    }else if( eEnc==PQ_E_DELTA_BINARY_PACKED ){
      tsPqDeltaEncode(&p->page, ((const int64_t*)c->vals.a)+v0, iVal-v0);
    }else if( eEnc==PQ_E_BYTE_STREAM_SPLIT ){
      if( c->ePhys==PQ_T_INT32 ){
        int64_t k;
        TsBuf t; tsBufInit(&t);
        for(k=v0; k<iVal; k++) tsBufAppendU32le(&t, (uint32_t)((const int64_t*)c->vals.a)[k]);
        tsPqBssEncode(&p->page, t.a, iVal-v0, 4);
        if( t.bErr ) p->page.bErr = 1;
        tsBufFree(&t);
      }else{
        tsPqBssEncode(&p->page, c->vals.a+v0*8, iVal-v0, 8);
      }
    }else if( c->ePhys==PQ_T_BOOLEAN ){
      int64_t k;
      unsigned char acc = 0;
      for(k=v0; k<iVal; k++){
        if( ((const int64_t*)c->vals.a)[k] ) acc |= (unsigned char)(1u << ((k-v0)&7));
        if( ((k-v0)&7)==7 ){ tsBufAppendByte(&p->page, acc); acc = 0; }
      }
      if( (iVal-v0)&7 ) tsBufAppendByte(&p->page, acc);
    }else{
      int64_t k;
      for(k=v0; k<iVal; k++) plainValue(&p->page, c, k);
    }
    if( p->page.bErr || p->lev.bErr ){ wErr(p, TS_PQ_NOMEM, "out of memory"); break; }
    if( emitPage(p, m, PQ_PAGE_DATA_V2, r-r0, nNull, r-r0, eEnc, &p->lev, &p->page, c->ePhys,
                 &st, !p->opts.bNoStatistics, &nPage) ) break;
    statMerge(c->ePhys, &chunkSt, &st);
    if( nPg>=nPgAlloc ){
      int nNew = nPgAlloc ? nPgAlloc*2 : 16;
      PqPageIdx *aNew = realloc(aPg, (size_t)nNew*sizeof(PqPageIdx));
      if( !aNew ){ wErr(p, TS_PQ_NOMEM, "out of memory"); break; }
      aPg = aNew; nPgAlloc = nNew;
    }
    aPg[nPg].iOff = iPageOff;
    aPg[nPg].nSize = nPage;
    aPg[nPg].iFirstRow = r0;
    aPg[nPg].st = st;
    aPg[nPg].nRow = r-r0;
    nPg++;
  }
  if( p->rc==0 ){
    m->nNull = chunkSt.nNull;
    if( c->bNullable ) m->encMask |= 1u << PQ_E_RLE;
    if( chunkSt.bAny && chunkSt.nNan==0 && !p->opts.bNoStatistics
     && (c->ePhys!=PQ_T_BYTE_ARRAY || (chunkSt.nMin<=PQ_STAT_STR_MAX && chunkSt.nMax<=PQ_STAT_STR_MAX)) ){
      TsBuf b; tsBufInit(&b);
      statBytes(&b, c->ePhys, &chunkSt, 0, 0);
      m->nMin = (int)b.n; m->aMin = tsBufDetach(&b, 0);
      statBytes(&b, c->ePhys, &chunkSt, 1, 0);
      m->nMax = (int)b.n; m->aMax = tsBufDetach(&b, 0);
      if( (m->nMin && !m->aMin) || (m->nMax && !m->aMax) ) wErr(p, TS_PQ_NOMEM, "out of memory");
      if( !m->aMin ) m->aMin = malloc(1);
      if( !m->aMax ) m->aMax = malloc(1);
      m->bMinMax = 1;
    }
    writePageIndex(p, c, m, aPg, nPg, bColIdx);
    if( p->idx.bErr ) wErr(p, TS_PQ_NOMEM, "out of memory (page index)");
  }
  free(aPg);
  free(aIdx);
  dictFree(&dict);
  return p->rc;
}

static int flushRowGroup(TsPqWriter *p){
  PqRowGroup *g;
  int i;
  if( p->rc ) return p->rc;
  if( p->nRowGroupRows==0 ) return 0;
  if( checkBuffers(p) ) return p->rc;
  if( p->nRg>=p->nRgAlloc ){
    int nNew = p->nRgAlloc ? p->nRgAlloc*2 : 8;
    PqRowGroup *aNew = realloc(p->aRg, (size_t)nNew*sizeof(PqRowGroup));
    if( !aNew ) return wErr(p, TS_PQ_NOMEM, "out of memory");
    p->aRg = aNew; p->nRgAlloc = nNew;
  }
  g = &p->aRg[p->nRg];
  memset(g, 0, sizeof(*g));
  g->aChunk = calloc((size_t)p->nCol, sizeof(PqChunkMeta));
  if( !g->aChunk ) return wErr(p, TS_PQ_NOMEM, "out of memory");
  p->nRg++;
  g->nRow = p->nRowGroupRows;
  g->iFileOff = p->nWritten;
  for(i=0; i<p->nCol && p->rc==0; i++){
    PqWCol *c = &p->aCol[i];
    writeChunk(p, c, &g->aChunk[i], g->nRow);
    g->nComp += g->aChunk[i].nComp;
    g->nUncomp += g->aChunk[i].nUncomp;
    tsBufReset(&c->vals); tsBufReset(&c->nulls); tsBufReset(&c->offs);
    c->nVal = 0;
  }
  p->nRowGroupRows = 0;
  return p->rc;
}

int tsPqWriterFlushRowGroup(TsPqWriter *p){
  if( p->rc ) return p->rc;
  if( p->nSetInRow ) return wErr(p, TS_PQ_MISUSE, "parquet writer: flush inside a half-set row");
  return flushRowGroup(p);
}

/*------------------------------ footer ------------------------------*/

static void writeSchemaLeaf(PqTw *tw, PqWCol *c){
  tsPqTwStructBegin(tw);
  tsPqTwFieldI32(tw, 1, c->ePhys);
  tsPqTwFieldI32(tw, 3, c->bNullable ? 1 : 0);
  tsPqTwFieldBin(tw, 4, c->zName, strlen(c->zName));
  switch( c->eType ){
    case TS_PQ_STRING:
      tsPqTwFieldI32(tw, 6, 0);                 /* UTF8 */
      tsPqTwFieldStruct(tw, 10);
      tsPqTwFieldStruct(tw, 1); tsPqTwStructEnd(tw);
      tsPqTwStructEnd(tw);
      break;
    case TS_PQ_DATE:
      tsPqTwFieldI32(tw, 6, 6);
      tsPqTwFieldStruct(tw, 10);
      tsPqTwFieldStruct(tw, 6); tsPqTwStructEnd(tw);
      tsPqTwStructEnd(tw);
      break;
    case TS_PQ_TIMESTAMP_NS: case TS_PQ_TIMESTAMP_US: case TS_PQ_TIMESTAMP_MS: {
      int unit = c->eType==TS_PQ_TIMESTAMP_MS ? 1 : c->eType==TS_PQ_TIMESTAMP_US ? 2 : 3;
      /* the legacy converted types imply UTC: only written for UTC columns */
      if( unit==1 && !c->bLocalTime ) tsPqTwFieldI32(tw, 6, 9);
      if( unit==2 && !c->bLocalTime ) tsPqTwFieldI32(tw, 6, 10);
      tsPqTwFieldStruct(tw, 10);
      tsPqTwFieldStruct(tw, 8);
      tsPqTwFieldBool(tw, 1, !c->bLocalTime);
      tsPqTwFieldStruct(tw, 2);
      tsPqTwFieldStruct(tw, unit); tsPqTwStructEnd(tw);
      tsPqTwStructEnd(tw);
      tsPqTwStructEnd(tw);
      tsPqTwStructEnd(tw);
      break;
    }
    default:
      break;
  }
  tsPqTwStructEnd(tw);
}

int tsPqWriterFinish(TsPqWriter *p){
  PqTw tw;
  TsBuf *f = &p->tail;
  int64_t iIdxBase;
  int i, j;
  if( p->rc ) return p->rc;
  if( p->bFinished ) return wErr(p, TS_PQ_MISUSE, "parquet writer: finished twice");
  if( p->nSetInRow ) return wErr(p, TS_PQ_MISUSE, "parquet writer: finish inside a half-set row");
  if( flushRowGroup(p) ) return p->rc;
  p->bFinished = 1;
  iIdxBase = p->nWritten;
  /* page index: all ColumnIndex/OffsetIndex blobs were serialized in order
  ** into p->idx; their offsets become absolute here */
  if( sinkWrite(p, p->idx.a, p->idx.n) ) return p->rc;

  tsPqTwInit(&tw, f);
  tsPqTwStructBegin(&tw);
  tsPqTwFieldI32(&tw, 1, 1);
  tsPqTwFieldList(&tw, 2, PQ_TT_STRUCT, p->nCol+1);
  tsPqTwStructBegin(&tw);
  tsPqTwFieldBin(&tw, 4, "schema", 6);
  tsPqTwFieldI32(&tw, 5, p->nCol);
  tsPqTwStructEnd(&tw);
  for(i=0; i<p->nCol; i++) writeSchemaLeaf(&tw, &p->aCol[i]);
  tsPqTwFieldI64(&tw, 3, p->nRows);
  tsPqTwFieldList(&tw, 4, PQ_TT_STRUCT, p->nRg);
  for(j=0; j<p->nRg; j++){
    PqRowGroup *g = &p->aRg[j];
    tsPqTwStructBegin(&tw);
    tsPqTwFieldList(&tw, 1, PQ_TT_STRUCT, p->nCol);
    for(i=0; i<p->nCol; i++){
      PqWCol *c = &p->aCol[i];
      PqChunkMeta *m = &g->aChunk[i];
      int e, nEnc = 0;
      for(e=0; e<32; e++) if( m->encMask & (1u<<e) ) nEnc++;
      tsPqTwStructBegin(&tw);
      tsPqTwFieldI64(&tw, 2, 0);
      tsPqTwFieldStruct(&tw, 3);
      tsPqTwFieldI32(&tw, 1, c->ePhys);
      tsPqTwFieldList(&tw, 2, PQ_TT_I32, nEnc);
      for(e=0; e<32; e++) if( m->encMask & (1u<<e) ) tsPqTwI32(&tw, e);
      tsPqTwFieldList(&tw, 3, PQ_TT_BINARY, 1);
      tsPqTwBin(&tw, c->zName, strlen(c->zName));
      tsPqTwFieldI32(&tw, 4, p->opts.eCodec);
      tsPqTwFieldI64(&tw, 5, m->nValue);
      tsPqTwFieldI64(&tw, 6, m->nUncomp);
      tsPqTwFieldI64(&tw, 7, m->nComp);
      tsPqTwFieldI64(&tw, 9, m->iDataOff);
      if( m->iDictOff>=0 ) tsPqTwFieldI64(&tw, 11, m->iDictOff);
      tsPqTwFieldStruct(&tw, 12);
      tsPqTwFieldI64(&tw, 3, m->nNull);
      if( m->bMinMax ){
        tsPqTwFieldBin(&tw, 5, m->aMax, (size_t)m->nMax);
        tsPqTwFieldBin(&tw, 6, m->aMin, (size_t)m->nMin);
      }
      tsPqTwStructEnd(&tw);
      tsPqTwStructEnd(&tw);   /* ColumnMetaData */
      if( m->iOffIdx>=0 ){
        tsPqTwFieldI64(&tw, 4, iIdxBase + m->iOffIdx);
        tsPqTwFieldI32(&tw, 5, m->nOffIdx);
      }
      if( m->iColIdx>=0 ){
        tsPqTwFieldI64(&tw, 6, iIdxBase + m->iColIdx);
        tsPqTwFieldI32(&tw, 7, m->nColIdx);
      }
      tsPqTwStructEnd(&tw);   /* ColumnChunk */
    }
    tsPqTwFieldI64(&tw, 2, g->nUncomp);
    tsPqTwFieldI64(&tw, 3, g->nRow);
    if( p->opts.nSortCol>0 ){
      tsPqTwFieldList(&tw, 4, PQ_TT_STRUCT, p->opts.nSortCol);
      for(i=0; i<p->opts.nSortCol; i++){
        tsPqTwStructBegin(&tw);
        tsPqTwFieldI32(&tw, 1, p->aSortCol[i]);
        tsPqTwFieldBool(&tw, 2, 0);
        tsPqTwFieldBool(&tw, 3, 0);
        tsPqTwStructEnd(&tw);
      }
    }
    tsPqTwFieldI64(&tw, 5, g->iFileOff);
    tsPqTwFieldI64(&tw, 6, g->nComp);
    tsPqTwFieldI32(&tw, 7, j);
    tsPqTwStructEnd(&tw);
  }
  if( p->opts.nKeyValue>0 ){
    tsPqTwFieldList(&tw, 5, PQ_TT_STRUCT, p->opts.nKeyValue);
    for(i=0; i<p->opts.nKeyValue; i++){
      tsPqTwStructBegin(&tw);
      tsPqTwFieldBin(&tw, 1, p->azKey[i], strlen(p->azKey[i]));
      if( p->azValue[i] ) tsPqTwFieldBin(&tw, 2, p->azValue[i], strlen(p->azValue[i]));
      tsPqTwStructEnd(&tw);
    }
  }
  tsPqTwFieldBin(&tw, 6, p->zCreatedBy, strlen(p->zCreatedBy));
  tsPqTwFieldList(&tw, 7, PQ_TT_STRUCT, p->nCol);
  for(i=0; i<p->nCol; i++){
    tsPqTwStructBegin(&tw);
    tsPqTwFieldStruct(&tw, 1); tsPqTwStructEnd(&tw);
    tsPqTwStructEnd(&tw);
  }
  tsPqTwStructEnd(&tw);
  if( f->n > 0xffffffffu ) return wErr(p, TS_PQ_TOOBIG, "parquet writer: footer over 4 GiB");
  tsBufAppendU32le(f, (uint32_t)f->n);
  tsBufAppend(f, "PAR1", 4);
  if( f->bErr ) return wErr(p, TS_PQ_NOMEM, "out of memory (footer)");
  sinkWrite(p, f->a, f->n);
  return p->rc;
}

const unsigned char *tsPqWriterTail(TsPqWriter *p, size_t *pnTail){
  if( !p || !p->bFinished || p->rc ){ if( pnTail ) *pnTail = 0; return 0; }
  if( pnTail ) *pnTail = p->tail.n;
  return p->tail.a;
}

int64_t tsPqWriterBytesWritten(TsPqWriter *p){ return p ? p->nWritten : 0; }
int64_t tsPqWriterPendingBytes(TsPqWriter *p){ return p ? pendingBytes(p) : 0; }
int64_t tsPqWriterRowCount(TsPqWriter *p){ return p ? p->nRows : 0; }
int tsPqWriterErrcode(TsPqWriter *p){ return p ? p->rc : TS_PQ_NOMEM; }
const char *tsPqWriterErrmsg(TsPqWriter *p){
  if( !p ) return "out of memory";
  return p->zErr ? p->zErr : "";
}

void tsPqWriterFree(TsPqWriter *p){
  int i, j;
  if( !p ) return;
  for(i=0; i<p->nCol; i++){
    PqWCol *c = &p->aCol[i];
    free(c->zName);
    tsBufFree(&c->nulls); tsBufFree(&c->vals); tsBufFree(&c->offs);
  }
  free(p->aCol);
  for(j=0; j<p->nRg; j++){
    for(i=0; i<p->nCol; i++){ free(p->aRg[j].aChunk[i].aMin); free(p->aRg[j].aChunk[i].aMax); }
    free(p->aRg[j].aChunk);
  }
  free(p->aRg);
  for(i=0; i<p->opts.nKeyValue; i++){
    if( p->azKey ) free(p->azKey[i]);
    if( p->azValue ) free(p->azValue[i]);
  }
  free(p->azKey); free(p->azValue);
  free(p->aSortCol);
  free(p->zCreatedBy);
  free(p->zErr);
  tsBufFree(&p->idx); tsBufFree(&p->page); tsBufFree(&p->lev);
  tsBufFree(&p->comp); tsBufFree(&p->hdr); tsBufFree(&p->dict); tsBufFree(&p->tail);
  free(p);
}
