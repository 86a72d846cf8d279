-- incident_refresh.sql
-- Recomputes what an incident row summarises from its members (count, distinct counted
-- reporters = its corroboration, time span, the mean of the points as the centroid
-- (incident_join keeps the same mean as members arrive), categories,
-- the fused bearing position), then gives each member its corroboration: the counted
-- reporters other than its own, the count the priority score reads
-- (priority_corroborators). Like the neighbour propagation before it, rows only move
-- while the capped value changes (corroboration.propagate_max): the score's term stops at
-- corroboration.max_reporters anyway, and a 5,000-report incident must not rewrite 5,000
-- rows per new reporter; p_new, the report that just joined, always gets its exact count.
-- Members an analyst is locking right now are skipped (the refresh's recount comes back
-- to them). Returns how many member rows changed.
CREATE OR REPLACE FUNCTION incident_refresh(p_inc bigint, p_new bigint DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    w jsonb := priority_params();
    cap integer := (w ->> 'corroboration.propagate_max')::float8;
    s record;
    changed integer;
BEGIN
    IF p_inc IS NULL THEN
        RETURN 0;
    END IF;
    WITH m AS (SELECT q.*, incident_counts(q.status, q.reporter) AS counts
               FROM reports q WHERE q.incident_id = p_inc)
    SELECT count(*)::integer AS n,
           count(DISTINCT m.reporter) FILTER (WHERE m.counts)::integer AS c,
           ST_SetSRID(ST_MakePoint(avg(ST_X(m.point::geometry)), avg(ST_Y(m.point::geometry))),
                      4326)::geography AS centroid,
           min(COALESCE(m.observed_at, m.received_at)) AS t0,
           max(COALESCE(m.observed_at, m.received_at)) AS t1,
           COALESCE(array_agg(DISTINCT COALESCE(m.category, 'other')), '{}') AS cats
    INTO s FROM m;
    UPDATE incidents SET n_reports = s.n, corroborations = s.c,
        centroid = COALESCE(s.centroid, centroid), first_seen = COALESCE(s.t0, first_seen),
        last_seen = COALESCE(s.t1, last_seen), categories = s.cats,
        category = COALESCE(s.cats[1], category), updated_at = now()
    WHERE id = p_inc;
    WITH cr AS (SELECT DISTINCT q.reporter FROM reports q
                WHERE q.incident_id = p_inc AND incident_counts(q.status, q.reporter)),
    m AS (SELECT q.id, q.reporter,
                 GREATEST(s.c - CASE WHEN cr.reporter IS NULL THEN 0 ELSE 1 END, 0) AS n
          FROM reports q LEFT JOIN cr ON cr.reporter = q.reporter
          WHERE q.incident_id = p_inc),
    l AS (SELECT q.id, m.n, m.reporter FROM reports q JOIN m ON m.id = q.id
          WHERE q.corroborations <> m.n
            AND (q.id = p_new OR LEAST(q.corroborations, cap) <> LEAST(m.n, cap))
          ORDER BY q.id FOR UPDATE OF q SKIP LOCKED)
    UPDATE reports r SET corroborations = l.n,
        priority = priority_formula(w, r.priority_base, r.category, r.flags, l.n,
                                    extract(epoch FROM now() - r.received_at)::float8,
                                    COALESCE(rp.banned, false), COALESCE(rp.reputation, 0),
                                    COALESCE(rp.n_confirmed, 0), COALESCE(rp.n_rejected, 0))
    FROM l LEFT JOIN reporters rp ON rp.pseudonym = l.reporter
    WHERE r.id = l.id;
    GET DIAGNOSTICS changed = ROW_COUNT;
    PERFORM incident_fuse(p_inc);
    RETURN changed;
END
$$;
