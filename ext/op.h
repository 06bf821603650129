/*
** op.h: the sticky error state of one operation (a SQL function such as
** ts_maintain, ts_backup, ts_restore, ts_batch_load), and the helpers every
** operation needs around it: formatted errors, SQL errors, prepare, exec,
** string duplication and the final sqlite3_result_* call.
**
** The rule, as in common/tsbuf.h: the first error wins.  Once op.rc is set
** every helper is a no-op that returns 0/NULL, so a sequence of steps is
** written without an error check after each one and checked once at the
** end (or before anything irreversible such as a network delete).
**
** Message convention: tsOpErr takes the whole message (the caller names
** what failed, with its key or path); tsOpSqlErr prefixes the operation's
** name and object, "<zFunc> <zObj>: <what>: <sqlite3_errmsg>" ("<zFunc>:
** ..." while zObj is NULL), and tsOpOom says "<zFunc>: out of memory".
**
** Embed a TsOp as the first member of an operation's run struct and pass
** &p->op; the TsOp owns zErr (sqlite3_malloc'd) and frees it in tsOpClear.
*/
#ifndef TS_OP_H
#define TS_OP_H
#include "tslite.h"
#include "tsbuf.h"
#include "jsonw.h"

typedef struct TsOp TsOp;
struct TsOp {
  sqlite3 *db;            /* the connection the operation runs on */
  const char *zFunc;      /* its SQL name, e.g. "ts_backup" (static) */
  const char *zObj;       /* what it works on, e.g. the table name, or NULL
                          ** (not owned: set it once the name is known) */
  int rc;                 /* first error's code, SQLITE_OK while none */
  char *zErr;             /* first error's message (owned), or NULL */
};

void tsOpInit(TsOp *p, sqlite3 *db, const char *zFunc);
void tsOpClear(TsOp *p);            /* frees zErr; p may be reused after Init */

/* Record an error (rc 0 means SQLITE_ERROR) unless one is recorded. */
void tsOpErr(TsOp *p, int rc, const char *zFmt, ...);
void tsOpOom(TsOp *p);                       /* "<zFunc>: out of memory" */
void tsOpSqlErr(TsOp *p, const char *zWhat); /* from the connection's errcode/errmsg */

/* Prepare a statement of formatted text (identifiers with "%w" inside
** "...", literals with %Q; data is bound by the caller).  NULL on error. */
sqlite3_stmt *tsOpPrepare(TsOp *p, const char *zFmt, ...);
/* Run one statement of fixed text; returns op.rc (a no-op returning the
** recorded code after an error: run ROLLBACK with sqlite3_exec). */
int tsOpExec(TsOp *p, const char *zSql);
/* Step pStmt to its end (DONE), recording an error otherwise; returns op.rc.
** Does not reset or finalize. */
int tsOpStepDone(TsOp *p, sqlite3_stmt *pStmt, const char *zWhat);

char *tsOpDup(TsOp *p, const char *z);       /* NULL for NULL z */
void *tsOpMallocZero(TsOp *p, sqlite3_uint64 n);

/* Report the recorded error on ctx (SQLITE_NOMEM as sqlite3_result_error_nomem). */
void tsOpResultError(TsOp *p, sqlite3_context *ctx);

/* Set the function's result to the JSON text in pBuf, written through pJw
** (common/jsonw.h), or to SQLITE_NOMEM when either ran out of memory.
** Frees pBuf. */
void tsOpResultJson(sqlite3_context *ctx, TsBuf *pBuf, TsJsonW *pJw);

#endif /* TS_OP_H */
