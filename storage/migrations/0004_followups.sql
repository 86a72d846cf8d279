-- 0004: the contract between the analysts' side (web/) and the citizen's side (the
-- bot runtime in handlers/), so that neither calls the other: they meet in tables.
--
-- followups: an analyst's question about a report. web/ inserts the row; the bot's
-- relay finds rows with relayed_at IS NULL, sends the question to the reporter's chat
-- in the reporter's language (the analyst never learns the chat), and attaches the
-- citizen's answer here. relay_error says why a question could not be relayed
-- (chat blocked, retention purged the chat).
CREATE TABLE followups (
    id          bigserial PRIMARY KEY,
    report_id   bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    asked_by    text NOT NULL,
    question    text NOT NULL CHECK (length(question) BETWEEN 1 AND 2000),
    asked_at    timestamptz NOT NULL DEFAULT now(),
    relayed_at  timestamptz,
    relay_error text,
    answer      text,
    answered_at timestamptz
);
CREATE INDEX followups_report ON followups (report_id, asked_at);
CREATE INDEX followups_unrelayed ON followups (asked_at) WHERE relayed_at IS NULL
                                                         AND relay_error IS NULL;

-- A decided report whose citizen has not yet been told (neutrally) that it was
-- reviewed, when the deployment enables that: the bot's relay sets this.
ALTER TABLE reports ADD COLUMN reviewed_notified_at timestamptz;
CREATE INDEX reports_review_unnotified ON reports (decided_at)
    WHERE decided_at IS NOT NULL AND reviewed_notified_at IS NULL;

-- Distinct other reporters who saw the same thing nearby (maintained by storage's
-- priority/corroboration code); the queue filters and the priority score read it.
ALTER TABLE reports ADD COLUMN corroborations integer NOT NULL DEFAULT 0
    CHECK (corroborations >= 0);
