#!/usr/bin/env bash
# bench/triage/callgrind.sh BUILD_DIR [N_REPORTS (1000000)] [PAIRS (300)]  (env CG_NEXT=1)
# The database's side of an analyst's claim -> decide pair, in instructions. valgrind's
# callgrind counts instructions, so the figure is the same on a busy machine as on an
# idle one: it shows a change of a few per cent that the wall-clock bench (run.sh), on a
# shared machine whose speed drifts by a quarter within a day, cannot.
#
# A throwaway cluster (tests/pgtmp.sh), N queued reports seeded by bench_triage (which
# also runs its own short bench), two copies of that database registered as read by a
# web server (so the live events are written, as in production), the cluster stopped;
# then a single-user PostgreSQL backend under callgrind runs PAIRS pairs of the calls the
# API makes (web_claim, then web_decide answering with what the decision changed, as the
# console asks; with CG_NEXT=1 one web_decide_next per pair after the first claim: decide,
# then next) on one copy and nothing on the other, after the same warm-up on both (CG_WARM
# pairs, 40). Prints the difference per pair. A single-user
# backend parses and plans each top-level statement, which the server prepares once:
# that is about 0.3 M instructions of the figure, the same for every variant.
# CG_VARIANT=FILE also counts a variant: FILE's SQL applied to a second pair of copies
# (a change tried before it becomes a migration), printed after the figure.
# CG_KEEP=DIR keeps callgrind's output files there (callgrind_annotate DIR/out.cg.PAIRS
# shows which functions the instructions go to).
# Needs valgrind (Debian's package); not run by the tests.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
n=${2:-1000000}
pairs=${3:-300}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 2; }
work=$(mktemp -d /tmp/tipline-callgrind.XXXXXX)
chmod 777 "$work"
state=$work/conninfo
export PGTMP_OPTS=${PGTMP_OPTS:--c shared_buffers=2GB}
"$here/tests/pgtmp.sh" start "$state" "$build/cli/tipline" >/dev/null 2>&1
trap '"$here/tests/pgtmp.sh" stop "$state" >/dev/null; rm -rf "$work"' EXIT
admin=$(cat "$state")
base=${admin%dbname=*}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

model=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p')
echo "machine: $(nproc) cores, $model; PostgreSQL $("$PGBIN/postgres" -V | awk '{print $3}')"
"$build/bench/triage/bench_triage" "${base}dbname=tipline_template" "$n" 1 8 >"$work/seed.log"
variants=cg
[ -n "${CG_VARIANT:-}" ] && variants="cg cgv"
for v in $variants; do
  for k in "$pairs" 0; do
    psql -X -q "$admin" -c "CREATE DATABASE ${v}_$k TEMPLATE tipline_template STRATEGY = FILE_COPY"
    psql -X -q "${base}dbname=${v}_$k" -c "INSERT INTO web_listeners (pid) VALUES (-1)"
    [ "$v" = cgv ] && psql -X -q -v ON_ERROR_STOP=1 "${base}dbname=${v}_$k" -f "$CG_VARIANT"
  done
done
psql -X -q "$admin" -c CHECKPOINT
"$here/tests/pgtmp.sh" pause "$state"

# The bench's analysts bench00..07 (bench_triage made them), decisions in turn.
# Both copies first run the same warm-up (with CG_NEXT, each analyst's first claim, then
# CG_WARM pairs, 40): the first calls of a session compile the functions, fill the
# caches and plan each statement (up to five times, until the plan is kept), and counted
# on one copy only they would be charged to the pairs, more for a variant with more
# statements. The difference is then PAIRS pairs of a warm session, as a server's.
python3 - "$pairs" "${CG_NEXT:-0}" "${CG_WARM:-40}" "$work" <<'EOF'
import sys
dec = ['confirmed', 'rejected', 'confirmed', 'needs_info', 'escalated', 'confirmed']
pairs, nxt, warm, work = int(sys.argv[1]), sys.argv[2] == '1', int(sys.argv[3]), sys.argv[4]
def pair(i):
    a = 'bench%02d' % (i % 8)
    if not nxt:
        return ("SELECT set_config('b.id', report_id::text, false), length(doc)"
                " FROM web_claim('%s', 300, NULL, NULL)\n" % a
                + "SELECT report_id, length(doc) FROM web_decide("
                "current_setting('b.id')::bigint, NULL, '%s', '%s', 'bench', NULL, false, NULL,"
                " 'decision')\n" % (a, dec[i % len(dec)]))
    return ("SELECT set_config('b.%s', next_id::text, false), length(doc), length(next_doc)"
            " FROM web_decide_next(current_setting('b.%s')::bigint, NULL, '%s', '%s', 'bench',"
            " NULL, false, NULL, 300, NULL)\n" % (a, a, a, dec[i % len(dec)]))
first = ''.join("SELECT set_config('b.bench0%d', report_id::text, false)"
                " FROM web_claim('bench0%d', 300, NULL, NULL)\n" % (i, i)
                for i in range(8)) if nxt else ''
w = first + ''.join(pair(i) for i in range(warm))
open(work + '/pairs0.sql', 'w').write(w + 'SELECT 1\n')
open(work + '/pairs.sql', 'w').write(w + ''.join(pair(warm + i) for i in range(pairs)))
EOF
dir=$(cat "$state.dir")
# count V: instructions per pair on the copies named V_PAIRS and V_0
count() {
  local v=$1 k sql
  for k in "$pairs" 0; do
    sql=$work/pairs.sql
    [ "$k" = 0 ] && sql=$work/pairs0.sql
    as_pg valgrind --tool=callgrind --callgrind-out-file="$work/out.$v.$k" \
      "$PGBIN/postgres" --single -D "$dir/data" -c shared_buffers=2GB "${v}_$k" \
      <"$sql" >"$work/log.$v.$k" 2>&1
    if grep -q ERROR "$work/log.$v.$k"; then
      grep -m3 ERROR "$work/log.$v.$k" >&2
      exit 1
    fi
  done
  [ -n "${CG_KEEP:-}" ] && mkdir -p "$CG_KEEP" && cp "$work/out.$v."* "$CG_KEEP/"
  local a b
  a=$(awk '/^summary:/{print $2}' "$work/out.$v.$pairs")
  b=$(awk '/^summary:/{print $2}' "$work/out.$v.0")
  echo $(((a - b) / pairs))
}
per=$(count cg)
echo "claim+decide${CG_NEXT:+ (CG_NEXT=$CG_NEXT)} on $n queued reports: $per instructions per pair (database side, $pairs pairs)"
echo "figure instructions_per_pair=$per"
if [ -n "${CG_VARIANT:-}" ]; then
  echo "variant $CG_VARIANT: $(count cgv) instructions per pair"
fi
