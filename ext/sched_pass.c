/*
** sched_pass.c: ts_scheduler_run_due([options_json]), one pass over the
** enabled scheduled queries: for each (leased), the late-data scan of its
** sources, the catch-up rule, its due instances in order (at most
** max_runs), then the bounded late-data refresh (max_check, max_refresh);
** then the due backup plans (sched_backup.c; each counts in max_runs).
**
** Leases: a pass claims a query (LeaseOwner/LeaseExpiry, wall clock) before
** working on it, so two daemons do not compute the same instance twice; the
** compare-and-set of step 2 is what makes a double commit impossible even
** when a lease expires mid-run.
*/
#include "sched_int.h"
#include "op.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SQ_DEFAULT_MAX_RUNS     100
#define SQ_DEFAULT_MAX_REFRESH  10
#define SQ_DEFAULT_MAX_CHECK    1000
#define SQ_DEFAULT_CATCHUP      TS_NS_PER_DAY

/* The pass. */

typedef struct SqPass SqPass;
struct SqPass {
  TsEnv *pEnv;
  sqlite3 *db;
  int64_t iNow;
  int nMaxRuns, nMaxRefresh, nMaxCheck;
  int nChecked;       /* pending instances found unchanged (not re-run) */
  int64_t iCatchup;
  char *zOwner;
  int nRuns;          /* runs done (scheduled + refresh) */
  int bBusy;          /* stopped by SQLITE_BUSY */
  TsJsonW jw;         /* the result; "runs" array open while running */
  TsBuf out;
  TsBuf skipped;      /* JSON objects of skipped ranges, comma-separated */
  TsJsonW jwSkip;
  TsBuf leased;       /* queries another owner holds */
  TsJsonW jwLeased;
};

/* Claim (or renew) the lease of query zName.  1 = ours. */
static int sqLeaseClaim(SqPass *p, const char *zName, int *pRc){
  int64_t iWall = tsSqWallNs();
  int rc = sqlite3_exec(p->db, "BEGIN IMMEDIATE", 0, 0, 0);
  int bOk = 0;
  if( rc==SQLITE_OK ){
    rc = tsSqStep(p->db, 0, "UPDATE main.ts_scheduled_query_defs SET LeaseOwner=?2, LeaseExpiry=?3"
                " WHERE Name=?1 AND (LeaseOwner IS NULL OR LeaseOwner=?2 OR LeaseExpiry<?4)",
                "ttii", zName, p->zOwner, (sqlite3_int64)(iWall + SQ_LEASE_NS), (sqlite3_int64)iWall);
    bOk = SQ_OK(rc) && sqlite3_changes(p->db)==1;
    if( SQ_OK(rc) ) rc = sqlite3_exec(p->db, "COMMIT", 0, 0, 0);
    if( rc!=SQLITE_OK && !SQ_OK(rc) ){ sqlite3_exec(p->db, "ROLLBACK", 0, 0, 0); bOk = 0; }
  }
  if( !SQ_OK(rc) ) *pRc = rc;
  return bOk;
}

static void sqLeaseRelease(SqPass *p, const char *zName){
  tsSqStep(p->db, 0, "UPDATE main.ts_scheduled_query_defs SET LeaseOwner=NULL, LeaseExpiry=NULL"
         " WHERE Name=?1 AND LeaseOwner=?2", "tt", zName, p->zOwner);
}


static int sqPassRunOne(SqPass *p, SqDef *d, int64_t R, int eMode){
  SqRun run;
  char *zErr = 0;
  int rc = tsSqRunInstance(p->pEnv, p->db, d, R, eMode, p->zOwner, &run, &zErr);
  if( rc==SQLITE_OK ){
    tsSqRunJson(&p->jw, d->zName, &run);
    p->nRuns++;
  }else if( rc!=SQLITE_DONE && rc!=SQLITE_BUSY && rc!=SQLITE_LOCKED ){
    /* An internal error (not the query's fault): report it in the pass. */
    tsJwObjBegin(&p->jw);
    tsJwKeyStr(&p->jw, "Name", d->zName);
    tsJwKeyInt(&p->jw, "InvocationTime", R);
    tsJwKeyStr(&p->jw, "Error", zErr ? zErr : sqlite3_errstr(rc));
    tsJwObjEnd(&p->jw);
  }
  tsSqRunClear(&run);
  sqlite3_free(zErr);
  return rc;
}

