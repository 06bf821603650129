/*
** objcrypt.c: client-side envelope encryption for the object store.
**
** When a master key is configured (TsObjConfig.zCseKeyFile, or the
** environment: TSLITE_CSE_KEY_FILE, TSLITE_CSE_KEY), objstore.c routes every
** put, get and streaming write of both back ends through this file, so the
** store (S3 operator, backup disk) only ever sees ciphertext.  Each object
** gets a fresh random 256-bit data key, wrapped with the master key; the
** payload is cut into 64 KiB segments, each sealed with AES-256-GCM, so
** ranged reads decrypt and authenticate only the segments they touch, and
** streaming writes need one segment of memory.
**
** Object layout (all integers little-endian unless noted):
**
**   offset size  header (TS_CSE_HDR = 128 bytes)
**      0     8   magic "TSLCSE02"
**      8    32   key id, UTF-8, NUL-padded (TSLITE_CSE_KEY_ID, default "default")
**     40    12   wrap nonce (random)
**     52    32   data key encrypted with AES-256-GCM under the master key,
**                AAD = header bytes 0..39 (magic + key id)
**                   || header bytes 100..127 || the bound object key
**     84    16   wrap tag
**    100     8   segment nonce prefix (random)
**    108     4   segment size S (65536)
**    112    16   binding: the first 16 bytes of SHA-256(bound object key)
**   then nseg = max(1, ceil(P / S)) segments for a P-byte plaintext:
**          min(S, rest) bytes of ciphertext + 16-byte GCM tag
**          nonce = prefix || u32 big-endian segment index
**          AAD   = header bytes 100..127 || u32 big-endian index || final flag (1 byte)
**
** The final flag stops truncation at a segment boundary; the index stops
** reordering; the header bytes in the AAD stop edits to S or the prefix.
**
** Binding.  The bound object key is the key the object was written under,
** relative to the root of the store that wrote it ("cpu/2026/x.parquet").
** The data key unwraps only with the key id and that object key in the
** AAD, so an object copied or swapped to another key, or an old object
** replayed under another name, fails to open ("sealed for another object
** key"), and an object sealed under key id X never opens under key id Y.
** A reader sees the object as <root>/<key>; it tries each suffix of that
** path that starts after a '/' (so a store rooted higher or lower than the
** writer's, e.g. the object's own directory, still finds the bound key) and
** uses the one whose SHA-256 matches the binding bytes: an object opens at
** any path that ends in "/<bound key>".  The whole tree may move to another
** bucket or prefix; within it, names are fixed.  Replaying an
** older version of the same object under the same key is not detectable
** here: the cold manifest (sizes, ETags) and backup checksums catch that.
**
** TSLCSE01 objects (the format before binding) are refused with a message
** saying so: accepting them would let an unbound object be swapped in.
** Stored size = 128 + P + 16*nseg, so head/list report P without reading
** the object.  A tag failure anywhere gives TS_OBJ_CORRUPT; an object
** without the magic is refused while encryption is configured (a swapped-in
** plaintext object is tampering too).
*/
#include "objcrypt.h"
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS_CSE_MAGIC   "TSLCSE02"
#define TS_CSE_MAGIC1  "TSLCSE01"   /* unbound format, refused */
#define TS_CSE_HDR     128
#define TS_CSE_SEG     65536
#define TS_CSE_TAG     16
#define TS_CSE_KEYID   32

struct TsObjCrypt {
  unsigned char aMaster[32];        /* master key; wiped on free */
  char zKeyId[TS_CSE_KEYID + 1];    /* key id recorded in objects */
  /* One-entry cache of the last object read: ranged reads of the same
  ** object (a Parquet footer, then its column chunks) skip the HEAD and the
  ** header fetch.  Never trusted blindly: any failure on the cached path
  ** (the object was replaced: other size, other data key) drops the entry
  ** and reads again from scratch. */
  char *zCacheKey;                  /* key of the cached object or NULL; owned */
  int64_t nCacheStored;             /* its stored size */
  unsigned char aCacheHdr[TS_CSE_HDR];
  unsigned char aCacheKey[32];      /* its unwrapped data key; wiped on drop */
};

