#!/usr/bin/env bash
# tests/test_migrate_upgrade.sh - a database an earlier tipline migrated through 0001-0017
# (the files kept in tests/fixtures/migrations-0017/, applied as that tipline applied
# them: each file in a transaction, recorded in schema_migrations without a checksum),
# full of rows (tests/fixtures/upgrade_data.sql), upgraded by today's `tipline migrate`:
#   - every row of every table is still there with the same values (migrations after the
#     baseline may add tables and columns, or drop a column they replace);
#   - the reports read through the API as the fixture wrote them;
#   - pg_dump --schema-only equals that of a fresh database (the template pgtmp.sh built);
#   - a second `tipline migrate` applies nothing.
# Needs the pg fixture (TL_PG_STATE), TL_TIPLINE_BIN, TL_SOURCE_DIR; pg_dump, curl, node.
set -euo pipefail
admin=$(cat "${TL_PG_STATE:?run under the pg fixture}")
bin=${TL_TIPLINE_BIN:?}
src=${TL_SOURCE_DIR:?}
work=$(mktemp -d /tmp/tl-upgrade.XXXXXX)
web_pid=
cleanup() {
  [ -n "$web_pid" ] && kill "$web_pid" 2>/dev/null && wait "$web_pid" 2>/dev/null
  psql -X -q "$admin" -c "DROP DATABASE IF EXISTS t_upgrade WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
db="${admin/dbname=postgres/dbname=t_upgrade}"
fresh="${admin/dbname=postgres/dbname=tipline_template}"

psql -X -q "$admin" -c "DROP DATABASE IF EXISTS t_upgrade WITH (FORCE)" -c "CREATE DATABASE t_upgrade"

# 1. The old migrations, as the old migrator ran them.
psql -X -q -v ON_ERROR_STOP=1 "$db" -c "CREATE TABLE schema_migrations (version integer PRIMARY KEY,
  name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
n=0
for f in "$src"/tests/fixtures/migrations-0017/*.sql; do
  base=$(basename "$f" .sql); v=$((10#${base%%_*})); name=${base#*_}
  { cat "$f"; printf '\n;INSERT INTO schema_migrations (version, name) VALUES (%d, %s);\n' \
      "$v" "'$name'"; } | psql -X -q -v ON_ERROR_STOP=1 --single-transaction "$db" >/dev/null
  n=$((n + 1))
done
[ "$n" = 17 ] || fail "expected 17 old migrations, found $n"
psql -X -q -v ON_ERROR_STOP=1 "$db" -f "$src/tests/fixtures/upgrade_data.sql" >/dev/null

# Every row of every table, one line a table: NAME<TAB>[row as JSON, ...].
dump_rows() {
  psql -X -q -At -v ON_ERROR_STOP=1 "$1" <<'SQL'
SELECT format('SELECT %L || E''\t'' || COALESCE(jsonb_agg(to_jsonb(x))::text, ''[]'') FROM %I x',
              tablename, tablename)
FROM pg_tables WHERE schemaname = 'public'
  AND tablename NOT IN ('schema_migrations', 'schema_files', 'spatial_ref_sys')
ORDER BY tablename
\gexec
SQL
}
dump_schema() {
  pg_dump --schema-only "$1" | grep -v '^\\\(un\)\?restrict \|^-- Dumped \|^-- Completed'
}
dump_rows "$db" > "$work/before.rows"

# 2. Today's migrate: adopts the baseline, applies the schema files.
TIPLINE_DATABASE_URL="$db" "$bin" migrate > "$work/migrate.out" 2> "$work/migrate.log" ||
  { cat "$work/migrate.log"; fail "tipline migrate failed on the old database"; }
grep -q 'msg="baseline adopted" version=17' "$work/migrate.log" || fail "baseline not adopted"

# Every old row is still there with the same values: migrations newer than the baseline
# may add tables and columns, or drop a column they replace; the values of the columns
# that remain must not change.
dump_rows "$db" > "$work/after.rows"
rows=$(node - "$work/before.rows" "$work/after.rows" <<'JS') || fail "rows changed by the upgrade"
const fs = require('fs');
const load = (f) => new Map(fs.readFileSync(f, 'utf8').split('\n').filter(Boolean)
  .map((l) => { const i = l.indexOf('\t'); return [l.slice(0, i), JSON.parse(l.slice(i + 1))]; }));
const before = load(process.argv[2]), after = load(process.argv[3]);
let bad = 0, n = 0;
for (const [table, rows] of before) {
  const now = after.get(table);
  if (!now) { console.error(`table ${table} is gone`); bad++; continue; }
  // the columns both sides have: what a newer migration added or dropped is left out
  const keys = rows.length && now.length ? Object.keys(rows[0]).filter((k) => k in now[0]) : [];
  const proj = (r) => JSON.stringify(keys.map((k) => [k, r[k]]));
  const a = rows.map(proj).sort(), b = now.map(proj).sort();
  n += a.length;
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
    console.error(`table ${table}: ${a.length} rows before, ${b.length} after, or values differ`);
    for (let i = 0; i < Math.max(a.length, b.length); i++)
      if (a[i] !== b[i]) { console.error(` before: ${a[i]}\n after:  ${b[i]}`); break; }
    bad++;
  }
}
if (n === 0) { console.error('no rows compared'); process.exit(1); }
console.log(n);
process.exit(bad ? 1 : 0);
JS
[ "$(psql -X -At "$db" -c "SELECT count(*) FROM reports")" = 3 ] || fail "reports lost"
# photos stored before the near-duplicate index are in it: the fixture's photo (hash
# 1234567) has its four bands and is found from a hash 3 bits off, as a new photo would
[ "$(psql -X -At "$db" -c "SELECT count(*) FROM media_bands WHERE hash = 1234567")" = 4 ] ||
  fail "the old photo's bands were not backfilled"
[ "$(psql -X -At "$db" -c "SELECT string_agg(n.distance::text, ',') FROM media_near(1234567 # 7, 8) n
  JOIN media m ON m.id = n.id WHERE m.tg_file_unique_id = 'AQADupgrade'")" = 3 ] ||
  fail "the old photo is not found as a near-duplicate"
# the baseline in place of 0001-0017, then what came after it, as in a fresh database
migs="SELECT string_agg(version || ' ' || name, ',' ORDER BY version) FROM schema_migrations"
[ "$(psql -X -At "$db" -c "$migs")" = "$(psql -X -At "$fresh" -c "$migs")" ] ||
  fail "schema_migrations is not the baseline and the later migrations"
[ "$(psql -X -At "$db" -c "SELECT min(version) || ' ' || min(name) FROM schema_migrations
  WHERE version <= 17")" = "17 baseline" ] || fail "schema_migrations does not start at the baseline"

# 3. The same schema as a fresh database.
dump_schema "$db" > "$work/upgraded.schema"
dump_schema "$fresh" > "$work/fresh.schema"
diff -u "$work/fresh.schema" "$work/upgraded.schema" > "$work/schema.diff" ||
  { head -60 "$work/schema.diff"; fail "upgraded schema differs from a fresh one"; }

# 4. Twice in a row does nothing the second time.
out=$(TIPLINE_DATABASE_URL="$db" "$bin" migrate 2>/dev/null)
[ "$out" = "migrations and schema files applied: 0" ] || fail "second migrate: $out"

# 5. The rows read through the API as the fixture wrote them.
port=$((20000 + $$ % 20000))
TIPLINE_DATABASE_URL="$db" TIPLINE_HTTP_LISTEN="127.0.0.1:$port" "$bin" web 2> "$work/web.log" &
web_pid=$!
get() { curl -sf -H "Authorization: Bearer upgrade-admin-token" "http://127.0.0.1:$port$1"; }
for _ in $(seq 50); do get /api/me >/dev/null 2>&1 && break; sleep 0.1; done
get /api/reports/TL-UPGR01 > "$work/r1.json" || { cat "$work/web.log"; fail "GET report"; }
get "/api/reports?limit=10" > "$work/list.json"
get "/api/audit?limit=50" > "$work/audit.json"
node - "$work" <<'JS'
const fs = require('fs'), dir = process.argv[2];
const read = (f) => JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8'));
const eq = (what, got, want) => {
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    console.error(`FAIL: ${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    process.exit(1);
  }
};
const r = read('r1.json');
eq('ref', r.ref, 'TL-UPGR01');
eq('text', r.text, 'Шахед над містом, летить на схід');
eq('category', r.category, 'drones');
eq('point', r.point, { lat: 49.99, lon: 36.23, rounded: false });
eq('point_source', r.point_source, 'telegram_location');
eq('bearing', r.bearing, 90);
eq('accuracy_m', r.accuracy_m, 10);
eq('observed_at', r.observed_at, '2026-03-01T09:55:00.000Z');
eq('received_at', r.received_at, '2026-03-01T09:56:01.000Z');
eq('media', r.media.map((m) => [m.kind, m.mime, m.photo_point]),
   [['photo', 'image/jpeg', { lat: 49.991, lon: 36.231 }]]);
eq('followup', r.followups.map((f) => [f.question, f.answer, f.asked_by]),
   [['Скільки їх було?', 'три', 'alice']]);
eq('reporter', [r.reporter.pseudonym, r.reporter.n_reports, r.reporter.n_confirmed,
                r.reporter.reputation], ['rp_alpha', 2, 1, 3]);
eq('recent', r.reporter.recent.map((x) => [x.ref, x.status]), [['TL-UPGR02', 'confirmed']]);
const list = read('list.json').items.map((x) => [x.ref, x.status, x.queue]).sort();
eq('list', list, [['TL-UPGR01', 'new', 'general'], ['TL-UPGR02', 'confirmed', 'restricted'],
                  ['TL-UPGR03', 'new', 'general']]);
const decide = read('audit.json').items.filter((a) => a.action === 'decide');
eq('audit', decide.map((a) => [a.actor, a.object, a.before, a.after]),
   [['alice', 'report:2', { status: 'new' }, { status: 'confirmed' }]]);
JS
echo "upgrade: 17 old migrations, $rows rows kept, schema equal to a fresh one, API reads the rows"
echo "1 passed, 0 failed"
