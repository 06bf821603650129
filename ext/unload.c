/*
** unload.c: ts_unload(select_sql, destination [, options_json]), Timestream's
** UNLOAD for SQLite.
**
**   SELECT ts_unload('SELECT * FROM cpu WHERE time > ago(''1d'')',
**                    's3://bucket/exports/cpu',
**                    '{"format":"parquet","compression":"zstd","partitioned_by":["region"]}');
**   -> {"rows":1234,"manifestFile":"s3://bucket/exports/cpu/<id>_manifest.json",
**       "metadataFile":"s3://bucket/exports/cpu/<id>_metadata.json"}
**
** How it works
** ------------
** The SELECT is prepared on the calling connection (it must be one read-only
** statement returning columns).  Options are parsed by unload_opts.c.  Rows
** are routed to one output per partition (the values of the partitioned_by
** columns, which must be the last columns of the SELECT, give the Hive
** folder results/<col>=<value>/...; at most 100 partitions).  Each output
** writes a sequence of files through the object store's streaming writer
** (multipart upload on S3), starting a new file before a row would push
** the current one past max_file_size.  When every row is written, the
** metadata file and then the manifest are written; a failure before that
** aborts the files in progress and writes no manifest (Timestream's rule:
** completed files of a failed UNLOAD stay, no manifest marks them valid).
**
** Layout under the destination (reference 6.2):
**   results/[<col>=<val>/...]<queryid>_<uuid>.csv | .gz | .parquet
**   <queryid>_<uuid>_metadata.json
**   <queryid>_<uuid>_manifest.json
** queryid: 26 random base32 characters, one per call; uuid: a random UUID v4,
** one per data file and one shared by the manifest and metadata files.
**
** Column types (the metadata's ColumnInfo, the Parquet schema)
** ------------------------------------------------------------
** Declared type of the result column (sqlite3_column_decltype), first match:
**   contains BOOL -> BOOLEAN; TIMESTAMP or DATETIME -> TIMESTAMP; exactly
**   DATE -> DATE; then SQLite's affinity rules: INT -> BIGINT; CHAR, CLOB,
**   TEXT -> VARCHAR; REAL, FLOA, DOUB -> DOUBLE; anything else (BLOB,
**   NUMERIC, expressions without a declared type) -> decided by the values.
** BOOLEAN, TIMESTAMP and DATE columns keep their type; each value must
** convert (BOOLEAN: 0, 1, 'true', 'false'; TIMESTAMP: INTEGER ns or ISO-8601
** text; DATE: INTEGER days since 1970-01-01 or 'YYYY-MM-DD'), else the
** UNLOAD fails naming the column, row and value.  For the other columns the
** type starts at the declared one (or "unknown") and widens over the values
** (NULLs ignored): INTEGER -> BIGINT; REAL with BIGINT -> DOUBLE; TEXT with
** anything -> VARCHAR (numbers then written as their text); a column of
** only NULLs -> VARCHAR.  BLOB values are rejected (Timestream has no binary
** type: use hex() or CAST).  Parquet output needs the final types before
** the first row, so it runs the query once, spooling rows to a temporary
** file while the types are decided, then writes the files from the spool.
*/
#include "tslite.h"
#include "csv_write.h"
#include "parquet.h"
#include "objstore.h"
#include "unload.h"
#include "jsonw.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Column types (Timestream scalar types) */
#define UT_UNKNOWN   0
#define UT_BIGINT    1
#define UT_DOUBLE    2
#define UT_VARCHAR   3
#define UT_BOOLEAN   4
#define UT_TIMESTAMP 5
#define UT_DATE      6
static const char *const azTypeName[] = {
  "UNKNOWN", "BIGINT", "DOUBLE", "VARCHAR", "BOOLEAN", "TIMESTAMP", "DATE"
};

/* Output buffering: bytes are handed to the object store in slices of this
** size (per open file, so 100 partitions hold at most 100 slices). */
#define UNLOAD_SLICE (256*1024)
/* Parquet row groups: target bytes for one output, divided among open
** partitions so memory stays bounded. */
#define UNLOAD_PQ_RG_BYTES (64LL*1024*1024)
#define UNLOAD_PQ_RG_MIN   (1LL*1024*1024)

/* One value of a result row (from the statement or from the spool). */
typedef struct UCell UCell;
struct UCell {
  int eType;          /* SQLITE_INTEGER/FLOAT/TEXT/BLOB/NULL */
  sqlite3_int64 i;
  double r;
  const char *z;      /* TEXT/BLOB bytes; valid until the next row */
  int n;              /* bytes in z */
};

typedef struct UCol UCol;
struct UCol {
  char *zName;        /* result column name; sqlite3_malloc'd */
  int eDecl;          /* type from the declaration (UT_*; UT_UNKNOWN if none) */
  int eType;          /* type so far (widened over the values) */
};

/* A finished data file, for the manifest. */
typedef struct UFile UFile;
struct UFile {
  char *zKey;         /* key under the destination; sqlite3_malloc'd */
  sqlite3_int64 nByte;
  sqlite3_int64 nRow;
};

/* One partition's output: a sequence of files. */
typedef struct UOut UOut;
struct UOut {
  char *zPart;        /* partition key text: "" or "col=val/col=val/"; owned */
  TsObjWriter *pW;    /* current file's upload, or NULL between files */
  char *zKey;         /* current file's key; owned */
  TsBuf buf;          /* bytes not yet handed to pW */
  sqlite3_int64 nFlushed; /* bytes handed to pW for the current file */
  sqlite3_int64 nRow; /* rows in the current file */
  TsGz gz;            /* CSV+gzip compressor of the current file */
  int bGz;            /* gz initialised */
  TsPqWriter *pPq;    /* Parquet writer of the current file */
  struct Unload *pU;  /* back pointer (for the Parquet sink) */
  int bSinkErr;       /* the Parquet sink failed (message in pU->zErr) */
};

typedef struct Unload Unload;
struct Unload {
  sqlite3 *db;
  sqlite3_context *ctx;
  TsUnloadOpts opt;
  char *zDest;            /* destination URI: as given, a plain path resolved
                          ** to file:// (tsObjUriResolve); owned (malloc) */
  char *zDestBase;        /* zDest with exactly one trailing '/'; owned */
  TsObjStore *pStore;
  sqlite3_stmt *pStmt;
  int nCol;               /* result columns */
  int nData;              /* columns written to files (nCol - partitions) */
  UCol *aCol;
  UCell *aCell;           /* nCol cells of the current row */
  UOut **apOut;           /* outputs, one per partition */
  int nOut;
  UFile *aFile;           /* finished files */
  int nFile, nFileAlloc;
  sqlite3_int64 nRowTotal;
  char zQueryId[27];
  TsCsvDialect dialect;
  TsBuf row;              /* scratch: one encoded CSV row / text form */
  TsBuf spoolRd;          /* spool read buffer for TEXT values */
  FILE *pSpool;           /* Parquet: spooled rows */
  char *zErr;             /* sqlite3_malloc'd error message */
  int rc;
  int bInterrupted;       /* sqlite3_interrupt() or a progress handler stopped it */
  sqlite3_stmt *pPing;    /* "SELECT 1": stepped to notice an interrupt while
                          ** no query runs (Parquet pass 2, before the manifest) */
};

/* ---------------------------------------------------------------- types */

