-- 0008: the bot's relay of analysts' follow-up questions (storage/store_relay.c).
--
-- The outbox row that carries a follow-up question remembers it, so that the
-- citizen's reply (Telegram's reply_to_message = the message id the sender stored in
-- tg_message_id) finds its question, and a question Telegram refused for good is told
-- back to the analyst. A report deleted with its follow-ups leaves the sent message
-- unlinked.
ALTER TABLE outbox ADD COLUMN followup_id bigint REFERENCES followups (id) ON DELETE SET NULL;

-- The reply lookup: a message id is unique within one chat.
CREATE INDEX outbox_followup_reply ON outbox (chat_id, tg_message_id)
    WHERE followup_id IS NOT NULL;
-- The foreign key's own lookups when a report (and its follow-ups) is deleted.
CREATE INDEX outbox_followup ON outbox (followup_id) WHERE followup_id IS NOT NULL;

-- A question whose message failed for good (the chat blocked the bot after it was
-- queued, or Telegram refused it) gets relay_error in the same transaction as the
-- failure, whichever statement fails it (the sender's, or the cascade over a blocked
-- chat's pending messages). A trigger rather than a poll: the relay would otherwise
-- scan every delivered question each round.
CREATE FUNCTION followup_undelivered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE followups SET relay_error = 'not delivered: ' || COALESCE(NEW.last_error, 'unknown')
     WHERE id = NEW.followup_id AND relay_error IS NULL AND answer IS NULL;
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_followup_failed AFTER UPDATE OF state ON outbox FOR EACH ROW
    WHEN (NEW.state = 'failed' AND OLD.state <> 'failed' AND NEW.followup_id IS NOT NULL)
    EXECUTE FUNCTION followup_undelivered();

-- The reviewed notices still due. 0004's reports_review_unnotified also holds the
-- reports waiting in needs_info or escalated, which the relay passes over every round;
-- this one holds only the final decisions not yet told.
CREATE INDEX reports_review_due ON reports (decided_at, id)
    WHERE decided_at IS NOT NULL AND reviewed_notified_at IS NULL
      AND status IN ('confirmed', 'rejected', 'duplicate');
