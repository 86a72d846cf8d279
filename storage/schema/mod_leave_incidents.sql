-- mod_leave_incidents.sql
-- Reports moderation has just held (a flood campaign taking its earlier members, a ban
-- sweeping a reporter's open reports) leave the incidents they had joined: a held report
-- is in no incident (incident_join.sql), so it neither counts nor moves one, and a
-- release joins it again. Each incident left is recomputed from its remaining members
-- (incident_refresh: its count and its members' scores). Returns how many reports left.
CREATE OR REPLACE FUNCTION mod_leave_incidents(p_ids bigint[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    incs bigint[];
    n integer;
BEGIN
    WITH l AS (SELECT q.id, q.incident_id FROM reports q
               WHERE q.id = ANY (p_ids) AND q.status = 'held' AND q.incident_id IS NOT NULL
               ORDER BY q.id FOR UPDATE),
    u AS (UPDATE reports r SET incident_id = NULL, corroborations = 0 FROM l
          WHERE r.id = l.id RETURNING l.incident_id)
    SELECT array_agg(DISTINCT u.incident_id), count(*) INTO incs, n FROM u;
    PERFORM incident_refresh(i) FROM unnest(incs) i ORDER BY i;
    RETURN n;
END
$$;
