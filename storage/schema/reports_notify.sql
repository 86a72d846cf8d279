-- reports_notify.sql
-- A new report, a claim, a release or a decision appends a live event for the web
-- servers (a table the servers poll, not NOTIFY: NOTIFY serialises every notifying
-- commit on one lock).
CREATE OR REPLACE FUNCTION reports_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ev text;
BEGIN
    IF TG_OP = 'INSERT' AND NEW.status = 'held' THEN
        RETURN NULL; -- held by moderation: never shown to the analysts' consoles
    ELSIF TG_OP = 'INSERT' THEN
        ev := 'report';
    ELSIF NEW.status IS DISTINCT FROM OLD.status OR NEW.decided_at IS DISTINCT FROM OLD.decided_at THEN
        ev := 'decide';
    ELSIF NEW.claimed_by IS NOT NULL AND NEW.claimed_by IS DISTINCT FROM OLD.claimed_by THEN
        ev := 'claim';
    ELSIF NEW.claimed_by IS NULL AND OLD.claimed_by IS NOT NULL THEN
        ev := 'release';
    ELSE
        RETURN NULL;
    END IF;
    -- Only while a web server reads them; the check and the row in one statement.
    INSERT INTO web_events (body)
    SELECT json_build_object('event', ev, 'id', NEW.id, 'status', NEW.status,
                             'claimed_by', NEW.claimed_by, 'queue', NEW.queue)::text
    WHERE EXISTS (SELECT 1 FROM web_listeners);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER reports_notify AFTER INSERT OR UPDATE OF status, claimed_by, decided_at ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_notify();
