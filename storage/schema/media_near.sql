-- media_near.sql
-- The stored photos whose perceptual hash, of the whole photo or of the picture inside
-- its frame (phash_inner), is at most k (0..14) bits from h, with the smaller distance:
-- one scan of media_bands' index for the keys media_probes gives (one band at least of
-- every match is among them), each candidate checked with bit_count on the index tuple
-- (the hash is INCLUDEd). plpgsql, so that the statement is planned once per session,
-- never parallel (starting workers costs ten times the lookup), ROWS 10: a handful, so
-- that callers join it by index. No sequential scan: the session's one plan cannot see
-- how few keys a probe holds. The candidates are checked on the index tuples where the
-- pages are all-visible (vacuumed); recent pages cost a heap fetch each.
CREATE OR REPLACE FUNCTION media_near(h bigint, k int)
RETURNS TABLE (id bigint, distance int)
LANGUAGE plpgsql STABLE ROWS 10 SET max_parallel_workers_per_gather = 0
    SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT b.media_id, min(bit_count((b.hash # h)::bit(64)))::int
    FROM media_bands b
    WHERE b.band = ANY (ARRAY(SELECT p FROM media_probes(h, k) p))
      AND bit_count((b.hash # h)::bit(64)) <= k
    GROUP BY b.media_id;
END
$$;
