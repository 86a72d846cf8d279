-- tile_grid_cells.sql
-- The cells of tile_cells a point falls in, one per zoom 0..tile_grid_max_zoom(): its
-- tile (tx, ty), its 64-pixel cell in the tile (row * 64 + column) and its Web
-- Mercator coordinates (mx, my in [0, 1), what tile_cells sums). prec -1: the exact
-- point; else the point rounded to prec decimals first, as export_tile rounds it.
-- Points Web Mercator cannot show (beyond 85.05 degrees) have none.
CREATE OR REPLACE FUNCTION tile_grid_cells(pt geography, prec integer)
RETURNS TABLE (zoom integer, tx integer, ty integer, cell smallint, mx float8, my float8)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT g.z, g.cx >> 6, g.cy >> 6, ((g.cy & 63) << 6 | (g.cx & 63))::smallint, m.mx, m.my
    FROM (SELECT (l.lon + 180) / 360 AS mx, (1 - asinh(tan(radians(l.lat))) / pi()) / 2 AS my
          FROM (SELECT CASE WHEN prec < 0 THEN ST_X(pt::geometry)
                            ELSE round(ST_X(pt::geometry)::numeric, prec)::float8 END AS lon,
                       CASE WHEN prec < 0 THEN ST_Y(pt::geometry)
                            ELSE round(ST_Y(pt::geometry)::numeric, prec)::float8 END AS lat) l) m,
        LATERAL (SELECT z, floor(m.mx * (1 << (z + 6)))::int AS cx,
                     floor(m.my * (1 << (z + 6)))::int AS cy
                 FROM generate_series(0, tile_grid_max_zoom()) z) g
    WHERE m.mx >= 0 AND m.mx < 1 AND m.my >= 0 AND m.my < 1
$$;
