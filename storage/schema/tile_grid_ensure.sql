-- tile_grid_ensure.sql
-- Registers a precision and builds its cells unless it is registered already: what the
-- webhook thread calls for the round_decimals of rounded_roles (a no-op but for the
-- first start with a new value). True when it built them. In a REPEATABLE READ
-- transaction, as tile_grid_fill says; two processes building at once: one fails
-- (could not serialize) and finds the precision there when it tries again.
CREATE OR REPLACE FUNCTION tile_grid_ensure(p_prec integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM tile_grid_precisions WHERE prec = p_prec) THEN
        RETURN false;
    END IF;
    PERFORM tile_grid_fill(p_prec);
    RETURN true;
END
$$;