/* Encrypting writer state. */
typedef struct CryptW CryptW;
struct CryptW {
  unsigned char aKey[32];           /* data key */
  unsigned char aHdr[TS_CSE_HDR];   /* the object's header */
  unsigned char *aPlain;            /* up to TS_CSE_SEG + 1 pending bytes */
  size_t nPlain;
  uint32_t iSeg;                    /* next segment index */
  char *zKey;                       /* object key, for messages */
  unsigned char *aOut;              /* scratch: one sealed segment */
};

/* ---- AES-256-GCM ---- */

static int gcm(int bEnc, const unsigned char *aKey, const unsigned char *aNonce,
               const unsigned char *aAad, size_t nAad, const unsigned char *aIn, size_t n,
               unsigned char *aOut, unsigned char *aTag){
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int len = 0, ok = 0;
  if( ctx==0 ) return 1;
  if( EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), 0, 0, 0, bEnc)==1
   && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, 0)==1
   && EVP_CipherInit_ex(ctx, 0, 0, aKey, aNonce, bEnc)==1
   && (nAad==0 || EVP_CipherUpdate(ctx, 0, &len, aAad, (int)nAad)==1)
   && (n==0 || EVP_CipherUpdate(ctx, aOut, &len, aIn, (int)n)==1) ){
    if( bEnc ){
      ok = EVP_CipherFinal_ex(ctx, aOut + n, &len)==1
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TS_CSE_TAG, aTag)==1;
    }else{
      ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TS_CSE_TAG, aTag)==1
        && EVP_CipherFinal_ex(ctx, aOut + n, &len)==1;
    }
  }
  EVP_CIPHER_CTX_free(ctx);
  return ok ? 0 : 1;
}

static void segNonceAad(const unsigned char *aHdr, uint32_t iSeg, int bFinal,
                        unsigned char *aNonce, unsigned char *aAad){
  memcpy(aNonce, aHdr + 100, 8);
  aNonce[8] = (unsigned char)(iSeg>>24); aNonce[9] = (unsigned char)(iSeg>>16);
  aNonce[10] = (unsigned char)(iSeg>>8); aNonce[11] = (unsigned char)iSeg;
  memcpy(aAad, aHdr + 100, 28);
  memcpy(aAad + 28, aNonce + 8, 4);
  aAad[32] = (unsigned char)(bFinal ? 1 : 0);
}

/* Seal plaintext a[0..n) as segment iSeg into aOut (n + 16 bytes). */
static int sealSeg(const unsigned char *aKey, const unsigned char *aHdr, uint32_t iSeg, int bFinal,
                   const unsigned char *a, size_t n, unsigned char *aOut){
  unsigned char aNonce[12], aAad[33];
  segNonceAad(aHdr, iSeg, bFinal, aNonce, aAad);
  return gcm(1, aKey, aNonce, aAad, sizeof(aAad), a, n, aOut, aOut + n);
}

static int openSeg(const unsigned char *aKey, const unsigned char *aHdr, uint32_t iSeg, int bFinal,
                   const unsigned char *a, size_t nCt, unsigned char *aOut){
  unsigned char aNonce[12], aAad[33], aTag[TS_CSE_TAG];
  segNonceAad(aHdr, iSeg, bFinal, aNonce, aAad);
  memcpy(aTag, a + nCt, TS_CSE_TAG);
  return gcm(0, aKey, aNonce, aAad, sizeof(aAad), a, nCt, aOut, aTag);
}

/* ---- configuration ---- */

static int hexVal(char c){
  if( c>='0' && c<='9' ) return c - '0';
  if( c>='a' && c<='f' ) return c - 'a' + 10;
  if( c>='A' && c<='F' ) return c - 'A' + 10;
  return -1;
}

/* 64 hex digits (surrounding whitespace allowed) -> 32 bytes. */
static int parseHexKey(const char *z, size_t n, unsigned char *aKey){
  size_t i, j = 0;
  while( n>0 && (z[n-1]=='\n' || z[n-1]=='\r' || z[n-1]==' ') ) n--;
  while( n>0 && (*z==' ' || *z=='\t') ){ z++; n--; }
  if( n!=64 ) return 1;
  for(i=0; i<64; i+=2){
    int a = hexVal(z[i]), b = hexVal(z[i+1]);
    if( a<0 || b<0 ) return 1;
    aKey[j++] = (unsigned char)(a*16 + b);
  }
  return 0;
}

