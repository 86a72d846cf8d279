#!/usr/bin/env bash
# tests/lint.sh SOURCE_DIR - house rules a compiler does not check:
#  - every tipline .c file includes "common/banned.h" (strcpy, sprintf, strtok, atoi... banned)
#  - SQL only in storage/: no libpq calls elsewhere (tests and benches excepted)
#  - clang-format clean (when clang-format is installed)
set -uo pipefail
cd "${1:?source dir}"
rc=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.c' -o -name '*.h')
for f in $(echo "$files" | grep '\.c$' | grep -v '^tests/\|^bench/'); do
  grep -qE '#include "(common/)?banned.h"' "$f" || { echo "lint: $f does not include common/banned.h"; rc=1; }
done
for f in $(echo "$files" | grep -v '^storage/\|^tests/\|^bench/'); do
  if grep -nE '\bPQ(exec|prepare|sendQuery)' "$f" >/dev/null; then
    echo "lint: $f speaks SQL outside storage/"; rc=1
  fi
done
if command -v clang-format >/dev/null; then
  for f in $files; do
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || { echo "lint: $f is not clang-formatted"; rc=1; }
  done
fi
[ $rc = 0 ] && echo "lint: ok ($(echo "$files" | wc -l) files)"
exit $rc
