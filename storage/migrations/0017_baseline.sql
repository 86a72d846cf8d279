-- 0017_baseline.sql - the tables, indexes and seed data of tipline as migrations
-- 0001-0017 left them, written as one file.
--
-- Why a baseline: seventeen files replayed in order made every new database pay for
-- the history, and a reader had to replay them in their head to learn what a table
-- holds. A new database starts here; a database an earlier tipline migrated to 0017
-- adopts this file as applied (store_migrate checks that 0001-0017 were all recorded,
-- then records the baseline in their place) and keeps every row. The upgrade test
-- (tests/test_migrate_upgrade.sh) builds a database from the old files, kept in
-- tests/fixtures/migrations-0017/, and checks that its schema then equals a fresh one.
--
-- Functions, triggers and views are not here: each lives in its own file under
-- storage/schema/, as its current definition, (re)applied by `tipline migrate` after
-- the numbered migrations whenever its content changes. Numbered migrations hold
-- tables, indexes and data moves only, call no function of storage/schema/, and are
-- never edited once applied (their SHA-256 is recorded and checked).

CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS postgis;

-- ---- Intake: the getUpdates offset and the raw updates (contract 1)

CREATE TABLE bot_state (
    id boolean DEFAULT true NOT NULL,
    update_offset bigint DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT bot_state_id_check CHECK (id),
    CONSTRAINT bot_state_pkey PRIMARY KEY (id)
);

CREATE TABLE inbox (
    update_id bigint NOT NULL,
    chat_key bigint DEFAULT 0 NOT NULL,
    payload jsonb NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    processed_at timestamp with time zone,
    CONSTRAINT inbox_pkey PRIMARY KEY (update_id)
);

CREATE INDEX inbox_pending ON inbox USING btree (update_id) WHERE (processed_at IS NULL);
CREATE INDEX inbox_pending_chat ON inbox USING btree (chat_key, update_id) WHERE (processed_at IS NULL);
CREATE INDEX inbox_processed_at ON inbox USING btree (processed_at) WHERE (processed_at IS NOT NULL);


-- ---- Reporters and the reply path: a keyed pseudonym; the raw chat id only in chats

CREATE TABLE reporters (
    pseudonym text NOT NULL,
    reputation integer DEFAULT 0 NOT NULL,
    banned boolean DEFAULT false NOT NULL,
    banned_at timestamp with time zone,
    ban_reason text,
    n_reports integer DEFAULT 0 NOT NULL,
    n_confirmed integer DEFAULT 0 NOT NULL,
    n_rejected integer DEFAULT 0 NOT NULL,
    first_seen timestamp with time zone DEFAULT now() NOT NULL,
    last_seen timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT reporters_pkey PRIMARY KEY (pseudonym)
);

CREATE TABLE chats (
    chat_id bigint NOT NULL,
    reporter text,
    lang text,
    blocked boolean DEFAULT false NOT NULL,
    first_seen timestamp with time zone DEFAULT now() NOT NULL,
    last_seen timestamp with time zone DEFAULT now() NOT NULL,
    last_sent_at timestamp with time zone,
    CONSTRAINT chats_pkey PRIMARY KEY (chat_id),
    CONSTRAINT chats_reporter_fkey FOREIGN KEY (reporter) REFERENCES reporters(pseudonym) ON DELETE SET NULL
);

CREATE INDEX chats_last_seen ON chats USING btree (last_seen);
CREATE INDEX chats_reporter ON chats USING btree (reporter);


-- ---- Reports, their media and addenda, incidents

CREATE TABLE incidents (
    id bigserial,
    centroid geography(Point,4326),
    category text,
    first_seen timestamp with time zone DEFAULT now() NOT NULL,
    last_seen timestamp with time zone DEFAULT now() NOT NULL,
    corroborations integer DEFAULT 1 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT incidents_pkey PRIMARY KEY (id)
);

CREATE INDEX incidents_centroid ON incidents USING gist (centroid);
CREATE INDEX incidents_last_seen ON incidents USING btree (last_seen);

