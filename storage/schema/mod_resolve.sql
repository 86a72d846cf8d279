-- mod_resolve.sql
-- A moderator's word on what moderation held or flagged: a campaign (p_what
-- 'campaign', all its open members) or one report ('report'), released (its held
-- reports enter the queue as new and join their incidents; reputations unchanged) or
-- rejected (its reports are decided 'rejected' by the moderator, with no "reviewed"
-- notice to the sender; each rejection lowers its reporter's reputation:
-- mod_reputation.sql). Audited with how
-- many reports it moved. P0002: nothing open by that id; TL409: a campaign decided
-- already; 22023: a bad action.
CREATE OR REPLACE FUNCTION mod_resolve(p_actor text, p_what text, p_id bigint, p_action text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    st text;
    ids bigint[];
    n int := 0;
BEGIN
    IF p_action IS NULL OR p_action NOT IN ('release', 'reject') THEN
        RAISE EXCEPTION 'action must be release or reject' USING ERRCODE = '22023';
    END IF;
    IF p_what = 'campaign' THEN
        SELECT status INTO st FROM mod_campaigns WHERE id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no campaign %', p_id USING ERRCODE = 'P0002';
        ELSIF st <> 'held' THEN
            RAISE EXCEPTION 'campaign % is % already', p_id, st USING ERRCODE = 'TL409';
        END IF;
        UPDATE mod_campaigns SET status = CASE p_action WHEN 'release' THEN 'released'
                                                        ELSE 'rejected' END,
            decided_by = p_actor, decided_at = now()
        WHERE id = p_id;
        ids := ARRAY(SELECT v.report_id FROM mod_verdicts v
                     WHERE v.campaign_id = p_id AND v.resolution IS NULL);
    ELSE
        ids := ARRAY(SELECT v.report_id FROM mod_verdicts v
                     WHERE v.report_id = p_id AND v.resolution IS NULL);
        IF cardinality(ids) = 0 THEN
            RAISE EXCEPTION 'no held or flagged report %', p_id USING ERRCODE = 'P0002';
        END IF;
    END IF;
    UPDATE mod_verdicts SET resolution = CASE p_action WHEN 'release' THEN 'released'
                                                       ELSE 'rejected' END,
        resolved_by = p_actor, resolved_at = now()
    WHERE report_id = ANY (ids);
    IF p_action = 'release' THEN
        UPDATE reports SET status = 'new' WHERE id = ANY (ids) AND status = 'held';
    ELSE
        UPDATE reports SET status = 'rejected', decided_by = p_actor, decided_at = now(),
            reviewed_notified_at = now(), claimed_by = NULL, lease_until = NULL,
            note = COALESCE(note, 'moderation')
        WHERE id = ANY (ids) AND status IN ('held', 'new', 'needs_info');
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF p_action = 'release' THEN -- held, they were in no incident (incident_join.sql)
        PERFORM incident_join(x) FROM unnest(ids) x ORDER BY x;
    END IF;
    INSERT INTO audit_log (actor, action, object, after)
    VALUES (p_actor, 'mod_' || p_action, p_what || ':' || p_id,
            jsonb_build_object('reports', n));
    RETURN jsonb_build_object('what', p_what, 'id', p_id, 'action', p_action, 'reports', n);
END
$$;
