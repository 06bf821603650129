/*
** pq_thrift.c: the thrift compact protocol, as much as Parquet metadata needs.
**
** Encoding (apache/thrift doc/specs/thrift-compact-protocol.md):
**   field header   one byte (delta<<4)|type when the id delta from the
**                  previous field of the same struct is 1..15, else the byte
**                  `type` then the id as a zigzag varint
**   struct end     0x00
**   bool field     type nibble 1 (true) or 2 (false), no value byte
**   i8             one raw byte; i16/i32/i64 zigzag ULEB128
**   double         8 bytes little-endian
**   binary         ULEB128 length + bytes
**   list/set       (size<<4)|elemtype when size < 15, else 0xF0|elemtype +
**                  varint size; bool elements are one byte (1 true)
**   map            varint size, then (keytype<<4|valtype) when size > 0
** The decoder is defensive: every length is checked against the input, and
** skipping nested values stops at depth 32 (hostile input cannot recurse
** the stack away).
*/
#include "pq_int.h"
#include <string.h>

#define PQ_TR_MAXDEPTH 32

void tsPqTwInit(PqTw *p, TsBuf *pBuf){
  memset(p, 0, sizeof(*p));
  p->pBuf = pBuf;
}

static void twFieldHeader(PqTw *p, int id, int eType){
  int iLast = p->iDepth>0 ? p->aLast[p->iDepth-1] : 0;
  int d = id - iLast;
  if( d>0 && d<=15 ){
    tsBufAppendByte(p->pBuf, (unsigned char)((d<<4) | eType));
  }else{
    tsBufAppendByte(p->pBuf, (unsigned char)eType);
    tsBufAppendZigzag(p->pBuf, id);
  }
  if( p->iDepth>0 ) p->aLast[p->iDepth-1] = id;
}

void tsPqTwStructBegin(PqTw *p){
  if( p->iDepth>=PQ_TW_MAXDEPTH ){ p->pBuf->bErr = 1; return; }
  p->aLast[p->iDepth++] = 0;
}
void tsPqTwStructEnd(PqTw *p){
  tsBufAppendByte(p->pBuf, 0);
  if( p->iDepth>0 ) p->iDepth--;
}
void tsPqTwFieldStruct(PqTw *p, int id){
  twFieldHeader(p, id, PQ_TT_STRUCT);
  tsPqTwStructBegin(p);
}
void tsPqTwFieldI32(PqTw *p, int id, int32_t v){
  twFieldHeader(p, id, PQ_TT_I32);
  tsBufAppendZigzag(p->pBuf, v);
}
void tsPqTwFieldI64(PqTw *p, int id, int64_t v){
  twFieldHeader(p, id, PQ_TT_I64);
  tsBufAppendZigzag(p->pBuf, v);
}
void tsPqTwFieldBool(PqTw *p, int id, int b){
  twFieldHeader(p, id, b ? PQ_TT_TRUE : PQ_TT_FALSE);
}
void tsPqTwFieldBin(PqTw *p, int id, const void *a, size_t n){
  twFieldHeader(p, id, PQ_TT_BINARY);
  tsPqTwBin(p, a, n);
}
void tsPqTwListHeader(PqTw *p, int eElem, int64_t n){
  if( n<15 ){
    tsBufAppendByte(p->pBuf, (unsigned char)((n<<4) | eElem));
  }else{
    tsBufAppendByte(p->pBuf, (unsigned char)(0xF0 | eElem));
    tsBufAppendVarint(p->pBuf, (uint64_t)n);
  }
}
void tsPqTwFieldList(PqTw *p, int id, int eElem, int64_t n){
  twFieldHeader(p, id, PQ_TT_LIST);
  tsPqTwListHeader(p, eElem, n);
}
void tsPqTwI32(PqTw *p, int32_t v){ tsBufAppendZigzag(p->pBuf, v); }
void tsPqTwI64(PqTw *p, int64_t v){ tsBufAppendZigzag(p->pBuf, v); }
void tsPqTwBin(PqTw *p, const void *a, size_t n){
  tsBufAppendVarint(p->pBuf, n);
  tsBufAppend(p->pBuf, a, n);
}
void tsPqTwBool(PqTw *p, int b){ tsBufAppendByte(p->pBuf, b ? 1 : 2); }

/*------------------------------ decoder ------------------------------*/

void tsPqTrInit(PqTr *p, const void *a, size_t n){
  memset(p, 0, sizeof(*p));
  tsRdInit(&p->rd, a, n);
}

int tsPqTrField(PqTr *p, int *pLast, int *pId){
  unsigned char c;
  int eType, d;
  if( tsRdByte(&p->rd, &c) ) return -1;
  if( c==0 ){ *pId = 0; return PQ_TT_STOP; }
  eType = c & 0x0f;
  d = c >> 4;
  if( d ){
    *pId = *pLast + d;
  }else{
    int64_t v;
    if( tsRdZigzag(&p->rd, &v) || v<-32768 || v>32767 ){ p->rd.bErr = 1; return -1; }
    *pId = (int)v;
  }
  if( eType>PQ_TT_STRUCT ){ p->rd.bErr = 1; return -1; }
  *pLast = *pId;
  return eType;
}