CREATE TABLE reports (
    id bigserial,
    public_ref text NOT NULL,
    reporter text NOT NULL,
    category text,
    text text,
    point geography(Point,4326),
    point_source text,
    accuracy_m double precision,
    bearing double precision,
    observed_at timestamp with time zone,
    sent_at timestamp with time zone,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    status text DEFAULT 'new'::text NOT NULL,
    priority integer DEFAULT 0 NOT NULL,
    claimed_by text,
    lease_until timestamp with time zone,
    decided_by text,
    decided_at timestamp with time zone,
    forwarded boolean DEFAULT false NOT NULL,
    media_group_id text,
    flags text[] DEFAULT '{}'::text[] NOT NULL,
    incident_id bigint,
    reviewed_notified_at timestamp with time zone,
    corroborations integer DEFAULT 0 NOT NULL,
    queue text DEFAULT 'general'::text NOT NULL,
    note text,
    duplicate_of bigint,
    priority_base integer DEFAULT 0 NOT NULL,
    CONSTRAINT reports_pkey PRIMARY KEY (id),
    CONSTRAINT reports_public_ref_key UNIQUE (public_ref),
    CONSTRAINT reports_duplicate_of_fkey FOREIGN KEY (duplicate_of) REFERENCES reports(id) ON DELETE SET NULL,
    CONSTRAINT reports_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES incidents(id) ON DELETE SET NULL,
    CONSTRAINT reports_reporter_fkey FOREIGN KEY (reporter) REFERENCES reporters(pseudonym)
)
WITH (fillfactor='85');

CREATE INDEX reports_incident ON reports USING btree (incident_id) WHERE (incident_id IS NOT NULL);
CREATE INDEX reports_media_group ON reports USING btree (media_group_id) WHERE (media_group_id IS NOT NULL);
CREATE INDEX reports_point_geom ON reports USING gist (((point)::geometry));
CREATE INDEX reports_point_time ON reports USING gist (point, received_at);
CREATE INDEX reports_queue ON reports USING btree (priority DESC, received_at, id) WHERE (status = 'new'::text);
CREATE INDEX reports_queue_claim ON reports USING btree (queue, priority DESC, received_at, id) WHERE (status = 'new'::text);
CREATE INDEX reports_received_id ON reports USING btree (received_at DESC, id DESC);
CREATE INDEX reports_reporter_recent ON reports USING btree (reporter, received_at DESC, id DESC);
CREATE INDEX reports_review_due ON reports USING btree (decided_at, id) WHERE ((decided_at IS NOT NULL) AND (reviewed_notified_at IS NULL) AND (status = ANY (ARRAY['confirmed'::text, 'rejected'::text, 'duplicate'::text])));
CREATE INDEX reports_status_recent ON reports USING btree (status, received_at DESC, id DESC);

