-- web_auth_event.sql
-- Any change that could undo a kept credential check (an account changed, a token
-- or session changed other than its last use moving forward, a table truncated)
-- appends an auth event that every web server reads.
CREATE OR REPLACE FUNCTION web_auth_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM web_listeners) THEN
        INSERT INTO web_events (body) VALUES ('{"event" : "auth"}');
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER accounts_auth_changed AFTER UPDATE ON accounts
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION web_auth_event();

CREATE OR REPLACE TRIGGER accounts_auth_truncated AFTER TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION web_auth_event();

CREATE OR REPLACE TRIGGER api_tokens_auth_changed AFTER UPDATE ON api_tokens
    FOR EACH ROW WHEN ((OLD.account, OLD.token_sha256, OLD.expires_at, OLD.revoked_at)
                       IS DISTINCT FROM (NEW.account, NEW.token_sha256, NEW.expires_at,
                                         NEW.revoked_at)
                       OR NEW.last_used_at < OLD.last_used_at
                       OR (NEW.last_used_at IS NULL AND OLD.last_used_at IS NOT NULL))
    EXECUTE FUNCTION web_auth_event();

CREATE OR REPLACE TRIGGER api_tokens_auth_truncated AFTER TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION web_auth_event();

CREATE OR REPLACE TRIGGER web_sessions_auth_changed AFTER UPDATE ON web_sessions
    FOR EACH ROW WHEN ((OLD.sid_sha256, OLD.account, OLD.csrf, OLD.created_at)
                       IS DISTINCT FROM (NEW.sid_sha256, NEW.account, NEW.csrf, NEW.created_at)
                       OR NEW.last_seen < OLD.last_seen)
    EXECUTE FUNCTION web_auth_event();

CREATE OR REPLACE TRIGGER web_sessions_auth_truncated AFTER TRUNCATE ON web_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION web_auth_event();
