#!/bin/bash
# The include direction of docs/internals/architecture.md (DESIGN section 1):
# ext/ may include ext/codec/, s3/, scheduler/ and common/; s3/, scheduler/
# and ext/codec/ only common/ (and their own directory); common/ nothing of
# the project.  Nothing below ext/ includes SQLite.  Each #include "x" is
# resolved like the compiler does (the file's own directory, then -Icommon
# -Iext/codec -Iext -Is3 -Ischeduler) and checked against its layer.
cd "${TS_ROOT:-$(dirname "$0")/../..}" || exit 1
fails=0
allowed() {   # allowed LAYER_DIR TARGET_DIR
  case "$1:$2" in
    common:common) return 0 ;;
    ext/codec:ext/codec|ext/codec:common) return 0 ;;
    s3:s3|s3:common) return 0 ;;
    scheduler:scheduler|scheduler:common) return 0 ;;
    ext:ext|ext:ext/codec|ext:s3|ext:scheduler|ext:common|ext:include) return 0 ;;
  esac
  return 1
}
n=0
for f in common/*.[ch] ext/codec/*.[ch] s3/*.[ch] scheduler/*.[ch] ext/*.[ch]; do
  [ -e "$f" ] || continue
  dir=$(dirname "$f")
  while IFS= read -r inc; do
    n=$((n+1))
    target=""
    for d in "$dir" common ext/codec ext s3 scheduler; do
      if [ -e "$d/$inc" ]; then
        case "$inc" in
          */*) target=$(dirname "$(realpath --relative-to=. "$d/$inc")") ;;
          *) target=$d ;;
        esac
        break
      fi
    done
    if [ -z "$target" ]; then
      echo "FAIL include_direction: $f includes \"$inc\", which is no project header"
      fails=$((fails+1))
    elif ! allowed "$dir" "$target"; then
      echo "FAIL include_direction: $f ($dir) includes $target/$(basename "$inc") (upwards)"
      fails=$((fails+1))
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
  case "$dir" in
    common|ext/codec|s3|scheduler)
      if grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<sqlite3(ext)?\.h>' "$f"; then
        echo "FAIL include_direction: $f includes SQLite (only ext/ may)"
        fails=$((fails+1))
      fi ;;
  esac
done
if [ "$fails" -eq 0 ]; then
  echo "PASS include_direction: $n project includes follow the layer rules"
fi
[ "$fails" -eq 0 ]
