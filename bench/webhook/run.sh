#!/usr/bin/env bash
# bench/webhook/run.sh BUILD_DIR [SECONDS] [CONNECTIONS]
# Webhook intake: updates/s stored durably. A throwaway PostgreSQL (tests/pgtmp.sh) with
# fsync and synchronous_commit ON (the tests turn them off; a figure of durable storage
# must not), `tipline bot` in webhook mode (2 workers, replies to a Bot API address that
# refuses: the sender retries in the background), and wrk (Debian) from loopback posting
# unique updates with the secret for SECONDS (default 20) over CONNECTIONS (default 32):
# first against one instance, then against two (one wrk each, half the connections
# each). Beside the rate: the database's commits/s over the same seconds.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
secs=${2:-20}
conns=${3:-32}
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)"; exit 1; }
state=$build/bench-webhook.conninfo
export PGTMP_OPTS="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
"$here/tests/pgtmp.sh" start "$state" "$build/cli/tipline" >/dev/null 2>&1
tmp=$(mktemp -d /tmp/tipline-bench-webhook.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$here/tests/pgtmp.sh" stop "$state" >/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
admin=$(cat "$state")
db="${admin%dbname=*}dbname=tipline_template"
secret=bench_webhook_secret_0123456789
echo "$secret" > "$tmp/wsecret"
head -c 32 /dev/urandom > "$tmp/key"
TIPLINE_IDENTITY_KEY_FILE="$tmp/idkeys" "$build/cli/tipline" keygen "$tmp/key"
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'); load $(cut -d' ' -f1-3 /proc/loadavg)"

start_bot() { # PORT
  TIPLINE_DATABASE_URL="$db" TELEGRAM_API_BASE=http://127.0.0.1:9 \
  TELEGRAM_BOT_TOKEN=1:bench TIPLINE_SECRET_FILE="$tmp/key" TIPLINE_IDENTITY_KEY_FILE="$tmp/idkeys" \
  TIPLINE_WEBHOOK_LISTEN="127.0.0.1:$1" TIPLINE_WEBHOOK_SECRET_FILE="$tmp/wsecret" \
  TIPLINE_WORKERS=2 TIPLINE_LOG_LEVEL=error "$build/cli/tipline" bot &
  pids+=($!)
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return; sleep 0.1; done
  echo "the bot on port $1 did not start"; exit 1
}
q() { psql -X -qAt "$db" -c "$1"; }
commits() { q "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"; }

run() { # LABEL PORT...
  local label=$1; shift
  local n=$# before after c0 c1 t0 t1
  before=$(q "SELECT count(*) FROM inbox")
  c0=$(commits); t0=$(date +%s.%N)
  local i=0 wpids=()
  for port in "$@"; do
    BASE=$(( (i + 1) * 1000000000 + $(q "SELECT coalesce(max(update_id), 0) FROM inbox") )) \
    SECRET=$secret wrk -t 2 -c $((conns / n)) -d "${secs}s" -s "$here/bench/webhook/updates.lua" \
      "http://127.0.0.1:$port" > "$tmp/wrk.$port" &
    wpids+=($!)
    i=$((i + 1))
  done
  wait "${wpids[@]}"
  t1=$(date +%s.%N); c1=$(commits)
  after=$(q "SELECT count(*) FROM inbox")
  local stored=$((after - before))
  local secs_real; secs_real=$(echo "$t1 - $t0" | bc)
  printf '%s: %d updates stored in %.1f s = %.0f updates/s; database commits %.0f/s\n' \
    "$label" "$stored" "$secs_real" "$(echo "$stored / $secs_real" | bc -l)" \
    "$(echo "($c1 - $c0) / $secs_real" | bc -l)"
  for port in "$@"; do
    grep -E "Requests/sec|Latency|non-2xx" "$tmp/wrk.$port" | sed "s/^/  [$port] /"
  done
}

start_bot 18441
run "one instance" 18441
start_bot 18442
run "two instances" 18441 18442
