/*
** parquet_read.c: the Parquet reader (API in parquet.h).
**
** How it works.  Open reads the last 8 bytes (u32 LE footer length +
** "PAR1"), then the FileMetaData, and decodes schema, row groups, column
** chunk metadata and statistics into plain structs (statistics bytes point
** into the kept footer copy).  Nothing else is read until a column is
** asked for.
**
** Reading column iCol of row group iRg fetches the column chunk in one
** xRead (from dictionary_page_offset, or data_page_offset, for
** total_compressed_size bytes).  With a row selection and an OffsetIndex it
** instead fetches the dictionary page (bytes before the first data page) and
** only the data pages whose row span overlaps the selection, one xRead each.
** Each page is: PageHeader (thrift compact), then compressed_page_size bytes.
** When the header carries a crc (CRC-32 of those bytes), it is verified
** before the page is decoded; a mismatch is TS_PQ_CORRUPT naming the column,
** row group and the page's first row.
**   DICTIONARY_PAGE  PLAIN values, compressed
**   DATA_PAGE (v1)   compressed [u32 len + RLE def levels] [values]
**   DATA_PAGE_V2     uncompressed def levels (definition_levels_byte_length)
**                    then values, compressed when is_compressed (default)
** Values: PLAIN, PLAIN_DICTIONARY/RLE_DICTIONARY, DELTA_BINARY_PACKED,
** DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT, RLE
** (booleans).  Codecs: none, snappy, gzip, zstd.  Only flat (non-nested,
** non-repeated) columns decode; others are listed as TS_PQ_UNSUPPORTED.
**
** Pruning: row-group statistics (min_value/max_value, or the deprecated
** min/max for numeric types) against TsPqRange bounds; the ColumnIndex gives
** per-page bounds and null pages, the OffsetIndex their row spans.
** Every size and offset read from the file is checked before use.
*/
#include "pq_int.h"
#include <math.h>
#include <zlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t tsPqReaderAllocLimit = (int64_t)1 << 30;
int tsPqReaderVerifyCrc = 1;

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
};

/*------------------------------ errors ------------------------------*/
static int rErr(TsPqReader *p, int rc, const char *zFmt, ...){
  va_list ap;
  char z[512];
  va_start(ap, zFmt);
  vsnprintf(z, sizeof(z), zFmt, ap);
  va_end(ap);
  free(p->zErr);
  p->zErr = strdup(z);
  p->rc = rc;
  return rc;
}
int tsPqReaderErrcode(TsPqReader *p){ return p ? p->rc : TS_PQ_NOMEM; }
void tsPqReaderSetSource(TsPqReader *p, TsPqReadFn xRead, void *pCtx){ p->xRead = xRead; p->pCtx = pCtx; }
const char *tsPqReaderErrmsg(TsPqReader *p){ return p && p->zErr ? p->zErr : ""; }

static int readAt(TsPqReader *p, int64_t iOff, int64_t n, void *pOut){
  if( iOff<0 || n<0 || iOff>p->nFile || n>p->nFile-iOff ){
    return rErr(p, TS_PQ_CORRUPT, "parquet: range %lld+%lld outside the %lld-byte file",
                (long long)iOff, (long long)n, (long long)p->nFile);
  }
  if( n==0 ) return 0;
  if( p->xRead(p->pCtx, iOff, n, pOut) ){
    return rErr(p, TS_PQ_IOERR, "parquet: read of %lld bytes at offset %lld failed",
                (long long)n, (long long)iOff);
  }
  return 0;
}

static char *dupN(const unsigned char *a, int64_t n){
  char *z = malloc((size_t)n+1);
  if( z ){ if( n ) memcpy(z, a, (size_t)n); z[n] = 0; }
  return z;
}

/*------------------------------ footer ------------------------------*/

typedef struct PqSchemaEl PqSchemaEl;
struct PqSchemaEl {
  int eType;           /* physical or -1 for groups */
  int nTypeLen, eRep, nChild, eConv, iScale;
  const unsigned char *zName; int64_t nName;
  int eLogical;        /* LogicalType union field id, 0 none */
  int bUtc, eUnit;     /* TIMESTAMP */
  int bSigned, nBits;  /* INTEGER */
};

#define PQ_CORRUPT_FOOTER(p) rErr(p, TS_PQ_CORRUPT, "parquet: corrupt footer (FileMetaData)")

static int parseLogical(PqTr *tr, PqSchemaEl *e){
  int iLast = 0, id, t;
  while( (t = tsPqTrField(tr, &iLast, &id))>0 ){
    if( t==PQ_TT_STRUCT && (e->eLogical==0) ){
      e->eLogical = id;
      if( id==8 || id==7 ){               /* TIMESTAMP / TIME */
        int l2 = 0, id2, t2;
        while( (t2 = tsPqTrField(tr, &l2, &id2))>0 ){
          if( id2==1 && (t2==PQ_TT_TRUE || t2==PQ_TT_FALSE) ){ e->bUtc = t2==PQ_TT_TRUE; }
          else if( id2==2 && t2==PQ_TT_STRUCT ){
            int l3 = 0, id3, t3;
            while( (t3 = tsPqTrField(tr, &l3, &id3))>0 ){
              e->eUnit = id3;
              if( tsPqTrSkip(tr, t3) ) return 1;
            }
            if( t3<0 ) return 1;
          }else if( tsPqTrSkip(tr, t2) ) return 1;
        }
        if( t2<0 ) return 1;
      }else if( id==10 ){                 /* INTEGER */
        int l2 = 0, id2, t2;
        e->bSigned = 1; e->nBits = 64;
        while( (t2 = tsPqTrField(tr, &l2, &id2))>0 ){
          if( id2==1 ){ int64_t v; if( tsPqTrI64(tr, t2, &v) ) return 1; e->nBits = (int)v; }
          else if( id2==2 ){ if( tsPqTrBool(tr, t2, &e->bSigned) ) return 1; }
          else if( tsPqTrSkip(tr, t2) ) return 1;
        }
        if( t2<0 ) return 1;
      }else if( id==5 ){                  /* DECIMAL: 1 scale, 2 precision */
        int l2 = 0, id2, t2;
        while( (t2 = tsPqTrField(tr, &l2, &id2))>0 ){
          if( id2==1 ){ int32_t v; if( tsPqTrI32(tr, t2, &v) ) return 1; e->iScale = v; }
          else if( tsPqTrSkip(tr, t2) ) return 1;
        }
        if( t2<0 ) return 1;
      }else if( tsPqTrSkip(tr, t) ) return 1;
    }else if( tsPqTrSkip(tr, t) ) return 1;
  }
  return t<0;
}

static int parseSchemaEl(PqTr *tr, PqSchemaEl *e){
  int iLast = 0, id, t;
  int32_t v;
  memset(e, 0, sizeof(*e));
  e->eType = -1; e->eConv = -1; e->eRep = 0;
  while( (t = tsPqTrField(tr, &iLast, &id))>0 ){
    switch( id ){
      case 1: if( tsPqTrI32(tr, t, &v) ) return 1; e->eType = v; break;
      case 2: if( tsPqTrI32(tr, t, &v) ) return 1; e->nTypeLen = v; break;
      case 3: if( tsPqTrI32(tr, t, &v) ) return 1; e->eRep = v; break;
      case 4: if( tsPqTrBin(tr, t, &e->zName, &e->nName) ) return 1; break;
      case 5: if( tsPqTrI32(tr, t, &v) ) return 1; e->nChild = v; break;
      case 6: if( tsPqTrI32(tr, t, &v) ) return 1; e->eConv = v; break;
      case 7: if( tsPqTrI32(tr, t, &v) ) return 1; if( !e->eLogical ) e->iScale = v; break;
      case 10: if( t!=PQ_TT_STRUCT || parseLogical(tr, e) ) return 1; break;
      default: if( tsPqTrSkip(tr, t) ) return 1; break;
    }
  }
  if( t<0 || e->nChild<0 || e->zName==0 ) return 1;
  return 0;
}

/* Map a leaf schema element to a column kind. */
static void leafKind(PqSchemaEl *e, PqRCol *c){
  TsPqColumnInfo *ci = &c->info;
  ci->ePhysical = e->eType;
  ci->bNullable = e->eRep==1;
  c->nTypeLen = e->nTypeLen;
  ci->eType = TS_PQ_UNSUPPORTED;
  if( e->eRep==2 ) return;
  if( e->eLogical==5 || e->eConv==5 ){
    if( e->eType==PQ_T_INT32 || e->eType==PQ_T_INT64 ){
      c->bDecimal = 1; c->iScale = e->iScale; ci->eType = TS_PQ_DOUBLE;
    }
    return;
  }
  switch( e->eType ){
    case PQ_T_BOOLEAN: ci->eType = TS_PQ_BOOLEAN; break;
    case PQ_T_INT32:
      if( e->eLogical==6 || e->eConv==6 ) ci->eType = TS_PQ_DATE;
      else if( (e->eLogical==10 && !e->bSigned) || e->eConv==11 || e->eConv==12 || e->eConv==13 ){
        c->bUnsigned = 1; ci->eType = TS_PQ_INT64;
      }else ci->eType = TS_PQ_INT32;
      break;
    case PQ_T_INT64:
      if( e->eLogical==8 ){
        ci->bUtc = e->bUtc;
        ci->eType = e->eUnit==1 ? TS_PQ_TIMESTAMP_MS : e->eUnit==2 ? TS_PQ_TIMESTAMP_US
                  : e->eUnit==3 ? TS_PQ_TIMESTAMP_NS : TS_PQ_UNSUPPORTED;
      }else if( e->eLogical==0 && e->eConv==9 ){ ci->bUtc = 1; ci->eType = TS_PQ_TIMESTAMP_MS; }
      else if( e->eLogical==0 && e->eConv==10 ){ ci->bUtc = 1; ci->eType = TS_PQ_TIMESTAMP_US; }
      else{
        ci->eType = TS_PQ_INT64;
        c->bUnsigned64 = (e->eLogical==10 && !e->bSigned) || e->eConv==14;
      }
      break;
    case PQ_T_INT96:
      /* legacy Impala/Hive/Spark timestamps: nanoseconds of the day (u64)
      ** then the Julian day (u32); instants, delivered as UTC nanoseconds */
      ci->bUtc = 1; ci->eType = TS_PQ_TIMESTAMP_NS;
      break;
    case PQ_T_FLOAT: ci->eType = TS_PQ_FLOAT; break;
    case PQ_T_DOUBLE: ci->eType = TS_PQ_DOUBLE; break;
    case PQ_T_BYTE_ARRAY:
      if( e->eLogical==1 || e->eLogical==4 || e->eLogical==12 || e->eConv==0 || e->eConv==4
       || e->eConv==19 ){
        ci->eType = TS_PQ_STRING;
      }else ci->eType = TS_PQ_BYTES;
      break;
    case PQ_T_FLBA:
      if( e->nTypeLen>0 ) ci->eType = TS_PQ_BYTES;
      break;
    default: break;
  }
}

