-- 0015: what may change a credential's answer is announced to the web servers (issue 6).
--
-- Each web server keeps a successful check of a bearer token or a console session for a
-- few seconds (web/creds.c, web_auth_cache_seconds) instead of asking PostgreSQL on every
-- request: that round trip cost about 13 % of the CPU of an analyst's claim -> decide pair.
-- Whatever could turn a yes into a no appends an "auth" event to web_events (0013), which
-- every web server reads within 100 ms and answers by dropping all it keeps: an account
-- changed or removed (disabled, its role), a token changed otherwise than by the record
-- of its use moving forward (revoked, expired, moved, or its last use set back), a
-- session likewise (its last use set back, which is how an idle session is ended by
-- hand), and tokens or sessions deleted (logout, a disabled account's sessions, the
-- sweep). New accounts, tokens and sessions change no kept answer. As 0013's events:
-- only while a web server is registered.
CREATE FUNCTION web_auth_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM web_listeners) THEN
        INSERT INTO web_events (body) VALUES ('{"event" : "auth"}');
    END IF;
    RETURN NULL;
END
$$;

-- Statement-level, for deletions: one event however many rows went, none when none did
-- (the sweep of expired sessions runs at every login).
CREATE FUNCTION web_auth_event_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM gone) AND EXISTS (SELECT 1 FROM web_listeners) THEN
        INSERT INTO web_events (body) VALUES ('{"event" : "auth"}');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER accounts_auth_changed AFTER UPDATE ON accounts
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION web_auth_event();
CREATE TRIGGER accounts_auth_gone AFTER DELETE ON accounts
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION web_auth_event_gone();

CREATE TRIGGER api_tokens_auth_changed AFTER UPDATE ON api_tokens
    FOR EACH ROW WHEN ((OLD.account, OLD.token_sha256, OLD.expires_at, OLD.revoked_at)
                       IS DISTINCT FROM (NEW.account, NEW.token_sha256, NEW.expires_at,
                                         NEW.revoked_at)
                       OR NEW.last_used_at < OLD.last_used_at
                       OR (NEW.last_used_at IS NULL AND OLD.last_used_at IS NOT NULL))
    EXECUTE FUNCTION web_auth_event();
CREATE TRIGGER api_tokens_auth_gone AFTER DELETE ON api_tokens
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION web_auth_event_gone();

CREATE TRIGGER web_sessions_auth_changed AFTER UPDATE ON web_sessions
    FOR EACH ROW WHEN ((OLD.sid_sha256, OLD.account, OLD.csrf, OLD.created_at)
                       IS DISTINCT FROM (NEW.sid_sha256, NEW.account, NEW.csrf, NEW.created_at)
                       OR NEW.last_seen < OLD.last_seen)
    EXECUTE FUNCTION web_auth_event();
CREATE TRIGGER web_sessions_auth_gone AFTER DELETE ON web_sessions
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION web_auth_event_gone();

-- TRUNCATE, by hand: everything kept goes.
CREATE TRIGGER accounts_auth_truncated AFTER TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION web_auth_event();
CREATE TRIGGER api_tokens_auth_truncated AFTER TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION web_auth_event();
CREATE TRIGGER web_sessions_auth_truncated AFTER TRUNCATE ON web_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION web_auth_event();
