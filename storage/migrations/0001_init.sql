-- 0001_init.sql - the tipline schema: intake (bot_state, inbox), the reply path
-- (chats, outbox, drafts), reports and their media, incidents, accounts and the
-- audit log. Applied by `tipline migrate` in one transaction; never edited once
-- released: schema changes are new numbered files.

CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The getUpdates offset, written in the same transaction as each inbox batch.
-- Exactly one row (the boolean key can only be true).
CREATE TABLE bot_state (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    update_offset bigint NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
INSERT INTO bot_state (id) VALUES (true);

-- Raw updates as Telegram sent them: the only copy. chat_key orders the work
-- (0 = an update without a chat). Purged by retention once processed.
CREATE TABLE inbox (
    update_id    bigint PRIMARY KEY,
    chat_key     bigint NOT NULL DEFAULT 0,
    payload      jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz
);
-- Workers: a chat's pending updates in order; and all pending updates in order,
-- from which workers pick the chats whose turn it is.
CREATE INDEX inbox_pending_chat ON inbox (chat_key, update_id) WHERE processed_at IS NULL;
CREATE INDEX inbox_pending ON inbox (update_id) WHERE processed_at IS NULL;
-- A worker's claim on a chat, in one round trip: takes the SESSION advisory lock
-- (bigint key space: the chat key) of the chat whose oldest pending update is
-- oldest, among chats not in exclude (those the caller holds) and not held by
-- another session, and returns its key; NULL when there is none. Session-level,
-- because the worker keeps the chat across the several transactions that handle
-- its updates in order (see storage/store_intake.c). The lock is tried one chat at
-- a time in a loop: in a WHERE clause PostgreSQL could take locks on rows it then
-- throws away.
CREATE FUNCTION inbox_claim_chat(exclude bigint[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    tried bigint[] := COALESCE(exclude, '{}');
    k bigint;
    seen boolean;
BEGIN
    LOOP
        seen := false;
        FOR k IN
            SELECT p.chat_key
            FROM (SELECT i.chat_key, i.update_id FROM inbox i
                  WHERE i.processed_at IS NULL AND i.chat_key <> ALL (tried)
                  ORDER BY i.update_id LIMIT 16) p
            GROUP BY p.chat_key ORDER BY min(p.update_id)
        LOOP
            seen := true;
            IF pg_try_advisory_lock(k) THEN
                RETURN k;
            END IF;
            tried := tried || k;
        END LOOP;
        IF NOT seen THEN
            RETURN NULL;
        END IF;
    END LOOP;
END
$$;

-- Retention: processed rows by age.
CREATE INDEX inbox_processed_at ON inbox (processed_at) WHERE processed_at IS NOT NULL;

-- What analysts may see of a person: a keyed pseudonym, never a Telegram id.
CREATE TABLE reporters (
    pseudonym   text PRIMARY KEY,
    reputation  integer NOT NULL DEFAULT 0,
    banned      boolean NOT NULL DEFAULT false,
    banned_at   timestamptz,
    ban_reason  text,
    n_reports   integer NOT NULL DEFAULT 0,
    n_confirmed integer NOT NULL DEFAULT 0,
    n_rejected  integer NOT NULL DEFAULT 0,
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now()
);

-- The reply path: the one table that maps the raw chat id to a pseudonym.
-- Nothing an analyst or exporter reads joins to it. Purged by retention.
CREATE TABLE chats (
    chat_id      bigint PRIMARY KEY,
    reporter     text REFERENCES reporters (pseudonym) ON DELETE SET NULL,
    lang         text,
    blocked      boolean NOT NULL DEFAULT false,
    first_seen   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now(),
    last_sent_at timestamptz
);
CREATE INDEX chats_last_seen ON chats (last_seen);
CREATE INDEX chats_reporter ON chats (reporter);

-- Dedup folds corroborating reports into an incident.
CREATE TABLE incidents (
    id              bigserial PRIMARY KEY,
    centroid        geography(Point, 4326),
    category        text,
    first_seen      timestamptz NOT NULL DEFAULT now(),
    last_seen       timestamptz NOT NULL DEFAULT now(),
    corroborations  integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incidents_centroid ON incidents USING gist (centroid);
CREATE INDEX incidents_last_seen ON incidents (last_seen);

CREATE TABLE reports (
    id             bigserial PRIMARY KEY,
    public_ref     text NOT NULL UNIQUE,
    reporter       text NOT NULL REFERENCES reporters (pseudonym),
    category       text,
    text           text,
    point          geography(Point, 4326),
    point_source   text CHECK (point_source IN
                       ('telegram_location', 'venue', 'live_location', 'photo_exif', 'text')),
    accuracy_m     double precision CHECK (accuracy_m IS NULL OR accuracy_m >= 0),
    bearing        double precision CHECK (bearing IS NULL OR (bearing >= 0 AND bearing < 360)),
    observed_at    timestamptz,
    sent_at        timestamptz,
    received_at    timestamptz NOT NULL DEFAULT now(),
    status         text NOT NULL DEFAULT 'new' CHECK (status IN
                       ('new', 'confirmed', 'rejected', 'duplicate', 'needs_info', 'escalated')),
    priority       integer NOT NULL DEFAULT 0,
    claimed_by     text,
    lease_until    timestamptz,
    decided_by     text,
    decided_at     timestamptz,
    forwarded      boolean NOT NULL DEFAULT false,
    media_group_id text,
    flags          text[] NOT NULL DEFAULT '{}',
    incident_id    bigint REFERENCES incidents (id) ON DELETE SET NULL,
    CHECK (point IS NULL OR point_source IS NOT NULL)
);
-- The triage queue: open reports by priority, oldest first.
CREATE INDEX reports_queue ON reports (priority DESC, received_at) WHERE status = 'new';
CREATE INDEX reports_point ON reports USING gist (point);
CREATE INDEX reports_received_at ON reports (received_at);
CREATE INDEX reports_reporter ON reports (reporter);
CREATE INDEX reports_incident ON reports (incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX reports_media_group ON reports (media_group_id) WHERE media_group_id IS NOT NULL;
CREATE INDEX reports_text_trgm ON reports USING gin (text gin_trgm_ops);

-- Sanitized media only: the original bytes with metadata never reach the database.
CREATE TABLE media (
    id                bigserial PRIMARY KEY,
    report_id         bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    kind              text NOT NULL,
    sha256            text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    tg_file_id        text,
    tg_file_unique_id text,
    phash             bigint,
    mime              text,
    size              bigint NOT NULL CHECK (size >= 0),
    width             integer,
    height            integer,
    bytes             bytea,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_report ON media (report_id);
CREATE INDEX media_sha256 ON media (sha256);
CREATE INDEX media_file_unique ON media (tg_file_unique_id);
CREATE INDEX media_phash ON media (phash) WHERE phash IS NOT NULL;

-- The sender's queue (transactional outbox): at-least-once delivery. A claimed
-- row is 'sending' until claimed_until; a crashed sender's rows come back.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    chat_id       bigint NOT NULL,
    method        text NOT NULL,
    params        jsonb NOT NULL,
    not_before    timestamptz NOT NULL DEFAULT now(),
    attempts      integer NOT NULL DEFAULT 0,
    state         text NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    claimed_until timestamptz,
    last_error    text,
    tg_message_id bigint,
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz
);
CREATE INDEX outbox_due ON outbox (not_before) WHERE state IN ('pending', 'sending');
-- Per-chat head of line: a chat's oldest unsent message goes first.
CREATE INDEX outbox_chat_active ON outbox (chat_id, id) WHERE state IN ('pending', 'sending');
CREATE INDEX outbox_done ON outbox (created_at) WHERE state IN ('sent', 'failed');

-- Per-chat conversation state of an unsent report; survives restarts, expires.
CREATE TABLE drafts (
    chat_id    bigint PRIMARY KEY,
    state      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX drafts_expires_at ON drafts (expires_at);

CREATE TABLE accounts (
    name       text PRIMARY KEY,
    role       text NOT NULL CHECK (role IN ('analyst', 'moderator', 'exporter', 'admin')),
    disabled   boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Only the SHA-256 of a token is stored; the token itself is shown once.
CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    account      text NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    token_sha256 text NOT NULL UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    label        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    expires_at   timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_account ON api_tokens (account);

-- Who did what to which object, with the state before and after.
CREATE TABLE audit_log (
    id     bigserial PRIMARY KEY,
    at     timestamptz NOT NULL DEFAULT now(),
    actor  text NOT NULL,
    action text NOT NULL,
    object text NOT NULL,
    before jsonb,
    after  jsonb
);
CREATE INDEX audit_log_object ON audit_log (object, at);
CREATE INDEX audit_log_at ON audit_log (at);

-- audit_log is append-only: this trigger raises on every UPDATE and DELETE (and a
-- statement trigger on TRUNCATE), whoever the role, so not even the application's
-- own database user can rewrite history. Only a superuser who drops the trigger can.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
