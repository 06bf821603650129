/*
** unload_opts.c: parses ts_unload()'s options_json (pure C, no SQLite).
**
** The input is one JSON object whose members are Timestream's UNLOAD options
** (reference 6.1), names matched case-insensitively:
**
**   {"format":"parquet", "compression":"zstd", "partitioned_by":["region"],
**    "field_delimiter":"|", "escaped_by":"\\", "include_header":true,
**    "max_file_size":"256MB", "encryption":"sse_kms", "kms_key":"arn:..."}
**
** Values are strings, as in Timestream's WITH clause (also case-insensitive:
** 'CSV' = 'csv'), except partitioned_by (a JSON array of strings) and
** include_header (true/false or the strings 'true'/'false').  Anything else
** (unknown names, duplicates, wrong JSON types, bad values, option
** combinations that do not apply) is rejected with a message naming the
** option.  The parser is a small recursive-descent JSON reader that accepts
** exactly RFC 8259 for the value shapes above and treats its input as
** hostile: every read is bounds-checked against the NUL terminator.
*/
#include "unload.h"
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JV_STRING 1
#define JV_TRUE   2
#define JV_FALSE  3
#define JV_NULL   4
#define JV_NUMBER 5
#define JV_ARRAY  6
#define JV_OBJECT 7

typedef struct JParse JParse;
struct JParse {
  const char *z;   /* input, NUL-terminated; not owned */
  size_t i;        /* read offset */
  char *zErr;      /* malloc'd message on failure */
};

static void jErr(JParse *p, const char *zFmt, ...){
  va_list ap;
  char zBuf[512];
  if( p->zErr ) return;
  va_start(ap, zFmt);
  vsnprintf(zBuf, sizeof(zBuf), zFmt, ap);
  va_end(ap);
  p->zErr = strdup(zBuf);
  if( p->zErr==0 ) p->zErr = (char*)-1;   /* sentinel: out of memory */
}

static void jWs(JParse *p){
  while( p->z[p->i]==' ' || p->z[p->i]=='\t' || p->z[p->i]=='\n' || p->z[p->i]=='\r' ) p->i++;
}

static int hexVal(char c){
  if( c>='0' && c<='9' ) return c-'0';
  if( c>='a' && c<='f' ) return c-'a'+10;
  if( c>='A' && c<='F' ) return c-'A'+10;
  return -1;
}

static int jHex4(JParse *p, unsigned *pv){
  unsigned v = 0;
  int k;
  for(k=0; k<4; k++){
    int h = hexVal(p->z[p->i]);
    if( h<0 ) return 1;
    v = v*16 + (unsigned)h;
    p->i++;
  }
  *pv = v;
  return 0;
}

