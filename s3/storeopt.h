/*
** storeopt.h: checks of the table options that say where and how a table's
** cold tier is stored (storeopt.c).  Pure: no SQLite, no network.
**
**   storage      's3://bucket[/prefix]' | 'file:///abs/dir'
**   s3_endpoint  'http[s]://host[:port]'  (endpoint.h decides)
**   s3_region    'us-east-1', ...
**   s3_url_style 'path' | 'virtual'
**   encryption   'none' | 'sse_s3' | 'sse_kms' | 'client'
**   kms_key      a key id (sse_kms: KMS key id, ARN or alias; client: the
**                name of the client-side key), never key material
**
** The CREATE of a timeseries table calls tsStoreOptCheck() for each of these
** options and tsStoreOptFinish() once all are known; ts_maintain calls both
** again before it opens the store, so a bad value stored some other way
** still fails with the option's name.  Messages (malloc'd, free with free())
** read "bad value for <option>: '<value>' (<why>)" and never echo endpoint
** userinfo; callers prefix them ("timeseries cpu: ...").
*/
#ifndef TS_STOREOPT_H
#define TS_STOREOPT_H

/* 1 if zKey is one of the options above. */
int tsStoreOptIsName(const char *zKey);

/* Check one option's value.  0 = ok (also for a zKey that is not one of
** ours); 1 with *pzErr set. */
int tsStoreOptCheck(const char *zKey, const char *zVal, char **pzErr);

/* The reason (static text, the parenthesis of the message above) why zVal
** is not a valid value of encryption or kms_key, or NULL if it is (or zKey
** is another option).  tsStoreOptCheck uses it; so does the CREATE's option
** table, whose checks return static text. */
const char *tsStoreOptWhy(const char *zKey, const char *zVal);

/* The rules between options (any may be NULL = not given): sse_kms needs a
** kms_key; kms_key only goes with sse_kms or client; server-side encryption
** needs s3:// storage.  0 = ok; 1 with *pzErr set. */
int tsStoreOptFinish(const char *zStorage, const char *zEncryption, const char *zKmsKey,
                     char **pzErr);

/* Check a storage URI: "s3://bucket[/prefix]" with an S3 bucket name (3-63
** of a-z 0-9 . -, starting and ending with a letter or digit, no "..", not
** an IPv4 address, no xn-- / sthree- prefix or -s3alias / --ol-s3 suffix)
** and a prefix of non-empty segments other than "." and ".."; or
** "file:///abs/dir", an absolute, normalised path (no empty, "." or ".."
** segment, no trailing '/', not "/" itself).  No control characters, at
** most 1024 bytes.  0 = ok; 1 with *pzErr set (the message names the
** option 'storage'). */
int tsStorageValidate(const char *zUri, char **pzErr);

#endif
