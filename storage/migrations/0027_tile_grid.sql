-- 0027_tile_grid.sql
-- Why: a zoomed-out vector tile (GET /api/tiles, zooms 0-8) shows one point per
-- 64-pixel cell with its count, and computing it scanned every confirmed report the
-- tile covers: 1.4 s (p50) to 5.3 s (p99) for a zoom-5 tile over a million reports.
-- tile_cells keeps those counts (and the sums of the reports' Web Mercator
-- coordinates, so a cell's point is still where its reports are on average) per zoom,
-- tile, cell and queue, so that a tile only sums the rows of the queues its caller may
-- see (restricted queues stay invisible to non-members). The counts are kept once per
-- precision: exact points (prec -1, admins and analysts) and each rounding a web server
-- registered for its rounded_roles (tile_grid_precisions), because a cell's average
-- of exact points would give an exporter the exact point of a lone report.
--
-- A decision does not touch tile_cells: its trigger appends the change to
-- tile_grid_pending (one insert, no row every confirmation would queue on: the cells of
-- zooms 0-3 cover a whole country), a tile adds what is still pending, and a background
-- pass folds the pending rows into tile_cells in one transaction (tile_grid_fold.sql).
-- A tile is thus always exact, whatever the pass's delay.
CREATE TABLE tile_grid_precisions (
    prec smallint NOT NULL,
    CONSTRAINT tile_grid_precisions_pkey PRIMARY KEY (prec),
    CONSTRAINT tile_grid_precisions_range CHECK (prec BETWEEN -1 AND 15)
);

CREATE TABLE tile_cells (
    prec smallint NOT NULL,
    zoom smallint NOT NULL,
    tx integer NOT NULL,
    ty integer NOT NULL,
    cell smallint NOT NULL, -- (row within the tile's 64 x 64 grid) * 64 + column
    queue text NOT NULL,
    n integer NOT NULL,
    sx double precision NOT NULL, -- sum of the reports' x in [0, 1) (Web Mercator, west to east)
    sy double precision NOT NULL, -- sum of their y in [0, 1) (north to south)
    CONSTRAINT tile_cells_pkey PRIMARY KEY (prec, zoom, tx, ty, cell, queue)
);

CREATE TABLE tile_grid_pending (
    id bigserial,
    point geography NOT NULL,
    queue text NOT NULL,
    n smallint NOT NULL, -- +1 a report counted from now on, -1 one no longer counted
    CONSTRAINT tile_grid_pending_pkey PRIMARY KEY (id)
);

-- The exact points of the reports already confirmed (a database from before the grid);
-- the zooms and cells as tile_grid_cells.sql computes them.
INSERT INTO tile_grid_precisions (prec) VALUES (-1);
INSERT INTO tile_cells (prec, zoom, tx, ty, cell, queue, n, sx, sy)
SELECT -1, g.z, g.cx >> 6, g.cy >> 6, ((g.cy & 63) << 6 | (g.cx & 63))::smallint, m.queue,
    count(*), sum(m.mx), sum(m.my)
FROM (SELECT r.queue, (ST_X(r.point::geometry) + 180) / 360 AS mx,
          (1 - asinh(tan(radians(ST_Y(r.point::geometry)))) / pi()) / 2 AS my
      FROM reports r
      WHERE r.status = 'confirmed' AND r.decided_at IS NOT NULL AND r.point IS NOT NULL) m,
    LATERAL (SELECT z, floor(m.mx * (1 << (z + 6)))::int AS cx,
                 floor(m.my * (1 << (z + 6)))::int AS cy
             FROM generate_series(0, 8) z) g
WHERE m.mx >= 0 AND m.mx < 1 AND m.my >= 0 AND m.my < 1
GROUP BY 2, 3, 4, 5, 6;
