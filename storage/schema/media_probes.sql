-- media_probes.sql
-- The media_bands keys a search for the hashes within k (0..14) bits of h probes: band n
-- with every value within t_n bits of h's, where the t_n + 1 add up to k + 1 (shared out
-- in turn from band 0, the widest), so that one band at least of every match within k
-- bits is among them (migration 0032 says why). The masks are read from
-- media_band_masks (weights 0..3), not built on each call. A set-returning SQL function
-- of one SELECT, so that media_near's statement inlines it (called as an expression, it
-- would be planned again on every call: 0.2 ms, half the search).
DROP FUNCTION IF EXISTS media_probes(bigint, integer, integer);
CREATE OR REPLACE FUNCTION media_probes(h bigint, k int)
RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT b.key # m.mask
    FROM media_bands_of(h) b
    JOIN media_band_masks m ON m.w = b.w AND m.r <= (k + 4 - b.n) / 4 - 1
$$;
