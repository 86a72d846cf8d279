-- media_probes.sql
-- Every value of a band of bits bits within r bits (0..2) of v: the keys one band of the
-- perceptual hash is probed with (media_near; migration 0023 says why bands).
CREATE OR REPLACE FUNCTION media_probes(v bigint, r int, bits int)
RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(v # x.mask)
    FROM (SELECT 0::bigint AS mask
          UNION ALL
          SELECT 1::bigint << i FROM generate_series(0, bits - 1) i WHERE r >= 1
          UNION ALL
          SELECT (1::bigint << i) | (1::bigint << j)
          FROM generate_series(0, bits - 1) i, generate_series(0, bits - 1) j
          WHERE r >= 2 AND i < j) x
$$;
