-- priority_of.sql
-- The priority score of a report row, with the weights w.
CREATE OR REPLACE FUNCTION priority_of(w jsonb, r reports) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    rp reporters%ROWTYPE;
BEGIN
    SELECT * INTO rp FROM reporters WHERE pseudonym = r.reporter;
    RETURN priority_formula(w, r.priority_base, r.category, r.flags, r.corroborations,
                            extract(epoch FROM now() - r.received_at)::float8,
                            COALESCE(rp.banned, false), COALESCE(rp.reputation, 0),
                            COALESCE(rp.n_confirmed, 0), COALESCE(rp.n_rejected, 0));
END
$$;
