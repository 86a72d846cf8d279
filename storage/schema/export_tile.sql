-- export_tile.sql
-- A Mapbox vector tile (layer "reports", extent 4096) of the confirmed reports acct
-- may see in tile z/x/y (Web Mercator, XYZ numbering). From zoom 12 each report is a
-- point with its public reference, category and time; below, the reports of each cell
-- of a 64 x 64 grid over the tile are one point (where they are on average) with their
-- count, so a tile of a million reports stays small (at most 4096 features) and no
-- single report can be picked out at country scale. The pixel is computed
-- from longitude and latitude directly (the spherical Mercator formula, a few float
-- operations) rather than by ST_Transform and ST_AsMVTGeom per point, which cost three
-- times as much on a zoomed-out tile. acct NULL: every queue; decimals NULL: exact points.
CREATE OR REPLACE FUNCTION export_tile(acct text, decimals integer, z integer, x integer,
    y integer) RETURNS bytea LANGUAGE sql STABLE SET jit = off AS $$
    WITH env AS (SELECT ST_Transform(ST_TileEnvelope(z, x, y, margin => 1.0 / 64), 4326) AS g),
    pts AS (
        SELECT r.public_ref, r.category, r.observed_at,
            CASE WHEN decimals IS NULL THEN ST_X(r.point::geometry)
                 ELSE round(ST_X(r.point::geometry)::numeric, decimals)::float8 END AS lon,
            CASE WHEN decimals IS NULL THEN ST_Y(r.point::geometry)
                 ELSE round(ST_Y(r.point::geometry)::numeric, decimals)::float8 END AS lat
        FROM reports r, env
        WHERE r.status = 'confirmed' AND r.decided_at IS NOT NULL AND r.point IS NOT NULL
          AND r.point::geometry && env.g
          AND (acct IS NULL OR r.queue = ANY (ARRAY(SELECT unnest(web_queues_for(acct)))))),
    px AS (
        SELECT pts.*,
            floor(((lon + 180) / 360 * power(2, z) - x) * 4096) AS px,
            floor(((1 - asinh(tan(radians(lat))) / pi()) / 2 * power(2, z) - y) * 4096) AS py
        FROM pts),
    feats AS (
        SELECT ST_MakePoint(px, py) AS geom, public_ref AS ref, category,
            web_iso(observed_at) AS observed_at, 1 AS count
        FROM px WHERE z >= 12 AND px BETWEEN -64 AND 4159 AND py BETWEEN -64 AND 4159
        UNION ALL
        SELECT ST_MakePoint(round(avg(px)), round(avg(py))), NULL, NULL, NULL, count(*)::int
        FROM px WHERE z < 12 AND px BETWEEN 0 AND 4095 AND py BETWEEN 0 AND 4095
        GROUP BY floor(px / 64), floor(py / 64))
    SELECT ST_AsMVT(feats, 'reports', 4096, 'geom') FROM feats
$$;
