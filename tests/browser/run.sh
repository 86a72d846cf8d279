#!/usr/bin/env bash
# tests/browser/run.sh - runs the console's browser test (console.test.mjs) after checking
# what it needs, so that a missing piece fails the test with a clear message instead of
# letting it pass unseen. deploy/setup.sh installs all of them (apt: chromium, nodejs;
# npm ci: playwright-core and the console's vendor packages).
set -euo pipefail
src=${TL_SOURCE_DIR:?TL_SOURCE_DIR unset: run under ctest}
chromium=${TL_CHROMIUM:-/usr/bin/chromium}
missing=()
command -v node >/dev/null 2>&1 || missing+=("node (apt-get install nodejs)")
[ -x "$chromium" ] || missing+=("$chromium (apt-get install chromium)")
for m in playwright-core leaflet leaflet.markercluster world-atlas topojson-client; do
  [ -f "$src/node_modules/$m/package.json" ] || missing+=("node_modules/$m (npm ci in $src)")
done
[ -x "${TL_TIPLINE_BIN:-}" ] || missing+=("the tipline binary (TL_TIPLINE_BIN)")
[ -x "${TL_BROWSER_SEED:-}" ] || missing+=("tl_browser_seed (TL_BROWSER_SEED)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "browser test: FAILED before starting: missing ${missing[*]}" >&2
  echo "browser test: run deploy/setup.sh deps (as root) to install them" >&2
  exit 1
fi
export TL_CHROMIUM="$chromium"
# a video for the photo report (VP9 in MP4: Chromium plays it whatever its H.264 build)
if command -v ffmpeg >/dev/null 2>&1; then
  vdir=$(mktemp -d /tmp/tl-browser-video.XXXXXX)
  trap 'rm -rf "$vdir"' EXIT
  ffmpeg -v error -y -f lavfi -i testsrc=size=320x240:rate=10:duration=2 -c:v libvpx-vp9 \
    -b:v 200k -pix_fmt yuv420p -metadata location=+50.4501+030.5234/ -f mp4 "$vdir/v.mp4"
  export TL_BROWSER_VIDEO="$vdir/v.mp4"
  node "$(dirname "$0")/console.test.mjs"
  exit $?
fi
exec node "$(dirname "$0")/console.test.mjs"
