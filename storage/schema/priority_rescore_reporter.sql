-- priority_rescore_reporter.sql
-- Rescores the open reports of one reporter after their standing changed.
CREATE OR REPLACE FUNCTION priority_rescore_reporter(w jsonb, p_reporter text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    changed integer;
BEGIN
    WITH q AS MATERIALIZED (
        SELECT x.id, priority_formula(w, x.priority_base, x.category, x.flags,
                   x.corroborations, extract(epoch FROM now() - x.received_at)::float8,
                   rp.banned, rp.reputation, rp.n_confirmed, rp.n_rejected) AS p
        FROM reports x JOIN reporters rp ON rp.pseudonym = x.reporter
        WHERE x.reporter = p_reporter AND x.status = 'new'),
    l AS (SELECT x.id, q.p FROM reports x JOIN q ON q.id = x.id WHERE x.priority <> q.p
          FOR UPDATE OF x SKIP LOCKED)
    UPDATE reports r SET priority = l.p FROM l WHERE r.id = l.id;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;
