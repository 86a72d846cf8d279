-- priority_neighbours.sql
-- The reports near a report in space and time that count as its corroborators.
CREATE OR REPLACE FUNCTION priority_neighbours(w jsonb, p_id bigint, p_reporter text, p_category text,
                                    p_point geography, p_at timestamptz)
RETURNS TABLE (id bigint, reporter text)
LANGUAGE sql STABLE AS $$
    SELECT n.id, n.reporter FROM reports n
    WHERE ST_DWithin(n.point, p_point, (w ->> 'corroboration.radius_m')::float8, false)
      AND n.received_at BETWEEN p_at - make_interval(secs => (w ->> 'corroboration.window_s')::float8)
                            AND p_at + make_interval(secs => (w ->> 'corroboration.window_s')::float8)
      AND n.id <> p_id AND n.reporter <> p_reporter AND n.status NOT IN ('rejected', 'held')
      AND ((w ->> 'corroboration.same_category')::float8 = 0
           OR n.category IS NOT DISTINCT FROM p_category)
      AND NOT EXISTS (SELECT 1 FROM reporters b WHERE b.pseudonym = n.reporter AND b.banned)
$$;
