-- incident_counts.sql
-- Whether a member report counts toward its incident's corroboration: the one predicate
-- (a rejected report, one held by moderation, e.g. a member of a held flood campaign,
-- and a banned reporter's report do not count). plpgsql: its plan is cached, where a
-- SQL function with a subquery is planned again at every call.
CREATE OR REPLACE FUNCTION incident_counts(p_status text, p_reporter text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN p_status NOT IN ('rejected', 'held')
       AND NOT EXISTS (SELECT 1 FROM reporters b WHERE b.pseudonym = p_reporter AND b.banned);
END
$$;