static int parseStats(PqTr *tr, PqRChunk *c){
  int iLast = 0, id, t;
  const unsigned char *aMinD = 0, *aMaxD = 0; int64_t nMinD = 0, nMaxD = 0;
  const unsigned char *aMin = 0, *aMax = 0; int64_t nMin = 0, nMax = 0;
  while( (t = tsPqTrField(tr, &iLast, &id))>0 ){
    switch( id ){
      case 1: if( tsPqTrBin(tr, t, &aMaxD, &nMaxD) ) return 1; break;
      case 2: if( tsPqTrBin(tr, t, &aMinD, &nMinD) ) return 1; break;
      case 3: if( tsPqTrI64(tr, t, &c->nNull) ) return 1; c->bNullCount = 1; break;
      case 5: if( tsPqTrBin(tr, t, &aMax, &nMax) ) return 1; break;
      case 6: if( tsPqTrBin(tr, t, &aMin, &nMin) ) return 1; break;
      default: if( tsPqTrSkip(tr, t) ) return 1; break;
    }
  }
  if( t<0 ) return 1;
  if( aMin && aMax ){
    c->aMin = aMin; c->nMin = nMin; c->aMax = aMax; c->nMax = nMax; c->bMinMax = 1;
  }else if( aMinD && aMaxD && c->ePhys!=PQ_T_BYTE_ARRAY && c->ePhys!=PQ_T_FLBA ){
    /* deprecated fields: signed order, trustworthy for numeric types */
    c->aMin = aMinD; c->nMin = nMinD; c->aMax = aMaxD; c->nMax = nMaxD; c->bMinMax = 1;
  }
  return 0;
}

static int parseColumnMeta(PqTr *tr, PqRChunk *c){
  int iLast = 0, id, t;
  int32_t v;
  c->iDictOff = -1;
  c->bPresent = 1;
  while( (t = tsPqTrField(tr, &iLast, &id))>0 ){
    switch( id ){
      case 1: if( tsPqTrI32(tr, t, &v) ) return 1; c->ePhys = v; break;
      case 4: if( tsPqTrI32(tr, t, &v) ) return 1; c->eCodec = v; break;
      case 5: if( tsPqTrI64(tr, t, &c->nValue) ) return 1; break;
      case 6: if( tsPqTrI64(tr, t, &c->nUncomp) ) return 1; break;
      case 7: if( tsPqTrI64(tr, t, &c->nComp) ) return 1; break;
      case 9: if( tsPqTrI64(tr, t, &c->iDataOff) ) return 1; break;
      case 11: if( tsPqTrI64(tr, t, &c->iDictOff) ) return 1; break;
      case 12: if( t!=PQ_TT_STRUCT || parseStats(tr, c) ) return 1; break;
      default: if( tsPqTrSkip(tr, t) ) return 1; break;
    }
  }
  return t<0;
}

static int parseColumnChunk(PqTr *tr, PqRChunk *c){
  int iLast = 0, id, t;
  int32_t v;
  c->iOffIdx = c->iColIdx = -1;
  while( (t = tsPqTrField(tr, &iLast, &id))>0 ){
    switch( id ){
      case 1: c->bExternal = 1; if( tsPqTrSkip(tr, t) ) return 1; break;
      case 3: if( t!=PQ_TT_STRUCT || parseColumnMeta(tr, c) ) return 1; break;
      case 4: if( tsPqTrI64(tr, t, &c->iOffIdx) ) return 1; break;
      case 5: if( tsPqTrI32(tr, t, &v) ) return 1; c->nOffIdx = v; break;
      case 6: if( tsPqTrI64(tr, t, &c->iColIdx) ) return 1; break;
      case 7: if( tsPqTrI32(tr, t, &v) ) return 1; c->nColIdx = v; break;
      default: if( tsPqTrSkip(tr, t) ) return 1; break;
    }
  }
  if( t<0 ) return 1;
  if( c->nOffIdx<=0 ) c->iOffIdx = -1;
  if( c->nColIdx<=0 ) c->iColIdx = -1;
  return 0;
}

static int parseRowGroup(TsPqReader *p, PqTr *tr, PqRRowGroup *g){
  int iLast = 0, id, t;
  int nChunk = -1;
  while( (t = tsPqTrField(tr, &iLast, &id))>0 ){
    if( id==1 && t==PQ_TT_LIST ){
      int eElem; int64_t n, i;
      if( tsPqTrList(tr, t, &eElem, &n) || eElem!=PQ_TT_STRUCT || n!=p->nLeaf || g->aChunk ) return 1;
      g->aChunk = calloc((size_t)(n ? n : 1), sizeof(PqRChunk));
      if( !g->aChunk ) return 2;
      for(i=0; i<n; i++) if( parseColumnChunk(tr, &g->aChunk[i]) ) return 1;
      nChunk = (int)n;
    }else if( id==3 ){
      if( tsPqTrI64(tr, t, &g->nRow) ) return 1;
    }else if( tsPqTrSkip(tr, t) ) return 1;
  }
  if( t<0 || nChunk!=p->nLeaf || g->nRow<0 ) return 1;
  return 0;
}

static int parseFooter(TsPqReader *p){
  PqTr tr;
  int iLast = 0, id, t, bSchema = 0;
  PqSchemaEl *aEl = 0;
  int64_t nEl = 0;
  int rc = 0;
  tsPqTrInit(&tr, p->aMeta, (size_t)p->nMeta);
  while( rc==0 && (t = tsPqTrField(&tr, &iLast, &id))>0 ){
    if( id==2 && t==PQ_TT_LIST && !bSchema ){
      int eElem; int64_t i;
      bSchema = 1;
      if( tsPqTrList(&tr, t, &eElem, &nEl) || eElem!=PQ_TT_STRUCT || nEl<1 ){ rc = 1; break; }
      aEl = calloc((size_t)nEl, sizeof(PqSchemaEl));
      if( !aEl ){ rc = 2; break; }
      for(i=0; i<nEl && rc==0; i++) if( parseSchemaEl(&tr, &aEl[i]) ) rc = 1;
      if( rc ) break;
      /* walk the tree: top-level columns are the root's children */
      {
        int64_t iEl = 1, nTop = aEl[0].nChild, k;
        if( nTop<0 || nTop>nEl ){ rc = 1; break; }
        p->aCol = calloc((size_t)(nTop ? nTop : 1), sizeof(PqRCol));
        if( !p->aCol ){ rc = 2; break; }
        for(k=0; k<nTop && rc==0; k++){
          PqRCol *c = &p->aCol[k];
          int64_t nPending;
          if( iEl>=nEl ){ rc = 1; break; }
          c->info.zName = dupN(aEl[iEl].zName, aEl[iEl].nName);
          if( !c->info.zName ){ rc = 2; break; }
          p->nCol++;
          c->iLeaf = p->nLeaf;
          if( aEl[iEl].nChild==0 ){
            leafKind(&aEl[iEl], c);
            if( aEl[iEl].eType<0 ){ rc = 1; break; }
            p->nLeaf++;
            iEl++;
            continue;
          }
          /* a group: count its leaves, mark unsupported */
          c->info.eType = TS_PQ_UNSUPPORTED;
          c->info.ePhysical = -1;
          c->info.bNullable = aEl[iEl].eRep!=0;
          nPending = aEl[iEl].nChild;
          iEl++;
          while( nPending>0 ){
            if( iEl>=nEl ){ rc = 1; break; }
            nPending--;
            if( aEl[iEl].nChild>0 ){
              if( aEl[iEl].nChild > nEl ){ rc = 1; break; }
              nPending += aEl[iEl].nChild;
            }else p->nLeaf++;
            iEl++;
          }
        }
        if( rc==0 && iEl!=nEl ) rc = 1;
      }
    }else if( id==3 ){
      if( tsPqTrI64(&tr, t, &p->nRow) ) rc = 1;
    }else if( id==4 && t==PQ_TT_LIST ){
      int eElem; int64_t n, i;
      if( !bSchema || p->aRg ){ rc = 1; break; }
      if( tsPqTrList(&tr, t, &eElem, &n) || eElem!=PQ_TT_STRUCT || n>INT32_MAX ){ rc = 1; break; }
      p->aRg = calloc((size_t)(n ? n : 1), sizeof(PqRRowGroup));
      if( !p->aRg ){ rc = 2; break; }
      for(i=0; i<n && rc==0; i++){
        p->nRg++;
        rc = parseRowGroup(p, &tr, &p->aRg[i]);
      }
    }else if( id==5 && t==PQ_TT_LIST ){
      int eElem; int64_t n, i;
      if( p->azKey || tsPqTrList(&tr, t, &eElem, &n) || eElem!=PQ_TT_STRUCT ){ rc = 1; break; }
      p->azKey = calloc((size_t)(n ? n : 1), sizeof(char*));
      p->azVal = calloc((size_t)(n ? n : 1), sizeof(char*));
      if( !p->azKey || !p->azVal ){ rc = 2; break; }
      for(i=0; i<n && rc==0; i++){
        int l2 = 0, id2, t2;
        p->nKv++;
        while( rc==0 && (t2 = tsPqTrField(&tr, &l2, &id2))>0 ){
          const unsigned char *a; int64_t nA;
          if( id2==1 || id2==2 ){
            if( tsPqTrBin(&tr, t2, &a, &nA) ){ rc = 1; break; }
            if( id2==1 ){ free(p->azKey[i]); p->azKey[i] = dupN(a, nA); if( !p->azKey[i] ) rc = 2; }
            else { free(p->azVal[i]); p->azVal[i] = dupN(a, nA); if( !p->azVal[i] ) rc = 2; }
          }else if( tsPqTrSkip(&tr, t2) ) rc = 1;
        }
        if( rc==0 && (t2<0 || !p->azKey[i]) ) rc = 1;
      }
    }else if( id==6 && t==PQ_TT_BINARY ){
      const unsigned char *a; int64_t nA;
      if( tsPqTrBin(&tr, t, &a, &nA) ){ rc = 1; break; }
      free(p->zCreatedBy);
      p->zCreatedBy = dupN(a, nA);
      if( !p->zCreatedBy ) rc = 2;
    }else if( id==8 || id==9 ){
      free(aEl);
      return rErr(p, TS_PQ_ERROR, "parquet: encrypted files are not supported");
    }else if( tsPqTrSkip(&tr, t) ){
      rc = 1;
    }
    if( rc==0 && tr.rd.bErr ) rc = 1;
  }
  if( rc==0 && t<0 ) rc = 1;
  free(aEl);
  if( rc==2 ) return rErr(p, TS_PQ_NOMEM, "out of memory");
  if( rc || !bSchema ) return PQ_CORRUPT_FOOTER(p);
  {
    int g, i;
    int64_t nSum = 0;
    for(g=0; g<p->nRg; g++){
      PqRRowGroup *rg = &p->aRg[g];
      nSum += rg->nRow;
      if( rg->nRow<0 || nSum<0 ) return PQ_CORRUPT_FOOTER(p);
      for(i=0; i<p->nCol; i++){
        PqRCol *c = &p->aCol[i];
        PqRChunk *k;
        if( c->info.eType==TS_PQ_UNSUPPORTED ) continue;
        k = &rg->aChunk[c->iLeaf];
        if( !k->bPresent ){
          return rErr(p, TS_PQ_CORRUPT, "parquet: column \"%s\" of row group %d has no metadata",
                      c->info.zName, g);
        }
        if( k->ePhys!=c->info.ePhysical ){
          return rErr(p, TS_PQ_CORRUPT, "parquet: column \"%s\" of row group %d: chunk type %d "
                      "differs from schema type %d", c->info.zName, g, k->ePhys, c->info.ePhysical);
        }
      }
    }
  }
  return 0;
}

