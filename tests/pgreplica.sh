#!/usr/bin/env bash
# tests/pgreplica.sh - a streaming replica of the throwaway cluster (tests/pgtmp.sh), made
# by pg_basebackup as an operator makes one (-R: standby.signal and primary_conninfo).
#   pgreplica.sh start PGSTATE REPSTATE   base backup of PGSTATE's cluster, start it as a hot
#                                         standby; REPSTATE gets its socket directory
#   pgreplica.sh stop REPSTATE            stop it and remove everything
#   pgreplica.sh pause|resume REPSTATE    stop / start the server, keeping the data
set -euo pipefail
cmd=${1:?start|stop}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
port=5432

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
opts() { echo "-p $port -k $1 -c listen_addresses='' -c fsync=off -c hot_standby=on -c max_connections=300"; }

case "$cmd" in
start)
  pgstate=${2:?pgtmp state}; state=${3:?replica state}
  primary=$(cat "$pgstate.dir")
  dir=$(mktemp -d /tmp/tipline-rep.XXXXXX)
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  echo "$dir" > "$state"
  as_pg "$PGBIN/pg_basebackup" -h "$primary" -p $port -U postgres -D "$dir/data" -R \
    -X stream -c fast --no-sync >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log"; exit 1; }
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/server.log" -o "$(opts "$dir")" \
    start >/dev/null || { cat "$dir/server.log"; exit 1; }
  ;;
pause)
  dir=$(cat "${2:?replica state}")
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
resume)
  dir=$(cat "${2:?replica state}")
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/server.log" -o "$(opts "$dir")" \
    start >/dev/null
  ;;
stop)
  state=${2:?replica state}
  [ -f "$state" ] || exit 0
  dir=$(cat "$state")
  if [ -d "$dir/data" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir" "$state"
  ;;
*) echo "usage: $0 start|stop|pause|resume ..." >&2; exit 2 ;;
esac
