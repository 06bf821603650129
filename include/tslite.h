/*
** tslite.h: the public C interface of tslite, installed as
** $(PREFIX)/include/tslite.h by `make install` (docs/using.md).
**
** It owns the version macros (ext/tslite.h includes this file, so the
** extension and its users agree) and declares the extension's one exported
** entry point.  Two ways to use it from C:
**
**   dynamic: sqlite3_load_extension(db, "/usr/local/lib/tslite", 0, &err)
**   static:  link -ltslite (libtslite.a; `pkg-config --static --libs tslite`)
**            and call sqlite3_auto_extension((void(*)(void))sqlite3_tslite_init)
**            before opening connections.
**
** tslite needs SQLite TSLITE_MIN_SQLITE_VERSION or later; sqlite3_tslite_init
** refuses an older SQLite with a message naming both versions.
*/
#ifndef TSLITE_PUBLIC_H
#define TSLITE_PUBLIC_H
#include <sqlite3.h>

#define TSLITE_VERSION        "0.1.0"
#define TSLITE_VERSION_NUMBER 1000      /* major*1000000 + minor*1000 + patch */
#define TSLITE_MIN_SQLITE_VERSION        "3.38.0"
#define TSLITE_MIN_SQLITE_VERSION_NUMBER 3038000

#ifdef __cplusplus
extern "C" {
#endif

struct sqlite3_api_routines;

/* Registers tslite on connection db (the `timeseries` module and every SQL
** function).  SQLite calls it on .load / sqlite3_load_extension, or on every
** new connection once it is given to sqlite3_auto_extension. */
int sqlite3_tslite_init(sqlite3 *db, char **pzErrMsg,
                        const struct sqlite3_api_routines *pApi);

#ifdef __cplusplus
}
#endif
#endif /* TSLITE_PUBLIC_H */
