-- queues_seen_with.sql
-- The queues that everyone who sees a report in queue q also sees: every unrestricted
-- queue, and q itself (q NULL: the unrestricted ones alone). With web_incident_hides it
-- tells whether an incident has a member some of them may not see
-- (priority_corroborators, incident_join, reports_queue_moved).
CREATE OR REPLACE FUNCTION queues_seen_with(q text) RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN ARRAY(SELECT x.name FROM queues x WHERE NOT x.restricted OR x.name = q);
END
$$;
