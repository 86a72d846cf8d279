-- web_point.sql
-- A point as the API writes it, rounded to decimals when the role asks for it.
CREATE OR REPLACE FUNCTION web_point(p geography, decimals integer) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p IS NULL THEN NULL
        WHEN decimals IS NULL THEN jsonb_build_object('lat', ST_Y(p::geometry),
            'lon', ST_X(p::geometry), 'rounded', false)
        ELSE jsonb_build_object('lat', round(ST_Y(p::geometry)::numeric, decimals),
            'lon', round(ST_X(p::geometry)::numeric, decimals), 'rounded', true) END
$$;
