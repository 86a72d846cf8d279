-- web_report_doc.sql
-- The full report as the API returns it (web_report_json), read by id or reference, or
-- NULL when the caller may not see it; audits the view. A claimed report (web_claim)
-- leaves the reporter's history out: the analyst opens it when wanted
-- (web_report_reporter), and most decisions do without it.
DROP FUNCTION IF EXISTS web_report_doc(bigint, text, text, integer, boolean, text[]);
CREATE OR REPLACE FUNCTION web_report_doc(p_id bigint, p_ref text, acct text,
                                          decimals integer, audit boolean,
                                          qs text[] DEFAULT NULL,
                                          p_recent boolean DEFAULT true) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r reports;
BEGIN
    IF qs IS NULL THEN
        qs := web_queues_for(acct);
    END IF;
    -- By id, else (no id given) by reference, as web_decide.
    IF p_id IS NULL THEN
        SELECT x.id INTO p_id FROM reports x WHERE x.public_ref = p_ref;
    END IF;
    SELECT * INTO r FROM reports x WHERE x.id = p_id AND x.queue = ANY (qs);
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF audit THEN
        INSERT INTO audit_log (actor, action, object, after)
        VALUES (acct, 'view', 'report:' || r.id,
                jsonb_build_object('reporter', left(r.reporter, 12)));
    END IF;
    RETURN web_report_json(r, decimals, qs, p_recent);
END
$$;