static int declType(const char *zDecl){
  char z[64];
  size_t i, n;
  if( zDecl==0 || zDecl[0]==0 ) return UT_UNKNOWN;
  n = strlen(zDecl);
  if( n>=sizeof(z) ) n = sizeof(z)-1;
  for(i=0; i<n; i++) z[i] = (char)(zDecl[i]>='a' && zDecl[i]<='z' ? zDecl[i]-32 : zDecl[i]);
  z[n] = 0;
  if( strstr(z, "BOOL") ) return UT_BOOLEAN;
  if( strstr(z, "TIMESTAMP") || strstr(z, "DATETIME") ) return UT_TIMESTAMP;
  if( strcmp(z, "DATE")==0 ) return UT_DATE;
  if( strstr(z, "INT") ) return UT_BIGINT;
  if( strstr(z, "CHAR") || strstr(z, "CLOB") || strstr(z, "TEXT") ) return UT_VARCHAR;
  if( strstr(z, "REAL") || strstr(z, "FLOA") || strstr(z, "DOUB") ) return UT_DOUBLE;
  return UT_UNKNOWN;
}

static void uErr(Unload *p, const char *zFmt, ...){
  va_list ap;
  char *z;
  if( p->rc!=SQLITE_OK ) return;
  va_start(ap, zFmt);
  z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  sqlite3_free(p->zErr);
  p->zErr = z;
  p->rc = z ? SQLITE_ERROR : SQLITE_NOMEM;
}

/* Shorten a value for an error message. */
static char *valueForMsg(const UCell *c){
  switch( c->eType ){
    case SQLITE_INTEGER: return sqlite3_mprintf("%lld", c->i);
    case SQLITE_FLOAT: return sqlite3_mprintf("%!.17g", c->r);
    case SQLITE_NULL: return sqlite3_mprintf("NULL");
    case SQLITE_BLOB: return sqlite3_mprintf("a %d-byte BLOB", c->n);
    default:
      return sqlite3_mprintf("'%.*s%s'", c->n>60 ? 60 : c->n, c->z, c->n>60 ? "..." : "");
  }
}

static void cellErr(Unload *p, int iCol, const UCell *c, const char *zWhy){
  char *zVal = valueForMsg(c);
  uErr(p, "ts_unload: column '%s' (%s), row %lld: %s: %s", p->aCol[iCol].zName,
       azTypeName[p->aCol[iCol].eDecl ? p->aCol[iCol].eDecl : p->aCol[iCol].eType],
       p->nRowTotal+1, zWhy, zVal ? zVal : "?");
  sqlite3_free(zVal);
}

/* Parse "YYYY-MM-DD" exactly; 0 on success. */
static int parseDate(const char *z, int n, sqlite3_int64 *piDay){
  int64_t iNs;
  if( n!=10 || tsTimeParseIso(z, n, &iNs)!=TS_TIME_OK ) return 1;
  *piDay = tsFloorDiv(iNs, TS_NS_PER_DAY);
  return 0;
}

/* Convert cell c of a BOOLEAN/TIMESTAMP/DATE column in place to an
** INTEGER cell (0/1, ns, days).  0 on success, else sets the error. */
static int convertFixed(Unload *p, int iCol, UCell *c){
  int e = p->aCol[iCol].eDecl;
  if( c->eType==SQLITE_NULL ) return 0;
  if( c->eType==SQLITE_BLOB ){
    cellErr(p, iCol, c, "BLOB values cannot be unloaded (use hex() or CAST(... AS TEXT))");
    return 1;
  }
  if( e==UT_BOOLEAN ){
    if( c->eType==SQLITE_INTEGER && (c->i==0 || c->i==1) ) return 0;
    if( c->eType==SQLITE_FLOAT && (c->r==0.0 || c->r==1.0) ){
      c->i = (c->r==1.0); c->eType = SQLITE_INTEGER; return 0;
    }
    if( c->eType==SQLITE_TEXT && (c->n==4 || c->n==5)
     && (strncasecmp(c->z, "true", 4)==0 || strncasecmp(c->z, "false", 5)==0) ){
      c->i = (c->n==4); c->eType = SQLITE_INTEGER; return 0;
    }
    cellErr(p, iCol, c, "not a BOOLEAN (expected 0, 1, 'true' or 'false')");
    return 1;
  }
  if( e==UT_TIMESTAMP ){
    int64_t iNs;
    if( c->eType==SQLITE_INTEGER ) return 0;
    if( c->eType==SQLITE_TEXT && tsTimeParseIso(c->z, c->n, &iNs)==TS_TIME_OK ){
      c->i = iNs; c->eType = SQLITE_INTEGER; return 0;
    }
    cellErr(p, iCol, c, "not a TIMESTAMP (expected INTEGER nanoseconds or ISO-8601 text)");
    return 1;
  }
  /* UT_DATE */
  {
    sqlite3_int64 iDay;
    if( c->eType==SQLITE_INTEGER && c->i>=-2147483647LL-1 && c->i<=2147483647LL ) return 0;
    if( c->eType==SQLITE_TEXT && parseDate(c->z, c->n, &iDay)==0 ){
      c->i = iDay; c->eType = SQLITE_INTEGER; return 0;
    }
    cellErr(p, iCol, c, "not a DATE (expected 'YYYY-MM-DD' or INTEGER days since 1970-01-01)");
    return 1;
  }
}

/* Widen column iCol's type over value c (see the header comment).  For
** BOOLEAN/TIMESTAMP/DATE columns the cell is converted to an INTEGER.
** Returns 0, or 1 with the error set. */
static int observeCell(Unload *p, int iCol, UCell *c){
  UCol *pCol = &p->aCol[iCol];
  if( pCol->eDecl==UT_BOOLEAN || pCol->eDecl==UT_TIMESTAMP || pCol->eDecl==UT_DATE ){
    return convertFixed(p, iCol, c);
  }
  switch( c->eType ){
    case SQLITE_NULL: break;
    case SQLITE_INTEGER:
      if( pCol->eType==UT_UNKNOWN ) pCol->eType = UT_BIGINT;
      break;
    case SQLITE_FLOAT:
      if( pCol->eType==UT_UNKNOWN || pCol->eType==UT_BIGINT ) pCol->eType = UT_DOUBLE;
      break;
    case SQLITE_TEXT:
      pCol->eType = UT_VARCHAR;
      break;
    default:
      cellErr(p, iCol, c, "BLOB values cannot be unloaded (use hex() or CAST(... AS TEXT))");
      return 1;
  }
  return 0;
}

/* Decimal text of v into z (at least 21 bytes); returns its length.  (A
** printf per value was a third of a CSV unload's time.) */
static int fmtInt64(sqlite3_int64 v, char *z){
  char a[21];
  uint64_t u = v<0 ? 0 - (uint64_t)v : (uint64_t)v;
  int n = 0, i = 0;
  do{ a[n++] = (char)('0' + u%10); u /= 10; }while( u );
  if( v<0 ) z[i++] = '-';
  while( n>0 ) z[i++] = a[--n];
  return i;
}

/* Append the text form of cell c of column iCol to pBuf (used for CSV
** fields and partition values).  c has been through observeCell. */
static void cellText(Unload *p, int iCol, const UCell *c, TsBuf *pBuf){
  char zNum[TS_DBL_BUFSZ];
  int e = p->aCol[iCol].eDecl;
  switch( c->eType ){
    case SQLITE_INTEGER:
      if( e==UT_BOOLEAN ){
        tsBufAppendStr(pBuf, c->i ? "true" : "false");
      }else if( e==UT_TIMESTAMP ){
        tsCsvFormatTimestamp(c->i, zNum);
        tsBufAppendStr(pBuf, zNum);
      }else if( e==UT_DATE ){
        int64_t y; unsigned m, d;
        tsCivilFromDays(c->i, &y, &m, &d);
        tsBufPrintf(pBuf, "%04lld-%02u-%02u", (long long)y, m, d);
      }else{
        char zInt[24];
        tsBufAppend(pBuf, zInt, (size_t)fmtInt64(c->i, zInt));
      }
      break;
    case SQLITE_FLOAT:
      tsCsvFormatDouble(c->r, zNum);
      tsBufAppendStr(pBuf, zNum);
      break;
    case SQLITE_TEXT:
      tsBufAppend(pBuf, c->z, (size_t)c->n);
      break;
    default:
      break;
  }
}

