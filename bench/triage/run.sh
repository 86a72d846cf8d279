#!/usr/bin/env bash
# bench/triage/run.sh BUILD_DIR [N_REPORTS] [SECONDS] [CLAIMERS]
# A throwaway PostgreSQL (tests/pgtmp.sh: fsync and synchronous_commit off, as for the
# tests; PGTMP_OPTS adds server options, by default shared_buffers = 2GB: the tests'
# 256MB holds a third of the 1,000,000-report database, a server on this 23 GiB machine
# would be given more), a fresh migrated database, then bench_triage:
# seed N queued reports (default 1,000,000), C claimers (default 8) doing claim -> decide
# for SECONDS (default 20), the filtered list, the priority refresh, located inserts.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$here/build}" && pwd); shift || true
state=$build/bench-triage.conninfo
export PGTMP_OPTS=${PGTMP_OPTS:--c shared_buffers=2GB}
"$here/tests/pgtmp.sh" start "$state" "$build/cli/tipline" >/dev/null 2>&1
trap '"$here/tests/pgtmp.sh" stop "$state" >/dev/null' EXIT
admin=$(cat "$state")
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(free -g | awk '/Mem:/{print $2}') GiB; load $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/bench/triage/bench_triage" "${admin%dbname=*}dbname=tipline_template" "$@"