/* Parse a JSON string at p->i (which is at '"'); return it malloc'd. */
static char *jString(JParse *p){
  size_t nAlloc = 32, n = 0;
  char *z = malloc(nAlloc);
  if( z==0 ){ jErr(p, "out of memory"); return 0; }
  p->i++;
  for(;;){
    unsigned char c = (unsigned char)p->z[p->i];
    unsigned cp;
    char aEnc[4];
    int nEnc = 0;
    if( c==0 ){ jErr(p, "options_json: unterminated string"); break; }
    if( c<0x20 ){ jErr(p, "options_json: control character in a string at offset %zu", p->i); break; }
    if( c=='"' ){ p->i++; z[n] = 0; return z; }
    if( c!='\\' ){
      aEnc[0] = (char)c; nEnc = 1; p->i++;
    }else{
      char e = p->z[p->i+1];
      p->i += 2;
      switch( e ){
        case '"': case '\\': case '/': aEnc[0] = e; nEnc = 1; break;
        case 'b': aEnc[0] = '\b'; nEnc = 1; break;
        case 'f': aEnc[0] = '\f'; nEnc = 1; break;
        case 'n': aEnc[0] = '\n'; nEnc = 1; break;
        case 'r': aEnc[0] = '\r'; nEnc = 1; break;
        case 't': aEnc[0] = '\t'; nEnc = 1; break;
        case 'u':
          if( jHex4(p, &cp) ){ jErr(p, "options_json: bad \\u escape at offset %zu", p->i); break; }
          if( cp>=0xD800 && cp<0xDC00 ){
            unsigned lo;
            if( p->z[p->i]!='\\' || p->z[p->i+1]!='u' ){ jErr(p, "options_json: unpaired surrogate"); break; }
            p->i += 2;
            if( jHex4(p, &lo) || lo<0xDC00 || lo>0xDFFF ){ jErr(p, "options_json: unpaired surrogate"); break; }
            cp = 0x10000 + ((cp-0xD800)<<10) + (lo-0xDC00);
          }else if( cp>=0xDC00 && cp<0xE000 ){
            jErr(p, "options_json: unpaired surrogate"); break;
          }
          if( cp==0 ){ jErr(p, "options_json: \\u0000 is not allowed in an option"); break; }
          if( cp<0x80 ){ aEnc[0] = (char)cp; nEnc = 1; }
          else if( cp<0x800 ){ aEnc[0] = (char)(0xC0|(cp>>6)); aEnc[1] = (char)(0x80|(cp&0x3F)); nEnc = 2; }
          else if( cp<0x10000 ){
            aEnc[0] = (char)(0xE0|(cp>>12)); aEnc[1] = (char)(0x80|((cp>>6)&0x3F));
            aEnc[2] = (char)(0x80|(cp&0x3F)); nEnc = 3;
          }else{
            aEnc[0] = (char)(0xF0|(cp>>18)); aEnc[1] = (char)(0x80|((cp>>12)&0x3F));
            aEnc[2] = (char)(0x80|((cp>>6)&0x3F)); aEnc[3] = (char)(0x80|(cp&0x3F)); nEnc = 4;
          }
          break;
        default:
          jErr(p, "options_json: bad escape in a string at offset %zu", p->i-2);
          break;
      }
      if( p->zErr ) break;
    }
    if( n+(size_t)nEnc+1>nAlloc ){
      char *zNew;
      if( nAlloc>(1u<<20) ){ jErr(p, "options_json: string too long"); break; }
      nAlloc *= 2;
      zNew = realloc(z, nAlloc);
      if( zNew==0 ){ jErr(p, "out of memory"); break; }
      z = zNew;
    }
    memcpy(z+n, aEnc, (size_t)nEnc);
    n += (size_t)nEnc;
  }
  free(z);
  return 0;
}

/* Skip a JSON number; return 0 if well-formed. */
static int jNumber(JParse *p){
  size_t i = p->i;
  if( p->z[i]=='-' ) i++;
  if( p->z[i]=='0' ) i++;
  else if( p->z[i]>='1' && p->z[i]<='9' ){ while( isdigit((unsigned char)p->z[i]) ) i++; }
  else return 1;
  if( p->z[i]=='.' ){
    i++;
    if( !isdigit((unsigned char)p->z[i]) ) return 1;
    while( isdigit((unsigned char)p->z[i]) ) i++;
  }
  if( p->z[i]=='e' || p->z[i]=='E' ){
    i++;
    if( p->z[i]=='+' || p->z[i]=='-' ) i++;
    if( !isdigit((unsigned char)p->z[i]) ) return 1;
    while( isdigit((unsigned char)p->z[i]) ) i++;
  }
  p->i = i;
  return 0;
}

/* Classify (and, for strings, parse) the value at p->i.  Arrays and objects
** are left for the caller (p->i stays at the bracket). */
static int jValueKind(JParse *p, char **pzStr){
  const char *z = p->z + p->i;
  *pzStr = 0;
  switch( *z ){
    case '"': *pzStr = jString(p); return p->zErr ? 0 : JV_STRING;
    case '[': return JV_ARRAY;
    case '{': return JV_OBJECT;
    case 't': if( strncmp(z, "true", 4)==0 ){ p->i += 4; return JV_TRUE; } break;
    case 'f': if( strncmp(z, "false", 5)==0 ){ p->i += 5; return JV_FALSE; } break;
    case 'n': if( strncmp(z, "null", 4)==0 ){ p->i += 4; return JV_NULL; } break;
    default:
      if( *z=='-' || isdigit((unsigned char)*z) ){
        if( jNumber(p)==0 ) return JV_NUMBER;
      }
      break;
  }
  jErr(p, "options_json: not valid JSON at offset %zu", p->i);
  return 0;
}

static const char *kindName(int k){
  switch( k ){
    case JV_STRING: return "a string";
    case JV_TRUE: case JV_FALSE: return "a boolean";
    case JV_NULL: return "null";
    case JV_NUMBER: return "a number";
    case JV_ARRAY: return "an array";
    default: return "an object";
  }
}