int tsObjCryptConfigure(const TsObjConfig *pCfg, TsObjCrypt **pp, char **pzErr){
  const char *zFile = pCfg->zCseKeyFile;
  const char *zHex = 0, *zId;
  TsObjCrypt *p;
  *pp = 0;
  if( zFile==0 || zFile[0]==0 ){
    zFile = getenv("TSLITE_CSE_KEY_FILE");
    if( zFile && zFile[0]==0 ) zFile = 0;
  }
  if( zFile==0 ){
    zHex = getenv("TSLITE_CSE_KEY");
    if( zHex && zHex[0]==0 ) zHex = 0;
  }
  if( pCfg->eCse==TS_OBJ_CSE_RAW || pCfg->eCse==TS_OBJ_CSE_OFF ) return TS_OBJ_OK;
  if( pCfg->eCse==TS_OBJ_CSE_ON ){
    /* Required: the named key must be the one configured.  Only its name
    ** appears in messages, never material or the key file's contents. */
    const char *zWant = pCfg->zCseKeyId;
    const char *zEnvId = getenv("TSLITE_CSE_KEY_ID");
    if( zEnvId && zEnvId[0]==0 ) zEnvId = 0;
    if( zWant==0 || zWant[0]==0 ) zWant = zEnvId ? zEnvId : "default";
    if( zFile==0 && zHex==0 ){
      tsObjErr(pzErr, "client-side encryption key '%s' is not configured: set TSLITE_CSE_KEY_FILE "
               "(or TSLITE_CSE_KEY) to its material and TSLITE_CSE_KEY_ID='%s'", zWant, zWant);
      return TS_OBJ_ERROR;
    }
    if( pCfg->zCseKeyFile==0 || pCfg->zCseKeyFile[0]==0 ){
      const char *zHave = zEnvId ? zEnvId : "default";
      if( strcmp(zHave, zWant)!=0 ){
        tsObjErr(pzErr, "client-side encryption key '%s' is not configured: the environment "
                 "holds key '%s' (TSLITE_CSE_KEY_ID)", zWant, zHave);
        return TS_OBJ_ERROR;
      }
    }
  }
  if( zFile==0 && zHex==0 ) return TS_OBJ_OK;   /* not configured */
  zId = pCfg->zCseKeyId;
  if( zId==0 || zId[0]==0 ) zId = getenv("TSLITE_CSE_KEY_ID");
  if( zId==0 || zId[0]==0 ) zId = "default";
  if( strlen(zId)>TS_CSE_KEYID ){
    tsObjErr(pzErr, "client-side encryption: key id '%.40s...' is longer than %d bytes", zId, TS_CSE_KEYID);
    return TS_OBJ_ERROR;
  }
  p = calloc(1, sizeof(*p));
  if( p==0 ) return TS_OBJ_NOMEM;
  memcpy(p->zKeyId, zId, strlen(zId) + 1);
  if( zFile ){
    FILE *f = fopen(zFile, "rb");
    unsigned char aBuf[130];
    size_t n;
    if( f==0 ){
      tsObjErr(pzErr, "client-side encryption: cannot open key file %s: %s", zFile, strerror(errno));
      free(p);
      return TS_OBJ_ERROR;
    }
    n = fread(aBuf, 1, sizeof(aBuf), f);
    fclose(f);
    if( n==32 ){
      memcpy(p->aMaster, aBuf, 32);
    }else if( parseHexKey((const char*)aBuf, n, p->aMaster) ){
      OPENSSL_cleanse(aBuf, sizeof(aBuf));
      tsObjErr(pzErr, "client-side encryption: key file %s must hold 32 raw bytes or 64 hex "
               "digits (it has %zu bytes)", zFile, n);
      free(p);
      return TS_OBJ_ERROR;
    }
    OPENSSL_cleanse(aBuf, sizeof(aBuf));
  }else if( parseHexKey(zHex, strlen(zHex), p->aMaster) ){
    tsObjErr(pzErr, "client-side encryption: TSLITE_CSE_KEY must be 64 hex digits (a 256-bit key)");
    free(p);
    return TS_OBJ_ERROR;
  }
  *pp = p;
  return TS_OBJ_OK;
}

void tsObjCryptForget(TsObjCrypt *p, const char *zKey){
  if( p==0 || p->zCacheKey==0 ) return;
  if( zKey && strcmp(zKey, p->zCacheKey)!=0 ) return;
  free(p->zCacheKey);
  p->zCacheKey = 0;
  OPENSSL_cleanse(p->aCacheKey, sizeof(p->aCacheKey));
}

