-- media_bands_of.sql
-- The four bands of a 64-bit perceptual hash as media_bands keys them: band n (0..3) of
-- w bits from bit lo, keyed n << 32 | its value (migration 0032 says why these widths).
-- The one statement of the layout besides 0032's backfill and its masks' widths.
CREATE OR REPLACE FUNCTION media_bands_of(h bigint)
RETURNS TABLE (n int, w int, key bigint)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT b.n, b.w, (b.n::bigint << 32) | ((h >> b.lo) & ((1::bigint << b.w) - 1))
    FROM (VALUES (0, 0, 18), (1, 18, 16), (2, 34, 15), (3, 49, 15)) b(n, lo, w)
$$;