/*
** The late-data part of a pass for query d: take up to nMaxCheck pending
** instances (oldest first), fingerprint their windows in one scan per
** source, drop the ones whose fingerprint matches the one stored by their
** last run, and re-run up to nMaxRefresh of the others, in order.  Changed
** instances beyond that budget stay pending for the next pass.
*/
static int sqPassRefresh(SqPass *p, SqDef *d){
  sqlite3 *db = p->db;
  sqlite3_stmt *pS = 0;
  int64_t *aR = 0;
  SqFp *aFp = 0;
  unsigned char *aDirty = 0;
  int nR = 0, i, rc, nRun = 0;
  int64_t iEnd = INT64_MIN;            /* end of the last range taken whole */
  int64_t iStart = INT64_MAX;          /* start of the first range (no instance before aR[0]) */
  if( p->nMaxCheck<=0 ) return SQLITE_OK;
  aR = sqlite3_malloc64(sizeof(int64_t)*p->nMaxCheck);
  aFp = sqlite3_malloc64(sizeof(SqFp)*p->nMaxCheck);
  aDirty = sqlite3_malloc64(p->nMaxCheck);
  if( aR==0 || aFp==0 || aDirty==0 ){ rc = SQLITE_NOMEM; goto done; }
  /* 1. the instances to check */
  rc = sqlite3_prepare_v2(db, "SELECT FromTime, ToTime FROM main.ts_scheduled_query_invalidations"
                          " WHERE Name=?1 ORDER BY FromTime", -1, &pS, 0);
  if( rc!=SQLITE_OK ) goto done;
  sqlite3_bind_text(pS, 1, d->zName, -1, SQLITE_STATIC);
  while( nR<p->nMaxCheck && sqlite3_step(pS)==SQLITE_ROW ){
    int64_t a = sqlite3_column_int64(pS, 0), b = sqlite3_column_int64(pS, 1), R;
    if( a<iStart ) iStart = a;
    if( tsSqNextFire(&d->sched, d->iCreation, a-1, &R) ){ iEnd = b; continue; }
    while( R<=b && nR<p->nMaxCheck ){
      if( nR==0 || R>aR[nR-1] ) aR[nR++] = R;
      if( tsSqNextFire(&d->sched, d->iCreation, R, &R) ){ R = INT64_MAX; break; }
    }
    if( R>b ) iEnd = b;                 /* this range is fully taken */
  }
  rc = sqlite3_finalize(pS); pS = 0;
  if( rc!=SQLITE_OK || nR==0 ){
    /* nothing to check: ranges without an instance are dropped */
    if( rc==SQLITE_OK ){
      rc = tsSqStep(db, 0, "DELETE FROM main.ts_scheduled_query_invalidations WHERE Name=?1", "t", d->zName);
      rc = SQ_OK(rc) ? SQLITE_OK : rc;
    }
    goto done;
  }
  /* 2. fingerprints now and at the last run, in one read snapshot */
  rc = sqlite3_exec(db, "BEGIN", 0, 0, 0);
  if( rc!=SQLITE_OK ) goto done;
  rc = tsSqFingerprint(db, d->zName, d->iWindow, aR, nR, aFp);
  memset(aDirty, 1, nR);
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(db, "SELECT InvocationTime, RowCount, VersionSum, TimeSum"
                            " FROM main.ts_scheduled_query_windows WHERE Name=?1"
                            " AND InvocationTime BETWEEN ?2 AND ?3", -1, &pS, 0);
  }
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pS, 1, d->zName, -1, SQLITE_STATIC);
    sqlite3_bind_int64(pS, 2, aR[0]);
    sqlite3_bind_int64(pS, 3, aR[nR-1]);
    while( sqlite3_step(pS)==SQLITE_ROW ){
      int64_t R = sqlite3_column_int64(pS, 0);
      int lo = 0, hi = nR;
      while( lo<hi ){ int mid = (lo+hi)/2; if( aR[mid] < R ) lo = mid+1; else hi = mid; }
      if( lo<nR && aR[lo]==R && aFp[lo].n==sqlite3_column_int64(pS, 1)
       && aFp[lo].v==sqlite3_column_int64(pS, 2) && aFp[lo].t==sqlite3_column_int64(pS, 3) ){
        aDirty[lo] = 0;
      }
    }
    rc = sqlite3_finalize(pS); pS = 0;
  }
  sqlite3_exec(db, "COMMIT", 0, 0, 0);
  if( rc!=SQLITE_OK ) goto done;
  /* 3. the checked span leaves the pending set; changed instances that are
  ** not re-run in this pass go back as single-instance ranges */
  rc = sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0);
  if( rc!=SQLITE_OK ) goto done;
  rc = tsSqInvRemove(db, d->zName, iStart < aR[0] ? iStart : aR[0], iEnd > aR[nR-1] ? iEnd : aR[nR-1]);
  for(i=0; rc==SQLITE_OK && i<nR; i++){
    if( !aDirty[i] ){ p->nChecked++; continue; }
    if( nRun < p->nMaxRefresh ){ nRun++; continue; }
    rc = tsSqInvAdd(db, d->zName, aR[i], aR[i], 0);
  }
  if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
  if( rc!=SQLITE_OK ){ sqlite3_exec(db, "ROLLBACK", 0, 0, 0); goto done; }
  /* 4. re-run the changed ones; a run that cannot happen now goes back */
  nRun = 0;
  for(i=0; i<nR; i++){
    if( !aDirty[i] ) continue;
    if( nRun>=p->nMaxRefresh ) break;
    nRun++;
    if( rc==SQLITE_OK ){
      rc = sqPassRunOne(p, d, aR[i], SQ_REFRESH);
      if( rc==SQLITE_DONE ) rc = SQLITE_OK;
      if( rc==SQLITE_OK ) continue;
    }
    tsSqInvAdd(db, d->zName, aR[i], aR[i], 0);
  }