/* ---------------------------------------------------------------- rows */

/* Load the current statement row into p->aCell. */
static void cellsFromStmt(Unload *p){
  int i;
  for(i=0; i<p->nCol; i++){
    UCell *c = &p->aCell[i];
    c->eType = sqlite3_column_type(p->pStmt, i);
    switch( c->eType ){
      case SQLITE_INTEGER: c->i = sqlite3_column_int64(p->pStmt, i); break;
      case SQLITE_FLOAT: c->r = sqlite3_column_double(p->pStmt, i); break;
      case SQLITE_TEXT:
        c->z = (const char*)sqlite3_column_text(p->pStmt, i);
        c->n = sqlite3_column_bytes(p->pStmt, i);
        if( c->z==0 ){ c->z = ""; c->n = 0; }
        break;
      case SQLITE_BLOB:
        c->z = (const char*)sqlite3_column_blob(p->pStmt, i);
        c->n = sqlite3_column_bytes(p->pStmt, i);
        break;
      default: break;
    }
  }
}

/* Step the statement; load and type-check the row.  SQLITE_ROW, SQLITE_DONE
** or an error (p->rc set). */
static int stmtNext(Unload *p){
  int rc, i;
  if( p->rc ) return p->rc;
  rc = sqlite3_step(p->pStmt);
  if( rc==SQLITE_DONE ) return rc;
  if( rc==SQLITE_INTERRUPT ) p->bInterrupted = 1;
  if( rc!=SQLITE_ROW ){
    uErr(p, "ts_unload: the query failed after %lld rows: %s", p->nRowTotal, sqlite3_errmsg(p->db));
    p->rc = rc;
    return rc;
  }
  cellsFromStmt(p);
  for(i=0; i<p->nCol; i++){
    if( observeCell(p, i, &p->aCell[i]) ) return p->rc;
  }
  return SQLITE_ROW;
}

/*
** Spool format (Parquet path), one record per row, nCol values each:
**   tag byte 0 NULL | 1 INTEGER + 8 bytes | 2 REAL + 8 bytes | 3 TEXT + u32
**   length + bytes.  Native byte order: the file lives for one call.
*/
static void spoolRow(Unload *p){
  int i;
  TsBuf *b = &p->row;
  tsBufReset(b);
  for(i=0; i<p->nCol; i++){
    const UCell *c = &p->aCell[i];
    switch( c->eType ){
      case SQLITE_INTEGER: tsBufAppendByte(b, 1); tsBufAppend(b, &c->i, 8); break;
      case SQLITE_FLOAT: tsBufAppendByte(b, 2); tsBufAppend(b, &c->r, 8); break;
      case SQLITE_TEXT: {
        uint32_t n = (uint32_t)c->n;
        tsBufAppendByte(b, 3); tsBufAppend(b, &n, 4); tsBufAppend(b, c->z, n);
        break;
      }
      default: tsBufAppendByte(b, 0); break;
    }
  }
  if( b->bErr ){ uErr(p, "ts_unload: out of memory"); p->rc = SQLITE_NOMEM; return; }
  if( fwrite(b->a, 1, b->n, p->pSpool)!=b->n ){
    uErr(p, "ts_unload: writing the temporary spool file failed (disk full?)");
  }
}

/* Read the next spooled row into p->aCell.  SQLITE_ROW or SQLITE_DONE. */
static int spoolNext(Unload *p){
  int i;
  size_t nText = 0;
  unsigned char tag;
  int ch = fgetc(p->pSpool);
  if( ch==EOF ) return SQLITE_DONE;
  tsBufReset(&p->spoolRd);
  /* Text bytes go to one buffer; pointers are fixed up after the row. */
  for(i=0; i<p->nCol; i++){
    UCell *c = &p->aCell[i];
    if( i>0 ){
      ch = fgetc(p->pSpool);
      if( ch==EOF ) goto corrupt;
    }
    tag = (unsigned char)ch;
    switch( tag ){
      case 0: c->eType = SQLITE_NULL; break;
      case 1: c->eType = SQLITE_INTEGER; if( fread(&c->i, 8, 1, p->pSpool)!=1 ) goto corrupt; break;
      case 2: c->eType = SQLITE_FLOAT; if( fread(&c->r, 8, 1, p->pSpool)!=1 ) goto corrupt; break;
      case 3: {
        uint32_t n;
        if( fread(&n, 4, 1, p->pSpool)!=1 ) goto corrupt;
        if( tsBufReserve(&p->spoolRd, (size_t)n+1) ){ uErr(p, "ts_unload: out of memory"); return p->rc; }
        if( n && fread(p->spoolRd.a+p->spoolRd.n, 1, n, p->pSpool)!=n ) goto corrupt;
        c->eType = SQLITE_TEXT;
        c->n = (int)n;
        c->i = (sqlite3_int64)p->spoolRd.n;  /* offset; fixed below */
        p->spoolRd.n += n;
        nText++;
        break;
      }
      default: goto corrupt;
    }
  }
  for(i=0; nText && i<p->nCol; i++){
    UCell *c = &p->aCell[i];
    if( c->eType==SQLITE_TEXT ){ c->z = (const char*)p->spoolRd.a + c->i; }
  }
  for(i=0; i<p->nCol; i++){
    if( p->aCell[i].eType==SQLITE_TEXT && p->aCell[i].n==0 ) p->aCell[i].z = "";
  }
  return SQLITE_ROW;
corrupt:
  uErr(p, "ts_unload: reading the temporary spool file failed");
  return p->rc;
}

/* ---------------------------------------------------------------- outputs */

/* Hand the buffered bytes of o to its upload (all of them if bAll, else
** only when a slice is full). */
static void outDrain(Unload *p, UOut *o, int bAll){
  char *zObjErr = 0;
  if( p->rc ) return;
  if( o->buf.bErr ){ uErr(p, "ts_unload: out of memory"); p->rc = SQLITE_NOMEM; return; }
  if( o->buf.n==0 || (!bAll && o->buf.n<UNLOAD_SLICE) ) return;
  if( tsObjWriterWrite(o->pW, o->buf.a, o->buf.n, &zObjErr)!=TS_OBJ_OK ){
    uErr(p, "ts_unload: writing %s%s failed: %s", p->zDestBase, o->zKey,
         zObjErr ? zObjErr : "unknown error");
  }else{
    o->nFlushed += (sqlite3_int64)o->buf.n;
  }
  free(zObjErr);
  tsBufReset(&o->buf);
}

/* Parquet sink: bytes of the current file of output pCtx. */
static int pqSink(void *pCtx, const void *a, size_t n){
  UOut *o = (UOut*)pCtx;
  Unload *p = o->pU;
  if( p->rc ){ o->bSinkErr = 1; return 1; }
  tsBufAppend(&o->buf, a, n);
  outDrain(p, o, 0);
  if( p->rc ){ o->bSinkErr = 1; return 1; }
  return 0;
}

