-- media_probes.sql
-- Every 16-bit value within r bits (0..3) of v: the keys one band of the perceptual hash
-- is probed with (media_near; migration 0023 says why bands).
CREATE OR REPLACE FUNCTION media_probes(v bigint, r int)
RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(v # x.mask)
    FROM (SELECT 0::bigint AS mask
          UNION ALL
          SELECT 1::bigint << i FROM generate_series(0, 15) i WHERE r >= 1
          UNION ALL
          SELECT (1::bigint << i) | (1::bigint << j)
          FROM generate_series(0, 15) i, generate_series(0, 15) j WHERE r >= 2 AND i < j
          UNION ALL
          SELECT (1::bigint << i) | (1::bigint << j) | (1::bigint << l)
          FROM generate_series(0, 15) i, generate_series(0, 15) j, generate_series(0, 15) l
          WHERE r >= 3 AND i < j AND j < l) x
$$;