done:
  sqlite3_finalize(pS);
  sqlite3_free(aR); sqlite3_free(aFp); sqlite3_free(aDirty);
  return rc;
}

/* All the work of one query in one pass. */
static int sqPassQuery(SqPass *p, const char *zName){
  SqDef *d = 0;
  char *zErr = 0;
  int rc = SQLITE_OK;
  if( !sqLeaseClaim(p, zName, &rc) ){
    if( rc==SQLITE_OK ) tsJwStr(&p->jwLeased, zName);
    sqlite3_free(zErr);
    return rc;
  }
  rc = tsSqDefLoad(p->db, zName, &d, &zErr);
  if( rc==SQLITE_OK ) rc = tsSqScanSources(p->pEnv, p->db, d);
  /* Catch-up: instances older than now - catchup_window are skipped. */
  if( rc==SQLITE_OK && d->bNext && p->iNow - p->iCatchup > d->iNext ){
    int64_t iNew = 0;
    int bNew = tsSqNextFire(&d->sched, d->iCreation, p->iNow - p->iCatchup - 1, &iNew)==0;
    rc = tsSqStep(p->db, 0, "UPDATE main.ts_scheduled_query_defs SET NextInvocationTime=CASE WHEN ?4"
                " THEN ?3 END WHERE Name=?1 AND NextInvocationTime=?2", "tiii", zName,
                (sqlite3_int64)d->iNext, (sqlite3_int64)iNew, (sqlite3_int64)bNew);
    rc = SQ_OK(rc) ? SQLITE_OK : rc;
    if( rc==SQLITE_OK && sqlite3_changes(p->db)==1 ){
      tsJwObjBegin(&p->jwSkip);
      tsJwKeyStr(&p->jwSkip, "Name", zName);
      tsJwKeyInt(&p->jwSkip, "From", d->iNext);
      tsJwKey(&p->jwSkip, "To");
      if( bNew ) tsJwInt(&p->jwSkip, iNew); else tsJwNull(&p->jwSkip);
      tsJwObjEnd(&p->jwSkip);
    }
  }
  /* Scheduled instances, in order. */
  while( rc==SQLITE_OK && p->nRuns < p->nMaxRuns ){
    tsSqDefFree(d); d = 0;
    rc = tsSqDefLoad(p->db, zName, &d, &zErr);
    if( rc!=SQLITE_OK || strcmp(d->zState, "ENABLED")!=0 || !d->bNext || d->iNext > p->iNow ) break;
    rc = sqPassRunOne(p, d, d->iNext, SQ_AUTO);
    if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  }
  /* Late data: check the oldest pending instances, re-run the changed ones. */
  if( rc==SQLITE_OK && d && strcmp(d->zState, "ENABLED")==0 && d->iWindow>0 ){
    rc = sqPassRefresh(p, d);
  }
  sqLeaseRelease(p, zName);
  if( rc==SQLITE_BUSY || rc==SQLITE_LOCKED ){ p->bBusy = 1; rc = SQLITE_OK; }
  if( rc==SQLITE_NOTFOUND ) rc = SQLITE_OK;     /* deleted meanwhile */
  tsSqDefFree(d);
  sqlite3_free(zErr);
  return rc;
}

