#!/usr/bin/env bash
# bench/dedup/run.sh BUILD_DIR [REPORTS] [HASHES] [ITER] - the dedup decision on a full
# database, in a throwaway PostgreSQL (tests/pgtmp.sh):
#   seed REPORTS (default 1,000,000) reports from 10,000 reporters over 30 days, HASHES
#   (default 500,000) of them with a photo and its 64-bit perceptual hash (bulk-loaded:
#   a bench's seed, not intake; VACUUM ANALYZE after);
#   1. bench_dedup: the bot's index in memory loaded (time, size), then ITER (default
#      2,000) reports with a photo stored through the one write path with the decision as
#      the worker makes it (searched in memory, checked in SQL), with it searched in SQL
#      alone (media_near), and without it: p50/p99 and reports/s;
#   2. the near-duplicate search alone, in the same run over the same hashes: media_near
#      (the band index, media_bands) and a linear Hamming scan (bit_count(a # b), as Meedan's
#      similarity service does), 200 and 30 queries of the same kind (half a stored hash
#      a few bits off, half new), each way one prepared statement EXECUTEd per hash,
#      p50/p99 from psql's \timing; then the same queries timed in the server (one
#      plpgsql loop, clock_timestamp() around each, both serial), without the client's
#      round trip, as the store path searches;
#   3. the search as the product performs it, over the same 200 hashes: in memory
#      (bench_dedup near: the index loaded again, each hash searched 10 times, p50/p99)
#      and the SQL part the store path adds (media_near_seen: the ids found rechecked and
#      the rows the index's snapshot does not see), timed in the server as in 2 (5
#      rounds); their sum per hash against the linear scan's in-server times. The
#      in-server loops make one untimed call first (the session's planning).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
reports=${2:-1000000}
hashes=${3:-500000}
iter=${4:-2000}
state=$(mktemp /tmp/tl-bench-dedup.XXXXXX)
work=$(mktemp -d /tmp/tl-bench-dedup-out.XXXXXX)
cleanup() {
  "$here/tests/pgtmp.sh" stop "$state" >/dev/null 2>&1 || true
  rm -rf "$work" "$state"
}
trap cleanup EXIT
export PGTMP_OPTS=${PGTMP_OPTS:--c shared_buffers=1GB}
"$here/tests/pgtmp.sh" start "$state" "$build/cli/tipline" >/dev/null 2>&1
admin=$(cat "$state")
db=${admin/dbname=postgres/dbname=bench_dedup}
psql -X -q "$admin" -c "CREATE DATABASE bench_dedup TEMPLATE tipline_template"
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'); load $(cut -d' ' -f1-3 /proc/loadavg)"

"$build/bench/dedup/bench_dedup" gen "$hashes" > "$work/hashes"
t0=$(date +%s.%N)
psql -X -q "$db" <<SQL
SET session_replication_role = replica;
INSERT INTO reporters (pseudonym) SELECT 'bench' || g FROM generate_series(1, 10000) g;
INSERT INTO reports (public_ref, reporter, text, received_at, priority)
SELECT 'B-' || g, 'bench' || (1 + g % 10000), 'seed report ' || g,
    now() - (g * interval '30 days' / $reports), 10
FROM generate_series(1, $reports) g;
CREATE TEMP TABLE h (n bigserial, phash bigint);
\copy h (phash) FROM '$work/hashes'
INSERT INTO media (id, report_id, kind, sha256, tg_file_unique_id, phash, mime, size, created_at)
SELECT h.n, h.n * ($reports / $hashes), 'photo', encode(sha256(h.n::text::bytea), 'hex'),
    'bf-seed-' || h.n, h.phash, 'image/jpeg', 1000,
    now() - (h.n * ($reports / $hashes) * interval '30 days' / $reports)
