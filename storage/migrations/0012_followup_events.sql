-- 0012: follow-up progress on the live-update stream (issue 6).
--
-- The console showed a follow-up, its relay and the citizen's answer only when the
-- analyst opened the report again. Now a new question (web/) and the relay's writes
-- (relayed_at, relay_error, answer: storage/store_relay.c, in the transaction that marks
-- the reply's update processed) announce a 'followup' event on tipline_reports, as
-- reports_notify does for the report's own changes: the report's id and queue (the stream keeps a queue's events
-- for its members), the follow-up's id and whether it is answered. Never the question
-- or the answer: the stream tells a console to fetch, the fetch is checked and audited.
-- Gated as reports_notify: without a listening web server it costs one probe.
CREATE FUNCTION followups_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM web_listeners) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.relayed_at IS NOT DISTINCT FROM OLD.relayed_at
       AND NEW.relay_error IS NOT DISTINCT FROM OLD.relay_error
       AND NEW.answer IS NOT DISTINCT FROM OLD.answer THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('tipline_reports', json_build_object('event', 'followup',
        'id', NEW.report_id, 'followup', NEW.id, 'answered', NEW.answer IS NOT NULL,
        'failed', NEW.relay_error IS NOT NULL,
        'queue', (SELECT r.queue FROM reports r WHERE r.id = NEW.report_id))::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER followups_notify AFTER INSERT OR UPDATE OF relayed_at, relay_error, answer
    ON followups
    FOR EACH ROW EXECUTE FUNCTION followups_notify();
