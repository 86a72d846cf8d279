-- webhook_enqueue.sql
-- A decision (decided_at written) of a report with a point queues one delivery per
-- live webhook subscription taking report events whose (enabled) account may see the
-- report's queue. Only a row is written in the deciding transaction: the posting, its
-- retries and its failures belong to the sender thread, so no receiver can slow or fail
-- a decision. (Incident changes: webhook_enqueue_incident.sql.)
CREATE OR REPLACE FUNCTION webhook_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_deliveries (subscription_id, event, report_id)
    SELECT s.id, 'report.' || NEW.status, NEW.id
    FROM webhook_subscriptions s JOIN accounts a ON a.name = s.account AND NOT a.disabled
    WHERE s.disabled_at IS NULL AND 'reports' = ANY (s.events)
      AND NEW.queue = ANY (web_queues_for(s.account));
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER reports_webhook AFTER UPDATE OF decided_at ON reports
    FOR EACH ROW WHEN (NEW.decided_at IS NOT NULL AND NEW.point IS NOT NULL
                       AND NEW.decided_at IS DISTINCT FROM OLD.decided_at)
    EXECUTE FUNCTION webhook_enqueue();