static int readerOpen(TsPqReader **pp, TsPqReadFn xRead, void *pCtx, int64_t nFile,
                      const void *aTail, size_t nTail, char **pzErr){
  TsPqReader *p;
  unsigned char a8[8];
  uint32_t nMeta;
  int rc = 0;
  *pp = 0;
  if( pzErr ) *pzErr = 0;
  p = calloc(1, sizeof(*p));
  if( !p ) return TS_PQ_NOMEM;
  p->xRead = xRead; p->pCtx = pCtx; p->nFile = nFile;
  if( nFile<12 ){
    rc = rErr(p, TS_PQ_CORRUPT, "parquet: file of %lld bytes is too small to be Parquet", (long long)nFile);
  }
  if( rc==0 ){
    if( aTail && nTail>=8 ) memcpy(a8, (const unsigned char*)aTail+nTail-8, 8);
    else rc = readAt(p, nFile-8, 8, a8);
  }
  if( rc==0 && memcmp(a8+4, "PAR1", 4)!=0 ){
    rc = rErr(p, memcmp(a8+4, "PARE", 4)==0 ? TS_PQ_ERROR : TS_PQ_CORRUPT,
              memcmp(a8+4, "PARE", 4)==0 ? "parquet: encrypted files are not supported"
              : "parquet: not a Parquet file (no PAR1 magic at the end)");
  }
  if( rc==0 ){
    nMeta = (uint32_t)a8[0] | ((uint32_t)a8[1]<<8) | ((uint32_t)a8[2]<<16) | ((uint32_t)a8[3]<<24);
    if( (int64_t)nMeta > nFile-12 ){
      rc = rErr(p, TS_PQ_CORRUPT, "parquet: footer length %u exceeds the %lld-byte file",
                nMeta, (long long)nFile);
    }else if( (int64_t)nMeta > tsPqReaderAllocLimit ){
      rc = rErr(p, TS_PQ_TOOBIG, "parquet: footer of %u bytes is too large", nMeta);
    }
  }
  if( rc==0 ){
    p->nMeta = nMeta;
    p->aMeta = malloc(nMeta ? nMeta : 1);
    if( !p->aMeta ) rc = rErr(p, TS_PQ_NOMEM, "out of memory");
  }
  if( rc==0 ){
    if( aTail && nTail>=(size_t)nMeta+8 ){
      memcpy(p->aMeta, (const unsigned char*)aTail+nTail-8-nMeta, nMeta);
    }else{
      rc = readAt(p, nFile-8-nMeta, nMeta, p->aMeta);
    }
  }
  if( rc==0 && aTail==0 ){
    /* With cached tail bytes the open does no read at all (a cold-tier scan
    ** plans from the manifest); the data pages are still checked when read. */
    unsigned char a4[4];
    rc = readAt(p, 0, 4, a4);
    if( rc==0 && memcmp(a4, "PAR1", 4)!=0 ){
      rc = rErr(p, TS_PQ_CORRUPT, "parquet: not a Parquet file (no PAR1 magic at the start)");
    }
  }
  if( rc==0 ) rc = parseFooter(p);
  if( rc ){
    if( pzErr ) *pzErr = strdup(p->zErr ? p->zErr : "parquet: error");
    tsPqReaderFree(p);
    return rc;
  }
  *pp = p;
  return 0;
}

int tsPqReaderOpen(TsPqReader **pp, TsPqReadFn xRead, void *pCtx, int64_t nFile, char **pzErr){
  return readerOpen(pp, xRead, pCtx, nFile, 0, 0, pzErr);
}
int tsPqReaderOpenTail(TsPqReader **pp, TsPqReadFn xRead, void *pCtx, int64_t nFile,
                       const void *aTail, size_t nTail, char **pzErr){
  return readerOpen(pp, xRead, pCtx, nFile, aTail, nTail, pzErr);
}

void tsPqReaderFree(TsPqReader *p){
  int i;
  if( !p ) return;
  for(i=0; i<p->nCol; i++) free((char*)p->aCol[i].info.zName);
  free(p->aCol);
  for(i=0; i<p->nRg; i++) free(p->aRg[i].aChunk);
  free(p->aRg);
  for(i=0; i<p->nKv; i++){ free(p->azKey[i]); free(p->azVal[i]); }
  free(p->azKey); free(p->azVal);
  free(p->zCreatedBy);
  free(p->aMeta);
  free(p->zErr);
  free(p);
}

int tsPqReaderColumnCount(TsPqReader *p){ return p->nCol; }
const TsPqColumnInfo *tsPqReaderColumn(TsPqReader *p, int iCol){
  return iCol>=0 && iCol<p->nCol ? &p->aCol[iCol].info : 0;
}
int tsPqReaderFindColumn(TsPqReader *p, const char *zName){
  int i;
  for(i=0; i<p->nCol; i++) if( strcmp(p->aCol[i].info.zName, zName)==0 ) return i;
  return -1;
}
int64_t tsPqReaderRowCount(TsPqReader *p){ return p->nRow; }
const char *tsPqReaderCreatedBy(TsPqReader *p){ return p->zCreatedBy; }
const char *tsPqReaderKeyValue(TsPqReader *p, const char *zKey){
  int i;
  for(i=0; i<p->nKv; i++) if( p->azKey[i] && strcmp(p->azKey[i], zKey)==0 ) return p->azVal[i];
  return 0;
}
int tsPqReaderRowGroupCount(TsPqReader *p){ return p->nRg; }
int64_t tsPqReaderRowGroupRows(TsPqReader *p, int iRg){
  return iRg>=0 && iRg<p->nRg ? p->aRg[iRg].nRow : 0;
}

/*------------------------------ statistics ------------------------------*/

static int64_t rdLe(const unsigned char *a, int n){
  uint64_t v = 0;
  int i;
  for(i=0; i<n; i++) v |= (uint64_t)a[i] << (8*i);
  return (int64_t)v;
}

static double decScale(int iScale){
  double r = 1;
  int i;
  for(i=0; i<iScale && i<40; i++) r *= 10;
  return r;
}

/* Decode PLAIN stat bytes of column c into *pv; 0 ok, 1 unusable. */
static int statValue(PqRCol *c, const unsigned char *a, int64_t n, TsPqValue *pv){
  memset(pv, 0, sizeof(*pv));
  switch( c->info.ePhysical ){
    case PQ_T_BOOLEAN: if( n<1 ) return 1; pv->i = a[0]!=0; return 0;
    case PQ_T_INT32:
      if( n!=4 ) return 1;
      pv->i = c->bUnsigned ? (int64_t)(uint32_t)rdLe(a, 4) : (int64_t)(int32_t)rdLe(a, 4);
      if( c->bDecimal ) pv->r = (double)pv->i / decScale(c->iScale);
      return 0;
    case PQ_T_INT64:
      if( n!=8 || c->bUnsigned64 ) return 1;
      pv->i = rdLe(a, 8);
      if( c->bDecimal ) pv->r = (double)pv->i / decScale(c->iScale);
      return 0;
    case PQ_T_FLOAT: { float f; uint32_t u; if( n!=4 ) return 1; u = (uint32_t)rdLe(a, 4);
      memcpy(&f, &u, 4); pv->r = f; return isnan(pv->r); }
    case PQ_T_DOUBLE: { uint64_t u; if( n!=8 ) return 1; u = (uint64_t)rdLe(a, 8);
      memcpy(&pv->r, &u, 8); return isnan(pv->r); }
    case PQ_T_BYTE_ARRAY: case PQ_T_FLBA:
      pv->z = (const char*)a; pv->n = n; return 0;
  }
  return 1;
}

int tsPqReaderChunkStats(TsPqReader *p, int iRg, int iCol, TsPqStats *s){
  PqRCol *c;
  PqRChunk *k;
  memset(s, 0, sizeof(*s));
  if( iRg<0 || iRg>=p->nRg || iCol<0 || iCol>=p->nCol ){
    return rErr(p, TS_PQ_MISUSE, "parquet: row group %d / column %d out of range", iRg, iCol);
  }
  c = &p->aCol[iCol];
  if( c->info.eType==TS_PQ_UNSUPPORTED ){
    return rErr(p, TS_PQ_ERROR, "parquet: column \"%s\" has an unsupported type", c->info.zName);
  }
  k = &p->aRg[iRg].aChunk[c->iLeaf];
  s->nValue = k->nValue; s->eCodec = k->eCodec;
  s->nCompressed = k->nComp; s->nUncompressed = k->nUncomp;
  s->bPageIndex = k->iOffIdx>=0;
  s->bNullCount = k->bNullCount; s->nNull = k->nNull;
  if( k->bMinMax && statValue(c, k->aMin, k->nMin, &s->min)==0
   && statValue(c, k->aMax, k->nMax, &s->max)==0 ){
    s->bMinMax = 1;
  }else{
    memset(&s->min, 0, sizeof(s->min)); memset(&s->max, 0, sizeof(s->max));
  }
  return 0;
}

static int valCmp(PqRCol *c, const TsPqValue *a, const TsPqValue *b){
  int k = c->info.eType;
  if( k==TS_PQ_DOUBLE || k==TS_PQ_FLOAT ){
    return a->r<b->r ? -1 : a->r>b->r ? 1 : 0;
  }
  if( k==TS_PQ_STRING || k==TS_PQ_BYTES ){
    int64_t n = a->n<b->n ? a->n : b->n;
    int r = n ? memcmp(a->z, b->z, (size_t)n) : 0;
    if( r ) return r;
    return a->n<b->n ? -1 : a->n>b->n ? 1 : 0;
  }
  return a->i<b->i ? -1 : a->i>b->i ? 1 : 0;
}

/* 1 if [mn, mx] (with null info) may satisfy range r. */
static int boundsMayMatch(PqRCol *c, const TsPqRange *r, int bAllNull, const TsPqValue *mn,
                          const TsPqValue *mx){
  if( bAllNull ) return !(r->bMin || r->bMax || r->bNotNull);
  if( !mn || !mx ) return 1;
  if( r->bMin && valCmp(c, mx, &r->min)<0 ) return 0;
  if( r->bMax && valCmp(c, mn, &r->max)>0 ) return 0;
  return 1;
}

int tsPqReaderRowGroupMayMatch(TsPqReader *p, int iRg, const TsPqRange *aRange, int nRange){
  int i;
  if( iRg<0 || iRg>=p->nRg ) return 0;
  for(i=0; i<nRange; i++){
    const TsPqRange *r = &aRange[i];
    TsPqStats s;
    PqRCol *c;
    if( r->iCol<0 || r->iCol>=p->nCol ) continue;
    c = &p->aCol[r->iCol];
    if( c->info.eType==TS_PQ_UNSUPPORTED ) continue;
    if( tsPqReaderChunkStats(p, iRg, r->iCol, &s) ) continue;
    if( !boundsMayMatch(c, r, s.bNullCount && s.nNull==s.nValue && s.nValue>0,
                        s.bMinMax ? &s.min : 0, s.bMinMax ? &s.max : 0) ){
      return 0;
    }
  }
  return 1;
}

void tsPqRowSelFree(TsPqRowSel *p){
  if( !p ) return;
  free(p->aRange);
  memset(p, 0, sizeof(*p));
}

/*------------------------------ page index ------------------------------*/

typedef struct PqPageLoc PqPageLoc;
struct PqPageLoc { int64_t iOff; int32_t nSize; int64_t iFirstRow; };

