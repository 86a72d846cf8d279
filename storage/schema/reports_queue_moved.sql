-- reports_queue_moved.sql
-- A report routed to another queue (its category given to another queue:
-- store_category_route) adds that queue to its reporter's list (reporters.queues) and,
-- when it is a member of an incident, to the incident's (incidents.queues): the lists
-- web_reporter_doc and web_incident_hides test before they count what an account may not
-- see. Fires only for statements that set queue or category, never on the decision path.
DROP TRIGGER IF EXISTS reports_incident_queues ON reports;
DROP FUNCTION IF EXISTS reports_incident_queues();
CREATE OR REPLACE FUNCTION reports_queue_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reporters SET queues = queues || NEW.queue
    WHERE pseudonym = NEW.reporter AND NOT NEW.queue = ANY (queues);
    IF NEW.incident_id IS NOT NULL THEN
        UPDATE incidents SET queues = queues || NEW.queue
        WHERE id = NEW.incident_id AND NOT NEW.queue = ANY (queues);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER reports_queue_moved AFTER UPDATE OF queue, category ON reports
    FOR EACH ROW WHEN (NEW.queue IS DISTINCT FROM OLD.queue)
    EXECUTE FUNCTION reports_queue_moved();
