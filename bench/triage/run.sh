#!/usr/bin/env bash
# bench/triage/run.sh BUILD_DIR [N_REPORTS] [SECONDS] [CLAIMERS] [bench_triage options]
# A throwaway PostgreSQL (tests/pgtmp.sh: fsync and synchronous_commit off, as for the
# tests; PGTMP_OPTS adds server options, by default shared_buffers = 2GB: the tests'
# 256MB holds a third of the 1,000,000-report database, a server on this 23 GiB machine
# would be given more), a fresh migrated database, then bench_triage:
# seed N queued reports (default 1,000,000), C claimers (default 8) doing claim -> decide
# for SECONDS (default 20), the filtered list, the priority refresh, located inserts.
# After the claimers' line it prints "own cpu": the CPU time of this cluster's processes
# (the postmaster, its children and the children it reaped) and of bench_triage while
# the claimers ran, a pair. Unlike bench_triage's own "cpu" line (the whole machine's
# busy time), it leaves out what other programs on a shared machine spend.
# VARIANT=FILE applies FILE's SQL to the database before the bench (a change tried before
# it becomes a migration, or a knockout of knockout/: what a pair costs without a part).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$here/build}" && pwd); shift || true
state=$build/bench-triage.conninfo
export PGTMP_OPTS=${PGTMP_OPTS:--c shared_buffers=2GB}
"$here/tests/pgtmp.sh" start "$state" "$build/cli/tipline" >/dev/null 2>&1
trap '"$here/tests/pgtmp.sh" stop "$state" >/dev/null' EXIT
admin=$(cat "$state")
[ -n "${VARIANT:-}" ] && psql -X -q -v ON_ERROR_STOP=1 "${admin%dbname=*}dbname=tipline_template" -f "$VARIANT"
pm=$(head -1 "$(cat "$state.dir")/data/postmaster.pid")
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(free -g | awk '/Mem:/{print $2}') GiB; load $(cut -d' ' -f1-3 /proc/loadavg)"

# CPU ticks (user + system) of process $1 with the children it has reaped, plus, with
# $2 set, of its live children.
ticks() {
  local t
  t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat")
  if [ -n "${2:-}" ]; then
    for f in /proc/[0-9]*/stat; do
      # shellcheck disable=SC2162
      read -a a 2>/dev/null <"$f" || continue
      [ "${a[3]}" = "$1" ] && t=$((t + a[13] + a[14]))
    done
  fi
  echo "$t"
}
hz=$(getconf CLK_TCK)
bt_pid=
while IFS= read -r line; do
  printf '%s\n' "$line"
  case "$line" in
  "priority refresh: "*)  # the claimers start next
    bt_pid=$(pgrep -n -f "bench_triage ${admin%dbname=*}") || bt_pid=
    [ -n "$bt_pid" ] && { c0=$(ticks "$pm" all); b0=$(ticks "$bt_pid"); } ;;
  "claim+decide"*)
    if [ -n "$bt_pid" ]; then
      c1=$(ticks "$pm" all); b1=$(ticks "$bt_pid")
      pairs=$(printf '%s\n' "$line" | sed -n 's/.*s: \([0-9]*\) pairs.*/\1/p')
      [ -n "$pairs" ] && [ "$pairs" -gt 0 ] && awk -v c=$((c1 - c0)) -v b=$((b1 - b0)) \
        -v n="$pairs" -v hz="$hz" 'BEGIN { printf "  own cpu %.3f ms a pair: PostgreSQL %.3f, bench_triage %.3f (this cluster and the bench only)\n", (c + b) * 1000 / hz / n, c * 1000 / hz / n, b * 1000 / hz / n }'
    fi ;;
  esac
done < <(stdbuf -oL "$build/bench/triage/bench_triage" "${admin%dbname=*}dbname=tipline_template" "$@")
