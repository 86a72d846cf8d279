-- reports_priority_rejected.sql
-- A report rejected or marked duplicate stops corroborating its neighbours
-- (queued in priority_pending for the janitor).
CREATE OR REPLACE FUNCTION reports_priority_rejected() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO priority_pending (report_id, delta)
    VALUES (NEW.id, CASE WHEN NEW.status = 'rejected' THEN -1 ELSE 1 END)
    ON CONFLICT (report_id) DO UPDATE SET delta = priority_pending.delta + EXCLUDED.delta;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER reports_priority_rejected AFTER UPDATE OF status ON reports
    FOR EACH ROW
    WHEN (NEW.point IS NOT NULL AND (OLD.status = 'rejected') <> (NEW.status = 'rejected'))
    EXECUTE FUNCTION reports_priority_rejected();
