-- media_near.sql
-- The stored photos whose perceptual hash is at most k (0..15) bits from h, through the
-- four band indexes (migration 0023): by pigeonhole one band of a match is within
-- k/4 bits of h's, so each band is probed with those values, and the candidates are
-- checked with bit_count on the index tuples (phash is in the key's INCLUDE).
CREATE OR REPLACE FUNCTION media_near(h bigint, k int)
RETURNS TABLE (id bigint, distance int)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT c.id, bit_count((c.phash # h)::bit(64))::int
    FROM (SELECT m.id, m.phash FROM media m
          WHERE m.phash IS NOT NULL
            AND ((m.phash >> 48) & 65535) = ANY (media_probes((h >> 48) & 65535, k / 4))
          UNION
          SELECT m.id, m.phash FROM media m
          WHERE m.phash IS NOT NULL
            AND ((m.phash >> 32) & 65535) = ANY (media_probes((h >> 32) & 65535, k / 4))
          UNION
          SELECT m.id, m.phash FROM media m
          WHERE m.phash IS NOT NULL
            AND ((m.phash >> 16) & 65535) = ANY (media_probes((h >> 16) & 65535, k / 4))
          UNION
          SELECT m.id, m.phash FROM media m
          WHERE m.phash IS NOT NULL
            AND (m.phash & 65535) = ANY (media_probes(h & 65535, k / 4))) c
    WHERE bit_count((c.phash # h)::bit(64)) <= k
$$;