/* ts_scheduler_run_due([options_json]) */
void tsSqRunDueFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  TsEnv *pEnv = (TsEnv*)sqlite3_user_data(ctx);
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *zF = "ts_scheduler_run_due";
  SqPass pass;
  char *zErr = 0;
  char **azName = 0;
  int nName = 0, i, rc = SQLITE_OK;
  memset(&pass, 0, sizeof(pass));
  pass.pEnv = pEnv; pass.db = db; pass.iNow = tsEnvNow(pEnv);
  pass.nMaxRuns = SQ_DEFAULT_MAX_RUNS; pass.nMaxRefresh = SQ_DEFAULT_MAX_REFRESH;
  pass.nMaxCheck = SQ_DEFAULT_MAX_CHECK;
  pass.iCatchup = SQ_DEFAULT_CATCHUP;
  if( !sqlite3_get_autocommit(db) ){
    tsSqError(ctx, zF, SQLITE_ERROR, "cannot run inside a transaction (it commits its own)");
    return;
  }
  if( argc>0 && sqlite3_value_type(argv[0])!=SQLITE_NULL ){
    sqlite3_stmt *pS = 0;
    const char *zO = (const char*)sqlite3_value_text(argv[0]);
    rc = tsSqStep(db, &pS, "SELECT CASE WHEN json_valid(?1) AND json_type(?1)='object' THEN 1 ELSE 0 END,"
                " json_extract(?1,'$.max_runs'), json_extract(?1,'$.max_refresh'),"
                " json_extract(?1,'$.catchup_window'), json_extract(?1,'$.owner'),"
                " (SELECT group_concat(key) FROM json_each(?1) WHERE key NOT IN"
                "  ('max_runs','max_refresh','max_check','catchup_window','owner')),"
                " json_extract(?1,'$.max_check')", "t", zO ? zO : "");
    if( rc!=SQLITE_ROW || !sqlite3_column_int(pS, 0) ){
      zErr = sqlite3_mprintf("options must be a JSON object, e.g. '{\"max_runs\":10}'");
    }else if( sqlite3_column_type(pS, 5)!=SQLITE_NULL ){
      zErr = sqlite3_mprintf("unknown option '%s' (expected max_runs, max_refresh, max_check, "
                             "catchup_window, owner)",
                             sqlite3_column_text(pS, 5));
    }else{
      if( sqlite3_column_type(pS, 1)!=SQLITE_NULL ){
        if( sqlite3_column_type(pS, 1)!=SQLITE_INTEGER || sqlite3_column_int64(pS, 1)<1 ){
          zErr = sqlite3_mprintf("max_runs must be a positive integer");
        }else pass.nMaxRuns = (int)(sqlite3_column_int64(pS, 1) > 1000000 ? 1000000 : sqlite3_column_int64(pS, 1));
      }
      if( zErr==0 && sqlite3_column_type(pS, 2)!=SQLITE_NULL ){
        if( sqlite3_column_type(pS, 2)!=SQLITE_INTEGER || sqlite3_column_int64(pS, 2)<0 ){
          zErr = sqlite3_mprintf("max_refresh must be an integer >= 0");
        }else pass.nMaxRefresh = (int)(sqlite3_column_int64(pS, 2) > 1000000 ? 1000000 : sqlite3_column_int64(pS, 2));
      }
      if( zErr==0 && sqlite3_column_type(pS, 6)!=SQLITE_NULL ){
        if( sqlite3_column_type(pS, 6)!=SQLITE_INTEGER || sqlite3_column_int64(pS, 6)<0 ){
          zErr = sqlite3_mprintf("max_check must be an integer >= 0");
        }else pass.nMaxCheck = (int)(sqlite3_column_int64(pS, 6) > 100000 ? 100000 : sqlite3_column_int64(pS, 6));
      }
      if( zErr==0 && sqlite3_column_type(pS, 3)!=SQLITE_NULL ){
        const char *zC = (const char*)sqlite3_column_text(pS, 3);
        int64_t v;
        if( sqlite3_column_type(pS, 3)!=SQLITE_TEXT || tsIntervalParse(zC, -1, &v)!=TS_TIME_OK ){
          zErr = sqlite3_mprintf("catchup_window must be an interval such as '1d'");
        }else pass.iCatchup = v;
      }
      if( zErr==0 && sqlite3_column_type(pS, 4)!=SQLITE_NULL ){
        pass.zOwner = tsSqColDup(pS, 4);
      }
    }
    sqlite3_finalize(pS);
    rc = SQLITE_OK;
    if( zErr ){ tsSqError(ctx, zF, SQLITE_ERROR, zErr); sqlite3_free(zErr); sqlite3_free(pass.zOwner); return; }
  }
  if( pass.zOwner==0 ){
    char zHost[128];
    if( gethostname(zHost, sizeof(zHost))!=0 ) snprintf(zHost, sizeof(zHost), "?");
    zHost[sizeof(zHost)-1] = 0;
    pass.zOwner = sqlite3_mprintf("%s:%d:%p", zHost, (int)getpid(), (void*)db);
  }
  tsBufInit(&pass.out); tsJwInit(&pass.jw, &pass.out);
  tsBufInit(&pass.skipped); tsJwInit(&pass.jwSkip, &pass.skipped); tsJwArrBegin(&pass.jwSkip);
  tsBufInit(&pass.leased); tsJwInit(&pass.jwLeased, &pass.leased); tsJwArrBegin(&pass.jwLeased);
  tsJwObjBegin(&pass.jw);
  tsJwKeyInt(&pass.jw, "now", pass.iNow);
  tsJwKey(&pass.jw, "runs"); tsJwArrBegin(&pass.jw);
  if( tsSqHaveSchema(db) && pass.zOwner ) rc = tsSqMigrate(db);
  if( rc==SQLITE_OK && tsSqHaveSchema(db) ) rc = tsSqDropOrphanLogs(db);
  if( rc==SQLITE_OK && tsSqHaveSchema(db) && pass.zOwner ){
    sqlite3_stmt *pS = 0;
    TsBuf names;
    tsBufInit(&names);
    rc = sqlite3_prepare_v2(db, "SELECT Name FROM main.ts_scheduled_query_defs WHERE State='ENABLED'"
                            " ORDER BY NextInvocationTime, Name", -1, &pS, 0);
    while( rc==SQLITE_OK && sqlite3_step(pS)==SQLITE_ROW ){
      tsBufAppendStr(&names, (const char*)sqlite3_column_text(pS, 0));
      tsBufAppendByte(&names, 0);
      nName++;
    }
    sqlite3_finalize(pS);
    if( names.bErr ) rc = SQLITE_NOMEM;
    if( rc==SQLITE_OK && nName ){
      const char *z = (const char*)names.a;
      azName = sqlite3_malloc64(sizeof(char*)*nName);
      if( azName==0 ) rc = SQLITE_NOMEM;
      for(i=0; rc==SQLITE_OK && i<nName; i++){ azName[i] = (char*)z; z += strlen(z)+1; }
    }
    for(i=0; rc==SQLITE_OK && i<nName && !pass.bBusy && pass.nRuns<pass.nMaxRuns; i++){
      rc = sqPassQuery(&pass, azName[i]);
    }
    sqlite3_free(azName);
    tsBufFree(&names);
  }else if( pass.zOwner==0 ){
    rc = SQLITE_NOMEM;
  }
  tsJwArrEnd(&pass.jw);
  /* Backup plans (sched_backup.c), counted in max_runs. */
  tsJwKey(&pass.jw, "backups"); tsJwArrBegin(&pass.jw);
  if( rc==SQLITE_OK && !pass.bBusy ){
    rc = tsSqBackupPass(pEnv, db, pass.iNow, pass.nMaxRuns, &pass.nRuns, &pass.jw, &zErr);
    if( rc==SQLITE_BUSY || rc==SQLITE_LOCKED ){ pass.bBusy = 1; rc = SQLITE_OK; }
  }
  tsJwArrEnd(&pass.jw);
  tsJwArrEnd(&pass.jwSkip);
  tsJwArrEnd(&pass.jwLeased);
  tsJwKey(&pass.jw, "skipped");
  tsJwRaw(&pass.jw, (const char*)pass.skipped.a, pass.skipped.n);
  tsJwKey(&pass.jw, "leasedElsewhere");
  tsJwRaw(&pass.jw, (const char*)pass.leased.a, pass.leased.n);
  {
    int64_t nPending = 0, iNextDue = 0;
    int bNextDue = 0;
    sqlite3_stmt *pS = 0;
    if( tsSqHaveSchema(db) ){
      if( tsSqStep(db, &pS, "SELECT count(*) FROM main.ts_scheduled_query_invalidations", "")==SQLITE_ROW ){
        nPending = sqlite3_column_int64(pS, 0);
        sqlite3_finalize(pS);
      }
      if( tsSqStep(db, &pS, "SELECT min(NextInvocationTime) FROM main.ts_scheduled_query_defs"
                 " WHERE State='ENABLED'", "")==SQLITE_ROW ){
        bNextDue = sqlite3_column_type(pS, 0)!=SQLITE_NULL;
        iNextDue = sqlite3_column_int64(pS, 0);
        sqlite3_finalize(pS);
      }
    }
    {
      int64_t iBk = 0;
      if( tsSqBackupNext(db, &iBk) && (!bNextDue || iBk<iNextDue) ){ bNextDue = 1; iNextDue = iBk; }
    }
    tsJwKeyInt(&pass.jw, "checkedUnchanged", pass.nChecked);
    tsJwKeyInt(&pass.jw, "pendingInvalidations", nPending);
    tsJwKey(&pass.jw, "nextInvocationTime");
    if( bNextDue ) tsJwInt(&pass.jw, iNextDue); else tsJwNull(&pass.jw);
  }
  tsJwKeyBool(&pass.jw, "busy", pass.bBusy);
  tsJwObjEnd(&pass.jw);
  if( rc==SQLITE_OK ){
    tsOpResultJson(ctx, &pass.out, &pass.jw);
  }else{
    tsBufFree(&pass.out);
    tsSqError(ctx, zF, rc, zErr ? zErr : sqlite3_errmsg(db));
  }
  tsBufFree(&pass.skipped);
  tsBufFree(&pass.leased);
  sqlite3_free(pass.zOwner);
  sqlite3_free(zErr);
}
