-- reports_priority_insert.sql
-- A new report gets its score (its corroboration comes when it joins an incident).
CREATE OR REPLACE FUNCTION reports_priority_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    w jsonb;
    rp reporters%ROWTYPE;
BEGIN
    NEW.priority_base := NEW.priority;
    SELECT d.w INTO w FROM priority_params_doc d;
    -- no incident yet: incident_join, in the same transaction, sets the count
    NEW.corroborations := 0;
    SELECT * INTO rp FROM reporters WHERE pseudonym = NEW.reporter;
    NEW.priority := priority_formula(w, NEW.priority_base, NEW.category, NEW.flags,
                                     NEW.corroborations,
                                     extract(epoch FROM now() - NEW.received_at)::float8,
                                     COALESCE(rp.banned, false), COALESCE(rp.reputation, 0),
                                     COALESCE(rp.n_confirmed, 0), COALESCE(rp.n_rejected, 0));
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER reports_priority_insert BEFORE INSERT ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_priority_insert();
