-- priority_recount.sql
-- Recounts the corroborations and scores of the given reports.
CREATE OR REPLACE FUNCTION priority_recount(w jsonb, ids bigint[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    changed integer;
BEGIN
    WITH c AS MATERIALIZED (
        SELECT r.id, r.reporter, priority_corroborators(w, r.id, r.reporter, r.category,
                                                        r.point, r.received_at) AS n
        FROM reports r WHERE r.id = ANY (ids) AND r.point IS NOT NULL),
    l AS (SELECT r.id, c.n, c.reporter FROM reports r JOIN c ON c.id = r.id
          WHERE r.corroborations <> c.n ORDER BY r.id FOR UPDATE OF r SKIP LOCKED)
    UPDATE reports r SET corroborations = l.n,
        priority = priority_formula(w, r.priority_base, r.category, r.flags, l.n,
                                    extract(epoch FROM now() - r.received_at)::float8,
                                    COALESCE(rp.banned, false), COALESCE(rp.reputation, 0),
                                    COALESCE(rp.n_confirmed, 0), COALESCE(rp.n_rejected, 0))
    FROM l LEFT JOIN reporters rp ON rp.pseudonym = l.reporter
    WHERE r.id = l.id;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;
