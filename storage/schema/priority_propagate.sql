-- priority_propagate.sql
-- A report that gains or loses a point changes the corroboration count and score
-- of its open neighbours by delta.
CREATE OR REPLACE FUNCTION priority_propagate(w jsonb, p_id bigint, p_reporter text, p_category text,
                                   p_point geography, p_at timestamptz, delta integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    radius float8 := (w ->> 'corroboration.radius_m')::float8;
    win interval := make_interval(secs => (w ->> 'corroboration.window_s')::float8);
    anycat boolean := (w ->> 'corroboration.same_category')::float8 = 0;
    cap integer := (w ->> 'corroboration.propagate_max')::float8;
    changed integer;
BEGIN
    IF EXISTS (SELECT 1 FROM reporters b WHERE b.pseudonym = p_reporter AND b.banned) THEN
        RETURN 0;
    END IF;
    WITH nb AS MATERIALIZED (
        SELECT n.id, n.reporter FROM reports n
        WHERE ST_DWithin(n.point, p_point, radius, false)
          AND n.received_at BETWEEN p_at - win AND p_at + win
          AND n.id <> p_id AND n.reporter <> p_reporter
          AND (anycat OR n.category IS NOT DISTINCT FROM p_category)
          AND CASE WHEN delta > 0 THEN n.corroborations < cap
                   ELSE n.corroborations > 0 AND n.corroborations <= cap END
          AND NOT EXISTS (
              SELECT 1 FROM reports m
              WHERE m.reporter = p_reporter AND m.id <> p_id AND m.status <> 'rejected'
                AND ST_DWithin(m.point, n.point, radius, false)
                AND m.received_at BETWEEN n.received_at - win AND n.received_at + win
                AND (anycat OR m.category IS NOT DISTINCT FROM n.category))
        ORDER BY n.id FOR UPDATE OF n SKIP LOCKED)
    UPDATE reports r SET corroborations = r.corroborations + delta,
        priority = priority_formula(w, r.priority_base, r.category, r.flags,
                                    r.corroborations + delta,
                                    extract(epoch FROM now() - r.received_at)::float8,
                                    COALESCE(rp.banned, false), COALESCE(rp.reputation, 0),
                                    COALESCE(rp.n_confirmed, 0), COALESCE(rp.n_rejected, 0))
    FROM nb LEFT JOIN reporters rp ON rp.pseudonym = nb.reporter
    WHERE r.id = nb.id;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;
