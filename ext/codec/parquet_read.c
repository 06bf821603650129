/*
** parquet_read.c: the Parquet reader (API in parquet.h): open, footer,
** statistics, page index and row selection.  Page decoding and column reads
** are in pq_decode.c; the two share the reader's state (pq_read_int.h).
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
#include "pq_read_int.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t tsPqReaderAllocLimit = (int64_t)1 << 30;
int tsPqReaderVerifyCrc = 1;

/*------------------------------ errors ------------------------------*/
int tsPqrErr(TsPqReader *p, int rc, const char *zFmt, ...){
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

int tsPqrReadAt(TsPqReader *p, int64_t iOff, int64_t n, void *pOut){
  if( iOff<0 || n<0 || iOff>p->nFile || n>p->nFile-iOff ){
    return tsPqrErr(p, TS_PQ_CORRUPT, "parquet: range %lld+%lld outside the %lld-byte file",
                (long long)iOff, (long long)n, (long long)p->nFile);
  }
  if( n==0 ) return 0;
  if( p->xRead(p->pCtx, iOff, n, pOut) ){
    return tsPqrErr(p, TS_PQ_IOERR, "parquet: read of %lld bytes at offset %lld failed",
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

#define PQ_CORRUPT_FOOTER(p) tsPqrErr(p, TS_PQ_CORRUPT, "parquet: corrupt footer (FileMetaData)")

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
      return tsPqrErr(p, TS_PQ_ERROR, "parquet: encrypted files are not supported");
    }else if( tsPqTrSkip(&tr, t) ){
      rc = 1;
    }
    if( rc==0 && tr.rd.bErr ) rc = 1;
  }
  if( rc==0 && t<0 ) rc = 1;
  free(aEl);
  if( rc==2 ) return tsPqrErr(p, TS_PQ_NOMEM, "out of memory");
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
          return tsPqrErr(p, TS_PQ_CORRUPT, "parquet: column \"%s\" of row group %d has no metadata",
                      c->info.zName, g);
        }
        if( k->ePhys!=c->info.ePhysical ){
          return tsPqrErr(p, TS_PQ_CORRUPT, "parquet: column \"%s\" of row group %d: chunk type %d "
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
    rc = tsPqrErr(p, TS_PQ_CORRUPT, "parquet: file of %lld bytes is too small to be Parquet", (long long)nFile);
  }
  if( rc==0 ){
    if( aTail && nTail>=8 ) memcpy(a8, (const unsigned char*)aTail+nTail-8, 8);
    else rc = tsPqrReadAt(p, nFile-8, 8, a8);
  }
  if( rc==0 && memcmp(a8+4, "PAR1", 4)!=0 ){
    rc = tsPqrErr(p, memcmp(a8+4, "PARE", 4)==0 ? TS_PQ_ERROR : TS_PQ_CORRUPT,
              memcmp(a8+4, "PARE", 4)==0 ? "parquet: encrypted files are not supported"
              : "parquet: not a Parquet file (no PAR1 magic at the end)");
  }
  if( rc==0 ){
    nMeta = (uint32_t)a8[0] | ((uint32_t)a8[1]<<8) | ((uint32_t)a8[2]<<16) | ((uint32_t)a8[3]<<24);
    if( (int64_t)nMeta > nFile-12 ){
      rc = tsPqrErr(p, TS_PQ_CORRUPT, "parquet: footer length %u exceeds the %lld-byte file",
                nMeta, (long long)nFile);
    }else if( (int64_t)nMeta > tsPqReaderAllocLimit ){
      rc = tsPqrErr(p, TS_PQ_TOOBIG, "parquet: footer of %u bytes is too large", nMeta);
    }
  }
  if( rc==0 ){
    p->nMeta = nMeta;
    p->aMeta = malloc(nMeta ? nMeta : 1);
    if( !p->aMeta ) rc = tsPqrErr(p, TS_PQ_NOMEM, "out of memory");
  }
  if( rc==0 ){
    if( aTail && nTail>=(size_t)nMeta+8 ){
      memcpy(p->aMeta, (const unsigned char*)aTail+nTail-8-nMeta, nMeta);
    }else{
      rc = tsPqrReadAt(p, nFile-8-nMeta, nMeta, p->aMeta);
    }
  }
  if( rc==0 && aTail==0 ){
    /* With cached tail bytes the open does no read at all (a cold-tier scan
    ** plans from the manifest); the data pages are still checked when read. */
    unsigned char a4[4];
    rc = tsPqrReadAt(p, 0, 4, a4);
    if( rc==0 && memcmp(a4, "PAR1", 4)!=0 ){
      rc = tsPqrErr(p, TS_PQ_CORRUPT, "parquet: not a Parquet file (no PAR1 magic at the start)");
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
  for(i=0; i<p->nRg; i++){
    int j;
    for(j=0; p->aRg[i].aChunk && j<p->nLeaf; j++){
      free(p->aRg[i].aChunk[j].aLoc);
      free(p->aRg[i].aChunk[j].aColIdx);
    }
    free(p->aRg[i].aChunk);
  }
  free(p->aRg);
  for(i=0; i<p->nKv; i++){ free(p->azKey[i]); free(p->azVal[i]); }
  free(p->azKey); free(p->azVal);
  free(p->zCreatedBy);
  free(p->aMeta);
  free(p->zErr);
  free(p->aPage);
  tsPqDecompressCtxFree(p->pZstd);
  free(p);
}

void tsPqReaderTrim(TsPqReader *p){
  if( !p ) return;
  free(p->aPage);
  p->aPage = 0;
  p->nPage = 0;
  tsPqDecompressCtxFree(p->pZstd);
  p->pZstd = 0;
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

int64_t tsPqrLe(const unsigned char *a, int n){
  uint64_t v = 0;
  int i;
  for(i=0; i<n; i++) v |= (uint64_t)a[i] << (8*i);
  return (int64_t)v;
}

double tsPqrDecScale(int iScale){
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
      pv->i = c->bUnsigned ? (int64_t)(uint32_t)tsPqrLe(a, 4) : (int64_t)(int32_t)tsPqrLe(a, 4);
      if( c->bDecimal ) pv->r = (double)pv->i / tsPqrDecScale(c->iScale);
      return 0;
    case PQ_T_INT64:
      if( n!=8 || c->bUnsigned64 ) return 1;
      pv->i = tsPqrLe(a, 8);
      if( c->bDecimal ) pv->r = (double)pv->i / tsPqrDecScale(c->iScale);
      return 0;
    case PQ_T_FLOAT: { float f; uint32_t u; if( n!=4 ) return 1; u = (uint32_t)tsPqrLe(a, 4);
      memcpy(&f, &u, 4); pv->r = f; return isnan(pv->r); }
    case PQ_T_DOUBLE: { uint64_t u; if( n!=8 ) return 1; u = (uint64_t)tsPqrLe(a, 8);
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
    return tsPqrErr(p, TS_PQ_MISUSE, "parquet: row group %d / column %d out of range", iRg, iCol);
  }
  c = &p->aCol[iCol];
  if( c->info.eType==TS_PQ_UNSUPPORTED ){
    return tsPqrErr(p, TS_PQ_ERROR, "parquet: column \"%s\" has an unsupported type", c->info.zName);
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


/* A malloc'd copy of the chunk's cached OffsetIndex.  0 ok. */
static int locDup(TsPqReader *p, const PqRChunk *k, PqPageLoc **paLoc, int *pnLoc){
  PqPageLoc *a = malloc(sizeof(PqPageLoc)*(size_t)k->nLoc);
  if( !a ) return tsPqrErr(p, TS_PQ_NOMEM, "out of memory");
  memcpy(a, k->aLoc, sizeof(PqPageLoc)*(size_t)k->nLoc);
  *paLoc = a; *pnLoc = k->nLoc;
  return 0;
}

/* Read the OffsetIndex of a chunk (once: then from k->aLoc); *paLoc
** malloc'd.  0 ok. */
int tsPqrOffsetIndex(TsPqReader *p, PqRChunk *k, int64_t nRgRow, PqPageLoc **paLoc, int *pnLoc){
  unsigned char *a;
  PqTr tr;
  int iLast = 0, id, t, rc = 0;
  PqPageLoc *aLoc = 0;
  int64_t nLoc = 0;
  *paLoc = 0; *pnLoc = 0;
  if( k->aLoc ) return locDup(p, k, paLoc, pnLoc);
  if( k->nOffIdx<=0 || k->nOffIdx>tsPqReaderAllocLimit ) return 1;
  a = malloc((size_t)k->nOffIdx);
  if( !a ) return tsPqrErr(p, TS_PQ_NOMEM, "out of memory");
  if( tsPqrReadAt(p, k->iOffIdx, k->nOffIdx, a) ){ free(a); return p->rc; }
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
    if( rc==2 ) return tsPqrErr(p, TS_PQ_NOMEM, "out of memory");
    return tsPqrErr(p, TS_PQ_CORRUPT, "parquet: corrupt OffsetIndex");
  }
  k->aLoc = aLoc; k->nLoc = (int)nLoc;
  return locDup(p, k, paLoc, pnLoc);
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
  if( iRg<0 || iRg>=p->nRg ) return tsPqrErr(p, TS_PQ_MISUSE, "parquet: row group %d out of range", iRg);
  nRgRow = p->aRg[iRg].nRow;
  pSel->aRange = malloc(sizeof(int64_t)*2);
  if( !pSel->aRange ) return tsPqrErr(p, TS_PQ_NOMEM, "out of memory");
  pSel->aRange[0] = 0; pSel->aRange[1] = nRgRow;
  pSel->nRange = nRgRow>0 ? 1 : 0;
  for(i=0; i<nRange && pSel->nRange>0; i++){
    const TsPqRange *r = &aRange[i];
    PqRCol *c;
    PqRChunk *k;
    PqPageLoc *aLoc = 0;
    int nLoc = 0, j, rc = 0, nPg = -1, nKeep = 0;
    const unsigned char *aIdx = 0;
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
    if( tsPqrOffsetIndex(p, k, nRgRow, &aLoc, &nLoc) ){
      if( p->rc==TS_PQ_NOMEM || p->rc==TS_PQ_IOERR ){ tsPqRowSelFree(pSel); return p->rc; }
      p->rc = 0;   /* a bad index only disables pruning; reading will verify pages */
      continue;
    }
    if( k->aColIdx==0 ){
      /* read once, kept with the chunk (the statistics point into it) */
      unsigned char *aNew = malloc((size_t)k->nColIdx);
      if( !aNew ){ free(aLoc); tsPqRowSelFree(pSel); return tsPqrErr(p, TS_PQ_NOMEM, "out of memory"); }
      if( tsPqrReadAt(p, k->iColIdx, k->nColIdx, aNew) ){
        free(aLoc); free(aNew); tsPqRowSelFree(pSel); return p->rc;
      }
      k->aColIdx = aNew;
    }
    aIdx = k->aColIdx;
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
    free(aLoc);
    if( rc==2 ){ tsPqRowSelFree(pSel); return tsPqrErr(p, TS_PQ_NOMEM, "out of memory"); }
    /* rc==1: corrupt ColumnIndex: ignore it (no pruning from this column) */
  }
  for(i=0; i<pSel->nRange; i++) pSel->nRow += pSel->aRange[2*i+1]-pSel->aRange[2*i];
  return 0;
}