void tsObjCryptFree(TsObjCrypt *p){
  if( p==0 ) return;
  tsObjCryptForget(p, 0);
  OPENSSL_cleanse(p, sizeof(*p));
  free(p);
}

/* Segments for a plaintext of P bytes. */
static int64_t nSegFor(int64_t nPlain){
  return nPlain<=0 ? 1 : (nPlain + TS_CSE_SEG - 1)/TS_CSE_SEG;
}

int64_t tsObjCryptPlainSize(int64_t nStored){
  int64_t n = nStored - TS_CSE_HDR, nSeg, nPlain;
  if( n<TS_CSE_TAG ) return -1;
  nSeg = (n + TS_CSE_SEG + TS_CSE_TAG - 1)/(TS_CSE_SEG + TS_CSE_TAG);
  nPlain = n - nSeg*TS_CSE_TAG;
  if( nPlain<0 || nSegFor(nPlain)!=nSeg ) return -1;
  return nPlain;
}

int64_t tsObjCryptStoredSize(int64_t nPlain){
  return TS_CSE_HDR + nPlain + nSegFor(nPlain)*TS_CSE_TAG;
}

/* The binding bytes of object key z[0..n): SHA-256, first 16 bytes. */
static void bindHash(const char *z, size_t n, unsigned char *a16){
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char*)z, n, md);
  memcpy(a16, md, 16);
}

/* Seal (bEnc) or unwrap the data key of header aHdr bound to z[0..n).
** 0 on success. */
static int wrapKey(int bEnc, const unsigned char *aMaster, unsigned char *aHdr,
                   const char *z, size_t n, unsigned char *aKey){
  unsigned char *aAad = malloc(40 + 28 + n + 1);
  int rc;
  if( aAad==0 ) return 1;
  memcpy(aAad, aHdr, 40);
  memcpy(aAad + 40, aHdr + 100, 28);
  memcpy(aAad + 68, z, n);
  if( bEnc ) rc = gcm(1, aMaster, aHdr + 40, aAad, 68 + n, aKey, 32, aHdr + 52, aHdr + 84);
  else rc = gcm(0, aMaster, aHdr + 40, aAad, 68 + n, aHdr + 52, 32, aKey, aHdr + 84);
  free(aAad);
  return rc;
}

/* Build a header with a fresh data key (returned in aKey), bound to the
** object key zKey (relative to the store root). */
static int newHeader(TsObjCrypt *p, const char *zKey, unsigned char *aHdr, unsigned char *aKey){
  memset(aHdr, 0, TS_CSE_HDR);
  memcpy(aHdr, TS_CSE_MAGIC, 8);
  memcpy(aHdr + 8, p->zKeyId, strlen(p->zKeyId));
  if( RAND_bytes(aKey, 32)!=1 || RAND_bytes(aHdr + 40, 12)!=1 || RAND_bytes(aHdr + 100, 8)!=1 ){
    return 1;
  }
  aHdr[108] = (unsigned char)(TS_CSE_SEG & 0xff);
  aHdr[109] = (unsigned char)((TS_CSE_SEG>>8) & 0xff);
  aHdr[110] = (unsigned char)((TS_CSE_SEG>>16) & 0xff);
  aHdr[111] = (unsigned char)((TS_CSE_SEG>>24) & 0xff);
  bindHash(zKey, strlen(zKey), aHdr + 112);
  return wrapKey(1, p->aMaster, aHdr, zKey, strlen(zKey), aKey);
}

/* The suffix of <zRoot>/<zKey> (at a '/') whose hash is the header's binding, as
** (*pz, *pn) into the malloc'd *pzPath; 0 if none. */
static int findBound(const char *zRoot, const char *zKey, const unsigned char *aHdr,
                     char **pzPath, const char **pz, size_t *pn){
  char *zPath = tsObjMprintf("%s/%s", zRoot, zKey);
  const char *zStart, *q;
  unsigned char a16[16];
  *pzPath = zPath;
  if( zPath==0 ) return 0;
  zStart = strstr(zPath, "://");
  zStart = zStart ? zStart + 3 : zPath;
  /* The last segment first, then ever longer suffixes. */
  q = strrchr(zPath, '/') + 1;
  for(;;){
    const char *r;
    bindHash(q, strlen(q), a16);
    if( memcmp(a16, aHdr + 112, 16)==0 ){ *pz = q; *pn = strlen(q); return 1; }
    /* Step back over the '/' before q to the start of the segment before. */
    if( q - 1<=zStart ) break;
    r = q - 2;
    while( r>zStart && r[-1]!='/' ) r--;
    if( *r=='/' ) break;                  /* a leading '/' (file:///) or an empty segment */
    q = r;
  }
  return 0;
}

