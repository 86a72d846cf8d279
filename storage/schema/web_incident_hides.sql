-- web_incident_hides.sql
-- Whether an incident has a member in a queue outside qs (web_queues_for: a restricted
-- queue the account is no member of); qs NULL: every queue, nothing hidden. The cheap
-- test, one probe of the incident's members, before what an incident or a report shows
-- of it is recomputed for an account (web_incident_seen, web_report_seen).
CREATE OR REPLACE FUNCTION web_incident_hides(p_inc bigint, qs text[]) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN qs IS NOT NULL AND EXISTS (SELECT 1 FROM reports r
                                      WHERE r.incident_id = p_inc
                                        AND (r.queue = ANY (qs)) IS NOT TRUE);
END
$$;