/* Read the OffsetIndex of a chunk; *paLoc malloc'd.  0 ok. */
static int readOffsetIndex(TsPqReader *p, PqRChunk *k, int64_t nRgRow, PqPageLoc **paLoc, int *pnLoc){
  unsigned char *a;
  PqTr tr;
  int iLast = 0, id, t, rc = 0;
  PqPageLoc *aLoc = 0;
  int64_t nLoc = 0;
  *paLoc = 0; *pnLoc = 0;
  if( k->nOffIdx<=0 || k->nOffIdx>tsPqReaderAllocLimit ) return 1;
  a = malloc((size_t)k->nOffIdx);
  if( !a ) return rErr(p, TS_PQ_NOMEM, "out of memory");
  if( readAt(p, k->iOffIdx, k->nOffIdx, a) ){ free(a); return p->rc; }
  tsPqTrInit(&tr, a, (size_t)k->nOffIdx);
  while( rc==0 && (t = tsPqTrField(&tr, &iLast, &id))>0 ){
    if( id==1 && t==PQ_TT_LIST && !aLoc ){
      int eElem; int64_t i;
      if( tsPqTrList(&tr, t, &eElem, &nLoc) || eElem!=PQ_TT_STRUCT ){ rc = 1; break; }
      aLoc = calloc((size_t)(nLoc ? nLoc : 1), sizeof(PqPageLoc));
      if( !aLoc ){ rc = 2; break; }
      for(i=0; i<nLoc && rc==0; i++){
        int l2 = 0, id2, t2;
        while( rc==0 && (t2 = tsPqTrField(&tr, &l2, &id2))>0 ){
          if( id2==1 ){ if( tsPqTrI64(&tr, t2, &aLoc[i].iOff) ) rc = 1; }
          else if( id2==2 ){ if( tsPqTrI32(&tr, t2, &aLoc[i].nSize) ) rc = 1; }
          else if( id2==3 ){ if( tsPqTrI64(&tr, t2, &aLoc[i].iFirstRow) ) rc = 1; }
          else if( tsPqTrSkip(&tr, t2) ) rc = 1;
        }
        if( t2<0 ) rc = 1;
        if( rc==0 ){
          if( aLoc[i].nSize<=0 || aLoc[i].iOff<4 || aLoc[i].iFirstRow<0
           || aLoc[i].iFirstRow>=nRgRow
           || (i>0 && aLoc[i].iFirstRow<=aLoc[i-1].iFirstRow) ) rc = 1;
        }
      }
    }else if( tsPqTrSkip(&tr, t) ) rc = 1;
  }
  if( rc==0 && t<0 ) rc = 1;
  free(a);
  if( rc==0 && (!aLoc || nLoc==0 || aLoc[0].iFirstRow!=0) ) rc = 1;
  if( rc ){
    free(aLoc);
    if( rc==2 ) return rErr(p, TS_PQ_NOMEM, "out of memory");
    return rErr(p, TS_PQ_CORRUPT, "parquet: corrupt OffsetIndex");
  }
  *paLoc = aLoc; *pnLoc = (int)nLoc;
  return 0;
}

/* Intersect sorted interval list a (na intervals) with b; result in *pOut
** (malloc'd). */
static int selIntersect(const int64_t *a, int na, const int64_t *b, int nb, int64_t **paOut, int *pn){
  int64_t *o = malloc(sizeof(int64_t)*2*(size_t)(na+nb+1));
  int i = 0, j = 0, n = 0;
  if( !o ) return 1;
  while( i<na && j<nb ){
    int64_t s = a[2*i]>b[2*j] ? a[2*i] : b[2*j];
    int64_t e = a[2*i+1]<b[2*j+1] ? a[2*i+1] : b[2*j+1];
    if( s<e ){
      if( n>0 && o[2*n-1]==s ) o[2*n-1] = e;
      else { o[2*n] = s; o[2*n+1] = e; n++; }
    }
    if( a[2*i+1]<b[2*j+1] ) i++; else j++;
  }
  *paOut = o; *pn = n;
  return 0;
}

int tsPqReaderSelectRows(TsPqReader *p, int iRg, const TsPqRange *aRange, int nRange,
                         TsPqRowSel *pSel){
  int64_t nRgRow;
  int i;
  memset(pSel, 0, sizeof(*pSel));
  if( iRg<0 || iRg>=p->nRg ) return rErr(p, TS_PQ_MISUSE, "parquet: row group %d out of range", iRg);
  nRgRow = p->aRg[iRg].nRow;
  pSel->aRange = malloc(sizeof(int64_t)*2);
  if( !pSel->aRange ) return rErr(p, TS_PQ_NOMEM, "out of memory");
  pSel->aRange[0] = 0; pSel->aRange[1] = nRgRow;
  pSel->nRange = nRgRow>0 ? 1 : 0;
  for(i=0; i<nRange && pSel->nRange>0; i++){
    const TsPqRange *r = &aRange[i];
    PqRCol *c;
    PqRChunk *k;
    PqPageLoc *aLoc = 0;
    int nLoc = 0, j, rc = 0, nPg = -1, nKeep = 0;
    unsigned char *aIdx = 0;
    int64_t *aKeep = 0;
    PqTr tr;
    int iLast = 0, id, t;
    unsigned char *aNullPg = 0;
    const unsigned char **aMinZ = 0, **aMaxZ = 0;
    int64_t *aMinN = 0, *aMaxN = 0;
    if( r->iCol<0 || r->iCol>=p->nCol ) continue;
    c = &p->aCol[r->iCol];
    if( c->info.eType==TS_PQ_UNSUPPORTED ) continue;
    k = &p->aRg[iRg].aChunk[c->iLeaf];
    if( k->iOffIdx<0 || k->iColIdx<0 || k->nColIdx<=0 || k->nColIdx>tsPqReaderAllocLimit ) continue;
    if( readOffsetIndex(p, k, nRgRow, &aLoc, &nLoc) ){
      if( p->rc==TS_PQ_NOMEM || p->rc==TS_PQ_IOERR ){ tsPqRowSelFree(pSel); return p->rc; }
      p->rc = 0;   /* a bad index only disables pruning; reading will verify pages */
      continue;
    }
    aIdx = malloc((size_t)k->nColIdx);
    if( !aIdx ){ free(aLoc); tsPqRowSelFree(pSel); return rErr(p, TS_PQ_NOMEM, "out of memory"); }
    if( readAt(p, k->iColIdx, k->nColIdx, aIdx) ){
      free(aLoc); free(aIdx); tsPqRowSelFree(pSel); return p->rc;
    }
    tsPqTrInit(&tr, aIdx, (size_t)k->nColIdx);
    aNullPg = calloc((size_t)nLoc, 1);
    aMinZ = calloc((size_t)nLoc, sizeof(*aMinZ)); aMaxZ = calloc((size_t)nLoc, sizeof(*aMaxZ));
    aMinN = calloc((size_t)nLoc, sizeof(int64_t)); aMaxN = calloc((size_t)nLoc, sizeof(int64_t));
    if( !aNullPg || !aMinZ || !aMaxZ || !aMinN || !aMaxN ) rc = 2;
    while( rc==0 && (t = tsPqTrField(&tr, &iLast, &id))>0 ){
      if( (id==1 || id==2 || id==3) && t==PQ_TT_LIST ){
        int eElem; int64_t n, q;
        if( tsPqTrList(&tr, t, &eElem, &n) || n!=nLoc ){ rc = 1; break; }
        for(q=0; q<n && rc==0; q++){
          if( id==1 ){
            int b;
            if( (eElem!=PQ_TT_TRUE && eElem!=PQ_TT_FALSE) || tsPqTrListElemBool(&tr, &b) ) rc = 1;
            else aNullPg[q] = (unsigned char)b;
          }else if( tsPqTrBin(&tr, eElem, id==2 ? &aMinZ[q] : &aMaxZ[q], id==2 ? &aMinN[q] : &aMaxN[q]) ){
            rc = 1;
          }
        }
        nPg = (int)n;
      }else if( tsPqTrSkip(&tr, t) ) rc = 1;
    }
    if( rc==0 && t<0 ) rc = 1;
    if( rc==0 && nPg==nLoc ){
      aKeep = malloc(sizeof(int64_t)*2*(size_t)(nLoc+1));
      if( !aKeep ) rc = 2;
      for(j=0; rc==0 && j<nLoc; j++){
        TsPqValue mn, mx;
        int bOk = !aNullPg[j] && aMinZ[j] && aMaxZ[j]
               && statValue(c, aMinZ[j], aMinN[j], &mn)==0 && statValue(c, aMaxZ[j], aMaxN[j], &mx)==0;
        int64_t s = aLoc[j].iFirstRow, e = j+1<nLoc ? aLoc[j+1].iFirstRow : nRgRow;
        if( boundsMayMatch(c, r, aNullPg[j], bOk ? &mn : 0, bOk ? &mx : 0) ){
          if( nKeep>0 && aKeep[2*nKeep-1]==s ) aKeep[2*nKeep-1] = e;
          else { aKeep[2*nKeep] = s; aKeep[2*nKeep+1] = e; nKeep++; }
        }
      }
      if( rc==0 ){
        int64_t *aNew; int nNew;
        if( selIntersect(pSel->aRange, pSel->nRange, aKeep, nKeep, &aNew, &nNew) ) rc = 2;
        else { free(pSel->aRange); pSel->aRange = aNew; pSel->nRange = nNew; }
      }
    }
    free(aKeep); free(aNullPg); free(aMinZ); free(aMaxZ); free(aMinN); free(aMaxN);
    free(aLoc); free(aIdx);
    if( rc==2 ){ tsPqRowSelFree(pSel); return rErr(p, TS_PQ_NOMEM, "out of memory"); }
    /* rc==1: corrupt ColumnIndex: ignore it (no pruning from this column) */
  }
  for(i=0; i<pSel->nRange; i++) pSel->nRow += pSel->aRange[2*i+1]-pSel->aRange[2*i];
  return 0;
}

/*------------------------------ page decoding ------------------------------*/

/* Decoding state for one column chunk. */
typedef struct PqDec PqDec;
struct PqDec {
  TsPqReader *p;
  PqRCol *c;
  PqRChunk *k;
  int iRg;
  int ePhys, nWidth;          /* physical type; fixed byte width (0 for BYTE_ARRAY) */
  /* dictionary */
  int bDict;
  int64_t nDict;
  int64_t *aDictI; double *aDictR; int64_t *aDictOff; unsigned char *aDictData;
  /* scratch for one page */
  unsigned char *aBuf; size_t nBuf;    /* decompression */
  /* output */
  const TsPqRowSel *pSel;
  int iSel;                   /* current selection interval */
  int64_t nOutAlloc, nOut;
  TsPqColumnData *pOut;
  TsBuf outData;              /* string bytes */
  int64_t iRow;               /* next row number (in the row group) */
  int bAnyNull;
  int bKeys;                  /* tsPqReaderReadColumnKeys: dictionary indices out */
};

/* Returned inside the reader when keys mode meets a page that is not
** dictionary-encoded: the column is read again the ordinary way. */
#define PQ_KEYS_FALLBACK (-2)

static int decCorrupt(PqDec *d, const char *zWhy){
  return rErr(d->p, TS_PQ_CORRUPT, "parquet: column \"%s\", row group %d, row %lld: %s",
              d->c->info.zName, d->iRg, (long long)d->iRow, zWhy);
}

