#!/usr/bin/env bash
# tests/pgtmp.sh - a throwaway PostgreSQL cluster for the db tests.
#   pgtmp.sh start STATEFILE TIPLINE_BIN   initdb + start on a Unix socket in a temp dir,
#                                         migrate a template database, write the conninfo
#   pgtmp.sh stop STATEFILE                stop it and remove everything
#   pgtmp.sh pause|resume STATEFILE        stop / start the server, keeping the data (outages)
# The state file holds one line: the admin conninfo (dbname=postgres). Tests make
# their own databases from the template "tipline_template" (already migrated).
set -euo pipefail
cmd=${1:?start|stop}; state=${2:?state file}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
port=5432

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
start)
  bin=${3:?tipline binary}
  if [ -f "$state.dir" ]; then "$0" stop "$state" || true; fi
  dir=$(mktemp -d /tmp/tipline-pg.XXXXXX)
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  echo "$dir" > "$state.dir"
  as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log"; exit 1; }
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/server.log" \
    -o "-p $port -k $dir -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=256MB" \
    start >/dev/null || { cat "$dir/server.log"; exit 1; }
  admin="host=$dir port=$port user=postgres dbname=postgres"
  psql -X -q "$admin" -c "CREATE DATABASE tipline_template"
  TIPLINE_DATABASE_URL="host=$dir port=$port user=postgres dbname=tipline_template" "$bin" migrate
  echo "$admin" > "$state"
  echo "pgtmp: cluster up at $dir"
  ;;
pause)   # stop the server (fast: a clean stop; with synchronous_commit=off an immediate
         # one would drop the last commits, which is this test cluster's setting, not ours)
  dir=$(cat "$state.dir")
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
resume)
  dir=$(cat "$state.dir")
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/server.log" \
    -o "-p $port -k $dir -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null
  ;;
stop)
  [ -f "$state.dir" ] || exit 0
  dir=$(cat "$state.dir")
  if [ -d "$dir/data" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir" "$state" "$state.dir"
  echo "pgtmp: cluster stopped"
  ;;
*) echo "usage: $0 start|stop|pause|resume STATEFILE [TIPLINE_BIN]" >&2; exit 2 ;;
esac
