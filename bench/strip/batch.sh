#!/usr/bin/env bash
# bench/strip/batch.sh - videos and batch mode of `tipline strip`, and what a tipline
# process costs to start.
#   bench/strip/batch.sh BUILD_DIR [SHARED_DIR]
# 1. Videos: MP4s made here by ffmpeg (1080p H.264 + AAC, 10 s, about 12 MB each, with
#    exiftool's GPS and device tags) and the shared iPhone MOV, stripped by one
#    `tipline strip -o DIR` process, beside `cp` of the same files (nothing is decoded,
#    so a copy is the floor). Best of 5 runs, page cache warm.
# 2. Photos: the corpus of run.sh ten times over, through one `tipline strip -o DIR`
#    process beside `exiftool -all= -overwrite_original` over copies, one process, and
#    beside `cp -r` of the same files (the floor: the files made, the bytes written).
#    The work directory is under $TMPDIR (default /tmp): TMPDIR=/dev/shm times it all on
#    tmpfs, without the disk's file system.
# 3. Start: `tipline --help` as it is (FFmpeg and libheif opened on first use), with the
#    five media libraries preloaded (what linking them cost every process), /bin/true;
#    mean of 300 runs each, and the dynamic loader's cycles (LD_DEBUG=statistics).
set -euo pipefail
build=${1:?usage: batch.sh BUILD_DIR [SHARED_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
shared=${2:-$here/../../../shared}
tl=$build/cli/tipline
src=$shared/testdata/media
[ -x "$tl" ] || { echo "no $tl: build first" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "needs ffmpeg" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/tipline-bench-batch.XXXXXX")
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
# best N command...: runs it N times; prints "WALL CPU" (seconds), the smallest of each.
# The machine is shared (load 3-12 from other builds and fuzzers): CPU time (user+sys of
# the command) is the figure that does not swing with the neighbours; perf stat's
# task-clock gives it to the microsecond (GNU time's 10 ms steps were a quarter of a
# photo batch), GNU time where perf is missing.
best() {
  local n=$1; shift
  local bw= bc=
  for _ in $(seq "$n"); do
    if command -v perf >/dev/null; then
      local t0 t1 ms
      t0=$(now)
      ms=$(perf stat -x, -e task-clock "$@" 2>&1 >/dev/null | sed -n 's/^\([0-9.]*\),msec,task-clock.*/\1/p' | tail -1)
      t1=$(now)
      awk -v a="$t0" -v z="$t1" -v m="${ms:-0}" 'BEGIN { print z - a, m / 1000, 0 }' >"$work/time"
    else
      /usr/bin/time -o "$work/time" -f '%e %U %S' "$@" >/dev/null 2>&1 || true
    fi
    read -r w u s <"$work/time"
    bw=$(awk -v t="$w" -v b="$bw" 'BEGIN { if (b == "" || t < b) b = t; print b }')
    bc=$(awk -v t="$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" -v b="$bc" \
      'BEGIN { if (b == "" || t < b) b = t; print b }')
  done
  echo "$bw $bc"
}

echo "machine: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1), $(nproc) cores," \
  "load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- 1. videos ----
mkdir -p "$work/v" "$work/vout" "$work/vcp"
for i in 1 2 3 4; do
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=10" \
    -f lavfi -i "sine=frequency=$((300 + 100 * i)):duration=10" -c:v libx264 -preset ultrafast \
    -b:v 9M -pix_fmt yuv420p -c:a aac -metadata location=+50.4501+030.5234/ \
    -metadata creation_time=2026-03-01T08:15:00Z "$work/v/clip$i.mp4"
  exiftool -q -q -m -overwrite_original -Keys:GPSCoordinates='50.45, 30.52' -Keys:Make=Apple \
    -Keys:Model='iPhone 13' "$work/v/clip$i.mp4"
done
[ -f "$src/mov_gps_iPhone_6.mov" ] && cp "$src/mov_gps_iPhone_6.mov" "$work/v/"
vbytes=$(cat "$work"/v/* | wc -c)
vn=$(ls "$work/v" | wc -l)
cat "$work"/v/* >/dev/null
# ten passes over the set in one command each, so the per-process start (and, for tipline,
# opening FFmpeg's libraries once) weighs as it does on a real folder of clips
vlist=()
for _ in $(seq 10); do vlist+=("$work"/v/*); done
read -r cw cc <<<"$(best 5 bash -c 'for f in "$@"; do cp "$f" "'"$work"'/vcp/"; done' _ "${vlist[@]}")"
read -r tw tc <<<"$(best 5 "$tl" strip -o "$work/vout" "${vlist[@]}")"
echo
echo "videos: $vn files, $vbytes bytes, 10 passes per run"
awk -v b="$((vbytes * 10))" -v cw="$cw" -v cc="$cc" -v tw="$tw" -v tc="$tc" 'BEGIN {
  printf "%-34s %7.3f s wall %8.1f MB/s  %7.3f s CPU %8.1f MB/s\n", "cp", cw, b / cw / 1e6, cc, b / cc / 1e6
  printf "%-34s %7.3f s wall %8.1f MB/s  %7.3f s CPU %8.1f MB/s\n", "tipline strip -o DIR (1 process)", tw, b / tw / 1e6, tc, b / tc / 1e6
  printf "figure video_strip_mbps=%.1f video_strip_cpu_mbps=%.1f ratio_vs_cp_wall=%.2f ratio_vs_cp_cpu=%.2f\n", b / tw / 1e6, b / tc / 1e6, tw / cw, tc / cc }'

# ---- 2. photos, batch ----
# shellcheck source=corpus.sh
. "$here/corpus.sh"
corpus_files "$src"
# ten copies of each (260 files, 42 MB): enough work that neither tool's start decides
mkdir -p "$work/corpus" "$work/pout"
for k in $(seq 10); do
  for f in "${files[@]}"; do cp "$f" "$work/corpus/${k}_$(basename "$f")"; done
done
pbytes=$(cat "$work"/corpus/* | wc -c)
pn=$(ls "$work/corpus" | wc -l)
# each run into a new directory (a file replaced is an inode freed, which ext4 without a
# journal then walks past at every allocation for a minute or more)
mkdir -p "$work/pout" "$work/cpr"
read -r bw bc <<<"$(best 5 sh -c 'mkdir "$1/$$" && exec "$2" strip -o "$1/$$" "$3"/*' _ \
  "$work/pout" "$tl" "$work/corpus")"
# the floor: the same files copied (cp -r: one process, a new inode per file, the bytes
# into the page cache) and nothing else
read -r fw fc <<<"$(best 5 sh -c 'exec cp -r "$2" "$1/$$"' _ "$work/cpr" "$work/corpus")"
rm -rf "$work/et"
mkdir -p "$work/et"
ew= ec=
for _ in 1 2 3; do
  cp "$work"/corpus/* "$work/et/"
  read -r w c <<<"$(best 1 exiftool -q -q -all= -overwrite_original "$work"/et/)"
  ew=$(awk -v t="$w" -v b="$ew" 'BEGIN { if (b == "" || t < b) b = t; print b }')
  ec=$(awk -v t="$c" -v b="$ec" 'BEGIN { if (b == "" || t < b) b = t; print b }')
done
echo
echo "photos: $pn files, $pbytes bytes (the corpus of run.sh, ten times), one process each"
awk -v b="$pbytes" -v n="$pn" -v bw="$bw" -v bc="$bc" -v ew="$ew" -v ec="$ec" -v fw="$fw" -v fc="$fc" 'BEGIN {
  printf "%-34s %7.3f s wall %8.1f MB/s  %7.3f s CPU %5.0f files/CPU-s\n", "tipline strip -o DIR", bw, b / bw / 1e6, bc, n / bc
  printf "%-34s %7.3f s wall %8.1f MB/s  %7.3f s CPU %5.0f files/CPU-s\n", "exiftool -all= -overwrite_original", ew, b / ew / 1e6, ec, n / ec
  printf "%-34s %7.3f s wall %8.1f MB/s  %7.3f s CPU %5.0f files/CPU-s\n", "floor: cp -r (the same files)", fw, b / fw / 1e6, fc, n / fc
  printf "figure batch_vs_exiftool_wall=%.1f batch_vs_exiftool_cpu=%.1f batch_vs_cp_cpu=%.2f exiftool_vs_cp_cpu=%.1f\n", ew / bw, ec / (bc > 0.005 ? bc : 0.005), bc / fc, ec / fc }'

# ---- 3. start ----
# sed quits at its first match: `| head -1` could end sed early, and under pipefail the
# SIGPIPE it then got ended the script here (it did, once in two runs)
libdir=$(dirname "$(ldconfig -p | sed -n 's/.*libavformat\.so\.[0-9]* .*=> //p; T; q')")
pre=$(cd "$libdir" && ls libavformat.so.[0-9]* libavcodec.so.[0-9]* libavutil.so.[0-9]* \
  libswscale.so.[0-9]* libheif.so.1 2>/dev/null | grep -v '\.so\.[0-9]*\.' | sed "s|^|$libdir/|" | tr '\n' ' ')
mean() { # N command...: mean wall time in ms
  local n=$1; shift
  local t0 t1
  t0=$(now)
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1; done
  t1=$(now)
  awk -v a="$t0" -v z="$t1" -v n="$n" 'BEGIN { printf "%.2f", (z - a) * 1000 / n }'
}
cycles() { LD_DEBUG=statistics "$@" 2>&1 >/dev/null | sed -n 's/.*total startup time in dynamic loader: *\([0-9]*\).*/\1/p' | head -1; }
libs() { LD_TRACE_LOADED_OBJECTS=1 "$@" 2>/dev/null | wc -l; }
m_true=$(mean 300 /bin/true)
m_now=$(mean 300 "$tl" --help)
m_linked=$(mean 300 env LD_PRELOAD="$pre" "$tl" --help)
m_env=$(mean 300 env /bin/true)
m_linked=$(awk -v a="$m_linked" -v e="$m_env" -v t="$m_true" 'BEGIN { printf "%.2f", a - e + t }')
echo
echo "start (mean of 300):"
printf "%-44s %7s ms  %4s libraries  %9s loader cycles\n" "/bin/true" "$m_true" 1 -
printf "%-44s %7s ms  %4s libraries  %9s loader cycles\n" "tipline --help (media libraries on first use)" \
  "$m_now" "$(libs "$tl")" "$(cycles "$tl" --help)"
printf "%-44s %7s ms  %4s libraries  %9s loader cycles\n" "tipline --help, media libraries linked" \
  "$m_linked" \
  "$(LD_PRELOAD="$pre" LD_TRACE_LOADED_OBJECTS=1 "$tl" 2>/dev/null | wc -l)" \
  "$(LD_PRELOAD="$pre" LD_DEBUG=statistics "$tl" --help 2>&1 >/dev/null | sed -n 's/.*total startup time in dynamic loader: *\([0-9]*\).*/\1/p' | head -1)"
echo "(the preloaded line is corrected for env's own start: $m_env ms)"
echo "figure start_ms=$m_now start_linked_ms=$m_linked true_ms=$m_true"