/* Random id helpers (sqlite3_randomness). */
static void makeQueryId(char *zOut){
  static const char azB32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  unsigned char a[26];
  int i;
  sqlite3_randomness(sizeof(a), a);
  for(i=0; i<26; i++) zOut[i] = azB32[a[i]&31];
  zOut[26] = 0;
}
static void makeUuid(char *zOut /* 37 bytes */){
  unsigned char a[16];
  static const char azHex[] = "0123456789abcdef";
  int i, j = 0;
  sqlite3_randomness(sizeof(a), a);
  a[6] = (unsigned char)((a[6]&0x0f)|0x40);   /* version 4 */
  a[8] = (unsigned char)((a[8]&0x3f)|0x80);   /* RFC 4122 variant */
  for(i=0; i<16; i++){
    if( i==4 || i==6 || i==8 || i==10 ) zOut[j++] = '-';
    zOut[j++] = azHex[a[i]>>4];
    zOut[j++] = azHex[a[i]&15];
  }
  zOut[j] = 0;
}

static const char *fileExt(Unload *p){
  if( p->opt.eFormat==TS_UNLOAD_PARQUET ) return ".parquet";
  return p->opt.eCompression==TS_UNLOAD_GZIP ? ".gz" : ".csv";
}

static int pqKind(int eType){
  switch( eType ){
    case UT_BIGINT: return TS_PQ_INT64;
    case UT_DOUBLE: return TS_PQ_DOUBLE;
    case UT_BOOLEAN: return TS_PQ_BOOLEAN;
    case UT_TIMESTAMP: return TS_PQ_TIMESTAMP_NS;
    case UT_DATE: return TS_PQ_DATE;
    default: return TS_PQ_STRING;
  }
}

/* Final type of column i (after all rows). */
static int finalType(Unload *p, int i){
  UCol *c = &p->aCol[i];
  if( c->eDecl==UT_BOOLEAN || c->eDecl==UT_TIMESTAMP || c->eDecl==UT_DATE ) return c->eDecl;
  return c->eType==UT_UNKNOWN ? UT_VARCHAR : c->eType;
}

/* Start a new file for output o. */
static void outOpenFile(Unload *p, UOut *o){
  char zUuid[40];
  char *zObjErr = 0;
  if( p->rc ) return;
  makeUuid(zUuid);
  sqlite3_free(o->zKey);
  o->zKey = sqlite3_mprintf("results/%s%s_%s%s", o->zPart, p->zQueryId, zUuid, fileExt(p));
  if( o->zKey==0 ){ uErr(p, "ts_unload: out of memory"); p->rc = SQLITE_NOMEM; return; }
  if( tsObjWriterOpen(p->pStore, o->zKey, &o->pW, &zObjErr)!=TS_OBJ_OK ){
    uErr(p, "ts_unload: cannot create %s%s: %s", p->zDestBase, o->zKey,
         zObjErr ? zObjErr : "unknown error");
    free(zObjErr);
    o->pW = 0;
    return;
  }
  o->nFlushed = 0;
  o->nRow = 0;
  tsBufReset(&o->buf);
  if( p->opt.eFormat==TS_UNLOAD_CSV ){
    if( p->opt.eCompression==TS_UNLOAD_GZIP ){
      if( tsGzInit(&o->gz, 1) ){ uErr(p, "ts_unload: zlib initialisation failed"); return; }
      o->bGz = 1;
    }
    if( p->opt.bHeader ){
      /* (Not p->row: it holds the row that made us open this file.) */
      int i;
      TsBuf hdr;
      tsBufInit(&hdr);
      for(i=0; i<p->nData; i++){
        if( i ) tsCsvAppendDelim(&hdr, &p->dialect);
        tsCsvAppendText(&hdr, &p->dialect, p->aCol[i].zName, strlen(p->aCol[i].zName));
      }
      tsCsvAppendEol(&hdr);
      if( hdr.bErr ){
        uErr(p, "ts_unload: out of memory"); p->rc = SQLITE_NOMEM;
      }else if( o->bGz ){
        if( tsGzWrite(&o->gz, hdr.a, hdr.n, &o->buf) ) uErr(p, "ts_unload: gzip compression failed");
      }else{
        tsBufAppend(&o->buf, hdr.a, hdr.n);
      }
      tsBufFree(&hdr);
    }
  }else{
    TsPqColumnSpec *aSpec;
    TsPqWriteOpts po;
    int i, rc;
    aSpec = sqlite3_malloc64(sizeof(TsPqColumnSpec)*(size_t)p->nData);
    if( aSpec==0 ){ uErr(p, "ts_unload: out of memory"); p->rc = SQLITE_NOMEM; return; }
    for(i=0; i<p->nData; i++){
      aSpec[i].zName = p->aCol[i].zName;
      aSpec[i].eType = pqKind(finalType(p, i));
      aSpec[i].bNullable = 1;
      aSpec[i].eEncoding = TS_PQ_ENC_AUTO;
    }
    tsPqWriteOptsInit(&po);
    po.eCodec = p->opt.eCompression==TS_UNLOAD_GZIP ? TS_PQ_CODEC_GZIP :
                p->opt.eCompression==TS_UNLOAD_ZSTD ? TS_PQ_CODEC_ZSTD : TS_PQ_CODEC_NONE;
    /* Row groups small enough that a file ends near max_file_size and that
    ** all open partitions together buffer about UNLOAD_PQ_RG_BYTES. */
    po.nRowGroupBytes = p->opt.nMaxFileSize/4;
    if( po.nRowGroupBytes>UNLOAD_PQ_RG_BYTES/(p->nOut>0 ? p->nOut : 1) ){
      po.nRowGroupBytes = UNLOAD_PQ_RG_BYTES/(p->nOut>0 ? p->nOut : 1);
    }
    if( po.nRowGroupBytes<UNLOAD_PQ_RG_MIN ) po.nRowGroupBytes = UNLOAD_PQ_RG_MIN;
    o->bSinkErr = 0;
    rc = tsPqWriterOpen(&o->pPq, aSpec, p->nData, &po, pqSink, o);
    sqlite3_free(aSpec);
    if( rc!=TS_PQ_OK ){
      if( !o->bSinkErr ){
        uErr(p, "ts_unload: cannot start Parquet file %s%s: %s", p->zDestBase, o->zKey,
             o->pPq ? tsPqWriterErrmsg(o->pPq) : "out of memory");
      }
      if( p->rc==SQLITE_OK ) p->rc = SQLITE_ERROR;
    }
  }
}

/* Finish the current file of o and record it for the manifest. */
static void outFinishFile(Unload *p, UOut *o){
  char *zObjErr = 0;
  if( p->rc || o->pW==0 ) return;
  if( o->bGz ){
    if( tsGzFinish(&o->gz, &o->buf) ) uErr(p, "ts_unload: gzip compression failed");
    tsGzFree(&o->gz);
    o->bGz = 0;
  }
  if( o->pPq ){
    if( tsPqWriterFinish(o->pPq)!=TS_PQ_OK && !o->bSinkErr ){
      uErr(p, "ts_unload: writing Parquet file %s%s failed: %s", p->zDestBase, o->zKey,
           tsPqWriterErrmsg(o->pPq));
    }
    tsPqWriterFree(o->pPq);
    o->pPq = 0;
  }
  outDrain(p, o, 1);
  if( p->rc ) return;
  if( tsObjWriterFinish(o->pW, &zObjErr)!=TS_OBJ_OK ){
    o->pW = 0;   /* freed by Finish */
    uErr(p, "ts_unload: completing %s%s failed: %s", p->zDestBase, o->zKey,
         zObjErr ? zObjErr : "unknown error");
    free(zObjErr);
    return;
  }
  o->pW = 0;
  if( p->nFile==p->nFileAlloc ){
    int nNew = p->nFileAlloc ? p->nFileAlloc*2 : 16;
    UFile *aNew = sqlite3_realloc64(p->aFile, sizeof(UFile)*(size_t)nNew);
    if( aNew==0 ){ uErr(p, "ts_unload: out of memory"); p->rc = SQLITE_NOMEM; return; }
    p->aFile = aNew;
    p->nFileAlloc = nNew;
  }
  p->aFile[p->nFile].zKey = o->zKey;
  p->aFile[p->nFile].nByte = o->nFlushed;
  p->aFile[p->nFile].nRow = o->nRow;
  p->nFile++;
  o->zKey = 0;
}