/* Decoded values of one page (non-null values only). */
typedef struct PqVals PqVals;
struct PqVals {
  int64_t n;
  int64_t *aI; double *aR;
  int64_t *aOff;               /* n+1 */
  const unsigned char *aData;  /* borrowed or aOwn */
  unsigned char *aOwn;
  uint32_t *aIdx;              /* keys mode: n dictionary indices (aOff unused) */
};
static void valsFree(PqVals *v){ free(v->aI); free(v->aR); free(v->aOff); free(v->aOwn); free(v->aIdx); memset(v, 0, sizeof(*v)); }

static int valsAlloc(PqDec *d, PqVals *v, int64_t n){
  int bStr = d->ePhys==PQ_T_BYTE_ARRAY || d->ePhys==PQ_T_FLBA;
  int bDbl = d->ePhys==PQ_T_FLOAT || d->ePhys==PQ_T_DOUBLE;
  if( n*17 > tsPqReaderAllocLimit ) return rErr(d->p, TS_PQ_TOOBIG, "parquet: page of %lld values too large", (long long)n);
  v->n = n;
  if( bStr ) v->aOff = malloc(sizeof(int64_t)*(size_t)(n+1));
  else if( bDbl ) v->aR = malloc(sizeof(double)*(size_t)(n ? n : 1));
  else v->aI = malloc(sizeof(int64_t)*(size_t)(n ? n : 1));
  if( (bStr && !v->aOff) || (bDbl && !v->aR) || (!bStr && !bDbl && !v->aI) ){
    return rErr(d->p, TS_PQ_NOMEM, "out of memory");
  }
  if( bStr ) v->aOff[0] = 0;
  return 0;
}

/* Decode n PLAIN values from a[0..nA). */
static int decodePlain(PqDec *d, const unsigned char *a, size_t nA, int64_t n, PqVals *v){
  int64_t i;
  if( valsAlloc(d, v, n) ) return d->p->rc;
  switch( d->ePhys ){
    case PQ_T_BOOLEAN:
      if( (uint64_t)(n+7)/8 > nA ) return decCorrupt(d, "PLAIN booleans truncated");
      for(i=0; i<n; i++) v->aI[i] = (a[i>>3] >> (i&7)) & 1;
      return 0;
    case PQ_T_INT32:
      if( (uint64_t)n*4 > nA ) return decCorrupt(d, "PLAIN INT32 values truncated");
      for(i=0; i<n; i++){
        uint32_t u = (uint32_t)rdLe(a+4*i, 4);
        v->aI[i] = d->c->bUnsigned ? (int64_t)u : (int64_t)(int32_t)u;
      }
      return 0;
    case PQ_T_INT64:
      if( (uint64_t)n*8 > nA ) return decCorrupt(d, "PLAIN INT64 values truncated");
      for(i=0; i<n; i++) v->aI[i] = rdLe(a+8*i, 8);
      return 0;
    case PQ_T_INT96:
      if( (uint64_t)n*12 > nA ) return decCorrupt(d, "PLAIN INT96 values truncated");
      for(i=0; i<n; i++){
        /* 8 bytes nanoseconds of the day, then the Julian day (2440588 =
        ** 1970-01-01).  Outside int64 ns (Spark's 9999-12-31 "forever") is
        ** an error: a wrapped value would be a wrong date, silently. */
        int64_t nanos = rdLe(a+12*i, 8);
        uint32_t jd = (uint32_t)rdLe(a+12*i+8, 4);
        __int128 x = ((__int128)jd - 2440588)*86400000000000LL + nanos;
        if( x<INT64_MIN || x>INT64_MAX ){
          return rErr(d->p, TS_PQ_ERROR, "parquet: column \"%s\", row group %d: INT96 timestamp "
                      "(Julian day %u) is outside the int64 nanosecond range (1677-09-21 .. 2262-04-11)",
                      d->c->info.zName, d->iRg, jd);
        }
        v->aI[i] = (int64_t)x;
      }
      return 0;
    case PQ_T_FLOAT:
      if( (uint64_t)n*4 > nA ) return decCorrupt(d, "PLAIN FLOAT values truncated");
      for(i=0; i<n; i++){ float f; uint32_t u = (uint32_t)rdLe(a+4*i, 4); memcpy(&f, &u, 4); v->aR[i] = f; }
      return 0;
    case PQ_T_DOUBLE:
      if( (uint64_t)n*8 > nA ) return decCorrupt(d, "PLAIN DOUBLE values truncated");
      memcpy(v->aR, a, (size_t)n*8);
      return 0;
    case PQ_T_BYTE_ARRAY: {
      size_t off = 0;
      /* copy into one contiguous buffer without length prefixes */
      v->aOwn = malloc(nA ? nA : 1);
      if( !v->aOwn ) return rErr(d->p, TS_PQ_NOMEM, "out of memory");
      v->aData = v->aOwn;
      for(i=0; i<n; i++){
        uint32_t len;
        if( 4 > nA-off ) return decCorrupt(d, "PLAIN BYTE_ARRAY length truncated");
        len = (uint32_t)rdLe(a+off, 4);
        off += 4;
        if( len > nA-off ) return decCorrupt(d, "PLAIN BYTE_ARRAY value truncated");
        memcpy(v->aOwn+v->aOff[i], a+off, len);
        v->aOff[i+1] = v->aOff[i]+len;
        off += len;
      }
      return 0;
    }
    case PQ_T_FLBA: {
      uint64_t w = (uint64_t)d->nWidth;
      if( w==0 || (uint64_t)n*w > nA ) return decCorrupt(d, "PLAIN FIXED_LEN_BYTE_ARRAY values truncated");
      v->aData = a;
      for(i=0; i<n; i++) v->aOff[i+1] = (int64_t)((uint64_t)(i+1)*w);
      return 0;
    }
  }
  return decCorrupt(d, "unsupported physical type");
}

/* The DELTA_BINARY_PACKED integers that open DELTA_LENGTH_BYTE_ARRAY (the
** lengths) and DELTA_BYTE_ARRAY (the prefix lengths) data: at least n of them.
** *paOut (malloc'd, caller frees) gets them all, *pnTotal their count and
** *pnUsed the bytes they took.  zEnc and zWhat name them in messages. */
static int decodeDeltaCounts(PqDec *d, const unsigned char *a, size_t nA, int64_t n,
                             const char *zEnc, const char *zWhat,
                             int64_t **paOut, uint64_t *pnTotal, size_t *pnUsed){
  TsRd rd;
  uint64_t b, m, nTotal;
  int64_t *aOut;
  char zWhy[80];
  *paOut = 0;
  tsRdInit(&rd, a, nA);
  if( tsRdVarint(&rd, &b) || tsRdVarint(&rd, &m) || tsRdVarint(&rd, &nTotal) || (int64_t)nTotal<n
   || nTotal>(uint64_t)tsPqReaderAllocLimit/8 ){
    snprintf(zWhy, sizeof(zWhy), "bad %s header", zEnc);
    return decCorrupt(d, zWhy);
  }
  aOut = malloc(sizeof(int64_t)*(size_t)(nTotal ? nTotal : 1));
  if( !aOut ) return rErr(d->p, TS_PQ_NOMEM, "out of memory");
  if( tsPqDeltaDecode(a, nA, aOut, (int64_t)nTotal, 1, pnUsed) ){
    free(aOut);
    snprintf(zWhy, sizeof(zWhy), "bad %s %s", zEnc, zWhat);
    return decCorrupt(d, zWhy);
  }
  *paOut = aOut;
  *pnTotal = nTotal;
  return 0;
}

/* DELTA_LENGTH_BYTE_ARRAY: lengths (delta) then concatenated bytes. */
static int decodeDeltaLength(PqDec *d, const unsigned char *a, size_t nA, int64_t n, PqVals *v,
                             size_t *pnUsed){
  int64_t *aLen = 0, i;
  size_t nUsed = 0, off;
  uint64_t nTotal = 0;
  if( valsAlloc(d, v, n) ) return d->p->rc;
  if( decodeDeltaCounts(d, a, nA, n, "DELTA_LENGTH_BYTE_ARRAY", "lengths", &aLen, &nTotal, &nUsed) ){
    return d->p->rc;
  }
  off = nUsed;
  for(i=0; i<n; i++){
    if( aLen[i]<0 || (uint64_t)aLen[i] > nA-off ){ free(aLen); return decCorrupt(d, "DELTA_LENGTH_BYTE_ARRAY data truncated"); }
    v->aOff[i+1] = v->aOff[i]+aLen[i];
    off += (size_t)aLen[i];
  }
  for(i=n; i<(int64_t)nTotal; i++){
    if( aLen[i]<0 || (uint64_t)aLen[i] > nA-off ){ free(aLen); return decCorrupt(d, "DELTA_LENGTH_BYTE_ARRAY data truncated"); }
    off += (size_t)aLen[i];
  }
  v->aData = a+nUsed;
  free(aLen);
  if( pnUsed ) *pnUsed = off;
  return 0;
}

static int decodeDeltaByteArray(PqDec *d, const unsigned char *a, size_t nA, int64_t n, PqVals *v){
  int64_t *aPre = 0, i;
  size_t nUsed = 0;
  uint64_t nTotal = 0;
  PqVals suf;
  TsBuf out;
  memset(&suf, 0, sizeof(suf));
  if( decodeDeltaCounts(d, a, nA, n, "DELTA_BYTE_ARRAY", "prefix lengths", &aPre, &nTotal, &nUsed) ){
    return d->p->rc;
  }
  if( decodeDeltaLength(d, a+nUsed, nA-nUsed, n, &suf, 0) ){ free(aPre); valsFree(&suf); return d->p->rc; }
  if( valsAlloc(d, v, n) ){ free(aPre); valsFree(&suf); return d->p->rc; }
  tsBufInit(&out);
  out.nMax = (size_t)tsPqReaderAllocLimit;
  for(i=0; i<n; i++){
    int64_t nPrev = i>0 ? v->aOff[i]-v->aOff[i-1] : 0;
    if( aPre[i]<0 || aPre[i]>nPrev ){ tsBufFree(&out); free(aPre); valsFree(&suf); return decCorrupt(d, "bad DELTA_BYTE_ARRAY prefix"); }
    if( aPre[i] && tsBufReserve(&out, (size_t)aPre[i])==0 ){
      memmove(out.a+out.n, out.a+v->aOff[i-1], (size_t)aPre[i]);
      out.n += (size_t)aPre[i];
    }
    tsBufAppend(&out, suf.aData+suf.aOff[i], (size_t)(suf.aOff[i+1]-suf.aOff[i]));
    v->aOff[i+1] = (int64_t)out.n;
    if( out.bErr ){ tsBufFree(&out); free(aPre); valsFree(&suf); return rErr(d->p, TS_PQ_TOOBIG, "parquet: DELTA_BYTE_ARRAY page too large"); }
  }
  v->aOwn = tsBufDetach(&out, 0);
  v->aData = v->aOwn;
  free(aPre);
  valsFree(&suf);
  return 0;
}

