#!/usr/bin/env bash
# bench/strip/run.sh - the strip benchmark, side by side with exiftool and mat2 on the
# same files in the same run, then the perceptual-hash figures.
#   bench/strip/run.sh BUILD_DIR [SHARED_DIR]
# BUILD_DIR holds bench/strip/bench_strip; SHARED_DIR defaults to ../shared of the repo.
# The corpus is every picture of SHARED_DIR/testdata/media that tipline strips (the
# malformed_* files and the EXIF-only libexif sample are left out: the other tools fail
# on them too). exiftool and mat2 work on copies, in one process each over all files
# (their start-up cost amortised: the fairest figure we can give them).
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [SHARED_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
shared=${2:-$here/../../../shared}
bin=$build/bench/strip/bench_strip
src=$shared/testdata/media
[ -x "$bin" ] || { echo "no $bin: build first" >&2; exit 1; }
[ -d "$src" ] || { echo "no $src" >&2; exit 1; }
work=$(mktemp -d /tmp/tipline-bench-strip.XXXXXX)
trap 'rm -rf "$work"' EXIT

# shellcheck source=corpus.sh
. "$here/corpus.sh"
corpus_files "$src"
bytes=$(cat "${files[@]}" | wc -c)
n=${#files[@]}

echo "machine: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1), $(nproc) cores"
echo "corpus: $n files, $bytes bytes from $src"
echo

now() { date +%s.%N; }
rate() { # name seconds
  awk -v n="$n" -v b="$bytes" -v t="$2" -v name="$1" \
    'BEGIN { printf "%-22s %8.3f s  %9.2f MB/s  %9.1f files/s\n", name, t, b/t/1e6, n/t }'
}

"$bin" --seconds 3 --tmp "$work" "${files[@]}" | tee "$work/ours.txt"
echo
ours_mbps=$(sed -n 's/.*strip_mbps=\([0-9.]*\).*/\1/p' "$work/ours.txt")
ours_fps=$(sed -n 's/.*strip_files_per_s=\([0-9.]*\).*/\1/p' "$work/ours.txt")

# the same job as a user runs it: `tipline strip IN OUT`, one process per file, files
# read and written
cli=$build/cli/tipline
ct=
if [ -x "$cli" ]; then
  mkdir -p "$work/cli"
  t0=$(now)
  for f in "${files[@]}"; do "$cli" strip "$f" "$work/cli/$(basename "$f")"; done
  t1=$(now)
  ct=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
fi

mkdir -p "$work/et" "$work/mat2"
cp "${files[@]}" "$work/et/"
t0=$(now)
exiftool -q -q -all= -overwrite_original "$work"/et/* >/dev/null 2>&1 || true
t1=$(now)
et=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')

cp "${files[@]}" "$work/mat2/"
t0=$(now)
mat2 --inplace "$work"/mat2/* >/dev/null 2>&1 || true
t1=$(now)
mt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')

echo "same $n files, one pass:"
awk -v m="$ours_mbps" -v f="$ours_fps" \
  'BEGIN { printf "%-22s %8s    %9.2f MB/s  %9.1f files/s\n", "tipline media_strip", "", m, f }'
[ -n "$ct" ] && rate "tipline strip IN OUT" "$ct"
rate "exiftool -all=" "$et"
rate "mat2 --inplace" "$mt"
awk -v m="$ours_mbps" -v b="$bytes" -v et="$et" -v mt="$mt" 'BEGIN {
  printf "speed-up of the library: %.0fx exiftool, %.0fx mat2\n", m / (b / et / 1e6), m / (b / mt / 1e6) }'
if [ -n "$ct" ]; then
  awk -v ct="$ct" -v et="$et" -v mt="$mt" 'BEGIN {
    printf "speed-up of the command (process per file): %.1fx exiftool, %.1fx mat2\n", et / ct, mt / ct }'
fi