/* Check a header and unwrap its data key. */
static int readHeader(TsObjCrypt *p, const char *zRoot, const char *zKey,
                      const unsigned char *aHdr, unsigned char *aKey, char **pzErr){
  char zId[TS_CSE_KEYID + 1];
  uint32_t nSeg;
  int i;
  char *zPath = 0;
  const char *zBound = 0;
  size_t nBound = 0;
  int rc;
  if( memcmp(aHdr, TS_CSE_MAGIC1, 8)==0 ){
    tsObjErr(pzErr, "object %s/%s is in the client-side encryption format TSLCSE01, which does "
             "not bind an object to its key: refused (rewrite it with a build that reads it)",
             zRoot, zKey);
    return TS_OBJ_CORRUPT;
  }
  if( memcmp(aHdr, TS_CSE_MAGIC, 8)!=0 ){
    tsObjErr(pzErr, "object %s/%s is not client-side encrypted (no TSLCSE02 header): refused "
             "because encryption is configured", zRoot, zKey);
    return TS_OBJ_CORRUPT;
  }
  memcpy(zId, aHdr + 8, TS_CSE_KEYID);
  zId[TS_CSE_KEYID] = 0;
  for(i=0; zId[i]; i++) if( (unsigned char)zId[i]<0x20 || zId[i]==0x7f ) zId[i] = '?';
  if( strcmp(zId, p->zKeyId)!=0 ){
    tsObjErr(pzErr, "object %s/%s was sealed with client-side key id '%s', but the configured key "
             "id is '%s' (key '%s' is needed to read it)", zRoot, zKey, zId, p->zKeyId, zId);
    return TS_OBJ_ERROR;
  }
  nSeg = (uint32_t)aHdr[108] | (uint32_t)aHdr[109]<<8 | (uint32_t)aHdr[110]<<16 | (uint32_t)aHdr[111]<<24;
  if( nSeg!=TS_CSE_SEG ){
    tsObjErr(pzErr, "object %s/%s: corrupt client-side encryption header", zRoot, zKey);
    return TS_OBJ_CORRUPT;
  }
  if( !findBound(zRoot, zKey, aHdr, &zPath, &zBound, &nBound) ){
    rc = zPath ? TS_OBJ_CORRUPT : TS_OBJ_NOMEM;
    if( zPath ){
      tsObjErr(pzErr, "object %s/%s was sealed for another object key (moved, swapped or "
               "replayed from another name): refused", zRoot, zKey);
    }
    free(zPath);
    return rc;
  }
  if( wrapKey(0, p->aMaster, (unsigned char*)aHdr, zBound, nBound, aKey) ){
    free(zPath);
    tsObjErr(pzErr, "object %s/%s: cannot unwrap its data key with key '%s' (wrong master key, "
             "or the header was tampered with)", zRoot, zKey, p->zKeyId);
    return TS_OBJ_CORRUPT;
  }
  free(zPath);
  return TS_OBJ_OK;
}

/* ---- whole-object put ---- */

int tsObjCryptPut(TsObjStore *p, const char *zKey, const void *a, size_t n, char **pzErr){
  int64_t nSeg = nSegFor((int64_t)n), i;
  size_t nOut = TS_CSE_HDR + n + (size_t)nSeg*TS_CSE_TAG;
  unsigned char *aOut = malloc(nOut);
  unsigned char aKey[32];
  const unsigned char *aIn = (const unsigned char*)a;
  size_t iOut = TS_CSE_HDR;
  int rc = TS_OBJ_OK;
  if( aOut==0 ){
    tsObjErr(pzErr, "put %s/%s: out of memory for encryption", p->zRoot, zKey);
    return TS_OBJ_NOMEM;
  }
  if( newHeader(p->pCrypt, zKey, aOut, aKey) ) rc = TS_OBJ_ERROR;
  for(i=0; rc==TS_OBJ_OK && i<nSeg; i++){
    size_t nIn = n - (size_t)i*TS_CSE_SEG;
    if( nIn>TS_CSE_SEG ) nIn = TS_CSE_SEG;
    if( sealSeg(aKey, aOut, (uint32_t)i, i==nSeg-1, aIn + (size_t)i*TS_CSE_SEG, nIn, aOut + iOut) ){
      rc = TS_OBJ_ERROR;
    }
    iOut += nIn + TS_CSE_TAG;
  }
  OPENSSL_cleanse(aKey, sizeof(aKey));
  tsObjCryptForget(p->pCrypt, zKey);
  if( rc!=TS_OBJ_OK ) tsObjErr(pzErr, "put %s/%s: encryption failed", p->zRoot, zKey);
  else rc = p->pM->xPut(p, zKey, aOut, nOut, pzErr);
  free(aOut);
  return rc;
}

