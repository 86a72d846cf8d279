-- media_near.sql
-- The stored photos whose perceptual hash, of the whole photo or of the picture inside
-- its frame (phash_inner), is at most k (0..14) bits from h, with the smaller distance;
-- through the band indexes of migration 0023, never a scan: one of the five bands of a
-- match is within k/5 bits of h's (pigeonhole), so each band is probed with those values
-- and the candidates are checked with bit_count on the index tuples (the hash is
-- INCLUDEd). plpgsql, so that the statement is planned once per session (planned inline,
-- its probes cost more to plan than to run), never parallel (starting workers costs ten
-- times the lookup), ROWS 10: a handful, so that callers join it by index. No sequential
-- scan: the session's one plan cannot see how few values a probe holds (14), and a
-- branch reading every row would cost what the index saves. The candidates are checked
-- on the index tuples where the pages are all-visible (vacuumed); recent pages cost a
-- heap fetch each.
CREATE OR REPLACE FUNCTION media_near(h bigint, k int)
RETURNS TABLE (id bigint, distance int)
LANGUAGE plpgsql STABLE ROWS 10 SET max_parallel_workers_per_gather = 0
    SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
#variable_conflict use_column
DECLARE
    p0 bigint[] := media_probes(h & 8191, k / 5, 13);
    p1 bigint[] := media_probes((h >> 13) & 8191, k / 5, 13);
    p2 bigint[] := media_probes((h >> 26) & 8191, k / 5, 13);
    p3 bigint[] := media_probes((h >> 39) & 8191, k / 5, 13);
    p4 bigint[] := media_probes((h >> 52) & 4095, k / 5, 12);
BEGIN
    RETURN QUERY
    SELECT c.id, min(c.d)::int
    FROM (SELECT m.id, bit_count((m.phash # h)::bit(64)) AS d FROM media m
          WHERE (m.phash & 8191) = ANY (p0)
          UNION ALL
          SELECT m.id, bit_count((m.phash # h)::bit(64)) FROM media m
          WHERE ((m.phash >> 13) & 8191) = ANY (p1)
          UNION ALL
          SELECT m.id, bit_count((m.phash # h)::bit(64)) FROM media m
          WHERE ((m.phash >> 26) & 8191) = ANY (p2)
          UNION ALL
          SELECT m.id, bit_count((m.phash # h)::bit(64)) FROM media m
          WHERE ((m.phash >> 39) & 8191) = ANY (p3)
          UNION ALL
          SELECT m.id, bit_count((m.phash # h)::bit(64)) FROM media m
          WHERE ((m.phash >> 52) & 4095) = ANY (p4)
          UNION ALL
          SELECT m.id, bit_count((m.phash_inner # h)::bit(64)) FROM media m
          WHERE (m.phash_inner & 8191) = ANY (p0)
          UNION ALL
          SELECT m.id, bit_count((m.phash_inner # h)::bit(64)) FROM media m
          WHERE ((m.phash_inner >> 13) & 8191) = ANY (p1)
          UNION ALL
          SELECT m.id, bit_count((m.phash_inner # h)::bit(64)) FROM media m
          WHERE ((m.phash_inner >> 26) & 8191) = ANY (p2)
          UNION ALL
          SELECT m.id, bit_count((m.phash_inner # h)::bit(64)) FROM media m
          WHERE ((m.phash_inner >> 39) & 8191) = ANY (p3)
          UNION ALL
          SELECT m.id, bit_count((m.phash_inner # h)::bit(64)) FROM media m
          WHERE ((m.phash_inner >> 52) & 4095) = ANY (p4)) c
    WHERE c.d <= k
    GROUP BY c.id;
END
$$;
