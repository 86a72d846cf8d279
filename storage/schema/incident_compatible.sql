-- incident_compatible.sql
-- Whether a report of category cat may join an incident of the categories cats: the same
-- category, or one incident_categories names compatible (either way round). With the
-- weight corroboration.same_category = 0 any category joins.
CREATE OR REPLACE FUNCTION incident_compatible(w jsonb, cat text, cats text[]) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (w ->> 'corroboration.same_category')::float8 = 0
        OR COALESCE(cat, 'other') = ANY (cats)
        OR EXISTS (SELECT 1 FROM incident_categories c
                   WHERE (c.category = COALESCE(cat, 'other') AND c.compatible && cats)
                      OR (c.category = ANY (cats) AND COALESCE(cat, 'other') = ANY (c.compatible)));
END
$$;
