-- web_incident_merge.sql
-- An analyst merges incident p_other into p_id: its members move over, it is marked
-- merged_into (a report joining it meanwhile follows the mark), both are refreshed, and
-- the merge is audited with both incidents' summaries before. Returns the survivor's
-- document.
CREATE OR REPLACE FUNCTION web_incident_merge(acct text, p_id bigint, p_other bigint,
                                              decimals integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    qs text[] := web_queues_for(acct);
    a incidents%ROWTYPE;
    b incidents%ROWTYPE;
    moved bigint[];
BEGIN
    IF p_id = p_other THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'an incident cannot merge with itself';
    END IF;
    -- both rows locked, in id order (two merges of the same pair cannot deadlock)
    PERFORM 1 FROM incidents WHERE id IN (p_id, p_other) ORDER BY id FOR UPDATE;
    SELECT * INTO a FROM incidents WHERE id = p_id;
    SELECT * INTO b FROM incidents WHERE id = p_other;
    IF a.id IS NULL OR b.id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'P0002',
            MESSAGE = format('no incident %s', CASE WHEN a.id IS NULL THEN p_id ELSE p_other END);
    END IF;
    IF a.merged_into IS NOT NULL OR b.merged_into IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'TL409',
            MESSAGE = format('incident %s was merged already',
                             CASE WHEN a.merged_into IS NOT NULL THEN p_id ELSE p_other END);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM reports r WHERE r.incident_id = p_id AND r.queue = ANY (qs))
       OR NOT EXISTS (SELECT 1 FROM reports r WHERE r.incident_id = p_other
                      AND r.queue = ANY (qs)) THEN
        RAISE EXCEPTION USING ERRCODE = 'P0002',
            MESSAGE = format('no incident %s', CASE WHEN EXISTS (SELECT 1 FROM reports r
                WHERE r.incident_id = p_id AND r.queue = ANY (qs)) THEN p_other ELSE p_id END);
    END IF;
    WITH m AS (UPDATE reports SET incident_id = p_id WHERE incident_id = p_other RETURNING id)
    SELECT array_agg(m.id ORDER BY m.id) INTO moved FROM m;
    UPDATE incidents SET merged_into = p_id, n_reports = 0, corroborations = 0,
        fused = NULL, fused_uncertainty_m = NULL, fused_lines = 0, updated_at = now()
    WHERE id = p_other;
    PERFORM incident_refresh(p_id);
    INSERT INTO audit_log (actor, action, object, before, after)
    VALUES (acct, 'incident_merge', 'incident:' || p_id,
            jsonb_build_object('incident', web_incident_summary(a, NULL),
                               'other', web_incident_summary(b, NULL)),
            jsonb_build_object('merged', p_other, 'reports', to_jsonb(moved),
                               'incident', (SELECT web_incident_summary(x, NULL)
                                            FROM incidents x WHERE x.id = p_id)));
    RETURN web_incident_doc(p_id, acct, decimals);
END
$$;
