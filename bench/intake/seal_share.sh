#!/usr/bin/env bash
# bench/intake/seal_share.sh BUILD_DIR [N_UPDATES] [N_CHATS] [WORKERS] [bench_intake flags]
# What sealing costs intake, measured inside one run: bench_intake (as run.sh, fake Bot
# API in a child process) under `perf record -a -e cpu-clock`, then the samples of the
# tipline process (poller, workers) and of its PostgreSQL backends (the postmaster's
# children seen during the run) are summed, and the ones in the sealing and hashing code
# (libcrypto, idkeys_*, seal_* but the text mask, hash_id) given as a share of them.
# Prints the bench's own lines, then the counts. Needs perf (kernel.perf_event_paranoid
# <= 0 or root).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$here/build}" && pwd); shift || true
state=$build/bench-seal.conninfo
out=$(mktemp -d /tmp/tipline-seal.XXXXXX)
"$here/tests/pgtmp.sh" start "$state" "$build/cli/tipline" >"$out/pgtmp.log" 2>&1 ||
  { cat "$out/pgtmp.log"; exit 1; }
trap '"$here/tests/pgtmp.sh" stop "$state" >/dev/null; rm -rf "$out"' EXIT
admin=$(cat "$state")
pm=$(head -1 "$(cat "$state.dir")/data/postmaster.pid")
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
perf record -q -a -e cpu-clock -F 999 -o "$out/perf.data" -- \
  "$build/bench/intake/bench_intake" "${admin%dbname=*}dbname=tipline_template" "$@" &
rec=$!
# the backends live as long as their connections: polling the postmaster's children
# while the bench runs finds them all
while kill -0 "$rec" 2>/dev/null; do
  pgrep -P "$pm" >>"$out/pids" || true
  pgrep -x bench_intake -P "$rec" >>"$out/pids" || true
  sleep 0.1
done
wait "$rec" || true
pids=$(sort -un "$out/pids" | paste -sd,)
perf report -q -i "$out/perf.data" --pid "$pids" --sort comm,dso,sym --stdio -F overhead,sample,comm,dso,sym \
  2>/dev/null >"$out/report"
awk '
  # fields: overhead, samples, comm (postgres, or a tipline thread), dso, [.], symbol
  { n = $2; total += n; who = $3 == "postgres" ? "postgres" : "tipline"; cpu[who] += n }
  $4 ~ /libcrypto/ { seal += n; by[who " libcrypto"] += n; next }
  $NF ~ /^(idkeys_[a-z_]+|seal_inbox_row|seal_chat|seal_open_update|seal_params_for_send|hash_id)$/ \
    { seal += n; by[who " " $NF] += n }
  END {
    for (k in by) printf "  %-40s %6d\n", k, by[k]
    printf "samples: %d (tipline %d, its PostgreSQL backends %d)\n", total, cpu["tipline"], cpu["postgres"]
    printf "sealing and hashing: %d = %.2f %%\n", seal, 100 * seal / total
  }
' "$out/report"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