/* Skip a nested array/object at p->i (used only to report its kind). */
static void jSkipNested(JParse *p){
  int nDepth = 0;
  do{
    char c = p->z[p->i];
    if( c==0 ){ jErr(p, "options_json: unterminated JSON value"); return; }
    if( c=='"' ){ free(jString(p)); if( p->zErr ) return; continue; }
    if( c=='[' || c=='{' ) nDepth++;
    if( c==']' || c=='}' ) nDepth--;
    p->i++;
  }while( nDepth>0 );
}

static char *lowerDup(const char *z){
  char *zOut = strdup(z);
  size_t i;
  if( zOut ) for(i=0; zOut[i]; i++) zOut[i] = (char)tolower((unsigned char)zOut[i]);
  return zOut;
}

static const char *azOptName[] = {
  "format", "compression", "partitioned_by", "field_delimiter", "escaped_by",
  "include_header", "max_file_size", "encryption", "kms_key"
};
#define N_OPT (int)(sizeof(azOptName)/sizeof(azOptName[0]))
#define OPT_FORMAT          0
#define OPT_COMPRESSION     1
#define OPT_PARTITIONED_BY  2
#define OPT_FIELD_DELIMITER 3
#define OPT_ESCAPED_BY      4
#define OPT_INCLUDE_HEADER  5
#define OPT_MAX_FILE_SIZE   6
#define OPT_ENCRYPTION      7
#define OPT_KMS_KEY         8

int tsUnloadParseSize(const char *z, int64_t *pnByte){
  size_t i = 0, nDigit = 0;
  long double v = 0, scale = 1;
  int64_t nUnit;
  while( isdigit((unsigned char)z[i]) ){ v = v*10 + (z[i]-'0'); i++; nDigit++; if( nDigit>12 ) return 1; }
  if( z[i]=='.' ){
    size_t nFrac = 0;
    i++;
    while( isdigit((unsigned char)z[i]) ){
      scale /= 10; v += (z[i]-'0')*scale; i++; nDigit++;
      if( ++nFrac>9 ) return 1;
    }
    if( nFrac==0 ) return 1;
  }
  if( nDigit==0 ) return 1;
  if( strcasecmp(z+i, "MB")==0 ) nUnit = TS_UNLOAD_MB;
  else if( strcasecmp(z+i, "GB")==0 ) nUnit = TS_UNLOAD_GB;
  else return 1;
  v *= (long double)nUnit;
  if( v>(long double)INT64_MAX/2 ) return 1;
  *pnByte = (int64_t)(v + 0.5L);
  return 0;
}

void tsUnloadOptsFree(TsUnloadOpts *p){
  int i;
  for(i=0; i<p->nPartition; i++) free(p->azPartition[i]);
  free(p->azPartition);
  free(p->zEncryption);
  free(p->zKmsKey);
  p->azPartition = 0;
  p->nPartition = 0;
  p->zEncryption = 0;
  p->zKmsKey = 0;
}

/* One-character option (field_delimiter, escaped_by). */
static void oneChar(JParse *p, const char *zOpt, const char *zVal, char *pc){
  if( strlen(zVal)!=1 || (unsigned char)zVal[0]>=0x80 ){
    jErr(p, "option '%s' must be exactly one ASCII character, got '%s'", zOpt, zVal);
  }else{
    *pc = zVal[0];
  }
}

