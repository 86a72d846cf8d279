-- web_incident_seen.sql
-- An incident as an account sees it (qs: web_queues_for; NULL: every queue, the row as
-- stored). When members of it sit in
-- queues the account may not see (restricted ones it is no member of), what the row
-- summarises is recomputed from the members it sees (incident_sum: the count, the
-- corroboration, the span, the centroid, the categories), and a position fused from a
-- hidden member's bearing is left out; else the row as stored. So neither the incident's
-- view nor the list tells how many reports, or whose, sit in a queue the account is kept
-- out of.
CREATE OR REPLACE FUNCTION web_incident_seen(i incidents, qs text[])
RETURNS incidents
LANGUAGE plpgsql STABLE AS $$
DECLARE
    s record;
BEGIN
    IF NOT web_incident_hides(i.queues, qs) THEN
        RETURN i;
    END IF;
    SELECT * INTO s FROM incident_sum(i.id, qs);
    i.n_reports := s.n;
    i.corroborations := s.c;
    i.centroid := s.centroid;
    i.first_seen := COALESCE(s.t0, i.first_seen);
    i.last_seen := COALESCE(s.t1, i.last_seen);
    i.categories := s.cats;
    i.category := s.cats[1];
    IF EXISTS (SELECT 1 FROM reports r
               WHERE r.incident_id = i.id AND (r.queue = ANY (qs)) IS NOT TRUE
                 AND r.bearing IS NOT NULL) THEN
        i.fused := NULL;
        i.fused_uncertainty_m := NULL;
        i.fused_lines := 0;
    END IF;
    RETURN i;
END
$$;
