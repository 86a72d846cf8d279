-- web_iso.sql
-- A timestamp as ISO 8601 UTC with milliseconds, as the API writes times.
CREATE OR REPLACE FUNCTION web_iso(t timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;
