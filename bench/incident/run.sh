#!/usr/bin/env bash
# bench/incident/run.sh BUILD_DIR [TRANSACTIONS] [CLIENTS] - the cost of incident_join per
# stored report, with pgbench on a throwaway PostgreSQL (tests/pgtmp.sh). Each
# transaction stores one report of one of 50 events (points within 300 m of the event,
# events 15-22 km apart, 1,000 reporters) as intake's insert does; the same run, on one
# database, alternates two scripts: the insert alone ("insert") and the insert with
# incident_join in its transaction ("insert+join"), TRANSACTIONS each (default 2,000),
# twice, so the incidents grow through the run. Prints pgbench's average latency of the
# transaction and of the insert statement, per script and round, and the incidents made.
# MIXED=1: before round 2, one member of each incident moves into the restricted queue, so
# round 2's joins take the recount of incidents with a restricted member
# (priority_corroborators); the moves' own time is printed.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [TRANSACTIONS] [CLIENTS]}
n=${2:-2000}
clients=${3:-1}
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$build" && pwd)/cli/tipline
pgbench=$(ls /usr/lib/postgresql/*/bin/pgbench | tail -1)
state=$(mktemp /tmp/tl-bench-incident.XXXXXX)
work=$(mktemp -d /tmp/tl-bench-incident-out.XXXXXX)
cleanup() {
  "$here/../../tests/pgtmp.sh" stop "$state" >/dev/null 2>&1 || true
  rm -rf "$work" "$state"
}
trap cleanup EXIT
"$here/../../tests/pgtmp.sh" start "$state" "$bin" >/dev/null 2>&1
admin=$(cat "$state")
db=${admin/dbname=postgres/dbname=bench_incident}
psql -X -q "$admin" -c "CREATE DATABASE bench_incident TEMPLATE tipline_template"
psql -X -q "$db" -c "INSERT INTO reporters (pseudonym) SELECT 'ps_' || g FROM generate_series(0, 999) g"

for join in 0 1; do
  {
    echo '\set rep random(0, 999)'
    echo '\set ev random(0, 49)'
    echo '\set dx random(-300, 300)'
    echo '\set dy random(-300, 300)'
    echo 'BEGIN;'
    echo "WITH r AS (INSERT INTO reports (public_ref, reporter, category, text, point, point_source,"
    echo "    accuracy_m, priority) VALUES ('P' || nextval('reports_id_seq') || '-' || :client_id,"
    echo "    'ps_' || :rep, 'shelling', 'explosion near the depot, smoke',"
    echo "    ST_MakePoint(30.0 + (:ev % 10) * 0.2 + :dx / 71000.0,"
    echo "                 50.0 + (:ev / 10) * 0.2 + :dy / 111000.0)::geography, 'text', 50, 20)"
    echo "    RETURNING id)"
    if [ "$join" = 1 ]; then echo 'SELECT incident_join(r.id) FROM r;'; else echo 'SELECT r.id FROM r;'; fi
    echo 'COMMIT;'
  } >"$work/join$join.pgb"
done

for round in 1 2; do
  if [ "$round" = 2 ] && [ "${MIXED:-0}" = 1 ]; then
    t0=$(date +%s%N)
    psql -X -q "$db" -c "UPDATE reports SET queue = 'restricted' WHERE id IN
        (SELECT min(id) FROM reports WHERE incident_id IS NOT NULL GROUP BY incident_id)"
    echo "one member of each incident moved into the restricted queue: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  fi
  for join in 0 1; do
    name=$([ "$join" = 1 ] && echo insert+join || echo insert)
    out=$("$pgbench" -n -r -f "$work/join$join.pgb" -c "$clients" -j "$clients" -t "$n" "$db" 2>&1)
    lat=$(sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p' <<<"$out")
    stmt=$(awk '/WITH r AS/ {print $1; exit}' <<<"$out")
    echo "round $round $name: $n transactions x $clients clients: transaction $lat ms, insert statement $stmt ms"
  done
done
psql -X -q -A -t "$db" -c "SELECT 'incidents ' || count(*) || ', reports per incident ' || min(n_reports)
    || '-' || max(n_reports) || ', corroboration ' || min(corroborations) || '-' || max(corroborations)
    FROM incidents"
