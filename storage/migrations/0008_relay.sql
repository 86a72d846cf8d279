-- 0008: the bot's relay of analysts' follow-up questions (storage/store_relay.c).
--
-- The outbox row that carries a follow-up question remembers it, so that the
-- citizen's reply (Telegram's reply_to_message = the message id the sender stored in
-- tg_message_id) finds its question, and a question that could not be delivered
-- (the chat blocked the bot meanwhile) is told back to the analyst. A report deleted
-- with its follow-ups leaves the sent message unlinked.
ALTER TABLE outbox ADD COLUMN followup_id bigint REFERENCES followups (id) ON DELETE SET NULL;

-- The reply lookup: a message id is unique within one chat.
CREATE INDEX outbox_followup_reply ON outbox (chat_id, tg_message_id)
    WHERE followup_id IS NOT NULL;
-- The foreign key's own lookups when a report (and its follow-ups) is deleted.
CREATE INDEX outbox_followup ON outbox (followup_id) WHERE followup_id IS NOT NULL;
-- Questions Telegram refused for good, which the relay looks for every round: few rows.
CREATE INDEX outbox_followup_failed ON outbox (followup_id)
    WHERE followup_id IS NOT NULL AND state = 'failed';
