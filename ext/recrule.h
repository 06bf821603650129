/*
** recrule.h: the one rule that resolves two stored rows of one record key
** (series, time) held by different tiers or objects.  Used by the scan
** (tsSourceFind and the lane merge, ext/scan.c), by the cold reader's
** marks (ext/cold_read.c) and by the object rewrites of ts_maintain
** (compaction and retention, ext/maintain_rewrite.c), so the visible row of
** a key never changes when ts_maintain moves or merges rows.
**
** Writes do not read the cold tier, so a late write of a key that already
** has a cold row is stored in the memory tier next to it.  Of two rows of a
** key, the EARLIER write is the cold row (or the row of the older object:
** lower manifest id) and the LATER write is the memory row (or the row of
** the newer object).  Every row carries the write mark of the statement
** that stored it (the conflict clause): plain INSERT, INSERT OR REPLACE,
** INSERT OR IGNORE (chunk format 3 in ext/codec/chunk.c, the ts_write_mode
** column of a cold object, docs/internals/cold-format.md).
**
** Timestream's record rules, applied to the later write L against the
** earlier E:
**   - L marked REPLACE: L replaces E, whatever the versions (as INSERT OR
**     REPLACE does in the memory tier);
**   - L.version > E.version: L replaces E (an upsert, or a version bump of
**     equal values);
**   - otherwise E stays.  If the measure values differ, L is a REJECTED
**     record (reported by ts_maintain in the rejected-records report) unless
**     L is marked IGNORE (INSERT OR IGNORE: the earlier row stays quietly);
**     with equal values L is an idempotent duplicate.
** With more than two rows of one key the rule is applied in write order
** (earliest first) to the row visible so far.
**
** Marks are sticky in the memory tier: a write that replaces a memory row
** marked REPLACE is marked REPLACE too (it was decided against a row that
** had already replaced the cold one).
*/
#ifndef TS_RECRULE_H
#define TS_RECRULE_H
#include <stdint.h>

#define TS_MARK_NONE     0   /* plain INSERT */
#define TS_MARK_REPLACE  1   /* INSERT OR REPLACE */
#define TS_MARK_IGNORE   2   /* INSERT OR IGNORE */

/* Does the later write (version vL, mark mL) replace the earlier one
** (version vE)? */
static inline int tsRecLaterWins(int64_t vE, int64_t vL, int mL){
  return mL==TS_MARK_REPLACE || vL>vE;
}

/* A later write that lost (tsRecLaterWins()==0): is it a rejected record? */
static inline int tsRecRejected(int bValuesDiffer, int mL){
  return bValuesDiffer && mL!=TS_MARK_IGNORE;
}

/* The mark of a write with conflict clause eMark that replaces a memory
** row marked mOld (TS_MARK_NONE when it replaces none). */
static inline int tsRecMarkStore(int mOld, int eMark){
  return mOld==TS_MARK_REPLACE ? TS_MARK_REPLACE : eMark;
}

#endif /* TS_RECRULE_H */
