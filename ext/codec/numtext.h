/*
** numtext.h: decimal number text as SQLite's NUMERIC affinity reads it,
** parsed exactly (pure C, no SQLite).
**
** Why not sqlite3_value_numeric_type(): on a value made by
** sqlite3_value_dup() it takes the value's database mutex, which is NULL in
** a copy, and SQLite 3.53 crashes there; and it converts integral text such
** as '12345678901234567.0' through a double, losing digits.
**
** Accepted text: optional white space, an optional sign, digits with an
** optional '.' and fraction (at least one digit in all), an optional
** exponent (e|E, optional sign, digits), optional white space.  Anything else
** (hex, 'inf', 'nan', embedded NULs, trailing garbage) is not a number.
**
**   TS_NUMTEXT_INT   the text denotes an integer within int64: *pi exact
**                    ('12', '-3.000', '1.5e3')
**   TS_NUMTEXT_REAL  any other number: *pr is the nearest double (C locale,
**                    whatever the process locale); *pbIntegral is 1 when the
**                    text denotes an integer outside int64
**                    ('-9223372036854775809', '1e20'), else 0
**   TS_NUMTEXT_NONE  not a number
*/
#ifndef TS_NUMTEXT_H
#define TS_NUMTEXT_H
#include <stddef.h>
#include <stdint.h>

#define TS_NUMTEXT_NONE 0
#define TS_NUMTEXT_INT  1
#define TS_NUMTEXT_REAL 2

int tsNumText(const char *z, size_t n, int64_t *pi, double *pr, int *pbIntegral);

#endif
