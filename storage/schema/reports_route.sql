-- reports_route.sql
-- A report goes to the queue of its category (category_queue), default general.
CREATE OR REPLACE FUNCTION reports_route() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.queue := COALESCE((SELECT c.queue FROM category_queue c WHERE c.category = NEW.category),
                          'general');
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER reports_route BEFORE INSERT OR UPDATE OF category ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_route();
