-- web_report_reporter.sql
-- The reporter of a report the caller may see, with the history a claimed report leaves
-- out (web_reporter_doc with recent: the counters and the latest 10 other reports the
-- caller may see); 'null' for a report without a reporter; NULL when the report is
-- absent or hidden. By id, else (no id given) by reference, as web_report_doc.
CREATE OR REPLACE FUNCTION web_report_reporter(p_id bigint, p_ref text, acct text)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    qs text[] := web_queues_for(acct);
    r record;
BEGIN
    IF p_id IS NULL THEN
        SELECT x.id INTO p_id FROM reports x WHERE x.public_ref = p_ref;
    END IF;
    SELECT x.id, x.reporter INTO r FROM reports x WHERE x.id = p_id AND x.queue = ANY (qs);
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN COALESCE(web_reporter_doc((SELECT p FROM reporters p WHERE p.pseudonym = r.reporter),
                                     qs, true, r.id)::text, 'null');
END
$$;
