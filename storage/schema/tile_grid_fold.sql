-- tile_grid_fold.sql
-- Moves the pending changes (reports_tile_grid.sql) into tile_cells, for every
-- registered precision, in one transaction: a tile reading both sees each change once.
-- One folder at a time (an advisory lock; another caller returns 0 at once); the number
-- of pending rows folded. Run every second by the exporters' background thread.
-- The fold's estimates (a set-returning function per pending row and precision) pass
-- jit_optimize_above_cost: compiling took 750 ms a call against 0.1 ms to run it, so it
-- relies on tipline's connections running with JIT off (store_open).
CREATE OR REPLACE FUNCTION tile_grid_fold() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    k integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('tile_grid')) THEN
        RETURN 0;
    END IF;
    WITH d AS (DELETE FROM tile_grid_pending RETURNING point, queue, n),
    up AS (
        INSERT INTO tile_cells AS t (prec, zoom, tx, ty, cell, queue, n, sx, sy)
        SELECT p.prec, g.zoom, g.tx, g.ty, g.cell, d.queue, sum(d.n), sum(d.n * g.mx),
            sum(d.n * g.my)
        FROM d, tile_grid_precisions p, LATERAL tile_grid_cells(d.point, p.prec) g
        GROUP BY 1, 2, 3, 4, 5, 6
        ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (prec, zoom, tx, ty, cell, queue) DO UPDATE
            SET n = t.n + EXCLUDED.n, sx = t.sx + EXCLUDED.sx, sy = t.sy + EXCLUDED.sy)
    SELECT count(*) INTO k FROM d;
    RETURN k;
END
$$;