static int decodeValues(PqDec *d, int eEnc, const unsigned char *a, size_t nA, int64_t n, PqVals *v){
  int64_t i;
  if( d->bKeys && eEnc!=PQ_E_PLAIN_DICTIONARY && eEnc!=PQ_E_RLE_DICTIONARY ) return PQ_KEYS_FALLBACK;
  switch( eEnc ){
    case PQ_E_PLAIN:
      return decodePlain(d, a, nA, n, v);
    case PQ_E_PLAIN_DICTIONARY: case PQ_E_RLE_DICTIONARY: {
      uint32_t *aIdx;
      int w;
      if( !d->bDict ) return decCorrupt(d, "dictionary-encoded page without a dictionary page");
      if( valsAlloc(d, v, n) ) return d->p->rc;
      if( n==0 ) return 0;
      if( nA<1 || a[0]>32 ) return decCorrupt(d, "bad dictionary index bit width");
      w = a[0];
      aIdx = malloc(sizeof(uint32_t)*(size_t)n);
      if( !aIdx ) return rErr(d->p, TS_PQ_NOMEM, "out of memory");
      if( tsPqRleDecode(a+1, nA-1, w, aIdx, n) ){ free(aIdx); return decCorrupt(d, "bad dictionary indices"); }
      if( d->bKeys ){
        for(i=0; i<n; i++){
          if( aIdx[i]>=d->nDict ){ free(aIdx); return decCorrupt(d, "dictionary index out of range"); }
        }
        v->aIdx = aIdx;
        return 0;
      }
      if( d->ePhys==PQ_T_BYTE_ARRAY || d->ePhys==PQ_T_FLBA ){
        int64_t nBytes = 0;
        for(i=0; i<n; i++){
          if( aIdx[i]>=d->nDict ){ free(aIdx); return decCorrupt(d, "dictionary index out of range"); }
          nBytes += d->aDictOff[aIdx[i]+1]-d->aDictOff[aIdx[i]];
          if( nBytes>tsPqReaderAllocLimit ){ free(aIdx); return rErr(d->p, TS_PQ_TOOBIG, "parquet: page of strings too large"); }
        }
        v->aOwn = malloc((size_t)(nBytes ? nBytes : 1));
        if( !v->aOwn ){ free(aIdx); return rErr(d->p, TS_PQ_NOMEM, "out of memory"); }
        v->aData = v->aOwn;
        for(i=0; i<n; i++){
          int64_t s = d->aDictOff[aIdx[i]], e = d->aDictOff[aIdx[i]+1];
          memcpy(v->aOwn+v->aOff[i], d->aDictData+s, (size_t)(e-s));
          v->aOff[i+1] = v->aOff[i]+(e-s);
        }
      }else{
        for(i=0; i<n; i++){
          if( aIdx[i]>=d->nDict ){ free(aIdx); return decCorrupt(d, "dictionary index out of range"); }
          if( v->aR ) v->aR[i] = d->aDictR[aIdx[i]];
          else v->aI[i] = d->aDictI[aIdx[i]];
        }
      }
      free(aIdx);
      return 0;
    }
    case PQ_E_DELTA_BINARY_PACKED:
      if( d->ePhys!=PQ_T_INT32 && d->ePhys!=PQ_T_INT64 ) return decCorrupt(d, "DELTA_BINARY_PACKED on a non-integer column");
      if( valsAlloc(d, v, n) ) return d->p->rc;
      if( n==0 ) return 0;
      if( tsPqDeltaDecode(a, nA, v->aI, n, d->ePhys==PQ_T_INT32, 0) ) return decCorrupt(d, "bad DELTA_BINARY_PACKED data");
      if( d->ePhys==PQ_T_INT32 && d->c->bUnsigned ) for(i=0; i<n; i++) v->aI[i] = (int64_t)(uint32_t)v->aI[i];
      return 0;
    case PQ_E_DELTA_LENGTH_BYTE_ARRAY:
      if( d->ePhys!=PQ_T_BYTE_ARRAY ) return decCorrupt(d, "DELTA_LENGTH_BYTE_ARRAY on a non-BYTE_ARRAY column");
      return decodeDeltaLength(d, a, nA, n, v, 0);
    case PQ_E_DELTA_BYTE_ARRAY:
      if( d->ePhys!=PQ_T_BYTE_ARRAY && d->ePhys!=PQ_T_FLBA ) return decCorrupt(d, "DELTA_BYTE_ARRAY on a non-byte-array column");
      return decodeDeltaByteArray(d, a, nA, n, v);
    case PQ_E_BYTE_STREAM_SPLIT: {
      int k = d->ePhys==PQ_T_INT32 || d->ePhys==PQ_T_FLOAT ? 4 : d->ePhys==PQ_T_FLBA ? d->nWidth : 8;
      unsigned char *t;
      if( d->ePhys==PQ_T_BOOLEAN || d->ePhys==PQ_T_BYTE_ARRAY || d->ePhys==PQ_T_INT96 || k<=0 ){
        return decCorrupt(d, "BYTE_STREAM_SPLIT on an unsupported type");
      }
      if( (uint64_t)n*(uint64_t)k > nA ) return decCorrupt(d, "BYTE_STREAM_SPLIT data truncated");
      if( d->ePhys==PQ_T_DOUBLE ){
        /* straight into the values (little-endian, as PLAIN DOUBLE above) */
        if( valsAlloc(d, v, n) ) return d->p->rc;
        if( n==0 ) return 0;
        if( tsPqBssDecode(a, nA, n, 8, (unsigned char*)v->aR) ) return decCorrupt(d, "bad BYTE_STREAM_SPLIT data");
        return 0;
      }
      t = malloc((size_t)n*(size_t)k+1);
      if( !t ) return rErr(d->p, TS_PQ_NOMEM, "out of memory");
      if( tsPqBssDecode(a, nA, n, k, t) ){ free(t); return decCorrupt(d, "bad BYTE_STREAM_SPLIT data"); }
      i = decodePlain(d, t, (size_t)n*(size_t)k, n, v);
      if( d->ePhys==PQ_T_FLBA && i==0 ){ v->aOwn = t; v->aData = t; }
      else free(t);
      return (int)i;
    }
    case PQ_E_RLE: {
      uint32_t *aB;
      uint32_t nLen;
      if( d->ePhys!=PQ_T_BOOLEAN ) return decCorrupt(d, "RLE values on a non-boolean column");
      if( valsAlloc(d, v, n) ) return d->p->rc;
      if( n==0 ) return 0;
      if( nA<4 ) return decCorrupt(d, "RLE booleans truncated");
      nLen = (uint32_t)rdLe(a, 4);
      if( nLen > nA-4 ) return decCorrupt(d, "RLE booleans truncated");
      aB = malloc(sizeof(uint32_t)*(size_t)n);
      if( !aB ) return rErr(d->p, TS_PQ_NOMEM, "out of memory");
      if( tsPqRleDecode(a+4, nLen, 1, aB, n) ){ free(aB); return decCorrupt(d, "bad RLE booleans"); }
      for(i=0; i<n; i++) v->aI[i] = aB[i];
      free(aB);
      return 0;
    }
  }
  {
    char z[64];
    snprintf(z, sizeof(z), "unsupported encoding %d", eEnc);
    return rErr(d->p, TS_PQ_ERROR, "parquet: column \"%s\", row group %d: %s", d->c->info.zName, d->iRg, z);
  }
}

static int outReserve(PqDec *d){
  /* output sized once: number of rows to deliver */
  TsPqColumnData *o = d->pOut;
  int64_t n = d->nOutAlloc;
  int bStr = d->ePhys==PQ_T_BYTE_ARRAY || d->ePhys==PQ_T_FLBA;
  int bDbl = d->c->info.eType==TS_PQ_DOUBLE || d->c->info.eType==TS_PQ_FLOAT;
  if( n*17 > tsPqReaderAllocLimit ) return rErr(d->p, TS_PQ_TOOBIG, "parquet: %lld rows too many to read at once", (long long)n);
  tsBufInit(&d->outData);
  d->outData.nMax = (size_t)tsPqReaderAllocLimit;
  o->aNull = calloc((size_t)(n ? n : 1), 1);
  if( d->bKeys ){
    /* keys mode: one dictionary index per row; the dictionary is moved to
    ** aOff/aData at the end (readColumn) */
    o->aIdx = calloc((size_t)(n ? n : 1), sizeof(uint32_t));
    if( !o->aNull || !o->aIdx ) return rErr(d->p, TS_PQ_NOMEM, "out of memory");
    return 0;
  }
  if( bStr ) o->aOff = calloc((size_t)(n+1), sizeof(int64_t));
  else if( bDbl ) o->aDbl = calloc((size_t)(n ? n : 1), sizeof(double));
  else o->aInt = calloc((size_t)(n ? n : 1), sizeof(int64_t));
  if( !o->aNull || (bStr && !o->aOff) || (bDbl && !o->aDbl) || (!bStr && !bDbl && !o->aInt) ){
    return rErr(d->p, TS_PQ_NOMEM, "out of memory");
  }
  return 0;
}

/* Emit rows [iRow, iRow+nRow) of a page: aDef (NULL = all present) and the
** non-null values v; only rows in the selection are kept.  The page is
** walked in spans (kept or skipped as a whole), so the selection is looked
** up once per span, not once per row, and a span of a column without
** nulls is copied in one go. */
static int emitRows(PqDec *d, const uint32_t *aDef, int64_t nRow, PqVals *v){
  TsPqColumnData *o = d->pOut;
  int64_t r = 0, iv = 0;
  const TsPqRowSel *s = d->pSel;
  int bDec = d->c->bDecimal;
  double rScale = bDec ? decScale(d->c->iScale) : 1;
  while( r<nRow ){
    int64_t row = d->iRow + r, nSpan = nRow - r, j;
    int bKeep = 1;
    if( s ){
      while( d->iSel<s->nRange && s->aRange[2*d->iSel+1]<=row ) d->iSel++;
      if( d->iSel>=s->nRange ){
        bKeep = 0;
      }else if( s->aRange[2*d->iSel]>row ){
        bKeep = 0;
        if( s->aRange[2*d->iSel]-row<nSpan ) nSpan = s->aRange[2*d->iSel]-row;
      }else if( s->aRange[2*d->iSel+1]-row<nSpan ){
        nSpan = s->aRange[2*d->iSel+1]-row;
      }
    }
    if( !bKeep ){
      if( aDef ){ for(j=r; j<r+nSpan; j++) iv += aDef[j]!=0; }
      else iv += nSpan;
      if( iv>v->n ) return decCorrupt(d, "fewer values than definition levels");
      r += nSpan;
      continue;
    }
    if( d->nOut+nSpan>d->nOutAlloc ) return decCorrupt(d, "more rows than the row group declares");
    if( !aDef && !bDec && !o->aOff ){
      int64_t k = d->nOut;
      if( iv+nSpan>v->n ) return decCorrupt(d, "fewer values than definition levels");
      if( o->aIdx ) memcpy(o->aIdx+k, v->aIdx+iv, sizeof(uint32_t)*(size_t)nSpan);
      else if( o->aDbl ) memcpy(o->aDbl+k, v->aR+iv, sizeof(double)*(size_t)nSpan);
      else memcpy(o->aInt+k, v->aI+iv, sizeof(int64_t)*(size_t)nSpan);
      d->nOut += nSpan;
      iv += nSpan;
      r += nSpan;
      continue;
    }
    for(j=r; j<r+nSpan; j++){
      int64_t k = d->nOut;
      int bNull = aDef ? aDef[j]==0 : 0;
      if( !bNull && iv>=v->n ) return decCorrupt(d, "fewer values than definition levels");
      if( bNull ){
        o->aNull[k] = 1;
        d->bAnyNull = 1;
        if( o->aOff ) o->aOff[k+1] = o->aOff[k];
      }else if( o->aIdx ){
        o->aIdx[k] = v->aIdx[iv];
      }else if( o->aOff ){
        tsBufAppend(&d->outData, v->aData+v->aOff[iv], (size_t)(v->aOff[iv+1]-v->aOff[iv]));
        if( d->outData.bErr ) return rErr(d->p, TS_PQ_TOOBIG, "parquet: column \"%s\" string data too large", d->c->info.zName);
        o->aOff[k+1] = (int64_t)d->outData.n;
      }else if( o->aDbl ){
        o->aDbl[k] = bDec ? (double)v->aI[iv]/rScale : v->aR[iv];
      }else{
        o->aInt[k] = v->aI[iv];
      }
      d->nOut++;
      if( !bNull ) iv++;
    }
    r += nSpan;
  }
  d->iRow += nRow;
  return 0;
}

