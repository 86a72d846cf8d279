-- 0025_identity_sealing.sql - Telegram identities sealed before they reach the disk.
--
-- Why: a dump, a backup, the WAL or a replica of this database must name no one. From
-- here on every chat_id column (chats, drafts, draft_media, conv_messages, conv_notices,
-- outbox) and inbox.chat_key holds a keyed 63-bit hash of the Telegram chat id (the
-- lookup key is derived from the pseudonym key, which never enters the database), so
-- rows are still found by chat through the same indexes. The clear chat id, needed
-- only to send, is kept once, in chats.chat_sealed: AES-256-GCM under a data key of
-- identity_key_file (its first bytes name the key version, for rotation). A raw update
-- is written to inbox.sealed, sealed as a whole by the process that received it;
-- payload (clear jsonb) is no longer written, and once the update is handled its
-- sealed copy is dropped (the inbox_redact trigger), keeping update_id, times, kind
-- and chat key. An update the database refused ("refused") keeps its sealed copy
-- until inbox_retention_days, for an operator with the key.
--
-- A message whose text the bot masked (a phone number, the sender's own username) keeps
-- its full text for the record in sealed_texts, sealed under the same keys, found by the
-- chat's hash and the message id, and gone with the chat's row (retention).
--
-- identity_keys holds each key's check value (an HMAC of a label, never the key), so
-- a process started with the wrong key file refuses to start instead of writing hashes
-- no one can join or values no one can open. Key 0 is the lookup key.
--
-- A database written before this holds clear ids; SQL cannot encrypt (the keys never
-- reach PostgreSQL), so identity_upgrade.pending says that `tipline keys seal-existing`
-- (run by `tipline migrate` when the keys are readable) must still rewrite them; the
-- bot refuses to start until it did. A new, empty database has nothing to seal.

ALTER TABLE chats ADD COLUMN chat_sealed bytea;

ALTER TABLE inbox ADD COLUMN kind text;
ALTER TABLE inbox ADD COLUMN sealed bytea;
ALTER TABLE inbox ADD COLUMN refused boolean DEFAULT false NOT NULL;
ALTER TABLE inbox ALTER COLUMN payload DROP NOT NULL;

CREATE TABLE sealed_texts (
    id bigserial,
    chat_id bigint NOT NULL,
    message_id bigint NOT NULL,
    sealed bytea NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT sealed_texts_pkey PRIMARY KEY (id),
    CONSTRAINT sealed_texts_chat_fkey FOREIGN KEY (chat_id) REFERENCES chats(chat_id)
        ON UPDATE CASCADE ON DELETE CASCADE
);

CREATE INDEX sealed_texts_msg ON sealed_texts USING btree (chat_id, message_id);

CREATE TABLE identity_keys (
    key_id smallint NOT NULL,
    kcv bytea NOT NULL,
    added_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT identity_keys_id_check CHECK (key_id BETWEEN 0 AND 255),
    CONSTRAINT identity_keys_pkey PRIMARY KEY (key_id)
);

CREATE TABLE identity_upgrade (
    id boolean DEFAULT true NOT NULL,
    pending boolean NOT NULL,
    done_at timestamp with time zone,
    CONSTRAINT identity_upgrade_id_check CHECK (id),
    CONSTRAINT identity_upgrade_pkey PRIMARY KEY (id)
);

INSERT INTO identity_upgrade (pending)
SELECT EXISTS (SELECT 1 FROM inbox) OR EXISTS (SELECT 1 FROM chats)
    OR EXISTS (SELECT 1 FROM drafts) OR EXISTS (SELECT 1 FROM draft_media)
    OR EXISTS (SELECT 1 FROM conv_messages) OR EXISTS (SELECT 1 FROM conv_notices)
    OR EXISTS (SELECT 1 FROM outbox);
