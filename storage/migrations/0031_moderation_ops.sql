-- 0031_moderation_ops.sql - moderation's operations beside intake: rules reloads asked
-- for through the API and what each bot process answered, and each report's text as it
-- is displayed (neutralised) with the links found in it.
--
-- Why a table and not a signal: the web process and the bot run apart (often on other
-- hosts), so a moderator's "reload the rules" can reach the bot only through the
-- database. A request is a row (the bot's rules thread LISTENs on tipline_mod_rules and
-- reads the newest request when told); each bot process answers with a row of
-- mod_rules_loads, as it also does for its load at start and on SIGHUP, so the API,
-- the console and `tipline mod rules` read the rules in force (when loaded, how many)
-- and the last refusal (with its line and column) without asking the bot.
CREATE TABLE mod_rules_reloads (
    id bigserial,
    requested_by text NOT NULL,
    requested_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT mod_rules_reloads_pkey PRIMARY KEY (id)
);

-- One row per load attempt of one bot process (process: host:pid). reload_id: the
-- newest request the attempt answered (NULL: at start or on SIGHUP). rules and
-- loaded_at describe the set in force after the attempt: a refused file leaves the
-- old set, so they keep its values while ok is false and error says where.
CREATE TABLE mod_rules_loads (
    id bigserial,
    process text NOT NULL,
    reload_id bigint,
    at timestamp with time zone DEFAULT now() NOT NULL,
    ok boolean NOT NULL,
    file text,
    rules integer NOT NULL,
    loaded_at timestamp with time zone,
    error text,
    error_line integer,
    error_column integer,
    CONSTRAINT mod_rules_loads_pkey PRIMARY KEY (id),
    CONSTRAINT mod_rules_loads_reload_fkey FOREIGN KEY (reload_id)
        REFERENCES mod_rules_reloads(id) ON DELETE CASCADE
);
CREATE INDEX mod_rules_loads_reload ON mod_rules_loads USING btree (reload_id)
    WHERE (reload_id IS NOT NULL);
CREATE INDEX mod_rules_loads_process ON mod_rules_loads USING btree (process, id DESC);

-- The text kept raw (reports.text) is evidence; what moderators and analysts read is
-- text_display, the raw text with control characters and bidi overrides neutralised
-- (NULL when there was nothing to neutralise: the raw text displays as it is), and
-- links, the URLs, t.me links and @channel mentions found in it (NULL: none).
ALTER TABLE reports
    ADD COLUMN text_display text,
    ADD COLUMN links text[];
