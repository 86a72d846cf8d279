-- reports_tile_grid.sql
-- A report that starts or stops counting on the tiles (confirmed, decided, with a
-- point), or that moves point or queue while counted, appends its change to
-- tile_grid_pending: -1 where it was, +1 where it is. One small insert per decision and
-- no shared row, so concurrent confirmations never wait on one another
-- (tile_grid_fold.sql moves the rows into tile_cells).
CREATE OR REPLACE FUNCTION reports_tile_grid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was boolean := TG_OP <> 'INSERT' AND OLD.status = 'confirmed' AND OLD.decided_at IS NOT NULL
                   AND OLD.point IS NOT NULL;
    now_in boolean := TG_OP <> 'DELETE' AND NEW.status = 'confirmed'
                      AND NEW.decided_at IS NOT NULL AND NEW.point IS NOT NULL;
BEGIN
    IF was AND now_in AND OLD.queue = NEW.queue AND OLD.point::geometry ~= NEW.point::geometry THEN
        RETURN NULL;
    END IF;
    IF was THEN
        INSERT INTO tile_grid_pending (point, queue, n) VALUES (OLD.point, OLD.queue, -1);
    END IF;
    IF now_in THEN
        INSERT INTO tile_grid_pending (point, queue, n) VALUES (NEW.point, NEW.queue, 1);
    END IF;
    RETURN NULL;
END
$$;

-- A row that counts neither before nor after returns at once. No WHEN clause: PostgreSQL reads a trigger's WHEN back from its stored text and
-- compiles it for every UPDATE statement, which costs more than the call that
-- returns at once; the function tests the condition itself.
CREATE OR REPLACE TRIGGER reports_tile_grid AFTER INSERT OR DELETE ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_tile_grid();
CREATE OR REPLACE TRIGGER reports_tile_grid_update
    AFTER UPDATE OF status, decided_at, point, queue ON reports FOR EACH ROW
    EXECUTE FUNCTION reports_tile_grid();
