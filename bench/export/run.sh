#!/usr/bin/env bash
# bench/export/run.sh BUILD_DIR [ROWS] - tipline's exporters over ROWS (default 1,000,000)
# confirmed reports in a throwaway PostgreSQL (tests/pgtmp.sh):
#   1. `tipline export --format geojson` and, in the same run on the same rows,
#      `ogr2ogr -f GeoJSON` reading them from PostgreSQL (GDAL's PG driver): wall time,
#      features/s, peak RSS (GNU time), the CPU time of the client and of the server's
#      backend (the postmaster's reaped children), and the features each file holds;
#   2. `tipline export --format csv` the same way (no ogr2ogr counterpart);
#   3. GET /api/tiles/{z}/{x}/{y}.mvt at zooms 5, 8 and 12 on `tipline web`: p50/p99 of
#      the tiles that hold reports (one curl process, keep-alive, time_total each);
#      zooms 5 and 8 sum the grid of cells (migration 0027), built after the bulk load.
# BASELINE=OTHER_BUILD_DIR: that build's `tipline export geojson` too, alternating with
# this one's on the same rows (a before/after in one run).
# Prints one line per figure. Needs gdal-bin, time and curl (deploy/setup.sh deps).
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [ROWS]}
rows=${2:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$build" && pwd)/cli/tipline
base_bin=${BASELINE:+$(cd "$BASELINE" && pwd)/cli/tipline}
state=$(mktemp /tmp/tl-bench-export.XXXXXX)
work=$(mktemp -d /tmp/tl-bench-export-out.XXXXXX)
web_pid=
cleanup() {
  [ -n "$web_pid" ] && kill "$web_pid" 2>/dev/null && wait "$web_pid" 2>/dev/null || true
  "$here/../../tests/pgtmp.sh" stop "$state" >/dev/null 2>&1 || true
  rm -rf "$work" "$state"
}
trap cleanup EXIT
"$here/../../tests/pgtmp.sh" start "$state" "$bin" >/dev/null 2>&1
admin=$(cat "$state")
db=${admin/dbname=postgres/dbname=bench_export}
psql -X -q "$admin" -c "CREATE DATABASE bench_export TEMPLATE tipline_template"
export TIPLINE_DATABASE_URL="$db"

# Reports spread over Ukraine's box, decided one per 10 ms; seeded without triggers (a
# bench's bulk load, not intake).
t0=$(date +%s.%N)
psql -X -q "$db" <<SQL
SET session_replication_role = replica;
INSERT INTO reporters (pseudonym) SELECT 'bench' || g FROM generate_series(1, 1000) g;
INSERT INTO reports (public_ref, reporter, category, point, point_source, accuracy_m,
    observed_at, received_at, status, decided_by, decided_at, corroborations)
SELECT 'B-' || g, 'bench' || (1 + g % 1000), (ARRAY['shelling', 'drone', 'troops'])[1 + g % 3],
    ST_SetSRID(ST_MakePoint(22.2 + 17.8 * random(), 44.4 + 7.9 * random()), 4326)::geography,
    'telegram_location', 10 + g % 90, timestamptz '2026-01-01Z' + g * interval '10 ms',
    timestamptz '2026-01-01Z' + g * interval '10 ms' + interval '1 minute', 'confirmed',
    'bench', timestamptz '2026-01-01Z' + g * interval '10 ms' + interval '5 minutes', g % 4
FROM generate_series(1, $rows) g;
ANALYZE reports;
SQL
echo "seed: $rows reports in $(echo "$(date +%s.%N) - $t0" | bc) s"
# the bulk load bypassed the trigger that keeps the zoomed-out tiles' grid: build it
# (exact points, what the admin's tiles below read), as tile_grid_ensure does once
t0=$(date +%s.%N)
cells=$(psql -X -qAt "$db" <<<"BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT tile_grid_fill(-1); COMMIT;")
psql -X -q "$db" -c "ANALYZE tile_cells"
echo "tile grid: $cells cells in $(echo "$(date +%s.%N) - $t0" | bc) s"

# The CPU seconds the cluster's backends have used and ended with: the postmaster's
# cutime + cstime (it reaps each backend) - the server's share of one run.
pg_cpu() {
  local pm
  pm=$(head -1 "$(cat "$state.dir")/data/postmaster.pid")
  awk -v hz="$(getconf CLK_TCK)" '{ print ($16 + $17) / hz }' "/proc/$pm/stat"
}
# time_of CMD...: "<seconds> <peak KiB> <client CPU s> <server CPU s>" of one run
time_of() {
  local c0 c1
  c0=$(pg_cpu)
  /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  sleep 0.2 # the backend ends after the client
  c1=$(pg_cpu)
  awk -v a="$c0" -v b="$c1" '{ printf "%s %s %.2f %.2f\n", $1, $2, $3 + $4, b - a }' "$work/time"
}
report() { # name seconds kib client-cpu server-cpu features
  awk -v n="$1" -v s="$2" -v k="$3" -v cc="$4" -v sc="$5" -v f="$6" 'BEGIN {
    printf "%-34s %7.2f s %9.0f features/s  peak RSS %5.1f MB  CPU %5.2f s client + %5.2f s server = %8.0f features/CPU-s  (%d features)\n",
      n, s, (s > 0 ? f / s : 0), k / 1024, cc, sc, (cc + sc > 0 ? f / (cc + sc) : 0), f }'
}
count_geojson() { grep -c '"type":"Feature"\|"type": "Feature"' "$1" || true; }

