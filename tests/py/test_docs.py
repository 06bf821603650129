"""Every SQL example in the docs runs, and shows what it says it returns.

For each Markdown file (README.md, docs/*.md, docs/internals/*.md) one fresh
in-memory connection with the extension loaded runs the file's ```sql blocks
in order (a block may use what an earlier block of the same file created,
as a reader following the page would).  Statements end with ';'.  A comment
on the statement's last line, `-- <expected>`, or comment-only lines right
indented comment-only lines right after it, is the expected result: one row,
columns joined by '|', NULL as
NULL, REAL values in shortest round-trip form (so the check does not depend
on how a SQLite version prints REALs); a trailing remark in parentheses
after the value is prose, not part of it.  Several rows are written
`-- row1 ; row2` or `-- row1, row2`, and `...` in an expected value
matches any text (for long results the page elides).  A statement without an expected comment must run without
error.  A block preceded by `<!-- doctest: skip (reason) -->` is not run
(use it for blocks that need a server, a file or a table the page does not
create), and `<!-- doctest: error -->` before a block means each statement
must fail with the expected message written as `-- error: <message prefix>`.
Tables an example uses without creating them come from a hidden block
`<!-- doctest-setup` ... `-->` (SQL up to the closing `-->`), run where it
stands in the page.  Non-indented comment lines are prose; sqlite3 shell commands (`.load ...`)
are ignored (the runner has loaded the extension).
"""
import glob
import os
import re
import sqlite3
import sys
import tempfile

import tshelp  # tests/py/tshelp.py
tshelp.asan_reexec()

root = os.environ.get("TS_ROOT") or os.path.join(os.path.dirname(__file__), "..", "..")
ext = os.environ.get("TS_EXT") or os.path.join(root, "build", "tslite")
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    print("SKIP docs: this python's sqlite3 cannot load extensions")
    sys.exit(0)

n_fail = 0


def report(ok, name, why=""):
    global n_fail
    if ok:
        print(f"PASS docs: {name}")
    else:
        n_fail += 1
        print(f"FAIL docs: {name}: {why}")


def fmt(v):
    if v is None:
        return "NULL"
    if isinstance(v, float):
        r = repr(v)
        return r
    if isinstance(v, bytes):
        return "x'" + v.hex() + "'"
    return str(v)


REMARK = re.compile(r"\s+\([^()]*\)\s*$")


def code_and_comment(line):
    """Split a line into SQL and its trailing '-- ' comment (outside quotes)."""
    q = None
    i = 0
    while i < len(line):
        c = line[i]
        if q:
            if c == q:
                q = None
        elif c in "'\"":
            q = c
        elif line.startswith("--", i):
            return line[:i], line[i + 2:].strip()
        i += 1
    return line, None


def statements(block):
    """Yield (first line number offset, sql, expected or None)."""
    cur, start, out = [], None, []
    lines = block.split("\n")
    i = 0
    while i < len(lines):
        if not cur and lines[i].startswith("."):
            i += 1          # a sqlite3 shell command (.load): the runner has loaded the extension
            continue
        code, comment = code_and_comment(lines[i])
        if not cur and not code.strip():
            i += 1
            continue
        if start is None:
            start = i
        cur.append(code)
        if code.rstrip().endswith(";"):
            exp = [comment] if comment else []
            j = i + 1
            while j < len(lines):
                c2, m2 = code_and_comment(lines[j])
                if c2.strip() or m2 is None or not lines[j].startswith(" "):
                    break
                exp.append(m2)
                j += 1
            e = " ".join(exp).strip() if exp else None
            if e:
                e2 = REMARK.sub("", e)
                e = e2 if e2 else e
            out.append((start, "\n".join(cur), e))
            cur, start = [], None
            i = j
            continue
        i += 1
    if cur and "".join(cur).strip():
        out.append((start, "\n".join(cur), None))
    return out


def matches(rows, got, exp):
    alts = [got]
    if len(rows) > 1:
        alts.append(", ".join("|".join(fmt(v) for v in r) for r in rows))
    pat = "^" + ".*".join(re.escape(x) for x in exp.split("...")) + "$"
    return any(a == exp or ("..." in exp and re.match(pat, a, re.S)) for a in alts)


def run_file(path):
    rel = os.path.relpath(path, root)
    text = open(path, encoding="utf-8").read()
    blocks = list(re.finditer(r"^```sql\n(.*?)^```|^<!-- doctest-setup\n(.*?)^-->", text, re.S | re.M))
    if not blocks:
        return
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.enable_load_extension(True)
    db.load_extension(ext)
    for m in blocks:
        if m.group(2) is not None:
            try:
                db.executescript(m.group(2))
            except sqlite3.Error as e:
                report(False, f"{rel}: setup block", str(e))
            continue
        line0 = text.count("\n", 0, m.start(1)) + 1
        before = text[:m.start()].rstrip().split("\n")[-1]
        if before.startswith("<!-- doctest: skip"):
            print(f"SKIP docs: {rel}:{line0}: {before}")
            continue
        want_err = before.startswith("<!-- doctest: error")
        for off, sql, exp in statements(m.group(1)):
            name = f"{rel}:{line0 + off}"
            sql = sql.replace("file:///tmp/", f"file://{scratch}/")
            try:
                rows = db.execute(sql).fetchall()
                got = " ; ".join("|".join(fmt(v) for v in r) for r in rows)
                if want_err:
                    report(False, name, f"expected an error, got {got!r}")
                elif exp is None:
                    report(True, name)
                else:
                    report(matches(rows, got, exp), name, f"got {got!r}, the doc says {exp!r}")
            except sqlite3.Error as e:
                if want_err and exp and exp.startswith("error: "):
                    report(str(e).startswith(exp[7:]), name, f"error {str(e)!r}, the doc says {exp!r}")
                else:
                    report(False, name, f"error {str(e)!r} running {sql.strip()[:120]!r}")
    db.close()


scratch = tempfile.mkdtemp(prefix="tslite-docs-")   # 'file:///tmp/...' in examples lands here
files = [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs", "*.md"))) \
    + sorted(glob.glob(os.path.join(root, "docs", "internals", "*.md")))
for f in files:
    if os.path.exists(f):
        run_file(f)
import shutil
shutil.rmtree(scratch, ignore_errors=True)
sys.exit(1 if n_fail else 0)
