-- tile_grid_ensure.sql
-- Registers a precision and builds its cells unless it is registered already: what a
-- web server calls at start for its round_decimals (a no-op but for the first start
-- with a new value). True when it built them.
CREATE OR REPLACE FUNCTION tile_grid_ensure(p_prec integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM tile_grid_precisions WHERE prec = p_prec) THEN
        RETURN false;
    END IF;
    LOCK TABLE reports IN SHARE MODE; -- then ask again: another server may have built them
    IF EXISTS (SELECT 1 FROM tile_grid_precisions WHERE prec = p_prec) THEN
        RETURN false;
    END IF;
    PERFORM tile_grid_fill(p_prec);
    RETURN true;
END
$$;
