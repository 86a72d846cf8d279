-- web_reporter_doc.sql
-- The reporter as every API document shows it (the full report, a decision, a ban):
-- pseudonymous, with counters that leave out the reports of queues the caller may not
-- see; with p_recent, the reporter's latest 10 other reports the caller may see. p is
-- the reporter's row as the caller has it (a ban passes the row it just wrote).
CREATE OR REPLACE FUNCTION web_reporter_doc(p reporters, qs text[], p_recent boolean,
                                            p_except bigint DEFAULT NULL) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    hn integer := 0; -- the hidden reports, confirmed and rejected among them
    hc integer := 0;
    hj integer := 0;
    v json;
BEGIN
    IF p.pseudonym IS NULL THEN
        RETURN NULL;
    END IF;
    -- The kept counters less what the caller may not see: counted only when the reporter
    -- has reports in a queue outside qs (p.queues), and then the hidden rows (restricted
    -- queues are few: counting them reads less than counting the visible ones).
    IF NOT p.queues <@ qs THEN
        SELECT count(*), count(*) FILTER (WHERE o.status = 'confirmed'),
               count(*) FILTER (WHERE o.status = 'rejected')
        INTO hn, hc, hj FROM reports o WHERE o.reporter = p.pseudonym AND NOT o.queue = ANY (qs);
    END IF;
    v := json_build_object('pseudonym', left(p.pseudonym, 12), 'n_reports', p.n_reports - hn,
                           'n_confirmed', p.n_confirmed - hc, 'n_rejected', p.n_rejected - hj,
                           'reputation', p.reputation, 'banned', p.banned,
                           'ban_reason', p.ban_reason);
    IF NOT p_recent THEN
        RETURN v;
    END IF;
    -- The same object with one more key, spliced as text (json has no concatenation).
    RETURN (left(v::text, -1) || ', "recent" : ' || array_to_json(ARRAY(
        SELECT json_build_object('id', o.id, 'ref', o.public_ref, 'status', o.status,
                                 'category', o.category, 'received_at', web_iso(o.received_at))
        FROM reports o
        WHERE o.reporter = p.pseudonym AND o.id IS DISTINCT FROM p_except AND o.queue = ANY (qs)
        ORDER BY o.received_at DESC, o.id DESC LIMIT 10))::text || '}')::json;
END
$$;
