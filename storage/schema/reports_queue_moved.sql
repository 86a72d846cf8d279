-- reports_queue_moved.sql
-- A report routed to another queue (its category given to another queue:
-- store_category_route) adds that queue to its reporter's list (reporters.queues) and,
-- when it is a member of an incident, to the incident's (incidents.queues): the lists
-- web_reporter_doc and web_incident_hides test before they count what an account may not
-- see. A member moved into or out of a restricted queue changes who counts for whom in
-- the incident's scores (priority_corroborators): the moved report and the members still
-- under corroboration.propagate_max are recounted. Fires only for statements that set
-- queue or category, never on the decision path.
DROP TRIGGER IF EXISTS reports_incident_queues ON reports;
DROP FUNCTION IF EXISTS reports_incident_queues();
CREATE OR REPLACE FUNCTION reports_queue_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    w jsonb;
BEGIN
    UPDATE reporters SET queues = queues || NEW.queue
    WHERE pseudonym = NEW.reporter AND NOT NEW.queue = ANY (queues);
    IF NEW.incident_id IS NOT NULL THEN
        UPDATE incidents SET queues = queues || NEW.queue
        WHERE id = NEW.incident_id AND NOT NEW.queue = ANY (queues);
        IF web_incident_hides(ARRAY[OLD.queue, NEW.queue], queues_seen_with(NULL)) THEN
            w := priority_params();
            PERFORM priority_recount(w, ARRAY(
                SELECT q.id FROM reports q
                WHERE q.incident_id = NEW.incident_id
                  AND (q.id = NEW.id OR q.corroborations
                                        < (w ->> 'corroboration.propagate_max')::float8)));
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER reports_queue_moved AFTER UPDATE OF queue, category ON reports
    FOR EACH ROW WHEN (NEW.queue IS DISTINCT FROM OLD.queue)
    EXECUTE FUNCTION reports_queue_moved();
