-- priority_recount_near.sql
-- Recounts the reports near one report.
CREATE OR REPLACE FUNCTION priority_recount_near(w jsonb, p_id bigint, p_reporter text,
                                      p_category text, p_point geography, p_at timestamptz)
RETURNS integer
LANGUAGE sql AS $$
    SELECT priority_recount(w, ARRAY(
        SELECT n.id FROM reports n
        WHERE ST_DWithin(n.point, p_point, (w ->> 'corroboration.radius_m')::float8, false)
          AND n.received_at BETWEEN p_at - make_interval(secs => (w ->> 'corroboration.window_s')::float8)
                                AND p_at + make_interval(secs => (w ->> 'corroboration.window_s')::float8)
          AND n.id <> p_id AND n.reporter <> p_reporter
          AND ((w ->> 'corroboration.same_category')::float8 = 0
               OR n.category IS NOT DISTINCT FROM p_category)))
$$;
