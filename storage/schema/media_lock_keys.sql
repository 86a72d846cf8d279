-- media_lock_keys.sql
-- The advisory lock keys a new photo of hash h takes (store_apply_plan) before it looks
-- for its near-duplicates, so that two photos within k bits stored at the same moment by
-- two workers are not each blind to the other (neither sees the other's uncommitted
-- row): the hash is cut into max(k + 1, 4) chunks, and two hashes at most k bits apart
-- agree on one chunk at least (pigeonhole), so they ask for one same key and the second
-- waits for the first to commit, then sees it. Keys: chunk * 65536 + the chunk's value.
CREATE OR REPLACE FUNCTION media_lock_keys(h bigint, k int)
RETURNS SETOF int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT c * 65536 + ((h >> lo) & ((1::bigint << (hi - lo)) - 1))::int
    FROM (SELECT c, c * 64 / n AS lo, (c + 1) * 64 / n AS hi
          FROM (SELECT greatest(k + 1, 4) AS n) p, generate_series(0, greatest(k + 1, 4) - 1) c) x
$$;
