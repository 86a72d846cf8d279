-- web_auth_event_gone.sql
-- Deleted tokens, sessions or accounts append one auth event per statement.
CREATE OR REPLACE FUNCTION web_auth_event_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM gone) AND EXISTS (SELECT 1 FROM web_listeners) THEN
        INSERT INTO web_events (body) VALUES ('{"event" : "auth"}');
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER accounts_auth_gone AFTER DELETE ON accounts
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION web_auth_event_gone();

CREATE OR REPLACE TRIGGER api_tokens_auth_gone AFTER DELETE ON api_tokens
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION web_auth_event_gone();

CREATE OR REPLACE TRIGGER web_sessions_auth_gone AFTER DELETE ON web_sessions
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION web_auth_event_gone();
