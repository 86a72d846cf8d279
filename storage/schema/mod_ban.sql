-- mod_ban.sql
-- A moderator bans (mode 'ban': the reporter is told once, at their next report),
-- shadow-bans ('shadow': no signal at all) or unbans ('unban': both lifted; nothing held
-- is released) the one reporter whose pseudonym starts with p_prefix (at least 6
-- characters). With p_sweep a ban also takes the reporter's open reports (new, needs
-- info) out of the queue: held with a verdict, for the moderators. Audited with the
-- standing before and after and how many reports were swept. P0002: no such reporter;
-- TL409: the prefix names several; 22023: a bad mode or prefix.
CREATE OR REPLACE FUNCTION mod_ban(p_actor text, p_prefix text, p_mode text, p_reason text,
                                   p_sweep boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    rp reporters;
    n int;
    swept int := 0;
    before jsonb;
BEGIN
    IF p_mode IS NULL OR p_mode NOT IN ('ban', 'shadow', 'unban') THEN
        RAISE EXCEPTION 'mode must be ban, shadow or unban' USING ERRCODE = '22023';
    END IF;
    IF p_prefix IS NULL OR p_prefix !~ '^[0-9a-f]{6,64}$' THEN
        RAISE EXCEPTION 'a pseudonym or its first 6 or more hex characters' USING ERRCODE = '22023';
    END IF;
    SELECT count(*) INTO n FROM (SELECT 1 FROM reporters
                                 WHERE pseudonym LIKE p_prefix || '%' LIMIT 2) x;
    IF n = 0 THEN
        RAISE EXCEPTION 'no reporter %', p_prefix USING ERRCODE = 'P0002';
    ELSIF n > 1 THEN
        RAISE EXCEPTION '% names more than one reporter', p_prefix USING ERRCODE = 'TL409';
    END IF;
    SELECT * INTO rp FROM reporters WHERE pseudonym LIKE p_prefix || '%' FOR UPDATE;
    before := jsonb_build_object('banned', rp.banned, 'shadow_banned', rp.shadow_banned,
                                 'reason', rp.ban_reason);
    UPDATE reporters SET banned = p_mode = 'ban', shadow_banned = p_mode = 'shadow',
        banned_at = CASE WHEN p_mode <> 'unban' THEN now() END,
        ban_reason = CASE WHEN p_mode <> 'unban' THEN p_reason END,
        ban_notice_at = CASE WHEN p_mode = 'ban' THEN ban_notice_at END
    WHERE pseudonym = rp.pseudonym RETURNING * INTO rp;
    IF p_sweep AND p_mode <> 'unban' THEN
        WITH moved AS (UPDATE reports r SET status = 'held', claimed_by = NULL, lease_until = NULL
                       WHERE r.reporter = rp.pseudonym AND r.status IN ('new', 'needs_info')
                       RETURNING r.id)
        INSERT INTO mod_verdicts AS d (report_id, verdict, reasons)
        SELECT moved.id, CASE p_mode WHEN 'ban' THEN 'banned' ELSE 'shadow_banned' END,
            '{sweep}' FROM moved
        ON CONFLICT (report_id) DO UPDATE SET verdict = excluded.verdict,
            reasons = d.reasons || '{sweep}'::text[], resolution = NULL, resolved_by = NULL,
            resolved_at = NULL;
        GET DIAGNOSTICS swept = ROW_COUNT;
        PERFORM mod_leave_incidents(ARRAY(SELECT r.id FROM reports r
                                          WHERE r.reporter = rp.pseudonym AND r.status = 'held'
                                            AND r.incident_id IS NOT NULL));
    END IF;
    INSERT INTO audit_log (actor, action, object, before, after)
    VALUES (p_actor, CASE p_mode WHEN 'ban' THEN 'ban' WHEN 'shadow' THEN 'shadow_ban'
                                 ELSE 'unban' END,
            'reporter:' || left(rp.pseudonym, 12), before,
            jsonb_build_object('banned', rp.banned, 'shadow_banned', rp.shadow_banned,
                               'reason', rp.ban_reason, 'swept', swept));
    RETURN jsonb_build_object('reporter', left(rp.pseudonym, 16), 'banned', rp.banned,
                              'shadow_banned', rp.shadow_banned, 'reason', rp.ban_reason,
                              'reputation', rp.reputation, 'swept', swept);
END
$$;
