/* test_op.c: ext/op.c, the sticky error state of operations: the first
** error wins, helpers are no-ops after it, SQL errors carry the function
** name and SQLite's code and message, and the result reaches a
** sqlite3_context with its code. */
#include "tt.h"
#include "op.h"
/* op.h brings sqlite3ext.h, whose macros route sqlite3_* calls through the
** extension's sqlite3_api pointer; loading the extension sets it.  The two
** calls made before that go to the library directly. */
#undef sqlite3_auto_extension
#undef sqlite3_open
int sqlite3_tslite_init(sqlite3*, char**, const sqlite3_api_routines*);

static TsOp *gOp;
static void fnFail(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc; (void)argv;
  tsOpResultError(gOp, ctx);
}

int main(void){
  sqlite3 *db;
  TsOp op;
  sqlite3_stmt *pStmt;
  char *z;
  sqlite3_auto_extension((void(*)(void))sqlite3_tslite_init);
  sqlite3_open(":memory:", &db);

  tsOpInit(&op, db, "ts_demo");
  TT_CHECK("op: starts clean", op.rc==SQLITE_OK && op.zErr==0);
  TT_CHECK("op: exec ok", tsOpExec(&op, "CREATE TABLE t(a UNIQUE)")==SQLITE_OK);
  pStmt = tsOpPrepare(&op, "INSERT INTO \"%w\"(a) VALUES(?)", "t");
  TT_CHECK("op: prepare with %w", pStmt!=0);
  sqlite3_bind_int(pStmt, 1, 1);
  TT_CHECK("op: step done", tsOpStepDone(&op, pStmt, "insert")==SQLITE_OK);
  sqlite3_reset(pStmt);
  TT_CHECK("op: constraint error recorded", tsOpStepDone(&op, pStmt, "insert row 2")==SQLITE_CONSTRAINT);
  TT_EQ_STR("op: message names function, step and SQLite's text", op.zErr,
            "ts_demo: insert row 2: UNIQUE constraint failed: t.a");
  sqlite3_finalize(pStmt);

  tsOpErr(&op, SQLITE_CORRUPT, "second error %d", 2);
  TT_EQ_STR("op: first error wins", op.zErr, "ts_demo: insert row 2: UNIQUE constraint failed: t.a");
  TT_CHECK("op: prepare is a no-op after an error", tsOpPrepare(&op, "SELECT 1")==0);
  TT_CHECK("op: dup is a no-op after an error", tsOpDup(&op, "x")==0);
  TT_CHECK("op: exec returns the recorded code", tsOpExec(&op, "SELECT 1")==SQLITE_CONSTRAINT);

  gOp = &op;
  sqlite3_create_function(db, "fail", 0, SQLITE_UTF8, 0, fnFail, 0, 0);
  sqlite3_prepare_v2(db, "SELECT fail()", -1, &pStmt, 0);
  TT_CHECK("op: result error code reaches the statement", sqlite3_step(pStmt)==SQLITE_CONSTRAINT);
  TT_EQ_STR("op: result error message", sqlite3_errmsg(db), "ts_demo: insert row 2: UNIQUE constraint failed: t.a");
  sqlite3_finalize(pStmt);
  tsOpClear(&op);
  TT_CHECK("op: clear resets", op.rc==SQLITE_OK && op.zErr==0);

  tsOpInit(&op, db, "ts_demo");
  TT_CHECK("op: prepare error", tsOpPrepare(&op, "SELECT * FROM \"%w\"", "no\"pe")==0);
  TT_EQ_STR("op: prepare error message", op.zErr, "ts_demo: prepare: no such table: no\"pe");
  tsOpClear(&op);
  tsOpInit(&op, db, "ts_demo");
  op.zObj = "cpu";
  tsOpExec(&op, "SELECT * FROM nope");
  TT_EQ_STR("op: SQL error names the object", op.zErr, "ts_demo cpu: SELECT * FROM nope: no such table: nope");
  tsOpClear(&op);
  tsOpInit(&op, db, "ts_demo");
  z = tsOpDup(&op, "abc");
  TT_EQ_STR("op: dup", z, "abc");
  sqlite3_free(z);
  TT_CHECK("op: dup of NULL is NULL, no error", tsOpDup(&op, 0)==0 && op.rc==0);
  z = tsOpMallocZero(&op, 8);
  TT_CHECK("op: malloc zeroed", z && z[0]==0 && z[7]==0);
  sqlite3_free(z);
  tsOpErr(&op, 0, "plain %s", "message");
  TT_CHECK("op: rc 0 means SQLITE_ERROR", op.rc==SQLITE_ERROR);
  TT_EQ_STR("op: whole message as given", op.zErr, "plain message");
  tsOpClear(&op);
  sqlite3_close(db);
  return tt_done();
}