FROM h;
SELECT setval('media_id_seq', $hashes);
-- the near-duplicate index's rows, which media's trigger writes in service
INSERT INTO media_bands (band, hash, media_id)
SELECT b.key, m.phash, m.id FROM media m CROSS JOIN LATERAL media_bands_of(m.phash) b;
SQL
psql -X -q "$db" -c "VACUUM ANALYZE reports" -c "VACUUM ANALYZE media" -c "VACUUM ANALYZE media_bands"
# index-only scans need the pages all-visible; a VACUUM right after the load sometimes
# sets none (runs of 1.3 and 6-21 ms at p50, 883 heap fetches a band): again until done
for t in media media_bands; do
  for _ in 1 2 3 4 5; do
    [ "$(psql -X -At "$db" -c "SELECT relallvisible >= relpages FROM pg_class WHERE relname = '$t'")" = t ] && break
    sleep 1
    psql -X -q "$db" -c "VACUUM $t"
  done
done
echo "seed: $reports reports, $hashes photo hashes in $(echo "$(date +%s.%N) - $t0" | bc) s"

"$build/bench/dedup/bench_dedup" run "$db" "$hashes" "$iter"

# the search alone: the same query hashes for both ways
psql -X -qAt "$db" -c "SELECT phash # (1::bigint << (g % 60)) # (4::bigint << (g % 57))
  FROM media JOIN generate_series(1, 100) g ON id = 1 + (g * 7919) % $hashes
  UNION ALL SELECT ((random() - 0.5) * 1.8e19)::bigint FROM generate_series(1, 100)" > "$work/q"
# near and new in turn
paste -d'\n' <(head -100 "$work/q") <(tail -100 "$work/q") > "$work/qh"
timing() { # sql-with-$1 count: a prepared statement (both ways alike), EXECUTEd per hash
  local sql=$1 n=$2
  head -"$n" "$work/qh" | while read -r h; do echo "EXECUTE q($h);"; done > "$work/qs.sql"
  { echo "PREPARE q(bigint) AS $sql;"; echo '\timing on'; cat "$work/qs.sql"; } |
    psql -X -q "$db" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -n > "$work/t"
  awk '{ v[NR] = $1; s += $1 } END { printf "p50 %8.2f ms  p99 %8.2f ms  mean %8.2f ms  (%d queries)\n",
    v[int((NR - 1) * .5) + 1], v[int((NR - 1) * .99) + 1], s / NR, NR }' "$work/t"
}
psql -X -q "$db" -c "SELECT count(*) FROM media WHERE bit_count((phash # 0)::bit(64)) <= 8" >/dev/null # warm
echo "near search, band index (media_near, k = 8): $(timing 'SELECT count(*) FROM media_near($1, 8)' 200)"
echo "near search, linear scan (bit_count(a # b) <= 8): $(timing 'SELECT count(*) FROM media WHERE bit_count((phash # $1)::bit(64)) <= 8' 30)"
# the same in the server, without the client's round trip (as store_apply_plan searches):
# each query timed by clock_timestamp() in one plpgsql loop, both ways serial
psql -X -q "$db" <<'SQL'
CREATE TABLE bench_times (way text, ms float8);
CREATE FUNCTION bench_search(hs bigint[], scan boolean) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    t float8[] := '{}';
    t0 timestamptz;
    c bigint;
    h bigint;