/* ---- get (whole or ranged) ---- */

/* Read plaintext [iOff, iOff+nLen) of zKey.  bCached: use the cache entry
** (which is for zKey) instead of HEAD + header fetch. */
static int cryptGet(TsObjStore *p, const char *zKey, int64_t iOff, int64_t nLen,
                    TsBuf *pOut, char **pzErr, int bCached){
  TsObjCrypt *pC = p->pCrypt;
  TsObjInfo info;
  TsBuf raw;
  int64_t nPlain, nSeg, iSeg0, iSeg1, iEnd, s;
  unsigned char aKey[32], aHdr[TS_CSE_HDR];
  unsigned char *aSeg = 0;
  int rc;
  size_t n0 = pOut->n, iRaw;

  if( bCached ){
    info.nSize = pC->nCacheStored;
    rc = TS_OBJ_OK;
  }else{
    rc = p->pM->xHead(p, zKey, &info, pzErr);
  }
  if( rc!=TS_OBJ_OK ) return rc;
  nPlain = tsObjCryptPlainSize(info.nSize);
  tsBufInit(&raw);
  if( nPlain<0 ){
    /* Too short or a size no encrypted object can have: look at the magic
    ** for the better message. */
    if( p->pM->xGet(p, zKey, 0, 8, &raw, 0)==TS_OBJ_OK && raw.n==8 && memcmp(raw.a, TS_CSE_MAGIC, 8)==0 ){
      tsObjErr(pzErr, "object %s/%s: encrypted object of %lld bytes is truncated or padded",
               p->zRoot, zKey, (long long)info.nSize);
    }else{
      tsObjErr(pzErr, "object %s/%s is not client-side encrypted (no TSLCSE02 header): refused "
               "because encryption is configured", p->zRoot, zKey);
    }
    tsBufFree(&raw);
    return TS_OBJ_CORRUPT;
  }
  if( iOff>=nPlain && !(iOff==0 && nPlain==0) ){
    tsObjErr(pzErr, "get %s/%s: range offset %lld is beyond the object size %lld", p->zRoot, zKey,
             (long long)iOff, (long long)nPlain);
    return TS_OBJ_RANGE;
  }
  iEnd = (nLen<0 || iOff + nLen>nPlain) ? nPlain : iOff + nLen;
  if( iEnd<=iOff && nPlain>0 ) return TS_OBJ_OK;
  nSeg = nSegFor(nPlain);
  iSeg0 = iOff/TS_CSE_SEG;
  iSeg1 = nPlain==0 ? 0 : (iEnd - 1)/TS_CSE_SEG;
  if( iSeg1>=nSeg ) iSeg1 = nSeg - 1;

  /* Header, then the covering segments (one request when contiguous). */
  if( bCached ){
    /* Header known: fetch only the segments, behind a copy of it. */
    tsBufAppend(&raw, pC->aCacheHdr, TS_CSE_HDR);
    rc = p->pM->xGet(p, zKey, TS_CSE_HDR + iSeg0*(TS_CSE_SEG + TS_CSE_TAG),
                     (iSeg1 - iSeg0 + 1)*(TS_CSE_SEG + TS_CSE_TAG), &raw, pzErr);
  }else if( iSeg0==0 ){
    rc = p->pM->xGet(p, zKey, 0, TS_CSE_HDR + (iSeg1 + 1)*(TS_CSE_SEG + TS_CSE_TAG), &raw, pzErr);
  }else{
    rc = p->pM->xGet(p, zKey, 0, TS_CSE_HDR, &raw, pzErr);
    if( rc==TS_OBJ_OK ){
      rc = p->pM->xGet(p, zKey, TS_CSE_HDR + iSeg0*(TS_CSE_SEG + TS_CSE_TAG),
                       (iSeg1 - iSeg0 + 1)*(TS_CSE_SEG + TS_CSE_TAG), &raw, pzErr);
    }
  }
  if( rc==TS_OBJ_OK && raw.n<TS_CSE_HDR ){
    tsObjErr(pzErr, "object %s/%s: encrypted object is truncated", p->zRoot, zKey);
    rc = TS_OBJ_CORRUPT;
  }
  if( rc==TS_OBJ_OK && bCached ){
    memcpy(aHdr, pC->aCacheHdr, TS_CSE_HDR);
    memcpy(aKey, pC->aCacheKey, 32);
  }else if( rc==TS_OBJ_OK ){
    memcpy(aHdr, raw.a, TS_CSE_HDR);
    rc = readHeader(pC, p->zRoot, zKey, aHdr, aKey, pzErr);
    if( rc==TS_OBJ_OK ){
      /* Remember this object for the next ranged read. */
      tsObjCryptForget(pC, 0);
      pC->zCacheKey = tsObjStrdup(zKey);
      if( pC->zCacheKey ){
        pC->nCacheStored = info.nSize;
        memcpy(pC->aCacheHdr, aHdr, TS_CSE_HDR);
        memcpy(pC->aCacheKey, aKey, 32);
      }
    }
  }
  if( rc==TS_OBJ_OK ){
    aSeg = malloc(TS_CSE_SEG);
    if( aSeg==0 ) rc = TS_OBJ_NOMEM;
  }
  iRaw = TS_CSE_HDR;
  for(s=iSeg0; rc==TS_OBJ_OK && s<=iSeg1; s++){
    int64_t nCt = (s==nSeg-1) ? nPlain - s*TS_CSE_SEG : TS_CSE_SEG;
    int64_t iA, iB;
    if( raw.n < iRaw + (size_t)nCt + TS_CSE_TAG ){
      tsObjErr(pzErr, "object %s/%s: encrypted object is truncated at segment %lld", p->zRoot, zKey, (long long)s);
      rc = TS_OBJ_CORRUPT;
      break;
    }
    if( openSeg(aKey, aHdr, (uint32_t)s, s==nSeg-1, raw.a + iRaw, (size_t)nCt, aSeg) ){
      tsObjErr(pzErr, "object %s/%s: client-side decryption failed at segment %lld: the object was "
               "tampered with or corrupted", p->zRoot, zKey, (long long)s);
      rc = TS_OBJ_CORRUPT;
      break;
    }
    iA = s==iSeg0 ? iOff - s*TS_CSE_SEG : 0;
    iB = (s==iSeg1) ? iEnd - s*TS_CSE_SEG : nCt;
    if( iB>iA ) tsBufAppend(pOut, aSeg + iA, (size_t)(iB - iA));
    iRaw += (size_t)nCt + TS_CSE_TAG;
  }
  if( rc==TS_OBJ_OK && pOut->bErr ){
    tsObjErr(pzErr, "get %s/%s: out of memory", p->zRoot, zKey);
    rc = TS_OBJ_NOMEM;
  }
  if( rc!=TS_OBJ_OK ) pOut->n = n0;
  OPENSSL_cleanse(aKey, sizeof(aKey));
  if( aSeg ){ OPENSSL_cleanse(aSeg, TS_CSE_SEG); free(aSeg); }
  tsBufFree(&raw);
  if( rc!=TS_OBJ_OK && !bCached ) tsObjCryptForget(pC, zKey);
  return rc;
}