/* Decode the dictionary page body (uncompressed). */
static int loadDict(PqDec *d, const unsigned char *a, size_t nA, int64_t n){
  PqVals v;
  memset(&v, 0, sizeof(v));
  if( d->bDict ) return decCorrupt(d, "second dictionary page");
  if( n<0 ) return decCorrupt(d, "bad dictionary size");
  if( decodePlain(d, a, nA, n, &v) ){ valsFree(&v); return d->p->rc; }
  d->bDict = 1;
  d->nDict = n;
  d->aDictI = v.aI; d->aDictR = v.aR; d->aDictOff = v.aOff;
  if( v.aOwn ){ d->aDictData = v.aOwn; }
  else if( v.aOff ){
    /* FLBA: data borrowed from the page buffer: copy it */
    d->aDictData = malloc((size_t)(v.aOff[n] ? v.aOff[n] : 1));
    if( !d->aDictData ){ free(v.aOff); d->aDictOff = 0; return rErr(d->p, TS_PQ_NOMEM, "out of memory"); }
    memcpy(d->aDictData, v.aData, (size_t)v.aOff[n]);
  }
  return 0;
}

static int ensureBuf(PqDec *d, size_t n){
  if( (int64_t)n > tsPqReaderAllocLimit ) return rErr(d->p, TS_PQ_TOOBIG, "parquet: page of %zu bytes too large", n);
  if( n+1 > d->nBuf ){
    unsigned char *aNew = realloc(d->aBuf, n+1);
    if( !aNew ) return rErr(d->p, TS_PQ_NOMEM, "out of memory");
    d->aBuf = aNew; d->nBuf = n+1;
  }
  return 0;
}

static int codecErr(PqDec *d){
  static const char *az[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
  int e = d->k->eCodec;
  char zNum[16];
  snprintf(zNum, sizeof(zNum), "%d", e);
  return rErr(d->p, TS_PQ_ERROR, "parquet: column \"%s\": compression codec %s is not supported "
              "(supported: UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW)", d->c->info.zName,
              e>=0 && e<8 ? az[e] : zNum);
}

typedef struct PqPageHdr PqPageHdr;
struct PqPageHdr {
  int eType;
  int32_t nUncomp, nComp;
  int32_t nValue, eEnc, eDefEnc;      /* v1 / dict */
  int32_t nNull, nRow, nDefLen, nRepLen;  /* v2 */
  int bCompressed;
  int bHaveSub;
  int bHaveCrc;                       /* PageHeader.crc present */
  uint32_t crc;
};

static int parsePageHeader(PqTr *tr, PqPageHdr *h){
  int iLast = 0, id, t;
  memset(h, 0, sizeof(*h));
  h->eType = -1; h->bCompressed = 1; h->nUncomp = -1; h->nComp = -1;
  while( (t = tsPqTrField(tr, &iLast, &id))>0 ){
    int32_t v;
    if( id==1 ){ if( tsPqTrI32(tr, t, &v) ) return 1; h->eType = v; }
    else if( id==2 ){ if( tsPqTrI32(tr, t, &h->nUncomp) ) return 1; }
    else if( id==3 ){ if( tsPqTrI32(tr, t, &h->nComp) ) return 1; }
    else if( id==4 && t!=PQ_TT_STRUCT ){
      if( tsPqTrI32(tr, t, &v) ) return 1;
      h->crc = (uint32_t)v; h->bHaveCrc = 1;
    }
    else if( (id==5 || id==7 || id==8) && t==PQ_TT_STRUCT ){
      int l2 = 0, id2, t2;
      h->bHaveSub = 1;
      while( (t2 = tsPqTrField(tr, &l2, &id2))>0 ){
        int32_t *pv = 0;
        if( id==5 ){        /* DataPageHeader */
          pv = id2==1 ? &h->nValue : id2==2 ? &h->eEnc : id2==3 ? &h->eDefEnc : 0;
        }else if( id==7 ){  /* DictionaryPageHeader */
          pv = id2==1 ? &h->nValue : id2==2 ? &h->eEnc : 0;
        }else{              /* DataPageHeaderV2 */
          pv = id2==1 ? &h->nValue : id2==2 ? &h->nNull : id2==3 ? &h->nRow : id2==4 ? &h->eEnc
             : id2==5 ? &h->nDefLen : id2==6 ? &h->nRepLen : 0;
          if( id2==7 ){ if( tsPqTrBool(tr, t2, &h->bCompressed) ) return 1; continue; }
        }
        if( pv ){ if( tsPqTrI32(tr, t2, pv) ) return 1; }
        else if( tsPqTrSkip(tr, t2) ) return 1;
      }
      if( t2<0 ) return 1;
    }else if( tsPqTrSkip(tr, t) ) return 1;
  }
  if( t<0 || h->nUncomp<0 || h->nComp<0 ) return 1;
  return 0;
}

/* Decode the page starting at a[0..nA).  *pnUsed = bytes of the page.
** bSkipData: only dictionary pages are decoded (used when locating). */
static int decodePage(PqDec *d, const unsigned char *a, size_t nA, size_t *pnUsed){
  PqTr tr;
  PqPageHdr h;
  size_t nHdr;
  const unsigned char *body;
  int rc = 0;
  int bNullable = d->c->info.bNullable;
  tsPqTrInit(&tr, a, nA);
  if( parsePageHeader(&tr, &h) || tr.rd.bErr ) return decCorrupt(d, "bad page header");
  nHdr = tr.rd.i;
  if( (size_t)h.nComp > nA-nHdr ) return decCorrupt(d, "page extends past its column chunk");
  body = a+nHdr;
  *pnUsed = nHdr + (size_t)h.nComp;
  if( h.bHaveCrc && tsPqReaderVerifyCrc && (h.eType==PQ_PAGE_DICT || h.eType==PQ_PAGE_DATA || h.eType==PQ_PAGE_DATA_V2) ){
    /* The CRC covers the page bytes after the header (levels + values). */
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, h.nComp ? body : (const unsigned char*)"", (uInt)h.nComp);
    if( (uint32_t)crc!=h.crc ){
      char zWhy[160];
      snprintf(zWhy, sizeof(zWhy), "%s page fails its CRC check (stored %08x, computed %08x): "
               "the file is damaged", h.eType==PQ_PAGE_DICT ? "dictionary" : "data",
               (unsigned)h.crc, (unsigned)crc);
      return decCorrupt(d, zWhy);
    }
  }
  if( h.eType==PQ_PAGE_DICT ){
    if( !h.bHaveSub ) return decCorrupt(d, "dictionary page without header");
    if( ensureBuf(d, (size_t)h.nUncomp) ) return d->p->rc;
    rc = tsPqDecompress(d->k->eCodec, body, (size_t)h.nComp, d->aBuf, (size_t)h.nUncomp);
    if( rc==TS_PQ_ERROR ) return codecErr(d);
    if( rc ) return decCorrupt(d, "dictionary page does not decompress");
    if( h.nValue<0 || (int64_t)h.nValue > (int64_t)h.nUncomp*8+8 ) return decCorrupt(d, "bad dictionary size");
    return loadDict(d, d->aBuf, (size_t)h.nUncomp, h.nValue);
  }
  if( h.eType==PQ_PAGE_DATA || h.eType==PQ_PAGE_DATA_V2 ){
    const unsigned char *aLev = 0, *aVal;
    size_t nLev = 0, nVal;
    int64_t nRow = h.nValue, nNonNull, i;
    uint32_t *aDef = 0;
    PqVals v;
    if( !h.bHaveSub ) return decCorrupt(d, "data page without header");
    if( nRow<0 || nRow > d->k->nValue ) return decCorrupt(d, "bad page value count");
    if( h.eType==PQ_PAGE_DATA_V2 ){
      if( h.nRepLen!=0 ) return decCorrupt(d, "repetition levels in a flat column");
      if( h.nDefLen<0 || h.nDefLen>h.nComp || h.nDefLen>h.nUncomp ) return decCorrupt(d, "bad definition levels length");
      aLev = body; nLev = (size_t)h.nDefLen;
      nVal = (size_t)(h.nUncomp - h.nDefLen);
      if( h.bCompressed && d->k->eCodec!=TS_PQ_CODEC_NONE ){
        if( ensureBuf(d, nVal) ) return d->p->rc;
        rc = tsPqDecompress(d->k->eCodec, body+nLev, (size_t)h.nComp-nLev, d->aBuf, nVal);
        if( rc==TS_PQ_ERROR ) return codecErr(d);
        if( rc ) return decCorrupt(d, "data page does not decompress");
        aVal = d->aBuf;
      }else{
        if( h.nComp!=h.nUncomp ) return decCorrupt(d, "uncompressed page size mismatch");
        aVal = body+nLev;
      }
    }else{
      size_t off = 0;
      if( ensureBuf(d, (size_t)h.nUncomp) ) return d->p->rc;
      rc = tsPqDecompress(d->k->eCodec, body, (size_t)h.nComp, d->aBuf, (size_t)h.nUncomp);
      if( rc==TS_PQ_ERROR ) return codecErr(d);
      if( rc ) return decCorrupt(d, "data page does not decompress");
      if( bNullable ){
        uint32_t n;
        if( h.eDefEnc!=PQ_E_RLE ) return rErr(d->p, TS_PQ_ERROR, "parquet: column \"%s\": definition level encoding %d not supported", d->c->info.zName, h.eDefEnc);
        if( h.nUncomp<4 ) return decCorrupt(d, "definition levels truncated");
        n = (uint32_t)rdLe(d->aBuf, 4);
        if( n > (uint32_t)h.nUncomp-4 ) return decCorrupt(d, "definition levels truncated");
        aLev = d->aBuf+4; nLev = n;
        off = 4+(size_t)n;
      }
      aVal = d->aBuf+off;
      nVal = (size_t)h.nUncomp-off;
    }
    if( (int64_t)nRow*4 > tsPqReaderAllocLimit ) return rErr(d->p, TS_PQ_TOOBIG, "parquet: page of %lld values too large", (long long)nRow);
    nNonNull = nRow;
    if( bNullable ){
      aDef = malloc(sizeof(uint32_t)*(size_t)(nRow ? nRow : 1));
      if( !aDef ) return rErr(d->p, TS_PQ_NOMEM, "out of memory");
      if( nRow>0 && tsPqRleDecode(aLev, nLev, 1, aDef, nRow) ){ free(aDef); return decCorrupt(d, "bad definition levels"); }
      nNonNull = 0;
      for(i=0; i<nRow; i++) nNonNull += aDef[i];
    }
    memset(&v, 0, sizeof(v));
    rc = decodeValues(d, h.eEnc, aVal, nVal, nNonNull, &v);
    if( rc==0 ) rc = emitRows(d, aDef, nRow, &v);
    valsFree(&v);
    free(aDef);
    return rc;
  }
  /* index pages and unknown page types are skipped */
  return 0;
}

