-- media_near.sql
-- The stored photos whose perceptual hash, of the whole photo or of the picture inside
-- its frame (phash_inner), is at most k (0..15) bits from h, with the smaller distance;
-- through the band indexes of migration 0023, never a scan: one band of a match is
-- within k/4 bits of h's (pigeonhole), so each band is probed with those values and the
-- candidates are checked with bit_count on the index tuples (the hash is INCLUDEd).
CREATE OR REPLACE FUNCTION media_near(h bigint, k int)
RETURNS TABLE (id bigint, distance int)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT c.id, min(c.d)::int
    FROM (SELECT m.id, bit_count((m.phash # h)::bit(64)) AS d FROM media m
          WHERE m.phash IS NOT NULL
            AND ((m.phash >> 48) & 65535) = ANY (media_probes((h >> 48) & 65535, k / 4))
          UNION ALL
          SELECT m.id, bit_count((m.phash # h)::bit(64)) FROM media m
          WHERE m.phash IS NOT NULL
            AND ((m.phash >> 32) & 65535) = ANY (media_probes((h >> 32) & 65535, k / 4))
          UNION ALL
          SELECT m.id, bit_count((m.phash # h)::bit(64)) FROM media m
          WHERE m.phash IS NOT NULL
            AND ((m.phash >> 16) & 65535) = ANY (media_probes((h >> 16) & 65535, k / 4))
          UNION ALL
          SELECT m.id, bit_count((m.phash # h)::bit(64)) FROM media m
          WHERE m.phash IS NOT NULL
            AND (m.phash & 65535) = ANY (media_probes(h & 65535, k / 4))
          UNION ALL
          SELECT m.id, bit_count((m.phash_inner # h)::bit(64)) FROM media m
          WHERE m.phash_inner IS NOT NULL
            AND ((m.phash_inner >> 48) & 65535) = ANY (media_probes((h >> 48) & 65535, k / 4))
          UNION ALL
          SELECT m.id, bit_count((m.phash_inner # h)::bit(64)) FROM media m
          WHERE m.phash_inner IS NOT NULL
            AND ((m.phash_inner >> 32) & 65535) = ANY (media_probes((h >> 32) & 65535, k / 4))
          UNION ALL
          SELECT m.id, bit_count((m.phash_inner # h)::bit(64)) FROM media m
          WHERE m.phash_inner IS NOT NULL
            AND ((m.phash_inner >> 16) & 65535) = ANY (media_probes((h >> 16) & 65535, k / 4))
          UNION ALL
          SELECT m.id, bit_count((m.phash_inner # h)::bit(64)) FROM media m
          WHERE m.phash_inner IS NOT NULL
            AND (m.phash_inner & 65535) = ANY (media_probes(h & 65535, k / 4))) c
    WHERE c.d <= k
    GROUP BY c.id
$$;
