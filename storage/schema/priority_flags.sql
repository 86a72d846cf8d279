-- priority_flags.sql
-- The score's term for a report's flags: the sum of the flags' weights.
CREATE OR REPLACE FUNCTION priority_flags(w jsonb, flags text[]) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(sum((w ->> ('flag.' || f))::float8), 0) FROM unnest(flags) AS f
$$;
