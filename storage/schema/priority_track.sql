-- priority_track.sql
-- The score's term for a reporter's track record.
CREATE OR REPLACE FUNCTION priority_track(w jsonb, reputation integer, n_confirmed integer,
                               n_rejected integer) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT GREATEST(-COALESCE((w ->> 'reputation.max')::float8, 0),
                    LEAST(COALESCE((w ->> 'reputation.max')::float8, 0),
                          reputation * COALESCE((w ->> 'reputation.per_point')::float8, 0)
                          + n_confirmed * COALESCE((w ->> 'reputation.per_confirmed')::float8, 0)
                          + n_rejected * COALESCE((w ->> 'reputation.per_rejected')::float8, 0)))
$$;
