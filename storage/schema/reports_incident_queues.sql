-- reports_incident_queues.sql
-- A member of an incident routed to another queue (its category given to another queue:
-- store_category_route) adds that queue to the incident's list (incidents.queues, what
-- web_incident_hides tests), so an account kept out of the new queue is shown the
-- incident as counted over what it sees. Fires only for statements that set queue or
-- category, never on the decision path.
CREATE OR REPLACE FUNCTION reports_incident_queues() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE incidents SET queues = queues || NEW.queue
    WHERE id = NEW.incident_id AND NOT NEW.queue = ANY (queues);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER reports_incident_queues AFTER UPDATE OF queue, category ON reports
    FOR EACH ROW WHEN (NEW.incident_id IS NOT NULL AND NEW.queue IS DISTINCT FROM OLD.queue)
    EXECUTE FUNCTION reports_incident_queues();
