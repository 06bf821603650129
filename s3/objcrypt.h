/*
** objcrypt.h: client-side envelope encryption for the object store
** (objcrypt.c).  Used only by objstore.c; see objcrypt.c for the format.
*/
#ifndef OBJCRYPT_H
#define OBJCRYPT_H
#include "objstore_int.h"

/* Read the master key named by the config/environment.  *pp = NULL when
** client-side encryption is not configured (not an error). */
int tsObjCryptConfigure(const TsObjConfig *pCfg, TsObjCrypt **pp, char **pzErr);
void tsObjCryptFree(TsObjCrypt *p);
/* Drop the cached header of zKey (NULL: of any key); call on every write
** or delete of a key through the store. */
void tsObjCryptForget(TsObjCrypt *p, const char *zKey);

/* Plaintext size of an encrypted object of nStored bytes (-1 if nStored
** cannot be the size of an object in this format). */
int64_t tsObjCryptPlainSize(int64_t nStored);
/* Stored size of the encrypted object of an nPlain-byte plaintext (the
** inverse of tsObjCryptPlainSize). */
int64_t tsObjCryptStoredSize(int64_t nPlain);

int tsObjCryptPut(TsObjStore *p, const char *zKey, const void *a, size_t n, char **pzErr);
int tsObjCryptGet(TsObjStore *p, const char *zKey, int64_t iOff, int64_t nLen,
                  TsBuf *pOut, char **pzErr);
int tsObjCryptWriterOpen(TsObjStore *p, const char *zKey, TsObjWriter **pp, char **pzErr);
int tsObjCryptWriterWrite(TsObjWriter *w, const void *a, size_t n, char **pzErr);
int tsObjCryptWriterFinish(TsObjWriter *w, char **pzErr);
void tsObjCryptWriterAbort(TsObjWriter *w);

#endif
