-- media_near_seen.sql
-- media_near(h, k) when the caller searched in memory (daemon/near.c): nx is
-- {"s": snapshot, "h": {"<hash>": [media ids]}}, the ids the bot's index, complete up to
-- the snapshot s, found within k bits of each hash. The answer is those ids rechecked
-- against media_bands (purged or rehashed since, they drop out) and the rows s does not
-- see (committed after it, or this transaction's own), by media_bands_recent: every row
-- is one or the other (migration 0035). A hash nx does not name (not searched, too many
-- candidates, no index loaded yet) is searched by media_near. Band 0's rows only: one
-- per stored hash.
CREATE OR REPLACE FUNCTION media_near_seen(h bigint, k int, nx jsonb)
RETURNS TABLE (id bigint, distance int)
LANGUAGE plpgsql STABLE ROWS 10 AS $$
#variable_conflict use_column
DECLARE
    c jsonb := nx->'h'->(h::text);
    s pg_snapshot;
BEGIN
    IF c IS NULL OR jsonb_typeof(c) <> 'array' THEN
        RETURN QUERY SELECT * FROM media_near(h, k);
        RETURN;
    END IF;
    s := (nx->>'s')::pg_snapshot;
    RETURN QUERY
    SELECT x.media_id, min(bit_count((x.hash # h)::bit(64)))::int
    FROM (SELECT b.media_id, b.hash
          FROM media_bands b
          WHERE b.media_id = ANY (ARRAY(SELECT jsonb_array_elements_text(c)::bigint))
            AND b.band < 4294967296
          UNION ALL
          SELECT b.media_id, b.hash
          FROM media_bands b
          WHERE b.ins_xid >= pg_snapshot_xmin(s) AND b.band < 4294967296
            AND NOT pg_visible_in_snapshot(b.ins_xid, s)) x
    WHERE bit_count((x.hash # h)::bit(64)) <= k
    GROUP BY x.media_id;
END
$$;