/* Release o, discarding a file in progress. */
static void outFree(UOut *o){
  if( o==0 ) return;
  tsObjWriterAbort(o->pW);
  if( o->bGz ) tsGzFree(&o->gz);
  tsPqWriterFree(o->pPq);
  tsBufFree(&o->buf);
  sqlite3_free(o->zKey);
  sqlite3_free(o->zPart);
  sqlite3_free(o);
}

/* Append the Hive-escaped form of n bytes of z (Hive's escapePathName set:
** control characters, DEL and the characters of the string below become
** %XX). */
static void hiveEscape(TsBuf *b, const char *z, size_t n){
  size_t i;
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    if( c<0x20 || c==0x7f || strchr("\"#%'*/:=?\\{[]^", c) ){
      tsBufPrintf(b, "%%%02X", c);
    }else{
      tsBufAppendByte(b, c);
    }
  }
}

/* Partition key of the current row into pBuf ("" when not partitioned). */
static void partitionKey(Unload *p, TsBuf *pBuf){
  int i;
  tsBufReset(pBuf);
  for(i=p->nData; i<p->nCol && p->rc==SQLITE_OK; i++){
    const UCell *c = &p->aCell[i];
    size_t iStart;
    hiveEscape(pBuf, p->aCol[i].zName, strlen(p->aCol[i].zName));
    tsBufAppendByte(pBuf, '=');
    if( c->eType==SQLITE_NULL ){
      tsBufAppendStr(pBuf, "__HIVE_DEFAULT_PARTITION__/");
      continue;
    }
    tsBufReset(&p->row);
    cellText(p, i, c, &p->row);
    for(iStart=0; iStart<p->row.n; iStart++){
      if( p->row.a[iStart]>=0x80 ){
        cellErr(p, i, c, "partition values must be ASCII");
        break;
      }
    }
    if( p->row.n==0 ){
      /* An empty string would give an empty folder name. */
      tsBufAppendStr(pBuf, "__HIVE_DEFAULT_PARTITION__");
    }else{
      hiveEscape(pBuf, (const char*)p->row.a, p->row.n);
    }
    tsBufAppendByte(pBuf, '/');
  }
  tsBufAppendByte(pBuf, 0);
  pBuf->n--;
  if( pBuf->bErr ){ uErr(p, "ts_unload: out of memory"); p->rc = SQLITE_NOMEM; }
}

/* The output for partition key zPart (creating it); NULL on error. */
static UOut *findOut(Unload *p, const char *zPart){
  int i;
  UOut *o;
  for(i=p->nOut-1; i>=0; i--){
    if( strcmp(p->apOut[i]->zPart, zPart)==0 ) return p->apOut[i];
  }
  if( p->nOut>=TS_UNLOAD_MAX_PARTITIONS ){
    uErr(p, "ts_unload: the query produces more than %d partitions "
            "(partitioned_by allows at most %d; new partition %s)",
         TS_UNLOAD_MAX_PARTITIONS, TS_UNLOAD_MAX_PARTITIONS, zPart);
    return 0;
  }
  if( (p->nOut & (p->nOut-1))==0 ){
    int nNew = p->nOut ? p->nOut*2 : 1;
    UOut **aNew = sqlite3_realloc64(p->apOut, sizeof(UOut*)*(size_t)nNew);
    if( aNew==0 ){ uErr(p, "ts_unload: out of memory"); p->rc = SQLITE_NOMEM; return 0; }
    p->apOut = aNew;
  }
  o = sqlite3_malloc64(sizeof(UOut));
  if( o ){
    memset(o, 0, sizeof(*o));
    tsBufInit(&o->buf);
    o->pU = p;
    o->zPart = sqlite3_mprintf("%s", zPart);
  }
  if( o==0 || o->zPart==0 ){
    outFree(o);
    uErr(p, "ts_unload: out of memory"); p->rc = SQLITE_NOMEM;
    return 0;
  }
  p->apOut[p->nOut++] = o;
  return o;
}

/* ---------------------------------------------------------------- CSV */

/* Would appending nRow more uncompressed bytes push o's current file past
** max_file_size?  Exact for uncompressed files; for gzip an upper bound
** (tsGzBound of the bytes not yet flushed), tightened by a sync flush
** when close to the limit, so a file never exceeds the limit unless a
** single row does. */
static int csvWouldOverflow(Unload *p, UOut *o, size_t nRow){
  sqlite3_int64 nMax = p->opt.nMaxFileSize;
  if( o->nRow==0 ) return 0;
  if( !o->bGz ) return o->nFlushed + (sqlite3_int64)o->buf.n + (sqlite3_int64)nRow > nMax;
  if( o->nFlushed + (sqlite3_int64)o->buf.n
      + (sqlite3_int64)tsGzBound(o->gz.nSinceSync + nRow) <= nMax ) return 0;
  if( tsGzSync(&o->gz, &o->buf) ){ uErr(p, "ts_unload: gzip compression failed"); return 0; }
  return o->nFlushed + (sqlite3_int64)o->buf.n + (sqlite3_int64)tsGzBound(nRow) > nMax;
}

static void csvRow(Unload *p, UOut *o){
  TsBuf *b = &p->row;
  int i;
  tsBufReset(b);
  for(i=0; i<p->nData; i++){
    const UCell *c = &p->aCell[i];
    if( i ) tsCsvAppendDelim(b, &p->dialect);
    if( c->eType==SQLITE_TEXT ){
      tsCsvAppendText(b, &p->dialect, c->z, (size_t)c->n);
    }else if( c->eType==SQLITE_FLOAT ){
      char zNum[TS_DBL_BUFSZ];
      tsCsvAppendText(b, &p->dialect, zNum, (size_t)tsCsvFormatDouble(c->r, zNum));
    }else if( c->eType==SQLITE_INTEGER && p->aCol[i].eDecl!=UT_BOOLEAN
           && p->aCol[i].eDecl!=UT_TIMESTAMP && p->aCol[i].eDecl!=UT_DATE ){
      char zInt[24];
      tsCsvAppendText(b, &p->dialect, zInt, (size_t)fmtInt64(c->i, zInt));
    }else if( c->eType!=SQLITE_NULL ){
      /* Numbers, booleans and times never contain the delimiter unless the
      ** delimiter is a digit/letter: encode them as text to be safe. */
      size_t iStart = b->n;
      char zTmp[64];
      size_t n;
      cellText(p, i, c, b);
      n = b->n - iStart;
      if( n<sizeof(zTmp) ){
        memcpy(zTmp, b->a+iStart, n);
        b->n = iStart;
        tsCsvAppendText(b, &p->dialect, zTmp, n);
      }
    }
  }
  tsCsvAppendEol(b);
  if( b->bErr ){ uErr(p, "ts_unload: out of memory"); p->rc = SQLITE_NOMEM; return; }
  if( o->pW && csvWouldOverflow(p, o, b->n) ) outFinishFile(p, o);
  if( p->rc ) return;
  if( o->pW==0 ) outOpenFile(p, o);
  if( p->rc ) return;
  if( o->bGz ){
    if( tsGzWrite(&o->gz, b->a, b->n, &o->buf) ){ uErr(p, "ts_unload: gzip compression failed"); return; }
  }else{
    tsBufAppend(&o->buf, b->a, b->n);
  }
  o->nRow++;
  outDrain(p, o, 0);
}

