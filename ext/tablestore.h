/*
** tablestore.h: the object-store configuration (TsObjConfig) of a
** timeseries table's cold tier, from its storage options (tablestore.c).
** Every opener of a table's store (the cold reader, ts_maintain, ts_backup,
** ts_restore) goes through it, so the encryption options apply to every
** object a table writes or reads.
*/
#ifndef TS_TABLESTORE_H
#define TS_TABLESTORE_H
#include "objstore.h"
#include "table.h"

/* Fill *pCfg (zeroed first) from option values (any may be NULL):
** s3_endpoint, s3_region, s3_url_style, encryption, kms_key.
**   encryption 'sse_s3'   every write sends x-amz-server-side-encryption: AES256
**   encryption 'sse_kms'  ... aws:kms and the kms_key as the KMS key id
**   encryption 'client'   client-side AES-256-GCM required (TS_OBJ_CSE_ON) with
**                         the key named kms_key (NULL: the environment's key id)
**   encryption 'none'     no client-side encryption, even with a key in the
**                         environment (TS_OBJ_CSE_OFF; sse_* too)
**   NULL                  as the environment says (TS_OBJ_CSE_ENV: a key there
**                         seals every object; ts_restore's backup location)
** The pointers in *pCfg point at the arguments. */
void tsStoreConfigFrom(const char *zEndpoint, const char *zRegion, const char *zUrlStyle,
                       const char *zEncryption, const char *zKmsKey, TsObjConfig *pCfg);

/* The same from a table's schema (no encryption option = 'none'). */
void tsTableStoreConfig(const TsTableSchema *s, TsObjConfig *pCfg);

#endif
