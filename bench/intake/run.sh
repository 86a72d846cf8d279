#!/usr/bin/env bash
# bench/intake/run.sh BUILD_DIR [N_UPDATES] [N_CHATS] [WORKERS] [--no-sender] [--delay MS] [--rate R]
# A throwaway PostgreSQL (tests/pgtmp.sh: fsync off, as in the test cluster), a fresh
# migrated database, then bench_intake. Prints the machine and the figures.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$here/build}" && pwd); shift || true
state=$build/bench-intake.conninfo
"$here/tests/pgtmp.sh" start "$state" "$build/cli/tipline" >/dev/null
trap '"$here/tests/pgtmp.sh" stop "$state" >/dev/null' EXIT
admin=$(cat "$state")
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(free -g | awk '/Mem:/{print $2}') GiB"
"$build/bench/intake/bench_intake" "${admin%dbname=*}dbname=tipline_template" "$@"
