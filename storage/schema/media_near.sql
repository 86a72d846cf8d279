-- media_near.sql
-- The stored photos whose perceptual hash, of the whole photo or of the picture inside
-- its frame (phash_inner), is at most k (0..14) bits from h, with the smaller distance:
-- one scan of media_bands' index for the keys media_probes gives (one band at least of
-- every match is among them), each candidate checked with bit_count on the index tuple
-- (the hash is INCLUDEd). plpgsql, so that the statement is planned once per session,
-- ROWS 10: a handful, so that callers join it by index. No SET clauses: saving and
-- restoring settings on every call cost 0.25 ms, more than half the search (the store
-- path's settings hold in here, store_apply_plan.sql). The candidates are checked on
-- the index tuples where the pages are all-visible (vacuumed); recent pages cost a heap
-- fetch each.
CREATE OR REPLACE FUNCTION media_near(h bigint, k int)
RETURNS TABLE (id bigint, distance int)
LANGUAGE plpgsql STABLE ROWS 10 AS $$
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
