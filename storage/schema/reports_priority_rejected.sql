-- reports_priority_rejected.sql
-- A report rejected or marked duplicate stops corroborating its neighbours
-- (queued in priority_pending for the janitor).
CREATE OR REPLACE FUNCTION reports_priority_rejected() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.point IS NULL OR (OLD.status = 'rejected') = (NEW.status = 'rejected') THEN
        RETURN NULL;
    END IF;
    INSERT INTO priority_pending (report_id, delta)
    VALUES (NEW.id, CASE WHEN NEW.status = 'rejected' THEN -1 ELSE 1 END)
    ON CONFLICT (report_id) DO UPDATE SET delta = priority_pending.delta + EXCLUDED.delta;
    RETURN NULL;
END
$$;

-- No WHEN clause: PostgreSQL reads a trigger's WHEN back from its stored text and
-- compiles it for every UPDATE statement, which costs more than the call that
-- returns at once; the function tests the condition itself.
CREATE OR REPLACE TRIGGER reports_priority_rejected AFTER UPDATE OF status ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_priority_rejected();