/*
** Has the connection been interrupted?  sqlite3_is_interrupted() needs
** SQLite 3.41, so step a one-row statement instead: sqlite3_step() refuses
** to run on an interrupted connection.  Used where no query is stepping
** (Parquet's second pass, just before the manifest), so that an interrupt
** at any moment before the manifest leaves no output.  Sets the error.
*/
static int unloadInterrupted(Unload *p){
  int rc;
  if( p->rc ) return p->bInterrupted;
  if( p->pPing==0 && sqlite3_prepare_v2(p->db, "SELECT 1", -1, &p->pPing, 0)!=SQLITE_OK ) return 0;
  rc = sqlite3_step(p->pPing);
  sqlite3_reset(p->pPing);
  if( rc==SQLITE_INTERRUPT ){
    p->bInterrupted = 1;
    uErr(p, "ts_unload: interrupted");
    p->rc = SQLITE_INTERRUPT;
    return 1;
  }
  return 0;
}

static void runCsv(Unload *p){
  TsBuf key;
  tsBufInit(&key);
  while( stmtNext(p)==SQLITE_ROW ){
    UOut *o;
    partitionKey(p, &key);
    if( p->rc ) break;
    o = findOut(p, key.n ? (const char*)key.a : "");
    if( o==0 ) break;
    csvRow(p, o);
    if( p->rc ) break;
    p->nRowTotal++;
  }
  tsBufFree(&key);
}

/* ---------------------------------------------------------------- Parquet */

/* Estimated bytes of one row in a Parquet file (uncompressed). */
static sqlite3_int64 pqRowBytes(Unload *p){
  sqlite3_int64 n = 0;
  int i;
  for(i=0; i<p->nData; i++){
    const UCell *c = &p->aCell[i];
    n += c->eType==SQLITE_TEXT ? c->n+4 : 8;
  }
  return n;
}

static void pqRow(Unload *p, UOut *o){
  int i, rc = TS_PQ_OK;
  /* Roll over: bytes written + buffered (uncompressed, so an overestimate)
  ** + this row + room for the footer. */
  if( o->pW && o->nRow>0 ){
    sqlite3_int64 nEst = tsPqWriterBytesWritten(o->pPq) + tsPqWriterPendingBytes(o->pPq)
                       + pqRowBytes(p) + 65536 + 256*(sqlite3_int64)p->nData;
    if( nEst>p->opt.nMaxFileSize ) outFinishFile(p, o);
  }
  if( p->rc ) return;
  if( o->pW==0 ) outOpenFile(p, o);
  if( p->rc ) return;
  for(i=0; i<p->nData && rc==TS_PQ_OK; i++){
    const UCell *c = &p->aCell[i];
    if( c->eType==SQLITE_NULL ){
      rc = tsPqWriterNull(o->pPq, i);
      continue;
    }
    switch( finalType(p, i) ){
      case UT_DOUBLE:
        rc = tsPqWriterDouble(o->pPq, i, c->eType==SQLITE_INTEGER ? (double)c->i : c->r);
        break;
      case UT_BOOLEAN:
        rc = tsPqWriterBool(o->pPq, i, c->i!=0);
        break;
      case UT_VARCHAR:
        if( c->eType==SQLITE_TEXT ){
          rc = tsPqWriterText(o->pPq, i, c->z, c->n);
        }else{
          tsBufReset(&p->row);
          cellText(p, i, c, &p->row);
          rc = tsPqWriterText(o->pPq, i, (const char*)p->row.a, (int64_t)p->row.n);
        }
        break;
      default:   /* BIGINT, TIMESTAMP, DATE */
        rc = tsPqWriterInt64(o->pPq, i, c->i);
        break;
    }
  }
  if( rc==TS_PQ_OK ) rc = tsPqWriterEndRow(o->pPq);
  if( rc!=TS_PQ_OK ){
    if( !o->bSinkErr ){
      uErr(p, "ts_unload: writing Parquet file %s%s failed at row %lld: %s", p->zDestBase,
           o->zKey, p->nRowTotal+1, tsPqWriterErrmsg(o->pPq));
    }
    if( p->rc==SQLITE_OK ) p->rc = SQLITE_ERROR;
    return;
  }
  o->nRow++;
}

static void runParquet(Unload *p){
  TsBuf key;
  sqlite3_int64 nRow = 0;
  char **azPart = 0;     /* distinct partition keys seen in pass 1 */
  int nPart = 0, i;
  tsBufInit(&key);
  p->pSpool = tmpfile();
  if( p->pSpool==0 ){
    uErr(p, "ts_unload: cannot create a temporary spool file for the Parquet output");
    return;
  }
  /* Pass 1: run the query, decide the types, count partitions, spool. */
  while( stmtNext(p)==SQLITE_ROW ){
    if( p->nCol>p->nData ){
      partitionKey(p, &key);
      if( p->rc ) break;
      for(i=0; i<nPart && strcmp(azPart[i], (const char*)key.a); i++){}
      if( i==nPart ){
        char **aNew;
        if( nPart>=TS_UNLOAD_MAX_PARTITIONS ){
          uErr(p, "ts_unload: the query produces more than %d partitions "
                  "(partitioned_by allows at most %d; new partition %s)",
               TS_UNLOAD_MAX_PARTITIONS, TS_UNLOAD_MAX_PARTITIONS, (const char*)key.a);
          break;
        }
        aNew = sqlite3_realloc64(azPart, sizeof(char*)*(size_t)(nPart+1));
        if( aNew ) azPart = aNew;
        if( aNew==0 || (azPart[nPart] = sqlite3_mprintf("%s", (const char*)key.a))==0 ){
          uErr(p, "ts_unload: out of memory"); p->rc = SQLITE_NOMEM;
          break;
        }
        nPart++;
      }
    }
    spoolRow(p);
    if( p->rc ) break;
    p->nRowTotal++;
  }
  nRow = p->nRowTotal;
  /* Pass 2: write the files from the spool.  Outputs for every partition
  ** exist up front so row groups can be sized for their number. */
  for(i=0; i<nPart && p->rc==SQLITE_OK; i++) findOut(p, azPart[i]);
  if( p->rc==SQLITE_OK && fflush(p->pSpool)!=0 ){
    uErr(p, "ts_unload: writing the temporary spool file failed (disk full?)");
  }
  if( p->rc==SQLITE_OK ) rewind(p->pSpool);
  p->nRowTotal = 0;
  while( p->rc==SQLITE_OK && spoolNext(p)==SQLITE_ROW ){
    UOut *o;
    if( (p->nRowTotal & 4095)==4095 && unloadInterrupted(p) ) break;
    partitionKey(p, &key);
    if( p->rc ) break;
    o = findOut(p, key.n ? (const char*)key.a : "");
    if( o==0 ) break;
    pqRow(p, o);
    p->nRowTotal++;
  }
  if( p->rc==SQLITE_OK && p->nRowTotal!=nRow ){
    uErr(p, "ts_unload: the temporary spool file lost rows (%lld of %lld)", p->nRowTotal, nRow);
  }
  for(i=0; i<nPart; i++) sqlite3_free(azPart[i]);
  sqlite3_free(azPart);
  tsBufFree(&key);
}

/* ---------------------------------------------------------------- JSON */

/* Write a small whole object; error names it. */
static void putObject(Unload *p, const char *zKey, TsBuf *b){
  char *zObjErr = 0;
  if( p->rc ) return;
  if( b->bErr ){ uErr(p, "ts_unload: out of memory"); p->rc = SQLITE_NOMEM; return; }
  if( tsObjPut(p->pStore, zKey, b->a, b->n, &zObjErr)!=TS_OBJ_OK ){
    uErr(p, "ts_unload: writing %s%s failed: %s", p->zDestBase, zKey,
         zObjErr ? zObjErr : "unknown error");
  }
  free(zObjErr);
}