int tsPqTrI64(PqTr *p, int eType, int64_t *pv){
  if( eType==PQ_TT_I8 ){
    unsigned char c;
    if( tsRdByte(&p->rd, &c) ) return 1;
    *pv = (signed char)c;
    return 0;
  }
  if( eType!=PQ_TT_I16 && eType!=PQ_TT_I32 && eType!=PQ_TT_I64 ){
    p->rd.bErr = 1;
    return 1;
  }
  return tsRdZigzag(&p->rd, pv);
}

int tsPqTrI32(PqTr *p, int eType, int32_t *pv){
  int64_t v;
  if( tsPqTrI64(p, eType, &v) ) return 1;
  if( v<INT32_MIN || v>INT32_MAX ){ p->rd.bErr = 1; return 1; }
  *pv = (int32_t)v;
  return 0;
}

int tsPqTrBin(PqTr *p, int eType, const unsigned char **pa, int64_t *pn){
  uint64_t n;
  if( eType!=PQ_TT_BINARY ){ p->rd.bErr = 1; return 1; }
  if( tsRdVarint(&p->rd, &n) ) return 1;
  if( n > p->rd.n - p->rd.i ){ p->rd.bErr = 1; return 1; }
  if( tsRdBytes(&p->rd, (size_t)n, pa) ) return 1;
  *pn = (int64_t)n;
  return 0;
}

int tsPqTrBool(PqTr *p, int eType, int *pb){
  if( eType==PQ_TT_TRUE ){ *pb = 1; return 0; }
  if( eType==PQ_TT_FALSE ){ *pb = 0; return 0; }
  p->rd.bErr = 1;
  return 1;
}

int tsPqTrListElemBool(PqTr *p, int *pb){
  unsigned char c;
  if( tsRdByte(&p->rd, &c) ) return 1;
  *pb = (c==1);
  return 0;
}

int tsPqTrList(PqTr *p, int eType, int *peElem, int64_t *pn){
  unsigned char c;
  int64_t n;
  if( eType!=PQ_TT_LIST && eType!=PQ_TT_SET ){ p->rd.bErr = 1; return 1; }
  if( tsRdByte(&p->rd, &c) ) return 1;
  n = c >> 4;
  if( n==15 ){
    uint64_t u;
    if( tsRdVarint(&p->rd, &u) ) return 1;
    /* every element takes at least one byte, except bools? (one byte too) and
    ** empty structs (one byte): a count above the bytes left is corrupt. */
    if( u > p->rd.n - p->rd.i ){ p->rd.bErr = 1; return 1; }
    n = (int64_t)u;
  }
  *peElem = c & 0x0f;
  if( *peElem==PQ_TT_STOP || *peElem>PQ_TT_STRUCT ){ p->rd.bErr = 1; return 1; }
  *pn = n;
  return 0;
}

int tsPqTrSkip(PqTr *p, int eType){
  int rc = 0;
  if( p->rd.bErr ) return 1;
  switch( eType ){
    case PQ_TT_TRUE: case PQ_TT_FALSE: return 0;
    case PQ_TT_I8: { unsigned char c; return tsRdByte(&p->rd, &c); }
    case PQ_TT_I16: case PQ_TT_I32: case PQ_TT_I64: { uint64_t u; return tsRdVarint(&p->rd, &u); }
    case PQ_TT_DOUBLE: { const unsigned char *a; return tsRdBytes(&p->rd, 8, &a); }
    case PQ_TT_BINARY: { const unsigned char *a; int64_t n; return tsPqTrBin(p, eType, &a, &n); }
    default: break;
  }
  if( p->iDepth>=PQ_TR_MAXDEPTH ){ p->rd.bErr = 1; return 1; }
  p->iDepth++;
  if( eType==PQ_TT_STRUCT ){
    int iLast = 0, id, t;
    while( (t = tsPqTrField(p, &iLast, &id))>0 ){
      if( tsPqTrSkip(p, t) ){ rc = 1; break; }
    }
    if( t<0 ) rc = 1;
  }else if( eType==PQ_TT_LIST || eType==PQ_TT_SET ){
    int eElem; int64_t n, i;
    rc = tsPqTrList(p, eType, &eElem, &n);
    for(i=0; rc==0 && i<n; i++){
      if( eElem==PQ_TT_TRUE || eElem==PQ_TT_FALSE ){
        int b; rc = tsPqTrListElemBool(p, &b);
      }else{
        rc = tsPqTrSkip(p, eElem);
      }
    }
  }else if( eType==PQ_TT_MAP ){
    uint64_t n, i;
    unsigned char kv = 0;
    rc = tsRdVarint(&p->rd, &n);
    if( rc==0 && n>0 ) rc = tsRdByte(&p->rd, &kv);
    if( rc==0 && n > p->rd.n ) rc = 1;
    for(i=0; rc==0 && i<n; i++){
      int k = kv>>4, v = kv&0x0f, b;
      if( k==PQ_TT_TRUE || k==PQ_TT_FALSE ) rc = tsPqTrListElemBool(p, &b);
      else rc = tsPqTrSkip(p, k);
      if( rc ) break;
      if( v==PQ_TT_TRUE || v==PQ_TT_FALSE ) rc = tsPqTrListElemBool(p, &b);
      else rc = tsPqTrSkip(p, v);
    }
  }else{
    rc = 1;
  }
  p->iDepth--;
  if( rc ) p->rd.bErr = 1;
  return rc;
}
