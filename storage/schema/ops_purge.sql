-- ops_purge.sql
-- Retention in one transaction, one row per kind of data with what went: processed raw
-- updates after inbox_days; the raw chat ids of chats not seen for chat_days, with
-- their drafts and finished outbox rows of that age; expired drafts; live events older
-- than 10 minutes and the registrations of web servers whose sessions are gone; the
-- photos of reports rejected more than photo_days ago. A retention of 0 or less keeps
-- that kind forever. With an actor (tipline purge), an audit row records the counts.
-- A dry run is this in a transaction that is rolled back (storage/store_ops.c).
CREATE OR REPLACE FUNCTION ops_purge(p_chat_days bigint, p_inbox_days bigint,
                                     p_photo_days bigint, p_actor text)
RETURNS TABLE (kind text, n bigint) LANGUAGE plpgsql AS $$
DECLARE
    v jsonb;
BEGIN
    WITH i AS (DELETE FROM inbox WHERE p_inbox_days > 0 AND processed_at IS NOT NULL
                 AND processed_at < now() - p_inbox_days * interval '1 day' RETURNING 1),
         c AS (DELETE FROM chats WHERE p_chat_days > 0
                 AND last_seen < now() - p_chat_days * interval '1 day' RETURNING chat_id),
         o AS (DELETE FROM outbox WHERE p_chat_days > 0 AND state IN ('sent', 'failed')
                 AND created_at < now() - p_chat_days * interval '1 day' RETURNING 1),
         d AS (DELETE FROM drafts WHERE expires_at < now()
                 OR chat_id IN (SELECT chat_id FROM c) RETURNING 1),
         -- a web server that died unregistered: the triggers stop writing live events
         -- for it, and those nobody read go (web servers purge as they read; this is for
         -- when none runs)
         l AS (DELETE FROM web_listeners WHERE pid NOT IN
                 (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)),
         e AS (DELETE FROM web_events WHERE at < now() - interval '10 minutes' RETURNING 1),
         p AS (DELETE FROM media m USING reports r WHERE p_photo_days > 0
                 AND r.id = m.report_id AND r.status = 'rejected'
                 AND r.decided_at < now() - p_photo_days * interval '1 day' RETURNING 1)
    SELECT jsonb_build_object('inbox', (SELECT count(*) FROM i),
                              'chats', (SELECT count(*) FROM c),
                              'outbox', (SELECT count(*) FROM o),
                              'drafts', (SELECT count(*) FROM d),
                              'events', (SELECT count(*) FROM e),
                              'photos', (SELECT count(*) FROM p))
      INTO v;
    IF p_actor IS NOT NULL THEN
        INSERT INTO audit_log (actor, action, object, after)
        VALUES (p_actor, 'purge', 'retention',
                v || jsonb_build_object('chat_retention_days', p_chat_days,
                                        'inbox_retention_days', p_inbox_days,
                                        'rejected_photo_retention_days', p_photo_days));
    END IF;
    RETURN QUERY SELECT k, (v ->> k)::bigint
        FROM unnest(ARRAY['inbox', 'chats', 'outbox', 'drafts', 'events', 'photos']) k;
END
$$;