/* Write metadata then manifest; set the function result. */
static void writeManifest(Unload *p){
  char zUuid[40];
  char *zMeta = 0, *zMan = 0, *zMetaUrl = 0, *zManUrl = 0;
  TsBuf b;
  TsJsonW w;
  sqlite3_int64 nTotal = 0;
  int i;
  if( p->rc ) return;
  tsBufInit(&b);
  makeUuid(zUuid);
  zMeta = sqlite3_mprintf("%s_%s_metadata.json", p->zQueryId, zUuid);
  zMan = sqlite3_mprintf("%s_%s_manifest.json", p->zQueryId, zUuid);
  zMetaUrl = sqlite3_mprintf("%s%s", p->zDestBase, zMeta);
  zManUrl = sqlite3_mprintf("%s%s", p->zDestBase, zMan);
  if( !zMeta || !zMan || !zMetaUrl || !zManUrl ){ uErr(p, "ts_unload: out of memory"); goto done; }

  /* Every JSON text goes through the one writer (common/jsonw.h). */
  tsJwInit(&w, &b);
  tsJwObjBegin(&w);
  tsJwKey(&w, "ColumnInfo");
  tsJwArrBegin(&w);
  for(i=0; i<p->nCol; i++){
    tsJwObjBegin(&w);
    tsJwKeyStr(&w, "Name", p->aCol[i].zName);
    tsJwKey(&w, "Type");
    tsJwObjBegin(&w);
    tsJwKeyStr(&w, "ScalarType", azTypeName[finalType(p, i)]);
    tsJwObjEnd(&w);
    tsJwObjEnd(&w);
  }
  tsJwArrEnd(&w);
  tsJwKey(&w, "Author");
  tsJwObjBegin(&w);
  tsJwKeyStr(&w, "Name", "Amazon Timestream");
  tsJwKeyStr(&w, "MetadataFileVersion", "1.0");
  tsJwObjEnd(&w);
  tsJwObjEnd(&w);
  if( tsJwError(&w) ) b.bErr = 1;
  putObject(p, zMeta, &b);

  tsBufReset(&b);
  tsJwInit(&w, &b);
  tsJwObjBegin(&w);
  tsJwKey(&w, "result_files");
  tsJwArrBegin(&w);
  for(i=0; i<p->nFile; i++){
    char *zUrl = sqlite3_mprintf("%s%s", p->zDestBase, p->aFile[i].zKey);
    if( zUrl==0 ){ uErr(p, "ts_unload: out of memory"); p->rc = SQLITE_NOMEM; goto done; }
    tsJwObjBegin(&w);
    tsJwKeyStr(&w, "url", zUrl);
    sqlite3_free(zUrl);
    tsJwKey(&w, "file_metadata");
    tsJwObjBegin(&w);
    tsJwKeyInt(&w, "content_length_in_bytes", p->aFile[i].nByte);
    tsJwKeyInt(&w, "row_count", p->aFile[i].nRow);
    tsJwObjEnd(&w);
    tsJwObjEnd(&w);
    nTotal += p->aFile[i].nByte;
  }
  tsJwArrEnd(&w);
  tsJwKey(&w, "query_metadata");
  tsJwObjBegin(&w);
  tsJwKeyInt(&w, "content_length_in_bytes", nTotal);
  tsJwKeyInt(&w, "total_row_count", p->nRowTotal);
  tsJwKeyStr(&w, "result_format", p->opt.eFormat==TS_UNLOAD_PARQUET ? "PARQUET" : "CSV");
  tsJwKeyStr(&w, "result_version", "Amazon Timestream version 1.0.0");
  tsJwObjEnd(&w);
  tsJwKey(&w, "author");
  tsJwObjBegin(&w);
  tsJwKeyStr(&w, "name", "Amazon Timestream");
  tsJwKeyStr(&w, "manifest_file_version", "1.0");
  tsJwObjEnd(&w);
  tsJwObjEnd(&w);
  if( tsJwError(&w) ) b.bErr = 1;
  putObject(p, zMan, &b);

  if( p->rc==SQLITE_OK ){
    tsBufReset(&b);
    tsJwInit(&w, &b);
    tsJwObjBegin(&w);
    tsJwKeyInt(&w, "rows", p->nRowTotal);
    tsJwKeyStr(&w, "manifestFile", zManUrl);
    tsJwKeyStr(&w, "metadataFile", zMetaUrl);
    tsJwObjEnd(&w);
    if( tsJwError(&w) || b.bErr ){ uErr(p, "ts_unload: out of memory"); p->rc = SQLITE_NOMEM; }
    else sqlite3_result_text(p->ctx, (const char*)b.a, (int)b.n, SQLITE_TRANSIENT);
  }
done:
  tsBufFree(&b);
  sqlite3_free(zMeta);
  sqlite3_free(zMan);
  sqlite3_free(zMetaUrl);
  sqlite3_free(zManUrl);
}

/* ---------------------------------------------------------------- entry */

/* Set up columns and check partitioned_by against the SELECT. */
static void setupColumns(Unload *p){
  int i, k = p->opt.nPartition;
  p->nCol = sqlite3_column_count(p->pStmt);
  p->aCol = sqlite3_malloc64(sizeof(UCol)*(size_t)p->nCol);
  p->aCell = sqlite3_malloc64(sizeof(UCell)*(size_t)p->nCol);
  /* Zeroed before the check: the cleanup frees every aCol[i].zName, so a
  ** failed aCell allocation must not leave aCol uninitialised. */
  if( p->aCol ) memset(p->aCol, 0, sizeof(UCol)*(size_t)p->nCol);
  if( p->aCell ) memset(p->aCell, 0, sizeof(UCell)*(size_t)p->nCol);
  if( p->aCol==0 || p->aCell==0 ){ uErr(p, "ts_unload: out of memory"); p->rc = SQLITE_NOMEM; return; }
  for(i=0; i<p->nCol; i++){
    const char *zName = sqlite3_column_name(p->pStmt, i);
    p->aCol[i].zName = sqlite3_mprintf("%s", zName ? zName : "");
    if( p->aCol[i].zName==0 ){ uErr(p, "ts_unload: out of memory"); p->rc = SQLITE_NOMEM; return; }
    p->aCol[i].eDecl = declType(sqlite3_column_decltype(p->pStmt, i));
    p->aCol[i].eType = p->aCol[i].eDecl;
  }
  if( k>=p->nCol ){
    uErr(p, "ts_unload: partitioned_by lists %d column%s but the SELECT has %d; "
            "at least one column must remain in the files", k, k==1 ? "" : "s", p->nCol);
    return;
  }
  for(i=0; i<k; i++){
    const char *zWant = p->opt.azPartition[i];
    const char *zHave = p->aCol[p->nCol-k+i].zName;
    if( strcmp(zWant, zHave)!=0 ){
      int j, bFound = 0;
      for(j=0; j<p->nCol; j++) if( strcmp(p->aCol[j].zName, zWant)==0 ) bFound = 1;
      if( !bFound ){
        uErr(p, "ts_unload: partitioned_by column '%s' is not a column of the SELECT", zWant);
      }else{
        uErr(p, "ts_unload: partitioned_by columns must be the last columns of the SELECT, "
                "in the same order: expected '%s' at position %d of %d, found '%s'",
             zWant, p->nCol-k+i+1, p->nCol, zHave);
      }
      return;
    }
  }
  p->nData = p->nCol - k;
}

