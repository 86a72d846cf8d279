-- tile_grid_fill.sql
-- (Re)builds the cells of one precision (-1: exact points; else rounded to prec
-- decimals) from the reports, registering it: the webhook thread registers the
-- round_decimals of rounded_roles once (tile_grid_ensure), and a bulk load that bypassed
-- the triggers rebuilds a precision. It must run in a REPEATABLE READ transaction, which
-- is what keeps every decision counted once without holding up the reports' writers
-- (a minute over a million reports): the pending changes its snapshot sees are folded
-- (and deleted) first and the reports are read in that same snapshot, so a decision
-- committed later stays pending and is folded into every precision, this one included.
-- A fold that commits meanwhile makes it fail (could not serialize): run it again.
CREATE OR REPLACE FUNCTION tile_grid_fill(p_prec integer) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    k bigint;
BEGIN
    IF current_setting('transaction_isolation') <> 'repeatable read' THEN
        RAISE EXCEPTION 'tile_grid_fill needs a REPEATABLE READ transaction';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('tile_grid'));
    PERFORM tile_grid_fold(); -- pending before this precision exists: already in the reports
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
