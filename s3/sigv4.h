/*
** sigv4.h: AWS Signature Version 4 (header form) with S3's rules, pure code
** over OpenSSL (sigv4.c).  No curl, no SQLite: the signer takes a request
** description and returns the canonical request, the string to sign and the
** Authorization header value, so tests can compare every stage with the AWS
** suite and the S3 documentation vectors.
*/
#ifndef SIGV4_H
#define SIGV4_H
#include <stddef.h>
#include "tsbuf.h"

typedef struct TsSigv4Kv TsSigv4Kv;
struct TsSigv4Kv {
  const char *zName;
  const char *zValue;   /* query: NULL or "" gives "name="; headers: the value as sent */
};

typedef struct TsSigv4Req TsSigv4Req;
struct TsSigv4Req {
  const char *zMethod;      /* "GET", "PUT", ... */
  const char *zPath;        /* absolute path, NOT encoded: "/bucket/my key"; encoded once
                            ** by the signer with '/' kept, never normalized (S3 rules) */
  const TsSigv4Kv *aQuery;  /* query parameters, NOT encoded; any order */
  int nQuery;
  const TsSigv4Kv *aHeader; /* headers to sign exactly as sent (any case, duplicates
                            ** allowed and joined with ',' in this order); must
                            ** include host and x-amz-date (and for S3
                            ** x-amz-content-sha256) */
  int nHeader;
  const char *zPayloadHash; /* lowercase hex SHA-256 of the body or "UNSIGNED-PAYLOAD" */
  const char *zAmzDate;     /* "YYYYMMDDTHHMMSSZ" (the x-amz-date header value) */
  const char *zRegion;      /* "us-east-1" */
  const char *zService;     /* NULL = "s3" */
  const char *zAccessKey;
  const char *zSecretKey;
};

/* Signing-key cache: the derived key depends only on (secret, day, region,
** service), so a client keeps one of these and saves 4 HMACs per request.
** Zero-initialise. */
typedef struct TsSigv4Cache TsSigv4Cache;
struct TsSigv4Cache {
  int bValid;
  char zDate[9];                /* YYYYMMDD */
  char zRegion[64];
  char zService[32];
  unsigned char aSecretHash[32];/* SHA-256 of the secret the key came from */
  unsigned char aKey[32];       /* kSigning */
};

typedef struct TsSigv4Out TsSigv4Out;
struct TsSigv4Out {
  char *zCanonical;       /* canonical request; malloc'd */
  char *zStringToSign;    /* malloc'd */
  char *zAuthorization;   /* Authorization header value; malloc'd */
  char *zSignedHeaders;   /* "host;x-amz-date"; malloc'd */
  char zSignature[65];    /* lowercase hex */
};

/* Sign.  pCache may be NULL.  Returns 0, or 1 on out-of-memory / bad input
** (then pOut holds nothing to free).  Free with tsSigv4OutFree. */
int tsSigv4Sign(const TsSigv4Req *pReq, TsSigv4Cache *pCache, TsSigv4Out *pOut);
void tsSigv4OutFree(TsSigv4Out *pOut);

/* Append z[0..n) URI-encoded the SigV4 way: every byte except A-Z a-z 0-9
** - . _ ~ becomes %XX (upper-case hex); '/' is kept when bKeepSlash.  Use the
** same function for the wire URL as for signing. */
void tsSigv4Encode(TsBuf *p, const char *z, size_t n, int bKeepSlash);

/* Lowercase hex SHA-256 of a[0..n) into zOut (65 bytes). */
void tsSigv4Sha256Hex(const void *a, size_t n, char *zOut);

/* The hash of an empty payload. */
#define TS_SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

#endif