static void unloadFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  Unload u;
  Unload *p = &u;
  const char *zSql, *zOpt = 0, *zTail = 0, *zDestIn;
  char *zOptErr = 0;
  int i;

  memset(p, 0, sizeof(*p));
  p->ctx = ctx;
  p->db = sqlite3_context_db_handle(ctx);
  tsBufInit(&p->row);
  tsBufInit(&p->spoolRd);
  zSql = (const char*)sqlite3_value_text(argv[0]);
  zDestIn = (const char*)sqlite3_value_text(argv[1]);
  if( argc>2 && sqlite3_value_type(argv[2])!=SQLITE_NULL ) zOpt = (const char*)sqlite3_value_text(argv[2]);
  if( zSql==0 ){ uErr(p, "ts_unload: select_sql is NULL"); goto done; }
  if( zDestIn==0 || zDestIn[0]==0 ){
    uErr(p, "ts_unload: destination is NULL or empty (expected 's3://bucket/prefix', "
         "'file:///dir' or a directory path)");
    goto done;
  }
  {
    /* A plain path ('out/') is a directory resolved against the working
    ** directory; the manifest lists the file:// URIs of what was written. */
    char *zResErr = 0;
    p->zDest = tsObjUriResolve(zDestIn, &zResErr);
    if( p->zDest==0 ){
      uErr(p, "ts_unload: destination '%s': %s", zDestIn, zResErr ? zResErr : "out of memory");
      free(zResErr);
      goto done;
    }
  }
  if( tsUnloadOptsParse(zOpt, &p->opt, &zOptErr) ){
    uErr(p, "ts_unload: %s", zOptErr ? zOptErr : "out of memory");
    free(zOptErr);
    goto done;
  }
  p->dialect.cDelim = p->opt.cDelim;
  p->dialect.cEscape = p->opt.cEscape;

  /* The query: one read-only statement that returns rows. */
  if( sqlite3_prepare_v2(p->db, zSql, -1, &p->pStmt, &zTail)!=SQLITE_OK ){
    uErr(p, "ts_unload: select_sql: %s", sqlite3_errmsg(p->db));
    goto done;
  }
  if( p->pStmt==0 ){ uErr(p, "ts_unload: select_sql is empty"); goto done; }
  while( zTail && (*zTail==' ' || *zTail=='\t' || *zTail=='\n' || *zTail=='\r' || *zTail==';') ) zTail++;
  if( zTail && *zTail ){
    uErr(p, "ts_unload: select_sql must be a single statement (found more SQL after the first: '%.40s')", zTail);
    goto done;
  }
  if( !sqlite3_stmt_readonly(p->pStmt) || sqlite3_column_count(p->pStmt)==0 ){
    uErr(p, "ts_unload: select_sql must be a SELECT (a read-only statement that returns rows)");
    goto done;
  }
  setupColumns(p);
  if( p->rc ) goto done;

  /* The destination. */
  {
    TsObjConfig cfg;
    char *zObjErr = 0;
    size_t n = strlen(p->zDest), nMin = 1;
    const char *zSep = strstr(p->zDest, "://");
    /* Keep at least "scheme://x" so that 'file:///' stays the root. */
    if( zSep ) nMin = (size_t)(zSep - p->zDest) + 4;
    while( n>nMin && p->zDest[n-1]=='/' ) n--;
    p->zDestBase = sqlite3_mprintf("%.*s%s", (int)n, p->zDest, p->zDest[n-1]=='/' ? "" : "/");
    if( p->zDestBase==0 ){ uErr(p, "ts_unload: out of memory"); goto done; }
    memset(&cfg, 0, sizeof(cfg));
    cfg.zSse = p->opt.zEncryption;
    cfg.zKmsKey = p->opt.zKmsKey;
    if( tsObjOpen(p->zDest, &cfg, &p->pStore, &zObjErr)!=TS_OBJ_OK ){
      uErr(p, "ts_unload: cannot open destination '%s': %s", p->zDest,
           zObjErr ? zObjErr : "unknown error");
      free(zObjErr);
      goto done;
    }
  }
  makeQueryId(p->zQueryId);

  if( p->opt.eFormat==TS_UNLOAD_CSV ) runCsv(p);
  else runParquet(p);
  for(i=0; i<p->nOut && p->rc==SQLITE_OK; i++) outFinishFile(p, p->apOut[i]);
  if( !unloadInterrupted(p) ) writeManifest(p);

done:
  for(i=0; i<p->nOut; i++) outFree(p->apOut[i]);
  if( p->bInterrupted ){
    /* An interrupted UNLOAD leaves nothing: the file in progress was just
    ** discarded (outFree); the completed ones are deleted and no manifest
    ** was written.  (Other failures keep Timestream's rule: completed files
    ** stay, without a manifest.) */
    int nDel = 0, nKeep = 0;
    char *zDelErr = 0;
    for(i=0; i<p->nFile; i++){
      char *zE = 0;
      if( tsObjDelete(p->pStore, p->aFile[i].zKey, &zE)==TS_OBJ_OK ){
        nDel++;
      }else{
        nKeep++;
        if( zDelErr==0 ) zDelErr = zE; else free(zE);
        zE = 0;
      }
      free(zE);
    }
    sqlite3_free(p->zErr);
    if( nKeep==0 ){
      p->zErr = sqlite3_mprintf("ts_unload: interrupted after %lld rows (sqlite3_interrupt() or a "
                                "progress handler): no output was left at %s (the file in progress "
                                "was discarded, %d completed files deleted, no manifest written)",
                                p->nRowTotal, p->zDestBase, nDel);
    }else{
      p->zErr = sqlite3_mprintf("ts_unload: interrupted after %lld rows (sqlite3_interrupt() or a "
                                "progress handler): no manifest written at %s, but %d of %d completed "
                                "files could not be deleted: %s", p->nRowTotal, p->zDestBase,
                                nKeep, nKeep+nDel, zDelErr ? zDelErr : "unknown error");
    }
    free(zDelErr);
    p->rc = p->zErr ? SQLITE_INTERRUPT : SQLITE_NOMEM;
  }
  if( p->rc ){
    sqlite3_result_error(ctx, p->zErr ? p->zErr : "ts_unload: out of memory", -1);
    if( p->rc==SQLITE_NOMEM ) sqlite3_result_error_nomem(ctx);
    else if( p->rc==SQLITE_INTERRUPT ) sqlite3_result_error_code(ctx, SQLITE_INTERRUPT);
  }
  sqlite3_free(p->apOut);
  for(i=0; i<p->nFile; i++) sqlite3_free(p->aFile[i].zKey);
  sqlite3_free(p->aFile);
  if( p->aCol ) for(i=0; i<p->nCol; i++) sqlite3_free(p->aCol[i].zName);
  sqlite3_free(p->aCol);
  sqlite3_free(p->aCell);
  sqlite3_finalize(p->pStmt);
  sqlite3_finalize(p->pPing);
  tsObjClose(p->pStore);
  if( p->pSpool ) fclose(p->pSpool);
  tsBufFree(&p->row);
  tsBufFree(&p->spoolRd);
  tsUnloadOptsFree(&p->opt);
  sqlite3_free(p->zDestBase);
  free(p->zDest);
  sqlite3_free(p->zErr);
}

int tsUnloadRegister(sqlite3 *db, TsEnv *pEnv){
  int rc;
  /* DIRECTONLY: it writes to external storage, so never from a trigger or
  ** view running on behalf of someone else's SQL. */
  rc = sqlite3_create_function_v2(db, "ts_unload", 2, SQLITE_UTF8|SQLITE_DIRECTONLY,
                                  tsEnvRef(pEnv), unloadFunc, 0, 0, tsEnvUnref);
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "ts_unload", 3, SQLITE_UTF8|SQLITE_DIRECTONLY,
                                    tsEnvRef(pEnv), unloadFunc, 0, 0, tsEnvUnref);
  }
  return rc;
}
