-- incident_refresh.sql
-- Recomputes what an incident row summarises from its members (count, distinct counted
-- reporters = its corroboration, time span, the mean of the points as the centroid
-- (incident_join keeps the same mean as members arrive), categories, queues, the fused
-- bearing position), then recounts its members' corroboration and score (priority_recount:
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
    SELECT * INTO s FROM incident_sum(p_inc, NULL);
    UPDATE incidents SET n_reports = s.n, corroborations = s.c,
        centroid = COALESCE(s.centroid, centroid), first_seen = COALESCE(s.t0, first_seen),
        last_seen = COALESCE(s.t1, last_seen), categories = s.cats,
        category = COALESCE(s.cats[1], category), queues = s.queues, updated_at = now()
    WHERE id = p_inc;
    changed := priority_recount(w, ARRAY(SELECT q.id FROM reports q WHERE q.incident_id = p_inc));
    PERFORM incident_fuse(p_inc);
    RETURN changed;
END
$$;
