-- web_incident_hides.sql
-- Whether an incident whose members sit in queues i_queues (incidents.queues) has a
-- member in a queue outside qs (web_queues_for: a restricted queue the account is no
-- member of); qs NULL: every queue, nothing hidden. The test before what an incident or
-- a report shows of it is recomputed for an account (web_incident_seen,
-- web_report_seen): one array comparison on the row the caller has read, inlined.
DROP FUNCTION IF EXISTS web_incident_hides(bigint, text[]);
CREATE OR REPLACE FUNCTION web_incident_hides(i_queues text[], qs text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT qs IS NOT NULL AND NOT i_queues <@ qs
$$;
