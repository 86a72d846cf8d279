-- mod_minhash_sim.sql
-- The estimated Jaccard similarity of two texts from their minhash signatures (64 slots
-- of 4 bytes, moderation/mod.h struct mod_sig): the share of equal slots, as
-- mod_sig_similarity computes it. Used where two workers decided at once and neither saw
-- the other's message (mod_apply_verdict.sql).
CREATE OR REPLACE FUNCTION mod_minhash_sim(a bytea, b bytea) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT count(*) FILTER (WHERE substring(a FROM i * 4 + 1 FOR 4)
                                  = substring(b FROM i * 4 + 1 FOR 4))::float8 / 64
    FROM generate_series(0, 63) i
    WHERE length(a) = 256 AND length(b) = 256
$$;
