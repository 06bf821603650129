/*
** ingest.c: `tslite ingest DBFILE [options]`, InfluxDB line protocol on
** stdin into timeseries tables (Telegraf's outputs.execd, or any pipe).
**
**   telegraf ... | tslite ingest metrics.db --precision s
**
** HOW IT WORKS.  Bytes read from stdin collect in one buffer; whole lines
** are handed to ts_write_lp() (ext/lineproto_sql.c) in batches, one call and
** so one transaction per batch: a batch goes when it holds --batch-lines
** lines or --batch-bytes bytes, when stdin has been quiet for --flush-ms
** while lines wait (an agent that writes a burst and pauses sees it
** committed promptly), and at end of input or SIGINT/SIGTERM (the pending
** batch is written before exit).  A line longer than TS_INGEST_MAXLINE is
** skipped and reported; so memory stays below batch-bytes + TS_INGEST_MAXLINE
** whatever the input.
**
** Rejected lines are reported on stderr as "tslite ingest: line N: reason"
** with N counted over the whole input; a summary line follows at exit.
** Exit status: 0 when the input was consumed (rejected lines included),
** 1 when a batch failed (database error: nothing of that batch is written),
** 2 for a usage error.
*/
#include "cli.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TS_INGEST_MAXLINE (1024*1024)        /* bytes of one line */
#define TS_INGEST_LINES   5000               /* default --batch-lines */
#define TS_INGEST_BYTES   (4*1024*1024)      /* default --batch-bytes */
#define TS_INGEST_FLUSHMS 1000               /* default --flush-ms */
#define TS_INGEST_READ    65536              /* bytes per read() */

static volatile sig_atomic_t bStop = 0;
static void onSignal(int sig){ (void)sig; bStop = 1; }

typedef struct Ingest Ingest;
struct Ingest {
  sqlite3 *db;
  sqlite3_stmt *pWrite;    /* SELECT ts_write_lp(?1, json_set(?2,'$.precision',?3)) */
  sqlite3_stmt *pRej;      /* the rejected lines of a result */
  const char *zOpts;       /* --options JSON (default '{}') */
  const char *zPrec;       /* --precision */
  char *a;                 /* pending bytes; owned (malloc) */
  size_t n;                /* bytes in a */
  size_t nAlloc;
  size_t iScan;            /* a[0..iScan) is scanned for newlines */
  size_t iLineEnd;         /* a[0..iLineEnd) holds whole lines (0 = none) */
  long nBatchLines;        /* whole lines in a[0..iLineEnd) */
  long iLineBase;          /* lines of the input already written */
  int bDiscard;            /* skipping the rest of an overlong line */
  long nLines, nWritten, nBatches;   /* totals for the summary */
};

/* Write a[0..iLineEnd) through ts_write_lp and keep the rest.  Returns 0, or
** 1 after printing the error. */
static int ingestFlush(Ingest *p){
  const char *zRes;
  int rc;
  if( p->iLineEnd==0 ) return 0;
  sqlite3_bind_text64(p->pWrite, 1, p->a, p->iLineEnd, SQLITE_STATIC, SQLITE_UTF8);
  rc = sqlite3_step(p->pWrite);
  if( rc!=SQLITE_ROW ){
    fprintf(stderr, "tslite ingest: batch of lines %ld..%ld not written: %s\n",
            p->iLineBase+1, p->iLineBase+p->nBatchLines, sqlite3_errmsg(p->db));
    sqlite3_reset(p->pWrite);
    return 1;
  }
  zRes = (const char*)sqlite3_column_text(p->pWrite, 0);
  sqlite3_bind_text(p->pRej, 1, zRes, -1, SQLITE_TRANSIENT);
  while( sqlite3_step(p->pRej)==SQLITE_ROW ){
    int iKind = sqlite3_column_int(p->pRej, 0);
    if( iKind==0 ){
      fprintf(stderr, "tslite ingest: line %lld: %s\n",
              (long long)(p->iLineBase + sqlite3_column_int64(p->pRej, 1)),
              (const char*)sqlite3_column_text(p->pRej, 2));
    }else if( iKind==1 ){
      p->nLines += sqlite3_column_int64(p->pRej, 1);
      p->nWritten += sqlite3_column_int64(p->pRej, 2);
    }else{
      fprintf(stderr, "tslite ingest: created table %s\n",
              (const char*)sqlite3_column_text(p->pRej, 2));
    }
  }
  sqlite3_reset(p->pRej);
  sqlite3_reset(p->pWrite);
  sqlite3_clear_bindings(p->pWrite);
  sqlite3_bind_text(p->pWrite, 2, p->zOpts, -1, SQLITE_STATIC);
  sqlite3_bind_text(p->pWrite, 3, p->zPrec, -1, SQLITE_STATIC);
  p->nBatches++;
  p->iLineBase += p->nBatchLines;
  memmove(p->a, p->a + p->iLineEnd, p->n - p->iLineEnd);
  p->n -= p->iLineEnd;
  p->iScan -= p->iLineEnd;
  p->iLineEnd = 0;
  p->nBatchLines = 0;
  return 0;
}

