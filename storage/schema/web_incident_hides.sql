-- web_incident_hides.sql
-- Whether an incident has a member in a queue outside qs (web_queues_for: a restricted
-- queue the account is no member of); qs NULL: every queue, nothing hidden. The cheap
-- test, one probe of the incident's members, before what an incident or a report shows
-- of it is recomputed for an account (web_incident_seen, web_report_seen). Called once
-- per report of a list: a generic plan (custom plans, made again at each call for the
-- array, cost a list of 51 reports 5.0 ms where the stored figures cost 1.4, the generic
-- one 2.2).
CREATE OR REPLACE FUNCTION web_incident_hides(p_inc bigint, qs text[]) RETURNS boolean
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    -- an account that sees every queue (an admin, a member of each restricted one, or
    -- no queue restricted) is told by the few rows of queues, not the incident's members
    RETURN qs IS NOT NULL
       AND EXISTS (SELECT 1 FROM queues q WHERE (q.name = ANY (qs)) IS NOT TRUE)
       AND EXISTS (SELECT 1 FROM reports r
                   WHERE r.incident_id = p_inc AND (r.queue = ANY (qs)) IS NOT TRUE);
END
$$;
