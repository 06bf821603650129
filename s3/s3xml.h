/*
** s3xml.h: a small event walker over expat for S3's XML responses
** (s3xml.c).  Pure code (no curl): fuzzed by tests/fuzz/fuzz_xml_s3.c.
*/
#ifndef S3XML_H
#define S3XML_H
#include <stddef.h>

/* Called at the end of every element with its path from the root, element
** local names joined by '/' ("ListBucketResult/Contents/Key"; namespace
** prefixes dropped, so s3rver's wrong namespace does not matter) and its
** text content (only character data directly inside it, NUL-terminated).
** Return non-zero to stop the parse (tsS3XmlWalk then returns 0). */
typedef int (*TsS3XmlCb)(void *pCtx, const char *zPath, const char *zText, size_t nText);

/* Parse a[0..n).  Returns 0 on success (or when the callback stopped it),
** 1 on malformed XML or limits exceeded (depth > 32, path > 1024 bytes, one
** text node > 1 MiB). */
int tsS3XmlWalk(const char *a, size_t n, TsS3XmlCb xCb, void *pCtx);

/* The root element's name of a[0..n) into zOut (size nOut), "" if none. */
void tsS3XmlRoot(const char *a, size_t n, char *zOut, size_t nOut);

/* If a[0..n) is an S3 <Error> document, copy its Code and Message (either
** may be empty) and return 1; else return 0. */
int tsS3XmlError(const char *a, size_t n, char *zCode, size_t nCode, char *zMsg, size_t nMsg);

#endif
