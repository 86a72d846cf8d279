#!/usr/bin/env bash
# bench/intake/run.sh BUILD_DIR [N_UPDATES] [N_CHATS] [WORKERS] [--no-sender] [--delay MS] [--rate R]
# A throwaway PostgreSQL (tests/pgtmp.sh: fsync off, as in the test cluster), a fresh
# migrated database, then bench_intake. Prints the machine, the figures and PostgreSQL's
# CPU time over the run.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$here/build}" && pwd); shift || true
state=$build/bench-intake.conninfo
"$here/tests/pgtmp.sh" start "$state" "$build/cli/tipline" >/dev/null
trap '"$here/tests/pgtmp.sh" stop "$state" >/dev/null' EXIT
admin=$(cat "$state")
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(free -g | awk '/Mem:/{print $2}') GiB; load $(cut -d' ' -f1-3 /proc/loadavg)"
# PostgreSQL's CPU over the run: the postmaster's children, reaped and alive (clock ticks)
pm=$(head -1 "$(cat "$state.dir")/data/postmaster.pid")
pg_ticks() {
  local t c
  t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
  for c in $(pgrep -P "$pm"); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
t0=$(pg_ticks)
"$build/bench/intake/bench_intake" "${admin%dbname=*}dbname=tipline_template" "$@"
sleep 0.3 # the daemon's backends exit and are reaped
echo "  server CPU:  $(awk -v t=$(( $(pg_ticks) - t0 )) -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", t / hz}') s (PostgreSQL, all processes)"
