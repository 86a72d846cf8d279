-- priority_params.sql
-- The current weights of the score as one jsonb object.
CREATE OR REPLACE FUNCTION priority_params() RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT w FROM priority_params_doc
$$;