/* Scan new bytes for line ends; handle overlong lines. */
static void ingestScan(Ingest *p){
  while( p->iScan<p->n ){
    char *e = memchr(p->a + p->iScan, '\n', p->n - p->iScan);
    if( p->bDiscard ){
      /* Drop bytes of the overlong line up to and including its '\n'. */
      size_t iEnd = e ? (size_t)(e - p->a) + 1 : p->n;
      memmove(p->a + p->iLineEnd, p->a + iEnd, p->n - iEnd);
      p->n -= iEnd - p->iLineEnd;
      p->iScan = p->iLineEnd;
      if( e ) p->bDiscard = 0;
      continue;
    }
    if( (size_t)((e ? e : p->a + p->n) - p->a) - p->iLineEnd > TS_INGEST_MAXLINE ){
      /* The line is too long: report it and keep it as an empty line, so
      ** that ts_write_lp's line numbers stay right; without its '\n' yet,
      ** skip the rest of it as it arrives. */
      long iLine = p->iLineBase + p->nBatchLines + 1;
      fprintf(stderr, "tslite ingest: line %ld: longer than %d bytes, skipped\n",
              iLine, TS_INGEST_MAXLINE);
      p->nLines++;
      if( e ){
        size_t iNext = (size_t)(e - p->a);      /* keeps the '\n' */
        memmove(p->a + p->iLineEnd, p->a + iNext, p->n - iNext);
        p->n -= iNext - p->iLineEnd;
      }else{
        p->a[p->iLineEnd] = '\n';
        p->n = p->iLineEnd + 1;
        p->bDiscard = 1;
      }
      p->iLineEnd++;
      p->iScan = p->iLineEnd;
      p->nBatchLines++;
      continue;
    }
    if( e==0 ){
      p->iScan = p->n;
      break;
    }
    p->iScan = (size_t)(e - p->a) + 1;
    p->iLineEnd = p->iScan;
    p->nBatchLines++;
  }
}

static int usage(FILE *f){
  fprintf(f,
    "usage: tslite ingest DBFILE [--precision ns|us|ms|s] [--options JSON]\n"
    "                     [--batch-lines N] [--batch-bytes N] [--flush-ms N]\n"
    "Reads InfluxDB line protocol from stdin and writes it with ts_write_lp():\n"
    "a measurement is a table (created on first use), tags are dimensions,\n"
    "fields are measures.  One transaction per batch of lines.\n"
    "  --precision P     unit of the timestamps (default ns)\n"
    "  --options JSON    ts_write_lp options, e.g. CREATE options for new tables:\n"
    "                    '{\"memory_retention\":\"24h\"}'\n"
    "  --batch-lines N   lines per transaction (default %d)\n"
    "  --batch-bytes N   bytes per transaction (default %d)\n"
    "  --flush-ms N      write waiting lines after N ms without input (default %d)\n"
    "Rejected lines are reported on stderr as 'line N: reason'.\n",
    TS_INGEST_LINES, TS_INGEST_BYTES, TS_INGEST_FLUSHMS);
  return f==stdout ? 0 : 2;
}

/* Parse a positive integer option value; 0 if bad. */
static long posArg(const char *z){
  char *zEnd = 0;
  long v = z ? strtol(z, &zEnd, 10) : 0;
  return (z && *z && zEnd && *zEnd==0 && v>0) ? v : 0;
}

