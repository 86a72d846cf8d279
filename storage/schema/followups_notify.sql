-- followups_notify.sql
-- A follow-up asked, relayed or answered appends a live event for the web servers.
CREATE OR REPLACE FUNCTION followups_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM web_listeners) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.relayed_at IS NOT DISTINCT FROM OLD.relayed_at
       AND NEW.relay_error IS NOT DISTINCT FROM OLD.relay_error
       AND NEW.answer IS NOT DISTINCT FROM OLD.answer THEN
        RETURN NULL;
    END IF;
    INSERT INTO web_events (body)
    VALUES (json_build_object('event', 'followup', 'id', NEW.report_id, 'followup', NEW.id,
                              'answered', NEW.answer IS NOT NULL,
                              'failed', NEW.relay_error IS NOT NULL,
                              'queue', (SELECT r.queue FROM reports r
                                        WHERE r.id = NEW.report_id))::text);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER followups_notify AFTER INSERT OR UPDATE OF relayed_at, relay_error, answer
    ON followups
    FOR EACH ROW EXECUTE FUNCTION followups_notify();
