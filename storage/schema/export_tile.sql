-- export_tile.sql
-- A Mapbox vector tile (layer "reports", extent 4096) of the confirmed reports acct
-- may see in tile z/x/y (Web Mercator, XYZ numbering). From zoom 12 each report is a
-- point with its public reference, category and time; below, the reports of each cell
-- of a 64 x 64 grid over the tile are one point (where they are on average) with their
-- count, so a tile of a million reports stays small (at most 4096 features) and no
-- single report can be picked out at country scale.
-- Up to tile_grid_max_zoom() the cells are summed from tile_cells (migration 0027),
-- the rows of the queues acct may see at its precision, plus the changes not yet
-- folded: a zoom-5 tile reads a few thousand rows instead of scanning half a million
-- reports. A precision no web server registered (tile_grid_ensure) scans the reports,
-- as the zooms above do. There the pixel is computed from longitude and latitude
-- directly (the spherical Mercator formula, a few float operations) rather than by
-- ST_Transform and ST_AsMVTGeom per point, which cost three times as much on a
-- zoomed-out tile. acct NULL: every queue; decimals NULL: exact points.
CREATE OR REPLACE FUNCTION export_tile(acct text, decimals integer, z integer, x integer,
    y integer) RETURNS bytea LANGUAGE plpgsql STABLE AS $$
DECLARE
    qs text[] := CASE WHEN acct IS NULL THEN NULL ELSE web_queues_for(acct) END;
    pr integer := COALESCE(decimals, -1);
    env geometry := ST_Transform(ST_TileEnvelope(z, x, y, margin => 1.0 / 64), 4326);
BEGIN
    IF z <= tile_grid_max_zoom() AND EXISTS (SELECT 1 FROM tile_grid_precisions p WHERE p.prec = pr)
    THEN
        RETURN (
            WITH cells AS (
                SELECT t.cell, t.n, t.sx, t.sy FROM tile_cells t
                WHERE t.prec = pr AND t.zoom = z AND t.tx = x AND t.ty = y
                  AND (qs IS NULL OR t.queue = ANY (qs))
                UNION ALL
                SELECT g.cell, p.n, p.n * g.mx, p.n * g.my
                FROM tile_grid_pending p, LATERAL tile_grid_cells(p.point, pr) g
                WHERE p.point::geometry && env AND g.zoom = z AND g.tx = x AND g.ty = y
                  AND (qs IS NULL OR p.queue = ANY (qs))),
            feats AS (
                SELECT ST_MakePoint(round((sum(c.sx) / sum(c.n) * (1 << z) - x) * 4096),
                                    round((sum(c.sy) / sum(c.n) * (1 << z) - y) * 4096)) AS geom,
                    NULL::text AS ref, NULL::text AS category, NULL::text AS observed_at,
                    sum(c.n)::int AS count
                FROM cells c GROUP BY c.cell HAVING sum(c.n) > 0)
            SELECT ST_AsMVT(feats, 'reports', 4096, 'geom') FROM feats);
    END IF;
    RETURN (
        WITH pts AS (
            SELECT r.public_ref, r.category, r.observed_at,
                CASE WHEN decimals IS NULL THEN ST_X(r.point::geometry)
                     ELSE round(ST_X(r.point::geometry)::numeric, decimals)::float8 END AS lon,
                CASE WHEN decimals IS NULL THEN ST_Y(r.point::geometry)
                     ELSE round(ST_Y(r.point::geometry)::numeric, decimals)::float8 END AS lat
            FROM reports r
            WHERE r.status = 'confirmed' AND r.decided_at IS NOT NULL AND r.point IS NOT NULL
              AND r.point::geometry && env AND (qs IS NULL OR r.queue = ANY (qs))),
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
        SELECT ST_AsMVT(feats, 'reports', 4096, 'geom') FROM feats);
END
$$;