BEGIN
    -- once untimed: the session's first call plans the statement (the store path's
    -- sessions are long-lived)
    IF scan THEN
        SELECT count(*) INTO c FROM media WHERE bit_count((phash # hs[1])::bit(64)) <= 8;
    ELSE
        SELECT count(*) INTO c FROM media_near(hs[1], 8);
    END IF;
    FOREACH h IN ARRAY hs LOOP
        t0 := clock_timestamp();
        IF scan THEN
            SELECT count(*) INTO c FROM media WHERE bit_count((phash # h)::bit(64)) <= 8;
        ELSE
            SELECT count(*) INTO c FROM media_near(h, 8);
        END IF;
        t := t || extract(epoch FROM clock_timestamp() - t0)::float8 * 1000;
    END LOOP;
    INSERT INTO bench_times SELECT CASE WHEN scan THEN 'scan' ELSE 'near' END, x FROM unnest(t) x;
    RETURN (SELECT format('p50 %s ms  p99 %s ms  mean %s ms  (%s queries, in the server)',
                          to_char(percentile_disc(0.5) WITHIN GROUP (ORDER BY x), 'FM99990.00'),
                          to_char(percentile_disc(0.99) WITHIN GROUP (ORDER BY x), 'FM99990.00'),
                          to_char(avg(x), 'FM99990.00'), count(*))
            FROM unnest(t) x);
END
$$;
SQL
hs="'{$(head -200 "$work/qh" | paste -sd,)}'::bigint[]"
echo "near search, band index, in the server: $(psql -X -At "$db" -c "SELECT bench_search($hs, false)")"
hs="'{$(head -30 "$work/qh" | paste -sd,)}'::bigint[]"
echo "near search, linear scan, in the server: $(psql -X -At "$db" -c "SELECT bench_search($hs, true)")"

# 3. the search as the product performs it: in memory, then the SQL part of the store path
"$build/bench/dedup/bench_dedup" near "$db" "$work/qh" "$work/nx.tsv"
psql -X -q "$db" <<SQL
CREATE TABLE bench_nx (n serial, h bigint, mem_ms float8, nx jsonb);
CREATE TABLE bench_seen_t (n int, sql_ms float8);
\copy bench_nx (h, mem_ms, nx) FROM '$work/nx.tsv'
SQL
psql -X -q "$db" <<'SQL'
CREATE FUNCTION bench_seen() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    r record;
    t0 timestamptz;
    c bigint;
BEGIN
    -- once untimed, as in bench_search; then 5 rounds
    SELECT count(*) INTO c FROM bench_nx x, media_near_seen(x.h, 8, x.nx) WHERE x.n = 1;
    FOR i IN 1 .. 5 LOOP
        FOR r IN SELECT * FROM bench_nx ORDER BY n LOOP
            t0 := clock_timestamp();
            SELECT count(*) INTO c FROM media_near_seen(r.h, 8, r.nx);
            INSERT INTO bench_seen_t
            VALUES (r.n, extract(epoch FROM clock_timestamp() - t0)::float8 * 1000);
        END LOOP;
    END LOOP;
END
$$;
DO $$ BEGIN PERFORM bench_seen(); END $$;
SQL
psql -X -At "$db" <<'SQL'
WITH q AS (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY sql_ms) AS s50,
                  percentile_disc(0.99) WITHIN GROUP (ORDER BY sql_ms) AS s99,
                  percentile_disc(0.5) WITHIN GROUP (ORDER BY mem_ms + sql_ms) AS t50,
                  percentile_disc(0.99) WITHIN GROUP (ORDER BY mem_ms + sql_ms) AS t99,
                  count(*) AS n FROM bench_nx JOIN bench_seen_t USING (n)),
     s AS (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY ms) AS l50,
                  percentile_disc(0.99) WITHIN GROUP (ORDER BY ms) AS l99
           FROM bench_times WHERE way = 'scan')
SELECT format('near search, SQL part of the store path (media_near_seen: ids rechecked, rows '
              'after the snapshot), in the server: p50 %s ms  p99 %s ms  (%s queries)',
              to_char(s50, 'FM99990.000'), to_char(s99, 'FM99990.000'), n) || E'\n' ||
       format('near search as the product performs it (in memory + SQL part, per hash): '
              'p50 %s ms  p99 %s ms; against the linear scan in the server (p50 %s, p99 %s ms): '
              '%sx at p50, %sx at p99',
              to_char(t50, 'FM99990.000'), to_char(t99, 'FM99990.000'),
              to_char(l50, 'FM99990.00'), to_char(l99, 'FM99990.00'),
              round((l50 / t50)::numeric), round((l99 / t99)::numeric))
FROM q, s;
SQL
