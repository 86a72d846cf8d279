-- priority_rescore_queue.sql
-- Rescores every open report (optionally recounting corroborations): after a
-- change of weights.
CREATE OR REPLACE FUNCTION priority_rescore_queue(recount boolean) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    w jsonb := priority_params();
    changed integer;
BEGIN
    IF recount THEN
        PERFORM priority_recount(w, ARRAY(
            SELECT q.id FROM reports q WHERE q.status = 'new' AND q.point IS NOT NULL
              AND q.received_at > now() - make_interval(secs => (w ->> 'recency.horizon_s')::float8)));
    END IF;
    WITH c AS (
        SELECT q.id, priority_formula(w, q.priority_base, q.category, q.flags, q.corroborations,
                                      extract(epoch FROM now() - q.received_at)::float8,
                                      COALESCE(rp.banned, false), COALESCE(rp.reputation, 0),
                                      COALESCE(rp.n_confirmed, 0), COALESCE(rp.n_rejected, 0))
                   AS p
        FROM reports q LEFT JOIN reporters rp ON rp.pseudonym = q.reporter
        WHERE q.status = 'new')
    UPDATE reports r SET priority = c.p FROM c WHERE r.id = c.id AND r.priority <> c.p;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;