# the first read of fresh rows also writes their hint bits: a warm-up, not reported
"$bin" export --format csv >/dev/null
for run in 1 2; do
  read -r s k cc sc < <(time_of "$bin" export --format geojson -o "$work/tipline.geojson")
  report "tipline export geojson (run $run)" "$s" "$k" "$cc" "$sc" "$(count_geojson "$work/tipline.geojson")"
  if [ -n "$base_bin" ]; then
    read -r s k cc sc < <(time_of "$base_bin" export --format geojson -o "$work/base.geojson")
    report "baseline export geojson (run $run)" "$s" "$k" "$cc" "$sc" "$(count_geojson "$work/base.geojson")"
    cmp -s "$work/base.geojson" "$work/tipline.geojson" && echo "  same bytes as the baseline's" ||
      echo "  the files DIFFER from the baseline's"
    rm -f "$work/base.geojson"
  fi
  # the same rows and properties, read by GDAL from PostgreSQL
  read -r s k cc sc < <(time_of ogr2ogr -f GeoJSON "$work/ogr.geojson" "PG:$db" -nln reports -sql \
    "SELECT r.id, r.public_ref AS ref, r.category, r.status, r.observed_at, r.received_at,
            r.decided_at, r.point_source AS location_source, r.accuracy_m, r.corroborations,
            r.incident_id, (SELECT count(*) FROM media m WHERE m.report_id = r.id) AS media_count,
            r.point::geometry AS geom
     FROM reports r WHERE r.status = 'confirmed' AND r.decided_at IS NOT NULL
       AND r.point IS NOT NULL ORDER BY r.decided_at, r.id")
  report "ogr2ogr -f GeoJSON from PG (run $run)" "$s" "$k" "$cc" "$sc" "$(count_geojson "$work/ogr.geojson")"
  rm -f "$work/ogr.geojson"
done
read -r s k cc sc < <(time_of "$bin" export --format csv --hxl -o "$work/tipline.csv")
report "tipline export csv --hxl" "$s" "$k" "$cc" "$sc" "$(($(wc -l < "$work/tipline.csv") - 2))"
ls -l "$work/tipline.geojson" "$work/tipline.csv" | awk '{printf "  %s: %.0f MB\n", $NF, $5 / 1e6}'
rm -f "$work"/tipline.*

# tiles: an admin token, the web server alone, every tile of the box at each zoom
token=$("$bin" user add bench --role admin 2>/dev/null | grep -m1 '^tl_')
port=$((20000 + RANDOM % 20000))
"$bin" web --listen "127.0.0.1:$port" >"$work/web.log" 2>&1 &
web_pid=$!
for i in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
for z in 5 8 12; do
  python3 - "$z" "$port" >"$work/urls" <<'PY'
import math, random, sys
z, port = int(sys.argv[1]), sys.argv[2]
n = 2 ** z
def tx(lon): return int((lon + 180) / 360 * n)
def ty(lat): return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
tiles = [(x, y) for x in range(tx(22.2), tx(40.0) + 1) for y in range(ty(52.3), ty(44.4) + 1)]
random.seed(z)
pick = tiles if len(tiles) <= 200 else random.sample(tiles, 200)
reps = max(1, 100 // len(pick))
for _ in range(reps):
    for x, y in pick:
        print(f"url = \"http://127.0.0.1:{port}/api/tiles/{z}/{x}/{y}.mvt\"")
        print("output = /dev/null")
PY
  curl -s -K "$work/urls" -H "Authorization: Bearer $token" -w '%{time_total} %{http_code} %{size_download}\n' >"$work/times"
  sort -n "$work/times" | awk -v z="$z" '{ t[NR] = $1 * 1000; b += $3; if ($2 == 200) f++ }
    END { printf "tile z=%-2d %4d requests (%d with reports, %.0f KB avg)  p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms\n",
      z, NR, f, b / NR / 1024, t[int(NR * 0.5 + 0.5)], t[int(NR * 0.99 + 0.5)], t[NR] }'
done