CREATE TABLE media (
    id bigserial,
    report_id bigint NOT NULL,
    kind text NOT NULL,
    sha256 text NOT NULL,
    tg_file_id text,
    tg_file_unique_id text,
    phash bigint,
    mime text,
    size bigint NOT NULL,
    width integer,
    height integer,
    bytes bytea,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    gps geography(Point,4326),
    gps_accuracy_m double precision,
    taken_local timestamp without time zone,
    taken_offset_min integer,
    CONSTRAINT media_gps_accuracy_m_check CHECK (((gps_accuracy_m IS NULL) OR (gps_accuracy_m >= (0)::double precision))),
    CONSTRAINT media_sha256_check CHECK ((sha256 ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT media_size_check CHECK ((size >= 0)),
    CONSTRAINT media_taken_offset_min_check CHECK (((taken_offset_min >= '-1080'::integer) AND (taken_offset_min <= 1080))),
    CONSTRAINT media_pkey PRIMARY KEY (id),
    CONSTRAINT media_report_id_fkey FOREIGN KEY (report_id) REFERENCES reports(id) ON DELETE CASCADE
);

CREATE INDEX media_file_unique ON media USING btree (tg_file_unique_id);
CREATE INDEX media_gps ON media USING gist (gps) WHERE (gps IS NOT NULL);
CREATE INDEX media_phash ON media USING btree (phash) WHERE (phash IS NOT NULL);
CREATE INDEX media_report ON media USING btree (report_id);
CREATE INDEX media_sha256 ON media USING btree (sha256);

CREATE TABLE report_addenda (
    id bigserial,
    report_id bigint NOT NULL,
    kind text DEFAULT 'edit'::text NOT NULL,
    text text NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT report_addenda_kind_check CHECK ((kind = 'edit'::text)),
    CONSTRAINT report_addenda_pkey PRIMARY KEY (id),
    CONSTRAINT report_addenda_report_id_fkey FOREIGN KEY (report_id) REFERENCES reports(id) ON DELETE CASCADE
);

CREATE INDEX report_addenda_report ON report_addenda USING btree (report_id, at);


-- ---- The conversation: drafts, their media, the messages of a draft, notices

CREATE TABLE drafts (
    chat_id bigint NOT NULL,
    state jsonb NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    reminded_at timestamp with time zone,
    CONSTRAINT drafts_pkey PRIMARY KEY (chat_id)
);

CREATE INDEX drafts_expires_at ON drafts USING btree (expires_at);

CREATE TABLE draft_media (
    id bigserial,
    chat_id bigint NOT NULL,
    draft_id bigint NOT NULL,
    kind text NOT NULL,
    tg_file_id text,
    tg_file_unique_id text,
    mime text,
    bytes bytea,
    size bigint NOT NULL,
    width integer,
    height integer,
    phash bigint,
    gps geography(Point,4326),
    gps_accuracy_m double precision,
    taken_local timestamp without time zone,
    taken_offset_min integer,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT draft_media_size_check CHECK ((size >= 0)),
    CONSTRAINT draft_media_pkey PRIMARY KEY (id)
);

CREATE INDEX draft_media_chat ON draft_media USING btree (chat_id, draft_id);

CREATE TABLE conv_messages (
    id bigserial,
    chat_id bigint NOT NULL,
    draft_id bigint NOT NULL,
    report_id bigint,
    message_id bigint,
    outbox_id bigint,
    at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT conv_messages_check CHECK (((message_id IS NOT NULL) OR (outbox_id IS NOT NULL))),
    CONSTRAINT conv_messages_pkey PRIMARY KEY (id),
    CONSTRAINT conv_messages_report_id_fkey FOREIGN KEY (report_id) REFERENCES reports(id) ON DELETE CASCADE
);

CREATE INDEX conv_messages_at ON conv_messages USING btree (at);
CREATE INDEX conv_messages_draft ON conv_messages USING btree (chat_id, draft_id);
CREATE INDEX conv_messages_msg ON conv_messages USING btree (chat_id, message_id) WHERE (message_id IS NOT NULL);
CREATE INDEX conv_messages_report ON conv_messages USING btree (report_id) WHERE (report_id IS NOT NULL);

CREATE TABLE conv_notices (
    chat_id bigint NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT conv_notices_pkey PRIMARY KEY (chat_id)
);


-- ---- The sender's queue (transactional outbox)

CREATE TABLE outbox (
    id bigserial,
    chat_id bigint NOT NULL,
    method text NOT NULL,
    params jsonb NOT NULL,
    not_before timestamp with time zone DEFAULT now() NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    state text DEFAULT 'pending'::text NOT NULL,
    claimed_until timestamp with time zone,
    last_error text,
    tg_message_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    followup_id bigint,
    CONSTRAINT outbox_state_check CHECK ((state = ANY (ARRAY['pending'::text, 'sending'::text, 'sent'::text, 'failed'::text]))),
    CONSTRAINT outbox_pkey PRIMARY KEY (id)
);

CREATE INDEX outbox_chat_active ON outbox USING btree (chat_id, id) WHERE (state = ANY (ARRAY['pending'::text, 'sending'::text]));
CREATE INDEX outbox_done ON outbox USING btree (created_at) WHERE (state = ANY (ARRAY['sent'::text, 'failed'::text]));
CREATE INDEX outbox_due ON outbox USING btree (not_before) WHERE (state = ANY (ARRAY['pending'::text, 'sending'::text]));
CREATE INDEX outbox_followup ON outbox USING btree (followup_id) WHERE (followup_id IS NOT NULL);
CREATE INDEX outbox_followup_reply ON outbox USING btree (chat_id, tg_message_id) WHERE (followup_id IS NOT NULL);


-- ---- Analysts: accounts, tokens, sessions, queues, follow-ups, the append-only audit log

CREATE TABLE accounts (
    name text NOT NULL,
    role text NOT NULL,
    disabled boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT accounts_role_check CHECK ((role = ANY (ARRAY['analyst'::text, 'moderator'::text, 'exporter'::text, 'admin'::text]))),
    CONSTRAINT accounts_pkey PRIMARY KEY (name)
);

CREATE TABLE api_tokens (
    id bigserial,
    account text NOT NULL,
    token_sha256 text NOT NULL,
    label text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone,
    expires_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT api_tokens_token_sha256_check CHECK ((token_sha256 ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT api_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT api_tokens_token_sha256_key UNIQUE (token_sha256),
    CONSTRAINT api_tokens_account_fkey FOREIGN KEY (account) REFERENCES accounts(name) ON DELETE CASCADE
);

CREATE INDEX api_tokens_account ON api_tokens USING btree (account);

CREATE TABLE web_sessions (
    sid_sha256 text NOT NULL,
    account text NOT NULL,
    csrf text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT web_sessions_sid_sha256_check CHECK ((sid_sha256 ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT web_sessions_pkey PRIMARY KEY (sid_sha256),
    CONSTRAINT web_sessions_account_fkey FOREIGN KEY (account) REFERENCES accounts(name) ON DELETE CASCADE
);

CREATE INDEX web_sessions_last_seen ON web_sessions USING btree (last_seen);

CREATE TABLE queues (
    name text NOT NULL,
    restricted boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT queues_name_check CHECK ((name ~ '^[a-z0-9_-]{1,32}$'::text)),
    CONSTRAINT queues_pkey PRIMARY KEY (name)
);

CREATE TABLE queue_members (
    queue text NOT NULL,
    account text NOT NULL,
    CONSTRAINT queue_members_pkey PRIMARY KEY (queue, account),
    CONSTRAINT queue_members_account_fkey FOREIGN KEY (account) REFERENCES accounts(name) ON DELETE CASCADE,
    CONSTRAINT queue_members_queue_fkey FOREIGN KEY (queue) REFERENCES queues(name) ON DELETE CASCADE
);

CREATE TABLE category_queue (
    category text NOT NULL,
    queue text NOT NULL,
    moving boolean DEFAULT false NOT NULL,
    CONSTRAINT category_queue_pkey PRIMARY KEY (category),
    CONSTRAINT category_queue_queue_fkey FOREIGN KEY (queue) REFERENCES queues(name)
);

CREATE TABLE followups (
    id bigserial,
    report_id bigint NOT NULL,
    asked_by text NOT NULL,
    question text NOT NULL,
    asked_at timestamp with time zone DEFAULT now() NOT NULL,
    relayed_at timestamp with time zone,
    relay_error text,
    answer text,
    answered_at timestamp with time zone,
    CONSTRAINT followups_question_check CHECK (((length(question) >= 1) AND (length(question) <= 2000))),
    CONSTRAINT followups_pkey PRIMARY KEY (id),
    CONSTRAINT followups_report_id_fkey FOREIGN KEY (report_id) REFERENCES reports(id) ON DELETE CASCADE
);

CREATE INDEX followups_report ON followups USING btree (report_id, asked_at);
CREATE INDEX followups_unrelayed ON followups USING btree (asked_at) WHERE ((relayed_at IS NULL) AND (relay_error IS NULL));

CREATE TABLE audit_log (
    id bigserial,
    at timestamp with time zone DEFAULT now() NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    object text NOT NULL,
    before jsonb,
    after jsonb,
    CONSTRAINT audit_log_pkey PRIMARY KEY (id)
);

CREATE INDEX audit_log_object ON audit_log USING btree (object, at);


-- ---- Live events read by every web server

CREATE UNLOGGED TABLE web_events (
    id bigserial,
    xid xid8 DEFAULT pg_current_xact_id() NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    body text NOT NULL,
    CONSTRAINT web_events_pkey PRIMARY KEY (id)
);

CREATE INDEX web_events_xid ON web_events USING btree (xid);

CREATE UNLOGGED TABLE web_listeners (
    pid integer NOT NULL,
    since timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT web_listeners_pkey PRIMARY KEY (pid)
);


-- ---- The priority score: weights and the state of its incremental refresh

CREATE TABLE priority_weights (
    key text NOT NULL,
    value double precision NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT priority_weights_check CHECK (
CASE key
    WHEN 'corroboration.max_reporters'::text THEN ((value >= (0)::double precision) AND (value <= (100)::double precision))
    WHEN 'corroboration.radius_m'::text THEN ((value > (0)::double precision) AND (value <= (50000)::double precision))
    WHEN 'corroboration.window_s'::text THEN ((value >= (0)::double precision) AND (value <= (604800)::double precision))
    WHEN 'corroboration.same_category'::text THEN (value = ANY (ARRAY[(0)::double precision, (1)::double precision]))
    WHEN 'corroboration.propagate_max'::text THEN ((value >= (1)::double precision) AND (value <= (10000)::double precision))
    WHEN 'recency.horizon_s'::text THEN ((value >= (60)::double precision) AND (value <= (2592000)::double precision))
    WHEN 'recency.penalty'::text THEN (value >= (0)::double precision)
    WHEN 'reputation.max'::text THEN (value >= (0)::double precision)
    ELSE true
END),
    CONSTRAINT priority_weights_key_check CHECK (((key = ANY (ARRAY['corroboration.per_reporter'::text, 'corroboration.max_reporters'::text, 'corroboration.radius_m'::text, 'corroboration.window_s'::text, 'corroboration.same_category'::text, 'corroboration.propagate_max'::text, 'recency.penalty'::text, 'recency.horizon_s'::text, 'reputation.per_point'::text, 'reputation.per_confirmed'::text, 'reputation.per_rejected'::text, 'reputation.max'::text, 'banned'::text])) OR (key ~ '^(category|flag)\.[a-z0-9_]{1,40}$'::text))),
    CONSTRAINT priority_weights_value_check CHECK (((value >= ('-100000'::integer)::double precision) AND (value <= (1000000)::double precision))),
    CONSTRAINT priority_weights_pkey PRIMARY KEY (key)
);

CREATE TABLE priority_params_doc (
    id boolean DEFAULT true NOT NULL,
    w jsonb NOT NULL,
    CONSTRAINT priority_params_doc_id_check CHECK (id),
    CONSTRAINT priority_params_doc_pkey PRIMARY KEY (id)
);

CREATE TABLE priority_refresh_state (
    id boolean DEFAULT true NOT NULL,
    last_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT priority_refresh_state_id_check CHECK (id),
    CONSTRAINT priority_refresh_state_pkey PRIMARY KEY (id)
);

CREATE TABLE priority_pending (
    report_id bigint NOT NULL,
    delta integer NOT NULL,
    CONSTRAINT priority_pending_pkey PRIMARY KEY (report_id)
);

CREATE TABLE priority_dirty_reporters (
    pseudonym text NOT NULL,
    marked_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT priority_dirty_reporters_pkey PRIMARY KEY (pseudonym)
);


-- Foreign keys that point forward
ALTER TABLE conv_messages ADD CONSTRAINT conv_messages_outbox_id_fkey FOREIGN KEY (outbox_id) REFERENCES outbox(id) ON DELETE SET NULL;
ALTER TABLE outbox ADD CONSTRAINT outbox_followup_id_fkey FOREIGN KEY (followup_id) REFERENCES followups(id) ON DELETE SET NULL;
-- ---- Seed data

INSERT INTO bot_state (id) VALUES (true);
INSERT INTO queues (name, restricted) VALUES ('general', false), ('restricted', true);
INSERT INTO category_queue (category, queue, moving) VALUES
    -- the bot's default categories (cfg key categories); the moving ones ask for a direction
    ('equipment', 'general', false), ('troops', 'general', true), ('aircraft', 'general', true),
    ('drones', 'general', true), ('shelling', 'general', false), ('suspicious', 'general', false),
    ('damage', 'general', false), ('other', 'general', false),
    ('collaborators', 'restricted', false);
INSERT INTO priority_weights (key, value, description) VALUES
    ('category.aircraft', 40, 'aircraft, missiles: minutes count'),
    ('category.drones', 40, 'drones: minutes count'),
    ('category.shelling', 40, 'shelling under way'),
    ('category.troops', 30, 'troop movements'),
    ('category.equipment', 25, 'equipment seen'),
    ('category.collaborators', 20, 'collaborators (restricted queue)'),
    ('category.damage', 15, 'damage after the fact'),
    ('category.suspicious', 10, 'suspicious people or activity'),
    ('category.other', 0, 'other, no category, and any category without its own weight'),
    ('corroboration.per_reporter', 15, 'points per distinct other reporter nearby'),
    ('corroboration.max_reporters', 4, 'corroborating reporters counted in the score'),
    ('corroboration.radius_m', 1000, 'nearby: within this many metres'),
    ('corroboration.window_s', 3600, 'nearby: received within this many seconds'),
    ('corroboration.same_category', 1, '1: only reports of the same category; 0: any'),
    ('corroboration.propagate_max', 20, 'a new report raises neighbours counting fewer than this'),
    ('recency.penalty', 30, 'points lost at the horizon, linearly with age'),
    ('recency.horizon_s', 21600, 'age at which the whole penalty applies'),
    ('reputation.per_point', 2, 'points per point of reporters.reputation'),
    ('reputation.per_confirmed', 4, 'points per confirmed report of the reporter'),
    ('reputation.per_rejected', -8, 'points per rejected report of the reporter'),
    ('reputation.max', 30, 'the track record counts at most this much either way'),
    ('flag.outside_area', -40, 'the point lies outside the served area'),
    ('flag.point_invalid', -20, 'a location was sent but is impossible'),
    ('flag.location_disagrees', -15, 'the photo''s position is far from the shared one'),
    ('flag.place_ambiguous', -5, 'the place name matched several places'),
    ('flag.photo_missing', -5, 'a photo was sent but could not be kept'),
    ('banned', -1000, 'the reporter is banned: below everything else');
-- The weights as one jsonb object, as the statement trigger priority_weights_doc
-- (storage/schema/) keeps it; written here because the trigger does not exist yet.
INSERT INTO priority_params_doc (w) SELECT jsonb_object_agg(key, value) FROM priority_weights;
INSERT INTO priority_refresh_state (id) VALUES (true);
