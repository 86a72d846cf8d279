-- priority_propagate_pending.sql
-- Applies the neighbour updates that decisions queued in priority_pending
-- (run by the janitor, off the analysts' path).
CREATE OR REPLACE FUNCTION priority_propagate_pending() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    w jsonb := priority_params();
    p record;
    changed integer := 0;
BEGIN
    FOR p IN WITH d AS (DELETE FROM priority_pending RETURNING report_id, delta)
             SELECT r.id, r.reporter, r.category, r.point, r.received_at, d.delta
             FROM d JOIN reports r ON r.id = d.report_id
             WHERE d.delta <> 0 AND r.point IS NOT NULL
             ORDER BY r.id
    LOOP
        changed := changed + priority_propagate(w, p.id, p.reporter, p.category, p.point,
                                                p.received_at, sign(p.delta)::integer);
    END LOOP;
    RETURN changed;
END
$$;
