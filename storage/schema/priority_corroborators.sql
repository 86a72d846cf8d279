-- priority_corroborators.sql
-- How many distinct other reporters sent a report of the same kind nearby and
-- recently (the corroboration term of the score).
CREATE OR REPLACE FUNCTION priority_corroborators(w jsonb, p_id bigint, p_reporter text, p_category text,
                                       p_point geography, p_at timestamptz) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT count(DISTINCT n.reporter)::integer
            FROM priority_neighbours(w, p_id, p_reporter, p_category, p_point, p_at) AS n);
END
$$;
