/*
** endpoint.h: S3 endpoint URLs, parsed with libcurl's URL API (endpoint.c).
**
** An endpoint is used exactly as configured, like the AWS CLI's
** --endpoint-url: "http://minio.lan:9000" talks plain HTTP to any host (a
** LAN MinIO is the common case), "https://..." verifies TLS.  Accepted form:
**
**   http[s]://host[:port][/]
**
** host is a name, an IPv4 address or a bracketed IPv6 address.  Userinfo
** ("http://user:pass@host"), a query, a fragment, or any path other than "/"
** are errors.  Error messages name the endpoint with userinfo, query and
** fragment replaced by <userinfo>, <query> and <fragment>: they never echo
** what may be a secret.
*/
#ifndef TS_S3_ENDPOINT_H
#define TS_S3_ENDPOINT_H

typedef struct TsS3Endpoint TsS3Endpoint;
struct TsS3Endpoint {
  int bHttps;          /* 1: https, 0: http */
  char *zHostPort;     /* "host" or "host:port" as given ("[::1]:9000"): the
                       ** Host header and SigV4 canonical host; malloc'd */
};

/* Parse zEp into *p (zeroed first).  Returns 0, or 1 with *pzErr (malloc'd)
** set to "s3 endpoint '<redacted>': <why>"; on failure *p holds nothing. */
int tsS3EndpointParse(const char *zEp, TsS3Endpoint *p, char **pzErr);

/* Check zEp the same way without keeping the result (for option checks at
** CREATE time).  Returns 0, or 1 with *pzErr set as above. */
int tsS3EndpointCheck(const char *zEp, char **pzErr);

void tsS3EndpointFree(TsS3Endpoint *p);   /* frees the fields; accepts zeroed */

/* zEp with userinfo, query and fragment replaced by placeholders, for
** messages; malloc'd (NULL on OOM). */
char *tsS3EndpointRedact(const char *zEp);

#endif
