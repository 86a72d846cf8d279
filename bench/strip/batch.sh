#!/usr/bin/env bash
# bench/strip/batch.sh - videos and batch mode of `tipline strip`, and what a tipline
# process costs to start.
#   bench/strip/batch.sh BUILD_DIR [SHARED_DIR]
# 1. Videos: MP4s made here by ffmpeg (1080p H.264 + AAC, 10 s, about 12 MB each, with
#    exiftool's GPS and device tags) and the shared iPhone MOV, stripped by one
#    `tipline strip -o DIR` process, beside `cp` of the same files (nothing is decoded,
#    so a copy is the floor). Best of 5 runs, page cache warm.
# 2. Photos: the corpus of run.sh through one `tipline strip -o DIR` process beside
#    `exiftool -all= -overwrite_original` over copies, one process (best of 3 each).
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
work=$(mktemp -d /tmp/tipline-bench-batch.XXXXXX)
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
best() { # runs command N times, prints the smallest wall time in seconds
  local n=$1; shift
  local b=
  for _ in $(seq "$n"); do
    local t0 t1
    t0=$(now)
    "$@" >/dev/null 2>&1
    t1=$(now)
    b=$(awk -v a="$t0" -v z="$t1" -v b="$b" 'BEGIN { t = z - a; if (b == "" || t < b) b = t; print b }')
  done
  echo "$b"
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
t_cp=$(best 5 cp "$work"/v/* "$work/vcp/")
t_tl=$(best 5 "$tl" strip -o "$work/vout" "$work"/v/*)
echo
echo "videos: $vn files, $vbytes bytes"
awk -v b="$vbytes" -v c="$t_cp" -v t="$t_tl" 'BEGIN {
  printf "%-34s %8.4f s %9.1f MB/s\n", "cp", c, b / c / 1e6
  printf "%-34s %8.4f s %9.1f MB/s\n", "tipline strip -o DIR (1 process)", t, b / t / 1e6
  printf "figure video_strip_mbps=%.1f cp_mbps=%.1f ratio_vs_cp=%.2f\n", b / t / 1e6, b / c / 1e6, t / c }'

# ---- 2. photos, batch ----
files=()
for f in "$src"/*.jpg "$src"/*.png "$src"/*.webp "$src"/*.mpo; do
  b=$(basename "$f")
  case $b in malformed_*|libexif_*) continue ;; esac
  files+=("$f")
done
pbytes=$(cat "${files[@]}" | wc -c)
pn=${#files[@]}
mkdir -p "$work/pout"
t_batch=$(best 3 "$tl" strip -o "$work/pout" "${files[@]}")
et_run() { rm -rf "$work/et"; mkdir -p "$work/et"; cp "${files[@]}" "$work/et/";
  local t0 t1; t0=$(now); exiftool -q -q -all= -overwrite_original "$work"/et/* >/dev/null 2>&1 || true
  t1=$(now); awk -v a="$t0" -v z="$t1" 'BEGIN { print z - a }'; }
t_et=
for _ in 1 2 3; do
  t=$(et_run)
  t_et=$(awk -v t="$t" -v b="$t_et" 'BEGIN { if (b == "" || t < b) b = t; print b }')
done
echo
echo "photos: $pn files, $pbytes bytes (the corpus of run.sh)"
awk -v b="$pbytes" -v n="$pn" -v t="$t_batch" -v e="$t_et" 'BEGIN {
  printf "%-34s %8.4f s %9.1f MB/s %8.0f files/s\n", "tipline strip -o DIR (1 process)", t, b / t / 1e6, n / t
  printf "%-34s %8.4f s %9.1f MB/s %8.0f files/s\n", "exiftool -all= (1 process)", e, b / e / 1e6, n / e
  printf "figure batch_photo_mbps=%.1f exiftool_mbps=%.1f batch_vs_exiftool=%.0f\n", b / t / 1e6, b / e / 1e6, e / t }'

# ---- 3. start ----
libdir=$(dirname "$(ldconfig -p | sed -n 's/.*libavformat\.so\.[0-9]* .*=> //p' | head -1)")
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
