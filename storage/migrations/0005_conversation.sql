-- 0005: the citizen conversation (handlers/conv.c). A report is built in a draft
-- (drafts, 0001) over several messages and sent by the citizen; these tables keep what
-- the draft gathers and what the chat needs after sending.

-- Photos of an unsent draft: only the sanitized bytes and the facts media/ read, as in
-- media (contract 4). On "Send" they move onto the report in the same transaction;
-- a cancelled or expired draft takes them with it.
CREATE TABLE draft_media (
    id                bigserial PRIMARY KEY,
    chat_id           bigint NOT NULL,
    draft_id          bigint NOT NULL,
    kind              text NOT NULL,
    tg_file_id        text,
    tg_file_unique_id text,
    mime              text,
    bytes             bytea,
    size              bigint NOT NULL CHECK (size >= 0),
    width             integer,
    height            integer,
    phash             bigint,
    gps               geography(Point, 4326),
    gps_accuracy_m    double precision,
    taken_local       timestamp without time zone,
    taken_offset_min  integer,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX draft_media_chat ON draft_media (chat_id, draft_id);

-- The messages of a draft and, once sent, of its report, in one private chat: the
-- citizen's (message_id) and the bot's (outbox_id; Telegram's id arrives in
-- outbox.tg_message_id once sent). "Clear this chat" deletes them; an edit of a
-- citizen's message after sending becomes an addendum of report_id. The chat id is
-- already tied to the reporter's pseudonym in chats; this adds no identity. Purged
-- after two days (Telegram lets a bot delete messages for 48 hours).
CREATE TABLE conv_messages (
    id         bigserial PRIMARY KEY,
    chat_id    bigint NOT NULL,
    draft_id   bigint NOT NULL,
    report_id  bigint REFERENCES reports (id) ON DELETE CASCADE,
    message_id bigint,
    outbox_id  bigint REFERENCES outbox (id) ON DELETE SET NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    CHECK (message_id IS NOT NULL OR outbox_id IS NOT NULL)
);
CREATE INDEX conv_messages_draft ON conv_messages (chat_id, draft_id);
CREATE INDEX conv_messages_msg ON conv_messages (chat_id, message_id) WHERE message_id IS NOT NULL;
CREATE INDEX conv_messages_report ON conv_messages (report_id) WHERE report_id IS NOT NULL;
CREATE INDEX conv_messages_at ON conv_messages (at);

-- What a citizen added to a report after sending it (an edited message).
CREATE TABLE report_addenda (
    id        bigserial PRIMARY KEY,
    report_id bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    kind      text NOT NULL DEFAULT 'edit' CHECK (kind IN ('edit')),
    text      text NOT NULL,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_addenda_report ON report_addenda (report_id, at);

-- Group chats, channels: the bot says once that it works only in private chats.
CREATE TABLE conv_notices (
    chat_id bigint PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now()
);

-- A draft's reminder before it expires is sent once.
ALTER TABLE drafts ADD COLUMN reminded_at timestamptz;
