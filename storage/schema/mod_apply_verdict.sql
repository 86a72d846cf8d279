-- mod_apply_verdict.sql
-- The moderation verdict of a new report, written by store_apply_plan in the report's
-- own transaction (storage/store_plan.c encodes v; moderation/mod.h decides it):
--   v = {"v": verdict ("accept" writes no verdict row), "r": "reason,reason",
--        "c": 1 when held as a campaign, "ci": the campaign to join (0: one of the
--        members' campaigns, else a new one), "cm": [mod_recent ids of the similar
--        messages], "ck": "text" | "photo", "cs": a sample of the text,
--        "sig": {"tl", "hp", "ph", "mh", "bd"} the report's signature for the window,
--        "ws": the window in seconds, "rs": the reporter's rate state after this
--        message, "bn": true when this report carries the open-ban notice,
--        "rh": ["reason", ...] the rules that matched,
--        "wt": when the window was read (epoch s), "sim": the least similarity of a
--        campaign's texts, "ml": the shortest text that may match, "pd": the most bits
--        a campaign's photos' perceptual hashes may differ by}
-- A campaign takes its members' reports out of the queue (new and unclaimed become
-- 'held'), under one advisory lock so two workers that see the same flood at once make
-- one campaign: the second finds the first's campaign on the members. Members held
-- after they joined incidents leave them (mod_leave_incidents.sql). Two workers that
-- decided at once did not see each other's message: under the same lock a campaign also
-- takes the similar messages (texts or photos) written since its window was read, and a
-- message accepted meanwhile joins a held campaign that formed since it read its window.
CREATE OR REPLACE FUNCTION mod_apply_verdict(rid bigint, rep text, v jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    cid bigint;
    members bigint[];
    verdict text := COALESCE(v->>'v', 'accept');
    reasons text[] := COALESCE(string_to_array(v->>'r', ','), '{}');
    mh bytea := decode(v->'sig'->>'mh', 'hex');
    since timestamptz := to_timestamp(COALESCE((v->>'wt')::float8, 0)) - interval '2 seconds';
    textual boolean := v->'sig'->>'mh' IS NOT NULL
        AND COALESCE((v->'sig'->>'tl')::int, 0) >= COALESCE((v->>'ml')::int, 1);
    ph bigint := (v->'sig'->>'ph')::bigint;
    pd int := COALESCE((v->>'pd')::int, -1);
    photo boolean := COALESCE((v->'sig'->>'hp')::boolean, false) AND ph IS NOT NULL AND pd >= 0;
BEGIN
    IF v ? 'rs' THEN
        INSERT INTO reporter_rate AS x (reporter, state) VALUES (rep, v->'rs')
        ON CONFLICT (reporter) DO UPDATE SET state = excluded.state, updated_at = now();
    END IF;
    IF v ? 'rh' THEN
        INSERT INTO mod_rule_hits AS h (reason, hits)
        SELECT e, count(*) FROM jsonb_array_elements_text(v->'rh') e GROUP BY e
        ON CONFLICT (reason) DO UPDATE SET hits = h.hits + excluded.hits, last_at = now();
    END IF;
    IF COALESCE((v->>'c')::int, 0) = 1 THEN
        PERFORM pg_advisory_xact_lock(hashtext('tipline.mod_campaign'));
        members := ARRAY(SELECT jsonb_array_elements_text(COALESCE(v->'cm', '[]'))::bigint);
        cid := NULLIF((v->>'ci')::bigint, 0);
        IF cid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM mod_campaigns c
                                           WHERE c.id = cid AND c.status = 'held') THEN
            cid := NULL;
        END IF;
        IF cid IS NULL THEN
            SELECT m.campaign_id INTO cid FROM mod_recent m JOIN mod_campaigns c
                ON c.id = m.campaign_id AND c.status = 'held'
            WHERE m.id = ANY (members) LIMIT 1;
        END IF;
        IF cid IS NULL THEN
            INSERT INTO mod_campaigns (kind, sample) VALUES (COALESCE(v->>'ck', 'text'),
                left(v->>'cs', 500))
            RETURNING id INTO cid;
        ELSE
            UPDATE mod_campaigns SET last_at = now() WHERE id = cid;
        END IF;
        IF textual THEN
            members := members || ARRAY(
                SELECT m.id FROM mod_recent m
                WHERE m.campaign_id IS NULL AND m.at >= since
                  AND m.text_len >= COALESCE((v->>'ml')::int, 1)
                  AND mod_minhash_sim(m.minhash, mh) >= COALESCE((v->>'sim')::float8, 1));
        END IF;
        IF photo THEN
            members := members || ARRAY(
                SELECT m.id FROM mod_recent m
                WHERE m.campaign_id IS NULL AND m.at >= since AND m.has_photo
                  AND bit_count((m.phash # ph)::bit(64)) <= pd);
        END IF;
        UPDATE mod_recent SET campaign_id = cid WHERE id = ANY (members) AND campaign_id IS NULL;
        WITH moved AS (UPDATE reports r SET status = 'held'
                       FROM mod_recent m
                       WHERE m.id = ANY (members) AND r.id = m.report_id AND r.status = 'new'
                         AND (r.lease_until IS NULL OR r.lease_until <= now())
                       RETURNING r.id)
        INSERT INTO mod_verdicts AS d (report_id, verdict, reasons, campaign_id)
        SELECT moved.id, 'hold', '{campaign}', cid FROM moved
        ON CONFLICT (report_id) DO UPDATE SET verdict = 'hold', campaign_id = excluded.campaign_id,
            reasons = d.reasons || '{campaign}'::text[];
        PERFORM mod_leave_incidents(ARRAY(SELECT m.report_id FROM mod_recent m
                                          WHERE m.id = ANY (members)));
    END IF;
    -- (every new reporter's message kept in the window takes the lock, and holds it until
    -- its window row commits: a check for a campaign made before the lock could miss one
    -- forming at the same moment, whose member search then misses this uncommitted row)
    IF verdict IN ('accept', 'flag') AND (textual OR photo) AND v ? 'wt' THEN
        PERFORM pg_advisory_xact_lock(hashtext('tipline.mod_campaign'));
        SELECT m.campaign_id INTO cid FROM mod_recent m JOIN mod_campaigns c
            ON c.id = m.campaign_id AND c.status = 'held'
        WHERE m.at >= since
          AND ((textual AND mod_minhash_sim(m.minhash, mh) >= COALESCE((v->>'sim')::float8, 1))
               OR (photo AND m.has_photo AND bit_count((m.phash # ph)::bit(64)) <= pd))
        LIMIT 1;
        IF cid IS NOT NULL THEN
            UPDATE reports SET status = 'held' WHERE id = rid;
            verdict := 'hold';
            reasons := reasons || '{campaign}'::text[];
        END IF;
    END IF;
    IF verdict <> 'accept' THEN
        INSERT INTO mod_verdicts (report_id, verdict, reasons, campaign_id)
        VALUES (rid, verdict, reasons, cid);
    END IF;
    IF v ? 'sig' THEN
        DELETE FROM mod_recent
        WHERE at < now() - make_interval(secs => COALESCE((v->>'ws')::float8, 3600));
        INSERT INTO mod_recent (reporter, report_id, at, text_len, has_photo, phash, minhash,
            bands, campaign_id)
        VALUES (rep, rid, clock_timestamp(), COALESCE((v->'sig'->>'tl')::int, 0),
            COALESCE((v->'sig'->>'hp')::boolean, false), (v->'sig'->>'ph')::bigint,
            decode(v->'sig'->>'mh', 'hex'),
            ARRAY(SELECT jsonb_array_elements_text(v->'sig'->'bd')::bigint), cid);
    END IF;
    IF COALESCE((v->>'bn')::boolean, false) THEN
        UPDATE reporters SET ban_notice_at = now() WHERE pseudonym = rep;
    END IF;
END
$$;