int tsObjCryptGet(TsObjStore *p, const char *zKey, int64_t iOff, int64_t nLen,
                  TsBuf *pOut, char **pzErr){
  TsObjCrypt *pC = p->pCrypt;
  if( pC->zCacheKey && strcmp(pC->zCacheKey, zKey)==0 ){
    char *zErr = 0;
    int rc = cryptGet(p, zKey, iOff, nLen, pOut, &zErr, 1);
    free(zErr);
    if( rc==TS_OBJ_OK || rc==TS_OBJ_NOMEM ) return rc;
    tsObjCryptForget(pC, zKey);   /* replaced or deleted: start over */
  }
  return cryptGet(p, zKey, iOff, nLen, pOut, pzErr, 0);
}

/* ---- streaming writer ---- */

static void cryptWFree(CryptW *c){
  if( c==0 ) return;
  OPENSSL_cleanse(c->aKey, sizeof(c->aKey));
  if( c->aPlain ){ OPENSSL_cleanse(c->aPlain, TS_CSE_SEG + 1); free(c->aPlain); }
  free(c->aOut);
  free(c->zKey);
  free(c);
}

int tsObjCryptWriterOpen(TsObjStore *p, const char *zKey, TsObjWriter **pp, char **pzErr){
  TsObjWriter *w = calloc(1, sizeof(*w));
  CryptW *c = calloc(1, sizeof(*c));
  int rc;
  *pp = 0;
  if( w==0 || c==0 ){ free(w); free(c); return TS_OBJ_NOMEM; }
  c->aPlain = malloc(TS_CSE_SEG + 1);
  c->aOut = malloc(TS_CSE_SEG + TS_CSE_TAG);
  c->zKey = tsObjStrdup(zKey);
  if( c->aPlain==0 || c->aOut==0 || c->zKey==0 ){ cryptWFree(c); free(w); return TS_OBJ_NOMEM; }
  if( newHeader(p->pCrypt, zKey, c->aHdr, c->aKey) ){
    tsObjErr(pzErr, "writer %s/%s: encryption setup failed", p->zRoot, zKey);
    cryptWFree(c);
    free(w);
    return TS_OBJ_ERROR;
  }
  tsObjCryptForget(p->pCrypt, zKey);
  rc = p->pM->xWriterOpen(p, zKey, &w->pInner, pzErr);
  if( rc==TS_OBJ_OK ) rc = p->pM->xWriterWrite(w->pInner, c->aHdr, TS_CSE_HDR, pzErr);
  if( rc!=TS_OBJ_OK ){
    if( w->pInner ) p->pM->xWriterAbort(w->pInner);
    cryptWFree(c);
    free(w);
    return rc;
  }
  w->pStore = p;
  w->pCryptState = c;
  *pp = w;
  return TS_OBJ_OK;
}

