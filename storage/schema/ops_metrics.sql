-- ops_metrics.sql
-- What /metrics and /readyz read from the database, in one round trip: one row per
-- Prometheus sample (name, labels as the text between the braces, value). Gauges only:
-- retention deletes inbox and outbox rows, so the database holds no monotonic counts.
CREATE OR REPLACE FUNCTION ops_metrics() RETURNS TABLE (name text, labels text, value double precision)
LANGUAGE sql STABLE AS $$
    SELECT 'tipline_inbox_updates', 'state="pending"', count(*)::float8
        FROM inbox WHERE processed_at IS NULL
    UNION ALL
    SELECT 'tipline_inbox_updates', 'state="processed"', count(*)::float8
        FROM inbox WHERE processed_at IS NOT NULL
    UNION ALL
    SELECT 'tipline_inbox_lag_seconds', '',
        coalesce(extract(epoch FROM now() - min(received_at)), 0)::float8
        FROM inbox WHERE processed_at IS NULL
    UNION ALL
    SELECT 'tipline_update_offset', '', coalesce(max(update_offset), 0)::float8 FROM bot_state
    UNION ALL
    SELECT 'tipline_outbox_messages', format('state="%s"', s.state), count(o.id)::float8
        FROM (VALUES ('pending'), ('sending'), ('sent'), ('failed')) s(state)
        LEFT JOIN outbox o ON o.state = s.state GROUP BY s.state
    UNION ALL
    -- every failed try of a message still kept (each one retried, or its last)
    SELECT 'tipline_outbox_failed_attempts', '', coalesce(sum(attempts), 0)::float8 FROM outbox
    UNION ALL
    -- messages waiting because Telegram answered 429 to their last try
    SELECT 'tipline_outbox_rate_limited', '', count(*)::float8 FROM outbox
        WHERE state = 'pending' AND last_error ILIKE '%too many requests%'
    UNION ALL
    SELECT 'tipline_outbox_lag_seconds', '',
        coalesce(extract(epoch FROM now() - min(not_before)), 0)::float8
        FROM outbox WHERE state IN ('pending', 'sending') AND not_before <= now()
    UNION ALL
    SELECT 'tipline_reports', format('status="%s"', status), count(*)::float8
        FROM reports GROUP BY status
    UNION ALL
    SELECT 'tipline_media_stored', '', count(*)::float8 FROM media
    UNION ALL
    -- moderation's verdicts on the reports kept (an accepted report has none), and how
    -- many of each still wait for a moderator
    SELECT 'tipline_moderation_verdicts', format('verdict="%s"', k.v), count(d.report_id)::float8
        FROM (VALUES ('flag'), ('hold'), ('drop'), ('refuse'), ('rate_limited'), ('banned'),
                     ('shadow_banned')) k(v)
        LEFT JOIN mod_verdicts d ON d.verdict = k.v GROUP BY k.v
    UNION ALL
    SELECT 'tipline_moderation_open', '', count(*)::float8 FROM mod_verdicts
        WHERE resolution IS NULL
    UNION ALL
    SELECT 'tipline_moderation_campaigns_held', '', count(*)::float8 FROM mod_campaigns
        WHERE status = 'held'
    UNION ALL
    -- the poller's advisory lock ('tipl', 1): held by a live process or not
    SELECT 'tipline_poller_held', '', count(*)::float8 FROM pg_locks
        WHERE locktype = 'advisory' AND classid = 1953067116 AND objid = 1 AND objsubid = 2
          AND granted AND database = (SELECT oid FROM pg_database
                                      WHERE datname = current_database())
$$;