int tsCliIngest(int argc, char **argv){
  Ingest g;
  const char *zDb = 0;
  long nMaxLines = TS_INGEST_LINES, nMaxBytes = TS_INGEST_BYTES, nFlushMs = TS_INGEST_FLUSHMS;
  int i, rc = 0, bEof = 0;
  struct sigaction sa;
  memset(&g, 0, sizeof(g));
  g.zOpts = "{}";
  g.zPrec = "ns";
  for(i=1; i<argc; i++){
    const char *z = argv[i];
    const char *zVal = i+1<argc ? argv[i+1] : 0;
    if( strcmp(z, "--help")==0 || strcmp(z, "-h")==0 ) return usage(stdout);
    if( strcmp(z, "--precision")==0 && zVal ){
      if( strcmp(zVal, "ns") && strcmp(zVal, "us") && strcmp(zVal, "ms") && strcmp(zVal, "s") ){
        fprintf(stderr, "tslite ingest: bad --precision '%s' (expected ns, us, ms or s)\n", zVal);
        return 2;
      }
      g.zPrec = zVal; i++;
    }else if( strcmp(z, "--options")==0 && zVal ){
      g.zOpts = zVal; i++;
    }else if( (strcmp(z, "--batch-lines")==0 || strcmp(z, "--batch-bytes")==0
            || strcmp(z, "--flush-ms")==0) && zVal ){
      long v = posArg(zVal);
      if( v==0 || (z[8]=='b' && v>1024L*1024*1024) ){
        fprintf(stderr, "tslite ingest: bad %s '%s' (expected a positive integer%s)\n",
                z, zVal, z[8]=='b' ? " up to 1 GiB" : "");
        return 2;
      }
      if( strcmp(z, "--batch-lines")==0 ) nMaxLines = v;
      else if( strcmp(z, "--batch-bytes")==0 ) nMaxBytes = v;
      else nFlushMs = v;
      i++;
    }else if( z[0]=='-' && z[1] ){
      fprintf(stderr, "tslite ingest: unknown or incomplete option '%s'\n", z);
      return usage(stderr);
    }else if( zDb==0 ){
      zDb = z;
    }else{
      fprintf(stderr, "tslite ingest: unexpected argument '%s'\n", z);
      return usage(stderr);
    }
  }
  if( zDb==0 ) return usage(stderr);

  g.db = tsCliOpen(zDb);
  if( g.db==0 ) return 1;
  if( sqlite3_prepare_v2(g.db, "SELECT ts_write_lp(?1, json_set(?2, '$.precision', ?3))", -1,
                         &g.pWrite, 0)!=SQLITE_OK
   || sqlite3_prepare_v2(g.db,
        "SELECT 0, json_extract(value, '$.line'), json_extract(value, '$.reason')"
        "  FROM json_each(?1, '$.rejected')"
        " UNION ALL SELECT 1, json_extract(?1, '$.lines'), json_extract(?1, '$.written')"
        " UNION ALL SELECT 2, 0, value FROM json_each(?1, '$.created')", -1, &g.pRej, 0)!=SQLITE_OK ){
    fprintf(stderr, "tslite ingest: %s\n", sqlite3_errmsg(g.db));
    sqlite3_finalize(g.pWrite);
    sqlite3_close(g.db);
    return 1;
  }
  /* Options are checked once, before any input is read. */
  {
    sqlite3_stmt *pChk = 0;
    int ok = sqlite3_prepare_v2(g.db, "SELECT ts_write_lp('', json_set(?1, '$.precision', ?2))",
                                -1, &pChk, 0)==SQLITE_OK;
    if( ok ){
      sqlite3_bind_text(pChk, 1, g.zOpts, -1, SQLITE_STATIC);
      sqlite3_bind_text(pChk, 2, g.zPrec, -1, SQLITE_STATIC);
      ok = sqlite3_step(pChk)==SQLITE_ROW;
    }
    if( !ok ){
      fprintf(stderr, "tslite ingest: --options: %s\n", sqlite3_errmsg(g.db));
      sqlite3_finalize(pChk);
      sqlite3_finalize(g.pWrite);
      sqlite3_finalize(g.pRej);
      sqlite3_close(g.db);
      return 2;
    }
    sqlite3_finalize(pChk);
  }
  sqlite3_bind_text(g.pWrite, 2, g.zOpts, -1, SQLITE_STATIC);
  sqlite3_bind_text(g.pWrite, 3, g.zPrec, -1, SQLITE_STATIC);

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = onSignal;     /* no SA_RESTART: read() and poll() return EINTR */
  sigaction(SIGINT, &sa, 0);
  sigaction(SIGTERM, &sa, 0);

  g.nAlloc = (size_t)nMaxBytes + TS_INGEST_MAXLINE + TS_INGEST_READ + 1;
  g.a = malloc(g.nAlloc);
  if( g.a==0 ){
    fprintf(stderr, "tslite ingest: out of memory\n");
    rc = 1;
  }
  while( rc==0 && !bEof && !bStop ){
    ssize_t nRead;
    if( g.iLineEnd>0 ){
      /* Lines wait: write them if stdin stays quiet for nFlushMs. */
      struct pollfd pfd;
      int prc;
      pfd.fd = 0; pfd.events = POLLIN; pfd.revents = 0;
      prc = poll(&pfd, 1, (int)(nFlushMs>2000000000 ? 2000000000 : nFlushMs));
      if( prc==0 ){ rc = ingestFlush(&g); continue; }
      if( prc<0 ) continue;               /* EINTR: the loop checks bStop */
    }
    nRead = read(0, g.a + g.n, TS_INGEST_READ);
    if( nRead<0 ){
      if( errno==EINTR ) continue;
      fprintf(stderr, "tslite ingest: reading stdin: %s\n", strerror(errno));
      rc = 1;
      break;
    }
    if( nRead==0 ){
      bEof = 1;
      if( g.n>g.iLineEnd && !g.bDiscard ){
        /* The last line has no '\n': it is a line all the same. */
        g.a[g.n++] = '\n';
      }
    }else{
      g.n += (size_t)nRead;
    }
    ingestScan(&g);
    if( g.nBatchLines>=nMaxLines || g.iLineEnd>=(size_t)nMaxBytes ) rc = ingestFlush(&g);
  }
  if( rc==0 ) rc = ingestFlush(&g);
  fprintf(stderr, "tslite ingest: %ld lines, %ld written, %ld rejected, %ld batches%s\n",
          g.nLines, g.nWritten, g.nLines - g.nWritten, g.nBatches,
          bStop ? " (stopped by signal)" : "");
  free(g.a);
  sqlite3_finalize(g.pWrite);
  sqlite3_finalize(g.pRej);
  sqlite3_close(g.db);
  return rc;
}