static int emitSeg(TsObjWriter *w, size_t n, int bFinal, char **pzErr){
  CryptW *c = (CryptW*)w->pCryptState;
  if( sealSeg(c->aKey, c->aHdr, c->iSeg, bFinal, c->aPlain, n, c->aOut) ){
    tsObjErr(pzErr, "writer %s/%s: encryption failed", w->pStore->zRoot, c->zKey);
    return TS_OBJ_ERROR;
  }
  c->iSeg++;
  return w->pStore->pM->xWriterWrite(w->pInner, c->aOut, n + TS_CSE_TAG, pzErr);
}

int tsObjCryptWriterWrite(TsObjWriter *w, const void *a, size_t n, char **pzErr){
  CryptW *c = (CryptW*)w->pCryptState;
  const unsigned char *z = (const unsigned char*)a;
  if( w->rc ){
    tsObjErr(pzErr, "writer %s/%s: already failed", w->pStore->zRoot, c->zKey);
    return w->rc;
  }
  while( n>0 && w->rc==TS_OBJ_OK ){
    /* Keep up to one full segment pending: the last one must be sealed
    ** with the final flag, and only finish knows which that is. */
    size_t k = TS_CSE_SEG + 1 - c->nPlain;
    if( k>n ) k = n;
    memcpy(c->aPlain + c->nPlain, z, k);
    c->nPlain += k;
    z += k;
    n -= k;
    if( c->nPlain>TS_CSE_SEG ){
      w->rc = emitSeg(w, TS_CSE_SEG, 0, pzErr);
      c->aPlain[0] = c->aPlain[TS_CSE_SEG];
      c->nPlain = 1;
    }
  }
  return w->rc;
}

int tsObjCryptWriterFinish(TsObjWriter *w, char **pzErr){
  CryptW *c = (CryptW*)w->pCryptState;
  const TsObjMethods *pM = w->pStore->pM;
  int rc = w->rc;
  tsObjCryptForget(w->pStore->pCrypt, c->zKey);
  if( rc==TS_OBJ_OK ) rc = emitSeg(w, c->nPlain, 1, pzErr);
  if( rc==TS_OBJ_OK ) rc = pM->xWriterFinish(w->pInner, pzErr);
  else pM->xWriterAbort(w->pInner);
  cryptWFree(c);
  free(w);
  return rc;
}

void tsObjCryptWriterAbort(TsObjWriter *w){
  w->pStore->pM->xWriterAbort(w->pInner);
  cryptWFree((CryptW*)w->pCryptState);
  free(w);
}
