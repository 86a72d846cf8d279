-- tile_grid_max_zoom.sql
-- The highest zoom whose tiles are summed from tile_cells (migration 0027); above it a
-- tile reads the reports themselves (a zoom-9 tile covers a quarter of a zoom-8 one,
-- and from zoom 12 every report is its own point).
CREATE OR REPLACE FUNCTION tile_grid_max_zoom() RETURNS integer LANGUAGE sql IMMUTABLE
    PARALLEL SAFE AS $$ SELECT 8 $$;
