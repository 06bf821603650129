#!/usr/bin/env bash
# docs/using.md is true: `make install` into a temporary prefix (and a
# DESTDIR staging install listed file by file, then `make uninstall`), then
# each snippet of docs/using.md marked "<!-- snippet: NAME -->" is run with
# /usr/local replaced by the prefix and its output compared with the first
# ```text block after it: the sqlite3 shell line, the C program that loads
# lib/tslite.so, and the C program linked statically with
# `pkg-config --static --libs tslite` (checked not to need tslite.so).
# The Python and Node snippets are run by tests/py/test_using.py and
# tests/js/better_sqlite3.test.mjs.  Normal build only (the installed files
# are the uninstrumented ones).
set -u
ROOT=${TS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${TS_BUILD:-$ROOT/build}
DOC=$ROOT/docs/using.md
nfail=0
pass() { echo "PASS using: $1"; }
fail() { echo "FAIL using: $1"; nfail=$((nfail+1)); }
if [ "${TS_SANITIZE:-0}" = 1 ]; then echo "SKIP using: installs and links the normal build only"; exit 0; fi
if [ ! -f "$B/tslite.so" ] || [ ! -f "$B/bin/tslite" ]; then echo "SKIP using: $B not built"; exit 0; fi
command -v pkg-config >/dev/null || { echo "SKIP using: no pkg-config"; exit 0; }
tmp=$(mktemp -d /tmp/tslite-using-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# snippet NAME: the fenced block after the marker; output NAME: the first
# ```text block after the marker.
snippet() { awk -v m="<!-- snippet: $1 -->" '$0==m{f=1; next} f==1&&/^```/{f=2; next} f==2&&/^```/{exit} f==2{print}' "$DOC"; }
output()  { awk -v m="<!-- snippet: $1 -->" '$0==m{f=1; next} f&&/^```text$/{g=1; next} g&&/^```/{exit} g{print}' "$DOC"; }

# DESTDIR staging install: exactly the five files, and uninstall removes them.
mk() { make -s -C "$ROOT" B="${B#$ROOT/}" "$@"; }
if mk install PREFIX=/usr/local DESTDIR="$tmp/stage" >"$tmp/make.log" 2>&1; then
  got=$(cd "$tmp/stage" && find . -type f | sort | tr '\n' ' ')
  exp="./usr/local/bin/tslite ./usr/local/include/tslite.h ./usr/local/lib/libtslite.a ./usr/local/lib/pkgconfig/tslite.pc ./usr/local/lib/tslite.so "
  [ "$got" = "$exp" ] && pass "make install DESTDIR= PREFIX=/usr/local installs the five files" \
    || fail "make install DESTDIR: got [$got], expected [$exp]"
  grep -q '^prefix=/usr/local$' "$tmp/stage/usr/local/lib/pkgconfig/tslite.pc" \
    && pass "tslite.pc names PREFIX, not DESTDIR" || fail "tslite.pc prefix: $(grep ^prefix "$tmp/stage/usr/local/lib/pkgconfig/tslite.pc")"
  mk uninstall PREFIX=/usr/local DESTDIR="$tmp/stage" >>"$tmp/make.log" 2>&1
  left=$(cd "$tmp/stage" && find . -type f | tr '\n' ' ')
  [ -z "$left" ] && pass "make uninstall removes them" || fail "make uninstall left: $left"
else
  fail "make install DESTDIR: $(tail -3 "$tmp/make.log")"
fi

P=$tmp/prefix
if ! mk install PREFIX="$P" >"$tmp/make.log" 2>&1; then fail "make install PREFIX=$P: $(tail -3 "$tmp/make.log")"; exit 1; fi
export PKG_CONFIG_PATH=$P/lib/pkgconfig
pc=$(pkg-config --static --libs tslite 2>&1)
case "$pc" in *"-L$P/lib -ltslite"*-lcurl*-lzstd*) pass "pkg-config --static --libs tslite: $pc";;
  *) fail "pkg-config --static --libs tslite: [$pc]";; esac
v=$("$P/bin/tslite" version 2>&1)
case "$v" in "tslite 0.1.0 (SQLite "*")") pass "installed bin/tslite version: $v";; *) fail "bin/tslite version: [$v]";; esac

# run NAME OUTPUTFILE: compares OUTPUTFILE with the doc's output block.
check_out() {
  local name=$1 got=$2 exp
  exp=$(output "$name")
  [ -n "$exp" ] || { fail "$name: no \`\`\`text output block after its snippet"; return; }
  if [ "$got" = "$exp" ]; then pass "$name prints what docs/using.md shows"
  else fail "$name: got [$got], docs/using.md shows [$exp]"; fi
}
for n in shell.sh dynamic.c static.c; do
  snippet "$n" | sed "s|/usr/local|$P|g" >"$tmp/$n"
  [ -s "$tmp/$n" ] || fail "$n: no snippet marked <!-- snippet: $n --> in docs/using.md"
done

check_out shell.sh "$(cd "$tmp" && bash shell.sh 2>&1)"

if cc -Wall -Werror "$tmp/dynamic.c" -o "$tmp/dynamic" -lsqlite3 2>"$tmp/cc.log"; then
  check_out dynamic.c "$("$tmp/dynamic" 2>&1)"
else fail "dynamic.c does not build: $(head -3 "$tmp/cc.log")"; fi

# shellcheck disable=SC2046
if cc -Wall -Werror "$tmp/static.c" -o "$tmp/static" $(pkg-config --cflags tslite) \
     $(pkg-config --static --libs tslite) -lsqlite3 2>"$tmp/cc.log"; then
  check_out static.c "$("$tmp/static" 2>&1)"
  if ldd "$tmp/static" | grep -q tslite; then fail "static program needs a tslite shared object: $(ldd "$tmp/static" | grep tslite)"
  else pass "static program links no tslite shared object"; fi
  rm -f "$P/lib/tslite.so"
  check_out static.c "$("$tmp/static" 2>&1)"
else fail "static.c does not build with pkg-config --static: $(head -3 "$tmp/cc.log")"; fi

# The docs' build line itself (from docs/using.md, run in the snippet dir).
line=$(grep -m1 '^cc static.c' "$DOC")
[ -n "$line" ] && (cd "$tmp" && eval "$line") 2>"$tmp/cc.log" && pass "docs' static build line works: $line" \
  || fail "docs' static build line [$line]: $(head -3 "$tmp/cc.log")"
[ "$nfail" -eq 0 ]
