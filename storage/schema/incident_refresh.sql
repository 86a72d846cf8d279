-- incident_refresh.sql
-- Recomputes what an incident row summarises from its members (count, distinct counted
-- reporters = its corroboration, time span, the mean of the points as the centroid
-- (incident_join keeps the same mean as members arrive), categories, the fused bearing
-- position), then recounts its members' corroboration and score (priority_recount:
-- the rows whose count changed). incident_join moves an incident by one member; this is
-- for what changes the whole: a merge, a split, a decision, a ban. Returns how many
-- member rows changed.
CREATE OR REPLACE FUNCTION incident_refresh(p_inc bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    w jsonb := priority_params();
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
    changed := priority_recount(w, ARRAY(SELECT q.id FROM reports q WHERE q.incident_id = p_inc));
    PERFORM incident_fuse(p_inc);
    RETURN changed;
END
$$;
