-- 0018: the sender's pause between two messages to one chat is read from the outbox.
--
-- The sender keeps several Bot API calls in flight and records their deliveries
-- together. Each delivery also set chats.last_sent_at, a row the intake workers lock
-- while they write that chat's batch, so recording a burst's deliveries queued behind
-- intake (11.9 ms a statement for ~29 deliveries during the 20,000-update bench) and
-- intake behind it. The claim now asks the outbox for the chat's latest delivery
-- through outbox_chat_sent (one index probe per head of line), a delivery writes the
-- outbox row alone, and chats.last_sent_at, which nothing writes any more, goes.
CREATE INDEX outbox_chat_sent ON outbox (chat_id, sent_at) WHERE state = 'sent';
ALTER TABLE chats DROP COLUMN last_sent_at;