int tsUnloadOptsParse(const char *zJson, TsUnloadOpts *pOpt, char **pzErr){
  JParse s;
  JParse *p = &s;
  int abSeen[N_OPT];
  memset(pOpt, 0, sizeof(*pOpt));
  memset(abSeen, 0, sizeof(abSeen));
  pOpt->eFormat = TS_UNLOAD_CSV;
  pOpt->eCompression = TS_UNLOAD_GZIP;
  pOpt->cDelim = ',';
  pOpt->cEscape = '\\';
  pOpt->nMaxFileSize = TS_UNLOAD_MAX_FILE_SIZE;
  *pzErr = 0;
  memset(p, 0, sizeof(*p));
  p->z = zJson ? zJson : "";
  jWs(p);
  if( p->z[p->i]==0 ) return 0;    /* no options */
  if( p->z[p->i]!='{' ){
    jErr(p, "options_json must be a JSON object such as {\"format\":\"parquet\"}");
    goto done;
  }
  p->i++;
  jWs(p);
  if( p->z[p->i]=='}' ){ p->i++; goto trailer; }
  for(;;){
    char *zName, *zLower, *zStr = 0;
    int iOpt, eKind;
    jWs(p);
    if( p->z[p->i]!='"' ){ jErr(p, "expected an option name in double quotes at offset %zu", p->i); break; }
    zName = jString(p);
    if( zName==0 ) break;
    zLower = lowerDup(zName);
    free(zName);
    if( zLower==0 ){ jErr(p, "out of memory"); break; }
    for(iOpt=0; iOpt<N_OPT && strcmp(zLower, azOptName[iOpt]); iOpt++){}
    if( iOpt==N_OPT ){
      jErr(p, "unknown option '%s' (options: format, compression, partitioned_by, "
              "field_delimiter, escaped_by, include_header, max_file_size, encryption, kms_key)",
           zLower);
      free(zLower);
      break;
    }
    free(zLower);
    if( abSeen[iOpt] ){ jErr(p, "option '%s' is given twice", azOptName[iOpt]); break; }
    abSeen[iOpt] = 1;
    jWs(p);
    if( p->z[p->i]!=':' ){ jErr(p, "expected ':' after option '%s'", azOptName[iOpt]); break; }
    p->i++;
    jWs(p);
    eKind = jValueKind(p, &zStr);
    if( p->zErr ) break;

    if( iOpt==OPT_PARTITIONED_BY ){
      if( eKind!=JV_ARRAY ){
        free(zStr);
        jErr(p, "option 'partitioned_by' must be a JSON array of column names, such as [\"region\"]");
        break;
      }
      p->i++;
      jWs(p);
      if( p->z[p->i]==']' ){ p->i++; }
      else for(;;){
        char *zCol;
        char **aNew;
        int k;
        jWs(p);
        if( p->z[p->i]!='"' ){ jErr(p, "option 'partitioned_by' must be a JSON array of column names (strings)"); break; }
        zCol = jString(p);
        if( zCol==0 ) break;
        if( zCol[0]==0 ){ free(zCol); jErr(p, "option 'partitioned_by': empty column name"); break; }
        for(k=0; k<pOpt->nPartition; k++){
          if( strcmp(pOpt->azPartition[k], zCol)==0 ) break;
        }
        if( k<pOpt->nPartition ){
          jErr(p, "option 'partitioned_by': column '%s' is listed twice", zCol);
          free(zCol);
          break;
        }
        aNew = realloc(pOpt->azPartition, sizeof(char*)*(size_t)(pOpt->nPartition+1));
        if( aNew==0 ){ free(zCol); jErr(p, "out of memory"); break; }
        pOpt->azPartition = aNew;
        pOpt->azPartition[pOpt->nPartition++] = zCol;
        jWs(p);
        if( p->z[p->i]==',' ){ p->i++; continue; }
        if( p->z[p->i]==']' ){ p->i++; break; }
        jErr(p, "option 'partitioned_by': expected ',' or ']' at offset %zu", p->i);
        break;
      }
      if( p->zErr ) break;
    }else if( iOpt==OPT_INCLUDE_HEADER && (eKind==JV_TRUE || eKind==JV_FALSE) ){
      pOpt->bHeader = (eKind==JV_TRUE);
    }else if( eKind!=JV_STRING ){
      if( eKind==JV_ARRAY || eKind==JV_OBJECT ) jSkipNested(p);
      jErr(p, "option '%s' must be a string, got %s", azOptName[iOpt], kindName(eKind));
      break;
    }else{
      const char *z = zStr;
      switch( iOpt ){
        case OPT_FORMAT:
          if( strcasecmp(z, "csv")==0 ) pOpt->eFormat = TS_UNLOAD_CSV;
          else if( strcasecmp(z, "parquet")==0 ) pOpt->eFormat = TS_UNLOAD_PARQUET;
          else jErr(p, "option 'format' must be 'csv' or 'parquet', got '%s'", z);
          break;
        case OPT_COMPRESSION:
          if( strcasecmp(z, "gzip")==0 ) pOpt->eCompression = TS_UNLOAD_GZIP;
          else if( strcasecmp(z, "none")==0 ) pOpt->eCompression = TS_UNLOAD_NONE;
          else if( strcasecmp(z, "zstd")==0 ) pOpt->eCompression = TS_UNLOAD_ZSTD;
          else jErr(p, "option 'compression' must be 'gzip', 'none' or 'zstd' (parquet only), got '%s'", z);
          break;
        case OPT_FIELD_DELIMITER:
          oneChar(p, "field_delimiter", z, &pOpt->cDelim);
          break;
        case OPT_ESCAPED_BY:
          oneChar(p, "escaped_by", z, &pOpt->cEscape);
          break;
        case OPT_INCLUDE_HEADER:
          if( strcasecmp(z, "true")==0 ) pOpt->bHeader = 1;
          else if( strcasecmp(z, "false")==0 ) pOpt->bHeader = 0;
          else jErr(p, "option 'include_header' must be true or false, got '%s'", z);
          break;
        case OPT_MAX_FILE_SIZE: {
          int64_t nByte = 0;
          if( tsUnloadParseSize(z, &nByte) ){
            jErr(p, "option 'max_file_size' must be a size such as '256MB' or '0.5GB' "
                    "(units MB or GB), got '%s'", z);
          }else if( nByte<TS_UNLOAD_MIN_FILE_SIZE || nByte>TS_UNLOAD_MAX_FILE_SIZE ){
            jErr(p, "option 'max_file_size' must be between 16MB and 78GB, got '%s'", z);
          }else{
            pOpt->nMaxFileSize = nByte;
          }
          break;
        }
        case OPT_ENCRYPTION:
          if( strcasecmp(z, "sse_s3")==0 ) pOpt->zEncryption = strdup("sse_s3");
          else if( strcasecmp(z, "sse_kms")==0 ) pOpt->zEncryption = strdup("sse_kms");
          else{ jErr(p, "option 'encryption' must be 'sse_s3' or 'sse_kms', got '%s'", z); break; }
          if( pOpt->zEncryption==0 ) jErr(p, "out of memory");
          break;
        case OPT_KMS_KEY:
          if( z[0]==0 ){ jErr(p, "option 'kms_key' must not be empty"); break; }
          pOpt->zKmsKey = strdup(z);
          if( pOpt->zKmsKey==0 ) jErr(p, "out of memory");
          break;
      }
      free(zStr);
      if( p->zErr ) break;
    }
    jWs(p);
    if( p->z[p->i]==',' ){ p->i++; continue; }
    if( p->z[p->i]=='}' ){ p->i++; break; }
    jErr(p, "expected ',' or '}' at offset %zu of options_json", p->i);
    break;
  }
trailer:
  if( p->zErr==0 ){
    jWs(p);
    if( p->z[p->i]!=0 ) jErr(p, "unexpected text after the options object at offset %zu", p->i);
  }

  /* Combinations. */
  if( p->zErr==0 ){
    int bCsv = (pOpt->eFormat==TS_UNLOAD_CSV);
    if( bCsv && pOpt->eCompression==TS_UNLOAD_ZSTD ){
      jErr(p, "option 'compression': 'zstd' applies only to format 'parquet' (csv takes 'gzip' or 'none')");
    }else if( !bCsv && (abSeen[OPT_FIELD_DELIMITER] || abSeen[OPT_ESCAPED_BY] || abSeen[OPT_INCLUDE_HEADER]) ){
      jErr(p, "option '%s' applies only to format 'csv'",
           abSeen[OPT_FIELD_DELIMITER] ? "field_delimiter" :
           abSeen[OPT_ESCAPED_BY] ? "escaped_by" : "include_header");
    }else if( pOpt->cDelim==pOpt->cEscape ){
      jErr(p, "options 'field_delimiter' and 'escaped_by' must differ (both are '%c')", pOpt->cDelim);
    }else if( pOpt->cDelim=='"' ){
      jErr(p, "option 'field_delimiter' cannot be '\"' (the quote character)");
    }else if( (pOpt->cDelim=='\n' || pOpt->cDelim=='\r') && pOpt->bHeader ){
      jErr(p, "option 'field_delimiter' cannot be CR or LF when include_header is true");
    }else if( pOpt->cEscape=='\n' || pOpt->cEscape=='\r' ){
      jErr(p, "option 'escaped_by' cannot be CR or LF");
    }else if( pOpt->zKmsKey && (pOpt->zEncryption==0 || strcmp(pOpt->zEncryption, "sse_kms")) ){
      jErr(p, "option 'kms_key' requires encryption 'sse_kms'");
    }else if( pOpt->nPartition>TS_UNLOAD_MAX_PARTITIONS ){
      jErr(p, "option 'partitioned_by' lists %d columns; at most %d partitions are allowed",
           pOpt->nPartition, TS_UNLOAD_MAX_PARTITIONS);
    }
  }

done:
  if( p->zErr ){
    if( p->zErr==(char*)-1 ) p->zErr = 0;
    *pzErr = p->zErr;
    tsUnloadOptsFree(pOpt);
    return 1;
  }
  return 0;
}
