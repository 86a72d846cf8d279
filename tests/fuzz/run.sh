#!/usr/bin/env bash
# tests/fuzz/run.sh - a short libFuzzer run: FUZZER SECONDS KEPT_CORPUS SEEDS...
# KEPT_CORPUS (tests/fuzz/corpus/<name>, in git) holds regression inputs: every crash
# ever found is copied there and replayed first. Seeds that are absent (no ../shared)
# are skipped. New corpus growth goes to a temp dir, not into the repo.
set -uo pipefail
fuzzer=$1; secs=$2; kept=$3; shift 3
work=$(mktemp -d /tmp/tipline-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
inputs=()
[ -d "$kept" ] && inputs+=("$kept")
for s in "$@"; do
  if [ -d "$s" ]; then inputs+=("$s")
  elif [ -f "$s" ]; then mkdir -p "$work/seeds"; cp "$s" "$work/seeds/"; 
  else echo "fuzz: seed $s absent, skipped"; fi
done
[ -d "$work/seeds" ] && inputs+=("$work/seeds")
# Replay the kept regressions and seeds once, then explore for SECS seconds.
"$fuzzer" -runs=0 -rss_limit_mb=2048 "${inputs[@]}" >"$work/replay.log" 2>&1 || { tail -40 "$work/replay.log"; exit 1; }
"$fuzzer" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=1048576 -timeout=10 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" "${inputs[@]}" >"$work/fuzz.log" 2>&1
rc=$?
tail -3 "$work/fuzz.log"
if [ $rc -ne 0 ]; then
  mkdir -p "$kept"
  # "v-" in front: .gitignore hides libFuzzer's stray crash-*/leak-*/timeout-* files, and a
  # kept case must be committable as it is
  for f in "$work"/artifacts/*; do
    [ -f "$f" ] && cp "$f" "$kept/v-$(basename "$f")" &&
      echo "fuzz: kept v-$(basename "$f") in $kept (commit it)"
  done
  tail -60 "$work/fuzz.log"
  exit 1
fi
echo "fuzz: $(basename "$fuzzer") ok for ${secs}s"
