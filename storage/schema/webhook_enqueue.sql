-- webhook_enqueue.sql
-- A decision (decided_at written) of a report with a point queues one delivery per
-- live webhook subscription taking report events whose (enabled) account may see the
-- report's queue. Only a row is written in the deciding transaction: the posting, its
-- retries and its failures belong to the sender thread, so no receiver can slow or fail
-- a decision. (Incident changes: webhook_enqueue_incident.sql.)
CREATE OR REPLACE FUNCTION webhook_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.decided_at IS NULL OR NEW.point IS NULL
       OR NEW.decided_at IS NOT DISTINCT FROM OLD.decided_at THEN
        RETURN NULL;
    END IF;
    -- Most decisions find no subscription: a probe of the table costs less than
    -- starting the insert's join.
    IF NOT EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.disabled_at IS NULL) THEN
        RETURN NULL;
    END IF;
    INSERT INTO webhook_deliveries (subscription_id, event, report_id)
    SELECT s.id, 'report.' || NEW.status, NEW.id
    FROM webhook_subscriptions s JOIN accounts a ON a.name = s.account AND NOT a.disabled
    WHERE s.disabled_at IS NULL AND 'reports' = ANY (s.events)
      AND NEW.queue = ANY (web_queues_for(s.account));
    RETURN NULL;
END
$$;

-- No WHEN clause: PostgreSQL reads a trigger's WHEN back from its stored text and
-- compiles it for every UPDATE statement, which costs more than the call that
-- returns at once; the function tests the condition itself.
CREATE OR REPLACE TRIGGER reports_webhook AFTER UPDATE OF decided_at ON reports
    FOR EACH ROW EXECUTE FUNCTION webhook_enqueue();