static void decFree(PqDec *d){
  free(d->aDictI); free(d->aDictR); free(d->aDictOff); free(d->aDictData);
  free(d->aBuf);
  tsBufFree(&d->outData);
}

static int readColumn(TsPqReader *p, int iRg, int iCol, const TsPqRowSel *pSel,
                      TsPqColumnData *pOut, int bKeys){
  PqDec d;
  PqRChunk *k;
  PqRCol *c;
  int64_t iStart, nRgRow;
  int rc = 0;
  unsigned char *aChunk = 0;
  PqPageLoc *aLoc = 0;
  int nLoc = 0;
  memset(pOut, 0, sizeof(*pOut));
  if( iRg<0 || iRg>=p->nRg || iCol<0 || iCol>=p->nCol ){
    return rErr(p, TS_PQ_MISUSE, "parquet: row group %d / column %d out of range", iRg, iCol);
  }
  c = &p->aCol[iCol];
  if( c->info.eType==TS_PQ_UNSUPPORTED ){
    return rErr(p, TS_PQ_ERROR, "parquet: column \"%s\" has an unsupported type (nested, INT96 or similar)",
                c->info.zName);
  }
  k = &p->aRg[iRg].aChunk[c->iLeaf];
  nRgRow = p->aRg[iRg].nRow;
  if( k->bExternal ) return rErr(p, TS_PQ_ERROR, "parquet: column \"%s\" is stored in another file", c->info.zName);
  if( k->nValue!=nRgRow ){
    return rErr(p, TS_PQ_CORRUPT, "parquet: column \"%s\", row group %d: %lld values but %lld rows",
                c->info.zName, iRg, (long long)k->nValue, (long long)nRgRow);
  }
  memset(&d, 0, sizeof(d));
  d.p = p; d.c = c; d.k = k; d.iRg = iRg;
  d.ePhys = c->info.ePhysical;
  d.nWidth = c->nTypeLen;
  d.pSel = pSel;
  d.pOut = pOut;
  d.bKeys = bKeys;
  d.nOutAlloc = pSel ? pSel->nRow : nRgRow;
  if( pSel ){
    int i;
    int64_t prev = 0, nSel = 0;
    for(i=0; i<pSel->nRange; i++){
      if( pSel->aRange[2*i]<prev || pSel->aRange[2*i+1]<pSel->aRange[2*i] || pSel->aRange[2*i+1]>nRgRow ){
        return rErr(p, TS_PQ_MISUSE, "parquet: invalid row selection");
      }
      prev = pSel->aRange[2*i+1];
      nSel += pSel->aRange[2*i+1]-pSel->aRange[2*i];
    }
    if( nSel!=pSel->nRow ) return rErr(p, TS_PQ_MISUSE, "parquet: invalid row selection");
  }
  rc = outReserve(&d);
  iStart = k->iDataOff;
  if( k->iDictOff>0 && k->iDictOff<k->iDataOff ) iStart = k->iDictOff;
  if( rc==0 && (iStart<4 || k->nComp<0 || iStart>p->nFile-8 || k->nComp>p->nFile-8-iStart) ){
    rc = rErr(p, TS_PQ_CORRUPT, "parquet: column \"%s\", row group %d: chunk range %lld+%lld outside the file",
              c->info.zName, iRg, (long long)iStart, (long long)k->nComp);
  }
  if( rc==0 && pSel && pSel->nRow==0 ){
    /* nothing to read */
  }else if( rc==0 && pSel && pSel->nRow<nRgRow && k->iOffIdx>=0
         && readOffsetIndex(p, k, nRgRow, &aLoc, &nLoc)==0 ){
    /* Fetch the dictionary page (the bytes before the first data page) and
    ** only the data pages overlapping the selection.  Byte-adjacent pieces
    ** are fetched with one read, so an object store sees as few range
    ** requests as possible. */
    typedef struct Seg { int64_t iOff, n, iRow, iEndRow; int bDict; } Seg;
    Seg *aSeg = malloc(sizeof(Seg)*(size_t)(nLoc+1));
    int nSeg = 0, j, a, b;
    int64_t iEnd = iStart + k->nComp;
    if( !aSeg ) rc = rErr(p, TS_PQ_NOMEM, "out of memory");
    if( rc==0 && aLoc[0].iOff>iStart ){
      if( aLoc[0].iOff>iEnd ){
        rc = decCorrupt(&d, "OffsetIndex disagrees with the chunk");
      }else{
        aSeg[0].iOff = iStart; aSeg[0].n = aLoc[0].iOff-iStart; aSeg[0].bDict = 1;
        aSeg[0].iRow = aSeg[0].iEndRow = 0;
        nSeg = 1;
      }
    }
    for(j=0; rc==0 && j<nLoc; j++){
      int64_t s0 = aLoc[j].iFirstRow, e0 = j+1<nLoc ? aLoc[j+1].iFirstRow : nRgRow;
      int bNeed = 0, q;
      for(q=0; q<pSel->nRange; q++){
        if( pSel->aRange[2*q]<e0 && pSel->aRange[2*q+1]>s0 ){ bNeed = 1; break; }
      }
      if( !bNeed ) continue;
      if( aLoc[j].iOff<iStart || aLoc[j].iOff+aLoc[j].nSize>iEnd ){
        rc = decCorrupt(&d, "OffsetIndex page outside the chunk");
        break;
      }
      aSeg[nSeg].iOff = aLoc[j].iOff; aSeg[nSeg].n = aLoc[j].nSize; aSeg[nSeg].bDict = 0;
      aSeg[nSeg].iRow = s0; aSeg[nSeg].iEndRow = e0;
      nSeg++;
    }
    for(a=0; rc==0 && a<nSeg; a=b){
      int64_t nRun;
      for(b=a+1; b<nSeg && aSeg[b].iOff==aSeg[b-1].iOff+aSeg[b-1].n; b++){}
      nRun = aSeg[b-1].iOff+aSeg[b-1].n-aSeg[a].iOff;
      if( nRun>tsPqReaderAllocLimit ){ rc = rErr(p, TS_PQ_TOOBIG, "parquet: %lld pages bytes too large", (long long)nRun); break; }
      aChunk = malloc((size_t)(nRun ? nRun : 1));
      if( !aChunk ){ rc = rErr(p, TS_PQ_NOMEM, "out of memory"); break; }
      rc = readAt(p, aSeg[a].iOff, nRun, aChunk);
      for(j=a; rc==0 && j<b; j++){
        const unsigned char *z = aChunk + (aSeg[j].iOff-aSeg[a].iOff);
        size_t used = 0, at = 0;
        if( aSeg[j].bDict ){
          while( rc==0 && at<(size_t)aSeg[j].n ){
            rc = decodePage(&d, z+at, (size_t)aSeg[j].n-at, &used);
            at += used;
          }
        }else{
          d.iRow = aSeg[j].iRow;
          rc = decodePage(&d, z, (size_t)aSeg[j].n, &used);
          if( rc==0 && d.iRow!=aSeg[j].iEndRow ){
            rc = decCorrupt(&d, "page row count disagrees with the OffsetIndex");
          }
        }
      }
      free(aChunk); aChunk = 0;
    }
    free(aSeg);
  }else if( rc==0 ){
    if( p->rc==TS_PQ_NOMEM || p->rc==TS_PQ_IOERR ) rc = p->rc;
    if( rc==0 && k->nComp>tsPqReaderAllocLimit ) rc = rErr(p, TS_PQ_TOOBIG, "parquet: column chunk of %lld bytes too large", (long long)k->nComp);
    if( rc==0 ){
      aChunk = malloc((size_t)(k->nComp ? k->nComp : 1));
      if( !aChunk ) rc = rErr(p, TS_PQ_NOMEM, "out of memory");
    }
    if( rc==0 ) rc = readAt(p, iStart, k->nComp, aChunk);
    if( rc==0 ){
      size_t at = 0, used = 0;
      while( rc==0 && d.iRow<nRgRow ){
        if( at>=(size_t)k->nComp ){ rc = decCorrupt(&d, "column chunk ends before all rows"); break; }
        rc = decodePage(&d, aChunk+at, (size_t)k->nComp-at, &used);
        at += used;
      }
    }
    free(aChunk); aChunk = 0;
  }
  free(aLoc);
  if( rc==0 && d.nOut!=d.nOutAlloc ){
    rc = decCorrupt(&d, "column chunk has fewer rows than selected");
  }
  if( rc==0 ){
    pOut->nRow = d.nOut;
    if( pOut->aOff ){
      pOut->aData = tsBufDetach(&d.outData, 0);
      if( !pOut->aData ) pOut->aData = malloc(1);
      if( !pOut->aData ) rc = rErr(p, TS_PQ_NOMEM, "out of memory");
    }
    if( !d.bAnyNull ){ free(pOut->aNull); pOut->aNull = 0; }
  }
  if( rc==0 && bKeys ){
    /* The dictionary moves to the output (an all-NULL selection may have none). */
    if( d.bDict ){
      pOut->aOff = d.aDictOff; pOut->aData = d.aDictData; pOut->nDict = d.nDict;
      d.aDictOff = 0; d.aDictData = 0;
      if( !pOut->aData ) pOut->aData = malloc(1);
    }else{
      pOut->aOff = calloc(1, sizeof(int64_t));
      pOut->aData = malloc(1);
      pOut->nDict = 0;
    }
    if( !pOut->aOff || !pOut->aData ) rc = rErr(p, TS_PQ_NOMEM, "out of memory");
  }
  decFree(&d);
  if( rc==PQ_KEYS_FALLBACK ){
    tsPqColumnDataFree(pOut);
    return rc;
  }
  if( rc ){
    tsPqColumnDataFree(pOut);
    if( !p->rc ) p->rc = rc;
  }else{
    p->rc = 0;
  }
  return rc;
}

int tsPqReaderReadColumn(TsPqReader *p, int iRg, int iCol, const TsPqRowSel *pSel,
                         TsPqColumnData *pOut){
  return readColumn(p, iRg, iCol, pSel, pOut, 0);
}

int tsPqReaderReadColumnKeys(TsPqReader *p, int iRg, int iCol, const TsPqRowSel *pSel,
                             TsPqColumnData *pOut){
  int rc;
  if( iRg>=0 && iRg<p->nRg && iCol>=0 && iCol<p->nCol
   && (p->aCol[iCol].info.eType==TS_PQ_STRING || p->aCol[iCol].info.eType==TS_PQ_BYTES)
   && p->aCol[iCol].info.ePhysical==PQ_T_BYTE_ARRAY ){
    rc = readColumn(p, iRg, iCol, pSel, pOut, 1);
    if( rc!=PQ_KEYS_FALLBACK ) return rc;
  }
  return readColumn(p, iRg, iCol, pSel, pOut, 0);
}
