/*
** unload.h: interface between the SQL glue of ts_unload() (unload.c) and its
** pure helpers (unload_opts.c: the options_json parser).  No SQLite here.
*/
#ifndef UNLOAD_H
#define UNLOAD_H
#include <stdint.h>

#define TS_UNLOAD_CSV      0
#define TS_UNLOAD_PARQUET  1

#define TS_UNLOAD_GZIP     0
#define TS_UNLOAD_NONE     1
#define TS_UNLOAD_ZSTD     2

#define TS_UNLOAD_MAX_PARTITIONS 100
/* max_file_size bounds (reference 6.1): 16 MB .. 78 GB inclusive, binary units. */
#define TS_UNLOAD_MB             (1024LL*1024LL)
#define TS_UNLOAD_GB             (1024LL*TS_UNLOAD_MB)
#define TS_UNLOAD_MIN_FILE_SIZE  (16LL*TS_UNLOAD_MB)
#define TS_UNLOAD_MAX_FILE_SIZE  (78LL*TS_UNLOAD_GB)

/* The parsed options_json.  Every pointer is malloc'd and owned here. */
typedef struct TsUnloadOpts TsUnloadOpts;
struct TsUnloadOpts {
  int eFormat;          /* TS_UNLOAD_CSV (default) | TS_UNLOAD_PARQUET */
  int eCompression;     /* TS_UNLOAD_GZIP (default) | _NONE | _ZSTD (parquet only) */
  int nPartition;       /* entries of azPartition */
  char **azPartition;   /* partitioned_by column names, in order */
  char cDelim;          /* field_delimiter, default ',' */
  char cEscape;         /* escaped_by, default '\\' */
  int bHeader;          /* include_header, default 0 */
  int64_t nMaxFileSize; /* max_file_size in bytes, default 78 GB */
  char *zEncryption;    /* "sse_s3" | "sse_kms" | NULL (not given) */
  char *zKmsKey;        /* kms_key or NULL */
};

/*
** Parse options_json (NULL or "" = all defaults) into *p.  Returns 0 on
** success; otherwise 1 with *pzErr set to a malloc'd message naming the
** option and the bad value (caller frees with free()).  *p is always safe to
** pass to tsUnloadOptsFree.
*/
int tsUnloadOptsParse(const char *zJson, TsUnloadOpts *p, char **pzErr);
void tsUnloadOptsFree(TsUnloadOpts *p);

/* Parse a max_file_size text such as "256MB", "0.5GB", "24.7MB" (units MB or
** GB, case-insensitive, binary: 1 MB = 2^20 bytes).  0 on success. */
int tsUnloadParseSize(const char *z, int64_t *pnByte);

#endif
