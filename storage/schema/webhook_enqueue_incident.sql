-- webhook_enqueue_incident.sql
-- An incident's change (created; a member joined or left, e.g. by a split; its
-- corroboration; merged into another; its position fused from bearings) queues a
-- delivery per live subscription that takes incident events and whose (enabled) account
-- may see the incident (a member in its queues; a merged incident's members are the
-- survivor's now). Why a trigger on incidents: every path that changes one (the join in
-- the storing transaction, a merge, a split, a decision's or a ban's refresh) writes
-- that row under its lock, so none is missed and none of those functions needs to know.
-- Why deferred to the commit: the join creates the incident before its first member
-- points at it, and a transaction may change one incident several times; at the commit
-- the members are there and the row is final. Bursts fold: while a delivery of this
-- incident to this subscription is not attempted yet (nor leased by the sender), the
-- change is added to its `changes` instead of a new row, so 300 reports joining one
-- incident make one post (or a few, as the sender takes them), each with the incident as
-- it stands when posted. Only rows are written here: the posting is the sender thread's
-- (daemon/webhook.c), and a receiver can neither slow nor fail the change.
CREATE OR REPLACE FUNCTION webhook_enqueue_incident() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ch text[];
    survivor bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_subscriptions s
                   WHERE s.disabled_at IS NULL AND 'incidents' = ANY (s.events)) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        ch := ARRAY['created'];
    ELSE
        ch := array_remove(ARRAY[
            CASE WHEN NEW.merged_into IS NOT NULL AND OLD.merged_into IS NULL THEN 'merged' END,
            CASE WHEN NEW.merged_into IS NULL AND NEW.n_reports > OLD.n_reports THEN 'joined' END,
            CASE WHEN NEW.merged_into IS NULL AND NEW.n_reports < OLD.n_reports THEN 'left' END,
            CASE WHEN NEW.merged_into IS NULL AND NEW.corroborations <> OLD.corroborations
                 THEN 'corroboration' END,
            CASE WHEN NEW.merged_into IS NULL
                      AND (ST_AsBinary(NEW.fused) IS DISTINCT FROM ST_AsBinary(OLD.fused)
                           OR NEW.fused_uncertainty_m IS DISTINCT FROM OLD.fused_uncertainty_m)
                 THEN 'fused' END], NULL);
    END IF;
    IF cardinality(ch) = 0 THEN
        RETURN NULL;
    END IF;
    SELECT i.merged_into INTO survivor FROM incidents i WHERE i.id = NEW.id;
    WITH s AS (SELECT s.id FROM webhook_subscriptions s
               JOIN accounts a ON a.name = s.account AND NOT a.disabled
               WHERE s.disabled_at IS NULL AND 'incidents' = ANY (s.events)
                 AND EXISTS (SELECT 1 FROM reports r
                             WHERE r.incident_id IN (NEW.id, survivor)
                               AND r.queue = ANY (ARRAY(SELECT unnest(web_queues_for(s.account)))))),
    f AS (UPDATE webhook_deliveries d
          SET changes = d.changes || ARRAY(SELECT c FROM unnest(ch) c WHERE c <> ALL (d.changes))
          FROM s
          WHERE d.incident_id = NEW.id AND d.subscription_id = s.id AND d.attempts = 0
            AND d.delivered_at IS NULL AND d.gave_up_at IS NULL
            AND d.next_at <= clock_timestamp() -- not leased by the sender
          RETURNING d.subscription_id)
    INSERT INTO webhook_deliveries (subscription_id, event, incident_id, changes)
    SELECT s.id, 'incident.changed', NEW.id, ch FROM s
    WHERE s.id NOT IN (SELECT f.subscription_id FROM f);
    RETURN NULL;
END
$$;

-- constraint triggers (deferrable) cannot be replaced in place
DROP TRIGGER IF EXISTS incidents_webhook_insert ON incidents;
CREATE CONSTRAINT TRIGGER incidents_webhook_insert AFTER INSERT ON incidents
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_enqueue_incident();
DROP TRIGGER IF EXISTS incidents_webhook_update ON incidents;
CREATE CONSTRAINT TRIGGER incidents_webhook_update
    AFTER UPDATE OF n_reports, corroborations, merged_into, fused, fused_uncertainty_m
    ON incidents DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.n_reports IS DISTINCT FROM NEW.n_reports
          OR OLD.corroborations IS DISTINCT FROM NEW.corroborations
          OR OLD.merged_into IS DISTINCT FROM NEW.merged_into
          OR OLD.fused_uncertainty_m IS DISTINCT FROM NEW.fused_uncertainty_m
          OR ST_AsBinary(OLD.fused) IS DISTINCT FROM ST_AsBinary(NEW.fused))
    EXECUTE FUNCTION webhook_enqueue_incident();
