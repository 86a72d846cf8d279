-- tile_grid_fill.sql
-- (Re)builds the cells of one precision (-1: exact points; else rounded to prec
-- decimals) from the reports, registering it: a web server registers its
-- round_decimals at start (tile_grid_ensure), and a bulk load that bypassed the
-- triggers rebuilds every precision. Writers of reports wait meanwhile (SHARE lock):
-- a decision committed during the scan would otherwise be missed or counted twice.
CREATE OR REPLACE FUNCTION tile_grid_fill(p_prec integer) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    k bigint;
BEGIN
    LOCK TABLE reports IN SHARE MODE;
    PERFORM pg_advisory_xact_lock(hashtext('tile_grid'));
    PERFORM tile_grid_fold(); -- the other precisions' pending rows, before they name this one
    INSERT INTO tile_grid_precisions (prec) VALUES (p_prec) ON CONFLICT DO NOTHING;
    DELETE FROM tile_cells WHERE prec = p_prec;
    INSERT INTO tile_cells (prec, zoom, tx, ty, cell, queue, n, sx, sy)
    SELECT p_prec, g.zoom, g.tx, g.ty, g.cell, r.queue, count(*), sum(g.mx), sum(g.my)
    FROM reports r, LATERAL tile_grid_cells(r.point, p_prec) g
    WHERE r.status = 'confirmed' AND r.decided_at IS NOT NULL AND r.point IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 6;
    GET DIAGNOSTICS k = ROW_COUNT;
    RETURN k;
END
$$;
