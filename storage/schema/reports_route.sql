-- reports_route.sql
-- A report goes to the queue of its category (category_queue), default general. A new
-- report adds its queue to its reporter's list (reporters.queues: the queues the
-- reporter has reports in, which web_reporter_doc tests before it counts the reports an
-- account may not see); a report routed later is reports_queue_moved's.
CREATE OR REPLACE FUNCTION reports_route() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.queue := COALESCE((SELECT c.queue FROM category_queue c WHERE c.category = NEW.category),
                          'general');
    IF TG_OP = 'INSERT' THEN
        UPDATE reporters SET queues = queues || NEW.queue
        WHERE pseudonym = NEW.reporter AND NOT NEW.queue = ANY (queues);
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER reports_route BEFORE INSERT OR UPDATE OF category ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_route();
