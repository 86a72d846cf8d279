-- reports_priority_rescore.sql
-- A report whose category, flags or base changed is rescored.
CREATE OR REPLACE FUNCTION reports_priority_rescore() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.priority := priority_of(priority_params(), NEW);
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER reports_priority_rescore BEFORE UPDATE OF category, flags, priority_base
    ON reports FOR EACH ROW
    WHEN (OLD.category IS DISTINCT FROM NEW.category OR OLD.flags IS DISTINCT FROM NEW.flags
          OR OLD.priority_base IS DISTINCT FROM NEW.priority_base)
    EXECUTE FUNCTION reports_priority_rescore();
