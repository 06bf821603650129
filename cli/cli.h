/*
** cli.h: the `tslite` command-line program (build/bin/tslite; DESIGN section
** 1).  main.c dispatches "tslite <subcommand> ..." through the table in
** main.c; each subcommand lives in its own file cli/cmd_<name>.c and is one
** function with main()'s signature that returns the exit status (0 ok,
** 1 failure, 2 usage error) and answers --help.
**
** Every subcommand opens its database with tsCliOpen(), which loads the
** extension statically (sqlite3_tslite_init linked from libtslite.a), so the
** program works without a .so on the loader path.
*/
#ifndef TS_CLI_H
#define TS_CLI_H
#include <sqlite3.h>

/* Open zFile read-write (creating it if needed) with tslite registered and
** a busy timeout; on failure print "tslite: <zFile>: <why>" and return NULL. */
sqlite3 *tsCliOpen(const char *zFile);

int tsCliVersion(int argc, char **argv);     /* main.c */
int tsCliIngest(int argc, char **argv);      /* ingest.c */
int tsCliLoad(int argc, char **argv);        /* cmd_load.c */
int tsCliBackup(int argc, char **argv);      /* backup.c: tslite backup */
int tsCliRestore(int argc, char **argv);     /* backup.c: tslite restore */
int tsCliScheduler(int argc, char **argv);   /* scheduler.c: tslite scheduler */
#endif
