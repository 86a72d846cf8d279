-- export_tile.sql
-- A Mapbox vector tile (layer "reports", extent 4096) of the confirmed reports acct
-- may see in tile z/x/y (Web Mercator, XYZ numbering). From zoom 12 each report is a
-- point with its public reference, category and time; below, the reports that fall in
-- one tile pixel are one point with their count, so a tile of a million reports stays
-- small and no single report can be picked out at country scale. acct NULL: every
-- queue; decimals NULL: exact points.
CREATE OR REPLACE FUNCTION export_tile(acct text, decimals integer, z integer, x integer,
    y integer) RETURNS bytea LANGUAGE sql STABLE AS $$
    WITH env AS (SELECT ST_TileEnvelope(z, x, y) AS m,
                        ST_Transform(ST_TileEnvelope(z, x, y, margin => 1.0 / 64), 4326) AS g),
    pts AS (
        SELECT r.id, r.public_ref, r.category, r.observed_at,
            ST_AsMVTGeom(ST_Transform(CASE WHEN decimals IS NULL THEN r.point::geometry
                ELSE ST_SetSRID(ST_MakePoint(round(ST_X(r.point::geometry)::numeric, decimals),
                    round(ST_Y(r.point::geometry)::numeric, decimals)), 4326) END, 3857),
                env.m, 4096, 64, true) AS geom
        FROM reports r, env
        WHERE r.status = 'confirmed' AND r.decided_at IS NOT NULL AND r.point IS NOT NULL
          AND r.point::geometry && env.g
          AND (acct IS NULL OR r.queue = ANY (ARRAY(SELECT unnest(web_queues_for(acct)))))),
    feats AS (
        SELECT geom, public_ref AS ref, category, web_iso(observed_at) AS observed_at,
            1 AS count FROM pts WHERE z >= 12 AND geom IS NOT NULL
        UNION ALL
        SELECT geom, NULL, NULL, NULL, count(*)::int FROM pts
        WHERE z < 12 AND geom IS NOT NULL GROUP BY geom)
    SELECT ST_AsMVT(feats, 'reports', 4096, 'geom') FROM feats
$$;
