-- priority_formula.sql
-- The priority score of one report from its parts, with the weights w.
CREATE OR REPLACE FUNCTION priority_formula(w jsonb, base integer, category text, flags text[],
                                 corroborations integer, age_s double precision,
                                 banned boolean, reputation integer, n_confirmed integer,
                                 n_rejected integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT round(
        base
        + COALESCE((w ->> ('category.' || category))::float8,
                   (w ->> 'category.other')::float8, 0)
        + LEAST(corroborations, COALESCE((w ->> 'corroboration.max_reporters')::float8, 0))
          * COALESCE((w ->> 'corroboration.per_reporter')::float8, 0)
        - COALESCE((w ->> 'recency.penalty')::float8, 0)
          * LEAST(1, GREATEST(0, age_s) / COALESCE((w ->> 'recency.horizon_s')::float8, 1))
        + priority_track(w, reputation, n_confirmed, n_rejected)
        + CASE WHEN cardinality(flags) > 0 THEN priority_flags(w, flags) ELSE 0 END
        + CASE WHEN banned THEN COALESCE((w ->> 'banned')::float8, 0) ELSE 0 END
    )::integer
$$;
